/*
 * Tests for trees, chunk lists and the version walk (lib/tree,
 * docs/FORMAT.md §12).
 *
 * The test has its own encoder (raw_*) and its own canonical split
 * (ref_split), written from FORMAT §12 alone, so that it can craft
 * encodings the library refuses to write and check the library's cuts.
 * Each refusal case changes one thing in an encoding that is otherwise
 * accepted (checked alongside), so it passes only because of its rule.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chunker/chunker.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "object/object.h"
#include "tree/tree.h"
#include "util/buf.h"
#include "t.h"
#include "util.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
#define EINV		COFFER_EINVAL

/* FORMAT §12, written out again: the test must not trust tree.h. */
#define REF_HDR		10
#define REF_LEAF_MAX	4096
#define REF_SPLIT_MIN	1024
#define REF_TREE_MAX	(16U * 1024 * 1024)
#define REF_CHUNK_MAX	(8U * 1024 * 1024)
#define REF_LIST_MAX	16384
#define REF_DIRECT_MAX	256

#define NAME_BYTES	32		/* room for generated names */
#define BIG_DIR		20000		/* entries of the split test */
#define SMALL_INDEX_DIR	3000		/* <= 4096: must be a leaf */

static uint8_t id_key[32];		/* metadata-id key of the tests */

/* ---- An in-memory object store: the loader the client backs by get-many ---- */

struct obj {
	uint8_t type;
	uint8_t id[32];
	uint8_t *data;			/* a sealed blob, or plaintext */
	size_t len;
};

struct store {
	struct obj *o;
	size_t n, cap;
	int sealed;			/* blobs through cf_object_seal/open */
	struct cf_objkey key;
	uint8_t drive[32];
	size_t loads;
};

static void
store_init(struct store *s, int sealed)
{
	memset(s, 0, sizeof(*s));
	s->sealed = sealed;
	tu_fill(s->key.enc_key, 32, 11);
	cf_key_id(s->key.enc_key, s->key.key_id);
	memcpy(s->key.id_key, id_key, 32);
	memset(s->drive, 0xd1, 32);
}

static void
store_free(struct store *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->o[i].data);
	free(s->o);
	memset(s, 0, sizeof(*s));
}

static struct obj *
store_find(struct store *s, uint8_t type, const uint8_t *id)
{
	size_t i;

	for (i = s->n; i-- > 0;)
		if (s->o[i].type == type && memcmp(s->o[i].id, id, 32) == 0)
			return &s->o[i];
	return NULL;
}

/* Store ${plain} under ${id} as given (no check that it is its id). */
static void
store_put_raw(struct store *s, uint8_t type, const uint8_t *id,
    const uint8_t *plain, size_t len)
{
	struct obj *o;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if ((s->o = realloc(s->o, s->cap * sizeof(*s->o))) == NULL)
			abort();
	}
	o = &s->o[s->n++];
	o->type = type;
	memcpy(o->id, id, 32);
	if ((o->data = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(o->data, plain, len);
	o->len = len;
}

static int
store_emit(void *ctx, uint8_t type, const uint8_t *plain, size_t len,
    const uint8_t id[static 32])
{
	struct store *s = ctx;
	uint8_t sid[32], *blob = NULL;
	size_t bloblen = 0;
	int r;

	if (store_find(s, type, id) != NULL)
		return 0;
	if (!s->sealed) {
		store_put_raw(s, type, id, plain, len);
		return 0;
	}
	if ((r = cf_object_seal(&s->key, type, s->drive, plain, len, 0, sid,
	    &blob, &bloblen)) != 0)
		return r;
	/* The builder's id is the one sealing computes. */
	CHECK(memcmp(sid, id, 32) == 0);
	store_put_raw(s, type, id, blob, bloblen);
	free(blob);
	return 0;
}

static int
store_lookup(void *ctx, uint8_t type, const uint8_t key_id[static 32],
    struct cf_objkey *out)
{
	struct store *s = ctx;

	(void)type;
	if (memcmp(key_id, s->key.key_id, 32) != 0)
		return NOTAUTH;
	*out = s->key;
	return 0;
}

static int
store_load(void *ctx, uint8_t type, const uint8_t id[static 32],
    uint8_t **plainp, size_t *lenp)
{
	struct store *s = ctx;
	struct obj *o;

	*plainp = NULL;
	*lenp = 0;
	s->loads++;
	if ((o = store_find(s, type, id)) == NULL)
		return COFFER_ENOENT;
	if (s->sealed)
		return cf_object_open(o->data, o->len, type, s->drive, id,
		    store_lookup, s, plainp, lenp);
	if ((*plainp = malloc(o->len ? o->len : 1)) == NULL)
		return COFFER_ENOMEM;
	memcpy(*plainp, o->data, o->len);
	*lenp = o->len;
	return 0;
}

/* Load and decode a tree from the store (plaintext or sealed). */
static struct cf_tree *
store_tree(struct store *s, const uint8_t *id)
{
	struct cf_tree *t = NULL;
	uint8_t *p = NULL;
	size_t len = 0;

	if (store_load(s, CF_OBJ_TREE, id, &p, &len) == 0)
		CHECK_RC(cf_tree_decode(p, len, &t), 0);
	else
		CHECK(0);
	free(p);
	return t;
}

/* ---- Entries ---- */

static struct cf_ref chunks[2 * REF_LIST_MAX];	/* seeded ids, lengths */

static void
make_chunks(void)
{
	size_t i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		tu_fill(chunks[i].id, 32, 1000 + i);
		chunks[i].len = (uint32_t)(1 + (i * 7919) % REF_CHUNK_MAX);
	}
}

static uint64_t
sum_len(const struct cf_ref *r, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += r[i].len;
	return s;
}

static struct cf_tree_entry
e_file(const char *name, const struct cf_ref *refs, size_t n)
{
	struct cf_tree_entry e;

	memset(&e, 0, sizeof(e));
	e.name = (const uint8_t *)name;
	e.namelen = strlen(name);
	e.type = CF_TREE_FILE;
	e.mode = 0644;
	e.mtime_sec = 1700000000;
	e.mtime_nsec = 123456789;
	e.how = CF_FILE_CHUNKS;
	e.refs = refs;
	e.nrefs = n;
	e.size = sum_len(refs, n);
	return e;
}

/* A file through lists: ${n} list refs with the given counts. */
static struct cf_tree_entry
e_lists(const char *name, const struct cf_ref *lists, size_t n, uint64_t size)
{
	struct cf_tree_entry e = e_file(name, NULL, 0);

	e.how = CF_FILE_LISTS;
	e.refs = lists;
	e.nrefs = n;
	e.size = size;
	return e;
}

static struct cf_tree_entry
e_dir(const char *name, uint8_t fill)
{
	struct cf_tree_entry e;

	memset(&e, 0, sizeof(e));
	e.name = (const uint8_t *)name;
	e.namelen = strlen(name);
	e.type = CF_TREE_DIR;
	e.mode = 0755;
	e.mtime_sec = -5;
	memset(e.subtree, fill, 32);
	return e;
}

static struct cf_tree_entry
e_link(const char *name, const char *target)
{
	struct cf_tree_entry e;

	memset(&e, 0, sizeof(e));
	e.name = (const uint8_t *)name;
	e.namelen = strlen(name);
	e.type = CF_TREE_SYMLINK;
	e.mode = 0777;
	e.mtime_sec = 42;
	e.target = (const uint8_t *)target;
	e.targetlen = strlen(target);
	return e;
}

/* ---- The test's own encoder, from FORMAT §12, with no checks ---- */

static void
raw_entry(struct cf_wr *w, const struct cf_tree_entry *e)
{
	size_t i;

	cf_wr_lstr(w, e->name, e->namelen);
	cf_wr_u8(w, e->type);
	cf_wr_u32(w, e->mode);
	cf_wr_u64(w, (uint64_t)e->mtime_sec);
	cf_wr_u32(w, e->mtime_nsec);
	cf_wr_u64(w, e->size);
	if (e->type == CF_TREE_FILE) {
		cf_wr_u8(w, e->how);
		cf_wr_u32(w, (uint32_t)e->nrefs);
		for (i = 0; i < e->nrefs; i++) {
			cf_wr_bytes(w, e->refs[i].id, 32);
			cf_wr_u32(w, e->refs[i].len);
		}
	} else if (e->type == CF_TREE_DIR) {
		cf_wr_bytes(w, e->subtree, 32);
	} else if (e->type == CF_TREE_SYMLINK) {
		cf_wr_lstr(w, e->target, e->targetlen);
	}
}

static uint8_t *
raw_finish(struct cf_wr *w, size_t *lenp)
{
	uint8_t *p;

	if (cf_wr_finish(w, &p, lenp) != 0)
		abort();
	return p;
}

/* A leaf of ${n} entries in the order given, then ${trail} zero bytes. */
static uint8_t *
raw_leaf(const struct cf_tree_entry *es, size_t n, size_t trail, size_t *lenp)
{
	struct cf_wr w;
	size_t i;

	cf_wr_init(&w, SIZE_MAX, 0);
	cf_wr_bytes(&w, "CFTR", 4);
	cf_wr_u8(&w, 1);
	cf_wr_u8(&w, 0);
	cf_wr_u32(&w, (uint32_t)n);
	for (i = 0; i < n; i++)
		raw_entry(&w, &es[i]);
	for (i = 0; i < trail; i++)
		cf_wr_u8(&w, 0);
	return raw_finish(&w, lenp);
}

static uint8_t *
raw_index(const struct cf_tree_part *ps, size_t n, size_t *lenp)
{
	struct cf_wr w;
	size_t i;

	cf_wr_init(&w, SIZE_MAX, 0);
	cf_wr_bytes(&w, "CFTR", 4);
	cf_wr_u8(&w, 1);
	cf_wr_u8(&w, 1);
	cf_wr_u32(&w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		cf_wr_lstr(&w, ps[i].first, ps[i].firstlen);
		cf_wr_bytes(&w, ps[i].id, 32);
		cf_wr_u32(&w, ps[i].count);
	}
	return raw_finish(&w, lenp);
}

static int
decode_rc(const uint8_t *buf, size_t len)
{
	struct cf_tree *t = (struct cf_tree *)1;
	int r = cf_tree_decode(buf, len, &t);

	if (r != 0)
		CHECK(t == NULL);
	cf_tree_free(t);
	return r;
}

/* Decode the test's encoding of these entries. */
static int
leaf_rc(const struct cf_tree_entry *es, size_t n)
{
	uint8_t *p;
	size_t len;
	int r;

	p = raw_leaf(es, n, 0, &len);
	r = decode_rc(p, len);
	free(p);
	return r;
}

/* What the library's encoder says about these entries. */
static int
enc_rc(const struct cf_tree_entry *es, size_t n)
{
	uint8_t *p = (uint8_t *)1;
	size_t len = 1;
	int r = cf_tree_encode_leaf(es, n, &p, &len);

	if (r != 0)
		CHECK(p == NULL && len == 0);
	free(p);
	return r;
}

/* Refused by the decoder, and never written by the encoder. */
#define REFUSED(es, n) do {						\
	CHECK_RC(leaf_rc((es), (n)), NOTAUTH);				\
	CHECK_RC(enc_rc((es), (n)), EINV);				\
} while (0)
#define ACCEPTED(es, n) do {						\
	CHECK_RC(leaf_rc((es), (n)), 0);				\
	CHECK_RC(enc_rc((es), (n)), 0);					\
} while (0)

