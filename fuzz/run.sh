#!/bin/sh
# fuzz/run.sh HARNESS CORPUS ARTIFACTS: run one libFuzzer harness for
# COFFER_FUZZ_SECONDS (default 10) on a copy of its seed corpus (the seeds
# in the source tree stay as they are); a crash, leak or slow input is
# written to ARTIFACTS/NAME-*.  Exits 0 when nothing was found, 1 when
# something was (never 77, meson's "skipped": libFuzzer's own default
# status for a finding).  Run by meson test (fuzz/meson.build).
set -u
harness=$1 corpus=$2 artifacts=$3
secs=${COFFER_FUZZ_SECONDS:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/coffer-fuzz-XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
if [ -d "$corpus" ]; then cp -r "$corpus/." "$work/" || exit 1; fi
mkdir -p "$artifacts" || exit 1
# The fuzz build recovers from UBSan reports: make one fatal, or undefined
# behaviour found by a fuzzer passes unseen.  timeout: a bound on the whole
# run, should libFuzzer's own (-max_total_time, -timeout per input) fail.
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout $((secs * 2 + 120)) "$harness" -max_total_time="$secs" \
    -rss_limit_mb=2048 -timeout=10 -error_exitcode=1 -timeout_exitcode=1 \
    -artifact_prefix="$artifacts/$(basename "$harness")-" "$work"
rc=$?
[ "$rc" = 77 ] && rc=1
exit "$rc"
