/*
 * libFuzzer harness for commits (docs/FORMAT.md §13): decode, verify
 * with a fixed key (the seed corpus holds commits it signed), and check
 * that what decodes encodes back to the same bytes (either format).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "tree/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const uint8_t seed[crypto_sign_SEEDBYTES];	/* all zero */
	static uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	static uint8_t sk[crypto_sign_SECRETKEYBYTES];
	static int ready;
	uint8_t out[CF_COMMIT_BYTES];
	struct cf_commit c;

	if (!ready && (ready = (coffer_init() == 0 &&
	    crypto_sign_seed_keypair(pk, sk, seed) == 0)) == 0)
		abort();
	(void)cf_commit_verify(d, n, pk, &c);
	if (cf_commit_decode(d, n, &c) != 0)
		return 0;
	if (cf_commit_encode(&c, out) != 0 || n != cf_commit_len(&c) ||
	    memcmp(out, d, n) != 0)
		abort();
	return 0;
}
