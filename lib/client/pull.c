/*
 * pull, log, ls, status, check (DESIGN §7).
 *
 * pull verifies a whole version -- the commit on the pinned line, every
 * tree and list -- before it touches the target; then it writes relative
 * to directory handles opened with O_NOFOLLOW, each file under a
 * temporary name renamed once all its chunks are verified, symlinks and
 * each folder's mode and times after its contents.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/err.h"
#include "chain/pair.h"
#include "tree/history.h"
#include "tree/tree.h"
#include "util/buf.h"
#include "idhash.h"
#include "ops.h"

#define TMP_PREFIX		".coffer-tmp-"
#define TMP_RAND_BYTES		8
#define CHUNK_BATCH		16	/* chunks per get-many request */
#define MAP_MIN			256

/* ---- a map of verified plaintexts (trees and lists of one version) ---- */

struct objmap {
	struct mapslot {
		uint8_t id[CF_ID_BYTES];
		uint8_t type;
		uint8_t *plain;
		size_t len;
		int used;
	} *slot;
	size_t cap, n;
};

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

static struct mapslot *
map_find(const struct objmap *m, const uint8_t *id, uint8_t type)
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

struct vload {
	struct cf_session *s;
	const struct cf_drive_keys *dk;
	uint64_t max_epoch;
	struct objmap map;		/* keep copies of what was loaded */
	int keep;
	struct cf_idhash chunks;	/* check --read-data: every chunk */
	struct cf_ref *chunkv;		/* with its length, in order found */
	size_t nchunkv, capchunkv;
	int collect_chunks;
	uint64_t trees, lists;
};

static int
vload_cb(void *vctx, uint8_t type, const uint8_t id[static CF_ID_BYTES],
    uint8_t **plainp, size_t *lenp)
{
	struct vload *v = vctx;
	struct mapslot *ms;
	uint8_t *copy = NULL;
	int r;

	*plainp = NULL;
	*lenp = 0;
	if (v->keep && (ms = map_find(&v->map, id, type)) != NULL) {
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

static int
vvisit_cb(void *vctx, const struct cf_walk_item *it)
{
	struct vload *v = vctx;
	struct cf_ref *nv;
	int r;

	if (it->type == CF_OBJ_TREE)
		v->trees++;
	else if (it->type == CF_OBJ_LIST)
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

static void
vload_free(struct vload *v)
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

	if (map_find(&pl->v->map, id, type) != NULL)
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
		r = cf_walk_collect(root, vload_cb, &v, out);
	if (r != 0 && r != COFFER_ENOMEM && r != COFFER_EIO)
		r = COFFER_ENOTAUTHENTIC;
	vload_free(&v);
	return r;
}

/* The entries of one folder (a leaf, or an index and its parts). */
struct folder {
	struct cf_tree *top;
	struct cf_tree **parts;
	size_t nparts;
	struct cf_tree_entry **e;	/* pointers into the trees */
	size_t n;
};

static void
folder_free(struct folder *f)
{
	size_t i;

	cf_tree_free(f->top);
	for (i = 0; i < f->nparts; i++)
		cf_tree_free(f->parts[i]);
	free(f->parts);
	free(f->e);
	memset(f, 0, sizeof(*f));
}

static int
folder_load(cf_walk_load_fn *load, void *ctx, const uint8_t id[static CF_ID_BYTES],
    struct folder *f)
{
	struct cf_tree_check chk;
	uint8_t *plain = NULL;
	size_t len = 0, i, j, total = 0, k = 0;
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = load(ctx, CF_OBJ_TREE, id, &plain, &len)) != 0)
		goto out;
	if ((r = cf_tree_decode(plain, len, &f->top)) != 0)
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
			if ((r = load(ctx, CF_OBJ_TREE, f->top->parts[i].id, &plain,
			    &len)) != 0 ||
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
	if (r != 0) {
		if (r != COFFER_ENOMEM && r != COFFER_EIO)
			r = COFFER_ENOTAUTHENTIC;
		folder_free(f);
	}
	return r;
}

/* Resolve a drive, sync its head, and pick a verified version's commit. */
static int
open_version(struct cf_session *s, const char *drive, uint64_t version,
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

/* ---- writing ---- */

static int
rm_at(int dfd, const char *name, uint32_t depth)
{
	struct stat st;
	struct dirent *de;
	DIR *dir = NULL;
	int fd = -1, r = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : COFFER_EIO;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) == 0 ? 0 : COFFER_EIO;
	if (depth > CF_WALK_DEPTH_MAX)
		return COFFER_ETOOBIG;
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return COFFER_EIO;
	(void)fchmod(fd, 0700);
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return COFFER_EIO;
	}
	/* A dup shares the offset: start from the top. */
	rewinddir(dir);
	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			if (errno != 0)
				r = COFFER_EIO;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((r = rm_at(dirfd(dir), de->d_name, depth + 1)) != 0)
			break;
		rewinddir(dir);
	}
	closedir(dir);
	if (r == 0 && unlinkat(dfd, name, AT_REMOVEDIR) != 0)
		r = COFFER_EIO;
	return r;
}

