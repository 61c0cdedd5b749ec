#!/bin/sh
# Adversarial (issue #5; THREATS 18, 19, 23, 26): an intruder who edits the
# server's store at rest (tests/store_edit.py on meta.db and the pack
# files, while cofferd runs):
# - a bit flipped in a chunk's stored bytes, and in the commit's;
# - a chunk's row pointed at another chunk's bytes (a swap at rest);
# - the commit's row pointed at the previous commit's bytes;
# - the drive head set back to version 1 after this device verified 2.
# Each `coffer pull` exits 3 and changes nothing on disk; each edit undone,
# the pull succeeds and is exact.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull
EDIT="python3 $TESTS/store_edit.py $TMP/data"

srv_proxy_start "$TMP/data"
proxy_account
ARMED=
$GEN 75 "$TMP/src" --files 8 --no-big
ADV_SRC="$TMP/src"
push docs "$TMP/src"
walk docs
C1=$(sed -n 's/^commit //p' "$TMP/walk")
printf 'two\n' >"$TMP/src/two"
push docs "$TMP/src"
walk docs
C2=$(sed -n 's/^commit //p' "$TMP/walk")
CH1=$(field chunk 1)
CH2=$(field chunk 2)
[ -n "$C1" ] && [ -n "$C2" ] && [ -n "$CH1" ] && [ -n "$CH2" ] || fail "forge walk"
pull_ok docs "$TMP/pulls/ok"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/ok" || fail "not exact before the edits"
rm -rf "$TMP/pulls/ok"
mkdir "$TMP/pulls/t"
T="$TMP/pulls/t"

# (A bad chunk is found as its file is written: TOUCH_OK, see lib.sh.)
TOUCH_OK=1
$EDIT flip "$DOCS" "$CH1" 150 3 || fail "store_edit flip"
pull_refused "chunk bit flipped in the pack file" docs "$T"
$EDIT flip "$DOCS" "$CH1" 150 3 || fail "store_edit flip back"

TOUCH_OK=
$EDIT flip "$DOCS" "$C2" -1 0 || fail "store_edit flip"
pull_refused "commit bit flipped in the pack file" docs "$T"
$EDIT flip "$DOCS" "$C2" -1 0 || fail "store_edit flip back"

L1=$($EDIT show "$DOCS" "$CH1")
$EDIT point "$DOCS" "$CH1" "$CH2" || fail "store_edit point"
TOUCH_OK=1
pull_refused "chunk row pointed at another chunk's bytes" docs "$T"
TOUCH_OK=
# shellcheck disable=SC2086 # the location's fields, split on purpose
$EDIT setloc "$DOCS" "$CH1" $L1 || fail "store_edit setloc"

LC=$($EDIT show "$DOCS" "$C2")
$EDIT point "$DOCS" "$C2" "$C1" || fail "store_edit point"
pull_refused "commit 2's row pointed at commit 1's bytes" docs "$T"
# shellcheck disable=SC2086 # the location's fields, split on purpose
$EDIT setloc "$DOCS" "$C2" $LC || fail "store_edit setloc"

$EDIT head "$DOCS" 1 "$C1" || fail "store_edit head"
pull_refused "head set back to version 1 in meta.db" docs "$T"
$EDIT head "$DOCS" 2 "$C2" || fail "store_edit head"

pull_ok docs "$T"
$CMP --ignore-top "$TMP/src" "$T" || fail "not exact after the edits were undone"
srv_stop
echo "ok: every edit at rest refused"
