/*
 * libFuzzer: a join request (FORMAT §17), decoded; t of what decodes.
 * (Matching would run Argon2id on every match, so it is left to the
 * unit tests.)
 */
#include <stddef.h>
#include <stdint.h>

#include "coffer/coffer.h"
#include "chain/pair.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return coffer_init();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t r[CF_PAIR_R_BYTES] = { 1, 2, 3, 4, 5, 6 };
	struct cf_join_request req;
	uint8_t t[CF_PAIR_T_BYTES];

	if (cf_join_request_decode(data, size, &req) == 0)
		cf_pair_t(r, req.account_id, &req, t);
	return 0;
}
