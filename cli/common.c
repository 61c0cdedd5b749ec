/*
 * Helpers shared by the commands: errors with advice, the session,
 * JSON output, names, numbers, progress.
 */
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "coffer/coffer.h"
#include "cli.h"

#define B64_MAX		1024
#define SRV_TEXT_MAX	(4 * COFFER_SERVER_MSG_MAX)	/* escaped */
#define PATH_TEXT_MAX	1024			/* escaped, cut */
#define SUGGEST_MAX	3		/* edits a suggested drive name is off */

/* ---- untrusted text on a terminal ---- */

/*
 * The length of the UTF-8 sequence at ${p} (${n} bytes left) and its
 * code point, or 0 if it is not valid UTF-8 (overlong, surrogate, past
 * U+10FFFF, cut).
 */
static size_t
utf8_seq(const uint8_t *p, size_t n, uint32_t *cpp)
{
	size_t k, j;
	uint32_t cp;

	if (p[0] < 0x80) {
		*cpp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		k = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		k = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		k = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (j = 1; j < k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[j] & 0x3f);
	}
	if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) ||
	    (k == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cpp = cp;
	return k;
}

/* 1 for a code point a terminal acts on or that reorders the line. */
static int
cp_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == '\\' || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The next piece of ${p} at ${*ip} as shown: the bytes as they are, or
 * \xNN for each; into ${piece} (room for 4 * 4 bytes); its length.
 */
static size_t
safe_piece(const uint8_t *p, size_t n, size_t *ip, char *piece)
{
	static const char hx[] = "0123456789abcdef";
	uint32_t cp = 0;
	size_t k, j, o = 0;

	if ((k = utf8_seq(p + *ip, n - *ip, &cp)) != 0 && !cp_unsafe(cp)) {
		memcpy(piece, p + *ip, k);
		*ip += k;
		return k;
	}
	if (k == 0)
		k = 1;
	for (j = 0; j < k; j++) {
		piece[o++] = '\\';
		piece[o++] = 'x';
		piece[o++] = hx[p[*ip + j] >> 4];
		piece[o++] = hx[p[*ip + j] & 0xf];
	}
	*ip += k;
	return o;
}

