/*
 * Pins (FORMAT §14.6): the verified entries themselves,
 *
 *   pin = "CFPN" || u8 version=1 || u32 n || n x lstr(entry)
 *
 * re-verified from the genesis on load, so nothing derived from them can
 * be tampered with.  A pin is the device's own file: anything wrong with
 * it is COFFER_EFORMAT, never "not authentic".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "coffer/err.h"
#include "util/buf.h"
#include "chain.h"
#include "chain_internal.h"

int
cf_chain_pin_encode(const struct cf_chain *c, uint8_t **outp, size_t *lenp)
{
	struct cf_wr w;
	uint64_t i;
	int r;

	*outp = NULL;
	*lenp = 0;
	cf_wr_init(&w, CF_PIN_MAX, 0);
	/* An empty state pins nothing: every account has a genesis. */
	if (c == NULL || c->n == 0 || c->n > CF_CHAIN_MAX_ENTRIES) {
		r = COFFER_EINVAL;
		goto out;
	}
	cf_wr_bytes(&w, CF_PIN_TAG, CF_TAG_BYTES);
	cf_wr_u8(&w, CF_PIN_VERSION);
	cf_wr_u32(&w, (uint32_t)c->n);
	for (i = 0; i < c->n && w.err == 0; i++)
		cf_wr_lstr(&w, c->entry[i], c->entry_len[i]);
	r = cf_wr_finish(&w, outp, lenp);
out:
	cf_wr_free(&w);
	return r;
}

int
cf_chain_pin_decode(const uint8_t *buf, size_t len, struct cf_chain **cp)
{
	struct cf_chain *c = NULL;
	struct cf_rd rd;
	const uint8_t *e;
	uint32_t n, i, elen;
	int r;

	*cp = NULL;
	if (buf == NULL || len > CF_PIN_MAX) {
		r = COFFER_EFORMAT;
		goto out;
	}
	cf_rd_init(&rd, buf, len, COFFER_EFORMAT);
	cf_rd_expect(&rd, CF_PIN_TAG, CF_TAG_BYTES);
	if (cf_rd_u8(&rd) != CF_PIN_VERSION)
		cf_rd_fail(&rd);
	n = cf_rd_u32(&rd);
	if (n == 0 || n > CF_CHAIN_MAX_ENTRIES)
		cf_rd_fail(&rd);
	if ((r = rd.err) != 0)
		goto out;
	if ((r = cf_chain_new(&c)) != 0)
		goto out;
	/* Each entry verified against the state before it, from genesis. */
	for (i = 0; i < n; i++) {
		e = cf_rd_lstr(&rd, CF_ENTRY_MAX, &elen);
		if ((r = rd.err) != 0)
			goto out;
		if ((r = cf_chain_append(c, e, elen)) != 0) {
			if (r == COFFER_ENOTAUTHENTIC)
				r = COFFER_EFORMAT;
			goto out;
		}
	}
	if ((r = cf_rd_end(&rd)) != 0)
		goto out;
	*cp = c;
	c = NULL;
	r = 0;
out:
	cf_chain_free(c);
	return r;
}
