/*
 * libFuzzer: the answer of GET .../directory/records (docs/API.md §4) as
 * a device catching up reads it -- the JSON parsed by
 * cf_client_dir_records_parse, then its records checked as the ones
 * between a pin at version 1 and a verified head at version 4 of a fixed
 * directory line (cf_dir_check_pin), as lib/client/session.c does.
 *
 * At start it checks the fixture: the true answer passes, one with a
 * record dropped or two swapped does not.  With COFFER_FUZZ_SEEDS=DIR
 * set, it writes those three answers there as seeds and exits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "chain/dir.h"
#include "net/client.h"
#include "fuzz_chain_fixture.h"

#define LINE	4		/* records v1..v4 */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *fr_rec[LINE];
static size_t fr_len[LINE];
static struct cf_dir *fr_head;
static struct cf_dir_pin fr_pin;

/* A records answer holding the records ${idx}[0..n-1] (malloc'd text). */
static char *
answer(const int *idx, size_t n, size_t *lenp)
{
	char *out, *b64;
	size_t i, cap, o, room = 64;

	for (i = 0; i < n; i++)
		room += sodium_base64_encoded_len(fr_len[idx[i]],
		    sodium_base64_VARIANT_ORIGINAL) + 4;
	if ((out = malloc(room)) == NULL)
		fz_die("answer");
	o = (size_t)snprintf(out, room, "{\"records\": [");
	for (i = 0; i < n; i++) {
		cap = sodium_base64_encoded_len(fr_len[idx[i]],
		    sodium_base64_VARIANT_ORIGINAL);
		if ((b64 = malloc(cap)) == NULL)
			fz_die("answer");
		sodium_bin2base64(b64, cap, fr_rec[idx[i]], fr_len[idx[i]],
		    sodium_base64_VARIANT_ORIGINAL);
		o += (size_t)snprintf(out + o, room - o, "%s\"%s\"",
		    i > 0 ? ", " : "", b64);
		free(b64);
	}
	o += (size_t)snprintf(out + o, room - o, "], \"version\": %d}\n", LINE);
	*lenp = o;
	return out;
}

/* Parse ${idx}'s answer and check it; optionally write it as a seed. */
static int
seed(const char *dir, const char *name, const int *idx, size_t n)
{
	struct cf_blobs recs;
	char path[4096], *txt;
	uint64_t v;
	size_t len;
	FILE *f;
	int r;

	txt = answer(idx, n, &len);
	if (cf_client_dir_records_parse((const uint8_t *)txt, len, &recs,
	    &v) != 0 || recs.n != n || v != LINE)
		fz_die("parse");
	r = cf_dir_check_pin(fz.chain, &fr_pin, fr_head,
	    (const uint8_t *const *)recs.p, recs.len, recs.n);
	cf_blobs_free(&recs);
	if (dir != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if ((f = fopen(path, "w")) == NULL ||
		    fwrite(txt, 1, len, f) != len || fclose(f) != 0)
			fz_die("seed");
	}
	free(txt);
	return r;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const int ok[] = { 1, 2 }, drop[] = { 2 }, swap[] = { 2, 1 };
	static const char *const names[LINE] = { "d0", "d1", "d2", "d3" };
	struct cf_drive_keys *dk[LINE] = { NULL };
	struct cf_dir_entry ents[LINE];
	struct cf_dir *prev = NULL, *d = NULL;
	const char *seeds;
	int i, k;

	(void)argc;
	(void)argv;
	fz_init();
	/* v1: no drives; each next version adds one (by B, epoch 2). */
	for (i = 0; i < LINE; i++) {
		for (k = 0; k < i; k++) {
			ents[k].name = names[k];
			ents[k].namelen = 2;
			ents[k].dk = dk[k];
		}
		if (cf_dir_build(fz.chain, fz.b,
		    (const uint8_t (*)[CF_KEY_BYTES])fz.keys, 2, prev, ents,
		    (size_t)i, 2000 + (uint64_t)i, &fr_rec[i], &fr_len[i]) != 0 ||
		    cf_dir_decode(fr_rec[i], fr_len[i], &d) != 0 ||
		    cf_dir_verify(fz.chain, d, (const uint8_t (*)[CF_KEY_BYTES])
		    fz.keys, 2) != 0)
			fz_die("dir");
		if (cf_drive_keys_create(2, &dk[i]) != 0)
			fz_die("drive");
		if (i == 0)
			cf_dir_pin_of(d, &fr_pin);
		cf_dir_free(prev);
		prev = d;
		d = NULL;
	}
	fr_head = prev;
	for (i = 0; i < LINE; i++)
		cf_drive_keys_free(dk[i]);
	/* The fixture must hold: the true answer passes, the others not. */
	seeds = getenv("COFFER_FUZZ_SEEDS");
	if (seed(seeds, "between-v2-v3", ok, 2) != 0 ||
	    seed(seeds, "v2-dropped", drop, 1) != COFFER_ENOTAUTHENTIC ||
	    seed(seeds, "swapped", swap, 2) != COFFER_ENOTAUTHENTIC)
		fz_die("line");
	if (seeds != NULL)
		exit(0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_blobs recs;
	uint64_t v;
	int r;

	if (cf_client_dir_records_parse(data, size, &recs, &v) == 0) {
		r = cf_dir_check_pin(fz.chain, &fr_pin, fr_head,
		    (const uint8_t *const *)recs.p, recs.len, recs.n);
		/* Only the true line passes (the hashes pin it). */
		if (r == 0 && (recs.n != 2 || recs.len[0] != fr_len[1] ||
		    memcmp(recs.p[0], fr_rec[1], fr_len[1]) != 0 ||
		    recs.len[1] != fr_len[2] ||
		    memcmp(recs.p[1], fr_rec[2], fr_len[2]) != 0))
			fz_die("a line other than the true one accepted");
		cf_blobs_free(&recs);
	}
	return 0;
}
