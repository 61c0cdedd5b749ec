/*
 * Tests for commits and reference deltas (lib/tree, docs/FORMAT.md §13).
 *
 * Encodings and signatures are also made here from FORMAT §13 alone
 * (raw_commit, raw_delta), so that the test can check the library's bytes
 * and craft validly signed commits that break one rule each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "crypto/keys.h"
#include "tree/tree.h"
#include "util/buf.h"
#include "t.h"
#include "util.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
#define EINV		COFFER_EINVAL

/* FORMAT §13, written out again. */
#define REF_V1_SIGNED		221
#define REF_V1_BYTES		285
#define REF_V2_SIGNED		237
#define REF_V2_BYTES		301
#define REF_PURPOSE		"coffer-commit-v1"

static struct cf_device_keys *ka, *kb;

/* A format 2 commit: the newest, what a client writes. */
static void
sample(struct cf_commit *c, uint64_t version)
{
	memset(c, 0, sizeof(*c));
	memset(c->drive_id, 0xd0, 32);
	c->version = version;
	if (version > 1)
		memset(c->parent_id, 0x9a, 32);
	memset(c->root_id, 0x70, 32);
	memcpy(c->author_id, ka->device_id, 32);
	c->time = 1700000000;
	c->chain_seq = 12;
	memset(c->chain_head, 0xce, 32);
	memset(c->delta_hash, 0xde, 32);
	c->has_root_meta = 1;
	c->root_mode = 0750;
	c->root_mtime_sec = 1600000000;
	c->root_mtime_nsec = 123456789;
}

/*
 * The commit's bytes before sig in ${format} (its byte; root metadata
 * written when 2, whatever ${c}->has_root_meta says), from FORMAT §13.
 * Their length.
 */
static size_t
raw_body(const struct cf_commit *c, int format, uint8_t *out)
{
	struct cf_wr w;
	uint8_t *p;
	size_t len;

	cf_wr_init(&w, 1024, 0);
	cf_wr_bytes(&w, "CFCM", 4);
	cf_wr_u8(&w, (uint8_t)format);
	cf_wr_bytes(&w, c->drive_id, 32);
	cf_wr_u64(&w, c->version);
	cf_wr_bytes(&w, c->parent_id, 32);
	cf_wr_bytes(&w, c->root_id, 32);
	cf_wr_bytes(&w, c->author_id, 32);
	cf_wr_u64(&w, c->time);
	cf_wr_u64(&w, c->chain_seq);
	cf_wr_bytes(&w, c->chain_head, 32);
	cf_wr_bytes(&w, c->delta_hash, 32);
	if (format == 2) {
		cf_wr_u32(&w, c->root_mode);
		cf_wr_u64(&w, (uint64_t)c->root_mtime_sec);
		cf_wr_u32(&w, c->root_mtime_nsec);
	}
	if (cf_wr_finish(&w, &p, &len) != 0 ||
	    len != (format == 2 ? REF_V2_SIGNED : REF_V1_SIGNED))
		abort();
	memcpy(out, p, len);
	free(p);
	return len;
}

/* Sign ${len} bytes of body at ${out} with ${purpose} (FORMAT §11). */
static size_t
raw_sign(uint8_t *out, size_t len, const char *purpose, const uint8_t *sk)
{
	uint8_t msg[64 + REF_V2_SIGNED];
	size_t plen = strlen(purpose);

	memcpy(msg, purpose, plen);
	memcpy(msg + plen, out, len);
	crypto_sign_detached(out + len, NULL, msg, plen + len, sk);
	return len + 64;
}

/* ${c} encoded in ${format} and signed with ${purpose}; no rule checked. */
static size_t
raw_commit(const struct cf_commit *c, int format, const char *purpose,
    const uint8_t *sk, uint8_t out[REF_V2_BYTES])
{
	return raw_sign(out, raw_body(c, format, out), purpose, sk);
}

static int
verify_rc(const uint8_t *buf, size_t len, const uint8_t *pk)
{
	struct cf_commit c;
	int r;

	memset(&c, 0x55, sizeof(c));
	r = cf_commit_verify(buf, len, pk, &c);
	if (r != 0)
		CHECK(sodium_is_zero((const uint8_t *)&c, sizeof(c)));
	return r;
}

