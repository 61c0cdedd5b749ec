/*
 * Helpers shared by the commands: errors with advice, the session,
 * JSON output, names, numbers, progress.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "coffer/coffer.h"
#include "client/device.h"
#include "client/session.h"
#include "cli.h"

#define B64_MAX		1024

int
cli_usage_error(struct cli *cli, const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:i}", "error", msg, "status", 2);
		cli_json(o);
	} else {
		fprintf(stderr, "%s: %s\n", cli->prog, msg);
	}
	cli_usage(cli, cmd);
	return 2;
}

int
cli_fail(struct cli *cli, struct cf_session *s, int err, const char *what)
{
	const char *srv = "";
	long st = 0;

	if (s != NULL && s->net != NULL)
		srv = cf_client_error(s->net, &st);
	switch (err) {
	case COFFER_ENOTAUTHENTIC:
		cli_error(cli, err, "%s: the server sent something that is not "
		    "authentic (tampered, malformed, stale or forked); nothing "
		    "unverified was used or written.  Do not trust this server's "
		    "answers; compare safety codes ('coffer status') with your "
		    "other devices", what);
		break;
	case COFFER_EUNREACHABLE:
		cli_error(cli, err, "%s: cannot reach the server%s%s: is cofferd "
		    "running and the URL right?", what, s != NULL ? " at " : "",
		    s != NULL ? s->acct.server : "");
		break;
	case COFFER_EDENIED:
		cli_error(cli, err, "%s: the server refused the request%s%s%s",
		    what, srv[0] ? " (" : "", srv, srv[0] ? ")" : "");
		break;
	case COFFER_EBADKEY:
		cli_error(cli, err, "%s: wrong passphrase or key (set "
		    "COFFER_PASSPHRASE_FILE to the file holding the passphrase)",
		    what);
		break;
	case COFFER_EFORMAT:
		cli_error(cli, err, "%s: a file of this device is damaged "
		    "(under $COFFER_HOME or ~/.local/share/coffer)", what);
		break;
	default:
		cli_error(cli, err, "%s: %s%s%s%s", what, coffer_strerror(err),
		    srv[0] ? " (server: " : "", srv, srv[0] ? ")" : "");
		break;
	}
	return coffer_exit_status(err);
}

static const char *
entry_kind(uint8_t t)
{
	switch (t) {
	case CF_ENTRY_GENESIS:	return "account created with device";
	case CF_ENTRY_ADD:	return "device added:";
	case CF_ENTRY_REMOVE:	return "device removed:";
	case CF_ENTRY_ROTATE:	return "account key rotated";
	case CF_ENTRY_SETRK:	return "recovery key replaced";
	default:		return "unknown change";
	}
}

/*
 * who(out, outlen, name, id, idchars, is_rk, me): a device as a person
 * reads it: its name (opened with the epoch keys; control characters
 * shown as '?', since a name is another device's choice and goes to a
 * terminal) and the first ${idchars} hex digits of its id.
 */
void
cli_safe_name(char *out, const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i < CF_DEVICE_NAME_MAX; i++)
		out[i] = (unsigned char)name[i] < 0x20 ||
		    (unsigned char)name[i] == 0x7f ? '?' : name[i];
	out[i] = '\0';
}

static void
who(char *out, size_t outlen, const char *name, const uint8_t *id,
    size_t idchars, int is_rk, int me)
{
	char hex[2 * CF_ID_BYTES + 1], safe[CF_DEVICE_NAME_MAX + 1];

	cli_hex(hex, id, CF_ID_BYTES);
	if (idchars < 2 * CF_ID_BYTES)
		hex[idchars] = '\0';
	cli_safe_name(safe, name);
	if (is_rk)
		snprintf(out, outlen, "the recovery key (%s)", hex);
	else if (safe[0] != '\0')
		snprintf(out, outlen, "'%s' (%s)%s", safe, hex,
		    me ? " (this device)" : "");
	else
		snprintf(out, outlen, "device %s%s", hex,
		    me ? " (this device)" : "");
}

