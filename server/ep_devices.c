/*
 * cofferd: join requests and their approvals (docs/API.md §4).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "coffer/err.h"
#include "chain/pair.h"
#include "records.h"
#include "http.h"
#include "net/json.h"

void
ep_join_post(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	json_t *o = NULL;
	uint8_t *req = NULL, head[CF_ID_BYTES];
	size_t len;
	uint64_t n, expires;
	struct srv_join j;
	int rc, intx = 0;

	if (rq_rate_limit(q) != 0)
		goto out;
	if (rq_auth_headers(q) != 0 || (o = rq_body_json(q)) == NULL)
		goto out;
	if (cf_json_b64(json_object_get(o, "request"),
	    1, SRV_JOIN_MAX, &req, &len) != 0 ||
	    srv_join_parse(req, len, &j) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "malformed join request");
		goto out;
	}
	if (memcmp(acct, q->acct, CF_ID_BYTES) != 0 ||
	    memcmp(j.account_id, acct, CF_ID_BYTES) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "join request names another account");
		goto out;
	}
	if (!q->has_key || memcmp(j.dev_id, q->dev, CF_ID_BYTES) != 0) {
		rq_fail(q, MHD_HTTP_UNAUTHORIZED,
		    "a join request must be self-signed by its key");
		goto out;
	}
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 1;
	if ((rc = srv_meta_account_state(q->s->meta, acct, &n, head)) != 0) {
		if (rc == COFFER_ENOENT)
			rq_fail(q, MHD_HTTP_NOT_FOUND, "no such account");
		else
			rq_fail_rc(q, rc);
		goto out;
	}
	if (rq_auth_verify(q, j.sign_pk) != 0)
		goto out;
	expires = q->now + q->s->cfg.join_ttl;
	rc = srv_meta_join_put(q->s->meta, acct, &j, req, len, expires, q->now);
	if (rc == COFFER_ETOOBIG) {
		rq_fail(q, MHD_HTTP_TOO_MANY_REQUESTS,
		    "too many pending join requests");
		goto out;
	} else if (rc != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:o,s:I}", "device_id",
	    cf_json_hex_new(j.dev_id, CF_ID_BYTES), "expires",
	    (json_int_t)expires));
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
void
ep_join_withdraw(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	const uint8_t *dev = q->p_id;
	json_t *o = NULL;
	uint8_t jpk[CF_SIGN_PK_BYTES], dpk[CF_SIGN_PK_BYTES];
	uint8_t *ap = NULL, *sig = NULL;
	size_t len = 0, siglen = 0;
	int rc, jrc, removed, intx = 0;

	if (rq_rate_limit(q) != 0)
		goto out;
	if (rq_auth_headers(q) != 0 || (o = rq_body_json(q)) == NULL)
		goto out;
	if (rq_same_account(q, acct) != 0)
		goto out;
	if (!q->has_key || memcmp(q->dev, dev, CF_ID_BYTES) != 0) {
		rq_fail(q, MHD_HTTP_UNAUTHORIZED,
		    "a withdrawal must be self-signed by the request's key");
		goto out;
	}
	if (cf_json_b64(json_object_get(o, "withdrawal"), CF_SIG_BYTES,
	    CF_SIG_BYTES, &sig, &siglen) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "malformed withdrawal");
		goto out;
	}
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 1;
	jrc = srv_meta_join_get(q->s->meta, acct, dev, q->now, jpk, &ap, &len);
	if (jrc != 0 && jrc != COFFER_ENOENT) {
		rq_fail_rc(q, jrc);
		goto out;
	}
	/* The stored request's key; if it is gone, the key sent (same id). */
	if (jrc != 0)
		memcpy(jpk, q->key_sign_pk, CF_SIGN_PK_BYTES);
	if (rq_auth_verify(q, jpk) != 0)
		goto out;
	if (cf_join_withdraw_verify(jpk, acct, dev, sig) != 0) {
		rq_fail(q, MHD_HTTP_UNAUTHORIZED, "bad withdrawal signature");
		goto out;
	}
	rc = srv_meta_device(q->s->meta, acct, dev, dpk, &removed);
	if (rc == 0) {
		rq_fail(q, MHD_HTTP_CONFLICT,
		    "this device was added to the chain already: the join "
		    "completes");
		goto out;
	} else if (rc != COFFER_ENOENT) {
		rq_fail_rc(q, rc);
		goto out;
	}
	if (jrc == COFFER_ENOENT) {
		rq_fail(q, MHD_HTTP_NOT_FOUND,
		    "no such join request (expired or withdrawn)");
		goto out;
	}
	if ((rc = srv_meta_join_delete(q->s->meta, acct, dev)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_OK, json_pack("{s:b}", "withdrawn", 1));
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
	    cf_json_hex_new(dev, CF_ID_BYTES), "request", cf_json_b64_new(req,
	    len),
	    "expires", (json_int_t)expires);

	return (o != NULL && json_array_append_new(arg, o) == 0) ? 0 :
	    COFFER_ENOMEM;
}

