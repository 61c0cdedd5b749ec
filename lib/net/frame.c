/* The batch frame (docs/API.md §3). */
#include <stdlib.h>
#include <string.h>

#include "coffer/err.h"
#include "net/frame.h"

int
cf_frame_decode(const uint8_t *buf, size_t len, int errcode,
    struct cf_frame_item **itemsp, size_t *np)
{
	struct cf_rd r;
	struct cf_frame_item *items = NULL;
	uint32_t count, i, ilen;
	int rc;

	*itemsp = NULL;
	*np = 0;
	if (len > CF_FRAME_MAX) {
		rc = errcode;
		goto out;
	}
	cf_rd_init(&r, buf, len, errcode);
	cf_rd_expect(&r, CF_FRAME_TAG, CF_FRAME_TAG_BYTES);
	if (cf_rd_u8(&r) != CF_FRAME_VERSION)
		cf_rd_fail(&r);
	count = cf_rd_u32(&r);
	if (r.err != 0 || count > CF_FRAME_COUNT_MAX ||
	    (size_t)count > cf_rd_left(&r) / CF_FRAME_ITEM_HDR_BYTES) {
		rc = errcode;
		goto out;
	}
	if (count > 0 &&
	    (items = calloc(count, sizeof(*items))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < count; i++) {
		items[i].id = cf_rd_bytes(&r, CF_ID_BYTES);
		items[i].data = cf_rd_lstr(&r, CF_FRAME_OBJ_MAX, &ilen);
		items[i].len = ilen;
		if (ilen == 0)
			items[i].data = NULL;
		if (r.err != 0)
			break;
	}
	if ((rc = cf_rd_end(&r)) != 0)
		goto out;
	*itemsp = items;
	*np = count;
	items = NULL;
out:
	free(items);
	return rc;
}

static int
cmp_id(const void *a, const void *b)
{
	const uint8_t *const *x = a;
	const uint8_t *const *y = b;

	return memcmp(*x, *y, CF_ID_BYTES);
}

int
cf_frame_unique(const struct cf_frame_item *items, size_t n)
{
	const uint8_t **ids = NULL;
	size_t i;
	int rc = 0;

	if (n < 2)
		goto out;
	if ((ids = calloc(n, sizeof(*ids))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		ids[i] = items[i].id;
	qsort(ids, n, sizeof(*ids), cmp_id);
	for (i = 1; i < n; i++) {
		if (memcmp(ids[i - 1], ids[i], CF_ID_BYTES) == 0) {
			rc = COFFER_EFORMAT;
			goto out;
		}
	}
out:
	free(ids);
	return rc;
}

void
cf_frame_begin(struct cf_frame_w *f)
{
	cf_wr_init(&f->w, CF_FRAME_MAX, 0);
	cf_wr_bytes(&f->w, CF_FRAME_TAG, CF_FRAME_TAG_BYTES);
	cf_wr_u8(&f->w, CF_FRAME_VERSION);
	cf_wr_u32(&f->w, 0);		/* count, patched by finish */
	f->count = 0;
}

size_t
cf_frame_size_with(const struct cf_frame_w *f, size_t len)
{
	return len > CF_FRAME_MAX ? SIZE_MAX :
	    f->w.len + CF_FRAME_ITEM_HDR_BYTES + len;
}

int
cf_frame_add(struct cf_frame_w *f, const uint8_t id[static CF_ID_BYTES],
    const uint8_t *data, size_t len)
{
	int rc = 0;

	if (f->w.err != 0) {
		rc = f->w.err;
		goto out;
	}
	if (f->count >= CF_FRAME_COUNT_MAX || len > CF_FRAME_OBJ_MAX ||
	    cf_frame_size_with(f, len) > CF_FRAME_MAX) {
		rc = COFFER_ETOOBIG;
		goto out;
	}
	cf_wr_bytes(&f->w, id, CF_ID_BYTES);
	cf_wr_lstr(&f->w, data, len);
	if ((rc = f->w.err) != 0)
		goto out;
	f->count++;
out:
	return rc;
}

int
cf_frame_room(struct cf_frame_w *f, size_t n)
{
	size_t len = f->w.len;

	if (f->w.err != 0)
		return f->w.err;
	if (n > CF_FRAME_MAX - len)
		return COFFER_ETOOBIG;
	if (cf_wr_reserve(&f->w, n) == NULL)
		return f->w.err;
	f->w.len = len;
	return 0;
}

uint8_t *
cf_frame_add_open(struct cf_frame_w *f, const uint8_t id[static CF_ID_BYTES],
    size_t maxlen)
{
	uint8_t *q = NULL;

	if (f->w.err != 0)
		goto out;
	if (f->count >= CF_FRAME_COUNT_MAX || maxlen > CF_FRAME_OBJ_MAX ||
	    cf_frame_size_with(f, maxlen) > CF_FRAME_MAX)
		goto out;
	cf_wr_bytes(&f->w, id, CF_ID_BYTES);
	cf_wr_u32(&f->w, 0);		/* patched by close */
	q = cf_wr_reserve(&f->w, maxlen);
out:
	return q;
}

void
cf_frame_add_close(struct cf_frame_w *f, uint8_t *q, size_t maxlen,
    size_t len)
{
	if (f->w.err != 0 || len > maxlen) {
		/* Nothing of it stays: the frame may still be finished. */
		f->w.len = (size_t)(q - f->w.p) - CF_FRAME_ITEM_HDR_BYTES;
		return;
	}
	cf_be32enc(q - 4, (uint32_t)len);
	f->w.len -= maxlen - len;
	f->count++;
}

int
cf_frame_finish(struct cf_frame_w *f, uint8_t **bufp, size_t *lenp)
{
	*bufp = NULL;
	*lenp = 0;
	if (f->w.err == 0 && f->w.len >= CF_FRAME_HDR_BYTES)
		cf_be32enc(f->w.p + CF_FRAME_TAG_BYTES + 1, f->count);
	return cf_wr_finish(&f->w, bufp, lenp);
}

void
cf_frame_abort(struct cf_frame_w *f)
{
	cf_wr_free(&f->w);
	f->count = 0;
}
