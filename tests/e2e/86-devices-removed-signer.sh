#!/bin/sh
# What a removed device signed, served by a server that colludes with it
# (issue #6; THREATS 3, 9, 22, 29, 33), three devices A, B, C of one
# account on a real cofferd whose store the test edits:
# - chain-change notices: every command reports, on stderr, the entries
#   since the device last looked, naming the device added or removed
#   (name and id), who signed, and the epoch; nothing when nothing changed;
# - B, while trusted, starts epoch 2 (a rotation) and signs its envelopes;
#   A removes B (epoch 3).  The server withholds C's envelope of epoch 3
#   and serves C only the one B signed before its removal: refused (exit
#   3), nothing written.  The server serves C an envelope B signed for the
#   removal entry itself: refused (exit 3), nothing written.  The real
#   envelope back: C goes on (exit 0);
# - a commit by B naming a chain head from before its removal (where B
#   was trusted, sealed under that epoch's key): C and A refuse it (exit
#   3, nothing written); the same commit by A (control) is accepted;
# - 'recover' against a server that built a chain of its own around the
#   real recovery public key (its own genesis device registering the real
#   recovery public keys; it cannot sign the registration with the
#   recovery key): refused (exit 3), nothing added to the chain, no
#   account on the recovering home; with the real chain back, the same
#   key recovers (so the key and the setup were right).
. "$(dirname "$0")/lib.sh"

short() { echo "$1" | cut -c1-16; }

srv_start "$TMP/data"
make_account A laptop
AID=$(device_id A)
coffer_in A 0 --json drive create docs
$GEN 861 "$TMP/src" --files 8 >/dev/null
coffer_in A 0 --json push docs "$TMP/src"
make_device B phone; BID=$JOINED
coffer_in B 0 --json status
make_device C tablet; CID=$JOINED

# ---- notices name the devices ----
coffer_in B 0 --json status
grep -q "device chain entry 2: device added: 'tablet' ($CID), by 'laptop' ($(short "$AID"))" "$TMP/err" ||
    { cat "$TMP/err"; fail "B's notice does not name the added device and its approver"; }
coffer_in B 0 --json status
grep -q 'device chain' "$TMP/err" && { cat "$TMP/err"; fail "a notice with nothing changed"; }
echo "ok: notice: device added, with its name and id and who approved it"

F="$FORGE --server $SRV_URL --account $DEV_ACCOUNT"
$F --home "$TMP/B" rotate >"$TMP/rot" || fail "forge rotate by B"
grep -q '^epoch 2$' "$TMP/rot" || fail "B's rotation is not epoch 2"
coffer_in A 0 --json status
grep -q "device chain entry 3: account key rotated by 'phone' ($(short "$BID")).*(epoch 2)" "$TMP/err" ||
    { cat "$TMP/err"; fail "A's notice does not name the rotation's signer"; }
coffer_in C 0 --json pull docs "$TMP/pullC"
$CMP --ignore-top "$TMP/src" "$TMP/pullC" || fail "C's pull differs"
coffer_in A 0 --json device remove "$BID"
[ "$(key epoch)" = 3 ] || fail "the removal does not start epoch 3"
REMSEQ=$(($(chain_len) - 1))
coffer_in C 0 --json status
grep -q "device chain entry $REMSEQ: device removed: 'phone' ($BID), by 'laptop' ($(short "$AID")).*(epoch 3)" "$TMP/err" ||
    { cat "$TMP/err"; fail "C's notice does not name the removed device"; }
echo "ok: notice: key rotated and device removed, with names and ids"

# ---- envelopes signed by B, served to C after B's removal ----
REMHASH=$(sql 'select entry_hash from envelopes where account = ? and recipient = ? and epoch = 3' "x:$ACCT" "x:$CID")
[ -n "$REMHASH" ] || fail "no envelope of epoch 3 for C"
sql 'select env from envelopes where account = ? and recipient = ? and epoch = 3' "x:$ACCT" "x:$CID" |
    xxd -r -p >"$TMP/env.real"
