/*
 * Many objects in parallel transfers (net.h): put-many and get-many, over
 * the transport of conn.c.
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
/*
 * One slot of a parallel transfer: its request frame, and for a download
 * the ids [start, start + count) it asks for.
 */
struct bslot {
	struct xfer x;
	uint8_t *frame;
	size_t flen;
	size_t start, count;
	int busy;
};

/*
 * batch_begin(c, drive, what, path, pathsz, parallelp):
 * Ready ${c} for up to ${*parallelp} transfers (0 or too many: the most,
 * CF_CLIENT_PARALLEL_MAX) to the drive's ${what} path, written to ${path}:
 * the multi handle, one easy handle a slot, the last error cleared.
 */
static int
batch_begin(struct cf_client *c, const uint8_t drive[static CF_ID_BYTES],
    const char *what, char *path, size_t pathsz, unsigned *parallelp)
{
	size_t k;
	int rc;

	if (*parallelp == 0 || *parallelp > CF_CLIENT_PARALLEL_MAX)
		*parallelp = CF_CLIENT_PARALLEL_MAX;
	if ((rc = cf_conn_acct_path(c, path, pathsz, "drives", drive,
	    what)) != 0)
		return rc;
	if (c->multi == NULL && (c->multi = curl_multi_init()) == NULL)
		return COFFER_ENOMEM;
	for (k = 0; k < *parallelp; k++)
		if (c->pool[k] == NULL &&
		    (c->pool[k] = curl_easy_init()) == NULL)
			return COFFER_ENOMEM;
	c->status = 0;
	c->errmsg[0] = '\0';
	c->errcode[0] = '\0';
	return 0;
}

/* Drop the frame of slot ${b}, which is free again. */
static void
slot_clear(struct bslot *b)
{
	free(b->frame);
	b->frame = NULL;
	b->busy = 0;
}

/*
 * slot_start(c, b, e, path):
 * Start the POST of slot ${b}'s frame to ${path} on easy handle ${e}; on
 * failure the frame is freed.  0 or a COFFER_* code.
 */
static int
slot_start(struct cf_client *c, struct bslot *b, CURL *e, const char *path)
{
	int rc;

	b->x.e = e;
	if ((rc = cf_conn_xfer_setup(c, &b->x, "POST", path, "", CF_CT_FRAME,
	    b->frame, b->flen, 0, "")) != 0) {
		slot_clear(b);
		return rc;
	}
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		cf_conn_xfer_release(&b->x);
		slot_clear(b);
		return COFFER_ENOMEM;
	}
	b->busy = 1;
	return 0;
}

/*
 * Run the transfers a step: COFFER_EUNREACHABLE if the multi handle
 * failed.  Wait only while a transfer runs: with none, poll has no socket
 * to wait on and sleeps its whole timeout (1 s) before the finished ones
 * are collected.
 */
static int
batch_step(struct cf_client *c)
{
	int running = 0;

	if (curl_multi_perform(c->multi, &running) != CURLM_OK ||
	    (running > 0 &&
	    curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK))
		return COFFER_EUNREACHABLE;
	return 0;
}

/*
 * slot_done(c, slot, parallel, msg, respp, rlenp, rp):
 * The busy slot of ${slot} whose transfer ${msg} says finished, or NULL
 * (not a finished transfer of ours).  Its answer is in ${*respp} (free it)
 * and ${*rlenp}, ${*rp} is 0 or the COFFER_* code of the transfer or of
 * its HTTP status; the slot stays busy until slot_clear.
 */
static struct bslot *
slot_done(struct cf_client *c, struct bslot *slot, unsigned parallel,
    CURLMsg *msg, uint8_t **respp, size_t *rlenp, int *rp)
{
	struct xfer *xp = NULL;
	long status;
	size_t k;

	if (msg->msg != CURLMSG_DONE)
		return NULL;
	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&xp);
	for (k = 0; k < parallel; k++)
		if (slot[k].busy && &slot[k].x == xp)
			break;
	if (k == parallel)
		return NULL;
	curl_multi_remove_handle(c->multi, slot[k].x.e);
	*rp = cf_conn_xfer_finish(&slot[k].x, msg->data.result, &status, respp,
	    rlenp);
	if (*rp == 0)
		*rp = cf_conn_status_rc(status);
	return &slot[k];
}

