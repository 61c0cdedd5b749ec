/*
 * Envelopes (FORMAT §15): made by the signer of the chain entry they
 * belong to, opened by a recipient against its verified chain.  Each
 * refusal is made with the real keys of whoever could have made it, next
 * to a control that differs only in the rule under test.
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
#include "util/buf.h"
#include "chain_fix.h"
#include "t.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC

/* Offsets in an envelope. */
#define ENV_OFF_ACCOUNT	5
#define ENV_OFF_HASH	37
#define ENV_OFF_EPOCH	69
#define ENV_OFF_RECIP	77
#define ENV_OFF_SLEN	109
#define ENV_OFF_SEALED	113

/* An envelope of the first ${epoch} keys of ${f} for device ${to}. */
static uint8_t *
env_for(struct fix *f, const uint8_t *entry_hash, const struct cf_signer *s,
    uint64_t epoch, const uint8_t (*keys)[CF_KEY_BYTES], const uint8_t *to_id,
    const uint8_t *to_box_pk, size_t *lenp)
{
	uint8_t *env = NULL;

	if (cf_envelope_make(f->account_id, entry_hash, s, epoch, keys, to_id,
	    to_box_pk, &env, lenp) != 0)
		fix_die("envelope");
	return env;
}

static uint8_t *
env_dev(struct fix *f, const uint8_t *entry_hash, int by, int to, size_t *lenp)
{
	struct cf_signer s = fix_signer(f, by);

	return env_for(f, entry_hash, &s, f->nkeys,
	    (const uint8_t (*)[CF_KEY_BYTES])f->keys, f->dev[to]->device_id,
	    f->dev[to]->box_pk, lenp);
}

/* Open as device ${who}; return the result, check the keys on success. */
static int
open_as(struct fix *f, int who, const uint8_t *env, size_t len)
{
	uint8_t (*keys)[CF_KEY_BYTES] = NULL;
	uint64_t n = 99;
	int r;

	r = cf_envelope_open(f->c, f->dev[who]->device_id, f->dev[who]->box_pk,
	    f->dev[who]->box_sk, env, len, &keys, &n);
	if (r == 0) {
		CHECK(keys != NULL && n == f->nkeys);
		if (keys != NULL && n == f->nkeys)
			CHECK(sodium_memcmp(keys, f->keys, (size_t)n * CF_KEY_BYTES)
			    == 0);
		if (keys != NULL)
			sodium_free(keys);
	} else {
		CHECK(keys == NULL && n == 0);
	}
	return r;
}

static int
open_as_rk(struct fix *f, int k, const uint8_t *env, size_t len)
{
	uint8_t (*keys)[CF_KEY_BYTES] = NULL;
	uint64_t n = 0;
	int r;

	r = cf_envelope_open(f->c, f->rk_id[k], f->rk[k].box_pk, f->rk[k].box_sk,
	    env, len, &keys, &n);
	if (r == 0) {
		CHECK(keys != NULL && n == f->nkeys &&
		    sodium_memcmp(keys, f->keys, (size_t)n * CF_KEY_BYTES) == 0);
		sodium_free(keys);
	} else {
		CHECK(keys == NULL && n == 0);
	}
	return r;
}

/* Re-sign an envelope in place as ${sk} (after changing what it signs). */
static void
env_resign(uint8_t *env, size_t len, const uint8_t *sk)
{
	uint32_t slen = cf_be32dec(env + ENV_OFF_SLEN);
	size_t plen = sizeof(CF_LABEL_ENV) - 1;
	size_t mlen = plen + 32 + 32 + 8 + 32 + slen;
	uint8_t *m = malloc(mlen);

	if (m == NULL || ENV_OFF_SEALED + slen + 32 + 64 != len)
		fix_die("resign");
	memcpy(m, CF_LABEL_ENV, plen);
	memcpy(m + plen, env + ENV_OFF_ACCOUNT, 32 + 32 + 8 + 32);
	memcpy(m + plen + 104, env + ENV_OFF_SEALED, slen);
	crypto_sign_detached(env + len - 64, NULL, m, mlen, sk);
	free(m);
}

/*
 * forge_env(f, hash, sk, signer_id, epoch, to, plain, plen, lenp):
 * An envelope around an arbitrary plaintext, sealed to ${to}, signed by
 * ${sk} as ${signer_id}.
 */
