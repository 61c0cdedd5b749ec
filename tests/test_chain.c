/*
 * The device chain (FORMAT §14): every rule has a case whose malicious
 * entry is built and signed with the real keys of whoever could have
 * signed it, next to a control built the same way with the rule kept, so
 * that the refusal can only come from the rule under test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chain/chain.h"
#include "chain/chain_internal.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"
#include "util/buf.h"
#include "chain_fix.h"
#include "t.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
#define RK(k)		(0x100 | (k))	/* a recipient: recovery key k */
#define MAXIDS		16

/* ${e} is refused, ${c} keeps its length and head; ${e} is freed. */
#define REFUSED(c, e, len) do {						\
	uint64_t n_ = (c)->n;						\
	uint8_t h_[CF_ID_BYTES];					\
	memcpy(h_, (c)->hash[n_ - 1], CF_ID_BYTES);			\
	CHECK_RC(cf_chain_append((c), (e), (len)), NOTAUTH);		\
	CHECK((c)->n == n_);						\
	CHECK(memcmp((c)->hash[n_ - 1], h_, CF_ID_BYTES) == 0);		\
	free(e);							\
} while (0)

/* ${e} would be accepted (tried on a copy); ${e} is freed. */
#define ACCEPTED(c, e, len) do {					\
	CHECK_RC(fix_try((c), (e), (len)), 0);				\
	free(e);							\
} while (0)

/*
 * ids_of(f, who, n, ids):
 * The ids of the ${n} recipients ${who} (device indices, or RK(k)), sorted.
 */
static size_t
ids_of(const struct fix *f, const int *who, size_t n,
    uint8_t ids[MAXIDS][CF_ID_BYTES])
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (who[i] & 0x100)
			memcpy(ids[i], f->rk_id[who[i] & 0xff], CF_ID_BYTES);
		else
			memcpy(ids[i], f->dev[who[i]]->device_id, CF_ID_BYTES);
	}
	fix_sort_ids(ids, n);
	return n;
}

static void
rand_cmt(uint8_t cmt[CF_ID_BYTES])
{
	randombytes_buf(cmt, CF_ID_BYTES);
}

/* ---- Forged entries of each type ------------------------------------------- */

/* A rotate entry with the epoch block given, signed by ${signer_id}/${sk}. */
static uint8_t *
forge_rotate(struct fix *f, const uint8_t *signer_id, const uint8_t *sk,
    uint64_t epoch, const int *who, size_t nwho, size_t *lenp)
{
	struct cf_entry_hdr h = fix_hdr(f, CF_ENTRY_ROTATE, signer_id);
	uint8_t ids[MAXIDS][CF_ID_BYTES], cmt[CF_ID_BYTES];
	struct cf_wr w;
	size_t n = ids_of(f, who, nwho, ids);

	rand_cmt(cmt);
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	cf_epoch_block_write(&w, epoch, cmt, (const uint8_t (*)[CF_ID_BYTES])ids, n);
	return fix_forge(&h, &w, sk, lenp);
}

