/*
 * libFuzzer: cf_object_open() with one fixed key (enc_key 00..1f,
 * id_key 20..3f, drive id 32 x 0xdd, as in tests/test_object.c's seeds).
 * Input: one byte choosing the expected type, the expected object id
 * (32 bytes), then the blob.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/coffer.h"
#include "crypto/kdf.h"
#include "object/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static struct cf_objkey key;
static uint8_t drive[CF_ID_BYTES];

/* Accept exactly one key id. */
static int
lookup(void *ctx, uint8_t type, const uint8_t key_id[static CF_ID_BYTES],
    struct cf_objkey *out)
{
	(void)ctx;
	(void)type;
	if (memcmp(key_id, key.key_id, CF_ID_BYTES) != 0)
		return COFFER_ENOTAUTHENTIC;
	*out = key;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static int ready;
	uint8_t *p = NULL, id[CF_ID_BYTES];
	size_t len = 0, i;
	uint8_t type;
	int rc;

	if (!ready) {
		if (coffer_init() != 0)
			abort();
		for (i = 0; i < CF_KEY_BYTES; i++) {
			key.enc_key[i] = (uint8_t)i;
			key.id_key[i] = (uint8_t)(0x20 + i);
		}
		cf_key_id(key.enc_key, key.key_id);
		memset(drive, 0xdd, sizeof(drive));
		ready = 1;
	}
	if (n < 1 + CF_ID_BYTES)
		return 0;
	type = (uint8_t)(d[0] % CF_OBJ_TYPE_MAX + 1);
	rc = cf_object_open(d + 1 + CF_ID_BYTES, n - 1 - CF_ID_BYTES, type,
	    drive, d + 1, lookup, NULL, &p, &len);
	if (rc != 0 && (rc != COFFER_ENOTAUTHENTIC || p != NULL || len != 0))
		abort();
	if (rc == 0) {
		/* Whatever opened is the object that was asked for. */
		cf_object_id(key.id_key, type, p, len, id);
		if (memcmp(id, d + 1, CF_ID_BYTES) != 0)
			abort();
		free(p);
	}
	return 0;
}
