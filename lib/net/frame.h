/*
 * The batch frame that carries objects between client and server
 * (docs/API.md §3):
 *
 *   frame = "CFBF" || u8 version=1 || u32 count
 *           || count x ( id[32] || u32 len || bytes[len] )
 *
 * Decoded only through the bounded reader, with hard caps on the count,
 * each object's length and the whole frame.  A list of ids (have-which,
 * get-many) is a frame whose every length is 0.
 */
#ifndef CF_FRAME_H
#define CF_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "object/object.h"
#include "util/buf.h"

#define CF_FRAME_TAG		"CFBF"
#define CF_FRAME_TAG_BYTES	4
#define CF_FRAME_VERSION	1
#define CF_FRAME_HDR_BYTES	(CF_FRAME_TAG_BYTES + 1 + 4)
#define CF_FRAME_ITEM_HDR_BYTES	(CF_ID_BYTES + 4)
#define CF_FRAME_COUNT_MAX	65536U
#define CF_FRAME_OBJ_MAX	((uint32_t)CF_OBJ_BLOB_MAX)
#define CF_FRAME_MAX		((size_t)64 << 20)

/* One object of a decoded frame; points into the frame's buffer. */
struct cf_frame_item {
	const uint8_t *id;		/* CF_ID_BYTES */
	const uint8_t *data;		/* len bytes (NULL when len is 0) */
	size_t len;
};

/**
 * cf_frame_decode(buf, len, errcode, itemsp, np):
 * Parse the frame ${buf} (${len} bytes).  On success ${*itemsp} is a
 * malloc'd array of ${*np} items pointing into ${buf} (free the array
 * with free(); NULL when the frame is empty).  A malformed frame, or one
 * past a cap, returns ${errcode} (COFFER_ENOTAUTHENTIC on the client for
 * what the server sent, COFFER_EFORMAT on the server); COFFER_ENOMEM if
 * allocation fails.  Output parameters are cleared on entry.
 */
int cf_frame_decode(const uint8_t *buf, size_t len, int errcode,
    struct cf_frame_item **itemsp, size_t *np);

/**
 * cf_frame_unique(items, n):
 * 0 if the ${n} items have pairwise distinct ids, else COFFER_EFORMAT
 * (COFFER_ENOMEM if allocation fails).
 */
int cf_frame_unique(const struct cf_frame_item *items, size_t n);

/* A frame being written. */
struct cf_frame_w {
	struct cf_wr w;
	uint32_t count;
};

/**
 * cf_frame_begin(f):
 * Start an empty frame that may grow to CF_FRAME_MAX bytes.
 */
void cf_frame_begin(struct cf_frame_w *f);

/**
 * cf_frame_add(f, id, data, len):
 * Append one object (${data} may be NULL when ${len} is 0).  Returns
 * COFFER_ETOOBIG if the count, the object or the frame would pass its
 * cap; the frame is unchanged then and may still be finished.
 */
int cf_frame_add(struct cf_frame_w *f, const uint8_t id[static CF_ID_BYTES],
    const uint8_t *data, size_t len);

/* The size the frame would have after adding an object of ${len} bytes. */
size_t cf_frame_size_with(const struct cf_frame_w *f, size_t len);

/**
 * cf_frame_room(f, n):
 * Make room for ${n} more bytes at once (one allocation instead of
 * growing by doubling).  COFFER_ETOOBIG past CF_FRAME_MAX.
 */
int cf_frame_room(struct cf_frame_w *f, size_t n);

/**
 * cf_frame_add_open(f, id, maxlen), cf_frame_add_close(f, q, maxlen, len):
 * Append one object written in place: open() writes the item header and
 * returns where at most ${maxlen} bytes of it go (NULL if a cap would be
 * passed or allocation failed); the caller writes them and close() sets
 * the length to ${len} <= ${maxlen}.  Closing with ${len} > ${maxlen}
 * drops the item.  Nothing else may touch ${f} in between.
 */
uint8_t *cf_frame_add_open(struct cf_frame_w *f,
    const uint8_t id[static CF_ID_BYTES], size_t maxlen);
void cf_frame_add_close(struct cf_frame_w *f, uint8_t *q, size_t maxlen,
    size_t len);

/**
 * cf_frame_finish(f, bufp, lenp):
 * Hand the encoded frame to the caller (malloc'd; free with free()).
 */
int cf_frame_finish(struct cf_frame_w *f, uint8_t **bufp, size_t *lenp);

/* Release a frame that will not be finished. */
void cf_frame_abort(struct cf_frame_w *f);

#endif /* !CF_FRAME_H */
