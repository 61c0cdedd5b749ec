/*
 * Trees (docs/FORMAT.md §12).
 *
 *   tree  = "CFTR" || u8 version=1 || u8 kind || u32 n || n x item
 *   leaf:  item = entry
 *   index: item = lstr(first_name) || part_id[32] || u32 part_count
 *   entry = lstr(name) || u8 type || u32 mode || u64 mtime_sec
 *           || u32 mtime_nsec || u64 size || ref
 *
 * The decoder checks every rule one tree can be checked against alone;
 * cf_tree_check_*() check an index against its parts.  The canonical
 * split lives in split_next(), which both the builder and (rule by rule)
 * the checker follow.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "tree.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
/*
 * The fewest bytes an item can take: an entry with a 1-byte name and the
 * shortest ref (a file's how || k, or a 1-byte symlink target); an index
 * item with a 1-byte first name.  A count is checked against the bytes
 * left before anything is allocated for it.
 */
#define TREE_ENTRY_MIN	(CF_TREE_ENTRY_FIXED + 1 + CF_TREE_FILE_REF_FIXED)
#define TREE_PART_MIN	(CF_TREE_PART_FIXED + 1)

/* Every single entry fits in a part on its own, so a split always ends. */
_Static_assert(CF_TREE_HDR_BYTES + CF_TREE_ENTRY_MAX <= CF_TREE_BYTES_MAX,
    "FORMAT §12: the largest entry must fit in a leaf");
/* The largest index fits in a tree object. */
_Static_assert(CF_TREE_HDR_BYTES + (size_t)CF_TREE_PARTS_MAX *
    (CF_TREE_PART_FIXED + CF_TREE_NAME_MAX) <= CF_TREE_BYTES_MAX,
    "FORMAT §12: the largest index must fit in a tree");
_Static_assert(CF_TREE_SPLIT_MIN <= CF_TREE_LEAF_MAX, "split minimum");
/* The symlink ref (lstr of at least one byte) is no shorter than a file's. */
_Static_assert(4 + 1 >= CF_TREE_FILE_REF_FIXED && CF_ID_BYTES >=
    CF_TREE_FILE_REF_FIXED, "TREE_ENTRY_MIN is a lower bound");
_Static_assert(sizeof(CF_LABEL_SPLIT) - 1 == 15, "split personal");
/* A file's size cannot overflow: 2^30 chunks of at most 2^23 bytes. */
_Static_assert(CF_FILE_CHUNKS_MAX <= UINT64_MAX / CF_CHUNK_MAX, "file size");

int
cf_tree_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t m = (alen < blen) ? alen : blen;
	int c = 0;

	if (m > 0)
		c = memcmp(a, b, m);
	if (c != 0)
		return c;
	if (alen < blen)
		return -1;
	return (alen > blen) ? 1 : 0;
}

int
cf_tree_name_ok(const uint8_t *name, size_t len)
{
	if (name == NULL || len == 0 || len > CF_TREE_NAME_MAX)
		return 0;
	if (len == 1 && name[0] == '.')
		return 0;
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return 0;
	if (memchr(name, '/', len) != NULL || memchr(name, '\0', len) != NULL)
		return 0;
	return 1;
}

/*
 * file_ok(e):
 * The rules for a file entry's refs and size.
 */
static int
file_ok(const struct cf_tree_entry *e)
{
	uint64_t sum = 0, chunks;
	size_t i;

	if (e->nrefs > 0 && e->refs == NULL)
		return 0;
	switch (e->how) {
	case CF_FILE_CHUNKS:
		if (e->nrefs > CF_FILE_DIRECT_MAX)
			return 0;
		for (i = 0; i < e->nrefs; i++) {
			if (e->refs[i].len == 0 || e->refs[i].len > CF_CHUNK_MAX)
				return 0;
			sum += e->refs[i].len;	/* <= 2^8 * 2^23 */
		}
		return sum == e->size;
	case CF_FILE_LISTS:
		/* All lists full but the last, which holds 1 to 16384. */
		if (e->nrefs == 0 || e->nrefs > CF_FILE_LISTS_MAX)
			return 0;
		for (i = 0; i + 1 < e->nrefs; i++)
			if (e->refs[i].len != CF_LIST_CHUNKS_MAX)
				return 0;
		if (e->refs[i].len == 0 || e->refs[i].len > CF_LIST_CHUNKS_MAX)
			return 0;
		chunks = (uint64_t)(e->nrefs - 1) * CF_LIST_CHUNKS_MAX +
		    e->refs[i].len;
		/* Lists only when direct refs would not do. */
		if (chunks <= CF_FILE_DIRECT_MAX)
			return 0;
		/* Each chunk is 1 to CF_CHUNK_MAX bytes (lists say exactly). */
		return e->size >= chunks &&
		    e->size <= chunks * (uint64_t)CF_CHUNK_MAX;
	default:
		return 0;
	}
}

