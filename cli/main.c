/*
 * coffer: the command-line client.  A thin layer over libcoffer: it parses
 * arguments, prints, and maps error codes to the exit statuses of
 * DESIGN §8.  All logic lives in the library.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <jansson.h>

#include "coffer/coffer.h"
#include "cli.h"

struct command {
	const char *name;
	int (*fn)(struct cli *, int, char **);
	const char *usage;
	const char *help;
};

static const struct command commands[] = {
	{ "selftest", cmd_selftest, "selftest DIR",
	  "Seal every chunk of every file under DIR with fresh keys, open each\n"
	  "one back and check it is identical.  Needs no server." },
	{ "account", cmd_account,
	  "account create --server URL NAME [--invite TOKEN] [--name DEVICE] | recovery-key --rotate",
	  "Make this device's keys and a new account NAME on the server at URL\n"
	  "(http://HOST:PORT), with an empty drive directory.  Prints the\n"
	  "account id and the recovery key, once: write the recovery key down.\n"
	  "--invite is needed when the server is not on loopback; --name names\n"
	  "this device (default: the host name).  COFFER_HOME selects the\n"
	  "device's folder.  On a terminal it asks twice for a passphrase to\n"
	  "seal this device's key (empty: none, and it says the key is stored\n"
	  "unprotected), and every later command asks for it; elsewhere\n"
	  "COFFER_PASSPHRASE_FILE names a file holding it (as for device join\n"
	  "and recover)." },
	{ "drive", cmd_drive, "drive create NAME | list",
	  "create NAME adds an empty drive to the account's directory; list\n"
	  "shows the drives (names resolve only through the verified directory)." },
	{ "push", cmd_push, "push DRIVE DIR [--allow-shrink]",
	  "Snapshot the folder DIR as the next version of DRIVE.  Files, folders\n"
	  "(empty ones too), symlinks (never followed), permission bits and\n"
	  "mtimes to the nanosecond are kept, DIR's own too.  Unchanged files are\n"
	  "not read again (stat cache), what the server already has is not\n"
	  "uploaded, and a push that changes nothing makes no version.  A file\n"
	  "that changes while it is read is read again (3 reads in all); one\n"
	  "still changing, one that cannot be read, an unreadable folder and a\n"
	  "special file are left out with a warning, and the push exits 6 (the\n"
	  "version is incomplete).  A file or folder left out that the newest\n"
	  "version has keeps that version's state (the last one stored, never a\n"
	  "mix); otherwise it is absent.  A push that replaces a newest version\n"
	  "another device wrote since this device last looked says so (that\n"
	  "version stays in the history: pull --version N).  A push of an empty\n"
	  "folder over a non-empty drive, or one that drops more than half of the\n"
	  "newest version's files, is refused (an unmounted disk looks like that)\n"
	  "unless --allow-shrink.  --json: version, files, files_read, bytes_read,\n"
	  "chunks_uploaded, bytes_uploaded, skipped, changed; when incomplete\n"
	  "also incomplete: true and kept; replaced_other: {version, device} when\n"
	  "another device's version was replaced." },
	{ "pull", cmd_pull, "pull DRIVE DIR [--version N] [--overwrite] [--delete] [--keep-modes]",
	  "Verify version N (default: the newest) of DRIVE entirely, then write\n"
	  "it into DIR.  A non-empty DIR needs --overwrite; local entries the\n"
	  "version lacks are kept unless --delete.  Nothing unverified is ever\n"
	  "written; symlinks in DIR are replaced, never followed.  Modes are\n"
	  "masked to 0777 (no setuid, setgid or sticky bit) unless --keep-modes;\n"
	  "DIR's own mode and mtime are set last, like every folder's.\n"
	  "Without --delete, a local folder where the version has a file or a\n"
	  "symlink, or a local file where it has a folder or a symlink, stops\n"
	  "the pull before it writes anything: each path is named, exit 1.\n"
	  "Temporary files (.coffer-tmp-*) an interrupted pull left are removed.\n"
	  "A path that cannot be written (permission, a name too long) is named\n"
	  "and the rest is written: exit 6, with \"incomplete\": true and the\n"
	  "count \"skipped\" in --json (also: version, files, dirs, symlinks,\n"
	  "bytes, deleted, changed)." },
	{ "log", cmd_log, "log DRIVE",
	  "One line per verified version: version, commit, time, device." },
	{ "ls", cmd_ls, "ls DRIVE[@N] [PATH]",
	  "List the folder PATH (default: the top) of version N (default: the\n"
	  "newest) of DRIVE.  Names that are not UTF-8 appear as name_b64." },
	{ "status", cmd_status, "status",
	  "Sync and verify the chain, the drive directory and every drive's\n"
	  "head; show each drive's verified version and when it was verified,\n"
	  "and the safety code to compare with your other devices." },
	{ "check", cmd_check, "check [--read-data]",
	  "Verify every version of every drive: the whole line of commits and\n"
	  "every tree and list; with --read-data also fetch and open every chunk." },
	{ "device", cmd_device,
	  "device join --server URL NAME [--name DEVICE] [--timeout S] | approve CODE | list | remove ID [--rekey]",
	  "join: make this device's keys, ask to join account NAME, print the\n"
	  "pairing code at once and wait (default 900 s) for a trusted device to\n"
	  "run 'coffer device approve CODE'; the approval is accepted only if it\n"
	  "carries this attempt's secret and verifies against the chain.\n"
	  "list: the trusted devices.  remove ID: sync every drive's head, remove\n"
	  "the device and start a new epoch of the account key; the removed\n"
	  "device cannot read anything written afterwards.  --rekey also gives\n"
	  "every drive a new drive secret and re-seals its current version under\n"
	  "it as a new version, so the removed device cannot even compute the ids\n"
	  "of what is pushed afterwards." },
	{ "recover", cmd_recover, "recover --server URL NAME [--name DEVICE] [--keep-devices]",
	  "Read the recovery key on stdin (not echoed on a terminal), verify the account's chain and accept\n"
	  "it only if its recovery registration is this key's, show its history,\n"
	  "add this device, and (unless --keep-devices) remove every other device\n"
	  "and start a new epoch.  A wrong or replaced key exits 5." },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Commands of DESIGN §8 that are still to come, and the issue bringing them. */
