/*
 * coffer device join --server URL NAME [--name DEVICE] [--timeout S]
 * coffer device approve CODE | list | remove ID [--rekey]
 * coffer recover --server URL NAME [--name DEVICE] [--keep-devices]
 * coffer account recovery-key --rotate
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "coffer/coffer.h"
#include "cli.h"

#define HEX_ID_BYTES		(2 * COFFER_ID_BYTES + 1)
#define TIME_TEXT_BYTES		32
#define RECOVERY_INPUT_MAX	256	/* a typed recovery key, with spaces */
#define JOIN_TIMEOUT_MAX	86400

/* The epoch at the head of the session's verified chain. */
static uint64_t
cli_epoch(const struct coffer_session *s)
{
	struct coffer_account_info a;

	coffer_session_account(s, &a);
	return a.epoch;
}

static void
time_text(uint64_t t, char out[static TIME_TEXT_BYTES])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, TIME_TEXT_BYTES, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, TIME_TEXT_BYTES, "%llu", (unsigned long long)t);
}

static void
print_code(void *ctx, const char *code)
{
	struct cli *cli = ctx;

	if (cli->json)
		cli_json(json_pack("{s:s}", "pairing_code", code));
	else {
		printf("Pairing code: %s\n\nOn a device of this account, run:\n"
		    "    coffer device approve %s\nWaiting for the approval...\n",
		    code, code);
		fflush(stdout);
	}
}

/* A join that ended without joining: say how, and what to do. */
static int
join_failed(struct cli *cli, int r, enum coffer_join_end end, const char *url,
    const char *name, uint64_t timeout)
{
	switch (end) {
	case COFFER_JOIN_END_NO_ACCOUNT:
		cli_error(cli, COFFER_EDENIED, "there is no account '%s' on the "
		    "server %s (check the name and the URL); nothing was joined",
		    name, url);
		return cli_exit_status(COFFER_EDENIED);
	case COFFER_JOIN_END_WITHDRAWN:
		cli_error(cli, r, "no approval came within %llu seconds; the "
		    "join request was withdrawn, so the pairing code no longer "
		    "works and nothing was joined.  Run 'coffer device join' "
		    "again", (unsigned long long)timeout);
		return 1;
	case COFFER_JOIN_END_GONE:
		cli_error(cli, r, "the join request expired or the server "
		    "dropped it; nothing was joined.  Run 'coffer device join' "
		    "again");
		return 1;
	case COFFER_JOIN_END_ADDED:
		cli_error(cli, r, "this device's key was added to account '%s', "
		    "but its approval did not arrive within %d seconds more; "
		    "this device did not join.  Remove the key from a device of "
		    "the account ('coffer device list', 'coffer device remove "
		    "ID') and run 'coffer device join' again", name,
		    COFFER_JOIN_GRACE);
		return 1;
	case COFFER_JOIN_END_NOT_WITHDRAWN:
	default:
		cli_error(cli, r, "no approval came within %llu seconds, and "
		    "the join request could not be withdrawn (%s): an approval "
		    "typed now could still add this device's key to account "
		    "'%s' -- if one does, remove it there ('coffer device "
		    "remove ID'); this device did not join",
		    (unsigned long long)timeout, coffer_strerror(r), name);
		return cli_exit_status(r);
	}
}

