/*
 * Wrapped keys (docs/FORMAT.md §4): a blob opens only under its own kek,
 * purpose and context, only unmodified, and a failed open leaves the
 * output zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "crypto/wrap.h"
#include "t.h"
#include "util.h"

#define KEYLEN		32
#define BLOBLEN		(KEYLEN + CF_WRAP_OVERHEAD)
#define PURPOSE		"drive-secret"

static uint8_t g_kek[CF_KEY_BYTES], g_key[CF_WRAP_KEY_MAX];
static uint8_t g_ctx[CF_WRAP_CTX_MAX];
static uint8_t g_blob[BLOBLEN];
#define CTXLEN		72	/* e.g. account id, drive id, epoch */

/* open() into a buffer full of junk; on failure it must come back zero. */
static int
open_check(const uint8_t *kek, const char *purpose, const uint8_t *ctx,
    size_t ctxlen, const uint8_t *blob, size_t bloblen, size_t keylen)
{
	uint8_t out[CF_WRAP_KEY_MAX];
	int rc;

	memset(out, 0xa5, sizeof(out));
	rc = cf_wrap_open(kek, purpose, ctx, ctxlen, blob, bloblen, out, keylen);
	if (rc != 0 && !sodium_is_zero(out, keylen)) {
		fprintf(stderr, "output not zeroed after a failed open\n");
		return 1;	/* no error code is 1: the caller's CHECK fails */
	}
	if (rc == 0 && memcmp(out, g_key, keylen) != 0) {
		fprintf(stderr, "open gave the wrong key\n");
		return 2;
	}
	return rc;
}

static void
roundtrip(void)
{
	uint8_t other[BLOBLEN];
	size_t n;

	tu_fill(g_kek, sizeof(g_kek), 1);
	tu_fill(g_key, sizeof(g_key), 2);
	tu_fill(g_ctx, sizeof(g_ctx), 3);
	CHECK_RC(cf_wrap_seal(g_kek, PURPOSE, g_ctx, CTXLEN, g_key, KEYLEN,
	    g_blob), 0);
	CHECK(memcmp(g_blob, "CFWK\x01", 5) == 0);
	CHECK(memmem(g_blob, sizeof(g_blob), g_key, KEYLEN) == NULL);
	CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, g_blob, BLOBLEN,
	    KEYLEN), 0);

	/* A fresh nonce each time. */
	CHECK_RC(cf_wrap_seal(g_kek, PURPOSE, g_ctx, CTXLEN, g_key, KEYLEN,
	    other), 0);
	CHECK(memcmp(other + 5, g_blob + 5, 24) != 0);
	CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, other, BLOBLEN,
	    KEYLEN), 0);

	/* Every key length up to the cap; empty and full-size contexts. */
	for (n = 1; n <= CF_WRAP_KEY_MAX; n++) {
		uint8_t b[CF_WRAP_KEY_MAX + CF_WRAP_OVERHEAD];

		CHECK_RC(cf_wrap_seal(g_kek, "drive-epoch", NULL, 0, g_key, n, b),
		    0);
		CHECK_RC(open_check(g_kek, "drive-epoch", NULL, 0, b,
		    n + CF_WRAP_OVERHEAD, n), 0);
		CHECK_RC(cf_wrap_seal(g_kek, "drive-epoch", g_ctx,
		    CF_WRAP_CTX_MAX, g_key, n, b), 0);
		CHECK_RC(open_check(g_kek, "drive-epoch", g_ctx,
		    CF_WRAP_CTX_MAX, b, n + CF_WRAP_OVERHEAD, n), 0);
	}
}

/* Every byte flipped, every bit of each byte tried. */
static void
every_byte_flipped(void)
{
	uint8_t b[BLOBLEN];
	size_t i;
	int bit;

	memcpy(b, g_blob, sizeof(b));
	for (i = 0; i < sizeof(b); i++) {
		for (bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1U << bit);
			CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, b,
			    BLOBLEN, KEYLEN), COFFER_ENOTAUTHENTIC);
			b[i] ^= (uint8_t)(1U << bit);
		}
		b[i] ^= 0xff;
		CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, b, BLOBLEN,
		    KEYLEN), COFFER_ENOTAUTHENTIC);
		b[i] ^= 0xff;
	}
	CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, b, BLOBLEN,
	    KEYLEN), 0);
}

