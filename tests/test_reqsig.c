/* Request signing: sign/verify, every field bound, skew, canonical query. */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "net/reqsig.h"
#include "t.h"

static uint8_t pk[CF_SIGN_PK_BYTES], sk[CF_SIGN_SK_BYTES];
static uint8_t acct[CF_ID_BYTES], dev[CF_ID_BYTES], nonce[CF_REQ_NONCE_BYTES];
static const uint8_t body[] = "{\"x\": 1}";

static void
base(struct cf_req *r)
{
	memset(r, 0, sizeof(*r));
	r->origin = "http://127.0.0.1:8080";
	r->account_id = acct;
	r->device_id = dev;
	r->method = "POST";
	r->path = "/v1/accounts/x/chain";
	r->query = "";
	r->content_type = "application/json";
	r->key_hex = "";
	r->invite = "";
	r->time = 1700000000;
	r->nonce = nonce;
	r->body = body;
	r->body_len = sizeof(body) - 1;
}

static void
sign_verify(void)
{
	struct cf_req r;
	uint8_t sig[CF_SIG_BYTES];

	base(&r);
	CHECK_RC(cf_req_sign(&r, sk, sig), 0);
	CHECK_RC(cf_req_verify(&r, pk, sig), 0);
	sig[5] ^= 1;
	CHECK_RC(cf_req_verify(&r, pk, sig), COFFER_ENOTAUTHENTIC);
}

/* A body hash computed beforehand (the server, as the body streams in)
 * stands for the body; a wrong one fails. */
static void
body_hash_given(void)
{
	struct cf_req r;
	uint8_t sig[CF_SIG_BYTES], bh[crypto_generichash_BYTES];

	base(&r);
	CHECK_RC(cf_req_sign(&r, sk, sig), 0);
	crypto_generichash(bh, sizeof(bh), r.body, r.body_len, NULL, 0);
	r.body_hash = bh;
	CHECK_RC(cf_req_verify(&r, pk, sig), 0);
	bh[0] ^= 1;
	CHECK_RC(cf_req_verify(&r, pk, sig), COFFER_ENOTAUTHENTIC);
}

/* Changing any one covered field breaks the signature. */
static void
every_field_bound(void)
{
	struct cf_req r;
	uint8_t sig[CF_SIG_BYTES], other[CF_ID_BYTES], n2[CF_REQ_NONCE_BYTES];
	static const uint8_t body2[] = "{\"x\": 2}";
	int k;

	memset(other, 0x77, sizeof(other));
	memset(n2, 0x66, sizeof(n2));
	base(&r);
	CHECK_RC(cf_req_sign(&r, sk, sig), 0);
	for (k = 0; k < 13; k++) {
		base(&r);
		switch (k) {
		case 0: r.origin = "http://127.0.0.1:8081"; break;
		case 1: r.account_id = other; break;
		case 2: r.device_id = other; break;
		case 3: r.method = "PUT"; break;
		case 4: r.path = "/v1/accounts/y/chain"; break;
		case 5: r.query = "from=1"; break;
		case 6: r.content_type = "text/plain"; break;
		case 7: r.key_hex = "00"; break;
		case 8: r.invite = "tok"; break;
		case 9: r.time++; break;
		case 10: r.nonce = n2; break;
		case 11: r.body = body2; break;
		default: r.body_len--; break;
		}
		CHECK_RC(cf_req_verify(&r, pk, sig), COFFER_ENOTAUTHENTIC);
	}
	/* Field boundaries are length-prefixed: moving a byte across fails. */
	base(&r);
	r.path = "/v1/a";
	r.query = "b=c";
	CHECK_RC(cf_req_sign(&r, sk, sig), 0);
	r.path = "/v1/ab";
	r.query = "=c";
	CHECK_RC(cf_req_verify(&r, pk, sig), COFFER_ENOTAUTHENTIC);
}

