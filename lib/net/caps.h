/*
 * The size caps of what travels between client and server, each defined
 * once (docs/API.md §7, docs/FORMAT.md).  Where the format fixes a
 * record's largest size, the cap is the format's figure (the header that
 * reads the record says it); the rest are the wire's own.  The server
 * refuses anything past them, the client reads no answer past them, and
 * the server's request body caps are computed from them (a JSON body
 * carries its records in base64: 4/3, plus CF_WIRE_JSON_SLACK for keys,
 * numbers and punctuation), never typed.
 */
#ifndef CF_NET_CAPS_H
#define CF_NET_CAPS_H

#include <stddef.h>

#include "chain/chain.h"
#include "chain/dir.h"
#include "chain/pair.h"
#include "net/frame.h"
#include "net/json.h"

/* ---- records ---- */

/* A directory record (16 MiB). */
#define CF_WIRE_DIR_MAX		((size_t)CF_DIR_MAX)
#define CF_WIRE_ENTRY_MAX	((size_t)CF_ENTRY_MAX)	/* a chain entry */
/* A join request. */
#define CF_WIRE_JOIN_MAX	((size_t)CF_JOIN_REQUEST_MAX)
/* A join approval. */
#define CF_WIRE_APPROVAL_MAX	((size_t)CF_APPROVAL_MAX)
/* An envelope: about 1600 epochs of keys (FORMAT §15). */
#define CF_WIRE_ENVELOPE_MAX	((size_t)64 * 1024)
/* A reference delta: start and stop ids together (FORMAT §13). */
#define CF_WIRE_DELTA_IDS_MAX	262144U
#define CF_WIRE_DELTA_MAX	(4 + 1 + 4 + 4 + \
				 (size_t)CF_WIRE_DELTA_IDS_MAX * 32)
/* Envelopes in one chain append or envelopes put; in an account create. */
#define CF_WIRE_ENVELOPES_MAX	1024
#define CF_WIRE_CREATE_ENVELOPES_MAX 16
/* An object frame (have/put/get), lib/net/frame.h. */
#define CF_WIRE_FRAME_MAX	((size_t)CF_FRAME_MAX)

/* ---- JSON bodies, computed ---- */

/* Bytes of a JSON body besides its base64 fields. */
#define CF_WIRE_JSON_SLACK	((size_t)4096)
/* A JSON array of ${n} base64 strings of at most ${max} bytes each. */
#define CF_WIRE_B64_ARRAY(n, max)	((size_t)(n) * (CF_B64_LEN(max) + 3))

/* The body of each request (docs/API.md §4), as the server caps it. */
#define CF_WIRE_BODY_NONE		CF_WIRE_JSON_SLACK
#define CF_WIRE_BODY_ACCOUNT_CREATE	(CF_WIRE_JSON_SLACK + \
	CF_B64_LEN(CF_WIRE_ENTRY_MAX) + \
	CF_WIRE_B64_ARRAY(CF_WIRE_CREATE_ENVELOPES_MAX, CF_WIRE_ENVELOPE_MAX))
#define CF_WIRE_BODY_CHAIN_APPEND	(CF_WIRE_JSON_SLACK + \
	CF_B64_LEN(CF_WIRE_ENTRY_MAX) + \
	CF_WIRE_B64_ARRAY(CF_WIRE_ENVELOPES_MAX, CF_WIRE_ENVELOPE_MAX))
#define CF_WIRE_BODY_ENVELOPES_PUT	(CF_WIRE_JSON_SLACK + \
	CF_WIRE_B64_ARRAY(CF_WIRE_ENVELOPES_MAX, CF_WIRE_ENVELOPE_MAX))
#define CF_WIRE_BODY_JOIN_POST		(CF_WIRE_JSON_SLACK + \
	CF_B64_LEN(CF_WIRE_JOIN_MAX))
#define CF_WIRE_BODY_JOIN_WITHDRAW	(CF_WIRE_JSON_SLACK + \
	CF_B64_LEN(CF_SIG_BYTES))
#define CF_WIRE_BODY_APPROVAL_PUT	(CF_WIRE_JSON_SLACK + \
	CF_B64_LEN(CF_WIRE_APPROVAL_MAX))
#define CF_WIRE_BODY_DIR_PUT		(CF_WIRE_JSON_SLACK + \
	CF_B64_LEN(CF_WIRE_DIR_MAX))
#define CF_WIRE_BODY_HEAD_PUT		(CF_WIRE_JSON_SLACK + \
	CF_B64_LEN(CF_WIRE_DELTA_MAX))
#define CF_WIRE_BODY_FRAME		CF_WIRE_FRAME_MAX

#endif /* !CF_NET_CAPS_H */
