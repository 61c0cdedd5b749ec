/*
 * A client session (DESIGN §7): this device's keys and state, a
 * connection to its server, and everything verified from it -- the chain
 * (extending the pin), the account keys K_1..K_e from this device's
 * envelope, and the drive directory (against its pin).  Drive heads are
 * synced one drive at a time against their pins (cf_session_sync_head).
 *
 * Everything here returns COFFER_ENOTAUTHENTIC for anything the server
 * sent that fails a check (a fork, a rollback, a bad signature, a
 * malformed answer), COFFER_EFORMAT for a bad local file.  Nothing
 * prints.
 */
#ifndef CF_SESSION_H
#define CF_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "chain/dir.h"
#include "crypto/keys.h"
#include "net/client.h"
#include "object/object.h"
#include "state.h"

/* Bytes of directory records held at once to catch up to a head. */
#define CF_SESSION_DIR_CATCHUP_BYTES	((size_t)256 << 20)

/* Bytes of a local path kept for the message of a failed operation. */
#define CF_LOCAL_ERROR_PATH_MAX	4096

/*
 * The first local file an operation of the session failed to read or
 * write (pull, push): what it did ("write", "create"...; a static
 * string), the path as bytes (the folder's path as the system names it,
 * and the name; not NUL-terminated, maybe cut) and the errno.  errnum 0:
 * none.  For the CLI's message (it names the path and the cause).
 */
struct cf_local_error {
	const char *op;
	uint8_t path[CF_LOCAL_ERROR_PATH_MAX];
	size_t pathlen;
	int errnum;
};

/* Progress reports to the caller (the CLI prints them, or not). */
typedef void cf_progress_fn(void *ctx, const char *what, uint64_t done,
    uint64_t total);

struct cf_session;

/**
 * cf_session_report_fn(ctx, s, from):
 * The entries of ${s}'s verified chain from seq ${from} on have not been
 * reported to the user: report them now (the names open with ${s}'s
 * epoch keys, s->ks, which are NULL if this device's envelope did not
 * open).  Called by cf_session_open_with at most once.
 */
typedef void cf_session_report_fn(void *ctx, const struct cf_session *s,
    uint64_t from);

struct cf_session_open_opts {
	cf_session_report_fn *report;	/* NULL: report nothing, keep the mark */
	void *ctx;
	int account_gone;		/* out: the server has no such account */
	int removed;			/* out: the verified chain removed this
					   device (COFFER_EDENIED) */
};

struct cf_session {
	struct cf_state_paths paths;
	struct cf_account acct;
	struct cf_device_keys *keys;
	struct cf_client *net;
	struct cf_chain *chain;
	uint64_t chain_before;		/* entries pinned before this session */
	uint64_t report_from;		/* first chain entry not reported */
	int report_pending;		/* the mark of report_from is on disk */
	uint64_t line_page;		/* commits verified at once; 0: the max */
	/*
	 * Test knobs, set by the caller (the library reads no environment):
	 * ids one reference delta may carry (0, or past CF_PUSH_DELTA_IDS_MAX:
	 * the max; a push splits a bigger change), and a folder of FIFOs that
	 * push stops at after each read of a file (push.c; NULL: none).
	 */
	uint64_t delta_cap;
	const char *read_hook;
	uint8_t (*ks)[CF_KEY_BYTES];	/* sodium_malloc'd K_1..K_nks */
	uint64_t nks;
	struct cf_dir *dir;		/* NULL: no directory record yet */
	struct cf_dir_pin dirpin;
	int key_loose;			/* key file readable by others */
	cf_progress_fn *progress;
	void *progress_ctx;
	struct cf_local_error lerr;	/* set by cf_session_local_error */
};

/**
 * cf_session_local_error(s, op, dfd, name):
 * Record errno (read first) as the cause of a failed local ${op} on
 * ${name} in the folder ${dfd} (AT_FDCWD: ${name} as given), unless a
 * failure is recorded already; thread-safe.  Returns COFFER_EIO, for the
 * caller to return.
 */
int cf_session_local_error(struct cf_session *s, const char *op, int dfd,
    const char *name);

