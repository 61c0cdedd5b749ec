/*
 * libFuzzer: the body decoder, the first thing past decryption
 * (FORMAT §7).  Input: one byte choosing the type, then the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/err.h"
#include "object/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	uint8_t *p = NULL;
	size_t len = 0;
	int rc;

	if (n < 1)
		return 0;
	rc = cf_object_decode_body(d + 1, n - 1,
	    (uint8_t)(d[0] % CF_OBJ_TYPE_MAX + 1), &p, &len);
	if (rc != 0 && (rc != COFFER_ENOTAUTHENTIC || p != NULL || len != 0))
		abort();
	/* An accepted body is canonical: its length is padme(9 + payload). */
	if (rc == 0 && (len > CF_OBJ_PLAIN_MAX || n - 1 < cf_padme(
	    CF_OBJ_BODY_HDR_BYTES) || (d[1] == CF_OBJ_COMP_NONE &&
	    memcmp(p, d + 1 + CF_OBJ_BODY_HDR_BYTES, len) != 0)))
		abort();
	free(p);
	return 0;
}
