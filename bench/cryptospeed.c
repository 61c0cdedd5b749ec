/*
 * cryptospeed: the per-core speed of coffer's three hot primitives, the
 * machine limits the benchmark (bench/run.sh) compares coffer against.
 *
 *   cryptospeed [MIB]
 *
 * Over one buffer of MIB (default 64) MiB of random bytes, single-threaded,
 * each pass repeated until it has run for at least a second:
 *   blake2b    crypto_generichash, 32-byte output, keyed (as object ids are),
 *              over 1 MiB pieces
 *   xchacha    crypto_aead_xchacha20poly1305_ietf_encrypt of 1 MiB pieces
 *              (the average chunk) with 32 bytes of associated data
 *   chunker    cf_chunker_cut over the whole buffer, chunk after chunk
 * Prints one line per primitive: "NAME MB/s" (MB = 10^6 bytes), and with
 * --json one JSON object per line instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "chunker/chunker.h"

#define BENCH_MIB_DEFAULT	64
#define BENCH_MIB_MAX		4096
#define BENCH_PIECE		((size_t)1 << 20)
#define BENCH_MIN_SECONDS	1.0
#define BENCH_AD_BYTES		32

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int json;

static void
report(const char *name, double bytes, double secs)
{
	double mbs = bytes / secs / 1e6;

	if (json)
		printf("{\"what\": \"%s\", \"mb_per_s\": %.1f}\n", name, mbs);
	else
		printf("%-8s %8.1f MB/s\n", name, mbs);
}

int
main(int argc, char **argv)
{
	uint8_t key[CF_KEY_BYTES], out[crypto_generichash_BYTES];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t ad[BENCH_AD_BYTES];
	struct cf_chunker *ch = NULL;
	uint8_t *buf = NULL, *ct = NULL;
	unsigned long long ctlen;
	unsigned long mib = BENCH_MIB_DEFAULT;
	size_t len, off, n;
	double t0, t, bytes;
	volatile uint8_t sink = 0;
	int i, rc = 1;

	for (i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
			continue;
		}
		mib = strtoul(argv[i], &end, 10);
		if (*end != '\0' || mib == 0 || mib > BENCH_MIB_MAX) {
			fprintf(stderr, "usage: cryptospeed [--json] [MIB]\n");
			return 2;
		}
	}
	if (coffer_init() != 0)
		return 1;
	len = (size_t)mib << 20;
	if ((buf = malloc(len)) == NULL ||
	    (ct = malloc(BENCH_PIECE + crypto_aead_xchacha20poly1305_ietf_ABYTES)) == NULL)
		goto out;
	randombytes_buf(buf, len);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(nonce, sizeof(nonce));
	randombytes_buf(ad, sizeof(ad));

	/* BLAKE2b, keyed, 32-byte output, 1 MiB at a time. */
	bytes = 0;
	t0 = now();
	do {
		for (off = 0; off < len; off += BENCH_PIECE) {
			crypto_generichash(out, sizeof(out), buf + off,
			    BENCH_PIECE, key, sizeof(key));
			sink ^= out[0];
		}
		bytes += (double)len;
	} while ((t = now() - t0) < BENCH_MIN_SECONDS);
	report("blake2b", bytes, t);

	/* XChaCha20-Poly1305, 1 MiB pieces. */
	bytes = 0;
	t0 = now();
	do {
		for (off = 0; off < len; off += BENCH_PIECE) {
			crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen,
			    buf + off, BENCH_PIECE, ad, sizeof(ad), NULL,
			    nonce, key);
			sink ^= ct[0];
		}
		bytes += (double)len;
	} while ((t = now() - t0) < BENCH_MIN_SECONDS);
	report("xchacha", bytes, t);

	/* The chunker: cut the whole buffer chunk after chunk. */
	if (cf_chunker_new(key, &ch) != 0)
		goto out;
	bytes = 0;
	t0 = now();
	do {
		for (off = 0; off < len; off += n) {
			n = cf_chunker_cut(ch, buf + off, len - off, 1);
			if (n == 0)
				goto out;
		}
		bytes += (double)len;
	} while ((t = now() - t0) < BENCH_MIN_SECONDS);
	report("chunker", bytes, t);
	(void)sink;
	rc = 0;
out:
	cf_chunker_free(ch);
	free(ct);
	free(buf);
	sodium_memzero(key, sizeof(key));
	return rc;
}