static const char *const pending[][2] = {
	{ "share", "sharing drives with other accounts (a later issue)" },
};
#define NPENDING (sizeof(pending) / sizeof(pending[0]))

void
cli_error(struct cli *cli, int err, const char *fmt, ...)
{
	char msg[1024], safe[4 * sizeof(msg)];
	va_list ap;
	json_t *o;
	char *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_progress_end(cli);
	if (cli->json) {
		o = json_pack("{s:s, s:i}", "error", msg, "status",
		    cli_exit_status(err));
		if (o == NULL) {
			/* Not UTF-8 (a name, a path): escaped, as on a terminal. */
			cli_safe_text(safe, sizeof(safe), (const uint8_t *)msg,
			    strlen(msg));
			o = json_pack("{s:s, s:i}", "error", safe, "status",
			    cli_exit_status(err));
		}
		if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL) {
			printf("%s\n", s);
			free(s);
		}
		json_decref(o);
	} else {
		fprintf(stderr, "%s: %s\n", cli->prog, msg);
	}
}

static void
usage_all(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: coffer [--json] COMMAND [ARGS...]\n"
	    "\n"
	    "coffer keeps end-to-end encrypted, versioned copies of folders on a\n"
	    "server that holds only ciphertext.\n"
	    "\n"
	    "Commands available now:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  coffer %s\n", commands[i].usage);
	fprintf(f, "\nStill to come:\n");
	for (i = 0; i < NPENDING; i++)
		fprintf(f, "  %-8s  %s\n", pending[i][0], pending[i][1]);
	fprintf(f,
	    "\n'coffer help COMMAND' explains one command.  --json prints one JSON\n"
	    "object per line on stdout.  Exit status: 0 ok, 1 error, 2 usage,\n"
	    "3 integrity (the server sent something not authentic), 4 server\n"
	    "unreachable or refused, 5 wrong key or passphrase, 6 done but\n"
	    "incomplete (files skipped or changed while read, or not written).\n");
}

