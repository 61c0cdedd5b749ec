/*
 * The stat cache: an untrusted, authenticated, deletable local file.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "chunker/chunker.h"
#include "util/buf.h"
#include "statcache.h"

#define ENTRY_FIXED	(4 + 8 + 8 + 4 + 8 + 4 + 8 + 8 + 4)
#define STAT_BYTES	(8 + 8 + 4 + 8 + 4 + 8 + 8)
#define MAC_BYTES	CF_KEY_BYTES
#define HDR_BYTES	(4 + 1 + CF_ID_BYTES + CF_ID_BYTES + 4)

/*
 * Both caches, stat and known ids, are local files that end with a keyed
 * BLAKE2b MAC of everything before it, under a key derived from the
 * drive's chunk id key with the cache's own ${label}.
 */
static void
cache_mac_key(const char *label,
    const uint8_t chunk_id_key[static CF_KEY_BYTES],
    uint8_t mac_key[static CF_KEY_BYTES])
{
	crypto_generichash(mac_key, CF_KEY_BYTES, (const uint8_t *)label,
	    strlen(label), chunk_id_key, CF_KEY_BYTES);
}

/* Write the MAC of ${buf}[0, ${len}) at ${mac}. */
static void
cache_mac(const uint8_t *buf, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES], uint8_t mac[static MAC_BYTES])
{
	crypto_generichash(mac, MAC_BYTES, buf, len, mac_key, CF_KEY_BYTES);
}

/* 0 if ${buf} of ${len} bytes ends with its MAC, else COFFER_EFORMAT. */
static int
cache_mac_ok(const uint8_t *buf, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES])
{
	uint8_t mac[MAC_BYTES];

	if (len < MAC_BYTES)
		return COFFER_EFORMAT;
	cache_mac(buf, len - MAC_BYTES, mac_key, mac);
	if (crypto_verify_32(mac, buf + len - MAC_BYTES) != 0)
		return COFFER_EFORMAT;
	return 0;
}

int
cf_statcache_new(const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t secret_id[static CF_ID_BYTES], struct cf_statcache **scp)
{
	struct cf_statcache *sc;

	*scp = NULL;
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return COFFER_ENOMEM;
	memcpy(sc->drive_id, drive_id, CF_ID_BYTES);
	memcpy(sc->secret_id, secret_id, CF_ID_BYTES);
	*scp = sc;
	return 0;
}

void
cf_statcache_free(struct cf_statcache *sc)
{
	if (sc == NULL)
		return;
	free(sc->off);
	if (sc->owned != NULL)
		free(sc->owned);
	else
		free(sc->rec);
	free(sc->vrefs);
	free(sc);
}

/* Room for one more offset and ${need} more record bytes. */
static int
grow(struct cf_statcache *sc, size_t need)
{
	uint32_t *no;
	uint8_t *nr;
	size_t ncap;

	if (sc->n == sc->cap) {
		ncap = sc->cap == 0 ? 64 : sc->cap + sc->cap / 2;
		if ((no = realloc(sc->off, ncap * sizeof(*no))) == NULL)
			return COFFER_ENOMEM;
		sc->off = no;
		sc->cap = ncap;
	}
	if (sc->owned != NULL && need > 0) {	/* records of our own first */
		if ((nr = malloc(sc->reclen + need)) == NULL)
			return COFFER_ENOMEM;
		memcpy(nr, sc->rec, sc->reclen);
		free(sc->owned);
		sc->owned = NULL;
		sc->rec = nr;
		sc->reccap = sc->reclen + need;
	}
	if (sc->reccap - sc->reclen < need) {
		ncap = sc->reccap == 0 ? 8192 : sc->reccap + sc->reccap / 2;
		if (ncap - sc->reclen < need)
			ncap = sc->reclen + need;
		if ((nr = realloc(sc->rec, ncap)) == NULL)
			return COFFER_ENOMEM;
		sc->rec = nr;
		sc->reccap = ncap;
	}
	return 0;
}

#define BASE_BIT	((uint32_t)1 << 31)	/* offset in sc->base->rec */

