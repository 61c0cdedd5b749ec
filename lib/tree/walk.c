/*
 * Walking a version (docs/FORMAT.md §12): every tree, list and chunk
 * reachable from a root tree, iteratively.
 *
 * The explicit stack holds the directories still to visit (id, depth),
 * never decoded trees, so memory is one tree (or one index and one of
 * its parts) and one list at a time, plus the pending ids.  A directory
 * is checked completely as it is visited: an index against its parts, a
 * file against its lists.  The depth cap also ends a cycle (a tree that
 * names itself, which only a broken loader could produce).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "tree.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
/* Pending directories, and ids collected before the first compaction. */
#define WALK_STACK_INIT		64
#define COLLECT_COMPACT_MIN	65536

struct pending {
	uint8_t id[CF_ID_BYTES];
	uint32_t depth;
};

struct walk {
	const struct cf_walk_params *p;
	uint64_t entries_max;
	uint64_t entries;
	struct pending *stack;
	size_t n, cap;
};

static int
push(struct walk *w, const uint8_t id[static CF_ID_BYTES], uint32_t depth)
{
	struct pending *ns;
	size_t ncap;

	if (w->n == w->cap) {
		ncap = w->cap ? w->cap * 2 : WALK_STACK_INIT;
		if (ncap > SIZE_MAX / sizeof(*ns))
			return COFFER_ENOMEM;
		if ((ns = realloc(w->stack, ncap * sizeof(*ns))) == NULL)
			return COFFER_ENOMEM;
		w->stack = ns;
		w->cap = ncap;
	}
	memcpy(w->stack[w->n].id, id, CF_ID_BYTES);
	w->stack[w->n].depth = depth;
	w->n++;
	return 0;
}

static int
visit(struct walk *w, uint8_t type, const uint8_t *id, uint64_t len,
    uint32_t depth, const struct cf_tree *t)
{
	struct cf_walk_item it;

	if (w->p->visit == NULL)
		return 0;
	it.type = type;
	it.id = id;
	it.len = len;
	it.depth = depth;
	it.tree = t;
	return w->p->visit(w->p->ctx, &it);
}

/* Load and decode the tree ${id}. */
static int
load_tree(struct walk *w, const uint8_t *id, struct cf_tree **tp)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*tp = NULL;
	if ((r = w->p->load(w->p->ctx, CF_OBJ_TREE, id, &buf, &len)) != 0)
		goto out;
	r = cf_tree_decode(buf, len, tp);
out:
	cf_wipefree(buf, len);
	return r;
}

static int
load_list(struct walk *w, const uint8_t *id, struct cf_list **lp)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*lp = NULL;
	if ((r = w->p->load(w->p->ctx, CF_OBJ_LIST, id, &buf, &len)) != 0)
		goto out;
	r = cf_list_decode(buf, len, lp);
out:
	cf_wipefree(buf, len);
	return r;
}

/* Visit a file's chunks, through its lists if it has them. */
static int
walk_file(struct walk *w, const struct cf_tree_entry *e, uint32_t depth)
{
	struct cf_list *l = NULL;
	uint64_t sum = 0;
	size_t i, j;
	int r = 0;

	if (e->how == CF_FILE_CHUNKS) {
		for (i = 0; i < e->nrefs; i++)
			if ((r = visit(w, CF_OBJ_CHUNK, e->refs[i].id,
			    e->refs[i].len, depth, NULL)) != 0)
				goto out;
		goto out;
	}
	for (i = 0; i < e->nrefs; i++) {
		if ((r = load_list(w, e->refs[i].id, &l)) != 0 ||
		    (r = cf_list_check_one(e, i, l, &sum)) != 0 ||
		    (r = visit(w, CF_OBJ_LIST, e->refs[i].id, 0, depth,
		    NULL)) != 0)
			goto out;
		for (j = 0; j < l->n; j++)
			if ((r = visit(w, CF_OBJ_CHUNK, l->chunks[j].id,
			    l->chunks[j].len, depth, NULL)) != 0)
				goto out;
		cf_list_free(l);
		l = NULL;
	}
	r = cf_list_check_end(e, sum);
out:
	cf_list_free(l);
	return r;
}