/* An add-device entry for ${who} (keys ${sk_new}: the pop signer). */
static uint8_t *
forge_add(struct fix *f, const uint8_t *signer_id, const uint8_t *sk,
    const struct cf_device_keys *newdev, const uint8_t *pop_sk,
    const uint8_t *pop_account, uint64_t epoch, size_t *lenp)
{
	struct cf_entry_hdr h = fix_hdr(f, CF_ENTRY_ADD, signer_id);
	uint8_t msg[CF_POP_MSG_BYTES], pop[CF_SIG_BYTES];
	uint8_t *box;
	size_t boxlen;
	struct cf_wr w;

	cf_pop_msg(pop_account ? pop_account : f->account_id, newdev->sign_pk,
	    newdev->box_pk, msg);
	if (cf_sign_purpose(pop_sk ? pop_sk : newdev->sign_sk, CF_LABEL_POP,
	    msg, sizeof(msg), pop) != 0)
		fix_die("pop");
	if (cf_name_box_seal(f->keys[f->nkeys - 1], f->account_id, f->nkeys,
	    "ghost", 5, &box, &boxlen) != 0)
		fix_die("name box");
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	cf_wr_bytes(&w, newdev->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(&w, newdev->box_pk, CF_BOX_PK_BYTES);
	cf_wr_u64(&w, epoch);
	cf_wr_lstr(&w, box, boxlen);
	cf_wr_bytes(&w, pop, CF_SIG_BYTES);
	free(box);
	return fix_forge(&h, &w, sk, lenp);
}

/* A remove entry: ${recs} drive records as given (not sorted here). */
static uint8_t *
forge_remove(struct fix *f, int by, const uint8_t *removed_id,
    const struct cf_drive_head *recs, size_t nrecs, uint32_t nclaim,
    uint64_t epoch, const int *who, size_t nwho, size_t *lenp)
{
	struct cf_entry_hdr h = fix_hdr(f, CF_ENTRY_REMOVE, f->dev[by]->device_id);
	uint8_t ids[MAXIDS][CF_ID_BYTES], cmt[CF_ID_BYTES];
	struct cf_wr w;
	size_t i, n = ids_of(f, who, nwho, ids);

	rand_cmt(cmt);
	cf_wr_init(&w, CF_ENTRY_BODY_MAX + 1024, 0);
	cf_wr_bytes(&w, removed_id, CF_ID_BYTES);
	cf_wr_u32(&w, nclaim);
	for (i = 0; i < nrecs; i++) {
		cf_wr_bytes(&w, recs[i].drive_id, CF_ID_BYTES);
		cf_wr_u64(&w, recs[i].version);
		cf_wr_bytes(&w, recs[i].commit_id, CF_ID_BYTES);
	}
	cf_epoch_block_write(&w, epoch, cmt, (const uint8_t (*)[CF_ID_BYTES])ids, n);
	return fix_forge(&h, &w, f->dev[by]->sign_sk, lenp);
}

/* A set-recovery-key entry registering ${rk}, its rk_sig by ${rk_sig_sk} over ${rk_seq}. */
static uint8_t *
forge_setrk(struct fix *f, const uint8_t *signer_id, const uint8_t *sk,
    const struct cf_recovery_keys *rk, const uint8_t *rk_sig_sk,
    uint64_t rk_seq, uint64_t epoch, const int *who, size_t nwho, size_t *lenp)
{
	struct cf_entry_hdr h = fix_hdr(f, CF_ENTRY_SETRK, signer_id);
	uint8_t ids[MAXIDS][CF_ID_BYTES], cmt[CF_ID_BYTES];
	uint8_t msg[CF_RKREG_MSG_BYTES], sig[CF_SIG_BYTES];
	struct cf_wr w;
	size_t n = ids_of(f, who, nwho, ids);

	rand_cmt(cmt);
	cf_rkreg_msg(f->account_id, rk_seq, rk->sign_pk, rk->box_pk, msg);
	if (cf_sign_purpose(rk_sig_sk, CF_LABEL_RKREG, msg, sizeof(msg),
	    sig) != 0)
		fix_die("rk sig");
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	cf_wr_bytes(&w, rk->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(&w, rk->box_pk, CF_BOX_PK_BYTES);
	cf_wr_bytes(&w, sig, CF_SIG_BYTES);
	cf_epoch_block_write(&w, epoch, cmt, (const uint8_t (*)[CF_ID_BYTES])ids, n);
	return fix_forge(&h, &w, sk, lenp);
}

/* Genesis forging: every choice a field; gen_default() is an honest one. */
struct gen {
	const struct cf_device_keys *dev;	/* keys in the body */
	const uint8_t *signer_id;		/* header's signer id */
	const uint8_t *sign_sk;			/* signs the entry */
	int bad_account;			/* header account id not the recomputed one */
	const struct cf_recovery_keys *rk;
	const uint8_t *rk_sig_sk;
	uint64_t rk_seq;
	uint64_t epoch;
	int recip;				/* 0 exact, 1 no rk, 2 extra, 3 unsorted, 4 only device */
	const uint8_t *extra_id;
	uint8_t type;
	uint64_t seq;
};

static void
gen_default(struct fix *f, struct gen *g)
{
	memset(g, 0, sizeof(*g));
	g->dev = f->dev[A];
	g->signer_id = f->dev[A]->device_id;
	g->sign_sk = f->dev[A]->sign_sk;
	g->rk = &f->rk[0];
	g->rk_sig_sk = f->rk[0].sign_sk;
	g->epoch = 1;
	g->type = CF_ENTRY_GENESIS;
	g->extra_id = f->dev[B]->device_id;
}

static uint8_t *
forge_genesis(const struct gen *g, size_t *lenp)
{
	struct cf_entry_hdr h;
	uint8_t rand[CF_GENESIS_RAND_BYTES], k1[CF_KEY_BYTES], cmt[CF_ID_BYTES];
	uint8_t msg[CF_RKREG_MSG_BYTES], sig[CF_SIG_BYTES], rk_id[CF_ID_BYTES];
	uint8_t ids[3][CF_ID_BYTES], tmp[CF_ID_BYTES];
	uint8_t *box;
	size_t boxlen, n = 2;
	struct cf_wr w;

	randombytes_buf(rand, sizeof(rand));
	randombytes_buf(k1, sizeof(k1));
	memset(&h, 0, sizeof(h));
	cf_chain_account_id(g->dev->sign_pk, g->dev->box_pk, rand,
	    h.account_id);
	if (g->bad_account)
		h.account_id[0] ^= 1;
	h.seq = g->seq;
	h.type = g->type;
	memcpy(h.signer_id, g->signer_id, CF_ID_BYTES);
	h.time = FIX_T0;
	cf_epoch_cmt(k1, h.account_id, g->epoch, cmt);
	if (cf_name_box_seal(k1, h.account_id, 1, "A", 1, &box, &boxlen) != 0)
		fix_die("name box");
	cf_rkreg_msg(h.account_id, g->rk_seq, g->rk->sign_pk, g->rk->box_pk, msg);
	if (cf_sign_purpose(g->rk_sig_sk, CF_LABEL_RKREG, msg, sizeof(msg),
	    sig) != 0)
		fix_die("rk sig");
	cf_device_id(g->rk->sign_pk, g->rk->box_pk, rk_id);
	memcpy(ids[0], g->dev->device_id, CF_ID_BYTES);
	memcpy(ids[1], rk_id, CF_ID_BYTES);
	memcpy(ids[2], g->extra_id, CF_ID_BYTES);
	if (g->recip == 2)
		n = 3;
	if (g->recip == 1 || g->recip == 4)
		n = 1;
	fix_sort_ids(ids, n);
	if (g->recip == 3) {
		memcpy(tmp, ids[0], CF_ID_BYTES);
		memcpy(ids[0], ids[1], CF_ID_BYTES);
		memcpy(ids[1], tmp, CF_ID_BYTES);
	}
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	cf_wr_bytes(&w, g->dev->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(&w, g->dev->box_pk, CF_BOX_PK_BYTES);
	cf_wr_bytes(&w, rand, sizeof(rand));
	cf_wr_lstr(&w, box, boxlen);
	cf_wr_bytes(&w, g->rk->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(&w, g->rk->box_pk, CF_BOX_PK_BYTES);
	cf_wr_bytes(&w, sig, CF_SIG_BYTES);
	cf_epoch_block_write(&w, g->epoch, cmt, (const uint8_t (*)[CF_ID_BYTES])ids, n);
	free(box);
	return fix_forge(&h, &w, g->sign_sk, lenp);
}

/* ---- Genesis ------------------------------------------------------------------ */

static void
genesis_honest(void)
{
	struct fix f;
	const struct cf_chain_epoch *ep;
	const struct cf_chain_rk *rk;
	const struct cf_chain_device *d;
	char *name = NULL;
	size_t namelen = 0;

	fix_init(&f);
	CHECK(f.c->n == 1);
	CHECK(memcmp(f.c->account_id, f.account_id, CF_ID_BYTES) == 0);
	CHECK(f.c->ndevices == 1 && cf_chain_ntrusted(f.c) == 1);
	CHECK((d = cf_chain_device(f.c, f.dev[A]->device_id)) != NULL);
	CHECK(cf_chain_trusted_at(f.c, f.dev[A]->device_id, 0) == 1);
	CHECK((ep = cf_chain_current_epoch(f.c)) != NULL && ep->epoch == 1 &&
	    ep->nrecip == 2 && ep->start_seq == 0);
	CHECK((rk = cf_chain_current_rk(f.c)) != NULL &&
	    memcmp(rk->id, f.rk_id[0], CF_ID_BYTES) == 0);
	CHECK(cf_chain_epoch_at(f.c, 0) == 1 && cf_chain_epoch_at(f.c, 1) == 0);
	CHECK_RC(cf_chain_check_epoch_key(f.c, 1, f.keys[0]), 0);
	if (d != NULL) {
		CHECK_RC(cf_name_box_open(f.keys[0], f.account_id, d->name_epoch,
		    d->name_box, d->name_box_len, &name, &namelen), 0);
		CHECK(name != NULL && namelen == 8 && strcmp(name, "laptop A") == 0);
		free(name);
	}
	fix_free(&f);
}

/* The forging machinery makes an acceptable genesis when no rule is broken. */
static void
genesis_forged_control(void)
{
	struct fix f;
	struct cf_chain *c;
	struct gen g;
	uint8_t *e;
	size_t len;

	fix_init(&f);
	CHECK_RC(cf_chain_new(&c), 0);
	gen_default(&f, &g);
	e = forge_genesis(&g, &len);
	ACCEPTED(c, e, len);
	cf_chain_free(c);
	fix_free(&f);
}

static void
genesis_account_id_recomputed(void)
{
	struct fix f;
	struct cf_chain *c;
	struct gen g;
	uint8_t *e;
	size_t len;

	fix_init(&f);
	CHECK_RC(cf_chain_new(&c), 0);
	gen_default(&f, &g);
	g.bad_account = 1;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	CHECK(c->n == 0);
	free(e);
	cf_chain_free(c);
	fix_free(&f);
}

static void
genesis_signer_recomputed(void)
{
	struct fix f;
	struct cf_chain *c;
	struct gen g;
	uint8_t *e;
	size_t len;

	fix_init(&f);
	CHECK_RC(cf_chain_new(&c), 0);
	/* Body keys A, header names B and B really signs. */
	gen_default(&f, &g);
	g.signer_id = f.dev[B]->device_id;
	g.sign_sk = f.dev[B]->sign_sk;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	free(e);
	/* Body keys A, header names A, but B signs. */
	gen_default(&f, &g);
	g.sign_sk = f.dev[B]->sign_sk;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	free(e);
	/* Body keys A and A signs, but the header names B: the id is
	 * recomputed from the body's keys, never taken from the header. */
	gen_default(&f, &g);
	g.signer_id = f.dev[B]->device_id;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	free(e);
	CHECK(c->n == 0);
	cf_chain_free(c);
	fix_free(&f);
}

static void
genesis_rk_reg(void)
{
	struct fix f;
	struct cf_chain *c;
	struct gen g;
	uint8_t *e;
	size_t len;

	fix_init(&f);
	CHECK_RC(cf_chain_new(&c), 0);
	/* rk_sig not by the recovery key (by the device itself). */
	gen_default(&f, &g);
	g.rk_sig_sk = f.dev[A]->sign_sk;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	free(e);
	/* rk_sig by the recovery key, but over seq 1. */
	gen_default(&f, &g);
	g.rk_seq = 1;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	free(e);
	CHECK(c->n == 0);
	cf_chain_free(c);
	fix_free(&f);
}

static void
genesis_epoch_block(void)
{
	struct fix f;
	struct cf_chain *c;
	struct gen g;
	uint8_t *e;
	size_t len;
	int mode;

	fix_init(&f);
	CHECK_RC(cf_chain_new(&c), 0);
	gen_default(&f, &g);
	g.epoch = 2;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	free(e);
	gen_default(&f, &g);
	g.epoch = 0;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	free(e);
	/* Recipients: no recovery key, an extra device, unsorted. */
	for (mode = 1; mode <= 3; mode++) {
		gen_default(&f, &g);
		g.recip = mode;
		e = forge_genesis(&g, &len);
		CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
		free(e);
	}
	/* The recovery key may not be the device itself. */
	gen_default(&f, &g);
	{
		struct cf_recovery_keys same;

		memcpy(same.sign_pk, f.dev[A]->sign_pk, CF_SIGN_PK_BYTES);
		memcpy(same.sign_sk, f.dev[A]->sign_sk, CF_SIGN_SK_BYTES);
		memcpy(same.box_pk, f.dev[A]->box_pk, CF_BOX_PK_BYTES);
		memcpy(same.box_sk, f.dev[A]->box_sk, CF_BOX_SK_BYTES);
		g.rk = &same;
		g.rk_sig_sk = same.sign_sk;
		/*
		 * Recipients {id, id}: the two ids the rule asks for, which
		 * happen to be one.  Only "two different ids" refuses this
		 * (with one recipient the block would be refused anyway).
		 */
		g.recip = 0;
		e = forge_genesis(&g, &len);
		CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
		free(e);
		g.recip = 4;
		e = forge_genesis(&g, &len);
		CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
		free(e);
		sodium_memzero(&same, sizeof(same));
	}
	CHECK(c->n == 0);
	cf_chain_free(c);
	fix_free(&f);
}

/* FORMAT §14: the genesis device's and the recovery key's sealing keys
 * are of large order; everything else in each case is valid. */
static void
genesis_low_order_keys(void)
{
	static const uint8_t low[CF_BOX_PK_BYTES] = {
		0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
		0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
		0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00
	};
	struct fix f;
	struct cf_chain *c;
	struct cf_device_keys *bad;
	struct cf_recovery_keys rk;
	struct gen g;
	uint8_t *e;
	size_t len;

	fix_init(&f);
	CHECK_RC(cf_chain_new(&c), 0);
	if ((bad = sodium_malloc(sizeof(*bad))) == NULL)
		fix_die("sodium_malloc");
	*bad = *f.dev[A];
	memcpy(bad->box_pk, low, sizeof(low));
	cf_device_id(bad->sign_pk, bad->box_pk, bad->device_id);
	/* The device's box_pk. */
	gen_default(&f, &g);
	g.dev = bad;
	g.signer_id = bad->device_id;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	free(e);
	/* The recovery key's box_pk (rk_sig by the recovery key over it). */
	gen_default(&f, &g);
	rk = f.rk[0];
	memcpy(rk.box_pk, low, sizeof(low));
	g.rk = &rk;
	g.rk_sig_sk = rk.sign_sk;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	free(e);
	CHECK(c->n == 0);
	/* Control: the same machinery with real keys. */
	gen_default(&f, &g);
	e = forge_genesis(&g, &len);
	ACCEPTED(c, e, len);
	sodium_memzero(&rk, sizeof(rk));
	cf_keys_free(bad);
	cf_chain_free(c);
	fix_free(&f);
}

static void
genesis_only_first(void)
{
	struct fix f;
	struct gen g;
	struct cf_chain *c;
	uint8_t *e;
	size_t len;

	fix_init(&f);
	/* A second genesis at seq 1: the real genesis entry moved after
	 * itself, its rk_sig re-signed by the real recovery key over seq 1
	 * and the entry re-signed by A -- valid in every other respect. */
	{
		uint8_t msg[CF_RKREG_MSG_BYTES];
		uint8_t *body, *rk_sig;
		uint32_t nblen;

		len = f.len[0];
		e = fix_dup(f.entry[0], len);
		body = e + OFF_BODY;
		nblen = (uint32_t)cf_be32dec(body + 96);
		rk_sig = body + 96 + 4 + nblen + 64;
		cf_rkreg_msg(f.account_id, 1, f.rk[0].sign_pk, f.rk[0].box_pk, msg);
		if (cf_sign_purpose(f.rk[0].sign_sk, CF_LABEL_RKREG, msg,
		    sizeof(msg), rk_sig) != 0)
			fix_die("rk sig");
		cf_be64enc(e + OFF_SEQ, 1);
		memcpy(e + OFF_PREV, f.c->hash[0], CF_ID_BYTES);
		cf_be64enc(e + OFF_TIME, f.c->entry_time[0] + 1);
		fix_resign(e, len, f.dev[A]->sign_sk);
		REFUSED(f.c, e, len);
	}
	/* A genesis numbered 1 on an empty chain (rk_sig over seq 1 too). */
	CHECK_RC(cf_chain_new(&c), 0);
	gen_default(&f, &g);
	g.seq = 1;
	g.rk_seq = 1;
	e = forge_genesis(&g, &len);
	CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
	free(e);
	/* A non-genesis first entry: A's rotate at seq 0. */
	{
		int who[] = { A, RK(0) };
		struct fix g2;

		fix_init(&g2);
		e = forge_rotate(&g2, g2.dev[A]->device_id, g2.dev[A]->sign_sk, 1,
		    who, 2, &len);
		memset(e + OFF_SEQ, 0, 8);
		memset(e + OFF_PREV, 0, CF_ID_BYTES);
		fix_resign(e, len, g2.dev[A]->sign_sk);
		CHECK_RC(cf_chain_append(c, e, len), NOTAUTH);
		free(e);
		fix_free(&g2);
	}
	CHECK(c->n == 0);
	cf_chain_free(c);
	fix_free(&f);
}

/* ---- Every entry ------------------------------------------------------------- */

/* An honest rotate by A as the next entry of ${f} (not appended). */
static uint8_t *
honest_rotate(struct fix *f, size_t *lenp)
{
	struct cf_signer s = fix_signer(f, A);
	uint8_t k[CF_KEY_BYTES];
	uint8_t *e;

	if (cf_entry_rotate(f->c, &s, ++f->time, k, &e, lenp) != 0)
		fix_die("rotate");
	return e;
}

static void
entry_header_rules(void)
{
	struct fix f;
	uint8_t *e, *m;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	e = honest_rotate(&f, &len);

	m = fix_dup(e, len);	/* control: resigned, unchanged */
	fix_resign(m, len, f.dev[A]->sign_sk);
	ACCEPTED(f.c, m, len);

	m = fix_dup(e, len);	/* tag */
	m[OFF_TAG] = 'X';
	fix_resign(m, len, f.dev[A]->sign_sk);
	REFUSED(f.c, m, len);

	m = fix_dup(e, len);	/* version */
	m[OFF_VERSION] = 2;
	fix_resign(m, len, f.dev[A]->sign_sk);
	REFUSED(f.c, m, len);

	m = fix_dup(e, len);	/* account id */
	m[OFF_ACCOUNT + 7] ^= 0x10;
	fix_resign(m, len, f.dev[A]->sign_sk);
	REFUSED(f.c, m, len);

	m = fix_dup(e, len);	/* a sequence gap: seq n + 1 */
	cf_be64enc(m + OFF_SEQ, f.c->n + 1);
	fix_resign(m, len, f.dev[A]->sign_sk);
	REFUSED(f.c, m, len);

	m = fix_dup(e, len);	/* seq n - 1 (a replay of a position) */
	cf_be64enc(m + OFF_SEQ, f.c->n - 1);
	fix_resign(m, len, f.dev[A]->sign_sk);
	REFUSED(f.c, m, len);

	m = fix_dup(e, len);	/* prev hash: the one before */
	memcpy(m + OFF_PREV, f.c->hash[f.c->n - 2], CF_ID_BYTES);
	fix_resign(m, len, f.dev[A]->sign_sk);
	REFUSED(f.c, m, len);

	m = fix_dup(e, len);	/* unknown type */
	m[OFF_TYPE] = 9;
	fix_resign(m, len, f.dev[A]->sign_sk);
	REFUSED(f.c, m, len);

	m = fix_dup(e, len);	/* time before the previous entry's */
	cf_be64enc(m + OFF_TIME, f.c->entry_time[f.c->n - 1] - 1);
	fix_resign(m, len, f.dev[A]->sign_sk);
	REFUSED(f.c, m, len);

	m = fix_dup(e, len);	/* time equal to the previous entry's: fine */
	cf_be64enc(m + OFF_TIME, f.c->entry_time[f.c->n - 1]);
	fix_resign(m, len, f.dev[A]->sign_sk);
	ACCEPTED(f.c, m, len);

	free(e);
	fix_free(&f);
}

static void
entry_signature_rules(void)
{
	struct fix f;
	uint8_t *e, *m;
	size_t len, i;

	fix_init(&f);
	fix_add(&f, A, B);
	e = honest_rotate(&f, &len);

	/* Every signature byte matters. */
	for (i = len - CF_SIG_BYTES; i < len; i += 7) {
		m = fix_dup(e, len);
		m[i] ^= 0x01;
		REFUSED(f.c, m, len);
	}
	/* The right key, another purpose. */
	m = fix_dup(e, len);
	if (cf_sign_purpose(f.dev[A]->sign_sk, CF_LABEL_POP, m,
	    len - CF_SIG_BYTES, m + len - CF_SIG_BYTES) != 0)
		fix_die("sign");
	REFUSED(f.c, m, len);
	/* ... or no purpose at all. */
	m = fix_dup(e, len);
	crypto_sign_detached(m + len - CF_SIG_BYTES, NULL, m, len - CF_SIG_BYTES,
	    f.dev[A]->sign_sk);
	REFUSED(f.c, m, len);
	/* The header names A but B (trusted) signed. */
	m = fix_dup(e, len);
	fix_resign(m, len, f.dev[B]->sign_sk);
	REFUSED(f.c, m, len);
	/* Control: B names itself and signs: fine. */
	m = fix_dup(e, len);
	memcpy(m + OFF_SIGNER, f.dev[B]->device_id, CF_ID_BYTES);
	fix_resign(m, len, f.dev[B]->sign_sk);
	ACCEPTED(f.c, m, len);

	free(e);
	fix_free(&f);
}

static void
entry_stranger_and_removed_signer(void)
{
	struct fix f;
	int who[] = { A, B, RK(0) };
	int who2[] = { A, RK(0) };
	uint8_t *e;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	/* Control: B, trusted, rotates. */
	e = forge_rotate(&f, f.dev[B]->device_id, f.dev[B]->sign_sk, 2, who, 3, &len);
	ACCEPTED(f.c, e, len);
	/* A stranger (C: never added) signs with its own real key. */
	e = forge_rotate(&f, f.dev[C]->device_id, f.dev[C]->sign_sk, 2, who, 3, &len);
	REFUSED(f.c, e, len);
	/* B removed: its signature is no longer accepted. */
	fix_remove(&f, A, B, NULL, 0);
	e = forge_rotate(&f, f.dev[B]->device_id, f.dev[B]->sign_sk, 3, who2, 2,
	    &len);
	REFUSED(f.c, e, len);
	e = forge_rotate(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, 3, who2, 2,
	    &len);
	ACCEPTED(f.c, e, len);
	fix_free(&f);
}

static void
entry_sizes_and_trailing(void)
{
	struct fix f;
	int who[] = { A, RK(0) };
	struct cf_entry_hdr h;
	struct cf_wr w;
	uint8_t ids[MAXIDS][CF_ID_BYTES], cmt[CF_ID_BYTES];
	uint8_t *e, *m, *big;
	size_t len, n;

	fix_init(&f);
	e = honest_rotate(&f, &len);
	/* A byte after the signature. */
	m = malloc(len + 1);
	memcpy(m, e, len);
	m[len] = 0;
	REFUSED(f.c, m, len + 1);
	/* Truncated: every shorter length. */
	for (n = 0; n < len; n += 13)
		CHECK_RC(cf_chain_append(f.c, e, n), NOTAUTH);
	/* A byte after the epoch block, inside the body, signed. */
	h = fix_hdr(&f, CF_ENTRY_ROTATE, f.dev[A]->device_id);
	n = ids_of(&f, who, 2, ids);
	rand_cmt(cmt);
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	cf_epoch_block_write(&w, 2, cmt, (const uint8_t (*)[CF_ID_BYTES])ids, n);
	cf_wr_u8(&w, 0);
	m = fix_forge(&h, &w, f.dev[A]->sign_sk, &len);
	REFUSED(f.c, m, len);
	/* A body over 64 KiB that is valid in every other respect: a removal
	 * recording 909 drives (body 65592 bytes, entry under CF_ENTRY_MAX),
	 * next to the same removal with 908 drives (65520 bytes). */
	fix_add(&f, A, B);
	{
		int who2[] = { A, RK(0) };
		size_t nrec;

		big = calloc(909, sizeof(struct cf_drive_head));
		for (nrec = 0; nrec < 909; nrec++) {
			struct cf_drive_head *dh = (struct cf_drive_head *)big + nrec;

			cf_be32enc(dh->drive_id, (uint32_t)nrec + 1);
			dh->version = 1;
			memset(dh->commit_id, 1, CF_ID_BYTES);
		}
		m = forge_remove(&f, A, f.dev[B]->device_id,
		    (struct cf_drive_head *)big, 908, 908, 2, who2, 2, &len);
		CHECK(cf_be32dec(m + OFF_BODYLEN) <= CF_ENTRY_BODY_MAX);
		ACCEPTED(f.c, m, len);
		m = forge_remove(&f, A, f.dev[B]->device_id,
		    (struct cf_drive_head *)big, 909, 909, 2, who2, 2, &len);
		CHECK(cf_be32dec(m + OFF_BODYLEN) > CF_ENTRY_BODY_MAX &&
		    len <= CF_ENTRY_MAX);
		REFUSED(f.c, m, len);
		free(big);
	}
	CHECK_RC(cf_chain_append(f.c, NULL, 0), NOTAUTH);
	free(e);
	fix_free(&f);
}

/* ---- Add device ----------------------------------------------------------------- */

static void
add_honest(void)
{
	struct fix f;
	const struct cf_chain_device *d;
	const struct cf_chain_epoch *ep;

	fix_init(&f);
	fix_add(&f, A, B);
	CHECK((d = cf_chain_device(f.c, f.dev[B]->device_id)) != NULL);
	if (d != NULL) {
		CHECK(d->added_seq == 1 && !d->removed);
		CHECK(memcmp(d->added_by, f.dev[A]->device_id, CF_ID_BYTES) == 0);
	}
	CHECK(cf_chain_trusted_at(f.c, f.dev[B]->device_id, 0) == 0);
	CHECK(cf_chain_trusted_at(f.c, f.dev[B]->device_id, 1) == 1);
	/* Joining does not start an epoch; B joins the recipients. */
	CHECK((ep = cf_chain_current_epoch(f.c)) != NULL && ep->epoch == 1 &&
	    ep->nrecip == 3 &&
	    memcmp(ep->recip[2], f.dev[B]->device_id, CF_ID_BYTES) == 0);
	CHECK(cf_chain_ntrusted(f.c) == 2);
	fix_free(&f);
}

static void
add_pop(void)
{
	struct fix f;
	uint8_t other[CF_ID_BYTES];
	uint8_t *e;
	size_t len;

	fix_init(&f);
	/* Control. */
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[C], NULL,
	    NULL, 1, &len);
	ACCEPTED(f.c, e, len);
	/* pop signed by another key (A's: the signer vouching for C). */
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[C],
	    f.dev[A]->sign_sk, NULL, 1, &len);
	REFUSED(f.c, e, len);
	/* pop by C, but over another account id. */
	memset(other, 0x5a, sizeof(other));
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[C], NULL,
	    other, 1, &len);
	REFUSED(f.c, e, len);
	/* pop by C over the right message but another purpose. */
	{
		uint8_t msg[CF_POP_MSG_BYTES];
		uint8_t *p;

		e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk,
		    f.dev[C], NULL, NULL, 1, &len);
		p = e + len - CF_SIG_BYTES - CF_SIG_BYTES;	/* the pop */
		cf_pop_msg(f.account_id, f.dev[C]->sign_pk, f.dev[C]->box_pk, msg);
		if (cf_sign_purpose(f.dev[C]->sign_sk, CF_LABEL_ENTRY, msg,
		    sizeof(msg), p) != 0)
			fix_die("sign");
		fix_resign(e, len, f.dev[A]->sign_sk);
		REFUSED(f.c, e, len);
	}
	fix_free(&f);
}

