/* The bounded reader and writer. */
#include <stdint.h>
#include <string.h>

#include "coffer/coffer.h"
#include "util/buf.h"
#include "t.h"

static void
rd_integers(void)
{
	static const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	struct cf_rd r;

	cf_rd_init(&r, in, sizeof(in), COFFER_ENOTAUTHENTIC);
	CHECK(cf_rd_u8(&r) == 0x01);
	CHECK(cf_rd_u16(&r) == 0x0203);
	CHECK(cf_rd_u32(&r) == 0x04050607);
	CHECK(cf_rd_u64(&r) == 0x08090a0b0c0d0e0fULL);
	CHECK_RC(cf_rd_end(&r), 0);
}

static void
rd_trailing_refused(void)
{
	static const uint8_t in[] = { 0, 0, 0, 1, 0xff };
	struct cf_rd r;

	cf_rd_init(&r, in, sizeof(in), COFFER_EFORMAT);
	CHECK(cf_rd_u32(&r) == 1);
	CHECK_RC(cf_rd_end(&r), COFFER_EFORMAT);
	CHECK(cf_rd_left(&r) == 1);
}

static void
rd_short_is_sticky(void)
{
	static const uint8_t in[] = { 1, 2, 3 };
	struct cf_rd r;

	cf_rd_init(&r, in, sizeof(in), COFFER_ENOTAUTHENTIC);
	CHECK(cf_rd_u32(&r) == 0);
	/* After an error nothing more is read, even what would fit. */
	CHECK(cf_rd_u8(&r) == 0);
	CHECK(cf_rd_bytes(&r, 0) == NULL);
	CHECK_RC(cf_rd_end(&r), COFFER_ENOTAUTHENTIC);
	CHECK(cf_rd_left(&r) == 0);
}

