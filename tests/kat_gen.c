/*
 * Print the known-answer vectors, one "NAME VALUE" line each, for the
 * ```vectors block of docs/FORMAT.md §11.  A test tool: never installed.
 */
#include <stdio.h>

#include "coffer/coffer.h"
#include "detrng.h"
#include "kat.h"

static void
print(const char *name, const char *value)
{
	printf("%s %s\n", name, value);
}

int
main(void)
{
	int r;

	detrng_install();
	if (coffer_init() != 0)
		return 1;
	if ((r = kat_all(print)) != 0) {
		fprintf(stderr, "kat_gen: %s\n", coffer_strerror(r));
		return 1;
	}
	return 0;
}
