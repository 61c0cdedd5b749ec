/*
 * Joining a device (DESIGN §5; docs/FORMAT.md §17): the join request, the
 * pairing code, the approval and its grant, the safety code, and the
 * recovery key's check of a served chain.
 *
 * The new device draws a secret r (never sent to the server), posts a
 * join request and shows the pairing code base32(r || t) with a check
 * character; t binds r to the exact request bytes and the account id the
 * server claimed.  The approving device takes the code from the user,
 * computes t against its OWN account id for each pending request and
 * approves only a single match; its approval carries r back to the new
 * device, sealed to the key the code vouched for.
 */
#ifndef CF_PAIR_H
#define CF_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "crypto/keys.h"
#include "crypto/recovery.h"

#define CF_JOIN_TAG		"CFJR"
#define CF_APPROVAL_TAG		"CFAP"
#define CF_GRANT_TAG		"CFAG"
#define CF_PAIR_TAG_BYTES	4
#define CF_PAIR_VERSION		1

#define CF_PAIR_R_BYTES		6	/* 48 bits, never sent to the server */
#define CF_PAIR_T_BYTES		4
#define CF_PAIR_NONCE_BYTES	16
#define CF_PAIR_PENDING_MAX	8	/* pending requests per account */

/* Account names: 1 to 255 bytes, no NUL.  Device names: chain.h's cap. */
#define CF_ACCOUNT_NAME_MAX	255
/* enc_name = n24[24] || AEAD(padded device name; older: the bare name) */
#define CF_PAIR_ENC_NAME_MAX	(24 + CF_DEVICE_NAME_PADDED + 16)
#define CF_JOIN_REQUEST_MAX	(CF_PAIR_TAG_BYTES + 1 + CF_ID_BYTES + 4 + \
				 CF_ACCOUNT_NAME_MAX + 4 + CF_PAIR_ENC_NAME_MAX + \
				 CF_SIGN_PK_BYTES + CF_BOX_PK_BYTES + \
				 CF_PAIR_NONCE_BYTES + CF_SIG_BYTES)

/* The pairing code: 16 base32 characters of r || t, then a check character. */
#define CF_PAIR_CODE_VALUES	16
#define CF_PAIR_CODE_CHARS	(CF_PAIR_CODE_VALUES + 1)
/* Shown as XXXXX-XXXXX-XXXXX-XX, plus a NUL. */
#define CF_PAIR_CODE_TEXT_BYTES	(CF_PAIR_CODE_CHARS + 3 + 1)

/* Grants and approvals. */
#define CF_GRANT_DRIVES_MAX	4096
#define CF_GRANT_HEAD_BYTES	(CF_ID_BYTES + 8 + CF_ID_BYTES)
#define CF_GRANT_MIN		(CF_PAIR_TAG_BYTES + 1 + CF_PAIR_R_BYTES + \
				 CF_ID_BYTES + CF_ID_BYTES + 8 + 8 + CF_ID_BYTES + 4)
#define CF_GRANT_MAX		(CF_GRANT_MIN + \
				 CF_GRANT_DRIVES_MAX * CF_GRANT_HEAD_BYTES)
#define CF_APPROVAL_SEAL_BYTES	48	/* crypto_box_SEALBYTES */
#define CF_APPROVAL_MAX		(CF_PAIR_TAG_BYTES + 1 + CF_ID_BYTES + \
				 CF_ID_BYTES + 4 + CF_GRANT_MAX + \
				 CF_APPROVAL_SEAL_BYTES + CF_ID_BYTES + CF_SIG_BYTES)

/* The safety code: the first 10 base32 characters of a hash. */
#define CF_SAFETY_CODE_CHARS	10
#define CF_SAFETY_CODE_BYTES	(CF_SAFETY_CODE_CHARS + 1)

/* A decoded join request (FORMAT §17); fixed size, no pointers. */
struct cf_join_request {
	uint8_t account_id[CF_ID_BYTES];	/* as the server claimed it */
	uint8_t account_name[CF_ACCOUNT_NAME_MAX];
	size_t account_name_len;
	uint8_t enc_name[CF_PAIR_ENC_NAME_MAX];
	size_t enc_name_len;
	uint8_t sign_pk[CF_SIGN_PK_BYTES];
	uint8_t box_pk[CF_BOX_PK_BYTES];
	uint8_t nonce[CF_PAIR_NONCE_BYTES];
	uint8_t pop[CF_SIG_BYTES];
	uint8_t device_id[CF_ID_BYTES];		/* computed: cf_device_id */
};

/* What an approval grants the new device (FORMAT §17). */
struct cf_grant {
	uint8_t r[CF_PAIR_R_BYTES];
	uint8_t account_id[CF_ID_BYTES];
	uint8_t entry_hash[CF_ID_BYTES];	/* the add-device entry ... */
	uint64_t chain_seq;			/* ... and its seq: the approver's head */
	uint64_t dir_version;			/* 0: no directory yet */
	uint8_t dir_hash[CF_ID_BYTES];
	size_t ndrives;
	struct cf_drive_head *drives;		/* strictly increasing by drive id */
};

