/*
 * The device chain: verification and state (DESIGN §2, §4; FORMAT §14).
 *
 * A state is only ever built by verifying entries one at a time against
 * the state before each (cf_chain_append).  Appending is in two steps:
 * cf_chain_verify_entry() checks every rule without touching the state,
 * then chain_apply() reserves all the memory the entry needs and only
 * then changes the state, with nothing left that can fail -- so a refused
 * entry, or one that runs out of memory, leaves the state as it was.
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

#define NOTAUTH			COFFER_ENOTAUTHENTIC

_Static_assert(CF_ENTRY_HDR_BYTES == 118, "FORMAT §14 entry header");
_Static_assert(CF_ENTRY_MIN_BYTES + CF_ENTRY_BODY_MAX <= CF_ENTRY_MAX,
    "an entry with the largest body fits CF_ENTRY_MAX");
_Static_assert((CF_CHAIN_TRUSTED_MAX + 1) * CF_ID_BYTES + 8 + 32 + 4 +
    CF_ID_BYTES + 4 < CF_ENTRY_BODY_MAX / 2,
    "an epoch block of every trusted device fits well inside a body");

/* ---- Hashes and signatures ---------------------------------------------- */

void
cf_entry_hash(const uint8_t *entry, size_t len, uint8_t hash[static CF_ID_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, CF_ID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_ENTRY_HASH,
	    sizeof(CF_LABEL_ENTRY_HASH) - 1);
	crypto_generichash_update(&st, entry, len);
	crypto_generichash_final(&st, hash, CF_ID_BYTES);
}

void
cf_chain_account_id(const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES],
    const uint8_t rand[static CF_GENESIS_RAND_BYTES],
    uint8_t id[static CF_ID_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, CF_ID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_ACCOUNT,
	    sizeof(CF_LABEL_ACCOUNT) - 1);
	crypto_generichash_update(&st, sign_pk, CF_SIGN_PK_BYTES);
	crypto_generichash_update(&st, box_pk, CF_BOX_PK_BYTES);
	crypto_generichash_update(&st, rand, CF_GENESIS_RAND_BYTES);
	crypto_generichash_final(&st, id, CF_ID_BYTES);
}

void
cf_chain_epoch1_ids(const uint8_t dev_id[static CF_ID_BYTES],
    const uint8_t rk_id[static CF_ID_BYTES], uint8_t ids[2][CF_ID_BYTES])
{
	int lo = memcmp(dev_id, rk_id, CF_ID_BYTES) < 0;

	memcpy(ids[0], lo ? dev_id : rk_id, CF_ID_BYTES);
	memcpy(ids[1], lo ? rk_id : dev_id, CF_ID_BYTES);
}

void
cf_epoch_cmt(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    uint8_t cmt[static CF_ID_BYTES])
{
	crypto_generichash_state st;
	uint8_t e[8];

	cf_be64enc(e, epoch);
	crypto_generichash_init(&st, ke, CF_KEY_BYTES, CF_ID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_EPOCH,
	    sizeof(CF_LABEL_EPOCH) - 1);
	crypto_generichash_update(&st, account_id, CF_ID_BYTES);
	crypto_generichash_update(&st, e, sizeof(e));
	crypto_generichash_final(&st, cmt, CF_ID_BYTES);
	sodium_memzero(&st, sizeof(st));
}

void
cf_rkreg_msg(const uint8_t account_id[static CF_ID_BYTES], uint64_t seq,
    const uint8_t rk_sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t rk_box_pk[static CF_BOX_PK_BYTES],
    uint8_t msg[static CF_RKREG_MSG_BYTES])
{
	memcpy(msg, account_id, CF_ID_BYTES);
	cf_be64enc(msg + CF_ID_BYTES, seq);
	memcpy(msg + CF_ID_BYTES + 8, rk_sign_pk, CF_SIGN_PK_BYTES);
	memcpy(msg + CF_ID_BYTES + 8 + CF_SIGN_PK_BYTES, rk_box_pk,
	    CF_BOX_PK_BYTES);
}

void
cf_pop_msg(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES],
    uint8_t msg[static CF_POP_MSG_BYTES])
{
	memcpy(msg, account_id, CF_ID_BYTES);
	memcpy(msg + CF_ID_BYTES, sign_pk, CF_SIGN_PK_BYTES);
	memcpy(msg + CF_ID_BYTES + CF_SIGN_PK_BYTES, box_pk, CF_BOX_PK_BYTES);
}

int
cf_pop_verify(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES],
    const uint8_t pop[static CF_SIG_BYTES])
{
	uint8_t msg[CF_POP_MSG_BYTES];

	cf_pop_msg(account_id, sign_pk, box_pk, msg);
	return cf_verify_purpose(sign_pk, CF_LABEL_POP, msg, sizeof(msg), pop);
}

int
cf_box_pk_ok(const uint8_t pk[static CF_BOX_PK_BYTES])
{
	/* Any scalar: X25519 clamps it to a multiple of the cofactor, so a
	 * point of small order gives the all-zero output, which libsodium
	 * refuses. */
	static const uint8_t scalar[crypto_scalarmult_SCALARBYTES] = { 1 };
	uint8_t q[crypto_scalarmult_BYTES];
	int ok;

	ok = crypto_scalarmult(q, scalar, pk) == 0;
	sodium_memzero(q, sizeof(q));
	return ok;
}

/* ---- The state: new, free, clone -------------------------------------- */

