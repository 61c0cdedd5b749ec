/*
 * libFuzzer: an envelope (FORMAT §15) opened against a fixed chain
 * (fuzz_chain_fixture.h) by a recipient device and by the recovery key.
 */
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

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
	uint8_t (*keys)[CF_KEY_BYTES] = NULL;
	uint64_t n = 0;

	if (cf_envelope_open(fz.chain, fz.c->device_id, fz.c->box_pk,
	    fz.c->box_sk, data, size, &keys, &n) == 0)
		sodium_free(keys);
	keys = NULL;
	if (cf_envelope_open(fz.chain, fz.rk_id, fz.rk.box_pk, fz.rk.box_sk,
	    data, size, &keys, &n) == 0)
		sodium_free(keys);
	return 0;
}
