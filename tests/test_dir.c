/*
 * The drive directory (FORMAT §16).  Each rule has a case whose bad
 * record is built and signed with the real key of a device that could
 * sign it, next to a control made the same way with the rule kept, so
 * that the refusal can only come from the rule under test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chain/chain.h"
#include "chain/dir.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "crypto/wrap.h"
#include "object/object.h"
#include "util/buf.h"
/* The shared fixture: this suite needs only some of its helpers. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "chain_fix.h"
#pragma GCC diagnostic pop
#include "t.h"

#define NOTAUTH		COFFER_ENOTAUTHENTIC
#define T_DIR		1700000500ULL

/* A record made by the test: its bytes and the decoded, verified form. */
struct rec {
	uint8_t *p;
	size_t len;
};

static void
rec_free(struct rec *r)
{
	free(r->p);
	r->p = NULL;
	r->len = 0;
}

/* Build the record after ${prev} signed by ${who}, at the head of ${c}. */
static int
build_on(struct fix *f, const struct cf_chain *c, int who,
    const struct cf_dir *prev, const struct cf_dir_entry *e, size_t n,
    struct rec *out)
{
	return cf_dir_build(c, f->dev[who], (const uint8_t (*)[CF_KEY_BYTES])
	    f->keys, f->nkeys, prev, e, n, T_DIR, &out->p, &out->len);
}

static int
build(struct fix *f, int who, const struct cf_dir *prev,
    const struct cf_dir_entry *e, size_t n, struct rec *out)
{
	return build_on(f, f->c, who, prev, e, n, out);
}

/* cf_dir_accept against ${c} with ${pin} (NULL: none), no intermediates. */
static int
accept_on(struct fix *f, const struct cf_chain *c, const struct cf_dir_pin *pin,
    const struct rec *r, struct cf_dir **dp)
{
	struct cf_dir *d = NULL;
	int rc;

	rc = cf_dir_accept(c, pin, (const uint8_t (*)[CF_KEY_BYTES])f->keys,
	    f->nkeys, r->p, r->len, NULL, NULL, 0, &d);
	if (dp != NULL)
		*dp = d;
	else
		cf_dir_free(d);
	return rc;
}

static int
accept(struct fix *f, const struct cf_dir_pin *pin, const struct rec *r,
    struct cf_dir **dp)
{
	return accept_on(f, f->c, pin, r, dp);
}

/* Re-encode a decoded (maybe altered) record, signed by ${who}. */
static void
resign(struct fix *f, const struct cf_dir *d, int who, struct rec *out)
{
	if (cf_dir_encode(d, f->dev[who], &out->p, &out->len) != 0)
		fix_die("dir encode");
}

static struct cf_dir *
decode(const struct rec *r)
{
	struct cf_dir *d = NULL;

	if (cf_dir_decode(r->p, r->len, &d) != 0)
		fix_die("dir decode");
	return d;
}

/* An account of A and B, and two drives made in epoch 1. */
struct world {
	struct fix f;
	struct cf_drive_keys *dk[2];
	struct cf_dir_entry e[2];
};

static void
world_init(struct world *w)
{
	fix_init(&w->f);
	fix_add(&w->f, A, B);
	if (cf_drive_keys_create(1, &w->dk[0]) != 0 ||
	    cf_drive_keys_create(1, &w->dk[1]) != 0)
		fix_die("drive keys");
	w->e[0].name = "photos";
	w->e[0].namelen = 6;
	w->e[0].dk = w->dk[0];
	w->e[1].name = "documents";
	w->e[1].namelen = 9;
	w->e[1].dk = w->dk[1];
}

static void
world_free(struct world *w)
{
	cf_drive_keys_free(w->dk[0]);
	cf_drive_keys_free(w->dk[1]);
	fix_free(&w->f);
}

/* The index in ${d} of the drive of ${dk}. */
static size_t
drive_index(const struct cf_dir *d, const struct cf_drive_keys *dk)
{
	size_t i;

	for (i = 0; i < d->ndrives; i++)
		if (memcmp(d->drives[i].drive_id, dk->drive_id, CF_ID_BYTES) == 0)
			return i;
	fix_die("drive not in record");
	return 0;
}

/* The entry of ${w} for drive ${id}. */
static const struct cf_dir_entry *
entry_of(const struct cf_dir_entry *e, size_t n, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(e[i].dk->drive_id, id, CF_ID_BYTES) == 0)
			return &e[i];
	fix_die("no such entry");
	return NULL;
}

/* Box every name of ${d} again under K_${epoch}, for d->account_id. */
static void
reseal_names(struct fix *f, struct cf_dir *d, const struct cf_dir_entry *e,
    size_t n, uint64_t epoch)
{
	const struct cf_dir_entry *x;
	size_t i;

	for (i = 0; i < d->ndrives; i++) {
		x = entry_of(e, n, d->drives[i].drive_id);
		d->drives[i].name_epoch = epoch;
		if (cf_dir_name_seal(f->keys[epoch - 1], d->account_id, epoch,
		    d->drives[i].drive_id, x->name, x->namelen,
		    d->drives[i].name_box) != 0)
			fix_die("name seal");
	}
}

/* Wrap every secret and drive key of ${d} again, for d->account_id. */
static void
reseal_keys(struct fix *f, struct cf_dir *d, const struct cf_dir_entry *e,
    size_t n)
{
	const struct cf_drive_keys *dk;
	uint8_t ctx[3 * CF_ID_BYTES + 8];
	size_t i, j;

	for (i = 0; i < d->ndrives; i++) {
		dk = entry_of(e, n, d->drives[i].drive_id)->dk;
		memcpy(ctx, d->account_id, CF_ID_BYTES);
		memcpy(ctx + CF_ID_BYTES, dk->drive_id, CF_ID_BYTES);
		for (j = 0; j < d->drives[i].nsecrets; j++) {
			struct cf_dir_secret *s = &d->drives[i].secrets[j];

			memcpy(ctx + 2 * CF_ID_BYTES, s->id, CF_ID_BYTES);
			cf_be64enc(ctx + 3 * CF_ID_BYTES, s->epoch);
			if (cf_wrap_seal(f->keys[s->epoch - 1],
			    CF_LABEL_WRAP_SECRET, ctx, sizeof(ctx),
			    dk->secrets[j].secret, CF_KEY_BYTES, s->wrapped) != 0)
				fix_die("wrap");
		}
		for (j = 0; j < d->drives[i].nkeys; j++) {
			struct cf_dir_key *k = &d->drives[i].keys[j];

			memcpy(ctx + 2 * CF_ID_BYTES, k->key_id, CF_ID_BYTES);
			cf_be64enc(ctx + 3 * CF_ID_BYTES, k->epoch);
			if (cf_wrap_seal(f->keys[k->epoch - 1],
			    CF_LABEL_WRAP_EPOCH, ctx, sizeof(ctx),
			    dk->epochs[j].dkey, CF_KEY_BYTES, k->wrapped) != 0)
				fix_die("wrap");
		}
	}
}

