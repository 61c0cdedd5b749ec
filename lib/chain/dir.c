/*
 * The drive directory (DESIGN §2, §4; docs/FORMAT.md §3, §16).
 *
 *   dir    = "CFDR" || u8 version=1 || account_id[32] || u64 dir_version
 *            || prev_hash[32] || author_id[32] || u64 time || u64 chain_seq
 *            || chain_head[32] || u32 n || n x drive || sig[64]
 *   drive  = drive_id[32] || u64 name_epoch || name_box[296]
 *            || u32 m || m x (secret_id[32] || u64 secret_epoch || wrapped_secret[77])
 *            || u32 k || k x (u64 epoch || key_id[32] || wrapped_epoch_key[77])
 *   sig    = Ed25519(author, "coffer-dir-v1" || every byte before sig)
 *   dir_hash = H("coffer-dir-hash-v1" || dir)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "crypto/kdf.h"
#include "crypto/labels.h"
#include "crypto/sign.h"
#include "crypto/wrap.h"
#include "util/buf.h"
#include "dir.h"


#define DIR_NONCE_BYTES		crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define DIR_MAC_BYTES		crypto_aead_xchacha20poly1305_ietf_ABYTES

/* Fixed parts of the encoding (FORMAT §16). */
#define DIR_HDR_BYTES		(CF_DIR_TAG_BYTES + 1 + CF_ID_BYTES + 8 + \
				 CF_ID_BYTES + CF_ID_BYTES + 8 + 8 + CF_ID_BYTES + 4)
#define DIR_SECRET_BYTES	(CF_ID_BYTES + 8 + CF_DIR_WRAPPED_BYTES)
#define DIR_KEY_BYTES		(8 + CF_ID_BYTES + CF_DIR_WRAPPED_BYTES)
/* Smallest drive: one secret, no epoch keys. */
#define DIR_DRIVE_MIN_BYTES	(CF_ID_BYTES + 8 + CF_DIR_NAME_BOX_BYTES + 4 + \
				 DIR_SECRET_BYTES + 4)
/* Wrap contexts: account_id || drive_id || key id || u64 epoch. */
#define DIR_CTX_BYTES		(CF_ID_BYTES * 3 + 8)
/* Name box AD: account_id || u64 epoch || drive_id. */
#define DIR_NAME_AD_BYTES	(CF_ID_BYTES + 8 + CF_ID_BYTES)

_Static_assert(CF_DIR_NAME_BOX_BYTES ==
    DIR_NONCE_BYTES + CF_DIR_NAME_PLAIN_BYTES + DIR_MAC_BYTES, "name box");
_Static_assert(CF_DIR_NAME_MAX <= UINT8_MAX, "name length is a u8");
_Static_assert(DIR_CTX_BYTES <= CF_WRAP_CTX_MAX, "wrap context");
_Static_assert(CF_DIR_MAX <= UINT32_MAX, "record length");
_Static_assert(DIR_HDR_BYTES == 161, "FORMAT §16 header");

void
cf_dir_hash(const uint8_t *rec, size_t len, uint8_t hash[static CF_ID_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, CF_ID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_DIR_HASH,
	    CF_LABEL_LEN(CF_LABEL_DIR_HASH));
	if (len > 0)
		crypto_generichash_update(&st, rec, len);
	crypto_generichash_final(&st, hash, CF_ID_BYTES);
}

/* ---- Name boxes ---- */

/* key = H_{K_e}("coffer-dirname-v1"); ad = account_id || u64 epoch || drive_id */
static void
name_key_ad(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    const uint8_t drive_id[static CF_ID_BYTES], uint8_t key[static CF_KEY_BYTES],
    uint8_t ad[static DIR_NAME_AD_BYTES])
{
	crypto_generichash(key, CF_KEY_BYTES, (const uint8_t *)CF_LABEL_DIRNAME,
	    CF_LABEL_LEN(CF_LABEL_DIRNAME), ke, CF_KEY_BYTES);
	memcpy(ad, account_id, CF_ID_BYTES);
	cf_be64enc(ad + CF_ID_BYTES, epoch);
	memcpy(ad + CF_ID_BYTES + 8, drive_id, CF_ID_BYTES);
}

/* 1 if ${name} is a valid drive name: 1..255 bytes, no NUL. */
static int
name_ok(const char *name, size_t namelen)
{
	return name != NULL && namelen >= 1 && namelen <= CF_DIR_NAME_MAX &&
	    memchr(name, '\0', namelen) == NULL;
}

int
cf_dir_name_seal(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    const uint8_t drive_id[static CF_ID_BYTES], const char *name,
    size_t namelen, uint8_t box[static CF_DIR_NAME_BOX_BYTES])
{
	uint8_t key[CF_KEY_BYTES], ad[DIR_NAME_AD_BYTES];
	uint8_t plain[CF_DIR_NAME_PLAIN_BYTES];
	int r;

	memset(box, 0, CF_DIR_NAME_BOX_BYTES);
	if (!name_ok(name, namelen)) {
		r = COFFER_EINVAL;
		goto out;
	}
	name_key_ad(ke, account_id, epoch, drive_id, key, ad);
	memset(plain, 0, sizeof(plain));
	plain[0] = (uint8_t)namelen;
	memcpy(plain + 1, name, namelen);
	randombytes_buf(box, DIR_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box + DIR_NONCE_BYTES, NULL,
	    plain, sizeof(plain), ad, sizeof(ad), NULL, box, key);
	r = 0;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(plain, sizeof(plain));
	return r;
}

