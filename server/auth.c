/*
 * cofferd: request authentication (docs/API.md §2): the signature
 * headers, the signature over one of the server's origins, the nonce, and
 * the account and device behind a request.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "coffer/err.h"
#include "http.h"
#include "util/num.h"
#include "net/json.h"

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
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "malformed query");
		rc = -1;
	}
	return rc;
}

/* A query parameter (already validated by read_query). */
const char *
rq_qparam(struct rq *q, const char *key)
{
	return MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, key);
}

/*
 * Read the signature headers (no store access).  On failure a 401/400
 * is set and -1 returned.
 */
int
rq_auth_headers(struct rq *q)
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
		rq_fail(q, MHD_HTTP_UNAUTHORIZED, "missing signature headers");
		goto out;
	}
	if (cf_hex_decode(a, q->acct, CF_ID_BYTES) != 0 ||
	    cf_hex_decode(d, q->dev, CF_ID_BYTES) != 0 ||
	    cf_hex_decode(n, q->nonce, CF_REQ_NONCE_BYTES) != 0 ||
	    cf_hex_decode(g, q->sig, CF_SIG_BYTES) != 0 ||
	    cf_parse_u64(t, strlen(t), UINT64_MAX, &q->time) != 0) {
		rq_fail(q, MHD_HTTP_UNAUTHORIZED,
		    "malformed signature headers");
		goto out;
	}
	if (!cf_req_time_ok(q->time, q->now)) {
		rq_fail(q, MHD_HTTP_UNAUTHORIZED,
		    "request time outside the allowed clock skew");
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
		if (cf_hex_decode(k, both, sizeof(both)) != 0) {
			rq_fail(q, MHD_HTTP_UNAUTHORIZED,
			    "malformed X-Coffer-Key");
			goto out;
		}
		memcpy(q->key_sign_pk, both, CF_SIGN_PK_BYTES);
		memcpy(q->key_box_pk, both + CF_SIGN_PK_BYTES, CF_BOX_PK_BYTES);
		cf_device_id(q->key_sign_pk, q->key_box_pk, id);
		if (memcmp(id, q->dev, CF_ID_BYTES) != 0) {
			rq_fail(q, MHD_HTTP_UNAUTHORIZED,
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
 * 1 if ${q} only reads (its route says so: GET, or a batched get of
 * objects): its nonce need not survive a crash (docs/API.md §2).
 * objects/have is not one: it protects the objects it names.
 */
static int
is_read(const struct rq *q)
{
	return q->rt != NULL && (q->rt->flags & RT_READ) != 0;
}

/*
 * Verify the signature with ${pk} for one of the origins this server
 * answers to, and use the nonce (inside the caller's transaction).
 */
int
rq_auth_verify(struct rq *q, const uint8_t pk[static CF_SIGN_PK_BYTES])
{
	struct cf_req r;
	const char *host = hdr(q, "Host"), *rb, *co;
	char origin[2 * SRV_ORIGIN_MAX], lhost[SRV_ORIGIN_MAX];
	static const char *const schemes[] = { "http://", "https://" };
	size_t i, j, nor = atomic_load_explicit(&q->s->norigins,
	    memory_order_acquire);
	int ok = 0, rc, hostport, ret = -1;

	if (host == NULL || strlen(host) >= sizeof(lhost)) {
		rq_fail(q, MHD_HTTP_UNAUTHORIZED, "missing or bad Host header");
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
		rq_fail(q, MHD_HTTP_UNAUTHORIZED, "bad request signature");
		goto out;
	}
	/* Nonces of reads live in memory: docs/API.md §2. */
	if ((rc = (is_read(q) ? srv_meta_nonce_use_read :
	    srv_meta_nonce_use)(q->s->meta, q->dev, q->nonce, q->now)) != 0) {
		if (rc == COFFER_ECONFLICT)
			rq_fail(q, MHD_HTTP_UNAUTHORIZED,
			    "replayed request (nonce seen)");
		else
			rq_fail_rc(q, rc);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* The usual case: a device active in the account (or its recovery key). */
/* 1 if the signer of ${q} is its account's current recovery key. */
int
rq_is_rk(struct rq *q)
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
	return rq_auth_verify(q, pk) == 0;
}

int
rq_same_account(struct rq *q, const uint8_t *acct_in_path)
{
	if (memcmp(acct_in_path, q->acct, CF_ID_BYTES) != 0) {
		rq_fail(q, MHD_HTTP_FORBIDDEN,
		    "account in path differs from the signed account");
		return -1;
	}
	return 0;
}

int
rq_auth_device(struct rq *q, const uint8_t *acct_in_path)
{
	uint8_t pk[CF_SIGN_PK_BYTES];
	int rc, ret = -1;

	if (rq_same_account(q, acct_in_path) != 0)
		goto out;
	rc = srv_meta_signer(q->s->meta, q->acct, q->dev, pk);
	if (rc == COFFER_ENOENT)
		rq_fail(q, MHD_HTTP_NOT_FOUND, "no such account");
	else if (rc == COFFER_EDENIED && removed_signer(q))
		rq_fail_code(q, MHD_HTTP_FORBIDDEN,
		    "this device was removed from "
		    "the account", "device_removed");
	else if (rc == COFFER_EDENIED)
		rq_fail(q, MHD_HTTP_FORBIDDEN,
		    "device not active in this account");
	else if (rc != 0)
		rq_fail_rc(q, rc);
	else if (!q->rk_ok && rq_is_rk(q))
		rq_fail(q, MHD_HTTP_FORBIDDEN,
		    "the recovery key may only read the chain and its "
		    "envelopes and add a device");
	else
		ret = rq_auth_verify(q, pk);
out:
	return ret;
}

/* Begin a transaction and authenticate a device of ${acct}. */
int
rq_begin_device(struct rq *q, const uint8_t *acct)
{
	int rc, ret = -1;

	if (rq_auth_headers(q) != 0)
		goto out;
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	if (rq_auth_device(q, acct) != 0) {
		srv_meta_rollback(q->s->meta);
		goto out;
	}
	ret = 0;
out:
	return ret;
}
