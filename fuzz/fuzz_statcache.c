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
		back = NULL;
		/*
		 * As push does: open taking the buffer, find every entry and
		 * add it to a new cache by reference or by copy (alternating);
		 * the new cache encodes to the same bytes.
		 */
		{
			struct cf_statcache *cp = NULL;
			const struct cf_sc_entry *e;
			const uint8_t *rp;
			uint8_t *tbuf, *out2 = NULL;
			size_t i, len2 = 0;

			if ((tbuf = malloc(len)) == NULL)
				abort();
			memcpy(tbuf, out, len);
			if (cf_statcache_open_take(&tbuf, len, mk, sc->drive_id,
			    sc->secret_id, &back) != 0 || tbuf != NULL ||
			    cf_statcache_new(sc->drive_id, sc->secret_id,
			    &cp) != 0)
				abort();
			for (i = 0; i < back->n; i++) {
				rp = back->rec + back->off[i];
				if ((e = cf_statcache_find(back, rp + 4,
				    (size_t)rp[0] << 24 | (size_t)rp[1] << 16 |
				    (size_t)rp[2] << 8 | rp[3])) == NULL)
					abort();
				if ((i % 2 == 0 ? cf_statcache_add_found(cp,
				    back) : cf_statcache_add(cp, e)) != 0)
					abort();
			}
			if (cf_statcache_encode(cp, mk, &out2, &len2) != 0 ||
			    len2 != len || memcmp(out2, out, len) != 0)
				abort();
			free(out2);
			cf_statcache_free(cp);
			cf_statcache_free(back);
		}
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
			{
				struct cf_idset t;
				uint8_t *tbuf;

				if ((tbuf = malloc(len)) == NULL)
					abort();
				memcpy(tbuf, out, len);
				if (cf_known_open_take(&tbuf, len, mk, d, c,
				    &t) != 0 || tbuf != NULL || t.n != ids.n ||
				    (t.n > 0 && memcmp(t.ids, ids.ids,
				    t.n * CF_ID_BYTES) != 0))
					abort();
				cf_delta_idset_clear(&t);
			}
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
