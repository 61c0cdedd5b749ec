/*
 * A new device (DESIGN §5; FORMAT §17): its join request and the wait for
 * an approval (withdrawn if it gives up), the approval by a trusted
 * device, and recovery with the recovery key.
 */
#include <sys/stat.h>

#include <ftw.h>
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
#include "util/err.h"
#include "device_internal.h"
#include "ops.h"

#define CHAIN_PAGES_MAX		4096	/* pages of one chain fetch */
#define MS_PER_SEC		1000
#define NS_PER_MS		1000000L
#define REKEY_FDS		16		/* nftw's open folders */

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / MS_PER_SEC;
	ts.tv_nsec = (ms % MS_PER_SEC) * NS_PER_MS;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}


/*
 * Fetch the whole chain from genesis and verify it entry by entry into a
 * new state.  Anything that fails a check: COFFER_ENOTAUTHENTIC.
 */
static int
fetch_verify_chain(struct cf_client *net, struct cf_chain **cp)
{
	struct cf_blobs page = { 0, NULL, NULL };
	struct cf_chain *c = NULL;
	uint64_t from = 0, length = 0;
	size_t i, pages = 0;
	int r;

	*cp = NULL;
	if ((r = cf_chain_new(&c)) != 0)
		goto out;
	for (;;) {
		if (++pages > CHAIN_PAGES_MAX) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		if ((r = cf_client_chain_get(net, from, &page, &length)) != 0)
			goto out;
		if (length == 0 || length > CF_CHAIN_MAX_ENTRIES ||
		    page.n == 0 || page.n > length - from) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		for (i = 0; i < page.n; i++) {
			if ((r = cf_chain_append(c, page.p[i], page.len[i])) != 0) {
				r = cf_err_from_server(r);
				goto out;
			}
		}
		from += page.n;
		cf_blobs_free(&page);
		if (from >= length)
			break;
	}
	*cp = c;
	c = NULL;
out:
	cf_blobs_free(&page);
	cf_chain_free(c);
	return r;
}

/* The first ${n} entries of ${c}, verified again into a new state. */
static int
chain_prefix(const struct cf_chain *c, uint64_t n, struct cf_chain **cp)
{
	struct cf_chain *p = NULL;
	uint64_t i;
	int r;

	*cp = NULL;
	if (n == 0 || n > c->n)
		return COFFER_EINVAL;
	if ((r = cf_chain_new(&p)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = cf_chain_append(p, c->entry[i], c->entry_len[i])) != 0)
			goto out;
	*cp = p;
	p = NULL;
out:
	cf_chain_free(p);
	return r;
}

static int
save_account(const struct cf_state_paths *paths, const struct cf_account *a)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = cf_account_encode(a, &buf, &len)) != 0)
		return r;
	r = cf_state_write(paths->data, CF_STATE_ACCOUNT, buf, len);
	free(buf);
	return r;
}

/* nftw callbacks: open every folder to its owner, then delete bottom up. */
static int
rm_open_cb(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)f;
	if (type == FTW_D && !S_ISLNK(st->st_mode))
		(void)chmod(path, S_IRWXU);
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)type;
	(void)f;
	(void)remove(path);
	return 0;
}

static void
rm_tree(const char *path)
{
	(void)nftw(path, rm_open_cb, REKEY_FDS, FTW_PHYS);
	(void)nftw(path, rm_cb, REKEY_FDS, FTW_PHYS | FTW_DEPTH);
}

/* ---- approving ---- */

