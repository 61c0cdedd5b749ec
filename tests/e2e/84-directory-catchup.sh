#!/bin/sh
# A device more than one drive-directory version behind catches up
# (issues #5, #6; FORMAT §16; API §4 "directory/records"): device A
# creates drives while device B looks away, and B's next command fetches
# the records between its pin and the head and checks the line.  Through
# the proxy, a server that holds back, drops, reorders, substitutes (same
# version, linked, other bytes) or replays one of those records, or
# serves none: B exits 3 and its directory pin file is unchanged; a
# server that answers one record per page is fine (paging).  The same
# during a join, whose pin is the approver's: a device approved while
# the directory moves on catches up, and with a record dropped the join
# fails with exit 3 and leaves no account behind.  A head more than 4096
# versions ahead (authentic): exit 1 with advice, pin unchanged; forged: 3.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull status device

# drives: the names of the drives in the last status output, sorted.
drives() {
	python3 -c 'import json,sys; print(" ".join(sorted(d["name"] for d in json.load(open(sys.argv[1]))["drives"])))' "$TMP/out"
}
# dir_version: the server's directory version of alice.
dir_version() {
	python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]+"/meta.db", timeout=30); print(c.execute("select dir_version from accounts where name=?", ("alice",)).fetchone()[0])' "$TMP/data"
}
# pin_version HOME: the version in HOME's directory pin (FORMAT §19.2).
pin_version() {
	python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); assert b[:4]==b"CFDP"; print(int.from_bytes(b[5:13],"big"))' "$TMP/$1/directory.pin"
}
# record V FILE [FLIP]: alice's directory record of version V from the
# server's store into FILE; with FLIP, one bit of its signature flipped.
record() {
	python3 - "$TMP/data" "$1" "$2" "${3:-}" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1] + "/meta.db", timeout=30)
r = c.execute("select d.record from dirs d join accounts a on d.account = a.id "
              "where a.name = 'alice' and d.version = ?", (int(sys.argv[2]),)).fetchone()
b = bytearray(r[0])
if sys.argv[4]:
    b[-10] ^= 1
open(sys.argv[3], "wb").write(bytes(b))
PY
}
# Joins go through the proxy: join_start HOME DEVICE 60 "$PROXY_URL".
RECS='/directory/records$'
mkdir -p "$TMP/pulls"

srv_proxy_start "$TMP/data"
make_home "$TMP/A"
coffer_in A 0 --json account create --server "$PROXY_URL" alice --name laptop
coffer_in A 0 --json drive create docs
$GEN 841 "$TMP/src" --files 6 --no-big >/dev/null
coffer_in A 0 --json push docs "$TMP/src"

# B joins and is pinned at the directory as it is (version 2).
join_start B phone 60 "$PROXY_URL"
coffer_in A 0 --json device approve "$CODE"
join_wait 0
coffer_in B 0 --json status
[ "$(drives)" = docs ] || fail "B's drives: $(drives)"
P=$(pin_version B)
[ "$P" = 2 ] && [ "$(dir_version)" = 2 ] || fail "B's pin $P, server $(dir_version)"

# A moves the directory on by four versions while B looks away.
for d in e1 e2 e3 e4; do coffer_in A 0 --json drive create "$d"; done
[ "$(dir_version)" = 6 ] || fail "the directory is at $(dir_version), want 6"
cp "$TMP/B/directory.pin" "$TMP/pin.before"