static void
test_commit_roundtrip(void)
{
	struct cf_commit c, d;
	uint8_t out[CF_COMMIT_BYTES], raw[REF_V2_BYTES], again[CF_COMMIT_BYTES];
	uint8_t msg[16 + REF_V2_SIGNED];

	CHECK(CF_COMMIT_BYTES == REF_V2_BYTES);
	CHECK(CF_COMMIT_V1_BYTES == REF_V1_BYTES);
	sample(&c, 7);
	CHECK(cf_commit_len(&c) == REF_V2_BYTES);
	CHECK_RC(cf_commit_sign(&c, ka->sign_sk, out), 0);
	CHECK(out[4] == 2);
	CHECK(memcmp(c.sig, out + REF_V2_SIGNED, 64) == 0);

	/* The bytes are FORMAT §13's; the signature is over purpose || body. */
	CHECK(raw_commit(&c, 2, REF_PURPOSE, ka->sign_sk, raw) == REF_V2_BYTES);
	CHECK(memcmp(raw, out, REF_V2_BYTES) == 0);
	memcpy(msg, REF_PURPOSE, 16);
	memcpy(msg + 16, out, REF_V2_SIGNED);
	CHECK(crypto_sign_verify_detached(out + REF_V2_SIGNED, msg,
	    sizeof(msg), ka->sign_pk) == 0);

	CHECK_RC(cf_commit_verify(out, sizeof(out), ka->sign_pk, &d), 0);
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	CHECK(d.has_root_meta == 1 && d.root_mode == 0750 &&
	    d.root_mtime_sec == 1600000000 && d.root_mtime_nsec == 123456789);
	CHECK_RC(cf_commit_decode(out, sizeof(out), &d), 0);
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	CHECK_RC(cf_commit_encode(&d, again), 0);
	CHECK(memcmp(again, out, sizeof(out)) == 0);

	/* Version 1, no parent. */
	sample(&c, 1);
	CHECK_RC(cf_commit_sign(&c, ka->sign_sk, out), 0);
	CHECK_RC(cf_commit_verify(out, sizeof(out), ka->sign_pk, &d), 0);
	CHECK(d.version == 1 && sodium_is_zero(d.parent_id, 32));

	/* Extremes: all permission bits, a time before 1970, the last nsec. */
	sample(&c, 4);
	c.root_mode = 07777;
	c.root_mtime_sec = -1;
	c.root_mtime_nsec = 999999999;
	CHECK_RC(cf_commit_sign(&c, ka->sign_sk, out), 0);
	CHECK_RC(cf_commit_verify(out, sizeof(out), ka->sign_pk, &d), 0);
	CHECK(d.root_mode == 07777 && d.root_mtime_sec == -1 &&
	    d.root_mtime_nsec == 999999999);
}

/* Format 1 (no root metadata) is still read, and written on request. */
static void
test_commit_v1(void)
{
	struct cf_commit c, d;
	uint8_t out[CF_COMMIT_BYTES], raw[REF_V2_BYTES], again[CF_COMMIT_BYTES];

	sample(&c, 7);
	c.has_root_meta = 0;
	c.root_mode = 0;
	c.root_mtime_sec = 0;
	c.root_mtime_nsec = 0;
	CHECK(cf_commit_len(&c) == REF_V1_BYTES);
	CHECK_RC(cf_commit_sign(&c, ka->sign_sk, out), 0);
	CHECK(raw_commit(&c, 1, REF_PURPOSE, ka->sign_sk, raw) == REF_V1_BYTES);
	CHECK(memcmp(raw, out, REF_V1_BYTES) == 0);
	CHECK(sodium_is_zero(out + REF_V1_BYTES, sizeof(out) - REF_V1_BYTES));
	memset(&d, 0x55, sizeof(d));
	CHECK_RC(cf_commit_verify(raw, REF_V1_BYTES, ka->sign_pk, &d), 0);
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	CHECK(d.has_root_meta == 0 && d.root_mode == 0 &&
	    d.root_mtime_sec == 0 && d.root_mtime_nsec == 0);
	CHECK_RC(cf_commit_encode(&d, again), 0);
	CHECK(memcmp(again, raw, REF_V1_BYTES) == 0);
	/* Format 1 ignores what the fields would say: it has none. */
	c.root_mode = 0xffffffffU;
	c.root_mtime_nsec = 0xffffffffU;
	CHECK_RC(cf_commit_sign(&c, ka->sign_sk, out), 0);
	CHECK(memcmp(raw, out, REF_V1_BYTES) == 0);
}

