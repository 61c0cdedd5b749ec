#!/bin/bash
# Where coffer's time goes: profile push, pull and check --read-data of a
# small dataset against a local cofferd (docs/PERFORMANCE.md).
#
#   bench/profile.sh [--scale F] [--tool perf|callgrind] [--out DIR]
#
#   --scale F     dataset scale (default 0.1: about 100 MiB, 2,000 files)
#   --tool perf   (default) perf record -e cpu-clock (a software clock: works
#                 in VMs without hardware counters), client and server both,
#                 DWARF call graphs; reports per library and per symbol,
#                 self and with children
#   --tool callgrind   valgrind --tool=callgrind on the client only
#                 (instruction counts; inclusive costs of the exported entry
#                 points of libsodium and libzstd, whose own symbols are
#                 stripped in Debian)
#   --out DIR     keep the reports in DIR (default: print them only)
#
# Uses the binaries of build-bench (bench/run.sh builds them).  Everything
# else lives in one temporary folder, removed at the end.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SCALE=0.1
TOOL=perf
OUT=
while [ $# -gt 0 ]; do
	case $1 in
	--scale) SCALE=$2; shift 2 ;;
	--tool) TOOL=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*) echo "usage: bench/profile.sh [--scale F] [--tool perf|callgrind] [--out DIR]" >&2
	   exit 2 ;;
	esac
done
BUILD=${COFFER_BENCH_BUILD:-$ROOT/build-bench}
COFFER=$BUILD/cli/coffer
COFFERD=$BUILD/server/cofferd
for b in "$COFFER" "$COFFERD"; do
	[ -x "$b" ] || { echo "profile: $b not built (run bench/run.sh --tiny first)" >&2; exit 1; }
done
case $TOOL in
perf)
	if ! perf record -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
		echo "profile: perf record does not work here; use --tool callgrind" >&2
		exit 1
	fi ;;
callgrind) command -v valgrind >/dev/null || { echo "profile: no valgrind" >&2; exit 1; } ;;
*) echo "profile: --tool perf or callgrind" >&2; exit 2 ;;
esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/coffer-profile-XXXXXX")
SRV_PID=
PERF_SRV=
cleanup() {
	[ -n "$PERF_SRV" ] && kill -INT "$PERF_SRV" 2>/dev/null
	[ -n "$SRV_PID" ] && kill -TERM "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
REP=${OUT:-$TMP/reports}
mkdir -p "$REP"

python3 bench/dataset.py 1 "$TMP/ds" --scale "$SCALE"
"$COFFERD" --listen 127.0.0.1:0 --data "$TMP/data" >"$TMP/ready" 2>"$TMP/server.log" &
SRV_PID=$!
i=0
while ! grep -q '"ready": true' "$TMP/ready" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 300 ] && kill -0 "$SRV_PID" 2>/dev/null || { echo "cofferd did not start"; exit 1; }
	sleep 0.05
done
URL="http://127.0.0.1:$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$TMP/ready")"
export COFFER_HOME=$TMP/home
"$COFFER" account create --server "$URL" profile >/dev/null &&
    "$COFFER" drive create p >/dev/null || { echo "profile: account/drive failed"; exit 1; }
mkdir "$TMP/rt"

# The server's requests during one client command: count and mean time per path.
requests() {
	sed -n 's/.*"path":"\([^"]*\)".*"ms":"\([0-9]*\)".*/\1 \2/p' "$TMP/server.log" |
	    sed 's/[0-9a-f]\{64\}/X/g' |
	    awk '{ n[$1]++; s[$1] += $2 } END { for (p in n) printf "  %6d x %-40s %6.2f ms mean\n", n[p], p, s[p] / n[p] }' |
	    sort -rn
	: >"$TMP/server.log"
}

perf_report() {
	local f=$1
	{
		echo "-- per library (self)"
		perf report -i "$f" --no-children --sort dso --stdio 2>/dev/null |
		    grep -E '^ +[0-9.]+%' | head -n 12
		echo "-- per symbol (self)"
		perf report -i "$f" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
		    grep -E '^ +[0-9.]+%' | head -n 25
		echo "-- per symbol (with children)"
		perf report -i "$f" --children --sort symbol --stdio -g none 2>/dev/null |
		    grep -E '^ +[0-9.]+%' | head -n 40
	}
}

profile() {
	local name=$1
	shift
	echo "== $name: $*"
	: >"$TMP/server.log"
	if [ "$TOOL" = perf ]; then
		perf record -q -e cpu-clock --call-graph dwarf,16384 -o "$TMP/srv-$name.data" \
		    -p "$SRV_PID" >/dev/null 2>&1 &
		PERF_SRV=$!
		sleep 0.5
		/usr/bin/time -f "  wall %e s, client peak RSS %M KiB, user %U s, sys %S s" \
		    perf record -q -e cpu-clock --call-graph dwarf,16384 -o "$TMP/cli-$name.data" \
		    "$@" >/dev/null 2>"$TMP/err" || { echo "  failed:"; tail -n 3 "$TMP/err"; }
		grep -v '^\[ perf' "$TMP/err" | tail -n 1
		kill -INT "$PERF_SRV"
		wait "$PERF_SRV" 2>/dev/null
		PERF_SRV=
		{ echo "### client: $name"; perf_report "$TMP/cli-$name.data"; } >"$REP/client-$name.txt"
		{ echo "### server: $name"; perf_report "$TMP/srv-$name.data"; } >"$REP/server-$name.txt"
		head -n 14 "$REP/client-$name.txt" | sed 's/^/  /'
		echo "  server:"
		sed -n '2,10p' "$REP/server-$name.txt" | sed 's/^/  /'
		rm -f "$TMP/cli-$name.data" "$TMP/srv-$name.data"
	else
		valgrind --tool=callgrind --callgrind-out-file="$TMP/cg-$name.out" "$@" \
		    >/dev/null 2>"$TMP/err" || { echo "  failed:"; tail -n 3 "$TMP/err"; }
		callgrind_annotate --inclusive=yes "$TMP/cg-$name.out" 2>/dev/null |
		    sed -n '/PROGRAM TOTALS/p; /file:function/,$p' |
		    head -n 45 >"$REP/callgrind-$name.txt"
		sed 's/^/  /' "$REP/callgrind-$name.txt" | head -n 30
		rm -f "$TMP/cg-$name.out"
	fi
	echo "  server requests:"
	requests
}

profile push "$COFFER" push p "$TMP/ds"
profile pull "$COFFER" pull p "$TMP/rt"
profile check "$COFFER" check --read-data
[ -n "$OUT" ] && echo "reports in $OUT"
