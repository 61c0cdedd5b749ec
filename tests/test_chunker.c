/*
 * Tests for the chunker (lib/chunker, docs/FORMAT.md §9).
 *
 * The reference chunker below is written from FORMAT §9 alone, with its
 * own key derivation and its own constants, and cf_chunker_cut must agree
 * with it everywhere.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chunker/chunker.h"
#include "chunker/chunker_internal.h"
#include "t.h"
#include "util.h"

/* FORMAT §9, written out again: the test must not trust chunker.h. */
#define REF_MIN		524288U
#define REF_MAX		8388608U
#define REF_KEYBYTES	32

#define MIB		(1024U * 1024)
#define DATA_BYTES	(24U * MIB)	/* ~23 chunks of random data */
#define REF_BYTES	(6U * MIB)	/* compared with the reference */
#define EDIT_BYTES	100		/* inserted or deleted for resync */
#define BENCH_SECONDS	0.25		/* minimum timed run */

static uint8_t *data;			/* DATA_BYTES of seeded data */
static uint8_t key_a[REF_KEYBYTES], key_b[REF_KEYBYTES];
static struct cf_chunker *ca, *cb;

/* Chunk boundaries: the end offset of each chunk. */
struct bounds {
	size_t *end;
	size_t n;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ---- The reference: FORMAT §9's pseudocode, plainly. ---- */

struct ref {
	uint64_t G[256];
	uint8_t cut_key[16];
};

static void
ref_init(struct ref *r, const uint8_t kc[REF_KEYBYTES])
{
	static const uint8_t nonce[24];
	uint8_t gear_key[32], stream[2048], cut[32];
	int i;

	crypto_generichash(gear_key, sizeof(gear_key),
	    (const uint8_t *)"coffer-gear-v1", strlen("coffer-gear-v1"),
	    kc, REF_KEYBYTES);
	crypto_stream_xchacha20(stream, sizeof(stream), nonce, gear_key);
	for (i = 0; i < 256; i++)
		r->G[i] = be64(&stream[8 * i]);
	crypto_generichash(cut, sizeof(cut),
	    (const uint8_t *)"coffer-cut-v1", strlen("coffer-cut-v1"),
	    kc, REF_KEYBYTES);
	memcpy(r->cut_key, cut, 16);
}

static size_t
ref_cut(const struct ref *r, const uint8_t *b, size_t len, int eof)
{
	uint64_t h = 0, s;
	uint8_t in[8], out[8];
	size_t i, n;
	int k;

	for (i = (REF_MIN > 64 ? REF_MIN - 64 : 0); i < len; i++) {
		h = (h << 1) + r->G[b[i]];
		n = i + 1;
		if (n == REF_MAX)
			return n;
		if (n >= REF_MIN && (h >> 51) == 0) {
			for (k = 0; k < 8; k++)
				in[k] = (uint8_t)(h >> (56 - 8 * k));
			crypto_shorthash(out, in, 8, r->cut_key);
			s = be64(out);
			if ((s >> 58) == 0)
				return n;
		}
	}
	return eof ? len : 0;
}

/* ---- Helpers. ---- */

/*
 * Chunk all ${len} bytes of ${buf} (eof: the whole input is there) into
 * ${b}, checking each chunk's length; returns 0 or -1.
 */
static int
chunk_all(const struct cf_chunker *c, const uint8_t *buf, size_t len,
    struct bounds *b)
{
	size_t off = 0, n;

	b->n = 0;
	b->end = malloc((len / REF_MIN + 2) * sizeof(size_t));
	if (b->end == NULL)
		return -1;
	while (off < len) {
		n = cf_chunker_cut(c, buf + off, len - off, 1);
		if (n == 0 || n > len - off)
			return -1;
		if (n > REF_MAX || (n < REF_MIN && off + n != len))
			return -1;
		off += n;
		b->end[b->n++] = off;
	}
	return 0;
}

static int
bounds_eq(const struct bounds *x, const struct bounds *y)
{
	return x->n == y->n &&
	    memcmp(x->end, y->end, x->n * sizeof(size_t)) == 0;
}

static int
bounds_has(const struct bounds *b, size_t v)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->end[i] == v)
			return 1;
	return 0;
}

