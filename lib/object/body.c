/*
 * Object bodies: Padmé padding and zstd, decoded without trusting
 * anything (docs/FORMAT.md §7).
 *
 *     body = u8 comp || u32 plain_len || u32 payload_len || payload || zero[pad]
 *     len(body) = padme(9 + payload_len)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#define ZSTD_STATIC_LINKING_ONLY	/* ZSTD_getFrameHeader, ZSTD_frameHeader */
#include <zstd.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "object.h"
#include "object_internal.h"

/* Bytes of the zstd magic number at the start of every frame. */
#define ZSTD_MAGIC_BYTES	4
/* Largest window a frame may declare (FORMAT §7). */
#define ZSTD_WINDOW_MAX		(1ULL << CF_ZSTD_WINDOWLOG_MAX)

/* floor(log2(x)) for x > 0. */
static unsigned
ilog2(size_t x)
{
	unsigned r = 0;

	while (x >>= 1)
		r++;
	return r;
}

size_t
cf_padme(size_t len)
{
	unsigned e, s;
	size_t m;

	if (len <= CF_OBJ_PAD_MIN)
		return CF_OBJ_PAD_MIN;
	e = ilog2(len);			/* >= 10 here */
	s = ilog2(e) + 1;		/* <= e */
	m = ((size_t)1 << (e - s)) - 1;
	if (len > SIZE_MAX - m)
		return 0;
	return (len + m) & ~m;
}

static uint32_t
le32dec(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/*
 * The compressibility probe: windows of PROBE_WINDOW bytes spread evenly
 * over the chunk, at most PROBE_WINDOWS of them.  A window is "flat" when
 * its byte histogram has a collision entropy (Renyi order 2, a lower bound
 * on the Shannon entropy) of at least 7.5 bits a byte:
 *
 *     -log2(sum p_i^2) >= 7.5  <=>  PROBE_FLAT * sum c_i^2 <= n^2
 *
 * with PROBE_FLAT = 181 ~ 2^7.5.  Random bytes give ~8 bits; text 4-5;
 * bytes with 4 random bits 4; half random, half 4-bit ~5.8.
 */
#define PROBE_WINDOW	4096
#define PROBE_WINDOWS	8
#define PROBE_FLAT	181
#define PROBE_MIN	PROBE_WINDOW	/* shorter chunks: always try */

static int
window_flat(const uint8_t *p, size_t n)
{
	uint32_t c[256];
	uint64_t sq = 0;
	size_t i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < n; i++)
		c[p[i]]++;
	for (i = 0; i < 256; i++)
		sq += (uint64_t)c[i] * c[i];
	return (uint64_t)PROBE_FLAT * sq <= (uint64_t)n * n;
}

int
cf_object_incompressible(const uint8_t *p, size_t len)
{
	size_t k, nw, step;

	if (len < PROBE_MIN)
		return 0;
	nw = len / PROBE_WINDOW;
	if (nw > PROBE_WINDOWS)
		nw = PROBE_WINDOWS;
	/* Windows at 0, step, 2 step, ...: the last one ends at most at len. */
	step = nw > 1 ? (len - PROBE_WINDOW) / (nw - 1) : 0;
	for (k = 0; k < nw; k++)
		if (!window_flat(p + k * step, PROBE_WINDOW))
			return 0;
	return 1;
}

int
cf_object_zstd_frame_ok(const uint8_t *p, size_t n, size_t plain_len)
{
	ZSTD_frameHeader zfh;
	unsigned long long fcs;
	size_t fsize;

	/* The current frame format only: no legacy or skippable frames. */
	if (n < ZSTD_MAGIC_BYTES || le32dec(p) != ZSTD_MAGICNUMBER)
		return 0;
	/* A complete, valid header (0); not "need more bytes" nor an error. */
	if (ZSTD_getFrameHeader(&zfh, p, n) != 0)
		return 0;
	if (zfh.frameType != ZSTD_frame || zfh.dictID != 0)
		return 0;
	/* The declared content size must be present and exact. */
	fcs = ZSTD_getFrameContentSize(p, n);
	if (fcs == ZSTD_CONTENTSIZE_UNKNOWN || fcs == ZSTD_CONTENTSIZE_ERROR ||
	    fcs != (unsigned long long)plain_len ||
	    zfh.frameContentSize != fcs)
		return 0;
	if (zfh.windowSize > ZSTD_WINDOW_MAX)
		return 0;
	/* Exactly one frame spanning the payload: nothing before or after. */
	fsize = ZSTD_findFrameCompressedSize(p, n);
	if (ZSTD_isError(fsize) || fsize != n)
		return 0;
	return 1;
}