size_t
cli_safe_text(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	char piece[16];
	size_t i = 0, o = 0, need = 0, k, room;

	if (outlen == 0)
		return 0;
	while (i < n)
		need += safe_piece(p, n, &i, piece);
	/* All of it if it fits, else what fits before "...". */
	room = need < outlen ? outlen - 1 : (outlen > 4 ? outlen - 4 : 0);
	for (i = 0; i < n; o += k) {
		k = safe_piece(p, n, &i, piece);
		if (o + k > room)
			break;
		memcpy(out + o, piece, k);
	}
	if (need >= outlen && outlen > 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}

void
cli_safe_print(FILE *f, const uint8_t *p, size_t n)
{
	char piece[16];
	size_t i = 0, k;

	while (i < n) {
		k = safe_piece(p, n, &i, piece);
		fwrite(piece, 1, k, f);
	}
}

void
cli_warn(void *ctx, const char *msg, const uint8_t *path, size_t len)
{
	struct cli *cli = ctx;

	cli_progress_end(cli);
	fprintf(stderr, "%s: ", cli->prog);
	if (path != NULL) {
		cli_safe_print(stderr, path, len);
		fprintf(stderr, ": ");
	}
	fprintf(stderr, "%s\n", msg);
}

/* ---- errors ---- */

int
cli_usage_error(struct cli *cli, const char *cmd, const char *fmt, ...)
{
	char msg[512], safe[4 * sizeof(msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:i}", "error", msg, "status", 2);

		if (o == NULL) {	/* not UTF-8: escaped */
			cli_safe_text(safe, sizeof(safe), (const uint8_t *)msg,
			    strlen(msg));
			o = json_pack("{s:s, s:i}", "error", safe, "status", 2);
		}
		cli_json(o);
	} else {
		fprintf(stderr, "%s: %s\n", cli->prog, msg);
	}
	cli_usage(cli, cmd);
	return 2;
}

/*
 * The server URL and account name of this device (for a command to
 * suggest), or "URL" and "NAME" if its account file cannot be read.
 */
static void
account_hint(struct cli *cli, struct coffer_session *s, char *url, size_t ul,
    char *name, size_t nl)
{
	struct coffer_account_info a;

	snprintf(url, ul, "URL");
	snprintf(name, nl, "NAME");
	if (s != NULL)
		coffer_session_account(s, &a);
	else if (coffer_account_read(cli->ctx, &a) != 0)
		return;
	snprintf(url, ul, "%s", a.server);
	snprintf(name, nl, "%s", a.name);
}

/*
 * This device was removed (${how}: who says so): it can no longer read or
 * write the account; how to use it again.
 */
static void
say_removed(struct cli *cli, struct coffer_session *s, const char *what,
    const char *how)
{
	char url[COFFER_URL_MAX + 1], name[COFFER_ACCOUNT_NAME_MAX + 1];

	account_hint(cli, s, url, sizeof(url), name, sizeof(name));
	cli_error(cli, COFFER_EDENIED, "%s: %s: it can no longer read or "
	    "write the account.  To use it again, join it again from a new "
	    "folder: COFFER_HOME=NEWDIR coffer device join --server %s %s, "
	    "and approve it on a trusted device", what, how, url, name);
}

/* The server refused: say why, from its stable code where it gave one. */
static void
fail_denied(struct cli *cli, struct coffer_session *s,
    const struct coffer_error_info *e, const char *what)
{
	const char *code = e->refusal_code, *raw = e->refusal_message;
	char srv[SRV_TEXT_MAX];
	long st = e->refusal_status;

	cli_safe_text(srv, sizeof(srv), (const uint8_t *)raw, strlen(raw));
	if (st == 507 && !strcmp(code, "quota")) {
		cli_error(cli, COFFER_EDENIED, "%s: the server says the "
		    "account's storage quota is full: nothing more can be "
		    "stored.  Ask the server's operator for a larger quota "
		    "(cofferd --quota BYTES)", what);
	} else if (st == 507 && !strcmp(code, "disk_full")) {
		cli_error(cli, COFFER_EDENIED, "%s: the server is out of disk "
		    "space (it says so): nothing was stored.  Try again once "
		    "the server's operator has freed space (cofferd's log "
		    "names the cause)", what);
	} else if (st == 403 && !strcmp(code, "device_removed")) {
		say_removed(cli, s, what, "the server says this device was "
		    "removed from the account (its other devices show by whom)");
	} else {
		cli_error(cli, COFFER_EDENIED, "%s: the server refused the "
		    "request%s%s%s", what, srv[0] ? " (the server says: " : "",
		    srv, srv[0] ? ")" : "");
	}
}

/* A local file could not be read or written: which, and why. */
static int
fail_local(struct cli *cli, const struct coffer_error_info *le, int err,
    const char *what)
{
	char path[PATH_TEXT_MAX];

	if (le->local_errnum == 0)
		return 0;
	cli_safe_text(path, sizeof(path), le->local_path, le->local_pathlen);
	cli_error(cli, err, "%s: cannot %s %s: %s%s", what, le->local_op, path,
	    strerror(le->local_errnum), le->local_errnum == ENOSPC ||
	    le->local_errnum == EDQUOT ?
	    " (free some space there and run the command again)" : "");
	return 1;
}

int
cli_fail(struct cli *cli, struct coffer_session *s, int err, const char *what)
{
	struct coffer_error_info e;
	struct coffer_account_info a;
	char srv[SRV_TEXT_MAX];
	int st;

	if ((st = cli_passphrase_report(cli, err)) != 0)
		return st;
	coffer_session_error(s, &e);
	if (s != NULL)
		coffer_session_account(s, &a);
	cli_safe_text(srv, sizeof(srv), (const uint8_t *)e.message,
	    strlen(e.message));
	if (err == COFFER_EINVAL && !cli->home_ok) {
		cli_error(cli, err, "%s: no folder for this device's "
		    "files: set HOME or COFFER_HOME (to a folder path "
		    "shorter than %d bytes)", what, COFFER_PATH_MAX - 64);
		return cli_exit_status(err);
	}
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
		    s != NULL ? a.server : "");
		break;
	case COFFER_EDENIED:
		fail_denied(cli, s, &e, what);
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
		if ((err == COFFER_EIO || err == COFFER_ENOENT) &&
		    fail_local(cli, &e, err, what))
			break;
		cli_error(cli, err, "%s: %s%s%s%s", what, coffer_strerror(err),
		    srv[0] ? " (the server says: " : "", srv, srv[0] ? ")" : "");
		break;
	}
	return cli_exit_status(err);
}

