/*
 * Sealed objects (docs/FORMAT.md §6-§8): padding, ids, seal/open round
 * trips, and every refusal open() and the body decoder must make.
 *
 * Adversarial blobs are built here with the real primitives, straight
 * from FORMAT §6 (forge()), independently of lib/object; a positive
 * control next to each forgery shows the forgery is otherwise valid, so
 * a refusal is caused by the one thing changed.
 *
 *   test_object                     run the tests
 *   test_object --write-seeds DIR   write fuzz seeds to DIR/fuzz_object_*
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>
#include <zstd.h>

#include "coffer/coffer.h"
#include "coffer/err.h"
#include "crypto/kdf.h"
#include "object/object.h"
#include "object/object_internal.h"
#include "util/buf.h"

#include "t.h"
#include "util.h"

#define HDR	CF_OBJ_HDR_BYTES	/* 93 */
#define MAC	CF_OBJ_MAC_BYTES	/* 16 */
#define BHDR	CF_OBJ_BODY_HDR_BYTES	/* 9 */
#define AD_LEN	131
#define MIB	(1U << 20)

static struct cf_objkey KA, KB;		/* two unrelated keys */
static uint8_t DRIVE1[CF_ID_BYTES], DRIVE2[CF_ID_BYTES];
static uint8_t sentinel;		/* open() must clear a stale pointer */

/* ---------------------------------------------------------------- helpers */

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

static void
mkkey(struct cf_objkey *k, uint64_t seed)
{
	tu_fill(k->enc_key, CF_KEY_BYTES, seed);
	tu_fill(k->id_key, CF_KEY_BYTES, seed + 1000);
	cf_key_id(k->enc_key, k->key_id);
}

/* Repetitive text from a seeded xorshift: zstd shrinks it a lot. */
static void
fill_text(uint8_t *p, size_t n, uint64_t seed)
{
	static const char *const words[] = { "coffer ", "stores ", "only ",
	    "ciphertext ", "and ", "keys ", "live ", "on ", "devices. " };
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	size_t i = 0, w, l;

	while (i < n) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w = (size_t)(x % (sizeof(words) / sizeof(words[0])));
		l = strlen(words[w]);
		if (l > n - i)
			l = n - i;
		memcpy(p + i, words[w], l);
		i += l;
	}
}

enum lk_mode { LK_MATCH, LK_ANY, LK_REFUSE, LK_EIO, LK_POSITIVE, LK_EMPTY };

/* What the test lookup hands out, and how. */
struct lk {
	struct cf_objkey key;
	enum lk_mode mode;
	int calls;
	uint8_t type;
	uint8_t key_id[CF_ID_BYTES];
};

static int
lookup(void *ctx, uint8_t type, const uint8_t key_id[static CF_ID_BYTES],
    struct cf_objkey *out)
{
	struct lk *l = ctx;

	l->calls++;
	l->type = type;
	memcpy(l->key_id, key_id, CF_ID_BYTES);
	switch (l->mode) {
	case LK_MATCH:
		if (memcmp(key_id, l->key.key_id, CF_ID_BYTES) != 0)
			return COFFER_ENOTAUTHENTIC;
		break;
	case LK_ANY:
		break;
	case LK_REFUSE:
		return COFFER_ENOTAUTHENTIC;
	case LK_EIO:
		return COFFER_EIO;
	case LK_POSITIVE:
		/*
		 * A "no" that is not negative: the right key is even filled
		 * in, so only the return code can refuse the object.
		 */
		*out = l->key;
		return 1;
	case LK_EMPTY:
		return 0;	/* says yes, fills nothing */
	}
	*out = l->key;
	return 0;
}

static void
lk_init(struct lk *l, const struct cf_objkey *k, enum lk_mode mode)
{
	memset(l, 0, sizeof(*l));
	l->key = *k;
	l->mode = mode;
}

/* open() that must succeed with exactly ${want}. */
static int
open_ok(const uint8_t *blob, size_t len, uint8_t type, const uint8_t *drive,
    const uint8_t *id, struct lk *l, const uint8_t *want, size_t wantlen)
{
	uint8_t *p = &sentinel;
	size_t n = 77;
	int rc, ok;

	rc = cf_object_open(blob, len, type, drive, id, lookup, l, &p, &n);
	ok = rc == 0 && p != NULL && p != &sentinel && n == wantlen &&
	    (wantlen == 0 || memcmp(p, want, wantlen) == 0);
	if (!ok)
		fprintf(stderr, "open_ok: rc=%d n=%zu want %zu\n", rc, n,
		    wantlen);
	if (rc == 0)
		free(p);
	return ok;
}

/* open() that must refuse as not authentic, leaving no plaintext. */
static int
open_refused(const uint8_t *blob, size_t len, uint8_t type,
    const uint8_t *drive, const uint8_t *id, struct lk *l)
{
	uint8_t *p = &sentinel;
	size_t n = 77;
	int rc;

	rc = cf_object_open(blob, len, type, drive, id, lookup, l, &p, &n);
	if (rc == 0)
		free(p);
	return rc == COFFER_ENOTAUTHENTIC && p == NULL && n == 0;
}

/* decode_body() that must refuse, leaving no plaintext. */
static int
body_refused(const uint8_t *body, size_t len, uint8_t type)
{
	uint8_t *p = &sentinel;
	size_t n = 77;
	int rc;

	rc = cf_object_decode_body(body, len, type, &p, &n);
	if (rc == 0)
		free(p);
	return rc == COFFER_ENOTAUTHENTIC && p == NULL && n == 0;
}

static int
body_ok(const uint8_t *body, size_t len, uint8_t type, const uint8_t *want,
    size_t wantlen)
{
	uint8_t *p = &sentinel;
	size_t n = 77;
	int rc, ok;

	rc = cf_object_decode_body(body, len, type, &p, &n);
	ok = rc == 0 && p != NULL && n == wantlen &&
	    (wantlen == 0 || memcmp(p, want, wantlen) == 0);
	if (rc == 0)
		free(p);
	return ok;
}

/*
 * FORMAT §7 body with ${total} bytes: comp || plain_len || payload_len ||
 * payload (as much as fits) || zeros.
 */
static uint8_t *
mkbody_len(uint8_t comp, uint32_t plain_len, const uint8_t *payload,
    uint32_t payload_len, size_t total)
{
	uint8_t *b = xmalloc(total);
	size_t n = payload_len;

	memset(b, 0, total);
	b[0] = comp;
	cf_be32enc(b + 1, plain_len);
	cf_be32enc(b + 5, payload_len);
	if (n > total - BHDR)
		n = total - BHDR;
	if (n > 0)
		memcpy(b + BHDR, payload, n);
	return b;
}

/* The canonical body: padded to padme(9 + payload_len). */
static uint8_t *
mkbody(uint8_t comp, uint32_t plain_len, const uint8_t *payload,
    uint32_t payload_len, size_t *lenp)
{
	*lenp = cf_padme(BHDR + (size_t)payload_len);
	return mkbody_len(comp, plain_len, payload, payload_len, *lenp);
}

/* H_K(personal || a || b) */
static void
hk(uint8_t out[32], const uint8_t k[32], const char *personal,
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)personal,
	    strlen(personal));
	crypto_generichash_update(&st, a, alen);
	if (blen > 0)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, 32);
}

static void
mkad(uint8_t ad[AD_LEN], uint8_t type, const uint8_t *drive,
    const uint8_t *id, const uint8_t *hdrp)
{
	memcpy(ad, "CFOB", 4);
	ad[4] = 1;
	ad[5] = type;
	memcpy(ad + 6, drive, 32);
	memcpy(ad + 38, id, 32);
	memcpy(ad + 70, hdrp, 61);
}

/*
 * Seal ${body} as FORMAT §6 says, with the real primitives and nothing
 * from lib/object: header naming ${key_id}, C over the AD (xor'd with
 * ${cmt_xor} in its first byte), AEAD under K_enc.
 */
static uint8_t *
forge(const uint8_t K[32], const uint8_t key_id[32], uint8_t type,
    const uint8_t *drive, const uint8_t *id, const uint8_t *body,
    size_t bodylen, uint8_t cmt_xor, size_t *lenp)
{
	uint8_t ad[AD_LEN], had[32], kenc[32];
	uint8_t *b;

	*lenp = HDR + bodylen + MAC;
	b = xmalloc(*lenp);
	memcpy(b, "CFOB", 4);
	b[4] = 1;
	memcpy(b + 5, key_id, 32);
	randombytes_buf(b + 37, 24);
	mkad(ad, type, drive, id, b);
	crypto_generichash(had, 32, ad, AD_LEN, NULL, 0);
	{
		uint8_t nh[24 + 32];

		memcpy(nh, b + 37, 24);
		memcpy(nh + 24, had, 32);
		hk(b + 61, K, "coffer-cmt-v1", nh, sizeof(nh), NULL, 0);
	}
	b[61] ^= cmt_xor;
	hk(kenc, K, "coffer-enc-v1", b + 37, 24, NULL, 0);
	crypto_aead_xchacha20poly1305_ietf_encrypt(b + HDR, NULL, body,
	    bodylen, ad, AD_LEN, NULL, b + 37, kenc);
	return b;
}