/* cf_dir_decode then cf_dir_verify alone (no pin rules). */
static int
verify_only(struct fix *f, const struct cf_chain *c, const struct rec *r)
{
	struct cf_dir *d = NULL;
	int rc;

	if ((rc = cf_dir_decode(r->p, r->len, &d)) == 0)
		rc = cf_dir_verify(c, d, (const uint8_t (*)[CF_KEY_BYTES])
		    f->keys, f->nkeys);
	cf_dir_free(d);
	return rc;
}

/* ---- The honest path ---- */

static void
dir_honest(void)
{
	static const uint8_t chunk[] = "a chunk of a file";
	static const uint8_t tree[] = "a tree";
	struct world w;
	struct rec r = { 0 };
	struct cf_dir *d = NULL, *d2 = NULL;
	struct cf_drive_keys *dk = NULL;
	struct cf_dir_lookup lk;
	struct cf_objkey k;
	uint8_t id[CF_ID_BYTES], oid[CF_ID_BYTES], h[CF_ID_BYTES];
	uint8_t *blob = NULL, *plain = NULL, *again = NULL;
	size_t bloblen = 0, plen = 0, alen = 0;

	world_init(&w);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	CHECK_RC(accept(&w.f, NULL, &r, &d), 0);
	CHECK(d != NULL && d->verified && d->version == 1 && d->ndrives == 2);
	if (d == NULL)
		goto out;
	cf_dir_hash(r.p, r.len, h);
	CHECK(memcmp(h, d->hash, CF_ID_BYTES) == 0);
	CHECK(d->chain_seq == w.f.c->n - 1);
	/* Decoding and encoding again gives the same bytes (same signer). */
	CHECK_RC(cf_dir_encode(d, w.f.dev[A], &again, &alen), 0);
	CHECK(alen == r.len && again != NULL && memcmp(again, r.p, alen) == 0);

	/* Names resolve to their drives, and only names listed do. */
	CHECK_RC(cf_dir_resolve(d, "photos", 6, id), 0);
	CHECK(memcmp(id, w.dk[0]->drive_id, CF_ID_BYTES) == 0);
	CHECK_RC(cf_dir_resolve(d, "documents", 9, id), 0);
	CHECK(memcmp(id, w.dk[1]->drive_id, CF_ID_BYTES) == 0);
	CHECK_RC(cf_dir_resolve(d, "photo", 5, id), COFFER_ENOENT);

	/* The keys unwrap to the ones the writer made. */
	CHECK_RC(cf_dir_drive_keys(d, w.dk[0]->drive_id,
	    (const uint8_t (*)[CF_KEY_BYTES])w.f.keys, w.f.nkeys, &dk), 0);
	if (dk == NULL)
		goto out;
	CHECK(dk->nsecrets == 1 && dk->nepochs == 1);
	CHECK(memcmp(dk->secrets[0].secret, w.dk[0]->secrets[0].secret,
	    CF_KEY_BYTES) == 0);
	CHECK(memcmp(dk->epochs[0].dkey, w.dk[0]->epochs[0].dkey,
	    CF_KEY_BYTES) == 0);

	/* A chunk and a tree sealed with the writer's keys open through it. */
	lk.dk = dk;
	lk.max_epoch = 1;
	CHECK_RC(cf_drive_keys_objkey(w.dk[0], CF_OBJ_CHUNK, 1, &k), 0);
	CHECK_RC(cf_object_seal(&k, CF_OBJ_CHUNK, w.dk[0]->drive_id, chunk,
	    sizeof(chunk), 0, oid, &blob, &bloblen), 0);
	CHECK_RC(cf_object_open(blob, bloblen, CF_OBJ_CHUNK, w.dk[0]->drive_id,
	    oid, cf_dir_lookup, &lk, &plain, &plen), 0);
	CHECK(plen == sizeof(chunk) && plain != NULL &&
	    memcmp(plain, chunk, plen) == 0);
	free(blob);
	free(plain);
	blob = plain = NULL;
	CHECK_RC(cf_drive_keys_objkey(w.dk[0], CF_OBJ_TREE, 1, &k), 0);
	CHECK_RC(cf_object_seal(&k, CF_OBJ_TREE, w.dk[0]->drive_id, tree,
	    sizeof(tree), 0, oid, &blob, &bloblen), 0);
	CHECK_RC(cf_object_open(blob, bloblen, CF_OBJ_TREE, w.dk[0]->drive_id,
	    oid, cf_dir_lookup, &lk, &plain, &plen), 0);

	/* The next version names this one. */
	rec_free(&r);
	CHECK_RC(build(&w.f, B, d, w.e, 1, &r), 0);
	{
		struct cf_dir_pin pin;

		cf_dir_pin_of(d, &pin);
		CHECK_RC(accept(&w.f, &pin, &r, &d2), 0);
		CHECK(d2 != NULL && d2->version == 2 &&
		    memcmp(d2->prev_hash, d->hash, CF_ID_BYTES) == 0);
	}
out:
	free(blob);
	free(plain);
	free(again);
	rec_free(&r);
	cf_drive_keys_free(dk);
	cf_dir_free(d);
	cf_dir_free(d2);
	world_free(&w);
}

/* Writers refuse what readers would refuse. */
static void
dir_build_args(void)
{
	struct world w;
	struct rec r = { 0 };
	struct cf_dir_entry e[2];

	world_init(&w);
	memcpy(e, w.e, sizeof(e));
	e[1].name = "photos";
	e[1].namelen = 6;
	CHECK_RC(build(&w.f, A, NULL, e, 2, &r), COFFER_EINVAL);	/* same name */
	e[1] = w.e[1];
	e[1].dk = w.dk[0];
	CHECK_RC(build(&w.f, A, NULL, e, 2, &r), COFFER_EINVAL);	/* same id */
	e[1] = w.e[1];
	e[1].name = "a\0b";
	e[1].namelen = 3;
	CHECK_RC(build(&w.f, A, NULL, e, 2, &r), COFFER_EINVAL);	/* NUL */
	e[1].namelen = 0;
	CHECK_RC(build(&w.f, A, NULL, e, 2, &r), COFFER_EINVAL);	/* empty */
	/* A key of an epoch the chain has not reached. */
	CHECK_RC(cf_drive_keys_add_epoch(w.dk[1], 2), 0);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), COFFER_EINVAL);
	/* Epochs only move forward. */
	CHECK_RC(cf_drive_keys_add_epoch(w.dk[1], 2), COFFER_EINVAL);
	CHECK_RC(cf_drive_keys_rekey(w.dk[1], 2), COFFER_EINVAL);
	CHECK(r.p == NULL);
	world_free(&w);
}

/* ---- Who may sign ---- */

