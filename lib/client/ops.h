/*
 * The client's operations on a drive (DESIGN §7): push a folder as a new
 * version, pull a version into a folder, and read the history.  They
 * take an open session (session.h) and never print: warnings and
 * progress go to the caller's callbacks.
 */
#ifndef CF_OPS_H
#define CF_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "tree/tree.h"

/* A warning for the user: ${msg}, about ${path} (raw bytes; may be NULL). */
typedef void cf_warn_fn(void *ctx, const char *msg, const uint8_t *path,
    size_t pathlen);

/*
 * The push pipeline's bounds (lib/client/upload.c): in flight at most
 * (CF_PUSH_QUEUE + CF_PUSH_UPLOADERS + 1) batches of plaintext, and one
 * put frame (sealed) per uploader.
 */
#define CF_PUSH_BATCH_BYTES	((size_t)4 << 20)	/* plaintext per upload batch */
#define CF_PUSH_BATCH_COUNT	4096			/* objects per upload batch */
#define CF_PUSH_QUEUE		1	/* full batches waiting for an uploader */
#define CF_PUSH_UPLOADERS	2	/* threads sealing and uploading, one put each */
/* Ids one reference delta may carry (start + stop; docs/API.md §4). */
#define CF_PUSH_DELTA_IDS_MAX	262144
#define CF_PUSH_RETRIES		8			/* head conflicts before giving up */
/*
 * The stat cache keeps a file's stat only once the clock is this far past
 * its ctime (file times advance in coarse ticks of a few ms), so that a
 * change after the stat always moves ctime.  A push waits for it (once,
 * for files changed just before); a ctime further ahead than the max wait
 * is not cached.
 */
#define CF_PUSH_RACY_NS		((int64_t)30000000)	/* 30 ms */
#define CF_PUSH_RACY_MAX_WAIT_NS ((int64_t)1000000000)	/* 1 s */

/* Reads of a file that changed while read, before it is left out. */
#define CF_PUSH_READ_TRIES	3

/* push flags */
#define CF_PUSH_ALLOW_SHRINK	0x1	/* allow dropping most of the head */

struct cf_push_result {
	uint64_t version;		/* the drive's version after the push */
	int unchanged;			/* no new version was made */
	int reparented;			/* times the snapshot was re-parented */
	uint64_t files;			/* regular files in the snapshot */
	uint64_t files_read;		/* of those, read (not in the stat cache) */
	uint64_t bytes_read;
	uint64_t chunks_uploaded;
	uint64_t bytes_uploaded;	/* sealed bytes of every object uploaded */
	uint64_t skipped;		/* special files and unreadable entries */
	uint64_t changed;		/* files that changed while read, every try */
	uint64_t kept;			/* of skipped + changed: kept as in the
					   head (the last state stored) */
	int delta_too_big;		/* ETOOBIG: one file past the delta cap */
	uint64_t split_versions;	/* versions made before the last one, for
					   a change past the delta cap */
	uint8_t commit_id[CF_ID_BYTES];
	/* COFFER_ENOENT: the folder (not the drive) is missing. */
	int no_folder;			/* 1: does not exist, 2: not a folder */
	/* COFFER_EEXIST: refused, the snapshot drops most of the head. */
	int shrink_refused;
	uint64_t head_files;		/* regular files in the head */
	uint64_t dropped_files;		/* of those, absent from the snapshot */
	/*
	 * The head this push replaced was written by another device since
	 * this device last synced the drive (it stays in the history).
	 */
	int replaced_other;
	uint64_t replaced_version;
	uint8_t replaced_author[CF_ID_BYTES];
};

/**
 * cf_push(s, drive, dir, flags, warn, wctx, res):
 * Snapshot the folder ${dir} (never following a symlink; special files
 * skipped with a warning) as the next version of ${drive}: chunk, seal
 * and upload what the server lacks, build the trees, sign and upload the
 * commit and move the head with its reference delta; on a
 * compare-and-swap conflict verify the new head and re-parent.  A
 * snapshot equal to the head makes no version (res->unchanged).
 *
 * A file that changed while read (size, mtime or ctime moved, or fewer
 * bytes than its size) is read again, up to CF_PUSH_READ_TRIES times in
 * all, then left out (res->changed).  An entry that cannot be read (not
 * opened, or a read of it fails part way) is skipped (res->skipped), and
 * so is a special file.  A file or folder
 * left out that the head has at the same path, of the same type, keeps
 * the head's entry (res->kept: the last state stored, never a mix);
 * otherwise it is absent from the version.  Each is warned about.
 *
 * Unless ${flags} has CF_PUSH_ALLOW_SHRINK, a snapshot that is an empty
 * folder over a non-empty head, or that drops more than half of the
 * head's regular files (by path), is refused before the last batch and
 * the commit are uploaded: COFFER_EEXIST with res->shrink_refused (a
 * push whose new data filled a batch before the end of the scan has put
 * those objects, res->bytes_uploaded; the head is unchanged).  COFFER_ENOENT with
 * res->no_folder if ${dir} is missing or not a folder.
 */
int cf_push(struct cf_session *s, const char *drive, const char *dir,
    int flags, cf_warn_fn *warn, void *wctx, struct cf_push_result *res);

