/*
 * The client's own files (lib/client/state.c, statcache.c, idhash.c):
 * round trips, every refusal of the strict parsers, atomic writes, the
 * stat cache's MAC and rules.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "client/idhash.h"
#include "client/state.h"
#include "client/statcache.h"
#include "util/buf.h"
#include "t.h"
#include "util.h"

static struct cf_account
acct_sample(void)
{
	struct cf_account a;

	memset(&a, 0, sizeof(a));
	snprintf(a.server, sizeof(a.server), "http://127.0.0.1:4242");
	snprintf(a.name, sizeof(a.name), "alice.b-c_1");
	memset(a.account_id, 0xab, sizeof(a.account_id));
	snprintf(a.device, sizeof(a.device), "laptop \xc3\xa9");
	return a;
}

static int
acct_decode_str(const char *s)
{
	struct cf_account a;

	return cf_account_decode((const uint8_t *)s, strlen(s), &a);
}

static void
test_account_roundtrip(void)
{
	struct cf_account a = acct_sample(), b;
	uint8_t *buf = NULL;
	size_t len = 0;

	CHECK_RC(cf_account_encode(&a, &buf, &len), 0);
	memset(&b, 0, sizeof(b));
	CHECK_RC(cf_account_decode(buf, len, &b), 0);
	CHECK(!memcmp(&a, &b, sizeof(a)));
	/* Every proper prefix and every one-byte extension is refused. */
	for (size_t i = 0; i < len; i++)
		CHECK_RC(cf_account_decode(buf, i, &b), COFFER_EFORMAT);
	free(buf);
}

#define HDR "coffer-account-v1\n"
#define ID64 "abababababababababababababababababababababababababababababababab"

static void
test_account_refusals(void)
{
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\naccount=a\naccount_id="
	    ID64 "\ndevice=d\n"), 0);
	/* Trailing bytes, missing newline, wrong order, duplicates. */
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\naccount=a\naccount_id="
	    ID64 "\ndevice=d\nx"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\naccount=a\naccount_id="
	    ID64 "\ndevice=d"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "account=a\nserver=http://h:1\naccount_id="
	    ID64 "\ndevice=d\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\nserver=http://h:1\n"
	    "account=a\naccount_id=" ID64 "\ndevice=d\n"), COFFER_EFORMAT);
	/* Bad header, URL, account name, id, device name. */
	CHECK_RC(acct_decode_str("coffer-account-v2\nserver=http://h:1\naccount=a\n"
	    "account_id=" ID64 "\ndevice=d\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=ftp://h:1\naccount=a\naccount_id="
	    ID64 "\ndevice=d\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://\naccount=a\naccount_id="
	    ID64 "\ndevice=d\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://h :1\naccount=a\naccount_id="
	    ID64 "\ndevice=d\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\naccount=Alice\naccount_id="
	    ID64 "\ndevice=d\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\naccount=\naccount_id="
	    ID64 "\ndevice=d\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\naccount=a\naccount_id="
	    "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"
	    "\ndevice=d\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\naccount=a\naccount_id="
	    "abab\ndevice=d\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\naccount=a\naccount_id="
	    ID64 "\ndevice=\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\naccount=a\naccount_id="
	    ID64 "\ndevice=a\tb\n"), COFFER_EFORMAT);
	CHECK_RC(acct_decode_str(HDR "server=http://h:1\naccount=a\naccount_id="
	    ID64 "\ndevice=0123456789012345678901234567890123456789012345678901"
	    "2345678901234\n"), COFFER_EFORMAT);	/* 65 bytes */
	/* A NUL inside a value. */
	{
		char s[] = HDR "server=http://h:1\naccount=a\naccount_id=" ID64
		    "\ndevice=d\n";
		s[strlen(s) - 2] = '\0';
		struct cf_account a;
		CHECK_RC(cf_account_decode((const uint8_t *)s, sizeof(s) - 1, &a),
		    COFFER_EFORMAT);
	}
}