/*
 * Map the boundaries ${src} through an edit at ${pos}: ${del} bytes
 * removed there, then ${ins} bytes inserted.  Boundaries inside the
 * removed range disappear.
 */
static void
bounds_map(const struct bounds *src, size_t pos, size_t del, size_t ins,
    struct bounds *dst)
{
	size_t i, e;

	dst->n = 0;
	dst->end = malloc((src->n + 1) * sizeof(size_t));
	if (dst->end == NULL)
		return;
	for (i = 0; i < src->n; i++) {
		e = src->end[i];
		if (e <= pos)
			dst->end[dst->n++] = e;
		else if (e >= pos + del)
			dst->end[dst->n++] = e - del + ins;
	}
}

/*
 * The boundaries ${m} of edited data against the mapped originals ${e},
 * the edit at ${pos}: equal up to the edit; the first or second boundary
 * after it is an original one (*syncp = 1 or 2), and all later ones
 * coincide.  Returns the number of coinciding boundaries after the sync
 * point, or -1.
 */
static long
bounds_resync(const struct bounds *e, const struct bounds *m, size_t pos,
    int *syncp)
{
	size_t i, j, k0, s;

	*syncp = 0;
	for (i = 0; i < e->n && e->end[i] <= pos; i++)
		;
	for (k0 = 0; k0 < m->n && m->end[k0] <= pos; k0++)
		;
	if (i != k0 || memcmp(e->end, m->end, k0 * sizeof(size_t)) != 0)
		return -1;
	if (k0 < m->n && bounds_has(e, m->end[k0]))
		*syncp = 1;
	else if (k0 + 1 < m->n && bounds_has(e, m->end[k0 + 1]))
		*syncp = 2;
	else
		return -1;
	s = m->end[k0 + (size_t)*syncp - 1];
	for (i = 0; i < e->n && e->end[i] <= s; i++)
		;
	for (j = k0; j < m->n && m->end[j] <= s; j++)
		;
	if (e->n - i != m->n - j ||
	    memcmp(e->end + i, m->end + j, (m->n - j) * sizeof(size_t)) != 0)
		return -1;
	return (long)(m->n - j);
}

/* ---- Cases. ---- */

static void
t_params(void)
{
	CHECK(CF_CHUNK_MIN == REF_MIN);
	CHECK(CF_CHUNK_AVG == 1048576U);
	CHECK(CF_CHUNK_MAX == REF_MAX);
	CHECK(CF_KEY_BYTES == REF_KEYBYTES);
	CHECK(CF_CHUNKER_CUT_KEY_BYTES == crypto_shorthash_KEYBYTES);
	CHECK(crypto_shorthash_BYTES == 8);
	cf_chunker_free(NULL);
}

/* The gear table and cut key, recomputed with libsodium directly. */
static void
t_derivation(void)
{
	uint8_t k32[REF_KEYBYTES], gear_key[32], g[2048], cut[32];
	static const uint8_t nonce[24];
	struct cf_chunker *c = NULL;
	struct ref r;
	unsigned i;
	int bad = 0;

	for (i = 0; i < sizeof(k32); i++)
		k32[i] = (uint8_t)i;
	CHECK_RC(cf_chunker_new(k32, &c), 0);
	if (c == NULL)
		return;

	crypto_generichash(gear_key, 32, (const uint8_t *)"coffer-gear-v1",
	    14, k32, 32);
	crypto_stream_xchacha20(g, sizeof(g), nonce, gear_key);
	CHECK(cf_chunker_gear(c, 0) == be64(&g[0]));
	CHECK(cf_chunker_gear(c, 255) == be64(&g[2040]));
	crypto_generichash(cut, 32, (const uint8_t *)"coffer-cut-v1", 13,
	    k32, 32);
	CHECK(memcmp(cf_chunker_cut_key(c), cut, 16) == 0);

	/* The whole table, for both keys. */
	ref_init(&r, k32);
	for (i = 0; i < 256; i++)
		bad += cf_chunker_gear(c, i) != r.G[i];
	ref_init(&r, key_a);
	for (i = 0; i < 256; i++)
		bad += cf_chunker_gear(ca, i) != r.G[i];
	CHECK(bad == 0);
	CHECK(memcmp(cf_chunker_cut_key(ca), r.cut_key, 16) == 0);
	CHECK(memcmp(cf_chunker_cut_key(ca), cf_chunker_cut_key(cb), 16) != 0);
	CHECK(cf_chunker_gear(ca, 7) != cf_chunker_gear(cb, 7));

	printf("# k32: G[0]=%016llx G[255]=%016llx\n",
	    (unsigned long long)cf_chunker_gear(c, 0),
	    (unsigned long long)cf_chunker_gear(c, 255));
	cf_chunker_free(c);
}

