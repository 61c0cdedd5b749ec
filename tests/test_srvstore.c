/*
 * The server's embedded engine behind its two interfaces
 * (server/meta.h, server/objstore.h): transactions, nonces, invites,
 * joins, drives, heads, live sets, objects, and the object store's
 * append/read/check across a reopen with a torn tail, and writers
 * appending at once.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "meta.h"
#include "objstore.h"
#include "t.h"
#include "util.h"

static char *dir;

static void
objstore_roundtrip(void)
{
	struct srv_objstore *s = NULL;
	struct srv_objput p[3];
	uint8_t id[3][32], data[3][100], buf[100];
	char path[4096];
	int i, fd;

	CHECK_RC(srv_objstore_open(dir, &s), 0);
	for (i = 0; i < 3; i++) {
		memset(id[i], i + 1, 32);
		memset(data[i], 0x40 + i, sizeof(data[i]));
		p[i].id = id[i];
		p[i].data = data[i];
		p[i].len = (uint32_t)(i == 2 ? 0 : sizeof(data[i]));
	}
	CHECK_RC(srv_objstore_write(s, p, 3), 0);
	CHECK(p[0].loc.pack == 1 && p[1].loc.off > p[0].loc.off);
	CHECK_RC(srv_objstore_read(s, &p[1].loc, buf), 0);
	CHECK(memcmp(buf, data[1], sizeof(buf)) == 0);
	CHECK_RC(srv_objstore_check(s, &p[0].loc, id[0]), 0);
	CHECK_RC(srv_objstore_check(s, &p[2].loc, id[2]), 0);
	CHECK_RC(srv_objstore_check(s, &p[0].loc, id[1]), COFFER_EIO);
	srv_objstore_close(s);
	s = NULL;
	/* A torn tail (a batch whose commit never happened) is garbage:
	 * after a reopen appends go after it and old objects still read. */
	snprintf(path, sizeof(path), "%s/packs/pack-00000001.pack", dir);
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, "torn", 4) == 4);
		close(fd);
	}
	CHECK_RC(srv_objstore_open(dir, &s), 0);
	CHECK_RC(srv_objstore_read(s, &p[0].loc, buf), 0);
	CHECK(memcmp(buf, data[0], sizeof(buf)) == 0);
	p[0].id = id[0];
	CHECK_RC(srv_objstore_write(s, p, 1), 0);
	CHECK(p[0].loc.off > p[1].loc.off + 100 + 4);
	CHECK_RC(srv_objstore_check(s, &p[0].loc, id[0]), 0);
	/* Past the pack size a new pack starts; both stay readable. */
	srv_objstore_set_pack_max(s, 4096);
	{
		static uint8_t big[3000];
		struct srv_objput q;
		struct srv_objloc first = p[0].loc;

		q.id = id[1];
		q.data = big;
		q.len = sizeof(big);
		CHECK_RC(srv_objstore_write(s, &q, 1), 0);
		CHECK(q.loc.pack == 1);
		CHECK_RC(srv_objstore_write(s, &q, 1), 0);
		CHECK(q.loc.pack == 2);
		CHECK_RC(srv_objstore_check(s, &q.loc, id[1]), 0);
		CHECK_RC(srv_objstore_check(s, &first, id[0]), 0);
	}
	srv_objstore_close(s);
}

/* ---- writers at once ---- */

#define CW_THREADS	4
#define CW_BATCHES	40
#define CW_PER		6
#define CW_N		(CW_BATCHES * CW_PER)

struct cw {
	pthread_t th;
	struct srv_objstore *s;
	int t;
	uint8_t id[CW_N][32];
	uint8_t *data[CW_N];
	struct srv_objloc loc[CW_N];
	int err;
};

static uint32_t
cw_len(int t, int i)
{
	return (uint32_t)((t * 7919 + i * 104729) % 6000);
}