static uint8_t *
forge_env_to(struct fix *f, const uint8_t *entry_hash, const uint8_t *sk,
    const uint8_t *signer_id, uint64_t epoch, const uint8_t *recipient_id,
    int to, const uint8_t *plain, size_t plen, size_t *lenp)
{
	struct cf_wr w;
	uint8_t *sealed, *env = NULL;
	size_t off;

	cf_wr_init(&w, CF_ENV_MAX, 0);
	cf_wr_bytes(&w, "CFEV", 4);
	cf_wr_u8(&w, 1);
	cf_wr_bytes(&w, f->account_id, 32);
	cf_wr_bytes(&w, entry_hash, 32);
	cf_wr_u64(&w, epoch);
	cf_wr_bytes(&w, recipient_id, 32);
	cf_wr_u32(&w, (uint32_t)(plen + crypto_box_SEALBYTES));
	off = w.len;
	if (cf_wr_reserve(&w, plen + crypto_box_SEALBYTES) == NULL)
		fix_die("reserve");
	sealed = w.p + off;
	if (crypto_box_seal(sealed, plain, plen, f->dev[to]->box_pk) != 0)
		fix_die("seal");
	cf_wr_bytes(&w, signer_id, 32);
	if (cf_wr_reserve(&w, 64) == NULL || cf_wr_finish(&w, &env, lenp) != 0)
		fix_die("finish");
	env_resign(env, *lenp, sk);
	return env;
}

static uint8_t *
forge_env(struct fix *f, const uint8_t *entry_hash, const uint8_t *sk,
    const uint8_t *signer_id, uint64_t epoch, int to, const uint8_t *plain,
    size_t plen, size_t *lenp)
{
	return forge_env_to(f, entry_hash, sk, signer_id, epoch,
	    f->dev[to]->device_id, to, plain, plen, lenp);
}

/* The plaintext "keys" of FORMAT §15 with every field a parameter. */
static uint8_t *
keys_plain(const char *tag, uint8_t version, const uint8_t *account,
    uint64_t epoch, uint32_t n, const uint8_t (*keys)[CF_KEY_BYTES],
    uint64_t first_e, size_t extra, size_t *lenp)
{
	struct cf_wr w;
	uint8_t *p;
	uint32_t i;

	cf_wr_init(&w, 1 << 20, 1);
	cf_wr_bytes(&w, tag, 4);
	cf_wr_u8(&w, version);
	cf_wr_bytes(&w, account, 32);
	cf_wr_u64(&w, epoch);
	cf_wr_u32(&w, n);
	for (i = 0; i < n; i++) {
		cf_wr_u64(&w, first_e + i);
		cf_wr_bytes(&w, keys[i], CF_KEY_BYTES);
	}
	for (i = 0; i < extra; i++)
		cf_wr_u8(&w, 0);
	if (cf_wr_finish(&w, &p, lenp) != 0)
		fix_die("keys plain");
	return p;
}

/* ---- Honest envelopes ------------------------------------------------------------ */

static void
env_genesis(void)
{
	struct fix f;
	struct cf_signer s;
	uint8_t *env;
	size_t len;

	fix_init(&f);
	/* A's own envelope and the recovery key's, for the genesis entry. */
	env = env_dev(&f, f.c->hash[0], A, A, &len);
	CHECK_RC(open_as(&f, A, env, len), 0);
	free(env);
	s = fix_signer(&f, A);
	env = env_for(&f, f.c->hash[0], &s, 1,
	    (const uint8_t (*)[CF_KEY_BYTES])f.keys, f.rk_id[0], f.rk[0].box_pk,
	    &len);
	CHECK_RC(open_as_rk(&f, 0, env, len), 0);
	free(env);
	fix_free(&f);
}

