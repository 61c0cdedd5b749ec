/*
 * removed_dev: what a removed device can do with a copy of the server's
 * whole store (issue #6, tests/e2e/85-devices-offline.sh and
 * 86-devices-removed-signer.sh).  Linked to libcoffer, never installed.
 *
 * It plays the strongest removed device there is: one that kept its key
 * file (HOME/device.key, HOME/account) and was handed the server's data
 * folder (STORE/meta.db and STORE/packs/).  It checks nothing it does not
 * have to: it opens every envelope sealed to its box key whatever epoch
 * or entry it names, unwraps every drive secret and drive key of the
 * directory record that any epoch key it holds unwraps, and then tries
 * every stored object of the account under every key it got.
 *
 *   removed_dev open HOME STORE
 *       "epoch E" for each account key K_E it obtained; "secret DRIVE E"
 *       / "secret-sealed DRIVE E" for each drive secret (in force from
 *       epoch E) it could / could not unwrap; "key DRIVE E" /
 *       "key-sealed DRIVE E" likewise for the drive keys; then one line
 *       per stored object of the account:
 *         "open TYPE DRIVE ID"            (every check of FORMAT §6 passed)
 *         "sealed DRIVE ID key-known"     (its content key is one it has,
 *                                          yet it did not open)
 *         "sealed DRIVE ID key-unknown"   (sealed under a key it lacks)
 *   removed_dev chunk-id HOME STORE FILE
 *       the id FILE's bytes would have as one chunk (a file below the
 *       chunker's minimum is one chunk) under every chunk-id key it
 *       has: "chunkid DRIVE E ID" per drive secret.
 *   removed_dev envelope HOME STORE RECIPIENT_HEX OUT
 *       an envelope signed by this (removed) device for the entry that
 *       started the chain's current epoch, sealed to device RECIPIENT:
 *       the epoch keys it has, a random key for each it lacks.  What a
 *       server colluding with the removed device would serve.
 *
 * Exit 0 on success, 1 on any failure (with a message on stderr), 2 on a
 * usage error.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "coffer/coffer.h"
#include "chain/chain.h"
#include "chain/dir.h"
#include "client/state.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "crypto/wrap.h"
#include "object/object.h"
#include "util/buf.h"

#define RD_PATH_MAX	4096
#define RD_EPOCHS_MAX	4096
#define RD_ENV_MAX	(1U << 20)
#define RD_CTX_BYTES	(3 * CF_ID_BYTES + 8)

struct dkey {				/* a drive key this device unwrapped */
	uint8_t drive[CF_ID_BYTES];
	uint64_t epoch;
	uint8_t key_id[CF_ID_BYTES];
	uint8_t content[CF_KEY_BYTES];
	uint8_t meta_id[CF_KEY_BYTES];
};

struct dsec {				/* a drive secret this device unwrapped */
	uint8_t drive[CF_ID_BYTES];
	uint64_t epoch;
	uint8_t chunk_id[CF_KEY_BYTES];
};

struct rd {
	const char *store;
	sqlite3 *db;
	struct cf_device_keys *dev;
	uint8_t acct[CF_ID_BYTES];
	uint8_t (*ks)[CF_KEY_BYTES];	/* sodium_malloc'd; K_e at e - 1 */
	uint8_t *have;			/* have[e - 1]: K_e obtained */
	uint64_t nks;			/* highest epoch obtained */
	struct dkey *keys;		/* sodium_malloc'd */
	size_t nkeys;
	struct dsec *secs;		/* sodium_malloc'd */
	size_t nsecs;
};

static void
die(const char *what, int rc)
{
	fprintf(stderr, "removed_dev: %s: %s\n", what, rc != 0 ?
	    coffer_strerror(rc) : "failed");
	exit(1);
}

static int
usage(void)
{
	fprintf(stderr, "usage: removed_dev open HOME STORE | chunk-id HOME "
	    "STORE FILE | envelope HOME STORE RECIPIENT_HEX OUT\n");
	return 2;
}

