/*
 * Trusted devices (DESIGN §2, §5; docs/FORMAT.md §14-§17): joining with
 * an approval, approving, listing, removing with a new epoch, recovering
 * with the recovery key, replacing the recovery key, and the report of
 * chain changes.
 *
 * Nothing prints: the pairing code reaches the caller through a
 * callback, changes and history through arrays the caller frees.
 */
#ifndef CF_DEVICE_H
#define CF_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "chain/pair.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"
#include "session.h"

#define CF_JOIN_TIMEOUT_DEFAULT	900	/* seconds a join waits (API.md) */
#define CF_JOIN_POLL_MS		500	/* between two approval polls */

/* One entry of the chain, as a person reads it. */
struct cf_chain_change {
	uint64_t seq;
	uint8_t type;				/* enum cf_entry_type */
	uint64_t time;
	uint8_t signer_id[CF_ID_BYTES];
	int signer_is_rk;			/* signed by a recovery key */
	char signer_name[CF_DEVICE_NAME_MAX + 1];	/* "" if unknown */
	int has_subject;			/* an add or a remove */
	uint8_t subject_id[CF_ID_BYTES];
	char subject_name[CF_DEVICE_NAME_MAX + 1];
	uint64_t epoch;				/* epoch current after it */
};

/* A trusted device. */
struct cf_device_info {
	uint8_t id[CF_ID_BYTES];
	char name[CF_DEVICE_NAME_MAX + 1];	/* "" if its box does not open */
	uint8_t added_by[CF_ID_BYTES];
	uint64_t added_at;
	int this_device;
};

/**
 * cf_chain_changes(c, ks, nks, from, changesp, np):
 * The entries of the verified chain ${c} from seq ${from} on, with the
 * device names opened with the epoch keys ${ks} (K_1..K_nks; NULL for
 * none).  ${*changesp} is malloc'd (free()); ${*np} may be 0.
 */
int cf_chain_changes(const struct cf_chain *c, const uint8_t (*ks)[CF_KEY_BYTES],
    uint64_t nks, uint64_t from, struct cf_chain_change **changesp, size_t *np);

/**
 * cf_device_list(s, devsp, np):
 * The devices trusted at the head of ${s}'s verified chain, in the order
 * they were added.  ${*devsp} is malloc'd (free()).
 */
int cf_device_list(struct cf_session *s, struct cf_device_info **devsp,
    size_t *np);

#define CF_JOIN_GRACE		60	/* seconds to wait for the approval of an
					 * add-device entry found on withdrawing */

/* How a join ended without joining (cf_device_join's ${*endp}). */
enum cf_join_end {
	CF_JOIN_END_NONE = 0,		/* joined, or see the return value */
	CF_JOIN_END_NO_ACCOUNT,		/* the server has no account of that name */
	CF_JOIN_END_WITHDRAWN,		/* no approval in time; request withdrawn */
	CF_JOIN_END_GONE,		/* the request expired or the server dropped it */
	CF_JOIN_END_NOT_WITHDRAWN,	/* no approval in time, and the withdrawal
					 * failed (the return value says why) */
	CF_JOIN_END_ADDED		/* added to the chain, but no approval came */
};

/* Called once with the pairing code text as soon as the request is posted. */
typedef void cf_code_fn(void *ctx, const char *code);

/**
 * cf_device_join(paths, url, name, device, timeout, codefn, ctx, device_id,
 *     endp):
 * Join the account ${name} on the server at ${url} as a new device named
 * ${device}, its files in the folders ${paths} (COFFER_EINVAL if
 * unset): make keys, post a join request, hand the pairing code to
 * ${codefn}, and wait up to ${timeout} seconds for an approval.  The
 * approval is accepted only if it carries this attempt's r and verifies
 * against the chain verified from genesis; the device then adopts the
 * approver's chain, directory and drive heads as its pins, opens its
 * envelope and saves its files.  A join that gives up withdraws its
 * request (self-signed), so that no later approval can add this key; if
 * the server answers that an add-device entry for it is in the chain
 * already, the join waits up to CF_JOIN_GRACE seconds more for the
 * approval and completes.  COFFER_EEXIST if this device has an account;
 * COFFER_ENOENT if no account has that name, no approval came in time
 * (request withdrawn) or the request expired, with ${*endp} saying which;
 * COFFER_ENOTAUTHENTIC for an approval or chain that fails a check
 * (nothing is saved then).
 */
