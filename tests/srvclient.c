/*
 * srvclient: drives a real cofferd through the client library for the
 * end-to-end tests (tests/e2e/).  It forges well-formed records (chain
 * entries, envelopes, join requests, approvals, directory records,
 * reference deltas) per docs/FORMAT.md so that the server's checks pass,
 * and asserts every answer.  Exit 0 when every check passed.
 *
 *   srvclient URL endpoints            every endpoint, two and three devices
 *   srvclient URL lookup NAME          the account id of NAME
 *   srvclient URL bulk                 2000 objects: parallel put-many, get-many
 *   srvclient URL perf N SIZE          timings of have, put-many, get-many
 *   srvclient URL authz                account B vs A, removed, stale, replay
 *   srvclient URL invite TOKEN         invite-only server: a token works once
 *   srvclient URL limits               quota, join limit and expiry, caps
 *   srvclient URL garbage SEED N       N random requests, then a real client
 *   srvclient URL crash-write SEED ACKFILE   writes until the server dies
 *   srvclient URL crash-verify SEED ACKFILE  every acknowledged write intact
 *   srvclient URL put-batch SEED N     one put of N small objects
 *   srvclient URL concurrent           threads put overlapping sets at once
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chain/dir.h"
#include "crypto/keys.h"
#include "net/client.h"
#include "net/frame.h"
#include "net/reqsig.h"
#include "util/buf.h"

#define MAXE		64
#define EPOCHS_MAX	16
#define GARBAGE_BODY_MAX	4096

static int failures;
static const char *url;

#define EXPECT(cond) do {						\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__,	\
		    #cond);						\
	}								\
} while (0)

#define EXPECT_RC(expr, want) do {					\
	int rc_ = (expr);						\
	if (rc_ != (want)) {						\
		failures++;						\
		fprintf(stderr, "FAIL %s:%d: %s = %d, want %d\n",	\
		    __FILE__, __LINE__, #expr, rc_, (int)(want));	\
	}								\
} while (0)

/* A key pair made from a seed: a device or a recovery key. */
struct ident {
	uint8_t sign_pk[32], sign_sk[64], box_pk[32], box_sk[32], id[32];
};

static void
ident_make(struct ident *k, uint64_t seed, const char *what)
{
	uint8_t s[32];
	crypto_generichash_state st;
	uint8_t b[8];

	cf_be64enc(b, seed);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)what, strlen(what));
	crypto_generichash_update(&st, b, 8);
	crypto_generichash_final(&st, s, 32);
	crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, s);
	crypto_generichash(k->box_sk, 32, s, 32, (const uint8_t *)"box", 3);
	crypto_scalarmult_base(k->box_pk, k->box_sk);
	cf_device_id(k->sign_pk, k->box_pk, k->id);
}

/* The chain as the test knows it. */
struct acct {
	uint8_t id[32];
	uint64_t n;
	uint8_t head[32];
	uint64_t epoch;
	uint8_t K[EPOCHS_MAX][32];
	struct ident dev[8];
	int active[8];
	int ndev;
	struct ident rk;
	char name[64];
};

static void
sign_purpose(const struct ident *k, const char *purpose, const uint8_t *m,
    size_t n, uint8_t sig[64])
{
	uint8_t *b = malloc(strlen(purpose) + n + 1);

	if (b == NULL)
		abort();
	memcpy(b, purpose, strlen(purpose));
	memcpy(b + strlen(purpose), m, n);
	crypto_sign_detached(sig, NULL, b, strlen(purpose) + n, k->sign_sk);
	free(b);
}

static void
hkey(uint8_t out[32], const uint8_t *key, const char *s, const uint8_t *m,
    size_t n)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, key ? 32 : 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)s, strlen(s));
	if (n > 0)
		crypto_generichash_update(&st, m, n);
	crypto_generichash_final(&st, out, 32);
}

static void
name_box(struct cf_wr *w, const uint8_t K[32], const uint8_t acct[32],
    uint64_t epoch, const char *name)
{
	uint8_t k[32], ad[40], nonce[24], ct[128];
	unsigned long long cl;

	hkey(k, K, "coffer-name-v1", NULL, 0);
	memcpy(ad, acct, 32);
	cf_be64enc(ad + 32, epoch);
	randombytes_buf(nonce, sizeof(nonce));
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &cl,
	    (const uint8_t *)name, strlen(name), ad, sizeof(ad), NULL, nonce, k);
	cf_wr_u32(w, (uint32_t)(24 + cl));
	cf_wr_bytes(w, nonce, 24);
	cf_wr_bytes(w, ct, (size_t)cl);
}

static int
cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static void
epoch_block(struct cf_wr *w, struct acct *a, uint64_t e)
{
	uint8_t cmt[32], m[40], ids[10][32];
	int i, n = 0;

	memcpy(m, a->id, 32);
	cf_be64enc(m + 32, e);
	hkey(cmt, a->K[e - 1], "coffer-epoch-v1", m, sizeof(m));
	for (i = 0; i < a->ndev; i++)
		if (a->active[i])
			memcpy(ids[n++], a->dev[i].id, 32);
	memcpy(ids[n++], a->rk.id, 32);
	qsort(ids, (size_t)n, 32, cmp32);
	cf_wr_u64(w, e);
	cf_wr_bytes(w, cmt, 32);
	cf_wr_u32(w, (uint32_t)n);
	cf_wr_bytes(w, ids, (size_t)n * 32);
}

static void
rk_reg(struct cf_wr *w, struct acct *a, uint64_t seq)
{
	uint8_t m[32 + 8 + 64], sig[64];

	memcpy(m, a->id, 32);
	cf_be64enc(m + 32, seq);
	memcpy(m + 40, a->rk.sign_pk, 32);
	memcpy(m + 72, a->rk.box_pk, 32);
	sign_purpose(&a->rk, "coffer-rkreg-v1", m, sizeof(m), sig);
	cf_wr_bytes(w, a->rk.sign_pk, 32);
	cf_wr_bytes(w, a->rk.box_pk, 32);
	cf_wr_bytes(w, sig, 64);
}

static void
entry_hash(const uint8_t *e, size_t n, uint8_t h[32])
{
	hkey(h, NULL, "coffer-entry-hash-v1", e, n);
}

/* Wrap a body as an entry signed by ${signer}; appended to the state. */
static void
entry_make(struct acct *a, uint8_t type, const struct ident *signer,
    const uint8_t *body, size_t blen, uint8_t **ep, size_t *elen)
{
	struct cf_wr w;
	uint8_t sig[64], *e;
	size_t n;

	cf_wr_init(&w, 1 << 20, 0);
	cf_wr_bytes(&w, "CFCE", 4);
	cf_wr_u8(&w, 1);
	cf_wr_bytes(&w, a->id, 32);
	cf_wr_u64(&w, a->n);
	cf_wr_bytes(&w, a->head, 32);
	cf_wr_u8(&w, type);
	cf_wr_bytes(&w, signer->id, 32);
	cf_wr_u64(&w, (uint64_t)time(NULL));
	cf_wr_lstr(&w, body, blen);
	sign_purpose(signer, "coffer-entry-v1", w.p, w.len, sig);
	cf_wr_bytes(&w, sig, 64);
	if (cf_wr_finish(&w, &e, &n) != 0)
		abort();
	*ep = e;
	*elen = n;
}

/* Call after the server accepted the entry. */
static void
entry_applied(struct acct *a, const uint8_t *e, size_t n)
{
	entry_hash(e, n, a->head);
	a->n++;
}

static void
genesis(struct acct *a, uint64_t seed, const char *name, uint8_t **ep,
    size_t *elen)
{
	struct cf_wr w;
	uint8_t rnd[32], *body;
	size_t blen;
	crypto_generichash_state st;

	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	ident_make(&a->dev[0], seed, "device0");
	ident_make(&a->rk, seed, "recovery");
	a->active[0] = 1;
	a->ndev = 1;
	a->epoch = 1;
	randombytes_buf(a->K[0], 32);
	randombytes_buf(rnd, 32);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"coffer-account-v1", 17);
	crypto_generichash_update(&st, a->dev[0].sign_pk, 32);
	crypto_generichash_update(&st, a->dev[0].box_pk, 32);
	crypto_generichash_update(&st, rnd, 32);
	crypto_generichash_final(&st, a->id, 32);
	cf_wr_init(&w, 1 << 20, 0);
	cf_wr_bytes(&w, a->dev[0].sign_pk, 32);
	cf_wr_bytes(&w, a->dev[0].box_pk, 32);
	cf_wr_bytes(&w, rnd, 32);
	name_box(&w, a->K[0], a->id, 1, "first device");
	rk_reg(&w, a, 0);
	epoch_block(&w, a, 1);
	if (cf_wr_finish(&w, &body, &blen) != 0)
		abort();
	entry_make(a, 1, &a->dev[0], body, blen, ep, elen);
	free(body);
}

static void
pop(const uint8_t acct[32], const struct ident *k, uint8_t sig[64])
{
	uint8_t m[96];

	memcpy(m, acct, 32);
	memcpy(m + 32, k->sign_pk, 32);
	memcpy(m + 64, k->box_pk, 32);
	sign_purpose(k, "coffer-pop-v1", m, sizeof(m), sig);
}

static void
add_entry(struct acct *a, const struct ident *signer, const struct ident *nd,
    uint8_t **ep, size_t *elen)
{
	struct cf_wr w;
	uint8_t p[64], *body;
	size_t blen;

	cf_wr_init(&w, 1 << 20, 0);
	cf_wr_bytes(&w, nd->sign_pk, 32);
	cf_wr_bytes(&w, nd->box_pk, 32);
	cf_wr_u64(&w, a->epoch);
	name_box(&w, a->K[a->epoch - 1], a->id, a->epoch, "another device");
	pop(a->id, nd, p);
	cf_wr_bytes(&w, p, 64);
	if (cf_wr_finish(&w, &body, &blen) != 0)
		abort();
	entry_make(a, 2, signer, body, blen, ep, elen);
	free(body);
}

