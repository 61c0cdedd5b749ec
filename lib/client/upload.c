/*
 * push's upload pipeline (DESIGN §7): each object of the snapshot noted
 * in its set of ids and, unless known stored, queued in a batch; full
 * batches go to uploader threads through a bounded queue.
 *
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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "net/frame.h"
#include "util/buf.h"
#include "push_internal.h"

void
cf_upload_batch_free(struct batch *b)
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
		cf_upload_batch_free(b);
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

int
cf_upload_start(struct push *p)
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
		cf_upload_batch_free(b);
	return r;
}

/* Send the batch being filled, if any. */
int
cf_upload_flush(struct push *p)
{
	struct batch *b = p->cur;

	if (b == NULL || b->n == 0)
		return 0;
	p->cur = NULL;
	return enqueue(p, b);
}

/* Stop the uploader early: the scan failed. */
void
cf_upload_cancel(struct uploader *u, int r)
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
int
cf_upload_finish(struct push *p)
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

void
cf_upload_free(struct uploader *u)
{
	size_t k;

	while (u->qn > 0) {
		cf_upload_batch_free(u->q[u->qhead]);
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
int
cf_upload_child_add(struct push *p, const uint8_t id[static CF_ID_BYTES])
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
int
cf_upload_att_end(struct push *p, int keep)
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
void
cf_upload_childset_prune(struct push *p)
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
int
cf_upload_object(struct push *p, uint8_t type, const uint8_t *plain, size_t len,
    const uint8_t id[static CF_ID_BYTES])
{
	struct pending *np;
	int r;

	/* An error, or seen before: stored, or queued when first seen. */
	if ((r = cf_upload_child_add(p, id)) <= 0)
		return r;
	if (cf_idset_has(&p->parent, id))
		return 0;
	if (p->cur != NULL && (p->cur->n >= CF_PUSH_BATCH_COUNT ||
	    p->cur->bytes + len > CF_PUSH_BATCH_BYTES) &&
	    (r = cf_upload_flush(p)) != 0)
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

int
cf_upload_emit(void *ctx, uint8_t type, const uint8_t *plain, size_t len,
    const uint8_t id[static CF_ID_BYTES])
{
	return cf_upload_object(ctx, type, plain, len, id);
}

/* Upload the batch held back for the shrink check. */
int
cf_upload_last(struct push *p)
{
	struct uploader *u = &p->up;
	uint64_t c0 = u->chunks_uploaded, b0 = u->bytes_uploaded;
	int r;

	if (p->cur == NULL)
		return 0;
	r = upload_batch(u, p->s->net, p->cur);
	p->res->chunks_uploaded += u->chunks_uploaded - c0;
	p->res->bytes_uploaded += u->bytes_uploaded - b0;
	cf_upload_batch_free(p->cur);
	p->cur = NULL;
	return r;
}
