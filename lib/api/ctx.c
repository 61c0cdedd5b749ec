/*
 * The public configuration: folders, callbacks, test knobs.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chain/chain.h"
#include "chain/dir.h"
#include "chain/pair.h"
#include "client/device.h"
#include "client/ops.h"
#include "client/statcache.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"
#include "tree/tree.h"
#include "api.h"

/* The public sizes are the library's. */
_Static_assert(COFFER_ID_BYTES == CF_ID_BYTES, "id bytes");
_Static_assert(COFFER_DEVICE_NAME_MAX == CF_DEVICE_NAME_MAX, "device name");
_Static_assert(COFFER_DRIVE_NAME_MAX == CF_DIR_NAME_MAX, "drive name");
_Static_assert(COFFER_ACCOUNT_NAME_MAX == CF_ACCOUNT_ANAME_MAX, "account");
_Static_assert(COFFER_URL_MAX == CF_ACCOUNT_URL_MAX, "url");
_Static_assert(COFFER_PATH_MAX == CF_STATE_PATH_MAX, "path");
_Static_assert(COFFER_RECOVERY_TEXT_BYTES == CF_RECOVERY_TEXT_BYTES, "rk");
_Static_assert(COFFER_SAFETY_CODE_BYTES == CF_SAFETY_CODE_BYTES, "code");
_Static_assert(COFFER_PASSPHRASE_MAX == CF_PASSPHRASE_MAX, "passphrase");
_Static_assert(COFFER_SERVER_MSG_MAX == CF_CLIENT_ERRMSG_MAX, "message");
_Static_assert(COFFER_SERVER_CODE_MAX == CF_CLIENT_ERRCODE_MAX, "code");
_Static_assert(COFFER_DIR_CATCHUP_MAX == CF_DIR_CATCHUP_MAX, "catchup");
_Static_assert(((size_t)COFFER_DIR_CATCHUP_MIB << 20) ==
    CF_SESSION_DIR_CATCHUP_BYTES, "catchup bytes");
_Static_assert(COFFER_WALK_DEPTH_MAX == CF_WALK_DEPTH_MAX, "depth");
_Static_assert(COFFER_PUSH_PATH_MAX == CF_STATCACHE_PATH_MAX, "push path");
_Static_assert(COFFER_PUSH_DELTA_IDS_MAX == CF_PUSH_DELTA_IDS_MAX, "delta");
_Static_assert(COFFER_JOIN_TIMEOUT_DEFAULT == CF_JOIN_TIMEOUT_DEFAULT, "join");
_Static_assert(COFFER_JOIN_GRACE == CF_JOIN_GRACE, "grace");
_Static_assert(COFFER_PASS_UNLOCK == CF_PASS_UNLOCK &&
    COFFER_PASS_NEW == CF_PASS_NEW, "purposes");
_Static_assert(COFFER_ENTRY_GENESIS == CF_ENTRY_GENESIS &&
    COFFER_ENTRY_ADD == CF_ENTRY_ADD &&
    COFFER_ENTRY_REMOVE == CF_ENTRY_REMOVE &&
    COFFER_ENTRY_ROTATE == CF_ENTRY_ROTATE &&
    COFFER_ENTRY_SETRK == CF_ENTRY_SETRK, "entry types");
_Static_assert(COFFER_TYPE_FILE == CF_TREE_FILE &&
    COFFER_TYPE_DIR == CF_TREE_DIR && COFFER_TYPE_SYMLINK == CF_TREE_SYMLINK,
    "entry kinds");
_Static_assert(COFFER_PUSH_ALLOW_SHRINK == CF_PUSH_ALLOW_SHRINK &&
    COFFER_PULL_OVERWRITE == CF_PULL_OVERWRITE &&
    COFFER_PULL_DELETE == CF_PULL_DELETE &&
    COFFER_PULL_KEEP_MODES == CF_PULL_KEEP_MODES, "flags");