/* The entries of a leaf: files walked now, directories pushed. */
static int
walk_leaf(struct walk *w, const struct cf_tree *t, uint32_t depth)
{
	const struct cf_tree_entry *e;
	size_t i;
	int r = 0;

	for (i = 0; i < t->n; i++) {
		e = &t->entries[i];
		if (w->entries >= w->entries_max) {
			r = NOTAUTH;
			goto out;
		}
		w->entries++;
		if (e->type == CF_TREE_FILE) {
			if ((r = walk_file(w, e, depth)) != 0)
				goto out;
		} else if (e->type == CF_TREE_DIR) {
			if (depth >= CF_WALK_DEPTH_MAX) {
				r = NOTAUTH;
				goto out;
			}
			if ((r = push(w, e->subtree, depth + 1)) != 0)
				goto out;
		}
	}
out:
	return r;
}

/* One directory: a leaf, or an index and its parts, checked in order. */
static int
walk_dir(struct walk *w, const uint8_t *id, uint32_t depth)
{
	struct cf_tree *t = NULL, *part = NULL;
	struct cf_tree_check chk;
	size_t i;
	int r;

	if ((r = load_tree(w, id, &t)) != 0 ||
	    (r = visit(w, CF_OBJ_TREE, id, 0, depth, t)) != 0)
		goto out;
	if (t->kind == CF_TREE_LEAF) {
		r = walk_leaf(w, t, depth);
		goto out;
	}
	cf_tree_check_init(&chk, t);
	for (i = 0; i < t->n; i++) {
		if ((r = load_tree(w, t->parts[i].id, &part)) != 0 ||
		    (r = cf_tree_check_part(&chk, part)) != 0 ||
		    (r = visit(w, CF_OBJ_TREE, t->parts[i].id, 0, depth,
		    part)) != 0 ||
		    (r = walk_leaf(w, part, depth)) != 0)
			goto out;
		cf_tree_free(part);
		part = NULL;
	}
	r = cf_tree_check_end(&chk);
out:
	cf_tree_free(part);
	cf_tree_free(t);
	return r;
}

int
cf_walk(const uint8_t root[static CF_ID_BYTES], const struct cf_walk_params *p)
{
	struct walk w;
	struct pending cur;
	int r;

	memset(&w, 0, sizeof(w));
	if (p == NULL || p->load == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	w.p = p;
	w.entries_max = p->entries_max ? p->entries_max : CF_WALK_ENTRIES_MAX;
	if ((r = push(&w, root, 1)) != 0)
		goto out;
	while (w.n > 0) {
		cur = w.stack[--w.n];
		if ((r = walk_dir(&w, cur.id, cur.depth)) != 0)
			goto out;
	}
	r = 0;
out:
	free(w.stack);
	return r;
}

/* ---- The reachable set ---- */

struct collect {
	cf_walk_load_fn *load;		/* the caller's loader */
	void *load_ctx;
	struct cf_idset set;
	size_t cap;
	size_t compact_at;		/* sort and unique when n reaches it */
};

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, CF_ID_BYTES);
}

/* Sort the ids and drop duplicates. */
static void
sort_unique(struct cf_idset *s)
{
	size_t i, o;

	if (s->n < 2)
		return;
	qsort(s->ids, s->n, CF_ID_BYTES, id_cmp);
	for (i = 1, o = 1; i < s->n; i++) {
		if (memcmp(s->ids + (o - 1) * CF_ID_BYTES,
		    s->ids + i * CF_ID_BYTES, CF_ID_BYTES) == 0)
			continue;
		if (o != i)
			memcpy(s->ids + o * CF_ID_BYTES,
			    s->ids + i * CF_ID_BYTES, CF_ID_BYTES);
		o++;
	}
	s->n = o;
}

static int
collect_load(void *ctx, uint8_t type, const uint8_t id[static CF_ID_BYTES],
    uint8_t **plainp, size_t *lenp)
{
	struct collect *c = ctx;

	return c->load(c->load_ctx, type, id, plainp, lenp);
}