static void
add_epoch_current(void)
{
	struct fix f;
	uint8_t *e;
	size_t len;

	fix_init(&f);
	fix_rotate(&f, A);
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[C], NULL,
	    NULL, 2, &len);
	ACCEPTED(f.c, e, len);
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[C], NULL,
	    NULL, 1, &len);
	REFUSED(f.c, e, len);
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[C], NULL,
	    NULL, 3, &len);
	REFUSED(f.c, e, len);
	fix_free(&f);
}

static void
add_never_twice(void)
{
	struct fix f;
	uint8_t *e;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	/* B again, while trusted. */
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[B], NULL,
	    NULL, 1, &len);
	REFUSED(f.c, e, len);
	/* A (the genesis device) again. */
	e = forge_add(&f, f.dev[B]->device_id, f.dev[B]->sign_sk, f.dev[A], NULL,
	    NULL, 1, &len);
	REFUSED(f.c, e, len);
	/* B again after its removal. */
	fix_remove(&f, A, B, NULL, 0);
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[B], NULL,
	    NULL, 2, &len);
	REFUSED(f.c, e, len);
	/* Control: a new device is fine. */
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[C], NULL,
	    NULL, 2, &len);
	ACCEPTED(f.c, e, len);
	fix_free(&f);
}

static void
add_ghost_device(void)
{
	struct fix f;
	uint8_t *e;
	size_t len;

	fix_init(&f);
	/* The new device signs its own addition. */
	e = forge_add(&f, f.dev[C]->device_id, f.dev[C]->sign_sk, f.dev[C], NULL,
	    NULL, 1, &len);
	REFUSED(f.c, e, len);
	/* A stranger (D, real key) adds C. */
	e = forge_add(&f, f.dev[D]->device_id, f.dev[D]->sign_sk, f.dev[C], NULL,
	    NULL, 1, &len);
	REFUSED(f.c, e, len);
	/* The header names A, the new device signs. */
	e = forge_add(&f, f.dev[A]->device_id, f.dev[C]->sign_sk, f.dev[C], NULL,
	    NULL, 1, &len);
	REFUSED(f.c, e, len);
	CHECK(f.c->ndevices == 1);
	fix_free(&f);
}

