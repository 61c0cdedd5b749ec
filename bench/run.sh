#!/bin/bash
# The benchmark of issue #7: coffer side by side with restic and borg, and
# each coffer figure against the machine's limits (docs/PERFORMANCE.md).
#
#   bench/run.sh [--scale F] [--runs N] [--tiny] [--seed S] [--tools LIST] [--out DIR]
#
#   --scale F   dataset size: F GiB in F x 20,000 files (default 1)
#   --runs N    runs of each tool, alternating (default 3)
#   --tiny      a smoke run: --scale 0.02 (about 20 MiB, 400 files), 1 run,
#               short server benchmark
#   --tools LIST  a comma-separated subset of coffer,restic-off,restic-auto,borg
#               (default all; e.g. to see how peak RSS grows with --scale)
#   --out DIR   also keep the raw results and the table in DIR
#
# Order: set-up and build; the machine's limits (per-core crypto and
# chunker speed, fsync'd sequential write, then on the dataset: warm and
# cold read, a stat walk, cp -r); the server alone (batched puts); then
# N rounds of coffer, restic (compression off), restic (auto) and borg,
# each on a fresh copy of the first state at the same path: initial
# backup, --mutate, incremental, nothing changed, restore into an empty
# folder (checked against the source with diff -r), verify all data,
# repository size.  Warm cache throughout except the cold read; nothing
# timed includes a sync.  Everything lives in one temporary folder
# ($TMPDIR, default /tmp), removed at the end.
#
# Not a test and not run in CI.  Without a coffer client that has push,
# pull and check, the coffer column says "coffer: not built yet".
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SCALE=1
RUNS=3
SEED=1
TINY=0
OUT=
SB_SECONDS=5
TOOLS=coffer,restic-off,restic-auto,borg
while [ $# -gt 0 ]; do
	case $1 in
	--scale) SCALE=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--tools) TOOLS=$2; shift 2 ;;
	--tiny) TINY=1; SCALE=0.02; RUNS=1; SB_SECONDS=2; shift ;;
	*) echo "usage: bench/run.sh [--scale F] [--runs N] [--tiny] [--seed S] [--tools LIST] [--out DIR]" >&2
	   exit 2 ;;
	esac
done
case $RUNS in ''|*[!0-9]*) echo "--runs: a number" >&2; exit 2 ;; esac
[ "$RUNS" -ge 1 ] || { echo "--runs: at least 1" >&2; exit 2; }
if [ "$TINY" = 0 ] && [ "$RUNS" -lt 3 ]; then
	echo "bench: note: fewer than 3 runs; medians are indicative only" >&2
fi

BUILD=${COFFER_BENCH_BUILD:-$ROOT/build-bench}
bench/setup.sh >/dev/null || { echo "bench: bench/setup.sh failed" >&2; exit 1; }

# ---- build (each target on its own: the client may be half-written) ----
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" >/dev/null || exit 1
fi
for t in bench/cryptospeed bench/padshare server/cofferd bench/serverbench cli/coffer; do
	if ! ninja -C "$BUILD" "$t" >"$BUILD/bench-build-${t##*/}.log" 2>&1; then
		echo "bench: building $t failed (see $BUILD/bench-build-${t##*/}.log)"
	fi
done
CRYPTOSPEED=$BUILD/bench/cryptospeed
PADSHARE=$BUILD/bench/padshare
COFFERD=$BUILD/server/cofferd
SERVERBENCH=$BUILD/bench/serverbench
COFFER=$BUILD/cli/coffer

