/*
 * Trees, chunk lists, commits, reference deltas and the version walk
 * (DESIGN §3, §4, §6; docs/FORMAT.md §12, §13).
 *
 * A version is a signed commit naming a root tree.  A tree is one
 * directory: a leaf (its entries, sorted by raw name bytes) or, for a
 * directory too large for one leaf, an index of leaf parts cut at the
 * canonical places of FORMAT §12.  A large file refers to chunk lists
 * instead of chunks.  Everything here is plaintext: sealing and opening
 * is lib/object's job.
 *
 * Decoders take bytes that came from the server (through cf_object_open)
 * and refuse anything malformed or non-canonical with COFFER_ENOTAUTHENTIC.
 * Encoders take the caller's own data and refuse anything invalid with
 * COFFER_EINVAL (or COFFER_ETOOBIG past a cap), so that nothing a decoder
 * would refuse is ever written.
 *
 * The structs are plain so that the client can read them; a decoded
 * struct is owned by its decoder's free function and read-only.
 */
#ifndef CF_TREE_H
#define CF_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "chunker/chunker.h"
#include "crypto/keys.h"
#include "crypto/labels.h"
#include "object/object.h"

/* ---- Trees (FORMAT §12) ---- */

#define CF_TREE_TAG		"CFTR"	/* 4 bytes, no NUL */
#define CF_TREE_TAG_BYTES	4
#define CF_TREE_VERSION		1
#define CF_TREE_HDR_BYTES	(CF_TREE_TAG_BYTES + 1 + 1 + 4)	/* tag, version, kind, n */

enum cf_tree_kind {
	CF_TREE_LEAF = 0,	/* items are entries */
	CF_TREE_INDEX = 1	/* items are parts (leaves) of one directory */
};

enum cf_tree_type {
	CF_TREE_FILE = 1,
	CF_TREE_DIR = 2,
	CF_TREE_SYMLINK = 3
};

/* How a file refers to its data. */
enum cf_file_how {
	CF_FILE_CHUNKS = 0,	/* refs are chunks (id, length in bytes) */
	CF_FILE_LISTS = 1	/* refs are chunk lists (id, number of chunks) */
};

#define CF_TREE_NAME_MAX	255	/* bytes in a name; at least 1 */
#define CF_TREE_TARGET_MAX	4095	/* bytes in a symlink target; at least 1 */
#define CF_TREE_MODE_MASK	07777U	/* permission bits only */
#define CF_TREE_NSEC_LIMIT	1000000000U	/* mtime_nsec < this */
#define CF_TREE_LEAF_MAX	4096	/* entries in a leaf */
#define CF_TREE_PARTS_MAX	4096	/* parts in an index */
#define CF_TREE_PARTS_MIN	2	/* a directory of one part is a leaf */
/* Largest tree plaintext (a leaf or an index): the object cap. */
#define CF_TREE_BYTES_MAX	CF_OBJ_PLAIN_MAX

/* The canonical split (FORMAT §12). */
#define CF_TREE_SPLIT_MIN	1024	/* a part is cut by hash only from here */
#define CF_TREE_SPLIT_BELOW	8	/* cut if H(personal || name)[0] < this */

#define CF_REF_BYTES		(CF_ID_BYTES + 4)	/* id || u32 len */
#define CF_FILE_DIRECT_MAX	256	/* chunks referred to directly */
#define CF_LIST_CHUNKS_MAX	16384	/* chunks in one list */
#define CF_FILE_LISTS_MAX	65536	/* lists of one file (one level only) */
#define CF_FILE_CHUNKS_MAX	((uint64_t)CF_LIST_CHUNKS_MAX * CF_FILE_LISTS_MAX)

/* Encoded entry sizes: lstr(name), type, mode, mtime_sec, mtime_nsec, size. */
#define CF_TREE_ENTRY_FIXED	(4 + 1 + 4 + 8 + 4 + 8)
#define CF_TREE_FILE_REF_FIXED	(1 + 4)			/* how, k */
/* The largest entry: a file with CF_FILE_LISTS_MAX lists and the longest name. */
#define CF_TREE_ENTRY_MAX	(CF_TREE_ENTRY_FIXED + CF_TREE_NAME_MAX + \
				 CF_TREE_FILE_REF_FIXED + \
				 (size_t)CF_FILE_LISTS_MAX * CF_REF_BYTES)
