/*
 * cofferd: replies and failures, the JSON body and its fields.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "coffer/err.h"
#include "http.h"
#include "net/json.h"

/* A store write failed with less than this (plus the request) free: disk full. */
#define DISK_LOW_BYTES	((uint64_t)1 << 20)

/* Set a JSON response, taking ${o}. */
void
rq_reply_json(struct rq *q, unsigned status, json_t *o)
{
	char *txt;

	free(q->resp);
	q->resp = NULL;
	q->resp_len = 0;
	q->status = status;
	q->resp_ct = SRV_CT_JSON;
	if (o == NULL || (txt = json_dumps(o, JSON_COMPACT)) == NULL) {
		q->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		json_decref(o);
		return;
	}
	json_decref(o);
	q->resp = (uint8_t *)txt;
	q->resp_len = strlen(txt);
}

void
rq_fail(struct rq *q, unsigned status, const char *msg)
{
	rq_reply_json(q, status, json_pack("{s:s}", "error", msg));
}

/*
 * A refusal the client tells apart by its stable ${code} (docs/API.md §1:
 * "quota", "disk_full", "device_removed").
 */
void
rq_fail_code(struct rq *q, unsigned status, const char *msg, const char *code)
{
	rq_reply_json(q, status, json_pack("{s:s, s:s}", "error", msg, "code",
	    code));
}

/* 507: the account's quota would be exceeded (logged). */
void
rq_fail_quota(struct rq *q, uint64_t used, uint64_t add)
{
	char acct[2 * CF_ID_BYTES + 1], u[24], a[24], l[24];

	sodium_bin2hex(acct, sizeof(acct), q->acct, CF_ID_BYTES);
	snprintf(u, sizeof(u), "%" PRIu64, used);
	snprintf(a, sizeof(a), "%" PRIu64, add);
	snprintf(l, sizeof(l), "%" PRIu64, q->s->cfg.quota);
	srv_log("quota_full", "account", acct, "used", u, "adding", a,
	    "quota", l, (const char *)NULL);
	rq_fail_code(q, 507,
	    "quota exceeded: the account's storage quota is full",
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
void
rq_fail_store(struct rq *q, const char *what)
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
		rq_fail_code(q, 507, "the server is out of disk space; nothing "
		    "was stored", "disk_full");
	else
		rq_fail(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "storage error");
}

/* Map a store error to a response. */
void
rq_fail_rc(struct rq *q, int rc)
{
	switch (rc) {
	case COFFER_ENOMEM:
		rq_fail(q, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
		break;
	case COFFER_EFORMAT:
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "malformed record");
		break;
	default:
		rq_fail_store(q, "metadata store");
		break;
	}
}

/* Parse the body as a JSON object; on failure a 400 is set. */
json_t *
rq_body_json(struct rq *q)
{
	json_t *o = NULL;

	if (q->len == 0) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "a JSON body is required");
		goto out;
	}
	if (!cf_json_depth_ok(q->body, q->len, CF_JSON_DEPTH_MAX)) {
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "JSON nested too deeply");
		goto out;
	}
	if ((o = cf_json_object(q->body, q->len)) == NULL)
		rq_fail(q, MHD_HTTP_BAD_REQUEST, "malformed JSON");
out:
	return o;
}

/* ---- small parsers ---- */

int
rq_push_b64(void *arg, const uint8_t *p, size_t len)
{
	json_t *v = cf_json_b64_new(p, len);

	return (v != NULL && json_array_append_new(arg, v) == 0) ? 0 :
	    COFFER_ENOMEM;
}

/* Commit and reply with ${o} (taken). */
void
rq_commit_reply(struct rq *q, unsigned status, json_t *o)
{
	int rc;

	if (o == NULL) {
		srv_meta_rollback(q->s->meta);
		rq_fail(q, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	} else if ((rc = srv_meta_commit(q->s->meta)) != 0) {
		json_decref(o);
		rq_fail_rc(q, rc);
	} else {
		rq_reply_json(q, status, o);
	}
}

void
rq_reply_frame(struct rq *q, unsigned status, struct cf_frame_w *f)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (cf_frame_finish(f, &buf, &len) != 0) {
		rq_fail(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "could not build frame");
		return;
	}
	free(q->resp);
	q->resp = buf;
	q->resp_len = len;
	q->status = status;
	q->resp_ct = SRV_CT_FRAME;
}