/* Lengths, coverage, mean, and throughput on random data. */
static void
t_cover(void)
{
	struct bounds b = { NULL, 0 };
	size_t i, prev, l, lmin = SIZE_MAX, lmax = 0, hashed = 0, total = 0;
	double mean, t0, dt, hashed_all = 0;
	int passes = 0;

	CHECK(chunk_all(ca, data, DATA_BYTES, &b) == 0);
	CHECK(b.n >= 2);
	if (b.n < 2)
		goto out;
	CHECK(b.end[b.n - 1] == DATA_BYTES);
	for (i = 0, prev = 0; i < b.n; prev = b.end[i], i++) {
		l = b.end[i] - prev;
		CHECK(l <= REF_MAX);
		CHECK(l >= REF_MIN || i == b.n - 1);
		if (i == b.n - 1)
			break;
		if (l < lmin)
			lmin = l;
		if (l > lmax)
			lmax = l;
		hashed += l - (REF_MIN - 64);
	}
	/* The mean of the full chunks, excluding the last. */
	mean = (double)b.end[b.n - 2] / (double)(b.n - 1);
	printf("# %zu chunks over %u MiB; full chunks: mean %.3f MiB "
	    "(%.0f bytes), min %zu, max %zu\n", b.n, DATA_BYTES / MIB,
	    mean / MIB, mean, lmin, lmax);
	CHECK(mean >= 0.7 * MIB && mean <= 1.5 * MIB);

	/* Throughput: whole passes until BENCH_SECONDS have gone by. */
	t0 = now();
	do {
		for (prev = 0; prev < DATA_BYTES; prev += l) {
			l = cf_chunker_cut(ca, data + prev, DATA_BYTES - prev,
			    1);
			if (l == 0)
				break;
		}
		total += prev;
		hashed_all += (double)hashed;
		passes++;
		dt = now() - t0;
	} while (dt < BENCH_SECONDS);
	printf("# throughput: %.0f MB/s of input, %.0f MB/s hashed "
	    "(%d passes, %.3f s)\n", (double)total / dt / 1e6,
	    hashed_all / dt / 1e6, passes, dt);
	CHECK(total == (size_t)passes * DATA_BYTES);
out:
	free(b.end);
}

