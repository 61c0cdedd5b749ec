#!/bin/sh
# Build coffer and run every test suite: unit tests (plain build), the same
# under ASan+UBSan, the end-to-end scripts, the fuzzers (about 15 s each)
# and the lint.  Ends with "N passed, N failed" and exits non-zero if
# anything failed.  Usage: scripts/test.sh [--quick]   (--quick: no fuzz)
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
FUZZ_SECONDS=${COFFER_FUZZ_SECONDS:-15}

scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

PASS=0
FAIL=0
LOG="$ROOT/build-logs"
mkdir -p "$LOG"

note() { printf '== %s\n' "$*"; }
pass() { PASS=$((PASS + $1)); }
fail() { FAIL=$((FAIL + $1)); }

# setup_build DIR [meson options...]: configure (or reconfigure) and build.
setup_build() {
	dir=$1; shift
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$@" "$dir" >"$LOG/$(basename "$dir").setup" 2>&1
	else
		meson setup "$@" "$dir" >"$LOG/$(basename "$dir").setup" 2>&1
	fi || { cat "$LOG/$(basename "$dir").setup"; return 1; }
	# ONLY_PREFIX: build just the targets whose names start with it.
	targets=
	if [ -n "${ONLY_PREFIX:-}" ]; then
		targets=$(ninja -C "$dir" -t targets all 2>/dev/null |
		    sed -n "s|^\(${ONLY_PREFIX}[A-Za-z0-9_]*\): .*|\1|p")
	fi
	# shellcheck disable=SC2086 # word splitting of the target list
	ninja -C "$dir" $targets >"$LOG/$(basename "$dir").build" 2>&1 ||
	    { tail -50 "$LOG/$(basename "$dir").build"; return 1; }
}