/* The outer approval, decoded but not verified. */
struct cf_approval {
	uint8_t account_id[CF_ID_BYTES];
	uint8_t recipient_id[CF_ID_BYTES];
	uint8_t *sealed;
	size_t sealed_len;
	uint8_t approver_id[CF_ID_BYTES];
	uint8_t sig[CF_SIG_BYTES];
};

/* ---- The new device ---- */

/**
 * cf_join_request_make(dev, account_id, account_name, anlen, device_name,
 *     dnlen, r, t, reqp, lenp):
 * Draw r and a nonce, encrypt ${device_name} under the key Argon2id
 * stretches from r (FORMAT §17), and make the join request of ${dev} for
 * the account the server named ${account_id}.  Returns r and t (for the
 * pairing code; wipe r when done) and the malloc'd request.
 */
int cf_join_request_make(const struct cf_device_keys *dev,
    const uint8_t account_id[static CF_ID_BYTES], const char *account_name,
    size_t anlen, const char *device_name, size_t dnlen,
    uint8_t r[static CF_PAIR_R_BYTES], uint8_t t[static CF_PAIR_T_BYTES],
    uint8_t **reqp, size_t *lenp);

/**
 * cf_pair_code_format(r, t, text):
 * The pairing code "XXXXX-XXXXX-XXXXX-XX": base32(r || t) and its Luhn
 * mod 32 check character.
 */
void cf_pair_code_format(const uint8_t r[static CF_PAIR_R_BYTES],
    const uint8_t t[static CF_PAIR_T_BYTES],
    char text[static CF_PAIR_CODE_TEXT_BYTES]);

/**
 * cf_approval_open(c, me, r, buf, len, gp):
 * On the new device ${me}, which made the request with ${r}: accept the
 * approval ${buf} only if its account id is ${c}'s, it is addressed to
 * ${me}, it is signed by the device that signed the add-device entry
 * named in the grant, the grant opens with ${me}'s box key and carries
 * ${r} (constant-time compare) and ${c}'s account id, and that entry is
 * in the verified chain ${c} at the grant's chain_seq and adds ${me}.
 * ${*gp} (free with cf_grant_free) is handed over on success: its heads
 * are the new device's pins.  COFFER_ENOTAUTHENTIC otherwise.
 */
int cf_approval_open(const struct cf_chain *c, const struct cf_device_keys *me,
    const uint8_t r[static CF_PAIR_R_BYTES], const uint8_t *buf, size_t len,
    struct cf_grant **gp);

/**
 * cf_join_withdraw_sign(dev, account_id, sig):
 * The new device ${dev} withdraws its pending join request to
 * ${account_id} (a join that gave up): sig = Ed25519(dev,
 * "coffer-withdraw-v1" || account_id || device_id), sent with the
 * self-signed DELETE of docs/API.md.  Its own purpose, so no other
 * signature of the join key can be taken for it.
 */
void cf_join_withdraw_sign(const struct cf_device_keys *dev,
    const uint8_t account_id[static CF_ID_BYTES], uint8_t sig[static CF_SIG_BYTES]);

/**
 * cf_join_withdraw_verify(sign_pk, account_id, device_id, sig):
 * 0 if ${sig} is the withdrawal by ${sign_pk} (whose device id must be
 * ${device_id}, with any box key: the server checks the id against the
 * stored request) of its request to ${account_id}; COFFER_ENOTAUTHENTIC
 * otherwise.
 */
int cf_join_withdraw_verify(const uint8_t sign_pk[static CF_SIGN_PK_BYTES],
    const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t device_id[static CF_ID_BYTES],
    const uint8_t sig[static CF_SIG_BYTES]);

/* ---- The approving device ---- */

/**
 * cf_join_request_decode(buf, len, req):
 * Parse a join request (caps, trailing bytes), compute its device id,
 * refuse a low-order box key and check its proof of possession over the
 * account id it claims.  COFFER_ENOTAUTHENTIC if any of that fails;
 * ${*req} is zeroed then.
 */
int cf_join_request_decode(const uint8_t *buf, size_t len,
    struct cf_join_request *req);

/**
 * cf_pair_t(r, account_id, req, t):
 * t = first 4 bytes of H_{H(r)}("coffer-pair-v1" || account_id ||
 * lstr(account_name) || lstr(enc_name) || sign_pk || box_pk || nonce),
 * over ${req}'s fields and the given ${account_id}.
 */
void cf_pair_t(const uint8_t r[static CF_PAIR_R_BYTES],
    const uint8_t account_id[static CF_ID_BYTES],
    const struct cf_join_request *req, uint8_t t[static CF_PAIR_T_BYTES]);

/**
 * cf_pair_code_parse(text, len, r, t):
 * Read a typed pairing code: case, dashes and white space are free, O
 * reads as 0 and I, L as 1.  COFFER_EBADKEY if it is not 17 base32
 * characters or the check character is wrong.
 */
