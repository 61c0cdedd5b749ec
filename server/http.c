/*
 * cofferd's HTTP layer (libmicrohttpd): request bodies, routing,
 * authentication (docs/API.md §2) and the endpoints of docs/API.md §4.
 */
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "chain/chain.h"
#include "chain/pair.h"
#include "coffer/err.h"
#include "net/frame.h"
#include "net/reqsig.h"
#include "records.h"
#include "server.h"

#define RATE_SLOTS	64
#define RATE_WINDOW	60
#define METHOD_MAX	16
#define SEGS_MAX	8
#define QUERY_MAX	1024
#define HDR_TIME_DIGITS	20
#define INVITE_HEX	64
#define LOG_VALUE_MAX	256
#define KEY_HEX_LEN	(2 * (CF_SIGN_PK_BYTES + CF_BOX_PK_BYTES))
/* A store write failed with less than this (plus the request) free: disk full. */
#define DISK_LOW_BYTES	((uint64_t)1 << 20)

static const char ct_json[] = "application/json";
static const char ct_frame[] = "application/x-coffer-frame";

/* ---- logging ---- */

static void
sanitize(const char *in, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; in != NULL && in[i] != '\0' && o + 1 < outlen &&
	    i < LOG_VALUE_MAX; i++) {
		unsigned char c = (unsigned char)in[i];

		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}

void
srv_log(const char *event, ...)
{
	json_t *o;
	va_list ap;
	const char *k, *v;
	char buf[LOG_VALUE_MAX + 1], *line;

	if ((o = json_object()) == NULL)
		return;
	json_object_set_new(o, "t", json_integer((json_int_t)time(NULL)));
	json_object_set_new(o, "ev", json_string(event));
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		sanitize(v, buf, sizeof(buf));
		json_object_set_new(o, k, json_string(buf));
	}
	va_end(ap);
	if ((line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	json_decref(o);
}

/* ---- rate limiting of unauthenticated and self-signed requests ---- */

struct rate_slot {
	char addr[INET6_ADDRSTRLEN];
	uint64_t window;
	unsigned count;
};

struct rate {
	pthread_mutex_t lock;
	struct rate_slot slot[RATE_SLOTS];
};

/* 1 if the address may make another limited request now. */
static int
rate_ok(struct srv *s, const char *addr, uint64_t now)
{
	struct rate *r = s->rate;
	uint64_t w = now / RATE_WINDOW;
	size_t i, victim = 0;
	int ok = 1;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < RATE_SLOTS; i++) {
		if (strcmp(r->slot[i].addr, addr) == 0)
			break;
		if (r->slot[i].window < r->slot[victim].window)
			victim = i;
	}
	if (i == RATE_SLOTS) {
		i = victim;
		snprintf(r->slot[i].addr, sizeof(r->slot[i].addr), "%s", addr);
		r->slot[i].window = w;
		r->slot[i].count = 0;
	}
	if (r->slot[i].window != w) {
		r->slot[i].window = w;
		r->slot[i].count = 0;
	}
	if (r->slot[i].count >= s->cfg.rate)
		ok = 0;
	else
		r->slot[i].count++;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

/* ---- the request ---- */

struct rq {
	struct srv *s;
	struct MHD_Connection *c;
	char method[METHOD_MAX];
	char path[SRV_PATH_MAX];
	char addr[INET6_ADDRSTRLEN];
	uint8_t *body;
	size_t len, cap, max;
	/* BLAKE2b-256 of the body, hashed as it streams in (while the bytes
	 * are in cache and outside any lock); NULL: no body. */
	crypto_generichash_state *bhs;
	uint8_t bh[crypto_generichash_BYTES];
	int refused;			/* a response was queued early */
	struct timespec t0;
	/* the parsed path */
	char *seg[SEGS_MAX];
	size_t nseg;
	char segbuf[SRV_PATH_MAX];
	/* authentication headers */
	uint8_t acct[CF_ID_BYTES], dev[CF_ID_BYTES];
	uint8_t nonce[CF_REQ_NONCE_BYTES], sig[CF_SIG_BYTES];
	uint64_t time;
	char query[QUERY_MAX];
	const char *ctype, *keyhex, *invite;
	int has_key;
	uint8_t key_sign_pk[CF_SIGN_PK_BYTES], key_box_pk[CF_BOX_PK_BYTES];
	int rk_ok;			/* the recovery key may sign this one */
	long resv;			/* reserved from s->resp_bytes */
	uint64_t now;
	/* the response */
	unsigned status;
	uint8_t *resp;
	size_t resp_len;
	const char *resp_ct;
	int truncated;
};

static uint64_t
now_s(void)
{
	return (uint64_t)time(NULL);
}

/* Set a JSON response, taking ${o}. */
static void
reply_json(struct rq *q, unsigned status, json_t *o)
{
	char *txt;

	free(q->resp);
	q->resp = NULL;
	q->resp_len = 0;
	q->status = status;
	q->resp_ct = ct_json;
	if (o == NULL || (txt = json_dumps(o, JSON_COMPACT)) == NULL) {
		q->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		json_decref(o);
		return;
	}
	json_decref(o);
	q->resp = (uint8_t *)txt;
	q->resp_len = strlen(txt);
}

static void
fail(struct rq *q, unsigned status, const char *msg)
{
	reply_json(q, status, json_pack("{s:s}", "error", msg));
}

/*
 * A refusal the client tells apart by its stable ${code} (docs/API.md §1:
 * "quota", "disk_full", "device_removed").
 */
static void
fail_code(struct rq *q, unsigned status, const char *msg, const char *code)
{
	reply_json(q, status, json_pack("{s:s, s:s}", "error", msg, "code",
	    code));
}

/* 507: the account's quota would be exceeded (logged). */
static void
fail_quota(struct rq *q, uint64_t used, uint64_t add)
{
	char acct[2 * CF_ID_BYTES + 1], u[24], a[24], l[24];

	sodium_bin2hex(acct, sizeof(acct), q->acct, CF_ID_BYTES);
	snprintf(u, sizeof(u), "%" PRIu64, used);
	snprintf(a, sizeof(a), "%" PRIu64, add);
	snprintf(l, sizeof(l), "%" PRIu64, q->s->cfg.quota);
	srv_log("quota_full", "account", acct, "used", u, "adding", a,
	    "quota", l, (const char *)NULL);
	fail_code(q, 507, "quota exceeded: the account's storage quota is full",
	    "quota");
}

/*
 * A store write or commit failed: log the cause (the errno of the call
 * that failed, the free space of the data folder's file system) and
 * answer 507 "disk_full" when the disk is full (ENOSPC, EDQUOT, or an
 * unexplained failure of a write with less than DISK_LOW_BYTES plus the
 * request free), 500 otherwise.  Nothing
 * was acknowledged either way.
 */
static void
fail_store(struct rq *q, const char *what)
{
	struct statvfs vfs;
	uint64_t avail = UINT64_MAX;
	char free_b[24], en[16];
	const char *ename;
	int e = errno, full;

	if (statvfs(q->s->cfg.data, &vfs) == 0)
		avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
	/*
	 * A low disk explains only a failed write whose cause the store did
	 * not say (SQLite's errors come with no errno, or EIO); a failed read
	 * or another errno on a nearly full disk is not "disk full".
	 */
	full = e == ENOSPC || e == EDQUOT ||
	    (strcmp(q->method, "GET") != 0 && (e == 0 || e == EIO) &&
	    avail < DISK_LOW_BYTES + (uint64_t)q->len);
	ename = e == 0 ? "none" : e == ENOSPC ? "ENOSPC" : e == EDQUOT ?
	    "EDQUOT" : e == EIO ? "EIO" : NULL;
	if (ename == NULL) {
		snprintf(en, sizeof(en), "%d", e);
		ename = en;
	}
	if (avail == UINT64_MAX)
		snprintf(free_b, sizeof(free_b), "unknown");
	else
		snprintf(free_b, sizeof(free_b), "%" PRIu64, avail);
	srv_log(full ? "disk_full" : "storage_error", "what", what,
	    "errno", ename, "strerror", e != 0 ? strerror(e) : "",
	    "free_bytes", free_b,
	    "data", q->s->cfg.data, "method", q->method, "path", q->path,
	    (const char *)NULL);
	if (full)
		fail_code(q, 507, "the server is out of disk space; nothing "
		    "was stored", "disk_full");
	else
		fail(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "storage error");
}

/* Map a store error to a response. */
static void
fail_rc(struct rq *q, int rc)
{
	switch (rc) {
	case COFFER_ENOMEM:
		fail(q, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
		break;
	case COFFER_EFORMAT:
		fail(q, MHD_HTTP_BAD_REQUEST, "malformed record");
		break;
	default:
		fail_store(q, "metadata store");
		break;
	}
}

/* ---- small parsers ---- */

static int
hex_exact(const char *s, uint8_t *out, size_t n)
{
	size_t got = 0;
	const char *end = NULL;
	int rc = -1;

	if (s != NULL && strlen(s) == 2 * n &&
	    sodium_hex2bin(out, n, s, 2 * n, NULL, &got, &end) == 0 &&
	    got == n && end != NULL && *end == '\0')
		rc = 0;
	return rc;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	size_t i, n;
	int rc = -1;

	if (s == NULL || (n = strlen(s)) == 0 || n > HDR_TIME_DIGITS ||
	    (n > 1 && s[0] == '0'))
		goto out;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			goto out;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	rc = 0;
out:
	return rc;
}

/* Nesting depth of a JSON text, ignoring brackets inside strings. */
static int
json_depth_ok(const uint8_t *p, size_t n)
{
	size_t i;
	int depth = 0, instr = 0, esc = 0, ok = 1;

	for (i = 0; i < n && ok; i++) {
		if (instr) {
			if (esc)
				esc = 0;
			else if (p[i] == '\\')
				esc = 1;
			else if (p[i] == '"')
				instr = 0;
		} else if (p[i] == '"') {
			instr = 1;
		} else if (p[i] == '{' || p[i] == '[') {
			if (++depth > SRV_JSON_DEPTH_MAX)
				ok = 0;
		} else if (p[i] == '}' || p[i] == ']') {
			depth--;
		}
	}
	return ok;
}

/* Parse the body as a JSON object; on failure a 400 is set. */
static json_t *
body_json(struct rq *q)
{
	json_t *o = NULL;
	json_error_t err;

	if (q->len == 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "a JSON body is required");
		goto out;
	}
	if (!json_depth_ok(q->body, q->len)) {
		fail(q, MHD_HTTP_BAD_REQUEST, "JSON nested too deeply");
		goto out;
	}
	o = json_loadb((const char *)q->body, q->len, JSON_REJECT_DUPLICATES,
	    &err);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		o = NULL;
		fail(q, MHD_HTTP_BAD_REQUEST, "malformed JSON");
	}
out:
	return o;
}

