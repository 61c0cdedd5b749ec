/*
 * Trusted devices (DESIGN §5; FORMAT §14-§17): the list of devices and
 * the history of the chain, and what the other pieces share -- the pins
 * saved, the drive heads an entry or an approval names.  Removal and the
 * epochs it starts are device_epoch.c; a new device's join, its approval
 * and recovery are device_pair.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/err.h"
#include "chain/chain.h"
#include "chain/dir.h"
#include "chain/pair.h"
#include "crypto/recovery.h"
#include "util/buf.h"
#include "device_internal.h"
#include "ops.h"

uint64_t
cf_device_now(void)
{
	time_t t = time(NULL);

	return t < 0 ? 0 : (uint64_t)t;
}

/*
 * Append ${entry} (${elen} bytes, with the envelopes ${envs}) to the
 * account's chain on the server by compare-and-swap at the session's
 * length, then take ${*c2p} (the session's chain with the entry) as the
 * session's.
 */
int
cf_device_chain_put(struct cf_session *s, const uint8_t *entry, size_t elen,
    const struct cf_blobs *envs, struct cf_chain **c2p)
{
	uint64_t length = 0;
	int r;

	if ((r = cf_client_chain_append(s->net, s->chain->n, entry, elen,
	    envs, 0, &length)) != 0)
		return r;
	cf_chain_free(s->chain);
	s->chain = *c2p;
	*c2p = NULL;
	return 0;
}

/* 1 if ${id} is the id of any recovery key ${c} ever registered. */
int
cf_device_is_rk(const struct cf_chain *c, const uint8_t id[static CF_ID_BYTES])
{
	size_t i;

	for (i = 0; i < c->nrks; i++)
		if (!memcmp(c->rks[i].id, id, CF_ID_BYTES))
			return 1;
	return 0;
}

/* The device name of ${d}, or "" if its box does not open with ${ks}. */
static void
device_name(const struct cf_chain *c, const struct cf_chain_device *d,
    const uint8_t (*ks)[CF_KEY_BYTES], uint64_t nks,
    char out[static CF_DEVICE_NAME_MAX + 1])
{
	char *name = NULL;
	size_t len = 0;

	out[0] = '\0';
	if (d == NULL || ks == NULL || d->name_epoch == 0 || d->name_epoch > nks)
		return;
	if (cf_name_box_open(ks[d->name_epoch - 1], c->account_id,
	    d->name_epoch, d->name_box, d->name_box_len, &name, &len) != 0)
		return;
	if (len <= CF_DEVICE_NAME_MAX) {
		memcpy(out, name, len);
		out[len] = '\0';
	}
	cf_wipefree(name, len);
}

int
cf_chain_changes(const struct cf_chain *c, const uint8_t (*ks)[CF_KEY_BYTES],
    uint64_t nks, uint64_t from, struct cf_chain_change **changesp, size_t *np)
{
	struct cf_chain_change *ch = NULL, *x;
	const struct cf_chain_device *d;
	uint64_t seq;
	size_t i, n;

	*changesp = NULL;
	*np = 0;
	if (from >= c->n)
		return 0;
	n = (size_t)(c->n - from);
	if ((ch = calloc(n, sizeof(*ch))) == NULL)
		return COFFER_ENOMEM;
	for (seq = from; seq < c->n; seq++) {
		x = &ch[seq - from];
		x->seq = seq;
		x->type = c->entry_type[seq];
		x->time = c->entry_time[seq];
		x->epoch = cf_chain_epoch_at(c, seq);
		memcpy(x->signer_id, c->entry_signer[seq], CF_ID_BYTES);
		x->signer_is_rk = cf_device_is_rk(c, x->signer_id);
		device_name(c, cf_chain_device(c, x->signer_id), ks, nks,
		    x->signer_name);
		if (x->type == CF_ENTRY_GENESIS || x->type == CF_ENTRY_ADD) {
			for (i = 0; i < c->ndevices; i++) {
				if (c->devices[i].added_seq != seq)
					continue;
				x->has_subject = 1;
				memcpy(x->subject_id, c->devices[i].id, CF_ID_BYTES);
				device_name(c, &c->devices[i], ks, nks,
				    x->subject_name);
			}
		} else if (x->type == CF_ENTRY_REMOVE) {
			for (i = 0; i < c->nremovals; i++) {
				if (c->removals[i].seq != seq)
					continue;
				x->has_subject = 1;
				memcpy(x->subject_id, c->removals[i].removed_id,
				    CF_ID_BYTES);
				d = cf_chain_device(c, x->subject_id);
				device_name(c, d, ks, nks, x->subject_name);
			}
		}
	}
	*changesp = ch;
	*np = n;
	return 0;
}

int
cf_device_list(struct cf_session *s, struct cf_device_info **devsp, size_t *np)
{
	struct cf_device_info *v = NULL;
	const struct cf_chain *c = s->chain;
	size_t i, n = 0;

	*devsp = NULL;
	*np = 0;
	if ((v = calloc(c->ndevices + 1, sizeof(*v))) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < c->ndevices; i++) {
		if (c->devices[i].removed)
			continue;
		memcpy(v[n].id, c->devices[i].id, CF_ID_BYTES);
		memcpy(v[n].added_by, c->devices[i].added_by, CF_ID_BYTES);
		v[n].added_at = c->devices[i].added_time;
		v[n].this_device = !memcmp(c->devices[i].id, s->keys->device_id,
		    CF_ID_BYTES);
		device_name(c, &c->devices[i],
		    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, v[n].name);
		n++;
	}
	*devsp = v;
	*np = n;
	return 0;
}

int
cf_device_blobs_alloc(struct cf_blobs *b, size_t n)
{
	b->n = 0;
	if ((b->p = calloc(n + 1, sizeof(*b->p))) == NULL ||
	    (b->len = calloc(n + 1, sizeof(*b->len))) == NULL)
		return COFFER_ENOMEM;
	return 0;
}


/*
 * The head of every drive of the verified directory: synced against its
 * pin (${sync}), or as pinned.  ${*headsp} (malloc'd, sorted by drive id
 * as the directory is) holds the heads.
 */
int
cf_device_heads(struct cf_session *s, int sync, struct cf_drive_head **headsp,
    size_t *np)
{
	struct cf_drive_head *h = NULL;
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	const uint8_t *id;
	size_t i, n = s->dir == NULL ? 0 : s->dir->ndrives;
	int r = 0;

	*headsp = NULL;
	*np = 0;
	if ((h = calloc(n + 1, sizeof(*h))) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < n; i++) {
		id = s->dir->drives[i].drive_id;
		if (sync && (r = cf_dir_drive_keys(s->dir, id,
		    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, &dk)) != 0)
			goto out;
		if ((r = cf_session_load_pin(s, id, &pin)) != 0)
			goto out;
		if (sync && (r = cf_session_sync_head(s, dk, pin)) != 0)
			goto out;
		memcpy(h[i].drive_id, pin->drive_id, CF_ID_BYTES);
		h[i].version = pin->n;
		if (pin->n > 0)
			memcpy(h[i].commit_id, pin->ids[pin->n - 1], CF_ID_BYTES);
		cf_drivepin_free(pin);
		pin = NULL;
		cf_drive_keys_free(dk);
		dk = NULL;
	}
	*headsp = h;
	*np = n;
	h = NULL;
out:
	cf_drivepin_free(pin);
	cf_drive_keys_free(dk);
	free(h);
	return r;
}