/**
 * cf_push_reseal(s, drive, res):
 * Re-seal the head of ${drive} under the drive's newest secret as the
 * next version (device remove --rekey): every tree, list and chunk of it
 * fetched and opened, the files re-chunked with the new secret's chunker,
 * sealed and uploaded, the commit made as cf_push() makes it.  Nothing
 * is written to the local disk.  An empty drive is left so
 * (res->unchanged).  COFFER_ECONFLICT if the head moved meanwhile: call
 * again (it starts from the new head).
 */
int cf_push_reseal(struct cf_session *s, const char *drive,
    struct cf_push_result *res);

/* pull flags */
#define CF_PULL_OVERWRITE	0x1	/* the target may be non-empty */
#define CF_PULL_DELETE		0x2	/* remove local entries the version lacks */
#define CF_PULL_KEEP_MODES	0x4	/* keep setuid/setgid/sticky bits */

struct cf_pull_result {
	uint64_t version;
	uint64_t files, dirs, symlinks;
	uint64_t bytes;
	uint64_t deleted;
	uint64_t conflicts;		/* local entries of another kind (each
					   warned); nothing was written */
	uint64_t skipped;		/* paths that could not be written
					   (each warned); the rest was */
	uint64_t tmp_removed;		/* temporary files of an interrupted
					   pull, removed */
	int busy;			/* another pull holds the target */
};

/**
 * cf_pull(s, drive, version, dir, flags, warn, wctx, res):
 * Verify the version ${version} of ${drive} (0: the head) -- its commit
 * on the pinned line and every tree and list -- before touching ${dir};
 * then write it there relative to directory handles, each file under a
 * temporary name renamed once its chunks are verified, symlinks and
 * folder modes and times last.  COFFER_EEXIST if ${dir} is not empty
 * and CF_PULL_OVERWRITE is not set, or (res->conflicts) if without
 * CF_PULL_DELETE a local folder stands where the version has a file or
 * a symlink, or a local file where it has a folder or a symlink: each
 * is warned and nothing is written.  Temporary files an interrupted
 * pull left in the folders it writes are removed; the target is locked
 * (flock) meanwhile: COFFER_ECONFLICT with res->busy, before anything is
 * written, if another pull holds it.  A path that cannot
 * be written (permission, a name too long) is warned and counted in
 * res->skipped and the pull goes on; running out of space is an error.
 * COFFER_ENOTAUTHENTIC for anything the server sent that fails a
 * check; nothing unverified is left.
 */
int cf_pull(struct cf_session *s, const char *drive, uint64_t version,
    const char *dir, int flags, cf_warn_fn *warn, void *wctx,
    struct cf_pull_result *res);

/*
 * cf_pull_tmp_name(name):
 * 1 if ${name} has exactly the form of a temporary name pull makes
 * (".coffer-tmp-" and 16 lower-case hex digits, for a file then "-" and
 * 1 to 16 more): push leaves such names out of a version.
 */
int cf_pull_tmp_name(const char *name);

/* One version of a drive's history, verified. */
struct cf_log_item {
	uint64_t version;
	uint8_t commit_id[CF_ID_BYTES];
	uint64_t time;
	uint8_t author_id[CF_ID_BYTES];
	uint8_t root_id[CF_ID_BYTES];
	uint64_t chain_seq;
};

typedef int cf_log_fn(void *ctx, const struct cf_log_item *it);

/**
 * cf_log(s, drive, fn, ctx):
 * Sync the drive's head and pass each version of its verified line to
 * ${fn}, oldest first.
 */
int cf_log(struct cf_session *s, const char *drive, cf_log_fn *fn, void *ctx);

/* One entry of a listed folder. */
typedef int cf_ls_fn(void *ctx, const struct cf_tree_entry *e);

/**
 * cf_ls(s, drive, version, path, pathlen, fn, ctx, versionp):
 * List the folder ${path} ("" for the root; '/'-separated) of version
 * ${version} (0: the head), each entry verified.  COFFER_ENOENT if the
 * path is not a folder of that version.
 */
int cf_ls(struct cf_session *s, const char *drive, uint64_t version,
    const uint8_t *path, size_t pathlen, cf_ls_fn *fn, void *ctx,
    uint64_t *versionp);

/* Trees and lists preloaded per version (beyond: fetched one by one). */
#define CF_PRELOAD_MAX		((size_t)1 << 20)

/**
 * cf_version_collect(s, dk, max_epoch, root, out):
 * The sorted set of ids reachable from ${root} (cf_walk_collect), its
 * trees and lists fetched a level at a time in batches and verified.
 */
int cf_version_collect(struct cf_session *s, const struct cf_drive_keys *dk,
    uint64_t max_epoch, const uint8_t root[static CF_ID_BYTES],
    struct cf_idset *out);

struct cf_check_result {
	uint64_t drives, versions, trees, lists, chunks, chunk_bytes;
};

/**
 * cf_check(s, read_data, progress, res):
 * For every drive: re-verify the whole line of commits from version 1
 * and walk every version's trees and lists; with ${read_data} also fetch
 * and open every chunk.
 */
int cf_check(struct cf_session *s, int read_data, struct cf_check_result *res);

/**
 * cf_status(s, heads, names, np):
 * Sync every drive's head; hand over its verified head and pin times.
 */
struct cf_status_drive {
	char name[CF_DIR_NAME_MAX + 1];
	struct cf_drive_head head;
	uint64_t verified_at;
};
int cf_status(struct cf_session *s, struct cf_status_drive **drivesp,
    size_t *np, char *safety_code);

#endif