static void
remove_entry(struct acct *a, const struct ident *signer, int victim,
    uint8_t **ep, size_t *elen)
{
	struct cf_wr w;
	uint8_t *body;
	size_t blen;

	a->active[victim] = 0;
	a->epoch++;
	randombytes_buf(a->K[a->epoch - 1], 32);
	cf_wr_init(&w, 1 << 20, 0);
	cf_wr_bytes(&w, a->dev[victim].id, 32);
	cf_wr_u32(&w, 0);
	epoch_block(&w, a, a->epoch);
	if (cf_wr_finish(&w, &body, &blen) != 0)
		abort();
	entry_make(a, 3, signer, body, blen, ep, elen);
	free(body);
}

static void
envelope(struct acct *a, const uint8_t entry_h[32], const struct ident *signer,
    const struct ident *to, uint8_t **ep, size_t *elen)
{
	struct cf_wr w, kw;
	uint8_t *keys, *sealed, sig[64], *m;
	size_t kl, i, off;
	uint64_t e;

	cf_wr_init(&kw, 4096, 1);
	cf_wr_bytes(&kw, "CFEK", 4);
	cf_wr_u8(&kw, 1);
	cf_wr_bytes(&kw, a->id, 32);
	cf_wr_u64(&kw, a->epoch);
	cf_wr_u32(&kw, (uint32_t)a->epoch);
	for (e = 1; e <= a->epoch; e++) {
		cf_wr_u64(&kw, e);
		cf_wr_bytes(&kw, a->K[e - 1], 32);
	}
	if (cf_wr_finish(&kw, &keys, &kl) != 0)
		abort();
	if ((sealed = malloc(kl + crypto_box_SEALBYTES)) == NULL ||
	    (m = malloc(32 * 3 + 8 + kl + crypto_box_SEALBYTES)) == NULL)
		abort();
	crypto_box_seal(sealed, keys, kl, to->box_pk);
	off = 0;
	memcpy(m, a->id, 32);
	memcpy(m + 32, entry_h, 32);
	cf_be64enc(m + 64, a->epoch);
	memcpy(m + 72, to->id, 32);
	off = 104;
	for (i = 0; i < kl + crypto_box_SEALBYTES; i++)
		m[off + i] = sealed[i];
	sign_purpose(signer, "coffer-env-v1", m, off + kl + crypto_box_SEALBYTES,
	    sig);
	cf_wr_init(&w, 1 << 20, 0);
	cf_wr_bytes(&w, "CFEV", 4);
	cf_wr_u8(&w, 1);
	cf_wr_bytes(&w, m, 104 - 32);
	cf_wr_bytes(&w, to->id, 32);
	cf_wr_lstr(&w, sealed, kl + crypto_box_SEALBYTES);
	cf_wr_bytes(&w, signer->id, 32);
	cf_wr_bytes(&w, sig, 64);
	if (cf_wr_finish(&w, ep, elen) != 0)
		abort();
	cf_wipefree(keys, kl);
	free(sealed);
	free(m);
}

static void
join_request(const uint8_t acct[32], const char *name, const struct ident *nd,
    uint8_t **rp, size_t *rlen)
{
	struct cf_wr w;
	uint8_t enc[24 + 16 + 10], nonce[16], p[64];

	randombytes_buf(enc, sizeof(enc));
	randombytes_buf(nonce, sizeof(nonce));
	pop(acct, nd, p);
	cf_wr_init(&w, 1 << 16, 0);
	cf_wr_bytes(&w, "CFJR", 4);
	cf_wr_u8(&w, 1);
	cf_wr_bytes(&w, acct, 32);
	cf_wr_lstr(&w, name, strlen(name));
	cf_wr_lstr(&w, enc, sizeof(enc));
	cf_wr_bytes(&w, nd->sign_pk, 32);
	cf_wr_bytes(&w, nd->box_pk, 32);
	cf_wr_bytes(&w, nonce, 16);
	cf_wr_bytes(&w, p, 64);
	if (cf_wr_finish(&w, rp, rlen) != 0)
		abort();
}

static void
approval(const uint8_t acct[32], const struct ident *approver,
    const struct ident *nd, uint8_t **ap, size_t *alen)
{
	struct cf_wr w;
	uint8_t grant[100], sealed[100 + crypto_box_SEALBYTES], sig[64];

	randombytes_buf(grant, sizeof(grant));
	crypto_box_seal(sealed, grant, sizeof(grant), nd->box_pk);
	cf_wr_init(&w, 1 << 16, 0);
	cf_wr_bytes(&w, "CFAP", 4);
	cf_wr_u8(&w, 1);
	cf_wr_bytes(&w, acct, 32);
	cf_wr_bytes(&w, nd->id, 32);
	cf_wr_lstr(&w, sealed, sizeof(sealed));
	cf_wr_bytes(&w, approver->id, 32);
	sign_purpose(approver, "coffer-approve-v1", w.p, w.len, sig);
	cf_wr_bytes(&w, sig, 64);
	if (cf_wr_finish(&w, ap, alen) != 0)
		abort();
}

static void
dir_record(struct acct *a, const struct ident *author, uint64_t version,
    const uint8_t prev[32], const uint8_t (*drives)[32], size_t n,
    uint8_t **rp, size_t *rlen)
{
	struct cf_wr w;
	uint8_t rnd[48], sig[64];
	size_t i;

	cf_wr_init(&w, 1 << 20, 0);
	cf_wr_bytes(&w, "CFDR", 4);
	cf_wr_u8(&w, 1);
	cf_wr_bytes(&w, a->id, 32);
	cf_wr_u64(&w, version);
	cf_wr_bytes(&w, prev, 32);
	cf_wr_bytes(&w, author->id, 32);
	cf_wr_u64(&w, (uint64_t)time(NULL));
	cf_wr_u64(&w, a->n - 1);
	cf_wr_bytes(&w, a->head, 32);
	cf_wr_u32(&w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		/* FORMAT §16's shapes; the server checks no more than these. */
		randombytes_buf(rnd, sizeof(rnd));
		cf_wr_bytes(&w, drives[i], 32);
		cf_wr_u64(&w, a->epoch);
		randombytes_buf(cf_wr_reserve(&w, 24 + 256 + 16), 24 + 256 + 16);
		cf_wr_u32(&w, 1);
		cf_wr_bytes(&w, rnd, 32);
		cf_wr_u64(&w, a->epoch);
		randombytes_buf(cf_wr_reserve(&w, 77), 77);
		cf_wr_u32(&w, 1);
		cf_wr_u64(&w, a->epoch);
		cf_wr_bytes(&w, rnd + 16, 32);
		randombytes_buf(cf_wr_reserve(&w, 77), 77);
	}
	sign_purpose(author, "coffer-dir-v1", w.p, w.len, sig);
	cf_wr_bytes(&w, sig, 64);
	if (cf_wr_finish(&w, rp, rlen) != 0)
		abort();
}

/* A delta from sorted-on-the-fly lists. */
static void
delta_make(uint8_t (*start)[32], size_t ns, uint8_t (*stop)[32], size_t nt,
    uint8_t **dp, size_t *dlen)
{
	struct cf_wr w;

	qsort(start, ns, 32, cmp32);
	qsort(stop, nt, 32, cmp32);
	cf_wr_init(&w, 64 << 20, 0);
	cf_wr_bytes(&w, "CFRD", 4);
	cf_wr_u8(&w, 1);
	cf_wr_u32(&w, (uint32_t)ns);
	cf_wr_bytes(&w, start, ns * 32);
	cf_wr_u32(&w, (uint32_t)nt);
	cf_wr_bytes(&w, stop, nt * 32);
	if (cf_wr_finish(&w, dp, dlen) != 0)
		abort();
}

static struct cf_client *
client_as(const struct acct *a, const struct ident *k)
{
	struct cf_client *c = NULL;

	if (cf_client_new(url, &c) != 0)
		abort();
	if (k != NULL && cf_client_set_signer(c, a->id, k->sign_pk, k->sign_sk,
	    k->box_pk) != 0)
		abort();
	return c;
}

/* Create an account named ${name} from ${seed}; returns its first device's client. */
static struct cf_client *
make_account(struct acct *a, uint64_t seed, const char *name,
    const char *invite, int want)
{
	struct cf_client *c;
	struct cf_blobs envs;
	uint8_t *g, *env[2], h[32];
	size_t gl, el[2];

	genesis(a, seed, name, &g, &gl);
	entry_hash(g, gl, h);
	envelope(a, h, &a->dev[0], &a->dev[0], &env[0], &el[0]);
	envelope(a, h, &a->dev[0], &a->rk, &env[1], &el[1]);
	envs.n = 2;
	envs.p = env;
	envs.len = el;
	c = client_as(a, &a->dev[0]);
	EXPECT_RC(cf_client_account_create(c, name, g, gl, &envs, invite), want);
	if (want == 0)
		entry_applied(a, g, gl);
	free(g);
	free(env[0]);
	free(env[1]);
	return c;
}

static void
obj_data(uint64_t seed, uint64_t i, uint8_t id[32], uint8_t *data, size_t n)
{
	uint8_t k[32] = { 0 }, nonce[8];

	cf_be64enc(k, seed);
	cf_be64enc(nonce, i);
	crypto_stream_chacha20(data, n, nonce, k);
	crypto_generichash(id, 32, data, n, NULL, 0);
}

/* ---- endpoints ---- */

