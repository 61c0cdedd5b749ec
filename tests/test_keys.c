/*
 * Device keys, the key file (docs/FORMAT.md §2), key derivation and key
 * ids (§3).  Argon2id runs with the interactive parameters only, and
 * only a handful of times: everything that can be refused before
 * hashing is tested exhaustively, the AEAD itself on a sample.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "util/buf.h"
#include "t.h"
#include "util.h"

/* Byte offsets in a protected key file (FORMAT §2). */
#define OFF_KDF		5
#define OFF_OPS		6
#define OFF_MEM		10
#define OFF_SALT	14
#define OFF_NONCE	30
#define OFF_SEALED	54
/* ... and in an unprotected one. */
#define OFF_SECRET	6
#define OFF_SIGN_PK	(OFF_SECRET + 5 + 32 + 32)
#define OFF_BOX_PK	(OFF_SIGN_PK + 32)

#define PASS		"correct horse battery staple"
#define PASSLEN		(sizeof(PASS) - 1)

/* One key pair and its two key files, made once (Argon2 is slow). */
static struct cf_device_keys *g_keys;
static uint8_t *g_plain, *g_sealed;
static size_t g_plainlen, g_sealedlen;

static int
same_keys(const struct cf_device_keys *a, const struct cf_device_keys *b)
{
	return a != NULL && b != NULL && memcmp(a, b, sizeof(*a)) == 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint8_t *
dup_buf(const uint8_t *p, size_t n, size_t extra)
{
	uint8_t *q = malloc(n + extra + 1);

	if (q == NULL)
		abort();
	memcpy(q, p, n);
	return q;
}

/* Generation: both key pairs consistent, the id as FORMAT §2 says. */
static void
keys_generate(void)
{
	struct cf_device_keys *k2 = NULL;
	crypto_generichash_state st;
	uint8_t id[CF_ID_BYTES], pk[32];

	CHECK_RC(cf_keys_generate(&g_keys), 0);
	if (g_keys == NULL)
		abort();
	crypto_sign_ed25519_sk_to_pk(pk, g_keys->sign_sk);
	CHECK(memcmp(pk, g_keys->sign_pk, 32) == 0);
	CHECK(crypto_scalarmult_base(pk, g_keys->box_sk) == 0);
	CHECK(memcmp(pk, g_keys->box_pk, 32) == 0);

	crypto_generichash_init(&st, NULL, 0, sizeof(id));
	crypto_generichash_update(&st, (const uint8_t *)"coffer-device-v1", 16);
	crypto_generichash_update(&st, g_keys->sign_pk, 32);
	crypto_generichash_update(&st, g_keys->box_pk, 32);
	crypto_generichash_final(&st, id, sizeof(id));
	CHECK(memcmp(id, g_keys->device_id, sizeof(id)) == 0);
	cf_device_id(g_keys->sign_pk, g_keys->box_pk, id);
	CHECK(memcmp(id, g_keys->device_id, sizeof(id)) == 0);

	CHECK_RC(cf_keys_generate(&k2), 0);
	CHECK(k2 != NULL && memcmp(k2->sign_pk, g_keys->sign_pk, 32) != 0);
	CHECK(k2 != NULL && memcmp(k2->box_pk, g_keys->box_pk, 32) != 0);
	cf_keys_free(k2);
	cf_keys_free(NULL);
}

/* The secrets alone rebuild the same keys. */
static void
keys_from_seeds(void)
{
	struct cf_device_keys *k = NULL;
	uint8_t seed[32];

	crypto_sign_ed25519_sk_to_seed(seed, g_keys->sign_sk);
	CHECK_RC(cf_keys_from_seeds(seed, g_keys->box_sk, &k), 0);
	CHECK(same_keys(k, g_keys));
	cf_keys_free(k);
	sodium_memzero(seed, sizeof(seed));
}

/* Defaults as FORMAT §2 says; the test parameters are the minimum. */
static void
pwhash_params(void)
{
	CHECK(cf_pwhash_default.opslimit == 3);
	CHECK(cf_pwhash_default.memlimit == 256ULL << 20);
	CHECK(cf_pwhash_interactive.opslimit == 2);
	CHECK(cf_pwhash_interactive.memlimit == 64ULL << 20);
	CHECK(CF_PWHASH_OPS_MIN == crypto_pwhash_OPSLIMIT_INTERACTIVE);
	CHECK(CF_PWHASH_MEM_MIN == crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

/* Unprotected: exact layout, round trip with or without a passphrase. */
static void
plain_roundtrip(void)
{
	struct cf_device_keys *k = NULL;

	CHECK_RC(cf_keyfile_encode(g_keys, NULL, 0, NULL, &g_plain,
	    &g_plainlen), 0);
	if (g_plain == NULL)
		abort();
	CHECK(g_plainlen == CF_KEYFILE_PLAIN_BYTES);
	CHECK(memcmp(g_plain, "CFKF\x01\x00" "CFKS\x01", 11) == 0);
	CHECK(memcmp(g_plain + OFF_SIGN_PK, g_keys->sign_pk, 32) == 0);
	CHECK(memcmp(g_plain + OFF_BOX_PK, g_keys->box_pk, 32) == 0);
	CHECK_RC(cf_keyfile_is_protected(g_plain, g_plainlen), 0);

	CHECK_RC(cf_keyfile_decode(g_plain, g_plainlen, NULL, 0, &k), 0);
	CHECK(same_keys(k, g_keys));
	cf_keys_free(k);
	/* A passphrase given for an unprotected file is not needed. */
	CHECK_RC(cf_keyfile_decode(g_plain, g_plainlen, PASS, PASSLEN, &k), 0);
	CHECK(same_keys(k, g_keys));
	cf_keys_free(k);
}

/* Protected: layout, round trip, wrong and missing passphrase. */
static void
sealed_roundtrip(void)
{
	struct cf_device_keys *k = NULL;
	uint8_t *again = NULL;
	size_t againlen = 0;

	CHECK_RC(cf_keyfile_encode(g_keys, PASS, PASSLEN,
	    &cf_pwhash_interactive, &g_sealed, &g_sealedlen), 0);
	if (g_sealed == NULL)
		abort();
	CHECK(g_sealedlen == CF_KEYFILE_SEALED_BYTES);
	CHECK(memcmp(g_sealed, "CFKF\x01\x01", 6) == 0);
	CHECK(memcmp(g_sealed + OFF_OPS, "\0\0\0\x02", 4) == 0);
	CHECK(memcmp(g_sealed + OFF_MEM, "\0\x01\0\0", 4) == 0);	/* 65536 KiB */
	CHECK_RC(cf_keyfile_is_protected(g_sealed, g_sealedlen), 1);
	/* No secret in clear. */
	CHECK(memmem(g_sealed, g_sealedlen, g_keys->box_sk, 32) == NULL);
	CHECK(memmem(g_sealed, g_sealedlen, g_keys->sign_pk, 32) == NULL);

	CHECK_RC(cf_keyfile_decode(g_sealed, g_sealedlen, PASS, PASSLEN, &k), 0);
	CHECK(same_keys(k, g_keys));
	cf_keys_free(k);
	k = NULL;

	CHECK_RC(cf_keyfile_decode(g_sealed, g_sealedlen, "Correct horse",
	    13, &k), COFFER_EBADKEY);
	CHECK(k == NULL);
	CHECK_RC(cf_keyfile_decode(g_sealed, g_sealedlen, NULL, 0, &k),
	    COFFER_EBADKEY);
	CHECK(k == NULL);

	/* An empty passphrase protects nothing: refused, pass NULL instead. */
	CHECK_RC(cf_keyfile_encode(g_keys, "", 0, &cf_pwhash_interactive,
	    &again, &againlen), COFFER_EINVAL);
	CHECK(again == NULL && againlen == 0);
}

/*
 * Both files are exactly FORMAT §2, recomputed here from the spec: the
 * secret body in clear, or sealed under Argon2id(PASS) with AD = the 30
 * bytes before the nonce (one more Argon2 run).
 */
static void
files_are_spec(void)
{
	uint8_t body[133], seed[32], k[32];

	memcpy(body, "CFKS\x01", 5);
	crypto_sign_ed25519_sk_to_seed(seed, g_keys->sign_sk);
	memcpy(body + 5, seed, 32);
	memcpy(body + 37, g_keys->box_sk, 32);
	memcpy(body + 69, g_keys->sign_pk, 32);
	memcpy(body + 101, g_keys->box_pk, 32);
	CHECK(g_plainlen == 6 + sizeof(body));
	CHECK(memcmp(g_plain + OFF_SECRET, body, sizeof(body)) == 0);

	CHECK(crypto_pwhash(k, sizeof(k), PASS, PASSLEN, g_sealed + OFF_SALT,
	    2, 64ULL << 20, crypto_pwhash_ALG_ARGON2ID13) == 0);
	memset(seed, 0, sizeof(seed));
	{
		uint8_t opened[133];
		unsigned long long n = 0;

		CHECK(g_sealedlen == OFF_SEALED + sizeof(body) + 16);
		CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(opened, &n,
		    NULL, g_sealed + OFF_SEALED, g_sealedlen - OFF_SEALED,
		    g_sealed, OFF_NONCE, g_sealed + OFF_NONCE, k) == 0);
		CHECK(n == sizeof(body) && memcmp(opened, body, sizeof(body)) == 0);
		sodium_memzero(opened, sizeof(opened));
	}
	sodium_memzero(body, sizeof(body));
	sodium_memzero(k, sizeof(k));
}

/* Argon2id limits, both ways, refused before any hashing. */
static void
sealed_params_capped(void)
{
	static const struct {
		uint32_t ops, kib;
	} bad[] = {
		{ 1, 65536 },			/* ops below the minimum */
		{ 0, 65536 },
		{ 17, 65536 },			/* ops above the maximum */
		{ UINT32_MAX, 65536 },
		{ 2, 32768 },			/* 32 MiB */
		{ 2, 65535 },
		{ 2, 0 },
		{ 2, 1048577 },			/* 1 GiB + 1 KiB */
		{ 2, 2097152 },			/* 2 GiB */
		{ 2, UINT32_MAX },
		{ 17, 2097152 },
	};
	static const struct {
		uint32_t ops, kib;
	} edge[] = { { 2, 65536 }, { 16, 65536 }, { 2, 1048576 }, { 16, 1048576 } };
	struct cf_pwhash_params p;
	struct cf_device_keys *k = NULL;
	uint8_t *f, *out = NULL;
	size_t i, outlen = 0;
	double t0, dt;

	f = dup_buf(g_sealed, g_sealedlen, 0);
	t0 = now();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_be32(f + OFF_OPS, bad[i].ops);
		put_be32(f + OFF_MEM, bad[i].kib);
		CHECK_RC(cf_keyfile_decode(f, g_sealedlen, PASS, PASSLEN, &k),
		    COFFER_EFORMAT);
		CHECK(k == NULL);
		CHECK_RC(cf_keyfile_decode(f, g_sealedlen, NULL, 0, &k),
		    COFFER_EFORMAT);
		CHECK_RC(cf_keyfile_is_protected(f, g_sealedlen), COFFER_EFORMAT);
	}
	dt = now() - t0;
	/* Eleven Argon2 runs at these sizes would take minutes. */
	CHECK(dt < 2.0);
	/* The bounds themselves are inside (structure only: no hashing). */
	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		put_be32(f + OFF_OPS, edge[i].ops);
		put_be32(f + OFF_MEM, edge[i].kib);
		CHECK_RC(cf_keyfile_is_protected(f, g_sealedlen), 1);
		CHECK_RC(cf_keyfile_decode(f, g_sealedlen, NULL, 0, &k),
		    COFFER_EBADKEY);
	}
	free(f);

	/* The encoder refuses the same parameters (before hashing too). */
	p.opslimit = 1, p.memlimit = 64ULL << 20;
	CHECK_RC(cf_keyfile_encode(g_keys, PASS, PASSLEN, &p, &out, &outlen),
	    COFFER_EINVAL);
	p.opslimit = 17;
	CHECK_RC(cf_keyfile_encode(g_keys, PASS, PASSLEN, &p, &out, &outlen),
	    COFFER_EINVAL);
	p.opslimit = 2, p.memlimit = 32ULL << 20;
	CHECK_RC(cf_keyfile_encode(g_keys, PASS, PASSLEN, &p, &out, &outlen),
	    COFFER_EINVAL);
	p.memlimit = 2ULL << 30;
	CHECK_RC(cf_keyfile_encode(g_keys, PASS, PASSLEN, &p, &out, &outlen),
	    COFFER_EINVAL);
	p.memlimit = (64ULL << 20) + 1;		/* not whole KiB */
	CHECK_RC(cf_keyfile_encode(g_keys, PASS, PASSLEN, &p, &out, &outlen),
	    COFFER_EINVAL);
	CHECK_RC(cf_keyfile_encode(g_keys, PASS, PASSLEN, NULL, &out, &outlen),
	    COFFER_EINVAL);
	CHECK_RC(cf_keyfile_encode(g_keys, PASS, CF_PASSPHRASE_MAX + 1,
	    &cf_pwhash_interactive, &out, &outlen), COFFER_EINVAL);
	CHECK_RC(cf_keyfile_encode(NULL, NULL, 0, NULL, &out, &outlen),
	    COFFER_EINVAL);
	CHECK(out == NULL && outlen == 0);
	/* A passphrase longer than any accepted is simply wrong. */
	CHECK_RC(cf_keyfile_decode(g_sealed, g_sealedlen, PASS,
	    CF_PASSPHRASE_MAX + 1, &k), COFFER_EBADKEY);
}

