#!/bin/sh
# Two devices and a server that forks them (issue #6), by edits of its own
# store (docs/STORAGE.md):
# - the safety codes of A and B agree while the server is honest;
# - the server shows A its version 2, then rolls the head back and lets B
#   write another version 2: the codes each device shows right after its
#   sync differ, and A, then shown B's branch, refuses with exit 3;
# - after B removes A, the server rolls the chain back to before the
#   removal: B refuses (exit 3); A, served the old chain, still cannot
#   use anything written after its removal (exit 3).
. "$(dirname "$0")/lib.sh"
TESTS=$(cd "$(dirname "$0")/.." && pwd)
COFFER="$COFFER_BUILD/cli/coffer"

fail() { echo "FAIL: $*"; exit 1; }
run() {
	want=$1; home=$2; shift 2
	if COFFER_HOME="$TMP/$home" "$COFFER" --json "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	then rc=0; else rc=$?; fi
	if grep -q 'Sanitizer\|runtime error' "$TMP/err"; then
		echo "FAIL: sanitizer report from '$home: coffer $*'"; cat "$TMP/err"; exit 1
	fi
	if [ "$rc" != "$want" ]; then
		echo "FAIL: '$home: coffer $*' exited $rc, want $want"; cat "$TMP/out" "$TMP/err"
		exit 1
	fi
}
key() {
	tail -1 "$TMP/out" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
join() {
	mkdir -m 700 "$TMP/$1"; rm -f "$TMP/join.rc" "$TMP/join.out"
	( COFFER_HOME="$TMP/$1" "$COFFER" --json device join --server "$SRV_URL" alice \
	    --name "$1" --timeout 60 >"$TMP/join.out" 2>"$TMP/join.err" && rc=0 || rc=$?
	  echo $rc >"$TMP/join.rc" ) &
	JOIN_PID=$!
	i=0
	while ! grep -q pairing_code "$TMP/join.out" 2>/dev/null; do
		i=$((i + 1)); [ $i -le 600 ] || fail "no pairing code"; sleep 0.1
	done
	CODE=$(head -1 "$TMP/join.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pairing_code"])')
	run 0 A device approve "$CODE"
	wait "$JOIN_PID" || true
	i=0
	while [ ! -s "$TMP/join.rc" ]; do
		i=$((i + 1)); [ $i -le 900 ] || fail "join did not end"; sleep 0.1
	done
	[ "$(cat "$TMP/join.rc")" = 0 ] || { cat "$TMP/join.out" "$TMP/join.err"; fail "join failed"; }
}

# srv_again DATA: start cofferd again on the same port (the devices keep its URL).
srv_again() {
	: >"$TMP/ready"
	"$COFFERD" --listen "127.0.0.1:$SRV_PORT" --data "$1" >"$TMP/ready" 2>>"$TMP/server.log" &
	SRV_PID=$!
	i=0
	while ! grep -q '"ready": true' "$TMP/ready" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
			echo "cofferd did not start again"; tail "$TMP/server.log"; exit 1
		fi
		sleep 0.05
	done
}

srv_start "$TMP/data"
mkdir -m 700 "$TMP/A"
run 0 A account create --server "$SRV_URL" alice --name laptop
ACCT=$(key account_id)
run 0 A drive create docs
mkdir "$TMP/src"; echo one >"$TMP/src/f"
run 0 A push docs "$TMP/src"
join B
run 0 B pull docs "$TMP/pullB"
run 0 A status; SA=$(key safety_code)
run 0 B status; SB=$(key safety_code)
[ "$SA" = "$SB" ] || fail "honest server: safety codes differ ($SA, $SB)"

# ---- the fork: A and B each see their own version 2 ----
# The server keeps a copy of its store and answers B from it.
srv_stop
cp -a "$TMP/data" "$TMP/data.fork"
srv_again "$TMP/data"
echo "A's two" >"$TMP/src/f"
run 0 A push docs "$TMP/src"
run 0 A status; SA=$(key safety_code)
srv_stop
mv "$TMP/data" "$TMP/data.A"; mv "$TMP/data.fork" "$TMP/data"
srv_again "$TMP/data"
mkdir "$TMP/srcB"; echo "B's two" >"$TMP/srcB/f"
run 0 B push docs "$TMP/srcB"
[ "$(key version)" = 2 ] || fail "B's push is not version 2"
run 0 B status; SB=$(key safety_code)
[ "$SA" != "$SB" ] || fail "forked: the safety codes agree ($SA)"
# Now A is shown B's branch.
run 3 A status
grep -q 'not authentic' "$TMP/out" || fail "A does not say why"
run 3 A pull docs "$TMP/pullA"
[ ! -e "$TMP/pullA" ] || [ -z "$(ls -A "$TMP/pullA")" ] || fail "A wrote something"
echo "ok: fork: codes differ, A refuses B's branch (exit 3)"

# ---- B (whose view is the server's) removes A; then the chain is rolled
# back to before the removal ----
run 0 B drive create notes
echo n1 >"$TMP/srcB/n"
run 0 B push notes "$TMP/srcB"
AID=$(COFFER_HOME="$TMP/A" "$COFFER" --json device list 2>/dev/null | python3 -c \
    'import json,sys; print([d["id"] for d in json.load(sys.stdin)["devices"] if d["this_device"]][0])')
LEN=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select chain_len from accounts where name = ?", ("alice",)).fetchone()[0])' "$TMP/data/meta.db")
run 0 B device remove "$AID"
echo secret-after-removal >"$TMP/srcB/after"
run 0 B push notes "$TMP/srcB"
python3 - "$TMP/data/meta.db" "$ACCT" "$LEN" "$AID" <<'PY'
import hashlib, sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
c.execute("PRAGMA busy_timeout = 30000")
acct, n, aid = bytes.fromhex(sys.argv[2]), int(sys.argv[3]), bytes.fromhex(sys.argv[4])
(last,) = c.execute("select entry from chain where account = ? and seq = ?", (acct, n - 1)).fetchone()
h = hashlib.blake2b(b"coffer-entry-hash-v1" + last, digest_size=32).digest()
c.execute("begin immediate")
c.execute("delete from chain where account = ? and seq >= ?", (acct, n))
c.execute("update accounts set chain_len = ?, chain_head = ? where id = ?", (n, h, acct))
c.execute("update devices set removed_seq = NULL where account = ? and id = ?", (acct, aid))
c.execute("commit")
PY
run 3 B status
run 3 B pull notes "$TMP/pullB2"
run 3 A pull notes "$TMP/pullA2"
[ ! -e "$TMP/pullA2" ] || [ -z "$(ls -A "$TMP/pullA2")" ] || fail "A wrote something"
echo "ok: chain rolled back past a removal: B refuses, A cannot read what came after (exit 3)"

srv_stop
echo "82-devices-fork: ok"
