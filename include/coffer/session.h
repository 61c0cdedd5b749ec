/*
 * coffer: a session on this device's account, and the operations on its
 * drives (push, pull, log, ls, status, check).  Include <coffer/coffer.h>.
 *
 * Every function taking a session may also return COFFER_ENOTAUTHENTIC
 * (anything the server sent failed a check: nothing unverified was used
 * or written), COFFER_EUNREACHABLE, COFFER_EDENIED (the server refused;
 * coffer_session_error says why), COFFER_ENOMEM and COFFER_EIO; those
 * are not repeated below.  One session is used by one thread at a time.
 */
#ifndef COFFER_SESSION_H
#define COFFER_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/coffer.h"	/* the ids, sizes and callbacks */

struct coffer_ctx;
struct coffer_session;

/* What coffer_session_open found besides its return value. */
struct coffer_open_info {
	int account_gone;	/* the server says there is no such account,
				   yet this device verified it (rolled back) */
	int removed;		/* the verified chain removed this device */
	int key_loose;		/* the key file is readable by others */
};

/**
 * coffer_session_open(ctx, sp, info):
 * Load this device from ${ctx}'s folders, connect to its server, sync
 * and verify the device chain (the notice callback hears of changes),
 * open this device's envelope and sync the drive directory.  ${info}
 * may be NULL.  Returns COFFER_ENOENT if this device has no account,
 * COFFER_EINVAL if ${ctx} has no folders, COFFER_EFORMAT for a damaged
 * file of the device, COFFER_EBADKEY if the key file's passphrase is
 * wrong or missing, COFFER_EDENIED if the chain removed this device
 * (info->removed), COFFER_ENOTAUTHENTIC (info->account_gone if the
 * server denies the account this device verified), COFFER_ETOOBIG if the
 * directory moved on by more than COFFER_DIR_CATCHUP_MAX versions (or
 * COFFER_DIR_CATCHUP_MIB of records) since this device last saw it.
 */
int coffer_session_open(struct coffer_ctx *ctx, struct coffer_session **sp,
    struct coffer_open_info *info);

/* coffer_session_close(s): Close and free ${s} (NULL is fine). */
void coffer_session_close(struct coffer_session *s);

/* This device's account. */
struct coffer_account_info {
	char server[COFFER_URL_MAX + 1];
	char name[COFFER_ACCOUNT_NAME_MAX + 1];
	uint8_t account_id[COFFER_ID_BYTES];
	char device[COFFER_DEVICE_NAME_MAX + 1];	/* this device's name */
	uint8_t device_id[COFFER_ID_BYTES];	/* zero without a session */
	uint64_t chain_length;			/* 0 without a session */
	uint64_t epoch;				/* 0 without a session */
};

/**
 * coffer_session_account(s, info):
 * Fill ${info} from the open session ${s} (at the head of its verified
 * chain: after a device remove or a recovery-key rotation, the new
 * epoch).
 */
void coffer_session_account(const struct coffer_session *s,
    struct coffer_account_info *info);

/**
 * coffer_account_read(ctx, info):
 * Fill ${info} from the account file in ${ctx}'s folder, without a
 * session or the key (to name the server in a message).  COFFER_ENOENT
 * if there is none, COFFER_EFORMAT if it is damaged, COFFER_EINVAL
 * without folders.
 */
int coffer_account_read(struct coffer_ctx *ctx,
    struct coffer_account_info *info);

/*
 * Why the last call failed, beyond its code: the server's answer to the
 * session's last request (message and HTTP status; untrusted text), the
 * process's last refusal (COFFER_EDENIED: HTTP status, stable code such as
 * "quota", "disk_full", "device_removed", message) and the first local
 * file an operation could not read or write.
 */
struct coffer_error_info {
	long status;				/* 0: no answer */
	char message[COFFER_SERVER_MSG_MAX];	/* "" if none */
	long refusal_status;			/* 0: no refusal */
	char refusal_code[COFFER_SERVER_CODE_MAX];
	char refusal_message[COFFER_SERVER_MSG_MAX];
	int local_errnum;			/* errno; 0: none */
	const char *local_op;		/* "write", "create"...; static */
	uint8_t local_path[COFFER_PATH_MAX];	/* not NUL-terminated */
	size_t local_pathlen;
};