void
cli_usage(struct cli *cli, const char *cmd)
{
	size_t i;

	(void)cli;
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, cmd))
			fprintf(stderr, "usage: coffer %s\n", commands[i].usage);
}

static int
help(const char *cmd)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		if (!strcmp(commands[i].name, cmd)) {
			printf("usage: coffer %s\n\n%s\n", commands[i].usage,
			    commands[i].help);
			return 0;
		}
	}
	for (i = 0; i < NPENDING; i++) {
		if (!strcmp(pending[i][0], cmd)) {
			printf("coffer %s is not built yet: it comes with %s.\n",
			    cmd, pending[i][1]);
			return 0;
		}
	}
	fprintf(stderr, "coffer: no command '%s'\n", cmd);
	return 2;
}

/* Run the command ${args[0]}; its exit status. */
static int
dispatch(struct cli *cli, int nargs, char **args)
{
	size_t k;
	int i;

	for (k = 0; k < NCOMMANDS; k++) {
		if (!strcmp(commands[k].name, args[0])) {
			if (nargs > 1 && (!strcmp(args[1], "--help") ||
			    !strcmp(args[1], "-h")))
				i = help(args[0]);
			else
				i = commands[k].fn(cli, nargs - 1, args + 1);
			cli_progress_end(cli);
			return i;
		}
	}
	for (k = 0; k < NPENDING; k++)
		if (!strcmp(pending[k][0], args[0]))
			return cli_usage_error(cli, "",
			    "'coffer %s' is not built yet: it comes with %s",
			    args[0], pending[k][1]);
	if (args[0][0] == '-')
		return cli_usage_error(cli, "", "no option '%s' (try 'coffer "
		    "--help')", args[0]);
	return cli_usage_error(cli, "", "no command '%s' (try 'coffer "
	    "--help')", args[0]);
}

int
main(int argc, char **argv)
{
	struct cli cli = { .prog = "coffer" };
	struct rlimit nocore = { 0, 0 };
	char **args;
	int nargs = 0, i;

	/*
	 * Keys, passphrases and plaintext live in this process: no core
	 * dump may write them to disk, and no other process of the user
	 * may read its memory (ptrace, /proc/PID/mem).  Best effort.
	 */
	(void)setrlimit(RLIMIT_CORE, &nocore);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	cli.tty = isatty(2);
#ifdef __GLIBC__
	/*
	 * Push and pull allocate chunks (512 KiB to 8 MiB), batches and
	 * frames in one thread and free them in another, all the time.
	 * glibc raises its mmap threshold to the largest such block freed,
	 * after which they come from the heaps, which keep what is freed:
	 * ~12 MiB of peak RSS at 256 MiB pushed (docs/PERFORMANCE.md §9).
	 * A fixed threshold keeps them mmap'd, returned to the system as
	 * soon as freed.  A process-wide setting: the program's, not the
	 * library's, to make.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
	/* --json may stand anywhere; take it out before dispatch. */
	if ((args = calloc((size_t)argc + 1, sizeof(*args))) == NULL)
		return 1;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			cli.json = 1;
		else
			args[nargs++] = argv[i];
	}
	if (nargs == 0 || !strcmp(args[0], "--help") || !strcmp(args[0], "-h")) {
		usage_all(nargs == 0 ? stderr : stdout);
		free(args);
		return nargs == 0 ? 2 : 0;
	}
	if (!strcmp(args[0], "--version") || !strcmp(args[0], "version")) {
		printf("coffer %s\n", COFFER_VERSION);
		free(args);
		return 0;
	}
	if (!strcmp(args[0], "help")) {
		i = nargs > 1 ? help(args[1]) : (usage_all(stdout), 0);
		free(args);
		return i;
	}
	if (coffer_init() != 0 || cli_ctx_init(&cli) != 0) {
		cli_error(&cli, COFFER_EINTERNAL, "cannot initialise libsodium");
		coffer_ctx_free(cli.ctx);
		free(args);
		return 1;
	}
	cli_passphrase_init(&cli);
	i = dispatch(&cli, nargs, args);
	coffer_ctx_free(cli.ctx);
	free(args);
	return i;
}