/**
 * cf_session_open(paths, sp):
 * Load the device whose files are in the folders ${paths}
 * (COFFER_EINVAL if unset; COFFER_ENOENT if it has no account there), connect,
 * sync and verify the chain, open this device's envelope for the current
 * epoch and sync the drive directory; save the new pins.  A directory
 * head more than CF_DIR_CATCHUP_MAX versions (or
 * CF_SESSION_DIR_CATCHUP_BYTES of records) past the pin: COFFER_ETOOBIG.
 * A server that says the account does not exist: COFFER_ENOTAUTHENTIC
 * (this device has verified it: the server was rolled back or hides it).
 */
int cf_session_open(const struct cf_state_paths *paths,
    struct cf_session **sp);

/**
 * cf_session_open_with(paths, sp, o):
 * cf_session_open(), and as soon as the chain has verified (and is
 * pinned), before the envelope or the directory can fail: ${o->report}
 * gets every chain entry not reported yet -- those pinned by earlier
 * sessions that failed before reporting too (FORMAT §19.6 keeps the
 * mark) -- and the mark is dropped once it returns.  ${o->account_gone}
 * is set if the server answered "no such account" for the chain.
 */
int cf_session_open_with(const struct cf_state_paths *paths,
    struct cf_session **sp, struct cf_session_open_opts *o);
void cf_session_free(struct cf_session *s);

/*
 * For the session's other modules (account.c): save the verified chain
 * as the chain pin, the directory pin; the unix time now.
 */
int cf_session_save_chain(struct cf_session *s);
int cf_session_save_dirpin(struct cf_session *s);

/**
 * cf_session_dir_entries(s, extra, entsp, dksp, np):
 * The directory's ${*np} drives as entries for cf_dir_build, in order,
 * each with its keys opened (${*dksp}, which the entries point at; the
 * caller may change them before the build), with room for ${extra} more
 * entries after them.  Free with cf_session_dir_entries_free.
 */
struct cf_dir_entry;
int cf_session_dir_entries(struct cf_session *s, size_t extra,
    struct cf_dir_entry **entsp, struct cf_drive_keys ***dksp, size_t *np);
void cf_session_dir_entries_free(struct cf_dir_entry *ents,
    struct cf_drive_keys **dks, size_t n);

/**
 * cf_session_dir_publish(s, rec, reclen):
 * Put the directory record ${rec} (built on s->dir) as the next version
 * by compare-and-swap, accept it against the pin as any record from the
 * server is accepted, pin and save it, and make it s->dir.  The one
 * sequence for every change of the directory (a new drive, a re-wrap).
 */
int cf_session_dir_publish(struct cf_session *s, const uint8_t *rec,
    size_t reclen);
uint64_t cf_session_now(void);

/* The epoch current at the head of the verified chain. */
uint64_t cf_session_epoch(const struct cf_session *s);

/**
 * cf_session_drive_create(s, name, drive_id):
 * Add a drive named ${name} to the directory (a new record, pinned).
 * COFFER_EEXIST if the name is taken.
 */
int cf_session_drive_create(struct cf_session *s, const char *name,
    uint8_t drive_id[static CF_ID_BYTES]);

/**
 * cf_session_drive(s, name, drive_id, dkp):
 * Resolve ${name} through the verified directory and unwrap its keys.
 * COFFER_ENOENT if there is no such drive.
 */
int cf_session_drive(struct cf_session *s, const char *name,
    uint8_t drive_id[static CF_ID_BYTES], struct cf_drive_keys **dkp);

/**
 * cf_session_load_pin(s, drive_id, pp):
 * This device's pin for the drive (an empty one if it has none).
 */
int cf_session_load_pin(struct cf_session *s,
    const uint8_t drive_id[static CF_ID_BYTES], struct cf_drivepin **pp);
int cf_session_save_pin(struct cf_session *s, const struct cf_drivepin *p);

