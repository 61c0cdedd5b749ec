/* The embedded metadata store: SQLite, WAL, synchronous=FULL. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "coffer/err.h"
#include "meta.h"

#define PATH_MAX_LEN	4096
#define NONCE_PURGE_EVERY	256
#define NONCE_TTL		600	/* seconds a nonce is remembered */
/* The nonces of read requests, in memory (docs/API.md §2). */
#define NONCE_MEM_MIN		1024		/* slots, a power of two */
#define NONCE_MEM_MAX		((size_t)1 << 19)	/* 29 MiB at most */
#define NONCE_KEY_BYTES		(32 + 16)	/* device || nonce */
#define NONCE_SPILL_S		60	/* seconds of spilling once full */

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS accounts("
    " id BLOB PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    " created INTEGER NOT NULL, chain_len INTEGER NOT NULL,"
    " chain_head BLOB NOT NULL, rk_id BLOB, rk_sign_pk BLOB,"
    " dir_version INTEGER NOT NULL DEFAULT 0,"
    " used INTEGER NOT NULL DEFAULT 0, nobjects INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS chain(account BLOB NOT NULL,"
    " seq INTEGER NOT NULL, entry BLOB NOT NULL,"
    " PRIMARY KEY(account, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS devices(account BLOB NOT NULL,"
    " id BLOB NOT NULL, sign_pk BLOB NOT NULL, added_seq INTEGER NOT NULL,"
    " removed_seq INTEGER, PRIMARY KEY(account, id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS envelopes(account BLOB NOT NULL,"
    " recipient BLOB NOT NULL, entry_hash BLOB NOT NULL,"
    " epoch INTEGER NOT NULL, env BLOB NOT NULL,"
    " PRIMARY KEY(account, recipient, entry_hash)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS joins(account BLOB NOT NULL,"
    " device BLOB NOT NULL, sign_pk BLOB NOT NULL, request BLOB NOT NULL,"
    " expires INTEGER NOT NULL, approval BLOB,"
    " PRIMARY KEY(account, device)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS dirs(account BLOB NOT NULL,"
    " version INTEGER NOT NULL, record BLOB NOT NULL,"
    " PRIMARY KEY(account, version)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS drives(id BLOB PRIMARY KEY,"
    " account BLOB NOT NULL, version INTEGER NOT NULL DEFAULT 0,"
    " commit_id BLOB) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS deltas(drive BLOB NOT NULL,"
    " version INTEGER NOT NULL, commit_id BLOB NOT NULL,"
    " delta BLOB NOT NULL, PRIMARY KEY(drive, version)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS live(drive BLOB NOT NULL, id BLOB NOT NULL,"
    " PRIMARY KEY(drive, id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS objects(drive BLOB NOT NULL,"
    " id BLOB NOT NULL, pack INTEGER NOT NULL, off INTEGER NOT NULL,"
    " len INTEGER NOT NULL, protected_until INTEGER NOT NULL,"
    " PRIMARY KEY(drive, id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS nonces(device BLOB NOT NULL,"
    " nonce BLOB NOT NULL, expires INTEGER NOT NULL,"
    " PRIMARY KEY(device, nonce)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS nonces_expires ON nonces(expires);"
    "CREATE TABLE IF NOT EXISTS invites(hash BLOB PRIMARY KEY,"
    " expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0)"
    " WITHOUT ROWID;";

enum {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_NONCE_INS, S_NONCE_PURGE, S_NONCE_HAS,
	S_INVITE_INS, S_INVITE_USE,
	S_ACCT_INS, S_ACCT_BY_NAME, S_ACCT_STATE, S_ACCT_SET_CHAIN,
	S_ACCT_SET_RK, S_ACCT_RK,
	S_CHAIN_INS, S_CHAIN_GET,
	S_DEV_INS, S_DEV_GET, S_DEV_REMOVE, S_DEV_ACTIVE,
	S_ENV_INS, S_ENV_MAXEPOCH, S_ENV_GET,
	S_JOIN_PURGE, S_JOIN_COUNT, S_JOIN_INS, S_JOIN_LIST, S_JOIN_GET,
	S_JOIN_APPROVE, S_JOIN_DEL,
	S_DIR_GET, S_DIR_SET, S_DIR_INS, S_DIR_RANGE,
	S_DIR_VERSION,
	S_DRIVE_GET, S_DRIVE_INS, S_HEAD_SET, S_DELTA_INS,
	S_LIVE_HAS, S_LIVE_INS, S_LIVE_DEL,
	S_OBJ_GET, S_OBJ_INS, S_OBJ_PROTECT,
	S_USAGE, S_USAGE_ADD,
	S_INTEGRITY, S_OBJ_SCAN, S_USAGE_CHECK,
	S_COUNT
};

static const char *const sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_NONCE_INS] = "INSERT INTO nonces(device, nonce, expires) "
	    "VALUES(?1, ?2, ?3)",
	[S_NONCE_PURGE] = "DELETE FROM nonces WHERE expires < ?1",
	[S_NONCE_HAS] = "SELECT 1 FROM nonces WHERE device = ?1 AND nonce = ?2",
	[S_INVITE_INS] = "INSERT INTO invites(hash, expires) VALUES(?1, ?2)",
	[S_INVITE_USE] = "UPDATE invites SET used = 1 WHERE hash = ?1 "
	    "AND used = 0 AND expires >= ?2",
	[S_ACCT_INS] = "INSERT INTO accounts(id, name, created, chain_len, "
	    "chain_head, rk_id, rk_sign_pk) VALUES(?1, ?2, ?3, 1, ?4, ?5, ?6)",
	[S_ACCT_BY_NAME] = "SELECT id FROM accounts WHERE name = ?1",
	[S_ACCT_STATE] = "SELECT chain_len, chain_head FROM accounts "
	    "WHERE id = ?1",
	[S_ACCT_SET_CHAIN] = "UPDATE accounts SET chain_len = ?2, "
	    "chain_head = ?3 WHERE id = ?1",
	[S_ACCT_SET_RK] = "UPDATE accounts SET rk_id = ?2, rk_sign_pk = ?3 "
	    "WHERE id = ?1",
	[S_ACCT_RK] = "SELECT rk_id, rk_sign_pk FROM accounts WHERE id = ?1",
	[S_CHAIN_INS] = "INSERT INTO chain(account, seq, entry) "
	    "VALUES(?1, ?2, ?3)",
	[S_CHAIN_GET] = "SELECT entry FROM chain WHERE account = ?1 "
	    "AND seq >= ?2 ORDER BY seq LIMIT ?3",
	[S_DEV_INS] = "INSERT INTO devices(account, id, sign_pk, added_seq) "
	    "VALUES(?1, ?2, ?3, ?4)",
	[S_DEV_GET] = "SELECT sign_pk, removed_seq FROM devices "
	    "WHERE account = ?1 AND id = ?2",
	[S_DEV_REMOVE] = "UPDATE devices SET removed_seq = ?3 "
	    "WHERE account = ?1 AND id = ?2 AND removed_seq IS NULL",
	[S_DEV_ACTIVE] = "SELECT count(*) FROM devices WHERE account = ?1 "
	    "AND removed_seq IS NULL",
	[S_ENV_INS] = "INSERT OR REPLACE INTO envelopes(account, recipient, "
	    "entry_hash, epoch, env) VALUES(?1, ?2, ?3, ?4, ?5)",
	[S_ENV_MAXEPOCH] = "SELECT max(epoch) FROM envelopes "
	    "WHERE account = ?1 AND recipient = ?2",
	[S_ENV_GET] = "SELECT env FROM envelopes WHERE account = ?1 "
	    "AND recipient = ?2 AND epoch = ?3 ORDER BY entry_hash",
	[S_JOIN_PURGE] = "DELETE FROM joins WHERE expires < ?1",
	[S_JOIN_COUNT] = "SELECT count(*) FROM joins WHERE account = ?1 "
	    "AND device != ?2 AND approval IS NULL",
	[S_JOIN_INS] = "INSERT OR REPLACE INTO joins(account, device, "
	    "sign_pk, request, expires) VALUES(?1, ?2, ?3, ?4, ?5)",
	[S_JOIN_LIST] = "SELECT device, request, expires FROM joins "
	    "WHERE account = ?1 AND approval IS NULL ORDER BY device",
	[S_JOIN_GET] = "SELECT sign_pk, approval FROM joins "
	    "WHERE account = ?1 AND device = ?2",
	[S_JOIN_APPROVE] = "UPDATE joins SET approval = ?3 "
	    "WHERE account = ?1 AND device = ?2",
	[S_JOIN_DEL] = "DELETE FROM joins WHERE account = ?1 AND device = ?2",
	[S_DIR_GET] = "SELECT a.dir_version, d.record FROM accounts a "
	    "LEFT JOIN dirs d ON d.account = a.id AND d.version = a.dir_version "
	    "WHERE a.id = ?1",
	[S_DIR_SET] = "UPDATE accounts SET dir_version = ?2 WHERE id = ?1",
	[S_DIR_INS] = "INSERT INTO dirs(account, version, record) "
	    "VALUES(?1, ?2, ?3)",
	[S_DIR_VERSION] = "SELECT dir_version FROM accounts WHERE id = ?1",
	[S_DIR_RANGE] = "SELECT record FROM dirs WHERE account = ?1 "
	    "AND version > ?2 AND version <= ?4 ORDER BY version LIMIT ?3",
	[S_DRIVE_GET] = "SELECT account, version, commit_id FROM drives "
	    "WHERE id = ?1",
	[S_DRIVE_INS] = "INSERT INTO drives(id, account) VALUES(?1, ?2)",
	[S_HEAD_SET] = "UPDATE drives SET version = ?2, commit_id = ?3 "
	    "WHERE id = ?1",
	[S_DELTA_INS] = "INSERT INTO deltas(drive, version, commit_id, delta) "
	    "VALUES(?1, ?2, ?3, ?4)",
	[S_LIVE_HAS] = "SELECT 1 FROM live WHERE drive = ?1 AND id = ?2",
	[S_LIVE_INS] = "INSERT INTO live(drive, id) VALUES(?1, ?2)",
	[S_LIVE_DEL] = "DELETE FROM live WHERE drive = ?1 AND id = ?2",
	[S_OBJ_GET] = "SELECT pack, off, len FROM objects "
	    "WHERE drive = ?1 AND id = ?2",
	[S_OBJ_INS] = "INSERT INTO objects(drive, id, pack, off, len, "
	    "protected_until) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[S_OBJ_PROTECT] = "UPDATE objects SET protected_until = "
	    "max(protected_until, ?3) WHERE drive = ?1 AND id = ?2",
	[S_USAGE] = "SELECT used, nobjects FROM accounts WHERE id = ?1",
	[S_USAGE_ADD] = "UPDATE accounts SET used = used + ?2, "
	    "nobjects = nobjects + ?3 WHERE id = ?1",
	[S_INTEGRITY] = "PRAGMA integrity_check",
	[S_OBJ_SCAN] = "SELECT drive, id, pack, off, len FROM objects",
	[S_USAGE_CHECK] = "SELECT count(*) FROM accounts a WHERE "
	    "a.used != (SELECT coalesce(sum(o.len), 0) FROM objects o "
	    "JOIN drives d ON o.drive = d.id WHERE d.account = a.id) OR "
	    "a.nobjects != (SELECT count(*) FROM objects o "
	    "JOIN drives d ON o.drive = d.id WHERE d.account = a.id)",
};

