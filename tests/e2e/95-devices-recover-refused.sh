#!/bin/sh
# 'recover' tells a refusal from a wrong key (issue #18, "Devices"), through
# the rewriting proxy in front of a real cofferd:
# - the server answers 403 to the chain request of a right recovery key:
#   "the server refused" (exit 4), never "wrong recovery key" (exit 5);
#   nothing changes on the server or on the recovering home;
# - a key that fails its own check (mistyped; another account's): exit 5,
#   "wrong recovery key", nothing changes;
# - with the proxy honest again, the same key recovers (it was right).
. "$(dirname "$0")/lib.sh"

srv_proxy_start "$TMP/data"
UP=$SRV_URL
SRV_URL=$PROXY_URL	# every device talks to the proxy

# recover_rc WANT HOME KEY: 'coffer --json recover' of alice on a fresh HOME
# with KEY on stdin must exit WANT; stdout in $TMP/out.
recover_rc() {
	rm -rf "${TMP:?}/${2:?}"; mkdir -m 700 "$TMP/$2"
	if echo "$3" | COFFER_HOME="$TMP/$2" "$COFFER" --json recover --server "$SRV_URL" \
	    alice --name rescued >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
	if grep -q 'Sanitizer\|runtime error' "$TMP/err"; then
		cat "$TMP/err"; fail "sanitizer report from recover"
	fi
	[ "$rc" = "$1" ] || { cat "$TMP/out" "$TMP/err"; fail "recover exited $rc, want $1"; }
}
status_is() {
	python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read().splitlines()[-1]); sys.exit(o.get("status") != int(sys.argv[2]))' "$TMP/out" "$1" ||
	    fail "JSON status is not $1: $(cat "$TMP/out")"
}

mkdir -m 700 "$TMP/B"
coffer_in B 0 --json account create --server "$SRV_URL" bob --name b
BOBRK=$(key recovery_key)
make_account A laptop
make_device P phone
LEN=$(chain_len)

# ---- the server refuses the chain to the right key ----
rules '[{"op": "status", "path": "/chain$", "method": "GET", "code": 403, "body": {"error": "device not active in this account"}}]'
recover_rc 4 R "$RK"
[ "$(hits)" -ge 1 ] || fail "the proxy did not refuse the chain"
grep -q "the server refused this recovery key for account 'alice'" "$TMP/out" ||
    fail "a refusal is not said to be one: $(cat "$TMP/out")"
! grep -q 'wrong recovery key' "$TMP/out" "$TMP/err" || fail "a refusal is called a wrong key"
status_is 4
[ ! -e "$TMP/R/account" ] || fail "a refused recovery left an account"
[ "$(chain_len)" = "$LEN" ] || fail "a refused recovery changed the chain"
rules '[]'

# ---- keys that fail their own check ----
BAD=$(printf '%s' "$RK" | python3 -c 'import sys; k=sys.stdin.read(); i=next(j for j,c in enumerate(k) if c.isalnum()); print(k[:i] + ("1" if k[i] != "1" else "2") + k[i+1:])')
[ "$BAD" != "$RK" ] || fail "the mistyped key is the key"
recover_rc 5 W "$BAD"
grep -q "wrong recovery key for account 'alice'" "$TMP/out" || fail "a mistyped key is not said to be wrong"
status_is 5
recover_rc 5 W "$BOBRK"
grep -q "wrong recovery key for account 'alice'" "$TMP/out" || fail "another account's key is not said to be wrong"
[ ! -e "$TMP/W/account" ] || fail "a wrong key left an account"
[ "$(chain_len)" = "$LEN" ] || fail "a wrong key changed the chain"

# ---- the same right key, with the proxy honest ----
recover_rc 0 R "$RK"
[ "$(chain_len)" -gt "$LEN" ] || fail "the recovery did not append"
coffer_in R 0 --json status

proxy_stop
srv_stop
echo "95-devices-recover-refused: ok"
