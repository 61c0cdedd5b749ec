#!/bin/sh
# Reference deltas (DESIGN §6): after versions that add, change, move and
# remove files and folders, and a re-push of an older tree, the server's
# live set rebuilt from the stored deltas of versions 1..v equals the
# client-side walk (forge walk) of version v, for every v; and the live
# set the server keeps equals the walk of the head.
. "$(dirname "$0")/advlib.sh"
need_client account drive push log

srv_proxy_start "$TMP/data"
adv_account grace
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

expect_rc 0 "$COFFER" --json log docs
N=$(wc -l <"$TMP/last.out")
[ "$N" = 4 ] || fail "want 4 versions, have $N"
i=0
sed -n 's/.*"commit":"\([0-9a-f]*\)".*/\1/p' "$TMP/last.out" | while read -r c; do
	i=$((i + 1))
	$F walk --drive docs --commit "$c" >"$TMP/walk.$i" || fail "forge walk $i"
done
python3 - "$TMP/data/meta.db" "$DOCS" "$TMP/walk" 4 <<'PYEOF' || fail "deltas do not rebuild the walks"
import sqlite3, struct, sys
db, drive, walk, n = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3], int(sys.argv[4])
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
rows = con.execute("SELECT version, delta FROM deltas WHERE drive = ? ORDER BY version", (drive,)).fetchall()
assert [r[0] for r in rows] == list(range(1, n + 1)), [r[0] for r in rows]
def ids(b, off):
    k = struct.unpack(">I", b[off:off + 4])[0]; off += 4
    return [b[off + 32 * i: off + 32 * i + 32] for i in range(k)], off + 32 * k
live = set()
for v, d in rows:
    assert d[:5] == b"CFRD\x01"
    start, off = ids(d, 5)
    stop, off = ids(d, off)
    assert off == len(d)
    assert not (set(start) & live), "start id already live at %d" % v
    assert set(stop) <= live, "stop id not live at %d" % v
    live = (live | set(start)) - set(stop)
    want = set()
    for line in open("%s.%d" % (walk, v)):
        f = line.split()
        if f[0] in ("tree", "list", "chunk"):
            want.add(bytes.fromhex(f[1]))
    if live != want:
        print("version %d: %d live, %d walked, %d only live, %d only walked" % (
            v, len(live), len(want), len(live - want), len(want - live)))
        sys.exit(1)
    print("version %d: %d ids, equal" % (v, len(live)))
kept = set(r[0] for r in con.execute("SELECT id FROM live WHERE drive = ?", (drive,)))
assert kept == live, "the server's live set is not the head's walk"
PYEOF
proxy_stop
srv_stop
echo "ok: deltas rebuild every version's walk"