TMP=$(mktemp -d "${TMPDIR:-/tmp}/coffer-bench-XXXXXX")
SRV_PID=
cleanup() {
	if [ -n "$SRV_PID" ]; then kill -TERM "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RES=$TMP/results.tsv
LIM=$TMP/limits.tsv
: >"$RES"
: >"$LIM"
ORIG=$TMP/orig		# the first state, never touched
W=$TMP/w		# the working copy every tool backs up (same path each time)
RT=$TMP/restore

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
lim() { printf '%s\t%s\n' "$1" "$2" >>"$LIM"; }

# timed CMD...: run CMD (output to $TMP/out, $TMP/err); sets SECS and RSS
# (peak RSS in KiB, GNU time).  Returns CMD's status.
timed() {
	local t0 t1 rc
	t0=$(now)
	/usr/bin/time -f '%M' -o "$TMP/rss" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	t1=$(now)
	SECS=$(elapsed "$t0" "$t1")
	RSS=$(tail -n 1 "$TMP/rss")
	return $rc
}

# record TOOL RUN OP CMD...: sync (untimed), then time CMD into the results.
record() {
	local tool=$1 run=$2 op=$3
	shift 3
	sync
	if ! timed "$@"; then
		echo "  $tool $op: FAILED ($*)"
		sed 's/^/    /' "$TMP/err" | tail -n 5
		printf '%s\t%s\tfailed\t%s\t\n' "$tool" "$run" "$op" >>"$RES"
		return 1
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$run" "$op" "$SECS" "$RSS" >>"$RES"
	printf '  %-12s %-12s %8.2f s  %7d KiB\n' "$tool" "$op" "$SECS" "$RSS"
}

repo_size() {
	printf '%s\t%s\trepo_bytes\t%s\t\n' "$1" "$2" "$(du -sb "$3" | cut -f1)" >>"$RES"
}

# The restored tree must equal the second state.
same_tree() {
	if ! diff -r --no-dereference "$W" "$1" >"$TMP/diff" 2>&1; then
		echo "  $2: RESTORE DIFFERS from the source:"
		head -n 5 "$TMP/diff" | sed 's/^/    /'
		return 1
	fi
}

fresh_copy() {
	rm -rf "$W" "$RT"
	cp -a "$ORIG" "$W"
	mkdir "$RT"
	sync
}

mutate() {
	python3 bench/dataset.py --mutate "$SEED" "$W" --scale "$SCALE" >/dev/null
	# Past every tool's "too recent to trust the mtime" window.
	sleep 2
}

# ---- the machine ----
echo "== machine"
echo "  $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "  memory $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
    "disk $(df -h "$TMP" | awk 'NR == 2 { print $1 ", " $4 " free" }')"
echo "  load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  restic: $(restic version 2>/dev/null | cut -d' ' -f2); borg: $(borg --version 2>/dev/null | cut -d' ' -f2)"
lim nproc "$(nproc)"

echo "== machine limits"
if [ -x "$CRYPTOSPEED" ]; then
	"$CRYPTOSPEED" --json >"$TMP/cs" || true
	for k in blake2b xchacha chunker; do
		v=$(sed -n "s/.*\"what\": \"$k\", \"mb_per_s\": \([0-9.]*\).*/\1/p" "$TMP/cs")
		[ -n "$v" ] && lim "${k}_mbs" "$v" && echo "  $k (1 core): $v MB/s"
	done
else
	echo "  cryptospeed not built: crypto limits skipped"
fi

# fsync'd sequential write: as many bytes as the dataset (at least 64 MiB).
DD_MIB=$(awk -v s="$SCALE" 'BEGIN { m = int(1024 * s); print (m < 64 ? 64 : m) }')
sync
if timed dd if=/dev/zero of="$TMP/ddfile" bs=1M count="$DD_MIB" conv=fsync; then
	v=$(awk -v m="$DD_MIB" -v s="$SECS" 'BEGIN { printf "%.1f", m * 1048576 / s / 1e6 }')
	lim fsync_write_mbs "$v"
	echo "  sequential write + fsync ($DD_MIB MiB): $v MB/s"
fi
rm -f "$TMP/ddfile"

echo "== dataset (seed $SEED, scale $SCALE)"
t0=$(now)
python3 bench/dataset.py "$SEED" "$ORIG" --scale "$SCALE" | sed 's/^/  /' || exit 1
echo "  made in $(elapsed "$t0" "$(now)") s"
B=$(find "$ORIG" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
NF=$(find "$ORIG" -type f | wc -l)
lim dataset_bytes "$B"
lim dataset_files "$NF"
# Padmé's share of coffer's repository: chunks of the first state, sealed
# as push would (an estimate without trees, lists and commits).
if [ -x "$PADSHARE" ] && "$PADSHARE" "$ORIG" >"$TMP/pad"; then
	for k in payload padding sealed; do
		lim "padme_$k" "$(sed -n "s/.*\"$k\": \([0-9]*\).*/\1/p" "$TMP/pad")"
	done
	echo "  coffer chunks of this state: $(cat "$TMP/pad")"
fi
sync

readall() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }
statwalk() { find "$1" -printf '%s %T@ %C@ %i %m\n' >/dev/null; }
export -f readall statwalk