int
cf_chain_new(struct cf_chain **cp)
{
	struct cf_chain *c;

	*cp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return COFFER_ENOMEM;
	*cp = c;
	return 0;
}

void
cf_chain_free(struct cf_chain *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->entry[i]);
	for (i = 0; i < c->ndevices; i++)
		free(c->devices[i].name_box);
	for (i = 0; i < c->nepochs; i++)
		free(c->epochs[i].recip);
	for (i = 0; i < c->nremovals; i++)
		free(c->removals[i].drives);
	free(c->hash);
	free(c->entry);
	free(c->entry_len);
	free(c->entry_time);
	free(c->entry_type);
	free(c->entry_signer);
	free(c->devices);
	free(c->epochs);
	free(c->removals);
	free(c->rks);
	free(c);
}

/* malloc(n * size) with the product checked; a copy of ${src} if given. */
static void *
dup_array(const void *src, size_t n, size_t size)
{
	void *p;

	if (n > SIZE_MAX / size)
		return NULL;
	if ((p = malloc(n == 0 ? 1 : n * size)) == NULL)
		return NULL;
	if (src != NULL && n > 0)
		memcpy(p, src, n * size);
	return p;
}

int
cf_chain_clone(const struct cf_chain *c, struct cf_chain **cp)
{
	struct cf_chain *d = NULL;
	size_t i, n;
	int r = COFFER_ENOMEM;

	*cp = NULL;
	if ((r = cf_chain_new(&d)) != 0)
		goto out;
	r = COFFER_ENOMEM;
	memcpy(d->account_id, c->account_id, CF_ID_BYTES);
	n = (size_t)c->n;
	if ((d->hash = dup_array(c->hash, n, sizeof(*d->hash))) == NULL ||
	    (d->entry = calloc(n == 0 ? 1 : n, sizeof(*d->entry))) == NULL ||
	    (d->entry_len = dup_array(c->entry_len, n, sizeof(size_t))) == NULL ||
	    (d->entry_time = dup_array(c->entry_time, n, sizeof(uint64_t))) == NULL ||
	    (d->entry_type = dup_array(c->entry_type, n, 1)) == NULL ||
	    (d->entry_signer = dup_array(c->entry_signer, n,
	    sizeof(*d->entry_signer))) == NULL)
		goto out;
	d->cap_entries = n;
	for (i = 0; i < n; i++) {
		if ((d->entry[i] = dup_array(c->entry[i], c->entry_len[i], 1)) == NULL)
			goto out;
		d->n = i + 1;
	}

	if ((d->devices = calloc(c->ndevices + 1, sizeof(*d->devices))) == NULL)
		goto out;
	d->cap_devices = c->ndevices + 1;
	for (i = 0; i < c->ndevices; i++) {
		d->devices[i] = c->devices[i];
		d->devices[i].name_box = NULL;
		d->ndevices = i + 1;
		if ((d->devices[i].name_box = dup_array(c->devices[i].name_box,
		    c->devices[i].name_box_len, 1)) == NULL)
			goto out;
	}

	if ((d->epochs = calloc(c->nepochs + 1, sizeof(*d->epochs))) == NULL)
		goto out;
	d->cap_epochs = c->nepochs + 1;
	for (i = 0; i < c->nepochs; i++) {
		d->epochs[i] = c->epochs[i];
		d->epochs[i].recip = NULL;
		d->nepochs = i + 1;
		if ((d->epochs[i].recip = dup_array(c->epochs[i].recip,
		    c->epochs[i].nrecip, CF_ID_BYTES)) == NULL)
			goto out;
	}

	if ((d->removals = calloc(c->nremovals + 1, sizeof(*d->removals))) == NULL)
		goto out;
	d->cap_removals = c->nremovals + 1;
	for (i = 0; i < c->nremovals; i++) {
		d->removals[i] = c->removals[i];
		d->removals[i].drives = NULL;
		d->nremovals = i + 1;
		if ((d->removals[i].drives = dup_array(c->removals[i].drives,
		    c->removals[i].ndrives, sizeof(struct cf_drive_head))) == NULL)
			goto out;
	}

	/* Room for one more, but only the ${nrks} keys ${c} holds are read:
	 * its array may be exactly full. */
	if ((d->rks = dup_array(NULL, c->nrks + 1, sizeof(*d->rks))) == NULL)
		goto out;
	if (c->nrks > 0)
		memcpy(d->rks, c->rks, c->nrks * sizeof(*d->rks));
	d->nrks = c->nrks;
	d->cap_rks = c->nrks + 1;

	*cp = d;
	d = NULL;
	r = 0;
out:
	cf_chain_free(d);
	return r;
}

/* ---- Lookups -------------------------------------------------------------- */

const struct cf_chain_device *
cf_chain_device(const struct cf_chain *c, const uint8_t id[static CF_ID_BYTES])
{
	size_t i;

	for (i = 0; i < c->ndevices; i++)
		if (memcmp(c->devices[i].id, id, CF_ID_BYTES) == 0)
			return &c->devices[i];
	return NULL;
}

static const struct cf_chain_rk *
chain_rk(const struct cf_chain *c, const uint8_t id[static CF_ID_BYTES])
{
	size_t i;

	for (i = 0; i < c->nrks; i++)
		if (memcmp(c->rks[i].id, id, CF_ID_BYTES) == 0)
			return &c->rks[i];
	return NULL;
}