struct wctx {
	struct cf_session *s;
	const struct cf_drive_keys *dk;
	uint64_t max_epoch;
	struct vload *v;
	int flags;
	struct cf_pull_result *res;
	cf_warn_fn *warn;
	void *wctx;
};

struct chunkw {
	int fd;
	const struct cf_ref *refs;
	uint64_t written;
};

static int
chunk_write_cb(void *vctx, size_t i, const uint8_t *plain, size_t len)
{
	struct chunkw *c = vctx;
	size_t off = 0;
	ssize_t k;

	if (len != c->refs[i].len)
		return COFFER_ENOTAUTHENTIC;
	while (off < len) {
		k = write(c->fd, plain + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return COFFER_EIO;
		off += (size_t)k;
	}
	c->written += len;
	return 0;
}

static int
write_all_fd(int fd, const uint8_t *p, size_t len)
{
	size_t off = 0;
	ssize_t k;

	while (off < len) {
		k = write(fd, p + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return COFFER_EIO;
		off += (size_t)k;
	}
	return 0;
}

/* Fetch, verify and write the ${n} chunks ${refs} (none of them kept). */
static int
fetch_write(struct wctx *w, int fd, const struct cf_ref *refs, size_t n,
    uint8_t (*ids)[CF_ID_BYTES], uint64_t *writtenp)
{
	struct chunkw c;
	size_t j;
	int r;

	if (n == 0)
		return 0;
	for (j = 0; j < n; j++)
		memcpy(ids[j], refs[j].id, CF_ID_BYTES);
	c.fd = fd;
	c.refs = refs;
	c.written = 0;
	r = cf_session_fetch(w->s, w->dk, w->max_epoch, CF_OBJ_CHUNK,
	    (const uint8_t (*)[CF_ID_BYTES])ids, n, chunk_write_cb, &c);
	*writtenp += c.written;
	return r;
}

/*
 * Write the chunks ${refs} to ${fd}: from the verified chunks kept in
 * memory, or fetched and verified again for those that were not kept.
 */
static int
write_chunks(struct wctx *w, int fd, const struct cf_ref *refs, size_t n,
    uint64_t *writtenp)
{
	uint8_t (*ids)[CF_ID_BYTES] = NULL;
	struct mapslot *ms;
	size_t i, miss = 0;
	int r = 0;

	if (n == 0)
		return 0;
	if ((ids = malloc(CHUNK_BATCH * CF_ID_BYTES)) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < n; i++) {
		ms = map_find(&w->v->map, refs[i].id, CF_OBJ_CHUNK);
		if (ms == NULL) {
			if (++miss == CHUNK_BATCH) {
				if ((r = fetch_write(w, fd, refs + i + 1 - miss,
				    miss, ids, writtenp)) != 0)
					goto out;
				miss = 0;
			}
			continue;
		}
		if ((r = fetch_write(w, fd, refs + i - miss, miss, ids,
		    writtenp)) != 0)
			goto out;
		miss = 0;
		if (ms->len != refs[i].len) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		if ((r = write_all_fd(fd, ms->plain, ms->len)) != 0)
			goto out;
		*writtenp += ms->len;
	}
	r = fetch_write(w, fd, refs + n - miss, miss, ids, writtenp);
out:
	free(ids);
	return r;
}

static int
tmp_name(char *out, size_t outlen)
{
	uint8_t rnd[TMP_RAND_BYTES];
	char hex[2 * TMP_RAND_BYTES + 1];
	size_t pl = strlen(TMP_PREFIX);

	if (outlen < pl + sizeof(hex))
		return COFFER_EINVAL;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	memcpy(out, TMP_PREFIX, pl);
	memcpy(out + pl, hex, sizeof(hex));
	return 0;
}

static uint32_t
mode_of(const struct wctx *w, uint32_t mode)
{
	return (w->flags & CF_PULL_KEEP_MODES) ? mode & 07777 : mode & 0777;
}

static void
times_of(const struct cf_tree_entry *e, struct timespec ts[2])
{
	ts[0].tv_sec = (time_t)e->mtime_sec;
	ts[0].tv_nsec = (long)e->mtime_nsec;
	ts[1] = ts[0];
}

/* Remove a folder (only) at ${name}: rename cannot replace one. */
static int
clear_dir(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : COFFER_EIO;
	return S_ISDIR(st.st_mode) ? rm_at(dfd, name, 1) : 0;
}

/* Make room for ${name}: remove what is there unless it is a ${keepdir}. */
static int
clear_name(int dfd, const char *name, int keepdir)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : COFFER_EIO;
	if (keepdir && S_ISDIR(st.st_mode))
		return 0;
	return rm_at(dfd, name, 1);
}

static int
write_file(struct wctx *w, int dfd, const char *name,
    const struct cf_tree_entry *e)
{
	char tmp[64];
	struct timespec ts[2];
	struct cf_list *l = NULL;
	struct mapslot *ms;
	uint64_t written = 0, sum = 0;
	int fd = -1, made = 0, r;
	size_t i;

	if ((r = tmp_name(tmp, sizeof(tmp))) != 0)
		goto out;
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		r = COFFER_EIO;
		goto out;
	}
	made = 1;
	if (e->how == CF_FILE_CHUNKS) {
		if ((r = write_chunks(w, fd, e->refs, e->nrefs, &written)) != 0)
			goto out;
	} else {
		for (i = 0; i < e->nrefs; i++) {
			/* Lists were verified in the walk; they are in the map. */
			if ((ms = map_find(&w->v->map, e->refs[i].id,
			    CF_OBJ_LIST)) == NULL) {
				r = COFFER_EINTERNAL;
				goto out;
			}
			if ((r = cf_list_decode(ms->plain, ms->len, &l)) != 0 ||
			    (r = cf_list_check_one(e, i, l, &sum)) != 0 ||
			    (r = write_chunks(w, fd, l->chunks, l->n,
			    &written)) != 0)
				goto out;
			cf_list_free(l);
			l = NULL;
		}
	}
	if (written != e->size) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	times_of(e, ts);
	if (fchmod(fd, (mode_t)mode_of(w, e->mode)) != 0 ||
	    futimens(fd, ts) != 0 || close(fd) != 0) {
		fd = -1;
		r = COFFER_EIO;
		goto out;
	}
	fd = -1;
	/* rename replaces a file or a symlink (never followed) atomically. */
	if ((r = clear_dir(dfd, name)) != 0)
		goto out;
	if (renameat(dfd, tmp, dfd, name) != 0) {
		r = COFFER_EIO;
		goto out;
	}
	made = 0;
	w->res->files++;
	w->res->bytes += written;
	if (w->s->progress != NULL)
		w->s->progress(w->s->progress_ctx, "pull: files written",
		    w->res->files, 0);
out:
	cf_list_free(l);
	if (fd >= 0)
		close(fd);
	if (made)
		unlinkat(dfd, tmp, 0);
	return r;
}

