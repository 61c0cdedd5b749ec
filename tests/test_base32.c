/* Base32 (Crockford alphabet) used by recovery keys and pairing codes. */
#include <string.h>

#include "coffer/coffer.h"
#include "util/base32.h"
#include "t.h"
#include "util.h"

static void
known_values(void)
{
	static const uint8_t zero[5] = { 0 };
	static const uint8_t ff[5] = { 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t one[1] = { 0x08 };
	char out[16];

	cf_base32_encode(zero, 5, out);
	CHECK(strcmp(out, "00000000") == 0);
	cf_base32_encode(ff, 5, out);
	CHECK(strcmp(out, "ZZZZZZZZ") == 0);
	cf_base32_encode(one, 1, out);
	CHECK(strcmp(out, "10") == 0);	/* 00001 000|00 */
	CHECK(CF_BASE32_LEN(25) == 40);
	CHECK(CF_BASE32_LEN(16) == 26);
}

static void
roundtrip_all_lengths(void)
{
	uint8_t in[64], out[64];
	char txt[CF_BASE32_LEN(64) + 1];
	size_t n;

	tu_fill(in, sizeof(in), 3);
	for (n = 0; n <= sizeof(in); n++) {
		cf_base32_encode(in, n, txt);
		CHECK(strlen(txt) == CF_BASE32_LEN(n));
		CHECK_RC(cf_base32_decode(txt, strlen(txt), out, n), 0);
		CHECK(memcmp(in, out, n) == 0);
	}
}

static void
lenient_reading(void)
{
	uint8_t out[5];

	CHECK_RC(cf_base32_decode("zzzzzzzz", 8, out, 5), 0);
	CHECK(out[0] == 0xff && out[4] == 0xff);
	/* O reads as 0, I and L as 1. */
	CHECK_RC(cf_base32_decode("OOOOOOOO", 8, out, 5), 0);
	CHECK(out[0] == 0 && out[4] == 0);
	CHECK_RC(cf_base32_decode("iIlL1111", 8, out, 5), 0);
	CHECK(out[0] == 0x08 && out[1] == 0x42);
}

static void
strict_refusals(void)
{
	uint8_t out[5];

	/* U is not in the alphabet; nor are punctuation and NUL. */
	CHECK_RC(cf_base32_decode("0000000U", 8, out, 5), COFFER_EFORMAT);
	CHECK_RC(cf_base32_decode("0000000-", 8, out, 5), COFFER_EFORMAT);
	CHECK_RC(cf_base32_decode("0000000\0", 8, out, 5), COFFER_EFORMAT);
	/* Wrong length. */
	CHECK_RC(cf_base32_decode("0000000", 7, out, 5), COFFER_EFORMAT);
	CHECK_RC(cf_base32_decode("000000000", 9, out, 5), COFFER_EFORMAT);
	/* Non-zero spare bits: "11" would be 00001 00001 -> one byte + 2 bits. */
	CHECK_RC(cf_base32_decode("11", 2, out, 1), COFFER_EFORMAT);
	CHECK_RC(cf_base32_decode("10", 2, out, 1), 0);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(known_values);
	T_RUN(roundtrip_all_lengths);
	T_RUN(lenient_reading);
	T_RUN(strict_refusals);
	T_DONE("base32");
}
