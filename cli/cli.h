/* The coffer command line: shared state and helpers. */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "coffer/coffer.h"

/*
 * Exit 6 (DESIGN §8): done, but incomplete -- files skipped (unreadable,
 * special) or changed while read, or (pull, sync) some files could not be
 * written.  Not an error: the normal result line is printed, with
 * "incomplete": true and the counts "skipped" and "changed" in JSON.
 * Statuses 1, 3, 4 and 5 take precedence over it.
 */
#define CLI_EXIT_INCOMPLETE	6

struct cli {
	int json;		/* --json: stdout carries only JSON lines */
	struct coffer_ctx *ctx;	/* the library's configuration */
	int home_ok;		/* the device's folders are known */
	const char *prog;
	int tty;		/* stderr is a terminal: show progress */
	int progress_shown;	/* a progress line is on stderr */
	double progress_start;	/* when the current progress began */
	char progress_what[64];
};

/* Print an error: a JSON line {"error", "status"} with --json, else text on stderr. */
void cli_error(struct cli *cli, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print the usage of ${cmd} on stderr. */
void cli_usage(struct cli *cli, const char *cmd);

/* A usage error: message and usage on stderr (JSON error line with --json); returns 2. */
int cli_usage_error(struct cli *cli, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * cli_fail(cli, err, what):
 * Report the library error ${err} while doing ${what}, with advice on what
 * to do; return its exit status (DESIGN §8).
 */
int cli_fail(struct cli *cli, struct coffer_session *s, int err,
    const char *what);

/**
 * cli_exit_status(err):
 * Map the library's ${err} to the exit status of DESIGN §8: 0 success,
 * 1 other, 3 integrity, 4 server unreachable or refused, 5 wrong key.
 * (2, usage, and 6, incomplete, are decided by the commands.)
 */
int cli_exit_status(int err);

/*
 * cli_ctx_init(cli):
 * The library's configuration from the environment: the device's
 * folders (COFFER_HOME, XDG_DATA_HOME, XDG_CACHE_HOME, HOME; cli->home_ok
 * says whether they were found), the callbacks, the COFFER_TEST_* knobs.
 * -1 if out of memory.
 */
int cli_ctx_init(struct cli *cli);

/* Open the session, reporting errors; returns 0 or an exit status. */
int cli_session(struct cli *cli, struct coffer_session **sp);

/* Print ${o} as one compact JSON line on stdout and release it. */
void cli_json(json_t *o);

/* Hex of ${n} bytes into a static-sized caller buffer (2n + 1). */
void cli_hex(char *out, const uint8_t *p, size_t n);

/* Add "name" (UTF-8) or "name_b64" (otherwise) for raw bytes to ${o}. */
void cli_json_name(json_t *o, const char *key, const uint8_t *p, size_t n);

/* Parse a decimal u64 strictly (no sign, no junk); 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *vp);

/*
 * cli_drive_dir_arg(cli, cmd, arg, drivep, dirp):
 * Take ${arg}, an argument of ${cmd} (pull, push) that none of its options
 * matched: an unknown option is refused, else it is DRIVE, then DIR.
 * Returns 0, or the usage exit status (2) with the message printed for an
 * unknown option or a third argument.
 */
int cli_drive_dir_arg(struct cli *cli, const char *cmd, const char *arg,
    const char **drivep, const char **dirp);

/*
 * cli_drive_dir_given(cli, cmd, drive, dir):
 * Returns 0 if ${cmd} was given DRIVE and a non-empty DIR, else the usage
 * exit status (2) with the message printed.
 */
int cli_drive_dir_given(struct cli *cli, const char *cmd, const char *drive,
    const char *dir);

/* Progress callback: prints to stderr when it is a terminal. */
void cli_progress(void *ctx, const char *what, uint64_t done, uint64_t total);

/* Clear the progress line, if one was shown. */
void cli_progress_end(struct cli *cli);


/**
 * cli_safe_text(out, outlen, p, n):
 * The one sanitiser of untrusted text (the server's messages, names other
 * devices chose, paths) for a terminal: valid UTF-8 is kept, but control
 * characters (C0, DEL, C1 U+0080-U+009F), line and paragraph separators,
 * bidirectional marks and overrides, '\\' and invalid UTF-8 are shown as
 * \xNN, byte by byte.  Cut to fit ${outlen} (ending "..." then); returns
 * the length written (NUL-terminated).  4n + 1 bytes always hold it all.
 */
size_t cli_safe_text(char *out, size_t outlen, const uint8_t *p, size_t n);

/* The same, written to ${f} whole (${n} is bounded by its caller). */
void cli_safe_print(FILE *f, const uint8_t *p, size_t n);

/*
 * cli_warn(ctx, msg, path, len):
 * The library's warning callback (ctx: the struct cli): "coffer: PATH: MSG"
 * on stderr, the path (a name from a version or the local disk) escaped
 * by cli_safe_print.
 */
void cli_warn(void *ctx, const char *msg, const uint8_t *path, size_t len);

/*
 * A device name (another device's choice) made safe for a terminal by
 * cli_safe_text.  ${out} holds COFFER_DEVICE_NAME_MAX + 1 (a long escaped
 * name is cut, ending "...").
 */
void cli_safe_name(char *out, const char *name);

/**
 * cli_no_drive(cli, s, name):
 * If the account has no drive ${name}: say so, suggest the closest
 * existing name ("did you mean 'docs'?") or else 'coffer drive create',
 * and return 1 (the exit status).  0, printing nothing, if it exists.
 */
int cli_no_drive(struct cli *cli, struct coffer_session *s, const char *name);

/*
 * One device-chain entry as a line on stderr: what, to which device (name
 * and full id), by whom, when, in which epoch.
 */
void cli_chain_change(struct cli *cli, const struct coffer_chain_change *ch);

/* The host name cut to a device name's length (the default --name). */
void cli_device_name(char *out, size_t outlen);

/* cli_read_secret results besides 0 (cli/passphrase.c). */
#define CLI_SECRET_EOF		1	/* end of input before anything was typed */
#define CLI_SECRET_LONG		2	/* the line was longer than the buffer */
#define CLI_SECRET_SIGNAL	3	/* interrupted (the signal was raised again) */

/*
 * cli_read_secret(fd, outfd, prompt, buf, cap, lenp):
 * Read one line (without its end) of at most ${cap} bytes from ${fd}
 * into ${buf} with read(2), no stdio buffering.  If ${fd} is a terminal,
 * show ${prompt} on ${outfd} and turn echo off while reading, restored on
 * every way out (a signal is held until then, then raised again).
 * ${buf} is wiped on failure.  0 or a CLI_SECRET_* code.
 */
int cli_read_secret(int fd, int outfd, const char *prompt, char *buf,
    size_t cap, size_t *lenp);

/* Give the library its passphrase callback (COFFER_PASSPHRASE_FILE or a prompt). */
void cli_passphrase_init(struct cli *cli);

/*
 * cli_passphrase_report(cli, err):
 * If the passphrase's source failed (a missing or unreadable passphrase
 * file, passphrases that did not match, a wrong one typed: ${err} is
 * COFFER_EBADKEY), say so and return the exit status: the library's
 * ${err} is only a consequence.  Else 0 (nothing printed).
 */
int cli_passphrase_report(struct cli *cli, int err);

int cmd_selftest(struct cli *cli, int argc, char **argv);
int cmd_account(struct cli *cli, int argc, char **argv);
int cmd_drive(struct cli *cli, int argc, char **argv);
int cmd_push(struct cli *cli, int argc, char **argv);
int cmd_pull(struct cli *cli, int argc, char **argv);
int cmd_log(struct cli *cli, int argc, char **argv);
int cmd_ls(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_device(struct cli *cli, int argc, char **argv);
int cmd_recover(struct cli *cli, int argc, char **argv);
int cmd_recovery_key(struct cli *cli, int argc, char **argv);

#endif
