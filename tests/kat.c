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
#include "chain/chain.h"
#include "chain/dir.h"
#include "chain/pair.h"
#include "chunker/chunker.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"
#include "crypto/wrap.h"
#include "object/object.h"
#include "tree/tree.h"
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
	cf_kdf_derive(out, k32, CF_KDF_CHUNK_ID, CF_LABEL_KDF_DRIVE);
	emit_hex("kdf-chunk-id-key", out, 32);
	cf_kdf_derive(out, k32, CF_KDF_CHUNKER, CF_LABEL_KDF_DRIVE);
	emit_hex("kdf-chunker-key", out, 32);
	cf_kdf_derive(out, k32, CF_KDF_CONTENT, CF_LABEL_KDF_EPOCH);
	emit_hex("kdf-content-key", out, 32);
	cf_kdf_derive(out, k32, CF_KDF_META_ID, CF_LABEL_KDF_EPOCH);
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
	cf_kdf_derive(key.enc_key, k32, CF_KDF_CONTENT, CF_LABEL_KDF_EPOCH);
	cf_key_id(key.enc_key, key.key_id);
	cf_kdf_derive(key.id_key, k32, CF_KDF_CHUNK_ID, CF_LABEL_KDF_DRIVE);

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

	cf_kdf_derive(key.id_key, k32, CF_KDF_META_ID, CF_LABEL_KDF_EPOCH);
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
	cf_kdf_derive(ck, k32, CF_KDF_CHUNKER, CF_LABEL_KDF_DRIVE);
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

/*
 * The device chain and envelopes (FORMAT §14, §15).  kat_genesis() makes
 * the same account from a reset RNG each time: device A's keys, the
 * genesis random bytes, the recovery key (secret k32[0..15]) for that
 * account, epoch 1's key and A's name box, in that order.
 */
#define KAT_T0		1700000000ULL

struct kat_acct {
	struct cf_device_keys *a;
	struct cf_recovery_keys rk;
	struct cf_chain *c;
	uint8_t k1[CF_KEY_BYTES];
	uint8_t account_id[CF_ID_BYTES];
	uint8_t *genesis;
	size_t genesis_len;
};

static void
kat_acct_free(struct kat_acct *k)
{
	cf_keys_free(k->a);
	cf_chain_free(k->c);
	free(k->genesis);
	sodium_memzero(k, sizeof(*k));
}

static int
kat_genesis(struct kat_acct *k)
{
	uint8_t k32[32], a[32], b[32], rand[CF_GENESIS_RAND_BYTES];
	int r;

	memset(k, 0, sizeof(*k));
	inputs(k32, a, b);
	detrng_reset();
	if ((r = cf_keys_generate(&k->a)) != 0)
		return r;
	cf_chain_genesis_begin(k->a, rand, k->account_id);
	if ((r = cf_recovery_derive(k32, k->account_id, &k->rk)) != 0 ||
	    (r = cf_entry_genesis_rand(k->a, rand, "kat-device", 10, &k->rk,
	    KAT_T0, k->k1, &k->genesis, &k->genesis_len)) != 0 ||
	    (r = cf_chain_new(&k->c)) != 0 ||
	    (r = cf_chain_append(k->c, k->genesis, k->genesis_len)) != 0)
		return r;
	return 0;
}

static int
kat_chain_genesis(void)
{
	struct kat_acct k;
	int r;

	if ((r = kat_genesis(&k)) == 0) {
		emit_hex("chain-genesis-account-id", k.account_id, CF_ID_BYTES);
		emit_hex("chain-genesis-entry", k.genesis, k.genesis_len);
		emit_hex("chain-genesis-entry-hash", k.c->hash[0], CF_ID_BYTES);
	}
	kat_acct_free(&k);
	return r;
}

