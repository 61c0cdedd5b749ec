/*
 * bench_store: how to store many small objects durably (docs/STORAGE.md).
 *
 *   bench_store DIR [N] [SIZE] [BATCH]
 *
 * Writes N objects of SIZE bytes in batches of BATCH, each batch durable
 * before the next, three ways:
 *   pack:  the server's object store (append to a pack file, one fdatasync
 *          per batch) plus one SQLite (WAL, synchronous=FULL) commit of the
 *          locations per batch -- what cofferd does;
 *   blob:  the bytes themselves as SQLite blobs, one commit per batch;
 *   file:  one file per object, written, fsynced, renamed, folder fsynced
 *          (the layout DESIGN §6 rules out; only N / 10 objects).
 * Prints objects per second and MiB/s for each.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "objstore.h"

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static sqlite3 *
db_open(const char *path, const char *schema)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	return db;
}

static void
report(const char *what, unsigned long n, size_t size, double t)
{
	printf("%-5s %8lu objects of %6zu B: %9.0f objects/s %8.1f MiB/s (%.2f s)\n",
	    what, n, size, (double)n / t,
	    (double)n * (double)size / t / (1 << 20), t);
}

int
main(int argc, char **argv)
{
	unsigned long n = 20000, batch = 500, i, j, k;
	size_t size = 4096;
	char path[4096], tmp[8192], fin[8192];
	struct srv_objstore *s = NULL;
	struct srv_objput *puts = NULL;
	uint8_t *data = NULL, (*ids)[32] = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;
	double t0;
	int fd, dfd, rc = 1;

	if (argc < 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: bench_store DIR [N] [SIZE] [BATCH]\n");
		rc = 2;
		goto out;
	}
	if (argc > 2)
		n = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		size = strtoul(argv[3], NULL, 10);
	if (argc > 4)
		batch = strtoul(argv[4], NULL, 10);
	if (n == 0 || size == 0 || batch == 0) {
		rc = 2;
		goto out;
	}
	mkdir(argv[1], 0700);
	if ((data = malloc(n * size)) == NULL ||
	    (ids = malloc(n * 32)) == NULL ||
	    (puts = calloc(batch, sizeof(*puts))) == NULL)
		goto out;
	randombytes_buf(data, n * size);
	for (i = 0; i < n; i++)
		crypto_generichash(ids[i], 32, data + i * size, size, NULL, 0);

	/* pack + SQLite index */
	snprintf(path, sizeof(path), "%s/pack", argv[1]);
	mkdir(path, 0700);
	if (srv_objstore_open(path, &s) != 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s/index.db", path);
	db = db_open(tmp, "CREATE TABLE o(id BLOB PRIMARY KEY, pack INT, off INT,"
	    " len INT) WITHOUT ROWID;");
	sqlite3_prepare_v2(db, "INSERT INTO o VALUES(?1,?2,?3,?4)", -1, &st, NULL);
	t0 = now();
	for (i = 0; i < n; i += batch) {
		k = n - i < batch ? n - i : batch;
		for (j = 0; j < k; j++) {
			puts[j].id = ids[i + j];
			puts[j].data = data + (i + j) * size;
			puts[j].len = (uint32_t)size;
		}
		if (srv_objstore_write(s, puts, k) != 0)
			goto out;
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		for (j = 0; j < k; j++) {
			sqlite3_reset(st);
			sqlite3_bind_blob(st, 1, ids[i + j], 32, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)puts[j].loc.pack);
			sqlite3_bind_int64(st, 3, (sqlite3_int64)puts[j].loc.off);
			sqlite3_bind_int64(st, 4, (sqlite3_int64)puts[j].loc.len);
			if (sqlite3_step(st) != SQLITE_DONE)
				goto out;
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			goto out;
	}
	report("pack", n, size, now() - t0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	srv_objstore_close(s);

	/* SQLite blobs */
	snprintf(tmp, sizeof(tmp), "%s/blob.db", argv[1]);
	db = db_open(tmp, "CREATE TABLE o(id BLOB PRIMARY KEY, data BLOB)"
	    " WITHOUT ROWID;");
	sqlite3_prepare_v2(db, "INSERT INTO o VALUES(?1,?2)", -1, &st, NULL);
	t0 = now();
	for (i = 0; i < n; i += batch) {
		k = n - i < batch ? n - i : batch;
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		for (j = 0; j < k; j++) {
			sqlite3_reset(st);
			sqlite3_bind_blob(st, 1, ids[i + j], 32, SQLITE_STATIC);
			sqlite3_bind_blob(st, 2, data + (i + j) * size, (int)size,
			    SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				goto out;
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			goto out;
	}
	report("blob", n, size, now() - t0);
	sqlite3_finalize(st);
	sqlite3_close(db);

	/* one file per object (a tenth of them) */
	snprintf(path, sizeof(path), "%s/files", argv[1]);
	mkdir(path, 0700);
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY)) < 0)
		goto out;
	t0 = now();
	for (i = 0; i < n / 10; i++) {
		snprintf(tmp, sizeof(tmp), "%s/%lu.tmp", path, i);
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
		    write(fd, data + i * size, size) != (ssize_t)size ||
		    fsync(fd) != 0)
			goto out;
		close(fd);
		snprintf(fin, sizeof(fin), "%s/%lu", path, i);
		if (rename(tmp, fin) != 0 || fsync(dfd) != 0)
			goto out;
	}
	report("file", n / 10, size, now() - t0);
	close(dfd);
	rc = 0;
out:
	free(puts);
	free(ids);
	free(data);
	return rc;
}
