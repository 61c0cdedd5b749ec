#!/bin/sh
# The bash completion (completion/coffer.bash) against the program, both
# ways, all taken from `coffer --help' and `coffer CMD --help' at run time:
# - `coffer <TAB>' offers every command, `coffer CMD <TAB>' every
#   subcommand, `coffer CMD [SUB] --<TAB>' every flag of that usage line,
#   `coffer --<TAB>' the top-level flags the help names;
# - nothing it offers is missing from the help (no stale command, flag);
# - after pull DRIVE it offers folders, after --server nothing;
# - the completion passes shellcheck (as bash).
. "$(dirname "$0")/lib.sh"
COFFER="$COFFER_BUILD/cli/coffer"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
COMP="$SRC/completion/coffer.bash"
fail() { echo "FAIL: $*"; exit 1; }

if ! command -v bash >/dev/null; then
	echo "SKIP: no bash to run the completion in"
	exit 77
fi
[ -f "$COMP" ] || fail "no $COMP"
# scripts/lint.sh shellchecks the sh scripts; this one is bash.
if command -v shellcheck >/dev/null; then
	shellcheck -s bash "$COMP" || fail "shellcheck: $COMP"
else
	echo "note: no shellcheck, $COMP not checked"
fi

# complete WORD...: what the completion offers for the command line
# WORD... (the last word is the one completed), one per line, sorted.
complete_line() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
	    _coffer; printf "%s\n" "${COMPREPLY[@]}"' sh "$COMP" "$@" |
	    sed '/^$/d' | sort -u
}
flags() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
# offers WHAT EXPECTED OFFERED: every word of EXPECTED is in OFFERED.
offers() {
	for w in $2; do
		printf '%s\n' "$3" | grep -qx -- "$w" ||
		    fail "coffer.bash: $1 does not offer $w (offers: $(printf '%s' "$3" | tr '\n' ' '))"
	done
}

"$COFFER" --help >"$TMP/help"
cmds=$(sed -n 's/^  coffer \([a-z][a-z-]*\).*/\1/p' "$TMP/help")
[ -n "$cmds" ] || fail "no commands in coffer --help"
got=$(complete_line coffer "")
offers "'coffer '" "$cmds" "$got"
for w in $got; do
	[ "$w" = help ] && continue	# 'coffer help CMD': the help says so
	printf '%s\n' "$cmds" | grep -qx -- "$w" ||
	    fail "coffer.bash offers '$w', which coffer --help does not list"
done
# The top level's: those of the help outside the list of commands.
top=$(grep -v '^  coffer ' "$TMP/help" | flags)
got=$(complete_line coffer --)
offers "'coffer --'" "$top" "$got"

: >"$TMP/allflags"
for c in $cmds; do
	"$COFFER" "$c" --help >"$TMP/h" || fail "coffer $c --help failed"
	flags <"$TMP/h" >>"$TMP/allflags"
	usage=$(sed -n "s/^usage: coffer $c *//p" "$TMP/h")
	printf '%s\n' "$usage" |
	    awk -F ' [|] ' '{ for (i = 1; i <= NF; i++) print $i }' >"$TMP/alts"
	subs=""
	while IFS= read -r alt; do
		first=${alt%% *}
		case $first in
		[a-z]*) sub=$first; subs="$subs $sub" ;;
		*) sub="" ;;
		esac
		want=$(printf '%s\n' "$alt" | flags)
		# shellcheck disable=SC2086 # $sub: absent when empty
		got=$(complete_line coffer $c $sub --)
		offers "'coffer $c $sub --'" "$want" "$got"
		for w in $got; do
			case $w in --json | --help) continue ;; esac
			printf '%s\n' "$want" | grep -qx -- "$w" ||
			    fail "coffer.bash offers $w for '$c $sub', which its usage lacks"
		done
	done <"$TMP/alts"
	if [ -n "$subs" ]; then
		got=$(complete_line coffer "$c" "")
		offers "'coffer $c '" "$subs" "$got"
		for w in $got; do
			echo " $subs " | grep -q -- " $w " ||
			    fail "coffer.bash offers '$c $w', which coffer $c --help lacks"
		done
	fi
done

# Operands: a folder after pull DRIVE, nothing after --server.
mkdir -p "$TMP/dirs/only-folder"
got=$(cd "$TMP/dirs" && complete_line coffer pull docs on)
[ "$got" = only-folder ] || fail "pull DRIVE <TAB> offered '$got', not the folder"
got=$(complete_line coffer device join --server "")
[ -z "$got" ] || fail "--server <TAB> offered '$got'"
got=$(complete_line coffer --json pull docs "$TMP/dirs" --ov)
[ "$got" = --overwrite ] || fail "pull ... --ov<TAB> offered '$got'"
echo "132-completion: ok"
