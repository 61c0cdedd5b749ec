#!/bin/sh
# A join that gives up withdraws its request, and a device that never
# finished joining is never in the chain (issue #18, "Devices"), through
# the rewriting proxy in front of a real cofferd:
# - 'device join' to an account that does not exist says so at once
#   (exit 4), with no key and no account left behind;
# - a join that times out withdraws its request: it says so (exit 1), the
#   server drops the request, and a later 'device approve CODE' finds no
#   request (exit 2) and appends nothing;
# - a pairing code that passes its own check but matches no request:
#   exit 2, nothing appended;
# - the race, withdrawal first: the approver listed the request before the
#   join withdrew it (the proxy answers it that old list), and appends the
#   add-device entry: the server refuses it (no pending request), approve
#   exits 2, and the chain on the server keeps its length;
# - the race, approval first: the proxy holds the approval back until the
#   join gives up; the withdrawal gets 409 (the device is in the chain
#   already) and the join completes instead (exit 0), and works.
. "$(dirname "$0")/lib.sh"

srv_proxy_start "$TMP/data"
UP=$SRV_URL
SRV_URL=$PROXY_URL	# every device talks to the proxy

# status_is N: the JSON error line of the last 'run' has "status": N.
status_is() {
	python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read().splitlines()[-1]); sys.exit(o.get("status") != int(sys.argv[2]))' "$TMP/out" "$1" ||
	    fail "JSON status is not $1: $(cat "$TMP/out")"
}
# pending: the number of join requests the server keeps for alice.
pending() { sql 'select count(*) from joins where account = ?' "x:$ACCT"; }
# logged METHOD PATH_END STATUS: cofferd logged that request with that status.
logged() { grep -q "\"method\":\"$1\",\"path\":\"[^\"]*$2\",\"status\":\"$3\"" "$TMP/server.log"; }
# a_code: a pairing code whose check character is right, of no request.
a_code() {
	python3 - <<'PY'
import random
A = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
v = [random.randrange(32) for _ in range(16)]
s, f = 0, 2
for x in reversed(v):
    p = f * x
    s += p // 32 + p % 32
    f = 1 if f == 2 else 2
c = "".join(A[x] for x in v) + A[(32 - s % 32) % 32]
print(c[0:5] + "-" + c[5:10] + "-" + c[10:15] + "-" + c[15:])
PY
}

make_account A laptop
LEN=$(chain_len)

# ---- a join to an account that does not exist ----
mkdir -m 700 "$TMP/N"
T0=$(date +%s)
if COFFER_HOME="$TMP/N" "$COFFER" --json device join --server "$SRV_URL" nosuch \
    --timeout 60 >"$TMP/out" 2>"$TMP/err" </dev/null; then rc=0; else rc=$?; fi
[ "$rc" = 4 ] || { cat "$TMP/out" "$TMP/err"; fail "a join to no account exited $rc, want 4"; }
grep -q "there is no account 'nosuch' on the server $SRV_URL" "$TMP/out" ||
    fail "a join to no account does not say so: $(cat "$TMP/out")"
status_is 4
! grep -q 'approval' "$TMP/out" "$TMP/err" || fail "a join to no account talks of an approval"
[ $(($(date +%s) - T0)) -lt 30 ] || fail "a join to no account waited"
[ ! -e "$TMP/N/account" ] && [ ! -e "$TMP/N/device.key" ] ||
    fail "a join to no account left files"

# ---- a join that times out withdraws its request ----
join_start W w 3
join_wait 1
grep -q 'no approval came within 3 seconds; the join request was withdrawn' "$TMP/join.out" ||
    fail "the join does not say it withdrew its request: $(cat "$TMP/join.out")"
WID=$(sed -n 's/.*"method":"DELETE","path":"[^"]*\/joins\/\([0-9a-f]*\)".*/\1/p' "$TMP/server.log" | tail -1)
[ -n "$WID" ] && logged DELETE "/joins/$WID" 200 || fail "no withdrawal reached the server"
[ "$(pending)" = 0 ] || fail "the server kept a withdrawn request"
[ ! -e "$TMP/W/account" ] || fail "a withdrawn join left an account"
coffer_in A 2 '' --json device approve "$CODE"
grep -q 'no pending join request of this account matches this pairing code' "$TMP/out" ||
    fail "approve of a withdrawn request does not say why"
status_is 2
[ "$(chain_len)" = "$LEN" ] || fail "a withdrawn request was approved"
coffer_in A 0 --json device list
! grep -q "$WID" "$TMP/out" || fail "the withdrawn device is listed"

# ---- the race, withdrawal first ----
# While J's request is pending, A approves a code of no request (exit 2:
# a usage error, nothing appended) and so lists the request.
join_start J j 15
JID=$(sql 'select device from joins where account = ?' "x:$ACCT")
OTHER=$(a_code)
coffer_in A 2 '' --json device approve "$OTHER"
grep -q 'no pending join request' "$TMP/out" || fail "a code of no request does not say why"
status_is 2
[ "$(chain_len)" = "$LEN" ] || fail "a code of no request appended"
join_wait 1
grep -q 'the join request was withdrawn' "$TMP/join.out" || fail "J did not withdraw"
[ "$(pending)" = 0 ] || fail "the server kept J's request"
# A now sees the list from before the withdrawal, and approves from it.
rules "[{\"op\": \"replay\", \"path\": \"/joins\$\", \"method\": \"GET\", \"match\": \"$JID\"}]"
coffer_in A 2 '' --json device approve "$CODE"
[ "$(hits)" -ge 1 ] || fail "the proxy did not replay the old list"
grep -q 'no pending join request' "$TMP/out" || fail "approve of a withdrawn request does not say why"
status_is 2
logged POST /chain 404 || fail "the server did not refuse the add-device entry"
[ "$(chain_len)" = "$LEN" ] || fail "the server appended a device with no pending request"
[ ! -e "$TMP/J/account" ] || fail "J has an account"
rules '[]'
coffer_in A 0 --json device list
! grep -q "$JID" "$TMP/out" || fail "a withdrawn device is listed"

# ---- the race, approval first ----
# The proxy answers "no approval yet" to the joining device until it has
# given up and asked to withdraw: the server answers 409, and the join
# then takes the approval and completes.
rules '[{"op": "status", "path": "/joins/[0-9a-f]{64}/approval$", "method": "GET", "code": 200, "body": {"approval": null}}]'
join_start R r 15
RID=$(sql 'select device from joins where account = ? and approval is null' "x:$ACCT")
coffer_in A 0 --json device approve "$CODE"
[ "$(key approved)" = "$RID" ] || fail "approved another device"
[ "$(chain_len)" = $((LEN + 1)) ] || fail "the approval did not append"
i=0
while ! logged DELETE "/joins/$RID" 409; do
	i=$((i + 1)); [ $i -le 600 ] || fail "the join did not try to withdraw"; sleep 0.1
done
rules '[]'
join_wait 0
[ "$JOINED" = "$RID" ] || fail "joined as another device"
coffer_in R 0 --json status
coffer_in R 0 --json device list
grep -q '"this_device":true' "$TMP/out" || fail "R does not list itself"
[ "$(chain_len)" = $((LEN + 1)) ] || fail "the chain changed again"

proxy_stop
srv_stop
echo "94-devices-join-withdraw: ok"
