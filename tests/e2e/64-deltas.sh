#!/bin/sh
# Reference deltas (DESIGN §6): after versions that add, change, move and
# remove files and folders, and a re-push of an older tree, the server's
# live set rebuilt from the stored deltas of versions 1..v equals the
# client-side walk (forge walk) of version v, for every v; and the live
# set the server keeps equals the walk of the head.
. "$(dirname "$0")/lib.sh"
need_client account drive push log

srv_proxy_start "$TMP/data"
proxy_account grace
$GEN 641 "$TMP/s" --files 20 --max-size 2000000 >/dev/null
push docs "$TMP/s"
cp -a "$TMP/s" "$TMP/s1"
printf 'more\n' >>"$TMP/s/text.txt" 2>/dev/null || printf 'more\n' >"$TMP/s/text.txt"
mkdir -p "$TMP/s/new/deeper"
printf 'x\n' >"$TMP/s/new/deeper/f"
push docs "$TMP/s"
d=$(cd "$TMP/s" && find . -mindepth 1 -maxdepth 1 -type d ! -name new | sort | head -1)
chmod -R u+w "$TMP/s/$d"
rm -rf "$TMP/s/$d"
push docs "$TMP/s"
push docs "$TMP/s1"		# back to the first tree: many ids start again

expect_exit 0 "$COFFER" --json log docs
N=$(wc -l <"$TMP/out")
[ "$N" = 4 ] || fail "want 4 versions, have $N"
i=0
sed -n 's/.*"commit":"\([0-9a-f]*\)".*/\1/p' "$TMP/out" | while read -r c; do
	i=$((i + 1))
	$F walk --drive docs --commit "$c" >"$TMP/walk.$i" || fail "forge walk $i"
done
python3 "$TESTS/deltas_check.py" "$TMP/data/meta.db" "$DOCS" "$TMP/walk" 4 || fail "deltas do not rebuild the walks"
proxy_stop
srv_stop
echo "ok: deltas rebuild every version's walk"
