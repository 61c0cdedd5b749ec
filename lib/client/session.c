/*
 * A client session: load the device, sync and verify chain, keys and
 * directory; drive heads against their pins; verified object fetches.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#include "tree/history.h"
#include "tree/tree.h"
#include "util/buf.h"
#include "util/err.h"
#include "session.h"

#define FETCH_BATCH		256	/* ids per get-many request */
#define CHAIN_PAGES_MAX		4096	/* pages of one chain sync */
#define DRIVEPIN_FILE_MAX	(64 + (size_t)CF_DRIVEPIN_MAX_VERSIONS * CF_ID_BYTES)
#define PIN_NAME_BYTES		(2 * CF_ID_BYTES + 5)

uint64_t
cf_session_now(void)
{
	time_t t = time(NULL);

	return t < 0 ? 0 : (uint64_t)t;
}

uint64_t
cf_session_epoch(const struct cf_session *s)
{
	const struct cf_chain_epoch *e = cf_chain_current_epoch(s->chain);

	return e == NULL ? 0 : e->epoch;
}

static void
free_ks(struct cf_session *s)
{
	if (s->ks != NULL)
		sodium_free(s->ks);
	s->ks = NULL;
	s->nks = 0;
}

void
cf_session_free(struct cf_session *s)
{
	if (s == NULL)
		return;
	cf_keys_free(s->keys);
	cf_client_free(s->net);
	cf_chain_free(s->chain);
	free_ks(s);
	cf_dir_free(s->dir);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

/* Guards every session's lerr (failures are rare: one lock is enough). */
static pthread_mutex_t lerr_mu = PTHREAD_MUTEX_INITIALIZER;

int
cf_session_local_error(struct cf_session *s, const char *op, int dfd,
    const char *name)
{
	struct cf_local_error *le = &s->lerr;
	char link[64];
	ssize_t k = 0;
	size_t nl = strlen(name);
	int e = errno;

	pthread_mutex_lock(&lerr_mu);
	if (le->errnum != 0)
		goto out;
	le->op = op;
	le->errnum = e != 0 ? e : EIO;
	le->pathlen = 0;
	/* The folder's path as the system knows it (Linux), then the name. */
	if (dfd != AT_FDCWD && name[0] != '/' &&
	    snprintf(link, sizeof(link), "/proc/self/fd/%d", dfd) <
	    (int)sizeof(link) && (k = readlink(link, (char *)le->path,
	    sizeof(le->path) - 1)) > 0 && le->path[0] == '/') {
		le->pathlen = (size_t)k;
		if (le->path[le->pathlen - 1] != '/')
			le->path[le->pathlen++] = '/';
	}
	if (nl > sizeof(le->path) - le->pathlen)
		nl = sizeof(le->path) - le->pathlen;
	memcpy(le->path + le->pathlen, name, nl);
	le->pathlen += nl;
out:
	pthread_mutex_unlock(&lerr_mu);
	errno = e;
	return COFFER_EIO;
}

/* Read and decode the chain pin. */
static int
load_chain(struct cf_session *s)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = cf_state_read(s->paths.data, CF_STATE_CHAINPIN, CF_PIN_MAX,
	    &buf, &len)) != 0)
		goto out;
	if ((r = cf_chain_pin_decode(buf, len, &s->chain)) != 0) {
		r = COFFER_EFORMAT;
		goto out;
	}
	if (memcmp(s->chain->account_id, s->acct.account_id, CF_ID_BYTES) != 0)
		r = COFFER_EFORMAT;
out:
	free(buf);
	return r;
}

int
cf_session_save_chain(struct cf_session *s)
{

	return cf_state_save_chainpin(&s->paths, s->chain);
}

/*
 * The pending report mark (FORMAT §19.6): s->report_from is the first
 * entry not reported yet, s->chain_before (everything pinned) if there
 * is no mark.  A mark of another account or past the pin is not ours to
 * keep: as if absent.
 */
static int
load_unreported(struct cf_session *s)
{
	uint8_t id[CF_ID_BYTES], *buf = NULL;
	uint64_t from = 0;
	size_t len = 0;
	int r;

	s->report_from = s->chain_before;
	s->report_pending = 0;
	r = cf_state_read(s->paths.data, CF_STATE_UNREPORTED,
	    CF_UNREPORTED_BYTES, &buf, &len);
	if (r == COFFER_ENOENT) {
		r = 0;
		goto out;
	}
	if (r != 0 || (r = cf_unreported_decode(buf, len, id, &from)) != 0)
		goto out;
	if (memcmp(id, s->acct.account_id, CF_ID_BYTES) == 0 &&
	    from <= s->chain_before) {
		s->report_from = from;
		s->report_pending = 1;
	}
out:
	free(buf);
	return r;
}

/* Mark the entries from s->report_from on as not reported, unless marked. */
static int
mark_unreported(struct cf_session *s)
{
	uint8_t buf[CF_UNREPORTED_BYTES];

	if (s->report_pending)
		return 0;
	cf_unreported_encode(s->acct.account_id, s->report_from, buf);
	s->report_pending = 1;
	return cf_state_write(s->paths.data, CF_STATE_UNREPORTED, buf,
	    sizeof(buf));
}

