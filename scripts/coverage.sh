#!/bin/sh
# Coverage of lib/ (libcoffer) by the tests: line and branch figures per
# module and per file, with gcovr (scripts/setup.sh installs it).
#
#   scripts/coverage.sh            unit + e2e suites (long: the e2e suite
#                                  runs one script at a time, about an hour)
#   scripts/coverage.sh --unit     the unit suite only (a minute)
#   scripts/coverage.sh --report   no test run: the figures of the counters
#                                  already in the build folder
#
# Builds in $COVERAGE_BUILD (default build-cov) with -Db_coverage=true,
# clears the counters, runs the suites, and prints the table of
# docs/COVERAGE.md (per module) then gcovr's per-file listing; the HTML
# report with each uncovered line is in $COVERAGE_BUILD/coverage/.  A
# failed test does not stop the figure (a skipped or failing script only
# lowers it), but the script then exits 1.
set -eu
cd "$(dirname "$0")/.."
B=${COVERAGE_BUILD:-build-cov}
mode=${1:-all}
case $mode in
all | --unit | --report) ;;
*) echo "usage: scripts/coverage.sh [--unit | --report]" >&2; exit 2 ;;
esac
command -v gcovr >/dev/null || { echo "gcovr not installed (scripts/setup.sh)"; exit 77; }

status=0
if [ "$mode" != --report ]; then
	[ -d "$B" ] || meson setup "$B" -Db_coverage=true >/dev/null
	ninja -C "$B" >/dev/null
	find "$B" -name '*.gcda' -delete
	meson test -C "$B" --suite unit --print-errorlogs >/dev/null || status=1
	if [ "$mode" = all ]; then
		# One at a time: the e2e scripts that time things out are
		# slower under gcov, and the counters are written at exit.
		meson test -C "$B" --suite e2e --num-processes 1 \
		    --print-errorlogs >/dev/null || status=1
	fi
	[ "$status" = 0 ] || echo "coverage: some tests failed (see $B/meson-logs/testlog.txt)"
fi

mkdir -p "$B/coverage"
gcovr -r . --filter 'lib/' --json-summary "$B/coverage/summary.json" \
    --html-details "$B/coverage/index.html" "$B" >/dev/null
python3 - "$B/coverage/summary.json" <<'PY'
import json, sys
files = json.load(open(sys.argv[1]))["files"]
mods = {}
for f in files:
    m = f["filename"].split("/")[1]
    t = mods.setdefault(m, [0, 0, 0, 0])
    t[0] += f["line_covered"]; t[1] += f["line_total"]
    t[2] += f["branch_covered"]; t[3] += f["branch_total"]
def pc(a, b):
    return "%5.1f%%" % (100.0 * a / b) if b else "    -"
print("| module | lines | line % | branches | branch % |")
print("|---|---:|---:|---:|---:|")
tot = [0, 0, 0, 0]
for m in sorted(mods):
    t = mods[m]
    tot = [x + y for x, y in zip(tot, t)]
    print("| lib/%s | %d/%d | %s | %d/%d | %s |" %
          (m, t[0], t[1], pc(t[0], t[1]), t[2], t[3], pc(t[2], t[3])))
print("| **lib/** | %d/%d | %s | %d/%d | %s |" %
      (tot[0], tot[1], pc(tot[0], tot[1]), tot[2], tot[3], pc(tot[2], tot[3])))
PY
echo
gcovr -r . --filter 'lib/' "$B"
exit "$status"
