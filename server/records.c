/* The server's reading of the records it stores (defence in depth). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "chain/chain_internal.h"
#include "crypto/labels.h"
#include "crypto/sign.h"
#include "records.h"
#include "util/buf.h"

#define ACCOUNT_NAME_MAX	255U
#define ENC_NAME_MAX		1024U
#define SEALED_MAX		(1U << 20)
#define WRAPPED_MAX		1024U
#define DIR_DRIVES_MAX		65536U
#define DIR_KEYS_MAX		65536U
#define DIR_SECRETS_MAX		256U	/* FORMAT §16 */
#define DIR_NAME_BOX_BYTES	(24 + 256 + 16)
#define DIR_WRAPPED_BYTES	(32 + 4 + 1 + 24 + 16)

static const uint8_t zero32[CF_ID_BYTES];

/* 1 if ${sig} is ${pk}'s signature over purpose || msg (crypto/sign.h). */
static int
sig_ok(const char *purpose, const uint8_t *msg, size_t len,
    const uint8_t *sig, const uint8_t pk[static CF_SIGN_PK_BYTES])
{
	return cf_verify_purpose(pk, purpose, msg, len, sig) == 0;
}

static void
read_epoch_block(struct cf_rd *r)
{
	uint32_t n, i;
	const uint8_t *prev = NULL, *cur;

	(void)cf_rd_u64(r);
	(void)cf_rd_bytes(r, CF_ID_BYTES);
	n = cf_rd_u32(r);
	if (n == 0 || n > SRV_RECIPIENTS_MAX)
		cf_rd_fail(r);
	for (i = 0; i < n && r->err == 0; i++) {
		cur = cf_rd_bytes(r, CF_ID_BYTES);
		if (cur != NULL && prev != NULL &&
		    memcmp(prev, cur, CF_ID_BYTES) >= 0)
			cf_rd_fail(r);
		prev = cur;
	}
}

static void
read_rk_reg(struct cf_rd *r, struct srv_entry *e)
{
	const uint8_t *rsig;
	uint8_t msg[CF_RKREG_MSG_BYTES];

	cf_rd_copy(r, e->rk_sign_pk, CF_SIGN_PK_BYTES);
	cf_rd_copy(r, e->rk_box_pk, CF_BOX_PK_BYTES);
	rsig = cf_rd_bytes(r, CF_SIG_BYTES);
	if (r->err != 0)
		return;
	cf_rkreg_msg(e->account_id, e->seq, e->rk_sign_pk, e->rk_box_pk, msg);
	if (!sig_ok(CF_LABEL_RKREG, msg, sizeof(msg), rsig, e->rk_sign_pk))
		cf_rd_fail(r);
	cf_device_id(e->rk_sign_pk, e->rk_box_pk, e->rk_id);
	e->has_rk = 1;
}

static void
pop_check(struct cf_rd *r, const uint8_t *account_id, const uint8_t *spk,
    const uint8_t *bpk, const uint8_t *pop)
{
	if (r->err != 0)
		return;
	if (cf_pop_verify(account_id, spk, bpk, pop) != 0)
		cf_rd_fail(r);
}

