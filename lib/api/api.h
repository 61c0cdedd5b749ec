/*
 * The public API's handles (include/coffer/): a configuration and a
 * session over the internal ones.  The ctx's folders are passed to the
 * internal calls that load or make a device (the library reads no
 * environment and keeps no global state of its own).
 */
#ifndef CF_API_H
#define CF_API_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/coffer.h"
#include "client/session.h"
#include "client/state.h"

struct coffer_ctx {
	struct cf_state_paths paths;	/* data[0] == '\0': not set */
	coffer_progress_fn *progress;
	void *progress_arg;
	coffer_warn_fn *warn;
	void *warn_arg;
	coffer_notice_fn *notice;
	void *notice_arg;
	/* Test knobs (coffer_ctx_set_test_knobs). */
	uint64_t line_page;
	uint64_t delta_cap;
	const char *read_hook;
};

struct coffer_session {
	struct coffer_ctx *ctx;
	struct cf_session *s;
};

/**
 * cf_api_change(in, me, out):
 * ${in} in the public form; ${me} this device's id (NULL: none).
 */
struct cf_chain_change;
void cf_api_change(const struct cf_chain_change *in, const uint8_t *me,
    struct coffer_chain_change *out);

#endif /* !CF_API_H */
