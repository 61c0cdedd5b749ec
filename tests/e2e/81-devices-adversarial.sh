#!/bin/sh
# Trusted devices against a malicious server (issue #6), which edits its
# own store (docs/STORAGE.md: DATA/meta.db) as it likes:
# - it approves a join request by itself (an approval of its own making,
#   without the pairing secret r): the join fails with exit 3 and the new
#   device has no account;
# - it swaps the keys in a join request for keys of its own: the approving
#   device finds no match, nothing is appended, the join fails; the
#   approver cannot tell a swapped request from one that is gone, so this
#   is the usage error of a code that matches no request (exit 2, issue
#   #18), not exit 3 -- what matters is that nothing was appended;
# - it answers the account's name with another account: no match (exit 2,
#   the same), nothing appended;
# - it serves another account's chain to 'recover': refused (exit 3);
# - it appends a device signed by a key of its own to the chain: every
#   device refuses the chain (exit 3) and says why.
. "$(dirname "$0")/lib.sh"

srv_start "$TMP/data"
mkdir -m 700 "$TMP/A"
coffer_in A 0 --json account create --server "$SRV_URL" alice --name laptop
ACCT=$(key account_id)
key recovery_key >"$TMP/alice.rk"
coffer_in A 0 --json drive create docs
mkdir "$TMP/src"; echo one >"$TMP/src/f"
coffer_in A 0 --json push docs "$TMP/src"
LEN=$(sql 'select chain_len from accounts where name = ?' alice)

# ---- the server approves a request by itself ----
join_start S1 S1 30
sql 'select request from joins where account = ?' "x:$ACCT" | xxd -r -p >"$TMP/req"
"$FCHAIN" approval "$TMP/req" "$TMP/approval" || fail "forge_chain approval"
sql 'update joins set approval = ? where account = ?' "f:$TMP/approval" "x:$ACCT" >/dev/null
join_wait 3
grep -q 'not authentic' "$TMP/join.out" || fail "the join does not say why"
[ ! -e "$TMP/S1/account" ] || fail "a self-approved join left an account"
coffer_in S1 1 '' --json status
[ "$(sql 'select chain_len from accounts where name = ?' alice)" = "$LEN" ] ||
    fail "the chain changed"

# ---- the server swaps the keys in a request ----
sql 'delete from joins' >/dev/null
join_start S2 S2 8
"$FCHAIN" request "$ACCT" alice "$TMP/req2" || fail "forge_chain request"
sql 'update joins set request = ? where account = ?' "f:$TMP/req2" "x:$ACCT" >/dev/null
coffer_in A 2 '' --json device approve "$CODE"
grep -q 'no pending join request' "$TMP/out" || fail "approve does not say why"
[ "$(sql 'select chain_len from accounts where name = ?' alice)" = "$LEN" ] ||
    fail "a swapped request was approved"
join_wait 1
[ ! -e "$TMP/S2/account" ] || fail "a join with swapped keys left an account"

# ---- the server answers the name with another account ----
mkdir -m 700 "$TMP/M"
coffer_in M 0 --json account create --server "$SRV_URL" mallory --name m
sql "update accounts set name = 'alice-real' where name = 'alice'" >/dev/null
sql "update accounts set name = 'alice' where name = 'mallory'" >/dev/null
join_start S3 S3 8
sql "update accounts set name = 'mallory' where name = 'alice'" >/dev/null
sql "update accounts set name = 'alice' where name = 'alice-real'" >/dev/null
coffer_in A 2 '' --json device approve "$CODE"
grep -q 'no pending join request' "$TMP/out" || fail "approve does not say why"
join_wait 1
[ ! -e "$TMP/S3/account" ] || fail "a join to another account left an account"
[ "$(sql 'select chain_len from accounts where name = ?' alice)" = "$LEN" ] ||
    fail "the chain changed"

# ---- recover from a chain that is not the account's ----
# The server serves mallory's chain (another genesis, another recovery
# registration) as alice's: refused (exit 3), nothing appended.
RK=$(cat "$TMP/alice.rk")
sql "create table saved as select * from chain where account = x'$ACCT'" >/dev/null
sql 'delete from chain where account = ?' "x:$ACCT" >/dev/null
sql "insert into chain select x'$ACCT', seq, entry from chain where account = (select id from accounts where name = 'mallory')" >/dev/null
mkdir -m 700 "$TMP/R"
if echo "$RK" | COFFER_HOME="$TMP/R" "$COFFER" --json recover --server "$SRV_URL" alice >"$TMP/out" 2>"$TMP/err"
then rc=0; else rc=$?; fi
[ "$rc" = 3 ] || { cat "$TMP/out" "$TMP/err"; fail "recover from mallory's chain exited $rc"; }
[ ! -e "$TMP/R/account" ] || fail "a refused recovery left an account"
sql 'delete from chain where account = ?' "x:$ACCT" >/dev/null
sql 'insert into chain select * from saved' >/dev/null
sql 'drop table saved' >/dev/null
[ "$(sql 'select count(*) from chain where account = ?' "x:$ACCT")" = "$LEN" ] ||
    fail "the chain was not put back"

# ---- an honest join, so that two devices watch the chain ----
sql 'delete from joins' >/dev/null
join_start B B 60
coffer_in A 0 --json device approve "$CODE"
join_wait 0
coffer_in B 0 --json pull docs "$TMP/pullB"
cmp "$TMP/src/f" "$TMP/pullB/f" || fail "B's pull differs"

# ---- the server appends a device signed by a key of its own ----
"$FORGE" --server "$SRV_URL" --home "$TMP/A" --account alice ghost-entry \
    --out "$TMP/ghost" >/dev/null || fail "forge ghost-entry"
python3 - "$TMP/data/meta.db" "$ACCT" "$TMP/ghost" <<'PY'
import hashlib, sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
c.execute("PRAGMA busy_timeout = 30000")
acct, entry = bytes.fromhex(sys.argv[2]), open(sys.argv[3], "rb").read()
(n,) = c.execute("select chain_len from accounts where id = ?", (acct,)).fetchone()
h = hashlib.blake2b(b"coffer-entry-hash-v1" + entry, digest_size=32).digest()
c.execute("begin immediate")
c.execute("insert into chain(account, seq, entry) values (?, ?, ?)", (acct, n, entry))
c.execute("update accounts set chain_len = ?, chain_head = ? where id = ?", (n + 1, h, acct))
c.execute("commit")
PY
coffer_in A 3 '' --json status
grep -q 'not authentic' "$TMP/out" || fail "A does not say why"
coffer_in B 3 '' --json status
coffer_in B 3 '' --json pull docs "$TMP/pullB2"
[ ! -e "$TMP/pullB2" ] || [ -z "$(ls -A "$TMP/pullB2")" ] || fail "B wrote something"
coffer_in A 3 '' --json device list

srv_stop
echo "81-devices-adversarial: ok"
