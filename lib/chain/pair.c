/*
 * Joining a device (DESIGN §5; docs/FORMAT.md §17).
 *
 *   request  = "CFJR" || u8 version=1 || account_id[32] || lstr(account_name)
 *              || lstr(enc_name) || sign_pk[32] || box_pk[32] || nonce[16] || pop[64]
 *   k_name   = Argon2id(password = r, salt = nonce, ops 2, mem 64 MiB)
 *   enc_name = n24[24] || AEAD(k_name, n24, AD = nonce, u8 len || device name
 *              || zero pad to 65 bytes); requests made before padding hold
 *              the bare name, and are still read
 *   t        = first 4 bytes of H_{H(r)}("coffer-pair-v1" || account_id
 *              || lstr(account_name) || lstr(enc_name) || sign_pk || box_pk || nonce)
 *   code     = base32(r || t) || Luhn mod 32 check character
 *   withdraw = Ed25519(new device, "coffer-withdraw-v1" || account_id || device_id)
 *
 *   approval = "CFAP" || u8 version=1 || account_id[32] || recipient_id[32]
 *              || lstr(sealed) || approver_id[32] || sig[64]
 *   sig      = Ed25519(approver, "coffer-approve-v1" || every byte before sig)
 *   sealed   = crypto_box_seal(grant, new device's box_pk)
 *   grant    = "CFAG" || u8 version=1 || r[6] || account_id[32] || entry_hash[32]
 *              || u64 chain_seq || u64 dir_version || dir_hash[32]
 *              || u32 n || n x (drive_id[32] || u64 version || commit_id[32])
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "util/base32.h"
#include "util/buf.h"
#include "chain_internal.h"
#include "pair.h"


#define PAIR_HASH_BYTES		32
#define PAIR_N24_BYTES		crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define PAIR_MAC_BYTES		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define PAIR_ENC_NAME_MIN	(PAIR_N24_BYTES + 1 + PAIR_MAC_BYTES)
/* Argon2id for the device-name key: r is only 48 bits (FORMAT §17). */
#define PAIR_PWHASH_OPS		2ULL
#define PAIR_PWHASH_MEM		((size_t)64 << 20)
#define PAIR_RAW_BYTES		(CF_PAIR_R_BYTES + CF_PAIR_T_BYTES)
#define PAIR_RADIX		32
/* Characters per group of a code as shown (FORMAT §17). */
#define PAIR_GROUP_CHARS	5
/* Characters read as a code's separators. */
#define PAIR_SEPARATORS		"- \t\r\n"

_Static_assert(CF_PAIR_ENC_NAME_MAX ==
    PAIR_N24_BYTES + CF_DEVICE_NAME_PADDED + PAIR_MAC_BYTES, "enc_name");
_Static_assert(CF_BASE32_LEN(PAIR_RAW_BYTES) == CF_PAIR_CODE_VALUES,
    "r || t is exactly 16 characters, no spare bits");
_Static_assert(CF_PAIR_NONCE_BYTES == crypto_pwhash_SALTBYTES,
    "the nonce salts Argon2id");
_Static_assert(CF_APPROVAL_SEAL_BYTES == crypto_box_SEALBYTES, "seal");
_Static_assert(CF_APPROVAL_MAX <= UINT32_MAX, "approval length");
_Static_assert(CF_PAIR_R_BYTES * 8 >= 48, "DESIGN §5: r has >= 48 bits");

static const char pair_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* 1 if ${p} is 1..${max} bytes without a NUL. */
static int
text_ok(const void *p, size_t len, size_t max)
{
	return p != NULL && len >= 1 && len <= max && memchr(p, '\0', len) == NULL;
}

/* ---- The join request ---- */

