/*
 * This device's account: the account file's checks and strict codec, and
 * the creation of a new account (keys, recovery key, genesis, envelopes,
 * an empty drive directory).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/err.h"
#include "chain/chain.h"
#include "chain/dir.h"
#include "crypto/recovery.h"
#include "util/buf.h"
#include "account.h"
#include "session.h"
#include "state.h"

int
cf_account_url_ok(const char *s, size_t len)
{
	size_t i, pre;

	if (len > 7 && !memcmp(s, "http://", 7))
		pre = 7;
	else if (len > 8 && !memcmp(s, "https://", 8))
		pre = 8;
	else
		return 0;
	if (len > CF_ACCOUNT_URL_MAX || len == pre)
		return 0;
	for (i = pre; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return 0;
	return 1;
}

int
cf_account_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > CF_ACCOUNT_ANAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '.' || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

int
cf_account_device_ok(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > CF_DEVICE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return 0;
	return 1;
}

static void
wr_line(struct cf_wr *w, const char *key, const char *val, size_t vlen)
{
	cf_wr_bytes(w, key, strlen(key));
	cf_wr_bytes(w, "=", 1);
	cf_wr_bytes(w, val, vlen);
	cf_wr_bytes(w, "\n", 1);
}

int
cf_account_encode(const struct cf_account *a, uint8_t **bufp, size_t *lenp)
{
	struct cf_wr w;
	char hex[2 * CF_ID_BYTES + 1];

	*bufp = NULL;
	*lenp = 0;
	if (!cf_account_url_ok(a->server, strlen(a->server)) ||
	    !cf_account_name_ok(a->name, strlen(a->name)) ||
	    !cf_account_device_ok(a->device, strlen(a->device)))
		return COFFER_EINVAL;
	sodium_bin2hex(hex, sizeof(hex), a->account_id, CF_ID_BYTES);
	cf_wr_init(&w, CF_ACCOUNT_FILE_MAX, 0);
	cf_wr_bytes(&w, CF_ACCOUNT_HEADER "\n", strlen(CF_ACCOUNT_HEADER) + 1);
	wr_line(&w, "server", a->server, strlen(a->server));
	wr_line(&w, "account", a->name, strlen(a->name));
	wr_line(&w, "account_id", hex, strlen(hex));
	wr_line(&w, "device", a->device, strlen(a->device));
	return cf_wr_finish(&w, bufp, lenp);
}

/* Read "KEY=VALUE\n" with exactly ${key}; the value's bytes in *vp, *vlenp. */
static int
rd_line(struct cf_rd *r, const char *key, const char **vp, size_t *vlenp)
{
	size_t klen = strlen(key), i, left;
	const uint8_t *p;

	*vp = NULL;
	*vlenp = 0;
	cf_rd_expect(r, key, klen);
	cf_rd_expect(r, "=", 1);
	if (r->err != 0)
		return r->err;
	left = cf_rd_left(r);
	p = r->p + r->off;
	for (i = 0; i < left && p[i] != '\n'; i++)
		if (p[i] == '\0')
			break;
	if (i == left || p[i] != '\n') {
		cf_rd_fail(r);
		return r->err;
	}
	*vp = (const char *)cf_rd_bytes(r, i);
	*vlenp = i;
	cf_rd_expect(r, "\n", 1);
	return r->err;
}

