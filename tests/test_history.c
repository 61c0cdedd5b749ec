/*
 * Accepting a drive's new head against the chain (FORMAT §14.7): each
 * case passes only because of the rule it names.
 */
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chain/chain.h"
#include "tree/history.h"
#include "tree/tree.h"
#include "chain_fix.h"
#include "t.h"

#define MAXV 16

/* A drive's commits as the server might serve them. */
struct line {
	uint8_t buf[MAXV][CF_COMMIT_BYTES];
	uint8_t id[MAXV][CF_ID_BYTES];
	struct cf_history_step step[MAXV];
	size_t n;
};

static uint8_t drive[CF_ID_BYTES];

/*
 * Append to ${l} a commit of ${version} with parent ${parent} (NULL for
 * none), by device ${who} of ${f}, naming the chain's current head, signed
 * with ${signer}'s key (normally the author's).
 */
static const uint8_t *
mk(struct line *l, struct fix *f, int who, int signer, uint64_t version,
    const uint8_t *parent, uint8_t salt)
{
	struct cf_commit c;
	size_t i = l->n++;

	memset(&c, 0, sizeof(c));
	memcpy(c.drive_id, drive, CF_ID_BYTES);
	c.version = version;
	if (parent != NULL)
		memcpy(c.parent_id, parent, CF_ID_BYTES);
	memset(c.root_id, salt, CF_ID_BYTES);
	memcpy(c.author_id, f->dev[who]->device_id, CF_ID_BYTES);
	c.time = f->time;
	c.chain_seq = f->c->n - 1;
	memcpy(c.chain_head, f->c->hash[f->c->n - 1], CF_ID_BYTES);
	c.has_root_meta = 1;		/* format 2, CF_COMMIT_BYTES long */
	c.root_mode = 0755;
	if (cf_commit_sign(&c, f->dev[signer]->sign_sk, l->buf[i]) != 0)
		fix_die("commit");
	/* The object id stands in for the keyed id the object layer checks. */
	crypto_generichash(l->id[i], CF_ID_BYTES, l->buf[i], CF_COMMIT_BYTES,
	    NULL, 0);
	l->step[i].commit = l->buf[i];
	l->step[i].len = CF_COMMIT_BYTES;
	l->step[i].id = l->id[i];
	l->step[i].sealed_epoch = cf_chain_epoch_at(f->c, c.chain_seq);
	return l->id[i];
}

static struct cf_drive_head
headof(const struct line *l, size_t i)
{
	struct cf_drive_head h;

	memcpy(h.drive_id, drive, CF_ID_BYTES);
	h.version = i + 1;
	memcpy(h.commit_id, l->id[i], CF_ID_BYTES);
	return h;
}

static const struct cf_drive_head zero_pin;

static int
accept(struct fix *f, const struct cf_drive_head *pin, uint64_t pin_seq,
    const struct line *l, size_t from, size_t n, cf_history_known_fn *known,
    void *ctx)
{
	struct cf_drive_head h;

	return cf_history_accept(f->c, drive, pin, pin_seq, known, ctx,
	    l->step + from, n, &h);
}

static void
honest_line(void)
{
	struct fix f;
	struct line l = { .n = 0 };
	struct cf_drive_head h, pin;
	const uint8_t *p;

	fix_init(&f);
	p = mk(&l, &f, A, A, 1, NULL, 1);
	p = mk(&l, &f, A, A, 2, p, 2);
	(void)mk(&l, &f, A, A, 3, p, 3);
	CHECK_RC(cf_history_accept(f.c, drive, &zero_pin, 0, NULL, NULL,
	    l.step, 3, &h), 0);
	CHECK(h.version == 3 && memcmp(h.commit_id, l.id[2], CF_ID_BYTES) == 0);
	/* From a pin at version 1. */
	pin = headof(&l, 0);
	CHECK_RC(accept(&f, &pin, 0, &l, 1, 2, NULL, NULL), 0);
	/* Nothing new: the pin itself. */
	pin = headof(&l, 2);
	CHECK_RC(accept(&f, &pin, 0, &l, 0, 0, NULL, NULL), 0);
	fix_free(&f);
}

