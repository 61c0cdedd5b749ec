/*
 * Private to lib/object: the body decoder shared by open() and
 * cf_object_decode_body(), and the layout of the clear header.
 */
#ifndef CF_OBJECT_INTERNAL_H
#define CF_OBJECT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "object.h"

/* Offsets in the clear header (FORMAT §6). */
#define CF_OBJ_OFF_VERSION	CF_OBJ_TAG_BYTES
#define CF_OBJ_OFF_KEYID	(CF_OBJ_OFF_VERSION + 1)
#define CF_OBJ_OFF_NONCE	(CF_OBJ_OFF_KEYID + CF_ID_BYTES)
#define CF_OBJ_OFF_CMT		(CF_OBJ_OFF_NONCE + CF_OBJ_NONCE_BYTES)
/* hdr': the header without C. */
#define CF_OBJ_HDRP_BYTES	CF_OBJ_OFF_CMT

/* A decoded (still borrowed) body: FORMAT §7. */
struct cf_objbody {
	uint8_t comp;		/* CF_OBJ_COMP_* */
	uint32_t plain_len;
	uint32_t payload_len;
	const uint8_t *payload;	/* points into the body */
};

/* 1 if ${type} is a known object type. */
static inline int
cf_object_type_ok(uint8_t type)
{
	return type >= CF_OBJ_CHUNK && type <= CF_OBJ_TYPE_MAX;
}

/**
 * cf_object_body_parse(body, len, type, b):
 * Check every rule of FORMAT §7 that can be checked without
 * decompressing (sizes, caps, padding; for zstd: one frame spanning the
 * payload, declared content size == plain_len, window <= 2^25) and
 * describe the body in ${b}, which borrows from ${body}.
 * COFFER_ENOTAUTHENTIC if any rule fails, COFFER_EINVAL for a bad type.
 */
int cf_object_body_parse(const uint8_t *body, size_t len, uint8_t type,
    struct cf_objbody *b);

/**
 * cf_object_body_inflate(b, out):
 * Decompress the zstd payload of a parsed body into ${out}, which holds
 * exactly ${b}->plain_len bytes; the output must be exactly that long.
 * COFFER_ENOTAUTHENTIC if not, COFFER_ENOMEM if no context could be made.
 * ${out} may hold garbage on failure: the caller wipes it.
 */
int cf_object_body_inflate(const struct cf_objbody *b, uint8_t *out);

/**
 * cf_object_incompressible(p, len):
 * 1 if the chunk ${p} of ${len} bytes looks incompressible (every sampled
 * window has a near-flat byte histogram), so that zstd need not be tried;
 * 0 if compression is worth a try.  A cheap heuristic (a few windows of
 * 4 KiB), never a rule of the format: storing a chunk uncompressed is
 * always valid (FORMAT §7).  It misses data that is flat byte by byte but
 * repeats at a distance (a random block copied twice), which is stored
 * uncompressed.
 */
int cf_object_incompressible(const uint8_t *p, size_t len);

/**
 * cf_object_zstd_frame_ok(p, n, plain_len):
 * 1 if ${p} is exactly one zstd frame of ${n} bytes that declares a
 * content size of ${plain_len}, needs no dictionary and asks for a window
 * of at most 2^CF_ZSTD_WINDOWLOG_MAX bytes; else 0.  (seal() checks its
 * own output with it too.)
 */
int cf_object_zstd_frame_ok(const uint8_t *p, size_t n, size_t plain_len);

#endif /* !CF_OBJECT_INTERNAL_H */
