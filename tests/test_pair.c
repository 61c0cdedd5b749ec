/*
 * Joining (FORMAT §17): the join request, the pairing code, matching on
 * the approver, the approval and its grant, the safety code, and the
 * recovery key's check of a chain.  Each refusal has a control made the
 * same way with the rule kept.
 *
 * Argon2id (64 MiB) runs once per request made and once per match; the
 * cases share one honest request where they can.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chain/chain.h"
#include "chain/pair.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"
#include "util/buf.h"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "chain_fix.h"
#pragma GCC diagnostic pop
#include "t.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
#define NEW		C	/* the joining device of the fixture */

/* One honest join: the request of device C for the account of A. */
static struct {
	uint8_t r[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES];
	uint8_t *buf;
	size_t len;
	struct cf_join_request req;
} g_join;

static struct fix g_fix;

/* Make the shared request once (Argon2id). */
static void
join_setup(void)
{
	fix_init(&g_fix);
	fix_add(&g_fix, A, B);
	if (cf_join_request_make(g_fix.dev[NEW], g_fix.account_id, "alice", 5,
	    "phone", 5, g_join.r, g_join.t, &g_join.buf, &g_join.len) != 0 ||
	    cf_join_request_decode(g_join.buf, g_join.len, &g_join.req) != 0)
		fix_die("join request");
}

static void
join_teardown(void)
{
	free(g_join.buf);
	fix_free(&g_fix);
}

/* ---- The request ---- */

static void
request_decode(void)
{
	struct cf_join_request q, bad;
	uint8_t *p, other[CF_ID_BYTES], r[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES];
	size_t i, fails = 0, an, en, nonce;

	q = g_join.req;
	CHECK(memcmp(q.account_id, g_fix.account_id, CF_ID_BYTES) == 0);
	CHECK(q.account_name_len == 5 && memcmp(q.account_name, "alice", 5) == 0);
	CHECK(memcmp(q.device_id, g_fix.dev[NEW]->device_id, CF_ID_BYTES) == 0);
	CHECK(memcmp(q.box_pk, g_fix.dev[NEW]->box_pk, CF_BOX_PK_BYTES) == 0);
	/* The device name is not in the clear. */
	CHECK(memmem(g_join.buf, g_join.len, "phone", 5) == NULL);

	/* Every truncation, and an extension, is refused. */
	for (i = 0; i < g_join.len; i++)
		if (cf_join_request_decode(g_join.buf, i, &bad) != NOTAUTH)
			fails++;
	if ((p = malloc(g_join.len + 1)) == NULL)
		fix_die("malloc");
	memcpy(p, g_join.buf, g_join.len);
	p[g_join.len] = 0;
	if (cf_join_request_decode(p, g_join.len + 1, &bad) != NOTAUTH)
		fails++;
	/*
	 * A flipped byte in the tag, version, account id, lengths, keys or
	 * pop is refused; the account name, enc_name and nonce are bound by
	 * t alone (match_keys_swapped).
	 */
	an = 4 + 1 + CF_ID_BYTES + 4;
	en = an + q.account_name_len + 4;
	nonce = g_join.len - CF_SIG_BYTES - CF_PAIR_NONCE_BYTES;
	for (i = 0; i < g_join.len; i++) {
		if ((i >= an && i < an + q.account_name_len) ||
		    (i >= en && i < en + q.enc_name_len) ||
		    (i >= nonce && i < nonce + CF_PAIR_NONCE_BYTES))
			continue;
		p[i] ^= 0x01;
		if (cf_join_request_decode(p, g_join.len, &bad) != NOTAUTH)
			fails++;
		p[i] ^= 0x01;
	}
	CHECK(fails == 0);
	CHECK(sodium_is_zero((const uint8_t *)&bad, sizeof(bad)));
	/* A pop over another account than the one claimed. */
	memcpy(other, g_fix.account_id, CF_ID_BYTES);
	other[0] ^= 1;
	cf_pop_sign(g_fix.dev[NEW], other, p + g_join.len - CF_SIG_BYTES);
	CHECK_RC(cf_join_request_decode(p, g_join.len, &bad), NOTAUTH);
	cf_pop_sign(g_fix.dev[NEW], g_fix.account_id,
	    p + g_join.len - CF_SIG_BYTES);			/* control */
	CHECK_RC(cf_join_request_decode(p, g_join.len, &bad), 0);
	free(p);

	/* Names the writer refuses. */
	CHECK_RC(cf_join_request_make(g_fix.dev[NEW], g_fix.account_id, "", 0,
	    "phone", 5, r, t, &p, &i), COFFER_EINVAL);
	CHECK_RC(cf_join_request_make(g_fix.dev[NEW], g_fix.account_id, "alice",
	    5, "", 0, r, t, &p, &i), COFFER_EINVAL);
	CHECK_RC(cf_join_request_make(g_fix.dev[NEW], g_fix.account_id, "alice",
	    5, "a\0b", 3, r, t, &p, &i), COFFER_EINVAL);
	CHECK(p == NULL);
}