/* The record at offset ${off} of ${sc}. */
static const uint8_t *
rec_at(const struct cf_statcache *sc, uint32_t off)
{
	if (off & BASE_BIT)
		return sc->base->rec + (off & ~BASE_BIT);
	return sc->rec + off;
}

/* The bytes of the record at ${p} (a record already checked). */
static size_t
rec_len(const uint8_t *p)
{
	size_t plen = cf_be32dec(p);
	size_t k = cf_be32dec(p + 4 + plen + STAT_BYTES);

	return 4 + plen + STAT_BYTES + 4 + k * CF_REF_BYTES;
}

int
cf_statcache_add(struct cf_statcache *sc, const struct cf_sc_entry *e)
{
	uint8_t *q;
	size_t need, j;
	int r;

	if (e->pathlen == 0 || e->pathlen > CF_STATCACHE_PATH_MAX ||
	    e->nrefs > CF_FILE_CHUNKS_MAX)
		return COFFER_EINVAL;
	need = 4 + e->pathlen + STAT_BYTES + 4 + e->nrefs * CF_REF_BYTES;
	if (sc->full || sc->total + need > CF_STATCACHE_MAX ||
	    sc->n >= UINT32_MAX) {
		sc->full = 1;
		return 0;
	}
	if ((r = grow(sc, need)) != 0)
		return r;
	q = sc->rec + sc->reclen;
	cf_be32enc(q, (uint32_t)e->pathlen);
	memcpy(q + 4, e->path, e->pathlen);
	q += 4 + e->pathlen;
	cf_be64enc(q, e->size);
	cf_be64enc(q + 8, (uint64_t)e->mtime_sec);
	cf_be32enc(q + 16, e->mtime_nsec);
	cf_be64enc(q + 20, (uint64_t)e->ctime_sec);
	cf_be32enc(q + 28, e->ctime_nsec);
	cf_be64enc(q + 32, e->ino);
	cf_be64enc(q + 40, e->dev);
	cf_be32enc(q + 48, (uint32_t)e->nrefs);
	q += 52;
	for (j = 0; j < e->nrefs; j++, q += CF_REF_BYTES) {
		memcpy(q, e->refs[j].id, CF_ID_BYTES);
		cf_be32enc(q + CF_ID_BYTES, e->refs[j].len);
	}
	sc->off[sc->n++] = (uint32_t)sc->reclen;
	sc->reclen += need;
	sc->total += need;
	return 0;
}

int
cf_statcache_add_found(struct cf_statcache *sc,
    const struct cf_statcache *from)
{
	size_t need;
	int r;

	if (sc->base == NULL)
		sc->base = from;
	if (sc->base != from || from->view.path == NULL ||
	    (from->voff & BASE_BIT) != 0)
		return from->view.path == NULL ? COFFER_EINVAL :
		    cf_statcache_add(sc, &from->view);
	need = rec_len(from->rec + from->voff);
	if (sc->full || sc->total + need > CF_STATCACHE_MAX ||
	    sc->n >= UINT32_MAX) {
		sc->full = 1;
		return 0;
	}
	if ((r = grow(sc, 0)) != 0)
		return r;
	sc->off[sc->n++] = from->voff | BASE_BIT;
	sc->total += need;
	return 0;
}

static int
path_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	return cf_tree_name_cmp(a, al, b, bl);
}

/* Records compared by path; the records are at the pointers. */
static int
rec_cmp(const void *va, const void *vb)
{
	const uint8_t *a = *(const uint8_t *const *)va;
	const uint8_t *b = *(const uint8_t *const *)vb;

	return path_cmp(a + 4, cf_be32dec(a), b + 4, cf_be32dec(b));
}