/* Decode a base64 string field (at most ${max} bytes) into malloc'd memory. */
static int
get_b64(json_t *o, const char *key, size_t max, uint8_t **pp, size_t *lenp)
{
	json_t *v = key != NULL ? json_object_get(o, key) : o;
	const char *s, *end = NULL;
	size_t sl, cap, got = 0;
	uint8_t *p = NULL;
	int rc = -1;

	*pp = NULL;
	*lenp = 0;
	if (v == NULL || !json_is_string(v))
		goto out;
	s = json_string_value(v);
	sl = json_string_length(v);
	if (sl == 0 || sl / 4 * 3 > max + 3)
		goto out;
	cap = sl / 4 * 3 + 3;
	if ((p = malloc(cap)) == NULL)
		goto out;
	if (sodium_base642bin(p, cap, s, sl, NULL, &got, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + sl ||
	    got == 0 || got > max)
		goto out;
	*pp = p;
	*lenp = got;
	p = NULL;
	rc = 0;
out:
	free(p);
	return rc;
}

static json_t *
b64_json(const uint8_t *p, size_t n)
{
	size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *s;
	json_t *v = NULL;

	if ((s = malloc(cap)) != NULL) {
		sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
		v = json_string(s);
		free(s);
	}
	return v;
}

static json_t *
hex_json(const uint8_t *p, size_t n)
{
	char s[2 * 64 + 1];
	json_t *v = NULL;

	if (n <= 64) {
		sodium_bin2hex(s, sizeof(s), p, n);
		v = json_string(s);
	}
	return v;
}

static int
get_u64(json_t *o, const char *key, uint64_t *v)
{
	json_t *x = json_object_get(o, key);
	int rc = -1;

	if (x != NULL && json_is_integer(x) && json_integer_value(x) >= 0) {
		*v = (uint64_t)json_integer_value(x);
		rc = 0;
	}
	return rc;
}

static int
get_hex(json_t *o, const char *key, uint8_t *out, size_t n)
{
	json_t *x = json_object_get(o, key);

	return (x != NULL && json_is_string(x)) ?
	    hex_exact(json_string_value(x), out, n) : -1;
}

/* ---- authentication ---- */

struct qargs {
	const char *k[CF_REQ_QUERY_PAIRS_MAX];
	const char *v[CF_REQ_QUERY_PAIRS_MAX];
	size_t n;
	int over;
};

static enum MHD_Result
qarg_cb(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct qargs *a = cls;
	enum MHD_Result ret = MHD_NO;

	(void)kind;
	if (a->n >= CF_REQ_QUERY_PAIRS_MAX) {
		a->over = 1;
	} else {
		a->k[a->n] = key;
		a->v[a->n] = value != NULL ? value : "";
		a->n++;
		ret = MHD_YES;
	}
	return ret;
}

static const char *
hdr(struct rq *q, const char *name)
{
	const char *v = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND,
	    name);

	/* An over-long value counts as absent. */
	return (v != NULL && strlen(v) > SRV_HEADER_MAX) ? NULL : v;
}

/* The query string canonicalised; 400 on anything else. */
static int
read_query(struct rq *q)
{
	struct qargs a;
	int rc = 0;

	memset(&a, 0, sizeof(a));
	MHD_get_connection_values(q->c, MHD_GET_ARGUMENT_KIND, qarg_cb, &a);
	if (a.over || cf_req_query_canon(a.k, a.v, a.n, q->query,
	    sizeof(q->query)) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "malformed query");
		rc = -1;
	}
	return rc;
}

/* A query parameter (already validated by read_query). */
static const char *
qparam(struct rq *q, const char *key)
{
	return MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, key);
}

/*
 * Read the signature headers (no store access).  On failure a 401/400
 * is set and -1 returned.
 */
static int
auth_headers(struct rq *q)
{
	const char *a, *d, *t, *n, *g, *k;
	uint8_t both[CF_SIGN_PK_BYTES + CF_BOX_PK_BYTES], id[CF_ID_BYTES];
	int rc = -1;

	a = hdr(q, "X-Coffer-Account");
	d = hdr(q, "X-Coffer-Device");
	t = hdr(q, "X-Coffer-Time");
	n = hdr(q, "X-Coffer-Nonce");
	g = hdr(q, "X-Coffer-Signature");
	if (a == NULL || d == NULL || t == NULL || n == NULL || g == NULL) {
		fail(q, MHD_HTTP_UNAUTHORIZED, "missing signature headers");
		goto out;
	}
	if (hex_exact(a, q->acct, CF_ID_BYTES) != 0 ||
	    hex_exact(d, q->dev, CF_ID_BYTES) != 0 ||
	    hex_exact(n, q->nonce, CF_REQ_NONCE_BYTES) != 0 ||
	    hex_exact(g, q->sig, CF_SIG_BYTES) != 0 ||
	    parse_u64(t, &q->time) != 0) {
		fail(q, MHD_HTTP_UNAUTHORIZED, "malformed signature headers");
		goto out;
	}
	if (!cf_req_time_ok(q->time, q->now)) {
		fail(q, MHD_HTTP_UNAUTHORIZED, "request time outside the allowed clock skew");
		goto out;
	}
	if (read_query(q) != 0)
		goto out;
	q->ctype = hdr(q, "Content-Type");
	if (q->ctype == NULL)
		q->ctype = "";
	q->invite = hdr(q, "X-Coffer-Invite");
	if (q->invite == NULL)
		q->invite = "";
	k = hdr(q, "X-Coffer-Key");
	q->keyhex = k != NULL ? k : "";
	if (k != NULL) {
		if (hex_exact(k, both, sizeof(both)) != 0) {
			fail(q, MHD_HTTP_UNAUTHORIZED, "malformed X-Coffer-Key");
			goto out;
		}
		memcpy(q->key_sign_pk, both, CF_SIGN_PK_BYTES);
		memcpy(q->key_box_pk, both + CF_SIGN_PK_BYTES, CF_BOX_PK_BYTES);
		cf_device_id(q->key_sign_pk, q->key_box_pk, id);
		if (memcmp(id, q->dev, CF_ID_BYTES) != 0) {
			fail(q, MHD_HTTP_UNAUTHORIZED,
			    "X-Coffer-Key does not match X-Coffer-Device");
			goto out;
		}
		q->has_key = 1;
	}
	rc = 0;
out:
	return rc;
}

/*
 * 1 if ${q} only reads (GET, or a batched get of objects): its nonce need
 * not survive a crash (docs/API.md §2).  objects/have is not one: it
 * protects the objects it names.
 */
static int
is_read(const struct rq *q)
{
	size_t n = q->nseg;

	return strcmp(q->method, "GET") == 0 ||
	    (strcmp(q->method, "POST") == 0 && n == 7 &&
	    strcmp(q->seg[5], "objects") == 0 && strcmp(q->seg[6], "get") == 0);
}

/*
 * Verify the signature with ${pk} for one of the origins this server
 * answers to, and use the nonce (inside the caller's transaction).
 */