static void
rd_lstr_caps(void)
{
	static const uint8_t ok[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	static const uint8_t lie[] = { 0, 0, 0, 9, 'a', 'b', 'c' };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	const uint8_t *p;
	uint32_t n;
	struct cf_rd r;

	cf_rd_init(&r, ok, sizeof(ok), COFFER_EFORMAT);
	p = cf_rd_lstr(&r, 3, &n);
	CHECK(p != NULL && n == 3 && memcmp(p, "abc", 3) == 0);
	CHECK_RC(cf_rd_end(&r), 0);

	/* Above the caller's cap, though the bytes are there. */
	cf_rd_init(&r, ok, sizeof(ok), COFFER_EFORMAT);
	CHECK(cf_rd_lstr(&r, 2, &n) == NULL && n == 0);
	CHECK_RC(cf_rd_end(&r), COFFER_EFORMAT);

	/* A length that lies about what follows. */
	cf_rd_init(&r, lie, sizeof(lie), COFFER_EFORMAT);
	CHECK(cf_rd_lstr(&r, 100, &n) == NULL);
	CHECK_RC(cf_rd_end(&r), COFFER_EFORMAT);

	/* A length near 2^32 must not wrap an offset. */
	cf_rd_init(&r, huge, sizeof(huge), COFFER_EFORMAT);
	CHECK(cf_rd_lstr(&r, UINT32_MAX, &n) == NULL);
	CHECK_RC(cf_rd_end(&r), COFFER_EFORMAT);

	/* Reading SIZE_MAX bytes fails without overflow. */
	cf_rd_init(&r, ok, sizeof(ok), COFFER_EFORMAT);
	(void)cf_rd_u8(&r);
	CHECK(cf_rd_bytes(&r, SIZE_MAX) == NULL);
	CHECK_RC(cf_rd_end(&r), COFFER_EFORMAT);
}

static void
rd_expect_and_copy(void)
{
	static const uint8_t in[] = { 'C', 'F', 'X', 'X', 9 };
	uint8_t out[8];
	struct cf_rd r;

	cf_rd_init(&r, in, sizeof(in), COFFER_EFORMAT);
	cf_rd_expect(&r, "CFXX", 4);
	CHECK(cf_rd_u8(&r) == 9);
	CHECK_RC(cf_rd_end(&r), 0);

	cf_rd_init(&r, in, sizeof(in), COFFER_EFORMAT);
	cf_rd_expect(&r, "CFYY", 4);
	CHECK_RC(cf_rd_end(&r), COFFER_EFORMAT);

	memset(out, 0x55, sizeof(out));
	cf_rd_init(&r, in, sizeof(in), COFFER_EFORMAT);
	cf_rd_copy(&r, out, sizeof(out));
	CHECK(out[0] == 0 && out[7] == 0);
	CHECK_RC(cf_rd_end(&r), COFFER_EFORMAT);

	cf_rd_init(&r, NULL, 10, COFFER_EFORMAT);
	CHECK(cf_rd_u8(&r) == 0);
	CHECK_RC(cf_rd_end(&r), COFFER_EFORMAT);
}

static void
wr_roundtrip(void)
{
	struct cf_wr w;
	struct cf_rd r;
	uint8_t *p;
	size_t n;
	uint32_t sl;
	const uint8_t *s;

	cf_wr_init(&w, 1024, 0);
	cf_wr_u8(&w, 7);
	cf_wr_u16(&w, 0xbeef);
	cf_wr_u32(&w, 0xdeadbeef);
	cf_wr_u64(&w, 0x0123456789abcdefULL);
	cf_wr_lstr(&w, "hello", 5);
	CHECK_RC(cf_wr_finish(&w, &p, &n), 0);
	CHECK(n == 1 + 2 + 4 + 8 + 4 + 5);

	cf_rd_init(&r, p, n, COFFER_EFORMAT);
	CHECK(cf_rd_u8(&r) == 7);
	CHECK(cf_rd_u16(&r) == 0xbeef);
	CHECK(cf_rd_u32(&r) == 0xdeadbeef);
	CHECK(cf_rd_u64(&r) == 0x0123456789abcdefULL);
	s = cf_rd_lstr(&r, 16, &sl);
	CHECK(s != NULL && sl == 5 && memcmp(s, "hello", 5) == 0);
	CHECK_RC(cf_rd_end(&r), 0);
	free(p);
}

static void
wr_cap(void)
{
	struct cf_wr w;
	uint8_t big[100] = { 0 };
	uint8_t *p = (uint8_t *)1;
	size_t n = 1;
	int i;

	cf_wr_init(&w, 250, 1);
	for (i = 0; i < 2; i++)
		cf_wr_bytes(&w, big, sizeof(big));
	CHECK(w.err == 0 && w.len == 200);
	cf_wr_bytes(&w, big, 51);		/* 251 > 250 */
	CHECK(w.err == COFFER_ETOOBIG);
	cf_wr_u8(&w, 1);			/* sticky */
	CHECK(w.len == 200);
	CHECK_RC(cf_wr_finish(&w, &p, &n), COFFER_ETOOBIG);
	CHECK(p == NULL && n == 0);

	/* Exactly at the cap is fine; growth is capped at max. */
	cf_wr_init(&w, 250, 0);
	cf_wr_bytes(&w, big, 100);
	cf_wr_bytes(&w, big, 100);
	cf_wr_bytes(&w, big, 50);
	CHECK(w.err == 0 && w.len == 250 && w.cap == 250);
	CHECK(cf_wr_reserve(&w, 1) == NULL);
	cf_wr_free(&w);

	/* An empty result is a valid buffer. */
	cf_wr_init(&w, 10, 0);
	CHECK_RC(cf_wr_finish(&w, &p, &n), 0);
	CHECK(p != NULL && n == 0);
	free(p);
}

static void
be_helpers(void)
{
	uint8_t b[8];

	cf_be64enc(b, 0x1122334455667788ULL);
	CHECK(b[0] == 0x11 && b[7] == 0x88);
	CHECK(cf_be64dec(b) == 0x1122334455667788ULL);
	cf_be32enc(b, 0xa1b2c3d4);
	CHECK(cf_be32dec(b) == 0xa1b2c3d4);
}

static void
errors_have_texts(void)
{
	CHECK(strstr(coffer_strerror(COFFER_ENOTAUTHENTIC), "not authentic") != NULL);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(rd_integers);
	T_RUN(rd_trailing_refused);
	T_RUN(rd_short_is_sticky);
	T_RUN(rd_lstr_caps);
	T_RUN(rd_expect_and_copy);
	T_RUN(wr_roundtrip);
	T_RUN(wr_cap);
	T_RUN(be_helpers);
	T_RUN(errors_have_texts);
	T_DONE("buf");
}
