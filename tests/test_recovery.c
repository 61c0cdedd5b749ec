/*
 * The recovery key (docs/FORMAT.md §5): text form, typo detection,
 * account binding and key derivation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "crypto/recovery.h"
#include "util/base32.h"
#include "t.h"
#include "util.h"

#define CHARS		40
#define TEXTLEN		47
#define GROUP		5
#define GROUPS		8

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static uint8_t g_acct_a[CF_ID_BYTES], g_acct_b[CF_ID_BYTES];

/* Index in the text of the i-th base32 character (dashes skipped). */
static size_t
pos_of(size_t i)
{
	return i + i / GROUP;
}

/* A key whose text has at least one '0' and one '1' (for O, I, L). */
static void
key_with_0_and_1(uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    char text[static CF_RECOVERY_TEXT_BYTES])
{
	uint64_t seed = 100;

	do {
		tu_fill(secret, CF_RECOVERY_SECRET_BYTES, seed++);
		cf_recovery_format(g_acct_a, secret, text);
	} while (strchr(text, '0') == NULL || strchr(text, '1') == NULL);
}

static int
parses_to(const char *text, size_t len, const uint8_t *secret)
{
	uint8_t s[CF_RECOVERY_SECRET_BYTES], tag[4];

	if (cf_recovery_parse(text, len, s, tag) != 0)
		return 0;
	return memcmp(s, secret, sizeof(s)) == 0 &&
	    cf_recovery_check_account(s, tag, g_acct_a) == 0;
}

/* Parse must fail with EBADKEY and leave its outputs zero. */
static int
refused(const char *text, size_t len)
{
	uint8_t s[CF_RECOVERY_SECRET_BYTES], tag[4];

	memset(s, 0xa5, sizeof(s));
	memset(tag, 0xa5, sizeof(tag));
	return cf_recovery_parse(text, len, s, tag) == COFFER_EBADKEY &&
	    sodium_is_zero(s, sizeof(s)) && sodium_is_zero(tag, sizeof(tag));
}

static void
secret_size(void)
{
	CHECK(CF_RECOVERY_SECRET_BYTES * 8 >= 128);
	CHECK(CF_BASE32_LEN(CF_RECOVERY_RAW_BYTES) == CHARS);
	CHECK(CF_RECOVERY_TEXT_BYTES == TEXTLEN + 1);
}

/* The text is exactly what FORMAT §5 computes, byte for byte. */
static void
format_is_spec(void)
{
	uint8_t secret[CF_RECOVERY_SECRET_BYTES], raw[CF_RECOVERY_RAW_BYTES];
	uint8_t h[32];
	crypto_generichash_state st;
	char text[CF_RECOVERY_TEXT_BYTES], b32[CHARS + 1], want[TEXTLEN + 1];
	size_t i, o = 0;

	tu_fill(secret, sizeof(secret), 7);
	memcpy(raw, secret, 16);
	crypto_generichash_init(&st, secret, 16, 32);
	crypto_generichash_update(&st, (const uint8_t *)"coffer-rk-acct-v1", 17);
	crypto_generichash_update(&st, g_acct_a, CF_ID_BYTES);
	crypto_generichash_final(&st, h, 32);
	memcpy(raw + 16, h, 4);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"coffer-rk-sum-v1", 16);
	crypto_generichash_update(&st, raw, 20);
	crypto_generichash_final(&st, h, 32);
	memcpy(raw + 20, h, 5);
	cf_base32_encode(raw, sizeof(raw), b32);
	for (i = 0; i < CHARS; i++) {
		if (i > 0 && i % GROUP == 0)
			want[o++] = '-';
		want[o++] = b32[i];
	}
	want[o] = '\0';

	cf_recovery_format(g_acct_a, secret, text);
	CHECK(strcmp(text, want) == 0);
	CHECK(strlen(text) == TEXTLEN);
}

