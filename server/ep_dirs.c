/*
 * cofferd: the account's directory of drives (docs/API.md §4).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "coffer/err.h"
#include "records.h"
#include "http.h"
#include "util/num.h"
#include "net/json.h"

void
ep_dir_get(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	uint8_t *rec = NULL;
	size_t len;
	uint64_t v;
	int rc;

	if (rq_begin_device(q, acct) != 0)
		goto out;
	if ((rc = srv_meta_dir_get(q->s->meta, acct, &v, &rec, &len)) != 0) {
		srv_meta_rollback(q->s->meta);
		rq_fail_rc(q, rc);
		goto out;
	}
	rq_commit_reply(q, MHD_HTTP_OK, rec != NULL ?
	    json_pack("{s:I,s:o}", "version", (json_int_t)v, "record",
	    cf_json_b64_new(rec, len)) :
	    json_pack("{s:I,s:n}", "version", (json_int_t)v, "record"));
out:
	free(rec);
}

/* The records after version ${after} (a device catching up to the head). */
void
ep_dir_records(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	json_t *arr = NULL;
	const char *f;
	uint64_t after, v;
	int rc, intx = 0;

	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((f = rq_qparam(q, "after")) == NULL || cf_parse_u64(f, strlen(f),
	    UINT64_MAX, &after) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "bad after");
		goto out;
	}
	if ((arr = json_array()) == NULL) {
		rq_fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if ((rc = srv_meta_dir_records(q->s->meta, acct, after,
	    SRV_DIR_PAGE_MAX, SRV_DIR_PAGE_BYTES, rq_push_b64, arr, &v)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_OK, json_pack("{s:O,s:I}", "records", arr,
	    "version", (json_int_t)v));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(arr);
}

void
ep_dir_put(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	json_t *o = NULL;
	uint8_t *rec = NULL, *cur = NULL, pk[CF_SIGN_PK_BYTES];
	size_t len, clen, i;
	uint64_t expect, v;
	struct srv_dir d;
	int rc, intx = 0, removed;

	memset(&d, 0, sizeof(d));
	if ((o = rq_body_json(q)) == NULL)
		return;
	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if (cf_json_u64(o, "expect", &expect) != 0 ||
	    cf_json_b64(json_object_get(o, "record"),
	    1, SRV_DIR_MAX, &rec, &len) != 0 ||
	    srv_dir_parse(rec, len, &d) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "malformed directory record");
		goto out;
	}
	if ((rc = srv_meta_dir_get(q->s->meta, acct, &v, &cur, &clen)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	if (v != expect) {
		srv_meta_rollback(q->s->meta);
		intx = 0;
		rq_reply_json(q, MHD_HTTP_CONFLICT, json_pack("{s:s,s:I}",
		    "error",
		    "directory moved", "version", (json_int_t)v));
		goto out;
	}
	if (memcmp(d.account_id, acct, CF_ID_BYTES) != 0 ||
	    d.version != expect + 1 ||
	    memcmp(d.author_id, q->dev, CF_ID_BYTES) != 0 ||
	    srv_meta_device(q->s->meta, acct, q->dev, pk, &removed) != 0 ||
	    srv_dir_verify(rec, len, pk) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "directory record does not fit (account, version, author "
		    "or signature)");
		goto out;
	}
	for (i = 0; i < d.ndrives; i++) {
		rc = srv_meta_drive_claim(q->s->meta,
		    d.drive_ids + i * CF_ID_BYTES, acct);
		if (rc == COFFER_EDENIED) {
			srv_meta_rollback(q->s->meta);
			intx = 0;
			rq_reply_json(q, MHD_HTTP_CONFLICT,
			    json_pack("{s:s,s:I}",
			    "error", "a drive id is taken by another account",
			    "version", (json_int_t)v));
			goto out;
		} else if (rc != 0) {
			rq_fail_rc(q, rc);
			goto out;
		}
	}
	if ((rc = srv_meta_dir_put(q->s->meta, acct, expect + 1, rec, len)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:I}", "version",
	    (json_int_t)(expect + 1)));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	srv_dir_free(&d);
	json_decref(o);
	free(rec);
	free(cur);
}
