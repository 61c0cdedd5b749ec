/*
 * The key file (docs/FORMAT.md §2).
 *
 *   keyfile = "CFKF" || u8 version=1 || u8 kdf || rest
 *   kdf = 0: rest = secret
 *   kdf = 1: rest = u32 opslimit || u32 memlimit_kib || salt[16] ||
 *                   nonce[24] || AEAD(k, nonce, AD = bytes before nonce, secret)
 *   secret  = "CFKS" || u8 version=1 || sign_seed[32] || box_sk[32] ||
 *             sign_pk[32] || box_pk[32]
 *
 * The whole structure, including the Argon2id limits, is checked before
 * any hashing, so a hostile file costs nothing to refuse.  Secrets live in
 * sodium_malloc memory or in writers that wipe themselves.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "keys.h"

#define KF_TAG			"CFKF"
#define KS_TAG			"CFKS"
#define TAG_BYTES		4
#define KF_VERSION		1
#define KS_VERSION		1

#define KDF_NONE		0	/* no passphrase */
#define KDF_ARGON2ID		1	/* Argon2id13 passphrase */

#define KIB			1024ULL
#define KF_HDR_BYTES		(TAG_BYTES + 1 + 1)		/* tag, version, kdf */
#define KF_PARAMS_BYTES		(4 + 4)				/* opslimit, memlimit_kib */
#define KF_NONCE_BYTES		crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define KF_MAC_BYTES		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KF_KEY_BYTES		crypto_aead_xchacha20poly1305_ietf_KEYBYTES
/* AD = every byte of the file before the nonce. */
#define KF_AD_BYTES		(KF_HDR_BYTES + KF_PARAMS_BYTES + CF_PWHASH_SALT_BYTES)

#define KS_BYTES		(TAG_BYTES + 1 + CF_SIGN_SEED_BYTES + \
				 CF_BOX_SK_BYTES + CF_SIGN_PK_BYTES + CF_BOX_PK_BYTES)
#define KS_SEALED_BYTES		(KS_BYTES + KF_MAC_BYTES)

/* Room for the longest passphrase, a "\r\n", and one byte to see overflow. */
#define PASSPHRASE_BUF		(CF_PASSPHRASE_MAX + 2 + 1)

_Static_assert(CF_KEYFILE_PLAIN_BYTES == KF_HDR_BYTES + KS_BYTES,
    "FORMAT §2 unprotected key file size");
_Static_assert(CF_KEYFILE_SEALED_BYTES ==
    KF_AD_BYTES + KF_NONCE_BYTES + KS_SEALED_BYTES,
    "FORMAT §2 protected key file size");
_Static_assert(CF_KEYFILE_SEALED_BYTES <= CF_KEYFILE_MAX, "key file cap");
_Static_assert(CF_PWHASH_SALT_BYTES == crypto_pwhash_SALTBYTES, "salt size");
_Static_assert(CF_PWHASH_MEM_MAX / KIB <= UINT32_MAX, "memlimit_kib is a u32");
_Static_assert(CF_PWHASH_OPS_MAX <= UINT32_MAX, "opslimit is a u32");

/* A key file, parsed but not yet opened; pointers into the input. */
struct kf_view {
	uint8_t kdf;
	uint32_t opslimit;
	uint32_t memlimit_kib;
	const uint8_t *secret;		/* KDF_NONE: KS_BYTES */
	const uint8_t *salt;		/* KDF_ARGON2ID ... */
	const uint8_t *nonce;
	const uint8_t *sealed;		/* KS_SEALED_BYTES */
};

/* Secrets of one encode or decode, kept in guarded memory. */
struct kf_scratch {
	uint8_t k[KF_KEY_BYTES];	/* Argon2id output */
	uint8_t secret[KS_BYTES];	/* opened secret body */
};

static int
params_ok(uint64_t opslimit, uint64_t memlimit)
{
	return opslimit >= CF_PWHASH_OPS_MIN && opslimit <= CF_PWHASH_OPS_MAX &&
	    memlimit >= CF_PWHASH_MEM_MIN && memlimit <= CF_PWHASH_MEM_MAX;
}

/*
 * kf_parse(buf, len, v):
 * Check the whole structure of a key file, including the Argon2id limits,
 * without doing any cryptography.  0 or COFFER_EFORMAT.
 */
