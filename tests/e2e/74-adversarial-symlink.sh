#!/bin/sh
# Adversarial (issue #5; THREATS 25, DESIGN §7 pull safety): symlinks
# planted in the target before `coffer pull --overwrite`, where the version
# has a folder or a file of the same name:
#   a     -> a folder outside       (the version has folder a/ with files)
#   b     -> a file outside         (the version has file b)
#   c/d   -> a folder outside       (the version has folder c/d/)
#   e     -> a file outside         (the version has symlink e -> elsewhere)
#   link-dir -> a folder outside    (the version has the same name as a symlink)
# Each is replaced without being followed: exit 0, nothing outside the
# target changes (snapshot of every name, mode, mtime and byte), and the
# target then equals the version exactly (compare_tree.py).  A local file
# the version lacks is kept (no --delete).
. "$(dirname "$0")/lib.sh"
need_client account drive push pull

srv_proxy_start "$TMP/data"
proxy_account
SRC="$TMP/src"
$GEN 74 "$SRC" --files 5 --no-big
mkdir -p "$SRC/a" "$SRC/c/d"
printf 'in a\n' >"$SRC/a/f"
printf 'file b\n' >"$SRC/b"
printf 'in c/d\n' >"$SRC/c/d/g"
ln -s elsewhere "$SRC/e"
push docs "$SRC"

OUT="$TMP/outside"
mkdir -p "$OUT/dir" "$OUT/dir2"
printf 'victim\n' >"$OUT/victim"
printf 'victim2\n' >"$OUT/victim2"
printf 'keep\n' >"$OUT/dir/f"
snapshot "$OUT" "$TMP/snap.outside"

T="$TMP/pulls/t"
mkdir -p "$T/c"
ln -s "$OUT/dir" "$T/a"
ln -s "$OUT/victim" "$T/b"
ln -s "$OUT/dir2" "$T/c/d"
ln -s "$OUT/victim2" "$T/e"
ln -s "$OUT/dir" "$T/link-dir"
printf 'mine\n' >"$T/local-only"

pull_ok docs "$T" --overwrite
assert_unchanged "$OUT" "$TMP/snap.outside"
for p in a c/d; do
	[ -d "$T/$p" ] && [ ! -L "$T/$p" ] || fail "$p is not a real folder after the pull"
done
[ -f "$T/b" ] && [ ! -L "$T/b" ] || fail "b is not a regular file after the pull"
[ "$(readlink "$T/e")" = elsewhere ] || fail "e is not the version's symlink"
[ "$(cat "$T/local-only")" = mine ] || fail "a local file the version lacks was not kept"
rm "$T/local-only"
$CMP --ignore-top "$SRC" "$T" || fail "the target is not the version after replacing the planted symlinks"
echo "ok: planted symlinks replaced, never followed; nothing outside the target changed"

# The same with the planted links inside a folder the version only adds to.
T2="$TMP/pulls/t2"
mkdir -p "$T2"
ln -s "$OUT/dir" "$T2/a"
ln -s "$OUT" "$T2/c"
pull_ok docs "$T2" --overwrite
assert_unchanged "$OUT" "$TMP/snap.outside"
$CMP --ignore-top "$SRC" "$T2" || fail "second target not exact"
srv_stop
echo "ok: planted symlinks"