/*
 * Optimal string alignment distance of two names, at most
 * COFFER_DRIVE_NAME_MAX.
 */
static size_t
name_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, c, v;
	size_t *d, w = lb + 1, r;

	if (la > COFFER_DRIVE_NAME_MAX || lb > COFFER_DRIVE_NAME_MAX ||
	    (d = calloc((la + 1) * w, sizeof(*d))) == NULL)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i * w] = i;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			c = a[i - 1] == b[j - 1] ? 0 : 1;
			v = d[(i - 1) * w + j] + 1;
			if (d[i * w + j - 1] + 1 < v)
				v = d[i * w + j - 1] + 1;
			if (d[(i - 1) * w + j - 1] + c < v)
				v = d[(i - 1) * w + j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[(i - 2) * w + j - 2] + 1 < v)
				v = d[(i - 2) * w + j - 2] + 1;
			d[i * w + j] = v;
		}
	}
	r = d[la * w + lb];
	free(d);
	return r;
}

int
cli_no_drive(struct cli *cli, struct coffer_session *s, const char *name)
{
	char want[4 * COFFER_DRIVE_NAME_MAX + 4];
	char near[4 * COFFER_DRIVE_NAME_MAX + 4];
	struct coffer_drive_info *v = NULL;
	const struct coffer_drive_info *best = NULL;
	size_t i, d, bestd = SIZE_MAX, limit, nl = strlen(name), n = 0;

	if (s == NULL || coffer_drive_list(s, &v, &n) != 0)
		goto none;
	for (i = 0; i < n; i++) {
		if (v[i].namelen == nl && !memcmp(v[i].name, name, nl)) {
			coffer_free(v);
			return 0;	/* it exists */
		}
	}
	/* The closest name, if it is a few edits away (or differs in case). */
	limit = nl / 4 < 1 ? 1 : nl / 4 > SUGGEST_MAX ? SUGGEST_MAX : nl / 4;
	for (i = 0; i < n; i++) {
		if (v[i].namelen == 0)
			continue;
		d = name_distance(name, v[i].name);
		if (d > limit && !(v[i].namelen == nl &&
		    !strncasecmp(v[i].name, name, nl)))
			continue;
		if (d < bestd) {
			bestd = d;
			best = &v[i];
		}
	}
none:
	cli_safe_text(want, sizeof(want), (const uint8_t *)name, nl);
	if (best != NULL) {
		cli_safe_text(near, sizeof(near), (const uint8_t *)best->name,
		    best->namelen);
		cli_error(cli, COFFER_ENOENT, "there is no drive '%s' in this "
		    "account: did you mean '%s'? ('coffer drive list' shows "
		    "the drives)", want, near);
	} else {
		cli_error(cli, COFFER_ENOENT, "there is no drive '%s' in this "
		    "account ('coffer drive list' shows the drives; 'coffer "
		    "drive create %s' makes it)", want, want);
	}
	coffer_free(v);
	return 1;
}

static const char *
entry_kind(int t)
{
	switch (t) {
	case COFFER_ENTRY_GENESIS:	return "account created with device";
	case COFFER_ENTRY_ADD:		return "device added:";
	case COFFER_ENTRY_REMOVE:	return "device removed:";
	case COFFER_ENTRY_ROTATE:	return "account key rotated";
	case COFFER_ENTRY_SETRK:	return "recovery key replaced";
	default:		return "unknown change";
	}
}

