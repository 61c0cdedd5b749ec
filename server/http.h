/*
 * cofferd's HTTP layer, inside the server: the request (struct rq), the
 * route table that dispatches it, replies and failures, authentication
 * (docs/API.md §2), and the endpoints of docs/API.md §4.
 *
 *   http.c        the MHD daemon, request lifecycle, body reading with its
 *                 cap, the route table and dispatch, logging, rate limit
 *   reply.c       replies, failures, the JSON body and its fields
 *   auth.c        request signature check, account and device lookup
 *   ep_chain.c    accounts, their chain and envelopes
 *   ep_devices.c  join requests and approvals
 *   ep_dirs.c     the account's directory
 *   ep_drives.c   drive heads, quota
 *   ep_objects.c  objects have/put/get (batch frames)
 */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "net/frame.h"
#include "net/reqsig.h"
#include "server.h"

#define METHOD_MAX	16
#define SEGS_MAX	8
#define QUERY_MAX	1024
#define SRV_CT_JSON	"application/json"
#define SRV_CT_FRAME	"application/x-coffer-frame"

struct rq;

/* One route: a method and a path pattern, the body cap, the handler. */
struct route {
	const char *method;
	/* "/"-separated segments; "{acct}" and "{id}" match a hex id (kept
	 * in p_acct, p_id), "{name}" any segment (p_name). */
	const char *pattern;
	size_t body_max;		/* bytes; read before any handler */
	int flags;
	void (*handler)(struct rq *);
};

#define RT_READ		0x1	/* only reads: its nonce need not survive a
				 * crash (docs/API.md §2) */
#define RT_RK		0x2	/* the recovery key may sign it */

/* ---- the request ---- */

struct rq {
	struct srv *s;
	struct MHD_Connection *c;
	char method[METHOD_MAX];
	char path[SRV_PATH_MAX];
	char addr[INET6_ADDRSTRLEN];
	uint8_t *body;
	size_t len, cap, max;
	/* BLAKE2b-256 of the body, hashed as it streams in (while the bytes
	 * are in cache and outside any lock); NULL: no body. */
	crypto_generichash_state *bhs;
	uint8_t bh[crypto_generichash_BYTES];
	int refused;			/* a response was queued early */
	struct timespec t0;
	/* the parsed path and the route it matched (NULL: none) */
	char *seg[SEGS_MAX];
	size_t nseg;
	char segbuf[SRV_PATH_MAX];
	const struct route *rt;
	uint8_t p_acct[CF_ID_BYTES], p_id[CF_ID_BYTES];
	const char *p_name;
	/* the path has a route (maybe not this method) */
	int path_known;
	/* authentication headers */
	uint8_t acct[CF_ID_BYTES], dev[CF_ID_BYTES];
	uint8_t nonce[CF_REQ_NONCE_BYTES], sig[CF_SIG_BYTES];
	uint64_t time;
	char query[QUERY_MAX];
	const char *ctype, *keyhex, *invite;
	int has_key;
	uint8_t key_sign_pk[CF_SIGN_PK_BYTES], key_box_pk[CF_BOX_PK_BYTES];
	int rk_ok;			/* the recovery key may sign this one */
	long resv;			/* reserved from s->resp_bytes */
	uint64_t now;
	/* the response */
	unsigned status;
	uint8_t *resp;
	size_t resp_len;
	const char *resp_ct;
	int truncated;
};

/* ---- http.c ---- */

/* 1 if ${addr} may make another rate-limited request now. */
int rq_rate_ok(struct srv *s, const char *addr, uint64_t now);

/* 0 if the sender of ${q} may make it now (rq_rate_ok), else -1 with a 429. */
int rq_rate_limit(struct rq *q);

/* ---- reply.c: every handler leaves exactly one reply set ---- */

/* Set a JSON response, taking ${o} (NULL: 500). */
void rq_reply_json(struct rq *q, unsigned status, json_t *o);

