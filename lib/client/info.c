/*
 * Reading a drive without writing anything (DESIGN §7): log (the
 * verified line of versions), ls (a folder of a version, each entry
 * verified) and status (every drive's head synced, and the safety code).
 */
#include <stdlib.h>
#include <string.h>

#include "coffer/err.h"
#include "pull_internal.h"

/* ---- log ---- */

struct logctx {
	const struct cf_drive_keys *dk;
	const struct cf_drivepin *pin;
	cf_log_fn *fn;
	void *ctx;
};

static int
log_cb(void *vctx, size_t i, const uint8_t *plain, size_t len)
{
	struct logctx *l = vctx;
	struct cf_log_item it;
	struct cf_commit c;
	int r;

	if ((r = cf_commit_decode(plain, len, &c)) != 0)
		return r;
	if (c.version != i + 1 ||
	    memcmp(c.drive_id, l->dk->drive_id, CF_ID_BYTES) != 0)
		return COFFER_ENOTAUTHENTIC;
	memset(&it, 0, sizeof(it));
	it.version = c.version;
	memcpy(it.commit_id, l->pin->ids[i], CF_ID_BYTES);
	it.time = c.time;
	memcpy(it.author_id, c.author_id, CF_ID_BYTES);
	memcpy(it.root_id, c.root_id, CF_ID_BYTES);
	it.chain_seq = c.chain_seq;
	return l->fn(l->ctx, &it);
}

int
cf_log(struct cf_session *s, const char *drive, cf_log_fn *fn, void *ctx)
{
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	uint8_t drive_id[CF_ID_BYTES];
	struct logctx l;
	int r;

	if ((r = cf_session_drive(s, drive, drive_id, &dk)) != 0)
		goto out;
	if ((r = cf_session_load_pin(s, drive_id, &pin)) != 0 ||
	    (r = cf_session_sync_head(s, dk, pin)) != 0)
		goto out;
	l.dk = dk;
	l.pin = pin;
	l.fn = fn;
	l.ctx = ctx;
	r = cf_session_fetch(s, dk, cf_session_epoch(s), CF_OBJ_COMMIT,
	    (const uint8_t (*)[CF_ID_BYTES])pin->ids, (size_t)pin->n, log_cb, &l);
out:
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	return r;
}

/* ---- ls ---- */

int
cf_ls(struct cf_session *s, const char *drive, uint64_t version,
    const uint8_t *path, size_t pathlen, cf_ls_fn *fn, void *ctx,
    uint64_t *versionp)
{
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	struct cf_commit c;
	struct cf_folder f;
	struct vload v;
	uint8_t cur[CF_ID_BYTES];
	size_t off = 0, end, i;
	int r, found;

	memset(&f, 0, sizeof(f));
	memset(&v, 0, sizeof(v));
	*versionp = 0;
	if ((r = cf_version_open(s, drive, version, &dk, &pin, &c)) != 0)
		goto out;
	*versionp = c.version;
	v.s = s;
	v.dk = dk;
	v.max_epoch = cf_chain_epoch_at(s->chain, c.chain_seq);
	memcpy(cur, c.root_id, CF_ID_BYTES);
	for (;;) {
		while (off < pathlen && path[off] == '/')
			off++;
		if ((r = cf_version_folder(cf_version_load_cb, &v, cur,
		    &f)) != 0)
			goto out;
		if (off >= pathlen)
			break;
		for (end = off; end < pathlen && path[end] != '/'; end++)
			;
		for (found = 0, i = 0; i < f.n; i++) {
			if (f.e[i]->type == CF_TREE_DIR &&
			    cf_tree_name_cmp(f.e[i]->name, f.e[i]->namelen,
			    path + off, end - off) == 0) {
				memcpy(cur, f.e[i]->subtree, CF_ID_BYTES);
				found = 1;
				break;
			}
		}
		cf_folder_free(&f);
		if (!found) {
			r = COFFER_ENOENT;
			goto out;
		}
		off = end;
	}
	for (i = 0; i < f.n; i++)
		if ((r = fn(ctx, f.e[i])) != 0)
			goto out;
out:
	cf_folder_free(&f);
	cf_version_free(&v);
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	return r;
}

/* ---- status ---- */

static int
head_cmp(const void *a, const void *b)
{
	const struct cf_status_drive *x = a, *y = b;

	return memcmp(x->head.drive_id, y->head.drive_id, CF_ID_BYTES);
}

int
cf_status(struct cf_session *s, struct cf_status_drive **drivesp, size_t *np,
    char *safety_code)
{
	struct cf_status_drive *d = NULL;
	struct cf_drive_head *heads = NULL;
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	size_t n = s->dir == NULL ? 0 : s->dir->ndrives, i;
	int r = 0;

	*drivesp = NULL;
	*np = 0;
	if (n > 0 && ((d = calloc(n, sizeof(*d))) == NULL ||
	    (heads = calloc(n, sizeof(*heads))) == NULL)) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct cf_dir_drive *dd = &s->dir->drives[i];
		if ((r = cf_version_sync(s, dd, &dk, &pin)) != 0)
			goto out;
		memcpy(d[i].name, dd->name, dd->namelen);
		memcpy(d[i].head.drive_id, dd->drive_id, CF_ID_BYTES);
		d[i].head.version = pin->n;
		if (pin->n > 0)
			memcpy(d[i].head.commit_id, pin->ids[pin->n - 1],
			    CF_ID_BYTES);
		d[i].verified_at = pin->verified_at;
		cf_drive_keys_free(dk);
		cf_drivepin_free(pin);
		dk = NULL;
		pin = NULL;
	}
	if (n > 0)
		qsort(d, n, sizeof(*d), head_cmp);	/* dir order already; be sure */
	for (i = 0; i < n; i++)
		heads[i] = d[i].head;
	if ((r = cf_session_safety(s, heads, n, safety_code)) != 0)
		goto out;
	*drivesp = d;
	*np = n;
	d = NULL;
out:
	free(d);
	free(heads);
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	return r;
}
