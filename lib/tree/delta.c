/*
 * Reference deltas (DESIGN §6, docs/FORMAT.md §13).
 *
 *   delta      = "CFRD" || u8 version=1 || u32 n_start || n_start x id[32]
 *                || u32 n_stop || n_stop x id[32]
 *   delta_hash = H("coffer-delta-v1" || delta)
 *
 * start = child \ parent, stop = parent \ child; both strictly increasing
 * by raw bytes, hence without duplicates, and disjoint.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "tree.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
#define ID(s, i)	((s)->ids + (size_t)(i) * CF_ID_BYTES)

_Static_assert(CF_DELTA_BYTES_MAX / CF_ID_BYTES / 2 >= CF_DELTA_IDS_MAX,
    "delta size fits a size_t");

void
cf_delta_idset_clear(struct cf_idset *s)
{
	if (s == NULL)
		return;
	free(s->ids);
	s->ids = NULL;
	s->n = 0;
}

int
cf_delta_idset_sorted(const struct cf_idset *s)
{
	size_t i;

	if (s->n > 0 && s->ids == NULL)
		return 0;
	for (i = 1; i < s->n; i++)
		if (memcmp(ID(s, i - 1), ID(s, i), CF_ID_BYTES) >= 0)
			return 0;
	return 1;
}

/* 1 if two strictly increasing sets have no id in common. */
static int
disjoint(const struct cf_idset *a, const struct cf_idset *b)
{
	size_t i = 0, j = 0;
	int c;

	while (i < a->n && j < b->n) {
		c = memcmp(ID(a, i), ID(b, j), CF_ID_BYTES);
		if (c == 0)
			return 0;
		if (c < 0)
			i++;
		else
			j++;
	}
	return 1;
}

void
cf_delta_free(struct cf_delta *d)
{
	if (d == NULL)
		return;
	cf_delta_idset_clear(&d->start);
	cf_delta_idset_clear(&d->stop);
	free(d);
}

/* Room for ${n} ids (none for 0). */
static int
ids_alloc(struct cf_idset *s, size_t n)
{
	s->n = 0;
	s->ids = NULL;
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / CF_ID_BYTES)
		return COFFER_ENOMEM;
	if ((s->ids = malloc(n * CF_ID_BYTES)) == NULL)
		return COFFER_ENOMEM;
	return 0;
}

static void
ids_push(struct cf_idset *s, const uint8_t *id)
{
	memcpy(ID(s, s->n), id, CF_ID_BYTES);
	s->n++;
}

int
cf_delta_compute(const struct cf_idset *parent, const struct cf_idset *child,
    struct cf_delta **dp)
{
	struct cf_delta *d = NULL;
	size_t i = 0, j = 0;
	int c, r;

	*dp = NULL;
	if (parent == NULL || child == NULL || !cf_delta_idset_sorted(parent) ||
	    !cf_delta_idset_sorted(child)) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	/* At most every child id starts and every parent id stops. */
	if ((r = ids_alloc(&d->start, child->n)) != 0 ||
	    (r = ids_alloc(&d->stop, parent->n)) != 0)
		goto out;
	while (i < parent->n || j < child->n) {
		if (i == parent->n)
			c = 1;
		else if (j == child->n)
			c = -1;
		else
			c = memcmp(ID(parent, i), ID(child, j), CF_ID_BYTES);
		if (c < 0)
			ids_push(&d->stop, ID(parent, i++));
		else if (c > 0)
			ids_push(&d->start, ID(child, j++));
		else {
			i++;
			j++;
		}
	}
	if (d->start.n > CF_DELTA_IDS_MAX || d->stop.n > CF_DELTA_IDS_MAX) {
		r = COFFER_ETOOBIG;
		goto out;
	}
	*dp = d;
	d = NULL;
	r = 0;
out:
	cf_delta_free(d);
	return r;
}

int
cf_delta_encode(const struct cf_delta *d, uint8_t **bufp, size_t *lenp)
{
	struct cf_wr w;

	*bufp = NULL;
	*lenp = 0;
	if (d == NULL || !cf_delta_idset_sorted(&d->start) ||
	    !cf_delta_idset_sorted(&d->stop) || !disjoint(&d->start, &d->stop))
		return COFFER_EINVAL;
	if (d->start.n > CF_DELTA_IDS_MAX || d->stop.n > CF_DELTA_IDS_MAX)
		return COFFER_ETOOBIG;
	cf_wr_init(&w, CF_DELTA_BYTES_MAX, 0);
	cf_wr_bytes(&w, CF_DELTA_TAG, CF_DELTA_TAG_BYTES);
	cf_wr_u8(&w, CF_DELTA_VERSION);
	cf_wr_u32(&w, (uint32_t)d->start.n);
	cf_wr_bytes(&w, d->start.ids, d->start.n * CF_ID_BYTES);
	cf_wr_u32(&w, (uint32_t)d->stop.n);
	cf_wr_bytes(&w, d->stop.ids, d->stop.n * CF_ID_BYTES);
	return cf_wr_finish(&w, bufp, lenp);
}

/* Read u32 n and n ids, refusing n above the cap or the input left. */
static int
ids_read(struct cf_rd *rd, struct cf_idset *s)
{
	uint32_t n;
	int r;

	n = cf_rd_u32(rd);
	if (rd->err || n > CF_DELTA_IDS_MAX ||
	    n > cf_rd_left(rd) / CF_ID_BYTES)
		return NOTAUTH;
	if ((r = ids_alloc(s, n)) != 0)
		return r;
	cf_rd_copy(rd, s->ids, (size_t)n * CF_ID_BYTES);
	s->n = n;
	return rd->err ? NOTAUTH : 0;
}

int
cf_delta_decode(const uint8_t *buf, size_t len, struct cf_delta **dp)
{
	struct cf_delta *d = NULL;
	struct cf_rd rd;
	int r;

	*dp = NULL;
	if (buf == NULL || len > CF_DELTA_BYTES_MAX) {
		r = NOTAUTH;
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	cf_rd_init(&rd, buf, len, NOTAUTH);
	cf_rd_expect(&rd, CF_DELTA_TAG, CF_DELTA_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_DELTA_VERSION)
		cf_rd_fail(&rd);
	if ((r = ids_read(&rd, &d->start)) != 0 ||
	    (r = ids_read(&rd, &d->stop)) != 0 ||
	    (r = cf_rd_end(&rd)) != 0)
		goto out;
	if (!cf_delta_idset_sorted(&d->start) || !cf_delta_idset_sorted(&d->stop) ||
	    !disjoint(&d->start, &d->stop)) {
		r = NOTAUTH;
		goto out;
	}
	*dp = d;
	d = NULL;
	r = 0;
out:
	cf_delta_free(d);
	return r;
}

void
cf_delta_hash(const uint8_t *buf, size_t len, uint8_t out[static CF_ID_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, CF_ID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_DELTA,
	    sizeof(CF_LABEL_DELTA) - 1);
	if (len > 0)
		crypto_generichash_update(&st, buf, len);
	crypto_generichash_final(&st, out, CF_ID_BYTES);
}