static void
hex(const uint8_t *p, char out[static 2 * CF_ID_BYTES + 1])
{
	sodium_bin2hex(out, 2 * CF_ID_BYTES + 1, p, CF_ID_BYTES);
}

/* ---- The device's own files, and the store ---- */

static void
rd_open(struct rd *x, const char *home, const char *store)
{
	char path[RD_PATH_MAX];
	struct cf_account a;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc, loose;

	memset(x, 0, sizeof(*x));
	x->store = store;
	if ((rc = cf_state_read(home, CF_STATE_ACCOUNT, CF_ACCOUNT_FILE_MAX,
	    &buf, &len)) != 0 || (rc = cf_account_decode(buf, len, &a)) != 0)
		die("the home's account file", rc);
	free(buf);
	memcpy(x->acct, a.account_id, CF_ID_BYTES);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", home,
	    CF_STATE_KEYFILE) >= sizeof(path))
		die("home path too long", COFFER_EINVAL);
	if ((rc = cf_keyfile_read(path, NULL, 0, &x->dev, &loose)) != 0)
		die(path, rc);
	if ((size_t)snprintf(path, sizeof(path), "%s/meta.db", store) >=
	    sizeof(path))
		die("store path too long", COFFER_EINVAL);
	if (sqlite3_open_v2(path, &x->db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		die(path, COFFER_EIO);
	sqlite3_busy_timeout(x->db, 30000);
	if ((x->ks = sodium_allocarray(RD_EPOCHS_MAX, CF_KEY_BYTES)) == NULL ||
	    (x->have = calloc(RD_EPOCHS_MAX, 1)) == NULL)
		die("keys", COFFER_ENOMEM);
	memset(x->ks, 0, (size_t)RD_EPOCHS_MAX * CF_KEY_BYTES);
}

static void
rd_close(struct rd *x)
{
	sqlite3_close(x->db);
	sodium_free(x->ks);
	free(x->have);
	if (x->keys != NULL)
		sodium_free(x->keys);
	if (x->secs != NULL)
		sodium_free(x->secs);
	cf_keys_free(x->dev);
}

static sqlite3_stmt *
prep(struct rd *x, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "removed_dev: %s: %s\n", sql,
		    sqlite3_errmsg(x->db));
		exit(1);
	}
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_blob(st, 1, x->acct, CF_ID_BYTES, SQLITE_STATIC);
	return st;
}

/* ---- Epoch keys: every envelope of the account that opens ---- */

/*
 * One envelope (FORMAT §15), opened with no check but the seal itself:
 * the keys it carries go into x->ks.  Anything that does not parse or
 * open is skipped: it was not for this device.
 */
static void
take_envelope(struct rd *x, const uint8_t *env, size_t len)
{
	struct cf_rd r, k;
	const uint8_t *sealed;
	uint8_t *plain = NULL;
	uint32_t slen, n, i;
	uint64_t e;

	cf_rd_init(&r, env, len, COFFER_ENOTAUTHENTIC);
	cf_rd_expect(&r, "CFEV", 4);
	(void)cf_rd_u8(&r);
	(void)cf_rd_bytes(&r, CF_ID_BYTES);		/* account */
	(void)cf_rd_bytes(&r, CF_ID_BYTES);		/* entry hash */
	(void)cf_rd_u64(&r);				/* epoch */
	(void)cf_rd_bytes(&r, CF_ID_BYTES);		/* recipient */
	sealed = cf_rd_lstr(&r, RD_ENV_MAX, &slen);
	if (sealed == NULL || slen < crypto_box_SEALBYTES)
		return;
	if ((plain = sodium_malloc(slen)) == NULL)
		die("envelope", COFFER_ENOMEM);
	if (crypto_box_seal_open(plain, sealed, slen, x->dev->box_pk,
	    x->dev->box_sk) != 0)
		goto out;
	cf_rd_init(&k, plain, slen - crypto_box_SEALBYTES,
	    COFFER_ENOTAUTHENTIC);
	cf_rd_expect(&k, "CFEK", 4);
	(void)cf_rd_u8(&k);
	(void)cf_rd_bytes(&k, CF_ID_BYTES);
	(void)cf_rd_u64(&k);
	n = cf_rd_u32(&k);
	for (i = 0; i < n && cf_rd_left(&k) >= 8 + CF_KEY_BYTES; i++) {
		e = cf_rd_u64(&k);
		if (e == 0 || e > RD_EPOCHS_MAX) {
			cf_rd_fail(&k);
			break;
		}
		cf_rd_copy(&k, x->ks[e - 1], CF_KEY_BYTES);
		x->have[e - 1] = 1;
		if (e > x->nks)
			x->nks = e;
	}
out:
	sodium_free(plain);
}

