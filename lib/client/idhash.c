#include <stdlib.h>
#include <string.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "idhash.h"

#define IDHASH_MIN	1024

static const uint8_t zero_id[CF_ID_BYTES];

void
cf_idhash_init(struct cf_idhash *h)
{
	memset(h, 0, sizeof(*h));
}

void
cf_idhash_clear(struct cf_idhash *h)
{
	free(h->slot);
	memset(h, 0, sizeof(*h));
}

static size_t
slot_of(const uint8_t *id, size_t cap)
{
	return (size_t)cf_be64dec(id) & (cap - 1);
}

static int
is_zero(const uint8_t *id)
{
	return memcmp(id, zero_id, CF_ID_BYTES) == 0;
}

int
cf_idhash_has(const struct cf_idhash *h, const uint8_t id[static CF_ID_BYTES])
{
	size_t i;

	if (is_zero(id))
		return h->zero;
	if (h->cap == 0)
		return 0;
	for (i = slot_of(id, h->cap); !is_zero(h->slot[i]);
	    i = (i + 1) & (h->cap - 1))
		if (!memcmp(h->slot[i], id, CF_ID_BYTES))
			return 1;
	return 0;
}

/* Put a non-zero id known absent. */
static void
put(struct cf_idhash *h, const uint8_t *id)
{
	size_t i;

	for (i = slot_of(id, h->cap); !is_zero(h->slot[i]);
	    i = (i + 1) & (h->cap - 1))
		;
	memcpy(h->slot[i], id, CF_ID_BYTES);
	h->n++;
}

static int
grow(struct cf_idhash *h)
{
	struct cf_idhash nh;
	size_t i;

	nh.cap = h->cap == 0 ? IDHASH_MIN : h->cap * 2;
	if (nh.cap / 2 > CF_IDHASH_MAX)
		return COFFER_ETOOBIG;
	nh.n = h->zero ? 1 : 0;
	nh.zero = h->zero;
	if ((nh.slot = calloc(nh.cap, CF_ID_BYTES)) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < h->cap; i++)
		if (!is_zero(h->slot[i]))
			put(&nh, h->slot[i]);
	cf_idhash_clear(h);
	*h = nh;
	return 0;
}

int
cf_idhash_add(struct cf_idhash *h, const uint8_t id[static CF_ID_BYTES])
{
	int r;

	if (cf_idhash_has(h, id))
		return 0;
	if (is_zero(id)) {
		if (h->n >= CF_IDHASH_MAX)
			return COFFER_ETOOBIG;
		h->zero = 1;
		h->n++;
		return 1;
	}
	/* At most 3/4 full (the zero id takes no slot). */
	if ((h->n + 1) * 4 > h->cap * 3 && (r = grow(h)) != 0)
		return r;
	put(h, id);
	return 1;
}

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, CF_ID_BYTES);
}

int
cf_idhash_sorted(const struct cf_idhash *h, struct cf_idset *out)
{
	size_t i, k = 0;

	out->ids = NULL;
	out->n = 0;
	if (h->n == 0)
		return 0;
	if ((out->ids = malloc(h->n * CF_ID_BYTES)) == NULL)
		return COFFER_ENOMEM;
	if (h->zero)
		memset(out->ids + CF_ID_BYTES * k++, 0, CF_ID_BYTES);
	for (i = 0; i < h->cap; i++)
		if (!is_zero(h->slot[i]))
			memcpy(out->ids + CF_ID_BYTES * k++, h->slot[i], CF_ID_BYTES);
	qsort(out->ids, k, CF_ID_BYTES, cmp_id);
	out->n = k;
	return 0;
}

int
cf_idhash_take_sorted(struct cf_idhash *h, struct cf_idset *out)
{
	uint8_t *ids, *small;
	size_t i, k = 0;
	int r;

	out->ids = NULL;
	out->n = 0;
	if (h->cap == 0) {		/* empty, or only the zero id */
		if ((r = cf_idhash_sorted(h, out)) != 0)
			return r;
		cf_idhash_clear(h);
		return 0;
	}
	/* Compact the ids to the front (k <= i: nothing is overwritten). */
	ids = (uint8_t *)h->slot;
	for (i = 0; i < h->cap; i++)
		if (!is_zero(h->slot[i])) {
			if (k != i)
				memcpy(ids + CF_ID_BYTES * k, h->slot[i],
				    CF_ID_BYTES);
			k++;
		}
	/* The zero id sorts first; there is room (at most 3/4 full). */
	if (h->zero) {
		memmove(ids + CF_ID_BYTES, ids, k * CF_ID_BYTES);
		memset(ids, 0, CF_ID_BYTES);
		k++;
	}
	qsort(ids, k, CF_ID_BYTES, cmp_id);
	if (k > 0 && (small = realloc(ids, k * CF_ID_BYTES)) != NULL)
		ids = small;
	if (k == 0) {
		free(ids);
		ids = NULL;
	}
	out->ids = ids;
	out->n = k;
	memset(h, 0, sizeof(*h));
	return 0;
}

int
cf_idset_has(const struct cf_idset *s, const uint8_t id[static CF_ID_BYTES])
{
	return s->n > 0 &&
	    bsearch(id, s->ids, s->n, CF_ID_BYTES, cmp_id) != NULL;
}
