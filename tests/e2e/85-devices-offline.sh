#!/bin/sh
# A removed device handed a copy of the server's whole store (issue #6;
# THREATS 29; DESIGN §1 "a removed device ... read anything written after
# its removal").  Three devices A, B, C of one account on a real cofferd;
# tests/removed_dev plays the removed device: its own key file plus a copy
# of the server's data folder (meta.db and the pack files), every envelope
# sealed to it opened without checks, every drive key it can unwrap, every
# stored object tried under every key.
# - the control: B, still trusted, opens every object of a copy (so the
#   tool works and the test cannot pass vacuously);
# - A removes B, pushes new files and makes a new drive: in a copy taken
#   then, every object written before the removal still opens for B, and
#   none written after does (the commit, the root tree, every new chunk,
#   the new drive's objects): each is sealed under a key B does not have;
# - a plain removal leaves B the drive's chunk-id key (DESIGN §1): B can
#   compute the id of a chunk pushed afterwards (it is in the store) but
#   not open it;
# - A removes C with --rekey and pushes a file: C computes the ids of a
#   chunk written before its removal (found in the store) but not that of
#   the file pushed after (no id C computes is in the store), and opens
#   nothing written after.
. "$(dirname "$0")/lib.sh"

# opens LIST OPENFILE WHAT: every "DRIVE ID" of LIST has an "open" line.
opens() {
	python3 - "$1" "$2" "$3" <<'PY' || exit 1
import sys
want = [l.split() for l in open(sys.argv[1]) if l.strip()]
got = {}
for l in open(sys.argv[2]):
    f = l.split()
    if f[0] == "open": got[(f[2], f[3])] = f[1]
    elif f[0] == "sealed": got[(f[1], f[2])] = None
bad = [w for w in want if got.get(tuple(w)) is None]
if not want or bad:
    print("FAIL: %s: %d of %d do not open, e.g. %s" % (sys.argv[3], len(bad), len(want), bad[:3]))
    sys.exit(1)
print("ok: %s: all %d open" % (sys.argv[3], len(want)))
PY
}
# sealed LIST OPENFILE WHAT: every "DRIVE ID" of LIST is "sealed ... key-unknown".
sealed() {
	python3 - "$1" "$2" "$3" <<'PY' || exit 1
import sys
want = [l.split() for l in open(sys.argv[1]) if l.strip()]
got = {}
for l in open(sys.argv[2]):
    f = l.split()
    if f[0] == "open": got[(f[2], f[3])] = "open " + f[1]
    elif f[0] == "sealed": got[(f[1], f[2])] = f[3]
bad = [(w, got.get(tuple(w))) for w in want if got.get(tuple(w)) != "key-unknown"]
if not want or bad:
    print("FAIL: %s: %d of %d are not sealed under an unknown key, e.g. %s" % (sys.argv[3], len(bad), len(want), bad[:3]))
    sys.exit(1)
print("ok: %s: none of %d opens (each under a key it lacks)" % (sys.argv[3], len(want)))
PY
}
# walk_ids HOME DRIVE: "DRIVE ID KIND" of the drive's head: its commit,
# every tree, list and chunk (forge walk as trusted device HOME).
walk_ids() {
	"$FORGE" --server "$SRV_URL" --home "$TMP/$1" --account "$DEV_ACCOUNT" walk --drive "$2" >"$TMP/walk" ||
	    fail "forge walk"
	_d=$("$FORGE" --server "$SRV_URL" --home "$TMP/$1" --account "$DEV_ACCOUNT" info --drive "$2" |
	    sed -n 's/^drive_id //p')
	awk -v d="$_d" '$1 == "commit" || $1 == "root" || $1 == "tree" || $1 == "list" || $1 == "chunk" { print d, $2, $1 }' "$TMP/walk" |
	    sort -u
}

