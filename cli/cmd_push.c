/*
 * coffer push DRIVE DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coffer/coffer.h"
#include "client/ops.h"
#include "client/statcache.h"
#include "cli.h"

/* Print a warning about ${path} on stderr, escaping control bytes. */
static void
warn_cb(void *ctx, const char *msg, const uint8_t *path, size_t len)
{
	struct cli *cli = ctx;
	size_t i;

	cli_progress_end(cli);
	fprintf(stderr, "%s: ", cli->prog);
	if (path != NULL) {
		for (i = 0; i < len; i++) {
			if (path[i] < 0x20 || path[i] == 0x7f || path[i] == '\\')
				fprintf(stderr, "\\x%02x", path[i]);
			else
				fputc(path[i], stderr);
		}
		fprintf(stderr, ": ");
	}
	fprintf(stderr, "%s\n", msg);
}

int
cmd_push(struct cli *cli, int argc, char **argv)
{
	struct cf_session *s = NULL;
	struct cf_push_result res;
	char hex[2 * CF_ID_BYTES + 1];
	int r;

	if (argc != 2 || argv[0][0] == '-' || argv[1][0] == '\0')
		return cli_usage_error(cli, "push", "push needs DRIVE and DIR");
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	r = cf_push(s, argv[0], argv[1], warn_cb, cli, &res);
	cli_progress_end(cli);
	if (r == COFFER_ENOENT && cli_no_drive(cli, s, argv[0]) != 0) {
		r = 1;
		goto out;
	}
	if (r == COFFER_ENOENT) {
		cli_error(cli, r, "no drive '%s' or no folder '%s' (create the "
		    "drive with 'coffer drive create %s')", argv[0], argv[1],
		    argv[0]);
		r = 1;
		goto out;
	}
	if (r == COFFER_ECONFLICT) {
		cli_error(cli, r, "the drive kept moving on the server; run "
		    "the push again");
		r = 1;
		goto out;
	}
	if (r == COFFER_ETOOBIG && res.delta_too_big) {
		cli_error(cli, r, "one file of this push changes more chunks "
		    "than one version may carry (a reference delta holds at "
		    "most %d ids; a bigger change is split into several "
		    "versions, one file cannot be)", CF_PUSH_DELTA_IDS_MAX);
		r = 1;
		goto out;
	}
	if (r == COFFER_ETOOBIG) {
		cli_error(cli, r, "a limit was passed: folders more than %d "
		    "deep, a path longer than %d bytes, or a file too large",
		    CF_WALK_DEPTH_MAX, CF_STATCACHE_PATH_MAX);
		r = 1;
		goto out;
	}
	if (r != 0) {
		r = cli_fail(cli, s, r, "push failed");
		goto out;
	}
	cli_hex(hex, res.commit_id, CF_ID_BYTES);
	if (res.unchanged)
		fprintf(stderr, "%s: nothing changed since version %llu: no new "
		    "version made\n", cli->prog, (unsigned long long)res.version);
	if (cli->json) {
		cli_json(json_pack("{s:I, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
		    "version", (json_int_t)res.version,
		    "unchanged", res.unchanged, "commit", hex,
		    "files", (json_int_t)res.files,
		    "files_read", (json_int_t)res.files_read,
		    "bytes_read", (json_int_t)res.bytes_read,
		    "chunks_uploaded", (json_int_t)res.chunks_uploaded,
		    "bytes_uploaded", (json_int_t)res.bytes_uploaded,
		    "skipped", (json_int_t)res.skipped));
	} else if (!res.unchanged) {
		printf("%s version %llu: %llu files (%llu read, %llu bytes), "
		    "%llu chunks uploaded (%llu bytes)\n", argv[0],
		    (unsigned long long)res.version,
		    (unsigned long long)res.files,
		    (unsigned long long)res.files_read,
		    (unsigned long long)res.bytes_read,
		    (unsigned long long)res.chunks_uploaded,
		    (unsigned long long)res.bytes_uploaded);
	}
	r = 0;
out:
	cf_session_free(s);
	return r;
}