static void
dir_stranger(void)
{
	struct world w;
	struct rec r = { 0 };

	struct cf_dir *d;

	world_init(&w);
	/* Device E was never added: same record, its signature. */
	CHECK_RC(build(&w.f, E, NULL, w.e, 2, &r), 0);
	CHECK_RC(accept(&w.f, NULL, &r, NULL), NOTAUTH);
	d = decode(&r);						/* server side */
	CHECK_RC(cf_dir_check_signed(w.f.c, d), NOTAUTH);
	cf_dir_free(d);
	rec_free(&r);
	CHECK_RC(build(&w.f, B, NULL, w.e, 2, &r), 0);		/* control */
	CHECK_RC(accept(&w.f, NULL, &r, NULL), 0);
	d = decode(&r);
	CHECK_RC(cf_dir_check_signed(w.f.c, d), 0);
	cf_dir_free(d);
	rec_free(&r);
	world_free(&w);
}

/* A record signed by a device after its removal names a head where it is not trusted. */
static void
dir_removed_signer(void)
{
	struct world w;
	struct rec r = { 0 };

	world_init(&w);
	fix_remove(&w.f, A, B, NULL, 0);
	CHECK_RC(build(&w.f, B, NULL, w.e, 2, &r), 0);
	CHECK_RC(verify_only(&w.f, w.f.c, &r), NOTAUTH);
	CHECK_RC(accept(&w.f, NULL, &r, NULL), NOTAUTH);
	rec_free(&r);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);		/* control */
	CHECK_RC(verify_only(&w.f, w.f.c, &r), 0);
	CHECK_RC(accept(&w.f, NULL, &r, NULL), 0);
	rec_free(&r);
	world_free(&w);
}

/* A record naming a chain entry from before its signer was added. */
static void
dir_signer_not_yet_added(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_dir *d;
	int who;

	world_init(&w);					/* B added at seq 1 */
	for (who = A; who <= B; who++) {
		CHECK_RC(build(&w.f, who, NULL, w.e, 2, &r), 0);
		d = decode(&r);
		d->chain_seq = 0;
		memcpy(d->chain_head, w.f.c->hash[0], CF_ID_BYTES);
		resign(&w.f, d, who, &x);
		/* B is refused; A, there since genesis, is the control. */
		CHECK_RC(verify_only(&w.f, w.f.c, &x), who == B ? NOTAUTH : 0);
		rec_free(&x);
		rec_free(&r);
		cf_dir_free(d);
	}
	world_free(&w);
}

/*
 * A removed device signs a record naming a chain entry from before its
 * removal (where it was trusted): refused once the removal is known,
 * unless it is the record already pinned.
 */
static void
dir_removed_signer_backdated(void)
{
	struct world w;
	struct rec r1 = { 0 }, r2 = { 0 };
	struct cf_chain *before = NULL;
	struct cf_dir *d1 = NULL, *d2 = NULL;
	struct cf_dir_pin pin1, pin2;

	world_init(&w);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r1), 0);
	CHECK_RC(accept(&w.f, NULL, &r1, &d1), 0);
	if (d1 == NULL)
		goto out;
	cf_dir_pin_of(d1, &pin1);
	if (cf_chain_clone(w.f.c, &before) != 0)
		fix_die("clone");
	fix_remove(&w.f, A, B, NULL, 0);
	/* B, removed, writes version 2 naming the head before its removal. */
	CHECK_RC(build_on(&w.f, before, B, d1, w.e, 1, &r2), 0);
	CHECK_RC(accept(&w.f, &pin1, &r2, NULL), NOTAUTH);
	/* Control: the same record, to a verifier without the removal. */
	CHECK_RC(accept_on(&w.f, before, &pin1, &r2, &d2), 0);
	if (d2 == NULL)
		goto out;
	/* A record of B's pinned before the removal stays accepted. */
	cf_dir_pin_of(d2, &pin2);
	CHECK_RC(accept(&w.f, &pin2, &r2, NULL), 0);
out:
	rec_free(&r1);
	rec_free(&r2);
	cf_dir_free(d1);
	cf_dir_free(d2);
	cf_chain_free(before);
	world_free(&w);
}

static void
dir_unknown_head(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_dir *d;

	world_init(&w);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	d = decode(&r);
	resign(&w.f, d, A, &x);					/* control */
	CHECK_RC(accept(&w.f, NULL, &x, NULL), 0);
	rec_free(&x);
	d->chain_head[0] ^= 1;					/* not in the chain */
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	d->chain_head[0] ^= 1;
	d->chain_seq = w.f.c->n;				/* past the chain */
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	/* A hash of the chain at another seq. */
	d->chain_seq = w.f.c->n - 1;
	memcpy(d->chain_head, w.f.c->hash[0], CF_ID_BYTES);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	cf_dir_free(d);
	rec_free(&r);
	world_free(&w);
}

/* The record of another account, signed by one of ours, is not ours. */
static void
dir_other_account(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_dir *d;

	world_init(&w);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	d = decode(&r);
	/* Everything sealed for the other account, consistently. */
	d->account_id[5] ^= 0x40;
	reseal_names(&w.f, d, w.e, 2, 1);
	reseal_keys(&w.f, d, w.e, 2);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	d->account_id[5] ^= 0x40;				/* control */
	reseal_names(&w.f, d, w.e, 2, 1);
	reseal_keys(&w.f, d, w.e, 2);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), 0);
	rec_free(&x);
	/* Version 1 names no previous record; later ones do. */
	d->prev_hash[0] = 1;
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	d->version = 2;
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), 0);		/* control */
	rec_free(&x);
	d->prev_hash[0] = 0;
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	cf_dir_free(d);
	rec_free(&r);
	world_free(&w);
}

/* ---- Pins ---- */