/* Every truncation of both kinds of file is refused, without hashing. */
static void
truncated(void)
{
	struct cf_device_keys *k = NULL;
	uint8_t *f;
	size_t n;

	for (n = 0; n < g_plainlen; n++) {
		f = dup_buf(g_plain, n, 0);	/* exact size: ASan sees overreads */
		CHECK_RC(cf_keyfile_decode(f, n, PASS, PASSLEN, &k),
		    COFFER_EFORMAT);
		CHECK(k == NULL);
		CHECK_RC(cf_keyfile_is_protected(f, n), COFFER_EFORMAT);
		free(f);
	}
	for (n = 0; n < g_sealedlen; n++) {
		f = dup_buf(g_sealed, n, 0);
		CHECK_RC(cf_keyfile_decode(f, n, PASS, PASSLEN, &k),
		    COFFER_EFORMAT);
		CHECK(k == NULL);
		CHECK_RC(cf_keyfile_is_protected(f, n), COFFER_EFORMAT);
		free(f);
	}
	CHECK_RC(cf_keyfile_decode(NULL, 0, NULL, 0, &k), COFFER_EFORMAT);
}

/* One trailing byte, or a file beyond the cap, is refused. */
static void
trailing(void)
{
	struct cf_device_keys *k = NULL;
	uint8_t *f;
	uint8_t big[CF_KEYFILE_MAX + 1];

	f = dup_buf(g_plain, g_plainlen, 1);
	f[g_plainlen] = 0;
	CHECK_RC(cf_keyfile_decode(f, g_plainlen + 1, NULL, 0, &k),
	    COFFER_EFORMAT);
	CHECK_RC(cf_keyfile_is_protected(f, g_plainlen + 1), COFFER_EFORMAT);
	free(f);

	f = dup_buf(g_sealed, g_sealedlen, 1);
	f[g_sealedlen] = 0;
	CHECK_RC(cf_keyfile_decode(f, g_sealedlen + 1, PASS, PASSLEN, &k),
	    COFFER_EFORMAT);
	free(f);

	memset(big, 0, sizeof(big));
	memcpy(big, g_plain, g_plainlen);
	CHECK_RC(cf_keyfile_decode(big, sizeof(big), NULL, 0, &k),
	    COFFER_EFORMAT);
	CHECK(k == NULL);
}

