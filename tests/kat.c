/*
 * Every known-answer vector of docs/FORMAT.md §11, computed with the
 * test-only deterministic RNG.  Each vector restarts the RNG stream so
 * that vectors do not depend on each other's order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chunker/chunker.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"
#include "crypto/wrap.h"
#include "object/object.h"
#include "util/buf.h"
#include "detrng.h"
#include "kat.h"
#include "util.h"

static kat_emit_fn *emit;

static void
emit_hex(const char *name, const uint8_t *p, size_t n)
{
	char *h = tu_hex(p, n);

	emit(name, h);
	free(h);
}

static void
inputs(uint8_t k32[32], uint8_t id_a[32], uint8_t id_b[32])
{
	int i;

	for (i = 0; i < 32; i++)
		k32[i] = (uint8_t)i;
	memset(id_a, 0xaa, 32);
	memset(id_b, 0xbb, 32);
}

static int
kat_keys(void)
{
	struct cf_device_keys *k = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	detrng_reset();
	if ((r = cf_keys_generate(&k)) != 0)
		goto out;
	emit_hex("device-sign-pk", k->sign_pk, sizeof(k->sign_pk));
	emit_hex("device-box-pk", k->box_pk, sizeof(k->box_pk));
	emit_hex("device-id", k->device_id, sizeof(k->device_id));
	if ((r = cf_keyfile_encode(k, NULL, 0, NULL, &buf, &len)) != 0)
		goto out;
	emit_hex("keyfile-plain", buf, len);
	cf_wipefree(buf, len);
	buf = NULL;
	if ((r = cf_keyfile_encode(k, "correct horse", 13, &cf_pwhash_interactive,
	    &buf, &len)) != 0)
		goto out;
	emit_hex("keyfile-argon2id", buf, len);
out:
	cf_wipefree(buf, len);
	cf_keys_free(k);
	return r;
}

static int
kat_kdf(void)
{
	uint8_t k32[32], a[32], b[32], out[32];

	inputs(k32, a, b);
	cf_key_id(k32, out);
	emit_hex("key-id", out, 32);
	cf_kdf_derive(out, k32, CF_KDF_CHUNK_ID, CF_KDF_CTX_DRIVE);
	emit_hex("kdf-chunk-id-key", out, 32);
	cf_kdf_derive(out, k32, CF_KDF_CHUNKER, CF_KDF_CTX_DRIVE);
	emit_hex("kdf-chunker-key", out, 32);
	cf_kdf_derive(out, k32, CF_KDF_CONTENT, CF_KDF_CTX_EPOCH);
	emit_hex("kdf-content-key", out, 32);
	cf_kdf_derive(out, k32, CF_KDF_META_ID, CF_KDF_CTX_EPOCH);
	emit_hex("kdf-meta-id-key", out, 32);
	return 0;
}

static int
kat_wrap(void)
{
	uint8_t k32[32], a[32], b[32], out[32 + CF_WRAP_OVERHEAD];
	int r;

	inputs(k32, a, b);
	detrng_reset();
	if ((r = cf_wrap_seal(k32, "drive-secret", b, 32, a, 32, out)) != 0)
		return r;
	emit_hex("wrap-drive-secret", out, sizeof(out));
	return 0;
}

static int
kat_recovery(void)
{
	uint8_t k32[32], a[32], b[32];
	char text[CF_RECOVERY_TEXT_BYTES];
	struct cf_recovery_keys rk;
	int r;

	inputs(k32, a, b);
	cf_recovery_format(a, k32, text);
	emit("recovery-text", text);
	if ((r = cf_recovery_derive(k32, a, &rk)) != 0)
		return r;
	emit_hex("recovery-sign-pk", rk.sign_pk, 32);
	emit_hex("recovery-box-pk", rk.box_pk, 32);
	sodium_memzero(&rk, sizeof(rk));
	return 0;
}

static int
kat_padme(void)
{
	static const size_t lens[] = { 0, 1, 1024, 1025, 1500, 4096, 4097,
	    65537, 1000000, 1048585, 8388617 };
	char buf[512];
	size_t i, o = 0;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%zu:%zu",
		    i ? "," : "", lens[i], cf_padme(lens[i]));
	emit("padme", buf);
	return 0;
}

static int
kat_objects(void)
{
	static const char chunk[] = "coffer known-answer chunk";
	static const char tree[] = "coffer known-answer tree bytes";
	uint8_t k32[32], a[32], b[32], id[32];
	uint8_t *big = NULL, *blob = NULL;
	size_t bloblen = 0, i;
	struct cf_objkey key;
	int r;

	inputs(k32, a, b);
	cf_kdf_derive(key.enc_key, k32, CF_KDF_CONTENT, CF_KDF_CTX_EPOCH);
	cf_key_id(key.enc_key, key.key_id);
	cf_kdf_derive(key.id_key, k32, CF_KDF_CHUNK_ID, CF_KDF_CTX_DRIVE);

	detrng_reset();
	if ((r = cf_object_seal(&key, CF_OBJ_CHUNK, b, (const uint8_t *)chunk,
	    sizeof(chunk) - 1, 0, id, &blob, &bloblen)) != 0)
		goto out;
	emit_hex("object-chunk-id", id, 32);
	emit_hex("object-chunk-blob", blob, bloblen);
	free(blob);
	blob = NULL;

	/* 4096 bytes of a repeated phrase: zstd shrinks it. */
	if ((big = malloc(4096)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < 4096; i++)
		big[i] = (uint8_t)"coffer "[i % 7];
	detrng_reset();
	if ((r = cf_object_seal(&key, CF_OBJ_CHUNK, b, big, 4096,
	    CF_SEAL_COMPRESS, id, &blob, &bloblen)) != 0)
		goto out;
	emit_hex("object-chunk-zstd-id", id, 32);
	emit_hex("object-chunk-zstd-blob", blob, bloblen);
	free(blob);
	blob = NULL;

	cf_kdf_derive(key.id_key, k32, CF_KDF_META_ID, CF_KDF_CTX_EPOCH);
	detrng_reset();
	if ((r = cf_object_seal(&key, CF_OBJ_TREE, b, (const uint8_t *)tree,
	    sizeof(tree) - 1, 0, id, &blob, &bloblen)) != 0)
		goto out;
	emit_hex("object-tree-id", id, 32);
	emit_hex("object-tree-blob", blob, bloblen);
out:
	free(blob);
	free(big);
	return r;
}