static int
write_symlink(struct wctx *w, int dfd, const char *name,
    const struct cf_tree_entry *e)
{
	char target[CF_TREE_TARGET_MAX + 1];
	struct timespec ts[2];
	int r;

	char tmp[64];
	int r2;

	memcpy(target, e->target, e->targetlen);
	target[e->targetlen] = '\0';
	if ((r = tmp_name(tmp, sizeof(tmp))) != 0)
		return r;
	if (symlinkat(target, dfd, tmp) != 0)
		return COFFER_EIO;
	times_of(e, ts);
	if (utimensat(dfd, tmp, ts, AT_SYMLINK_NOFOLLOW) != 0 ||
	    (r = clear_dir(dfd, name)) != 0 ||
	    renameat(dfd, tmp, dfd, name) != 0) {
		r2 = r != 0 ? r : COFFER_EIO;
		unlinkat(dfd, tmp, 0);
		return r2;
	}
	w->res->symlinks++;
	return 0;
}

/* A name of a folder listing that the version's folder lacks? */
static int
in_folder(const struct folder *f, const char *name, size_t len)
{
	size_t lo = 0, hi = f->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = cf_tree_name_cmp(f->e[mid]->name, f->e[mid]->namelen,
		    (const uint8_t *)name, len);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int
delete_extra(struct wctx *w, int dfd, const struct folder *f)
{
	struct dirent *de;
	DIR *dir;
	int fd, r = 0;

	if ((fd = dup(dfd)) < 0)
		return COFFER_EIO;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return COFFER_EIO;
	}
	/* A dup shares the offset: start from the top. */
	rewinddir(dir);
	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			if (errno != 0)
				r = COFFER_EIO;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    in_folder(f, de->d_name, strlen(de->d_name)))
			continue;
		if ((r = rm_at(dfd, de->d_name, 1)) != 0)
			break;
		w->res->deleted++;
		rewinddir(dir);
	}
	closedir(dir);
	return r;
}