/* Decode the record at ${p} into the view (refs into the scratch list). */
static const struct cf_sc_entry *
view(struct cf_statcache *sc, const uint8_t *p)
{
	struct cf_sc_entry *e = &sc->view;
	struct cf_ref *nr;
	size_t j, plen = cf_be32dec(p);

	e->path = (uint8_t *)(uintptr_t)(p + 4);
	e->pathlen = plen;
	p += 4 + plen;
	e->size = cf_be64dec(p);
	e->mtime_sec = (int64_t)cf_be64dec(p + 8);
	e->mtime_nsec = cf_be32dec(p + 16);
	e->ctime_sec = (int64_t)cf_be64dec(p + 20);
	e->ctime_nsec = cf_be32dec(p + 28);
	e->ino = cf_be64dec(p + 32);
	e->dev = cf_be64dec(p + 40);
	e->nrefs = cf_be32dec(p + 48);
	p += 52;
	if (e->nrefs > sc->vcap) {
		if ((nr = realloc(sc->vrefs, e->nrefs * sizeof(*nr))) == NULL)
			return NULL;
		sc->vrefs = nr;
		sc->vcap = e->nrefs;
	}
	for (j = 0; j < e->nrefs; j++, p += CF_REF_BYTES) {
		memcpy(sc->vrefs[j].id, p, CF_ID_BYTES);
		sc->vrefs[j].len = cf_be32dec(p + CF_ID_BYTES);
	}
	e->refs = sc->vrefs;
	return e;
}

