#!/bin/sh
# Each size cap is defined once (lib/net/caps.h) and the server's body
# caps are computed from it (issue #11): a directory record of exactly
# its cap, 16 MiB (FORMAT §16, API §7), round-trips through the real
# server (put, fetched back byte for byte); one byte more is refused with
# 400 "malformed directory record" and nothing of it reaches the store
# (tried first: forge reads the directory head, and a filler record does
# not verify as one).
. "$(dirname "$0")/lib.sh"

CAP=16777216

srv_start "$TMP/data"
make_account A laptop
V0=$(sql 'select dir_version from accounts where name = ?' alice)

forge() {
	if COFFER_HOME="$TMP/A" "$FORGE" --server "$SRV_URL" --home "$TMP/A" \
	    --account alice dir-put-size --size "$1" >"$TMP/out" 2>"$TMP/err"
	then rc=0; else rc=$?; fi
	if grep -q 'Sanitizer\|runtime error' "$TMP/err"; then
		fail "sanitizer report from forge"; fi
}

forge $((CAP + 1))
[ "$rc" = 1 ] || { cat "$TMP/out" "$TMP/err"; fail "one byte over the cap: forge exited $rc, want 1"; }
grep -qx "refused 400 malformed directory record" "$TMP/out" ||
    { cat "$TMP/out" "$TMP/err"; fail "one byte over the cap: not refused as malformed"; }
[ "$(sql 'select dir_version from accounts where name = ?' alice)" = "$V0" ] ||
    fail "the refused record moved the directory version"
[ "$(sql 'select count(*) from dirs d join accounts a on d.account = a.id where a.name = ? and d.version > ?' alice "$V0")" = 0 ] ||
    fail "the refused record reached the store"
grep -q '"status":"400"' "$TMP/server.log" || fail "no 400 in the server log"
echo "ok: one byte over the cap: 400 'malformed directory record', store unchanged"

forge "$CAP"
[ "$rc" = 0 ] || { cat "$TMP/out" "$TMP/err"; fail "a record at the cap: forge exited $rc"; }
grep -qx "stored version $((V0 + 1)) bytes $CAP" "$TMP/out" ||
    { cat "$TMP/out"; fail "a record at the cap was not stored as sent"; }
[ "$(sql 'select length(d.record) from dirs d join accounts a on d.account = a.id where a.name = ? and d.version = ?' alice $((V0 + 1)))" = "$CAP" ] ||
    fail "the store does not hold the record at its size"
echo "ok: a directory record of exactly $CAP bytes round-trips"

srv_stop
echo "PASS 110-caps"
