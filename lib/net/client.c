/* The client side of the server API (docs/API.md), over libcurl. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "coffer/err.h"
#include "chain/chain.h"
#include "net/caps.h"
#include "net/client.h"
#include "net/json.h"
#include "net/reqsig.h"

#define ORIGIN_MAX	512
#define URL_MAX		2048
#define PATH_MAX_LEN	512
#define HDR_MAX		256
#define QUERY_MAX	256
#define KEY_HEX_BYTES	(2 * (CF_SIGN_PK_BYTES + CF_BOX_PK_BYTES) + 1)
#define ENTRIES_MAX	4096

static const char ct_json[] = "application/json";
static const char ct_frame[] = "application/x-coffer-frame";

static int status_rc(long);

struct cf_client {
	CURL *curl;
	char origin[ORIGIN_MAX];
	uint8_t acct[CF_ID_BYTES];
	uint8_t dev[CF_ID_BYTES];
	uint8_t sign_pk[CF_SIGN_PK_BYTES];
	uint8_t box_pk[CF_BOX_PK_BYTES];
	uint8_t *sign_sk;		/* sodium_malloc'd */
	int has_signer;
	int64_t time_offset;
	int fixed_nonce_set;
	uint8_t fixed_nonce[CF_REQ_NONCE_BYTES];
	long status;
	char errmsg[CF_CLIENT_ERRMSG_MAX];
	char errcode[CF_CLIENT_ERRCODE_MAX];
	int truncated;
	CURLM *multi;				/* parallel transfers */
	CURL *pool[CF_CLIENT_PARALLEL_MAX];	/* kept for keep-alive */
	size_t resp_max;		/* cap of the next answers; 0: RESP_MAX */
};

