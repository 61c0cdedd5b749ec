/*
 * The object store: where object bytes live (docs/STORAGE.md).
 *
 * The embedded engine keeps objects in append-only pack files under
 * DIR/packs/.  A batch is appended to the current pack and fsynced as a
 * whole; batches of concurrent writers go to ranges reserved under a
 * short lock and are written and fsynced at once; a new pack is created under a temporary name, fsynced, renamed
 * into place, and its folder fsynced, before anything is appended to it.
 * Only after cf_objstore_write() returns may the metadata store commit
 * the locations it handed out: bytes are durable before they are visible.
 * Nothing is ever overwritten; bytes of a batch whose metadata commit
 * never happened are unreferenced garbage (reclaimed by a later
 * compaction, not yet written).
 */
#ifndef SRV_OBJSTORE_H
#define SRV_OBJSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"

#define SRV_PACK_MAX		((uint64_t)1 << 30)	/* start a new pack past this */
#define SRV_PACK_MAX_MIN	((uint64_t)4096)	/* smallest --pack-max */
#define SRV_PACK_MAGIC		"CFPK\x01"
#define SRV_PACK_MAGIC_BYTES	5
#define SRV_PACK_REC_HDR	(CF_ID_BYTES + 4)	/* id || u32 len */

struct srv_objstore;

/* Where an object's bytes are. */
struct srv_objloc {
	uint64_t pack;
	uint64_t off;		/* of the bytes, after the record header */
	uint32_t len;
};

/* One object to write. */
struct srv_objput {
	const uint8_t *id;
	const uint8_t *data;
	uint32_t len;
	struct srv_objloc loc;	/* filled in by cf_objstore_write */
};

/**
 * srv_objstore_open(dir, sp):
 * Open (creating if needed) the store under ${dir}/packs.  The current
 * pack is the highest-numbered one; appends go at its end.
 */
int srv_objstore_open(const char *dir, struct srv_objstore **sp);
void srv_objstore_close(struct srv_objstore *s);

/**
 * srv_objstore_set_pack_max(s, max):
 * Start a new pack once appending would take the current one past ${max}
 * bytes (default SRV_PACK_MAX; smaller values only for tests).
 */
void srv_objstore_set_pack_max(struct srv_objstore *s, uint64_t max);

/**
 * srv_objstore_write(s, objs, n):
 * Append ${n} objects, fsync, and fill in each ${objs[i].loc}.  Returns 0
 * only when every byte is durable (and any new pack renamed into place
 * with its folder fsynced).  COFFER_EIO otherwise.  Thread-safe: only the
 * choice of pack and offset is serialised, not the write nor the fsync.
 */
int srv_objstore_write(struct srv_objstore *s, struct srv_objput *objs,
    size_t n);

/**
 * srv_objstore_read(s, loc, buf):
 * Read the object at ${loc} into ${buf} (loc->len bytes).  Thread-safe.
 */
int srv_objstore_read(struct srv_objstore *s, const struct srv_objloc *loc,
    uint8_t *buf);

/**
 * srv_objstore_check(s, loc, id):
 * 0 if the record header before ${loc} names ${id} and ${loc->len} and the
 * bytes lie inside the pack; COFFER_EIO otherwise (cofferd check).
 */
int srv_objstore_check(struct srv_objstore *s, const struct srv_objloc *loc,
    const uint8_t id[static CF_ID_BYTES]);

#endif /* !SRV_OBJSTORE_H */
