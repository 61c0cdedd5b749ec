/*
 * Envelopes (DESIGN §2, FORMAT §15): the epoch keys 1..e sealed to one
 * recipient and signed by the device (or recovery key) that signed the
 * chain entry the envelope belongs to.
 *
 * open() takes the current epoch and everything it checks against from the
 * verified chain, never from the envelope; it decrypts only after the
 * signature verified, keeps the plaintext in guarded memory, and hands
 * the keys over only if every one matches its epoch's commitment.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "crypto/keys.h"
#include "util/buf.h"
#include "chain.h"
#include "chain_internal.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
#define SEAL_BYTES	crypto_box_SEALBYTES

_Static_assert(crypto_box_PUBLICKEYBYTES == CF_BOX_PK_BYTES, "box pk");
_Static_assert(crypto_box_SECRETKEYBYTES == CF_BOX_SK_BYTES, "box sk");
_Static_assert(SEAL_BYTES == 48, "CF_ENV_SEALED_MAX assumes 48");

/* The plaintext "keys" for ${epoch} epochs, and the sealed box around it. */
static size_t
keys_len(uint64_t epoch)
{
	return CF_ENVKEYS_HDR_BYTES + (size_t)epoch * CF_ENVKEY_REC_BYTES;
}

int
cf_envelope_make(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t entry_hash[static CF_ID_BYTES], const struct cf_signer *signer,
    uint64_t epoch, const uint8_t (*keys)[CF_KEY_BYTES],
    const uint8_t recipient_id[static CF_ID_BYTES],
    const uint8_t recipient_box_pk[static CF_BOX_PK_BYTES], uint8_t **envp,
    size_t *lenp)
{
	struct cf_wr w;
	uint8_t *pt = NULL, *sealed, *p;
	uint8_t sig[CF_SIG_BYTES];
	size_t ptlen = 0, sealed_off;
	uint64_t i;
	int r;

	*envp = NULL;
	*lenp = 0;
	cf_wr_init(&w, CF_ENV_MAX, 0);
	if (signer == NULL || signer->sign_sk == NULL || keys == NULL ||
	    epoch == 0 || epoch > CF_ENV_EPOCHS_MAX) {
		r = COFFER_EINVAL;
		goto out;
	}
	/* keys = "CFEK" || 1 || account_id || u64 epoch || u32 n ||
	 *        n x (u64 e || K_e), in guarded memory. */
	ptlen = keys_len(epoch);
	if ((pt = sodium_malloc(ptlen)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	p = pt;
	memcpy(p, CF_ENVKEYS_TAG, CF_TAG_BYTES);
	p += CF_TAG_BYTES;
	*p++ = CF_ENVKEYS_VERSION;
	memcpy(p, account_id, CF_ID_BYTES);
	p += CF_ID_BYTES;
	cf_be64enc(p, epoch);
	p += 8;
	cf_be32enc(p, (uint32_t)epoch);
	p += 4;
	for (i = 0; i < epoch; i++) {
		cf_be64enc(p, i + 1);
		memcpy(p + 8, keys[i], CF_KEY_BYTES);
		p += CF_ENVKEY_REC_BYTES;
	}

	cf_wr_bytes(&w, CF_ENV_TAG, CF_TAG_BYTES);
	cf_wr_u8(&w, CF_ENV_VERSION);
	cf_wr_bytes(&w, account_id, CF_ID_BYTES);
	cf_wr_bytes(&w, entry_hash, CF_ID_BYTES);
	cf_wr_u64(&w, epoch);
	cf_wr_bytes(&w, recipient_id, CF_ID_BYTES);
	cf_wr_u32(&w, (uint32_t)(ptlen + SEAL_BYTES));
	sealed_off = w.len;
	if (cf_wr_reserve(&w, ptlen + SEAL_BYTES) == NULL) {
		r = w.err;
		goto out;
	}
	sealed = w.p + sealed_off;
	/* Checked: a low-order recipient key makes the seal fail. */
	if (crypto_box_seal(sealed, pt, ptlen, recipient_box_pk) != 0) {
		r = COFFER_EINVAL;
		goto out;
	}
	/* Signed: purpose || account_id .. recipient_id || sealed. */
	if ((r = cf_sign_purpose2(signer->sign_sk, CF_LABEL_ENV,
	    w.p + CF_ENV_SIGNED_OFF, CF_ENV_SIGNED_HEAD_BYTES, sealed,
	    ptlen + SEAL_BYTES, sig)) != 0)
		goto out;
	cf_wr_bytes(&w, signer->id, CF_ID_BYTES);
	cf_wr_bytes(&w, sig, CF_SIG_BYTES);
	r = cf_wr_finish(&w, envp, lenp);
out:
	cf_wr_free(&w);
	if (pt != NULL)
		sodium_free(pt);	/* wipes */
	return r;
}

/*
 * env_entry(c, cur, me_id, entry_hash, seqp):
 * The entry an envelope for epoch ${cur} to ${me_id} may belong to: the
 * one that started the epoch, or an add-device entry of that epoch that
 * added ${me_id}.
 */
static int
env_entry(const struct cf_chain *c, const struct cf_chain_epoch *cur,
    const uint8_t me_id[static CF_ID_BYTES],
    const uint8_t entry_hash[static CF_ID_BYTES], uint64_t *seqp)
{
	const struct cf_chain_device *d;
	int r = 0;

	*seqp = 0;
	if (memcmp(entry_hash, cur->start_hash, CF_ID_BYTES) == 0)
		*seqp = cur->start_seq;
	else if ((d = cf_chain_device(c, me_id)) != NULL &&
	    d->added_seq > cur->start_seq && d->added_seq < c->n &&
	    c->entry_type[d->added_seq] == CF_ENTRY_ADD &&
	    memcmp(c->hash[d->added_seq], entry_hash, CF_ID_BYTES) == 0)
		*seqp = d->added_seq;
	else
		r = NOTAUTH;
	return r;
}

static int
in_recipients(const struct cf_chain_epoch *ep, const uint8_t id[static CF_ID_BYTES])
{
	size_t i;

	for (i = 0; i < ep->nrecip; i++)
		if (memcmp(ep->recip[i], id, CF_ID_BYTES) == 0)
			return 1;
	return 0;
}

int
cf_envelope_open(const struct cf_chain *c,
    const uint8_t me_id[static CF_ID_BYTES],
    const uint8_t me_box_pk[static CF_BOX_PK_BYTES],
    const uint8_t me_box_sk[static CF_BOX_SK_BYTES], const uint8_t *env,
    size_t len, uint8_t (**keysp)[CF_KEY_BYTES], uint64_t *nkeysp)
{
	const struct cf_chain_epoch *cur;
	const uint8_t *account_id, *entry_hash, *recipient_id, *sealed;
	const uint8_t *signer_id, *sig, *pk;
	struct cf_rd rd, kr;
	uint8_t (*keys)[CF_KEY_BYTES] = NULL;
	uint8_t *pt = NULL;
	uint32_t sealed_len;
	uint64_t epoch, seq, i;
	size_t ptlen = 0;
	int r = NOTAUTH;

	*keysp = NULL;
	*nkeysp = 0;
	if ((cur = cf_chain_current_epoch(c)) == NULL || env == NULL ||
	    len > CF_ENV_MAX)
		goto out;

	/* Parse: tag and version first, trailing bytes refused. */
	cf_rd_init(&rd, env, len, NOTAUTH);
	cf_rd_expect(&rd, CF_ENV_TAG, CF_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_ENV_VERSION)
		cf_rd_fail(&rd);
	if (rd.err != 0)
		goto out;
	account_id = cf_rd_bytes(&rd, CF_ID_BYTES);
	entry_hash = cf_rd_bytes(&rd, CF_ID_BYTES);
	epoch = cf_rd_u64(&rd);
	recipient_id = cf_rd_bytes(&rd, CF_ID_BYTES);
	sealed = cf_rd_lstr(&rd, (uint32_t)CF_ENV_SEALED_MAX, &sealed_len);
	signer_id = cf_rd_bytes(&rd, CF_ID_BYTES);
	sig = cf_rd_bytes(&rd, CF_SIG_BYTES);
	if (cf_rd_end(&rd) != 0)
		goto out;

	/* Against the verified chain: this account, its current epoch (an
	 * older envelope set is refused), for me, and I am a recipient. */
	if (memcmp(account_id, c->account_id, CF_ID_BYTES) != 0 ||
	    epoch != cur->epoch ||
	    memcmp(recipient_id, me_id, CF_ID_BYTES) != 0 ||
	    !in_recipients(cur, me_id))
		goto out;
	/* The entry it belongs to, and that entry's signer signed it. */
	if (env_entry(c, cur, me_id, entry_hash, &seq) != 0)
		goto out;
	if (memcmp(signer_id, c->entry_signer[seq], CF_ID_BYTES) != 0 ||
	    (pk = cf_chain_sign_pk(c, signer_id)) == NULL)
		goto out;
	/* Signed: purpose || account_id .. recipient_id || sealed. */
	if ((r = cf_verify_purpose2(pk, CF_LABEL_ENV, env + CF_ENV_SIGNED_OFF,
	    CF_ENV_SIGNED_HEAD_BYTES, sealed, sealed_len, sig)) != 0)
		goto out;
	r = NOTAUTH;

	/* Open, in guarded memory; exactly the size for ${epoch} keys. */
	ptlen = keys_len(epoch);
	if (sealed_len != ptlen + SEAL_BYTES)
		goto out;
	if ((pt = sodium_malloc(ptlen)) == NULL ||
	    (keys = sodium_malloc((size_t)epoch * CF_KEY_BYTES)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (crypto_box_seal_open(pt, sealed, sealed_len, me_box_pk,
	    me_box_sk) != 0)
		goto out;
	cf_rd_init(&kr, pt, ptlen, NOTAUTH);
	cf_rd_expect(&kr, CF_ENVKEYS_TAG, CF_TAG_BYTES);
	if (cf_rd_u8(&kr) != CF_ENVKEYS_VERSION)
		cf_rd_fail(&kr);
	cf_rd_expect(&kr, c->account_id, CF_ID_BYTES);
	if (cf_rd_u64(&kr) != epoch || cf_rd_u32(&kr) != epoch)
		cf_rd_fail(&kr);
	for (i = 0; i < epoch && kr.err == 0; i++) {
		if (cf_rd_u64(&kr) != i + 1)
			cf_rd_fail(&kr);
		cf_rd_copy(&kr, keys[i], CF_KEY_BYTES);
	}
	if (cf_rd_end(&kr) != 0)
		goto out;
	/* Every key must be the one its epoch committed to. */
	for (i = 0; i < epoch; i++)
		if (cf_chain_check_epoch_key(c, i + 1, keys[i]) != 0)
			goto out;

	*keysp = keys;
	*nkeysp = epoch;
	keys = NULL;
	r = 0;
out:
	if (pt != NULL)
		sodium_free(pt);
	if (keys != NULL)
		sodium_free(keys);
	return r;
}