static int
write_dir(struct wctx *w, int dfd, const uint8_t id[static CF_ID_BYTES],
    uint32_t depth)
{
	struct folder f;
	char name[CF_TREE_NAME_MAX + 1];
	struct timespec ts[2];
	const struct cf_tree_entry *e;
	size_t i;
	int fd = -1, r, pass;

	if ((r = folder_load(vload_cb, w->v, id, &f)) != 0)
		return r;
	if ((w->flags & CF_PULL_DELETE) && (r = delete_extra(w, dfd, &f)) != 0)
		goto out;
	/* Folders and files first, then symlinks. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < f.n; i++) {
			e = f.e[i];
			memcpy(name, e->name, e->namelen);
			name[e->namelen] = '\0';
			if (pass == 1) {
				if (e->type == CF_TREE_SYMLINK &&
				    (r = write_symlink(w, dfd, name, e)) != 0)
					goto out;
				continue;
			}
			if (e->type == CF_TREE_FILE) {
				if ((r = write_file(w, dfd, name, e)) != 0)
					goto out;
			} else if (e->type == CF_TREE_DIR) {
				if ((r = clear_name(dfd, name, 1)) != 0)
					goto out;
				if (mkdirat(dfd, name, 0700) != 0 && errno != EEXIST) {
					r = COFFER_EIO;
					goto out;
				}
				if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
				    O_NOFOLLOW | O_CLOEXEC)) < 0) {
					r = COFFER_EIO;
					goto out;
				}
				(void)fchmod(fd, 0700);
				if ((r = write_dir(w, fd, e->subtree, depth + 1)) != 0)
					goto out;
				times_of(e, ts);
				if (fchmod(fd, (mode_t)mode_of(w, e->mode)) != 0 ||
				    futimens(fd, ts) != 0) {
					r = COFFER_EIO;
					goto out;
				}
				close(fd);
				fd = -1;
				w->res->dirs++;
			}
		}
	}
out:
	if (fd >= 0)
		close(fd);
	folder_free(&f);
	return r;
}

static int
dir_empty(int dfd, int *emptyp)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	*emptyp = 1;
	if ((fd = dup(dfd)) < 0)
		return COFFER_EIO;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return COFFER_EIO;
	}
	/* A dup shares the offset: start from the top. */
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			*emptyp = 0;
			break;
		}
	closedir(dir);
	return 0;
}

struct prefetch {
	struct cf_session *s;
	struct vload *v;
	pthread_mutex_t mu;		/* next, kept, the map, err */
	size_t next;			/* next batch to fetch */
	size_t kept;			/* bytes kept in memory */
	size_t done;
	int err;
};

struct prefetch_one {
	struct prefetch *pf;
	struct cf_client *net;
	size_t base;
};

static int
prefetch_cb(void *vctx, size_t i, const uint8_t *plain, size_t len)
{
	struct prefetch_one *o = vctx;
	struct prefetch *pf = o->pf;
	const struct cf_ref *ref = &pf->v->chunkv[o->base + i];
	uint8_t *copy;
	int r = 0;

	if (len != ref->len)
		return COFFER_ENOTAUTHENTIC;
	pthread_mutex_lock(&pf->mu);
	if (pf->kept + len <= CF_PULL_KEEP_BYTES) {
		pf->kept += len;	/* reserve before copying */
		pthread_mutex_unlock(&pf->mu);
		if ((copy = malloc(len + 1)) == NULL)
			return COFFER_ENOMEM;
		memcpy(copy, plain, len);
		pthread_mutex_lock(&pf->mu);
		if ((r = map_put(&pf->v->map, ref->id, CF_OBJ_CHUNK, copy,
		    len)) != 0)
			free(copy);
	}
	pthread_mutex_unlock(&pf->mu);
	return r;
}