int
cf_object_body_parse(const uint8_t *body, size_t len, uint8_t type,
    struct cf_objbody *b)
{
	struct cf_rd r;
	const uint8_t *payload, *pad;
	size_t padlen = 0;
	uint32_t plain_len, payload_len;
	uint8_t comp;
	int rc;

	memset(b, 0, sizeof(*b));
	if (!cf_object_type_ok(type)) {
		rc = COFFER_EINVAL;
		goto out;
	}
	cf_rd_init(&r, body, len, COFFER_ENOTAUTHENTIC);
	comp = cf_rd_u8(&r);
	plain_len = cf_rd_u32(&r);
	payload_len = cf_rd_u32(&r);
	if (plain_len > CF_OBJ_PLAIN_MAX)
		cf_rd_fail(&r);
	switch (comp) {
	case CF_OBJ_COMP_NONE:
		if (payload_len != plain_len)
			cf_rd_fail(&r);
		break;
	case CF_OBJ_COMP_ZSTD:
		/* Only chunks are compressed, and only if that shrinks them. */
		if (type != CF_OBJ_CHUNK || payload_len >= plain_len)
			cf_rd_fail(&r);
		break;
	default:
		cf_rd_fail(&r);
		break;
	}
	if (r.err) {
		rc = r.err;
		goto out;
	}
	/* payload_len <= plain_len <= CF_OBJ_PLAIN_MAX: no overflow below. */
	payload = cf_rd_bytes(&r, payload_len);
	padlen = cf_padme(CF_OBJ_BODY_HDR_BYTES + (size_t)payload_len) -
	    (CF_OBJ_BODY_HDR_BYTES + (size_t)payload_len);
	pad = cf_rd_bytes(&r, padlen);
	if ((rc = cf_rd_end(&r)) != 0)
		goto out;
	if (padlen > 0 && !sodium_is_zero(pad, padlen)) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if (comp == CF_OBJ_COMP_ZSTD &&
	    !cf_object_zstd_frame_ok(payload, payload_len, plain_len)) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	b->comp = comp;
	b->plain_len = plain_len;
	b->payload_len = payload_len;
	b->payload = payload;
	rc = 0;
out:
	return rc;
}

int
cf_object_body_inflate(const struct cf_objbody *b, uint8_t *out)
{
	ZSTD_DCtx *dctx = NULL;
	size_t n;
	int rc;

	if ((dctx = ZSTD_createDCtx()) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	/*
	 * The frame header was checked already; the cap on the context is a
	 * second line should zstd ever allocate a window in one-shot mode.
	 */
	if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax,
	    CF_ZSTD_WINDOWLOG_MAX))) {
		rc = COFFER_EINTERNAL;
		goto out;
	}
	n = ZSTD_decompressDCtx(dctx, out, b->plain_len, b->payload,
	    b->payload_len);
	if (ZSTD_isError(n) || n != b->plain_len) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	rc = 0;
out:
	ZSTD_freeDCtx(dctx);
	return rc;
}

int
cf_object_decode_body(const uint8_t *body, size_t len, uint8_t type,
    uint8_t **plainp, size_t *lenp)
{
	struct cf_objbody b;
	uint8_t *plain = NULL;
	size_t alloc = 0;
	int rc;

	*plainp = NULL;
	*lenp = 0;
	if ((rc = cf_object_body_parse(body, len, type, &b)) != 0)
		goto out;
	/* Never malloc(0): an empty object is still a valid buffer. */
	alloc = (b.plain_len > 0) ? b.plain_len : 1;
	if ((plain = malloc(alloc)) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if (b.comp == CF_OBJ_COMP_NONE) {
		if (b.plain_len > 0)
			memcpy(plain, b.payload, b.plain_len);
	} else if ((rc = cf_object_body_inflate(&b, plain)) != 0) {
		goto out;
	}
	*plainp = plain;
	*lenp = b.plain_len;
	plain = NULL;
	rc = 0;
out:
	cf_wipefree(plain, alloc);
	return rc;
}