static int
cmd_endpoints(void)
{
	struct acct a;
	struct cf_client *c1, *c2, *crk, *c3;
	struct cf_blobs envs, got;
	struct cf_join_pending *jl = NULL;
	size_t njl = 0, el, rl, al, dl, fl, nit, i;
	uint8_t *e, *env, *req, *ap, *rec, *delta, *frame, have[4];
	uint8_t id[32], h[32], zero[32] = { 0 }, drive[1][32], commit[32];
	uint8_t ids[4][32], data[4][300], start[4][32], stop[1][32];
	uint64_t len, expires, v, stored, used, limit, nobj;
	struct cf_frame_item items[4], *it;
	int trunc;

	c1 = make_account(&a, 1001, "alice", NULL, 0);
	/* The name is now taken. */
	{
		struct acct b;
		struct cf_client *cb = make_account(&b, 1002, "alice", NULL,
		    COFFER_ECONFLICT);

		cf_client_free(cb);
	}
	EXPECT_RC(cf_client_name_lookup(c1, "alice", id), 0);
	EXPECT(memcmp(id, a.id, 32) == 0);
	EXPECT_RC(cf_client_name_lookup(c1, "nobody", id), COFFER_ENOENT);
	EXPECT_RC(cf_client_chain_get(c1, 0, &got, &len), 0);
	EXPECT(got.n == 1 && len == 1);
	cf_blobs_free(&got);

	/* Join: the new device posts a self-signed request. */
	ident_make(&a.dev[1], 1001, "device1");
	c2 = client_as(&a, &a.dev[1]);
	join_request(a.id, "alice", &a.dev[1], &req, &rl);
	EXPECT_RC(cf_client_join_post(c2, req, rl, &expires), 0);
	EXPECT(expires > (uint64_t)time(NULL));
	/* Not a device yet: it cannot read the chain. */
	EXPECT_RC(cf_client_chain_get(c2, 0, &got, &len), COFFER_EDENIED);
	EXPECT_RC(cf_client_joins_list(c1, &jl, &njl), 0);
	EXPECT(njl == 1 && memcmp(jl[0].device_id, a.dev[1].id, 32) == 0 &&
	    jl[0].len == rl && memcmp(jl[0].request, req, rl) == 0);
	cf_client_joins_free(jl, njl);
	/* Pending: no approval yet. */
	EXPECT_RC(cf_client_approval_get(c2, a.dev[1].id, 1, &ap, &al), 0);
	EXPECT(ap == NULL);
	/* An approval before the add-device entry is refused. */
	approval(a.id, &a.dev[0], &a.dev[1], &ap, &al);
	EXPECT_RC(cf_client_approval_put(c1, a.dev[1].id, ap, al),
	    COFFER_EDENIED);
	free(ap);
	/* The approver appends the add-device entry with its envelope. */
	add_entry(&a, &a.dev[0], &a.dev[1], &e, &el);
	entry_hash(e, el, h);
	a.active[1] = 1;
	a.ndev = 2;
	envelope(&a, h, &a.dev[0], &a.dev[1], &env, &rl);
	envs.n = 1;
	envs.p = &env;
	envs.len = &rl;
	EXPECT_RC(cf_client_chain_append(c1, a.n + 1, e, el, &envs, 0, &len),
	    COFFER_ECONFLICT);
	EXPECT(len == a.n);
	EXPECT_RC(cf_client_chain_append(c1, a.n, e, el, &envs, 0, &len), 0);
	EXPECT(len == a.n + 1);
	/* The same entry again: the chain moved. */
	EXPECT_RC(cf_client_chain_append(c1, a.n, e, el, NULL, 0, &len),
	    COFFER_ECONFLICT);
	entry_applied(&a, e, el);
	free(e);
	free(env);
	free(req);
	approval(a.id, &a.dev[0], &a.dev[1], &ap, &al);
	EXPECT_RC(cf_client_approval_put(c1, a.dev[1].id, ap, al), 0);
	{
		uint8_t *ap2 = NULL;
		size_t al2 = 0;

		EXPECT_RC(cf_client_approval_get(c2, a.dev[1].id, 1, &ap2,
		    &al2), 0);
		EXPECT(ap2 != NULL && al2 == al && memcmp(ap2, ap, al) == 0);
		free(ap2);
	}
	free(ap);
	/*
	 * A join that gave up withdraws its request: DELETE, self-signed,
	 * with Ed25519("coffer-withdraw-v1" || account_id || device_id)
	 * (FORMAT §17).  Then no device can add its key, and the server
	 * says why; a device added already cannot be withdrawn (409).
	 */
	{
		static const char wp[] = "coffer-withdraw-v1";
		uint8_t wm[sizeof(wp) - 1 + 64], wsig[64], *we = NULL;
		struct ident w;
		struct cf_client *cw;
		size_t wl = 0;
		long st = 0;

		ident_make(&w, 1001, "withdrawn");
		cw = client_as(&a, &w);
		join_request(a.id, "alice", &w, &req, &rl);
		EXPECT_RC(cf_client_join_post(cw, req, rl, &expires), 0);
		free(req);
		memcpy(wm, wp, sizeof(wp) - 1);
		memcpy(wm + sizeof(wp) - 1, a.id, 32);
		memcpy(wm + sizeof(wp) - 1 + 32, w.id, 32);
		/* Another purpose's signature (the pop's message) is no withdrawal. */
		memcpy(wm, "coffer-pop-v1-xxxx", sizeof(wp) - 1);
		crypto_sign_detached(wsig, NULL, wm, sizeof(wm), w.sign_sk);
		EXPECT_RC(cf_client_join_withdraw(cw, w.id, wsig, 64),
		    COFFER_EDENIED);
		memcpy(wm, wp, sizeof(wp) - 1);
		crypto_sign_detached(wsig, NULL, wm, sizeof(wm), w.sign_sk);
		/* Only the request's own key withdraws it. */
		EXPECT_RC(cf_client_join_withdraw(c1, w.id, wsig, 64),
		    COFFER_EDENIED);
		EXPECT_RC(cf_client_joins_list(c1, &jl, &njl), 0);
		EXPECT(njl == 1);
		cf_client_joins_free(jl, njl);
		EXPECT_RC(cf_client_join_withdraw(cw, w.id, wsig, 64), 0);
		EXPECT_RC(cf_client_joins_list(c1, &jl, &njl), 0);
		EXPECT(njl == 0);
		cf_client_joins_free(jl, njl);
		EXPECT_RC(cf_client_join_withdraw(cw, w.id, wsig, 64),
		    COFFER_ENOENT);
		EXPECT_RC(cf_client_approval_get(cw, w.id, 1, &ap, &al),
		    COFFER_ENOENT);
		add_entry(&a, &a.dev[0], &w, &we, &wl);
		EXPECT_RC(cf_client_chain_append(c1, a.n, we, wl, NULL, 0,
		    &len), COFFER_ENOENT);
		EXPECT(strstr(cf_client_error(c1, &st),
		    "no pending join request") != NULL && st == 404);
		free(we);
		EXPECT_RC(cf_client_chain_get(c1, 0, &got, &len), 0);
		EXPECT(len == a.n);
		cf_blobs_free(&got);
		/* Device 1 is in the chain: its request cannot be withdrawn. */
		memcpy(wm + sizeof(wp) - 1 + 32, a.dev[1].id, 32);
		crypto_sign_detached(wsig, NULL, wm, sizeof(wm), a.dev[1].sign_sk);
		EXPECT_RC(cf_client_join_withdraw(c2, a.dev[1].id, wsig, 64),
		    COFFER_ECONFLICT);
		cf_client_free(cw);
	}
	/* Now a device: chain and envelopes. */
	EXPECT_RC(cf_client_chain_get(c2, 1, &got, &len), 0);
	EXPECT(got.n == 1 && len == 2);
	cf_blobs_free(&got);
	EXPECT_RC(cf_client_envelopes_get(c2, a.dev[1].id, &got), 0);
	EXPECT(got.n == 1);
	cf_blobs_free(&got);
	envelope(&a, a.head, &a.dev[1], &a.dev[0], &env, &rl);
	envs.n = 1;
	envs.p = &env;
	envs.len = &rl;
	EXPECT_RC(cf_client_envelopes_put(c2, &envs), 0);
	free(env);
	EXPECT_RC(cf_client_envelopes_get(c1, a.dev[0].id, &got), 0);
	EXPECT(got.n == 2);
	cf_blobs_free(&got);

	/* Drive directory with compare-and-swap. */
	randombytes_buf(drive[0], 32);
	EXPECT_RC(cf_client_dir_get(c1, &v, &rec, &dl), 0);
	EXPECT(v == 0 && rec == NULL);
	dir_record(&a, &a.dev[0], 1, zero, drive, 1, &rec, &dl);
	EXPECT_RC(cf_client_dir_put(c1, 0, rec, dl, &v), 0);
	EXPECT(v == 1);
	EXPECT_RC(cf_client_dir_put(c1, 0, rec, dl, &v), COFFER_ECONFLICT);
	EXPECT(v == 1);
	free(rec);
	/* Signed by another device than the one that sends it: refused. */
	dir_record(&a, &a.dev[1], 2, zero, drive, 1, &rec, &dl);
	EXPECT_RC(cf_client_dir_put(c1, 1, rec, dl, &v), COFFER_EDENIED);
	free(rec);
	EXPECT_RC(cf_client_dir_get(c2, &v, &rec, &dl), 0);
	EXPECT(v == 1 && rec != NULL);
	/* Every record is kept and served after a version, in order. */
	{
		static const char *const badq[] = { "after=abc", "after=-1",
		    "after=", "after=01", "after=18446744073709551616",
		    "after=999999999999999999999999", "after=1.5", "x=1", "",
		    "after=1&after=2", "after=%00" };
		uint8_t *r1 = rec, *r2 = NULL, *resp = NULL, prev1[32];
		size_t l1 = dl, l2 = 0, rsl = 0, k;
		char rpath[256], hexa[65];
		long st = 0;

		rec = NULL;
		cf_dir_hash(r1, l1, prev1);
		dir_record(&a, &a.dev[0], 2, prev1, drive, 1, &r2, &l2);
		EXPECT_RC(cf_client_dir_put(c1, 1, r2, l2, &v), 0);
		EXPECT(v == 2);
		EXPECT_RC(cf_client_dir_records(c2, 0, &got, &v), 0);
		EXPECT(v == 2 && got.n == 2 && got.len[0] == l1 &&
		    memcmp(got.p[0], r1, l1) == 0 && got.len[1] == l2 &&
		    memcmp(got.p[1], r2, l2) == 0);
		cf_blobs_free(&got);
		EXPECT_RC(cf_client_dir_records(c2, 1, &got, &v), 0);
		EXPECT(v == 2 && got.n == 1 && got.len[0] == l2 &&
		    memcmp(got.p[0], r2, l2) == 0);
		cf_blobs_free(&got);
		EXPECT_RC(cf_client_dir_records(c2, 2, &got, &v), 0);
		EXPECT(v == 2 && got.n == 0);
		EXPECT_RC(cf_client_dir_records(c2, UINT64_MAX, &got, &v), 0);
		EXPECT(v == 2 && got.n == 0);
		/* The head is the newest record kept. */
		EXPECT_RC(cf_client_dir_get(c2, &v, &rec, &dl), 0);
		EXPECT(v == 2 && dl == l2 && memcmp(rec, r2, l2) == 0);
		free(rec);
		rec = NULL;
		/* Bad values of after: 400 (or 401 if not canonical), never 5xx. */
		sodium_bin2hex(hexa, sizeof(hexa), a.id, 32);
		snprintf(rpath, sizeof(rpath),
		    "/v1/accounts/%s/directory/records", hexa);
		for (k = 0; k < sizeof(badq) / sizeof(badq[0]); k++) {
			st = 0;
			(void)cf_client_raw(c2, "GET", rpath, badq[k], "", NULL, 0,
			    0, NULL, &st, &resp, &rsl);
			EXPECT(st == 400 || st == 401);
			free(resp);
			resp = NULL;
		}
		(void)cf_client_raw(c2, "PUT", rpath, "after=0", "", NULL, 0, 0,
		    NULL, &st, &resp, &rsl);
		EXPECT(st == 405);
		free(resp);
		free(r1);
		free(r2);
	}

	/* Objects: have, put, get. */
	for (i = 0; i < 4; i++) {
		obj_data(7, i, ids[i], data[i], sizeof(data[i]));
		items[i].id = ids[i];
		items[i].data = data[i];
		items[i].len = sizeof(data[i]);
	}
	EXPECT_RC(cf_client_objects_have(c1, drive[0],
	    (const uint8_t (*)[32])ids, 4, have), 0);
	EXPECT(have[0] == 0 && have[3] == 0);
	EXPECT_RC(cf_client_objects_put(c1, drive[0], items, 3, &stored), 0);
	EXPECT(stored == 3);
	EXPECT_RC(cf_client_objects_put(c1, drive[0], items, 4, &stored), 0);
	EXPECT(stored == 1);
	EXPECT_RC(cf_client_objects_have(c2, drive[0],
	    (const uint8_t (*)[32])ids, 4, have), 0);
	EXPECT(have[0] && have[1] && have[2] && have[3]);
	EXPECT_RC(cf_client_objects_get(c2, drive[0],
	    (const uint8_t (*)[32])ids, 4, &frame, &fl, &it, &nit, &trunc), 0);
	EXPECT(nit == 4 && !trunc);
	for (i = 0; i < nit && i < 4; i++)
		EXPECT(it[i].len == sizeof(data[i]) &&
		    memcmp(it[i].data, data[i], sizeof(data[i])) == 0);
	free(frame);
	free(it);
	EXPECT_RC(cf_client_quota(c1, &used, &limit, &nobj), 0);
	EXPECT(used == 4 * sizeof(data[0]) && nobj == 4 && limit > used);

	/* Heads: the commit and every start id must be stored. */
	EXPECT_RC(cf_client_head_get(c1, drive[0], &v, commit), 0);
	EXPECT(v == 0);
	memcpy(commit, ids[0], 32);
	memcpy(start[0], ids[1], 32);
	memcpy(start[1], ids[2], 32);
	randombytes_buf(start[2], 32);		/* not stored */
	delta_make(start, 3, stop, 0, &delta, &dl);
	EXPECT_RC(cf_client_head_put(c1, drive[0], 0, commit, delta, dl, &v),
	    COFFER_ENOENT);
	free(delta);
	memcpy(start[0], ids[1], 32);
	memcpy(start[1], ids[2], 32);
	delta_make(start, 2, stop, 0, &delta, &dl);
	EXPECT_RC(cf_client_head_put(c1, drive[0], 0, commit, delta, dl, &v), 0);
	EXPECT(v == 1);
	EXPECT_RC(cf_client_head_put(c1, drive[0], 0, commit, delta, dl, &v),
	    COFFER_ECONFLICT);
	EXPECT(v == 1);
	free(delta);
	/* Version 2: start ids[3], stop ids[1]; a stop that is not live fails. */
	memcpy(start[0], ids[3], 32);
	randombytes_buf(stop[0], 32);
	delta_make(start, 1, stop, 1, &delta, &dl);
	EXPECT_RC(cf_client_head_put(c1, drive[0], 1, ids[3], delta, dl, &v),
	    COFFER_ENOENT);
	free(delta);
	memcpy(start[0], ids[3], 32);
	memcpy(stop[0], ids[1], 32);
	delta_make(start, 1, stop, 1, &delta, &dl);
	EXPECT_RC(cf_client_head_put(c2, drive[0], 1, ids[3], delta, dl, &v), 0);
	EXPECT(v == 2);
	free(delta);
	EXPECT_RC(cf_client_head_get(c1, drive[0], &v, commit), 0);
	EXPECT(v == 2 && memcmp(commit, ids[3], 32) == 0);

	/* Recover: the recovery key reads the chain and adds a device. */
	crk = client_as(&a, &a.rk);
	EXPECT_RC(cf_client_chain_get(crk, 0, &got, &len), 0);
	EXPECT(len == a.n);
	cf_blobs_free(&got);
	EXPECT_RC(cf_client_envelopes_get(crk, a.rk.id, &got), 0);
	EXPECT(got.n == 1);
	cf_blobs_free(&got);
	/* ... and nothing else. */
	EXPECT_RC(cf_client_objects_put(crk, drive[0], items, 1, &stored),
	    COFFER_EDENIED);
	EXPECT_RC(cf_client_head_get(crk, drive[0], &v, commit), COFFER_EDENIED);
	EXPECT_RC(cf_client_quota(crk, &used, &limit, &nobj), COFFER_EDENIED);
	ident_make(&a.dev[2], 1001, "device2");
	c3 = client_as(&a, &a.dev[2]);
	add_entry(&a, &a.rk, &a.dev[2], &e, &el);
	entry_hash(e, el, h);
	/* Its envelope, signed by the recovery key, goes with the entry. */
	envelope(&a, h, &a.rk, &a.dev[2], &env, &rl);
	envs.n = 1;
	envs.p = &env;
	envs.len = &rl;
	EXPECT_RC(cf_client_chain_append(c3, a.n, e, el, &envs, 1, &len), 0);
	free(env);
	EXPECT_RC(cf_client_envelopes_get(c3, a.dev[2].id, &got), 0);
	EXPECT(got.n == 1);
	cf_blobs_free(&got);
	entry_applied(&a, e, el);
	a.active[2] = 1;
	a.ndev = 3;
	free(e);
	EXPECT_RC(cf_client_quota(c3, &used, &limit, &nobj), 0);

	/* Remove device 1: it reaches nothing afterwards. */
	remove_entry(&a, &a.dev[2], 1, &e, &el);
	EXPECT_RC(cf_client_chain_append(c3, a.n, e, el, NULL, 0, &len), 0);
	entry_applied(&a, e, el);
	free(e);
	EXPECT_RC(cf_client_chain_get(c2, 0, &got, &len), COFFER_EDENIED);
	EXPECT_RC(cf_client_head_get(c2, drive[0], &v, commit), COFFER_EDENIED);
	EXPECT_RC(cf_client_objects_get(c2, drive[0],
	    (const uint8_t (*)[32])ids, 4, &frame, &fl, &it, &nit, &trunc),
	    COFFER_EDENIED);
	/* A rotate entry that skips an epoch parses, but the full chain
	 * verifier (lib/chain) refuses it. */
	{
		struct cf_wr w;
		uint8_t *body;
		size_t blen;

		randombytes_buf(a.K[a.epoch + 1], 32);
		cf_wr_init(&w, 1 << 20, 0);
		epoch_block(&w, &a, a.epoch + 2);
		if (cf_wr_finish(&w, &body, &blen) != 0)
			abort();
		entry_make(&a, 4, &a.dev[0], body, blen, &e, &el);
		free(body);
		EXPECT_RC(cf_client_chain_append(c1, a.n, e, el, NULL, 0, &len),
		    COFFER_EDENIED);
		free(e);
	}
	/* And it cannot be added again. */
	add_entry(&a, &a.dev[0], &a.dev[1], &e, &el);
	EXPECT_RC(cf_client_chain_append(c1, a.n, e, el, NULL, 0, &len),
	    COFFER_EDENIED);
	free(e);
	EXPECT_RC(cf_client_chain_get(c1, 0, &got, &len), 0);
	EXPECT(got.n == 4 && len == 4);
	cf_blobs_free(&got);

	cf_client_free(c1);
	cf_client_free(c2);
	cf_client_free(c3);
	cf_client_free(crk);
	return failures;
}

