/*
 * Base32 text for people: Crockford's alphabet
 * (0123456789ABCDEFGHJKMNPQRSTVWXYZ), big-endian bit order, no padding.
 * Decoding is case-insensitive and reads O as 0 and I, L as 1; it
 * refuses any other character and non-zero spare bits.
 */
#ifndef CF_BASE32_H
#define CF_BASE32_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed for ${n} bytes (without a NUL). */
#define CF_BASE32_LEN(n) (((n) * 8 + 4) / 5)

/**
 * cf_base32_encode(in, n, out):
 * Write CF_BASE32_LEN(${n}) characters and a NUL to ${out}.
 */
void cf_base32_encode(const uint8_t *in, size_t n, char *out);

/**
 * cf_base32_decode(s, slen, out, n):
 * Decode exactly ${n} bytes from the ${slen} characters at ${s}, which
 * must be exactly CF_BASE32_LEN(${n}) alphabet characters.  Return 0 or
 * COFFER_EFORMAT.
 */
int cf_base32_decode(const char *s, size_t slen, uint8_t *out, size_t n);

/* The value 0..31 of character ${c}, or -1. */
int cf_base32_value(char c);

#endif
