/*
 * The device chain (DESIGN §2, §4; docs/FORMAT.md §11, §14, §15).
 *
 * An account is an append-only, hash-linked log of signed entries.  A
 * struct cf_chain is the verified state after some prefix of it: it is
 * only ever built by verifying entries, one at a time, against the state
 * before each.  A device's pin is such a state (pin_encode/pin_decode).
 *
 * The struct is visible so that the directory, pairing and client code
 * can read it; only this module writes it.
 */
#ifndef CF_CHAIN_H
#define CF_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "crypto/recovery.h"

#define CF_ENTRY_BODY_MAX	(64U * 1024)
#define CF_ENTRY_MAX		(CF_ENTRY_BODY_MAX + 256)
#define CF_CHAIN_MAX_ENTRIES	(1U << 20)
#define CF_DEVICE_NAME_MAX	64
/* A padded device name: u8 len || name || zero pad (FORMAT §14.2). */
#define CF_DEVICE_NAME_PADDED	(1 + CF_DEVICE_NAME_MAX)
#define CF_CHAIN_DRIVES_MAX	65536	/* drive records in one removal */
#define CF_PIN_MAX		((size_t)1 << 30)
#define CF_CHAIN_TRUSTED_MAX	256	/* devices trusted at once (FORMAT §14.2) */
#define CF_GENESIS_RAND_BYTES	32

enum cf_entry_type {
	CF_ENTRY_GENESIS = 1,
	CF_ENTRY_ADD = 2,
	CF_ENTRY_REMOVE = 3,
	CF_ENTRY_ROTATE = 4,
	CF_ENTRY_SETRK = 5
};

/* A signing identity: a device or the recovery key. */
struct cf_signer {
	uint8_t id[CF_ID_BYTES];
	const uint8_t *sign_sk;			/* CF_SIGN_SK_BYTES */
};

struct cf_drive_head {
	uint8_t drive_id[CF_ID_BYTES];
	uint64_t version;			/* 0: empty drive */
	uint8_t commit_id[CF_ID_BYTES];		/* zero for version 0 */
};

struct cf_chain_device {
	uint8_t id[CF_ID_BYTES];
	uint8_t sign_pk[CF_SIGN_PK_BYTES];
	uint8_t box_pk[CF_BOX_PK_BYTES];
	uint64_t added_seq;
	uint8_t added_by[CF_ID_BYTES];		/* signer of the entry */
	uint64_t added_time;
	uint64_t name_epoch;			/* epoch of name_box's key */
	uint8_t *name_box;			/* FORMAT §14 name box */
	size_t name_box_len;
	int removed;
	uint64_t removed_seq;
	uint8_t removed_by[CF_ID_BYTES];
	uint64_t removed_time;
};

struct cf_chain_epoch {
	uint64_t epoch;				/* 1, 2, ... */
	uint64_t start_seq;
	uint8_t start_hash[CF_ID_BYTES];	/* entry that started it */
	uint8_t signer[CF_ID_BYTES];		/* its signer */
	uint8_t cmt[CF_ID_BYTES];
	size_t nrecip;
	uint8_t (*recip)[CF_ID_BYTES];		/* sorted; adds appended at the end */
};

struct cf_chain_removal {
	uint64_t seq;
	uint8_t removed_id[CF_ID_BYTES];
	size_t ndrives;
	struct cf_drive_head *drives;		/* sorted by drive id */
};

struct cf_chain_rk {
	uint8_t id[CF_ID_BYTES];		/* cf_device_id of the two keys */
	uint8_t sign_pk[CF_SIGN_PK_BYTES];
	uint8_t box_pk[CF_BOX_PK_BYTES];
	uint64_t seq;				/* entry that registered it */
};

struct cf_chain {
	uint8_t account_id[CF_ID_BYTES];
	uint64_t n;				/* entries verified; seq of last = n - 1 */
	uint8_t (*hash)[CF_ID_BYTES];		/* entry_hash of entry i */
	uint8_t **entry;			/* the entries themselves */
	size_t *entry_len;
	uint64_t *entry_time;
	uint8_t *entry_type;
	uint8_t (*entry_signer)[CF_ID_BYTES];
	size_t ndevices;
	struct cf_chain_device *devices;	/* every device ever added, in order */
	size_t nepochs;
	struct cf_chain_epoch *epochs;		/* epochs[i].epoch == i + 1 */
	size_t nremovals;
	struct cf_chain_removal *removals;
	size_t nrks;
	struct cf_chain_rk *rks;		/* every recovery key; the last is current */
	/* Private to the chain module: room allocated in each array. */
	size_t cap_entries, cap_devices, cap_epochs, cap_removals, cap_rks;
};

