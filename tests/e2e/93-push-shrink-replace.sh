#!/bin/sh
# push and the head it replaces (issue #18):
# 4. an empty folder over a non-empty head, or a folder that drops more
#    than half of the head's files (an unmounted disk, a wrong folder),
#    is refused: exit 1 with the reason, the server's head and objects
#    unchanged; dropping half is allowed; --allow-shrink pushes it.
# 3. a push that replaces a head another device wrote since this device
#    last looked says so on stderr and in JSON (replaced_other: {version,
#    device}), names the version that stays in the history and points at
#    'coffer sync'; that version pulls back; a head this device wrote, or
#    one it had already seen, is replaced silently.
. "$(dirname "$0")/lib.sh"

srv_start "$TMP/data"
make_account A laptop
coffer_in A 0 --json drive create docs
heads() { sql 'select version from drives'; }
nobj() { sql 'select count(*) from objects'; }
have_key() { tail -1 "$TMP/out" | python3 -c 'import json,sys; sys.exit(0 if sys.argv[1] in json.load(sys.stdin) else 1)' "$1"; }

# ---- 4: shrink ----
S="$TMP/s"
mkdir -p "$S/d1" "$S/d2"
for i in 1 2 3 4 5 6; do printf 'file %s\n' $i >"$S/d1/f$i"; done
for i in 7 8 9 10; do printf 'file %s\n' $i >"$S/d2/f$i"; done
coffer_in A 0 --json push docs "$S"
[ "$(heads)" = 1 ] || fail "no version 1"
mkdir "$TMP/empty"
o0=$(nobj)
coffer_in A 1 '' --json push docs "$TMP/empty"
grep -q "refused: '$TMP/empty' is empty, where the newest version of 'docs' has 10 files: pushing it would drop 10" "$TMP/out" || { cat "$TMP/out"; fail "empty folder: no reason"; }
grep -q 'allow-shrink' "$TMP/out" || fail "empty folder: --allow-shrink not named"
grep -q 'No version was made;' "$TMP/out" || fail "empty folder: no version made is not said"
grep -q 'bytes were uploaded\|Nothing was pushed' "$TMP/out" && fail "empty folder: uploads told that did not happen"
[ "$(heads)" = 1 ] && [ "$(nobj)" = "$o0" ] || fail "a refused push changed the server"
# A folder whose files went except 4 (d1 gone: 6 of 10 dropped).
cp -a "$S" "$TMP/s-most"; rm -rf "$TMP/s-most/d1"
coffer_in A 1 '' --json push docs "$TMP/s-most"
grep -q 'lacks most of its files, where the newest version of .docs. has 10 files: pushing it would drop 6' "$TMP/out" || { cat "$TMP/out"; fail "drop 6 of 10: no reason"; }
[ "$(heads)" = 1 ] && [ "$(nobj)" = "$o0" ] || fail "a refused push changed the server"
# Dropping exactly half (5 of 10), with a new file: allowed.
cp -a "$S" "$TMP/s-half"; rm -f "$TMP/s-half/d1/f1" "$TMP/s-half/d1/f2" "$TMP/s-half/d1/f3" "$TMP/s-half/d2/f7" "$TMP/s-half/d2/f8"
printf 'new\n' >"$TMP/s-half/d2/new"
coffer_in A 0 --json push docs "$TMP/s-half"
[ "$(key version)" = 2 ] || fail "dropping half was refused"
# --allow-shrink: the empty folder goes up.
coffer_in A 0 --json push docs "$TMP/empty" --allow-shrink
[ "$(key version)" = 3 ] && [ "$(heads)" = 3 ] || fail "--allow-shrink did not push"
coffer_in A 0 --json ls docs
[ "$(grep -c '"name"' "$TMP/out")" = 0 ] || fail "version 3 is not empty"
# Over an empty head, an empty folder is no shrink.
coffer_in A 0 --json push docs "$TMP/empty"
coffer_in A 0 --json push docs "$S"
echo "ok: a push that drops most of the head is refused unless --allow-shrink"