/* ---- authorisation ---- */

static int
cmd_authz(void)
{
	struct acct a, b;
	struct cf_client *ca, *cb, *cx;
	struct cf_blobs got;
	uint8_t drive[32], ids[1][32], data[1][100], commit[32], *frame, have[1];
	uint8_t nonce[16], *resp;
	struct cf_frame_item items[1], *it;
	uint64_t stored, v, len, used, limit, nobj;
	size_t fl, nit, rl;
	int trunc;
	long st;
	char path[256], hex[65];

	ca = make_account(&a, 2001, "ann", NULL, 0);
	cb = make_account(&b, 2002, "bob", NULL, 0);
	randombytes_buf(drive, 32);
	obj_data(9, 0, ids[0], data[0], sizeof(data[0]));
	items[0].id = ids[0];
	items[0].data = data[0];
	items[0].len = sizeof(data[0]);
	EXPECT_RC(cf_client_objects_put(ca, drive, items, 1, &stored), 0);
	/* B's device, signing as B, on A's account: refused. */
	sodium_bin2hex(hex, sizeof(hex), a.id, 32);
	snprintf(path, sizeof(path), "/v1/accounts/%s/chain", hex);
	EXPECT_RC(cf_client_raw(cb, "GET", path, "", "", NULL, 0, 0, NULL, &st,
	    &resp, &rl), 0);
	EXPECT(st == 403);
	free(resp);
	/* B's device claiming to be in A's account: not a device there. */
	snprintf(path, sizeof(path), "/v1/accounts/%s/directory/records", hex);
	EXPECT_RC(cf_client_raw(cb, "GET", path, "after=0", "", NULL, 0, 0,
	    NULL, &st, &resp, &rl), 0);
	EXPECT(st == 403);
	free(resp);
	cx = client_as(&a, &b.dev[0]);
	EXPECT_RC(cf_client_chain_get(cx, 0, &got, &len), COFFER_EDENIED);
	EXPECT_RC(cf_client_dir_records(cx, 0, &got, &v), COFFER_EDENIED);
	EXPECT_RC(cf_client_objects_get(cx, drive, (const uint8_t (*)[32])ids,
	    1, &frame, &fl, &it, &nit, &trunc), COFFER_EDENIED);
	cf_client_free(cx);
	/* B on its own account but A's drive id: no such drive. */
	EXPECT_RC(cf_client_objects_get(cb, drive, (const uint8_t (*)[32])ids,
	    1, &frame, &fl, &it, &nit, &trunc), COFFER_ENOENT);
	EXPECT_RC(cf_client_objects_have(cb, drive, (const uint8_t (*)[32])ids,
	    1, have), COFFER_ENOENT);
	EXPECT_RC(cf_client_objects_put(cb, drive, items, 1, &stored),
	    COFFER_ENOENT);
	EXPECT_RC(cf_client_head_get(cb, drive, &v, commit), COFFER_ENOENT);
	EXPECT_RC(cf_client_quota(cb, &used, &limit, &nobj), 0);
	EXPECT(used == 0);
	/* A still reaches it. */
	EXPECT_RC(cf_client_objects_get(ca, drive, (const uint8_t (*)[32])ids,
	    1, &frame, &fl, &it, &nit, &trunc), 0);
	EXPECT(nit == 1);
	free(frame);
	free(it);
	/* Stale (and future) requests are refused. */
	cf_client_test_hooks(ca, -301, NULL);
	EXPECT_RC(cf_client_quota(ca, &used, &limit, &nobj), COFFER_EDENIED);
	cf_client_test_hooks(ca, 301, NULL);
	EXPECT_RC(cf_client_quota(ca, &used, &limit, &nobj), COFFER_EDENIED);
	cf_client_test_hooks(ca, -290, NULL);
	EXPECT_RC(cf_client_quota(ca, &used, &limit, &nobj), 0);
	/* A replayed request (same nonce) is refused. */
	randombytes_buf(nonce, sizeof(nonce));
	cf_client_test_hooks(ca, 0, nonce);
	EXPECT_RC(cf_client_quota(ca, &used, &limit, &nobj), 0);
	EXPECT_RC(cf_client_quota(ca, &used, &limit, &nobj), COFFER_EDENIED);
	EXPECT_RC(cf_client_objects_put(ca, drive, items, 1, &stored),
	    COFFER_EDENIED);
	/*
	 * Reads keep their nonces in memory, writes in the durable table
	 * (docs/API.md §2): a nonce is refused across both, either way.
	 */
	randombytes_buf(nonce, sizeof(nonce));
	cf_client_test_hooks(ca, 0, nonce);
	EXPECT_RC(cf_client_objects_put(ca, drive, items, 1, &stored), 0);
	EXPECT_RC(cf_client_quota(ca, &used, &limit, &nobj), COFFER_EDENIED);
	EXPECT_RC(cf_client_objects_get(ca, drive, (const uint8_t (*)[32])ids,
	    1, &frame, &fl, &it, &nit, &trunc), COFFER_EDENIED);
	randombytes_buf(nonce, sizeof(nonce));
	cf_client_test_hooks(ca, 0, nonce);
	EXPECT_RC(cf_client_objects_get(ca, drive, (const uint8_t (*)[32])ids,
	    1, &frame, &fl, &it, &nit, &trunc), 0);
	free(frame);
	free(it);
	EXPECT_RC(cf_client_objects_get(ca, drive, (const uint8_t (*)[32])ids,
	    1, &frame, &fl, &it, &nit, &trunc), COFFER_EDENIED);
	EXPECT_RC(cf_client_objects_put(ca, drive, items, 1, &stored),
	    COFFER_EDENIED);
	cf_client_test_hooks(ca, 0, NULL);
	EXPECT_RC(cf_client_quota(ca, &used, &limit, &nobj), 0);
	/* A signature by the wrong key is refused. */
	cx = client_as(&a, &a.dev[0]);
	cf_client_set_signer(cx, a.id, a.dev[0].sign_pk, b.dev[0].sign_sk,
	    a.dev[0].box_pk);
	EXPECT_RC(cf_client_quota(cx, &used, &limit, &nobj), COFFER_EDENIED);
	cf_client_free(cx);
	/* B's directory cannot list A's drive. */
	{
		uint8_t *rec, zero[32] = { 0 }, dr[1][32];
		size_t dl;

		memcpy(dr[0], drive, 32);
		dir_record(&b, &b.dev[0], 1, zero, (const uint8_t (*)[32])dr, 1,
		    &rec, &dl);
		EXPECT_RC(cf_client_dir_put(cb, 0, rec, dl, &v), COFFER_ECONFLICT);
		free(rec);
	}
	/* Creation needs no invite on loopback, but B cannot re-create A. */
	cf_client_free(ca);
	cf_client_free(cb);
	return failures;
}