static void
load_epoch_keys(struct rd *x)
{
	sqlite3_stmt *st = prep(x, "SELECT env FROM envelopes WHERE account = ?");

	while (sqlite3_step(st) == SQLITE_ROW)
		take_envelope(x, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
}

/* ---- Drive keys: whatever the directory record yields to those ---- */

static void
wrap_ctx(const uint8_t acct[static CF_ID_BYTES],
    const uint8_t drive[static CF_ID_BYTES], const uint8_t id[static CF_ID_BYTES],
    uint64_t epoch, uint8_t ctx[static RD_CTX_BYTES])
{
	memcpy(ctx, acct, CF_ID_BYTES);
	memcpy(ctx + CF_ID_BYTES, drive, CF_ID_BYTES);
	memcpy(ctx + 2 * CF_ID_BYTES, id, CF_ID_BYTES);
	cf_be64enc(ctx + 3 * CF_ID_BYTES, epoch);
}

static int
unwrap(struct rd *x, const struct cf_dir *d, const uint8_t *drive,
    const uint8_t *id, uint64_t epoch, const char *purpose,
    const uint8_t *wrapped, uint8_t out[static CF_KEY_BYTES])
{
	uint8_t ctx[RD_CTX_BYTES];

	if (epoch == 0 || epoch > RD_EPOCHS_MAX || !x->have[epoch - 1])
		return -1;
	wrap_ctx(d->account_id, drive, id, epoch, ctx);
	return cf_wrap_open(x->ks[epoch - 1], purpose, ctx, sizeof(ctx),
	    wrapped, CF_DIR_WRAPPED_BYTES, out, CF_KEY_BYTES) == 0 ? 0 : -1;
}

static void
load_drive_keys(struct rd *x, int print)
{
	sqlite3_stmt *st = prep(x, "SELECT record FROM dirs WHERE account = ? "
	    "ORDER BY version DESC LIMIT 1");
	struct cf_dir *d = NULL;
	const struct cf_dir_drive *v;
	uint8_t *k = NULL;
	char h[2 * CF_ID_BYTES + 1];
	size_t i, j, nk = 0, ns = 0;
	int rc;

	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 0) <= 0)
		die("no directory record in the store", COFFER_ENOENT);
	if ((rc = cf_dir_decode(sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0), &d)) != 0)
		die("directory decode", rc);
	sqlite3_finalize(st);
	for (i = 0; i < d->ndrives; i++) {
		nk += d->drives[i].nkeys;
		ns += d->drives[i].nsecrets;
	}
	if ((x->keys = sodium_allocarray(nk + 1, sizeof(*x->keys))) == NULL ||
	    (x->secs = sodium_allocarray(ns + 1, sizeof(*x->secs))) == NULL ||
	    (k = sodium_malloc(CF_KEY_BYTES)) == NULL)
		die("drive keys", COFFER_ENOMEM);
	for (i = 0; i < d->ndrives; i++) {
		v = &d->drives[i];
		hex(v->drive_id, h);
		for (j = 0; j < v->nsecrets; j++) {
			struct dsec *s = &x->secs[x->nsecs];

			if (unwrap(x, d, v->drive_id, v->secrets[j].id,
			    v->secrets[j].epoch, CF_LABEL_WRAP_SECRET,
			    v->secrets[j].wrapped, k) != 0) {
				if (print)
					printf("secret-sealed %s %" PRIu64 "\n",
					    h, v->secrets[j].epoch);
				continue;
			}
			memcpy(s->drive, v->drive_id, CF_ID_BYTES);
			s->epoch = v->secrets[j].epoch;
			cf_kdf_derive(s->chunk_id, k, CF_KDF_CHUNK_ID,
			    CF_LABEL_KDF_DRIVE);
			x->nsecs++;
			if (print)
				printf("secret %s %" PRIu64 "\n", h, s->epoch);
		}
		for (j = 0; j < v->nkeys; j++) {
			struct dkey *e = &x->keys[x->nkeys];

			if (unwrap(x, d, v->drive_id, v->keys[j].key_id,
			    v->keys[j].epoch, CF_LABEL_WRAP_EPOCH,
			    v->keys[j].wrapped, k) != 0) {
				if (print)
					printf("key-sealed %s %" PRIu64 "\n",
					    h, v->keys[j].epoch);
				continue;
			}
			memcpy(e->drive, v->drive_id, CF_ID_BYTES);
			e->epoch = v->keys[j].epoch;
			cf_kdf_derive(e->content, k, CF_KDF_CONTENT,
			    CF_LABEL_KDF_EPOCH);
			cf_kdf_derive(e->meta_id, k, CF_KDF_META_ID,
			    CF_LABEL_KDF_EPOCH);
			cf_key_id(e->content, e->key_id);
			x->nkeys++;
			if (print)
				printf("key %s %" PRIu64 "\n", h, e->epoch);
		}
	}
	sodium_free(k);
	cf_dir_free(d);
}