static void
env_new_epochs(void)
{
	struct fix f;
	uint8_t *env;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	/* B's envelope for its add entry, by the adder. */
	env = env_dev(&f, f.c->hash[1], A, B, &len);
	CHECK_RC(open_as(&f, B, env, len), 0);
	free(env);
	/* B rotates: envelopes of keys 1..2 for A and B, signed by B. */
	fix_rotate(&f, B);
	env = env_dev(&f, f.c->hash[2], B, A, &len);
	CHECK_RC(open_as(&f, A, env, len), 0);
	free(env);
	env = env_dev(&f, f.c->hash[2], B, B, &len);
	CHECK_RC(open_as(&f, B, env, len), 0);
	free(env);
	/* C joins epoch 2 (added by A). */
	fix_add(&f, A, C);
	env = env_dev(&f, f.c->hash[3], A, C, &len);
	CHECK_RC(open_as(&f, C, env, len), 0);
	free(env);
	/* The recovery key is replaced: the new one opens epoch 3. */
	fix_setrk(&f, C, 1);
	{
		struct cf_signer s = fix_signer(&f, C);

		env = env_for(&f, f.c->hash[4], &s, 3,
		    (const uint8_t (*)[CF_KEY_BYTES])f.keys, f.rk_id[1],
		    f.rk[1].box_pk, &len);
		CHECK_RC(open_as_rk(&f, 1, env, len), 0);
		free(env);
		/* The old recovery key is not a recipient of epoch 3. */
		env = env_for(&f, f.c->hash[4], &s, 3,
		    (const uint8_t (*)[CF_KEY_BYTES])f.keys, f.rk_id[0],
		    f.rk[0].box_pk, &len);
		CHECK_RC(open_as_rk(&f, 0, env, len), NOTAUTH);
		free(env);
	}
	fix_free(&f);
}

/* A device added by the recovery key gets its envelope from the recovery key. */
static void
env_added_by_recovery_key(void)
{
	struct fix f;
	struct cf_signer s;
	uint8_t *e, *env;
	size_t len;

	fix_init(&f);
	s = fix_rk_signer(&f, 0);
	if (fix_add_entry(&f, &s, B, &e, &len) != 0)
		fix_die("add");
	fix_push(&f, e, len);
	env = env_for(&f, f.c->hash[1], &s, 1,
	    (const uint8_t (*)[CF_KEY_BYTES])f.keys, f.dev[B]->device_id,
	    f.dev[B]->box_pk, &len);
	CHECK_RC(open_as(&f, B, env, len), 0);
	free(env);
	/* The same envelope signed by A (not the add's signer): refused. */
	env = env_dev(&f, f.c->hash[1], A, B, &len);
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	fix_free(&f);
}

/* ---- Refusals ----------------------------------------------------------------- */

static void
env_old_epoch(void)
{
	struct fix f;
	uint8_t *env;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	/* Epoch 1's envelope for B: fine while epoch 1 is current... */
	env = env_dev(&f, f.c->hash[1], A, B, &len);
	CHECK_RC(open_as(&f, B, env, len), 0);
	/* ...but served as current after the rotation: refused. */
	fix_rotate(&f, A);
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	/* And the genesis envelope for A. */
	{
		struct cf_signer s = fix_signer(&f, A);

		env = env_for(&f, f.c->hash[0], &s, 1,
		    (const uint8_t (*)[CF_KEY_BYTES])f.keys, f.dev[A]->device_id,
		    f.dev[A]->box_pk, &len);
		CHECK_RC(open_as(&f, A, env, len), NOTAUTH);
		free(env);
	}
	/* The current epoch's starting entry, by its signer, but an older
	 * epoch number and the keys only up to it -- all of them right:
	 * the epoch is taken from the chain, never from the envelope. */
	{
		struct cf_signer s = fix_signer(&f, A);

		env = env_for(&f, f.c->hash[2], &s, 1,
		    (const uint8_t (*)[CF_KEY_BYTES])f.keys, f.dev[B]->device_id,
		    f.dev[B]->box_pk, &len);
		CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
		free(env);
		env = env_for(&f, f.c->hash[2], &s, 2,
		    (const uint8_t (*)[CF_KEY_BYTES])f.keys, f.dev[B]->device_id,
		    f.dev[B]->box_pk, &len);
		CHECK_RC(open_as(&f, B, env, len), 0);
		free(env);
	}
	/* An envelope claiming a future epoch. */
	{
		struct cf_signer s = fix_signer(&f, A);
		uint8_t k3[3][CF_KEY_BYTES];

		memcpy(k3, f.keys, 2 * CF_KEY_BYTES);
		randombytes_buf(k3[2], CF_KEY_BYTES);
		env = env_for(&f, f.c->hash[2], &s, 3,
		    (const uint8_t (*)[CF_KEY_BYTES])k3, f.dev[A]->device_id,
		    f.dev[A]->box_pk, &len);
		CHECK_RC(open_as(&f, A, env, len), NOTAUTH);
		free(env);
	}
	fix_free(&f);
}