static int
collect_visit(void *ctx, const struct cf_walk_item *it)
{
	struct collect *c = ctx;
	uint8_t *nids;
	size_t ncap;

	if (c->set.n == c->compact_at) {
		/* A shared subtree adds its ids again: keep memory to the set. */
		sort_unique(&c->set);
		c->compact_at = (c->set.n < COLLECT_COMPACT_MIN / 2) ?
		    COLLECT_COMPACT_MIN : c->set.n * 2;
	}
	if (c->set.n == c->cap) {
		ncap = c->cap ? c->cap * 2 : COLLECT_COMPACT_MIN;
		if (ncap > SIZE_MAX / CF_ID_BYTES)
			return COFFER_ENOMEM;
		if ((nids = realloc(c->set.ids, ncap * CF_ID_BYTES)) == NULL)
			return COFFER_ENOMEM;
		c->set.ids = nids;
		c->cap = ncap;
	}
	memcpy(c->set.ids + c->set.n * CF_ID_BYTES, it->id, CF_ID_BYTES);
	c->set.n++;
	return 0;
}

int
cf_walk_collect(const uint8_t root[static CF_ID_BYTES], cf_walk_load_fn *load,
    void *ctx, struct cf_idset *out)
{
	struct collect c;
	struct cf_walk_params p;
	int r;

	out->ids = NULL;
	out->n = 0;
	memset(&c, 0, sizeof(c));
	c.compact_at = COLLECT_COMPACT_MIN;
	c.load = load;
	c.load_ctx = ctx;
	memset(&p, 0, sizeof(p));
	if (load == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	p.load = collect_load;
	p.visit = collect_visit;
	p.ctx = &c;
	if ((r = cf_walk(root, &p)) != 0)
		goto out;
	sort_unique(&c.set);
	*out = c.set;
	c.set.ids = NULL;
	r = 0;
out:
	cf_delta_idset_clear(&c.set);
	return r;
}

void
cf_folder_free(struct cf_folder *f)
{
	size_t i;

	cf_tree_free(f->top);
	for (i = 0; i < f->nparts; i++)
		cf_tree_free(f->parts[i]);
	free(f->parts);
	free(f->e);
	memset(f, 0, sizeof(*f));
}

int
cf_folder_load(cf_walk_load_fn *load, void *ctx, const uint8_t *id,
    struct cf_folder *f)
{
	struct cf_tree_check chk;
	uint8_t *plain = NULL;
	size_t len = 0, i, j, total = 0, k = 0;
	int r = 0;

	memset(f, 0, sizeof(*f));
	if (id == NULL)
		goto out;
	if ((r = load(ctx, CF_OBJ_TREE, id, &plain, &len)) != 0 ||
	    (r = cf_tree_decode(plain, len, &f->top)) != 0)
		goto out;
	if (f->top->kind == CF_TREE_LEAF) {
		total = f->top->n;
	} else {
		if ((f->parts = calloc(f->top->n, sizeof(*f->parts))) == NULL) {
			r = COFFER_ENOMEM;
			goto out;
		}
		cf_tree_check_init(&chk, f->top);
		for (i = 0; i < f->top->n; i++) {
			cf_wipefree(plain, len);
			plain = NULL;
			len = 0;
			if ((r = load(ctx, CF_OBJ_TREE, f->top->parts[i].id,
			    &plain, &len)) != 0 ||
			    (r = cf_tree_decode(plain, len, &f->parts[i])) != 0)
				goto out;
			f->nparts++;
			if ((r = cf_tree_check_part(&chk, f->parts[i])) != 0)
				goto out;
			total += f->parts[i]->n;
		}
		if ((r = cf_tree_check_end(&chk)) != 0)
			goto out;
	}
	if (total > 0 && (f->e = calloc(total, sizeof(*f->e))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (f->top->kind == CF_TREE_LEAF) {
		for (i = 0; i < f->top->n; i++)
			f->e[k++] = &f->top->entries[i];
	} else {
		for (i = 0; i < f->nparts; i++)
			for (j = 0; j < f->parts[i]->n; j++)
				f->e[k++] = &f->parts[i]->entries[j];
	}
	f->n = k;
out:
	cf_wipefree(plain, len);
	if (r != 0)
		cf_folder_free(f);
	return r;
}