static int
device_join(struct cli *cli, int argc, char **argv)
{
	const char *url = NULL, *name = NULL, *dev = NULL;
	char devbuf[COFFER_DEVICE_NAME_MAX + 1], hex[HEX_ID_BYTES];
	uint64_t timeout = COFFER_JOIN_TIMEOUT_DEFAULT;
	enum coffer_join_end end = COFFER_JOIN_END_NONE;
	uint8_t id[COFFER_ID_BYTES];
	int i, r;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--server") && i + 1 < argc)
			url = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			dev = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			if (cli_parse_u64(argv[++i], &timeout) != 0 ||
			    timeout == 0 || timeout > JOIN_TIMEOUT_MAX)
				return cli_usage_error(cli, "device", "--timeout "
				    "takes 1 to %d seconds", JOIN_TIMEOUT_MAX);
		} else if (argv[i][0] == '-' || name != NULL)
			return cli_usage_error(cli, "device",
			    "unexpected argument '%s'", argv[i]);
		else
			name = argv[i];
	}
	if (url == NULL || name == NULL)
		return cli_usage_error(cli, "device",
		    "device join needs --server URL and NAME");
	if (!coffer_url_ok(url))
		return cli_usage_error(cli, "device",
		    "the server URL must look like http://HOST:PORT");
	if (!coffer_account_name_ok(name))
		return cli_usage_error(cli, "device", "account names are 1 to "
		    "64 characters of a-z, 0-9, '.', '_' and '-'");
	if (dev == NULL) {
		cli_device_name(devbuf, sizeof(devbuf));
		dev = devbuf;
	}
	if (!coffer_device_name_ok(dev))
		return cli_usage_error(cli, "device", "device names are 1 to "
		    "64 bytes without control characters");
	r = coffer_device_join(cli->ctx, url, name, dev, timeout, print_code,
	    cli, id, &end);
	if (r == COFFER_EEXIST) {
		cli_error(cli, r, "this device already has an account (set "
		    "COFFER_HOME to another folder to make another device)");
		return 1;
	}
	if (r != 0 && end != COFFER_JOIN_END_NONE)
		return join_failed(cli, r, end, url, name, timeout);
	if (r != 0)
		return cli_fail(cli, NULL, r, "cannot join the account");
	cli_hex(hex, id, COFFER_ID_BYTES);
	if (cli->json)
		cli_json(json_pack("{s:s, s:s, s:s}", "device_id", hex,
		    "account", name, "device", dev));
	else
		printf("Joined account '%s' as '%s'.\ndevice_id: %s\n", name,
		    dev, hex);
	return 0;
}

/* A usage error (exit 2, JSON status 2) that needs no usage text. */
static int
usage_message(struct cli *cli, const char *msg)
{
	if (cli->json)
		cli_json(json_pack("{s:s, s:i}", "error", msg, "status", 2));
	else
		fprintf(stderr, "%s: %s\n", cli->prog, msg);
	return 2;
}

static int
device_approve(struct cli *cli, int argc, char **argv)
{
	struct coffer_session *s = NULL;
	char name[COFFER_DEVICE_NAME_MAX + 1], hex[HEX_ID_BYTES];
	char safe[COFFER_DEVICE_NAME_MAX + 1];
	uint8_t id[COFFER_ID_BYTES];
	int r;

	if (argc != 1 || argv[0][0] == '-')
		return cli_usage_error(cli, "device", "device approve needs CODE");
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	r = coffer_device_approve(s, argv[0], id, name);
	if (r == COFFER_EBADKEY) {
		cli_error(cli, r, "the pairing code is mistyped (its check "
		    "character does not match): type it again");
		r = cli_exit_status(r);
		goto out;
	}
	if (r == COFFER_ENOENT) {
		/*
		 * Usage: a request withdrawn, expired or of another account.
		 * A server that swapped a request's keys looks the same from
		 * here; either way nothing was appended.
		 */
		r = usage_message(cli, "no pending join request of this "
		    "account matches this pairing code (the join gave up and "
		    "withdrew it, it expired, or the code is for another "
		    "account); nothing was approved.  Start 'coffer device "
		    "join' again on the new device");
		goto out;
	}
	if (r == COFFER_ENOTAUTHENTIC) {
		cli_error(cli, r, "no single authentic join request matches this "
		    "pairing code for this account; nothing was approved.  Start "
		    "'coffer device join' again on the new device");
		r = cli_exit_status(r);
		goto out;
	}
	if (r != 0) {
		r = cli_fail(cli, s, r, "cannot approve the device");
		goto out;
	}
	cli_hex(hex, id, COFFER_ID_BYTES);
	if (cli->json)
		cli_json(json_pack("{s:s, s:s}", "approved", hex, "name", name));
	else {
		cli_safe_name(safe, name);
		printf("Approved '%s' (%s).\n", safe, hex);
	}
out:
	coffer_session_close(s);
	return r;
}