/* One slot of the in-memory nonce table; expires == 0: empty. */
struct nonce_slot {
	uint8_t key[NONCE_KEY_BYTES];
	uint64_t expires;
};

/* Open addressing, linear probing, at most half full; never shrinks. */
struct nonce_mem {
	pthread_mutex_t lock;
	struct nonce_slot *slot;
	size_t cap, n;
	uint64_t spill_until;	/* full at the largest size: spill till then */
	uint8_t hkey[crypto_shorthash_KEYBYTES];	/* SipHash: no chosen collisions */
};

struct srv_meta {
	struct nonce_mem nm;
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	pthread_mutex_t lock;
	int intx;
	unsigned nonce_calls;
};

/* Reset and return statement ${k}. */
static sqlite3_stmt *
st(struct srv_meta *m, int k)
{
	sqlite3_reset(m->st[k]);
	sqlite3_clear_bindings(m->st[k]);
	return m->st[k];
}

static void
bind_id(sqlite3_stmt *s, int i, const uint8_t *id)
{
	sqlite3_bind_blob(s, i, id, CF_ID_BYTES, SQLITE_STATIC);
}

static void
bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n)
{
	sqlite3_bind_blob64(s, i, p, (sqlite3_uint64)n, SQLITE_STATIC);
}

static void
bind_u64(sqlite3_stmt *s, int i, uint64_t v)
{
	sqlite3_bind_int64(s, i, (sqlite3_int64)v);
}