/* Hand the entries not reported yet to ${fn}, then drop the mark. */
static int
report_changes(struct cf_session *s, cf_session_report_fn *fn, void *ctx)
{
	int r = 0;

	if (fn == NULL)
		return 0;
	if (s->report_from < s->chain->n)
		fn(ctx, s, s->report_from);
	/* Any mark goes, one of another account's too. */
	if ((r = cf_state_remove(s->paths.data, CF_STATE_UNREPORTED)) ==
	    COFFER_ENOENT)
		r = 0;
	s->report_pending = 0;
	s->report_from = s->chain->n;
	return r;
}

/*
 * Verify the entries of one page (seq ${from} on) into the chain as they
 * arrive: those already verified must be the same (hash compare), each
 * later one must verify against the state before it (cf_chain_append).
 */
static int
chain_page(struct cf_chain *c, const struct cf_blobs *page, uint64_t from)
{
	uint8_t h[CF_ID_BYTES];
	uint64_t seq;
	size_t i;
	int r;

	for (i = 0; i < page->n; i++) {
		seq = from + i;
		if (seq > c->n || page->len[i] > CF_ENTRY_MAX)
			return COFFER_ENOTAUTHENTIC;
		if (seq < c->n) {
			cf_entry_hash(page->p[i], page->len[i], h);
			if (memcmp(h, c->hash[seq], CF_ID_BYTES) != 0)
				return COFFER_ENOTAUTHENTIC;	/* a fork */
			continue;
		}
		if ((r = cf_chain_append(c, page->p[i], page->len[i])) != 0)
			return r == COFFER_ENOMEM ? r : COFFER_ENOTAUTHENTIC;
	}
	return 0;
}

/*
 * Fetch the chain from our last pinned entry on and extend the pin, one
 * page at a time: each page is verified as it arrives and dropped, so
 * memory holds one page (CF_CLIENT_CHAIN_PAGE_MAX) besides the verified
 * chain.  All or nothing for the pin: it is saved only once every page
 * verified (a lie on a later page leaves the pin as it was; the session
 * is not opened, so the longer state in memory is never used).  A server
 * that says there is no such account: COFFER_ENOTAUTHENTIC, and
 * ${*gonep} set (this device has verified the account: a rollback).
 */
static int
sync_chain(struct cf_session *s, int *gonep)
{
	struct cf_blobs page = { 0, NULL, NULL };
	uint64_t from, length = 0;
	size_t pages = 0;
	int r;

	from = s->chain->n - 1;		/* re-read the pinned head */
	for (;;) {
		if (++pages > CHAIN_PAGES_MAX) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		if ((r = cf_client_chain_get(s->net, from, &page, &length)) != 0) {
			if (r == COFFER_ENOENT) {
				*gonep = 1;
				r = COFFER_ENOTAUTHENTIC;
			}
			goto out;
		}
		if (length < s->chain->n || length > CF_CHAIN_MAX_ENTRIES ||
		    page.n == 0 || page.n > length - from) {
			/* Shorter than verified: a rollback; or a bad page. */
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		if ((r = chain_page(s->chain, &page, from)) != 0)
			goto out;
		from += page.n;
		cf_blobs_free(&page);
		if (from >= length)
			break;
	}
	if (s->chain->n != s->chain_before) {
		/* Noted before the pin moves: a crash between reports twice. */
		if ((r = mark_unreported(s)) != 0 ||
		    (r = cf_session_save_chain(s)) != 0)
			goto out;
	}
out:
	cf_blobs_free(&page);
	return r;
}

/* Open this device's envelope for the current epoch. */
static int
open_envelope(struct cf_session *s)
{
	struct cf_blobs envs = { 0, NULL, NULL };
	uint8_t (*keys)[CF_KEY_BYTES] = NULL;
	uint64_t nkeys = 0, e = cf_session_epoch(s);
	size_t i;
	int r;

	if ((r = cf_client_envelopes_get(s->net, s->keys->device_id, &envs)) != 0)
		goto out;
	r = COFFER_ENOTAUTHENTIC;
	for (i = 0; i < envs.n; i++) {
		if (cf_envelope_open(s->chain, s->keys->device_id,
		    s->keys->box_pk, s->keys->box_sk, envs.p[i], envs.len[i],
		    &keys, &nkeys) != 0)
			continue;
		if (nkeys == e) {
			free_ks(s);
			s->ks = keys;
			s->nks = nkeys;
			r = 0;
			break;
		}
		sodium_free(keys);
		keys = NULL;
	}
out:
	cf_blobs_free(&envs);
	return r;
}

int
cf_session_dir_entries(struct cf_session *s, size_t extra,
    struct cf_dir_entry **entsp, struct cf_drive_keys ***dksp, size_t *np)
{
	struct cf_dir_entry *ents = NULL;
	struct cf_drive_keys **dks = NULL;
	size_t n = s->dir == NULL ? 0 : s->dir->ndrives, i;
	int r = 0;

	*entsp = NULL;
	*dksp = NULL;
	*np = 0;
	if ((ents = calloc(n + extra, sizeof(*ents))) == NULL ||
	    (dks = calloc(n + 1, sizeof(*dks))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = cf_dir_drive_keys(s->dir, s->dir->drives[i].drive_id,
		    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, &dks[i])) != 0)
			goto out;
		ents[i].name = s->dir->drives[i].name;
		ents[i].namelen = s->dir->drives[i].namelen;
		ents[i].dk = dks[i];
	}
	*entsp = ents;
	*dksp = dks;
	*np = n;
	return 0;
out:
	cf_session_dir_entries_free(ents, dks, n);
	return r;
}