/* The cut depends only on the chunk's bytes, not on what follows. */
static void
t_determinism(void)
{
	struct bounds b = { NULL, 0 }, s = { NULL, 0 };
	static const size_t steps[] = { 300 * 1024 + 7, MIB + 1, 9 * MIB };
	size_t i, k, off, l, have, n, zeros;
	uint8_t *copy;
	int bad = 0;

	CHECK(chunk_all(ca, data, DATA_BYTES, &b) == 0);
	for (i = 0, off = 0; i < b.n; off = b.end[i], i++) {
		l = b.end[i] - off;
		/* Exactly the chunk, in a buffer of exactly its size. */
		if ((copy = malloc(l)) == NULL) {
			bad++;
			break;
		}
		memcpy(copy, data + off, l);
		if (i + 1 < b.n) {
			bad += cf_chunker_cut(ca, copy, l, 0) != l;
			bad += cf_chunker_cut(ca, copy, l - 1, 0) != 0;
		}
		bad += cf_chunker_cut(ca, copy, l, 1) != l;
		bad += cf_chunker_cut(ca, copy, l - 1, 1) != l - 1;
		free(copy);
		/* More data after it. */
		if (i + 1 < b.n) {
			bad += cf_chunker_cut(ca, data + off, l + 1, 0) != l;
			bad += cf_chunker_cut(ca, data + off, l + 4096, 0) != l;
			bad += cf_chunker_cut(ca, data + off,
			    DATA_BYTES - off, 0) != l;
		}
	}
	CHECK(bad == 0);

	/* Streaming with a growing window gives the same boundaries. */
	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		s.end = malloc((b.n + 1) * sizeof(size_t));
		s.n = 0;
		if (s.end == NULL)
			break;
		off = 0;
		have = 0;
		zeros = 0;
		while (off < DATA_BYTES && s.n <= b.n) {
			if (have == 0)
				have = steps[k] < DATA_BYTES - off ?
				    steps[k] : DATA_BYTES - off;
			n = cf_chunker_cut(ca, data + off, have,
			    have == DATA_BYTES - off);
			if (n == 0) {
				CHECK(have < REF_MAX);
				zeros++;
				have += steps[k];
				if (have > DATA_BYTES - off)
					have = DATA_BYTES - off;
				continue;
			}
			off += n;
			have -= n;
			s.end[s.n++] = off;
		}
		CHECK(bounds_eq(&b, &s));
		printf("# window step %zu: %zu chunks, %zu \"need more\"\n",
		    steps[k], s.n, zeros);
		free(s.end);
	}
	free(b.end);
}

/* Two keys, two boundary sets. */
static void
t_keys_differ(void)
{
	struct bounds a = { NULL, 0 }, b = { NULL, 0 };
	size_t i, common = 0;

	CHECK(chunk_all(ca, data, DATA_BYTES, &a) == 0);
	CHECK(chunk_all(cb, data, DATA_BYTES, &b) == 0);
	CHECK(!bounds_eq(&a, &b));
	for (i = 0; i + 1 < a.n; i++)
		common += (size_t)bounds_has(&b, a.end[i]);
	printf("# key a: %zu chunks, key b: %zu chunks, %zu interior "
	    "boundaries in common\n", a.n, b.n, common);
	CHECK(common == 0);
	free(a.end);
	free(b.end);
}

/* Apply an edit, chunk, and check re-synchronisation. */
static void
resync(const char *what, size_t pos, size_t del, size_t ins)
{
	struct bounds o = { NULL, 0 }, e = { NULL, 0 }, m = { NULL, 0 };
	size_t len = DATA_BYTES - del + ins;
	uint8_t *buf;
	long same;
	int sync;

	if ((buf = malloc(len)) == NULL) {
		CHECK(buf != NULL);
		return;
	}
	memcpy(buf, data, pos);
	tu_fill(buf + pos, ins, 77);
	memcpy(buf + pos + ins, data + pos + del, DATA_BYTES - pos - del);

	CHECK(chunk_all(ca, data, DATA_BYTES, &o) == 0);
	bounds_map(&o, pos, del, ins, &e);
	CHECK(chunk_all(ca, buf, len, &m) == 0);
	same = bounds_resync(&e, &m, pos, &sync);
	printf("# %s of %zu bytes at %zu: synchronised at chunk %d after "
	    "the edit, then %ld of %zu boundaries coincide\n", what,
	    del + ins, pos, sync, same, m.n);
	CHECK(same >= 10);
	CHECK(sync == 1 || sync == 2);
	free(o.end);
	free(e.end);
	free(m.end);
	free(buf);
}

static void
t_resync_insert(void)
{
	resync("insertion", 1000, 0, EDIT_BYTES);
}

static void
t_resync_delete(void)
{
	resync("deletion", 5 * MIB + 12345, EDIT_BYTES, 0);
}

