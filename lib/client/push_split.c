/*
 * push past the delta cap (issue #5): a change whose reference delta
 * would carry more ids than the server takes goes up as several
 * versions, each a valid snapshot mixing the new folder's entries and
 * the head's (see below).
 */
#include <stdlib.h>
#include <string.h>

#include "coffer/err.h"
#include "net/frame.h"
#include "push_internal.h"

/*
 * A delta may carry at most CF_PUSH_DELTA_IDS_MAX ids (the server's cap).
 * A bigger change goes up as several versions, each a valid snapshot
 * whose delta from the one before fits: version k holds the new folder's
 * entries for the names handled so far (in the order of a depth-first
 * walk) and the previous version's entries for the others, so that ids
 * present in both stay live all along.  An entry too big for what is left
 * of the budget is entered and mixed the same way, one level down.
 *
 * The session's delta_cap (a test knob) lowers the cap (never raises it,
 * at least SPLIT_CAP_MIN): tests push a change past a small cap.
 */
#define SPLIT_CAP_MIN	16
#define SPLIT_ROUNDS_MAX	100000

size_t
cf_push_split_cap(const struct cf_session *s)
{

	if (s->delta_cap == 0 || s->delta_cap >= CF_PUSH_DELTA_IDS_MAX)
		return CF_PUSH_DELTA_IDS_MAX;
	return s->delta_cap < SPLIT_CAP_MIN ? SPLIT_CAP_MIN :
	    (size_t)s->delta_cap;
}

/* 1 if two entries are the same (so the same ids). */
static int
entry_same(const struct cf_tree_entry *a, const struct cf_tree_entry *b)
{
	if (a->type != b->type || a->mode != b->mode ||
	    a->mtime_sec != b->mtime_sec || a->mtime_nsec != b->mtime_nsec ||
	    a->size != b->size)
		return 0;
	switch (a->type) {
	case CF_TREE_FILE:
		return a->how == b->how && a->nrefs == b->nrefs &&
		    (a->nrefs == 0 ||
		    memcmp(a->refs, b->refs, a->nrefs * sizeof(*a->refs)) == 0);
	case CF_TREE_DIR:
		return memcmp(a->subtree, b->subtree, CF_ID_BYTES) == 0;
	default:
		return a->targetlen == b->targetlen &&
		    memcmp(a->target, b->target, a->targetlen) == 0;
	}
}

/*
 * The ids an entry brings (sorted): a folder's walk, a file's refs; for a
 * file of chunk lists, its lists only (*extrap then counts an upper bound
 * on their chunks).
 */
static int
entry_ids(struct push *p, const struct cf_tree_entry *e, struct cf_idset *out,
    size_t *extrap)
{
	struct cf_idhash h;
	size_t i;
	int r = 0;

	memset(out, 0, sizeof(*out));
	*extrap = 0;
	if (e == NULL)
		return 0;
	if (e->type == CF_TREE_DIR)
		return cf_version_collect(p->s, p->dk, p->epoch, e->subtree, out);
	if (e->type != CF_TREE_FILE)
		return 0;
	cf_idhash_init(&h);
	for (i = 0; i < e->nrefs && r >= 0; i++)
		r = cf_idhash_add(&h, e->refs[i].id);
	if (r >= 0)
		r = cf_idhash_sorted(&h, out);
	cf_idhash_clear(&h);
	if (e->how == CF_FILE_LISTS)
		*extrap = (size_t)(e->size / CF_CHUNK_MIN) + 1;
	return r < 0 ? r : 0;
}

/*
 * An upper bound on the ids that switching ${ce} (live now, or NULL) for
 * ${ne} (or NULL) adds to a delta from the set ${cur}: the new ids that
 * are not live, and the old ones the new entry does not keep.
 */
static int
switch_cost(struct push *p, const struct cf_idset *cur,
    const struct cf_tree_entry *ce, const struct cf_tree_entry *ne,
    size_t *costp)
{
	struct cf_idset ci, ni;
	size_t cx = 0, nx = 0, i, cost = 0;
	int r;

	if ((r = entry_ids(p, ce, &ci, &cx)) != 0 ||
	    (r = entry_ids(p, ne, &ni, &nx)) != 0)
		goto out;
	for (i = 0; i < ni.n; i++)
		if (!cf_idset_has(cur, ni.ids + i * CF_ID_BYTES))
			cost++;
	for (i = 0; i < ci.n; i++)
		if (!cf_idset_has(&ni, ci.ids + i * CF_ID_BYTES))
			cost++;
	*costp = cost + cx + nx;
out:
	cf_delta_idset_clear(&ci);
	cf_delta_idset_clear(&ni);
	return r;
}