static uint64_t
col_u64(sqlite3_stmt *s, int i)
{
	sqlite3_int64 v = sqlite3_column_int64(s, i);

	return v < 0 ? 0 : (uint64_t)v;
}

/* Copy a fixed-size blob column; 0 if it has exactly ${n} bytes. */
static int
col_fixed(sqlite3_stmt *s, int i, uint8_t *out, size_t n)
{
	const void *p = sqlite3_column_blob(s, i);
	int rc = COFFER_EIO;

	if (p != NULL && (size_t)sqlite3_column_bytes(s, i) == n) {
		memcpy(out, p, n);
		rc = 0;
	}
	return rc;
}

/* Copy a blob column into malloc'd memory (NULL for SQL NULL). */
static int
col_dup(sqlite3_stmt *s, int i, uint8_t **pp, size_t *lenp)
{
	const void *p;
	int n, rc = 0;

	*pp = NULL;
	*lenp = 0;
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		goto out;
	p = sqlite3_column_blob(s, i);
	n = sqlite3_column_bytes(s, i);
	if ((*pp = malloc((size_t)n + 1)) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	if (n > 0)
		memcpy(*pp, p, (size_t)n);
	*lenp = (size_t)n;
out:
	return rc;
}

/* Run a statement that returns no rows. */
static int
run(sqlite3_stmt *s)
{
	int r = sqlite3_step(s), rc = COFFER_EIO;

	sqlite3_reset(s);
	if (r == SQLITE_DONE)
		rc = 0;
	else if (r == SQLITE_CONSTRAINT)
		rc = COFFER_EEXIST;
	return rc;
}

/* Step for one row: 0 row, ENOENT none, EIO error. */
static int
row(sqlite3_stmt *s)
{
	int r = sqlite3_step(s), rc = 0;

	if (r != SQLITE_ROW) {
		sqlite3_reset(s);
		rc = r == SQLITE_DONE ? COFFER_ENOENT : COFFER_EIO;
	}
	return rc;
}

int
srv_meta_open(const char *dir, struct srv_meta **mp)
{
	struct srv_meta *m = NULL;
	char path[PATH_MAX_LEN];
	char *errmsg = NULL;
	int rc = 0, k;

	*mp = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->nm.lock, NULL);
	randombytes_buf(m->nm.hkey, sizeof(m->nm.hkey));
	k = snprintf(path, sizeof(path), "%s/meta.db", dir);
	if (k < 0 || (size_t)k >= sizeof(path)) {
		rc = COFFER_EINVAL;
		goto out;
	}
	if (sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = COFFER_EIO;
		goto out;
	}
	sqlite3_busy_timeout(m->db, SRV_BUSY_TIMEOUT_MS);
	if (sqlite3_exec(m->db, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;PRAGMA foreign_keys=ON;", NULL, NULL,
	    &errmsg) != SQLITE_OK ||
	    sqlite3_exec(m->db, schema, NULL, NULL, &errmsg) != SQLITE_OK) {
		rc = COFFER_EIO;
		goto out;
	}
	for (k = 0; k < S_COUNT; k++) {
		if (sqlite3_prepare_v3(m->db, sql[k], -1,
		    SQLITE_PREPARE_PERSISTENT, &m->st[k], NULL) != SQLITE_OK) {
			rc = COFFER_EIO;
			goto out;
		}
	}
	*mp = m;
	m = NULL;
out:
	sqlite3_free(errmsg);
	srv_meta_close(m);
	return rc;
}

void
srv_meta_close(struct srv_meta *m)
{
	int k;

	if (m == NULL)
		return;
	for (k = 0; k < S_COUNT; k++)
		sqlite3_finalize(m->st[k]);
	sqlite3_close(m->db);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->nm.lock);
	free(m->nm.slot);
	free(m);
}

int
srv_meta_begin(struct srv_meta *m)
{
	int rc;

	pthread_mutex_lock(&m->lock);
	if ((rc = run(st(m, S_BEGIN))) != 0) {
		pthread_mutex_unlock(&m->lock);
		rc = COFFER_EIO;
	} else {
		m->intx = 1;
	}
	return rc;
}

