/*
 * The chain as a person reads it (lib/client/device.c, cf_chain_changes):
 * what each entry did, to which device, signed by whom (a device or the
 * recovery key), when, and in which epoch; names only with the epoch keys.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/device.h"
#include "chain_fix.h"

static void
changes_all_kinds(void)
{
	struct fix f;
	struct cf_chain_change *ch = NULL;
	struct cf_signer s;
	uint8_t *e = NULL;
	size_t n = 0, len = 0;

	fix_init(&f);
	fix_add(&f, A, B);				/* 1 */
	s = fix_rk_signer(&f, 0);
	if (fix_add_entry(&f, &s, C, &e, &len) != 0)	/* 2: by the recovery key */
		fix_die("add by rk");
	fix_push(&f, e, len);
	fix_remove(&f, A, B, NULL, 0);			/* 3: epoch 2 */
	fix_rotate(&f, C);				/* 4: epoch 3 */
	fix_setrk(&f, A, 1);				/* 5: epoch 4 */

	CHECK_RC(cf_chain_changes(f.c, (const uint8_t (*)[CF_KEY_BYTES])f.keys,
	    f.nkeys, 0, &ch, &n), 0);
	CHECK(n == 6);
	if (n == 6) {
		CHECK(ch[0].type == CF_ENTRY_GENESIS && ch[0].has_subject &&
		    !memcmp(ch[0].subject_id, f.dev[A]->device_id, CF_ID_BYTES) &&
		    !strcmp(ch[0].subject_name, "laptop A") && ch[0].epoch == 1);
		CHECK(ch[1].type == CF_ENTRY_ADD && ch[1].has_subject &&
		    !memcmp(ch[1].subject_id, f.dev[B]->device_id, CF_ID_BYTES) &&
		    !strcmp(ch[1].subject_name, "device") &&
		    !strcmp(ch[1].signer_name, "laptop A") && !ch[1].signer_is_rk);
		CHECK(ch[2].type == CF_ENTRY_ADD && ch[2].signer_is_rk &&
		    ch[2].signer_name[0] == '\0' &&
		    !memcmp(ch[2].signer_id, f.rk_id[0], CF_ID_BYTES) &&
		    !memcmp(ch[2].subject_id, f.dev[C]->device_id, CF_ID_BYTES));
		CHECK(ch[3].type == CF_ENTRY_REMOVE && ch[3].has_subject &&
		    !memcmp(ch[3].subject_id, f.dev[B]->device_id, CF_ID_BYTES) &&
		    ch[3].epoch == 2 && ch[3].time > ch[2].time);
		CHECK(ch[4].type == CF_ENTRY_ROTATE && !ch[4].has_subject &&
		    ch[4].epoch == 3 &&
		    !memcmp(ch[4].signer_id, f.dev[C]->device_id, CF_ID_BYTES));
		CHECK(ch[5].type == CF_ENTRY_SETRK && ch[5].epoch == 4 &&
		    !ch[5].signer_is_rk && ch[5].seq == 5);
	}
	free(ch);
	ch = NULL;

	/* From a later seq: only what came after; past the end: nothing. */
	CHECK_RC(cf_chain_changes(f.c, (const uint8_t (*)[CF_KEY_BYTES])f.keys,
	    f.nkeys, 4, &ch, &n), 0);
	CHECK(n == 2 && ch != NULL && ch[0].seq == 4);
	free(ch);
	ch = NULL;
	CHECK_RC(cf_chain_changes(f.c, NULL, 0, 6, &ch, &n), 0);
	CHECK(n == 0 && ch == NULL);

	/* Without the epoch keys, no names (and nothing else lost). */
	CHECK_RC(cf_chain_changes(f.c, NULL, 0, 0, &ch, &n), 0);
	CHECK(n == 6 && ch != NULL && ch[0].subject_name[0] == '\0' &&
	    ch[1].signer_name[0] == '\0' && ch[1].has_subject);
	free(ch);
	ch = NULL;
	/* With the wrong keys, no names either. */
	CHECK_RC(cf_chain_changes(f.c, (const uint8_t (*)[CF_KEY_BYTES])f.keys + 1,
	    1, 0, &ch, &n), 0);
	CHECK(n == 6 && ch != NULL && ch[0].subject_name[0] == '\0');
	free(ch);
	fix_free(&f);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(changes_all_kinds);
	T_DONE("device");
}
