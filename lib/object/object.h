/*
 * Sealed objects (DESIGN §3, docs/FORMAT.md §6-§8).
 *
 * Everything the client stores on the server is an object.  seal() pads,
 * maybe compresses and encrypts; open() checks the key commitment before
 * decrypting, takes the expected type, drive id and object id from the
 * caller (never from the blob), accepts the header's key id only through
 * the caller's lookup, and recomputes the id after opening.  No plaintext
 * leaves open() unless all of that passed.
 */
#ifndef CF_OBJECT_H
#define CF_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"

enum cf_objtype {
	CF_OBJ_CHUNK = 1,
	CF_OBJ_TREE = 2,
	CF_OBJ_COMMIT = 3,
	CF_OBJ_LIST = 4,	/* indirect chunk list of a large file */
	CF_OBJ_DIR = 5		/* drive directory record */
};
#define CF_OBJ_TYPE_MAX		5

#define CF_OBJ_TAG		"CFOB"	/* format tag (4 bytes, no NUL) */
#define CF_OBJ_TAG_BYTES	4
#define CF_OBJ_VERSION		1

/* Body compression (FORMAT §7). */
#define CF_OBJ_COMP_NONE	0
#define CF_OBJ_COMP_ZSTD	1

#define CF_OBJ_NONCE_BYTES	24
#define CF_OBJ_CMT_BYTES	32
#define CF_OBJ_MAC_BYTES	16
#define CF_OBJ_HDR_BYTES	(4 + 1 + CF_ID_BYTES + CF_OBJ_NONCE_BYTES + CF_OBJ_CMT_BYTES)
#define CF_OBJ_BODY_HDR_BYTES	(1 + 4 + 4)
#define CF_OBJ_PAD_MIN		1024
/* Largest plaintext an object may carry, and largest blob we accept. */
#define CF_OBJ_PLAIN_MAX	(16U << 20)
#define CF_OBJ_BLOB_MAX		(CF_OBJ_HDR_BYTES + CF_OBJ_MAC_BYTES + \
				 CF_OBJ_PLAIN_MAX + CF_OBJ_PLAIN_MAX / 8 + 4096)
/* zstd: largest window a frame may ask for when decompressed. */
#define CF_ZSTD_WINDOWLOG_MAX	25

/* seal() flags */
#define CF_SEAL_COMPRESS	0x1	/* try zstd; kept only if it shrinks */

/* The keys an object is sealed with. */
struct cf_objkey {
	uint8_t key_id[CF_ID_BYTES];	/* id of enc_key (cf_key_id) */
	uint8_t enc_key[CF_KEY_BYTES];	/* content key */
	uint8_t id_key[CF_KEY_BYTES];	/* chunk-id or metadata-id key */
};

/**
 * cf_keylookup_fn(ctx, type, key_id, out):
 * Called by open() with the key id read from a blob's header.  Fill
 * ${out} and return 0 only if that key is allowed for an object of
 * ${type} in this context (drive, epoch); otherwise return
 * COFFER_ENOTAUTHENTIC.  A lookup that cannot answer because of a local
 * failure may return another negative code (COFFER_ENOMEM, COFFER_EIO,
 * ...), which open() passes on; a positive return counts as a refusal.
 */
typedef int cf_keylookup_fn(void *ctx, uint8_t type,
    const uint8_t key_id[static CF_ID_BYTES], struct cf_objkey *out);

struct cf_objhdr {
	uint8_t version;
	uint8_t key_id[CF_ID_BYTES];
	uint8_t nonce[CF_OBJ_NONCE_BYTES];
	uint8_t cmt[CF_OBJ_CMT_BYTES];
	size_t ctlen;			/* ciphertext bytes after the header */
};

/**
 * cf_object_id(id_key, type, plain, len, id):
 * BLAKE2b-256(key=id_key, personal || plain), where personal is the
 * type's name ("chunk", "tree", "commit", "list", "dir").  ${type} must
 * be a known type (it comes from the caller's code; anything else
 * aborts through sodium_misuse()).
 */
void cf_object_id(const uint8_t id_key[static CF_KEY_BYTES], uint8_t type,
    const uint8_t *plain, size_t len, uint8_t id[static CF_ID_BYTES]);