static void
load_all(struct rd *x, int print)
{
	uint64_t e;

	load_epoch_keys(x);
	for (e = 1; print && e <= x->nks; e++)
		if (x->have[e - 1])
			printf("epoch %" PRIu64 "\n", e);
	load_drive_keys(x, print);
}

/* ---- open: every stored object of the account ---- */

struct look {
	const struct dkey *k;
	const uint8_t *id_key;
};

static int
lookup(void *ctx, uint8_t type, const uint8_t key_id[static CF_ID_BYTES],
    struct cf_objkey *out)
{
	const struct look *l = ctx;

	(void)type;
	if (sodium_memcmp(key_id, l->k->key_id, CF_ID_BYTES) != 0)
		return COFFER_ENOTAUTHENTIC;
	memcpy(out->key_id, l->k->key_id, CF_ID_BYTES);
	memcpy(out->enc_key, l->k->content, CF_KEY_BYTES);
	memcpy(out->id_key, l->id_key, CF_KEY_BYTES);
	return 0;
}

static uint8_t *
pack_read(struct rd *x, int64_t pack, int64_t off, int64_t len)
{
	char path[RD_PATH_MAX];
	uint8_t *p;
	int fd;

	if (pack < 0 || off < 0 || len <= 0 || (uint64_t)len > CF_OBJ_BLOB_MAX)
		die("object row out of range", COFFER_EFORMAT);
	if ((size_t)snprintf(path, sizeof(path), "%s/packs/pack-%08" PRId64
	    ".pack", x->store, pack) >= sizeof(path))
		die("pack path", COFFER_EINVAL);
	if ((fd = open(path, O_RDONLY)) == -1)
		die(path, COFFER_EIO);
	if ((p = malloc((size_t)len)) == NULL)
		die("pack read", COFFER_ENOMEM);
	if (pread(fd, p, (size_t)len, (off_t)off) != (ssize_t)len)
		die(path, COFFER_EIO);
	close(fd);
	return p;
}

static const char *
type_name(uint8_t t)
{
	switch (t) {
	case CF_OBJ_CHUNK:	return "chunk";
	case CF_OBJ_TREE:	return "tree";
	case CF_OBJ_LIST:	return "list";
	case CF_OBJ_COMMIT:	return "commit";
	default:		return "?";
	}
}