static void
roundtrip(void)
{
	uint8_t secret[CF_RECOVERY_SECRET_BYTES], s2[CF_RECOVERY_SECRET_BYTES];
	uint8_t tag[4];
	char text[CF_RECOVERY_TEXT_BYTES], again[CF_RECOVERY_TEXT_BYTES];
	int n, i;

	for (n = 0; n < 200; n++) {
		memset(text, 'x', sizeof(text));
		CHECK_RC(cf_recovery_generate(g_acct_a, secret, text), 0);
		CHECK(strlen(text) == TEXTLEN);
		for (i = 0; i < TEXTLEN; i++) {
			if (i % (GROUP + 1) == GROUP)
				CHECK(text[i] == '-');
			else
				CHECK(strchr(alphabet, text[i]) != NULL);
		}
		CHECK_RC(cf_recovery_parse(text, strlen(text), s2, tag), 0);
		CHECK(memcmp(secret, s2, sizeof(s2)) == 0);
		CHECK_RC(cf_recovery_check_account(s2, tag, g_acct_a), 0);
		cf_recovery_format(g_acct_a, s2, again);
		CHECK(strcmp(text, again) == 0);
	}
	/* Two draws differ. */
	CHECK_RC(cf_recovery_generate(g_acct_a, s2, again), 0);
	CHECK(memcmp(secret, s2, sizeof(s2)) != 0);
}

/* How people type: any case, no dashes, spaces, O/I/L for 0/1. */
static void
lenient_reading(void)
{
	uint8_t secret[CF_RECOVERY_SECRET_BYTES];
	char text[CF_RECOVERY_TEXT_BYTES], t[3 * CF_RECOVERY_TEXT_BYTES];
	static const char *subst0 = "Oo", *subst1 = "IiLl";
	size_t i, o, k, j = 0;

	key_with_0_and_1(secret, text);
	CHECK(parses_to(text, strlen(text), secret));

	for (i = 0; text[i] != '\0'; i++)		/* lowercase */
		t[i] = (text[i] >= 'A' && text[i] <= 'Z') ?
		    (char)(text[i] - 'A' + 'a') : text[i];
	t[i] = '\0';
	CHECK(parses_to(t, strlen(t), secret));

	for (i = o = 0; text[i] != '\0'; i++)		/* no dashes */
		if (text[i] != '-')
			t[o++] = text[i];
	t[o] = '\0';
	CHECK(o == CHARS);
	CHECK(parses_to(t, o, secret));

	for (i = 0; text[i] != '\0'; i++)		/* spaces for dashes */
		t[i] = text[i] == '-' ? ' ' : text[i];
	t[i] = '\0';
	CHECK(parses_to(t, strlen(t), secret));

	/* Any white space anywhere, leading and trailing, doubled dashes. */
	o = 0;
	t[o++] = ' ';
	t[o++] = '\t';
	for (i = 0; text[i] != '\0'; i++) {
		t[o++] = text[i];
		if (i % 3 == 0)
			t[o++] = "\n\r\v\f\t -"[j++ % 7];
	}
	t[o++] = '-';
	t[o++] = '\n';
	t[o] = '\0';
	CHECK(parses_to(t, o, secret));

	/* O for 0, I and L for 1, in either case, one at a time. */
	for (i = 0; text[i] != '\0'; i++) {
		const char *subs = text[i] == '0' ? subst0 :
		    text[i] == '1' ? subst1 : NULL;

		if (subs == NULL)
			continue;
		for (k = 0; subs[k] != '\0'; k++) {
			memcpy(t, text, sizeof(text));
			t[i] = subs[k];
			CHECK(parses_to(t, TEXTLEN, secret));
		}
	}
	/* ... and all at once. */
	memcpy(t, text, sizeof(text));
	for (i = 0; t[i] != '\0'; i++)
		if (t[i] == '0')
			t[i] = 'o';
		else if (t[i] == '1')
			t[i] = 'L';
	CHECK(parses_to(t, TEXTLEN, secret));
}

/* Every wrong character at every position: 40 x 31 typos, all caught. */
static void
every_substitution(void)
{
	uint8_t secret[CF_RECOVERY_SECRET_BYTES];
	char text[CF_RECOVERY_TEXT_BYTES], t[CF_RECOVERY_TEXT_BYTES];
	size_t i, a, tried = 0;
	int seed;

	for (seed = 0; seed < 3; seed++) {
		tu_fill(secret, sizeof(secret), 1000 + (uint64_t)seed);
		cf_recovery_format(g_acct_a, secret, text);
		for (i = 0; i < CHARS; i++) {
			for (a = 0; a < 32; a++) {
				if (alphabet[a] == text[pos_of(i)])
					continue;
				memcpy(t, text, sizeof(t));
				t[pos_of(i)] = alphabet[a];
				CHECK(refused(t, TEXTLEN));
				tried++;
			}
		}
	}
	CHECK(tried == 3 * CHARS * 31);
}