static int
kat_chunker(void)
{
	uint8_t k32[32], a[32], b[32], ck[32];
	struct cf_chunker *c = NULL;
	uint8_t *data = NULL;
	size_t len = 6U << 20, off = 0, cut, o = 0;
	char buf[512];
	int r;

	inputs(k32, a, b);
	cf_kdf_derive(ck, k32, CF_KDF_CHUNKER, CF_KDF_CTX_DRIVE);
	if ((r = cf_chunker_new(ck, &c)) != 0)
		goto out;
	if ((data = malloc(len)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	tu_fill(data, len, 1);
	buf[0] = '\0';
	while (off < len) {
		cut = cf_chunker_cut(c, data + off, len - off, 1);
		if (cut == 0) {
			r = COFFER_EINTERNAL;
			goto out;
		}
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%zu",
		    off ? "," : "", cut);
		off += cut;
	}
	emit("chunker-cuts", buf);
out:
	cf_chunker_free(c);
	free(data);
	return r;
}

int
kat_all(kat_emit_fn *fn)
{
	int r;

	emit = fn;
	if ((r = kat_keys()) != 0 || (r = kat_kdf()) != 0 ||
	    (r = kat_wrap()) != 0 || (r = kat_recovery()) != 0 ||
	    (r = kat_padme()) != 0 || (r = kat_objects()) != 0 ||
	    (r = kat_chunker()) != 0)
		return r;
	return 0;
}