/* Unknown tag, version or kdf. */
static void
header_refused(void)
{
	struct cf_device_keys *k = NULL;
	uint8_t *f = dup_buf(g_plain, g_plainlen, 0);

	f[4] = 2;
	CHECK_RC(cf_keyfile_decode(f, g_plainlen, NULL, 0, &k), COFFER_EFORMAT);
	f[4] = 1, f[OFF_KDF] = 2;
	CHECK_RC(cf_keyfile_decode(f, g_plainlen, NULL, 0, &k), COFFER_EFORMAT);
	f[OFF_KDF] = 0, f[OFF_SECRET + 4] = 2;	/* secret body version */
	CHECK_RC(cf_keyfile_decode(f, g_plainlen, NULL, 0, &k), COFFER_EFORMAT);
	f[OFF_SECRET + 4] = 1, f[0] = 'c';
	CHECK_RC(cf_keyfile_decode(f, g_plainlen, NULL, 0, &k), COFFER_EFORMAT);
	CHECK(k == NULL);
	free(f);
}

/*
 * Unprotected file: the public keys are recomputed and compared.  A
 * flipped public key is refused; so is any flip elsewhere (bit 4 is one
 * X25519 does not clamp away: flipping bits 0-2 of box_sk[0] or bit 7 of
 * box_sk[31] gives the same key, which is harmless).
 */