static int
kat_chain_add(void)
{
	struct kat_acct k;
	struct cf_device_keys *b = NULL;
	struct cf_signer s;
	uint8_t pop[CF_SIG_BYTES];
	uint8_t *e = NULL;
	size_t len = 0;
	int r;

	if ((r = kat_genesis(&k)) != 0)
		goto out;
	if ((r = cf_keys_generate(&b)) != 0)
		goto out;
	cf_pop_sign(b, k.account_id, pop);
	memcpy(s.id, k.a->device_id, CF_ID_BYTES);
	s.sign_sk = k.a->sign_sk;
	if ((r = cf_entry_add(k.c, &s, b->sign_pk, b->box_pk, pop, "kat-phone",
	    9, k.k1, KAT_T0 + 1, &e, &len)) != 0)
		goto out;
	emit_hex("chain-add-entry", e, len);
out:
	free(e);
	cf_keys_free(b);
	kat_acct_free(&k);
	return r;
}

static int
kat_envelope(void)
{
	struct kat_acct k;
	struct cf_signer s;
	uint8_t *env = NULL;
	size_t len = 0;
	int r;

	if ((r = kat_genesis(&k)) != 0)
		goto out;
	memcpy(s.id, k.a->device_id, CF_ID_BYTES);
	s.sign_sk = k.a->sign_sk;
	if ((r = cf_envelope_make(k.account_id, k.c->hash[0], &s, 1,
	    (const uint8_t (*)[CF_KEY_BYTES])k.k1, k.a->device_id, k.a->box_pk,
	    &env, &len)) != 0)
		goto out;
	emit_hex("envelope-genesis-device", env, len);
out:
	free(env);
	kat_acct_free(&k);
	return r;
}

/*
 * The join request of a device (keys from a reset RNG) for account id_a,
 * and the pairing code of its r and t (FORMAT §17).
 */
static int
kat_pair_make(uint8_t r[static CF_PAIR_R_BYTES], uint8_t t[static CF_PAIR_T_BYTES],
    uint8_t **reqp, size_t *lenp)
{
	struct cf_device_keys *dev = NULL;
	uint8_t k32[32], a[32], b[32];
	int rc;

	inputs(k32, a, b);
	detrng_reset();
	if ((rc = cf_keys_generate(&dev)) == 0)
		rc = cf_join_request_make(dev, a, "kat-account", 11, "kat-phone",
		    9, r, t, reqp, lenp);
	cf_keys_free(dev);
	return rc;
}

static int
kat_pair_request(void)
{
	uint8_t r[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES], *req = NULL;
	size_t len = 0;
	int rc;

	detrng_reset();
	if ((rc = kat_pair_make(r, t, &req, &len)) == 0)
		emit_hex("pair-request", req, len);
	free(req);
	return rc;
}

static int
kat_pair_code(void)
{
	uint8_t r[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES], *req = NULL;
	char code[CF_PAIR_CODE_TEXT_BYTES];
	size_t len = 0;
	int rc;

	detrng_reset();
	if ((rc = kat_pair_make(r, t, &req, &len)) == 0) {
		cf_pair_code_format(r, t, code);
		emit("pair-code", code);
	}
	free(req);
	return rc;
}

/* Account id_a at seq 7 with head id_b, directory 3 with hash k32, two drives. */
static int
kat_safety_code(void)
{
	uint8_t k32[32], a[32], b[32];
	struct cf_drive_head d[2];
	char code[CF_SAFETY_CODE_BYTES];
	int rc;

	detrng_reset();
	inputs(k32, a, b);
	memset(d, 0, sizeof(d));
	memset(d[0].drive_id, 0x01, CF_ID_BYTES);
	d[0].version = 5;
	memcpy(d[0].commit_id, k32, CF_ID_BYTES);
	memset(d[1].drive_id, 0x02, CF_ID_BYTES);	/* an empty drive */
	if ((rc = cf_safety_code(a, 7, b, 3, k32, d, 2, code)) == 0)
		emit("safety-code", code);
	return rc;
}

/* The account of kat_genesis, one drive "kat-drive" made in epoch 1, version 1. */
static int
kat_dir_record(void)
{
	struct kat_acct k;
	struct cf_drive_keys *dk = NULL;
	struct cf_dir_entry e;
	uint8_t *rec = NULL;
	size_t len = 0;
	int rc;

	detrng_reset();
	if ((rc = kat_genesis(&k)) != 0)
		goto out;
	if ((rc = cf_drive_keys_create(1, &dk)) != 0)
		goto out;
	e.name = "kat-drive";
	e.namelen = 9;
	e.dk = dk;
	if ((rc = cf_dir_build(k.c, k.a, (const uint8_t (*)[CF_KEY_BYTES])k.k1,
	    1, NULL, &e, 1, KAT_T0 + 2, &rec, &len)) != 0)
		goto out;
	emit_hex("dir-record", rec, len);
out:
	free(rec);
	cf_drive_keys_free(dk);
	kat_acct_free(&k);
	return rc;
}