static void *
cw_run(void *arg)
{
	struct cw *w = arg;
	struct srv_objput p[CW_PER];
	int b, k, i;

	for (b = 0; b < CW_BATCHES && w->err == 0; b++) {
		for (k = 0; k < CW_PER; k++) {
			i = b * CW_PER + k;
			p[k].id = w->id[i];
			p[k].data = w->data[i];
			p[k].len = cw_len(w->t, i);
		}
		if ((w->err = srv_objstore_write(w->s, p, CW_PER)) != 0)
			break;
		for (k = 0; k < CW_PER; k++)
			w->loc[b * CW_PER + k] = p[k].loc;
	}
	return NULL;
}

/* Every object of every writer reads back, and its record names it. */
static int
cw_verify(struct srv_objstore *s, struct cw *w)
{
	uint8_t *buf = malloc(6000);
	int t, i, bad = 0;

	if (buf == NULL)
		return 1;
	for (t = 0; t < CW_THREADS; t++)
		for (i = 0; i < CW_N; i++)
			if (w[t].loc[i].len != cw_len(t, i) ||
			    srv_objstore_read(s, &w[t].loc[i], buf) != 0 ||
			    memcmp(buf, w[t].data[i], w[t].loc[i].len) != 0 ||
			    srv_objstore_check(s, &w[t].loc[i], w[t].id[i]) != 0)
				bad++;
	free(buf);
	return bad;
}

/*
 * Four writers append batches at once while small packs roll over
 * underneath them: no two ranges overlap, every byte reads back, before
 * and after a reopen.
 */
static void
objstore_concurrent(void)
{
	static struct cw w[CW_THREADS];
	struct srv_objstore *s = NULL;
	char sub[4096];
	uint64_t maxpack = 0;
	int t, i;

	snprintf(sub, sizeof(sub), "%s/conc", dir);
	CHECK(mkdir(sub, 0700) == 0);
	CHECK_RC(srv_objstore_open(sub, &s), 0);
	if (s == NULL)
		return;
	srv_objstore_set_pack_max(s, 16384);
	for (t = 0; t < CW_THREADS; t++) {
		w[t].s = s;
		w[t].t = t;
		for (i = 0; i < CW_N; i++) {
			randombytes_buf(w[t].id[i], 32);
			if ((w[t].data[i] = malloc(6000)) == NULL)
				abort();
			randombytes_buf(w[t].data[i], 6000);
		}
	}
	for (t = 0; t < CW_THREADS; t++)
		CHECK(pthread_create(&w[t].th, NULL, cw_run, &w[t]) == 0);
	for (t = 0; t < CW_THREADS; t++) {
		pthread_join(w[t].th, NULL);
		CHECK_RC(w[t].err, 0);
		for (i = 0; i < CW_N; i++)
			if (w[t].loc[i].pack > maxpack)
				maxpack = w[t].loc[i].pack;
	}
	CHECK(maxpack > 10);		/* many packs started meanwhile */
	CHECK(cw_verify(s, w) == 0);
	srv_objstore_close(s);
	s = NULL;
	CHECK_RC(srv_objstore_open(sub, &s), 0);
	if (s != NULL)
		CHECK(cw_verify(s, w) == 0);
	srv_objstore_close(s);
	for (t = 0; t < CW_THREADS; t++)
		for (i = 0; i < CW_N; i++)
			free(w[t].data[i]);
}

