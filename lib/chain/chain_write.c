/*
 * Writing chain entries (FORMAT §14): genesis, add device, remove device,
 * rotate, set recovery key; proofs of possession; name boxes.
 *
 * Every entry written here is checked with cf_chain_verify_entry() against
 * the state it extends before it is handed out, so a writer never
 * publishes an entry that verifiers would refuse (COFFER_EINVAL then: the
 * caller's inputs did not fit the state).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"
#include "util/buf.h"
#include "chain.h"
#include "chain_internal.h"

_Static_assert(CF_NAME_NONCE_BYTES ==
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "name box nonce");
_Static_assert(CF_NAME_MAC_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES,
    "name box tag");
_Static_assert(CF_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
    "name box key");
_Static_assert(CF_SIG_BYTES == crypto_sign_BYTES, "signature size");

/* The AD of a name box: account_id || u64 epoch. */
#define NAME_AD_BYTES		(CF_ID_BYTES + 8)

int
cf_entry_encode(const struct cf_entry_hdr *h, const uint8_t *body,
    size_t bodylen, const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    uint8_t **entryp, size_t *lenp)
{
	struct cf_wr w;
	uint8_t sig[CF_SIG_BYTES];
	int r;

	*entryp = NULL;
	*lenp = 0;
	/* Room for forged oversized bodies too (the tests): a u32 length. */
	cf_wr_init(&w, CF_ENTRY_HDR_BYTES + 4 + (size_t)UINT32_MAX + CF_SIG_BYTES, 0);
	cf_wr_bytes(&w, CF_ENTRY_TAG, CF_TAG_BYTES);
	cf_wr_u8(&w, CF_ENTRY_VERSION);
	cf_wr_bytes(&w, h->account_id, CF_ID_BYTES);
	cf_wr_u64(&w, h->seq);
	cf_wr_bytes(&w, h->prev_hash, CF_ID_BYTES);
	cf_wr_u8(&w, h->type);
	cf_wr_bytes(&w, h->signer_id, CF_ID_BYTES);
	cf_wr_u64(&w, h->time);
	cf_wr_lstr(&w, body, bodylen);
	if ((r = w.err) != 0)
		goto out;
	if ((r = cf_sign_purpose(sign_sk, CF_LABEL_ENTRY, w.p, w.len,
	    sig)) != 0)
		goto out;
	cf_wr_bytes(&w, sig, CF_SIG_BYTES);
	r = cf_wr_finish(&w, entryp, lenp);
out:
	cf_wr_free(&w);
	return r;
}

void
cf_epoch_block_write(struct cf_wr *w, uint64_t epoch,
    const uint8_t cmt[static CF_ID_BYTES], const uint8_t (*ids)[CF_ID_BYTES],
    size_t n)
{
	size_t i;

	cf_wr_u64(w, epoch);
	cf_wr_bytes(w, cmt, CF_ID_BYTES);
	if (n > UINT32_MAX) {
		if (w->err == 0)
			w->err = COFFER_ETOOBIG;
		return;
	}
	cf_wr_u32(w, (uint32_t)n);
	for (i = 0; i < n; i++)
		cf_wr_bytes(w, ids[i], CF_ID_BYTES);
}