/* Decrypt a blob's body independently of lib/object (NULL if it fails). */
static uint8_t *
unseal_body(const uint8_t K[32], uint8_t type, const uint8_t *drive,
    const uint8_t *id, const uint8_t *blob, size_t len, size_t *bodylenp)
{
	uint8_t ad[AD_LEN], kenc[32];
	uint8_t *body;

	*bodylenp = 0;
	if (len < HDR + MAC)
		return NULL;
	mkad(ad, type, drive, id, blob);
	hk(kenc, K, "coffer-enc-v1", blob + 37, 24, NULL, 0);
	body = xmalloc(len - HDR - MAC);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(body, NULL, NULL,
	    blob + HDR, len - HDR, ad, AD_LEN, blob + 37, kenc) != 0) {
		free(body);
		return NULL;
	}
	*bodylenp = len - HDR - MAC;
	return body;
}

/*
 * A zstd frame built by hand (RFC 8878): RLE blocks regenerating
 * ${content} bytes of ${byte}.  ${fcs} is the content size it declares
 * (4-byte field) unless ${no_fcs}; ${single} sets Single_Segment (window
 * = FCS), else ${wd} is the window descriptor; ${dict} adds a 1-byte
 * dictionary id.  Returns the frame's length.
 */
static size_t
mkframe(uint8_t *out, uint32_t fcs, int no_fcs, int single, uint8_t wd,
    uint8_t dict, size_t content, uint8_t byte)
{
	size_t o = 0, bs;
	uint32_t bh;
	uint8_t fhd = 0;

	out[o++] = 0x28;
	out[o++] = 0xb5;
	out[o++] = 0x2f;
	out[o++] = 0xfd;
	if (!no_fcs)
		fhd |= 2 << 6;		/* 4-byte Frame_Content_Size */
	if (single)
		fhd |= 1 << 5;
	if (dict)
		fhd |= 1;		/* 1-byte Dictionary_ID */
	out[o++] = fhd;
	if (!single)
		out[o++] = wd;
	if (dict)
		out[o++] = dict;
	if (!no_fcs) {
		out[o++] = (uint8_t)fcs;
		out[o++] = (uint8_t)(fcs >> 8);
		out[o++] = (uint8_t)(fcs >> 16);
		out[o++] = (uint8_t)(fcs >> 24);
	}
	do {
		bs = content > ZSTD_BLOCKSIZE_MAX ? ZSTD_BLOCKSIZE_MAX : content;
		content -= bs;
		/* Last_Block | Block_Type RLE (1) | Block_Size */
		bh = (content == 0 ? 1U : 0U) | (1U << 1) | ((uint32_t)bs << 3);
		out[o++] = (uint8_t)bh;
		out[o++] = (uint8_t)(bh >> 8);
		out[o++] = (uint8_t)(bh >> 16);
		out[o++] = byte;
	} while (content > 0);
	return o;
}

/* A genuine zstd frame of ${src}; with or without its content size. */
static size_t
zframe(uint8_t *dst, size_t cap, const uint8_t *src, size_t n, int csize)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t r;

	if (c == NULL)
		abort();
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, csize);
	r = ZSTD_compress2(c, dst, cap, src, n);
	ZSTD_freeCCtx(c);
	if (ZSTD_isError(r))
		abort();
	return r;
}

static size_t
blob_len_for(size_t payload_len)
{
	return HDR + cf_padme(BHDR + payload_len) + MAC;
}

/* ------------------------------------------------------------------ padme */

