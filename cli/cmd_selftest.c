/*
 * coffer selftest DIR: seal every chunk of every regular file under DIR
 * with fresh keys, open each one back, and check it is byte for byte what
 * went in (coffer_selftest; no server).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coffer/coffer.h"
#include "cli.h"

int
cmd_selftest(struct cli *cli, int argc, char **argv)
{
	struct coffer_selftest_result res;
	int dfd, r;

	if (argc != 1) {
		cli_usage(cli, "selftest");
		return 2;
	}
	if ((dfd = open(argv[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		cli_error(cli, COFFER_EIO, "cannot open folder %s: %s", argv[0],
		    strerror(errno));
		return cli_exit_status(COFFER_EIO);
	}
	r = coffer_selftest(dfd, &res);
	close(dfd);
	if (r != 0) {
		cli_error(cli, r, "selftest failed: %s", coffer_strerror(r));
		return cli_exit_status(r);
	}
	if (cli->json)
		printf("{\"files\": %llu, \"chunks\": %llu, \"bytes\": %llu, "
		    "\"sealed_bytes\": %llu, \"skipped\": %llu, \"verified\": true}\n",
		    (unsigned long long)res.files,
		    (unsigned long long)res.chunks,
		    (unsigned long long)res.bytes,
		    (unsigned long long)res.sealed_bytes,
		    (unsigned long long)res.skipped);
	else
		printf("selftest: %llu files, %llu chunks, %llu bytes sealed into "
		    "%llu bytes and opened back identical (%llu entries skipped: "
		    "symlinks and special files)\n",
		    (unsigned long long)res.files,
		    (unsigned long long)res.chunks,
		    (unsigned long long)res.bytes,
		    (unsigned long long)res.sealed_bytes,
		    (unsigned long long)res.skipped);
	return 0;
}