void
ep_joins_list(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	json_t *arr = NULL;
	int rc, intx = 0;

	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((arr = json_array()) == NULL) {
		rq_fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if ((rc = srv_meta_joins_list(q->s->meta, acct, q->now, push_join,
	    arr)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_OK, json_pack("{s:O}", "requests", arr));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(arr);
}

void
ep_approval_put(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	const uint8_t *dev = q->p_id;
	json_t *o = NULL;
	uint8_t *ap = NULL, pk[CF_SIGN_PK_BYTES];
	size_t len;
	struct srv_approval a;
	int rc, removed;

	if ((o = rq_body_json(q)) == NULL)
		return;
	if (rq_begin_device(q, acct) != 0)
		goto out;
	if (cf_json_b64(json_object_get(o, "approval"),
	    1, SRV_APPROVAL_MAX, &ap, &len) != 0 ||
	    srv_approval_parse(ap, len, &a) != 0 ||
	    memcmp(a.account_id, acct, CF_ID_BYTES) != 0 ||
	    memcmp(a.recipient_id, dev, CF_ID_BYTES) != 0 ||
	    memcmp(a.approver_id, q->dev, CF_ID_BYTES) != 0 ||
	    srv_meta_device(q->s->meta, acct, q->dev, pk, &removed) != 0 ||
	    srv_approval_verify(ap, len, pk) != 0) {
		srv_meta_rollback(q->s->meta);
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "malformed or mismatched approval");
		goto out;
	}
	/* Approvals follow the add-device entry (FORMAT §17): the device
	 * must be in the chain already. */
	if (srv_meta_device(q->s->meta, acct, dev, pk, &removed) != 0 ||
	    removed) {
		srv_meta_rollback(q->s->meta);
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "append the add-device entry before the approval");
		goto out;
	}
	rc = srv_meta_join_approve(q->s->meta, acct, dev, q->now, ap, len);
	if (rc != 0) {
		srv_meta_rollback(q->s->meta);
		if (rc == COFFER_ENOENT)
			rq_fail(q, MHD_HTTP_NOT_FOUND,
			    "no such pending join request");
		else
			rq_fail_rc(q, rc);
		goto out;
	}
	rq_commit_reply(q, MHD_HTTP_CREATED, json_object());
out:
	json_decref(o);
	free(ap);
}

void
ep_approval_get(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	const uint8_t *dev = q->p_id;
	uint8_t jpk[CF_SIGN_PK_BYTES], *ap = NULL;
	size_t len = 0;
	int rc, jrc, intx = 0;

	if (rq_auth_headers(q) != 0)
		goto out;
	if (rq_same_account(q, acct) != 0)
		goto out;
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 1;
	jrc = srv_meta_join_get(q->s->meta, acct, dev, q->now, jpk, &ap, &len);
	if (jrc != 0 && jrc != COFFER_ENOENT) {
		rq_fail_rc(q, jrc);
		goto out;
	}
	if (memcmp(q->dev, dev, CF_ID_BYTES) == 0 && jrc == 0) {
		if (rq_auth_verify(q, jpk) != 0)
			goto out;
	} else if (memcmp(q->dev, dev, CF_ID_BYTES) == 0 && q->has_key) {
		/* Its request is gone: self-signed, so it learns that. */
		if (rq_auth_verify(q, q->key_sign_pk) != 0)
			goto out;
	} else if (rq_auth_device(q, acct) != 0) {
		goto out;
	}
	if (jrc == COFFER_ENOENT) {
		rq_fail(q, MHD_HTTP_NOT_FOUND,
		    "no such join request (expired?)");
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_OK, ap != NULL ?
	    json_pack("{s:o}", "approval", cf_json_b64_new(ap, len)) :
	    json_pack("{s:n}", "approval"));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	free(ap);
}