/*
 * FORMAT §14: every X25519 key an entry introduces is of large order, and
 * a name box holds 1 to 64 bytes.  Each entry below is otherwise valid
 * (the pop is by the new key, over the keys as written).
 */
static void
add_key_and_name_box_rules(void)
{
	/* A point of order 8 on Curve25519 (libsodium's blocklist). */
	static const uint8_t low[CF_BOX_PK_BYTES] = {
		0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
		0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
		0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00
	};
	struct fix f;
	struct cf_device_keys *bad;
	struct cf_entry_hdr h;
	struct cf_wr w;
	uint8_t msg[CF_POP_MSG_BYTES], pop[CF_SIG_BYTES];
	uint8_t nb[CF_NAME_BOX_MIN - 1];
	uint8_t *e;
	size_t len;

	fix_init(&f);
	if ((bad = sodium_malloc(sizeof(*bad))) == NULL)
		fix_die("sodium_malloc");
	*bad = *f.dev[C];
	memcpy(bad->box_pk, low, sizeof(low));
	cf_device_id(bad->sign_pk, bad->box_pk, bad->device_id);
	CHECK(!cf_box_pk_ok(low));
	/* Control: C itself. */
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[C],
	    NULL, NULL, 1, &len);
	ACCEPTED(f.c, e, len);
	/* C's signing key with a low-order sealing key, pop over both. */
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, bad, NULL,
	    NULL, 1, &len);
	REFUSED(f.c, e, len);
	/* A name box of nonce and tag only: an empty name. */
	h = fix_hdr(&f, CF_ENTRY_ADD, f.dev[A]->device_id);
	cf_pop_msg(f.account_id, f.dev[C]->sign_pk, f.dev[C]->box_pk, msg);
	if (cf_sign_purpose(f.dev[C]->sign_sk, CF_LABEL_POP, msg,
	    sizeof(msg), pop) != 0)
		fix_die("pop");
	randombytes_buf(nb, sizeof(nb));
	cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
	cf_wr_bytes(&w, f.dev[C]->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(&w, f.dev[C]->box_pk, CF_BOX_PK_BYTES);
	cf_wr_u64(&w, 1);
	cf_wr_lstr(&w, nb, sizeof(nb));
	cf_wr_bytes(&w, pop, CF_SIG_BYTES);
	e = fix_forge(&h, &w, f.dev[A]->sign_sk, &len);
	REFUSED(f.c, e, len);
	/* Control: the same with one byte more is accepted. */
	{
		uint8_t nb1[CF_NAME_BOX_MIN];

		h = fix_hdr(&f, CF_ENTRY_ADD, f.dev[A]->device_id);
		randombytes_buf(nb1, sizeof(nb1));
		cf_wr_init(&w, CF_ENTRY_BODY_MAX, 0);
		cf_wr_bytes(&w, f.dev[C]->sign_pk, CF_SIGN_PK_BYTES);
		cf_wr_bytes(&w, f.dev[C]->box_pk, CF_BOX_PK_BYTES);
		cf_wr_u64(&w, 1);
		cf_wr_lstr(&w, nb1, sizeof(nb1));
		cf_wr_bytes(&w, pop, CF_SIG_BYTES);
		e = fix_forge(&h, &w, f.dev[A]->sign_sk, &len);
		ACCEPTED(f.c, e, len);
	}
	CHECK(f.c->ndevices == 1);
	cf_keys_free(bad);
	fix_free(&f);
}

static void
add_by_recovery_key(void)
{
	struct fix f;
	struct cf_signer s;
	const struct cf_chain_device *d;
	int who[] = { A, RK(0) };
	uint8_t k[CF_KEY_BYTES];
	uint8_t *e;
	size_t len;

	fix_init(&f);
	/* The current recovery key adds C: accepted. */
	s = fix_rk_signer(&f, 0);
	CHECK_RC(fix_add_entry(&f, &s, C, &e, &len), 0);
	CHECK_RC(cf_chain_append(f.c, e, len), 0);
	fix_keep(&f, e, len);
	CHECK((d = cf_chain_device(f.c, f.dev[C]->device_id)) != NULL &&
	    memcmp(d->added_by, f.rk_id[0], CF_ID_BYTES) == 0);

	/* Any other type signed by the recovery key: refused. */
	{
		int who3[] = { A, C, RK(0) };

		e = forge_rotate(&f, f.rk_id[0], f.rk[0].sign_sk, 2, who3, 3, &len);
		REFUSED(f.c, e, len);
		e = forge_rotate(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, 2,
		    who3, 3, &len);
		ACCEPTED(f.c, e, len);
		e = forge_remove(&f, A, f.dev[C]->device_id, NULL, 0, 0, 2, who,
		    2, &len);
		/* (re-sign the remove as the recovery key) */
		memcpy(e + OFF_SIGNER, f.rk_id[0], CF_ID_BYTES);
		fix_resign(e, len, f.rk[0].sign_sk);
		REFUSED(f.c, e, len);
		{
			int who4[] = { A, C, RK(1) };

			e = forge_setrk(&f, f.rk_id[0], f.rk[0].sign_sk, &f.rk[1],
			    f.rk[1].sign_sk, f.c->n, 2, who4, 3, &len);
			REFUSED(f.c, e, len);
			e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk,
			    &f.rk[1], f.rk[1].sign_sk, f.c->n, 2, who4, 3, &len);
			ACCEPTED(f.c, e, len);
		}
	}
	/* The library writer refuses too: a rotate "signed" by the rk. */
	CHECK_RC(cf_entry_rotate(f.c, &s, ++f.time, k, &e, &len), COFFER_EINVAL);
	CHECK(e == NULL && sodium_is_zero(k, sizeof(k)));

	/* After the recovery key is replaced, the old one cannot add. */
	fix_setrk(&f, A, 1);
	CHECK(memcmp(cf_chain_current_rk(f.c)->id, f.rk_id[1], CF_ID_BYTES) == 0);
	e = forge_add(&f, f.rk_id[0], f.rk[0].sign_sk, f.dev[D], NULL, NULL,
	    f.nkeys, &len);
	REFUSED(f.c, e, len);
	e = forge_add(&f, f.rk_id[1], f.rk[1].sign_sk, f.dev[D], NULL, NULL,
	    f.nkeys, &len);
	ACCEPTED(f.c, e, len);
	fix_free(&f);
}

static void
add_trusted_cap(void)
{
	struct fix f;
	struct cf_device_keys *k;
	uint8_t *e;
	size_t len, i;

	fix_init(&f);
	for (i = 1; i < CF_CHAIN_TRUSTED_MAX; i++) {
		if (cf_keys_generate(&k) != 0)
			fix_die("keys");
		e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, k, NULL,
		    NULL, 1, &len);
		if (cf_chain_append(f.c, e, len) != 0)
			fix_die("add");
		free(e);
		cf_keys_free(k);
	}
	CHECK(cf_chain_ntrusted(f.c) == CF_CHAIN_TRUSTED_MAX);
	e = forge_add(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, f.dev[B], NULL,
	    NULL, 1, &len);
	REFUSED(f.c, e, len);
	fix_free(&f);
}

/* ---- Remove device ------------------------------------------------------------ */

static void
fill_drive(struct cf_drive_head *h, uint8_t id, uint64_t version, uint8_t commit)
{
	memset(h, 0, sizeof(*h));
	memset(h->drive_id, id, CF_ID_BYTES);
	h->version = version;
	if (version > 0)
		memset(h->commit_id, commit, CF_ID_BYTES);
}

static void
remove_honest(void)
{
	struct fix f;
	struct cf_drive_head heads[2];
	const struct cf_chain_device *d;
	const struct cf_chain_epoch *ep;

	fix_init(&f);
	fix_add(&f, A, B);
	fix_add(&f, A, C);
	fill_drive(&heads[0], 0x22, 3, 0x33);
	fill_drive(&heads[1], 0x11, 0, 0);	/* unsorted: the writer sorts */
	fix_remove(&f, A, B, heads, 2);
	CHECK((d = cf_chain_device(f.c, f.dev[B]->device_id)) != NULL &&
	    d->removed && d->removed_seq == 3);
	CHECK(cf_chain_trusted_at(f.c, f.dev[B]->device_id, 2) == 1);
	CHECK(cf_chain_trusted_at(f.c, f.dev[B]->device_id, 3) == 0);
	CHECK(cf_chain_ntrusted(f.c) == 2);
	CHECK((ep = cf_chain_current_epoch(f.c)) != NULL && ep->epoch == 2 &&
	    ep->nrecip == 3 && ep->start_seq == 3);
	CHECK(f.c->nremovals == 1 && f.c->removals[0].ndrives == 2 &&
	    f.c->removals[0].drives[0].drive_id[0] == 0x11);
	CHECK_RC(cf_chain_check_epoch_key(f.c, 2, f.keys[1]), 0);
	CHECK_RC(cf_chain_check_epoch_key(f.c, 2, f.keys[0]), NOTAUTH);
	fix_free(&f);
}

static void
remove_target_trusted(void)
{
	struct fix f;
	int who[] = { A, B, RK(0) };
	int whoab[] = { A, RK(0) };
	uint8_t *e;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	fix_add(&f, A, C);
	/* A stranger (D) "removed": it was never trusted. */
	e = forge_remove(&f, A, f.dev[D]->device_id, NULL, 0, 0, 2, who, 3, &len);
	REFUSED(f.c, e, len);
	/* Control: removing C with the same recipients. */
	e = forge_remove(&f, A, f.dev[C]->device_id, NULL, 0, 0, 2, who, 3, &len);
	ACCEPTED(f.c, e, len);
	/* C removed; removing it again is refused. */
	fix_remove(&f, A, C, NULL, 0);
	e = forge_remove(&f, A, f.dev[C]->device_id, NULL, 0, 0, 3, who, 3, &len);
	REFUSED(f.c, e, len);
	e = forge_remove(&f, A, f.dev[B]->device_id, NULL, 0, 0, 3, whoab, 2, &len);
	ACCEPTED(f.c, e, len);
	fix_free(&f);
}

