/*
 * The client side's transport, inside lib/net (conn.c), for the API calls
 * (api.c) and the batches (batch.c): the connection, one transfer, a JSON
 * call, a frame call.  Not installed; net.h is the interface.
 */
#ifndef CF_NET_CONN_H
#define CF_NET_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "net/frame.h"
#include "net/net.h"
#include "net/reqsig.h"
#include "util/buf.h"

#define ORIGIN_MAX	512
#define URL_MAX		2048
#define PATH_MAX_LEN	512
#define HDR_MAX		256
#define QUERY_MAX	256
#define KEY_HEX_BYTES	(2 * (CF_SIGN_PK_BYTES + CF_BOX_PK_BYTES) + 1)
#define CF_CT_JSON	"application/json"
#define CF_CT_FRAME	"application/x-coffer-frame"

struct cf_client {
	CURL *curl;
	char origin[ORIGIN_MAX];
	uint8_t acct[CF_ID_BYTES];
	uint8_t dev[CF_ID_BYTES];
	uint8_t sign_pk[CF_SIGN_PK_BYTES];
	uint8_t box_pk[CF_BOX_PK_BYTES];
	uint8_t *sign_sk;		/* sodium_malloc'd */
	int has_signer;
	int64_t time_offset;
	int fixed_nonce_set;
	uint8_t fixed_nonce[CF_REQ_NONCE_BYTES];
	long status;
	char errmsg[CF_CLIENT_ERRMSG_MAX];
	char errcode[CF_CLIENT_ERRCODE_MAX];
	int truncated;
	CURLM *multi;				/* parallel transfers */
	CURL *pool[CF_CLIENT_PARALLEL_MAX];	/* kept for keep-alive */
	size_t resp_max;		/* cap of the next answers; 0: RESP_MAX */
};

struct sink {
	struct cf_wr w;
	size_t cap;			/* bytes of answer taken at most */
	int over;
};

/* One transfer: an easy handle set up with a signed request. */
struct xfer {
	CURL *e;
	struct curl_slist *hl;
	struct sink s;
	struct cf_client *c;
	int truncated;
	char url[URL_MAX];
};

/* The COFFER_* code of an HTTP status (net.h lists them). */
int cf_conn_status_rc(long st);

/*
 * Set up ${x} for one signed request of ${c} (the body is the caller's
 * until cf_conn_xfer_release).  0 or a COFFER_* code.
 */
int cf_conn_xfer_setup(struct cf_client *c, struct xfer *x,
    const char *method, const char *path, const char *query,
    const char *ctype, const uint8_t *body, size_t len, int self_signed,
    const char *invite);

/* The answer of a finished transfer: status, body (taken), its length. */
int cf_conn_xfer_finish(struct xfer *x, CURLcode cc, long *statusp,
    uint8_t **respp, size_t *lenp);
void cf_conn_xfer_release(struct xfer *x);

/*
 * A JSON call: sends ${req} (may be NULL: no body), returns the parsed
 * answer of a 2xx in ${*outp} (and, for 409, too: the current value).
 */
int cf_conn_jcall(struct cf_client *c, const char *method, const char *path,
    const char *query, json_t *req, int self_signed, const char *invite,
    json_t **outp);

/* "/v1/accounts/{acct}/TAIL[/X/TAIL2]" into ${out}. */
int cf_conn_acct_path(struct cf_client *c, char *out, size_t outlen,
    const char *tail, const uint8_t *x, const char *tail2);

/* POST a frame to the drive's objects/${op}; the answer frame on 2xx. */
int cf_conn_fcall(struct cf_client *c, const uint8_t *drive, const char *op,
    const uint8_t *frame, size_t flen, uint8_t **respp, size_t *rlenp);

/* A frame of the ${n} ids, without bytes. */
int cf_conn_ids_frame(const uint8_t (*ids)[CF_ID_BYTES], size_t n,
    uint8_t **fp, size_t *flenp);

/*
 * Match answer items to the request ids: each answer id must be one that
 * was asked for, in request order, at most once (else
 * COFFER_ENOTAUTHENTIC).  ${idx}[k] is the request index of answer item
 * k (${idx} may be NULL).
 */
int cf_conn_match_ids(const uint8_t (*ids)[CF_ID_BYTES], size_t n,
    const struct cf_frame_item *it, size_t m, size_t *idx);

/*
 * cf_conn_answer_items(resp, rlen, ids, n, itp, mp, idxp):
 * The items of the answer frame ${resp} to a request for the ${n} ${ids}
 * into ${*itp} (they point into ${resp}; free the array) and ${*mp},
 * matched by cf_conn_match_ids; with ${idxp} not NULL, the request index
 * of each into ${*idxp} (free it).  A frame that breaks the rules:
 * COFFER_ENOTAUTHENTIC; or COFFER_ENOMEM.
 */
int cf_conn_answer_items(const uint8_t *resp, size_t rlen,
    const uint8_t (*ids)[CF_ID_BYTES], size_t n, struct cf_frame_item **itp,
    size_t *mp, size_t **idxp);

#endif /* !CF_NET_CONN_H */
