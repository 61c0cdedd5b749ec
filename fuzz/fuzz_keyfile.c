/*
 * libFuzzer harness for the key file parser (docs/FORMAT.md §2).
 *
 * Out-of-range Argon2id parameters are refused before any hashing, so
 * those inputs are fuzzed as they are.  In-range parameters would run
 * Argon2id (at least 64 MiB) on every such input, far too slow to fuzz:
 * those are decoded without a passphrase, which still checks the whole
 * structure and stops before hashing (COFFER_EBADKEY).  The secret body a
 * passphrase would open is parsed by the same code as an unprotected
 * file's, which is fuzzed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "coffer/coffer.h"
#include "crypto/keys.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static int ready;
	struct cf_device_keys *k = NULL;
	uint64_t ops, mem;
	int hashes = 0;

	if (!ready && (ready = (coffer_init() == 0)) == 0)
		abort();
	/* Bytes 5, 6-9, 10-13: kdf, opslimit, memlimit_kib (FORMAT §2). */
	if (n >= 14 && d[5] == 1) {
		ops = cf_be32dec(d + 6);
		mem = (uint64_t)cf_be32dec(d + 10) * 1024;
		hashes = ops >= CF_PWHASH_OPS_MIN && ops <= CF_PWHASH_OPS_MAX &&
		    mem >= CF_PWHASH_MEM_MIN && mem <= CF_PWHASH_MEM_MAX;
	}
	(void)cf_keyfile_is_protected(d, n);
	if (cf_keyfile_decode(d, n, hashes ? NULL : "fuzz", hashes ? 0 : 4,
	    &k) == 0)
		cf_keys_free(k);
	return 0;
}
