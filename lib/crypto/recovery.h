/*
 * The recovery key (docs/FORMAT.md §5).
 *
 * 128 random bits, shown once as eight groups of five base32 characters:
 * the secret, a 32-bit tag committing to the account id, and a 40-bit
 * checksum that catches a typo or two swapped groups.
 */
#ifndef CF_RECOVERY_H
#define CF_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define CF_RECOVERY_SECRET_BYTES	16
#define CF_RECOVERY_RAW_BYTES		25	/* secret, tag, checksum */
#define CF_RECOVERY_TEXT_BYTES		48	/* 8 groups of 5, 7 dashes, NUL */

struct cf_recovery_keys {
	uint8_t sign_pk[CF_SIGN_PK_BYTES];
	uint8_t sign_sk[CF_SIGN_SK_BYTES];
	uint8_t box_pk[CF_BOX_PK_BYTES];
	uint8_t box_sk[CF_BOX_SK_BYTES];
};

/**
 * cf_recovery_generate(account_id, secret, text):
 * Draw a new recovery secret for ${account_id} and write its text form.
 */
int cf_recovery_generate(const uint8_t account_id[static CF_ID_BYTES],
    uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    char text[static CF_RECOVERY_TEXT_BYTES]);

/**
 * cf_recovery_format(account_id, secret, text):
 * The text form of ${secret} for ${account_id}.
 */
void cf_recovery_format(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    char text[static CF_RECOVERY_TEXT_BYTES]);

/**
 * cf_recovery_parse(text, len, secret, tag):
 * Read a recovery key as typed (case, dashes and white space are free;
 * O reads as 0, I and L as 1).  COFFER_EBADKEY if it is not 40 base32
 * characters or its checksum fails (a typo).
 */
int cf_recovery_parse(const char *text, size_t len,
    uint8_t secret[static CF_RECOVERY_SECRET_BYTES], uint8_t tag[static 4]);

/**
 * cf_recovery_check_account(secret, tag, account_id):
 * 0 if the parsed key belongs to ${account_id}, else COFFER_EBADKEY.
 */
int cf_recovery_check_account(const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    const uint8_t tag[static 4], const uint8_t account_id[static CF_ID_BYTES]);

/**
 * cf_recovery_derive(secret, account_id, rk):
 * Stretch the secret with keyed BLAKE2b into the recovery key pairs.
 */
int cf_recovery_derive(const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], struct cf_recovery_keys *rk);

#endif
