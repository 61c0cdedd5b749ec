#!/bin/sh
# A removed device is told so (issue #18): it was told only "the server
# refused the request".  cofferd answers a removed device's own signed
# request 403 with the stable code "device_removed"; the client says the
# device was removed and how to join again, exit 4, for every command
# (the session's first request is refused).  A request that only names
# the removed device's id, without its signature, learns nothing more
# than "not active" (as for a device never in the account).
. "$(dirname "$0")/lib.sh"

srv_start "$TMP/data"
make_account A laptop
make_device B phone
BID=$JOINED
coffer_in A 0 --json drive create docs
mkdir "$TMP/src"
echo hello >"$TMP/src/a"
coffer_in B 0 --json push docs "$TMP/src"
coffer_in A 0 --json device remove "$BID"

for cmd in "status" "log docs" "pull docs $TMP/pullB" "push docs $TMP/src" "device list"; do
	# shellcheck disable=SC2086
	coffer_in B 4 '' --json $cmd
	grep -q '"status":4' "$TMP/out" || fail "B $cmd: JSON status"
	grep -q 'this device was removed from the account' "$TMP/out" ||
	    { cat "$TMP/out"; fail "B $cmd: not told it was removed"; }
	grep -q "coffer device join --server $SRV_URL alice" "$TMP/out" ||
	    { cat "$TMP/out"; fail "B $cmd: not told how to join again"; }
done
[ ! -e "$TMP/pullB" ] || fail "a removed device's pull made its target"
# Text mode too, on stderr.
if COFFER_HOME="$TMP/B" "$COFFER" status >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
[ "$rc" = 4 ] || fail "B status (text) exited $rc, want 4"
grep -q 'this device was removed from the account' "$TMP/err" || fail "text: not told"
grep -q 'join it again' "$TMP/err" || fail "text: no next step"
echo "ok: a removed device: exit 4, 'this device was removed', how to join again"

# The server says so only to the device itself (its signature checked).
NOW=$(date +%s)
H() { printf '%064d' 0; }
curl -s -o "$TMP/forged" -w '%{http_code}' \
    -H "X-Coffer-Account: $ACCT" -H "X-Coffer-Device: $BID" \
    -H "X-Coffer-Time: $NOW" -H "X-Coffer-Nonce: $(printf '%032d' 0)" \
    -H "X-Coffer-Signature: $(H)$(H)" \
    "$SRV_URL/v1/accounts/$ACCT/chain?from=0" >"$TMP/code"
[ "$(cat "$TMP/code")" = 403 ] || fail "forged request: $(cat "$TMP/code") $(cat "$TMP/forged")"
grep -q 'device_removed' "$TMP/forged" && fail "an unsigned request learns that the device was removed"
grep -q 'not active' "$TMP/forged" || fail "forged request: $(cat "$TMP/forged")"
echo "ok: without the device's signature: only 'not active'"

# A goes on.
coffer_in A 0 --json status
srv_stop