/**
 * cf_entry_hash(entry, len, hash):
 * H("coffer-entry-hash-v1" || entry).
 */
void cf_entry_hash(const uint8_t *entry, size_t len,
    uint8_t hash[static CF_ID_BYTES]);

/* An empty state (no genesis yet); free with cf_chain_free (NULL ok). */
int cf_chain_new(struct cf_chain **cp);
void cf_chain_free(struct cf_chain *c);

/* A deep copy of ${c}. */
int cf_chain_clone(const struct cf_chain *c, struct cf_chain **cp);

/**
 * cf_chain_append(c, entry, len):
 * Verify ${entry} as the next entry of ${c} (FORMAT §14: tag, version,
 * account id, seq, prev hash, signer trusted at that point -- or the
 * current recovery key for an add-device entry -- signature, body rules)
 * and apply it.  COFFER_ENOTAUTHENTIC and ${c} unchanged if not valid.
 */
int cf_chain_append(struct cf_chain *c, const uint8_t *entry, size_t len);

/**
 * cf_chain_extend(c, entries, lens, n, first_seq):
 * Accept ${n} entries numbered from ${first_seq} as an extension of the
 * pinned state ${c}, all or nothing.  Entries with seq < c->n must equal
 * the pinned ones (hash compare); anything that forks, rolls back or
 * fails to verify leaves ${c} unchanged and returns
 * COFFER_ENOTAUTHENTIC.  A chain shorter than the pin is a rollback.
 */
int cf_chain_extend(struct cf_chain *c, const uint8_t *const *entries,
    const size_t *lens, size_t n, uint64_t first_seq);

/* Pins: the verified entries, re-verified from genesis on decode (EFORMAT). */
int cf_chain_pin_encode(const struct cf_chain *c, uint8_t **outp, size_t *lenp);
int cf_chain_pin_decode(const uint8_t *buf, size_t len, struct cf_chain **cp);

/* Lookups on a verified state.  NULL / COFFER_ENOENT when absent. */
const struct cf_chain_device *cf_chain_device(const struct cf_chain *c,
    const uint8_t id[static CF_ID_BYTES]);
/* 1 if device ${id} was trusted at ${seq} (added <= seq < removed), else 0. */
int cf_chain_trusted_at(const struct cf_chain *c,
    const uint8_t id[static CF_ID_BYTES], uint64_t seq);
/* The epoch current at ${seq}, or 0 if seq is beyond the chain. */
uint64_t cf_chain_epoch_at(const struct cf_chain *c, uint64_t seq);
/* The current epoch and recovery key. */
const struct cf_chain_epoch *cf_chain_current_epoch(const struct cf_chain *c);
const struct cf_chain_rk *cf_chain_current_rk(const struct cf_chain *c);
/* Number of devices trusted now, and whether ${id} is one of them. */
size_t cf_chain_ntrusted(const struct cf_chain *c);

/**
 * cf_chain_check_named_head(c, seq, head):
 * 0 if entry ${seq} of ${c} exists and has hash ${head}; else
 * COFFER_ENOTAUTHENTIC.
 */
int cf_chain_check_named_head(const struct cf_chain *c, uint64_t seq,
    const uint8_t head[static CF_ID_BYTES]);

/**
 * cf_chain_check_commit(c, drive_id, version, author_id, chain_seq,
 *     chain_head, has_parent, parent_chain_seq, sealed_epoch):
 * The chain's part of the validity of a commit (FORMAT §14.7): the named
 * head in the chain and not older than the parent's, the author trusted
 * there, sealed under the epoch current there, and the rule for removed
 * authors.  0 or COFFER_ENOTAUTHENTIC.  The caller checks the signature
 * (with the author's key from cf_chain_device) and the drive-head rule
 * (cf_chain_head_floor).
 */
int cf_chain_check_commit(const struct cf_chain *c,
    const uint8_t drive_id[static CF_ID_BYTES], uint64_t version,
    const uint8_t author_id[static CF_ID_BYTES], uint64_t chain_seq,
    const uint8_t chain_head[static CF_ID_BYTES], int has_parent,
    uint64_t parent_chain_seq, uint64_t sealed_epoch);

