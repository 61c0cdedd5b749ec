/*
 * coffer: end-to-end encrypted file storage.  The public API (DESIGN §16,
 * docs/API-LIBRARY.md).
 *
 * A program calls coffer_init() once, makes a configuration
 * (struct coffer_ctx: the device's folders and the callbacks), and opens
 * a session on it (coffer/session.h) to push, pull and read the history;
 * accounts and devices are in coffer/device.h.  Every function returns 0
 * or a negative code of coffer/err.h.  The library reads no environment
 * variable and no terminal, and never prints: everything it has to say
 * goes to the callbacks set here.
 */
#ifndef COFFER_H
#define COFFER_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/err.h"
#include "coffer/version.h"

/* ---- Sizes (bytes, with the terminating NUL where it says so) ---- */

#define COFFER_ID_BYTES			32	/* account, device, drive ids */
#define COFFER_DEVICE_NAME_MAX		64	/* a device name, without NUL */
#define COFFER_DRIVE_NAME_MAX		255	/* a drive name, without NUL */
#define COFFER_ACCOUNT_NAME_MAX		64	/* an account name, no NUL */
#define COFFER_URL_MAX			256	/* a server URL, without NUL */
#define COFFER_PATH_MAX			4096	/* a folder of the device */
#define COFFER_RECOVERY_TEXT_BYTES	48	/* a recovery key, with NUL */
#define COFFER_SAFETY_CODE_BYTES	11	/* a safety code, with NUL */
#define COFFER_PASSPHRASE_MAX		1024	/* a key file's passphrase */
#define COFFER_SERVER_MSG_MAX		256	/* a server's message, NUL */
#define COFFER_SERVER_CODE_MAX		32	/* its error code, NUL */
/* Limits a command's message names. */
#define COFFER_DIR_CATCHUP_MAX		4096	/* directory versions */
#define COFFER_DIR_CATCHUP_MIB		256	/* MiB of records caught up */
#define COFFER_WALK_DEPTH_MAX		1024	/* folders deep in a push */
#define COFFER_PUSH_PATH_MAX		65536	/* bytes of a path pushed */
#define COFFER_PUSH_DELTA_IDS_MAX	262144	/* ids of one reference delta */

/**
 * coffer_init():
 * Initialise the library (libsodium).  Call once before anything else;
 * safe to call again.  Returns 0 or COFFER_EINTERNAL.
 */
int coffer_init(void);

/**
 * coffer_free(p):
 * Free an array the library handed over (coffer_drive_list,
 * coffer_status, coffer_device_list).  NULL is fine.
 */
void coffer_free(void *p);

/* ---- The configuration ---- */

struct coffer_ctx;

/**
 * coffer_progress_fn(arg, what, done, total):
 * Progress of a long operation: ${what} (a static string; one ending in
 * "bytes" counts bytes), ${done} of ${total} (0: unknown).  Called on the
 * thread that called the library.
 */
typedef void coffer_progress_fn(void *arg, const char *what, uint64_t done,
    uint64_t total);

/**
 * coffer_warn_fn(arg, msg, path, pathlen):
 * A warning for the user: ${msg} (static text) about ${path} (raw bytes,
 * not NUL-terminated, untrusted: escape it before it reaches a terminal;
 * NULL if none).  The operation goes on.
 */
typedef void coffer_warn_fn(void *arg, const char *msg, const uint8_t *path,
    size_t pathlen);

/* Chain entry types (struct coffer_chain_change). */
#define COFFER_ENTRY_GENESIS	1	/* the account was created */
#define COFFER_ENTRY_ADD	2	/* a device was added */
#define COFFER_ENTRY_REMOVE	3	/* a device was removed */
#define COFFER_ENTRY_ROTATE	4	/* the account key was rotated */
#define COFFER_ENTRY_SETRK	5	/* the recovery key was replaced */

/* One entry of the account's verified device chain, as a person reads it. */
struct coffer_chain_change {
	uint64_t seq;
	int type;				/* COFFER_ENTRY_* (or other) */
	uint64_t time;				/* unix time the signer gave */
	uint8_t signer_id[COFFER_ID_BYTES];
	int signer_is_rk;			/* signed by the recovery key */
	int signer_is_this_device;
	char signer_name[COFFER_DEVICE_NAME_MAX + 1];	/* "" if unknown */
	int has_subject;			/* an add or a remove */
	uint8_t subject_id[COFFER_ID_BYTES];
	int subject_is_this_device;
	char subject_name[COFFER_DEVICE_NAME_MAX + 1];
	uint64_t epoch;				/* the epoch current after it */
};
/* Names are other devices' choices: escape them before a terminal. */