static void
meta_basics(void)
{
	struct srv_meta *m = NULL;
	struct srv_entry e;
	struct srv_join j;
	struct srv_objloc loc, got;
	uint8_t nonce[16], dev[32], h[32], acct[32], out[32], drive[32], pk[32];
	uint8_t other[32], commit[32], *ap = NULL;
	uint64_t v, used, nobj, n;
	size_t al;
	int removed;

	CHECK_RC(srv_meta_open(dir, &m), 0);
	if (m == NULL)
		return;
	memset(nonce, 1, sizeof(nonce));
	memset(dev, 2, sizeof(dev));
	/* A nonce is refused the second time, even in a new transaction. */
	CHECK_RC(srv_meta_begin(m), 0);
	CHECK_RC(srv_meta_nonce_use(m, dev, nonce, 1000), 0);
	CHECK_RC(srv_meta_commit(m), 0);
	CHECK_RC(srv_meta_begin(m), 0);
	CHECK_RC(srv_meta_nonce_use(m, dev, nonce, 1001), COFFER_ECONFLICT);
	srv_meta_rollback(m);
	/* Rolled back writes are gone. */
	memset(nonce, 3, sizeof(nonce));
	CHECK_RC(srv_meta_begin(m), 0);
	CHECK_RC(srv_meta_nonce_use(m, dev, nonce, 1000), 0);
	srv_meta_rollback(m);
	CHECK_RC(srv_meta_begin(m), 0);
	CHECK_RC(srv_meta_nonce_use(m, dev, nonce, 1000), 0);
	CHECK_RC(srv_meta_commit(m), 0);

	/* Invites work once and expire. */
	memset(h, 9, sizeof(h));
	CHECK_RC(srv_meta_begin(m), 0);
	CHECK_RC(srv_meta_invite_add(m, h, 2000), 0);
	CHECK_RC(srv_meta_invite_use(m, h, 2001), COFFER_EDENIED);
	CHECK_RC(srv_meta_invite_use(m, h, 1999), 0);
	CHECK_RC(srv_meta_invite_use(m, h, 1999), COFFER_EDENIED);
	CHECK_RC(srv_meta_commit(m), 0);

	/* An account from a (structurally filled) genesis view. */
	memset(&e, 0, sizeof(e));
	memset(acct, 0xa1, sizeof(acct));
	memcpy(e.account_id, acct, 32);
	memset(e.dev_id, 0xd1, 32);
	memset(e.dev_sign_pk, 0x51, 32);
	memset(e.rk_id, 0xe1, 32);
	memset(e.hash, 0x77, 32);
	e.type = SRV_ENTRY_GENESIS;
	CHECK_RC(srv_meta_begin(m), 0);
	CHECK_RC(srv_meta_account_create(m, "ann", (const uint8_t *)"g", 1, &e,
	    5), 0);
	CHECK_RC(srv_meta_account_create(m, "ann", (const uint8_t *)"g", 1, &e,
	    5), COFFER_EEXIST);
	CHECK_RC(srv_meta_account_by_name(m, "ann", out), 0);
	CHECK(memcmp(out, acct, 32) == 0);
	CHECK_RC(srv_meta_account_by_name(m, "bob", out), COFFER_ENOENT);
	CHECK_RC(srv_meta_signer(m, acct, e.dev_id, pk), 0);
	CHECK(pk[0] == 0x51);
	CHECK_RC(srv_meta_signer(m, acct, dev, pk), COFFER_EDENIED);
	CHECK_RC(srv_meta_signer(m, dev, e.dev_id, pk), COFFER_ENOENT);
	CHECK_RC(srv_meta_device(m, acct, e.dev_id, pk, &removed), 0);
	CHECK(removed == 0);
	CHECK_RC(srv_meta_devices_active(m, acct, &n), 0);
	CHECK(n == 1);

	/* Joins: at most SRV_JOINS_PENDING_MAX pending, expiry. */
	memset(&j, 0, sizeof(j));
	for (n = 0; n < SRV_JOINS_PENDING_MAX + 1; n++) {
		memset(j.dev_id, (int)(0x10 + n), 32);
		CHECK_RC(srv_meta_join_put(m, acct, &j, (const uint8_t *)"r", 1,
		    100, 50), n < SRV_JOINS_PENDING_MAX ? 0 : COFFER_ETOOBIG);
	}
	memset(j.dev_id, 0x10, 32);
	CHECK_RC(srv_meta_join_get(m, acct, j.dev_id, 60, pk, &ap, &al), 0);
	CHECK(ap == NULL);
	CHECK_RC(srv_meta_join_approve(m, acct, j.dev_id, 60,
	    (const uint8_t *)"ap", 2), 0);
	CHECK_RC(srv_meta_join_get(m, acct, j.dev_id, 60, pk, &ap, &al), 0);
	CHECK(ap != NULL && al == 2);
	free(ap);
	CHECK_RC(srv_meta_join_get(m, acct, j.dev_id, 101, pk, &ap, &al),
	    COFFER_ENOENT);

	/* Drives belong to one account. */
	memset(drive, 0xdd, 32);
	memset(other, 0xee, 32);
	CHECK_RC(srv_meta_drive_owned(m, drive, acct), COFFER_ENOENT);
	CHECK_RC(srv_meta_drive_claim(m, drive, acct), 0);
	CHECK_RC(srv_meta_drive_claim(m, drive, acct), 0);
	CHECK_RC(srv_meta_drive_claim(m, drive, other), COFFER_EDENIED);
	CHECK_RC(srv_meta_drive_owned(m, drive, other), COFFER_ENOENT);
	CHECK_RC(srv_meta_drive_owned(m, drive, acct), 0);

	/* Objects, usage, heads, live set. */
	loc.pack = 1;
	loc.off = 41;
	loc.len = 100;
	memset(commit, 0xc0, 32);
	CHECK_RC(srv_meta_object_put(m, drive, commit, &loc, 10), 0);
	CHECK_RC(srv_meta_object_put(m, drive, commit, &loc, 10), COFFER_EEXIST);
	CHECK_RC(srv_meta_object_get(m, drive, commit, &got), 0);
	CHECK(got.pack == 1 && got.off == 41 && got.len == 100);
	CHECK_RC(srv_meta_object_get(m, other, commit, &got), COFFER_ENOENT);
	CHECK_RC(srv_meta_usage_add(m, acct, 100, 1), 0);
	CHECK_RC(srv_meta_usage(m, acct, &used, &nobj), 0);
	CHECK(used == 100 && nobj == 1);
	CHECK_RC(srv_meta_usage_mismatches(m, &n), 0);
	CHECK(n == 0);
	CHECK_RC(srv_meta_head_get(m, drive, &v, out), 0);
	CHECK(v == 0);
	CHECK_RC(srv_meta_head_set(m, drive, 1, commit, (const uint8_t *)"d", 1),
	    0);
	CHECK_RC(srv_meta_head_get(m, drive, &v, out), 0);
	CHECK(v == 1 && memcmp(out, commit, 32) == 0);
	CHECK_RC(srv_meta_live_has(m, drive, commit), 0);
	CHECK_RC(srv_meta_live_add(m, drive, commit), 0);
	CHECK_RC(srv_meta_live_has(m, drive, commit), 1);
	CHECK_RC(srv_meta_live_del(m, drive, commit), 0);
	CHECK_RC(srv_meta_live_has(m, drive, commit), 0);
	CHECK_RC(srv_meta_integrity(m), 0);
	CHECK_RC(srv_meta_commit(m), 0);
	srv_meta_close(m);
	/* Reopened: still there. */
	m = NULL;
	CHECK_RC(srv_meta_open(dir, &m), 0);
	CHECK_RC(srv_meta_begin(m), 0);
	CHECK_RC(srv_meta_head_get(m, drive, &v, out), 0);
	CHECK(v == 1);
	srv_meta_rollback(m);
	srv_meta_close(m);
}