readall "$ORIG"
if (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
	timed bash -c 'readall "$1"' _ "$ORIG"
	lim read_cold_s "$SECS"
	echo "  cold read: $SECS s"
	readall "$ORIG"
else
	lim read_cold_s skipped
	echo "  cold read: skipped (cannot write /proc/sys/vm/drop_caches)"
fi
for i in $(seq "$RUNS"); do
	timed bash -c 'readall "$1"' _ "$ORIG"
	lim read_warm_s "$SECS"
	echo "  warm read: $SECS s"
	timed bash -c 'statwalk "$1"' _ "$ORIG"
	lim stat_walk_s "$SECS"
	echo "  stat walk: $SECS s"
	rm -rf "$TMP/cp"
	sync
	timed cp -r "$ORIG" "$TMP/cp"
	lim cp_r_s "$SECS"
	echo "  cp -r: $SECS s"
	rm -rf "$TMP/cp"
done

# ---- a cofferd on loopback, its ready line read ----
srv_start() {
	: >"$TMP/ready"
	"$COFFERD" --listen 127.0.0.1:0 --data "$1" >"$TMP/ready" 2>"$TMP/server.log" &
	SRV_PID=$!
	local i=0
	while ! grep -q '"ready": true' "$TMP/ready" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
			echo "  cofferd did not start"; tail -n 5 "$TMP/server.log"
			SRV_PID=
			return 1
		fi
		sleep 0.05
	done
	SRV_URL="http://127.0.0.1:$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$TMP/ready")"
}
srv_hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$SRV_PID/status" 2>/dev/null; }
srv_stop() {
	[ -n "$SRV_PID" ] || return 0
	kill -TERM "$SRV_PID"
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=
}

echo "== server alone (batched puts, ${SB_SECONDS} s per size)"
if [ -x "$SERVERBENCH" ] && [ -x "$COFFERD" ] && srv_start "$TMP/sb-data"; then
	COFFER_HOME="$TMP/sb-home" "$SERVERBENCH" "$SRV_URL" --seconds "$SB_SECONDS" \
	    >"$TMP/sb" 2>&1 || echo "  serverbench failed"
	sed 's/^/  /' "$TMP/sb"
	echo "  server peak RSS: $(srv_hwm) KiB"
	srv_stop
else
	echo "  skipped (cofferd or serverbench not built)"
fi
rm -rf "$TMP/sb-data" "$TMP/sb-home"

# ---- the tools ----
export RESTIC_PASSWORD=coffer-bench
export BORG_PASSPHRASE=coffer-bench
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes

coffer_ready() {
	[ -x "$COFFER" ] || return 1
	# Every command the benchmark uses must be known to this build.
	"$COFFER" --help >"$TMP/help" 2>&1
	for c in push pull check; do
		grep -qw "$c" "$TMP/help" || return 1
	done
}

