/*
 * The metadata store (docs/STORAGE.md): accounts, chains, devices,
 * envelopes, join requests, drive directory, drive heads, reference
 * deltas and live sets, object locations, nonces, invites.
 *
 * Every operation runs inside a transaction: srv_meta_begin() takes the
 * store (one writer at a time) and starts it; srv_meta_commit() makes it
 * durable (SQLite WAL, synchronous=FULL) or srv_meta_rollback() undoes
 * it.  Between the two, the srv_meta_* calls below read and write.  The
 * embedded engine is SQLite; the interface is narrow so that another
 * engine (PostgreSQL) can take its place without touching the HTTP layer.
 *
 * Return values: 0, or COFFER_ENOENT (no such row), COFFER_EEXIST,
 * COFFER_ECONFLICT, COFFER_EDENIED, COFFER_ETOOBIG as documented, or
 * COFFER_EIO for a storage failure.
 */
#ifndef SRV_META_H
#define SRV_META_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "objstore.h"
#include "records.h"

#define SRV_INVITE_TTL		(7 * 24 * 3600)
#define SRV_JOINS_PENDING_MAX	8
#define SRV_PROTECT_SECONDS	(24 * 3600)
#define SRV_BUSY_TIMEOUT_MS	10000

struct srv_meta;

/* Open (creating if needed) DIR/meta.db; close (NULL ok). */
int srv_meta_open(const char *dir, struct srv_meta **mp);
void srv_meta_close(struct srv_meta *m);

/* Transactions (the store is held from begin to commit/rollback). */
int srv_meta_begin(struct srv_meta *m);
int srv_meta_commit(struct srv_meta *m);
void srv_meta_rollback(struct srv_meta *m);

/* Remember ${nonce} of ${device} until ${now} + TTL; ECONFLICT if seen. */
int srv_meta_nonce_use(struct srv_meta *m, const uint8_t *device,
    const uint8_t *nonce, uint64_t now);

/*
 * The same for the nonce of a read request (GET, objects/get): kept in
 * memory for the TTL (bounded; spilled to the durable table when full),
 * so that a read commits nothing (docs/API.md §2).  ECONFLICT if seen in
 * memory or in the durable table.
 */
int srv_meta_nonce_use_read(struct srv_meta *m, const uint8_t *device,
    const uint8_t *nonce, uint64_t now);

/* Invites: store the hash of a token; use one (EDENIED if unknown, used
 * or expired). */
int srv_meta_invite_add(struct srv_meta *m, const uint8_t hash[static 32],
    uint64_t expires);
int srv_meta_invite_use(struct srv_meta *m, const uint8_t hash[static 32],
    uint64_t now);

/* Accounts.  create: EEXIST if the id or the name is taken. */
int srv_meta_account_create(struct srv_meta *m, const char *name,
    const uint8_t *genesis, size_t len, const struct srv_entry *e,
    uint64_t now);
int srv_meta_account_by_name(struct srv_meta *m, const char *name,
    uint8_t id[static CF_ID_BYTES]);
/* ENOENT if no such account. */
int srv_meta_account_state(struct srv_meta *m, const uint8_t *acct,
    uint64_t *chain_len, uint8_t head[static CF_ID_BYTES]);

/**
 * srv_meta_signer(m, acct, device, sign_pk):
 * The signing key of ${device} if it is active in ${acct} or is its
 * current recovery key.  ENOENT: no such account; EDENIED: not a
 * signer there (unknown or removed).
 */
int srv_meta_signer(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *device, uint8_t sign_pk[static CF_SIGN_PK_BYTES]);

/* Device rows (maintained from the chain). */
int srv_meta_device(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *device, uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    int *removedp);
int srv_meta_devices_active(struct srv_meta *m, const uint8_t *acct,
    uint64_t *np);
/* The current recovery key (ENOENT if none). */
int srv_meta_rk(struct srv_meta *m, const uint8_t *acct,
    uint8_t id[static CF_ID_BYTES], uint8_t sign_pk[static CF_SIGN_PK_BYTES]);

/* Append a verified entry at ${e->seq} and apply it to the device rows. */
int srv_meta_chain_append(struct srv_meta *m, const uint8_t *entry,
    size_t len, const struct srv_entry *e);

typedef int srv_meta_blob_cb(void *arg, const uint8_t *p, size_t len);

