/*
 * forge: crafts valid objects and chain entries for the adversarial tests
 * (DESIGN §10, issue #5).  Linked to libcoffer, never installed.
 *
 * It plays a malicious server that also happens to know a device's keys
 * where a test needs that (to seal a forged tree so that only the tree
 * parser can refuse it), and a stranger where it does not (a commit or a
 * chain entry signed by a key that is not in the chain).  It talks to the
 * server through the client library as the device whose key file is
 * $HOME_DIR/device.key (COFFER_PASSPHRASE_FILE if it is protected).
 *
 *   forge CTX info [--drive NAME]
 *       account_id, device_id, chain_length, epoch, dir_version and, with
 *       --drive, drive_id, head_version, head_commit: one "key value" a line
 *   forge CTX walk --drive NAME [--commit HEX]
 *       open the head commit (or HEX) and walk its version: "commit ID",
 *       "version N", "parent ID", "root ID", "author ID", "chain_seq N",
 *       "root_meta MODE SEC NSEC" (mode in octal; "root_meta none" for a
 *       commit in format 1), then one line per
 *       object: "tree ID DEPTH", "list ID DEPTH", "chunk ID LEN DEPTH"
 *   forge CTX raw (--drive NAME | --drive-id HEX) --id HEX --out FILE
 *       the object's stored bytes, unopened
 *   forge CTX open --drive NAME --type TYPE --id HEX [--out FILE]
 *       fetch and open the object (every check of FORMAT §6) and write its
 *       plaintext; exit 1 if it does not open
 *   forge CTX put (--drive NAME) --type chunk|tree|commit|list --in FILE
 *       [--epoch E]   seal FILE's bytes as an object of the drive, upload
 *       it and print its id
 *   forge CTX seal --drive NAME --type TYPE --in FILE --out BLOB [--epoch E]
 *       the same, but write the sealed blob to BLOB instead of uploading
 *   forge CTX put-raw (--drive NAME | --drive-id HEX) --id HEX --in FILE
 *       upload FILE's bytes as they are under the id HEX
 *   forge CTX commit --drive NAME --root HEX [--version N] [--parent HEX]
 *       [--ghost | --sign-key KEYFILE] [--start HEX]... [--no-head]
 *       [--chain-seq N]
 *       sign a commit in format 1 (FORMAT §13: no top folder metadata) (by
 *       this device, with --ghost by a fresh key that is
 *       not in the chain, or by the key in KEYFILE), seal it under the drive's current keys,
 *       upload it, and move the head to it by compare-and-swap with a
 *       reference delta that starts the given ids.  Prints "commit ID" and
 *       "version N".
 *   forge CTX ghost-entry --out FILE [--post]   (alias: entry-add-ghost)
 *       an add-device entry for the next seq, well formed (name box under
 *       the real epoch key, proof of possession) but signed by a fresh key
 *       that is not in the chain: a ghost device the server made up.
 *       --post also offers it to the server (which must refuse: exit 1)
 *   forge CTX rotate
 *       append a real rotate entry signed by this device (a new epoch) with
 *       an envelope for every recipient, as a trusted device would: a
 *       longer chain, so that an older one can be replayed afterwards
 *   forge CTX dir-resign --version N --out FILE
 *       the directory head with its version set to N, signed again by this
 *       device (prev_hash as it was): a record far ahead of every pin
 *       (84-directory-catchup.sh writes it straight into the server's store)
 *   forge CTX dir-put-size --size N
 *       a directory record of exactly N bytes, well formed for the server
 *       (FORMAT §16: filler drives with random ids, boxes and keys) and
 *       signed by this device as the next version, put to the server and,
 *       once stored, fetched back and compared byte for byte.  Prints
 *       "stored version V bytes N"; on a refusal "refused STATUS MESSAGE"
 *       and exit 1 (110-caps.sh)
 *   forge tree --out FILE --entry SPEC...
 *       a tree plaintext (FORMAT §12, leaf) with the entries in the order
 *       given and nothing checked: "..", "/", duplicates, disorder.  SPEC:
 *         file:NAME:MODE:MTIME[:ID/LEN,ID/LEN...]   (size = sum of LENs)
 *         lists:NAME:MODE:MTIME:SIZE:ID/N,ID/N...   (chunk lists, N chunks each)
 *         dir:NAME:MODE:MTIME:SUBTREE_ID
 *         link:NAME:TARGET
 *       MODE octal, MTIME [-]seconds[.nanoseconds]; in NAME and TARGET %XX is
 *       the byte XX (so %2F is "/", %3A is ":", %00 is NUL).
 *
 *   CTX = --server URL --home DIR --account NAME
 *
 * Exit 0 on success, 1 on any failure (with a message on stderr), 2 on a
 * usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chain/chain.h"
#include "chain/dir.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "net/net.h"
#include "net/frame.h"
#include "object/object.h"
#include "tree/tree.h"
#include "util/buf.h"
#include "util.h"

#define FORGE_ENTRIES_MAX	256
#define FORGE_START_MAX		1024
#define FORGE_PATH_MAX		4096
#define FORGE_FILE_MAX		(CF_OBJ_BLOB_MAX)
#define FORGE_TREE_MAX		(1U << 20)
#define FORGE_NAME_MAX		4096
#define FORGE_REFS_MAX		256
#define ENTRY_TAG		"CFCE"
#define ENTRY_PURPOSE		"coffer-entry-v1"

struct opts {
	const char *server, *home, *account, *drive, *drive_id, *id, *out, *in;
	const char *type, *root, *parent, *commit, *sign_key;
	const char *entries[FORGE_ENTRIES_MAX];
	size_t nentries;
	const char *starts[FORGE_START_MAX];
	size_t nstarts;
	uint64_t version, epoch, chain_seq, size;
	int have_size, have_version, have_epoch, have_chain_seq;
	int ghost, no_head, post;
};

struct ctx {
	struct cf_client *cl;
	struct cf_device_keys *dev;
	uint8_t acct[CF_ID_BYTES];
	struct cf_chain *chain;
	uint8_t (*ks)[CF_KEY_BYTES];
	uint64_t nks;
	uint64_t dir_version;
	struct cf_dir *dir;
	uint8_t drive[CF_ID_BYTES];
	int have_drive;
	struct cf_drive_keys *dk;
	uint64_t epoch;
};

static void
die(const char *what, int rc)
{
	fprintf(stderr, "forge: %s: %s\n", what, rc != 0 ? coffer_strerror(rc) :
	    "failed");
	exit(1);
}

static int cmd_dir_resign(struct ctx *x, const struct opts *o);
static int cmd_dir_put_size(struct ctx *x, const struct opts *o);

static void
usage(void)
{
	fprintf(stderr, "usage: forge [--server URL --home DIR --account NAME] "
	    "info|walk|raw|open|put|seal|put-raw|commit|ghost-entry|rotate|"
	    "dir-resign|dir-put-size|tree\n"
	    "(see the comment at the top of tests/forge.c)\n");
	exit(2);
}

static void
hexout(const char *key, const uint8_t *p, size_t n)
{
	char h[2 * CF_ID_BYTES + 1];

	if (n > CF_ID_BYTES)
		n = CF_ID_BYTES;
	sodium_bin2hex(h, sizeof(h), p, n);
	printf("%s %s\n", key, h);
}

static void
unhex32(const char *s, uint8_t out[static CF_ID_BYTES], const char *what)
{
	size_t n;

	if (s == NULL || strlen(s) != 2 * CF_ID_BYTES ||
	    sodium_hex2bin(out, CF_ID_BYTES, s, strlen(s), NULL, &n, NULL) != 0 ||
	    n != CF_ID_BYTES) {
		fprintf(stderr, "forge: %s: not 64 hex digits\n", what);
		exit(2);
	}
}

static uint64_t
num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || s[0] == '\0' || s[0] == '-') {
		fprintf(stderr, "forge: %s: not a number: %s\n", what, s);
		exit(2);
	}
	return (uint64_t)v;
}

static uint8_t *
readfile(const char *path, size_t *np)
{
	uint8_t *p = tu_readfile(path, np);

	if (p == NULL) {
		fprintf(stderr, "forge: cannot read %s\n", path);
		exit(1);
	}
	return p;
}

static void
writefile(const char *path, const uint8_t *p, size_t n)
{
	FILE *f;

	if ((f = fopen(path, "wb")) == NULL ||
	    (n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
		fprintf(stderr, "forge: cannot write %s\n", path);
		exit(1);
	}
}

/* ---- The device's view: chain, epoch keys, directory, drive keys ---- */

