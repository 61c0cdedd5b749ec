/*
 * coffer push DRIVE DIR [--allow-shrink]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "coffer/coffer.h"
#include "cli.h"

/* The folder ${dir} exists and is a folder; else say what is wrong. */
static int
check_folder(struct cli *cli, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return 0;
		cli_error(cli, COFFER_ENOENT, "no such folder '%s'", dir);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_error(cli, COFFER_EINVAL, "'%s' is not a folder: push takes "
		    "a folder (DIR), not a file", dir);
		return 1;
	}
	/* Anything else (no permission): the push says it as it opens it. */
	return 0;
}

/* Another device's version that this push replaced as the head. */
static void
say_replaced(struct cli *cli, const char *drive,
    const struct coffer_push_result *res)
{
	char hex[2 * COFFER_ID_BYTES + 1];

	cli_hex(hex, res->replaced_author, COFFER_ID_BYTES);
	fprintf(stderr, "%s: version %llu of '%s', written by another device "
	    "(%.16s) since this device last looked, was the head; this push "
	    "replaced it as the newest version.  It stays in the history: "
	    "'coffer pull %s DIR --version %llu' brings it back ('coffer sync' "
	    "merges both ways)\n", cli->prog,
	    (unsigned long long)res->replaced_version, drive, hex, drive,
	    (unsigned long long)res->replaced_version);
}

int
cmd_push(struct cli *cli, int argc, char **argv)
{
	struct coffer_session *s = NULL;
	struct coffer_push_result res;
	char hex[2 * COFFER_ID_BYTES + 1], ahex[2 * COFFER_ID_BYTES + 1];
	char up[128];
	const char *drive = NULL, *dir = NULL;
	json_t *o;
	int flags = 0, incomplete, i, r;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--allow-shrink")) {
			flags |= COFFER_PUSH_ALLOW_SHRINK;
		} else if ((r = cli_drive_dir_arg(cli, "push", argv[i], &drive,
		    &dir)) != 0) {
			return r;
		}
	}
	if ((r = cli_drive_dir_given(cli, "push", drive, dir)) != 0)
		return r;
	if (check_folder(cli, dir) != 0)
		return 1;
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	r = coffer_push(s, drive, dir, flags, &res);
	cli_progress_end(cli);
	if (r == COFFER_ENOENT && res.no_folder != 0) {
		cli_error(cli, r, res.no_folder == 1 ? "no such folder '%s'" :
		    "'%s' is not a folder", dir);
		r = 1;
		goto out;
	}
	if (r == COFFER_ENOENT && cli_no_drive(cli, s, drive) != 0) {
		r = 1;
		goto out;
	}
	if (r == COFFER_EEXIST && res.shrink_refused) {
		/* Batches sent before the check stay on the server, unused. */
		up[0] = '\0';
		if (res.bytes_uploaded > 0)
			snprintf(up, sizeof(up), " (%llu bytes were uploaded; "
			    "unused, they are freed by a later prune)",
			    (unsigned long long)res.bytes_uploaded);
		cli_error(cli, r, "refused: '%s' %s, where the newest version of "
		    "'%s' has %llu files: pushing it would drop %llu of them.  "
		    "Is a disk unmounted, or is this the wrong folder?  No "
		    "version was made%s; if this is meant, push again with "
		    "--allow-shrink", dir, res.files == 0 && res.kept == 0 ?
		    "is empty" : "lacks most of its files",
		    drive, (unsigned long long)res.head_files,
		    (unsigned long long)res.dropped_files, up);
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
		    "versions, one file cannot be)", COFFER_PUSH_DELTA_IDS_MAX);
		r = 1;
		goto out;
	}
	if (r == COFFER_ETOOBIG) {
		cli_error(cli, r, "a limit was passed: folders more than %d "
		    "deep, a path longer than %d bytes, or a file too large",
		    COFFER_WALK_DEPTH_MAX, COFFER_PUSH_PATH_MAX);
		r = 1;
		goto out;
	}
	if (r != 0) {
		r = cli_fail(cli, s, r, "push failed");
		goto out;
	}
	incomplete = res.skipped + res.changed > 0;
	cli_hex(hex, res.commit_id, COFFER_ID_BYTES);
	if (res.unchanged && !incomplete)
		fprintf(stderr, "%s: nothing changed since version %llu: no new "
		    "version made\n", cli->prog, (unsigned long long)res.version);
	if (res.replaced_other)
		say_replaced(cli, drive, &res);
	if (incomplete && res.unchanged)
		/* No version made: what was left out stays as the head has it. */
		fprintf(stderr, "%s: no new version; %llu files that changed "
		    "while read and %llu entries skipped were left as in "
		    "version %llu; see the warnings above\n", cli->prog,
		    (unsigned long long)res.changed,
		    (unsigned long long)res.skipped,
		    (unsigned long long)res.version);
	else if (incomplete)
		fprintf(stderr, "%s: version %llu is incomplete: %llu entries "
		    "skipped, %llu files changed while read (%llu of them kept "
		    "as in the version before); see the warnings above\n",
		    cli->prog, (unsigned long long)res.version,
		    (unsigned long long)res.skipped,
		    (unsigned long long)res.changed,
		    (unsigned long long)res.kept);
	if (cli->json) {
		o = json_pack("{s:I, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
		    "s:I}",
		    "version", (json_int_t)res.version,
		    "unchanged", res.unchanged, "commit", hex,
		    "files", (json_int_t)res.files,
		    "files_read", (json_int_t)res.files_read,
		    "bytes_read", (json_int_t)res.bytes_read,
		    "chunks_uploaded", (json_int_t)res.chunks_uploaded,
		    "bytes_uploaded", (json_int_t)res.bytes_uploaded,
		    "skipped", (json_int_t)res.skipped,
		    "changed", (json_int_t)res.changed);
		if (o != NULL && incomplete) {
			json_object_set_new(o, "incomplete", json_true());
			json_object_set_new(o, "kept", json_integer(
			    (json_int_t)res.kept));
		}
		if (o != NULL && res.replaced_other) {
			cli_hex(ahex, res.replaced_author, COFFER_ID_BYTES);
			json_object_set_new(o, "replaced_other", json_pack(
			    "{s:I, s:s}", "version",
			    (json_int_t)res.replaced_version, "device", ahex));
		}
		cli_json(o);
	} else if (!res.unchanged) {
		printf("%s version %llu: %llu files (%llu read, %llu bytes), "
		    "%llu chunks uploaded (%llu bytes)%s\n", drive,
		    (unsigned long long)res.version,
		    (unsigned long long)res.files,
		    (unsigned long long)res.files_read,
		    (unsigned long long)res.bytes_read,
		    (unsigned long long)res.chunks_uploaded,
		    (unsigned long long)res.bytes_uploaded,
		    incomplete ? ", incomplete" : "");
	}
	r = incomplete ? CLI_EXIT_INCOMPLETE : 0;
out:
	coffer_session_close(s);
	return r;
}