OLD=$(sql 'select count(*) from envelopes where account = ? and recipient = ? and epoch = 2' "x:$ACCT" "x:$CID")
[ "$OLD" = 1 ] || fail "no envelope of B's epoch 2 for C"
mkdir -p "$TMP/pulls"
snapshot "$TMP/C/drives" "$TMP/snapC"
cp "$TMP/C/directory.pin" "$TMP/dirpinC"
# (a) the real one withheld: only B's envelope of epoch 2, signed before
# B's removal, is left for C.
sql 'delete from envelopes where account = ? and recipient = ? and epoch = 3' "x:$ACCT" "x:$CID" >/dev/null
coffer_in C 3 '' --json status
grep -q 'not authentic' "$TMP/out" || fail "C does not say why"
coffer_in C 3 '' --json pull docs "$TMP/pulls/c1"
[ ! -e "$TMP/pulls/c1" ] || [ -z "$(ls -A "$TMP/pulls/c1")" ] || fail "C wrote something"
assert_unchanged "$TMP/C/drives" "$TMP/snapC" "an envelope pre-signed by B"
cmp -s "$TMP/C/directory.pin" "$TMP/dirpinC" || fail "C's directory pin changed"
echo "ok: envelope pre-signed by B before its removal, served after: refused (exit 3), nothing written"
# (b) an envelope B signs for the removal entry itself (the keys it has,
# a made-up key for epoch 3).
"$REMOVED" envelope "$TMP/B" "$TMP/data" "$CID" "$TMP/env.b" >"$TMP/envb" || fail "removed_dev envelope"
grep -q '^epoch 3$' "$TMP/envb" && grep -q '^known 2$' "$TMP/envb" || { cat "$TMP/envb"; fail "B's envelope"; }
sql 'insert into envelopes(account, recipient, entry_hash, epoch, env) values (?, ?, ?, 3, ?)' \
    "x:$ACCT" "x:$CID" "x:$REMHASH" "f:$TMP/env.b" >/dev/null
coffer_in C 3 '' --json status
coffer_in C 3 '' --json pull docs "$TMP/pulls/c2"
[ ! -e "$TMP/pulls/c2" ] || [ -z "$(ls -A "$TMP/pulls/c2")" ] || fail "C wrote something"
assert_unchanged "$TMP/C/drives" "$TMP/snapC" "an envelope signed by removed B"
cmp -s "$TMP/C/directory.pin" "$TMP/dirpinC" || fail "C's directory pin changed"
echo "ok: envelope signed by B for its own removal entry: refused (exit 3), nothing written"
# Control: the real envelope back.
sql 'update envelopes set env = ? where account = ? and recipient = ? and epoch = 3' \
    "f:$TMP/env.real" "x:$ACCT" "x:$CID" >/dev/null
coffer_in C 0 --json pull docs "$TMP/pulls/c3"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/c3" || fail "C's pull with the real envelope differs"

# ---- a commit by B naming a chain head from before its removal ----
# OLDSEQ: C's addition (entry 2, epoch 1), where B was trusted; A's
# control commit first, naming the same chain head: accepted.
OLDSEQ=2
FA="$F --home $TMP/A"
ROOT=$($FA walk --drive docs | sed -n 's/^root //p')
[ -n "$ROOT" ] || fail "no root"
$FA commit --drive docs --root "$ROOT" --chain-seq "$OLDSEQ" >"$TMP/ca" || fail "forge commit by A"
grep -q '^version 2$' "$TMP/ca" || fail "A's commit is not version 2"
coffer_in C 0 --json pull docs "$TMP/pulls/c4"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/c4" || fail "the control commit's pull differs"
coffer_in A 0 --json pull docs "$TMP/pulls/a4"
snapshot "$TMP/C/drives" "$TMP/snapC"
snapshot "$TMP/A/drives" "$TMP/snapA"
$FA commit --drive docs --root "$ROOT" --chain-seq "$OLDSEQ" --sign-key "$TMP/B/device.key" >"$TMP/cb" ||
    fail "forge commit signed by B"
grep -q '^version 3$' "$TMP/cb" || fail "B's commit is not version 3"
coffer_in C 3 '' --json pull docs "$TMP/pulls/c5"
[ ! -e "$TMP/pulls/c5" ] || [ -z "$(ls -A "$TMP/pulls/c5")" ] || fail "C wrote something"
mkdir "$TMP/pulls/c6"; echo keep >"$TMP/pulls/c6/mine"
snapshot "$TMP/pulls" "$TMP/snapP"
coffer_in C 3 '' --json pull docs "$TMP/pulls/c6" --overwrite
assert_unchanged "$TMP/pulls" "$TMP/snapP" "B's commit (pull --overwrite)"
assert_unchanged "$TMP/C/drives" "$TMP/snapC" "B's commit"
coffer_in A 3 '' --json pull docs "$TMP/pulls/a5"
assert_unchanged "$TMP/A/drives" "$TMP/snapA" "B's commit"
echo "ok: commit by removed B naming a chain head from before its removal: refused (exit 3), nothing written"