/* An index item: lstr(first_name), part_id, u32 part_count. */
#define CF_TREE_PART_FIXED	(4 + CF_ID_BYTES + 4)

/*
 * A reference from a file to its data: a chunk (its length in bytes, 1 to
 * CF_CHUNK_MAX) or a chunk list (its number of chunks).
 */
struct cf_ref {
	uint8_t id[CF_ID_BYTES];
	uint32_t len;
};

/*
 * One directory entry.  The fields after size depend on type; the others
 * are ignored (and must be zero/NULL when encoding, for clarity only).
 * The pointers are not owned: in a decoded tree they point into the
 * tree's own buffer.
 */
struct cf_tree_entry {
	const uint8_t *name;		/* raw bytes, not NUL-terminated */
	size_t namelen;
	uint8_t type;			/* enum cf_tree_type */
	uint32_t mode;			/* & CF_TREE_MODE_MASK */
	int64_t mtime_sec;
	uint32_t mtime_nsec;		/* < CF_TREE_NSEC_LIMIT */
	uint64_t size;			/* files: bytes; others 0 */
	/* CF_TREE_FILE */
	uint8_t how;			/* enum cf_file_how */
	const struct cf_ref *refs;
	size_t nrefs;
	/* CF_TREE_DIR */
	uint8_t subtree[CF_ID_BYTES];
	/* CF_TREE_SYMLINK */
	const uint8_t *target;
	size_t targetlen;
};

/* One item of an index: a part of the directory. */
struct cf_tree_part {
	const uint8_t *first;		/* the part's first name */
	size_t firstlen;
	uint8_t id[CF_ID_BYTES];	/* the part's tree id */
	uint32_t count;			/* its number of entries */
};

/* A decoded tree.  Read-only; free with cf_tree_free(). */
struct cf_tree {
	uint8_t kind;			/* enum cf_tree_kind */
	size_t n;			/* entries (leaf) or parts (index) */
	struct cf_tree_entry *entries;	/* leaf: n entries, sorted */
	struct cf_tree_part *parts;	/* index: n parts, sorted */
	size_t len;			/* length of the encoding */
	/* Private: the storage the pointers above point into. */
	uint8_t *buf;
	struct cf_ref *refpool;
};

/**
 * cf_tree_name_cmp(a, alen, b, blen):
 * Order two names by raw bytes (memcmp; the shorter first on a tie):
 * negative, 0 or positive.
 */
int cf_tree_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen);

/**
 * cf_tree_name_ok(name, len):
 * 1 if ${name} is a valid entry name: 1 to CF_TREE_NAME_MAX bytes, not
 * "." or "..", no '/' and no NUL.  Else 0.
 */
int cf_tree_name_ok(const uint8_t *name, size_t len);

/**
 * cf_tree_entry_check(e):
 * 0 if ${e} obeys every rule of FORMAT §12 that concerns one entry alone
 * (name, type, mode, nsec, size against chunk lengths or list counts,
 * caps, symlink target), else COFFER_EINVAL.
 */
int cf_tree_entry_check(const struct cf_tree_entry *e);

/**
 * cf_tree_entry_size(e):
 * The number of bytes ${e} takes in a leaf (valid entries only).
 */
size_t cf_tree_entry_size(const struct cf_tree_entry *e);

/**
 * cf_tree_split_mark(name, len):
 * 1 if a part may be cut after the entry ${name} by the hash rule:
 * H(CF_LABEL_SPLIT || name)[0] < CF_TREE_SPLIT_BELOW.  Else 0.
 */
int cf_tree_split_mark(const uint8_t *name, size_t len);

/**
 * cf_tree_encode_leaf(entries, n, bufp, lenp):
 * Encode ${n} entries, in any order, as one leaf: sorted by name.
 * COFFER_EINVAL if an entry is invalid or two have the same name;
 * COFFER_ETOOBIG if ${n} > CF_TREE_LEAF_MAX or the leaf would exceed
 * CF_TREE_BYTES_MAX.  This does not decide whether the directory should
 * be split: use cf_tree_build() for a whole directory.  The result is
 * malloc'd and handed over only on success.
 */