static int
kf_parse(const uint8_t *buf, size_t len, struct kf_view *v)
{
	struct cf_rd r;

	memset(v, 0, sizeof(*v));
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	if (len > CF_KEYFILE_MAX)
		cf_rd_fail(&r);
	cf_rd_expect(&r, KF_TAG, TAG_BYTES);
	if (cf_rd_u8(&r) != KF_VERSION)
		cf_rd_fail(&r);
	v->kdf = cf_rd_u8(&r);
	if (r.err != 0)
		goto out;

	switch (v->kdf) {
	case KDF_NONE:
		v->secret = cf_rd_bytes(&r, KS_BYTES);
		break;
	case KDF_ARGON2ID:
		v->opslimit = cf_rd_u32(&r);
		v->memlimit_kib = cf_rd_u32(&r);
		/* Both ways capped, before anything else is done. */
		if (!params_ok(v->opslimit, (uint64_t)v->memlimit_kib * KIB))
			cf_rd_fail(&r);
		v->salt = cf_rd_bytes(&r, CF_PWHASH_SALT_BYTES);
		v->nonce = cf_rd_bytes(&r, KF_NONCE_BYTES);
		v->sealed = cf_rd_bytes(&r, KS_SEALED_BYTES);
		break;
	default:
		cf_rd_fail(&r);
		break;
	}

out:
	return cf_rd_end(&r);
}

/*
 * ks_encode(w, k):
 * Append the secret body of ${k} to ${w} (errors are left in ${w}).
 */
