#!/bin/sh
# Adversarial (issue #5; THREATS 2, 16, 17, 19, 21, 24, 35, 37): a server
# that serves the wrong object.  Through the man-in-the-middle proxy:
# - an object swapped for another of the same drive (chunk for chunk, tree
#   for tree, a chunk where a tree is expected, a tree for the commit);
# - an object from another drive of the same account;
# - a chunk, a tree or the commit dropped, short by a byte, cut short;
# - a new chunk of version 2 flipped or dropped while version 1 is in the
#   target (--overwrite): nothing but verified files change;
# - the same tampering twice: the same refusal, no retry loop;
# - check --read-data on a flipped chunk.
# Each `coffer pull` exits 3 and leaves nothing unverified (lib.sh
# pull_refused).  Without a rule the same pulls are exact.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull

srv_proxy_start "$TMP/data"
proxy_account
$GEN 70 "$TMP/src" --files 12
ADV_SRC="$TMP/src"
push docs "$TMP/src"
$GEN 71 "$TMP/pics" --files 4 --no-big
push pics "$TMP/pics"

walk docs
COMMIT=$(sed -n 's/^commit //p' "$TMP/walk")
ROOT=$(sed -n 's/^root //p' "$TMP/walk")
SUB=$(field tree 2)
CH1=$(field chunk 1)
CH2=$(field chunk 2)
BIG=$(awk '$1 == "chunk" && $3 > 500000 { print $2; exit }' "$TMP/walk")
for v in COMMIT ROOT SUB CH1 CH2 BIG; do
	eval "x=\$$v"
	[ -n "$x" ] || fail "no $v in the version (forge walk)"
done
walk pics
PROOT=$(sed -n 's/^root //p' "$TMP/walk")
PCH=$(field chunk 1)
$F raw --drive pics --id "$PCH" --out "$TMP/pics-chunk" || fail "forge raw"
$F raw --drive pics --id "$PROOT" --out "$TMP/pics-root" || fail "forge raw"

# Control: no rule, an exact copy.
pull_ok docs "$TMP/pulls/ok"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/ok" || fail "the untampered pull is not exact"
rm -rf "$TMP/pulls/ok"
mkdir "$TMP/pulls/t"
T="$TMP/pulls/t"

# Swapped for another object of the same drive.  (A bad chunk is found as
# its file is written: TOUCH_OK, see lib.sh.)
TOUCH_OK=1
rules "[{\"op\": \"replace\", \"id\": \"$CH1\", \"with_id\": \"$CH2\"}]"
arm; pull_refused "chunk swapped for another chunk" docs "$T"
TOUCH_OK=
rules "[{\"op\": \"replace\", \"id\": \"$SUB\", \"with_id\": \"$ROOT\"}]"
arm; pull_refused "subtree swapped for the root tree" docs "$T"
rules "[{\"op\": \"replace\", \"id\": \"$ROOT\", \"with_id\": \"$SUB\"}]"
arm; pull_refused "root tree swapped for a subtree" docs "$T"
rules "[{\"op\": \"replace\", \"id\": \"$SUB\", \"with_id\": \"$CH1\"}]"
arm; pull_refused "chunk served where a tree is expected" docs "$T"
rules "[{\"op\": \"replace\", \"id\": \"$COMMIT\", \"with_id\": \"$ROOT\"}]"
arm; pull_refused "tree served where the commit is expected" docs "$T"

# An object of another drive of the same account.
rules "[{\"op\": \"replace\", \"id\": \"$CH1\", \"file\": \"$TMP/pics-chunk\"}]"
TOUCH_OK=1
arm; pull_refused "chunk from another drive" docs "$T"
TOUCH_OK=
rules "[{\"op\": \"replace\", \"id\": \"$ROOT\", \"file\": \"$TMP/pics-root\"}]"
arm; pull_refused "root tree from another drive" docs "$T"

