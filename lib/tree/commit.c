/*
 * Commits (docs/FORMAT.md §13).
 *
 *   commit = "CFCM" || u8 format || drive_id[32] || u64 version
 *            || parent_id[32] || root_tree_id[32] || author_id[32] || u64 time
 *            || u64 chain_seq || chain_head[32] || delta_hash[32]
 *            || [format 2: u32 root_mode || u64 root_mtime_sec
 *                || u32 root_mtime_nsec] || sig[64]
 *   sig    = Ed25519(author, "coffer-commit-v1" || every byte before sig)
 *
 * version >= 1, and version 1 <=> parent_id all zero.  Format 1 has no
 * root metadata; format 2 has it, under a tree entry's rules (mode &
 * 07777, nsec < 10^9).  The signed message of each format starts with its
 * own format byte and has its own length, so one purpose serves both.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "crypto/sign.h"
#include "util/buf.h"
#include "tree.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
#define TAG_FORMAT_BYTES	(CF_COMMIT_TAG_BYTES + 1)

_Static_assert(CF_COMMIT_V1_BYTES == 285, "FORMAT §13, format 1");
_Static_assert(CF_COMMIT_BYTES == 301, "FORMAT §13, format 2");
_Static_assert(crypto_sign_BYTES == CF_SIG_BYTES, "signature size");

/*
 * version >= 1, version 1 exactly when there is no parent, and root
 * metadata (if any) under a tree entry's rules.
 */
static int
lineage_ok(const struct cf_commit *c)
{
	int root = sodium_is_zero(c->parent_id, CF_ID_BYTES);

	if (c->version == 0)
		return 0;
	if (c->has_root_meta && ((c->root_mode & ~CF_TREE_MODE_MASK) != 0 ||
	    c->root_mtime_nsec >= CF_TREE_NSEC_LIMIT))
		return 0;
	return (c->version == 1) == (root != 0);
}

size_t
cf_commit_len(const struct cf_commit *c)
{
	return c->has_root_meta ? CF_COMMIT_BYTES : CF_COMMIT_V1_BYTES;
}

/* Bytes signed by a commit of ${len} bytes. */
static size_t
signed_len(size_t len)
{
	return len - CF_SIG_BYTES;
}

/*
 * commit_write(c, out):
 * Encode ${c}, the signature included, into ${out} (cf_commit_len(${c})
 * bytes).
 */
static int
commit_write(const struct cf_commit *c, uint8_t out[static CF_COMMIT_BYTES])
{
	struct cf_wr w;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	cf_wr_init(&w, CF_COMMIT_BYTES, 0);
	cf_wr_bytes(&w, CF_COMMIT_TAG, CF_COMMIT_TAG_BYTES);
	cf_wr_u8(&w, c->has_root_meta ? CF_COMMIT_VERSION : CF_COMMIT_VERSION_V1);
	cf_wr_bytes(&w, c->drive_id, CF_ID_BYTES);
	cf_wr_u64(&w, c->version);
	cf_wr_bytes(&w, c->parent_id, CF_ID_BYTES);
	cf_wr_bytes(&w, c->root_id, CF_ID_BYTES);
	cf_wr_bytes(&w, c->author_id, CF_ID_BYTES);
	cf_wr_u64(&w, c->time);
	cf_wr_u64(&w, c->chain_seq);
	cf_wr_bytes(&w, c->chain_head, CF_ID_BYTES);
	cf_wr_bytes(&w, c->delta_hash, CF_ID_BYTES);
	if (c->has_root_meta) {
		cf_wr_u32(&w, c->root_mode);
		cf_wr_u64(&w, (uint64_t)c->root_mtime_sec);
		cf_wr_u32(&w, c->root_mtime_nsec);
	}
	cf_wr_bytes(&w, c->sig, CF_SIG_BYTES);
	if ((r = cf_wr_finish(&w, &buf, &len)) != 0)
		goto out;
	if (len != cf_commit_len(c)) {
		r = COFFER_EINTERNAL;
		goto out;
	}
	memcpy(out, buf, len);
out:
	free(buf);
	return r;
}