static void
t_padme_table(void)
{
	static const struct { size_t in, out; } tab[] = {
		{ 0, 1024 }, { 1, 1024 }, { 9, 1024 }, { 1023, 1024 },
		{ 1024, 1024 }, { 1025, 1088 }, { 1088, 1088 }, { 1089, 1152 },
		{ 1500, 1536 }, { 2000, 2048 }, { 2048, 2048 }, { 2049, 2176 },
		{ 4096, 4096 }, { 4097, 4352 }, { 65536, 65536 },
		{ 65537, 67584 }, { 1000000, 1015808 }, { 1048576, 1048576 },
		{ 1048577, 1081344 }, { 1048585, 1081344 },
		{ 8388608, 8388608 }, { 8388609, 8650752 },
		{ 8388617, 8650752 }, { 16777216, 16777216 },
		{ 16777225, 17301504 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (cf_padme(tab[i].in) != tab[i].out)
			fprintf(stderr, "padme(%zu) = %zu, want %zu\n",
			    tab[i].in, cf_padme(tab[i].in), tab[i].out);
		CHECK(cf_padme(tab[i].in) == tab[i].out);
	}
	/* Not representable: the contract says 0. */
	CHECK(cf_padme(SIZE_MAX) == 0);
	CHECK(cf_padme(SIZE_MAX - 1) == 0);
}

/* padme(L) >= L, idempotent, monotonic, <= 12 % over L from 1 KiB up. */
static int
padme_props(size_t l, size_t *prev)
{
	size_t p = cf_padme(l);
	int ok = 1;

	if (p < l || p < CF_OBJ_PAD_MIN || cf_padme(p) != p || p < *prev)
		ok = 0;
	if (l >= CF_OBJ_PAD_MIN && (double)(p - l) > 0.12 * (double)l)
		ok = 0;
	/* FORMAT §7: above the floor, under 1/16; from 64 KiB, under 1/32. */
	if (l > CF_OBJ_PAD_MIN && (p - l) * 16 >= l)
		ok = 0;
	if (l >= 65536 && (p - l) * 32 >= l)
		ok = 0;
	if (!ok)
		fprintf(stderr, "padme property fails at %zu -> %zu\n", l, p);
	*prev = p;
	return ok;
}

static void
t_padme_sweep(void)
{
	size_t l, prev = 0, step;
	int bad = 0;
	double worst = 0;

	for (l = 0; l <= 300000; l++)
		bad += !padme_props(l, &prev);
	/* Growing steps up to 64 GiB, with a dense look around powers of 2. */
	for (l = 300001; l < ((size_t)1 << 36); l += step) {
		bad += !padme_props(l, &prev);
		step = l / 997 + 1;
	}
	for (step = 11; step < 36; step++) {
		size_t base = (size_t)1 << step, d;

		for (d = 0; d < 2000; d++) {
			prev = 0;
			bad += !padme_props(base - 1000 + d, &prev);
		}
	}
	for (l = CF_OBJ_PAD_MIN; l <= 300000; l++) {
		double o = (double)(cf_padme(l) - l) / (double)l;

		if (o > worst)
			worst = o;
	}
	CHECK(bad == 0);
	CHECK(worst > 0.05 && worst <= 0.12);
}

/* -------------------------------------------------------------------- ids */

static void
t_object_id(void)
{
	static const char *const names[] = { NULL, "chunk", "tree", "commit",
	    "list", "dir" };
	uint8_t plain[100], id[32], want[32], other[32], buf[110];
	uint8_t t;

	tu_fill(plain, sizeof(plain), 5);
	for (t = 1; t <= CF_OBJ_TYPE_MAX; t++) {
		size_t nl = strlen(names[t]);

		memcpy(buf, names[t], nl);
		memcpy(buf + nl, plain, sizeof(plain));
		crypto_generichash(want, 32, buf, nl + sizeof(plain),
		    KA.id_key, 32);
		cf_object_id(KA.id_key, t, plain, sizeof(plain), id);
		CHECK(memcmp(id, want, 32) == 0);
		/* Empty plaintext: H_k(name). */
		crypto_generichash(want, 32, buf, nl, KA.id_key, 32);
		cf_object_id(KA.id_key, t, NULL, 0, id);
		CHECK(memcmp(id, want, 32) == 0);
	}
	/* Types and keys separate ids. */
	cf_object_id(KA.id_key, CF_OBJ_CHUNK, plain, sizeof(plain), id);
	cf_object_id(KA.id_key, CF_OBJ_TREE, plain, sizeof(plain), other);
	CHECK(memcmp(id, other, 32) != 0);
	cf_object_id(KB.id_key, CF_OBJ_CHUNK, plain, sizeof(plain), other);
	CHECK(memcmp(id, other, 32) != 0);
}

/* ------------------------------------------------------------ round trips */

/* Seal, check the blob's shape and its body (decrypted independently), open. */
static void
roundtrip(uint8_t type, const uint8_t *plain, size_t len, int flags,
    int expect_comp)
{
	struct lk l;
	struct cf_objhdr h;
	uint8_t id[32], want[32];
	uint8_t *blob = &sentinel, *body = NULL;
	size_t bloblen = 99, bodylen, payload_len;

	lk_init(&l, &KA, LK_MATCH);
	CHECK_RC(cf_object_seal(&KA, type, DRIVE1, plain, len, flags, id,
	    &blob, &bloblen), 0);
	if (blob == &sentinel || blob == NULL) {
		CHECK(0);
		return;
	}
	cf_object_id(KA.id_key, type, plain, len, want);
	CHECK(memcmp(id, want, 32) == 0);
	CHECK(memcmp(blob, "CFOB\x01", 5) == 0);
	CHECK(memcmp(blob + 5, KA.key_id, 32) == 0);
	CHECK_RC(cf_object_header(blob, bloblen, &h), 0);
	CHECK(h.version == 1 && h.ctlen == bloblen - HDR);
	CHECK(memcmp(h.key_id, KA.key_id, 32) == 0);
	CHECK(memcmp(h.nonce, blob + 37, 24) == 0);
	CHECK(memcmp(h.cmt, blob + 61, 32) == 0);

	/* The body, per FORMAT §7. */
	body = unseal_body(KA.enc_key, type, DRIVE1, id, blob, bloblen,
	    &bodylen);
	CHECK(body != NULL);
	if (body != NULL) {
		payload_len = cf_be32dec(body + 5);
		CHECK(body[0] == (expect_comp ? 1 : 0));
		CHECK(cf_be32dec(body + 1) == len);
		CHECK(bodylen == cf_padme(BHDR + payload_len));
		CHECK(bloblen == blob_len_for(payload_len));
		CHECK(sodium_is_zero(body + BHDR + payload_len,
		    bodylen - BHDR - payload_len));
		if (expect_comp) {
			CHECK(payload_len < len);
			/* The frame declares its content size. */
			CHECK(ZSTD_getFrameContentSize(body + BHDR,
			    payload_len) == len);
			CHECK(ZSTD_findFrameCompressedSize(body + BHDR,
			    payload_len) == payload_len);
		} else {
			CHECK(payload_len == len);
			CHECK(len == 0 || memcmp(body + BHDR, plain, len) == 0);
		}
		cf_wipefree(body, bodylen);
	}
	CHECK(open_ok(blob, bloblen, type, DRIVE1, id, &l, plain, len));
	CHECK(l.calls == 1 && l.type == type);
	CHECK(memcmp(l.key_id, KA.key_id, 32) == 0);
	free(blob);
}

static void
t_roundtrip_types(void)
{
	static const size_t sizes[] = { 0, 1, 4096, MIB };
	uint8_t *p = xmalloc(MIB);
	size_t i;
	uint8_t t;

	tu_fill(p, MIB, 11);
	for (t = 1; t <= CF_OBJ_TYPE_MAX; t++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			roundtrip(t, p, sizes[i], 0, 0);
			/* Random bytes never compress, whatever the type. */
			roundtrip(t, p, sizes[i], CF_SEAL_COMPRESS, 0);
		}
	free(p);
}

static void
t_roundtrip_large(void)
{
	size_t n = 8 * (size_t)MIB;
	uint8_t *p = xmalloc(CF_OBJ_PLAIN_MAX);

	tu_fill(p, n, 12);
	roundtrip(CF_OBJ_CHUNK, p, n, CF_SEAL_COMPRESS, 0);
	fill_text(p, n, 13);
	roundtrip(CF_OBJ_CHUNK, p, n, CF_SEAL_COMPRESS, 1);
	roundtrip(CF_OBJ_CHUNK, p, n, 0, 0);
	/* The cap itself is allowed. */
	tu_fill(p, CF_OBJ_PLAIN_MAX, 14);
	roundtrip(CF_OBJ_CHUNK, p, CF_OBJ_PLAIN_MAX, 0, 0);
	fill_text(p, CF_OBJ_PLAIN_MAX, 15);
	roundtrip(CF_OBJ_CHUNK, p, CF_OBJ_PLAIN_MAX, CF_SEAL_COMPRESS, 1);
	free(p);
}

static void
t_compress(void)
{
	static const size_t sizes[] = { 1000, 4096, 100000, MIB };
	uint8_t *p = xmalloc(MIB), id[32], *blob;
	size_t i, bloblen;
	uint8_t t;

	fill_text(p, MIB, 21);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* A compressible chunk is compressed... */
		roundtrip(CF_OBJ_CHUNK, p, sizes[i], CF_SEAL_COMPRESS, 1);
		/* ...only when asked... */
		roundtrip(CF_OBJ_CHUNK, p, sizes[i], 0, 0);
		/* ...and never for any other type. */
		for (t = 2; t <= CF_OBJ_TYPE_MAX; t++)
			roundtrip(t, p, sizes[i], CF_SEAL_COMPRESS, 0);
	}
	/* Compressed blob smaller than padme of the raw chunk. */
	CHECK_RC(cf_object_seal(&KA, CF_OBJ_CHUNK, DRIVE1, p, MIB,
	    CF_SEAL_COMPRESS, id, &blob, &bloblen), 0);
	CHECK(bloblen < blob_len_for(MIB) / 4);
	free(blob);
	CHECK_RC(cf_object_seal(&KA, CF_OBJ_TREE, DRIVE1, p, MIB,
	    CF_SEAL_COMPRESS, id, &blob, &bloblen), 0);
	CHECK(bloblen == blob_len_for(MIB));
	free(blob);
	/* Too short to shrink: stored as is. */
	roundtrip(CF_OBJ_CHUNK, (const uint8_t *)"aaaa", 4, CF_SEAL_COMPRESS,
	    0);
	free(p);
}

/* The probe that spares zstd the random chunks (body.c). */
static void
t_probe(void)
{
	uint8_t *p = xmalloc(MIB);
	size_t i;

	tu_fill(p, MIB, 31);
	CHECK(cf_object_incompressible(p, MIB) == 1);
	CHECK(cf_object_incompressible(p, 4096) == 1);
	/* Too short to judge: zstd is tried. */
	CHECK(cf_object_incompressible(p, 4095) == 0);
	CHECK(cf_object_incompressible(p, 0) == 0);
	/* One compressible window anywhere is enough to try. */
	fill_text(p + MIB - 8192, 8192, 32);
	CHECK(cf_object_incompressible(p, MIB) == 0);
	fill_text(p + MIB / 2, MIB / 2, 32);
	CHECK(cf_object_incompressible(p, MIB) == 0);
	roundtrip(CF_OBJ_CHUNK, p, MIB, CF_SEAL_COMPRESS, 1);
	/* ...while random bytes in every window are not. */
	tu_fill(p, MIB / 2, 36);
	CHECK(cf_object_incompressible(p, MIB / 2) == 1);
	/* 4 random bits a byte: ~4 bits of entropy, compressed. */
	tu_fill(p, MIB, 33);
	for (i = 0; i < MIB; i++)
		p[i] &= 0x0f;
	CHECK(cf_object_incompressible(p, MIB) == 0);
	roundtrip(CF_OBJ_CHUNK, p, MIB, CF_SEAL_COMPRESS, 1);
	/* 7 random bits a byte: still worth a try (and it shrinks). */
	tu_fill(p, MIB, 34);
	for (i = 0; i < MIB; i++)
		p[i] &= 0x7f;
	CHECK(cf_object_incompressible(p, MIB) == 0);
	roundtrip(CF_OBJ_CHUNK, p, MIB, CF_SEAL_COMPRESS, 1);
	memset(p, 0, MIB);
	CHECK(cf_object_incompressible(p, MIB) == 0);
	/* Random: stored as is, and the blob is the uncompressed size. */
	tu_fill(p, MIB, 35);
	roundtrip(CF_OBJ_CHUNK, p, MIB, CF_SEAL_COMPRESS, 0);
	free(p);
}