srv_start "$TMP/data"
make_account A laptop
coffer_in A 0 --json drive create docs
$GEN 851 "$TMP/src" --files 12 >/dev/null
printf 'a small file, one chunk, written before the removals\n' >"$TMP/src/small-before"
coffer_in A 0 --json push docs "$TMP/src"
make_device B phone; BID=$JOINED
make_device C tablet; CID=$JOINED
coffer_in B 0 --json pull docs "$TMP/pullB"
$CMP --ignore-top "$TMP/src" "$TMP/pullB" || fail "B's pull differs"
objects >"$TMP/before"
[ -s "$TMP/before" ] || fail "no objects stored"

# ---- control: B, still trusted, opens every object of a copy ----
store_copy "$TMP/copy0"
"$REMOVED" open "$TMP/B" "$TMP/copy0" >"$TMP/open0" || fail "removed_dev open"
opens "$TMP/before" "$TMP/open0" "control: a trusted device opens every object of the copy"
grep -q '^epoch 1$' "$TMP/open0" || fail "B has no epoch key"

# ---- A removes B, then writes ----
coffer_in A 0 --json device remove "$BID"
[ "$(key epoch)" = 2 ] || fail "the removal does not start epoch 2"
# C looks at once: a device that misses two directory records in a row
# is refused today (session.c sync_dir fetches no records in between).
coffer_in C 0 --json status
printf 'a small file written after B was removed\n' >"$TMP/src/small-after"
echo "changed after the removal" >>"$(find "$TMP/src" -type f ! -name 'small-*' | sort | head -1)"
$GEN 852 "$TMP/src/new-after" --files 6 >/dev/null
coffer_in A 0 --json push docs "$TMP/src"
coffer_in A 0 --json drive create later
mkdir "$TMP/later"; echo "a drive made after the removal" >"$TMP/later/f"
coffer_in A 0 --json push later "$TMP/later"
coffer_in C 0 --json pull docs "$TMP/pullC"
$CMP --ignore-top "$TMP/src" "$TMP/pullC" || fail "C's pull differs"
store_copy "$TMP/copy1"
objects "$TMP/copy1" >"$TMP/after1"
comm -13 "$TMP/before" "$TMP/after1" >"$TMP/new1"
[ -s "$TMP/new1" ] || fail "nothing new was stored"
walk_ids A docs >"$TMP/head1"
grep ' commit$' "$TMP/head1" | cut -d' ' -f1,2 >"$TMP/head1.commit"
grep ' root$' "$TMP/head1" | cut -d' ' -f1,2 >"$TMP/head1.root"
grep ' chunk$' "$TMP/head1" | cut -d' ' -f1,2 | sort -u >"$TMP/head1.chunks"
comm -12 "$TMP/head1.chunks" "$TMP/new1" >"$TMP/head1.newchunks"
[ -s "$TMP/head1.newchunks" ] || fail "the new version has no new chunk (test defect)"
for f in commit root newchunks; do
	comm -23 "$TMP/head1.$f" "$TMP/new1" | grep -q . && fail "head1.$f not new"
done

"$REMOVED" open "$TMP/B" "$TMP/copy1" >"$TMP/open1" || fail "removed_dev open"
opens "$TMP/before" "$TMP/open1" "removed B, objects written before its removal"
sealed "$TMP/new1" "$TMP/open1" "removed B, every object first written after its removal"
sealed "$TMP/head1.commit" "$TMP/open1" "removed B, the new head commit"
sealed "$TMP/head1.root" "$TMP/open1" "removed B, the new root tree"
sealed "$TMP/head1.newchunks" "$TMP/open1" "removed B, the new chunks"
grep -q '^epoch 2$' "$TMP/open1" && fail "B obtained the key of epoch 2"
DOCS=$(head -1 "$TMP/head1" | cut -d' ' -f1)
grep -q "^key-sealed $DOCS 2$" "$TMP/open1" || fail "the drive key of epoch 2 is not listed sealed"
grep -q "^key $DOCS 2$" "$TMP/open1" && fail "B unwrapped the drive key of epoch 2"
LATER=$(walk_ids A later | head -1 | cut -d' ' -f1)
grep -q "^secret $LATER " "$TMP/open1" && fail "B unwrapped the new drive's secret"
grep -q "^secret-sealed $LATER 2$" "$TMP/open1" || fail "the new drive's secret is not listed sealed"

