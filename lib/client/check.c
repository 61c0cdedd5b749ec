/*
 * check (DESIGN §7): for every drive, the whole line of commits verified
 * again from version 1 as a device with no pin would, every version's
 * trees and lists walked (version.c), and with --read-data every chunk
 * fetched and opened by worker threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "tree/history.h"
#include "pull_internal.h"

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
	unsigned k, n = 0, want = cf_pull_workers();
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
	struct cf_commit c;
	struct vload v;
	uint64_t ver;
	int r;

	memset(&v, 0, sizeof(v));
	if ((r = cf_version_sync(s, dd, &dk, &pin)) != 0)
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
		if ((r = cf_version_walk(&v, c.root_id)) != 0)
			goto out;
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
	cf_version_free(&v);
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