static void
line_must_descend(void)
{
	struct fix f;
	struct line l = { .n = 0 }, fork = { .n = 0 };
	struct cf_drive_head pin;
	const uint8_t *p1, *p2;

	fix_init(&f);
	p1 = mk(&l, &f, A, A, 1, NULL, 1);
	p2 = mk(&l, &f, A, A, 2, p1, 2);
	(void)mk(&l, &f, A, A, 3, p2, 3);
	/* A fork: another version 2 on top of version 1. */
	(void)mk(&fork, &f, A, A, 2, p1, 9);
	pin = headof(&l, 1);
	CHECK_RC(accept(&f, &pin, 0, &fork, 0, 1, NULL, NULL),
	    COFFER_ENOTAUTHENTIC);	/* version 2 again: not the next one */
	pin = headof(&l, 0);
	CHECK_RC(accept(&f, &pin, 0, &fork, 0, 1, NULL, NULL), 0);	/* control */
	pin.commit_id[0] ^= 1;
	CHECK_RC(accept(&f, &pin, 0, &fork, 0, 1, NULL, NULL),
	    COFFER_ENOTAUTHENTIC);	/* parent is not the pinned commit */
	/* Versions must be consecutive: 1 then 3. */
	pin = zero_pin;
	CHECK_RC(accept(&f, &pin, 0, &l, 0, 1, NULL, NULL), 0);
	{
		struct cf_history_step two[2] = { l.step[0], l.step[2] };

		CHECK_RC(cf_history_accept(f.c, drive, &pin, 0, NULL, NULL, two,
		    2, &pin), COFFER_ENOTAUTHENTIC);
	}
	fix_free(&f);
}

static void
wrong_drive_or_signer(void)
{
	struct fix f;
	struct line l = { .n = 0 }, bad = { .n = 0 };

	fix_init(&f);
	(void)mk(&l, &f, A, A, 1, NULL, 1);
	CHECK_RC(accept(&f, &zero_pin, 0, &l, 0, 1, NULL, NULL), 0);
	/* Signed with B's key though it names A as author. */
	(void)mk(&bad, &f, A, B, 1, NULL, 1);
	CHECK_RC(accept(&f, &zero_pin, 0, &bad, 0, 1, NULL, NULL),
	    COFFER_ENOTAUTHENTIC);
	/* B is not in the chain at all: a stranger. */
	bad.n = 0;
	(void)mk(&bad, &f, B, B, 1, NULL, 1);
	CHECK_RC(accept(&f, &zero_pin, 0, &bad, 0, 1, NULL, NULL),
	    COFFER_ENOTAUTHENTIC);
	/* Another drive's commit. */
	drive[0] ^= 1;
	CHECK_RC(accept(&f, &zero_pin, 0, &l, 0, 1, NULL, NULL),
	    COFFER_ENOTAUTHENTIC);
	drive[0] ^= 1;
	/* Sealed under an epoch other than the one at its named head. */
	l.step[0].sealed_epoch = 2;
	CHECK_RC(accept(&f, &zero_pin, 0, &l, 0, 1, NULL, NULL),
	    COFFER_ENOTAUTHENTIC);
	fix_free(&f);
}

struct known { const uint8_t *id; int rc; };

static int
known_fn(void *ctx, uint64_t version, uint8_t id[CF_ID_BYTES])
{
	struct known *k = ctx;

	(void)version;
	if (k->rc != 0)
		return k->rc;
	memcpy(id, k->id, CF_ID_BYTES);
	return 0;
}

/*
 * B writes versions 1 and 2, A removes B recording (2, id2).  A device
 * whose pin is older than the removal is then served B's own branch.
 */