int
srv_meta_commit(struct srv_meta *m)
{
	int rc;

	if ((rc = run(st(m, S_COMMIT))) != 0) {
		(void)run(st(m, S_ROLLBACK));
		rc = COFFER_EIO;
	}
	m->intx = 0;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

void
srv_meta_rollback(struct srv_meta *m)
{
	if (!m->intx)
		return;
	(void)run(st(m, S_ROLLBACK));
	m->intx = 0;
	pthread_mutex_unlock(&m->lock);
}

static int nm_seen(struct nonce_mem *, const uint8_t *, const uint8_t *);

int
srv_meta_nonce_use(struct srv_meta *m, const uint8_t *device,
    const uint8_t *nonce, uint64_t now)
{
	sqlite3_stmt *s;
	int rc;

	/* A nonce is used once per device, whichever table holds it. */
	if (nm_seen(&m->nm, device, nonce))
		return COFFER_ECONFLICT;

	if (++m->nonce_calls % NONCE_PURGE_EVERY == 1) {
		s = st(m, S_NONCE_PURGE);
		bind_u64(s, 1, now);
		if ((rc = run(s)) != 0)
			goto out;
	}
	s = st(m, S_NONCE_INS);
	bind_id(s, 1, device);
	bind_blob(s, 2, nonce, 16);
	bind_u64(s, 3, now + NONCE_TTL);
	if ((rc = run(s)) == COFFER_EEXIST)
		rc = COFFER_ECONFLICT;
out:
	return rc;
}

/* ---- nonces of read requests: in memory ---- */

static size_t
nm_home(const struct nonce_mem *nm, const uint8_t key[NONCE_KEY_BYTES],
    size_t cap)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v = 0;
	size_t i;

	crypto_shorthash(h, key, NONCE_KEY_BYTES, nm->hkey);
	for (i = 0; i < sizeof(h); i++)
		v = (v << 8) | h[i];
	return (size_t)(v & (cap - 1));
}