/* A low-order box key, with a valid pop over it, is refused. */
static void
request_low_order(void)
{
	/* A point of order 8 on Curve25519 (libsodium's blocklist). */
	static const uint8_t low[32] = {
		0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
		0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
		0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 };
	struct cf_device_keys k;
	struct cf_join_request q;
	uint8_t *p = NULL, r[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES];
	size_t len = 0, o;

	k = *g_fix.dev[NEW];
	memcpy(k.box_pk, low, 32);
	CHECK_RC(cf_join_request_make(&k, g_fix.account_id, "alice", 5,
	    "phone", 5, r, t, &p, &len), 0);
	CHECK_RC(cf_join_request_decode(p, len, &q), NOTAUTH);
	/* Control: the same with the real key decodes. */
	o = len - CF_SIG_BYTES - CF_PAIR_NONCE_BYTES - CF_BOX_PK_BYTES;
	memcpy(p + o, g_fix.dev[NEW]->box_pk, CF_BOX_PK_BYTES);
	cf_pop_sign(g_fix.dev[NEW], g_fix.account_id, p + len - CF_SIG_BYTES);
	CHECK_RC(cf_join_request_decode(p, len, &q), 0);
	free(p);
	sodium_memzero(&k, sizeof(k));
}

/* ---- The pairing code ---- */

static void
code_text(void)
{
	static const char ok_chars[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	char text[CF_PAIR_CODE_TEXT_BYTES], typed[64];
	uint8_t r[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES];
	size_t i, j, n, fails = 0;

	cf_pair_code_format(g_join.r, g_join.t, text);
	CHECK(strlen(text) == 20 && text[5] == '-' && text[11] == '-' &&
	    text[17] == '-');
	CHECK_RC(cf_pair_code_parse(text, strlen(text), r, t), 0);
	CHECK(memcmp(r, g_join.r, sizeof(r)) == 0 &&
	    memcmp(t, g_join.t, sizeof(t)) == 0);

	/* Case, dashes and spaces are free. */
	for (i = 0, n = 0; text[i] != '\0'; i++) {
		if (text[i] == '-')
			continue;
		typed[n++] = (char)((text[i] >= 'A' && text[i] <= 'Z') ?
		    text[i] - 'A' + 'a' : text[i]);
		if (n % 3 == 0)
			typed[n++] = ' ';
	}
	CHECK_RC(cf_pair_code_parse(typed, n, r, t), 0);
	CHECK(memcmp(r, g_join.r, sizeof(r)) == 0);

	/* Any one character wrong: the check character says so. */
	for (i = 0; i < 20; i++) {
		if (text[i] == '-')
			continue;
		for (j = 0; j < 32; j++) {
			if (ok_chars[j] == text[i])
				continue;
			memcpy(typed, text, sizeof(text));
			typed[i] = ok_chars[j];
			if (cf_pair_code_parse(typed, 20, r, t) != COFFER_EBADKEY)
				fails++;
		}
	}
	CHECK(fails == 0);
	CHECK(sodium_is_zero(r, sizeof(r)) && sodium_is_zero(t, sizeof(t)));
	/* Too short, too long, not base32. */
	CHECK_RC(cf_pair_code_parse(text, 19, r, t), COFFER_EBADKEY);
	memcpy(typed, text, sizeof(text));
	typed[20] = '0';
	CHECK_RC(cf_pair_code_parse(typed, 21, r, t), COFFER_EBADKEY);
	typed[3] = 'U';
	CHECK_RC(cf_pair_code_parse(typed, 20, r, t), COFFER_EBADKEY);
	CHECK_RC(cf_pair_code_parse("", 0, r, t), COFFER_EBADKEY);
}

/* ---- Matching ---- */

static void
match_honest(void)
{
	char name[CF_DEVICE_NAME_MAX + 1];
	size_t idx = 99, nl = 0;
	struct cf_join_request reqs[3];
	struct cf_join_request other;
	uint8_t *p = NULL, r2[CF_PAIR_R_BYTES], t2[CF_PAIR_T_BYTES];
	size_t len = 0;

	/* Another device's request for the same account. */
	CHECK_RC(cf_join_request_make(g_fix.dev[D], g_fix.account_id, "alice", 5,
	    "tablet", 6, r2, t2, &p, &len), 0);
	CHECK_RC(cf_join_request_decode(p, len, &other), 0);
	free(p);
	reqs[0] = other;
	reqs[1] = g_join.req;
	reqs[2] = other;
	reqs[2].nonce[0] ^= 1;		/* a third, garbled one */
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, reqs, 3,
	    &idx, name, &nl), 0);
	CHECK(idx == 1 && nl == 5 && strcmp(name, "phone") == 0);
}

/*
 * The server swapped the keys of the request for its own (valid pop): t
 * no longer matches, which looks like no request at all (COFFER_ENOENT).
 */