static void
remove_drive_records(void)
{
	struct fix f;
	int who[] = { A, RK(0) };
	struct cf_drive_head h[3];
	uint8_t *e;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	/* Control: two records in order. */
	fill_drive(&h[0], 0x11, 1, 0x01);
	fill_drive(&h[1], 0x22, 2, 0x02);
	e = forge_remove(&f, A, f.dev[B]->device_id, h, 2, 2, 2, who, 2, &len);
	ACCEPTED(f.c, e, len);
	/* Out of order. */
	e = forge_remove(&f, A, f.dev[B]->device_id, (struct cf_drive_head[]){ h[1],
	    h[0] }, 2, 2, 2, who, 2, &len);
	REFUSED(f.c, e, len);
	/* Duplicate. */
	e = forge_remove(&f, A, f.dev[B]->device_id, (struct cf_drive_head[]){ h[0],
	    h[0] }, 2, 2, 2, who, 2, &len);
	REFUSED(f.c, e, len);
	/* Version 0 with a commit id; a version with a zero commit id. */
	h[2] = h[0];
	h[2].version = 0;
	e = forge_remove(&f, A, f.dev[B]->device_id, &h[2], 1, 1, 2, who, 2, &len);
	REFUSED(f.c, e, len);
	fill_drive(&h[2], 0x11, 0, 0);
	e = forge_remove(&f, A, f.dev[B]->device_id, &h[2], 1, 1, 2, who, 2, &len);
	ACCEPTED(f.c, e, len);
	h[2].version = 4;
	e = forge_remove(&f, A, f.dev[B]->device_id, &h[2], 1, 1, 2, who, 2, &len);
	REFUSED(f.c, e, len);
	/* A count beyond the cap (nothing else follows). */
	e = forge_remove(&f, A, f.dev[B]->device_id, NULL, 0,
	    CF_CHAIN_DRIVES_MAX + 1, 2, who, 2, &len);
	REFUSED(f.c, e, len);
	/* A count that claims more records than are there. */
	e = forge_remove(&f, A, f.dev[B]->device_id, h, 1, 2, 2, who, 2, &len);
	REFUSED(f.c, e, len);
	fix_free(&f);
}

static void
remove_recipients(void)
{
	struct fix f;
	int exact[] = { A, C, RK(0) };
	int with_removed[] = { A, B, C, RK(0) };
	int no_rk[] = { A, C };
	int no_c[] = { A, RK(0) };
	int stranger[] = { A, C, D, RK(0) };
	uint8_t *e;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	fix_add(&f, A, C);
	e = forge_remove(&f, A, f.dev[B]->device_id, NULL, 0, 0, 2, exact, 3, &len);
	ACCEPTED(f.c, e, len);
	e = forge_remove(&f, A, f.dev[B]->device_id, NULL, 0, 0, 2, with_removed,
	    4, &len);
	REFUSED(f.c, e, len);
	e = forge_remove(&f, A, f.dev[B]->device_id, NULL, 0, 0, 2, no_rk, 2, &len);
	REFUSED(f.c, e, len);
	e = forge_remove(&f, A, f.dev[B]->device_id, NULL, 0, 0, 2, no_c, 2, &len);
	REFUSED(f.c, e, len);
	e = forge_remove(&f, A, f.dev[B]->device_id, NULL, 0, 0, 2, stranger, 4,
	    &len);
	REFUSED(f.c, e, len);
	/* The epoch must be e + 1. */
	e = forge_remove(&f, A, f.dev[B]->device_id, NULL, 0, 0, 1, exact, 3, &len);
	REFUSED(f.c, e, len);
	e = forge_remove(&f, A, f.dev[B]->device_id, NULL, 0, 0, 3, exact, 3, &len);
	REFUSED(f.c, e, len);
	fix_free(&f);
}

static void
remove_last_device(void)
{
	struct fix f;
	int who_none[] = { RK(0) };
	int who_b[] = { B, RK(0) };
	uint8_t *e;
	size_t len;

	fix_init(&f);
	/* A alone removes itself. */
	e = forge_remove(&f, A, f.dev[A]->device_id, NULL, 0, 0, 2, who_none, 1,
	    &len);
	REFUSED(f.c, e, len);
	/* With B present, A may remove itself. */
	fix_add(&f, A, B);
	e = forge_remove(&f, A, f.dev[A]->device_id, NULL, 0, 0, 2, who_b, 2, &len);
	ACCEPTED(f.c, e, len);
	/* B removes A; B is then alone and cannot remove itself. */
	fix_remove(&f, B, A, NULL, 0);
	e = forge_remove(&f, B, f.dev[B]->device_id, NULL, 0, 0, 3, who_none, 1,
	    &len);
	REFUSED(f.c, e, len);
	fix_free(&f);
}

static void
remove_floor(void)
{
	struct fix f;
	int who[] = { A, D, RK(0) };
	struct cf_drive_head h[2], floor;
	uint8_t drive[CF_ID_BYTES], other[CF_ID_BYTES];
	uint8_t *e;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	fix_add(&f, A, C);
	fix_add(&f, A, D);
	memset(drive, 0x11, sizeof(drive));
	memset(other, 0x77, sizeof(other));
	cf_chain_head_floor(f.c, drive, &floor);
	CHECK(floor.version == 0 && sodium_is_zero(floor.commit_id, CF_ID_BYTES));
	fill_drive(&h[0], 0x11, 5, 0x55);
	fix_remove(&f, A, B, h, 1);
	cf_chain_head_floor(f.c, drive, &floor);
	CHECK(floor.version == 5 && floor.commit_id[0] == 0x55);
	cf_chain_head_floor(f.c, other, &floor);
	CHECK(floor.version == 0);

	/* A later removal below the earlier record. */
	fill_drive(&h[1], 0x11, 4, 0x44);
	e = forge_remove(&f, A, f.dev[C]->device_id, &h[1], 1, 1, 3, who, 3, &len);
	REFUSED(f.c, e, len);
	/* The same version, another commit: a fork. */
	fill_drive(&h[1], 0x11, 5, 0x56);
	e = forge_remove(&f, A, f.dev[C]->device_id, &h[1], 1, 1, 3, who, 3, &len);
	REFUSED(f.c, e, len);
	/* The same record, or a higher one: fine. */
	fill_drive(&h[1], 0x11, 5, 0x55);
	e = forge_remove(&f, A, f.dev[C]->device_id, &h[1], 1, 1, 3, who, 3, &len);
	ACCEPTED(f.c, e, len);
	fill_drive(&h[1], 0x11, 7, 0x77);
	e = forge_remove(&f, A, f.dev[C]->device_id, &h[1], 1, 1, 3, who, 3, &len);
	CHECK_RC(cf_chain_append(f.c, e, len), 0);
	fix_keep(&f, e, len);
	cf_chain_head_floor(f.c, drive, &floor);
	CHECK(floor.version == 7 && floor.commit_id[0] == 0x77);
	fix_free(&f);
}

/* ---- Rotate and set recovery key ---------------------------------------------- */

static void
rotate_recipients(void)
{
	struct fix f;
	int exact[] = { A, B, RK(0) };
	int no_b[] = { A, RK(0) };
	int extra[] = { A, B, C, RK(0) };
	int old_rk[] = { A, B, RK(0), RK(1) };
	uint8_t *e;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	e = forge_rotate(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, 2, exact, 3,
	    &len);
	ACCEPTED(f.c, e, len);
	e = forge_rotate(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, 2, no_b, 2,
	    &len);
	REFUSED(f.c, e, len);
	e = forge_rotate(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, 2, extra, 4,
	    &len);
	REFUSED(f.c, e, len);
	e = forge_rotate(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, 2, old_rk, 4,
	    &len);
	REFUSED(f.c, e, len);
	e = forge_rotate(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, 1, exact, 3,
	    &len);
	REFUSED(f.c, e, len);
	e = forge_rotate(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, 3, exact, 3,
	    &len);
	REFUSED(f.c, e, len);
	fix_rotate(&f, B);
	CHECK(cf_chain_current_epoch(f.c)->epoch == 2);
	CHECK(cf_chain_epoch_at(f.c, 1) == 1 && cf_chain_epoch_at(f.c, 2) == 2);
	fix_free(&f);
}

static void
setrk_rules(void)
{
	struct fix f;
	int exact[] = { A, B, RK(1) };
	int old[] = { A, B, RK(0) };
	int both[] = { A, B, RK(0), RK(1) };
	const struct cf_chain_epoch *ep;
	uint8_t *e;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	/* Control. */
	e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, &f.rk[1],
	    f.rk[1].sign_sk, f.c->n, 2, exact, 3, &len);
	ACCEPTED(f.c, e, len);
	/* rk_sig over another seq: one copied from an earlier registration. */
	e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, &f.rk[1],
	    f.rk[1].sign_sk, f.c->n - 1, 2, exact, 3, &len);
	REFUSED(f.c, e, len);
	e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, &f.rk[1],
	    f.rk[1].sign_sk, 0, 2, exact, 3, &len);
	REFUSED(f.c, e, len);
	/* rk_sig not by the recovery key (by the signing device). */
	e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, &f.rk[1],
	    f.dev[A]->sign_sk, f.c->n, 2, exact, 3, &len);
	REFUSED(f.c, e, len);
	/* Recipients: the old key instead of the new, or both. */
	e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, &f.rk[1],
	    f.rk[1].sign_sk, f.c->n, 2, old, 3, &len);
	REFUSED(f.c, e, len);
	e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, &f.rk[1],
	    f.rk[1].sign_sk, f.c->n, 2, both, 4, &len);
	REFUSED(f.c, e, len);
	/* Not a new epoch. */
	e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk, &f.rk[1],
	    f.rk[1].sign_sk, f.c->n, 1, exact, 3, &len);
	REFUSED(f.c, e, len);
	/* Re-registering the current key. */
	{
		int same[] = { A, B, RK(0) };

		e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk,
		    &f.rk[0], f.rk[0].sign_sk, f.c->n, 2, same, 3, &len);
		REFUSED(f.c, e, len);
	}
	/* The real one, then an rk_reg copied from that seq into the next. */
	fix_setrk(&f, A, 1);
	CHECK((ep = cf_chain_current_epoch(f.c)) != NULL && ep->epoch == 2);
	CHECK(f.c->nrks == 2 &&
	    memcmp(cf_chain_current_rk(f.c)->id, f.rk_id[1], CF_ID_BYTES) == 0);
	{
		int next[] = { A, B, RK(2) };

		e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk,
		    &f.rk[2], f.rk[2].sign_sk, f.c->n - 1, 3, next, 3, &len);
		REFUSED(f.c, e, len);
		e = forge_setrk(&f, f.dev[A]->device_id, f.dev[A]->sign_sk,
		    &f.rk[2], f.rk[2].sign_sk, f.c->n, 3, next, 3, &len);
		ACCEPTED(f.c, e, len);
	}
	fix_free(&f);
}

/* ---- Writers ------------------------------------------------------------------- */

