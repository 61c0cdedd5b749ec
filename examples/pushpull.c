/*
 * pushpull: the smallest whole program over libcoffer's public API
 * (docs/API-LIBRARY.md), built by the tests (tests/e2e/100-example.sh)
 * and, by the release checks, against an installed libcoffer:
 *
 *   cc -o pushpull pushpull.c $(pkg-config --cflags --libs coffer)
 *
 * usage: pushpull URL HOME SRC DST
 *
 * Creates an account "example" on the cofferd at URL, with this device's
 * files in the folder HOME (its cache in HOME/cache), makes the drive
 * "example", pushes the folder SRC as its first version, pulls the head
 * into the empty folder DST and prints "version N: F files".  The key
 * file is sealed with a fixed passphrase that the passphrase callback
 * gives (a real program asks its user).  On an error it prints
 * coffer_strerror and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include <coffer/coffer.h>

#define PASSPHRASE	"pushpull example passphrase"

/* The key file's passphrase, for sealing it and for opening it. */
static int
passphrase(void *arg, int purpose, unsigned attempt, char *buf, size_t cap,
    size_t *lenp)
{
	(void)arg;
	(void)purpose;
	if (attempt > 0 || sizeof(PASSPHRASE) - 1 > cap)
		return COFFER_EBADKEY;	/* a fixed one: nothing else to try */
	memcpy(buf, PASSPHRASE, sizeof(PASSPHRASE) - 1);
	*lenp = sizeof(PASSPHRASE) - 1;
	return 0;
}

/* Warnings (a file left out of the push, say): the path may be any bytes. */
static void
warn(void *arg, const char *msg, const uint8_t *path, size_t pathlen)
{
	(void)arg;
	fprintf(stderr, "pushpull: %.*s: %s\n", (int)pathlen,
	    path != NULL ? (const char *)path : "", msg);
}

/* Report ${r} from ${what}; 1. */
static int
fail(const char *what, int r)
{
	fprintf(stderr, "pushpull: %s: %s\n", what, coffer_strerror(r));
	return 1;
}

int
main(int argc, char **argv)
{
	struct coffer_ctx *ctx = NULL;
	struct coffer_session *s = NULL;
	struct coffer_push_result pushed;
	struct coffer_pull_result pulled;
	char cache[COFFER_PATH_MAX], recovery[COFFER_RECOVERY_TEXT_BYTES];
	uint8_t id[COFFER_ID_BYTES];
	int r, st = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: pushpull URL HOME SRC DST\n");
		return 2;
	}
	if ((r = coffer_init()) != 0)
		return fail("init", r);
	if ((r = coffer_ctx_new(&ctx)) != 0)
		return fail("ctx", r);
	snprintf(cache, sizeof(cache), "%s/cache", argv[2]);
	if ((r = coffer_ctx_set_dirs(ctx, argv[2], cache)) != 0) {
		st = fail("folders", r);
		goto out;
	}
	coffer_ctx_set_passphrase(ctx, passphrase, NULL);
	coffer_ctx_set_warn(ctx, warn, NULL);

	if ((r = coffer_account_create(ctx, argv[1], "example", NULL,
	    "pushpull", recovery, id)) != 0) {
		st = fail("account create", r);
		goto out;
	}
	/* A real program shows the recovery key once, then forgets it. */
	memset(recovery, 0, sizeof(recovery));
	if ((r = coffer_session_open(ctx, &s, NULL)) != 0) {
		st = fail("session open", r);
		goto out;
	}
	if ((r = coffer_drive_create(s, "example", id)) != 0) {
		st = fail("drive create", r);
		goto out;
	}
	if ((r = coffer_push(s, "example", argv[3], 0, &pushed)) != 0) {
		st = fail("push", r);
		goto out;
	}
	if ((r = coffer_pull(s, "example", 0, argv[4], 0, &pulled)) != 0) {
		st = fail("pull", r);
		goto out;
	}
	printf("version %llu: %llu files\n", (unsigned long long)pulled.version,
	    (unsigned long long)pulled.files);
	st = 0;
out:
	coffer_session_close(s);
	coffer_ctx_free(ctx);
	return st;
}