/* Two different groups swapped: caught.  Adjacent transpositions too. */
static void
swaps(void)
{
	uint8_t secret[CF_RECOVERY_SECRET_BYTES];
	char text[CF_RECOVERY_TEXT_BYTES], t[CF_RECOVERY_TEXT_BYTES];
	size_t g, h, i, tried = 0;
	int seed;

	for (seed = 0; seed < 3; seed++) {
		tu_fill(secret, sizeof(secret), 2000 + (uint64_t)seed);
		cf_recovery_format(g_acct_a, secret, text);
		for (g = 0; g < GROUPS; g++) {
			for (h = g + 1; h < GROUPS; h++) {
				if (memcmp(text + g * 6, text + h * 6, GROUP) == 0)
					continue;
				memcpy(t, text, sizeof(t));
				memcpy(t + g * 6, text + h * 6, GROUP);
				memcpy(t + h * 6, text + g * 6, GROUP);
				CHECK(refused(t, TEXTLEN));
				tried++;
			}
		}
		for (i = 0; i + 1 < CHARS; i++) {
			if (text[pos_of(i)] == text[pos_of(i + 1)])
				continue;
			memcpy(t, text, sizeof(t));
			t[pos_of(i)] = text[pos_of(i + 1)];
			t[pos_of(i + 1)] = text[pos_of(i)];
			CHECK(refused(t, TEXTLEN));
		}
	}
	CHECK(tried > 3 * 20);
}

/* 39 or 41 characters, foreign characters, nothing at all. */
static void
wrong_length_or_chars(void)
{
	uint8_t secret[CF_RECOVERY_SECRET_BYTES];
	char text[CF_RECOVERY_TEXT_BYTES], t[CF_RECOVERY_TEXT_BYTES + 8];
	size_t i;
	static const char bad[] = "U*#_.+/=\x80\xff";

	tu_fill(secret, sizeof(secret), 3000);
	cf_recovery_format(g_acct_a, secret, text);

	CHECK(refused(text, TEXTLEN - 1));		/* 39 characters */
	memcpy(t, text, TEXTLEN);
	t[TEXTLEN] = '0';				/* 41 characters */
	t[TEXTLEN + 1] = '\0';
	CHECK(refused(t, TEXTLEN + 1));
	t[TEXTLEN] = 'A';
	CHECK(refused(t, TEXTLEN + 1));
	/* A character dropped from the middle, one added to the middle. */
	memcpy(t, text, 20);
	memcpy(t + 20, text + 21, TEXTLEN - 21);
	CHECK(refused(t, TEXTLEN - 1));
	memcpy(t, text, 20);
	t[20] = '7';
	memcpy(t + 21, text + 20, TEXTLEN - 20);
	CHECK(refused(t, TEXTLEN + 1));

	for (i = 0; bad[i] != '\0'; i++) {
		memcpy(t, text, sizeof(text));
		t[pos_of(9)] = bad[i];
		CHECK(refused(t, TEXTLEN));
	}
	memcpy(t, text, sizeof(text));
	t[pos_of(9)] = '\0';				/* a NUL inside */
	CHECK(refused(t, TEXTLEN));
	CHECK(refused("", 0));
	CHECK(refused(NULL, 0));
	CHECK(refused("--- \n", 5));
}