static void
match_keys_swapped(void)
{
	char name[CF_DEVICE_NAME_MAX + 1];
	size_t idx, nl;
	struct cf_join_request q = g_join.req;

	memcpy(q.sign_pk, g_fix.dev[E]->sign_pk, CF_SIGN_PK_BYTES);
	memcpy(q.box_pk, g_fix.dev[E]->box_pk, CF_BOX_PK_BYTES);
	cf_pop_sign(g_fix.dev[E], g_fix.account_id, q.pop);
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, &q, 1,
	    &idx, name, &nl), COFFER_ENOENT);
	CHECK(nl == 0 && name[0] == '\0');
	/* Only the box key swapped. */
	q = g_join.req;
	memcpy(q.box_pk, g_fix.dev[E]->box_pk, CF_BOX_PK_BYTES);
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, &q, 1,
	    &idx, name, &nl), COFFER_ENOENT);
	/* The account name or the device name changed. */
	q = g_join.req;
	q.account_name[0] = 'A';
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, &q, 1,
	    &idx, name, &nl), COFFER_ENOENT);
	q = g_join.req;
	q.enc_name[30] ^= 1;
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, &q, 1,
	    &idx, name, &nl), COFFER_ENOENT);
}

/*
 * The request was made for the account id the server claimed, another
 * than the approver's: t against the approver's own id does not match.
 */
static void
match_other_account(void)
{
	char name[CF_DEVICE_NAME_MAX + 1];
	uint8_t other_id[CF_ID_BYTES], r[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES];
	struct cf_join_request q;
	uint8_t *p = NULL;
	size_t len = 0, idx, nl;

	memcpy(other_id, g_fix.account_id, CF_ID_BYTES);
	other_id[31] ^= 0x80;
	CHECK_RC(cf_join_request_make(g_fix.dev[NEW], other_id, "alice", 5,
	    "phone", 5, r, t, &p, &len), 0);
	CHECK_RC(cf_join_request_decode(p, len, &q), 0);
	free(p);
	CHECK_RC(cf_pair_match(g_fix.account_id, r, t, &q, 1, &idx, name, &nl),
	    COFFER_ENOENT);
	/* Rewriting the claimed id to ours does not help (t and the pop). */
	memcpy(q.account_id, g_fix.account_id, CF_ID_BYTES);
	CHECK_RC(cf_pair_match(g_fix.account_id, r, t, &q, 1, &idx, name, &nl),
	    COFFER_ENOENT);
	/* Control: an approver of that account would match it. */
	memcpy(q.account_id, other_id, CF_ID_BYTES);
	CHECK_RC(cf_pair_match(other_id, r, t, &q, 1, &idx, name, &nl), 0);
	sodium_memzero(r, sizeof(r));

	/*
	 * t alone decides: a request claiming the other id whose pop is over
	 * ours, with the code's t computed over the id it claims.
	 */
	q = g_join.req;
	memcpy(q.account_id, other_id, CF_ID_BYTES);
	cf_pair_t(g_join.r, other_id, &q, t);
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, t, &q, 1, &idx, name,
	    &nl), COFFER_ENOENT);
	/* Control: the code's t computed over our id. */
	cf_pair_t(g_join.r, g_fix.account_id, &q, t);
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, t, &q, 1, &idx, name,
	    &nl), 0);
}

/*
 * What t does not cover is still checked: the pop (over the approver's
 * own account id) and the device name (1 to 64 bytes, no NUL).  Each
 * request below matches its code; only the rule under test refuses it.
 */
static void
match_pop_and_name(void)
{
	char name[CF_DEVICE_NAME_MAX + 1];
	struct cf_join_request q;
	uint8_t t[CF_PAIR_T_BYTES], key[CF_KEY_BYTES];
	size_t idx, nl;
	int k;

	/* The pop, corrupted (t is unchanged: it does not cover the pop). */
	q = g_join.req;
	q.pop[5] ^= 1;
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, &q, 1,
	    &idx, name, &nl), NOTAUTH);
	CHECK(nl == 0 && name[0] == '\0');
	/* The device name: k = 0 control, 1 with a NUL inside. */
	if (crypto_pwhash(key, sizeof(key), (const char *)g_join.r,
	    CF_PAIR_R_BYTES, g_join.req.nonce, 2, (size_t)64 << 20,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		fix_die("pwhash");
	for (k = 0; k < 2; k++) {
		const char *dn = k ? "ph\0ne" : "phone";

		q = g_join.req;
		randombytes_buf(q.enc_name, 24);
		crypto_aead_xchacha20poly1305_ietf_encrypt(q.enc_name + 24, NULL,
		    (const uint8_t *)dn, 5, q.nonce, sizeof(q.nonce), NULL,
		    q.enc_name, key);
		q.enc_name_len = 24 + 5 + 16;
		cf_pair_t(g_join.r, g_fix.account_id, &q, t);
		CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, t, &q, 1,
		    &idx, name, &nl), k ? NOTAUTH : 0);
		CHECK(k || (nl == 5 && memcmp(name, "phone", 5) == 0));
	}
	sodium_memzero(key, sizeof(key));
}

