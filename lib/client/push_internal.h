/*
 * What the pieces of push share (private to lib/client): the state of one
 * push or re-seal (struct push), the upload pipeline's batches and
 * threads (upload.c), the commit and its split past the delta cap
 * (push.c, push_split.c), and the re-seal of --rekey (push_reseal.c).
 */
#ifndef CF_PUSH_INTERNAL_H
#define CF_PUSH_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "chunker/chunker.h"
#include "tree/tree.h"
#include "idhash.h"
#include "ops.h"
#include "statcache.h"

#define READ_WINDOW	((size_t)CF_CHUNK_MAX)
#define READ_STEP	((size_t)2 << 20)	/* bytes read at a time */
#define NAMES_MAX	((size_t)1 << 24)	/* entries of one folder */

struct pending {
	uint8_t type;
	uint8_t id[CF_ID_BYTES];
	uint8_t *plain;
	size_t len;
};

struct batch {
	struct pending *items;		/* CF_PUSH_BATCH_COUNT slots */
	size_t n;
	size_t bytes;			/* plaintext bytes */
};

struct uploader;

/* One uploader thread and its own connection (cf_client: one per thread). */
struct upthread {
	struct uploader *u;
	struct cf_client *net;
	pthread_t th;
};

struct uploader {
	struct upthread t[CF_PUSH_UPLOADERS];
	size_t nthreads;		/* started */
	uint8_t drive_id[CF_ID_BYTES];
	struct cf_objkey ckey, mkey;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *q[CF_PUSH_QUEUE];
	size_t qhead, qn;
	int closed, err, running, inited;
	uint64_t chunks_uploaded, bytes_uploaded;	/* under mu */
};

struct push {
	struct cf_session *s;
	const struct cf_drive_keys *dk;
	uint64_t epoch;
	struct cf_objkey ckey;		/* chunks */
	struct cf_objkey mkey;		/* trees, lists, commits */
	struct cf_chunker *chunker;
	struct cf_idset parent;		/* ids reachable from the parent */
	/*
	 * Ids reachable from the snapshot, while it is walked.  Every one
	 * not in ${parent} was queued for upload when first added, so
	 * "in child, not in parent" is "queued in this run".
	 */
	struct cf_idhash child;
	struct cf_idset childset;	/* the same, sorted, after the walk */
	struct batch *cur;		/* the batch being filled */
	struct uploader up;
	struct cf_statcache *oldsc, *newsc;
	uint8_t *scbuf;			/* newsc encoded, after the walk */
	size_t scbuflen;
	uint8_t mac_key[CF_KEY_BYTES];	/* stat cache */
	uint8_t known_key[CF_KEY_BYTES];	/* known-ids cache */
	uint8_t *buf;			/* read window */
	uint8_t *path;			/* current relative path */
	size_t pathlen;
	cf_warn_fn *warn;
	void *wctx;
	struct cf_push_result *res;
	size_t delta_cap;		/* ids in one delta */
	int flags;			/* CF_PUSH_* */
	/*
	 * Reads thrown away (a file changed while read): the ids they added
	 * to ${child} first (${discarded}), less those a kept read or entry
	 * used since (${revived}), are not reachable from the snapshot and
	 * are taken out of ${childset}.  While a file is read (${recording})
	 * the ids it adds or revives are noted in ${att}.
	 */
	struct cf_idhash discarded, revived;
	uint8_t (*att)[CF_ID_BYTES];
	size_t natt, capatt;
	int recording;
	int rerr;			/* errno of a file that failed to read */
	/* The head (the parent), for entries kept and the shrink check. */
	int have_head;
	uint8_t head_root[CF_ID_BYTES];
	/* The head's folder at ${prev_path} (entries kept), if resolved. */
	uint8_t *prev_path;
	size_t prev_pathlen;
	int prev_ok, prev_has;
	struct cf_folder prev_f;
	/* Regular files under each folder scanned, by tree id. */
	struct dircount *dc;
	size_t ndc, capdc;
	size_t top_entries;		/* entries of the top folder */
	uint64_t tree_files;		/* regular files in the trees built */
	uint64_t unknown_counts;	/* folders kept from the head */
	struct cf_commit top;		/* only its has_root_meta and root_* */
};

struct dircount {
	uint8_t id[CF_ID_BYTES];
	uint64_t files;
};

/* ---- push.c ---- */

/**
 * cf_push_init(p, s, res):
 * Start ${p} for a push or a re-seal in the session ${s}, its result in
 * ${res} (cleared).
 */
void cf_push_init(struct push *p, struct cf_session *s,
    struct cf_push_result *res);

/**
 * cf_push_free(p):
 * Stop the uploader and free what ${p} holds (not ${p}), its keys and
 * read window wiped.
 */
void cf_push_free(struct push *p);

/**
 * cf_push_warn(p, msg, path, len):
 * Pass a warning to the caller's callback, if any.
 */
void cf_push_warn(struct push *p, const char *msg, const uint8_t *path,
    size_t len);

/**
 * cf_push_folder(p, id, f):
 * Load the folder ${id} of the drive (fetched and opened in p->epoch); a
 * NULL ${id} is an empty folder.
 */
