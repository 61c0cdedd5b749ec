/*
 * Secrets typed at the terminal, and where the key file's passphrase
 * comes from (DESIGN §2): COFFER_PASSPHRASE_FILE if it is set; else a
 * prompt on the terminal (/dev/tty, like ssh-keygen) if stdin is one;
 * else none.  The library asks through the callback set here and reads
 * no environment variable and no terminal itself.
 *
 * Echo is off while a secret is typed and is put back on every way out:
 * a signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP) that arrives
 * meanwhile is held until the terminal is restored, then raised again.
 * What is typed goes straight from read(2) into guarded memory (locked
 * where the system allows), never through stdio's buffers, and is wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "cli.h"

#define PASSPHRASE_ENV		"COFFER_PASSPHRASE_FILE"
#define TTY_PATH		"/dev/tty"
#define NEW_ROUNDS		3	/* mismatched pairs before giving up */
#define MSG_MAX			512

/* What went wrong with the passphrase's source, for cli_passphrase_report. */
static struct {
	struct cli *cli;
	char msg[MSG_MAX];		/* "" if nothing */
	int err;			/* its error code */
	unsigned asked;			/* passphrases asked to unlock */
} ps;

/*
 * The passphrase just chosen for a new key, kept (guarded, locked memory)
 * for the same command's next unlock -- join opens the key it made once
 * approved -- so that it is not asked for again; wiped at exit.
 */
static char *chosen;
static size_t chosenlen;

static void
forget_chosen(void)
{
	if (chosen == NULL)
		return;
	sodium_memzero(chosen, COFFER_PASSPHRASE_MAX);
	sodium_free(chosen);
	chosen = NULL;
	chosenlen = 0;
}

static const int held_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
#define NHELD (sizeof(held_signals) / sizeof(held_signals[0]))
static volatile sig_atomic_t got_signal;

static void
hold_signal(int signo)
{
	got_signal = signo;
}

/* Note why the source failed, and return ${err}. */
static int note(int, const char *, ...) __attribute__((format(printf, 2, 3)));

static int
note(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps.msg, sizeof(ps.msg), fmt, ap);
	va_end(ap);
	ps.err = err;
	return err;
}