/* Against a server run with --quota 1000 --join-ttl 2. */
static int
cmd_limits(void)
{
	struct acct a, bad;
	struct cf_client *c, *j[10];
	struct ident nd[10];
	uint8_t drive[32], ids[2][32], data[2][600], *req, *resp, *ap;
	struct cf_frame_item items[2];
	uint64_t stored, used, limit, nobj, expires;
	size_t rl, al, i;
	long st;
	char path[256], hex[65], *big;

	c = make_account(&a, 6001, "limits", NULL, 0);
	/* Quota: 1000 bytes. */
	randombytes_buf(drive, 32);
	for (i = 0; i < 2; i++) {
		obj_data(11, i, ids[i], data[i], sizeof(data[i]));
		items[i].id = ids[i];
		items[i].data = data[i];
		items[i].len = sizeof(data[i]);
	}
	EXPECT_RC(cf_client_objects_put(c, drive, items, 1, &stored), 0);
	EXPECT_RC(cf_client_objects_put(c, drive, items + 1, 1, &stored),
	    COFFER_EDENIED);
	EXPECT(strcmp(cf_client_error_code(c), "quota") == 0);
	EXPECT_RC(cf_client_quota(c, &used, &limit, &nobj), 0);
	EXPECT(used == 600 && limit == 1000 && nobj == 1);
	/* At most 8 pending join requests. */
	for (i = 0; i < 9; i++) {
		ident_make(&nd[i], 6001 + i, "joiner");
		j[i] = client_as(&a, &nd[i]);
		join_request(a.id, "limits", &nd[i], &req, &rl);
		EXPECT_RC(cf_client_join_post(j[i], req, rl, &expires),
		    i < 8 ? 0 : COFFER_EDENIED);
		if (i == 8) {
			cf_client_error(j[i], &st);
			EXPECT(st == 429);
		}
		free(req);
	}
	/* Re-posting replaces, and is not a ninth. */
	join_request(a.id, "limits", &nd[0], &req, &rl);
	EXPECT_RC(cf_client_join_post(j[0], req, rl, &expires), 0);
	free(req);
	EXPECT_RC(cf_client_approval_get(j[1], nd[1].id, 1, &ap, &al), 0);
	EXPECT(ap == NULL);
	/* Join requests expire (--join-ttl 2). */
	sleep(3);
	EXPECT_RC(cf_client_approval_get(j[1], nd[1].id, 1, &ap, &al),
	    COFFER_ENOENT);
	for (i = 0; i < 9; i++)
		cf_client_free(j[i]);
	/* Body caps, JSON depth, names, queries. */
	sodium_bin2hex(hex, sizeof(hex), a.id, 32);
	snprintf(path, sizeof(path), "/v1/accounts/%s/joins", hex);
	if ((big = malloc((1 << 20) + 2)) == NULL)
		abort();
	memset(big, ' ', (1 << 20) + 1);
	big[0] = '{';
	big[1 << 20] = '}';
	EXPECT_RC(cf_client_raw(c, "POST", path, "", "application/json",
	    (uint8_t *)big, (1 << 20) + 1, 0, NULL, &st, &resp, &rl), 0);
	EXPECT(st == 413);
	free(resp);
	free(big);
	snprintf(path, sizeof(path), "/v1/accounts/%s/envelopes", hex);
	{
		static const char deep[] = "{\"envelopes\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}";

		EXPECT_RC(cf_client_raw(c, "POST", path, "", "application/json",
		    (const uint8_t *)deep, sizeof(deep) - 1, 0, NULL, &st, &resp,
		    &rl), 0);
		EXPECT(st == 400 && strstr((char *)resp, "deep") != NULL);
		free(resp);
	}
	snprintf(path, sizeof(path), "/v1/accounts/%s/chain", hex);
	EXPECT_RC(cf_client_raw(c, "GET", path, "from=1&from=2", "", NULL, 0,
	    0, NULL, &st, &resp, &rl), 0);
	EXPECT(st == 400);
	free(resp);
	EXPECT_RC(cf_client_raw(c, "GET", path, "from=x", "", NULL, 0, 0, NULL,
	    &st, &resp, &rl), 0);
	EXPECT(st == 400);
	free(resp);
	cf_client_free(make_account(&bad, 6099, "Bad Name", NULL,
	    COFFER_EDENIED));
	/* Lookups and self-signed requests are rate-limited (--rate 40). */
	{
		uint8_t id[32];
		int limited = 0, k;

		for (k = 0; k < 60; k++) {
			if (cf_client_name_lookup(c, "limits", id) == COFFER_EDENIED) {
				cf_client_error(c, &st);
				limited += st == 429;
			}
		}
		EXPECT(limited > 0);
	}
	/* Nothing of the refused requests was stored. */
	EXPECT_RC(cf_client_quota(c, &used, &limit, &nobj), 0);
	EXPECT(used == 600 && nobj == 1);
	cf_client_free(c);
	return failures;
}