static int
auth_verify(struct rq *q, const uint8_t pk[static CF_SIGN_PK_BYTES])
{
	struct cf_req r;
	const char *host = hdr(q, "Host"), *rb, *co;
	char origin[2 * SRV_ORIGIN_MAX], lhost[SRV_ORIGIN_MAX];
	static const char *const schemes[] = { "http://", "https://" };
	size_t i, j, nor = atomic_load_explicit(&q->s->norigins,
	    memory_order_acquire);
	int ok = 0, rc, hostport, ret = -1;

	if (host == NULL || strlen(host) >= sizeof(lhost)) {
		fail(q, MHD_HTTP_UNAUTHORIZED, "missing or bad Host header");
		goto out;
	}
	for (i = 0; host[i] != '\0'; i++)
		lhost[i] = (char)tolower((unsigned char)host[i]);
	lhost[i] = '\0';
	/* A Host without a port names the scheme's default port. */
	rb = strrchr(lhost, ']');
	co = strrchr(rb != NULL ? rb : lhost, ':');
	hostport = co != NULL;
	memset(&r, 0, sizeof(r));
	r.account_id = q->acct;
	r.device_id = q->dev;
	r.method = q->method;
	r.path = q->path;
	r.query = q->query;
	r.content_type = q->ctype;
	r.key_hex = q->keyhex;
	r.invite = q->invite;
	r.time = q->time;
	r.nonce = q->nonce;
	r.body = q->body;
	r.body_len = q->len;
	r.body_hash = q->bhs != NULL ? q->bh : NULL;
	for (i = 0; i < 2 && !ok; i++) {
		snprintf(origin, sizeof(origin), "%s%s%s", schemes[i], lhost,
		    hostport ? "" : (i == 0 ? ":80" : ":443"));
		for (j = 0; j < nor; j++)
			if (strcmp(origin, q->s->origins[j]) == 0)
				break;
		if (j == nor)
			continue;
		r.origin = origin;
		ok = cf_req_verify(&r, pk, q->sig) == 0;
	}
	if (!ok) {
		fail(q, MHD_HTTP_UNAUTHORIZED, "bad request signature");
		goto out;
	}
	/* Nonces of reads live in memory: docs/API.md §2. */
	if ((rc = (is_read(q) ? srv_meta_nonce_use_read :
	    srv_meta_nonce_use)(q->s->meta, q->dev, q->nonce, q->now)) != 0) {
		if (rc == COFFER_ECONFLICT)
			fail(q, MHD_HTTP_UNAUTHORIZED, "replayed request (nonce seen)");
		else
			fail_rc(q, rc);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* The usual case: a device active in the account (or its recovery key). */
/* 1 if the signer of ${q} is its account's current recovery key. */
static int
is_rk(struct rq *q)
{
	uint8_t rkid[CF_ID_BYTES], rkpk[CF_SIGN_PK_BYTES];

	return srv_meta_rk(q->s->meta, q->acct, rkid, rkpk) == 0 &&
	    memcmp(rkid, q->dev, CF_ID_BYTES) == 0;
}

/*
 * 1 if the signer of ${q} is a device removed from its account and the
 * request's signature is its own: only the device itself learns that it
 * was removed (anyone else gets "not active", as for an unknown device).
 */
static int
removed_signer(struct rq *q)
{
	uint8_t pk[CF_SIGN_PK_BYTES];
	int removed = 0;

	if (srv_meta_device(q->s->meta, q->acct, q->dev, pk, &removed) != 0 ||
	    !removed)
		return 0;
	return auth_verify(q, pk) == 0;
}

static int
auth_device(struct rq *q, const uint8_t *acct_in_path)
{
	uint8_t pk[CF_SIGN_PK_BYTES];
	int rc, ret = -1;

	if (memcmp(acct_in_path, q->acct, CF_ID_BYTES) != 0) {
		fail(q, MHD_HTTP_FORBIDDEN, "account in path differs from the signed account");
		goto out;
	}
	rc = srv_meta_signer(q->s->meta, q->acct, q->dev, pk);
	if (rc == COFFER_ENOENT)
		fail(q, MHD_HTTP_NOT_FOUND, "no such account");
	else if (rc == COFFER_EDENIED && removed_signer(q))
		fail_code(q, MHD_HTTP_FORBIDDEN, "this device was removed from "
		    "the account", "device_removed");
	else if (rc == COFFER_EDENIED)
		fail(q, MHD_HTTP_FORBIDDEN, "device not active in this account");
	else if (rc != 0)
		fail_rc(q, rc);
	else if (!q->rk_ok && is_rk(q))
		fail(q, MHD_HTTP_FORBIDDEN, "the recovery key may only read the chain and its envelopes and add a device");
	else
		ret = auth_verify(q, pk);
out:
	return ret;
}

/* ---- endpoints ---- */

static int chain_full_check(struct rq *, const uint8_t *, const uint8_t *,
    size_t);

static int
name_ok(const char *n)
{
	size_t i, l = strlen(n);
	int ok = l > 0 && l <= SRV_NAME_MAX;

	for (i = 0; ok && i < l; i++) {
		char c = n[i];

		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-';
	}
	return ok;
}

/* Store each base64 envelope of ${arr}; each signed by a known key. */
static int
store_envelopes(struct rq *q, json_t *arr, size_t max,
    const struct srv_entry *e)
{
	size_t i;
	json_t *v;
	uint8_t *buf = NULL, pk[CF_SIGN_PK_BYTES], rkid[CF_ID_BYTES];
	size_t len;
	struct srv_envelope env;
	int rc = 0, removed;

	if (arr == NULL)
		goto out;
	if (!json_is_array(arr) || json_array_size(arr) > max) {
		fail(q, MHD_HTTP_BAD_REQUEST, "envelopes must be an array (bounded)");
		rc = -1;
		goto out;
	}
	json_array_foreach(arr, i, v) {
		if (get_b64(v, NULL, SRV_ENVELOPE_MAX, &buf, &len) != 0 ||
		    srv_envelope_parse(buf, len, &env) != 0 ||
		    memcmp(env.account_id, q->acct, CF_ID_BYTES) != 0) {
			fail(q, MHD_HTTP_BAD_REQUEST, "malformed envelope");
			rc = -1;
			goto out;
		}
		if (e != NULL && memcmp(env.signer_id, e->signer_id,
		    CF_ID_BYTES) == 0 && e->type == SRV_ENTRY_GENESIS) {
			memcpy(pk, e->dev_sign_pk, CF_SIGN_PK_BYTES);
		} else if (srv_meta_rk(q->s->meta, q->acct, rkid, pk) == 0 &&
		    memcmp(rkid, env.signer_id, CF_ID_BYTES) == 0) {
			/* The recovery key signs the envelope of the device
			 * it adds (recover). */
		} else if ((rc = srv_meta_device(q->s->meta, q->acct,
		    env.signer_id, pk, &removed)) != 0 || removed) {
			fail(q, MHD_HTTP_BAD_REQUEST, "envelope signer is neither an active device nor the recovery key");
			rc = -1;
			goto out;
		}
		if (srv_envelope_verify(buf, len, pk) != 0) {
			fail(q, MHD_HTTP_BAD_REQUEST, "envelope signature does not verify");
			rc = -1;
			goto out;
		}
		if ((rc = srv_meta_envelope_put(q->s->meta, q->acct, &env, buf,
		    len)) != 0) {
			fail_rc(q, rc);
			rc = -1;
			goto out;
		}
		free(buf);
		buf = NULL;
	}
out:
	free(buf);
	return rc;
}

static void
ep_account_create(struct rq *q)
{
	json_t *o = NULL, *nm;
	uint8_t *g = NULL, ih[32];
	size_t glen;
	struct srv_entry e;
	const char *name;
	int rc, intx = 0;

	if (!rate_ok(q->s, q->addr, q->now)) {
		fail(q, MHD_HTTP_TOO_MANY_REQUESTS, "rate limit");
		goto out;
	}
	if (auth_headers(q) != 0 || (o = body_json(q)) == NULL)
		goto out;
	nm = json_object_get(o, "name");
	if (nm == NULL || !json_is_string(nm) ||
	    !name_ok(name = json_string_value(nm))) {
		fail(q, MHD_HTTP_BAD_REQUEST, "bad account name (1-64 of a-z 0-9 . _ -)");
		goto out;
	}
	if (get_b64(o, "genesis", SRV_ENTRY_MAX, &g, &glen) != 0 ||
	    srv_entry_parse(g, glen, &e) != 0 ||
	    e.type != SRV_ENTRY_GENESIS) {
		fail(q, MHD_HTTP_BAD_REQUEST, "malformed or invalid genesis entry");
		goto out;
	}
	if (!q->has_key || memcmp(e.account_id, q->acct, CF_ID_BYTES) != 0 ||
	    memcmp(e.dev_id, q->dev, CF_ID_BYTES) != 0) {
		fail(q, MHD_HTTP_UNAUTHORIZED, "account creation must be self-signed by the genesis device");
		goto out;
	}
	if (chain_full_check(q, NULL, g, glen) != 0)
		goto out;
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 1;
	if (auth_verify(q, e.dev_sign_pk) != 0)
		goto out;
	if (q->s->loopback_only == 0 || q->s->cfg.invite_only) {
		if (q->invite[0] == '\0') {
			fail(q, MHD_HTTP_FORBIDDEN, "an invite token is required");
			goto out;
		}
		crypto_generichash(ih, sizeof(ih), (const uint8_t *)q->invite,
		    strlen(q->invite), NULL, 0);
		if ((rc = srv_meta_invite_use(q->s->meta, ih, q->now)) != 0) {
			if (rc == COFFER_EDENIED)
				fail(q, MHD_HTTP_FORBIDDEN, "invite token unknown, used or expired");
			else
				fail_rc(q, rc);
			goto out;
		}
	}
	rc = srv_meta_account_create(q->s->meta, name, g, glen, &e, q->now);
	if (rc == COFFER_EEXIST) {
		fail(q, MHD_HTTP_CONFLICT, "account name or id taken");
		goto out;
	} else if (rc != 0) {
		fail_rc(q, rc);
		goto out;
	}
	if (store_envelopes(q, json_object_get(o, "envelopes"),
	    SRV_CREATE_ENVELOPES_MAX, &e) != 0)
		goto out;
	intx = 0;
	if ((rc = srv_meta_commit(q->s->meta)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	reply_json(q, MHD_HTTP_CREATED, json_pack("{s:o}", "account_id",
	    hex_json(e.account_id, CF_ID_BYTES)));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(o);
	free(g);
}

static void
ep_name_lookup(struct rq *q, const char *name)
{
	uint8_t id[CF_ID_BYTES];
	int rc;

	if (!rate_ok(q->s, q->addr, q->now)) {
		fail(q, MHD_HTTP_TOO_MANY_REQUESTS, "rate limit");
		goto out;
	}
	if (!name_ok(name)) {
		fail(q, MHD_HTTP_BAD_REQUEST, "bad account name");
		goto out;
	}
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	rc = srv_meta_account_by_name(q->s->meta, name, id);
	srv_meta_rollback(q->s->meta);
	if (rc == COFFER_ENOENT)
		fail(q, MHD_HTTP_NOT_FOUND, "no such account");
	else if (rc != 0)
		fail_rc(q, rc);
	else
		reply_json(q, MHD_HTTP_OK, json_pack("{s:o}", "account_id",
		    hex_json(id, CF_ID_BYTES)));
out:
	return;
}

static int
push_b64(void *arg, const uint8_t *p, size_t len)
{
	json_t *v = b64_json(p, len);

	return (v != NULL && json_array_append_new(arg, v) == 0) ? 0 :
	    COFFER_ENOMEM;
}

/* Begin a transaction and authenticate a device of ${acct}. */
static int
begin_device(struct rq *q, const uint8_t *acct)
{
	int rc, ret = -1;

	if (auth_headers(q) != 0)
		goto out;
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	if (auth_device(q, acct) != 0) {
		srv_meta_rollback(q->s->meta);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* Commit and reply with ${o} (taken). */
static void
commit_reply(struct rq *q, unsigned status, json_t *o)
{
	int rc;

	if (o == NULL) {
		srv_meta_rollback(q->s->meta);
		fail(q, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	} else if ((rc = srv_meta_commit(q->s->meta)) != 0) {
		json_decref(o);
		fail_rc(q, rc);
	} else {
		reply_json(q, status, o);
	}
}

static void
ep_chain_get(struct rq *q, const uint8_t *acct)
{
	json_t *arr = NULL;
	const char *f;
	uint64_t from = 0, len;
	uint8_t head[CF_ID_BYTES];
	int rc, intx = 0;

	q->rk_ok = 1;
	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((f = qparam(q, "from")) != NULL && parse_u64(f, &from) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "bad from");
		goto out;
	}
	if ((arr = json_array()) == NULL) {
		fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if ((rc = srv_meta_account_state(q->s->meta, acct, &len, head)) != 0 ||
	    (rc = srv_meta_chain_get(q->s->meta, acct, from,
	    SRV_CHAIN_PAGE_MAX, SRV_CHAIN_PAGE_BYTES, push_b64, arr)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_OK, json_pack("{s:O,s:I,s:I}", "entries", arr,
	    "from", (json_int_t)from, "length", (json_int_t)len));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(arr);
}

/* The checks of an entry against the stored chain; 0 or a reply set. */
static int
entry_against_state(struct rq *q, const struct srv_entry *e,
    const uint8_t *buf, uint64_t len, const uint8_t *head)
{
	uint8_t pk[CF_SIGN_PK_BYTES], rkid[CF_ID_BYTES], rkpk[CF_SIGN_PK_BYTES];
	uint64_t nactive;
	int rc, removed = 0, ret = -1;

	if (memcmp(e->account_id, q->acct, CF_ID_BYTES) != 0 ||
	    e->seq != len || memcmp(e->prev_hash, head, CF_ID_BYTES) != 0 ||
	    e->type == SRV_ENTRY_GENESIS) {
		fail(q, MHD_HTTP_BAD_REQUEST, "entry does not extend this chain");
		goto out;
	}
	if ((rc = srv_meta_rk(q->s->meta, q->acct, rkid, rkpk)) != 0 &&
	    rc != COFFER_ENOENT) {
		fail_rc(q, rc);
		goto out;
	}
	/* The signer: the recovery key (add-device only) or a device
	 * active at this point. */
	if (rc == 0 && e->type == SRV_ENTRY_ADD &&
	    memcmp(e->signer_id, rkid, CF_ID_BYTES) == 0) {
		memcpy(pk, rkpk, CF_SIGN_PK_BYTES);
	} else if (srv_meta_device(q->s->meta, q->acct, e->signer_id, pk,
	    &removed) != 0 || removed) {
		fail(q, MHD_HTTP_BAD_REQUEST, "entry signer is not trusted at this point");
		goto out;
	}
	if (srv_entry_verify(buf, e, pk) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "entry signature does not verify");
		goto out;
	}
	if (e->type == SRV_ENTRY_ADD &&
	    srv_meta_device(q->s->meta, q->acct, e->dev_id, pk, &removed) !=
	    COFFER_ENOENT) {
		fail(q, MHD_HTTP_BAD_REQUEST, "device was already added once");
		goto out;
	}
	if (e->type == SRV_ENTRY_REMOVE) {
		if (srv_meta_device(q->s->meta, q->acct, e->removed_id, pk,
		    &removed) != 0 || removed) {
			fail(q, MHD_HTTP_BAD_REQUEST, "removed device is not active");
			goto out;
		}
		if ((rc = srv_meta_devices_active(q->s->meta, q->acct,
		    &nactive)) != 0) {
			fail_rc(q, rc);
			goto out;
		}
		if (nactive < 2) {
			fail(q, MHD_HTTP_BAD_REQUEST, "cannot remove the last trusted device");
			goto out;
		}
	}
	ret = 0;
out:
	return ret;
}

static int
chain_apply_cb(void *arg, const uint8_t *p, size_t len)
{
	return cf_chain_append(arg, p, len) == 0 ? 0 : COFFER_EFORMAT;
}

/*
 * The full verifier of lib/chain (FORMAT §14: epochs, recipients, name
 * boxes, every body rule) over the stored chain and then ${entry}.  0, or
 * a reply set.  The stored chain passed the same check when it was
 * appended, so a failure there is a storage error.
 */
static int
chain_full_check(struct rq *q, const uint8_t *acct, const uint8_t *entry,
    size_t len)
{
	struct cf_chain *c = NULL;
	int rc, ret = -1;

	if (cf_chain_new(&c) != 0) {
		fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if (acct != NULL && (rc = srv_meta_chain_get(q->s->meta, acct, 0,
	    CF_CHAIN_MAX_ENTRIES, SIZE_MAX, chain_apply_cb, c)) != 0) {
		fail_rc(q, rc == COFFER_EFORMAT ? COFFER_EIO : rc);
		goto out;
	}
	if (cf_chain_append(c, entry, len) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "chain entry does not verify against the chain");
		goto out;
	}
	ret = 0;
out:
	cf_chain_free(c);
	return ret;
}

/* 1 if ${signer} is the current recovery key of ${acct} (it adds without a request). */
static int
rk_signed(struct rq *q, const uint8_t *acct, const uint8_t *signer)
{
	uint8_t rkid[CF_ID_BYTES], rkpk[CF_SIGN_PK_BYTES];

	return srv_meta_rk(q->s->meta, acct, rkid, rkpk) == 0 &&
	    memcmp(rkid, signer, CF_ID_BYTES) == 0;
}

/*
 * A device adds a device only on its pending join request: one withdrawn
 * (or expired) can no longer be approved.  0, or a reply set.
 */
static int
join_pending(struct rq *q, const uint8_t *acct, const uint8_t *dev)
{
	uint8_t jpk[CF_SIGN_PK_BYTES], *ap = NULL;
	size_t len = 0;
	int rc;

	rc = srv_meta_join_get(q->s->meta, acct, dev, q->now, jpk, &ap, &len);
	free(ap);
	if (rc == COFFER_ENOENT)
		fail(q, MHD_HTTP_NOT_FOUND, "no pending join request for the device this entry adds (withdrawn or expired): nothing appended");
	else if (rc != 0)
		fail_rc(q, rc);
	return rc;
}

static void
ep_chain_append(struct rq *q, const uint8_t *acct)
{
	json_t *o = NULL;
	uint8_t *ebuf = NULL, head[CF_ID_BYTES], pk[CF_SIGN_PK_BYTES];
	size_t elen;
	uint64_t seq, len;
	struct srv_entry e;
	int rc, intx = 0;

	if (auth_headers(q) != 0 || (o = body_json(q)) == NULL)
		goto out;
	if (get_u64(o, "seq", &seq) != 0 ||
	    get_b64(o, "entry", SRV_ENTRY_MAX, &ebuf, &elen) != 0 ||
	    srv_entry_parse(ebuf, elen, &e) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "malformed chain entry");
		goto out;
	}
	if (memcmp(acct, q->acct, CF_ID_BYTES) != 0) {
		fail(q, MHD_HTTP_FORBIDDEN, "account in path differs from the signed account");
		goto out;
	}
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 1;
	rc = srv_meta_signer(q->s->meta, acct, q->dev, pk);
	if (rc == COFFER_EDENIED && q->has_key && e.type == SRV_ENTRY_ADD &&
	    memcmp(e.dev_id, q->dev, CF_ID_BYTES) == 0) {
		/* Recover: self-signed by the key the entry adds; the entry
		 * itself must be signed by the recovery key (checked below). */
		uint8_t rkid[CF_ID_BYTES], rkpk[CF_SIGN_PK_BYTES];

		if (!rate_ok(q->s, q->addr, q->now)) {
			fail(q, MHD_HTTP_TOO_MANY_REQUESTS, "rate limit");
			goto out;
		}
		if (srv_meta_rk(q->s->meta, acct, rkid, rkpk) != 0 ||
		    memcmp(rkid, e.signer_id, CF_ID_BYTES) != 0) {
			fail(q, MHD_HTTP_FORBIDDEN, "device not active in this account");
			goto out;
		}
		memcpy(pk, q->key_sign_pk, CF_SIGN_PK_BYTES);
		rc = 0;
	}
	if (rc == 0 && is_rk(q) && (e.type != SRV_ENTRY_ADD ||
	    memcmp(e.signer_id, q->dev, CF_ID_BYTES) != 0)) {
		fail(q, MHD_HTTP_FORBIDDEN, "the recovery key may only add a device");
		goto out;
	}
	if (rc == COFFER_ENOENT) {
		fail(q, MHD_HTTP_NOT_FOUND, "no such account");
		goto out;
	} else if (rc == COFFER_EDENIED) {
		fail(q, MHD_HTTP_FORBIDDEN, "device not active in this account");
		goto out;
	} else if (rc != 0) {
		fail_rc(q, rc);
		goto out;
	}
	if (auth_verify(q, pk) != 0)
		goto out;
	if ((rc = srv_meta_account_state(q->s->meta, acct, &len, head)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	if (seq != len) {
		srv_meta_rollback(q->s->meta);
		intx = 0;
		reply_json(q, MHD_HTTP_CONFLICT, json_pack("{s:s,s:I}", "error",
		    "chain moved", "length", (json_int_t)len));
		goto out;
	}
	if (entry_against_state(q, &e, ebuf, len, head) != 0 ||
	    chain_full_check(q, acct, ebuf, elen) != 0)
		goto out;
	if (e.type == SRV_ENTRY_ADD && !rk_signed(q, acct, e.signer_id) &&
	    join_pending(q, acct, e.dev_id) != 0)
		goto out;
	if ((rc = srv_meta_chain_append(q->s->meta, ebuf, elen, &e)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	if (store_envelopes(q, json_object_get(o, "envelopes"),
	    SRV_ENVELOPES_MAX, &e) != 0)
		goto out;
	intx = 0;
	commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:I}", "length",
	    (json_int_t)(len + 1)));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(o);
	free(ebuf);
}

static void
ep_envelopes_put(struct rq *q, const uint8_t *acct)
{
	json_t *o = NULL, *arr;

	if ((o = body_json(q)) == NULL)
		return;
	if (begin_device(q, acct) != 0)
		goto out;
	arr = json_object_get(o, "envelopes");
	if (arr == NULL) {
		srv_meta_rollback(q->s->meta);
		fail(q, MHD_HTTP_BAD_REQUEST, "envelopes missing");
		goto out;
	}
	if (store_envelopes(q, arr, SRV_ENVELOPES_MAX, NULL) != 0) {
		srv_meta_rollback(q->s->meta);
		goto out;
	}
	commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:I}", "stored",
	    (json_int_t)json_array_size(arr)));
out:
	json_decref(o);
}

static void
ep_envelopes_get(struct rq *q, const uint8_t *acct)
{
	uint8_t rid[CF_ID_BYTES];
	json_t *arr = NULL;
	int rc, intx = 0;

	q->rk_ok = 1;
	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if (hex_exact(qparam(q, "recipient"), rid, CF_ID_BYTES) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "recipient must be a hex id");
		goto out;
	}
	if ((arr = json_array()) == NULL) {
		fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if ((rc = srv_meta_envelopes_get(q->s->meta, acct, rid, push_b64,
	    arr)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_OK, json_pack("{s:O}", "envelopes", arr));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(arr);
}

static void
ep_join_post(struct rq *q, const uint8_t *acct)
{
	json_t *o = NULL;
	uint8_t *req = NULL, head[CF_ID_BYTES];
	size_t len;
	uint64_t n, expires;
	struct srv_join j;
	int rc, intx = 0;

	if (!rate_ok(q->s, q->addr, q->now)) {
		fail(q, MHD_HTTP_TOO_MANY_REQUESTS, "rate limit");
		goto out;
	}
	if (auth_headers(q) != 0 || (o = body_json(q)) == NULL)
		goto out;
	if (get_b64(o, "request", SRV_JOIN_MAX, &req, &len) != 0 ||
	    srv_join_parse(req, len, &j) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "malformed join request");
		goto out;
	}
	if (memcmp(acct, q->acct, CF_ID_BYTES) != 0 ||
	    memcmp(j.account_id, acct, CF_ID_BYTES) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "join request names another account");
		goto out;
	}
	if (!q->has_key || memcmp(j.dev_id, q->dev, CF_ID_BYTES) != 0) {
		fail(q, MHD_HTTP_UNAUTHORIZED, "a join request must be self-signed by its key");
		goto out;
	}
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 1;
	if ((rc = srv_meta_account_state(q->s->meta, acct, &n, head)) != 0) {
		if (rc == COFFER_ENOENT)
			fail(q, MHD_HTTP_NOT_FOUND, "no such account");
		else
			fail_rc(q, rc);
		goto out;
	}
	if (auth_verify(q, j.sign_pk) != 0)
		goto out;
	expires = q->now + q->s->cfg.join_ttl;
	rc = srv_meta_join_put(q->s->meta, acct, &j, req, len, expires, q->now);
	if (rc == COFFER_ETOOBIG) {
		fail(q, MHD_HTTP_TOO_MANY_REQUESTS, "too many pending join requests");
		goto out;
	} else if (rc != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:o,s:I}", "device_id",
	    hex_json(j.dev_id, CF_ID_BYTES), "expires", (json_int_t)expires));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(o);
	free(req);
}

/*
 * DELETE .../joins/{dev}: a join that gave up withdraws its request,
 * self-signed by the request's key and carrying its withdrawal signature
 * (purpose "coffer-withdraw-v1", docs/API.md).  Once an add-device entry
 * for that key is in the chain: 409, and the join completes instead.
 */
static void
ep_join_withdraw(struct rq *q, const uint8_t *acct, const uint8_t *dev)
{
	json_t *o = NULL;
	uint8_t jpk[CF_SIGN_PK_BYTES], dpk[CF_SIGN_PK_BYTES];
	uint8_t *ap = NULL, *sig = NULL;
	size_t len = 0, siglen = 0;
	int rc, jrc, removed, intx = 0;

	if (!rate_ok(q->s, q->addr, q->now)) {
		fail(q, MHD_HTTP_TOO_MANY_REQUESTS, "rate limit");
		goto out;
	}
	if (auth_headers(q) != 0 || (o = body_json(q)) == NULL)
		goto out;
	if (memcmp(acct, q->acct, CF_ID_BYTES) != 0) {
		fail(q, MHD_HTTP_FORBIDDEN, "account in path differs from the signed account");
		goto out;
	}
	if (!q->has_key || memcmp(q->dev, dev, CF_ID_BYTES) != 0) {
		fail(q, MHD_HTTP_UNAUTHORIZED, "a withdrawal must be self-signed by the request's key");
		goto out;
	}
	if (get_b64(o, "withdrawal", CF_SIG_BYTES, &sig, &siglen) != 0 ||
	    siglen != CF_SIG_BYTES) {
		fail(q, MHD_HTTP_BAD_REQUEST, "malformed withdrawal");
		goto out;
	}
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 1;
	jrc = srv_meta_join_get(q->s->meta, acct, dev, q->now, jpk, &ap, &len);
	if (jrc != 0 && jrc != COFFER_ENOENT) {
		fail_rc(q, jrc);
		goto out;
	}
	/* The stored request's key; if it is gone, the key sent (same id). */
	if (jrc != 0)
		memcpy(jpk, q->key_sign_pk, CF_SIGN_PK_BYTES);
	if (auth_verify(q, jpk) != 0)
		goto out;
	if (cf_join_withdraw_verify(jpk, acct, dev, sig) != 0) {
		fail(q, MHD_HTTP_UNAUTHORIZED, "bad withdrawal signature");
		goto out;
	}
	rc = srv_meta_device(q->s->meta, acct, dev, dpk, &removed);
	if (rc == 0) {
		fail(q, MHD_HTTP_CONFLICT, "this device was added to the chain already: the join completes");
		goto out;
	} else if (rc != COFFER_ENOENT) {
		fail_rc(q, rc);
		goto out;
	}
	if (jrc == COFFER_ENOENT) {
		fail(q, MHD_HTTP_NOT_FOUND, "no such join request (expired or withdrawn)");
		goto out;
	}
	if ((rc = srv_meta_join_delete(q->s->meta, acct, dev)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_OK, json_pack("{s:b}", "withdrawn", 1));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(o);
	free(sig);
	free(ap);
}

static int
push_join(void *arg, const uint8_t *dev, const uint8_t *req, size_t len,
    uint64_t expires)
{
	json_t *o = json_pack("{s:o,s:o,s:I}", "device_id",
	    hex_json(dev, CF_ID_BYTES), "request", b64_json(req, len),
	    "expires", (json_int_t)expires);

	return (o != NULL && json_array_append_new(arg, o) == 0) ? 0 :
	    COFFER_ENOMEM;
}

static void
ep_joins_list(struct rq *q, const uint8_t *acct)
{
	json_t *arr = NULL;
	int rc, intx = 0;

	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((arr = json_array()) == NULL) {
		fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if ((rc = srv_meta_joins_list(q->s->meta, acct, q->now, push_join,
	    arr)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_OK, json_pack("{s:O}", "requests", arr));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(arr);
}

static void
ep_approval_put(struct rq *q, const uint8_t *acct, const uint8_t *dev)
{
	json_t *o = NULL;
	uint8_t *ap = NULL, pk[CF_SIGN_PK_BYTES];
	size_t len;
	struct srv_approval a;
	int rc, removed;

	if ((o = body_json(q)) == NULL)
		return;
	if (begin_device(q, acct) != 0)
		goto out;
	if (get_b64(o, "approval", SRV_APPROVAL_MAX, &ap, &len) != 0 ||
	    srv_approval_parse(ap, len, &a) != 0 ||
	    memcmp(a.account_id, acct, CF_ID_BYTES) != 0 ||
	    memcmp(a.recipient_id, dev, CF_ID_BYTES) != 0 ||
	    memcmp(a.approver_id, q->dev, CF_ID_BYTES) != 0 ||
	    srv_meta_device(q->s->meta, acct, q->dev, pk, &removed) != 0 ||
	    srv_approval_verify(ap, len, pk) != 0) {
		srv_meta_rollback(q->s->meta);
		fail(q, MHD_HTTP_BAD_REQUEST, "malformed or mismatched approval");
		goto out;
	}
	/* Approvals follow the add-device entry (FORMAT §17): the device
	 * must be in the chain already. */
	if (srv_meta_device(q->s->meta, acct, dev, pk, &removed) != 0 ||
	    removed) {
		srv_meta_rollback(q->s->meta);
		fail(q, MHD_HTTP_BAD_REQUEST, "append the add-device entry before the approval");
		goto out;
	}
	rc = srv_meta_join_approve(q->s->meta, acct, dev, q->now, ap, len);
	if (rc != 0) {
		srv_meta_rollback(q->s->meta);
		if (rc == COFFER_ENOENT)
			fail(q, MHD_HTTP_NOT_FOUND, "no such pending join request");
		else
			fail_rc(q, rc);
		goto out;
	}
	commit_reply(q, MHD_HTTP_CREATED, json_object());
out:
	json_decref(o);
	free(ap);
}

static void
ep_approval_get(struct rq *q, const uint8_t *acct, const uint8_t *dev)
{
	uint8_t jpk[CF_SIGN_PK_BYTES], *ap = NULL;
	size_t len = 0;
	int rc, jrc, intx = 0;

	if (auth_headers(q) != 0)
		goto out;
	if (memcmp(acct, q->acct, CF_ID_BYTES) != 0) {
		fail(q, MHD_HTTP_FORBIDDEN, "account in path differs from the signed account");
		goto out;
	}
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 1;
	jrc = srv_meta_join_get(q->s->meta, acct, dev, q->now, jpk, &ap, &len);
	if (jrc != 0 && jrc != COFFER_ENOENT) {
		fail_rc(q, jrc);
		goto out;
	}
	if (memcmp(q->dev, dev, CF_ID_BYTES) == 0 && jrc == 0) {
		if (auth_verify(q, jpk) != 0)
			goto out;
	} else if (memcmp(q->dev, dev, CF_ID_BYTES) == 0 && q->has_key) {
		/* Its request is gone: self-signed, so it learns that. */
		if (auth_verify(q, q->key_sign_pk) != 0)
			goto out;
	} else if (auth_device(q, acct) != 0) {
		goto out;
	}
	if (jrc == COFFER_ENOENT) {
		fail(q, MHD_HTTP_NOT_FOUND, "no such join request (expired?)");
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_OK, ap != NULL ?
	    json_pack("{s:o}", "approval", b64_json(ap, len)) :
	    json_pack("{s:n}", "approval"));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	free(ap);
}

static void
ep_dir_get(struct rq *q, const uint8_t *acct)
{
	uint8_t *rec = NULL;
	size_t len;
	uint64_t v;
	int rc;

	if (begin_device(q, acct) != 0)
		goto out;
	if ((rc = srv_meta_dir_get(q->s->meta, acct, &v, &rec, &len)) != 0) {
		srv_meta_rollback(q->s->meta);
		fail_rc(q, rc);
		goto out;
	}
	commit_reply(q, MHD_HTTP_OK, rec != NULL ?
	    json_pack("{s:I,s:o}", "version", (json_int_t)v, "record",
	    b64_json(rec, len)) :
	    json_pack("{s:I,s:n}", "version", (json_int_t)v, "record"));
out:
	free(rec);
}

/* The records after version ${after} (a device catching up to the head). */
static void
ep_dir_records(struct rq *q, const uint8_t *acct)
{
	json_t *arr = NULL;
	const char *f;
	uint64_t after, v;
	int rc, intx = 0;

	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((f = qparam(q, "after")) == NULL || parse_u64(f, &after) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "bad after");
		goto out;
	}
	if ((arr = json_array()) == NULL) {
		fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if ((rc = srv_meta_dir_records(q->s->meta, acct, after,
	    SRV_DIR_PAGE_MAX, SRV_DIR_PAGE_BYTES, push_b64, arr, &v)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_OK, json_pack("{s:O,s:I}", "records", arr,
	    "version", (json_int_t)v));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(arr);
}

static void
ep_dir_put(struct rq *q, const uint8_t *acct)
{
	json_t *o = NULL;
	uint8_t *rec = NULL, *cur = NULL, pk[CF_SIGN_PK_BYTES];
	size_t len, clen, i;
	uint64_t expect, v;
	struct srv_dir d;
	int rc, intx = 0, removed;

	memset(&d, 0, sizeof(d));
	if ((o = body_json(q)) == NULL)
		return;
	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if (get_u64(o, "expect", &expect) != 0 ||
	    get_b64(o, "record", SRV_DIR_MAX, &rec, &len) != 0 ||
	    srv_dir_parse(rec, len, &d) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "malformed directory record");
		goto out;
	}
	if ((rc = srv_meta_dir_get(q->s->meta, acct, &v, &cur, &clen)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	if (v != expect) {
		srv_meta_rollback(q->s->meta);
		intx = 0;
		reply_json(q, MHD_HTTP_CONFLICT, json_pack("{s:s,s:I}", "error",
		    "directory moved", "version", (json_int_t)v));
		goto out;
	}
	if (memcmp(d.account_id, acct, CF_ID_BYTES) != 0 ||
	    d.version != expect + 1 ||
	    memcmp(d.author_id, q->dev, CF_ID_BYTES) != 0 ||
	    srv_meta_device(q->s->meta, acct, q->dev, pk, &removed) != 0 ||
	    srv_dir_verify(rec, len, pk) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "directory record does not fit (account, version, author or signature)");
		goto out;
	}
	for (i = 0; i < d.ndrives; i++) {
		rc = srv_meta_drive_claim(q->s->meta,
		    d.drive_ids + i * CF_ID_BYTES, acct);
		if (rc == COFFER_EDENIED) {
			srv_meta_rollback(q->s->meta);
			intx = 0;
			reply_json(q, MHD_HTTP_CONFLICT, json_pack("{s:s,s:I}",
			    "error", "a drive id is taken by another account",
			    "version", (json_int_t)v));
			goto out;
		} else if (rc != 0) {
			fail_rc(q, rc);
			goto out;
		}
	}
	if ((rc = srv_meta_dir_put(q->s->meta, acct, expect + 1, rec, len)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:I}", "version",
	    (json_int_t)(expect + 1)));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	srv_dir_free(&d);
	json_decref(o);
	free(rec);
	free(cur);
}

/*
 * Drive access for ${acct}: 0 owned; 1 unknown (claimed if ${claim});
 * -1 with a reply set (another account's: 404; storage error).
 */
static int
drive_access(struct rq *q, const uint8_t *acct, const uint8_t *drive,
    int claim)
{
	uint64_t v;
	uint8_t c[CF_ID_BYTES];
	int rc, ret = -1;

	rc = srv_meta_drive_owned(q->s->meta, drive, acct);
	if (rc == 0) {
		ret = 0;
		goto out;
	}
	if (rc != COFFER_ENOENT) {
		fail_rc(q, rc);
		goto out;
	}
	/* Not ours: unknown to everyone, or another account's? */
	rc = srv_meta_head_get(q->s->meta, drive, &v, c);
	if (rc == 0) {
		fail(q, MHD_HTTP_NOT_FOUND, "no such drive");
		goto out;
	}
	if (rc != COFFER_ENOENT) {
		fail_rc(q, rc);
		goto out;
	}
	if (!claim) {
		ret = 1;
		goto out;
	}
	if ((rc = srv_meta_drive_claim(q->s->meta, drive, acct)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static void
ep_head_get(struct rq *q, const uint8_t *acct, const uint8_t *drive)
{
	uint64_t v = 0;
	uint8_t c[CF_ID_BYTES];
	int rc, a, intx = 0;

	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((a = drive_access(q, acct, drive, 0)) < 0)
		goto out;
	if (a == 0 && (rc = srv_meta_head_get(q->s->meta, drive, &v, c)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_OK, v > 0 ?
	    json_pack("{s:I,s:o}", "version", (json_int_t)v, "commit",
	    hex_json(c, CF_ID_BYTES)) :
	    json_pack("{s:I,s:n}", "version", (json_int_t)0, "commit"));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
}

/* Add ${id} to the "missing" list of a 422 answer (bounded). */
static void
note_missing(json_t *arr, const uint8_t *id)
{
	if (json_array_size(arr) < SRV_MISSING_LIST_MAX)
		json_array_append_new(arr, hex_json(id, CF_ID_BYTES));
}

static void
ep_head_put(struct rq *q, const uint8_t *acct, const uint8_t *drive)
{
	json_t *o = NULL, *missing = NULL;
	uint8_t *delta = NULL, commit[CF_ID_BYTES], cur[CF_ID_BYTES];
	size_t dlen;
	uint64_t expect, v;
	struct srv_delta d;
	struct srv_objloc loc;
	uint32_t i;
	int rc, intx = 0;
	const char *why = NULL;

	if ((o = body_json(q)) == NULL)
		return;
	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if (get_u64(o, "expect", &expect) != 0 ||
	    get_hex(o, "commit", commit, CF_ID_BYTES) != 0 ||
	    get_b64(o, "delta", SRV_JSON_BIG_MAX, &delta, &dlen) != 0 ||
	    srv_delta_parse(delta, dlen, &d) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "malformed head update (expect, commit, delta)");
		goto out;
	}
	if (drive_access(q, acct, drive, 1) != 0)
		goto out;
	if ((rc = srv_meta_head_get(q->s->meta, drive, &v, cur)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	if (v != expect) {
		srv_meta_rollback(q->s->meta);
		intx = 0;
		reply_json(q, MHD_HTTP_CONFLICT, json_pack("{s:s,s:I,s:o}",
		    "error", "head moved", "version", (json_int_t)v, "commit",
		    v > 0 ? hex_json(cur, CF_ID_BYTES) : json_null()));
		goto out;
	}
	if ((missing = json_array()) == NULL) {
		fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if ((rc = srv_meta_object_get(q->s->meta, drive, commit, &loc)) != 0) {
		if (rc != COFFER_ENOENT) {
			fail_rc(q, rc);
			goto out;
		}
		why = "commit not stored";
		note_missing(missing, commit);
	}
	for (i = 0; why == NULL && i < d.nstart; i++) {
		const uint8_t *id = d.start + (size_t)i * CF_ID_BYTES;

		rc = srv_meta_object_get(q->s->meta, drive, id, &loc);
		if (rc == COFFER_ENOENT) {
			note_missing(missing, id);
			continue;
		} else if (rc != 0) {
			fail_rc(q, rc);
			goto out;
		}
		if ((rc = srv_meta_live_has(q->s->meta, drive, id)) < 0) {
			fail_rc(q, rc);
			goto out;
		}
		if (rc == 1) {
			why = "a start id is already live";
			note_missing(missing, id);
		}
	}
	if (why == NULL && json_array_size(missing) > 0)
		why = "start ids not stored";
	for (i = 0; why == NULL && i < d.nstop; i++) {
		const uint8_t *id = d.stop + (size_t)i * CF_ID_BYTES;

		if ((rc = srv_meta_live_has(q->s->meta, drive, id)) < 0) {
			fail_rc(q, rc);
			goto out;
		}
		if (rc == 0) {
			why = "a stop id is not live";
			note_missing(missing, id);
		}
	}
	if (why != NULL) {
		reply_json(q, 422, json_pack("{s:s,s:O}", "error", why,
		    "missing", missing));
		goto out;
	}
	for (i = 0; i < d.nstart; i++) {
		if ((rc = srv_meta_live_add(q->s->meta, drive,
		    d.start + (size_t)i * CF_ID_BYTES)) != 0) {
			fail_rc(q, rc);
			goto out;
		}
	}
	for (i = 0; i < d.nstop; i++) {
		if ((rc = srv_meta_live_del(q->s->meta, drive,
		    d.stop + (size_t)i * CF_ID_BYTES)) != 0) {
			fail_rc(q, rc);
			goto out;
		}
	}
	if ((rc = srv_meta_head_set(q->s->meta, drive, expect + 1, commit,
	    delta, dlen)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:I}", "version",
	    (json_int_t)(expect + 1)));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(missing);
	json_decref(o);
	free(delta);
}

/* Decode the request frame; 400 on anything wrong. */
static int
req_frame(struct rq *q, struct cf_frame_item **itp, size_t *np, int ids_only)
{
	size_t i;
	int rc, ret = -1;

	if ((rc = cf_frame_decode(q->body, q->len, COFFER_EFORMAT, itp,
	    np)) != 0) {
		fail(q, rc == COFFER_ENOMEM ? MHD_HTTP_SERVICE_UNAVAILABLE :
		    MHD_HTTP_BAD_REQUEST, "malformed batch frame");
		goto out;
	}
	if ((rc = cf_frame_unique(*itp, *np)) != 0) {
		fail(q, MHD_HTTP_BAD_REQUEST, "duplicate id in batch frame");
		goto out;
	}
	for (i = 0; ids_only && i < *np; i++) {
		if ((*itp)[i].len != 0) {
			fail(q, MHD_HTTP_BAD_REQUEST, "an id list carries no bytes");
			goto out;
		}
	}
	ret = 0;
out:
	if (ret != 0) {
		free(*itp);
		*itp = NULL;
		*np = 0;
	}
	return ret;
}

static void
reply_frame(struct rq *q, unsigned status, struct cf_frame_w *f)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (cf_frame_finish(f, &buf, &len) != 0) {
		fail(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "could not build frame");
		return;
	}
	free(q->resp);
	q->resp = buf;
	q->resp_len = len;
	q->status = status;
	q->resp_ct = ct_frame;
}

static void
ep_objects_have(struct rq *q, const uint8_t *acct, const uint8_t *drive)
{
	struct cf_frame_item *it = NULL;
	struct cf_frame_w f;
	struct srv_objloc loc;
	size_t n = 0, i;
	int rc, a, intx = 0;

	cf_frame_begin(&f);
	if (req_frame(q, &it, &n, 1) != 0)
		goto out;
	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((a = drive_access(q, acct, drive, 0)) < 0)
		goto out;
	for (i = 0; a == 0 && i < n; i++) {
		rc = srv_meta_object_get(q->s->meta, drive, it[i].id, &loc);
		if (rc == COFFER_ENOENT)
			continue;
		if (rc != 0 || (rc = srv_meta_object_protect(q->s->meta, drive,
		    it[i].id, q->now + SRV_PROTECT_SECONDS)) != 0) {
			fail_rc(q, rc);
			goto out;
		}
		if (cf_frame_add(&f, it[i].id, NULL, 0) != 0) {
			fail_rc(q, COFFER_ENOMEM);
			goto out;
		}
	}
	intx = 0;
	if ((rc = srv_meta_commit(q->s->meta)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	reply_frame(q, MHD_HTTP_OK, &f);
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	cf_frame_abort(&f);
	free(it);
}

/*
 * objects/put in two short transactions around the pack write, so that
 * puts run side by side (the metadata lock is not held while object
 * bytes are written and fsynced):
 *
 * 1. authenticate (the nonce is checked, not yet recorded: the
 *    transaction is rolled back), check the drive, and pick the objects
 *    not stored yet; refuse early past the quota;
 * 2. write and fsync those objects' bytes (srv_objstore_write, no lock);
 * 3. authenticate again (now recording the nonce: a replay that ran
 *    alongside loses here and its bytes stay unreferenced), record the
 *    objects written in 2 (one a concurrent put stored meanwhile clashes
 *    on the primary key: its copy stays, ours is garbage, and it is
 *    protected like the others already present), check the quota
 *    against what is really added, commit.
 *
 * DESIGN §6 holds: the bytes are durable before the commit that names
 * them.  Nothing deletes objects, so an object seen in 1 is still there
 * in 3.
 */
static void
ep_objects_put(struct rq *q, const uint8_t *acct, const uint8_t *drive)
{
	struct cf_frame_item *it = NULL;
	struct srv_objput *puts = NULL;
	struct srv_objloc loc;
	size_t n = 0, i, nnew = 0, nrec = 0, nstored = 0;
	uint64_t used, nobj, add = 0;
	int rc, intx = 0;

	if (req_frame(q, &it, &n, 0) != 0)
		goto out;
	if (n > 0 && (puts = calloc(n, sizeof(*puts))) == NULL) {
		fail_rc(q, COFFER_ENOMEM);
		goto out;
	}

	/* 1: who, where, what is missing; nothing is kept. */
	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if (drive_access(q, acct, drive, 1) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		rc = srv_meta_object_get(q->s->meta, drive, it[i].id, &loc);
		if (rc == 0)
			continue;
		if (rc != COFFER_ENOENT) {
			fail_rc(q, rc);
			goto out;
		}
		puts[nnew].id = it[i].id;
		puts[nnew].data = it[i].data;
		puts[nnew].len = (uint32_t)it[i].len;
		add += it[i].len;
		nnew++;
	}
	if ((rc = srv_meta_usage(q->s->meta, acct, &used, &nobj)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	if (add > 0 && (used > q->s->cfg.quota ||
	    add > q->s->cfg.quota - used)) {
		fail_quota(q, used, add);
		goto out;
	}
	intx = 0;
	srv_meta_rollback(q->s->meta);

	/* 2: DESIGN §6, every byte durable before the commit that shows it. */
	errno = 0;
	if ((rc = srv_objstore_write(q->s->objs, puts, nnew)) != 0) {
		if (rc == COFFER_ENOMEM)
			fail_rc(q, rc);
		else
			fail_store(q, "object store write");
		goto out;
	}

	/* 3: record, as one transaction. */
	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if (drive_access(q, acct, drive, 1) != 0)
		goto out;
	add = 0;
	for (i = 0; i < n; i++) {
		/* Written in 2 (puts[] keeps the frame's order)? */
		if (nrec < nnew && puts[nrec].id == it[i].id) {
			rc = srv_meta_object_put(q->s->meta, drive,
			    puts[nrec].id, &puts[nrec].loc,
			    q->now + SRV_PROTECT_SECONDS);
			if (rc == 0) {
				add += puts[nrec].len;
				nstored++;
			}
			nrec++;
			if (rc != COFFER_EEXIST) {
				if (rc != 0) {
					fail_rc(q, rc);
					goto out;
				}
				continue;
			}
			/* Stored meanwhile (a concurrent put of the same id,
			 * or twice in this frame): that copy stays. */
		}
		if ((rc = srv_meta_object_protect(q->s->meta, drive, it[i].id,
		    q->now + SRV_PROTECT_SECONDS)) != 0) {
			fail_rc(q, rc);
			goto out;
		}
	}
	if ((rc = srv_meta_usage(q->s->meta, acct, &used, &nobj)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	if (add > 0 && (used > q->s->cfg.quota ||
	    add > q->s->cfg.quota - used)) {
		fail_quota(q, used, add);
		goto out;
	}
	if (nstored > 0 && (rc = srv_meta_usage_add(q->s->meta, acct, add,
	    nstored)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:I,s:I}", "stored",
	    (json_int_t)nstored, "present", (json_int_t)(n - nstored)));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	free(puts);
	free(it);
}

static void
ep_objects_get(struct rq *q, const uint8_t *acct, const uint8_t *drive)
{
	struct cf_frame_item *it = NULL;
	struct srv_objloc *locs = NULL;
	struct cf_frame_w f;
	uint8_t *buf = NULL;
	size_t n = 0, i, want = 0;
	int rc, a, intx = 0;

	cf_frame_begin(&f);
	if (req_frame(q, &it, &n, 1) != 0)
		goto out;
	if (n > 0 && (locs = calloc(n, sizeof(*locs))) == NULL) {
		fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if (begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((a = drive_access(q, acct, drive, 0)) < 0)
		goto out;
	for (i = 0; a == 0 && i < n; i++) {
		rc = srv_meta_object_get(q->s->meta, drive, it[i].id, &locs[i]);
		if (rc == COFFER_ENOENT) {
			locs[i].pack = 0;	/* pack numbers start at 1 */
			continue;
		}
		if (rc != 0) {
			fail_rc(q, rc);
			goto out;
		}
	}
	intx = 0;
	if ((rc = srv_meta_commit(q->s->meta)) != 0) {
		fail_rc(q, rc);
		goto out;
	}
	/* Reserve the answer's memory from the global budget. */
	for (i = 0; a == 0 && i < n; i++)
		if (locs[i].pack != 0 && want < CF_FRAME_MAX)
			want += CF_FRAME_ITEM_HDR_BYTES + locs[i].len;
	q->resv = (long)(want < CF_FRAME_MAX ? want : CF_FRAME_MAX);
	if (atomic_fetch_add(&q->s->resp_bytes, q->resv) + q->resv >
	    SRV_RESP_BUDGET) {
		fail(q, MHD_HTTP_SERVICE_UNAVAILABLE, "busy: too many large answers, retry");
		goto out;
	}
	/* Packs are append-only: the bytes can be read outside the lock. */
	for (i = 0; a == 0 && i < n; i++) {
		if (locs[i].pack == 0)
			continue;
		if (cf_frame_size_with(&f, locs[i].len) > CF_FRAME_MAX) {
			q->truncated = 1;
			break;
		}
		if ((buf = malloc(locs[i].len + 1)) == NULL) {
			fail_rc(q, COFFER_ENOMEM);
			goto out;
		}
		if (srv_objstore_read(q->s->objs, &locs[i], buf) != 0) {
			fail(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "object store read failed");
			goto out;
		}
		if (cf_frame_add(&f, it[i].id, buf, locs[i].len) != 0) {
			q->truncated = 1;
			break;
		}
		free(buf);
		buf = NULL;
	}
	reply_frame(q, MHD_HTTP_OK, &f);
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	cf_frame_abort(&f);
	free(buf);
	free(locs);
	free(it);
}

static void
ep_quota(struct rq *q, const uint8_t *acct)
{
	uint64_t used, nobj;
	int rc;

	if (begin_device(q, acct) != 0)
		goto out;
	if ((rc = srv_meta_usage(q->s->meta, acct, &used, &nobj)) != 0) {
		srv_meta_rollback(q->s->meta);
		fail_rc(q, rc);
		goto out;
	}
	commit_reply(q, MHD_HTTP_OK, json_pack("{s:I,s:I,s:I}", "used",
	    (json_int_t)used, "limit", (json_int_t)q->s->cfg.quota, "objects",
	    (json_int_t)nobj));
out:
	return;
}

/* ---- routing ---- */

static int
split_path(struct rq *q)
{
	char *p, *save = NULL, *tok;
	int k, rc = -1;

	k = snprintf(q->segbuf, sizeof(q->segbuf), "%s", q->path);
	if (k < 0 || (size_t)k >= sizeof(q->segbuf))
		goto out;
	q->nseg = 0;
	for (p = q->segbuf; (tok = strtok_r(p, "/", &save)) != NULL; p = NULL) {
		if (q->nseg >= SEGS_MAX)
			goto out;
		q->seg[q->nseg++] = tok;
	}
	rc = 0;
out:
	return rc;
}

static int
is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static void
route(struct rq *q)
{
	uint8_t acct[CF_ID_BYTES], x[CF_ID_BYTES];
	const char *m = q->method, *last = "", *s3 = "";
	int get = is(m, "GET"), post = is(m, "POST"), put = is(m, "PUT");
	int isacct = 0, isx = 0;
	size_t n = 0;

	if (q->path[0] == '/' && split_path(q) == 0 && q->nseg >= 2 &&
	    is(q->seg[0], "v1")) {
		n = q->nseg;
		last = q->seg[n - 1];
		isacct = n >= 4 && is(q->seg[1], "accounts") &&
		    hex_exact(q->seg[2], acct, CF_ID_BYTES) == 0;
		s3 = n >= 4 ? q->seg[3] : "";
		isx = isacct && n >= 6 && hex_exact(q->seg[4], x, CF_ID_BYTES) == 0;
	}
	if (n == 2 && is(q->seg[1], "accounts")) {
		if (post)
			ep_account_create(q);
		else
			fail(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	} else if (n == 3 && is(q->seg[1], "names")) {
		if (get)
			ep_name_lookup(q, q->seg[2]);
		else
			fail(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	} else if (isacct && n == 4) {
		if (is(last, "chain") && get)
			ep_chain_get(q, acct);
		else if (is(last, "chain") && post)
			ep_chain_append(q, acct);
		else if (is(last, "envelopes") && get)
			ep_envelopes_get(q, acct);
		else if (is(last, "envelopes") && post)
			ep_envelopes_put(q, acct);
		else if (is(last, "joins") && get)
			ep_joins_list(q, acct);
		else if (is(last, "joins") && post)
			ep_join_post(q, acct);
		else if (is(last, "directory") && get)
			ep_dir_get(q, acct);
		else if (is(last, "directory") && put)
			ep_dir_put(q, acct);
		else if (is(last, "quota") && get)
			ep_quota(q, acct);
		else if (is(last, "chain") || is(last, "envelopes") ||
		    is(last, "joins") || is(last, "directory") ||
		    is(last, "quota"))
			fail(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
		else
			fail(q, MHD_HTTP_NOT_FOUND, "no such endpoint");
	} else if (isacct && n == 5 && is(s3, "joins") &&
	    hex_exact(last, x, CF_ID_BYTES) == 0) {
		if (is(m, "DELETE"))
			ep_join_withdraw(q, acct, x);
		else
			fail(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	} else if (isacct && n == 5 && is(s3, "directory") &&
	    is(last, "records")) {
		if (get)
			ep_dir_records(q, acct);
		else
			fail(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	} else if (isx && n == 6 && is(s3, "joins") && is(last, "approval")) {
		if (get)
			ep_approval_get(q, acct, x);
		else if (put)
			ep_approval_put(q, acct, x);
		else
			fail(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	} else if (isx && n == 6 && is(s3, "drives") && is(last, "head")) {
		if (get)
			ep_head_get(q, acct, x);
		else if (put)
			ep_head_put(q, acct, x);
		else
			fail(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	} else if (isx && n == 7 && is(s3, "drives") &&
	    is(q->seg[5], "objects") && (is(last, "have") || is(last, "put") ||
	    is(last, "get"))) {
		if (!post)
			fail(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
		else if (is(last, "have"))
			ep_objects_have(q, acct, x);
		else if (is(last, "put"))
			ep_objects_put(q, acct, x);
		else
			ep_objects_get(q, acct, x);
	} else {
		fail(q, MHD_HTTP_NOT_FOUND, "no such endpoint");
	}
}

/* The body cap of a path (decided before reading any body). */
static size_t
body_cap(const char *path, const char *method)
{
	size_t l = strlen(path), cap = SRV_JSON_BODY_MAX;

	if ((l > 12 && (strcmp(path + l - 12, "/objects/put") == 0 ||
	    strcmp(path + l - 12, "/objects/get") == 0)) ||
	    (l > 13 && strcmp(path + l - 13, "/objects/have") == 0))
		cap = CF_FRAME_MAX;
	else if ((l > 6 && strcmp(path + l - 6, "/chain") == 0) ||
	    (l > 5 && strcmp(path + l - 5, "/head") == 0 &&
	    strcmp(method, "PUT") == 0))
		cap = SRV_JSON_BIG_MAX;
	return cap;
}

static enum MHD_Result
send_reply(struct rq *q)
{
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;

	if (q->status == 0)
		fail(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "no response");
	r = MHD_create_response_from_buffer(q->resp_len, q->resp,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		goto out;
	q->resp = NULL;		/* MHD owns it now */
	MHD_add_response_header(r, "Content-Type",
	    q->resp_ct != NULL ? q->resp_ct : ct_json);
	if (q->truncated)
		MHD_add_response_header(r, "X-Coffer-Truncated", "1");
	ret = MHD_queue_response(q->c, q->status, r);
	MHD_destroy_response(r);
out:
	return ret;
}

static enum MHD_Result
request_begin(struct srv *s, struct MHD_Connection *c, const char *url,
    const char *method, struct rq **qp)
{
	struct rq *q;
	const char *cl;
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	uint64_t clen;
	enum MHD_Result ret = MHD_YES;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		ret = MHD_NO;
		goto out;
	}
	q->s = s;
	q->c = c;
	clock_gettime(CLOCK_MONOTONIC, &q->t0);
	atomic_fetch_add(&s->inflight, 1);
	*qp = q;
	snprintf(q->method, sizeof(q->method), "%s", method);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && (sa = ci->client_addr) != NULL) {
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, q->addr, sizeof(q->addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, q->addr,
			    sizeof(q->addr));
	}
	if (strlen(url) >= sizeof(q->path)) {
		snprintf(q->path, sizeof(q->path), "(long)");
		fail(q, MHD_HTTP_URI_TOO_LONG, "path too long");
		q->refused = 1;
		ret = send_reply(q);
		goto out;
	}
	snprintf(q->path, sizeof(q->path), "%s", url);
	q->max = body_cap(q->path, q->method);
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	if (cl != NULL && (parse_u64(cl, &clen) != 0 || clen > q->max)) {
		fail(q, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
		q->refused = 1;
		ret = send_reply(q);
	}
out:
	return ret;
}

static enum MHD_Result
request_data(struct rq *q, const char *data, size_t n)
{
	struct srv *s = q->s;
	size_t ncap;
	uint8_t *nb;
	long grow;
	enum MHD_Result ret = MHD_NO;

	if (n > q->max - q->len)
		goto out;	/* chunked past the cap: drop the connection */
	if (q->bhs == NULL) {
		/* The state wants 64-byte alignment (malloc gives 16). */
		if ((q->bhs = aligned_alloc(64, (sizeof(*q->bhs) + 63) &
		    ~(size_t)63)) == NULL)
			goto out;
		crypto_generichash_init(q->bhs, NULL, 0, sizeof(q->bh));
	}
	if (q->len + n > q->cap) {
		ncap = q->cap ? q->cap : 4096;
		while (ncap < q->len + n)
			ncap = ncap > q->max / 2 ? q->max : ncap * 2;
		/* A bound on the memory all bodies together may take: past
		 * it the connection is dropped (the client retries). */
		grow = (long)(ncap - q->cap);
		if (atomic_fetch_add(&s->body_bytes, grow) + grow >
		    SRV_BODY_BUDGET) {
			atomic_fetch_sub(&s->body_bytes, grow);
			goto out;
		}
		if ((nb = realloc(q->body, ncap)) == NULL) {
			atomic_fetch_sub(&s->body_bytes, grow);
			goto out;
		}
		q->body = nb;
		q->cap = ncap;
	}
	memcpy(q->body + q->len, data, n);
	q->len += n;
	crypto_generichash_update(q->bhs, (const uint8_t *)data, n);
	ret = MHD_YES;
out:
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct rq *q = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (q == NULL) {
		ret = request_begin(cls, c, url, method, (struct rq **)con_cls);
	} else if (q->refused) {
		/* Discard what a refused request still sends. */
		*upload_data_size = 0;
		ret = MHD_YES;
	} else if (*upload_data_size > 0) {
		ret = request_data(q, upload_data, *upload_data_size);
		*upload_data_size = 0;
	} else {
		if (q->bhs != NULL)
			crypto_generichash_final(q->bhs, q->bh, sizeof(q->bh));
		q->now = now_s();
		errno = 0;	/* an errno fail_store sees is this request's */
		route(q);
		ret = send_reply(q);
	}
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct srv *s = cls;
	struct rq *q = *con_cls;
	struct timespec t1;
	char st[16], ms[32];
	long d;

	(void)c;
	if (q == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d = (t1.tv_sec - q->t0.tv_sec) * 1000 +
	    (t1.tv_nsec - q->t0.tv_nsec) / 1000000;
	snprintf(st, sizeof(st), "%u", q->status);
	snprintf(ms, sizeof(ms), "%ld", d);
	srv_log("request", "method", q->method, "path", q->path, "status", st,
	    "ms", ms, "addr", q->addr,
	    "end", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted",
	    (const char *)NULL);
	atomic_fetch_sub(&s->body_bytes, (long)q->cap);
	atomic_fetch_sub(&s->resp_bytes, q->resv);
	free(q->body);
	free(q->bhs);
	free(q->resp);
	free(q);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

/* Parse "ADDR:PORT" or "[ADDR6]:PORT". */
static int
parse_listen(const char *l, struct sockaddr_storage *ss, socklen_t *slen,
    int *loopback)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	uint64_t port;
	size_t hl;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;
	int rc = -1;

	memset(ss, 0, sizeof(*ss));
	if ((colon = strrchr(l, ':')) == NULL ||
	    parse_u64(colon + 1, &port) != 0 || port > 65535)
		goto out;
	hl = (size_t)(colon - l);
	if (hl == 0 || hl >= sizeof(host))
		goto out;
	memcpy(host, l, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			goto out;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*slen = sizeof(*s6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	} else {
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto out;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*slen = sizeof(*s4);
		*loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	rc = 0;
out:
	return rc;
}

/*
 * Request threads may already run (the port is known only once the daemon
 * listens): fill the slot first, then publish the count (release; read
 * with acquire in auth_verify).
 */
static void
add_origin(struct srv *s, const char *o)
{
	size_t n = atomic_load_explicit(&s->norigins, memory_order_relaxed);

	if (n < sizeof(s->origins) / sizeof(s->origins[0])) {
		snprintf(s->origins[n], SRV_ORIGIN_MAX, "%s", o);
		atomic_store_explicit(&s->norigins, n + 1,
		    memory_order_release);
	}
}

int
srv_http_start(struct srv *s)
{
	struct sockaddr_storage ss, bound;
	socklen_t slen, blen = sizeof(bound);
	const union MHD_DaemonInfo *di;
	struct MHD_Daemon *d;
	struct rate *r;
	char o[SRV_ORIGIN_MAX], host[INET6_ADDRSTRLEN];
	size_t i;
	int loop = 0, rc = 0;

	if (parse_listen(s->cfg.listen, &ss, &slen, &loop) != 0) {
		rc = COFFER_EINVAL;
		goto out;
	}
	s->loopback_only = loop;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	pthread_mutex_init(&r->lock, NULL);
	s->rate = r;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
	    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, on_request, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_conn,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.max_conn_per_ip,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SRV_CONN_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.timeout,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_END);
	if (d == NULL) {
		rc = COFFER_EIO;
		goto out;
	}
	s->daemon = d;
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	if (di == NULL || getsockname(di->listen_fd, (struct sockaddr *)&bound,
	    &blen) != 0) {
		rc = COFFER_EIO;
		goto out;
	}
	if (bound.ss_family == AF_INET6)
		s->port = ntohs(((struct sockaddr_in6 *)(void *)&bound)->sin6_port);
	else
		s->port = ntohs(((struct sockaddr_in *)(void *)&bound)->sin_port);
	snprintf(o, sizeof(o), "http://127.0.0.1:%u", (unsigned)s->port);
	add_origin(s, o);
	snprintf(o, sizeof(o), "http://localhost:%u", (unsigned)s->port);
	add_origin(s, o);
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr,
		    host, sizeof(host));
		snprintf(o, sizeof(o), "http://[%s]:%u", host, (unsigned)s->port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&ss)->sin_addr,
		    host, sizeof(host));
		snprintf(o, sizeof(o), "http://%s:%u", host, (unsigned)s->port);
	}
	add_origin(s, o);
	for (i = 0; i < s->cfg.norigins; i++) {
		if (cf_req_origin(s->cfg.origins[i], o, sizeof(o)) != 0) {
			rc = COFFER_EINVAL;
			goto out;
		}
		add_origin(s, o);
	}
out:
	return rc;
}

void
srv_http_stop(struct srv *s)
{
	struct MHD_Daemon *d = s->daemon;
	struct rate *r = s->rate;
	int i;

	if (d != NULL) {
		MHD_socket lfd = MHD_quiesce_daemon(d);

		if (lfd != MHD_INVALID_SOCKET)
			close(lfd);
		/* Let requests in flight finish (bounded). */
		for (i = 0; i < SRV_DRAIN_SECONDS * 100 &&
		    atomic_load(&s->inflight) > 0; i++)
			usleep(10000);
		MHD_stop_daemon(d);
		s->daemon = NULL;
	}
	if (r != NULL) {
		pthread_mutex_destroy(&r->lock);
		free(r);
		s->rate = NULL;
	}
}
