/*
 * The device chain's private declarations: shared by chain.c (verifying),
 * chain_write.c (writing), envelope.c and pin.c, and by the tests, which
 * use the encoders to forge entries signed with real keys so that exactly
 * one rule is left to refuse them.
 */
#ifndef CF_CHAIN_INTERNAL_H
#define CF_CHAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "crypto/labels.h"
#include "crypto/sign.h"
#include "util/buf.h"

/* Format tags and versions (FORMAT §14, §15). */
#define CF_ENTRY_TAG		"CFCE"
#define CF_ENTRY_VERSION	1
#define CF_PIN_TAG		"CFPN"
#define CF_PIN_VERSION		1
#define CF_ENV_TAG		"CFEV"
#define CF_ENV_VERSION		1
#define CF_ENVKEYS_TAG		"CFEK"
#define CF_ENVKEYS_VERSION	1
#define CF_TAG_BYTES		4

/* Sizes. */
#define CF_ENTRY_HDR_BYTES	(CF_TAG_BYTES + 1 + CF_ID_BYTES + 8 + CF_ID_BYTES + \
				 1 + CF_ID_BYTES + 8)		/* 118 */
#define CF_ENTRY_MIN_BYTES	(CF_ENTRY_HDR_BYTES + 4 + CF_SIG_BYTES)
#define CF_NAME_NONCE_BYTES	24
#define CF_NAME_MAC_BYTES	16
#define CF_NAME_BOX_MIN		(CF_NAME_NONCE_BYTES + CF_NAME_MAC_BYTES + 1)
/* The padded form; older boxes hold 1..CF_DEVICE_NAME_MAX bytes unpadded. */
#define CF_NAME_BOX_MAX		(CF_NAME_NONCE_BYTES + CF_NAME_MAC_BYTES + \
				 CF_DEVICE_NAME_PADDED)
#define CF_RK_REG_BYTES		(CF_SIGN_PK_BYTES + CF_BOX_PK_BYTES + CF_SIG_BYTES)
#define CF_DRIVE_REC_BYTES	(CF_ID_BYTES + 8 + CF_ID_BYTES)
/* Recipients of one epoch: bounded by what fits in an entry body. */
#define CF_EPOCH_RECIP_MAX	(CF_ENTRY_BODY_MAX / CF_ID_BYTES)
/* Envelopes: a u64 epoch and a key per epoch, at most one epoch per entry. */
#define CF_ENVKEY_REC_BYTES	(8 + CF_KEY_BYTES)
#define CF_ENVKEYS_HDR_BYTES	(CF_TAG_BYTES + 1 + CF_ID_BYTES + 8 + 4)
#define CF_ENV_EPOCHS_MAX	CF_CHAIN_MAX_ENTRIES
#define CF_ENV_SEALED_MAX	(48 + CF_ENVKEYS_HDR_BYTES + \
				 (size_t)CF_ENV_EPOCHS_MAX * CF_ENVKEY_REC_BYTES)
/* An envelope signs purpose || its bytes account_id .. recipient_id (from
 * offset CF_ENV_SIGNED_OFF) || sealed (FORMAT §15). */
#define CF_ENV_SIGNED_OFF	(CF_TAG_BYTES + 1)
#define CF_ENV_SIGNED_HEAD_BYTES (3 * CF_ID_BYTES + 8)
#define CF_ENV_MAX		(CF_TAG_BYTES + 1 + 3 * CF_ID_BYTES + 8 + 4 + \
				 CF_ENV_SEALED_MAX + CF_ID_BYTES + CF_SIG_BYTES)

/* An entry's header (FORMAT §14), as written and as read. */
struct cf_entry_hdr {
	uint8_t account_id[CF_ID_BYTES];
	uint64_t seq;
	uint8_t prev_hash[CF_ID_BYTES];
	uint8_t type;
	uint8_t signer_id[CF_ID_BYTES];
	uint64_t time;
};

/* An epoch block as read: pointers into the entry. */
struct cf_epoch_view {
	uint64_t epoch;
	const uint8_t *cmt;
	uint32_t n;
	const uint8_t *ids;			/* n x 32 bytes */
};

/* A parsed, verified entry: every pointer points into the entry bytes. */
struct cf_entry_view {
	struct cf_entry_hdr h;
	const uint8_t *body;
	uint32_t bodylen;
	const uint8_t *sig;
	uint8_t hash[CF_ID_BYTES];
	/* genesis, add: the device it creates */
	const uint8_t *sign_pk;
	const uint8_t *box_pk;
	uint8_t dev_id[CF_ID_BYTES];
	uint64_t name_epoch;
	const uint8_t *name_box;
	uint32_t name_box_len;
	/* genesis, set recovery key */
	const uint8_t *rk_sign_pk;
	const uint8_t *rk_box_pk;
	uint8_t rk_id[CF_ID_BYTES];
	/* remove */
	const uint8_t *removed_id;
	uint32_t ndrives;
	const uint8_t *drives;			/* ndrives x CF_DRIVE_REC_BYTES */
	/* genesis, remove, rotate, set recovery key */
	int has_epoch;
	struct cf_epoch_view ep;
};

