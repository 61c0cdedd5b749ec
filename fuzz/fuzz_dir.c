/*
 * libFuzzer: a drive directory record (FORMAT §16), decoded, then
 * verified and pin-checked against a fixed chain (fuzz_chain_fixture.h)
 * and its epoch keys.
 */
#include <stddef.h>
#include <stdint.h>

#include "chain/dir.h"
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
	struct cf_dir *d = NULL;
	struct cf_dir_pin pin = { 1, { 0 }, 0 };

	if (cf_dir_decode(data, size, &d) == 0 &&
	    cf_dir_verify(fz.chain, d, (const uint8_t (*)[CF_KEY_BYTES])fz.keys,
	    2) == 0)
		(void)cf_dir_check_pin(fz.chain, &pin, d, NULL, NULL, 0);
	cf_dir_free(d);
	return 0;
}