/* The known-answer commits of FORMAT §18, one per format, both verify. */
static void
test_commit_vectors(void)
{
	static const char *names[2] = { "commit-signed", "commit-v2-signed" };
	struct cf_commit d;
	uint8_t *pk = NULL, *buf = NULL;
	char *hex;
	size_t pklen = 0, len = 0;
	int i;

	if ((hex = tu_vector("device-sign-pk")) != NULL)
		pk = tu_unhex(hex, &pklen);
	free(hex);
	CHECK(pk != NULL && pklen == 32);
	if (pk == NULL || pklen != 32)
		goto out;
	for (i = 0; i < 2; i++) {
		if ((hex = tu_vector(names[i])) != NULL)
			buf = tu_unhex(hex, &len);
		free(hex);
		CHECK(buf != NULL);
		if (buf == NULL)
			continue;
		CHECK(len == (i == 0 ? REF_V1_BYTES : REF_V2_BYTES));
		CHECK_RC(cf_commit_verify(buf, len, pk, &d), 0);
		CHECK(d.version == 2 && d.time == 1700000000);
		CHECK(d.has_root_meta == i);
		if (i == 1)
			CHECK(d.root_mode == 0750 &&
			    d.root_mtime_sec == 1700000000 &&
			    d.root_mtime_nsec == 123456789);
		free(buf);
		buf = NULL;
	}
out:
	free(pk);
}

static void
test_commit_flip_every_byte(void)
{
	struct cf_commit c;
	uint8_t out[CF_COMMIT_BYTES];
	size_t i, len;
	int bit, f;

	for (f = 1; f <= 2; f++) {
		sample(&c, 3);
		c.has_root_meta = f == 2;
		len = cf_commit_len(&c);
		CHECK_RC(cf_commit_sign(&c, ka->sign_sk, out), 0);
		CHECK_RC(verify_rc(out, len, ka->sign_pk), 0);
		for (i = 0; i < len; i++)
			for (bit = 0; bit < 8; bit += 7) {
				out[i] ^= (uint8_t)(1U << bit);
				CHECK_RC(verify_rc(out, len, ka->sign_pk),
				    NOTAUTH);
				out[i] ^= (uint8_t)(1U << bit);
			}
		CHECK_RC(verify_rc(out, len, ka->sign_pk), 0);
	}
	/*
	 * Each byte of the root metadata is signed: a flip that still
	 * decodes (all but the mode's two high bytes, where it sets a bit
	 * past 07777) fails the signature.
	 */
	sample(&c, 3);
	CHECK_RC(cf_commit_sign(&c, ka->sign_sk, out), 0);
	for (i = REF_V1_SIGNED; i < REF_V2_SIGNED; i++) {
		struct cf_commit d;

		out[i] ^= 0x01;
		CHECK_RC(cf_commit_decode(out, REF_V2_BYTES, &d),
		    i < REF_V1_SIGNED + 2 ? NOTAUTH : 0);
		CHECK_RC(verify_rc(out, REF_V2_BYTES, ka->sign_pk), NOTAUTH);
		out[i] ^= 0x01;
	}
}

static void
test_commit_wrong_key(void)
{
	struct cf_commit c;
	uint8_t out[CF_COMMIT_BYTES];

	/* Signed by B but naming A as author: A's key refuses it. */
	sample(&c, 2);
	CHECK_RC(cf_commit_sign(&c, kb->sign_sk, out), 0);
	CHECK_RC(verify_rc(out, sizeof(out), ka->sign_pk), NOTAUTH);
	CHECK_RC(verify_rc(out, sizeof(out), kb->sign_pk), 0);

	/* Another purpose, or none, is another message. */
	raw_commit(&c, 2, "coffer-entry-v1", ka->sign_sk, out);
	CHECK_RC(verify_rc(out, sizeof(out), ka->sign_pk), NOTAUTH);
	raw_commit(&c, 2, "", ka->sign_sk, out);
	CHECK_RC(verify_rc(out, sizeof(out), ka->sign_pk), NOTAUTH);
	raw_commit(&c, 2, REF_PURPOSE, ka->sign_sk, out);
	CHECK_RC(verify_rc(out, sizeof(out), ka->sign_pk), 0);
}