static void
dir_rollback_and_fork(void)
{
	struct world w;
	struct rec r1 = { 0 }, r2 = { 0 }, r2b = { 0 }, r3 = { 0 };
	struct cf_dir *d1 = NULL, *d2 = NULL, *d2b = NULL;
	struct cf_dir_pin pin1, pin2;
	const uint8_t *inter[1];
	size_t ilen[1];
	struct cf_dir *d = NULL;

	world_init(&w);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r1), 0);
	CHECK_RC(accept(&w.f, NULL, &r1, &d1), 0);
	if (d1 == NULL)
		goto out;
	cf_dir_pin_of(d1, &pin1);
	CHECK_RC(build(&w.f, A, d1, w.e, 1, &r2), 0);
	CHECK_RC(accept(&w.f, &pin1, &r2, &d2), 0);		/* one step */
	CHECK_RC(build(&w.f, B, d1, w.e, 2, &r2b), 0);		/* a fork of it */
	CHECK_RC(accept(&w.f, &pin1, &r2b, &d2b), 0);
	if (d2 == NULL || d2b == NULL)
		goto out;
	cf_dir_pin_of(d2, &pin2);

	/* Rolled back: version 1 served after version 2 was pinned. */
	CHECK_RC(accept(&w.f, &pin2, &r1, NULL), NOTAUTH);
	/* The pin itself is fine; the other version 2 is a fork. */
	CHECK_RC(accept(&w.f, &pin2, &r2, NULL), 0);
	CHECK_RC(accept(&w.f, &pin2, &r2b, NULL), NOTAUTH);

	/* Version 3 over version 2: from pin 1 it needs version 2 in between. */
	CHECK_RC(build(&w.f, A, d2, w.e, 2, &r3), 0);
	CHECK_RC(accept(&w.f, &pin2, &r3, NULL), 0);
	CHECK_RC(accept(&w.f, &pin1, &r3, NULL), NOTAUTH);
	inter[0] = r2.p;
	ilen[0] = r2.len;
	CHECK_RC(cf_dir_accept(w.f.c, &pin1, (const uint8_t (*)[CF_KEY_BYTES])
	    w.f.keys, w.f.nkeys, r3.p, r3.len, inter, ilen, 1, &d), 0);
	cf_dir_free(d);
	d = NULL;
	/* ... and that one exactly: the fork does not link. */
	inter[0] = r2b.p;
	ilen[0] = r2b.len;
	CHECK_RC(cf_dir_accept(w.f.c, &pin1, (const uint8_t (*)[CF_KEY_BYTES])
	    w.f.keys, w.f.nkeys, r3.p, r3.len, inter, ilen, 1, &d), NOTAUTH);
	/* A line grown from a fork of version 1 does not descend from pin 1. */
	{
		struct rec f1 = { 0 }, f2 = { 0 }, f3 = { 0 };
		struct cf_dir *e1 = NULL, *e2 = NULL;
		struct cf_dir_pin pf;

		CHECK_RC(build(&w.f, B, NULL, w.e, 1, &f1), 0);
		CHECK_RC(accept(&w.f, NULL, &f1, &e1), 0);
		if (e1 != NULL)
			CHECK_RC(build(&w.f, A, e1, w.e, 2, &f2), 0);
		CHECK_RC(accept(&w.f, NULL, &f2, &e2), 0);
		if (e2 != NULL)
			CHECK_RC(build(&w.f, A, e2, w.e, 1, &f3), 0);
		inter[0] = f2.p;
		ilen[0] = f2.len;
		CHECK_RC(cf_dir_accept(w.f.c, &pin1, (const uint8_t (*)
		    [CF_KEY_BYTES])w.f.keys, w.f.nkeys, f3.p, f3.len, inter,
		    ilen, 1, &d), NOTAUTH);
		if (e1 != NULL) {				/* control */
			cf_dir_pin_of(e1, &pf);
			CHECK_RC(cf_dir_accept(w.f.c, &pf, (const uint8_t (*)
			    [CF_KEY_BYTES])w.f.keys, w.f.nkeys, f3.p, f3.len,
			    inter, ilen, 1, &d), 0);
			cf_dir_free(d);
			d = NULL;
		}
		rec_free(&f1);
		rec_free(&f2);
		rec_free(&f3);
		cf_dir_free(e1);
		cf_dir_free(e2);
	}
	/* A record naming an older chain entry than the one it follows. */
	{
		struct rec o = { 0 };
		struct cf_dir *x = decode(&r2);
		struct cf_dir_pin p0 = pin1;

		x->chain_seq = 0;				/* pin 1: seq 1 */
		memcpy(x->chain_head, w.f.c->hash[0], CF_ID_BYTES);
		resign(&w.f, x, A, &o);
		CHECK(pin1.chain_seq == 1);
		CHECK_RC(accept(&w.f, &pin1, &o, NULL), NOTAUTH);
		p0.chain_seq = 0;				/* control */
		CHECK_RC(accept(&w.f, &p0, &o, NULL), 0);
		rec_free(&o);
		cf_dir_free(x);
	}
	/* With no pin there is nothing to link: no intermediates. */
	CHECK_RC(cf_dir_check_pin(w.f.c, NULL, d2, inter, ilen, 1), NOTAUTH);
	CHECK_RC(cf_dir_check_pin(w.f.c, NULL, d2, NULL, NULL, 0), 0);
	/* A gap past the cap is refused before any link is looked at. */
	d2->version = pin1.version + CF_DIR_CATCHUP_MAX + 2;
	CHECK_RC(cf_dir_check_pin(w.f.c, &pin1, d2, NULL, NULL, 0),
	    COFFER_ETOOBIG);
	d2->version = pin1.version + CF_DIR_CATCHUP_MAX + 1;
	CHECK_RC(cf_dir_check_pin(w.f.c, &pin1, d2, NULL, NULL, 0), NOTAUTH);
out:
	rec_free(&r1);
	rec_free(&r2);
	rec_free(&r2b);
	rec_free(&r3);
	cf_dir_free(d);
	cf_dir_free(d1);
	cf_dir_free(d2);
	cf_dir_free(d2b);
	world_free(&w);
}

/* ---- Keys ---- */