/* One record kept per version, served in order by pages. */
struct dir_page {
	size_t n;
	uint8_t first[4];
	size_t bytes;
};

static int
dir_page_cb(void *arg, const uint8_t *p, size_t len)
{
	struct dir_page *pg = arg;

	if (pg->n < sizeof(pg->first))
		pg->first[pg->n] = len > 0 ? p[0] : 0;
	pg->n++;
	pg->bytes += len;
	return 0;
}

static void
meta_directory(void)
{
	struct srv_meta *m = NULL;
	struct srv_entry e;
	struct dir_page pg;
	uint8_t acct[32], rec[100], *got = NULL;
	uint64_t v, i;
	size_t gl;

	CHECK_RC(srv_meta_open(dir, &m), 0);
	if (m == NULL)
		return;
	memset(&e, 0, sizeof(e));
	memset(acct, 0xb2, sizeof(acct));
	memcpy(e.account_id, acct, 32);
	memset(e.dev_id, 0xd2, 32);
	memset(e.rk_id, 0xe2, 32);
	e.type = SRV_ENTRY_GENESIS;
	CHECK_RC(srv_meta_begin(m), 0);
	CHECK_RC(srv_meta_account_create(m, "dora", (const uint8_t *)"g", 1, &e,
	    5), 0);
	CHECK_RC(srv_meta_dir_get(m, acct, &v, &got, &gl), 0);
	CHECK(v == 0 && got == NULL);
	memset(&pg, 0, sizeof(pg));
	CHECK_RC(srv_meta_dir_records(m, acct, 0, 10, 1000, dir_page_cb, &pg,
	    &v), 0);
	CHECK(v == 0 && pg.n == 0);
	/* Versions 1..6: record i is 10*i bytes of the byte i. */
	for (i = 1; i <= 6; i++) {
		memset(rec, (int)i, sizeof(rec));
		CHECK_RC(srv_meta_dir_put(m, acct, i, rec, (size_t)(10 * i)), 0);
	}
	/* A version twice is refused (the HTTP layer's compare-and-swap). */
	CHECK_RC(srv_meta_dir_put(m, acct, 6, rec, 1), COFFER_EEXIST);
	CHECK_RC(srv_meta_dir_get(m, acct, &v, &got, &gl), 0);
	CHECK(v == 6 && got != NULL && gl == 60 && got[0] == 6);
	free(got);
	got = NULL;
	/* After 2: 3, 4, 5, 6 in order. */
	memset(&pg, 0, sizeof(pg));
	CHECK_RC(srv_meta_dir_records(m, acct, 2, 10, 1000, dir_page_cb, &pg,
	    &v), 0);
	CHECK(v == 6 && pg.n == 4 && pg.first[0] == 3 && pg.first[3] == 6);
	/* Capped by count. */
	memset(&pg, 0, sizeof(pg));
	CHECK_RC(srv_meta_dir_records(m, acct, 0, 2, 1000, dir_page_cb, &pg,
	    &v), 0);
	CHECK(pg.n == 2 && pg.first[0] == 1 && pg.first[1] == 2);
	/* Capped by bytes (30 + 40 fit in 75, 50 more do not)... */
	memset(&pg, 0, sizeof(pg));
	CHECK_RC(srv_meta_dir_records(m, acct, 2, 10, 75, dir_page_cb, &pg,
	    &v), 0);
	CHECK(pg.n == 2 && pg.bytes == 70);
	/* ...but one record always goes out. */
	memset(&pg, 0, sizeof(pg));
	CHECK_RC(srv_meta_dir_records(m, acct, 4, 10, 1, dir_page_cb, &pg,
	    &v), 0);
	CHECK(pg.n == 1 && pg.first[0] == 5);
	/* Nothing after the head, and no wrap on huge values. */
	memset(&pg, 0, sizeof(pg));
	CHECK_RC(srv_meta_dir_records(m, acct, 6, 10, 1000, dir_page_cb, &pg,
	    &v), 0);
	CHECK(pg.n == 0);
	CHECK_RC(srv_meta_dir_records(m, acct, UINT64_MAX, UINT64_MAX,
	    SIZE_MAX, dir_page_cb, &pg, &v), 0);
	CHECK(pg.n == 0);
	memset(&pg, 0, sizeof(pg));
	CHECK_RC(srv_meta_dir_records(m, acct, 0, UINT64_MAX, SIZE_MAX,
	    dir_page_cb, &pg, &v), 0);
	CHECK(pg.n == 6);
	/* Another account: none. */
	memset(acct, 0xb3, sizeof(acct));
	CHECK_RC(srv_meta_dir_records(m, acct, 0, 10, 1000, dir_page_cb, &pg,
	    &v), COFFER_ENOENT);
	CHECK_RC(srv_meta_commit(m), 0);
	srv_meta_close(m);
}