/* The trees a mixed version needs, sealed, to put before its commit. */
struct mixout {
	struct push *p;
	struct cf_frame_item *items;
	uint8_t (*ids)[CF_ID_BYTES];
	uint8_t **blobs;
	size_t n, cap;
};

static void
mixout_clear(struct mixout *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->blobs[i]);
	free(m->items);
	free(m->ids);
	free(m->blobs);
	m->items = NULL;
	m->ids = NULL;
	m->blobs = NULL;
	m->n = m->cap = 0;
}

static int
mix_emit(void *ctx, uint8_t type, const uint8_t *plain, size_t len,
    const uint8_t id[static CF_ID_BYTES])
{
	struct mixout *m = ctx;
	struct cf_frame_item *ni;
	uint8_t (*nid)[CF_ID_BYTES], got[CF_ID_BYTES], *blob = NULL, **nb;
	size_t bl = 0, nc;
	int r;

	if (m->n == m->cap) {
		nc = m->cap == 0 ? 16 : 2 * m->cap;
		if ((ni = realloc(m->items, nc * sizeof(*ni))) == NULL)
			return COFFER_ENOMEM;
		m->items = ni;
		if ((nid = realloc(m->ids, nc * sizeof(*nid))) == NULL)
			return COFFER_ENOMEM;
		m->ids = nid;
		if ((nb = realloc(m->blobs, nc * sizeof(*nb))) == NULL)
			return COFFER_ENOMEM;
		m->blobs = nb;
		m->cap = nc;
	}
	if ((r = cf_object_seal(&m->p->mkey, type, m->p->dk->drive_id, plain,
	    len, 0, got, &blob, &bl)) != 0)
		return r;
	if (memcmp(got, id, CF_ID_BYTES) != 0) {
		free(blob);
		return COFFER_EINTERNAL;
	}
	memcpy(m->ids[m->n], id, CF_ID_BYTES);
	m->blobs[m->n] = blob;
	m->items[m->n].data = blob;
	m->items[m->n].len = bl;
	m->n++;
	return 0;
}

/*
 * The folder mixing ${cid} (live now; NULL: none) and ${nid} (the target;
 * NULL: none): the target's entries while the budget lasts, then the old
 * ones.  ${*usedp} counts the budget spent, ${*stopp} is set once it is
 * exhausted, ${*progressp} once anything moved towards the target.
 */
