/*
 * The one rule for "not authentic" (DESIGN §8: exit status 3).
 *
 * Bytes the server sent that fail any check -- malformed, past a format
 * cap, a bad signature, MAC or commitment, inconsistent with the verified
 * chain or a pin -- are COFFER_ENOTAUTHENTIC, whichever decoder or
 * verifier found it.  The device's own files (pins, key file, account,
 * caches) are COFFER_EFORMAT instead: a broken local file is not a lie
 * told by the server.
 *
 * Decoders of server data report COFFER_ENOTAUTHENTIC themselves where
 * they can (cf_rd_init's errcode); where a client operation hands server
 * bytes to a routine that may say something else (EFORMAT, EINVAL,
 * ENOENT, ...), its result goes through cf_err_from_server() at that
 * boundary, and nowhere else is an error turned into "not authentic".
 */
#ifndef CF_UTIL_ERR_H
#define CF_UTIL_ERR_H

/**
 * cf_err_from_server(r):
 * The error to report for ${r}, returned by a check of data the server
 * sent.  0 stays 0.  Errors that say nothing about the bytes pass
 * through: COFFER_ENOMEM, COFFER_EIO (local disk), COFFER_EINTERNAL,
 * COFFER_EUNREACHABLE and COFFER_EDENIED (the transport, met while
 * fetching more) and COFFER_ETOOBIG (a cap of this device, such as
 * CF_DIR_CATCHUP_MAX: too much, not a lie).  Every other error is
 * COFFER_ENOTAUTHENTIC.
 */
int cf_err_from_server(int r);

#endif