static void
ctx_open(struct ctx *x, const struct opts *o)
{
	char path[FORGE_PATH_MAX];
	char *pass = NULL;
	size_t passlen = 0, i;
	struct cf_blobs page, env;
	uint8_t **ents = NULL;
	size_t *lens = NULL, nents = 0;
	uint64_t length = 0;
	uint8_t *rec = NULL;
	size_t reclen = 0;
	int rc, loose;

	memset(x, 0, sizeof(*x));
	if (o->server == NULL || o->home == NULL || o->account == NULL)
		usage();
	if ((size_t)snprintf(path, sizeof(path), "%s/device.key", o->home) >=
	    sizeof(path))
		die("home path too long", COFFER_EINVAL);
	if (getenv("COFFER_PASSPHRASE_FILE") != NULL &&
	    (rc = cf_passphrase_read_file(getenv("COFFER_PASSPHRASE_FILE"),
	    &pass, &passlen)) != 0)
		die("passphrase", rc);
	if ((rc = cf_keyfile_read(path, pass, passlen, &x->dev, &loose)) != 0)
		die(path, rc);
	if (pass != NULL)
		cf_passphrase_free(pass, passlen);
	if ((rc = cf_client_new(o->server, &x->cl)) != 0)
		die("client", rc);
	if ((rc = cf_client_name_lookup(x->cl, o->account, x->acct)) != 0)
		die("account lookup", rc);
	if ((rc = cf_client_set_signer(x->cl, x->acct, x->dev->sign_pk,
	    x->dev->sign_sk, x->dev->box_pk)) != 0)
		die("signer", rc);

	/* The whole chain, page by page, verified from genesis. */
	do {
		memset(&page, 0, sizeof(page));
		if ((rc = cf_client_chain_get(x->cl, nents, &page, &length)) != 0)
			die("chain get", rc);
		if (page.n == 0)
			break;
		ents = realloc(ents, (nents + page.n) * sizeof(*ents));
		lens = realloc(lens, (nents + page.n) * sizeof(*lens));
		if (ents == NULL || lens == NULL)
			die("chain", COFFER_ENOMEM);
		for (i = 0; i < page.n; i++) {
			ents[nents + i] = page.p[i];
			lens[nents + i] = page.len[i];
			page.p[i] = NULL;
		}
		nents += page.n;
		cf_blobs_free(&page);
	} while (nents < length);
	if ((rc = cf_chain_new(&x->chain)) != 0 ||
	    (rc = cf_chain_extend(x->chain, (const uint8_t *const *)ents, lens,
	    nents, 0)) != 0)
		die("chain verify", rc);
	for (i = 0; i < nents; i++)
		free(ents[i]);
	free(ents);
	free(lens);
	x->epoch = cf_chain_current_epoch(x->chain)->epoch;

	/* Epoch keys from this device's envelope. */
	memset(&env, 0, sizeof(env));
	if ((rc = cf_client_envelopes_get(x->cl, x->dev->device_id, &env)) != 0)
		die("envelopes get", rc);
	rc = COFFER_ENOENT;
	for (i = 0; i < env.n && rc != 0; i++)
		rc = cf_envelope_open(x->chain, x->dev->device_id,
		    x->dev->box_pk, x->dev->box_sk, env.p[i], env.len[i],
		    &x->ks, &x->nks);
	cf_blobs_free(&env);
	if (rc != 0)
		die("envelope open", rc);

	/* The drive directory. */
	if ((rc = cf_client_dir_get(x->cl, &x->dir_version, &rec, &reclen)) != 0)
		die("directory get", rc);
	if (rec != NULL) {
		if ((rc = cf_dir_decode(rec, reclen, &x->dir)) != 0 ||
		    (rc = cf_dir_verify(x->chain, x->dir,
		    (const uint8_t (*)[CF_KEY_BYTES])x->ks, x->nks)) != 0)
			die("directory verify", rc);
		free(rec);
	}
	if (o->drive != NULL) {
		if (x->dir == NULL)
			die("no drive directory yet", COFFER_ENOENT);
		if ((rc = cf_dir_resolve(x->dir, o->drive, strlen(o->drive),
		    x->drive)) != 0)
			die(o->drive, rc);
		if ((rc = cf_dir_drive_keys(x->dir, x->drive,
		    (const uint8_t (*)[CF_KEY_BYTES])x->ks, x->nks, &x->dk)) != 0)
			die("drive keys", rc);
		x->have_drive = 1;
	} else if (o->drive_id != NULL) {
		unhex32(o->drive_id, x->drive, "--drive-id");
		x->have_drive = 1;
	}
}