static void
removed_device_branch(void)
{
	struct fix f;
	struct line l = { .n = 0 }, br = { .n = 0 }, up = { .n = 0 };
	struct cf_drive_head pin, rec;
	struct known k;
	const uint8_t *p1, *p2, *p3;
	uint64_t seq_before;

	fix_init(&f);
	fix_add(&f, A, B);
	p1 = mk(&l, &f, B, B, 1, NULL, 1);
	p2 = mk(&l, &f, B, B, 2, p1, 2);
	seq_before = f.c->n - 1;
	/* B's branch, written before its removal: another version 2, and 3. */
	p3 = mk(&br, &f, B, B, 2, p1, 7);
	(void)mk(&br, &f, B, B, 3, p3, 8);
	rec = headof(&l, 1);
	fix_remove(&f, A, B, &rec, 1);

	/* Honest: the recorded line is accepted from the old pin. */
	pin = headof(&l, 0);
	CHECK_RC(accept(&f, &pin, seq_before, &l, 1, 1, NULL, NULL), 0);
	/* B's branch below and through the record: refused. */
	CHECK_RC(accept(&f, &pin, seq_before, &br, 0, 1, NULL, NULL),
	    COFFER_ENOTAUTHENTIC);
	CHECK_RC(accept(&f, &pin, seq_before, &br, 0, 2, NULL, NULL),
	    COFFER_ENOTAUTHENTIC);
	/* The head held back below the record (a rollback): refused. */
	CHECK_RC(accept(&f, &pin, seq_before, &l, 0, 0, NULL, NULL),
	    COFFER_ENOTAUTHENTIC);
	/* A pin at the recorded version but on B's branch (verified before
	 * the removal was known): refused, with no record kept (known NULL)
	 * so that only the pin's own commit id can decide. */
	pin.version = 2;
	memcpy(pin.commit_id, br.id[0], CF_ID_BYTES);
	CHECK_RC(accept(&f, &pin, seq_before, &l, 0, 0, NULL, NULL),
	    COFFER_ENOTAUTHENTIC);
	pin = headof(&l, 1);					/* control */
	CHECK_RC(accept(&f, &pin, seq_before, &l, 0, 0, NULL, NULL), 0);
	pin = headof(&l, 0);
	/* Above the record, B can write nothing, even naming an old head. */
	{
		struct line late = { .n = 0 };
		struct cf_commit c;

		(void)mk(&late, &f, B, B, 3, p2, 5);
		/* Make it name the chain head from before the removal. */
		CHECK_RC(cf_commit_decode(late.buf[0], CF_COMMIT_BYTES, &c), 0);
		c.chain_seq = seq_before;
		memcpy(c.chain_head, f.c->hash[seq_before], CF_ID_BYTES);
		CHECK_RC(cf_commit_sign(&c, f.dev[B]->sign_sk, late.buf[0]), 0);
		late.step[0].sealed_epoch = cf_chain_epoch_at(f.c, seq_before);
		pin = headof(&l, 1);
		CHECK_RC(accept(&f, &pin, seq_before, &late, 0, 1, NULL, NULL),
		    COFFER_ENOTAUTHENTIC);
	}
	/* A writes on: accepted; a pin above the record is checked against
	 * this device's own record of version 2. */
	(void)mk(&up, &f, A, A, 3, p2, 3);
	pin = headof(&l, 1);
	CHECK_RC(accept(&f, &pin, seq_before, &up, 0, 1, NULL, NULL), 0);
	pin.version = 3;
	memcpy(pin.commit_id, up.id[0], CF_ID_BYTES);
	k.id = l.id[1];
	k.rc = 0;
	CHECK_RC(accept(&f, &pin, f.c->n - 1, &up, 0, 0, known_fn, &k), 0);
	k.id = br.id[0];		/* it had verified B's branch instead */
	CHECK_RC(accept(&f, &pin, f.c->n - 1, &up, 0, 0, known_fn, &k),
	    COFFER_ENOTAUTHENTIC);
	k.rc = COFFER_ENOENT;		/* a joined device keeps no record */
	CHECK_RC(accept(&f, &pin, f.c->n - 1, &up, 0, 0, known_fn, &k), 0);
	fix_free(&f);
}

/* The ids a device verified, version i + 1 at ${ids}[i]. */
struct known_line { const uint8_t (*ids)[CF_ID_BYTES]; uint64_t n; };

static int
known_line_fn(void *ctx, uint64_t version, uint8_t id[CF_ID_BYTES])
{
	struct known_line *k = ctx;

	if (version == 0 || version > k->n)
		return COFFER_ENOENT;
	memcpy(id, k->ids[version - 1], CF_ID_BYTES);
	return 0;
}

/*
 * A line verified in pages (cf_history_accept_part, then
 * cf_history_accept for the last page): each page from the head the one
 * before accepted; a removal's record that falls in an earlier page is
 * checked by the last call through ${known}; a page that does not link
 * to the one before is refused by itself.
 */
