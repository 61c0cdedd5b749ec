/*
 * Sealed objects (DESIGN §3, docs/FORMAT.md §6, §8).
 *
 *     blob  = "CFOB" || u8 version=1 || key_id[32] || N[24] || C[32] || ct
 *     hdr'  = "CFOB" || u8 version=1 || key_id[32] || N[24]
 *     AD    = "CFOB" || u8 version=1 || u8 type || drive_id[32] ||
 *             object_id[32] || hdr'
 *     K_enc = H_K("coffer-enc-v1" || N)
 *     C     = H_K("coffer-cmt-v1" || N || H(AD))
 *     ct    = XChaCha20-Poly1305(K_enc, N, AD, body)
 *
 * seal() writes the body straight into the blob and encrypts it in
 * place; open() decrypts into one buffer and, for an uncompressed body,
 * hands that same buffer over.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "coffer/err.h"
#include "crypto/kdf.h"
#include "crypto/labels.h"
#include "util/buf.h"
#include "object.h"
#include "object_internal.h"


/* AD = tag || version || type || drive_id || object_id || hdr' */
#define AD_BYTES	(CF_OBJ_TAG_BYTES + 1 + 1 + CF_ID_BYTES + CF_ID_BYTES + \
			 CF_OBJ_HDRP_BYTES)
#define HASH_BYTES	32	/* H(AD): BLAKE2b-256 */

/* Body fields after the comp byte (FORMAT §7). */
#define BODY_OFF_PLAIN_LEN	1
#define BODY_OFF_PAYLOAD_LEN	5

/*
 * zstd level for chunks (FORMAT §7 leaves it to the writer).  Level 1,
 * measured on the bench dataset (docs/PERFORMANCE.md §7): 39 % less client
 * CPU for the whole push than level 3, and a repository no bigger (each
 * chunk is compressed alone, so level 3's larger match search finds
 * little more; on bytes with 4 random bits level 1 even does better).
 */
#define ZSTD_LEVEL	1

_Static_assert(AD_BYTES == 131, "FORMAT §6: the AD is 131 bytes");
_Static_assert(CF_OBJ_HDR_BYTES == CF_OBJ_OFF_CMT + CF_OBJ_CMT_BYTES,
    "header layout");
_Static_assert(CF_OBJ_NONCE_BYTES ==
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(CF_OBJ_MAC_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES,
    "tag size");
_Static_assert(CF_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
    "key size");
_Static_assert(CF_OBJ_PLAIN_MAX <= UINT32_MAX, "plain_len is a u32");

/* The personalisation name of each type (FORMAT §8), indexed by type. */
static const char *const type_names[CF_OBJ_TYPE_MAX + 1] = {
	NULL, "chunk", "tree", "commit", "list", "dir"
};

void
cf_object_id(const uint8_t id_key[static CF_KEY_BYTES], uint8_t type,
    const uint8_t *plain, size_t len, uint8_t id[static CF_ID_BYTES])
{
	crypto_generichash_state st;
	const char *name;

	/* The type always comes from the caller's code, never from input. */
	if (!cf_object_type_ok(type) || (plain == NULL && len > 0))
		sodium_misuse();
	name = type_names[type];
	crypto_generichash_init(&st, id_key, CF_KEY_BYTES, CF_ID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)name, strlen(name));
	if (len > 0)
		crypto_generichash_update(&st, plain, len);
	crypto_generichash_final(&st, id, CF_ID_BYTES);
	sodium_memzero(&st, sizeof(st));
}

/* AD from the caller's type, drive id and object id, and the blob's hdr'. */
static void
obj_ad(uint8_t type, const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t id[static CF_ID_BYTES],
    const uint8_t hdrp[static CF_OBJ_HDRP_BYTES], uint8_t ad[static AD_BYTES])
{
	uint8_t *p = ad;

	memcpy(p, CF_OBJ_TAG, CF_OBJ_TAG_BYTES);
	p += CF_OBJ_TAG_BYTES;
	*p++ = CF_OBJ_VERSION;
	*p++ = type;
	memcpy(p, drive_id, CF_ID_BYTES);
	p += CF_ID_BYTES;
	memcpy(p, id, CF_ID_BYTES);
	p += CF_ID_BYTES;
	memcpy(p, hdrp, CF_OBJ_HDRP_BYTES);
}

/* K_enc = H_K("coffer-enc-v1" || N) */
static void
obj_kenc(const uint8_t key[static CF_KEY_BYTES],
    const uint8_t nonce[static CF_OBJ_NONCE_BYTES],
    uint8_t kenc[static CF_KEY_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, CF_KEY_BYTES, CF_KEY_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_ENC,
	    CF_LABEL_LEN(CF_LABEL_ENC));
	crypto_generichash_update(&st, nonce, CF_OBJ_NONCE_BYTES);
	crypto_generichash_final(&st, kenc, CF_KEY_BYTES);
	sodium_memzero(&st, sizeof(st));
}