# run_units DIR LABEL: run every unit test program built in DIR/tests.
run_units() {
	dir=$1; label=$2
	for t in "$dir"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name=$(basename "$t")
		out="$LOG/$label.$name.log"
		if "$t" >"$out" 2>&1; then rc=0; else rc=$?; fi
		res=$(grep '^RESULT ' "$out" | tail -1)
		if [ -n "$res" ]; then
			p=$(echo "$res" | sed -n 's/.*passed=\([0-9]*\).*/\1/p')
			f=$(echo "$res" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
		else
			p=0; f=0
		fi
		# A crash or a non-zero exit with no failed case is one failure.
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
		pass "$p"; fail "$f"
		printf '%-6s %-22s %3s passed, %s failed\n' "$label" "$name" "$p" "$f"
		if [ "$f" != 0 ]; then
			grep -E '^(not ok|FAIL)|ERROR|runtime error' "$out" | head -20
		fi
	done
}

# --- plain build -------------------------------------------------------
note "build (gcc, warnings as errors)"
if setup_build build; then
	run_units build plain
else
	echo "plain build failed"; fail 1
fi

# --- ASan + UBSan --------------------------------------------------------
note "build (ASan+UBSan)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
if setup_build build-asan -Db_sanitize=address,undefined \
    -Dc_args=-fno-sanitize-recover=all -Db_lundef=false; then
	run_units build-asan asan
else
	echo "ASan build failed"; fail 1
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

# --- end-to-end scripts -----------------------------------------------------
# run_e2e DIR LABEL OUT: every tests/e2e/NN-*.sh against the programs in
# DIR; one line per script into OUT ("ok NAME SECS" or "FAILED NAME").
# The plain and ASan runs go side by side (every script picks its own
# ports and temporary folders), which halves the wall time on two cores.
run_e2e() {
	dir=$1; label=$2; out=$3
	: >"$out"
	for s in tests/e2e/[0-9]*.sh; do
		[ -f "$s" ] || continue
		name=$(basename "$s")
		t0=$(date +%s)
		if COFFER_BUILD="$ROOT/$dir" sh "$s" >"$LOG/$label.$name.log" 2>&1; then
			echo "ok $name $(( $(date +%s) - t0 ))" >>"$out"
		else
			echo "FAILED $name" >>"$out"
		fi
	done
}
# report_e2e LABEL OUT: count and print the lines of a run_e2e result.
report_e2e() {
	label=$1; out=$2
	while read -r st name secs; do
		if [ "$st" = ok ]; then
			pass 1; printf '%-8s %-30s ok (%ss)\n' "$label" "$name" "$secs"
		else
			fail 1; printf '%-8s %-30s FAILED\n' "$label" "$name"
			tail -20 "$LOG/$label.$name.log"
		fi
	done <"$out"
}
note "end-to-end (plain and ASan+UBSan builds, side by side)"
rm -f "$LOG"/asan.*
# Against the ASan+UBSan programs every process, servers in the
# background included, writes any report to $LOG/asan.*; there must be none.
(
	export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$LOG/asan"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOG/asan"
	run_e2e build-asan e2e-asan "$LOG/e2e-asan.result"
) &
asan_pid=$!
run_e2e build e2e "$LOG/e2e.result"
wait "$asan_pid"
report_e2e e2e "$LOG/e2e.result"
report_e2e e2e-asan "$LOG/e2e-asan.result"
if ls "$LOG"/asan.* >/dev/null 2>&1; then
	fail 1; echo "e2e-asan sanitizer reports:"; head -40 "$LOG"/asan.*
else
	pass 1; echo "e2e-asan no sanitizer reports"
fi

# --- fuzzers ---------------------------------------------------------------
# fuzz_one FUZZER: run one harness for FUZZ_SECONDS on a copy of its seed
# corpus; the verdict goes to $LOG/fuzz.NAME.result.
fuzz_one() {
	f=$1; name=$(basename "$f")
	work=$(mktemp -d)
	[ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/"
	# The fuzz build recovers from UBSan reports: make one fatal, or
	# undefined behaviour found by a fuzzer passes unseen.
	if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    "$f" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 \
	    -timeout=10 -artifact_prefix="$LOG/$name-" "$work" \
	    >"$LOG/fuzz.$name.log" 2>&1; then
		echo ok >"$LOG/fuzz.$name.result"
	else
		echo FAILED >"$LOG/fuzz.$name.result"
	fi
	rm -rf "$work"
}
if [ "$QUICK" = 0 ]; then
	note "build (clang, libFuzzer, ASan+UBSan)"
	# Only the harnesses (and what they link): the fuzz build's programs
	# and tests would add minutes and are built and run above.
	if CC=clang ONLY_PREFIX=fuzz/fuzz_ setup_build build-fuzz -Dfuzz=true \
	    -Db_sanitize=address,undefined -Db_lundef=false; then
		# Two harnesses at a time: each is single-threaded.
		rm -f "$LOG"/fuzz.*.result
		running=0
		for f in build-fuzz/fuzz/fuzz_*; do
			[ -f "$f" ] && [ -x "$f" ] || continue
			fuzz_one "$f" &
			running=$((running + 1))
			if [ "$running" -ge 2 ]; then
				wait; running=0
			fi
		done
		wait
		for f in build-fuzz/fuzz/fuzz_*; do
			[ -f "$f" ] && [ -x "$f" ] || continue
			name=$(basename "$f")
			if [ "$(cat "$LOG/fuzz.$name.result" 2>/dev/null)" = ok ]; then
				pass 1
				runs=$(grep -o 'Done [0-9]* runs' "$LOG/fuzz.$name.log" | tail -1)
				printf 'fuzz   %-22s ok (%s)\n' "$name" "$runs"
			else
				fail 1
				printf 'fuzz   %-22s FAILED\n' "$name"
				grep -E 'ERROR|SUMMARY' "$LOG/fuzz.$name.log" | head -5
			fi
		done
	else
		echo "fuzz build failed"; fail 1
	fi
fi

# --- lint -------------------------------------------------------------------
if scripts/lint.sh >"$LOG/lint.log" 2>&1; then
	pass 1; echo "lint   banned functions        ok"
else
	fail 1; echo "lint   banned functions        FAILED"; cat "$LOG/lint.log"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