/* A grant as bytes: heads (id byte, version, commit byte) as given. */
static void
grant_bytes(struct cf_wr *w, uint64_t dir_version, uint8_t dir_hash_byte,
    const uint8_t (*heads)[3], size_t n)
{
	uint8_t b[CF_ID_BYTES];
	size_t i;

	cf_wr_init(w, CF_GRANT_MAX, 0);
	cf_wr_bytes(w, CF_GRANT_TAG, CF_PAIR_TAG_BYTES);
	cf_wr_u8(w, CF_PAIR_VERSION);
	memset(b, 0x11, sizeof(b));
	cf_wr_bytes(w, b, CF_PAIR_R_BYTES);
	cf_wr_bytes(w, g_fix.account_id, CF_ID_BYTES);
	memset(b, 0x22, sizeof(b));
	cf_wr_bytes(w, b, CF_ID_BYTES);
	cf_wr_u64(w, 1);
	cf_wr_u64(w, dir_version);
	memset(b, dir_hash_byte, sizeof(b));
	cf_wr_bytes(w, b, CF_ID_BYTES);
	cf_wr_u32(w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		memset(b, heads[i][0], sizeof(b));
		cf_wr_bytes(w, b, CF_ID_BYTES);
		cf_wr_u64(w, heads[i][1]);
		memset(b, heads[i][2], sizeof(b));
		cf_wr_bytes(w, b, CF_ID_BYTES);
	}
}

/* FORMAT §17: the grant's heads and directory head, as decoded. */
static void
grant_decode_rules(void)
{
	static const uint8_t ok[2][3] = { { 1, 0, 0 }, { 2, 5, 9 } };
	static const uint8_t dup[2][3] = { { 2, 1, 9 }, { 2, 5, 9 } };
	static const uint8_t down[2][3] = { { 2, 5, 9 }, { 1, 0, 0 } };
	static const uint8_t empty_id[1][3] = { { 1, 0, 9 } };
	struct cf_wr w;
	struct cf_grant *g = NULL;
	uint8_t *p;
	size_t len;
	int k;

	for (k = 0; k < 7; k++) {
		switch (k) {
		case 0:		/* control */
			grant_bytes(&w, 3, 0x33, ok, 2);
			break;
		case 1:		/* control: no directory yet */
			grant_bytes(&w, 0, 0, ok, 2);
			break;
		case 2:		/* no directory, but a directory hash */
			grant_bytes(&w, 0, 0x33, ok, 2);
			break;
		case 3:		/* a drive twice */
			grant_bytes(&w, 3, 0x33, dup, 2);
			break;
		case 4:		/* drives out of order */
			grant_bytes(&w, 3, 0x33, down, 2);
			break;
		case 5:		/* an empty drive with a commit id */
			grant_bytes(&w, 3, 0x33, empty_id, 1);
			break;
		default:	/* another format version, otherwise k = 0 */
			grant_bytes(&w, 3, 0x33, ok, 2);
			break;
		}
		if (cf_wr_finish(&w, &p, &len) != 0)
			fix_die("writer");
		if (k == 6)
			p[CF_PAIR_TAG_BYTES] = CF_PAIR_VERSION + 1;
		CHECK_RC(cf_grant_decode(p, len, &g), k < 2 ? 0 : NOTAUTH);
		CHECK((g != NULL) == (k < 2));
		cf_grant_free(g);
		g = NULL;
		free(p);
	}
}

static void
match_count(void)
{
	char name[CF_DEVICE_NAME_MAX + 1];
	struct cf_join_request reqs[CF_PAIR_PENDING_MAX + 1];
	size_t i, idx, nl;

	/* The same request twice: two matches. */
	reqs[0] = g_join.req;
	reqs[1] = g_join.req;
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, reqs, 2,
	    &idx, name, &nl), NOTAUTH);
	/* A second request that matches differs only where t does not look. */
	reqs[1].pop[0] ^= 1;
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, reqs, 2,
	    &idx, name, &nl), NOTAUTH);
	/* None. */
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, reqs, 0,
	    &idx, name, &nl), COFFER_ENOENT);
	/* More than the server may hold. */
	for (i = 0; i < CF_PAIR_PENDING_MAX + 1; i++) {
		reqs[i] = g_join.req;
		reqs[i].nonce[1] ^= (uint8_t)(i + 1);
	}
	reqs[CF_PAIR_PENDING_MAX] = g_join.req;
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, reqs,
	    CF_PAIR_PENDING_MAX + 1, &idx, name, &nl), NOTAUTH);
	/* Control: the single match among the most allowed. */
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, g_join.t, reqs + 1,
	    CF_PAIR_PENDING_MAX, &idx, name, &nl), 0);
	CHECK(idx == CF_PAIR_PENDING_MAX - 1);
	/* A wrong r with the right t: no match. */
	{
		uint8_t r[CF_PAIR_R_BYTES];

		memcpy(r, g_join.r, sizeof(r));
		r[0] ^= 1;
		CHECK_RC(cf_pair_match(g_fix.account_id, r, g_join.t, reqs + 1,
		    CF_PAIR_PENDING_MAX, &idx, name, &nl), COFFER_ENOENT);
	}
}

/*
 * Re-seal the device name of ${q} (made with ${r}) as ${plain}, the way
 * FORMAT §17 says (k_name = Argon2id(r, salt = nonce)), and give the t
 * the code of such a request would carry.
 */