/* A key id the directory does not list for the drive opens nothing. */
static void
dir_unknown_key_id(void)
{
	static const uint8_t chunk[] = "some bytes";
	struct world w;
	struct rec r = { 0 };
	struct cf_dir *d = NULL;
	struct cf_drive_keys *dk = NULL, *other = NULL;
	struct cf_dir_lookup lk;
	struct cf_objkey k;
	uint8_t oid[CF_ID_BYTES], *blob = NULL, *plain = NULL;
	size_t bloblen = 0, plen = 0;

	world_init(&w);
	fix_rotate(&w.f, A);					/* epoch 2 */
	CHECK_RC(cf_drive_keys_add_epoch(w.dk[0], 2), 0);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	CHECK_RC(accept(&w.f, NULL, &r, &d), 0);
	if (d == NULL)
		goto out;
	CHECK_RC(cf_dir_drive_keys(d, w.dk[0]->drive_id,
	    (const uint8_t (*)[CF_KEY_BYTES])w.f.keys, w.f.nkeys, &dk), 0);
	if (dk == NULL)
		goto out;
	lk.dk = dk;
	lk.max_epoch = 2;

	/* Sealed under a key of a drive the directory does not list. */
	CHECK_RC(cf_drive_keys_create(1, &other), 0);
	CHECK_RC(cf_drive_keys_objkey(other, CF_OBJ_CHUNK, 1, &k), 0);
	CHECK_RC(cf_object_seal(&k, CF_OBJ_CHUNK, w.dk[0]->drive_id, chunk,
	    sizeof(chunk), 0, oid, &blob, &bloblen), 0);
	CHECK_RC(cf_object_open(blob, bloblen, CF_OBJ_CHUNK, w.dk[0]->drive_id,
	    oid, cf_dir_lookup, &lk, &plain, &plen), NOTAUTH);
	free(blob);
	blob = NULL;
	/* Sealed under the other listed drive's key, opened as this drive's. */
	CHECK_RC(cf_drive_keys_objkey(w.dk[1], CF_OBJ_CHUNK, 1, &k), 0);
	CHECK_RC(cf_object_seal(&k, CF_OBJ_CHUNK, w.dk[0]->drive_id, chunk,
	    sizeof(chunk), 0, oid, &blob, &bloblen), 0);
	CHECK_RC(cf_object_open(blob, bloblen, CF_OBJ_CHUNK, w.dk[0]->drive_id,
	    oid, cf_dir_lookup, &lk, &plain, &plen), NOTAUTH);
	free(blob);
	blob = NULL;

	/* Epoch 2's key: listed, but not allowed below max epoch 2. */
	CHECK_RC(cf_drive_keys_objkey(w.dk[0], CF_OBJ_COMMIT, 2, &k), 0);
	CHECK_RC(cf_object_seal(&k, CF_OBJ_COMMIT, w.dk[0]->drive_id, chunk,
	    sizeof(chunk), 0, oid, &blob, &bloblen), 0);
	lk.max_epoch = 1;
	CHECK_RC(cf_object_open(blob, bloblen, CF_OBJ_COMMIT, w.dk[0]->drive_id,
	    oid, cf_dir_lookup, &lk, &plain, &plen), NOTAUTH);
	lk.max_epoch = 2;					/* control */
	CHECK_RC(cf_object_open(blob, bloblen, CF_OBJ_COMMIT, w.dk[0]->drive_id,
	    oid, cf_dir_lookup, &lk, &plain, &plen), 0);
	free(plain);
	plain = NULL;

	/* The lookup itself: types, and ids. */
	{
		uint8_t kid[CF_ID_BYTES];

		memcpy(kid, k.key_id, CF_ID_BYTES);
		CHECK_RC(cf_dir_lookup(&lk, CF_OBJ_COMMIT, kid, &k), 0);
		CHECK_RC(cf_dir_lookup(&lk, CF_OBJ_DIR, kid, &k), NOTAUTH);
		CHECK(sodium_is_zero(k.enc_key, CF_KEY_BYTES));
	}
	CHECK_RC(cf_drive_keys_objkey(w.dk[0], CF_OBJ_TREE, 1, &k), 0);
	{
		struct cf_objkey got;

		CHECK_RC(cf_dir_lookup(&lk, CF_OBJ_TREE, k.key_id, &got), 0);
		CHECK(memcmp(&got, &k, sizeof(k)) == 0);
		CHECK(memcmp(got.id_key, dk->epochs[0].meta_id_key,
		    CF_KEY_BYTES) == 0);
		CHECK_RC(cf_dir_lookup(&lk, CF_OBJ_CHUNK, k.key_id, &got), 0);
		CHECK(memcmp(got.id_key, dk->secrets[0].chunk_id_key,
		    CF_KEY_BYTES) == 0);
		k.key_id[0] ^= 1;
		CHECK_RC(cf_dir_lookup(&lk, CF_OBJ_TREE, k.key_id, &got),
		    NOTAUTH);
	}
out:
	free(blob);
	free(plain);
	rec_free(&r);
	cf_dir_free(d);
	cf_drive_keys_free(dk);
	cf_drive_keys_free(other);
	world_free(&w);
}

/* A drive key listed for epoch 2 but wrapped under K_1 is refused. */
static void
dir_wrong_epoch_wrap(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_dir *d = NULL;
	struct cf_dir_key *k;
	uint8_t ctx[3 * CF_ID_BYTES + 8];
	size_t i;

	world_init(&w);
	fix_rotate(&w.f, A);
	CHECK_RC(cf_drive_keys_add_epoch(w.dk[0], 2), 0);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	d = decode(&r);
	i = drive_index(d, w.dk[0]);
	CHECK(d->drives[i].nkeys == 2);
	k = &d->drives[i].keys[1];
	CHECK(k->epoch == 2);
	memcpy(ctx, w.f.account_id, CF_ID_BYTES);
	memcpy(ctx + CF_ID_BYTES, w.dk[0]->drive_id, CF_ID_BYTES);
	memcpy(ctx + 2 * CF_ID_BYTES, k->key_id, CF_ID_BYTES);
	cf_be64enc(ctx + 3 * CF_ID_BYTES, 2);
	/* Everything right but the wrapping key: K_1. */
	CHECK_RC(cf_wrap_seal(w.f.keys[0], CF_LABEL_WRAP_EPOCH, ctx,
	    sizeof(ctx), w.dk[0]->epochs[1].dkey, CF_KEY_BYTES, k->wrapped), 0);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	/* Control: the same, under K_2. */
	CHECK_RC(cf_wrap_seal(w.f.keys[1], CF_LABEL_WRAP_EPOCH, ctx,
	    sizeof(ctx), w.dk[0]->epochs[1].dkey, CF_KEY_BYTES, k->wrapped), 0);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), 0);
	rec_free(&x);
	/* Listed under another key id than its own. */
	k->key_id[3] ^= 8;
	memcpy(ctx + 2 * CF_ID_BYTES, k->key_id, CF_ID_BYTES);
	CHECK_RC(cf_wrap_seal(w.f.keys[1], CF_LABEL_WRAP_EPOCH, ctx,
	    sizeof(ctx), w.dk[0]->epochs[1].dkey, CF_KEY_BYTES, k->wrapped), 0);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	/* The same key listed twice in a drive (each wrapped right). */
	k->key_id[3] ^= 8;
	memcpy(ctx + 2 * CF_ID_BYTES, k->key_id, CF_ID_BYTES);
	CHECK_RC(cf_wrap_seal(w.f.keys[1], CF_LABEL_WRAP_EPOCH, ctx,
	    sizeof(ctx), w.dk[0]->epochs[1].dkey, CF_KEY_BYTES, k->wrapped), 0);
	d->drives[i].keys[0].epoch = 1;
	memcpy(d->drives[i].keys[0].key_id, k->key_id, CF_ID_BYTES);
	cf_be64enc(ctx + 3 * CF_ID_BYTES, 1);
	CHECK_RC(cf_wrap_seal(w.f.keys[0], CF_LABEL_WRAP_EPOCH, ctx,
	    sizeof(ctx), w.dk[0]->epochs[1].dkey, CF_KEY_BYTES,
	    d->drives[i].keys[0].wrapped), 0);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	cf_dir_free(d);
	rec_free(&r);
	world_free(&w);
}

/* A wrapped drive secret copied from one drive to another is refused. */
static void
dir_secret_moved(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_dir *d = NULL;
	size_t i0, i1;
	struct cf_dir_secret keep;

	world_init(&w);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	d = decode(&r);
	i0 = drive_index(d, w.dk[0]);
	i1 = drive_index(d, w.dk[1]);
	keep = d->drives[i1].secrets[0];
	d->drives[i1].secrets[0] = d->drives[i0].secrets[0];
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	d->drives[i1].secrets[0] = keep;			/* control */
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), 0);
	rec_free(&x);
	/* A drive key moved between drives fails the same way. */
	d->drives[i1].keys[0] = d->drives[i0].keys[0];
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	cf_dir_free(d);
	rec_free(&r);
	world_free(&w);
}

