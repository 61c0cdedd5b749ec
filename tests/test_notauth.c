/*
 * The one rule for "not authentic" (lib/util/err.h): which errors of a
 * check of server data become COFFER_ENOTAUTHENTIC, and which pass.
 */
#include "coffer/coffer.h"
#include "util/err.h"
#include "t.h"

/* Every code of enum coffer_err, and what the rule makes of it. */
static const struct {
	int in, out;
} rule[] = {
	{ COFFER_OK, COFFER_OK },
	/* Nothing said about the bytes: passed through. */
	{ COFFER_ENOMEM, COFFER_ENOMEM },
	{ COFFER_EIO, COFFER_EIO },
	{ COFFER_EINTERNAL, COFFER_EINTERNAL },
	{ COFFER_EUNREACHABLE, COFFER_EUNREACHABLE },
	{ COFFER_EDENIED, COFFER_EDENIED },
	{ COFFER_ETOOBIG, COFFER_ETOOBIG },
	/* A check failed: not authentic, whatever the decoder called it. */
	{ COFFER_EFORMAT, COFFER_ENOTAUTHENTIC },
	{ COFFER_ENOTAUTHENTIC, COFFER_ENOTAUTHENTIC },
	{ COFFER_EBADKEY, COFFER_ENOTAUTHENTIC },
	{ COFFER_EINVAL, COFFER_ENOTAUTHENTIC },
	{ COFFER_EEXIST, COFFER_ENOTAUTHENTIC },
	{ COFFER_ENOENT, COFFER_ENOTAUTHENTIC },
	{ COFFER_ECONFLICT, COFFER_ENOTAUTHENTIC },
	/* An unknown code too. */
	{ -1000, COFFER_ENOTAUTHENTIC },
};

static void
every_code(void)
{
	size_t i;

	for (i = 0; i < sizeof(rule) / sizeof(rule[0]); i++)
		CHECK_RC(cf_err_from_server(rule[i].in), rule[i].out);
}

/* Every enum value is in the table: the codes run from 0 to EINTERNAL. */
static void
table_complete(void)
{
	size_t i;
	int c, seen;

	for (c = COFFER_OK; c >= COFFER_EINTERNAL; c--) {
		seen = 0;
		for (i = 0; i < sizeof(rule) / sizeof(rule[0]); i++)
			seen |= rule[i].in == c;
		CHECK(seen);
	}
}

/* Applying the rule twice (at two boundaries) changes nothing. */
static void
idempotent(void)
{
	size_t i;
	int once;

	for (i = 0; i < sizeof(rule) / sizeof(rule[0]); i++) {
		once = cf_err_from_server(rule[i].in);
		CHECK(cf_err_from_server(once) == once);
	}
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(every_code);
	T_RUN(table_complete);
	T_RUN(idempotent);
	T_DONE("notauth");
}