int
cf_device_approve(struct cf_session *s, const char *code, size_t codelen,
    uint8_t device_id[static CF_ID_BYTES], char name[static CF_DEVICE_NAME_MAX + 1])
{
	struct cf_join_pending *pend = NULL;
	struct cf_join_request *reqs = NULL, *req;
	const struct cf_chain_device *dev;
	struct cf_drive_head *heads = NULL;
	struct cf_chain *c2 = NULL;
	struct cf_blobs envs = { 0, NULL, NULL };
	struct cf_grant g;
	struct cf_signer me;
	uint8_t rr[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES];
	uint8_t *entry = NULL, *ap = NULL;
	size_t npend = 0, nreq = 0, idx = 0, namelen = 0, elen = 0, aplen = 0;
	size_t nheads = 0, i;
	uint64_t e = cf_session_epoch(s), entry_seq;
	int r;

	memset(device_id, 0, CF_ID_BYTES);
	name[0] = '\0';
	memset(&g, 0, sizeof(g));
	if ((r = cf_pair_code_parse(code, codelen, rr, t)) != 0)
		goto out;
	if ((r = cf_client_joins_list(s->net, &pend, &npend)) != 0) {
		if (r == COFFER_ENOENT)
			r = COFFER_EDENIED;	/* not "no such request" */
		goto out;
	}
	if (npend > CF_PAIR_PENDING_MAX) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((reqs = calloc(npend + 1, sizeof(*reqs))) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	/* A request that does not parse cannot be the one the code names. */
	for (i = 0; i < npend; i++)
		if (cf_join_request_decode(pend[i].request, pend[i].len,
		    &reqs[nreq]) == 0)
			nreq++;
	if ((r = cf_pair_match(s->acct.account_id, rr, t, reqs, nreq, &idx,
	    name, &namelen)) != 0)
		goto out;
	req = &reqs[idx];
	if (cf_device_is_rk(s->chain, req->device_id)) {
		r = COFFER_ENOTAUTHENTIC;	/* a key seen before: refused */
		goto out;
	}
	/*
	 * A device already in the chain: refused, unless this device added
	 * it with exactly the request's keys and the approval never reached
	 * the server (an earlier approve failed after the entry went in).
	 * Then only the approval is sent again, naming that entry.
	 */
	if ((dev = cf_chain_device(s->chain, req->device_id)) != NULL) {
		if (dev->removed ||
		    memcmp(dev->added_by, s->keys->device_id, CF_ID_BYTES) != 0 ||
		    sodium_memcmp(dev->sign_pk, req->sign_pk,
		    CF_SIGN_PK_BYTES) != 0 ||
		    sodium_memcmp(dev->box_pk, req->box_pk,
		    CF_BOX_PK_BYTES) != 0) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		entry_seq = dev->added_seq;
		if ((r = cf_device_heads(s, 0, &heads, &nheads)) != 0)
			goto out;
		goto approve;
	}
	/* The add-device entry with the new device's envelope. */
	memcpy(me.id, s->keys->device_id, CF_ID_BYTES);
	me.sign_sk = s->keys->sign_sk;
	if ((r = cf_entry_add(s->chain, &me, req->sign_pk, req->box_pk,
	    req->pop, name, namelen, s->ks[e - 1], cf_device_now(), &entry,
	    &elen)) != 0)
		goto out;
	if ((r = cf_chain_clone(s->chain, &c2)) != 0 ||
	    (r = cf_chain_append(c2, entry, elen)) != 0)
		goto out;
	if ((r = cf_device_blobs_alloc(&envs, 1)) != 0)
		goto out;
	if ((r = cf_envelope_make(c2->account_id, c2->hash[c2->n - 1], &me, e,
	    (const uint8_t (*)[CF_KEY_BYTES])s->ks, req->device_id,
	    req->box_pk, &envs.p[0], &envs.len[0])) != 0)
		goto out;
	envs.n = 1;
	if ((r = cf_device_heads(s, 0, &heads, &nheads)) != 0)
		goto out;
	/* 404: the request was withdrawn (or expired) since it was listed. */
	if ((r = cf_device_chain_put(s, entry, elen, &envs, &c2)) != 0)
		goto out;
	if ((r = cf_state_save_chainpin(&s->paths, s->chain)) != 0)
		goto out;
	entry_seq = s->chain->n - 1;
approve:
	/* The approval: r, our account, the entry, our pins. */
	memcpy(g.r, rr, CF_PAIR_R_BYTES);
	memcpy(g.account_id, s->acct.account_id, CF_ID_BYTES);
	memcpy(g.entry_hash, s->chain->hash[entry_seq], CF_ID_BYTES);
	g.chain_seq = entry_seq;
	g.dir_version = s->dirpin.version;
	memcpy(g.dir_hash, s->dirpin.hash, CF_ID_BYTES);
	g.ndrives = nheads;
	g.drives = heads;
	if ((r = cf_approval_make(s->keys, req, &g, &ap, &aplen)) != 0)
		goto out;
	if ((r = cf_client_approval_put(s->net, req->device_id, ap,
	    aplen)) != 0) {
		if (r == COFFER_ENOENT)
			r = COFFER_EDENIED;	/* the entry is in: not "gone" */
		goto out;
	}
	memcpy(device_id, req->device_id, CF_ID_BYTES);
out:
	sodium_memzero(rr, sizeof(rr));
	sodium_memzero(t, sizeof(t));
	sodium_memzero(&g, sizeof(g));
	if (r != 0)
		name[0] = '\0';
	cf_client_joins_free(pend, npend);
	free(reqs);
	free(heads);
	free(entry);
	free(ap);
	cf_blobs_free(&envs);
	cf_chain_free(c2);
	return r;
}

/* ---- a new device: join and recover ---- */

/*
 * The folders ${from} into ${p}, made; COFFER_EEXIST if this device
 * already has an account there.
 */
static int
new_device_paths(struct cf_state_paths *p, const struct cf_state_paths *from)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = cf_state_paths_set(p, from)) != 0)
		return r;
	if ((r = cf_state_mkdirs(p->data)) != 0)
		return r;
	r = cf_state_read(p->data, CF_STATE_ACCOUNT, CF_ACCOUNT_FILE_MAX, &buf,
	    &len);
	free(buf);
	if (r == COFFER_ENOENT)
		return 0;
	return r == 0 ? COFFER_EEXIST : r;
}