static void
reseal_name(struct cf_join_request *q, const uint8_t r[static CF_PAIR_R_BYTES],
    const uint8_t *plain, size_t plen, uint8_t t[static CF_PAIR_T_BYTES])
{
	uint8_t key[CF_KEY_BYTES];

	if (crypto_pwhash(key, sizeof(key), (const char *)r, CF_PAIR_R_BYTES,
	    q->nonce, 2, (size_t)64 << 20, crypto_pwhash_ALG_ARGON2ID13) != 0)
		fix_die("pwhash");
	randombytes_buf(q->enc_name, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(q->enc_name + 24, NULL, plain,
	    plen, q->nonce, sizeof(q->nonce), NULL, q->enc_name, key);
	q->enc_name_len = 24 + plen + 16;
	cf_pair_t(r, g_fix.account_id, q, t);
	sodium_memzero(key, sizeof(key));
}

/*
 * The device name in a request is padded: two names of different lengths
 * make requests of one length; a request of the unpadded form made
 * before still matches; a padded name with a bad length or pad does not.
 */
static void
match_name_padding(void)
{
	char name[CF_DEVICE_NAME_MAX + 1];
	uint8_t r[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES];
	uint8_t plain[CF_DEVICE_NAME_PADDED];
	struct cf_join_request q;
	uint8_t *p = NULL;
	size_t len = 0, idx, nl;

	CHECK_RC(cf_join_request_make(g_fix.dev[NEW], g_fix.account_id, "alice",
	    5, "a-much-longer-device-name", 25, r, t, &p, &len), 0);
	CHECK(len == g_join.len);
	CHECK_RC(cf_join_request_decode(p, len, &q), 0);
	CHECK(q.enc_name_len == CF_PAIR_ENC_NAME_MAX &&
	    g_join.req.enc_name_len == CF_PAIR_ENC_NAME_MAX);
	CHECK_RC(cf_pair_match(g_fix.account_id, r, t, &q, 1, &idx, name, &nl),
	    0);
	CHECK(nl == 25 && strcmp(name, "a-much-longer-device-name") == 0);
	free(p);
	/* The unpadded form of before. */
	q = g_join.req;
	reseal_name(&q, g_join.r, (const uint8_t *)"phone", 5, t);
	CHECK(q.enc_name_len == 24 + 5 + 16);
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, t, &q, 1, &idx, name,
	    &nl), 0);
	CHECK(nl == 5 && strcmp(name, "phone") == 0);
	/* Bad padding: a pad byte set; a length past the name, over a NUL. */
	CHECK_RC(cf_device_name_pad("phone", 5, plain), 0);
	plain[sizeof(plain) - 1] = 'x';
	reseal_name(&q, g_join.r, plain, sizeof(plain), t);
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, t, &q, 1, &idx, name,
	    &nl), NOTAUTH);
	CHECK(nl == 0 && name[0] == '\0');
	CHECK_RC(cf_device_name_pad("phone", 5, plain), 0);
	plain[0] = 9;
	reseal_name(&q, g_join.r, plain, sizeof(plain), t);
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, t, &q, 1, &idx, name,
	    &nl), NOTAUTH);
	/* Control: the same plaintext, well formed. */
	plain[0] = 5;
	reseal_name(&q, g_join.r, plain, sizeof(plain), t);
	CHECK_RC(cf_pair_match(g_fix.account_id, g_join.r, t, &q, 1, &idx, name,
	    &nl), 0);
	sodium_memzero(r, sizeof(r));
}

/* The withdrawal signature: its own purpose, bound to the account and the device. */
static void
withdraw_sig(void)
{
	uint8_t sig[CF_SIG_BYTES], other[CF_ID_BYTES], pop[CF_SIG_BYTES];
	const struct cf_device_keys *k = g_fix.dev[NEW];

	cf_join_withdraw_sign(k, g_fix.account_id, sig);
	CHECK_RC(cf_join_withdraw_verify(k->sign_pk, g_fix.account_id,
	    k->device_id, sig), 0);
	memcpy(other, g_fix.account_id, CF_ID_BYTES);
	other[0] ^= 1;
	CHECK_RC(cf_join_withdraw_verify(k->sign_pk, other, k->device_id, sig),
	    NOTAUTH);
	CHECK_RC(cf_join_withdraw_verify(k->sign_pk, g_fix.account_id,
	    g_fix.dev[B]->device_id, sig), NOTAUTH);
	CHECK_RC(cf_join_withdraw_verify(g_fix.dev[B]->sign_pk,
	    g_fix.account_id, k->device_id, sig), NOTAUTH);
	/* The proof of possession of the request is no withdrawal. */
	cf_pop_sign(k, g_fix.account_id, pop);
	CHECK_RC(cf_join_withdraw_verify(k->sign_pk, g_fix.account_id,
	    k->device_id, pop), NOTAUTH);
	sig[0] ^= 1;
	CHECK_RC(cf_join_withdraw_verify(k->sign_pk, g_fix.account_id,
	    k->device_id, sig), NOTAUTH);
}

/* ---- Approval ---- */

/* The chain after A adds the new device from its request; the grant. */
struct appr {
	struct fix f;
	struct cf_grant g;
	struct cf_drive_head heads[2];
};

