/*
 * The device's own files: folders, atomic writes, strict parsers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "state.h"

#define TMP_SUFFIX_BYTES	8
#define READ_STEP		65536

int
cf_state_join(char *out, size_t outlen, const char *a, const char *b)
{
	int n;

	n = snprintf(out, outlen, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= outlen)
		return COFFER_EINVAL;
	return 0;
}

int
cf_state_paths_set(struct cf_state_paths *p,
    const struct cf_state_paths *from)
{

	memset(p, 0, sizeof(*p));
	if (from == NULL || from->data[0] == '\0' || from->cache[0] == '\0')
		return COFFER_EINVAL;
	*p = *from;
	return 0;
}

int
cf_state_save_chainpin(const struct cf_state_paths *paths,
    const struct cf_chain *c)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = cf_chain_pin_encode(c, &buf, &len)) != 0)
		return r;
	r = cf_state_write(paths->data, CF_STATE_CHAINPIN, buf, len);
	free(buf);
	return r;
}

int
cf_state_save_dirpin(const struct cf_state_paths *paths,
    const struct cf_dir_pin *pin)
{
	uint8_t buf[CF_DIRPIN_BYTES];
	int r;

	if ((r = cf_dirpin_encode(pin, buf)) != 0)
		return r;
	return cf_state_write(paths->data, CF_STATE_DIRPIN, buf, sizeof(buf));
}

int
cf_state_mkdirs(const char *path)
{
	char buf[CF_STATE_PATH_MAX];
	size_t len = strlen(path), i;

	if (len == 0 || len >= sizeof(buf))
		return COFFER_EINVAL;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return COFFER_EIO;
		if (i < len)
			buf[i] = '/';
	}
	return 0;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t k;

	while (len > 0) {
		k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return COFFER_EIO;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

int
cf_state_write(const char *dir, const char *name, const uint8_t *buf,
    size_t len)
{
	char tmpname[CF_STATE_PATH_MAX], sub[CF_STATE_PATH_MAX];
	uint8_t rnd[TMP_SUFFIX_BYTES];
	char hex[2 * TMP_SUFFIX_BYTES + 1];
	const char *slash;
	int dfd = -1, fd = -1, r, n, made = 0;

	/* "drives/ID": write in the folder dir/drives. */
	if ((slash = strrchr(name, '/')) != NULL) {
		n = snprintf(sub, sizeof(sub), "%s/%.*s", dir,
		    (int)(slash - name), name);
		if (n < 0 || (size_t)n >= sizeof(sub))
			return COFFER_EINVAL;
		dir = sub;
		name = slash + 1;
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	n = snprintf(tmpname, sizeof(tmpname), ".%s.tmp-%s", name, hex);
	if (n < 0 || (size_t)n >= sizeof(tmpname)) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = errno == ENOENT ? COFFER_ENOENT : COFFER_EIO;
		goto out;
	}
	if ((fd = openat(dfd, tmpname, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		r = COFFER_EIO;
		goto out;
	}
	made = 1;
	if ((r = write_all(fd, buf, len)) != 0)
		goto out;
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		r = COFFER_EIO;
		goto out;
	}
	fd = -1;
	if (renameat(dfd, tmpname, dfd, name) != 0) {
		r = COFFER_EIO;
		goto out;
	}
	made = 0;
	if (fsync(dfd) != 0) {
		r = COFFER_EIO;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (made)
		unlinkat(dfd, tmpname, 0);
	if (dfd >= 0)
		close(dfd);
	return r;
}

int
cf_state_read(const char *dir, const char *name, size_t max, uint8_t **bufp,
    size_t *lenp)
{
	char path[CF_STATE_PATH_MAX];
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0, cap;
	ssize_t k;
	int fd = -1, r;

	*bufp = NULL;
	*lenp = 0;
	if ((r = cf_state_join(path, sizeof(path), dir, name)) != 0)
		goto out;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = errno == ENOENT ? COFFER_ENOENT :
		    errno == ELOOP ? COFFER_EFORMAT : COFFER_EIO;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = COFFER_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > max) {
		r = COFFER_EFORMAT;
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			/* The file grew while we read it: refuse. */
			r = COFFER_EFORMAT;
			goto out;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = COFFER_EIO;
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	r = 0;
out:
	if (buf != NULL)
		cf_wipefree(buf, cap);
	if (fd >= 0)
		close(fd);
	return r;
}

/* ---- directory pin ---- */

int
cf_dirpin_encode(const struct cf_dir_pin *p, uint8_t out[static CF_DIRPIN_BYTES])
{
	memcpy(out, CF_DIRPIN_TAG, 4);
	out[4] = CF_DIRPIN_VERSION;
	cf_be64enc(out + 5, p->version);
	memcpy(out + 13, p->hash, CF_ID_BYTES);
	cf_be64enc(out + 13 + CF_ID_BYTES, p->chain_seq);
	return 0;
}

int
cf_dirpin_decode(const uint8_t *buf, size_t len, struct cf_dir_pin *out)
{
	struct cf_dir_pin p;
	struct cf_rd r;
	int rc;

	memset(&p, 0, sizeof(p));
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	cf_rd_expect(&r, CF_DIRPIN_TAG, 4);
	if (cf_rd_u8(&r) != CF_DIRPIN_VERSION)
		cf_rd_fail(&r);
	p.version = cf_rd_u64(&r);
	cf_rd_copy(&r, p.hash, CF_ID_BYTES);
	p.chain_seq = cf_rd_u64(&r);
	if ((rc = cf_rd_end(&r)) != 0)
		return rc;
	if (p.version == 0)
		return COFFER_EFORMAT;
	*out = p;
	return 0;
}

/* ---- drive pin ---- */

int
cf_drivepin_encode(const struct cf_drivepin *p, uint8_t **bufp, size_t *lenp)
{
	struct cf_wr w;

	*bufp = NULL;
	*lenp = 0;
	if (p->n > CF_DRIVEPIN_MAX_VERSIONS)
		return COFFER_ETOOBIG;
	cf_wr_init(&w, 64 + (size_t)p->n * CF_ID_BYTES, 0);
	cf_wr_bytes(&w, CF_DRIVEPIN_TAG, 4);
	cf_wr_u8(&w, CF_DRIVEPIN_VERSION);
	cf_wr_bytes(&w, p->drive_id, CF_ID_BYTES);
	cf_wr_u64(&w, p->verified_at);
	cf_wr_u64(&w, p->head_chain_seq);
	cf_wr_u64(&w, p->n);
	if (p->n > 0)
		cf_wr_bytes(&w, p->ids, (size_t)p->n * CF_ID_BYTES);
	return cf_wr_finish(&w, bufp, lenp);
}

int
cf_drivepin_decode(const uint8_t *buf, size_t len, struct cf_drivepin **pp)
{
	struct cf_drivepin *p = NULL;
	struct cf_rd r;
	int rc;

	*pp = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return COFFER_ENOMEM;
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	cf_rd_expect(&r, CF_DRIVEPIN_TAG, 4);
	if (cf_rd_u8(&r) != CF_DRIVEPIN_VERSION)
		cf_rd_fail(&r);
	cf_rd_copy(&r, p->drive_id, CF_ID_BYTES);
	p->verified_at = cf_rd_u64(&r);
	p->head_chain_seq = cf_rd_u64(&r);
	p->n = cf_rd_u64(&r);
	if (r.err == 0 && (p->n > CF_DRIVEPIN_MAX_VERSIONS ||
	    p->n * CF_ID_BYTES != cf_rd_left(&r)))
		cf_rd_fail(&r);
	if (r.err == 0 && p->n > 0) {
		if ((p->ids = malloc((size_t)p->n * CF_ID_BYTES)) == NULL) {
			rc = COFFER_ENOMEM;
			goto out;
		}
		cf_rd_copy(&r, (uint8_t *)p->ids, (size_t)p->n * CF_ID_BYTES);
	}
	if ((rc = cf_rd_end(&r)) != 0)
		goto out;
	if (p->n == 0 && p->head_chain_seq != 0) {
		rc = COFFER_EFORMAT;
		goto out;
	}
	*pp = p;
	p = NULL;
out:
	cf_drivepin_free(p);
	return rc;
}

void
cf_drivepin_free(struct cf_drivepin *p)
{
	if (p == NULL)
		return;
	free(p->ids);
	free(p);
}

int
cf_drivepin_push(struct cf_drivepin *p, const uint8_t id[static CF_ID_BYTES])
{
	uint8_t (*ids)[CF_ID_BYTES];

	if (p->n >= CF_DRIVEPIN_MAX_VERSIONS)
		return COFFER_ETOOBIG;
	if ((ids = realloc(p->ids, ((size_t)p->n + 1) * CF_ID_BYTES)) == NULL)
		return COFFER_ENOMEM;
	p->ids = ids;
	memcpy(p->ids[p->n], id, CF_ID_BYTES);
	p->n++;
	return 0;
}

int
cf_drivepin_extend(struct cf_drivepin *p, const uint8_t (*ids)[CF_ID_BYTES],
    size_t k)
{
	uint8_t (*nids)[CF_ID_BYTES];

	if (k == 0)
		return 0;
	if (p->n > CF_DRIVEPIN_MAX_VERSIONS || k > CF_DRIVEPIN_MAX_VERSIONS - p->n)
		return COFFER_ETOOBIG;
	if ((nids = realloc(p->ids, ((size_t)p->n + k) * CF_ID_BYTES)) == NULL)
		return COFFER_ENOMEM;
	p->ids = nids;
	memcpy(p->ids[p->n], ids, k * CF_ID_BYTES);
	p->n += k;
	return 0;
}

/* ---- chain changes not reported yet ---- */

void
cf_unreported_encode(const uint8_t account_id[static CF_ID_BYTES],
    uint64_t from, uint8_t out[static CF_UNREPORTED_BYTES])
{
	memcpy(out, CF_UNREPORTED_TAG, 4);
	out[4] = CF_UNREPORTED_VERSION;
	memcpy(out + 5, account_id, CF_ID_BYTES);
	cf_be64enc(out + 5 + CF_ID_BYTES, from);
}

int
cf_unreported_decode(const uint8_t *buf, size_t len,
    uint8_t account_id[static CF_ID_BYTES], uint64_t *fromp)
{
	uint8_t id[CF_ID_BYTES];
	struct cf_rd r;
	uint64_t from;
	int rc;

	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	cf_rd_expect(&r, CF_UNREPORTED_TAG, 4);
	if (cf_rd_u8(&r) != CF_UNREPORTED_VERSION)
		cf_rd_fail(&r);
	cf_rd_copy(&r, id, CF_ID_BYTES);
	from = cf_rd_u64(&r);
	if ((rc = cf_rd_end(&r)) != 0)
		return rc;
	memcpy(account_id, id, CF_ID_BYTES);
	*fromp = from;
	return 0;
}

int
cf_state_remove(const char *dir, const char *name)
{
	int dfd, r = 0;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? COFFER_ENOENT : COFFER_EIO;
	if (unlinkat(dfd, name, 0) != 0)
		r = errno == ENOENT ? COFFER_ENOENT : COFFER_EIO;
	else if (fsync(dfd) != 0)
		r = COFFER_EIO;
	close(dfd);
	return r;
}

DIR *
cf_opendir_dup(int dfd)
{
	DIR *dir;
	int fd;

	if ((fd = dup(dfd)) < 0)
		return NULL;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return NULL;
	}
	/* A dup shares the offset: start from the top. */
	rewinddir(dir);
	return dir;
}