const uint8_t *
cf_chain_sign_pk(const struct cf_chain *c, const uint8_t id[static CF_ID_BYTES])
{
	const struct cf_chain_device *d;
	const struct cf_chain_rk *k;

	if ((d = cf_chain_device(c, id)) != NULL)
		return d->sign_pk;
	if ((k = chain_rk(c, id)) != NULL)
		return k->sign_pk;
	return NULL;
}

int
cf_chain_trusted_at(const struct cf_chain *c,
    const uint8_t id[static CF_ID_BYTES], uint64_t seq)
{
	const struct cf_chain_device *d;

	/* Added at or before ${seq}, not removed at or before it. */
	return seq < c->n && (d = cf_chain_device(c, id)) != NULL &&
	    d->added_seq <= seq && !(d->removed && d->removed_seq <= seq);
}

uint64_t
cf_chain_epoch_at(const struct cf_chain *c, uint64_t seq)
{
	size_t i;

	if (seq >= c->n)
		return 0;
	for (i = c->nepochs; i > 0; i--)
		if (c->epochs[i - 1].start_seq <= seq)
			return c->epochs[i - 1].epoch;
	return 0;
}

const struct cf_chain_epoch *
cf_chain_current_epoch(const struct cf_chain *c)
{
	return c->nepochs == 0 ? NULL : &c->epochs[c->nepochs - 1];
}

const struct cf_chain_rk *
cf_chain_current_rk(const struct cf_chain *c)
{
	return c->nrks == 0 ? NULL : &c->rks[c->nrks - 1];
}

size_t
cf_chain_ntrusted(const struct cf_chain *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->ndevices; i++)
		if (!c->devices[i].removed)
			n++;
	return n;
}

int
cf_chain_check_epoch_key(const struct cf_chain *c, uint64_t epoch,
    const uint8_t ke[static CF_KEY_BYTES])
{
	uint8_t cmt[CF_ID_BYTES];
	int r;

	if (epoch == 0 || epoch > c->nepochs)
		return NOTAUTH;
	cf_epoch_cmt(ke, c->account_id, epoch, cmt);
	r = crypto_verify_32(cmt, c->epochs[epoch - 1].cmt) == 0 ? 0 : NOTAUTH;
	sodium_memzero(cmt, sizeof(cmt));
	return r;
}

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, CF_ID_BYTES);
}