int cf_tree_encode_leaf(const struct cf_tree_entry *entries, size_t n,
    uint8_t **bufp, size_t *lenp);

/**
 * cf_tree_encode_index(parts, n, bufp, lenp):
 * Encode an index of ${n} parts as given (they must already be sorted,
 * with valid names and counts of 1 to CF_TREE_LEAF_MAX, and
 * CF_TREE_PARTS_MIN <= n <= CF_TREE_PARTS_MAX; else COFFER_EINVAL).
 * Whether the cuts are canonical is not checked here (the parts are not
 * given): cf_tree_build() makes canonical ones; this is for it and for
 * the tests and the forge tool.
 */
int cf_tree_encode_index(const struct cf_tree_part *parts, size_t n,
    uint8_t **bufp, size_t *lenp);

/**
 * cf_tree_emit_fn(ctx, type, plain, len, id):
 * Receives an object made by a builder: a tree (CF_OBJ_TREE) or a chunk
 * list (CF_OBJ_LIST), its plaintext and its id (computed with the id key
 * given to the builder, as cf_object_seal() will compute it).  The
 * plaintext is only lent for the call.  A non-zero return stops the
 * builder, which returns it.
 */
typedef int cf_tree_emit_fn(void *ctx, uint8_t type, const uint8_t *plain,
    size_t len, const uint8_t id[static CF_ID_BYTES]);

/**
 * cf_tree_build(entries, n, id_key, emit, ctx, root_id):
 * Encode a whole directory of ${n} entries (any order) the canonical way
 * (FORMAT §12): one leaf if it fits, else its parts in order followed by
 * the index.  Each object is passed to ${emit}, the directory's own tree
 * (leaf or index) last; its id is stored in ${root_id} on success.  Ids
 * use the metadata-id key ${id_key}.  COFFER_EINVAL for an invalid entry
 * or a duplicate name; COFFER_ETOOBIG if more than CF_TREE_PARTS_MAX
 * parts would be needed.
 */
int cf_tree_build(const struct cf_tree_entry *entries, size_t n,
    const uint8_t id_key[static CF_KEY_BYTES], cf_tree_emit_fn *emit,
    void *ctx, uint8_t root_id[static CF_ID_BYTES]);

/**
 * cf_tree_decode(buf, len, tp):
 * Decode a tree (leaf or index) and check every rule that one tree can be
 * checked against alone; COFFER_ENOTAUTHENTIC for anything malformed or
 * non-canonical.  An index's parts are checked with cf_tree_check_*().
 * The tree (its own copy of the bytes) is handed over in ${*tp} only on
 * success; free with cf_tree_free().
 */
int cf_tree_decode(const uint8_t *buf, size_t len, struct cf_tree **tp);

/* Wipe (names are private) and free; NULL does nothing. */
void cf_tree_free(struct cf_tree *t);

/*
 * Checking an index against its parts, one part at a time and in order,
 * so that only one part need be in memory:
 *
 *	cf_tree_check_init(&c, index);
 *	for each i: load, decode and cf_tree_check_part(&c, part_i);
 *	cf_tree_check_end(&c);
 *
 * The part ids are the loader's business (cf_object_open checks them).
 */
struct cf_tree_check {
	const struct cf_tree *index;
	size_t next;			/* the part expected next */
	uint64_t entries;		/* entries in the parts so far */
	uint64_t bytes;			/* their encoded bytes */
	int need_size_cut;		/* the previous part ended by size only */
	size_t prev_len;		/* then its leaf's length */
	int err;			/* sticky */
};

/* Start checking the parts of ${index} (decoded, kind CF_TREE_INDEX). */
void cf_tree_check_init(struct cf_tree_check *c, const struct cf_tree *index);

/**
 * cf_tree_check_part(c, part):
 * Check the next part: a leaf whose count is the index's, whose first
 * entry has the index's first name, whose entries lie below the next
 * part's first name, and whose cuts are the canonical ones.
 * COFFER_ENOTAUTHENTIC otherwise (sticky).
 */
int cf_tree_check_part(struct cf_tree_check *c, const struct cf_tree *part);

/**
 * cf_tree_check_end(c):
 * Check that every part was seen and that the directory would not fit in
 * one leaf (else it must be stored as one).  0 or COFFER_ENOTAUTHENTIC.
 */
