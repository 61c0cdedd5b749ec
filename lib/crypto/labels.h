/*
 * Every domain label of the formats (docs/FORMAT.md), defined here and
 * nowhere else.  tests/test_labels.c checks the list below: pairwise
 * distinct, none a prefix of another, each within its cap.
 *
 * How they are used, and why the checks are the right ones:
 * - Signature purposes (FORMAT §11): Ed25519 over label || message
 *   (cf_sign_purpose, crypto/sign.h).
 * - Hash labels: BLAKE2b (keyed or not) over label || data, or over the
 *   label alone under a key (a derived key: name, dirname, keyid, gear,
 *   cut, statcache, knownids).  None is passed as BLAKE2b's 16-byte
 *   personalisation parameter; each is the first bytes of the hashed
 *   message, so any length fits.
 * Because every one of these is used as a prefix (the label alone being
 * the empty suffix), the set must be prefix-free: then label || x never
 * equals label' || y for two different labels, whatever x and y.  All
 * share the "coffer-" stem and end in "-vN".
 * - Wrap purposes (FORMAT §4): bound into the AEAD's associated data with
 *   a length prefix, so only distinctness and CF_WRAP_PURPOSE_MAX matter.
 * - crypto_kdf contexts: BLAKE2b's personalisation, 8 bytes each.
 *
 * Not a label: the account file's first line (FORMAT §19.1, CF_ACCOUNT_HEADER
 * in client/state.h) has the text of CF_LABEL_ACCOUNT but is a text file's
 * magic, never hashed or signed.
 *
 * Adding a label: define it here, add it to one of the lists below
 * (test_labels refuses a CF_LABEL_ define missing from them) and to
 * FORMAT.md.
 */
#ifndef CF_LABELS_H
#define CF_LABELS_H

/* The length of a label, without its NUL. */
#define CF_LABEL_LEN(s)		(sizeof(s) - 1)

/* Signature purposes: Ed25519(sk, label || message). */
#define CF_LABEL_ENTRY		"coffer-entry-v1"	/* chain entry, §14 */
#define CF_LABEL_POP		"coffer-pop-v1"		/* possession, §14 */
#define CF_LABEL_RKREG		"coffer-rkreg-v1"	/* rk_reg, §14.5 */
#define CF_LABEL_ENV		"coffer-env-v1"		/* envelope, §15 */
#define CF_LABEL_WITHDRAW	"coffer-withdraw-v1"	/* §17 */
#define CF_LABEL_APPROVE	"coffer-approve-v1"	/* approval, §17 */
#define CF_LABEL_DIR		"coffer-dir-v1"		/* dir record, §16 */
#define CF_LABEL_COMMIT		"coffer-commit-v1"	/* commit, §13 */
#define CF_LABEL_REQ		"coffer-req-v1"		/* request, API §2 */

/* Hash labels: H(label || data), H_K(label || data) or H_K(label). */
#define CF_LABEL_ENTRY_HASH	"coffer-entry-hash-v1"
#define CF_LABEL_ACCOUNT	"coffer-account-v1"
#define CF_LABEL_EPOCH		"coffer-epoch-v1"
#define CF_LABEL_NAME		"coffer-name-v1"
#define CF_LABEL_DIR_HASH	"coffer-dir-hash-v1"
#define CF_LABEL_DIRNAME	"coffer-dirname-v1"
#define CF_LABEL_PAIR_T		"coffer-pair-v1"
#define CF_LABEL_SAFETY		"coffer-safety-v1"
#define CF_LABEL_SPLIT		"coffer-split-v1"
#define CF_LABEL_DELTA		"coffer-delta-v1"
#define CF_LABEL_ENC		"coffer-enc-v1"
#define CF_LABEL_CMT		"coffer-cmt-v1"
#define CF_LABEL_DEVICE		"coffer-device-v1"
#define CF_LABEL_KEYID		"coffer-keyid-v1"
#define CF_LABEL_RK_ACCT	"coffer-rk-acct-v1"
#define CF_LABEL_RK_SUM		"coffer-rk-sum-v1"
#define CF_LABEL_RK_SIGN	"coffer-rk-sign-v1"
#define CF_LABEL_RK_BOX		"coffer-rk-box-v1"
#define CF_LABEL_GEAR		"coffer-gear-v1"
#define CF_LABEL_CUT		"coffer-cut-v1"
#define CF_LABEL_STATCACHE	"coffer-statcache-v1"
#define CF_LABEL_KNOWNIDS	"coffer-knownids-v1"

/* Wrap purposes: cf_wrap_seal()'s purpose, in the associated data. */
#define CF_LABEL_WRAP_SECRET	"drive-secret"
#define CF_LABEL_WRAP_EPOCH	"drive-epoch"

/*
 * crypto_kdf contexts (FORMAT §3): libsodium passes them to BLAKE2b as its
 * personalisation, so each is exactly crypto_kdf_CONTEXTBYTES (8) bytes.
 */
#define CF_LABEL_KDF_DRIVE	"cfdrive1"	/* from a drive secret */
#define CF_LABEL_KDF_EPOCH	"cfepoch1"	/* from a drive epoch key */

/* The lists test_labels checks: X(name) for each label above. */
#define CF_LABELS_SIGN(X)						\
	X(CF_LABEL_ENTRY) X(CF_LABEL_POP) X(CF_LABEL_RKREG)		\
	X(CF_LABEL_ENV) X(CF_LABEL_WITHDRAW) X(CF_LABEL_APPROVE)	\
	X(CF_LABEL_DIR) X(CF_LABEL_COMMIT) X(CF_LABEL_REQ)
#define CF_LABELS_HASH(X)						\
	X(CF_LABEL_ENTRY_HASH) X(CF_LABEL_ACCOUNT) X(CF_LABEL_EPOCH)	\
	X(CF_LABEL_NAME) X(CF_LABEL_DIR_HASH) X(CF_LABEL_DIRNAME)	\
	X(CF_LABEL_PAIR_T) X(CF_LABEL_SAFETY) X(CF_LABEL_SPLIT)	\
	X(CF_LABEL_DELTA) X(CF_LABEL_ENC) X(CF_LABEL_CMT)		\
	X(CF_LABEL_DEVICE) X(CF_LABEL_KEYID) X(CF_LABEL_RK_ACCT)	\
	X(CF_LABEL_RK_SUM) X(CF_LABEL_RK_SIGN) X(CF_LABEL_RK_BOX)	\
	X(CF_LABEL_GEAR) X(CF_LABEL_CUT) X(CF_LABEL_STATCACHE)		\
	X(CF_LABEL_KNOWNIDS)
#define CF_LABELS_WRAP(X)						\
	X(CF_LABEL_WRAP_SECRET) X(CF_LABEL_WRAP_EPOCH)
#define CF_LABELS_KDF(X)						\
	X(CF_LABEL_KDF_DRIVE) X(CF_LABEL_KDF_EPOCH)

#endif