static void
paged_line(void)
{
	struct fix f;
	struct line l = { .n = 0 }, br = { .n = 0 }, ab = { .n = 0 };
	struct cf_drive_head pin, h, rec;
	struct known_line k;
	uint8_t ids[4][CF_ID_BYTES];
	const uint8_t *p1, *p2, *p3;
	uint64_t seq_before;

	fix_init(&f);
	fix_add(&f, A, B);
	p1 = mk(&l, &f, B, B, 1, NULL, 1);
	p2 = mk(&l, &f, B, B, 2, p1, 2);
	seq_before = f.c->n - 1;
	/* B's branch from version 1: another version 2, then 3. */
	p3 = mk(&br, &f, B, B, 2, p1, 7);
	(void)mk(&br, &f, B, B, 3, p3, 8);
	rec = headof(&l, 1);
	fix_remove(&f, A, B, &rec, 1);
	p3 = mk(&l, &f, A, A, 3, p2, 3);
	(void)mk(&l, &f, A, A, 4, p3, 4);

	/* Honest: [1, 2] then [3, 4]; the record (2) is in the first page. */
	CHECK_RC(cf_history_accept_part(f.c, drive, &zero_pin, 0, l.step, 2,
	    &h), 0);
	CHECK(h.version == 2 && memcmp(h.commit_id, l.id[1], CF_ID_BYTES) == 0);
	memcpy(ids[0], l.id[0], CF_ID_BYTES);
	memcpy(ids[1], l.id[1], CF_ID_BYTES);
	k.ids = (const uint8_t (*)[CF_ID_BYTES])ids;
	k.n = 2;
	CHECK_RC(accept(&f, &h, seq_before, &l, 2, 2, known_line_fn, &k), 0);
	/* Pages of one: [1], [2], [3], then [4]. */
	CHECK_RC(cf_history_accept_part(f.c, drive, &zero_pin, 0, l.step, 1,
	    &pin), 0);
	CHECK_RC(cf_history_accept_part(f.c, drive, &pin, seq_before,
	    l.step + 1, 1, &h), 0);
	CHECK_RC(cf_history_accept_part(f.c, drive, &h, seq_before, l.step + 2,
	    1, &pin), 0);
	k.n = 3;
	memcpy(ids[2], l.id[2], CF_ID_BYTES);
	CHECK_RC(accept(&f, &pin, f.c->n - 1, &l, 3, 1, known_line_fn, &k), 0);

	/* A line through B's other version 2 (A writes 3 and 4 on it): each
	 * page passes the per-commit checks alone... */
	p3 = mk(&ab, &f, A, A, 3, br.id[0], 5);
	(void)mk(&ab, &f, A, A, 4, p3, 6);
	CHECK_RC(cf_history_accept_part(f.c, drive, &zero_pin, 0, l.step, 1,
	    &pin), 0);
	CHECK_RC(cf_history_accept_part(f.c, drive, &pin, seq_before, br.step,
	    1, &h), 0);
	CHECK_RC(cf_history_accept_part(f.c, drive, &h, seq_before, ab.step,
	    1, &pin), 0);
	/* ...but the last page, checking the record over the whole line
	 * (version 2, two pages back, is B's other commit), refuses it. */
	memcpy(ids[1], br.id[0], CF_ID_BYTES);
	memcpy(ids[2], ab.id[0], CF_ID_BYTES);
	k.n = 3;
	CHECK_RC(accept(&f, &pin, f.c->n - 1, &ab, 1, 1, known_line_fn, &k),
	    COFFER_ENOTAUTHENTIC);
	memcpy(ids[1], l.id[1], CF_ID_BYTES);	/* control: the record's */
	CHECK_RC(accept(&f, &pin, f.c->n - 1, &ab, 1, 1, known_line_fn, &k), 0);
	/* A page that does not start from the head before it: version 3
	 * after a pin of version 1. */
	pin = headof(&l, 0);
	CHECK_RC(cf_history_accept_part(f.c, drive, &pin, 0, l.step + 2, 2, &h),
	    COFFER_ENOTAUTHENTIC);
	/* Two pages swapped: [3, 4] first. */
	CHECK_RC(cf_history_accept_part(f.c, drive, &zero_pin, 0, l.step + 2, 2,
	    &h), COFFER_ENOTAUTHENTIC);
	fix_free(&f);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	memset(drive, 0xd1, sizeof(drive));
	T_RUN(honest_line);
	T_RUN(line_must_descend);
	T_RUN(wrong_drive_or_signer);
	T_RUN(removed_device_branch);
	T_RUN(paged_line);
	T_DONE("history");
}
