/*
 * A version loaded and verified (DESIGN §7): its commit picked on the
 * pinned line, every tree and list reachable from its root fetched --
 * preloaded breadth first in get-many batches into a map of verified
 * plaintexts, then walked and checked from memory -- and the set of ids
 * it reaches (cf_version_collect, for push).  pull, ls and check read
 * versions through here (pull_internal.h).
 */
#include <stdlib.h>
#include <string.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "util/err.h"
#include "pull_internal.h"

#define MAP_MIN			256

/* ---- a map of verified plaintexts (trees and lists of one version) ---- */

static void
map_free(struct objmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->slot[i].used)
			cf_wipefree(m->slot[i].plain, m->slot[i].len);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

struct mapslot *
cf_version_map_find(const struct objmap *m, const uint8_t *id, uint8_t type)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = (size_t)cf_be64dec(id) & (m->cap - 1); m->slot[i].used;
	    i = (i + 1) & (m->cap - 1))
		if (!memcmp(m->slot[i].id, id, CF_ID_BYTES) &&
		    m->slot[i].type == type)
			return &m->slot[i];
	return NULL;
}

static int
map_put(struct objmap *m, const uint8_t *id, uint8_t type, uint8_t *plain,
    size_t len)
{
	struct objmap nm;
	size_t i, j;

	if ((m->n + 1) * 2 > m->cap) {
		nm.cap = m->cap == 0 ? MAP_MIN : m->cap * 2;
		nm.n = m->n;
		if ((nm.slot = calloc(nm.cap, sizeof(*nm.slot))) == NULL)
			return COFFER_ENOMEM;
		for (i = 0; i < m->cap; i++) {
			if (!m->slot[i].used)
				continue;
			for (j = (size_t)cf_be64dec(m->slot[i].id) & (nm.cap - 1);
			    nm.slot[j].used; j = (j + 1) & (nm.cap - 1))
				;
			nm.slot[j] = m->slot[i];
		}
		free(m->slot);
		*m = nm;
	}
	for (i = (size_t)cf_be64dec(id) & (m->cap - 1); m->slot[i].used;
	    i = (i + 1) & (m->cap - 1))
		;
	memcpy(m->slot[i].id, id, CF_ID_BYTES);
	m->slot[i].type = type;
	m->slot[i].plain = plain;
	m->slot[i].len = len;
	m->slot[i].used = 1;
	m->n++;
	return 0;
}

/* ---- loading a version ---- */

int
cf_version_load_cb(void *vctx, uint8_t type,
    const uint8_t id[static CF_ID_BYTES], uint8_t **plainp, size_t *lenp)
{
	struct vload *v = vctx;
	struct mapslot *ms;
	uint8_t *copy = NULL;
	int r;

	*plainp = NULL;
	*lenp = 0;
	if (v->keep && (ms = cf_version_map_find(&v->map, id, type)) != NULL) {
		if ((*plainp = malloc(ms->len + 1)) == NULL)
			return COFFER_ENOMEM;
		memcpy(*plainp, ms->plain, ms->len);
		*lenp = ms->len;
		return 0;
	}
	if ((r = cf_session_fetch_one(v->s, v->dk, v->max_epoch, type, id,
	    plainp, lenp, NULL)) != 0)
		return r;
	if (v->keep) {
		if ((copy = malloc(*lenp + 1)) == NULL)
			return COFFER_ENOMEM;
		memcpy(copy, *plainp, *lenp);
		if ((r = map_put(&v->map, id, type, copy, *lenp)) != 0) {
			free(copy);
			return r;
		}
	}
	return 0;
}

int
cf_version_visit_cb(void *vctx, const struct cf_walk_item *it)
{
	struct vload *v = vctx;
	struct cf_ref *nv;
	size_t i;
	int r;

	if (it->type == CF_OBJ_TREE) {
		v->trees++;
		/* Leaves hold the entries (an index holds parts). */
		if (it->tree != NULL && it->tree->kind == CF_TREE_LEAF)
			for (i = 0; i < it->tree->n; i++)
				if (it->tree->entries[i].type == CF_TREE_FILE)
					v->files++;
	} else if (it->type == CF_OBJ_LIST)
		v->lists++;
	else if (it->type == CF_OBJ_CHUNK && v->collect_chunks) {
		if ((r = cf_idhash_add(&v->chunks, it->id)) <= 0)
			return r;
		if (v->nchunkv == v->capchunkv) {
			v->capchunkv = v->capchunkv == 0 ? 256 : v->capchunkv * 2;
			if ((nv = realloc(v->chunkv, v->capchunkv *
			    sizeof(*nv))) == NULL)
				return COFFER_ENOMEM;
			v->chunkv = nv;
		}
		memcpy(v->chunkv[v->nchunkv].id, it->id, CF_ID_BYTES);
		v->chunkv[v->nchunkv].len = (uint32_t)it->len;
		v->nchunkv++;
	}
	return 0;
}

