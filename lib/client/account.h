/*
 * This device's account (DESIGN §7): the account file (FORMAT §19.1) --
 * which server, which account, this device's name -- its checks, and
 * the creation of a new account.  The chain's side of an account (its id,
 * the genesis entry) is lib/chain's (cf_chain_account_id,
 * cf_chain_genesis_begin).
 */
#ifndef CF_ACCOUNT_H
#define CF_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"

/* ---- The account file (FORMAT §19.1): strict key=value text ---- */

#define CF_ACCOUNT_FILE_MAX	2048
#define CF_ACCOUNT_URL_MAX	256
#define CF_ACCOUNT_ANAME_MAX	64
#define CF_ACCOUNT_HEADER	"coffer-account-v1"

struct cf_state_paths;

struct cf_account {
	char server[CF_ACCOUNT_URL_MAX + 1];
	char name[CF_ACCOUNT_ANAME_MAX + 1];
	uint8_t account_id[CF_ID_BYTES];
	char device[CF_DEVICE_NAME_MAX + 1];
};

/* 1 if ${s} (${len} bytes) is a valid server URL / account / device name. */
int cf_account_url_ok(const char *s, size_t len);
int cf_account_name_ok(const char *s, size_t len);
int cf_account_device_ok(const char *s, size_t len);

/**
 * cf_account_encode(a, bufp, lenp) / cf_account_decode(buf, len, a):
 * The account file.  Decode refuses anything but the exact lines of
 * FORMAT §19.1 with valid values (COFFER_EFORMAT); ${a} is filled only on
 * success.  Encode: COFFER_EINVAL for an invalid field.
 */
int cf_account_encode(const struct cf_account *a, uint8_t **bufp, size_t *lenp);
int cf_account_decode(const uint8_t *buf, size_t len, struct cf_account *a);

/*
 * cf_account_args_ok(url, name, device):
 * 1 if the server URL, account name and device name of a new device
 * (account creation, join, recovery) are each valid, else 0.
 */
int cf_account_args_ok(const char *url, const char *name, const char *device);

/**
 * cf_account_keys(p, reuse, kp):
 * This device's key pair, in a key file in the folders ${p} sealed with
 * the passphrase ${p}'s source gives: with ${reuse}, the one a failed
 * account creation left there (opened), else a new one; without, always
 * a new one replacing any left by a failed join or recovery.
 */
int cf_account_keys(const struct cf_state_paths *p, int reuse,
    struct cf_device_keys **kp);

/**
 * cf_account_create(paths, url, name, invite, device, recovery_text,
 *     account_id):
 * Make a new device and account on the server at ${url}: keys, recovery
 * key, genesis entry and envelopes, and an empty drive directory; save
 * the device's files in the folders ${paths} (COFFER_EINVAL if unset).
 * COFFER_EEXIST if this device already has an account.
 * ${recovery_text} receives the recovery key (shown once).
 */
int cf_account_create(const struct cf_state_paths *paths, const char *url,
    const char *name, const char *invite, const char *device,
    char recovery_text[static CF_RECOVERY_TEXT_BYTES],
    uint8_t account_id[static CF_ID_BYTES]);

#endif /* !CF_ACCOUNT_H */
