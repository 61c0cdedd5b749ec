/*
 * The stat cache (DESIGN §7, docs/FORMAT.md §19.4): for each regular file
 * of the last push, its path, stat fields and chunk list, so that an
 * unchanged file is not read again.  It lives in the cache folder and is
 * untrusted: deletable at any time, parsed only through the bounded
 * reader, and authenticated with a key derived from the drive's chunk-id
 * key, so a cache this device did not write (or wrote for another drive
 * or drive secret) is ignored as if absent.  Its chunks are used only if
 * they are known to be stored (in the parent version's set).
 */
#ifndef CF_STATCACHE_H
#define CF_STATCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "crypto/labels.h"
#include "tree/tree.h"

#define CF_STATCACHE_TAG	"CFSC"
#define CF_STATCACHE_VERSION	1
#define CF_STATCACHE_MAX	((size_t)1 << 30)	/* bytes in the file */
#define CF_STATCACHE_PATH_MAX	65536		/* bytes in one path */

struct cf_sc_entry {
	uint8_t *path;			/* relative path, '/'-separated */
	size_t pathlen;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	int64_t ctime_sec;
	uint32_t ctime_nsec;
	uint64_t ino;
	uint64_t dev;
	size_t nrefs;
	struct cf_ref *refs;		/* the file's chunks, in order */
};

/*
 * In memory, entries are kept as their encoded records (FORMAT §19.4) one
 * after another in one buffer, with the offset of each: ~130 bytes for a
 * one-chunk file, no allocation per entry.  cf_statcache_find decodes the
 * one asked for into ${view}.
 */
struct cf_statcache {
	uint8_t drive_id[CF_ID_BYTES];
	uint8_t secret_id[CF_ID_BYTES];
	size_t n, cap;			/* entries; slots of ${off} */
	uint32_t *off;			/* each record's offset in ${rec} */
	uint8_t *rec;			/* the records */
	size_t reclen, reccap;
	uint8_t *owned;			/* if set, ${rec} lies in it */
	const struct cf_statcache *base; /* see cf_statcache_add_found */
	size_t total;			/* bytes of all records */
	int full;			/* an add past CF_STATCACHE_MAX */
	struct cf_sc_entry view;	/* the last entry found */
	uint32_t voff;			/* its offset */
	struct cf_ref *vrefs;		/* its chunks */
	size_t vcap;
};

/* An empty cache for a drive and secret; free with cf_statcache_free. */
int cf_statcache_new(const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t secret_id[static CF_ID_BYTES], struct cf_statcache **scp);
void cf_statcache_free(struct cf_statcache *sc);

/**
 * cf_statcache_decode(buf, len, scp):
 * Parse a cache body (without its MAC): tag, version, entries strictly
 * increasing by path, every chunk 1 to CF_CHUNK_MAX bytes summing to the
 * file's size, caps, no trailing bytes.  COFFER_EFORMAT otherwise.
 */
int cf_statcache_decode(const uint8_t *buf, size_t len, struct cf_statcache **scp);

/**
 * cf_statcache_encode(sc, mac_key, bufp, lenp):
 * Sort ${sc} by path and encode it followed by its MAC under ${mac_key}.
 * COFFER_EINVAL if two entries have the same path.
 */
int cf_statcache_encode(struct cf_statcache *sc,
    const uint8_t mac_key[static CF_KEY_BYTES], uint8_t **bufp, size_t *lenp);

/**
 * cf_statcache_open(buf, len, mac_key, drive_id, secret_id, scp):
 * Check the MAC (constant time), decode, and check the drive and secret.
 * COFFER_EFORMAT for anything wrong (the caller then starts afresh).
 */
int cf_statcache_open(const uint8_t *buf, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t secret_id[static CF_ID_BYTES], struct cf_statcache **scp);

/*
 * cf_statcache_open_take(bufp, len, ...):
 * Like cf_statcache_open, but on success the cache keeps the records in
 * *${bufp} itself (no copy) and takes it: *${bufp} is set to NULL.
 */