int
cf_dir_name_open(const uint8_t ke[static CF_KEY_BYTES],
    const uint8_t account_id[static CF_ID_BYTES], uint64_t epoch,
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t box[static CF_DIR_NAME_BOX_BYTES],
    char name[static CF_DIR_NAME_MAX + 1], size_t *namelenp)
{
	uint8_t key[CF_KEY_BYTES], ad[DIR_NAME_AD_BYTES];
	uint8_t plain[CF_DIR_NAME_PLAIN_BYTES];
	size_t len, i;
	uint8_t pad = 0;
	int r;

	memset(name, 0, CF_DIR_NAME_MAX + 1);
	*namelenp = 0;
	name_key_ad(ke, account_id, epoch, drive_id, key, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL,
	    box + DIR_NONCE_BYTES, CF_DIR_NAME_BOX_BYTES - DIR_NONCE_BYTES,
	    ad, sizeof(ad), box, key) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	len = plain[0];
	for (i = 1 + len; i < sizeof(plain); i++)
		pad |= plain[i];
	if (pad != 0 || !name_ok((const char *)plain + 1, len)) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	memcpy(name, plain + 1, len);
	*namelenp = len;
	r = 0;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(plain, sizeof(plain));
	return r;
}

/* ---- Decoding ---- */

static void
drive_clear(struct cf_dir_drive *v)
{
	free(v->secrets);
	free(v->keys);
	if (v->name != NULL)
		cf_wipefree(v->name, CF_DIR_NAME_MAX + 1);
	v->secrets = NULL;
	v->keys = NULL;
	v->name = NULL;
	v->nsecrets = v->nkeys = v->namelen = 0;
}

void
cf_dir_free(struct cf_dir *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->ndrives; i++)
		drive_clear(&d->drives[i]);
	free(d->drives);
	free(d->raw);
	free(d);
}

/* Read one drive; structural rules only (FORMAT §16). */
static void
decode_drive(struct cf_rd *rd, struct cf_dir_drive *v)
{
	uint32_t m, k, i;
	uint64_t last;

	cf_rd_copy(rd, v->drive_id, CF_ID_BYTES);
	v->name_epoch = cf_rd_u64(rd);
	cf_rd_copy(rd, v->name_box, CF_DIR_NAME_BOX_BYTES);
	if (v->name_epoch == 0)
		cf_rd_fail(rd);

	m = cf_rd_u32(rd);
	if (m == 0 || m > CF_DIR_SECRETS_MAX ||
	    m > cf_rd_left(rd) / DIR_SECRET_BYTES)
		cf_rd_fail(rd);
	if (rd->err)
		return;
	if ((v->secrets = calloc(m, sizeof(*v->secrets))) == NULL) {
		rd->err = COFFER_ENOMEM;
		return;
	}
	v->nsecrets = m;
	for (i = 0, last = 0; i < m; i++) {
		cf_rd_copy(rd, v->secrets[i].id, CF_ID_BYTES);
		v->secrets[i].epoch = cf_rd_u64(rd);
		cf_rd_copy(rd, v->secrets[i].wrapped, CF_DIR_WRAPPED_BYTES);
		if (v->secrets[i].epoch <= last)
			cf_rd_fail(rd);
		last = v->secrets[i].epoch;
	}

	k = cf_rd_u32(rd);
	if (k > CF_DIR_KEYS_MAX || k > cf_rd_left(rd) / DIR_KEY_BYTES)
		cf_rd_fail(rd);
	if (rd->err || k == 0)
		return;
	if ((v->keys = calloc(k, sizeof(*v->keys))) == NULL) {
		rd->err = COFFER_ENOMEM;
		return;
	}
	v->nkeys = k;
	/* Every drive key needs a secret in force: epoch >= the first's. */
	for (i = 0, last = v->secrets[0].epoch - 1; i < k; i++) {
		v->keys[i].epoch = cf_rd_u64(rd);
		cf_rd_copy(rd, v->keys[i].key_id, CF_ID_BYTES);
		cf_rd_copy(rd, v->keys[i].wrapped, CF_DIR_WRAPPED_BYTES);
		if (v->keys[i].epoch <= last)
			cf_rd_fail(rd);
		last = v->keys[i].epoch;
	}
}