static void
plain_flips(void)
{
	struct cf_device_keys *k = NULL;
	uint8_t *f = dup_buf(g_plain, g_plainlen, 0);
	size_t i;

	for (i = 0; i < 32; i++) {
		f[OFF_SIGN_PK + i] ^= 0x01;
		CHECK_RC(cf_keyfile_decode(f, g_plainlen, NULL, 0, &k),
		    COFFER_EFORMAT);
		f[OFF_SIGN_PK + i] ^= 0x01;
		f[OFF_BOX_PK + i] ^= 0x80;
		CHECK_RC(cf_keyfile_decode(f, g_plainlen, NULL, 0, &k),
		    COFFER_EFORMAT);
		f[OFF_BOX_PK + i] ^= 0x80;
	}
	for (i = 0; i < g_plainlen; i++) {
		f[i] ^= 0x10;
		CHECK_RC(cf_keyfile_decode(f, g_plainlen, NULL, 0, &k),
		    COFFER_EFORMAT);
		CHECK(k == NULL);
		f[i] ^= 0x10;
	}
	CHECK_RC(cf_keyfile_decode(f, g_plainlen, NULL, 0, &k), 0);
	CHECK(same_keys(k, g_keys));
	cf_keys_free(k);
	free(f);
}

/*
 * Protected file: every byte flipped is refused.  Without a passphrase
 * nothing is hashed, so all positions are tried that way (the structure
 * and the caps decide: EFORMAT, or EBADKEY if it would need hashing).
 * With the passphrase, every position the header checks refuse is tried
 * (no hashing) plus a sample of salt, nonce, ciphertext and tag
 * positions through Argon2 (nine runs).
 */
