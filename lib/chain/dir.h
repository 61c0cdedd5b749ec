/*
 * The drive directory (DESIGN §2, §4; docs/FORMAT.md §3, §16).
 *
 * One signed record per account lists every drive: its id, its name (in
 * a name box bound to the drive), its drive secrets and its per-epoch
 * drive keys, each wrapped under the account key K_e of its own epoch and
 * bound to the drive and its key id.  A record is valid only against a
 * verified chain (struct cf_chain): signed with purpose "coffer-dir-v1"
 * by a device trusted at the chain entry it names, that entry in the
 * chain.  Records are hash-linked (prev_hash) and pinned like a drive
 * head: a device accepts only its pin or a descendant of it.
 *
 * Drive names resolve only through a verified record; objects are opened
 * only with keys a verified record lists for that drive (cf_dir_lookup).
 *
 * Flow for a reader:   cf_dir_accept (decode, verify, pin rules)
 *                      -> cf_dir_resolve -> cf_dir_drive_keys -> cf_dir_lookup.
 * Flow for a writer:   cf_drive_keys_create / _add_epoch / _rekey
 *                      -> cf_dir_build (next version after the pinned one).
 */
#ifndef CF_DIR_H
#define CF_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "crypto/keys.h"
#include "crypto/labels.h"
#include "crypto/wrap.h"
#include "object/object.h"

#define CF_DIR_TAG		"CFDR"
#define CF_DIR_TAG_BYTES	4
#define CF_DIR_VERSION		1

/* Hard caps (FORMAT §16). */
#define CF_DIR_MAX		(16U << 20)	/* bytes in one record */
#define CF_DIR_DRIVES_MAX	4096		/* drives in one record */
#define CF_DIR_SECRETS_MAX	256		/* drive secrets of one drive */
#define CF_DIR_KEYS_MAX		16384		/* epoch keys of one drive */
#define CF_DIR_CATCHUP_MAX	4096		/* records between a pin and a head */

/* Drive names: 1 to 255 bytes, no NUL. */
#define CF_DIR_NAME_MAX		255
/* Name box: nonce[24] || AEAD(u8 len || name || zero pad to 256 bytes). */
#define CF_DIR_NAME_PLAIN_BYTES	(1 + CF_DIR_NAME_MAX)
#define CF_DIR_NAME_BOX_BYTES	(24 + CF_DIR_NAME_PLAIN_BYTES + 16)
/* A wrapped 32-byte key (FORMAT §4). */
#define CF_DIR_WRAPPED_BYTES	(CF_KEY_BYTES + CF_WRAP_OVERHEAD)

/* ---- The record as decoded (FORMAT §16) ---- */

struct cf_dir_secret {
	uint8_t id[CF_ID_BYTES];		/* key_id(S) */
	uint64_t epoch;				/* wrapped under K_epoch; in force from it */
	uint8_t wrapped[CF_DIR_WRAPPED_BYTES];
};

struct cf_dir_key {
	uint64_t epoch;
	uint8_t key_id[CF_ID_BYTES];		/* key_id(content key of D_epoch) */
	uint8_t wrapped[CF_DIR_WRAPPED_BYTES];	/* D_epoch under K_epoch */
};

struct cf_dir_drive {
	uint8_t drive_id[CF_ID_BYTES];
	uint64_t name_epoch;
	uint8_t name_box[CF_DIR_NAME_BOX_BYTES];
	size_t nsecrets;
	struct cf_dir_secret *secrets;		/* epochs strictly increasing */
	size_t nkeys;
	struct cf_dir_key *keys;		/* epochs strictly increasing */
	char *name;				/* set by cf_dir_verify (NUL-terminated) */
	size_t namelen;
};

/*
 * Visible so that tests and the forge tool can alter a decoded record and
 * sign it again (cf_dir_encode); everything else only reads it.
 */