/*
 * The delta of the "delta" vector (FORMAT §13): start {k32, id_b}, stop
 * {id_a}.  Its hash is the delta_hash of the "commit-signed" vector.
 */
static int
kat_delta_make(uint8_t **bufp, size_t *lenp)
{
	uint8_t k32[32], a[32], b[32], start[64];
	struct cf_delta d;

	inputs(k32, a, b);
	memcpy(start, k32, 32);
	memcpy(start + 32, b, 32);
	d.start.ids = start;
	d.start.n = 2;
	d.stop.ids = a;
	d.stop.n = 1;
	return cf_delta_encode(&d, bufp, lenp);
}

/* A leaf with one entry of each kind (FORMAT §12). */
static int
kat_tree_leaf(void)
{
	uint8_t k32[32], a[32], b[32], *buf = NULL;
	struct cf_ref chunks[2], list;
	struct cf_tree_entry e[4];
	size_t len = 0;
	int r;

	detrng_reset();
	inputs(k32, a, b);
	memset(e, 0, sizeof(e));
	memcpy(chunks[0].id, a, 32);
	chunks[0].len = 1000;
	memcpy(chunks[1].id, b, 32);
	chunks[1].len = 2000;
	memcpy(list.id, k32, 32);
	list.len = 300;
	e[0].name = (const uint8_t *)"file";
	e[0].namelen = 4;
	e[0].type = CF_TREE_FILE;
	e[0].mode = 0644;
	e[0].mtime_sec = 1700000000;
	e[0].mtime_nsec = 123456789;
	e[0].size = 3000;
	e[0].how = CF_FILE_CHUNKS;
	e[0].refs = chunks;
	e[0].nrefs = 2;
	e[1] = e[0];
	e[1].name = (const uint8_t *)"large";
	e[1].namelen = 5;
	e[1].size = 300000000;
	e[1].how = CF_FILE_LISTS;
	e[1].refs = &list;
	e[1].nrefs = 1;
	e[2].name = (const uint8_t *)"dir";
	e[2].namelen = 3;
	e[2].type = CF_TREE_DIR;
	e[2].mode = 0755;
	e[2].mtime_sec = -1;
	memcpy(e[2].subtree, a, 32);
	e[3].name = (const uint8_t *)"link";
	e[3].namelen = 4;
	e[3].type = CF_TREE_SYMLINK;
	e[3].mode = 0777;
	e[3].target = (const uint8_t *)"../target";
	e[3].targetlen = 9;
	if ((r = cf_tree_encode_leaf(e, 4, &buf, &len)) != 0)
		goto out;
	emit_hex("tree-leaf", buf, len);
out:
	free(buf);
	return r;
}

/*
 * A version-2 commit signed by keys from cf_keys_generate (FORMAT §13):
 * in format 1 (no top folder metadata, as every commit before format 2
 * was written) and in format 2, with the top folder's mode 0750 and
 * mtime 1700000000.123456789.
 */
static int
kat_commit(void)
{
	struct cf_device_keys *k = NULL;
	uint8_t k32[32], a[32], b[32], out[CF_COMMIT_BYTES], *delta = NULL;
	struct cf_commit c;
	size_t len = 0;
	int r;

	detrng_reset();
	inputs(k32, a, b);
	if ((r = cf_keys_generate(&k)) != 0 ||
	    (r = kat_delta_make(&delta, &len)) != 0)
		goto out;
	memset(&c, 0, sizeof(c));
	memcpy(c.drive_id, b, 32);
	c.version = 2;
	memcpy(c.parent_id, a, 32);
	memcpy(c.root_id, k32, 32);
	memcpy(c.author_id, k->device_id, 32);
	c.time = 1700000000;
	c.chain_seq = 1;
	memcpy(c.chain_head, a, 32);
	cf_delta_hash(delta, len, c.delta_hash);
	if ((r = cf_commit_sign(&c, k->sign_sk, out)) != 0)
		goto out;
	emit_hex("commit-signed", out, cf_commit_len(&c));
	c.has_root_meta = 1;
	c.root_mode = 0750;
	c.root_mtime_sec = 1700000000;
	c.root_mtime_nsec = 123456789;
	if ((r = cf_commit_sign(&c, k->sign_sk, out)) != 0)
		goto out;
	emit_hex("commit-v2-signed", out, cf_commit_len(&c));
out:
	free(delta);
	cf_keys_free(k);
	return r;
}

