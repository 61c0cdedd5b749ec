/*
 * What the pieces of the device module share (private to lib/client):
 * the chain pin and directory pin saved, the drive heads a chain entry or
 * an approval names (device.c), and the entries that start an epoch
 * (device_epoch.c), which recovery (device_pair.c) writes too.
 */
#ifndef CF_DEVICE_INTERNAL_H
#define CF_DEVICE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "chain/dir.h"
#include "device.h"

/* ---- device.c ---- */

/* cf_device_now(): the time, in seconds since the epoch (0 before it). */
uint64_t cf_device_now(void);

/**
 * cf_device_chain_put(s, entry, elen, envs, c2p):
 * Append ${entry} with the envelopes ${envs} to the chain on the server
 * (compare-and-swap at the session's length), then adopt ${*c2p}, the
 * session's chain with the entry appended, as the session's (handed over).
 */
int cf_device_chain_put(struct cf_session *s, const uint8_t *entry,
    size_t elen, const struct cf_blobs *envs, struct cf_chain **c2p);

/**
 * cf_device_is_rk(c, id):
 * 1 if ${id} is the id of any recovery key ${c} ever registered.
 */
int cf_device_is_rk(const struct cf_chain *c,
    const uint8_t id[static CF_ID_BYTES]);

/**
 * cf_device_blobs_alloc(b, n):
 * Room for ${n} blobs in ${b} (none yet); the caller frees ${b}
 * (cf_blobs_free) on error too.
 */
int cf_device_blobs_alloc(struct cf_blobs *b, size_t n);

/**
 * cf_device_heads(s, sync, headsp, np):
 * The head of every drive of the verified directory: synced against its
 * pin if ${sync}, else as pinned.  ${*headsp} (malloc'd, in the
 * directory's order: by drive id) holds ${*np} heads.
 */
int cf_device_heads(struct cf_session *s, int sync,
    struct cf_drive_head **headsp, size_t *np);

/* ---- device_epoch.c ---- */

/**
 * cf_device_epoch_append(s, entry, elen, knew):
 * Append ${entry}, which starts epoch nks + 1 with key ${knew}, to the
 * session's chain on the server by compare-and-swap, with an envelope of
 * K_1..K_{nks+1} for each recipient, signed by this device; then adopt
 * the new state and keys and save the chain pin.
 */
int cf_device_epoch_append(struct cf_session *s, const uint8_t *entry,
    size_t elen, const uint8_t knew[static CF_KEY_BYTES]);

/**
 * cf_device_dir_rewrap(s, rekey):
 * Write the directory record that follows the pinned one, with a drive
 * key of the current epoch added to each drive that lacks one (with
 * ${rekey}: a new drive secret for each).
 */
int cf_device_dir_rewrap(struct cf_session *s, int rekey);

/**
 * cf_device_remove_ids(s, ids, n, rekey):
 * Remove the ${n} devices ${ids}, one entry (and epoch) each, then
 * re-write the directory; with ${rekey}, new drive secrets and every
 * drive's head re-sealed under them.
 */
int cf_device_remove_ids(struct cf_session *s,
    const uint8_t (*ids)[CF_ID_BYTES], size_t n, int rekey);

#endif
