/*
 * Chunk lists of large files (docs/FORMAT.md §12).
 *
 *   list = "CFCL" || u8 version=1 || u64 bytes || u32 n || n x (id[32] || u32 len)
 *
 * 1 <= n <= 16384; each len 1 to CF_CHUNK_MAX; bytes is their sum.  A
 * file with more than 256 chunks refers to lists, all holding exactly
 * 16384 chunks but the last.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "tree.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC

/* The largest list fits in an object; a full list exceeds direct refs. */
_Static_assert(CF_LIST_BYTES_MAX <= CF_OBJ_PLAIN_MAX, "list object size");
_Static_assert(CF_LIST_CHUNKS_MAX > CF_FILE_DIRECT_MAX, "list size");

int
cf_list_encode(const struct cf_ref *chunks, size_t n, uint8_t **bufp,
    size_t *lenp)
{
	struct cf_wr w;
	uint64_t bytes = 0;
	size_t i;

	*bufp = NULL;
	*lenp = 0;
	if (chunks == NULL || n == 0 || n > CF_LIST_CHUNKS_MAX)
		return COFFER_EINVAL;
	for (i = 0; i < n; i++) {
		if (chunks[i].len == 0 || chunks[i].len > CF_CHUNK_MAX)
			return COFFER_EINVAL;
		bytes += chunks[i].len;
	}
	cf_wr_init(&w, CF_LIST_BYTES_MAX, 0);
	cf_wr_bytes(&w, CF_LIST_TAG, CF_LIST_TAG_BYTES);
	cf_wr_u8(&w, CF_LIST_VERSION);
	cf_wr_u64(&w, bytes);
	cf_wr_u32(&w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		cf_wr_bytes(&w, chunks[i].id, CF_ID_BYTES);
		cf_wr_u32(&w, chunks[i].len);
	}
	return cf_wr_finish(&w, bufp, lenp);
}

int
cf_list_decode(const uint8_t *buf, size_t len, struct cf_list **lp)
{
	struct cf_list *l = NULL;
	struct cf_rd rd;
	uint64_t bytes, sum = 0;
	uint32_t n, i;
	int r;

	*lp = NULL;
	if (buf == NULL || len > CF_LIST_BYTES_MAX) {
		r = NOTAUTH;
		goto out;
	}
	cf_rd_init(&rd, buf, len, NOTAUTH);
	cf_rd_expect(&rd, CF_LIST_TAG, CF_LIST_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_LIST_VERSION)
		cf_rd_fail(&rd);
	bytes = cf_rd_u64(&rd);
	n = cf_rd_u32(&rd);
	if (rd.err || n == 0 || n > CF_LIST_CHUNKS_MAX ||
	    n > cf_rd_left(&rd) / CF_REF_BYTES) {
		r = NOTAUTH;
		goto out;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->chunks = calloc(n, sizeof(*l->chunks))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		cf_rd_copy(&rd, l->chunks[i].id, CF_ID_BYTES);
		l->chunks[i].len = cf_rd_u32(&rd);
		if (l->chunks[i].len == 0 || l->chunks[i].len > CF_CHUNK_MAX)
			cf_rd_fail(&rd);
		sum += l->chunks[i].len;	/* <= 2^14 * 2^23 */
	}
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	if (sum != bytes) {
		r = NOTAUTH;
		goto out;
	}
	l->bytes = bytes;
	l->n = n;
	*lp = l;
	l = NULL;
	r = 0;
out:
	cf_list_free(l);
	return r;
}

void
cf_list_free(struct cf_list *l)
{
	if (l == NULL)
		return;
	free(l->chunks);
	free(l);
}

/* ---- Building a file's refs ---- */

struct cf_list_builder {
	uint8_t id_key[CF_KEY_BYTES];
	cf_tree_emit_fn *emit;
	void *ctx;
	struct cf_ref *cur;		/* the first chunks, or the open list */
	size_t ncur, curcap;
	struct cf_ref *lists;		/* the lists emitted so far */
	size_t nlists, listcap;
	uint64_t nchunks;
	uint64_t size;
	int err;			/* sticky; COFFER_EINVAL once finished */
};

/* Grow the array ${*p} (of ${*capp} refs) to hold ${want}, at most ${max}. */
static int
grow(struct cf_ref **p, size_t *capp, size_t want, size_t max)
{
	size_t cap = *capp;
	struct cf_ref *np;

	if (want <= cap)
		return 0;
	if (cap == 0)
		cap = CF_FILE_DIRECT_MAX;
	while (cap < want)
		cap *= 2;
	if (cap > max)
		cap = max;
	if (cap < want)
		return COFFER_ETOOBIG;
	if ((np = realloc(*p, cap * sizeof(*np))) == NULL)
		return COFFER_ENOMEM;
	*p = np;
	*capp = cap;
	return 0;
}

/* Encode the open list, hand it to the caller and note its ref. */
static int
flush_list(struct cf_list_builder *b)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct cf_ref *ref;
	int r;

	if ((r = grow(&b->lists, &b->listcap, b->nlists + 1,
	    CF_FILE_LISTS_MAX)) != 0)
		goto out;
	ref = &b->lists[b->nlists];
	if ((r = cf_list_encode(b->cur, b->ncur, &buf, &len)) != 0)
		goto out;
	cf_object_id(b->id_key, CF_OBJ_LIST, buf, len, ref->id);
	ref->len = (uint32_t)b->ncur;	/* <= CF_LIST_CHUNKS_MAX */
	if ((r = b->emit(b->ctx, CF_OBJ_LIST, buf, len, ref->id)) != 0)
		goto out;
	b->nlists++;
	b->ncur = 0;
