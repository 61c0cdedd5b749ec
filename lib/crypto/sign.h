/*
 * Signing with a purpose (docs/FORMAT.md §11): every Ed25519 signature of
 * the formats is over purpose || message, the purpose one of the
 * signature labels of crypto/labels.h.  The one place that signs and
 * verifies; nothing else calls crypto_sign_detached.
 */
#ifndef CF_SIGN_H
#define CF_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

/**
 * cf_sign_purpose(sign_sk, purpose, msg, len, sig):
 * Write to ${sig} the Ed25519 signature by ${sign_sk} of the NUL-terminated
 * ${purpose} (without its NUL) followed by the ${len} bytes of ${msg}
 * (NULL if ${len} is 0).  Returns 0, COFFER_ENOMEM (only for a message
 * longer than a few hundred bytes: shorter ones are signed from the stack)
 * or COFFER_EINTERNAL; ${sig} is zeroed on failure.
 */
int cf_sign_purpose(const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    const char *purpose, const uint8_t *msg, size_t len,
    uint8_t sig[static CF_SIG_BYTES]);

/**
 * cf_verify_purpose(sign_pk, purpose, msg, len, sig):
 * 0 if ${sig} is ${sign_pk}'s valid signature of ${purpose} || ${msg},
 * else COFFER_ENOTAUTHENTIC (COFFER_ENOMEM as for cf_sign_purpose).
 */
int cf_verify_purpose(const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const char *purpose, const uint8_t *msg, size_t len,
    const uint8_t sig[static CF_SIG_BYTES]);

/**
 * cf_sign_purpose2(sign_sk, purpose, head, hlen, body, blen, sig):
 * cf_sign_purpose() of the message ${head} || ${body}, for a signer whose
 * signed bytes are in two places (a fixed header and a body).
 */
int cf_sign_purpose2(const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    const char *purpose, const uint8_t *head, size_t hlen,
    const uint8_t *body, size_t blen, uint8_t sig[static CF_SIG_BYTES]);

/**
 * cf_verify_purpose2(sign_pk, purpose, head, hlen, body, blen, sig):
 * cf_verify_purpose() of the message ${head} || ${body}.
 */
int cf_verify_purpose2(const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const char *purpose, const uint8_t *head, size_t hlen,
    const uint8_t *body, size_t blen, const uint8_t sig[static CF_SIG_BYTES]);

#endif
