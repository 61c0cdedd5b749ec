/* The batch frame: round trips, caps, and every way a frame can lie. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "net/frame.h"
#include "t.h"

static void
roundtrip(void)
{
	struct cf_frame_w f;
	struct cf_frame_item *it = NULL;
	uint8_t id1[CF_ID_BYTES], id2[CF_ID_BYTES], data[100], *buf = NULL;
	size_t len = 0, n = 0;

	memset(id1, 1, sizeof(id1));
	memset(id2, 2, sizeof(id2));
	memset(data, 0x5a, sizeof(data));
	cf_frame_begin(&f);
	CHECK_RC(cf_frame_add(&f, id1, data, sizeof(data)), 0);
	CHECK_RC(cf_frame_add(&f, id2, NULL, 0), 0);
	CHECK_RC(cf_frame_finish(&f, &buf, &len), 0);
	CHECK(len == CF_FRAME_HDR_BYTES + 2 * CF_FRAME_ITEM_HDR_BYTES + 100);
	CHECK(buf != NULL && memcmp(buf, "CFBF\x01\x00\x00\x00\x02", 9) == 0);
	CHECK_RC(cf_frame_decode(buf, len, COFFER_EFORMAT, &it, &n), 0);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(memcmp(it[0].id, id1, CF_ID_BYTES) == 0);
		CHECK(it[0].len == 100 && memcmp(it[0].data, data, 100) == 0);
		CHECK(memcmp(it[1].id, id2, CF_ID_BYTES) == 0);
		CHECK(it[1].len == 0 && it[1].data == NULL);
		CHECK_RC(cf_frame_unique(it, n), 0);
	}
	free(it);
	free(buf);
}

/* Objects written in place (the push seals straight into the frame). */
static void
in_place(void)
{
	struct cf_frame_w f, g;
	struct cf_frame_item *it = NULL;
	uint8_t id1[CF_ID_BYTES], id2[CF_ID_BYTES], id3[CF_ID_BYTES];
	uint8_t *q, *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0, n = 0;

	memset(id1, 1, sizeof(id1));
	memset(id2, 2, sizeof(id2));
	memset(id3, 3, sizeof(id3));
	cf_frame_begin(&f);
	CHECK_RC(cf_frame_room(&f, 4096), 0);
	q = cf_frame_add_open(&f, id1, 500);
	CHECK(q != NULL);
	if (q != NULL) {
		memset(q, 0x11, 300);
		cf_frame_add_close(&f, q, 500, 300);	/* shorter than reserved */
	}
	q = cf_frame_add_open(&f, id2, 100);
	CHECK(q != NULL);
	if (q != NULL)
		cf_frame_add_close(&f, q, 100, 101);	/* a failure: dropped */
	q = cf_frame_add_open(&f, id3, 0);
	CHECK(q != NULL);
	if (q != NULL)
		cf_frame_add_close(&f, q, 0, 0);
	/* Past the caps: refused, the frame unchanged. */
	CHECK(cf_frame_add_open(&f, id2, (size_t)CF_FRAME_OBJ_MAX + 1) == NULL);
	CHECK(cf_frame_add_open(&f, id2, CF_FRAME_MAX) == NULL);
	CHECK_RC(cf_frame_room(&f, CF_FRAME_MAX), COFFER_ETOOBIG);
	CHECK_RC(cf_frame_finish(&f, &buf, &len), 0);
	CHECK(len == CF_FRAME_HDR_BYTES + 2 * CF_FRAME_ITEM_HDR_BYTES + 300);
	CHECK_RC(cf_frame_decode(buf, len, COFFER_EFORMAT, &it, &n), 0);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(memcmp(it[0].id, id1, CF_ID_BYTES) == 0);
		CHECK(it[0].len == 300 && it[0].data[0] == 0x11 &&
		    it[0].data[299] == 0x11);
		CHECK(memcmp(it[1].id, id3, CF_ID_BYTES) == 0 && it[1].len == 0);
	}
	/* The same bytes as a frame built the usual way. */
	cf_frame_begin(&g);
	{
		uint8_t d[300];

		memset(d, 0x11, sizeof(d));
		CHECK_RC(cf_frame_add(&g, id1, d, sizeof(d)), 0);
		CHECK_RC(cf_frame_add(&g, id3, NULL, 0), 0);
	}
	CHECK_RC(cf_frame_finish(&g, &buf2, &len2), 0);
	CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
	free(it);
	free(buf);
	free(buf2);
}

static void
empty_frame(void)
{
	struct cf_frame_w f;
	struct cf_frame_item *it = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, n = 1;

	cf_frame_begin(&f);
	CHECK_RC(cf_frame_finish(&f, &buf, &len), 0);
	CHECK(len == CF_FRAME_HDR_BYTES);
	CHECK_RC(cf_frame_decode(buf, len, COFFER_EFORMAT, &it, &n), 0);
	CHECK(n == 0 && it == NULL);
	free(buf);
}

