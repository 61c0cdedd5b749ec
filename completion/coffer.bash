# bash completion for coffer(1): commands, subcommands and flags, and
# folders where a command takes one.  Installed as
# share/bash-completion/completions/coffer.  The lists below are what
# `coffer --help' and `coffer COMMAND --help' show; tests/e2e/132-completion.sh
# checks them against the program in both directions.

# _coffer_flags CMD SUB: the flags of one command (and subcommand).
_coffer_flags()
{
	case "$1 $2" in
	"account create") echo "--server --invite --name" ;;
	"account recovery-key") echo "--rotate" ;;
	"push "*) echo "--allow-shrink" ;;
	"pull "*) echo "--version --overwrite --delete --keep-modes" ;;
	"check "*) echo "--read-data" ;;
	"device join") echo "--server --name --timeout" ;;
	"device remove") echo "--rekey" ;;
	"recover "*) echo "--server --name --keep-devices" ;;
	esac
}

# _coffer_subcommands CMD: its subcommands, if it has any.
_coffer_subcommands()
{
	case $1 in
	account) echo "create recovery-key" ;;
	drive) echo "create list" ;;
	device) echo "join approve list remove" ;;
	esac
}

_coffer()
{
	local cur prev cmd="" sub="" i w nargs=0
	local commands="selftest account drive push pull log ls status check device recover help"

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=""
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}

	# The command, its subcommand and how many operands precede the word.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--server | --invite | --name | --timeout | --version)
			[ -n "$cmd" ] && i=$((i + 1))
			continue ;;
		-*) continue ;;
		esac
		if [ -z "$cmd" ]; then
			cmd=$w
		elif [ -z "$sub" ] && [ -n "$(_coffer_subcommands "$cmd")" ]; then
			sub=$w
		else
			nargs=$((nargs + 1))
		fi
	done

	# An option's value: nothing to offer.
	case $prev in
	--server | --invite | --name | --timeout)
		return 0 ;;
	--version)
		[ -n "$cmd" ] && return 0 ;;
	esac

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--json --help --version" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		fi
		return 0
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W \
		    "$(_coffer_flags "$cmd" "$sub") --json --help" -- "$cur")
		return 0
	fi
	if [ -z "$sub" ] && [ -n "$(_coffer_subcommands "$cmd")" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_coffer_subcommands "$cmd")" -- "$cur")
		return 0
	fi
	case $cmd in
	help)
		[ "$nargs" = 0 ] &&
		    mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur") ;;
	selftest)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
	push | pull)
		# DRIVE, then the folder DIR.
		[ "$nargs" = 1 ] &&
		    mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
	esac
	return 0
}
complete -o filenames -F _coffer coffer