/* Write a whole string to ${fd}, ignoring errors (a prompt). */
static void
say(int fd, const char *s)
{
	size_t off = 0, len = strlen(s);
	ssize_t n;

	while (off < len) {
		n = write(fd, s + off, len - off);
		if (n < 0 && errno == EINTR && !got_signal)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

int
cli_read_secret(int fd, int outfd, const char *prompt, char *buf, size_t cap,
    size_t *lenp)
{
	struct sigaction sa, old[NHELD];
	sigset_t held, unblocked;
	struct pollfd pfd;
	struct termios t, saved;
	size_t len = 0, i;
	int tty, echo_off = 0, toolong = 0, r = 0, signo;
	ssize_t n;
	char c;

	*lenp = 0;
	tty = isatty(fd);
	got_signal = 0;
	pfd.fd = fd;
	pfd.events = POLLIN;
	sigemptyset(&held);
	for (i = 0; i < NHELD; i++)
		sigaddset(&held, held_signals[i]);
	/* Held, not lost: no SA_RESTART, so read() stops at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hold_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NHELD; i++)
		(void)sigaction(held_signals[i], &sa, &old[i]);
	if (tty && tcgetattr(fd, &saved) == 0) {
		t = saved;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
		if (tcsetattr(fd, TCSAFLUSH, &t) == 0)
			echo_off = 1;
	}
	if (prompt != NULL && tty)
		say(outfd, prompt);
	for (;;) {
		/*
		 * The held signals are blocked but while ppoll waits, so one
		 * that came before (during the prompt, say) is seen here and
		 * one that comes later interrupts the wait: none is missed.
		 */
		(void)sigprocmask(SIG_BLOCK, &held, &unblocked);
		if (!got_signal && ppoll(&pfd, 1, NULL, &unblocked) < 0 &&
		    errno != EINTR) {
			(void)sigprocmask(SIG_SETMASK, &unblocked, NULL);
			r = CLI_SECRET_EOF;
			break;
		}
		n = got_signal ? -1 : read(fd, &c, 1);
		(void)sigprocmask(SIG_SETMASK, &unblocked, NULL);
		if (n < 0 && errno == EINTR && !got_signal)
			continue;
		if (got_signal) {
			r = CLI_SECRET_SIGNAL;
			break;
		}
		if (n < 0) {
			r = CLI_SECRET_EOF;
			break;
		}
		if (n == 0) {
			if (len == 0 && !toolong)
				r = CLI_SECRET_EOF;
			break;
		}
		if (c == '\n' || c == '\r')
			break;
		if (len < cap)
			buf[len++] = c;
		else
			toolong = 1;
	}
	sodium_memzero(&c, sizeof(c));
	if (echo_off) {
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
		say(outfd, "\n");	/* the Enter that was not echoed */
	}
	for (i = 0; i < NHELD; i++)
		(void)sigaction(held_signals[i], &old[i], NULL);
	if ((signo = got_signal) != 0) {
		sodium_memzero(buf, cap);
		got_signal = 0;
		raise(signo);		/* the terminal is sane again */
		return CLI_SECRET_SIGNAL;
	}
	if (r == 0 && toolong)
		r = CLI_SECRET_LONG;
	if (r != 0) {
		sodium_memzero(buf, cap);
		return r;
	}
	*lenp = len;
	return 0;
}

/* The passphrase from the file COFFER_PASSPHRASE_FILE names. */
static int
from_file(const char *path, int purpose, unsigned attempt, char *buf,
    size_t cap, size_t *lenp)
{
	char *pass = NULL;
	size_t len = 0;
	int r;

	/* A file gives one passphrase: there is nothing else to try. */
	if (purpose == COFFER_PASS_UNLOCK && attempt > 0)
		return note(COFFER_EBADKEY, "wrong passphrase in %s (the file "
		    "COFFER_PASSPHRASE_FILE names)", path);
	if ((r = coffer_passphrase_read_file(path, &pass, &len)) != 0) {
		switch (r) {
		case COFFER_ENOENT:
			note(r, "the passphrase file %s (COFFER_PASSPHRASE_FILE) "
			    "does not exist", path);
			break;
		case COFFER_ETOOBIG:
			note(r, "the passphrase in %s (COFFER_PASSPHRASE_FILE) is "
			    "too long", path);
			break;
		case COFFER_EINVAL:
			note(r, "the passphrase file %s (COFFER_PASSPHRASE_FILE) "
			    "is empty", path);
			break;
		default:
			note(r, "cannot read the passphrase file %s "
			    "(COFFER_PASSPHRASE_FILE)", path);
			break;
		}
		return r;
	}
	if (len > cap) {
		coffer_passphrase_free(pass, len);
		return COFFER_ETOOBIG;
	}
	memcpy(buf, pass, len);
	*lenp = len;
	coffer_passphrase_free(pass, len);
	return 0;
}

/* Map a cli_read_secret failure to the library's codes, noting why. */
static int
typed_fail(int r)
{
	switch (r) {
	case CLI_SECRET_LONG:
		return note(COFFER_ETOOBIG, "%s", "the passphrase typed is too "
		    "long");
	case CLI_SECRET_SIGNAL:
		return note(COFFER_EINVAL, "%s", "interrupted while reading the "
		    "passphrase");
	default:
		return note(COFFER_EINVAL, "%s", "no passphrase was typed (end "
		    "of input)");
	}
}

/* Unlock: one passphrase, typed. */
static int
typed_unlock(int tty, unsigned attempt, char *buf, size_t cap, size_t *lenp)
{
	int r;

	if (attempt > 0)
		say(tty, "Wrong passphrase; try again.\n");
	ps.asked = attempt + 1;
	/* Nothing typed (length 0) is one more wrong passphrase. */
	if ((r = cli_read_secret(tty, tty, "Passphrase for this device's key: ",
	    buf, cap, lenp)) != 0)
		return typed_fail(r);
	return 0;
}

/* New: typed twice, the same both times; empty for none. */
static int
typed_new(int tty, char *buf, size_t cap, size_t *lenp)
{
	char *again;
	size_t alen = 0;
	int round, r = 0;

	if ((again = sodium_malloc(cap + 1)) == NULL)
		return COFFER_ENOMEM;
	for (round = 0; round < NEW_ROUNDS; round++) {
		if ((r = cli_read_secret(tty, tty, "Passphrase to protect this "
		    "device's key (empty for none): ", buf, cap, lenp)) != 0) {
			r = typed_fail(r);
			goto out;
		}
		if (*lenp == 0)
			break;
		if ((r = cli_read_secret(tty, tty, "The same passphrase again: ",
		    again, cap, &alen)) != 0) {
			r = typed_fail(r);
			goto out;
		}
		if (alen == *lenp && sodium_memcmp(buf, again, alen) == 0)
			break;
		sodium_memzero(buf, cap);
		sodium_memzero(again, cap + 1);
		*lenp = 0;
		say(tty, "The two passphrases differ; try again.\n");
	}
	if (round == NEW_ROUNDS) {
		r = note(COFFER_EINVAL, "%s", "the passphrases typed did not "
		    "match; nothing was created");
		goto out;
	}
	if (*lenp > 0 && *lenp <= COFFER_PASSPHRASE_MAX && chosen == NULL &&
	    (chosen = sodium_malloc(COFFER_PASSPHRASE_MAX)) != NULL) {
		memcpy(chosen, buf, *lenp);
		chosenlen = *lenp;
	}
	if (*lenp == 0)
		fprintf(stderr, "%s: no passphrase: this device's key is stored "
		    "unprotected (anyone who can read its key file can use "
		    "it)\n", ps.cli->prog);
out:
	sodium_memzero(again, cap + 1);
	sodium_free(again);
	return r;
}

/* The library's callback (crypto/keys.h). */
static int
ask(void *ctx, int purpose, unsigned attempt, char *buf, size_t cap,
    size_t *lenp)
{
	const char *path;
	int tty, r;

	(void)ctx;
	*lenp = 0;
	if ((path = getenv(PASSPHRASE_ENV)) != NULL)
		return from_file(path, purpose, attempt, buf, cap, lenp);
	/* A terminal only if stdin is one and /dev/tty opens. */
	if (!isatty(0) || (tty = open(TTY_PATH, O_RDWR | O_NOCTTY |
	    O_CLOEXEC)) == -1)
		return purpose == COFFER_PASS_UNLOCK ? note(COFFER_EBADKEY,
		    "this device's key is protected by a passphrase and none "
		    "could be asked for (no terminal): run the command on a "
		    "terminal, or set %s to a file holding the passphrase",
		    PASSPHRASE_ENV) : 0;
	if (purpose == COFFER_PASS_UNLOCK && attempt == 0 && chosen != NULL &&
	    chosenlen <= cap) {
		memcpy(buf, chosen, chosenlen);
		*lenp = chosenlen;
		forget_chosen();
		close(tty);
		return 0;
	}
	if (purpose == COFFER_PASS_UNLOCK)
		r = typed_unlock(tty, attempt, buf, cap, lenp);
	else
		r = typed_new(tty, buf, cap, lenp);
	close(tty);
	return r;
}

void
cli_passphrase_init(struct cli *cli)
{
	memset(&ps, 0, sizeof(ps));
	ps.cli = cli;
	coffer_ctx_set_passphrase(cli->ctx, ask, NULL);
	(void)atexit(forget_chosen);
}

int
cli_passphrase_report(struct cli *cli, int err)
{
	/* The library may have told it otherwise (a key that did not load). */
	if (ps.msg[0] != '\0') {
		cli_error(cli, ps.err, "%s", ps.msg);
		ps.msg[0] = '\0';
		return cli_exit_status(ps.err);
	}
	if (err == COFFER_EBADKEY && ps.asked > 0) {
		cli_error(cli, err, "wrong passphrase for this device's key "
		    "(asked %u times)", ps.asked);
		ps.asked = 0;
		return cli_exit_status(err);
	}
	return 0;
}