int
cf_account_decode(const uint8_t *buf, size_t len, struct cf_account *out)
{
	struct cf_account a;
	struct cf_rd r;
	const char *v;
	size_t vl, binlen;
	int rc;

	memset(&a, 0, sizeof(a));
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	if (len > CF_ACCOUNT_FILE_MAX)
		return COFFER_EFORMAT;
	cf_rd_expect(&r, CF_ACCOUNT_HEADER "\n", strlen(CF_ACCOUNT_HEADER) + 1);
	if ((rc = rd_line(&r, "server", &v, &vl)) != 0)
		goto out;
	if (!cf_account_url_ok(v, vl)) {
		rc = COFFER_EFORMAT;
		goto out;
	}
	memcpy(a.server, v, vl);
	if ((rc = rd_line(&r, "account", &v, &vl)) != 0)
		goto out;
	if (!cf_account_name_ok(v, vl)) {
		rc = COFFER_EFORMAT;
		goto out;
	}
	memcpy(a.name, v, vl);
	if ((rc = rd_line(&r, "account_id", &v, &vl)) != 0)
		goto out;
	if (vl != 2 * CF_ID_BYTES || sodium_hex2bin(a.account_id, CF_ID_BYTES,
	    v, vl, NULL, &binlen, NULL) != 0 || binlen != CF_ID_BYTES) {
		rc = COFFER_EFORMAT;
		goto out;
	}
	/* Lower-case hex only, as written. */
	for (binlen = 0; binlen < vl; binlen++)
		if (v[binlen] >= 'A' && v[binlen] <= 'F') {
			rc = COFFER_EFORMAT;
			goto out;
		}
	if ((rc = rd_line(&r, "device", &v, &vl)) != 0)
		goto out;
	if (!cf_account_device_ok(v, vl)) {
		rc = COFFER_EFORMAT;
		goto out;
	}
	memcpy(a.device, v, vl);
	if ((rc = cf_rd_end(&r)) != 0)
		goto out;
	*out = a;
out:
	sodium_memzero(&a, sizeof(a));
	return rc;
}

int
cf_account_args_ok(const char *url, const char *name, const char *device)
{

	return cf_account_url_ok(url, strlen(url)) &&
	    cf_account_name_ok(name, strlen(name)) &&
	    cf_account_device_ok(device, strlen(device));
}

/* ---- account creation ---- */

int
cf_account_keys(const struct cf_state_paths *p, int reuse,
    struct cf_device_keys **kp)
{
	char path[CF_STATE_PATH_MAX];
	int r;

	*kp = NULL;
	if ((r = cf_state_join(path, sizeof(path), p->data,
	    CF_STATE_KEYFILE)) != 0)
		return r;
	if (reuse) {
		if ((r = cf_keyfile_load(path, &p->pass, kp, NULL)) !=
		    COFFER_ENOENT)
			return r;
	} else if (unlink(path) != 0 && errno != ENOENT)
		return COFFER_EIO;
	if ((r = cf_keys_generate(kp)) != 0)
		return r;
	if ((r = cf_keyfile_create(path, *kp, &cf_pwhash_default,
	    &p->pass)) != 0) {
		cf_keys_free(*kp);
		*kp = NULL;
	}
	return r;
}