/*
 * One format's signature never verifies the other: format 1 bytes with
 * the signature of the same commit in format 2, and the reverse.
 */
static void
test_commit_cross_format(void)
{
	struct cf_commit c;
	uint8_t v1[REF_V2_BYTES], v2[REF_V2_BYTES];

	sample(&c, 6);
	raw_commit(&c, 1, REF_PURPOSE, ka->sign_sk, v1);
	raw_commit(&c, 2, REF_PURPOSE, ka->sign_sk, v2);
	CHECK_RC(verify_rc(v1, REF_V1_BYTES, ka->sign_pk), 0);
	CHECK_RC(verify_rc(v2, REF_V2_BYTES, ka->sign_pk), 0);
	memcpy(v1 + REF_V1_SIGNED, v2 + REF_V2_SIGNED, 64);
	CHECK_RC(verify_rc(v1, REF_V1_BYTES, ka->sign_pk), NOTAUTH);
	raw_commit(&c, 1, REF_PURPOSE, ka->sign_sk, v1);
	memcpy(v2 + REF_V2_SIGNED, v1 + REF_V1_SIGNED, 64);
	CHECK_RC(verify_rc(v2, REF_V2_BYTES, ka->sign_pk), NOTAUTH);
}

static void
test_commit_lineage(void)
{
	struct cf_commit c, d;
	uint8_t out[CF_COMMIT_BYTES];

	/* Each validly signed: only the version rule refuses. */
#define LINEAGE(ver, parent_byte, want) do {				\
	sample(&c, (ver));						\
	memset(c.parent_id, (parent_byte), 32);				\
	raw_commit(&c, 2, REF_PURPOSE, ka->sign_sk, out);		\
	CHECK_RC(verify_rc(out, sizeof(out), ka->sign_pk), (want));	\
	memset(&d, 0x55, sizeof(d));					\
	CHECK_RC(cf_commit_decode(out, sizeof(out), &d), (want));	\
	CHECK((want) == 0 || sodium_is_zero((const uint8_t *)&d,	\
	    sizeof(d)));						\
	CHECK_RC(cf_commit_sign(&c, ka->sign_sk, out),			\
	    (want) ? EINV : 0);						\
	CHECK_RC(cf_commit_encode(&c, out), (want) ? EINV : 0);	\
} while (0)
	LINEAGE(0, 0, NOTAUTH);
	LINEAGE(0, 1, NOTAUTH);
	LINEAGE(1, 0, 0);
	LINEAGE(1, 1, NOTAUTH);
	LINEAGE(2, 0, NOTAUTH);
	LINEAGE(2, 1, 0);
	LINEAGE(UINT64_MAX, 0, NOTAUTH);
	LINEAGE(UINT64_MAX, 0x9a, 0);
#undef LINEAGE
	/* One non-zero byte is a parent. */
	sample(&c, 1);
	c.parent_id[31] = 1;
	raw_commit(&c, 2, REF_PURPOSE, ka->sign_sk, out);
	CHECK_RC(verify_rc(out, sizeof(out), ka->sign_pk), NOTAUTH);
}

