#!/bin/sh
# Updates withheld (issue #6; THREATS 30): the server keeps a frozen copy
# of its store and answers device B from it while A writes.  What coffer
# guarantees, and where its limit is (docs/THREATS-COVERAGE.md, case 30):
# - B alone cannot tell: its pull of the frozen view succeeds with the
#   old version (exit 0) and its status says version 1 -- the test pins
#   this down, so that a claim of more is never made silently;
# - the safety codes A and B show right after a sync differ while the
#   update is withheld, and agree again once it is not: comparing them
#   (out of band, as 'status' and the refusal messages tell the user to)
#   exposes the withholding;
# - a device's own writes cannot be withheld from it: A, served the
#   frozen view after it pushed version 2, refuses it (exit 3) and
#   nothing it pinned moves;
# - once the update is served, B takes it exactly.
# shellcheck disable=SC2046 # set -- $(code_and_version X): its two words, split on purpose
. "$(dirname "$0")/lib.sh"

# code_and_version HOME: "SAFETY_CODE VERSION_OF_docs" from 'status'.
code_and_version() {
	coffer_in "$1" 0 --json status
	python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read().splitlines()[-1]); d=[x for x in o["drives"] if x["name"]=="docs"]; print(o["safety_code"], d[0]["version"])' "$TMP/out"
}
# serve DATA: cofferd answers from DATA from now on (same port, same URL).
serve() { srv_stop; srv_restart "$1"; }

srv_start "$TMP/data"
make_account A laptop
coffer_in A 0 --json drive create docs
$GEN 871 "$TMP/src" --files 8 >/dev/null
coffer_in A 0 --json push docs "$TMP/src"
make_device B phone
coffer_in B 0 --json pull docs "$TMP/pullB1"
$CMP --ignore-top "$TMP/src" "$TMP/pullB1" || fail "B's pull differs"
cp -a "$TMP/src" "$TMP/src.v1"
set -- $(code_and_version A); SA=$1
set -- $(code_and_version B); SB=$1
[ "$SA" = "$SB" ] || fail "honest server: the codes differ ($SA, $SB)"

# The server freezes B's view: a copy of its store as it is now.
srv_stop
cp -a "$TMP/data" "$TMP/frozen"
srv_restart "$TMP/data"
echo "written while B's view is frozen" >"$TMP/src/new"
coffer_in A 0 --json push docs "$TMP/src"
[ "$(key version)" = 2 ] || fail "A's push is not version 2"
set -- $(code_and_version A); SA=$1; [ "$2" = 2 ] || fail "A's status: version $2"

# B is served the frozen store.
serve "$TMP/frozen"
T0=$(date +%s)
coffer_in B 0 --json pull docs "$TMP/pullB2"
$CMP --ignore-top "$TMP/src.v1" "$TMP/pullB2" || fail "B's pull of the frozen view is not version 1"
set -- $(code_and_version B); SB=$1
[ "$2" = 1 ] || fail "B's status: version $2"
python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read().splitlines()[-1]); assert o["drives"][0]["verified_at"] >= int(sys.argv[2]), o' \
    "$TMP/out" "$T0" || fail "B's verified_at is not the time of its sync"
echo "ok: withheld: B alone cannot tell (pull exit 0, version 1, 'verified' now)"
[ "$SA" != "$SB" ] || fail "withheld: the safety codes agree ($SA)"
echo "ok: withheld: the safety codes of A and B differ ($SA, $SB)"

# A's own version 2 withheld from A: refused, nothing pinned moves.
snapshot "$TMP/A" "$TMP/snapA"
mkdir -p "$TMP/pulls"
coffer_in A 3 '' --json status
coffer_in A 3 '' --json pull docs "$TMP/pulls/a"
[ ! -e "$TMP/pulls/a" ] || [ -z "$(ls -A "$TMP/pulls/a")" ] || fail "A wrote something"
assert_unchanged "$TMP/A" "$TMP/snapA" "A served the frozen view"
echo "ok: withheld from its own writer: A refuses the view without its version 2 (exit 3), nothing written"

# The withholding ends: B takes version 2, the codes agree again.
serve "$TMP/data"
coffer_in B 0 --json pull docs "$TMP/pullB3"
$CMP --ignore-top "$TMP/src" "$TMP/pullB3" || fail "B's pull of version 2 differs"
set -- $(code_and_version B); SB=$1; [ "$2" = 2 ] || fail "B's status: version $2"
set -- $(code_and_version A); SA=$1
[ "$SA" = "$SB" ] || fail "served again: the codes differ ($SA, $SB)"
echo "ok: served again: B takes version 2, the codes agree"

srv_stop
echo "87-devices-withheld: ok"
