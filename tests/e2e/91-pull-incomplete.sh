#!/bin/sh
# pull where some paths cannot be written (issue #18, Data; exit 6): as an
# unprivileged user (root could write them all), into a target where
# another user (root) owns a folder the version writes into (no file can
# be made there) and a sticky folder holding a file of theirs (it cannot
# be replaced).  The pull names each path and why, writes everything else,
# leaves no temporary file behind, and ends with its normal result line
# and exit 6 ("incomplete": true, "skipped", "changed": 0 in JSON).
# Skipped (with a message) when run as root without setpriv.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to own the obstacles (run the suite as root)"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: root without setpriv"; exit 77; }
AS="setpriv --reuid=65534 --regid=65534 --clear-groups --"
chmod 711 "$TMP"
U="$TMP/u"
mkdir -m 777 "$U"
srv_start "$TMP/data"

# as_nobody WANT ARGS...: coffer ARGS as nobody must exit WANT; output in
# $TMP/out and $TMP/err.
as_nobody() {
	_want=$1; shift
	if $AS env COFFER_HOME="$U/home" "$COFFER" "$@" >"$TMP/out" 2>"$TMP/err"
	then _rc=0; else _rc=$?; fi
	if grep -q 'Sanitizer\|runtime error' "$TMP/err"; then
		cat "$TMP/err"; fail "sanitizer report from 'coffer $*'"
	fi
	[ "$_rc" = "$_want" ] || { cat "$TMP/out" "$TMP/err"; fail "'coffer $*' exited $_rc, want $_want"; }
}

$AS sh -eu -c '
	umask 077
	mkdir -m 700 "$1/home" "$1/src" "$1/src/locked" "$1/src/sticky"
	printf "a\n" >"$1/src/a.txt"
	printf "inner\n" >"$1/src/locked/inner.txt"
	printf "version\n" >"$1/src/sticky/theirs.txt"
	printf "mine too\n" >"$1/src/sticky/ours.txt"
	printf "z\n" >"$1/src/z.txt"
' sh "$U"
as_nobody 0 --json account create --server "$SRV_URL" eve
as_nobody 0 --json drive create docs
as_nobody 0 --json push docs "$U/src"

# The target: nobody's, with root's folders in it.
D="$U/dst"
mkdir -m 755 "$D" "$D/locked"
chmod 1777 "$D"
mkdir -m 1777 "$D/sticky"
printf 'root owns this\n' >"$D/sticky/theirs.txt"
chmod 644 "$D/sticky/theirs.txt"
chown 65534:65534 "$D"

as_nobody 6 --json pull docs "$D" --overwrite
[ "$(key incomplete)" = true ] || fail "incomplete is not true"
[ "$(key skipped)" = 4 ] || { cat "$TMP/out" "$TMP/err"; fail "skipped is $(key skipped), want 4"; }
[ "$(key changed)" = 0 ] || fail "changed is not 0"
[ "$(key files)" = 3 ] || fail "files written: $(key files), want 3"
E="$TMP/err"
grep -q '^coffer: locked/inner.txt: could not be written (Permission denied), skipped$' "$E" &&
grep -q '^coffer: sticky/theirs.txt: could not be written (Operation not permitted), skipped$' "$E" &&
grep -q "^coffer: locked: could not set the folder's mode and time (Operation not permitted)$" "$E" &&
grep -q "^coffer: sticky: could not set the folder's mode and time (Operation not permitted)$" "$E" ||
    { cat "$E"; fail "the paths not written are not named with their reason"; }
for f in a.txt z.txt sticky/ours.txt; do
	cmp -s "$U/src/$f" "$D/$f" || fail "$f was not written"
done
[ "$(cat "$D/sticky/theirs.txt")" = "root owns this" ] || fail "root's file changed"
[ ! -e "$D/locked/inner.txt" ] || fail "locked/inner.txt exists"
left=$(find "$D" -name '.coffer-tmp-*')
[ -z "$left" ] || fail "temporary files left behind: $left"
echo "ok: paths that cannot be written are named and skipped, exit 6, no temporary file left"

# The text form: the normal result line, marked incomplete, and the count.
as_nobody 6 pull docs "$D" --overwrite
grep -q "^docs version 1: 3 files, 0 folders, 0 symlinks, .* written to $D (incomplete)$" "$TMP/out" ||
    { cat "$TMP/out"; fail "no result line"; }
grep -q '^coffer: 4 paths could not be written (listed above); everything else was$' "$TMP/err" ||
    { cat "$TMP/err"; fail "no count of the paths not written"; }
left=$(find "$D" -name '.coffer-tmp-*')
[ -z "$left" ] || fail "temporary files left behind: $left"

# A complete pull says so in JSON too.
as_nobody 0 --json pull docs "$U/dst2"
[ "$(key incomplete)" = false ] && [ "$(key skipped)" = 0 ] || fail "a complete pull is not marked complete"
srv_stop
chmod -R u+w "$U" 2>/dev/null || true
echo "ok: pull incomplete"