static void
writers_refuse_bad_inputs(void)
{
	struct fix f;
	struct cf_signer s;
	struct cf_drive_head h[2];
	uint8_t k[CF_KEY_BYTES], pop[CF_SIG_BYTES], wrong[CF_KEY_BYTES];
	uint8_t *e = NULL;
	size_t len = 0;
	const struct cf_chain_epoch *ep;

	fix_init(&f);
	fix_add(&f, A, B);
	s = fix_signer(&f, A);
	/* Removing the only... a stranger. */
	CHECK_RC(cf_entry_remove(f.c, &s, f.dev[D]->device_id, NULL, 0, 1, k, &e,
	    &len), COFFER_EINVAL);
	CHECK(e == NULL && len == 0 && sodium_is_zero(k, sizeof(k)));
	/* Duplicate drive records. */
	fill_drive(&h[0], 0x11, 1, 1);
	h[1] = h[0];
	CHECK_RC(cf_entry_remove(f.c, &s, f.dev[B]->device_id, h, 2, 1, k, &e,
	    &len), COFFER_EINVAL);
	/* A name box under a key that is not the current epoch's. */
	cf_pop_sign(f.dev[C], f.account_id, pop);
	memset(wrong, 7, sizeof(wrong));
	CHECK_RC(cf_entry_add(f.c, &s, f.dev[C]->sign_pk, f.dev[C]->box_pk, pop,
	    "c", 1, wrong, 1, &e, &len), COFFER_EINVAL);
	/* Names: empty, too long, with a NUL. */
	CHECK_RC(cf_entry_add(f.c, &s, f.dev[C]->sign_pk, f.dev[C]->box_pk, pop,
	    "", 0, f.keys[0], 1, &e, &len), COFFER_EINVAL);
	CHECK_RC(cf_entry_add(f.c, &s, f.dev[C]->sign_pk, f.dev[C]->box_pk, pop,
	    "0123456789012345678901234567890123456789012345678901234567890123X",
	    65, f.keys[0], 1, &e, &len), COFFER_EINVAL);
	CHECK_RC(cf_entry_add(f.c, &s, f.dev[C]->sign_pk, f.dev[C]->box_pk, pop,
	    "a\0b", 3, f.keys[0], 1, &e, &len), COFFER_EINVAL);
	/* A bad pop. */
	pop[0] ^= 1;
	CHECK_RC(cf_entry_add(f.c, &s, f.dev[C]->sign_pk, f.dev[C]->box_pk, pop,
	    "c", 1, f.keys[0], 1, &e, &len), COFFER_EINVAL);
	/* A signer whose key does not match its id. */
	s.sign_sk = f.dev[C]->sign_sk;
	CHECK_RC(cf_entry_rotate(f.c, &s, 1, k, &e, &len), COFFER_EINVAL);
	CHECK(e == NULL);
	/* Times never go backwards: an earlier clock is raised. */
	s = fix_signer(&f, A);
	CHECK_RC(cf_entry_rotate(f.c, &s, 5, k, &e, &len), 0);
	CHECK(e != NULL && cf_be64dec(e + OFF_TIME) == f.c->entry_time[1]);
	CHECK_RC(cf_chain_append(f.c, e, len), 0);
	fix_keep(&f, e, len);
	CHECK((ep = cf_chain_current_epoch(f.c)) != NULL && ep->epoch == 2);
	CHECK_RC(cf_chain_check_epoch_key(f.c, 2, k), 0);
	fix_free(&f);
}

static void
name_box_rules(void)
{
	uint8_t k[CF_KEY_BYTES], acct[CF_ID_BYTES];
	uint8_t *box = NULL;
	char *name = NULL;
	size_t len = 0, nlen = 0;

	randombytes_buf(k, sizeof(k));
	memset(acct, 0xaa, sizeof(acct));
	CHECK_RC(cf_name_box_seal(k, acct, 3, "phone", 5, &box, &len), 0);
	CHECK(len == CF_NAME_BOX_MAX);
	CHECK_RC(cf_name_box_open(k, acct, 3, box, len, &name, &nlen), 0);
	CHECK(name != NULL && nlen == 5 && strcmp(name, "phone") == 0);
	free(name);
	/* Another epoch, account or key; a flipped byte; truncation. */
	CHECK_RC(cf_name_box_open(k, acct, 2, box, len, &name, &nlen), NOTAUTH);
	CHECK(name == NULL && nlen == 0);
	acct[0] ^= 1;
	CHECK_RC(cf_name_box_open(k, acct, 3, box, len, &name, &nlen), NOTAUTH);
	acct[0] ^= 1;
	k[0] ^= 1;
	CHECK_RC(cf_name_box_open(k, acct, 3, box, len, &name, &nlen), NOTAUTH);
	k[0] ^= 1;
	box[len - 1] ^= 1;
	CHECK_RC(cf_name_box_open(k, acct, 3, box, len, &name, &nlen), NOTAUTH);
	box[len - 1] ^= 1;
	CHECK_RC(cf_name_box_open(k, acct, 3, box, len - 1, &name, &nlen), NOTAUTH);
	CHECK_RC(cf_name_box_open(k, acct, 3, box, 0, &name, &nlen), NOTAUTH);
	free(box);
}

/* A name box of any plaintext, sealed as FORMAT §14 says (key H_Ke("coffer-name-v1")). */
static size_t
raw_name_box(const uint8_t k[static CF_KEY_BYTES],
    const uint8_t acct[static CF_ID_BYTES], uint64_t epoch,
    const uint8_t *plain, size_t plen, uint8_t box[static CF_NAME_BOX_MAX])
{
	uint8_t key[CF_KEY_BYTES], ad[CF_ID_BYTES + 8];

	crypto_generichash(key, sizeof(key), (const uint8_t *)CF_LABEL_NAME,
	    strlen(CF_LABEL_NAME), k, CF_KEY_BYTES);
	memcpy(ad, acct, CF_ID_BYTES);
	cf_be64enc(ad + CF_ID_BYTES, epoch);
	randombytes_buf(box, CF_NAME_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box + CF_NAME_NONCE_BYTES,
	    NULL, plain, plen, ad, sizeof(ad), NULL, box, key);
	return CF_NAME_NONCE_BYTES + plen + CF_NAME_MAC_BYTES;
}

/*
 * Device names are padded (their lengths would leak): any two names make
 * boxes of one length; a box of the unpadded form written before still
 * opens; a padded box whose length byte or pad is wrong does not.
 */
static void
name_box_padding(void)
{
	uint8_t k[CF_KEY_BYTES], acct[CF_ID_BYTES], plain[CF_DEVICE_NAME_PADDED];
	uint8_t old[CF_NAME_BOX_MAX];
	char longname[CF_DEVICE_NAME_MAX + 1];
	uint8_t *b1 = NULL, *b2 = NULL;
	char *name = NULL;
	size_t l1 = 0, l2 = 0, nlen = 0, ol;

	randombytes_buf(k, sizeof(k));
	memset(acct, 0xaa, sizeof(acct));
	memset(longname, 'x', CF_DEVICE_NAME_MAX);
	longname[CF_DEVICE_NAME_MAX] = '\0';
	CHECK_RC(cf_name_box_seal(k, acct, 1, "a", 1, &b1, &l1), 0);
	CHECK_RC(cf_name_box_seal(k, acct, 1, longname, CF_DEVICE_NAME_MAX,
	    &b2, &l2), 0);
	CHECK(l1 == l2 && l1 == CF_NAME_BOX_MAX);
	CHECK_RC(cf_name_box_open(k, acct, 1, b2, l2, &name, &nlen), 0);
	CHECK(nlen == CF_DEVICE_NAME_MAX && name != NULL &&
	    strcmp(name, longname) == 0);
	free(name);
	name = NULL;
	/* The old, unpadded form: the bare name, of any length up to 64. */
	ol = raw_name_box(k, acct, 1, (const uint8_t *)"phone", 5, old);
	CHECK(ol == CF_NAME_NONCE_BYTES + 5 + CF_NAME_MAC_BYTES);
	CHECK_RC(cf_name_box_open(k, acct, 1, old, ol, &name, &nlen), 0);
	CHECK(nlen == 5 && name != NULL && strcmp(name, "phone") == 0);
	free(name);
	name = NULL;
	ol = raw_name_box(k, acct, 1, (const uint8_t *)longname,
	    CF_DEVICE_NAME_MAX, old);
	CHECK_RC(cf_name_box_open(k, acct, 1, old, ol, &name, &nlen), 0);
	CHECK(nlen == CF_DEVICE_NAME_MAX);
	free(name);
	name = NULL;
	/* ... but not with a NUL in it. */
	ol = raw_name_box(k, acct, 1, (const uint8_t *)"ph\0ne", 5, old);
	CHECK_RC(cf_name_box_open(k, acct, 1, old, ol, &name, &nlen), NOTAUTH);
	/* Bad padding: a pad byte set, a length of 0 or past the pad, a NUL. */
	CHECK_RC(cf_device_name_pad("phone", 5, plain), 0);
	plain[CF_DEVICE_NAME_PADDED - 1] = 1;
	ol = raw_name_box(k, acct, 1, plain, sizeof(plain), old);
	CHECK(ol == CF_NAME_BOX_MAX);
	CHECK_RC(cf_name_box_open(k, acct, 1, old, ol, &name, &nlen), NOTAUTH);
	CHECK(name == NULL && nlen == 0);
	CHECK_RC(cf_device_name_pad("phone", 5, plain), 0);
	plain[0] = 0;
	ol = raw_name_box(k, acct, 1, plain, sizeof(plain), old);
	CHECK_RC(cf_name_box_open(k, acct, 1, old, ol, &name, &nlen), NOTAUTH);
	plain[0] = CF_DEVICE_NAME_MAX + 1;
	ol = raw_name_box(k, acct, 1, plain, sizeof(plain), old);
	CHECK_RC(cf_name_box_open(k, acct, 1, old, ol, &name, &nlen), NOTAUTH);
	CHECK_RC(cf_device_name_pad("phone", 5, plain), 0);
	plain[0] = 6;		/* takes a pad byte, a NUL, into the name */
	ol = raw_name_box(k, acct, 1, plain, sizeof(plain), old);
	CHECK_RC(cf_name_box_open(k, acct, 1, old, ol, &name, &nlen), NOTAUTH);
	/* Control: the same, well formed, opens. */
	plain[0] = 5;
	ol = raw_name_box(k, acct, 1, plain, sizeof(plain), old);
	CHECK_RC(cf_name_box_open(k, acct, 1, old, ol, &name, &nlen), 0);
	CHECK(nlen == 5 && name != NULL && strcmp(name, "phone") == 0);
	free(name);
	/* A box longer than the padded form. */
	CHECK_RC(cf_name_box_open(k, acct, 1, b1, l1 + 1, &name, &nlen),
	    NOTAUTH);
	/* Writers refuse what readers would. */
	CHECK_RC(cf_device_name_pad("", 0, plain), COFFER_EINVAL);
	CHECK_RC(cf_device_name_pad(longname, CF_DEVICE_NAME_MAX + 1, plain),
	    COFFER_EINVAL);
	CHECK_RC(cf_device_name_pad("a\0b", 3, plain), COFFER_EINVAL);
	free(b1);
	free(b2);
}

/* ---- Extending a pin ---------------------------------------------------------- */

/* A world of 6 entries: genesis, add B, rotate, add C, remove C, rotate. */
static void
six(struct fix *f)
{
	fix_init(f);
	fix_add(f, A, B);
	fix_rotate(f, A);
	fix_add(f, B, C);
	fix_remove(f, A, C, NULL, 0);
	fix_rotate(f, B);
}

/* A state that verified the first ${k} entries of ${f}. */
static struct cf_chain *
pin_at(const struct fix *f, size_t k)
{
	struct cf_chain *c;
	size_t i;

	if (cf_chain_new(&c) != 0)
		fix_die("new");
	for (i = 0; i < k; i++)
		if (cf_chain_append(c, f->entry[i], f->len[i]) != 0)
			fix_die("append");
	return c;
}