/* Sealing into the caller's buffer (a put frame). */
static void
t_seal_into(void)
{
	struct lk l;
	uint8_t *p = xmalloc(MIB), *buf, id[32], want[32], nonce[24];
	size_t cap = cf_object_seal_bound(MIB), bl = 99, i;

	buf = xmalloc(cap);
	fill_text(p, MIB, 41);
	randombytes_buf(nonce, sizeof(nonce));
	cf_object_id(KA.id_key, CF_OBJ_CHUNK, p, MIB, want);
	/* With the id given (not hashed again) and with it computed. */
	CHECK_RC(cf_object_seal_into(&KA, CF_OBJ_CHUNK, DRIVE1, p, MIB,
	    CF_SEAL_COMPRESS, want, nonce, id, buf, cap, &bl), 0);
	CHECK(memcmp(id, want, 32) == 0 && bl < cap);
	CHECK(memcmp(buf + 37, nonce, 24) == 0);
	for (i = bl; i < cap && buf[i] == 0; i++)
		;
	CHECK(i == cap);	/* no zstd scratch (plaintext) left behind */
	lk_init(&l, &KA, LK_MATCH);
	CHECK(open_ok(buf, bl, CF_OBJ_CHUNK, DRIVE1, want, &l, p, MIB));
	CHECK_RC(cf_object_seal_into(&KA, CF_OBJ_TREE, DRIVE1, p, 1000, 0,
	    NULL, nonce, id, buf, cap, &bl), 0);
	cf_object_id(KA.id_key, CF_OBJ_TREE, p, 1000, want);
	CHECK(memcmp(id, want, 32) == 0);
	lk_init(&l, &KA, LK_MATCH);
	CHECK(open_ok(buf, bl, CF_OBJ_TREE, DRIVE1, want, &l, p, 1000));
	/* Too little room: refused, nothing written. */
	memset(buf, 0xee, cap);
	CHECK_RC(cf_object_seal_into(&KA, CF_OBJ_CHUNK, DRIVE1, p, MIB, 0,
	    NULL, nonce, id, buf, cap - 1, &bl), COFFER_EINVAL);
	CHECK(bl == 0 && buf[0] == 0xee);
	CHECK(cf_object_seal_bound((size_t)CF_OBJ_PLAIN_MAX + 1) == 0);
	free(buf);
	free(p);
}

static void
t_seal_args(void)
{
	struct cf_objkey bad = KA;
	uint8_t *big = xmalloc((size_t)CF_OBJ_PLAIN_MAX + 1);
	uint8_t id[32], *blob = &sentinel, *blob2;
	size_t bloblen = 5, bloblen2;
	struct cf_objhdr h, h2;

	memset(big, 'x', (size_t)CF_OBJ_PLAIN_MAX + 1);
	memset(id, 0xee, 32);
	CHECK_RC(cf_object_seal(&KA, CF_OBJ_CHUNK, DRIVE1, big,
	    (size_t)CF_OBJ_PLAIN_MAX + 1, CF_SEAL_COMPRESS, id, &blob,
	    &bloblen), COFFER_ETOOBIG);
	CHECK(blob == NULL && bloblen == 0 && sodium_is_zero(id, 32));
	blob = &sentinel;
	CHECK_RC(cf_object_seal(&KA, 0, DRIVE1, big, 10, 0, id, &blob,
	    &bloblen), COFFER_EINVAL);
	CHECK(blob == NULL && bloblen == 0);
	CHECK_RC(cf_object_seal(&KA, CF_OBJ_TYPE_MAX + 1, DRIVE1, big, 10, 0,
	    id, &blob, &bloblen), COFFER_EINVAL);
	CHECK_RC(cf_object_seal(&KA, CF_OBJ_CHUNK, DRIVE1, big, 10, 0x2, id,
	    &blob, &bloblen), COFFER_EINVAL);
	CHECK_RC(cf_object_seal(&KA, CF_OBJ_CHUNK, DRIVE1, NULL, 10, 0, id,
	    &blob, &bloblen), COFFER_EINVAL);
	/* A key id that is not the key's own. */
	memcpy(bad.key_id, KB.key_id, 32);
	CHECK_RC(cf_object_seal(&bad, CF_OBJ_CHUNK, DRIVE1, big, 10, 0, id,
	    &blob, &bloblen), COFFER_EINVAL);
	CHECK(blob == NULL);
	/* Same plaintext twice: same id, fresh nonce, different blob. */
	CHECK_RC(cf_object_seal(&KA, CF_OBJ_CHUNK, DRIVE1, big, 100, 0, id,
	    &blob, &bloblen), 0);
	CHECK_RC(cf_object_seal(&KA, CF_OBJ_CHUNK, DRIVE1, big, 100, 0, id,
	    &blob2, &bloblen2), 0);
	CHECK(bloblen == bloblen2);
	CHECK_RC(cf_object_header(blob, bloblen, &h), 0);
	CHECK_RC(cf_object_header(blob2, bloblen2, &h2), 0);
	CHECK(memcmp(h.nonce, h2.nonce, 24) != 0);
	CHECK(memcmp(blob + HDR, blob2 + HDR, bloblen - HDR) != 0);
	free(blob);
	free(blob2);
	free(big);
}

/* --------------------------------------------------------- header, lengths */

static void
t_header(void)
{
	struct cf_objhdr h;
	uint8_t id[32], *blob, *b;
	size_t bloblen;
	uint8_t v;

	CHECK_RC(cf_object_seal(&KA, CF_OBJ_TREE, DRIVE1,
	    (const uint8_t *)"t", 1, 0, id, &blob, &bloblen), 0);
	b = xmalloc(bloblen);
	memcpy(b, blob, bloblen);
	b[0] = 'X';
	memset(&h, 0xa5, sizeof(h));
	CHECK_RC(cf_object_header(b, bloblen, &h), COFFER_ENOTAUTHENTIC);
	CHECK(h.ctlen == 0 && h.version == 0 && sodium_is_zero(h.key_id, 32));
	memcpy(b, blob, bloblen);
	for (v = 0; v < 4; v++) {
		b[4] = v;
		CHECK_RC(cf_object_header(b, bloblen, &h),
		    v == 1 ? 0 : COFFER_ENOTAUTHENTIC);
	}
	CHECK_RC(cf_object_header(blob, HDR + MAC, &h), 0);
	CHECK(h.ctlen == MAC);
	CHECK_RC(cf_object_header(blob, HDR + MAC - 1, &h),
	    COFFER_ENOTAUTHENTIC);
	CHECK_RC(cf_object_header(NULL, 0, &h), COFFER_ENOTAUTHENTIC);
	CHECK_RC(cf_object_header(NULL, 500, &h), COFFER_ENOTAUTHENTIC);
	free(b);
	free(blob);
}

static void
t_truncate_extend(void)
{
	struct lk l;
	uint8_t id[32], *blob, *b, *huge;
	size_t bloblen, n;
	int bad = 0;

	lk_init(&l, &KA, LK_MATCH);
	CHECK_RC(cf_object_seal(&KA, CF_OBJ_TREE, DRIVE1,
	    (const uint8_t *)"tree bytes", 10, 0, id, &blob, &bloblen), 0);
	CHECK(bloblen == HDR + 1024 + MAC);
	for (n = 0; n < bloblen; n++)
		if (!open_refused(blob, n, CF_OBJ_TREE, DRIVE1, id, &l)) {
			fprintf(stderr, "truncated to %zu: accepted\n", n);
			bad++;
		}
	CHECK(bad == 0);
	b = xmalloc(bloblen + 1);
	memcpy(b, blob, bloblen);
	b[bloblen] = 0;
	CHECK(open_refused(b, bloblen + 1, CF_OBJ_TREE, DRIVE1, id, &l));
	b[bloblen] = 0xff;
	CHECK(open_refused(b, bloblen + 1, CF_OBJ_TREE, DRIVE1, id, &l));
	/* An over-long blob is refused before anything is read. */
	huge = xmalloc(CF_OBJ_BLOB_MAX + 1);
	memcpy(huge, blob, bloblen);
	memset(huge + bloblen, 0, CF_OBJ_BLOB_MAX + 1 - bloblen);
	l.calls = 0;
	CHECK(open_refused(huge, CF_OBJ_BLOB_MAX + 1, CF_OBJ_TREE, DRIVE1,
	    id, &l));
	CHECK(l.calls == 0);
	CHECK(open_ok(blob, bloblen, CF_OBJ_TREE, DRIVE1, id, &l,
	    (const uint8_t *)"tree bytes", 10));
	free(huge);
	free(b);
	free(blob);
}

/* ------------------------------------------------------------- bit flips */

/* Flip bit (i % 8) of byte i for every i: each must be refused. */
static int
flip_all(const uint8_t *blob, size_t len, uint8_t type, const uint8_t *id,
    const uint8_t *plain, size_t plen, const size_t *pos, size_t npos)
{
	struct lk l;
	uint8_t *b = xmalloc(len);
	size_t j, i;
	int bad = 0;

	lk_init(&l, &KA, LK_MATCH);
	memcpy(b, blob, len);
	for (j = 0; j < npos; j++) {
		i = pos[j];
		b[i] ^= (uint8_t)(1U << (i % 8));
		if (!open_refused(b, len, type, DRIVE1, id, &l)) {
			fprintf(stderr, "flip at %zu accepted\n", i);
			bad++;
		}
		b[i] = blob[i];
	}
	/* And the restored copy still opens. */
	if (!open_ok(b, len, type, DRIVE1, id, &l, plain, plen))
		bad++;
	free(b);
	return bad;
}