static int
parse_body(struct srv_entry *e, const uint8_t *body, size_t len)
{
	struct cf_rd r;
	const uint8_t *rnd, *pop;
	uint32_t nl, n, i;
	uint8_t acct[CF_ID_BYTES];

	cf_rd_init(&r, body, len, COFFER_EFORMAT);
	switch (e->type) {
	case SRV_ENTRY_GENESIS:
		cf_rd_copy(&r, e->dev_sign_pk, CF_SIGN_PK_BYTES);
		cf_rd_copy(&r, e->dev_box_pk, CF_BOX_PK_BYTES);
		rnd = cf_rd_bytes(&r, CF_ID_BYTES);
		(void)cf_rd_lstr(&r, SRV_NAME_BOX_MAX, &nl);
		read_rk_reg(&r, e);
		read_epoch_block(&r);
		if (r.err != 0)
			break;
		cf_chain_account_id(e->dev_sign_pk, e->dev_box_pk, rnd, acct);
		cf_device_id(e->dev_sign_pk, e->dev_box_pk, e->dev_id);
		if (memcmp(acct, e->account_id, CF_ID_BYTES) != 0 ||
		    memcmp(e->dev_id, e->signer_id, CF_ID_BYTES) != 0 ||
		    e->seq != 0 ||
		    memcmp(e->prev_hash, zero32, CF_ID_BYTES) != 0)
			cf_rd_fail(&r);
		break;
	case SRV_ENTRY_ADD:
		cf_rd_copy(&r, e->dev_sign_pk, CF_SIGN_PK_BYTES);
		cf_rd_copy(&r, e->dev_box_pk, CF_BOX_PK_BYTES);
		(void)cf_rd_u64(&r);
		(void)cf_rd_lstr(&r, SRV_NAME_BOX_MAX, &nl);
		pop = cf_rd_bytes(&r, CF_SIG_BYTES);
		pop_check(&r, e->account_id, e->dev_sign_pk, e->dev_box_pk, pop);
		cf_device_id(e->dev_sign_pk, e->dev_box_pk, e->dev_id);
		break;
	case SRV_ENTRY_REMOVE:
		cf_rd_copy(&r, e->removed_id, CF_ID_BYTES);
		n = cf_rd_u32(&r);
		if (n > SRV_REMOVE_DRIVES_MAX ||
		    n > cf_rd_left(&r) / (CF_ID_BYTES + 8 + CF_ID_BYTES))
			cf_rd_fail(&r);
		for (i = 0; i < n && r.err == 0; i++) {
			(void)cf_rd_bytes(&r, CF_ID_BYTES);
			(void)cf_rd_u64(&r);
			(void)cf_rd_bytes(&r, CF_ID_BYTES);
		}
		read_epoch_block(&r);
		break;
	case SRV_ENTRY_ROTATE:
		read_epoch_block(&r);
		break;
	case SRV_ENTRY_SETRK:
		read_rk_reg(&r, e);
		read_epoch_block(&r);
		break;
	default:
		cf_rd_fail(&r);
		break;
	}
	return cf_rd_end(&r);
}

int
srv_entry_parse(const uint8_t *buf, size_t len, struct srv_entry *e)
{
	struct cf_rd r;
	const uint8_t *body;
	uint32_t blen;
	int rc;

	memset(e, 0, sizeof(*e));
	if (len > SRV_ENTRY_MAX || len < CF_SIG_BYTES) {
		rc = COFFER_EFORMAT;
		goto out;
	}
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	cf_rd_expect(&r, "CFCE", 4);
	if (cf_rd_u8(&r) != 1)
		cf_rd_fail(&r);
	cf_rd_copy(&r, e->account_id, CF_ID_BYTES);
	e->seq = cf_rd_u64(&r);
	cf_rd_copy(&r, e->prev_hash, CF_ID_BYTES);
	e->type = cf_rd_u8(&r);
	cf_rd_copy(&r, e->signer_id, CF_ID_BYTES);
	e->time = cf_rd_u64(&r);
	body = cf_rd_lstr(&r, SRV_ENTRY_BODY_MAX, &blen);
	e->signed_len = r.off;
	e->sig = cf_rd_bytes(&r, CF_SIG_BYTES);
	if ((rc = cf_rd_end(&r)) != 0)
		goto out;
	if ((rc = parse_body(e, body, blen)) != 0)
		goto out;
	if (e->type == SRV_ENTRY_GENESIS &&
	    (rc = srv_entry_verify(buf, e, e->dev_sign_pk)) != 0)
		goto out;
	cf_entry_hash(buf, len, e->hash);
out:
	return rc;
}

int
srv_entry_verify(const uint8_t *buf, const struct srv_entry *e,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES])
{
	return sig_ok(CF_LABEL_ENTRY, buf, e->signed_len, e->sig, sign_pk) ?
	    0 : COFFER_EFORMAT;
}

static int
envelope_read(const uint8_t *buf, size_t len, struct srv_envelope *v,
    const uint8_t **sealedp, uint32_t *sealedlenp, const uint8_t **sigp)
{
	struct cf_rd r;

	memset(v, 0, sizeof(*v));
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	if (len > SRV_ENVELOPE_MAX)
		cf_rd_fail(&r);
	cf_rd_expect(&r, "CFEV", 4);
	if (cf_rd_u8(&r) != 1)
		cf_rd_fail(&r);
	cf_rd_copy(&r, v->account_id, CF_ID_BYTES);
	cf_rd_copy(&r, v->entry_hash, CF_ID_BYTES);
	v->epoch = cf_rd_u64(&r);
	cf_rd_copy(&r, v->recipient_id, CF_ID_BYTES);
	*sealedp = cf_rd_lstr(&r, SEALED_MAX, sealedlenp);
	cf_rd_copy(&r, v->signer_id, CF_ID_BYTES);
	*sigp = cf_rd_bytes(&r, CF_SIG_BYTES);
	if (v->epoch == 0)
		cf_rd_fail(&r);
	return cf_rd_end(&r);
}

