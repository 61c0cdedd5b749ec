/*
 * coffer: end-to-end encrypted file storage.  Public API.
 */
#ifndef COFFER_H
#define COFFER_H

#include "coffer/err.h"
#include "coffer/version.h"

/**
 * coffer_init():
 * Initialise the library (libsodium).  Call once before anything else;
 * safe to call again.  Returns 0 or COFFER_EINTERNAL.
 */
int coffer_init(void);

#endif
