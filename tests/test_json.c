/*
 * The one JSON helper set of the wire (lib/net/json.h), used by the client
 * and the server: bounds, the empty rule, padding, overlong and
 * non-canonical text.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coffer/coffer.h"
#include "coffer/err.h"
#include "net/json.h"
#include "t.h"
#include "util.h"

/* cf_json_b64 of the C string ${s} with the bounds given. */
static int
b64(const char *s, size_t min, size_t max, size_t *lenp)
{
	json_t *v = json_string(s);
	uint8_t *p = NULL;
	size_t len = 0;
	int rc;

	rc = cf_json_b64(v, min, max, &p, &len);
	if (rc == 0)
		CHECK(p != NULL);
	else
		CHECK(p == NULL && len == 0);
	if (lenp != NULL)
		*lenp = len;
	free(p);
	json_decref(v);
	return rc;
}

static void
b64_roundtrip(void)
{
	uint8_t in[300], *out = NULL;
	size_t n, len;
	json_t *v;

	tu_fill(in, sizeof(in), 7);
	for (n = 1; n <= sizeof(in); n++) {
		v = cf_json_b64_new(in, n);
		CHECK(v != NULL && json_string_length(v) == CF_B64_LEN(n));
		CHECK(CF_B64_BYTES_MAX(CF_B64_LEN(n)) >= n &&
		    CF_B64_BYTES_MAX(CF_B64_LEN(n)) < n + 3);
		/* Exactly at the cap, and exact length, both pass. */
		CHECK_RC(cf_json_b64(v, 1, n, &out, &len), 0);
		CHECK(len == n && memcmp(in, out, n) == 0);
		free(out);
		CHECK_RC(cf_json_b64(v, n, n, &out, &len), 0);
		free(out);
		/* One byte under the length, or over the minimum: refused. */
		CHECK_RC(cf_json_b64(v, 1, n - 1, &out, &len),
		    COFFER_EFORMAT);
		CHECK(out == NULL);
		CHECK_RC(cf_json_b64(v, n + 1, n + 1, &out, &len),
		    COFFER_EFORMAT);
		json_decref(v);
	}
}