void
cli_chain_change(struct cli *cli, const struct cf_chain_change *ch,
    const uint8_t *me)
{
	char by[CF_DEVICE_NAME_MAX + 2 * CF_ID_BYTES + 48];
	char subj[CF_DEVICE_NAME_MAX + 2 * CF_ID_BYTES + 48];
	char when[32];
	struct tm tm;
	time_t t;

	who(by, sizeof(by), ch->signer_name, ch->signer_id, 16,
	    ch->signer_is_rk, me != NULL &&
	    sodium_memcmp(ch->signer_id, me, CF_ID_BYTES) == 0);
	subj[0] = '\0';
	if (ch->has_subject)
		who(subj, sizeof(subj), ch->subject_name, ch->subject_id,
		    2 * CF_ID_BYTES, 0, me != NULL &&
		    sodium_memcmp(ch->subject_id, me, CF_ID_BYTES) == 0);
	t = (time_t)ch->time;
	if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when),
	    "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(when, sizeof(when), "%llu",
		    (unsigned long long)ch->time);
	fprintf(stderr, "%s:   device chain entry %llu: %s %s%sby %s, "
	    "%s (epoch %llu)\n", cli->prog, (unsigned long long)ch->seq,
	    entry_kind(ch->type), subj, subj[0] ? ", " : "", by, when,
	    (unsigned long long)ch->epoch);
}

/*
 * Every chain entry verified since this device last reported (DESIGN
 * §5): what it did, to which device (name and full id: what 'device
 * remove' takes), by whom, when and in which epoch.  Called by the
 * session as soon as the chain verifies, before anything else can fail,
 * so that no failure later hides a change for good.  The names open with
 * the session's epoch keys; a name that does not open is left out.
 */
static void
chain_changes(void *ctx, const struct cf_session *s, uint64_t from)
{
	struct cli *cli = ctx;
	struct cf_chain_change *ch = NULL;
	size_t n = 0, i;

	if (from >= s->chain->n)
		return;
	cli_progress_end(cli);
	if (cf_chain_changes(s->chain, (const uint8_t (*)[CF_KEY_BYTES])s->ks,
	    s->ks != NULL ? s->nks : 0, from, &ch, &n) != 0) {
		fprintf(stderr, "%s: the device chain changed (entries %llu to "
		    "%llu); run 'coffer device list'\n", cli->prog,
		    (unsigned long long)from,
		    (unsigned long long)(s->chain->n - 1));
		return;
	}
	fprintf(stderr, "%s: the account's device chain changed since this "
	    "device last looked:\n", cli->prog);
	for (i = 0; i < n; i++)
		cli_chain_change(cli, &ch[i], s->keys->device_id);
	free(ch);
}

/*
 * COFFER_TEST_LINE_PAGE lowers the number of commits a drive sync
 * verifies at once (never raises it): tests take a device further behind
 * than a page without making 65,537 versions.
 */
#define LINE_PAGE_ENV	"COFFER_TEST_LINE_PAGE"

static uint64_t
line_page(void)
{
	uint64_t v;

	if (cli_parse_u64(getenv(LINE_PAGE_ENV), &v) != 0 || v == 0)
		return 0;
	return v;
}