/* C = H_K("coffer-cmt-v1" || N || H(AD)) */
static void
obj_commitment(const uint8_t key[static CF_KEY_BYTES],
    const uint8_t nonce[static CF_OBJ_NONCE_BYTES],
    const uint8_t ad[static AD_BYTES], uint8_t c[static CF_OBJ_CMT_BYTES])
{
	crypto_generichash_state st;
	uint8_t had[HASH_BYTES];

	crypto_generichash(had, sizeof(had), ad, AD_BYTES, NULL, 0);
	crypto_generichash_init(&st, key, CF_KEY_BYTES, CF_OBJ_CMT_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_CMT,
	    CF_LABEL_LEN(CF_LABEL_CMT));
	crypto_generichash_update(&st, nonce, CF_OBJ_NONCE_BYTES);
	crypto_generichash_update(&st, had, sizeof(had));
	crypto_generichash_final(&st, c, CF_OBJ_CMT_BYTES);
	sodium_memzero(&st, sizeof(st));
}

/*
 * Compress ${len} > 0 bytes at ${src} into ${dst} (room for ${len} - 1
 * bytes: the frame is kept only if strictly smaller).  Return the frame's
 * size, or 0 if it did not shrink or zstd failed: the caller then stores
 * the chunk as it is, which is always valid.  ${dst} may hold scratch
 * output either way.
 */
static size_t
compress_chunk(const uint8_t *src, size_t len, uint8_t *dst)
{
	ZSTD_CCtx *cctx = NULL;
	size_t n = 0;

	/* Random bytes (most of a typical dataset's bytes) never shrink. */
	if (cf_object_incompressible(src, len))
		goto out;
	if ((cctx = ZSTD_createCCtx()) == NULL)
		goto out;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx,
	    ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx,
	    ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0)))
		goto out;
	n = ZSTD_compress2(cctx, dst, len - 1, src, len);
	/*
	 * A frame our own reader would refuse (a zstd whose defaults
	 * changed) is never written: fall back to storing the chunk.
	 */
	if (ZSTD_isError(n) || n >= len || !cf_object_zstd_frame_ok(dst, n, len))
		n = 0;
out:
	ZSTD_freeCCtx(cctx);
	return n;
}

size_t
cf_object_seal_bound(size_t len)
{
	size_t b;

	if (len > CF_OBJ_PLAIN_MAX)
		return 0;
	/* padme is monotonic: a compressed body fits in this as well. */
	b = cf_padme(CF_OBJ_BODY_HDR_BYTES + len);
	return CF_OBJ_HDR_BYTES + b + CF_OBJ_MAC_BYTES;
}

