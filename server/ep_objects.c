/*
 * cofferd: objects have/put/get in batch frames (docs/API.md §4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "coffer/err.h"
#include "records.h"
#include "http.h"

/* Decode the request frame; 400 on anything wrong. */
static int
req_frame(struct rq *q, struct cf_frame_item **itp, size_t *np, int ids_only)
{
	size_t i;
	int rc, ret = -1;

	if ((rc = cf_frame_decode(q->body, q->len, COFFER_EFORMAT, itp,
	    np)) != 0) {
		rq_fail(q, rc == COFFER_ENOMEM ? MHD_HTTP_SERVICE_UNAVAILABLE :
		    MHD_HTTP_BAD_REQUEST, "malformed batch frame");
		goto out;
	}
	if ((rc = cf_frame_unique(*itp, *np)) != 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "duplicate id in batch frame");
		goto out;
	}
	for (i = 0; ids_only && i < *np; i++) {
		if ((*itp)[i].len != 0) {
			rq_fail(q, MHD_HTTP_BAD_REQUEST,
			    "an id list carries no bytes");
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

void
ep_objects_have(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	const uint8_t *drive = q->p_id;
	struct cf_frame_item *it = NULL;
	struct cf_frame_w f;
	struct srv_objloc loc;
	size_t n = 0, i;
	int rc, a, intx = 0;

	cf_frame_begin(&f);
	if (req_frame(q, &it, &n, 1) != 0)
		goto out;
	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((a = rq_drive_access(q, acct, drive, 0)) < 0)
		goto out;
	for (i = 0; a == 0 && i < n; i++) {
		rc = srv_meta_object_get(q->s->meta, drive, it[i].id, &loc);
		if (rc == COFFER_ENOENT)
			continue;
		if (rc != 0 || (rc = srv_meta_object_protect(q->s->meta, drive,
		    it[i].id, q->now + SRV_PROTECT_SECONDS)) != 0) {
			rq_fail_rc(q, rc);
			goto out;
		}
		if (cf_frame_add(&f, it[i].id, NULL, 0) != 0) {
			rq_fail_rc(q, COFFER_ENOMEM);
			goto out;
		}
	}
	intx = 0;
	if ((rc = srv_meta_commit(q->s->meta)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	rq_reply_frame(q, MHD_HTTP_OK, &f);
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
void
ep_objects_put(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	const uint8_t *drive = q->p_id;
	struct cf_frame_item *it = NULL;
	struct srv_objput *puts = NULL;
	struct srv_objloc loc;
	size_t n = 0, i, nnew = 0, nrec = 0, nstored = 0;
	uint64_t used, nobj, add = 0;
	int rc, intx = 0;

	if (req_frame(q, &it, &n, 0) != 0)
		goto out;
	if (n > 0 && (puts = calloc(n, sizeof(*puts))) == NULL) {
		rq_fail_rc(q, COFFER_ENOMEM);
		goto out;
	}

	/* 1: who, where, what is missing; nothing is kept. */
	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if (rq_drive_access(q, acct, drive, 1) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		rc = srv_meta_object_get(q->s->meta, drive, it[i].id, &loc);
		if (rc == 0)
			continue;
		if (rc != COFFER_ENOENT) {
			rq_fail_rc(q, rc);
			goto out;
		}
		puts[nnew].id = it[i].id;
		puts[nnew].data = it[i].data;
		puts[nnew].len = (uint32_t)it[i].len;
		add += it[i].len;
		nnew++;
	}
	if ((rc = srv_meta_usage(q->s->meta, acct, &used, &nobj)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	if (add > 0 && (used > q->s->cfg.quota ||
	    add > q->s->cfg.quota - used)) {
		rq_fail_quota(q, used, add);
		goto out;
	}
	intx = 0;
	srv_meta_rollback(q->s->meta);

	/* 2: DESIGN §6, every byte durable before the commit that shows it. */
	errno = 0;
	if ((rc = srv_objstore_write(q->s->objs, puts, nnew)) != 0) {
		if (rc == COFFER_ENOMEM)
			rq_fail_rc(q, rc);
		else
			rq_fail_store(q, "object store write");
		goto out;
	}

	/* 3: record, as one transaction. */
	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if (rq_drive_access(q, acct, drive, 1) != 0)
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
					rq_fail_rc(q, rc);
					goto out;
				}
				continue;
			}
			/* Stored meanwhile (a concurrent put of the same id,
			 * or twice in this frame): that copy stays. */
		}
		if ((rc = srv_meta_object_protect(q->s->meta, drive, it[i].id,
		    q->now + SRV_PROTECT_SECONDS)) != 0) {
			rq_fail_rc(q, rc);
			goto out;
		}
	}
	if ((rc = srv_meta_usage(q->s->meta, acct, &used, &nobj)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	if (add > 0 && (used > q->s->cfg.quota ||
	    add > q->s->cfg.quota - used)) {
		rq_fail_quota(q, used, add);
		goto out;
	}
	if (nstored > 0 && (rc = srv_meta_usage_add(q->s->meta, acct, add,
	    nstored)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	intx = 0;
	rq_commit_reply(q, MHD_HTTP_CREATED, json_pack("{s:I,s:I}", "stored",
	    (json_int_t)nstored, "present", (json_int_t)(n - nstored)));
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	free(puts);
	free(it);
}

void
ep_objects_get(struct rq *q)
{
	const uint8_t *acct = q->p_acct;
	const uint8_t *drive = q->p_id;
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
		rq_fail_rc(q, COFFER_ENOMEM);
		goto out;
	}
	if (rq_begin_device(q, acct) != 0)
		goto out;
	intx = 1;
	if ((a = rq_drive_access(q, acct, drive, 0)) < 0)
		goto out;
	for (i = 0; a == 0 && i < n; i++) {
		rc = srv_meta_object_get(q->s->meta, drive, it[i].id, &locs[i]);
		if (rc == COFFER_ENOENT) {
			locs[i].pack = 0;	/* pack numbers start at 1 */
			continue;
		}
		if (rc != 0) {
			rq_fail_rc(q, rc);
			goto out;
		}
	}
	intx = 0;
	if ((rc = srv_meta_commit(q->s->meta)) != 0) {
		rq_fail_rc(q, rc);
		goto out;
	}
	/* Reserve the answer's memory from the global budget. */
	for (i = 0; a == 0 && i < n; i++)
		if (locs[i].pack != 0 && want < CF_FRAME_MAX)
			want += CF_FRAME_ITEM_HDR_BYTES + locs[i].len;
	q->resv = (long)(want < CF_FRAME_MAX ? want : CF_FRAME_MAX);
	if (atomic_fetch_add(&q->s->resp_bytes, q->resv) + q->resv >
	    SRV_RESP_BUDGET) {
		rq_fail(q, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "busy: too many large answers, retry");
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
			rq_fail_rc(q, COFFER_ENOMEM);
			goto out;
		}
		if (srv_objstore_read(q->s->objs, &locs[i], buf) != 0) {
			rq_fail(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "object store read failed");
			goto out;
		}
		if (cf_frame_add(&f, it[i].id, buf, locs[i].len) != 0) {
			q->truncated = 1;
			break;
		}
		free(buf);
		buf = NULL;
	}
	rq_reply_frame(q, MHD_HTTP_OK, &f);
out:
	if (intx)
		srv_meta_rollback(q->s->meta);
	cf_frame_abort(&f);
	free(buf);
	free(locs);
	free(it);
}
