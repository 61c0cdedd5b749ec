/* libFuzzer: the batch frame decoder (lib/net/frame.h), as the server and
 * the client both run it on untrusted input. */
#include <stdint.h>
#include <stdlib.h>

#include "coffer/err.h"
#include "net/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_frame_item *it = NULL;
	size_t n = 0, i, total = 0;

	if (cf_frame_decode(data, size, COFFER_EFORMAT, &it, &n) == 0) {
		for (i = 0; i < n; i++)
			total += it[i].len;
		if (total > size || cf_frame_unique(it, n) == COFFER_ENOMEM)
			abort();
	}
	free(it);
	return 0;
}