static void
ctx_close(struct ctx *x)
{
	cf_drive_keys_free(x->dk);
	cf_dir_free(x->dir);
	if (x->ks != NULL)
		sodium_free(x->ks);
	cf_chain_free(x->chain);
	cf_client_free(x->cl);
	cf_keys_free(x->dev);
}

static void
need_drive(const struct ctx *x, int keys)
{
	if (!x->have_drive || (keys && x->dk == NULL)) {
		fprintf(stderr, "forge: needs --drive NAME%s\n",
		    keys ? "" : " or --drive-id HEX");
		exit(2);
	}
}

/* The stored bytes of one object (malloc'd). */
static uint8_t *
fetch(struct ctx *x, const uint8_t id[static CF_ID_BYTES], size_t *lenp)
{
	uint8_t *frame = NULL, *out, want[1][CF_ID_BYTES];
	struct cf_frame_item *it = NULL;
	size_t fl, n;
	int rc, trunc;

	memcpy(want[0], id, CF_ID_BYTES);
	if ((rc = cf_client_objects_get(x->cl, x->drive,
	    (const uint8_t (*)[CF_ID_BYTES])want, 1, &frame, &fl, &it, &n,
	    &trunc)) != 0)
		die("objects get", rc);
	if (n != 1)
		die("object not stored", COFFER_ENOENT);
	if ((out = malloc(it[0].len + 1)) == NULL)
		die("fetch", COFFER_ENOMEM);
	memcpy(out, it[0].data, it[0].len);
	*lenp = it[0].len;
	free(it);
	free(frame);
	return out;
}

static int
open_obj(struct ctx *x, uint8_t type, const uint8_t id[static CF_ID_BYTES],
    uint8_t **plainp, size_t *lenp)
{
	struct cf_dir_lookup lk;
	uint8_t *blob;
	size_t bl;
	int rc;

	lk.dk = x->dk;
	lk.max_epoch = x->epoch;
	blob = fetch(x, id, &bl);
	rc = cf_object_open(blob, bl, type, x->drive, id, cf_dir_lookup, &lk,
	    plainp, lenp);
	free(blob);
	return rc;
}

static void
upload(struct ctx *x, const uint8_t id[static CF_ID_BYTES], const uint8_t *p,
    size_t n)
{
	struct cf_frame_item it;
	uint64_t stored;
	int rc;

	it.id = id;
	it.data = p;
	it.len = n;
	if ((rc = cf_client_objects_put(x->cl, x->drive, &it, 1, &stored)) != 0)
		die("objects put", rc);
}

/* ---- info ---- */

static int
cmd_info(struct ctx *x)
{
	uint64_t v;
	uint8_t c[CF_ID_BYTES];
	int rc;

	hexout("account_id", x->acct, CF_ID_BYTES);
	hexout("device_id", x->dev->device_id, CF_ID_BYTES);
	printf("chain_length %" PRIu64 "\n", x->chain->n);
	hexout("chain_head", x->chain->hash[x->chain->n - 1], CF_ID_BYTES);
	printf("epoch %" PRIu64 "\n", x->epoch);
	printf("dir_version %" PRIu64 "\n", x->dir_version);
	if (x->have_drive) {
		hexout("drive_id", x->drive, CF_ID_BYTES);
		if ((rc = cf_client_head_get(x->cl, x->drive, &v, c)) != 0)
			die("head get", rc);
		printf("head_version %" PRIu64 "\n", v);
		hexout("head_commit", c, CF_ID_BYTES);
	}
	return 0;
}

/* ---- walk ---- */

static int
walk_load(void *ctx, uint8_t type, const uint8_t id[static CF_ID_BYTES],
    uint8_t **plainp, size_t *lenp)
{
	return open_obj(ctx, type, id, plainp, lenp);
}

static int
walk_visit(void *ctx, const struct cf_walk_item *it)
{
	char h[2 * CF_ID_BYTES + 1];

	(void)ctx;
	sodium_bin2hex(h, sizeof(h), it->id, CF_ID_BYTES);
	if (it->type == CF_OBJ_CHUNK)
		printf("chunk %s %" PRIu64 " %" PRIu32 "\n", h, it->len, it->depth);
	else
		printf("%s %s %" PRIu32 "\n", it->type == CF_OBJ_TREE ? "tree" :
		    "list", h, it->depth);
	return 0;
}

static int
cmd_walk(struct ctx *x, const struct opts *o)
{
	uint8_t cid[CF_ID_BYTES], *plain = NULL;
	size_t len;
	uint64_t v;
	struct cf_commit c;
	struct cf_walk_params p;
	int rc;

	need_drive(x, 1);
	if (o->commit != NULL) {
		unhex32(o->commit, cid, "--commit");
	} else {
		if ((rc = cf_client_head_get(x->cl, x->drive, &v, cid)) != 0)
			die("head get", rc);
		if (v == 0)
			die("the drive has no version yet", COFFER_ENOENT);
	}
	if ((rc = open_obj(x, CF_OBJ_COMMIT, cid, &plain, &len)) != 0)
		die("commit open", rc);
	if ((rc = cf_commit_decode(plain, len, &c)) != 0)
		die("commit decode", rc);
	free(plain);
	hexout("commit", cid, CF_ID_BYTES);
	printf("version %" PRIu64 "\n", c.version);
	hexout("parent", c.parent_id, CF_ID_BYTES);
	hexout("root", c.root_id, CF_ID_BYTES);
	hexout("author", c.author_id, CF_ID_BYTES);
	printf("chain_seq %" PRIu64 "\n", c.chain_seq);
	if (c.has_root_meta)
		printf("root_meta %o %" PRId64 " %" PRIu32 "\n", c.root_mode,
		    c.root_mtime_sec, c.root_mtime_nsec);
	else
		printf("root_meta none\n");
	memset(&p, 0, sizeof(p));
	p.load = walk_load;
	p.visit = walk_visit;
	p.ctx = x;
	if ((rc = cf_walk(c.root_id, &p)) != 0)
		die("walk", rc);
	return 0;
}