int
srv_envelope_parse(const uint8_t *buf, size_t len, struct srv_envelope *v)
{
	const uint8_t *sealed, *sig;
	uint32_t sl;

	return envelope_read(buf, len, v, &sealed, &sl, &sig);
}

int
srv_envelope_verify(const uint8_t *buf, size_t len,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES])
{
	struct srv_envelope v;
	const uint8_t *sealed, *sig;
	uint32_t sl;
	int rc;

	if ((rc = envelope_read(buf, len, &v, &sealed, &sl, &sig)) != 0)
		goto out;
	/* purpose || account_id .. recipient_id || sealed (FORMAT §15). */
	if (cf_verify_purpose2(sign_pk, CF_LABEL_ENV, buf + CF_ENV_SIGNED_OFF,
	    CF_ENV_SIGNED_HEAD_BYTES, sealed, sl, sig) != 0)
		rc = COFFER_EFORMAT;
out:
	return rc;
}

int
srv_join_parse(const uint8_t *buf, size_t len, struct srv_join *j)
{
	struct cf_rd r;
	const uint8_t *pop;
	uint32_t l;

	memset(j, 0, sizeof(*j));
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	if (len > SRV_JOIN_MAX)
		cf_rd_fail(&r);
	cf_rd_expect(&r, "CFJR", 4);
	if (cf_rd_u8(&r) != 1)
		cf_rd_fail(&r);
	cf_rd_copy(&r, j->account_id, CF_ID_BYTES);
	(void)cf_rd_lstr(&r, ACCOUNT_NAME_MAX, &l);
	(void)cf_rd_lstr(&r, ENC_NAME_MAX, &l);
	cf_rd_copy(&r, j->sign_pk, CF_SIGN_PK_BYTES);
	cf_rd_copy(&r, j->box_pk, CF_BOX_PK_BYTES);
	(void)cf_rd_bytes(&r, 16);
	pop = cf_rd_bytes(&r, CF_SIG_BYTES);
	pop_check(&r, j->account_id, j->sign_pk, j->box_pk, pop);
	cf_device_id(j->sign_pk, j->box_pk, j->dev_id);
	return cf_rd_end(&r);
}

static int
approval_read(const uint8_t *buf, size_t len, struct srv_approval *a,
    size_t *signedp, const uint8_t **sigp)
{
	struct cf_rd r;
	uint32_t l;

	memset(a, 0, sizeof(*a));
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	if (len > SRV_APPROVAL_MAX)
		cf_rd_fail(&r);
	cf_rd_expect(&r, "CFAP", 4);
	if (cf_rd_u8(&r) != 1)
		cf_rd_fail(&r);
	cf_rd_copy(&r, a->account_id, CF_ID_BYTES);
	cf_rd_copy(&r, a->recipient_id, CF_ID_BYTES);
	(void)cf_rd_lstr(&r, SEALED_MAX, &l);
	cf_rd_copy(&r, a->approver_id, CF_ID_BYTES);
	*signedp = r.off;
	*sigp = cf_rd_bytes(&r, CF_SIG_BYTES);
	return cf_rd_end(&r);
}

int
srv_approval_parse(const uint8_t *buf, size_t len, struct srv_approval *a)
{
	size_t sl;
	const uint8_t *sig;

	return approval_read(buf, len, a, &sl, &sig);
}

int
srv_approval_verify(const uint8_t *buf, size_t len,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES])
{
	struct srv_approval a;
	size_t sl;
	const uint8_t *sig;
	int rc;

	if ((rc = approval_read(buf, len, &a, &sl, &sig)) == 0 &&
	    !sig_ok(CF_LABEL_APPROVE, buf, sl, sig, sign_pk))
		rc = COFFER_EFORMAT;
	return rc;
}

