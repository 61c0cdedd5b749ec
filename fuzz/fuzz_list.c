/*
 * libFuzzer harness for the chunk list decoder (docs/FORMAT.md §12):
 * a list that decodes encodes back to the same bytes.
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
	struct cf_list *l = NULL;
	uint8_t *p = NULL;
	size_t len = 0;

	if (!ready && (ready = (coffer_init() == 0)) == 0)
		abort();
	if (cf_list_decode(d, n, &l) != 0)
		return 0;
	if (cf_list_encode(l->chunks, l->n, &p, &len) != 0 || len != n ||
	    memcmp(p, d, n) != 0)
		abort();
	free(p);
	cf_list_free(l);
	return 0;
}