static void *
prefetch_worker(void *arg)
{
	struct prefetch_one *o = arg;
	struct prefetch *pf = o->pf;
	struct vload *v = pf->v;
	uint8_t (*ids)[CF_ID_BYTES] = NULL;
	size_t i, b, j;
	int r = 0;

	if ((ids = malloc(CHUNK_BATCH * CF_ID_BYTES)) == NULL)
		r = COFFER_ENOMEM;
	while (r == 0) {
		pthread_mutex_lock(&pf->mu);
		if (pf->err != 0 || pf->next >= v->nchunkv) {
			pthread_mutex_unlock(&pf->mu);
			break;
		}
		i = pf->next;
		b = v->nchunkv - i < CHUNK_BATCH ? v->nchunkv - i : CHUNK_BATCH;
		pf->next += b;
		pthread_mutex_unlock(&pf->mu);
		for (j = 0; j < b; j++)
			memcpy(ids[j], v->chunkv[i + j].id, CF_ID_BYTES);
		o->base = i;
		r = cf_session_fetch_net(o->net, v->dk, v->max_epoch,
		    CF_OBJ_CHUNK, (const uint8_t (*)[CF_ID_BYTES])ids, b,
		    prefetch_cb, o);
		pthread_mutex_lock(&pf->mu);
		pf->done += b;
		if (r == 0 && o == arg && pf->s->progress != NULL &&
		    o->net == pf->s->net)
			pf->s->progress(pf->s->progress_ctx,
			    "pull: chunks verified", pf->done, v->nchunkv);
		pthread_mutex_unlock(&pf->mu);
	}
	if (r != 0) {
		pthread_mutex_lock(&pf->mu);
		if (pf->err == 0)
			pf->err = r;
		pthread_mutex_unlock(&pf->mu);
	}
	free(ids);
	return NULL;
}

/*
 * Fetch and open every chunk of the version before anything is written,
 * so that a tampered chunk stops the pull with the target untouched; keep
 * up to CF_PULL_KEEP_BYTES of them so they need not be fetched again.
 * CF_PULL_FETCHERS connections fetch in parallel (one client each).
 */
static int
prefetch(struct cf_session *s, struct vload *v)
{
	struct prefetch pf;
	struct prefetch_one one[CF_PULL_FETCHERS];
	pthread_t th[CF_PULL_FETCHERS];
	size_t k, n = 1;
	int r;

	if (v->nchunkv == 0)
		return 0;
	memset(&pf, 0, sizeof(pf));
	memset(one, 0, sizeof(one));
	pf.s = s;
	pf.v = v;
	if (pthread_mutex_init(&pf.mu, NULL) != 0)
		return COFFER_EINTERNAL;
	one[0].pf = &pf;
	one[0].net = s->net;
	/* More connections only when there is more than one batch. */
	for (k = 1; k < CF_PULL_FETCHERS && k * CHUNK_BATCH < v->nchunkv; k++) {
		one[k].pf = &pf;
		if (cf_session_client(s, &one[k].net) != 0)
			break;
		if (pthread_create(&th[k], NULL, prefetch_worker, &one[k]) != 0) {
			cf_client_free(one[k].net);
			one[k].net = NULL;
			break;
		}
		n = k + 1;
	}
	(void)prefetch_worker(&one[0]);
	for (k = 1; k < n; k++) {
		pthread_join(th[k], NULL);
		cf_client_free(one[k].net);
	}
	r = pf.err;
	pthread_mutex_destroy(&pf.mu);
	return r;
}

