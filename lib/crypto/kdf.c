/*
 * Key derivation and key ids (docs/FORMAT.md §3).
 */
#include <stdint.h>

#include <sodium.h>

#include "kdf.h"
#include "labels.h"

_Static_assert(crypto_kdf_KEYBYTES == CF_KEY_BYTES, "kdf master size");
_Static_assert(crypto_kdf_CONTEXTBYTES == 8, "kdf context size");

void
cf_kdf_derive(uint8_t out[static CF_KEY_BYTES],
    const uint8_t master[static CF_KEY_BYTES], uint64_t id, const char ctx[8])
{
	/* Fixed sizes: a failure here can only be a build error. */
	if (crypto_kdf_derive_from_key(out, CF_KEY_BYTES, id, ctx, master) != 0)
		sodium_misuse();
}

void
cf_key_id(const uint8_t key[static CF_KEY_BYTES],
    uint8_t id[static CF_ID_BYTES])
{
	if (crypto_generichash(id, CF_ID_BYTES,
	    (const uint8_t *)CF_LABEL_KEYID, CF_LABEL_LEN(CF_LABEL_KEYID),
	    key, CF_KEY_BYTES) != 0)
		sodium_misuse();
}