static void
env_wrong_entry(void)
{
	struct fix f;
	uint8_t *env, junk[CF_ID_BYTES];
	size_t len;

	fix_init(&f);
	fix_rotate(&f, A);	/* seq 1 starts epoch 2 */
	fix_add(&f, A, B);	/* seq 2 adds B */
	fix_add(&f, A, C);	/* seq 3 adds C */
	/* Control. */
	env = env_dev(&f, f.c->hash[1], A, B, &len);
	CHECK_RC(open_as(&f, B, env, len), 0);
	free(env);
	/* The entry that started epoch 1, not this one. */
	env = env_dev(&f, f.c->hash[0], A, B, &len);
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	/* An add entry of this epoch, but for C, not B. */
	env = env_dev(&f, f.c->hash[3], A, B, &len);
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	env = env_dev(&f, f.c->hash[2], A, B, &len);	/* B's own: fine */
	CHECK_RC(open_as(&f, B, env, len), 0);
	free(env);
	/* A's envelope may not name B's add entry. */
	env = env_dev(&f, f.c->hash[2], A, A, &len);
	CHECK_RC(open_as(&f, A, env, len), NOTAUTH);
	free(env);
	/* A hash of nothing in the chain. */
	randombytes_buf(junk, sizeof(junk));
	env = env_dev(&f, junk, A, B, &len);
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	fix_free(&f);
}

/* An add entry of an earlier epoch is not an entry of this one. */
static void
env_add_of_earlier_epoch(void)
{
	struct fix f;
	uint8_t *env;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);	/* seq 1, epoch 1 */
	fix_rotate(&f, A);	/* seq 2, epoch 2 */
	env = env_dev(&f, f.c->hash[1], A, B, &len);	/* keys 1..2 */
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	env = env_dev(&f, f.c->hash[2], A, B, &len);
	CHECK_RC(open_as(&f, B, env, len), 0);
	free(env);
	fix_free(&f);
}

static void
env_signer_not_entry_signer(void)
{
	struct fix f;
	uint8_t *env;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	fix_add(&f, A, C);
	/* A rotates; B (trusted) signs an envelope for A's rotate. */
	fix_rotate(&f, A);
	env = env_dev(&f, f.c->hash[3], B, C, &len);
	CHECK_RC(open_as(&f, C, env, len), NOTAUTH);
	free(env);
	env = env_dev(&f, f.c->hash[3], A, C, &len);
	CHECK_RC(open_as(&f, C, env, len), 0);
	free(env);
	/* A removes B.  B -- removed -- signs an envelope for the removal
	 * entry (it even has the right keys here): refused, because B did
	 * not sign that entry. */
	fix_remove(&f, A, B, NULL, 0);
	env = env_dev(&f, f.c->hash[4], B, C, &len);
	CHECK_RC(open_as(&f, C, env, len), NOTAUTH);
	free(env);
	env = env_dev(&f, f.c->hash[4], A, C, &len);
	CHECK_RC(open_as(&f, C, env, len), 0);
	free(env);
	/* The signer id names A, but B's key signed. */
	env = env_dev(&f, f.c->hash[4], A, C, &len);
	env_resign(env, len, f.dev[B]->sign_sk);
	CHECK_RC(open_as(&f, C, env, len), NOTAUTH);
	free(env);
	/* The signer id names B, and A's key signed. */
	env = env_dev(&f, f.c->hash[4], A, C, &len);
	memcpy(env + len - 96, f.dev[B]->device_id, CF_ID_BYTES);
	CHECK_RC(open_as(&f, C, env, len), NOTAUTH);
	free(env);
	fix_free(&f);
}

static void
env_recipient(void)
{
	struct fix f;
	uint8_t *env;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	fix_rotate(&f, A);
	/* C was never added: not in the list. */
	env = env_dev(&f, f.c->hash[2], A, C, &len);
	CHECK_RC(open_as(&f, C, env, len), NOTAUTH);
	free(env);
	/* An envelope to B opened by A. */
	env = env_dev(&f, f.c->hash[2], A, B, &len);
	CHECK_RC(open_as(&f, A, env, len), NOTAUTH);
	CHECK_RC(open_as(&f, B, env, len), 0);
	free(env);
	/* Sealed to A and signed by the entry's signer, but addressed to B:
	 * A refuses it (the recipient id must be its own). */
	{
		size_t plen;
		uint8_t *p = keys_plain("CFEK", 1, f.account_id, 2, 2,
		    (const uint8_t (*)[CF_KEY_BYTES])f.keys, 1, 0, &plen);

		env = forge_env_to(&f, f.c->hash[2], f.dev[A]->sign_sk,
		    f.dev[A]->device_id, 2, f.dev[B]->device_id, A, p, plen, &len);
		CHECK_RC(open_as(&f, A, env, len), NOTAUTH);
		free(env);
		env = forge_env_to(&f, f.c->hash[2], f.dev[A]->sign_sk,
		    f.dev[A]->device_id, 2, f.dev[A]->device_id, A, p, plen, &len);
		CHECK_RC(open_as(&f, A, env, len), 0);
		free(env);
		cf_wipefree(p, plen);
	}
	/* B removed: an envelope to B for the removal's epoch. */
	fix_remove(&f, A, B, NULL, 0);
	env = env_dev(&f, f.c->hash[3], A, B, &len);
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	env = env_dev(&f, f.c->hash[3], A, A, &len);
	CHECK_RC(open_as(&f, A, env, len), 0);
	free(env);
	fix_free(&f);
}