/**
 * cf_chain_head_floor(c, drive_id, floor):
 * The highest drive record for ${drive_id} among the removals of ${c}
 * (what a new head must descend from), 0 with floor->version = 0 if none.
 * If two removals record different commits at the same version the
 * chain is refused already (they cannot both be honest): append checks
 * that records for a drive never go backwards.
 */
void cf_chain_head_floor(const struct cf_chain *c,
    const uint8_t drive_id[static CF_ID_BYTES], struct cf_drive_head *floor);

/* ---- Writing entries (a trusted device, or the recovery key) ---- */

/**
 * cf_entry_genesis(dev, name, namelen, rk, time, k1, account_id, entryp, lenp):
 * Make a genesis entry for device ${dev} named ${name}, registering the
 * recovery key ${rk}; draw epoch 1's key into ${k1} and return the
 * account id.  The entry is malloc'd.
 * The account id depends on random bytes drawn here, and a real recovery
 * key is derived from the account id (FORMAT §5), so a real account is
 * made with cf_chain_genesis_begin() then cf_entry_genesis_rand(); this form is
 * for callers (tests) whose ${rk} is not tied to the account.
 */
int cf_entry_genesis(const struct cf_device_keys *dev, const char *name,
    size_t namelen, const struct cf_recovery_keys *rk, uint64_t time,
    uint8_t k1[static CF_KEY_BYTES], uint8_t account_id[static CF_ID_BYTES],
    uint8_t **entryp, size_t *lenp);

/**
 * cf_chain_genesis_begin(dev, rand, account_id):
 * Draw the genesis body's random bytes ${rand} and compute the account id
 * they give with ${dev}'s keys (FORMAT §14.1), so that the recovery key
 * can be derived for it (cf_recovery_derive) before the genesis entry is
 * written with cf_entry_genesis_rand().
 */
void cf_chain_genesis_begin(const struct cf_device_keys *dev,
    uint8_t rand[static CF_GENESIS_RAND_BYTES],
    uint8_t account_id[static CF_ID_BYTES]);

/**
 * cf_entry_genesis_rand(dev, rand, name, namelen, rk, time, k1, entryp, lenp):
 * cf_entry_genesis() with the random bytes ${rand} of cf_chain_genesis_begin().
 */
int cf_entry_genesis_rand(const struct cf_device_keys *dev,
    const uint8_t rand[static CF_GENESIS_RAND_BYTES], const char *name,
    size_t namelen, const struct cf_recovery_keys *rk, uint64_t time,
    uint8_t k1[static CF_KEY_BYTES], uint8_t **entryp, size_t *lenp);

/**
 * cf_epoch_cmt(ke, account_id, epoch, cmt):
 * The commitment to epoch key ${ke}: H_ke("coffer-epoch-v1" || account_id
 * || u64 epoch).  Compare with crypto_verify_32.
 */
void cf_epoch_cmt(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    uint8_t cmt[static CF_ID_BYTES]);

/**
 * cf_chain_check_epoch_key(c, epoch, ke):
 * 0 if ${ke} matches the commitment of epoch ${epoch} of ${c}, else
 * COFFER_ENOTAUTHENTIC.
 */
int cf_chain_check_epoch_key(const struct cf_chain *c, uint64_t epoch,
    const uint8_t ke[static CF_KEY_BYTES]);

/*
 * The new device's proof of possession over ${account_id} (FORMAT §14.2):
 * its signature, purpose "coffer-pop-v1", of account_id || sign_pk ||
 * box_pk.  The one builder of that message (cf_pop_msg) serves both.
 */
void cf_pop_sign(const struct cf_device_keys *dev,
    const uint8_t account_id[static CF_ID_BYTES], uint8_t pop[static CF_SIG_BYTES]);
/* 0 if ${pop} proves possession of ${sign_pk}, else COFFER_ENOTAUTHENTIC. */
int cf_pop_verify(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES],
    const uint8_t pop[static CF_SIG_BYTES]);

/**
 * cf_entry_add(c, signer, sign_pk, box_pk, pop, name, namelen, ke, time, entryp, lenp):
 * An add-device entry for the next seq of ${c}, signed by ${signer} (a
 * trusted device or the current recovery key); ${ke} is the current
 * epoch's key (for the name box).
 */
