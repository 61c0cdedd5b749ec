/*
 * The public operations on drives: thin wrappers over lib/client/ops.h,
 * with the results copied into the public structs.
 */
#include <stdlib.h>
#include <string.h>

#include "coffer/coffer.h"
#include "client/ops.h"
#include "api.h"

int
coffer_push(struct coffer_session *s, const char *drive, const char *dir,
    int flags, struct coffer_push_result *res)
{
	struct cf_push_result in;
	int r;

	memset(&in, 0, sizeof(in));
	memset(res, 0, sizeof(*res));
	r = cf_push(s->s, drive, dir, flags, s->ctx->warn, s->ctx->warn_arg,
	    &in);
	res->version = in.version;
	res->unchanged = in.unchanged;
	res->files = in.files;
	res->files_read = in.files_read;
	res->bytes_read = in.bytes_read;
	res->chunks_uploaded = in.chunks_uploaded;
	res->bytes_uploaded = in.bytes_uploaded;
	res->skipped = in.skipped;
	res->changed = in.changed;
	res->kept = in.kept;
	res->split_versions = in.split_versions;
	memcpy(res->commit_id, in.commit_id, CF_ID_BYTES);
	res->delta_too_big = in.delta_too_big;
	res->no_folder = in.no_folder;
	res->shrink_refused = in.shrink_refused;
	res->head_files = in.head_files;
	res->dropped_files = in.dropped_files;
	res->replaced_other = in.replaced_other;
	res->replaced_version = in.replaced_version;
	memcpy(res->replaced_author, in.replaced_author, CF_ID_BYTES);
	return r;
}

int
coffer_pull(struct coffer_session *s, const char *drive, uint64_t version,
    const char *dir, int flags, struct coffer_pull_result *res)
{
	struct cf_pull_result in;
	int r;

	memset(&in, 0, sizeof(in));
	memset(res, 0, sizeof(*res));
	r = cf_pull(s->s, drive, version, dir, flags, s->ctx->warn,
	    s->ctx->warn_arg, &in);
	res->version = in.version;
	res->files = in.files;
	res->dirs = in.dirs;
	res->symlinks = in.symlinks;
	res->bytes = in.bytes;
	res->deleted = in.deleted;
	res->conflicts = in.conflicts;
	res->skipped = in.skipped;
	res->tmp_removed = in.tmp_removed;
	res->busy = in.busy;
	return r;
}

struct log_arg {
	coffer_log_fn *fn;
	void *arg;
};

static int
log_item(void *arg, const struct cf_log_item *it)
{
	struct log_arg *la = arg;
	struct coffer_log_item pub;

	memset(&pub, 0, sizeof(pub));
	pub.version = it->version;
	memcpy(pub.commit_id, it->commit_id, CF_ID_BYTES);
	pub.time = it->time;
	memcpy(pub.author_id, it->author_id, CF_ID_BYTES);
	pub.chain_seq = it->chain_seq;
	return la->fn(la->arg, &pub);
}

int
coffer_log(struct coffer_session *s, const char *drive, coffer_log_fn *fn,
    void *arg)
{
	struct log_arg la = { fn, arg };
	int r;

	r = cf_log(s->s, drive, log_item, &la);
	return r;
}

struct ls_arg {
	coffer_ls_fn *fn;
	void *arg;
};

static int
ls_entry(void *arg, const struct cf_tree_entry *e)
{
	struct ls_arg *la = arg;
	struct coffer_entry pub;

	memset(&pub, 0, sizeof(pub));
	pub.type = e->type;
	pub.mode = e->mode;
	pub.size = e->size;
	pub.mtime_sec = e->mtime_sec;
	pub.mtime_nsec = e->mtime_nsec;
	pub.name = e->name;
	pub.namelen = e->namelen;
	if (e->type == CF_TREE_SYMLINK) {
		pub.target = e->target;
		pub.targetlen = e->targetlen;
	}
	return la->fn(la->arg, &pub);
}

int
coffer_ls(struct coffer_session *s, const char *drive, uint64_t version,
    const uint8_t *path, size_t pathlen, coffer_ls_fn *fn, void *arg,
    uint64_t *versionp)
{
	struct ls_arg la = { fn, arg };
	uint64_t got = 0;
	int r;

	r = cf_ls(s->s, drive, version, path, pathlen, ls_entry, &la, &got);
	if (versionp != NULL)
		*versionp = got;
	return r;
}

int
coffer_status(struct coffer_session *s,
    struct coffer_status_drive **drivesp, size_t *np,
    char safety_code[COFFER_SAFETY_CODE_BYTES])
{
	struct cf_status_drive *d = NULL;
	struct coffer_status_drive *v = NULL;
	size_t n = 0, i;
	int r;

	*drivesp = NULL;
	*np = 0;
	r = cf_status(s->s, &d, &n, safety_code);
	if (r != 0)
		goto out;
	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(v[i].name, d[i].name, sizeof(v[i].name));
		v[i].version = d[i].head.version;
		v[i].verified_at = d[i].verified_at;
	}
	*drivesp = v;
	*np = n;
out:
	free(d);
	return r;
}

int
coffer_check(struct coffer_session *s, int read_data,
    struct coffer_check_result *res)
{
	struct cf_check_result in;
	int r;

	memset(&in, 0, sizeof(in));
	r = cf_check(s->s, read_data, &in);
	res->drives = in.drives;
	res->versions = in.versions;
	res->trees = in.trees;
	res->lists = in.lists;
	res->chunks = in.chunks;
	res->chunk_bytes = in.chunk_bytes;
	return r;
}