static void
b64_empty(void)
{
	size_t len = 99;

	/* Empty decodes only where the caller allows it (min 0). */
	CHECK_RC(b64("", 1, 16, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("", 0, 16, &len), 0);
	CHECK(len == 0);
	CHECK_RC(b64("", 0, 0, &len), 0);
}

static void
b64_refusals(void)
{
	json_t *n;
	uint8_t *p = (uint8_t *)"x";
	size_t len = 1;

	/* Padding missing, wrong or inside. */
	CHECK_RC(b64("QQ", 1, 16, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("QQ=", 1, 16, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("QQ===", 1, 16, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("Q===", 1, 16, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("QQ==QQ==", 1, 16, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("QQ==", 1, 16, NULL), 0);
	/* Non-canonical: spare bits set ("QR==" is 'A' with bits left). */
	CHECK_RC(b64("QR==", 1, 16, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("QUI=", 1, 16, NULL), 0);
	CHECK_RC(b64("QUJ=", 1, 16, NULL), COFFER_EFORMAT);
	/* Another alphabet, whitespace, NUL inside. */
	CHECK_RC(b64("-_-_", 1, 16, NULL), COFFER_EFORMAT);
	/* Bytes past 0x7f (libsodium alone reads some as letters). */
	CHECK_RC(b64("\335\255JD", 1, 16, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("QUJ\304", 1, 16, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("QUJD ", 1, 16, NULL), COFFER_EFORMAT);
	CHECK_RC(b64(" QUJD", 1, 16, NULL), COFFER_EFORMAT);
	n = json_stringn("QU\0D", 4);
	CHECK_RC(cf_json_b64(n, 1, 16, &p, &len), COFFER_EFORMAT);
	CHECK(p == NULL && len == 0);
	json_decref(n);
	/* Overlong: refused before any decoding (3 bytes over a cap of 2). */
	CHECK_RC(b64("QUJD", 1, 2, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("QUJDREVG", 1, 5, NULL), COFFER_EFORMAT);
	CHECK_RC(b64("QUJDREVG", 1, 6, NULL), 0);
	/* Not a string, absent, bounds the wrong way round. */
	n = json_integer(5);
	CHECK_RC(cf_json_b64(n, 0, 16, &p, &len), COFFER_EFORMAT);
	json_decref(n);
	CHECK_RC(cf_json_b64(NULL, 0, 16, &p, &len), COFFER_EFORMAT);
	CHECK_RC(b64("QQ==", 2, 1, NULL), COFFER_EFORMAT);
}

static void
hex(void)
{
	uint8_t in[CF_JSON_HEX_MAX + 1], out[CF_JSON_HEX_MAX];
	json_t *v;

	tu_fill(in, sizeof(in), 9);
	v = cf_json_hex_new(in, CF_JSON_HEX_MAX);
	CHECK(v != NULL);
	CHECK_RC(cf_json_hex(v, out, CF_JSON_HEX_MAX), 0);
	CHECK(memcmp(in, out, CF_JSON_HEX_MAX) == 0);
	/* Exact length only. */
	CHECK_RC(cf_json_hex(v, out, CF_JSON_HEX_MAX - 1), COFFER_EFORMAT);
	json_decref(v);
	CHECK(cf_json_hex_new(in, CF_JSON_HEX_MAX + 1) == NULL);
	CHECK_RC(cf_hex_decode("00ff", out, 2), 0);
	CHECK(out[0] == 0 && out[1] == 0xff);
	CHECK_RC(cf_hex_decode("00FF", out, 2), 0);
	CHECK_RC(cf_hex_decode("00f", out, 2), COFFER_EFORMAT);
	CHECK_RC(cf_hex_decode("00fff", out, 2), COFFER_EFORMAT);
	CHECK_RC(cf_hex_decode("00fg", out, 2), COFFER_EFORMAT);
	CHECK_RC(cf_hex_decode("00:f", out, 2), COFFER_EFORMAT);
	CHECK_RC(cf_hex_decode(" 00f", out, 2), COFFER_EFORMAT);
	CHECK_RC(cf_hex_decode(NULL, out, 2), COFFER_EFORMAT);
	CHECK_RC(cf_hex_decode("", out, 0), 0);
	v = json_stringn("00\0f", 4);
	CHECK_RC(cf_json_hex(v, out, 2), COFFER_EFORMAT);
	json_decref(v);
	CHECK_RC(cf_json_hex(NULL, out, 2), COFFER_EFORMAT);
}

static void
u64(void)
{
	json_t *o = json_loads("{\"a\": 0, \"b\": 9223372036854775807, "
	    "\"c\": -1, \"d\": 1.5, \"e\": \"7\", \"f\": null}", 0, NULL);
	uint64_t v = 42;

	CHECK(o != NULL);
	CHECK_RC(cf_json_u64(o, "a", &v), 0);
	CHECK(v == 0);
	CHECK_RC(cf_json_u64(o, "b", &v), 0);
	CHECK(v == 9223372036854775807ULL);
	CHECK_RC(cf_json_u64(o, "c", &v), COFFER_EFORMAT);
	CHECK_RC(cf_json_u64(o, "d", &v), COFFER_EFORMAT);
	CHECK_RC(cf_json_u64(o, "e", &v), COFFER_EFORMAT);
	CHECK_RC(cf_json_u64(o, "f", &v), COFFER_EFORMAT);
	CHECK_RC(cf_json_u64(o, "absent", &v), COFFER_EFORMAT);
	CHECK(v == 9223372036854775807ULL);
	json_decref(o);
}

static void
objects_and_depth(void)
{
	static const char deep8[] = "{\"a\":[[[[[[[1]]]]]]]}";
	static const char deep9[] = "{\"a\":[[[[[[[[1]]]]]]]]}";
	static const char instr[] = "{\"a\":\"[[[[[[[[[[[[\\\"[[[\"}";
	json_t *o;

#define OBJ(s) cf_json_object((const uint8_t *)(s), strlen(s))
	CHECK(cf_json_depth_ok((const uint8_t *)deep8, strlen(deep8), 8));
	CHECK(!cf_json_depth_ok((const uint8_t *)deep9, strlen(deep9), 8));
	CHECK(cf_json_depth_ok((const uint8_t *)instr, strlen(instr), 1));
	CHECK((o = OBJ(deep8)) != NULL);
	json_decref(o);
	CHECK(OBJ(deep9) == NULL);
	CHECK((o = OBJ(instr)) != NULL);
	json_decref(o);
	CHECK(OBJ("{\"a\":1,\"a\":2}") == NULL);	/* duplicate key */
	CHECK(OBJ("[1]") == NULL);			/* not an object */
	CHECK(OBJ("{\"a\":1") == NULL);
	CHECK(OBJ("") == NULL);
	CHECK(cf_json_object(NULL, 0) == NULL);
#undef OBJ
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(b64_roundtrip);
	T_RUN(b64_empty);
	T_RUN(b64_refusals);
	T_RUN(hex);
	T_RUN(u64);
	T_RUN(objects_and_depth);
	T_DONE("json");
}
