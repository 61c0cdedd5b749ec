#!/bin/sh
# An approval that fails to reach the server after the add-device entry
# went in (the server fails the upload once): a second 'device approve'
# with the same code sends only the approval again, naming the entry
# already in the chain (no second entry), and the join completes.  A
# device already in the chain that this device did not add with the
# request's keys stays refused (exit 3).
. "$(dirname "$0")/lib.sh"

srv_start "$TMP/data"
make_account A laptop
coffer_in A 0 --json drive create docs
$GEN 881 "$TMP/src" --files 8 >/dev/null
coffer_in A 0 --json push docs "$TMP/src"

join_start B phone 120
# The server's store refuses to record the approval, once.
sql "CREATE TRIGGER no_approval BEFORE UPDATE OF approval ON joins
     BEGIN SELECT RAISE(ABORT, 'injected'); END"
if COFFER_HOME="$TMP/A" "$COFFER" --json device approve "$CODE" >"$TMP/out" 2>"$TMP/err"
then fail "approve succeeded although the server refused the approval"; fi
cat "$TMP/out" "$TMP/err"
grep -q 'Sanitizer\|runtime error' "$TMP/err" && { cat "$TMP/err"; fail "sanitizer report"; }
[ "$(chain_len)" = 2 ] || fail "the add entry should be in the chain ($(chain_len))"
[ "$(sql 'select count(*) from joins where approval is not null')" = 0 ] ||
    fail "an approval was stored"
# B is still waiting, not joined.
[ ! -s "$TMP/join.rc" ] || fail "join ended early: $(cat "$TMP/join.rc")"

sql "DROP TRIGGER no_approval"
coffer_in A 0 --json device approve "$CODE"
[ "$(key name)" = phone ] || fail "the retried approval names the device"
join_wait 0
[ "$(key approved)" = "$JOINED" ] || fail "approved id is not the joined id"
[ "$(chain_len)" = 2 ] || fail "the retry appended a second entry ($(chain_len))"

# The joined device works: it reads what A pushed, byte for byte.
coffer_in B 0 --json pull docs "$TMP/pullB"
$CMP --ignore-top "$TMP/src" "$TMP/pullB" || fail "B's pull differs"
coffer_in A 0 --json status; SA=$(key safety_code)
coffer_in B 0 --json status; SB=$(key safety_code)
[ "$SA" = "$SB" ] || fail "safety codes differ ($SA, $SB)"

# The code is used up now: approving it again finds no pending request
# (a usage error, exit 2, issue #18).
coffer_in A 2 '' --json device approve "$CODE"
grep -q 'no pending join request' "$TMP/out" || fail "a used code does not say why"
[ "$(chain_len)" = 2 ] || fail "chain grew on a used code"
echo "88-devices-approve-retry: ok"
