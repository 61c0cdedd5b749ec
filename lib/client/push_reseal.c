/*
 * Re-sealing a version under the newest drive secret (device remove
 * --rekey): the head re-chunked and sealed from the server's objects,
 * in memory, through push's pipeline and commit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "push_internal.h"

/*
 * device remove --rekey (DESIGN §5) gives every drive a new drive secret
 * and re-seals its head as a new version under it.  No plaintext goes to
 * disk: the head's folders are walked from the server (each tree, list
 * and chunk opened and checked against its id), each file's bytes are
 * streamed through the new secret's chunker in the read window -- chunks
 * fetched a get-many at a time, so at most one answer and one window of
 * plaintext is held besides the upload batches -- and everything is
 * sealed and uploaded through the push pipeline above, the commit made
 * (several, past the delta cap) the way a push makes it.  The new
 * version's content is the old one's, byte for byte and entry for entry.
 */

/* One file being re-chunked: the window is p->buf[off, have). */
struct reseal_file {
	struct push *p;
	struct cf_list_builder *lb;
	const struct cf_ref *refs;	/* the refs being fetched */
	size_t have, off;
	uint64_t bytes;			/* the file's bytes so far */
};

/* Cut, hash, queue and list one chunk of the window. */
static int
reseal_emit(struct reseal_file *rf, size_t cut)
{
	struct push *p = rf->p;
	uint8_t id[CF_ID_BYTES];
	int r;

	cf_object_id(p->ckey.id_key, CF_OBJ_CHUNK, p->buf + rf->off, cut, id);
	if ((r = cf_upload_object(p, CF_OBJ_CHUNK, p->buf + rf->off, cut,
	    id)) != 0 ||
	    (r = cf_list_builder_add(rf->lb, id, (uint32_t)cut)) != 0)
		return r;
	rf->off += cut;
	return 0;
}

/* cf_fetch_fn: the next old chunk of the file, into the window. */
static int
reseal_chunk_cb(void *ctx, size_t i, const uint8_t *plain, size_t len)
{
	struct reseal_file *rf = ctx;
	struct push *p = rf->p;
	size_t k, cut;
	int r;

	/* The tree's length for it (the id binds the bytes, not the ref). */
	if (len != rf->refs[i].len)
		return COFFER_ENOTAUTHENTIC;
	rf->bytes += len;
	p->res->bytes_read += len;
	while (len > 0) {
		/* A full window always has a cut below (CF_CHUNK_MAX). */
		if (rf->have == READ_WINDOW && rf->off > 0) {
			memmove(p->buf, p->buf + rf->off, rf->have - rf->off);
			rf->have -= rf->off;
			rf->off = 0;
		}
		k = READ_WINDOW - rf->have < len ? READ_WINDOW - rf->have : len;
		memcpy(p->buf + rf->have, plain, k);
		rf->have += k;
		plain += k;
		len -= k;
		while (rf->have > rf->off && (cut = cf_chunker_cut(p->chunker,
		    p->buf + rf->off, rf->have - rf->off, 0)) > 0)
			if ((r = reseal_emit(rf, cut)) != 0)
				return r;
	}
	return 0;
}

/* Fetch the ${n} chunks ${refs} in order and stream them in. */
static int
reseal_refs(struct reseal_file *rf, const struct cf_ref *refs, size_t n)
{
	uint8_t (*ids)[CF_ID_BYTES];
	size_t i;
	int r;

	if (n == 0)
		return 0;
	if ((ids = malloc(n * CF_ID_BYTES)) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < n; i++)
		memcpy(ids[i], refs[i].id, CF_ID_BYTES);
	rf->refs = refs;
	r = cf_session_fetch(rf->p->s, rf->p->dk, rf->p->epoch, CF_OBJ_CHUNK,
	    (const uint8_t (*)[CF_ID_BYTES])ids, n, reseal_chunk_cb, rf);
	free(ids);
	return r;
}

/* The old file ${e}'s bytes, chunked anew into ${ne}'s refs. */
static int
reseal_file(struct push *p, const struct cf_tree_entry *e,
    struct cf_tree_entry *ne)
{
	struct reseal_file rf;
	struct cf_list *l = NULL;
	struct cf_ref *refs = NULL;
	uint8_t *plain = NULL;
	size_t plen = 0, i, cut;
	uint64_t sum = 0;
	int r;