static void
sealed_flips(void)
{
	static const size_t sample[] = {
		OFF_MEM + 2, OFF_MEM + 3,	/* still within the caps */
		OFF_SALT, OFF_SALT + 15, OFF_NONCE, OFF_NONCE + 23,
		OFF_SEALED, OFF_SEALED + 70, CF_KEYFILE_SEALED_BYTES - 1,
	};
	struct cf_device_keys *k = NULL;
	uint8_t *f = dup_buf(g_sealed, g_sealedlen, 0);
	size_t i;
	int rc;

	for (i = 0; i < g_sealedlen; i++) {
		f[i] ^= 0xff;
		rc = cf_keyfile_decode(f, g_sealedlen, NULL, 0, &k);
		CHECK(rc == COFFER_EFORMAT || rc == COFFER_EBADKEY);
		CHECK(k == NULL);
		/* Header and out-of-range parameters: refused unhashed. */
		if (i < OFF_MEM + 2) {
			CHECK_RC(rc, COFFER_EFORMAT);
			CHECK_RC(cf_keyfile_decode(f, g_sealedlen, PASS,
			    PASSLEN, &k), COFFER_EFORMAT);
		}
		f[i] ^= 0xff;
	}
	for (i = 0; i < sizeof(sample) / sizeof(sample[0]); i++) {
		f[sample[i]] ^= 0xff;
		CHECK_RC(cf_keyfile_decode(f, g_sealedlen, PASS, PASSLEN, &k),
		    COFFER_EBADKEY);
		CHECK(k == NULL);
		f[sample[i]] ^= 0xff;
	}
	free(f);
}

