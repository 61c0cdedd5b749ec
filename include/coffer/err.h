/*
 * coffer: the one error enum.
 *
 * Every library function returns 0 on success or one of these negative
 * codes.  "Not authentic" (anything the server sent that fails a check)
 * is its own code and never folded into another.
 */
#ifndef COFFER_ERR_H
#define COFFER_ERR_H

enum coffer_err {
	COFFER_OK = 0,
	COFFER_ENOMEM = -1,		/* allocation failed */
	COFFER_EIO = -2,		/* local I/O error */
	COFFER_EFORMAT = -3,		/* malformed data in the device's own files */
	COFFER_ETOOBIG = -4,		/* a size exceeds a hard cap */
	COFFER_ENOTAUTHENTIC = -5,	/* data from the server failed a check */
	COFFER_EDENIED = -6,		/* the server refused the request */
	COFFER_EBADKEY = -7,		/* wrong key, recovery key or passphrase */
	COFFER_EINVAL = -8,		/* invalid argument (caller's mistake) */
	COFFER_EEXIST = -9,		/* already exists */
	COFFER_ENOENT = -10,		/* no such thing */
	COFFER_ECONFLICT = -11,		/* compare-and-swap lost */
	COFFER_EUNREACHABLE = -12,	/* the server could not be reached */
	COFFER_EINTERNAL = -13		/* internal error (a bug) */
};

/**
 * coffer_strerror(err):
 * Return a static, human-readable description of ${err}.
 */
const char *coffer_strerror(int err);

#endif /* !COFFER_ERR_H */
