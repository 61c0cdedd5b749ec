/*
 * Request signing (DESIGN §6, docs/API.md §2), shared by the client and
 * the server.
 *
 *   D   = BLAKE2b-512("coffer-req-v1" || lstr(origin) || account_id[32]
 *         || device_id[32] || lstr(method) || lstr(path) || lstr(query)
 *         || lstr(content_type) || lstr(key_hex) || lstr(invite)
 *         || u64 time || nonce[16] || BLAKE2b-256(body))
 *   sig = Ed25519(device, "coffer-req-v1" || D)
 */
#ifndef CF_REQSIG_H
#define CF_REQSIG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "crypto/labels.h"

#define CF_REQ_NONCE_BYTES	16
#define CF_REQ_DIGEST_BYTES	64
#define CF_REQ_SKEW_MAX		300	/* seconds either way */
#define CF_REQ_NONCE_TTL	600	/* seconds a nonce is remembered */
#define CF_REQ_FIELD_MAX	4096	/* longest origin, path, query, header */
#define CF_REQ_QUERY_PAIRS_MAX	16

/* Everything a signature covers.  Absent strings are passed as "". */
struct cf_req {
	const char *origin;		/* "http://host:port", lowercase */
	const uint8_t *account_id;	/* CF_ID_BYTES */
	const uint8_t *device_id;	/* CF_ID_BYTES */
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* "/v1/...", without the query */
	const char *query;		/* canonical query (cf_req_query_canon) */
	const char *content_type;
	const char *key_hex;		/* X-Coffer-Key, self-signed only */
	const char *invite;		/* X-Coffer-Invite */
	uint64_t time;
	const uint8_t *nonce;		/* CF_REQ_NONCE_BYTES */
	const uint8_t *body;		/* may be NULL when body_len is 0 */
	size_t body_len;
	/* BLAKE2b-256(body) if the caller hashed it already (a server as the
	 * body streams in); NULL: hashed here from body. */
	const uint8_t *body_hash;
};

/**
 * cf_req_digest(r, d):
 * Compute D for ${r}.  COFFER_EINVAL if a string field is missing or
 * longer than CF_REQ_FIELD_MAX.
 */
int cf_req_digest(const struct cf_req *r, uint8_t d[static CF_REQ_DIGEST_BYTES]);

/**
 * cf_req_sign(r, sign_sk, sig):
 * Sign ${r} with the Ed25519 secret key ${sign_sk}.
 */
int cf_req_sign(const struct cf_req *r,
    const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    uint8_t sig[static CF_SIG_BYTES]);

/**
 * cf_req_verify(r, sign_pk, sig):
 * 0 if ${sig} is ${sign_pk}'s signature over ${r}, else
 * COFFER_ENOTAUTHENTIC (COFFER_EINVAL for an unusable field).
 */
int cf_req_verify(const struct cf_req *r,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t sig[static CF_SIG_BYTES]);

/**
 * cf_req_time_ok(t, now):
 * 1 if ${t} lies within CF_REQ_SKEW_MAX seconds of ${now}, else 0.
 */
int cf_req_time_ok(uint64_t t, uint64_t now);

/**
 * cf_req_query_canon(keys, vals, n, out, outlen):
 * Write the canonical query of ${n} pairs into ${out} (NUL-terminated):
 * pairs sorted by key, "key=value" joined by "&".  Keys are non-empty,
 * keys and values use only [A-Za-z0-9_.-], no key twice, n at most
 * CF_REQ_QUERY_PAIRS_MAX.  COFFER_EINVAL otherwise, COFFER_ETOOBIG if
 * ${outlen} is too small.
 */
int cf_req_query_canon(const char *const *keys, const char *const *vals,
    size_t n, char *out, size_t outlen);

/**
 * cf_req_origin(url, out, outlen):
 * The origin of a server URL "scheme://host[:port][/...]": lowercase
 * scheme and host, the port made explicit (80/443 by scheme), no path.
 * COFFER_EINVAL if ${url} is not of that shape.
 */
int cf_req_origin(const char *url, char *out, size_t outlen);

#endif /* !CF_REQSIG_H */