int
cf_commit_encode(const struct cf_commit *c, uint8_t out[static CF_COMMIT_BYTES])
{
	memset(out, 0, CF_COMMIT_BYTES);
	if (c == NULL || !lineage_ok(c))
		return COFFER_EINVAL;
	return commit_write(c, out);
}

int
cf_commit_sign(struct cf_commit *c,
    const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    uint8_t out[static CF_COMMIT_BYTES])
{
	uint8_t enc[CF_COMMIT_BYTES], sig[CF_SIG_BYTES];
	struct cf_commit tmp;
	size_t len;
	int r;

	memset(out, 0, CF_COMMIT_BYTES);
	if (c == NULL || !lineage_ok(c)) {
		r = COFFER_EINVAL;
		goto out;
	}
	tmp = *c;
	memset(tmp.sig, 0, sizeof(tmp.sig));
	if ((r = commit_write(&tmp, enc)) != 0)
		goto out;
	len = cf_commit_len(c);
	/* The signed message: purpose || every byte before sig. */
	if ((r = cf_sign_purpose(sign_sk, CF_LABEL_COMMIT, enc, signed_len(len),
	    sig)) != 0)
		goto out;
	memcpy(enc + signed_len(len), sig, sizeof(sig));
	memcpy(c->sig, sig, sizeof(sig));
	memcpy(out, enc, len);
	r = 0;
out:
	return r;
}

int
cf_commit_decode(const uint8_t *buf, size_t len, struct cf_commit *c)
{
	struct cf_commit tmp;
	struct cf_rd rd;
	uint8_t format;
	int r;

	memset(c, 0, sizeof(*c));
	memset(&tmp, 0, sizeof(tmp));
	if (buf == NULL || len < TAG_FORMAT_BYTES) {
		r = NOTAUTH;
		goto out;
	}
	/* Each format has exactly one length. */
	format = buf[CF_COMMIT_TAG_BYTES];
	if (format == CF_COMMIT_VERSION)
		tmp.has_root_meta = 1;
	else if (format != CF_COMMIT_VERSION_V1) {
		r = NOTAUTH;
		goto out;
	}
	if (len != cf_commit_len(&tmp)) {
		r = NOTAUTH;
		goto out;
	}
	cf_rd_init(&rd, buf, len, NOTAUTH);
	cf_rd_expect(&rd, CF_COMMIT_TAG, CF_COMMIT_TAG_BYTES);
	(void)cf_rd_u8(&rd);		/* the format, read above */
	cf_rd_copy(&rd, tmp.drive_id, CF_ID_BYTES);
	tmp.version = cf_rd_u64(&rd);
	cf_rd_copy(&rd, tmp.parent_id, CF_ID_BYTES);
	cf_rd_copy(&rd, tmp.root_id, CF_ID_BYTES);
	cf_rd_copy(&rd, tmp.author_id, CF_ID_BYTES);
	tmp.time = cf_rd_u64(&rd);
	tmp.chain_seq = cf_rd_u64(&rd);
	cf_rd_copy(&rd, tmp.chain_head, CF_ID_BYTES);
	cf_rd_copy(&rd, tmp.delta_hash, CF_ID_BYTES);
	if (tmp.has_root_meta) {
		tmp.root_mode = cf_rd_u32(&rd);
		tmp.root_mtime_sec = (int64_t)cf_rd_u64(&rd);
		tmp.root_mtime_nsec = cf_rd_u32(&rd);
	}
	cf_rd_copy(&rd, tmp.sig, CF_SIG_BYTES);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	if (!lineage_ok(&tmp)) {
		r = NOTAUTH;
		goto out;
	}
	*c = tmp;
	r = 0;
out:
	return r;
}

int
cf_commit_verify(const uint8_t *buf, size_t len,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES], struct cf_commit *c)
{
	struct cf_commit tmp;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = cf_commit_decode(buf, len, &tmp)) != 0)
		goto out;
	if ((r = cf_verify_purpose(sign_pk, CF_LABEL_COMMIT, buf,
	    signed_len(len), tmp.sig)) != 0)
		goto out;
	*c = tmp;
	r = 0;
out:
	return r;
}
