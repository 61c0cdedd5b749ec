/*
 * padshare: how much of a coffer repository Padmé padding takes, for a
 * folder, without a server (docs/PERFORMANCE.md, issue #7's "report
 * Padmé's share separately").
 *
 *   padshare DIR
 *
 * Every regular file under DIR (symlinks not followed) is cut with the
 * chunker under a random key, each chunk compressed as cf_object_seal
 * does (zstd level 3, kept only if strictly smaller), its body laid out
 * per FORMAT §7 (9 bytes + payload) and padded with cf_padme.  Identical
 * chunks count once.  Prints the plaintext bytes, the payload after
 * compression, the padding, and the sealed total (header and MAC
 * included; trees, lists and commits are not counted).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>

#include "coffer/coffer.h"
#include "chunker/chunker.h"
#include "object/object.h"

#define PS_LEVEL	3	/* as lib/object/object.c */
#define PS_BODY_HDR	9	/* comp, plain_len, payload_len */
#define PS_NFTW_FDS	64
#define PS_SEEN_MIN	4096

static struct cf_chunker *chunker;
static uint8_t key[CF_KEY_BYTES];
static uint8_t *buf, *zbuf;
static size_t zcap;
static uint64_t nfiles, nchunks, ndup, plain, payload, body, padded, sealed;

/* Ids of the chunks seen (open addressing on the first 8 bytes). */
static uint8_t (*seen)[crypto_generichash_BYTES];
static size_t nseen, capseen;

static int
seen_add(const uint8_t h[static crypto_generichash_BYTES])
{
	static const uint8_t zero[crypto_generichash_BYTES];
	size_t i;
	uint64_t v;

	if (2 * (nseen + 1) > capseen) {
		uint8_t (*old)[crypto_generichash_BYTES] = seen;
		size_t oldcap = capseen, j;

		capseen = capseen == 0 ? PS_SEEN_MIN : capseen * 2;
		if ((seen = calloc(capseen, sizeof(*seen))) == NULL) {
			perror("padshare");
			exit(1);
		}
		nseen = 0;
		for (j = 0; j < oldcap; j++)
			if (memcmp(old[j], zero, sizeof(zero)) != 0)
				(void)seen_add(old[j]);
		free(old);
	}
	memcpy(&v, h, sizeof(v));
	for (i = (size_t)(v % capseen);; i = (i + 1) % capseen) {
		if (memcmp(seen[i], zero, sizeof(zero)) == 0) {
			memcpy(seen[i], h, crypto_generichash_BYTES);
			nseen++;
			return 1;
		}
		if (memcmp(seen[i], h, crypto_generichash_BYTES) == 0)
			return 0;
	}
}

static void
chunk(const uint8_t *p, size_t n)
{
	uint8_t h[crypto_generichash_BYTES];
	size_t z, pay, b;

	crypto_generichash(h, sizeof(h), p, n, key, sizeof(key));
	if (!seen_add(h)) {
		ndup++;
		return;
	}
	z = ZSTD_compress(zbuf, zcap, p, n, PS_LEVEL);
	pay = (!ZSTD_isError(z) && z < n) ? z : n;
	b = PS_BODY_HDR + pay;
	nchunks++;
	plain += n;
	payload += pay;
	body += b;
	padded += cf_padme(b);
	sealed += CF_OBJ_HDR_BYTES + cf_padme(b) + CF_OBJ_MAC_BYTES;
}

static int
file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t have = 0, cut;
	ssize_t got;
	int fd, eof = 0;

	(void)ftw;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		perror(path);
		return 0;
	}
	nfiles++;
	for (;;) {
		while (!eof && have < CF_CHUNK_MAX) {
			got = read(fd, buf + have, CF_CHUNK_MAX - have);
			if (got < 0) {
				perror(path);
				close(fd);
				return 0;
			}
			if (got == 0)
				eof = 1;
			have += (size_t)got;
		}
		if (have == 0)
			break;
		if ((cut = cf_chunker_cut(chunker, buf, have, eof)) == 0)
			continue;
		chunk(buf, cut);
		memmove(buf, buf + cut, have - cut);
		have -= cut;
	}
	if (st->st_size == 0)
		chunk(buf, 0);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: padshare DIR\n");
		return 2;
	}
	if (coffer_init() != 0)
		return 1;
	randombytes_buf(key, sizeof(key));
	zcap = ZSTD_compressBound(CF_CHUNK_MAX);
	if (cf_chunker_new(key, &chunker) != 0 ||
	    (buf = malloc(CF_CHUNK_MAX)) == NULL ||
	    (zbuf = malloc(zcap)) == NULL) {
		fprintf(stderr, "padshare: out of memory\n");
		return 1;
	}
	if (nftw(argv[1], file, PS_NFTW_FDS, FTW_PHYS) != 0) {
		perror(argv[1]);
		return 1;
	}
	printf("{\"files\": %" PRIu64 ", \"chunks\": %" PRIu64
	    ", \"duplicates\": %" PRIu64 ", \"plain\": %" PRIu64
	    ", \"payload\": %" PRIu64 ", \"body\": %" PRIu64
	    ", \"padding\": %" PRIu64 ", \"sealed\": %" PRIu64 "}\n",
	    nfiles, nchunks, ndup, plain, payload, body, padded - body, sealed);
	cf_chunker_free(chunker);
	free(seen);
	free(zbuf);
	free(buf);
	return 0;
}