/* Nonces of reads: in memory (API §2), spilled to the durable table when full. */
static void
meta_read_nonces(void)
{
	struct srv_meta *m = NULL;
	uint8_t dev[32], n1[16], n2[16], n3[16], x[16];
	uint32_t i;
	int rc = 0;

	CHECK_RC(srv_meta_open(dir, &m), 0);
	if (m == NULL)
		return;
	memset(dev, 7, sizeof(dev));
	memset(n1, 0x31, sizeof(n1));
	memset(n2, 0x32, sizeof(n2));
	memset(n3, 0x33, sizeof(n3));
	CHECK_RC(srv_meta_begin(m), 0);
	CHECK_RC(srv_meta_nonce_use_read(m, dev, n1, 5000), 0);
	CHECK_RC(srv_meta_nonce_use_read(m, dev, n1, 5001), COFFER_ECONFLICT);
	/* One nonce per device, whichever table holds it. */
	CHECK_RC(srv_meta_nonce_use(m, dev, n1, 5001), COFFER_ECONFLICT);
	CHECK_RC(srv_meta_nonce_use(m, dev, n2, 5001), 0);
	CHECK_RC(srv_meta_nonce_use_read(m, dev, n2, 5001), COFFER_ECONFLICT);
	CHECK_RC(srv_meta_commit(m), 0);
	/* Fill the memory: 2^18 nonces, then the next one spills. */
	memset(x, 0, sizeof(x));
	CHECK_RC(srv_meta_begin(m), 0);
	for (i = 0; i < ((uint32_t)1 << 18) - 1 && rc == 0; i++) {
		x[0] = (uint8_t)(i >> 24);
		x[1] = (uint8_t)(i >> 16);
		x[2] = (uint8_t)(i >> 8);
		x[3] = (uint8_t)i;
		x[15] = 0xaa;
		rc = srv_meta_nonce_use_read(m, dev, x, 5002);
	}
	CHECK_RC(rc, 0);
	CHECK_RC(srv_meta_nonce_use_read(m, dev, x, 5002), COFFER_ECONFLICT);
	CHECK_RC(srv_meta_nonce_use_read(m, dev, n3, 5002), 0);	/* spilled */
	CHECK_RC(srv_meta_nonce_use_read(m, dev, n3, 5003), COFFER_ECONFLICT);
	CHECK_RC(srv_meta_commit(m), 0);
	srv_meta_close(m);
	/*
	 * A restart forgets the reads kept in memory (the accepted cost),
	 * never the durable nonces nor the spilled ones.
	 */
	m = NULL;
	CHECK_RC(srv_meta_open(dir, &m), 0);
	if (m == NULL)
		return;
	CHECK_RC(srv_meta_begin(m), 0);
	CHECK_RC(srv_meta_nonce_use_read(m, dev, n1, 5004), 0);
	CHECK_RC(srv_meta_nonce_use_read(m, dev, n2, 5004), COFFER_ECONFLICT);
	CHECK_RC(srv_meta_nonce_use_read(m, dev, n3, 5004), COFFER_ECONFLICT);
	CHECK_RC(srv_meta_commit(m), 0);
	srv_meta_close(m);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	dir = tu_tmpdir();
	T_RUN(objstore_roundtrip);
	T_RUN(objstore_concurrent);
	T_RUN(meta_basics);
	T_RUN(meta_directory);
	T_RUN(meta_read_nonces);
	tu_rmrf(dir);
	free(dir);
	T_DONE("srvstore");
}
