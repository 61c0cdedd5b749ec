/*
 * The known-answer vectors in docs/FORMAT.md §11 must equal what the code
 * computes with the deterministic RNG: the document and the code cannot
 * drift apart.  Each vector is one case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/coffer.h"
#include "detrng.h"
#include "kat.h"
#include "t.h"
#include "util.h"

static int seen;

static void
check(const char *name, const char *value)
{
	char *doc = tu_vector(name);

	seen++;
	if (doc != NULL && strcmp(doc, value) == 0) {
		t_cases_pass++;
		printf("ok vector %s\n", name);
	} else {
		t_cases_fail++;
		printf("not ok vector %s: %s\n", name,
		    doc ? "differs from docs/FORMAT.md" : "missing from docs/FORMAT.md");
	}
	free(doc);
}

int
main(void)
{
	int r;

	detrng_install();
	if (coffer_init() != 0)
		return 1;
	if ((r = kat_all(check)) != 0) {
		printf("not ok computing vectors: %s\n", coffer_strerror(r));
		t_cases_fail++;
	}
	/* The forms written before device names were padded still read. */
	if ((r = kat_read_unpadded(tu_vector)) != 0) {
		printf("not ok unpadded vectors: %s\n", coffer_strerror(r));
		t_cases_fail++;
	} else {
		t_cases_pass++;
		printf("ok unpadded vectors read\n");
	}
	/* A document with fewer vectors than the code is a failure too. */
	if (seen < 45) {
		printf("not ok only %d vectors\n", seen);
		t_cases_fail++;
	}
	T_DONE("kat");
}