/* ---- Round trips ---- */

static int
entry_eq(const struct cf_tree_entry *a, const struct cf_tree_entry *b)
{
	if (cf_tree_name_cmp(a->name, a->namelen, b->name, b->namelen) != 0 ||
	    a->type != b->type || a->mode != b->mode ||
	    a->mtime_sec != b->mtime_sec || a->mtime_nsec != b->mtime_nsec ||
	    a->size != b->size)
		return 0;
	if (a->type == CF_TREE_FILE)
		return a->how == b->how && a->nrefs == b->nrefs &&
		    (a->nrefs == 0 ||
		    memcmp(a->refs, b->refs, a->nrefs * sizeof(*a->refs)) == 0);
	if (a->type == CF_TREE_DIR)
		return memcmp(a->subtree, b->subtree, 32) == 0;
	return a->targetlen == b->targetlen &&
	    memcmp(a->target, b->target, a->targetlen) == 0;
}

static void
test_roundtrip_kinds(void)
{
	static const char bin_name[] = "\xff\xfe\x80 caf\xc3";	/* not UTF-8 */
	static const char ctl_name[] = "tab\there\nnewline\x1b";
	char long_name[256];
	struct cf_ref lists[2];
	struct cf_tree_entry es[9], sorted[9];
	struct cf_tree *t = NULL;
	uint8_t *p = NULL, *q = NULL, *raw = NULL;
	size_t len = 0, qlen = 0, rawlen = 0, i, j;

	memset(long_name, 'x', 255);
	long_name[255] = '\0';
	memcpy(lists[0].id, chunks[0].id, 32);
	lists[0].len = REF_LIST_MAX;
	memcpy(lists[1].id, chunks[1].id, 32);
	lists[1].len = 5;
	es[0] = e_link("link", "../target with spaces/\xff");
	es[1] = e_file("file", chunks, 3);
	es[2] = e_file("empty", NULL, 0);
	es[3] = e_dir("dir", 0x5a);
	es[4] = e_lists("huge", lists, 2, (uint64_t)(REF_LIST_MAX + 5) * 1000);
	es[5] = e_dir(bin_name, 0x01);
	es[6] = e_file(ctl_name, chunks + 3, 1);
	es[7] = e_link(long_name, "t");
	es[8] = e_file("modes", chunks + 4, 2);
	es[8].mode = 07777;
	es[8].mtime_sec = INT64_MIN;
	es[8].mtime_nsec = 999999999;

	CHECK_RC(cf_tree_encode_leaf(es, 9, &p, &len), 0);
	CHECK_RC(cf_tree_decode(p, len, &t), 0);
	if (t == NULL)
		goto out;
	CHECK(t->kind == CF_TREE_LEAF && t->n == 9 && t->len == len);

	/* Sorted by raw bytes; every field as given. */
	memcpy(sorted, es, sizeof(es));
	for (i = 1; i < 9; i++)
		for (j = i; j > 0 && cf_tree_name_cmp(sorted[j - 1].name,
		    sorted[j - 1].namelen, sorted[j].name, sorted[j].namelen) > 0;
		    j--) {
			struct cf_tree_entry x = sorted[j];

			sorted[j] = sorted[j - 1];
			sorted[j - 1] = x;
		}
	for (i = 0; i < 9; i++)
		CHECK(entry_eq(&t->entries[i], &sorted[i]));

	/* The library writes what the test's own encoder writes. */
	raw = raw_leaf(sorted, 9, 0, &rawlen);
	CHECK(rawlen == len && memcmp(raw, p, len) == 0);

	/* Decoded entries encode back to the same bytes. */
	CHECK_RC(cf_tree_encode_leaf(t->entries, t->n, &q, &qlen), 0);
	CHECK(qlen == len && q != NULL && memcmp(q, p, len) == 0);

	/* Every proper prefix is refused. */
	for (i = 0; i < len; i++)
		CHECK_RC(decode_rc(p, i), NOTAUTH);
out:
	cf_tree_free(t);
	free(p);
	free(q);
	free(raw);
}

static void
test_empty_dir(void)
{
	static const uint8_t want[] = { 'C', 'F', 'T', 'R', 1, 0, 0, 0, 0, 0 };
	struct cf_tree *t = NULL;
	struct store s;
	uint8_t *p = NULL, root[32];
	size_t len = 0;

	CHECK_RC(cf_tree_encode_leaf(NULL, 0, &p, &len), 0);
	CHECK(len == sizeof(want) && p != NULL && memcmp(p, want, len) == 0);
	CHECK_RC(cf_tree_decode(p, len, &t), 0);
	CHECK(t != NULL && t->kind == CF_TREE_LEAF && t->n == 0);
	cf_tree_free(t);
	free(p);

	/* A whole empty directory is one empty leaf. */
	store_init(&s, 0);
	CHECK_RC(cf_tree_build(NULL, 0, id_key, store_emit, &s, root), 0);
	CHECK(s.n == 1 && s.o[0].len == sizeof(want) &&
	    memcmp(s.o[0].data, want, sizeof(want)) == 0 &&
	    memcmp(s.o[0].id, root, 32) == 0);
	store_free(&s);
}

/*
 * The smallest entries: a leaf of one empty file with a 1-byte name is 45
 * bytes, so no ref fits in what follows the header and the ref pool is
 * empty; decoding it must not do arithmetic on that NULL pool (clang's
 * UBSan: "applying zero offset to null pointer").  And a count of entries
 * or parts that the bytes left cannot hold is refused.
 */
static void
test_smallest_entries(void)
{
	struct cf_tree_entry e;
	struct cf_tree *t = NULL;
	uint8_t *p = NULL, *q;
	size_t len = 0;

	memset(&e, 0, sizeof(e));
	e.name = (const uint8_t *)"a";
	e.namelen = 1;
	e.type = CF_TREE_FILE;
	e.mode = 0644;
	e.how = CF_FILE_CHUNKS;
	CHECK_RC(cf_tree_encode_leaf(&e, 1, &p, &len), 0);
	CHECK(len == CF_TREE_HDR_BYTES + CF_TREE_ENTRY_FIXED + 1 +
	    CF_TREE_FILE_REF_FIXED);
	CHECK_RC(cf_tree_decode(p, len, &t), 0);
	CHECK(t != NULL && t->n == 1 && t->entries[0].nrefs == 0 &&
	    t->entries[0].refs == NULL && t->entries[0].size == 0);
	cf_tree_free(t);
	t = NULL;
	/* The same header claiming 2 and 4096 entries: refused. */
	if ((q = malloc(len)) == NULL)
		abort();
	memcpy(q, p, len);
	q[CF_TREE_HDR_BYTES - 1] = 2;
	CHECK_RC(cf_tree_decode(q, len, &t), COFFER_ENOTAUTHENTIC);
	q[CF_TREE_HDR_BYTES - 2] = 0x10;
	q[CF_TREE_HDR_BYTES - 1] = 0;
	CHECK_RC(cf_tree_decode(q, len, &t), COFFER_ENOTAUTHENTIC);
	/* An index claiming 4096 parts in 45 bytes. */
	q[CF_TREE_TAG_BYTES + 1] = CF_TREE_INDEX;
	CHECK_RC(cf_tree_decode(q, len, &t), COFFER_ENOTAUTHENTIC);
	CHECK(t == NULL);
	free(q);
	free(p);
}

static void
test_sorted_any_order(void)
{
	/* Raw bytes, unsigned, shorter first: "A" "a" "ab" "b" 0x7f 0x80. */
	static const char *names[] = { "b", "\x80", "ab", "A", "\x7f", "a" };
	static const char *want[] = { "A", "a", "ab", "b", "\x7f", "\x80" };
	static const size_t perms[][6] = {
		{ 0, 1, 2, 3, 4, 5 }, { 5, 4, 3, 2, 1, 0 }, { 3, 0, 5, 1, 4, 2 },
	};
	struct cf_tree_entry es[6];
	struct cf_tree *t = NULL;
	uint8_t *first = NULL, *p;
	size_t firstlen = 0, len, i, k;

	for (k = 0; k < 3; k++) {
		for (i = 0; i < 6; i++)
			es[i] = e_dir(names[perms[k][i]], (uint8_t)i);
		for (i = 0; i < 6; i++)
			memset(es[i].subtree, names[perms[k][i]][0], 32);
		CHECK_RC(cf_tree_encode_leaf(es, 6, &p, &len), 0);
		if (k == 0) {
			first = p;
			firstlen = len;
			continue;
		}
		CHECK(len == firstlen && memcmp(p, first, len) == 0);
		free(p);
	}
	CHECK_RC(cf_tree_decode(first, firstlen, &t), 0);
	for (i = 0; t != NULL && i < 6; i++)
		CHECK(t->entries[i].namelen == strlen(want[i]) &&
		    memcmp(t->entries[i].name, want[i], strlen(want[i])) == 0 &&
		    t->entries[i].subtree[0] == (uint8_t)want[i][0]);
	cf_tree_free(t);
	free(first);
}

/* ---- Refusals, one rule each ---- */

/* A valid leaf of three entries, entry ${*i} to be changed by the caller. */
static void
base3(struct cf_tree_entry es[3])
{
	es[0] = e_file("a", chunks, 2);
	es[1] = e_dir("b", 7);
	es[2] = e_link("c", "target");
}

static void
base_names(struct cf_tree_entry es[3])
{
	base3(es);
	es[1].name = (const uint8_t *)"\xfe";
	es[2].name = (const uint8_t *)"\xff";
}

static void
test_refuse_names(void)
{
	struct cf_tree_entry es[3];
	char n255[256], n256[257];

	memset(n255, 'n', 255);
	n255[255] = '\0';
	memset(n256, 'n', 256);
	n256[256] = '\0';

	/* The name under test comes first; the others sort after any. */
	base_names(es);
	ACCEPTED(es, 3);
#define NAME_CASE(str, len, ok) do {					\
	base_names(es);							\
	es[0].name = (const uint8_t *)(str);				\
	es[0].namelen = (len);						\
	if (ok)								\
		ACCEPTED(es, 3);					\
	else								\
		REFUSED(es, 3);						\
} while (0)
	NAME_CASE("", 0, 0);
	NAME_CASE(".", 1, 0);
	NAME_CASE("..", 2, 0);
	NAME_CASE("b/c", 3, 0);
	NAME_CASE("/", 1, 0);
	NAME_CASE("b\0c", 3, 0);
	NAME_CASE("\0", 1, 0);
	NAME_CASE("...", 3, 1);			/* not special */
	NAME_CASE(".b", 2, 1);
	NAME_CASE("\x01", 1, 1);
	NAME_CASE(n255, 255, 1);
	NAME_CASE(n256, 256, 0);
#undef NAME_CASE
}