int
cf_chain_next_recipients(const struct cf_chain *c,
    const uint8_t *removed_id, const uint8_t *rk_id,
    uint8_t (**idsp)[CF_ID_BYTES], size_t *np)
{
	const struct cf_chain_rk *rk = cf_chain_current_rk(c);
	uint8_t (*ids)[CF_ID_BYTES] = NULL;
	size_t i, n = 0;
	int r;

	*idsp = NULL;
	*np = 0;
	if (rk_id == NULL) {
		if (rk == NULL) {
			r = COFFER_EINVAL;
			goto out;
		}
		rk_id = rk->id;
	}
	if ((ids = dup_array(NULL, c->ndevices + 1, CF_ID_BYTES)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < c->ndevices; i++) {
		if (c->devices[i].removed)
			continue;
		if (removed_id != NULL &&
		    memcmp(c->devices[i].id, removed_id, CF_ID_BYTES) == 0)
			continue;
		memcpy(ids[n++], c->devices[i].id, CF_ID_BYTES);
	}
	memcpy(ids[n++], rk_id, CF_ID_BYTES);
	qsort(ids, n, CF_ID_BYTES, id_cmp);
	*idsp = ids;
	*np = n;
	ids = NULL;
	r = 0;
out:
	free(ids);
	return r;
}

/* ---- Verifying one entry ------------------------------------------------ */

static void
rd_epoch_block(struct cf_rd *rd, struct cf_epoch_view *ep)
{
	ep->epoch = cf_rd_u64(rd);
	ep->cmt = cf_rd_bytes(rd, CF_ID_BYTES);
	ep->n = cf_rd_u32(rd);
	if (rd->err)
		return;
	/* Checked before the multiplication, which then cannot overflow. */
	if (ep->n == 0 || ep->n > CF_EPOCH_RECIP_MAX) {
		cf_rd_fail(rd);
		return;
	}
	ep->ids = cf_rd_bytes(rd, (size_t)ep->n * CF_ID_BYTES);
}

static void
rd_name_box(struct cf_rd *rd, struct cf_entry_view *v)
{
	v->name_box = cf_rd_lstr(rd, CF_NAME_BOX_MAX, &v->name_box_len);
	if (rd->err == 0 && v->name_box_len < CF_NAME_BOX_MIN)
		cf_rd_fail(rd);
}

/*
 * check_epoch_block(ep, epoch, want, nwant):
 * The block must start ${epoch} with exactly the recipients ${want}
 * (sorted, so the block's ids are strictly increasing too).
 */
static int
check_epoch_block(const struct cf_epoch_view *ep, uint64_t epoch,
    const uint8_t (*want)[CF_ID_BYTES], size_t nwant)
{
	size_t i;

	if (ep->epoch != epoch || ep->n != nwant)
		return NOTAUTH;
	for (i = 0; i < nwant; i++)
		if (memcmp(ep->ids + i * CF_ID_BYTES, want[i], CF_ID_BYTES) != 0)
			return NOTAUTH;
	return 0;
}

/* The epoch block of an entry that starts the next epoch after ${c}. */
static int
check_next_epoch(const struct cf_chain *c, const struct cf_entry_view *v,
    const uint8_t *removed_id, const uint8_t *rk_id)
{
	uint8_t (*want)[CF_ID_BYTES] = NULL;
	size_t nwant;
	int r;

	if ((r = cf_chain_next_recipients(c, removed_id, rk_id, &want,
	    &nwant)) != 0)
		goto out;
	r = check_epoch_block(&v->ep, (uint64_t)c->nepochs + 1, want, nwant);
out:
	free(want);
	return r;
}

/* An id never used by a device or a recovery key of ${c}. */
static int
id_fresh(const struct cf_chain *c, const uint8_t id[static CF_ID_BYTES])
{
	return cf_chain_device(c, id) == NULL && chain_rk(c, id) == NULL;
}

/*
 * check_rk_reg(v, seq):
 * rk_sig is the recovery key's own signature over this entry's account id
 * and ${seq}, so it cannot be moved to another position (FORMAT §14.5).
 */
static int
check_rk_reg(const struct cf_entry_view *v, const uint8_t *rk_sig)
{
	uint8_t msg[CF_RKREG_MSG_BYTES];
	int r = NOTAUTH;

	if (!cf_box_pk_ok(v->rk_box_pk))
		goto out;
	cf_rkreg_msg(v->h.account_id, v->h.seq, v->rk_sign_pk, v->rk_box_pk, msg);
	r = cf_verify_purpose(v->rk_sign_pk, CF_LABEL_RKREG, msg, sizeof(msg),
	    rk_sig);
out:
	return r;
}

/* FORMAT §14.1.  ${c} is empty. */
static int
verify_genesis(struct cf_entry_view *v)
{
	struct cf_rd rd;
	const uint8_t *rand, *rk_sig;
	uint8_t acct[CF_ID_BYTES];
	uint8_t want[2][CF_ID_BYTES];
	int r;

	cf_rd_init(&rd, v->body, v->bodylen, NOTAUTH);
	v->sign_pk = cf_rd_bytes(&rd, CF_SIGN_PK_BYTES);
	v->box_pk = cf_rd_bytes(&rd, CF_BOX_PK_BYTES);
	rand = cf_rd_bytes(&rd, CF_GENESIS_RAND_BYTES);
	rd_name_box(&rd, v);
	v->rk_sign_pk = cf_rd_bytes(&rd, CF_SIGN_PK_BYTES);
	v->rk_box_pk = cf_rd_bytes(&rd, CF_BOX_PK_BYTES);
	rk_sig = cf_rd_bytes(&rd, CF_SIG_BYTES);
	rd_epoch_block(&rd, &v->ep);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	v->has_epoch = 1;
	v->name_epoch = 1;

	/* The account id and the signer's id are recomputed, never read. */
	cf_chain_account_id(v->sign_pk, v->box_pk, rand, acct);
	cf_device_id(v->sign_pk, v->box_pk, v->dev_id);
	cf_device_id(v->rk_sign_pk, v->rk_box_pk, v->rk_id);
	if (memcmp(acct, v->h.account_id, CF_ID_BYTES) != 0 ||
	    memcmp(v->dev_id, v->h.signer_id, CF_ID_BYTES) != 0 ||
	    !cf_box_pk_ok(v->box_pk)) {
		r = NOTAUTH;
		goto out;
	}
	if ((r = check_rk_reg(v, rk_sig)) != 0)
		goto out;
	/* Epoch 1: the genesis device and the recovery key, sorted. */
	cf_chain_epoch1_ids(v->dev_id, v->rk_id, want);
	if (memcmp(v->dev_id, v->rk_id, CF_ID_BYTES) == 0) {
		r = NOTAUTH;
		goto out;
	}
	r = check_epoch_block(&v->ep, 1, (const uint8_t (*)[CF_ID_BYTES])want, 2);
out:
	return r;
}

/* FORMAT §14.2. */
static int
verify_add(const struct cf_chain *c, struct cf_entry_view *v)
{
	struct cf_rd rd;
	const uint8_t *pop;
	int r;

	cf_rd_init(&rd, v->body, v->bodylen, NOTAUTH);
	v->sign_pk = cf_rd_bytes(&rd, CF_SIGN_PK_BYTES);
	v->box_pk = cf_rd_bytes(&rd, CF_BOX_PK_BYTES);
	v->name_epoch = cf_rd_u64(&rd);
	rd_name_box(&rd, v);
	pop = cf_rd_bytes(&rd, CF_SIG_BYTES);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;

	/* Joining does not start an epoch: it names the current one. */
	if (v->name_epoch != (uint64_t)c->nepochs) {
		r = NOTAUTH;
		goto out;
	}
	cf_device_id(v->sign_pk, v->box_pk, v->dev_id);
	/* Never a device id that was ever added (or removed), nor a
	 * recovery key's; never beyond the cap of trusted devices. */
	if (!id_fresh(c, v->dev_id) || !cf_box_pk_ok(v->box_pk) ||
	    cf_chain_ntrusted(c) >= CF_CHAIN_TRUSTED_MAX) {
		r = NOTAUTH;
		goto out;
	}
	/* Proof of possession by the new key itself. */
	r = cf_pop_verify(v->h.account_id, v->sign_pk, v->box_pk, pop);
out:
	return r;
}

/*
 * cf_chain_head_floor(c, drive_id, floor):
 * The highest record for the drive among the removals of ${c}; append
 * keeps later records from going below earlier ones (verify_remove).
 */
void
cf_chain_head_floor(const struct cf_chain *c,
    const uint8_t drive_id[static CF_ID_BYTES], struct cf_drive_head *floor)
{
	const struct cf_chain_removal *rm;
	size_t i, j;

	memset(floor, 0, sizeof(*floor));
	memcpy(floor->drive_id, drive_id, CF_ID_BYTES);
	for (i = 0; i < c->nremovals; i++) {
		rm = &c->removals[i];
		for (j = 0; j < rm->ndrives; j++) {
			if (memcmp(rm->drives[j].drive_id, drive_id,
			    CF_ID_BYTES) != 0)
				continue;
			if (rm->drives[j].version >= floor->version)
				*floor = rm->drives[j];
			break;
		}
	}
}

/* FORMAT §14.3. */
static int
verify_remove(const struct cf_chain *c, struct cf_entry_view *v)
{
	const struct cf_chain_device *d;
	struct cf_drive_head floor;
	struct cf_rd rd;
	const uint8_t *rec, *prev = NULL;
	uint64_t version;
	uint32_t i;
	int r;

	cf_rd_init(&rd, v->body, v->bodylen, NOTAUTH);
	v->removed_id = cf_rd_bytes(&rd, CF_ID_BYTES);
	v->ndrives = cf_rd_u32(&rd);
	if (rd.err == 0 && v->ndrives > CF_CHAIN_DRIVES_MAX)
		cf_rd_fail(&rd);
	v->drives = cf_rd_bytes(&rd, (size_t)v->ndrives * CF_DRIVE_REC_BYTES);
	rd_epoch_block(&rd, &v->ep);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	v->has_epoch = 1;

	/* Only a trusted device is removed, never the last one. */
	if ((d = cf_chain_device(c, v->removed_id)) == NULL || d->removed ||
	    cf_chain_ntrusted(c) < 2) {
		r = NOTAUTH;
		goto out;
	}
	/* Drive records: strictly increasing, canonical, never below an
	 * earlier removal's record for the same drive. */
	for (i = 0; i < v->ndrives; i++) {
		rec = v->drives + (size_t)i * CF_DRIVE_REC_BYTES;
		version = cf_be64dec(rec + CF_ID_BYTES);
		if ((prev != NULL && memcmp(prev, rec, CF_ID_BYTES) >= 0) ||
		    (version == 0) != (sodium_is_zero(rec + CF_ID_BYTES + 8,
		    CF_ID_BYTES) != 0)) {
			r = NOTAUTH;
			goto out;
		}
		cf_chain_head_floor(c, rec, &floor);
		if (version < floor.version || (version == floor.version &&
		    sodium_memcmp(floor.commit_id, rec + CF_ID_BYTES + 8,
		    CF_ID_BYTES) != 0)) {
			r = NOTAUTH;
			goto out;
		}
		prev = rec;
	}
	r = check_next_epoch(c, v, v->removed_id, NULL);
out:
	return r;
}

/* FORMAT §14.4. */
static int
verify_rotate(const struct cf_chain *c, struct cf_entry_view *v)
{
	struct cf_rd rd;
	int r;

	cf_rd_init(&rd, v->body, v->bodylen, NOTAUTH);
	rd_epoch_block(&rd, &v->ep);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	v->has_epoch = 1;
	r = check_next_epoch(c, v, NULL, NULL);
out:
	return r;
}

/* FORMAT §14.5. */
static int
verify_setrk(const struct cf_chain *c, struct cf_entry_view *v)
{
	struct cf_rd rd;
	const uint8_t *rk_sig;
	int r;

	cf_rd_init(&rd, v->body, v->bodylen, NOTAUTH);
	v->rk_sign_pk = cf_rd_bytes(&rd, CF_SIGN_PK_BYTES);
	v->rk_box_pk = cf_rd_bytes(&rd, CF_BOX_PK_BYTES);
	rk_sig = cf_rd_bytes(&rd, CF_SIG_BYTES);
	rd_epoch_block(&rd, &v->ep);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	v->has_epoch = 1;
	cf_device_id(v->rk_sign_pk, v->rk_box_pk, v->rk_id);
	/* A new key: never one registered before, nor a device's. */
	if (!id_fresh(c, v->rk_id)) {
		r = NOTAUTH;
		goto out;
	}
	if ((r = check_rk_reg(v, rk_sig)) != 0)
		goto out;
	/* The new key is a recipient; the old one is not. */
	r = check_next_epoch(c, v, NULL, v->rk_id);
out:
	return r;
}

int
cf_chain_verify_entry(const struct cf_chain *c, const uint8_t *entry,
    size_t len, struct cf_entry_view *v)
{
	const struct cf_chain_device *d;
	const struct cf_chain_rk *rk;
	const uint8_t *pk = NULL;
	struct cf_rd rd;
	int r;

	memset(v, 0, sizeof(*v));
	if (entry == NULL || len < CF_ENTRY_MIN_BYTES || len > CF_ENTRY_MAX) {
		r = NOTAUTH;
		goto out;
	}
	/* Tag and version before anything else. */
	cf_rd_init(&rd, entry, len, NOTAUTH);
	cf_rd_expect(&rd, CF_ENTRY_TAG, CF_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_ENTRY_VERSION)
		cf_rd_fail(&rd);
	if ((r = rd.err) != 0)
		goto out;
	cf_rd_copy(&rd, v->h.account_id, CF_ID_BYTES);
	v->h.seq = cf_rd_u64(&rd);
	cf_rd_copy(&rd, v->h.prev_hash, CF_ID_BYTES);
	v->h.type = cf_rd_u8(&rd);
	cf_rd_copy(&rd, v->h.signer_id, CF_ID_BYTES);
	v->h.time = cf_rd_u64(&rd);
	v->body = cf_rd_lstr(&rd, CF_ENTRY_BODY_MAX, &v->bodylen);
	v->sig = cf_rd_bytes(&rd, CF_SIG_BYTES);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	cf_entry_hash(entry, len, v->hash);

	/* Its place: the genesis first and only first; then seq, prev hash,
	 * account and time follow the state. */
	r = NOTAUTH;
	if (c->n == 0) {
		if (v->h.type != CF_ENTRY_GENESIS || v->h.seq != 0 ||
		    !sodium_is_zero(v->h.prev_hash, CF_ID_BYTES))
			goto out;
	} else {
		if (v->h.type == CF_ENTRY_GENESIS || c->n >= CF_CHAIN_MAX_ENTRIES ||
		    v->h.seq != c->n ||
		    memcmp(v->h.account_id, c->account_id, CF_ID_BYTES) != 0 ||
		    memcmp(v->h.prev_hash, c->hash[c->n - 1], CF_ID_BYTES) != 0 ||
		    v->h.time < c->entry_time[c->n - 1])
			goto out;
	}

	/* The body, by type. */
	switch (v->h.type) {
	case CF_ENTRY_GENESIS:
		r = verify_genesis(v);
		break;
	case CF_ENTRY_ADD:
		r = verify_add(c, v);
		break;
	case CF_ENTRY_REMOVE:
		r = verify_remove(c, v);
		break;
	case CF_ENTRY_ROTATE:
		r = verify_rotate(c, v);
		break;
	case CF_ENTRY_SETRK:
		r = verify_setrk(c, v);
		break;
	default:
		r = NOTAUTH;
		break;
	}
	if (r != 0)
		goto out;

	/* The signer: the genesis device itself; else a device trusted now
	 * (after seq - 1); else, for an add-device entry only, the current
	 * recovery key. */
	r = NOTAUTH;
	if (v->h.type == CF_ENTRY_GENESIS) {
		pk = v->sign_pk;	/* its id was checked against the body */
	} else if ((d = cf_chain_device(c, v->h.signer_id)) != NULL) {
		if (!d->removed)
			pk = d->sign_pk;
	} else if (v->h.type == CF_ENTRY_ADD &&
	    (rk = cf_chain_current_rk(c)) != NULL &&
	    memcmp(rk->id, v->h.signer_id, CF_ID_BYTES) == 0) {
		pk = rk->sign_pk;
	}
	if (pk == NULL)
		goto out;
	/* Over every byte before sig (FORMAT §14); the reader refused any
	 * byte after it. */
	r = cf_verify_purpose(pk, CF_LABEL_ENTRY, entry,
	    (size_t)(v->sig - entry), v->sig);
out:
	if (r != 0)
		memset(v, 0, sizeof(*v));
	return r;
}

/* ---- Applying a verified entry -------------------------------------------- */

/* The capacity to grow ${cap} to for ${need} elements. */
static size_t
grown(size_t cap, size_t need)
{
	if (need <= cap)
		return cap;
	need = need < 8 ? 8 : need;
	return need < cap * 2 ? cap * 2 : need;
}

/*
 * regrow(p, cap, need, size):
 * ${p} (room for ${cap} elements of ${size} bytes) with room for ${need};
 * NULL if out of memory (${p} is then untouched).
 */
static void *
regrow(void *p, size_t cap, size_t need, size_t size)
{
	size_t ncap = grown(cap, need);

	if (ncap == cap && p != NULL)
		return p;
	if (ncap > SIZE_MAX / size)
		return NULL;
	return realloc(p, ncap * size);
}

/*
 * chain_apply(c, entry, len, v):
 * Apply the verified entry ${v}.  Every allocation happens before the
 * first change to ${c}; on failure ${c} is as it was.
 */
static int
chain_apply(struct cf_chain *c, const uint8_t *entry, size_t len,
    const struct cf_entry_view *v)
{
	struct cf_chain_epoch *cur = NULL;
	struct cf_chain_device *dev;
	struct cf_chain_epoch *ep;
	struct cf_chain_removal *rm;
	struct cf_chain_rk *rk;
	struct cf_drive_head *drives = NULL;
	uint8_t *copy = NULL, *name_box = NULL;
	uint8_t (*recip)[CF_ID_BYTES] = NULL;
	void *p;
	size_t need, i;
	uint64_t seq = v->h.seq;
	int adds_device, adds_epoch, adds_removal, adds_rk;
	int r = COFFER_ENOMEM;

	adds_device = v->h.type == CF_ENTRY_GENESIS || v->h.type == CF_ENTRY_ADD;
	adds_epoch = v->has_epoch;
	adds_removal = v->h.type == CF_ENTRY_REMOVE;
	adds_rk = v->h.type == CF_ENTRY_GENESIS || v->h.type == CF_ENTRY_SETRK;

	/* 1. Reserve.  A grown array keeps its contents, so a failure
	 * half-way leaves the state valid (only with some spare room). */
	need = (size_t)c->n + 1;
	if ((p = regrow(c->hash, c->cap_entries, need, sizeof(*c->hash))) == NULL)
		goto out;
	c->hash = p;
	if ((p = regrow(c->entry, c->cap_entries, need, sizeof(*c->entry))) == NULL)
		goto out;
	c->entry = p;
	if ((p = regrow(c->entry_len, c->cap_entries, need,
	    sizeof(*c->entry_len))) == NULL)
		goto out;
	c->entry_len = p;
	if ((p = regrow(c->entry_time, c->cap_entries, need,
	    sizeof(*c->entry_time))) == NULL)
		goto out;
	c->entry_time = p;
	if ((p = regrow(c->entry_type, c->cap_entries, need,
	    sizeof(*c->entry_type))) == NULL)
		goto out;
	c->entry_type = p;
	if ((p = regrow(c->entry_signer, c->cap_entries, need,
	    sizeof(*c->entry_signer))) == NULL)
		goto out;
	c->entry_signer = p;
	c->cap_entries = grown(c->cap_entries, need);
	if ((copy = dup_array(entry, len, 1)) == NULL)
		goto out;
	if (adds_device) {
		if ((p = regrow(c->devices, c->cap_devices, c->ndevices + 1,
		    sizeof(*c->devices))) == NULL)
			goto out;
		c->devices = p;
		c->cap_devices = grown(c->cap_devices, c->ndevices + 1);
		if ((name_box = dup_array(v->name_box, v->name_box_len, 1)) == NULL)
			goto out;
	}
	if (adds_epoch) {
		if ((p = regrow(c->epochs, c->cap_epochs, c->nepochs + 1,
		    sizeof(*c->epochs))) == NULL)
			goto out;
		c->epochs = p;
		c->cap_epochs = grown(c->cap_epochs, c->nepochs + 1);
		if ((recip = dup_array(v->ep.ids, v->ep.n, CF_ID_BYTES)) == NULL)
			goto out;
	} else if (v->h.type == CF_ENTRY_ADD) {
		/* The new device joins the current epoch's recipients. */
		cur = &c->epochs[c->nepochs - 1];
		if ((recip = dup_array(NULL, cur->nrecip + 1,
		    CF_ID_BYTES)) == NULL)
			goto out;
		memcpy(recip, cur->recip, cur->nrecip * CF_ID_BYTES);
		memcpy(recip[cur->nrecip], v->dev_id, CF_ID_BYTES);
	}
	if (adds_removal) {
		if ((p = regrow(c->removals, c->cap_removals, c->nremovals + 1,
		    sizeof(*c->removals))) == NULL)
			goto out;
		c->removals = p;
		c->cap_removals = grown(c->cap_removals, c->nremovals + 1);
		if ((drives = dup_array(NULL, v->ndrives, sizeof(*drives))) == NULL)
			goto out;
		for (i = 0; i < v->ndrives; i++) {
			const uint8_t *rec = v->drives + i * CF_DRIVE_REC_BYTES;

			memcpy(drives[i].drive_id, rec, CF_ID_BYTES);
			drives[i].version = cf_be64dec(rec + CF_ID_BYTES);
			memcpy(drives[i].commit_id, rec + CF_ID_BYTES + 8,
			    CF_ID_BYTES);
		}
	}
	if (adds_rk) {
		if ((p = regrow(c->rks, c->cap_rks, c->nrks + 1,
		    sizeof(*c->rks))) == NULL)
			goto out;
		c->rks = p;
		c->cap_rks = grown(c->cap_rks, c->nrks + 1);
	}

	/* 2. Apply: nothing below can fail. */
	if (v->h.type == CF_ENTRY_GENESIS)
		memcpy(c->account_id, v->h.account_id, CF_ID_BYTES);
	memcpy(c->hash[seq], v->hash, CF_ID_BYTES);
	c->entry[seq] = copy;
	copy = NULL;
	c->entry_len[seq] = len;
	c->entry_time[seq] = v->h.time;
	c->entry_type[seq] = v->h.type;
	memcpy(c->entry_signer[seq], v->h.signer_id, CF_ID_BYTES);

	if (adds_device) {
		dev = &c->devices[c->ndevices];
		memset(dev, 0, sizeof(*dev));
		memcpy(dev->id, v->dev_id, CF_ID_BYTES);
		memcpy(dev->sign_pk, v->sign_pk, CF_SIGN_PK_BYTES);
		memcpy(dev->box_pk, v->box_pk, CF_BOX_PK_BYTES);
		dev->added_seq = seq;
		memcpy(dev->added_by, v->h.signer_id, CF_ID_BYTES);
		dev->added_time = v->h.time;
		dev->name_epoch = v->name_epoch;
		dev->name_box = name_box;
		name_box = NULL;
		dev->name_box_len = v->name_box_len;
		c->ndevices++;
	}
	if (cur != NULL) {
		free(cur->recip);
		cur->recip = recip;
		recip = NULL;
		cur->nrecip++;
	}
	if (v->h.type == CF_ENTRY_REMOVE) {
		/* Verified: the device exists and is trusted. */
		for (i = 0; i < c->ndevices; i++) {
			dev = &c->devices[i];
			if (memcmp(dev->id, v->removed_id, CF_ID_BYTES) != 0)
				continue;
			dev->removed = 1;
			dev->removed_seq = seq;
			memcpy(dev->removed_by, v->h.signer_id, CF_ID_BYTES);
			dev->removed_time = v->h.time;
		}
		rm = &c->removals[c->nremovals];
		memset(rm, 0, sizeof(*rm));
		rm->seq = seq;
		memcpy(rm->removed_id, v->removed_id, CF_ID_BYTES);
		rm->ndrives = v->ndrives;
		rm->drives = drives;
		drives = NULL;	/* sorted: verified strictly increasing */
		c->nremovals++;
	}
	if (adds_rk) {
		rk = &c->rks[c->nrks];
		memset(rk, 0, sizeof(*rk));
		memcpy(rk->id, v->rk_id, CF_ID_BYTES);
		memcpy(rk->sign_pk, v->rk_sign_pk, CF_SIGN_PK_BYTES);
		memcpy(rk->box_pk, v->rk_box_pk, CF_BOX_PK_BYTES);
		rk->seq = seq;
		c->nrks++;
	}
	if (adds_epoch) {
		ep = &c->epochs[c->nepochs];
		memset(ep, 0, sizeof(*ep));
		ep->epoch = v->ep.epoch;
		ep->start_seq = seq;
		memcpy(ep->start_hash, v->hash, CF_ID_BYTES);
		memcpy(ep->signer, v->h.signer_id, CF_ID_BYTES);
		memcpy(ep->cmt, v->ep.cmt, CF_ID_BYTES);
		ep->nrecip = v->ep.n;
		ep->recip = recip;
		recip = NULL;
		c->nepochs++;
	}
	c->n++;
	r = 0;
out:
	free(copy);
	free(name_box);
	free(recip);
	free(drives);
	return r;
}

int
cf_chain_append(struct cf_chain *c, const uint8_t *entry, size_t len)
{
	struct cf_entry_view v;
	int r;

	if ((r = cf_chain_verify_entry(c, entry, len, &v)) != 0)
		goto out;
	r = chain_apply(c, entry, len, &v);
out:
	return r;
}

int
cf_chain_extend(struct cf_chain *c, const uint8_t *const *entries,
    const size_t *lens, size_t n, uint64_t first_seq)
{
	struct cf_chain *t = NULL;
	struct cf_chain swap;
	uint8_t h[CF_ID_BYTES];
	size_t i, have;
	int r = NOTAUTH;

	/* A gap before the first entry served, a chain longer than any
	 * chain may be, or one shorter than the pin (a rollback, or an
	 * older prefix served as current): refused. */
	if (first_seq > c->n || n > CF_CHAIN_MAX_ENTRIES ||
	    first_seq + n < c->n || first_seq + n == 0)
		goto out;
	if (n > 0 && (entries == NULL || lens == NULL))
		goto out;

	/* Entries we have pinned must be the pinned ones: no fork. */
	have = (size_t)(c->n - first_seq);
	for (i = 0; i < have; i++) {
		if (entries[i] == NULL || lens[i] > CF_ENTRY_MAX)
			goto out;
		cf_entry_hash(entries[i], lens[i], h);
		if (memcmp(h, c->hash[first_seq + i], CF_ID_BYTES) != 0)
			goto out;
	}
	if (have == n) {
		r = 0;
		goto out;
	}

	/* The rest must verify, each against the state before it; all or
	 * nothing. */
	if ((r = cf_chain_clone(c, &t)) != 0)
		goto out;
	for (i = have; i < n; i++)
		if ((r = cf_chain_append(t, entries[i], lens[i])) != 0)
			goto out;
	swap = *c;
	*c = *t;
	*t = swap;
	r = 0;
out:
	cf_chain_free(t);
	return r;
}

/* ---- Commits and heads (FORMAT §14.7) -------------------------------------- */

int
cf_chain_check_named_head(const struct cf_chain *c, uint64_t seq,
    const uint8_t head[static CF_ID_BYTES])
{
	if (seq >= c->n || memcmp(c->hash[seq], head, CF_ID_BYTES) != 0)
		return NOTAUTH;
	return 0;
}

/* The record for ${drive_id} in removal ${rm}, or NULL. */
static const struct cf_drive_head *
removal_record(const struct cf_chain_removal *rm,
    const uint8_t drive_id[static CF_ID_BYTES])
{
	size_t i;

	for (i = 0; i < rm->ndrives; i++)
		if (memcmp(rm->drives[i].drive_id, drive_id, CF_ID_BYTES) == 0)
			return &rm->drives[i];
	return NULL;
}

int
cf_chain_check_commit(const struct cf_chain *c,
    const uint8_t drive_id[static CF_ID_BYTES], uint64_t version,
    const uint8_t author_id[static CF_ID_BYTES], uint64_t chain_seq,
    const uint8_t chain_head[static CF_ID_BYTES], int has_parent,
    uint64_t parent_chain_seq, uint64_t sealed_epoch)
{
	const struct cf_chain_device *d;
	const struct cf_drive_head *rec;
	size_t i;
	int r = NOTAUTH;

	/* Versions start at 1 (FORMAT §13). */
	if (version == 0)
		goto out;
	/* The named head is in our chain, and not older than the parent's. */
	if (cf_chain_check_named_head(c, chain_seq, chain_head) != 0)
		goto out;
	if (has_parent && chain_seq < parent_chain_seq)
		goto out;
	/* The author was trusted there, and sealed under that epoch. */
	if (!cf_chain_trusted_at(c, author_id, chain_seq))
		goto out;
	if (sealed_epoch == 0 || sealed_epoch != cf_chain_epoch_at(c, chain_seq))
		goto out;
	/* A removed author: only on the line below the head the remover
	 * verified for this drive; none at all in a drive not recorded. */
	if ((d = cf_chain_device(c, author_id)) != NULL && d->removed) {
		for (i = 0; i < c->nremovals; i++)
			if (c->removals[i].seq == d->removed_seq)
				break;
		if (i == c->nremovals)
			goto out;
		rec = removal_record(&c->removals[i], drive_id);
		if (rec == NULL || version > rec->version)
			goto out;
	}
	r = 0;
out:
	return r;
}
