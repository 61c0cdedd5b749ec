/*
 * The client side of the server API (docs/API.md §4): one call per
 * endpoint, over the transport of conn.c.
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

#define ENTRIES_MAX	4096
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

/*
 * A compare-and-swap PUT of ${req} (its "expect" the version the caller
 * saw) to ${path}: ${*currentp} is the server's version after it, from
 * the answer to a success and to a conflict alike.
 */
static int
cas_put(struct cf_client *c, const char *path, json_t *req,
    uint64_t *currentp)
{
	json_t *out = NULL;
	int rc, rc2;

	rc = cf_conn_jcall(c, "PUT", path, "", req, 0, NULL, &out);
	if (out != NULL && (rc2 = ju64(out, "version", currentp)) != 0)
		rc = rc2;
	json_decref(out);
	return rc;
}

static json_t *
blobs_json(const struct cf_blobs *b)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && b != NULL && i < b->n; i++) {
		if (json_array_append_new(arr, cf_json_b64_new(b->p[i],
		    b->len[i])) != 0) {
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
	if ((rc = cf_conn_jcall(c, "POST", "/v1/accounts", "", req, 1, invite,
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
	if ((rc = cf_conn_jcall(c, "GET", path, "", NULL, 0, NULL, &out)) != 0)
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
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), what, NULL,
	    NULL)) != 0 ||
	    (rc = cf_req_query_canon(keys, vals, 1, q, sizeof(q))) != 0)
		return rc;
	return cf_conn_jcall(c, "GET", path, q, NULL, 0, NULL, outp);
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
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "chain", NULL,
	    NULL)) != 0)
		goto out;
	req = json_pack("{s:I,s:o,s:o}", "seq", (json_int_t)seq, "entry",
	    cf_json_b64_new(entry, len), "envelopes", blobs_json(envelopes));
	if (req == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = cf_conn_jcall(c, "POST", path, "", req, self_signed, NULL, &out);
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

	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "envelopes", NULL,
	    NULL)) != 0)
		goto out;
	if ((req = json_pack("{s:o}", "envelopes", blobs_json(envelopes))) ==
	    NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = cf_conn_jcall(c, "POST", path, "", req, 0, NULL, &out);
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
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "joins", NULL,
	    NULL)) != 0)
		goto out;
	if ((req = json_pack("{s:o}", "request", cf_json_b64_new(jreq,
	    len))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if ((rc = cf_conn_jcall(c, "POST", path, "", req, 1, NULL, &out)) != 0)
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
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "joins", NULL,
	    NULL)) != 0)
		goto out;
	if ((rc = cf_conn_jcall(c, "GET", path, "", NULL, 0, NULL, &out)) != 0)
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

	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "joins", device_id,
	    "/approval")) != 0)
		goto out;
	if ((req = json_pack("{s:o}", "approval", cf_json_b64_new(ap,
	    len))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = cf_conn_jcall(c, "PUT", path, "", req, 0, NULL, &out);
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

	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "joins", device_id,
	    NULL)) != 0)
		goto out;
	if ((req = json_pack("{s:o}", "withdrawal", cf_json_b64_new(sig,
	    siglen))) ==
	    NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = cf_conn_jcall(c, "DELETE", path, "", req, 1, NULL, &out);
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
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "joins", device_id,
	    "/approval")) != 0)
		goto out;
	if ((rc = cf_conn_jcall(c, "GET", path, "", NULL, self_signed, NULL,
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
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "directory", NULL,
	    NULL)) != 0)
		goto out;
	if ((rc = cf_conn_jcall(c, "GET", path, "", NULL, 0, NULL,
	    &out)) != 0 ||
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
	json_t *req = NULL;
	int rc;

	*currentp = 0;
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "directory", NULL,
	    NULL)) != 0)
		goto out;
	if ((req = json_pack("{s:I,s:o}", "expect", (json_int_t)expect,
	    "record", cf_json_b64_new(rec, len))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = cas_put(c, path, req, currentp);
out:
	json_decref(req);
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
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "drives", drive,
	    "/head")) != 0)
		goto out;
	if ((rc = cf_conn_jcall(c, "GET", path, "", NULL, 0, NULL,
	    &out)) != 0 ||
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
	json_t *req = NULL;
	int rc;

	*currentp = 0;
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "drives", drive,
	    "/head")) != 0)
		goto out;
	if ((req = json_pack("{s:I,s:o,s:o}", "expect", (json_int_t)expect,
	    "commit", cf_json_hex_new(commit, CF_ID_BYTES), "delta",
	    cf_json_b64_new(delta, dlen))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	rc = cas_put(c, path, req, currentp);
out:
	json_decref(req);
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
	if ((rc = cf_conn_ids_frame(ids, n, &frame, &flen)) != 0)
		goto out;
	if ((rc = cf_conn_fcall(c, drive, "have", frame, flen, &resp,
	    &rlen)) != 0)
		goto out;
	if ((rc = cf_conn_answer_items(resp, rlen, ids, n, &it, &m,
	    &idx)) != 0)
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
	if ((rc = cf_conn_fcall(c, drive, "put", frame, flen, &resp,
	    &rlen)) != 0)
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
	if ((rc = cf_conn_fcall(c, drive, "put", frame, flen, &resp,
	    &rlen)) != 0)
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
	if ((rc = cf_conn_ids_frame(ids, n, &frame, &flen)) != 0)
		goto out;
	if ((rc = cf_conn_fcall(c, drive, "get", frame, flen, &resp,
	    &rlen)) != 0)
		goto out;
	if ((rc = cf_conn_answer_items(resp, rlen, ids, n, &it, &m,
	    NULL)) != 0)
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
	if ((rc = cf_conn_acct_path(c, path, sizeof(path), "quota", NULL,
	    NULL)) != 0)
		goto out;
	if ((rc = cf_conn_jcall(c, "GET", path, "", NULL, 0, NULL,
	    &out)) != 0 ||
	    (rc = ju64(out, "used", usedp)) != 0 ||
	    (rc = ju64(out, "limit", limitp)) != 0)
		goto out;
	rc = ju64(out, "objects", objectsp);
out:
	json_decref(out);
	return rc;
}