/* The slot holding ${key}, or the empty slot where it would go. */
static struct nonce_slot *
nm_find(const struct nonce_mem *nm, struct nonce_slot *slot, size_t cap,
    const uint8_t key[NONCE_KEY_BYTES])
{
	size_t i = nm_home(nm, key, cap);

	while (slot[i].expires != 0 &&
	    memcmp(slot[i].key, key, NONCE_KEY_BYTES) != 0)
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

/*
 * Make room for one more: drop the expired entries and size the table
 * to at most a quarter full.  COFFER_ETOOBIG if even NONCE_MEM_MAX slots
 * would be more than half full.
 */
static int
nm_rebuild(struct nonce_mem *nm, uint64_t now)
{
	struct nonce_slot *ns;
	size_t i, live = 0, cap = NONCE_MEM_MIN;

	for (i = 0; i < nm->cap; i++)
		if (nm->slot[i].expires >= now)
			live++;
	while (cap < NONCE_MEM_MAX && cap < 4 * (live + 1))
		cap *= 2;
	if (2 * (live + 1) > cap)
		return COFFER_ETOOBIG;
	if ((ns = calloc(cap, sizeof(*ns))) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < nm->cap; i++)
		if (nm->slot[i].expires >= now)
			*nm_find(nm, ns, cap, nm->slot[i].key) = nm->slot[i];
	free(nm->slot);
	nm->slot = ns;
	nm->cap = cap;
	nm->n = live;
	return 0;
}

/* 1 if ${nonce} of ${device} is in the table. */
static int
nm_seen(struct nonce_mem *nm, const uint8_t *device, const uint8_t *nonce)
{
	uint8_t key[NONCE_KEY_BYTES];
	int seen;

	memcpy(key, device, 32);
	memcpy(key + 32, nonce, 16);
	pthread_mutex_lock(&nm->lock);
	seen = nm->cap > 0 && nm_find(nm, nm->slot, nm->cap, key)->expires != 0;
	pthread_mutex_unlock(&nm->lock);
	return seen;
}

/* 0 added, ECONFLICT seen, ETOOBIG full. */
static int
nm_use(struct nonce_mem *nm, const uint8_t key[NONCE_KEY_BYTES],
    uint64_t expires, uint64_t now)
{
	struct nonce_slot *e;
	int rc = 0;

	pthread_mutex_lock(&nm->lock);
	/* Seen, even if expired since: its time stamp is stale by then. */
	if (nm->cap > 0 && (e = nm_find(nm, nm->slot, nm->cap, key))->expires != 0) {
		rc = COFFER_ECONFLICT;
		goto out;
	}
	if (2 * (nm->n + 1) > nm->cap) {
		/*
		 * At the largest size, a rebuild that frees little would be
		 * paid again by the next request: spill to the durable table
		 * for NONCE_SPILL_S instead.
		 */
		if (nm->cap == NONCE_MEM_MAX && now < nm->spill_until) {
			rc = COFFER_ETOOBIG;
			goto out;
		}
		rc = nm_rebuild(nm, now);
		if (nm->cap == NONCE_MEM_MAX &&
		    (rc == COFFER_ETOOBIG || 8 * nm->n > 3 * nm->cap))
			nm->spill_until = now + NONCE_SPILL_S;
		if (rc != 0)
			goto out;
	}
	e = nm_find(nm, nm->slot, nm->cap, key);
	memcpy(e->key, key, NONCE_KEY_BYTES);
	e->expires = expires;
	nm->n++;
out:
	pthread_mutex_unlock(&nm->lock);
	return rc;
}

int
srv_meta_nonce_use_read(struct srv_meta *m, const uint8_t *device,
    const uint8_t *nonce, uint64_t now)
{
	uint8_t key[NONCE_KEY_BYTES];
	sqlite3_stmt *s;
	int rc;

	/* Spilled to the durable table once (memory full): refused there too. */
	s = st(m, S_NONCE_HAS);
	bind_id(s, 1, device);
	bind_blob(s, 2, nonce, 16);
	rc = row(s);
	sqlite3_reset(s);
	if (rc == 0)
		return COFFER_ECONFLICT;
	if (rc != COFFER_ENOENT)
		return rc;
	memcpy(key, device, 32);
	memcpy(key + 32, nonce, 16);
	rc = nm_use(&m->nm, key, now + NONCE_TTL, now);
	if (rc == COFFER_ETOOBIG || rc == COFFER_ENOMEM)
		rc = srv_meta_nonce_use(m, device, nonce, now);
	return rc;
}

int
srv_meta_invite_add(struct srv_meta *m, const uint8_t hash[static 32],
    uint64_t expires)
{
	sqlite3_stmt *s = st(m, S_INVITE_INS);

	bind_blob(s, 1, hash, 32);
	bind_u64(s, 2, expires);
	return run(s);
}

int
srv_meta_invite_use(struct srv_meta *m, const uint8_t hash[static 32],
    uint64_t now)
{
	sqlite3_stmt *s = st(m, S_INVITE_USE);
	int rc;

	bind_blob(s, 1, hash, 32);
	bind_u64(s, 2, now);
	if ((rc = run(s)) == 0 && sqlite3_changes(m->db) != 1)
		rc = COFFER_EDENIED;
	return rc;
}

int
srv_meta_account_create(struct srv_meta *m, const char *name,
    const uint8_t *genesis, size_t len, const struct srv_entry *e,
    uint64_t now)
{
	sqlite3_stmt *s;
	int rc;

	s = st(m, S_ACCT_INS);
	bind_id(s, 1, e->account_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	bind_u64(s, 3, now);
	bind_id(s, 4, e->hash);
	bind_id(s, 5, e->rk_id);
	bind_blob(s, 6, e->rk_sign_pk, CF_SIGN_PK_BYTES);
	if ((rc = run(s)) != 0)
		goto out;
	s = st(m, S_CHAIN_INS);
	bind_id(s, 1, e->account_id);
	bind_u64(s, 2, 0);
	bind_blob(s, 3, genesis, len);
	if ((rc = run(s)) != 0)
		goto out;
	s = st(m, S_DEV_INS);
	bind_id(s, 1, e->account_id);
	bind_id(s, 2, e->dev_id);
	bind_blob(s, 3, e->dev_sign_pk, CF_SIGN_PK_BYTES);
	bind_u64(s, 4, 0);
	rc = run(s);
out:
	return rc;
}

int
srv_meta_account_by_name(struct srv_meta *m, const char *name,
    uint8_t id[static CF_ID_BYTES])
{
	sqlite3_stmt *s = st(m, S_ACCT_BY_NAME);
	int rc;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if ((rc = row(s)) == 0) {
		rc = col_fixed(s, 0, id, CF_ID_BYTES);
		sqlite3_reset(s);
	}
	return rc;
}

int
srv_meta_account_state(struct srv_meta *m, const uint8_t *acct,
    uint64_t *chain_len, uint8_t head[static CF_ID_BYTES])
{
	sqlite3_stmt *s = st(m, S_ACCT_STATE);
	int rc;

	bind_id(s, 1, acct);
	if ((rc = row(s)) == 0) {
		*chain_len = col_u64(s, 0);
		rc = col_fixed(s, 1, head, CF_ID_BYTES);
		sqlite3_reset(s);
	}
	return rc;
}

int
srv_meta_device(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *device, uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    int *removedp)
{
	sqlite3_stmt *s = st(m, S_DEV_GET);
	int rc;

	bind_id(s, 1, acct);
	bind_id(s, 2, device);
	if ((rc = row(s)) == 0) {
		rc = col_fixed(s, 0, sign_pk, CF_SIGN_PK_BYTES);
		*removedp = sqlite3_column_type(s, 1) != SQLITE_NULL;
		sqlite3_reset(s);
	}
	return rc;
}

int
srv_meta_devices_active(struct srv_meta *m, const uint8_t *acct,
    uint64_t *np)
{
	sqlite3_stmt *s = st(m, S_DEV_ACTIVE);
	int rc;

	bind_id(s, 1, acct);
	if ((rc = row(s)) == 0) {
		*np = col_u64(s, 0);
		sqlite3_reset(s);
	}
	return rc;
}

int
srv_meta_rk(struct srv_meta *m, const uint8_t *acct,
    uint8_t id[static CF_ID_BYTES], uint8_t sign_pk[static CF_SIGN_PK_BYTES])
{
	sqlite3_stmt *s = st(m, S_ACCT_RK);
	int rc;

	bind_id(s, 1, acct);
	if ((rc = row(s)) == 0) {
		if (col_fixed(s, 0, id, CF_ID_BYTES) != 0 ||
		    col_fixed(s, 1, sign_pk, CF_SIGN_PK_BYTES) != 0)
			rc = COFFER_ENOENT;
		sqlite3_reset(s);
	}
	return rc;
}

int
srv_meta_signer(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *device, uint8_t sign_pk[static CF_SIGN_PK_BYTES])
{
	uint8_t rkid[CF_ID_BYTES], head[CF_ID_BYTES];
	uint64_t n;
	int rc, removed = 0;

	if ((rc = srv_meta_account_state(m, acct, &n, head)) != 0)
		goto out;
	rc = srv_meta_device(m, acct, device, sign_pk, &removed);
	if (rc == 0) {
		rc = removed ? COFFER_EDENIED : 0;
		goto out;
	}
	if (rc != COFFER_ENOENT)
		goto out;
	/* Not a device: the account's current recovery key? */
	rc = srv_meta_rk(m, acct, rkid, sign_pk);
	if (rc == 0 && memcmp(rkid, device, CF_ID_BYTES) == 0)
		goto out;
	if (rc == 0 || rc == COFFER_ENOENT)
		rc = COFFER_EDENIED;
out:
	if (rc != 0)
		memset(sign_pk, 0, CF_SIGN_PK_BYTES);
	return rc;
}

int
srv_meta_chain_append(struct srv_meta *m, const uint8_t *entry,
    size_t len, const struct srv_entry *e)
{
	sqlite3_stmt *s;
	int rc;

	s = st(m, S_CHAIN_INS);
	bind_id(s, 1, e->account_id);
	bind_u64(s, 2, e->seq);
	bind_blob(s, 3, entry, len);
	if ((rc = run(s)) != 0)
		goto out;
	s = st(m, S_ACCT_SET_CHAIN);
	bind_id(s, 1, e->account_id);
	bind_u64(s, 2, e->seq + 1);
	bind_id(s, 3, e->hash);
	if ((rc = run(s)) != 0)
		goto out;
	if (e->type == SRV_ENTRY_ADD) {
		s = st(m, S_DEV_INS);
		bind_id(s, 1, e->account_id);
		bind_id(s, 2, e->dev_id);
		bind_blob(s, 3, e->dev_sign_pk, CF_SIGN_PK_BYTES);
		bind_u64(s, 4, e->seq);
		if ((rc = run(s)) != 0)
			goto out;
	} else if (e->type == SRV_ENTRY_REMOVE) {
		s = st(m, S_DEV_REMOVE);
		bind_id(s, 1, e->account_id);
		bind_id(s, 2, e->removed_id);
		bind_u64(s, 3, e->seq);
		if ((rc = run(s)) != 0)
			goto out;
		if (sqlite3_changes(m->db) != 1) {
			rc = COFFER_ENOENT;
			goto out;
		}
	}
	if (e->has_rk && e->type == SRV_ENTRY_SETRK) {
		s = st(m, S_ACCT_SET_RK);
		bind_id(s, 1, e->account_id);
		bind_id(s, 2, e->rk_id);
		bind_blob(s, 3, e->rk_sign_pk, CF_SIGN_PK_BYTES);
		rc = run(s);
	}
out:
	return rc;
}

int
srv_meta_chain_get(struct srv_meta *m, const uint8_t *acct,
    uint64_t from, uint64_t max, size_t maxbytes, srv_meta_blob_cb *cb,
    void *arg)
{
	sqlite3_stmt *s = st(m, S_CHAIN_GET);
	size_t total = 0, n;
	int r, rc = 0;

	bind_id(s, 1, acct);
	bind_u64(s, 2, from);
	bind_u64(s, 3, max);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		n = (size_t)sqlite3_column_bytes(s, 0);
		/* At least one entry, however large; then stay under the cap
		 * (total may already be past it: no unsigned wrap). */
		if (total > 0 && (total >= maxbytes || n > maxbytes - total))
			break;
		total += n;
		if ((rc = cb(arg, sqlite3_column_blob(s, 0), n)) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = COFFER_EIO;
	sqlite3_reset(s);
	return rc;
}

int
srv_meta_envelope_put(struct srv_meta *m, const uint8_t *acct,
    const struct srv_envelope *v, const uint8_t *buf, size_t len)
{
	sqlite3_stmt *s = st(m, S_ENV_INS);

	bind_id(s, 1, acct);
	bind_id(s, 2, v->recipient_id);
	bind_id(s, 3, v->entry_hash);
	bind_u64(s, 4, v->epoch);
	bind_blob(s, 5, buf, len);
	return run(s);
}

int
srv_meta_envelopes_get(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *recipient, srv_meta_blob_cb *cb, void *arg)
{
	sqlite3_stmt *s = st(m, S_ENV_MAXEPOCH);
	uint64_t epoch;
	int r, rc;

	bind_id(s, 1, acct);
	bind_id(s, 2, recipient);
	if ((rc = row(s)) != 0)
		goto out;
	if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
		sqlite3_reset(s);	/* none for this recipient */
		goto out;
	}
	epoch = col_u64(s, 0);
	sqlite3_reset(s);
	s = st(m, S_ENV_GET);
	bind_id(s, 1, acct);
	bind_id(s, 2, recipient);
	bind_u64(s, 3, epoch);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = cb(arg, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0))) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = COFFER_EIO;
	sqlite3_reset(s);
out:
	return rc;
}