int
cf_pull(struct cf_session *s, const char *drive, uint64_t version,
    const char *dir, int flags, cf_warn_fn *warnfn, void *wctx,
    struct cf_pull_result *res)
{
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	struct cf_walk_params wp;
	struct cf_commit c;
	struct vload v;
	struct wctx w;
	int dfd = -1, empty, r;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	if ((r = open_version(s, drive, version, &dk, &pin, &c)) != 0)
		goto out;
	res->version = c.version;
	/* 1. Verify every tree and list of the version. */
	v.s = s;
	v.dk = dk;
	v.max_epoch = cf_chain_epoch_at(s->chain, c.chain_seq);
	v.keep = 1;
	v.collect_chunks = 1;
	memset(&wp, 0, sizeof(wp));
	wp.load = vload_cb;
	wp.visit = vvisit_cb;
	wp.ctx = &v;
	if ((r = preload(&v, c.root_id)) != 0 ||
	    (r = cf_walk(c.root_id, &wp)) != 0) {
		if (r != COFFER_ENOMEM && r != COFFER_EIO)
			r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/* A non-empty target needs --overwrite: say so before fetching. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if ((r = dir_empty(dfd, &empty)) != 0)
			goto out;
		if (!empty && !(flags & CF_PULL_OVERWRITE)) {
			r = COFFER_EEXIST;
			goto out;
		}
		close(dfd);
		dfd = -1;
	}
	/* 2. Fetch and verify every chunk, keeping what fits in memory. */
	if ((r = prefetch(s, &v)) != 0)
		goto out;
	/* 3. Only now touch the target. */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = COFFER_EIO;
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = COFFER_EIO;
		goto out;
	}
	if ((r = dir_empty(dfd, &empty)) != 0)
		goto out;
	if (!empty && !(flags & CF_PULL_OVERWRITE)) {
		r = COFFER_EEXIST;
		goto out;
	}
	w.s = s;
	w.dk = dk;
	w.max_epoch = v.max_epoch;
	w.v = &v;
	w.flags = flags;
	w.res = res;
	w.warn = warnfn;
	w.wctx = wctx;
	r = write_dir(&w, dfd, c.root_id, 1);
out:
	if (dfd >= 0)
		close(dfd);
	vload_free(&v);
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	return r;
}

/* ---- log ---- */

struct logctx {
	const struct cf_drive_keys *dk;
	const struct cf_drivepin *pin;
	cf_log_fn *fn;
	void *ctx;
};

static int
log_cb(void *vctx, size_t i, const uint8_t *plain, size_t len)
{
	struct logctx *l = vctx;
	struct cf_log_item it;
	struct cf_commit c;
	int r;

	if ((r = cf_commit_decode(plain, len, &c)) != 0)
		return r;
	if (c.version != i + 1 ||
	    memcmp(c.drive_id, l->dk->drive_id, CF_ID_BYTES) != 0)
		return COFFER_ENOTAUTHENTIC;
	memset(&it, 0, sizeof(it));
	it.version = c.version;
	memcpy(it.commit_id, l->pin->ids[i], CF_ID_BYTES);
	it.time = c.time;
	memcpy(it.author_id, c.author_id, CF_ID_BYTES);
	memcpy(it.root_id, c.root_id, CF_ID_BYTES);
	it.chain_seq = c.chain_seq;
	return l->fn(l->ctx, &it);
}

int
cf_log(struct cf_session *s, const char *drive, cf_log_fn *fn, void *ctx)
{
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	uint8_t drive_id[CF_ID_BYTES];
	struct logctx l;
	int r;

	if ((r = cf_session_drive(s, drive, drive_id, &dk)) != 0)
		goto out;
	if ((r = cf_session_load_pin(s, drive_id, &pin)) != 0 ||
	    (r = cf_session_sync_head(s, dk, pin)) != 0)
		goto out;
	l.dk = dk;
	l.pin = pin;
	l.fn = fn;
	l.ctx = ctx;
	r = cf_session_fetch(s, dk, cf_session_epoch(s), CF_OBJ_COMMIT,
	    (const uint8_t (*)[CF_ID_BYTES])pin->ids, (size_t)pin->n, log_cb, &l);
out:
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	return r;
}

/* ---- ls ---- */

int
cf_ls(struct cf_session *s, const char *drive, uint64_t version,
    const uint8_t *path, size_t pathlen, cf_ls_fn *fn, void *ctx,
    uint64_t *versionp)
{
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	struct cf_commit c;
	struct folder f;
	struct vload v;
	uint8_t cur[CF_ID_BYTES];
	size_t off = 0, end, i;
	int r, found;

	memset(&f, 0, sizeof(f));
	memset(&v, 0, sizeof(v));
	*versionp = 0;
	if ((r = open_version(s, drive, version, &dk, &pin, &c)) != 0)
		goto out;
	*versionp = c.version;
	v.s = s;
	v.dk = dk;
	v.max_epoch = cf_chain_epoch_at(s->chain, c.chain_seq);
	memcpy(cur, c.root_id, CF_ID_BYTES);
	for (;;) {
		while (off < pathlen && path[off] == '/')
			off++;
		if ((r = folder_load(vload_cb, &v, cur, &f)) != 0)
			goto out;
		if (off >= pathlen)
			break;
		for (end = off; end < pathlen && path[end] != '/'; end++)
			;
		for (found = 0, i = 0; i < f.n; i++) {
			if (f.e[i]->type == CF_TREE_DIR &&
			    cf_tree_name_cmp(f.e[i]->name, f.e[i]->namelen,
			    path + off, end - off) == 0) {
				memcpy(cur, f.e[i]->subtree, CF_ID_BYTES);
				found = 1;
				break;
			}
		}
		folder_free(&f);
		if (!found) {
			r = COFFER_ENOENT;
			goto out;
		}
		off = end;
	}
	for (i = 0; i < f.n; i++)
		if ((r = fn(ctx, f.e[i])) != 0)
			goto out;
out:
	folder_free(&f);
	vload_free(&v);
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	return r;
}

