/*
 * pull's writer (DESIGN §7): a verified version written into the target
 * relative to directory handles opened with O_NOFOLLOW -- each file under
 * a temporary name (".coffer-tmp-" and hex), written by worker threads
 * as its chunks are fetched and opened, renamed into place once all are;
 * then symlinks, deletions (--delete) and each folder's mode and times.
 * Also the sweep of the temporary files an interrupted pull left, and
 * cf_pull_tmp_name() for push.  What the version holds is verified
 * before anything here runs (version.c, pull.c).
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "pull_internal.h"

#define TMP_PREFIX		".coffer-tmp-"
#define TMP_RAND_BYTES		8
#define PULL_BATCH_TARGETS	1024	/* places chunks go, per batch */
#define PULL_QUEUE		4	/* batches cut and waiting */
#define PULL_DIRS_MAX		256	/* folder handles open for files */
#define SKIPPED			1	/* a path left out (warned, counted) */

/*
 * The next entry of ${dir} other than "." and "..": 1 with ${*dep}, 0 at
 * its end, or COFFER_EIO.
 */
static int
next_entry(DIR *dir, struct dirent **dep)
{
	struct dirent *de;

	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL)
			return errno != 0 ? COFFER_EIO : 0;
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			*dep = de;
			return 1;
		}
	}
}

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
	while ((r = next_entry(dir, &de)) > 0) {
		if ((r = rm_at(dirfd(dir), de->d_name, depth + 1)) != 0)
			break;
		rewinddir(dir);
	}
	closedir(dir);
	if (r == 0 && unlinkat(dfd, name, AT_REMOVEDIR) != 0)
		r = COFFER_EIO;
	return r;
}


int
cf_pull_pbuf_push(struct pbuf *b, const char *name, size_t n, size_t *oldp)
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
void
cf_pull_say(struct wctx *w, pthread_mutex_t *mu, const char *dir, size_t dirlen,
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

	cf_pull_say(w, mu, dir, dirlen, name, skip_msg(buf, sizeof(buf), e));
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
	while ((r = next_entry(dir, &de)) > 0) {
		if (in_folder(f, de->d_name, strlen(de->d_name)))
			continue;
		if ((r = rm_at(dfd, de->d_name, 1)) != 0)
			break;
		w->res->deleted++;
		rewinddir(dir);
	}
	closedir(dir);
	return r;
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
 * Symlinks, deletions and folder modes and times come last
 * (cf_pull_finish_dir), once every file is in place.  A file or folder
 * that cannot be written (permission, a name too long) is warned, its
 * temporary file removed,
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
			cf_pull_say(pw->w, &pw->mu, f->dir->path,
			    f->dir->pathlen, f->name,
			    skip_msg(buf, sizeof(buf), e));
		return COFFER_EIO;
	}
	if (first)
		cf_pull_say(pw->w, &pw->mu, f->dir->path, f->dir->pathlen,
		    f->name, skip_msg(buf, sizeof(buf), e));
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
			if ((ms = cf_version_map_find(&w->v->map, e->refs[i].id,
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
 * warn, and note it for cf_pull_finish_dir; SKIPPED, or COFFER_EIO if
 * that stops the pull.
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
			cf_pull_say(pw->w, &pw->mu, d->path, d->pathlen,
			    de->d_name, "could not remove this temporary file "
			    "of an interrupted pull");
	}
	closedir(dir);
}

/*
 * Make the folder ${name} in ${d} (mode 0700 until cf_pull_finish_dir);
 * *existp says whether it was there.  What is in the way is removed if it is a
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

	if ((r = cf_version_folder(cf_version_load_cb, pw->w->v, id, &f)) != 0)
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

unsigned
cf_pull_workers(void)
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
int
cf_pull_write_files(struct wctx *w, int dfd,
    const uint8_t root[static CF_ID_BYTES], int existed)
{
	struct pwrite pw;
	struct pwork wk[PULL_WORKERS_MAX];
	pthread_t th[PULL_WORKERS_MAX];
	struct pdir *top;
	struct pfile *f;
	struct pbatch *b;
	uint8_t rnd[TMP_RAND_BYTES];
	unsigned n = 0, k, want = cf_pull_workers();
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
int
cf_pull_finish_dir(struct wctx *w, int dfd,
    const uint8_t id[static CF_ID_BYTES], struct pbuf *pb)
{
	struct cf_folder f;
	char name[CF_TREE_NAME_MAX + 1], buf[256];
	struct timespec ts[2];
	const struct cf_tree_entry *e;
	size_t i, old;
	int fd, r, err;

	if ((r = cf_version_folder(cf_version_load_cb, w->v, id, &f)) != 0)
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
		if ((r = cf_pull_pbuf_push(pb, name, e->namelen, &old)) != 0) {
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
		if ((r = cf_pull_finish_dir(w, fd, e->subtree, pb)) == 0) {
			times_of(e, ts);
			if (fchmod(fd, (mode_t)mode_of(w, e->mode)) != 0 ||
			    futimens(fd, ts) != 0) {
				err = errno;
				snprintf(buf, sizeof(buf), "could not set the "
				    "folder's mode and time (%s)", strerror(err));
				cf_pull_say(w, NULL, pb->p, pb->len, NULL, buf);
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
 * Last, the top folder's own mode and times, as cf_pull_finish_dir()
 * sets a subfolder's: only if the version has them (commit format 2; a format 1
 * commit leaves the target folder alone).
 */
int
cf_pull_finish_top(struct wctx *w, int dfd, const struct cf_commit *c)
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
	cf_pull_say(w, NULL, ".", 1, NULL, buf);
	if (fatal_errno(err))
		r = COFFER_EIO;
	else
		w->res->skipped++;
out:
	return r;
}