static void
bad_fields(void)
{
	struct cf_req r;
	uint8_t sig[CF_SIG_BYTES];
	char big[CF_REQ_FIELD_MAX + 2];

	base(&r);
	r.path = NULL;
	CHECK_RC(cf_req_sign(&r, sk, sig), COFFER_EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	base(&r);
	r.query = big;
	CHECK_RC(cf_req_verify(&r, pk, sig), COFFER_EINVAL);
	base(&r);
	r.body = NULL;
	CHECK_RC(cf_req_sign(&r, sk, sig), COFFER_EINVAL);
	r.body_len = 0;
	CHECK_RC(cf_req_sign(&r, sk, sig), 0);
	CHECK_RC(cf_req_verify(&r, pk, sig), 0);
}

static void
skew(void)
{
	CHECK(cf_req_time_ok(1000, 1000));
	CHECK(cf_req_time_ok(1300, 1000));
	CHECK(cf_req_time_ok(700, 1000));
	CHECK(!cf_req_time_ok(1301, 1000));
	CHECK(!cf_req_time_ok(699, 1000));
	CHECK(!cf_req_time_ok(0, UINT64_MAX));
	CHECK(!cf_req_time_ok(UINT64_MAX, 0));
}

static void
query_canon(void)
{
	const char *k[3] = { "to", "from", "a_b" };
	const char *v[3] = { "9", "1", "" };
	const char *bad[1] = { "a b" };
	const char *dupk[2] = { "x", "x" };
	char out[64], tiny[8];

	CHECK_RC(cf_req_query_canon(k, v, 3, out, sizeof(out)), 0);
	CHECK(strcmp(out, "a_b=&from=1&to=9") == 0);
	CHECK_RC(cf_req_query_canon(k, v, 0, out, sizeof(out)), 0);
	CHECK(strcmp(out, "") == 0);
	CHECK_RC(cf_req_query_canon(bad, v, 1, out, sizeof(out)), COFFER_EINVAL);
	CHECK_RC(cf_req_query_canon(k, bad, 1, out, sizeof(out)), COFFER_EINVAL);
	CHECK_RC(cf_req_query_canon(dupk, v, 2, out, sizeof(out)), COFFER_EINVAL);
	CHECK_RC(cf_req_query_canon(k, v, 3, tiny, sizeof(tiny)), COFFER_ETOOBIG);
	CHECK(tiny[0] == '\0');
}

static void
origins(void)
{
	char o[128];

	CHECK_RC(cf_req_origin("http://127.0.0.1:8080", o, sizeof(o)), 0);
	CHECK(strcmp(o, "http://127.0.0.1:8080") == 0);
	CHECK_RC(cf_req_origin("HTTP://LocalHost:80/x/y", o, sizeof(o)), 0);
	CHECK(strcmp(o, "http://localhost:80") == 0);
	CHECK_RC(cf_req_origin("https://example.org", o, sizeof(o)), 0);
	CHECK(strcmp(o, "https://example.org:443") == 0);
	CHECK_RC(cf_req_origin("http://[::1]:9/", o, sizeof(o)), 0);
	CHECK(strcmp(o, "http://[::1]:9") == 0);
	CHECK_RC(cf_req_origin("ftp://x", o, sizeof(o)), COFFER_EINVAL);
	CHECK_RC(cf_req_origin("http://", o, sizeof(o)), COFFER_EINVAL);
	CHECK_RC(cf_req_origin("http://h:abc", o, sizeof(o)), COFFER_EINVAL);
	CHECK_RC(cf_req_origin("http://h:123456", o, sizeof(o)), COFFER_EINVAL);
	CHECK_RC(cf_req_origin("http://h?x", o, sizeof(o)), COFFER_EINVAL);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	randombytes_buf(acct, sizeof(acct));
	randombytes_buf(dev, sizeof(dev));
	randombytes_buf(nonce, sizeof(nonce));
	T_RUN(sign_verify);
	T_RUN(body_hash_given);
	T_RUN(every_field_bound);
	T_RUN(bad_fields);
	T_RUN(skew);
	T_RUN(query_canon);
	T_RUN(origins);
	T_DONE("reqsig");
}