/* Another purpose, context or kek: not authentic. */
static void
moved(void)
{
	uint8_t kek2[CF_KEY_BYTES], ctx2[CF_WRAP_CTX_MAX], b[64 + CF_WRAP_OVERHEAD];
	size_t i;

	CHECK_RC(open_check(g_kek, "drive-epoch", g_ctx, CTXLEN, g_blob,
	    BLOBLEN, KEYLEN), COFFER_ENOTAUTHENTIC);
	CHECK_RC(open_check(g_kek, "drive-secreT", g_ctx, CTXLEN, g_blob,
	    BLOBLEN, KEYLEN), COFFER_ENOTAUTHENTIC);
	CHECK_RC(open_check(g_kek, "drive-secret2", g_ctx, CTXLEN, g_blob,
	    BLOBLEN, KEYLEN), COFFER_ENOTAUTHENTIC);

	/* Each context byte matters, and so does its length. */
	memcpy(ctx2, g_ctx, sizeof(ctx2));
	for (i = 0; i < CTXLEN; i++) {
		ctx2[i] ^= 0x01;
		CHECK_RC(open_check(g_kek, PURPOSE, ctx2, CTXLEN, g_blob,
		    BLOBLEN, KEYLEN), COFFER_ENOTAUTHENTIC);
		ctx2[i] ^= 0x01;
	}
	CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN - 1, g_blob,
	    BLOBLEN, KEYLEN), COFFER_ENOTAUTHENTIC);
	CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN + 1, g_blob,
	    BLOBLEN, KEYLEN), COFFER_ENOTAUTHENTIC);
	CHECK_RC(open_check(g_kek, PURPOSE, NULL, 0, g_blob, BLOBLEN, KEYLEN),
	    COFFER_ENOTAUTHENTIC);

	memcpy(kek2, g_kek, sizeof(kek2));
	for (i = 0; i < sizeof(kek2); i++) {
		kek2[i] ^= 0x80;
		CHECK_RC(open_check(kek2, PURPOSE, g_ctx, CTXLEN, g_blob,
		    BLOBLEN, KEYLEN), COFFER_ENOTAUTHENTIC);
		kek2[i] ^= 0x80;
	}

	/* lstr framing: purpose "ab" + ctx "c" is not purpose "a" + ctx "bc". */
	CHECK_RC(cf_wrap_seal(g_kek, "ab", (const uint8_t *)"c", 1, g_key,
	    KEYLEN, b), 0);
	CHECK_RC(open_check(g_kek, "a", (const uint8_t *)"bc", 2, b, BLOBLEN,
	    KEYLEN), COFFER_ENOTAUTHENTIC);
	CHECK_RC(open_check(g_kek, "ab", (const uint8_t *)"c", 1, b, BLOBLEN,
	    KEYLEN), 0);
}

/* Truncated at every length, extended by one byte, other key lengths. */
static void
truncated_extended(void)
{
	uint8_t b[BLOBLEN + 1];
	uint8_t *t;
	size_t n;

	for (n = 0; n < BLOBLEN; n++) {
		t = malloc(n + 1);	/* exact size: ASan sees overreads */
		if (t == NULL)
			abort();
		memcpy(t, g_blob, n);
		CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, t, n, KEYLEN),
		    COFFER_ENOTAUTHENTIC);
		/* Even when the length fits the key length asked for. */
		if (n > CF_WRAP_OVERHEAD)
			CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, t, n,
			    n - CF_WRAP_OVERHEAD), COFFER_ENOTAUTHENTIC);
		free(t);
	}
	CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, NULL, 0, KEYLEN),
	    COFFER_ENOTAUTHENTIC);
	memcpy(b, g_blob, BLOBLEN);
	b[BLOBLEN] = 0;
	CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, b, BLOBLEN + 1,
	    KEYLEN), COFFER_ENOTAUTHENTIC);
	CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, b, BLOBLEN + 1,
	    KEYLEN + 1), COFFER_ENOTAUTHENTIC);
	CHECK_RC(open_check(g_kek, PURPOSE, g_ctx, CTXLEN, g_blob, BLOBLEN,
	    KEYLEN - 1), COFFER_ENOTAUTHENTIC);
}