#define EXTEND(c, f, from, cnt, first)					\
	cf_chain_extend((c), (const uint8_t *const *)&(f)->entry[(from)],	\
	    &(f)->len[(from)], (cnt), (first))

static void
extend_honest(void)
{
	struct fix f;
	struct cf_chain *c;

	six(&f);
	c = pin_at(&f, 3);
	CHECK_RC(EXTEND(c, &f, 0, 6, 0), 0);	/* the whole chain */
	CHECK(c->n == 6 && memcmp(c->hash[5], f.c->hash[5], CF_ID_BYTES) == 0);
	CHECK(c->nepochs == 4 && cf_chain_ntrusted(c) == 2);
	cf_chain_free(c);
	c = pin_at(&f, 3);
	CHECK_RC(EXTEND(c, &f, 2, 4, 2), 0);	/* from the pinned head */
	CHECK(c->n == 6);
	cf_chain_free(c);
	c = pin_at(&f, 3);
	CHECK_RC(EXTEND(c, &f, 3, 3, 3), 0);	/* just the new entries */
	CHECK(c->n == 6);
	CHECK_RC(EXTEND(c, &f, 0, 6, 0), 0);	/* nothing new */
	CHECK_RC(EXTEND(c, &f, 6, 0, 6), 0);
	CHECK(c->n == 6);
	cf_chain_free(c);
	/* No pin (a recovering device): from the genesis. */
	c = pin_at(&f, 0);
	CHECK_RC(EXTEND(c, &f, 0, 6, 0), 0);
	CHECK(c->n == 6);
	cf_chain_free(c);
	fix_free(&f);
}

