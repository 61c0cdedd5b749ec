/*
 * Content-defined chunking (DESIGN §3, docs/FORMAT.md §9).
 *
 * A keyed gear hash over the bytes; a position past the minimum is a
 * candidate when the gear state passes a loose prefilter, and a cut when
 * SipHash (crypto_shorthash) of the gear state under the chunker key falls
 * below a threshold.  Boundaries are a PRF of the content.
 */
#ifndef CF_CHUNKER_H
#define CF_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"

#define CF_CHUNK_MIN	(512U * 1024)
#define CF_CHUNK_AVG	(1024U * 1024)
#define CF_CHUNK_MAX	(8U * 1024 * 1024)

struct cf_chunker;

/**
 * cf_chunker_new(chunker_key, cp):
 * Derive the gear table and the cut key from the drive's chunker key.
 */
int cf_chunker_new(const uint8_t chunker_key[static CF_KEY_BYTES],
    struct cf_chunker **cp);

/* Wipe and free; NULL does nothing. */
void cf_chunker_free(struct cf_chunker *c);

/**
 * cf_chunker_cut(c, buf, len, eof):
 * ${buf} holds the ${len} bytes from the start of the next chunk.  Return
 * the length of that chunk, or 0 if more data is needed (only when
 * ${len} < CF_CHUNK_MAX and !${eof}).  At ${eof} a remainder shorter than
 * a cut is one chunk.  The result depends only on the bytes of the chunk.
 */
size_t cf_chunker_cut(const struct cf_chunker *c, const uint8_t *buf,
    size_t len, int eof);

#endif
