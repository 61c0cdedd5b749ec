/*
 * coffer log DRIVE | ls DRIVE[@N] [PATH] | status | check [--read-data]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coffer/coffer.h"
#include "cli.h"

#define DRIVE_ARG_MAX	(COFFER_DRIVE_NAME_MAX + 32)

static int
drive_error(struct cli *cli, struct coffer_session *s, int r, const char *drive,
    const char *what)
{
	if (r == COFFER_ENOENT) {
		if (cli_no_drive(cli, s, drive) != 0)
			return 1;
		cli_error(cli, r, "%s: drive '%s' has no such version or path "
		    "('coffer log %s' lists its versions)", what, drive, drive);
		return 1;
	}
	return cli_fail(cli, s, r, what);
}

static int
log_cb(void *ctx, const struct coffer_log_item *it)
{
	struct cli *cli = ctx;
	char c[2 * COFFER_ID_BYTES + 1], d[2 * COFFER_ID_BYTES + 1];

	cli_hex(c, it->commit_id, COFFER_ID_BYTES);
	cli_hex(d, it->author_id, COFFER_ID_BYTES);
	if (cli->json)
		cli_json(json_pack("{s:I, s:s, s:I, s:s}", "version",
		    (json_int_t)it->version, "commit", c, "time",
		    (json_int_t)it->time, "device", d));
	else
		printf("%llu\t%s\t%llu\t%.16s\n", (unsigned long long)it->version,
		    c, (unsigned long long)it->time, d);
	return 0;
}

int
cmd_log(struct cli *cli, int argc, char **argv)
{
	struct coffer_session *s = NULL;
	int r;

	if (argc >= 1 && argv[argc - 1][0] == '-' && argv[argc - 1][1] != '\0')
		return cli_usage_error(cli, "log", "unknown option '%s'",
		    argv[argc - 1]);
	if (argc != 1 || argv[0][0] == '-')
		return cli_usage_error(cli, "log", "log needs DRIVE");
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	if ((r = coffer_log(s, argv[0], log_cb, cli)) != 0)
		r = drive_error(cli, s, r, argv[0], "log failed");
	coffer_session_close(s);
	return r;
}

static const char *
type_name(int t)
{
	return t == COFFER_TYPE_FILE ? "file" :
	    t == COFFER_TYPE_DIR ? "dir" : "symlink";
}

static int
ls_cb(void *ctx, const struct coffer_entry *e)
{
	struct cli *cli = ctx;
	json_t *o;

	if (cli->json) {
		o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "type",
		    type_name(e->type), "mode", (json_int_t)e->mode, "size",
		    (json_int_t)e->size, "mtime", (json_int_t)e->mtime_sec,
		    "mtime_nsec", (json_int_t)e->mtime_nsec);
		cli_json_name(o, "name", e->name, e->namelen);
		if (e->type == COFFER_TYPE_SYMLINK)
			cli_json_name(o, "target", e->target, e->targetlen);
		cli_json(o);
		return 0;
	}
	printf("%-7s %04o %12llu %lld.%09u ", type_name(e->type),
	    (unsigned)e->mode, (unsigned long long)e->size,
	    (long long)e->mtime_sec, (unsigned)e->mtime_nsec);
	cli_safe_print(stdout, e->name, e->namelen);
	if (e->type == COFFER_TYPE_SYMLINK) {
		printf(" -> ");
		cli_safe_print(stdout, e->target, e->targetlen);
	}
	putchar('\n');
	return 0;
}

int
cmd_ls(struct cli *cli, int argc, char **argv)
{
	struct coffer_session *s = NULL;
	char drive[DRIVE_ARG_MAX];
	const char *at, *path = "";
	uint64_t version = 0, got = 0;
	size_t dl;
	int r;

	if (argc >= 1 && argv[0][0] == '-')
		return cli_usage_error(cli, "ls", "unknown option '%s'", argv[0]);
	if (argc == 2 && argv[1][0] == '-' && argv[1][1] == '-')
		return cli_usage_error(cli, "ls", "unknown option '%s' (a PATH "
		    "of the version never starts with '--')", argv[1]);
	if (argc < 1 || argc > 2)
		return cli_usage_error(cli, "ls", "ls needs DRIVE[@N] [PATH]");
	if (argc == 2)
		path = argv[1];
	dl = strlen(argv[0]);
	if ((at = strrchr(argv[0], '@')) != NULL &&
	    cli_parse_u64(at + 1, &version) == 0 && version > 0)
		dl = (size_t)(at - argv[0]);
	else
		version = 0;
	if (dl == 0 || dl >= sizeof(drive))
		return cli_usage_error(cli, "ls", "bad drive name");
	memcpy(drive, argv[0], dl);
	drive[dl] = '\0';
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	if ((r = coffer_ls(s, drive, version, (const uint8_t *)path,
	    strlen(path), ls_cb, cli, &got)) != 0)
		r = drive_error(cli, s, r, drive, "ls failed");
	coffer_session_close(s);
	return r;
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
	struct coffer_session *s = NULL;
	struct coffer_status_drive *d = NULL;
	struct coffer_account_info a;
	char code[COFFER_SAFETY_CODE_BYTES], acct[2 * COFFER_ID_BYTES + 1];
	char safe[4 * COFFER_DRIVE_NAME_MAX + 4];
	json_t *arr, *o;
	size_t n = 0, i;
	int r;

	if (argc != 0 && argv[0][0] == '-')
		return cli_usage_error(cli, "status", "unknown option '%s'",
		    argv[0]);
	if (argc != 0)
		return cli_usage_error(cli, "status", "status takes no arguments");
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	if ((r = coffer_status(s, &d, &n, code)) != 0) {
		r = cli_fail(cli, s, r, "status failed");
		goto out;
	}
	coffer_session_account(s, &a);
	cli_hex(acct, a.account_id, COFFER_ID_BYTES);
	if (cli->json) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			o = json_pack("{s:I, s:I}", "version",
			    (json_int_t)d[i].version, "verified_at",
			    (json_int_t)d[i].verified_at);
			cli_json_name(o, "name", (const uint8_t *)d[i].name,
			    strlen(d[i].name));
			json_array_append_new(arr, o);
		}
		cli_json(json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "safety_code",
		    code, "account", a.name, "account_id", acct, "server",
		    a.server, "chain_length", (json_int_t)a.chain_length,
		    "drives", arr));
	} else {
		printf("account %s (%s) on %s\nsafety code: %s  (compare it "
		    "with your other devices)\n", a.name, acct,
		    a.server, code);
		for (i = 0; i < n; i++) {
			cli_safe_text(safe, sizeof(safe),
			    (const uint8_t *)d[i].name, strlen(d[i].name));
			printf("  %-20s version %llu, verified at %llu\n",
			    safe, (unsigned long long)d[i].version,
			    (unsigned long long)d[i].verified_at);
		}
	}
out:
	coffer_free(d);
	coffer_session_close(s);
	return r;
}

int
cmd_check(struct cli *cli, int argc, char **argv)
{
	struct coffer_session *s = NULL;
	struct coffer_check_result res;
	int read_data = 0, r;

	if (argc == 1 && !strcmp(argv[0], "--read-data"))
		read_data = 1;
	else if (argc != 0 && argv[0][0] == '-')
		return cli_usage_error(cli, "check", "unknown option '%s'",
		    argv[0]);
	else if (argc != 0)
		return cli_usage_error(cli, "check", "check takes only --read-data");
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	if ((r = coffer_check(s, read_data, &res)) != 0) {
		r = cli_fail(cli, s, r, "check failed");
		goto out;
	}
	if (cli->json)
		cli_json(json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "ok", 1,
		    "drives", (json_int_t)res.drives,
		    "versions", (json_int_t)res.versions,
		    "trees", (json_int_t)res.trees, "lists", (json_int_t)res.lists,
		    "chunks", (json_int_t)res.chunks,
		    "chunk_bytes", (json_int_t)res.chunk_bytes));
	else
		printf("ok: %llu drives, %llu versions, %llu trees, %llu lists "
		    "verified%s\n", (unsigned long long)res.drives,
		    (unsigned long long)res.versions,
		    (unsigned long long)res.trees, (unsigned long long)res.lists,
		    read_data ? ", and every chunk" : "");
out:
	coffer_session_close(s);
	return r;
}