void
cf_session_dir_entries_free(struct cf_dir_entry *ents,
    struct cf_drive_keys **dks, size_t n)
{
	size_t i;

	for (i = 0; dks != NULL && i < n; i++)
		cf_drive_keys_free(dks[i]);
	free(dks);
	free(ents);
}

int
cf_session_dir_publish(struct cf_session *s, const uint8_t *rec,
    size_t reclen)
{
	struct cf_dir *d = NULL;
	uint64_t cur = 0;
	int r;

	if ((r = cf_client_dir_put(s->net, s->dir == NULL ? 0 : s->dir->version,
	    rec, reclen, &cur)) != 0)
		return r;
	if ((r = cf_dir_accept(s->chain, &s->dirpin,
	    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, rec, reclen, NULL,
	    NULL, 0, &d)) != 0)
		return r;
	cf_dir_pin_of(d, &s->dirpin);
	if ((r = cf_session_save_dirpin(s)) != 0) {
		cf_dir_free(d);
		return r;
	}
	cf_dir_free(s->dir);
	s->dir = d;
	return 0;
}

int
cf_session_save_dirpin(struct cf_session *s)
{

	return cf_state_save_dirpin(&s->paths, &s->dirpin);
}

/*
 * The records between the pin and a head of version ${hv} (pin + 2 or
 * more): versions pin + 1 .. hv - 1, in pages.  Each is decoded (the
 * bounded reader) and must be the next version, of this account, linked
 * to the one before from the pinned hash, as it arrives; cf_dir_accept
 * checks the whole line again up to the verified head.  A page that
 * holds back a record the head needs: COFFER_ENOTAUTHENTIC.
 */
