#!/bin/sh
# Lint.  Usage: scripts/lint.sh [banned] [lists] [shellcheck]  (all three
# by default).  Prints each finding and exits 1 if there is any; exits 77
# (skipped) when the only check asked for cannot run here (no shellcheck).
#   - banned: functions the house style bans (STYLE.md) in the C code,
#     and memcmp near a MAC, tag or commitment in lib/;
#   - lists: every unit test, e2e script and fuzz harness is registered
#     in its meson.build (the lists there are explicit);
#   - shellcheck over scripts/*.sh, tests/e2e/*.sh, fuzz/run.sh and .ci/run,
#     with the global exclusions of .shellcheckrc (each justified there).
set -u
cd "$(dirname "$0")/.." || exit 1

# banned: the C code.
banned() {
	bad='\b(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol|atoll|strtok|tmpnam|mktemp)[[:space:]]*\('
	found=$(grep -rnE "$bad" --include='*.c' --include='*.h' \
	    include lib cli server tests fuzz bench 2>/dev/null)
	if [ -n "$found" ]; then
		echo "banned functions (use snprintf, memcpy with a checked length, strtoul with range checks, strtok_r, mkstemp):"
		echo "$found"
		return 1
	fi
	# memcmp on secrets: MACs, tags and key commitments are compared in constant time.
	found=$(grep -rnE '(^|[^_[:alnum:]])memcmp\([^)]*(mac|tag|cmt|commit)' --include='*.c' lib 2>/dev/null)
	if [ -n "$found" ]; then
		echo "memcmp near a MAC/tag/commitment in lib/ (use crypto_verify_32 or sodium_memcmp):"
		echo "$found"
		return 1
	fi
}

# lists: a test file that no meson.build names would never run.
lists() {
	rc=0
	for f in tests/test_*.c; do
		n=$(basename "$f" .c)
		grep -q "'$n'" tests/meson.build ||
		    { echo "$f: not registered in tests/meson.build (unit_tests)"; rc=1; }
	done
	for f in tests/e2e/[0-9]*.sh; do
		n=$(basename "$f")
		grep -q "'$n'" tests/e2e/meson.build ||
		    { echo "$f: not registered in tests/e2e/meson.build (e2e_scripts)"; rc=1; }
	done
	for f in fuzz/fuzz_*.c; do
		n=$(basename "$f" .c)
		grep -q "'$n'" fuzz/meson.build ||
		    { echo "$f: not registered in fuzz/meson.build (fuzzers)"; rc=1; }
	done
	return $rc
}

# run_shellcheck: the shell scripts, from the top (.shellcheckrc applies).
run_shellcheck() {
	if ! command -v shellcheck >/dev/null; then
		echo "shellcheck not installed (scripts/setup.sh installs it)"
		return 77
	fi
	shellcheck -f gcc scripts/*.sh tests/e2e/*.sh fuzz/run.sh .ci/run
}

[ $# = 0 ] && set -- banned lists shellcheck
status=0
for check in "$@"; do
	case $check in
	banned) banned ;;
	lists) lists ;;
	shellcheck) run_shellcheck ;;
	*) echo "usage: scripts/lint.sh [banned] [lists] [shellcheck]" >&2; exit 2 ;;
	esac
	rc=$?
	# A check that cannot run: "skipped" when it is the only one asked for.
	if [ "$rc" = 77 ] && [ $# = 1 ]; then
		status=77
	elif [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		status=1
	fi
done
[ "$status" = 0 ] && echo "lint: clean ($*)"
exit "$status"