# B refuses a server that tampers with the records in between (v3..v5).
# refused WHAT: B's status exits 3, the proxy tampered, the pin is unchanged.
refused() {
	arm
	coffer_in B 3 '' --json status
	[ "$(hits)" -gt "$ARMED" ] || fail "$1: the proxy never tampered (test defect)"
	cmp -s "$TMP/B/directory.pin" "$TMP/pin.before" || fail "$1: B's directory pin moved"
	cat "$TMP/out" "$TMP/err" | grep -q "not authentic" || fail "$1: no message"
	echo "ok: $1: refused (exit 3), pin unchanged"
}
rules "[{\"op\": \"json_list\", \"path\": \"$RECS\", \"key\": \"records\", \"action\": \"drop\", \"index\": 1}]"
refused "a record in between dropped"
rules "[{\"op\": \"json_list\", \"path\": \"$RECS\", \"key\": \"records\", \"action\": \"drop\", \"index\": 2}]"
refused "the last record in between dropped"
rules "[{\"op\": \"json_list\", \"path\": \"$RECS\", \"key\": \"records\", \"action\": \"swap\", \"index\": 0}]"
refused "two records in between swapped"
record 4 "$TMP/v4.bad" flip
rules "[{\"op\": \"json_list\", \"path\": \"$RECS\", \"key\": \"records\", \"action\": \"replace\", \"index\": 1, \"b64_file\": \"$TMP/v4.bad\"}]"
refused "version 4 substituted (same version and link, other bytes)"
record 5 "$TMP/v5.bad" flip
rules "[{\"op\": \"json_list\", \"path\": \"$RECS\", \"key\": \"records\", \"action\": \"replace\", \"index\": 2, \"b64_file\": \"$TMP/v5.bad\"}]"
refused "version 5 substituted (the one the head links to)"
record 2 "$TMP/v2"
rules "[{\"op\": \"json_list\", \"path\": \"$RECS\", \"key\": \"records\", \"action\": \"replace\", \"index\": 0, \"b64_file\": \"$TMP/v2\"}]"
refused "version 3 replaced by the pinned version 2"
rules "[{\"op\": \"json_list\", \"path\": \"$RECS\", \"key\": \"records\", \"action\": \"keep\", \"n\": 0}]"
refused "no record in between served"
rules "[{\"op\": \"status\", \"path\": \"$RECS\", \"method\": \"GET\", \"code\": 200, \"body\": {\"records\": \"x\", \"version\": 6}}]"
refused "a malformed records answer"
# The head itself rolled back to the pin's version with another record: a fork.
rules "[{\"op\": \"replay\", \"path\": \"/directory\$\", \"method\": \"GET\", \"index\": 0}]"
refused "the head replaced by an older answer"

# One record per page is honest paging: B catches up.
rules "[{\"op\": \"json_list\", \"path\": \"$RECS\", \"key\": \"records\", \"action\": \"keep\", \"n\": 1}]"
arm
coffer_in B 0 --json status
[ "$(hits)" -ge "$((ARMED + 2))" ] || fail "paging: the proxy cut fewer than two pages"
[ "$(drives)" = "docs e1 e2 e3 e4" ] || fail "B's drives after catching up: $(drives)"
[ "$(pin_version B)" = 6 ] || fail "B's pin after catching up: $(pin_version B)"
echo "ok: B caught up from version 2 to 6 (one record per page)"
rules '[]'

# And with a whole page at once, again from further behind.
cp "$TMP/B/directory.pin" "$TMP/pin.before"
for d in f1 f2 f3; do coffer_in A 0 --json drive create "$d"; done
coffer_in B 0 --json pull docs "$TMP/pulls/b"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/b" || fail "B's pull differs"
[ "$(pin_version B)" = 9 ] || fail "B's pin: $(pin_version B)"
coffer_in B 0 --json status
[ "$(drives)" = "docs e1 e2 e3 e4 f1 f2 f3" ] || fail "B's drives: $(drives)"
echo "ok: B pulled after falling three versions behind"
# B writes next: A, now behind by one, accepts B's record.
coffer_in B 0 --json drive create fromB
coffer_in A 0 --json status
[ "$(drives)" = "docs e1 e2 e3 e4 f1 f2 f3 fromB" ] || fail "A's drives: $(drives)"

