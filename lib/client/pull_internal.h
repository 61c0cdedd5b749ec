/*
 * What the pieces of pull, log, ls, status and check share (private to
 * lib/client): a version loaded and verified (version.c), the pull's
 * writing context (pull.c, pull_write.c), and the bounds of the chunk
 * fetches that pull and check --read-data make.
 */
#ifndef CF_PULL_INTERNAL_H
#define CF_PULL_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/dir.h"
#include "idhash.h"
#include "ops.h"

#define PULL_BATCH_BYTES	((size_t)4 << 20)	/* chunk bytes per get */
#define PULL_BATCH_IDS		256	/* ids per get (session.c asks 256) */
#define PULL_WORKERS_MAX	8	/* threads fetching, opening, writing */

/* A map of verified plaintexts (trees and lists of one version). */
struct objmap {
	struct mapslot {
		uint8_t id[CF_ID_BYTES];
		uint8_t type;
		uint8_t *plain;
		size_t len;
		int used;
	} *slot;
	size_t cap, n;
};

/* A version being loaded: what the walk fetched, verified, and counted. */
struct vload {
	struct cf_session *s;
	const struct cf_drive_keys *dk;
	uint64_t max_epoch;
	struct objmap map;		/* keep copies of what was loaded */
	int keep;
	struct cf_idhash chunks;	/* check --read-data: every chunk */
	struct cf_ref *chunkv;		/* with its length, in order found */
	size_t nchunkv, capchunkv;
	int collect_chunks;
	uint64_t trees, lists;
	uint64_t files;			/* regular files of the version */
};

/* The pull's context, for the pre-check and the writer. */
struct wctx {
	struct cf_session *s;
	const struct cf_drive_keys *dk;
	uint64_t max_epoch;
	struct vload *v;
	int flags;
	struct cf_pull_result *res;
	cf_warn_fn *warn;
	void *wctx;
	char **skipdirs;		/* folders left out, by path */
	size_t nskipdirs, capskipdirs;
};

/* A path under the target, '/'-separated, for warnings. */
struct pbuf {
	char *p;
	size_t len, cap;
};

/* ---- version.c ---- */

/**
 * cf_version_map_find(m, id, type):
 * The plaintext of ${id} of ${type} kept in ${m}, or NULL.
 */
struct mapslot *cf_version_map_find(const struct objmap *m, const uint8_t *id,
    uint8_t type);

/**
 * cf_version_load_cb(vctx, type, id, plainp, lenp):
 * cf_walk_load_fn over a struct vload: from its map if kept there, else
 * fetched and opened (and kept, with v->keep).
 */
int cf_version_load_cb(void *vctx, uint8_t type,
    const uint8_t id[static CF_ID_BYTES], uint8_t **plainp, size_t *lenp);

/**
 * cf_version_visit_cb(vctx, it):
 * cf_walk visit function over a struct vload: counts trees, lists and
 * files, and collects the chunks if v->collect_chunks.
 */
int cf_version_visit_cb(void *vctx, const struct cf_walk_item *it);

/**
 * cf_version_free(v):
 * Free what ${v} holds (not ${v}).
 */
void cf_version_free(struct vload *v);

/**
 * cf_version_walk(v, root):
 * Verify every tree and list reachable from ${root} (preloaded a level
 * at a time, then walked); anything that fails a check is
 * COFFER_ENOTAUTHENTIC.
 */
int cf_version_walk(struct vload *v, const uint8_t root[static CF_ID_BYTES]);

/**
 * cf_version_folder(load, ctx, id, f):
 * The folder ${id} of the version (cf_folder_load); anything the server
 * gave that does not decode or check is COFFER_ENOTAUTHENTIC.
 */
int cf_version_folder(cf_walk_load_fn *load, void *ctx,
    const uint8_t id[static CF_ID_BYTES], struct cf_folder *f);

/**
 * cf_version_open(s, drive, version, dkp, pinp, c):
 * Resolve ${drive}, sync its head, and read the verified commit of
 * ${version} (0: the head) into ${c}.  The caller frees ${*dkp} and
 * ${*pinp}, on error too.
 */
int cf_version_open(struct cf_session *s, const char *drive,
    uint64_t version, struct cf_drive_keys **dkp, struct cf_drivepin **pinp,
    struct cf_commit *c);

/**
 * cf_version_sync(s, dd, dkp, pinp):
 * The keys of the directory's drive ${dd} and its pin, its head synced.
 * The caller frees ${*dkp} and ${*pinp}, on error too.
 */
int cf_version_sync(struct cf_session *s, const struct cf_dir_drive *dd,
    struct cf_drive_keys **dkp, struct cf_drivepin **pinp);

/* ---- pull_write.c ---- */

/**
 * cf_pull_workers():
 * Threads to fetch and open chunks with: one per core and one more.
 */
unsigned cf_pull_workers(void);

/**
 * cf_pull_pbuf_push(b, name, n, oldp):
 * Append "/" ${name} (${n} bytes) to ${b}; its old length in ${*oldp}.
 */
int cf_pull_pbuf_push(struct pbuf *b, const char *name, size_t n,
    size_t *oldp);

/**
 * cf_pull_say(w, mu, dir, dirlen, name, msg):
 * Warn ${msg} about ${name} in the folder ${dir} under the target,
 * holding ${mu} if not NULL.
 */
void cf_pull_say(struct wctx *w, pthread_mutex_t *mu, const char *dir,
    size_t dirlen, const char *name, const char *msg);

/**
 * cf_pull_write_files(w, dfd, root, existed):
 * Write every file of the folder ${root} into ${dfd} (not empty:
 * ${existed}), chunks fetched and opened by worker threads.  On an error
 * no temporary file is left.
 */
int cf_pull_write_files(struct wctx *w, int dfd,
    const uint8_t root[static CF_ID_BYTES], int existed);

/**
 * cf_pull_finish_dir(w, dfd, id, pb):
 * After every file is in place: symlinks, deletions (--delete), and each
 * folder's mode and times.  ${pb}: the path of ${dfd} under the target.
 */
int cf_pull_finish_dir(struct wctx *w, int dfd,
    const uint8_t id[static CF_ID_BYTES], struct pbuf *pb);

/**
 * cf_pull_finish_top(w, dfd, c):
 * The top folder's own mode and times, if the commit ${c} has them.
 */
int cf_pull_finish_top(struct wctx *w, int dfd, const struct cf_commit *c);

#endif