static char *
path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p == NULL)
		abort();
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* write: 0600, O_EXCL; read: loose permissions flagged, caps, no symlinks. */
static void
write_read(void)
{
	char *dir = tu_tmpdir();
	char *path = path_in(dir, "device.key");
	char *link = path_in(dir, "link.key");
	char *big = path_in(dir, "big.key");
	char *missing = path_in(dir, "no/such/device.key");
	struct cf_device_keys *k = NULL;
	struct stat st;
	uint8_t *before, *after, *junk;
	size_t nb = 0, na = 0;
	int loose = -1;
	FILE *fp;

	CHECK_RC(cf_keyfile_write(path, g_keys, NULL, 0, NULL), 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	before = tu_readfile(path, &nb);
	CHECK(before != NULL && nb == g_plainlen);

	CHECK_RC(cf_keyfile_read(path, NULL, 0, &k, &loose), 0);
	CHECK(same_keys(k, g_keys));
	CHECK(loose == 0);
	cf_keys_free(k);
	k = NULL;

	/* Never overwrites, even with a different key file. */
	CHECK_RC(cf_keyfile_write(path, g_keys, PASS, PASSLEN,
	    &cf_pwhash_interactive), COFFER_EEXIST);
	after = tu_readfile(path, &na);
	CHECK(after != NULL && na == nb && memcmp(before, after, nb) == 0);
	free(after);

	CHECK(chmod(path, 0644) == 0);
	loose = -1;
	CHECK_RC(cf_keyfile_read(path, NULL, 0, &k, &loose), 0);
	CHECK(same_keys(k, g_keys));
	CHECK(loose == 1);
	cf_keys_free(k);
	k = NULL;
	CHECK(chmod(path, 0600) == 0);

	/* A symlink to a key file is not followed. */
	CHECK(symlink(path, link) == 0);
	CHECK(cf_keyfile_read(link, NULL, 0, &k, &loose) != 0);
	CHECK(k == NULL);
	CHECK_RC(cf_keyfile_write(link, g_keys, NULL, 0, NULL), COFFER_EEXIST);

	/* Too big: refused however it starts. */
	junk = calloc(1, CF_KEYFILE_MAX + 1);
	if (junk == NULL)
		abort();
	memcpy(junk, before, nb);
	CHECK((fp = fopen(big, "wb")) != NULL);
	if (fp != NULL) {
		CHECK(fwrite(junk, 1, CF_KEYFILE_MAX + 1, fp) ==
		    CF_KEYFILE_MAX + 1);
		fclose(fp);
	}
	CHECK_RC(cf_keyfile_read(big, NULL, 0, &k, &loose), COFFER_EFORMAT);
	free(junk);

	/* Not a regular file; missing file; missing folder. */
	CHECK_RC(cf_keyfile_read(dir, NULL, 0, &k, &loose), COFFER_EFORMAT);
	CHECK_RC(cf_keyfile_read(missing, NULL, 0, &k, &loose), COFFER_ENOENT);
	CHECK_RC(cf_keyfile_write(missing, g_keys, NULL, 0, NULL), COFFER_ENOENT);
	CHECK(k == NULL);
	/* A failed encode creates nothing. */
	CHECK(unlink(big) == 0);
	CHECK_RC(cf_keyfile_write(big, g_keys, PASS, PASSLEN, NULL),
	    COFFER_EINVAL);
	CHECK(access(big, F_OK) != 0 && errno == ENOENT);

	free(before);
	tu_rmrf(dir);
	free(dir);
	free(path);
	free(link);
	free(big);
	free(missing);
}

/* A protected key file through the file system (two Argon2 runs). */
static void
write_read_sealed(void)
{
	char *dir = tu_tmpdir();
	char *path = path_in(dir, "device.key");
	struct cf_device_keys *k = NULL;
	int loose = -1;

	CHECK_RC(cf_keyfile_write(path, g_keys, PASS, PASSLEN,
	    &cf_pwhash_interactive), 0);
	CHECK_RC(cf_keyfile_read(path, NULL, 0, &k, &loose), COFFER_EBADKEY);
	CHECK(k == NULL && loose == 0);
	CHECK_RC(cf_keyfile_read(path, PASS, PASSLEN, &k, &loose), 0);
	CHECK(same_keys(k, g_keys));
	cf_keys_free(k);
	tu_rmrf(dir);
	free(dir);
	free(path);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(p, 1, n, fp) != n)
		abort();
	fclose(fp);
}

/* A passphrase file: one trailing newline dropped, capped. */
static void
passphrase_file(void)
{
	char *dir = tu_tmpdir();
	char *path = path_in(dir, "pass");
	char *pass = NULL;
	char longp[CF_PASSPHRASE_MAX + 2];
	size_t len = 99;

	CHECK_RC(cf_passphrase_read_file(NULL, &pass, &len), COFFER_EINVAL);
	CHECK(pass == NULL && len == 0);
	CHECK_RC(cf_passphrase_read_file(path, &pass, &len), COFFER_ENOENT);
	CHECK(pass == NULL);

	write_file(path, "secret pass\n", 12);
	CHECK_RC(cf_passphrase_read_file(path, &pass, &len), 0);
	CHECK(pass != NULL && len == 11 && memcmp(pass, "secret pass", 12) == 0);
	cf_passphrase_free(pass, len);

	write_file(path, "pw\r\n", 4);
	CHECK_RC(cf_passphrase_read_file(path, &pass, &len), 0);
	CHECK(pass != NULL && len == 2 && memcmp(pass, "pw", 3) == 0);
	cf_passphrase_free(pass, len);

	write_file(path, "a\n\n", 3);		/* only one newline goes */
	CHECK_RC(cf_passphrase_read_file(path, &pass, &len), 0);
	CHECK(pass != NULL && len == 2 && memcmp(pass, "a\n", 3) == 0);
	cf_passphrase_free(pass, len);

	write_file(path, " no newline ", 12);	/* spaces are kept */
	CHECK_RC(cf_passphrase_read_file(path, &pass, &len), 0);
	CHECK(pass != NULL && len == 12 && memcmp(pass, " no newline ", 13) == 0);
	cf_passphrase_free(pass, len);

	memset(longp, 'x', sizeof(longp));
	longp[CF_PASSPHRASE_MAX] = '\n';
	write_file(path, longp, CF_PASSPHRASE_MAX + 1);	/* 1024 + newline */
	CHECK_RC(cf_passphrase_read_file(path, &pass, &len), 0);
	CHECK(pass != NULL && len == CF_PASSPHRASE_MAX && pass[len] == '\0');
	cf_passphrase_free(pass, len);
	pass = NULL;

	longp[CF_PASSPHRASE_MAX] = 'x';
	write_file(path, longp, CF_PASSPHRASE_MAX + 1);	/* 1025 bytes */
	CHECK_RC(cf_passphrase_read_file(path, &pass, &len), COFFER_ETOOBIG);
	CHECK(pass == NULL && len == 0);
	write_file(path, longp, sizeof(longp));
	CHECK_RC(cf_passphrase_read_file(path, &pass, &len), COFFER_ETOOBIG);

	write_file(path, "", 0);
	CHECK_RC(cf_passphrase_read_file(path, &pass, &len), COFFER_EINVAL);
	write_file(path, "\n", 1);
	CHECK_RC(cf_passphrase_read_file(path, &pass, &len), COFFER_EINVAL);
	CHECK(pass == NULL);

	cf_passphrase_free(NULL, 0);
	tu_rmrf(dir);
	free(dir);
	free(path);
}