int
cf_tree_entry_check(const struct cf_tree_entry *e)
{
	if (e == NULL || !cf_tree_name_ok(e->name, e->namelen))
		return COFFER_EINVAL;
	if ((e->mode & ~CF_TREE_MODE_MASK) != 0 ||
	    e->mtime_nsec >= CF_TREE_NSEC_LIMIT)
		return COFFER_EINVAL;
	switch (e->type) {
	case CF_TREE_FILE:
		if (!file_ok(e))
			return COFFER_EINVAL;
		break;
	case CF_TREE_DIR:
		if (e->size != 0)
			return COFFER_EINVAL;
		break;
	case CF_TREE_SYMLINK:
		if (e->size != 0 || e->target == NULL || e->targetlen == 0 ||
		    e->targetlen > CF_TREE_TARGET_MAX ||
		    memchr(e->target, '\0', e->targetlen) != NULL)
			return COFFER_EINVAL;
		break;
	default:
		return COFFER_EINVAL;
	}
	return 0;
}

size_t
cf_tree_entry_size(const struct cf_tree_entry *e)
{
	size_t n = CF_TREE_ENTRY_FIXED + e->namelen;

	switch (e->type) {
	case CF_TREE_FILE:
		n += CF_TREE_FILE_REF_FIXED + e->nrefs * CF_REF_BYTES;
		break;
	case CF_TREE_DIR:
		n += CF_ID_BYTES;
		break;
	default:
		n += 4 + e->targetlen;
		break;
	}
	return n;
}

int
cf_tree_split_mark(const uint8_t *name, size_t len)
{
	crypto_generichash_state st;
	uint8_t h[crypto_generichash_BYTES];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_SPLIT,
	    sizeof(CF_LABEL_SPLIT) - 1);
	if (len > 0)
		crypto_generichash_update(&st, name, len);
	crypto_generichash_final(&st, h, sizeof(h));
	return h[0] < CF_TREE_SPLIT_BELOW;
}

/* ---- Encoding ---- */

static void
entry_write(struct cf_wr *w, const struct cf_tree_entry *e)
{
	size_t i;

	cf_wr_lstr(w, e->name, e->namelen);
	cf_wr_u8(w, e->type);
	cf_wr_u32(w, e->mode);
	cf_wr_u64(w, (uint64_t)e->mtime_sec);
	cf_wr_u32(w, e->mtime_nsec);
	cf_wr_u64(w, e->size);
	switch (e->type) {
	case CF_TREE_FILE:
		cf_wr_u8(w, e->how);
		cf_wr_u32(w, (uint32_t)e->nrefs);	/* <= CF_FILE_LISTS_MAX */
		for (i = 0; i < e->nrefs; i++) {
			cf_wr_bytes(w, e->refs[i].id, CF_ID_BYTES);
			cf_wr_u32(w, e->refs[i].len);
		}
		break;
	case CF_TREE_DIR:
		cf_wr_bytes(w, e->subtree, CF_ID_BYTES);
		break;
	default:
		cf_wr_lstr(w, e->target, e->targetlen);
		break;
	}
}

/*
 * leaf_write(es, n, bufp, lenp):
 * Encode ${n} valid, sorted, distinct entries as a leaf.
 */
static int
leaf_write(const struct cf_tree_entry *const *es, size_t n, uint8_t **bufp,
    size_t *lenp)
{
	struct cf_wr w;
	size_t i;

	if (n > CF_TREE_LEAF_MAX)
		return COFFER_ETOOBIG;
	cf_wr_init(&w, CF_TREE_BYTES_MAX, 0);
	cf_wr_bytes(&w, CF_TREE_TAG, CF_TREE_TAG_BYTES);
	cf_wr_u8(&w, CF_TREE_VERSION);
	cf_wr_u8(&w, CF_TREE_LEAF);
	cf_wr_u32(&w, (uint32_t)n);
	for (i = 0; i < n; i++)
		entry_write(&w, es[i]);
	return cf_wr_finish(&w, bufp, lenp);
}