int
cf_account_create(const struct cf_state_paths *paths, const char *url,
    const char *name, const char *invite, const char *device,
    char recovery_text[static CF_RECOVERY_TEXT_BYTES],
    uint8_t account_id[static CF_ID_BYTES])
{
	struct cf_session *s = NULL;
	struct cf_recovery_keys *rk = NULL;
	uint8_t rnd[CF_GENESIS_RAND_BYTES], secret[CF_RECOVERY_SECRET_BYTES];
	uint8_t (*k1)[CF_KEY_BYTES] = NULL;
	uint8_t rk_id[CF_ID_BYTES];
	uint8_t *entry = NULL, *rec = NULL, *acctbuf = NULL, *buf = NULL;
	size_t elen = 0, reclen = 0, acctlen = 0, len = 0;
	struct cf_blobs envs = { 0, NULL, NULL };
	struct cf_signer signer;
	uint64_t cur = 0;
	struct cf_dir *d = NULL;
	int r;

	memset(recovery_text, 0, CF_RECOVERY_TEXT_BYTES);
	if (!cf_account_args_ok(url, name, device))
		return COFFER_EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return COFFER_ENOMEM;
	if ((r = cf_state_paths_set(&s->paths, paths)) != 0)
		goto out;
	if ((r = cf_state_mkdirs(s->paths.data)) != 0)
		goto out;
	r = cf_state_read(s->paths.data, CF_STATE_ACCOUNT, CF_ACCOUNT_FILE_MAX,
	    &buf, &len);
	if (r != COFFER_ENOENT) {
		r = r == 0 ? COFFER_EEXIST : r;
		goto out;
	}
	if ((r = cf_account_keys(&s->paths, 1, &s->keys)) != 0)
		goto out;
	if ((rk = sodium_malloc(sizeof(*rk))) == NULL ||
	    (k1 = sodium_malloc(CF_KEY_BYTES)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	cf_chain_genesis_begin(s->keys, rnd, account_id);
	if ((r = cf_recovery_generate(account_id, secret, recovery_text)) != 0 ||
	    (r = cf_recovery_derive(secret, account_id, rk)) != 0)
		goto out;
	if ((r = cf_entry_genesis_rand(s->keys, rnd, device, strlen(device),
	    rk, cf_session_now(), k1[0], &entry, &elen)) != 0)
		goto out;
	if ((r = cf_chain_new(&s->chain)) != 0 ||
	    (r = cf_chain_append(s->chain, entry, elen)) != 0)
		goto out;
	/* Envelopes of epoch 1 for this device and the recovery key. */
	memcpy(signer.id, s->keys->device_id, CF_ID_BYTES);
	signer.sign_sk = s->keys->sign_sk;
	cf_device_id(rk->sign_pk, rk->box_pk, rk_id);
	if ((envs.p = calloc(2, sizeof(*envs.p))) == NULL ||
	    (envs.len = calloc(2, sizeof(*envs.len))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	envs.n = 2;
	if ((r = cf_envelope_make(account_id, s->chain->hash[0], &signer, 1,
	    (const uint8_t (*)[CF_KEY_BYTES])k1, s->keys->device_id,
	    s->keys->box_pk, &envs.p[0], &envs.len[0])) != 0 ||
	    (r = cf_envelope_make(account_id, s->chain->hash[0], &signer, 1,
	    (const uint8_t (*)[CF_KEY_BYTES])k1, rk_id, rk->box_pk, &envs.p[1],
	    &envs.len[1])) != 0)
		goto out;
	if ((r = cf_client_new(url, &s->net)) != 0 ||
	    (r = cf_client_set_signer(s->net, account_id, s->keys->sign_pk,
	    s->keys->sign_sk, s->keys->box_pk)) != 0)
		goto out;
	if ((r = cf_client_account_create(s->net, name, entry, elen, &envs,
	    invite)) != 0)
		goto out;
	/* The account exists: save the device's files. */
	memcpy(s->acct.account_id, account_id, CF_ID_BYTES);
	memcpy(s->acct.server, url, strlen(url) + 1);
	memcpy(s->acct.name, name, strlen(name) + 1);
	memcpy(s->acct.device, device, strlen(device) + 1);
	if ((r = cf_session_save_chain(s)) != 0)
		goto out;
	if ((r = cf_account_encode(&s->acct, &acctbuf, &acctlen)) != 0 ||
	    (r = cf_state_write(s->paths.data, CF_STATE_ACCOUNT, acctbuf,
	    acctlen)) != 0)
		goto out;
	/* An empty drive directory, pinned. */
	if ((r = cf_dir_build(s->chain, s->keys,
	    (const uint8_t (*)[CF_KEY_BYTES])k1, 1, NULL, NULL, 0,
	    cf_session_now(), &rec, &reclen)) != 0)
		goto out;
	if ((r = cf_client_dir_put(s->net, 0, rec, reclen, &cur)) != 0)
		goto out;
	if ((r = cf_dir_accept(s->chain, NULL, (const uint8_t (*)[CF_KEY_BYTES])k1,
	    1, rec, reclen, NULL, NULL, 0, &d)) != 0)
		goto out;
	cf_dir_pin_of(d, &s->dirpin);
	r = cf_session_save_dirpin(s);
out:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(rnd, sizeof(rnd));
	if (rk != NULL)
		sodium_free(rk);
	if (k1 != NULL)
		sodium_free(k1);
	if (r != 0)
		sodium_memzero(recovery_text, CF_RECOVERY_TEXT_BYTES);
	cf_dir_free(d);
	free(entry);
	free(rec);
	free(acctbuf);
	free(buf);
	cf_blobs_free(&envs);
	cf_session_free(s);
	return r;
}
