/*
 * Device keys (docs/FORMAT.md §2): generation, reconstruction from the
 * secrets stored in a key file, and the device id.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "keys.h"
#include "labels.h"

/* Argon2id parameters for new key files (FORMAT §2). */
const struct cf_pwhash_params cf_pwhash_default = {
	3, 256ULL << 20		/* libsodium "moderate" */
};
const struct cf_pwhash_params cf_pwhash_interactive = {
	CF_PWHASH_OPS_MIN, CF_PWHASH_MEM_MIN	/* the test suite only */
};

void
cf_device_id(const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES], uint8_t id[static CF_ID_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, CF_ID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_DEVICE,
	    CF_LABEL_LEN(CF_LABEL_DEVICE));
	crypto_generichash_update(&st, sign_pk, CF_SIGN_PK_BYTES);
	crypto_generichash_update(&st, box_pk, CF_BOX_PK_BYTES);
	crypto_generichash_final(&st, id, CF_ID_BYTES);
	sodium_memzero(&st, sizeof(st));
}

int
cf_keys_generate(struct cf_device_keys **kp)
{
	struct cf_device_keys *k = NULL;
	int r;

	*kp = NULL;
	if ((k = sodium_malloc(sizeof(*k))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	sodium_memzero(k, sizeof(*k));
	/* FORMAT §2: crypto_sign_keypair, then crypto_box_keypair. */
	if (crypto_sign_keypair(k->sign_pk, k->sign_sk) != 0 ||
	    crypto_box_keypair(k->box_pk, k->box_sk) != 0) {
		r = COFFER_EINTERNAL;
		goto out;
	}
	cf_device_id(k->sign_pk, k->box_pk, k->device_id);
	*kp = k;
	k = NULL;
	r = 0;

out:
	cf_keys_free(k);
	return r;
}

int
cf_keys_from_seeds(const uint8_t sign_seed[static CF_SIGN_SEED_BYTES],
    const uint8_t box_sk[static CF_BOX_SK_BYTES], struct cf_device_keys **kp)
{
	struct cf_device_keys *k = NULL;
	int r;

	*kp = NULL;
	if ((k = sodium_malloc(sizeof(*k))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	sodium_memzero(k, sizeof(*k));
	if (crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, sign_seed) != 0) {
		r = COFFER_EINVAL;
		goto out;
	}
	memcpy(k->box_sk, box_sk, CF_BOX_SK_BYTES);
	/* Refuse a secret whose public key would be the all-zero point. */
	if (crypto_scalarmult_base(k->box_pk, k->box_sk) != 0 ||
	    sodium_is_zero(k->box_pk, CF_BOX_PK_BYTES)) {
		r = COFFER_EINVAL;
		goto out;
	}
	cf_device_id(k->sign_pk, k->box_pk, k->device_id);
	*kp = k;
	k = NULL;
	r = 0;

out:
	cf_keys_free(k);
	return r;
}

void
cf_keys_free(struct cf_device_keys *k)
{
	if (k == NULL)
		return;
	/* sodium_free() wipes too; say it anyway. */
	sodium_memzero(k, sizeof(*k));
	sodium_free(k);
}