static int
kat_delta(void)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	detrng_reset();
	if ((r = kat_delta_make(&buf, &len)) == 0)
		emit_hex("delta", buf, len);
	free(buf);
	return r;
}

/*
 * After kat_genesis: add device B, remove it recording one drive head,
 * rotate, and register a new recovery key (secret: bytes 16..31 of k32).
 * Each entry is applied before the next is made.
 */
static int
kat_chain_more(void)
{
	struct kat_acct k;
	struct cf_device_keys *b = NULL;
	struct cf_recovery_keys rk2;
	struct cf_drive_head h;
	struct cf_signer s;
	uint8_t k32[32], ia[32], ib[32], pop[CF_SIG_BYTES], knew[CF_KEY_BYTES];
	uint8_t *e = NULL, *pin = NULL;
	size_t len = 0, pinlen = 0;
	int r;

	inputs(k32, ia, ib);
	if ((r = kat_genesis(&k)) != 0)
		goto out;
	if ((r = cf_chain_pin_encode(k.c, &pin, &pinlen)) != 0)
		goto out;
	emit_hex("chain-pin-genesis", pin, pinlen);
	memcpy(s.id, k.a->device_id, CF_ID_BYTES);
	s.sign_sk = k.a->sign_sk;
	if ((r = cf_keys_generate(&b)) != 0)
		goto out;
	cf_pop_sign(b, k.account_id, pop);
	if ((r = cf_entry_add(k.c, &s, b->sign_pk, b->box_pk, pop, "kat-phone",
	    9, k.k1, KAT_T0 + 1, &e, &len)) != 0 ||
	    (r = cf_chain_append(k.c, e, len)) != 0)
		goto out;
	free(e);
	e = NULL;
	memcpy(h.drive_id, ib, CF_ID_BYTES);
	h.version = 3;
	memcpy(h.commit_id, ia, CF_ID_BYTES);
	if ((r = cf_entry_remove(k.c, &s, b->device_id, &h, 1, KAT_T0 + 2,
	    knew, &e, &len)) != 0 || (r = cf_chain_append(k.c, e, len)) != 0)
		goto out;
	emit_hex("chain-remove-entry", e, len);
	free(e);
	e = NULL;
	if ((r = cf_entry_rotate(k.c, &s, KAT_T0 + 3, knew, &e, &len)) != 0 ||
	    (r = cf_chain_append(k.c, e, len)) != 0)
		goto out;
	emit_hex("chain-rotate-entry", e, len);
	free(e);
	e = NULL;
	if ((r = cf_recovery_derive(k32 + 16, k.account_id, &rk2)) != 0 ||
	    (r = cf_entry_set_rk(k.c, &s, &rk2, KAT_T0 + 4, knew, &e,
	    &len)) != 0 || (r = cf_chain_append(k.c, e, len)) != 0)
		goto out;
	emit_hex("chain-setrk-entry", e, len);
out:
	sodium_memzero(knew, sizeof(knew));
	sodium_memzero(&rk2, sizeof(rk2));
	free(e);
	free(pin);
	cf_keys_free(b);
	kat_acct_free(&k);
	return r;
}

/* A chunk list of two chunks: (k32, 1000), (id_a, 2000). */
static int
kat_list(void)
{
	uint8_t k32[32], a[32], b[32], *buf = NULL;
	struct cf_ref refs[2];
	size_t len = 0;
	int r;

	inputs(k32, a, b);
	memcpy(refs[0].id, k32, CF_ID_BYTES);
	refs[0].len = 1000;
	memcpy(refs[1].id, a, CF_ID_BYTES);
	refs[1].len = 2000;
	if ((r = cf_list_encode(refs, 2, &buf, &len)) == 0)
		emit_hex("list-object", buf, len);
	free(buf);
	return r;
}