/* No entropy: every chunk is MAX; the data is still covered. */
static void
t_zeros(void)
{
	size_t len = 3 * (size_t)REF_MAX + 12345, i;
	struct bounds b = { NULL, 0 };
	uint8_t *z;

	if ((z = calloc(1, len)) == NULL) {
		CHECK(z != NULL);
		return;
	}
	CHECK(chunk_all(ca, z, len, &b) == 0);
	CHECK(b.n == 4);
	for (i = 0; i < b.n && i < 3; i++)
		CHECK(b.end[i] == (i + 1) * REF_MAX);
	CHECK(b.n == 4 && b.end[3] == len);
	CHECK(cf_chunker_cut(ca, z, REF_MAX - 1, 0) == 0);
	CHECK(cf_chunker_cut(ca, z, REF_MAX - 1, 1) == REF_MAX - 1);
	CHECK(cf_chunker_cut(ca, z, REF_MAX, 0) == REF_MAX);
	CHECK(cf_chunker_cut(ca, z, REF_MAX + 1, 0) == REF_MAX);
	CHECK(cf_chunker_cut(cb, z, len, 0) == REF_MAX);
	free(b.end);
	free(z);
}

/* cf_chunker_cut against the reference on many (offset, len, eof). */
static void
t_reference(void)
{
	static const size_t lens[] = {
		0, 1, 2, 63, 64, REF_MIN - 65, REF_MIN - 64, REF_MIN - 63,
		REF_MIN - 1, REF_MIN, REF_MIN + 1, REF_MIN + 8191,
		MIB, 3 * MIB / 2, 2 * MIB + 3,
	};
	struct ref ra, rb;
	uint8_t *z, *pat, rnd[8];
	size_t i, k, off, len, got, want, nq = 0, ncut = 0;
	int eof, bad = 0;

	ref_init(&ra, key_a);
	ref_init(&rb, key_b);

	/* Fixed lengths at a few offsets, both eof flags. */
	for (k = 0; k < 3; k++) {
		off = k * 1234567;
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			for (eof = 0; eof < 2; eof++) {
				len = lens[i];
				want = ref_cut(&ra, data + off, len, eof);
				got = cf_chunker_cut(ca, data + off, len, eof);
				bad += got != want;
				ncut += want != 0 && want < len;
				nq++;
			}
		}
	}

	/* Walk REF_BYTES, chunk by chunk, with both keys. */
	for (off = 0; off < REF_BYTES; off += want) {
		want = ref_cut(&ra, data + off, REF_BYTES - off, 1);
		got = cf_chunker_cut(ca, data + off, REF_BYTES - off, 1);
		bad += got != want;
		nq++;
		ncut += want < REF_BYTES - off;
		if (want == 0)
			break;
	}
	for (off = 0; off < REF_BYTES; off += want) {
		want = ref_cut(&rb, data + off, REF_BYTES - off, 1);
		got = cf_chunker_cut(cb, data + off, REF_BYTES - off, 1);
		bad += got != want;
		nq++;
		ncut += want < REF_BYTES - off;
		if (want == 0)
			break;
	}

	/* Seeded random (offset, len, eof). */
	for (k = 0; k < 16; k++) {
		tu_fill(rnd, sizeof(rnd), 1000 + k);
		off = (size_t)be64(rnd) % (REF_BYTES / 2);
		len = (size_t)(be64(rnd) >> 32) % (REF_BYTES / 2);
		eof = rnd[7] & 1;
		want = ref_cut(&ra, data + off, len, eof);
		got = cf_chunker_cut(ca, data + off, len, eof);
		bad += got != want;
		ncut += want != 0 && want < len;
		nq++;
	}

	/* No entropy, and a short period: MAX cuts. */
	len = REF_MAX + 4096;
	z = calloc(1, len);
	pat = malloc(len);
	if (z == NULL || pat == NULL) {
		CHECK(z != NULL && pat != NULL);
		goto out;
	}
	for (i = 0; i < len; i++)
		pat[i] = (uint8_t)(i % 251);
	for (eof = 0; eof < 2; eof++) {
		for (k = 0; k < 4; k++) {
			static const size_t zl[] = { 0, 4096, 4095, 4097 };

			want = ref_cut(&ra, z, len - zl[k], eof);
			bad += cf_chunker_cut(ca, z, len - zl[k], eof) != want;
			want = ref_cut(&ra, pat, len - zl[k], eof);
			bad += cf_chunker_cut(ca, pat, len - zl[k], eof) !=
			    want;
			nq += 2;
		}
	}

	printf("# reference: %zu queries, %zu of them cut inside the data, "
	    "%d mismatches\n", nq, ncut, bad);
	CHECK(bad == 0);
	CHECK(ncut >= 10);