# A plain removal leaves B the chunk-id key (DESIGN §1): the id of a
# small file pushed afterwards is computable, and stored, yet sealed.
"$REMOVED" chunk-id "$TMP/B" "$TMP/copy1" "$TMP/src/small-before" >"$TMP/cid" || fail "chunk-id"
grep -q "^chunkid $DOCS 1 " "$TMP/cid" || fail "B has no chunk-id key of docs"
ID=$(awk -v d="$DOCS" '$2 == d { print $4 }' "$TMP/cid")
grep -q "^$DOCS $ID$" "$TMP/before" || fail "the tool's chunk id of small-before is not stored (tool broken)"
"$REMOVED" chunk-id "$TMP/B" "$TMP/copy1" "$TMP/src/small-after" >"$TMP/cid" || fail "chunk-id"
ID=$(awk -v d="$DOCS" '$2 == d { print $4 }' "$TMP/cid")
grep -q "^$DOCS $ID$" "$TMP/new1" || fail "plain removal: the id of small-after is not the one stored"
grep -q "^sealed $DOCS $ID key-unknown$" "$TMP/open1" || fail "B opens small-after"
echo "ok: plain removal: B computes the id of a chunk written after (the documented leak) but cannot open it"

# ---- A removes C with --rekey, then writes ----
coffer_in A 0 --json device remove "$CID" --rekey
[ "$(key rekeyed)" = true ] || fail "not rekeyed"
coffer_in C 4 '' --json status
objects >"$TMP/before2"
printf 'a small file written after C was removed with --rekey\n' >"$TMP/src/small-after2"
coffer_in A 0 --json push docs "$TMP/src"
store_copy "$TMP/copy2"
objects "$TMP/copy2" >"$TMP/after2"
comm -13 "$TMP/before2" "$TMP/after2" >"$TMP/new2"
"$REMOVED" open "$TMP/C" "$TMP/copy2" >"$TMP/open2" || fail "removed_dev open"
opens "$TMP/before" "$TMP/open2" "removed C, objects written before B's removal"
grep -q '^epoch 2$' "$TMP/open2" || fail "C lacks epoch 2 (it was trusted then)"
grep -q '^epoch 3$' "$TMP/open2" && fail "C obtained the key of epoch 3"
comm -13 "$TMP/after1" "$TMP/after2" >"$TMP/new12"
sealed "$TMP/new12" "$TMP/open2" "removed C, every object first written after its removal (--rekey)"
grep -q "^secret-sealed $DOCS 3$" "$TMP/open2" || fail "the new drive secret is not listed sealed"
# The ids: C computes the stored id of a chunk from before, and no id of
# the file pushed after its removal.
"$REMOVED" chunk-id "$TMP/C" "$TMP/copy2" "$TMP/src/small-after" >"$TMP/cid" || fail "chunk-id"
ID=$(awk -v d="$DOCS" '$2 == d { print $4 }' "$TMP/cid")
[ -n "$ID" ] && grep -q "^$DOCS $ID$" "$TMP/after2" ||
    fail "C's id of small-after (written while C was trusted) is not stored (tool broken)"
"$REMOVED" chunk-id "$TMP/C" "$TMP/copy2" "$TMP/src/small-after2" >"$TMP/cid" || fail "chunk-id"
[ "$(grep -c "^chunkid $DOCS " "$TMP/cid")" -ge 1 ] || fail "C has no chunk-id key at all"
grep -q "^chunkid $DOCS 3 " "$TMP/cid" && fail "C has the new chunk-id key"
awk '{ print $2, $4 }' "$TMP/cid" >"$TMP/cid.ids"
sort -u "$TMP/cid.ids" | comm -12 - "$TMP/after2" | grep -q . &&
    fail "C computed the id of a chunk pushed after its removal with --rekey"
echo "ok: --rekey: C computes no id of a chunk pushed after its removal (and does for one before)"
coffer_in A 0 --json pull docs "$TMP/pullA"
$CMP --ignore-top "$TMP/src" "$TMP/pullA" || fail "A's pull differs"

srv_stop
echo "85-devices-offline: ok"