/* The tag commits to the account id. */
static void
other_account(void)
{
	uint8_t secret[CF_RECOVERY_SECRET_BYTES], s[CF_RECOVERY_SECRET_BYTES];
	uint8_t tag[4];
	char text[CF_RECOVERY_TEXT_BYTES];

	CHECK_RC(cf_recovery_generate(g_acct_a, secret, text), 0);
	CHECK_RC(cf_recovery_parse(text, TEXTLEN, s, tag), 0);
	CHECK_RC(cf_recovery_check_account(s, tag, g_acct_a), 0);
	CHECK_RC(cf_recovery_check_account(s, tag, g_acct_b), COFFER_EBADKEY);
	tag[3] ^= 1;
	CHECK_RC(cf_recovery_check_account(s, tag, g_acct_a), COFFER_EBADKEY);
	/* A key made for B parses (it is well typed) but is not A's. */
	cf_recovery_format(g_acct_b, secret, text);
	CHECK_RC(cf_recovery_parse(text, TEXTLEN, s, tag), 0);
	CHECK_RC(cf_recovery_check_account(s, tag, g_acct_b), 0);
	CHECK_RC(cf_recovery_check_account(s, tag, g_acct_a), COFFER_EBADKEY);
}

/* Deterministic key pairs, bound to the account; consistent halves. */
static void
derive(void)
{
	uint8_t secret[CF_RECOVERY_SECRET_BYTES], pk[32], seed[32];
	uint8_t sig[crypto_sign_BYTES];
	struct cf_recovery_keys a, a2, b, c;
	static const uint8_t msg[] = "coffer-test";

	tu_fill(secret, sizeof(secret), 4000);
	CHECK_RC(cf_recovery_derive(secret, g_acct_a, &a), 0);
	CHECK_RC(cf_recovery_derive(secret, g_acct_a, &a2), 0);
	CHECK(memcmp(&a, &a2, sizeof(a)) == 0);
	CHECK_RC(cf_recovery_derive(secret, g_acct_b, &b), 0);
	CHECK(memcmp(a.sign_pk, b.sign_pk, 32) != 0);
	CHECK(memcmp(a.box_pk, b.box_pk, 32) != 0);
	secret[0] ^= 1;
	CHECK_RC(cf_recovery_derive(secret, g_acct_a, &c), 0);
	CHECK(memcmp(a.sign_pk, c.sign_pk, 32) != 0);
	CHECK(memcmp(a.box_pk, c.box_pk, 32) != 0);
	secret[0] ^= 1;

	/* FORMAT §5: sign_seed = H_secret("coffer-rk-sign-v1" || account_id). */
	{
		crypto_generichash_state st;

		crypto_generichash_init(&st, secret, sizeof(secret), 32);
		crypto_generichash_update(&st,
		    (const uint8_t *)"coffer-rk-sign-v1", 17);
		crypto_generichash_update(&st, g_acct_a, CF_ID_BYTES);
		crypto_generichash_final(&st, seed, 32);
		crypto_sign_ed25519_sk_to_seed(pk, a.sign_sk);
		CHECK(memcmp(seed, pk, 32) == 0);

		crypto_generichash_init(&st, secret, sizeof(secret), 32);
		crypto_generichash_update(&st,
		    (const uint8_t *)"coffer-rk-box-v1", 16);
		crypto_generichash_update(&st, g_acct_a, CF_ID_BYTES);
		crypto_generichash_final(&st, seed, 32);
		CHECK(memcmp(seed, a.box_sk, 32) == 0);
	}
	crypto_sign_ed25519_sk_to_pk(pk, a.sign_sk);
	CHECK(memcmp(pk, a.sign_pk, 32) == 0);
	CHECK(crypto_scalarmult_base(pk, a.box_sk) == 0);
	CHECK(memcmp(pk, a.box_pk, 32) == 0);
	CHECK(!sodium_is_zero(a.box_pk, 32));
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), a.sign_sk);
	CHECK(crypto_sign_verify_detached(sig, msg, sizeof(msg), a.sign_pk) == 0);
	CHECK(crypto_sign_verify_detached(sig, msg, sizeof(msg), b.sign_pk) != 0);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	memset(g_acct_a, 0xaa, sizeof(g_acct_a));
	memset(g_acct_b, 0xbb, sizeof(g_acct_b));
	T_RUN(secret_size);
	T_RUN(format_is_spec);
	T_RUN(roundtrip);
	T_RUN(lenient_reading);
	T_RUN(every_substitution);
	T_RUN(swaps);
	T_RUN(wrong_length_or_chars);
	T_RUN(other_account);
	T_RUN(derive);
	T_DONE("recovery");
}