int
cli_session(struct cli *cli, struct cf_session **sp)
{
	struct cf_session_open_opts o;
	int r;

	memset(&o, 0, sizeof(o));
	o.report = chain_changes;
	o.ctx = cli;
	if ((r = cf_session_open_with(sp, &o)) == 0) {
		if (cli->tty) {
			(*sp)->progress = cli_progress;
			(*sp)->progress_ctx = cli;
		}
		(*sp)->line_page = line_page();
		if ((*sp)->key_loose)
			fprintf(stderr, "%s: warning: the device key file is "
			    "readable by others; run chmod 600 on it\n",
			    cli->prog);
		return 0;
	}
	if (o.account_gone) {
		/* This device verified the account there: not a new device. */
		cli_error(cli, r, "the server no longer shows this device's "
		    "account: it answered that there is no such account, yet "
		    "this device has verified and pinned the account's device "
		    "chain.  The server was rolled back, replaced or is hiding "
		    "the account; nothing on this device was changed.  Do not "
		    "create the account again; check the server (its URL and "
		    "data) and compare safety codes with your other devices");
		return coffer_exit_status(r);
	}
	if (r == COFFER_ENOENT) {
		cli_error(cli, r, "this device has no account yet: run 'coffer "
		    "account create --server URL NAME' first");
		return 1;
	}
	if (r == COFFER_ETOOBIG) {
		cli_error(cli, r, "this device is too far behind: the drive "
		    "directory moved on by more versions than it can check "
		    "(%u, or %u MiB of records) since this device last saw it; "
		    "join this device again ('coffer device join') or use "
		    "'coffer recover'", (unsigned)CF_DIR_CATCHUP_MAX,
		    (unsigned)(CF_SESSION_DIR_CATCHUP_BYTES >> 20));
		return coffer_exit_status(r);
	}
	return cli_fail(cli, *sp, r, "cannot open this device's account");
}

void
cli_json(json_t *o)
{
	char *s;

	if (o == NULL)
		return;
	if ((s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII)) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	fflush(stdout);
	json_decref(o);
}

void
cli_hex(char *out, const uint8_t *p, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, p, n);
}

/* 1 if ${p} is valid UTF-8 without NUL or control characters. */
static int
utf8_ok(const uint8_t *p, size_t n)
{
	size_t i = 0, k, j;
	uint32_t cp;

	while (i < n) {
		uint8_t c = p[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
		    (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

void
cli_json_name(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char b64[B64_MAX * 2];
	char k64[64];

	if (utf8_ok(p, n)) {
		json_object_set_new(o, key, json_stringn((const char *)p, n));
		return;
	}
	if (n > B64_MAX)
		n = B64_MAX;
	sodium_bin2base64(b64, sizeof(b64), p, n,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(k64, sizeof(k64), "%s_b64", key);
	json_object_set_new(o, k64, json_string(b64));
}

int
cli_parse_u64(const char *s, uint64_t *vp)
{
	unsigned long long v;
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*vp = (uint64_t)v;
	return 0;
}

static double
mono_now(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
		return 0;
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * "what: done[/total] [pct] rate [ETA]"; a ${what} ending in "bytes" is
 * shown in MiB.  Only when stderr is a terminal.
 */
void
cli_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	struct cli *cli = ctx;
	double now, el, rate;
	int bytes;
	size_t wl = strlen(what);

	if (!cli->tty)
		return;
	now = mono_now();
	if (!cli->progress_shown || strcmp(cli->progress_what, what) != 0) {
		cli->progress_start = now;
		snprintf(cli->progress_what, sizeof(cli->progress_what), "%s",
		    what);
	}
	cli->progress_shown = 1;
	el = now - cli->progress_start;
	rate = el > 0.2 ? (double)done / el : 0;
	bytes = wl >= 5 && !strcmp(what + wl - 5, "bytes");
	if (bytes)
		fprintf(stderr, "\r\033[K%s: %.1f MiB", what,
		    (double)done / 1048576.0);
	else
		fprintf(stderr, "\r\033[K%s: %llu", what,
		    (unsigned long long)done);
	if (total > 0 && done <= total)
		fprintf(stderr, " of %llu (%u%%)", (unsigned long long)total,
		    (unsigned)(done * 100 / total));
	if (rate > 0)
		fprintf(stderr, bytes ? ", %.1f MiB/s" : ", %.0f/s",
		    bytes ? rate / 1048576.0 : rate);
	if (rate > 0 && total > done)
		fprintf(stderr, ", about %.0f s left",
		    (double)(total - done) / rate);
	fflush(stderr);
}

void
cli_progress_end(struct cli *cli)
{
	if (cli->tty && cli->progress_shown)
		fprintf(stderr, "\r\033[K");
	cli->progress_shown = 0;
}
