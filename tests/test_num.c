/* The one decimal number parser (lib/util/num.h). */
#include <string.h>

#include "coffer/coffer.h"
#include "coffer/err.h"
#include "util/num.h"
#include "t.h"

#define P(s, max, v) cf_parse_u64((s), strlen(s), (max), (v))

static void
accepted(void)
{
	uint64_t v = 7;

	CHECK_RC(P("0", UINT64_MAX, &v), 0);
	CHECK(v == 0);
	CHECK_RC(P("1234567890", UINT64_MAX, &v), 0);
	CHECK(v == 1234567890);
	CHECK_RC(P("18446744073709551615", UINT64_MAX, &v), 0);
	CHECK(v == UINT64_MAX);
	/* Exactly at the caller's bound. */
	CHECK_RC(P("65535", 65535, &v), 0);
	CHECK(v == 65535);
	CHECK_RC(P("0", 0, &v), 0);
	/* The length, not the NUL, ends the number. */
	CHECK_RC(cf_parse_u64("123abc", 3, UINT64_MAX, &v), 0);
	CHECK(v == 123);
}

static void
refused(void)
{
	uint64_t v = 7;

	CHECK_RC(P("", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(cf_parse_u64(NULL, 3, UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P("-1", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P("+1", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P(" 1", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P("1 ", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P("0x10", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P("1e3", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P("01", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P("00", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(cf_parse_u64("1\0002", 3, UINT64_MAX, &v), COFFER_EFORMAT);
	/* Past the range, past the bound. */
	CHECK_RC(P("18446744073709551616", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P("99999999999999999999", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P("184467440737095516150", UINT64_MAX, &v), COFFER_EFORMAT);
	CHECK_RC(P("65536", 65535, &v), COFFER_EFORMAT);
	CHECK_RC(P("1", 0, &v), COFFER_EFORMAT);
	CHECK(v == 7);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(accepted);
	T_RUN(refused);
	T_DONE("num");
}