/* ---- raw, put, put-raw ---- */

static int
cmd_raw(struct ctx *x, const struct opts *o)
{
	uint8_t id[CF_ID_BYTES], *b;
	size_t n;

	need_drive(x, 0);
	if (o->out == NULL)
		usage();
	unhex32(o->id, id, "--id");
	b = fetch(x, id, &n);
	writefile(o->out, b, n);
	free(b);
	return 0;
}

static uint8_t type_of(const char *);

static int
cmd_open(struct ctx *x, const struct opts *o)
{
	uint8_t id[CF_ID_BYTES], *p = NULL;
	size_t n;
	int rc;

	need_drive(x, 1);
	unhex32(o->id, id, "--id");
	if ((rc = open_obj(x, type_of(o->type), id, &p, &n)) != 0)
		die("open", rc);
	if (o->out != NULL)
		writefile(o->out, p, n);
	free(p);
	return 0;
}

static uint8_t
type_of(const char *s)
{
	if (s == NULL)
		usage();
	if (!strcmp(s, "chunk"))
		return CF_OBJ_CHUNK;
	if (!strcmp(s, "tree"))
		return CF_OBJ_TREE;
	if (!strcmp(s, "commit"))
		return CF_OBJ_COMMIT;
	if (!strcmp(s, "list"))
		return CF_OBJ_LIST;
	fprintf(stderr, "forge: unknown type %s\n", s);
	exit(2);
}

static const char *seal_out;	/* forge seal: write the blob, no upload */

static void
seal_put(struct ctx *x, uint8_t type, uint64_t epoch, const uint8_t *p,
    size_t n, uint8_t id[static CF_ID_BYTES])
{
	struct cf_objkey k;
	uint8_t *blob = NULL;
	size_t bl;
	int rc;

	if ((rc = cf_drive_keys_objkey(x->dk, type, epoch, &k)) != 0)
		die("drive keys for that epoch", rc);
	if ((rc = cf_object_seal(&k, type, x->drive, p, n, 0, id, &blob,
	    &bl)) != 0)
		die("seal", rc);
	sodium_memzero(&k, sizeof(k));
	if (seal_out != NULL)
		writefile(seal_out, blob, bl);
	else
		upload(x, id, blob, bl);
	free(blob);
}

static int
cmd_put(struct ctx *x, const struct opts *o)
{
	uint8_t id[CF_ID_BYTES], *p;
	size_t n;

	need_drive(x, 1);
	if (o->in == NULL)
		usage();
	p = readfile(o->in, &n);
	seal_put(x, type_of(o->type), o->have_epoch ? o->epoch : x->epoch, p, n,
	    id);
	free(p);
	hexout("id", id, CF_ID_BYTES);
	return 0;
}

static int
cmd_put_raw(struct ctx *x, const struct opts *o)
{
	uint8_t id[CF_ID_BYTES], *p;
	size_t n;

	need_drive(x, 0);
	if (o->in == NULL)
		usage();
	unhex32(o->id, id, "--id");
	p = readfile(o->in, &n);
	upload(x, id, p, n);
	free(p);
	hexout("id", id, CF_ID_BYTES);
	return 0;
}

/* ---- commit ---- */

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, CF_ID_BYTES);
}

static int
cmd_commit(struct ctx *x, const struct opts *o)
{
	struct cf_commit c;
	struct cf_device_keys *ghost = NULL;
	const struct cf_device_keys *author;
	struct cf_delta d;
	uint8_t hv_commit[CF_ID_BYTES], enc[CF_COMMIT_BYTES], cid[CF_ID_BYTES];
	uint8_t *delta = NULL, *ids = NULL;
	size_t dl, i, n = 0;
	uint64_t hv, cur;
	int rc;

	need_drive(x, 1);
	if (o->root == NULL)
		usage();
	if ((rc = cf_client_head_get(x->cl, x->drive, &hv, hv_commit)) != 0)
		die("head get", rc);
	memset(&c, 0, sizeof(c));
	memcpy(c.drive_id, x->drive, CF_ID_BYTES);
	c.version = o->have_version ? o->version : hv + 1;
	if (o->parent != NULL)
		unhex32(o->parent, c.parent_id, "--parent");
	else if (c.version > 1)
		memcpy(c.parent_id, hv_commit, CF_ID_BYTES);
	unhex32(o->root, c.root_id, "--root");
	author = x->dev;
	if (o->ghost) {
		if ((rc = cf_keys_generate(&ghost)) != 0)
			die("keys", rc);
		author = ghost;
	} else if (o->sign_key != NULL) {
		if ((rc = cf_keyfile_read(o->sign_key, NULL, 0, &ghost, NULL)) != 0)
			die(o->sign_key, rc);
		author = ghost;
	}
	memcpy(c.author_id, author->device_id, CF_ID_BYTES);
	c.time = (uint64_t)time(NULL);
	c.chain_seq = o->have_chain_seq ? o->chain_seq : x->chain->n - 1;
	if (c.chain_seq >= x->chain->n)
		die("--chain-seq beyond the chain", COFFER_EINVAL);
	memcpy(c.chain_head, x->chain->hash[c.chain_seq], CF_ID_BYTES);

	/* The reference delta: start the given ids (sorted, unique). */
	if (o->nstarts > 0 && (ids = malloc(o->nstarts * CF_ID_BYTES)) == NULL)
		die("delta", COFFER_ENOMEM);
	for (i = 0; i < o->nstarts; i++)
		unhex32(o->starts[i], ids + i * CF_ID_BYTES, "--start");
	if (o->nstarts > 0)
		qsort(ids, o->nstarts, CF_ID_BYTES, cmp_id);
	for (i = 0; i < o->nstarts; i++)
		if (n == 0 || memcmp(ids + (n - 1) * CF_ID_BYTES,
		    ids + i * CF_ID_BYTES, CF_ID_BYTES) != 0)
			memmove(ids + n++ * CF_ID_BYTES, ids + i * CF_ID_BYTES,
			    CF_ID_BYTES);
	memset(&d, 0, sizeof(d));
	d.start.ids = ids;
	d.start.n = n;
	if ((rc = cf_delta_encode(&d, &delta, &dl)) != 0)
		die("delta encode", rc);
	cf_delta_hash(delta, dl, c.delta_hash);

	if ((rc = cf_commit_sign(&c, author->sign_sk, enc)) != 0)
		die("commit sign", rc);
	seal_put(x, CF_OBJ_COMMIT, cf_chain_epoch_at(x->chain, c.chain_seq),
	    enc, cf_commit_len(&c), cid);
	if (!o->no_head && (rc = cf_client_head_put(x->cl, x->drive, hv, cid,
	    delta, dl, &cur)) != 0)
		die("head put", rc);
	hexout("commit", cid, CF_ID_BYTES);
	printf("version %" PRIu64 "\n", c.version);
	free(delta);
	free(ids);
	cf_keys_free(ghost);
	return 0;
}

