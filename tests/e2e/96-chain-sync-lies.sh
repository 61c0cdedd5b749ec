#!/bin/sh
# The device chain from a lying server (issue #18):
# - memory: a server that answers the chain with page after page of
#   garbage (entries bigger than any entry may be, pages bigger than any
#   honest page, or many entry-sized entries) cannot grow the client:
#   each page is capped (16 MiB) and verified as it arrives, each entry is
#   capped at the entry maximum; `coffer status` exits 3 with its peak RSS
#   under a bound, and the device's files are unchanged;
# - notices: a change to the chain (a device added) is reported exactly
#   once, even when the server fails a request right after the chain
#   sync (503 on the directory, or on the envelopes: the command exits 4
#   but has said "device added"; the next run does not say it again);
# - rollback: a server that says "no such account" to a device that has
#   verified the account (the proxy answering 404, or a server restarted
#   on an empty data folder) is not "no account yet: run account create":
#   exit 3, "the server no longer shows this device's account", nothing
#   changed; a home with no account still gets "no account yet".
. "$(dirname "$0")/lib.sh"
need_client account drive status device

# Joins go through the proxy: join_start HOME DEVICE 60 "$PROXY_URL".

srv_proxy_start "$TMP/data"
make_home "$TMP/A"
coffer_in A 0 account create --server "$PROXY_URL" alice --name laptop
coffer_in A 0 drive create docs

# ---- memory: garbage pages ----
# The peak RSS bound: 100 MB, for the ASan build too (whose quarantine of
# freed memory is kept small here: it is no leak, but it would count).
BOUND=100000
ASAN_RSS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
CHAIN='/chain$'
# exhaust WHAT RULE: status through RULE exits 3 (not authentic), the
# proxy made up a page, A's files are unchanged, and the peak RSS (KiB,
# /usr/bin/time) stays under the bound.
exhaust() {
	snapshot "$TMP/A" "$TMP/home.before"
	rules "[$2]"
	arm
	if COFFER_HOME="$TMP/A" ASAN_OPTIONS="$ASAN_RSS" /usr/bin/time -f %M \
	    -o "$TMP/rss" "$COFFER" status >"$TMP/out" 2>"$TMP/err" </dev/null
	then rc=0; else rc=$?; fi
	rss=$(tail -1 "$TMP/rss")
	[ "$(hits)" -gt "$ARMED" ] || fail "$1: the proxy made up no page (test defect)"
	[ "$rc" = 3 ] || { cat "$TMP/err"; fail "$1: status exited $rc, want 3"; }
	grep -q "not authentic" "$TMP/err" || { cat "$TMP/err"; fail "$1: no reason given"; }
	[ "$rss" -lt "$BOUND" ] || fail "$1: peak RSS $rss KiB, bound $BOUND KiB"
	assert_unchanged "$TMP/A" "$TMP/home.before"
	rules '[]'
	echo "ok: $1: refused (exit 3), peak RSS $rss KiB, nothing changed"
}
# Pages of two 22 MiB entries (59 MB of base64: under the 64 MiB answer
# cap, far over a chain page and over the entry cap), 20 of them.
exhaust "pages of two 22 MiB entries" \
    "{\"op\": \"chain_pages\", \"path\": \"$CHAIN\", \"count\": 2, \"size\": 23068672, \"length\": 1000000, \"times\": 20}"
# Pages under the page cap whose one entry is over the entry cap (1 MiB).
exhaust "pages of one 1 MiB entry" \
    "{\"op\": \"chain_pages\", \"path\": \"$CHAIN\", \"count\": 1, \"size\": 1048576, \"length\": 1000000, \"times\": 400}"
# The real first page (the pinned entry), then pages of 150 entries of
# 64,000 bytes each (every one within the entry cap, 12.8 MB of base64 a
# page): kept until the end, 40 of them would be 380 MB.
exhaust "a real page, then pages of entry-sized garbage" \
    "{\"op\": \"chain_pages\", \"path\": \"$CHAIN\", \"count\": 150, \"size\": 64000, \"length\": 1000000, \"from_min\": 1, \"times\": 40}"
coffer_in A 0 status

# ---- notices: reported once, whatever fails after the chain ----
# C joins; then B is added while C looks away.
join_start C tablet 60 "$PROXY_URL"
coffer_in A 0 device approve "$CODE"
join_wait 0
coffer_in C 0 status
join_start B phone 60 "$PROXY_URL"
coffer_in A 0 device approve "$CODE"
join_wait 0
[ ! -e "$TMP/C/chain.unreported" ] || fail "C holds a report mark before any change"
# seen_once NAME RUNS...: "device added: 'NAME'" in exactly one of the
# stderr files given.
seen_once() {
	_name=$1; shift
	_n=$(cat "$@" | grep -c "device added: '$_name'" || true)
	[ "$_n" = 1 ] || { cat "$@"; fail "'device added: $_name' shown $_n times, want once"; }
}
rules "[{\"op\": \"status\", \"path\": \"/directory\$\", \"method\": \"GET\", \"code\": 503, \"times\": 1}]"
arm
coffer_in C 4 '' status
[ "$(hits)" -gt "$ARMED" ] || fail "the proxy did not fail the directory (test defect)"
cp "$TMP/err" "$TMP/c1.err"
rules '[]'
coffer_in C 0 status
cp "$TMP/err" "$TMP/c2.err"
seen_once phone "$TMP/c1.err" "$TMP/c2.err"
grep -q "device added: 'phone'" "$TMP/c1.err" ||
    fail "the notice waited for a run that succeeded"