/* k_name = Argon2id(r, salt = nonce). */
static int
name_key(const uint8_t r[static CF_PAIR_R_BYTES],
    const uint8_t nonce[static CF_PAIR_NONCE_BYTES],
    uint8_t key[static CF_KEY_BYTES])
{
	int rc = 0;

	if (crypto_pwhash(key, CF_KEY_BYTES, (const char *)r, CF_PAIR_R_BYTES,
	    nonce, PAIR_PWHASH_OPS, PAIR_PWHASH_MEM,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(key, CF_KEY_BYTES);
		rc = COFFER_ENOMEM;
	}
	return rc;
}

/* The request's proof of possession (FORMAT §14.2), as the chain checks it. */
static int
pop_ok(const struct cf_join_request *req,
    const uint8_t account_id[static CF_ID_BYTES])
{
	return cf_pop_verify(account_id, req->sign_pk, req->box_pk,
	    req->pop) == 0;
}

/* 1 if ${pk} has small order (an X25519 output with it would be zero). */
static int
box_pk_low_order(const uint8_t pk[static CF_BOX_PK_BYTES])
{
	static const uint8_t probe[crypto_scalarmult_SCALARBYTES] = { 1, 2, 3 };
	uint8_t q[crypto_scalarmult_BYTES];
	int bad;

	bad = crypto_scalarmult(q, probe, pk) != 0;
	sodium_memzero(q, sizeof(q));
	return bad;
}

void
cf_pair_t(const uint8_t r[static CF_PAIR_R_BYTES],
    const uint8_t account_id[static CF_ID_BYTES],
    const struct cf_join_request *req, uint8_t t[static CF_PAIR_T_BYTES])
{
	crypto_generichash_state st;
	uint8_t hr[PAIR_HASH_BYTES], h[PAIR_HASH_BYTES], len[4];

	crypto_generichash(hr, sizeof(hr), r, CF_PAIR_R_BYTES, NULL, 0);
	crypto_generichash_init(&st, hr, sizeof(hr), sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_PAIR_T,
	    CF_LABEL_LEN(CF_LABEL_PAIR_T));
	crypto_generichash_update(&st, account_id, CF_ID_BYTES);
	cf_be32enc(len, (uint32_t)req->account_name_len);
	crypto_generichash_update(&st, len, sizeof(len));
	crypto_generichash_update(&st, req->account_name, req->account_name_len);
	cf_be32enc(len, (uint32_t)req->enc_name_len);
	crypto_generichash_update(&st, len, sizeof(len));
	crypto_generichash_update(&st, req->enc_name, req->enc_name_len);
	crypto_generichash_update(&st, req->sign_pk, CF_SIGN_PK_BYTES);
	crypto_generichash_update(&st, req->box_pk, CF_BOX_PK_BYTES);
	crypto_generichash_update(&st, req->nonce, CF_PAIR_NONCE_BYTES);
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(t, h, CF_PAIR_T_BYTES);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(hr, sizeof(hr));
	sodium_memzero(h, sizeof(h));
}

static int
request_encode(const struct cf_join_request *req, uint8_t **outp, size_t *lenp)
{
	struct cf_wr w;

	cf_wr_init(&w, CF_JOIN_REQUEST_MAX, 0);
	cf_wr_bytes(&w, CF_JOIN_TAG, CF_PAIR_TAG_BYTES);
	cf_wr_u8(&w, CF_PAIR_VERSION);
	cf_wr_bytes(&w, req->account_id, CF_ID_BYTES);
	cf_wr_lstr(&w, req->account_name, req->account_name_len);
	cf_wr_lstr(&w, req->enc_name, req->enc_name_len);
	cf_wr_bytes(&w, req->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(&w, req->box_pk, CF_BOX_PK_BYTES);
	cf_wr_bytes(&w, req->nonce, CF_PAIR_NONCE_BYTES);
	cf_wr_bytes(&w, req->pop, CF_SIG_BYTES);
	return cf_wr_finish(&w, outp, lenp);
}

int
cf_join_request_make(const struct cf_device_keys *dev,
    const uint8_t account_id[static CF_ID_BYTES], const char *account_name,
    size_t anlen, const char *device_name, size_t dnlen,
    uint8_t r[static CF_PAIR_R_BYTES], uint8_t t[static CF_PAIR_T_BYTES],
    uint8_t **reqp, size_t *lenp)
{
	struct cf_join_request req;
	uint8_t rr[CF_PAIR_R_BYTES], key[CF_KEY_BYTES];
	uint8_t plain[CF_DEVICE_NAME_PADDED];
	int rc;

	sodium_memzero(r, CF_PAIR_R_BYTES);
	sodium_memzero(t, CF_PAIR_T_BYTES);
	*reqp = NULL;
	*lenp = 0;
	memset(&req, 0, sizeof(req));
	if (dev == NULL || !text_ok(account_name, anlen, CF_ACCOUNT_NAME_MAX) ||
	    cf_device_name_pad(device_name, dnlen, plain) != 0) {
		rc = COFFER_EINVAL;
		goto out;
	}
	randombytes_buf(rr, sizeof(rr));
	randombytes_buf(req.nonce, sizeof(req.nonce));
	memcpy(req.account_id, account_id, CF_ID_BYTES);
	memcpy(req.account_name, account_name, anlen);
	req.account_name_len = anlen;
	memcpy(req.sign_pk, dev->sign_pk, CF_SIGN_PK_BYTES);
	memcpy(req.box_pk, dev->box_pk, CF_BOX_PK_BYTES);
	if ((rc = name_key(rr, req.nonce, key)) != 0)
		goto out;
	randombytes_buf(req.enc_name, PAIR_N24_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(req.enc_name + PAIR_N24_BYTES,
	    NULL, plain, sizeof(plain), req.nonce, sizeof(req.nonce), NULL,
	    req.enc_name, key);
	req.enc_name_len = PAIR_N24_BYTES + sizeof(plain) + PAIR_MAC_BYTES;
	cf_pop_sign(dev, account_id, req.pop);
	if ((rc = request_encode(&req, reqp, lenp)) != 0)
		goto out;
	cf_pair_t(rr, account_id, &req, t);
	memcpy(r, rr, CF_PAIR_R_BYTES);
	rc = 0;
out:
	sodium_memzero(rr, sizeof(rr));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

/* Signed with purpose "coffer-withdraw-v1": account_id || device_id. */
static void
withdraw_msg(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t device_id[static CF_ID_BYTES],
    uint8_t msg[static 2 * CF_ID_BYTES])
{
	memcpy(msg, account_id, CF_ID_BYTES);
	memcpy(msg + CF_ID_BYTES, device_id, CF_ID_BYTES);
}

void
cf_join_withdraw_sign(const struct cf_device_keys *dev,
    const uint8_t account_id[static CF_ID_BYTES], uint8_t sig[static CF_SIG_BYTES])
{
	uint8_t msg[2 * CF_ID_BYTES];

	withdraw_msg(account_id, dev->device_id, msg);
	/* A short message: signed from the stack, so this cannot fail. */
	if (cf_sign_purpose(dev->sign_sk, CF_LABEL_WITHDRAW, msg, sizeof(msg),
	    sig) != 0)
		sodium_misuse();
}

int
cf_join_withdraw_verify(const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t device_id[static CF_ID_BYTES],
    const uint8_t sig[static CF_SIG_BYTES])
{
	uint8_t msg[2 * CF_ID_BYTES];

	withdraw_msg(account_id, device_id, msg);
	return cf_verify_purpose(sign_pk, CF_LABEL_WITHDRAW, msg, sizeof(msg),
	    sig) == 0 ? 0 : COFFER_ENOTAUTHENTIC;
}

int
cf_join_request_decode(const uint8_t *buf, size_t len,
    struct cf_join_request *req)
{
	const uint8_t *an, *en;
	uint32_t anlen = 0, enlen = 0;
	struct cf_rd rd;
	int r;

	memset(req, 0, sizeof(*req));
	if (buf == NULL || len > CF_JOIN_REQUEST_MAX) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	cf_rd_init(&rd, buf, len, COFFER_ENOTAUTHENTIC);
	cf_rd_expect(&rd, CF_JOIN_TAG, CF_PAIR_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_PAIR_VERSION)
		cf_rd_fail(&rd);
	cf_rd_copy(&rd, req->account_id, CF_ID_BYTES);
	an = cf_rd_lstr(&rd, CF_ACCOUNT_NAME_MAX, &anlen);
	en = cf_rd_lstr(&rd, CF_PAIR_ENC_NAME_MAX, &enlen);
	cf_rd_copy(&rd, req->sign_pk, CF_SIGN_PK_BYTES);
	cf_rd_copy(&rd, req->box_pk, CF_BOX_PK_BYTES);
	cf_rd_copy(&rd, req->nonce, CF_PAIR_NONCE_BYTES);
	cf_rd_copy(&rd, req->pop, CF_SIG_BYTES);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	if (!text_ok(an, anlen, CF_ACCOUNT_NAME_MAX) || en == NULL ||
	    enlen < PAIR_ENC_NAME_MIN) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	memcpy(req->account_name, an, anlen);
	req->account_name_len = anlen;
	memcpy(req->enc_name, en, enlen);
	req->enc_name_len = enlen;
	cf_device_id(req->sign_pk, req->box_pk, req->device_id);
	if (box_pk_low_order(req->box_pk) || !pop_ok(req, req->account_id)) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	r = 0;
out:
	if (r != 0)
		memset(req, 0, sizeof(*req));
	return r;
}

/* ---- The pairing code ---- */

/*
 * luhn32(v, n, factor):
 * The Luhn mod 32 sum of ${n} values, doubling from the right starting
 * with ${factor} (2 to make a check character, 1 to check one).
 */
static unsigned
luhn32(const uint8_t *v, size_t n, unsigned factor)
{
	unsigned sum = 0, add;
	size_t i;

	for (i = n; i > 0; i--) {
		add = factor * v[i - 1];
		factor = (factor == 2) ? 1 : 2;
		sum += add / PAIR_RADIX + add % PAIR_RADIX;
	}
	return sum % PAIR_RADIX;
}

void
cf_pair_code_format(const uint8_t r[static CF_PAIR_R_BYTES],
    const uint8_t t[static CF_PAIR_T_BYTES],
    char text[static CF_PAIR_CODE_TEXT_BYTES])
{
	uint8_t raw[PAIR_RAW_BYTES], v[CF_PAIR_CODE_VALUES];
	char s[CF_PAIR_CODE_VALUES + 1];
	size_t i, o = 0;

	memcpy(raw, r, CF_PAIR_R_BYTES);
	memcpy(raw + CF_PAIR_R_BYTES, t, CF_PAIR_T_BYTES);
	cf_base32_encode(raw, sizeof(raw), s);
	for (i = 0; i < CF_PAIR_CODE_VALUES; i++) {
		v[i] = (uint8_t)cf_base32_value(s[i]);
		if (i > 0 && i % PAIR_GROUP_CHARS == 0)
			text[o++] = '-';
		text[o++] = s[i];
	}
	text[o++] = pair_alphabet[(PAIR_RADIX - luhn32(v, CF_PAIR_CODE_VALUES,
	    2)) % PAIR_RADIX];
	text[o] = '\0';
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(v, sizeof(v));
	sodium_memzero(s, sizeof(s));
}

int
cf_pair_code_parse(const char *text, size_t len,
    uint8_t r[static CF_PAIR_R_BYTES], uint8_t t[static CF_PAIR_T_BYTES])
{
	uint8_t v[CF_PAIR_CODE_CHARS], raw[PAIR_RAW_BYTES];
	char s[CF_PAIR_CODE_VALUES];
	size_t i, n = 0;
	int x, rc;

	sodium_memzero(r, CF_PAIR_R_BYTES);
	sodium_memzero(t, CF_PAIR_T_BYTES);
	if (text == NULL) {
		rc = COFFER_EINVAL;
		goto out;
	}
	for (i = 0; i < len; i++) {
		if (text[i] != '\0' && strchr(PAIR_SEPARATORS, text[i]) != NULL)
			continue;
		if ((x = cf_base32_value(text[i])) < 0 ||
		    n == CF_PAIR_CODE_CHARS) {
			rc = COFFER_EBADKEY;
			goto out;
		}
		v[n++] = (uint8_t)x;
	}
	if (n != CF_PAIR_CODE_CHARS || luhn32(v, n, 1) != 0) {
		rc = COFFER_EBADKEY;
		goto out;
	}
	for (i = 0; i < CF_PAIR_CODE_VALUES; i++)
		s[i] = pair_alphabet[v[i]];
	if (cf_base32_decode(s, sizeof(s), raw, sizeof(raw)) != 0) {
		rc = COFFER_EBADKEY;
		goto out;
	}
	memcpy(r, raw, CF_PAIR_R_BYTES);
	memcpy(t, raw + CF_PAIR_R_BYTES, CF_PAIR_T_BYTES);
	rc = 0;
out:
	sodium_memzero(v, sizeof(v));
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(s, sizeof(s));
	return rc;
}

/* ---- Matching on the approving device ---- */

int
cf_pair_match(const uint8_t own_account_id[static CF_ID_BYTES],
    const uint8_t r[static CF_PAIR_R_BYTES], const uint8_t t[static CF_PAIR_T_BYTES],
    const struct cf_join_request *reqs, size_t n, size_t *indexp,
    char name[static CF_DEVICE_NAME_MAX + 1], size_t *namelenp)
{
	const struct cf_join_request *m;
	uint8_t ti[CF_PAIR_T_BYTES], key[CF_KEY_BYTES];
	uint8_t plain[CF_DEVICE_NAME_PADDED];
	size_t i, idx = 0, count = 0, plen;
	int rc;

	*indexp = 0;
	*namelenp = 0;
	memset(name, 0, CF_DEVICE_NAME_MAX + 1);
	if (reqs == NULL && n > 0) {
		rc = COFFER_EINVAL;
		goto out;
	}
	if (n > CF_PAIR_PENDING_MAX) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/* t against our own account id; look at every request. */
	for (i = 0; i < n; i++) {
		cf_pair_t(r, own_account_id, &reqs[i], ti);
		if (sodium_memcmp(ti, t, CF_PAIR_T_BYTES) == 0) {
			count++;
			idx = i;
		}
	}
	if (count != 1) {
		rc = count == 0 ? COFFER_ENOENT : COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/*
	 * The new device signed its keys over the id it was told; an
	 * add-device entry needs that id to be ours.
	 */
	m = &reqs[idx];
	if (m->enc_name_len < PAIR_ENC_NAME_MIN ||
	    m->enc_name_len > CF_PAIR_ENC_NAME_MAX || !pop_ok(m, own_account_id)) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((rc = name_key(r, m->nonce, key)) != 0)
		goto out;
	plen = m->enc_name_len - PAIR_N24_BYTES - PAIR_MAC_BYTES;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL,
	    m->enc_name + PAIR_N24_BYTES, m->enc_name_len - PAIR_N24_BYTES,
	    m->nonce, sizeof(m->nonce), m->enc_name, key) != 0 ||
	    cf_device_name_unpad(plain, plen, name, namelenp) != 0) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	*indexp = idx;
	rc = 0;
out:
	sodium_memzero(ti, sizeof(ti));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

/* ---- Grants ---- */

void
cf_grant_free(struct cf_grant *g)
{
	if (g == NULL)
		return;
	free(g->drives);
	sodium_memzero(g, sizeof(*g));
	free(g);
}

/* Heads strictly increasing; version 0 only with a zero commit id. */
static int
heads_ok(const struct cf_drive_head *h, size_t n)
{
	size_t i;

	if (n > 0 && h == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if (i > 0 && memcmp(h[i - 1].drive_id, h[i].drive_id,
		    CF_ID_BYTES) >= 0)
			return 0;
		if (h[i].version == 0 &&
		    !sodium_is_zero(h[i].commit_id, CF_ID_BYTES))
			return 0;
	}
	return 1;
}

int
cf_grant_encode(const struct cf_grant *g, uint8_t **outp, size_t *lenp)
{
	struct cf_wr w;
	size_t i;
	int r;

	*outp = NULL;
	*lenp = 0;
	cf_wr_init(&w, CF_GRANT_MAX, 1);
	if (g == NULL || g->ndrives > CF_GRANT_DRIVES_MAX ||
	    !heads_ok(g->drives, g->ndrives) ||
	    (g->dir_version == 0 && !sodium_is_zero(g->dir_hash, CF_ID_BYTES))) {
		r = COFFER_EINVAL;
		goto out;
	}
	cf_wr_bytes(&w, CF_GRANT_TAG, CF_PAIR_TAG_BYTES);
	cf_wr_u8(&w, CF_PAIR_VERSION);
	cf_wr_bytes(&w, g->r, CF_PAIR_R_BYTES);
	cf_wr_bytes(&w, g->account_id, CF_ID_BYTES);
	cf_wr_bytes(&w, g->entry_hash, CF_ID_BYTES);
	cf_wr_u64(&w, g->chain_seq);
	cf_wr_u64(&w, g->dir_version);
	cf_wr_bytes(&w, g->dir_hash, CF_ID_BYTES);
	cf_wr_u32(&w, (uint32_t)g->ndrives);
	for (i = 0; i < g->ndrives; i++) {
		cf_wr_bytes(&w, g->drives[i].drive_id, CF_ID_BYTES);
		cf_wr_u64(&w, g->drives[i].version);
		cf_wr_bytes(&w, g->drives[i].commit_id, CF_ID_BYTES);
	}
	r = cf_wr_finish(&w, outp, lenp);
out:
	cf_wr_free(&w);
	return r;
}

int
cf_grant_decode(const uint8_t *buf, size_t len, struct cf_grant **gp)
{
	struct cf_grant *g = NULL;
	struct cf_rd rd;
	uint32_t n, i;
	int r;

	*gp = NULL;
	if (buf == NULL || len > CF_GRANT_MAX) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	cf_rd_init(&rd, buf, len, COFFER_ENOTAUTHENTIC);
	cf_rd_expect(&rd, CF_GRANT_TAG, CF_PAIR_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_PAIR_VERSION)
		cf_rd_fail(&rd);
	cf_rd_copy(&rd, g->r, CF_PAIR_R_BYTES);
	cf_rd_copy(&rd, g->account_id, CF_ID_BYTES);
	cf_rd_copy(&rd, g->entry_hash, CF_ID_BYTES);
	g->chain_seq = cf_rd_u64(&rd);
	g->dir_version = cf_rd_u64(&rd);
	cf_rd_copy(&rd, g->dir_hash, CF_ID_BYTES);
	n = cf_rd_u32(&rd);
	if (n > CF_GRANT_DRIVES_MAX || n > cf_rd_left(&rd) / CF_GRANT_HEAD_BYTES)
		cf_rd_fail(&rd);
	if ((r = rd.err) != 0)
		goto out;
	if (n > 0 && (g->drives = calloc(n, sizeof(*g->drives))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	g->ndrives = n;
	for (i = 0; i < n; i++) {
		cf_rd_copy(&rd, g->drives[i].drive_id, CF_ID_BYTES);
		g->drives[i].version = cf_rd_u64(&rd);
		cf_rd_copy(&rd, g->drives[i].commit_id, CF_ID_BYTES);
	}
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	if (!heads_ok(g->drives, g->ndrives) ||
	    (g->dir_version == 0 && !sodium_is_zero(g->dir_hash, CF_ID_BYTES))) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	*gp = g;
	g = NULL;
	r = 0;
out:
	cf_grant_free(g);
	return r;
}

/* ---- Approvals ---- */

void
cf_approval_free(struct cf_approval *a)
{
	if (a == NULL)
		return;
	free(a->sealed);
	free(a);
}

int
cf_approval_make_raw(const struct cf_device_keys *approver,
    const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t recipient_id[static CF_ID_BYTES],
    const uint8_t recipient_box_pk[static CF_BOX_PK_BYTES],
    const uint8_t *grant, size_t grantlen, uint8_t **outp, size_t *lenp)
{
	struct cf_wr w;
	uint8_t *sealed = NULL, *sig;
	int r;

	*outp = NULL;
	*lenp = 0;
	cf_wr_init(&w, CF_APPROVAL_MAX, 0);
	if (approver == NULL || (grant == NULL && grantlen > 0) ||
	    grantlen > CF_GRANT_MAX) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((sealed = malloc(grantlen + crypto_box_SEALBYTES)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	/* Refuses a low-order key (the X25519 output would be zero). */
	if (crypto_box_seal(sealed, grant, grantlen, recipient_box_pk) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	cf_wr_bytes(&w, CF_APPROVAL_TAG, CF_PAIR_TAG_BYTES);
	cf_wr_u8(&w, CF_PAIR_VERSION);
	cf_wr_bytes(&w, account_id, CF_ID_BYTES);
	cf_wr_bytes(&w, recipient_id, CF_ID_BYTES);
	cf_wr_lstr(&w, sealed, grantlen + crypto_box_SEALBYTES);
	cf_wr_bytes(&w, approver->device_id, CF_ID_BYTES);
	if ((sig = cf_wr_reserve(&w, CF_SIG_BYTES)) != NULL &&
	    (r = cf_sign_purpose(approver->sign_sk, CF_LABEL_APPROVE, w.p,
	    w.len - CF_SIG_BYTES, sig)) != 0)
		goto out;
	r = cf_wr_finish(&w, outp, lenp);
out:
	cf_wr_free(&w);
	free(sealed);
	return r;
}

int
cf_approval_make(const struct cf_device_keys *approver,
    const struct cf_join_request *req, const struct cf_grant *g,
    uint8_t **outp, size_t *lenp)
{
	uint8_t *grant = NULL;
	size_t glen = 0;
	int r;

	*outp = NULL;
	*lenp = 0;
	if (approver == NULL || req == NULL || g == NULL ||
	    memcmp(g->account_id, req->account_id, CF_ID_BYTES) != 0) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((r = cf_grant_encode(g, &grant, &glen)) != 0)
		goto out;
	if ((r = cf_approval_make_raw(approver, g->account_id, req->device_id,
	    req->box_pk, grant, glen, outp, lenp)) != 0)
		goto out;
out:
	cf_wipefree(grant, glen);
	return r;
}

int
cf_approval_decode(const uint8_t *buf, size_t len, struct cf_approval **ap)
{
	struct cf_approval *a = NULL;
	const uint8_t *sealed;
	uint32_t slen = 0;
	struct cf_rd rd;
	int r;

	*ap = NULL;
	if (buf == NULL || len > CF_APPROVAL_MAX) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	cf_rd_init(&rd, buf, len, COFFER_ENOTAUTHENTIC);
	cf_rd_expect(&rd, CF_APPROVAL_TAG, CF_PAIR_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_PAIR_VERSION)
		cf_rd_fail(&rd);
	cf_rd_copy(&rd, a->account_id, CF_ID_BYTES);
	cf_rd_copy(&rd, a->recipient_id, CF_ID_BYTES);
	sealed = cf_rd_lstr(&rd, CF_GRANT_MAX + CF_APPROVAL_SEAL_BYTES, &slen);
	cf_rd_copy(&rd, a->approver_id, CF_ID_BYTES);
	cf_rd_copy(&rd, a->sig, CF_SIG_BYTES);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	if (sealed == NULL || slen < CF_APPROVAL_SEAL_BYTES) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((a->sealed = malloc(slen)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	memcpy(a->sealed, sealed, slen);
	a->sealed_len = slen;
	*ap = a;
	a = NULL;
	r = 0;
out:
	cf_approval_free(a);
	return r;
}

int
cf_approval_open_grant(const struct cf_approval *a,
    const uint8_t box_pk[static CF_BOX_PK_BYTES],
    const uint8_t box_sk[static CF_BOX_SK_BYTES], struct cf_grant **gp)
{
	uint8_t *plain = NULL;
	size_t plen = 0;
	int r;

	*gp = NULL;
	if (a == NULL || a->sealed_len < crypto_box_SEALBYTES) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	plen = a->sealed_len - crypto_box_SEALBYTES;
	if ((plain = malloc(plen + 1)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (crypto_box_seal_open(plain, a->sealed, a->sealed_len, box_pk,
	    box_sk) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((r = cf_grant_decode(plain, plen, gp)) != 0)
		goto out;
out:
	cf_wipefree(plain, plen + 1);
	return r;
}

int
cf_approval_open(const struct cf_chain *c, const struct cf_device_keys *me,
    const uint8_t r[static CF_PAIR_R_BYTES], const uint8_t *buf, size_t len,
    struct cf_grant **gp)
{
	const struct cf_chain_device *approver, *self;
	struct cf_approval *a = NULL;
	struct cf_grant *g = NULL;
	int rc;

	*gp = NULL;
	if (c == NULL || me == NULL) {
		rc = COFFER_EINVAL;
		goto out;
	}
	if ((rc = cf_approval_decode(buf, len, &a)) != 0)
		goto out;
	/* For our account, addressed to us. */
	if (c->n == 0 ||
	    memcmp(a->account_id, c->account_id, CF_ID_BYTES) != 0 ||
	    memcmp(a->recipient_id, me->device_id, CF_ID_BYTES) != 0) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/* Signed by a device of the verified chain. */
	if ((approver = cf_chain_device(c, a->approver_id)) == NULL) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/* Decoded, so len holds at least the signature. */
	if ((rc = cf_verify_purpose(approver->sign_pk, CF_LABEL_APPROVE, buf,
	    len - CF_SIG_BYTES, a->sig)) != 0)
		goto out;
	/* The grant: sealed to us, carrying our r and our account. */
	if ((rc = cf_approval_open_grant(a, me->box_pk, me->box_sk, &g)) != 0)
		goto out;
	if (sodium_memcmp(g->r, r, CF_PAIR_R_BYTES) != 0 ||
	    memcmp(g->account_id, c->account_id, CF_ID_BYTES) != 0) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/*
	 * The entry it names: in the chain at chain_seq, an add-device
	 * entry adding us, appended by the approver, trusted there.
	 */
	if ((rc = cf_chain_check_named_head(c, g->chain_seq,
	    g->entry_hash)) != 0)
		goto out;
	if (c->entry_type[g->chain_seq] != CF_ENTRY_ADD ||
	    (self = cf_chain_device(c, me->device_id)) == NULL ||
	    self->added_seq != g->chain_seq ||
	    memcmp(c->entry_signer[g->chain_seq], a->approver_id,
	    CF_ID_BYTES) != 0 ||
	    !cf_chain_trusted_at(c, a->approver_id, g->chain_seq)) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	*gp = g;
	g = NULL;
	rc = 0;
out:
	cf_grant_free(g);
	cf_approval_free(a);
	return rc;
}

/* ---- Safety code ---- */

int
cf_safety_code(const uint8_t account_id[static CF_ID_BYTES],
    uint64_t chain_seq, const uint8_t chain_head[static CF_ID_BYTES],
    uint64_t dir_version, const uint8_t dir_hash[static CF_ID_BYTES],
    const struct cf_drive_head *drives, size_t n,
    char code[static CF_SAFETY_CODE_BYTES])
{
	crypto_generichash_state st;
	uint8_t h[PAIR_HASH_BYTES], b[8];
	char text[CF_BASE32_LEN(PAIR_HASH_BYTES) + 1];
	size_t i;
	int r;

	memset(code, 0, CF_SAFETY_CODE_BYTES);
	if (n > UINT32_MAX || !heads_ok(drives, n)) {
		r = COFFER_EINVAL;
		goto out;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_SAFETY,
	    CF_LABEL_LEN(CF_LABEL_SAFETY));
	crypto_generichash_update(&st, account_id, CF_ID_BYTES);
	cf_be64enc(b, chain_seq);
	crypto_generichash_update(&st, b, 8);
	crypto_generichash_update(&st, chain_head, CF_ID_BYTES);
	cf_be64enc(b, dir_version);
	crypto_generichash_update(&st, b, 8);
	crypto_generichash_update(&st, dir_hash, CF_ID_BYTES);
	cf_be32enc(b, (uint32_t)n);
	crypto_generichash_update(&st, b, 4);
	for (i = 0; i < n; i++) {
		crypto_generichash_update(&st, drives[i].drive_id, CF_ID_BYTES);
		cf_be64enc(b, drives[i].version);
		crypto_generichash_update(&st, b, 8);
		crypto_generichash_update(&st, drives[i].commit_id, CF_ID_BYTES);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	cf_base32_encode(h, sizeof(h), text);
	memcpy(code, text, CF_SAFETY_CODE_CHARS);
	code[CF_SAFETY_CODE_CHARS] = '\0';
	r = 0;
out:
	return r;
}

/* ---- Recovery ---- */

int
cf_recovery_check_chain(const struct cf_chain *c,
    const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    const uint8_t account_id[static CF_ID_BYTES])
{
	const struct cf_chain_rk *cur;
	struct cf_recovery_keys rk;
	size_t i;
	int r;

	memset(&rk, 0, sizeof(rk));
	if (c == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	if (c->n == 0 || memcmp(c->account_id, account_id, CF_ID_BYTES) != 0 ||
	    (cur = cf_chain_current_rk(c)) == NULL) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((r = cf_recovery_derive(secret, account_id, &rk)) != 0)
		goto out;
	if (sodium_memcmp(cur->sign_pk, rk.sign_pk, CF_SIGN_PK_BYTES) == 0 &&
	    sodium_memcmp(cur->box_pk, rk.box_pk, CF_BOX_PK_BYTES) == 0) {
		r = 0;
		goto out;
	}
	/* A key the chain replaced is the user's mistake, not the server's. */
	r = COFFER_ENOTAUTHENTIC;
	for (i = 0; i < c->nrks; i++)
		if (sodium_memcmp(c->rks[i].sign_pk, rk.sign_pk,
		    CF_SIGN_PK_BYTES) == 0 &&
		    sodium_memcmp(c->rks[i].box_pk, rk.box_pk,
		    CF_BOX_PK_BYTES) == 0)
			r = COFFER_EBADKEY;
out:
	sodium_memzero(&rk, sizeof(rk));
	return r;
}
