#!/bin/sh
# The round trip once as an unprivileged user (DESIGN §10: root hides mode
# bugs): generate, push, pull into a new folder, change, pull again over
# it with --overwrite --delete (read-only files and folders in the way),
# each pull exact.  Run as nobody when the suite runs as root.
. "$(dirname "$0")/lib.sh"

AS=
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || { echo "SKIP: root without setpriv"; exit 77; }
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups --"
	chmod 711 "$TMP"
fi
U="$TMP/u"
mkdir -m 777 "$U"
srv_start "$TMP/data"
$AS sh -eu -c '
	U=$1; COFFER=$2; TESTS=$3; URL=$4
	export COFFER_HOME="$U/home"
	umask 077
	[ "$(id -u)" != 0 ] || { echo "still root"; exit 1; }
	python3 "$TESTS/gen_tree.py" 611 "$U/src" --files 25 >/dev/null
	"$COFFER" --json account create --server "$URL" eve >/dev/null
	"$COFFER" --json drive create docs >/dev/null
	"$COFFER" --json push docs "$U/src" >/dev/null
	"$COFFER" --json pull docs "$U/dst" >/dev/null
	python3 "$TESTS/compare_tree.py" --ignore-top "$U/src" "$U/dst"
	cp -a "$U/src" "$U/v1"
	# Version 2: a read-only folder gains a file, a file goes away.
	d=$(cd "$U/src" && find . -mindepth 1 -type d | sort | head -1)
	chmod u+w "$U/src/$d"
	printf "new\n" >"$U/src/$d/added"
	chmod 555 "$U/src/$d"
	f=$(cd "$U/src" && find . -maxdepth 1 -type f | sort | head -1)
	rm -f "$U/src/$f"
	"$COFFER" --json push docs "$U/src" >/dev/null
	"$COFFER" --json pull docs "$U/dst" --overwrite --delete >/dev/null
	python3 "$TESTS/compare_tree.py" --ignore-top "$U/src" "$U/dst"
	"$COFFER" --json pull docs "$U/dst" --version 1 --overwrite --delete >/dev/null
	python3 "$TESTS/compare_tree.py" --ignore-top "$U/v1" "$U/dst"
	chmod -R u+w "$U" 2>/dev/null || true
' sh "$U" "$COFFER" "$TESTS" "$SRV_URL" || fail "unprivileged round trip"
srv_stop
chmod -R u+w "$U" 2>/dev/null || true
echo ok
