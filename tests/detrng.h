/*
 * Test-only deterministic randombytes (docs/FORMAT.md §10).  Call
 * detrng_install() before coffer_init()/sodium_init().  Never linked into
 * the library or the tools.
 */
#ifndef DETRNG_H
#define DETRNG_H

void detrng_install(void);
/* Restart the stream from call 0. */
void detrng_reset(void);

#endif
