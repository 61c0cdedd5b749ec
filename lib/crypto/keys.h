/*
 * Device keys and the key file (docs/FORMAT.md §2).
 *
 * A device has an Ed25519 signing key pair and an X25519 sealing key pair,
 * generated on the device and never exported.  Its id is
 * BLAKE2b-256("coffer-device-v1" || sign_pk || box_pk).
 */
#ifndef CF_KEYS_H
#define CF_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define CF_ID_BYTES		32
#define CF_KEY_BYTES		32
#define CF_SIGN_PK_BYTES	32
#define CF_SIGN_SK_BYTES	64
#define CF_SIGN_SEED_BYTES	32
#define CF_BOX_PK_BYTES		32
#define CF_BOX_SK_BYTES		32
#define CF_SIG_BYTES		64

/* Argon2id limits for the key file's passphrase (both ways capped). */
#define CF_PWHASH_OPS_MIN	2ULL		/* = crypto_pwhash_OPSLIMIT_INTERACTIVE */
#define CF_PWHASH_OPS_MAX	16ULL
#define CF_PWHASH_MEM_MIN	(64ULL << 20)	/* = crypto_pwhash_MEMLIMIT_INTERACTIVE */
#define CF_PWHASH_MEM_MAX	(1ULL << 30)	/* = crypto_pwhash_MEMLIMIT_SENSITIVE */
#define CF_PWHASH_SALT_BYTES	16
#define CF_PASSPHRASE_MAX	1024

/* Longest key file we will read. */
#define CF_KEYFILE_MAX		4096

/* Exact sizes of the two kinds of key file (FORMAT §2). */
#define CF_KEYFILE_PLAIN_BYTES	139	/* kdf = 0: header, secret */
#define CF_KEYFILE_SEALED_BYTES	203	/* kdf = 1: header, params, salt, nonce, sealed secret */

struct cf_device_keys {
	uint8_t sign_pk[CF_SIGN_PK_BYTES];
	uint8_t sign_sk[CF_SIGN_SK_BYTES];
	uint8_t box_pk[CF_BOX_PK_BYTES];
	uint8_t box_sk[CF_BOX_SK_BYTES];
	uint8_t device_id[CF_ID_BYTES];
};

struct cf_pwhash_params {
	uint64_t opslimit;
	uint64_t memlimit;		/* bytes */
};

/* Parameters used when creating a protected key file. */
extern const struct cf_pwhash_params cf_pwhash_default;	/* moderate: 3, 256 MiB */
extern const struct cf_pwhash_params cf_pwhash_interactive;	/* tests: 2, 64 MiB */

/**
 * cf_device_id(sign_pk, box_pk, id):
 * Compute a device id from its two public keys.
 */
void cf_device_id(const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES], uint8_t id[static CF_ID_BYTES]);

/**
 * cf_keys_generate(kp):
 * Make new device keys in guarded memory (sodium_malloc) and return them
 * in ${*kp}; free with cf_keys_free().
 */
int cf_keys_generate(struct cf_device_keys **kp);

/**
 * cf_keys_from_seeds(sign_seed, box_sk, kp):
 * Build device keys from a 32-byte Ed25519 seed and an X25519 secret key.
 */
int cf_keys_from_seeds(const uint8_t sign_seed[static CF_SIGN_SEED_BYTES],
    const uint8_t box_sk[static CF_BOX_SK_BYTES], struct cf_device_keys **kp);

/* Wipe and free; NULL does nothing. */
void cf_keys_free(struct cf_device_keys *k);

/**
 * cf_keyfile_encode(k, pass, passlen, params, outp, outlenp):
 * Serialise ${k} as a key file.  If ${pass} is not NULL the secret part
 * is sealed under Argon2id(${pass}) with ${params} (which must lie within
 * the caps, memlimit in whole KiB; ${passlen} from 1 to CF_PASSPHRASE_MAX),
 * else COFFER_EINVAL.  The result is malloc'd; free with cf_wipefree().
 */
int cf_keyfile_encode(const struct cf_device_keys *k, const char *pass,
    size_t passlen, const struct cf_pwhash_params *params, uint8_t **outp,
    size_t *outlenp);

/**
 * cf_keyfile_decode(buf, len, pass, passlen, kp):
 * Parse a key file.  Return COFFER_EFORMAT if malformed or if its
 * parameters are outside the caps; COFFER_EBADKEY if it is protected and
 * ${pass} is NULL or wrong.
 */
