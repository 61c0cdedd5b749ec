/*
 * serverbench: cofferd alone -- objects per second for batched puts.
 *
 *   serverbench URL [--seconds S] [--size BYTES --batch N] [--threads T]
 *       [--json]
 *
 * Creates an account on the server at URL through the client library
 * (cf_account_create, with COFFER_HOME a fresh temporary folder unless
 * the caller set it), opens a session as its device, and puts batches of
 * random, sealed-looking blobs (random ids, random bytes: incompressible,
 * like sealed objects) into a drive of that account for S seconds (default
 * 5) per size.  Each batch is one objects/put request, durable when it
 * returns (docs/API.md §6).  Without --size: 4 KiB objects in batches of
 * 1024 and 1 MiB objects in batches of 32 (both 4 and 32 MiB per request,
 * around push's CF_PUSH_BATCH_BYTES).  Prints objects/s and MB/s (10^6
 * bytes of object data per second) per size.  With --threads T (default
 * 1), T threads put at once, each with its own connection (push uses
 * two uploaders: CF_PUSH_UPLOADERS); the figures are their sum.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "client/session.h"
#include "crypto/recovery.h"
#include "net/client.h"
#include "net/frame.h"

#define SB_SECONDS_DEFAULT	5.0
#define SB_SECONDS_MAX		3600.0
#define SB_PATH_MAX		256
#define SB_NAME_MAX		64
#define SB_BATCH_MAX		4096
#define SB_POOL_BYTES		((size_t)64 << 20)	/* random bytes the blobs are cut from */
#define SB_NFTW_FDS		16
#define SB_THREADS_MAX		16

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int json;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

