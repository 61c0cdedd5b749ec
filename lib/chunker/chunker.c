/*
 * Content-defined chunking, exactly as docs/FORMAT.md §9.
 *
 * The gear state h after byte i is sum over k < 64 of G[b[i-k]] << k, so
 * it depends on the last 64 bytes only: hashing starts 64 bytes before
 * the first position that may be cut, and the bytes before that are
 * never read.  A position is a candidate when h passes the prefilter
 * (2^-13); a candidate is a cut when SipHash of h under the cut key passes
 * (2^-6).  The inner loop does one table load, a shift, an add and a
 * compare per byte; SipHash is called once per ~8 KiB on random data.
 */
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "chunker_internal.h"

#define GEAR_KEY_BYTES	32
#define GEAR_BYTES	(CF_CHUNKER_GEAR_N * 8)
/* (h >> 51) == 0 iff h < 2^51. */
#define PRE_LIMIT	((uint64_t)1 << CF_CHUNKER_PRE_SHIFT)

/* Both fields are secret: the struct lives in sodium_malloc memory. */
struct cf_chunker {
	uint64_t gear[CF_CHUNKER_GEAR_N];
	uint8_t cut_key[CF_CHUNKER_CUT_KEY_BYTES];
};

_Static_assert(CF_CHUNK_MIN >= CF_CHUNKER_WINDOW && CF_CHUNK_MAX > CF_CHUNK_MIN,
    "the cut rule needs 64 <= MIN < MAX");

#if defined(__GNUC__)
#define UNLIKELY(x)	__builtin_expect(!!(x), 0)
#define COLD		__attribute__((noinline, cold))
#else
#define UNLIKELY(x)	(x)
#define COLD
#endif

int
cf_chunker_new(const uint8_t chunker_key[static CF_KEY_BYTES],
    struct cf_chunker **cp)
{
	struct cf_chunker *c = NULL;
	uint8_t gear_key[GEAR_KEY_BYTES];
	uint8_t cut_full[crypto_generichash_BYTES];
	uint8_t g[GEAR_BYTES];
	static const uint8_t zero_nonce[crypto_stream_xchacha20_NONCEBYTES];
	size_t i;
	int r;

	*cp = NULL;
	if ((c = sodium_malloc(sizeof(*c))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}

	/* gear_key = H_Kc("coffer-gear-v1"); G = XChaCha20(gear_key, 0). */
	crypto_generichash(gear_key, sizeof(gear_key),
	    (const uint8_t *)CF_LABEL_GEAR,
	    sizeof(CF_LABEL_GEAR) - 1, chunker_key, CF_KEY_BYTES);
	crypto_stream_xchacha20(g, sizeof(g), zero_nonce, gear_key);
	for (i = 0; i < CF_CHUNKER_GEAR_N; i++)
		c->gear[i] = cf_be64dec(&g[8 * i]);

	/* cut_key = first 16 bytes of H_Kc("coffer-cut-v1"). */
	crypto_generichash(cut_full, sizeof(cut_full),
	    (const uint8_t *)CF_LABEL_CUT,
	    sizeof(CF_LABEL_CUT) - 1, chunker_key, CF_KEY_BYTES);
	memcpy(c->cut_key, cut_full, sizeof(c->cut_key));

	*cp = c;
	c = NULL;
	r = 0;
out:
	sodium_memzero(gear_key, sizeof(gear_key));
	sodium_memzero(cut_full, sizeof(cut_full));
	sodium_memzero(g, sizeof(g));
	cf_chunker_free(c);
	return r;
}

void
cf_chunker_free(struct cf_chunker *c)
{
	/* sodium_free zeroes the region before releasing it. */
	if (c != NULL)
		sodium_free(c);
}

/* The PRF half of the rule: (u64be(SipHash(u64be(h))) >> 58) == 0. */
static COLD int
prf_cut(const uint8_t cut_key[static CF_CHUNKER_CUT_KEY_BYTES], uint64_t h)
{
	uint8_t in[8], out[crypto_shorthash_BYTES];

	cf_be64enc(in, h);
	crypto_shorthash(out, in, sizeof(in), cut_key);
	return (cf_be64dec(out) >> CF_CHUNKER_PRF_SHIFT) == 0;
}

size_t
cf_chunker_cut(const struct cf_chunker *c, const uint8_t *buf, size_t len,
    int eof)
{
	const uint64_t *g = c->gear;
	const uint8_t *p, *end, *last;
	uint64_t h = 0;

	/* Nothing is cut below the minimum. */
	if (len < CF_CHUNK_MIN)
		return eof ? len : 0;

	/* Warm up over the 63 bytes before the first candidate (n = MIN). */
	p = buf + (CF_CHUNK_MIN - CF_CHUNKER_WINDOW);
	end = buf + (CF_CHUNK_MIN - 1);
	while (p < end)
		h = (h << 1) + g[*p++];

	/* Candidates n = MIN .. min(len, MAX); after each step n = p - buf. */
	last = buf + (len < CF_CHUNK_MAX ? len : CF_CHUNK_MAX);
	while (p < last) {
		h = (h << 1) + g[*p++];
		if (UNLIKELY(h < PRE_LIMIT) && prf_cut(c->cut_key, h))
			return (size_t)(p - buf);
	}

	if (len >= CF_CHUNK_MAX)
		return CF_CHUNK_MAX;
	return eof ? len : 0;
}

uint64_t
cf_chunker_gear(const struct cf_chunker *c, unsigned i)
{
	return c->gear[i & (CF_CHUNKER_GEAR_N - 1)];
}

const uint8_t *
cf_chunker_cut_key(const struct cf_chunker *c)
{
	return c->cut_key;
}