int cf_keyfile_decode(const uint8_t *buf, size_t len, const char *pass,
    size_t passlen, struct cf_device_keys **kp);

/**
 * cf_keyfile_is_protected(buf, len):
 * 1 if the key file is passphrase-protected, 0 if not, or COFFER_EFORMAT.
 */
int cf_keyfile_is_protected(const uint8_t *buf, size_t len);

/**
 * cf_keyfile_write(path, k, pass, passlen, params):
 * Create ${path} with mode 0600 and O_EXCL (never overwriting), write
 * and fsync the key file.  COFFER_EEXIST if it exists.
 */
int cf_keyfile_write(const char *path, const struct cf_device_keys *k,
    const char *pass, size_t passlen, const struct cf_pwhash_params *params);

/**
 * cf_keyfile_read(path, pass, passlen, kp, loosep):
 * Read and decode the key file at ${path} (a regular file of at most
 * CF_KEYFILE_MAX bytes; a symlink is not followed).  ${*loosep} is set to
 * 1 if its mode gives the group or others any access (mode & 077: a
 * warning for the caller to print), else 0; ${loosep} may be NULL.
 * Errors as cf_keyfile_decode(), or COFFER_ENOENT, COFFER_EIO.
 */
int cf_keyfile_read(const char *path, const char *pass, size_t passlen,
    struct cf_device_keys **kp, int *loosep);

/*
 * The passphrase of the key file comes from the program through a
 * callback: the library reads no environment variable and no terminal
 * (DESIGN §16).  Each device's callback travels with its folders
 * (struct cf_state_paths), so two configurations in one process each
 * have their own.
 */
#define CF_PASS_UNLOCK		0	/* open a sealed key file */
#define CF_PASS_NEW		1	/* seal a new key file (empty: none) */
#define CF_PASS_TRIES		3	/* CF_PASS_UNLOCK: asks before giving up */

/**
 * cf_passphrase_fn(ctx, purpose, attempt, buf, cap, lenp):
 * Put the passphrase for ${purpose} (CF_PASS_UNLOCK or CF_PASS_NEW) in
 * ${buf} (guarded memory of ${cap} = CF_PASSPHRASE_MAX bytes, wiped and
 * freed by the library) and its length in ${*lenp}; return 0.  For
 * CF_PASS_UNLOCK, ${attempt} counts the wrong ones already given (from 0
 * to CF_PASS_TRIES - 1); a source that cannot give another returns
 * COFFER_EBADKEY.  For CF_PASS_NEW a length of 0 means "no passphrase"
 * (the key is stored unprotected).  Any other non-zero return stops the
 * caller, which returns it.
 */
typedef int cf_passphrase_fn(void *ctx, int purpose, unsigned attempt,
    char *buf, size_t cap, size_t *lenp);

/*
 * A passphrase source: ${fn}(${ctx}, ...).  ${fn} NULL (or the source
 * NULL): none -- a sealed key file does not open (COFFER_EBADKEY) and
 * new ones are not sealed.
 */
struct cf_passphrase_src {
	cf_passphrase_fn *fn;
	void *ctx;
};

/**
 * cf_keyfile_load(path, src, kp, loosep):
 * cf_keyfile_read(), asking ${src} for the passphrase only if the file
 * is sealed, up to CF_PASS_TRIES times while it is wrong; then
 * COFFER_EBADKEY.  The callback's own errors are passed on.
 */
int cf_keyfile_load(const char *path, const struct cf_passphrase_src *src,
    struct cf_device_keys **kp, int *loosep);

/**
 * cf_keyfile_create(path, k, params, src):
 * cf_keyfile_write(), sealed with the passphrase ${src} gives for
 * CF_PASS_NEW (none if it gives none, or if there is no source).
 */
int cf_keyfile_create(const char *path, const struct cf_device_keys *k,
    const struct cf_pwhash_params *params,
    const struct cf_passphrase_src *src);

/**
 * cf_passphrase_read_file(path, passp, lenp):
 * Read a passphrase from the file ${path} (one trailing "\n" or "\r\n"
 * removed; then 1 to CF_PASSPHRASE_MAX bytes) into guarded memory,
 * NUL-terminated.  COFFER_ETOOBIG if too long, COFFER_EINVAL if empty,
 * COFFER_ENOENT or COFFER_EIO if unreadable.  Free with
 * cf_passphrase_free().
 */
int cf_passphrase_read_file(const char *path, char **passp, size_t *lenp);
void cf_passphrase_free(char *pass, size_t len);

#endif /* !CF_KEYS_H */