/* ---- status ---- */

static int
head_cmp(const void *a, const void *b)
{
	const struct cf_status_drive *x = a, *y = b;

	return memcmp(x->head.drive_id, y->head.drive_id, CF_ID_BYTES);
}

int
cf_status(struct cf_session *s, struct cf_status_drive **drivesp, size_t *np,
    char *safety_code)
{
	struct cf_status_drive *d = NULL;
	struct cf_drive_head *heads = NULL;
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	size_t n = s->dir == NULL ? 0 : s->dir->ndrives, i;
	int r = 0;

	*drivesp = NULL;
	*np = 0;
	if (n > 0 && ((d = calloc(n, sizeof(*d))) == NULL ||
	    (heads = calloc(n, sizeof(*heads))) == NULL)) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct cf_dir_drive *dd = &s->dir->drives[i];
		if ((r = cf_dir_drive_keys(s->dir, dd->drive_id,
		    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, &dk)) != 0) {
			r = r == COFFER_ENOMEM ? r : COFFER_ENOTAUTHENTIC;
			goto out;
		}
		if ((r = cf_session_load_pin(s, dd->drive_id, &pin)) != 0 ||
		    (r = cf_session_sync_head(s, dk, pin)) != 0)
			goto out;
		memcpy(d[i].name, dd->name, dd->namelen);
		memcpy(d[i].head.drive_id, dd->drive_id, CF_ID_BYTES);
		d[i].head.version = pin->n;
		if (pin->n > 0)
			memcpy(d[i].head.commit_id, pin->ids[pin->n - 1],
			    CF_ID_BYTES);
		d[i].verified_at = pin->verified_at;
		cf_drive_keys_free(dk);
		cf_drivepin_free(pin);
		dk = NULL;
		pin = NULL;
	}
	if (n > 0)
		qsort(d, n, sizeof(*d), head_cmp);	/* dir order already; be sure */
	for (i = 0; i < n; i++)
		heads[i] = d[i].head;
	if ((r = cf_session_safety(s, heads, n, safety_code)) != 0)
		goto out;
	*drivesp = d;
	*np = n;
	d = NULL;
out:
	free(d);
	free(heads);
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	return r;
}

/* ---- check ---- */

struct chunkcheck {
	const struct cf_ref *refs;
	uint64_t bytes;
};

static int
chunk_check_cb(void *vctx, size_t i, const uint8_t *plain, size_t len)
{
	struct chunkcheck *c = vctx;

	(void)plain;
	if (len != c->refs[i].len)
		return COFFER_ENOTAUTHENTIC;
	c->bytes += len;
	return 0;
}

struct plainbuf {
	uint8_t *p;
	size_t len;
};

static void
plains_free(struct plainbuf *pb, uint64_t n)
{
	uint64_t i;

	for (i = 0; pb != NULL && i < n; i++)
		free(pb[i].p);
	free(pb);
}

static int
known_none(void *ctx, uint64_t version, uint8_t id[static CF_ID_BYTES])
{
	(void)ctx;
	(void)version;
	(void)id;
	return COFFER_ENOENT;
}

/*
 * Fetch every commit of the pinned line and verify the whole line again
 * from version 1 (signatures, chain validity, removals), as a device with
 * no pin would.  The plaintexts are handed over in ${*plainsp}.
 */