static void
env_tampered(void)
{
	struct fix f;
	uint8_t *env, *m;
	size_t len, i;
	int bad = 0;

	fix_init(&f);
	fix_add(&f, A, B);
	env = env_dev(&f, f.c->hash[1], A, B, &len);
	CHECK_RC(open_as(&f, B, env, len), 0);
	/* The sealed box changed and the envelope re-signed by its rightful
	 * signer: the box itself must fail. */
	for (i = ENV_OFF_SEALED; i < len - 96; i += 11) {
		m = fix_dup(env, len);
		m[i] ^= 0x04;
		env_resign(m, len, f.dev[A]->sign_sk);
		if (open_as(&f, B, m, len) != NOTAUTH)
			bad++;
		free(m);
	}
	CHECK(bad == 0);
	/* Any byte flipped, not re-signed. */
	for (i = 0; i < len; i++) {
		m = fix_dup(env, len);
		m[i] ^= 0x80;
		if (open_as(&f, B, m, len) != NOTAUTH)
			bad++;
		free(m);
	}
	CHECK(bad == 0);
	/* Trailing bytes; truncation. */
	m = malloc(len + 1);
	memcpy(m, env, len);
	m[len] = 0;
	CHECK_RC(open_as(&f, B, m, len + 1), NOTAUTH);
	free(m);
	for (i = 0; i < len; i += 17)
		CHECK_RC(open_as(&f, B, env, i), NOTAUTH);
	CHECK_RC(open_as(&f, B, NULL, 0), NOTAUTH);
	free(env);
	fix_free(&f);
}

static void
env_wrong_keys(void)
{
	struct fix f;
	struct cf_signer s;
	uint8_t k[2][CF_KEY_BYTES];
	uint8_t *env;
	size_t len;

	fix_init(&f);
	fix_add(&f, A, B);
	fix_rotate(&f, A);
	s = fix_signer(&f, A);
	/* K_2 is not the key epoch 2 committed to. */
	memcpy(k, f.keys, sizeof(k));
	k[1][0] ^= 1;
	env = env_for(&f, f.c->hash[2], &s, 2, (const uint8_t (*)[CF_KEY_BYTES])k,
	    f.dev[B]->device_id, f.dev[B]->box_pk, &len);
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	/* K_1 wrong, K_2 right. */
	memcpy(k, f.keys, sizeof(k));
	k[0][31] ^= 1;
	env = env_for(&f, f.c->hash[2], &s, 2, (const uint8_t (*)[CF_KEY_BYTES])k,
	    f.dev[B]->device_id, f.dev[B]->box_pk, &len);
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	/* The two keys swapped. */
	memcpy(k[0], f.keys[1], CF_KEY_BYTES);
	memcpy(k[1], f.keys[0], CF_KEY_BYTES);
	env = env_for(&f, f.c->hash[2], &s, 2, (const uint8_t (*)[CF_KEY_BYTES])k,
	    f.dev[B]->device_id, f.dev[B]->box_pk, &len);
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	sodium_memzero(k, sizeof(k));
	fix_free(&f);
}