/*
 * A grant (r = k32[0..5], account id_a, entry id_b at seq 1, directory 2
 * with hash k32, one drive) and the approval sealing it to the genesis
 * device of kat_genesis, signed by that device.
 */
static int
kat_approval(void)
{
	struct kat_acct k;
	struct cf_grant g;
	struct cf_drive_head h;
	uint8_t k32[32], a[32], b[32], *gb = NULL, *ap = NULL;
	size_t glen = 0, aplen = 0;
	int r;

	inputs(k32, a, b);
	memset(&g, 0, sizeof(g));
	memcpy(g.r, k32, CF_PAIR_R_BYTES);
	memcpy(g.account_id, a, CF_ID_BYTES);
	memcpy(g.entry_hash, b, CF_ID_BYTES);
	g.chain_seq = 1;
	g.dir_version = 2;
	memcpy(g.dir_hash, k32, CF_ID_BYTES);
	memset(h.drive_id, 0x01, CF_ID_BYTES);
	h.version = 4;
	memcpy(h.commit_id, b, CF_ID_BYTES);
	g.ndrives = 1;
	g.drives = &h;
	if ((r = cf_grant_encode(&g, &gb, &glen)) != 0)
		goto out;
	emit_hex("approval-grant", gb, glen);
	if ((r = kat_genesis(&k)) != 0)
		goto out2;
	if ((r = cf_approval_make_raw(k.a, a, k.a->device_id, k.a->box_pk, gb,
	    glen, &ap, &aplen)) != 0)
		goto out2;
	emit_hex("approval", ap, aplen);
out2:
	kat_acct_free(&k);
out:
	free(ap);
	cf_wipefree(gb, glen);
	return r;
}

struct kat_idx {
	uint8_t *last;
	size_t len;
	size_t nobj;
};

static int
kat_idx_emit(void *ctx, uint8_t type, const uint8_t *plain, size_t len,
    const uint8_t id[CF_ID_BYTES])
{
	struct kat_idx *k = ctx;

	(void)type;
	(void)id;
	free(k->last);
	if ((k->last = malloc(len)) == NULL)
		return COFFER_ENOMEM;
	memcpy(k->last, plain, len);
	k->len = len;
	k->nobj++;
	return 0;
}

/*
 * A directory of 5000 empty files named "f00000".."f04999" (mode 0644,
 * mtime 1700000000.5): too large for one leaf, so it is split
 * canonically (FORMAT §12); the vector is the index tree and its id under
 * the metadata-id key derived from k32.
 */
static int
kat_tree_index(void)
{
	uint8_t k32[32], a[32], b[32], idkey[CF_KEY_BYTES], root[CF_ID_BYTES];
	struct cf_tree_entry *e = NULL;
	char (*names)[8] = NULL;
	struct kat_idx k = { NULL, 0, 0 };
	char nparts[32];
	size_t i, n = 5000;
	int r;

	inputs(k32, a, b);
	cf_kdf_derive(idkey, k32, CF_KDF_META_ID, CF_LABEL_KDF_EPOCH);
	if ((e = calloc(n, sizeof(*e))) == NULL ||
	    (names = calloc(n, sizeof(*names))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "f%05zu", i);
		e[i].name = (const uint8_t *)names[i];
		e[i].namelen = 6;
		e[i].type = CF_TREE_FILE;
		e[i].mode = 0644;
		e[i].mtime_sec = 1700000000;
		e[i].mtime_nsec = 500000000;
	}
	if ((r = cf_tree_build(e, n, idkey, kat_idx_emit, &k, root)) != 0)
		goto out;
	snprintf(nparts, sizeof(nparts), "%zu", k.nobj - 1);
	emit("tree-index-parts", nparts);
	emit_hex("tree-index", k.last, k.len);
	emit_hex("tree-index-id", root, CF_ID_BYTES);
out:
	free(k.last);
	free(e);
	free(names);
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
	    (r = kat_chunker()) != 0 ||
	    (r = kat_chain_genesis()) != 0 || (r = kat_chain_add()) != 0 ||
	    (r = kat_envelope()) != 0 ||
	    (r = kat_pair_request()) != 0 || (r = kat_pair_code()) != 0 ||
	    (r = kat_safety_code()) != 0 || (r = kat_dir_record()) != 0 ||
	    (r = kat_tree_leaf()) != 0 || (r = kat_commit()) != 0 ||
	    (r = kat_delta()) != 0 ||
	    (r = kat_chain_more()) != 0 || (r = kat_list()) != 0 ||
	    (r = kat_approval()) != 0 || (r = kat_tree_index()) != 0)
		return r;
	return 0;
}