static int
verify_line(struct cf_session *s, const struct cf_drive_keys *dk,
    const struct cf_drivepin *pin, struct plainbuf **plainsp)
{
	struct cf_history_step *line = NULL;
	struct plainbuf *pb = NULL;
	struct cf_drive_head zero, head;
	uint64_t i;
	int r = 0;

	*plainsp = NULL;
	if (pin->n > CF_HISTORY_LINE_MAX)
		return COFFER_ETOOBIG;
	if (pin->n == 0)
		return 0;
	if ((pb = calloc((size_t)pin->n, sizeof(*pb))) == NULL ||
	    (line = calloc((size_t)pin->n, sizeof(*line))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < pin->n; i++) {
		if ((r = cf_session_fetch_one(s, dk, cf_session_epoch(s),
		    CF_OBJ_COMMIT, pin->ids[i], &pb[i].p, &pb[i].len,
		    &line[i].sealed_epoch)) != 0)
			goto out;
		line[i].commit = pb[i].p;
		line[i].len = pb[i].len;
		line[i].id = pin->ids[i];
	}
	memset(&zero, 0, sizeof(zero));
	memcpy(zero.drive_id, dk->drive_id, CF_ID_BYTES);
	if ((r = cf_history_accept(s->chain, dk->drive_id, &zero, 0, known_none,
	    NULL, line, (size_t)pin->n, &head)) != 0) {
		r = r == COFFER_ENOMEM ? r : COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if (head.version != pin->n ||
	    sodium_memcmp(head.commit_id, pin->ids[pin->n - 1], CF_ID_BYTES) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	*plainsp = pb;
	pb = NULL;
out:
	plains_free(pb, pin->n);
	free(line);
	return r;
}

static int
check_drive(struct cf_session *s, const struct cf_dir_drive *dd, int read_data,
    struct cf_check_result *res)
{
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	struct plainbuf *plains = NULL;
	struct cf_walk_params wp;
	struct cf_commit c;
	struct vload v;
	struct chunkcheck cc;
	uint8_t (*ids)[CF_ID_BYTES] = NULL;
	uint64_t ver;
	size_t i, b;
	int r;

	memset(&v, 0, sizeof(v));
	if ((r = cf_dir_drive_keys(s->dir, dd->drive_id,
	    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, &dk)) != 0) {
		r = r == COFFER_ENOMEM ? r : COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((r = cf_session_load_pin(s, dd->drive_id, &pin)) != 0 ||
	    (r = cf_session_sync_head(s, dk, pin)) != 0)
		goto out;
	/* Re-verify the whole line from version 1, as if never pinned. */
	if ((r = verify_line(s, dk, pin, &plains)) != 0)
		goto out;
	v.s = s;
	v.dk = dk;
	v.keep = 1;		/* trees shared by versions are fetched once */
	v.collect_chunks = read_data;
	for (ver = 1; ver <= pin->n; ver++) {
		if ((r = cf_commit_decode(plains[ver - 1].p, plains[ver - 1].len,
		    &c)) != 0)
			goto out;
		v.max_epoch = cf_chain_epoch_at(s->chain, c.chain_seq);
		memset(&wp, 0, sizeof(wp));
		wp.load = vload_cb;
		wp.visit = vvisit_cb;
		wp.ctx = &v;
		if ((r = preload(&v, c.root_id)) != 0 ||
		    (r = cf_walk(c.root_id, &wp)) != 0) {
			if (r != COFFER_ENOMEM && r != COFFER_EIO)
				r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		res->versions++;
	}
	res->trees += v.trees;
	res->lists += v.lists;
	if (read_data && v.nchunkv > 0) {
		if ((ids = malloc(CHUNK_BATCH * CF_ID_BYTES)) == NULL) {
			r = COFFER_ENOMEM;
			goto out;
		}
		cc.bytes = 0;
		for (i = 0; i < v.nchunkv; i += b) {
			b = v.nchunkv - i < CHUNK_BATCH ? v.nchunkv - i : CHUNK_BATCH;
			for (size_t j = 0; j < b; j++)
				memcpy(ids[j], v.chunkv[i + j].id, CF_ID_BYTES);
			cc.refs = v.chunkv + i;
			/* Chunks: any epoch the drive lists up to the current. */
			if ((r = cf_session_fetch(s, dk, cf_session_epoch(s),
			    CF_OBJ_CHUNK, (const uint8_t (*)[CF_ID_BYTES])ids, b,
			    chunk_check_cb, &cc)) != 0)
				goto out;
		}
		res->chunks += v.nchunkv;
		res->chunk_bytes += cc.bytes;
	}
	res->drives++;
out:
	free(ids);
	vload_free(&v);
	cf_drive_keys_free(dk);
	plains_free(plains, pin == NULL ? 0 : pin->n);
	cf_drivepin_free(pin);
	return r;
}

int
cf_check(struct cf_session *s, int read_data, struct cf_check_result *res)
{
	size_t i;
	int r = 0;

	memset(res, 0, sizeof(*res));
	for (i = 0; s->dir != NULL && i < s->dir->ndrives; i++)
		if ((r = check_drive(s, &s->dir->drives[i], read_data, res)) != 0)
			break;
	return r;
}