static int
join_purge(struct srv_meta *m, uint64_t now)
{
	sqlite3_stmt *s = st(m, S_JOIN_PURGE);

	bind_u64(s, 1, now);
	return run(s);
}

int
srv_meta_join_put(struct srv_meta *m, const uint8_t *acct,
    const struct srv_join *j, const uint8_t *req, size_t len,
    uint64_t expires, uint64_t now)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = join_purge(m, now)) != 0)
		goto out;
	s = st(m, S_JOIN_COUNT);
	bind_id(s, 1, acct);
	bind_id(s, 2, j->dev_id);
	if ((rc = row(s)) != 0)
		goto out;
	if (col_u64(s, 0) >= SRV_JOINS_PENDING_MAX) {
		sqlite3_reset(s);
		rc = COFFER_ETOOBIG;
		goto out;
	}
	sqlite3_reset(s);
	s = st(m, S_JOIN_INS);
	bind_id(s, 1, acct);
	bind_id(s, 2, j->dev_id);
	bind_blob(s, 3, j->sign_pk, CF_SIGN_PK_BYTES);
	bind_blob(s, 4, req, len);
	bind_u64(s, 5, expires);
	rc = run(s);
out:
	return rc;
}

int
srv_meta_joins_list(struct srv_meta *m, const uint8_t *acct, uint64_t now,
    srv_meta_join_cb *cb, void *arg)
{
	sqlite3_stmt *s;
	int r, rc;

	if ((rc = join_purge(m, now)) != 0)
		goto out;
	s = st(m, S_JOIN_LIST);
	bind_id(s, 1, acct);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != CF_ID_BYTES) {
			rc = COFFER_EIO;
			break;
		}
		if ((rc = cb(arg, sqlite3_column_blob(s, 0),
		    sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1), col_u64(s, 2))) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = COFFER_EIO;
	sqlite3_reset(s);
out:
	return rc;
}