static int
cmd_invite(const char *token)
{
	struct acct a, b, c;
	struct cf_client *x;

	x = make_account(&a, 3001, "inv-a", NULL, COFFER_EDENIED);
	cf_client_free(x);
	x = make_account(&a, 3001, "inv-a", "0000", COFFER_EDENIED);
	cf_client_free(x);
	x = make_account(&b, 3002, "inv-b", token, 0);
	cf_client_free(x);
	x = make_account(&c, 3003, "inv-c", token, COFFER_EDENIED);
	cf_client_free(x);
	return failures;
}

/* ---- garbage ---- */

static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n == 0 ? 0 : (uint32_t)(rng_state % n);
}

static int
port_of(const char *u)
{
	const char *p = strrchr(u, ':');

	return p != NULL ? (int)strtol(p + 1, NULL, 10) : 0;
}

/* Send raw bytes on a fresh connection; read (and drop) the answer. */
static void
raw_send(int port, const uint8_t *p, size_t n, int half_close)
{
	struct sockaddr_in sa;
	struct timeval tv = { 0, 300000 };
	char buf[4096];
	int fd;
	ssize_t k;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		(void)!write(fd, p, n);
		if (half_close)
			shutdown(fd, SHUT_WR);
		while ((k = read(fd, buf, sizeof(buf))) > 0)
			;
	}
	close(fd);
}

static const char *const methods[] = { "GET", "POST", "PUT", "DELETE",
    "HEAD", "OPTIONS", "PATCH", "BREW", "", "G\x01T", "POST POST" };
static const char *const paths[] = { "/", "/v1", "/v1/accounts",
    "/v1/names/alice", "/v1/names/", "/v1/accounts/%s/chain",
    "/v1/accounts/%s/chain?from=abc", "/v1/accounts/%s/envelopes?recipient=zz",
    "/v1/accounts/%s/joins", "/v1/accounts/%s/joins/%s/approval",
    "/v1/accounts/%s/directory", "/v1/accounts/%s/drives/%s/head",
    "/v1/accounts/%s/directory/records",
    "/v1/accounts/%s/directory/records?after=99999999999999999999999",
    "/v1/accounts/%s/directory/records?after=-1&after=",
    "/v1/accounts/%s/drives/%s/objects/put",
    "/v1/accounts/%s/drives/%s/objects/get",
    "/v1/accounts/%s/drives/%s/objects/have", "/v1/accounts/%s/quota",
    "/../../etc/passwd", "/v1/accounts/%s/%s/%s/%s/%s/%s/%s/%s",
    "/v1/names/%00%ff", "//v1//accounts" };

static void
garbage_body(uint8_t *b, size_t *n)
{
	static const char *const js[] = { "{", "{}", "[]", "null", "{\"seq\":-1}",
	    "{\"seq\":1,\"entry\":\"!!!\"}", "{\"name\":\"x\",\"genesis\":\"AAAA\"}",
	    "{\"expect\":0,\"record\":\"Q0ZEUgE=\"}",
	    "{\"expect\":0,\"commit\":\"00\",\"delta\":\"Q0ZSRAE=\"}",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	    "{\"a\":1,\"a\":2}", "\"\\ud800\"", "{\"envelopes\":[1,2,3]}" };
	size_t i, k = rnd(4);

	if (k == 0) {
		snprintf((char *)b, GARBAGE_BODY_MAX, "%s", js[rnd(13)]);
		*n = strlen((char *)b);
	} else if (k == 1) {
		/* A frame that lies somewhere. */
		*n = 9 + rnd(200);
		for (i = 0; i < *n; i++)
			b[i] = (uint8_t)rnd(256);
		memcpy(b, "CFBF\x01", 5);
		if (rnd(2))
			cf_be32enc(b + 5, rnd(3));
	} else {
		*n = rnd(GARBAGE_BODY_MAX);
		for (i = 0; i < *n; i++)
			b[i] = (uint8_t)rnd(256);
	}
}

/* Expand each "%s" of ${pf}: the first with ${a}, the rest with ${b}. */
static void
fill_path(char *out, size_t outlen, const char *pf, const char *a,
    const char *b)
{
	size_t o = 0, l;
	int k = 0;
	const char *s;

	while (*pf != '\0' && o + 1 < outlen) {
		if (pf[0] == '%' && pf[1] == 's') {
			s = k++ == 0 ? a : b;
			l = strlen(s);
			if (o + l + 1 >= outlen)
				break;
			memcpy(out + o, s, l);
			o += l;
			pf += 2;
		} else {
			out[o++] = *pf++;
		}
	}
	out[o] = '\0';
}

static int
cmd_garbage(uint64_t seed, unsigned long n)
{
	struct acct a;
	struct cf_client *c, *g;
	int port = port_of(url);
	uint8_t body[GARBAGE_BODY_MAX + 1], *resp, rid[32];
	char path[1024], req[8192], hex[65], hex2[65];
	unsigned long i;
	size_t bl, rl, hl;
	uint64_t used, limit, nobj, stored;
	long st;
	uint8_t ids[1][32], data[1][64];
	struct cf_frame_item items[1];

	rng_state = seed * 2654435761ULL + 1;
	snprintf(path, sizeof(path), "garbage-%llu", (unsigned long long)seed);
	c = make_account(&a, 4000 + seed, path, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), a.id, 32);
	g = client_as(&a, &a.dev[0]);
	for (i = 0; i < n; i++) {
		const char *pf = paths[rnd(sizeof(paths) / sizeof(paths[0]))];
		const char *m = methods[rnd(sizeof(methods) / sizeof(methods[0]))];

		randombytes_buf(rid, 32);
		sodium_bin2hex(hex2, sizeof(hex2), rid, 32);
		fill_path(path, sizeof(path), pf, hex, rnd(2) ? hex2 : hex);
		garbage_body(body, &bl);
		switch (rnd(5)) {
		case 0: {
			/* Raw HTTP with a Content-Length that may lie. */
			long lie = (long)bl + (long)rnd(3) * (long)rnd(100) -
			    (long)rnd(2) * (long)rnd((uint32_t)bl + 1);

			hl = (size_t)snprintf(req, sizeof(req),
			    "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			    "Content-Length: %ld\r\n%s\r\n", m, path, port,
			    lie < 0 ? 0 : lie,
			    rnd(2) ? "X-Coffer-Time: 99999999999999999999999\r\n" :
			    "X-Coffer-Nonce: zz\r\n");
			if (hl + bl < sizeof(req)) {
				memcpy(req + hl, body, bl);
				raw_send(port, (uint8_t *)req, hl + bl, 1);
			}
			break;
		}
		case 1: {
			/* Raw bytes, no HTTP at all, or a huge header. */
			size_t k = rnd(2) ? bl : sizeof(req);

			if (k == sizeof(req)) {
				memset(req, 'A', sizeof(req));
				memcpy(req, "GET / HTTP/1.1\r\nX-Big: ", 23);
				raw_send(port, (uint8_t *)req, sizeof(req), 1);
			} else {
				raw_send(port, body, bl, rnd(2));
			}
			break;
		}
		case 2:
			/* Chunked upload past every cap is cut off. */
			hl = (size_t)snprintf(req, sizeof(req),
			    "POST %s HTTP/1.1\r\nHost: x\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", path,
			    bl);
			if (hl + bl < sizeof(req)) {
				memcpy(req + hl, body, bl);
				raw_send(port, (uint8_t *)req, hl + bl, 1);
			}
			break;
		default:
			/* Correctly signed requests with garbage bodies. */
			(void)cf_client_raw(g, m[0] != '\0' &&
			    strchr(m, ' ') == NULL && strchr(m, 1) == NULL ? m : "PUT",
			    strchr(path, '?') ? "/v1/accounts" : path, "",
			    rnd(2) ? "application/json" :
			    "application/x-coffer-frame", body, bl, rnd(2),
			    NULL, &st, &resp, &rl);
			EXPECT(st == 0 || st < 500 || st == 501);
			if (st >= 500 && st != 501)
				fprintf(stderr, "status %ld for %s %s\n", st, m,
				    path);
			free(resp);
			break;
		}
	}
	/* The server still serves a real client, and stored nothing odd. */
	EXPECT_RC(cf_client_quota(c, &used, &limit, &nobj), 0);
	EXPECT(used == 0 && nobj == 0);
	obj_data(5, 0, ids[0], data[0], sizeof(data[0]));
	items[0].id = ids[0];
	items[0].data = data[0];
	items[0].len = sizeof(data[0]);
	{
		uint8_t drive[32];

		randombytes_buf(drive, 32);
		EXPECT_RC(cf_client_objects_put(c, drive, items, 1, &stored), 0);
		EXPECT(stored == 1);
	}
	cf_client_free(g);
	cf_client_free(c);
	return failures;
}

/* ---- crash ---- */

#define CRASH_BATCH	50
#define CRASH_OBJ	512

/* The account of a crash run: same keys every round from the seed. */
static struct cf_client *
crash_client(uint64_t seed, struct acct *a, uint8_t drive[32])
{
	struct cf_client *c;
	uint8_t id[32];

	ident_make(&a->dev[0], seed, "device0");
	crypto_generichash(drive, 32, (const uint8_t *)"drive", 5, NULL, 0);
	c = client_as(a, NULL);
	if (cf_client_name_lookup(c, "crash", id) == 0) {
		memcpy(a->id, id, 32);
		cf_client_free(c);
		return client_as(a, &a->dev[0]);
	}
	cf_client_free(c);
	c = make_account(a, seed, "crash", NULL, 0);
	return c;
}

