#!/bin/sh
# A change past the cap on one reference delta (issue #5): with the cap
# lowered for the test (COFFER_TEST_DELTA_CAP, lib/client/push_split.c), the
# client pushes it as several versions, each a valid snapshot whose delta
# fits: a first push of a whole tree, then a change that removes, edits
# and adds many files, one folder alone past the cap (mixed one level
# down).  Checked: more versions than pushes; every stored delta within
# the cap; the server's live set rebuilt from the deltas equals the
# client-side walk of every version, and its kept live set equals the
# head's walk; the head pulls back equal to the folder; an unchanged push
# makes no version.  And a single file past the cap is refused (ETOOBIG,
# exit 1) with the head still a valid version that pulls back whole.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull log

CAP=40
srv_proxy_start "$TMP/data"
proxy_account gwen
$GEN 661 "$TMP/s" --files 60 --max-size 20000 --no-big >/dev/null
mkdir -p "$TMP/s/big/inner"
i=0
while [ $i -lt 70 ]; do
	printf 'file %d of the big folder\n' $i >"$TMP/s/big/inner/f$i"
	i=$((i + 1))
done

COFFER_TEST_DELTA_CAP=$CAP
export COFFER_TEST_DELTA_CAP
push docs "$TMP/s"
expect_exit 0 "$COFFER" --json log docs
V1=$(wc -l <"$TMP/out")
[ "$V1" -gt 2 ] || fail "the first push made $V1 versions; want several"
rm -rf "$TMP/back1"
expect_exit 0 "$COFFER" pull docs "$TMP/back1"
python3 "$TESTS/compare_tree.py" --ignore-top "$TMP/s" "$TMP/back1" ||
	fail "the head differs from the folder after a split push"

# Remove, edit and add many files: starts and stops past the cap.
chmod -R u+w "$TMP/s"
find "$TMP/s/big/inner" -name 'f[0-3]*' -exec rm -f {} +
i=0
while [ $i -lt 60 ]; do
	printf 'new file %d\n' $i >"$TMP/s/big/added$i"
	i=$((i + 1))
done
# (names with spaces and newlines: edited from Python, not a shell loop)
python3 - "$TMP/s" <<'PYEOF' || fail "editing files"
import os, sys
top = os.fsencode(sys.argv[1])
names = sorted(n for n in os.listdir(top)
               if os.path.isfile(os.path.join(top, n)) and
               not os.path.islink(os.path.join(top, n)))
for n in names[:20]:
    p = os.path.join(top, n)
    os.chmod(p, 0o644)
    with open(p, "ab") as f:
        f.write(b"edited\n")
PYEOF
push docs "$TMP/s"
expect_exit 0 "$COFFER" --json log docs
V2=$(wc -l <"$TMP/out")
[ "$V2" -gt $((V1 + 1)) ] || fail "the second push made $((V2 - V1)) versions; want several"
rm -rf "$TMP/back2"
expect_exit 0 "$COFFER" pull docs "$TMP/back2"
python3 "$TESTS/compare_tree.py" --ignore-top "$TMP/s" "$TMP/back2" ||
	fail "the head differs from the folder after the second split push"
push docs "$TMP/s"
grep -q '"unchanged":true' "$TMP/out" || fail "an unchanged push made a version"

i=0
expect_exit 0 "$COFFER" --json log docs
sed -n 's/.*"commit":"\([0-9a-f]*\)".*/\1/p' "$TMP/out" >"$TMP/commits"
[ "$(wc -l <"$TMP/commits")" = "$V2" ] || fail "log and commits disagree"
while read -r c; do
	i=$((i + 1))
	$F walk --drive docs --commit "$c" >"$TMP/walk.$i" || fail "forge walk $i"
done <"$TMP/commits"
python3 "$TESTS/deltas_check.py" "$TMP/data/meta.db" "$DOCS" "$TMP/walk" "$V2" "$CAP" || fail "the split versions' deltas are wrong"

# One file past the cap cannot be split: refused, the head still whole.
COFFER_TEST_DELTA_CAP=16
head -c 24000000 /dev/urandom >"$TMP/s/huge.bin"
expect_exit 1 '' "$COFFER" --json push docs "$TMP/s"
expect_exit 0 "$COFFER" --json log docs
V3=$(wc -l <"$TMP/out")
rm -rf "$TMP/back3"
expect_exit 0 "$COFFER" pull docs "$TMP/back3"
[ ! -e "$TMP/back3/huge.bin" ] || fail "a version holds the file past the cap"
rm -f "$TMP/s/huge.bin"
[ "$V3" -ge "$V2" ] || fail "versions went missing"
if [ "$V3" = "$V2" ]; then
	python3 "$TESTS/compare_tree.py" --ignore-top "$TMP/s" "$TMP/back3" ||
		fail "the head changed although nothing was committed"
fi
unset COFFER_TEST_DELTA_CAP
proxy_stop
srv_stop
echo "ok: a change past the delta cap goes up as several versions"