# ---- 3: another device's head replaced ----
make_device B phone
AID=$(device_id A); BID=$(device_id B)
coffer_in B 0 --json pull docs "$TMP/b"		# B has looked: version 4
mkdir "$TMP/sa"; cp -a "$S/." "$TMP/sa/"; printf 'from A\n' >"$TMP/sa/a.txt"
coffer_in A 0 --json push docs "$TMP/sa"		# version 5, by A
have_key replaced_other && fail "A replacing its own head was reported"
grep -q 'replaced it' "$TMP/err" && fail "A replacing its own head was told"
mkdir "$TMP/sb"; cp -a "$S/." "$TMP/sb/"; printf 'from B\n' >"$TMP/sb/b.txt"
coffer_in B 0 --json push docs "$TMP/sb"		# version 6, over A's 5 unseen by B
[ "$(key version)" = 6 ] || fail "B's push is not version 6"
tail -1 "$TMP/out" | python3 -c '
import json, sys
o = json.load(sys.stdin)["replaced_other"]
assert o == {"version": 5, "device": sys.argv[1]}, o' "$AID" || fail "JSON replaced_other is not {5, A}"
grep -q "version 5 of 'docs', written by another device (${AID%"${AID#????????????????}"}) since this device last looked" "$TMP/err" || { cat "$TMP/err"; fail "B was not told it replaced A's version"; }
grep -q "coffer pull docs DIR --version 5" "$TMP/err" || fail "the version in the history is not named"
grep -q "coffer sync" "$TMP/err" || fail "no pointer to coffer sync"
coffer_in B 0 --json pull docs "$TMP/b5" --version 5
[ "$(cat "$TMP/b5/a.txt")" = "from A" ] && [ ! -e "$TMP/b5/b.txt" ] || fail "version 5 does not pull back"
# B again, over its own head: nothing to say.
printf 'again\n' >>"$TMP/sb/b.txt"
coffer_in B 0 --json push docs "$TMP/sb"
have_key replaced_other && fail "B replacing its own head was reported"
# A had last looked at 5: 6 and 7 are B's; A is told about 7, the head.
coffer_in A 0 --json push docs "$TMP/sa"
tail -1 "$TMP/out" | python3 -c '
import json, sys
o = json.load(sys.stdin)["replaced_other"]
assert o == {"version": 7, "device": sys.argv[1]}, o' "$BID" || fail "JSON replaced_other is not {7, B}"
# replaced AUTHOR VERSION: the last push told of AUTHOR's VERSION.
replaced() {
	tail -1 "$TMP/out" | python3 -c '
import json, sys
o = json.load(sys.stdin).get("replaced_other")
assert o == {"version": int(sys.argv[2]), "device": sys.argv[1]}, o' "$1" "$2" || { cat "$TMP/out" "$TMP/err"; fail "JSON replaced_other is not {$2, $1}"; }
	grep -q "version $2 of 'docs', written by another device" "$TMP/err" || { cat "$TMP/err"; fail "version $2 is not named on stderr"; }
}
# status syncs the pin but shows no files: B is still told of A's 8.
coffer_in B 0 --json status
printf 'b3\n' >>"$TMP/sb/b.txt"
coffer_in B 0 --json push docs "$TMP/sb"		# 9, over A's 8
replaced "$AID" 8
# A pull of the head is a look: B is not told of the head it pulled.
coffer_in A 0 --json push docs "$TMP/sa"		# 10, by A (told of B's 9)
replaced "$BID" 9
coffer_in B 0 --json pull docs "$TMP/b10"
printf 'b4\n' >>"$TMP/sb/b.txt"
coffer_in B 0 --json push docs "$TMP/sb"		# 11, over the 10 B pulled
have_key replaced_other && fail "a head B had pulled was reported"
grep -q 'written by another device' "$TMP/err" && fail "a head B had pulled was told"
echo "ok: status does not hide a replaced version; a pull of the head does"

# ---- 1, 2: a push that failed is no look; a refusal tells its uploads ----
printf 'a2\n' >>"$TMP/sa/a.txt"
coffer_in A 0 --json push docs "$TMP/sa"		# 12, by A, 11 files
[ "$(heads)" = 12 ] || fail "A's push is not version 12"
# B's folder lost d1 (7 of 11 files gone) and has 6 MiB of new files,
# more than one upload batch (4 MiB): batches go up before the check.
mkdir -p "$TMP/sbig"; cp -a "$S/d2" "$TMP/sbig/"
for i in 1 2 3; do head -c 2097152 /dev/urandom >"$TMP/sbig/big$i"; done
o0=$(nobj)
coffer_in B 1 '' --json push docs "$TMP/sbig"
grep -q "refused: '$TMP/sbig' lacks most of its files, where the newest version of 'docs' has 11 files: pushing it would drop 7" "$TMP/out" || { cat "$TMP/out"; fail "drop 7 of 11: no reason"; }
grep -q 'Nothing was pushed' "$TMP/out" && fail "a refusal after uploads says nothing was pushed"
up=$(sed -n 's/.*No version was made (\([0-9]*\) bytes were uploaded; unused, they are freed by a later prune).*/\1/p' "$TMP/out")
[ -n "$up" ] && [ "$up" -gt 4194304 ] || { cat "$TMP/out"; fail "the refusal does not tell the bytes uploaded"; }
[ "$(heads)" = 12 ] || fail "a refused push moved the head"
[ "$(nobj)" -gt "$o0" ] || fail "no batch went up before the check (the test proves nothing)"
# The refused run synced B's pin to 12; the retry must still tell of it.
coffer_in B 0 --json push docs "$TMP/sbig" --allow-shrink
[ "$(key version)" = 13 ] || fail "--allow-shrink did not push version 13"
replaced "$AID" 12
grep -q "coffer pull docs DIR --version 12" "$TMP/err" || fail "the version in the history is not named"
echo "ok: a failed push hides no replaced version; a refusal tells what went up"
srv_stop
echo "ok: replacing another device's head is told, with the version to pull back"