void
cf_version_free(struct vload *v)
{
	map_free(&v->map);
	cf_idhash_clear(&v->chunks);
	free(v->chunkv);
}

/*
 * Preload a version's trees and lists breadth first, a level at a time in
 * get-many batches (many ids per round trip instead of one), into the
 * map, so that the walk that checks them runs from memory.  Only a
 * speed-up: everything is opened and id-checked here, and checked again
 * as trees by the walk; something malformed stops the preload and is
 * left for the walk to report.
 */
struct preload {
	struct vload *v;
	uint8_t (*next)[CF_ID_BYTES];	/* ids of the next level */
	uint8_t *ntype;
	size_t nnext, capnext;
	struct cf_idhash seen;
};

static int
preload_add(struct preload *pl, uint8_t type, const uint8_t *id)
{
	uint8_t (*nn)[CF_ID_BYTES];
	uint8_t *nt;
	size_t cap;
	int r;

	if (cf_version_map_find(&pl->v->map, id, type) != NULL)
		return 0;		/* loaded already (an earlier version) */
	if ((r = cf_idhash_add(&pl->seen, id)) <= 0)
		return r;
	if (pl->seen.n > CF_PRELOAD_MAX)
		return COFFER_ETOOBIG;
	if (pl->nnext == pl->capnext) {
		cap = pl->capnext == 0 ? 64 : pl->capnext * 2;
		if ((nn = realloc(pl->next, cap * CF_ID_BYTES)) == NULL)
			return COFFER_ENOMEM;
		pl->next = nn;
		if ((nt = realloc(pl->ntype, cap)) == NULL)
			return COFFER_ENOMEM;
		pl->ntype = nt;
		pl->capnext = cap;
	}
	memcpy(pl->next[pl->nnext], id, CF_ID_BYTES);
	pl->ntype[pl->nnext++] = type;
	return 0;
}

struct preload_batch {
	struct preload *pl;
	const uint8_t (*ids)[CF_ID_BYTES];
	uint8_t type;
};

static int
preload_cb(void *vctx, size_t i, const uint8_t *plain, size_t len)
{
	struct preload_batch *b = vctx;
	struct preload *pl = b->pl;
	struct cf_tree *t = NULL;
	uint8_t *copy;
	size_t k, j;
	int r;

	if ((copy = malloc(len + 1)) == NULL)
		return COFFER_ENOMEM;
	memcpy(copy, plain, len);
	if ((r = map_put(&pl->v->map, b->ids[i], b->type, copy, len)) != 0) {
		free(copy);
		return r;
	}
	if (b->type != CF_OBJ_TREE)
		return 0;
	if (cf_tree_decode(plain, len, &t) != 0)
		return COFFER_ENOTAUTHENTIC;
	if (t->kind == CF_TREE_INDEX) {
		for (k = 0; k < t->n && r == 0; k++)
			r = preload_add(pl, CF_OBJ_TREE, t->parts[k].id);
	} else {
		for (k = 0; k < t->n && r == 0; k++) {
			const struct cf_tree_entry *e = &t->entries[k];
			if (e->type == CF_TREE_DIR)
				r = preload_add(pl, CF_OBJ_TREE, e->subtree);
			else if (e->type == CF_TREE_FILE && e->how == CF_FILE_LISTS)
				for (j = 0; j < e->nrefs && r == 0; j++)
					r = preload_add(pl, CF_OBJ_LIST,
					    e->refs[j].id);
		}
	}
	cf_tree_free(t);
	return r;
}