/**
 * cf_padme(len):
 * The padded length of a ${len}-byte body: Padmé, at least CF_OBJ_PAD_MIN
 * (FORMAT §7).  Returns 0 if the result would not fit in a size_t (only
 * for ${len} close to SIZE_MAX).
 */
size_t cf_padme(size_t len);

/**
 * cf_object_seal_bound(len):
 * The room cf_object_seal_into() needs for ${len} bytes of plaintext
 * (the uncompressed blob's size); 0 if ${len} > CF_OBJ_PLAIN_MAX.
 */
size_t cf_object_seal_bound(size_t len);

/**
 * cf_object_seal_into(k, type, drive_id, plain, len, flags, known_id,
 *     nonce, id, blob, cap, bloblenp):
 * As cf_object_seal(), but into the caller's ${blob} of ${cap} >=
 * cf_object_seal_bound(len) bytes (a frame being built, say), with the
 * caller's fresh random ${nonce} (never reused under a key).  If
 * ${known_id} is not NULL it is taken as the object's id, which the caller
 * computed with cf_object_id() and ${k}->id_key (saving a second hash of
 * the plaintext); a wrong one makes an object nobody can open.  The bytes
 * of ${blob} past ${*bloblenp} are zero on success; on failure all
 * ${cap} bytes are.
 */
int cf_object_seal_into(const struct cf_objkey *k, uint8_t type,
    const uint8_t drive_id[static CF_ID_BYTES], const uint8_t *plain,
    size_t len, int flags, const uint8_t *known_id,
    const uint8_t nonce[static CF_OBJ_NONCE_BYTES],
    uint8_t idout[static CF_ID_BYTES], uint8_t *blob, size_t cap,
    size_t *bloblenp);

/**
 * cf_object_seal(k, type, drive_id, plain, len, flags, id, blobp, bloblenp):
 * Compute the object's ${id} (with ${k}->id_key) and seal ${plain} under
 * ${k}->enc_key (FORMAT §6, §7).  With CF_SEAL_COMPRESS a chunk is
 * compressed if that makes it strictly smaller; other types never are.
 * The blob is malloc'd and handed over, with ${id}, only on success.
 * COFFER_ETOOBIG if ${len} > CF_OBJ_PLAIN_MAX; COFFER_EINVAL for an
 * unknown type or flag, or if ${k}->key_id is not cf_key_id(enc_key).
 */
int cf_object_seal(const struct cf_objkey *k, uint8_t type,
    const uint8_t drive_id[static CF_ID_BYTES], const uint8_t *plain,
    size_t len, int flags, uint8_t id[static CF_ID_BYTES], uint8_t **blobp,
    size_t *bloblenp);

/**
 * cf_object_header(blob, len, h):
 * Parse only the clear header (tag, version, key id, nonce, commitment).
 * COFFER_ENOTAUTHENTIC if malformed.
 */
int cf_object_header(const uint8_t *blob, size_t len, struct cf_objhdr *h);

/**
 * cf_object_open(blob, len, type, drive_id, id, lookup, ctx, plainp, lenp):
 * Open a blob expected to be the object ${id} of ${type} in ${drive_id},
 * in the order of FORMAT §6.  Return COFFER_ENOTAUTHENTIC for anything
 * wrong with it, COFFER_EINVAL for an unknown ${type}.  The plaintext is
 * malloc'd and handed over only on success (${*plainp} is never NULL
 * then, even for an empty object); free it with free() or cf_wipefree()
 * (the allocation may be a little larger than ${*lenp}: the extra bytes
 * are zero).
 */
int cf_object_open(const uint8_t *blob, size_t len, uint8_t type,
    const uint8_t drive_id[static CF_ID_BYTES], const uint8_t id[static CF_ID_BYTES],
    cf_keylookup_fn *lookup, void *ctx, uint8_t **plainp, size_t *lenp);

/**
 * cf_object_decode_body(body, len, type, plainp, lenp):
 * Decode the decrypted body of an object of ${type} (compression byte,
 * sizes, payload, padding; FORMAT §7) into plaintext, refusing anything
 * non-canonical with COFFER_ENOTAUTHENTIC.  The plaintext is malloc'd
 * and handed over only on success.  Exposed for the fuzzer; open() does
 * the same checks on the buffer it decrypted into.
 */
int cf_object_decode_body(const uint8_t *body, size_t len, uint8_t type,
    uint8_t **plainp, size_t *lenp);

#endif