/* The program's passphrase callback: what it was asked, what it gives. */
struct ask_log {
	const char *give[CF_PASS_TRIES + 1];	/* per attempt; NULL: error */
	int purpose[CF_PASS_TRIES + 1];
	unsigned calls;
};

static int
ask_cb(void *ctx, int purpose, unsigned attempt, char *buf, size_t cap,
    size_t *lenp)
{
	struct ask_log *l = ctx;
	size_t n;

	CHECK(cap == CF_PASSPHRASE_MAX);
	CHECK(attempt == l->calls || purpose == CF_PASS_NEW);
	l->purpose[l->calls] = purpose;
	if (l->calls > CF_PASS_TRIES || l->give[l->calls] == NULL)
		return COFFER_EBADKEY;
	n = strlen(l->give[l->calls]);
	memcpy(buf, l->give[l->calls], n);
	*lenp = n;
	l->calls++;
	return 0;
}

/* cf_keyfile_create/load ask the callback, and only when needed. */
static void
passphrase_callback(void)
{
	char *dir = tu_tmpdir();
	char *plain = path_in(dir, "plain"), *sealed = path_in(dir, "sealed");
	struct cf_device_keys *k = NULL;
	struct ask_log l;
	struct cf_passphrase_src none = { NULL, NULL }, src = { ask_cb, &l };

	/* No callback: a new file is plain, a sealed one does not open. */
	CHECK_RC(cf_keyfile_create(plain, g_keys, &cf_pwhash_interactive,
	    &none), 0);
	CHECK_RC(cf_keyfile_write(sealed, g_keys, PASS, PASSLEN,
	    &cf_pwhash_interactive), 0);
	CHECK_RC(cf_keyfile_load(sealed, &none, &k, NULL), COFFER_EBADKEY);
	CHECK(k == NULL);
	CHECK_RC(cf_keyfile_load(plain, &none, &k, NULL), 0);
	cf_keys_free(k);
	k = NULL;

	/* A plain file is never asked about. */
	memset(&l, 0, sizeof(l));
	CHECK_RC(cf_keyfile_load(plain, &src, &k, NULL), 0);
	CHECK(l.calls == 0);
	cf_keys_free(k);
	k = NULL;

	/* Wrong twice, then right: three asks, opened. */
	memset(&l, 0, sizeof(l));
	l.give[0] = "nope";
	l.give[1] = "nope either";
	l.give[2] = PASS;
	CHECK_RC(cf_keyfile_load(sealed, &src, &k, NULL), 0);
	CHECK(l.calls == 3 && l.purpose[0] == CF_PASS_UNLOCK);
	CHECK(k != NULL && memcmp(k->device_id, g_keys->device_id,
	    CF_ID_BYTES) == 0);
	cf_keys_free(k);
	k = NULL;

	/* Always wrong: CF_PASS_TRIES asks, then EBADKEY. */
	memset(&l, 0, sizeof(l));
	l.give[0] = l.give[1] = l.give[2] = l.give[3] = "nope";
	CHECK_RC(cf_keyfile_load(sealed, &src, &k, NULL), COFFER_EBADKEY);
	CHECK(l.calls == CF_PASS_TRIES && k == NULL);

	/* The callback gives up: its error, at once. */
	memset(&l, 0, sizeof(l));
	CHECK_RC(cf_keyfile_load(sealed, &src, &k, NULL), COFFER_EBADKEY);
	CHECK(l.calls == 0 && k == NULL);

	/* New: sealed with what it gives; empty means plain. */
	CHECK(unlink(sealed) == 0 && unlink(plain) == 0);
	memset(&l, 0, sizeof(l));
	l.give[0] = PASS;
	CHECK_RC(cf_keyfile_create(sealed, g_keys, &cf_pwhash_interactive,
	    &src), 0);
	CHECK(l.calls == 1 && l.purpose[0] == CF_PASS_NEW);
	CHECK_RC(cf_keyfile_read(sealed, PASS, PASSLEN, &k, NULL), 0);
	cf_keys_free(k);
	k = NULL;
	memset(&l, 0, sizeof(l));
	l.give[0] = "";
	CHECK_RC(cf_keyfile_create(plain, g_keys, &cf_pwhash_interactive,
	    &src), 0);
	CHECK_RC(cf_keyfile_read(plain, NULL, 0, &k, NULL), 0);
	cf_keys_free(k);
	k = NULL;
	/* Its error stops the creation: nothing written. */
	CHECK(unlink(plain) == 0);
	memset(&l, 0, sizeof(l));
	CHECK_RC(cf_keyfile_create(plain, g_keys, &cf_pwhash_interactive, &src),
	    COFFER_EBADKEY);
	CHECK(access(plain, F_OK) != 0);

	/* Sources side by side: a load asks its own, never another's. */
	memset(&l, 0, sizeof(l));
	l.give[0] = PASS;
	CHECK_RC(cf_keyfile_load(sealed, &none, &k, NULL), COFFER_EBADKEY);
	CHECK(l.calls == 0 && k == NULL);
	CHECK_RC(cf_keyfile_load(sealed, &src, &k, NULL), 0);
	CHECK(l.calls == 1 && k != NULL);
	cf_keys_free(k);
	k = NULL;

	tu_rmrf(dir);
	free(dir);
	free(plain);
	free(sealed);
}

