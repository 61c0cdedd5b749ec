/*
 * The recovery key (docs/FORMAT.md §5).
 *
 *   secret   = 16 random bytes
 *   tag      = first 4 bytes of H_secret("coffer-rk-acct-v1" || account_id)
 *   checksum = first 5 bytes of H("coffer-rk-sum-v1" || secret || tag)
 *   raw      = secret || tag || checksum                      (25 bytes)
 *   text     = base32(raw), 8 groups of 5 characters joined by "-"
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/base32.h"
#include "util/buf.h"
#include "labels.h"
#include "recovery.h"

#define RK_TAG_BYTES		4
#define RK_SUM_BYTES		5
#define RK_HASH_BYTES		32
#define RK_CHARS		CF_BASE32_LEN(CF_RECOVERY_RAW_BYTES)	/* 40 */
#define RK_GROUP_CHARS		5
#define RK_GROUPS		(RK_CHARS / RK_GROUP_CHARS)		/* 8 */
#define RK_SEP			'-'

/* raw = secret || tag || checksum, as a structure without padding. */
struct rk_raw {
	uint8_t secret[CF_RECOVERY_SECRET_BYTES];
	uint8_t tag[RK_TAG_BYTES];
	uint8_t sum[RK_SUM_BYTES];
};

_Static_assert(sizeof(struct rk_raw) == CF_RECOVERY_RAW_BYTES, "FORMAT §5 raw");
_Static_assert(RK_CHARS == 40 && RK_CHARS % RK_GROUP_CHARS == 0, "groups");
_Static_assert(CF_RECOVERY_TEXT_BYTES == RK_CHARS + RK_GROUPS - 1 + 1,
    "text: groups, dashes, NUL");
_Static_assert(CF_RECOVERY_SECRET_BYTES >= crypto_generichash_KEYBYTES_MIN &&
    CF_RECOVERY_SECRET_BYTES <= crypto_generichash_KEYBYTES_MAX,
    "the secret keys BLAKE2b");
_Static_assert(CF_RECOVERY_SECRET_BYTES * 8 >= 128, "DESIGN §2: >= 128 bits");

/*
 * rk_keyed(secret, personal, account_id, out):
 * out = H_secret(personal || account_id).
 */
static void
rk_keyed(const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    const char *personal, const uint8_t account_id[static CF_ID_BYTES],
    uint8_t out[static RK_HASH_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, secret, CF_RECOVERY_SECRET_BYTES,
	    RK_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)personal,
	    strlen(personal));
	crypto_generichash_update(&st, account_id, CF_ID_BYTES);
	crypto_generichash_final(&st, out, RK_HASH_BYTES);
	sodium_memzero(&st, sizeof(st));
}

/* tag = first 4 bytes of H_secret("coffer-rk-acct-v1" || account_id). */
static void
rk_tag(const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint8_t tag[static RK_TAG_BYTES])
{
	uint8_t h[RK_HASH_BYTES];

	rk_keyed(secret, CF_LABEL_RK_ACCT, account_id, h);
	memcpy(tag, h, RK_TAG_BYTES);
	sodium_memzero(h, sizeof(h));
}

/* checksum = first 5 bytes of H("coffer-rk-sum-v1" || secret || tag). */
static void
rk_sum(const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    const uint8_t tag[static RK_TAG_BYTES], uint8_t sum[static RK_SUM_BYTES])
{
	crypto_generichash_state st;
	uint8_t h[RK_HASH_BYTES];

	crypto_generichash_init(&st, NULL, 0, RK_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_RK_SUM,
	    sizeof(CF_LABEL_RK_SUM) - 1);
	crypto_generichash_update(&st, secret, CF_RECOVERY_SECRET_BYTES);
	crypto_generichash_update(&st, tag, RK_TAG_BYTES);
	crypto_generichash_final(&st, h, RK_HASH_BYTES);
	memcpy(sum, h, RK_SUM_BYTES);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(h, sizeof(h));
}

/* White space as the C locale knows it, without asking the locale. */
static int
rk_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	    c == '\r';
}

int
cf_recovery_generate(const uint8_t account_id[static CF_ID_BYTES],
    uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    char text[static CF_RECOVERY_TEXT_BYTES])
{
	randombytes_buf(secret, CF_RECOVERY_SECRET_BYTES);
	cf_recovery_format(account_id, secret, text);
	return 0;
}

