/*
 * The public session: open (with the chain notices), close, the
 * account's facts, why a call failed, and the drive directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/coffer.h"
#include "client/device.h"
#include "client/session.h"
#include "net/client.h"
#include "api.h"

/*
 * The session's report callback: the entries from ${from} on, described
 * with the epoch keys if this device's envelope opened, to the program's
 * notice callback.
 */
static void
report(void *arg, const struct cf_session *s, uint64_t from)
{
	const struct coffer_ctx *ctx = arg;
	struct cf_chain_change *ch = NULL;
	struct coffer_chain_change *pub = NULL;
	size_t n = 0, i;

	if (from >= s->chain->n)
		return;
	if (cf_chain_changes(s->chain, (const uint8_t (*)[CF_KEY_BYTES])s->ks,
	    s->ks != NULL ? s->nks : 0, from, &ch, &n) != 0 ||
	    (n > 0 && (pub = calloc(n, sizeof(*pub))) == NULL)) {
		ctx->notice(ctx->notice_arg, NULL, 0, from, s->chain->n - 1);
		goto out;
	}
	for (i = 0; i < n; i++)
		cf_api_change(&ch[i], s->keys->device_id, &pub[i]);
	ctx->notice(ctx->notice_arg, pub, n, from, s->chain->n - 1);
out:
	free(pub);
	free(ch);
}

int
coffer_session_open(struct coffer_ctx *ctx, struct coffer_session **sp,
    struct coffer_open_info *info)
{
	struct cf_session_open_opts o;
	struct coffer_session *cs;
	int r;

	*sp = NULL;
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return COFFER_ENOMEM;
	cs->ctx = ctx;
	memset(&o, 0, sizeof(o));
	/* No notice callback: nothing is reported, and the mark stays. */
	o.report = ctx->notice != NULL ? report : NULL;
	o.ctx = ctx;
	r = cf_session_open_with(&ctx->paths, &cs->s, &o);
	if (info != NULL) {
		info->account_gone = o.account_gone;
		info->removed = o.removed;
	}
	if (r != 0) {
		free(cs);
		return r;
	}
	cs->s->progress = ctx->progress;
	cs->s->progress_ctx = ctx->progress_arg;
	cs->s->line_page = ctx->line_page;
	cs->s->delta_cap = ctx->delta_cap;
	cs->s->read_hook = ctx->read_hook;
	if (info != NULL)
		info->key_loose = cs->s->key_loose;
	*sp = cs;
	return 0;
}

void
coffer_session_close(struct coffer_session *s)
{
	if (s == NULL)
		return;
	cf_session_free(s->s);
	free(s);
}

static void
account_info(const struct cf_account *a, struct coffer_account_info *info)
{
	memset(info, 0, sizeof(*info));
	memcpy(info->server, a->server, sizeof(info->server));
	memcpy(info->name, a->name, sizeof(info->name));
	memcpy(info->account_id, a->account_id, CF_ID_BYTES);
	memcpy(info->device, a->device, sizeof(info->device));
}

void
coffer_session_account(const struct coffer_session *s,
    struct coffer_account_info *info)
{
	account_info(&s->s->acct, info);
	memcpy(info->device_id, s->s->keys->device_id, CF_ID_BYTES);
	info->chain_length = s->s->chain->n;
	info->epoch = cf_session_epoch(s->s);
}

int
coffer_account_read(struct coffer_ctx *ctx, struct coffer_account_info *info)
{
	struct cf_account a;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	memset(info, 0, sizeof(*info));
	if (ctx == NULL || ctx->paths.data[0] == '\0')
		return COFFER_EINVAL;
	if ((r = cf_state_read(ctx->paths.data, CF_STATE_ACCOUNT,
	    CF_ACCOUNT_FILE_MAX, &buf, &len)) != 0)
		goto out;
	if ((r = cf_account_decode(buf, len, &a)) != 0)
		goto out;
	account_info(&a, info);
out:
	free(buf);
	return r;
}

void
coffer_session_error(const struct coffer_session *s,
    struct coffer_error_info *e)
{
	const struct cf_local_error *le;
	const char *msg;

	memset(e, 0, sizeof(*e));
	e->refusal_status = cf_client_last_refusal(e->refusal_code,
	    e->refusal_message);
	if (s == NULL)
		return;
	if (s->s->net != NULL) {
		msg = cf_client_error(s->s->net, &e->status);
		snprintf(e->message, sizeof(e->message), "%s", msg);
	}
	le = &s->s->lerr;
	if (le->errnum != 0) {
		e->local_errnum = le->errnum;
		e->local_op = le->op;
		e->local_pathlen = le->pathlen <= sizeof(e->local_path) ?
		    le->pathlen : sizeof(e->local_path);
		memcpy(e->local_path, le->path, e->local_pathlen);
	}
}

int
coffer_drive_list(struct coffer_session *s,
    struct coffer_drive_info **drivesp, size_t *np)
{
	const struct cf_dir *dir = s->s->dir;
	struct coffer_drive_info *v;
	size_t i, n;

	*drivesp = NULL;
	*np = 0;
	if (dir == NULL || dir->ndrives == 0)
		return 0;
	if ((v = calloc(dir->ndrives, sizeof(*v))) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < dir->ndrives; i++) {
		const struct cf_dir_drive *d = &dir->drives[i];

		memcpy(v[i].id, d->drive_id, CF_ID_BYTES);
		n = d->name != NULL ? d->namelen : 0;
		if (n > CF_DIR_NAME_MAX)
			n = CF_DIR_NAME_MAX;
		if (n > 0)
			memcpy(v[i].name, d->name, n);
		v[i].namelen = n;
	}
	*drivesp = v;
	*np = dir->ndrives;
	return 0;
}

int
coffer_drive_create(struct coffer_session *s, const char *name,
    uint8_t id[COFFER_ID_BYTES])
{
	size_t n = strlen(name);
	int r;

	if (n < 1 || n > CF_DIR_NAME_MAX)
		return COFFER_EINVAL;
	r = cf_session_drive_create(s->s, name, id);
	return r;
}