static void
test_dirpin(void)
{
	struct cf_dir_pin p, q;
	uint8_t buf[CF_DIRPIN_BYTES];

	memset(&p, 0, sizeof(p));
	p.version = 7;
	memset(p.hash, 0x5a, sizeof(p.hash));
	p.chain_seq = 3;
	cf_dirpin_encode(&p, buf);
	CHECK_RC(cf_dirpin_decode(buf, sizeof(buf), &q), 0);
	CHECK(q.version == 7 && q.chain_seq == 3 && !memcmp(q.hash, p.hash, 32));
	CHECK_RC(cf_dirpin_decode(buf, sizeof(buf) - 1, &q), COFFER_EFORMAT);
	buf[4] = 2;
	CHECK_RC(cf_dirpin_decode(buf, sizeof(buf), &q), COFFER_EFORMAT);
	buf[4] = 1;
	buf[0] = 'X';
	CHECK_RC(cf_dirpin_decode(buf, sizeof(buf), &q), COFFER_EFORMAT);
	p.version = 0;
	cf_dirpin_encode(&p, buf);
	CHECK_RC(cf_dirpin_decode(buf, sizeof(buf), &q), COFFER_EFORMAT);
}

static void
test_drivepin(void)
{
	struct cf_drivepin p, *q = NULL;
	uint8_t id[CF_ID_BYTES], *buf = NULL;
	size_t len = 0, i;

	memset(&p, 0, sizeof(p));
	memset(p.drive_id, 1, sizeof(p.drive_id));
	p.verified_at = 1700000000;
	for (i = 0; i < 5; i++) {
		memset(id, (int)(0x10 + i), sizeof(id));
		CHECK_RC(cf_drivepin_push(&p, id), 0);
	}
	p.head_chain_seq = 4;
	CHECK_RC(cf_drivepin_encode(&p, &buf, &len), 0);
	CHECK_RC(cf_drivepin_decode(buf, len, &q), 0);
	CHECK(q != NULL && q->n == 5 && q->head_chain_seq == 4 &&
	    q->verified_at == 1700000000 && q->ids[4][0] == 0x14);
	cf_drivepin_free(q);
	q = NULL;
	for (i = 0; i < len; i++)
		CHECK_RC(cf_drivepin_decode(buf, i, &q), COFFER_EFORMAT);
	/* A count that does not match the bytes left. */
	buf[4 + 1 + 32 + 8 + 8 + 7] = 6;
	CHECK_RC(cf_drivepin_decode(buf, len, &q), COFFER_EFORMAT);
	buf[4 + 1 + 32 + 8 + 8 + 7] = 0xff;
	buf[4 + 1 + 32 + 8 + 8] = 0xff;
	CHECK_RC(cf_drivepin_decode(buf, len, &q), COFFER_EFORMAT);
	CHECK(q == NULL);
	free(buf);
	/* An empty pin with a chain seq is malformed. */
	free(p.ids);
	p.ids = NULL;
	p.n = 0;
	p.head_chain_seq = 1;
	CHECK_RC(cf_drivepin_encode(&p, &buf, &len), 0);
	CHECK_RC(cf_drivepin_decode(buf, len, &q), COFFER_EFORMAT);
	free(buf);
}