static void
test_refuse_fields(void)
{
	struct cf_tree_entry es[3];
	char t4095[4096], t4096[4097];
	struct cf_ref big[2];

	memset(t4095, 't', 4095);
	t4095[4095] = '\0';
	memset(t4096, 't', 4096);
	t4096[4096] = '\0';

	/* mode: permission bits only. */
	base3(es);
	es[0].mode = 07777;
	ACCEPTED(es, 3);
	es[0].mode = 010000;
	REFUSED(es, 3);
	base3(es);
	es[1].mode = 0x80000000U;
	REFUSED(es, 3);

	/* nsec < 10^9. */
	base3(es);
	es[2].mtime_nsec = 999999999;
	ACCEPTED(es, 3);
	es[2].mtime_nsec = 1000000000;
	REFUSED(es, 3);

	/* A file's size is the sum of its chunk lengths. */
	base3(es);
	es[0].size += 1;
	REFUSED(es, 3);
	base3(es);
	es[0].size -= 1;
	REFUSED(es, 3);

	/* Chunk lengths 1 to 8 MiB. */
	memcpy(big, chunks, sizeof(big));
	big[1].len = REF_CHUNK_MAX;
	base3(es);
	es[0] = e_file("a", big, 2);
	ACCEPTED(es, 3);
	big[1].len = REF_CHUNK_MAX + 1;
	es[0] = e_file("a", big, 2);
	REFUSED(es, 3);
	big[1].len = 0;
	es[0] = e_file("a", big, 2);
	REFUSED(es, 3);

	/* At most 256 direct chunks. */
	base3(es);
	es[0] = e_file("a", chunks, REF_DIRECT_MAX);
	ACCEPTED(es, 3);
	es[0] = e_file("a", chunks, REF_DIRECT_MAX + 1);
	REFUSED(es, 3);

	/* Directories and symlinks have size 0. */
	base3(es);
	es[1].size = 1;
	REFUSED(es, 3);
	base3(es);
	es[2].size = 1;
	REFUSED(es, 3);

	/* Symlink targets: 1 to 4095 bytes, no NUL. */
	base3(es);
	es[2] = e_link("c", t4095);
	ACCEPTED(es, 3);
	es[2] = e_link("c", t4096);
	REFUSED(es, 3);
	es[2] = e_link("c", "");
	REFUSED(es, 3);
	es[2] = e_link("c", "x");
	es[2].target = (const uint8_t *)"a\0b";
	es[2].targetlen = 3;
	REFUSED(es, 3);

	/* Unknown type and unknown how. */
	base3(es);
	es[1].type = 4;
	REFUSED(es, 3);
	es[1].type = 0;
	REFUSED(es, 3);
	base3(es);
	es[0].how = 2;
	REFUSED(es, 3);
}

static void
test_refuse_lists_in_tree(void)
{
	struct cf_tree_entry es[3];
	struct cf_ref l[3];
	uint64_t n;

	memcpy(l[0].id, chunks[0].id, 32);
	memcpy(l[1].id, chunks[1].id, 32);
	memcpy(l[2].id, chunks[2].id, 32);

	/* One list of 257 chunks: more than direct refs allow. */
	base3(es);
	l[0].len = REF_DIRECT_MAX + 1;
	es[0] = e_lists("a", l, 1, 1000000);
	ACCEPTED(es, 3);
	/* ... of 256: direct refs would do, so lists are refused. */
	l[0].len = REF_DIRECT_MAX;
	es[0] = e_lists("a", l, 1, 1000000);
	REFUSED(es, 3);
	/* how = 1 with no list. */
	es[0] = e_lists("a", l, 0, 0);
	REFUSED(es, 3);

	/* All lists full but the last, which holds 1 to 16384. */
	l[0].len = REF_LIST_MAX;
	l[1].len = REF_LIST_MAX;
	es[0] = e_lists("a", l, 2, 1ULL << 30);
	ACCEPTED(es, 3);
	l[0].len = REF_LIST_MAX - 1;
	l[1].len = 2;
	es[0] = e_lists("a", l, 2, 1ULL << 30);
	REFUSED(es, 3);
	l[0].len = REF_LIST_MAX;
	l[1].len = REF_LIST_MAX + 1;
	es[0] = e_lists("a", l, 2, 1ULL << 30);
	REFUSED(es, 3);
	l[1].len = 0;
	es[0] = e_lists("a", l, 2, 1ULL << 30);
	REFUSED(es, 3);

	/* The size lies between the number of chunks and 8 MiB each. */
	l[1].len = 1;
	n = REF_LIST_MAX + 1;
	es[0] = e_lists("a", l, 2, n);
	ACCEPTED(es, 3);
	es[0] = e_lists("a", l, 2, n - 1);
	REFUSED(es, 3);
	es[0] = e_lists("a", l, 2, n * REF_CHUNK_MAX);
	ACCEPTED(es, 3);
	es[0] = e_lists("a", l, 2, n * REF_CHUNK_MAX + 1);
	REFUSED(es, 3);
}

static void
test_refuse_too_many_lists(void)
{
	struct cf_tree_entry e;
	struct cf_ref *l;
	size_t i, n = 65536 + 1;

	if ((l = calloc(n, sizeof(*l))) == NULL)
		abort();
	for (i = 0; i < n; i++)
		l[i].len = REF_LIST_MAX;
	e = e_lists("f", l, n - 1, (uint64_t)(n - 1) * REF_LIST_MAX);
	ACCEPTED(&e, 1);
	e = e_lists("f", l, n, (uint64_t)n * REF_LIST_MAX);
	REFUSED(&e, 1);
	free(l);
}

static void
test_refuse_order(void)
{
	struct cf_tree_entry es[3], a, f, ln;

	/* Unsorted: refused by the decoder; the encoder sorts. */
	base3(es);
	a = es[0];
	es[0] = es[1];
	es[1] = a;
	CHECK_RC(leaf_rc(es, 3), NOTAUTH);
	CHECK_RC(enc_rc(es, 3), 0);

	/* The same name twice. */
	base3(es);
	es[1].name = (const uint8_t *)"a";
	REFUSED(es, 3);

	/* A forged tree with "..", a name with "/", a name twice. */
	es[0] = e_dir("..", 1);
	es[1] = e_file("etc", chunks, 1);
	CHECK_RC(leaf_rc(es, 2), NOTAUTH);
	es[0] = e_dir("a", 1);
	es[1] = e_file("b/../../.bashrc", chunks, 1);
	CHECK_RC(leaf_rc(es, 2), NOTAUTH);

	/* The symlink-then-file trick: "x" -> /etc, then a file "x". */
	ln = e_link("x", "/etc");
	f = e_file("x", chunks, 1);
	es[0] = ln;
	es[1] = f;
	REFUSED(es, 2);
	es[0] = f;
	es[1] = ln;
	REFUSED(es, 2);
	/* Control: different names are fine. */
	es[1] = e_link("y", "/etc");
	ACCEPTED(es, 2);
}

static void
test_refuse_structure(void)
{
	struct cf_tree_entry es[3], *many;
	uint8_t *p;
	size_t len, i;
	char (*names)[NAME_BYTES];

	base3(es);
	p = raw_leaf(es, 3, 0, &len);
	CHECK_RC(decode_rc(p, len), 0);
	/* Tag, version, kind. */
	p[0] ^= 1;
	CHECK_RC(decode_rc(p, len), NOTAUTH);
	p[0] ^= 1;
	p[4] = 2;
	CHECK_RC(decode_rc(p, len), NOTAUTH);
	p[4] = 1;
	p[5] = 2;
	CHECK_RC(decode_rc(p, len), NOTAUTH);
	p[5] = 1;		/* a leaf read as an index */
	CHECK_RC(decode_rc(p, len), NOTAUTH);
	p[5] = 0;
	/* n too large or too small for what follows. */
	p[9] = 4;
	CHECK_RC(decode_rc(p, len), NOTAUTH);
	p[9] = 2;
	CHECK_RC(decode_rc(p, len), NOTAUTH);
	p[9] = 3;
	CHECK_RC(decode_rc(p, len), 0);
	free(p);

	/* Trailing bytes. */
	p = raw_leaf(es, 3, 1, &len);
	CHECK_RC(decode_rc(p, len), NOTAUTH);
	free(p);

	/* At most 4096 entries in a leaf. */
	if ((many = calloc(REF_LEAF_MAX + 1, sizeof(*many))) == NULL ||
	    (names = calloc(REF_LEAF_MAX + 1, NAME_BYTES)) == NULL)
		abort();
	for (i = 0; i <= REF_LEAF_MAX; i++) {
		snprintf(names[i], NAME_BYTES, "n%05zu", i);
		many[i] = e_file(names[i], NULL, 0);
	}
	CHECK_RC(leaf_rc(many, REF_LEAF_MAX), 0);
	CHECK_RC(enc_rc(many, REF_LEAF_MAX), 0);
	CHECK_RC(leaf_rc(many, REF_LEAF_MAX + 1), NOTAUTH);
	CHECK_RC(enc_rc(many, REF_LEAF_MAX + 1), COFFER_ETOOBIG);
	free(names);
	free(many);

	/* Longer than a tree may be. */
	CHECK_RC(decode_rc((const uint8_t *)"", REF_TREE_MAX + 1), NOTAUTH);
	CHECK_RC(decode_rc(NULL, 0), NOTAUTH);
}

static void
test_refuse_index_items(void)
{
	struct cf_tree_part ps[3];
	uint8_t *p, *q;
	size_t len, qlen;

	memset(ps, 0, sizeof(ps));
	ps[0].first = (const uint8_t *)"a";
	ps[0].firstlen = 1;
	ps[0].count = 2000;
	ps[1].first = (const uint8_t *)"m";
	ps[1].firstlen = 1;
	ps[1].count = 2000;
	ps[2].first = (const uint8_t *)"z";
	ps[2].firstlen = 1;
	ps[2].count = 1;
	p = raw_index(ps, 3, &len);
	CHECK_RC(decode_rc(p, len), 0);
	CHECK_RC(cf_tree_encode_index(ps, 3, &q, &qlen), 0);
	CHECK(qlen == len && memcmp(p, q, len) == 0);
	free(q);
	free(p);

#define INDEX_CASE(n, want) do {					\
	p = raw_index(ps, (n), &len);					\
	CHECK_RC(decode_rc(p, len), (want));				\
	free(p);							\
	q = (uint8_t *)1;						\
	CHECK_RC(cf_tree_encode_index(ps, (n), &q, &qlen),		\
	    (want) ? EINV : 0);						\
	free(q);							\
} while (0)
	/* One part: that directory is a leaf.  None at all. */
	INDEX_CASE(1, NOTAUTH);
	INDEX_CASE(0, NOTAUTH);
	/* Counts 1 to 4096. */
	ps[2].count = 0;
	INDEX_CASE(3, NOTAUTH);
	ps[2].count = 4096;
	INDEX_CASE(3, 0);
	ps[2].count = 4097;
	INDEX_CASE(3, NOTAUTH);
	ps[2].count = 1;
	/* First names valid and strictly increasing. */
	ps[1].first = (const uint8_t *)"..";
	ps[1].firstlen = 2;
	INDEX_CASE(3, NOTAUTH);
	ps[1].first = (const uint8_t *)"a";
	ps[1].firstlen = 1;
	INDEX_CASE(3, NOTAUTH);
	ps[1].first = (const uint8_t *)"zz";
	ps[1].firstlen = 2;
	INDEX_CASE(3, NOTAUTH);
	ps[1].first = (const uint8_t *)"m/x";
	ps[1].firstlen = 3;
	INDEX_CASE(3, NOTAUTH);
#undef INDEX_CASE
}

/* ---- The canonical split ---- */

static int
ref_mark(const uint8_t *name, size_t len)
{
	crypto_generichash_state st;
	uint8_t h[32];

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"coffer-split-v1", 15);
	crypto_generichash_update(&st, name, len);
	crypto_generichash_final(&st, h, 32);
	return h[0] < 8;
}