/* Misuse: caps on key, context and purpose lengths. */
static void
misuse(void)
{
	uint8_t b[CF_WRAP_KEY_MAX + 1 + CF_WRAP_OVERHEAD];
	uint8_t key[CF_WRAP_KEY_MAX + 1];
	uint8_t ctx[CF_WRAP_CTX_MAX + 1];
	char purpose[CF_WRAP_PURPOSE_MAX + 2];

	memset(key, 1, sizeof(key));
	memset(ctx, 2, sizeof(ctx));
	memset(purpose, 'p', sizeof(purpose));
	purpose[CF_WRAP_PURPOSE_MAX + 1] = '\0';	/* one too many */
	CHECK_RC(cf_wrap_seal(g_kek, PURPOSE, NULL, 0, key, CF_WRAP_KEY_MAX + 1,
	    b), COFFER_EINVAL);
	CHECK_RC(cf_wrap_seal(g_kek, PURPOSE, NULL, 0, key, 0, b),
	    COFFER_EINVAL);
	CHECK_RC(cf_wrap_seal(g_kek, PURPOSE, ctx, CF_WRAP_CTX_MAX + 1, key,
	    KEYLEN, b), COFFER_EINVAL);
	CHECK_RC(cf_wrap_seal(g_kek, PURPOSE, NULL, 1, key, KEYLEN, b),
	    COFFER_EINVAL);
	CHECK_RC(cf_wrap_seal(g_kek, purpose, NULL, 0, key, KEYLEN, b),
	    COFFER_EINVAL);
	CHECK_RC(cf_wrap_seal(g_kek, "", NULL, 0, key, KEYLEN, b),
	    COFFER_EINVAL);
	CHECK_RC(cf_wrap_seal(g_kek, NULL, NULL, 0, key, KEYLEN, b),
	    COFFER_EINVAL);
	CHECK_RC(cf_wrap_seal(g_kek, PURPOSE, NULL, 0, NULL, KEYLEN, b),
	    COFFER_EINVAL);
	purpose[CF_WRAP_PURPOSE_MAX] = '\0';	/* just fits */
	CHECK_RC(cf_wrap_seal(g_kek, purpose, ctx, CF_WRAP_CTX_MAX, key,
	    CF_WRAP_KEY_MAX, b), 0);
	memcpy(g_key, key, CF_WRAP_KEY_MAX);
	CHECK_RC(open_check(g_kek, purpose, ctx, CF_WRAP_CTX_MAX, b,
	    CF_WRAP_KEY_MAX + CF_WRAP_OVERHEAD, CF_WRAP_KEY_MAX), 0);
	/* The same caps on open; the output is still zeroed. */
	CHECK_RC(open_check(g_kek, purpose, ctx, CF_WRAP_CTX_MAX + 1, b,
	    CF_WRAP_KEY_MAX + CF_WRAP_OVERHEAD, CF_WRAP_KEY_MAX), COFFER_EINVAL);
	purpose[CF_WRAP_PURPOSE_MAX] = 'p';
	CHECK_RC(open_check(g_kek, purpose, ctx, CF_WRAP_CTX_MAX, b,
	    CF_WRAP_KEY_MAX + CF_WRAP_OVERHEAD, CF_WRAP_KEY_MAX), COFFER_EINVAL);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(roundtrip);
	T_RUN(every_byte_flipped);
	T_RUN(moved);
	T_RUN(truncated_extended);
	T_RUN(misuse);
	T_DONE("wrap");
}