int
cf_dir_decode(const uint8_t *rec, size_t len, struct cf_dir **dp)
{
	struct cf_dir *d = NULL;
	struct cf_rd rd;
	uint32_t n, i;
	int r;

	*dp = NULL;
	if (rec == NULL || len > CF_DIR_MAX) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	cf_rd_init(&rd, rec, len, COFFER_ENOTAUTHENTIC);
	cf_rd_expect(&rd, CF_DIR_TAG, CF_DIR_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_DIR_VERSION)
		cf_rd_fail(&rd);
	cf_rd_copy(&rd, d->account_id, CF_ID_BYTES);
	d->version = cf_rd_u64(&rd);
	cf_rd_copy(&rd, d->prev_hash, CF_ID_BYTES);
	cf_rd_copy(&rd, d->author_id, CF_ID_BYTES);
	d->time = cf_rd_u64(&rd);
	d->chain_seq = cf_rd_u64(&rd);
	cf_rd_copy(&rd, d->chain_head, CF_ID_BYTES);
	n = cf_rd_u32(&rd);
	if (d->version == 0 || n > CF_DIR_DRIVES_MAX ||
	    n > cf_rd_left(&rd) / DIR_DRIVE_MIN_BYTES)
		cf_rd_fail(&rd);
	if ((r = rd.err) != 0)
		goto out;
	if (n > 0 && (d->drives = calloc(n, sizeof(*d->drives))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	d->ndrives = n;
	for (i = 0; i < n && rd.err == 0; i++) {
		decode_drive(&rd, &d->drives[i]);
		/* Strictly increasing by drive id (public ids). */
		if (i > 0 && memcmp(d->drives[i - 1].drive_id,
		    d->drives[i].drive_id, CF_ID_BYTES) >= 0)
			cf_rd_fail(&rd);
	}
	cf_rd_copy(&rd, d->sig, CF_SIG_BYTES);
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	if ((d->raw = malloc(len)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	memcpy(d->raw, rec, len);
	d->rawlen = len;
	cf_dir_hash(rec, len, d->hash);
	*dp = d;
	d = NULL;
	r = 0;
out:
	cf_dir_free(d);
	return r;
}

/* ---- Unwrapping ---- */

/* ctx = account_id || drive_id || id || u64 epoch */
static void
wrap_ctx(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES], const uint8_t id[static CF_ID_BYTES],
    uint64_t epoch, uint8_t ctx[static DIR_CTX_BYTES])
{
	memcpy(ctx, account_id, CF_ID_BYTES);
	memcpy(ctx + CF_ID_BYTES, drive_id, CF_ID_BYTES);
	memcpy(ctx + 2 * CF_ID_BYTES, id, CF_ID_BYTES);
	cf_be64enc(ctx + 3 * CF_ID_BYTES, epoch);
}

/*
 * unwrap_secret(account_id, drive_id, s, ks, nks, out):
 * S from its entry: under K_{s->epoch}, bound to the account, the drive,
 * its id and its epoch; key_id(S) must be the id listed.
 */
static int
unwrap_secret(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES], const struct cf_dir_secret *s,
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks,
    uint8_t out[static CF_KEY_BYTES])
{
	uint8_t ctx[DIR_CTX_BYTES], id[CF_ID_BYTES];
	int r;

	sodium_memzero(out, CF_KEY_BYTES);
	if (s->epoch == 0 || s->epoch > nks) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	wrap_ctx(account_id, drive_id, s->id, s->epoch, ctx);
	if ((r = cf_wrap_open(ks[s->epoch - 1], CF_LABEL_WRAP_SECRET, ctx,
	    sizeof(ctx), s->wrapped, CF_DIR_WRAPPED_BYTES, out,
	    CF_KEY_BYTES)) != 0)
		goto out;
	cf_key_id(out, id);
	if (memcmp(id, s->id, CF_ID_BYTES) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	r = 0;
out:
	if (r != 0)
		sodium_memzero(out, CF_KEY_BYTES);
	return r;
}

/*
 * unwrap_key(account_id, drive_id, k, ks, nks, dkey, content):
 * D_e from its entry: under K_e of its own epoch e, bound to the account,
 * the drive, its key id and e; the content key derived from it must have
 * the id listed.
 */
static int
unwrap_key(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES], const struct cf_dir_key *k,
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks,
    uint8_t dkey[static CF_KEY_BYTES], uint8_t content[static CF_KEY_BYTES])
{
	uint8_t ctx[DIR_CTX_BYTES], id[CF_ID_BYTES];
	int r;

	sodium_memzero(dkey, CF_KEY_BYTES);
	sodium_memzero(content, CF_KEY_BYTES);
	if (k->epoch == 0 || k->epoch > nks) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	wrap_ctx(account_id, drive_id, k->key_id, k->epoch, ctx);
	if ((r = cf_wrap_open(ks[k->epoch - 1], CF_LABEL_WRAP_EPOCH, ctx,
	    sizeof(ctx), k->wrapped, CF_DIR_WRAPPED_BYTES, dkey,
	    CF_KEY_BYTES)) != 0)
		goto out;
	cf_kdf_derive(content, dkey, CF_KDF_CONTENT, CF_LABEL_KDF_EPOCH);
	cf_key_id(content, id);
	if (memcmp(id, k->key_id, CF_ID_BYTES) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	r = 0;
out:
	if (r != 0) {
		sodium_memzero(dkey, CF_KEY_BYTES);
		sodium_memzero(content, CF_KEY_BYTES);
	}
	return r;
}

/* ---- Verification ---- */

/* For qsort of drive indices by name (raw bytes, shorter first on a tie). */
static int
cmp_names(const void *a, const void *b)
{
	const struct cf_dir_drive *x = *(const struct cf_dir_drive *const *)a;
	const struct cf_dir_drive *y = *(const struct cf_dir_drive *const *)b;
	size_t n = x->namelen < y->namelen ? x->namelen : y->namelen;
	int c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	return (x->namelen > y->namelen) - (x->namelen < y->namelen);
}

/* ${*dupp} = 1 if two drives share a name (names must be set). */
static int
names_dup(const struct cf_dir *d, int *dupp)
{
	const struct cf_dir_drive **v = NULL;
	size_t i;
	int r;

	*dupp = 0;
	if (d->ndrives < 2) {
		r = 0;
		goto out;
	}
	if ((v = calloc(d->ndrives, sizeof(*v))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < d->ndrives; i++)
		v[i] = &d->drives[i];
	qsort(v, d->ndrives, sizeof(*v), cmp_names);
	for (i = 1; i < d->ndrives; i++)
		if (cmp_names(&v[i - 1], &v[i]) == 0)
			*dupp = 1;
	r = 0;
out:
	free(v);
	return r;
}

/*
 * verify_drive(d, v, emax, ks, nks):
 * Open the name box (setting v->name), unwrap and check every secret and
 * drive key of ${v}, all epochs at most ${emax}; no key id twice.
 */
static int
verify_drive(const struct cf_dir *d, struct cf_dir_drive *v, uint64_t emax,
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks)
{
	uint8_t s[CF_KEY_BYTES], dkey[CF_KEY_BYTES], content[CF_KEY_BYTES];
	size_t i, j;
	int r;

	if (v->name_epoch == 0 || v->name_epoch > emax) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if (v->name == NULL &&
	    (v->name = malloc(CF_DIR_NAME_MAX + 1)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if ((r = cf_dir_name_open(ks[v->name_epoch - 1], d->account_id,
	    v->name_epoch, v->drive_id, v->name_box, v->name,
	    &v->namelen)) != 0)
		goto out;
	for (i = 0; i < v->nsecrets; i++) {
		if (v->secrets[i].epoch > emax) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		if ((r = unwrap_secret(d->account_id, v->drive_id,
		    &v->secrets[i], ks, nks, s)) != 0)
			goto out;
	}
	for (i = 0; i < v->nkeys; i++) {
		if (v->keys[i].epoch > emax) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		for (j = 0; j < i; j++)
			if (memcmp(v->keys[j].key_id, v->keys[i].key_id,
			    CF_ID_BYTES) == 0) {
				r = COFFER_ENOTAUTHENTIC;
				goto out;
			}
		if ((r = unwrap_key(d->account_id, v->drive_id, &v->keys[i],
		    ks, nks, dkey, content)) != 0)
			goto out;
	}
	r = 0;
out:
	sodium_memzero(s, sizeof(s));
	sodium_memzero(dkey, sizeof(dkey));
	sodium_memzero(content, sizeof(content));
	return r;
}

int
cf_dir_check_signed(const struct cf_chain *c, const struct cf_dir *d)
{
	const struct cf_chain_device *author;
	int r;

	if (c == NULL || d == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	if (d->raw == NULL || d->rawlen < CF_SIG_BYTES || c->n == 0 ||
	    memcmp(d->account_id, c->account_id, CF_ID_BYTES) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/* Version 1 and only version 1 starts the line. */
	if ((d->version == 1) !=
	    (sodium_is_zero(d->prev_hash, CF_ID_BYTES) != 0)) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/* The named head in the verifier's chain; the author trusted there. */
	if ((r = cf_chain_check_named_head(c, d->chain_seq, d->chain_head)) != 0)
		goto out;
	if ((author = cf_chain_device(c, d->author_id)) == NULL ||
	    !cf_chain_trusted_at(c, d->author_id, d->chain_seq)) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/* "coffer-dir-v1" || every byte before sig. */
	r = cf_verify_purpose(author->sign_pk, CF_LABEL_DIR, d->raw,
	    d->rawlen - CF_SIG_BYTES, d->sig);
out:
	return r;
}

int
cf_dir_verify(const struct cf_chain *c, struct cf_dir *d,
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks)
{
	size_t i;
	uint64_t emax;
	int r, dup;

	if (c == NULL || d == NULL || (ks == NULL && nks > 0)) {
		r = COFFER_EINVAL;
		goto out;
	}
	d->verified = 0;
	if ((r = cf_dir_check_signed(c, d)) != 0)
		goto out;
	if ((emax = cf_chain_epoch_at(c, d->chain_seq)) == 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if (nks < emax) {
		r = COFFER_EINVAL;
		goto out;
	}
	for (i = 0; i < d->ndrives; i++)
		if ((r = verify_drive(d, &d->drives[i], emax, ks, nks)) != 0)
			goto out;
	if ((r = names_dup(d, &dup)) != 0)
		goto out;
	if (dup) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	d->verified = 1;
	r = 0;
out:
	if (r != 0 && d != NULL)
		for (i = 0; i < d->ndrives; i++)
			if (d->drives[i].name != NULL) {
				cf_wipefree(d->drives[i].name,
				    CF_DIR_NAME_MAX + 1);
				d->drives[i].name = NULL;
				d->drives[i].namelen = 0;
			}
	return r;
}

/* ---- Pins ---- */

/* One intermediate record: decoded, the next version, linked, not older. */
static int
check_link(const struct cf_dir *head, const uint8_t *rec, size_t len,
    uint64_t version, const uint8_t prev[static CF_ID_BYTES],
    uint64_t *seqp, uint8_t hash[static CF_ID_BYTES])
{
	struct cf_dir *x = NULL;
	int r;

	if ((r = cf_dir_decode(rec, len, &x)) != 0)
		goto out;
	if (x->version != version || x->chain_seq < *seqp ||
	    memcmp(x->account_id, head->account_id, CF_ID_BYTES) != 0 ||
	    memcmp(x->prev_hash, prev, CF_ID_BYTES) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	*seqp = x->chain_seq;
	memcpy(hash, x->hash, CF_ID_BYTES);
	r = 0;
out:
	cf_dir_free(x);
	return r;
}

int
cf_dir_check_pin(const struct cf_chain *c, const struct cf_dir_pin *pin,
    const struct cf_dir *d, const uint8_t *const *inter,
    const size_t *interlens, size_t ninter)
{
	const struct cf_chain_device *author;
	uint8_t prev[CF_ID_BYTES];
	uint64_t seq, v, gap;
	size_t i;
	int is_pin = 0, r;

	if (c == NULL || d == NULL ||
	    (ninter > 0 && (inter == NULL || interlens == NULL))) {
		r = COFFER_EINVAL;
		goto out;
	}
	if (pin == NULL || pin->version == 0) {
		/* No pin: any verified record, nothing in between. */
		if (ninter != 0) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
	} else if (d->version < pin->version) {
		r = COFFER_ENOTAUTHENTIC;		/* rollback */
		goto out;
	} else if (d->version == pin->version) {
		if (ninter != 0 ||
		    memcmp(d->hash, pin->hash, CF_ID_BYTES) != 0) {
			r = COFFER_ENOTAUTHENTIC;	/* fork */
			goto out;
		}
		is_pin = 1;
	} else {
		gap = d->version - pin->version - 1;
		if (gap > CF_DIR_CATCHUP_MAX) {
			r = COFFER_ETOOBIG;
			goto out;
		}
		if (ninter != gap) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		memcpy(prev, pin->hash, CF_ID_BYTES);
		seq = pin->chain_seq;
		for (i = 0, v = pin->version + 1; i < ninter; i++, v++)
			if ((r = check_link(d, inter[i], interlens[i], v, prev,
			    &seq, prev)) != 0)
				goto out;
		if (memcmp(d->prev_hash, prev, CF_ID_BYTES) != 0 ||
		    d->chain_seq < seq) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
	}
	/*
	 * A removed device could sign a record naming a chain entry from
	 * before its removal: once the removal is known, its records are
	 * accepted only as the pin already held (FORMAT §16).
	 */
	if ((author = cf_chain_device(c, d->author_id)) == NULL ||
	    (author->removed && !is_pin)) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	r = 0;
out:
	return r;
}

int
cf_dir_accept(const struct cf_chain *c, const struct cf_dir_pin *pin,
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks, const uint8_t *rec,
    size_t len, const uint8_t *const *inter, const size_t *interlens,
    size_t ninter, struct cf_dir **dp)
{
	struct cf_dir *d = NULL;
	int r;

	*dp = NULL;
	if ((r = cf_dir_decode(rec, len, &d)) != 0)
		goto out;
	if ((r = cf_dir_verify(c, d, ks, nks)) != 0)
		goto out;
	if ((r = cf_dir_check_pin(c, pin, d, inter, interlens, ninter)) != 0)
		goto out;
	*dp = d;
	d = NULL;
out:
	cf_dir_free(d);
	return r;
}

void
cf_dir_pin_of(const struct cf_dir *d, struct cf_dir_pin *pin)
{
	pin->version = d->version;
	memcpy(pin->hash, d->hash, CF_ID_BYTES);
	pin->chain_seq = d->chain_seq;
}

int
cf_dir_resolve(const struct cf_dir *d, const char *name, size_t namelen,
    uint8_t drive_id[static CF_ID_BYTES])
{
	size_t i;
	int r;

	memset(drive_id, 0, CF_ID_BYTES);
	if (d == NULL || !d->verified || name == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	r = COFFER_ENOENT;
	for (i = 0; i < d->ndrives && r != 0; i++)
		if (d->drives[i].namelen == namelen &&
		    memcmp(d->drives[i].name, name, namelen) == 0) {
			memcpy(drive_id, d->drives[i].drive_id, CF_ID_BYTES);
			r = 0;
		}
out:
	return r;
}

/* ---- Drive keys ---- */

void
cf_drive_keys_free(struct cf_drive_keys *dk)
{
	if (dk == NULL)
		return;
	if (dk->secrets != NULL)
		sodium_free(dk->secrets);
	if (dk->epochs != NULL)
		sodium_free(dk->epochs);
	sodium_free(dk);
}

static int
dk_new(const uint8_t drive_id[static CF_ID_BYTES], size_t nsecrets,
    size_t nepochs, struct cf_drive_keys **dkp)
{
	struct cf_drive_keys *dk;
	int r;

	*dkp = NULL;
	if ((dk = sodium_malloc(sizeof(*dk))) == NULL)
		return COFFER_ENOMEM;
	memset(dk, 0, sizeof(*dk));
	memcpy(dk->drive_id, drive_id, CF_ID_BYTES);
	if (nsecrets > 0 && (dk->secrets = sodium_allocarray(nsecrets,
	    sizeof(*dk->secrets))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (nepochs > 0 && (dk->epochs = sodium_allocarray(nepochs,
	    sizeof(*dk->epochs))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (nsecrets > 0)
		memset(dk->secrets, 0, nsecrets * sizeof(*dk->secrets));
	if (nepochs > 0)
		memset(dk->epochs, 0, nepochs * sizeof(*dk->epochs));
	dk->nsecrets = nsecrets;
	dk->nepochs = nepochs;
	*dkp = dk;
	dk = NULL;
	r = 0;
out:
	cf_drive_keys_free(dk);
	return r;
}

/* Fill a secret's id and subkeys from ${s->secret}. */
static void
secret_derive(struct cf_drive_secret *s)
{
	cf_key_id(s->secret, s->id);
	cf_kdf_derive(s->chunk_id_key, s->secret, CF_KDF_CHUNK_ID,
	    CF_LABEL_KDF_DRIVE);
	cf_kdf_derive(s->chunker_key, s->secret, CF_KDF_CHUNKER,
	    CF_LABEL_KDF_DRIVE);
}

/* Fill an epoch's subkeys and key id from ${e->dkey}. */
static void
epoch_derive(struct cf_drive_epoch *e)
{
	cf_kdf_derive(e->content_key, e->dkey, CF_KDF_CONTENT,
	    CF_LABEL_KDF_EPOCH);
	cf_kdf_derive(e->meta_id_key, e->dkey, CF_KDF_META_ID,
	    CF_LABEL_KDF_EPOCH);
	cf_key_id(e->content_key, e->key_id);
}

int
cf_dir_drive_keys(const struct cf_dir *d,
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks,
    struct cf_drive_keys **dkp)
{
	const struct cf_dir_drive *v = NULL;
	struct cf_drive_keys *dk = NULL;
	size_t i;
	int r;

	*dkp = NULL;
	if (d == NULL || !d->verified || (ks == NULL && nks > 0)) {
		r = COFFER_EINVAL;
		goto out;
	}
	for (i = 0; i < d->ndrives && v == NULL; i++)
		if (memcmp(d->drives[i].drive_id, drive_id, CF_ID_BYTES) == 0)
			v = &d->drives[i];
	if (v == NULL) {
		r = COFFER_ENOENT;
		goto out;
	}
	if ((r = dk_new(drive_id, v->nsecrets, v->nkeys, &dk)) != 0)
		goto out;
	for (i = 0; i < v->nsecrets; i++) {
		dk->secrets[i].epoch = v->secrets[i].epoch;
		if ((r = unwrap_secret(d->account_id, drive_id, &v->secrets[i],
		    ks, nks, dk->secrets[i].secret)) != 0)
			goto out;
		secret_derive(&dk->secrets[i]);
	}
	for (i = 0; i < v->nkeys; i++) {
		dk->epochs[i].epoch = v->keys[i].epoch;
		if ((r = unwrap_key(d->account_id, drive_id, &v->keys[i], ks,
		    nks, dk->epochs[i].dkey, dk->epochs[i].content_key)) != 0)
			goto out;
		epoch_derive(&dk->epochs[i]);
	}
	*dkp = dk;
	dk = NULL;
	r = 0;
out:
	cf_drive_keys_free(dk);
	return r;
}

const struct cf_drive_secret *
cf_drive_secret_at(const struct cf_drive_keys *dk, uint64_t epoch)
{
	const struct cf_drive_secret *s = NULL;
	size_t i;

	for (i = 0; i < dk->nsecrets; i++)
		if (dk->secrets[i].epoch <= epoch)
			s = &dk->secrets[i];
	return s;
}

/* out = the keys of epoch entry ${e} for an object of ${type}. */
static int
objkey_of(const struct cf_drive_keys *dk, const struct cf_drive_epoch *e,
    uint8_t type, struct cf_objkey *out)
{
	const struct cf_drive_secret *s;
	int r;

	switch (type) {
	case CF_OBJ_CHUNK:
		if ((s = cf_drive_secret_at(dk, e->epoch)) == NULL) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		memcpy(out->id_key, s->chunk_id_key, CF_KEY_BYTES);
		break;
	case CF_OBJ_TREE:
	case CF_OBJ_LIST:
	case CF_OBJ_COMMIT:
		memcpy(out->id_key, e->meta_id_key, CF_KEY_BYTES);
		break;
	default:
		r = COFFER_EINVAL;
		goto out;
	}
	memcpy(out->key_id, e->key_id, CF_ID_BYTES);
	memcpy(out->enc_key, e->content_key, CF_KEY_BYTES);
	r = 0;
out:
	return r;
}

int
cf_dir_lookup(void *ctx, uint8_t type, const uint8_t key_id[static CF_ID_BYTES],
    struct cf_objkey *out)
{
	const struct cf_dir_lookup *l = ctx;
	const struct cf_drive_epoch *e = NULL;
	uint8_t want[CF_ID_BYTES];
	size_t i;
	int r;

	/* ${key_id} may point into ${out}. */
	memcpy(want, key_id, CF_ID_BYTES);
	sodium_memzero(out, sizeof(*out));
	if (l == NULL || l->dk == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	for (i = 0; i < l->dk->nepochs && e == NULL; i++)
		if (l->dk->epochs[i].epoch <= l->max_epoch &&
		    memcmp(l->dk->epochs[i].key_id, want, CF_ID_BYTES) == 0)
			e = &l->dk->epochs[i];
	if (e == NULL) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/* Directory records are never sealed objects; other types are refused. */
	if ((r = objkey_of(l->dk, e, type, out)) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
out:
	if (r != 0)
		sodium_memzero(out, sizeof(*out));
	return r;
}

int
cf_drive_keys_objkey(const struct cf_drive_keys *dk, uint8_t type,
    uint64_t epoch, struct cf_objkey *out)
{
	const struct cf_drive_epoch *e = NULL;
	size_t i;
	int r;

	sodium_memzero(out, sizeof(*out));
	if (dk == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	for (i = 0; i < dk->nepochs; i++)
		if (dk->epochs[i].epoch == epoch)
			e = &dk->epochs[i];
	if (e == NULL) {
		r = COFFER_ENOENT;
		goto out;
	}
	/* No secret in force: a drive key without its secret. */
	if ((r = objkey_of(dk, e, type, out)) == COFFER_ENOTAUTHENTIC)
		r = COFFER_ENOENT;
out:
	if (r != 0)
		sodium_memzero(out, sizeof(*out));
	return r;
}

int
cf_drive_keys_chunker(const struct cf_drive_keys *dk, uint64_t epoch,
    uint8_t key[static CF_KEY_BYTES])
{
	const struct cf_drive_secret *s;
	int r;

	sodium_memzero(key, CF_KEY_BYTES);
	if (dk == NULL) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((s = cf_drive_secret_at(dk, epoch)) == NULL) {
		r = COFFER_ENOENT;
		goto out;
	}
	memcpy(key, s->chunker_key, CF_KEY_BYTES);
	r = 0;
out:
	return r;
}

int
cf_drive_keys_create(uint64_t epoch, struct cf_drive_keys **dkp)
{
	struct cf_drive_keys *dk = NULL;
	uint8_t drive_id[CF_ID_BYTES];
	int r;

	*dkp = NULL;
	if (epoch == 0) {
		r = COFFER_EINVAL;
		goto out;
	}
	randombytes_buf(drive_id, sizeof(drive_id));
	if ((r = dk_new(drive_id, 1, 1, &dk)) != 0)
		goto out;
	dk->secrets[0].epoch = epoch;
	randombytes_buf(dk->secrets[0].secret, CF_KEY_BYTES);
	secret_derive(&dk->secrets[0]);
	dk->epochs[0].epoch = epoch;
	randombytes_buf(dk->epochs[0].dkey, CF_KEY_BYTES);
	epoch_derive(&dk->epochs[0]);
	*dkp = dk;
	dk = NULL;
	r = 0;
out:
	cf_drive_keys_free(dk);
	return r;
}

/* Replace ${dk}'s arrays by copies one entry longer (the new one zeroed). */
static int
dk_grow(struct cf_drive_keys *dk, int secret)
{
	struct cf_drive_secret *s = NULL;
	struct cf_drive_epoch *e = NULL;
	size_t n;
	int r;

	if (secret) {
		n = dk->nsecrets;
		if (n >= CF_DIR_SECRETS_MAX) {
			r = COFFER_ETOOBIG;
			goto out;
		}
		if ((s = sodium_allocarray(n + 1, sizeof(*s))) == NULL) {
			r = COFFER_ENOMEM;
			goto out;
		}
		memset(s, 0, (n + 1) * sizeof(*s));
		if (n > 0)
			memcpy(s, dk->secrets, n * sizeof(*s));
		if (dk->secrets != NULL)
			sodium_free(dk->secrets);
		dk->secrets = s;
		dk->nsecrets = n + 1;
	} else {
		n = dk->nepochs;
		if (n >= CF_DIR_KEYS_MAX) {
			r = COFFER_ETOOBIG;
			goto out;
		}
		if ((e = sodium_allocarray(n + 1, sizeof(*e))) == NULL) {
			r = COFFER_ENOMEM;
			goto out;
		}
		memset(e, 0, (n + 1) * sizeof(*e));
		if (n > 0)
			memcpy(e, dk->epochs, n * sizeof(*e));
		if (dk->epochs != NULL)
			sodium_free(dk->epochs);
		dk->epochs = e;
		dk->nepochs = n + 1;
	}
	r = 0;
out:
	return r;
}

int
cf_drive_keys_add_epoch(struct cf_drive_keys *dk, uint64_t epoch)
{
	struct cf_drive_epoch *e;
	int r;

	if (dk == NULL || dk->nsecrets == 0 ||
	    epoch < dk->secrets[dk->nsecrets - 1].epoch ||
	    (dk->nepochs > 0 && epoch <= dk->epochs[dk->nepochs - 1].epoch)) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((r = dk_grow(dk, 0)) != 0)
		goto out;
	e = &dk->epochs[dk->nepochs - 1];
	e->epoch = epoch;
	randombytes_buf(e->dkey, CF_KEY_BYTES);
	epoch_derive(e);
	r = 0;
out:
	return r;
}

int
cf_drive_keys_rekey(struct cf_drive_keys *dk, uint64_t epoch)
{
	struct cf_drive_secret *s;
	int r;

	if (dk == NULL || epoch == 0 ||
	    (dk->nsecrets > 0 && epoch <= dk->secrets[dk->nsecrets - 1].epoch) ||
	    (dk->nepochs > 0 && epoch <= dk->epochs[dk->nepochs - 1].epoch)) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((r = dk_grow(dk, 1)) != 0)
		goto out;
	s = &dk->secrets[dk->nsecrets - 1];
	s->epoch = epoch;
	randombytes_buf(s->secret, CF_KEY_BYTES);
	secret_derive(s);
	r = 0;
out:
	return r;
}

/* ---- Encoding and building ---- */

int
cf_dir_encode(const struct cf_dir *d, const struct cf_device_keys *author,
    uint8_t **recp, size_t *lenp)
{
	const struct cf_dir_drive *v;
	struct cf_wr w;
	uint8_t *sig;
	size_t i, j;
	int r;

	*recp = NULL;
	*lenp = 0;
	cf_wr_init(&w, CF_DIR_MAX, 0);
	if (d == NULL || author == NULL || d->ndrives > CF_DIR_DRIVES_MAX ||
	    (d->ndrives > 0 && d->drives == NULL)) {
		r = COFFER_EINVAL;
		goto out;
	}
	cf_wr_bytes(&w, CF_DIR_TAG, CF_DIR_TAG_BYTES);
	cf_wr_u8(&w, CF_DIR_VERSION);
	cf_wr_bytes(&w, d->account_id, CF_ID_BYTES);
	cf_wr_u64(&w, d->version);
	cf_wr_bytes(&w, d->prev_hash, CF_ID_BYTES);
	cf_wr_bytes(&w, author->device_id, CF_ID_BYTES);
	cf_wr_u64(&w, d->time);
	cf_wr_u64(&w, d->chain_seq);
	cf_wr_bytes(&w, d->chain_head, CF_ID_BYTES);
	cf_wr_u32(&w, (uint32_t)d->ndrives);
	for (i = 0; i < d->ndrives; i++) {
		v = &d->drives[i];
		if (v->nsecrets > CF_DIR_SECRETS_MAX || v->nkeys > CF_DIR_KEYS_MAX ||
		    (v->nsecrets > 0 && v->secrets == NULL) ||
		    (v->nkeys > 0 && v->keys == NULL)) {
			r = COFFER_EINVAL;
			goto out;
		}
		cf_wr_bytes(&w, v->drive_id, CF_ID_BYTES);
		cf_wr_u64(&w, v->name_epoch);
		cf_wr_bytes(&w, v->name_box, CF_DIR_NAME_BOX_BYTES);
		cf_wr_u32(&w, (uint32_t)v->nsecrets);
		for (j = 0; j < v->nsecrets; j++) {
			cf_wr_bytes(&w, v->secrets[j].id, CF_ID_BYTES);
			cf_wr_u64(&w, v->secrets[j].epoch);
			cf_wr_bytes(&w, v->secrets[j].wrapped,
			    CF_DIR_WRAPPED_BYTES);
		}
		cf_wr_u32(&w, (uint32_t)v->nkeys);
		for (j = 0; j < v->nkeys; j++) {
			cf_wr_u64(&w, v->keys[j].epoch);
			cf_wr_bytes(&w, v->keys[j].key_id, CF_ID_BYTES);
			cf_wr_bytes(&w, v->keys[j].wrapped,
			    CF_DIR_WRAPPED_BYTES);
		}
	}
	if ((sig = cf_wr_reserve(&w, CF_SIG_BYTES)) != NULL &&
	    (r = cf_sign_purpose(author->sign_sk, CF_LABEL_DIR, w.p,
	    w.len - CF_SIG_BYTES, sig)) != 0)
		goto out;
	r = cf_wr_finish(&w, recp, lenp);
out:
	cf_wr_free(&w);
	return r;
}

/* For qsort of entries by drive id. */
static int
cmp_entry_ids(const void *a, const void *b)
{
	const struct cf_dir_entry *x = *(const struct cf_dir_entry *const *)a;
	const struct cf_dir_entry *y = *(const struct cf_dir_entry *const *)b;

	return memcmp(x->dk->drive_id, y->dk->drive_id, CF_ID_BYTES);
}

/*
 * build_drive(acct, e, emax, ks, v):
 * Box the name under K_emax and wrap each secret and drive key of ${e}
 * under K of its own epoch.
 */
static int
build_drive(const uint8_t acct[static CF_ID_BYTES], const struct cf_dir_entry *e,
    uint64_t emax, const uint8_t (*ks)[CF_KEY_BYTES], struct cf_dir_drive *v)
{
	const struct cf_drive_keys *dk = e->dk;
	uint8_t ctx[DIR_CTX_BYTES];
	size_t i;
	int r;

	memcpy(v->drive_id, dk->drive_id, CF_ID_BYTES);
	if (dk->nsecrets == 0 || dk->nsecrets > CF_DIR_SECRETS_MAX ||
	    dk->nepochs > CF_DIR_KEYS_MAX) {
		r = COFFER_EINVAL;
		goto out;
	}
	v->name_epoch = emax;
	if ((r = cf_dir_name_seal(ks[emax - 1], acct, emax, dk->drive_id,
	    e->name, e->namelen, v->name_box)) != 0)
		goto out;
	if ((v->secrets = calloc(dk->nsecrets, sizeof(*v->secrets))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	v->nsecrets = dk->nsecrets;
	for (i = 0; i < dk->nsecrets; i++) {
		const struct cf_drive_secret *s = &dk->secrets[i];

		if (s->epoch == 0 || s->epoch > emax ||
		    (i > 0 && s->epoch <= dk->secrets[i - 1].epoch)) {
			r = COFFER_EINVAL;
			goto out;
		}
		memcpy(v->secrets[i].id, s->id, CF_ID_BYTES);
		v->secrets[i].epoch = s->epoch;
		wrap_ctx(acct, dk->drive_id, s->id, s->epoch, ctx);
		if ((r = cf_wrap_seal(ks[s->epoch - 1], CF_LABEL_WRAP_SECRET,
		    ctx, sizeof(ctx), s->secret, CF_KEY_BYTES,
		    v->secrets[i].wrapped)) != 0)
			goto out;
	}
	if (dk->nepochs > 0 &&
	    (v->keys = calloc(dk->nepochs, sizeof(*v->keys))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	v->nkeys = dk->nepochs;
	for (i = 0; i < dk->nepochs; i++) {
		const struct cf_drive_epoch *k = &dk->epochs[i];

		if (k->epoch < dk->secrets[0].epoch || k->epoch > emax ||
		    (i > 0 && k->epoch <= dk->epochs[i - 1].epoch)) {
			r = COFFER_EINVAL;
			goto out;
		}
		v->keys[i].epoch = k->epoch;
		memcpy(v->keys[i].key_id, k->key_id, CF_ID_BYTES);
		wrap_ctx(acct, dk->drive_id, k->key_id, k->epoch, ctx);
		if ((r = cf_wrap_seal(ks[k->epoch - 1], CF_LABEL_WRAP_EPOCH,
		    ctx, sizeof(ctx), k->dkey, CF_KEY_BYTES,
		    v->keys[i].wrapped)) != 0)
			goto out;
	}
	r = 0;
out:
	return r;
}

int
cf_dir_build(const struct cf_chain *c, const struct cf_device_keys *author,
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks, const struct cf_dir *prev,
    const struct cf_dir_entry *drives, size_t n, uint64_t time,
    uint8_t **recp, size_t *lenp)
{
	const struct cf_dir_entry **sorted = NULL;
	struct cf_dir *d = NULL;
	uint64_t emax;
	size_t i, j;
	int r;

	*recp = NULL;
	*lenp = 0;
	if (c == NULL || author == NULL || c->n == 0 || ks == NULL ||
	    n > CF_DIR_DRIVES_MAX || (n > 0 && drives == NULL) ||
	    (prev != NULL && (!prev->verified || memcmp(prev->account_id,
	    c->account_id, CF_ID_BYTES) != 0 || prev->version == UINT64_MAX))) {
		r = COFFER_EINVAL;
		goto out;
	}
	if ((emax = cf_chain_epoch_at(c, c->n - 1)) == 0 || nks < emax) {
		r = COFFER_EINVAL;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (drives[i].dk == NULL ||
		    !name_ok(drives[i].name, drives[i].namelen)) {
			r = COFFER_EINVAL;
			goto out;
		}
	/* Unique names (n is capped, so the square is bounded). */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (drives[i].namelen == drives[j].namelen &&
			    memcmp(drives[i].name, drives[j].name,
			    drives[i].namelen) == 0) {
				r = COFFER_EINVAL;
				goto out;
			}
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (n > 0 && ((sorted = calloc(n, sizeof(*sorted))) == NULL ||
	    (d->drives = calloc(n, sizeof(*d->drives))) == NULL))) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		sorted[i] = &drives[i];
	if (n > 1)
		qsort(sorted, n, sizeof(*sorted), cmp_entry_ids);
	for (i = 1; i < n; i++)
		if (cmp_entry_ids(&sorted[i - 1], &sorted[i]) == 0) {
			r = COFFER_EINVAL;
			goto out;
		}
	memcpy(d->account_id, c->account_id, CF_ID_BYTES);
	d->version = prev != NULL ? prev->version + 1 : 1;
	if (prev != NULL)
		memcpy(d->prev_hash, prev->hash, CF_ID_BYTES);
	d->time = time;
	d->chain_seq = c->n - 1;
	memcpy(d->chain_head, c->hash[c->n - 1], CF_ID_BYTES);
	d->ndrives = n;
	for (i = 0; i < n; i++)
		if ((r = build_drive(c->account_id, sorted[i], emax, ks,
		    &d->drives[i])) != 0)
			goto out;
	if ((r = cf_dir_encode(d, author, recp, lenp)) != 0)
		goto out;
	r = 0;
out:
	free(sorted);
	cf_dir_free(d);
	return r;
}
