/* The coffer command line: shared state and helpers. */
#ifndef CLI_H
#define CLI_H

struct cli {
	int json;		/* --json: stdout carries only JSON lines */
	const char *prog;
};

/* Print an error: a JSON line {"error", "status"} with --json, else text on stderr. */
void cli_error(struct cli *cli, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print the usage of ${cmd} on stderr. */
void cli_usage(struct cli *cli, const char *cmd);

int cmd_selftest(struct cli *cli, int argc, char **argv);

#endif
