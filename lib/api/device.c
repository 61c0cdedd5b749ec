/*
 * The public account and device functions: thin wrappers over
 * lib/client/account.h and device.h.
 */
#include <stdlib.h>
#include <string.h>

#include "coffer/coffer.h"
#include "client/session.h"
#include "client/state.h"
#include "client/device.h"
#include "api.h"

int
coffer_url_ok(const char *s)
{
	return cf_account_url_ok(s, strlen(s));
}

int
coffer_account_name_ok(const char *s)
{
	return cf_account_name_ok(s, strlen(s));
}

int
coffer_device_name_ok(const char *s)
{
	return cf_account_device_ok(s, strlen(s));
}

int
coffer_account_create(struct coffer_ctx *ctx, const char *url,
    const char *name, const char *invite, const char *device,
    char recovery_text[COFFER_RECOVERY_TEXT_BYTES],
    uint8_t account_id[COFFER_ID_BYTES])
{
	int r;

	r = cf_account_create(&ctx->paths, url, name, invite, device,
	    recovery_text, account_id);
	return r;
}

int
coffer_device_join(struct coffer_ctx *ctx, const char *url,
    const char *name, const char *device, uint64_t timeout,
    coffer_code_fn *codefn, void *arg, uint8_t device_id[COFFER_ID_BYTES],
    enum coffer_join_end *endp)
{
	enum cf_join_end end = CF_JOIN_END_NONE;
	int r;

	r = cf_device_join(&ctx->paths, url, name, device, timeout, codefn,
	    arg, device_id, &end);
	*endp = (enum coffer_join_end)end;
	return r;
}

int
coffer_device_approve(struct coffer_session *s, const char *code,
    uint8_t device_id[COFFER_ID_BYTES],
    char name[COFFER_DEVICE_NAME_MAX + 1])
{
	int r;

	r = cf_device_approve(s->s, code, strlen(code), device_id, name);
	return r;
}

int
coffer_device_list(struct coffer_session *s,
    struct coffer_device_info **devsp, size_t *np)
{
	struct cf_device_info *in = NULL;
	struct coffer_device_info *v = NULL;
	size_t n = 0, i;
	int r;

	*devsp = NULL;
	*np = 0;
	if ((r = cf_device_list(s->s, &in, &n)) != 0)
		goto out;
	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(v[i].id, in[i].id, CF_ID_BYTES);
		memcpy(v[i].name, in[i].name, sizeof(v[i].name));
		memcpy(v[i].added_by, in[i].added_by, CF_ID_BYTES);
		v[i].added_at = in[i].added_at;
		v[i].this_device = in[i].this_device;
	}
	*devsp = v;
	*np = n;
out:
	free(in);
	return r;
}

int
coffer_device_remove(struct coffer_session *s,
    const uint8_t id[COFFER_ID_BYTES], int rekey)
{
	int r;

	r = cf_device_remove(s->s, id, rekey);
	return r;
}

int
coffer_recovery_key_rotate(struct coffer_session *s,
    char text[COFFER_RECOVERY_TEXT_BYTES])
{
	int r;

	r = cf_recovery_key_rotate(s->s, text);
	return r;
}

struct hist_arg {
	coffer_history_fn *fn;
	void *arg;
};

static void
history(void *arg, const struct cf_chain_change *ch, size_t n)
{
	struct hist_arg *ha = arg;
	struct coffer_chain_change *pub;
	size_t i;

	if (ha->fn == NULL)
		return;
	if (n > 0 && (pub = calloc(n, sizeof(*pub))) != NULL) {
		for (i = 0; i < n; i++)
			cf_api_change(&ch[i], NULL, &pub[i]);
		ha->fn(ha->arg, pub, n);
		free(pub);
	} else {
		ha->fn(ha->arg, NULL, 0);
	}
}

int
coffer_recover(struct coffer_ctx *ctx, const char *url, const char *name,
    const char *key, size_t keylen, const char *device, int remove_others,
    coffer_history_fn *histfn, void *arg, uint8_t device_id[COFFER_ID_BYTES])
{
	struct hist_arg ha = { histfn, arg };
	int r;

	r = cf_recover(&ctx->paths, url, name, key, keylen, device,
	    remove_others, history, &ha, device_id);
	return r;
}