static void
t_flip_small(void)
{
	uint8_t *p = xmalloc(4000), id[32], *blob;
	size_t *pos = xmalloc(8192 * sizeof(size_t));
	size_t bloblen, i;
	struct {
		uint8_t type;
		size_t len;
		int flags;
		int text;
	} cases[] = {
		{ CF_OBJ_CHUNK, 3000, 0, 0 },		/* blob 3181 bytes */
		{ CF_OBJ_CHUNK, 4000, CF_SEAL_COMPRESS, 1 },	/* zstd */
		{ CF_OBJ_TREE, 0, 0, 0 },		/* empty */
		{ CF_OBJ_COMMIT, 1, 0, 0 },
		{ CF_OBJ_DIR, 200, 0, 1 },
	};
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		if (cases[c].text)
			fill_text(p, cases[c].len, 31 + c);
		else
			tu_fill(p, cases[c].len, 31 + c);
		CHECK_RC(cf_object_seal(&KA, cases[c].type, DRIVE1, p,
		    cases[c].len, cases[c].flags, id, &blob, &bloblen), 0);
		CHECK(bloblen <= 4096);
		for (i = 0; i < bloblen; i++)
			pos[i] = i;
		CHECK(flip_all(blob, bloblen, cases[c].type, id, p,
		    cases[c].len, pos, bloblen) == 0);
		free(blob);
	}
	free(pos);
	free(p);
}

static void
t_flip_large(void)
{
	uint8_t *p = xmalloc(MIB), id[32], *blob, r[4];
	size_t pos[2000], bloblen, i, n = 0;

	tu_fill(p, MIB, 41);
	CHECK_RC(cf_object_seal(&KA, CF_OBJ_CHUNK, DRIVE1, p, MIB,
	    CF_SEAL_COMPRESS, id, &blob, &bloblen), 0);
	for (i = 0; i < 200; i++) {
		pos[n++] = i;
		pos[n++] = bloblen - 1 - i;
	}
	for (i = 0; n < 2000; i++) {
		tu_fill(r, 4, 1000 + i);
		pos[n++] = 200 + cf_be32dec(r) % (bloblen - 400);
	}
	CHECK(flip_all(blob, bloblen, CF_OBJ_CHUNK, id, p, MIB, pos, n) == 0);
	free(blob);
	free(p);
}

/* ------------------------------------------------ AD fields and the lookup */

static void
t_ad_fields(void)
{
	static const uint8_t plain[] = "a directory listing";
	struct lk l;
	struct cf_objkey swapped;
	uint8_t id[32], wrong[32], *blob, *b;
	size_t bloblen, n = sizeof(plain) - 1;
	uint8_t t;

	CHECK_RC(cf_object_seal(&KA, CF_OBJ_TREE, DRIVE1, plain, n, 0, id,
	    &blob, &bloblen), 0);
	lk_init(&l, &KA, LK_MATCH);
	CHECK(open_ok(blob, bloblen, CF_OBJ_TREE, DRIVE1, id, &l, plain, n));

	/* Wrong type, wrong drive, wrong object id. */
	for (t = 1; t <= CF_OBJ_TYPE_MAX; t++)
		if (t != CF_OBJ_TREE)
			CHECK(open_refused(blob, bloblen, t, DRIVE1, id, &l));
	CHECK(open_refused(blob, bloblen, CF_OBJ_TREE, DRIVE2, id, &l));
	memcpy(wrong, id, 32);
	wrong[31] ^= 0x80;
	CHECK(open_refused(blob, bloblen, CF_OBJ_TREE, DRIVE1, wrong, &l));

	/* Header key id changed; the lookup hands out KA for any id. */
	b = xmalloc(bloblen);
	memcpy(b, blob, bloblen);
	b[5 + 7] ^= 0x04;
	lk_init(&l, &KA, LK_ANY);
	CHECK(open_refused(b, bloblen, CF_OBJ_TREE, DRIVE1, id, &l));
	CHECK(l.calls == 1);
	/* Header names KB, the lookup hands out KB: C and the AEAD refuse. */
	memcpy(b + 5, KB.key_id, 32);
	lk_init(&l, &KB, LK_MATCH);
	CHECK(open_refused(b, bloblen, CF_OBJ_TREE, DRIVE1, id, &l));
	CHECK(l.calls == 1);
	free(b);

	/* The lookup refuses the key id, or fails locally. */
	lk_init(&l, &KA, LK_REFUSE);
	CHECK(open_refused(blob, bloblen, CF_OBJ_TREE, DRIVE1, id, &l));
	lk_init(&l, &KA, LK_POSITIVE);
	CHECK(open_refused(blob, bloblen, CF_OBJ_TREE, DRIVE1, id, &l));
	lk_init(&l, &KA, LK_EIO);
	{
		uint8_t *p = &sentinel;
		size_t pn = 3;

		CHECK_RC(cf_object_open(blob, bloblen, CF_OBJ_TREE, DRIVE1, id,
		    lookup, &l, &p, &pn), COFFER_EIO);
		CHECK(p == NULL && pn == 0);
	}

	/* The lookup returns a key whose id is another one. */
	lk_init(&l, &KB, LK_ANY);
	CHECK(open_refused(blob, bloblen, CF_OBJ_TREE, DRIVE1, id, &l));
	/* Right key id claimed, other key material. */
	swapped = KB;
	memcpy(swapped.key_id, KA.key_id, 32);
	lk_init(&l, &swapped, LK_MATCH);
	CHECK(open_refused(blob, bloblen, CF_OBJ_TREE, DRIVE1, id, &l));
	/*
	 * A blob really sealed with KB's material but naming KA's key id,
	 * and a lookup that hands KB's material out under KA's id: the
	 * commitment and the AEAD would pass; only key_id(K) == key_id
	 * refuses it.
	 */
	{
		uint8_t *body, *fb;
		size_t bodylen, fbl;

		cf_object_id(KB.id_key, CF_OBJ_TREE, plain, n, wrong);
		body = mkbody(0, (uint32_t)n, plain, (uint32_t)n, &bodylen);
		fb = forge(KB.enc_key, KA.key_id, CF_OBJ_TREE, DRIVE1, wrong,
		    body, bodylen, 0, &fbl);
		swapped = KB;
		memcpy(swapped.key_id, KA.key_id, 32);
		lk_init(&l, &swapped, LK_MATCH);
		CHECK(open_refused(fb, fbl, CF_OBJ_TREE, DRIVE1, wrong, &l));
		CHECK(l.calls == 1);
		/* Control: the same forgery naming KB's own id opens. */
		free(fb);
		fb = forge(KB.enc_key, KB.key_id, CF_OBJ_TREE, DRIVE1, wrong,
		    body, bodylen, 0, &fbl);
		lk_init(&l, &KB, LK_MATCH);
		CHECK(open_ok(fb, fbl, CF_OBJ_TREE, DRIVE1, wrong, &l, plain,
		    n));
		free(fb);
		free(body);
	}
	/*
	 * A lookup that says yes but fills nothing, and a blob sealed under
	 * the all-zero key naming that key's id: refused.
	 */
	{
		uint8_t zero[32] = { 0 }, zid[32], *body, *fb;
		size_t bodylen, fbl;

		cf_key_id(zero, zid);
		cf_object_id(zero, CF_OBJ_TREE, plain, n, wrong);
		body = mkbody(0, (uint32_t)n, plain, (uint32_t)n, &bodylen);
		fb = forge(zero, zid, CF_OBJ_TREE, DRIVE1, wrong, body,
		    bodylen, 0, &fbl);
		lk_init(&l, &KA, LK_EMPTY);
		CHECK(open_refused(fb, fbl, CF_OBJ_TREE, DRIVE1, wrong, &l));
		CHECK(l.calls == 1);
		free(fb);
		free(body);
	}
	/* Right content key, wrong id key: the recomputed id differs. */
	swapped = KA;
	memcpy(swapped.id_key, KB.id_key, 32);
	lk_init(&l, &swapped, LK_MATCH);
	CHECK(open_refused(blob, bloblen, CF_OBJ_TREE, DRIVE1, id, &l));

	/* Unknown expected type: the caller's mistake. */
	lk_init(&l, &KA, LK_MATCH);
	{
		uint8_t *p = &sentinel;
		size_t pn = 3;

		CHECK_RC(cf_object_open(blob, bloblen, 0, DRIVE1, id, lookup,
		    &l, &p, &pn), COFFER_EINVAL);
		CHECK(p == NULL && pn == 0);
		CHECK_RC(cf_object_open(blob, bloblen, CF_OBJ_TYPE_MAX + 1,
		    DRIVE1, id, lookup, &l, &p, &pn), COFFER_EINVAL);
	}
	free(blob);
}

/* -------------------------------------------------- forged valid objects */