static int
cmd_crash_write(uint64_t seed, const char *ackfile)
{
	struct acct a;
	struct cf_client *c;
	uint8_t drive[32], ids[CRASH_BATCH][32], data[CRASH_BATCH][CRASH_OBJ];
	struct cf_frame_item items[CRASH_BATCH];
	uint64_t batch, stored;
	char line[64];
	int fd, i, rc;
	FILE *f;

	memset(&a, 0, sizeof(a));
	c = crash_client(seed, &a, drive);
	/* Continue numbering after what was acknowledged before. */
	batch = 0;
	if ((f = fopen(ackfile, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			batch = strtoull(line, NULL, 10) + 1;
		fclose(f);
	}
	if ((fd = open(ackfile, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0)
		return 1;
	for (;; batch++) {
		for (i = 0; i < CRASH_BATCH; i++) {
			obj_data(seed, batch * CRASH_BATCH + (uint64_t)i,
			    ids[i], data[i], CRASH_OBJ);
			items[i].id = ids[i];
			items[i].data = data[i];
			items[i].len = CRASH_OBJ;
		}
		rc = cf_client_objects_put(c, drive, items, CRASH_BATCH, &stored);
		if (rc != 0)
			break;		/* the server died: stop */
		snprintf(line, sizeof(line), "%" PRIu64 "\n", batch);
		if (write(fd, line, strlen(line)) < 0 || fsync(fd) != 0)
			break;
	}
	close(fd);
	cf_client_free(c);
	return 0;
}

static int
cmd_crash_verify(uint64_t seed, const char *ackfile)
{
	struct acct a;
	struct cf_client *c;
	uint8_t drive[32], ids[CRASH_BATCH][32], data[CRASH_BATCH][CRASH_OBJ];
	uint8_t *frame;
	struct cf_frame_item *it;
	uint64_t batch, used, limit, nobj, nb = 0;
	size_t fl, nit;
	char line[64];
	int i, trunc;
	FILE *f;

	memset(&a, 0, sizeof(a));
	c = crash_client(seed, &a, drive);
	if ((f = fopen(ackfile, "r")) == NULL) {
		cf_client_free(c);
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		batch = strtoull(line, NULL, 10);
		for (i = 0; i < CRASH_BATCH; i++)
			obj_data(seed, batch * CRASH_BATCH + (uint64_t)i,
			    ids[i], data[i], CRASH_OBJ);
		EXPECT_RC(cf_client_objects_get(c, drive,
		    (const uint8_t (*)[32])ids, CRASH_BATCH, &frame, &fl, &it,
		    &nit, &trunc), 0);
		EXPECT(nit == CRASH_BATCH);
		for (i = 0; i < (int)nit && i < CRASH_BATCH; i++)
			EXPECT(it[i].len == CRASH_OBJ &&
			    memcmp(it[i].data, data[i], CRASH_OBJ) == 0);
		free(frame);
		free(it);
		nb++;
	}
	fclose(f);
	/* The store is consistent: usage counts at least what was acked. */
	EXPECT_RC(cf_client_quota(c, &used, &limit, &nobj), 0);
	EXPECT(nobj >= nb * CRASH_BATCH && used == nobj * CRASH_OBJ);
	printf("verified %" PRIu64 " acknowledged batches (%" PRIu64 " objects stored)\n",
	    nb, nobj);
	cf_client_free(c);
	return failures;
}

static int
cmd_put_batch(uint64_t seed, unsigned long n)
{
	struct acct a;
	struct cf_client *c;
	uint8_t drive[32], (*ids)[32], (*data)[CRASH_OBJ];
	struct cf_frame_item *items;
	uint64_t stored;
	unsigned long i;
	char name[32];

	snprintf(name, sizeof(name), "batch-%llu", (unsigned long long)seed);
	c = make_account(&a, seed, name, NULL, 0);
	randombytes_buf(drive, 32);
	ids = calloc(n, 32);
	data = calloc(n, CRASH_OBJ);
	items = calloc(n, sizeof(*items));
	if (ids == NULL || data == NULL || items == NULL)
		abort();
	for (i = 0; i < n; i++) {
		obj_data(seed, i, ids[i], data[i], CRASH_OBJ);
		items[i].id = ids[i];
		items[i].data = data[i];
		items[i].len = CRASH_OBJ;
	}
	EXPECT_RC(cf_client_objects_put(c, drive, items, n, &stored), 0);
	EXPECT(stored == n);
	free(ids);
	free(data);
	free(items);
	cf_client_free(c);
	return failures;
}

static int
cmd_lookup(const char *name)
{
	struct cf_client *c;
	uint8_t id[32];
	char hex[65];

	if (cf_client_new(url, &c) != 0)
		return 1;
	EXPECT_RC(cf_client_name_lookup(c, name, id), 0);
	sodium_bin2hex(hex, sizeof(hex), id, 32);
	printf("%s\n", hex);
	cf_client_free(c);
	return failures;
}

/* Many objects: parallel put-many, have-which and get-many in groups. */
#define BULK_N		2000
#define BULK_SIZE	(16 * 1024)
#define BULK_GROUP	500

#define BULK_BIG_N	72
#define BULK_BIG_SIZE	(1024 * 1024)

struct bulk_check {
	const uint8_t *data;
	size_t size, n;
	uint8_t *seen;
	int bad;
};

static int
bulk_cb(void *arg, size_t i, const uint8_t *d, size_t len)
{
	struct bulk_check *b = arg;

	if (i >= b->n || b->seen[i] || len != b->size ||
	    memcmp(d, b->data + i * b->size, len) != 0)
		b->bad++;
	else
		b->seen[i] = 1;
	return 0;
}

static int
cmd_bulk(void)
{
	struct acct a;
	struct cf_client *c;
	uint8_t drive[32], (*ids)[32], *data, *have, *frame;
	struct cf_frame_item *items, *it;
	uint64_t stored = 0, used, limit, nobj;
	size_t i, g, fl, nit;
	int trunc;

	c = make_account(&a, 7001, "bulk", NULL, 0);
	randombytes_buf(drive, 32);
	ids = calloc(BULK_N, 32);
	data = malloc((size_t)BULK_N * BULK_SIZE);
	have = calloc(BULK_N, 1);
	items = calloc(BULK_N, sizeof(*items));
	if (ids == NULL || data == NULL || have == NULL || items == NULL)
		abort();
	for (i = 0; i < BULK_N; i++) {
		obj_data(13, i, ids[i], data + i * BULK_SIZE, BULK_SIZE);
		items[i].id = ids[i];
		items[i].data = data + i * BULK_SIZE;
		items[i].len = BULK_SIZE;
	}
	/* Half first, then all: the second call stores only the rest. */
	EXPECT_RC(cf_client_objects_put_many(c, drive, items, BULK_N / 2, 4,
	    &stored), 0);
	EXPECT(stored == BULK_N / 2);
	EXPECT_RC(cf_client_objects_put_many(c, drive, items, BULK_N, 4,
	    &stored), 0);
	EXPECT(stored == BULK_N / 2);
	EXPECT_RC(cf_client_objects_have(c, drive, (const uint8_t (*)[32])ids,
	    BULK_N, have), 0);
	for (i = 0; i < BULK_N; i++)
		EXPECT(have[i] == 1);
	for (g = 0; g < BULK_N; g += BULK_GROUP) {
		EXPECT_RC(cf_client_objects_get(c, drive,
		    (const uint8_t (*)[32])ids + g, BULK_GROUP, &frame, &fl, &it,
		    &nit, &trunc), 0);
		EXPECT(nit == BULK_GROUP && !trunc);
		for (i = 0; i < nit && i < BULK_GROUP; i++)
			EXPECT(it[i].len == BULK_SIZE && memcmp(it[i].data,
			    data + (g + i) * BULK_SIZE, BULK_SIZE) == 0);
		free(frame);
		free(it);
	}
	/* The same through parallel get-many, plus ids it does not have. */
	{
		struct bulk_check bc;
		uint8_t (*ids2)[32] = calloc(BULK_N + 10, 32);
		size_t got = 0;

		if (ids2 == NULL)
			abort();
		memcpy(ids2, ids, (size_t)BULK_N * 32);
		randombytes_buf(ids2[BULK_N], 10 * 32);
		bc.data = data;
		bc.size = BULK_SIZE;
		bc.n = BULK_N;
		bc.seen = calloc(BULK_N + 10, 1);
		bc.bad = 0;
		EXPECT_RC(cf_client_objects_get_many(c, drive,
		    (const uint8_t (*)[32])ids2, BULK_N + 10, 4, bulk_cb, &bc,
		    &got), 0);
		EXPECT(got == BULK_N && bc.bad == 0);
		free(bc.seen);
		free(ids2);
	}
	EXPECT_RC(cf_client_quota(c, &used, &limit, &nobj), 0);
	EXPECT(nobj == BULK_N && used == (uint64_t)BULK_N * BULK_SIZE);
	/* Answers past 64 MiB are truncated and the rest fetched again. */
	{
		struct bulk_check bc;
		uint8_t (*bids)[32] = calloc(BULK_BIG_N, 32), *bdata;
		struct cf_frame_item *bitems = calloc(BULK_BIG_N, sizeof(*bitems));
		size_t got = 0;

		bdata = malloc((size_t)BULK_BIG_N * BULK_BIG_SIZE);
		if (bids == NULL || bitems == NULL || bdata == NULL)
			abort();
		for (i = 0; i < BULK_BIG_N; i++) {
			obj_data(14, i, bids[i], bdata + i * BULK_BIG_SIZE,
			    BULK_BIG_SIZE);
			bitems[i].id = bids[i];
			bitems[i].data = bdata + i * BULK_BIG_SIZE;
			bitems[i].len = BULK_BIG_SIZE;
		}
		EXPECT_RC(cf_client_objects_put_many(c, drive, bitems,
		    BULK_BIG_N, 0, &stored), 0);
		EXPECT(stored == BULK_BIG_N);
		EXPECT_RC(cf_client_objects_get(c, drive,
		    (const uint8_t (*)[32])bids, BULK_BIG_N, &frame, &fl, &it,
		    &nit, &trunc), 0);
		EXPECT(trunc && nit > 0 && nit < BULK_BIG_N);
		free(frame);
		free(it);
		bc.data = bdata;
		bc.size = BULK_BIG_SIZE;
		bc.n = BULK_BIG_N;
		bc.seen = calloc(BULK_BIG_N, 1);
		bc.bad = 0;
		EXPECT_RC(cf_client_objects_get_many(c, drive,
		    (const uint8_t (*)[32])bids, BULK_BIG_N, 2, bulk_cb, &bc,
		    &got), 0);
		EXPECT(got == BULK_BIG_N && bc.bad == 0);
		free(bc.seen);
		free(bids);
		free(bitems);
		free(bdata);
	}
	free(ids);
	free(data);
	free(have);
	free(items);
	cf_client_free(c);
	return failures;
}

/* ---- concurrent puts ---- */

#define CONC_THREADS	4
#define CONC_N		1200		/* objects, shared by all threads */
#define CONC_BATCH	40
#define CONC_ROUNDS	2

struct conc {
	pthread_t th;
	struct cf_client *c;
	const uint8_t *drive;
	uint8_t (*ids)[32];
	uint8_t *data;
	const size_t *off, *len;
	size_t start;
	uint64_t stored;
	int err;
};

/* Sizes 1 byte to ~48 KiB, so that records straddle pack boundaries. */
static size_t
conc_len(size_t i)
{
	return 1 + (i * 7919) % (48 * 1024);
}

/*
 * Each thread walks all objects from its own start, in batches, twice:
 * every object is put by every thread, most of them at the same moment
 * as another thread puts it.
 */
static void *
conc_run(void *arg)
{
	struct conc *t = arg;
	struct cf_frame_item items[CONC_BATCH];
	uint64_t st;
	size_t r, k, j, i;

	for (r = 0; r < CONC_ROUNDS && t->err == 0; r++) {
		for (k = 0; k < CONC_N && t->err == 0; k += CONC_BATCH) {
			for (j = 0; j < CONC_BATCH && k + j < CONC_N; j++) {
				i = (t->start + k + j) % CONC_N;
				items[j].id = t->ids[i];
				items[j].data = t->data + t->off[i];
				items[j].len = t->len[i];
			}
			if ((t->err = cf_client_objects_put(t->c, t->drive,
			    items, j, &st)) == 0)
				t->stored += st;
		}
	}
	return NULL;
}

static int
cmd_concurrent(void)
{
	struct acct a;
	struct conc t[CONC_THREADS];
	struct cf_client *c;
	struct cf_frame_item *it;
	uint8_t drive[32], (*ids)[32], *data, *have, *frame;
	size_t off[CONC_N], len[CONC_N], i, k, total = 0, fl, nit, got;
	uint64_t stored = 0, used, limit, nobj;
	int trunc;

	c = make_account(&a, 7101, "concurrent", NULL, 0);
	randombytes_buf(drive, 32);
	for (i = 0; i < CONC_N; i++) {
		off[i] = total;
		len[i] = conc_len(i);
		total += len[i];
	}
	ids = calloc(CONC_N, 32);
	data = malloc(total);
	have = calloc(CONC_N, 1);
	if (ids == NULL || data == NULL || have == NULL)
		abort();
	for (i = 0; i < CONC_N; i++)
		obj_data(21, i, ids[i], data + off[i], len[i]);
	memset(t, 0, sizeof(t));
	for (k = 0; k < CONC_THREADS; k++) {
		t[k].c = client_as(&a, &a.dev[0]);
		t[k].drive = drive;
		t[k].ids = ids;
		t[k].data = data;
		t[k].off = off;
		t[k].len = len;
		/* Two threads start together, two a quarter further on. */
		t[k].start = (k / 2) * (CONC_N / 4);
		if (pthread_create(&t[k].th, NULL, conc_run, &t[k]) != 0)
			abort();
	}
	for (k = 0; k < CONC_THREADS; k++) {
		pthread_join(t[k].th, NULL);
		EXPECT_RC(t[k].err, 0);
		stored += t[k].stored;
		cf_client_free(t[k].c);
	}
	/* Each object stored exactly once, whoever won; counted once. */
	EXPECT(stored == CONC_N);
	EXPECT_RC(cf_client_quota(c, &used, &limit, &nobj), 0);
	EXPECT(nobj == CONC_N && used == total);
	EXPECT_RC(cf_client_objects_have(c, drive, (const uint8_t (*)[32])ids,
	    CONC_N, have), 0);
	for (i = 0; i < CONC_N; i++)
		EXPECT(have[i] == 1);
	/* Every object reads back exactly. */
	for (i = 0; i < CONC_N; i += got) {
		got = CONC_N - i < 100 ? CONC_N - i : 100;
		EXPECT_RC(cf_client_objects_get(c, drive,
		    (const uint8_t (*)[32])ids + i, got, &frame, &fl, &it, &nit,
		    &trunc), 0);
		EXPECT(nit == got && !trunc);
		for (k = 0; k < nit && k < got; k++)
			EXPECT(memcmp(it[k].id, ids[i + k], 32) == 0 &&
			    it[k].len == len[i + k] && memcmp(it[k].data,
			    data + off[i + k], len[i + k]) == 0);
		free(frame);
		free(it);
	}
	/* Once more, all present now: nothing stored, nothing counted. */
	for (k = 0; k < 1; k++) {	/* one thread is enough */
		t[k].c = client_as(&a, &a.dev[0]);
		t[k].stored = 0;
		conc_run(&t[k]);
		EXPECT_RC(t[k].err, 0);
		EXPECT(t[k].stored == 0);
		cf_client_free(t[k].c);
	}
	EXPECT_RC(cf_client_quota(c, &used, &limit, &nobj), 0);
	EXPECT(nobj == CONC_N && used == total);
	free(ids);
	free(data);
	free(have);
	cf_client_free(c);
	return failures;
}

static double
mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Timing of a push-like sequence: have-which, put-many, have, get-many. */
static int
cmd_perf(unsigned long n, unsigned long size)
{
	struct acct a;
	struct cf_client *c;
	uint8_t drive[32], (*ids)[32], *data, *have;
	struct cf_frame_item *items;
	struct bulk_check bc;
	uint64_t stored;
	size_t got, i;
	double t0, t1, t2, t3;

	c = make_account(&a, 8001, "perf", NULL, 0);
	randombytes_buf(drive, 32);
	ids = calloc(n, 32);
	data = malloc(n * size);
	have = calloc(n, 1);
	items = calloc(n, sizeof(*items));
	bc.seen = calloc(n, 1);
	if (ids == NULL || data == NULL || have == NULL || items == NULL ||
	    bc.seen == NULL)
		abort();
	for (i = 0; i < n; i++) {
		obj_data(15, i, ids[i], data + i * size, size);
		items[i].id = ids[i];
		items[i].data = data + i * size;
		items[i].len = (uint32_t)size;
	}
	t0 = mono();
	EXPECT_RC(cf_client_objects_have(c, drive, (const uint8_t (*)[32])ids,
	    n, have), 0);
	t1 = mono();
	EXPECT_RC(cf_client_objects_put_many(c, drive, items, n, 0, &stored), 0);
	EXPECT(stored == n);
	t2 = mono();
	bc.data = data;
	bc.size = size;
	bc.n = n;
	bc.bad = 0;
	EXPECT_RC(cf_client_objects_get_many(c, drive,
	    (const uint8_t (*)[32])ids, n, 0, bulk_cb, &bc, &got), 0);
	EXPECT(got == n && bc.bad == 0);
	t3 = mono();
	printf("{\"objects\": %lu, \"size\": %lu, \"have_s\": %.3f, "
	    "\"put_many_s\": %.3f, \"get_many_s\": %.3f}\n", n, size,
	    t1 - t0, t2 - t1, t3 - t2);
	free(ids);
	free(data);
	free(have);
	free(items);
	free(bc.seen);
	cf_client_free(c);
	return failures;
}

static int
num(const char *s, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return (errno != 0 || *end != '\0' || s[0] == '\0') ? -1 : 0;
}

int
main(int argc, char **argv)
{
	unsigned long long a1 = 0, a2 = 0;
	int rc = 2;

	if (coffer_init() != 0 || sodium_init() < 0)
		return 1;
	if (argc < 3)
		goto usage;
	url = argv[1];
	if (strcmp(argv[2], "endpoints") == 0 && argc == 3)
		rc = cmd_endpoints();
	else if (strcmp(argv[2], "authz") == 0 && argc == 3)
		rc = cmd_authz();
	else if (strcmp(argv[2], "perf") == 0 && argc == 5 &&
	    num(argv[3], &a1) == 0 && num(argv[4], &a2) == 0 && a1 > 0 &&
	    a1 <= 1000000 && a2 > 0 && a2 <= (1 << 20))
		rc = cmd_perf(a1, a2);
	else if (strcmp(argv[2], "concurrent") == 0 && argc == 3)
		rc = cmd_concurrent();
	else if (strcmp(argv[2], "bulk") == 0 && argc == 3)
		rc = cmd_bulk();
	else if (strcmp(argv[2], "limits") == 0 && argc == 3)
		rc = cmd_limits();
	else if (strcmp(argv[2], "lookup") == 0 && argc == 4)
		rc = cmd_lookup(argv[3]);
	else if (strcmp(argv[2], "invite") == 0 && argc == 4)
		rc = cmd_invite(argv[3]);
	else if (strcmp(argv[2], "garbage") == 0 && argc == 5 &&
	    num(argv[3], &a1) == 0 && num(argv[4], &a2) == 0)
		rc = cmd_garbage(a1, a2);
	else if (strcmp(argv[2], "crash-write") == 0 && argc == 5 &&
	    num(argv[3], &a1) == 0)
		rc = cmd_crash_write(a1, argv[4]);
	else if (strcmp(argv[2], "crash-verify") == 0 && argc == 5 &&
	    num(argv[3], &a1) == 0)
		rc = cmd_crash_verify(a1, argv[4]);
	else if (strcmp(argv[2], "put-batch") == 0 && argc == 5 &&
	    num(argv[3], &a1) == 0 && num(argv[4], &a2) == 0)
		rc = cmd_put_batch(a1, a2);
	else
		goto usage;
	if (rc != 0)
		fprintf(stderr, "srvclient %s: %d check(s) failed\n", argv[2], rc);
	else
		printf("srvclient %s: ok\n", argv[2]);
	return rc != 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: srvclient URL endpoints|authz|invite TOKEN|"
	    "garbage SEED N|crash-write SEED FILE|crash-verify SEED FILE|"
	    "put-batch SEED N\n");
	return 2;
}
