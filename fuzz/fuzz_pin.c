/*
 * libFuzzer: a pin file (FORMAT §14.6), decoded and re-verified; a pin
 * that decodes must encode back to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "fuzz_chain_fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_chain *c = NULL;
	uint8_t *out = NULL;
	size_t len = 0;

	if (cf_chain_pin_decode(data, size, &c) == 0) {
		if (cf_chain_pin_encode(c, &out, &len) != 0 || len != size ||
		    memcmp(out, data, size) != 0)
			abort();
		free(out);
	}
	cf_chain_free(c);
	return 0;
}