static void
appr_init(struct appr *a)
{
	struct cf_signer s;
	uint8_t *e = NULL;
	size_t len = 0;

	fix_init(&a->f);
	fix_add(&a->f, A, B);
	/* A second device joins first, so there is another add entry. */
	fix_add(&a->f, A, D);
	/* The request was made for g_fix's account: redo its pop for ours. */
	s = fix_signer(&a->f, A);
	{
		uint8_t pop[CF_SIG_BYTES];

		cf_pop_sign(g_fix.dev[NEW], a->f.account_id, pop);
		if (cf_entry_add(a->f.c, &s, g_fix.dev[NEW]->sign_pk,
		    g_fix.dev[NEW]->box_pk, pop, "phone", 5,
		    a->f.keys[a->f.nkeys - 1], ++a->f.time, &e, &len) != 0)
			fix_die("add");
	}
	fix_push(&a->f, e, len);
	memset(&a->g, 0, sizeof(a->g));
	memcpy(a->g.r, g_join.r, CF_PAIR_R_BYTES);
	memcpy(a->g.account_id, a->f.account_id, CF_ID_BYTES);
	a->g.chain_seq = a->f.c->n - 1;
	memcpy(a->g.entry_hash, a->f.c->hash[a->g.chain_seq], CF_ID_BYTES);
	a->g.dir_version = 3;
	memset(a->g.dir_hash, 0x33, CF_ID_BYTES);
	memset(a->heads, 0, sizeof(a->heads));
	a->heads[0].drive_id[0] = 0x10;
	a->heads[0].version = 7;
	memset(a->heads[0].commit_id, 0x77, CF_ID_BYTES);
	a->heads[1].drive_id[0] = 0x20;		/* an empty drive */
	a->g.ndrives = 2;
	a->g.drives = a->heads;
}

/* An approval of ${grant} (raw bytes), signed by ${signer}, for the new device. */
static void
appr_raw(struct appr *a, const struct cf_device_keys *signer,
    const uint8_t *grant, size_t glen, uint8_t **outp, size_t *lenp)
{
	if (cf_approval_make_raw(signer, a->f.account_id,
	    g_fix.dev[NEW]->device_id, g_fix.dev[NEW]->box_pk, grant, glen,
	    outp, lenp) != 0)
		fix_die("approval");
}

/* An approval of grant ${g} signed by ${signer}. */
static void
appr_of(struct appr *a, const struct cf_device_keys *signer,
    const struct cf_grant *g, uint8_t **outp, size_t *lenp)
{
	uint8_t *gb = NULL;
	size_t glen = 0;

	if (cf_grant_encode(g, &gb, &glen) != 0)
		fix_die("grant");
	appr_raw(a, signer, gb, glen, outp, lenp);
	cf_wipefree(gb, glen);
}

static int
appr_open(struct appr *a, const uint8_t *buf, size_t len)
{
	struct cf_grant *g = NULL;
	int rc;

	rc = cf_approval_open(a->f.c, g_fix.dev[NEW], g_join.r, buf, len, &g);
	CHECK(rc == 0 ? g != NULL : g == NULL);
	cf_grant_free(g);
	return rc;
}

static void
approval_honest(void)
{
	struct appr a;
	struct cf_join_request q;
	struct cf_grant *g = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	appr_init(&a);
	/* Through the approver's front door, from the request. */
	q = g_join.req;
	memcpy(q.account_id, a.f.account_id, CF_ID_BYTES);
	CHECK_RC(cf_approval_make(a.f.dev[A], &q, &a.g, &buf, &len), 0);
	CHECK_RC(cf_approval_open(a.f.c, g_fix.dev[NEW], g_join.r, buf, len,
	    &g), 0);
	if (g != NULL) {
		CHECK(g->chain_seq == a.g.chain_seq && g->dir_version == 3 &&
		    g->ndrives == 2 && g->drives[0].version == 7 &&
		    memcmp(g->entry_hash, a.g.entry_hash, CF_ID_BYTES) == 0 &&
		    memcmp(g->dir_hash, a.g.dir_hash, CF_ID_BYTES) == 0 &&
		    memcmp(&g->drives[1], &a.heads[1], sizeof(a.heads[1])) == 0);
	}
	cf_grant_free(g);
	free(buf);
	/* The grant must name the request's account. */
	CHECK_RC(cf_approval_make(a.f.dev[A], &g_join.req, &a.g, &buf, &len),
	    COFFER_EINVAL);
	/* Heads out of order are the approver's mistake. */
	a.heads[1].drive_id[0] = 0x01;
	CHECK_RC(cf_approval_make(a.f.dev[A], &q, &a.g, &buf, &len),
	    COFFER_EINVAL);
	fix_free(&a.f);
}

/* No r in the grant, or another r. */
static void
approval_r(void)
{
	struct appr a;
	uint8_t *buf = NULL, *gb = NULL;
	size_t len = 0, glen = 0;

	appr_init(&a);
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);		/* control */
	CHECK_RC(appr_open(&a, buf, len), 0);
	free(buf);
	/* The grant without its r field. */
	CHECK_RC(cf_grant_encode(&a.g, &gb, &glen), 0);
	memmove(gb + 5, gb + 5 + CF_PAIR_R_BYTES, glen - 5 - CF_PAIR_R_BYTES);
	appr_raw(&a, a.f.dev[A], gb, glen - CF_PAIR_R_BYTES, &buf, &len);
	CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
	free(buf);
	cf_wipefree(gb, glen);
	/* A zero r, and r off by one bit. */
	memset(a.g.r, 0, CF_PAIR_R_BYTES);
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);
	CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
	free(buf);
	memcpy(a.g.r, g_join.r, CF_PAIR_R_BYTES);
	a.g.r[5] ^= 0x01;
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);
	CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
	free(buf);
	fix_free(&a.f);
}