/* The root metadata follows a tree entry's rules (FORMAT §12). */
static void
test_commit_root_meta_rules(void)
{
	struct cf_commit c, d;
	uint8_t out[CF_COMMIT_BYTES];

	/* Each validly signed: only the metadata rule refuses. */
#define META(mode, nsec, want) do {					\
	sample(&c, 5);							\
	c.root_mode = (mode);						\
	c.root_mtime_nsec = (nsec);					\
	raw_commit(&c, 2, REF_PURPOSE, ka->sign_sk, out);		\
	CHECK_RC(verify_rc(out, sizeof(out), ka->sign_pk), (want));	\
	memset(&d, 0x55, sizeof(d));					\
	CHECK_RC(cf_commit_decode(out, sizeof(out), &d), (want));	\
	CHECK((want) == 0 || sodium_is_zero((const uint8_t *)&d,	\
	    sizeof(d)));						\
	CHECK_RC(cf_commit_sign(&c, ka->sign_sk, out),			\
	    (want) ? EINV : 0);						\
	CHECK((want) == 0 || sodium_is_zero(out, sizeof(out)));		\
	CHECK_RC(cf_commit_encode(&c, out), (want) ? EINV : 0);	\
} while (0)
	META(0, 0, 0);
	META(07777, 999999999U, 0);
	META(010000, 0, NOTAUTH);		/* a file-type bit */
	META(040755, 0, NOTAUTH);		/* S_IFDIR | 0755 */
	META(0x80000000U, 0, NOTAUTH);
	META(0755, 1000000000U, NOTAUTH);
	META(0755, 0xffffffffU, NOTAUTH);
#undef META
}

static void
test_commit_structure(void)
{
	struct cf_commit c, d;
	uint8_t out[CF_COMMIT_BYTES + 1];
	size_t i, len;
	int f;

	/* A trailing byte, or any truncation, of either format. */
	for (f = 1; f <= 2; f++) {
		sample(&c, 5);
		c.has_root_meta = f == 2;
		len = cf_commit_len(&c);
		CHECK_RC(cf_commit_sign(&c, ka->sign_sk, out), 0);
		out[len] = 0;
		CHECK_RC(verify_rc(out, len + 1, ka->sign_pk), NOTAUTH);
		CHECK_RC(cf_commit_decode(out, len + 1, &d), NOTAUTH);
		for (i = 0; i < len; i++)
			CHECK_RC(cf_commit_decode(out, i, &d), NOTAUTH);
		CHECK_RC(verify_rc(out, len, ka->sign_pk), 0);
	}
	CHECK_RC(cf_commit_decode(NULL, 0, &d), NOTAUTH);
	/* Tag and format, re-signed so that only they are wrong. */
	sample(&c, 5);
	len = raw_body(&c, 2, out);
	out[3] = 'X';
	raw_sign(out, len, REF_PURPOSE, ka->sign_sk);
	CHECK_RC(verify_rc(out, REF_V2_BYTES, ka->sign_pk), NOTAUTH);
	/* Formats 0 and 3 at either length; each format at the other's. */
	for (f = 0; f <= 3; f++) {
		raw_body(&c, 1, out);
		out[4] = (uint8_t)f;
		raw_sign(out, REF_V1_SIGNED, REF_PURPOSE, ka->sign_sk);
		CHECK_RC(verify_rc(out, REF_V1_BYTES, ka->sign_pk),
		    f == 1 ? 0 : NOTAUTH);
		raw_body(&c, 2, out);
		out[4] = (uint8_t)f;
		raw_sign(out, REF_V2_SIGNED, REF_PURPOSE, ka->sign_sk);
		CHECK_RC(verify_rc(out, REF_V2_BYTES, ka->sign_pk),
		    f == 2 ? 0 : NOTAUTH);
	}
}

/* ---- Deltas ---- */

/* An id set from the given one-byte tags: id = tag repeated, sorted as given. */
static void
ids(struct cf_idset *s, const uint8_t *tags, size_t n)
{
	size_t i;

	s->n = n;
	if ((s->ids = malloc(n * 32 + 1)) == NULL)
		abort();
	for (i = 0; i < n; i++)
		memset(s->ids + i * 32, tags[i], 32);
}

static int
set_is(const struct cf_idset *s, const uint8_t *tags, size_t n)
{
	size_t i, j;

	if (s->n != n)
		return 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < 32; j++)
			if (s->ids[i * 32 + j] != tags[i])
				return 0;
	return 1;
}

static uint8_t *
raw_delta(const struct cf_idset *start, const struct cf_idset *stop,
    size_t trail, size_t *lenp)
{
	struct cf_wr w;
	uint8_t *p;
	size_t i;

	cf_wr_init(&w, SIZE_MAX, 0);
	cf_wr_bytes(&w, "CFRD", 4);
	cf_wr_u8(&w, 1);
	cf_wr_u32(&w, (uint32_t)start->n);
	cf_wr_bytes(&w, start->ids, start->n * 32);
	cf_wr_u32(&w, (uint32_t)stop->n);
	cf_wr_bytes(&w, stop->ids, stop->n * 32);
	for (i = 0; i < trail; i++)
		cf_wr_u8(&w, 0);
	if (cf_wr_finish(&w, &p, lenp) != 0)
		abort();
	return p;
}