/**
 * coffer_session_error(s, e):
 * Fill ${e} (${s} may be NULL: the refusal only).
 */
void coffer_session_error(const struct coffer_session *s,
    struct coffer_error_info *e);

/* ---- Drives ---- */

struct coffer_drive_info {
	uint8_t id[COFFER_ID_BYTES];
	char name[COFFER_DRIVE_NAME_MAX + 1];	/* NUL-terminated; may hold
						   any byte but NUL */
	size_t namelen;
};

/**
 * coffer_drive_list(s, drivesp, np):
 * The drives of the verified directory, in its order; ${*drivesp} is
 * handed over (coffer_free), NULL if ${*np} is 0.
 */
int coffer_drive_list(struct coffer_session *s,
    struct coffer_drive_info **drivesp, size_t *np);

/**
 * coffer_drive_create(s, name, id):
 * Add an empty drive ${name} (1 to COFFER_DRIVE_NAME_MAX bytes) to the
 * directory; ${id} receives its id.  COFFER_EEXIST if the name is taken,
 * COFFER_ECONFLICT if another device changed the directory meanwhile
 * (call again), COFFER_EINVAL for a bad name.
 */
int coffer_drive_create(struct coffer_session *s, const char *name,
    uint8_t id[COFFER_ID_BYTES]);

/* ---- Push ---- */

#define COFFER_PUSH_ALLOW_SHRINK	0x1	/* may drop most of the head */

struct coffer_push_result {
	uint64_t version;		/* the drive's version after the push */
	int unchanged;			/* no new version was made */
	uint64_t files;			/* regular files in the snapshot */
	uint64_t files_read;		/* of those, read (not in the stat cache) */
	uint64_t bytes_read;
	uint64_t chunks_uploaded;
	uint64_t bytes_uploaded;	/* sealed bytes uploaded */
	uint64_t skipped;		/* special files and unreadable entries */
	uint64_t changed;		/* files that changed while read */
	uint64_t kept;			/* of those, kept as in the head */
	uint64_t split_versions;	/* versions made before the last one */
	uint8_t commit_id[COFFER_ID_BYTES];
	int delta_too_big;		/* ETOOBIG: a file past the cap */
	int no_folder;			/* ENOENT: 1 missing, 2 not a folder */
	int shrink_refused;		/* COFFER_EEXIST: see coffer_push */
	uint64_t head_files;		/* regular files in the head */
	uint64_t dropped_files;		/* of those, absent from the snapshot */
	/* The head replaced was another device's, since this one looked. */
	int replaced_other;
	uint64_t replaced_version;
	uint8_t replaced_author[COFFER_ID_BYTES];
};

/**
 * coffer_push(s, drive, dir, flags, res):
 * Snapshot the folder ${dir} (symlinks never followed) as the next
 * version of ${drive}; a snapshot equal to the head makes no version
 * (res->unchanged).  Files that keep changing while read, unreadable
 * entries and special files are left out (res->changed, res->skipped,
 * each warned about; a left-out entry the head has keeps the head's
 * state, res->kept).  Returns COFFER_ENOENT for no such drive, or with
 * res->no_folder for a missing folder; COFFER_EEXIST with
 * res->shrink_refused, unless ${flags} has COFFER_PUSH_ALLOW_SHRINK, if
 * the snapshot is an empty folder over a non-empty head or drops more
 * than half of the head's files (no version made); COFFER_ECONFLICT if
 * the head kept moving; COFFER_ETOOBIG with res->delta_too_big if one
 * file changes more than COFFER_PUSH_DELTA_IDS_MAX chunks, else past
 * COFFER_WALK_DEPTH_MAX folders deep or COFFER_PUSH_PATH_MAX bytes of
 * path.  ${res} is filled on every return.
 */
int coffer_push(struct coffer_session *s, const char *drive, const char *dir,
    int flags, struct coffer_push_result *res);

/* ---- Pull ---- */

#define COFFER_PULL_OVERWRITE	0x1	/* the target may be non-empty */
#define COFFER_PULL_DELETE	0x2	/* remove what the version lacks */
#define COFFER_PULL_KEEP_MODES	0x4	/* keep setuid/setgid/sticky bits */

