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

srv_start "$TMP/data"
mkdir -m 700 "$TMP/A"
coffer_in A 0 --json account create --server "$SRV_URL" alice --name laptop
ACCT=$(key account_id)
coffer_in A 0 --json drive create docs
mkdir "$TMP/src"; echo one >"$TMP/src/f"
coffer_in A 0 --json push docs "$TMP/src"
make_device B
coffer_in B 0 --json pull docs "$TMP/pullB"
coffer_in A 0 --json status; SA=$(key safety_code)
coffer_in B 0 --json status; SB=$(key safety_code)
[ "$SA" = "$SB" ] || fail "honest server: safety codes differ ($SA, $SB)"

# ---- the fork: A and B each see their own version 2 ----
# The server keeps a copy of its store and answers B from it.
srv_stop
cp -a "$TMP/data" "$TMP/data.fork"
srv_restart "$TMP/data"
echo "A's two" >"$TMP/src/f"
coffer_in A 0 --json push docs "$TMP/src"
coffer_in A 0 --json status; SA=$(key safety_code)
srv_stop
mv "$TMP/data" "$TMP/data.A"; mv "$TMP/data.fork" "$TMP/data"
srv_restart "$TMP/data"
mkdir "$TMP/srcB"; echo "B's two" >"$TMP/srcB/f"
coffer_in B 0 --json push docs "$TMP/srcB"
[ "$(key version)" = 2 ] || fail "B's push is not version 2"
coffer_in B 0 --json status; SB=$(key safety_code)
[ "$SA" != "$SB" ] || fail "forked: the safety codes agree ($SA)"
# Now A is shown B's branch.
coffer_in A 3 '' --json status
grep -q 'not authentic' "$TMP/out" || fail "A does not say why"
coffer_in A 3 '' --json pull docs "$TMP/pullA"
[ ! -e "$TMP/pullA" ] || [ -z "$(ls -A "$TMP/pullA")" ] || fail "A wrote something"
echo "ok: fork: codes differ, A refuses B's branch (exit 3)"

# ---- B (whose view is the server's) removes A; then the chain is rolled
# back to before the removal ----
coffer_in B 0 --json drive create notes
echo n1 >"$TMP/srcB/n"
coffer_in B 0 --json push notes "$TMP/srcB"
AID=$(COFFER_HOME="$TMP/A" "$COFFER" --json device list 2>/dev/null | python3 -c \
    'import json,sys; print([d["id"] for d in json.load(sys.stdin)["devices"] if d["this_device"]][0])')
LEN=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select chain_len from accounts where name = ?", ("alice",)).fetchone()[0])' "$TMP/data/meta.db")
coffer_in B 0 --json device remove "$AID"
echo secret-after-removal >"$TMP/srcB/after"
coffer_in B 0 --json push notes "$TMP/srcB"
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
coffer_in B 3 '' --json status
coffer_in B 3 '' --json pull notes "$TMP/pullB2"
coffer_in A 3 '' --json pull notes "$TMP/pullA2"
[ ! -e "$TMP/pullA2" ] || [ -z "$(ls -A "$TMP/pullA2")" ] || fail "A wrote something"
echo "ok: chain rolled back past a removal: B refuses, A cannot read what came after (exit 3)"

srv_stop
echo "82-devices-fork: ok"
