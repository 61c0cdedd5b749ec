/*
 * coffer_selftest: seal every chunk of every regular file under a folder
 * with fresh keys, open each one back, and check it is byte for byte what
 * went in.  A real round trip through the chunker and the object layer,
 * with no server ('coffer selftest DIR').
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "crypto/keys.h"
#include "chunker/chunker.h"
#include "crypto/kdf.h"
#include "object/object.h"
#include "util/buf.h"

struct st_ctx {
	struct cf_chunker *chunker;
	struct cf_objkey key;
	uint8_t drive_id[CF_ID_BYTES];
	uint8_t *buf;			/* CF_CHUNK_MAX + read slack */
	uint64_t files, chunks, bytes, sealed, skipped;
};

static int
st_lookup(void *vctx, uint8_t type, const uint8_t key_id[CF_ID_BYTES],
    struct cf_objkey *out)
{
	struct st_ctx *c = vctx;

	if (type != CF_OBJ_CHUNK ||
	    sodium_memcmp(key_id, c->key.key_id, CF_ID_BYTES) != 0)
		return COFFER_ENOTAUTHENTIC;
	*out = c->key;
	return 0;
}

/* Seal one chunk, open it back, compare. */
static int
st_chunk(struct st_ctx *c, const uint8_t *p, size_t n)
{
	uint8_t id[CF_ID_BYTES];
	uint8_t *blob = NULL, *plain = NULL;
	size_t bloblen = 0, plainlen = 0;
	int r;

	if ((r = cf_object_seal(&c->key, CF_OBJ_CHUNK, c->drive_id, p, n,
	    CF_SEAL_COMPRESS, id, &blob, &bloblen)) != 0)
		goto out;
	if ((r = cf_object_open(blob, bloblen, CF_OBJ_CHUNK, c->drive_id, id,
	    st_lookup, c, &plain, &plainlen)) != 0)
		goto out;
	if (plainlen != n || (n > 0 && memcmp(plain, p, n) != 0)) {
		r = COFFER_EINTERNAL;
		goto out;
	}
	c->chunks++;
	c->bytes += n;
	c->sealed += bloblen;
out:
	free(blob);
	cf_wipefree(plain, plainlen);
	return r;
}

/* Chunk a whole file, reading it through a window of CF_CHUNK_MAX bytes. */
static int
st_file(struct st_ctx *c, int fd)
{
	size_t have = 0, cut;
	ssize_t k;
	int eof = 0, r = 0;

	for (;;) {
		while (!eof && have < CF_CHUNK_MAX) {
			k = read(fd, c->buf + have, CF_CHUNK_MAX - have);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return COFFER_EIO;
			if (k == 0)
				eof = 1;
			have += (size_t)k;
		}
		if (have == 0)
			break;
		cut = cf_chunker_cut(c->chunker, c->buf, have, eof);
		if ((r = st_chunk(c, c->buf, cut)) != 0)
			return r;
		memmove(c->buf, c->buf + cut, have - cut);
		have -= cut;
	}
	c->files++;
	return r;
}

static int
st_walk(struct st_ctx *c, int dfd, int depth)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	int fd, r = 0;

	if (depth > 256)
		return COFFER_ETOOBIG;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return COFFER_EIO;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			r = COFFER_EIO;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd(d), e->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				r = COFFER_EIO;
				break;
			}
			r = st_walk(c, fd, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			fd = openat(dirfd(d), e->d_name,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				r = COFFER_EIO;
				break;
			}
			r = st_file(c, fd);
			close(fd);
		} else {
			c->skipped++;	/* symlinks and special files */
		}
	}
	closedir(d);
	return r;
}

int
coffer_selftest(int dfd, struct coffer_selftest_result *res)
{
	struct st_ctx c;
	uint8_t secret[CF_KEY_BYTES], epoch[CF_KEY_BYTES], ck[CF_KEY_BYTES];
	int fd = -1, r;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	/* Fresh keys, derived as a drive's would be (docs/FORMAT.md §3). */
	randombytes_buf(secret, sizeof(secret));
	randombytes_buf(epoch, sizeof(epoch));
	randombytes_buf(c.drive_id, sizeof(c.drive_id));
	cf_kdf_derive(c.key.id_key, secret, CF_KDF_CHUNK_ID,
	    CF_LABEL_KDF_DRIVE);
	cf_kdf_derive(ck, secret, CF_KDF_CHUNKER, CF_LABEL_KDF_DRIVE);
	cf_kdf_derive(c.key.enc_key, epoch, CF_KDF_CONTENT, CF_LABEL_KDF_EPOCH);
	cf_key_id(c.key.enc_key, c.key.key_id);
	if ((r = cf_chunker_new(ck, &c.chunker)) != 0)
		goto out;
	if ((c.buf = malloc(CF_CHUNK_MAX)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	/* st_walk closes the folder it is given: a duplicate. */
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = COFFER_EIO;
		goto out;
	}
	if ((r = st_walk(&c, fd, 0)) != 0)
		goto out;
	res->files = c.files;
	res->chunks = c.chunks;
	res->bytes = c.bytes;
	res->sealed_bytes = c.sealed;
	res->skipped = c.skipped;
out:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(epoch, sizeof(epoch));
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(&c.key, sizeof(c.key));
	cf_chunker_free(c.chunker);
	free(c.buf);
	return r;
}