/* Name boxes swapped between drives: the box binds its drive. */
static void
dir_name_swapped(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_dir *d = NULL, *v = NULL;
	uint8_t box[CF_DIR_NAME_BOX_BYTES];
	uint8_t id[CF_ID_BYTES];
	size_t i0, i1;

	world_init(&w);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	d = decode(&r);
	i0 = drive_index(d, w.dk[0]);
	i1 = drive_index(d, w.dk[1]);
	memcpy(box, d->drives[i0].name_box, sizeof(box));
	memcpy(d->drives[i0].name_box, d->drives[i1].name_box, sizeof(box));
	memcpy(d->drives[i1].name_box, box, sizeof(box));
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	/* Control: the names swapped honestly, each boxed for its drive. */
	CHECK_RC(cf_dir_name_seal(w.f.keys[0], w.f.account_id, 1,
	    d->drives[i0].drive_id, "documents", 9, d->drives[i0].name_box), 0);
	CHECK_RC(cf_dir_name_seal(w.f.keys[0], w.f.account_id, 1,
	    d->drives[i1].drive_id, "photos", 6, d->drives[i1].name_box), 0);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, &v), 0);
	if (v != NULL) {
		CHECK_RC(cf_dir_resolve(v, "photos", 6, id), 0);
		CHECK(memcmp(id, w.dk[1]->drive_id, CF_ID_BYTES) == 0);
	}
	rec_free(&x);
	/* Two drives with one name. */
	CHECK_RC(cf_dir_name_seal(w.f.keys[0], w.f.account_id, 1,
	    d->drives[i0].drive_id, "photos", 6, d->drives[i0].name_box), 0);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	/* A box under the epoch key it does not name. */
	fix_rotate(&w.f, A);
	CHECK_RC(cf_dir_name_seal(w.f.keys[1], w.f.account_id, 1,
	    d->drives[i0].drive_id, "music", 5, d->drives[i0].name_box), 0);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	cf_dir_free(v);
	cf_dir_free(d);
	rec_free(&r);
	world_free(&w);
}

/*
 * Epochs named must exist at the record's chain entry: a record naming
 * the entry before epoch 2 began may hold no key or secret of epoch 2.
 */
static void
dir_future_epoch(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_chain *before = NULL;
	struct cf_drive_keys *old = NULL;
	struct cf_dir_entry e[3];
	struct cf_dir *d;
	int i;

	world_init(&w);
	CHECK_RC(cf_drive_keys_create(1, &old), 0);
	if (cf_chain_clone(w.f.c, &before) != 0 || old == NULL)
		fix_die("clone");
	fix_rotate(&w.f, A);
	CHECK_RC(cf_drive_keys_add_epoch(w.dk[0], 2), 0);	/* a key of 2 */
	CHECK_RC(cf_drive_keys_rekey(w.dk[1], 2), 0);		/* a secret of 2 */
	e[0] = w.e[0];
	e[1] = w.e[1];
	e[2].name = "old";
	e[2].namelen = 3;
	e[2].dk = old;						/* epoch 1 only */
	for (i = 0; i < 3; i++) {
		CHECK_RC(build(&w.f, A, NULL, &e[i], 1, &r), 0);
		CHECK_RC(accept(&w.f, NULL, &r, NULL), 0);	/* control */
		/* The same drive, naming the entry before epoch 2 began. */
		d = decode(&r);
		d->chain_seq = before->n - 1;
		memcpy(d->chain_head, before->hash[before->n - 1], CF_ID_BYTES);
		reseal_names(&w.f, d, e, 3, 1);
		resign(&w.f, d, A, &x);
		CHECK_RC(accept(&w.f, NULL, &x, NULL), i < 2 ? NOTAUTH : 0);
		rec_free(&x);
		/* A name boxed under an epoch not yet begun. */
		reseal_names(&w.f, d, e, 3, 2);
		resign(&w.f, d, A, &x);
		CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
		rec_free(&x);
		cf_dir_free(d);
		rec_free(&r);
	}
	cf_drive_keys_free(old);
	cf_chain_free(before);
	world_free(&w);
}

/* After a rekey each epoch's chunks take the ids of the secret in force. */
static void
dir_rekey(void)
{
	static const uint8_t chunk[] = "chunk bytes";
	struct world w;
	struct rec r = { 0 };
	struct cf_dir *d = NULL;
	struct cf_drive_keys *dk = NULL;
	struct cf_dir_lookup lk;
	struct cf_objkey k1, k2;
	uint8_t oid[CF_ID_BYTES], ck[CF_KEY_BYTES];
	uint8_t *blob = NULL, *plain = NULL;
	size_t bloblen = 0, plen = 0;
	int e;

	world_init(&w);
	fix_remove(&w.f, A, B, NULL, 0);			/* epoch 2 */
	CHECK_RC(cf_drive_keys_rekey(w.dk[0], 2), 0);
	CHECK_RC(cf_drive_keys_add_epoch(w.dk[0], 2), 0);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	CHECK_RC(accept(&w.f, NULL, &r, &d), 0);
	if (d == NULL)
		goto out;
	CHECK_RC(cf_dir_drive_keys(d, w.dk[0]->drive_id,
	    (const uint8_t (*)[CF_KEY_BYTES])w.f.keys, w.f.nkeys, &dk), 0);
	if (dk == NULL)
		goto out;
	CHECK(dk->nsecrets == 2 && dk->nepochs == 2);
	CHECK_RC(cf_drive_keys_objkey(dk, CF_OBJ_CHUNK, 1, &k1), 0);
	CHECK_RC(cf_drive_keys_objkey(dk, CF_OBJ_CHUNK, 2, &k2), 0);
	CHECK(memcmp(k1.id_key, dk->secrets[0].chunk_id_key, CF_KEY_BYTES) == 0);
	CHECK(memcmp(k2.id_key, dk->secrets[1].chunk_id_key, CF_KEY_BYTES) == 0);
	CHECK(memcmp(k1.id_key, k2.id_key, CF_KEY_BYTES) != 0);
	CHECK_RC(cf_drive_keys_chunker(dk, 1, ck), 0);
	CHECK(memcmp(ck, dk->secrets[0].chunker_key, CF_KEY_BYTES) == 0);
	CHECK_RC(cf_drive_keys_chunker(dk, 2, ck), 0);
	CHECK(memcmp(ck, dk->secrets[1].chunker_key, CF_KEY_BYTES) == 0);
	lk.dk = dk;
	lk.max_epoch = 2;
	for (e = 0; e < 2; e++) {
		CHECK_RC(cf_object_seal(e ? &k2 : &k1, CF_OBJ_CHUNK,
		    w.dk[0]->drive_id, chunk, sizeof(chunk), 0, oid, &blob,
		    &bloblen), 0);
		CHECK_RC(cf_object_open(blob, bloblen, CF_OBJ_CHUNK,
		    w.dk[0]->drive_id, oid, cf_dir_lookup, &lk, &plain, &plen), 0);
		free(blob);
		free(plain);
		blob = plain = NULL;
	}
out:
	rec_free(&r);
	cf_dir_free(d);
	cf_drive_keys_free(dk);
	world_free(&w);
}

