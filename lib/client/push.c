/*
 * push: a folder becomes the next version of a drive (DESIGN §7).
 *
 * Scan depth first relative to directory handles (O_NOFOLLOW), chunk each
 * file (or take its chunks from the stat cache; a file that changed while
 * read is read again), dedup each object against the parent version's
 * set and then the server (have-which), hand it to the upload pipeline
 * (upload.c), build each folder's tree after its children, refuse a
 * snapshot that drops most of the head, then sign the commit, compute the
 * reference delta and move the head (past the delta cap: push_split.c).
 * The caches this keeps (stat cache, known ids) are here too; the re-seal
 * of --rekey is push_reseal.c.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/err.h"
#include "chunker/chunker.h"
#include "crypto/kdf.h"
#include "net/frame.h"
#include "tree/tree.h"
#include "util/buf.h"
#include "idhash.h"
#include "push_internal.h"

void
cf_push_warn(struct push *p, const char *msg, const uint8_t *path, size_t len)
{
	if (p->warn != NULL)
		p->warn(p->wctx, msg, path, len);
}

/* ---- files ---- */

static int
read_some(int fd, uint8_t *buf, size_t want, size_t *gotp, int *eofp)
{
	ssize_t k;

	*gotp = 0;
	while (*gotp < want) {
		k = read(fd, buf + *gotp, want - *gotp);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return COFFER_EIO;
		if (k == 0) {
			*eofp = 1;
			break;
		}
		*gotp += (size_t)k;
	}
	return 0;
}

static int
same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_ino == b->st_ino &&
	    a->st_dev == b->st_dev &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int64_t
ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + (int64_t)t->tv_nsec;
}

static void
sc_fill(struct cf_sc_entry *e, const struct stat *st)
{
	e->size = (uint64_t)st->st_size;
	e->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	e->ctime_sec = (int64_t)st->st_ctim.tv_sec;
	e->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	e->ino = (uint64_t)st->st_ino;
	e->dev = (uint64_t)st->st_dev;
}

static int64_t
now_ns(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_REALTIME, &t) != 0)
		return 0;
	return ts_ns(&t);
}

/*
 * Make sure the clock is past the file's ctime by CF_PUSH_RACY_NS before
 * taking the stat the cache keeps (*st, again from ${fd}).  ${*okp} = 1
 * if the file may be cached.
 */
static int
settle(int fd, struct stat *st, int *okp)
{
	struct timespec w;
	int64_t c = ts_ns(&st->st_ctim), t = now_ns(), wait;

	*okp = 0;
	if (c >= t + CF_PUSH_RACY_MAX_WAIT_NS)
		return 0;		/* ctime in the future: do not cache */
	if (c + CF_PUSH_RACY_NS > t) {
		wait = c + CF_PUSH_RACY_NS - t;
		w.tv_sec = (time_t)(wait / 1000000000);
		w.tv_nsec = (long)(wait % 1000000000);
		while (nanosleep(&w, &w) != 0 && errno == EINTR)
			;
		if (fstat(fd, st) != 0)
			return COFFER_EIO;
		if (ts_ns(&st->st_ctim) + CF_PUSH_RACY_NS > now_ns())
			return 0;	/* changed meanwhile: do not cache */
	}
	*okp = 1;
	return 0;
}

/* The cached chunks of an unchanged file, if all are known stored. */
static const struct cf_sc_entry *
cache_hit(struct push *p, const struct stat *st)
{
	const struct cf_sc_entry *e;
	struct cf_sc_entry now;
	size_t i;

	if (p->oldsc == NULL ||
	    (e = cf_statcache_find(p->oldsc, p->path, p->pathlen)) == NULL)
		return NULL;
	sc_fill(&now, st);
	if (e->size != now.size || e->mtime_sec != now.mtime_sec ||
	    e->mtime_nsec != now.mtime_nsec || e->ctime_sec != now.ctime_sec ||
	    e->ctime_nsec != now.ctime_nsec || e->ino != now.ino ||
	    e->dev != now.dev)
		return NULL;
	for (i = 0; i < e->nrefs; i++)
		if (!cf_idset_has(&p->parent, e->refs[i].id) &&
		    !cf_idhash_has(&p->child, e->refs[i].id))
			return NULL;
	return e;
}

/*
 * A test hook (never set outside tests): with s->read_hook naming a
 * folder, after each read of a file push writes the file's path
 * and a newline to the FIFO ${dir}/req and waits for a byte on the FIFO
 * ${dir}/ack before it looks at the file again, so that a test changes
 * the file between the read and the check, every time, without a race.
 */