	memset(&rf, 0, sizeof(rf));
	rf.p = p;
	ne->refs = NULL;
	ne->nrefs = 0;
	if ((r = cf_list_builder_new(p->mkey.id_key, cf_upload_emit, p,
	    &rf.lb)) != 0)
		goto out;
	if (e->how == CF_FILE_CHUNKS) {
		if ((r = reseal_refs(&rf, e->refs, e->nrefs)) != 0)
			goto out;
	} else {
		for (i = 0; i < e->nrefs; i++) {
			if ((r = cf_session_fetch_one(p->s, p->dk, p->epoch,
			    CF_OBJ_LIST, e->refs[i].id, &plain, &plen,
			    NULL)) != 0)
				goto out;
			r = cf_list_decode(plain, plen, &l);
			cf_wipefree(plain, plen);
			plain = NULL;
			if (r != 0 || (r = cf_list_check_one(e, i, l, &sum)) != 0 ||
			    (r = reseal_refs(&rf, l->chunks, l->n)) != 0)
				goto out;
			cf_list_free(l);
			l = NULL;
		}
		if ((r = cf_list_check_end(e, sum)) != 0)
			goto out;
	}
	/* The end of the file: what is left is cut as at end of file. */
	while (rf.have > rf.off) {
		if ((cut = cf_chunker_cut(p->chunker, p->buf + rf.off,
		    rf.have - rf.off, 1)) == 0) {
			r = COFFER_EINTERNAL;
			goto out;
		}
		if ((r = reseal_emit(&rf, cut)) != 0)
			goto out;
	}
	if ((r = cf_list_builder_finish(rf.lb, &ne->how, &refs, &ne->nrefs,
	    &ne->size)) != 0)
		goto out;
	if (ne->size != e->size || rf.bytes != e->size) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	ne->refs = refs;
	refs = NULL;
	p->res->files++;
	if (p->s->progress != NULL)
		p->s->progress(p->s->progress_ctx, "rekey: re-sealed bytes",
		    p->res->bytes_read, 0);
out:
	/* The window held plaintext. */
	sodium_memzero(p->buf, rf.have);
	cf_list_builder_free(rf.lb);
	cf_list_free(l);
	free(refs);
	return r;
}

/* The old folder ${old} re-sealed, its new tree id in ${id}. */
static int
reseal_dir(struct push *p, const uint8_t old[static CF_ID_BYTES],
    uint32_t depth, uint8_t id[static CF_ID_BYTES])
{
	struct cf_folder f;
	struct cf_tree_entry *ne = NULL;
	size_t i, n = 0;
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = cf_push_folder(p, old, &f)) != 0)
		goto out;
	if (f.n > 0 && (ne = calloc(f.n, sizeof(*ne))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (n = 0; n < f.n; n++) {
		/* Name, mode, times, symlink target: as they were. */
		ne[n] = *f.e[n];
		if (f.e[n]->type == CF_TREE_FILE) {
			if ((r = reseal_file(p, f.e[n], &ne[n])) != 0)
				goto out;
		} else if (f.e[n]->type == CF_TREE_DIR) {
			if (depth + 1 > CF_WALK_DEPTH_MAX) {
				r = COFFER_ENOTAUTHENTIC;
				goto out;
			}
			if ((r = reseal_dir(p, f.e[n]->subtree, depth + 1,
			    ne[n].subtree)) != 0)
				goto out;
		}
	}
	r = cf_tree_build(ne, n, p->mkey.id_key, cf_upload_emit, p, id);
out:
	for (i = 0; ne != NULL && i < f.n; i++)
		if (ne[i].type == CF_TREE_FILE && ne[i].refs != f.e[i]->refs)
			free((void *)(uintptr_t)ne[i].refs);
	free(ne);
	cf_folder_free(&f);
	return r;
}

int
cf_push_reseal(struct cf_session *s, const char *drive,
    struct cf_push_result *res)
{
	struct push p;
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	struct cf_commit pc;
	const struct cf_drive_secret *sec;
	uint8_t drive_id[CF_ID_BYTES], root[CF_ID_BYTES];
	int done = 0, r, r2;

	cf_push_init(&p, s, res);
	if ((r = cf_push_drive_open(&p, drive, drive_id, &dk, &sec)) != 0)
		goto out;
	cf_known_mac_key(sec->chunk_id_key, p.known_key);
	if ((p.buf = malloc(READ_WINDOW)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if ((r = cf_session_load_pin(s, drive_id, &pin)) != 0 ||
	    (r = cf_session_sync_head(s, dk, pin)) != 0)
		goto out;
	if (pin->n == 0) {
		res->unchanged = 1;	/* an empty drive stays empty */
		goto out;
	}
	if ((r = cf_push_parent_set(&p, pin, &pc)) != 0)
		goto out;
	/* The head's top folder metadata (or its absence) carries over. */
	p.top = pc;
	if ((r = cf_upload_start(&p)) != 0)
		goto out;
	r = reseal_dir(&p, pc.root_id, 1, root);
	if (r == 0)
		r = cf_upload_flush(&p);
	else
		cf_upload_cancel(&p.up, r);
	if ((r2 = cf_upload_finish(&p)) != 0 && r == 0)
		r = r2;
	if (r != 0)
		goto out;
	if ((r = cf_idhash_take_sorted(&p.child, &p.childset)) != 0)
		goto out;
	if (!memcmp(pc.root_id, root, CF_ID_BYTES)) {
		res->unchanged = 1;	/* the secret did not change */
		memcpy(res->commit_id, pin->ids[pin->n - 1], CF_ID_BYTES);
		goto out;
	}
	if ((r = cf_push_split_commit(&p, pin, &pc, root, &done)) != 0)
		goto out;
	if (!done) {
		/* The head moved: the caller starts again from the new one. */
		r = COFFER_ECONFLICT;
		goto out;
	}
	res->version = pin->n;
	cf_push_known_save(&p, res->commit_id);
out:
	cf_push_free(&p);
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	return r;
}
