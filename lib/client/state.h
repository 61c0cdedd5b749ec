/*
 * A device's own state on disk (DESIGN §7, docs/FORMAT.md §19).
 *
 * Trusted state -- the key file, the account file, the chain pin, the
 * directory pin and one pin per drive -- lives in the data folder;
 * the stat cache lives in the cache folder and is untrusted (statcache.h).
 * The program names both folders (the CLI: $COFFER_HOME if it is set,
 * else $XDG_DATA_HOME/coffer and $XDG_CACHE_HOME/coffer, defaults
 * ~/.local/share, ~/.cache); the library reads no environment.
 *
 * Every file is written atomically: a temporary name in the same folder,
 * fsync, rename, fsync of the folder.  Every file is read as a regular
 * file (never through a symlink) of bounded size and parsed strictly;
 * anything malformed is COFFER_EFORMAT.
 */
#ifndef CF_STATE_H
#define CF_STATE_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "chain/dir.h"
#include "crypto/keys.h"
#include "account.h"

#define CF_STATE_PATH_MAX	4096
#define CF_STATE_FILE_MAX	((size_t)1 << 30)	/* largest state file read */

#define CF_STATE_KEYFILE	"device.key"
#define CF_STATE_ACCOUNT	"account"
#define CF_STATE_CHAINPIN	"chain.pin"
#define CF_STATE_DIRPIN		"directory.pin"
#define CF_STATE_DRIVES		"drives"	/* folder of drive pins */
#define CF_STATE_STATCACHE	"statcache"	/* folder of stat caches */
#define CF_STATE_KNOWN		"known"		/* folder of known-ids caches */
#define CF_STATE_UNREPORTED	"chain.unreported"	/* see below */

/*
 * Where a device keeps its files, and where its key file's passphrase
 * comes from: both the caller's (the library reads no environment).
 */
struct cf_state_paths {
	char data[CF_STATE_PATH_MAX];
	char cache[CF_STATE_PATH_MAX];
	struct cf_passphrase_src pass;	/* fn NULL: none */
};

/**
 * cf_state_paths_set(p, from):
 * Copy the folders (and passphrase source) ${from} (the caller's: the
 * library reads no environment) into ${p}.  COFFER_EINVAL if ${from}
 * is NULL or either folder is unset ("").
 */
int cf_state_paths_set(struct cf_state_paths *p,
    const struct cf_state_paths *from);

/**
 * cf_state_save_chainpin(paths, c) / cf_state_save_dirpin(paths, pin):
 * Save the chain pin of ${c} / the directory pin ${pin} in the data
 * folder of ${paths} (written atomically, cf_state_write).  The one
 * place each pin is written, for a session and a device being made.
 */
int cf_state_save_chainpin(const struct cf_state_paths *paths,
    const struct cf_chain *c);
int cf_state_save_dirpin(const struct cf_state_paths *paths,
    const struct cf_dir_pin *pin);

/**
 * cf_state_mkdirs(path):
 * Create ${path} and its missing parents with mode 0700.
 */
int cf_state_mkdirs(const char *path);

/*
 * cf_opendir_dup(dfd):
 * A directory stream over a duplicate of ${dfd} (which stays the
 * caller's), from its first entry; close it with closedir().  NULL on
 * error.
 */
DIR *cf_opendir_dup(int dfd);

/**
 * cf_state_join(out, outlen, a, b):
 * ${out} = ${a} "/" ${b}; COFFER_EINVAL if it does not fit.
 */
int cf_state_join(char *out, size_t outlen, const char *a, const char *b);

/**
 * cf_state_write(dir, name, buf, len):
 * Replace the file ${dir}/${name} atomically with ${len} bytes (mode
 * 0600): write a temporary file, fsync, rename, fsync ${dir}.
 */
int cf_state_write(const char *dir, const char *name, const uint8_t *buf,
    size_t len);

