#!/bin/sh
# The adversarial harness checks itself before anything relies on it:
# - gen_tree.py is deterministic for a seed, differs across seeds, and
#   makes every kind of entry it promises;
# - compare_tree.py passes identical trees and catches each kind of
#   difference (mode, mtime to the ns of a file, a dir and a symlink, a
#   content byte, a symlink target, a missing empty dir, a type change,
#   an extra file, a non-UTF-8 name), strict by default;
# - forge's tree encoder reproduces the tree-leaf vector of FORMAT.md;
# - proxy.py forwards a real client's every request to cofferd unchanged
#   (the server's full endpoint run passes through it), and its response
#   rules (flip, drop, truncate, replace, replay, status) really change
#   what a client receives;
# - once `coffer account create` and `drive create` exist: the forge, as
#   the device, makes a version that opens and walks (so what it forges is
#   valid), and every edit of store_edit.py (flip, point, head) is seen.
. "$(dirname "$0")/lib.sh"

# ---- generator ----
$GEN 11 "$TMP/g1" --files 20
$GEN 11 "$TMP/g2" --files 20
$CMP "$TMP/g1" "$TMP/g2" || fail "same seed, different trees"
$GEN 12 "$TMP/g3" --files 20
if $CMP "$TMP/g1" "$TMP/g3" >/dev/null; then fail "different seeds, same tree"; fi
python3 - "$TMP/g1" <<'EOF' || fail "generator coverage"
import os, stat, sys
root = os.fsencode(sys.argv[1])
seen = {"dangling": 0, "link-dir": 0, "abs": 0, "empty-dir": 0, "big": 0,
        "notutf8": 0, "n255": 0, "ns": 0, "0444": 0, "0755f": 0, "0700d": 0,
        "dash": 0, "space": 0, "empty-file": 0, "nested4": 0}
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        p = os.path.join(d, n)
        st = os.lstat(p)
        try:
            n.decode("utf-8")
        except UnicodeDecodeError:
            seen["notutf8"] += 1
        if len(n) == 255: seen["n255"] += 1
        if n.startswith(b"-"): seen["dash"] += 1
        if b" " in n: seen["space"] += 1
        if st.st_mtime_ns % 10 ** 9: seen["ns"] += 1
        if stat.S_ISLNK(st.st_mode):
            t = os.readlink(p)
            if t.startswith(b"/"): seen["abs"] += 1
            if not os.path.exists(p): seen["dangling"] += 1
            elif os.path.isdir(p): seen["link-dir"] += 1
        elif stat.S_ISDIR(st.st_mode):
            if not os.listdir(p): seen["empty-dir"] += 1
            if stat.S_IMODE(st.st_mode) == 0o700: seen["0700d"] += 1
            if os.path.relpath(p, root).count(b"/") >= 3: seen["nested4"] += 1
        else:
            if st.st_size > 1 << 21: seen["big"] += 1
            if st.st_size == 0: seen["empty-file"] += 1
            m = stat.S_IMODE(st.st_mode)
            if m == 0o444: seen["0444"] += 1
            if m == 0o755: seen["0755f"] += 1
missing = [k for k, v in seen.items() if v == 0]
if missing:
    print("missing:", missing)
    sys.exit(1)
EOF

# ---- comparer: each kind of difference ----
# fresh NAME: a new copy of seed 11 to damage.
fresh() { rm -rf "${TMP:?}/${1:?}"; $GEN 11 "$TMP/$1" --files 20; }
# caught WHAT PATTERN [compare options]: the comparer exits 1 and says PATTERN.
caught() {
	what=$1; pat=$2; shift 2
	if $CMP "$@" "$TMP/g1" "$TMP/m" >"$TMP/cmp.out"; then
		fail "comparer missed: $what"
	else
		rc=$?
	fi
	[ "$rc" = 1 ] || fail "comparer exited $rc for: $what"
	grep -q -- "$pat" "$TMP/cmp.out" || { cat "$TMP/cmp.out"; fail "comparer did not say '$pat' for: $what"; }
}
# keep_mtime PATH CMD...: run CMD, then restore PATH's parent's mtime (so
# only the change meant is left).
keep_parent() {
	p=$1; shift
	ns=$(python3 -c 'import os,sys; print(os.lstat(os.path.dirname(sys.argv[1])).st_mtime_ns)' "$p")
	"$@"
	python3 -c 'import os,sys; n=int(sys.argv[2]); os.utime(os.path.dirname(sys.argv[1]), ns=(n, n))' "$p" "$ns"
}
setns() {
	python3 -c 'import os,sys; n=int(sys.argv[2]); os.utime(sys.argv[1], ns=(n, n), follow_symlinks=False)' "$1" "$2"
}
getns() {
	python3 -c 'import os,sys; print(os.lstat(sys.argv[1]).st_mtime_ns)' "$1"
}

