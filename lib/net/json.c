/*
 * The JSON of the wire: bounded base64, hex and number fields, the depth
 * cap (json.h says the rules).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "coffer/err.h"
#include "net/json.h"

int
cf_json_depth_ok(const uint8_t *p, size_t n, int max)
{
	size_t i;
	int depth = 0, instr = 0, esc = 0, ok = 1;

	for (i = 0; i < n && ok; i++) {
		if (instr) {
			if (esc)
				esc = 0;
			else if (p[i] == '\\')
				esc = 1;
			else if (p[i] == '"')
				instr = 0;
		} else if (p[i] == '"') {
			instr = 1;
		} else if (p[i] == '{' || p[i] == '[') {
			if (++depth > max)
				ok = 0;
		} else if (p[i] == '}' || p[i] == ']') {
			depth--;
		}
	}
	return ok;
}

json_t *
cf_json_object(const uint8_t *p, size_t n)
{
	json_t *o = NULL;

	if (p == NULL || !cf_json_depth_ok(p, n, CF_JSON_DEPTH_MAX))
		goto out;
	o = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
out:
	return o;
}

/*
 * 1 if the ${sl} characters at ${s} are all of the base64 alphabet, but
 * for at most two '=' at the end.  libsodium's decoder alone takes some
 * bytes past 0x7f for letters.
 */
static int
b64_alphabet(const char *s, size_t sl)
{
	size_t i, pad = 0;

	while (pad < 2 && pad < sl && s[sl - 1 - pad] == '=')
		pad++;
	for (i = 0; i < sl - pad; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return 0;
	}
	return 1;
}

/* Decode exactly ${n} bytes from the ${sl} characters at ${s}. */
static int
hex_n(const char *s, size_t sl, uint8_t *out, size_t n)
{
	const char *end = NULL;
	size_t got = 0;
	int rc = COFFER_EFORMAT;

	if (s != NULL && n <= SIZE_MAX / 2 && sl == 2 * n &&
	    sodium_hex2bin(out, n, s, sl, NULL, &got, &end) == 0 &&
	    got == n && end == s + sl)
		rc = 0;
	return rc;
}

int
cf_hex_decode(const char *s, uint8_t *out, size_t n)
{
	return s == NULL ? COFFER_EFORMAT : hex_n(s, strlen(s), out, n);
}

int
cf_json_hex(const json_t *v, uint8_t *out, size_t n)
{
	return (v == NULL || !json_is_string(v)) ? COFFER_EFORMAT :
	    hex_n(json_string_value(v), json_string_length(v), out, n);
}

int
cf_json_b64(const json_t *v, size_t min, size_t max, uint8_t **pp,
    size_t *lenp)
{
	const char *s, *end = NULL;
	size_t sl, cap, got = 0;
	uint8_t *p = NULL;
	int rc = COFFER_EFORMAT;

	*pp = NULL;
	*lenp = 0;
	if (v == NULL || !json_is_string(v) || min > max)
		goto out;
	s = json_string_value(v);
	sl = json_string_length(v);
	/* Padded base64 comes in groups of four; the most it can hold. */
	if (sl % 4 != 0 || (sl > 0 && CF_B64_BYTES_MAX(sl) - 2 > max) ||
	    !b64_alphabet(s, sl))
		goto out;
	cap = CF_B64_BYTES_MAX(sl);
	if ((p = malloc(cap > 0 ? cap : 1)) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if (sl > 0 && (sodium_base642bin(p, cap, s, sl, NULL, &got, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + sl))
		goto out;
	if (got < min || got > max)
		goto out;
	*pp = p;
	*lenp = got;
	p = NULL;
	rc = 0;
out:
	free(p);
	return rc;
}

int
cf_json_u64(const json_t *o, const char *key, uint64_t *v)
{
	const json_t *x = o != NULL ? json_object_get(o, key) : NULL;
	int rc = COFFER_EFORMAT;

	if (x != NULL && json_is_integer(x) && json_integer_value(x) >= 0) {
		*v = (uint64_t)json_integer_value(x);
		rc = 0;
	}
	return rc;
}

json_t *
cf_json_b64_new(const uint8_t *p, size_t n)
{
	size_t cap = sodium_base64_encoded_len(n,
	    sodium_base64_VARIANT_ORIGINAL);
	char *s;
	json_t *v = NULL;

	if ((s = malloc(cap)) != NULL) {
		sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
		v = json_string(s);
		free(s);
	}
	return v;
}

json_t *
cf_json_hex_new(const uint8_t *p, size_t n)
{
	char s[2 * CF_JSON_HEX_MAX + 1];
	json_t *v = NULL;

	if (n <= CF_JSON_HEX_MAX) {
		sodium_bin2hex(s, sizeof(s), p, n);
		v = json_string(s);
	}
	return v;
}