int
srv_meta_join_get(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *dev, uint64_t now, uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    uint8_t **approvalp, size_t *lenp)
{
	sqlite3_stmt *s;
	int rc;

	*approvalp = NULL;
	*lenp = 0;
	if ((rc = join_purge(m, now)) != 0)
		goto out;
	s = st(m, S_JOIN_GET);
	bind_id(s, 1, acct);
	bind_id(s, 2, dev);
	if ((rc = row(s)) != 0)
		goto out;
	if ((rc = col_fixed(s, 0, sign_pk, CF_SIGN_PK_BYTES)) == 0)
		rc = col_dup(s, 1, approvalp, lenp);
	sqlite3_reset(s);
out:
	return rc;
}

int
srv_meta_join_approve(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *dev, uint64_t now, const uint8_t *approval, size_t len)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = join_purge(m, now)) != 0)
		goto out;
	s = st(m, S_JOIN_APPROVE);
	bind_id(s, 1, acct);
	bind_id(s, 2, dev);
	bind_blob(s, 3, approval, len);
	if ((rc = run(s)) == 0 && sqlite3_changes(m->db) != 1)
		rc = COFFER_ENOENT;
out:
	return rc;
}

int
srv_meta_join_delete(struct srv_meta *m, const uint8_t *acct,
    const uint8_t *dev)
{
	sqlite3_stmt *s = st(m, S_JOIN_DEL);
	int rc;

	bind_id(s, 1, acct);
	bind_id(s, 2, dev);
	if ((rc = run(s)) == 0 && sqlite3_changes(m->db) != 1)
		rc = COFFER_ENOENT;
	return rc;
}

int
srv_meta_dir_get(struct srv_meta *m, const uint8_t *acct,
    uint64_t *versionp, uint8_t **recp, size_t *lenp)
{
	sqlite3_stmt *s = st(m, S_DIR_GET);
	int rc;

	*versionp = 0;
	*recp = NULL;
	*lenp = 0;
	bind_id(s, 1, acct);
	if ((rc = row(s)) == 0) {
		*versionp = col_u64(s, 0);
		rc = col_dup(s, 1, recp, lenp);
		sqlite3_reset(s);
	}
	return rc;
}

int
srv_meta_dir_put(struct srv_meta *m, const uint8_t *acct, uint64_t version,
    const uint8_t *rec, size_t len)
{
	sqlite3_stmt *s = st(m, S_DIR_INS);
	int rc;

	/* Every record is kept: a device behind catches up through them. */
	bind_id(s, 1, acct);
	bind_u64(s, 2, version);
	bind_blob(s, 3, rec, len);
	if ((rc = run(s)) != 0)
		return rc;
	s = st(m, S_DIR_SET);
	bind_id(s, 1, acct);
	bind_u64(s, 2, version);
	if ((rc = run(s)) == 0 && sqlite3_changes(m->db) != 1)
		rc = COFFER_ENOENT;
	return rc;
}

