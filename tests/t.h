/*
 * The smallest test harness that counts: each T_RUN(case) is one case;
 * a case fails if any CHECK in it fails.  T_DONE() prints
 *   RESULT <suite> passed=N failed=M
 * which tests/run.sh sums, and returns the exit status.
 */
#ifndef T_H
#define T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_cases_pass, t_cases_fail;
static int t_checks_fail __attribute__((unused));

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		t_checks_fail++;					\
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__,	\
		    #cond);						\
	}								\
} while (0)

/* CHECK_RC(expr, want): an int-returning call must return want. */
#define CHECK_RC(expr, want) do {					\
	int t_rc_ = (expr);						\
	if (t_rc_ != (want)) {						\
		t_checks_fail++;					\
		fprintf(stderr, "FAIL %s:%d: %s returned %d, want %d\n",	\
		    __FILE__, __LINE__, #expr, t_rc_, (int)(want));	\
	}								\
} while (0)

#define T_RUN(fn) do {							\
	int t_f0_ = t_checks_fail;					\
	fn();								\
	if (t_checks_fail == t_f0_) {					\
		t_cases_pass++;						\
		printf("ok %s\n", #fn);					\
	} else {							\
		t_cases_fail++;						\
		printf("not ok %s\n", #fn);				\
	}								\
	fflush(stdout);							\
} while (0)

#define T_DONE(suite) do {						\
	printf("RESULT %s passed=%d failed=%d\n", (suite),		\
	    t_cases_pass, t_cases_fail);				\
	return (t_cases_fail || !t_cases_pass) ? 1 : 0;			\
} while (0)

#endif
