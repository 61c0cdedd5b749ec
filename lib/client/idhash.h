/*
 * A set of 32-byte ids (object ids are keyed hashes, so their first
 * bytes serve as the hash): open addressing with linear probing, no side
 * table (an all-zero slot is empty; the all-zero id, which a keyed hash
 * all but never gives, is kept as a flag), at most 3/4 full, grows by
 * doubling up to a hard cap.  Full ids are kept, never truncated: a
 * false "present" could skip an upload the server lacks.
 */
#ifndef CF_IDHASH_H
#define CF_IDHASH_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "tree/tree.h"

#define CF_IDHASH_MAX	((size_t)1 << 30)	/* ids in one set */

struct cf_idhash {
	uint8_t (*slot)[CF_ID_BYTES];	/* all-zero: empty */
	size_t cap;			/* a power of two, or 0 */
	size_t n;			/* ids, the zero id included */
	int zero;			/* 1 if the all-zero id is in */
};

/* Start an empty set (no allocation). */
void cf_idhash_init(struct cf_idhash *h);
void cf_idhash_clear(struct cf_idhash *h);

/* 1 if ${id} is in ${h}, else 0. */
int cf_idhash_has(const struct cf_idhash *h, const uint8_t id[static CF_ID_BYTES]);

/**
 * cf_idhash_add(h, id):
 * Add ${id}: 1 if it was new, 0 if already there, or COFFER_ENOMEM /
 * COFFER_ETOOBIG.
 */
int cf_idhash_add(struct cf_idhash *h, const uint8_t id[static CF_ID_BYTES]);

/**
 * cf_idhash_sorted(h, out):
 * The ids of ${h}, sorted by raw bytes, as a cf_idset (malloc'd ids).
 */
int cf_idhash_sorted(const struct cf_idhash *h, struct cf_idset *out);

/**
 * cf_idhash_take_sorted(h, out):
 * Like cf_idhash_sorted, but sort in place in ${h}'s own memory (no
 * second copy) and leave ${h} empty.  On error ${h} is unchanged.
 */
int cf_idhash_take_sorted(struct cf_idhash *h, struct cf_idset *out);

/* 1 if ${id} is in the sorted set ${s} (binary search), else 0. */
int cf_idset_has(const struct cf_idset *s, const uint8_t id[static CF_ID_BYTES]);

#endif