int cf_statcache_open_take(uint8_t **bufp, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t secret_id[static CF_ID_BYTES], struct cf_statcache **scp);

/* The cache's MAC key from a drive's chunk-id key. */
void cf_statcache_mac_key(const uint8_t chunk_id_key[static CF_KEY_BYTES],
    uint8_t mac_key[static CF_KEY_BYTES]);

/**
 * cf_statcache_add(sc, e):
 * Append a copy of ${e} (its path and refs are copied).  Past
 * CF_STATCACHE_MAX bytes, nothing more is kept and encode fails
 * (COFFER_ETOOBIG): the cache is only a help.
 */
int cf_statcache_add(struct cf_statcache *sc, const struct cf_sc_entry *e);

/**
 * cf_statcache_add_found(sc, from):
 * Add the entry last found in ${from} to ${sc} without copying it: ${sc}
 * refers to ${from}'s record, so ${from} must outlive ${sc} and not be
 * added to.  (An unchanged file's entry is the same bytes in both.)  All
 * such adds to one ${sc} come from one ${from}; another is copied.
 */
int cf_statcache_add_found(struct cf_statcache *sc,
    const struct cf_statcache *from);

/*
 * The entry for ${path} in a decoded (sorted) cache, or NULL; it lives in
 * ${sc} until the next find or add.
 */
const struct cf_sc_entry *cf_statcache_find(struct cf_statcache *sc,
    const uint8_t *path, size_t len);


/*
 * The known-ids cache (FORMAT §19.5): the set of ids reachable from one
 * commit of the drive -- the pinned head this device pushed or walked --
 * so that the next push need not fetch the head's trees to compute its
 * reference delta.  Untrusted like the stat cache: authenticated with a
 * key derived from the drive's chunk-id key, used only if it names the
 * pinned head's commit id, ignored if anything is wrong.
 */
#define CF_KNOWN_TAG		"CFKI"
#define CF_KNOWN_VERSION	1
#define CF_KNOWN_IDS_MAX	((size_t)1 << 25)

/* The known-ids cache's MAC key from a drive's chunk-id key. */
void cf_known_mac_key(const uint8_t chunk_id_key[static CF_KEY_BYTES],
    uint8_t mac_key[static CF_KEY_BYTES]);

/**
 * cf_known_encode(drive_id, commit_id, ids, mac_key, bufp, lenp):
 * Encode the strictly increasing set ${ids} as reachable from
 * ${commit_id}, followed by its MAC.  COFFER_EINVAL if not sorted.
 */
int cf_known_encode(const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t commit_id[static CF_ID_BYTES], const struct cf_idset *ids,
    const uint8_t mac_key[static CF_KEY_BYTES], uint8_t **bufp, size_t *lenp);

/**
 * cf_known_decode(buf, len, drive_id, commit_id, ids):
 * Parse a body (without MAC): tag, version, ids strictly increasing, caps,
 * no trailing bytes; COFFER_EFORMAT otherwise.  ${ids} gets a malloc'd
 * copy (free with cf_delta_idset_clear).
 */
int cf_known_decode(const uint8_t *buf, size_t len,
    uint8_t drive_id[static CF_ID_BYTES], uint8_t commit_id[static CF_ID_BYTES],
    struct cf_idset *ids);

/**
 * cf_known_open(buf, len, mac_key, drive_id, commit_id, ids):
 * Check the MAC, decode, and check that it is for ${drive_id} and
 * ${commit_id}; COFFER_EFORMAT for anything else.
 */
int cf_known_open(const uint8_t *buf, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t commit_id[static CF_ID_BYTES], struct cf_idset *ids);

/*
 * cf_known_open_take(bufp, len, ...):
 * Like cf_known_open, but on success the ids are moved to the front of
 * *${bufp} (no second copy), which becomes ${ids}'s: *${bufp} = NULL.
 */
int cf_known_open_take(uint8_t **bufp, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t commit_id[static CF_ID_BYTES], struct cf_idset *ids);

#endif
