#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "buf.h"

void
cf_rd_init(struct cf_rd *r, const uint8_t *p, size_t len, int errcode)
{
	r->p = p;
	r->len = (p == NULL) ? 0 : len;
	r->off = 0;
	r->err = 0;
	r->errcode = errcode;
}

void
cf_rd_fail(struct cf_rd *r)
{
	if (r->err == 0)
		r->err = r->errcode;
}

size_t
cf_rd_left(const struct cf_rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

const uint8_t *
cf_rd_bytes(struct cf_rd *r, size_t n)
{
	const uint8_t *q;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		cf_rd_fail(r);
		return NULL;
	}
	q = r->p + r->off;
	r->off += n;
	return q;
}

void
cf_rd_copy(struct cf_rd *r, uint8_t *out, size_t n)
{
	const uint8_t *q;

	if ((q = cf_rd_bytes(r, n)) == NULL) {
		if (n > 0)
			memset(out, 0, n);
		return;
	}
	if (n > 0)
		memcpy(out, q, n);
}

uint8_t
cf_rd_u8(struct cf_rd *r)
{
	const uint8_t *q = cf_rd_bytes(r, 1);

	return q ? q[0] : 0;
}

uint16_t
cf_rd_u16(struct cf_rd *r)
{
	const uint8_t *q = cf_rd_bytes(r, 2);

	return q ? (uint16_t)(((unsigned)q[0] << 8) | q[1]) : 0;
}

uint32_t
cf_rd_u32(struct cf_rd *r)
{
	const uint8_t *q = cf_rd_bytes(r, 4);

	return q ? cf_be32dec(q) : 0;
}

uint64_t
cf_rd_u64(struct cf_rd *r)
{
	const uint8_t *q = cf_rd_bytes(r, 8);

	return q ? cf_be64dec(q) : 0;
}

const uint8_t *
cf_rd_lstr(struct cf_rd *r, uint32_t max, uint32_t *lenp)
{
	uint32_t n;
	const uint8_t *q;

	*lenp = 0;
	n = cf_rd_u32(r);
	if (r->err)
		return NULL;
	if (n > max) {
		cf_rd_fail(r);
		return NULL;
	}
	if ((q = cf_rd_bytes(r, n)) == NULL)
		return NULL;
	*lenp = n;
	return q;
}

void
cf_rd_expect(struct cf_rd *r, const void *p, size_t n)
{
	const uint8_t *q;

	if ((q = cf_rd_bytes(r, n)) == NULL)
		return;
	if (memcmp(q, p, n) != 0)
		cf_rd_fail(r);
}

int
cf_rd_end(const struct cf_rd *r)
{
	if (r->err)
		return r->err;
	if (r->off != r->len)
		return r->errcode;
	return 0;
}

void
cf_wr_init(struct cf_wr *w, size_t max, int secret)
{
	w->p = NULL;
	w->len = 0;
	w->cap = 0;
	w->max = max;
	w->err = 0;
	w->secret = secret;
}

void
cf_wipefree(void *p, size_t len)
{
	if (p == NULL)
		return;
	sodium_memzero(p, len);
	free(p);
}

static void
wr_release(struct cf_wr *w)
{
	if (w->secret)
		cf_wipefree(w->p, w->cap);
	else
		free(w->p);
	w->p = NULL;
	w->len = w->cap = 0;
}

uint8_t *
cf_wr_reserve(struct cf_wr *w, size_t n)
{
	size_t ncap;
	uint8_t *np;
	uint8_t *q;

	if (w->err)
		return NULL;
	if (n > w->max - w->len) {
		w->err = COFFER_ETOOBIG;
		return NULL;
	}
	if (n > w->cap - w->len) {
		ncap = (w->cap < 64) ? 64 : w->cap;
		while (ncap - w->len < n) {
			if (ncap > SIZE_MAX / 2) {
				ncap = w->len + n;
				break;
			}
			ncap *= 2;
		}
		if (ncap > w->max)
			ncap = w->max;
		if (w->secret) {
			/* Never leave a copy of a secret behind in freed memory. */
			if ((np = malloc(ncap)) == NULL)
				goto nomem;
			if (w->len > 0)
				memcpy(np, w->p, w->len);
			cf_wipefree(w->p, w->cap);
		} else if ((np = realloc(w->p, ncap)) == NULL) {
			goto nomem;
		}
		w->p = np;
		w->cap = ncap;
	}
	q = w->p + w->len;
	w->len += n;
	return q;

nomem:
	w->err = COFFER_ENOMEM;
	return NULL;
}

void
cf_wr_bytes(struct cf_wr *w, const void *p, size_t n)
{
	uint8_t *q;

	if ((q = cf_wr_reserve(w, n)) != NULL && n > 0)
		memcpy(q, p, n);
}

void
cf_wr_u8(struct cf_wr *w, uint8_t v)
{
	cf_wr_bytes(w, &v, 1);
}

void
cf_wr_u16(struct cf_wr *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	cf_wr_bytes(w, b, 2);
}

void
cf_wr_u32(struct cf_wr *w, uint32_t v)
{
	uint8_t b[4];

	cf_be32enc(b, v);
	cf_wr_bytes(w, b, 4);
}

void
cf_wr_u64(struct cf_wr *w, uint64_t v)
{
	uint8_t b[8];

	cf_be64enc(b, v);
	cf_wr_bytes(w, b, 8);
}

void
cf_wr_lstr(struct cf_wr *w, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		if (w->err == 0)
			w->err = COFFER_ETOOBIG;
		return;
	}
	cf_wr_u32(w, (uint32_t)n);
	cf_wr_bytes(w, p, n);
}

int
cf_wr_finish(struct cf_wr *w, uint8_t **pp, size_t *lenp)
{
	int r;

	*pp = NULL;
	*lenp = 0;
	if ((r = w->err) != 0) {
		wr_release(w);
		w->err = 0;
		return r;
	}
	if (w->p == NULL) {
		/* An empty result is still a valid buffer. */
		if ((w->p = malloc(1)) == NULL) {
			return COFFER_ENOMEM;
		}
	}
	*pp = w->p;
	*lenp = w->len;
	w->p = NULL;
	w->len = w->cap = 0;
	return 0;
}

void
cf_wr_free(struct cf_wr *w)
{
	wr_release(w);
	w->err = 0;
}

void
cf_be32enc(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
cf_be64enc(uint8_t *p, uint64_t v)
{
	cf_be32enc(p, (uint32_t)(v >> 32));
	cf_be32enc(p + 4, (uint32_t)v);
}

uint32_t
cf_be32dec(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

uint64_t
cf_be64dec(const uint8_t *p)
{
	return ((uint64_t)cf_be32dec(p) << 32) | cf_be32dec(p + 4);
}