fresh m; chmod 0640 "$TMP/m/text.txt"
caught "file mode" "text.txt.*: mode 0644 != 0640"
fresh m; setns "$TMP/m/a/b/file.txt" $(( $(getns "$TMP/m/a/b/file.txt") + 1 ))
caught "file mtime ns" "file.txt.*: mtime"
fresh m; setns "$TMP/m/a/b" $(( $(getns "$TMP/m/a/b") - 1 ))
caught "dir mtime ns" "'a/b': mtime"
fresh m; setns "$TMP/m/link-rel" $(( $(getns "$TMP/m/link-rel") + 1 ))
caught "symlink mtime ns" "'link-rel': mtime"
fresh m; ns=$(getns "$TMP/m/one-byte"); printf y >"$TMP/m/one-byte"; setns "$TMP/m/one-byte" "$ns"
caught "content byte" "one-byte.*contents differ"
fresh m; python3 - "$TMP/m/big-random.bin" <<'EOF'
import os, sys
p = sys.argv[1]; st = os.lstat(p)
with open(p, "r+b") as f:
    f.seek(2 * 1024 * 1024 + 7); b = f.read(1); f.seek(-1, 1); f.write(bytes([b[0] ^ 1]))
os.utime(p, ns=(st.st_mtime_ns, st.st_mtime_ns))
EOF
caught "one bit deep in a big file" "big-random.bin.*contents differ"
fresh m; ns=$(getns "$TMP/m/link-dangling")
keep_parent "$TMP/m/link-dangling" sh -c 'rm "$1"; ln -s does/not/exist2 "$1"' - "$TMP/m/link-dangling"
setns "$TMP/m/link-dangling" "$ns"
caught "symlink target" "link-dangling.*symlink target"
fresh m; keep_parent "$TMP/m/empty-dir" rmdir "$TMP/m/empty-dir"
caught "missing empty dir" "'empty-dir': only in A"
fresh m; ns=$(getns "$TMP/m/script.sh")
keep_parent "$TMP/m/script.sh" sh -c 'rm "$1"; ln -s x "$1"' - "$TMP/m/script.sh"
caught "file became a symlink" "script.sh.*type file != symlink"
fresh m; keep_parent "$TMP/m/extra" sh -c ': >"$1"' - "$TMP/m/extra"
caught "extra file" "'extra': only in B"
fresh m; keep_parent "$TMP/m/x" sh -c 'mv "$1"/not-utf8-* "$1/not-utf8-renamed"' - "$TMP/m"
caught "non-UTF-8 name" 'not-utf8-\\xff\\xfe\\x80.bin.*only in A'
fresh m; setns "$TMP/m" 1
caught "top mtime (strict)" "(top): mtime"
$CMP --ignore-top "$TMP/g1" "$TMP/m" || fail "--ignore-top still compared the top"
fresh m; setns "$TMP/m/a/b" 5
$CMP --ignore-dir-mtimes "$TMP/g1" "$TMP/m" || fail "--ignore-dir-mtimes"

# ---- forge: the tree encoder against FORMAT.md's vector ----
Z=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
A=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
B=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
"$FORGE" tree --out "$TMP/tree.bin" \
    --entry "dir:dir:755:-1:$A" \
    --entry "file:file:644:1700000000.123456789:$A/1000,$B/2000" \
    --entry "lists:large:644:1700000000.123456789:300000000:$Z/300" \
    --entry "link:link:../target"
