/*
 * Chunker internals: the constants of docs/FORMAT.md §9 and accessors for
 * the derived secrets, for tests only.
 */
#ifndef CF_CHUNKER_INTERNAL_H
#define CF_CHUNKER_INTERNAL_H

#include <stdint.h>

#include "chunker.h"
#include "crypto/labels.h"

#define CF_CHUNKER_WINDOW	64	/* bytes that h depends on */
#define CF_CHUNKER_GEAR_N	256	/* entries of the gear table */
#define CF_CHUNKER_CUT_KEY_BYTES 16	/* = crypto_shorthash_KEYBYTES */
#define CF_CHUNKER_PRE_SHIFT	51	/* candidate iff (h >> 51) == 0 */
#define CF_CHUNKER_PRF_SHIFT	58	/* cut iff (s >> 58) == 0 */

/* cf_chunker_gear(c, i): the gear table entry G[${i}], ${i} < 256. */
uint64_t cf_chunker_gear(const struct cf_chunker *c, unsigned i);

/* cf_chunker_cut_key(c): the 16-byte SipHash key (owned by ${c}). */
const uint8_t *cf_chunker_cut_key(const struct cf_chunker *c);

#endif