/* Signed by a stranger, or by a trusted device that did not add us. */
static void
approval_signer(void)
{
	struct appr a;
	uint8_t *buf = NULL;
	size_t len = 0;

	appr_init(&a);
	appr_of(&a, a.f.dev[E], &a.g, &buf, &len);
	CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
	free(buf);
	appr_of(&a, a.f.dev[B], &a.g, &buf, &len);
	CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
	free(buf);
	/* A's approval with a signature by B's key under A's id. */
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);
	crypto_sign_detached(buf + len - CF_SIG_BYTES, NULL, buf,
	    len - CF_SIG_BYTES, a.f.dev[B]->sign_sk);
	CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
	free(buf);
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);		/* control */
	CHECK_RC(appr_open(&a, buf, len), 0);
	free(buf);
	fix_free(&a.f);
}

/* A grant for another entry: genesis, another device's add, a wrong seq. */
static void
approval_entry(void)
{
	struct appr a;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t seq;

	appr_init(&a);
	seq = a.g.chain_seq;
	/* The add entry of device D, signed by A too. */
	a.g.chain_seq = seq - 1;
	memcpy(a.g.entry_hash, a.f.c->hash[seq - 1], CF_ID_BYTES);
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);
	CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
	free(buf);
	/* Genesis. */
	a.g.chain_seq = 0;
	memcpy(a.g.entry_hash, a.f.c->hash[0], CF_ID_BYTES);
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);
	CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
	free(buf);
	/* Our entry's hash under another seq, and past the chain. */
	memcpy(a.g.entry_hash, a.f.c->hash[seq], CF_ID_BYTES);
	a.g.chain_seq = seq + 1;
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);
	CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
	free(buf);
	a.g.chain_seq = seq;					/* control */
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);
	CHECK_RC(appr_open(&a, buf, len), 0);
	free(buf);
	fix_free(&a.f);
}

/* Another account, another recipient, a tampered outer record. */
static void
approval_outer(void)
{
	struct appr a;
	uint8_t *buf = NULL;
	size_t len = 0, i, fails = 0;
	uint8_t other[CF_ID_BYTES];

	appr_init(&a);
	/* The grant names another account. */
	a.g.account_id[0] ^= 1;
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);
	CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
	free(buf);
	a.g.account_id[0] ^= 1;
	/* Addressed to another device (sealed to us all the same). */
	memcpy(other, g_fix.dev[NEW]->device_id, CF_ID_BYTES);
	other[0] ^= 1;
	{
		uint8_t *gb = NULL;
		size_t glen = 0;

		CHECK_RC(cf_grant_encode(&a.g, &gb, &glen), 0);
		CHECK_RC(cf_approval_make_raw(a.f.dev[A], a.f.account_id, other,
		    g_fix.dev[NEW]->box_pk, gb, glen, &buf, &len), 0);
		CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
		free(buf);
		/* Sealed to another key. */
		CHECK_RC(cf_approval_make_raw(a.f.dev[A], a.f.account_id,
		    g_fix.dev[NEW]->device_id, a.f.dev[E]->box_pk, gb, glen,
		    &buf, &len), 0);
		CHECK_RC(appr_open(&a, buf, len), NOTAUTH);
		free(buf);
		cf_wipefree(gb, glen);
	}
	/* Another format version (the decoder alone: no signature checked). */
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);
	{
		struct cf_approval *ap = NULL;

		CHECK_RC(cf_approval_decode(buf, len, &ap), 0);	/* control */
		cf_approval_free(ap);
		ap = NULL;
		buf[CF_PAIR_TAG_BYTES] = CF_PAIR_VERSION + 1;
		CHECK_RC(cf_approval_decode(buf, len, &ap), NOTAUTH);
		CHECK(ap == NULL);
	}
	free(buf);
	/* Every byte of an honest approval flipped. */
	appr_of(&a, a.f.dev[A], &a.g, &buf, &len);
	for (i = 0; i < len; i++) {
		buf[i] ^= 0x04;
		if (appr_open(&a, buf, len) != NOTAUTH)
			fails++;
		buf[i] ^= 0x04;
	}
	for (i = 0; i < len; i++)
		if (appr_open(&a, buf, i) != NOTAUTH)
			fails++;
	CHECK(fails == 0);
	CHECK_RC(appr_open(&a, buf, len), 0);			/* control */
	free(buf);
	fix_free(&a.f);
}

/* ---- Safety code ---- */