static int
preload(struct vload *v, const uint8_t root[static CF_ID_BYTES])
{
	struct preload pl;
	struct preload_batch b;
	uint8_t (*ids)[CF_ID_BYTES] = NULL;
	size_t n, i, k, level;
	int r = 0, pass;

	memset(&pl, 0, sizeof(pl));
	pl.v = v;
	cf_idhash_init(&pl.seen);
	if ((r = preload_add(&pl, CF_OBJ_TREE, root)) != 0)
		goto out;
	for (level = 0; pl.nnext > 0 && level <= 2 * CF_WALK_DEPTH_MAX &&
	    r == 0; level++) {
		/* Take this level; the callbacks fill the next one. */
		uint8_t (*cur)[CF_ID_BYTES] = pl.next;
		uint8_t *ctype = pl.ntype;
		n = pl.nnext;
		pl.next = NULL;
		pl.ntype = NULL;
		pl.nnext = pl.capnext = 0;
		free(ids);
		if ((ids = malloc(n * CF_ID_BYTES)) == NULL) {
			free(cur);
			free(ctype);
			r = COFFER_ENOMEM;
			break;
		}
		for (pass = 0; pass < 2 && r == 0; pass++) {
			b.type = pass == 0 ? CF_OBJ_TREE : CF_OBJ_LIST;
			for (i = 0, k = 0; i < n; i++)
				if (ctype[i] == b.type)
					memcpy(ids[k++], cur[i], CF_ID_BYTES);
			b.pl = &pl;
			b.ids = (const uint8_t (*)[CF_ID_BYTES])ids;
			if (k > 0)
				r = cf_session_fetch(v->s, v->dk, v->max_epoch,
				    b.type, b.ids, k, preload_cb, &b);
		}
		free(cur);
		free(ctype);
	}
out:
	free(ids);
	free(pl.next);
	free(pl.ntype);
	cf_idhash_clear(&pl.seen);
	/* Past the cap the walk fetches the rest one by one. */
	return r == COFFER_ETOOBIG ? 0 : r;
}

int
cf_version_collect(struct cf_session *s, const struct cf_drive_keys *dk,
    uint64_t max_epoch, const uint8_t root[static CF_ID_BYTES],
    struct cf_idset *out)
{
	struct vload v;
	int r;

	memset(&v, 0, sizeof(v));
	v.s = s;
	v.dk = dk;
	v.max_epoch = max_epoch;
	v.keep = 1;
	if ((r = preload(&v, root)) == 0)
		r = cf_walk_collect(root, cf_version_load_cb, &v, out);
	cf_version_free(&v);
	return cf_err_from_server(r);
}

int
cf_version_walk(struct vload *v, const uint8_t root[static CF_ID_BYTES])
{
	struct cf_walk_params wp;
	int r;

	memset(&wp, 0, sizeof(wp));
	wp.load = cf_version_load_cb;
	wp.visit = cf_version_visit_cb;
	wp.ctx = v;
	if ((r = preload(v, root)) == 0)
		r = cf_walk(root, &wp);
	return cf_err_from_server(r);
}

/*
 * A folder of the version (FORMAT §12); anything the server gave that
 * does not decode or check is not authentic.
 */
int
cf_version_folder(cf_walk_load_fn *load, void *ctx,
    const uint8_t id[static CF_ID_BYTES], struct cf_folder *f)
{

	return cf_err_from_server(cf_folder_load(load, ctx, id, f));
}

/* Resolve a drive, sync its head, and pick a verified version's commit. */
int
cf_version_open(struct cf_session *s, const char *drive, uint64_t version,
    struct cf_drive_keys **dkp, struct cf_drivepin **pinp, struct cf_commit *c)
{
	uint8_t drive_id[CF_ID_BYTES];
	int r;

	*dkp = NULL;
	*pinp = NULL;
	if ((r = cf_session_drive(s, drive, drive_id, dkp)) != 0)
		return r;
	if ((r = cf_session_load_pin(s, drive_id, pinp)) != 0 ||
	    (r = cf_session_sync_head(s, *dkp, *pinp)) != 0)
		return r;
	if (version == 0)
		version = (*pinp)->n;
	if (version == 0 || version > (*pinp)->n)
		return COFFER_ENOENT;
	return cf_session_commit(s, *dkp, version, (*pinp)->ids[version - 1], c);
}

int
cf_version_sync(struct cf_session *s, const struct cf_dir_drive *dd,
    struct cf_drive_keys **dkp, struct cf_drivepin **pinp)
{
	int r;

	*dkp = NULL;
	*pinp = NULL;
	if ((r = cf_dir_drive_keys(s->dir, dd->drive_id,
	    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, dkp)) != 0)
		return r == COFFER_ENOMEM ? r : COFFER_ENOTAUTHENTIC;
	if ((r = cf_session_load_pin(s, dd->drive_id, pinp)) != 0)
		return r;
	return cf_session_sync_head(s, *dkp, *pinp);
}
