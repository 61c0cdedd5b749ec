/*
 * Key wrapping (docs/FORMAT.md §4).
 *
 *   wrapped = "CFWK" || u8 version=1 || nonce[24] || AEAD(kek, nonce, AD, key)
 *   AD      = "CFWK" || u8 version=1 || lstr(purpose) || lstr(context)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "wrap.h"

#define WRAP_TAG		"CFWK"
#define WRAP_TAG_BYTES		4
#define WRAP_VERSION		1
#define WRAP_NONCE_BYTES	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define WRAP_MAC_BYTES		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define WRAP_AD_MAX		(WRAP_TAG_BYTES + 1 + 4 + CF_WRAP_PURPOSE_MAX + \
				 4 + CF_WRAP_CTX_MAX)
#define WRAP_BLOB_MAX		(CF_WRAP_KEY_MAX + CF_WRAP_OVERHEAD)

_Static_assert(CF_WRAP_OVERHEAD ==
    WRAP_TAG_BYTES + 1 + WRAP_NONCE_BYTES + WRAP_MAC_BYTES, "FORMAT §4");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == CF_KEY_BYTES,
    "kek size");

/*
 * wrap_args(purpose, ctx, ctxlen, key, keylen, plenp):
 * Check the caller's arguments against the caps; the purpose's length
 * goes to ${*plenp}.  0 or COFFER_EINVAL.
 */
static int
wrap_args(const char *purpose, const uint8_t *ctx, size_t ctxlen,
    const uint8_t *key, size_t keylen, size_t *plenp)
{
	size_t plen = 0;
	int r = COFFER_EINVAL;

	*plenp = 0;
	if (purpose == NULL || key == NULL || (ctx == NULL && ctxlen > 0))
		goto out;
	plen = strnlen(purpose, CF_WRAP_PURPOSE_MAX + 1);
	if (plen == 0 || plen > CF_WRAP_PURPOSE_MAX)
		goto out;
	if (ctxlen > CF_WRAP_CTX_MAX || keylen == 0 || keylen > CF_WRAP_KEY_MAX)
		goto out;
	*plenp = plen;
	r = 0;

out:
	return r;
}

/*
 * wrap_ad(purpose, plen, ctx, ctxlen, adp, adlenp):
 * Build the associated data into a malloc'd buffer.
 */
static int
wrap_ad(const char *purpose, size_t plen, const uint8_t *ctx, size_t ctxlen,
    uint8_t **adp, size_t *adlenp)
{
	struct cf_wr w;

	cf_wr_init(&w, WRAP_AD_MAX, 0);
	cf_wr_bytes(&w, WRAP_TAG, WRAP_TAG_BYTES);
	cf_wr_u8(&w, WRAP_VERSION);
	cf_wr_lstr(&w, purpose, plen);
	cf_wr_lstr(&w, ctx, ctxlen);
	return cf_wr_finish(&w, adp, adlenp);
}

int
cf_wrap_seal(const uint8_t kek[static CF_KEY_BYTES], const char *purpose,
    const uint8_t *ctx, size_t ctxlen, const uint8_t *key, size_t keylen,
    uint8_t *out)
{
	struct cf_wr w;
	uint8_t nonce[WRAP_NONCE_BYTES];
	uint8_t *ad = NULL, *blob = NULL, *ct;
	size_t adlen = 0, bloblen = 0, plen;
	int r;

	cf_wr_init(&w, WRAP_BLOB_MAX, 0);
	if (out == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((r = wrap_args(purpose, ctx, ctxlen, key, keylen, &plen)) != 0)
		goto out;
	if ((r = wrap_ad(purpose, plen, ctx, ctxlen, &ad, &adlen)) != 0)
		goto out;
	randombytes_buf(nonce, sizeof(nonce));
	cf_wr_bytes(&w, WRAP_TAG, WRAP_TAG_BYTES);
	cf_wr_u8(&w, WRAP_VERSION);
	cf_wr_bytes(&w, nonce, sizeof(nonce));
	if ((ct = cf_wr_reserve(&w, keylen + WRAP_MAC_BYTES)) != NULL)
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, key, keylen,
		    ad, adlen, NULL, nonce, kek);
	if ((r = cf_wr_finish(&w, &blob, &bloblen)) != 0)
		goto out;
	if (bloblen != keylen + CF_WRAP_OVERHEAD) {
		r = COFFER_EINTERNAL;
		goto out;
	}
	memcpy(out, blob, bloblen);
	r = 0;

out:
	cf_wr_free(&w);
	free(blob);
	free(ad);
	return r;
}

int
cf_wrap_open(const uint8_t kek[static CF_KEY_BYTES], const char *purpose,
    const uint8_t *ctx, size_t ctxlen, const uint8_t *blob, size_t bloblen,
    uint8_t *key, size_t keylen)
{
	struct cf_rd rd;
	const uint8_t *nonce, *ct;
	uint8_t *ad = NULL;
	size_t adlen = 0, plen;
	int r;

	if (key != NULL && keylen > 0)
		sodium_memzero(key, keylen);
	if ((r = wrap_args(purpose, ctx, ctxlen, key, keylen, &plen)) != 0)
		goto out;
	/* From here on, anything wrong with the blob is "not authentic". */
	cf_rd_init(&rd, blob, bloblen, COFFER_ENOTAUTHENTIC);
	if (bloblen != keylen + CF_WRAP_OVERHEAD)
		cf_rd_fail(&rd);
	cf_rd_expect(&rd, WRAP_TAG, WRAP_TAG_BYTES);
	if (cf_rd_u8(&rd) != WRAP_VERSION)
		cf_rd_fail(&rd);
	nonce = cf_rd_bytes(&rd, WRAP_NONCE_BYTES);
	ct = cf_rd_bytes(&rd, keylen + WRAP_MAC_BYTES);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	if (nonce == NULL || ct == NULL) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((r = wrap_ad(purpose, plen, ctx, ctxlen, &ad, &adlen)) != 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(key, NULL, NULL, ct,
	    keylen + WRAP_MAC_BYTES, ad, adlen, nonce, kek) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	r = 0;

out:
	if (r != 0 && key != NULL && keylen > 0)
		sodium_memzero(key, keylen);
	free(ad);
	return r;
}
