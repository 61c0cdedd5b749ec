/*
 * Entries that start an epoch (DESIGN §5; FORMAT §14-§16): a device
 * removed (with --rekey, new drive secrets and every head re-sealed),
 * the recovery key replaced; each with the envelopes of the new epoch's
 * keys and the directory re-written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/err.h"
#include "chain/chain.h"
#include "chain/dir.h"
#include "chain/pair.h"
#include "crypto/recovery.h"
#include "util/buf.h"
#include "device_internal.h"
#include "ops.h"

/* The box key of recipient ${id} of ${c} (a device or the current recovery key). */
static const uint8_t *
recipient_box(const struct cf_chain *c, const uint8_t id[static CF_ID_BYTES])
{
	const struct cf_chain_device *d = cf_chain_device(c, id);
	const struct cf_chain_rk *rk = cf_chain_current_rk(c);

	if (d != NULL)
		return d->box_pk;
	if (rk != NULL && !memcmp(rk->id, id, CF_ID_BYTES))
		return rk->box_pk;
	return NULL;
}

/* ${ks} with ${knew} appended, in new guarded memory. */
static int
ks_append(const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks,
    const uint8_t knew[static CF_KEY_BYTES], uint8_t (**outp)[CF_KEY_BYTES])
{
	uint8_t (*o)[CF_KEY_BYTES];

	*outp = NULL;
	if ((o = sodium_malloc((size_t)(nks + 1) * CF_KEY_BYTES)) == NULL)
		return COFFER_ENOMEM;
	if (nks > 0)
		memcpy(o, ks, (size_t)nks * CF_KEY_BYTES);
	memcpy(o[nks], knew, CF_KEY_BYTES);
	*outp = o;
	return 0;
}

/*
 * Append ${entry}, which starts epoch nks + 1 with key ${knew}, to the
 * session's chain on the server by compare-and-swap, with an envelope of
 * K_1..K_{nks+1} for each recipient, signed by this device; then adopt
 * the new state and keys and save the chain pin.
 */
