/* Helpers shared by the test programs. */
#ifndef TESTS_UTIL_H
#define TESTS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Hex of ${n} bytes into a malloc'd string. */
char *tu_hex(const uint8_t *p, size_t n);

/* Decode hex into a malloc'd buffer; NULL if malformed. */
uint8_t *tu_unhex(const char *s, size_t *np);

/* Read a whole file into a malloc'd, NUL-terminated buffer; NULL on error. */
uint8_t *tu_readfile(const char *path, size_t *np);

/* Make a fresh temporary directory; returns a malloc'd path. */
char *tu_tmpdir(void);

/* rm -r of a temporary directory (best effort). */
void tu_rmrf(const char *path);

/* Fill ${n} bytes from a seeded ChaCha20 stream (not the RNG). */
void tu_fill(uint8_t *p, size_t n, uint64_t seed);

/*
 * Look up the vector ${name} in docs/FORMAT.md (path from the environment
 * variable COFFER_FORMAT_MD, else the source tree's, compiled in by
 * tests/meson.build): a line "NAME HEX" inside the ```vectors block.
 * Returns the malloc'd hex string or NULL.
 */
char *tu_vector(const char *name);

#endif