got=$(od -An -v -tx1 "$TMP/tree.bin" | tr -d ' \n')
want=$(sed -n 's/^tree-leaf //p' "$TESTS/../docs/FORMAT.md")
[ -n "$want" ] && [ "$got" = "$want" ] || fail "forge tree != FORMAT.md tree-leaf vector"
"$FORGE" tree --out "$TMP/dotdot.bin" --entry "file:..:644:0" --entry "file:a%2Fb:644:0"
od -An -v -tx1 "$TMP/dotdot.bin" | tr -d ' \n' | grep -q '000000022e2e' || fail "forge tree: '..'"
od -An -v -tx1 "$TMP/dotdot.bin" | tr -d ' \n' | grep -q '00000003612f62' || fail "forge tree: '%2F'"

# ---- proxy: forwards unchanged; rules change what the client sees ----
srv_proxy_start "$TMP/data"
"$SRVCLIENT" "$PROXY_URL" endpoints >"$TMP/endpoints.log" 2>&1 ||
    { tail -20 "$TMP/endpoints.log"; fail "the endpoint run failed through the proxy"; }
[ "$(hits)" = 0 ] || fail "the proxy applied a rule while it had none"
# Some objects, written and read back through the proxy.
: >"$TMP/ack"
"$SRVCLIENT" "$PROXY_URL" crash-write 77 "$TMP/ack" &
W=$!
i=0
while [ "$(wc -l <"$TMP/ack" 2>/dev/null || echo 0)" -lt 3 ]; do
	i=$((i + 1)); [ $i -lt 400 ] || fail "no write acknowledged through the proxy"
	sleep 0.05
done
kill "$W"; wait "$W" 2>/dev/null || true
"$SRVCLIENT" "$PROXY_URL" crash-verify 77 "$TMP/ack" >/dev/null 2>&1 ||
    fail "reading back through the proxy failed with no rule"
for r in '[{"op": "flip", "nth": 0, "byte": 100, "bit": 3}]' \
    '[{"op": "flip", "nth": 5, "byte": -1, "bit": 7}]' \
    '[{"op": "drop", "nth": 2}]' \
    '[{"op": "truncate", "nth": 1, "len": -1}]' \
    '[{"op": "status", "path": "/objects/get$", "code": 500}]'; do
	rules "$r"
	before=$(hits)
	if "$SRVCLIENT" "$PROXY_URL" crash-verify 77 "$TMP/ack" >/dev/null 2>&1; then
		fail "the client read back unchanged objects under rule $r"
	fi
	[ "$(hits)" -gt "$before" ] || fail "rule $r never applied"
