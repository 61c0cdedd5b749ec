/*
 * The public API's own rules, through <coffer/coffer.h> alone: the
 * configuration's folders (none: COFFER_EINVAL, never a guess from the
 * environment), an empty home (COFFER_ENOENT), the name checks, the self
 * test, and an error text for every code.  The operations themselves are
 * tested end to end (tests/e2e/, 100-example.sh for a program of its own).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coffer/coffer.h>

#include "t.h"

static char tmp[] = "/tmp/coffer-test-api-XXXXXX";

static void
dirs_are_checked(void)
{
	struct coffer_ctx *ctx = NULL;
	char *longp;

	CHECK_RC(coffer_ctx_new(&ctx), 0);
	CHECK_RC(coffer_ctx_set_dirs(ctx, "", "/tmp"), COFFER_EINVAL);
	CHECK_RC(coffer_ctx_set_dirs(ctx, "/tmp", ""), COFFER_EINVAL);
	CHECK((longp = malloc(COFFER_PATH_MAX)) != NULL);
	if (longp != NULL) {
		memset(longp, 'a', COFFER_PATH_MAX - 1);
		longp[0] = '/';
		longp[COFFER_PATH_MAX - 1] = '\0';
		CHECK_RC(coffer_ctx_set_dirs(ctx, longp, "/tmp"),
		    COFFER_EINVAL);
		free(longp);
	}
	CHECK_RC(coffer_ctx_set_dirs(ctx, "/tmp/a", "/tmp/b"), 0);
	coffer_ctx_free(ctx);
}

/* Without folders nothing looks anywhere (not even $COFFER_HOME). */
static void
no_dirs_no_guess(void)
{
	struct coffer_ctx *ctx = NULL;
	struct coffer_session *s = NULL;
	struct coffer_open_info info;
	struct coffer_account_info a;
	char text[COFFER_RECOVERY_TEXT_BYTES];
	uint8_t id[COFFER_ID_BYTES];

	CHECK(setenv("COFFER_HOME", tmp, 1) == 0);
	CHECK_RC(coffer_ctx_new(&ctx), 0);
	CHECK_RC(coffer_session_open(ctx, &s, &info), COFFER_EINVAL);
	CHECK(s == NULL);
	CHECK_RC(coffer_account_read(ctx, &a), COFFER_EINVAL);
	CHECK_RC(coffer_account_create(ctx, "http://127.0.0.1:1", "alice",
	    NULL, "dev", text, id), COFFER_EINVAL);
	CHECK(unsetenv("COFFER_HOME") == 0);
	coffer_ctx_free(ctx);
}

static void
empty_home_has_no_account(void)
{
	struct coffer_ctx *ctx = NULL;
	struct coffer_session *s = NULL;
	struct coffer_open_info info;
	struct coffer_account_info a;
	char cache[sizeof(tmp) + 8];

	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	CHECK_RC(coffer_ctx_new(&ctx), 0);
	CHECK_RC(coffer_ctx_set_dirs(ctx, tmp, cache), 0);
	CHECK_RC(coffer_session_open(ctx, &s, &info), COFFER_ENOENT);
	CHECK(s == NULL && !info.removed && !info.account_gone);
	CHECK_RC(coffer_account_read(ctx, &a), COFFER_ENOENT);
	coffer_ctx_free(ctx);
}

static void
names_are_checked(void)
{
	CHECK(coffer_url_ok("http://127.0.0.1:8080") == 1);
	CHECK(coffer_url_ok("ftp://127.0.0.1:8080") == 0);
	CHECK(coffer_account_name_ok("alice.b-c_d") == 1);
	CHECK(coffer_account_name_ok("Bad Name") == 0);
	CHECK(coffer_account_name_ok("") == 0);
	CHECK(coffer_device_name_ok("laptop") == 1);
	CHECK(coffer_device_name_ok("lap\ntop") == 0);
}

static void
selftest_round_trips(void)
{
	struct coffer_selftest_result res;
	char path[sizeof(tmp) + 16];
	uint8_t buf[100000];
	size_t i;
	int fd, dfd;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + i / 251);
	snprintf(path, sizeof(path), "%s/f", tmp);
	CHECK((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(fd);
	CHECK((dfd = open(tmp, O_RDONLY | O_DIRECTORY)) >= 0);
	CHECK_RC(coffer_selftest(dfd, &res), 0);
	CHECK(res.files == 1 && res.bytes == sizeof(buf) && res.chunks >= 1);
	CHECK(res.sealed_bytes > 0);
	/* The folder is still the caller's. */
	CHECK(fcntl(dfd, F_GETFD) != -1);
	close(dfd);
	unlink(path);
}

static void
every_code_has_a_text(void)
{
	int e;

	for (e = COFFER_OK; e >= COFFER_EINTERNAL; e--)
		CHECK(strcmp(coffer_strerror(e), "unknown error") != 0);
	CHECK(strcmp(coffer_strerror(-100), "unknown error") == 0);
}

int
main(void)
{
	if (coffer_init() != 0 || mkdtemp(tmp) == NULL)
		return 1;
	T_RUN(dirs_are_checked);
	T_RUN(no_dirs_no_guess);
	T_RUN(empty_home_has_no_account);
	T_RUN(names_are_checked);
	T_RUN(selftest_round_trips);
	T_RUN(every_code_has_a_text);
	rmdir(tmp);
	T_DONE("api");
}
