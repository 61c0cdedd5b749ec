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
#define MAC_BYTES	CF_KEY_BYTES

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
	size_t i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->n; i++) {
		free(sc->e[i].path);
		free(sc->e[i].refs);
	}
	free(sc->e);
	free(sc);
}

static int
grow(struct cf_statcache *sc)
{
	struct cf_sc_entry *ne;
	size_t ncap;

	if (sc->n < sc->cap)
		return 0;
	ncap = sc->cap == 0 ? 64 : sc->cap * 2;
	if (ncap > SIZE_MAX / sizeof(*ne))
		return COFFER_ENOMEM;
	if ((ne = realloc(sc->e, ncap * sizeof(*ne))) == NULL)
		return COFFER_ENOMEM;
	sc->e = ne;
	sc->cap = ncap;
	return 0;
}

int
cf_statcache_add(struct cf_statcache *sc, const struct cf_sc_entry *e)
{
	struct cf_sc_entry c = *e;
	int r;

	if (e->pathlen == 0 || e->pathlen > CF_STATCACHE_PATH_MAX ||
	    e->nrefs > CF_FILE_CHUNKS_MAX)
		return COFFER_EINVAL;
	if ((r = grow(sc)) != 0)
		return r;
	c.refs = NULL;
	if ((c.path = malloc(e->pathlen)) == NULL)
		return COFFER_ENOMEM;
	memcpy(c.path, e->path, e->pathlen);
	if (e->nrefs > 0) {
		if ((c.refs = malloc(e->nrefs * sizeof(*c.refs))) == NULL) {
			free(c.path);
			return COFFER_ENOMEM;
		}
		memcpy(c.refs, e->refs, e->nrefs * sizeof(*c.refs));
	}
	sc->e[sc->n++] = c;
	return 0;
}

static int
path_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	return cf_tree_name_cmp(a, al, b, bl);
}

static int
entry_cmp(const void *va, const void *vb)
{
	const struct cf_sc_entry *a = va, *b = vb;

	return path_cmp(a->path, a->pathlen, b->path, b->pathlen);
}

const struct cf_sc_entry *
cf_statcache_find(const struct cf_statcache *sc, const uint8_t *path, size_t len)
{
	size_t lo = 0, hi = sc->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = path_cmp(sc->e[mid].path, sc->e[mid].pathlen, path, len);
		if (c == 0)
			return &sc->e[mid];
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
	crypto_generichash(mac_key, CF_KEY_BYTES,
	    (const uint8_t *)CF_STATCACHE_MAC_PERSONAL,
	    strlen(CF_STATCACHE_MAC_PERSONAL), chunk_id_key, CF_KEY_BYTES);
}

int
cf_statcache_encode(struct cf_statcache *sc,
    const uint8_t mac_key[static CF_KEY_BYTES], uint8_t **bufp, size_t *lenp)
{
	struct cf_wr w;
	uint8_t *mac;
	size_t i, j;

	*bufp = NULL;
	*lenp = 0;
	if (sc->n > 0)
		qsort(sc->e, sc->n, sizeof(*sc->e), entry_cmp);
	for (i = 1; i < sc->n; i++)
		if (entry_cmp(&sc->e[i - 1], &sc->e[i]) == 0)
			return COFFER_EINVAL;
	if (sc->n > UINT32_MAX)
		return COFFER_ETOOBIG;
	cf_wr_init(&w, CF_STATCACHE_MAX, 0);
	cf_wr_bytes(&w, CF_STATCACHE_TAG, 4);
	cf_wr_u8(&w, CF_STATCACHE_VERSION);
	cf_wr_bytes(&w, sc->drive_id, CF_ID_BYTES);
	cf_wr_bytes(&w, sc->secret_id, CF_ID_BYTES);
	cf_wr_u32(&w, (uint32_t)sc->n);
	for (i = 0; i < sc->n; i++) {
		const struct cf_sc_entry *e = &sc->e[i];
		cf_wr_lstr(&w, e->path, e->pathlen);
		cf_wr_u64(&w, e->size);
		cf_wr_u64(&w, (uint64_t)e->mtime_sec);
		cf_wr_u32(&w, e->mtime_nsec);
		cf_wr_u64(&w, (uint64_t)e->ctime_sec);
		cf_wr_u32(&w, e->ctime_nsec);
		cf_wr_u64(&w, e->ino);
		cf_wr_u64(&w, e->dev);
		cf_wr_u32(&w, (uint32_t)e->nrefs);
		for (j = 0; j < e->nrefs; j++) {
			cf_wr_bytes(&w, e->refs[j].id, CF_ID_BYTES);
			cf_wr_u32(&w, e->refs[j].len);
		}
	}
	if (w.err == 0 && (mac = cf_wr_reserve(&w, MAC_BYTES)) != NULL)
		crypto_generichash(mac, MAC_BYTES, w.p, w.len - MAC_BYTES,
		    mac_key, CF_KEY_BYTES);
	return cf_wr_finish(&w, bufp, lenp);
}

