#!/bin/sh
# device remove --rekey (issue #6), three devices: A removes B with
# --rekey; the current version is re-sealed under a new drive secret as a
# new version, which C accepts and pulls exactly; no chunk id of the new
# head is one of the old head's (same content: the ids come from the new
# secret, which B never had); B is refused (exit 4); an empty drive stays
# empty; A's temporary folder is gone.
. "$(dirname "$0")/lib.sh"

chunks() {
	"$FORGE" --server "$SRV_URL" --home "$TMP/A" --account alice walk --drive docs |
	    sed -n 's/^chunk \([0-9a-f]*\) .*/\1/p' | sort -u
}

srv_start "$TMP/data"
mkdir -m 700 "$TMP/A"
coffer_in A 0 --json account create --server "$SRV_URL" alice --name A
coffer_in A 0 --json drive create docs
coffer_in A 0 --json drive create empty
$GEN 831 "$TMP/src" --files 15 >/dev/null
coffer_in A 0 --json push docs "$TMP/src"
chunks >"$TMP/before"
[ -s "$TMP/before" ] || fail "no chunks listed"
make_device B; BID=$JOINED
make_device C
coffer_in B 0 --json pull docs "$TMP/pullB"

coffer_in A 0 --json device remove "$BID" --rekey
[ "$(key rekeyed)" = true ] || fail "rekeyed"
coffer_in A 0 --json log docs
[ "$(key version)" = 2 ] || fail "the re-sealed version is not version 2"
chunks >"$TMP/after"
[ -s "$TMP/after" ] || fail "no chunks listed after"
[ -z "$(comm -12 "$TMP/before" "$TMP/after")" ] || fail "a chunk id survived the rekey"
[ -z "$(find "$TMP/A" -name 'rekey-*')" ] || fail "the temporary folder is left"

# C accepts the new head and reads it exactly; B is refused.
coffer_in C 0 --json pull docs "$TMP/pullC"
$CMP --ignore-top "$TMP/src" "$TMP/pullC" || fail "C's pull of the re-sealed version differs"
coffer_in C 0 --json pull docs "$TMP/pullC1" --version 1
$CMP --ignore-top "$TMP/src" "$TMP/pullC1" || fail "version 1 is no longer readable"
coffer_in C 0 --json log empty
[ ! -s "$TMP/out" ] || fail "the empty drive got a version"
coffer_in B 4 '' --json pull docs "$TMP/pullB2"
# Pushes go on under the new secret, on A and on C.
echo more >"$TMP/src/more"
coffer_in C 0 --json push docs "$TMP/src"
coffer_in A 0 --json pull docs "$TMP/pullA"
$CMP --ignore-top "$TMP/src" "$TMP/pullA" || fail "A's pull of C's version differs"

srv_stop
echo "83-devices-rekey: ok"