static int
device_list(struct cli *cli)
{
	struct coffer_session *s = NULL;
	struct coffer_device_info *v = NULL;
	char hex[HEX_ID_BYTES], by[HEX_ID_BYTES], when[TIME_TEXT_BYTES];
	char safe[COFFER_DEVICE_NAME_MAX + 1];
	json_t *arr = NULL, *o;
	size_t n = 0, i;
	int r;

	if ((r = cli_session(cli, &s)) != 0)
		return r;
	if ((r = coffer_device_list(s, &v, &n)) != 0) {
		r = cli_fail(cli, s, r, "cannot list the devices");
		goto out;
	}
	if (cli->json && (arr = json_array()) == NULL) {
		r = 1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		cli_hex(hex, v[i].id, COFFER_ID_BYTES);
		cli_hex(by, v[i].added_by, COFFER_ID_BYTES);
		if (cli->json) {
			o = json_pack("{s:s, s:s, s:s, s:I, s:b}", "id", hex,
			    "name", v[i].name, "added_by", by, "added_at",
			    (json_int_t)v[i].added_at, "this_device",
			    v[i].this_device);
			json_array_append_new(arr, o);
		} else {
			time_text(v[i].added_at, when);
			cli_safe_name(safe, v[i].name);
			printf("%s  %-20s added %s%s\n", hex, safe, when,
			    v[i].this_device ? "  (this device)" : "");
		}
	}
	if (cli->json) {
		cli_json(json_pack("{s:o}", "devices", arr));
		arr = NULL;
	}
out:
	json_decref(arr);
	coffer_free(v);
	coffer_session_close(s);
	return r;
}

static int
device_remove(struct cli *cli, int argc, char **argv)
{
	struct coffer_session *s = NULL;
	uint8_t id[COFFER_ID_BYTES];
	const char *hex = NULL;
	size_t idlen = 0;
	int i, r, rekey = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--rekey"))
			rekey = 1;
		else if (argv[i][0] == '-' || hex != NULL)
			return cli_usage_error(cli, "device",
			    "unexpected argument '%s'", argv[i]);
		else
			hex = argv[i];
	}
	if (hex == NULL)
		return cli_usage_error(cli, "device", "device remove needs ID");
	if (sodium_hex2bin(id, sizeof(id), hex, strlen(hex), NULL,
	    &idlen, NULL) != 0 || idlen != COFFER_ID_BYTES)
		return cli_usage_error(cli, "device", "ID is a device id: 64 "
		    "hex characters (see 'coffer device list')");
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	r = coffer_device_remove(s, id, rekey);
	if (r == COFFER_ENOENT || r == COFFER_EINVAL) {
		cli_error(cli, r, r == COFFER_EINVAL ? "a device cannot remove "
		    "itself: remove it from another device" : "no trusted device "
		    "has this id (see 'coffer device list')");
		r = 1;
		goto out;
	}
	if (r != 0) {
		r = cli_fail(cli, s, r, "cannot remove the device");
		goto out;
	}
	if (cli->json)
		cli_json(json_pack("{s:s, s:I, s:b}", "removed", hex, "epoch",
		    (json_int_t)cli_epoch(s), "rekeyed", rekey));
	else
		printf("Removed %s; the account key is now epoch %llu%s.\n",
		    hex, (unsigned long long)cli_epoch(s), rekey ?
		    ", and every drive has a new drive secret" : "");
out:
	coffer_session_close(s);
	return r;
}

int
cmd_device(struct cli *cli, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "join"))
		return device_join(cli, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "approve"))
		return device_approve(cli, argc - 1, argv + 1);
	if (argc == 1 && !strcmp(argv[0], "list"))
		return device_list(cli);
	if (argc >= 1 && !strcmp(argv[0], "remove"))
		return device_remove(cli, argc - 1, argv + 1);
	return cli_usage_error(cli, "device", "unknown or missing subcommand");
}

static void
print_history(void *ctx, const struct coffer_chain_change *ch, size_t n)
{
	struct cli *cli = ctx;
	size_t i;

	fprintf(stderr, "%s: the account's device chain (verified, and its "
	    "recovery registration is this key's):\n", cli->prog);
	for (i = 0; i < n; i++)
		cli_chain_change(cli, &ch[i]);
}

/*
 * Read the recovery key: one line from stdin (a prompt, and no echo, if it
 * is a terminal), straight into ${buf} (no stdio buffer keeps a copy).
 * -1 if there is none, or the line is too long to be one.
 */
