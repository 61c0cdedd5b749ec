#include <string.h>

#include "coffer/err.h"
#include "base32.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void
cf_base32_encode(const uint8_t *in, size_t n, char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alphabet[(acc >> bits) & 31];
		}
		acc &= (1U << bits) - 1;
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

int
cf_base32_value(char c)
{
	const char *q;

	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == 'O')
		c = '0';
	else if (c == 'I' || c == 'L')
		c = '1';
	if (c == '\0' || (q = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(q - alphabet);
}

int
cf_base32_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;
	int v;

	if (n > (SIZE_MAX - 4) / 8 || slen != CF_BASE32_LEN(n))
		return COFFER_EFORMAT;
	for (i = 0; i < slen; i++) {
		if ((v = cf_base32_value(s[i])) < 0)
			return COFFER_EFORMAT;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	/* Spare bits must be zero: one text per value. */
	if (acc != 0)
		return COFFER_EFORMAT;
	return 0;
}