struct cf_dir {
	uint8_t account_id[CF_ID_BYTES];
	uint64_t version;			/* dir_version, from 1 */
	uint8_t prev_hash[CF_ID_BYTES];		/* zero for version 1 */
	uint8_t author_id[CF_ID_BYTES];
	uint64_t time;
	uint64_t chain_seq;
	uint8_t chain_head[CF_ID_BYTES];
	size_t ndrives;
	struct cf_dir_drive *drives;		/* strictly increasing by drive id */
	uint8_t sig[CF_SIG_BYTES];
	uint8_t hash[CF_ID_BYTES];		/* dir_hash of the bytes decoded */
	uint8_t *raw;				/* those bytes */
	size_t rawlen;
	int verified;				/* cf_dir_verify passed */
};

/* A device's pin on the directory (DESIGN §4). */
struct cf_dir_pin {
	uint64_t version;			/* 0: no record pinned yet */
	uint8_t hash[CF_ID_BYTES];
	uint64_t chain_seq;			/* the pinned record's; 0 if unknown */
};

/* ---- Drive keys (FORMAT §3), unwrapped; all in sodium_malloc memory ---- */

struct cf_drive_secret {
	uint64_t epoch;				/* in force for epochs >= this */
	uint8_t id[CF_ID_BYTES];		/* key_id(secret) */
	uint8_t secret[CF_KEY_BYTES];		/* S */
	uint8_t chunk_id_key[CF_KEY_BYTES];
	uint8_t chunker_key[CF_KEY_BYTES];
};

struct cf_drive_epoch {
	uint64_t epoch;
	uint8_t key_id[CF_ID_BYTES];		/* key_id(content_key) */
	uint8_t dkey[CF_KEY_BYTES];		/* D_e */
	uint8_t content_key[CF_KEY_BYTES];
	uint8_t meta_id_key[CF_KEY_BYTES];
};

struct cf_drive_keys {
	uint8_t drive_id[CF_ID_BYTES];
	size_t nsecrets;
	struct cf_drive_secret *secrets;	/* epochs strictly increasing */
	size_t nepochs;
	struct cf_drive_epoch *epochs;		/* epochs strictly increasing */
};

/**
 * cf_dir_hash(rec, len, hash):
 * dir_hash = H("coffer-dir-hash-v1" || rec).
 */
void cf_dir_hash(const uint8_t *rec, size_t len, uint8_t hash[static CF_ID_BYTES]);

/**
 * cf_dir_decode(rec, len, dp):
 * Parse a record (tag, version, caps, field shapes, drives strictly
 * increasing by id, epochs strictly increasing, trailing bytes) without
 * checking any signature or key.  COFFER_ENOTAUTHENTIC if malformed.
 * ${*dp} is handed over on success; free with cf_dir_free.
 */
int cf_dir_decode(const uint8_t *rec, size_t len, struct cf_dir **dp);

/* Free a record, wiping its decrypted names; NULL does nothing. */
void cf_dir_free(struct cf_dir *d);

/**
 * cf_dir_check_signed(c, d):
 * The part of cf_dir_verify that needs no account key (for the server,
 * as defence in depth): the account id, version 1 iff prev_hash is zero,
 * the named chain entry in ${c}, an author trusted there whose signature
 * verifies.  0 or COFFER_ENOTAUTHENTIC.
 */
int cf_dir_check_signed(const struct cf_chain *c, const struct cf_dir *d);

/**
 * cf_dir_verify(c, d, ks, nks):
 * Check the decoded record ${d} against the verified chain ${c}, with the
 * account keys ${ks}[i] = K_{i+1}, i < ${nks} (FORMAT §16): all of
 * cf_dir_check_signed; every epoch named at most the epoch current at
 * chain_seq; each name box opening under its
 * epoch's key, bound to its drive, with a valid name, names unique; each
 * drive secret and epoch key unwrapping under K of its own epoch, bound
 * to its account, drive, id and epoch, with the id it is listed under;
 * no key id twice in a drive.  On success the names are set in ${d} and
 * d->verified is 1.  COFFER_ENOTAUTHENTIC otherwise; COFFER_EINVAL if
 * ${nks} is short of the epoch current at chain_seq.  The pin rules and
 * the removed-author rule are cf_dir_accept's.
 */
int cf_dir_verify(const struct cf_chain *c, struct cf_dir *d,
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks);

