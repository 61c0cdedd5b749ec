/*
 * The one decimal number parser of libcoffer and cofferd: the numbers of
 * the wire (headers, query parameters) and of the files they keep.
 */
#ifndef CF_NUM_H
#define CF_NUM_H

#include <stddef.h>
#include <stdint.h>

#define CF_U64_DIGITS_MAX	20	/* digits of UINT64_MAX */

/**
 * cf_parse_u64(s, len, max, v):
 * Read the ${len} characters at ${s} as a decimal number no larger than
 * ${max} into ${*v}: ASCII digits only (no sign, space, or anything
 * before or after them, a NUL included), at least one, and no leading
 * zero but for "0" itself (one text per number).  0 or COFFER_EFORMAT
 * (${*v} unchanged).
 */
int cf_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *v);

#endif /* !CF_NUM_H */