int cf_device_join(const struct cf_state_paths *paths, const char *url,
    const char *name, const char *device, uint64_t timeout,
    cf_code_fn *codefn, void *ctx, uint8_t device_id[static CF_ID_BYTES],
    enum cf_join_end *endp);

/**
 * cf_device_approve(s, code, codelen, device_id, name):
 * Approve the single pending request the pairing code ${code} matches
 * against this device's own account id: append its add-device entry (by
 * compare-and-swap, with its envelope) and put the approval with this
 * device's pins.  ${name} has room for CF_DEVICE_NAME_MAX + 1 bytes.
 * COFFER_EBADKEY for a mistyped code; COFFER_ENOENT if no pending request
 * matches (withdrawn, expired, of another account -- or changed by the
 * server, which looks the same from here) or the server refuses the
 * entry because the request is gone: nothing was appended then;
 * COFFER_ENOTAUTHENTIC if more than one matches or the match fails a
 * check.
 */
int cf_device_approve(struct cf_session *s, const char *code, size_t codelen,
    uint8_t device_id[static CF_ID_BYTES], char name[static CF_DEVICE_NAME_MAX + 1]);

/**
 * cf_device_remove(s, id, rekey):
 * Sync the head of every drive, append a remove entry for device ${id}
 * recording those heads, with envelopes of the new epoch for every
 * remaining device and the recovery key, then write a directory record
 * whose drive keys include the new epoch's.  With ${rekey}, that record
 * also gives every drive a new drive secret, and each drive's current
 * version is re-sealed under it as a new commit on its head (written out
 * verified into a temporary folder of the cache, then snapshotted), so
 * that the removed device cannot compute the id of anything pushed
 * afterwards.  COFFER_ENOENT if ${id} is not a trusted device;
 * COFFER_EINVAL if it is this device.
 */
int cf_device_remove(struct cf_session *s, const uint8_t id[static CF_ID_BYTES],
    int rekey);

/**
 * cf_recovery_key_rotate(s, text):
 * Register a new recovery key (a set-recovery-key entry signed by this
 * device and by the key, new epoch, envelopes, directory re-written);
 * ${text} receives the new key, to be shown once.
 */
int cf_recovery_key_rotate(struct cf_session *s,
    char text[static CF_RECOVERY_TEXT_BYTES]);

/* History of the chain shown to the person recovering, before any change. */
typedef void cf_history_fn(void *ctx, const struct cf_chain_change *ch, size_t n);

/**
 * cf_recover(paths, url, name, keytext, keylen, device, remove_others,
 *     histfn, ctx, device_id):
 * Recover the account ${name} with the recovery key ${keytext} as a new
 * device whose files go in the folders ${paths} (COFFER_EINVAL if
 * unset): derive its key pairs, verify the chain from genesis and
 * accept it only if its current recovery registration holds exactly those keys
 * (cf_recovery_check_chain), hand its history to ${histfn}, add this
 * device signed by the recovery key, save this device's files and, if
 * ${remove_others}, remove every other device (each removal a new
 * epoch).  COFFER_EBADKEY for a key that fails its own check (mistyped,
 * another account's) or that the verified chain shows replaced;
 * COFFER_EDENIED if the server refuses it (as it refuses a replaced key,
 * which the client cannot tell apart without the chain); the server is
 * left unchanged then.  COFFER_EEXIST if this device has an account.
 */
int cf_recover(const struct cf_state_paths *paths, const char *url,
    const char *name, const char *keytext, size_t keylen, const char *device,
    int remove_others, cf_history_fn *histfn, void *ctx,
    uint8_t device_id[static CF_ID_BYTES]);

#endif /* !CF_DEVICE_H */