static int
delta_rc(const uint8_t *p, size_t len)
{
	struct cf_delta *d = (struct cf_delta *)1;
	int r = cf_delta_decode(p, len, &d);

	if (r != 0)
		CHECK(d == NULL);
	cf_delta_free(d);
	return r;
}

static void
ref_hash(const uint8_t *p, size_t len, uint8_t out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"coffer-delta-v1", 15);
	crypto_generichash_update(&st, p, len);
	crypto_generichash_final(&st, out, 32);
}

static void
test_delta_hand(void)
{
	static const uint8_t par[] = { 1, 2, 3, 5 }, chi[] = { 2, 3, 4, 6 };
	static const uint8_t start[] = { 4, 6 }, stop[] = { 1, 5 };
	struct cf_idset p = { NULL, 0 }, c = { NULL, 0 }, e = { NULL, 0 };
	struct cf_delta *d = NULL;

	ids(&p, par, 4);
	ids(&c, chi, 4);
	CHECK_RC(cf_delta_compute(&p, &c, &d), 0);
	CHECK(d != NULL && set_is(&d->start, start, 2) &&
	    set_is(&d->stop, stop, 2));
	cf_delta_free(d);

	/* Version 1: the parent's set is empty; everything starts. */
	CHECK_RC(cf_delta_compute(&e, &c, &d), 0);
	CHECK(d != NULL && set_is(&d->start, chi, 4) && d->stop.n == 0);
	cf_delta_free(d);
	/* Everything stops; nothing changes. */
	CHECK_RC(cf_delta_compute(&p, &e, &d), 0);
	CHECK(d != NULL && d->start.n == 0 && set_is(&d->stop, par, 4));
	cf_delta_free(d);
	CHECK_RC(cf_delta_compute(&p, &p, &d), 0);
	CHECK(d != NULL && d->start.n == 0 && d->stop.n == 0);
	cf_delta_free(d);
	CHECK_RC(cf_delta_compute(&e, &e, &d), 0);
	CHECK(d != NULL && d->start.n == 0 && d->stop.n == 0);
	cf_delta_free(d);

	/* Unsorted or duplicate input is the caller's mistake. */
	{
		static const uint8_t uns[] = { 1, 3, 2 }, dup[] = { 1, 2, 2 };
		struct cf_idset u = { NULL, 0 };

		ids(&u, uns, 3);
		d = (struct cf_delta *)1;
		CHECK_RC(cf_delta_compute(&u, &c, &d), EINV);
		CHECK(d == NULL);
		CHECK_RC(cf_delta_compute(&p, &u, &d), EINV);
		cf_delta_idset_clear(&u);
		ids(&u, dup, 3);
		CHECK_RC(cf_delta_compute(&u, &c, &d), EINV);
		CHECK_RC(cf_delta_compute(&c, &u, &d), EINV);
		cf_delta_idset_clear(&u);
	}
	cf_delta_idset_clear(&p);
	cf_delta_idset_clear(&c);
}

/* Two big sets: multiples of 3 and of 5 (big-endian in the first 8 bytes). */
static void
test_delta_large(void)
{
	enum { N = 60000 };
	struct cf_idset p = { NULL, 0 }, c = { NULL, 0 };
	struct cf_delta *d = NULL;
	size_t i, common = 0;

	if ((p.ids = calloc(N, 32)) == NULL || (c.ids = calloc(N, 32)) == NULL)
		abort();
	p.n = c.n = N;
	for (i = 0; i < N; i++) {
		cf_be64enc(p.ids + i * 32, (uint64_t)i * 3);
		cf_be64enc(c.ids + i * 32, (uint64_t)i * 5);
	}
	for (i = 0; i < N * 3; i += 15)
		common++;
	CHECK_RC(cf_delta_compute(&p, &c, &d), 0);
	CHECK(d != NULL && d->start.n == N - common && d->stop.n == N - common);
	for (i = 0; d != NULL && i < d->start.n; i++)
		CHECK(cf_be64dec(d->start.ids + i * 32) % 5 == 0 &&
		    (cf_be64dec(d->start.ids + i * 32) % 3 != 0 ||
		    cf_be64dec(d->start.ids + i * 32) >= (uint64_t)N * 3));
	CHECK(d == NULL || (cf_delta_idset_sorted(&d->start) &&
	    cf_delta_idset_sorted(&d->stop)));
	cf_delta_free(d);
	cf_delta_idset_clear(&p);
	cf_delta_idset_clear(&c);
}