/**
 * cf_session_looked(s, drive_id, np) / cf_session_set_looked(s, drive_id, n):
 * The version of the drive's head this device last looked at -- moved
 * only by a push that succeeded and by a pull of the head, never by a
 * mere sync of the pin -- kept beside the drive pin (a file of 8 bytes,
 * big-endian, written atomically).  COFFER_ENOENT if there is none (a
 * home from before the mark), COFFER_EFORMAT if it is damaged.
 */
int cf_session_looked(struct cf_session *s,
    const uint8_t drive_id[static CF_ID_BYTES], uint64_t *np);
int cf_session_set_looked(struct cf_session *s,
    const uint8_t drive_id[static CF_ID_BYTES], uint64_t n);

/**
 * cf_session_sync_head(s, dk, pin):
 * Fetch the drive's head and accept it only as a verified line of
 * commits from ${pin} (cf_history_accept); extend and save ${pin}.  The
 * line is walked back from the head by parent ids (only the ids are
 * kept), then verified from the pin forward in pages of s->line_page
 * commits (at most CF_HISTORY_LINE_MAX; a lower value is for tests), so
 * memory holds one page of commits however far behind the pin is.  All
 * or nothing: ${pin} (in memory and on disk) moves only once the whole
 * line verified.  A line longer than the pin can hold: COFFER_ETOOBIG.
 */
int cf_session_sync_head(struct cf_session *s, const struct cf_drive_keys *dk,
    struct cf_drivepin *pin);

/**
 * cf_session_epoch_of_key(dk, key_id):
 * The epoch of the drive key with content-key id ${key_id}, 0 if none.
 */
uint64_t cf_session_epoch_of_key(const struct cf_drive_keys *dk,
    const uint8_t key_id[static CF_ID_BYTES]);

/**
 * cf_fetch_fn(ctx, i, plain, len):
 * Receives the opened plaintext of the ${i}th id asked for (lent).
 */
typedef int cf_fetch_fn(void *ctx, size_t i, const uint8_t *plain, size_t len);

/**
 * cf_session_fetch(s, dk, max_epoch, type, ids, n, fn, ctx):
 * Fetch the objects ${ids} of ${type} (get-many, in batches), open and
 * verify each with the directory's keys for ${dk}'s drive of epochs up
 * to ${max_epoch}, and pass each to ${fn} in order.  An id the server
 * leaves out, or anything that fails to open: COFFER_ENOTAUTHENTIC.
 */
int cf_session_fetch(struct cf_session *s, const struct cf_drive_keys *dk,
    uint64_t max_epoch, uint8_t type, const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, cf_fetch_fn *fn, void *ctx);

/* The same over another connection ${net} (one per thread). */
int cf_session_fetch_net(struct cf_client *net, const struct cf_drive_keys *dk,
    uint64_t max_epoch, uint8_t type, const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, cf_fetch_fn *fn, void *ctx);

/* A new connection to the server, signing as this device. */
int cf_session_client(struct cf_session *s, struct cf_client **cp);

/**
 * cf_session_fetch_one(s, dk, max_epoch, type, id, plainp, lenp, epochp):
 * One object, handed over malloc'd; ${*epochp} (if not NULL) the epoch of
 * the key that sealed it.
 */
int cf_session_fetch_one(struct cf_session *s, const struct cf_drive_keys *dk,
    uint64_t max_epoch, uint8_t type, const uint8_t id[static CF_ID_BYTES],
    uint8_t **plainp, size_t *lenp, uint64_t *epochp);

/**
 * cf_session_commit(s, dk, version, id, c):
 * The verified commit ${id} (version ${version}, already accepted into a
 * pin): fetched, opened and decoded, and its id, drive and version
 * checked.
 */
struct cf_commit;
int cf_session_commit(struct cf_session *s, const struct cf_drive_keys *dk,
    uint64_t version, const uint8_t id[static CF_ID_BYTES], struct cf_commit *c);

/**
 * cf_session_safety(s, code, heads, n):
 * The safety code (FORMAT §17) over the verified chain, directory and the
 * ${n} drive heads (sorted by id).
 */
int cf_session_safety(struct cf_session *s, const struct cf_drive_head *heads,
    size_t n, char *code);

#endif /* !CF_SESSION_H */