int
cf_rkreg_write(struct cf_wr *w, const uint8_t account_id[static CF_ID_BYTES],
    uint64_t seq, const struct cf_recovery_keys *rk)
{
	uint8_t msg[CF_RKREG_MSG_BYTES];
	uint8_t sig[CF_SIG_BYTES];
	int r;

	cf_rkreg_msg(account_id, seq, rk->sign_pk, rk->box_pk, msg);
	if ((r = cf_sign_purpose(rk->sign_sk, CF_LABEL_RKREG, msg, sizeof(msg),
	    sig)) != 0)
		goto out;
	cf_wr_bytes(w, rk->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(w, rk->box_pk, CF_BOX_PK_BYTES);
	cf_wr_bytes(w, sig, CF_SIG_BYTES);
	r = w->err;
out:
	return r;
}

void
cf_pop_sign(const struct cf_device_keys *dev,
    const uint8_t account_id[static CF_ID_BYTES], uint8_t pop[static CF_SIG_BYTES])
{
	uint8_t msg[CF_POP_MSG_BYTES];

	cf_pop_msg(account_id, dev->sign_pk, dev->box_pk, msg);
	/* A short message: signed from the stack, so this cannot fail. */
	if (cf_sign_purpose(dev->sign_sk, CF_LABEL_POP, msg, sizeof(msg),
	    pop) != 0)
		sodium_misuse();
}

/* ---- Name boxes ------------------------------------------------------------ */

/* The name box key H_Ke("coffer-name-v1") and AD account_id || u64 epoch. */
static void
name_key(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    uint8_t key[static CF_KEY_BYTES], uint8_t ad[static NAME_AD_BYTES])
{
	if (crypto_generichash(key, CF_KEY_BYTES,
	    (const uint8_t *)CF_LABEL_NAME, sizeof(CF_LABEL_NAME) - 1,
	    ke, CF_KEY_BYTES) != 0)
		sodium_misuse();
	memcpy(ad, account_id, CF_ID_BYTES);
	cf_be64enc(ad + CF_ID_BYTES, epoch);
}

int
cf_device_name_pad(const char *name, size_t namelen,
    uint8_t out[static CF_DEVICE_NAME_PADDED])
{
	memset(out, 0, CF_DEVICE_NAME_PADDED);
	/* 1 to 64 bytes, no NUL (FORMAT §14). */
	if (name == NULL || namelen == 0 || namelen > CF_DEVICE_NAME_MAX ||
	    memchr(name, '\0', namelen) != NULL)
		return COFFER_EINVAL;
	out[0] = (uint8_t)namelen;
	memcpy(out + 1, name, namelen);
	return 0;
}

int
cf_device_name_unpad(const uint8_t *plain, size_t len,
    char name[static CF_DEVICE_NAME_MAX + 1], size_t *namelenp)
{
	const uint8_t *p = plain;
	size_t n = len, i;
	uint8_t pad = 0;

	memset(name, 0, CF_DEVICE_NAME_MAX + 1);
	*namelenp = 0;
	if (plain == NULL)
		return COFFER_ENOTAUTHENTIC;
	if (len == CF_DEVICE_NAME_PADDED) {
		/* The padded form: u8 len || name || zeros. */
		n = plain[0];
		p = plain + 1;
		if (n > CF_DEVICE_NAME_MAX)
			return COFFER_ENOTAUTHENTIC;
		for (i = 1 + n; i < len; i++)
			pad |= plain[i];
		if (pad != 0)
			return COFFER_ENOTAUTHENTIC;
	}
	/* Either form: 1 to 64 bytes, no NUL. */
	if (n == 0 || n > CF_DEVICE_NAME_MAX || memchr(p, '\0', n) != NULL)
		return COFFER_ENOTAUTHENTIC;
	memcpy(name, p, n);
	*namelenp = n;
	return 0;
}

int
cf_name_box_seal(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    const char *name, size_t namelen, uint8_t **boxp, size_t *lenp)
{
	uint8_t key[CF_KEY_BYTES], ad[NAME_AD_BYTES];
	uint8_t plain[CF_DEVICE_NAME_PADDED];
	uint8_t *box = NULL;
	size_t len = CF_NAME_BOX_MAX;
	int r;

	*boxp = NULL;
	*lenp = 0;
	if ((r = cf_device_name_pad(name, namelen, plain)) != 0)
		goto out;
	if ((box = malloc(len)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	name_key(ke, account_id, epoch, key, ad);
	randombytes_buf(box, CF_NAME_NONCE_BYTES);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(box + CF_NAME_NONCE_BYTES,
	    NULL, plain, sizeof(plain), ad, sizeof(ad), NULL, box, key) != 0) {
		r = COFFER_EINTERNAL;
		goto out;
	}
	*boxp = box;
	*lenp = len;
	box = NULL;
	r = 0;
out:
	free(box);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(plain, sizeof(plain));
	return r;
}

int
cf_name_box_open(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    const uint8_t *box, size_t len, char **namep, size_t *namelenp)
{
	uint8_t key[CF_KEY_BYTES], ad[NAME_AD_BYTES];
	uint8_t plain[CF_DEVICE_NAME_PADDED];
	char text[CF_DEVICE_NAME_MAX + 1];
	char *name = NULL;
	size_t plen, namelen = 0;
	int r;

	*namep = NULL;
	*namelenp = 0;
	if (box == NULL || len < CF_NAME_BOX_MIN || len > CF_NAME_BOX_MAX) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	plen = len - CF_NAME_NONCE_BYTES - CF_NAME_MAC_BYTES;
	name_key(ke, account_id, epoch, key, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL,
	    NULL, box + CF_NAME_NONCE_BYTES, len - CF_NAME_NONCE_BYTES, ad,
	    sizeof(ad), box, key) != 0 ||
	    cf_device_name_unpad(plain, plen, text, &namelen) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((name = malloc(namelen + 1)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	memcpy(name, text, namelen + 1);
	*namep = name;
	*namelenp = namelen;
	name = NULL;
	r = 0;
out:
	free(name);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(plain, sizeof(plain));
	sodium_memzero(text, sizeof(text));
	return r;
}

/* ---- Entries --------------------------------------------------------------- */

/*
 * entry_finish(c, signer, type, time, body, entryp, lenp):
 * Head the body ${body} (consumed) as the next entry of ${c}, sign it as
 * ${signer}, and check that ${c} would accept it.  ${c} is NULL for a
 * genesis, whose header the caller fills in ${h}.
 */
static int
entry_finish(const struct cf_chain *c, struct cf_entry_hdr *h,
    const uint8_t sign_sk[static CF_SIGN_SK_BYTES], struct cf_wr *body,
    uint8_t **entryp, size_t *lenp)
{
	struct cf_chain *empty = NULL;
	struct cf_entry_view v;
	uint8_t *b = NULL, *e = NULL;
	size_t blen = 0, elen = 0;
	int r;

	*entryp = NULL;
	*lenp = 0;
	if ((r = cf_wr_finish(body, &b, &blen)) != 0)
		goto out;
	if (c == NULL) {
		if ((r = cf_chain_new(&empty)) != 0)
			goto out;
		c = empty;
	} else {
		memcpy(h->account_id, c->account_id, CF_ID_BYTES);
		h->seq = c->n;
		memcpy(h->prev_hash, c->hash[c->n - 1], CF_ID_BYTES);
		/* Times never go backwards along the chain (FORMAT §14). */
		if (h->time < c->entry_time[c->n - 1])
			h->time = c->entry_time[c->n - 1];
	}
	if ((r = cf_entry_encode(h, b, blen, sign_sk, &e, &elen)) != 0)
		goto out;
	/* Never hand out an entry the chain would refuse. */
	if ((r = cf_chain_verify_entry(c, e, elen, &v)) != 0) {
		r = (r == COFFER_ENOTAUTHENTIC) ? COFFER_EINVAL : r;
		goto out;
	}
	*entryp = e;
	*lenp = elen;
	e = NULL;
	r = 0;
out:
	free(b);
	free(e);
	cf_chain_free(empty);
	return r;
}

void
cf_chain_genesis_begin(const struct cf_device_keys *dev,
    uint8_t rand[static CF_GENESIS_RAND_BYTES],
    uint8_t account_id[static CF_ID_BYTES])
{
	randombytes_buf(rand, CF_GENESIS_RAND_BYTES);
	cf_chain_account_id(dev->sign_pk, dev->box_pk, rand, account_id);
}

int
cf_entry_genesis_rand(const struct cf_device_keys *dev,
    const uint8_t rand[static CF_GENESIS_RAND_BYTES], const char *name,
    size_t namelen, const struct cf_recovery_keys *rk, uint64_t time,
    uint8_t k1[static CF_KEY_BYTES], uint8_t **entryp, size_t *lenp)
{
	struct cf_entry_hdr h;
	struct cf_wr w;
	uint8_t rk_id[CF_ID_BYTES], cmt[CF_ID_BYTES];
	uint8_t ids[2][CF_ID_BYTES];
	uint8_t *box = NULL;
	size_t boxlen = 0;
	int r;

	*entryp = NULL;
	*lenp = 0;
	sodium_memzero(k1, CF_KEY_BYTES);
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	memset(&h, 0, sizeof(h));
	cf_chain_account_id(dev->sign_pk, dev->box_pk, rand, h.account_id);
	h.seq = 0;
	h.type = CF_ENTRY_GENESIS;
	memcpy(h.signer_id, dev->device_id, CF_ID_BYTES);
	h.time = time;

	/* Epoch 1: its key, commitment and recipients. */
	randombytes_buf(k1, CF_KEY_BYTES);
	cf_epoch_cmt(k1, h.account_id, 1, cmt);
	cf_device_id(rk->sign_pk, rk->box_pk, rk_id);
	cf_chain_epoch1_ids(dev->device_id, rk_id, ids);
	if ((r = cf_name_box_seal(k1, h.account_id, 1, name, namelen, &box,
	    &boxlen)) != 0)
		goto out;

	cf_wr_bytes(&w, dev->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(&w, dev->box_pk, CF_BOX_PK_BYTES);
	cf_wr_bytes(&w, rand, CF_GENESIS_RAND_BYTES);
	cf_wr_lstr(&w, box, boxlen);
	if ((r = cf_rkreg_write(&w, h.account_id, 0, rk)) != 0)
		goto out;
	cf_epoch_block_write(&w, 1, cmt, (const uint8_t (*)[CF_ID_BYTES])ids, 2);
	r = entry_finish(NULL, &h, dev->sign_sk, &w, entryp, lenp);
out:
	if (r != 0)
		sodium_memzero(k1, CF_KEY_BYTES);
	cf_wr_free(&w);
	free(box);
	return r;
}

int
cf_entry_genesis(const struct cf_device_keys *dev, const char *name,
    size_t namelen, const struct cf_recovery_keys *rk, uint64_t time,
    uint8_t k1[static CF_KEY_BYTES], uint8_t account_id[static CF_ID_BYTES],
    uint8_t **entryp, size_t *lenp)
{
	uint8_t rand[CF_GENESIS_RAND_BYTES];
	uint8_t acct[CF_ID_BYTES];
	int r;

	memset(account_id, 0, CF_ID_BYTES);
	cf_chain_genesis_begin(dev, rand, acct);
	if ((r = cf_entry_genesis_rand(dev, rand, name, namelen, rk, time, k1,
	    entryp, lenp)) != 0)
		goto out;
	memcpy(account_id, acct, CF_ID_BYTES);
out:
	return r;
}

/* The state must have a genesis; the signer signs the next entry. */
static int
writable(const struct cf_chain *c, const struct cf_signer *signer)
{
	if (c == NULL || c->n == 0 || c->nepochs == 0 || signer == NULL ||
	    signer->sign_sk == NULL)
		return COFFER_EINVAL;
	return 0;
}

static void
hdr_init(struct cf_entry_hdr *h, uint8_t type,
    const struct cf_signer *signer, uint64_t time)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	memcpy(h->signer_id, signer->id, CF_ID_BYTES);
	h->time = time;
}

int
cf_entry_add(const struct cf_chain *c, const struct cf_signer *signer,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES],
    const uint8_t pop[static CF_SIG_BYTES], const char *name, size_t namelen,
    const uint8_t ke[static CF_KEY_BYTES], uint64_t time, uint8_t **entryp,
    size_t *lenp)
{
	struct cf_entry_hdr h;
	struct cf_wr w;
	uint8_t *box = NULL;
	size_t boxlen = 0;
	uint64_t epoch;
	int r;

	*entryp = NULL;
	*lenp = 0;
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	if ((r = writable(c, signer)) != 0)
		goto out;
	epoch = (uint64_t)c->nepochs;
	/* The name box goes under the current epoch's key: that one. */
	if (cf_chain_check_epoch_key(c, epoch, ke) != 0) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((r = cf_name_box_seal(ke, c->account_id, epoch, name, namelen, &box,
	    &boxlen)) != 0)
		goto out;
	hdr_init(&h, CF_ENTRY_ADD, signer, time);
	cf_wr_bytes(&w, sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(&w, box_pk, CF_BOX_PK_BYTES);
	cf_wr_u64(&w, epoch);
	cf_wr_lstr(&w, box, boxlen);
	cf_wr_bytes(&w, pop, CF_SIG_BYTES);
	r = entry_finish(c, &h, signer->sign_sk, &w, entryp, lenp);
out:
	cf_wr_free(&w);
	free(box);
	return r;
}

/*
 * new_epoch(c, removed_id, rk_id, knew, w):
 * Draw the next epoch's key into ${knew} and write its epoch block: the
 * recipients are the trusted devices but ${removed_id} and the recovery
 * key ${rk_id} (NULL: the current one).
 */
static int
new_epoch(const struct cf_chain *c, const uint8_t *removed_id,
    const uint8_t *rk_id, uint8_t knew[static CF_KEY_BYTES], struct cf_wr *w)
{
	uint8_t (*ids)[CF_ID_BYTES] = NULL;
	uint8_t cmt[CF_ID_BYTES];
	uint64_t epoch = (uint64_t)c->nepochs + 1;
	size_t n;
	int r;

	if ((r = cf_chain_next_recipients(c, removed_id, rk_id, &ids, &n)) != 0)
		goto out;
	randombytes_buf(knew, CF_KEY_BYTES);
	cf_epoch_cmt(knew, c->account_id, epoch, cmt);
	cf_epoch_block_write(w, epoch, cmt, (const uint8_t (*)[CF_ID_BYTES])ids, n);
	r = w->err;
out:
	free(ids);
	return r;
}

static int
cmp_head(const void *a, const void *b)
{
	return memcmp(((const struct cf_drive_head *)a)->drive_id,
	    ((const struct cf_drive_head *)b)->drive_id, CF_ID_BYTES);
}

int
cf_entry_remove(const struct cf_chain *c, const struct cf_signer *signer,
    const uint8_t removed_id[static CF_ID_BYTES],
    const struct cf_drive_head *heads, size_t n, uint64_t time,
    uint8_t knew[static CF_KEY_BYTES], uint8_t **entryp, size_t *lenp)
{
	struct cf_drive_head *sorted = NULL;
	struct cf_entry_hdr h;
	struct cf_wr w;
	size_t i;
	int r;

	*entryp = NULL;
	*lenp = 0;
	sodium_memzero(knew, CF_KEY_BYTES);
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	if ((r = writable(c, signer)) != 0)
		goto out;
	if (n > CF_CHAIN_DRIVES_MAX || (n > 0 && heads == NULL)) {
		r = COFFER_EINVAL;
		goto out;
	}
	/* Drive records sorted by id (duplicates are then refused by the
	 * self-check: ids must be strictly increasing). */
	if ((sorted = calloc(n == 0 ? 1 : n, sizeof(*sorted))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (n > 0) {
		memcpy(sorted, heads, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_head);
	}
	hdr_init(&h, CF_ENTRY_REMOVE, signer, time);
	cf_wr_bytes(&w, removed_id, CF_ID_BYTES);
	cf_wr_u32(&w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		cf_wr_bytes(&w, sorted[i].drive_id, CF_ID_BYTES);
		cf_wr_u64(&w, sorted[i].version);
		cf_wr_bytes(&w, sorted[i].commit_id, CF_ID_BYTES);
	}
	if ((r = new_epoch(c, removed_id, NULL, knew, &w)) != 0)
		goto out;
	r = entry_finish(c, &h, signer->sign_sk, &w, entryp, lenp);
out:
	if (r != 0)
		sodium_memzero(knew, CF_KEY_BYTES);
	cf_wr_free(&w);
	free(sorted);
	return r;
}

int
cf_entry_rotate(const struct cf_chain *c, const struct cf_signer *signer,
    uint64_t time, uint8_t knew[static CF_KEY_BYTES], uint8_t **entryp,
    size_t *lenp)
{
	struct cf_entry_hdr h;
	struct cf_wr w;
	int r;

	*entryp = NULL;
	*lenp = 0;
	sodium_memzero(knew, CF_KEY_BYTES);
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	if ((r = writable(c, signer)) != 0)
		goto out;
	hdr_init(&h, CF_ENTRY_ROTATE, signer, time);
	if ((r = new_epoch(c, NULL, NULL, knew, &w)) != 0)
		goto out;
	r = entry_finish(c, &h, signer->sign_sk, &w, entryp, lenp);
out:
	if (r != 0)
		sodium_memzero(knew, CF_KEY_BYTES);
	cf_wr_free(&w);
	return r;
}

int
cf_entry_set_rk(const struct cf_chain *c, const struct cf_signer *signer,
    const struct cf_recovery_keys *rk, uint64_t time,
    uint8_t knew[static CF_KEY_BYTES], uint8_t **entryp, size_t *lenp)
{
	struct cf_entry_hdr h;
	struct cf_wr w;
	uint8_t rk_id[CF_ID_BYTES];
	int r;

	*entryp = NULL;
	*lenp = 0;
	sodium_memzero(knew, CF_KEY_BYTES);
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	if ((r = writable(c, signer)) != 0 || rk == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	hdr_init(&h, CF_ENTRY_SETRK, signer, time);
	cf_device_id(rk->sign_pk, rk->box_pk, rk_id);
	/* rk_sig covers this entry's own seq. */
	if ((r = cf_rkreg_write(&w, c->account_id, c->n, rk)) != 0)
		goto out;
	if ((r = new_epoch(c, NULL, rk_id, knew, &w)) != 0)
		goto out;
	r = entry_finish(c, &h, signer->sign_sk, &w, entryp, lenp);
out:
	if (r != 0)
		sodium_memzero(knew, CF_KEY_BYTES);
	cf_wr_free(&w);
	return r;
}