/* The bytes of vector ${name} (malloc'd), NULL if absent or not hex. */
static uint8_t *
vec_bytes(kat_vector_fn *vec, const char *name, size_t *lenp)
{
	char *h = vec(name);
	uint8_t *b = NULL;

	*lenp = 0;
	if (h != NULL)
		b = tu_unhex(h, lenp);
	free(h);
	return b;
}

/* The name of device ${id} of ${c}, opened with ${k1} (epoch 1), is ${want}. */
static int
name_is(const struct cf_chain *c, const uint8_t *id,
    const uint8_t k1[static CF_KEY_BYTES], const char *want)
{
	const struct cf_chain_device *d = cf_chain_device(c, id);
	char *name = NULL;
	size_t len = 0;
	int r;

	if (d == NULL || d->name_epoch != 1)
		return COFFER_ENOTAUTHENTIC;
	if ((r = cf_name_box_open(k1, c->account_id, 1, d->name_box,
	    d->name_box_len, &name, &len)) == 0 &&
	    (len != strlen(want) || memcmp(name, want, len) != 0))
		r = COFFER_ENOTAUTHENTIC;
	free(name);
	return r;
}

int
kat_read_unpadded(kat_vector_fn *vec)
{
	struct kat_acct k;
	struct cf_chain *c = NULL;
	struct cf_join_request req;
	uint8_t *g = NULL, *a = NULL, *q = NULL, r[CF_PAIR_R_BYTES];
	uint8_t t[CF_PAIR_T_BYTES], k32[32], ida[32], idb[32];
	char name[CF_DEVICE_NAME_MAX + 1], *code = NULL;
	size_t glen, alen, qlen, idx, nl;
	int rc;

	memset(&k, 0, sizeof(k));
	inputs(k32, ida, idb);
	g = vec_bytes(vec, "unpadded-chain-genesis-entry", &glen);
	a = vec_bytes(vec, "unpadded-chain-add-entry", &alen);
	q = vec_bytes(vec, "unpadded-pair-request", &qlen);
	code = vec("unpadded-pair-code");
	if (g == NULL || a == NULL || q == NULL || code == NULL) {
		rc = COFFER_ENOENT;
		goto out;
	}
	/* Epoch 1's key of the account (kat_genesis draws it before the box). */
	if ((rc = kat_genesis(&k)) != 0 || (rc = cf_chain_new(&c)) != 0)
		goto out;
	/* A box of the bare name, shorter than today's. */
	if ((rc = cf_chain_append(c, g, glen)) != 0 ||
	    (rc = name_is(c, k.a->device_id, k.k1, "kat-device")) != 0 ||
	    (rc = cf_chain_append(c, a, alen)) != 0 ||
	    (rc = name_is(c, c->devices[1].id, k.k1, "kat-phone")) != 0)
		goto out;
	if ((rc = cf_join_request_decode(q, qlen, &req)) != 0 ||
	    (rc = cf_pair_code_parse(code, strlen(code), r, t)) != 0 ||
	    (rc = cf_pair_match(ida, r, t, &req, 1, &idx, name, &nl)) != 0)
		goto out;
	if (req.enc_name_len >= CF_PAIR_ENC_NAME_MAX || nl != 9 ||
	    memcmp(name, "kat-phone", 9) != 0)
		rc = COFFER_ENOTAUTHENTIC;
out:
	free(g);
	free(a);
	free(q);
	free(code);
	cf_chain_free(c);
	kat_acct_free(&k);
	return rc;
}