static size_t
ref_esize(const struct cf_tree_entry *e)
{
	size_t n = 4 + e->namelen + 1 + 4 + 8 + 4 + 8;

	if (e->type == CF_TREE_FILE)
		return n + 1 + 4 + 36 * e->nrefs;
	if (e->type == CF_TREE_DIR)
		return n + 32;
	return n + 4 + e->targetlen;
}

/*
 * FORMAT §12's pseudocode over sorted entries, without the "fits in one
 * leaf" rule; the part sizes go to ${counts}; returns their number.
 */
static size_t
ref_split(const struct cf_tree_entry *es, size_t n, size_t *counts)
{
	size_t np = 0, c = 0, size = REF_HDR, i, sz;

	for (i = 0; i < n; i++) {
		sz = ref_esize(&es[i]);
		if (c > 0 && size + sz > REF_TREE_MAX) {
			counts[np++] = c;
			c = 0;
			size = REF_HDR;
		}
		c++;
		size += sz;
		if (c == REF_LEAF_MAX ||
		    (c >= REF_SPLIT_MIN && ref_mark(es[i].name, es[i].namelen))) {
			counts[np++] = c;
			c = 0;
			size = REF_HDR;
		}
	}
	if (c > 0)
		counts[np++] = c;
	return np;
}

