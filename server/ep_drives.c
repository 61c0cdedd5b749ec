/*
 * cofferd: drive access, heads, quota (docs/API.md §4).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "coffer/err.h"
#include "records.h"
#include "http.h"
#include "net/json.h"

/*
 * Drive access for ${acct}: 0 owned; 1 unknown (claimed if ${claim});
 * -1 with a reply set (another account's: 404; storage error).
 */
int
rq_drive_access(struct rq *q, const uint8_t *acct, const uint8_t *drive,
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
		rq_fail_rc(q, rc);
		goto out;
	}
	/* Not ours: unknown to everyone, or another account's? */
	rc = srv_meta_head_get(q->s->meta, drive, &v, c);
	if (rc == 0) {
		rq_fail(q, MHD_HTTP_NOT_FOUND, "no such drive");
		goto out;
	}
	if (rc != COFFER_ENOENT) {
		rq_fail_rc(q, rc);
		goto out;
	}
	if (!claim) {
		ret = 1;
		goto out;
	}
	if ((rc = srv_meta_drive_claim(q->s->meta, drive, acct)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

void
ep_head_get(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	const uint8_t *drive = q->p_id;
	uint64_t v = 0;
	uint8_t c[CF_ID_BYTES];
	int rc, a, intx = 0;

	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((a = rq_drive_access(q, acct, drive, 0)) < 0)
		goto out;
	if (a == 0 && (rc = srv_meta_head_get(q->s->meta, drive, &v, c)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_OK, v > 0 ?
	    json_pack("{s:I,s:o}", "version", (json_int_t)v, "commit",
	    cf_json_hex_new(c, CF_ID_BYTES)) :
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
		json_array_append_new(arr, cf_json_hex_new(id, CF_ID_BYTES));
}

void
ep_head_put(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	const uint8_t *drive = q->p_id;
	json_t *o = NULL, *missing = NULL;
	uint8_t *delta = NULL, commit[CF_ID_BYTES], cur[CF_ID_BYTES];
	size_t dlen;
	uint64_t expect, v;
	struct srv_delta d;
	struct srv_objloc loc;
	uint32_t i;
	int rc, intx = 0;
	const char *why = NULL;

	if ((o = rq_body_json(q)) == NULL)
		return;
	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if (cf_json_u64(o, "expect", &expect) != 0 ||
	    cf_json_hex(json_object_get(o, "commit"), commit,
	    CF_ID_BYTES) != 0 ||
	    cf_json_b64(json_object_get(o, "delta"),
	    1, CF_WIRE_DELTA_MAX, &delta, &dlen) != 0 ||
	    srv_delta_parse(delta, dlen, &d) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST,
		    "malformed head update (expect, commit, delta)");
		goto out;
	}
	if (rq_drive_access(q, acct, drive, 1) != 0)
		goto out;
	if ((rc = srv_meta_head_get(q->s->meta, drive, &v, cur)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	if (v != expect) {
		srv_meta_rollback(q->s->meta);
		intx = 0;
		rq_reply_json(q, MHD_HTTP_CONFLICT, json_pack("{s:s,s:I,s:o}",
		    "error", "head moved", "version", (json_int_t)v, "commit",
		    v > 0 ? cf_json_hex_new(cur, CF_ID_BYTES) : json_null()));
		goto out;
	}
	if ((missing = json_array()) == NULL) {
		rq_fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if ((rc = srv_meta_object_get(q->s->meta, drive, commit, &loc)) != 0) {
		if (rc != COFFER_ENOENT) {
			rq_fail_rc(q, rc);
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
			rq_fail_rc(q, rc);
			goto out;
		}
		if ((rc = srv_meta_live_has(q->s->meta, drive, id)) < 0) {
			rq_fail_rc(q, rc);
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
			rq_fail_rc(q, rc);
			goto out;
		}
		if (rc == 0) {
			why = "a stop id is not live";
			note_missing(missing, id);
		}
	}
	if (why != NULL) {
		rq_reply_json(q, 422, json_pack("{s:s,s:O}", "error", why,
		    "missing", missing));
		goto out;
	}
	for (i = 0; i < d.nstart; i++) {
		if ((rc = srv_meta_live_add(q->s->meta, drive,
		    d.start + (size_t)i * CF_ID_BYTES)) != 0) {
			rq_fail_rc(q, rc);
			goto out;
		}
	}
	for (i = 0; i < d.nstop; i++) {
		if ((rc = srv_meta_live_del(q->s->meta, drive,
		    d.stop + (size_t)i * CF_ID_BYTES)) != 0) {
			rq_fail_rc(q, rc);
			goto out;
		}
	}
	if ((rc = srv_meta_head_set(q->s->meta, drive, expect + 1, commit,
	    delta, dlen)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:I}", "version",
	    (json_int_t)(expect + 1)));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	json_decref(missing);
	json_decref(o);
	free(delta);
}

void
ep_quota(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	uint64_t used, nobj;
	int rc;

	if (rq_begin_device(q, acct) != 0)
		goto out;
	if ((rc = srv_meta_usage(q->s->meta, acct, &used, &nobj)) != 0) {
		srv_meta_rollback(q->s->meta);
		rq_fail_rc(q, rc);
		goto out;
	}
	rq_commit_reply(q, MHD_HTTP_OK, json_pack("{s:I,s:I,s:I}", "used",
	    (json_int_t)used, "limit", (json_int_t)q->s->cfg.quota, "objects",
	    (json_int_t)nobj));
out:
	return;
}
