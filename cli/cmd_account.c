/*
 * coffer account create --server URL NAME [--invite TOKEN] [--name DEVICE]
 * coffer drive create NAME | list
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "coffer/coffer.h"
#include "cli.h"

#define HOST_MAX	256

/* The host name, cut to a device name's length: the default --name. */
void
cli_device_name(char *out, size_t outlen)
{
	char host[HOST_MAX + 1];
	size_t n;

	memset(host, 0, sizeof(host));
	if (gethostname(host, HOST_MAX) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "device");
	n = strlen(host);
	if (n > COFFER_DEVICE_NAME_MAX)
		n = COFFER_DEVICE_NAME_MAX;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, host, n);
	out[n] = '\0';
}

static int
account_create(struct cli *cli, int argc, char **argv)
{
	const char *url = NULL, *name = NULL, *invite = NULL, *dev = NULL;
	char devbuf[COFFER_DEVICE_NAME_MAX + 1];
	char text[COFFER_RECOVERY_TEXT_BYTES];
	char hex[2 * COFFER_ID_BYTES + 1];
	uint8_t id[COFFER_ID_BYTES];
	int i, r;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--server") && i + 1 < argc)
			url = argv[++i];
		else if (!strcmp(argv[i], "--invite") && i + 1 < argc)
			invite = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			dev = argv[++i];
		else if (argv[i][0] == '-' || name != NULL)
			return cli_usage_error(cli, "account",
			    "unexpected argument '%s'", argv[i]);
		else
			name = argv[i];
	}
	if (url == NULL || name == NULL)
		return cli_usage_error(cli, "account",
		    "account create needs --server URL and NAME");
	if (!coffer_url_ok(url))
		return cli_usage_error(cli, "account",
		    "the server URL must look like http://HOST:PORT");
	if (!coffer_account_name_ok(name))
		return cli_usage_error(cli, "account", "account names are 1 to "
		    "64 characters of a-z, 0-9, '.', '_' and '-'");
	if (dev == NULL) {
		cli_device_name(devbuf, sizeof(devbuf));
		dev = devbuf;
	}
	if (!coffer_device_name_ok(dev))
		return cli_usage_error(cli, "account", "device names are 1 to "
		    "64 bytes without control characters");
	r = coffer_account_create(cli->ctx, url, name, invite, dev, text, id);
	if (r == COFFER_EEXIST) {
		cli_error(cli, r, "this device already has an account (set "
		    "COFFER_HOME to another folder to make another device)");
		return 1;
	}
	if (r == COFFER_ECONFLICT) {
		cli_error(cli, r, "the server already has an account named '%s': "
		    "choose another name", name);
		return 1;
	}
	if (r == COFFER_EDENIED) {
		cli_error(cli, r, "the server refused to create the account: "
		    "it may need an invite (--invite TOKEN, made on the server "
		    "with 'cofferd invite'), or it is limiting new accounts");
		return cli_exit_status(r);
	}
	if (r != 0)
		return cli_fail(cli, NULL, r, "cannot create the account");
	cli_hex(hex, id, COFFER_ID_BYTES);
	if (cli->json) {
		cli_json(json_pack("{s:s, s:s, s:s, s:s}", "account_id", hex,
		    "recovery_key", text, "account", name, "device", dev));
	} else {
		printf("Account '%s' created.\naccount_id: %s\n\n"
		    "Recovery key (write it down now and keep it safe: it is "
		    "shown only once,\nand it is the only way back in if every "
		    "device is lost):\n\n    %s\n\n", name, hex, text);
	}
	sodium_memzero(text, sizeof(text));
	return 0;
}

int
cmd_account(struct cli *cli, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "create"))
		return account_create(cli, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "recovery-key"))
		return cmd_recovery_key(cli, argc - 1, argv + 1);
	return cli_usage_error(cli, "account", "unknown or missing subcommand");
}

static int
drive_list(struct cli *cli)
{
	struct coffer_session *s = NULL;
	struct coffer_drive_info *v = NULL;
	char hex[2 * COFFER_ID_BYTES + 1];
	json_t *arr, *o;
	size_t i, n = 0;
	int r;

	if ((r = cli_session(cli, &s)) != 0)
		return r;
	if ((r = coffer_drive_list(s, &v, &n)) != 0) {
		r = cli_fail(cli, s, r, "cannot list the drives");
		goto out;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		cli_hex(hex, v[i].id, COFFER_ID_BYTES);
		if (!cli->json) {
			/* A name another device chose: escaped. */
			cli_safe_print(stdout, (const uint8_t *)v[i].name,
			    v[i].namelen);
			printf("\t%s\n", hex);
			continue;
		}
		o = json_object();
		cli_json_name(o, "name", (const uint8_t *)v[i].name,
		    v[i].namelen);
		json_object_set_new(o, "id", json_string(hex));
		json_array_append_new(arr, o);
	}
	if (cli->json)
		cli_json(json_pack("{s:o}", "drives", arr));
	else
		json_decref(arr);
out:
	coffer_free(v);
	coffer_session_close(s);
	return r;
}

static int
drive_create(struct cli *cli, const char *name)
{
	struct coffer_session *s = NULL;
	char hex[2 * COFFER_ID_BYTES + 1];
	uint8_t id[COFFER_ID_BYTES];
	int r;

	if (strlen(name) < 1 || strlen(name) > COFFER_DRIVE_NAME_MAX)
		return cli_usage_error(cli, "drive", "drive names are 1 to 255 bytes");
	if ((r = cli_session(cli, &s)) != 0)
		return r;
	r = coffer_drive_create(s, name, id);
	if (r == COFFER_EEXIST) {
		cli_error(cli, r, "there is already a drive named '%s' "
		    "('coffer drive list' shows them)", name);
		r = 1;
		goto out;
	}
	if (r == COFFER_ECONFLICT) {
		cli_error(cli, r, "another device changed the drive directory "
		    "at the same time; run the command again");
		r = 1;
		goto out;
	}
	if (r != 0) {
		r = cli_fail(cli, s, r, "cannot create the drive");
		goto out;
	}
	cli_hex(hex, id, COFFER_ID_BYTES);
	if (cli->json)
		cli_json(json_pack("{s:s, s:s}", "drive", name, "drive_id", hex));
	else
		printf("Drive '%s' created (%s).\n", name, hex);
out:
	coffer_session_close(s);
	return r;
}

int
cmd_drive(struct cli *cli, int argc, char **argv)
{
	if (argc == 1 && !strcmp(argv[0], "list"))
		return drive_list(cli);
	if (argc == 2 && !strcmp(argv[0], "create"))
		return drive_create(cli, argv[1]);
	return cli_usage_error(cli, "drive", "expected 'create NAME' or 'list'");
}
