/*
 * What the server reads of the records it stores (docs/FORMAT.md §13-§17),
 * as defence in depth: clients never rely on these checks, they verify
 * everything themselves.  Every parser goes through the bounded reader
 * and returns COFFER_EFORMAT for anything malformed.
 */
#ifndef SRV_RECORDS_H
#define SRV_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "net/caps.h"

/* The caps of what travels: lib/net/caps.h, each defined there once. */
#define SRV_ENTRY_BODY_MAX	CF_ENTRY_BODY_MAX
#define SRV_ENTRY_MAX		CF_WIRE_ENTRY_MAX
#define SRV_NAME_BOX_MAX	4096
#define SRV_RECIPIENTS_MAX	65536U
#define SRV_REMOVE_DRIVES_MAX	65536U
#define SRV_ENVELOPE_MAX	CF_WIRE_ENVELOPE_MAX
#define SRV_JOIN_MAX		CF_WIRE_JOIN_MAX
#define SRV_APPROVAL_MAX	CF_WIRE_APPROVAL_MAX
#define SRV_DIR_MAX		CF_WIRE_DIR_MAX
#define SRV_DELTA_IDS_MAX	CF_WIRE_DELTA_IDS_MAX

enum srv_entry_type {
	SRV_ENTRY_GENESIS = 1,
	SRV_ENTRY_ADD = 2,
	SRV_ENTRY_REMOVE = 3,
	SRV_ENTRY_ROTATE = 4,
	SRV_ENTRY_SETRK = 5
};

/* A chain entry (FORMAT §14), parsed; pointers into the caller's buffer. */
struct srv_entry {
	uint8_t account_id[CF_ID_BYTES];
	uint64_t seq;
	uint8_t prev_hash[CF_ID_BYTES];
	uint8_t type;
	uint8_t signer_id[CF_ID_BYTES];
	uint64_t time;
	const uint8_t *sig;
	size_t signed_len;		/* bytes before sig */
	uint8_t hash[CF_ID_BYTES];	/* entry_hash */
	/* genesis, add: the device the entry adds */
	uint8_t dev_sign_pk[CF_SIGN_PK_BYTES];
	uint8_t dev_box_pk[CF_BOX_PK_BYTES];
	uint8_t dev_id[CF_ID_BYTES];
	/* remove */
	uint8_t removed_id[CF_ID_BYTES];
	/* genesis, setrk: the recovery key it registers (rk_sig checked) */
	int has_rk;
	uint8_t rk_sign_pk[CF_SIGN_PK_BYTES];
	uint8_t rk_box_pk[CF_BOX_PK_BYTES];
	uint8_t rk_id[CF_ID_BYTES];
};

/**
 * srv_entry_parse(buf, len, e):
 * Parse a chain entry and check what needs no chain state: structure,
 * body layout per type, a genesis entry's account id, signer and
 * signature, an add entry's proof of possession, a recovery key
 * registration's own signature.  0 or COFFER_EFORMAT.
 */
int srv_entry_parse(const uint8_t *buf, size_t len, struct srv_entry *e);

/**
 * srv_entry_verify(buf, e, sign_pk):
 * 0 if the entry's signature verifies under ${sign_pk}, else
 * COFFER_EFORMAT.
 */
int srv_entry_verify(const uint8_t *buf, const struct srv_entry *e,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES]);

/* An envelope (FORMAT §15). */
struct srv_envelope {
	uint8_t account_id[CF_ID_BYTES];
	uint8_t entry_hash[CF_ID_BYTES];
	uint64_t epoch;
	uint8_t recipient_id[CF_ID_BYTES];
	uint8_t signer_id[CF_ID_BYTES];
};

/**
 * srv_envelope_parse(buf, len, signer_pk_lookup... ):
 * Parse an envelope; the signature is checked by srv_envelope_verify.
 */
int srv_envelope_parse(const uint8_t *buf, size_t len, struct srv_envelope *v);
int srv_envelope_verify(const uint8_t *buf, size_t len,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES]);

/* A join request (FORMAT §17); pop checked. */
struct srv_join {
	uint8_t account_id[CF_ID_BYTES];
	uint8_t sign_pk[CF_SIGN_PK_BYTES];
	uint8_t box_pk[CF_BOX_PK_BYTES];
	uint8_t dev_id[CF_ID_BYTES];
};
int srv_join_parse(const uint8_t *buf, size_t len, struct srv_join *j);

/* An approval (FORMAT §17); signature checked by srv_approval_verify. */
struct srv_approval {
	uint8_t account_id[CF_ID_BYTES];
	uint8_t recipient_id[CF_ID_BYTES];
	uint8_t approver_id[CF_ID_BYTES];
};
int srv_approval_parse(const uint8_t *buf, size_t len, struct srv_approval *a);
int srv_approval_verify(const uint8_t *buf, size_t len,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES]);

/* A drive directory record (FORMAT §16). */
struct srv_dir {
	uint8_t account_id[CF_ID_BYTES];
	uint64_t version;
	uint8_t author_id[CF_ID_BYTES];
	size_t ndrives;
	const uint8_t *drive_ids;	/* ndrives x 32, strictly increasing */
};
/* drive_ids is malloc'd: free with srv_dir_free. */
int srv_dir_parse(const uint8_t *buf, size_t len, struct srv_dir *d);
void srv_dir_free(struct srv_dir *d);
int srv_dir_verify(const uint8_t *buf, size_t len,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES]);

/* A reference delta (FORMAT §13): lists point into the buffer. */
struct srv_delta {
	uint32_t nstart;
	const uint8_t *start;		/* nstart x 32, strictly increasing */
	uint32_t nstop;
	const uint8_t *stop;
};
int srv_delta_parse(const uint8_t *buf, size_t len, struct srv_delta *d);

#endif /* !SRV_RECORDS_H */
