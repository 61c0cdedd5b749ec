/*
 * libFuzzer: a typed pairing code (FORMAT §17).  What parses must format
 * back to a code that parses to the same r and t.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	uint8_t r[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES];
	uint8_t r2[CF_PAIR_R_BYTES], t2[CF_PAIR_T_BYTES];
	char text[CF_PAIR_CODE_TEXT_BYTES];

	if (cf_pair_code_parse((const char *)data, size, r, t) != 0)
		return 0;
	cf_pair_code_format(r, t, text);
	if (cf_pair_code_parse(text, strlen(text), r2, t2) != 0 ||
	    memcmp(r, r2, sizeof(r)) != 0 || memcmp(t, t2, sizeof(t)) != 0)
		abort();
	return 0;
}
