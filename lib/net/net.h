/*
 * The client side of the server API (docs/API.md): one call per
 * endpoint, over libcurl with keep-alive, every request signed
 * (reqsig.h), objects in batch frames (frame.h).
 *
 * A struct cf_client talks to one server as one signer (a device, or
 * the recovery key during recover).  It is not thread-safe: use one per
 * thread.  Everything the server sends is untrusted: malformed answers
 * are COFFER_ENOTAUTHENTIC.  Errors: COFFER_EUNREACHABLE (transport),
 * COFFER_EDENIED (401, 403, 429, 5xx, 507 and the like), COFFER_ENOENT
 * (404, 422), COFFER_ECONFLICT (409), COFFER_ETOOBIG (413).  The server's
 * message, code and status of the last call are kept (cf_client_error),
 * and those of the last refusal of any call (cf_client_last_refusal).
 */
#ifndef CF_NET_H
#define CF_NET_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "net/frame.h"

#define CF_CLIENT_RESP_MAX	(CF_FRAME_MAX + 4096)
#define CF_CLIENT_ERRMSG_MAX	256
#define CF_CLIENT_ERRCODE_MAX	32
#define CF_CLIENT_TIMEOUT	600	/* seconds per request */
#define CF_CLIENT_CONNECT_TIMEOUT 10
#define CF_CLIENT_PARALLEL_MAX	8	/* transfers in flight at once */
#define CF_CLIENT_BATCH_BYTES	((size_t)8 << 20)	/* aim of one put frame */
#define CF_CLIENT_GET_GROUP	1024	/* ids per get-many request */
#define CF_CLIENT_DIR_PAGE_MAX	4096	/* records in one records answer */
/* One chain page: the server's 8 MiB of entries, plus one, in base64. */
#define CF_CLIENT_CHAIN_PAGE_MAX	((size_t)16 << 20)

struct cf_client;

/* A list of byte strings (chain entries, envelopes...). */
struct cf_blobs {
	size_t n;
	uint8_t **p;
	size_t *len;
};
void cf_blobs_free(struct cf_blobs *b);

/* A pending join request as listed by the server. */
struct cf_join_pending {
	uint8_t device_id[CF_ID_BYTES];
	uint8_t *request;
	size_t len;
	uint64_t expires;
};

/**
 * cf_client_new(url, cp):
 * A client for the server at ${url} ("http://host:port").
 */
int cf_client_new(const char *url, struct cf_client **cp);
void cf_client_free(struct cf_client *c);

/**
 * cf_client_set_signer(c, account_id, sign_pk, sign_sk, box_pk):
 * Sign further requests for ${account_id} with this key pair (a device's,
 * or the recovery key's); its id is cf_device_id(sign_pk, box_pk).  The
 * keys are copied; wiped on free.
 */
int cf_client_set_signer(struct cf_client *c,
    const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES]);

/*
 * The HTTP status and server message of the last call ("" if none): the
 * server's text, untrusted (control bytes, escape sequences, cut UTF-8:
 * make it safe before it reaches a terminal).
 */
const char *cf_client_error(const struct cf_client *c, long *statusp);

/*
 * The server's stable error code of the last call ("" if none): a token
 * of [a-z_] (docs/API.md §1: "quota", "disk_full", "device_removed").
 */
const char *cf_client_error_code(const struct cf_client *c);

/**
 * cf_client_last_refusal(code, msg):
 * The HTTP status of the last refusal (an answer mapped to COFFER_EDENIED)
 * that any connection of this process was given, 0 if none; its code and
 * message (untrusted, as cf_client_error) copied into ${code} and ${msg}.
 * Thread-safe: a refusal on a worker thread's connection counts too.
 */
long cf_client_last_refusal(char code[static CF_CLIENT_ERRCODE_MAX],
    char msg[static CF_CLIENT_ERRMSG_MAX]);

/**
 * cf_client_test_hooks(c, time_offset, fixed_nonce):
 * Tests only: shift the signed time by ${time_offset} seconds and, if
 * ${fixed_nonce} is not NULL, use those 16 bytes as every nonce (to
 * show that stale and replayed requests are refused).
 */
