/*
 * push: a folder becomes the next version of a drive (DESIGN §7).
 *
 * Scan depth first relative to directory handles (O_NOFOLLOW), chunk each
 * file (or take its chunks from the stat cache), dedup each object against
 * the parent version's set and then the server (have-which), seal and
 * upload in bounded batches, build each folder's tree after its children,
 * then sign the commit, compute the reference delta and move the head.
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
#include "ops.h"
#include "statcache.h"

#define READ_WINDOW	((size_t)CF_CHUNK_MAX)
#define READ_STEP	((size_t)2 << 20)	/* bytes read at a time */
#define NAMES_MAX	((size_t)1 << 24)	/* entries of one folder */

struct pending {
	uint8_t type;
	uint8_t id[CF_ID_BYTES];
	uint8_t *plain;
	size_t len;
};

struct batch {
	struct pending *items;		/* CF_PUSH_BATCH_COUNT slots */
	size_t n;
	size_t bytes;			/* plaintext bytes */
};

struct uploader;

/* One uploader thread and its own connection (cf_client: one per thread). */
struct upthread {
	struct uploader *u;
	struct cf_client *net;
	pthread_t th;
};

struct uploader {
	struct upthread t[CF_PUSH_UPLOADERS];
	size_t nthreads;		/* started */
	uint8_t drive_id[CF_ID_BYTES];
	struct cf_objkey ckey, mkey;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *q[CF_PUSH_QUEUE];
	size_t qhead, qn;
	int closed, err, running, inited;
	uint64_t chunks_uploaded, bytes_uploaded;	/* under mu */
};

struct push {
	struct cf_session *s;
	const struct cf_drive_keys *dk;
	uint64_t epoch;
	struct cf_objkey ckey;		/* chunks */
	struct cf_objkey mkey;		/* trees, lists, commits */
	struct cf_chunker *chunker;
	struct cf_idset parent;		/* ids reachable from the parent */
	/*
	 * Ids reachable from the snapshot, while it is walked.  Every one
	 * not in ${parent} was queued for upload when first added, so
	 * "in child, not in parent" is "queued in this run".
	 */
	struct cf_idhash child;
	struct cf_idset childset;	/* the same, sorted, after the walk */
	struct batch *cur;		/* the batch being filled */
	struct uploader up;
	struct cf_statcache *oldsc, *newsc;
	uint8_t *scbuf;			/* newsc encoded, after the walk */
	size_t scbuflen;
	uint8_t mac_key[CF_KEY_BYTES];	/* stat cache */
	uint8_t known_key[CF_KEY_BYTES];	/* known-ids cache */
	uint8_t *buf;			/* read window */
	uint8_t *path;			/* current relative path */
	size_t pathlen;
	cf_warn_fn *warn;
	void *wctx;
	struct cf_push_result *res;
	size_t delta_cap;		/* ids in one delta */
	int flags;			/* CF_PUSH_* */
	/*
	 * Reads thrown away (a file changed while read): the ids they added
	 * to ${child} first (${discarded}), less those a kept read or entry
	 * used since (${revived}), are not reachable from the snapshot and
	 * are taken out of ${childset}.  While a file is read (${recording})
	 * the ids it adds or revives are noted in ${att}.
	 */
	struct cf_idhash discarded, revived;
	uint8_t (*att)[CF_ID_BYTES];
	size_t natt, capatt;
	int recording;
	int rerr;			/* errno of a file that failed to read */
	/* The head (the parent), for entries kept and the shrink check. */
	int have_head;
	uint8_t head_root[CF_ID_BYTES];
	/* The head's folder at ${prev_path} (entries kept), if resolved. */
	uint8_t *prev_path;
	size_t prev_pathlen;
	int prev_ok, prev_has;
	struct cf_folder prev_f;
	/* Regular files under each folder scanned, by tree id. */
	struct dircount *dc;
	size_t ndc, capdc;
	size_t top_entries;		/* entries of the top folder */
	uint64_t tree_files;		/* regular files in the trees built */
	uint64_t unknown_counts;	/* folders kept from the head */
	struct cf_commit top;		/* only its has_root_meta and root_* */
};

struct dircount {
	uint8_t id[CF_ID_BYTES];
	uint64_t files;
};

static void
warn(struct push *p, const char *msg, const uint8_t *path, size_t len)
{
	if (p->warn != NULL)
		p->warn(p->wctx, msg, path, len);
}

/* ---- uploading: a bounded pipeline ---- */

/*
 * The scanner (the caller's thread) reads, chunks and hashes, and fills a
 * batch of at most CF_PUSH_BATCH_COUNT objects and CF_PUSH_BATCH_BYTES of
 * plaintext.  Full batches go through a queue of CF_PUSH_QUEUE batches to
 * CF_PUSH_UPLOADERS uploader threads; each asks the server which objects
 * of its batch it has (have-which), seals the others straight into one
 * put frame and sends it on its own connection, so that one uploader
 * seals while the other waits for the server's fsync.  Memory is bounded
 * by (CF_PUSH_QUEUE + CF_PUSH_UPLOADERS + 1) batches of plaintext plus one
 * frame per uploader (a plaintext is freed once sealed), whatever the
 * size of the data.
 */