static void
t_forge_control(void)
{
	uint8_t plain[300], id[32], *body, *blob;
	size_t bodylen, bloblen;
	struct lk l;

	/* The test's own FORMAT §6 sealer and lib/object agree. */
	tu_fill(plain, sizeof(plain), 51);
	cf_object_id(KA.id_key, CF_OBJ_LIST, plain, sizeof(plain), id);
	body = mkbody(0, sizeof(plain), plain, sizeof(plain), &bodylen);
	blob = forge(KA.enc_key, KA.key_id, CF_OBJ_LIST, DRIVE1, id, body,
	    bodylen, 0, &bloblen);
	lk_init(&l, &KA, LK_MATCH);
	CHECK(open_ok(blob, bloblen, CF_OBJ_LIST, DRIVE1, id, &l, plain,
	    sizeof(plain)));
	free(blob);
	free(body);
}

static void
t_commitment(void)
{
	uint8_t plain[500], id[32], *body, *blob;
	size_t bodylen, bloblen;
	struct lk l;
	unsigned x;

	tu_fill(plain, sizeof(plain), 61);
	cf_object_id(KA.id_key, CF_OBJ_CHUNK, plain, sizeof(plain), id);
	body = mkbody(0, sizeof(plain), plain, sizeof(plain), &bodylen);
	lk_init(&l, &KA, LK_MATCH);
	/* A correct AEAD under the right key, a wrong C: refused. */
	for (x = 1; x < 256; x <<= 1) {
		blob = forge(KA.enc_key, KA.key_id, CF_OBJ_CHUNK, DRIVE1, id,
		    body, bodylen, (uint8_t)x, &bloblen);
		CHECK(open_refused(blob, bloblen, CF_OBJ_CHUNK, DRIVE1, id,
		    &l));
		/* The AEAD itself opens: only C stands in the way. */
		{
			size_t bl;
			uint8_t *d = unseal_body(KA.enc_key, CF_OBJ_CHUNK,
			    DRIVE1, id, blob, bloblen, &bl);

			CHECK(d != NULL && bl == bodylen);
			free(d);
		}
		free(blob);
	}
	/* C made with KB but the AEAD under KA's K_enc: refused. */
	blob = forge(KA.enc_key, KA.key_id, CF_OBJ_CHUNK, DRIVE1, id, body,
	    bodylen, 0, &bloblen);
	{
		uint8_t ad[AD_LEN], had[32], nh[56];

		mkad(ad, CF_OBJ_CHUNK, DRIVE1, id, blob);
		crypto_generichash(had, 32, ad, AD_LEN, NULL, 0);
		memcpy(nh, blob + 37, 24);
		memcpy(nh + 24, had, 32);
		hk(blob + 61, KB.enc_key, "coffer-cmt-v1", nh, 56, NULL, 0);
	}
	CHECK(open_refused(blob, bloblen, CF_OBJ_CHUNK, DRIVE1, id, &l));
	free(blob);
	free(body);
}

static void
t_id_recompute(void)
{
	uint8_t plain[700], other[700], id[32], *body, *blob;
	size_t bodylen, bloblen;
	struct lk l;

	tu_fill(plain, sizeof(plain), 71);
	memcpy(other, plain, sizeof(other));
	other[350] ^= 1;
	body = mkbody(0, sizeof(plain), plain, sizeof(plain), &bodylen);
	lk_init(&l, &KA, LK_MATCH);
	/* Encrypted for the id of ${other}, carrying ${plain}. */
	cf_object_id(KA.id_key, CF_OBJ_COMMIT, other, sizeof(other), id);
	blob = forge(KA.enc_key, KA.key_id, CF_OBJ_COMMIT, DRIVE1, id, body,
	    bodylen, 0, &bloblen);
	CHECK(open_refused(blob, bloblen, CF_OBJ_COMMIT, DRIVE1, id, &l));
	free(blob);
	/* Id under another id key. */
	cf_object_id(KB.id_key, CF_OBJ_COMMIT, plain, sizeof(plain), id);
	blob = forge(KA.enc_key, KA.key_id, CF_OBJ_COMMIT, DRIVE1, id, body,
	    bodylen, 0, &bloblen);
	CHECK(open_refused(blob, bloblen, CF_OBJ_COMMIT, DRIVE1, id, &l));
	free(blob);
	/* Control: the right id opens. */
	cf_object_id(KA.id_key, CF_OBJ_COMMIT, plain, sizeof(plain), id);
	blob = forge(KA.enc_key, KA.key_id, CF_OBJ_COMMIT, DRIVE1, id, body,
	    bodylen, 0, &bloblen);
	CHECK(open_ok(blob, bloblen, CF_OBJ_COMMIT, DRIVE1, id, &l, plain,
	    sizeof(plain)));
	free(blob);
	free(body);
}

/* Seal a forged chunk whose body is ${payload} with the given comp/sizes. */
static int
forged_body_opens(uint8_t type, uint8_t comp, uint32_t plain_len,
    const uint8_t *payload, uint32_t payload_len, const uint8_t *plain)
{
	uint8_t id[32], *body, *blob, *p = &sentinel;
	size_t bodylen, bloblen, n = 5;
	struct lk l;
	int rc;

	cf_object_id(KA.id_key, type, plain, plain_len, id);
	body = mkbody(comp, plain_len, payload, payload_len, &bodylen);
	blob = forge(KA.enc_key, KA.key_id, type, DRIVE1, id, body, bodylen,
	    0, &bloblen);
	lk_init(&l, &KA, LK_MATCH);
	rc = cf_object_open(blob, bloblen, type, DRIVE1, id, lookup, &l, &p,
	    &n);
	if (rc == 0) {
		if (n != plain_len || memcmp(p, plain, n) != 0)
			rc = -100;
		free(p);
	} else if (p != NULL || n != 0) {
		rc = -101;
	}
	free(blob);
	free(body);
	return rc;
}

static void
t_open_lying_frame(void)
{
	uint8_t f[64], plain[5000];
	size_t fl;

	memset(plain, 'A', sizeof(plain));
	/* Control: an honest hand-made frame opens through open(). */
	fl = mkframe(f, 5000, 0, 1, 0, 0, 5000, 'A');
	CHECK_RC(forged_body_opens(CF_OBJ_CHUNK, 1, 5000, f, (uint32_t)fl,
	    plain), 0);
	/* Declares 5000 (= plain_len), holds 4000. */
	fl = mkframe(f, 5000, 0, 1, 0, 0, 4000, 'A');
	CHECK_RC(forged_body_opens(CF_OBJ_CHUNK, 1, 5000, f, (uint32_t)fl,
	    plain), COFFER_ENOTAUTHENTIC);
	/* Declares 4000 (= plain_len), holds 5000. */
	fl = mkframe(f, 4000, 0, 0, 0x78, 0, 5000, 'A');
	CHECK_RC(forged_body_opens(CF_OBJ_CHUNK, 1, 4000, f, (uint32_t)fl,
	    plain), COFFER_ENOTAUTHENTIC);
	/* No declared size. */
	fl = mkframe(f, 0, 1, 0, 0x78, 0, 5000, 'A');
	CHECK_RC(forged_body_opens(CF_OBJ_CHUNK, 1, 5000, f, (uint32_t)fl,
	    plain), COFFER_ENOTAUTHENTIC);
	/* Window 2^26. */
	fl = mkframe(f, 5000, 0, 0, 0x80, 0, 5000, 'A');
	CHECK_RC(forged_body_opens(CF_OBJ_CHUNK, 1, 5000, f, (uint32_t)fl,
	    plain), COFFER_ENOTAUTHENTIC);
	/* An honest frame, but in a tree: only chunks are compressed. */
	fl = mkframe(f, 5000, 0, 1, 0, 0, 5000, 'A');
	CHECK_RC(forged_body_opens(CF_OBJ_TREE, 1, 5000, f, (uint32_t)fl,
	    plain), COFFER_ENOTAUTHENTIC);
	/* Uncompressed but with a non-zero padding byte. */
	{
		uint8_t id[32], *body, *blob;
		size_t bodylen, bloblen;
		struct lk l;

		cf_object_id(KA.id_key, CF_OBJ_CHUNK, plain, 100, id);
		body = mkbody(0, 100, plain, 100, &bodylen);
		body[bodylen - 1] = 1;
		blob = forge(KA.enc_key, KA.key_id, CF_OBJ_CHUNK, DRIVE1, id,
		    body, bodylen, 0, &bloblen);
		lk_init(&l, &KA, LK_MATCH);
		CHECK(open_refused(blob, bloblen, CF_OBJ_CHUNK, DRIVE1, id,
		    &l));
		free(blob);
		free(body);
	}
}

/* ------------------------------------------------------ body decoding */