int
srv_meta_dir_records(struct srv_meta *m, const uint8_t *acct, uint64_t after,
    uint64_t max, size_t maxbytes, srv_meta_blob_cb *cb, void *arg,
    uint64_t *versionp)
{
	sqlite3_stmt *s = st(m, S_DIR_VERSION);
	size_t total = 0, n;
	int r, rc;

	*versionp = 0;
	bind_id(s, 1, acct);
	if ((rc = row(s)) != 0)
		return rc;
	*versionp = col_u64(s, 0);
	sqlite3_reset(s);
	if (after >= *versionp)
		return 0;		/* nothing is that new */
	if (max > (uint64_t)INT64_MAX)
		max = (uint64_t)INT64_MAX;
	s = st(m, S_DIR_RANGE);
	bind_id(s, 1, acct);
	bind_u64(s, 2, after);
	bind_u64(s, 3, max);
	bind_u64(s, 4, *versionp);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		n = (size_t)sqlite3_column_bytes(s, 0);
		if (total > 0 && (total >= maxbytes ||
		    n > maxbytes - total))
			break;
		total += n;
		if ((rc = cb(arg, sqlite3_column_blob(s, 0), n)) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = COFFER_EIO;
	sqlite3_reset(s);
	return rc;
}

static int
drive_owner(struct srv_meta *m, const uint8_t *drive,
    uint8_t owner[static CF_ID_BYTES])
{
	sqlite3_stmt *s = st(m, S_DRIVE_GET);
	int rc;

	bind_id(s, 1, drive);
	if ((rc = row(s)) == 0) {
		rc = col_fixed(s, 0, owner, CF_ID_BYTES);
		sqlite3_reset(s);
	}
	return rc;
}

int
srv_meta_drive_claim(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *acct)
{
	sqlite3_stmt *s;
	uint8_t owner[CF_ID_BYTES];
	int rc;

	rc = drive_owner(m, drive, owner);
	if (rc == COFFER_ENOENT) {
		s = st(m, S_DRIVE_INS);
		bind_id(s, 1, drive);
		bind_id(s, 2, acct);
		rc = run(s);
	} else if (rc == 0 && memcmp(owner, acct, CF_ID_BYTES) != 0) {
		rc = COFFER_EDENIED;
	}
	return rc;
}

int
srv_meta_drive_owned(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *acct)
{
	uint8_t owner[CF_ID_BYTES];
	int rc;

	if ((rc = drive_owner(m, drive, owner)) == 0 &&
	    memcmp(owner, acct, CF_ID_BYTES) != 0)
		rc = COFFER_ENOENT;
	return rc;
}

int
srv_meta_head_get(struct srv_meta *m, const uint8_t *drive,
    uint64_t *versionp, uint8_t commit[static CF_ID_BYTES])
{
	sqlite3_stmt *s = st(m, S_DRIVE_GET);
	int rc;

	*versionp = 0;
	memset(commit, 0, CF_ID_BYTES);
	bind_id(s, 1, drive);
	if ((rc = row(s)) == 0) {
		*versionp = col_u64(s, 1);
		if (sqlite3_column_type(s, 2) != SQLITE_NULL)
			rc = col_fixed(s, 2, commit, CF_ID_BYTES);
		sqlite3_reset(s);
	}
	return rc;
}

int
srv_meta_head_set(struct srv_meta *m, const uint8_t *drive,
    uint64_t version, const uint8_t *commit, const uint8_t *delta,
    size_t len)
{
	sqlite3_stmt *s = st(m, S_HEAD_SET);
	int rc;

	bind_id(s, 1, drive);
	bind_u64(s, 2, version);
	bind_id(s, 3, commit);
	if ((rc = run(s)) == 0) {
		s = st(m, S_DELTA_INS);
		bind_id(s, 1, drive);
		bind_u64(s, 2, version);
		bind_id(s, 3, commit);
		bind_blob(s, 4, delta, len);
		rc = run(s);
	}
	return rc;
}

int
srv_meta_live_has(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id)
{
	sqlite3_stmt *s = st(m, S_LIVE_HAS);
	int rc;

	bind_id(s, 1, drive);
	bind_id(s, 2, id);
	rc = row(s);
	sqlite3_reset(s);
	if (rc == 0)
		rc = 1;
	else if (rc == COFFER_ENOENT)
		rc = 0;
	return rc;
}

int
srv_meta_live_add(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id)
{
	sqlite3_stmt *s = st(m, S_LIVE_INS);

	bind_id(s, 1, drive);
	bind_id(s, 2, id);
	return run(s);
}

int
srv_meta_live_del(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id)
{
	sqlite3_stmt *s = st(m, S_LIVE_DEL);

	bind_id(s, 1, drive);
	bind_id(s, 2, id);
	return run(s);
}

int
srv_meta_object_get(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id, struct srv_objloc *loc)
{
	sqlite3_stmt *s = st(m, S_OBJ_GET);
	uint64_t len;
	int rc;

	memset(loc, 0, sizeof(*loc));
	bind_id(s, 1, drive);
	bind_id(s, 2, id);
	if ((rc = row(s)) != 0)
		goto out;
	loc->pack = col_u64(s, 0);
	loc->off = col_u64(s, 1);
	len = col_u64(s, 2);
	sqlite3_reset(s);
	if (len > UINT32_MAX)
		rc = COFFER_EIO;
	else
		loc->len = (uint32_t)len;
out:
	return rc;
}

int
srv_meta_object_put(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id, const struct srv_objloc *loc, uint64_t protect_until)
{
	sqlite3_stmt *s = st(m, S_OBJ_INS);

	bind_id(s, 1, drive);
	bind_id(s, 2, id);
	bind_u64(s, 3, loc->pack);
	bind_u64(s, 4, loc->off);
	bind_u64(s, 5, loc->len);
	bind_u64(s, 6, protect_until);
	return run(s);
}

int
srv_meta_object_protect(struct srv_meta *m, const uint8_t *drive,
    const uint8_t *id, uint64_t until)
{
	sqlite3_stmt *s = st(m, S_OBJ_PROTECT);

	bind_id(s, 1, drive);
	bind_id(s, 2, id);
	bind_u64(s, 3, until);
	return run(s);
}

int
srv_meta_usage(struct srv_meta *m, const uint8_t *acct, uint64_t *bytes,
    uint64_t *objects)
{
	sqlite3_stmt *s = st(m, S_USAGE);
	int rc;

	*bytes = 0;
	*objects = 0;
	bind_id(s, 1, acct);
	if ((rc = row(s)) == 0) {
		*bytes = col_u64(s, 0);
		*objects = col_u64(s, 1);
		sqlite3_reset(s);
	}
	return rc;
}

int
srv_meta_usage_add(struct srv_meta *m, const uint8_t *acct, uint64_t bytes,
    uint64_t objects)
{
	sqlite3_stmt *s = st(m, S_USAGE_ADD);

	bind_id(s, 1, acct);
	bind_u64(s, 2, bytes);
	bind_u64(s, 3, objects);
	return run(s);
}

int
srv_meta_integrity(struct srv_meta *m)
{
	sqlite3_stmt *s = st(m, S_INTEGRITY);
	const unsigned char *t;
	int rc;

	if ((rc = row(s)) == 0) {
		t = sqlite3_column_text(s, 0);
		if (t == NULL || strcmp((const char *)t, "ok") != 0)
			rc = COFFER_EIO;
		sqlite3_reset(s);
	}
	return rc;
}

int
srv_meta_objects_scan(struct srv_meta *m, srv_meta_obj_cb *cb, void *arg)
{
	sqlite3_stmt *s = st(m, S_OBJ_SCAN);
	struct srv_objloc loc;
	uint64_t len;
	int r, rc = 0;

	while (rc == 0 && (r = sqlite3_step(s)) == SQLITE_ROW) {
		len = col_u64(s, 4);
		loc.pack = col_u64(s, 2);
		loc.off = col_u64(s, 3);
		loc.len = (uint32_t)len;
		if (len > UINT32_MAX ||
		    sqlite3_column_bytes(s, 0) != CF_ID_BYTES ||
		    sqlite3_column_bytes(s, 1) != CF_ID_BYTES)
			rc = COFFER_EIO;
		else
			rc = cb(arg, sqlite3_column_blob(s, 0),
			    sqlite3_column_blob(s, 1), &loc);
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = COFFER_EIO;
	sqlite3_reset(s);
	return rc;
}

int
srv_meta_usage_mismatches(struct srv_meta *m, uint64_t *np)
{
	sqlite3_stmt *s = st(m, S_USAGE_CHECK);
	int rc;

	*np = 0;
	if ((rc = row(s)) == 0) {
		*np = col_u64(s, 0);
		sqlite3_reset(s);
	}
	return rc;
}