void cf_client_test_hooks(struct cf_client *c, int64_t time_offset,
    const uint8_t *fixed_nonce);

/**
 * cf_client_raw(c, method, path, query, ctype, body, len, self_signed,
 *     invite, statusp, respp, resplenp):
 * One signed request (the query already canonical, "" for none); the
 * response body (malloc'd, NUL-terminated) whatever the status.
 */
int cf_client_raw(struct cf_client *c, const char *method, const char *path,
    const char *query, const char *ctype, const uint8_t *body, size_t len,
    int self_signed, const char *invite, long *statusp, uint8_t **respp,
    size_t *resplenp);

/* ---- accounts ---- */

/* Self-signed by the genesis device (the signer). */
int cf_client_account_create(struct cf_client *c, const char *name,
    const uint8_t *genesis, size_t glen, const struct cf_blobs *envelopes,
    const char *invite);
/* Unsigned. */
int cf_client_name_lookup(struct cf_client *c, const char *name,
    uint8_t account_id[static CF_ID_BYTES]);

/* ---- chain ---- */

/**
 * cf_client_chain_get(c, from, entries, lengthp):
 * Entries from ${from} (one page); ${*lengthp} is the chain's length.  An
 * answer over CF_CLIENT_CHAIN_PAGE_MAX bytes (the transfer is cut there)
 * or an entry over CF_ENTRY_MAX: COFFER_ENOTAUTHENTIC.
 */
int cf_client_chain_get(struct cf_client *c, uint64_t from,
    struct cf_blobs *entries, uint64_t *lengthp);
/**
 * cf_client_chain_append(c, seq, entry, len, envelopes, self_signed, lengthp):
 * Append at ${seq}; COFFER_ECONFLICT with ${*lengthp} the current length
 * if the chain moved.  ${self_signed}: recover (the entry adds the signer).
 */
int cf_client_chain_append(struct cf_client *c, uint64_t seq,
    const uint8_t *entry, size_t len, const struct cf_blobs *envelopes,
    int self_signed, uint64_t *lengthp);

/* ---- envelopes ---- */
int cf_client_envelopes_put(struct cf_client *c, const struct cf_blobs *envelopes);
int cf_client_envelopes_get(struct cf_client *c,
    const uint8_t recipient[static CF_ID_BYTES], struct cf_blobs *out);

/* ---- joining ---- */
/* Self-signed by the new device (the signer). */
int cf_client_join_post(struct cf_client *c, const uint8_t *req, size_t len,
    uint64_t *expiresp);
/* ${*listp}: ${*np} entries, free with cf_client_joins_free. */
int cf_client_joins_list(struct cf_client *c, struct cf_join_pending **listp,
    size_t *np);
void cf_client_joins_free(struct cf_join_pending *list, size_t n);
int cf_client_approval_put(struct cf_client *c,
    const uint8_t device_id[static CF_ID_BYTES], const uint8_t *ap, size_t len);
/**
 * cf_client_join_withdraw(c, device_id, sig):
 * Withdraw this new device's pending request (self-signed DELETE, with
 * its withdrawal signature ${sig}, cf_join_withdraw_sign).  0: dropped;
 * COFFER_ECONFLICT: an add-device entry for this key is in the chain
 * already (the join completes); COFFER_ENOENT: no such request.
 */
int cf_client_join_withdraw(struct cf_client *c,
    const uint8_t device_id[static CF_ID_BYTES], const uint8_t *sig,
    size_t siglen);
/* 0 with ${*app} NULL while pending; COFFER_ENOENT once expired. */
int cf_client_approval_get(struct cf_client *c,
    const uint8_t device_id[static CF_ID_BYTES], int self_signed,
    uint8_t **app, size_t *lenp);

/* ---- drive directory ---- */
int cf_client_dir_get(struct cf_client *c, uint64_t *versionp, uint8_t **recp,
    size_t *lenp);
/**
 * cf_client_dir_records(c, after, recs, versionp):
 * The records the server keeps after version ${after}, in order, one page
 * (at least one if any); ${*versionp} is the version the server says is
 * current.  Nothing in them is checked here (cf_dir_check_pin does).
 * cf_client_dir_records_parse is the parser of its answer (for fuzzing).
 */
