/*
 * The history of a drive: accepting a new head (DESIGN §4, FORMAT §14.7).
 *
 * A device pins the newest head it verified per drive.  A served head is
 * accepted only as a line of commits that descends from that pin, each
 * commit signed by its author's key from the verified chain and valid
 * against it, and passing through every head a removal recorded for the
 * drive.  Anything else -- a rollback, a fork, a stranger's commit, a
 * removed device's branch -- is refused as not authentic.
 */
#ifndef CF_HISTORY_H
#define CF_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "tree/tree.h"

/* Commits one call accepts; a longer gap is verified in several calls. */
#define CF_HISTORY_LINE_MAX	65536

/* One commit of the line, as opened from its sealed object. */
struct cf_history_step {
	const uint8_t *commit;		/* the commit's plaintext */
	size_t len;
	const uint8_t *id;		/* the object id it was opened as */
	uint64_t sealed_epoch;		/* epoch of the content key that opened it */
};

/**
 * cf_history_known_fn(ctx, version, id):
 * The id of the commit this device verified earlier at ${version} (at or
 * below its pin) in ${id}, 0; COFFER_ENOENT if it keeps no record of that
 * version (a device that adopted its pin from an approval).
 */
typedef int cf_history_known_fn(void *ctx, uint64_t version,
    uint8_t id[static CF_ID_BYTES]);

/**
 * cf_history_accept(c, drive_id, pin, pin_chain_seq, known, ctx, line, n, head):
 * Verify that ${line}, the ${n} commits with versions pin->version + 1
 * onwards, is an honest continuation of the pinned head ${pin} of drive
 * ${drive_id} (whose commit named chain entry ${pin_chain_seq}; ignored
 * for version 0) under the verified chain ${c}:
 *  - each commit decodes, names ${drive_id}, has the next version and the
 *    previous commit's id (the pin's for the first) as parent;
 *  - its signature verifies with its author's key from ${c};
 *  - cf_chain_check_commit() accepts it (named head, author trusted there,
 *    sealed under that epoch, the rule for removed authors);
 *  - for every removal's record (V, X) for the drive: the new head's
 *    version is at least V and the commit at version V is X (in the line,
 *    or in this device's own record through ${known}).
 * ${n} = 0 re-checks the pin itself against the removals.  On success the
 * accepted head is written to ${head}.  COFFER_ENOTAUTHENTIC otherwise.
 */
int cf_history_accept(const struct cf_chain *c,
    const uint8_t drive_id[static CF_ID_BYTES], const struct cf_drive_head *pin,
    uint64_t pin_chain_seq, cf_history_known_fn *known, void *ctx,
    const struct cf_history_step *line, size_t n, struct cf_drive_head *head);

/**
 * cf_history_accept_part(c, drive_id, pin, pin_chain_seq, line, n, head):
 * cf_history_accept() of a line that goes on past ${line}: every check of
 * each commit but not the removals' records, which only the whole line
 * can pass (the head must reach each record).  A line longer than
 * CF_HISTORY_LINE_MAX is accepted page by page: this for every page but
 * the last, each from the head the one before accepted, then
 * cf_history_accept() for the last, whose ${known} gives the ids of the
 * earlier pages -- so the removals are checked over the whole line.
 * Nothing is accepted (pinned) until the last page is.
 */
int cf_history_accept_part(const struct cf_chain *c,
    const uint8_t drive_id[static CF_ID_BYTES], const struct cf_drive_head *pin,
    uint64_t pin_chain_seq, const struct cf_history_step *line, size_t n,
    struct cf_drive_head *head);

#endif