static void
test_after_read(const struct push *p)
{
	const char *d = p->s->read_hook;
	char fn[4096], c;
	ssize_t k;
	int fd;

	if (d == NULL || *d == '\0' ||
	    (size_t)snprintf(fn, sizeof(fn), "%s/req", d) >= sizeof(fn) ||
	    (fd = open(fn, O_WRONLY | O_CLOEXEC)) < 0)
		return;
	if (write(fd, p->path, p->pathlen) < 0 || write(fd, "\n", 1) < 0) {
		close(fd);
		return;
	}
	close(fd);
	(void)snprintf(fn, sizeof(fn), "%s/ack", d);
	if ((fd = open(fn, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	while ((k = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	close(fd);
}

/* file() and read_once(): the file could not be read (errno in p->rerr). */
#define READ_FAILED	2

/*
 * Read the open file ${fd} once from where it stands to its end, and chunk
 * it: its chunks into ${lb} and (*chunksp, *np, *capp); ${*gotp} bytes.
 * READ_FAILED if a read fails.
 */
static int
read_once(struct push *p, int fd, struct cf_list_builder *lb,
    struct cf_ref **chunksp, size_t *np, size_t *capp, uint64_t *gotp)
{
	struct cf_ref *nc;
	size_t have = 0, off = 0, got, cut, want;
	uint8_t id[CF_ID_BYTES];
	int eof = 0, more = 0, r = 0;

	*gotp = 0;
	/*
	 * The unchunked bytes are buf[off, have).  Read READ_STEP at a time
	 * (more only while the chunker asks for it) and move the rest to the
	 * front only when the window's end is reached: a byte is moved about
	 * once at most, not once per chunk cut before it.
	 */
	for (;;) {
		if (!eof && (more || have - off < READ_STEP)) {
			if (have + READ_STEP > READ_WINDOW && off > 0) {
				memmove(p->buf, p->buf + off, have - off);
				have -= off;
				off = 0;
			}
			want = READ_WINDOW - have < READ_STEP ?
			    READ_WINDOW - have : READ_STEP;
			if (read_some(fd, p->buf + have, want, &got,
			    &eof) != 0) {
				p->rerr = errno;
				return READ_FAILED;
			}
			have += got;
			*gotp += got;
			p->res->bytes_read += got;
			more = 0;
		}
		if (have == off)
			break;
		if ((cut = cf_chunker_cut(p->chunker, p->buf + off, have - off,
		    eof)) == 0) {
			if (eof)
				return COFFER_EINTERNAL;
			more = 1;
			continue;
		}
		cf_object_id(p->ckey.id_key, CF_OBJ_CHUNK, p->buf + off, cut, id);
		if ((r = cf_upload_object(p, CF_OBJ_CHUNK, p->buf + off, cut,
		    id)) != 0 ||
		    (r = cf_list_builder_add(lb, id, (uint32_t)cut)) != 0)
			return r;
		if (*np == *capp) {
			*capp = *capp == 0 ? 16 : *capp * 2;
			if ((nc = realloc(*chunksp, *capp * sizeof(*nc))) == NULL)
				return COFFER_ENOMEM;
			*chunksp = nc;
		}
		memcpy((*chunksp)[*np].id, id, CF_ID_BYTES);
		(*chunksp)[*np].len = (uint32_t)cut;
		(*np)++;
		off += cut;
	}
	return 0;
}

/*
 * Chunks of one file, from the cache or read; fills the entry's refs.
 * Returns 1 (and fills nothing) if the file changed while read on each
 * of CF_PUSH_READ_TRIES reads: what was read is not a state the file
 * ever had; READ_FAILED (errno in p->rerr, nothing filled) if reading it
 * failed part way.  ${*st} is the stat the kept read began from.
 */
static int
file(struct push *p, int fd, struct stat *st, struct cf_tree_entry *te)
{
	struct cf_list_builder *lb = NULL;
	const struct cf_sc_entry *hit;
	struct cf_sc_entry sce;
	struct cf_ref *chunks = NULL, *nc;
	size_t nchunks = 0, capchunks = 0, i;
	struct cf_ref *refs = NULL;
	struct stat st2;
	uint64_t got;
	int cacheable = 0, tries, r, r2;

	memset(&sce, 0, sizeof(sce));
	if ((hit = cache_hit(p, st)) != NULL) {
		if ((r = cf_list_builder_new(p->mkey.id_key, cf_upload_emit, p,
		    &lb)) != 0)
			goto out;
		for (i = 0; i < hit->nrefs; i++) {
			if ((r = cf_upload_child_add(p, hit->refs[i].id)) < 0 ||
			    (r = cf_list_builder_add(lb, hit->refs[i].id,
			    hit->refs[i].len)) != 0)
				goto out;
		}
		if ((r = cf_statcache_add_found(p->newsc, p->oldsc)) != 0)
			goto out;
		goto finish;
	}
	p->res->files_read++;
	for (tries = 0; ; tries++) {
		if (tries > 0 && (lseek(fd, 0, SEEK_SET) != 0 ||
		    fstat(fd, st) != 0)) {
			p->rerr = errno;
			r = READ_FAILED;
			goto out;
		}
		/*
		 * A file changed in the same clock tick as the stat we keep
		 * could change again unseen: let the tick pass before that
		 * stat, so that any later change moves ctime (a short wait,
		 * for fresh files only).
		 */
		if ((r = settle(fd, st, &cacheable)) != 0) {
			if (r == COFFER_EIO) {	/* its fstat failed */
				p->rerr = errno;
				r = READ_FAILED;
			}
			goto out;
		}
		cf_list_builder_free(lb);
		lb = NULL;
		nchunks = 0;
		if ((r = cf_list_builder_new(p->mkey.id_key, cf_upload_emit, p,
		    &lb)) != 0)
			goto out;
		p->recording = 1;
		if ((r = read_once(p, fd, lb, &chunks, &nchunks, &capchunks,
		    &got)) == 0) {
			test_after_read(p);
			if (fstat(fd, &st2) != 0) {
				p->rerr = errno;
				r = READ_FAILED;
			}
		}
		if (r == READ_FAILED) {
			/* What was read is no state: thrown away, as below. */
			if ((r2 = cf_upload_att_end(p, 0)) != 0)
				r = r2;
			goto out;
		}
		if (r != 0)
			goto out;
		/* Unchanged from before the read to after it: a real state. */
		if (same_stat(st, &st2) && got == (uint64_t)st->st_size) {
			if ((r = cf_upload_att_end(p, 1)) != 0)
				goto out;
			break;
		}
		if ((r = cf_upload_att_end(p, 0)) != 0)
			goto out;
		if (tries + 1 >= CF_PUSH_READ_TRIES) {
			r = 1;
			goto out;
		}
	}
	/* Cache it only if it is not too new. */
	if (cacheable) {
		sc_fill(&sce, st);
		sce.path = p->path;
		sce.pathlen = p->pathlen;
		sce.refs = chunks;
		sce.nrefs = nchunks;
		/* The size of what was read (the chunks sum to it). */
		for (sce.size = 0, i = 0; i < nchunks; i++)
			sce.size += chunks[i].len;
		if ((r = cf_statcache_add(p->newsc, &sce)) != 0)
			goto out;
	}
finish:
	if ((r = cf_list_builder_finish(lb, &te->how, &refs, &te->nrefs,
	    &te->size)) != 0)
		goto out;
	/*
	 * The builder's list has room for CF_FILE_DIRECT_MAX refs (9 KiB);
	 * a folder's entries are kept until it is built: keep what is used.
	 */
	if (refs != NULL && te->nrefs > 0 &&
	    (nc = realloc(refs, te->nrefs * sizeof(*refs))) != NULL)
		refs = nc;
	te->refs = refs;
	refs = NULL;
out:
	p->recording = 0;
	p->natt = 0;
	cf_list_builder_free(lb);
	free(chunks);
	free(refs);
	return r;
}

/* ---- folders ---- */

struct dent {
	char *name;
	size_t len;
};

static int
dent_cmp(const void *va, const void *vb)
{
	const struct dent *a = va, *b = vb;

	return cf_tree_name_cmp((const uint8_t *)a->name, a->len,
	    (const uint8_t *)b->name, b->len);
}

static void
dents_free(struct dent *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(d[i].name);
	free(d);
}

/* The names in the folder ${dfd}, sorted. */
static int
list_names(int dfd, struct dent **dp, size_t *np)
{
	struct dent *d = NULL, *nd;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir = NULL;
	int r = 0;

	*dp = NULL;
	*np = 0;
	if ((dir = cf_opendir_dup(dfd)) == NULL)
		return COFFER_EIO;
	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			if (errno != 0)
				r = COFFER_EIO;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			if (cap > NAMES_MAX ||
			    (nd = realloc(d, cap * sizeof(*nd))) == NULL) {
				r = cap > NAMES_MAX ? COFFER_ETOOBIG : COFFER_ENOMEM;
				break;
			}
			d = nd;
		}
		d[n].len = strlen(de->d_name);
		if ((d[n].name = strdup(de->d_name)) == NULL) {
			r = COFFER_ENOMEM;
			break;
		}
		n++;
	}
	closedir(dir);
	if (r != 0) {
		dents_free(d, n);
		return r;
	}
	if (n > 0)
		qsort(d, n, sizeof(*d), dent_cmp);
	*dp = d;
	*np = n;
	return 0;
}

static int
path_push(struct push *p, const char *name, size_t len, size_t *oldp)
{
	size_t need = p->pathlen + (p->pathlen > 0) + len;

	*oldp = p->pathlen;
	if (need > CF_STATCACHE_PATH_MAX)
		return COFFER_ETOOBIG;
	if (p->pathlen > 0)
		p->path[p->pathlen++] = '/';
	memcpy(p->path + p->pathlen, name, len);
	p->pathlen += len;
	return 0;
}

static void
entries_free(struct cf_tree_entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free((void *)(uintptr_t)e[i].refs);
		free((void *)(uintptr_t)e[i].target);
	}
	free(e);
}

static int scan_dir(struct push *p, int dfd, uint32_t depth,
    uint8_t id[static CF_ID_BYTES]);

/* ---- entries left out: the head's, if it has one ---- */

/* The entry ${name} of the loaded folder ${f}, or NULL. */
static const struct cf_tree_entry *
folder_find(const struct cf_folder *f, const uint8_t *name, size_t len)
{
	size_t lo = 0, hi = f->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = cf_tree_name_cmp(f->e[mid]->name, f->e[mid]->namelen, name,
		    len);
		if (c == 0)
			return f->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Load the head's folder at the relative path ${dir} (${len} bytes) into
 * p->prev_f (p->prev_has = 0 if the head has no folder there); the last
 * one is kept, so a folder of many entries left out loads it once.
 */
static int
prev_resolve(struct push *p, const uint8_t *dir, size_t len)
{
	const struct cf_tree_entry *e;
	struct cf_folder f;
	uint8_t *np;
	size_t i = 0, j;
	int r;

	if (p->prev_ok && p->prev_pathlen == len &&
	    (len == 0 || memcmp(p->prev_path, dir, len) == 0))
		return 0;
	cf_folder_free(&p->prev_f);
	memset(&p->prev_f, 0, sizeof(p->prev_f));
	p->prev_ok = p->prev_has = 0;
	if ((np = realloc(p->prev_path, len > 0 ? len : 1)) == NULL)
		return COFFER_ENOMEM;
	p->prev_path = np;
	if ((r = cf_push_folder(p, p->head_root, &p->prev_f)) != 0)
		return r;
	while (i < len) {
		for (j = i; j < len && dir[j] != '/'; j++)
			;
		e = folder_find(&p->prev_f, dir + i, j - i);
		if (e == NULL || e->type != CF_TREE_DIR) {
			cf_folder_free(&p->prev_f);
			memset(&p->prev_f, 0, sizeof(p->prev_f));
			goto done;
		}
		if ((r = cf_push_folder(p, e->subtree, &f)) != 0)
			return r;
		cf_folder_free(&p->prev_f);
		p->prev_f = f;
		i = j + 1;
	}
	p->prev_has = 1;
done:
	if (len > 0)
		memcpy(p->prev_path, dir, len);
	p->prev_pathlen = len;
	p->prev_ok = 1;
	return 0;
}

/* Every id reachable from the head's entry ${e}, into the snapshot's. */
static int
keep_ids(struct push *p, const struct cf_tree_entry *e)
{
	struct cf_idset set = { NULL, 0 };
	struct cf_list *l = NULL;
	uint8_t *buf = NULL;
	size_t i, j, len = 0;
	int r = 0;

	if (e->type == CF_TREE_DIR) {
		if ((r = cf_version_collect(p->s, p->dk, p->epoch, e->subtree,
		    &set)) != 0)
			goto out;
		for (i = 0; i < set.n && r >= 0; i++)
			r = cf_upload_child_add(p, set.ids + i * CF_ID_BYTES);
		goto out;
	}
	for (i = 0; i < e->nrefs && r >= 0; i++) {
		if ((r = cf_upload_child_add(p, e->refs[i].id)) < 0 ||
		    e->how != CF_FILE_LISTS)
			continue;
		if ((r = cf_session_fetch_one(p->s, p->dk, p->epoch,
		    CF_OBJ_LIST, e->refs[i].id, &buf, &len, NULL)) != 0 ||
		    (r = cf_list_decode(buf, len, &l)) != 0)
			goto out;
		for (j = 0; j < l->n && r >= 0; j++)
			r = cf_upload_child_add(p, l->chunks[j].id);
		cf_list_free(l);
		l = NULL;
		cf_wipefree(buf, len);
		buf = NULL;
	}
out:
	cf_list_free(l);
	if (buf != NULL)
		cf_wipefree(buf, len);
	cf_delta_idset_clear(&set);
	return r < 0 ? r : 0;
}

/*
 * The entry ${te} (named, of local type ${type}) is left out of what was
 * read: ${why}.  If the head has an entry of that type at that path, it
 * takes its place (returns 0, ${te} filled, p->unknown_counts++ for a
 * folder); else the entry is absent (returns 1).  Counted in ${*countp}
 * and warned about either way.
 */
static int
leave_out(struct push *p, struct cf_tree_entry *te, uint8_t type,
    uint64_t *countp, const char *why)
{
	const struct cf_tree_entry *e = NULL;
	struct cf_ref *refs = NULL;
	char msg[256];
	size_t dirlen;
	int r;

	(*countp)++;
	if (p->have_head && (type == CF_TREE_FILE || type == CF_TREE_DIR)) {
		dirlen = p->pathlen > te->namelen ?
		    p->pathlen - te->namelen - 1 : 0;
		if ((r = prev_resolve(p, p->path, dirlen)) != 0)
			return r;
		if (p->prev_has)
			e = folder_find(&p->prev_f, te->name, te->namelen);
		if (e != NULL && e->type != type)
			e = NULL;
	}
	if (e == NULL) {
		snprintf(msg, sizeof(msg), "%s: left out of this version", why);
		cf_push_warn(p, msg, p->path, p->pathlen);
		return 1;
	}
	if (e->nrefs > 0) {
		if ((refs = malloc(e->nrefs * sizeof(*refs))) == NULL)
			return COFFER_ENOMEM;
		memcpy(refs, e->refs, e->nrefs * sizeof(*refs));
	}
	if ((r = keep_ids(p, e)) != 0) {
		free(refs);
		return r;
	}
	te->type = e->type;
	te->mode = e->mode;
	te->mtime_sec = e->mtime_sec;
	te->mtime_nsec = e->mtime_nsec;
	te->size = e->size;
	te->how = e->how;
	te->refs = refs;
	te->nrefs = e->nrefs;
	memcpy(te->subtree, e->subtree, CF_ID_BYTES);
	if (type == CF_TREE_DIR)
		p->unknown_counts++;
	else
		p->tree_files++;
	p->res->kept++;
	snprintf(msg, sizeof(msg), "%s: kept as it is in the version this "
	    "push replaces (its last state stored)", why);
	cf_push_warn(p, msg, p->path, p->pathlen);
	return 0;
}

/* ---- scanning ---- */

/* One entry of a folder: fill ${te}, or return 1 to skip it. */
static int
scan_entry(struct push *p, int dfd, const struct dent *d, uint32_t depth,
    struct cf_tree_entry *te)
{
	struct stat st;
	char *target = NULL, why[160];
	ssize_t k;
	int fd = -1, r;

	memset(te, 0, sizeof(*te));
	te->name = (const uint8_t *)d->name;
	te->namelen = d->len;
	if (fstatat(dfd, d->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		snprintf(why, sizeof(why), "cannot read (%s), skipped",
		    strerror(errno));
		r = leave_out(p, te, 0, &p->res->skipped, why);
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		fd = openat(dfd, d->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			snprintf(why, sizeof(why), "cannot read (%s), skipped",
			    strerror(errno));
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			if (fd >= 0)
				snprintf(why, sizeof(why), "replaced while "
				    "read, skipped");
			r = leave_out(p, te, CF_TREE_FILE, &p->res->skipped, why);
			goto out;
		}
		te->type = CF_TREE_FILE;
		if ((r = file(p, fd, &st, te)) < 0)
			goto out;
		if (r == 1) {
			snprintf(why, sizeof(why), "changed while read (%d "
			    "reads)", CF_PUSH_READ_TRIES);
			r = leave_out(p, te, CF_TREE_FILE, &p->res->changed, why);
			goto out;
		}
		if (r == READ_FAILED) {
			snprintf(why, sizeof(why), "cannot read (%s), skipped",
			    strerror(p->rerr));
			r = leave_out(p, te, CF_TREE_FILE, &p->res->skipped, why);
			goto out;
		}
		p->res->files++;
		p->tree_files++;
		if (p->s->progress != NULL)
			p->s->progress(p->s->progress_ctx, "push: read bytes",
			    p->res->bytes_read, 0);
	} else if (S_ISDIR(st.st_mode)) {
		if (depth + 1 > CF_WALK_DEPTH_MAX) {
			r = COFFER_ETOOBIG;
			goto out;
		}
		fd = openat(dfd, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0) {
			snprintf(why, sizeof(why), "cannot open folder (%s), "
			    "skipped", strerror(errno));
			r = leave_out(p, te, CF_TREE_DIR, &p->res->skipped, why);
			goto out;
		}
		te->type = CF_TREE_DIR;
		if ((r = scan_dir(p, fd, depth + 1, te->subtree)) != 0)
			goto out;
	} else if (S_ISLNK(st.st_mode)) {
		if ((target = malloc(CF_TREE_TARGET_MAX + 1)) == NULL) {
			r = COFFER_ENOMEM;
			goto out;
		}
		k = readlinkat(dfd, d->name, target, CF_TREE_TARGET_MAX + 1);
		if (k <= 0 || (size_t)k > CF_TREE_TARGET_MAX) {
			r = leave_out(p, te, CF_TREE_SYMLINK, &p->res->skipped,
			    "symlink unreadable or its target too long, "
			    "skipped");
			goto out;
		}
		te->type = CF_TREE_SYMLINK;
		te->target = (const uint8_t *)target;
		te->targetlen = (size_t)k;
		target = NULL;
	} else {
		r = leave_out(p, te, 0, &p->res->skipped, "special file "
		    "(device, socket or pipe) skipped");
		goto out;
	}
	te->mode = (uint32_t)st.st_mode & CF_TREE_MODE_MASK;
	te->mtime_sec = (int64_t)st.st_mtim.tv_sec;
	te->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(target);
	return r;
}

/* Note the count of regular files under the folder ${id} just built. */
static int
dc_add(struct push *p, const uint8_t id[static CF_ID_BYTES], uint64_t files)
{
	struct dircount *nd;
	size_t nc;

	if (p->ndc == p->capdc) {
		nc = p->capdc == 0 ? 64 : 2 * p->capdc;
		if ((nd = realloc(p->dc, nc * sizeof(*nd))) == NULL)
			return COFFER_ENOMEM;
		p->dc = nd;
		p->capdc = nc;
	}
	memcpy(p->dc[p->ndc].id, id, CF_ID_BYTES);
	p->dc[p->ndc].files = files;
	p->ndc++;
	return 0;
}

static int
scan_dir(struct push *p, int dfd, uint32_t depth, uint8_t id[static CF_ID_BYTES])
{
	struct dent *d = NULL;
	struct cf_tree_entry *e = NULL;
	size_t nd = 0, n = 0, i, old;
	uint64_t files0 = p->tree_files, unknown0 = p->unknown_counts;
	int r;

	if ((r = list_names(dfd, &d, &nd)) != 0)
		goto out;
	if (nd > 0 && (e = calloc(nd, sizeof(*e))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < nd; i++) {
		if ((r = path_push(p, d[i].name, d[i].len, &old)) != 0)
			goto out;
		/*
		 * An interrupted pull's temporary file: never in a version,
		 * and said (not counted as skipped: nothing is lost).
		 */
		if (cf_pull_tmp_name(d[i].name)) {
			cf_push_warn(p, "a temporary file of an interrupted "
			    "pull: not pushed (a pull into this folder removes "
			    "it)",
			    p->path, p->pathlen);
			p->pathlen = old;
			continue;
		}
		r = scan_entry(p, dfd, &d[i], depth, &e[n]);
		p->pathlen = old;
		if (r < 0)
			goto out;
		if (r == 0)
			n++;
	}
	if (depth == 1)
		p->top_entries = n;
	if ((r = cf_tree_build(e, n, p->mkey.id_key, cf_upload_emit, p,
	    id)) != 0)
		goto out;
	/* A folder holding a kept one: its count is not known here. */
	if (p->unknown_counts == unknown0)
		r = dc_add(p, id, p->tree_files - files0);
out:
	entries_free(e, n);
	dents_free(d, nd);
	return r;
}

/* ---- the parent's set ---- */

static int
known_name(const struct push *p, char *out, size_t outlen)
{
	char hex[2 * CF_ID_BYTES + 1];

	sodium_bin2hex(hex, sizeof(hex), p->dk->drive_id, CF_ID_BYTES);
	return cf_state_join(out, outlen, CF_STATE_KNOWN, hex);
}

/* The set reachable from the pinned head, from the known-ids cache. */
static int
known_load(struct push *p, const struct cf_drivepin *pin)
{
	char name[CF_STATE_PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (known_name(p, name, sizeof(name)) != 0)
		return COFFER_ENOENT;
	if ((r = cf_state_read(p->s->paths.cache, name,
	    CF_KNOWN_IDS_MAX * CF_ID_BYTES + 4096, &buf, &len)) != 0)
		return r;
	r = cf_known_open_take(&buf, len, p->known_key, p->dk->drive_id,
	    pin->ids[pin->n - 1], &p->parent);
	free(buf);
	return r;
}

/* Remember the set reachable from the new head for the next push. */
void
cf_push_known_save(struct push *p, const uint8_t commit_id[static CF_ID_BYTES])
{
	char name[CF_STATE_PATH_MAX], dir[CF_STATE_PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;

	if (cf_state_join(dir, sizeof(dir), p->s->paths.cache,
	    CF_STATE_KNOWN) != 0 || cf_state_mkdirs(dir) != 0 ||
	    known_name(p, name, sizeof(name)) != 0)
		goto out;
	if (cf_known_encode(p->dk->drive_id, commit_id, &p->childset,
	    p->known_key, &buf, &len) != 0)
		goto out;
	(void)cf_state_write(p->s->paths.cache, name, buf, len);
out:
	free(buf);
}

/*
 * The head's commit and the set of ids reachable from it: from the
 * known-ids cache if it is this head's, else by walking its trees.
 */
int
cf_push_parent_set(struct push *p, const struct cf_drivepin *pin,
    struct cf_commit *pc)
{
	int r;

	cf_delta_idset_clear(&p->parent);
	memset(pc, 0, sizeof(*pc));
	if (pin->n == 0)
		return 0;
	if ((r = cf_session_commit(p->s, p->dk, pin->n, pin->ids[pin->n - 1],
	    pc)) != 0)
		return r;
	if ((r = known_load(p, pin)) == 0)
		return 0;
	if (r == COFFER_ENOMEM)
		return r;
	return cf_version_collect(p->s, p->dk,
	    cf_chain_epoch_at(p->s->chain, pc->chain_seq), pc->root_id,
	    &p->parent);
}

/* ---- the commit ---- */

int
cf_push_commit(struct push *p, struct cf_drivepin *pin,
    const uint8_t root[static CF_ID_BYTES], const struct cf_idset *child,
    int *donep)
{
	struct cf_delta *delta = NULL;
	struct cf_commit c;
	struct cf_frame_item item;
	uint8_t enc[CF_COMMIT_BYTES], cid[CF_ID_BYTES];
	uint8_t *dbuf = NULL, *blob = NULL;
	size_t dlen = 0, bloblen = 0;
	uint64_t cur = 0, stored = 0, seq = p->s->chain->n - 1;
	time_t t = time(NULL);
	int r;

	*donep = 0;
	if ((r = cf_delta_compute(&p->parent, child, &delta)) != 0)
		goto out;
	if (delta->start.n + delta->stop.n > p->delta_cap) {
		r = COFFER_ETOOBIG;	/* the server's cap on one delta */
		p->res->delta_too_big = 1;
		goto out;
	}
	if ((r = cf_delta_encode(delta, &dbuf, &dlen)) != 0)
		goto out;
	memset(&c, 0, sizeof(c));
	memcpy(c.drive_id, p->dk->drive_id, CF_ID_BYTES);
	c.version = pin->n + 1;
	if (pin->n > 0)
		memcpy(c.parent_id, pin->ids[pin->n - 1], CF_ID_BYTES);
	memcpy(c.root_id, root, CF_ID_BYTES);
	memcpy(c.author_id, p->s->keys->device_id, CF_ID_BYTES);
	c.time = t < 0 ? 0 : (uint64_t)t;
	c.chain_seq = seq;
	memcpy(c.chain_head, p->s->chain->hash[seq], CF_ID_BYTES);
	cf_delta_hash(dbuf, dlen, c.delta_hash);
	c.has_root_meta = p->top.has_root_meta;
	c.root_mode = p->top.root_mode;
	c.root_mtime_sec = p->top.root_mtime_sec;
	c.root_mtime_nsec = p->top.root_mtime_nsec;
	if ((r = cf_commit_sign(&c, p->s->keys->sign_sk, enc)) != 0 ||
	    (r = cf_object_seal(&p->mkey, CF_OBJ_COMMIT, p->dk->drive_id, enc,
	    cf_commit_len(&c), 0, cid, &blob, &bloblen)) != 0)
		goto out;
	item.id = cid;
	item.data = blob;
	item.len = bloblen;
	if ((r = cf_client_objects_put(p->s->net, p->dk->drive_id, &item, 1,
	    &stored)) != 0)
		goto out;
	p->res->bytes_uploaded += bloblen;
	r = cf_client_head_put(p->s->net, p->dk->drive_id, pin->n, cid, dbuf,
	    dlen, &cur);
	if (r == COFFER_ECONFLICT) {
		r = 0;		/* not done: the caller re-parents */
		goto out;
	}
	if (r == COFFER_ENOENT) {
		/* It said it had objects it now says it lacks. */
		r = COFFER_EDENIED;
		goto out;
	}
	if (r != 0)
		goto out;
	if ((r = cf_drivepin_push(pin, cid)) != 0)
		goto out;
	pin->head_chain_seq = seq;
	pin->verified_at = c.time;
	if ((r = cf_session_save_pin(p->s, pin)) != 0)
		goto out;
	memcpy(p->res->commit_id, cid, CF_ID_BYTES);
	*donep = 1;
out:
	cf_delta_free(delta);
	free(dbuf);
	free(blob);
	return r;
}



static int
drive_load(void *ctx, uint8_t type, const uint8_t id[static CF_ID_BYTES],
    uint8_t **plainp, size_t *lenp)
{
	struct push *p = ctx;

	return cf_session_fetch_one(p->s, p->dk, p->epoch, type, id, plainp,
	    lenp, NULL);
}

/* Load the folder ${id}; a NULL ${id} is an empty folder. */
int
cf_push_folder(struct push *p, const uint8_t *id, struct cf_folder *f)
{
	return cf_folder_load(drive_load, p, id, f);
}

/* ---- the stat cache file ---- */

static int
sc_name(const struct push *p, char *out, size_t outlen)
{
	char hex[2 * CF_ID_BYTES + 1];

	sodium_bin2hex(hex, sizeof(hex), p->dk->drive_id, CF_ID_BYTES);
	return cf_state_join(out, outlen, CF_STATE_STATCACHE, hex);
}

/*
 * Open ${drive} for writing in the session's epoch: its keys into
 * ${*dkp} (and p->dk), the object keys and the chunker into ${p}, the
 * drive secret of that epoch into ${*secp}.  The caller frees ${*dkp}.
 */
int
cf_push_drive_open(struct push *p, const char *drive,
    uint8_t drive_id[static CF_ID_BYTES], struct cf_drive_keys **dkp,
    const struct cf_drive_secret **secp)
{
	uint8_t ck[CF_KEY_BYTES];
	int r;

	if ((r = cf_session_drive(p->s, drive, drive_id, dkp)) != 0)
		return r;
	p->dk = *dkp;
	if ((r = cf_drive_keys_objkey(p->dk, CF_OBJ_CHUNK, p->epoch,
	    &p->ckey)) != 0 ||
	    (r = cf_drive_keys_objkey(p->dk, CF_OBJ_TREE, p->epoch,
	    &p->mkey)) != 0 ||
	    (r = cf_drive_keys_chunker(p->dk, p->epoch, ck)) != 0 ||
	    (r = cf_chunker_new(ck, &p->chunker)) != 0)
		goto out;
	if ((*secp = cf_drive_secret_at(p->dk, p->epoch)) == NULL)
		r = COFFER_EINTERNAL;
out:
	sodium_memzero(ck, sizeof(ck));
	return r;
}

/* Load the old cache; anything wrong with it is as if it were absent. */
static int
sc_load(struct push *p, const uint8_t secret_id[static CF_ID_BYTES])
{
	char name[CF_STATE_PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = cf_statcache_new(p->dk->drive_id, secret_id, &p->newsc)) != 0)
		return r;
	if (sc_name(p, name, sizeof(name)) != 0)
		return 0;
	r = cf_state_read(p->s->paths.cache, name, CF_STATCACHE_MAX, &buf, &len);
	if (r == COFFER_ENOMEM)
		return r;
	if (r == 0 && cf_statcache_open_take(&buf, len, p->mac_key,
	    p->dk->drive_id,
	    secret_id, &p->oldsc) == COFFER_ENOMEM)
		r = COFFER_ENOMEM;
	else
		r = 0;
	free(buf);
	return r;
}

/*
 * After the walk: drop the old cache and encode the new one, so that only
 * its compact encoding is held while the version is committed.
 */
static void
sc_seal(struct push *p)
{
	/*
	 * Every entry the old one's, as many as it had (the walk's paths are
	 * distinct): the same cache, already on disk.  Nothing to write.
	 */
	if (p->oldsc != NULL && p->newsc->base == p->oldsc &&
	    p->newsc->reclen == 0 && p->newsc->n == p->oldsc->n &&
	    !p->newsc->full) {
		goto out;
	}
	if (cf_statcache_encode(p->newsc, p->mac_key, &p->scbuf,
	    &p->scbuflen) != 0) {
		p->scbuf = NULL;
		p->scbuflen = 0;
	}
out:
	/* The new cache refers to the old one's records: free it first. */
	cf_statcache_free(p->newsc);
	p->newsc = NULL;
	cf_statcache_free(p->oldsc);
	p->oldsc = NULL;
}

static int
sc_save(struct push *p)
{
	char name[CF_STATE_PATH_MAX], dir[CF_STATE_PATH_MAX];
	int r;

	if (p->scbuf == NULL)
		return 0;
	if ((r = cf_state_join(dir, sizeof(dir), p->s->paths.cache,
	    CF_STATE_STATCACHE)) != 0 || (r = cf_state_mkdirs(dir)) != 0 ||
	    (r = sc_name(p, name, sizeof(name))) != 0)
		return r;
	return cf_state_write(p->s->paths.cache, name, p->scbuf, p->scbuflen);
}

/* ---- a push that drops most of the head (an unmounted disk?) ---- */

static int
dc_cmp(const void *a, const void *b)
{
	return memcmp(((const struct dircount *)a)->id,
	    ((const struct dircount *)b)->id, CF_ID_BYTES);
}

/* The regular files under the folder ${id} built by the scan, if known. */
static int
dc_find(const struct push *p, const uint8_t *id, uint64_t *filesp)
{
	struct dircount key, *f;

	if (p->ndc == 0)
		return 0;
	memcpy(key.id, id, CF_ID_BYTES);
	if ((f = bsearch(&key, p->dc, p->ndc, sizeof(*p->dc), dc_cmp)) == NULL)
		return 0;
	*filesp = f->files;
	return 1;
}

/* Load a tree of the snapshot: from the batch not yet sent, or stored. */
static int
new_load(void *ctx, uint8_t type, const uint8_t id[static CF_ID_BYTES],
    uint8_t **plainp, size_t *lenp)
{
	struct push *p = ctx;
	const struct pending *o;
	size_t i;

	for (i = 0; p->cur != NULL && i < p->cur->n; i++) {
		o = &p->cur->items[i];
		if (o->type != type || memcmp(o->id, id, CF_ID_BYTES) != 0)
			continue;
		if ((*plainp = malloc(o->len > 0 ? o->len : 1)) == NULL)
			return COFFER_ENOMEM;
		memcpy(*plainp, o->plain, o->len);
		*lenp = o->len;
		return 0;
	}
	return cf_session_fetch_one(p->s, p->dk, p->epoch, type, id, plainp,
	    lenp, NULL);
}

/* The regular files under the head's folder ${id}, all walked. */
static int
count_files(struct push *p, const uint8_t *id, unsigned depth,
    uint64_t *np)
{
	struct cf_folder f;
	size_t i;
	int r;

	if (depth > CF_WALK_DEPTH_MAX)
		return COFFER_ENOTAUTHENTIC;
	if ((r = cf_push_folder(p, id, &f)) != 0)
		return r;
	for (i = 0; i < f.n && r == 0; i++) {
		if (f.e[i]->type == CF_TREE_FILE)
			(*np)++;
		else if (f.e[i]->type == CF_TREE_DIR)
			r = count_files(p, f.e[i]->subtree, depth + 1, np);
	}
	cf_folder_free(&f);
	return r;
}

/*
 * Compare the head's folder ${hid} with the snapshot's ${nid}: the head's
 * regular files still at their path (${*keptp}) and gone (${*droppedp}).
 * Only folders that differ are loaded.
 */
static int
shrink_walk(struct push *p, const uint8_t *hid, const uint8_t *nid,
    unsigned depth, uint64_t *keptp, uint64_t *droppedp)
{
	struct cf_folder hf, nf;
	const struct cf_tree_entry *he, *ne;
	uint64_t c = 0;
	size_t i, j = 0;
	int r, cmp;

	memset(&hf, 0, sizeof(hf));
	memset(&nf, 0, sizeof(nf));
	if (depth > CF_WALK_DEPTH_MAX)
		return COFFER_ENOTAUTHENTIC;
	if (memcmp(hid, nid, CF_ID_BYTES) == 0) {
		if (dc_find(p, nid, &c)) {
			*keptp += c;
			return 0;
		}
		if ((r = count_files(p, hid, depth, &c)) == 0)
			*keptp += c;
		return r;
	}
	if ((r = cf_push_folder(p, hid, &hf)) != 0 ||
	    (r = cf_folder_load(new_load, p, nid, &nf)) != 0)
		goto out;
	for (i = 0; i < hf.n; i++) {
		he = hf.e[i];
		ne = NULL;
		while (j < nf.n && (cmp = cf_tree_name_cmp(nf.e[j]->name,
		    nf.e[j]->namelen, he->name, he->namelen)) <= 0) {
			if (cmp == 0)
				ne = nf.e[j];
			j++;
			if (cmp == 0)
				break;
		}
		if (he->type == CF_TREE_FILE) {
			if (ne != NULL && ne->type == CF_TREE_FILE)
				(*keptp)++;
			else
				(*droppedp)++;
		} else if (he->type == CF_TREE_DIR) {
			if (ne != NULL && ne->type == CF_TREE_DIR) {
				r = shrink_walk(p, he->subtree, ne->subtree,
				    depth + 1, keptp, droppedp);
			} else {
				c = 0;
				r = count_files(p, he->subtree, depth + 1, &c);
				*droppedp += c;
			}
			if (r != 0)
				goto out;
		}
	}
out:
	cf_folder_free(&hf);
	cf_folder_free(&nf);
	return r;
}

/*
 * Refuse (COFFER_EEXIST, res->shrink_refused) a snapshot ${root} that is
 * an empty folder over a non-empty head, or that drops more than half of
 * the head's regular files: what an unmounted disk or a wrong folder
 * looks like.
 */
static int
shrink_check(struct push *p, const uint8_t root[static CF_ID_BYTES])
{
	struct cf_folder hf;
	uint64_t kept = 0, dropped = 0;
	int r, empty_over = 0;

	if (!p->have_head || memcmp(p->head_root, root, CF_ID_BYTES) == 0)
		return 0;
	if (p->ndc > 1)
		qsort(p->dc, p->ndc, sizeof(*p->dc), dc_cmp);
	if ((r = shrink_walk(p, p->head_root, root, 1, &kept, &dropped)) != 0)
		return r;
	if (p->top_entries == 0) {
		if ((r = cf_push_folder(p, p->head_root, &hf)) != 0)
			return r;
		empty_over = hf.n > 0;
		cf_folder_free(&hf);
	}
	p->res->head_files = kept + dropped;
	p->res->dropped_files = dropped;
	if (empty_over || dropped > kept) {
		p->res->shrink_refused = 1;
		return COFFER_EEXIST;
	}
	return 0;
}


/*
 * The head this push re-parents on (${pin}, commit ${pc}) is newer than
 * the one this device had pinned (${before}) and another device wrote
 * it: note it, for the caller to say so.
 */
static void
note_replaced(struct push *p, const struct cf_drivepin *pin,
    const struct cf_commit *pc, uint64_t before)
{
	if (pin->n == 0 || pin->n <= before ||
	    sodium_memcmp(pc->author_id, p->s->keys->device_id,
	    CF_ID_BYTES) == 0)
		return;
	p->res->replaced_other = 1;
	p->res->replaced_version = pin->n;
	memcpy(p->res->replaced_author, pc->author_id, CF_ID_BYTES);
}

/*
 * The head this device last looked at (the mark a successful push or a
 * pull of the head moves, not the pin, which every sync moves, even a
 * push that then fails).  A home without the mark takes the pin's
 * version before the sync, and keeps it at once: a push that fails after
 * the sync must not make the next one forget what it had not seen.
 */
static int
last_looked(struct cf_session *s, const struct cf_drivepin *pin,
    uint64_t *np)
{
	int r;

	if ((r = cf_session_looked(s, pin->drive_id, np)) == 0)
		return 0;
	if (r != COFFER_ENOENT && r != COFFER_EFORMAT)
		return r;
	*np = pin->n;
	return cf_session_set_looked(s, pin->drive_id, pin->n);
}

/* ---- push ---- */

/*
 * Start ${p} for a push or a re-seal of the session ${s}'s drive, into
 * ${res} (cleared).
 */
void
cf_push_init(struct push *p, struct cf_session *s, struct cf_push_result *res)
{
	memset(res, 0, sizeof(*res));
	memset(p, 0, sizeof(*p));
	cf_idhash_init(&p->child);
	cf_idhash_init(&p->discarded);
	cf_idhash_init(&p->revived);
	p->s = s;
	p->res = res;
	p->epoch = cf_session_epoch(s);
	p->delta_cap = cf_push_split_cap(s);
}

/* Free what ${p} holds (the uploader stopped first), its keys wiped. */
void
cf_push_free(struct push *p)
{
	sodium_memzero(&p->ckey, sizeof(p->ckey));
	sodium_memzero(&p->mkey, sizeof(p->mkey));
	sodium_memzero(p->mac_key, sizeof(p->mac_key));
	sodium_memzero(p->known_key, sizeof(p->known_key));
	(void)cf_upload_finish(p);
	cf_upload_free(&p->up);
	cf_upload_batch_free(p->cur);
	/* The window held plaintext. */
	if (p->buf != NULL)
		cf_wipefree(p->buf, READ_WINDOW);
	free(p->path);
	cf_idhash_clear(&p->child);
	cf_idhash_clear(&p->discarded);
	cf_idhash_clear(&p->revived);
	free(p->att);
	free(p->prev_path);
	cf_folder_free(&p->prev_f);
	free(p->dc);
	cf_delta_idset_clear(&p->childset);
	free(p->scbuf);
	cf_delta_idset_clear(&p->parent);
	cf_statcache_free(p->newsc);	/* before the old: it refers to it */
	cf_statcache_free(p->oldsc);
	cf_chunker_free(p->chunker);
}

/* Fill ${t}'s root metadata from the top folder ${fd}. */
static int
top_meta(int fd, struct cf_commit *t)
{
	struct stat st;

	memset(t, 0, sizeof(*t));
	if (fstat(fd, &st) != 0)
		return COFFER_EIO;
	t->has_root_meta = 1;
	t->root_mode = (uint32_t)st.st_mode & CF_TREE_MODE_MASK;
	t->root_mtime_sec = (int64_t)st.st_mtim.tv_sec;
	t->root_mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	return 0;
}

/*
 * Does the head ${pc} hold the top folder metadata ${t}?  A head without
 * any (format 1) does not: the push records it in a new version.
 */
static int
top_same(const struct cf_commit *pc, const struct cf_commit *t)
{
	return pc->has_root_meta && pc->root_mode == t->root_mode &&
	    pc->root_mtime_sec == t->root_mtime_sec &&
	    pc->root_mtime_nsec == t->root_mtime_nsec;
}

int
cf_push(struct cf_session *s, const char *drive, const char *dir, int flags,
    cf_warn_fn *warnfn, void *wctx, struct cf_push_result *res)
{
	struct push p;
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	struct cf_commit pc;
	const struct cf_drive_secret *sec;
	uint8_t drive_id[CF_ID_BYTES], root[CF_ID_BYTES];
	uint64_t pinned;
	struct stat st;
	int rootfd = -1, done = 0, tries, hold, r, r2;

	cf_push_init(&p, s, res);
	p.warn = warnfn;
	p.wctx = wctx;
	p.flags = flags;
	/* The folder first: a missing folder is not a missing drive. */
	if ((rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOTDIR ||
		    (errno != ENOENT && stat(dir, &st) == 0 &&
		    !S_ISDIR(st.st_mode)))
			res->no_folder = 2;
		else if (errno == ENOENT)
			res->no_folder = 1;
		r = res->no_folder != 0 ? COFFER_ENOENT :
		    cf_session_local_error(s, "open the folder", AT_FDCWD, dir);
		goto out;
	}
	if ((r = cf_push_drive_open(&p, drive, drive_id, &dk, &sec)) != 0)
		goto out;
	cf_statcache_mac_key(sec->chunk_id_key, p.mac_key);
	cf_known_mac_key(sec->chunk_id_key, p.known_key);
	/* The top folder's own mode and mtime, read as a subfolder's is. */
	if ((r = top_meta(rootfd, &p.top)) != 0)
		goto out;
	if ((p.buf = malloc(READ_WINDOW)) == NULL ||
	    (p.path = malloc(CF_STATCACHE_PATH_MAX)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if ((r = sc_load(&p, sec->id)) != 0)
		goto out;
	if ((r = cf_session_load_pin(s, drive_id, &pin)) != 0)
		goto out;
	if ((r = last_looked(s, pin, &pinned)) != 0)
		goto out;
	if ((r = cf_session_sync_head(s, dk, pin)) != 0)
		goto out;
	if ((r = cf_push_parent_set(&p, pin, &pc)) != 0)
		goto out;
	note_replaced(&p, pin, &pc, pinned);
	p.have_head = pin->n > 0;
	memcpy(p.head_root, pc.root_id, CF_ID_BYTES);
	if ((r = cf_upload_start(&p)) != 0)
		goto out;
	r = scan_dir(&p, rootfd, 1, root);
	/* The last batch waits for the shrink check (it holds the top tree). */
	hold = p.have_head && !(flags & CF_PUSH_ALLOW_SHRINK);
	if (r == 0 && !hold)
		r = cf_upload_flush(&p);
	else if (r != 0)
		cf_upload_cancel(&p.up, r);
	if ((r2 = cf_upload_finish(&p)) != 0 && r == 0)
		r = r2;
	if (r == 0 && hold && (r = shrink_check(&p, root)) == 0)
		r = cf_upload_last(&p);
	if (r != 0)
		goto out;
	/* The walk is over: keep only the compact forms of its state. */
	sc_seal(&p);
	if ((r = cf_idhash_take_sorted(&p.child, &p.childset)) != 0)
		goto out;
	cf_upload_childset_prune(&p);
	for (tries = 0; ; tries++) {
		if (pin->n > 0 && !memcmp(pc.root_id, root, CF_ID_BYTES) &&
		    top_same(&pc, &p.top)) {
			res->unchanged = 1;
			memcpy(res->commit_id, pin->ids[pin->n - 1], CF_ID_BYTES);
			break;
		}
		if ((r = cf_push_split_commit(&p, pin, &pc, root, &done)) != 0)
			goto out;
		if (done)
			break;
		if (tries + 1 >= CF_PUSH_RETRIES) {
			r = COFFER_ECONFLICT;
			goto out;
		}
		/* The head moved: verify it and re-parent on it. */
		cf_push_warn(&p, "the drive moved on the server meanwhile; "
		    "verified the new head and re-parented this snapshot on it",
		    NULL, 0);
		res->reparented++;
		if ((r = cf_session_sync_head(s, dk, pin)) != 0 ||
		    (r = cf_push_parent_set(&p, pin, &pc)) != 0)
			goto out;
		note_replaced(&p, pin, &pc, pinned);
	}
	if (res->unchanged)
		res->replaced_other = 0;
	res->version = pin->n;
	/*
	 * This device has now looked at the head.  Failing to say so fails
	 * nothing: the next push would only tell of a version again.
	 */
	(void)cf_session_set_looked(s, drive_id, pin->n);
	/* The caches are only a help: failing to write them fails nothing. */
	(void)sc_save(&p);
	cf_push_known_save(&p, res->commit_id);
out:
	cf_push_free(&p);
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	if (rootfd >= 0)
		close(rootfd);
	return r;
}