# Dropped or truncated.
for what in CH1 BIG SUB COMMIT; do
	eval "id=\$$what"
	case $what in CH1|BIG) TOUCH_OK=1 ;; *) TOUCH_OK= ;; esac
	rules "[{\"op\": \"drop\", \"id\": \"$id\"}]"
	arm; pull_refused "$what dropped" docs "$T"
	rules "[{\"op\": \"truncate\", \"id\": \"$id\", \"len\": -1}]"
	arm; pull_refused "$what short by one byte" docs "$T"
	rules "[{\"op\": \"truncate\", \"id\": \"$id\", \"len\": 200}]"
	arm; pull_refused "$what cut to 200 bytes" docs "$T"
done

# Into a populated target with --overwrite: version 1 is there; version 2
# changes one file; its new chunk is flipped: nothing changes on disk.
rules '[]'
TOUCH_OK=1
pull_ok docs "$TMP/pulls/pop"
walk docs
sort "$TMP/walk" >"$TMP/walk1"
python3 - "$TMP/src/text.txt" <<'PYEOF'
import os, sys
p = sys.argv[1]; st = os.lstat(p)
os.chmod(p, 0o644)
with open(p, "ab") as f: f.write(b"version 2\n")
os.utime(p, ns=(st.st_mtime_ns + 1, st.st_mtime_ns + 1))
PYEOF
push docs "$TMP/src"
walk docs
sort "$TMP/walk" >"$TMP/walk2"
NEW=$(comm -13 "$TMP/walk1" "$TMP/walk2" | awk '$1 == "chunk" { print $2; exit }')
[ -n "$NEW" ] || fail "version 2 has no new chunk"
rules "[{\"op\": \"flip\", \"id\": \"$NEW\", \"byte\": -1, \"bit\": 0}]"
arm; pull_refused "new chunk of version 2 flipped, --overwrite" docs "$TMP/pulls/pop" --overwrite
rules "[{\"op\": \"drop\", \"id\": \"$NEW\"}]"
arm; pull_refused "new chunk of version 2 dropped, --overwrite" docs "$TMP/pulls/pop" --overwrite
rules '[]'
pull_ok docs "$TMP/pulls/pop" --overwrite
$CMP --ignore-top "$TMP/src" "$TMP/pulls/pop" || fail "version 2 over version 1 is not exact"

# The same tampered commit twice: the same refusal each time (exit 3, the
# same message), and the object fetched once per pull (no retry loop on a
# failed check; THREATS 2, 37).
TOUCH_OK=
HEADC=$(sed -n 's/^commit //p' "$TMP/walk")
rules "[{\"op\": \"flip\", \"id\": \"$HEADC\", \"byte\": 100, \"bit\": 5}]"
arm; h0=$ARMED
pull_refused "the same tampered commit, first time" docs "$TMP/pulls/pop" --overwrite
cp "$TMP/pull.err" "$TMP/err1"
arm; h1=$ARMED
pull_refused "the same tampered commit, second time" docs "$TMP/pulls/pop" --overwrite
cmp -s "$TMP/err1" "$TMP/pull.err" || fail "two refusals of the same tampering differ"
h2=$(hits)
[ $((h1 - h0)) = 1 ] && [ $((h2 - h1)) = 1 ] ||
    fail "the tampered commit was fetched $((h1 - h0)) and $((h2 - h1)) times (want once per pull)"
echo "ok: the same tampered commit twice: the same refusal, fetched once each"
rules '[]'

# check --read-data reads every chunk: a flipped one is exit 3 there too.
if have_client check; then
	rules "[{\"op\": \"flip\", \"id\": \"$BIG\", \"byte\": 200, \"bit\": 1}]"
	arm
	expect_exit 3 '' "$COFFER" check --read-data
	[ "$(hits)" -gt "$ARMED" ] || fail "check --read-data never fetched the chunk"
	echo "ok: check --read-data: flipped chunk refused (exit 3)"
	rules '[]'
	expect_exit 0 "$COFFER" check --read-data
else
	echo "SKIP: check --read-data (coffer check not built yet)"
fi
srv_stop
echo "ok: every tampered object refused"