/* The type the object opens as with some key this device has, or 0. */
static uint8_t
try_open(struct rd *x, const uint8_t *drive, const uint8_t *id,
    const uint8_t *blob, size_t len, int *known)
{
	static const uint8_t types[] = { CF_OBJ_COMMIT, CF_OBJ_TREE,
	    CF_OBJ_LIST, CF_OBJ_CHUNK };
	struct cf_objhdr h;
	struct look l;
	uint8_t *plain;
	size_t i, j, t, plen;

	*known = 0;
	if (cf_object_header(blob, len, &h) != 0)
		return 0;
	for (i = 0; i < x->nkeys; i++) {
		if (memcmp(x->keys[i].drive, drive, CF_ID_BYTES) != 0 ||
		    sodium_memcmp(x->keys[i].key_id, h.key_id, CF_ID_BYTES) != 0)
			continue;
		*known = 1;
		l.k = &x->keys[i];
		for (t = 0; t < sizeof(types); t++) {
			if (types[t] != CF_OBJ_CHUNK) {
				l.id_key = x->keys[i].meta_id;
				if (cf_object_open(blob, len, types[t], drive,
				    id, lookup, &l, &plain, &plen) == 0) {
					cf_wipefree(plain, plen);
					return types[t];
				}
				continue;
			}
			/* A chunk: under every chunk-id key of the drive. */
			for (j = 0; j < x->nsecs; j++) {
				if (memcmp(x->secs[j].drive, drive,
				    CF_ID_BYTES) != 0)
					continue;
				l.id_key = x->secs[j].chunk_id;
				if (cf_object_open(blob, len, CF_OBJ_CHUNK,
				    drive, id, lookup, &l, &plain, &plen) == 0) {
					cf_wipefree(plain, plen);
					return CF_OBJ_CHUNK;
				}
			}
		}
	}
	return 0;
}

static int
cmd_open(struct rd *x)
{
	sqlite3_stmt *st = prep(x, "SELECT o.drive, o.id, o.pack, o.off, "
	    "o.len FROM objects o JOIN drives d ON d.id = o.drive "
	    "WHERE d.account = ? ORDER BY o.drive, o.id");
	char hd[2 * CF_ID_BYTES + 1], hi[2 * CF_ID_BYTES + 1];
	const uint8_t *drive, *id;
	uint8_t *blob, t;
	size_t n = 0;
	int known;

	load_all(x, 1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != CF_ID_BYTES ||
		    sqlite3_column_bytes(st, 1) != CF_ID_BYTES)
			die("object row", COFFER_EFORMAT);
		drive = sqlite3_column_blob(st, 0);
		id = sqlite3_column_blob(st, 1);
		hex(drive, hd);
		hex(id, hi);
		blob = pack_read(x, sqlite3_column_int64(st, 2),
		    sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4));
		t = try_open(x, drive, id, blob,
		    (size_t)sqlite3_column_int64(st, 4), &known);
		if (t != 0)
			printf("open %s %s %s\n", type_name(t), hd, hi);
		else
			printf("sealed %s %s %s\n", hd, hi, known ?
			    "key-known" : "key-unknown");
		free(blob);
		n++;
	}
	sqlite3_finalize(st);
	if (n == 0)
		die("no object of the account in the store", COFFER_ENOENT);
	return 0;
}

/* ---- chunk-id ---- */

static int
cmd_chunk_id(struct rd *x, const char *file)
{
	char hd[2 * CF_ID_BYTES + 1], hi[2 * CF_ID_BYTES + 1];
	uint8_t id[CF_ID_BYTES], *p;
	size_t n, i;
	FILE *f;

	load_all(x, 0);
	if ((p = malloc(CF_OBJ_PLAIN_MAX)) == NULL)
		die("chunk", COFFER_ENOMEM);
	if ((f = fopen(file, "rb")) == NULL)
		die(file, COFFER_EIO);
	n = fread(p, 1, CF_OBJ_PLAIN_MAX, f);
	fclose(f);
	for (i = 0; i < x->nsecs; i++) {
		cf_object_id(x->secs[i].chunk_id, CF_OBJ_CHUNK, p, n, id);
		hex(x->secs[i].drive, hd);
		hex(id, hi);
		printf("chunkid %s %" PRIu64 " %s\n", hd, x->secs[i].epoch, hi);
	}
	free(p);
	return 0;
}

