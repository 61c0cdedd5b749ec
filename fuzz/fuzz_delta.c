/*
 * libFuzzer harness for the reference delta decoder (docs/FORMAT.md
 * §13): a delta that decodes encodes back to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/coffer.h"
#include "tree/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static int ready;
	struct cf_delta *dl = NULL;
	uint8_t *p = NULL, h[CF_ID_BYTES];
	size_t len = 0;

	if (!ready && (ready = (coffer_init() == 0)) == 0)
		abort();
	if (cf_delta_decode(d, n, &dl) != 0)
		return 0;
	if (cf_delta_encode(dl, &p, &len) != 0 || len != n ||
	    memcmp(p, d, n) != 0)
		abort();
	cf_delta_hash(p, len, h);
	free(p);
	cf_delta_free(dl);
	return 0;
}
