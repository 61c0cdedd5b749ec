#include "coffer/err.h"
#include "util/err.h"

const char *
coffer_strerror(int err)
{
	switch (err) {
	case COFFER_OK:			return "success";
	case COFFER_ENOMEM:		return "out of memory";
	case COFFER_EIO:		return "local I/O error";
	case COFFER_EFORMAT:		return "malformed local file";
	case COFFER_ETOOBIG:		return "size exceeds a limit";
	case COFFER_ENOTAUTHENTIC:	return "not authentic: data from the server failed verification";
	case COFFER_EDENIED:		return "the server refused the request";
	case COFFER_EBADKEY:		return "wrong key, recovery key or passphrase";
	case COFFER_EINVAL:		return "invalid argument";
	case COFFER_EEXIST:		return "already exists";
	case COFFER_ENOENT:		return "not found";
	case COFFER_ECONFLICT:		return "conflict: someone else wrote first";
	case COFFER_EUNREACHABLE:	return "the server could not be reached";
	case COFFER_EINTERNAL:		return "internal error";
	default:			return "unknown error";
	}
}

#include <sodium.h>
#include "coffer/coffer.h"

int
coffer_init(void)
{
	return sodium_init() < 0 ? COFFER_EINTERNAL : 0;
}

int
cf_err_from_server(int r)
{
	switch (r) {
	case 0:
	case COFFER_ENOMEM:
	case COFFER_EIO:
	case COFFER_EINTERNAL:
	case COFFER_EUNREACHABLE:
	case COFFER_EDENIED:
	case COFFER_ETOOBIG:
		return r;
	default:
		return COFFER_ENOTAUTHENTIC;
	}
}