int
cf_statcache_decode(const uint8_t *buf, size_t len, struct cf_statcache **scp)
{
	struct cf_statcache *sc = NULL;
	struct cf_sc_entry e;
	struct cf_rd r;
	const uint8_t *p, *prev = NULL;
	uint32_t n, i, k, j, plen, prevlen = 0;
	uint64_t sum;
	int rc;

	*scp = NULL;
	memset(&e, 0, sizeof(e));
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
	for (i = 0; i < n && r.err == 0; i++) {
		p = cf_rd_lstr(&r, CF_STATCACHE_PATH_MAX, &plen);
		e.size = cf_rd_u64(&r);
		e.mtime_sec = (int64_t)cf_rd_u64(&r);
		e.mtime_nsec = cf_rd_u32(&r);
		e.ctime_sec = (int64_t)cf_rd_u64(&r);
		e.ctime_nsec = cf_rd_u32(&r);
		e.ino = cf_rd_u64(&r);
		e.dev = cf_rd_u64(&r);
		k = cf_rd_u32(&r);
		if (r.err != 0)
			break;
		if (plen == 0 || (prev != NULL &&
		    path_cmp(prev, prevlen, p, plen) >= 0) ||
		    e.mtime_nsec >= CF_TREE_NSEC_LIMIT ||
		    e.ctime_nsec >= CF_TREE_NSEC_LIMIT ||
		    k > cf_rd_left(&r) / CF_REF_BYTES ||
		    (k == 0) != (e.size == 0)) {
			cf_rd_fail(&r);
			break;
		}
		prev = p;
		prevlen = plen;
		e.path = NULL;
		e.pathlen = plen;
		e.nrefs = k;
		if ((rc = grow(sc)) != 0)
			goto out;
		if ((e.path = malloc(plen)) == NULL ||
		    (k > 0 && (e.refs = malloc((size_t)k * sizeof(*e.refs))) == NULL)) {
			free(e.path);
			rc = COFFER_ENOMEM;
			goto out;
		}
		memcpy(e.path, p, plen);
		sum = 0;
		for (j = 0; j < k; j++) {
			cf_rd_copy(&r, e.refs[j].id, CF_ID_BYTES);
			e.refs[j].len = cf_rd_u32(&r);
			if (e.refs[j].len == 0 || e.refs[j].len > CF_CHUNK_MAX)
				cf_rd_fail(&r);
			sum += e.refs[j].len;
		}
		if (sum != e.size)
			cf_rd_fail(&r);
		sc->e[sc->n++] = e;
		e.path = NULL;
		e.refs = NULL;
	}
	if ((rc = cf_rd_end(&r)) != 0)
		goto out;
	*scp = sc;
	sc = NULL;
out:
	cf_statcache_free(sc);
	return rc;
}

int
cf_statcache_open(const uint8_t *buf, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t secret_id[static CF_ID_BYTES], struct cf_statcache **scp)
{
	uint8_t mac[MAC_BYTES];
	int r;

	*scp = NULL;
	if (len < MAC_BYTES)
		return COFFER_EFORMAT;
	crypto_generichash(mac, MAC_BYTES, buf, len - MAC_BYTES, mac_key,
	    CF_KEY_BYTES);
	if (crypto_verify_32(mac, buf + len - MAC_BYTES) != 0)
		return COFFER_EFORMAT;
	if ((r = cf_statcache_decode(buf, len - MAC_BYTES, scp)) != 0)
		return r;
	if (memcmp((*scp)->drive_id, drive_id, CF_ID_BYTES) != 0 ||
	    memcmp((*scp)->secret_id, secret_id, CF_ID_BYTES) != 0) {
		cf_statcache_free(*scp);
		*scp = NULL;
		return COFFER_EFORMAT;
	}
	return 0;
}

/* ---- the known-ids cache ---- */

#define KNOWN_HDR_BYTES	(4 + 1 + CF_ID_BYTES + CF_ID_BYTES + 4)

void
cf_known_mac_key(const uint8_t chunk_id_key[static CF_KEY_BYTES],
    uint8_t mac_key[static CF_KEY_BYTES])
{
	crypto_generichash(mac_key, CF_KEY_BYTES,
	    (const uint8_t *)CF_KNOWN_MAC_PERSONAL,
	    strlen(CF_KNOWN_MAC_PERSONAL), chunk_id_key, CF_KEY_BYTES);
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
		crypto_generichash(mac, MAC_BYTES, w.p, w.len - MAC_BYTES,
		    mac_key, CF_KEY_BYTES);
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

int
cf_known_open(const uint8_t *buf, size_t len,
    const uint8_t mac_key[static CF_KEY_BYTES],
    const uint8_t drive_id[static CF_ID_BYTES],
    const uint8_t commit_id[static CF_ID_BYTES], struct cf_idset *ids)
{
	uint8_t mac[MAC_BYTES], d[CF_ID_BYTES], c[CF_ID_BYTES];
	int r;

	ids->ids = NULL;
	ids->n = 0;
	if (len < MAC_BYTES)
		return COFFER_EFORMAT;
	crypto_generichash(mac, MAC_BYTES, buf, len - MAC_BYTES, mac_key,
	    CF_KEY_BYTES);
	if (crypto_verify_32(mac, buf + len - MAC_BYTES) != 0)
		return COFFER_EFORMAT;
	if ((r = cf_known_decode(buf, len - MAC_BYTES, d, c, ids)) != 0)
		return r;
	if (memcmp(d, drive_id, CF_ID_BYTES) != 0 ||
	    sodium_memcmp(c, commit_id, CF_ID_BYTES) != 0) {
		cf_delta_idset_clear(ids);
		return COFFER_EFORMAT;
	}
	return 0;
}
