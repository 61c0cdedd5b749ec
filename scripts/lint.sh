#!/bin/sh
# Lint.  Usage: scripts/lint.sh [banned] [lists] [shellcheck] [format]
# (all four by default).  Prints each finding and exits 1 if there is any;
# exits 77 (skipped) when the only check asked for cannot run here (the
# program shellcheck missing; for format, no git or no history).
#   - banned: functions the house style bans (STYLE.md) in the C code,
#     and memcmp near a MAC, tag or commitment in lib/;
#   - lists: every unit test, e2e script and fuzz harness is registered
#     in its meson.build (the lists there are explicit);
#   - shellcheck over scripts/*.sh, tests/e2e/*.sh, fuzz/run.sh and .ci/run,
#     with the global exclusions of .shellcheckrc (each justified there);
#   - format: the C lines added since the commit in .format-base (see
#     format() below for the rules and why only added lines).
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

# format: the layout of the C code (tabs, 80 columns, /* */ comments, the
# return type on its own line), checked on the lines ADDED since the commit
# named in .format-base, not on whole files.  Why: the code older than this
# check was never held to it (some 800 of its lines are longer than 80
# columns); reformatting it would touch every file at once and collide with
# every branch in flight, and a check that fails on old lines gets switched
# off.  So new and changed lines follow the rules from .format-base on, and
# old lines are brought in line when someone edits them.  Needs git and the
# history back to that commit (a fresh clone has it); skipped (77) without.
# Untracked new files count as added whole.  A line found verbatim in the
# C code of that commit is not new but moved (a file split in two, a
# function moved): it keeps its old layout.  The rules, per added line:
#   - no trailing white space, no space before a tab;
#   - indentation: tabs, then at most 4 spaces (continuation lines);
#   - at most 80 columns, tabs at 8;
#   - no // comments (outside string literals);
#   - a function definition has its return type on the line above its
#     name (detected when the definition's "{" is an added line too).
format() {
	if ! command -v git >/dev/null || ! git rev-parse --git-dir >/dev/null 2>&1; then
		echo "format: needs git and a git checkout (skipped)"
		return 77
	fi
	base=$(cat .format-base 2>/dev/null) || base=
	if [ -z "$base" ] || ! git cat-file -e "$base^{commit}" 2>/dev/null; then
		echo "format: base commit '$base' (.format-base) not in this clone (shallow?); skipped"
		return 77
	fi
	{
		git diff -U0 --no-color --no-ext-diff --src-prefix=a/ \
		    --dst-prefix=b/ "$base" -- '*.c' '*.h'
		git ls-files --others --exclude-standard -- '*.c' '*.h' |
		while IFS= read -r f; do
			git diff -U0 --no-color --no-ext-diff --src-prefix=a/ \
			    --dst-prefix=b/ --no-index /dev/null "$f"
		done
	} | awk -v old="git grep -h -e '' $base -- '*.c' '*.h'" '
	BEGIN { while ((old | getline l) > 0) was[l] = 1; close(old) }
	function report(why) {
		if (moved)
			return
		printf "%s:%d: %s: %s\n", file, ln, why, text; bad++
	}
	function cols(s,   i, n) {
		n = 0
		for (i = 1; i <= length(s); i++)
			n = substr(s, i, 1) == "\t" ? n + 8 - n % 8 : n + 1
		return n
	}
	/^\+\+\+ / { file = substr($0, 7); pend = 0; next }
	/^@@ / { split($3, a, ","); ln = substr(a[1], 2) + 0; pend = 0; next }
	/^\+/ {
		text = substr($0, 2)
		moved = text in was
		if (text ~ /[ \t]$/) report("trailing white space")
		if (text ~ / \t/) report("space before a tab")
		if (text ~ /^\t* +\t/ || text ~ /^\t*     /)
			report("indent with tabs, then at most 4 spaces")
		if (cols(text) > 80) report("longer than 80 columns")
		# The code without its string literals and /* */ comments.
		s = text
		gsub(/\\./, "", s); gsub(/"[^"]*"/, "\"\"", s)
		gsub(/\047[^\047]*\047/, "\047\047", s)
		gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", s)
		if (s !~ /^[\t ]*\*/ && s ~ /\/\//)
			report("// comment (use /* */)")
		# "type name(args)" at column 0: a definition if "{" follows.
		if (pend && text == "{") {
			t = text; text = ptext; l = ln; ln = pln; moved = pmoved
			report("return type on the line above a definition")
			text = t; ln = l; moved = text in was
		}
		if (s ~ /^[A-Za-z_][A-Za-z_0-9 \t*]*[ \t*][A-Za-z_][A-Za-z_0-9]*\(/ &&
		    s !~ /^(typedef|return|else|do|if|while|for|switch|case|goto)[^A-Za-z_0-9]/ &&
		    s !~ /[;=]/ && s !~ /^#/) {
			pend = 1; ptext = text; pln = ln; pmoved = moved
			if (s ~ /\)[ \t]*\{[ \t]*$/)
				report("return type on the line above a definition")
		} else if (text !~ /^[ \t]/)
			pend = 0
		if (text ~ /;[ \t]*$/) pend = 0
		ln++
		next
	}
	END { exit bad > 0 }'
}

[ $# = 0 ] && set -- banned lists shellcheck format
status=0
for check in "$@"; do
	case $check in
	banned) banned ;;
	lists) lists ;;
	shellcheck) run_shellcheck ;;
	format) format ;;
	*) echo "usage: scripts/lint.sh [banned] [lists] [shellcheck] [format]" >&2
	   exit 2 ;;
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