_Static_assert((int)COFFER_JOIN_END_ADDED == (int)CF_JOIN_END_ADDED &&
    (int)COFFER_JOIN_END_NOT_WITHDRAWN == (int)CF_JOIN_END_NOT_WITHDRAWN &&
    (int)COFFER_JOIN_END_GONE == (int)CF_JOIN_END_GONE &&
    (int)COFFER_JOIN_END_WITHDRAWN == (int)CF_JOIN_END_WITHDRAWN &&
    (int)COFFER_JOIN_END_NO_ACCOUNT == (int)CF_JOIN_END_NO_ACCOUNT,
    "join ends");

void
coffer_free(void *p)
{
	free(p);
}

int
coffer_ctx_new(struct coffer_ctx **ctxp)
{
	if ((*ctxp = calloc(1, sizeof(**ctxp))) == NULL)
		return COFFER_ENOMEM;
	return 0;
}

void
coffer_ctx_free(struct coffer_ctx *ctx)
{
	free(ctx);
}

int
coffer_ctx_set_dirs(struct coffer_ctx *ctx, const char *data,
    const char *cache)
{
	size_t dl, cl;

	if (data == NULL || cache == NULL)
		return COFFER_EINVAL;
	dl = strlen(data);
	cl = strlen(cache);
	/* Room for the names under them ("drives/ID", temporary names). */
	if (dl == 0 || cl == 0 || dl >= CF_STATE_PATH_MAX - 64 ||
	    cl >= CF_STATE_PATH_MAX - 64)
		return COFFER_EINVAL;
	memcpy(ctx->paths.data, data, dl + 1);
	memcpy(ctx->paths.cache, cache, cl + 1);
	return 0;
}

void
coffer_ctx_set_progress(struct coffer_ctx *ctx, coffer_progress_fn *fn,
    void *arg)
{
	ctx->progress = fn;
	ctx->progress_arg = arg;
}

void
coffer_ctx_set_warn(struct coffer_ctx *ctx, coffer_warn_fn *fn, void *arg)
{
	ctx->warn = fn;
	ctx->warn_arg = arg;
}

void
coffer_ctx_set_notice(struct coffer_ctx *ctx, coffer_notice_fn *fn, void *arg)
{
	ctx->notice = fn;
	ctx->notice_arg = arg;
}

void
coffer_ctx_set_passphrase(struct coffer_ctx *ctx, coffer_passphrase_fn *fn,
    void *arg)
{
	ctx->paths.pass.fn = fn;
	ctx->paths.pass.ctx = arg;
}

void
coffer_ctx_set_test_knobs(struct coffer_ctx *ctx, uint64_t line_page,
    uint64_t delta_cap, const char *read_hook)
{
	ctx->line_page = line_page;
	ctx->delta_cap = delta_cap;
	ctx->read_hook = read_hook;
}

int
coffer_passphrase_read_file(const char *path, char **passp, size_t *lenp)
{
	return cf_passphrase_read_file(path, passp, lenp);
}

void
coffer_passphrase_free(char *pass, size_t len)
{
	cf_passphrase_free(pass, len);
}

void
cf_api_change(const struct cf_chain_change *in, const uint8_t *me,
    struct coffer_chain_change *out)
{
	memset(out, 0, sizeof(*out));
	out->seq = in->seq;
	out->type = in->type;
	out->time = in->time;
	memcpy(out->signer_id, in->signer_id, CF_ID_BYTES);
	out->signer_is_rk = in->signer_is_rk;
	out->signer_is_this_device = me != NULL &&
	    sodium_memcmp(in->signer_id, me, CF_ID_BYTES) == 0;
	memcpy(out->signer_name, in->signer_name, sizeof(out->signer_name));
	out->has_subject = in->has_subject;
	memcpy(out->subject_id, in->subject_id, CF_ID_BYTES);
	out->subject_is_this_device = me != NULL && in->has_subject &&
	    sodium_memcmp(in->subject_id, me, CF_ID_BYTES) == 0;
	memcpy(out->subject_name, in->subject_name, sizeof(out->subject_name));
	out->epoch = in->epoch;
}