done
# replace: serve another object's bytes (same length: only the id check
# of a real client would notice; here the byte compare does).
rules '[]'
"$SRVCLIENT" "$PROXY_URL" crash-verify 77 "$TMP/ack" >/dev/null 2>&1 || fail "reading back"
ID0=$(sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' "$HITS" | head -1)
[ -n "$ID0" ] || fail "no object id in the hits log"
rules "[{\"op\": \"replace\", \"nth\": 1, \"with_id\": \"$ID0\"}]"
if "$SRVCLIENT" "$PROXY_URL" crash-verify 77 "$TMP/ack" >/dev/null 2>&1; then
	fail "replace went unnoticed"
fi
grep -q '"op": "replace"' "$HITS" || fail "replace never applied"
# replay: the first quota answer recorded (fewer objects) is served again
# after more writes, and the client's count check notices.
rules '[]'
n0=$(wc -l <"$TMP/ack")
"$SRVCLIENT" "$PROXY_URL" crash-write 77 "$TMP/ack" &
W=$!
i=0
while [ "$(wc -l <"$TMP/ack")" -lt $((n0 + 3)) ]; do
	i=$((i + 1)); [ $i -lt 400 ] || fail "no more writes acknowledged"
	sleep 0.05
done
kill "$W"; wait "$W" 2>/dev/null || true
"$SRVCLIENT" "$PROXY_URL" crash-verify 77 "$TMP/ack" >/dev/null 2>&1 || fail "reading back"
rules '[{"op": "replay", "path": "/quota$", "method": "GET", "index": 0}]'
if "$SRVCLIENT" "$PROXY_URL" crash-verify 77 "$TMP/ack" >/dev/null 2>&1; then
	fail "replayed quota answer went unnoticed"
fi
grep -q '"op": "replay"' "$HITS" || fail "replay never applied"
rules '[]'

# ---- forge as a device, and store_edit: a version made by the forge
# opens and walks (so its objects are valid); every edit at rest makes
# the forge's own opening fail; undone, it walks again.
if have_client account drive; then
	proxy_account toolsuser
	printf 'hello\n' >"$TMP/c1"
	C=$($F put --drive docs --type chunk --in "$TMP/c1" | sed -n 's/^id //p')
	"$FORGE" tree --out "$TMP/t1" --entry "file:h:644:1700000000.5:$C/6" --entry "link:l:h"
	TR=$($F put --drive docs --type tree --in "$TMP/t1" | sed -n 's/^id //p')
	CM=$($F commit --drive docs --root "$TR" --start "$TR" --start "$C" | sed -n 's/^commit //p')
	[ -n "$C" ] && [ -n "$TR" ] && [ -n "$CM" ] || fail "forge put/commit"
	walk docs
	grep -q "^chunk $C 6 1\$" "$TMP/walk" || { cat "$TMP/walk"; fail "forge walk"; }
	[ "$($F info --drive docs | sed -n 's/^head_version //p')" = 1 ] || fail "head not at 1"
	EDIT="python3 $TESTS/store_edit.py $TMP/data"
	$F open --drive docs --type chunk --id "$C" --out "$TMP/c1.back" || fail "forge open"
	cmp -s "$TMP/c1" "$TMP/c1.back" || fail "forge open: not the chunk's plaintext"
	for x in "commit $CM" "tree $TR" "chunk $C"; do
		# shellcheck disable=SC2086 # "KIND ID", split on purpose
		set -- $x
		$EDIT flip "$DOCS" "$2" -1 0 || fail "store_edit flip"
		if $F open --drive docs --type "$1" --id "$2" >/dev/null 2>&1; then
			fail "flip at rest not seen: $x"
		fi
		$EDIT flip "$DOCS" "$2" -1 0 || fail "store_edit flip back"
		$F open --drive docs --type "$1" --id "$2" || fail "flip back: $x"
	done
	# seal writes a blob without uploading; put-raw uploads it as is.
	printf 'sealed apart\n' >"$TMP/c2"
	C2=$($F seal --drive docs --type chunk --in "$TMP/c2" --out "$TMP/c2.blob" | sed -n 's/^id //p')
	[ -n "$C2" ] && [ -s "$TMP/c2.blob" ] || fail "forge seal"
	if $F open --drive docs --type chunk --id "$C2" >/dev/null 2>&1; then
		fail "forge seal uploaded"
	fi
	$F put-raw --drive docs --id "$C2" --in "$TMP/c2.blob" >/dev/null || fail "forge put-raw"
	$F open --drive docs --type chunk --id "$C2" --out "$TMP/c2.back" || fail "forge open sealed"
	cmp -s "$TMP/c2" "$TMP/c2.back" || fail "seal/put-raw/open round trip"
	L=$($EDIT show "$DOCS" "$TR")
	$EDIT point "$DOCS" "$TR" "$C" || fail "store_edit point"
	if $F walk --drive docs >/dev/null 2>&1; then fail "point at rest not seen"; fi
	# shellcheck disable=SC2086 # the location's fields, split on purpose
	$EDIT setloc "$DOCS" "$TR" $L || fail "store_edit setloc"
	walk docs
	# A second version; then the head set back at rest.
	CM2=$($F commit --drive docs --root "$TR" | sed -n 's/^commit //p')
	[ "$($F info --drive docs | sed -n 's/^head_version //p')" = 2 ] || fail "head not at 2"
	$EDIT head "$DOCS" 1 "$CM" || fail "store_edit head"
	[ "$($F info --drive docs | sed -n 's/^head_commit //p')" = "$CM" ] || fail "head edit not seen"
	# A ghost commit and a ghost entry are made (the client tests refuse them).
	$F commit --drive docs --root "$TR" --ghost --no-head >/dev/null || fail "forge --ghost"
	$F ghost-entry --out "$TMP/ghost" >/dev/null || fail "forge ghost-entry"
	[ -s "$TMP/ghost" ] || fail "no ghost entry"
	echo "ok: forge as a device; store_edit flips, points, heads"
else
	echo "SKIP: forge as a device (needs coffer account create, drive create)"
fi
srv_stop
proxy_stop
echo "ok: generator, comparer, forge tree encoder, proxy"