static int
dir_read(const uint8_t *buf, size_t len, struct srv_dir *d, int keep_ids,
    size_t *signedp, const uint8_t **sigp)
{
	struct cf_rd r;
	uint8_t *ids = NULL;
	const uint8_t *id, *prev = NULL;
	uint32_t n, i, k, j;
	int rc;

	memset(d, 0, sizeof(*d));
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	if (len > SRV_DIR_MAX)
		cf_rd_fail(&r);
	cf_rd_expect(&r, "CFDR", 4);
	if (cf_rd_u8(&r) != 1)
		cf_rd_fail(&r);
	cf_rd_copy(&r, d->account_id, CF_ID_BYTES);
	d->version = cf_rd_u64(&r);
	(void)cf_rd_bytes(&r, CF_ID_BYTES);		/* prev_hash */
	cf_rd_copy(&r, d->author_id, CF_ID_BYTES);
	(void)cf_rd_u64(&r);				/* time */
	(void)cf_rd_u64(&r);				/* chain_seq */
	(void)cf_rd_bytes(&r, CF_ID_BYTES);		/* chain_head */
	n = cf_rd_u32(&r);
	if (n > DIR_DRIVES_MAX || n > cf_rd_left(&r) / CF_ID_BYTES)
		cf_rd_fail(&r);
	if (r.err == 0 && keep_ids && n > 0 &&
	    (ids = malloc((size_t)n * CF_ID_BYTES)) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n && r.err == 0; i++) {
		id = cf_rd_bytes(&r, CF_ID_BYTES);
		if (id != NULL && prev != NULL &&
		    memcmp(prev, id, CF_ID_BYTES) >= 0)
			cf_rd_fail(&r);
		if (id != NULL && ids != NULL)
			memcpy(ids + (size_t)i * CF_ID_BYTES, id, CF_ID_BYTES);
		prev = id;
		/* FORMAT §16: fixed-size name box and wrapped keys. */
		(void)cf_rd_u64(&r);
		(void)cf_rd_bytes(&r, DIR_NAME_BOX_BYTES);
		k = cf_rd_u32(&r);
		if (k < 1 || k > DIR_SECRETS_MAX)
			cf_rd_fail(&r);
		for (j = 0; j < k && r.err == 0; j++) {
			(void)cf_rd_bytes(&r, CF_ID_BYTES);
			(void)cf_rd_u64(&r);
			(void)cf_rd_bytes(&r, DIR_WRAPPED_BYTES);
		}
		k = cf_rd_u32(&r);
		if (k > DIR_KEYS_MAX)
			cf_rd_fail(&r);
		for (j = 0; j < k && r.err == 0; j++) {
			(void)cf_rd_u64(&r);
			(void)cf_rd_bytes(&r, CF_ID_BYTES);
			(void)cf_rd_bytes(&r, DIR_WRAPPED_BYTES);
		}
	}
	*signedp = r.off;
	*sigp = cf_rd_bytes(&r, CF_SIG_BYTES);
	if ((rc = cf_rd_end(&r)) != 0)
		goto out;
	d->ndrives = n;
	d->drive_ids = ids;
	ids = NULL;
out:
	free(ids);
	return rc;
}

int
srv_dir_parse(const uint8_t *buf, size_t len, struct srv_dir *d)
{
	size_t sl;
	const uint8_t *sig;

	return dir_read(buf, len, d, 1, &sl, &sig);
}

void
srv_dir_free(struct srv_dir *d)
{
	free((void *)(uintptr_t)d->drive_ids);
	d->drive_ids = NULL;
	d->ndrives = 0;
}

int
srv_dir_verify(const uint8_t *buf, size_t len,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES])
{
	struct srv_dir d;
	size_t sl;
	const uint8_t *sig;
	int rc;

	if ((rc = dir_read(buf, len, &d, 0, &sl, &sig)) == 0 &&
	    !sig_ok(CF_LABEL_DIR, buf, sl, sig, sign_pk))
		rc = COFFER_EFORMAT;
	return rc;
}

static const uint8_t *
read_ids(struct cf_rd *r, uint32_t *np, uint32_t budget)
{
	const uint8_t *p = NULL;
	uint32_t n, i;

	n = cf_rd_u32(r);
	if (n > budget || n > cf_rd_left(r) / CF_ID_BYTES)
		cf_rd_fail(r);
	else
		p = cf_rd_bytes(r, (size_t)n * CF_ID_BYTES);
	/* Strictly increasing: sorted, no duplicates. */
	for (i = 1; p != NULL && i < n; i++) {
		if (memcmp(p + (size_t)(i - 1) * CF_ID_BYTES,
		    p + (size_t)i * CF_ID_BYTES, CF_ID_BYTES) >= 0) {
			cf_rd_fail(r);
			break;
		}
	}
	*np = r->err ? 0 : n;
	return r->err ? NULL : p;
}

int
srv_delta_parse(const uint8_t *buf, size_t len, struct srv_delta *d)
{
	struct cf_rd r;
	int rc;

	memset(d, 0, sizeof(*d));
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	cf_rd_expect(&r, "CFRD", 4);
	if (cf_rd_u8(&r) != 1)
		cf_rd_fail(&r);
	d->start = read_ids(&r, &d->nstart, SRV_DELTA_IDS_MAX);
	d->stop = read_ids(&r, &d->nstop, SRV_DELTA_IDS_MAX - d->nstart);
	if ((rc = cf_rd_end(&r)) != 0)
		memset(d, 0, sizeof(*d));
	return rc;
}
