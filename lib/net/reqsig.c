/* Request signing (docs/API.md §2). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "coffer/err.h"
#include "crypto/sign.h"
#include "net/reqsig.h"
#include "util/buf.h"

static int
field_ok(const char *s)
{
	return s != NULL && strlen(s) <= CF_REQ_FIELD_MAX;
}

static void
hash_lstr(crypto_generichash_state *st, const char *s)
{
	uint8_t l[4];
	size_t n = strlen(s);

	cf_be32enc(l, (uint32_t)n);
	crypto_generichash_update(st, l, sizeof(l));
	crypto_generichash_update(st, (const uint8_t *)s, n);
}

int
cf_req_digest(const struct cf_req *r, uint8_t d[static CF_REQ_DIGEST_BYTES])
{
	crypto_generichash_state st;
	uint8_t bh[crypto_generichash_BYTES], t[8];
	int rc = 0;

	memset(d, 0, CF_REQ_DIGEST_BYTES);
	if (!field_ok(r->origin) || !field_ok(r->method) ||
	    !field_ok(r->path) || !field_ok(r->query) ||
	    !field_ok(r->content_type) || !field_ok(r->key_hex) ||
	    !field_ok(r->invite) || r->account_id == NULL ||
	    r->device_id == NULL || r->nonce == NULL ||
	    (r->body == NULL && r->body_len != 0)) {
		rc = COFFER_EINVAL;
		goto out;
	}
	if (r->body_hash != NULL)
		memcpy(bh, r->body_hash, sizeof(bh));
	else
		crypto_generichash(bh, sizeof(bh), r->body, r->body_len,
		    NULL, 0);
	crypto_generichash_init(&st, NULL, 0, CF_REQ_DIGEST_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)CF_LABEL_REQ,
	    CF_LABEL_LEN(CF_LABEL_REQ));
	hash_lstr(&st, r->origin);
	crypto_generichash_update(&st, r->account_id, CF_ID_BYTES);
	crypto_generichash_update(&st, r->device_id, CF_ID_BYTES);
	hash_lstr(&st, r->method);
	hash_lstr(&st, r->path);
	hash_lstr(&st, r->query);
	hash_lstr(&st, r->content_type);
	hash_lstr(&st, r->key_hex);
	hash_lstr(&st, r->invite);
	cf_be64enc(t, r->time);
	crypto_generichash_update(&st, t, sizeof(t));
	crypto_generichash_update(&st, r->nonce, CF_REQ_NONCE_BYTES);
	crypto_generichash_update(&st, bh, sizeof(bh));
	crypto_generichash_final(&st, d, CF_REQ_DIGEST_BYTES);
out:
	return rc;
}

int
cf_req_sign(const struct cf_req *r,
    const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    uint8_t sig[static CF_SIG_BYTES])
{
	uint8_t d[CF_REQ_DIGEST_BYTES];
	int rc;

	memset(sig, 0, CF_SIG_BYTES);
	if ((rc = cf_req_digest(r, d)) != 0)
		goto out;
	rc = cf_sign_purpose(sign_sk, CF_LABEL_REQ, d, sizeof(d), sig);
out:
	return rc;
}

int
cf_req_verify(const struct cf_req *r,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t sig[static CF_SIG_BYTES])
{
	uint8_t d[CF_REQ_DIGEST_BYTES];
	int rc;

	if ((rc = cf_req_digest(r, d)) != 0)
		goto out;
	rc = cf_verify_purpose(sign_pk, CF_LABEL_REQ, d, sizeof(d), sig);
out:
	return rc;
}

int
cf_req_time_ok(uint64_t t, uint64_t now)
{
	return t > now ? t - now <= CF_REQ_SKEW_MAX : now - t <= CF_REQ_SKEW_MAX;
}

static int
token_ok(const char *s, int empty_ok)
{
	size_t i;
	int ok;

	ok = s != NULL && (empty_ok || s[0] != '\0') &&
	    strlen(s) <= CF_REQ_FIELD_MAX;
	for (i = 0; ok && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		ok = isalnum(c) || c == '_' || c == '.' || c == '-';
	}
	return ok;
}

int
cf_req_query_canon(const char *const *keys, const char *const *vals,
    size_t n, char *out, size_t outlen)
{
	size_t order[CF_REQ_QUERY_PAIRS_MAX];
	size_t i, j, tmp, off = 0, kl, vl;
	int rc = 0;

	if (outlen > 0)
		out[0] = '\0';
	if (n > CF_REQ_QUERY_PAIRS_MAX || outlen == 0) {
		rc = COFFER_EINVAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!token_ok(keys[i], 0) || !token_ok(vals[i], 1)) {
			rc = COFFER_EINVAL;
			goto out;
		}
		order[i] = i;
	}
	/* Insertion sort: n is tiny. */
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 &&
		    strcmp(keys[order[j - 1]], keys[order[j]]) > 0; j--) {
			tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	}
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(keys[order[i - 1]], keys[order[i]]) == 0) {
			rc = COFFER_EINVAL;
			goto out;
		}
		kl = strlen(keys[order[i]]);
		vl = strlen(vals[order[i]]);
		/* '&' (if any) + key + '=' + value + NUL */
		if (kl + vl + 3 > outlen - off) {
			rc = COFFER_ETOOBIG;
			goto out;
		}
		if (i > 0)
			out[off++] = '&';
		memcpy(out + off, keys[order[i]], kl);
		off += kl;
		out[off++] = '=';
		memcpy(out + off, vals[order[i]], vl);
		off += vl;
		out[off] = '\0';
	}
out:
	if (rc != 0 && outlen > 0)
		out[0] = '\0';
	return rc;
}

int
cf_req_origin(const char *url, char *out, size_t outlen)
{
	const char *p, *host, *hend, *port = NULL;
	size_t schemelen, hostlen, portlen, i, need;
	const char *defport;
	int rc = 0;

	if (outlen > 0)
		out[0] = '\0';
	if (url == NULL || outlen == 0 || strlen(url) > CF_REQ_FIELD_MAX) {
		rc = COFFER_EINVAL;
		goto out;
	}
	if (strncasecmp(url, "http://", 7) == 0) {
		schemelen = 4;
		defport = "80";
	} else if (strncasecmp(url, "https://", 8) == 0) {
		schemelen = 5;
		defport = "443";
	} else {
		rc = COFFER_EINVAL;
		goto out;
	}
	host = url + schemelen + 3;
	if (host[0] == '[') {
		if ((hend = strchr(host, ']')) == NULL) {
			rc = COFFER_EINVAL;
			goto out;
		}
		hend++;
	} else {
		hend = host + strcspn(host, ":/?#");
	}
	hostlen = (size_t)(hend - host);
	if (hostlen == 0) {
		rc = COFFER_EINVAL;
		goto out;
	}
	p = hend;
	if (*p == ':') {
		port = p + 1;
		portlen = strspn(port, "0123456789");
		if (portlen == 0 || portlen > 5) {
			rc = COFFER_EINVAL;
			goto out;
		}
		p = port + portlen;
	} else {
		port = defport;
		portlen = strlen(defport);
	}
	if (*p != '\0' && *p != '/') {
		rc = COFFER_EINVAL;
		goto out;
	}
	need = schemelen + 3 + hostlen + 1 + portlen + 1;
	if (need > outlen) {
		rc = COFFER_ETOOBIG;
		goto out;
	}
	for (i = 0; i < schemelen + 3 + hostlen; i++)
		out[i] = (char)tolower((unsigned char)url[i]);
	out[i++] = ':';
	memcpy(out + i, port, portlen);
	out[i + portlen] = '\0';
out:
	return rc;
}
