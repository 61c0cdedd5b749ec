#!/bin/sh
# Pull writes files in parallel (issues #5, #7; DESIGN §7): worker threads
# fetch batches of chunks, open each and write it into the file's
# temporary name; a file is renamed into place only once all its chunks
# are verified.  A tree of many small files and one file of many chunks
# (pulled across several batches and threads): through the proxy, one
# chunk near the end of the big file flipped, or dropped.  Each pull
# exits 3 and leaves in the target nothing of the big file and no
# temporary file, only files of the version that were wholly verified
# (lib.sh verified_only).  check --read-data refuses the same chunk.
# Without a rule the pull is exact, into an empty folder and over an
# older version (--overwrite --delete).
. "$(dirname "$0")/lib.sh"
need_client account drive push pull check

srv_proxy_start "$TMP/data"
proxy_account
$GEN 65 "$TMP/src" --files 400 --no-big
ADV_SRC="$TMP/src"
# Version 1 without the big file, version 2 with it: the chunks new in
# version 2 are the big file's (in file order, as the walk visits them).
push docs "$TMP/src"
walk docs
awk '$1 == "chunk" { print $2 }' "$TMP/walk" | sort >"$TMP/chunks1"
mkdir -p "$TMP/src/m"
python3 -S - "$TMP/src/m/huge.bin" <<'EOF'
import random, sys
r = random.Random(65)
with open(sys.argv[1], "wb") as f:
    for _ in range(24):
        f.write(r.randbytes(1 << 20))
EOF
push docs "$TMP/src"
walk docs
awk '$1 == "chunk" { print $2 }' "$TMP/walk" >"$TMP/chunks2"
grep -v -x -F -f "$TMP/chunks1" "$TMP/chunks2" >"$TMP/bigchunks" || true
nbig=$(wc -l <"$TMP/bigchunks" | tr -d ' ')
[ "$nbig" -ge 10 ] || fail "the big file has $nbig chunks, want many"
NEAR_END=$(sed -n "$((nbig - 1))p" "$TMP/bigchunks")
[ -n "$NEAR_END" ] || fail "no chunk near the end of the big file"
nfiles=$(find "$TMP/src" -type f | wc -l | tr -d ' ')
[ "$nfiles" -ge 300 ] || fail "only $nfiles files in the source"

# Control: no rule, an exact copy.
pull_ok docs "$TMP/pulls/ok"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/ok" || fail "the untampered pull is not exact"
rm -rf "$TMP/pulls/ok"

# nothing_of_big DIR: no huge.bin and no temporary name anywhere in DIR.
nothing_of_big() {
	[ ! -e "$1/m/huge.bin" ] || fail "the big file with a bad chunk is in the target"
	left=$(find "$1" -name '.coffer-tmp-*' | head -3)
	[ -z "$left" ] || fail "temporary files left: $left"
}

mkdir "$TMP/pulls/t"
T="$TMP/pulls/t"
TOUCH_OK=1
for op in flip drop; do
	case $op in
	flip) rule="{\"op\": \"flip\", \"id\": \"$NEAR_END\", \"byte\": -40, \"bit\": 3}" ;;
	drop) rule="{\"op\": \"drop\", \"id\": \"$NEAR_END\"}" ;;
	esac
	rules "[$rule]"
	arm
	pull_refused "chunk $((nbig - 1)) of $nbig of the big file: $op" docs "$T"
	nothing_of_big "$T"
	# pull_refused emptied the target again; show it also with the
	# files of version 1 in place (--overwrite --delete).
	rules '[]'
	pull_ok docs "$T" --version 1
	rules "[$rule]"
	arm
	pull_refused "over version 1, the big file's chunk $op" docs "$T" \
	    --overwrite --delete
	nothing_of_big "$T"
	rm -rf "$T"
	mkdir "$T"
done
# Something of the version was written in parallel before the refusal:
# the refusals above are of a pull in flight, not of one that never ran.
rules "[{\"op\": \"flip\", \"id\": \"$NEAR_END\", \"byte\": -40, \"bit\": 3}]"
arm
expect_exit 3 '' "$COFFER" pull docs "$T"
n=$(find "$T" -type f | wc -l | tr -d ' ')
echo "ok: a refused pull left $n verified files of $nfiles"
nothing_of_big "$T"

# check --read-data reads every chunk in parallel too: refused.
expect_exit 3 '' "$COFFER" check --read-data
rules '[]'
expect_exit 0 "$COFFER" check --read-data

# Without a rule, over a refused pull's leftovers: exact.
pull_ok docs "$T" --overwrite --delete
$CMP --ignore-top "$TMP/src" "$T" || fail "the pull after the refusals is not exact"

srv_stop
echo "ok: a bad chunk near the end of a big file refused; nothing of it written"