int cf_tree_check_end(struct cf_tree_check *c);

/**
 * cf_tree_check_index(index, parts, nparts):
 * All of the above at once, for an index and its ${nparts} decoded parts
 * in order.
 */
int cf_tree_check_index(const struct cf_tree *index,
    struct cf_tree *const *parts, size_t nparts);

/* ---- Chunk lists (FORMAT §12) ---- */

#define CF_LIST_TAG		"CFCL"
#define CF_LIST_TAG_BYTES	4
#define CF_LIST_VERSION		1
#define CF_LIST_HDR_BYTES	(CF_LIST_TAG_BYTES + 1 + 8 + 4)	/* tag, version, bytes, n */
#define CF_LIST_BYTES_MAX	(CF_LIST_HDR_BYTES + \
				 (size_t)CF_LIST_CHUNKS_MAX * CF_REF_BYTES)

/* A decoded chunk list.  Free with cf_list_free(). */
struct cf_list {
	uint64_t bytes;			/* sum of the chunk lengths */
	size_t n;			/* 1 to CF_LIST_CHUNKS_MAX */
	struct cf_ref *chunks;
};

/**
 * cf_list_encode(chunks, n, bufp, lenp):
 * Encode ${n} chunk refs as a list.  COFFER_EINVAL unless
 * 1 <= n <= CF_LIST_CHUNKS_MAX and every length is 1 to CF_CHUNK_MAX.
 * The result is malloc'd and handed over only on success.
 */
int cf_list_encode(const struct cf_ref *chunks, size_t n, uint8_t **bufp,
    size_t *lenp);

/**
 * cf_list_decode(buf, len, lp):
 * Decode a list; COFFER_ENOTAUTHENTIC if malformed, if a cap is passed,
 * if a chunk length is 0 or above CF_CHUNK_MAX, or if bytes is not the
 * sum of the lengths.  Handed over in ${*lp} only on success.
 */
int cf_list_decode(const uint8_t *buf, size_t len, struct cf_list **lp);

/* Free; NULL does nothing. */
void cf_list_free(struct cf_list *l);

/*
 * Turning a file's chunks into an entry's refs (FORMAT §12): at most
 * CF_FILE_DIRECT_MAX chunks are referred to directly; more go into lists
 * of CF_LIST_CHUNKS_MAX chunks, all full but the last.  The builder takes
 * the chunks one at a time, so a huge file needs memory for one list and
 * the list refs only; each finished list is passed to ${emit}.
 */
struct cf_list_builder;

/**
 * cf_list_builder_new(id_key, emit, ctx, bp):
 * Start a file.  List ids use the metadata-id key ${id_key}.
 */
int cf_list_builder_new(const uint8_t id_key[static CF_KEY_BYTES],
    cf_tree_emit_fn *emit, void *ctx, struct cf_list_builder **bp);

/**
 * cf_list_builder_add(b, id, len):
 * Add the file's next chunk.  COFFER_EINVAL for a length of 0 or above
 * CF_CHUNK_MAX; COFFER_ETOOBIG past CF_FILE_CHUNKS_MAX chunks; or what
 * ${emit} returned.  After an error the builder only accepts free().
 */
int cf_list_builder_add(struct cf_list_builder *b,
    const uint8_t id[static CF_ID_BYTES], uint32_t len);

/**
 * cf_list_builder_finish(b, howp, refsp, nrefsp, sizep):
 * Emit the last list (if any) and hand over the entry's ${*howp}, its
 * malloc'd refs (${*refsp}, ${*nrefsp}; NULL and 0 for an empty file)
 * and the file's size.  The builder only accepts free() afterwards.
 */
int cf_list_builder_finish(struct cf_list_builder *b, uint8_t *howp,
    struct cf_ref **refsp, size_t *nrefsp, uint64_t *sizep);

/* Free; NULL does nothing. */
void cf_list_builder_free(struct cf_list_builder *b);

/**
 * cf_list_build(chunks, n, id_key, emit, ctx, howp, refsp, nrefsp, sizep):
 * The builder above for a whole chunk list at once.
 */
