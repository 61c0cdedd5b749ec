#!/bin/sh
# Build coffer and run every test suite through meson test (the suites are
# defined in tests/meson.build, tests/e2e/meson.build, fuzz/meson.build):
#   build       gcc, warnings as errors: suite unit, and suite plain (the
#               e2e scripts that run only here, named in tests/e2e/meson.build)
#   build-asan  ASan+UBSan (-fno-sanitize-recover=all): suite unit again,
#               then every other e2e script once, two at a time; no process
#               (servers in the background included) may write a report
#   build-fuzz  clang, libFuzzer: suite fuzz, each harness for
#               COFFER_FUZZ_SECONDS (10), two at a time
#   lint        scripts/lint.sh, each check on its own line
# Ends with "N passed, N failed, N skipped" (unit tests count case by case,
# the rest one per test; a test that exits 77 could not run on this machine
# and is skipped, never passed) and exits non-zero if anything failed.
#
# Usage: scripts/test.sh [--quick | --long]
#   --quick  no fuzzing
#   --long   fuzz each harness for COFFER_FUZZ_SECONDS (600 by default),
#            run the suite 'long' too (none yet) and set COFFER_LONG=1 for
#            every test (a script may do more rounds under it)
# Per-test logs: build-logs/LABEL.NAME.log; meson's: build*/meson-logs/.
# MESON_TESTTHREADS sets how many tests run at a time (2).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)

MODE=normal
case "${1:-}" in
"") ;;
--quick) MODE=quick ;;
--long) MODE=long ;;
*) echo "usage: scripts/test.sh [--quick | --long]" >&2; exit 2 ;;
esac
if [ "$MODE" = long ]; then
	FUZZ_SECONDS=${COFFER_FUZZ_SECONDS:-600}
	COFFER_LONG=1; export COFFER_LONG
else
	FUZZ_SECONDS=${COFFER_FUZZ_SECONDS:-10}
fi
JOBS=${MESON_TESTTHREADS:-2}