static void
test_delta_codec(void)
{
	static const uint8_t a[] = { 1, 4, 9 }, b[] = { 2, 3 };
	struct cf_idset s1 = { NULL, 0 }, s2 = { NULL, 0 };
	struct cf_delta d, *dd = NULL;
	uint8_t *p = NULL, *q, h1[32], h2[32];
	size_t len = 0, qlen, i;

	ids(&s1, a, 3);
	ids(&s2, b, 2);
	d.start = s1;
	d.stop = s2;
	CHECK_RC(cf_delta_encode(&d, &p, &len), 0);
	q = raw_delta(&s1, &s2, 0, &qlen);
	CHECK(len == qlen && len == 4 + 1 + 4 + 96 + 4 + 64 &&
	    memcmp(p, q, len) == 0);
	free(q);
	CHECK_RC(cf_delta_decode(p, len, &dd), 0);
	CHECK(dd != NULL && set_is(&dd->start, a, 3) && set_is(&dd->stop, b, 2));
	cf_delta_free(dd);

	/* The hash is H("coffer-delta-v1" || delta). */
	cf_delta_hash(p, len, h1);
	ref_hash(p, len, h2);
	CHECK(memcmp(h1, h2, 32) == 0);

	/* Every proper prefix, a trailing byte, the tag, the version. */
	for (i = 0; i < len; i++)
		CHECK_RC(delta_rc(p, i), NOTAUTH);
	q = raw_delta(&s1, &s2, 1, &qlen);
	CHECK_RC(delta_rc(q, qlen), NOTAUTH);
	free(q);
	p[0] ^= 1;
	CHECK_RC(delta_rc(p, len), NOTAUTH);
	p[0] ^= 1;
	p[4] = 2;
	CHECK_RC(delta_rc(p, len), NOTAUTH);
	p[4] = 1;
	/* Counts beyond the input, or beyond the cap. */
	cf_be32enc(p + 5, 0xffffffffU);
	CHECK_RC(delta_rc(p, len), NOTAUTH);
	cf_be32enc(p + 5, CF_DELTA_IDS_MAX + 1);
	CHECK_RC(delta_rc(p, len), NOTAUTH);
	cf_be32enc(p + 5, 4);
	CHECK_RC(delta_rc(p, len), NOTAUTH);
	cf_be32enc(p + 5, 3);
	CHECK_RC(delta_rc(p, len), 0);
	free(p);

	/* An empty delta. */
	s1.n = s2.n = 0;
	d.start = s1;
	d.stop = s2;
	CHECK_RC(cf_delta_encode(&d, &p, &len), 0);
	CHECK(len == 13);
	CHECK_RC(delta_rc(p, len), 0);
	free(p);
	cf_delta_idset_clear(&s1);
	cf_delta_idset_clear(&s2);
}

