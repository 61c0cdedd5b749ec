/* The embedded object store: append-only pack files (docs/STORAGE.md). */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coffer/err.h"
#include "objstore.h"
#include "util/buf.h"
#include "util/num.h"

#define PATH_MAX_LEN	4096
#define PACK_FDS_MAX	1024
#define IOV_BATCH	512

struct srv_objstore {
	char dir[PATH_MAX_LEN];		/* .../packs */
	int dirfd;
	pthread_mutex_t wlock;		/* appends */
	pthread_mutex_t fdlock;		/* the read fd cache */
	uint64_t cur;			/* current pack number, 0: none */
	int curfd;
	uint64_t cursize;
	int rfd[PACK_FDS_MAX];		/* read fds by pack number (cache) */
	int broken;			/* a write or fsync failed: refuse more */
	uint64_t pack_max;
};

static int
pack_path(const struct srv_objstore *s, uint64_t n, const char *suffix,
    char *out, size_t outlen)
{
	int k = snprintf(out, outlen, "%s/pack-%08" PRIu64 "%s", s->dir, n,
	    suffix);

	return (k < 0 || (size_t)k >= outlen) ? COFFER_EINVAL : 0;
}

static int
write_all(int fd, const uint8_t *p, size_t n, off_t off)
{
	ssize_t k;
	int rc = 0;

	while (n > 0 && rc == 0) {
		k = pwrite(fd, p, n, off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = COFFER_EIO;
		} else {
			p += k;
			n -= (size_t)k;
			off += k;
		}
	}
	return rc;
}

/* Create pack ${n}: tmp name, magic, fsync, rename, fsync folder. */
static int
pack_create(struct srv_objstore *s, uint64_t n)
{
	char tmp[PATH_MAX_LEN], fin[PATH_MAX_LEN];
	int fd = -1, rc;

	if ((rc = pack_path(s, n, ".tmp", tmp, sizeof(tmp))) != 0 ||
	    (rc = pack_path(s, n, ".pack", fin, sizeof(fin))) != 0)
		goto out;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		rc = COFFER_EIO;
		goto out;
	}
	if ((rc = write_all(fd, (const uint8_t *)SRV_PACK_MAGIC,
	    SRV_PACK_MAGIC_BYTES, 0)) != 0)
		goto out;
	if (fsync(fd) != 0 || rename(tmp, fin) != 0 || fsync(s->dirfd) != 0) {
		rc = COFFER_EIO;
		goto out;
	}
	if (s->curfd >= 0)
		close(s->curfd);
	s->curfd = fd;
	fd = -1;
	s->cur = n;
	s->cursize = SRV_PACK_MAGIC_BYTES;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int
srv_objstore_open(const char *dir, struct srv_objstore **sp)
{
	struct srv_objstore *s = NULL;
	DIR *d = NULL;
	struct dirent *de;
	struct stat sb;
	char fin[PATH_MAX_LEN];
	const char *num, *end;
	uint64_t v, max = 0;
	size_t i;
	int rc = 0, k;

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	s->dirfd = -1;
	s->curfd = -1;
	s->pack_max = SRV_PACK_MAX;
	for (i = 0; i < PACK_FDS_MAX; i++)
		s->rfd[i] = -1;
	pthread_mutex_init(&s->wlock, NULL);
	pthread_mutex_init(&s->fdlock, NULL);
	k = snprintf(s->dir, sizeof(s->dir), "%s/packs", dir);
	if (k < 0 || (size_t)k >= sizeof(s->dir)) {
		rc = COFFER_EINVAL;
		goto out;
	}
	if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
		rc = COFFER_EIO;
		goto out;
	}
	if ((s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = opendir(s->dir)) == NULL) {
		rc = COFFER_EIO;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "pack-", 5) != 0)
			continue;
		/* pack-NNNNNNNN.pack, zero-padded (pack_path); .tmp
		 * leftovers are ignored. */
		num = de->d_name + 5;
		if ((end = strchr(num, '.')) == NULL ||
		    strcmp(end, ".pack") != 0)
			continue;
		while (*num == '0' && num + 1 < end)
			num++;
		if (cf_parse_u64(num, (size_t)(end - num), UINT64_MAX,
		    &v) != 0 || v == 0)
			continue;
		if (v > max)
			max = v;
	}
	if (max == 0) {
		rc = pack_create(s, 1);
		goto out;
	}
	if ((rc = pack_path(s, max, ".pack", fin, sizeof(fin))) != 0)
		goto out;
	if ((s->curfd = open(fin, O_RDWR | O_CLOEXEC)) < 0 ||
	    fstat(s->curfd, &sb) != 0) {
		rc = COFFER_EIO;
		goto out;
	}
	s->cur = max;
	s->cursize = (uint64_t)sb.st_size;
	if (s->cursize < SRV_PACK_MAGIC_BYTES) {
		/* A pack renamed into place always has its magic. */
		rc = COFFER_EIO;
		goto out;
	}
