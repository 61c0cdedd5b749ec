#!/bin/sh
# device remove --rekey (issue #6), three devices: A removes B with
# --rekey; the current version is re-sealed under a new drive secret as a
# new version, which C accepts and pulls exactly; no chunk id of the new
# head is one of the old head's (same content: the ids come from the new
# secret, which B never had); B is refused (exit 4); an empty drive stays
# empty; A's temporary folder is gone.
. "$(dirname "$0")/lib.sh"
TESTS=$(cd "$(dirname "$0")/.." && pwd)
COFFER="$COFFER_BUILD/cli/coffer"
FORGE="$COFFER_BUILD/tests/forge"
GEN="python3 $TESTS/gen_tree.py"
CMP="python3 $TESTS/compare_tree.py --ignore-top"

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
	tail -1 "$TMP/out" | python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(str(v).lower() if isinstance(v,bool) else v)' "$1"
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
	JOINED=$(tail -1 "$TMP/join.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["device_id"])')
}
chunks() {
	"$FORGE" --server "$SRV_URL" --home "$TMP/A" --account alice walk --drive docs |
	    sed -n 's/^chunk \([0-9a-f]*\) .*/\1/p' | sort -u
}

srv_start "$TMP/data"
mkdir -m 700 "$TMP/A"
run 0 A account create --server "$SRV_URL" alice --name A
run 0 A drive create docs
run 0 A drive create empty
$GEN 831 "$TMP/src" --files 15 >/dev/null
run 0 A push docs "$TMP/src"
chunks >"$TMP/before"
[ -s "$TMP/before" ] || fail "no chunks listed"
join B; BID=$JOINED
join C
run 0 B pull docs "$TMP/pullB"

run 0 A device remove "$BID" --rekey
[ "$(key rekeyed)" = true ] || fail "rekeyed"
run 0 A log docs
[ "$(key version)" = 2 ] || fail "the re-sealed version is not version 2"
chunks >"$TMP/after"
[ -s "$TMP/after" ] || fail "no chunks listed after"
[ -z "$(comm -12 "$TMP/before" "$TMP/after")" ] || fail "a chunk id survived the rekey"
[ -z "$(find "$TMP/A" -name 'rekey-*')" ] || fail "the temporary folder is left"

# C accepts the new head and reads it exactly; B is refused.
run 0 C pull docs "$TMP/pullC"
$CMP "$TMP/src" "$TMP/pullC" || fail "C's pull of the re-sealed version differs"
run 0 C pull docs "$TMP/pullC1" --version 1
$CMP "$TMP/src" "$TMP/pullC1" || fail "version 1 is no longer readable"
run 0 C log empty
[ ! -s "$TMP/out" ] || fail "the empty drive got a version"
run 4 B pull docs "$TMP/pullB2"
# Pushes go on under the new secret, on A and on C.
echo more >"$TMP/src/more"
run 0 C push docs "$TMP/src"
run 0 A pull docs "$TMP/pullA"
$CMP "$TMP/src" "$TMP/pullA" || fail "A's pull of C's version differs"

srv_stop
echo "83-devices-rekey: ok"