/* ---- Malformed records ---- */

static void
dir_malformed(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_dir *d = NULL, *v;
	struct cf_dir_drive tmp;
	size_t i, bad = 0;

	world_init(&w);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	/* Every truncation and every extension is refused. */
	for (i = 0; i < r.len; i++)
		if (cf_dir_decode(r.p, i, &v) != NOTAUTH)
			bad++;
	CHECK(bad == 0);
	if ((x.p = malloc(r.len + 1)) == NULL)
		fix_die("malloc");
	memcpy(x.p, r.p, r.len);
	x.p[r.len] = 0;
	x.len = r.len + 1;
	CHECK_RC(cf_dir_decode(x.p, x.len, &v), NOTAUTH);
	/* Every byte flipped: refused (by the parser or the checks). */
	for (i = 0; i < r.len; i++) {
		x.p[i] ^= 0x20;
		if (accept(&w.f, NULL, &(struct rec){ x.p, r.len }, NULL) !=
		    NOTAUTH)
			bad++;
		x.p[i] ^= 0x20;
	}
	CHECK(bad == 0);
	rec_free(&x);
	/* Drives out of order. */
	d = decode(&r);
	tmp = d->drives[0];
	d->drives[0] = d->drives[1];
	d->drives[1] = tmp;
	resign(&w.f, d, A, &x);
	CHECK_RC(cf_dir_decode(x.p, x.len, &v), NOTAUTH);
	rec_free(&x);
	cf_dir_free(d);
	rec_free(&r);
	world_free(&w);
}

/* ---- Rules without a case above ---- */

/*
 * Intermediate records between a pin and a head (FORMAT §16): each must
 * be the next version, of this account, and name a chain entry no older
 * than the one before it.  Each bad record is hash-linked correctly (the
 * head is re-signed over it), so only the rule under test refuses it.
 */
static void
dir_intermediate_rules(void)
{
	struct world w;
	struct rec r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, xr = { 0 }, yr = { 0 };
	struct cf_dir *d1 = NULL, *d2 = NULL, *x, *y, *out = NULL;
	struct cf_dir_pin pin1;
	const uint8_t *inter[1];
	size_t ilen[1];
	int k;

	world_init(&w);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r1), 0);
	CHECK_RC(accept(&w.f, NULL, &r1, &d1), 0);
	if (d1 == NULL)
		goto out;
	cf_dir_pin_of(d1, &pin1);
	CHECK(pin1.chain_seq == 1);
	CHECK_RC(build(&w.f, A, d1, w.e, 2, &r2), 0);
	CHECK_RC(accept(&w.f, &pin1, &r2, &d2), 0);
	if (d2 == NULL)
		goto out;
	CHECK_RC(build(&w.f, A, d2, w.e, 2, &r3), 0);
	/* k = 0: control (re-signed, unchanged); 1: version; 2: chain
	 * entry older than the pin's; 3: another account. */
	for (k = 0; k < 4; k++) {
		x = decode(&r2);
		switch (k) {
		case 1:
			x->version = 7;
			break;
		case 2:
			x->chain_seq = 0;
			memcpy(x->chain_head, w.f.c->hash[0], CF_ID_BYTES);
			break;
		case 3:
			x->account_id[0] ^= 1;
			break;
		default:
			break;
		}
		resign(&w.f, x, A, &xr);
		y = decode(&r3);
		cf_dir_hash(xr.p, xr.len, y->prev_hash);
		resign(&w.f, y, A, &yr);
		inter[0] = xr.p;
		ilen[0] = xr.len;
		CHECK_RC(cf_dir_accept(w.f.c, &pin1, (const uint8_t (*)
		    [CF_KEY_BYTES])w.f.keys, w.f.nkeys, yr.p, yr.len, inter,
		    ilen, 1, &out), k == 0 ? 0 : NOTAUTH);
		cf_dir_free(out);
		out = NULL;
		cf_dir_free(x);
		cf_dir_free(y);
		rec_free(&xr);
		rec_free(&yr);
	}
out:
	rec_free(&r1);
	rec_free(&r2);
	rec_free(&r3);
	cf_dir_free(d1);
	cf_dir_free(d2);
	world_free(&w);
}

/* A drive secret listed under an id that is not key_id(S), wrapped right. */
static void
dir_secret_id(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_dir *d;
	struct cf_dir_secret *s;
	uint8_t ctx[3 * CF_ID_BYTES + 8];
	size_t i;
	int k;

	world_init(&w);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	for (k = 0; k < 2; k++) {			/* 0: control */
		d = decode(&r);
		i = drive_index(d, w.dk[0]);
		s = &d->drives[i].secrets[0];
		if (k == 1)
			s->id[5] ^= 0x40;
		memcpy(ctx, w.f.account_id, CF_ID_BYTES);
		memcpy(ctx + CF_ID_BYTES, w.dk[0]->drive_id, CF_ID_BYTES);
		memcpy(ctx + 2 * CF_ID_BYTES, s->id, CF_ID_BYTES);
		cf_be64enc(ctx + 3 * CF_ID_BYTES, s->epoch);
		CHECK_RC(cf_wrap_seal(w.f.keys[s->epoch - 1],
		    CF_LABEL_WRAP_SECRET, ctx, sizeof(ctx),
		    w.dk[0]->secrets[0].secret, CF_KEY_BYTES, s->wrapped), 0);
		resign(&w.f, d, A, &x);
		CHECK_RC(accept(&w.f, NULL, &x, NULL), k == 0 ? 0 : NOTAUTH);
		rec_free(&x);
		cf_dir_free(d);
	}
	rec_free(&r);
	world_free(&w);
}

