/*
 * The transport of the client side (net.h): the connection (libcurl,
 * keep-alive), request signing, answers and their caps, the server's
 * refusals, and the batch frames of id lists.
 */
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
#include "net/conn.h"
#include "net/json.h"
#include "net/net.h"
#include "net/reqsig.h"
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
	if (cf_conn_status_rc(status) != COFFER_EDENIED)
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

void
cf_conn_xfer_release(struct xfer *x)
{
	cf_wr_free(&x->s.w);
	curl_slist_free_all(x->hl);
	x->hl = NULL;
}

/*
 * Sign a request and set up ${x->e} to send it (the body is not copied:
 * it must live until the transfer ends).
 */
int
cf_conn_xfer_setup(struct cf_client *c, struct xfer *x, const char *method,
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
		cf_conn_xfer_release(x);
	return rc;
}

/*
 * After the transfer: the status and the body (malloc'd, NUL-terminated)
 * whatever the status; the server's message kept for a failure.
 */
int
cf_conn_xfer_finish(struct xfer *x, CURLcode cc, long *statusp, uint8_t **respp,
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
	cf_conn_xfer_release(x);
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
	if ((rc = cf_conn_xfer_setup(c, &x, method, path,
	    query != NULL ? query : "",
	    ctype != NULL ? ctype : "", body, len, self_signed,
	    invite != NULL ? invite : "")) == 0)
		rc = cf_conn_xfer_finish(&x, curl_easy_perform(c->curl),
		    statusp,
		    respp, resplenp);
	return rc;
}

/* Map an HTTP status to a library error. */
int
cf_conn_status_rc(long st)
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
int
cf_conn_jcall(struct cf_client *c, const char *method, const char *path,
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
	    txt != NULL ? CF_CT_JSON : "", (const uint8_t *)txt,
	    txt != NULL ? strlen(txt) : 0, self_signed, invite, &st, &resp,
	    &rlen)) != 0)
		goto out;
	rc = cf_conn_status_rc(st);
	if (rc == 0 || rc == COFFER_ECONFLICT) {
		if ((*outp = cf_json_object(resp, rlen)) == NULL)
			rc = COFFER_ENOTAUTHENTIC;
	}
out:
	free(txt);
	free(resp);
	return rc;
}

int
cf_conn_acct_path(struct cf_client *c, char *out, size_t outlen,
    const char *tail,
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

/* POST a frame to objects/${op}; the answer frame on 2xx. */
int
cf_conn_fcall(struct cf_client *c, const uint8_t *drive, const char *op,
    const uint8_t *frame, size_t flen, uint8_t **respp, size_t *rlenp)
{
	char path[PATH_MAX_LEN], tail[32];
	long st = 0;
	int rc;

	*respp = NULL;
	*rlenp = 0;
	snprintf(tail, sizeof(tail), "/objects/%s", op);
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "drives", drive,
	    tail)) != 0)
		goto out;
	if ((rc = cf_client_raw(c, "POST", path, "", CF_CT_FRAME, frame, flen,
	    0,
	    NULL, &st, respp, rlenp)) != 0)
		goto out;
	if ((rc = cf_conn_status_rc(st)) != 0) {
		free(*respp);
		*respp = NULL;
		*rlenp = 0;
	}
out:
	return rc;
}

int
cf_conn_ids_frame(const uint8_t (*ids)[CF_ID_BYTES], size_t n, uint8_t **fp,
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
int
cf_conn_match_ids(const uint8_t (*ids)[CF_ID_BYTES], size_t n,
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
cf_conn_answer_items(const uint8_t *resp, size_t rlen,
    const uint8_t (*ids)[CF_ID_BYTES], size_t n, struct cf_frame_item **itp,
    size_t *mp, size_t **idxp)
{
	struct cf_frame_item *it = NULL;
	size_t m = 0, *idx = NULL;
	int rc;

	*itp = NULL;
	*mp = 0;
	if (idxp != NULL)
		*idxp = NULL;
	if ((rc = cf_frame_decode(resp, rlen, COFFER_ENOTAUTHENTIC, &it,
	    &m)) != 0)
		goto out;
	if (idxp != NULL && m > 0 &&
	    (idx = calloc(m, sizeof(*idx))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if ((rc = cf_conn_match_ids(ids, n, it, m, idx)) != 0)
		goto out;
	*itp = it;
	*mp = m;
	if (idxp != NULL)
		*idxp = idx;
	it = NULL;
	idx = NULL;
out:
	free(idx);
	free(it);
	return rc;
}
