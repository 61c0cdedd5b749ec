/*
 * coffer: the command-line client.  A thin layer over libcoffer: it parses
 * arguments, prints, and maps error codes to the exit statuses of
 * DESIGN §8.  All logic lives in the library.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Commands of DESIGN §8 that are still to come, and the issue bringing them. */
static const char *const pending[][2] = {
	{ "account", "the client (issue #5) and devices (issue #6)" },
	{ "device", "trusted devices (issue #6)" },
	{ "recover", "trusted devices (issue #6)" },
	{ "drive", "the client (issue #5)" },
	{ "push", "the client (issue #5)" },
	{ "pull", "the client (issue #5)" },
	{ "log", "the client (issue #5)" },
	{ "ls", "the client (issue #5)" },
	{ "status", "the client (issue #5)" },
	{ "check", "the client (issue #5)" },
};
#define NPENDING (sizeof(pending) / sizeof(pending[0]))

void
cli_error(struct cli *cli, int err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *o;
	char *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli->json) {
		o = json_pack("{s:s, s:i}", "error", msg, "status",
		    coffer_exit_status(err));
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
	    "unreachable or refused, 5 wrong key or passphrase.\n");
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

int
main(int argc, char **argv)
{
	struct cli cli = { 0, "coffer" };
	char **args;
	int nargs = 0, i;
	size_t k;

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
	if (coffer_init() != 0) {
		cli_error(&cli, COFFER_EINTERNAL, "cannot initialise libsodium");
		free(args);
		return 1;
	}
	for (k = 0; k < NCOMMANDS; k++) {
		if (!strcmp(commands[k].name, args[0])) {
			if (nargs > 1 && (!strcmp(args[1], "--help") ||
			    !strcmp(args[1], "-h")))
				i = help(args[0]);
			else
				i = commands[k].fn(&cli, nargs - 1, args + 1);
			free(args);
			return i;
		}
	}
	for (k = 0; k < NPENDING; k++) {
		if (!strcmp(pending[k][0], args[0])) {
			cli_error(&cli, COFFER_EINVAL,
			    "'coffer %s' is not built yet: it comes with %s",
			    args[0], pending[k][1]);
			free(args);
			return 2;
		}
	}
	cli_error(&cli, COFFER_EINVAL, "no command '%s' (try 'coffer --help')",
	    args[0]);
	free(args);
	return 2;
}