/* Forget the account of a new device whose set-up failed half way, with any drive pin it took. */
static void
undo_account(const struct cf_state_paths *p)
{
	char path[CF_STATE_PATH_MAX];

	if (cf_state_join(path, sizeof(path), p->data, CF_STATE_DRIVES) == 0)
		rm_tree(path);

	if (cf_state_join(path, sizeof(path), p->data, CF_STATE_ACCOUNT) == 0)
		(void)unlink(path);
	if (cf_state_join(path, sizeof(path), p->data, CF_STATE_CHAINPIN) == 0)
		(void)unlink(path);
	if (cf_state_join(path, sizeof(path), p->data, CF_STATE_DIRPIN) == 0)
		(void)unlink(path);
}

/*
 * On the new device, its session open: every drive head of the grant
 * must be on the line the device now verifies (the served head descends
 * from it).
 */
static int
check_granted_heads(struct cf_session *s, const struct cf_grant *g)
{
	struct cf_drive_keys *dk = NULL;
	struct cf_drivepin *pin = NULL;
	size_t i;
	int r = 0;

	for (i = 0; i < g->ndrives; i++) {
		if (s->dir == NULL) {
			r = COFFER_ENOTAUTHENTIC;
			goto out;
		}
		if ((r = cf_dir_drive_keys(s->dir, g->drives[i].drive_id,
		    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, &dk)) != 0) {
			r = cf_err_from_server(r);
			goto out;
		}
		if ((r = cf_session_load_pin(s, dk->drive_id, &pin)) != 0)
			goto out;
		if ((r = cf_session_sync_head(s, dk, pin)) != 0)
			goto out;
		if (g->drives[i].version > pin->n || (g->drives[i].version > 0 &&
		    memcmp(pin->ids[g->drives[i].version - 1],
		    g->drives[i].commit_id, CF_ID_BYTES) != 0)) {
			r = COFFER_ENOTAUTHENTIC;	/* behind or beside the grant */
			goto out;
		}
		cf_drivepin_free(pin);
		pin = NULL;
		cf_drive_keys_free(dk);
		dk = NULL;
	}
out:
	cf_drivepin_free(pin);
	cf_drive_keys_free(dk);
	return r;
}

/*
 * An approval addressed to ${me} whose grant opens with its box key and
 * carries ${r}: a server that approves by itself, not knowing r, is
 * caught here, before the chain is read.  COFFER_ENOTAUTHENTIC otherwise.
 * cf_approval_open() does every check against the chain afterwards.
 */