/* {"error": msg}. */
void rq_fail(struct rq *q, unsigned status, const char *msg);

/*
 * A refusal the client tells apart by its stable ${code} (docs/API.md §1:
 * "quota", "disk_full", "device_removed").
 */
void rq_fail_code(struct rq *q, unsigned status, const char *msg,
    const char *code);

/* 507: the account's quota would be exceeded (logged). */
void rq_fail_quota(struct rq *q, uint64_t used, uint64_t add);

/*
 * A store write or commit failed: logged with errno and free space; 507
 * "disk_full" when the disk is full, 500 otherwise.
 */
void rq_fail_store(struct rq *q, const char *what);

/* Map a store error to a response. */
void rq_fail_rc(struct rq *q, int rc);

/* Commit and reply with ${o} (taken; NULL: roll back, 503). */
void rq_commit_reply(struct rq *q, unsigned status, json_t *o);

/* Reply with the frame ${f} (finished here). */
void rq_reply_frame(struct rq *q, unsigned status, struct cf_frame_w *f);

/* Parse the body as a JSON object; on failure a 400 is set and NULL. */
json_t *rq_body_json(struct rq *q);

/* A srv_meta callback: append ${p} in base64 to the JSON array ${arg}. */
int rq_push_b64(void *arg, const uint8_t *p, size_t len);

/* ---- auth.c ---- */

/* A query parameter (already validated by rq_auth_headers). */
const char *rq_qparam(struct rq *q, const char *key);

/*
 * Read the signature headers and the query (no store access).  0, or -1
 * with a 401/400 set.
 */
int rq_auth_headers(struct rq *q);

/*
 * Verify the signature with ${pk} for one of the origins this server
 * answers to, and use the nonce (inside the caller's transaction).  0, or
 * -1 with a reply set.
 */
int rq_auth_verify(struct rq *q, const uint8_t pk[static CF_SIGN_PK_BYTES]);

/*
 * The account in the path, ${acct_in_path}, is the one ${q} is signed
 * for: 0, or -1 with a 403 set.
 */
int rq_same_account(struct rq *q, const uint8_t *acct_in_path);

/* 1 if the signer of ${q} is its account's current recovery key. */
int rq_is_rk(struct rq *q);

/*
 * The usual case: ${q} is signed by a device active in ${acct_in_path}
 * (or by its recovery key where the route allows).  0, or -1 with a reply
 * set.
 */
int rq_auth_device(struct rq *q, const uint8_t *acct_in_path);

/* Read the headers, begin a transaction, rq_auth_device; 0 or -1. */
int rq_begin_device(struct rq *q, const uint8_t *acct);

/* ---- ep_drives.c ---- */

/*
 * Drive access for ${acct}: 0 owned; 1 unknown (claimed if ${claim});
 * -1 with a reply set (another account's: 404; storage error).
 */
int rq_drive_access(struct rq *q, const uint8_t *acct, const uint8_t *drive,
    int claim);

/* ---- the endpoints (docs/API.md §4), one per route ---- */

void ep_account_create(struct rq *);
void ep_name_lookup(struct rq *);
void ep_chain_get(struct rq *);
void ep_chain_append(struct rq *);
void ep_envelopes_put(struct rq *);
void ep_envelopes_get(struct rq *);
void ep_join_post(struct rq *);
void ep_join_withdraw(struct rq *);
void ep_joins_list(struct rq *);
void ep_approval_put(struct rq *);
void ep_approval_get(struct rq *);
void ep_dir_get(struct rq *);
void ep_dir_records(struct rq *);
void ep_dir_put(struct rq *);
void ep_head_get(struct rq *);
void ep_head_put(struct rq *);
void ep_quota(struct rq *);
void ep_objects_have(struct rq *);
void ep_objects_put(struct rq *);
void ep_objects_get(struct rq *);

#endif /* !SRV_HTTP_H */