/* The multi handle failed: abandon the transfers of the busy slots. */
static void
batch_abandon(struct cf_client *c, struct bslot *slot, unsigned parallel)
{
	size_t k;

	for (k = 0; k < parallel; k++) {
		if (!slot[k].busy)
			continue;
		curl_multi_remove_handle(c->multi, slot[k].x.e);
		cf_conn_xfer_release(&slot[k].x);
		slot_clear(&slot[k]);
	}
}

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
	struct bslot slot[CF_CLIENT_PARALLEL_MAX], *b;
	char path[PATH_MAX_LEN];
	CURLMsg *msg;
	uint8_t *resp;
	size_t next = 0, rlen, k;
	uint64_t st;
	json_t *out;
	int left, rc = 0, r, active = 0;

	*storedp = 0;
	memset(slot, 0, sizeof(slot));
	if ((rc = batch_begin(c, drive, "/objects/put", path, sizeof(path),
	    &parallel)) != 0)
		goto out;
	for (;;) {
		/* Fill the free slots while there is work and no error. */
		for (k = 0; k < parallel && rc == 0 && next < n; k++) {
			if (slot[k].busy)
				continue;
			if ((rc = next_frame(items, n, &next, &slot[k].frame,
			    &slot[k].flen)) != 0 ||
			    (rc = slot_start(c, &slot[k], c->pool[k],
			    path)) != 0)
				break;
			active++;
		}
		if (active == 0)
			break;
		/* Still collect what finished, then drop the rest. */
		if (batch_step(c) != 0)
			rc = COFFER_EUNREACHABLE;
		while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
			resp = NULL;
			if ((b = slot_done(c, slot, parallel, msg, &resp, &rlen,
			    &r)) == NULL)
				continue;
			if (r == 0) {
				if ((out = cf_json_object(resp,
				    rlen)) == NULL ||
				    cf_json_u64(out, "stored", &st) != 0)
					r = COFFER_ENOTAUTHENTIC;
				else
					*storedp += st;
				json_decref(out);
			}
			if (r != 0 && rc == 0)
				rc = r;
			free(resp);
			slot_clear(b);
			active--;
		}
		if (rc == COFFER_EUNREACHABLE && active > 0) {
			batch_abandon(c, slot, parallel);
			active = 0;
		}
	}
out:
	return rc;
}

/* Deliver one answer; a range still to fetch goes to ${*retryp}. */
static int
deliver(const uint8_t (*ids)[CF_ID_BYTES], struct bslot *g, const uint8_t *resp,
    size_t rlen, cf_client_obj_cb *cb, void *arg, size_t *gotp,
    size_t *rstart, size_t *rcount)
{
	struct cf_frame_item *it = NULL;
	size_t m = 0, k, *idx = NULL, last;
	int rc;

	*rcount = 0;
	if ((rc = cf_conn_answer_items(resp, rlen, ids + g->start, g->count,
	    &it, &m, &idx)) != 0)
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
	struct bslot slot[CF_CLIENT_PARALLEL_MAX], *b;
	size_t rq_start[CF_CLIENT_PARALLEL_MAX],
	    rq_count[CF_CLIENT_PARALLEL_MAX];
	size_t nretry = 0, next = 0, k, start, count, rs, rcnt, rlen;
	char path[PATH_MAX_LEN];
	CURLMsg *msg;
	uint8_t *resp;
	int left, rc = 0, r, active = 0;

	*gotp = 0;
	memset(slot, 0, sizeof(slot));
	if ((rc = batch_begin(c, drive, "/objects/get", path, sizeof(path),
	    &parallel)) != 0)
		goto out;
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
			if ((rc = cf_conn_ids_frame(ids + start, count,
			    &slot[k].frame, &slot[k].flen)) != 0 ||
			    (rc = slot_start(c, &slot[k], c->pool[k],
			    path)) != 0)
				break;
			active++;
		}
		if (active == 0)
			break;
		if (batch_step(c) != 0)
			rc = COFFER_EUNREACHABLE;
		while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
			resp = NULL;
			if ((b = slot_done(c, slot, parallel, msg, &resp, &rlen,
			    &r)) == NULL)
				continue;
			rcnt = 0;
			if (r == 0 && rc == 0)
				r = deliver(ids, b, resp, rlen, cb, arg,
				    gotp, &rs, &rcnt);
			if (r == 0 && rcnt > 0 && nretry < CF_CLIENT_PARALLEL_MAX) {
				rq_start[nretry] = rs;
				rq_count[nretry] = rcnt;
				nretry++;
			}
			if (r != 0 && rc == 0)
				rc = r;
			free(resp);
			slot_clear(b);
			active--;
		}
		if (rc == COFFER_EUNREACHABLE && active > 0) {
			batch_abandon(c, slot, parallel);
			active = 0;
		}
	}
out:
	return rc;
}