/* ${c} still has ${n} entries and the hashes of ${f}'s first ${n}. */
static int
unchanged(const struct cf_chain *c, const struct fix *f, size_t n)
{
	size_t i;

	if (c->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (memcmp(c->hash[i], f->c->hash[i], CF_ID_BYTES) != 0)
			return 0;
	return 1;
}

static void
extend_fork(void)
{
	struct fix f, g;
	struct cf_chain *c;
	uint8_t *ents[6];
	size_t lens[6], i;

	six(&f);
	/* g: the same first two entries, then a different (valid) history:
	 * another rotate by A at seq 2. */
	memset(&g, 0, sizeof(g));
	g = f;	/* borrow keys and account; a chain of its own */
	g.c = pin_at(&f, 2);
	g.n = 0;
	g.keys = NULL;
	g.nkeys = 0;
	fix_new_key(&g, f.keys[0]);
	fix_rotate(&g, A);
	fix_rotate(&g, A);
	for (i = 0; i < 2; i++) {
		ents[i] = f.entry[i];
		lens[i] = f.len[i];
	}
	for (i = 0; i < 2; i++) {
		ents[2 + i] = g.entry[i];
		lens[2 + i] = g.len[i];
	}
	/* The fork verifies on its own... */
	c = pin_at(&f, 0);
	CHECK_RC(cf_chain_extend(c, (const uint8_t *const *)ents, lens, 4, 0), 0);
	cf_chain_free(c);
	/* ...but not against a pin of the other branch. */
	c = pin_at(&f, 3);
	CHECK_RC(cf_chain_extend(c, (const uint8_t *const *)ents, lens, 4, 0),
	    NOTAUTH);
	CHECK(unchanged(c, &f, 3));
	CHECK_RC(cf_chain_extend(c, (const uint8_t *const *)&ents[2], &lens[2], 2,
	    2), NOTAUTH);
	CHECK(unchanged(c, &f, 3));
	cf_chain_free(c);
	for (i = 0; i < g.n; i++)
		free(g.entry[i]);
	cf_chain_free(g.c);
	sodium_free(g.keys);
	fix_free(&f);
}

static void
extend_rollback_and_gap(void)
{
	struct fix f;
	struct cf_chain *c;

	six(&f);
	c = pin_at(&f, 5);
	/* Shorter than the pin: an older prefix served as current. */
	CHECK_RC(EXTEND(c, &f, 0, 3, 0), NOTAUTH);
	CHECK(unchanged(c, &f, 5));
	CHECK_RC(EXTEND(c, &f, 0, 4, 0), NOTAUTH);
	CHECK(unchanged(c, &f, 5));
	CHECK_RC(EXTEND(c, &f, 2, 2, 2), NOTAUTH);
	CHECK(unchanged(c, &f, 5));
	CHECK_RC(EXTEND(c, &f, 0, 0, 0), NOTAUTH);
	CHECK(unchanged(c, &f, 5));
	/* The first entry served leaves a gap after the pin. */
	cf_chain_free(c);
	c = pin_at(&f, 3);
	CHECK_RC(EXTEND(c, &f, 4, 2, 4), NOTAUTH);
	CHECK(unchanged(c, &f, 3));
	/* Entries numbered wrongly: seq 3.. served as if from seq 2. */
	CHECK_RC(EXTEND(c, &f, 3, 3, 2), NOTAUTH);
	CHECK(unchanged(c, &f, 3));
	cf_chain_free(c);
	/* No pin: a chain that does not start at the genesis. */
	c = pin_at(&f, 0);
	CHECK_RC(EXTEND(c, &f, 1, 5, 1), NOTAUTH);
	CHECK(c->n == 0);
	cf_chain_free(c);
	fix_free(&f);
}

static void
extend_all_or_nothing(void)
{
	struct fix f;
	struct cf_chain *c;
	uint8_t *saved;

	six(&f);
	c = pin_at(&f, 2);
	/* Entries 2..4 fine, entry 5 tampered. */
	saved = f.entry[5];
	f.entry[5] = fix_dup(saved, f.len[5]);
	f.entry[5][OFF_TIME + 7] ^= 1;
	CHECK_RC(EXTEND(c, &f, 0, 6, 0), NOTAUTH);
	CHECK(unchanged(c, &f, 2));
	free(f.entry[5]);
	f.entry[5] = saved;
	/* A tampered pinned entry (its hash differs) */
	saved = f.entry[1];
	f.entry[1] = fix_dup(saved, f.len[1]);
	f.entry[1][OFF_TIME + 7] ^= 1;
	CHECK_RC(EXTEND(c, &f, 0, 6, 0), NOTAUTH);
	CHECK(unchanged(c, &f, 2));
	free(f.entry[1]);
	f.entry[1] = saved;
	CHECK_RC(EXTEND(c, &f, 0, 6, 0), 0);
	CHECK(unchanged(c, &f, 6));
	cf_chain_free(c);
	fix_free(&f);
}

/* ---- Pins ---------------------------------------------------------------------- */

static int
same_state(const struct cf_chain *a, const struct cf_chain *b)
{
	size_t i;

	if (a->n != b->n || a->ndevices != b->ndevices ||
	    a->nepochs != b->nepochs || a->nremovals != b->nremovals ||
	    a->nrks != b->nrks ||
	    memcmp(a->account_id, b->account_id, CF_ID_BYTES) != 0)
		return 0;
	for (i = 0; i < a->n; i++)
		if (memcmp(a->hash[i], b->hash[i], CF_ID_BYTES) != 0)
			return 0;
	for (i = 0; i < a->ndevices; i++)
		if (memcmp(a->devices[i].id, b->devices[i].id, CF_ID_BYTES) != 0 ||
		    a->devices[i].removed != b->devices[i].removed)
			return 0;
	for (i = 0; i < a->nepochs; i++)
		if (a->epochs[i].nrecip != b->epochs[i].nrecip ||
		    memcmp(a->epochs[i].recip, b->epochs[i].recip,
		    a->epochs[i].nrecip * CF_ID_BYTES) != 0)
			return 0;
	return 1;
}

static void
pin_round_trip(void)
{
	struct fix f;
	struct cf_chain *d = NULL, *cl = NULL;
	uint8_t *pin = NULL, *pin2 = NULL;
	size_t len = 0, len2 = 0;

	six(&f);
	fix_setrk(&f, A, 1);
	CHECK_RC(cf_chain_pin_encode(f.c, &pin, &len), 0);
	CHECK_RC(cf_chain_pin_decode(pin, len, &d), 0);
	CHECK(d != NULL && same_state(d, f.c));
	CHECK_RC(cf_chain_pin_encode(d, &pin2, &len2), 0);
	CHECK(len2 == len && memcmp(pin, pin2, len) == 0);
	CHECK_RC(cf_chain_clone(f.c, &cl), 0);
	CHECK(cl != NULL && same_state(cl, f.c));
	if (d != NULL)
		CHECK(memcmp(cf_chain_current_rk(d)->id, f.rk_id[1], CF_ID_BYTES) == 0);
	free(pin);
	free(pin2);
	cf_chain_free(d);
	cf_chain_free(cl);
	fix_free(&f);
}

static void
pin_tampered(void)
{
	struct fix f;
	struct cf_chain *d = NULL, *empty = NULL;
	uint8_t *pin = NULL, *m;
	size_t len = 0, i;
	int bad = 0;

	fix_init(&f);
	fix_add(&f, A, B);
	fix_rotate(&f, B);
	CHECK_RC(cf_chain_pin_encode(f.c, &pin, &len), 0);
	/* Every single flipped byte of the file is refused as EFORMAT. */
	m = fix_dup(pin, len);
	for (i = 0; i < len; i++) {
		m[i] ^= 0x20;
		if (cf_chain_pin_decode(m, len, &d) != COFFER_EFORMAT || d != NULL)
			bad++;
		cf_chain_free(d);
		d = NULL;
		m[i] ^= 0x20;
	}
	CHECK(bad == 0);
	/* Truncated; a trailing byte; nothing. */
	for (i = 0; i < len; i += 97)
		CHECK_RC(cf_chain_pin_decode(pin, i, &d), COFFER_EFORMAT);
	free(m);
	m = malloc(len + 1);
	memcpy(m, pin, len);
	m[len] = 0;
	CHECK_RC(cf_chain_pin_decode(m, len + 1, &d), COFFER_EFORMAT);
	CHECK(d == NULL);
	CHECK_RC(cf_chain_pin_decode(NULL, 0, &d), COFFER_EFORMAT);
	/* A pin of zero entries, and an empty state cannot be pinned. */
	{
		static const uint8_t zero[] = { 'C', 'F', 'P', 'N', 1, 0, 0, 0, 0 };

		CHECK_RC(cf_chain_pin_decode(zero, sizeof(zero), &d),
		    COFFER_EFORMAT);
	}
	CHECK_RC(cf_chain_new(&empty), 0);
	free(m);
	m = NULL;
	CHECK_RC(cf_chain_pin_encode(empty, &m, &i), COFFER_EINVAL);
	CHECK(m == NULL);
	cf_chain_free(empty);
	/* The pin's entries out of order (a valid entry, wrong place). */
	{
		struct cf_wr w;
		uint8_t *p2;
		size_t l2;

		cf_wr_init(&w, CF_PIN_MAX, 0);
		cf_wr_bytes(&w, "CFPN", 4);
		cf_wr_u8(&w, 1);
		cf_wr_u32(&w, 2);
		cf_wr_lstr(&w, f.entry[0], f.len[0]);
		cf_wr_lstr(&w, f.entry[2], f.len[2]);
		CHECK_RC(cf_wr_finish(&w, &p2, &l2), 0);
		CHECK_RC(cf_chain_pin_decode(p2, l2, &d), COFFER_EFORMAT);
		free(p2);
	}
	free(pin);
	fix_free(&f);
}

/* ---- Commits (FORMAT §14.7) ---------------------------------------------------- */

/*
 * A world for commits: A genesis (0), add B (1), rotate by A (2), remove
 * B by A (3) recording drive X at version 5, drive Y not listed.
 */
static void
commit_world(struct fix *f, uint8_t drive_x[CF_ID_BYTES],
    uint8_t drive_y[CF_ID_BYTES])
{
	struct cf_drive_head h;

	fix_init(f);
	fix_add(f, A, B);
	fix_rotate(f, A);
	memset(drive_x, 0x11, CF_ID_BYTES);
	memset(drive_y, 0x99, CF_ID_BYTES);
	fill_drive(&h, 0x11, 5, 0x55);
	fix_remove(f, A, B, &h, 1);
}

static void
commit_named_head(void)
{
	struct fix f;
	uint8_t x[CF_ID_BYTES], y[CF_ID_BYTES], wrong[CF_ID_BYTES];
	const uint8_t *a;

	commit_world(&f, x, y);
	a = f.dev[A]->device_id;
	/* Control: A's commit naming seq 2 (epoch 2). */
	CHECK_RC(cf_chain_check_commit(f.c, x, 9, a, 2, f.c->hash[2], 0, 0, 2), 0);
	CHECK_RC(cf_chain_check_named_head(f.c, 2, f.c->hash[2]), 0);
	/* A head that is not in the chain: wrong hash, or beyond it. */
	memcpy(wrong, f.c->hash[2], CF_ID_BYTES);
	wrong[0] ^= 1;
	CHECK_RC(cf_chain_check_commit(f.c, x, 9, a, 2, wrong, 0, 0, 2), NOTAUTH);
	CHECK_RC(cf_chain_check_commit(f.c, x, 9, a, 4, f.c->hash[3], 0, 0, 3),
	    NOTAUTH);
	CHECK_RC(cf_chain_check_named_head(f.c, 4, f.c->hash[3]), NOTAUTH);
	CHECK_RC(cf_chain_check_commit(f.c, x, 9, a, 1, f.c->hash[2], 0, 0, 1),
	    NOTAUTH);
	/* Older than the parent's named head. */
	CHECK_RC(cf_chain_check_commit(f.c, x, 9, a, 2, f.c->hash[2], 1, 3, 2),
	    NOTAUTH);
	CHECK_RC(cf_chain_check_commit(f.c, x, 9, a, 2, f.c->hash[2], 1, 2, 2), 0);
	CHECK_RC(cf_chain_check_commit(f.c, x, 9, a, 3, f.c->hash[3], 1, 2, 3), 0);
	/* Version 0 does not exist. */
	CHECK_RC(cf_chain_check_commit(f.c, x, 0, a, 2, f.c->hash[2], 0, 0, 2),
	    NOTAUTH);
	fix_free(&f);
}

static void
commit_author_and_epoch(void)
{
	struct fix f;
	uint8_t x[CF_ID_BYTES], y[CF_ID_BYTES];
	const uint8_t *a, *b, *c;

	commit_world(&f, x, y);
	a = f.dev[A]->device_id;
	b = f.dev[B]->device_id;
	c = f.dev[C]->device_id;
	/* B named seq 0: it was not yet added. */
	CHECK_RC(cf_chain_check_commit(f.c, x, 1, b, 0, f.c->hash[0], 0, 0, 1),
	    NOTAUTH);
	CHECK_RC(cf_chain_check_commit(f.c, x, 1, b, 1, f.c->hash[1], 0, 0, 1), 0);
	/* B named its own removal: no longer trusted there. */
	CHECK_RC(cf_chain_check_commit(f.c, x, 1, b, 3, f.c->hash[3], 0, 0, 3),
	    NOTAUTH);
	/* A stranger. */
	CHECK_RC(cf_chain_check_commit(f.c, x, 1, c, 2, f.c->hash[2], 0, 0, 2),
	    NOTAUTH);
	/* Sealed under another epoch than the one current at the head. */
	CHECK_RC(cf_chain_check_commit(f.c, x, 1, a, 1, f.c->hash[1], 0, 0, 2),
	    NOTAUTH);
	CHECK_RC(cf_chain_check_commit(f.c, x, 1, a, 2, f.c->hash[2], 0, 0, 1),
	    NOTAUTH);
	CHECK_RC(cf_chain_check_commit(f.c, x, 1, a, 3, f.c->hash[3], 0, 0, 2),
	    NOTAUTH);
	CHECK_RC(cf_chain_check_commit(f.c, x, 1, a, 3, f.c->hash[3], 0, 0, 3), 0);
	CHECK_RC(cf_chain_check_commit(f.c, x, 1, a, 1, f.c->hash[1], 0, 0, 1), 0);
	fix_free(&f);
}

static void
commit_removed_author(void)
{
	struct fix f;
	uint8_t x[CF_ID_BYTES], y[CF_ID_BYTES];
	const uint8_t *b;

	commit_world(&f, x, y);
	b = f.dev[B]->device_id;
	/* B, removed at 3 with drive X recorded at version 5, names seq 2
	 * (where it was trusted): only versions <= 5 of X. */
	CHECK_RC(cf_chain_check_commit(f.c, x, 5, b, 2, f.c->hash[2], 1, 1, 2), 0);
	CHECK_RC(cf_chain_check_commit(f.c, x, 3, b, 2, f.c->hash[2], 1, 1, 2), 0);
	CHECK_RC(cf_chain_check_commit(f.c, x, 6, b, 2, f.c->hash[2], 1, 1, 2),
	    NOTAUTH);
	CHECK_RC(cf_chain_check_commit(f.c, x, 100, b, 1, f.c->hash[1], 0, 0, 1),
	    NOTAUTH);
	/* Drive Y is not in the removal: none of B's commits. */
	CHECK_RC(cf_chain_check_commit(f.c, y, 1, b, 2, f.c->hash[2], 0, 0, 2),
	    NOTAUTH);
	CHECK_RC(cf_chain_check_commit(f.c, y, 1, b, 1, f.c->hash[1], 0, 0, 1),
	    NOTAUTH);
	/* Control: the same commits by A (never removed) pass. */
	CHECK_RC(cf_chain_check_commit(f.c, x, 6, f.dev[A]->device_id, 2,
	    f.c->hash[2], 1, 1, 2), 0);
	CHECK_RC(cf_chain_check_commit(f.c, y, 1, f.dev[A]->device_id, 2,
	    f.c->hash[2], 0, 0, 2), 0);
	fix_free(&f);
}

/* A verifier that has not seen the removal accepts B; one that has, not. */
static void
commit_pin_before_removal(void)
{
	struct fix f;
	struct cf_chain *old;
	uint8_t x[CF_ID_BYTES], y[CF_ID_BYTES];

	commit_world(&f, x, y);
	old = pin_at(&f, 3);
	CHECK_RC(cf_chain_check_commit(old, y, 9, f.dev[B]->device_id, 2,
	    f.c->hash[2], 0, 0, 2), 0);
	CHECK_RC(cf_chain_extend(old, (const uint8_t *const *)f.entry, f.len,
	    f.n, 0), 0);
	CHECK_RC(cf_chain_check_commit(old, y, 9, f.dev[B]->device_id, 2,
	    f.c->hash[2], 0, 0, 2), NOTAUTH);
	cf_chain_free(old);
	fix_free(&f);
}

/*
 * A state whose recovery-key array is exactly full (8 registrations: the
 * genesis and seven set-recovery-key entries) is cloned -- as every
 * extend does -- without reading past the array (ASan), and the clone
 * holds the same keys and accepts the same next entry.
 */
static void
clone_full_rk_array(void)
{
	struct fix f;
	struct cf_recovery_keys rk;
	struct cf_signer s;
	struct cf_chain *t = NULL;
	uint8_t secret[CF_RECOVERY_SECRET_BYTES], k[CF_KEY_BYTES];
	uint8_t *e;
	size_t len, i;
	const uint8_t *ents[1];

	fix_init(&f);
	s = fix_signer(&f, A);
	for (i = 1; i < 8; i++) {
		randombytes_buf(secret, sizeof(secret));
		CHECK_RC(cf_recovery_derive(secret, f.account_id, &rk), 0);
		CHECK_RC(cf_entry_set_rk(f.c, &s, &rk, ++f.time, k, &e, &len),
		    0);
		fix_push(&f, e, len);
		fix_new_key(&f, k);
	}
	CHECK(f.c->nrks == 8);
	CHECK_RC(cf_chain_clone(f.c, &t), 0);
	CHECK(t != NULL && t->nrks == 8 &&
	    memcmp(t->rks, f.c->rks, 8 * sizeof(*t->rks)) == 0);
	cf_chain_free(t);
	/* Extending (a clone inside) with one more registration. */
	randombytes_buf(secret, sizeof(secret));
	CHECK_RC(cf_recovery_derive(secret, f.account_id, &rk), 0);
	CHECK_RC(cf_entry_set_rk(f.c, &s, &rk, ++f.time, k, &e, &len), 0);
	ents[0] = e;
	CHECK_RC(cf_chain_extend(f.c, ents, &len, 1, f.c->n), 0);
	CHECK(f.c->nrks == 9);
	free(e);
	sodium_memzero(&rk, sizeof(rk));
	sodium_memzero(k, sizeof(k));
	fix_free(&f);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(genesis_honest);
	T_RUN(genesis_forged_control);
	T_RUN(genesis_account_id_recomputed);
	T_RUN(genesis_signer_recomputed);
	T_RUN(genesis_rk_reg);
	T_RUN(genesis_epoch_block);
	T_RUN(genesis_low_order_keys);
	T_RUN(genesis_only_first);
	T_RUN(entry_header_rules);
	T_RUN(entry_signature_rules);
	T_RUN(entry_stranger_and_removed_signer);
	T_RUN(entry_sizes_and_trailing);
	T_RUN(add_honest);
	T_RUN(add_pop);
	T_RUN(add_epoch_current);
	T_RUN(add_never_twice);
	T_RUN(add_ghost_device);
	T_RUN(add_key_and_name_box_rules);
	T_RUN(add_by_recovery_key);
	T_RUN(add_trusted_cap);
	T_RUN(remove_honest);
	T_RUN(remove_target_trusted);
	T_RUN(remove_drive_records);
	T_RUN(remove_recipients);
	T_RUN(remove_last_device);
	T_RUN(remove_floor);
	T_RUN(rotate_recipients);
	T_RUN(setrk_rules);
	T_RUN(writers_refuse_bad_inputs);
	T_RUN(name_box_rules);
	T_RUN(name_box_padding);
	T_RUN(extend_honest);
	T_RUN(extend_fork);
	T_RUN(extend_rollback_and_gap);
	T_RUN(extend_all_or_nothing);
	T_RUN(clone_full_rk_array);
	T_RUN(pin_round_trip);
	T_RUN(pin_tampered);
	T_RUN(commit_named_head);
	T_RUN(commit_author_and_epoch);
	T_RUN(commit_removed_author);
	T_RUN(commit_pin_before_removal);
	T_DONE("chain");
}
