/*
 * Accepting a new head for a drive (FORMAT §14.7).
 */
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "history.h"

/* The commit at ${version} must be ${want}: from the line or the device's record. */
static int
floor_check(const struct cf_drive_head *pin, cf_history_known_fn *known,
    void *ctx, const struct cf_history_step *line, size_t n,
    const struct cf_drive_head *fl)
{
	uint8_t id[CF_ID_BYTES];
	int r;

	if (fl->version == 0)
		return 0;		/* the drive was empty: everything descends */
	if (fl->version > pin->version + n)
		return COFFER_ENOTAUTHENTIC;	/* the head is below the record */
	if (fl->version > pin->version) {
		if (sodium_memcmp(line[fl->version - pin->version - 1].id,
		    fl->commit_id, CF_ID_BYTES) != 0)
			return COFFER_ENOTAUTHENTIC;
		return 0;
	}
	if (fl->version == pin->version)
		return sodium_memcmp(pin->commit_id, fl->commit_id,
		    CF_ID_BYTES) == 0 ? 0 : COFFER_ENOTAUTHENTIC;
	/* Below the pin: this device's own record, if it keeps one. */
	if (known == NULL)
		return 0;
	r = known(ctx, fl->version, id);
	if (r == COFFER_ENOENT)
		return 0;
	if (r != 0)
		return r;
	return sodium_memcmp(id, fl->commit_id, CF_ID_BYTES) == 0 ? 0 :
	    COFFER_ENOTAUTHENTIC;
}

/* The line's checks; the removals' records too if ${floors}. */
static int
accept_line(const struct cf_chain *c,
    const uint8_t drive_id[static CF_ID_BYTES], const struct cf_drive_head *pin,
    uint64_t pin_chain_seq, cf_history_known_fn *known, void *ctx,
    const struct cf_history_step *line, size_t n, int floors,
    struct cf_drive_head *head)
{
	const struct cf_chain_device *dev;
	const struct cf_chain_removal *rm;
	struct cf_drive_head fl;
	struct cf_commit cm;
	const uint8_t *parent;
	uint64_t parent_seq;
	int has_parent, r = COFFER_ENOTAUTHENTIC;
	size_t i, j;

	memset(head, 0, sizeof(*head));
	if (n > CF_HISTORY_LINE_MAX || (n > 0 && line == NULL))
		return COFFER_EINVAL;
	if (pin->version > UINT64_MAX - n)
		return COFFER_ENOTAUTHENTIC;
	has_parent = pin->version > 0;
	parent = pin->commit_id;
	parent_seq = pin_chain_seq;
	for (i = 0; i < n; i++) {
		if (cf_commit_decode(line[i].commit, line[i].len, &cm) != 0)
			goto out;
		if (memcmp(cm.drive_id, drive_id, CF_ID_BYTES) != 0 ||
		    cm.version != pin->version + i + 1)
			goto out;
		if (has_parent ?
		    memcmp(cm.parent_id, parent, CF_ID_BYTES) != 0 :
		    !sodium_is_zero(cm.parent_id, CF_ID_BYTES))
			goto out;
		if ((dev = cf_chain_device(c, cm.author_id)) == NULL)
			goto out;	/* a stranger: never in the chain */
		if (cf_commit_verify(line[i].commit, line[i].len, dev->sign_pk,
		    &cm) != 0)
			goto out;
		if (cf_chain_check_commit(c, drive_id, cm.version, cm.author_id,
		    cm.chain_seq, cm.chain_head, has_parent, parent_seq,
		    line[i].sealed_epoch) != 0)
			goto out;
		has_parent = 1;
		parent = line[i].id;
		parent_seq = cm.chain_seq;
	}
	/* Every removal's record for this drive is a pin too. */
	for (i = 0; floors && i < c->nremovals; i++) {
		rm = &c->removals[i];
		for (j = 0; j < rm->ndrives; j++) {
			if (memcmp(rm->drives[j].drive_id, drive_id,
			    CF_ID_BYTES) != 0)
				continue;
			fl = rm->drives[j];
			if ((r = floor_check(pin, known, ctx, line, n, &fl)) != 0)
				goto out;
		}
	}
	memcpy(head->drive_id, drive_id, CF_ID_BYTES);
	head->version = pin->version + n;
	memcpy(head->commit_id, n > 0 ? line[n - 1].id : pin->commit_id,
	    CF_ID_BYTES);
	r = 0;
out:
	sodium_memzero(&cm, sizeof(cm));
	return r;
}

int
cf_history_accept(const struct cf_chain *c,
    const uint8_t drive_id[static CF_ID_BYTES], const struct cf_drive_head *pin,
    uint64_t pin_chain_seq, cf_history_known_fn *known, void *ctx,
    const struct cf_history_step *line, size_t n, struct cf_drive_head *head)
{
	return accept_line(c, drive_id, pin, pin_chain_seq, known, ctx, line, n,
	    1, head);
}

int
cf_history_accept_part(const struct cf_chain *c,
    const uint8_t drive_id[static CF_ID_BYTES], const struct cf_drive_head *pin,
    uint64_t pin_chain_seq, const struct cf_history_step *line, size_t n,
    struct cf_drive_head *head)
{
	return accept_line(c, drive_id, pin, pin_chain_seq, NULL, NULL, line,
	    n, 0, head);
}