/* ---- ghost-entry ---- */

static int
cmd_ghost_entry(struct ctx *x, const struct opts *o)
{
	struct cf_device_keys *signer = NULL, *nd = NULL;
	struct cf_wr w, body;
	uint8_t pop[CF_SIG_BYTES], sig[CF_SIG_BYTES], *nb = NULL, *b = NULL;
	uint8_t *e = NULL, *m = NULL;
	size_t nbl, bl, el, ml;
	uint64_t seq = x->chain->n, t = (uint64_t)time(NULL), last;
	int rc;

	if (o->out == NULL)
		usage();
	last = x->chain->entry_time[x->chain->n - 1];	/* ghost-entry */
	if (t < last)
		t = last;
	if ((rc = cf_keys_generate(&signer)) != 0 ||
	    (rc = cf_keys_generate(&nd)) != 0)
		die("keys", rc);
	cf_pop_sign(nd, x->acct, pop);
	if ((rc = cf_name_box_seal(x->ks[x->epoch - 1], x->acct, x->epoch,
	    "ghost", 5, &nb, &nbl)) != 0)
		die("name box", rc);
	cf_wr_init(&body, 1U << 16, 0);
	cf_wr_bytes(&body, nd->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(&body, nd->box_pk, CF_BOX_PK_BYTES);
	cf_wr_u64(&body, x->epoch);
	cf_wr_lstr(&body, nb, nbl);
	cf_wr_bytes(&body, pop, CF_SIG_BYTES);
	if ((rc = cf_wr_finish(&body, &b, &bl)) != 0)
		die("body", rc);

	cf_wr_init(&w, 1U << 17, 0);
	cf_wr_bytes(&w, ENTRY_PURPOSE, strlen(ENTRY_PURPOSE));
	cf_wr_bytes(&w, ENTRY_TAG, 4);
	cf_wr_u8(&w, 1);
	cf_wr_bytes(&w, x->acct, CF_ID_BYTES);
	cf_wr_u64(&w, seq);
	cf_wr_bytes(&w, x->chain->hash[seq - 1], CF_ID_BYTES);
	cf_wr_u8(&w, CF_ENTRY_ADD);
	cf_wr_bytes(&w, signer->device_id, CF_ID_BYTES);
	cf_wr_u64(&w, t);
	cf_wr_lstr(&w, b, bl);
	if ((rc = cf_wr_finish(&w, &m, &ml)) != 0)
		die("entry", rc);
	crypto_sign_detached(sig, NULL, m, ml, signer->sign_sk);
	el = ml - strlen(ENTRY_PURPOSE) + CF_SIG_BYTES;
	if ((e = malloc(el)) == NULL)
		die("entry", COFFER_ENOMEM);
	memcpy(e, m + strlen(ENTRY_PURPOSE), ml - strlen(ENTRY_PURPOSE));
	memcpy(e + ml - strlen(ENTRY_PURPOSE), sig, CF_SIG_BYTES);
	writefile(o->out, e, el);
	if (o->post) {
		uint64_t len;

		if ((rc = cf_client_chain_append(x->cl, seq, e, el, NULL, 0,
		    &len)) != 0)
			die("the server refused the ghost entry", rc);
		printf("posted %" PRIu64 "\n", len);
	}
	hexout("ghost_signer", signer->device_id, CF_ID_BYTES);
	hexout("ghost_device", nd->device_id, CF_ID_BYTES);
	printf("seq %" PRIu64 "\n", seq);
	free(e);
	free(m);
	free(b);
	free(nb);
	cf_keys_free(signer);
	cf_keys_free(nd);
	return 0;
}

/* ---- rotate ---- */

static int
cmd_rotate(struct ctx *x)
{
	struct cf_signer sg;
	struct cf_chain *c2 = NULL;
	const struct cf_chain_epoch *ep;
	const struct cf_chain_device *dv;
	const struct cf_chain_rk *rk;
	struct cf_blobs envs;
	uint8_t knew[CF_KEY_BYTES], h[CF_ID_BYTES], (*keys)[CF_KEY_BYTES];
	uint8_t *e = NULL;
	const uint8_t *box;
	size_t el, i;
	uint64_t len, t = (uint64_t)time(NULL);
	int rc;

	if (t < x->chain->entry_time[x->chain->n - 1])
		t = x->chain->entry_time[x->chain->n - 1];
	memcpy(sg.id, x->dev->device_id, CF_ID_BYTES);
	sg.sign_sk = x->dev->sign_sk;
	if ((rc = cf_entry_rotate(x->chain, &sg, t, knew, &e, &el)) != 0)
		die("rotate entry", rc);
	if ((rc = cf_chain_clone(x->chain, &c2)) != 0 ||
	    (rc = cf_chain_append(c2, e, el)) != 0)
		die("rotate verify", rc);
	cf_entry_hash(e, el, h);
	ep = cf_chain_current_epoch(c2);
	if ((keys = sodium_malloc((x->nks + 1) * CF_KEY_BYTES)) == NULL)
		die("rotate", COFFER_ENOMEM);
	memcpy(keys, x->ks, x->nks * CF_KEY_BYTES);
	memcpy(keys[x->nks], knew, CF_KEY_BYTES);
	memset(&envs, 0, sizeof(envs));
	if ((envs.p = calloc(ep->nrecip, sizeof(*envs.p))) == NULL ||
	    (envs.len = calloc(ep->nrecip, sizeof(*envs.len))) == NULL)
		die("rotate", COFFER_ENOMEM);
	rk = cf_chain_current_rk(c2);
	for (i = 0; i < ep->nrecip; i++) {
		if ((dv = cf_chain_device(c2, ep->recip[i])) != NULL)
			box = dv->box_pk;
		else if (rk != NULL && !memcmp(rk->id, ep->recip[i], CF_ID_BYTES))
			box = rk->box_pk;
		else
			die("rotate: unknown recipient", COFFER_EINTERNAL);
		if ((rc = cf_envelope_make(x->acct, h, &sg, ep->epoch,
		    (const uint8_t (*)[CF_KEY_BYTES])keys, ep->recip[i], box,
		    &envs.p[i], &envs.len[i])) != 0)
			die("envelope", rc);
		envs.n++;
	}
	if ((rc = cf_client_chain_append(x->cl, x->chain->n, e, el, &envs, 0,
	    &len)) != 0)
		die("chain append", rc);
	printf("chain_length %" PRIu64 "\n", len);
	printf("epoch %" PRIu64 "\n", ep->epoch);
	sodium_memzero(knew, sizeof(knew));
	sodium_free(keys);
	cf_blobs_free(&envs);
	cf_chain_free(c2);
	free(e);
	return 0;
}

/* ---- tree (no server) ---- */

/* Decode %XX escapes of ${s} up to ${end} into ${out}; returns the length. */
static size_t
unescape(const char *s, const char *end, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int v;

	while (s < end) {
		if (n == cap) {
			fprintf(stderr, "forge: name too long\n");
			exit(2);
		}
		if (*s == '%' && end - s >= 3 && sscanf(s + 1, "%2x", &v) == 1) {
			out[n++] = (uint8_t)v;
			s += 3;
		} else {
			out[n++] = (uint8_t)*s++;
		}
	}
	return n;
}

static void
mtime_of(const char *s, const char *end, uint64_t *sec, uint32_t *nsec)
{
	char buf[64];
	const char *dot;
	size_t n = (size_t)(end - s);

	if (n == 0 || n >= sizeof(buf))
		usage();
	memcpy(buf, s, n);
	buf[n] = '\0';
	*nsec = 0;
	if ((dot = strchr(buf, '.')) != NULL) {
		/* A decimal fraction: ".5" is 500000000 ns; up to 9 digits. */
		char frac[10] = "000000000";
		size_t fl = strlen(dot + 1);

		if (fl == 0 || fl > 9)
			usage();
		memcpy(frac, dot + 1, fl);
		buf[dot - buf] = '\0';
		*nsec = (uint32_t)num(frac, "mtime nanoseconds");
	}
	if (buf[0] == '-')
		*sec = (uint64_t)0 - num(buf + 1, "mtime");	/* two's complement */
	else
		*sec = num(buf, "mtime");
}

static uint32_t
mode_of(const char *s, const char *end)
{
	unsigned long v = 0;

	if (s == end)
		usage();
	for (; s < end; s++) {
		if (*s < '0' || *s > '7' || v > 07777)
			usage();
		v = v * 8 + (unsigned long)(*s - '0');
	}
	return (uint32_t)v;
}

/* The next ':'-separated field of [*sp, end). */
static const char *
field(const char **sp, const char *end, const char **fend)
{
	const char *s = *sp, *c = memchr(s, ':', (size_t)(end - s));

	*fend = c != NULL ? c : end;
	*sp = c != NULL ? c + 1 : end;
	return s;
}

static void
tree_entry(struct cf_wr *w, const char *spec)
{
	const char *s = spec, *end = spec + strlen(spec), *f, *fe;
	uint8_t name[FORGE_NAME_MAX], id[CF_ID_BYTES];
	char hex[2 * CF_ID_BYTES + 1];
	size_t nl, k = 0, i;
	uint32_t mode, nsec, lens[FORGE_REFS_MAX];
	uint8_t ids[FORGE_REFS_MAX][CF_ID_BYTES];
	uint64_t sec, size = 0;
	int type = 0, how = CF_FILE_CHUNKS;	/* usage() exits */

	f = field(&s, end, &fe);
	if ((size_t)(fe - f) == 4 && !memcmp(f, "file", 4))
		type = CF_TREE_FILE;
	else if ((size_t)(fe - f) == 5 && !memcmp(f, "lists", 5)) {
		type = CF_TREE_FILE;
		how = CF_FILE_LISTS;
	}
	else if ((size_t)(fe - f) == 3 && !memcmp(f, "dir", 3))
		type = CF_TREE_DIR;
	else if ((size_t)(fe - f) == 4 && !memcmp(f, "link", 4))
		type = CF_TREE_SYMLINK;
	else
		usage();
	f = field(&s, end, &fe);
	nl = unescape(f, fe, name, sizeof(name));
	cf_wr_lstr(w, name, nl);
	cf_wr_u8(w, (uint8_t)type);
	if (type == CF_TREE_SYMLINK) {
		nl = unescape(s, end, name, sizeof(name));
		cf_wr_u32(w, 0777);
		cf_wr_u64(w, 0);
		cf_wr_u32(w, 0);
		cf_wr_u64(w, 0);
		cf_wr_lstr(w, name, nl);
		return;
	}
	f = field(&s, end, &fe);
	mode = mode_of(f, fe);
	f = field(&s, end, &fe);
	mtime_of(f, fe, &sec, &nsec);
	if (type == CF_TREE_DIR) {
		f = field(&s, end, &fe);
		if ((size_t)(fe - f) != 2 * CF_ID_BYTES)
			usage();
		memcpy(hex, f, 2 * CF_ID_BYTES);
		hex[2 * CF_ID_BYTES] = '\0';
		unhex32(hex, id, "subtree id");
		cf_wr_u32(w, mode);
		cf_wr_u64(w, sec);
		cf_wr_u32(w, nsec);
		cf_wr_u64(w, 0);
		cf_wr_bytes(w, id, CF_ID_BYTES);
		return;
	}
	/* lists: SIZE:ID/N,ID/N...; file: ID/LEN,ID/LEN... */
	if (how == CF_FILE_LISTS) {
		char sbuf[32];

		f = field(&s, end, &fe);
		if ((size_t)(fe - f) >= sizeof(sbuf))
			usage();
		memcpy(sbuf, f, (size_t)(fe - f));
		sbuf[fe - f] = '\0';
		size = num(sbuf, "size");
	}
	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *ce = comma != NULL ? comma : end;
		char lbuf[16];
		size_t ll;

		if (k == FORGE_REFS_MAX || ce - s < 2 * CF_ID_BYTES + 2 ||
		    s[2 * CF_ID_BYTES] != '/')
			usage();
		memcpy(hex, s, 2 * CF_ID_BYTES);
		hex[2 * CF_ID_BYTES] = '\0';
		unhex32(hex, ids[k], "chunk id");
		ll = (size_t)(ce - s) - 2 * CF_ID_BYTES - 1;
		if (ll >= sizeof(lbuf))
			usage();
		memcpy(lbuf, s + 2 * CF_ID_BYTES + 1, ll);
		lbuf[ll] = '\0';
		lens[k] = (uint32_t)num(lbuf, "chunk length");
		if (how == CF_FILE_CHUNKS)
			size += lens[k];
		k++;
		s = comma != NULL ? comma + 1 : end;
	}
	cf_wr_u32(w, mode);
	cf_wr_u64(w, sec);
	cf_wr_u32(w, nsec);
	cf_wr_u64(w, size);
	cf_wr_u8(w, (uint8_t)how);
	cf_wr_u32(w, (uint32_t)k);
	for (i = 0; i < k; i++) {
		cf_wr_bytes(w, ids[i], CF_ID_BYTES);
		cf_wr_u32(w, lens[i]);
	}
}