static int
dir_between(struct cf_session *s, uint64_t hv, struct cf_blobs *out)
{
	struct cf_blobs page = { 0, NULL, NULL };
	struct cf_dir *x = NULL;
	uint8_t prev[CF_ID_BYTES];
	uint64_t want, sv;
	size_t total = 0, take, i;
	int r = 0;

	memset(out, 0, sizeof(*out));
	want = hv - s->dirpin.version - 1;
	if ((out->p = calloc((size_t)want, sizeof(*out->p))) == NULL ||
	    (out->len = calloc((size_t)want, sizeof(*out->len))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	memcpy(prev, s->dirpin.hash, CF_ID_BYTES);
	while (out->n < want) {
		if ((r = cf_client_dir_records(s->net,
		    s->dirpin.version + out->n, &page, &sv)) != 0)
			goto out;
		if (page.n == 0) {
			r = COFFER_ENOTAUTHENTIC;	/* one held back */
			goto out;
		}
		take = page.n < want - out->n ? page.n : (size_t)(want - out->n);
		for (i = 0; i < take; i++) {
			if (page.len[i] > CF_SESSION_DIR_CATCHUP_BYTES - total) {
				r = COFFER_ETOOBIG;
				goto out;
			}
			total += page.len[i];
			if ((r = cf_dir_decode(page.p[i], page.len[i], &x)) != 0)
				goto out;
			if (x->version != s->dirpin.version + out->n + 1 ||
			    memcmp(x->account_id, s->acct.account_id,
			    CF_ID_BYTES) != 0 ||
			    memcmp(x->prev_hash, prev, CF_ID_BYTES) != 0) {
				r = COFFER_ENOTAUTHENTIC;
				goto out;
			}
			memcpy(prev, x->hash, CF_ID_BYTES);
			cf_dir_free(x);
			x = NULL;
			out->p[out->n] = page.p[i];
			out->len[out->n] = page.len[i];
			page.p[i] = NULL;
			out->n++;
		}
		cf_blobs_free(&page);
	}
out:
	cf_dir_free(x);
	cf_blobs_free(&page);
	if (r != 0)
		cf_blobs_free(out);
	return r;
}

/*
 * Fetch the directory head and accept it against the pin, with the
 * records in between when the pin is more than one version behind
 * (FORMAT §16).  Nothing is pinned unless all of it verifies.
 */
static int
sync_dir(struct cf_session *s)
{
	struct cf_blobs between = { 0, NULL, NULL };
	uint8_t *buf = NULL, *rec = NULL;
	size_t len = 0, reclen = 0;
	uint64_t version = 0, hv;
	struct cf_dir *d = NULL;
	struct cf_dir_pin np;
	int r;

	memset(&s->dirpin, 0, sizeof(s->dirpin));
	r = cf_state_read(s->paths.data, CF_STATE_DIRPIN, CF_DIRPIN_BYTES,
	    &buf, &len);
	if (r == 0)
		r = cf_dirpin_decode(buf, len, &s->dirpin);
	else if (r == COFFER_ENOENT)
		r = 0;
	if (r != 0)
		goto out;
	if ((r = cf_client_dir_get(s->net, &version, &rec, &reclen)) != 0)
		goto out;
	if (rec == NULL) {
		/* No record: fine only if we never pinned one. */
		r = s->dirpin.version == 0 ? 0 : COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/* The head's version (checked by cf_dir_accept below). */
	if ((r = cf_dir_decode(rec, reclen, &d)) != 0)
		goto out;
	hv = d->version;
	cf_dir_free(d);
	d = NULL;
	if (hv != version) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	/* Past CF_DIR_CATCHUP_MAX, cf_dir_accept says so once the head verifies. */
	if (s->dirpin.version > 0 && hv > s->dirpin.version &&
	    hv - s->dirpin.version > 1 &&
	    hv - s->dirpin.version - 1 <= CF_DIR_CATCHUP_MAX &&
	    (r = dir_between(s, hv, &between)) != 0)
		goto out;
	if ((r = cf_dir_accept(s->chain, &s->dirpin,
	    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, rec, reclen,
	    (const uint8_t *const *)between.p, between.len, between.n,
	    &d)) != 0) {
		/* A head too far ahead is only an error; the rest is a lie. */
		r = cf_err_from_server(r);
		goto out;
	}
	cf_dir_pin_of(d, &np);
	if (np.version != s->dirpin.version) {
		s->dirpin = np;
		if ((r = cf_session_save_dirpin(s)) != 0)
			goto out;
	}
	cf_dir_free(s->dir);
	s->dir = d;
	d = NULL;
out:
	cf_dir_free(d);
	cf_blobs_free(&between);
	free(buf);
	free(rec);
	return r;
}

static int
load_device(struct cf_session *s)
{
	char path[CF_STATE_PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = cf_state_read(s->paths.data, CF_STATE_ACCOUNT,
	    CF_ACCOUNT_FILE_MAX, &buf, &len)) != 0)
		goto out;
	if ((r = cf_account_decode(buf, len, &s->acct)) != 0)
		goto out;
	if ((r = cf_state_join(path, sizeof(path), s->paths.data,
	    CF_STATE_KEYFILE)) != 0)
		goto out;
	/* Sealed: the passphrase comes from the program's callback. */
	if ((r = cf_keyfile_load(path, &s->paths.pass, &s->keys,
	    &s->key_loose)) != 0) {
		if (r == COFFER_ENOENT)
			r = COFFER_EFORMAT;	/* an account without its key */
		goto out;
	}
	if ((r = load_chain(s)) != 0) {
		if (r == COFFER_ENOENT)
			r = COFFER_EFORMAT;
		goto out;
	}
	s->chain_before = s->chain->n;
out:
	free(buf);
	return r;
}

int
cf_session_open(const struct cf_state_paths *paths, struct cf_session **sp)
{
	return cf_session_open_with(paths, sp, NULL);
}

int
cf_session_open_with(const struct cf_state_paths *paths,
    struct cf_session **sp, struct cf_session_open_opts *o)
{
	struct cf_session *s = NULL;
	int r, renv = 0, trusted, gone = 0;

	*sp = NULL;
	if (o != NULL) {
		o->account_gone = 0;
		o->removed = 0;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return COFFER_ENOMEM;
	if ((r = cf_state_paths_set(&s->paths, paths)) != 0 ||
	    (r = load_device(s)) != 0 || (r = load_unreported(s)) != 0)
		goto out;
	if ((r = cf_client_new(s->acct.server, &s->net)) != 0 ||
	    (r = cf_client_set_signer(s->net, s->acct.account_id,
	    s->keys->sign_pk, s->keys->sign_sk, s->keys->box_pk)) != 0)
		goto out;
	if ((r = sync_chain(s, &gone)) != 0) {
		if (o != NULL)
			o->account_gone = gone;
		goto out;
	}
	/*
	 * The chain is verified and pinned: report what changed before
	 * anything else can fail, with the device names if this device's
	 * envelope opens (a removed device's does not).
	 */
	trusted = cf_chain_trusted_at(s->chain, s->keys->device_id,
	    s->chain->n - 1);
	if (trusted)
		renv = open_envelope(s);
	if ((r = report_changes(s, o != NULL ? o->report : NULL,
	    o != NULL ? o->ctx : NULL)) != 0)
		goto out;
	if (!trusted) {
		/* This device was removed (DESIGN §8: exit 4). */
		if (o != NULL)
			o->removed = 1;
		r = COFFER_EDENIED;
		goto out;
	}
	if ((r = renv) != 0)
		goto out;
	if ((r = sync_dir(s)) != 0)
		goto out;
	*sp = s;
	s = NULL;
out:
	cf_session_free(s);
	return r;
}

/* ---- drives ---- */

int
cf_session_drive(struct cf_session *s, const char *name,
    uint8_t drive_id[static CF_ID_BYTES], struct cf_drive_keys **dkp)
{
	int r;

	*dkp = NULL;
	if (s->dir == NULL)
		return COFFER_ENOENT;
	if ((r = cf_dir_resolve(s->dir, name, strlen(name), drive_id)) != 0)
		return r;
	r = cf_dir_drive_keys(s->dir, drive_id,
	    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, dkp);
	r = cf_err_from_server(r);
	return r;
}

int
cf_session_drive_create(struct cf_session *s, const char *name,
    uint8_t drive_id[static CF_ID_BYTES])
{
	struct cf_dir_entry *ents = NULL;
	struct cf_drive_keys **dks = NULL, *dk = NULL;
	uint8_t *rec = NULL, tmp[CF_ID_BYTES];
	size_t reclen = 0, n = 0;
	int r;

	if (strlen(name) < 1 || strlen(name) > CF_DIR_NAME_MAX)
		return COFFER_EINVAL;
	if (s->dir != NULL && cf_dir_resolve(s->dir, name, strlen(name), tmp) == 0)
		return COFFER_EEXIST;
	if ((r = cf_session_dir_entries(s, 1, &ents, &dks, &n)) != 0)
		goto out;
	if ((r = cf_drive_keys_create(cf_session_epoch(s), &dk)) != 0)
		goto out;
	ents[n].name = name;
	ents[n].namelen = strlen(name);
	ents[n].dk = dk;
	if ((r = cf_dir_build(s->chain, s->keys,
	    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, s->dir, ents, n + 1,
	    cf_session_now(), &rec, &reclen)) != 0)
		goto out;
	if ((r = cf_session_dir_publish(s, rec, reclen)) != 0)
		goto out;
	memcpy(drive_id, dk->drive_id, CF_ID_BYTES);
out:
	cf_session_dir_entries_free(ents, dks, n);
	cf_drive_keys_free(dk);
	free(rec);
	return r;
}

/* ---- drive pins and heads ---- */

static int
pin_name(const uint8_t drive_id[static CF_ID_BYTES], char *out, size_t outlen)
{
	char hex[2 * CF_ID_BYTES + 1];

	sodium_bin2hex(hex, sizeof(hex), drive_id, CF_ID_BYTES);
	return cf_state_join(out, outlen, CF_STATE_DRIVES, hex);
}

int
cf_session_load_pin(struct cf_session *s,
    const uint8_t drive_id[static CF_ID_BYTES], struct cf_drivepin **pp)
{
	char name[CF_STATE_PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*pp = NULL;
	if ((r = pin_name(drive_id, name, sizeof(name))) != 0)
		return r;
	r = cf_state_read(s->paths.data, name, DRIVEPIN_FILE_MAX, &buf, &len);
	if (r == COFFER_ENOENT) {
		if ((*pp = calloc(1, sizeof(**pp))) == NULL)
			return COFFER_ENOMEM;
		memcpy((*pp)->drive_id, drive_id, CF_ID_BYTES);
		return 0;
	}
	if (r != 0)
		return r;
	r = cf_drivepin_decode(buf, len, pp);
	free(buf);
	if (r == 0 && memcmp((*pp)->drive_id, drive_id, CF_ID_BYTES) != 0) {
		cf_drivepin_free(*pp);
		*pp = NULL;
		r = COFFER_EFORMAT;
	}
	return r;
}

int
cf_session_save_pin(struct cf_session *s, const struct cf_drivepin *p)
{
	char dir[CF_STATE_PATH_MAX], name[CF_STATE_PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = cf_state_join(dir, sizeof(dir), s->paths.data,
	    CF_STATE_DRIVES)) != 0 || (r = cf_state_mkdirs(dir)) != 0)
		return r;
	if ((r = pin_name(p->drive_id, name, sizeof(name))) != 0)
		return r;
	if ((r = cf_drivepin_encode(p, &buf, &len)) != 0)
		return r;
	r = cf_state_write(s->paths.data, name, buf, len);
	free(buf);
	return r;
}

#define LOOKED_TAG	"CFLK"
#define LOOKED_BYTES	(4 + 1 + 8)

/* The name of the drive's "last looked" mark, beside its pin. */
static int
looked_name(const uint8_t drive_id[static CF_ID_BYTES], char *out,
    size_t outlen)
{
	char pin[CF_STATE_PATH_MAX];
	int r;

	if ((r = pin_name(drive_id, pin, sizeof(pin))) != 0)
		return r;
	if ((size_t)snprintf(out, outlen, "%s.looked", pin) >= outlen)
		return COFFER_EINVAL;
	return 0;
}

int
cf_session_looked(struct cf_session *s,
    const uint8_t drive_id[static CF_ID_BYTES], uint64_t *np)
{
	char name[CF_STATE_PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*np = 0;
	if ((r = looked_name(drive_id, name, sizeof(name))) != 0)
		return r;
	if ((r = cf_state_read(s->paths.data, name, LOOKED_BYTES, &buf,
	    &len)) != 0)
		return r;
	/* "CFLK" || u8 version=1 || u64 version (FORMAT §19.7). */
	if (len == LOOKED_BYTES && !memcmp(buf, LOOKED_TAG, 4) && buf[4] == 1)
		*np = cf_be64dec(buf + 5);
	else
		r = COFFER_EFORMAT;
	free(buf);
	return r;
}

int
cf_session_set_looked(struct cf_session *s,
    const uint8_t drive_id[static CF_ID_BYTES], uint64_t n)
{
	char dir[CF_STATE_PATH_MAX], name[CF_STATE_PATH_MAX];
	uint8_t buf[LOOKED_BYTES];
	int r;

	if ((r = cf_state_join(dir, sizeof(dir), s->paths.data,
	    CF_STATE_DRIVES)) != 0 || (r = cf_state_mkdirs(dir)) != 0)
		return r;
	if ((r = looked_name(drive_id, name, sizeof(name))) != 0)
		return r;
	memcpy(buf, LOOKED_TAG, 4);
	buf[4] = 1;
	cf_be64enc(buf + 5, n);
	return cf_state_write(s->paths.data, name, buf, sizeof(buf));
}

uint64_t
cf_session_epoch_of_key(const struct cf_drive_keys *dk,
    const uint8_t key_id[static CF_ID_BYTES])
{
	size_t i;

	for (i = 0; i < dk->nepochs; i++)
		if (!memcmp(dk->epochs[i].key_id, key_id, CF_ID_BYTES))
			return dk->epochs[i].epoch;
	return 0;
}

int
cf_session_fetch(struct cf_session *s, const struct cf_drive_keys *dk,
    uint64_t max_epoch, uint8_t type, const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, cf_fetch_fn *fn, void *ctx)
{
	return cf_session_fetch_net(s->net, dk, max_epoch, type, ids, n, fn, ctx);
}

/* Receives the ${i}th object asked for and the epoch of its key. */
typedef int fetch_epoch_fn(void *ctx, size_t i, const uint8_t *plain,
    size_t len, uint64_t epoch);

/* Map the items of each get-many answer onto the ids asked for. */
static int
fetch_objects(struct cf_client *net, const struct cf_drive_keys *dk,
    uint64_t max_epoch, uint8_t type, const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, fetch_epoch_fn *fn, void *ctx)
{
	struct cf_dir_lookup lk;
	struct cf_frame_item *items = NULL;
	struct cf_objhdr h;
	uint8_t *frame = NULL, *plain = NULL;
	size_t framelen = 0, nitems = 0, done = 0, batch, j, k, plen = 0;
	int trunc = 0, r = 0;

	lk.dk = dk;
	lk.max_epoch = max_epoch;
	while (done < n) {
		batch = n - done < FETCH_BATCH ? n - done : FETCH_BATCH;
		if ((r = cf_client_objects_get(net, dk->drive_id, ids + done,
		    batch, &frame, &framelen, &items, &nitems, &trunc)) != 0)
			goto out;
		if (nitems == 0 || nitems > batch) {
			r = COFFER_ENOTAUTHENTIC;	/* withheld */
			goto out;
		}
		for (j = 0, k = 0; j < nitems; j++, k++) {
			/* In order, once each: an id skipped is missing. */
			if (k >= batch || memcmp(items[j].id, ids[done + k],
			    CF_ID_BYTES) != 0) {
				r = COFFER_ENOTAUTHENTIC;
				goto out;
			}
			if ((r = cf_object_open(items[j].data, items[j].len, type,
			    dk->drive_id, ids[done + k], cf_dir_lookup, &lk,
			    &plain, &plen)) != 0 ||
			    (r = cf_object_header(items[j].data, items[j].len,
			    &h)) != 0) {
				r = cf_err_from_server(r);
				goto out;
			}
			if ((r = fn(ctx, done + k, plain, plen,
			    cf_session_epoch_of_key(dk, h.key_id))) != 0)
				goto out;
			cf_wipefree(plain, plen);
			plain = NULL;
		}
		if (!trunc && k != batch) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		done += k;
		free(frame);
		free(items);
		frame = NULL;
		items = NULL;
	}
out:
	cf_wipefree(plain, plen);
	free(frame);
	free(items);
	return r;
}

struct fetch_plain {
	cf_fetch_fn *fn;
	void *ctx;
};

static int
fetch_plain_cb(void *ctx, size_t i, const uint8_t *plain, size_t len,
    uint64_t epoch)
{
	struct fetch_plain *f = ctx;

	(void)epoch;
	return f->fn(f->ctx, i, plain, len);
}

int
cf_session_fetch_net(struct cf_client *net, const struct cf_drive_keys *dk,
    uint64_t max_epoch, uint8_t type, const uint8_t (*ids)[CF_ID_BYTES],
    size_t n, cf_fetch_fn *fn, void *ctx)
{
	struct fetch_plain f;

	f.fn = fn;
	f.ctx = ctx;
	return fetch_objects(net, dk, max_epoch, type, ids, n, fetch_plain_cb,
	    &f);
}

int
cf_session_client(struct cf_session *s, struct cf_client **cp)
{
	int r;

	*cp = NULL;
	if ((r = cf_client_new(s->acct.server, cp)) != 0 ||
	    (r = cf_client_set_signer(*cp, s->acct.account_id, s->keys->sign_pk,
	    s->keys->sign_sk, s->keys->box_pk)) != 0) {
		cf_client_free(*cp);
		*cp = NULL;
	}
	return r;
}

int
cf_session_fetch_one(struct cf_session *s, const struct cf_drive_keys *dk,
    uint64_t max_epoch, uint8_t type, const uint8_t id[static CF_ID_BYTES],
    uint8_t **plainp, size_t *lenp, uint64_t *epochp)
{
	struct cf_dir_lookup lk;
	struct cf_frame_item *items = NULL;
	struct cf_objhdr h;
	uint8_t idarr[1][CF_ID_BYTES];
	uint8_t *frame = NULL;
	size_t framelen = 0, nitems = 0;
	int trunc = 0, r;

	*plainp = NULL;
	*lenp = 0;
	if (epochp != NULL)
		*epochp = 0;
	lk.dk = dk;
	lk.max_epoch = max_epoch;
	memcpy(idarr[0], id, CF_ID_BYTES);
	if ((r = cf_client_objects_get(s->net, dk->drive_id,
	    (const uint8_t (*)[CF_ID_BYTES])idarr, 1, &frame, &framelen, &items,
	    &nitems, &trunc)) != 0)
		goto out;
	if (nitems != 1 || memcmp(items[0].id, id, CF_ID_BYTES) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((r = cf_object_open(items[0].data, items[0].len, type, dk->drive_id,
	    id, cf_dir_lookup, &lk, plainp, lenp)) != 0) {
		r = cf_err_from_server(r);
		goto out;
	}
	if (epochp != NULL) {
		if ((r = cf_object_header(items[0].data, items[0].len, &h)) != 0)
			goto out;
		*epochp = cf_session_epoch_of_key(dk, h.key_id);
	}
out:
	if (r != 0 && *plainp != NULL) {
		cf_wipefree(*plainp, *lenp);
		*plainp = NULL;
		*lenp = 0;
	}
	free(frame);
	free(items);
	return r;
}

static int
known_cb(void *ctx, uint64_t version, uint8_t id[static CF_ID_BYTES])
{
	const struct cf_drivepin *p = ctx;

	if (version == 0 || version > p->n)
		return COFFER_ENOENT;
	memcpy(id, p->ids[version - 1], CF_ID_BYTES);
	return 0;
}

/*
 * The line between a pin and a served head, verified a page at a time:
 * ids[i] is the commit of version base + 1 + i (base: the pin's version),
 * step[0..nstep-1] the page being verified, plains their plaintexts.
 */
struct line {
	uint64_t base, n;
	uint8_t (*ids)[CF_ID_BYTES];
	size_t cap;
	struct cf_history_step *step;
	uint8_t **plains;
	size_t page, nstep;
};

static void
line_page_free(struct line *l)
{
	size_t i;

	for (i = 0; l->plains != NULL && i < l->page; i++) {
		free(l->plains[i]);
		l->plains[i] = NULL;
	}
	l->nstep = 0;
}

static void
line_free(struct line *l)
{
	line_page_free(l);
	free(l->plains);
	free(l->step);
	free(l->ids);
}

/* ${l->ids}[i] = ${id}, growing the array (ids come in from the top). */
static int
line_set_id(struct line *l, uint64_t i, const uint8_t id[static CF_ID_BYTES])
{
	uint8_t (*p)[CF_ID_BYTES];
	size_t cap;

	if (i >= l->cap) {
		/* Doubling, up to n: a head that lies about its version
		 * costs no more than the commits it really has. */
		cap = l->cap < 1024 ? 1024 : l->cap * 2;
		if (cap > l->n)
			cap = (size_t)l->n;
		if ((p = realloc(l->ids, cap * CF_ID_BYTES)) == NULL)
			return COFFER_ENOMEM;
		l->ids = p;
		l->cap = cap;
	}
	memcpy(l->ids[i], id, CF_ID_BYTES);
	return 0;
}

/* Commit ${k} of the page: its plaintext handed over (its id set later). */
static void
line_take(struct line *l, size_t k, uint8_t *plain, size_t len,
    uint64_t epoch)
{
	l->plains[k] = plain;
	l->step[k].commit = plain;
	l->step[k].len = len;
	l->step[k].sealed_epoch = epoch;
}

/*
 * Walk back from the served head ${head_id} to the pin by parent ids,
 * one commit at a time: each must open as a commit of this drive with
 * the expected version (so a head that lies about its version is caught
 * at once).  Only the ids are kept, and the plaintexts of the first page
 * (the last commits walked), which is verified without fetching again.
 */
static int
line_walk(struct cf_session *s, const struct cf_drive_keys *dk,
    struct line *l, const uint8_t head_id[static CF_ID_BYTES])
{
	uint8_t cur[CF_ID_BYTES];
	uint64_t i, ep = cf_session_epoch(s), epoch = 0;
	struct cf_commit c;
	uint8_t *plain = NULL;
	size_t plen = 0, first = l->n < l->page ? (size_t)l->n : l->page;
	int r = 0;

	memcpy(cur, head_id, CF_ID_BYTES);
	for (i = l->n; i > 0; i--) {
		if ((r = cf_session_fetch_one(s, dk, ep, CF_OBJ_COMMIT, cur,
		    &plain, &plen, &epoch)) != 0)
			goto out;
		if ((r = cf_commit_decode(plain, plen, &c)) != 0 ||
		    c.version != l->base + i ||
		    memcmp(c.drive_id, dk->drive_id, CF_ID_BYTES) != 0) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		if ((r = line_set_id(l, i - 1, cur)) != 0)
			goto out;
		memcpy(cur, c.parent_id, CF_ID_BYTES);
		if (i - 1 < first) {
			line_take(l, (size_t)(i - 1), plain, plen, epoch);
			plain = NULL;
		} else {
			free(plain);
			plain = NULL;
		}
	}
	l->nstep = first;
	for (i = 0; i < first; i++)
		l->step[i].id = l->ids[i];
out:
	free(plain);
	return r;
}

static int
page_cb(void *ctx, size_t i, const uint8_t *plain, size_t len,
    uint64_t epoch)
{
	struct line *l = ctx;
	uint8_t *p;

	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		return COFFER_ENOMEM;
	memcpy(p, plain, len);
	line_take(l, i, p, len, epoch);
	return 0;
}

/* The page of ${k} commits from index ${at} of the line, fetched again. */
static int
line_fetch(struct cf_session *s, const struct cf_drive_keys *dk,
    struct line *l, uint64_t at, size_t k)
{
	size_t i;
	int r;

	line_page_free(l);
	if ((r = fetch_objects(s->net, dk, cf_session_epoch(s), CF_OBJ_COMMIT,
	    (const uint8_t (*)[CF_ID_BYTES])l->ids + at, k, page_cb, l)) != 0)
		return r;
	for (i = 0; i < k; i++)
		l->step[i].id = l->ids[at + i];
	l->nstep = k;
	return 0;
}

/* The line size the session may verify at once. */
static size_t
line_page(const struct cf_session *s)
{
	if (s->line_page == 0 || s->line_page > CF_HISTORY_LINE_MAX)
		return CF_HISTORY_LINE_MAX;
	return (size_t)s->line_page;
}

/*
 * Verify the walked line from the pin forward, page by page, each from
 * the head the one before accepted, extending ${pin} in memory; the
 * removals' records are checked by the last page over the whole line.
 */
static int
line_verify(struct cf_session *s, const struct cf_drive_keys *dk,
    struct line *l, struct cf_drivepin *pin)
{
	struct cf_drive_head ph, acc;
	struct cf_commit c;
	uint64_t done = 0;
	size_t k;
	int r = 0, last;

	for (;;) {
		k = l->n - done < l->page ? (size_t)(l->n - done) : l->page;
		last = done + k == l->n;
		if (done > 0 && (r = line_fetch(s, dk, l, done, k)) != 0)
			goto out;
		memcpy(ph.drive_id, dk->drive_id, CF_ID_BYTES);
		ph.version = pin->n;
		if (pin->n > 0)
			memcpy(ph.commit_id, pin->ids[pin->n - 1], CF_ID_BYTES);
		else
			memset(ph.commit_id, 0, CF_ID_BYTES);
		r = last ? cf_history_accept(s->chain, dk->drive_id, &ph,
		    pin->head_chain_seq, known_cb, pin, l->step, k, &acc) :
		    cf_history_accept_part(s->chain, dk->drive_id, &ph,
		    pin->head_chain_seq, l->step, k, &acc);
		if (r != 0) {
			r = cf_err_from_server(r);
			goto out;
		}
		if (k > 0) {
			if ((r = cf_commit_decode(l->step[k - 1].commit,
			    l->step[k - 1].len, &c)) != 0)
				goto out;
			if ((r = cf_drivepin_extend(pin,
			    (const uint8_t (*)[CF_ID_BYTES])l->ids + done, k)) != 0)
				goto out;
			pin->head_chain_seq = c.chain_seq;
		}
		line_page_free(l);
		done += k;
		if (last)
			break;
	}
out:
	return r;
}

int
cf_session_sync_head(struct cf_session *s, const struct cf_drive_keys *dk,
    struct cf_drivepin *pin)
{
	struct line l;
	uint8_t head_id[CF_ID_BYTES];
	uint64_t v = 0, n0 = pin->n, seq0 = pin->head_chain_seq;
	int r;

	memset(&l, 0, sizeof(l));
	if ((r = cf_client_head_get(s->net, dk->drive_id, &v, head_id)) != 0) {
		if (r == COFFER_ENOENT)
			memset(head_id, 0, sizeof(head_id));
		else
			goto out;
		v = 0;	/* a drive never written: version 0 */
	}
	if (v < pin->n) {
		r = COFFER_ENOTAUTHENTIC;	/* rolled back */
		goto out;
	}
	if (v == pin->n && pin->n > 0 &&
	    memcmp(head_id, pin->ids[pin->n - 1], CF_ID_BYTES) != 0) {
		r = COFFER_ENOTAUTHENTIC;	/* a fork */
		goto out;
	}
	if (v - pin->n > CF_DRIVEPIN_MAX_VERSIONS - pin->n) {
		r = COFFER_ETOOBIG;		/* more than a pin holds */
		goto out;
	}
	l.base = pin->n;
	l.n = v - pin->n;
	l.page = line_page(s);
	if (l.n > 0 &&
	    ((l.step = calloc(l.page, sizeof(*l.step))) == NULL ||
	    (l.plains = calloc(l.page, sizeof(*l.plains))) == NULL)) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if (l.n > 0 && (r = line_walk(s, dk, &l, head_id)) != 0)
		goto out;
	if ((r = line_verify(s, dk, &l, pin)) != 0)
		goto out;
	pin->verified_at = cf_session_now();
	r = cf_session_save_pin(s, pin);
out:
	if (r != 0) {
		/* All or nothing: the pin as it was. */
		pin->n = n0;
		pin->head_chain_seq = seq0;
	}
	line_free(&l);
	return r;
}

int
cf_session_commit(struct cf_session *s, const struct cf_drive_keys *dk,
    uint64_t version, const uint8_t id[static CF_ID_BYTES], struct cf_commit *c)
{
	uint8_t *plain = NULL;
	size_t len = 0;
	int r;

	if ((r = cf_session_fetch_one(s, dk, cf_session_epoch(s), CF_OBJ_COMMIT,
	    id, &plain, &len, NULL)) != 0)
		goto out;
	if ((r = cf_commit_decode(plain, len, c)) != 0)
		goto out;
	if (c->version != version ||
	    memcmp(c->drive_id, dk->drive_id, CF_ID_BYTES) != 0)
		r = COFFER_ENOTAUTHENTIC;
out:
	free(plain);
	return r;
}

int
cf_session_safety(struct cf_session *s, const struct cf_drive_head *heads,
    size_t n, char *code)
{
	uint8_t zero[CF_ID_BYTES];
	uint64_t seq = s->chain->n - 1;

	memset(zero, 0, sizeof(zero));
	return cf_safety_code(s->acct.account_id, seq, s->chain->hash[seq],
	    s->dir == NULL ? 0 : s->dir->version,
	    s->dir == NULL ? zero : s->dir->hash, heads, n, code);
}