int
cf_object_seal_into(const struct cf_objkey *k, uint8_t type,
    const uint8_t drive_id[static CF_ID_BYTES], const uint8_t *plain,
    size_t len, int flags, const uint8_t *known_id,
    const uint8_t nonce[static CF_OBJ_NONCE_BYTES],
    uint8_t idout[static CF_ID_BYTES], uint8_t *blob, size_t cap,
    size_t *bloblenp)
{
	uint8_t id[CF_ID_BYTES], kid[CF_ID_BYTES];
	uint8_t kenc[CF_KEY_BYTES], ad[AD_BYTES];
	uint8_t *body;
	size_t bodylen, bloblen = 0, payload_len, zlen = 0;
	uint8_t comp = CF_OBJ_COMP_NONE;
	int rc, dirty = 0;

	*bloblenp = 0;
	memset(idout, 0, CF_ID_BYTES);
	if (!cf_object_type_ok(type) || (plain == NULL && len > 0) ||
	    (flags & ~CF_SEAL_COMPRESS) != 0 || blob == NULL) {
		rc = COFFER_EINVAL;
		goto out;
	}
	if (len > CF_OBJ_PLAIN_MAX) {
		rc = COFFER_ETOOBIG;
		goto out;
	}
	if (cap < cf_object_seal_bound(len)) {
		rc = COFFER_EINVAL;
		goto out;
	}
	/* A header naming another key would make a blob nobody can open. */
	cf_key_id(k->enc_key, kid);
	if (memcmp(kid, k->key_id, CF_ID_BYTES) != 0) {
		rc = COFFER_EINVAL;
		goto out;
	}
	if (known_id != NULL)
		memcpy(id, known_id, CF_ID_BYTES);
	else
		cf_object_id(k->id_key, type, plain, len, id);
	body = blob + CF_OBJ_HDR_BYTES;
	dirty = 1;

	/* Body: comp || plain_len || payload_len || payload || zero[pad] */
	payload_len = len;
	if ((flags & CF_SEAL_COMPRESS) && type == CF_OBJ_CHUNK && len > 0 &&
	    (zlen = compress_chunk(plain, len,
	    body + CF_OBJ_BODY_HDR_BYTES)) > 0) {
		comp = CF_OBJ_COMP_ZSTD;
		payload_len = zlen;
	} else if (len > 0) {
		memcpy(body + CF_OBJ_BODY_HDR_BYTES, plain, len);
	}
	bodylen = cf_padme(CF_OBJ_BODY_HDR_BYTES + payload_len);
	bloblen = CF_OBJ_HDR_BYTES + bodylen + CF_OBJ_MAC_BYTES;
	body[0] = comp;
	cf_be32enc(body + BODY_OFF_PLAIN_LEN, (uint32_t)len);
	cf_be32enc(body + BODY_OFF_PAYLOAD_LEN, (uint32_t)payload_len);
	memset(body + CF_OBJ_BODY_HDR_BYTES + payload_len, 0,
	    bodylen - CF_OBJ_BODY_HDR_BYTES - payload_len);

	/* Clear header: tag || version || key_id || N || C */
	memcpy(blob, CF_OBJ_TAG, CF_OBJ_TAG_BYTES);
	blob[CF_OBJ_OFF_VERSION] = CF_OBJ_VERSION;
	memcpy(blob + CF_OBJ_OFF_KEYID, k->key_id, CF_ID_BYTES);
	memcpy(blob + CF_OBJ_OFF_NONCE, nonce, CF_OBJ_NONCE_BYTES);
	obj_ad(type, drive_id, id, blob, ad);
	obj_commitment(k->enc_key, blob + CF_OBJ_OFF_NONCE, ad,
	    blob + CF_OBJ_OFF_CMT);

	/* Encrypt the body in place; the tag lands right after it. */
	obj_kenc(k->enc_key, blob + CF_OBJ_OFF_NONCE, kenc);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(body, NULL, body,
	    bodylen, ad, AD_BYTES, NULL, blob + CF_OBJ_OFF_NONCE, kenc) != 0) {
		rc = COFFER_EINTERNAL;
		goto out;
	}
	/* What compression saved may hold zstd scratch (plaintext). */
	sodium_memzero(blob + bloblen, cap - bloblen);
	dirty = 0;
	memcpy(idout, id, CF_ID_BYTES);
	*bloblenp = bloblen;
	rc = 0;
out:
	/* Before encryption the buffer holds plaintext. */
	if (dirty)
		sodium_memzero(blob, cap);
	sodium_memzero(kenc, sizeof(kenc));
	return rc;
}