static void
malformed_refused(void)
{
	uint8_t b[CF_FRAME_HDR_BYTES + CF_FRAME_ITEM_HDR_BYTES + 4];
	struct cf_frame_item *it = NULL;
	size_t n = 0, i;

	memset(b, 0, sizeof(b));
	memcpy(b, "CFBF\x01\x00\x00\x00\x01", 9);
	cf_be32enc(b + 9 + 32, 4);
	CHECK_RC(cf_frame_decode(b, sizeof(b), COFFER_EFORMAT, &it, &n), 0);
	free(it);
	it = NULL;
	/* Every truncation is refused. */
	for (i = 0; i < sizeof(b); i++)
		CHECK_RC(cf_frame_decode(b, i, COFFER_ENOTAUTHENTIC, &it, &n),
		    COFFER_ENOTAUTHENTIC);
	/* Bad tag, bad version. */
	b[0] = 'X';
	CHECK_RC(cf_frame_decode(b, sizeof(b), COFFER_EFORMAT, &it, &n),
	    COFFER_EFORMAT);
	b[0] = 'C';
	b[4] = 2;
	CHECK_RC(cf_frame_decode(b, sizeof(b), COFFER_EFORMAT, &it, &n),
	    COFFER_EFORMAT);
	b[4] = 1;
	/* A length that lies (longer, shorter). */
	cf_be32enc(b + 9 + 32, 5);
	CHECK_RC(cf_frame_decode(b, sizeof(b), COFFER_EFORMAT, &it, &n),
	    COFFER_EFORMAT);
	cf_be32enc(b + 9 + 32, 3);
	CHECK_RC(cf_frame_decode(b, sizeof(b), COFFER_EFORMAT, &it, &n),
	    COFFER_EFORMAT);
	cf_be32enc(b + 9 + 32, 0xffffffffU);
	CHECK_RC(cf_frame_decode(b, sizeof(b), COFFER_EFORMAT, &it, &n),
	    COFFER_EFORMAT);
	cf_be32enc(b + 9 + 32, 4);
	/* A count that lies, and one past the cap. */
	cf_be32enc(b + 5, 2);
	CHECK_RC(cf_frame_decode(b, sizeof(b), COFFER_EFORMAT, &it, &n),
	    COFFER_EFORMAT);
	cf_be32enc(b + 5, CF_FRAME_COUNT_MAX + 1);
	CHECK_RC(cf_frame_decode(b, sizeof(b), COFFER_EFORMAT, &it, &n),
	    COFFER_EFORMAT);
	cf_be32enc(b + 5, 0);
	CHECK_RC(cf_frame_decode(b, sizeof(b), COFFER_EFORMAT, &it, &n),
	    COFFER_EFORMAT);	/* trailing bytes */
	CHECK(it == NULL && n == 0);
}

static void
duplicates_found(void)
{
	struct cf_frame_item it[3];
	uint8_t a[CF_ID_BYTES], b[CF_ID_BYTES];

	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	memset(it, 0, sizeof(it));
	it[0].id = a;
	it[1].id = b;
	it[2].id = a;
	CHECK_RC(cf_frame_unique(it, 2), 0);
	CHECK_RC(cf_frame_unique(it, 3), COFFER_EFORMAT);
}

static void
caps_enforced(void)
{
	struct cf_frame_w f;
	uint8_t id[CF_ID_BYTES], *buf = NULL, *big;
	size_t len = 0;
	uint32_t i;
	int rc = 0;

	memset(id, 7, sizeof(id));
	cf_frame_begin(&f);
	for (i = 0; i < CF_FRAME_COUNT_MAX && rc == 0; i++)
		rc = cf_frame_add(&f, id, NULL, 0);
	CHECK_RC(rc, 0);
	CHECK_RC(cf_frame_add(&f, id, NULL, 0), COFFER_ETOOBIG);
	CHECK_RC(cf_frame_finish(&f, &buf, &len), 0);
	free(buf);

	big = calloc(1, (size_t)CF_FRAME_OBJ_MAX + 1);
	CHECK(big != NULL);
	if (big == NULL)
		return;
	cf_frame_begin(&f);
	CHECK_RC(cf_frame_add(&f, id, big, (size_t)CF_FRAME_OBJ_MAX + 1),
	    COFFER_ETOOBIG);
	CHECK_RC(cf_frame_add(&f, id, big, CF_FRAME_OBJ_MAX), 0);
	CHECK_RC(cf_frame_add(&f, id, big, CF_FRAME_OBJ_MAX), 0);
	CHECK_RC(cf_frame_add(&f, id, big, CF_FRAME_OBJ_MAX), 0);
	/* A fourth would pass the 64 MiB frame cap. */
	CHECK_RC(cf_frame_add(&f, id, big, CF_FRAME_OBJ_MAX), COFFER_ETOOBIG);
	cf_frame_abort(&f);
	free(big);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	T_RUN(roundtrip);
	T_RUN(in_place);
	T_RUN(empty_frame);
	T_RUN(malformed_refused);
	T_RUN(duplicates_found);
	T_RUN(caps_enforced);
	T_DONE("frame");
}
