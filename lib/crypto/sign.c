/* Signing with a purpose (FORMAT §11): Ed25519 over purpose || message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "crypto/sign.h"

/* Messages up to this size (purpose included) are laid out on the stack. */
#define SIGN_STACK_BYTES	320

_Static_assert(crypto_sign_BYTES == CF_SIG_BYTES, "signature size");
_Static_assert(crypto_sign_PUBLICKEYBYTES == CF_SIGN_PK_BYTES, "key size");
_Static_assert(crypto_sign_SECRETKEYBYTES == CF_SIGN_SK_BYTES, "key size");

/*
 * signed_msg(purpose, head, hlen, body, blen, stack, bufp, mlenp):
 * Lay out purpose || head || body in ${stack} if it fits, else in malloc'd
 * memory (${*bufp}, to be freed).  Returns the start, or NULL if out of
 * memory or the length overflows.
 */
static uint8_t *
signed_msg(const char *purpose, const uint8_t *head, size_t hlen,
    const uint8_t *body, size_t blen, uint8_t stack[static SIGN_STACK_BYTES],
    uint8_t **bufp, size_t *mlenp)
{
	size_t plen = strlen(purpose);
	uint8_t *m = NULL;

	*bufp = NULL;
	*mlenp = 0;
	if (hlen > SIZE_MAX - plen || blen > SIZE_MAX - plen - hlen)
		goto out;
	if (plen + hlen + blen <= SIGN_STACK_BYTES)
		m = stack;
	else if ((m = *bufp = malloc(plen + hlen + blen)) == NULL)
		goto out;
	memcpy(m, purpose, plen);
	if (hlen > 0)
		memcpy(m + plen, head, hlen);
	if (blen > 0)
		memcpy(m + plen + hlen, body, blen);
	*mlenp = plen + hlen + blen;
out:
	return m;
}

int
cf_sign_purpose2(const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    const char *purpose, const uint8_t *head, size_t hlen,
    const uint8_t *body, size_t blen, uint8_t sig[static CF_SIG_BYTES])
{
	uint8_t stack[SIGN_STACK_BYTES];
	uint8_t *buf = NULL, *m;
	size_t mlen;
	int r;

	memset(sig, 0, CF_SIG_BYTES);
	if ((m = signed_msg(purpose, head, hlen, body, blen, stack, &buf,
	    &mlen)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (crypto_sign_detached(sig, NULL, m, mlen, sign_sk) != 0) {
		memset(sig, 0, CF_SIG_BYTES);
		r = COFFER_EINTERNAL;
		goto out;
	}
	r = 0;
out:
	free(buf);
	return r;
}

int
cf_verify_purpose2(const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const char *purpose, const uint8_t *head, size_t hlen,
    const uint8_t *body, size_t blen, const uint8_t sig[static CF_SIG_BYTES])
{
	uint8_t stack[SIGN_STACK_BYTES];
	uint8_t *buf = NULL, *m;
	size_t mlen;
	int r;

	if ((m = signed_msg(purpose, head, hlen, body, blen, stack, &buf,
	    &mlen)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	r = (crypto_sign_verify_detached(sig, m, mlen, sign_pk) == 0) ? 0 :
	    COFFER_ENOTAUTHENTIC;
out:
	free(buf);
	return r;
}

int
cf_sign_purpose(const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    const char *purpose, const uint8_t *msg, size_t len,
    uint8_t sig[static CF_SIG_BYTES])
{
	return cf_sign_purpose2(sign_sk, purpose, msg, len, NULL, 0, sig);
}

int
cf_verify_purpose(const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const char *purpose, const uint8_t *msg, size_t len,
    const uint8_t sig[static CF_SIG_BYTES])
{
	return cf_verify_purpose2(sign_pk, purpose, msg, len, NULL, 0, sig);
}
