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
#include "chain/pair.h"
#include "crypto/keys.h"
#include "util/buf.h"

#define FILE_MAX	(1 << 20)

static int
usage(void)
{
	fprintf(stderr, "usage: forge_chain request ACCOUNT_HEX NAME OUT | "
	    "approval REQUEST_FILE OUT\n");
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

int
main(int argc, char **argv)
{
	if (coffer_init() != 0)
		return 1;
	if (argc == 5 && !strcmp(argv[1], "request"))
		return forge_request(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "approval"))
		return forge_approval(argv[2], argv[3]);
	return usage();
}