int cf_list_build(const struct cf_ref *chunks, size_t n,
    const uint8_t id_key[static CF_KEY_BYTES], cf_tree_emit_fn *emit,
    void *ctx, uint8_t *howp, struct cf_ref **refsp, size_t *nrefsp,
    uint64_t *sizep);

/**
 * cf_list_check_one(e, i, l, sump):
 * Check the decoded list ${l} loaded by ${e}->refs[i].id against the file
 * entry ${e} (CF_FILE_LISTS): its number of chunks is the one the entry
 * gives.  Add its bytes to ${*sump}.  0 or COFFER_ENOTAUTHENTIC.
 */
int cf_list_check_one(const struct cf_tree_entry *e, size_t i,
    const struct cf_list *l, uint64_t *sump);

/**
 * cf_list_check_end(e, sum):
 * After every list of ${e}: the file's size is the sum of their bytes.
 */
int cf_list_check_end(const struct cf_tree_entry *e, uint64_t sum);

/**
 * cf_list_check(e, lists, nlists):
 * Both of the above for all of ${e}'s lists at once, in order.
 */
int cf_list_check(const struct cf_tree_entry *e,
    struct cf_list *const *lists, size_t nlists);

/* ---- Commits (FORMAT §13) ---- */

#define CF_COMMIT_TAG		"CFCM"
#define CF_COMMIT_TAG_BYTES	4
/*
 * The format's version, not the commit's: 2 (the newest) carries the top
 * folder's mode and mtime, 1 does not.  Readers take both.
 */
#define CF_COMMIT_VERSION	2
#define CF_COMMIT_VERSION_V1	1
/* Every byte before the signature, format version 1. */
#define CF_COMMIT_V1_SIGNED_BYTES (CF_COMMIT_TAG_BYTES + 1 + CF_ID_BYTES + 8 + \
				 CF_ID_BYTES + CF_ID_BYTES + CF_ID_BYTES + 8 + \
				 8 + CF_ID_BYTES + CF_ID_BYTES)
/* Version 2 adds u32 root_mode || u64 root_mtime_sec || u32 root_mtime_nsec. */
#define CF_COMMIT_SIGNED_BYTES	(CF_COMMIT_V1_SIGNED_BYTES + 4 + 8 + 4)
#define CF_COMMIT_V1_BYTES	(CF_COMMIT_V1_SIGNED_BYTES + CF_SIG_BYTES)
/* The largest commit (version 2): the size of a buffer for any. */
#define CF_COMMIT_BYTES		(CF_COMMIT_SIGNED_BYTES + CF_SIG_BYTES)

struct cf_commit {
	uint8_t drive_id[CF_ID_BYTES];
	uint64_t version;		/* 1, 2, ... */
	uint8_t parent_id[CF_ID_BYTES];	/* all zero for version 1 only */
	uint8_t root_id[CF_ID_BYTES];
	uint8_t author_id[CF_ID_BYTES];
	uint64_t time;			/* seconds since the epoch */
	uint64_t chain_seq;		/* the chain entry the author had verified */
	uint8_t chain_head[CF_ID_BYTES];
	uint8_t delta_hash[CF_ID_BYTES];
	/*
	 * The top folder's mode (& 07777) and mtime, as a tree entry gives a
	 * folder's: format version 2 exactly when ${has_root_meta}.
	 */
	int has_root_meta;
	uint32_t root_mode;
	int64_t root_mtime_sec;
	uint32_t root_mtime_nsec;	/* < 10^9 */
	uint8_t sig[CF_SIG_BYTES];
};

/**
 * cf_commit_len(c):
 * The length of ${c}'s encoding: CF_COMMIT_BYTES (format version 2) if
 * it has the top folder's metadata, else CF_COMMIT_V1_BYTES.
 */
size_t cf_commit_len(const struct cf_commit *c);

/**
 * cf_commit_sign(c, sign_sk, out):
 * Sign ${c} with the author's Ed25519 secret key (purpose
 * CF_LABEL_COMMIT), store the signature in ${c}->sig and the encoding,
 * cf_commit_len(${c}) bytes, in ${out}.  The client always sets
 * has_root_meta (format version 2); a commit without it is written in
 * format version 1 (a re-signed old head, the known-answer vectors).
 * COFFER_EINVAL if version is 0, if version 1 has a parent or a later
 * version has none, or if the root mode has bits outside 07777 or the
 * root mtime's nanoseconds are 10^9 or more.  The author id is the
 * caller's to get right (it names the key that signed).
 */