static void
test_delta_refusals(void)
{
	struct cf_idset s1 = { NULL, 0 }, s2 = { NULL, 0 };
	struct cf_delta d;
	uint8_t *p;
	size_t len;

	/* Each case: decoder refuses, encoder will not write it. */
#define DELTA_CASE(st, nst, sp, nsp, want) do {				\
	ids(&s1, (const uint8_t *)(st), (nst));				\
	ids(&s2, (const uint8_t *)(sp), (nsp));				\
	p = raw_delta(&s1, &s2, 0, &len);				\
	CHECK_RC(delta_rc(p, len), (want));				\
	free(p);							\
	d.start = s1;							\
	d.stop = s2;							\
	CHECK_RC(cf_delta_encode(&d, &p, &len), (want) ? EINV : 0);	\
	free(p);							\
	cf_delta_idset_clear(&s1);						\
	cf_delta_idset_clear(&s2);						\
} while (0)
	DELTA_CASE("\1\2\3", 3, "\4\5", 2, 0);
	DELTA_CASE("\1\3\2", 3, "\4\5", 2, NOTAUTH);	/* unsorted start */
	DELTA_CASE("\1\2\3", 3, "\5\4", 2, NOTAUTH);	/* unsorted stop */
	DELTA_CASE("\1\2\2", 3, "\4\5", 2, NOTAUTH);	/* duplicate */
	DELTA_CASE("\1\2\3", 3, "\5\5", 2, NOTAUTH);
	DELTA_CASE("\1\2\3", 3, "\2\5", 2, NOTAUTH);	/* in both */
	DELTA_CASE("\1\2\5", 3, "\4\5", 2, NOTAUTH);
	DELTA_CASE("", 0, "\4\5", 2, 0);
	DELTA_CASE("\1", 1, "", 0, 0);
#undef DELTA_CASE
	/* Two ids differing only in their last byte, out of order. */
	ids(&s1, (const uint8_t *)"\7\7", 2);
	s1.ids[31] = 8;
	ids(&s2, (const uint8_t *)"", 0);
	p = raw_delta(&s1, &s2, 0, &len);
	CHECK_RC(delta_rc(p, len), NOTAUTH);
	free(p);
	s1.ids[31] = 6;
	p = raw_delta(&s1, &s2, 0, &len);
	CHECK_RC(delta_rc(p, len), 0);
	free(p);
	cf_delta_idset_clear(&s1);
	cf_delta_idset_clear(&s2);
}

static void
test_delta_hash_changes(void)
{
	static const uint8_t a[] = { 0x10, 0x20, 0x30 }, b[] = { 0x40, 0x50 };
	struct cf_idset s1 = { NULL, 0 }, s2 = { NULL, 0 };
	struct cf_delta d;
	uint8_t *p, *q, h0[32], h[32];
	size_t len, qlen, i, k;

	ids(&s1, a, 3);
	ids(&s2, b, 2);
	d.start = s1;
	d.stop = s2;
	CHECK_RC(cf_delta_encode(&d, &p, &len), 0);
	cf_delta_hash(p, len, h0);

	/* Any byte of any id changed (order kept: +1 on 0x10..0x50). */
	for (k = 0; k < 5; k++)
		for (i = 0; i < 32; i++) {
			uint8_t *id = (k < 3) ? s1.ids + k * 32 :
			    s2.ids + (k - 3) * 32;

			id[i]++;
			CHECK_RC(cf_delta_encode(&d, &q, &qlen), 0);
			cf_delta_hash(q, qlen, h);
			CHECK(memcmp(h, h0, 32) != 0);
			free(q);
			id[i]--;
		}
	/* An id dropped changes it too. */
	d.start.n = 2;
	CHECK_RC(cf_delta_encode(&d, &q, &qlen), 0);
	cf_delta_hash(q, qlen, h);
	CHECK(memcmp(h, h0, 32) != 0);
	free(q);
	d.start.n = 3;
	/* Every byte of the encoding matters. */
	for (i = 0; i < len; i++) {
		p[i] ^= 1;
		cf_delta_hash(p, len, h);
		CHECK(memcmp(h, h0, 32) != 0);
		p[i] ^= 1;
	}
	free(p);
	cf_delta_idset_clear(&s1);
	cf_delta_idset_clear(&s2);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	if (cf_keys_generate(&ka) != 0 || cf_keys_generate(&kb) != 0)
		return 1;
	T_RUN(test_commit_roundtrip);
	T_RUN(test_commit_v1);
	T_RUN(test_commit_vectors);
	T_RUN(test_commit_flip_every_byte);
	T_RUN(test_commit_wrong_key);
	T_RUN(test_commit_cross_format);
	T_RUN(test_commit_lineage);
	T_RUN(test_commit_root_meta_rules);
	T_RUN(test_commit_structure);
	T_RUN(test_delta_hand);
	T_RUN(test_delta_large);
	T_RUN(test_delta_codec);
	T_RUN(test_delta_refusals);
	T_RUN(test_delta_hash_changes);
	cf_keys_free(ka);
	cf_keys_free(kb);
	T_DONE("commit");
}
