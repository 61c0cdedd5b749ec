/*
 * The bounded binary reader and writer.
 *
 * All binary input -- from the network, the server's disk, the local
 * cache -- is read through struct cf_rd.  Integers are big-endian and
 * fixed width; byte strings are u32-length-prefixed (DESIGN §9).
 *
 * The reader's error is sticky: after the first failure every further
 * read fails and returns zeroes, so a decoder may read a whole structure
 * and check once.  cf_rd_end() refuses trailing bytes.  Lengths are
 * checked as "n > len - off", which cannot overflow.
 *
 * The writer grows up to a hard maximum given at init; past it the
 * writer fails with COFFER_ETOOBIG.  Its error is sticky too.
 */
#ifndef CF_BUF_H
#define CF_BUF_H

#include <stddef.h>
#include <stdint.h>

struct cf_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;		/* 0, or the first error (negative) */
	int errcode;		/* the error to report on bad input */
};

/**
 * cf_rd_init(r, p, len, errcode):
 * Start reading ${len} bytes at ${p}.  Malformed input is reported as
 * ${errcode}: COFFER_ENOTAUTHENTIC for what came from the server,
 * COFFER_EFORMAT for the device's own files.
 */
void cf_rd_init(struct cf_rd *r, const uint8_t *p, size_t len, int errcode);

/* Fixed-width big-endian integers; 0 on error. */
uint8_t cf_rd_u8(struct cf_rd *r);
uint16_t cf_rd_u16(struct cf_rd *r);
uint32_t cf_rd_u32(struct cf_rd *r);
uint64_t cf_rd_u64(struct cf_rd *r);

/**
 * cf_rd_bytes(r, n):
 * Return a pointer to the next ${n} bytes of input (not copied), or NULL
 * if fewer remain.
 */
const uint8_t *cf_rd_bytes(struct cf_rd *r, size_t n);

/**
 * cf_rd_copy(r, out, n):
 * Copy the next ${n} bytes into ${out}; on error ${out} is zeroed.
 */
void cf_rd_copy(struct cf_rd *r, uint8_t *out, size_t n);

/**
 * cf_rd_lstr(r, max, lenp):
 * Read a u32 length, refuse it if above ${max}, and return a pointer to
 * that many bytes with the length in ${*lenp} (NULL and 0 on error).
 */
const uint8_t *cf_rd_lstr(struct cf_rd *r, uint32_t max, uint32_t *lenp);

/**
 * cf_rd_expect(r, p, n):
 * Read ${n} bytes and fail unless they equal ${p} (public tags only).
 */
void cf_rd_expect(struct cf_rd *r, const void *p, size_t n);

/**
 * cf_rd_fail(r):
 * Mark the input malformed (for a value out of range found by a caller).
 */
void cf_rd_fail(struct cf_rd *r);

/* Bytes not yet read. */
size_t cf_rd_left(const struct cf_rd *r);

/**
 * cf_rd_end(r):
 * Return 0 if every read succeeded and no byte is left over, else the
 * error.
 */
int cf_rd_end(const struct cf_rd *r);

struct cf_wr {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
	int err;
	int secret;		/* wipe on growth and free */
};

/**
 * cf_wr_init(w, max, secret):
 * Start an empty writer that may grow to ${max} bytes.  If ${secret},
 * its memory is wiped whenever it is released.
 */
void cf_wr_init(struct cf_wr *w, size_t max, int secret);

void cf_wr_u8(struct cf_wr *w, uint8_t v);
void cf_wr_u16(struct cf_wr *w, uint16_t v);
void cf_wr_u32(struct cf_wr *w, uint32_t v);
void cf_wr_u64(struct cf_wr *w, uint64_t v);
void cf_wr_bytes(struct cf_wr *w, const void *p, size_t n);

/* A u32 length then the bytes; fails with ETOOBIG if n > UINT32_MAX. */
void cf_wr_lstr(struct cf_wr *w, const void *p, size_t n);

/**
 * cf_wr_reserve(w, n):
 * Make room for ${n} more bytes and return a pointer to them (the length
 * grows by ${n}); NULL on error.
 */
uint8_t *cf_wr_reserve(struct cf_wr *w, size_t n);

/**
 * cf_wr_finish(w, pp, lenp):
 * On success hand the buffer to the caller (${*pp}, ${*lenp}; free with
 * free(), or cf_wr_wipefree() for secrets) and return 0.  On error free
 * it and return the error.  The writer is empty afterwards.
 */
int cf_wr_finish(struct cf_wr *w, uint8_t **pp, size_t *lenp);

/* Release the writer's buffer (wiped if secret). */
void cf_wr_free(struct cf_wr *w);

/* Wipe ${len} bytes at ${p} and free them; NULL does nothing. */
void cf_wipefree(void *p, size_t len);

/* Big-endian stores and loads for fixed buffers. */
void cf_be32enc(uint8_t *p, uint32_t v);
void cf_be64enc(uint8_t *p, uint64_t v);
uint32_t cf_be32dec(const uint8_t *p);
uint64_t cf_be64dec(const uint8_t *p);

#endif /* !CF_BUF_H */