static void
t_body_basic(void)
{
	uint8_t plain[2000], *b;
	size_t bl;
	uint8_t *p = &sentinel;
	size_t n = 3;

	tu_fill(plain, sizeof(plain), 81);
	/* Control: canonical uncompressed bodies of each type. */
	b = mkbody(0, 2000, plain, 2000, &bl);
	CHECK(bl == 2048);
	CHECK(body_ok(b, bl, CF_OBJ_TREE, plain, 2000));
	CHECK(body_ok(b, bl, CF_OBJ_CHUNK, plain, 2000));
	CHECK_RC(cf_object_decode_body(b, bl, 0, &p, &n), COFFER_EINVAL);
	CHECK(p == NULL && n == 0);
	CHECK_RC(cf_object_decode_body(b, bl, 6, &p, &n), COFFER_EINVAL);
	/* comp neither 0 nor 1. */
	b[0] = 2;
	CHECK(body_refused(b, bl, CF_OBJ_CHUNK));
	b[0] = 0xff;
	CHECK(body_refused(b, bl, CF_OBJ_CHUNK));
	b[0] = 0;
	/* Non-zero padding, first and last byte of it. */
	b[BHDR + 2000] = 0x01;
	CHECK(body_refused(b, bl, CF_OBJ_TREE));
	b[BHDR + 2000] = 0;
	b[bl - 1] = 0x80;
	CHECK(body_refused(b, bl, CF_OBJ_TREE));
	b[bl - 1] = 0;
	CHECK(body_ok(b, bl, CF_OBJ_TREE, plain, 2000));
	/* Padding one byte short, one byte long, or to the next step. */
	CHECK(body_refused(b, bl - 1, CF_OBJ_TREE));
	free(b);
	b = mkbody_len(0, 2000, plain, 2000, 2049);
	CHECK(body_refused(b, 2049, CF_OBJ_TREE));
	free(b);
	b = mkbody_len(0, 2000, plain, 2000, cf_padme(2049));
	CHECK(body_refused(b, cf_padme(2049), CF_OBJ_TREE));
	free(b);
	/* Unpadded. */
	b = mkbody_len(0, 2000, plain, 2000, BHDR + 2000);
	CHECK(body_refused(b, BHDR + 2000, CF_OBJ_TREE));
	free(b);
	/* payload_len != plain_len without compression. */
	b = mkbody(0, 1999, plain, 2000, &bl);
	CHECK(body_refused(b, bl, CF_OBJ_TREE));
	free(b);
	b = mkbody(0, 2000, plain, 1999, &bl);
	CHECK(body_refused(b, bl, CF_OBJ_TREE));
	free(b);
	/* payload_len beyond the body. */
	b = mkbody_len(0, 2000, plain, 2000, 1024);
	CHECK(body_refused(b, 1024, CF_OBJ_TREE));
	free(b);
	/* Empty: valid; shorter than the 9-byte header: not. */
	b = mkbody(0, 0, NULL, 0, &bl);
	CHECK(bl == 1024);
	CHECK(body_ok(b, bl, CF_OBJ_DIR, NULL, 0));
	CHECK(body_refused(b, 8, CF_OBJ_DIR));
	CHECK(body_refused(b, 0, CF_OBJ_DIR));
	CHECK(body_refused(NULL, 0, CF_OBJ_DIR));
	free(b);
}

static void
t_body_cap(void)
{
	uint8_t *plain = xmalloc((size_t)CF_OBJ_PLAIN_MAX + 1), *b;
	uint8_t f[4096];
	size_t bl, fl;

	memset(plain, 'A', (size_t)CF_OBJ_PLAIN_MAX + 1);
	/* Uncompressed, at the cap and one past it. */
	b = mkbody(0, CF_OBJ_PLAIN_MAX, plain, CF_OBJ_PLAIN_MAX, &bl);
	CHECK(body_ok(b, bl, CF_OBJ_CHUNK, plain, CF_OBJ_PLAIN_MAX));
	free(b);
	b = mkbody(0, CF_OBJ_PLAIN_MAX + 1, plain, CF_OBJ_PLAIN_MAX + 1, &bl);
	CHECK(body_refused(b, bl, CF_OBJ_CHUNK));
	free(b);
	/* zstd, an honest frame, at the cap and one past it. */
	fl = mkframe(f, CF_OBJ_PLAIN_MAX, 0, 1, 0, 0, CF_OBJ_PLAIN_MAX, 'A');
	b = mkbody(1, CF_OBJ_PLAIN_MAX, f, (uint32_t)fl, &bl);
	CHECK(body_ok(b, bl, CF_OBJ_CHUNK, plain, CF_OBJ_PLAIN_MAX));
	free(b);
	fl = mkframe(f, CF_OBJ_PLAIN_MAX + 1, 0, 1, 0, 0, CF_OBJ_PLAIN_MAX + 1,
	    'A');
	b = mkbody(1, CF_OBJ_PLAIN_MAX + 1, f, (uint32_t)fl, &bl);
	CHECK(body_refused(b, bl, CF_OBJ_CHUNK));
	free(b);
	/* A header claiming 4 GiB. */
	b = mkbody_len(0, UINT32_MAX, plain, UINT32_MAX, 1024);
	CHECK(body_refused(b, 1024, CF_OBJ_CHUNK));
	free(b);
	free(plain);
}

/* A zstd body of ${frame} claiming ${plain_len}: refused? */
static int
zbody_refused(const uint8_t *frame, size_t fl, uint32_t plain_len)
{
	uint8_t *b;
	size_t bl;
	int ok;

	b = mkbody(1, plain_len, frame, (uint32_t)fl, &bl);
	ok = body_refused(b, bl, CF_OBJ_CHUNK);
	free(b);
	return ok;
}

static int
zbody_ok(const uint8_t *frame, size_t fl, const uint8_t *plain,
    uint32_t plain_len)
{
	uint8_t *b;
	size_t bl;
	int ok;

	b = mkbody(1, plain_len, frame, (uint32_t)fl, &bl);
	ok = body_ok(b, bl, CF_OBJ_CHUNK, plain, plain_len);
	free(b);
	return ok;
}

static void
t_body_zstd_handmade(void)
{
	uint8_t f[256], plain[6000];
	size_t fl;
	uint8_t t;

	memset(plain, 'A', sizeof(plain));
	/* Controls: single segment, and a window descriptor of exactly 2^25. */
	fl = mkframe(f, 5000, 0, 1, 0, 0, 5000, 'A');
	CHECK(zbody_ok(f, fl, plain, 5000));
	/* ...but only for chunks. */
	for (t = 2; t <= CF_OBJ_TYPE_MAX; t++) {
		uint8_t *b;
		size_t bl;

		b = mkbody(1, 5000, f, (uint32_t)fl, &bl);
		CHECK(body_refused(b, bl, t));
		free(b);
	}
	/* The body's plain_len disagrees with an honest frame. */
	CHECK(zbody_refused(f, fl, 4999));
	CHECK(zbody_refused(f, fl, 5001));
	fl = mkframe(f, 5000, 0, 0, 0x78, 0, 5000, 'A');
	CHECK(zbody_ok(f, fl, plain, 5000));
	/* Window 2^25 + 2^22, and 2^26: refused. */
	fl = mkframe(f, 5000, 0, 0, 0x79, 0, 5000, 'A');
	CHECK(zbody_refused(f, fl, 5000));
	fl = mkframe(f, 5000, 0, 0, 0x80, 0, 5000, 'A');
	CHECK(zbody_refused(f, fl, 5000));
	fl = mkframe(f, 5000, 0, 0, 0xf8, 0, 5000, 'A');	/* 2^41 */
	CHECK(zbody_refused(f, fl, 5000));
	/* Content size declared larger, then smaller, than the content. */
	fl = mkframe(f, 5000, 0, 1, 0, 0, 4000, 'A');
	CHECK(zbody_refused(f, fl, 5000));
	fl = mkframe(f, 5000, 0, 0, 0x78, 0, 4000, 'A');
	CHECK(zbody_refused(f, fl, 5000));
	fl = mkframe(f, 4000, 0, 0, 0x78, 0, 5000, 'A');
	CHECK(zbody_refused(f, fl, 4000));
	/* No content size at all. */
	fl = mkframe(f, 0, 1, 0, 0x78, 0, 5000, 'A');
	CHECK(zbody_refused(f, fl, 5000));
	/*
	 * A dictionary id.  zstd itself would refuse to decode it without
	 * the dictionary, so the rule is also checked on its own: the frame
	 * check refuses it before any decompression is attempted.
	 */
	fl = mkframe(f, 5000, 0, 1, 0, 7, 5000, 'A');
	CHECK(zbody_refused(f, fl, 5000));
	CHECK(cf_object_zstd_frame_ok(f, fl, 5000) == 0);
	fl = mkframe(f, 5000, 0, 1, 0, 0, 5000, 'A');		/* control */
	CHECK(cf_object_zstd_frame_ok(f, fl, 5000) == 1);
	/* payload_len == plain_len, with an honest 13-byte frame of 13. */
	fl = mkframe(f, 13, 0, 1, 0, 0, 13, 'A');
	CHECK(fl == 13);
	CHECK(zbody_refused(f, fl, 13));
	fl = mkframe(f, 14, 0, 1, 0, 0, 14, 'A');
	CHECK(zbody_ok(f, fl, plain, 14));
	fl = mkframe(f, 12, 0, 1, 0, 0, 12, 'A');
	CHECK(zbody_refused(f, fl, 12));
	/* A legacy magic number (v0.7) with otherwise the same bytes. */
	fl = mkframe(f, 5000, 0, 1, 0, 0, 5000, 'A');
	f[0] = 0x27;
	CHECK(zbody_refused(f, fl, 5000));
	/* ...by the frame check itself, not only by zstd's decoder. */
	CHECK(cf_object_zstd_frame_ok(f, fl, 5000) == 0);
	/* A reserved block type. */
	fl = mkframe(f, 5000, 0, 1, 0, 0, 5000, 'A');
	f[fl - 4] |= 3 << 1;
	CHECK(zbody_refused(f, fl, 5000));
	/* A frame cut short, and a frame of nothing but a magic number. */
	fl = mkframe(f, 5000, 0, 1, 0, 0, 5000, 'A');
	CHECK(zbody_refused(f, fl - 1, 5000));
	CHECK(zbody_refused(f, 4, 5000));
	CHECK(zbody_refused(f, 0, 5000));
}