int cf_push_folder(struct push *p, const uint8_t *id, struct cf_folder *f);

/**
 * cf_push_drive_open(p, drive, drive_id, dkp, secp):
 * Open ${drive} for writing in the session's epoch: its keys into
 * ${*dkp} (and p->dk), the object keys and the chunker into ${p}, the
 * drive secret of that epoch into ${*secp}.  The caller frees ${*dkp}.
 */
int cf_push_drive_open(struct push *p, const char *drive,
    uint8_t drive_id[static CF_ID_BYTES], struct cf_drive_keys **dkp,
    const struct cf_drive_secret **secp);

/**
 * cf_push_parent_set(p, pin, pc):
 * The head's commit into ${pc} and the set of ids reachable from it into
 * p->parent: from the known-ids cache if it is this head's, else by
 * walking its trees.
 */
int cf_push_parent_set(struct push *p, const struct cf_drivepin *pin,
    struct cf_commit *pc);

/**
 * cf_push_known_save(p, commit_id):
 * Remember p->childset, the set reachable from the new head
 * ${commit_id}, for the next push (a cache: failing fails nothing).
 */
void cf_push_known_save(struct push *p,
    const uint8_t commit_id[static CF_ID_BYTES]);

/**
 * cf_push_commit(p, pin, root, child, donep):
 * Sign and upload the commit of ${root} (whose ids are ${child}) on the
 * head ${pin} and move the head with the reference delta from
 * p->parent; COFFER_ETOOBIG (res->delta_too_big) if that delta is past
 * p->delta_cap.  ${*donep} = 0 if the head moved meanwhile.
 */
int cf_push_commit(struct push *p, struct cf_drivepin *pin,
    const uint8_t root[static CF_ID_BYTES], const struct cf_idset *child,
    int *donep);

/* ---- push_split.c ---- */

/**
 * cf_push_split_cap(s):
 * The ids one reference delta may carry: CF_PUSH_DELTA_IDS_MAX, or the
 * session's lower test cap.
 */
size_t cf_push_split_cap(const struct cf_session *s);

/**
 * cf_push_split_commit(p, pin, pc, root, donep):
 * Commit ${root} (the snapshot, its ids p->childset) as one version or,
 * if its delta from the head is past the cap, as several.  ${*donep} = 0
 * if the head moved meanwhile (the caller re-parents).
 */
int cf_push_split_commit(struct push *p, struct cf_drivepin *pin,
    struct cf_commit *pc, const uint8_t root[static CF_ID_BYTES], int *donep);

/* ---- upload.c ---- */

/**
 * cf_upload_batch_free(b):
 * Free ${b}, its plaintexts wiped.  NULL does nothing.
 */
void cf_upload_batch_free(struct batch *b);

/**
 * cf_upload_start(p):
 * Start the uploader threads of ${p}, each with its own connection
 * (one is enough to go on with).
 */
int cf_upload_start(struct push *p);

/**
 * cf_upload_flush(p):
 * Hand the batch being filled, if any, to the uploader (waits while the
 * queue is full).
 */
int cf_upload_flush(struct push *p);

/**
 * cf_upload_cancel(u, r):
 * Stop the uploader early with the error ${r}: the scan failed.
 */
void cf_upload_cancel(struct uploader *u, int r);

/**
 * cf_upload_finish(p):
 * Close the queue, wait for the uploader threads, and add what they
 * uploaded to p->res; their first error.  Again: does nothing.
 */
int cf_upload_finish(struct push *p);

/**
 * cf_upload_free(u):
 * Free the batches left in the queue, the connections, the keys (wiped).
 */
void cf_upload_free(struct uploader *u);

/**
 * cf_upload_last(p):
 * Upload the batch held back for the shrink check, on the session's
 * connection.
 */
int cf_upload_last(struct push *p);

/**
 * cf_upload_child_add(p, id):
 * Add ${id} to the snapshot's ids: 1 if new, 0 if there already, or an
 * error.  An id only a thrown-away read had added is revived.
 */
int cf_upload_child_add(struct push *p, const uint8_t id[static CF_ID_BYTES]);

/**
 * cf_upload_att_end(p, keep):
 * The read under way is kept (${keep}) or thrown away.
 */
int cf_upload_att_end(struct push *p, int keep);

/**
 * cf_upload_childset_prune(p):
 * p->childset less the ids only thrown-away reads used.
 */
void cf_upload_childset_prune(struct push *p);

/**
 * cf_upload_object(p, type, plain, len, id):
 * An object of the snapshot: note it, and queue it (a copy of
 * ${plain}) unless known stored.
 */
int cf_upload_object(struct push *p, uint8_t type, const uint8_t *plain,
    size_t len, const uint8_t id[static CF_ID_BYTES]);

/**
 * cf_upload_emit(ctx, type, plain, len, id):
 * cf_upload_object() as the emit callback of the tree and list builders
 * (${ctx}: the struct push).
 */
int cf_upload_emit(void *ctx, uint8_t type, const uint8_t *plain, size_t len,
    const uint8_t id[static CF_ID_BYTES]);

#endif
