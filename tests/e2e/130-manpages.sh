#!/bin/sh
# The man pages coffer(1) and cofferd(8) against the programs themselves:
# - every command and subcommand `coffer --help` lists has its own item in
#   the page's COMMANDS, and every flag of its usage line is in that item;
#   every other flag its help text names is somewhere in the page; every
#   exit status the help gives is an item of EXIT STATUS, every variable
#   it names one of ENVIRONMENT;
# - every option `cofferd --help` lists is an item of cofferd(8), and each
#   of its commands (invite, check) an item of COMMANDS with its flags;
# - both pages render without a warning (groff -ww, and mandoc -T lint
#   where installed);
# - the checker fails on a page that lacks a flag the program has;
# - `coffer --version` and `cofferd --version` print the project version
#   (the build's coffer/version.h, generated from meson.build) and exit 0.
# Nothing here is a list of commands or flags: all come from the programs'
# own help at run time, so a flag added to either program and not to its
# page fails this test.
. "$(dirname "$0")/lib.sh"
COFFER="$COFFER_BUILD/cli/coffer"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
MAN1="$SRC/man/coffer.1"
MAN8="$SRC/man/cofferd.8"
fail() { echo "FAIL: $*"; exit 1; }

if ! command -v groff >/dev/null; then
	echo "SKIP: groff is not installed (groff-base; scripts/setup.sh installs it)"
	exit 77
fi

# ---- the pages render without warnings ----
for page in "$MAN1" "$MAN8"; do
	[ -f "$page" ] || fail "no page $page"
	out=$(groff -mandoc -z -ww "$page" 2>&1) ||
	    fail "groff failed on $page: $out"
	[ -z "$out" ] || fail "groff warns on $page: $out"
	if command -v mandoc >/dev/null; then
		out=$(mandoc -T lint -W warning "$page" 2>&1) ||
		    fail "mandoc -T lint on $page: $out"
		[ -z "$out" ] || fail "mandoc -T lint on $page: $out"
	else
		echo "note: mandoc not installed, groff's warnings only"
	fi
	man -l "$page" >/dev/null 2>"$TMP/man.err" || fail "man -l $page failed"
	[ ! -s "$TMP/man.err" ] || { cat "$TMP/man.err"; fail "man -l $page warns"; }
done

# render PAGE: plain text, lines wide enough that no item is wrapped.
render() {
	groff -mandoc -Tascii -rLL=300n -P-cbou "$1" 2>/dev/null
}

# blocks SECTION: the rendered page on stdin cut into the items of
# SECTION, one per line, whitespace squeezed: an item starts at a line
# at the section's own indent (its tag) and runs to the next such line.
blocks() {
	awk -v sec="$1" '
	function flush() { if (cur != "") print cur; cur = "" }
	/^[A-Z]/ { flush(); ins = ($0 == sec); base = -1; next }
	!ins || /^[ \t]*$/ { next }
	{
		match($0, /^ */); ind = RLENGTH
		if (base < 0) base = ind
		line = substr($0, ind + 1); gsub(/[ \t]+/, " ", line)
		if (ind == base) { flush(); cur = line } else cur = cur " " line
	}
	END { flush() }'
}

# item FILE HEAD: the item of FILE (from blocks) whose tag begins with
# HEAD as whole words; fails if none.
item() {
	awk -v h="$2" 'index($0, h) == 1 &&
	    (length($0) == length(h) || substr($0, length(h) + 1, 1) ~ /[ ,]/) {
		print; found = 1; exit }
	END { exit !found }' "$1"
}

# has TEXT FLAG: FLAG appears in TEXT as a whole word.
has() {
	printf '%s\n' "$1" | grep -qE -- "(^|[^[:alnum:]-])$2([^[:alnum:]-]|$)"
}

flags() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }

# check_coffer PAGE: coffer(1) against coffer's help; prints each miss,
# returns 1 if any.
check_coffer() {
	page=$1; bad=0
	render "$page" >"$TMP/page.txt"
	blocks COMMANDS <"$TMP/page.txt" >"$TMP/cmds"
	blocks "EXIT STATUS" <"$TMP/page.txt" >"$TMP/exits"
	blocks ENVIRONMENT <"$TMP/page.txt" >"$TMP/env"
	whole=$(tr '\n' ' ' <"$TMP/page.txt")
	"$COFFER" --help >"$TMP/help" || { echo "coffer --help failed"; return 1; }
	cmds=$(sed -n 's/^  coffer \([a-z][a-z-]*\).*/\1/p' "$TMP/help")
	[ -n "$cmds" ] || { echo "no commands in coffer --help"; return 1; }
	cp "$TMP/help" "$TMP/allhelp"
	for c in $cmds; do
		"$COFFER" "$c" --help >"$TMP/h.$c" ||
		    { echo "coffer $c --help failed"; bad=1; continue; }
		cat "$TMP/h.$c" >>"$TMP/allhelp"
		usage=$(sed -n "s/^usage: coffer $c *//p" "$TMP/h.$c")
		# Each alternative of the usage line: "sub ARGS [--flag]".
		printf '%s\n' "$usage" |
		    awk -F ' [|] ' '{ for (i = 1; i <= NF; i++) print $i }' \
		    >"$TMP/alts"
		while IFS= read -r alt; do
			first=${alt%% *}
			case $first in
			[a-z]*) head="$c $first" ;;
			*) head=$c ;;
			esac
			if ! text=$(item "$TMP/cmds" "$head"); then
				echo "coffer.1: no item '$head' in COMMANDS"
				bad=1; continue
			fi
			for f in $(printf '%s\n' "$alt" | flags); do
				has "$text" "$f" || {
					echo "coffer.1: '$head' does not name $f"
					bad=1; }
			done
		done <"$TMP/alts"
	done
	# Every flag any help names (--json, flags in the help texts).
	for f in $(flags <"$TMP/allhelp"); do
		has "$whole" "$f" || { echo "coffer.1: no $f"; bad=1; }
	done
	# The exit statuses of "Exit status: 0 ok, 1 error, ...".
	codes=$(tr '\n' ' ' <"$TMP/help" | sed -n 's/.*Exit status: //p' |
	    grep -oE '(^|[ ,])[0-9] [a-z]' | grep -oE '[0-9]')
	[ -n "$codes" ] || { echo "no exit statuses in coffer --help"; bad=1; }
	for n in $codes; do
		item "$TMP/exits" "$n" >/dev/null ||
		    { echo "coffer.1: no exit status $n"; bad=1; }
	done
	# The variables the help names (the test knobs are not the user's).
	grep -oE '(COFFER|XDG)_[A-Z_]+' "$TMP/allhelp" |
	    grep -v '^COFFER_TEST_' | sort -u >"$TMP/vars"
	while IFS= read -r v; do
		item "$TMP/env" "$v" >/dev/null ||
		    { echo "coffer.1: no $v in ENVIRONMENT"; bad=1; }
	done <"$TMP/vars"
	return $bad
}

