/*
 * A fixed account for the chain, envelope and pin fuzzers: a
 * deterministic randombytes (installed before coffer_init, as the test
 * RNG of FORMAT §10 does) makes the same keys and entries in every run,
 * so that the seed corpora stay valid next entries of this chain.
 *
 *   seq 0  genesis by A (recovery key R0)
 *   seq 1  A adds B
 *   seq 2  B rotates (epoch 2)
 *   seq 3  R0 adds C
 */
#ifndef FUZZ_CHAIN_FIXTURE_H
#define FUZZ_CHAIN_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chain/chain.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"

struct fz {
	struct cf_device_keys *a, *b, *c, *d;
	struct cf_recovery_keys rk, rk2;
	uint8_t rk_id[CF_ID_BYTES], rk2_id[CF_ID_BYTES];
	struct cf_chain *chain;
	uint8_t keys[2][CF_KEY_BYTES];
	uint8_t *entry[4];
	size_t len[4];
};

static struct fz fz;
static uint64_t fz_calls;
static uint8_t fz_key[crypto_stream_chacha20_KEYBYTES];

static const char *
fz_rng_name(void)
{
	return "coffer-fuzz-fixed";
}

static void
fz_rng_buf(void *buf, size_t len)
{
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	uint64_t n = fz_calls++;
	size_t i;

	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(n >> (8 * i));
	memset(buf, 0, len);
	crypto_stream_chacha20((uint8_t *)buf, len, nonce, fz_key);
}

static uint32_t
fz_rng_random(void)
{
	uint8_t b[4];

	fz_rng_buf(b, sizeof(b));
	return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
	    ((uint32_t)b[3] << 24);
}

static struct randombytes_implementation fz_rng = {
	.implementation_name = fz_rng_name,
	.random = fz_rng_random,
	.stir = NULL,
	.uniform = NULL,
	.buf = fz_rng_buf,
	.close = NULL,
};

static void
fz_die(const char *what)
{
	(void)what;
	abort();
}

static struct cf_signer
fz_signer(const struct cf_device_keys *k)
{
	struct cf_signer s;

	memcpy(s.id, k->device_id, CF_ID_BYTES);
	s.sign_sk = k->sign_sk;
	return s;
}

static void
fz_push(int i, uint8_t *e, size_t len)
{
	if (cf_chain_append(fz.chain, e, len) != 0)
		fz_die("append");
	fz.entry[i] = e;
	fz.len[i] = len;
}

/* Build the fixture; call once, first thing. */
static void
fz_init(void)
{
	static const uint8_t secret[CF_RECOVERY_SECRET_BYTES] = { 1, 2, 3 };
	static const uint8_t secret2[CF_RECOVERY_SECRET_BYTES] = { 4, 5, 6 };
	uint8_t rand[CF_GENESIS_RAND_BYTES], acct[CF_ID_BYTES];
	uint8_t pop[CF_SIG_BYTES];
	struct cf_signer s;
	uint8_t *e;
	size_t len;

	memset(fz_key, 0x42, sizeof(fz_key));
	randombytes_set_implementation(&fz_rng);
	if (coffer_init() != 0)
		fz_die("init");
	if (cf_keys_generate(&fz.a) != 0 || cf_keys_generate(&fz.b) != 0 ||
	    cf_keys_generate(&fz.c) != 0 || cf_keys_generate(&fz.d) != 0)
		fz_die("keys");
	cf_chain_genesis_begin(fz.a, rand, acct);
	if (cf_recovery_derive(secret, acct, &fz.rk) != 0 ||
	    cf_recovery_derive(secret2, acct, &fz.rk2) != 0)
		fz_die("recovery");
	cf_device_id(fz.rk.sign_pk, fz.rk.box_pk, fz.rk_id);
	cf_device_id(fz.rk2.sign_pk, fz.rk2.box_pk, fz.rk2_id);
	if (cf_chain_new(&fz.chain) != 0)
		fz_die("chain");
	if (cf_entry_genesis_rand(fz.a, rand, "A", 1, &fz.rk, 1000, fz.keys[0],
	    &e, &len) != 0)
		fz_die("genesis");
	fz_push(0, e, len);
	s = fz_signer(fz.a);
	cf_pop_sign(fz.b, acct, pop);
	if (cf_entry_add(fz.chain, &s, fz.b->sign_pk, fz.b->box_pk, pop, "B", 1,
	    fz.keys[0], 1001, &e, &len) != 0)
		fz_die("add");
	fz_push(1, e, len);
	s = fz_signer(fz.b);
	if (cf_entry_rotate(fz.chain, &s, 1002, fz.keys[1], &e, &len) != 0)
		fz_die("rotate");
	fz_push(2, e, len);
	memcpy(s.id, fz.rk_id, CF_ID_BYTES);
	s.sign_sk = fz.rk.sign_sk;
	cf_pop_sign(fz.c, acct, pop);
	if (cf_entry_add(fz.chain, &s, fz.c->sign_pk, fz.c->box_pk, pop, "C", 1,
	    fz.keys[1], 1003, &e, &len) != 0)
		fz_die("add");
	fz_push(3, e, len);
}

#endif
