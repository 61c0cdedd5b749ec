#include <stdlib.h>
#include <string.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "idhash.h"

#define IDHASH_MIN	1024

void
cf_idhash_init(struct cf_idhash *h)
{
	memset(h, 0, sizeof(*h));
}

void
cf_idhash_clear(struct cf_idhash *h)
{
	free(h->slot);
	free(h->used);
	memset(h, 0, sizeof(*h));
}

static size_t
slot_of(const uint8_t *id, size_t cap)
{
	return (size_t)cf_be64dec(id) & (cap - 1);
}

int
cf_idhash_has(const struct cf_idhash *h, const uint8_t id[static CF_ID_BYTES])
{
	size_t i;

	if (h->cap == 0)
		return 0;
	for (i = slot_of(id, h->cap); h->used[i]; i = (i + 1) & (h->cap - 1))
		if (!memcmp(h->slot[i], id, CF_ID_BYTES))
			return 1;
	return 0;
}

static void
put(struct cf_idhash *h, const uint8_t *id)
{
	size_t i;

	for (i = slot_of(id, h->cap); h->used[i]; i = (i + 1) & (h->cap - 1))
		;
	memcpy(h->slot[i], id, CF_ID_BYTES);
	h->used[i] = 1;
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
	nh.n = 0;
	if ((nh.slot = malloc(nh.cap * CF_ID_BYTES)) == NULL ||
	    (nh.used = calloc(nh.cap, 1)) == NULL) {
		free(nh.slot);
		return COFFER_ENOMEM;
	}
	for (i = 0; i < h->cap; i++)
		if (h->used[i])
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
	if ((h->n + 1) * 2 > h->cap && (r = grow(h)) != 0)
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
	for (i = 0; i < h->cap; i++)
		if (h->used[i])
			memcpy(out->ids + CF_ID_BYTES * k++, h->slot[i], CF_ID_BYTES);
	qsort(out->ids, k, CF_ID_BYTES, cmp_id);
	out->n = k;
	return 0;
}

int
cf_idset_has(const struct cf_idset *s, const uint8_t id[static CF_ID_BYTES])
{
	return s->n > 0 &&
	    bsearch(id, s->ids, s->n, CF_ID_BYTES, cmp_id) != NULL;
}