static int
mix_folder(struct push *p, const struct cf_idset *cur, const uint8_t *cid,
    const uint8_t *nid, size_t budget, size_t *usedp, int *stopp,
    int *progressp, struct mixout *mo, unsigned depth,
    uint8_t root[static CF_ID_BYTES])
{
	struct cf_folder cf, nf;
	struct cf_tree_entry *out = NULL, sub;
	const struct cf_tree_entry *ce, *ne, *de;
	size_t i = 0, j = 0, k = 0, cost;
	uint8_t subid[CF_ID_BYTES];
	int c, r, subprog;

	memset(&cf, 0, sizeof(cf));
	memset(&nf, 0, sizeof(nf));
	if (depth > CF_WALK_DEPTH_MAX) {
		r = COFFER_ETOOBIG;
		goto out;
	}
	if ((r = cf_push_folder(p, cid, &cf)) != 0 ||
	    (r = cf_push_folder(p, nid, &nf)) != 0)
		goto out;
	if (cf.n + nf.n > 0 &&
	    (out = calloc(cf.n + nf.n, sizeof(*out))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	while (i < cf.n || j < nf.n) {
		ce = i < cf.n ? cf.e[i] : NULL;
		ne = j < nf.n ? nf.e[j] : NULL;
		if (ce != NULL && ne != NULL)
			c = cf_tree_name_cmp(ce->name, ce->namelen, ne->name,
			    ne->namelen);
		else
			c = ce != NULL ? -1 : 1;
		if (c < 0)
			ne = NULL, i++;
		else if (c > 0)
			ce = NULL, j++;
		else
			i++, j++;
		if (ce != NULL && ne != NULL && entry_same(ce, ne)) {
			out[k++] = *ne;
			continue;
		}
		if (*stopp) {
			if (ce != NULL)
				out[k++] = *ce;
			continue;
		}
		if ((r = switch_cost(p, cur, ce, ne, &cost)) != 0)
			goto out;
		if (*usedp + cost <= budget) {
			*usedp += cost;
			*progressp = 1;
			if (ne != NULL)
				out[k++] = *ne;
			continue;
		}
		/* Too big at once: mix the folder one level down. */
		*stopp = 1;
		if ((ce == NULL || ce->type != CF_TREE_DIR) &&
		    (ne == NULL || ne->type != CF_TREE_DIR)) {
			if (ce != NULL)
				out[k++] = *ce;
			continue;
		}
		*stopp = 0;
		subprog = 0;
		if ((r = mix_folder(p, cur,
		    ce != NULL && ce->type == CF_TREE_DIR ? ce->subtree : NULL,
		    ne != NULL && ne->type == CF_TREE_DIR ? ne->subtree : NULL,
		    budget, usedp, stopp, &subprog, mo, depth + 1, subid)) != 0)
			goto out;
		*stopp = 1;
		if (!subprog) {
			if (ce != NULL)
				out[k++] = *ce;
			continue;
		}
		*progressp = 1;
		/* The folder's own fields: the target's if it is one. */
		de = ne != NULL && ne->type == CF_TREE_DIR ? ne : ce;
		sub = *de;
		memcpy(sub.subtree, subid, CF_ID_BYTES);
		out[k++] = sub;
	}
	r = cf_tree_build(out, k, p->mkey.id_key, mix_emit, mo, root);
out:
	free(out);
	cf_folder_free(&cf);
	cf_folder_free(&nf);
	return r;
}

/*
 * Commit ${root} (the scanned folder) as one version or, if its delta
 * from the head is past the cap, as several (see above).  ${*donep} = 0
 * if the head moved meanwhile (the caller re-parents).
 */
int
cf_push_split_commit(struct push *p, struct cf_drivepin *pin,
    struct cf_commit *pc, const uint8_t root[static CF_ID_BYTES], int *donep)
{
	const struct cf_idset *child = &p->childset;
	struct cf_idset mset = { NULL, 0 };
	struct cf_delta *delta = NULL;
	struct mixout mo;
	uint8_t mroot[CF_ID_BYTES], cur_root[CF_ID_BYTES];
	uint64_t stored = 0;
	size_t budget, used, rounds = 0, fit, i;
	int r, stop, progress, have_cur;

	*donep = 0;
	memset(&mo, 0, sizeof(mo));
	mo.p = p;
	have_cur = pin->n > 0;
	if (have_cur)
		memcpy(cur_root, pc->root_id, CF_ID_BYTES);
	for (;;) {
		cf_delta_free(delta);
		delta = NULL;
		if ((r = cf_delta_compute(&p->parent, child, &delta)) != 0)
			goto out;
		fit = delta->start.n + delta->stop.n <= p->delta_cap;
		if (fit)
			break;
		if (++rounds > SPLIT_ROUNDS_MAX) {
			r = COFFER_ETOOBIG;
			goto out;
		}
		/* A budget that leaves room for the mixed folders' own trees. */
		for (budget = p->delta_cap / 2; ; budget /= 2) {
			mixout_clear(&mo);
			cf_delta_idset_clear(&mset);
			used = 0;
			stop = progress = 0;
			if (budget == 0) {
				r = COFFER_ETOOBIG;	/* one file past the cap */
				p->res->delta_too_big = 1;
				goto out;
			}
			if ((r = mix_folder(p, &p->parent,
			    have_cur ? cur_root : NULL, root, budget, &used,
			    &stop, &progress, &mo, 1, mroot)) != 0)
				goto out;
			if (!progress)
				continue;
			/* Put the mixed trees, then measure the real delta. */
			for (i = 0; i < mo.n; i++)
				mo.items[i].id = mo.ids[i];
			if (mo.n > 0 && (r = cf_client_objects_put(p->s->net,
			    p->dk->drive_id, mo.items, mo.n, &stored)) != 0)
				goto out;
			for (i = 0; i < mo.n; i++)
				p->res->bytes_uploaded += mo.items[i].len;
			if ((r = cf_version_collect(p->s, p->dk, p->epoch, mroot,
			    &mset)) != 0)
				goto out;
			cf_delta_free(delta);
			delta = NULL;
			if ((r = cf_delta_compute(&p->parent, &mset, &delta)) != 0)
				goto out;
			if (delta->start.n + delta->stop.n <= p->delta_cap)
				break;
		}
		if ((r = cf_push_commit(p, pin, mroot, &mset, donep)) != 0 ||
		    !*donep)
			goto out;
		*donep = 0;
		p->res->split_versions++;
		cf_push_warn(p, "the change was past the server's cap on one "
		    "reference delta: pushed part of it as a version of its "
		    "own", NULL, 0);
		/* The new head is the base of the next step. */
		cf_delta_idset_clear(&p->parent);
		p->parent = mset;
		mset.ids = NULL;
		mset.n = 0;
		memcpy(cur_root, mroot, CF_ID_BYTES);
		have_cur = 1;
		memcpy(pc->root_id, mroot, CF_ID_BYTES);
	}
	r = cf_push_commit(p, pin, root, child, donep);
out:
	mixout_clear(&mo);
	cf_delta_free(delta);
	cf_delta_idset_clear(&mset);
	return r;
}