int cf_commit_sign(struct cf_commit *c,
    const uint8_t sign_sk[static CF_SIGN_SK_BYTES],
    uint8_t out[static CF_COMMIT_BYTES]);

/**
 * cf_commit_encode(c, out):
 * Encode ${c} with the signature it already carries (for the forge tool
 * and the fuzzer's round trip; cf_commit_sign() is the way to make one).
 * COFFER_EINVAL under the same rules as cf_commit_sign().
 */
int cf_commit_encode(const struct cf_commit *c,
    uint8_t out[static CF_COMMIT_BYTES]);

/**
 * cf_commit_decode(buf, len, c):
 * Parse a commit of either format version without checking its
 * signature, so that the caller can find the author's key by
 * ${c}->author_id.  COFFER_ENOTAUTHENTIC if it is malformed (its length
 * must be its format version's), if version is 0, if version 1 <=> zero
 * parent does not hold, or if the root mode or mtime breaks the rules of
 * cf_commit_sign().  ${c} is cleared on entry and filled only on success.
 */
int cf_commit_decode(const uint8_t *buf, size_t len, struct cf_commit *c);

/**
 * cf_commit_verify(buf, len, sign_pk, c):
 * cf_commit_decode(), then check the signature with ${sign_pk}, which
 * the caller took from its verified chain for the commit's author_id.
 * COFFER_ENOTAUTHENTIC on any failure; ${c} is filled only on success.
 */
int cf_commit_verify(const uint8_t *buf, size_t len,
    const uint8_t sign_pk[static CF_SIGN_PK_BYTES], struct cf_commit *c);

/* ---- Reference deltas (FORMAT §13) ---- */

#define CF_DELTA_TAG		"CFRD"
#define CF_DELTA_TAG_BYTES	4
#define CF_DELTA_VERSION	1
/* Ids in each of start and stop; a larger change needs several commits. */
#define CF_DELTA_IDS_MAX	(1U << 28)
#define CF_DELTA_BYTES_MAX	(CF_DELTA_TAG_BYTES + 1 + 4 + 4 + \
				 2 * (size_t)CF_DELTA_IDS_MAX * CF_ID_BYTES)

/* A set of ids: ${n} ids of CF_ID_BYTES each, back to back in ${ids}. */
struct cf_idset {
	uint8_t *ids;
	size_t n;
};

/* Free the ids of ${s} (not ${s} itself) and empty it; NULL does nothing. */
void cf_delta_idset_clear(struct cf_idset *s);

/**
 * cf_delta_idset_sorted(s):
 * 1 if ${s}'s ids are strictly increasing by raw bytes, else 0.
 */
int cf_delta_idset_sorted(const struct cf_idset *s);

struct cf_delta {
	struct cf_idset start;		/* in the child's set, not the parent's */
	struct cf_idset stop;		/* in the parent's set, not the child's */
};

/**
 * cf_delta_compute(parent, child, dp):
 * From two strictly increasing id sets (reachable from the parent's root,
 * empty for version 1; reachable from the child's), compute start =
 * child \ parent and stop = parent \ child in one merge pass.
 * COFFER_EINVAL if a set is not strictly increasing; COFFER_ETOOBIG past
 * CF_DELTA_IDS_MAX.  Handed over in ${*dp} only on success.
 */
int cf_delta_compute(const struct cf_idset *parent,
    const struct cf_idset *child, struct cf_delta **dp);

/**
 * cf_delta_encode(d, bufp, lenp):
 * Encode ${d} ("CFRD").  COFFER_EINVAL unless both lists are strictly
 * increasing and disjoint; COFFER_ETOOBIG past CF_DELTA_IDS_MAX.
 */
int cf_delta_encode(const struct cf_delta *d, uint8_t **bufp, size_t *lenp);

/**
 * cf_delta_decode(buf, len, dp):
 * Decode a delta; COFFER_ENOTAUTHENTIC if malformed, above a cap, not
 * strictly increasing, or if an id is in both lists.
 */
int cf_delta_decode(const uint8_t *buf, size_t len, struct cf_delta **dp);

