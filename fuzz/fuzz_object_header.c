/* libFuzzer: the clear header of a sealed object (FORMAT §6). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "coffer/err.h"
#include "object/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct cf_objhdr h;
	int rc;

	rc = cf_object_header(d, n, &h);
	/* Either a header that accounts for every byte, or a refusal. */
	if (rc == 0 ? (h.ctlen + CF_OBJ_HDR_BYTES != n ||
	    h.ctlen < CF_OBJ_MAC_BYTES || h.version != CF_OBJ_VERSION) :
	    rc != COFFER_ENOTAUTHENTIC)
		abort();
	return 0;
}