static void
test_state_files(void)
{
	char *dir = tu_tmpdir(), path[4096], sub[4096];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;

	CHECK(dir != NULL);
	if (dir == NULL)
		return;
	CHECK_RC(cf_state_write(dir, "f", (const uint8_t *)"hello", 5), 0);
	CHECK_RC(cf_state_read(dir, "f", 100, &buf, &len), 0);
	CHECK(len == 5 && !memcmp(buf, "hello", 5));
	free(buf);
	CHECK_RC(cf_state_read(dir, "f", 4, &buf, &len), COFFER_EFORMAT);
	CHECK_RC(cf_state_write(dir, "f", (const uint8_t *)"bye", 3), 0);
	CHECK_RC(cf_state_read(dir, "f", 100, &buf, &len), 0);
	CHECK(len == 3 && !memcmp(buf, "bye", 3));
	free(buf);
	snprintf(path, sizeof(path), "%s/f", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_RC(cf_state_read(dir, "missing", 100, &buf, &len), COFFER_ENOENT);
	/* A symlink is not followed; a folder is not a file. */
	snprintf(path, sizeof(path), "%s/link", dir);
	CHECK(symlink("f", path) == 0);
	CHECK_RC(cf_state_read(dir, "link", 100, &buf, &len), COFFER_EFORMAT);
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	CHECK_RC(cf_state_mkdirs(sub), 0);
	CHECK_RC(cf_state_read(dir, "a", 100, &buf, &len), COFFER_EFORMAT);
	/* "sub/name" is written inside dir/sub, and no temporary is left. */
	CHECK_RC(cf_state_write(dir, "a/x", (const uint8_t *)"1", 1), 0);
	CHECK_RC(cf_state_read(dir, "a/x", 100, &buf, &len), 0);
	free(buf);
	snprintf(path, sizeof(path), "%s/a", dir);
	{
		int n = 0;
		FILE *f;
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", path);
		if ((f = popen(cmd, "r")) != NULL) {
			if (fscanf(f, "%d", &n) != 1)
				n = -1;
			pclose(f);
		}
		CHECK(n == 2);		/* b and x */
	}
	tu_rmrf(dir);
	free(dir);
}

static void
sc_sample(struct cf_statcache **scp, const uint8_t *drive, const uint8_t *secret)
{
	struct cf_sc_entry e;
	struct cf_ref refs[3];

	CHECK_RC(cf_statcache_new(drive, secret, scp), 0);
	memset(&e, 0, sizeof(e));
	memset(refs, 0, sizeof(refs));
	refs[0].len = 100;
	refs[1].len = 200;
	refs[1].id[0] = 1;
	/* Added out of order: encode sorts. */
	e.path = (uint8_t *)"b/c";
	e.pathlen = 3;
	e.size = 300;
	e.refs = refs;
	e.nrefs = 2;
	e.mtime_sec = -5;
	e.mtime_nsec = 999999999;
	e.ino = 77;
	CHECK_RC(cf_statcache_add(*scp, &e), 0);
	e.path = (uint8_t *)"a";
	e.pathlen = 1;
	e.size = 0;
	e.nrefs = 0;
	CHECK_RC(cf_statcache_add(*scp, &e), 0);
	e.path = (uint8_t *)"b\xff";
	e.pathlen = 2;
	e.size = 100;
	e.nrefs = 1;
	CHECK_RC(cf_statcache_add(*scp, &e), 0);
}

static void
test_statcache(void)
{
	struct cf_statcache *sc = NULL, *back = NULL;
	const struct cf_sc_entry *e;
	uint8_t drive[CF_ID_BYTES], secret[CF_ID_BYTES], other[CF_ID_BYTES];
	uint8_t ck[CF_KEY_BYTES], mk[CF_KEY_BYTES], mk2[CF_KEY_BYTES];
	uint8_t *buf = NULL;
	size_t len = 0, i;

	memset(drive, 3, sizeof(drive));
	memset(secret, 4, sizeof(secret));
	memset(other, 5, sizeof(other));
	memset(ck, 6, sizeof(ck));
	cf_statcache_mac_key(ck, mk);
	ck[0] ^= 1;
	cf_statcache_mac_key(ck, mk2);
	sc_sample(&sc, drive, secret);
	CHECK_RC(cf_statcache_encode(sc, mk, &buf, &len), 0);
	CHECK_RC(cf_statcache_open(buf, len, mk, drive, secret, &back), 0);
	CHECK(back != NULL && back->n == 3);
	if (back != NULL) {
		CHECK((e = cf_statcache_find(back, (const uint8_t *)"b/c", 3)) != NULL &&
		    e->size == 300 && e->nrefs == 2 && e->mtime_sec == -5 &&
		    e->ino == 77 && e->refs[1].id[0] == 1);
		CHECK(cf_statcache_find(back, (const uint8_t *)"a", 1) != NULL);
		CHECK(cf_statcache_find(back, (const uint8_t *)"b", 1) == NULL);
	}
	/* An entry found in one cache copies into another (as push does). */
	if (back != NULL) {
		struct cf_statcache *cp = NULL;
		uint8_t *buf2 = NULL;
		size_t len2 = 0;

		CHECK_RC(cf_statcache_new(drive, secret, &cp), 0);
		for (i = 0; i < 3; i++) {
			static const char *const names[] = { "b\xff", "a", "b/c" };
			CHECK((e = cf_statcache_find(back, (const uint8_t *)names[i],
			    strlen(names[i]))) != NULL);
			if (e != NULL)
				CHECK_RC(cf_statcache_add(cp, e), 0);
		}
		CHECK_RC(cf_statcache_encode(cp, mk, &buf2, &len2), 0);
		CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
		free(buf2);
		buf2 = NULL;
		cf_statcache_free(cp);
		/* The same, referring to the found records (no copy), mixed. */
		CHECK_RC(cf_statcache_new(drive, secret, &cp), 0);
		for (i = 0; i < 3; i++) {
			static const char *const names[] = { "b/c", "a", "b\xff" };
			CHECK((e = cf_statcache_find(back, (const uint8_t *)names[i],
			    strlen(names[i]))) != NULL);
			if (e != NULL && i == 1)
				CHECK_RC(cf_statcache_add(cp, e), 0);
			else if (e != NULL)
				CHECK_RC(cf_statcache_add_found(cp, back), 0);
		}
		CHECK(cp->n == 3 && cp->base == back);
		CHECK_RC(cf_statcache_encode(cp, mk, &buf2, &len2), 0);
		CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
		/* After encode, the copy is sorted and searchable too. */
		CHECK((e = cf_statcache_find(cp, (const uint8_t *)"b/c", 3)) != NULL &&
		    e->nrefs == 2 && e->refs[0].len == 100 && e->refs[1].len == 200);
		free(buf2);
		cf_statcache_free(cp);
	}
	cf_statcache_free(back);
	back = NULL;
	/* Taking the buffer: refused ones stay the caller's, unchanged. */
	{
		uint8_t *cp = malloc(len), *keep = cp;

		CHECK(cp != NULL);
		if (cp != NULL) {
			memcpy(cp, buf, len);
			CHECK_RC(cf_statcache_open_take(&cp, len, mk, other,
			    secret, &back), COFFER_EFORMAT);
			CHECK(cp == keep && back == NULL &&
			    memcmp(cp, buf, len) == 0);
			CHECK_RC(cf_statcache_open_take(&cp, len, mk, drive,
			    secret, &back), 0);
			CHECK(cp == NULL && back != NULL && back->n == 3);
			if (back != NULL) {
				struct cf_sc_entry d;

				CHECK((e = cf_statcache_find(back,
				    (const uint8_t *)"b/c", 3)) != NULL &&
				    e->size == 300 && e->refs[1].id[0] == 1);
				/* Adding to it moves the records out first. */
				memset(&d, 0, sizeof(d));
				d.path = (uint8_t *)"c";
				d.pathlen = 1;
				CHECK_RC(cf_statcache_add(back, &d), 0);
				CHECK(back->owned == NULL && back->n == 4);
				CHECK((e = cf_statcache_find(back,
				    (const uint8_t *)"b/c", 3)) != NULL &&
				    e->size == 300 && e->refs[1].id[0] == 1);
			}
			cf_statcache_free(back);
			back = NULL;
			free(cp);
		}
	}
	/* Another key, drive or secret: as if absent. */
	CHECK_RC(cf_statcache_open(buf, len, mk2, drive, secret, &back), COFFER_EFORMAT);
	CHECK_RC(cf_statcache_open(buf, len, mk, other, secret, &back), COFFER_EFORMAT);
	CHECK_RC(cf_statcache_open(buf, len, mk, drive, other, &back), COFFER_EFORMAT);
	/* Every flipped byte is refused; so is every truncation. */
	for (i = 0; i < len; i++) {
		buf[i] ^= 0x20;
		CHECK_RC(cf_statcache_open(buf, len, mk, drive, secret, &back),
		    COFFER_EFORMAT);
		buf[i] ^= 0x20;
	}
	for (i = 0; i < len; i++)
		CHECK_RC(cf_statcache_open(buf, i, mk, drive, secret, &back),
		    COFFER_EFORMAT);
	CHECK(back == NULL);
	/* The body alone decodes; its prefixes do not. */
	CHECK_RC(cf_statcache_decode(buf, len - 32, &back), 0);
	cf_statcache_free(back);
	back = NULL;
	for (i = 0; i < len - 32; i++)
		CHECK_RC(cf_statcache_decode(buf, i, &back), COFFER_EFORMAT);
	free(buf);
	/* Two entries with the same path cannot be encoded. */
	{
		struct cf_sc_entry d;
		memset(&d, 0, sizeof(d));
		d.path = (uint8_t *)"a";
		d.pathlen = 1;
		CHECK_RC(cf_statcache_add(sc, &d), 0);
		CHECK_RC(cf_statcache_encode(sc, mk, &buf, &len), COFFER_EINVAL);
	}
	cf_statcache_free(sc);
}

/* Hand-made bodies that break one rule each. */
static void
test_statcache_rules(void)
{
	struct cf_statcache *sc = NULL;
	struct cf_wr w;
	uint8_t *buf = NULL, id[CF_ID_BYTES];
	size_t len = 0;
	int k;

	memset(id, 9, sizeof(id));
	for (k = 0; k < 6; k++) {
		cf_wr_init(&w, 1 << 16, 0);
		cf_wr_bytes(&w, "CFSC", 4);
		cf_wr_u8(&w, 1);
		cf_wr_bytes(&w, id, 32);
		cf_wr_bytes(&w, id, 32);
		cf_wr_u32(&w, 2);
		/* entry 1: "b", size 10 in one chunk of 10 */
		cf_wr_lstr(&w, k == 0 ? "c" : "b", 1);	/* k 0: not sorted */
		cf_wr_u64(&w, 10);
		cf_wr_u64(&w, 0);
		cf_wr_u32(&w, k == 1 ? 1000000000U : 0);	/* k 1: nsec */
		cf_wr_u64(&w, 0);
		cf_wr_u32(&w, 0);
		cf_wr_u64(&w, 0);
		cf_wr_u64(&w, 0);
		cf_wr_u32(&w, 1);
		cf_wr_bytes(&w, id, 32);
		cf_wr_u32(&w, k == 2 ? 11 : 10);	/* k 2: sum != size */
		/* entry 2: "c" (k 3: "b" again, a duplicate), empty */
		cf_wr_lstr(&w, k == 3 ? "b" : "c", 1);
		cf_wr_u64(&w, k == 4 ? 5 : 0);		/* k 4: size without chunks */
		cf_wr_u64(&w, 0);
		cf_wr_u32(&w, 0);
		cf_wr_u64(&w, 0);
		cf_wr_u32(&w, 0);
		cf_wr_u64(&w, 0);
		cf_wr_u64(&w, 0);
		cf_wr_u32(&w, 0);
		if (k == 5)
			cf_wr_u8(&w, 0);		/* trailing byte */
		CHECK_RC(cf_wr_finish(&w, &buf, &len), 0);
		CHECK_RC(cf_statcache_decode(buf, len, &sc), COFFER_EFORMAT);
		CHECK(sc == NULL);
		free(buf);
	}
}

static void
test_known(void)
{
	struct cf_idset s = { NULL, 0 }, back = { NULL, 0 };
	uint8_t drive[CF_ID_BYTES], commit[CF_ID_BYTES], other[CF_ID_BYTES];
	uint8_t ck[CF_KEY_BYTES], mk[CF_KEY_BYTES], smk[CF_KEY_BYTES];
	uint8_t d[CF_ID_BYTES], c[CF_ID_BYTES], *buf = NULL, tmp[CF_ID_BYTES];
	size_t len = 0, i;

	memset(drive, 1, sizeof(drive));
	memset(commit, 2, sizeof(commit));
	memset(other, 3, sizeof(other));
	memset(ck, 4, sizeof(ck));
	cf_known_mac_key(ck, mk);
	cf_statcache_mac_key(ck, smk);
	CHECK(memcmp(mk, smk, sizeof(mk)) != 0);	/* keys per purpose */
	s.n = 3;
	CHECK((s.ids = calloc(3, CF_ID_BYTES)) != NULL);
	if (s.ids == NULL)
		return;
	s.ids[CF_ID_BYTES] = 1;
	s.ids[2 * CF_ID_BYTES] = 2;
	CHECK_RC(cf_known_encode(drive, commit, &s, mk, &buf, &len), 0);
	CHECK_RC(cf_known_open(buf, len, mk, drive, commit, &back), 0);
	CHECK(back.n == 3 && !memcmp(back.ids, s.ids, 3 * CF_ID_BYTES));
	cf_delta_idset_clear(&back);
	/* Taking the buffer: refused ones stay the caller's, unchanged. */
	{
		uint8_t *cp = malloc(len), *keep = cp;

		CHECK(cp != NULL);
		if (cp != NULL) {
			memcpy(cp, buf, len);
			CHECK_RC(cf_known_open_take(&cp, len, mk, drive, other,
			    &back), COFFER_EFORMAT);
			CHECK(cp == keep && memcmp(cp, buf, len) == 0);
			cp[len - 1] ^= 1;
			CHECK_RC(cf_known_open_take(&cp, len, mk, drive, commit,
			    &back), COFFER_EFORMAT);
			cp[len - 1] ^= 1;
			CHECK(cp == keep && back.ids == NULL);
			CHECK_RC(cf_known_open_take(&cp, len, mk, drive, commit,
			    &back), 0);
			CHECK(cp == NULL && back.n == 3 &&
			    !memcmp(back.ids, s.ids, 3 * CF_ID_BYTES));
			cf_delta_idset_clear(&back);
			free(cp);
		}
	}
	CHECK_RC(cf_known_open(buf, len, mk, drive, other, &back), COFFER_EFORMAT);
	CHECK_RC(cf_known_open(buf, len, mk, other, commit, &back), COFFER_EFORMAT);
	CHECK_RC(cf_known_open(buf, len, smk, drive, commit, &back), COFFER_EFORMAT);
	for (i = 0; i < len; i++) {
		buf[i] ^= 1;
		CHECK_RC(cf_known_open(buf, len, mk, drive, commit, &back),
		    COFFER_EFORMAT);
		buf[i] ^= 1;
		CHECK_RC(cf_known_open(buf, i, mk, drive, commit, &back),
		    COFFER_EFORMAT);
	}
	CHECK(back.ids == NULL);
	/* Not sorted: refused both ways. */
	memcpy(tmp, s.ids, CF_ID_BYTES);
	memcpy(s.ids, s.ids + CF_ID_BYTES, CF_ID_BYTES);
	memcpy(s.ids + CF_ID_BYTES, tmp, CF_ID_BYTES);
	free(buf);
	CHECK_RC(cf_known_encode(drive, commit, &s, mk, &buf, &len), COFFER_EINVAL);
	{
		uint8_t body[4 + 1 + 32 + 32 + 4 + 2 * 32];
		memcpy(body, "CFKI", 4);
		body[4] = 1;
		memset(body + 5, 0, 64);
		cf_be32enc(body + 69, 2);
		memcpy(body + 73, s.ids, 64);
		CHECK_RC(cf_known_decode(body, sizeof(body), d, c, &back),
		    COFFER_EFORMAT);
		memcpy(body + 73, s.ids + CF_ID_BYTES, 32);
		memcpy(body + 105, s.ids, 32);
		CHECK_RC(cf_known_decode(body, sizeof(body), d, c, &back), 0);
		cf_delta_idset_clear(&back);
		CHECK_RC(cf_known_decode(body, sizeof(body) - 1, d, c, &back),
		    COFFER_EFORMAT);
	}
	cf_delta_idset_clear(&s);
}

static void
test_idhash(void)
{
	struct cf_idhash h;
	struct cf_idset s;
	uint8_t id[CF_ID_BYTES];
	uint32_t i;

	cf_idhash_init(&h);
	memset(id, 1, sizeof(id));
	CHECK(!cf_idhash_has(&h, id));
	for (i = 0; i < 5000; i++) {
		crypto_generichash(id, sizeof(id), (const uint8_t *)&i, sizeof(i),
		    NULL, 0);
		CHECK_RC(cf_idhash_add(&h, id), 1);
	}
	for (i = 0; i < 5000; i++) {
		crypto_generichash(id, sizeof(id), (const uint8_t *)&i, sizeof(i),
		    NULL, 0);
		CHECK_RC(cf_idhash_add(&h, id), 0);
		CHECK(cf_idhash_has(&h, id));
	}
	CHECK(h.n == 5000);
	CHECK_RC(cf_idhash_sorted(&h, &s), 0);
	CHECK(s.n == 5000 && cf_delta_idset_sorted(&s));
	CHECK(cf_idset_has(&s, id));
	memset(id, 0, sizeof(id));
	CHECK(!cf_idset_has(&s, id));
	/* The all-zero id (the empty-slot marker) is a member like any. */
	CHECK(!cf_idhash_has(&h, id));
	CHECK_RC(cf_idhash_add(&h, id), 1);
	CHECK_RC(cf_idhash_add(&h, id), 0);
	CHECK(cf_idhash_has(&h, id) && h.n == 5001);
	/* Sorting in place gives the same set as the copy, zero id first. */
	{
		struct cf_idset t;

		cf_delta_idset_clear(&s);
		CHECK_RC(cf_idhash_sorted(&h, &s), 0);
		CHECK_RC(cf_idhash_take_sorted(&h, &t), 0);
		CHECK(h.n == 0 && h.cap == 0 && !h.zero);
		CHECK(t.n == 5001 && s.n == 5001 && cf_delta_idset_sorted(&t) &&
		    memcmp(t.ids, s.ids, 5001 * CF_ID_BYTES) == 0 &&
		    cf_idset_has(&t, id));
		cf_delta_idset_clear(&t);
		/* Only the zero id, and nothing at all. */
		CHECK_RC(cf_idhash_add(&h, id), 1);
		CHECK_RC(cf_idhash_take_sorted(&h, &t), 0);
		CHECK(t.n == 1 && cf_idset_has(&t, id));
		cf_delta_idset_clear(&t);
		CHECK_RC(cf_idhash_take_sorted(&h, &t), 0);
		CHECK(t.n == 0 && t.ids == NULL);
	}
	/* Ids that all probe from the last slot wrap around the table. */
	for (i = 0; i < 600; i++) {
		memset(id, 0xff, 8);
		crypto_generichash(id + 8, sizeof(id) - 8,
		    (const uint8_t *)&i, sizeof(i), NULL, 0);
		CHECK_RC(cf_idhash_add(&h, id), 1);
	}
	for (i = 0; i < 600; i++) {
		memset(id, 0xff, 8);
		crypto_generichash(id + 8, sizeof(id) - 8,
		    (const uint8_t *)&i, sizeof(i), NULL, 0);
		CHECK(cf_idhash_has(&h, id));
	}
	id[31] ^= 1;
	CHECK(!cf_idhash_has(&h, id));
	cf_delta_idset_clear(&s);
	cf_idhash_clear(&h);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(test_account_roundtrip);
	T_RUN(test_account_refusals);
	T_RUN(test_dirpin);
	T_RUN(test_drivepin);
	T_RUN(test_state_files);
	T_RUN(test_statcache);
	T_RUN(test_statcache_rules);
	T_RUN(test_known);
	T_RUN(test_idhash);
	T_DONE("client_state");
}