int cf_pair_code_parse(const char *text, size_t len,
    uint8_t r[static CF_PAIR_R_BYTES], uint8_t t[static CF_PAIR_T_BYTES]);

/**
 * cf_pair_match(own_account_id, r, t, reqs, n, indexp, name, namelenp):
 * Compute t against ${own_account_id} for each of the ${n} pending
 * requests and find the single one whose t is the code's.  None:
 * COFFER_ENOENT (the request is gone, or the server changed it: the two
 * look the same from here).  Two or more, more than CF_PAIR_PENDING_MAX
 * requests, or a match whose proof of possession is not over our account
 * id or whose device name does not open (either form,
 * cf_device_name_unpad): COFFER_ENOTAUTHENTIC.  On success ${*indexp} is the match and ${name}
 * (room for CF_DEVICE_NAME_MAX + 1 bytes) its NUL-terminated device name.
 */
int cf_pair_match(const uint8_t own_account_id[static CF_ID_BYTES],
    const uint8_t r[static CF_PAIR_R_BYTES], const uint8_t t[static CF_PAIR_T_BYTES],
    const struct cf_join_request *reqs, size_t n, size_t *indexp,
    char name[static CF_DEVICE_NAME_MAX + 1], size_t *namelenp);

/**
 * cf_approval_make(approver, req, g, outp, lenp):
 * Seal the grant ${g} to the matched request's box key and sign the
 * approval (purpose "coffer-approve-v1").  ${g}'s account id must be the
 * one ${req} claims and its heads strictly increasing (COFFER_EINVAL).
 */
int cf_approval_make(const struct cf_device_keys *approver,
    const struct cf_join_request *req, const struct cf_grant *g,
    uint8_t **outp, size_t *lenp);

/* ---- Building blocks (tests, fuzzers, the forge tool) ---- */

/* Encode a grant (malloc'd; holds r: free with cf_wipefree). */
int cf_grant_encode(const struct cf_grant *g, uint8_t **outp, size_t *lenp);
/* Parse a grant; COFFER_ENOTAUTHENTIC if malformed. */
int cf_grant_decode(const uint8_t *buf, size_t len, struct cf_grant **gp);
/* Wipe and free; NULL does nothing. */
void cf_grant_free(struct cf_grant *g);

/**
 * cf_approval_make_raw(approver, account_id, recipient_id, recipient_box_pk,
 *     grant, grantlen, outp, lenp):
 * Seal ${grant} (any bytes) to ${recipient_box_pk} and sign the approval.
 */
int cf_approval_make_raw(const struct cf_device_keys *approver,
    const uint8_t account_id[static CF_ID_BYTES],
    const uint8_t recipient_id[static CF_ID_BYTES],
    const uint8_t recipient_box_pk[static CF_BOX_PK_BYTES],
    const uint8_t *grant, size_t grantlen, uint8_t **outp, size_t *lenp);

/* Parse the outer approval (no checks of keys); free with cf_approval_free. */
int cf_approval_decode(const uint8_t *buf, size_t len, struct cf_approval **ap);
void cf_approval_free(struct cf_approval *a);

/**
 * cf_approval_open_grant(a, box_pk, box_sk, gp):
 * Open ${a}'s sealed grant with a box key pair and parse it, without any
 * other check.  COFFER_ENOTAUTHENTIC if either fails.
 */
int cf_approval_open_grant(const struct cf_approval *a,
    const uint8_t box_pk[static CF_BOX_PK_BYTES],
    const uint8_t box_sk[static CF_BOX_SK_BYTES], struct cf_grant **gp);

/* ---- Safety code and recovery ---- */

/**
 * cf_safety_code(account_id, chain_seq, chain_head, dir_version, dir_hash,
 *     drives, n, code):
 * The first 10 base32 characters of H("coffer-safety-v1" || account_id ||
 * u64 chain_seq || chain_head || u64 dir_version || dir_hash || u32 n ||
 * n x (drive_id || u64 version || commit_id)), NUL-terminated.  ${drives}
 * must be strictly increasing by id (COFFER_EINVAL).
 */
int cf_safety_code(const uint8_t account_id[static CF_ID_BYTES],
    uint64_t chain_seq, const uint8_t chain_head[static CF_ID_BYTES],
    uint64_t dir_version, const uint8_t dir_hash[static CF_ID_BYTES],
    const struct cf_drive_head *drives, size_t n,
    char code[static CF_SAFETY_CODE_BYTES]);

/**
 * cf_recovery_check_chain(c, secret, account_id):
 * Accept the verified chain ${c} for recovery with ${secret} only if it is
 * the chain of ${account_id} and its current recovery registration holds
 * exactly the public keys derived from ${secret} (DESIGN §5).  A key that
 * matches only a replaced registration: COFFER_EBADKEY; any other
 * mismatch: COFFER_ENOTAUTHENTIC.
 */
int cf_recovery_check_chain(const struct cf_chain *c,
    const uint8_t secret[static CF_RECOVERY_SECRET_BYTES],
    const uint8_t account_id[static CF_ID_BYTES]);

#endif /* !CF_PAIR_H */
