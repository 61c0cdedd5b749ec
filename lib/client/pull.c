/*
 * pull, log, ls, status, check (DESIGN §7).
 *
 * pull verifies a whole version -- the commit on the pinned line, every
 * tree and list -- before it touches the target; then it writes relative
 * to directory handles opened with O_NOFOLLOW, each file under a
 * temporary name renamed once all its chunks are verified, symlinks and
 * each folder's mode and times after its contents.  Without --delete it
 * removes nothing but planted symlinks and stale temporary files, and a
 * local entry of another kind stops it before the first write.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/err.h"
#include "chain/pair.h"
#include "tree/history.h"
#include "tree/tree.h"
#include "util/buf.h"
#include "util/err.h"
#include "idhash.h"
#include "ops.h"

#define TMP_PREFIX		".coffer-tmp-"
#define TMP_RAND_BYTES		8
#define PULL_BATCH_BYTES	((size_t)4 << 20)	/* chunk bytes per get */
#define PULL_BATCH_IDS		256	/* ids per get (session.c asks 256) */
#define PULL_BATCH_TARGETS	1024	/* places chunks go, per batch */
#define PULL_QUEUE		4	/* batches cut and waiting */
#define PULL_WORKERS_MAX	8	/* threads fetching, opening, writing */
#define PULL_DIRS_MAX		256	/* folder handles open for files */
#define MAP_MIN			256
#define PULL_CONFLICTS_SHOWN	100	/* conflicts warned one by one */
#define SKIPPED			1	/* a path left out (warned, counted) */

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
	uint64_t files;			/* regular files of the version */
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
	r = cf_err_from_server(r);
	vload_free(&v);
	return r;
}

/*
 * A folder of the version (FORMAT §12); anything the server gave that
 * does not decode or check is not authentic.
 */
static int
folder_load(cf_walk_load_fn *load, void *ctx, const uint8_t id[static CF_ID_BYTES],
    struct cf_folder *f)
{
	int r;

	r = cf_folder_load(load, ctx, id, f);
	r = cf_err_from_server(r);
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
	char **skipdirs;		/* folders left out, by path */
	size_t nskipdirs, capskipdirs;
};

/* A path under the target, '/'-separated, for warnings. */
struct pbuf {
	char *p;
	size_t len, cap;
};