void
cf_recovery_format(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    char text[static CF_RECOVERY_TEXT_BYTES])
{
	struct rk_raw raw;
	char b32[RK_CHARS + 1];
	size_t i, o = 0;

	memcpy(raw.secret, secret, CF_RECOVERY_SECRET_BYTES);
	rk_tag(secret, account_id, raw.tag);
	rk_sum(raw.secret, raw.tag, raw.sum);
	cf_base32_encode((const uint8_t *)&raw, sizeof(raw), b32);
	for (i = 0; i < RK_CHARS; i++) {
		if (i > 0 && i % RK_GROUP_CHARS == 0)
			text[o++] = RK_SEP;
		text[o++] = b32[i];
	}
	text[o] = '\0';
	sodium_memzero(&raw, sizeof(raw));
	sodium_memzero(b32, sizeof(b32));
}

int
cf_recovery_parse(const char *text, size_t len,
    uint8_t secret[static CF_RECOVERY_SECRET_BYTES], uint8_t tag[static 4])
{
	struct cf_rd rd;
	uint8_t raw[CF_RECOVERY_RAW_BYTES];
	uint8_t sum[RK_SUM_BYTES];
	const uint8_t *given;
	char norm[RK_CHARS];
	size_t i, n = 0;
	int r;

	sodium_memzero(secret, CF_RECOVERY_SECRET_BYTES);
	sodium_memzero(tag, RK_TAG_BYTES);
	if (text == NULL && len > 0) {
		r = COFFER_EINVAL;
		goto out;
	}
	/* Case is the decoder's business; dashes and white space are dropped. */
	for (i = 0; i < len; i++) {
		if (text[i] == RK_SEP || rk_is_space(text[i]))
			continue;
		if (n == RK_CHARS) {
			r = COFFER_EBADKEY;
			goto out;
		}
		norm[n++] = text[i];
	}
	if (n != RK_CHARS ||
	    cf_base32_decode(norm, n, raw, CF_RECOVERY_RAW_BYTES) != 0) {
		r = COFFER_EBADKEY;
		goto out;
	}

	cf_rd_init(&rd, raw, sizeof(raw), COFFER_EBADKEY);
	cf_rd_copy(&rd, secret, CF_RECOVERY_SECRET_BYTES);
	cf_rd_copy(&rd, tag, RK_TAG_BYTES);
	given = cf_rd_bytes(&rd, RK_SUM_BYTES);
	if ((r = cf_rd_end(&rd)) != 0 || given == NULL) {
		r = COFFER_EBADKEY;
		goto out;
	}
	rk_sum(secret, tag, sum);
	if (sodium_memcmp(sum, given, RK_SUM_BYTES) != 0) {
		r = COFFER_EBADKEY;	/* a typo */
		goto out;
	}
	r = 0;

out:
	if (r != 0) {
		sodium_memzero(secret, CF_RECOVERY_SECRET_BYTES);
		sodium_memzero(tag, RK_TAG_BYTES);
	}
	sodium_memzero(norm, sizeof(norm));
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(sum, sizeof(sum));
	return r;
}

int
cf_recovery_check_account(const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    const uint8_t typed[static 4], const uint8_t account_id[static CF_ID_BYTES])
{
	uint8_t want[RK_TAG_BYTES];
	int r;

	/* ${typed} is the tag read from the key; compare in constant time. */
	rk_tag(secret, account_id, want);
	r = (sodium_memcmp(want, typed, RK_TAG_BYTES) == 0) ? 0 : COFFER_EBADKEY;
	sodium_memzero(want, sizeof(want));
	return r;
}

int
cf_recovery_derive(const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], struct cf_recovery_keys *rk)
{
	uint8_t seed[RK_HASH_BYTES];
	int r;

	_Static_assert(RK_HASH_BYTES == crypto_sign_SEEDBYTES, "sign seed");
	_Static_assert(RK_HASH_BYTES == crypto_scalarmult_SCALARBYTES, "box sk");

	sodium_memzero(rk, sizeof(*rk));
	rk_keyed(secret, CF_LABEL_RK_SIGN, account_id, seed);
	if (crypto_sign_seed_keypair(rk->sign_pk, rk->sign_sk, seed) != 0) {
		r = COFFER_EINTERNAL;
		goto out;
	}
	rk_keyed(secret, CF_LABEL_RK_BOX, account_id, rk->box_sk);
	/* Refuse an all-zero public key (checked X25519 output, DESIGN §2). */
	if (crypto_scalarmult_base(rk->box_pk, rk->box_sk) != 0 ||
	    sodium_is_zero(rk->box_pk, CF_BOX_PK_BYTES)) {
		r = COFFER_EBADKEY;
		goto out;
	}
	r = 0;

out:
	if (r != 0)
		sodium_memzero(rk, sizeof(*rk));
	sodium_memzero(seed, sizeof(seed));
	return r;
}