out:
	free(z);
	free(pat);
}

/*
 * Cuts on the edges: a 64-byte window that makes the rule fire, placed to
 * end exactly at n = MIN and at n = MAX - 1 in otherwise zero data.  Its
 * first byte has an odd G, so hashing from one byte too late (or too
 * early) flips the top bit of h and loses the cut.
 */
static void
t_edges(void)
{
	size_t len = REF_MAX + 4096, i, at = 0;
	uint8_t *z, *w = NULL;
	struct ref ra, rb;
	uint64_t h = 0;

	ref_init(&ra, key_a);
	ref_init(&rb, key_b);
	if ((z = calloc(1, len)) == NULL) {
		CHECK(z != NULL);
		return;
	}
	/* Find such a window in the random data with the reference. */
	for (i = REF_MIN - 64; i < DATA_BYTES && at == 0; i++) {
		h = (h << 1) + ra.G[data[i]];
		if (i >= REF_MIN - 1 && (h >> 51) == 0 &&
		    (ra.G[data[i - 63]] & 1) &&
		    ref_cut(&ra, data + i + 1 - REF_MIN, REF_MIN, 0) ==
		    REF_MIN)
			at = i + 1;
	}
	CHECK(at != 0);
	if (at == 0)
		goto out;
	w = data + at - 64;
	printf("# window found ending at %zu, h=%016llx\n", at,
	    (unsigned long long)h);

	/* Cut at exactly MIN. */
	memcpy(z + REF_MIN - 64, w, 64);
	CHECK(ref_cut(&ra, z, REF_MIN, 0) == REF_MIN);
	CHECK(cf_chunker_cut(ca, z, REF_MIN, 0) == REF_MIN);
	CHECK(cf_chunker_cut(ca, z, len, 0) == REF_MIN);
	CHECK(cf_chunker_cut(ca, z, REF_MIN - 1, 0) == 0);
	CHECK(cf_chunker_cut(cb, z, len, 0) == ref_cut(&rb, z, len, 0));
	/* One byte later it is not a candidate any more: n - 64 < MIN - 64. */
	memset(z, 0, len);
	memcpy(z + REF_MIN - 65, w, 64);
	CHECK(cf_chunker_cut(ca, z, len, 0) == ref_cut(&ra, z, len, 0));

	/* Cut at exactly MAX - 1, found on the last byte of the buffer. */
	memset(z, 0, len);
	memcpy(z + REF_MAX - 65, w, 64);
	CHECK(ref_cut(&ra, z, REF_MAX - 1, 0) == REF_MAX - 1);
	CHECK(cf_chunker_cut(ca, z, REF_MAX - 1, 0) == REF_MAX - 1);
	CHECK(cf_chunker_cut(ca, z, REF_MAX - 2, 0) == 0);
	CHECK(cf_chunker_cut(ca, z, len, 1) == REF_MAX - 1);
out:
	free(z);
}

int
main(void)
{
	if (coffer_init() != 0) {
		fprintf(stderr, "coffer_init failed\n");
		return 1;
	}
	tu_fill(key_a, sizeof(key_a), 0xa);
	tu_fill(key_b, sizeof(key_b), 0xb);
	if ((data = malloc(DATA_BYTES)) == NULL ||
	    cf_chunker_new(key_a, &ca) != 0 ||
	    cf_chunker_new(key_b, &cb) != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	tu_fill(data, DATA_BYTES, 42);

	T_RUN(t_params);
	T_RUN(t_derivation);
	T_RUN(t_cover);
	T_RUN(t_determinism);
	T_RUN(t_keys_differ);
	T_RUN(t_resync_insert);
	T_RUN(t_resync_delete);
	T_RUN(t_zeros);
	T_RUN(t_reference);
	T_RUN(t_edges);

	cf_chunker_free(ca);
	cf_chunker_free(cb);
	free(data);
	T_DONE("chunker");
}