# A join whose approval is seen only after the directory moved on: the
# joining device holds the approver's pin and must catch up.  The proxy
# says "pending" to the joining device until A has made three more versions.
HOLD="{\"op\": \"status\", \"path\": \"/joins/[0-9a-f]+/approval\$\", \"method\": \"GET\", \"code\": 200, \"body\": {\"approval\": null}}"
DROP="{\"op\": \"json_list\", \"path\": \"$RECS\", \"key\": \"records\", \"action\": \"drop\", \"index\": 0}"
# First with a record dropped: the join fails (exit 3) and saves nothing.
rules "[$HOLD]"
join_start C tablet 60 "$PROXY_URL"
coffer_in A 0 --json device approve "$CODE"
V=$(dir_version)
for d in g1 g2 g3; do coffer_in A 0 --json drive create "$d"; done
arm
rules "[$DROP]"
join_wait 3
[ "$(hits)" -gt "$ARMED" ] || fail "join: the proxy never dropped a record"
[ ! -e "$TMP/C/account" ] && [ ! -e "$TMP/C/directory.pin" ] ||
    fail "a refused join left an account behind: $(ls "$TMP/C")"
echo "ok: join with a record in between dropped: refused (exit 3), nothing saved"
# Then honestly: the device joins and sees every drive.
rules "[$HOLD]"
join_start D desk 60 "$PROXY_URL"
coffer_in A 0 --json device approve "$CODE"
V=$(dir_version)
for d in h1 h2 h3; do coffer_in A 0 --json drive create "$d"; done
[ "$(dir_version)" = "$((V + 3))" ] || fail "the directory did not move"
rules '[]'
join_wait 0
[ "$(pin_version D)" = "$((V + 3))" ] || fail "D's pin: $(pin_version D), want $((V + 3))"
coffer_in D 0 --json status
[ "$(drives)" = "docs e1 e2 e3 e4 f1 f2 f3 fromB g1 g2 g3 h1 h2 h3" ] || fail "D's drives: $(drives)"
coffer_in D 0 --json pull docs "$TMP/pulls/d"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/d" || fail "D's pull differs"
echo "ok: a device approved at version $V joined at version $((V + 3)) and pulled"

# A head further ahead than a device can check (CF_DIR_CATCHUP_MAX = 4096
# records in between): a clear error, exit 1, not 3 -- the head is
# authentic; the same head with its signature broken is a lie: exit 3.
# A's real head re-signed as version H + 5000, written into the store.
# setdir V FILE: make FILE alice's directory record of version V, current
# (and none newer kept).
setdir() {
	python3 - "$TMP/data" "$1" "$2" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1] + "/meta.db", timeout=30, isolation_level=None)
c.execute("PRAGMA busy_timeout = 30000")
a = c.execute("select id from accounts where name = 'alice'").fetchone()[0]
c.execute("BEGIN IMMEDIATE")
c.execute("insert or replace into dirs(account, version, record) values(?, ?, ?)",
          (a, int(sys.argv[2]), open(sys.argv[3], "rb").read()))
c.execute("update accounts set dir_version = ? where id = ?", (int(sys.argv[2]), a))
c.execute("delete from dirs where account = ? and version > ?", (a, int(sys.argv[2])))
c.execute("COMMIT")
PY
}
H=$(dir_version)
coffer_in B 0 --json status
cp "$TMP/B/directory.pin" "$TMP/pin.before"
FAR=$((H + 5000))
COFFER_HOME="$TMP/A" "$FORGE" --server "$PROXY_URL" --home "$TMP/A" --account alice \
    dir-resign --version "$FAR" --out "$TMP/far" || fail "forge dir-resign"
record "$H" "$TMP/head"
setdir "$FAR" "$TMP/far"
coffer_in B 1 '' --json status
grep -q "too far behind" "$TMP/out" "$TMP/err" || fail "no 'too far behind' message"
cmp -s "$TMP/B/directory.pin" "$TMP/pin.before" || fail "a head too far ahead moved the pin"
echo "ok: a head 5000 versions ahead: exit 1, 'too far behind', pin unchanged"
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-10]^=1; open(sys.argv[1],"wb").write(bytes(b))' "$TMP/far"
setdir "$FAR" "$TMP/far"
coffer_in B 3 '' --json status
cmp -s "$TMP/B/directory.pin" "$TMP/pin.before" || fail "a forged far head moved the pin"
echo "ok: a forged head 5000 versions ahead: exit 3, pin unchanged"
setdir "$H" "$TMP/head"
coffer_in B 0 --json status
[ "$(pin_version B)" = "$H" ] || fail "B's pin after the store was put back"

proxy_stop
srv_stop
echo "84-directory-catchup: ok"