/* A directory of ${n} entries named "entry-NNNNNN", sorted; names in ${nb}. */
static struct cf_tree_entry *
big_dir(size_t n, char (**nbp)[NAME_BYTES])
{
	struct cf_tree_entry *es;
	char (*nb)[NAME_BYTES];
	size_t i;

	if ((es = calloc(n + 1, sizeof(*es))) == NULL ||
	    (nb = calloc(n + 1, NAME_BYTES)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		snprintf(nb[i], NAME_BYTES, "entry-%06zu", i * 2);
		switch (i % 3) {
		case 0:
			es[i] = e_file(nb[i], chunks + i % 100, i % 4);
			break;
		case 1:
			es[i] = e_dir(nb[i], (uint8_t)i);
			break;
		default:
			es[i] = e_link(nb[i], "somewhere");
			break;
		}
	}
	*nbp = nb;
	return es;
}

/* Build a directory into a plaintext store; return its index, decoded. */
static struct cf_tree *
build(struct store *s, const struct cf_tree_entry *es, size_t n,
    uint8_t root[32])
{
	CHECK_RC(cf_tree_build(es, n, id_key, store_emit, s, root), 0);
	return store_tree(s, root);
}

/* Load an index's parts and check them. */
static int
check_parts(struct store *s, const struct cf_tree *ix)
{
	struct cf_tree **parts;
	size_t i;
	int r;

	if ((parts = calloc(ix->n, sizeof(*parts))) == NULL)
		abort();
	for (i = 0; i < ix->n; i++)
		parts[i] = store_tree(s, ix->parts[i].id);
	r = cf_tree_check_index(ix, parts, ix->n);
	for (i = 0; i < ix->n; i++)
		cf_tree_free(parts[i]);
	free(parts);
	return r;
}

static void
test_split_canonical(void)
{
	struct cf_tree_entry *es, *shuffled;
	char (*nb)[NAME_BYTES];
	size_t counts[64], np, i, start;
	struct cf_tree *ix, *part;
	struct store s;
	uint8_t root[32], root2[32];

	es = big_dir(BIG_DIR, &nb);
	np = ref_split(es, BIG_DIR, counts);
	CHECK(np > 2 && np < 64);

	store_init(&s, 0);
	ix = build(&s, es, BIG_DIR, root);
	if (ix == NULL)
		goto out;
	CHECK(ix->kind == CF_TREE_INDEX && ix->n == np);
	CHECK(s.n == np + 1);		/* the parts, then the index */
	CHECK(memcmp(s.o[s.n - 1].id, root, 32) == 0);
	for (i = 0, start = 0; i < ix->n && i < np; start += counts[i++]) {
		CHECK(ix->parts[i].count == counts[i]);
		CHECK(counts[i] <= REF_LEAF_MAX);
		if (i + 1 < np)
			CHECK(counts[i] >= REF_SPLIT_MIN);
		CHECK(ix->parts[i].firstlen == es[start].namelen &&
		    memcmp(ix->parts[i].first, es[start].name,
		    es[start].namelen) == 0);
		part = store_tree(&s, ix->parts[i].id);
		CHECK(part != NULL && part->kind == CF_TREE_LEAF &&
		    part->n == counts[i]);
		CHECK(part == NULL || entry_eq(&part->entries[0], &es[start]));
		cf_tree_free(part);
	}
	CHECK_RC(check_parts(&s, ix), 0);
	cf_tree_free(ix);

	/* The input order does not matter. */
	if ((shuffled = malloc(BIG_DIR * sizeof(*shuffled))) == NULL)
		abort();
	for (i = 0; i < BIG_DIR; i++)
		shuffled[i] = es[(i * 7919) % BIG_DIR];	/* 7919 is prime */
	CHECK_RC(cf_tree_build(shuffled, BIG_DIR, id_key, store_emit, &s,
	    root2), 0);
	CHECK(memcmp(root, root2, 32) == 0);

	/* A duplicate name anywhere is refused, and nothing emitted. */
	shuffled[BIG_DIR - 1] = shuffled[0];
	i = s.n;
	CHECK_RC(cf_tree_build(shuffled, BIG_DIR, id_key, store_emit, &s,
	    root2), EINV);
	CHECK(s.n == i);
	free(shuffled);
out:
	store_free(&s);
	free(es);
	free(nb);
}

/* 4096 entries are a leaf, 4097 an index. */
static void
test_split_threshold(void)
{
	struct cf_tree_entry *es;
	char (*nb)[NAME_BYTES];
	struct cf_tree *t;
	struct store s;
	uint8_t root[32];

	es = big_dir(REF_LEAF_MAX + 1, &nb);
	store_init(&s, 0);
	t = build(&s, es, REF_LEAF_MAX, root);
	CHECK(t != NULL && t->kind == CF_TREE_LEAF && t->n == REF_LEAF_MAX);
	cf_tree_free(t);
	t = build(&s, es, REF_LEAF_MAX + 1, root);
	CHECK(t != NULL && t->kind == CF_TREE_INDEX && t->n >= 2);
	if (t != NULL)
		CHECK_RC(check_parts(&s, t), 0);
	cf_tree_free(t);
	store_free(&s);
	free(es);
	free(nb);
}

/* The part ids of a built directory, for comparing two builds. */
static size_t
changed_parts(const struct cf_tree *a, const struct cf_tree *b)
{
	size_t i, j, changed = 0;

	for (i = 0; i < b->n; i++) {
		for (j = 0; j < a->n; j++)
			if (memcmp(a->parts[j].id, b->parts[i].id, 32) == 0)
				break;
		if (j == a->n)
			changed++;
	}
	return changed;
}

static void
test_split_insert(void)
{
	static const size_t where[] = { 0, 1500, 5000, 9999, 10000, 14321,
	    19999 };
	struct cf_tree_entry *es;
	char (*nb)[NAME_BYTES];
	char extra[NAME_BYTES];
	struct cf_tree *ix0, *ix1;
	struct store s;
	uint8_t root[32];
	size_t k, n, worst = 0;

	es = big_dir(BIG_DIR, &nb);
	store_init(&s, 0);
	ix0 = build(&s, es, BIG_DIR, root);
	for (k = 0; ix0 != NULL && k < sizeof(where) / sizeof(where[0]); k++) {
		/* An odd number sorts between two existing (even) ones. */
		snprintf(extra, sizeof(extra), "entry-%06zu", where[k] * 2 + 1);
		es[BIG_DIR] = e_file(extra, chunks, 1);
		ix1 = build(&s, es, BIG_DIR + 1, root);
		if (ix1 == NULL)
			continue;
		n = changed_parts(ix0, ix1);
		CHECK(n >= 1 && n <= 2);
		if (n > worst)
			worst = n;
		/* One part more at most (or, with a cut moved, fewer). */
		CHECK(ix1->n >= ix0->n - 1 && ix1->n <= ix0->n + 1);
		CHECK_RC(check_parts(&s, ix1), 0);
		cf_tree_free(ix1);
	}
	/* Removing an entry changes one or two parts too. */
	ix1 = build(&s, es + 1, BIG_DIR - 1, root);
	CHECK(ix1 != NULL && changed_parts(ix0, ix1) >= 1 &&
	    changed_parts(ix0, ix1) <= 2);
	cf_tree_free(ix1);
	cf_tree_free(ix0);
	store_free(&s);
	free(es);
	free(nb);
}

/*
 * craft(s, es, counts, np, root): store leaves cut as ${counts} (any
 * cuts) and an index over them; return the index, decoded.
 */
static struct cf_tree *
craft(struct store *s, const struct cf_tree_entry *es, const size_t *counts,
    size_t np, uint8_t root[32])
{
	struct cf_tree_part ps[64];
	uint8_t *p, *q;
	size_t len, i, start;

	memset(ps, 0, sizeof(ps));
	for (i = 0, start = 0; i < np; start += counts[i++]) {
		p = raw_leaf(es + start, counts[i], 0, &len);
		cf_object_id(id_key, CF_OBJ_TREE, p, len, ps[i].id);
		store_emit(s, CF_OBJ_TREE, p, len, ps[i].id);
		free(p);
		ps[i].first = es[start].name;
		ps[i].firstlen = es[start].namelen;
		ps[i].count = (uint32_t)counts[i];
	}
	CHECK_RC(cf_tree_encode_index(ps, np, &q, &len), 0);
	cf_object_id(id_key, CF_OBJ_TREE, q, len, root);
	store_emit(s, CF_OBJ_TREE, q, len, root);
	free(q);
	return store_tree(s, root);
}

static void
test_split_refusals(void)
{
	struct cf_tree_entry *es;
	char (*nb)[NAME_BYTES];
	size_t counts[64], alt[64], np, i;
	struct cf_tree *ix, *t, *ovl, **parts;
	struct cf_tree_part ps[64];
	struct cf_tree_check chk;
	struct store s;
	uint8_t root[32], *p;
	size_t len;

	es = big_dir(BIG_DIR, &nb);
	np = ref_split(es, BIG_DIR, counts);
	store_init(&s, 0);

	/* Control: the crafting path with the canonical cuts is accepted. */
	ix = craft(&s, es, counts, np, root);
	CHECK(ix != NULL && check_parts(&s, ix) == 0);
	cf_tree_free(ix);

	/* A cut one entry later, or one earlier. */
	memcpy(alt, counts, sizeof(alt));
	alt[0]++;
	alt[1]--;
	ix = craft(&s, es, alt, np, root);
	CHECK(ix != NULL && check_parts(&s, ix) == NOTAUTH);
	cf_tree_free(ix);
	memcpy(alt, counts, sizeof(alt));
	alt[0]--;
	alt[1]++;
	ix = craft(&s, es, alt, np, root);
	CHECK(ix != NULL && check_parts(&s, ix) == NOTAUTH);
	cf_tree_free(ix);
	/* The last cut moved, where the last part is short. */
	memcpy(alt, counts, sizeof(alt));
	alt[np - 2] -= 3;
	alt[np - 1] += 3;
	ix = craft(&s, es, alt, np, root);
	CHECK(ix != NULL && check_parts(&s, ix) == NOTAUTH);
	cf_tree_free(ix);
	/* Two parts merged (still at most 4096 entries). */
	memcpy(alt, counts, sizeof(alt));
	alt[0] += alt[1];
	for (i = 1; i + 1 < np; i++)
		alt[i] = alt[i + 1];
	ix = craft(&s, es, alt, np - 1, root);
	CHECK(ix != NULL && check_parts(&s, ix) == NOTAUTH);
	cf_tree_free(ix);

	/*
	 * A directory of at most 4096 entries stored as an index, cut where
	 * the split would cut it: every part passes, only the end refuses.
	 */
	np = ref_split(es, SMALL_INDEX_DIR, alt);
	CHECK(np >= 2);
	ix = craft(&s, es, alt, np, root);
	if (ix != NULL) {
		cf_tree_check_init(&chk, ix);
		for (i = 0; i < ix->n; i++) {
			t = store_tree(&s, ix->parts[i].id);
			CHECK_RC(cf_tree_check_part(&chk, t), 0);
			cf_tree_free(t);
		}
		CHECK_RC(cf_tree_check_end(&chk), NOTAUTH);
	}
	cf_tree_free(ix);

	/* Now with the canonical index of the big directory, decoded. */
	np = ref_split(es, BIG_DIR, counts);
	ix = craft(&s, es, counts, np, root);
	if (ix == NULL)
		goto out;
	if ((parts = calloc(np, sizeof(*parts))) == NULL)
		abort();
	for (i = 0; i < np; i++)
		parts[i] = store_tree(&s, ix->parts[i].id);
	CHECK_RC(cf_tree_check_index(ix, parts, np), 0);

	/* Parts out of order: as given, and as the index would list them. */
	t = parts[0];
	parts[0] = parts[1];
	parts[1] = t;
	CHECK_RC(cf_tree_check_index(ix, parts, np), NOTAUTH);
	parts[1] = parts[0];
	parts[0] = t;
	memcpy(ps, ix->parts, np * sizeof(ps[0]));
	ps[0] = ix->parts[1];
	ps[1] = ix->parts[0];
	p = raw_index(ps, np, &len);
	CHECK_RC(decode_rc(p, len), NOTAUTH);
	free(p);
	CHECK(cf_tree_encode_index(ps, np, &p, &len) == EINV);

	/* A part missing. */
	CHECK_RC(cf_tree_check_index(ix, parts, np - 1), NOTAUTH);

	/*
	 * Overlap: part 0 also holds part 1's first entry, and the index
	 * says so (counts match, names sorted): refused for the overlap.
	 */
	memcpy(ps, ix->parts, np * sizeof(ps[0]));
	ps[0].count++;
	p = raw_index(ps, np, &len);
	CHECK_RC(cf_tree_decode(p, len, &t), 0);
	free(p);
	ovl = parts[0];
	p = raw_leaf(es, counts[0] + 1, 0, &len);
	CHECK_RC(cf_tree_decode(p, len, &parts[0]), 0);
	free(p);
	CHECK_RC(cf_tree_check_index(t, parts, np), NOTAUTH);
	cf_tree_check_init(&chk, t);
	CHECK_RC(cf_tree_check_part(&chk, parts[0]), NOTAUTH);
	cf_tree_free(parts[0]);
	cf_tree_free(t);
	t = ovl;
	/* A part that does not start at its first name (a gap). */
	p = raw_leaf(es + 1, counts[0], 0, &len);
	CHECK_RC(cf_tree_decode(p, len, &parts[0]), 0);
	free(p);
	CHECK_RC(cf_tree_check_index(ix, parts, np), NOTAUTH);
	cf_tree_free(parts[0]);
	parts[0] = t;

	/* A part that is itself an index. */
	t = parts[1];
	parts[1] = ix;
	CHECK_RC(cf_tree_check_index(ix, parts, np), NOTAUTH);
	parts[1] = t;

	/* The index's count differs from the part's. */
	memcpy(ps, ix->parts, np * sizeof(ps[0]));
	ps[2].count++;
	p = raw_index(ps, np, &len);
	CHECK_RC(cf_tree_decode(p, len, &t), 0);
	free(p);
	CHECK_RC(cf_tree_check_index(t, parts, np), NOTAUTH);
	cf_tree_free(t);

	CHECK_RC(cf_tree_check_index(ix, parts, np), 0);
	for (i = 0; i < np; i++)
		cf_tree_free(parts[i]);
	free(parts);
	cf_tree_free(ix);
out:
	store_free(&s);
	free(es);
	free(nb);
}

/*
 * The size rule: a directory of fewer than 4096 entries that does not fit
 * in 16 MiB is an index; parts of files with 1000 lists each are cut by
 * size (about 466 entries per part).
 */
static void
test_split_by_size(void)
{
	enum { NFILES = 2000, NLIST_FILES = 600, NLISTS = 1000 };
	struct cf_tree_entry *es;
	char (*nb)[NAME_BYTES];
	struct cf_ref *lists;
	size_t counts[64], alt[64], np, i;
	struct cf_tree *ix;
	struct store s;
	uint8_t root[32], *p;
	size_t len;

	if ((es = calloc(NFILES, sizeof(*es))) == NULL ||
	    (nb = calloc(NFILES, NAME_BYTES)) == NULL ||
	    (lists = calloc(NLISTS, sizeof(*lists))) == NULL)
		abort();
	store_init(&s, 0);

	/* 2000 files of 256 chunks: 18.9 MB, cut by mark after 1024. */
	for (i = 0; i < NFILES; i++) {
		snprintf(nb[i], NAME_BYTES, "video-%05zu.mkv", i);
		es[i] = e_file(nb[i], chunks, REF_DIRECT_MAX);
	}
	CHECK_RC(enc_rc(es, NFILES), COFFER_ETOOBIG);
	np = ref_split(es, NFILES, counts);
	ix = build(&s, es, NFILES, root);
	CHECK(ix != NULL && ix->kind == CF_TREE_INDEX && ix->n == np);
	if (ix != NULL)
		CHECK_RC(check_parts(&s, ix), 0);
	cf_tree_free(ix);
	store_free(&s);

	/* 600 files of 1000 lists: 21.6 MB, cut by size before 1024. */
	store_init(&s, 0);
	for (i = 0; i < NLISTS; i++) {
		tu_fill(lists[i].id, 32, 500000 + i);
		lists[i].len = REF_LIST_MAX;
	}
	for (i = 0; i < NLIST_FILES; i++)
		es[i] = e_lists(nb[i], lists, NLISTS,
		    (uint64_t)NLISTS * REF_LIST_MAX * 1000000);
	np = ref_split(es, NLIST_FILES, counts);
	CHECK(np == 2 && counts[0] < REF_SPLIT_MIN);
	ix = build(&s, es, NLIST_FILES, root);
	CHECK(ix != NULL && ix->n == np && ix->parts[0].count == counts[0]);
	if (ix != NULL)
		CHECK_RC(check_parts(&s, ix), 0);
	cf_tree_free(ix);

	/* Control, then a size cut one entry early: not needed, refused. */
	ix = craft(&s, es, counts, np, root);
	CHECK(ix != NULL && check_parts(&s, ix) == 0);
	cf_tree_free(ix);
	memcpy(alt, counts, sizeof(alt));
	alt[0]--;
	alt[1]++;
	ix = craft(&s, es, alt, np, root);
	CHECK(ix != NULL && check_parts(&s, ix) == NOTAUTH);
	cf_tree_free(ix);
	/* One entry later the part would pass 16 MiB: no such tree. */
	p = raw_leaf(es, counts[0] + 1, 0, &len);
	CHECK(len > REF_TREE_MAX);
	CHECK_RC(decode_rc(p, len), NOTAUTH);
	free(p);
	CHECK_RC(enc_rc(es, counts[0] + 1), COFFER_ETOOBIG);

	store_free(&s);
	free(lists);
	free(es);
	free(nb);
}

/*
 * Names whose marks the test chooses: "c%06zu-%u" with the smallest salt
 * that gives the wanted mark, so that each rule of the split can be put
 * to the test alone.
 */
static void
ctl_name(char *buf, size_t i, int marked)
{
	unsigned salt;

	for (salt = 0;; salt++) {
		snprintf(buf, NAME_BYTES, "c%06zu-%u", i, salt);
		if (ref_mark((const uint8_t *)buf, strlen(buf)) == marked)
			return;
	}
}

/* ${n} small entries, marked exactly at the given indices. */
static struct cf_tree_entry *
ctl_dir(size_t n, const size_t *marks, size_t nmarks,
    char (**nbp)[NAME_BYTES])
{
	struct cf_tree_entry *es;
	char (*nb)[NAME_BYTES];
	size_t i, k;
	int m;

	if ((es = calloc(n + 1, sizeof(*es))) == NULL ||
	    (nb = calloc(n + 1, NAME_BYTES)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		for (k = 0, m = 0; k < nmarks; k++)
			if (marks[k] == i)
				m = 1;
		ctl_name(nb[i], i, m);
		es[i] = e_dir(nb[i], (uint8_t)i);
	}
	*nbp = nb;
	return es;
}

/* Check an index's parts with the streaming checker, stopping early. */
static int
check_first(struct store *s, const struct cf_tree *ix, size_t nparts)
{
	struct cf_tree_check chk;
	struct cf_tree *t;
	size_t i;

	cf_tree_check_init(&chk, ix);
	for (i = 0; i < nparts; i++) {
		t = store_tree(s, ix->parts[i].id);
		cf_tree_check_part(&chk, t);
		cf_tree_free(t);
	}
	return cf_tree_check_end(&chk);
}

/*
 * Marks at 1022, 1023, 1059, 2500 and 4000 only.  The mark at index
 * 1022 (the 1023rd entry) is below the minimum; the one at 1023 (the
 * 1024th) cuts; 1059 is only 36 into the next part.  Canonical parts:
 * 1024, 1477, 1500, 999.
 */
static void
test_split_marks(void)
{
	static const size_t marks[] = { 1022, 1023, 1059, 2500, 4000 };
	static const size_t want[] = { 1024, 1477, 1500, 999 };
	struct cf_tree_entry *es;
	char (*nb)[NAME_BYTES];
	size_t counts[64], alt[64], np, i;
	struct cf_tree *ix;
	struct store s;
	uint8_t root[32];

	es = ctl_dir(5000, marks, 5, &nb);
	np = ref_split(es, 5000, counts);
	CHECK(np == 4 && memcmp(counts, want, sizeof(want)) == 0);
	store_init(&s, 0);
	ix = build(&s, es, 5000, root);
	CHECK(ix != NULL && ix->n == 4);
	for (i = 0; ix != NULL && i < ix->n && i < 4; i++)
		CHECK(ix->parts[i].count == want[i]);
	if (ix != NULL)
		CHECK_RC(check_parts(&s, ix), 0);
	cf_tree_free(ix);

	/* Cut at the mark below the minimum (the 1023rd entry): refused. */
	memcpy(alt, want, sizeof(want));
	alt[0] = 1023;
	alt[1] = 1478;
	ix = craft(&s, es, alt, 4, root);
	CHECK(ix != NULL && check_parts(&s, ix) == NOTAUTH);
	cf_tree_free(ix);

	/*
	 * Past the mark on the 1024th entry, to the next mark (at 1060: a
	 * justified end): refused only because the 1024th entry should have
	 * cut.  The second part (1060..2500) is canonical on its own.
	 */
	alt[0] = 1060;
	alt[1] = 1441;
	ix = craft(&s, es, alt, 4, root);
	CHECK(ix != NULL && check_parts(&s, ix) == NOTAUTH);
	cf_tree_free(ix);

	store_free(&s);
	free(es);
	free(nb);
}

/*
 * No marks at all: parts are cut at 4096 entries.  With such parts each
 * of the other rules can be broken alone.
 */
static void
test_split_unmarked(void)
{
	enum { N = 9000 };
	static const size_t want[] = { 4096, 4096, 808 };
	struct cf_tree_entry *es, *moved;
	char (*nb)[NAME_BYTES];
	char zname[NAME_BYTES];
	size_t counts[64], alt[64], np, i;
	struct cf_tree *ix, *t, *parts[3];
	struct cf_tree_part ps[3];
	struct store s;
	uint8_t root[32], *p;
	size_t len;

	es = ctl_dir(N, NULL, 0, &nb);
	np = ref_split(es, N, counts);
	CHECK(np == 3 && memcmp(counts, want, sizeof(want)) == 0);
	store_init(&s, 0);
	ix = build(&s, es, N, root);
	CHECK(ix != NULL && ix->n == 3);
	for (i = 0; ix != NULL && i < 3; i++)
		CHECK(ix->parts[i].count == want[i]);
	if (ix != NULL) {
		CHECK_RC(check_parts(&s, ix), 0);
		/* The streaming checker wants every part. */
		CHECK_RC(check_first(&s, ix, 3), 0);
		CHECK_RC(check_first(&s, ix, 2), NOTAUTH);
	}
	cf_tree_free(ix);

	/* A count cut one early is not a cut. */
	memcpy(alt, want, sizeof(want));
	alt[0] = 4095;
	alt[1] = 4096;
	alt[2] = 809;
	ix = craft(&s, es, alt, 3, root);
	CHECK(ix != NULL && check_parts(&s, ix) == NOTAUTH);
	cf_tree_free(ix);

	/*
	 * Overlap: part 0 is c0..c4094 and an unmarked "z..." name, which
	 * sorts after part 1's first name c4095.  Each part is canonical on
	 * its own (4096 entries, then 905); only the order across them is
	 * wrong.
	 */
	if ((moved = calloc(N + 1, sizeof(*moved))) == NULL)
		abort();
	memcpy(moved, es, N * sizeof(*moved));
	for (i = 0;; i++) {
		snprintf(zname, sizeof(zname), "z%zu", i);
		if (!ref_mark((const uint8_t *)zname, strlen(zname)))
			break;
	}
	moved[4095] = e_dir(zname, 0x7a);
	/* Part 0: c0..c4094 and "z"; part 1: c4095..c8190; part 2: the rest. */
	p = raw_leaf(moved, 4096, 0, &len);
	cf_object_id(id_key, CF_OBJ_TREE, p, len, ps[0].id);
	store_emit(&s, CF_OBJ_TREE, p, len, ps[0].id);
	free(p);
	p = raw_leaf(es + 4095, 4096, 0, &len);
	cf_object_id(id_key, CF_OBJ_TREE, p, len, ps[1].id);
	store_emit(&s, CF_OBJ_TREE, p, len, ps[1].id);
	free(p);
	p = raw_leaf(es + 8191, N - 8191, 0, &len);
	cf_object_id(id_key, CF_OBJ_TREE, p, len, ps[2].id);
	store_emit(&s, CF_OBJ_TREE, p, len, ps[2].id);
	free(p);
	ps[0].first = es[0].name;
	ps[0].firstlen = es[0].namelen;
	ps[0].count = 4096;
	ps[1].first = es[4095].name;
	ps[1].firstlen = es[4095].namelen;
	ps[1].count = 4096;
	ps[2].first = es[8191].name;
	ps[2].firstlen = es[8191].namelen;
	ps[2].count = (uint32_t)(N - 8191);
	CHECK_RC(cf_tree_encode_index(ps, 3, &p, &len), 0);
	CHECK_RC(cf_tree_decode(p, len, &ix), 0);
	free(p);
	for (i = 0; i < 3; i++)
		parts[i] = store_tree(&s, ps[i].id);
	CHECK_RC(cf_tree_check_index(ix, parts, 3), NOTAUTH);
	/* Control: part 0 without the "z" name, but c4095, is accepted. */
	cf_tree_free(parts[0]);
	p = raw_leaf(es, 4096, 0, &len);
	CHECK_RC(cf_tree_decode(p, len, &parts[0]), 0);
	free(p);
	cf_tree_free(parts[1]);
	p = raw_leaf(es + 4096, 4096, 0, &len);
	CHECK_RC(cf_tree_decode(p, len, &parts[1]), 0);
	free(p);
	cf_tree_free(parts[2]);
	p = raw_leaf(es + 8192, N - 8192, 0, &len);
	CHECK_RC(cf_tree_decode(p, len, &parts[2]), 0);
	free(p);
	cf_tree_free(ix);
	ps[1].first = es[4096].name;
	ps[1].firstlen = es[4096].namelen;
	ps[2].first = es[8192].name;
	ps[2].firstlen = es[8192].namelen;
	ps[2].count = (uint32_t)(N - 8192);
	CHECK_RC(cf_tree_encode_index(ps, 3, &p, &len), 0);
	CHECK_RC(cf_tree_decode(p, len, &ix), 0);
	free(p);
	CHECK_RC(cf_tree_check_index(ix, parts, 3), 0);

	/*
	 * The index names a first name that is not in its part: part 0
	 * holds c1..c4096 (4096 entries) but the index says c0.
	 */
	cf_tree_free(parts[0]);
	p = raw_leaf(es + 1, 4096, 0, &len);
	CHECK_RC(cf_tree_decode(p, len, &parts[0]), 0);
	free(p);
	cf_tree_free(parts[1]);
	p = raw_leaf(es + 4097, 4096, 0, &len);
	CHECK_RC(cf_tree_decode(p, len, &parts[1]), 0);
	free(p);
	cf_tree_free(parts[2]);
	p = raw_leaf(es + 8193, N - 8193, 0, &len);
	CHECK_RC(cf_tree_decode(p, len, &parts[2]), 0);
	free(p);
	cf_tree_free(ix);
	ps[1].first = es[4097].name;
	ps[1].firstlen = es[4097].namelen;
	ps[2].first = es[8193].name;
	ps[2].firstlen = es[8193].namelen;
	ps[2].count = (uint32_t)(N - 8193);
	CHECK_RC(cf_tree_encode_index(ps, 3, &p, &len), 0);
	CHECK_RC(cf_tree_decode(p, len, &ix), 0);
	free(p);
	CHECK_RC(cf_tree_check_index(ix, parts, 3), NOTAUTH);
	/* Control: the index names c1, the first name it holds. */
	cf_tree_free(ix);
	ps[0].first = es[1].name;
	ps[0].firstlen = es[1].namelen;
	CHECK_RC(cf_tree_encode_index(ps, 3, &p, &len), 0);
	CHECK_RC(cf_tree_decode(p, len, &ix), 0);
	free(p);
	CHECK_RC(cf_tree_check_index(ix, parts, 3), 0);

	/*
	 * A part that is an index, with as many parts as the part's count
	 * and the right first name: refused for its kind.
	 */
	{
		struct cf_tree_part *fake;
		struct cf_tree *fk;

		if ((fake = calloc(N - 8193, sizeof(*fake))) == NULL)
			abort();
		for (i = 0; i < N - 8193; i++) {
			fake[i].first = es[8193 + i].name;
			fake[i].firstlen = es[8193 + i].namelen;
			fake[i].count = 1;
		}
		CHECK_RC(cf_tree_encode_index(fake, N - 8193, &p, &len), 0);
		CHECK_RC(cf_tree_decode(p, len, &fk), 0);
		free(p);
		t = parts[2];
		parts[2] = fk;
		CHECK_RC(cf_tree_check_index(ix, parts, 3), NOTAUTH);
		parts[2] = t;
		CHECK_RC(cf_tree_check_index(ix, parts, 3), 0);
		cf_tree_free(fk);
		free(fake);
	}

	for (i = 0; i < 3; i++)
		cf_tree_free(parts[i]);
	cf_tree_free(ix);
	free(moved);
	store_free(&s);
	free(es);
	free(nb);
}

/* ---- Chunk lists ---- */

struct emitted {
	size_t n;
	uint8_t id[4][32];
	uint8_t *buf[4];
	size_t len[4];
};

static int
collect_emit(void *ctx, uint8_t type, const uint8_t *plain, size_t len,
    const uint8_t id[static 32])
{
	struct emitted *em = ctx;

	CHECK(type == CF_OBJ_LIST);
	if (em->n == 4)
		return COFFER_EINTERNAL;
	memcpy(em->id[em->n], id, 32);
	if ((em->buf[em->n] = malloc(len)) == NULL)
		abort();
	memcpy(em->buf[em->n], plain, len);
	em->len[em->n] = len;
	em->n++;
	return 0;
}

static void
emitted_free(struct emitted *em)
{
	size_t i;

	for (i = 0; i < em->n; i++)
		free(em->buf[i]);
	memset(em, 0, sizeof(*em));
}

/*
 * build_file(n, em, e): turn chunks[0..n) into an entry; check it against
 * the lists it made.
 */
static void
build_file(size_t n, size_t want_lists, uint8_t want_how)
{
	struct emitted em;
	struct cf_list *l[4] = { NULL, NULL, NULL, NULL };
	struct cf_tree_entry e;
	struct cf_ref *refs = NULL;
	uint64_t size = 0;
	size_t nrefs = 0, i, off;
	uint8_t how = 9, id[32];

	memset(&em, 0, sizeof(em));
	CHECK_RC(cf_list_build(chunks, n, id_key, collect_emit, &em, &how,
	    &refs, &nrefs, &size), 0);
	CHECK(how == want_how && em.n == want_lists);
	CHECK(size == sum_len(chunks, n));
	e = e_file("f", refs, nrefs);
	e.how = how;
	e.size = size;
	CHECK_RC(cf_tree_entry_check(&e), 0);
	if (how == CF_FILE_CHUNKS) {
		CHECK(nrefs == n && (n == 0 ? refs == NULL :
		    memcmp(refs, chunks, n * sizeof(*refs)) == 0));
		goto out;
	}
	CHECK(nrefs == em.n);
	for (i = 0, off = 0; i < em.n && i < nrefs; i++) {
		CHECK(memcmp(refs[i].id, em.id[i], 32) == 0);
		cf_object_id(id_key, CF_OBJ_LIST, em.buf[i], em.len[i], id);
		CHECK(memcmp(id, em.id[i], 32) == 0);
		CHECK_RC(cf_list_decode(em.buf[i], em.len[i], &l[i]), 0);
		if (l[i] == NULL)
			continue;
		CHECK(l[i]->n == refs[i].len);
		CHECK(i + 1 == nrefs || l[i]->n == REF_LIST_MAX);
		CHECK(memcmp(l[i]->chunks, chunks + off,
		    l[i]->n * sizeof(*refs)) == 0);
		off += l[i]->n;
	}
	CHECK(off == n);
	CHECK_RC(cf_list_check(&e, l, em.n), 0);
	/* Inconsistent: a size, a count, a missing list. */
	e.size++;
	CHECK_RC(cf_list_check(&e, l, em.n), NOTAUTH);
	e.size--;
	CHECK_RC(cf_list_check(&e, l, em.n - 1), NOTAUTH);
	if (l[0] != NULL) {
		l[0]->n--;
		CHECK_RC(cf_list_check(&e, l, em.n), NOTAUTH);
		l[0]->n++;
		l[0]->bytes--;
		CHECK_RC(cf_list_check(&e, l, em.n), NOTAUTH);
		l[0]->bytes++;
	}
	CHECK_RC(cf_list_check(&e, l, em.n), 0);
out:
	for (i = 0; i < 4; i++)
		cf_list_free(l[i]);
	free(refs);
	emitted_free(&em);
}

static void
test_list_build(void)
{
	build_file(0, 0, CF_FILE_CHUNKS);
	build_file(1, 0, CF_FILE_CHUNKS);
	build_file(REF_DIRECT_MAX, 0, CF_FILE_CHUNKS);
	build_file(REF_DIRECT_MAX + 1, 1, CF_FILE_LISTS);
	build_file(300, 1, CF_FILE_LISTS);
	build_file(REF_LIST_MAX, 1, CF_FILE_LISTS);
	build_file(REF_LIST_MAX + 1, 2, CF_FILE_LISTS);
	build_file(2 * REF_LIST_MAX, 2, CF_FILE_LISTS);
}

static void
test_list_builder_refuses(void)
{
	struct cf_list_builder *b = NULL;
	struct cf_ref *refs = NULL;
	struct emitted em;
	uint64_t size;
	size_t nrefs;
	uint8_t how;

	memset(&em, 0, sizeof(em));
	CHECK_RC(cf_list_builder_new(id_key, collect_emit, &em, &b), 0);
	CHECK_RC(cf_list_builder_add(b, chunks[0].id, 1), 0);
	CHECK_RC(cf_list_builder_add(b, chunks[0].id, REF_CHUNK_MAX), 0);
	CHECK_RC(cf_list_builder_add(b, chunks[0].id, REF_CHUNK_MAX + 1), EINV);
	/* After an error, nothing more. */
	CHECK_RC(cf_list_builder_add(b, chunks[0].id, 1), EINV);
	CHECK_RC(cf_list_builder_finish(b, &how, &refs, &nrefs, &size), EINV);
	CHECK(refs == NULL && nrefs == 0);
	cf_list_builder_free(b);

	CHECK_RC(cf_list_builder_new(id_key, collect_emit, &em, &b), 0);
	CHECK_RC(cf_list_builder_add(b, chunks[0].id, 0), EINV);
	cf_list_builder_free(b);
	cf_list_builder_free(NULL);
	emitted_free(&em);
}

static uint8_t *
raw_list(uint64_t bytes, const struct cf_ref *c, size_t n, size_t trail,
    size_t *lenp)
{
	struct cf_wr w;
	size_t i;

	cf_wr_init(&w, SIZE_MAX, 0);
	cf_wr_bytes(&w, "CFCL", 4);
	cf_wr_u8(&w, 1);
	cf_wr_u64(&w, bytes);
	cf_wr_u32(&w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		cf_wr_bytes(&w, c[i].id, 32);
		cf_wr_u32(&w, c[i].len);
	}
	for (i = 0; i < trail; i++)
		cf_wr_u8(&w, 0);
	return raw_finish(&w, lenp);
}

static int
list_rc(const uint8_t *p, size_t len)
{
	struct cf_list *l = (struct cf_list *)1;
	int r = cf_list_decode(p, len, &l);

	if (r != 0)
		CHECK(l == NULL);
	cf_list_free(l);
	return r;
}

static void
test_list_codec(void)
{
	struct cf_ref c[3];
	struct cf_list *l = NULL;
	uint8_t *p, *q;
	size_t len, qlen, i;
	uint64_t sum;

	memcpy(c, chunks, sizeof(c));
	sum = sum_len(c, 3);
	CHECK_RC(cf_list_encode(c, 3, &q, &qlen), 0);
	p = raw_list(sum, c, 3, 0, &len);
	CHECK(qlen == len && memcmp(p, q, len) == 0);
	CHECK_RC(cf_list_decode(p, len, &l), 0);
	CHECK(l != NULL && l->n == 3 && l->bytes == sum &&
	    memcmp(l->chunks, c, sizeof(c)) == 0);
	cf_list_free(l);
	for (i = 0; i < len; i++)
		CHECK_RC(list_rc(p, i), NOTAUTH);
	p[0] ^= 1;
	CHECK_RC(list_rc(p, len), NOTAUTH);
	p[0] ^= 1;
	p[4] = 2;
	CHECK_RC(list_rc(p, len), NOTAUTH);
	free(p);
	free(q);

#define LIST_CASE(bytes, n, trail, want) do {				\
	p = raw_list((bytes), c, (n), (trail), &len);			\
	CHECK_RC(list_rc(p, len), (want));				\
	free(p);							\
} while (0)
	LIST_CASE(sum, 3, 0, 0);
	LIST_CASE(sum + 1, 3, 0, NOTAUTH);	/* bytes is the sum */
	LIST_CASE(sum - 1, 3, 0, NOTAUTH);
	LIST_CASE(sum, 3, 1, NOTAUTH);		/* trailing */
	LIST_CASE(0, 0, 0, NOTAUTH);		/* no chunk */
	c[1].len = 0;
	LIST_CASE(c[0].len + c[2].len, 3, 0, NOTAUTH);
	c[1].len = REF_CHUNK_MAX + 1;
	LIST_CASE(sum_len(c, 3), 3, 0, NOTAUTH);
	c[1].len = REF_CHUNK_MAX;
	LIST_CASE(sum_len(c, 3), 3, 0, 0);
#undef LIST_CASE
	CHECK_RC(cf_list_encode(c, 0, &q, &qlen), EINV);
	c[1].len = 0;
	CHECK_RC(cf_list_encode(c, 3, &q, &qlen), EINV);

	/* At most 16384 chunks. */
	sum = sum_len(chunks, REF_LIST_MAX);
	p = raw_list(sum, chunks, REF_LIST_MAX, 0, &len);
	CHECK_RC(list_rc(p, len), 0);
	free(p);
	p = raw_list(sum + chunks[REF_LIST_MAX].len, chunks, REF_LIST_MAX + 1,
	    0, &len);
	CHECK_RC(list_rc(p, len), NOTAUTH);
	free(p);
	CHECK_RC(cf_list_encode(chunks, REF_LIST_MAX + 1, &q, &qlen), EINV);
}

/* ---- The walk ---- */

/* A chain of ${depth} nested directories; returns the root's id. */
static void
build_chain(struct store *s, size_t depth, uint8_t root[32])
{
	struct cf_tree_entry e;
	uint8_t id[32];
	size_t i;

	CHECK_RC(cf_tree_build(NULL, 0, id_key, store_emit, s, id), 0);
	for (i = 1; i < depth; i++) {
		e = e_dir("d", 0);
		memcpy(e.subtree, id, 32);
		CHECK_RC(cf_tree_build(&e, 1, id_key, store_emit, s, id), 0);
	}
	memcpy(root, id, 32);
}

static int
walk_rc(struct store *s, const uint8_t root[32])
{
	struct cf_walk_params p;

	memset(&p, 0, sizeof(p));
	p.load = store_load;
	p.ctx = s;
	return cf_walk(root, &p);
}

static void
test_walk_depth(void)
{
	struct store s;
	struct cf_idset set = { NULL, 0 };
	uint8_t root[32];

	store_init(&s, 1);
	build_chain(&s, 1024, root);
	CHECK_RC(cf_walk_collect(root, store_load, &s, &set), 0);
	CHECK(set.n == 1024 && cf_delta_idset_sorted(&set));
	cf_delta_idset_clear(&set);
	build_chain(&s, 1025, root);
	CHECK_RC(walk_rc(&s, root), NOTAUTH);
	CHECK_RC(cf_walk_collect(root, store_load, &s, &set), NOTAUTH);
	CHECK(set.ids == NULL && set.n == 0);
	store_free(&s);
}

static void
test_walk_cycle(void)
{
	struct cf_tree_entry e;
	struct store s;
	uint8_t a[32], *p;
	size_t len;

	/* Tree A names itself: only a broken loader can serve this. */
	store_init(&s, 0);
	memset(a, 0xa5, 32);
	e = e_dir("loop", 0);
	memcpy(e.subtree, a, 32);
	CHECK_RC(cf_tree_encode_leaf(&e, 1, &p, &len), 0);
	store_put_raw(&s, CF_OBJ_TREE, a, p, len);
	free(p);
	CHECK_RC(walk_rc(&s, a), NOTAUTH);
	/* The depth cap ended it: 1024 loads, not more. */
	CHECK(s.loads == 1024);
	store_free(&s);
}

/* Hand-made versions: ids of what each object is, and the sets. */
struct version {
	uint8_t root[32], sub[32], empty[32], list[32], bigdir[32];
	struct cf_idset bigdir_trees;	/* its index and parts */
};

/* An idset of ${n} ids given as pointers; sorted, unique. */
static void
idset_of(struct cf_idset *s, const uint8_t *const *ids, size_t n)
{
	size_t i, j, k;
	uint8_t t[32];

	if ((s->ids = malloc(n * 32 + 1)) == NULL)
		abort();
	for (i = 0; i < n; i++)
		memcpy(s->ids + i * 32, ids[i], 32);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && memcmp(s->ids + (j - 1) * 32,
		    s->ids + j * 32, 32) > 0; j--) {
			memcpy(t, s->ids + j * 32, 32);
			memcpy(s->ids + j * 32, s->ids + (j - 1) * 32, 32);
			memcpy(s->ids + (j - 1) * 32, t, 32);
		}
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || memcmp(s->ids + (k - 1) * 32, s->ids + i * 32,
		    32) != 0)
			memmove(s->ids + (k++) * 32, s->ids + i * 32, 32);
	s->n = k;
}