/* Remove the folder ${dir} and everything in it (never following symlinks). */
static int
rm_tree(const char *dir)
{
	return nftw(dir, rm_one, SB_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

/* One putter: its own connection, its own counters. */
struct putter {
	pthread_t th;
	struct cf_client *net;
	const uint8_t *drive;
	const uint8_t *pool;
	size_t size, batch, off;
	double t0, secs, t;
	uint64_t total, reqs;
	int r;
};

/* Put batches of ${batch} objects of ${size} bytes for ${secs} seconds. */
static void *
put_loop(void *arg)
{
	struct putter *p = arg;
	struct cf_frame_item *items = NULL;
	uint8_t (*ids)[CF_ID_BYTES] = NULL;
	uint64_t stored;
	size_t i, off = p->off;
	long status;

	if ((items = calloc(p->batch, sizeof(*items))) == NULL ||
	    (ids = calloc(p->batch, CF_ID_BYTES)) == NULL) {
		p->r = COFFER_ENOMEM;
		goto out;
	}
	do {
		for (i = 0; i < p->batch; i++) {
			/* Fresh ids: every object is new to the server. */
			randombytes_buf(ids[i], CF_ID_BYTES);
			if (off + p->size > SB_POOL_BYTES)
				off = 0;
			items[i].id = ids[i];
			items[i].data = p->pool + off;
			items[i].len = p->size;
			off += p->size + 64;	/* blobs differ from one another */
		}
		if ((p->r = cf_client_objects_put(p->net, p->drive, items,
		    p->batch, &stored)) != 0) {
			fprintf(stderr, "serverbench: put: %s (%s)\n",
			    coffer_strerror(p->r), cf_client_error(p->net,
			    &status));
			goto out;
		}
		p->total += stored;
		p->reqs++;
	} while ((p->t = now() - p->t0) < p->secs);
out:
	free(ids);
	free(items);
	return NULL;
}

/* ${nth} threads put batches of ${batch} objects of ${size} bytes. */
static int
run(struct cf_session *s, const uint8_t drive[static CF_ID_BYTES],
    const uint8_t *pool, size_t size, size_t batch, double secs, size_t nth)
{
	struct putter p[SB_THREADS_MAX];
	uint64_t total = 0, reqs = 0;
	double t0, t = 0;
	size_t k, started = 0;
	int r = 0;

	memset(p, 0, sizeof(p));
	for (k = 0; k < nth; k++)
		if ((r = cf_session_client(s, &p[k].net)) != 0)
			goto out;
	t0 = now();
	for (k = 0; k < nth; k++) {
		p[k].drive = drive;
		p[k].pool = pool;
		p[k].size = size;
		p[k].batch = batch;
		p[k].off = (SB_POOL_BYTES / nth) * k;
		p[k].t0 = t0;
		p[k].secs = secs;
		if (pthread_create(&p[k].th, NULL, put_loop, &p[k]) != 0) {
			r = COFFER_ENOMEM;
			goto out;
		}
		started++;
	}
out:
	for (k = 0; k < started; k++) {
		pthread_join(p[k].th, NULL);
		if (r == 0)
			r = p[k].r;
		total += p[k].total;
		reqs += p[k].reqs;
		if (p[k].t > t)
			t = p[k].t;
	}
	for (k = 0; k < nth; k++)
		cf_client_free(p[k].net);
	if (r != 0 || t <= 0)
		return r != 0 ? r : -1;
	if (json)
		printf("{\"size\": %zu, \"batch\": %zu, \"threads\": %zu, "
		    "\"requests\": %" PRIu64 ", \"objects\": %" PRIu64
		    ", \"seconds\": %.3f, \"objects_per_s\": %.1f, "
		    "\"mb_per_s\": %.1f}\n", size, batch, nth, reqs, total, t,
		    (double)total / t, (double)total * (double)size / t / 1e6);
	else
		printf("put %7zu-byte objects, %4zu per batch, %zu thread%s: "
		    "%9.1f objects/s %8.1f MB/s (%" PRIu64 " objects in %.2f s)\n",
		    size, batch, nth, nth == 1 ? "" : "s", (double)total / t,
		    (double)total * (double)size / t / 1e6, total, t);
	return 0;
}

static int
parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	*v = strtoul(s, &end, 10);
	return (*end != '\0' || *v == 0 || *v > max) ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: serverbench URL [--seconds S] "
	    "[--size BYTES --batch N] [--threads T] [--json]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	char home[SB_PATH_MAX], name[SB_NAME_MAX];
	static struct cf_state_paths paths;
	char rtext[CF_RECOVERY_TEXT_BYTES];
	uint8_t acct[CF_ID_BYTES], drive[CF_ID_BYTES], tag[4];
	struct cf_session *s = NULL;
	uint8_t *pool = NULL;
	unsigned long v, size = 0, batch = 0, nth = 1;
	double secs = SB_SECONDS_DEFAULT;
	const char *url;
	int i, r, own_home = 0, rc = 1;

	if (argc < 2 || argv[1][0] == '-')
		usage();
	url = argv[1];
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			if (parse_num(argv[++i], (unsigned long)SB_SECONDS_MAX,
			    &v) != 0)
				usage();
			secs = (double)v;
		} else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
			if (parse_num(argv[++i], CF_FRAME_OBJ_MAX, &size) != 0)
				usage();
		} else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			if (parse_num(argv[++i], SB_BATCH_MAX, &batch) != 0)
				usage();
		} else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
			if (parse_num(argv[++i], SB_THREADS_MAX, &nth) != 0)
				usage();
		} else
			usage();
	}
	if ((size == 0) != (batch == 0))
		usage();
	if (size != 0 && (size + CF_FRAME_ITEM_HDR_BYTES) * batch +
	    CF_FRAME_HDR_BYTES > CF_FRAME_MAX) {
		fprintf(stderr, "serverbench: a batch must fit one frame "
		    "(%zu bytes)\n", CF_FRAME_MAX);
		return 2;
	}
	if (coffer_init() != 0)
		return 1;

	/* This device's state in a folder of its own. */
	if (getenv("COFFER_HOME") == NULL) {
		const char *tmp = getenv("TMPDIR");

		if (snprintf(home, sizeof(home), "%s/coffer-serverbench-XXXXXX",
		    tmp != NULL ? tmp : "/tmp") >= (int)sizeof(home) ||
		    mkdtemp(home) == NULL || setenv("COFFER_HOME", home, 1) != 0) {
			perror("serverbench: mkdtemp");
			return 1;
		}
		own_home = 1;
	}
	/* The library reads no environment: its folders, from COFFER_HOME. */
	snprintf(paths.data, sizeof(paths.data), "%s", getenv("COFFER_HOME"));
	if (snprintf(paths.cache, sizeof(paths.cache), "%s/cache",
	    paths.data) >= (int)sizeof(paths.cache))
		return 1;
	randombytes_buf(tag, sizeof(tag));
	snprintf(name, sizeof(name), "bench-%02x%02x%02x%02x", tag[0], tag[1],
	    tag[2], tag[3]);
	if ((r = cf_account_create(&paths, url, name, NULL, "serverbench",
	    rtext, acct)) != 0 || (r = cf_session_open(&paths, &s)) != 0) {
		fprintf(stderr, "serverbench: account: %s\n",
		    coffer_strerror(r));
		goto out;
	}
	sodium_memzero(rtext, sizeof(rtext));
	/* A drive id the account uses first (docs/API.md §5). */
	randombytes_buf(drive, sizeof(drive));
	if ((pool = malloc(SB_POOL_BYTES)) == NULL)
		goto out;
	randombytes_buf(pool, SB_POOL_BYTES);

	if (size != 0) {
		if (run(s, drive, pool, size, batch, secs, nth) != 0)
			goto out;
	} else if (run(s, drive, pool, 4096, 1024, secs, nth) != 0 ||
	    run(s, drive, pool, (size_t)1 << 20, 32, secs, nth) != 0)
		goto out;
	rc = 0;
out:
	free(pool);
	cf_session_free(s);
	/* The state files of the throwaway device. */
	if (own_home && rm_tree(home) != 0)
		fprintf(stderr, "serverbench: could not remove %s\n", home);
	return rc;
}