/* Entries from ${from}; stops after ${max} entries or ${maxbytes}. */
int srv_meta_chain_get(struct srv_meta *m, const uint8_t *acct,
    uint64_t from, uint64_t max, size_t maxbytes, srv_meta_blob_cb *cb,
    void *arg);

/* Envelopes: put (replaces an identical key), get the highest epoch. */
int srv_meta_envelope_put(struct srv_meta *m, const uint8_t *acct,
    const struct srv_envelope *v, const uint8_t *buf, size_t len);
int srv_meta_envelopes_get(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *recipient, srv_meta_blob_cb *cb, void *arg);

/* Joins.  put: ETOOBIG if SRV_JOINS_PENDING_MAX others are pending. */
int srv_meta_join_put(struct srv_meta *m, const uint8_t *acct,
    const struct srv_join *j, const uint8_t *req, size_t len,
    uint64_t expires, uint64_t now);
typedef int srv_meta_join_cb(void *arg, const uint8_t *dev,
    const uint8_t *req, size_t len, uint64_t expires);
int srv_meta_joins_list(struct srv_meta *m, const uint8_t *acct,
    uint64_t now, srv_meta_join_cb *cb, void *arg);
/* A pending (unexpired) request: its key and approval (malloc'd, or NULL). */
int srv_meta_join_get(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *dev, uint64_t now, uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    uint8_t **approvalp, size_t *lenp);
int srv_meta_join_approve(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *dev, uint64_t now, const uint8_t *approval, size_t len);
/* Withdraw a request (its device gave up); ENOENT if there is none. */
int srv_meta_join_delete(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *dev);

/* Drive directory: version 0 and NULL when none. */
int srv_meta_dir_get(struct srv_meta *m, const uint8_t *acct,
    uint64_t *versionp, uint8_t **recp, size_t *lenp);
int srv_meta_dir_put(struct srv_meta *m, const uint8_t *acct,
    uint64_t version, const uint8_t *rec, size_t len);
/*
 * Every record kept: those of versions after ${after}, in order; stops
 * after ${max} records or before ${maxbytes} (at least one record).
 * ${*versionp}: the current version.  ENOENT if no such account.
 */
int srv_meta_dir_records(struct srv_meta *m, const uint8_t *acct,
    uint64_t after, uint64_t max, size_t maxbytes, srv_meta_blob_cb *cb,
    void *arg, uint64_t *versionp);

/* Drives: claim for ${acct} (EDENIED if another account owns it). */
int srv_meta_drive_claim(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *acct);
/* 0 if ${acct} owns ${drive}; ENOENT otherwise (unknown or another's). */
int srv_meta_drive_owned(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *acct);
int srv_meta_head_get(struct srv_meta *m, const uint8_t *drive,
    uint64_t *versionp, uint8_t commit[static CF_ID_BYTES]);
/* Set the head and keep the delta (from the first commit on). */
int srv_meta_head_set(struct srv_meta *m, const uint8_t *drive,
    uint64_t version, const uint8_t *commit, const uint8_t *delta,
    size_t len);
/* Live set: 1 if live, 0 if not, or a negative error. */
int srv_meta_live_has(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id);
int srv_meta_live_add(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id);
int srv_meta_live_del(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id);

/* Objects: location (ENOENT if not stored), insert, protect. */
int srv_meta_object_get(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id, struct srv_objloc *loc);
int srv_meta_object_put(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id, const struct srv_objloc *loc, uint64_t protect_until);
int srv_meta_object_protect(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id, uint64_t until);

/* Quota use per account. */
int srv_meta_usage(struct srv_meta *m, const uint8_t *acct, uint64_t *bytes,
    uint64_t *objects);
int srv_meta_usage_add(struct srv_meta *m, const uint8_t *acct,
    uint64_t bytes, uint64_t objects);

/* ---- consistency check (cofferd check) ---- */

typedef int srv_meta_obj_cb(void *arg, const uint8_t *drive, const uint8_t *id,
    const struct srv_objloc *loc);

/* SQLite's own integrity check: 0 if "ok", else COFFER_EIO. */
int srv_meta_integrity(struct srv_meta *m);
/* Every object row, in key order. */
int srv_meta_objects_scan(struct srv_meta *m, srv_meta_obj_cb *cb, void *arg);
/* The number of accounts whose quota counters differ from their objects. */
int srv_meta_usage_mismatches(struct srv_meta *m, uint64_t *np);

#endif /* !SRV_META_H */