static int
approval_precheck(const struct cf_device_keys *me,
    const uint8_t r[static CF_PAIR_R_BYTES], const uint8_t *ap, size_t len)
{
	struct cf_approval *a = NULL;
	struct cf_grant *g = NULL;
	int rc;

	if ((rc = cf_approval_decode(ap, len, &a)) != 0)
		goto out;
	if (memcmp(a->recipient_id, me->device_id, CF_ID_BYTES) != 0) {
		rc = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((rc = cf_approval_open_grant(a, me->box_pk, me->box_sk, &g)) != 0)
		goto out;
	if (sodium_memcmp(g->r, r, CF_PAIR_R_BYTES) != 0)
		rc = COFFER_ENOTAUTHENTIC;
out:
	rc = cf_err_from_server(rc);
	cf_grant_free(g);
	cf_approval_free(a);
	return rc;
}

/*
 * Withdraw this device's request: 0 and *endp WITHDRAWN (or GONE, ENOENT)
 * when it can no longer be approved; COFFER_ECONFLICT when an add-device
 * entry for this key is in the chain already (the join goes on).
 */
static int
join_withdraw(struct cf_client *net, const struct cf_device_keys *keys,
    const uint8_t account_id[static CF_ID_BYTES], enum cf_join_end *endp)
{
	uint8_t sig[CF_SIG_BYTES];
	int r;

	cf_join_withdraw_sign(keys, account_id, sig);
	r = cf_client_join_withdraw(net, keys->device_id, sig, sizeof(sig));
	if (r == 0) {
		*endp = CF_JOIN_END_WITHDRAWN;
		r = COFFER_ENOENT;
	} else if (r == COFFER_ENOENT) {
		*endp = CF_JOIN_END_GONE;
	} else if (r != COFFER_ECONFLICT) {
		*endp = CF_JOIN_END_NOT_WITHDRAWN;
	}
	return r;
}

/*
 * Wait until ${timeout} seconds from now for the approval of this
 * device's request; a join that gives up withdraws it, and waits up to
 * CF_JOIN_GRACE seconds more if the server says the device was added.
 */
static int
join_wait(struct cf_client *net, const struct cf_device_keys *keys,
    const uint8_t account_id[static CF_ID_BYTES], uint64_t timeout,
    uint8_t **app, size_t *lenp, enum cf_join_end *endp)
{
	uint64_t deadline = cf_device_now() + timeout;
	int r, added = 0;

	for (;;) {
		if ((r = cf_client_approval_get(net, keys->device_id, 1, app,
		    lenp)) != 0) {
			if (r == COFFER_ENOENT)
				*endp = added ? CF_JOIN_END_ADDED :
				    CF_JOIN_END_GONE;
			return r;
		}
		if (*app != NULL)
			return 0;
		if (cf_device_now() >= deadline) {
			if (added) {
				*endp = CF_JOIN_END_ADDED;
				return COFFER_ENOENT;
			}
			if ((r = join_withdraw(net, keys, account_id,
			    endp)) != COFFER_ECONFLICT)
				return r;
			/* Approved meanwhile: the approval follows the entry. */
			added = 1;
			deadline = cf_device_now() + CF_JOIN_GRACE;
			continue;
		}
		sleep_ms(CF_JOIN_POLL_MS);
	}
}

int
cf_device_join(const struct cf_state_paths *from, const char *url,
    const char *name, const char *device, uint64_t timeout,
    cf_code_fn *codefn, void *ctx, uint8_t device_id[static CF_ID_BYTES],
    enum cf_join_end *endp)
{
	struct cf_state_paths paths;
	struct cf_account acct;
	struct cf_device_keys *keys = NULL;
	struct cf_client *net = NULL;
	struct cf_chain *c = NULL, *pinned = NULL;
	struct cf_grant *g = NULL;
	struct cf_session *s = NULL;
	struct cf_dir_pin dp;
	uint8_t account_id[CF_ID_BYTES], rr[CF_PAIR_R_BYTES], t[CF_PAIR_T_BYTES];
	char code[CF_PAIR_CODE_TEXT_BYTES];
	uint8_t *req = NULL, *ap = NULL;
	size_t reqlen = 0, aplen = 0;
	uint64_t expires = 0;
	enum cf_join_end end = CF_JOIN_END_NONE, ignored;
	int r, saved = 0, pending = 0;

	memset(device_id, 0, CF_ID_BYTES);
	memset(&acct, 0, sizeof(acct));
	*endp = CF_JOIN_END_NONE;
	if (!cf_account_args_ok(url, name, device))
		return COFFER_EINVAL;
	if ((r = new_device_paths(&paths, from)) != 0)
		goto out;
	if ((r = cf_client_new(url, &net)) != 0)
		goto out;
	if ((r = cf_client_name_lookup(net, name, account_id)) != 0) {
		if (r == COFFER_ENOENT)
			end = CF_JOIN_END_NO_ACCOUNT;
		goto out;
	}
	if ((r = cf_account_keys(&paths, 0, &keys)) != 0)
		goto out;
	if ((r = cf_client_set_signer(net, account_id, keys->sign_pk,
	    keys->sign_sk, keys->box_pk)) != 0)
		goto out;
	if ((r = cf_join_request_make(keys, account_id, name, strlen(name),
	    device, strlen(device), rr, t, &req, &reqlen)) != 0)
		goto out;
	if ((r = cf_client_join_post(net, req, reqlen, &expires)) != 0) {
		if (r == COFFER_ENOENT)
			end = CF_JOIN_END_NO_ACCOUNT;
		goto out;
	}
	pending = 1;
	cf_pair_code_format(rr, t, code);
	codefn(ctx, code);
	sodium_memzero(code, sizeof(code));
	if ((r = join_wait(net, keys, account_id, timeout, &ap, &aplen,
	    &end)) != 0) {
		pending = end != CF_JOIN_END_WITHDRAWN && end != CF_JOIN_END_GONE;
		goto out;
	}
	/* Before anything else: the approval must carry our r. */
	if ((r = approval_precheck(keys, rr, ap, aplen)) != 0)
		goto out;
	/* The chain from genesis; the approval against it. */
	if ((r = fetch_verify_chain(net, &c)) != 0)
		goto out;
	if (memcmp(c->account_id, account_id, CF_ID_BYTES) != 0) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	if ((r = cf_approval_open(c, keys, rr, ap, aplen, &g)) != 0) {
		r = cf_err_from_server(r);
		goto out;
	}
	/* Adopt the approver's pins: chain up to the add entry, directory. */
	if ((r = chain_prefix(c, g->chain_seq + 1, &pinned)) != 0)
		goto out;
	memcpy(acct.account_id, account_id, CF_ID_BYTES);
	memcpy(acct.server, url, strlen(url) + 1);
	memcpy(acct.name, name, strlen(name) + 1);
	memcpy(acct.device, device, strlen(device) + 1);
	memset(&dp, 0, sizeof(dp));
	dp.version = g->dir_version;
	memcpy(dp.hash, g->dir_hash, CF_ID_BYTES);
	saved = 1;
	if ((r = cf_state_save_chainpin(&paths, pinned)) != 0)
		goto out;
	if (dp.version > 0 && (r = cf_state_save_dirpin(&paths, &dp)) != 0)
		goto out;
	if ((r = save_account(&paths, &acct)) != 0)
		goto out;
	/* Open the session: chain synced past the pin, envelope, directory. */
	if ((r = cf_session_open(&paths, &s)) != 0)
		goto out;
	if ((r = check_granted_heads(s, g)) != 0)
		goto out;
	memcpy(device_id, keys->device_id, CF_ID_BYTES);
	saved = 0;
	pending = 0;
out:
	if (saved)
		undo_account(&paths);
	/*
	 * A join that failed otherwise (an approval that fails a check, a
	 * server gone) withdraws its request too, as it can: a later
	 * approval must not add a device that never joined.
	 */
	if (pending && r != 0 && net != NULL && keys != NULL)
		(void)join_withdraw(net, keys, account_id, &ignored);
	*endp = end;
	sodium_memzero(rr, sizeof(rr));
	sodium_memzero(t, sizeof(t));
	cf_session_free(s);
	cf_grant_free(g);
	cf_chain_free(c);
	cf_chain_free(pinned);
	cf_keys_free(keys);
	cf_client_free(net);
	free(req);
	free(ap);
	return r;
}

/* Open the recovery key's envelope of the current epoch of ${c}. */
static int
open_rk_envelope(struct cf_client *net, const struct cf_chain *c,
    const struct cf_recovery_keys *rk, const uint8_t rk_id[static CF_ID_BYTES],
    uint8_t (**ksp)[CF_KEY_BYTES], uint64_t *nksp)
{
	struct cf_blobs envs = { 0, NULL, NULL };
	uint8_t (*keys)[CF_KEY_BYTES] = NULL;
	const struct cf_chain_epoch *ep = cf_chain_current_epoch(c);
	uint64_t nkeys = 0;
	size_t i;
	int r;

	*ksp = NULL;
	*nksp = 0;
	if ((r = cf_client_envelopes_get(net, rk_id, &envs)) != 0)
		goto out;
	r = COFFER_ENOTAUTHENTIC;
	for (i = 0; ep != NULL && i < envs.n; i++) {
		if (cf_envelope_open(c, rk_id, rk->box_pk, rk->box_sk, envs.p[i],
		    envs.len[i], &keys, &nkeys) != 0)
			continue;
		if (nkeys == ep->epoch) {
			*ksp = keys;
			*nksp = nkeys;
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

/* Fetch the directory head and pin it (a recovered device has no pin yet). */
static int
adopt_dir(struct cf_session *s)
{
	uint8_t *rec = NULL;
	size_t reclen = 0;
	uint64_t version = 0;
	struct cf_dir *d = NULL;
	int r;

	if ((r = cf_client_dir_get(s->net, &version, &rec, &reclen)) != 0)
		goto out;
	if (rec == NULL)
		goto out;
	if ((r = cf_dir_accept(s->chain, NULL,
	    (const uint8_t (*)[CF_KEY_BYTES])s->ks, s->nks, rec, reclen, NULL,
	    NULL, 0, &d)) != 0) {
		r = cf_err_from_server(r);
		goto out;
	}
	if (d->version != version) {
		r = COFFER_ENOTAUTHENTIC;
		goto out;
	}
	cf_dir_pin_of(d, &s->dirpin);
	if ((r = cf_state_save_dirpin(&s->paths, &s->dirpin)) != 0)
		goto out;
	s->dir = d;
	d = NULL;
out:
	cf_dir_free(d);
	free(rec);
	return r;
}

int
cf_recover(const struct cf_state_paths *from, const char *url,
    const char *name, const char *keytext, size_t keylen, const char *device,
    int remove_others, cf_history_fn *histfn, void *ctx,
    uint8_t device_id[static CF_ID_BYTES])
{
	struct cf_recovery_keys *rk = NULL;
	struct cf_chain *c = NULL, *c2 = NULL;
	struct cf_chain_change *hist = NULL;
	struct cf_session *s = NULL;
	struct cf_blobs envs = { 0, NULL, NULL };
	uint8_t (*ks)[CF_KEY_BYTES] = NULL;
	uint8_t (*others)[CF_ID_BYTES] = NULL;
	uint8_t account_id[CF_ID_BYTES], rk_id[CF_ID_BYTES];
	uint8_t secret[CF_RECOVERY_SECRET_BYTES], tag[4], pop[CF_SIG_BYTES];
	uint8_t *entry = NULL, *knew = NULL;
	struct cf_signer rks, me;
	size_t nhist = 0, elen = 0, nothers = 0, i;
	uint64_t nks = 0, length = 0;
	int r, saved = 0;

	memset(device_id, 0, CF_ID_BYTES);
	if (!cf_account_args_ok(url, name, device))
		return COFFER_EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return COFFER_ENOMEM;
	if ((r = new_device_paths(&s->paths, from)) != 0)
		goto out;
	if ((r = cf_recovery_parse(keytext, keylen, secret, tag)) != 0)
		goto out;
	if ((r = cf_client_new(url, &s->net)) != 0)
		goto out;
	if ((r = cf_client_name_lookup(s->net, name, account_id)) != 0)
		goto out;
	if ((r = cf_recovery_check_account(secret, tag, account_id)) != 0)
		goto out;
	if ((rk = sodium_malloc(sizeof(*rk))) == NULL ||
	    (knew = sodium_malloc(CF_KEY_BYTES)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	if ((r = cf_recovery_derive(secret, account_id, rk)) != 0)
		goto out;
	cf_device_id(rk->sign_pk, rk->box_pk, rk_id);
	if ((r = cf_client_set_signer(s->net, account_id, rk->sign_pk,
	    rk->sign_sk, rk->box_pk)) != 0)
		goto out;
	/*
	 * The server signs in only the current recovery key, so a replaced
	 * key is refused here (COFFER_EDENIED) -- as any refusal is: only a
	 * key that fails a check of its own is a wrong key.
	 */
	if ((r = fetch_verify_chain(s->net, &c)) != 0)
		goto out;
	if ((r = cf_recovery_check_chain(c, secret, account_id)) != 0)
		goto out;
	if ((r = open_rk_envelope(s->net, c, rk, rk_id, &ks, &nks)) != 0)
		goto out;
	if ((r = cf_chain_changes(c, (const uint8_t (*)[CF_KEY_BYTES])ks, nks,
	    0, &hist, &nhist)) != 0)
		goto out;
	histfn(ctx, hist, nhist);
	/* This device, added by the recovery key. */
	if ((r = cf_account_keys(&s->paths, 0, &s->keys)) != 0)
		goto out;
	cf_pop_sign(s->keys, account_id, pop);
	memcpy(rks.id, rk_id, CF_ID_BYTES);
	rks.sign_sk = rk->sign_sk;
	if ((r = cf_entry_add(c, &rks, s->keys->sign_pk, s->keys->box_pk, pop,
	    device, strlen(device), ks[nks - 1], cf_device_now(), &entry,
	    &elen)) != 0)
		goto out;
	if ((r = cf_chain_clone(c, &c2)) != 0 ||
	    (r = cf_chain_append(c2, entry, elen)) != 0)
		goto out;
	/*
	 * No envelope with the add: the server takes envelopes signed by
	 * devices only, and a new epoch, signed by this device, follows at
	 * once (the removals, or a rotation).
	 */
	if ((r = cf_client_set_signer(s->net, account_id, s->keys->sign_pk,
	    s->keys->sign_sk, s->keys->box_pk)) != 0)
		goto out;
	if ((r = cf_client_chain_append(s->net, c->n, entry, elen, &envs, 1,
	    &length)) != 0)
		goto out;
	memcpy(s->acct.account_id, account_id, CF_ID_BYTES);
	memcpy(s->acct.server, url, strlen(url) + 1);
	memcpy(s->acct.name, name, strlen(name) + 1);
	memcpy(s->acct.device, device, strlen(device) + 1);
	saved = 1;
	if ((r = cf_state_save_chainpin(&s->paths, c2)) != 0 ||
	    (r = save_account(&s->paths, &s->acct)) != 0)
		goto out;
	saved = 0;	/* the device is in the chain: keep its files */
	memcpy(device_id, s->keys->device_id, CF_ID_BYTES);
	s->chain = c2;
	c2 = NULL;
	s->chain_before = s->chain->n;
	s->ks = ks;
	s->nks = nks;
	ks = NULL;
	if ((r = adopt_dir(s)) != 0)
		goto out;
	if ((others = calloc(s->chain->ndevices + 1, CF_ID_BYTES)) == NULL) {
		r = COFFER_ENOMEM;
		goto out;
	}
	for (i = 0; remove_others && i < s->chain->ndevices; i++) {
		if (s->chain->devices[i].removed ||
		    !memcmp(s->chain->devices[i].id, device_id, CF_ID_BYTES))
			continue;
		memcpy(others[nothers++], s->chain->devices[i].id, CF_ID_BYTES);
	}
	if (nothers > 0) {
		r = cf_device_remove_ids(s,
		    (const uint8_t (*)[CF_ID_BYTES])others, nothers, 0);
		goto out;
	}
	/* Nobody to remove: rotate, so this device has an envelope. */
	memcpy(me.id, s->keys->device_id, CF_ID_BYTES);
	me.sign_sk = s->keys->sign_sk;
	free(entry);
	entry = NULL;
	if ((r = cf_entry_rotate(s->chain, &me, cf_device_now(), knew,
	    &entry, &elen)) != 0)
		goto out;
	if ((r = cf_device_epoch_append(s, entry, elen, knew)) != 0)
		goto out;
	r = cf_device_dir_rewrap(s, 0);
out:
	if (saved)
		undo_account(&s->paths);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(tag, sizeof(tag));
	if (rk != NULL)
		sodium_free(rk);
	if (knew != NULL)
		sodium_free(knew);
	if (ks != NULL)
		sodium_free(ks);
	free(hist);
	free(others);
	free(entry);
	cf_blobs_free(&envs);
	cf_session_free(s);
	cf_chain_free(c);
	cf_chain_free(c2);
	return r;
}
