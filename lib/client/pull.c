/*
 * pull (DESIGN §7): the operation.  It verifies a whole version -- the
 * commit on the pinned line, every tree and list (version.c) -- before
 * it touches the target; then, the target locked against another pull,
 * a non-empty target needs --overwrite, and without --delete a local
 * entry of another kind than the version's stops it before the first
 * write.  The writing itself is pull_write.c's: relative to directory
 * handles opened with O_NOFOLLOW, each file under a temporary name
 * renamed once all its chunks are verified, symlinks and each folder's
 * mode and times after its contents.  Without --delete it removes nothing
 * but planted symlinks and stale temporary files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "pull_internal.h"

#define PULL_CONFLICTS_SHOWN	100	/* conflicts warned one by one */

/*
 * Why the local entry of mode ${m} may not be replaced by the version's
 * entry of type ${type} without --delete, or NULL: a folder by anything
 * else, a file (anything but a folder or a symlink) by a folder or a
 * symlink.  A symlink is replaced, never followed; a file by a file.
 */
static const char *
conflict(uint8_t type, mode_t m)
{
	if (S_ISLNK(m))
		return NULL;
	if (type == CF_TREE_FILE)
		return S_ISDIR(m) ? "a folder here, a file in the version: "
		    "left alone (--delete replaces it)" : NULL;
	if (type == CF_TREE_DIR)
		return S_ISDIR(m) ? NULL : "a file here, a folder in the "
		    "version: left alone (--delete replaces it)";
	return S_ISDIR(m) ? "a folder here, a symlink in the version: left "
	    "alone (--delete replaces it)" : "a file here, a symlink in the "
	    "version: left alone (--delete replaces it)";
}

/*
 * Before the first write: every entry of the version's folder ${id} that
 * meets a local entry of another kind in ${dfd} (conflict()), warned
 * (the first PULL_CONFLICTS_SHOWN) and counted in res->conflicts; into
 * every folder that is a folder on both sides.  Reads only.  A local
 * entry that cannot be seen is left to the write, which skips it.
 */
static int
check_dir(struct wctx *w, int dfd, const uint8_t id[static CF_ID_BYTES],
    struct pbuf *pb)
{
	struct cf_folder f;
	const struct cf_tree_entry *e;
	char name[CF_TREE_NAME_MAX + 1];
	const char *why;
	struct stat st;
	size_t i, old;
	int fd, r;

	if ((r = cf_version_folder(cf_version_load_cb, w->v, id, &f)) != 0)
		return r;
	for (i = 0; i < f.n && r == 0; i++) {
		e = f.e[i];
		memcpy(name, e->name, e->namelen);
		name[e->namelen] = '\0';
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if ((why = conflict(e->type, st.st_mode)) != NULL) {
			if (w->res->conflicts++ < PULL_CONFLICTS_SHOWN)
				cf_pull_say(w, NULL, pb->p, pb->len, name, why);
			continue;
		}
		if (e->type != CF_TREE_DIR || !S_ISDIR(st.st_mode))
			continue;
		if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		if ((r = cf_pull_pbuf_push(pb, name, e->namelen, &old)) == 0) {
			r = check_dir(w, fd, e->subtree, pb);
			pb->len = old;
		}
		close(fd);
	}
	cf_folder_free(&f);
	return r;
}


static int
dir_empty(int dfd, int *emptyp)
{
	struct dirent *de;
	DIR *dir;

	*emptyp = 1;
	if ((dir = cf_opendir_dup(dfd)) == NULL)
		return COFFER_EIO;
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			*emptyp = 0;
			break;
		}
	closedir(dir);
	return 0;
}

int
cf_pull(struct cf_session *s, const char *drive, uint64_t version,
    const char *dir, int flags, cf_warn_fn *warnfn, void *wctx,
    struct cf_pull_result *res)
{
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	struct cf_commit c;
	struct vload v;
	struct wctx w;
	struct pbuf pb;
	size_t i;
	int dfd = -1, empty, r;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	memset(&w, 0, sizeof(w));
	memset(&pb, 0, sizeof(pb));
	if ((r = cf_version_open(s, drive, version, &dk, &pin, &c)) != 0)
		goto out;
	res->version = c.version;
	/* 1. Verify every tree and list of the version. */
	v.s = s;
	v.dk = dk;
	v.max_epoch = cf_chain_epoch_at(s->chain, c.chain_seq);
	v.keep = 1;
	if ((r = cf_version_walk(&v, c.root_id)) != 0)
		goto out;
	/* 2. Only now touch the target: a non-empty one needs --overwrite. */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = cf_session_local_error(s, "make the folder", AT_FDCWD, dir);
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = cf_session_local_error(s, "open the folder", AT_FDCWD, dir);
		goto out;
	}
	/*
	 * One pull at a time: each would remove the other's temporary files.
	 * A file system without locks (ENOLCK, EINVAL: NFS without lockd)
	 * pulls unlocked, as before there was a lock.
	 */
	if (flock(dfd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
		res->busy = 1;
		r = COFFER_ECONFLICT;
		goto out;
	}
	if ((r = dir_empty(dfd, &empty)) != 0)
		goto out;
	if (!empty && !(flags & CF_PULL_OVERWRITE)) {
		r = COFFER_EEXIST;
		goto out;
	}
	w.s = s;
	w.dk = dk;
	w.max_epoch = v.max_epoch;
	w.v = &v;
	w.flags = flags;
	w.res = res;
	w.warn = warnfn;
	w.wctx = wctx;
	/*
	 * 3. Without --delete, a local entry of another kind than the
	 * version's stops the pull before the first write.
	 */
	if (!empty && !(flags & CF_PULL_DELETE)) {
		if ((r = check_dir(&w, dfd, c.root_id, &pb)) != 0)
			goto out;
		if (res->conflicts > PULL_CONFLICTS_SHOWN && warnfn != NULL)
			warnfn(wctx, "and more entries of another kind, not "
			    "listed", NULL, 0);
		if (res->conflicts > 0) {
			r = COFFER_EEXIST;
			goto out;
		}
	}
	/*
	 * 4. Every file, each chunk verified before it is written to a
	 * temporary name, each file renamed once all its chunks are; then
	 * symlinks, deletions and folder modes and times.
	 */
	pb.len = 0;
	if ((r = cf_pull_write_files(&w, dfd, c.root_id, !empty)) == 0)
		r = cf_pull_finish_dir(&w, dfd, c.root_id, &pb);
	if (r == 0)
		r = cf_pull_finish_top(&w, dfd, &c);
	/* The head pulled: this device has looked at it (push tells less). */
	if (r == 0 && c.version == pin->n)
		(void)cf_session_set_looked(s, pin->drive_id, c.version);
out:
	for (i = 0; i < w.nskipdirs; i++)
		free(w.skipdirs[i]);
	free(w.skipdirs);
	free(pb.p);
	if (dfd >= 0)
		close(dfd);
	cf_version_free(&v);
	cf_drive_keys_free(dk);
	cf_drivepin_free(pin);
	return r;
}