# check_cofferd PAGE: cofferd(8) against cofferd --help.
check_cofferd() {
	page=$1; bad=0
	render "$page" >"$TMP/page8.txt"
	blocks DESCRIPTION <"$TMP/page8.txt" >"$TMP/opts"
	blocks COMMANDS <"$TMP/page8.txt" >"$TMP/cmds8"
	whole=$(tr '\n' ' ' <"$TMP/page8.txt")
	"$COFFERD" --help >"$TMP/help8" || { echo "cofferd --help failed"; return 1; }
	# The option list: lines "  --flag ARG   text".
	opts=$(sed -n 's/^  \(--[a-z][a-z0-9-]*\).*/\1/p' "$TMP/help8")
	[ -n "$opts" ] || { echo "no options in cofferd --help"; return 1; }
	for f in $opts; do
		item "$TMP/opts" "$f" >/dev/null ||
		    { echo "cofferd.8: no item $f in DESCRIPTION"; bad=1; }
	done
	# The commands of the usage lines: "cofferd invite --data DIR".
	sed -n 's/^\(usage:\)\{0,1\} *cofferd \([a-z][a-z-]*\)\(.*\)/\2\3/p' \
	    "$TMP/help8" >"$TMP/cmdlines"
	while IFS= read -r line; do
		c=${line%% *}
		if ! text=$(item "$TMP/cmds8" "$c"); then
			echo "cofferd.8: no item '$c' in COMMANDS"; bad=1; continue
		fi
		for f in $(printf '%s\n' "$line" | flags); do
			has "$text" "$f" ||
			    { echo "cofferd.8: '$c' does not name $f"; bad=1; }
		done
	done <"$TMP/cmdlines"
	for f in $(flags <"$TMP/help8"); do
		has "$whole" "$f" || { echo "cofferd.8: no $f"; bad=1; }
	done
	return $bad
}

check_coffer "$MAN1" >"$TMP/out1" || { cat "$TMP/out1"; fail "coffer.1 lacks what coffer has"; }
check_cofferd "$MAN8" >"$TMP/out8" || { cat "$TMP/out8"; fail "cofferd.8 lacks what cofferd has"; }

# ---- the checker can fail: a copy of each page without one flag ----
# (gone, not f: the checkers' loops set f.)  The flag: the last of the
# last usage line that has one; cofferd's first option.
gone=$("$COFFER" --help | grep '^  coffer .*--' | tail -1 | flags | tail -1)
[ -n "$gone" ] || fail "no flag in coffer --help to remove"
grep -v -- "Fl ${gone#-}" "$MAN1" >"$TMP/less.1"
if check_coffer "$TMP/less.1" >"$TMP/out"; then
	fail "the checker passed coffer.1 without $gone"
fi
grep -q -- "$gone" "$TMP/out" || { cat "$TMP/out"; fail "the checker did not name $gone"; }
gone=$("$COFFERD" --help | sed -n 's/^  \(--[a-z][a-z0-9-]*\).*/\1/p' | head -1)
[ -n "$gone" ] || fail "no option in cofferd --help to remove"
grep -v -- "Fl ${gone#-}" "$MAN8" >"$TMP/less.8"
if check_cofferd "$TMP/less.8" >"$TMP/out"; then
	fail "the checker passed cofferd.8 without $gone"
fi
grep -q -- "$gone" "$TMP/out" || { cat "$TMP/out"; fail "the checker did not name $gone"; }

# ---- --version: the project version, exit 0 ----
V=$(sed -n 's/^#define COFFER_VERSION[[:space:]]*"\(.*\)"$/\1/p' \
    "$COFFER_BUILD/include/coffer/version.h")
[ -n "$V" ] || fail "no COFFER_VERSION in the build's coffer/version.h"
for p in coffer cofferd; do
	if [ $p = coffer ]; then bin=$COFFER; else bin=$COFFERD; fi
	out=$("$bin" --version 2>"$TMP/err") || fail "$p --version exited $?"
	[ "$out" = "$p $V" ] || fail "$p --version printed '$out', not '$p $V'"
	[ ! -s "$TMP/err" ] || { cat "$TMP/err"; fail "$p --version wrote to stderr"; }
done
echo "130-manpages: ok"
