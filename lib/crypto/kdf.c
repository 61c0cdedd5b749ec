/*
 * Key derivation and key ids (docs/FORMAT.md §3).
 */
#include <stdint.h>

#include <sodium.h>

#include "kdf.h"

/* key_id(K) = H_K("coffer-keyid-v1") */
#define KEY_ID_PERSONAL		"coffer-keyid-v1"
#define KEY_ID_PERSONAL_LEN	(sizeof(KEY_ID_PERSONAL) - 1)

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
	    (const uint8_t *)KEY_ID_PERSONAL, KEY_ID_PERSONAL_LEN,
	    key, CF_KEY_BYTES) != 0)
		sodium_misuse();
}
