/*
 * The JSON of the wire (docs/API.md §1), one helper set for both sides:
 * the client reading the server's answers, the server reading requests.
 * Every decoder takes its bounds from the caller and refuses anything
 * else; none trusts a length it has not checked.
 *
 * The rules, the same on both sides:
 *   - base64 is the original alphabet with padding (RFC 4648 §4), no
 *     whitespace, canonical (the spare bits of the last group are zero);
 *     an empty string decodes to zero bytes only where the caller says
 *     the field may be empty (min == 0), and no field of docs/API.md is
 *     empty today, so every caller passes a min of at least 1;
 *   - hex is exactly two digits per byte (either case), nothing around;
 *   - a number field is a JSON integer, 0 or more (at most INT64_MAX, the
 *     most a JSON integer holds here);
 *   - an object nests at most CF_JSON_DEPTH_MAX deep, duplicate keys are
 *     refused.
 * Decoders return 0, COFFER_EFORMAT (the text breaks a rule) or
 * COFFER_ENOMEM; the client reports a malformed answer as
 * COFFER_ENOTAUTHENTIC, the server a malformed request as 400.
 */
#ifndef CF_NET_JSON_H
#define CF_NET_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CF_JSON_DEPTH_MAX	8	/* nesting of objects and arrays */
#define CF_JSON_HEX_MAX		64	/* bytes cf_json_hex_new encodes */

/*
 * The base64 text of ${n} bytes (padded, without a NUL), and the most
 * bytes ${t} characters of base64 can hold: what a cap on bytes costs on
 * the wire and back.
 */
#define CF_B64_LEN(n)		((((size_t)(n) + 2) / 3) * 4)
#define CF_B64_BYTES_MAX(t)	((size_t)(t) / 4 * 3)

/**
 * cf_json_depth_ok(p, n, max):
 * 1 if the JSON text ${p} of ${n} bytes nests objects and arrays at most
 * ${max} deep (brackets inside strings do not count), else 0.  Only the
 * depth is checked, not the syntax.
 */
int cf_json_depth_ok(const uint8_t *p, size_t n, int max);

/**
 * cf_json_object(p, n):
 * The JSON object in the ${n} bytes at ${p}: at most CF_JSON_DEPTH_MAX
 * deep, no duplicate keys, an object at the top.  NULL if not (or out of
 * memory).  The caller frees it with json_decref.
 */
json_t *cf_json_object(const uint8_t *p, size_t n);

/**
 * cf_hex_decode(s, out, n):
 * Decode the NUL-terminated ${s}, exactly 2 * ${n} hex digits, into the
 * ${n} bytes at ${out}.  0 or COFFER_EFORMAT (${out} then undefined).
 */
int cf_hex_decode(const char *s, uint8_t *out, size_t n);

/**
 * cf_json_hex(v, out, n):
 * cf_hex_decode of the JSON string ${v} (NULL or not a string:
 * COFFER_EFORMAT).
 */
int cf_json_hex(const json_t *v, uint8_t *out, size_t n);

/**
 * cf_json_b64(v, min, max, pp, lenp):
 * Decode the base64 JSON string ${v} into ${*lenp} bytes, at least ${min}
 * and at most ${max}, in memory malloc'd at ${*pp} (the caller frees it;
 * for zero bytes ${*pp} is a valid pointer).  Exact length: min == max.
 * No memory is allocated for a string too long for ${max}.  0,
 * COFFER_EFORMAT or COFFER_ENOMEM (then ${*pp} is NULL, ${*lenp} 0).
 */
int cf_json_b64(const json_t *v, size_t min, size_t max, uint8_t **pp,
    size_t *lenp);

/**
 * cf_json_u64(o, key, v):
 * The integer field ${key} of the object ${o}, 0 or more, into ${*v}.
 * 0 or COFFER_EFORMAT (absent, not an integer, negative).
 */
int cf_json_u64(const json_t *o, const char *key, uint64_t *v);

/**
 * cf_json_b64_new(p, n):
 * A new JSON string: the base64 of the ${n} bytes at ${p}.  NULL if out
 * of memory.
 */
json_t *cf_json_b64_new(const uint8_t *p, size_t n);

/**
 * cf_json_hex_new(p, n):
 * A new JSON string: the lowercase hex of the ${n} bytes at ${p}; NULL
 * if ${n} > CF_JSON_HEX_MAX or out of memory.
 */
json_t *cf_json_hex_new(const uint8_t *p, size_t n);

#endif /* !CF_NET_JSON_H */