static void
safety_code(void)
{
	uint8_t acct[CF_ID_BYTES], head[CF_ID_BYTES], dh[CF_ID_BYTES];
	struct cf_drive_head d[2], e[2];
	char base[CF_SAFETY_CODE_BYTES], x[CF_SAFETY_CODE_BYTES];
	size_t i;

#define SC(a_, s_, h_, v_, dh_, d_, n_)					\
	cf_safety_code((a_), (s_), (h_), (v_), (dh_), (d_), (n_), x)
	memset(acct, 0xaa, sizeof(acct));
	memset(head, 0x11, sizeof(head));
	memset(dh, 0x22, sizeof(dh));
	memset(d, 0, sizeof(d));
	d[0].drive_id[0] = 1;
	d[0].version = 4;
	memset(d[0].commit_id, 0x44, CF_ID_BYTES);
	d[1].drive_id[0] = 2;
	CHECK_RC(cf_safety_code(acct, 9, head, 3, dh, d, 2, base), 0);
	CHECK(strlen(base) == CF_SAFETY_CODE_CHARS);
	for (i = 0; i < CF_SAFETY_CODE_CHARS; i++)
		CHECK(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", base[i]) != NULL);
	/* Identical views, identical codes. */
	memcpy(e, d, sizeof(e));
	CHECK_RC(SC(acct, 9, head, 3, dh, e, 2), 0);
	CHECK(strcmp(x, base) == 0);
	/* Any head different: a different code. */
	acct[31] ^= 1;
	CHECK(SC(acct, 9, head, 3, dh, d, 2) == 0 && strcmp(x, base) != 0);
	acct[31] ^= 1;
	CHECK(SC(acct, 10, head, 3, dh, d, 2) == 0 && strcmp(x, base) != 0);
	head[0] ^= 1;
	CHECK(SC(acct, 9, head, 3, dh, d, 2) == 0 && strcmp(x, base) != 0);
	head[0] ^= 1;
	CHECK(SC(acct, 9, head, 4, dh, d, 2) == 0 && strcmp(x, base) != 0);
	dh[7] ^= 1;
	CHECK(SC(acct, 9, head, 3, dh, d, 2) == 0 && strcmp(x, base) != 0);
	dh[7] ^= 1;
	e[0].version = 5;
	CHECK(SC(acct, 9, head, 3, dh, e, 2) == 0 && strcmp(x, base) != 0);
	e[0].version = 4;
	e[0].commit_id[9] ^= 1;
	CHECK(SC(acct, 9, head, 3, dh, e, 2) == 0 && strcmp(x, base) != 0);
	e[0].commit_id[9] ^= 1;
	e[1].drive_id[5] = 1;
	CHECK(SC(acct, 9, head, 3, dh, e, 2) == 0 && strcmp(x, base) != 0);
	/* A drive missing. */
	CHECK(SC(acct, 9, head, 3, dh, d, 1) == 0 && strcmp(x, base) != 0);
	/* Unsorted, or a version 0 with a commit: the caller's mistake. */
	CHECK_RC(SC(acct, 9, head, 3, dh, d + 1, 1), 0);
	e[0] = d[1];
	e[1] = d[0];
	CHECK_RC(SC(acct, 9, head, 3, dh, e, 2), COFFER_EINVAL);
	e[0] = d[1];
	e[0].commit_id[0] = 1;
	CHECK_RC(SC(acct, 9, head, 3, dh, e, 1), COFFER_EINVAL);
#undef SC
}

/* ---- Recovery ---- */

static void
recovery_chain(void)
{
	struct fix f;
	uint8_t s1[CF_RECOVERY_SECRET_BYTES], s2[CF_RECOVERY_SECRET_BYTES];
	uint8_t s3[CF_RECOVERY_SECRET_BYTES], other[CF_ID_BYTES];

	fix_init(&f);
	randombytes_buf(s1, sizeof(s1));
	randombytes_buf(s2, sizeof(s2));
	randombytes_buf(s3, sizeof(s3));
	/* Register the key of s1, then replace it by s2's. */
	if (cf_recovery_derive(s1, f.account_id, &f.rk[1]) != 0 ||
	    cf_recovery_derive(s2, f.account_id, &f.rk[2]) != 0)
		fix_die("derive");
	fix_setrk(&f, A, 1);
	CHECK_RC(cf_recovery_check_chain(f.c, s1, f.account_id), 0);
	CHECK_RC(cf_recovery_check_chain(f.c, s2, f.account_id), NOTAUTH);
	fix_setrk(&f, A, 2);
	CHECK_RC(cf_recovery_check_chain(f.c, s2, f.account_id), 0);
	/* The key the chain replaced. */
	CHECK_RC(cf_recovery_check_chain(f.c, s1, f.account_id), COFFER_EBADKEY);
	/* A key the chain never registered. */
	CHECK_RC(cf_recovery_check_chain(f.c, s3, f.account_id), NOTAUTH);
	/* The chain of another account. */
	memcpy(other, f.account_id, CF_ID_BYTES);
	other[0] ^= 1;
	CHECK_RC(cf_recovery_check_chain(f.c, s2, other), NOTAUTH);
	sodium_memzero(s1, sizeof(s1));
	sodium_memzero(s2, sizeof(s2));
	fix_free(&f);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	join_setup();
	T_RUN(request_decode);
	T_RUN(request_low_order);
	T_RUN(code_text);
	T_RUN(match_honest);
	T_RUN(match_keys_swapped);
	T_RUN(match_other_account);
	T_RUN(match_pop_and_name);
	T_RUN(match_count);
	T_RUN(match_name_padding);
	T_RUN(withdraw_sig);
	T_RUN(grant_decode_rules);
	T_RUN(approval_honest);
	T_RUN(approval_r);
	T_RUN(approval_signer);
	T_RUN(approval_entry);
	T_RUN(approval_outer);
	T_RUN(safety_code);
	T_RUN(recovery_chain);
	join_teardown();
	T_DONE("pair");
}
