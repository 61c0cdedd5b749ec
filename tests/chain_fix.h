/*
 * A small account for the chain and envelope tests: real device keys, a
 * real recovery key derived for the account, the verified chain, every
 * entry written so far and every epoch key.  Forging helpers re-sign
 * modified entries with the real key of the signer, so that a test's
 * refusal can only come from the one rule it breaks.
 */
#ifndef TESTS_CHAIN_FIX_H
#define TESTS_CHAIN_FIX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chain/chain.h"
#include "chain/chain_internal.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"
#include "util/buf.h"
#include "t.h"

#define FIX_NDEV	6	/* devices A..F; who is added is up to the test */
#define FIX_NRK		3	/* recovery keys: the first is registered at genesis */
#define FIX_MAXN	64	/* entries */
#define FIX_T0		1700000000ULL

/* Byte offsets in an entry (FORMAT §14). */
#define OFF_TAG		0
#define OFF_VERSION	4
#define OFF_ACCOUNT	5
#define OFF_SEQ		37
#define OFF_PREV	45
#define OFF_TYPE	77
#define OFF_SIGNER	78
#define OFF_TIME	110
#define OFF_BODYLEN	118
#define OFF_BODY	122

enum { A, B, C, D, E, F };

struct fix {
	struct cf_device_keys *dev[FIX_NDEV];
	struct cf_recovery_keys rk[FIX_NRK];
	uint8_t rk_id[FIX_NRK][CF_ID_BYTES];
	struct cf_chain *c;
	uint8_t account_id[CF_ID_BYTES];
	uint8_t (*keys)[CF_KEY_BYTES];		/* sodium_malloc'd; epoch e at e - 1 */
	uint64_t nkeys;
	uint8_t *entry[FIX_MAXN];
	size_t len[FIX_MAXN];
	size_t n;
	uint64_t time;
};

static inline void
fix_die(const char *what)
{
	fprintf(stderr, "fixture: %s\n", what);
	abort();
}

static inline struct cf_signer
fix_signer(const struct fix *f, int who)
{
	struct cf_signer s;

	memcpy(s.id, f->dev[who]->device_id, CF_ID_BYTES);
	s.sign_sk = f->dev[who]->sign_sk;
	return s;
}

static inline struct cf_signer
fix_rk_signer(const struct fix *f, int k)
{
	struct cf_signer s;

	memcpy(s.id, f->rk_id[k], CF_ID_BYTES);
	s.sign_sk = f->rk[k].sign_sk;
	return s;
}

/* Keep an entry the chain accepted. */
static inline void
fix_keep(struct fix *f, uint8_t *e, size_t len)
{
	if (f->n == FIX_MAXN)
		fix_die("too many entries");
	f->entry[f->n] = e;
	f->len[f->n] = len;
	f->n++;
}

static inline void
fix_new_key(struct fix *f, const uint8_t k[static CF_KEY_BYTES])
{
	uint8_t (*nk)[CF_KEY_BYTES] = sodium_malloc((size_t)(f->nkeys + 1) *
	    CF_KEY_BYTES);

	if (nk == NULL)
		fix_die("sodium_malloc");
	if (f->nkeys > 0)
		memcpy(nk, f->keys, (size_t)f->nkeys * CF_KEY_BYTES);
	memcpy(nk[f->nkeys], k, CF_KEY_BYTES);
	if (f->keys != NULL)
		sodium_free(f->keys);
	f->keys = nk;
	f->nkeys++;
}

/* Append ${e} (must be accepted) and keep it. */
static inline void
fix_push(struct fix *f, uint8_t *e, size_t len)
{
	int r;

	if ((r = cf_chain_append(f->c, e, len)) != 0) {
		fprintf(stderr, "fixture: append refused: %d\n", r);
		abort();
	}
	fix_keep(f, e, len);
}

/*
 * fix_init(f):
 * Devices A..F and recovery keys 0..2; a chain with A's genesis
 * registering recovery key 0, derived for the account (FORMAT §5).
 */
static inline void
fix_init(struct fix *f)
{
	uint8_t secret[CF_RECOVERY_SECRET_BYTES];
	uint8_t rand[CF_GENESIS_RAND_BYTES];
	uint8_t k1[CF_KEY_BYTES];
	uint8_t *e = NULL;
	size_t len = 0;
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < FIX_NDEV; i++)
		if (cf_keys_generate(&f->dev[i]) != 0)
			fix_die("keys");
	cf_chain_genesis_begin(f->dev[A], rand, f->account_id);
	for (i = 0; i < FIX_NRK; i++) {
		randombytes_buf(secret, sizeof(secret));
		if (cf_recovery_derive(secret, f->account_id, &f->rk[i]) != 0)
			fix_die("recovery");
		cf_device_id(f->rk[i].sign_pk, f->rk[i].box_pk, f->rk_id[i]);
	}
	f->time = FIX_T0;
	if (cf_entry_genesis_rand(f->dev[A], rand, "laptop A", 8, &f->rk[0],
	    f->time, k1, &e, &len) != 0)
		fix_die("genesis");
	if (cf_chain_new(&f->c) != 0)
		fix_die("chain");
	fix_push(f, e, len);
	fix_new_key(f, k1);
	sodium_memzero(k1, sizeof(k1));
}

