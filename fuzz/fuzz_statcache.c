/*
 * libFuzzer: the stat cache (FORMAT §19.4), an untrusted local file.  The
 * body parser must refuse or accept without fault; an accepted cache must
 * encode back to the same body (it is canonical: sorted, no duplicates)
 * and open with its MAC.  So must the known-ids cache (FORMAT §19.5).
 * The device's own small state files (account,
 * directory and drive pins) go through the same run.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "client/state.h"
#include "client/statcache.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (coffer_init() != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_statcache *sc = NULL, *back = NULL;
	struct cf_drivepin *dp = NULL;
	struct cf_dir_pin pin;
	struct cf_account a;
	uint8_t mk[CF_KEY_BYTES], *out = NULL;
	size_t len = 0;

	memset(mk, 7, sizeof(mk));
	if (cf_statcache_decode(data, size, &sc) == 0) {
		if (cf_statcache_encode(sc, mk, &out, &len) != 0 ||
		    len != size + CF_KEY_BYTES || memcmp(out, data, size) != 0)
			abort();
		if (cf_statcache_open(out, len, mk, sc->drive_id, sc->secret_id,
		    &back) != 0)
			abort();
		cf_statcache_free(back);
		free(out);
		cf_statcache_free(sc);
	}
	{
		struct cf_idset ids = { NULL, 0 };
		uint8_t d[CF_ID_BYTES], c[CF_ID_BYTES];
		if (cf_known_decode(data, size, d, c, &ids) == 0) {
			if (cf_known_encode(d, c, &ids, mk, &out, &len) != 0 ||
			    len != size + CF_KEY_BYTES ||
			    memcmp(out, data, size) != 0)
				abort();
			free(out);
			cf_delta_idset_clear(&ids);
		}
	}
	(void)cf_account_decode(data, size, &a);
	(void)cf_dirpin_decode(data, size, &pin);
	if (cf_drivepin_decode(data, size, &dp) == 0)
		cf_drivepin_free(dp);
	return 0;
}
