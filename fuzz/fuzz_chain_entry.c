/*
 * libFuzzer: a chain entry (FORMAT §14), as the first entry of an empty
 * chain and as the next entry of a fixed one (fuzz_chain_fixture.h).
 */
#include <stddef.h>
#include <stdint.h>

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

	if (cf_chain_new(&c) == 0)
		(void)cf_chain_append(c, data, size);
	cf_chain_free(c);
	c = NULL;
	if (cf_chain_clone(fz.chain, &c) == 0)
		(void)cf_chain_append(c, data, size);
	cf_chain_free(c);
	return 0;
}
