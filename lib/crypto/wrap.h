/*
 * Key wrapping with associated data (docs/FORMAT.md §4).
 *
 * Long-term keys only ever wrap keys the client generated itself.
 */
#ifndef CF_WRAP_H
#define CF_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define CF_WRAP_KEY_MAX		64
#define CF_WRAP_CTX_MAX		256
#define CF_WRAP_PURPOSE_MAX	64	/* bytes of the purpose string */
#define CF_WRAP_OVERHEAD	(4 + 1 + 24 + 16)

/**
 * cf_wrap_seal(kek, purpose, ctx, ctxlen, key, keylen, out):
 * Wrap the ${keylen}-byte ${key} under ${kek}, bound to the NUL-terminated
 * ${purpose} and the ${ctxlen} bytes of ${ctx} (owner id, key id, ...).
 * ${out} receives ${keylen} + CF_WRAP_OVERHEAD bytes.  COFFER_EINVAL
 * unless 1 <= keylen <= CF_WRAP_KEY_MAX, ctxlen <= CF_WRAP_CTX_MAX and
 * the purpose has 1 to CF_WRAP_PURPOSE_MAX bytes.
 */
int cf_wrap_seal(const uint8_t kek[static CF_KEY_BYTES], const char *purpose,
    const uint8_t *ctx, size_t ctxlen, const uint8_t *key, size_t keylen,
    uint8_t *out);

/**
 * cf_wrap_open(kek, purpose, ctx, ctxlen, blob, bloblen, key, keylen):
 * Unwrap exactly ${keylen} bytes into ${key}.  COFFER_ENOTAUTHENTIC if the
 * blob is malformed, tampered, moved to another context or under another
 * key; ${key} is zeroed then.  COFFER_EINVAL (and ${key} zeroed) for
 * arguments outside the caps of cf_wrap_seal().
 */
int cf_wrap_open(const uint8_t kek[static CF_KEY_BYTES], const char *purpose,
    const uint8_t *ctx, size_t ctxlen, const uint8_t *blob, size_t bloblen,
    uint8_t *key, size_t keylen);

#endif