run_coffer() {
	local r=$1 ok=1
	if ! coffer_ready; then
		printf 'coffer\t%s\tmissing\t\t\n' "$r" >>"$RES"
		echo "  coffer: not built yet"
		return 0
	fi
	export COFFER_HOME=$TMP/coffer-home
	rm -rf "$COFFER_HOME" "$TMP/cofferd-data"
	srv_start "$TMP/cofferd-data" || { printf 'coffer\t%s\tfailed\tserver\t\n' "$r" >>"$RES"; return 1; }
	if ! "$COFFER" account create --server "$SRV_URL" "bench$r" >"$TMP/out" 2>"$TMP/err" ||
	    ! "$COFFER" drive create bench >"$TMP/out" 2>"$TMP/err"; then
		echo "  coffer: account/drive create failed: $(tail -n 1 "$TMP/err")"
		printf 'coffer\t%s\tfailed\taccount\t\n' "$r" >>"$RES"
		srv_stop
		return 1
	fi
	record coffer "$r" initial "$COFFER" --json push bench "$W" || ok=0
	mutate
	[ $ok = 1 ] && { record coffer "$r" incremental "$COFFER" --json push bench "$W" || ok=0; }
	[ $ok = 1 ] && { record coffer "$r" unchanged "$COFFER" --json push bench "$W" || ok=0; }
	[ $ok = 1 ] && cp "$TMP/out" "$TMP/coffer-unchanged.json"
	[ $ok = 1 ] && { record coffer "$r" restore "$COFFER" pull bench "$RT" && same_tree "$RT" coffer || ok=0; }
	record coffer "$r" verify "$COFFER" check --read-data || ok=0
	printf 'coffer\t%s\tserver\t\t%s\n' "$r" "$(srv_hwm)" >>"$RES"
	srv_stop
	repo_size coffer "$r" "$TMP/cofferd-data"
	rm -rf "$TMP/cofferd-data" "$COFFER_HOME"
	unset COFFER_HOME
}

run_restic() {
	local r=$1 comp=$2 tool=restic-$2 repo=$TMP/restic-repo
	export RESTIC_CACHE_DIR=$TMP/restic-cache
	rm -rf "$repo" "$RESTIC_CACHE_DIR"
	restic -r "$repo" init --repository-version 2 >/dev/null 2>"$TMP/err" ||
	    { echo "  $tool: init failed"; return 1; }
	record "$tool" "$r" initial restic -r "$repo" --compression "$comp" backup --host bench "$W"
	mutate
	record "$tool" "$r" incremental restic -r "$repo" --compression "$comp" backup --host bench "$W"
	record "$tool" "$r" unchanged restic -r "$repo" --compression "$comp" backup --host bench "$W"
	record "$tool" "$r" restore restic -r "$repo" restore latest --target "$RT" &&
	    same_tree "$RT$W" "$tool"
	record "$tool" "$r" verify restic -r "$repo" check --read-data
	repo_size "$tool" "$r" "$repo"
	rm -rf "$repo" "$RESTIC_CACHE_DIR"
}

run_borg() {
	local r=$1 repo=$TMP/borg-repo
	export BORG_BASE_DIR=$TMP/borg-base
	rm -rf "$repo" "$BORG_BASE_DIR"
	borg init -e repokey-blake2 "$repo" >/dev/null 2>"$TMP/err" ||
	    { echo "  borg: init failed"; return 1; }
	record borg "$r" initial borg create "$repo::s1" "$W"
	mutate
	record borg "$r" incremental borg create "$repo::s2" "$W"
	record borg "$r" unchanged borg create "$repo::s3" "$W"
	record borg "$r" restore bash -c 'cd "$1" && borg extract "$2::s3"' _ "$RT" "$repo" &&
	    same_tree "$RT$W" borg
	record borg "$r" verify borg check --verify-data "$repo"
	repo_size borg "$r" "$repo"
	rm -rf "$repo" "$BORG_BASE_DIR"
}

want() { case ",$TOOLS," in *",$1,"*) return 0 ;; esac; return 1; }
for r in $(seq "$RUNS"); do
	echo "== round $r of $RUNS"
	want coffer && { fresh_copy; run_coffer "$r"; }
	want restic-off && { fresh_copy; run_restic "$r" off; }
	want restic-auto && { fresh_copy; run_restic "$r" auto; }
	want borg && { fresh_copy; run_borg "$r"; }
done
rm -rf "$W" "$RT"

echo "== load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== results: $NF files, $B bytes, $RUNS run(s); times in seconds, median (min-max)"
python3 bench/report.py "$RES" "$LIM" | tee "$TMP/table"
if [ -n "$OUT" ]; then
	mkdir -p "$OUT"
	cp "$RES" "$LIM" "$TMP/table" "$OUT/"
	[ -f "$TMP/coffer-unchanged.json" ] && cp "$TMP/coffer-unchanged.json" "$OUT/"
	echo "raw results in $OUT"
fi
