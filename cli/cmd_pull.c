/*
 * coffer pull DRIVE DIR [--version N] [--overwrite] [--delete] [--keep-modes]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coffer/coffer.h"
#include "cli.h"

int
cmd_pull(struct cli *cli, int argc, char **argv)
{
	struct coffer_session *s = NULL;
	struct coffer_pull_result res;
	const char *drive = NULL, *dir = NULL;
	uint64_t version = 0;
	int flags = 0, i, r;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--version") && i + 1 < argc) {
			if (cli_parse_u64(argv[++i], &version) != 0 || version == 0)
				return cli_usage_error(cli, "pull",
				    "--version takes a version number from 1");
		} else if (!strcmp(argv[i], "--overwrite")) {
			flags |= COFFER_PULL_OVERWRITE;
		} else if (!strcmp(argv[i], "--delete")) {
			flags |= COFFER_PULL_DELETE;
		} else if (!strcmp(argv[i], "--keep-modes")) {
			flags |= COFFER_PULL_KEEP_MODES;
		} else if ((r = cli_drive_dir_arg(cli, "pull", argv[i], &drive,
		    &dir)) != 0) {
			return r;
		}
	}
	if ((r = cli_drive_dir_given(cli, "pull", drive, dir)) != 0)
		return r;
	if ((flags & COFFER_PULL_DELETE) && !(flags & COFFER_PULL_OVERWRITE))
		flags |= COFFER_PULL_OVERWRITE;
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	r = coffer_pull(s, drive, version, dir, flags, &res);
	cli_progress_end(cli);
	if (r == COFFER_EEXIST && res.conflicts > 0) {
		cli_error(cli, r, "%llu local %s of another kind than in version "
		    "%llu (listed above): nothing was written.  Move %s away, "
		    "or add --delete to replace %s",
		    (unsigned long long)res.conflicts,
		    res.conflicts == 1 ? "entry is" : "entries are",
		    (unsigned long long)res.version,
		    res.conflicts == 1 ? "it" : "them",
		    res.conflicts == 1 ? "it" : "them");
		r = 1;
		goto out;
	}
	if (r == COFFER_EEXIST) {
		cli_error(cli, r, "the folder '%s' is not empty: pull into an "
		    "empty folder, or add --overwrite (and --delete to remove "
		    "what the version lacks)", dir);
		r = 1;
		goto out;
	}
	if (r == COFFER_ECONFLICT && res.busy) {
		cli_error(cli, r, "another pull into %s is running: nothing "
		    "was written", dir);
		r = 1;
		goto out;
	}
	if (r == COFFER_ENOENT && cli_no_drive(cli, s, drive) != 0) {
		r = 1;
		goto out;
	}
	if (r == COFFER_ENOENT && version == 0) {
		cli_error(cli, r, "nothing was pushed to drive '%s' yet "
		    "('coffer push %s DIR')", drive, drive);
		r = 1;
		goto out;
	}
	if (r == COFFER_ENOENT) {
		cli_error(cli, r, "drive '%s' has no version %llu "
		    "('coffer log %s' lists them)", drive,
		    (unsigned long long)version, drive);
		r = 1;
		goto out;
	}
	if (r != 0) {
		r = cli_fail(cli, s, r, "pull failed");
		goto out;
	}
	if (res.tmp_removed > 0)
		fprintf(stderr, "%s: removed %llu temporary %s left by an "
		    "interrupted pull\n", cli->prog,
		    (unsigned long long)res.tmp_removed,
		    res.tmp_removed == 1 ? "file" : "files");
	if (cli->json)
		cli_json(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:I, "
		    "s:I}",
		    "version", (json_int_t)res.version,
		    "files", (json_int_t)res.files,
		    "dirs", (json_int_t)res.dirs,
		    "symlinks", (json_int_t)res.symlinks,
		    "bytes", (json_int_t)res.bytes,
		    "deleted", (json_int_t)res.deleted,
		    "incomplete", res.skipped > 0,
		    "skipped", (json_int_t)res.skipped,
		    "changed", (json_int_t)0));
	else
		printf("%s version %llu: %llu files, %llu folders, %llu "
		    "symlinks, %llu bytes written to %s%s\n", drive,
		    (unsigned long long)res.version,
		    (unsigned long long)res.files, (unsigned long long)res.dirs,
		    (unsigned long long)res.symlinks,
		    (unsigned long long)res.bytes, dir,
		    res.skipped > 0 ? " (incomplete)" : "");
	if (res.skipped > 0 && !cli->json)
		fprintf(stderr, "%s: %llu %s could not be written (listed "
		    "above); everything else was\n", cli->prog,
		    (unsigned long long)res.skipped,
		    res.skipped == 1 ? "path" : "paths");
	r = res.skipped > 0 ? CLI_EXIT_INCOMPLETE : 0;
out:
	coffer_session_close(s);
	return r;
}