/**
 * cf_chain_verify_entry(c, entry, len, v):
 * Check ${entry} as the next entry of ${c} by every rule of FORMAT §14
 * without changing ${c}; fill ${v}.  0 or COFFER_ENOTAUTHENTIC (or
 * COFFER_ENOMEM).
 */
int cf_chain_verify_entry(const struct cf_chain *c, const uint8_t *entry,
    size_t len, struct cf_entry_view *v);

/**
 * cf_entry_encode(h, body, bodylen, sign_sk, entryp, lenp):
 * Serialise header ${h} and ${body} and sign with ${sign_sk} under
 * "coffer-entry-v1".  No check of any rule: the tests forge with it.
 */
int cf_entry_encode(const struct cf_entry_hdr *h, const uint8_t *body,
    size_t bodylen, const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    uint8_t **entryp, size_t *lenp);


/* account_id = H("coffer-account-v1" || sign_pk || box_pk || rand). */
void cf_chain_account_id(const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES],
    const uint8_t rand[static CF_GENESIS_RAND_BYTES],
    uint8_t id[static CF_ID_BYTES]);

/*
 * Epoch 1's recipients (FORMAT §14.1), as the genesis entry writes them
 * and its check wants them: the genesis device ${dev_id} and the recovery
 * key ${rk_id}, sorted, into ${ids}.
 */
void cf_chain_epoch1_ids(const uint8_t dev_id[static CF_ID_BYTES],
    const uint8_t rk_id[static CF_ID_BYTES], uint8_t ids[2][CF_ID_BYTES]);

/* The message rk_sig signs: account_id || u64 seq || rk_sign_pk || rk_box_pk. */
#define CF_RKREG_MSG_BYTES	(CF_ID_BYTES + 8 + CF_SIGN_PK_BYTES + CF_BOX_PK_BYTES)
void cf_rkreg_msg(const uint8_t account_id[static CF_ID_BYTES], uint64_t seq,
    const uint8_t rk_sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t rk_box_pk[static CF_BOX_PK_BYTES],
    uint8_t msg[static CF_RKREG_MSG_BYTES]);
/* Write rk_reg (FORMAT §14.5) for ${rk} at ${seq}. */
int cf_rkreg_write(struct cf_wr *w, const uint8_t account_id[static CF_ID_BYTES],
    uint64_t seq, const struct cf_recovery_keys *rk);

/* The message a pop signs: account_id || sign_pk || box_pk. */
#define CF_POP_MSG_BYTES	(CF_ID_BYTES + CF_SIGN_PK_BYTES + CF_BOX_PK_BYTES)
void cf_pop_msg(const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t box_pk[static CF_BOX_PK_BYTES],
    uint8_t msg[static CF_POP_MSG_BYTES]);

/* Write an epoch block; ${ids} must be sorted (FORMAT §14). */
void cf_epoch_block_write(struct cf_wr *w, uint64_t epoch,
    const uint8_t cmt[static CF_ID_BYTES], const uint8_t (*ids)[CF_ID_BYTES],
    size_t n);

/**
 * cf_chain_next_recipients(c, removed_id, rk_id, idsp, np):
 * The recipients of a new epoch after the current state of ${c}: every
 * trusted device except ${removed_id} (NULL: none) and the recovery key
 * ${rk_id} (NULL: the current one), sorted.  ${*idsp} is malloc'd.
 */
int cf_chain_next_recipients(const struct cf_chain *c,
    const uint8_t *removed_id, const uint8_t *rk_id,
    uint8_t (**idsp)[CF_ID_BYTES], size_t *np);

/* 1 if ${pk} is an X25519 point of large order, else 0. */
int cf_box_pk_ok(const uint8_t pk[static CF_BOX_PK_BYTES]);

/* The device (trusted or not) or recovery key whose id is ${id}: its signing key. */
const uint8_t *cf_chain_sign_pk(const struct cf_chain *c,
    const uint8_t id[static CF_ID_BYTES]);

/* The sequence number of the last entry (c->n >= 1). */
#define CF_CHAIN_LAST(c)	((c)->n - 1)

#endif /* !CF_CHAIN_INTERNAL_H */