static void
ks_encode(struct cf_wr *w, const struct cf_device_keys *k)
{
	uint8_t *seed;

	cf_wr_bytes(w, KS_TAG, TAG_BYTES);
	cf_wr_u8(w, KS_VERSION);
	if ((seed = cf_wr_reserve(w, CF_SIGN_SEED_BYTES)) != NULL)
		crypto_sign_ed25519_sk_to_seed(seed, k->sign_sk);
	cf_wr_bytes(w, k->box_sk, CF_BOX_SK_BYTES);
	cf_wr_bytes(w, k->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(w, k->box_pk, CF_BOX_PK_BYTES);
}

/*
 * ks_decode(p, len, kp):
 * Parse a secret body, rebuild the keys from its secrets and refuse it
 * unless both stored public keys match.  0, COFFER_EFORMAT or
 * COFFER_ENOMEM.
 */
static int
ks_decode(const uint8_t *p, size_t len, struct cf_device_keys **kp)
{
	struct cf_device_keys *k = NULL;
	struct cf_rd r;
	const uint8_t *seed, *box_sk, *sign_pk, *box_pk;
	int rc;

	*kp = NULL;
	cf_rd_init(&r, p, len, COFFER_EFORMAT);
	cf_rd_expect(&r, KS_TAG, TAG_BYTES);
	if (cf_rd_u8(&r) != KS_VERSION)
		cf_rd_fail(&r);
	seed = cf_rd_bytes(&r, CF_SIGN_SEED_BYTES);
	box_sk = cf_rd_bytes(&r, CF_BOX_SK_BYTES);
	sign_pk = cf_rd_bytes(&r, CF_SIGN_PK_BYTES);
	box_pk = cf_rd_bytes(&r, CF_BOX_PK_BYTES);
	if ((rc = cf_rd_end(&r)) != 0)
		goto out;
	if (seed == NULL || box_sk == NULL || sign_pk == NULL || box_pk == NULL) {
		rc = COFFER_EFORMAT;
		goto out;
	}
	if ((rc = cf_keys_from_seeds(seed, box_sk, &k)) != 0) {
		if (rc != COFFER_ENOMEM)
			rc = COFFER_EFORMAT;
		goto out;
	}
	if (sodium_memcmp(k->sign_pk, sign_pk, CF_SIGN_PK_BYTES) != 0 ||
	    sodium_memcmp(k->box_pk, box_pk, CF_BOX_PK_BYTES) != 0) {
		rc = COFFER_EFORMAT;
		goto out;
	}
	*kp = k;
	k = NULL;
	rc = 0;

out:
	cf_keys_free(k);
	return rc;
}

int
cf_keyfile_encode(const struct cf_device_keys *k, const char *pass,
    size_t passlen, const struct cf_pwhash_params *params, uint8_t **outp,
    size_t *outlenp)
{
	struct cf_wr w, ks;
	struct kf_scratch *s = NULL;
	uint8_t salt[CF_PWHASH_SALT_BYTES];
	uint8_t nonce[KF_NONCE_BYTES];
	uint8_t *body = NULL, *ct;
	size_t bodylen = 0;
	int r;

	*outp = NULL;
	*outlenp = 0;
	/* Both writers wipe what they release: they hold the secret. */
	cf_wr_init(&w, CF_KEYFILE_MAX, 1);
	cf_wr_init(&ks, KS_BYTES, 1);
	if (k == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	/* An empty passphrase protects nothing: pass NULL for that. */
	if (pass != NULL && (passlen == 0 || passlen > CF_PASSPHRASE_MAX ||
	    params == NULL || !params_ok(params->opslimit, params->memlimit) ||
	    params->memlimit % KIB != 0)) {
		r = COFFER_EINVAL;
		goto out;
	}

	cf_wr_bytes(&w, KF_TAG, TAG_BYTES);
	cf_wr_u8(&w, KF_VERSION);
	if (pass == NULL) {
		cf_wr_u8(&w, KDF_NONE);
		ks_encode(&w, k);
		r = cf_wr_finish(&w, outp, outlenp);
		goto out;
	}

	cf_wr_u8(&w, KDF_ARGON2ID);
	cf_wr_u32(&w, (uint32_t)params->opslimit);
	cf_wr_u32(&w, (uint32_t)(params->memlimit / KIB));
	randombytes_buf(salt, sizeof(salt));
	cf_wr_bytes(&w, salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	cf_wr_bytes(&w, nonce, sizeof(nonce));
	ks_encode(&ks, k);
	if ((r = cf_wr_finish(&ks, &body, &bodylen)) != 0)
		goto out;
	if ((s = sodium_malloc(sizeof(*s))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (crypto_pwhash(s->k, sizeof(s->k), pass, passlen, salt,
	    params->opslimit, (size_t)params->memlimit,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		r = COFFER_ENOMEM;
		goto out;
	}
	/* The writer does not move again: the AD is its first bytes. */
	if ((ct = cf_wr_reserve(&w, KS_SEALED_BYTES)) != NULL)
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, body,
		    bodylen, w.p, KF_AD_BYTES, NULL, nonce, s->k);
	r = cf_wr_finish(&w, outp, outlenp);

out:
	cf_wr_free(&w);
	cf_wr_free(&ks);
	cf_wipefree(body, bodylen);
	if (s != NULL) {
		sodium_memzero(s, sizeof(*s));
		sodium_free(s);
	}
	return r;
}

int
cf_keyfile_is_protected(const uint8_t *buf, size_t len)
{
	struct kf_view v;
	int r;

	if ((r = kf_parse(buf, len, &v)) == 0)
		r = (v.kdf == KDF_ARGON2ID);
	return r;
}

int
cf_keyfile_decode(const uint8_t *buf, size_t len, const char *pass,
    size_t passlen, struct cf_device_keys **kp)
{
	struct kf_view v;
	struct kf_scratch *s = NULL;
	int r;

	*kp = NULL;
	if ((r = kf_parse(buf, len, &v)) != 0)
		goto out;
	if (v.kdf == KDF_NONE) {
		r = ks_decode(v.secret, KS_BYTES, kp);
		goto out;
	}
	/* A passphrase longer than any we accept cannot be the right one. */
	if (pass == NULL || passlen > CF_PASSPHRASE_MAX) {
		r = COFFER_EBADKEY;
		goto out;
	}
	if ((s = sodium_malloc(sizeof(*s))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (crypto_pwhash(s->k, sizeof(s->k), pass, passlen, v.salt,
	    v.opslimit, (size_t)v.memlimit_kib * KIB,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(s->secret, NULL, NULL,
	    v.sealed, KS_SEALED_BYTES, buf, KF_AD_BYTES, v.nonce, s->k) != 0) {
		r = COFFER_EBADKEY;
		goto out;
	}
	r = ks_decode(s->secret, KS_BYTES, kp);

out:
	if (s != NULL) {
		sodium_memzero(s, sizeof(*s));
		sodium_free(s);
	}
	return r;
}

/*
 * write_all(fd, p, len):
 * Write all ${len} bytes, retrying short writes and EINTR.  0 or EIO.
 */
static int
write_all(int fd, const uint8_t *p, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int r = 0;

	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = COFFER_EIO;
			break;
		}
		off += (size_t)n;
	}
	return r;
}

/*
 * read_upto(fd, p, cap, lenp):
 * Read until end of file or until ${cap} bytes are in; ${*lenp} is the
 * count.  0 or EIO.
 */
static int
read_upto(int fd, uint8_t *p, size_t cap, size_t *lenp)
{
	size_t off = 0;
	ssize_t n;
	int r = 0;

	*lenp = 0;
	while (off < cap) {
		n = read(fd, p + off, cap - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = COFFER_EIO;
			break;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (r == 0)
		*lenp = off;
	return r;
}

/*
 * fsync_parent(path):
 * Make the directory entry of a file just created durable.  0 or EIO.
 */
static int
fsync_parent(const char *path)
{
	const char *slash;
	char *dir = NULL;
	int fd = -1;
	int r;

	if ((slash = strrchr(path, '/')) == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		/* A directory we may write but not read: nothing to sync. */
		r = (errno == EACCES) ? 0 : COFFER_EIO;
		goto out;
	}
	/* Some file systems cannot sync a directory (EINVAL). */
	if (fsync(fd) != 0 && errno != EINVAL) {
		r = COFFER_EIO;
		goto out;
	}
	r = 0;

out:
	if (fd != -1)
		close(fd);
	free(dir);
	return r;
}

int
cf_keyfile_write(const char *path, const struct cf_device_keys *k,
    const char *pass, size_t passlen, const struct cf_pwhash_params *params)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd = -1, created = 0;
	int r;

	if (path == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((r = cf_keyfile_encode(k, pass, passlen, params, &buf, &len)) != 0)
		goto out;
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
	    S_IRUSR | S_IWUSR);
	if (fd == -1) {
		r = (errno == EEXIST) ? COFFER_EEXIST :
		    (errno == ENOENT) ? COFFER_ENOENT : COFFER_EIO;
		goto out;
	}
	created = 1;
	if ((r = write_all(fd, buf, len)) != 0)
		goto out;
	if (fsync(fd) != 0) {
		r = COFFER_EIO;
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r != 0) {
		r = COFFER_EIO;
		goto out;
	}
	r = fsync_parent(path);

out:
	if (fd != -1)
		close(fd);
	/* Never leave a half-written key file behind. */
	if (r != 0 && created)
		unlink(path);
	cf_wipefree(buf, len);
	return r;
}

/*
 * kf_slurp(path, bufp, lenp, loosep):
 * Read the key file at ${path} (a regular file of at most CF_KEYFILE_MAX
 * bytes, not a symlink) into guarded memory of CF_KEYFILE_MAX + 1 bytes
 * (free with kf_unslurp); ${*loosep} = 1 if the group or others may
 * access it.  COFFER_ENOENT, COFFER_EIO, COFFER_EFORMAT or COFFER_ENOMEM.
 */
static int
kf_slurp(const char *path, uint8_t **bufp, size_t *lenp, int *loosep)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd = -1;
	int r;

	*bufp = NULL;
	*lenp = 0;
	*loosep = 0;
	if (path == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	/* O_NONBLOCK: a FIFO planted at the path must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1) {
		r = (errno == ENOENT) ? COFFER_ENOENT : COFFER_EIO;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = COFFER_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CF_KEYFILE_MAX) {
		r = COFFER_EFORMAT;
		goto out;
	}
	/* The file may hold the secret in clear: guarded memory. */
	if ((buf = sodium_malloc(CF_KEYFILE_MAX + 1)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	/* One byte more than the cap, in case the file grew since fstat. */
	if ((r = read_upto(fd, buf, CF_KEYFILE_MAX + 1, &len)) != 0)
		goto out;
	if (len > CF_KEYFILE_MAX) {
		r = COFFER_EFORMAT;
		goto out;
	}
	*loosep = (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
	*bufp = buf;
	*lenp = len;
	buf = NULL;

out:
	if (fd != -1)
		close(fd);
	if (buf != NULL) {
		sodium_memzero(buf, CF_KEYFILE_MAX + 1);
		sodium_free(buf);
	}
	return r;
}

static void
kf_unslurp(uint8_t *buf)
{
	if (buf == NULL)
		return;
	sodium_memzero(buf, CF_KEYFILE_MAX + 1);
	sodium_free(buf);
}

int
cf_keyfile_read(const char *path, const char *pass, size_t passlen,
    struct cf_device_keys **kp, int *loosep)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int loose = 0;
	int r;

	*kp = NULL;
	if (loosep != NULL)
		*loosep = 0;
	if ((r = kf_slurp(path, &buf, &len, &loose)) != 0)
		goto out;
	if ((r = cf_keyfile_decode(buf, len, pass, passlen, kp)) != 0)
		goto out;
	if (loosep != NULL)
		*loosep = loose;

out:
	kf_unslurp(buf);
	return r;
}

/*
 * ask(src, purpose, attempt, passp, lenp):
 * Ask ${src}'s callback into new guarded memory (sodium_malloc locks it where
 * the system allows); ${*passp} is NULL for "no passphrase".  Free with
 * cf_passphrase_free(${*passp}, CF_PASSPHRASE_MAX + 1).
 */
static int
ask(const struct cf_passphrase_src *src, int purpose, unsigned attempt,
    char **passp, size_t *lenp)
{
	char *buf;
	size_t len = 0;
	int r;

	*passp = NULL;
	*lenp = 0;
	if (src == NULL || src->fn == NULL)
		return purpose == CF_PASS_UNLOCK ? COFFER_EBADKEY : 0;
	if ((buf = sodium_malloc(CF_PASSPHRASE_MAX + 1)) == NULL)
		return COFFER_ENOMEM;
	sodium_memzero(buf, CF_PASSPHRASE_MAX + 1);
	r = src->fn(src->ctx, purpose, attempt, buf, CF_PASSPHRASE_MAX, &len);
	if (r == 0 && len > CF_PASSPHRASE_MAX)
		r = COFFER_ETOOBIG;
	if (r != 0 || len == 0) {
		cf_passphrase_free(buf, CF_PASSPHRASE_MAX + 1);
		return r;
	}
	*passp = buf;
	*lenp = len;
	return 0;
}

int
cf_keyfile_load(const char *path, const struct cf_passphrase_src *src,
    struct cf_device_keys **kp, int *loosep)
{
	uint8_t *buf = NULL;
	char *pass = NULL;
	size_t len = 0, passlen = 0;
	unsigned attempt;
	int loose = 0;
	int r;

	*kp = NULL;
	if (loosep != NULL)
		*loosep = 0;
	if ((r = kf_slurp(path, &buf, &len, &loose)) != 0)
		goto out;
	if ((r = cf_keyfile_is_protected(buf, len)) < 0)
		goto out;
	if (r == 0) {
		r = cf_keyfile_decode(buf, len, NULL, 0, kp);
		goto out;
	}
	r = COFFER_EBADKEY;
	for (attempt = 0; attempt < CF_PASS_TRIES && r == COFFER_EBADKEY;
	    attempt++) {
		if ((r = ask(src, CF_PASS_UNLOCK, attempt, &pass,
		    &passlen)) != 0)
			goto out;
		r = cf_keyfile_decode(buf, len, pass, passlen, kp);
		cf_passphrase_free(pass, CF_PASSPHRASE_MAX + 1);
		pass = NULL;
	}
	if (r != 0)
		goto out;
	if (loosep != NULL)
		*loosep = loose;

out:
	kf_unslurp(buf);
	return r;
}

int
cf_keyfile_create(const char *path, const struct cf_device_keys *k,
    const struct cf_pwhash_params *params,
    const struct cf_passphrase_src *src)
{
	char *pass = NULL;
	size_t passlen = 0;
	int r;

	if ((r = ask(src, CF_PASS_NEW, 0, &pass, &passlen)) != 0)
		return r;
	r = cf_keyfile_write(path, k, pass, passlen, params);
	if (pass != NULL)
		cf_passphrase_free(pass, CF_PASSPHRASE_MAX + 1);
	return r;
}

int
cf_passphrase_read_file(const char *path, char **passp, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0;
	int fd = -1;
	int r;

	*passp = NULL;
	*lenp = 0;
	if (path == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	/* May be a pipe (/dev/stdin, <(...)): no size from fstat, no O_NOFOLLOW. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		r = (errno == ENOENT) ? COFFER_ENOENT : COFFER_EIO;
		goto out;
	}
	if ((buf = sodium_malloc(PASSPHRASE_BUF)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	sodium_memzero(buf, PASSPHRASE_BUF);
	if ((r = read_upto(fd, (uint8_t *)buf, PASSPHRASE_BUF, &len)) != 0)
		goto out;
	if (len == PASSPHRASE_BUF) {
		r = COFFER_ETOOBIG;
		goto out;
	}
	/* Drop one trailing "\n", and a "\r" just before it. */
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len > CF_PASSPHRASE_MAX) {
		r = COFFER_ETOOBIG;
		goto out;
	}
	/* An empty passphrase is a mistake, not a key. */
	if (len == 0) {
		r = COFFER_EINVAL;
		goto out;
	}
	/* NUL-terminate; also clears the dropped newline. */
	sodium_memzero(buf + len, PASSPHRASE_BUF - len);
	*passp = buf;
	*lenp = len;
	buf = NULL;
	r = 0;

out:
	if (fd != -1)
		close(fd);
	if (buf != NULL) {
		sodium_memzero(buf, PASSPHRASE_BUF);
		sodium_free(buf);
	}
	return r;
}

void
cf_passphrase_free(char *pass, size_t len)
{
	if (pass == NULL)
		return;
	sodium_memzero(pass, len);
	sodium_free(pass);
}
