/* Known-answer vectors: computed by kat.c, printed by kat_gen, checked by test_kat. */
#ifndef KAT_H
#define KAT_H

/* Called once per vector with its name and its value (hex or text). */
typedef void kat_emit_fn(const char *name, const char *value);

/* Compute every vector with the deterministic RNG (detrng_install() first). */
int kat_all(kat_emit_fn *emit);

/* A vector of docs/FORMAT.md by name (malloc'd text), NULL if absent. */
typedef char *kat_vector_fn(const char *name);

/*
 * Read the vectors of the forms written before device names were padded
 * ("unpadded-*", FORMAT §18) with today's readers: the genesis and add
 * entries verify and their name boxes open; the join request matches its
 * pairing code and its name opens.  0, or the first failure.
 */
int kat_read_unpadded(kat_vector_fn *vec);

#endif