/* ---- envelope ---- */

static int
cmd_envelope(struct rd *x, const char *rhex, const char *out)
{
	sqlite3_stmt *st = prep(x, "SELECT entry FROM chain WHERE account = ? "
	    "ORDER BY seq");
	struct cf_chain *c = NULL;
	const struct cf_chain_epoch *ep;
	const struct cf_chain_device *rdev;
	struct cf_signer me;
	uint8_t **ents = NULL, rid[CF_ID_BYTES], *env = NULL;
	uint8_t (*keys)[CF_KEY_BYTES];
	size_t *lens = NULL, n = 0, len, rl = 0;
	uint64_t e, known = 0;
	FILE *f;
	int rc;

	if (strlen(rhex) != 2 * CF_ID_BYTES || sodium_hex2bin(rid, sizeof(rid),
	    rhex, strlen(rhex), NULL, &rl, NULL) != 0 || rl != CF_ID_BYTES)
		return usage();
	load_all(x, 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		ents = realloc(ents, (n + 1) * sizeof(*ents));
		lens = realloc(lens, (n + 1) * sizeof(*lens));
		if (ents == NULL || lens == NULL)
			die("chain", COFFER_ENOMEM);
		lens[n] = (size_t)sqlite3_column_bytes(st, 0);
		if ((ents[n] = malloc(lens[n] + 1)) == NULL)
			die("chain", COFFER_ENOMEM);
		memcpy(ents[n], sqlite3_column_blob(st, 0), lens[n]);
		n++;
	}
	sqlite3_finalize(st);
	if ((rc = cf_chain_new(&c)) != 0 ||
	    (rc = cf_chain_extend(c, (const uint8_t *const *)ents, lens, n,
	    0)) != 0)
		die("chain verify", rc);
	ep = cf_chain_current_epoch(c);
	if ((rdev = cf_chain_device(c, rid)) == NULL)
		die("no such recipient in the chain", COFFER_ENOENT);
	if (ep->epoch > RD_EPOCHS_MAX)
		die("epoch", COFFER_EINVAL);
	if ((keys = sodium_allocarray(ep->epoch, CF_KEY_BYTES)) == NULL)
		die("keys", COFFER_ENOMEM);
	for (e = 1; e <= ep->epoch; e++) {
		if (x->have[e - 1]) {
			memcpy(keys[e - 1], x->ks[e - 1], CF_KEY_BYTES);
			known++;
		} else {
			randombytes_buf(keys[e - 1], CF_KEY_BYTES);
		}
	}
	memcpy(me.id, x->dev->device_id, CF_ID_BYTES);
	me.sign_sk = x->dev->sign_sk;
	if ((rc = cf_envelope_make(c->account_id, ep->start_hash, &me,
	    ep->epoch, (const uint8_t (*)[CF_KEY_BYTES])keys, rid,
	    rdev->box_pk, &env, &len)) != 0)
		die("envelope make", rc);
	if ((f = fopen(out, "wb")) == NULL || fwrite(env, 1, len, f) != len ||
	    fclose(f) != 0)
		die(out, COFFER_EIO);
	printf("epoch %" PRIu64 "\nknown %" PRIu64 "\n", ep->epoch, known);
	sodium_free(keys);
	free(env);
	for (len = 0; len < n; len++)
		free(ents[len]);
	free(ents);
	free(lens);
	cf_chain_free(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct rd x;
	int rc;

	if (coffer_init() != 0)
		return 1;
	if (argc == 4 && !strcmp(argv[1], "open")) {
		rd_open(&x, argv[2], argv[3]);
		rc = cmd_open(&x);
	} else if (argc == 5 && !strcmp(argv[1], "chunk-id")) {
		rd_open(&x, argv[2], argv[3]);
		rc = cmd_chunk_id(&x, argv[4]);
	} else if (argc == 6 && !strcmp(argv[1], "envelope")) {
		rd_open(&x, argv[2], argv[3]);
		rc = cmd_envelope(&x, argv[4], argv[5]);
	} else {
		return usage();
	}
	rd_close(&x);
	return rc;
}