out:
	free(buf);
	return r;
}

int
cf_list_builder_new(const uint8_t id_key[static CF_KEY_BYTES],
    cf_tree_emit_fn *emit, void *ctx, struct cf_list_builder **bp)
{
	struct cf_list_builder *b;

	*bp = NULL;
	if (emit == NULL)
		return COFFER_EINVAL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return COFFER_ENOMEM;
	memcpy(b->id_key, id_key, CF_KEY_BYTES);
	b->emit = emit;
	b->ctx = ctx;
	*bp = b;
	return 0;
}

int
cf_list_builder_add(struct cf_list_builder *b,
    const uint8_t id[static CF_ID_BYTES], uint32_t len)
{
	int r;

	if (b->err != 0)
		return b->err;
	if (len == 0 || len > CF_CHUNK_MAX) {
		r = COFFER_EINVAL;
		goto out;
	}
	if (b->nchunks == CF_FILE_CHUNKS_MAX) {
		r = COFFER_ETOOBIG;
		goto out;
	}
	if ((r = grow(&b->cur, &b->curcap, b->ncur + 1,
	    CF_LIST_CHUNKS_MAX)) != 0)
		goto out;
	memcpy(b->cur[b->ncur].id, id, CF_ID_BYTES);
	b->cur[b->ncur].len = len;
	b->ncur++;
	b->nchunks++;
	b->size += len;
	/* A full list: the file has more than CF_FILE_DIRECT_MAX chunks. */
	if (b->ncur == CF_LIST_CHUNKS_MAX && (r = flush_list(b)) != 0)
		goto out;
	r = 0;
out:
	b->err = r;
	return r;
}

int
cf_list_builder_finish(struct cf_list_builder *b, uint8_t *howp,
    struct cf_ref **refsp, size_t *nrefsp, uint64_t *sizep)
{
	struct cf_ref *refs = NULL;
	size_t n = 0;
	uint8_t how;
	int r;

	*howp = CF_FILE_CHUNKS;
	*refsp = NULL;
	*nrefsp = 0;
	*sizep = 0;
	if ((r = b->err) != 0)
		goto out;
	if (b->nchunks <= CF_FILE_DIRECT_MAX) {
		how = CF_FILE_CHUNKS;
		n = b->ncur;
		refs = b->cur;
		b->cur = NULL;
	} else {
		if (b->ncur > 0 && (r = flush_list(b)) != 0)
			goto out;
		how = CF_FILE_LISTS;
		n = b->nlists;
		refs = b->lists;
		b->lists = NULL;
	}
	*howp = how;
	*refsp = (n > 0) ? refs : NULL;
	if (n == 0)
		free(refs);
	refs = NULL;
	*nrefsp = n;
	*sizep = b->size;
	r = 0;
out:
	/* Finished, or failed: only free() from now on. */
	b->err = (r != 0) ? r : COFFER_EINVAL;
	return r;
}

void
cf_list_builder_free(struct cf_list_builder *b)
{
	if (b == NULL)
		return;
	free(b->cur);
	free(b->lists);
	free(b);
}

int
cf_list_build(const struct cf_ref *chunks, size_t n,
    const uint8_t id_key[static CF_KEY_BYTES], cf_tree_emit_fn *emit,
    void *ctx, uint8_t *howp, struct cf_ref **refsp, size_t *nrefsp,
    uint64_t *sizep)
{
	struct cf_list_builder *b = NULL;
	size_t i;
	int r;

	*howp = CF_FILE_CHUNKS;
	*refsp = NULL;
	*nrefsp = 0;
	*sizep = 0;
	if (n > 0 && chunks == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((r = cf_list_builder_new(id_key, emit, ctx, &b)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = cf_list_builder_add(b, chunks[i].id,
		    chunks[i].len)) != 0)
			goto out;
	r = cf_list_builder_finish(b, howp, refsp, nrefsp, sizep);
out:
	cf_list_builder_free(b);
	return r;
}

/* ---- Checking a file's lists ---- */

int
cf_list_check_one(const struct cf_tree_entry *e, size_t i,
    const struct cf_list *l, uint64_t *sump)
{
	if (e == NULL || e->type != CF_TREE_FILE || e->how != CF_FILE_LISTS ||
	    i >= e->nrefs || l == NULL)
		return COFFER_EINVAL;
	if (l->n != e->refs[i].len || l->bytes > UINT64_MAX - *sump)
		return NOTAUTH;
	*sump += l->bytes;
	return 0;
}

int
cf_list_check_end(const struct cf_tree_entry *e, uint64_t sum)
{
	if (e == NULL || e->type != CF_TREE_FILE || e->how != CF_FILE_LISTS)
		return COFFER_EINVAL;
	return (sum == e->size) ? 0 : NOTAUTH;
}

int
cf_list_check(const struct cf_tree_entry *e, struct cf_list *const *lists,
    size_t nlists)
{
	uint64_t sum = 0;
	size_t i;
	int r;

	if (e == NULL || e->type != CF_TREE_FILE || e->how != CF_FILE_LISTS ||
	    (nlists > 0 && lists == NULL))
		return COFFER_EINVAL;
	if (nlists != e->nrefs)
		return NOTAUTH;
	for (i = 0; i < nlists; i++)
		if ((r = cf_list_check_one(e, i, lists[i], &sum)) != 0)
			return r;
	return cf_list_check_end(e, sum);
}
