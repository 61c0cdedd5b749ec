/*
 * libFuzzer harness for the tree decoder (docs/FORMAT.md §12).
 *
 * A tree that decodes is canonical, so it must encode back to exactly
 * the bytes it came from; anything else is a bug (abort).
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
	struct cf_tree *t = NULL;
	uint8_t *p = NULL;
	size_t len = 0;
	int r;

	if (!ready && (ready = (coffer_init() == 0)) == 0)
		abort();
	if (cf_tree_decode(d, n, &t) != 0)
		return 0;
	if (t->kind == CF_TREE_LEAF)
		r = cf_tree_encode_leaf(t->entries, t->n, &p, &len);
	else
		r = cf_tree_encode_index(t->parts, t->n, &p, &len);
	if (r != 0 || len != n || memcmp(p, d, n) != 0)
		abort();
	free(p);
	cf_tree_free(t);
	return 0;
}
