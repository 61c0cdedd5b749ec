/*
 * forge_chain: what a malicious server can make of the joining protocol
 * (issue #6), for tests/e2e/8*-devices-*.sh.  Linked to libcoffer, never
 * installed.  Files hold raw bytes (base64 conversion is the script's).
 *
 *   forge_chain request ACCOUNT_HEX ACCOUNT_NAME OUT
 *       a well-formed join request for the account, with keys of the
 *       server's own (a fresh key pair and a fresh r it keeps): the keys
 *       of a real request swapped.
 *   forge_chain approval REQUEST_FILE OUT
 *       an approval for the join request in REQUEST_FILE, made up by the
 *       server: sealed to the request's box key, signed by a key of its
 *       own, its grant carrying a random r and a made-up add entry.
 *
 * Exit 0 on success, 1 on an error, 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chain/chain.h"
#include "chain/chain_internal.h"
#include "chain/pair.h"
#include "crypto/recovery.h"
#include "crypto/keys.h"
#include "util/buf.h"

#define FILE_MAX	(1 << 20)

static int
usage(void)
{
	fprintf(stderr, "usage: forge_chain request ACCOUNT_HEX NAME OUT | "
	    "approval REQUEST_FILE OUT | genesis-around-rk REAL_GENESIS OUT\n");
	return 2;
}

static int
write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f;
	int ok;

	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static int
read_file(const char *path, uint8_t **pp, size_t *np)
{
	FILE *f;
	uint8_t *p;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if ((p = malloc(FILE_MAX)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(p, 1, FILE_MAX, f);
	fclose(f);
	*pp = p;
	*np = n;
	return 0;
}

static int
forge_request(const char *acct_hex, const char *name, const char *out)
{
	struct cf_device_keys *k = NULL;
	uint8_t acct[CF_ID_BYTES], r[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES];
	uint8_t *req = NULL;
	size_t len = 0, alen = 0;
	int rc = 1;

	if (sodium_hex2bin(acct, sizeof(acct), acct_hex, strlen(acct_hex),
	    NULL, &alen, NULL) != 0 || alen != CF_ID_BYTES)
		return usage();
	if (cf_keys_generate(&k) != 0)
		goto out;
	if (cf_join_request_make(k, acct, name, strlen(name), "server-device",
	    strlen("server-device"), r, t, &req, &len) != 0)
		goto out;
	if (write_file(out, req, len) != 0)
		goto out;
	rc = 0;
out:
	cf_keys_free(k);
	free(req);
	return rc;
}

static int
forge_approval(const char *in, const char *out)
{
	struct cf_device_keys *k = NULL;
	struct cf_join_request req;
	struct cf_grant g;
	uint8_t *buf = NULL, *grant = NULL, *ap = NULL;
	size_t len = 0, glen = 0, aplen = 0;
	int rc = 1;

	memset(&g, 0, sizeof(g));
	if (read_file(in, &buf, &len) != 0 ||
	    cf_join_request_decode(buf, len, &req) != 0)
		goto out;
	if (cf_keys_generate(&k) != 0)
		goto out;
	randombytes_buf(g.r, sizeof(g.r));
	memcpy(g.account_id, req.account_id, CF_ID_BYTES);
	randombytes_buf(g.entry_hash, sizeof(g.entry_hash));
	g.chain_seq = 1;
	if (cf_grant_encode(&g, &grant, &glen) != 0)
		goto out;
	if (cf_approval_make_raw(k, req.account_id, req.device_id, req.box_pk,
	    grant, glen, &ap, &aplen) != 0)
		goto out;
	if (write_file(out, ap, aplen) != 0)
		goto out;
	rc = 0;
out:
	cf_keys_free(k);
	free(buf);
	cf_wipefree(grant, glen);
	free(ap);
	return rc;
}

/*
 * cf_entry_genesis_rand() without its final check (which would refuse
 * the registration's signature): device ${dev} opens an account that
 * registers ${rk}, the registration signed with rk->sign_sk as it is.
 */