static int
entry_ptr_cmp(const void *a, const void *b)
{
	const struct cf_tree_entry *const *x = a;
	const struct cf_tree_entry *const *y = b;

	return cf_tree_name_cmp((*x)->name, (*x)->namelen, (*y)->name,
	    (*y)->namelen);
}

/*
 * sort_entries(entries, n, orderp, bytesp):
 * Check every entry, sort pointers to them by name into a malloc'd array,
 * refuse duplicates, and sum their encoded sizes.
 */
static int
sort_entries(const struct cf_tree_entry *entries, size_t n,
    const struct cf_tree_entry ***orderp, uint64_t *bytesp)
{
	const struct cf_tree_entry **order = NULL;
	uint64_t bytes = 0;
	size_t i;
	int r;

	*orderp = NULL;
	*bytesp = 0;
	if (n > 0 && entries == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((order = calloc(n ? n : 1, sizeof(*order))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = cf_tree_entry_check(&entries[i])) != 0)
			goto out;
		order[i] = &entries[i];
		bytes += cf_tree_entry_size(&entries[i]);
	}
	if (n > 1)
		qsort(order, n, sizeof(*order), entry_ptr_cmp);
	for (i = 1; i < n; i++) {
		if (entry_ptr_cmp(&order[i - 1], &order[i]) >= 0) {
			r = COFFER_EINVAL;	/* the same name twice */
			goto out;
		}
	}
	*orderp = order;
	order = NULL;
	*bytesp = bytes;
	r = 0;
out:
	free(order);
	return r;
}

int
cf_tree_encode_leaf(const struct cf_tree_entry *entries, size_t n,
    uint8_t **bufp, size_t *lenp)
{
	const struct cf_tree_entry **order = NULL;
	uint64_t bytes;
	int r;

	*bufp = NULL;
	*lenp = 0;
	if (n > CF_TREE_LEAF_MAX) {
		r = COFFER_ETOOBIG;
		goto out;
	}
	if ((r = sort_entries(entries, n, &order, &bytes)) != 0)
		goto out;
	if (bytes > CF_TREE_BYTES_MAX - CF_TREE_HDR_BYTES) {
		r = COFFER_ETOOBIG;
		goto out;
	}
	r = leaf_write(order, n, bufp, lenp);
out:
	free(order);
	return r;
}

/* The rules on an index's items alone. */
static int
parts_ok(const struct cf_tree_part *parts, size_t n)
{
	size_t i;

	if (n < CF_TREE_PARTS_MIN || n > CF_TREE_PARTS_MAX || parts == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if (!cf_tree_name_ok(parts[i].first, parts[i].firstlen) ||
		    parts[i].count == 0 || parts[i].count > CF_TREE_LEAF_MAX)
			return 0;
		if (i > 0 && cf_tree_name_cmp(parts[i - 1].first,
		    parts[i - 1].firstlen, parts[i].first,
		    parts[i].firstlen) >= 0)
			return 0;
	}
	return 1;
}

int
cf_tree_encode_index(const struct cf_tree_part *parts, size_t n,
    uint8_t **bufp, size_t *lenp)
{
	struct cf_wr w;
	size_t i;

	*bufp = NULL;
	*lenp = 0;
	if (!parts_ok(parts, n))
		return COFFER_EINVAL;
	cf_wr_init(&w, CF_TREE_BYTES_MAX, 0);
	cf_wr_bytes(&w, CF_TREE_TAG, CF_TREE_TAG_BYTES);
	cf_wr_u8(&w, CF_TREE_VERSION);
	cf_wr_u8(&w, CF_TREE_INDEX);
	cf_wr_u32(&w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		cf_wr_lstr(&w, parts[i].first, parts[i].firstlen);
		cf_wr_bytes(&w, parts[i].id, CF_ID_BYTES);
		cf_wr_u32(&w, parts[i].count);
	}
	return cf_wr_finish(&w, bufp, lenp);
}

/*
 * split_next(es, n, start):
 * The canonical split (FORMAT §12): the number of entries in the part
 * that starts at ${es}[${start}].  A part ends before an entry that would
 * take its leaf past CF_TREE_BYTES_MAX; after an entry that brings it to
 * CF_TREE_LEAF_MAX entries; or after an entry whose name is marked, once
 * it holds CF_TREE_SPLIT_MIN entries.
 */