int cf_client_dir_records(struct cf_client *c, uint64_t after,
    struct cf_blobs *recs, uint64_t *versionp);
int cf_client_dir_records_parse(const uint8_t *body, size_t len,
    struct cf_blobs *recs, uint64_t *versionp);
/* COFFER_ECONFLICT with ${*currentp} if the directory moved. */
int cf_client_dir_put(struct cf_client *c, uint64_t expect, const uint8_t *rec,
    size_t len, uint64_t *currentp);

/* ---- drive heads ---- */
int cf_client_head_get(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], uint64_t *versionp,
    uint8_t commit[static CF_ID_BYTES]);
/* COFFER_ECONFLICT with ${*currentp} if the head moved; COFFER_ENOENT if
 * the commit or a start id is not stored (or a stop id not live). */
int cf_client_head_put(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], uint64_t expect,
    const uint8_t commit[static CF_ID_BYTES], const uint8_t *delta,
    size_t dlen, uint64_t *currentp);

/* ---- objects ---- */
/* ${have}[i] = 1 if ids[i] is stored (n <= CF_FRAME_COUNT_MAX). */
int cf_client_objects_have(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, uint8_t *have);
/* Upload a batch (fits one frame); ${*storedp} new objects. */
int cf_client_objects_put(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const struct cf_frame_item *items,
    size_t n, uint64_t *storedp);
/* Upload a frame the caller built (cf_frame_*); ${*storedp} new objects. */
int cf_client_objects_put_frame(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const uint8_t *frame,
    size_t flen, uint64_t *storedp);
/**
 * cf_client_objects_put_many(c, drive, items, n, parallel, storedp):
 * Upload any number of objects: cut into frames of about
 * CF_CLIENT_BATCH_BYTES (and at most CF_FRAME_COUNT_MAX objects), with up
 * to ${parallel} (at most CF_CLIENT_PARALLEL_MAX; 0: the maximum) put
 * requests in flight at once, each on its own kept-alive connection.
 * ${*storedp} counts the new objects.  On an error no further frame is
 * sent; frames already acknowledged stay stored (each is durable on its
 * own), so a retry re-sends only what is missing.
 */
int cf_client_objects_put_many(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const struct cf_frame_item *items,
    size_t n, unsigned parallel, uint64_t *storedp);

/**
 * cf_client_objects_get(c, drive, ids, n, framep, framelenp, itemsp, nitemsp,
 *     truncatedp):
 * Fetch objects: the answer frame (malloc'd) and its items pointing into
 * it (malloc'd array).  Only ids that were asked for, once each, in
 * order, are accepted (else COFFER_ENOTAUTHENTIC).
 */
int cf_client_objects_get(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, uint8_t **framep, size_t *framelenp,
    struct cf_frame_item **itemsp, size_t *nitemsp, int *truncatedp);

/**
 * cf_client_objects_get_many(c, drive, ids, n, parallel, cb, arg, gotp):
 * Fetch any number of objects, in get-many requests of at most
 * CF_CLIENT_GET_GROUP ids, up to ${parallel} (at most
 * CF_CLIENT_PARALLEL_MAX; 0: the maximum) in flight at once; a truncated
 * answer is followed by a request for the rest.  ${cb}(${arg}, i, data,
 * len) is called, in the calling thread, once for each object the server
 * returned (i: its index in ${ids}; data valid only during the call); a
 * non-zero return stops everything and is returned.  ${*gotp} counts the
 * objects delivered; ids the server does not have are simply not
 * delivered (the caller sees which).  Answers naming ids not asked for,
 * out of order or twice are COFFER_ENOTAUTHENTIC.
 */
typedef int cf_client_obj_cb(void *arg, size_t i, const uint8_t *data,
    size_t len);
int cf_client_objects_get_many(struct cf_client *c,
    const uint8_t drive[static CF_ID_BYTES], const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, unsigned parallel, cf_client_obj_cb *cb, void *arg,
    size_t *gotp);

/* ---- quota ---- */
int cf_client_quota(struct cf_client *c, uint64_t *usedp, uint64_t *limitp,
    uint64_t *objectsp);

#endif /* !CF_NET_H */