struct coffer_pull_result {
	uint64_t version;
	uint64_t files, dirs, symlinks;
	uint64_t bytes;
	uint64_t deleted;
	uint64_t conflicts;		/* local entries of another kind */
	uint64_t skipped;		/* paths that could not be written */
	uint64_t tmp_removed;		/* an interrupted pull's temporaries */
	int busy;			/* another pull holds the target */
};

/**
 * coffer_pull(s, drive, version, dir, flags, res):
 * Verify version ${version} of ${drive} (0: the head) entirely, then
 * write it into ${dir}.  Returns COFFER_ENOENT for no such drive or
 * version (or nothing pushed yet); COFFER_EEXIST if ${dir} is not empty
 * without COFFER_PULL_OVERWRITE, or with res->conflicts if, without
 * COFFER_PULL_DELETE, a local entry of another kind stands where the
 * version has one (each warned; nothing written); COFFER_ECONFLICT with
 * res->busy if another pull holds ${dir}.  A path that cannot be
 * written is warned, counted in res->skipped, and the rest written (0).
 */
int coffer_pull(struct coffer_session *s, const char *drive, uint64_t version,
    const char *dir, int flags, struct coffer_pull_result *res);

/* ---- History ---- */

struct coffer_log_item {
	uint64_t version;
	uint8_t commit_id[COFFER_ID_BYTES];
	uint64_t time;
	uint8_t author_id[COFFER_ID_BYTES];
	uint64_t chain_seq;
};

/* Returns 0 to go on, or an error code that stops the walk (returned). */
typedef int coffer_log_fn(void *arg, const struct coffer_log_item *it);

/**
 * coffer_log(s, drive, fn, arg):
 * Sync ${drive}'s head and give each version of its verified line to
 * ${fn}, oldest first.  COFFER_ENOENT for no such drive.
 */
int coffer_log(struct coffer_session *s, const char *drive, coffer_log_fn *fn,
    void *arg);

#define COFFER_TYPE_FILE	1
#define COFFER_TYPE_DIR		2
#define COFFER_TYPE_SYMLINK	3

/* One entry of a folder of a version; the pointers are lent for the call. */
struct coffer_entry {
	int type;			/* COFFER_TYPE_* */
	uint32_t mode;
	uint64_t size;			/* files: bytes */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	const uint8_t *name;		/* raw bytes, not NUL-terminated */
	size_t namelen;
	const uint8_t *target;		/* symlinks */
	size_t targetlen;
};

typedef int coffer_ls_fn(void *arg, const struct coffer_entry *e);

/**
 * coffer_ls(s, drive, version, path, pathlen, fn, arg, versionp):
 * Give each entry of the folder ${path} ("" for the top; '/'-separated)
 * of version ${version} (0: the head) of ${drive} to ${fn}, verified;
 * ${*versionp} the version listed.  COFFER_ENOENT for no such drive,
 * version or folder.
 */
int coffer_ls(struct coffer_session *s, const char *drive, uint64_t version,
    const uint8_t *path, size_t pathlen, coffer_ls_fn *fn, void *arg,
    uint64_t *versionp);

struct coffer_status_drive {
	char name[COFFER_DRIVE_NAME_MAX + 1];
	uint64_t version;		/* the verified head */
	uint64_t verified_at;		/* unix time */
};

/**
 * coffer_status(s, drivesp, np, safety_code):
 * Sync and verify every drive's head: ${*drivesp} (coffer_free) holds
 * each drive's verified version; ${safety_code} receives the code over
 * the chain, directory and heads to compare with other devices.
 */
int coffer_status(struct coffer_session *s,
    struct coffer_status_drive **drivesp, size_t *np,
    char safety_code[COFFER_SAFETY_CODE_BYTES]);

struct coffer_check_result {
	uint64_t drives, versions, trees, lists, chunks, chunk_bytes;
};

/**
 * coffer_check(s, read_data, res):
 * Verify every version of every drive (the whole line of commits, every
 * tree and list); with ${read_data} also fetch and open every chunk.
 */
int coffer_check(struct coffer_session *s, int read_data,
    struct coffer_check_result *res);

#endif /* !COFFER_SESSION_H */