int cf_entry_add(const struct cf_chain *c, const struct cf_signer *signer,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES],
    const uint8_t pop[static CF_SIG_BYTES], const char *name, size_t namelen,
    const uint8_t ke[static CF_KEY_BYTES], uint64_t time, uint8_t **entryp,
    size_t *lenp);

/* Remove ${removed_id}, recording ${n} drive heads; draws the new epoch key. */
int cf_entry_remove(const struct cf_chain *c, const struct cf_signer *signer,
    const uint8_t removed_id[static CF_ID_BYTES],
    const struct cf_drive_head *heads, size_t n, uint64_t time,
    uint8_t knew[static CF_KEY_BYTES], uint8_t **entryp, size_t *lenp);

/* Start a new epoch. */
int cf_entry_rotate(const struct cf_chain *c, const struct cf_signer *signer,
    uint64_t time, uint8_t knew[static CF_KEY_BYTES], uint8_t **entryp,
    size_t *lenp);

/* Register a new recovery key (signed by it too); starts a new epoch. */
int cf_entry_set_rk(const struct cf_chain *c, const struct cf_signer *signer,
    const struct cf_recovery_keys *rk, uint64_t time,
    uint8_t knew[static CF_KEY_BYTES], uint8_t **entryp, size_t *lenp);

/* ---- Name boxes (FORMAT §14) ---- */

/**
 * cf_device_name_pad(name, namelen, out):
 * u8 namelen || name || zeros, CF_DEVICE_NAME_PADDED bytes in all, so
 * that a sealed name does not tell its length.  COFFER_EINVAL for a name
 * that is not 1 to CF_DEVICE_NAME_MAX bytes without a NUL.
 */
int cf_device_name_pad(const char *name, size_t namelen,
    uint8_t out[static CF_DEVICE_NAME_PADDED]);

/**
 * cf_device_name_unpad(plain, len, name, namelenp):
 * The device name in an opened name box or join request name: the
 * padded form (exactly CF_DEVICE_NAME_PADDED bytes; length 1 to
 * CF_DEVICE_NAME_MAX, every pad byte zero) or the unpadded form written
 * before padding (1 to CF_DEVICE_NAME_MAX bytes).  Either way the name
 * has no NUL.  ${name} gets room for CF_DEVICE_NAME_MAX + 1 bytes and is
 * NUL-terminated.  COFFER_ENOTAUTHENTIC otherwise.
 */
int cf_device_name_unpad(const uint8_t *plain, size_t len,
    char name[static CF_DEVICE_NAME_MAX + 1], size_t *namelenp);

/* Seals the padded name (cf_device_name_pad). */
int cf_name_box_seal(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    const char *name, size_t namelen, uint8_t **boxp, size_t *lenp);
/* Opens either form (cf_device_name_unpad) into a malloc'd NUL-terminated string. */
int cf_name_box_open(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    const uint8_t *box, size_t len, char **namep, size_t *namelenp);

/* ---- Envelopes (FORMAT §15) ---- */

/**
 * cf_envelope_make(account_id, entry_hash, signer, epoch, keys, recipient_id,
 *     recipient_box_pk, envp, lenp):
 * Seal epoch keys 1..${epoch} (${keys}[i] is epoch i + 1) to a recipient.
 */
int cf_envelope_make(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t entry_hash[static CF_ID_BYTES], const struct cf_signer *signer,
    uint64_t epoch, const uint8_t (*keys)[CF_KEY_BYTES],
    const uint8_t recipient_id[static CF_ID_BYTES],
    const uint8_t recipient_box_pk[static CF_BOX_PK_BYTES], uint8_t **envp,
    size_t *lenp);

/**
 * cf_envelope_open(c, me_id, me_box_pk, me_box_sk, env, len, keysp, nkeysp):
 * Check an envelope against the verified chain ${c} (FORMAT §15) and open
 * it: ${*keysp} (sodium_malloc'd, ${*nkeysp} keys, epoch i + 1 at index
 * i; free with sodium_free) is handed over only if every key matches its
 * commitment.  COFFER_ENOTAUTHENTIC otherwise.
 */
int cf_envelope_open(const struct cf_chain *c,
    const uint8_t me_id[static CF_ID_BYTES],
    const uint8_t me_box_pk[static CF_BOX_PK_BYTES],
    const uint8_t me_box_sk[static CF_BOX_SK_BYTES], const uint8_t *env,
    size_t len, uint8_t (**keysp)[CF_KEY_BYTES], uint64_t *nkeysp);

#endif /* !CF_CHAIN_H */