int
cf_object_seal(const struct cf_objkey *k, uint8_t type,
    const uint8_t drive_id[static CF_ID_BYTES], const uint8_t *plain,
    size_t len, int flags, uint8_t idout[static CF_ID_BYTES], uint8_t **blobp,
    size_t *bloblenp)
{
	uint8_t nonce[CF_OBJ_NONCE_BYTES];
	uint8_t *blob = NULL, *np;
	size_t alloc = 0, bloblen = 0;
	int rc;

	*blobp = NULL;
	*bloblenp = 0;
	memset(idout, 0, CF_ID_BYTES);
	if (!cf_object_type_ok(type) || (plain == NULL && len > 0) ||
	    (flags & ~CF_SEAL_COMPRESS) != 0) {
		rc = COFFER_EINVAL;
		goto out;
	}
	if (len > CF_OBJ_PLAIN_MAX) {
		rc = COFFER_ETOOBIG;
		goto out;
	}
	alloc = cf_object_seal_bound(len);
	if ((blob = malloc(alloc)) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	randombytes_buf(nonce, sizeof(nonce));
	if ((rc = cf_object_seal_into(k, type, drive_id, plain, len, flags,
	    NULL, nonce, idout, blob, alloc, &bloblen)) != 0)
		goto out;
	/* Give back what compression saved (already wiped). */
	if (alloc > bloblen && (np = realloc(blob, bloblen)) != NULL) {
		blob = np;
		alloc = bloblen;
	}
	*blobp = blob;
	*bloblenp = bloblen;
	blob = NULL;
out:
	free(blob);	/* seal_into wiped it on failure */
	return rc;
}

int
cf_object_header(const uint8_t *blob, size_t len, struct cf_objhdr *h)
{
	struct cf_objhdr t;
	struct cf_rd r;
	int rc;

	memset(h, 0, sizeof(*h));
	memset(&t, 0, sizeof(t));
	if (len < CF_OBJ_HDR_BYTES + CF_OBJ_MAC_BYTES || len > CF_OBJ_BLOB_MAX) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	cf_rd_init(&r, blob, len, COFFER_ENOTAUTHENTIC);
	/* Tag and version first, before anything else is read. */
	cf_rd_expect(&r, CF_OBJ_TAG, CF_OBJ_TAG_BYTES);
	if ((t.version = cf_rd_u8(&r)) != CF_OBJ_VERSION)
		cf_rd_fail(&r);
	if (r.err) {
		rc = r.err;
		goto out;
	}
	cf_rd_copy(&r, t.key_id, CF_ID_BYTES);
	cf_rd_copy(&r, t.nonce, CF_OBJ_NONCE_BYTES);
	cf_rd_copy(&r, t.cmt, CF_OBJ_CMT_BYTES);
	t.ctlen = cf_rd_left(&r);
	(void)cf_rd_bytes(&r, t.ctlen);
	if ((rc = cf_rd_end(&r)) != 0)
		goto out;
	*h = t;
out:
	return rc;
}

int
cf_object_open(const uint8_t *blob, size_t len, uint8_t type,
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t id[static CF_ID_BYTES], cf_keylookup_fn *lookup, void *ctx,
    uint8_t **plainp, size_t *lenp)
{
	struct cf_objhdr h;
	struct cf_objkey k;
	struct cf_objbody b;
	uint8_t kid[CF_ID_BYTES], gotid[CF_ID_BYTES];
	uint8_t ad[AD_BYTES], cmt[CF_OBJ_CMT_BYTES], kenc[CF_KEY_BYTES];
	uint8_t *body = NULL, *plain = NULL;
	size_t bodylen = 0, bodyalloc = 0, plainalloc = 0;
	int rc;

	*plainp = NULL;
	*lenp = 0;
	memset(&k, 0, sizeof(k));
	memset(kenc, 0, sizeof(kenc));
	if (!cf_object_type_ok(type) || lookup == NULL) {
		rc = COFFER_EINVAL;
		goto out;
	}

	/* 1. Size, tag, version. */
	if ((rc = cf_object_header(blob, len, &h)) != 0)
		goto out;

	/* 2. The key id only through the caller's lookup; the key must be it. */
	if ((rc = lookup(ctx, type, h.key_id, &k)) != 0) {
		if (rc > 0)
			rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/*
	 * A lookup that said yes without filling ${k} leaves the zero key,
	 * which anyone can seal under: never accept it.
	 */
	cf_key_id(k.enc_key, kid);
	if (sodium_is_zero(k.enc_key, CF_KEY_BYTES) ||
	    memcmp(kid, h.key_id, CF_ID_BYTES) != 0) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}

	/* 3. Key commitment over the caller's type, drive id, object id. */
	obj_ad(type, drive_id, id, blob, ad);
	obj_commitment(k.enc_key, h.nonce, ad, cmt);
	if (crypto_verify_32(cmt, h.cmt) != 0) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}

	/* 4. Decrypt into one buffer. */
	bodylen = h.ctlen - CF_OBJ_MAC_BYTES;
	bodyalloc = (bodylen > 0) ? bodylen : 1;
	if ((body = malloc(bodyalloc)) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	obj_kenc(k.enc_key, h.nonce, kenc);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(body, NULL, NULL,
	    blob + CF_OBJ_HDR_BYTES, h.ctlen, ad, AD_BYTES, h.nonce,
	    kenc) != 0) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}

	/* 5. Decode the body; refuse anything non-canonical. */
	if ((rc = cf_object_body_parse(body, bodylen, type, &b)) != 0)
		goto out;
	if (b.comp == CF_OBJ_COMP_NONE) {
		/* The plaintext moves to the front of the same buffer. */
		if (b.plain_len > 0)
			memmove(body, b.payload, b.plain_len);
		sodium_memzero(body + b.plain_len, bodyalloc - b.plain_len);
		plain = body;
		plainalloc = bodyalloc;
		body = NULL;
		bodyalloc = 0;
	} else {
		plainalloc = (b.plain_len > 0) ? b.plain_len : 1;
		if ((plain = malloc(plainalloc)) == NULL) {
			rc = COFFER_ENOMEM;
			goto out;
		}
		if ((rc = cf_object_body_inflate(&b, plain)) != 0)
			goto out;
	}

	/* 6. The plaintext must be the object the caller asked for. */
	cf_object_id(k.id_key, type, plain, b.plain_len, gotid);
	if (crypto_verify_32(gotid, id) != 0) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}

	/* 7. Only now hand it over. */
	*plainp = plain;
	*lenp = b.plain_len;
	plain = NULL;
	rc = 0;
out:
	cf_wipefree(body, bodyalloc);
	cf_wipefree(plain, plainalloc);
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(kenc, sizeof(kenc));
	return rc;
}