static int
pbuf_push(struct pbuf *b, const char *name, size_t n, size_t *oldp)
{
	size_t need = b->len + 1 + n + 1, cap;
	char *np;

	*oldp = b->len;
	if (need > b->cap) {
		for (cap = b->cap == 0 ? 256 : b->cap; cap < need; cap *= 2)
			;
		if ((np = realloc(b->p, cap)) == NULL)
			return COFFER_ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	if (b->len > 0)
		b->p[b->len++] = '/';
	memcpy(b->p + b->len, name, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/*
 * ${dir} (${dirlen} bytes) "/" ${name} (NULL: ${dir} alone), allocated;
 * NULL if out of memory.
 */
static char *
join_path(const char *dir, size_t dirlen, const char *name, size_t *lenp)
{
	size_t n = name != NULL ? strlen(name) : 0, len;
	char *p;

	len = dirlen + (dirlen > 0 && n > 0) + n;
	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	if (dirlen > 0)
		memcpy(p, dir, dirlen);
	if (dirlen > 0 && n > 0)
		p[dirlen] = '/';
	if (n > 0)
		memcpy(p + len - n, name, n);
	p[len] = '\0';
	*lenp = len;
	return p;
}

/*
 * Warn ${msg} about ${name} in the folder ${dir} (${dirlen} bytes, under
 * the target), holding ${mu} (if not NULL) so that warnings from worker
 * threads do not interleave.
 */
static void
say(struct wctx *w, pthread_mutex_t *mu, const char *dir, size_t dirlen,
    const char *name, const char *msg)
{
	size_t len;
	char *p;

	if (w->warn == NULL ||
	    (p = join_path(dir, dirlen, name, &len)) == NULL)
		return;
	if (mu != NULL)
		pthread_mutex_lock(mu);
	w->warn(w->wctx, msg, (const uint8_t *)p, len);
	if (mu != NULL)
		pthread_mutex_unlock(mu);
	free(p);
}

/* Errors that stop the pull: the file system, not one path. */
static int
fatal_errno(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EIO || e == EROFS ||
	    e == EMFILE || e == ENFILE || e == ENOMEM;
}

/* Why the path could not be written, into ${buf}. */
static const char *
skip_msg(char *buf, size_t len, int e)
{
	if (e == EISDIR || e == ENOTEMPTY || e == EEXIST)
		return "a folder is in the way: left alone (--delete "
		    "replaces it)";
	if (e == ENOTDIR)
		return "a file is in the way: left alone (--delete replaces it)";
	snprintf(buf, len, "could not be written (%s)%s", strerror(e),
	    fatal_errno(e) ? "" : ", skipped");
	return buf;
}

/*
 * The path ${name} in ${dir} could not be written (errno ${e}): warn;
 * COFFER_EIO if that stops the pull, else count it skipped (under ${mu})
 * and return SKIPPED.
 */
static int
path_error(struct wctx *w, pthread_mutex_t *mu, const char *dir,
    size_t dirlen, const char *name, int e)
{
	char buf[256];

	say(w, mu, dir, dirlen, name, skip_msg(buf, sizeof(buf), e));
	if (fatal_errno(e))
		return COFFER_EIO;
	if (mu != NULL)
		pthread_mutex_lock(mu);
	w->res->skipped++;
	if (mu != NULL)
		pthread_mutex_unlock(mu);
	return SKIPPED;
}

/* Number of lower-case hex digits at ${p}. */
static size_t
hexlen(const char *p)
{
	size_t n = 0;

	while ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f'))
		n++;
	return n;
}

/*
 * The form of ${name}: 2 a temporary file's (TMP_PREFIX, the pull's 16
 * hex digits, '-', a counter in hex), 1 a temporary symlink's (TMP_PREFIX
 * and 16 hex digits), 0 neither.
 */
static int
tmp_form(const char *name)
{
	size_t pl = strlen(TMP_PREFIX), k;

	if (strncmp(name, TMP_PREFIX, pl) != 0)
		return 0;
	name += pl;
	if (hexlen(name) != 2 * TMP_RAND_BYTES)
		return 0;
	name += 2 * TMP_RAND_BYTES;
	if (*name == '\0')
		return 1;
	if (*name++ != '-')
		return 0;
	k = hexlen(name);
	if (k < 1 || k > 16 || name[k] != '\0' || (k > 1 && name[0] == '0'))
		return 0;
	return 2;
}

int
cf_pull_tmp_name(const char *name)
{
	return tmp_form(name) != 0;
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

/*
 * Why the local entry of mode ${m} may not be replaced by the version's
 * entry of type ${type} without --delete, or NULL: a folder by anything
 * else, a file (anything but a folder or a symlink) by a folder or a
 * symlink.  A symlink is replaced, never followed; a file by a file.
 */
static const char *
conflict(uint8_t type, mode_t m)
{
	if (S_ISLNK(m))
		return NULL;
	if (type == CF_TREE_FILE)
		return S_ISDIR(m) ? "a folder here, a file in the version: "
		    "left alone (--delete replaces it)" : NULL;
	if (type == CF_TREE_DIR)
		return S_ISDIR(m) ? NULL : "a file here, a folder in the "
		    "version: left alone (--delete replaces it)";
	return S_ISDIR(m) ? "a folder here, a symlink in the version: left "
	    "alone (--delete replaces it)" : "a file here, a symlink in the "
	    "version: left alone (--delete replaces it)";
}

/*
 * Before the first write: every entry of the version's folder ${id} that
 * meets a local entry of another kind in ${dfd} (conflict()), warned
 * (the first PULL_CONFLICTS_SHOWN) and counted in res->conflicts; into
 * every folder that is a folder on both sides.  Reads only.  A local
 * entry that cannot be seen is left to the write, which skips it.
 */
static int
check_dir(struct wctx *w, int dfd, const uint8_t id[static CF_ID_BYTES],
    struct pbuf *pb)
{
	struct cf_folder f;
	const struct cf_tree_entry *e;
	char name[CF_TREE_NAME_MAX + 1];
	const char *why;
	struct stat st;
	size_t i, old;
	int fd, r;

	if ((r = folder_load(vload_cb, w->v, id, &f)) != 0)
		return r;
	for (i = 0; i < f.n && r == 0; i++) {
		e = f.e[i];
		memcpy(name, e->name, e->namelen);
		name[e->namelen] = '\0';
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if ((why = conflict(e->type, st.st_mode)) != NULL) {
			if (w->res->conflicts++ < PULL_CONFLICTS_SHOWN)
				say(w, NULL, pb->p, pb->len, name, why);
			continue;
		}
		if (e->type != CF_TREE_DIR || !S_ISDIR(st.st_mode))
			continue;
		if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		if ((r = pbuf_push(pb, name, e->namelen, &old)) == 0) {
			r = check_dir(w, fd, e->subtree, pb);
			pb->len = old;
		}
		close(fd);
	}
	cf_folder_free(&f);
	return r;
}


/*
 * The symlink ${e} as ${name} in ${dfd} (the folder ${pb}): replaces a
 * symlink or, with --delete, anything; else what is in the way is left
 * alone, like a path that cannot be written (warned, skipped).
 */
static int
write_symlink(struct wctx *w, int dfd, const struct pbuf *pb,
    const char *name, const struct cf_tree_entry *e)
{
	char target[CF_TREE_TARGET_MAX + 1];
	struct timespec ts[2];
	struct stat st;
	char tmp[64];
	int r = 0, err = 0;

	memcpy(target, e->target, e->targetlen);
	target[e->targetlen] = '\0';
	if ((r = tmp_name(tmp, sizeof(tmp))) != 0)
		return r;
	if (symlinkat(target, dfd, tmp) != 0)
		return path_error(w, NULL, pb->p, pb->len, name, errno) < 0 ?
		    COFFER_EIO : 0;
	times_of(e, ts);
	if (utimensat(dfd, tmp, ts, AT_SYMLINK_NOFOLLOW) != 0)
		err = errno;
	else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISLNK(st.st_mode) && !(w->flags & CF_PULL_DELETE))
		err = S_ISDIR(st.st_mode) ? EISDIR : ENOTDIR;
	else if ((r = clear_dir(dfd, name)) == 0 &&
	    renameat(dfd, tmp, dfd, name) != 0)
		err = errno;
	if (r != 0 || err != 0) {
		(void)unlinkat(dfd, tmp, 0);
		if (r != 0)
			return r;
		return path_error(w, NULL, pb->p, pb->len, name, err) < 0 ?
		    COFFER_EIO : 0;
	}
	w->res->symlinks++;
	return 0;
}

/* A name of a folder listing that the version's folder lacks? */
static int
in_folder(const struct cf_folder *f, const char *name, size_t len)
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
delete_extra(struct wctx *w, int dfd, const struct cf_folder *f)
{
	struct dirent *de;
	DIR *dir;
	int r = 0;

	if ((dir = cf_opendir_dup(dfd)) == NULL)
		return COFFER_EIO;
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
dir_empty(int dfd, int *emptyp)
{
	struct dirent *de;
	DIR *dir;

	*emptyp = 1;
	if ((dir = cf_opendir_dup(dfd)) == NULL)
		return COFFER_EIO;
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			*emptyp = 0;
			break;
		}
	closedir(dir);
	return 0;
}


/*
 * ---- writing files in parallel ----
 *
 * Once every tree and list of the version is verified, the main thread
 * (the producer) walks the folders from memory, makes each folder (mode
 * 0700 until the end) and cuts the chunks of the files into batches of
 * about PULL_BATCH_BYTES; worker threads, each with a connection of its
 * own, fetch a batch in one get request, open each chunk (decrypt,
 * check its id and length) and write it at its offset into the file's
 * temporary name.  The thread that writes a file's last chunk checks its
 * size, sets its mode and times and renames it into place.  At most
 * PULL_QUEUE batches wait, so memory does not grow with the version.
 * Symlinks, deletions and folder modes and times come last (finish_dir),
 * once every file is in place.  A file or folder that cannot be written
 * (permission, a name too long) is warned, its temporary file removed,
 * and the rest goes on; on any other error everything stops and each
 * temporary file is removed: what a refused pull leaves in the target is
 * files whose every chunk was verified.
 */

/* A folder handle shared by the files being written in it. */
struct pdir {
	int fd;
	size_t refs;			/* under pw->mu */
	char *path;			/* under the target, for warnings */
	size_t pathlen;
};

/* A file being written (on the live list until renamed into place). */
struct pfile {
	struct pfile *prev, *next;
	struct pdir *dir;
	char name[CF_TREE_NAME_MAX + 1];
	char tmp[64];
	pthread_mutex_t omu;		/* fd, made, tmp, skip */
	int fd;				/* -1 until its first chunk */
	int made;			/* the temporary name exists */
	int skip;			/* errno: left out, its chunks ignored */
	mode_t mode;
	struct timespec ts[2];
	uint64_t size, written;
	size_t pending;			/* chunks to write; +1 while cut */
};

/* One place a chunk goes. */
struct ptarget {
	struct pfile *f;
	uint64_t off;
	size_t next;			/* next target of the same id */
};

struct pbatch {
	struct pbatch *next;
	size_t n, nt;
	size_t bytes;
	uint8_t ids[PULL_BATCH_IDS][CF_ID_BYTES];
	uint32_t lens[PULL_BATCH_IDS];
	size_t head[PULL_BATCH_IDS];	/* first target of each id */
	size_t hash[2 * PULL_BATCH_IDS];/* id -> index + 1 (0: empty) */
	struct ptarget t[PULL_BATCH_TARGETS];
};

struct pwrite {
	struct wctx *w;
	pthread_mutex_t mu;		/* everything below */
	pthread_cond_t cv;		/* the queue, err, ndirs changed */
	struct pbatch *qhead, *qtail;
	size_t nq;
	int done;			/* the producer cut everything */
	int err;
	struct pfile *live;
	uint64_t ntmp;			/* temporary names made */
	char tmpbase[2 * TMP_RAND_BYTES + 1];
	size_t ndirs, held;		/* open folder handles; the producer's */
	struct pbatch *cur;		/* the producer's batch being cut */
};

static void
pdir_release(struct pwrite *pw, struct pdir *d)
{
	int last;

	pthread_mutex_lock(&pw->mu);
	last = --d->refs == 0;
	if (last)
		pw->ndirs--;
	pthread_cond_broadcast(&pw->cv);
	pthread_mutex_unlock(&pw->mu);
	if (last) {
		close(d->fd);
		free(d->path);
		free(d);
	}
}

static void
pw_fail(struct pwrite *pw, int r)
{
	pthread_mutex_lock(&pw->mu);
	if (pw->err == 0)
		pw->err = r;
	pthread_cond_broadcast(&pw->cv);
	pthread_mutex_unlock(&pw->mu);
}

static int
pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t k;

	while (done < len) {
		k = pwrite(fd, p + done, len - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0)
			errno = EIO;
		if (k <= 0)
			return COFFER_EIO;	/* errno says why */
		done += (size_t)k;
	}
	return 0;
}

/*
 * ${f} could not be written (errno ${e}): the first time, warn.  SKIPPED
 * (its other chunks are ignored, and pfile_finish drops it), or
 * COFFER_EIO if the error stops the pull.
 */
static int
pfile_error(struct pwrite *pw, struct pfile *f, int e)
{
	char buf[256];
	int first, stop;

	pthread_mutex_lock(&f->omu);
	first = f->skip == 0;
	if (first)
		f->skip = e;
	pthread_mutex_unlock(&f->omu);
	if (fatal_errno(e)) {
		errno = e;
		(void)cf_session_local_error(pw->w->s, "write", f->dir->fd,
		    f->name);
		pthread_mutex_lock(&pw->mu);
		stop = pw->err != 0;
		pthread_mutex_unlock(&pw->mu);
		if (!stop)
			say(pw->w, &pw->mu, f->dir->path, f->dir->pathlen,
			    f->name, skip_msg(buf, sizeof(buf), e));
		return COFFER_EIO;
	}
	if (first)
		say(pw->w, &pw->mu, f->dir->path, f->dir->pathlen, f->name,
		    skip_msg(buf, sizeof(buf), e));
	return SKIPPED;
}

/*
 * Make the temporary file of ${f} if not yet there: a name random for
 * this pull and a counter (no syscall for randomness per file), made
 * with O_EXCL | O_NOFOLLOW; only threads writing the same file wait.
 * SKIPPED if ${f} is left out.
 */
static int
pfile_open(struct pwrite *pw, struct pfile *f, int *fdp)
{
	uint64_t k;
	int r = 0, e = 0;

	pthread_mutex_lock(&f->omu);
	if (f->skip != 0) {
		r = SKIPPED;
	} else if (f->fd < 0) {
		pthread_mutex_lock(&pw->mu);
		k = pw->ntmp++;
		pthread_mutex_unlock(&pw->mu);
		if (snprintf(f->tmp, sizeof(f->tmp), "%s%s-%" PRIx64, TMP_PREFIX,
		    pw->tmpbase, k) >= (int)sizeof(f->tmp))
			r = COFFER_EINTERNAL;
		else if ((f->fd = openat(f->dir->fd, f->tmp, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
			e = errno;
		else
			f->made = 1;
	}
	*fdp = f->fd;
	pthread_mutex_unlock(&f->omu);
	if (e != 0)
		r = pfile_error(pw, f, e);
	return r;
}

/*
 * Take ${f} (no other thread holds it) off the live list: renamed into
 * place (${done}), or left out (its temporary file removed, counted).
 */
static int
pfile_drop(struct pwrite *pw, struct pfile *f, int done)
{
	struct cf_session *s = pw->w->s;

	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->made)
		(void)unlinkat(f->dir->fd, f->tmp, 0);
	f->made = 0;
	pthread_mutex_lock(&pw->mu);
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		pw->live = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	if (done) {
		pw->w->res->files++;
		pw->w->res->bytes += f->written;
		if (s->progress != NULL)
			s->progress(s->progress_ctx, "pull: files written",
			    pw->w->res->files, pw->w->v->files);
	} else {
		pw->w->res->skipped++;
	}
	pthread_mutex_unlock(&pw->mu);
	pdir_release(pw, f->dir);
	pthread_mutex_destroy(&f->omu);
	free(f);
	return 0;
}

/* ${f} failed with errno ${e} at its end: drop it, or stop the pull. */
static int
pfile_fail(struct pwrite *pw, struct pfile *f, int e)
{
	int r;

	if ((r = pfile_error(pw, f, e)) < 0)
		return r;
	return pfile_drop(pw, f, 0);
}

/*
 * Every chunk of ${f} is written (pending reached 0, so no other thread
 * holds it): check its size, set its mode and times, rename it into
 * place, and drop it; or drop a file left out.  On an error that stops
 * the pull it stays on the live list for the clean-up to remove its
 * temporary name.
 */
static int
pfile_finish(struct pwrite *pw, struct pfile *f)
{
	int r, fd, e;

	if (f->written != f->size)
		return COFFER_ENOTAUTHENTIC;
	if ((r = pfile_open(pw, f, &fd)) < 0)	/* an empty file has no chunk */
		return r;
	if (r == SKIPPED)
		return pfile_drop(pw, f, 0);
	f->fd = -1;
	if (fchmod(fd, f->mode) != 0 || futimens(fd, f->ts) != 0) {
		e = errno;
		close(fd);
		return pfile_fail(pw, f, e);
	}
	if (close(fd) != 0)
		return pfile_fail(pw, f, errno);
	/*
	 * rename replaces a file or a symlink (never followed) atomically;
	 * not a folder: that is removed first, with --delete only.
	 */
	if (renameat(f->dir->fd, f->tmp, f->dir->fd, f->name) != 0) {
		e = errno;
		if ((e != EISDIR && e != ENOTEMPTY && e != EEXIST) ||
		    !(pw->w->flags & CF_PULL_DELETE))
			return pfile_fail(pw, f, e);
		if ((r = clear_dir(f->dir->fd, f->name)) != 0)
			return r;
		if (renameat(f->dir->fd, f->tmp, f->dir->fd, f->name) != 0)
			return pfile_fail(pw, f, errno);
	}
	f->made = 0;
	return pfile_drop(pw, f, 1);
}

/* One more of ${f}'s chunks (${len} bytes) is written, or cut. */
static int
pfile_done(struct pwrite *pw, struct pfile *f, size_t len)
{
	int last;

	pthread_mutex_lock(&pw->mu);
	f->written += len;
	last = --f->pending == 0;
	pthread_mutex_unlock(&pw->mu);
	return last ? pfile_finish(pw, f) : 0;
}

struct pwork {
	struct pwrite *pw;
	struct cf_client *net;
	struct pbatch *b;
};

/* A chunk of the batch, opened and of the right length: write it out. */
static int
batch_cb(void *vctx, size_t i, const uint8_t *plain, size_t len)
{
	struct pwork *wk = vctx;
	struct pwrite *pw = wk->pw;
	struct pbatch *b = wk->b;
	struct ptarget *t;
	size_t k;
	int fd, r;

	if (len != b->lens[i])
		return COFFER_ENOTAUTHENTIC;
	for (k = b->head[i]; k != SIZE_MAX; k = t->next) {
		t = &b->t[k];
		/* A file left out still counts its chunks down. */
		if ((r = pfile_open(pw, t->f, &fd)) == 0 &&
		    pwrite_all(fd, plain, len, t->off) != 0)
			r = pfile_error(pw, t->f, errno);
		if (r < 0 || (r = pfile_done(pw, t->f, len)) != 0)
			return r;
	}
	return 0;
}

static void *
pwrite_worker(void *arg)
{
	struct pwork *wk = arg;
	struct pwrite *pw = wk->pw;
	struct pbatch *b;
	int r = 0;

	for (;;) {
		pthread_mutex_lock(&pw->mu);
		while (pw->qhead == NULL && !pw->done && pw->err == 0)
			pthread_cond_wait(&pw->cv, &pw->mu);
		if (pw->err != 0 || pw->qhead == NULL) {
			pthread_mutex_unlock(&pw->mu);
			break;
		}
		b = pw->qhead;
		if ((pw->qhead = b->next) == NULL)
			pw->qtail = NULL;
		pw->nq--;
		pthread_cond_broadcast(&pw->cv);
		pthread_mutex_unlock(&pw->mu);
		wk->b = b;
		r = cf_session_fetch_net(wk->net, pw->w->dk, pw->w->max_epoch,
		    CF_OBJ_CHUNK, (const uint8_t (*)[CF_ID_BYTES])b->ids, b->n,
		    batch_cb, wk);
		wk->b = NULL;
		free(b);
		if (r != 0) {
			pw_fail(pw, r);
			break;
		}
	}
	return NULL;
}

/* Hand the batch being cut to the workers (waiting for room). */
static int
batch_flush(struct pwrite *pw)
{
	struct pbatch *b = pw->cur;
	int r;

	if (b == NULL || b->n == 0)
		return 0;
	pw->cur = NULL;
	pthread_mutex_lock(&pw->mu);
	while (pw->nq >= PULL_QUEUE && pw->err == 0)
		pthread_cond_wait(&pw->cv, &pw->mu);
	if ((r = pw->err) == 0) {
		b->next = NULL;
		if (pw->qtail != NULL)
			pw->qtail->next = b;
		else
			pw->qhead = b;
		pw->qtail = b;
		pw->nq++;
		pthread_cond_broadcast(&pw->cv);
	}
	pthread_mutex_unlock(&pw->mu);
	if (r != 0) {
		/* Not queued: its targets are never written. */
		pw->cur = b;
	}
	return r;
}

/* Add the chunk ${ref}, to go at ${off} of ${f}, to the batch. */
static int
batch_add(struct pwrite *pw, struct pfile *f, const struct cf_ref *ref,
    uint64_t off)
{
	struct pbatch *b;
	size_t h, i;
	int r;

	b = pw->cur;
	if (b != NULL && (b->nt == PULL_BATCH_TARGETS ||
	    b->n == PULL_BATCH_IDS ||
	    (b->n > 0 && b->bytes + ref->len > PULL_BATCH_BYTES))) {
		/* Unless the id is in it already (then it costs nothing). */
		for (h = (size_t)cf_be64dec(ref->id) & (2 * PULL_BATCH_IDS - 1);
		    b->hash[h] != 0; h = (h + 1) & (2 * PULL_BATCH_IDS - 1))
			if (!memcmp(b->ids[b->hash[h] - 1], ref->id, CF_ID_BYTES))
				break;
		if (b->hash[h] == 0 || b->nt == PULL_BATCH_TARGETS) {
			if ((r = batch_flush(pw)) != 0)
				return r;
			b = NULL;
		}
	}
	if (b == NULL) {
		if ((b = malloc(sizeof(*b))) == NULL)
			return COFFER_ENOMEM;
		b->n = b->nt = b->bytes = 0;
		memset(b->hash, 0, sizeof(b->hash));
		pw->cur = b;
	}
	for (h = (size_t)cf_be64dec(ref->id) & (2 * PULL_BATCH_IDS - 1);
	    b->hash[h] != 0; h = (h + 1) & (2 * PULL_BATCH_IDS - 1))
		if (!memcmp(b->ids[b->hash[h] - 1], ref->id, CF_ID_BYTES))
			break;
	if (b->hash[h] != 0) {
		i = b->hash[h] - 1;
		if (b->lens[i] != ref->len)
			return COFFER_ENOTAUTHENTIC;	/* one id, two lengths */
	} else {
		i = b->n++;
		memcpy(b->ids[i], ref->id, CF_ID_BYTES);
		b->lens[i] = ref->len;
		b->head[i] = SIZE_MAX;
		b->hash[h] = i + 1;
		b->bytes += ref->len;
	}
	b->t[b->nt].f = f;
	b->t[b->nt].off = off;
	b->t[b->nt].next = b->head[i];
	b->head[i] = b->nt++;
	pthread_mutex_lock(&pw->mu);
	f->pending++;
	pthread_mutex_unlock(&pw->mu);
	return 0;
}

static int
cut_refs(struct pwrite *pw, struct pfile *f, const struct cf_ref *refs,
    size_t n, uint64_t *offp)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (refs[i].len > f->size - *offp)
			return COFFER_ENOTAUTHENTIC;
		if ((r = batch_add(pw, f, &refs[i], *offp)) != 0)
			return r;
		*offp += refs[i].len;
	}
	return 0;
}

/* Cut the file ${e} in the folder ${d} into batches. */
static int
produce_file(struct pwrite *pw, struct pdir *d, const struct cf_tree_entry *e)
{
	struct wctx *w = pw->w;
	struct cf_list *l = NULL;
	struct mapslot *ms;
	struct pfile *f;
	uint64_t off = 0, sum = 0;
	size_t i;
	int r = 0;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return COFFER_ENOMEM;
	if (pthread_mutex_init(&f->omu, NULL) != 0) {
		free(f);
		return COFFER_EINTERNAL;
	}
	memcpy(f->name, e->name, e->namelen);
	f->name[e->namelen] = '\0';
	f->fd = -1;
	f->mode = (mode_t)mode_of(w, e->mode);
	times_of(e, f->ts);
	f->size = e->size;
	f->dir = d;
	f->pending = 1;			/* ours while we cut it */
	pthread_mutex_lock(&pw->mu);
	d->refs++;
	if ((f->next = pw->live) != NULL)
		f->next->prev = f;
	pw->live = f;
	pthread_mutex_unlock(&pw->mu);
	if (e->how == CF_FILE_CHUNKS) {
		r = cut_refs(pw, f, e->refs, e->nrefs, &off);
	} else {
		for (i = 0; i < e->nrefs && r == 0; i++) {
			/* Lists were verified in the walk; they are in the map. */
			if ((ms = map_find(&w->v->map, e->refs[i].id,
			    CF_OBJ_LIST)) == NULL) {
				r = COFFER_EINTERNAL;
				break;
			}
			if ((r = cf_list_decode(ms->plain, ms->len, &l)) == 0 &&
			    (r = cf_list_check_one(e, i, l, &sum)) == 0)
				r = cut_refs(pw, f, l->chunks, l->n, &off);
			cf_list_free(l);
			l = NULL;
		}
	}
	if (r == 0 && off != e->size)
		r = COFFER_ENOTAUTHENTIC;
	if (r != 0)
		return r;		/* the clean-up removes it */
	return pfile_done(pw, f, 0);
}

/*
 * The folder ${name} in ${d} could not be made or opened (errno ${e}):
 * warn, and note it for finish_dir; SKIPPED, or COFFER_EIO if that
 * stops the pull.
 */
static int
pdir_error(struct pwrite *pw, struct pdir *d, const char *name, int e)
{
	struct wctx *w = pw->w;
	char **nv;
	size_t cap, len;
	int r;

	if (fatal_errno(e)) {
		errno = e;
		(void)cf_session_local_error(w->s, "make the folder", d->fd,
		    name);
	}
	if ((r = path_error(w, &pw->mu, d->path, d->pathlen, name, e)) < 0)
		return r;
	if (w->nskipdirs == w->capskipdirs) {
		cap = w->capskipdirs == 0 ? 16 : w->capskipdirs * 2;
		if ((nv = realloc(w->skipdirs, cap * sizeof(*nv))) == NULL)
			return COFFER_ENOMEM;
		w->skipdirs = nv;
		w->capskipdirs = cap;
	}
	if ((w->skipdirs[w->nskipdirs] = join_path(d->path, d->pathlen, name,
	    &len)) == NULL)
		return COFFER_ENOMEM;
	w->nskipdirs++;
	return SKIPPED;
}

/*
 * Remove the temporary files an interrupted pull left in the folder ${d}
 * (regular files named exactly as pfile_open names them, never this
 * pull's own, and symlinks named exactly as write_symlink names them,
 * never followed), counted in res->tmp_removed.  No other pull writes
 * here meanwhile: cf_pull holds the target's lock.
 */
static void
sweep_tmp(struct pwrite *pw, struct pdir *d)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int form;

	if ((dir = cf_opendir_dup(d->fd)) == NULL)
		return;			/* not readable: the writes will say */
	while ((de = readdir(dir)) != NULL) {
		if ((form = tmp_form(de->d_name)) == 0 ||
		    !strncmp(de->d_name + strlen(TMP_PREFIX), pw->tmpbase,
		    2 * TMP_RAND_BYTES) ||
		    fstatat(d->fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if ((form == 2 && !S_ISREG(st.st_mode)) ||
		    (form == 1 && !S_ISLNK(st.st_mode)))
			continue;
		if (unlinkat(d->fd, de->d_name, 0) == 0)
			pw->w->res->tmp_removed++;
		else
			say(pw->w, &pw->mu, d->path, d->pathlen, de->d_name,
			    "could not remove this temporary file of an "
			    "interrupted pull");
	}
	closedir(dir);
}

/*
 * Make the folder ${name} in ${d} (mode 0700 until finish_dir); *existp
 * says whether it was there.  What is in the way is removed if it is a
 * symlink (never followed) or with --delete; else the folder is left
 * out (SKIPPED), as is one that cannot be made.
 */
static int
produce_mkdir(struct pwrite *pw, struct pdir *d, const char *name,
    struct pdir **ndp, int *existp)
{
	struct pdir *nd;
	struct stat st;
	int fd, full, r;

	*ndp = NULL;
	*existp = 0;
	/*
	 * Not too many folder handles open: hand over what is cut (the
	 * files holding them) and let the workers catch up.
	 */
	pthread_mutex_lock(&pw->mu);
	full = pw->ndirs - pw->held >= PULL_DIRS_MAX;
	pthread_mutex_unlock(&pw->mu);
	if (full && (r = batch_flush(pw)) != 0)
		return r;
	pthread_mutex_lock(&pw->mu);
	while (pw->ndirs - pw->held >= PULL_DIRS_MAX && pw->err == 0)
		pthread_cond_wait(&pw->cv, &pw->mu);
	r = pw->err;
	pthread_mutex_unlock(&pw->mu);
	if (r != 0)
		return r;
	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode) &&
		    !(pw->w->flags & CF_PULL_DELETE))
			return pdir_error(pw, d, name, ENOTDIR);
		if (!S_ISDIR(st.st_mode) && rm_at(d->fd, name, 1) != 0)
			return pdir_error(pw, d, name, errno);
	} else if (errno != ENOENT) {
		return pdir_error(pw, d, name, errno);
	}
	if (mkdirat(d->fd, name, 0700) != 0) {
		if (errno != EEXIST)
			return pdir_error(pw, d, name, errno);
		*existp = 1;
	}
	if ((fd = openat(d->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return pdir_error(pw, d, name, errno);
	(void)fchmod(fd, 0700);
	if ((nd = malloc(sizeof(*nd))) == NULL) {
		close(fd);
		return COFFER_ENOMEM;
	}
	if ((nd->path = join_path(d->path, d->pathlen, name,
	    &nd->pathlen)) == NULL) {
		free(nd);
		close(fd);
		return COFFER_ENOMEM;
	}
	nd->fd = fd;
	nd->refs = 1;
	pthread_mutex_lock(&pw->mu);
	pw->ndirs++;
	pw->held++;
	pthread_mutex_unlock(&pw->mu);
	*ndp = nd;
	return 0;
}

/*
 * Cut every file of the version's folder ${id} into batches for the
 * folder ${d}, and make its folders; first, in a folder that was there
 * (${existed}), remove what an interrupted pull left.
 */
static int
produce_dir(struct pwrite *pw, struct pdir *d,
    const uint8_t id[static CF_ID_BYTES], int existed)
{
	struct cf_folder f;
	struct pdir *nd;
	const struct cf_tree_entry *e;
	char name[CF_TREE_NAME_MAX + 1];
	size_t i;
	int r, ex;

	if ((r = folder_load(vload_cb, pw->w->v, id, &f)) != 0)
		return r;
	if (existed)
		sweep_tmp(pw, d);
	for (i = 0; i < f.n && r == 0; i++) {
		e = f.e[i];
		if (e->type == CF_TREE_FILE) {
			r = produce_file(pw, d, e);
		} else if (e->type == CF_TREE_DIR) {
			memcpy(name, e->name, e->namelen);
			name[e->namelen] = '\0';
			if ((r = produce_mkdir(pw, d, name, &nd, &ex)) != 0) {
				if (r == SKIPPED)
					r = 0;
				continue;
			}
			r = produce_dir(pw, nd, e->subtree, ex);
			pthread_mutex_lock(&pw->mu);
			pw->held--;
			pthread_mutex_unlock(&pw->mu);
			pdir_release(pw, nd);
		}
	}
	cf_folder_free(&f);
	return r;
}

static unsigned
pull_workers(void)
{
	/* One per core, and one more to fetch while the others open. */
	long n = sysconf(_SC_NPROCESSORS_ONLN) + 1;

	if (n < 2)
		n = 2;
	if (n > PULL_WORKERS_MAX)
		n = PULL_WORKERS_MAX;
	return (unsigned)n;
}

/*
 * Write every file of the folder ${root} into ${dfd} (not empty:
 * ${existed}), chunks fetched and opened by worker threads.  On an error
 * no temporary file is left.
 */
static int
write_files(struct wctx *w, int dfd, const uint8_t root[static CF_ID_BYTES],
    int existed)
{
	struct pwrite pw;
	struct pwork wk[PULL_WORKERS_MAX];
	pthread_t th[PULL_WORKERS_MAX];
	struct pdir *top;
	struct pfile *f;
	struct pbatch *b;
	uint8_t rnd[TMP_RAND_BYTES];
	unsigned n = 0, k, want = pull_workers();
	int r;

	memset(&pw, 0, sizeof(pw));
	memset(wk, 0, sizeof(wk));
	pw.w = w;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(pw.tmpbase, sizeof(pw.tmpbase), rnd, sizeof(rnd));
	if ((top = malloc(sizeof(*top))) == NULL)
		return COFFER_ENOMEM;
	if ((top->fd = dup(dfd)) < 0) {
		free(top);
		return COFFER_EIO;
	}
	top->refs = 1;
	top->path = NULL;
	top->pathlen = 0;
	pw.ndirs = pw.held = 1;
	if (pthread_mutex_init(&pw.mu, NULL) != 0) {
		close(top->fd);
		free(top);
		return COFFER_EINTERNAL;
	}
	if (pthread_cond_init(&pw.cv, NULL) != 0) {
		pthread_mutex_destroy(&pw.mu);
		close(top->fd);
		free(top);
		return COFFER_EINTERNAL;
	}
	for (k = 0; k < want; k++) {
		wk[k].pw = &pw;
		if ((r = cf_session_client(w->s, &wk[k].net)) != 0)
			break;
		if (pthread_create(&th[k], NULL, pwrite_worker, &wk[k]) != 0) {
			cf_client_free(wk[k].net);
			wk[k].net = NULL;
			break;
		}
		n = k + 1;
	}
	if (n == 0)
		r = COFFER_EINTERNAL;
	else if ((r = produce_dir(&pw, top, root, existed)) == 0)
		r = batch_flush(&pw);
	if (r != 0)
		pw_fail(&pw, r);
	pthread_mutex_lock(&pw.mu);
	pw.done = 1;
	pthread_cond_broadcast(&pw.cv);
	pthread_mutex_unlock(&pw.mu);
	for (k = 0; k < n; k++) {
		pthread_join(th[k], NULL);
		cf_client_free(wk[k].net);
	}
	r = pw.err;
	/* Clean up after an error: batches never run, temporary files. */
	free(pw.cur);
	while ((b = pw.qhead) != NULL) {
		pw.qhead = b->next;
		free(b);
	}
	while ((f = pw.live) != NULL) {
		pw.live = f->next;
		if (f->fd >= 0)
			close(f->fd);
		if (f->made)
			(void)unlinkat(f->dir->fd, f->tmp, 0);
		pdir_release(&pw, f->dir);
		pthread_mutex_destroy(&f->omu);
		free(f);
	}
	pdir_release(&pw, top);
	pthread_cond_destroy(&pw.cv);
	pthread_mutex_destroy(&pw.mu);
	return r;
}

/* Was the folder ${pb} left out while the files were written? */
static int
skipped_dir(const struct wctx *w, const struct pbuf *pb)
{
	size_t i;

	for (i = 0; i < w->nskipdirs; i++)
		if (!strcmp(w->skipdirs[i], pb->p))
			return 1;
	return 0;
}

/*
 * After every file is in place: symlinks, deletions (--delete), and each
 * folder's mode and times once its contents are done.  ${pb}: the path
 * of ${dfd} under the target.
 */
static int
finish_dir(struct wctx *w, int dfd, const uint8_t id[static CF_ID_BYTES],
    struct pbuf *pb)
{
	struct cf_folder f;
	char name[CF_TREE_NAME_MAX + 1], buf[256];
	struct timespec ts[2];
	const struct cf_tree_entry *e;
	size_t i, old;
	int fd, r, err;

	if ((r = folder_load(vload_cb, w->v, id, &f)) != 0)
		return r;
	if ((w->flags & CF_PULL_DELETE) && (r = delete_extra(w, dfd, &f)) != 0)
		goto out;
	for (i = 0; i < f.n && r == 0; i++) {
		e = f.e[i];
		memcpy(name, e->name, e->namelen);
		name[e->namelen] = '\0';
		if (e->type == CF_TREE_SYMLINK)
			r = write_symlink(w, dfd, pb, name, e);
	}
	for (i = 0; i < f.n && r == 0; i++) {
		e = f.e[i];
		if (e->type != CF_TREE_DIR)
			continue;
		memcpy(name, e->name, e->namelen);
		name[e->namelen] = '\0';
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		err = errno;
		if ((r = pbuf_push(pb, name, e->namelen, &old)) != 0) {
			if (fd >= 0)
				close(fd);
			break;
		}
		if (fd < 0) {
			/* Warned already if it was left out. */
			if (!skipped_dir(w, pb) && path_error(w, NULL, pb->p,
			    pb->len, NULL, err) < 0)
				r = COFFER_EIO;
			pb->len = old;
			continue;
		}
		if ((r = finish_dir(w, fd, e->subtree, pb)) == 0) {
			times_of(e, ts);
			if (fchmod(fd, (mode_t)mode_of(w, e->mode)) != 0 ||
			    futimens(fd, ts) != 0) {
				err = errno;
				snprintf(buf, sizeof(buf), "could not set the "
				    "folder's mode and time (%s)", strerror(err));
				say(w, NULL, pb->p, pb->len, NULL, buf);
				if (fatal_errno(err))
					r = COFFER_EIO;
				else
					w->res->skipped++;
			} else {
				w->res->dirs++;
			}
		}
		pb->len = old;
		close(fd);
	}
out:
	cf_folder_free(&f);
	return r;
}

/*
 * Last, the top folder's own mode and times, as finish_dir() sets a
 * subfolder's: only if the version has them (commit format 2; a format 1
 * commit leaves the target folder alone).
 */
static int
finish_top(struct wctx *w, int dfd, const struct cf_commit *c)
{
	struct timespec ts[2];
	char buf[256];
	int err, r = 0;

	if (!c->has_root_meta)
		goto out;
	ts[0].tv_sec = (time_t)c->root_mtime_sec;
	ts[0].tv_nsec = (long)c->root_mtime_nsec;
	ts[1] = ts[0];
	if (fchmod(dfd, (mode_t)mode_of(w, c->root_mode)) == 0 &&
	    futimens(dfd, ts) == 0)
		goto out;
	err = errno;
	snprintf(buf, sizeof(buf), "could not set the top folder's mode and "
	    "time (%s)", strerror(err));
	say(w, NULL, ".", 1, NULL, buf);
	if (fatal_errno(err))
		r = COFFER_EIO;
	else
		w->res->skipped++;
out:
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
	struct pbuf pb;
	size_t i;
	int dfd = -1, empty, r;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	memset(&w, 0, sizeof(w));
	memset(&pb, 0, sizeof(pb));
	if ((r = open_version(s, drive, version, &dk, &pin, &c)) != 0)
		goto out;
	res->version = c.version;
	/* 1. Verify every tree and list of the version. */
	v.s = s;
	v.dk = dk;
	v.max_epoch = cf_chain_epoch_at(s->chain, c.chain_seq);
	v.keep = 1;
	memset(&wp, 0, sizeof(wp));
	wp.load = vload_cb;
	wp.visit = vvisit_cb;
	wp.ctx = &v;
	if ((r = preload(&v, c.root_id)) != 0 ||
	    (r = cf_walk(c.root_id, &wp)) != 0) {
		r = cf_err_from_server(r);
		goto out;
	}
	/* 2. Only now touch the target: a non-empty one needs --overwrite. */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = cf_session_local_error(s, "make the folder", AT_FDCWD, dir);
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = cf_session_local_error(s, "open the folder", AT_FDCWD, dir);
		goto out;
	}
	/*
	 * One pull at a time: each would remove the other's temporary files.
	 * A file system without locks (ENOLCK, EINVAL: NFS without lockd)
	 * pulls unlocked, as before there was a lock.
	 */
	if (flock(dfd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
		res->busy = 1;
		r = COFFER_ECONFLICT;
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
	/*
	 * 3. Without --delete, a local entry of another kind than the
	 * version's stops the pull before the first write.
	 */
	if (!empty && !(flags & CF_PULL_DELETE)) {
		if ((r = check_dir(&w, dfd, c.root_id, &pb)) != 0)
			goto out;
		if (res->conflicts > PULL_CONFLICTS_SHOWN && warnfn != NULL)
			warnfn(wctx, "and more entries of another kind, not "
			    "listed", NULL, 0);
		if (res->conflicts > 0) {
			r = COFFER_EEXIST;
			goto out;
		}
	}
	/*
	 * 4. Every file, each chunk verified before it is written to a
	 * temporary name, each file renamed once all its chunks are; then
	 * symlinks, deletions and folder modes and times.
	 */
	pb.len = 0;
	if ((r = write_files(&w, dfd, c.root_id, !empty)) == 0)
		r = finish_dir(&w, dfd, c.root_id, &pb);
	if (r == 0)
		r = finish_top(&w, dfd, &c);
	/* The head pulled: this device has looked at it (push tells less). */
	if (r == 0 && c.version == pin->n)
		(void)cf_session_set_looked(s, pin->drive_id, c.version);
out:
	for (i = 0; i < w.nskipdirs; i++)
		free(w.skipdirs[i]);
	free(w.skipdirs);
	free(pb.p);
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
	struct cf_folder f;
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
		cf_folder_free(&f);
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
	cf_folder_free(&f);
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

/*
 * check --read-data: worker threads (one per core), each with a
 * connection, take the next run of chunks of about PULL_BATCH_BYTES,
 * fetch it in one get request and open each chunk; so one thread's
 * fetch overlaps another's opening.
 */
struct ccheck {
	struct cf_session *s;
	const struct cf_drive_keys *dk;
	const struct vload *v;
	pthread_mutex_t mu;		/* next, done, bytes, err */
	size_t next, done;
	uint64_t bytes;
	int err;
};

struct ccheck_one {
	struct ccheck *cc;
	struct cf_client *net;
	size_t base;
	uint64_t bytes;
};

static int
ccheck_cb(void *vctx, size_t i, const uint8_t *plain, size_t len)
{
	struct ccheck_one *o = vctx;

	(void)plain;
	if (len != o->cc->v->chunkv[o->base + i].len)
		return COFFER_ENOTAUTHENTIC;
	o->bytes += len;
	return 0;
}

static void *
ccheck_worker(void *arg)
{
	struct ccheck_one *o = arg;
	struct ccheck *cc = o->cc;
	const struct vload *v = cc->v;
	uint8_t (*ids)[CF_ID_BYTES];
	size_t i, b, bytes;
	int r = 0;

	if ((ids = malloc(PULL_BATCH_IDS * CF_ID_BYTES)) == NULL)
		r = COFFER_ENOMEM;
	while (r == 0) {
		pthread_mutex_lock(&cc->mu);
		if (cc->err != 0 || cc->next >= v->nchunkv) {
			pthread_mutex_unlock(&cc->mu);
			break;
		}
		i = cc->next;
		for (b = 0, bytes = 0; i + b < v->nchunkv && b < PULL_BATCH_IDS &&
		    (b == 0 || bytes + v->chunkv[i + b].len <= PULL_BATCH_BYTES);
		    b++)
			bytes += v->chunkv[i + b].len;
		cc->next += b;
		pthread_mutex_unlock(&cc->mu);
		for (size_t j = 0; j < b; j++)
			memcpy(ids[j], v->chunkv[i + j].id, CF_ID_BYTES);
		o->base = i;
		o->bytes = 0;
		r = cf_session_fetch_net(o->net, cc->dk, cf_session_epoch(cc->s),
		    CF_OBJ_CHUNK, (const uint8_t (*)[CF_ID_BYTES])ids, b,
		    ccheck_cb, o);
		pthread_mutex_lock(&cc->mu);
		if (r == 0) {
			cc->done += b;
			cc->bytes += o->bytes;
			if (cc->s->progress != NULL)
				cc->s->progress(cc->s->progress_ctx,
				    "check: chunks read", cc->done, v->nchunkv);
		}
		pthread_mutex_unlock(&cc->mu);
	}
	if (r != 0) {
		pthread_mutex_lock(&cc->mu);
		if (cc->err == 0)
			cc->err = r;
		pthread_mutex_unlock(&cc->mu);
	}
	free(ids);
	return NULL;
}

static int
check_chunks(struct cf_session *s, const struct cf_drive_keys *dk,
    const struct vload *v, struct cf_check_result *res)
{
	struct ccheck cc;
	struct ccheck_one one[PULL_WORKERS_MAX];
	pthread_t th[PULL_WORKERS_MAX];
	unsigned k, n = 0, want = pull_workers();
	int r;

	memset(&cc, 0, sizeof(cc));
	memset(one, 0, sizeof(one));
	cc.s = s;
	cc.dk = dk;
	cc.v = v;
	if (pthread_mutex_init(&cc.mu, NULL) != 0)
		return COFFER_EINTERNAL;
	for (k = 0; k < want; k++) {
		one[k].cc = &cc;
		if (cf_session_client(s, &one[k].net) != 0)
			break;
		if (pthread_create(&th[k], NULL, ccheck_worker, &one[k]) != 0) {
			cf_client_free(one[k].net);
			one[k].net = NULL;
			break;
		}
		n = k + 1;
	}
	for (k = 0; k < n; k++) {
		pthread_join(th[k], NULL);
		cf_client_free(one[k].net);
	}
	r = n == 0 ? COFFER_EINTERNAL : cc.err;
	if (r == 0 && cc.done != v->nchunkv)
		r = COFFER_EINTERNAL;
	if (r == 0) {
		res->chunks += v->nchunkv;
		res->chunk_bytes += cc.bytes;
	}
	pthread_mutex_destroy(&cc.mu);
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
	uint64_t ver;
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
			r = cf_err_from_server(r);
			goto out;
		}
		res->versions++;
	}
	res->trees += v.trees;
	res->lists += v.lists;
	if (read_data && v.nchunkv > 0) {
		/* Chunks: any epoch the drive lists up to the current. */
		if ((r = check_chunks(s, dk, &v, res)) != 0)
			goto out;
	}
	res->drives++;
out:
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