static inline void
fix_free(struct fix *f)
{
	size_t i;

	for (i = 0; i < FIX_NDEV; i++)
		cf_keys_free(f->dev[i]);
	for (i = 0; i < f->n; i++)
		free(f->entry[i]);
	cf_chain_free(f->c);
	if (f->keys != NULL)
		sodium_free(f->keys);
	sodium_memzero(f->rk, sizeof(f->rk));
}

/* The add-device entry for device ${who}, signed by ${s} (not appended). */
static inline int
fix_add_entry(struct fix *f, const struct cf_signer *s, int who, uint8_t **ep,
    size_t *lenp)
{
	uint8_t pop[CF_SIG_BYTES];

	cf_pop_sign(f->dev[who], f->account_id, pop);
	return cf_entry_add(f->c, s, f->dev[who]->sign_pk, f->dev[who]->box_pk,
	    pop, "device", 6, f->keys[f->nkeys - 1], ++f->time, ep, lenp);
}

static inline void
fix_add(struct fix *f, int by, int who)
{
	struct cf_signer s = fix_signer(f, by);
	uint8_t *e;
	size_t len;

	if (fix_add_entry(f, &s, who, &e, &len) != 0)
		fix_die("add");
	fix_push(f, e, len);
}

static inline void
fix_rotate(struct fix *f, int by)
{
	struct cf_signer s = fix_signer(f, by);
	uint8_t k[CF_KEY_BYTES];
	uint8_t *e;
	size_t len;

	if (cf_entry_rotate(f->c, &s, ++f->time, k, &e, &len) != 0)
		fix_die("rotate");
	fix_push(f, e, len);
	fix_new_key(f, k);
}

static inline void
fix_remove(struct fix *f, int by, int who, const struct cf_drive_head *heads,
    size_t n)
{
	struct cf_signer s = fix_signer(f, by);
	uint8_t k[CF_KEY_BYTES];
	uint8_t *e;
	size_t len;

	if (cf_entry_remove(f->c, &s, f->dev[who]->device_id, heads, n,
	    ++f->time, k, &e, &len) != 0)
		fix_die("remove");
	fix_push(f, e, len);
	fix_new_key(f, k);
}

static inline void
fix_setrk(struct fix *f, int by, int k_idx)
{
	struct cf_signer s = fix_signer(f, by);
	uint8_t k[CF_KEY_BYTES];
	uint8_t *e;
	size_t len;

	if (cf_entry_set_rk(f->c, &s, &f->rk[k_idx], ++f->time, k, &e, &len) != 0)
		fix_die("set rk");
	fix_push(f, e, len);
	fix_new_key(f, k);
}

/* ---- Forging ---------------------------------------------------------------- */

static inline uint8_t *
fix_dup(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n == 0 ? 1 : n);

	if (q == NULL)
		fix_die("malloc");
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

/* Re-sign an entry in place with ${sk} (purpose "coffer-entry-v1"). */
static inline void
fix_resign(uint8_t *e, size_t len, const uint8_t *sk)
{
	if (cf_sign_purpose(sk, CF_LABEL_ENTRY, e, len - CF_SIG_BYTES,
	    e + len - CF_SIG_BYTES) != 0)
		fix_die("sign");
}

/* The header of the next entry of ${f}, signed by ${signer_id}. */
static inline struct cf_entry_hdr
fix_hdr(struct fix *f, uint8_t type, const uint8_t *signer_id)
{
	struct cf_entry_hdr h;

	memset(&h, 0, sizeof(h));
	memcpy(h.account_id, f->c->account_id, CF_ID_BYTES);
	h.seq = f->c->n;
	memcpy(h.prev_hash, f->c->hash[f->c->n - 1], CF_ID_BYTES);
	h.type = type;
	memcpy(h.signer_id, signer_id, CF_ID_BYTES);
	h.time = ++f->time;
	return h;
}

/* Encode a forged entry: header ${h}, the bytes of writer ${w} as body. */
static inline uint8_t *
fix_forge(const struct cf_entry_hdr *h, struct cf_wr *w, const uint8_t *sk,
    size_t *lenp)
{
	uint8_t *b, *e;
	size_t blen;

	if (cf_wr_finish(w, &b, &blen) != 0)
		fix_die("writer");
	if (cf_entry_encode(h, b, blen, sk, &e, lenp) != 0)
		fix_die("encode");
	free(b);
	return e;
}

/* Ids, sorted. */
static inline int
fix_idcmp(const void *a, const void *b)
{
	return memcmp(a, b, CF_ID_BYTES);
}

static inline void
fix_sort_ids(uint8_t (*ids)[CF_ID_BYTES], size_t n)
{
	qsort(ids, n, CF_ID_BYTES, fix_idcmp);
}

/*
 * fix_try(c, e, len):
 * What appending ${e} to a copy of ${c} returns (${c} untouched).
 */
static inline int
fix_try(const struct cf_chain *c, const uint8_t *e, size_t len)
{
	struct cf_chain *t;
	int r;

	if (cf_chain_clone(c, &t) != 0)
		fix_die("clone");
	r = cf_chain_append(t, e, len);
	cf_chain_free(t);
	return r;
}

#endif
