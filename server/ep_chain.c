/*
 * cofferd: accounts, their chain and envelopes (docs/API.md §4).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "coffer/err.h"
#include "chain/chain.h"
#include "records.h"
#include "http.h"
#include "util/num.h"
#include "net/json.h"

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
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "envelopes must be an array (bounded)");
		rc = -1;
		goto out;
	}
	json_array_foreach(arr, i, v) {
		if (cf_json_b64(v, 1, SRV_ENVELOPE_MAX, &buf, &len) != 0 ||
		    srv_envelope_parse(buf, len, &env) != 0 ||
		    memcmp(env.account_id, q->acct, CF_ID_BYTES) != 0) {
			rq_fail(q, MHD_HTTP_BAD_REQUEST, "malformed envelope");
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
			rq_fail(q, MHD_HTTP_BAD_REQUEST,
			    "envelope signer is neither an active device nor "
			    "the recovery key");
			rc = -1;
			goto out;
		}
		if (srv_envelope_verify(buf, len, pk) != 0) {
			rq_fail(q, MHD_HTTP_BAD_REQUEST,
			    "envelope signature does not verify");
			rc = -1;
			goto out;
		}
		if ((rc = srv_meta_envelope_put(q->s->meta, q->acct, &env, buf,
		    len)) != 0) {
			rq_fail_rc(q, rc);
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

void
ep_account_create(struct rq *q)
{
	json_t *o = NULL, *nm;
	uint8_t *g = NULL, ih[32];
	size_t glen;
	struct srv_entry e;
	const char *name;
	int rc, intx = 0;

	if (rq_rate_limit(q) != 0)
		goto out;
	if (rq_auth_headers(q) != 0 || (o = rq_body_json(q)) == NULL)
		goto out;
	nm = json_object_get(o, "name");
	if (nm == NULL || !json_is_string(nm) ||
	    !name_ok(name = json_string_value(nm))) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "bad account name (1-64 of a-z 0-9 . _ -)");
		goto out;
	}
	if (cf_json_b64(json_object_get(o, "genesis"),
	    1, SRV_ENTRY_MAX, &g, &glen) != 0 ||
	    srv_entry_parse(g, glen, &e) != 0 ||
	    e.type != SRV_ENTRY_GENESIS) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "malformed or invalid genesis entry");
		goto out;
	}
	if (!q->has_key || memcmp(e.account_id, q->acct, CF_ID_BYTES) != 0 ||
	    memcmp(e.dev_id, q->dev, CF_ID_BYTES) != 0) {
		rq_fail(q, MHD_HTTP_UNAUTHORIZED,
		    "account creation must be self-signed by the genesis "
		    "device");
		goto out;
	}
	if (chain_full_check(q, NULL, g, glen) != 0)
		goto out;
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 1;
	if (rq_auth_verify(q, e.dev_sign_pk) != 0)
		goto out;
	if (q->s->loopback_only == 0 || q->s->cfg.invite_only) {
		if (q->invite[0] == '\0') {
			rq_fail(q, MHD_HTTP_FORBIDDEN,
			    "an invite token is required");
			goto out;
		}
		crypto_generichash(ih, sizeof(ih), (const uint8_t *)q->invite,
		    strlen(q->invite), NULL, 0);
		if ((rc = srv_meta_invite_use(q->s->meta, ih, q->now)) != 0) {
			if (rc == COFFER_EDENIED)
				rq_fail(q, MHD_HTTP_FORBIDDEN,
				    "invite token unknown, used or expired");
			else
				rq_fail_rc(q, rc);
			goto out;
		}
	}
	rc = srv_meta_account_create(q->s->meta, name, g, glen, &e, q->now);
	if (rc == COFFER_EEXIST) {
		rq_fail(q, MHD_HTTP_CONFLICT, "account name or id taken");
		goto out;
	} else if (rc != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	if (store_envelopes(q, json_object_get(o, "envelopes"),
	    CF_WIRE_CREATE_ENVELOPES_MAX, &e) != 0)
		goto out;
	intx = 0;
	if ((rc = srv_meta_commit(q->s->meta)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	rq_reply_json(q, MHD_HTTP_CREATED, json_pack("{s:o}", "account_id",
	    cf_json_hex_new(e.account_id, CF_ID_BYTES)));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(o);
	free(g);
}

void
ep_name_lookup(struct rq *q)
{
	const char *name = q->p_name;
	uint8_t id[CF_ID_BYTES];
	int rc;

	if (rq_rate_limit(q) != 0)
		goto out;
	if (!name_ok(name)) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "bad account name");
		goto out;
	}
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	rc = srv_meta_account_by_name(q->s->meta, name, id);
	srv_meta_rollback(q->s->meta);
	if (rc == COFFER_ENOENT)
		rq_fail(q, MHD_HTTP_NOT_FOUND, "no such account");
	else if (rc != 0)
		rq_fail_rc(q, rc);
	else
		rq_reply_json(q, MHD_HTTP_OK, json_pack("{s:o}", "account_id",
		    cf_json_hex_new(id, CF_ID_BYTES)));
out:
	return;
}

void
ep_chain_get(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	json_t *arr = NULL;
	const char *f;
	uint64_t from = 0, len;
	uint8_t head[CF_ID_BYTES];
	int rc, intx = 0;

	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((f = rq_qparam(q, "from")) != NULL && cf_parse_u64(f, strlen(f),
	    UINT64_MAX, &from) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "bad from");
		goto out;
	}
	if ((arr = json_array()) == NULL) {
		rq_fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if ((rc = srv_meta_account_state(q->s->meta, acct, &len, head)) != 0 ||
	    (rc = srv_meta_chain_get(q->s->meta, acct, from,
	    SRV_CHAIN_PAGE_MAX, SRV_CHAIN_PAGE_BYTES, rq_push_b64, arr)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_OK, json_pack("{s:O,s:I,s:I}", "entries",
	    arr,
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
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "entry does not extend this chain");
		goto out;
	}
	if ((rc = srv_meta_rk(q->s->meta, q->acct, rkid, rkpk)) != 0 &&
	    rc != COFFER_ENOENT) {
		rq_fail_rc(q, rc);
		goto out;
	}
	/* The signer: the recovery key (add-device only) or a device
	 * active at this point. */
	if (rc == 0 && e->type == SRV_ENTRY_ADD &&
	    memcmp(e->signer_id, rkid, CF_ID_BYTES) == 0) {
		memcpy(pk, rkpk, CF_SIGN_PK_BYTES);
	} else if (srv_meta_device(q->s->meta, q->acct, e->signer_id, pk,
	    &removed) != 0 || removed) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "entry signer is not trusted at this point");
		goto out;
	}
	if (srv_entry_verify(buf, e, pk) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "entry signature does not verify");
		goto out;
	}
	if (e->type == SRV_ENTRY_ADD &&
	    srv_meta_device(q->s->meta, q->acct, e->dev_id, pk, &removed) !=
	    COFFER_ENOENT) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "device was already added once");
		goto out;
	}
	if (e->type == SRV_ENTRY_REMOVE) {
		if (srv_meta_device(q->s->meta, q->acct, e->removed_id, pk,
		    &removed) != 0 || removed) {
			rq_fail(q, MHD_HTTP_BAD_REQUEST,
			    "removed device is not active");
			goto out;
		}
		if ((rc = srv_meta_devices_active(q->s->meta, q->acct,
		    &nactive)) != 0) {
			rq_fail_rc(q, rc);
			goto out;
		}
		if (nactive < 2) {
			rq_fail(q, MHD_HTTP_BAD_REQUEST,
			    "cannot remove the last trusted device");
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
		rq_fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if (acct != NULL && (rc = srv_meta_chain_get(q->s->meta, acct, 0,
	    CF_CHAIN_MAX_ENTRIES, SIZE_MAX, chain_apply_cb, c)) != 0) {
		rq_fail_rc(q, rc == COFFER_EFORMAT ? COFFER_EIO : rc);
		goto out;
	}
	if (cf_chain_append(c, entry, len) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "chain entry does not verify against the chain");
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
		rq_fail(q, MHD_HTTP_NOT_FOUND,
		    "no pending join request for the device this entry adds "
		    "(withdrawn or expired): nothing appended");
	else if (rc != 0)
		rq_fail_rc(q, rc);
	return rc;
}

void
ep_chain_append(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	json_t *o = NULL;
	uint8_t *ebuf = NULL, head[CF_ID_BYTES], pk[CF_SIGN_PK_BYTES];
	size_t elen;
	uint64_t seq, len;
	struct srv_entry e;
	int rc, intx = 0;

	if (rq_auth_headers(q) != 0 || (o = rq_body_json(q)) == NULL)
		goto out;
	if (cf_json_u64(o, "seq", &seq) != 0 ||
	    cf_json_b64(json_object_get(o, "entry"),
	    1, SRV_ENTRY_MAX, &ebuf, &elen) != 0 ||
	    srv_entry_parse(ebuf, elen, &e) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "malformed chain entry");
		goto out;
	}
	if (rq_same_account(q, acct) != 0)
		goto out;
	if ((rc = srv_meta_begin(q->s->meta)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 1;
	rc = srv_meta_signer(q->s->meta, acct, q->dev, pk);
	if (rc == COFFER_EDENIED && q->has_key && e.type == SRV_ENTRY_ADD &&
	    memcmp(e.dev_id, q->dev, CF_ID_BYTES) == 0) {
		/* Recover: self-signed by the key the entry adds; the entry
		 * itself must be signed by the recovery key (checked below). */
		uint8_t rkid[CF_ID_BYTES], rkpk[CF_SIGN_PK_BYTES];

		if (rq_rate_limit(q) != 0)
			goto out;
		if (srv_meta_rk(q->s->meta, acct, rkid, rkpk) != 0 ||
		    memcmp(rkid, e.signer_id, CF_ID_BYTES) != 0) {
			rq_fail(q, MHD_HTTP_FORBIDDEN,
			    "device not active in this account");
			goto out;
		}
		memcpy(pk, q->key_sign_pk, CF_SIGN_PK_BYTES);
		rc = 0;
	}
	if (rc == 0 && rq_is_rk(q) && (e.type != SRV_ENTRY_ADD ||
	    memcmp(e.signer_id, q->dev, CF_ID_BYTES) != 0)) {
		rq_fail(q, MHD_HTTP_FORBIDDEN,
		    "the recovery key may only add a device");
		goto out;
	}
	if (rc == COFFER_ENOENT) {
		rq_fail(q, MHD_HTTP_NOT_FOUND, "no such account");
		goto out;
	} else if (rc == COFFER_EDENIED) {
		rq_fail(q, MHD_HTTP_FORBIDDEN,
		    "device not active in this account");
		goto out;
	} else if (rc != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	if (rq_auth_verify(q, pk) != 0)
		goto out;
	if ((rc = srv_meta_account_state(q->s->meta, acct, &len, head)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	if (seq != len) {
		srv_meta_rollback(q->s->meta);
		intx = 0;
		rq_reply_json(q, MHD_HTTP_CONFLICT, json_pack("{s:s,s:I}",
		    "error",
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
		rq_fail_rc(q, rc);
		goto out;
	}
	if (store_envelopes(q, json_object_get(o, "envelopes"),
	    CF_WIRE_ENVELOPES_MAX, &e) != 0)
		goto out;
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:I}", "length",
	    (json_int_t)(len + 1)));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(o);
	free(ebuf);
}

void
ep_envelopes_put(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	json_t *o = NULL, *arr;

	if ((o = rq_body_json(q)) == NULL)
		return;
	if (rq_begin_device(q, acct) != 0)
		goto out;
	arr = json_object_get(o, "envelopes");
	if (arr == NULL) {
		srv_meta_rollback(q->s->meta);
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "envelopes missing");
		goto out;
	}
	if (store_envelopes(q, arr, CF_WIRE_ENVELOPES_MAX, NULL) != 0) {
		srv_meta_rollback(q->s->meta);
		goto out;
	}
	rq_commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:I}", "stored",
	    (json_int_t)json_array_size(arr)));
out:
	json_decref(o);
}

void
ep_envelopes_get(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	uint8_t rid[CF_ID_BYTES];
	json_t *arr = NULL;
	int rc, intx = 0;

	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if (cf_hex_decode(rq_qparam(q, "recipient"), rid, CF_ID_BYTES) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "recipient must be a hex id");
		goto out;
	}
	if ((arr = json_array()) == NULL) {
		rq_fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if ((rc = srv_meta_envelopes_get(q->s->meta, acct, rid, rq_push_b64,
	    arr)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_OK, json_pack("{s:O}", "envelopes", arr));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(arr);
}