/**
 * cf_state_remove(dir, name):
 * Remove the file ${dir}/${name} (a name in ${dir} itself) and fsync
 * ${dir}.  COFFER_ENOENT if it is absent, COFFER_EIO.
 */
int cf_state_remove(const char *dir, const char *name);

/**
 * cf_state_read(dir, name, max, bufp, lenp):
 * Read the regular file ${dir}/${name} (not followed if a symlink) of at
 * most ${max} bytes into a malloc'd buffer.  COFFER_ENOENT if absent,
 * COFFER_EFORMAT if not a regular file or too large, COFFER_EIO.
 */
int cf_state_read(const char *dir, const char *name, size_t max,
    uint8_t **bufp, size_t *lenp);

/* ---- The directory pin (FORMAT §19.2) ---- */

#define CF_DIRPIN_TAG		"CFDP"
#define CF_DIRPIN_VERSION	1
#define CF_DIRPIN_BYTES		(4 + 1 + 8 + CF_ID_BYTES + 8)

int cf_dirpin_encode(const struct cf_dir_pin *p,
    uint8_t out[static CF_DIRPIN_BYTES]);
int cf_dirpin_decode(const uint8_t *buf, size_t len, struct cf_dir_pin *p);

/* ---- A drive pin with its verified history (FORMAT §19.3) ---- */

#define CF_DRIVEPIN_TAG		"CFDH"
#define CF_DRIVEPIN_VERSION	1
#define CF_DRIVEPIN_MAX_VERSIONS	((uint64_t)1 << 24)

struct cf_drivepin {
	uint8_t drive_id[CF_ID_BYTES];
	uint64_t verified_at;		/* unix time of the last verification */
	uint64_t head_chain_seq;	/* chain_seq of the head commit (0: none) */
	uint64_t n;			/* head version: ids[0..n-1] = versions 1..n */
	uint8_t (*ids)[CF_ID_BYTES];	/* malloc'd; NULL when n = 0 */
};

/**
 * cf_drivepin_encode(p, bufp, lenp) / cf_drivepin_decode(buf, len, pp):
 * Decode hands over a malloc'd pin (free with cf_drivepin_free) only on
 * success; COFFER_EFORMAT for anything malformed.
 */
int cf_drivepin_encode(const struct cf_drivepin *p, uint8_t **bufp,
    size_t *lenp);
int cf_drivepin_decode(const uint8_t *buf, size_t len, struct cf_drivepin **pp);
void cf_drivepin_free(struct cf_drivepin *p);

/* ${p} advanced to the commit ${id} of the next version; ENOMEM/ETOOBIG. */
int cf_drivepin_push(struct cf_drivepin *p, const uint8_t id[static CF_ID_BYTES]);
/* ${p} advanced by the ${k} commits ${ids} of the next versions, at once. */
int cf_drivepin_extend(struct cf_drivepin *p, const uint8_t (*ids)[CF_ID_BYTES],
    size_t k);

/*
 * ---- Chain changes not reported yet (FORMAT §19.6) ----
 *
 *   unreported = "CFCU" || u8 version=1 || account_id[32] || u64 from
 *
 * The entries of the chain pin from seq ${from} on have not been shown
 * to the user.  Written (if absent) before a session pins a longer
 * chain, removed once they are reported; absent: every entry pinned was
 * reported (homes older than the file, too).
 */
#define CF_UNREPORTED_TAG	"CFCU"
#define CF_UNREPORTED_VERSION	1
#define CF_UNREPORTED_BYTES	(4 + 1 + CF_ID_BYTES + 8)

void cf_unreported_encode(const uint8_t account_id[static CF_ID_BYTES],
    uint64_t from, uint8_t out[static CF_UNREPORTED_BYTES]);
/* COFFER_EFORMAT for anything but the exact layout. */
int cf_unreported_decode(const uint8_t *buf, size_t len,
    uint8_t account_id[static CF_ID_BYTES], uint64_t *fromp);

#endif /* !CF_STATE_H */