static int
genesis_raw(const struct cf_device_keys *dev, const struct cf_recovery_keys *rk,
    uint64_t time, uint8_t acct[static CF_ID_BYTES], uint8_t **ep, size_t *lp)
{
	struct cf_entry_hdr h;
	struct cf_wr w;
	uint8_t rand[CF_GENESIS_RAND_BYTES], k1[CF_KEY_BYTES], cmt[CF_ID_BYTES];
	uint8_t ids[2][CF_ID_BYTES], rk_id[CF_ID_BYTES], *box = NULL, *b = NULL;
	size_t boxlen = 0, blen = 0;
	int r = 1;

	cf_chain_genesis_begin(dev, rand, acct);
	memset(&h, 0, sizeof(h));
	memcpy(h.account_id, acct, CF_ID_BYTES);
	h.type = CF_ENTRY_GENESIS;
	memcpy(h.signer_id, dev->device_id, CF_ID_BYTES);
	h.time = time;
	randombytes_buf(k1, sizeof(k1));
	cf_epoch_cmt(k1, acct, 1, cmt);
	cf_device_id(rk->sign_pk, rk->box_pk, rk_id);
	if (memcmp(dev->device_id, rk_id, CF_ID_BYTES) < 0) {
		memcpy(ids[0], dev->device_id, CF_ID_BYTES);
		memcpy(ids[1], rk_id, CF_ID_BYTES);
	} else {
		memcpy(ids[0], rk_id, CF_ID_BYTES);
		memcpy(ids[1], dev->device_id, CF_ID_BYTES);
	}
	if (cf_name_box_seal(k1, acct, 1, "server-device",
	    strlen("server-device"), &box, &boxlen) != 0)
		goto out;
	cf_wr_init(&w, 1U << 16, 0);
	cf_wr_bytes(&w, dev->sign_pk, CF_SIGN_PK_BYTES);
	cf_wr_bytes(&w, dev->box_pk, CF_BOX_PK_BYTES);
	cf_wr_bytes(&w, rand, CF_GENESIS_RAND_BYTES);
	cf_wr_lstr(&w, box, boxlen);
	if (cf_rkreg_write(&w, acct, 0, rk) != 0) {
		cf_wr_free(&w);
		goto out;
	}
	cf_epoch_block_write(&w, 1, cmt, (const uint8_t (*)[CF_ID_BYTES])ids, 2);
	if (cf_wr_finish(&w, &b, &blen) != 0 ||
	    cf_entry_encode(&h, b, blen, dev->sign_sk, ep, lp) != 0)
		goto out;
	r = 0;
out:
	sodium_memzero(k1, sizeof(k1));
	free(box);
	free(b);
	return r;
}

static int
forge_genesis_around_rk(const char *in, const char *out)
{
	struct cf_device_keys *k = NULL, *mine = NULL;
	struct cf_chain *c = NULL;
	const struct cf_chain_rk *real;
	struct cf_recovery_keys *rk = NULL;
	uint8_t *buf = NULL, *e = NULL, acct[CF_ID_BYTES];
	char h[2 * CF_ID_BYTES + 1];
	const uint8_t *ents[1];
	size_t len = 0, elen = 0;
	int rc = 1;

	if (read_file(in, &buf, &len) != 0)
		goto out;
	ents[0] = buf;
	if (cf_chain_new(&c) != 0 || cf_chain_extend(c, ents, &len, 1, 0) != 0 ||
	    (real = cf_chain_current_rk(c)) == NULL) {
		fprintf(stderr, "forge_chain: the real genesis does not verify\n");
		goto out;
	}
	/*
	 * The recovery key as the server knows it: the real public keys; the
	 * secret halves are the server's own (an Ed25519 secret key of
	 * libsodium is seed || public key: the server's seed, the real
	 * public key), so the registration is signed, but not by the key.
	 */
	if (cf_keys_generate(&k) != 0 || cf_keys_generate(&mine) != 0 ||
	    (rk = sodium_malloc(sizeof(*rk))) == NULL)
		goto out;
	memcpy(rk->sign_pk, real->sign_pk, CF_SIGN_PK_BYTES);
	memcpy(rk->sign_sk, mine->sign_sk, CF_SIGN_SK_BYTES - CF_SIGN_PK_BYTES);
	memcpy(rk->sign_sk + CF_SIGN_SK_BYTES - CF_SIGN_PK_BYTES, real->sign_pk,
	    CF_SIGN_PK_BYTES);
	memcpy(rk->box_pk, real->box_pk, CF_BOX_PK_BYTES);
	memcpy(rk->box_sk, mine->box_sk, CF_BOX_SK_BYTES);
	if (genesis_raw(k, rk, c->entry_time[0], acct, &e, &elen) != 0)
		goto out;
	if (write_file(out, e, elen) != 0)
		goto out;
	sodium_bin2hex(h, sizeof(h), acct, CF_ID_BYTES);
	printf("account_id %s\n", h);
	sodium_bin2hex(h, sizeof(h), real->id, CF_ID_BYTES);
	printf("rk_id %s\n", h);
	rc = 0;
out:
	if (rk != NULL)
		sodium_free(rk);
	cf_keys_free(k);
	cf_keys_free(mine);
	cf_chain_free(c);
	free(buf);
	free(e);
	return rc;
}

int
main(int argc, char **argv)
{
	if (coffer_init() != 0)
		return 1;
	if (argc == 5 && !strcmp(argv[1], "request"))
		return forge_request(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "approval"))
		return forge_approval(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "genesis-around-rk"))
		return forge_genesis_around_rk(argv[2], argv[3]);
	return usage();
}