static int
idset_eq(const struct cf_idset *a, const struct cf_idset *b)
{
	return a->n == b->n && (a->n == 0 ||
	    memcmp(a->ids, b->ids, a->n * 32) == 0);
}

/*
 * Version 1:  /a (chunks 0,1)  /big (300 chunks 1000.., one list)
 *             /sub/{b (chunks 0,2), ln -> x, empty/}  /sub2 (= empty)
 *             /many/ (5000 entries: an index)
 * Version 2:  /a (chunks 0,3)  /new (chunk 4); sub2 gone; the rest equal.
 */
static void
make_version(struct store *s, int v2, struct version *v)
{
	struct cf_tree_entry es[6], sub[3], *many;
	char (*nb)[NAME_BYTES];
	struct cf_ref two[2], *refs = NULL;
	struct cf_tree *ix;
	size_t nrefs = 0, i;
	uint64_t size = 0;
	uint8_t how = 0;

	CHECK_RC(cf_tree_build(NULL, 0, id_key, store_emit, s, v->empty), 0);
	two[0] = chunks[0];
	two[1] = chunks[2];
	sub[0] = e_file("b", two, 2);
	sub[1] = e_link("ln", "x");
	sub[2] = e_dir("empty", 0);
	memcpy(sub[2].subtree, v->empty, 32);
	CHECK_RC(cf_tree_build(sub, 3, id_key, store_emit, s, v->sub), 0);

	CHECK_RC(cf_list_build(chunks + 1000, 300, id_key, store_emit, s,
	    &how, &refs, &nrefs, &size), 0);
	CHECK(how == CF_FILE_LISTS && nrefs == 1);
	memcpy(v->list, refs[0].id, 32);

	many = big_dir(5000, &nb);
	for (i = 0; i < 5000; i++) {
		if (many[i].type == CF_TREE_DIR)
			memcpy(many[i].subtree, v->empty, 32);
		else if (many[i].type == CF_TREE_FILE)
			many[i] = e_file(nb[i], chunks + 2000 + i % 50, 1);
	}
	CHECK_RC(cf_tree_build(many, 5000, id_key, store_emit, s, v->bigdir),
	    0);
	/* Its trees: the index, then its parts. */
	ix = store_tree(s, v->bigdir);
	CHECK(ix != NULL && ix->kind == CF_TREE_INDEX);
	if ((v->bigdir_trees.ids = malloc(((ix ? ix->n : 0) + 1) * 32)) == NULL)
		abort();
	memcpy(v->bigdir_trees.ids, v->bigdir, 32);
	for (i = 0; ix != NULL && i < ix->n; i++)
		memcpy(v->bigdir_trees.ids + (i + 1) * 32, ix->parts[i].id, 32);
	v->bigdir_trees.n = (ix ? ix->n : 0) + 1;
	cf_tree_free(ix);
	free(many);
	free(nb);

	two[0] = chunks[0];
	two[1] = chunks[v2 ? 3 : 1];
	es[0] = e_file("a", two, 2);
	es[1] = e_lists("big", refs, nrefs, size);
	es[2] = e_dir("sub", 0);
	memcpy(es[2].subtree, v->sub, 32);
	es[3] = e_dir("many", 0);
	memcpy(es[3].subtree, v->bigdir, 32);
	if (!v2) {
		es[4] = e_dir("sub2", 0);
		memcpy(es[4].subtree, v->empty, 32);
	} else {
		es[4] = e_file("new", chunks + 4, 1);
	}
	CHECK_RC(cf_tree_build(es, 5, id_key, store_emit, s, v->root), 0);
	free(refs);
}

