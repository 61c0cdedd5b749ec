/*
 * Key derivation and key ids (docs/FORMAT.md §3).
 */
#ifndef CF_KDF_H
#define CF_KDF_H

#include <stdint.h>

#include "keys.h"
#include "labels.h"

/*
 * crypto_kdf contexts (labels.h): CF_LABEL_KDF_DRIVE from a drive secret,
 * CF_LABEL_KDF_EPOCH from a drive epoch key.
 */

/* Subkey ids under CF_LABEL_KDF_DRIVE. */
#define CF_KDF_CHUNK_ID		1	/* chunk-id key */
#define CF_KDF_CHUNKER		2	/* chunker key */

/* Subkey ids under CF_LABEL_KDF_EPOCH. */
#define CF_KDF_CONTENT		1	/* content (sealing) key */
#define CF_KDF_META_ID		2	/* tree/commit id key */

/**
 * cf_kdf_derive(out, master, id, ctx):
 * crypto_kdf_derive_from_key of a 32-byte subkey.
 */
void cf_kdf_derive(uint8_t out[static CF_KEY_BYTES],
    const uint8_t master[static CF_KEY_BYTES], uint64_t id, const char ctx[8]);

/**
 * cf_key_id(key, id):
 * The public id of a symmetric key: BLAKE2b-256(key=key, "coffer-keyid-v1").
 */
void cf_key_id(const uint8_t key[static CF_KEY_BYTES],
    uint8_t id[static CF_ID_BYTES]);

#endif