/**
 * cf_dir_check_pin(c, pin, d, inter, interlens, ninter):
 * The pin rules for a verified head ${d} (FORMAT §16):
 *  - no pin (${pin} NULL or version 0): any record, ${ninter} = 0;
 *  - d->version < pin->version: a rollback, refused;
 *  - d->version = pin->version: d->hash must be the pinned hash;
 *  - d->version > pin->version: ${inter} must hold the ${ninter} =
 *    d->version - pin->version - 1 records in between, in order, each the
 *    next version of the one before, hash-linked from the pin to ${d}
 *    (prev_hash), their chain_seq never decreasing from the pin's to
 *    d->chain_seq.  Intermediate records are only decoded: the trusted
 *    head's signature covers them through the hashes.
 * And: a head whose author has been removed in ${c} is accepted only if
 * it is the pinned record itself.  0 or COFFER_ENOTAUTHENTIC;
 * COFFER_ETOOBIG if the gap exceeds CF_DIR_CATCHUP_MAX.
 */
int cf_dir_check_pin(const struct cf_chain *c, const struct cf_dir_pin *pin,
    const struct cf_dir *d, const uint8_t *const *inter,
    const size_t *interlens, size_t ninter);

/**
 * cf_dir_accept(c, pin, ks, nks, rec, len, inter, interlens, ninter, dp):
 * cf_dir_decode, cf_dir_verify and cf_dir_check_pin of a served head
 * ${rec}; ${*dp} is handed over only if all pass.
 */
int cf_dir_accept(const struct cf_chain *c, const struct cf_dir_pin *pin,
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks, const uint8_t *rec,
    size_t len, const uint8_t *const *inter, const size_t *interlens,
    size_t ninter, struct cf_dir **dp);

/* The pin for an accepted record. */
void cf_dir_pin_of(const struct cf_dir *d, struct cf_dir_pin *pin);

/**
 * cf_dir_resolve(d, name, namelen, drive_id):
 * The id of the drive named ${name} in the verified record ${d}.
 * COFFER_ENOENT if none; COFFER_EINVAL if ${d} is not verified.
 */
int cf_dir_resolve(const struct cf_dir *d, const char *name, size_t namelen,
    uint8_t drive_id[static CF_ID_BYTES]);

/**
 * cf_dir_drive_keys(d, drive_id, ks, nks, dkp):
 * Unwrap every drive secret and epoch key the verified record ${d} lists
 * for ${drive_id} and derive their subkeys (FORMAT §3).  ${*dkp} is
 * handed over on success; free with cf_drive_keys_free.  COFFER_ENOENT if
 * the drive is not listed; COFFER_ENOTAUTHENTIC if a key fails to unwrap
 * or has another id than listed; COFFER_EINVAL if ${d} is not verified.
 */
int cf_dir_drive_keys(const struct cf_dir *d,
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks,
    struct cf_drive_keys **dkp);

/* ---- Lookup for cf_object_open ---- */

struct cf_dir_lookup {
	const struct cf_drive_keys *dk;		/* from cf_dir_drive_keys */
	uint64_t max_epoch;			/* newest epoch allowed */
};

/*
 * cf_dir_lookup(ctx, type, key_id, out), a cf_keylookup_fn with ctx a
 * struct cf_dir_lookup: accept ${key_id} only if the drive lists it for
 * an epoch <= max_epoch; hand back that epoch's content key with the
 * chunk-id key of the drive secret in force at that epoch (CF_OBJ_CHUNK)
 * or that epoch's metadata-id key (tree, list, commit).  Any other type,
 * or a key id not listed: COFFER_ENOTAUTHENTIC.
 */
cf_keylookup_fn cf_dir_lookup;

/* ---- Writing ---- */

/**
 * cf_drive_keys_create(epoch, dkp):
 * A new drive: a random drive id, drive secret (in force from ${epoch})
 * and drive key for ${epoch}.
 */
int cf_drive_keys_create(uint64_t epoch, struct cf_drive_keys **dkp);