/**
 * coffer_notice_fn(arg, ch, n, from, last):
 * The account's device chain changed since this device last reported:
 * entries ${from} to ${last}, described in ${ch}[0..n-1] (lent for the
 * call).  ${ch} is NULL if they could not be described (the program
 * should still say that the chain changed).  Called by
 * coffer_session_open as soon as the chain verified, before anything
 * else can fail; entries not reported (a crash, or no notice callback
 * set) are reported next time.
 */
typedef void coffer_notice_fn(void *arg, const struct coffer_chain_change *ch,
    size_t n, uint64_t from, uint64_t last);

/* coffer_passphrase_fn purposes. */
#define COFFER_PASS_UNLOCK	0	/* open the device's sealed key file */
#define COFFER_PASS_NEW		1	/* seal a new key file (empty: none) */

/**
 * coffer_passphrase_fn(arg, purpose, attempt, buf, cap, lenp):
 * Put the passphrase for ${purpose} in ${buf} (at most ${cap} bytes, no
 * NUL needed) and its length in ${*lenp}; return 0, or an error code
 * that the library returns as it is.  ${attempt} counts the wrong ones
 * before (COFFER_PASS_UNLOCK asks up to 3 times).  For COFFER_PASS_NEW a
 * length of 0 means "no passphrase".  Without a callback a sealed key
 * file does not open (COFFER_EBADKEY) and new key files are unsealed.
 */
typedef int coffer_passphrase_fn(void *arg, int purpose, unsigned attempt,
    char *buf, size_t cap, size_t *lenp);

/**
 * coffer_ctx_new(ctxp):
 * A new configuration with no folders and no callbacks.  COFFER_ENOMEM.
 */
int coffer_ctx_new(struct coffer_ctx **ctxp);

/* coffer_ctx_free(ctx): Free ${ctx} (NULL is fine) after its sessions. */
void coffer_ctx_free(struct coffer_ctx *ctx);

/**
 * coffer_ctx_set_dirs(ctx, data, cache):
 * The device's folders: ${data} for its keys, account file and pins
 * (trusted), ${cache} for its caches (untrusted).  Created (mode 0700)
 * when needed.  COFFER_EINVAL if either is empty or not shorter than
 * COFFER_PATH_MAX - 64 bytes.  Until set, everything that needs them
 * fails with COFFER_EINVAL.
 */
int coffer_ctx_set_dirs(struct coffer_ctx *ctx, const char *data,
    const char *cache);

/* The callbacks (NULL: none) and the pointer each is given. */
void coffer_ctx_set_progress(struct coffer_ctx *ctx, coffer_progress_fn *fn,
    void *arg);
void coffer_ctx_set_warn(struct coffer_ctx *ctx, coffer_warn_fn *fn,
    void *arg);
void coffer_ctx_set_notice(struct coffer_ctx *ctx, coffer_notice_fn *fn,
    void *arg);
/*
 * The passphrase callback is the ctx's own: sessions, account creation,
 * joins and recoveries through ${ctx} ask it (two ctxs in one process
 * each ask their own).
 */
void coffer_ctx_set_passphrase(struct coffer_ctx *ctx,
    coffer_passphrase_fn *fn, void *arg);

/**
 * coffer_ctx_set_test_knobs(ctx, line_page, delta_cap, read_hook):
 * For tests only; each only lowers a bound or adds a pause, 0 or NULL
 * for none: commits a drive sync verifies at once, ids one reference
 * delta carries (a push splits a bigger change), and a folder of FIFOs
 * push stops at after each read of a file (the string must outlive
 * ${ctx}'s sessions).
 */
void coffer_ctx_set_test_knobs(struct coffer_ctx *ctx, uint64_t line_page,
    uint64_t delta_cap, const char *read_hook);

/**
 * coffer_passphrase_read_file(path, passp, lenp):
 * Read a passphrase from the file ${path} (one trailing "\n" or "\r\n"
 * dropped) into guarded memory; free it with coffer_passphrase_free().
 * COFFER_ENOENT if absent, COFFER_EINVAL if empty, COFFER_ETOOBIG past
 * COFFER_PASSPHRASE_MAX, COFFER_EIO.
 */
int coffer_passphrase_read_file(const char *path, char **passp, size_t *lenp);
void coffer_passphrase_free(char *pass, size_t len);

/* ---- Self test ---- */

struct coffer_selftest_result {
	uint64_t files, chunks, bytes, sealed_bytes;
	uint64_t skipped;		/* symlinks and special files */
};

/**
 * coffer_selftest(dfd, res):
 * Seal every chunk of every regular file under the folder ${dfd} (the
 * caller's; not closed) with fresh keys, open each back and compare;
 * no server.  COFFER_EIO if a file or folder cannot be read,
 * COFFER_ETOOBIG past 256 folders deep, COFFER_EINTERNAL if a chunk does
 * not come back identical.
 */
int coffer_selftest(int dfd, struct coffer_selftest_result *res);

#include "coffer/session.h"
#include "coffer/device.h"

#endif /* !COFFER_H */
