/*
 * Commits (docs/FORMAT.md §13).
 *
 *   commit = "CFCM" || u8 version=1 || drive_id[32] || u64 version
 *            || parent_id[32] || root_tree_id[32] || author_id[32] || u64 time
 *            || u64 chain_seq || chain_head[32] || delta_hash[32] || sig[64]
 *   sig    = Ed25519(author, "coffer-commit-v1" || every byte before sig)
 *
 * version >= 1, and version 1 <=> parent_id all zero.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "tree.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
#define MSG_BYTES	(CF_COMMIT_PURPOSE_BYTES + CF_COMMIT_SIGNED_BYTES)

_Static_assert(sizeof(CF_COMMIT_PURPOSE) - 1 == CF_COMMIT_PURPOSE_BYTES,
    "purpose length");
_Static_assert(CF_COMMIT_BYTES == 285, "FORMAT §13");
_Static_assert(crypto_sign_BYTES == CF_SIG_BYTES, "signature size");

/* version >= 1, and version 1 exactly when there is no parent. */
static int
lineage_ok(const struct cf_commit *c)
{
	int root = sodium_is_zero(c->parent_id, CF_ID_BYTES);

	if (c->version == 0)
		return 0;
	return (c->version == 1) == (root != 0);
}

/*
 * commit_write(c, out):
 * Encode ${c}, the signature included, into ${out}.
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
	cf_wr_u8(&w, CF_COMMIT_VERSION);
	cf_wr_bytes(&w, c->drive_id, CF_ID_BYTES);
	cf_wr_u64(&w, c->version);
	cf_wr_bytes(&w, c->parent_id, CF_ID_BYTES);
	cf_wr_bytes(&w, c->root_id, CF_ID_BYTES);
	cf_wr_bytes(&w, c->author_id, CF_ID_BYTES);
	cf_wr_u64(&w, c->time);
	cf_wr_u64(&w, c->chain_seq);
	cf_wr_bytes(&w, c->chain_head, CF_ID_BYTES);
	cf_wr_bytes(&w, c->delta_hash, CF_ID_BYTES);
	cf_wr_bytes(&w, c->sig, CF_SIG_BYTES);
	if ((r = cf_wr_finish(&w, &buf, &len)) != 0)
		goto out;
	if (len != CF_COMMIT_BYTES) {
		r = COFFER_EINTERNAL;
		goto out;
	}
	memcpy(out, buf, len);
out:
	free(buf);
	return r;
}

/* The signed message: purpose || every byte before sig. */
static void
commit_msg(const uint8_t *enc, uint8_t msg[static MSG_BYTES])
{
	memcpy(msg, CF_COMMIT_PURPOSE, CF_COMMIT_PURPOSE_BYTES);
	memcpy(msg + CF_COMMIT_PURPOSE_BYTES, enc, CF_COMMIT_SIGNED_BYTES);
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
	uint8_t enc[CF_COMMIT_BYTES], msg[MSG_BYTES], sig[CF_SIG_BYTES];
	struct cf_commit tmp;
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
	commit_msg(enc, msg);
	if (crypto_sign_detached(sig, NULL, msg, sizeof(msg), sign_sk) != 0) {
		r = COFFER_EINTERNAL;
		goto out;
	}
	memcpy(enc + CF_COMMIT_SIGNED_BYTES, sig, sizeof(sig));
	memcpy(c->sig, sig, sizeof(sig));
	memcpy(out, enc, sizeof(enc));
	r = 0;
out:
	return r;
}

int
cf_commit_decode(const uint8_t *buf, size_t len, struct cf_commit *c)
{
	struct cf_commit tmp;
	struct cf_rd rd;
	int r;

	memset(c, 0, sizeof(*c));
	memset(&tmp, 0, sizeof(tmp));
	if (buf == NULL || len != CF_COMMIT_BYTES) {
		r = NOTAUTH;
		goto out;
	}
	cf_rd_init(&rd, buf, len, NOTAUTH);
	cf_rd_expect(&rd, CF_COMMIT_TAG, CF_COMMIT_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_COMMIT_VERSION)
		cf_rd_fail(&rd);
	cf_rd_copy(&rd, tmp.drive_id, CF_ID_BYTES);
	tmp.version = cf_rd_u64(&rd);
	cf_rd_copy(&rd, tmp.parent_id, CF_ID_BYTES);
	cf_rd_copy(&rd, tmp.root_id, CF_ID_BYTES);
	cf_rd_copy(&rd, tmp.author_id, CF_ID_BYTES);
	tmp.time = cf_rd_u64(&rd);
	tmp.chain_seq = cf_rd_u64(&rd);
	cf_rd_copy(&rd, tmp.chain_head, CF_ID_BYTES);
	cf_rd_copy(&rd, tmp.delta_hash, CF_ID_BYTES);
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
	uint8_t msg[MSG_BYTES];
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = cf_commit_decode(buf, len, &tmp)) != 0)
		goto out;
	commit_msg(buf, msg);
	if (crypto_sign_verify_detached(tmp.sig, msg, sizeof(msg),
	    sign_pk) != 0) {
		r = NOTAUTH;
		goto out;
	}
	*c = tmp;
	r = 0;
out:
	return r;
}