static int
read_recovery_key(char buf[static RECOVERY_INPUT_MAX], size_t *lenp)
{
	size_t n = 0;

	*lenp = 0;
	if (cli_read_secret(0, 2, "Recovery key: ", buf, RECOVERY_INPUT_MAX - 1,
	    &n) != 0)
		return -1;
	buf[n] = '\0';
	*lenp = n;
	return 0;
}

int
cmd_recover(struct cli *cli, int argc, char **argv)
{
	const char *url = NULL, *name = NULL, *dev = NULL;
	char devbuf[COFFER_DEVICE_NAME_MAX + 1], hex[HEX_ID_BYTES];
	char key[RECOVERY_INPUT_MAX];
	uint8_t id[COFFER_ID_BYTES];
	size_t keylen = 0;
	int i, r, keep = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--server") && i + 1 < argc)
			url = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			dev = argv[++i];
		else if (!strcmp(argv[i], "--keep-devices"))
			keep = 1;
		else if (argv[i][0] == '-' || name != NULL)
			return cli_usage_error(cli, "recover",
			    "unexpected argument '%s'", argv[i]);
		else
			name = argv[i];
	}
	if (url == NULL || name == NULL)
		return cli_usage_error(cli, "recover",
		    "recover needs --server URL and NAME");
	if (!coffer_url_ok(url) ||
	    !coffer_account_name_ok(name))
		return cli_usage_error(cli, "recover", "bad server URL or "
		    "account name");
	if (dev == NULL) {
		cli_device_name(devbuf, sizeof(devbuf));
		dev = devbuf;
	}
	if (!coffer_device_name_ok(dev))
		return cli_usage_error(cli, "recover", "device names are 1 to "
		    "64 bytes without control characters");
	if (read_recovery_key(key, &keylen) != 0) {
		cli_error(cli, COFFER_EBADKEY, "no recovery key on the input");
		return cli_exit_status(COFFER_EBADKEY);
	}
	r = coffer_recover(cli->ctx, url, name, key, keylen, dev, !keep,
	    print_history, cli, id);
	sodium_memzero(key, sizeof(key));
	if (r == COFFER_EEXIST) {
		cli_error(cli, r, "this device already has an account (set "
		    "COFFER_HOME to another folder)");
		return 1;
	}
	if (r == COFFER_EBADKEY) {
		cli_error(cli, r, "wrong recovery key for account '%s' (mistyped, "
		    "of another account, or replaced since); nothing was "
		    "changed", name);
		return cli_exit_status(r);
	}
	if (r == COFFER_EDENIED) {
		/* Not a wrong key: the key passed its own checks. */
		cli_error(cli, r, "the server refused this recovery key for "
		    "account '%s' (it refuses a key replaced since by a newer "
		    "one; otherwise it denies the recovery); nothing was "
		    "changed", name);
		return cli_exit_status(r);
	}
	if (r != 0)
		return cli_fail(cli, NULL, r, "cannot recover the account");
	cli_hex(hex, id, COFFER_ID_BYTES);
	if (cli->json)
		cli_json(json_pack("{s:s, s:s, s:s, s:b}", "device_id", hex,
		    "account", name, "device", dev, "others_removed", !keep));
	else
		printf("Recovered account '%s' on this device '%s'%s.\n"
		    "device_id: %s\n", name, dev, keep ? "" :
		    "; every other device was removed", hex);
	return 0;
}

int
cmd_recovery_key(struct cli *cli, int argc, char **argv)
{
	struct coffer_session *s = NULL;
	char text[COFFER_RECOVERY_TEXT_BYTES];
	int r;

	if (argc != 1 || strcmp(argv[0], "--rotate") != 0)
		return cli_usage_error(cli, "account",
		    "account recovery-key takes --rotate");
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	if ((r = coffer_recovery_key_rotate(s, text)) != 0) {
		r = cli_fail(cli, s, r, "cannot replace the recovery key");
		goto out;
	}
	if (cli->json)
		cli_json(json_pack("{s:s, s:I}", "recovery_key", text, "epoch",
		    (json_int_t)cli_epoch(s)));
	else
		printf("New recovery key (write it down now: it is shown only "
		    "once; the old one no longer works):\n\n    %s\n\n", text);
out:
	sodium_memzero(text, sizeof(text));
	coffer_session_close(s);
	return r;
}