# ---- recover against the server's own chain around the real recovery key ----
LEN=$(chain_len)
sql 'select entry from chain where account = ? and seq = 0' "x:$ACCT" | xxd -r -p >"$TMP/genesis.real"
"$FCHAIN" genesis-around-rk "$TMP/genesis.real" "$TMP/genesis.fake" >"$TMP/fake" || fail "forge_chain genesis-around-rk"
FAKEACCT=$(sed -n 's/^account_id //p' "$TMP/fake")
[ -n "$FAKEACCT" ] && [ "$FAKEACCT" != "$ACCT" ] || fail "the server's genesis"
[ "$(sed -n 's/^rk_id //p' "$TMP/fake")" = "$(sql 'select rk_id from accounts where id = ?' "x:$ACCT")" ] ||
    fail "the server's genesis does not register the real recovery key"
sql "create table saved as select * from chain where account = x'$ACCT'" >/dev/null
sql "create table saved_acct as select * from accounts where id = x'$ACCT'" >/dev/null
python3 - "$TMP/data/meta.db" "$ACCT" "$TMP/genesis.fake" <<'PY'
import hashlib, sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
c.execute("PRAGMA busy_timeout = 30000")
acct, entry = bytes.fromhex(sys.argv[2]), open(sys.argv[3], "rb").read()
h = hashlib.blake2b(b"coffer-entry-hash-v1" + entry, digest_size=32).digest()
c.execute("begin immediate")
c.execute("delete from chain where account = ?", (acct,))
c.execute("insert into chain(account, seq, entry) values (?, 0, ?)", (acct, entry))
c.execute("update accounts set chain_len = 1, chain_head = ? where id = ?", (h, acct))
c.execute("commit")
PY
mkdir -m 700 "$TMP/R"
if echo "$RK" | COFFER_HOME="$TMP/R" "$COFFER" --json recover --server "$SRV_URL" "$DEV_ACCOUNT" \
    >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
grep -q 'Sanitizer\|runtime error' "$TMP/err" && { cat "$TMP/err"; fail "sanitizer report"; }
[ "$rc" = 3 ] || { cat "$TMP/out" "$TMP/err"; fail "recover from the server's chain exited $rc, want 3"; }
[ ! -e "$TMP/R/account" ] || fail "a refused recovery left an account"
[ "$(sql 'select count(*) from chain where account = ?' "x:$ACCT")" = 1 ] || fail "recover added to the server's chain"
[ "$(chain_len)" = 1 ] || fail "the chain length changed"
[ "$(sql 'select entry from chain where account = ?' "x:$ACCT")" = "$(xxd -p "$TMP/genesis.fake" | tr -d '\n')" ] ||
    fail "the server's genesis changed"
echo "ok: recover against a chain built around the real recovery public key: refused (exit 3), nothing added"
# Control: the real chain back, the same key recovers.
sql 'delete from chain where account = ?' "x:$ACCT" >/dev/null
sql 'insert into chain select * from saved' >/dev/null
sql "update accounts set chain_len = (select chain_len from saved_acct), chain_head = (select chain_head from saved_acct) where id = x'$ACCT'" >/dev/null
sql 'drop table saved' >/dev/null
sql 'drop table saved_acct' >/dev/null
[ "$(chain_len)" = "$LEN" ] || fail "the chain was not put back"
rm -rf "$TMP/R"; mkdir -m 700 "$TMP/R"
if echo "$RK" | COFFER_HOME="$TMP/R" "$COFFER" --json recover --server "$SRV_URL" "$DEV_ACCOUNT" \
    --name rescued --keep-devices >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
[ "$rc" = 0 ] || { cat "$TMP/out" "$TMP/err"; fail "recover from the real chain exited $rc"; }
coffer_in R 0 --json device list
grep -q '"rescued"' "$TMP/out" || fail "R is not listed"
# A's next command names the recovered device, added by the recovery key.
coffer_in A 0 --json device list
grep -q "device added: 'rescued' ($(device_id R)), by the recovery key" "$TMP/err" ||
    { cat "$TMP/err"; fail "A's notice does not name the recovered device and the recovery key"; }

srv_stop
echo "86-devices-removed-signer: ok"