static void
t_body_zstd_genuine(void)
{
	uint8_t a[20000], bb[20000], f[2 * 20000 + 256], sk[64];
	size_t fa, fb, fl, i;

	fill_text(a, sizeof(a), 91);
	fill_text(bb, sizeof(bb), 92);
	/* Control: a frame from the real compressor. */
	fa = zframe(f, sizeof(f), a, sizeof(a), 1);
	CHECK(fa < sizeof(a));
	CHECK(zbody_ok(f, fa, a, sizeof(a)));
	/* Trailing garbage after the frame. */
	f[fa] = 0;
	CHECK(zbody_refused(f, fa + 1, sizeof(a)));
	memcpy(f + fa, "junk", 4);
	CHECK(zbody_refused(f, fa + 4, sizeof(a)));
	/* Two frames, whatever size the body claims. */
	fb = zframe(f + fa, sizeof(f) - fa, bb, sizeof(bb), 1);
	CHECK(zbody_refused(f, fa + fb, sizeof(a)));
	CHECK(zbody_refused(f, fa + fb, sizeof(a) + sizeof(bb)));
	/* A skippable frame after, before, or alone. */
	memset(sk, 0, sizeof(sk));
	sk[0] = 0x50;			/* ZSTD_MAGIC_SKIPPABLE_START, LE */
	sk[1] = 0x2a;
	sk[2] = 0x4d;
	sk[3] = 0x18;
	sk[4] = 8;			/* 8 bytes of user data */
	memset(sk + 8, 'S', 8);
	fa = zframe(f, sizeof(f), a, sizeof(a), 1);
	memcpy(f + fa, sk, 16);
	CHECK(zbody_refused(f, fa + 16, sizeof(a)));
	memmove(f + 16, f, fa);
	memcpy(f, sk, 16);
	CHECK(zbody_refused(f, fa + 16, sizeof(a)));
	CHECK(zbody_refused(sk, 16, sizeof(a)));
	/* The real compressor without the content size flag. */
	fl = zframe(f, sizeof(f), a, sizeof(a), 0);
	CHECK(ZSTD_getFrameContentSize(f, fl) == ZSTD_CONTENTSIZE_UNKNOWN);
	CHECK(zbody_refused(f, fl, sizeof(a)));
	/* A genuine frame with one payload byte changed (not the header). */
	fa = zframe(f, sizeof(f), a, sizeof(a), 1);
	for (i = 20; i < fa; i += fa / 7) {
		uint8_t *b, *p = NULL;
		size_t bl, n = 0;
		int rc;

		f[i] ^= 0x55;
		b = mkbody(1, sizeof(a), f, (uint32_t)fa, &bl);
		rc = cf_object_decode_body(b, bl, CF_OBJ_CHUNK, &p, &n);
		/* Either refused, or exactly plain_len bytes out. */
		CHECK(rc == COFFER_ENOTAUTHENTIC || (rc == 0 && n == sizeof(a)));
		if (rc == 0)
			free(p);
		else
			CHECK(p == NULL && n == 0);
		free(b);
		f[i] ^= 0x55;
	}
}

/* --------------------------------------------------------- fuzz seeds */

/*
 * The fixed key of fuzz/fuzz_object_open.c: enc_key = 00..1f,
 * id_key = 20..3f, drive id = 32 bytes of 0xdd.  Keep in step.
 */
static void
fuzz_key(struct cf_objkey *k, uint8_t drive[32])
{
	int i;

	for (i = 0; i < 32; i++) {
		k->enc_key[i] = (uint8_t)i;
		k->id_key[i] = (uint8_t)(0x20 + i);
	}
	cf_key_id(k->enc_key, k->key_id);
	memset(drive, 0xdd, 32);
}

static int
write_file(const char *dir, const char *sub, const char *name,
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return 0;
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	if ((f = fopen(path, "wb")) == NULL)
		return 0;
	ok = fwrite(a, 1, alen, f) == alen &&
	    (blen == 0 || fwrite(b, 1, blen, f) == blen);
	return fclose(f) == 0 && ok;
}

static int
write_seeds(const char *dir)
{
	struct cf_objkey k;
	struct lk l;
	uint8_t drive[32], text[3000], id[32], pre[33];
	uint8_t *blob, *body;
	size_t bloblen, bodylen, i;
	int ok = 1;
	static const struct {
		const char *name;
		uint8_t type;
		size_t len;
		int flags;
	} s[] = {
		{ "chunk-zstd", CF_OBJ_CHUNK, 3000, CF_SEAL_COMPRESS },
		{ "chunk-raw", CF_OBJ_CHUNK, 40, 0 },
		{ "tree", CF_OBJ_TREE, 100, 0 },
		{ "commit-empty", CF_OBJ_COMMIT, 0, 0 },
	};

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return 1;
	fuzz_key(&k, drive);
	fill_text(text, sizeof(text), 7);
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (cf_object_seal(&k, s[i].type, drive, text, s[i].len,
		    s[i].flags, id, &blob, &bloblen) != 0)
			return 1;
		/* A seed must open under the harness's key. */
		lk_init(&l, &k, LK_MATCH);
		if (!open_ok(blob, bloblen, s[i].type, drive, id, &l, text,
		    s[i].len))
			return 1;
		/* fuzz_object_open: type - 1 || object id || blob */
		pre[0] = (uint8_t)(s[i].type - 1);
		memcpy(pre + 1, id, 32);
		ok &= write_file(dir, "fuzz_object_open", s[i].name, pre, 33,
		    blob, bloblen);
		ok &= write_file(dir, "fuzz_object_header", s[i].name, blob,
		    bloblen, NULL, 0);
		/* fuzz_object_body: type - 1 || decrypted body */
		body = unseal_body(k.enc_key, s[i].type, drive, id, blob,
		    bloblen, &bodylen);
		if (body == NULL)
			return 1;
		ok &= write_file(dir, "fuzz_object_body", s[i].name, pre, 1,
		    body, bodylen);
		free(body);
		free(blob);
	}
	return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (coffer_init() != 0)
		return 1;
	mkkey(&KA, 1);
	mkkey(&KB, 2);
	tu_fill(DRIVE1, 32, 3);
	tu_fill(DRIVE2, 32, 4);
	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
		return write_seeds(argv[2]);

	T_RUN(t_padme_table);
	T_RUN(t_padme_sweep);
	T_RUN(t_object_id);
	T_RUN(t_roundtrip_types);
	T_RUN(t_roundtrip_large);
	T_RUN(t_compress);
	T_RUN(t_probe);
	T_RUN(t_seal_into);
	T_RUN(t_seal_args);
	T_RUN(t_header);
	T_RUN(t_truncate_extend);
	T_RUN(t_flip_small);
	T_RUN(t_flip_large);
	T_RUN(t_ad_fields);
	T_RUN(t_forge_control);
	T_RUN(t_commitment);
	T_RUN(t_id_recompute);
	T_RUN(t_open_lying_frame);
	T_RUN(t_body_basic);
	T_RUN(t_body_cap);
	T_RUN(t_body_zstd_handmade);
	T_RUN(t_body_zstd_genuine);
	T_DONE("object");
}