/* A drive key of an epoch before the drive's first secret. */
static void
dir_key_before_secret(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_dir *d;
	struct cf_dir_key *dkey;
	struct cf_drive_keys *late = NULL;
	struct cf_dir_entry e[3];
	uint8_t ctx[3 * CF_ID_BYTES + 8];
	size_t i;

	world_init(&w);
	fix_rotate(&w.f, A);				/* epoch 2 */
	CHECK_RC(cf_drive_keys_create(2, &late), 0);
	if (late == NULL)
		goto out;
	e[0] = w.e[0];
	e[1] = w.e[1];
	e[2].name = "late";
	e[2].namelen = 4;
	e[2].dk = late;
	CHECK_RC(build(&w.f, A, NULL, e, 3, &r), 0);
	CHECK_RC(accept(&w.f, NULL, &r, NULL), 0);	/* control */
	d = decode(&r);
	i = drive_index(d, late);
	CHECK(d->drives[i].nsecrets == 1 && d->drives[i].secrets[0].epoch == 2);
	CHECK(d->drives[i].nkeys == 1);
	/* Its epoch-2 key listed for epoch 1, wrapped right for epoch 1. */
	dkey = &d->drives[i].keys[0];
	dkey->epoch = 1;
	memcpy(ctx, w.f.account_id, CF_ID_BYTES);
	memcpy(ctx + CF_ID_BYTES, late->drive_id, CF_ID_BYTES);
	memcpy(ctx + 2 * CF_ID_BYTES, dkey->key_id, CF_ID_BYTES);
	cf_be64enc(ctx + 3 * CF_ID_BYTES, 1);
	CHECK_RC(cf_wrap_seal(w.f.keys[0], CF_LABEL_WRAP_EPOCH, ctx,
	    sizeof(ctx), late->epochs[0].dkey, CF_KEY_BYTES, dkey->wrapped), 0);
	resign(&w.f, d, A, &x);
	CHECK_RC(accept(&w.f, NULL, &x, NULL), NOTAUTH);
	rec_free(&x);
	cf_dir_free(d);
out:
	cf_drive_keys_free(late);
	rec_free(&r);
	world_free(&w);
}

/* A name box whose padding is not all zero (FORMAT §16). */
static void
dir_name_padding(void)
{
	uint8_t ke[CF_KEY_BYTES], acct[CF_ID_BYTES], drive[CF_ID_BYTES];
	uint8_t key[CF_KEY_BYTES], ad[CF_ID_BYTES + 8 + CF_ID_BYTES];
	uint8_t plain[CF_DIR_NAME_PLAIN_BYTES], box[CF_DIR_NAME_BOX_BYTES];
	char name[CF_DIR_NAME_MAX + 1];
	size_t namelen, at;
	int k;

	randombytes_buf(ke, sizeof(ke));
	memset(acct, 0xa1, sizeof(acct));
	memset(drive, 0xd1, sizeof(drive));
	crypto_generichash(key, sizeof(key), (const uint8_t *)"coffer-dirname-v1",
	    17, ke, sizeof(ke));
	memcpy(ad, acct, CF_ID_BYTES);
	cf_be64enc(ad + CF_ID_BYTES, 3);
	memcpy(ad + CF_ID_BYTES + 8, drive, CF_ID_BYTES);
	/* k = 0: control; then a non-zero byte right after the name, and last. */
	for (k = 0; k < 3; k++) {
		memset(plain, 0, sizeof(plain));
		plain[0] = 5;
		memcpy(plain + 1, "music", 5);
		at = (k == 1) ? 6 : sizeof(plain) - 1;
		if (k > 0)
			plain[at] = 0x20;
		randombytes_buf(box, 24);
		crypto_aead_xchacha20poly1305_ietf_encrypt(box + 24, NULL, plain,
		    sizeof(plain), ad, sizeof(ad), NULL, box, key);
		CHECK_RC(cf_dir_name_open(ke, acct, 3, drive, box, name,
		    &namelen), k == 0 ? 0 : NOTAUTH);
		CHECK(k != 0 || (namelen == 5 && memcmp(name, "music", 5) == 0));
	}
	sodium_memzero(key, sizeof(key));
}

/*
 * Rules the decoder alone enforces (records between a pin and a head are
 * only decoded, FORMAT §16): each case is re-encoded and re-signed, and
 * the unmodified record, re-encoded the same way, decodes (control).
 */
static void
dir_decode_rules(void)
{
	struct world w;
	struct rec r = { 0 }, x = { 0 };
	struct cf_dir *d, *v = NULL;
	size_t i0;
	int k;

	world_init(&w);
	fix_remove(&w.f, A, B, NULL, 0);			/* epoch 2 */
	CHECK_RC(cf_drive_keys_rekey(w.dk[0], 2), 0);
	CHECK_RC(cf_drive_keys_add_epoch(w.dk[0], 2), 0);
	CHECK_RC(build(&w.f, A, NULL, w.e, 2, &r), 0);
	for (k = 0; k < 6; k++) {
		d = decode(&r);
		i0 = drive_index(d, w.dk[0]);
		CHECK(d->drives[i0].nsecrets == 2 && d->drives[i0].nkeys == 2);
		switch (k) {
		case 1:		/* a name epoch of 0 */
			d->drives[i0].name_epoch = 0;
			break;
		case 2:		/* secret epochs not increasing */
			d->drives[i0].secrets[1].epoch =
			    d->drives[i0].secrets[0].epoch;
			break;
		case 3:		/* drive key epochs not increasing */
			d->drives[i0].keys[1].epoch =
			    d->drives[i0].keys[0].epoch;
			break;
		case 4:		/* the same drive id twice */
			memcpy(d->drives[1].drive_id, d->drives[0].drive_id,
			    CF_ID_BYTES);
			break;
		default:
			break;
		}
		resign(&w.f, d, A, &x);
		if (k == 5) {
			/* Another format version, signed over. */
			uint8_t *m;
			size_t plen = sizeof("coffer-dir-v1") - 1;

			x.p[CF_DIR_TAG_BYTES] = CF_DIR_VERSION + 1;
			if ((m = malloc(plen + x.len - CF_SIG_BYTES)) == NULL)
				fix_die("malloc");
			memcpy(m, "coffer-dir-v1", plen);
			memcpy(m + plen, x.p, x.len - CF_SIG_BYTES);
			crypto_sign_detached(x.p + x.len - CF_SIG_BYTES, NULL, m,
			    plen + x.len - CF_SIG_BYTES, w.f.dev[A]->sign_sk);
			free(m);
		}
		CHECK_RC(cf_dir_decode(x.p, x.len, &v), k == 0 ? 0 : NOTAUTH);
		cf_dir_free(v);
		v = NULL;
		rec_free(&x);
		cf_dir_free(d);
	}
	rec_free(&r);
	world_free(&w);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(dir_honest);
	T_RUN(dir_build_args);
	T_RUN(dir_stranger);
	T_RUN(dir_removed_signer);
	T_RUN(dir_signer_not_yet_added);
	T_RUN(dir_removed_signer_backdated);
	T_RUN(dir_unknown_head);
	T_RUN(dir_other_account);
	T_RUN(dir_rollback_and_fork);
	T_RUN(dir_unknown_key_id);
	T_RUN(dir_wrong_epoch_wrap);
	T_RUN(dir_secret_moved);
	T_RUN(dir_name_swapped);
	T_RUN(dir_future_epoch);
	T_RUN(dir_rekey);
	T_RUN(dir_malformed);
	T_RUN(dir_intermediate_rules);
	T_RUN(dir_secret_id);
	T_RUN(dir_key_before_secret);
	T_RUN(dir_name_padding);
	T_RUN(dir_decode_rules);
	T_DONE("dir");
}
