/* Known-answer vectors: computed by kat.c, printed by kat_gen, checked by test_kat. */
#ifndef KAT_H
#define KAT_H

/* Called once per vector with its name and its value (hex or text). */
typedef void kat_emit_fn(const char *name, const char *value);

/* Compute every vector with the deterministic RNG (detrng_install() first). */
int kat_all(kat_emit_fn *emit);

#endif