/**
 * cf_delta_hash(buf, len, out):
 * delta_hash = H(CF_LABEL_DELTA || the encoded delta).
 */
void cf_delta_hash(const uint8_t *buf, size_t len,
    uint8_t out[static CF_ID_BYTES]);

/* Free; NULL does nothing. */
void cf_delta_free(struct cf_delta *d);

/* ---- Walking a version (FORMAT §12) ---- */

#define CF_WALK_DEPTH_MAX	1024	/* directories deep; the root is 1 */
#define CF_WALK_ENTRIES_MAX	((uint64_t)1 << 32)	/* entries per version */

/**
 * cf_walk_load_fn(ctx, type, id, plainp, lenp):
 * Return the authenticated plaintext of the object ${id} of ${type}
 * (CF_OBJ_TREE or CF_OBJ_LIST) in a malloc'd buffer that the walk frees
 * (wiping it).  The client opens it with cf_object_open(), which checks
 * the id.  A non-zero return stops the walk, which returns it.
 */
typedef int cf_walk_load_fn(void *ctx, uint8_t type,
    const uint8_t id[static CF_ID_BYTES], uint8_t **plainp, size_t *lenp);

/* What the walk shows its visitor. */
struct cf_walk_item {
	uint8_t type;			/* CF_OBJ_TREE, CF_OBJ_LIST or CF_OBJ_CHUNK */
	const uint8_t *id;		/* CF_ID_BYTES */
	uint64_t len;			/* chunks: their length; else 0 */
	uint32_t depth;			/* of the directory it belongs to */
	const struct cf_tree *tree;	/* trees: the decoded tree; else NULL */
};

/**
 * cf_walk_visit_fn(ctx, item):
 * Called once per occurrence of a tree (after it was decoded and, for a
 * part, checked), list (after it was checked) or chunk.  A non-zero
 * return stops the walk, which returns it.
 */
typedef int cf_walk_visit_fn(void *ctx, const struct cf_walk_item *item);

struct cf_walk_params {
	cf_walk_load_fn *load;		/* required */
	cf_walk_visit_fn *visit;	/* may be NULL */
	void *ctx;			/* for both */
	uint64_t entries_max;		/* 0: CF_WALK_ENTRIES_MAX */
};

/**
 * cf_walk(root, p):
 * Walk the version whose root tree is ${root}, iteratively (an explicit
 * stack, no recursion): every tree (indexes expanded to their parts,
 * which are checked against the index), every chunk list (checked
 * against its file), every chunk.  COFFER_ENOTAUTHENTIC if a tree or
 * list is malformed or non-canonical, if the version is deeper than
 * CF_WALK_DEPTH_MAX or has more entries than the cap; otherwise what a
 * callback returned.  A subtree that occurs twice is walked twice.
 */
int cf_walk(const uint8_t root[static CF_ID_BYTES],
    const struct cf_walk_params *p);

/**
 * cf_walk_collect(root, load, ctx, out):
 * The set of ids reachable from ${root} (trees, lists, chunks; the root
 * included), sorted and without duplicates, for cf_delta_compute().
 * ${out} is cleared on entry and filled only on success.
 */
int cf_walk_collect(const uint8_t root[static CF_ID_BYTES],
    cf_walk_load_fn *load, void *ctx, struct cf_idset *out);

/* ---- One folder's entries (a leaf, or an index and its parts) ---- */

struct cf_folder {
	struct cf_tree *top;
	struct cf_tree **parts;
	size_t nparts;
	struct cf_tree_entry **e;	/* pointers into the trees, in order */
	size_t n;
};

/**
 * cf_folder_load(load, ctx, id, f):
 * Load the folder whose tree is ${id} (NULL: an empty folder) through
 * ${load}: its top tree and, for an index, every part, checked as one
 * folder (cf_tree_check_*).  ${f->e} lists the ${f->n} entries in order.
 * On error ${f} is left empty; the error is ${load}'s or the decoder's.
 */
int cf_folder_load(cf_walk_load_fn *load, void *ctx, const uint8_t *id,
    struct cf_folder *f);

/* Free what cf_folder_load made (an empty ${f} is fine). */
void cf_folder_free(struct cf_folder *f);

#endif /* !CF_TREE_H */
