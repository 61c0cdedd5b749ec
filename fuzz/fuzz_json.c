/* libFuzzer: the JSON helpers of the wire (lib/net/json.h), as the server
 * runs them on every request and the client on every answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coffer/err.h"
#include "net/json.h"

#define FIELD_MAX	4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every string field of ${o}, decoded with small and exact bounds. */
static void
fields(json_t *o, size_t cap)
{
	const char *k;
	json_t *v, *back;
	uint8_t *p, id[32];
	size_t len;
	uint64_t u;

	json_object_foreach(o, k, v) {
		if (cf_json_b64(v, 1, cap, &p, &len) == 0) {
			if (len < 1 || len > cap)
				abort();
			/* What decodes encodes back to the same text. */
			back = cf_json_b64_new(p, len);
			if (back == NULL || !json_equal(back, v))
				abort();
			json_decref(back);
			free(p);
		} else if (p != NULL || len != 0) {
			abort();
		}
		(void)cf_json_hex(v, id, sizeof(id));
		(void)cf_json_u64(o, k, &u);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *o;

	if ((o = cf_json_object(data, size)) != NULL) {
		if (!cf_json_depth_ok(data, size, CF_JSON_DEPTH_MAX))
			abort();
		fields(o, size > 0 ? (size_t)data[0] : 0);
		fields(o, FIELD_MAX);
		json_decref(o);
	}
	return 0;
}