/* The hand-computed reachable set of a version. */
static void
version_set(const struct version *v, int v2, struct cf_idset *out)
{
	const uint8_t *ids[400];
	size_t n = 0, i;

	ids[n++] = v->root;
	ids[n++] = v->sub;
	ids[n++] = v->empty;
	ids[n++] = v->list;
	for (i = 0; i < v->bigdir_trees.n; i++)
		ids[n++] = v->bigdir_trees.ids + i * 32;
	ids[n++] = chunks[0].id;		/* a, and sub/b */
	ids[n++] = chunks[2].id;		/* sub/b */
	ids[n++] = chunks[v2 ? 3 : 1].id;	/* a */
	if (v2)
		ids[n++] = chunks[4].id;	/* new */
	for (i = 0; i < 300; i++)
		ids[n++] = chunks[1000 + i].id;	/* big, through its list */
	/* many/: its files use chunks 2000..2049, one each. */
	for (i = 0; i < 50; i++)
		ids[n++] = chunks[2000 + i].id;
	idset_of(out, ids, n);
}

static void
test_walk_reachable(void)
{
	struct store s;
	struct version v;
	struct cf_idset got = { NULL, 0 }, want = { NULL, 0 };

	memset(&v, 0, sizeof(v));
	store_init(&s, 1);
	make_version(&s, 0, &v);
	CHECK(v.bigdir_trees.n >= 3);		/* an index and its parts */
	CHECK_RC(cf_walk_collect(v.root, store_load, &s, &got), 0);
	version_set(&v, 0, &want);
	CHECK(idset_eq(&got, &want));
	cf_delta_idset_clear(&got);
	cf_delta_idset_clear(&want);
	cf_delta_idset_clear(&v.bigdir_trees);
	store_free(&s);
}