struct sink {
	struct cf_wr w;
	size_t cap;			/* bytes of answer taken at most */
	int over;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

/* The last refusal any connection of this process was given. */
static pthread_mutex_t refusal_mu = PTHREAD_MUTEX_INITIALIZER;
static long refusal_status;
static char refusal_code[CF_CLIENT_ERRCODE_MAX];
static char refusal_msg[CF_CLIENT_ERRMSG_MAX];

static void
curl_init_once(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void
cf_blobs_free(struct cf_blobs *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		free(b->p[i]);
	free(b->p);
	free(b->len);
	memset(b, 0, sizeof(*b));
}

int
cf_client_new(const char *url, struct cf_client **cp)
{
	struct cf_client *c = NULL;
	int rc = 0;

	*cp = NULL;
	pthread_once(&curl_once, curl_init_once);
	if (!curl_ok) {
		rc = COFFER_EINTERNAL;
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if ((rc = cf_req_origin(url, c->origin, sizeof(c->origin))) != 0)
		goto out;
	if ((c->curl = curl_easy_init()) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	*cp = c;
	c = NULL;
out:
	cf_client_free(c);
	return rc;
}

void
cf_client_free(struct cf_client *c)
{
	if (c == NULL)
		return;
	size_t i;

	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	for (i = 0; i < CF_CLIENT_PARALLEL_MAX; i++)
		if (c->pool[i] != NULL)
			curl_easy_cleanup(c->pool[i]);
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	if (c->sign_sk != NULL)
		sodium_free(c->sign_sk);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

int
cf_client_set_signer(struct cf_client *c,
    const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES])
{
	int rc = 0;

	if (c->sign_sk == NULL &&
	    (c->sign_sk = sodium_malloc(CF_SIGN_SK_BYTES)) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	memcpy(c->sign_sk, sign_sk, CF_SIGN_SK_BYTES);
	memcpy(c->acct, account_id, CF_ID_BYTES);
	memcpy(c->sign_pk, sign_pk, CF_SIGN_PK_BYTES);
	memcpy(c->box_pk, box_pk, CF_BOX_PK_BYTES);
	cf_device_id(sign_pk, box_pk, c->dev);
	c->has_signer = 1;
out:
	return rc;
}

const char *
cf_client_error(const struct cf_client *c, long *statusp)
{
	if (statusp != NULL)
		*statusp = c->status;
	return c->errmsg;
}

const char *
cf_client_error_code(const struct cf_client *c)
{
	return c->errcode;
}

void
cf_client_test_hooks(struct cf_client *c, int64_t time_offset,
    const uint8_t *fixed_nonce)
{
	c->time_offset = time_offset;
	c->fixed_nonce_set = fixed_nonce != NULL;
	if (fixed_nonce != NULL)
		memcpy(c->fixed_nonce, fixed_nonce, CF_REQ_NONCE_BYTES);
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, taken = 0;

	if (n > 0 && (n > s->cap || s->w.len > s->cap - n)) {
		s->over = 1;	/* an answer past the cap: abort the transfer */
	} else {
		cf_wr_bytes(&s->w, p, n);
		taken = s->w.err ? 0 : n;
	}
	return taken;
}

/*
 * A stable error code of the server's ("quota", "disk_full",
 * "device_removed"): a short token of [a-z_], else nothing.
 */
static void
keep_code(char *out, json_t *v)
{
	const char *p;
	size_t i, n;

	out[0] = '\0';
	if (v == NULL || !json_is_string(v))
		return;
	p = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n >= CF_CLIENT_ERRCODE_MAX)
		return;
	for (i = 0; i < n; i++)
		if ((p[i] < 'a' || p[i] > 'z') && p[i] != '_')
			return;
	memcpy(out, p, n + 1);
}

/*
 * Keep the server's {"error": MESSAGE, "code": CODE} of a failed call
 * (the message as sent, cut to CF_CLIENT_ERRMSG_MAX - 1 bytes: untrusted
 * text, for the caller to make safe before showing it), and, if the
 * status is a refusal, as the process's last refusal too.
 */
static void
keep_error(struct cf_client *c, long status, const uint8_t *body, size_t len)
{
	json_t *o = NULL;
	json_t *e;

	c->errmsg[0] = '\0';
	c->errcode[0] = '\0';
	if (body != NULL && len > 0 &&
	    (o = json_loadb((const char *)body, len, 0, NULL)) != NULL &&
	    json_is_object(o)) {
		if ((e = json_object_get(o, "error")) != NULL &&
		    json_is_string(e))
			snprintf(c->errmsg, sizeof(c->errmsg), "%s",
			    json_string_value(e));
		keep_code(c->errcode, json_object_get(o, "code"));
	}
	json_decref(o);
	if (status_rc(status) != COFFER_EDENIED)
		return;
	pthread_mutex_lock(&refusal_mu);
	refusal_status = status;
	memcpy(refusal_code, c->errcode, sizeof(refusal_code));
	memcpy(refusal_msg, c->errmsg, sizeof(refusal_msg));
	pthread_mutex_unlock(&refusal_mu);
}

long
cf_client_last_refusal(char code[static CF_CLIENT_ERRCODE_MAX],
    char msg[static CF_CLIENT_ERRMSG_MAX])
{
	long st;

	pthread_mutex_lock(&refusal_mu);
	st = refusal_status;
	memcpy(code, refusal_code, CF_CLIENT_ERRCODE_MAX);
	memcpy(msg, refusal_msg, CF_CLIENT_ERRMSG_MAX);
	pthread_mutex_unlock(&refusal_mu);
	return st;
}

static int
add_hdr(struct curl_slist **l, const char *name, const char *value)
{
	char h[HDR_MAX + KEY_HEX_BYTES];
	struct curl_slist *n;
	int k = snprintf(h, sizeof(h), "%s: %s", name, value), rc = 0;

	if (k < 0 || (size_t)k >= sizeof(h))
		rc = COFFER_EINVAL;
	else if ((n = curl_slist_append(*l, h)) == NULL)
		rc = COFFER_ENOMEM;
	else
		*l = n;
	return rc;
}

/* One transfer: an easy handle set up with a signed request. */
struct xfer {
	CURL *e;
	struct curl_slist *hl;
	struct sink s;
	struct cf_client *c;
	int truncated;
	char url[URL_MAX];
};

static size_t
on_header_x(char *p, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nitems;
	static const char name[] = "X-Coffer-Truncated:";

	if (n >= sizeof(name) - 1 &&
	    strncasecmp(p, name, sizeof(name) - 1) == 0)
		x->truncated = 1;
	return n;
}

static void
xfer_release(struct xfer *x)
{
	cf_wr_free(&x->s.w);
	curl_slist_free_all(x->hl);
	x->hl = NULL;
}

/*
 * Sign a request and set up ${x->e} to send it (the body is not copied:
 * it must live until the transfer ends).
 */
static int
xfer_setup(struct cf_client *c, struct xfer *x, const char *method,
    const char *path, const char *query, const char *ctype,
    const uint8_t *body, size_t len, int self_signed, const char *invite)
{
	struct cf_req r;
	uint8_t nonce[CF_REQ_NONCE_BYTES], sig[CF_SIG_BYTES];
	uint8_t both[CF_SIGN_PK_BYTES + CF_BOX_PK_BYTES];
	char keyhex[KEY_HEX_BYTES], h[2 * CF_SIG_BYTES + 1], tbuf[32];
	int64_t t;
	int rc = 0, k, sign = c->has_signer && strncmp(path, "/v1/names/", 10) != 0;

	memset(&r, 0, sizeof(r));
	x->c = c;
	x->hl = NULL;
	x->truncated = 0;
	x->s.cap = c->resp_max != 0 ? c->resp_max : CF_CLIENT_RESP_MAX;
	cf_wr_init(&x->s.w, x->s.cap + 1, 0);
	x->s.over = 0;
	k = snprintf(x->url, sizeof(x->url), "%s%s%s%s", c->origin, path,
	    query[0] != '\0' ? "?" : "", query);
	if (k < 0 || (size_t)k >= sizeof(x->url)) {
		rc = COFFER_EINVAL;
		goto out;
	}
	keyhex[0] = '\0';
	if (self_signed) {
		memcpy(both, c->sign_pk, CF_SIGN_PK_BYTES);
		memcpy(both + CF_SIGN_PK_BYTES, c->box_pk, CF_BOX_PK_BYTES);
		sodium_bin2hex(keyhex, sizeof(keyhex), both, sizeof(both));
	}
	if (sign) {
		t = (int64_t)time(NULL) + c->time_offset;
		if (c->fixed_nonce_set)
			memcpy(nonce, c->fixed_nonce, sizeof(nonce));
		else
			randombytes_buf(nonce, sizeof(nonce));
		r.origin = c->origin;
		r.account_id = c->acct;
		r.device_id = c->dev;
		r.method = method;
		r.path = path;
		r.query = query;
		r.content_type = ctype;
		r.key_hex = keyhex;
		r.invite = invite;
		r.time = t < 0 ? 0 : (uint64_t)t;
		r.nonce = nonce;
		r.body = body;
		r.body_len = len;
		if ((rc = cf_req_sign(&r, c->sign_sk, sig)) != 0)
			goto out;
		sodium_bin2hex(h, sizeof(h), c->acct, CF_ID_BYTES);
		if ((rc = add_hdr(&x->hl, "X-Coffer-Account", h)) != 0)
			goto out;
		sodium_bin2hex(h, sizeof(h), c->dev, CF_ID_BYTES);
		if ((rc = add_hdr(&x->hl, "X-Coffer-Device", h)) != 0)
			goto out;
		snprintf(tbuf, sizeof(tbuf), "%llu", (unsigned long long)r.time);
		if ((rc = add_hdr(&x->hl, "X-Coffer-Time", tbuf)) != 0)
			goto out;
		sodium_bin2hex(h, sizeof(h), nonce, sizeof(nonce));
		if ((rc = add_hdr(&x->hl, "X-Coffer-Nonce", h)) != 0)
			goto out;
		sodium_bin2hex(h, sizeof(h), sig, sizeof(sig));
		if ((rc = add_hdr(&x->hl, "X-Coffer-Signature", h)) != 0)
			goto out;
		if (self_signed &&
		    (rc = add_hdr(&x->hl, "X-Coffer-Key", keyhex)) != 0)
			goto out;
		if (invite[0] != '\0' &&
		    (rc = add_hdr(&x->hl, "X-Coffer-Invite", invite)) != 0)
			goto out;
	}
	if (ctype[0] != '\0' &&
	    (rc = add_hdr(&x->hl, "Content-Type", ctype)) != 0)
		goto out;
	{
		struct curl_slist *n = curl_slist_append(x->hl, "Expect:");

		if (n == NULL) {
			rc = COFFER_ENOMEM;
			goto out;
		}
		x->hl = n;
	}
	curl_easy_reset(x->e);		/* keeps the connection cache */
	curl_easy_setopt(x->e, CURLOPT_URL, x->url);
	curl_easy_setopt(x->e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, x->hl);
	curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->e, CURLOPT_WRITEDATA, &x->s);
	curl_easy_setopt(x->e, CURLOPT_HEADERFUNCTION, on_header_x);
	curl_easy_setopt(x->e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->e, CURLOPT_TIMEOUT, (long)CF_CLIENT_TIMEOUT);
	curl_easy_setopt(x->e, CURLOPT_CONNECTTIMEOUT,
	    (long)CF_CLIENT_CONNECT_TIMEOUT);
	curl_easy_setopt(x->e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(x->e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(x->e, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(x->e, CURLOPT_POST, 1L);
		curl_easy_setopt(x->e, CURLOPT_POSTFIELDS,
		    body != NULL ? (const char *)body : "");
		curl_easy_setopt(x->e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(x->e, CURLOPT_CUSTOMREQUEST, method);
	}
out:
	sodium_memzero(&r, sizeof(r));
	if (rc != 0)
		xfer_release(x);
	return rc;
}

/*
 * After the transfer: the status and the body (malloc'd, NUL-terminated)
 * whatever the status; the server's message kept for a failure.
 */
static int
xfer_finish(struct xfer *x, CURLcode cc, long *statusp, uint8_t **respp,
    size_t *resplenp)
{
	struct cf_client *c = x->c;
	long status = 0;
	int rc = 0;

	*statusp = 0;
	*respp = NULL;
	*resplenp = 0;
	if (cc != CURLE_OK) {
		rc = x->s.over ? COFFER_ENOTAUTHENTIC : COFFER_EUNREACHABLE;
		c->errcode[0] = '\0';
		snprintf(c->errmsg, sizeof(c->errmsg), "%s",
		    curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
	c->status = status;
	c->truncated = x->truncated;
	*statusp = status;
	cf_wr_u8(&x->s.w, 0);		/* NUL-terminate for JSON parsing */
	if ((rc = cf_wr_finish(&x->s.w, respp, resplenp)) != 0)
		goto out;
	(*resplenp)--;
	if (status < 200 || status > 299)
		keep_error(c, status, *respp, *resplenp);
out:
	xfer_release(x);
	return rc;
}

int
cf_client_raw(struct cf_client *c, const char *method, const char *path,
    const char *query, const char *ctype, const uint8_t *body, size_t len,
    int self_signed, const char *invite, long *statusp, uint8_t **respp,
    size_t *resplenp)
{
	struct xfer x;
	int rc;

	*statusp = 0;
	*respp = NULL;
	*resplenp = 0;
	c->status = 0;
	c->errmsg[0] = '\0';
	c->errcode[0] = '\0';
	c->truncated = 0;
	memset(&x, 0, sizeof(x));
	x.e = c->curl;
	if ((rc = xfer_setup(c, &x, method, path, query != NULL ? query : "",
	    ctype != NULL ? ctype : "", body, len, self_signed,
	    invite != NULL ? invite : "")) == 0)
		rc = xfer_finish(&x, curl_easy_perform(c->curl), statusp,
		    respp, resplenp);
	return rc;
}

/* Map an HTTP status to a library error. */
static int
status_rc(long st)
{
	int rc;

	if (st >= 200 && st <= 299)
		rc = 0;
	else if (st == 404 || st == 422)
		rc = COFFER_ENOENT;
	else if (st == 409)
		rc = COFFER_ECONFLICT;
	else if (st == 413)
		rc = COFFER_ETOOBIG;
	else
		rc = COFFER_EDENIED;
	return rc;
}

/*
 * A JSON call: sends ${req} (may be NULL: no body), returns the parsed
 * answer of a 2xx in ${*outp} (and, for 409, too: the current value).
 */
static int
jcall(struct cf_client *c, const char *method, const char *path,
    const char *query, json_t *req, int self_signed, const char *invite,
    json_t **outp)
{
	char *txt = NULL;
	uint8_t *resp = NULL;
	size_t rlen = 0;
	long st = 0;
	int rc;

	*outp = NULL;
	if (req != NULL && (txt = json_dumps(req, JSON_COMPACT)) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if ((rc = cf_client_raw(c, method, path, query,
	    txt != NULL ? ct_json : "", (const uint8_t *)txt,
	    txt != NULL ? strlen(txt) : 0, self_signed, invite, &st, &resp,
	    &rlen)) != 0)
		goto out;
	rc = status_rc(st);
	if (rc == 0 || rc == COFFER_ECONFLICT) {
		if ((*outp = cf_json_object(resp, rlen)) == NULL)
			rc = COFFER_ENOTAUTHENTIC;
	}
out:
	free(txt);
	free(resp);
	return rc;
}

/*
 * The server's answers go through the one JSON helper set (net/json.h);
 * an answer that breaks its rules is not authentic.
 */
static int
answer_rc(int rc)
{
	return rc == COFFER_EFORMAT ? COFFER_ENOTAUTHENTIC : rc;
}

/* A base64 field of an answer: 1 to ${max} bytes (none is empty). */
static int
unb64(json_t *v, size_t max, uint8_t **pp, size_t *lenp)
{
	return answer_rc(cf_json_b64(v, 1, max, pp, lenp));
}

static int
unhex(json_t *v, uint8_t *out, size_t n)
{
	return answer_rc(cf_json_hex(v, out, n));
}

static int
ju64(json_t *o, const char *key, uint64_t *v)
{
	return answer_rc(cf_json_u64(o, key, v));
}

static json_t *
blobs_json(const struct cf_blobs *b)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && b != NULL && i < b->n; i++) {
		if (json_array_append_new(arr, cf_json_b64_new(b->p[i], b->len[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

static int
json_blobs(json_t *arr, size_t maxn, size_t maxlen, struct cf_blobs *out)
{
	size_t i, n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (arr == NULL || !json_is_array(arr) ||
	    (n = json_array_size(arr)) > maxn) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if (n == 0)
		goto out;
	if ((out->p = calloc(n, sizeof(*out->p))) == NULL ||
	    (out->len = calloc(n, sizeof(*out->len))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rc = unb64(json_array_get(arr, i), maxlen, &out->p[i],
		    &out->len[i])) != 0)
			goto out;
		out->n = i + 1;
	}
out:
	if (rc != 0)
		cf_blobs_free(out);
	return rc;
}

static int
acct_path(struct cf_client *c, char *out, size_t outlen, const char *tail,
    const uint8_t *x, const char *tail2)
{
	char a[2 * CF_ID_BYTES + 1], b[2 * CF_ID_BYTES + 1];
	int k;

	sodium_bin2hex(a, sizeof(a), c->acct, CF_ID_BYTES);
	if (x != NULL)
		sodium_bin2hex(b, sizeof(b), x, CF_ID_BYTES);
	k = snprintf(out, outlen, "/v1/accounts/%s/%s%s%s%s", a, tail,
	    x != NULL ? "/" : "", x != NULL ? b : "",
	    tail2 != NULL ? tail2 : "");
	return (k < 0 || (size_t)k >= outlen) ? COFFER_EINVAL : 0;
}

int
cf_client_account_create(struct cf_client *c, const char *name,
    const uint8_t *genesis, size_t glen, const struct cf_blobs *envelopes,
    const char *invite)
{
	json_t *req = NULL, *out = NULL;
	uint8_t id[CF_ID_BYTES];
	int rc;

	req = json_pack("{s:s,s:o,s:o}", "name", name, "genesis",
	    cf_json_b64_new(genesis, glen), "envelopes", blobs_json(envelopes));
	if (req == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if ((rc = jcall(c, "POST", "/v1/accounts", "", req, 1, invite,
	    &out)) != 0)
		goto out;
	if ((rc = unhex(json_object_get(out, "account_id"), id,
	    CF_ID_BYTES)) != 0)
		goto out;
	if (memcmp(id, c->acct, CF_ID_BYTES) != 0)
		rc = COFFER_ENOTAUTHENTIC;
out:
	json_decref(req);
	json_decref(out);
	return rc;
}

int
cf_client_name_lookup(struct cf_client *c, const char *name,
    uint8_t account_id[static CF_ID_BYTES])
{
	char path[PATH_MAX_LEN];
	json_t *out = NULL;
	int rc, k;

	memset(account_id, 0, CF_ID_BYTES);
	k = snprintf(path, sizeof(path), "/v1/names/%s", name);
	if (k < 0 || (size_t)k >= sizeof(path) || strchr(name, '/') != NULL ||
	    strchr(name, '?') != NULL) {
		rc = COFFER_EINVAL;
		goto out;
	}
	if ((rc = jcall(c, "GET", path, "", NULL, 0, NULL, &out)) != 0)
		goto out;
	rc = unhex(json_object_get(out, "account_id"), account_id, CF_ID_BYTES);
out:
	json_decref(out);
	return rc;
}

/*
 * GET /v1/accounts/{acct}/${what}?${key}=${val}: the account's resource
 * with one query parameter, its JSON answer in ${*outp}.
 */
static int
get_acct_q(struct cf_client *c, const char *what, const char *key,
    const char *val, json_t **outp)
{
	char path[PATH_MAX_LEN], q[QUERY_MAX];
	const char *keys[1] = { key }, *vals[1] = { val };
	int rc;

	*outp = NULL;
	if ((rc = acct_path(c, path, sizeof(path), what, NULL, NULL)) != 0 ||
	    (rc = cf_req_query_canon(keys, vals, 1, q, sizeof(q))) != 0)
		return rc;
	return jcall(c, "GET", path, q, NULL, 0, NULL, outp);
}

int
cf_client_chain_get(struct cf_client *c, uint64_t from,
    struct cf_blobs *entries, uint64_t *lengthp)
{
	char v[24];
	json_t *out = NULL;
	int rc;

	memset(entries, 0, sizeof(*entries));
	*lengthp = 0;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)from);
	/* A page an honest server sends fits; a bigger one is a lie. */
	c->resp_max = CF_CLIENT_CHAIN_PAGE_MAX;
	rc = get_acct_q(c, "chain", "from", v, &out);
	c->resp_max = 0;
	if (rc != 0)
		goto out;
	if ((rc = ju64(out, "length", lengthp)) != 0)
		goto out;
	rc = json_blobs(json_object_get(out, "entries"), ENTRIES_MAX,
	    CF_WIRE_ENTRY_MAX, entries);
out:
	json_decref(out);
	return rc;
}

int
cf_client_chain_append(struct cf_client *c, uint64_t seq,
    const uint8_t *entry, size_t len, const struct cf_blobs *envelopes,
    int self_signed, uint64_t *lengthp)
{
	char path[PATH_MAX_LEN];
	json_t *req = NULL, *out = NULL;
	int rc, rc2;

	*lengthp = 0;
	if ((rc = acct_path(c, path, sizeof(path), "chain", NULL, NULL)) != 0)
		goto out;
	req = json_pack("{s:I,s:o,s:o}", "seq", (json_int_t)seq, "entry",
	    cf_json_b64_new(entry, len), "envelopes", blobs_json(envelopes));
	if (req == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = jcall(c, "POST", path, "", req, self_signed, NULL, &out);
	if (out != NULL && (rc2 = ju64(out, "length", lengthp)) != 0)
		rc = rc2;
out:
	json_decref(req);
	json_decref(out);
	return rc;
}

int
cf_client_envelopes_put(struct cf_client *c, const struct cf_blobs *envelopes)
{
	char path[PATH_MAX_LEN];
	json_t *req = NULL, *out = NULL;
	int rc;

	if ((rc = acct_path(c, path, sizeof(path), "envelopes", NULL,
	    NULL)) != 0)
		goto out;
	if ((req = json_pack("{s:o}", "envelopes", blobs_json(envelopes))) ==
	    NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = jcall(c, "POST", path, "", req, 0, NULL, &out);
out:
	json_decref(req);
	json_decref(out);
	return rc;
}

int
cf_client_envelopes_get(struct cf_client *c,
    const uint8_t recipient[static CF_ID_BYTES], struct cf_blobs *outb)
{
	char h[2 * CF_ID_BYTES + 1];
	json_t *out = NULL;
	int rc;

	memset(outb, 0, sizeof(*outb));
	sodium_bin2hex(h, sizeof(h), recipient, CF_ID_BYTES);
	if ((rc = get_acct_q(c, "envelopes", "recipient", h, &out)) != 0)
		goto out;
	rc = json_blobs(json_object_get(out, "envelopes"), ENTRIES_MAX,
	    CF_WIRE_ENVELOPE_MAX, outb);
out:
	json_decref(out);
	return rc;
}

int
cf_client_join_post(struct cf_client *c, const uint8_t *jreq, size_t len,
    uint64_t *expiresp)
{
	char path[PATH_MAX_LEN];
	json_t *req = NULL, *out = NULL;
	int rc;

	*expiresp = 0;
	if ((rc = acct_path(c, path, sizeof(path), "joins", NULL, NULL)) != 0)
		goto out;
	if ((req = json_pack("{s:o}", "request", cf_json_b64_new(jreq, len))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if ((rc = jcall(c, "POST", path, "", req, 1, NULL, &out)) != 0)
		goto out;
	rc = ju64(out, "expires", expiresp);
out:
	json_decref(req);
	json_decref(out);
	return rc;
}

void
cf_client_joins_free(struct cf_join_pending *list, size_t n)
{
	size_t i;

	for (i = 0; list != NULL && i < n; i++)
		free(list[i].request);
	free(list);
}

int
cf_client_joins_list(struct cf_client *c, struct cf_join_pending **listp,
    size_t *np)
{
	char path[PATH_MAX_LEN];
	json_t *out = NULL, *arr, *e;
	struct cf_join_pending *l = NULL;
	size_t n = 0, i;
	int rc;

	*listp = NULL;
	*np = 0;
	if ((rc = acct_path(c, path, sizeof(path), "joins", NULL, NULL)) != 0)
		goto out;
	if ((rc = jcall(c, "GET", path, "", NULL, 0, NULL, &out)) != 0)
		goto out;
	arr = json_object_get(out, "requests");
	if (arr == NULL || !json_is_array(arr) ||
	    json_array_size(arr) > ENTRIES_MAX) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if (json_array_size(arr) > 0 &&
	    (l = calloc(json_array_size(arr), sizeof(*l))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	json_array_foreach(arr, i, e) {
		if ((rc = unhex(json_object_get(e, "device_id"),
		    l[i].device_id, CF_ID_BYTES)) != 0 ||
		    (rc = ju64(e, "expires", &l[i].expires)) != 0 ||
		    (rc = unb64(json_object_get(e, "request"),
		    CF_WIRE_JOIN_MAX, &l[i].request, &l[i].len)) != 0)
			goto out;
		n = i + 1;
	}
	*listp = l;
	*np = n;
	l = NULL;
out:
	cf_client_joins_free(l, n);
	json_decref(out);
	return rc;
}

int
cf_client_approval_put(struct cf_client *c,
    const uint8_t device_id[static CF_ID_BYTES], const uint8_t *ap, size_t len)
{
	char path[PATH_MAX_LEN];
	json_t *req = NULL, *out = NULL;
	int rc;

	if ((rc = acct_path(c, path, sizeof(path), "joins", device_id,
	    "/approval")) != 0)
		goto out;
	if ((req = json_pack("{s:o}", "approval", cf_json_b64_new(ap, len))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = jcall(c, "PUT", path, "", req, 0, NULL, &out);
out:
	json_decref(req);
	json_decref(out);
	return rc;
}

int
cf_client_join_withdraw(struct cf_client *c,
    const uint8_t device_id[static CF_ID_BYTES], const uint8_t *sig,
    size_t siglen)
{
	char path[PATH_MAX_LEN];
	json_t *req = NULL, *out = NULL;
	int rc;

	if ((rc = acct_path(c, path, sizeof(path), "joins", device_id,
	    NULL)) != 0)
		goto out;
	if ((req = json_pack("{s:o}", "withdrawal", cf_json_b64_new(sig, siglen))) ==
	    NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = jcall(c, "DELETE", path, "", req, 1, NULL, &out);
out:
	json_decref(req);
	json_decref(out);
	return rc;
}

int
cf_client_approval_get(struct cf_client *c,
    const uint8_t device_id[static CF_ID_BYTES], int self_signed,
    uint8_t **app, size_t *lenp)
{
	char path[PATH_MAX_LEN];
	json_t *out = NULL, *v;
	int rc;

	*app = NULL;
	*lenp = 0;
	if ((rc = acct_path(c, path, sizeof(path), "joins", device_id,
	    "/approval")) != 0)
		goto out;
	if ((rc = jcall(c, "GET", path, "", NULL, self_signed, NULL,
	    &out)) != 0)
		goto out;
	v = json_object_get(out, "approval");
	if (v == NULL) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if (!json_is_null(v))
		rc = unb64(v, CF_WIRE_APPROVAL_MAX, app, lenp);
out:
	json_decref(out);
	return rc;
}

int
cf_client_dir_get(struct cf_client *c, uint64_t *versionp, uint8_t **recp,
    size_t *lenp)
{
	char path[PATH_MAX_LEN];
	json_t *out = NULL, *v;
	int rc;

	*versionp = 0;
	*recp = NULL;
	*lenp = 0;
	if ((rc = acct_path(c, path, sizeof(path), "directory", NULL,
	    NULL)) != 0)
		goto out;
	if ((rc = jcall(c, "GET", path, "", NULL, 0, NULL, &out)) != 0 ||
	    (rc = ju64(out, "version", versionp)) != 0)
		goto out;
	v = json_object_get(out, "record");
	if (v == NULL || (json_is_null(v) != (*versionp == 0))) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if (!json_is_null(v))
		rc = unb64(v, CF_WIRE_DIR_MAX, recp, lenp);
out:
	json_decref(out);
	return rc;
}

/* The answer of GET .../directory/records (API §4). */
static int
dir_records_json(json_t *out, struct cf_blobs *recs, uint64_t *versionp)
{
	int rc;

	if (out == NULL || !json_is_object(out) ||
	    (rc = ju64(out, "version", versionp)) != 0)
		return COFFER_ENOTAUTHENTIC;
	return json_blobs(json_object_get(out, "records"),
	    CF_CLIENT_DIR_PAGE_MAX, CF_WIRE_DIR_MAX, recs);
}

int
cf_client_dir_records_parse(const uint8_t *body, size_t len,
    struct cf_blobs *recs, uint64_t *versionp)
{
	json_t *out;
	int rc;

	memset(recs, 0, sizeof(*recs));
	*versionp = 0;
	if (len > CF_CLIENT_RESP_MAX)
		return COFFER_ENOTAUTHENTIC;
	out = cf_json_object(body, len);
	rc = dir_records_json(out, recs, versionp);
	json_decref(out);
	return rc;
}

int
cf_client_dir_records(struct cf_client *c, uint64_t after,
    struct cf_blobs *recs, uint64_t *versionp)
{
	char v[24];
	json_t *out = NULL;
	int rc;

	memset(recs, 0, sizeof(*recs));
	*versionp = 0;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)after);
	if ((rc = get_acct_q(c, "directory/records", "after", v, &out)) != 0)
		goto out;
	rc = dir_records_json(out, recs, versionp);
out:
	json_decref(out);
	return rc;
}

int
cf_client_dir_put(struct cf_client *c, uint64_t expect, const uint8_t *rec,
    size_t len, uint64_t *currentp)
{
	char path[PATH_MAX_LEN];
	json_t *req = NULL, *out = NULL;
	int rc, rc2;

	*currentp = 0;
	if ((rc = acct_path(c, path, sizeof(path), "directory", NULL,
	    NULL)) != 0)
		goto out;
	if ((req = json_pack("{s:I,s:o}", "expect", (json_int_t)expect,
	    "record", cf_json_b64_new(rec, len))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = jcall(c, "PUT", path, "", req, 0, NULL, &out);
	if (out != NULL && (rc2 = ju64(out, "version", currentp)) != 0)
		rc = rc2;
out:
	json_decref(req);
	json_decref(out);
	return rc;
}

int
cf_client_head_get(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], uint64_t *versionp,
    uint8_t commit[static CF_ID_BYTES])
{
	char path[PATH_MAX_LEN];
	json_t *out = NULL, *v;
	int rc;

	*versionp = 0;
	memset(commit, 0, CF_ID_BYTES);
	if ((rc = acct_path(c, path, sizeof(path), "drives", drive,
	    "/head")) != 0)
		goto out;
	if ((rc = jcall(c, "GET", path, "", NULL, 0, NULL, &out)) != 0 ||
	    (rc = ju64(out, "version", versionp)) != 0)
		goto out;
	v = json_object_get(out, "commit");
	if (v == NULL || (json_is_null(v) != (*versionp == 0))) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if (!json_is_null(v))
		rc = unhex(v, commit, CF_ID_BYTES);
out:
	json_decref(out);
	return rc;
}

int
cf_client_head_put(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], uint64_t expect,
    const uint8_t commit[static CF_ID_BYTES], const uint8_t *delta,
    size_t dlen, uint64_t *currentp)
{
	char path[PATH_MAX_LEN];
	json_t *req = NULL, *out = NULL;
	int rc, rc2;

	*currentp = 0;
	if ((rc = acct_path(c, path, sizeof(path), "drives", drive,
	    "/head")) != 0)
		goto out;
	if ((req = json_pack("{s:I,s:o,s:o}", "expect", (json_int_t)expect,
	    "commit", cf_json_hex_new(commit, CF_ID_BYTES), "delta",
	    cf_json_b64_new(delta, dlen))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = jcall(c, "PUT", path, "", req, 0, NULL, &out);
	if (out != NULL && (rc2 = ju64(out, "version", currentp)) != 0)
		rc = rc2;
out:
	json_decref(req);
	json_decref(out);
	return rc;
}

/* POST a frame to objects/${op}; the answer frame on 2xx. */
static int
fcall(struct cf_client *c, const uint8_t *drive, const char *op,
    const uint8_t *frame, size_t flen, uint8_t **respp, size_t *rlenp)
{
	char path[PATH_MAX_LEN], tail[32];
	long st = 0;
	int rc;

	*respp = NULL;
	*rlenp = 0;
	snprintf(tail, sizeof(tail), "/objects/%s", op);
	if ((rc = acct_path(c, path, sizeof(path), "drives", drive, tail)) != 0)
		goto out;
	if ((rc = cf_client_raw(c, "POST", path, "", ct_frame, frame, flen, 0,
	    NULL, &st, respp, rlenp)) != 0)
		goto out;
	if ((rc = status_rc(st)) != 0) {
		free(*respp);
		*respp = NULL;
		*rlenp = 0;
	}
out:
	return rc;
}

static int
ids_frame(const uint8_t (*ids)[CF_ID_BYTES], size_t n, uint8_t **fp,
    size_t *flenp)
{
	struct cf_frame_w f;
	size_t i;
	int rc = 0;

	cf_frame_begin(&f);
	for (i = 0; i < n && rc == 0; i++)
		rc = cf_frame_add(&f, ids[i], NULL, 0);
	if (rc != 0)
		cf_frame_abort(&f);
	else
		rc = cf_frame_finish(&f, fp, flenp);
	return rc;
}

/*
 * Match answer items to the request ids: each answer id must be one that
 * was asked for, in request order, at most once.  ${idx}[k] is the
 * request index of answer item k.
 */
static int
match_ids(const uint8_t (*ids)[CF_ID_BYTES], size_t n,
    const struct cf_frame_item *it, size_t m, size_t *idx)
{
	size_t i = 0, k;
	int rc = 0;

	for (k = 0; k < m && rc == 0; k++) {
		while (i < n && memcmp(ids[i], it[k].id, CF_ID_BYTES) != 0)
			i++;
		if (i == n) {
			rc = COFFER_ENOTAUTHENTIC;
		} else {
			if (idx != NULL)
				idx[k] = i;
			i++;
		}
	}
	return rc;
}

int
cf_client_objects_have(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, uint8_t *have)
{
	uint8_t *frame = NULL, *resp = NULL;
	size_t flen = 0, rlen = 0, m = 0, k, *idx = NULL;
	struct cf_frame_item *it = NULL;
	int rc;

	if (n > 0)
		memset(have, 0, n);
	if ((rc = ids_frame(ids, n, &frame, &flen)) != 0)
		goto out;
	if ((rc = fcall(c, drive, "have", frame, flen, &resp, &rlen)) != 0)
		goto out;
	if ((rc = cf_frame_decode(resp, rlen, COFFER_ENOTAUTHENTIC, &it,
	    &m)) != 0)
		goto out;
	if (m > 0 && (idx = calloc(m, sizeof(*idx))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if ((rc = match_ids(ids, n, it, m, idx)) != 0)
		goto out;
	for (k = 0; k < m; k++) {
		if (it[k].len != 0) {
			rc = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		have[idx[k]] = 1;
	}
out:
	free(idx);
	free(it);
	free(frame);
	free(resp);
	return rc;
}

int
cf_client_objects_put(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const struct cf_frame_item *items,
    size_t n, uint64_t *storedp)
{
	struct cf_frame_w f;
	uint8_t *frame = NULL, *resp = NULL;
	size_t flen = 0, rlen = 0, i;
	json_t *out = NULL;
	int rc = 0;

	*storedp = 0;
	cf_frame_begin(&f);
	for (i = 0; i < n && rc == 0; i++)
		rc = cf_frame_add(&f, items[i].id, items[i].data, items[i].len);
	if (rc != 0) {
		cf_frame_abort(&f);
		goto out;
	}
	if ((rc = cf_frame_finish(&f, &frame, &flen)) != 0)
		goto out;
	if ((rc = fcall(c, drive, "put", frame, flen, &resp, &rlen)) != 0)
		goto out;
	if ((out = cf_json_object(resp, rlen)) == NULL) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	rc = ju64(out, "stored", storedp);
out:
	json_decref(out);
	free(frame);
	free(resp);
	return rc;
}

int
cf_client_objects_put_frame(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const uint8_t *frame,
    size_t flen, uint64_t *storedp)
{
	uint8_t *resp = NULL;
	size_t rlen = 0;
	json_t *out = NULL;
	int rc;

	*storedp = 0;
	if ((rc = fcall(c, drive, "put", frame, flen, &resp, &rlen)) != 0)
		goto out;
	if ((out = cf_json_object(resp, rlen)) == NULL) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	rc = ju64(out, "stored", storedp);
out:
	json_decref(out);
	free(resp);
	return rc;
}

int
cf_client_objects_get(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, uint8_t **framep, size_t *framelenp,
    struct cf_frame_item **itemsp, size_t *nitemsp, int *truncatedp)
{
	uint8_t *frame = NULL, *resp = NULL;
	size_t flen = 0, rlen = 0, m = 0;
	struct cf_frame_item *it = NULL;
	int rc;

	*framep = NULL;
	*framelenp = 0;
	*itemsp = NULL;
	*nitemsp = 0;
	*truncatedp = 0;
	if ((rc = ids_frame(ids, n, &frame, &flen)) != 0)
		goto out;
	if ((rc = fcall(c, drive, "get", frame, flen, &resp, &rlen)) != 0)
		goto out;
	if ((rc = cf_frame_decode(resp, rlen, COFFER_ENOTAUTHENTIC, &it,
	    &m)) != 0)
		goto out;
	if ((rc = match_ids(ids, n, it, m, NULL)) != 0)
		goto out;
	*truncatedp = c->truncated;
	*framep = resp;
	*framelenp = rlen;
	*itemsp = it;
	*nitemsp = m;
	resp = NULL;
	it = NULL;
out:
	free(it);
	free(frame);
	free(resp);
	return rc;
}

int
cf_client_quota(struct cf_client *c, uint64_t *usedp, uint64_t *limitp,
    uint64_t *objectsp)
{
	char path[PATH_MAX_LEN];
	json_t *out = NULL;
	int rc;

	*usedp = *limitp = *objectsp = 0;
	if ((rc = acct_path(c, path, sizeof(path), "quota", NULL, NULL)) != 0)
		goto out;
	if ((rc = jcall(c, "GET", path, "", NULL, 0, NULL, &out)) != 0 ||
	    (rc = ju64(out, "used", usedp)) != 0 ||
	    (rc = ju64(out, "limit", limitp)) != 0)
		goto out;
	rc = ju64(out, "objects", objectsp);
out:
	json_decref(out);
	return rc;
}

/* One slot of a parallel upload. */
struct pslot {
	struct xfer x;
	uint8_t *frame;
	size_t flen;
	int busy;
};

/* Encode items [*nextp, ...) that fit one frame of ~CF_CLIENT_BATCH_BYTES. */
static int
next_frame(const struct cf_frame_item *items, size_t n, size_t *nextp,
    uint8_t **fp, size_t *flenp)
{
	struct cf_frame_w f;
	size_t i = *nextp;
	int rc = 0, stop = 0;

	cf_frame_begin(&f);
	for (; i < n && !stop; i++) {
		if (i > *nextp &&
		    cf_frame_size_with(&f, items[i].len) > CF_CLIENT_BATCH_BYTES) {
			stop = 1;
			break;
		}
		rc = cf_frame_add(&f, items[i].id, items[i].data, items[i].len);
		if (rc == COFFER_ETOOBIG && i > *nextp) {
			rc = 0;		/* the frame is full: send it */
			stop = 1;
			break;
		}
		if (rc != 0)
			stop = 1;
	}
	if (rc != 0) {
		cf_frame_abort(&f);
	} else {
		*nextp = i;
		rc = cf_frame_finish(&f, fp, flenp);
	}
	return rc;
}

int
cf_client_objects_put_many(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const struct cf_frame_item *items,
    size_t n, unsigned parallel, uint64_t *storedp)
{
	struct pslot slot[CF_CLIENT_PARALLEL_MAX];
	char path[PATH_MAX_LEN];
	CURLMsg *msg;
	struct xfer *xp;
	uint8_t *resp;
	size_t next = 0, rlen, k;
	uint64_t st;
	long status;
	json_t *out;
	int running = 0, left, rc = 0, r, active = 0;

	*storedp = 0;
	memset(slot, 0, sizeof(slot));
	if (parallel == 0 || parallel > CF_CLIENT_PARALLEL_MAX)
		parallel = CF_CLIENT_PARALLEL_MAX;
	if ((rc = acct_path(c, path, sizeof(path), "drives", drive,
	    "/objects/put")) != 0)
		goto out;
	if (c->multi == NULL && (c->multi = curl_multi_init()) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	for (k = 0; k < parallel; k++) {
		if (c->pool[k] == NULL && (c->pool[k] = curl_easy_init()) == NULL) {
			rc = COFFER_ENOMEM;
			goto out;
		}
	}
	c->status = 0;
	c->errmsg[0] = '\0';
	c->errcode[0] = '\0';
	for (;;) {
		/* Fill the free slots while there is work and no error. */
		for (k = 0; k < parallel && rc == 0 && next < n; k++) {
			if (slot[k].busy)
				continue;
			if ((rc = next_frame(items, n, &next, &slot[k].frame,
			    &slot[k].flen)) != 0)
				break;
			slot[k].x.e = c->pool[k];
			if ((rc = xfer_setup(c, &slot[k].x, "POST", path, "",
			    ct_frame, slot[k].frame, slot[k].flen, 0, "")) != 0) {
				free(slot[k].frame);
				slot[k].frame = NULL;
				break;
			}
			if (curl_multi_add_handle(c->multi, c->pool[k]) != CURLM_OK) {
				xfer_release(&slot[k].x);
				free(slot[k].frame);
				slot[k].frame = NULL;
				rc = COFFER_ENOMEM;
				break;
			}
			slot[k].busy = 1;
			active++;
		}
		if (active == 0)
			break;
		/*
		 * Wait only while a transfer runs: with none, poll has no
		 * socket to wait on and sleeps its whole timeout (1 s) before
		 * the finished ones are collected.
		 */
		if (curl_multi_perform(c->multi, &running) != CURLM_OK ||
		    (running > 0 &&
		    curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK)) {
			rc = COFFER_EUNREACHABLE;
			/* Still collect what finished, then drop the rest. */
		}
		while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			xp = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&xp);
			for (k = 0; k < parallel; k++)
				if (slot[k].busy && &slot[k].x == xp)
					break;
			if (k == parallel)
				continue;
			curl_multi_remove_handle(c->multi, slot[k].x.e);
			r = xfer_finish(&slot[k].x, msg->data.result, &status,
			    &resp, &rlen);
			if (r == 0 && (r = status_rc(status)) == 0) {
				if ((out = cf_json_object(resp, rlen)) == NULL ||
				    ju64(out, "stored", &st) != 0)
					r = COFFER_ENOTAUTHENTIC;
				else
					*storedp += st;
				json_decref(out);
			}
			if (r != 0 && rc == 0)
				rc = r;
			free(resp);
			free(slot[k].frame);
			slot[k].frame = NULL;
			slot[k].busy = 0;
			active--;
		}
		if (rc == COFFER_EUNREACHABLE && active > 0) {
			/* The multi handle failed: abandon the transfers. */
			for (k = 0; k < parallel; k++) {
				if (!slot[k].busy)
					continue;
				curl_multi_remove_handle(c->multi, slot[k].x.e);
				xfer_release(&slot[k].x);
				free(slot[k].frame);
				slot[k].frame = NULL;
				slot[k].busy = 0;
			}
			active = 0;
		}
	}
out:
	return rc;
}

/* One slot of a parallel download: ids [start, start + count). */
struct gslot {
	struct xfer x;
	uint8_t *frame;
	size_t start, count;
	int busy;
};

/* Deliver one answer; a range still to fetch goes to ${*retryp}. */
static int
deliver(const uint8_t (*ids)[CF_ID_BYTES], struct gslot *g, const uint8_t *resp,
    size_t rlen, cf_client_obj_cb *cb, void *arg, size_t *gotp,
    size_t *rstart, size_t *rcount)
{
	struct cf_frame_item *it = NULL;
	size_t m = 0, k, *idx = NULL, last;
	int rc;

	*rcount = 0;
	if ((rc = cf_frame_decode(resp, rlen, COFFER_ENOTAUTHENTIC, &it,
	    &m)) != 0)
		goto out;
	if (m > 0 && (idx = calloc(m, sizeof(*idx))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if ((rc = match_ids(ids + g->start, g->count, it, m, idx)) != 0)
		goto out;
	for (k = 0; k < m && rc == 0; k++) {
		rc = cb(arg, g->start + idx[k], it[k].data, it[k].len);
		if (rc == 0)
			(*gotp)++;
	}
	if (rc == 0 && g->x.truncated) {
		/* The rest of the range, after the last object returned. */
		if (m == 0) {
			rc = COFFER_ENOTAUTHENTIC;	/* no progress */
			goto out;
		}
		last = idx[m - 1] + 1;
		*rstart = g->start + last;
		*rcount = g->count - last;
	}
out:
	free(idx);
	free(it);
	return rc;
}

int
cf_client_objects_get_many(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, unsigned parallel, cf_client_obj_cb *cb, void *arg,
    size_t *gotp)
{
	struct gslot slot[CF_CLIENT_PARALLEL_MAX];
	size_t rq_start[CF_CLIENT_PARALLEL_MAX], rq_count[CF_CLIENT_PARALLEL_MAX];
	size_t nretry = 0, next = 0, k, start, count, rs, rcnt, rlen;
	char path[PATH_MAX_LEN];
	CURLMsg *msg;
	struct xfer *xp;
	uint8_t *resp;
	long status;
	int running = 0, left, rc = 0, r, active = 0;

	*gotp = 0;
	memset(slot, 0, sizeof(slot));
	if (parallel == 0 || parallel > CF_CLIENT_PARALLEL_MAX)
		parallel = CF_CLIENT_PARALLEL_MAX;
	if ((rc = acct_path(c, path, sizeof(path), "drives", drive,
	    "/objects/get")) != 0)
		goto out;
	if (c->multi == NULL && (c->multi = curl_multi_init()) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	for (k = 0; k < parallel; k++) {
		if (c->pool[k] == NULL && (c->pool[k] = curl_easy_init()) == NULL) {
			rc = COFFER_ENOMEM;
			goto out;
		}
	}
	c->status = 0;
	c->errmsg[0] = '\0';
	c->errcode[0] = '\0';
	for (;;) {
		for (k = 0; k < parallel && rc == 0 &&
		    (nretry > 0 || next < n); k++) {
			if (slot[k].busy)
				continue;
			if (nretry > 0) {
				nretry--;
				start = rq_start[nretry];
				count = rq_count[nretry];
			} else {
				start = next;
				count = n - next < CF_CLIENT_GET_GROUP ?
				    n - next : CF_CLIENT_GET_GROUP;
				next += count;
			}
			slot[k].start = start;
			slot[k].count = count;
			if ((rc = ids_frame(ids + start, count, &slot[k].frame,
			    &rlen)) != 0)
				break;
			slot[k].x.e = c->pool[k];
			if ((rc = xfer_setup(c, &slot[k].x, "POST", path, "",
			    ct_frame, slot[k].frame, rlen, 0, "")) != 0 ||
			    curl_multi_add_handle(c->multi, c->pool[k]) !=
			    CURLM_OK) {
				if (rc == 0) {
					xfer_release(&slot[k].x);
					rc = COFFER_ENOMEM;
				}
				free(slot[k].frame);
				slot[k].frame = NULL;
				break;
			}
			slot[k].busy = 1;
			active++;
		}
		if (active == 0)
			break;
		/* As in put_many: no poll (a 1 s sleep) once none runs. */
		if (curl_multi_perform(c->multi, &running) != CURLM_OK ||
		    (running > 0 &&
		    curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK))
			rc = COFFER_EUNREACHABLE;
		while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			xp = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&xp);
			for (k = 0; k < parallel; k++)
				if (slot[k].busy && &slot[k].x == xp)
					break;
			if (k == parallel)
				continue;
			curl_multi_remove_handle(c->multi, slot[k].x.e);
			r = xfer_finish(&slot[k].x, msg->data.result, &status,
			    &resp, &rlen);
			if (r == 0)
				r = status_rc(status);
			rcnt = 0;
			if (r == 0 && rc == 0)
				r = deliver(ids, &slot[k], resp, rlen, cb, arg,
				    gotp, &rs, &rcnt);
			if (r == 0 && rcnt > 0 && nretry < CF_CLIENT_PARALLEL_MAX) {
				rq_start[nretry] = rs;
				rq_count[nretry] = rcnt;
				nretry++;
			}
			if (r != 0 && rc == 0)
				rc = r;
			free(resp);
			free(slot[k].frame);
			slot[k].frame = NULL;
			slot[k].busy = 0;
			active--;
		}
		if (rc == COFFER_EUNREACHABLE && active > 0) {
			for (k = 0; k < parallel; k++) {
				if (!slot[k].busy)
					continue;
				curl_multi_remove_handle(c->multi, slot[k].x.e);
				xfer_release(&slot[k].x);
				free(slot[k].frame);
				slot[k].frame = NULL;
				slot[k].busy = 0;
			}
			active = 0;
		}
	}
out:
	return rc;
}