static int
cmd_tree(const struct opts *o)
{
	struct cf_wr w;
	uint8_t *p = NULL;
	size_t n, i;
	int rc;

	if (o->out == NULL)
		usage();
	cf_wr_init(&w, FORGE_TREE_MAX, 0);
	cf_wr_bytes(&w, CF_TREE_TAG, 4);
	cf_wr_u8(&w, CF_TREE_VERSION);
	cf_wr_u8(&w, CF_TREE_LEAF);
	cf_wr_u32(&w, (uint32_t)o->nentries);
	for (i = 0; i < o->nentries; i++)
		tree_entry(&w, o->entries[i]);
	if ((rc = cf_wr_finish(&w, &p, &n)) != 0)
		die("tree", rc);
	writefile(o->out, p, n);
	free(p);
	return 0;
}

/* ---- main ---- */

static const char *
val(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		usage();
	return argv[++*i];
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct ctx x;
	const char *cmd = NULL;
	int i, rc;

	memset(&o, 0, sizeof(o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--server"))
			o.server = val(argc, argv, &i);
		else if (!strcmp(a, "--home"))
			o.home = val(argc, argv, &i);
		else if (!strcmp(a, "--account"))
			o.account = val(argc, argv, &i);
		else if (!strcmp(a, "--drive"))
			o.drive = val(argc, argv, &i);
		else if (!strcmp(a, "--drive-id"))
			o.drive_id = val(argc, argv, &i);
		else if (!strcmp(a, "--id"))
			o.id = val(argc, argv, &i);
		else if (!strcmp(a, "--out"))
			o.out = val(argc, argv, &i);
		else if (!strcmp(a, "--in"))
			o.in = val(argc, argv, &i);
		else if (!strcmp(a, "--type"))
			o.type = val(argc, argv, &i);
		else if (!strcmp(a, "--root"))
			o.root = val(argc, argv, &i);
		else if (!strcmp(a, "--parent"))
			o.parent = val(argc, argv, &i);
		else if (!strcmp(a, "--commit"))
			o.commit = val(argc, argv, &i);
		else if (!strcmp(a, "--sign-key"))
			o.sign_key = val(argc, argv, &i);
		else if (!strcmp(a, "--size")) {
			o.size = num(val(argc, argv, &i), "--size");
			o.have_size = 1;
		} else if (!strcmp(a, "--version")) {
			o.version = num(val(argc, argv, &i), "--version");
			o.have_version = 1;
		} else if (!strcmp(a, "--epoch")) {
			o.epoch = num(val(argc, argv, &i), "--epoch");
			o.have_epoch = 1;
		} else if (!strcmp(a, "--chain-seq")) {
			o.chain_seq = num(val(argc, argv, &i), "--chain-seq");
			o.have_chain_seq = 1;
		} else if (!strcmp(a, "--ghost"))
			o.ghost = 1;
		else if (!strcmp(a, "--no-head"))
			o.no_head = 1;
		else if (!strcmp(a, "--post"))
			o.post = 1;
		else if (!strcmp(a, "--entry")) {
			if (o.nentries == FORGE_ENTRIES_MAX)
				usage();
			o.entries[o.nentries++] = val(argc, argv, &i);
		} else if (!strcmp(a, "--start")) {
			if (o.nstarts == FORGE_START_MAX)
				usage();
			o.starts[o.nstarts++] = val(argc, argv, &i);
		} else if (a[0] == '-' || cmd != NULL)
			usage();
		else
			cmd = a;
	}
	if (cmd == NULL)
		usage();
	if (coffer_init() != 0)
		die("libsodium", COFFER_EINTERNAL);
	if (!strcmp(cmd, "tree"))
		return cmd_tree(&o);
	if (strcmp(cmd, "info") && strcmp(cmd, "walk") && strcmp(cmd, "raw") &&
	    strcmp(cmd, "put") && strcmp(cmd, "put-raw") &&
	    strcmp(cmd, "commit") && strcmp(cmd, "ghost-entry") &&
	    strcmp(cmd, "open") && strcmp(cmd, "rotate") &&
	    strcmp(cmd, "seal") && strcmp(cmd, "entry-add-ghost") &&
	    strcmp(cmd, "dir-resign") && strcmp(cmd, "dir-put-size"))
		usage();
	ctx_open(&x, &o);
	if (!strcmp(cmd, "info"))
		rc = cmd_info(&x);
	else if (!strcmp(cmd, "walk"))
		rc = cmd_walk(&x, &o);
	else if (!strcmp(cmd, "raw"))
		rc = cmd_raw(&x, &o);
	else if (!strcmp(cmd, "open"))
		rc = cmd_open(&x, &o);
	else if (!strcmp(cmd, "rotate"))
		rc = cmd_rotate(&x);
	else if (!strcmp(cmd, "put"))
		rc = cmd_put(&x, &o);
	else if (!strcmp(cmd, "seal")) {
		if (o.out == NULL)
			usage();
		seal_out = o.out;
		rc = cmd_put(&x, &o);
	} else if (!strcmp(cmd, "put-raw"))
		rc = cmd_put_raw(&x, &o);
	else if (!strcmp(cmd, "commit"))
		rc = cmd_commit(&x, &o);
	else if (!strcmp(cmd, "dir-resign"))
		rc = cmd_dir_resign(&x, &o);
	else if (!strcmp(cmd, "dir-put-size"))
		rc = cmd_dir_put_size(&x, &o);
	else
		rc = cmd_ghost_entry(&x, &o);
	ctx_close(&x);
	return rc;
}

/* The directory head again, as version --version, signed by this device. */
static int
cmd_dir_resign(struct ctx *x, const struct opts *o)
{
	uint8_t *rec = NULL;
	size_t len = 0;
	int rc;

	if (o->out == NULL || !o->have_version || x->dir == NULL)
		usage();
	x->dir->version = o->version;
	if ((rc = cf_dir_encode(x->dir, x->dev, &rec, &len)) != 0)
		die("directory encode", rc);
	writefile(o->out, rec, len);
	free(rec);
	return 0;
}

/* FORMAT §16: bytes of a record without drives, of a drive without its
 * secrets and keys, of one secret or key. */
#define DIR_FIXED	(4 + 1 + 32 + 8 + 32 + 32 + 8 + 8 + 32 + 4 + 64)
#define DIR_DRIVE	(32 + 8 + 296 + 4 + 4)
#define DIR_ITEM	(32 + 8 + 77)
#define DIR_DRIVES	4096
#define DIR_ITEMS	(256 + 16384)	/* secrets and keys of one drive */

/* Random bytes, and the drive ids strictly increasing. */
static void
dir_filler(struct cf_wr *w, size_t d, size_t items)
{
	uint8_t id[32], box[296], wrapped[77];
	size_t i, j, m, k, per = items / d;

	for (i = 0; i < d; i++) {
		randombytes_buf(id, sizeof(id));
		id[0] = (uint8_t)(i >> 8);
		id[1] = (uint8_t)i;
		randombytes_buf(box, sizeof(box));
		cf_wr_bytes(w, id, sizeof(id));
		cf_wr_u64(w, 1);
		cf_wr_bytes(w, box, sizeof(box));
		m = i + 1 < d ? per : items - per * (d - 1);
		k = m > 256 ? m - 256 : 0;
		m -= k;
		cf_wr_u32(w, (uint32_t)m);
		for (j = 0; j < m; j++) {
			randombytes_buf(id, sizeof(id));
			randombytes_buf(wrapped, sizeof(wrapped));
			cf_wr_bytes(w, id, sizeof(id));
			cf_wr_u64(w, j + 1);
			cf_wr_bytes(w, wrapped, sizeof(wrapped));
		}
		cf_wr_u32(w, (uint32_t)k);
		for (j = 0; j < k; j++) {
			randombytes_buf(id, sizeof(id));
			randombytes_buf(wrapped, sizeof(wrapped));
			cf_wr_u64(w, j + 1);
			cf_wr_bytes(w, id, sizeof(id));
			cf_wr_bytes(w, wrapped, sizeof(wrapped));
		}
	}
}

static int
cmd_dir_put_size(struct ctx *x, const struct opts *o)
{
	static const char purpose[] = "coffer-dir-v1";
	const size_t plen = sizeof(purpose) - 1;
	struct cf_wr w;
	uint8_t *buf = NULL, *back = NULL, zero[32], *sig;
	size_t d, items = 0, len = 0, blen = 0, left;
	uint64_t cur = 0, v = 0;
	long st = 0;
	int rc;

	if (!o->have_size || o->size < DIR_FIXED + DIR_DRIVE + DIR_ITEM)
		usage();
	/* The fewest drives that make exactly --size bytes. */
	left = (size_t)o->size - DIR_FIXED;
	for (d = 1; d <= DIR_DRIVES; d++) {
		if (left < d * (DIR_DRIVE + DIR_ITEM))
			die("--size", COFFER_EINVAL);
		if ((left - d * DIR_DRIVE) % DIR_ITEM == 0 &&
		    (items = (left - d * DIR_DRIVE) / DIR_ITEM) <=
		    d * DIR_ITEMS)
			break;
	}
	if (d > DIR_DRIVES)
		die("--size", COFFER_EINVAL);
	memset(zero, 0, sizeof(zero));
	cf_wr_init(&w, plen + (size_t)o->size, 0);
	cf_wr_bytes(&w, purpose, plen);
	cf_wr_bytes(&w, "CFDR", 4);
	cf_wr_u8(&w, 1);
	cf_wr_bytes(&w, x->acct, CF_ID_BYTES);
	cf_wr_u64(&w, x->dir_version + 1);
	cf_wr_bytes(&w, zero, sizeof(zero));		/* prev_hash */
	cf_wr_bytes(&w, x->dev->device_id, CF_ID_BYTES);
	cf_wr_u64(&w, (uint64_t)time(NULL));
	cf_wr_u64(&w, 0);
	cf_wr_bytes(&w, zero, sizeof(zero));		/* chain_head */
	cf_wr_u32(&w, (uint32_t)d);
	dir_filler(&w, d, items);
	if ((sig = cf_wr_reserve(&w, CF_SIG_BYTES)) != NULL)
		crypto_sign_detached(sig, NULL, w.p, w.len - CF_SIG_BYTES,
		    x->dev->sign_sk);
	if ((rc = cf_wr_finish(&w, &buf, &len)) != 0)
		die("record", rc);
	memmove(buf, buf + plen, len - plen);
	len -= plen;
	if (len != o->size)
		die("record size", COFFER_EINTERNAL);
	if ((rc = cf_client_dir_put(x->cl, x->dir_version, buf, len,
	    &cur)) != 0) {
		char msg[512];
		const char *e = cf_client_error(x->cl, &st);

		snprintf(msg, sizeof(msg), "%s", e != NULL ? e : "");
		printf("refused %ld %s\n", st, msg);
		free(buf);
		return 1;
	}
	if ((rc = cf_client_dir_get(x->cl, &v, &back, &blen)) != 0)
		die("directory get", rc);
	if (v != x->dir_version + 1 || blen != len ||
	    memcmp(back, buf, len) != 0)
		die("the record fetched back differs", COFFER_ENOTAUTHENTIC);
	printf("stored version %" PRIu64 " bytes %zu\n", v, blen);
	free(back);
	free(buf);
	return 0;
}