static void
test_walk_delta(void)
{
	struct store s;
	struct version v1, v2;
	struct cf_idset r1 = { NULL, 0 }, r2 = { NULL, 0 };
	struct cf_idset start = { NULL, 0 }, stop = { NULL, 0 };
	struct cf_delta *d = NULL, *d2 = NULL;
	const uint8_t *ids[4];
	uint8_t *buf = NULL;
	size_t len = 0;

	memset(&v1, 0, sizeof(v1));
	memset(&v2, 0, sizeof(v2));
	store_init(&s, 1);
	make_version(&s, 0, &v1);
	make_version(&s, 1, &v2);
	/* Only the root changed among the trees; the list is the same. */
	CHECK(memcmp(v1.sub, v2.sub, 32) == 0 &&
	    memcmp(v1.list, v2.list, 32) == 0 &&
	    memcmp(v1.root, v2.root, 32) != 0);
	CHECK_RC(cf_walk_collect(v1.root, store_load, &s, &r1), 0);
	CHECK_RC(cf_walk_collect(v2.root, store_load, &s, &r2), 0);
	CHECK_RC(cf_delta_compute(&r1, &r2, &d), 0);

	ids[0] = v2.root;
	ids[1] = chunks[3].id;
	ids[2] = chunks[4].id;
	idset_of(&start, ids, 3);
	ids[0] = v1.root;
	ids[1] = chunks[1].id;
	idset_of(&stop, ids, 2);
	CHECK(d != NULL && idset_eq(&d->start, &start) &&
	    idset_eq(&d->stop, &stop));

	/* Its encoding decodes to the same delta. */
	if (d != NULL) {
		CHECK_RC(cf_delta_encode(d, &buf, &len), 0);
		CHECK_RC(cf_delta_decode(buf, len, &d2), 0);
		CHECK(d2 != NULL && idset_eq(&d2->start, &start) &&
		    idset_eq(&d2->stop, &stop));
	}
	free(buf);
	cf_delta_free(d);
	cf_delta_free(d2);
	cf_delta_idset_clear(&start);
	cf_delta_idset_clear(&stop);
	cf_delta_idset_clear(&r1);
	cf_delta_idset_clear(&r2);
	cf_delta_idset_clear(&v1.bigdir_trees);
	cf_delta_idset_clear(&v2.bigdir_trees);
	store_free(&s);
}

/* The walk refuses a bad part, a bad list, too many entries; passes errors on. */
static void
test_walk_refusals(void)
{
	struct store s;
	struct version v;
	struct cf_walk_params p;
	struct cf_tree_entry e;
	struct cf_ref bad;
	struct obj *o;
	uint8_t root[32];
	size_t i;

	memset(&v, 0, sizeof(v));
	store_init(&s, 1);
	make_version(&s, 0, &v);
	CHECK_RC(walk_rc(&s, v.root), 0);

	/* Too many entries for the cap. */
	memset(&p, 0, sizeof(p));
	p.load = store_load;
	p.ctx = &s;
	p.entries_max = 5000;
	CHECK_RC(cf_walk(v.root, &p), NOTAUTH);
	p.entries_max = 5000 + 5 + 3;	/* many/, the root, sub/ */
	CHECK_RC(cf_walk(v.root, &p), 0);
	p.entries_max--;
	CHECK_RC(cf_walk(v.root, &p), NOTAUTH);

	/* A file whose list holds another number of chunks than it says. */
	bad.len = 301;
	memcpy(bad.id, v.list, 32);
	e = e_lists("f", &bad, 1, 1 << 20);
	CHECK_RC(cf_tree_build(&e, 1, id_key, store_emit, &s, root), 0);
	CHECK_RC(walk_rc(&s, root), NOTAUTH);
	/* ... or another size. */
	bad.len = 300;
	e = e_lists("f", &bad, 1, sum_len(chunks + 1000, 300) + 1);
	CHECK_RC(cf_tree_build(&e, 1, id_key, store_emit, &s, root), 0);
	CHECK_RC(walk_rc(&s, root), NOTAUTH);
	e.size--;
	CHECK_RC(cf_tree_build(&e, 1, id_key, store_emit, &s, root), 0);
	CHECK_RC(walk_rc(&s, root), 0);

	/* A missing object: the loader's error comes back. */
	e = e_dir("gone", 0x77);
	CHECK_RC(cf_tree_build(&e, 1, id_key, store_emit, &s, root), 0);
	CHECK_RC(walk_rc(&s, root), COFFER_ENOENT);

	/* A flipped byte in a part's blob: cf_object_open refuses it. */
	o = store_find(&s, CF_OBJ_TREE, v.bigdir_trees.ids + 32);
	CHECK(o != NULL);
	if (o != NULL) {
		o->data[o->len / 2] ^= 1;
		CHECK_RC(walk_rc(&s, v.root), NOTAUTH);
		o->data[o->len / 2] ^= 1;
	}
	CHECK_RC(walk_rc(&s, v.root), 0);
	/* A damaged header (tag) of another tree: refused as well. */
	for (i = 0; i < s.n; i++)
		if (memcmp(s.o[i].id, v.sub, 32) == 0)
			s.o[i].data[0] ^= 0x80;
	CHECK_RC(walk_rc(&s, v.root), NOTAUTH);
	cf_delta_idset_clear(&v.bigdir_trees);
	store_free(&s);
}

/* A non-canonical split reached through the walk is refused. */
static void
test_walk_noncanonical(void)
{
	struct cf_tree_entry *es;
	char (*nb)[NAME_BYTES];
	size_t counts[64], np;
	struct cf_tree *ix;
	struct store s;
	uint8_t root[32];

	es = big_dir(BIG_DIR, &nb);
	np = ref_split(es, BIG_DIR, counts);
	store_init(&s, 0);
	ix = craft(&s, es, counts, np, root);
	cf_tree_free(ix);
	CHECK_RC(walk_rc(&s, root), COFFER_ENOENT);	/* dirs point nowhere */
	counts[0]++;
	counts[1]--;
	ix = craft(&s, es, counts, np, root);
	cf_tree_free(ix);
	CHECK_RC(walk_rc(&s, root), NOTAUTH);
	/* A directory that fits in a leaf, stored as an index. */
	np = ref_split(es, SMALL_INDEX_DIR, counts);
	ix = craft(&s, es, counts, np, root);
	cf_tree_free(ix);
	CHECK_RC(walk_rc(&s, root), NOTAUTH);
	store_free(&s);
	free(es);
	free(nb);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	tu_fill(id_key, sizeof(id_key), 7);
	make_chunks();

	T_RUN(test_roundtrip_kinds);
	T_RUN(test_empty_dir);
	T_RUN(test_smallest_entries);
	T_RUN(test_sorted_any_order);
	T_RUN(test_refuse_names);
	T_RUN(test_refuse_fields);
	T_RUN(test_refuse_lists_in_tree);
	T_RUN(test_refuse_too_many_lists);
	T_RUN(test_refuse_order);
	T_RUN(test_refuse_structure);
	T_RUN(test_refuse_index_items);
	T_RUN(test_split_canonical);
	T_RUN(test_split_threshold);
	T_RUN(test_split_insert);
	T_RUN(test_split_refusals);
	T_RUN(test_split_by_size);
	T_RUN(test_split_marks);
	T_RUN(test_split_unmarked);
	T_RUN(test_list_build);
	T_RUN(test_list_builder_refuses);
	T_RUN(test_list_codec);
	T_RUN(test_walk_depth);
	T_RUN(test_walk_cycle);
	T_RUN(test_walk_reachable);
	T_RUN(test_walk_delta);
	T_RUN(test_walk_refusals);
	T_RUN(test_walk_noncanonical);
	T_DONE("tree");
}