[ ! -e "$TMP/C/chain.unreported" ] || fail "C kept its report mark after reporting"
echo "ok: 'device added' shown once, by the run whose directory request failed (exit 4)"

# The same with the envelopes refused: the notice cannot name the device
# (its name is sealed with the epoch keys) but gives its id, once.
join_start D desk 60 "$PROXY_URL"
coffer_in A 0 device approve "$CODE"
join_wait 0
DID=$(tail -1 "$TMP/join.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["device_id"])')
rules "[{\"op\": \"status\", \"path\": \"/envelopes\$\", \"method\": \"GET\", \"code\": 503, \"times\": 1}]"
arm
coffer_in C 4 '' status
[ "$(hits)" -gt "$ARMED" ] || fail "the proxy did not fail the envelopes (test defect)"
cp "$TMP/err" "$TMP/c3.err"
rules '[]'
coffer_in C 0 status
cat "$TMP/c3.err" "$TMP/err" >"$TMP/c34.err"
_n=$(grep -c "device added: .*$DID" "$TMP/c34.err" || true)
[ "$_n" = 1 ] || { cat "$TMP/c34.err"; fail "D's addition shown $_n times, want once"; }
grep -q "device added: .*$DID" "$TMP/c3.err" || fail "the notice waited for the envelopes"
echo "ok: 'device added' shown once, by the run whose envelope request failed (exit 4)"

# A session that fails after the chain is pinned but before it reports
# (the mark is on disk: here, a home whose report was cut short) reports
# on the next run: the mark names the first entry not reported.
LEN=$(python3 -c 'import sys,struct; b=open(sys.argv[1],"rb").read(); print(struct.unpack(">I", b[5:9])[0])' "$TMP/C/chain.pin")
ACCT=$(COFFER_HOME="$TMP/C" "$COFFER" --json status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["account_id"])')
python3 -c 'import sys; open(sys.argv[1],"wb").write(b"CFCU\x01"+bytes.fromhex(sys.argv[2])+(int(sys.argv[3])-1).to_bytes(8,"big"))' \
    "$TMP/C/chain.unreported" "$ACCT" "$LEN"
coffer_in C 0 status
grep -q "device added: .*$DID" "$TMP/err" || { cat "$TMP/err"; fail "a pending mark was not reported"; }
[ ! -e "$TMP/C/chain.unreported" ] || fail "the mark stayed after its report"
coffer_in C 0 status
! grep -q "device added" "$TMP/err" || fail "reported again"
echo "ok: a pending report mark is reported on the next run, then dropped"

# ---- rollback: the server no longer knows the account ----
GONE="no longer shows this device's account"
snapshot "$TMP/A" "$TMP/home.before"
rules "[{\"op\": \"status\", \"path\": \"$CHAIN\", \"method\": \"GET\", \"code\": 404, \"body\": {\"error\": \"no such account\"}}]"
arm
coffer_in A 3 '' status
[ "$(hits)" -gt "$ARMED" ] || fail "the proxy did not answer 404 (test defect)"
grep -q "$GONE" "$TMP/err" || { cat "$TMP/err"; fail "404: not told the account is gone"; }
! grep -q "no account yet\|account create" "$TMP/err" || fail "404: told to create an account"
assert_unchanged "$TMP/A" "$TMP/home.before"
coffer_in A 3 '' --json pull docs "$TMP/nowhere"
grep -q "$GONE" "$TMP/out" || fail "404 (pull --json): not told the account is gone"
grep -q '"status":3' "$TMP/out" || fail "404 (pull --json): status not 3"
echo "ok: a 404 on the chain of a pinned account: exit 3, 'no longer shows', nothing changed"
rules '[]'

# The server restarted on an empty data folder: every device is told so.
srv_stop
mkdir "$TMP/empty"
srv_start "$TMP/empty" --origin "$PROXY_URL"
rules '[]'
for h in A C; do
	snapshot "$TMP/$h" "$TMP/home.before"
	coffer_in "$h" 3 '' status
	grep -q "$GONE" "$TMP/err" || { cat "$TMP/err"; fail "$h on an empty server: not told the account is gone"; }
	! grep -q "no account yet" "$TMP/err" || fail "$h on an empty server: told it has no account"
	assert_unchanged "$TMP/$h" "$TMP/home.before"
done
echo "ok: a server restarted empty: exit 3, 'no longer shows', nothing changed"
# A home with no account still gets the advice to create one.
make_home "$TMP/N"
coffer_in N 1 '' status
grep -q "no account yet" "$TMP/err" || { cat "$TMP/err"; fail "a new home is not told to create an account"; }
echo "ok: a home without an account: 'no account yet' (exit 1)"
srv_stop
echo "ok: chain sync against a lying server"