/*
 * who(out, outlen, name, id, idchars, is_rk, me): a device as a person
 * reads it: its name (opened with the epoch keys; made safe by
 * cli_safe_text, since a name is another device's choice and goes to a
 * terminal) and the first ${idchars} hex digits of its id.
 */
void
cli_safe_name(char *out, const char *name)
{
	cli_safe_text(out, COFFER_DEVICE_NAME_MAX + 1, (const uint8_t *)name,
	    strnlen(name, COFFER_DEVICE_NAME_MAX));
}

static void
who(char *out, size_t outlen, const char *name, const uint8_t *id,
    size_t idchars, int is_rk, int me)
{
	char hex[2 * COFFER_ID_BYTES + 1], safe[COFFER_DEVICE_NAME_MAX + 1];

	cli_hex(hex, id, COFFER_ID_BYTES);
	if (idchars < 2 * COFFER_ID_BYTES)
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
cli_chain_change(struct cli *cli, const struct coffer_chain_change *ch)
{
	char by[COFFER_DEVICE_NAME_MAX + 2 * COFFER_ID_BYTES + 48];
	char subj[COFFER_DEVICE_NAME_MAX + 2 * COFFER_ID_BYTES + 48];
	char when[32];
	struct tm tm;
	time_t t;

	who(by, sizeof(by), ch->signer_name, ch->signer_id, 16,
	    ch->signer_is_rk, ch->signer_is_this_device);
	subj[0] = '\0';
	if (ch->has_subject)
		who(subj, sizeof(subj), ch->subject_name, ch->subject_id,
		    2 * COFFER_ID_BYTES, 0, ch->subject_is_this_device);
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
chain_changes(void *arg, const struct coffer_chain_change *ch, size_t n,
    uint64_t from, uint64_t last)
{
	struct cli *cli = arg;
	size_t i;

	cli_progress_end(cli);
	if (ch == NULL) {
		fprintf(stderr, "%s: the device chain changed (entries %llu to "
		    "%llu); run 'coffer device list'\n", cli->prog,
		    (unsigned long long)from, (unsigned long long)last);
		return;
	}
	fprintf(stderr, "%s: the account's device chain changed since this "
	    "device last looked:\n", cli->prog);
	for (i = 0; i < n; i++)
		cli_chain_change(cli, &ch[i]);
}

/*
 * Test knobs, never set outside tests; each only lowers a bound or adds a
 * pause.  COFFER_TEST_LINE_PAGE: commits a drive sync verifies at once
 * (a device further behind than a page without 65,537 versions);
 * COFFER_TEST_DELTA_CAP: ids one reference delta carries (a push split
 * without 262,144 files); COFFER_TEST_PUSH_READ_FIFO: a folder of FIFOs
 * push stops at after each read (tests/readhook.py changes the file).
 */
#define LINE_PAGE_ENV	"COFFER_TEST_LINE_PAGE"
#define DELTA_CAP_ENV	"COFFER_TEST_DELTA_CAP"
#define READ_HOOK_ENV	"COFFER_TEST_PUSH_READ_FIFO"

static uint64_t
test_knob(const char *name)
{
	uint64_t v;

	if (cli_parse_u64(getenv(name), &v) != 0)
		return 0;
	return v;
}

/*
 * The device's folders, by the rules the library used to apply itself
 * (docs/FORMAT.md §19): $COFFER_HOME and $COFFER_HOME/cache if it is set;
 * else $XDG_DATA_HOME/coffer (if absolute; else ~/.local/share/coffer)
 * and $XDG_CACHE_HOME/coffer (if absolute; else ~/.cache/coffer).
 * -1 if none gives a folder or a path is too long.
 */
static int
home_dirs(char *data, char *cache, size_t cap)
{
	const char *home = getenv("COFFER_HOME"), *h = getenv("HOME");
	const char *x;
	int n;

	if (home != NULL && home[0] != '\0') {
		n = snprintf(data, cap, "%s", home);
		if (n < 0 || (size_t)n >= cap)
			return -1;
		n = snprintf(cache, cap, "%s/cache", home);
		return n < 0 || (size_t)n >= cap ? -1 : 0;
	}
	if ((x = getenv("XDG_DATA_HOME")) != NULL && x[0] == '/')
		n = snprintf(data, cap, "%s/coffer", x);
	else if (h != NULL && h[0] != '\0')
		n = snprintf(data, cap, "%s/.local/share/coffer", h);
	else
		return -1;
	if (n < 0 || (size_t)n >= cap)
		return -1;
	if ((x = getenv("XDG_CACHE_HOME")) != NULL && x[0] == '/')
		n = snprintf(cache, cap, "%s/coffer", x);
	else if (h != NULL && h[0] != '\0')
		n = snprintf(cache, cap, "%s/.cache/coffer", h);
	else
		return -1;
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
cli_ctx_init(struct cli *cli)
{
	char data[COFFER_PATH_MAX], cache[COFFER_PATH_MAX];

	if (coffer_ctx_new(&cli->ctx) != 0)
		return -1;
	cli->home_ok = home_dirs(data, cache, sizeof(data)) == 0 &&
	    coffer_ctx_set_dirs(cli->ctx, data, cache) == 0;
	if (cli->tty)
		coffer_ctx_set_progress(cli->ctx, cli_progress, cli);
	coffer_ctx_set_warn(cli->ctx, cli_warn, cli);
	coffer_ctx_set_notice(cli->ctx, chain_changes, cli);
	coffer_ctx_set_test_knobs(cli->ctx, test_knob(LINE_PAGE_ENV),
	    test_knob(DELTA_CAP_ENV), getenv(READ_HOOK_ENV));
	return 0;
}

int
cli_session(struct cli *cli, struct coffer_session **sp)
{
	struct coffer_open_info o;
	int r, st;

	if ((r = coffer_session_open(cli->ctx, sp, &o)) == 0) {
		if (o.key_loose)
			fprintf(stderr, "%s: warning: the device key file is "
			    "readable by others; run chmod 600 on it\n",
			    cli->prog);
		return 0;
	}
	if ((st = cli_passphrase_report(cli, r)) != 0)
		return st;
	if (o.account_gone) {
		/* This device verified the account there: not a new device. */
		cli_error(cli, r, "the server no longer shows this device's "
		    "account: it answered that there is no such account, yet "
		    "this device has verified and pinned the account's device "
		    "chain.  The server was rolled back, replaced or is hiding "
		    "the account; nothing on this device was changed.  Do not "
		    "create the account again; check the server (its URL and "
		    "data) and compare safety codes with your other devices");
		return cli_exit_status(r);
	}
	if (o.removed) {
		say_removed(cli, NULL, "cannot open this device's account",
		    "the account's verified device chain removed this device "
		    "(the change is listed above)");
		return cli_exit_status(r);
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
		    "'coffer recover'", (unsigned)COFFER_DIR_CATCHUP_MAX,
		    (unsigned)COFFER_DIR_CATCHUP_MIB);
		return cli_exit_status(r);
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

int
cli_drive_dir_arg(struct cli *cli, const char *cmd, const char *arg,
    const char **drivep, const char **dirp)
{
	if (arg[0] == '-')
		return cli_usage_error(cli, cmd, "unknown option '%s'", arg);
	if (*drivep == NULL)
		*drivep = arg;
	else if (*dirp == NULL)
		*dirp = arg;
	else
		return cli_usage_error(cli, cmd, "too many arguments");
	return 0;
}

int
cli_drive_dir_given(struct cli *cli, const char *cmd, const char *drive,
    const char *dir)
{
	if (drive == NULL || dir == NULL || dir[0] == '\0')
		return cli_usage_error(cli, cmd, "%s needs DRIVE and DIR", cmd);
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

int
cli_exit_status(int err)
{
	switch (err) {
	case COFFER_OK:
		return 0;
	case COFFER_ENOTAUTHENTIC:
		return 3;
	case COFFER_EDENIED:
	case COFFER_EUNREACHABLE:
		return 4;
	case COFFER_EBADKEY:
		return 5;
	default:
		return 1;
	}
}