int
cf_device_epoch_append(struct cf_session *s, const uint8_t *entry, size_t elen,
    const uint8_t knew[static CF_KEY_BYTES])
{
	struct cf_chain *c2 = NULL;
	struct cf_blobs envs = { 0, NULL, NULL };
	const struct cf_chain_epoch *ep;
	uint8_t (*ks2)[CF_KEY_BYTES] = NULL;
	struct cf_signer me;
	const uint8_t *box;
	size_t i;
	int r;

	if ((r = cf_chain_clone(s->chain, &c2)) != 0)
		goto out;
	if ((r = cf_chain_append(c2, entry, elen)) != 0)
		goto out;
	ep = cf_chain_current_epoch(c2);
	if (ep == NULL || ep->epoch != s->nks + 1) {
		r = COFFER_EINTERNAL;
		goto out;
	}
	if ((r = ks_append((const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks,
	    knew, &ks2)) != 0)
		goto out;
	if ((r = cf_device_blobs_alloc(&envs, ep->nrecip)) != 0)
		goto out;
	memcpy(me.id, s->keys->device_id, CF_ID_BYTES);
	me.sign_sk = s->keys->sign_sk;
	for (i = 0; i < ep->nrecip; i++) {
		if ((box = recipient_box(c2, ep->recip[i])) == NULL) {
			r = COFFER_EINTERNAL;
			goto out;
		}
		if ((r = cf_envelope_make(c2->account_id, c2->hash[c2->n - 1],
		    &me, ep->epoch, (const uint8_t (*)[CF_KEY_BYTES])ks2,
		    ep->recip[i], box, &envs.p[i], &envs.len[i])) != 0)
			goto out;
		envs.n++;
	}
	if ((r = cf_device_chain_put(s, entry, elen, &envs, &c2)) != 0)
		goto out;
	if (s->ks != NULL)
		sodium_free(s->ks);
	s->ks = ks2;
	s->nks++;
	ks2 = NULL;
	r = cf_state_save_chainpin(&s->paths, s->chain);
out:
	if (ks2 != NULL)
		sodium_free(ks2);
	cf_blobs_free(&envs);
	cf_chain_free(c2);
	return r;
}

/*
 * Write the directory record that follows the pinned one, with a drive
 * key of the current epoch added to each drive that lacks one (FORMAT
 * §16: after a remove, a record by a trusted device must follow).
 */
int
cf_device_dir_rewrap(struct cf_session *s, int rekey)
{
	struct cf_dir_entry *ents = NULL;
	struct cf_drive_keys **dks = NULL;
	uint8_t *rec = NULL;
	size_t reclen = 0, n, i;
	uint64_t e = cf_session_epoch(s);
	int r = 0;

	if (s->dir == NULL)
		return 0;
	if ((r = cf_session_dir_entries(s, 0, &ents, &dks, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (rekey && (r = cf_drive_keys_rekey(dks[i], e)) != 0)
			goto out;
		if (dks[i]->nepochs == 0 ||
		    dks[i]->epochs[dks[i]->nepochs - 1].epoch < e)
			if ((r = cf_drive_keys_add_epoch(dks[i], e)) != 0)
				goto out;
	}
	if ((r = cf_dir_build(s->chain, s->keys,
	    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, s->dir, ents, n,
	    cf_device_now(), &rec, &reclen)) != 0)
		goto out;
	r = cf_session_dir_publish(s, rec, reclen);
out:
	cf_session_dir_entries_free(ents, dks, n);
	free(rec);
	return r;
}

/*
 * --rekey: the drive secrets were replaced in the directory; re-seal each
 * drive's current version under them as a new commit on its head, from
 * the server's objects and in memory (cf_push_reseal): no plaintext is
 * written to disk.  A head that moves meanwhile is re-sealed again from
 * the new one.
 */
static int
reseal_all(struct cf_session *s)
{
	struct cf_push_result ps;
	size_t i, n = s->dir == NULL ? 0 : s->dir->ndrives;
	char **names = NULL;
	int r = 0, tries;

	if (n == 0)
		return 0;
	if ((names = calloc(n, sizeof(*names))) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < n; i++)
		if ((names[i] = strdup(s->dir->drives[i].name)) == NULL) {
			r = COFFER_ENOMEM;
			goto out;
		}
	for (i = 0; i < n; i++) {
		tries = 0;
		do {
			r = cf_push_reseal(s, names[i], &ps);
		} while (r == COFFER_ECONFLICT && ++tries < CF_PUSH_RETRIES);
		if (r != 0)
			goto out;
	}
out:
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* Remove the ${n} devices ${ids}, one entry (and epoch) each, then re-write the directory. */
int
cf_device_remove_ids(struct cf_session *s, const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, int rekey)
{
	struct cf_drive_head *heads = NULL;
	uint8_t *knew = NULL, *entry = NULL;
	struct cf_signer me;
	size_t nheads = 0, elen = 0, i;
	int r;

	if ((r = cf_device_heads(s, 1, &heads, &nheads)) != 0)
		goto out;
	if ((knew = sodium_malloc(CF_KEY_BYTES)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	memcpy(me.id, s->keys->device_id, CF_ID_BYTES);
	me.sign_sk = s->keys->sign_sk;
	for (i = 0; i < n; i++) {
		if ((r = cf_entry_remove(s->chain, &me, ids[i], heads, nheads,
		    cf_device_now(), knew, &entry, &elen)) != 0)
			goto out;
		if ((r = cf_device_epoch_append(s, entry, elen, knew)) != 0)
			goto out;
		free(entry);
		entry = NULL;
	}
	if ((r = cf_device_dir_rewrap(s, rekey)) != 0)
		goto out;
	if (rekey)
		r = reseal_all(s);
out:
	if (knew != NULL)
		sodium_free(knew);
	free(entry);
	free(heads);
	return r;
}

int
cf_device_remove(struct cf_session *s, const uint8_t id[static CF_ID_BYTES],
    int rekey)
{
	uint8_t ids[1][CF_ID_BYTES];

	if (!memcmp(id, s->keys->device_id, CF_ID_BYTES))
		return COFFER_EINVAL;
	if (!cf_chain_trusted_at(s->chain, id, s->chain->n - 1))
		return COFFER_ENOENT;
	memcpy(ids[0], id, CF_ID_BYTES);
	return cf_device_remove_ids(s, (const uint8_t (*)[CF_ID_BYTES])ids, 1,
	    rekey);
}

int
cf_recovery_key_rotate(struct cf_session *s,
    char text[static CF_RECOVERY_TEXT_BYTES])
{
	struct cf_recovery_keys *rk = NULL;
	uint8_t secret[CF_RECOVERY_SECRET_BYTES];
	uint8_t *knew = NULL, *entry = NULL;
	struct cf_signer me;
	size_t elen = 0;
	int r;

	memset(text, 0, CF_RECOVERY_TEXT_BYTES);
	if ((rk = sodium_malloc(sizeof(*rk))) == NULL ||
	    (knew = sodium_malloc(CF_KEY_BYTES)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if ((r = cf_recovery_generate(s->acct.account_id, secret, text)) != 0 ||
	    (r = cf_recovery_derive(secret, s->acct.account_id, rk)) != 0)
		goto out;
	memcpy(me.id, s->keys->device_id, CF_ID_BYTES);
	me.sign_sk = s->keys->sign_sk;
	if ((r = cf_entry_set_rk(s->chain, &me, rk, cf_device_now(), knew,
	    &entry, &elen)) != 0)
		goto out;
	if ((r = cf_device_epoch_append(s, entry, elen, knew)) != 0)
		goto out;
	r = cf_device_dir_rewrap(s, 0);
out:
	sodium_memzero(secret, sizeof(secret));
	if (r != 0)
		sodium_memzero(text, CF_RECOVERY_TEXT_BYTES);
	if (rk != NULL)
		sodium_free(rk);
	if (knew != NULL)
		sodium_free(knew);
	free(entry);
	return r;
}

