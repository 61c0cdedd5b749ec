/*
 * libFuzzer: an approval (FORMAT §17): the outer record decoded and its
 * grant opened with a fixed key pair (device C of fuzz_chain_fixture.h);
 * the whole check against the fixed chain; and the input parsed as a
 * grant itself, since a sealed grant cannot be mutated into another.
 */
#include <stddef.h>
#include <stdint.h>

#include "chain/pair.h"
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
	static const uint8_t r[CF_PAIR_R_BYTES] = { 1, 2, 3, 4, 5, 6 };
	struct cf_approval *a = NULL;
	struct cf_grant *g = NULL;

	if (cf_approval_decode(data, size, &a) == 0 &&
	    cf_approval_open_grant(a, fz.c->box_pk, fz.c->box_sk, &g) == 0)
		cf_grant_free(g);
	cf_approval_free(a);
	g = NULL;
	if (cf_approval_open(fz.chain, fz.c, r, data, size, &g) == 0)
		cf_grant_free(g);
	g = NULL;
	if (cf_grant_decode(data, size, &g) == 0)
		cf_grant_free(g);
	return 0;
}
