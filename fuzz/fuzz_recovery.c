/*
 * libFuzzer harness for the recovery key reader (docs/FORMAT.md §5).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/coffer.h"
#include "crypto/recovery.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static int ready;
	uint8_t secret[CF_RECOVERY_SECRET_BYTES], tag[4], acct[CF_ID_BYTES];
	char text[CF_RECOVERY_TEXT_BYTES];

	if (!ready && (ready = (coffer_init() == 0)) == 0)
		abort();
	memset(acct, 0xaa, sizeof(acct));
	if (cf_recovery_parse((const char *)d, n, secret, tag) != 0)
		return 0;
	/* A key that parses prints back as 47 canonical characters. */
	cf_recovery_format(acct, secret, text);
	if (strlen(text) != CF_RECOVERY_TEXT_BYTES - 1)
		abort();
	(void)cf_recovery_check_account(secret, tag, acct);
	return 0;
}