/* FORMAT §3: crypto_kdf subkeys and key ids. */
static void
kdf_and_key_id(void)
{
	uint8_t master[CF_KEY_BYTES], a[CF_KEY_BYTES], b[CF_KEY_BYTES];
	uint8_t id[CF_ID_BYTES], want[CF_ID_BYTES];
	size_t i;

	for (i = 0; i < sizeof(master); i++)
		master[i] = (uint8_t)i;
	cf_kdf_derive(a, master, CF_KDF_CHUNK_ID, CF_LABEL_KDF_DRIVE);
	CHECK(crypto_kdf_derive_from_key(b, sizeof(b), 1, "cfdrive1",
	    master) == 0);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	cf_kdf_derive(b, master, CF_KDF_CHUNKER, CF_LABEL_KDF_DRIVE);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	cf_kdf_derive(b, master, CF_KDF_CONTENT, CF_LABEL_KDF_EPOCH);
	CHECK(memcmp(a, b, sizeof(a)) != 0);	/* same id, other context */

	cf_key_id(master, id);
	CHECK(crypto_generichash(want, sizeof(want),
	    (const uint8_t *)"coffer-keyid-v1", 15, master, sizeof(master)) == 0);
	CHECK(memcmp(id, want, sizeof(id)) == 0);
	cf_key_id(a, want);
	CHECK(memcmp(id, want, sizeof(id)) != 0);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(keys_generate);
	T_RUN(keys_from_seeds);
	T_RUN(pwhash_params);
	T_RUN(plain_roundtrip);
	T_RUN(sealed_roundtrip);
	T_RUN(files_are_spec);
	T_RUN(sealed_params_capped);
	T_RUN(truncated);
	T_RUN(trailing);
	T_RUN(header_refused);
	T_RUN(plain_flips);
	T_RUN(sealed_flips);
	T_RUN(write_read);
	T_RUN(write_read_sealed);
	T_RUN(passphrase_file);
	T_RUN(passphrase_callback);
	T_RUN(kdf_and_key_id);
	cf_wipefree(g_plain, g_plainlen);
	cf_wipefree(g_sealed, g_sealedlen);
	cf_keys_free(g_keys);
	T_DONE("keys");
}