/**
 * cf_drive_keys_add_epoch(dk, epoch):
 * Draw the drive key for ${epoch}, which must be newer than every epoch
 * ${dk} holds and no older than its newest secret (COFFER_EINVAL).
 */
int cf_drive_keys_add_epoch(struct cf_drive_keys *dk, uint64_t epoch);

/**
 * cf_drive_keys_rekey(dk, epoch):
 * Draw a new drive secret in force from ${epoch}, which must be newer
 * than every drive key and secret ${dk} holds (COFFER_EINVAL): objects of
 * earlier epochs keep the ids of the secret they were written under.
 */
int cf_drive_keys_rekey(struct cf_drive_keys *dk, uint64_t epoch);

/*
 * The drive secret of ${dk} in force at ${epoch}: the newest whose epoch
 * is <= it, or NULL.
 */
const struct cf_drive_secret *cf_drive_secret_at(
    const struct cf_drive_keys *dk, uint64_t epoch);

/* Wipe and free; NULL does nothing. */
void cf_drive_keys_free(struct cf_drive_keys *dk);

/**
 * cf_drive_keys_objkey(dk, type, epoch, out):
 * The keys to seal an object of ${type} in ${epoch} (the same ones
 * cf_dir_lookup hands back).  COFFER_ENOENT if ${dk} has no key for
 * ${epoch}; COFFER_EINVAL for another type.
 */
int cf_drive_keys_objkey(const struct cf_drive_keys *dk, uint8_t type,
    uint64_t epoch, struct cf_objkey *out);

/**
 * cf_drive_keys_chunker(dk, epoch, key):
 * The chunker key of the drive secret in force at ${epoch}.
 * COFFER_ENOENT if none.
 */
int cf_drive_keys_chunker(const struct cf_drive_keys *dk, uint64_t epoch,
    uint8_t key[static CF_KEY_BYTES]);

struct cf_dir_entry {
	const char *name;			/* 1..CF_DIR_NAME_MAX bytes, no NUL */
	size_t namelen;
	const struct cf_drive_keys *dk;
};

/**
 * cf_dir_build(c, author, ks, nks, prev, drives, n, time, recp, lenp):
 * Make and sign the record that follows ${prev} (NULL for version 1) as
 * seen by ${author} at the head of its verified chain ${c}: each name
 * boxed under the current epoch's key, each secret and drive key wrapped
 * under K of its own epoch.  Drives are sorted here; duplicate ids or
 * names, an epoch past the current one or ${nks} short of it are
 * COFFER_EINVAL.  The record is malloc'd and handed over on success.
 */
int cf_dir_build(const struct cf_chain *c, const struct cf_device_keys *author,
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks, const struct cf_dir *prev,
    const struct cf_dir_entry *drives, size_t n, uint64_t time,
    uint8_t **recp, size_t *lenp);

/**
 * cf_dir_encode(d, author, recp, lenp):
 * Encode the fields of ${d} (drives as given, names ignored) with
 * author_id = ${author}'s id, and sign.  The building block of
 * cf_dir_build, exposed for tests and the forge tool.
 */
int cf_dir_encode(const struct cf_dir *d, const struct cf_device_keys *author,
    uint8_t **recp, size_t *lenp);

/**
 * cf_dir_name_seal(ke, account_id, epoch, drive_id, name, namelen, box):
 * cf_dir_name_open(ke, account_id, epoch, drive_id, box, name, namelenp):
 * The directory's name box (FORMAT §16): AD binds the account, the epoch
 * and the drive.  ${name} for open has room for CF_DIR_NAME_MAX + 1
 * bytes (NUL-terminated).  Open: COFFER_ENOTAUTHENTIC if it fails or the
 * name or padding is malformed.
 */
int cf_dir_name_seal(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    const uint8_t drive_id[static CF_ID_BYTES], const char *name,
    size_t namelen, uint8_t box[static CF_DIR_NAME_BOX_BYTES]);
int cf_dir_name_open(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t box[static CF_DIR_NAME_BOX_BYTES],
    char name[static CF_DIR_NAME_MAX + 1], size_t *namelenp);

#endif /* !CF_DIR_H */