out:
	if (d != NULL)
		closedir(d);
	if (rc == 0) {
		*sp = s;
		s = NULL;
	}
	srv_objstore_close(s);
	return rc;
}

void
srv_objstore_close(struct srv_objstore *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < PACK_FDS_MAX; i++)
		if (s->rfd[i] >= 0)
			close(s->rfd[i]);
	if (s->curfd >= 0)
		close(s->curfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	pthread_mutex_destroy(&s->wlock);
	pthread_mutex_destroy(&s->fdlock);
	free(s);
}

void
srv_objstore_set_pack_max(struct srv_objstore *s, uint64_t max)
{
	pthread_mutex_lock(&s->wlock);
	s->pack_max = max < SRV_PACK_MAX_MIN ? SRV_PACK_MAX_MIN : max;
	pthread_mutex_unlock(&s->wlock);
}

/*
 * Write ${n} iovecs of ${iov} at ${off} of ${fd}, finishing short writes
 * piece by piece.
 */
static int
writev_all(int fd, struct iovec *iov, size_t niov, uint64_t off)
{
	size_t done, m;
	ssize_t k;
	int rc = 0;

	for (;;) {
		k = pwritev(fd, iov, (int)niov, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		break;
	}
	if (k < 0)
		return COFFER_EIO;
	done = (size_t)k;
	for (m = 0; m < niov && rc == 0; m++) {
		if (done >= iov[m].iov_len) {
			done -= iov[m].iov_len;
		} else {
			rc = write_all(fd, (const uint8_t *)iov[m].iov_base +
			    done, iov[m].iov_len - done, (off_t)(off + done));
			done = 0;
		}
		off += iov[m].iov_len;
	}
	return rc;
}

int
srv_objstore_write(struct srv_objstore *s, struct srv_objput *objs, size_t n)
{
	struct iovec iov[IOV_BATCH];
	uint8_t (*hdr)[SRV_PACK_REC_HDR] = NULL;
	uint64_t off, start, total = 0;
	size_t i, j, niov;
	int rc = 0, fd = -1;

	if (n == 0)
		goto out;
	if ((hdr = malloc(n * SRV_PACK_REC_HDR)) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		total += SRV_PACK_REC_HDR + (uint64_t)objs[i].len;

	/*
	 * Under the lock only: pick the pack and reserve [start, start +
	 * total) at its end.  Writers then write and fsync their own ranges
	 * at once, each through its own descriptor (a new pack may replace
	 * the current one meanwhile).  A range whose write never finished
	 * (crash, error) is never named by the metadata: garbage.
	 */
	pthread_mutex_lock(&s->wlock);
	/* After a failed fsync the page cache cannot be trusted (the error
	 * may be reported once and the dirty pages dropped): stop writing. */
	if (s->broken) {
		rc = COFFER_EIO;
	} else if (s->cursize > SRV_PACK_MAGIC_BYTES &&
	    s->cursize + total > s->pack_max &&
	    (rc = pack_create(s, s->cur + 1)) != 0) {
		s->broken = 1;
	} else if ((fd = fcntl(s->curfd, F_DUPFD_CLOEXEC, 0)) < 0) {
		rc = COFFER_EIO;
	} else {
		start = s->cursize;
		s->cursize += total;
		for (i = 0, off = start; i < n; i++) {
			objs[i].loc.pack = s->cur;
			objs[i].loc.off = off + SRV_PACK_REC_HDR;
			objs[i].loc.len = objs[i].len;
			off += SRV_PACK_REC_HDR + objs[i].len;
		}
	}
	pthread_mutex_unlock(&s->wlock);
	if (rc != 0)
		goto out;

	for (i = 0; i < n; i++) {
		memcpy(hdr[i], objs[i].id, CF_ID_BYTES);
		cf_be32enc(hdr[i] + CF_ID_BYTES, objs[i].len);
	}
	/* Write the batch with as few system calls as the iovec allows. */
	off = start;
	for (i = 0; i < n && rc == 0; i = j) {
		niov = 0;
		for (j = i; j < n && niov + 2 <= IOV_BATCH; j++) {
			iov[niov].iov_base = hdr[j];
			iov[niov++].iov_len = SRV_PACK_REC_HDR;
			if (objs[j].len > 0) {
				iov[niov].iov_base =
				    (void *)(uintptr_t)objs[j].data;
				iov[niov++].iov_len = objs[j].len;
			}
		}
		rc = writev_all(fd, iov, niov, off);
		for (; i < j; i++)
			off += SRV_PACK_REC_HDR + objs[i].len;
	}
	/* Our range (and the size that covers it) durable; others' too if
	 * they were written by now, which is harmless. */
	if (rc == 0 && fdatasync(fd) != 0)
		rc = COFFER_EIO;
	if (rc != 0) {
		pthread_mutex_lock(&s->wlock);
		s->broken = 1;
		pthread_mutex_unlock(&s->wlock);
	}
out:
	if (fd >= 0)
		close(fd);
	free(hdr);
	return rc;
}

int
srv_objstore_read(struct srv_objstore *s, const struct srv_objloc *loc,
    uint8_t *buf)
{
	char path[PATH_MAX_LEN];
	int fd = -1, cached = 0, rc = 0;
	size_t done = 0;
	ssize_t k;

	pthread_mutex_lock(&s->fdlock);
	if (loc->pack < PACK_FDS_MAX && s->rfd[loc->pack] >= 0) {
		fd = s->rfd[loc->pack];
		cached = 1;
	} else if ((rc = pack_path(s, loc->pack, ".pack", path,
	    sizeof(path))) == 0) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			rc = COFFER_EIO;
		} else if (loc->pack < PACK_FDS_MAX) {
			s->rfd[loc->pack] = fd;
			cached = 1;
		}
	}
	pthread_mutex_unlock(&s->fdlock);
	if (rc != 0)
		goto out;
	while (done < loc->len) {
		k = pread(fd, buf + done, loc->len - done,
		    (off_t)(loc->off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = COFFER_EIO;
			goto out;
		}
		done += (size_t)k;
	}
out:
	if (fd >= 0 && !cached)
		close(fd);
	return rc;
}

int
srv_objstore_check(struct srv_objstore *s, const struct srv_objloc *loc,
    const uint8_t id[static CF_ID_BYTES])
{
	struct srv_objloc h;
	uint8_t hdr[SRV_PACK_REC_HDR], last;
	int rc = COFFER_EIO;

	if (loc->off < SRV_PACK_MAGIC_BYTES + SRV_PACK_REC_HDR)
		goto out;
	h.pack = loc->pack;
	h.off = loc->off - SRV_PACK_REC_HDR;
	h.len = SRV_PACK_REC_HDR;
	if (srv_objstore_read(s, &h, hdr) != 0 ||
	    memcmp(hdr, id, CF_ID_BYTES) != 0 ||
	    cf_be32dec(hdr + CF_ID_BYTES) != loc->len)
		goto out;
	/* The last byte is there (the pack is long enough). */
	if (loc->len > 0) {
		h.off = loc->off + loc->len - 1;
		h.len = 1;
		if (srv_objstore_read(s, &h, &last) != 0)
			goto out;
	}
	rc = 0;
out:
	return rc;
}