static void
batch_free(struct batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		cf_wipefree(b->items[i].plain, b->items[i].len);
	free(b->items);
	free(b);
}

static int
batch_new(struct batch **bp)
{
	struct batch *b;

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->items = calloc(CF_PUSH_BATCH_COUNT, sizeof(*b->items))) == NULL) {
		free(b);
		return COFFER_ENOMEM;
	}
	*bp = b;
	return 0;
}

/*
 * have-which, then seal each missing object straight into the put frame
 * (one allocation, no copy of the sealed blob) with nonces drawn once per
 * batch, and put the frame.  Each plaintext is wiped and freed as soon as
 * it is sealed, so a batch in flight holds about one batch of bytes.
 */
static int
upload_batch(struct uploader *u, struct cf_client *net, struct batch *b)
{
	uint8_t (*ids)[CF_ID_BYTES] = NULL, *have = NULL, *nonces = NULL;
	uint8_t *frame = NULL, *q, id[CF_ID_BYTES];
	struct cf_frame_w f;
	const struct cf_objkey *key;
	size_t i, k, need = 0, room = CF_FRAME_HDR_BYTES, bound, flen = 0, bl;
	uint64_t stored = 0, chunks = 0, bytes = 0;
	int r = 0, open = 0;

	if (b->n == 0)
		return 0;
	if ((ids = malloc(b->n * CF_ID_BYTES)) == NULL ||
	    (have = calloc(b->n, 1)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < b->n; i++)
		memcpy(ids[i], b->items[i].id, CF_ID_BYTES);
	if ((r = cf_client_objects_have(net, u->drive_id,
	    (const uint8_t (*)[CF_ID_BYTES])ids, b->n, have)) != 0)
		goto out;
	for (i = 0; i < b->n; i++) {
		if (have[i]) {
			/* Stored already: its plaintext is not needed. */
			cf_wipefree(b->items[i].plain, b->items[i].len);
			b->items[i].plain = NULL;
			continue;
		}
		need++;
		room += CF_FRAME_ITEM_HDR_BYTES +
		    cf_object_seal_bound(b->items[i].len);
	}
	if (need == 0)
		goto out;
	/* One getrandom for the batch rather than one per object. */
	if ((nonces = malloc(need * CF_OBJ_NONCE_BYTES)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	randombytes_buf(nonces, need * CF_OBJ_NONCE_BYTES);
	cf_frame_begin(&f);
	open = 1;
	if ((r = cf_frame_room(&f, room)) != 0)
		goto out;
	for (i = 0, k = 0; i < b->n; i++) {
		struct pending *o = &b->items[i];

		if (have[i])
			continue;
		key = o->type == CF_OBJ_CHUNK ? &u->ckey : &u->mkey;
		bound = cf_object_seal_bound(o->len);
		if ((q = cf_frame_add_open(&f, o->id, bound)) == NULL) {
			r = f.w.err != 0 ? f.w.err : COFFER_ETOOBIG;
			goto out;
		}
		r = cf_object_seal_into(key, o->type, u->drive_id, o->plain,
		    o->len, o->type == CF_OBJ_CHUNK ? CF_SEAL_COMPRESS : 0,
		    o->id, nonces + k * CF_OBJ_NONCE_BYTES, id, q, bound, &bl);
		cf_frame_add_close(&f, q, bound, r == 0 ? bl : bound + 1);
		if (r != 0)
			goto out;
		k++;
		cf_wipefree(o->plain, o->len);
		o->plain = NULL;
		if (o->type == CF_OBJ_CHUNK)
			chunks++;
		bytes += bl;
	}
	open = 0;
	if ((r = cf_frame_finish(&f, &frame, &flen)) != 0)
		goto out;
	if ((r = cf_client_objects_put_frame(net, u->drive_id, frame, flen,
	    &stored)) != 0)
		goto out;
	pthread_mutex_lock(&u->mu);
	u->chunks_uploaded += chunks;
	u->bytes_uploaded += bytes;
	pthread_mutex_unlock(&u->mu);
out:
	if (open)
		cf_frame_abort(&f);
	free(frame);
	if (nonces != NULL)
		cf_wipefree(nonces, need * CF_OBJ_NONCE_BYTES);
	free(have);
	free(ids);
	return r;
}

static void *
uploader_main(void *arg)
{
	struct upthread *t = arg;
	struct uploader *u = t->u;
	struct batch *b;
	int r;

	for (;;) {
		pthread_mutex_lock(&u->mu);
		while (u->qn == 0 && !u->closed)
			pthread_cond_wait(&u->cv, &u->mu);
		if (u->qn == 0 && u->closed) {
			pthread_mutex_unlock(&u->mu);
			break;
		}
		b = u->q[u->qhead];
		u->qhead = (u->qhead + 1) % CF_PUSH_QUEUE;
		u->qn--;
		pthread_cond_broadcast(&u->cv);
		r = u->err;
		pthread_mutex_unlock(&u->mu);
		if (r == 0)
			r = upload_batch(u, t->net, b);
		batch_free(b);
		if (r != 0) {
			pthread_mutex_lock(&u->mu);
			if (u->err == 0)
				u->err = r;
			pthread_cond_broadcast(&u->cv);
			pthread_mutex_unlock(&u->mu);
		}
	}
	return NULL;
}

static int
uploader_start(struct push *p)
{
	struct uploader *u = &p->up;
	size_t k;
	int r = 0;

	memcpy(u->drive_id, p->dk->drive_id, CF_ID_BYTES);
	u->ckey = p->ckey;
	u->mkey = p->mkey;
	if (pthread_mutex_init(&u->mu, NULL) != 0)
		return COFFER_EINTERNAL;
	if (pthread_cond_init(&u->cv, NULL) != 0) {
		pthread_mutex_destroy(&u->mu);
		return COFFER_EINTERNAL;
	}
	u->inited = 1;
	for (k = 0; k < CF_PUSH_UPLOADERS; k++) {
		u->t[k].u = u;
		if ((r = cf_session_client(p->s, &u->t[k].net)) != 0)
			break;
		if (pthread_create(&u->t[k].th, NULL, uploader_main,
		    &u->t[k]) != 0) {
			r = COFFER_EINTERNAL;
			break;
		}
		u->nthreads = k + 1;
		u->running = 1;
	}
	/* One thread is enough to go on with. */
	return u->nthreads > 0 ? 0 : (r != 0 ? r : COFFER_EINTERNAL);
}

/* Hand a full batch to the uploader (waits while the queue is full). */
static int
enqueue(struct push *p, struct batch *b)
{
	struct uploader *u = &p->up;
	int r;

	pthread_mutex_lock(&u->mu);
	while (u->qn == CF_PUSH_QUEUE && u->err == 0)
		pthread_cond_wait(&u->cv, &u->mu);
	if ((r = u->err) == 0) {
		u->q[(u->qhead + u->qn) % CF_PUSH_QUEUE] = b;
		u->qn++;
		pthread_cond_broadcast(&u->cv);
	}
	pthread_mutex_unlock(&u->mu);
	if (r != 0)
		batch_free(b);
	return r;
}

/* Send the batch being filled, if any. */
static int
flush(struct push *p)
{
	struct batch *b = p->cur;

	if (b == NULL || b->n == 0)
		return 0;
	p->cur = NULL;
	return enqueue(p, b);
}

/* Stop the uploader early: the scan failed. */
static void
uploader_cancel(struct uploader *u, int r)
{
	if (!u->running)
		return;
	pthread_mutex_lock(&u->mu);
	if (u->err == 0)
		u->err = r;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
}

/* Close the queue, wait for the uploader, and collect its result. */
static int
uploader_finish(struct push *p)
{
	struct uploader *u = &p->up;
	size_t k;
	int r = 0;

	if (u->running) {
		pthread_mutex_lock(&u->mu);
		u->closed = 1;
		pthread_cond_broadcast(&u->cv);
		pthread_mutex_unlock(&u->mu);
		for (k = 0; k < u->nthreads; k++)
			pthread_join(u->t[k].th, NULL);
		u->running = 0;
		r = u->err;
		p->res->chunks_uploaded += u->chunks_uploaded;
		p->res->bytes_uploaded += u->bytes_uploaded;
	}
	return r;
}

static void
uploader_free(struct uploader *u)
{
	size_t k;

	while (u->qn > 0) {
		batch_free(u->q[u->qhead]);
		u->qhead = (u->qhead + 1) % CF_PUSH_QUEUE;
		u->qn--;
	}
	if (u->inited) {
		pthread_cond_destroy(&u->cv);
		pthread_mutex_destroy(&u->mu);
	}
	for (k = 0; k < CF_PUSH_UPLOADERS; k++)
		cf_client_free(u->t[k].net);
	sodium_memzero(&u->ckey, sizeof(u->ckey));
	sodium_memzero(&u->mkey, sizeof(u->mkey));
}

/* Note ${id} as used by the read under way (see struct push). */
static int
att_note(struct push *p, const uint8_t id[static CF_ID_BYTES])
{
	uint8_t (*na)[CF_ID_BYTES];
	size_t nc;

	if (p->natt == p->capatt) {
		nc = p->capatt == 0 ? 64 : 2 * p->capatt;
		if ((na = realloc(p->att, nc * sizeof(*na))) == NULL)
			return COFFER_ENOMEM;
		p->att = na;
		p->capatt = nc;
	}
	memcpy(p->att[p->natt++], id, CF_ID_BYTES);
	return 0;
}

/*
 * Add ${id} to the snapshot's ids: 1 if new, 0 if there already, or an
 * error.  An id only a thrown-away read had added is revived (at once,
 * or when the read under way is kept).
 */
static int
child_add(struct push *p, const uint8_t id[static CF_ID_BYTES])
{
	int r, r2;

	if ((r = cf_idhash_add(&p->child, id)) < 0)
		return r;
	if (r == 0 && (p->discarded.n == 0 ||
	    !cf_idhash_has(&p->discarded, id) ||
	    cf_idhash_has(&p->revived, id)))
		return 0;
	if (p->recording)
		r2 = att_note(p, id);
	else
		r2 = r == 0 ? cf_idhash_add(&p->revived, id) : 0;
	return r2 < 0 ? r2 : r;
}

/* The read under way is kept (${keep}) or thrown away. */
static int
att_end(struct push *p, int keep)
{
	size_t i;
	int r = 0;

	for (i = 0; i < p->natt && r >= 0; i++) {
		if (!keep)
			r = cf_idhash_add(&p->discarded, p->att[i]);
		else if (cf_idhash_has(&p->discarded, p->att[i]))
			r = cf_idhash_add(&p->revived, p->att[i]);
	}
	p->natt = 0;
	p->recording = 0;
	return r < 0 ? r : 0;
}

/* ${childset} less the ids only thrown-away reads used. */
static void
childset_prune(struct push *p)
{
	struct cf_idset *c = &p->childset;
	size_t i, k = 0;
	const uint8_t *id;

	if (p->discarded.n == 0)
		return;
	for (i = 0; i < c->n; i++) {
		id = c->ids + i * CF_ID_BYTES;
		if (cf_idhash_has(&p->discarded, id) &&
		    !cf_idhash_has(&p->revived, id))
			continue;
		if (k != i)
			memmove(c->ids + k * CF_ID_BYTES, id, CF_ID_BYTES);
		k++;
	}
	c->n = k;
}

/* An object of the snapshot: note it, and queue it unless known stored. */
static int
object(struct push *p, uint8_t type, const uint8_t *plain, size_t len,
    const uint8_t id[static CF_ID_BYTES])
{
	struct pending *np;
	int r;

	/* An error, or seen before: stored, or queued when first seen. */
	if ((r = child_add(p, id)) <= 0)
		return r;
	if (cf_idset_has(&p->parent, id))
		return 0;
	if (p->cur != NULL && (p->cur->n >= CF_PUSH_BATCH_COUNT ||
	    p->cur->bytes + len > CF_PUSH_BATCH_BYTES) && (r = flush(p)) != 0)
		return r;
	if (p->cur == NULL && (r = batch_new(&p->cur)) != 0)
		return r;
	np = &p->cur->items[p->cur->n];
	if ((np->plain = malloc(len > 0 ? len : 1)) == NULL)
		return COFFER_ENOMEM;
	memcpy(np->plain, plain, len);
	np->len = len;
	np->type = type;
	memcpy(np->id, id, CF_ID_BYTES);
	p->cur->n++;
	p->cur->bytes += len;
	return 0;
}

static int
emit_cb(void *ctx, uint8_t type, const uint8_t *plain, size_t len,
    const uint8_t id[static CF_ID_BYTES])
{
	return object(ctx, type, plain, len, id);
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
		if ((r = object(p, CF_OBJ_CHUNK, p->buf + off, cut, id)) != 0 ||
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
		if ((r = cf_list_builder_new(p->mkey.id_key, emit_cb, p,
		    &lb)) != 0)
			goto out;
		for (i = 0; i < hit->nrefs; i++) {
			if ((r = child_add(p, hit->refs[i].id)) < 0 ||
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
		if ((r = cf_list_builder_new(p->mkey.id_key, emit_cb, p,
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
			if ((r2 = att_end(p, 0)) != 0)
				r = r2;
			goto out;
		}
		if (r != 0)
			goto out;
		/* Unchanged from before the read to after it: a real state. */
		if (same_stat(st, &st2) && got == (uint64_t)st->st_size) {
			if ((r = att_end(p, 1)) != 0)
				goto out;
			break;
		}
		if ((r = att_end(p, 0)) != 0)
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
static int sfolder_load(struct push *p, const uint8_t *id,
    struct cf_folder *f);

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
	if ((r = sfolder_load(p, p->head_root, &p->prev_f)) != 0)
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
		if ((r = sfolder_load(p, e->subtree, &f)) != 0)
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
			r = child_add(p, set.ids + i * CF_ID_BYTES);
		goto out;
	}
	for (i = 0; i < e->nrefs && r >= 0; i++) {
		if ((r = child_add(p, e->refs[i].id)) < 0 ||
		    e->how != CF_FILE_LISTS)
			continue;
		if ((r = cf_session_fetch_one(p->s, p->dk, p->epoch,
		    CF_OBJ_LIST, e->refs[i].id, &buf, &len, NULL)) != 0 ||
		    (r = cf_list_decode(buf, len, &l)) != 0)
			goto out;
		for (j = 0; j < l->n && r >= 0; j++)
			r = child_add(p, l->chunks[j].id);
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
		warn(p, msg, p->path, p->pathlen);
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
	warn(p, msg, p->path, p->pathlen);
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
			warn(p, "a temporary file of an interrupted pull: not "
			    "pushed (a pull into this folder removes it)",
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
	if ((r = cf_tree_build(e, n, p->mkey.id_key, emit_cb, p, id)) != 0)
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
static void
known_save(struct push *p, const uint8_t commit_id[static CF_ID_BYTES])
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
static int
parent_set(struct push *p, const struct cf_drivepin *pin, struct cf_commit *pc)
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

static int
commit_and_move(struct push *p, struct cf_drivepin *pin,
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


/* ---- a change past the delta cap: several versions (issue #5) ---- */

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

static size_t
delta_cap(const struct cf_session *s)
{

	if (s->delta_cap == 0 || s->delta_cap >= CF_PUSH_DELTA_IDS_MAX)
		return CF_PUSH_DELTA_IDS_MAX;
	return s->delta_cap < SPLIT_CAP_MIN ? SPLIT_CAP_MIN :
	    (size_t)s->delta_cap;
}

static int
split_load(void *ctx, uint8_t type, const uint8_t id[static CF_ID_BYTES],
    uint8_t **plainp, size_t *lenp)
{
	struct push *p = ctx;

	return cf_session_fetch_one(p->s, p->dk, p->epoch, type, id, plainp,
	    lenp, NULL);
}

/* Load the folder ${id}; a NULL ${id} is an empty folder. */
static int
sfolder_load(struct push *p, const uint8_t *id, struct cf_folder *f)
{
	return cf_folder_load(split_load, p, id, f);
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
	if ((r = sfolder_load(p, cid, &cf)) != 0 ||
	    (r = sfolder_load(p, nid, &nf)) != 0)
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
static int
commit_split(struct push *p, struct cf_drivepin *pin, struct cf_commit *pc,
    const uint8_t root[static CF_ID_BYTES], int *donep)
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
		if ((r = commit_and_move(p, pin, mroot, &mset, donep)) != 0 ||
		    !*donep)
			goto out;
		*donep = 0;
		p->res->split_versions++;
		warn(p, "the change was past the server's cap on one reference "
		    "delta: pushed part of it as a version of its own", NULL, 0);
		/* The new head is the base of the next step. */
		cf_delta_idset_clear(&p->parent);
		p->parent = mset;
		mset.ids = NULL;
		mset.n = 0;
		memcpy(cur_root, mroot, CF_ID_BYTES);
		have_cur = 1;
		memcpy(pc->root_id, mroot, CF_ID_BYTES);
	}
	r = commit_and_move(p, pin, root, child, donep);
out:
	mixout_clear(&mo);
	cf_delta_free(delta);
	cf_delta_idset_clear(&mset);
	return r;
}

/* ---- the stat cache file ---- */

static int
sc_name(const struct push *p, char *out, size_t outlen)
{
	char hex[2 * CF_ID_BYTES + 1];

	sodium_bin2hex(hex, sizeof(hex), p->dk->drive_id, CF_ID_BYTES);
	return cf_state_join(out, outlen, CF_STATE_STATCACHE, hex);
}

static const struct cf_drive_secret *
secret_at(const struct cf_drive_keys *dk, uint64_t epoch)
{
	const struct cf_drive_secret *s = NULL;
	size_t i;

	for (i = 0; i < dk->nsecrets; i++)
		if (dk->secrets[i].epoch <= epoch)
			s = &dk->secrets[i];
	return s;
}

/*
 * Open ${drive} for writing in the session's epoch: its keys into
 * ${*dkp} (and p->dk), the object keys and the chunker into ${p}, the
 * drive secret of that epoch into ${*secp}.  The caller frees ${*dkp}.
 */
static int
drive_open(struct push *p, const char *drive,
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
	if ((*secp = secret_at(p->dk, p->epoch)) == NULL)
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
	if ((r = sfolder_load(p, id, &f)) != 0)
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
	if ((r = sfolder_load(p, hid, &hf)) != 0 ||
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
		if ((r = sfolder_load(p, p->head_root, &hf)) != 0)
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

/* Upload the batch held back for the shrink check. */
static int
upload_last(struct push *p)
{
	struct uploader *u = &p->up;
	uint64_t c0 = u->chunks_uploaded, b0 = u->bytes_uploaded;
	int r;

	if (p->cur == NULL)
		return 0;
	r = upload_batch(u, p->s->net, p->cur);
	p->res->chunks_uploaded += u->chunks_uploaded - c0;
	p->res->bytes_uploaded += u->bytes_uploaded - b0;
	batch_free(p->cur);
	p->cur = NULL;
	return r;
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

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	cf_idhash_init(&p.child);
	cf_idhash_init(&p.discarded);
	cf_idhash_init(&p.revived);
	p.s = s;
	p.res = res;
	p.warn = warnfn;
	p.wctx = wctx;
	p.flags = flags;
	p.epoch = cf_session_epoch(s);
	p.delta_cap = delta_cap(s);
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
	if ((r = drive_open(&p, drive, drive_id, &dk, &sec)) != 0)
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
	if ((r = parent_set(&p, pin, &pc)) != 0)
		goto out;
	note_replaced(&p, pin, &pc, pinned);
	p.have_head = pin->n > 0;
	memcpy(p.head_root, pc.root_id, CF_ID_BYTES);
	if ((r = uploader_start(&p)) != 0)
		goto out;
	r = scan_dir(&p, rootfd, 1, root);
	/* The last batch waits for the shrink check (it holds the top tree). */
	hold = p.have_head && !(flags & CF_PUSH_ALLOW_SHRINK);
	if (r == 0 && !hold)
		r = flush(&p);
	else if (r != 0)
		uploader_cancel(&p.up, r);
	if ((r2 = uploader_finish(&p)) != 0 && r == 0)
		r = r2;
	if (r == 0 && hold && (r = shrink_check(&p, root)) == 0)
		r = upload_last(&p);
	if (r != 0)
		goto out;
	/* The walk is over: keep only the compact forms of its state. */
	sc_seal(&p);
	if ((r = cf_idhash_take_sorted(&p.child, &p.childset)) != 0)
		goto out;
	childset_prune(&p);
	for (tries = 0; ; tries++) {
		if (pin->n > 0 && !memcmp(pc.root_id, root, CF_ID_BYTES) &&
		    top_same(&pc, &p.top)) {
			res->unchanged = 1;
			memcpy(res->commit_id, pin->ids[pin->n - 1], CF_ID_BYTES);
			break;
		}
		if ((r = commit_split(&p, pin, &pc, root, &done)) != 0)
			goto out;
		if (done)
			break;
		if (tries + 1 >= CF_PUSH_RETRIES) {
			r = COFFER_ECONFLICT;
			goto out;
		}
		/* The head moved: verify it and re-parent on it. */
		warn(&p, "the drive moved on the server meanwhile; verified the "
		    "new head and re-parented this snapshot on it", NULL, 0);
		res->reparented++;
		if ((r = cf_session_sync_head(s, dk, pin)) != 0 ||
		    (r = parent_set(&p, pin, &pc)) != 0)
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
	known_save(&p, res->commit_id);
out:
	sodium_memzero(&p.ckey, sizeof(p.ckey));
	sodium_memzero(&p.mkey, sizeof(p.mkey));
	sodium_memzero(p.mac_key, sizeof(p.mac_key));
	sodium_memzero(p.known_key, sizeof(p.known_key));
	(void)uploader_finish(&p);
	uploader_free(&p.up);
	batch_free(p.cur);
	free(p.buf);
	free(p.path);
	cf_idhash_clear(&p.child);
	cf_idhash_clear(&p.discarded);
	cf_idhash_clear(&p.revived);
	free(p.att);
	free(p.prev_path);
	cf_folder_free(&p.prev_f);
	free(p.dc);
	cf_delta_idset_clear(&p.childset);
	free(p.scbuf);
	cf_delta_idset_clear(&p.parent);
	cf_statcache_free(p.newsc);	/* before the old: it refers to it */
	cf_statcache_free(p.oldsc);
	cf_chunker_free(p.chunker);
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	if (rootfd >= 0)
		close(rootfd);
	return r;
}

/* ---- re-sealing a version under the newest drive secret (--rekey) ---- */

/*
 * device remove --rekey (DESIGN §5) gives every drive a new drive secret
 * and re-seals its head as a new version under it.  No plaintext goes to
 * disk: the head's folders are walked from the server (each tree, list
 * and chunk opened and checked against its id), each file's bytes are
 * streamed through the new secret's chunker in the read window -- chunks
 * fetched a get-many at a time, so at most one answer and one window of
 * plaintext is held besides the upload batches -- and everything is
 * sealed and uploaded through the push pipeline above, the commit made
 * (several, past the delta cap) the way a push makes it.  The new
 * version's content is the old one's, byte for byte and entry for entry.
 */

/* One file being re-chunked: the window is p->buf[off, have). */
struct reseal_file {
	struct push *p;
	struct cf_list_builder *lb;
	const struct cf_ref *refs;	/* the refs being fetched */
	size_t have, off;
	uint64_t bytes;			/* the file's bytes so far */
};

/* Cut, hash, queue and list one chunk of the window. */
static int
reseal_emit(struct reseal_file *rf, size_t cut)
{
	struct push *p = rf->p;
	uint8_t id[CF_ID_BYTES];
	int r;

	cf_object_id(p->ckey.id_key, CF_OBJ_CHUNK, p->buf + rf->off, cut, id);
	if ((r = object(p, CF_OBJ_CHUNK, p->buf + rf->off, cut, id)) != 0 ||
	    (r = cf_list_builder_add(rf->lb, id, (uint32_t)cut)) != 0)
		return r;
	rf->off += cut;
	return 0;
}

/* cf_fetch_fn: the next old chunk of the file, into the window. */
static int
reseal_chunk_cb(void *ctx, size_t i, const uint8_t *plain, size_t len)
{
	struct reseal_file *rf = ctx;
	struct push *p = rf->p;
	size_t k, cut;
	int r;

	/* The tree's length for it (the id binds the bytes, not the ref). */
	if (len != rf->refs[i].len)
		return COFFER_ENOTAUTHENTIC;
	rf->bytes += len;
	p->res->bytes_read += len;
	while (len > 0) {
		/* A full window always has a cut below (CF_CHUNK_MAX). */
		if (rf->have == READ_WINDOW && rf->off > 0) {
			memmove(p->buf, p->buf + rf->off, rf->have - rf->off);
			rf->have -= rf->off;
			rf->off = 0;
		}
		k = READ_WINDOW - rf->have < len ? READ_WINDOW - rf->have : len;
		memcpy(p->buf + rf->have, plain, k);
		rf->have += k;
		plain += k;
		len -= k;
		while (rf->have > rf->off && (cut = cf_chunker_cut(p->chunker,
		    p->buf + rf->off, rf->have - rf->off, 0)) > 0)
			if ((r = reseal_emit(rf, cut)) != 0)
				return r;
	}
	return 0;
}

/* Fetch the ${n} chunks ${refs} in order and stream them in. */
static int
reseal_refs(struct reseal_file *rf, const struct cf_ref *refs, size_t n)
{
	uint8_t (*ids)[CF_ID_BYTES];
	size_t i;
	int r;

	if (n == 0)
		return 0;
	if ((ids = malloc(n * CF_ID_BYTES)) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < n; i++)
		memcpy(ids[i], refs[i].id, CF_ID_BYTES);
	rf->refs = refs;
	r = cf_session_fetch(rf->p->s, rf->p->dk, rf->p->epoch, CF_OBJ_CHUNK,
	    (const uint8_t (*)[CF_ID_BYTES])ids, n, reseal_chunk_cb, rf);
	free(ids);
	return r;
}

/* The old file ${e}'s bytes, chunked anew into ${ne}'s refs. */
static int
reseal_file(struct push *p, const struct cf_tree_entry *e,
    struct cf_tree_entry *ne)
{
	struct reseal_file rf;
	struct cf_list *l = NULL;
	struct cf_ref *refs = NULL;
	uint8_t *plain = NULL;
	size_t plen = 0, i, cut;
	uint64_t sum = 0;
	int r;

	memset(&rf, 0, sizeof(rf));
	rf.p = p;
	ne->refs = NULL;
	ne->nrefs = 0;
	if ((r = cf_list_builder_new(p->mkey.id_key, emit_cb, p, &rf.lb)) != 0)
		goto out;
	if (e->how == CF_FILE_CHUNKS) {
		if ((r = reseal_refs(&rf, e->refs, e->nrefs)) != 0)
			goto out;
	} else {
		for (i = 0; i < e->nrefs; i++) {
			if ((r = cf_session_fetch_one(p->s, p->dk, p->epoch,
			    CF_OBJ_LIST, e->refs[i].id, &plain, &plen,
			    NULL)) != 0)
				goto out;
			r = cf_list_decode(plain, plen, &l);
			cf_wipefree(plain, plen);
			plain = NULL;
			if (r != 0 || (r = cf_list_check_one(e, i, l, &sum)) != 0 ||
			    (r = reseal_refs(&rf, l->chunks, l->n)) != 0)
				goto out;
			cf_list_free(l);
			l = NULL;
		}
		if ((r = cf_list_check_end(e, sum)) != 0)
			goto out;
	}
	/* The end of the file: what is left is cut as at end of file. */
	while (rf.have > rf.off) {
		if ((cut = cf_chunker_cut(p->chunker, p->buf + rf.off,
		    rf.have - rf.off, 1)) == 0) {
			r = COFFER_EINTERNAL;
			goto out;
		}
		if ((r = reseal_emit(&rf, cut)) != 0)
			goto out;
	}
	if ((r = cf_list_builder_finish(rf.lb, &ne->how, &refs, &ne->nrefs,
	    &ne->size)) != 0)
		goto out;
	if (ne->size != e->size || rf.bytes != e->size) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	ne->refs = refs;
	refs = NULL;
	p->res->files++;
	if (p->s->progress != NULL)
		p->s->progress(p->s->progress_ctx, "rekey: re-sealed bytes",
		    p->res->bytes_read, 0);
out:
	/* The window held plaintext. */
	sodium_memzero(p->buf, rf.have);
	cf_list_builder_free(rf.lb);
	cf_list_free(l);
	free(refs);
	return r;
}

/* The old folder ${old} re-sealed, its new tree id in ${id}. */
static int
reseal_dir(struct push *p, const uint8_t old[static CF_ID_BYTES],
    uint32_t depth, uint8_t id[static CF_ID_BYTES])
{
	struct cf_folder f;
	struct cf_tree_entry *ne = NULL;
	size_t i, n = 0;
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = cf_folder_load(split_load, p, old, &f)) != 0)
		goto out;
	if (f.n > 0 && (ne = calloc(f.n, sizeof(*ne))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (n = 0; n < f.n; n++) {
		/* Name, mode, times, symlink target: as they were. */
		ne[n] = *f.e[n];
		if (f.e[n]->type == CF_TREE_FILE) {
			if ((r = reseal_file(p, f.e[n], &ne[n])) != 0)
				goto out;
		} else if (f.e[n]->type == CF_TREE_DIR) {
			if (depth + 1 > CF_WALK_DEPTH_MAX) {
				r = COFFER_ENOTAUTHENTIC;
				goto out;
			}
			if ((r = reseal_dir(p, f.e[n]->subtree, depth + 1,
			    ne[n].subtree)) != 0)
				goto out;
		}
	}
	r = cf_tree_build(ne, n, p->mkey.id_key, emit_cb, p, id);
out:
	for (i = 0; ne != NULL && i < f.n; i++)
		if (ne[i].type == CF_TREE_FILE && ne[i].refs != f.e[i]->refs)
			free((void *)(uintptr_t)ne[i].refs);
	free(ne);
	cf_folder_free(&f);
	return r;
}

int
cf_push_reseal(struct cf_session *s, const char *drive,
    struct cf_push_result *res)
{
	struct push p;
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	struct cf_commit pc;
	const struct cf_drive_secret *sec;
	uint8_t drive_id[CF_ID_BYTES], root[CF_ID_BYTES];
	int done = 0, r, r2;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	cf_idhash_init(&p.child);
	p.s = s;
	p.res = res;
	p.epoch = cf_session_epoch(s);
	p.delta_cap = delta_cap(s);
	if ((r = drive_open(&p, drive, drive_id, &dk, &sec)) != 0)
		goto out;
	cf_known_mac_key(sec->chunk_id_key, p.known_key);
	if ((p.buf = malloc(READ_WINDOW)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if ((r = cf_session_load_pin(s, drive_id, &pin)) != 0 ||
	    (r = cf_session_sync_head(s, dk, pin)) != 0)
		goto out;
	if (pin->n == 0) {
		res->unchanged = 1;	/* an empty drive stays empty */
		goto out;
	}
	if ((r = parent_set(&p, pin, &pc)) != 0)
		goto out;
	/* The head's top folder metadata (or its absence) carries over. */
	p.top = pc;
	if ((r = uploader_start(&p)) != 0)
		goto out;
	r = reseal_dir(&p, pc.root_id, 1, root);
	if (r == 0)
		r = flush(&p);
	else
		uploader_cancel(&p.up, r);
	if ((r2 = uploader_finish(&p)) != 0 && r == 0)
		r = r2;
	if (r != 0)
		goto out;
	if ((r = cf_idhash_take_sorted(&p.child, &p.childset)) != 0)
		goto out;
	if (!memcmp(pc.root_id, root, CF_ID_BYTES)) {
		res->unchanged = 1;	/* the secret did not change */
		memcpy(res->commit_id, pin->ids[pin->n - 1], CF_ID_BYTES);
		goto out;
	}
	if ((r = commit_split(&p, pin, &pc, root, &done)) != 0)
		goto out;
	if (!done) {
		/* The head moved: the caller starts again from the new one. */
		r = COFFER_ECONFLICT;
		goto out;
	}
	res->version = pin->n;
	known_save(&p, res->commit_id);
out:
	sodium_memzero(&p.ckey, sizeof(p.ckey));
	sodium_memzero(&p.mkey, sizeof(p.mkey));
	sodium_memzero(p.known_key, sizeof(p.known_key));
	(void)uploader_finish(&p);
	uploader_free(&p.up);
	batch_free(p.cur);
	if (p.buf != NULL)
		cf_wipefree(p.buf, READ_WINDOW);
	cf_idhash_clear(&p.child);
	cf_delta_idset_clear(&p.childset);
	cf_delta_idset_clear(&p.parent);
	cf_chunker_free(p.chunker);
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	return r;
}