scripts/setup.sh ||
    { echo "setup failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

PASS=0
FAIL=0
SKIP=0
LOG="$ROOT/build-logs"
mkdir -p "$LOG"
T_START=$(date +%s)

note() { printf '== %s\n' "$*"; }
pass() { PASS=$((PASS + $1)); }
fail() { FAIL=$((FAIL + $1)); }
skip() { SKIP=$((SKIP + $1)); }
# elapsed T0: minutes and seconds since T0.
elapsed() { s=$(( $(date +%s) - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# setup_build DIR [meson options...]: configure (or reconfigure) DIR.
setup_build() {
	dir=$1; shift
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$@" "$dir" >"$LOG/$dir.setup" 2>&1
	else
		meson setup "$@" "$dir" >"$LOG/$dir.setup" 2>&1
	fi || { cat "$LOG/$dir.setup"; return 1; }
}

# build DIR: build every target of DIR (warnings are errors).
build() {
	ninja -C "$1" >"$LOG/$1.build" 2>&1 || { tail -50 "$LOG/$1.build"; return 1; }
}

# count LABEL JSON: print one line per test of meson's JSON log, write each
# test's output to $LOG/LABEL.NAME.log, and print "P F S" last.  A test
# that printed "RESULT <suite> passed=N failed=M" (tests/t.h) counts its
# cases; a failed one with no failed case counts one failure.  Any other
# test counts one: passed, failed, or skipped (exit 77).
count() {
	python3 - "$1" "$2" "$LOG" <<'EOF'
import json, re, sys
label, path, logdir = sys.argv[1:4]
p = f = s = 0
for line in open(path, encoding="utf-8", errors="replace"):
    t = json.loads(line)
    name = t["name"].split(" / ")[-1]
    out = (t.get("stdout") or "") + (t.get("stderr") or "")
    with open(f"{logdir}/{label}.{name}.log", "w") as log:
        log.write(out)
    res, secs = t["result"], t["duration"]
    cases = re.findall(r"^RESULT \S+ passed=(\d+) failed=(\d+)", out, re.M)
    tp, tf, ts = 0, 0, 0
    if res == "SKIP":
        ts = 1
    elif cases:
        tp, tf = int(cases[-1][0]), int(cases[-1][1])
        if res != "OK" and tf == 0:
            tf = 1
    elif res == "OK":
        tp = 1
    else:
        tf = 1
    p, f, s = p + tp, f + tf, s + ts
    if ts:
        why = [l for l in out.splitlines() if "SKIP" in l][-1:] or [""]
        print(f"{label:9} {name:30} skipped {why[0]}")
    elif tf:
        print(f"{label:9} {name:30} FAILED ({res}, {secs:.0f}s): "
              f"{logdir}/{label}.{name}.log")
        tail = [l for l in out.splitlines() if l.strip()][-20:]
        print("\n".join("    " + l for l in tail))
    elif cases:
        print(f"{label:9} {name:30} {tp:3} passed ({secs:.1f}s)")
    else:
        print(f"{label:9} {name:30} ok ({secs:.1f}s)")
print(p, f, s)
EOF
}

# run_suite DIR LABEL [meson test options...]: run the selected tests of
# DIR, JOBS at a time, and count them.
run_suite() {
	dir=$1; label=$2; shift 2
	t0=$(date +%s)
	json="$dir/meson-logs/$label.json"
	rm -f "$json"
	meson test -C "$dir" --num-processes "$JOBS" --logbase "$label" \
	    --print-errorlogs "$@" >"$LOG/$label.meson" 2>&1
	rc=$?
	if [ -s "$json" ]; then
		count "$label" "$json" >"$LOG/$label.count" || echo "0 1 0" >>"$LOG/$label.count"
		sed '$d' "$LOG/$label.count"
		# shellcheck disable=SC2046 # "P F S", split on purpose
		set -- $(tail -1 "$LOG/$label.count")
		pass "$1"; fail "$2"; skip "$3"
	else
		set -- 0 0 0
	fi
	# meson test exits 1 when a test failed, 125 when the build failed.
	if [ "$rc" != 0 ] && [ "$2" = 0 ]; then
		fail 1; echo "$label: meson test exited $rc"; tail -30 "$LOG/$label.meson"
	fi
	note "$label: $(elapsed "$t0")"
}

# --- plain build -------------------------------------------------------
note "build (gcc, warnings as errors)"
t0=$(date +%s)
if setup_build build && build build; then
	note "build: $(elapsed "$t0")"
	run_suite build plain --suite unit --suite plain
else
	echo "plain build failed"; fail 1
fi

# --- ASan + UBSan --------------------------------------------------------
note "build (ASan+UBSan)"
t0=$(date +%s)
if setup_build build-asan -Db_sanitize=address,undefined \
    -Dc_args=-fno-sanitize-recover=all -Db_lundef=false && build build-asan; then
	note "build-asan: $(elapsed "$t0")"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
	run_suite build-asan asan --suite unit
	# Every process of the end-to-end scripts, servers in the background
	# included, writes any report to $LOG/asan.*; there must be none.
	export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$LOG/asan"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOG/asan"
	long=
	[ "$MODE" = long ] && long="--suite long"
	rm -f "$LOG"/asan.*
	# shellcheck disable=SC2086 # $long: empty or two words
	run_suite build-asan e2e-asan --suite e2e $long --no-suite plain
	unset ASAN_OPTIONS UBSAN_OPTIONS
	if ls "$LOG"/asan.* >/dev/null 2>&1; then
		fail 1; echo "e2e-asan  sanitizer reports:"; head -40 "$LOG"/asan.*
	else
		pass 1; echo "e2e-asan  no sanitizer reports"
	fi
else
	echo "ASan build failed"; fail 1
fi

# --- fuzzers ---------------------------------------------------------------
if [ "$MODE" != quick ]; then
	# meson test builds only what the harnesses need (the rest of this
	# build is built and run above).
	note "fuzz (clang, libFuzzer, ASan+UBSan; ${FUZZ_SECONDS}s per harness)"
	if CC=clang setup_build build-fuzz -Dfuzz=true \
	    -Db_sanitize=address,undefined -Db_lundef=false; then
		export COFFER_FUZZ_SECONDS="$FUZZ_SECONDS"
		run_suite build-fuzz fuzz --suite fuzz
	else
		echo "fuzz build failed"; fail 1
	fi
fi

# --- lint -------------------------------------------------------------------
for check in banned lists shellcheck format; do
	scripts/lint.sh "$check" >"$LOG/lint.$check.log" 2>&1
	case $? in
	0) pass 1; printf 'lint      %-30s ok\n' "$check" ;;
	77) skip 1; printf 'lint      %-30s skipped: %s\n' "$check" "$(tail -1 "$LOG/lint.$check.log")" ;;
	*) fail 1; printf 'lint      %-30s FAILED\n' "$check"; cat "$LOG/lint.$check.log" ;;
	esac
done

note "total: $(elapsed "$T_START")"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