static size_t
split_next(const struct cf_tree_entry *const *es, size_t n, size_t start)
{
	size_t c = 0, bytes = CF_TREE_HDR_BYTES, sz;

	while (start + c < n) {
		sz = cf_tree_entry_size(es[start + c]);
		if (c > 0 && sz > CF_TREE_BYTES_MAX - bytes)
			break;
		bytes += sz;
		c++;
		if (c == CF_TREE_LEAF_MAX)
			break;
		if (c >= CF_TREE_SPLIT_MIN && cf_tree_split_mark(
		    es[start + c - 1]->name, es[start + c - 1]->namelen))
			break;
	}
	return c;
}

/* Compute an object's id and hand it to the caller. */
static int
emit_obj(const uint8_t id_key[static CF_KEY_BYTES], cf_tree_emit_fn *emit,
    void *ctx, uint8_t type, const uint8_t *buf, size_t len,
    uint8_t id[static CF_ID_BYTES])
{
	cf_object_id(id_key, type, buf, len, id);
	return emit(ctx, type, buf, len, id);
}

int
cf_tree_build(const struct cf_tree_entry *entries, size_t n,
    const uint8_t id_key[static CF_KEY_BYTES], cf_tree_emit_fn *emit,
    void *ctx, uint8_t root_id[static CF_ID_BYTES])
{
	const struct cf_tree_entry **order = NULL;
	struct cf_tree_part *parts = NULL;
	size_t *counts = NULL;
	uint8_t *buf = NULL;
	uint8_t id[CF_ID_BYTES];
	size_t len = 0, nparts = 0, start, i;
	uint64_t bytes;
	int r;

	memset(root_id, 0, CF_ID_BYTES);
	if (emit == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((r = sort_entries(entries, n, &order, &bytes)) != 0)
		goto out;

	/* A directory that fits in one leaf is one leaf. */
	if (n <= CF_TREE_LEAF_MAX &&
	    bytes <= CF_TREE_BYTES_MAX - CF_TREE_HDR_BYTES) {
		if ((r = leaf_write(order, n, &buf, &len)) != 0 ||
		    (r = emit_obj(id_key, emit, ctx, CF_OBJ_TREE, buf, len,
		    id)) != 0)
			goto out;
		goto done;
	}

	/* Find the cuts first: nothing is emitted for a directory too large. */
	if ((counts = calloc(CF_TREE_PARTS_MAX, sizeof(*counts))) == NULL ||
	    (parts = calloc(CF_TREE_PARTS_MAX, sizeof(*parts))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (start = 0; start < n; start += counts[nparts++]) {
		if (nparts == CF_TREE_PARTS_MAX) {
			r = COFFER_ETOOBIG;
			goto out;
		}
		counts[nparts] = split_next(order, n, start);
	}
	for (i = 0, start = 0; i < nparts; start += counts[i++]) {
		if ((r = leaf_write(order + start, counts[i], &buf, &len)) != 0 ||
		    (r = emit_obj(id_key, emit, ctx, CF_OBJ_TREE, buf, len,
		    parts[i].id)) != 0)
			goto out;
		free(buf);
		buf = NULL;
		parts[i].first = order[start]->name;
		parts[i].firstlen = order[start]->namelen;
		parts[i].count = (uint32_t)counts[i];	/* <= CF_TREE_LEAF_MAX */
	}
	if ((r = cf_tree_encode_index(parts, nparts, &buf, &len)) != 0 ||
	    (r = emit_obj(id_key, emit, ctx, CF_OBJ_TREE, buf, len, id)) != 0)
		goto out;
done:
	memcpy(root_id, id, CF_ID_BYTES);
	r = 0;
out:
	free(buf);
	free(parts);
	free(counts);
	free(order);
	return r;
}

/* ---- Decoding ---- */

/*
 * entry_read(r, e, pool, npool, usedp):
 * Read one entry into ${e}; a file's refs go into ${pool} from
 * ${*usedp} on (${npool} slots in all).  Checks are the caller's.
 */
static void
entry_read(struct cf_rd *r, struct cf_tree_entry *e, struct cf_ref *pool,
    size_t npool, size_t *usedp)
{
	uint32_t len, k, i;
	struct cf_ref *refs;

	e->name = cf_rd_lstr(r, CF_TREE_NAME_MAX, &len);
	e->namelen = len;
	e->type = cf_rd_u8(r);
	e->mode = cf_rd_u32(r);
	e->mtime_sec = (int64_t)cf_rd_u64(r);
	e->mtime_nsec = cf_rd_u32(r);
	e->size = cf_rd_u64(r);
	switch (e->type) {
	case CF_TREE_FILE:
		e->how = cf_rd_u8(r);
		k = cf_rd_u32(r);
		/* Every ref takes CF_REF_BYTES of input: the pool has room. */
		if (k > cf_rd_left(r) / CF_REF_BYTES || k > npool - *usedp ||
		    k > CF_FILE_LISTS_MAX) {
			cf_rd_fail(r);
			return;
		}
		/* No arithmetic on the pool when it is empty (NULL). */
		refs = (k > 0) ? pool + *usedp : NULL;
		for (i = 0; i < k; i++) {
			cf_rd_copy(r, refs[i].id, CF_ID_BYTES);
			refs[i].len = cf_rd_u32(r);
		}
		e->refs = refs;
		e->nrefs = k;
		*usedp += k;
		break;
	case CF_TREE_DIR:
		cf_rd_copy(r, e->subtree, CF_ID_BYTES);
		break;
	case CF_TREE_SYMLINK:
		e->target = cf_rd_lstr(r, CF_TREE_TARGET_MAX, &len);
		e->targetlen = len;
		break;
	default:
		cf_rd_fail(r);	/* unknown type */
		break;
	}
}

static int
leaf_read(struct cf_rd *r, struct cf_tree *t, size_t n)
{
	size_t npool, used = 0, i;

	if (n > CF_TREE_LEAF_MAX || n > cf_rd_left(r) / TREE_ENTRY_MIN)
		return NOTAUTH;
	if ((t->entries = calloc(n ? n : 1, sizeof(*t->entries))) == NULL)
		return COFFER_ENOMEM;
	npool = cf_rd_left(r) / CF_REF_BYTES;
	if (npool > 0 &&
	    (t->refpool = calloc(npool, sizeof(*t->refpool))) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < n; i++) {
		entry_read(r, &t->entries[i], t->refpool, npool, &used);
		if (r->err)
			return NOTAUTH;
		if (cf_tree_entry_check(&t->entries[i]) != 0)
			return NOTAUTH;
		/* Strictly increasing: sorted, and no name twice. */
		if (i > 0 && cf_tree_name_cmp(t->entries[i - 1].name,
		    t->entries[i - 1].namelen, t->entries[i].name,
		    t->entries[i].namelen) >= 0)
			return NOTAUTH;
	}
	t->n = n;
	return 0;
}

static int
index_read(struct cf_rd *r, struct cf_tree *t, size_t n)
{
	struct cf_tree_part *p;
	uint32_t len;
	size_t i;

	if (n < CF_TREE_PARTS_MIN || n > CF_TREE_PARTS_MAX ||
	    n > cf_rd_left(r) / TREE_PART_MIN)
		return NOTAUTH;
	if ((t->parts = calloc(n, sizeof(*t->parts))) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < n; i++) {
		p = &t->parts[i];
		p->first = cf_rd_lstr(r, CF_TREE_NAME_MAX, &len);
		p->firstlen = len;
		cf_rd_copy(r, p->id, CF_ID_BYTES);
		p->count = cf_rd_u32(r);
		if (r->err)
			return NOTAUTH;
	}
	if (!parts_ok(t->parts, n))
		return NOTAUTH;
	t->n = n;
	return 0;
}

int
cf_tree_decode(const uint8_t *buf, size_t len, struct cf_tree **tp)
{
	struct cf_tree *t = NULL;
	struct cf_rd rd;
	uint32_t n;
	int r;

	*tp = NULL;
	if (buf == NULL || len < CF_TREE_HDR_BYTES || len > CF_TREE_BYTES_MAX) {
		r = NOTAUTH;
		goto out;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->buf = malloc(len)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	memcpy(t->buf, buf, len);
	t->len = len;
	cf_rd_init(&rd, t->buf, len, NOTAUTH);
	cf_rd_expect(&rd, CF_TREE_TAG, CF_TREE_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_TREE_VERSION)
		cf_rd_fail(&rd);
	t->kind = cf_rd_u8(&rd);
	n = cf_rd_u32(&rd);
	if (rd.err) {
		r = NOTAUTH;
		goto out;
	}
	switch (t->kind) {
	case CF_TREE_LEAF:
		r = leaf_read(&rd, t, n);
		break;
	case CF_TREE_INDEX:
		r = index_read(&rd, t, n);
		break;
	default:
		r = NOTAUTH;
		break;
	}
	if (r != 0)
		goto out;
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	*tp = t;
	t = NULL;
out:
	cf_tree_free(t);
	return r;
}

void
cf_tree_free(struct cf_tree *t)
{
	if (t == NULL)
		return;
	cf_wipefree(t->buf, t->len);
	free(t->entries);
	free(t->parts);
	free(t->refpool);
	free(t);
}

/* ---- Checking an index against its parts ---- */

void
cf_tree_check_init(struct cf_tree_check *c, const struct cf_tree *index)
{
	memset(c, 0, sizeof(*c));
	c->index = index;
	if (index == NULL || index->kind != CF_TREE_INDEX)
		c->err = COFFER_EINVAL;
}

static int
check_part(struct cf_tree_check *c, const struct cf_tree *part)
{
	const struct cf_tree *ix = c->index;
	const struct cf_tree_part *ip;
	const struct cf_tree_entry *e, *last;
	size_t i, cnt;
	int is_last;

	if (part == NULL || part->kind != CF_TREE_LEAF || c->next >= ix->n)
		return NOTAUTH;
	ip = &ix->parts[c->next];
	is_last = (c->next + 1 == ix->n);
	cnt = part->n;
	if (cnt == 0 || cnt != ip->count)
		return NOTAUTH;
	e = part->entries;
	last = &e[cnt - 1];

	/* Its entries lie in [its first name, the next part's first name). */
	if (cf_tree_name_cmp(e[0].name, e[0].namelen, ip->first,
	    ip->firstlen) != 0)
		return NOTAUTH;
	if (!is_last && cf_tree_name_cmp(last->name, last->namelen,
	    ix->parts[c->next + 1].first, ix->parts[c->next + 1].firstlen) >= 0)
		return NOTAUTH;

	/* The previous part ended by size only: its next entry did not fit. */
	if (c->need_size_cut &&
	    cf_tree_entry_size(&e[0]) <= CF_TREE_BYTES_MAX - c->prev_len)
		return NOTAUTH;
	c->need_size_cut = 0;

	/*
	 * No cut inside the part: no marked entry from the minimum on, before
	 * the last.  (No size cut inside either: the part fits, being one
	 * decoded tree; no count cut: it holds at most CF_TREE_LEAF_MAX.)
	 */
	for (i = CF_TREE_SPLIT_MIN - 1; i + 1 < cnt; i++)
		if (cf_tree_split_mark(e[i].name, e[i].namelen))
			return NOTAUTH;

	/* A cut at its end, unless the directory ends there. */
	if (!is_last && cnt != CF_TREE_LEAF_MAX &&
	    !(cnt >= CF_TREE_SPLIT_MIN &&
	    cf_tree_split_mark(last->name, last->namelen))) {
		c->need_size_cut = 1;
		c->prev_len = part->len;
	}
	c->entries += cnt;
	c->bytes += part->len - CF_TREE_HDR_BYTES;
	c->next++;
	return 0;
}

int
cf_tree_check_part(struct cf_tree_check *c, const struct cf_tree *part)
{
	int r;

	if (c->err == 0 && (r = check_part(c, part)) != 0)
		c->err = r;
	return c->err;
}

int
cf_tree_check_end(struct cf_tree_check *c)
{
	if (c->err != 0)
		return c->err;
	if (c->next != c->index->n)
		c->err = NOTAUTH;
	/* A directory that fits in one leaf must be stored as one. */
	else if (c->entries <= CF_TREE_LEAF_MAX &&
	    c->bytes <= CF_TREE_BYTES_MAX - CF_TREE_HDR_BYTES)
		c->err = NOTAUTH;
	return c->err;
}

int
cf_tree_check_index(const struct cf_tree *index, struct cf_tree *const *parts,
    size_t nparts)
{
	struct cf_tree_check c;
	size_t i;

	cf_tree_check_init(&c, index);
	if (c.err == 0 && (parts == NULL || nparts != index->n))
		c.err = NOTAUTH;
	for (i = 0; c.err == 0 && i < nparts; i++)
		cf_tree_check_part(&c, parts[i]);
	return cf_tree_check_end(&c);
}
