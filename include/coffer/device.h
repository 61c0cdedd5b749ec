/*
 * coffer: accounts and devices -- create an account, join one with a
 * pairing code, approve, list and remove devices, recover with the
 * recovery key, replace the recovery key.  Include <coffer/coffer.h>.
 *
 * The functions without a session write the new device's files into
 * ${ctx}'s folders: COFFER_EEXIST if this device already has an account
 * there, COFFER_EINVAL without folders or for an invalid URL or name.
 * All may return COFFER_EUNREACHABLE, COFFER_EDENIED,
 * COFFER_ENOTAUTHENTIC, COFFER_ENOMEM and COFFER_EIO.
 */
#ifndef COFFER_DEVICE_H
#define COFFER_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/coffer.h"	/* the ids, sizes and callbacks */

struct coffer_ctx;
struct coffer_session;

/*
 * 1 if ${s} is a server URL (http://HOST:PORT), an account name (1 to 64
 * of a-z, 0-9, '.', '_', '-') or a device name (1 to 64 bytes without
 * control characters); else 0.
 */
int coffer_url_ok(const char *s);
int coffer_account_name_ok(const char *s);
int coffer_device_name_ok(const char *s);

/**
 * coffer_account_create(ctx, url, name, invite, device, recovery_text,
 *     account_id):
 * Make this device's keys (the passphrase callback is asked for
 * COFFER_PASS_NEW) and a new account ${name} on the server at ${url}
 * (${invite}: a token from 'cofferd invite', or NULL), with an empty
 * drive directory.  ${recovery_text} receives the recovery key, to show
 * once (wipe it after).  COFFER_ECONFLICT if the server has an account
 * of that name; COFFER_EDENIED if it refuses (an invite is needed).
 */
int coffer_account_create(struct coffer_ctx *ctx, const char *url,
    const char *name, const char *invite, const char *device,
    char recovery_text[COFFER_RECOVERY_TEXT_BYTES],
    uint8_t account_id[COFFER_ID_BYTES]);

/* How a join ended without joining. */
enum coffer_join_end {
	COFFER_JOIN_END_NONE = 0,	/* joined, or see the return value */
	COFFER_JOIN_END_NO_ACCOUNT,	/* the server has no such account */
	COFFER_JOIN_END_WITHDRAWN,	/* no approval in time; withdrawn */
	COFFER_JOIN_END_GONE,		/* the request expired or was dropped */
	COFFER_JOIN_END_NOT_WITHDRAWN,	/* no approval, and the withdrawal
					   failed (the return value says why) */
	COFFER_JOIN_END_ADDED		/* in the chain, but no approval */
};

#define COFFER_JOIN_TIMEOUT_DEFAULT	900	/* seconds a join waits */
#define COFFER_JOIN_GRACE		60	/* more, once added */

/* The pairing code, as soon as the join request is posted. */
typedef void coffer_code_fn(void *arg, const char *code);

/**
 * coffer_device_join(ctx, url, name, device, timeout, codefn, arg,
 *     device_id, endp):
 * Make this device's keys, ask to join account ${name} on ${url} as
 * ${device}, give the pairing code to ${codefn} and wait up to
 * ${timeout} seconds for a trusted device to approve it
 * (coffer_device_approve).  A join that gives up withdraws its request.
 * On failure ${*endp} says how it ended (COFFER_JOIN_END_NONE: see the
 * return value); COFFER_ENOTAUTHENTIC for an approval or chain that fails
 * a check (nothing saved).
 */
int coffer_device_join(struct coffer_ctx *ctx, const char *url,
    const char *name, const char *device, uint64_t timeout,
    coffer_code_fn *codefn, void *arg, uint8_t device_id[COFFER_ID_BYTES],
    enum coffer_join_end *endp);

/**
 * coffer_device_approve(s, code, device_id, name):
 * Approve the join request that the pairing code ${code} matches.
 * ${name} (COFFER_DEVICE_NAME_MAX + 1 bytes) receives the new device's
 * name (untrusted).  COFFER_EBADKEY for a mistyped code, COFFER_ENOENT
 * if no pending request of this account matches, COFFER_ENOTAUTHENTIC if
 * more than one matches or the match fails a check (nothing approved).
 */
int coffer_device_approve(struct coffer_session *s, const char *code,
    uint8_t device_id[COFFER_ID_BYTES],
    char name[COFFER_DEVICE_NAME_MAX + 1]);

struct coffer_device_info {
	uint8_t id[COFFER_ID_BYTES];
	char name[COFFER_DEVICE_NAME_MAX + 1];	/* "" if unknown; untrusted */
	uint8_t added_by[COFFER_ID_BYTES];
	uint64_t added_at;
	int this_device;
};

/**
 * coffer_device_list(s, devsp, np):
 * The trusted devices in the order they were added; ${*devsp} is handed
 * over (coffer_free).
 */
int coffer_device_list(struct coffer_session *s,
    struct coffer_device_info **devsp, size_t *np);

/**
 * coffer_device_remove(s, id, rekey):
 * Remove device ${id} and start a new epoch of the account key; with
 * ${rekey}, also give every drive a new drive secret and re-seal its
 * current version under it.  COFFER_ENOENT if ${id} is not a trusted
 * device, COFFER_EINVAL if it is this one.
 */
int coffer_device_remove(struct coffer_session *s,
    const uint8_t id[COFFER_ID_BYTES], int rekey);

/**
 * coffer_recovery_key_rotate(s, text):
 * Register a new recovery key (the old one stops working); ${text}
 * receives it, to show once.
 */
int coffer_recovery_key_rotate(struct coffer_session *s,
    char text[COFFER_RECOVERY_TEXT_BYTES]);

/* The account's verified history, shown before a recovery changes it. */
typedef void coffer_history_fn(void *arg,
    const struct coffer_chain_change *ch, size_t n);

/**
 * coffer_recover(ctx, url, name, key, keylen, device, remove_others,
 *     histfn, arg, device_id):
 * Recover account ${name} with the recovery key ${key}: verify the chain
 * and accept it only if its recovery registration is this key's, give
 * its history to ${histfn}, add this device as ${device} and, with
 * ${remove_others}, remove every other device.  COFFER_EBADKEY for a
 * wrong or replaced key, COFFER_EDENIED if the server refuses it
 * (nothing changed then).
 */
int coffer_recover(struct coffer_ctx *ctx, const char *url, const char *name,
    const char *key, size_t keylen, const char *device, int remove_others,
    coffer_history_fn *histfn, void *arg, uint8_t device_id[COFFER_ID_BYTES]);

#endif /* !COFFER_DEVICE_H */