const struct cf_sc_entry *
cf_statcache_find(struct cf_statcache *sc, const uint8_t *path, size_t len)
{
	size_t lo = 0, hi = sc->n, mid;
	const uint8_t *p;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		p = rec_at(sc, sc->off[mid]);
		c = path_cmp(p + 4, cf_be32dec(p), path, len);
		if (c == 0) {
			sc->voff = sc->off[mid];
			return view(sc, p);	/* NULL if out of memory: a miss */
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void
cf_statcache_mac_key(const uint8_t chunk_id_key[static CF_KEY_BYTES],
    uint8_t mac_key[static CF_KEY_BYTES])
{
	cache_mac_key(CF_LABEL_STATCACHE, chunk_id_key, mac_key);
}

int
cf_statcache_encode(struct cf_statcache *sc,
    const uint8_t mac_key[static CF_KEY_BYTES], uint8_t **bufp, size_t *lenp)
{
	const uint8_t **order = NULL;
	uint8_t *buf, *q;
	size_t i, len, rl;

	*bufp = NULL;
	*lenp = 0;
	if (sc->full || sc->n > UINT32_MAX)
		return COFFER_ETOOBIG;
	if (sc->n > 0 &&
	    (order = malloc(sc->n * sizeof(*order))) == NULL)
		return COFFER_ENOMEM;
	for (i = 0; i < sc->n; i++)
		order[i] = rec_at(sc, sc->off[i]);
	if (sc->n > 0)
		qsort(order, sc->n, sizeof(*order), rec_cmp);
	for (i = 1; i < sc->n; i++)
		if (rec_cmp(&order[i - 1], &order[i]) == 0) {
			free(order);
			return COFFER_EINVAL;
		}
	/* Exactly the size it will have: no growing copy. */
	len = HDR_BYTES + sc->total + MAC_BYTES;
	if (len > CF_STATCACHE_MAX) {
		free(order);
		return COFFER_ETOOBIG;
	}
	if ((buf = malloc(len)) == NULL) {
		free(order);
		return COFFER_ENOMEM;
	}
	memcpy(buf, CF_STATCACHE_TAG, 4);
	buf[4] = CF_STATCACHE_VERSION;
	memcpy(buf + 5, sc->drive_id, CF_ID_BYTES);
	memcpy(buf + 5 + CF_ID_BYTES, sc->secret_id, CF_ID_BYTES);
	cf_be32enc(buf + 5 + 2 * CF_ID_BYTES, (uint32_t)sc->n);
	q = buf + HDR_BYTES;
	/* Keep the offsets in path order: a later find can search them. */
	for (i = 0; i < sc->n; i++) {
		if (sc->reclen > 0 && order[i] >= sc->rec &&
		    order[i] < sc->rec + sc->reclen)
			sc->off[i] = (uint32_t)(order[i] - sc->rec);
		else
			sc->off[i] = (uint32_t)(order[i] - sc->base->rec) |
			    BASE_BIT;
		rl = rec_len(order[i]);
		memcpy(q, order[i], rl);
		q += rl;
	}
	free(order);
	cache_mac(buf, (size_t)(q - buf), mac_key, q);
	*bufp = buf;
	*lenp = len;
	return 0;
}

static int
decode(const uint8_t *buf, size_t len, uint8_t *take,
    struct cf_statcache **scp);

int
cf_statcache_decode(const uint8_t *buf, size_t len, struct cf_statcache **scp)
{
	return decode(buf, len, NULL, scp);
}

/* Decode; if ${take} (== ${buf}) is given, keep the records in it. */
static int
decode(const uint8_t *buf, size_t len, uint8_t *take,
    struct cf_statcache **scp)
{
	struct cf_statcache *sc = NULL;
	struct cf_rd r;
	const uint8_t *p, *prev = NULL;
	uint32_t n, i, k, j, plen, prevlen = 0, mtime_nsec, ctime_nsec, clen;
	size_t start = 0, at;
	uint64_t sum, size;
	int rc;

	*scp = NULL;
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return COFFER_ENOMEM;
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	if (len > CF_STATCACHE_MAX)
		cf_rd_fail(&r);
	cf_rd_expect(&r, CF_STATCACHE_TAG, 4);
	if (cf_rd_u8(&r) != CF_STATCACHE_VERSION)
		cf_rd_fail(&r);
	cf_rd_copy(&r, sc->drive_id, CF_ID_BYTES);
	cf_rd_copy(&r, sc->secret_id, CF_ID_BYTES);
	n = cf_rd_u32(&r);
	if (n > cf_rd_left(&r) / ENTRY_FIXED)
		cf_rd_fail(&r);
	start = r.off;
	if (r.err == 0 && n > 0) {
		if ((sc->off = malloc((size_t)n * sizeof(*sc->off))) == NULL) {
			rc = COFFER_ENOMEM;
			goto out;
		}
		sc->cap = n;
	}
	for (i = 0; i < n && r.err == 0; i++) {
		at = r.off;
		p = cf_rd_lstr(&r, CF_STATCACHE_PATH_MAX, &plen);
		size = cf_rd_u64(&r);
		(void)cf_rd_u64(&r);
		mtime_nsec = cf_rd_u32(&r);
		(void)cf_rd_u64(&r);
		ctime_nsec = cf_rd_u32(&r);
		(void)cf_rd_u64(&r);
		(void)cf_rd_u64(&r);
		k = cf_rd_u32(&r);
		if (r.err != 0)
			break;
		if (plen == 0 || (prev != NULL &&
		    path_cmp(prev, prevlen, p, plen) >= 0) ||
		    mtime_nsec >= CF_TREE_NSEC_LIMIT ||
		    ctime_nsec >= CF_TREE_NSEC_LIMIT ||
		    k > CF_FILE_CHUNKS_MAX ||
		    k > cf_rd_left(&r) / CF_REF_BYTES ||
		    (k == 0) != (size == 0)) {
			cf_rd_fail(&r);
			break;
		}
		prev = p;
		prevlen = plen;
		sum = 0;
		for (j = 0; j < k; j++) {
			(void)cf_rd_bytes(&r, CF_ID_BYTES);
			clen = cf_rd_u32(&r);
			if (clen == 0 || clen > CF_CHUNK_MAX)
				cf_rd_fail(&r);
			sum += clen;
		}
		if (sum != size)
			cf_rd_fail(&r);
		sc->off[sc->n++] = (uint32_t)(at - start);
	}
	if ((rc = cf_rd_end(&r)) != 0)
		goto out;
	/* One copy of the records, exactly their size (or the input's). */
	sc->reclen = sc->reccap = sc->total = len - start;
	if (take != NULL) {
		sc->owned = take;
		sc->rec = take + start;
	} else if (sc->reclen > 0) {
		if ((sc->rec = malloc(sc->reclen)) == NULL) {
			rc = COFFER_ENOMEM;
			goto out;
		}
		memcpy(sc->rec, buf + start, sc->reclen);
	}
	*scp = sc;
	sc = NULL;
out:
	cf_statcache_free(sc);
	return rc;
}

static int
sc_open(const uint8_t *buf, size_t len, uint8_t *take,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t secret_id[static CF_ID_BYTES], struct cf_statcache **scp)
{
	int r;

	*scp = NULL;
	if ((r = cache_mac_ok(buf, len, mac_key)) != 0)
		return r;
	if ((r = decode(buf, len - MAC_BYTES, take, scp)) != 0)
		return r;
	if (memcmp((*scp)->drive_id, drive_id, CF_ID_BYTES) != 0 ||
	    memcmp((*scp)->secret_id, secret_id, CF_ID_BYTES) != 0) {
		if (take != NULL) {	/* the input stays the caller's */
			(*scp)->owned = NULL;
			(*scp)->rec = NULL;
		}
		cf_statcache_free(*scp);
		*scp = NULL;
		return COFFER_EFORMAT;
	}
	return 0;
}

int
cf_statcache_open(const uint8_t *buf, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t secret_id[static CF_ID_BYTES], struct cf_statcache **scp)
{
	return sc_open(buf, len, NULL, mac_key, drive_id, secret_id, scp);
}

int
cf_statcache_open_take(uint8_t **bufp, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t secret_id[static CF_ID_BYTES], struct cf_statcache **scp)
{
	int r;

	if ((r = sc_open(*bufp, len, *bufp, mac_key, drive_id, secret_id,
	    scp)) == 0)
		*bufp = NULL;
	return r;
}

/* ---- the known-ids cache ---- */

#define KNOWN_HDR_BYTES	(4 + 1 + CF_ID_BYTES + CF_ID_BYTES + 4)

void
cf_known_mac_key(const uint8_t chunk_id_key[static CF_KEY_BYTES],
    uint8_t mac_key[static CF_KEY_BYTES])
{
	cache_mac_key(CF_LABEL_KNOWNIDS, chunk_id_key, mac_key);
}

int
cf_known_encode(const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t commit_id[static CF_ID_BYTES], const struct cf_idset *ids,
    const uint8_t mac_key[static CF_KEY_BYTES], uint8_t **bufp, size_t *lenp)
{
	struct cf_wr w;
	uint8_t *mac;

	*bufp = NULL;
	*lenp = 0;
	if (ids->n > CF_KNOWN_IDS_MAX)
		return COFFER_ETOOBIG;
	if (!cf_delta_idset_sorted(ids))
		return COFFER_EINVAL;
	cf_wr_init(&w, KNOWN_HDR_BYTES + ids->n * CF_ID_BYTES + MAC_BYTES, 0);
	cf_wr_bytes(&w, CF_KNOWN_TAG, 4);
	cf_wr_u8(&w, CF_KNOWN_VERSION);
	cf_wr_bytes(&w, drive_id, CF_ID_BYTES);
	cf_wr_bytes(&w, commit_id, CF_ID_BYTES);
	cf_wr_u32(&w, (uint32_t)ids->n);
	if (ids->n > 0)
		cf_wr_bytes(&w, ids->ids, ids->n * CF_ID_BYTES);
	if (w.err == 0 && (mac = cf_wr_reserve(&w, MAC_BYTES)) != NULL)
		cache_mac(w.p, w.len - MAC_BYTES, mac_key, mac);
	return cf_wr_finish(&w, bufp, lenp);
}

int
cf_known_decode(const uint8_t *buf, size_t len,
    uint8_t drive_id[static CF_ID_BYTES], uint8_t commit_id[static CF_ID_BYTES],
    struct cf_idset *ids)
{
	struct cf_idset s = { NULL, 0 };
	struct cf_rd r;
	const uint8_t *p;
	uint32_t n;
	int rc;

	ids->ids = NULL;
	ids->n = 0;
	cf_rd_init(&r, buf, len, COFFER_EFORMAT);
	cf_rd_expect(&r, CF_KNOWN_TAG, 4);
	if (cf_rd_u8(&r) != CF_KNOWN_VERSION)
		cf_rd_fail(&r);
	cf_rd_copy(&r, drive_id, CF_ID_BYTES);
	cf_rd_copy(&r, commit_id, CF_ID_BYTES);
	n = cf_rd_u32(&r);
	if (n > CF_KNOWN_IDS_MAX || n > cf_rd_left(&r) / CF_ID_BYTES)
		cf_rd_fail(&r);
	p = cf_rd_bytes(&r, (size_t)n * CF_ID_BYTES);
	if ((rc = cf_rd_end(&r)) != 0)
		return rc;
	if (n > 0) {
		if ((s.ids = malloc((size_t)n * CF_ID_BYTES)) == NULL)
			return COFFER_ENOMEM;
		memcpy(s.ids, p, (size_t)n * CF_ID_BYTES);
	}
	s.n = n;
	if (!cf_delta_idset_sorted(&s)) {
		cf_delta_idset_clear(&s);
		return COFFER_EFORMAT;
	}
	*ids = s;
	return 0;
}

static int
known_open(const uint8_t *buf, size_t len, uint8_t *take,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t commit_id[static CF_ID_BYTES], struct cf_idset *ids)
{
	uint8_t d[CF_ID_BYTES], c[CF_ID_BYTES];
	struct cf_rd r;
	uint8_t *small;
	uint32_t n;
	int rc;

	ids->ids = NULL;
	ids->n = 0;
	if ((rc = cache_mac_ok(buf, len, mac_key)) != 0)
		return rc;
	if (take == NULL) {
		if ((rc = cf_known_decode(buf, len - MAC_BYTES, d, c, ids)) != 0)
			return rc;
	} else {
		/* The same checks as cf_known_decode, the ids left in place. */
		struct cf_idset s;

		cf_rd_init(&r, buf, len - MAC_BYTES, COFFER_EFORMAT);
		cf_rd_expect(&r, CF_KNOWN_TAG, 4);
		if (cf_rd_u8(&r) != CF_KNOWN_VERSION)
			cf_rd_fail(&r);
		cf_rd_copy(&r, d, CF_ID_BYTES);
		cf_rd_copy(&r, c, CF_ID_BYTES);
		n = cf_rd_u32(&r);
		if (n > CF_KNOWN_IDS_MAX || n > cf_rd_left(&r) / CF_ID_BYTES)
			cf_rd_fail(&r);
		(void)cf_rd_bytes(&r, (size_t)n * CF_ID_BYTES);
		if (cf_rd_end(&r) != 0)
			return COFFER_EFORMAT;
		s.ids = (uint8_t *)(uintptr_t)(buf + KNOWN_HDR_BYTES);
		s.n = n;
		if (!cf_delta_idset_sorted(&s))
			return COFFER_EFORMAT;
		if (memcmp(d, drive_id, CF_ID_BYTES) != 0 ||
		    sodium_memcmp(c, commit_id, CF_ID_BYTES) != 0)
			return COFFER_EFORMAT;
		if (n == 0) {
			free(take);
			return 0;
		}
		memmove(take, take + KNOWN_HDR_BYTES, (size_t)n * CF_ID_BYTES);
		if ((small = realloc(take, (size_t)n * CF_ID_BYTES)) == NULL)
			small = take;
		ids->ids = small;
		ids->n = n;
		return 0;
	}
	if (memcmp(d, drive_id, CF_ID_BYTES) != 0 ||
	    sodium_memcmp(c, commit_id, CF_ID_BYTES) != 0) {
		cf_delta_idset_clear(ids);
		return COFFER_EFORMAT;
	}
	return 0;
}

int
cf_known_open(const uint8_t *buf, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t commit_id[static CF_ID_BYTES], struct cf_idset *ids)
{
	return known_open(buf, len, NULL, mac_key, drive_id, commit_id, ids);
}

int
cf_known_open_take(uint8_t **bufp, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t commit_id[static CF_ID_BYTES], struct cf_idset *ids)
{
	int r;

	if ((r = known_open(*bufp, len, *bufp, mac_key, drive_id, commit_id,
	    ids)) == 0)
		*bufp = NULL;
	return r;
}
