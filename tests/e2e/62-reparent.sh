#!/bin/sh
# A compare-and-swap conflict on push (DESIGN §7): a second copy of the
# device state, shown a stale head once (the proxy replays an older head
# answer), builds its snapshot on version 2 while the server is at 3; the
# head put is refused (409), and push verifies the new head, re-parents
# (version 4), says so on stderr and succeeds.  Both versions pull back
# exactly, and check verifies the whole line.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull check

srv_proxy_start "$TMP/data"
proxy_account dave
$GEN 621 "$TMP/s1" --files 6 --no-big >/dev/null
$GEN 622 "$TMP/s2" --files 6 --no-big >/dev/null
$GEN 623 "$TMP/s3" --files 6 --no-big >/dev/null
$GEN 624 "$TMP/s4" --files 6 --no-big >/dev/null
push docs "$TMP/s1"
push docs "$TMP/s2"
cp -a "$COFFER_HOME" "$TMP/home2"
push docs "$TMP/s3"		# records a head answer at version 2

rules '[{"op": "replay", "path": "/drives/[0-9a-f]*/head$", "method": "GET", "match": "\"version\": *2[^0-9]", "times": 1}]'
arm
COFFER_HOME="$TMP/home2" expect_exit 0 "$COFFER" --json push docs "$TMP/s4"
[ "$(hits)" -gt "$ARMED" ] || fail "the stale head was never served"
grep -q 're-parented' "$TMP/err" || fail "push did not say it re-parented"
grep -q '"version":4' "$TMP/out" || fail "re-parented push is not version 4"
echo "ok: conflict verified and re-parented"
rules '[]'

COFFER_HOME="$TMP/home2" expect_exit 0 "$COFFER" pull docs "$TMP/pulls/v4"
$CMP --ignore-top "$TMP/s4" "$TMP/pulls/v4" || fail "version 4 is not exact"
expect_exit 0 "$COFFER" pull docs "$TMP/pulls/v3" --version 3
$CMP --ignore-top "$TMP/s3" "$TMP/pulls/v3" || fail "version 3 is not exact"
expect_exit 0 "$COFFER" --json check --read-data
grep -q '"versions":4' "$TMP/out" || fail "check did not verify 4 versions"
expect_exit 0 "$COFFER" --json log docs
[ "$(wc -l <"$TMP/out")" = 4 ] || fail "log is not 4 versions"
proxy_stop
srv_stop
echo "ok: re-parent"