/* The plaintext inside must name this account and epoch, in order. */
static void
env_inner_plaintext(void)
{
	struct fix f;
	uint8_t other[CF_ID_BYTES];
	uint8_t *p, *env;
	size_t plen, len;
	const uint8_t *h;
	const uint8_t *sk;
	const uint8_t *aid;
	const uint8_t (*ks)[CF_KEY_BYTES];

	fix_init(&f);
	fix_add(&f, A, B);
	fix_rotate(&f, A);
	h = f.c->hash[2];
	sk = f.dev[A]->sign_sk;
	aid = f.dev[A]->device_id;
	ks = (const uint8_t (*)[CF_KEY_BYTES])f.keys;
	memset(other, 0x42, sizeof(other));

	/* Control: a hand-made plaintext that is right. */
	p = keys_plain("CFEK", 1, f.account_id, 2, 2, ks, 1, 0, &plen);
	env = forge_env(&f, h, sk, aid, 2, B, p, plen, &len);
	CHECK_RC(open_as(&f, B, env, len), 0);
	free(env);
	cf_wipefree(p, plen);

#define BAD_PLAIN(expr) do {						\
	p = (expr);							\
	env = forge_env(&f, h, sk, aid, 2, B, p, plen, &len);		\
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);			\
	free(env);							\
	cf_wipefree(p, plen);						\
} while (0)

	BAD_PLAIN(keys_plain("CFEX", 1, f.account_id, 2, 2, ks, 1, 0, &plen));
	BAD_PLAIN(keys_plain("CFEK", 2, f.account_id, 2, 2, ks, 1, 0, &plen));
	BAD_PLAIN(keys_plain("CFEK", 1, other, 2, 2, ks, 1, 0, &plen));
	/* Inner epoch 1 with its one right key, outer epoch 2. */
	BAD_PLAIN(keys_plain("CFEK", 1, f.account_id, 1, 1, ks, 1, 0, &plen));
	/* Epoch numbers not 1, 2. */
	BAD_PLAIN(keys_plain("CFEK", 1, f.account_id, 2, 2, ks, 0, 0, &plen));
	/* A byte after the keys. */
	BAD_PLAIN(keys_plain("CFEK", 1, f.account_id, 2, 2, ks, 1, 1, &plen));
	/* Only the current key. */
	BAD_PLAIN(keys_plain("CFEK", 1, f.account_id, 2, 1, ks + 1, 2, 0, &plen));
	/* The right keys 1 and 2 (so the right length), but an inner epoch
	 * field of 3: only the inner epoch check refuses it. */
	BAD_PLAIN(keys_plain("CFEK", 1, f.account_id, 3, 2, ks, 1, 0, &plen));
#undef BAD_PLAIN
	/* The outer account id is another, signed over by the entry's signer;
	 * the sealed keys are this account's: only the outer check refuses. */
	p = keys_plain("CFEK", 1, f.account_id, 2, 2, ks, 1, 0, &plen);
	env = forge_env(&f, h, sk, aid, 2, B, p, plen, &len);
	memcpy(env + ENV_OFF_ACCOUNT, other, CF_ID_BYTES);
	env_resign(env, len, sk);
	CHECK_RC(open_as(&f, B, env, len), NOTAUTH);
	free(env);
	cf_wipefree(p, plen);
	fix_free(&f);
}

static void
env_make_refuses(void)
{
	struct fix f;
	struct cf_signer s;
	uint8_t low[CF_BOX_PK_BYTES];
	uint8_t *env = (uint8_t *)1;
	size_t len = 1;

	fix_init(&f);
	s = fix_signer(&f, A);
	/* A low-order recipient key: the seal's X25519 result is checked. */
	memset(low, 0, sizeof(low));
	CHECK_RC(cf_envelope_make(f.account_id, f.c->hash[0], &s, 1,
	    (const uint8_t (*)[CF_KEY_BYTES])f.keys, f.dev[B]->device_id, low,
	    &env, &len), COFFER_EINVAL);
	CHECK(env == NULL && len == 0);
	CHECK_RC(cf_envelope_make(f.account_id, f.c->hash[0], &s, 0,
	    (const uint8_t (*)[CF_KEY_BYTES])f.keys, f.dev[B]->device_id,
	    f.dev[B]->box_pk, &env, &len), COFFER_EINVAL);
	fix_free(&f);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(env_genesis);
	T_RUN(env_new_epochs);
	T_RUN(env_added_by_recovery_key);
	T_RUN(env_old_epoch);
	T_RUN(env_wrong_entry);
	T_RUN(env_add_of_earlier_epoch);
	T_RUN(env_signer_not_entry_signer);
	T_RUN(env_recipient);
	T_RUN(env_tampered);
	T_RUN(env_wrong_keys);
	T_RUN(env_inner_plaintext);
	T_RUN(env_make_refuses);
	T_DONE("envelope");
}
