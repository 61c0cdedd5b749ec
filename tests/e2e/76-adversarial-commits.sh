#!/bin/sh
# Adversarial (issue #5; THREATS 7, 16, 17, 22, 24, 27): versions the
# forge tool makes from scratch, sealed under the drive's real keys, so
# that only the check each case is about can refuse them:
# - a file whose tree-declared chunk length is not the chunk's, or whose
#   chunk is not stored, or whose root "tree" is a chunk;
# - a commit signed by a key that is not in the chain (a fresh one, and a
#   real device of another account), one that skips a
#   version, and a fork (a head that does not descend from the pinned one);
# - a chain entry the server made up (a ghost device, signed by a
#   stranger), injected by the proxy into the chain it serves.
# Each case gets a drive of its own.  The control (a forged valid version
# pulls back exactly) is in 73-adversarial-forge.sh; here each drive that
# is pulled before its attack is pulled successfully first.  Each refused
# pull exits 3 and leaves nothing unverified (lib.sh pull_refused).
. "$(dirname "$0")/lib.sh"
need_client account drive push pull

srv_proxy_start "$TMP/data"
proxy_account
forge_setup
drive good
version good "file:hello.txt:640:1700000000.5:CHUNK"
pull_ok good "$TMP/pulls/good"
rm -rf "$TMP/pulls/good"

# ---- lengths, missing chunks, type confusion ----
# (A chunk is checked as its file is written: the target's own mtime may
# change, but nothing may be left, as the only file is the bad one.)
mkdir "$TMP/none"
ADV_SRC="$TMP/none"
TOUCH_OK=1
drive len
"$FORGE" tree --out "$TMP/root" --entry "file:f:644:0:$CH/5"
ROOT=$($F put --drive len --type tree --in "$TMP/root" | sed -n 's/^id //p')
$F commit --drive len --root "$ROOT" --start "$ROOT" >/dev/null || fail "forge commit"
refused "chunk longer than the tree says" len
drive len2
"$FORGE" tree --out "$TMP/root" --entry "file:f:644:0:$CH/7"
ROOT=$($F put --drive len2 --type tree --in "$TMP/root" | sed -n 's/^id //p')
$F commit --drive len2 --root "$ROOT" --start "$ROOT" --start "$CH" >/dev/null || fail "forge commit"
refused "chunk shorter than the tree says" len2
drive missing
MISSING=$(printf '%064d' 7)
"$FORGE" tree --out "$TMP/root" --entry "file:f:644:0:$CH/6,$MISSING/6"
ROOT=$($F put --drive missing --type tree --in "$TMP/root" | sed -n 's/^id //p')
$F commit --drive missing --root "$ROOT" --start "$ROOT" --start "$CH" >/dev/null || fail "forge commit"
refused "a chunk the server does not have" missing
TOUCH_OK=
drive confused
$F commit --drive confused --root "$CH" --start "$CH" >/dev/null || fail "forge commit"
refused "a chunk as the root tree" confused

# ---- commits ----
drive ghost
"$FORGE" tree --out "$TMP/root" --entry "file:f:644:0:$CH/6"
ROOT=$($F put --drive ghost --type tree --in "$TMP/root" | sed -n 's/^id //p')
$F commit --drive ghost --root "$ROOT" --start "$ROOT" --start "$CH" --ghost >/dev/null ||
    fail "forge commit --ghost"
refused "commit signed by a key not in the chain" ghost

# Signed by a real device -- of another account.
mkdir -m 700 "$TMP/home2"
COFFER_HOME="$TMP/home2" "$COFFER" --json account create --server "$PROXY_URL" dave \
    >/dev/null || fail "account create dave"
drive otheracct
"$FORGE" tree --out "$TMP/root" --entry "file:f:644:0:$CH/6"
ROOT=$($F put --drive otheracct --type tree --in "$TMP/root" | sed -n 's/^id //p')
$F commit --drive otheracct --root "$ROOT" --start "$ROOT" --start "$CH" \
    --sign-key "$TMP/home2/device.key" >/dev/null || fail "forge commit --sign-key"
refused "commit signed by a device of another account" otheracct

drive skip
version skip "file:f:644:0:CHUNK"
pull_ok skip "$TMP/pulls/skip"
rm -rf "$TMP/pulls/skip"
"$FORGE" tree --out "$TMP/root" --entry "file:g:644:0:$CH/6"
ROOT=$($F put --drive skip --type tree --in "$TMP/root" | sed -n 's/^id //p')
$F commit --drive skip --root "$ROOT" --start "$ROOT" --version 3 >/dev/null || fail "forge commit"
refused "a commit that skips a version (3 after 1)" skip

drive fork
version fork "file:f:644:0:CHUNK"
A=$COMMIT
pull_ok fork "$TMP/pulls/fork"
rm -rf "$TMP/pulls/fork"
"$FORGE" tree --out "$TMP/root2" --entry "file:other:644:0:$CH/6"
ROOT2=$($F put --drive fork --type tree --in "$TMP/root2" | sed -n 's/^id //p')
A2=$($F commit --drive fork --root "$ROOT2" --version 1 --no-head | sed -n 's/^commit //p')
[ -n "$A2" ] && [ "$A2" != "$A" ] || fail "forge: a second version 1"
$F commit --drive fork --root "$ROOT2" --version 2 --parent "$A2" --start "$ROOT2" >/dev/null ||
    fail "forge commit on the fork"
refused "a head on another line than the pinned version (fork)" fork

# ---- a chain entry the server made up ----
# The server itself refuses to append it (defence in depth) ...
if $F ghost-entry --out "$TMP/ghost.entry" --post >"$TMP/ghost.out" 2>&1; then
	fail "the server appended an entry signed by a stranger"
fi
grep -q 'the server refused' "$TMP/ghost.out" || { cat "$TMP/ghost.out"; fail "forge ghost-entry --post"; }
[ "$($F info | sed -n 's/^chain_length //p')" = 1 ] || fail "the chain grew"
# ... so a lying server serves it itself: the proxy adds it to the chain.
rules "[{\"op\": \"append_json\", \"path\": \"/chain\$\", \"key\": \"entries\", \"b64_file\": \"$TMP/ghost.entry\"}]"
arm
pull_refused "a device added by a stranger's signature (ghost)" good "$T"
assert_unchanged "$OUT" "$TMP/snap.outside"
rules '[]'
ARMED=
pull_ok good "$T"
assert_unchanged "$OUT" "$TMP/snap.outside"
srv_stop
echo "ok: every forged commit and entry refused"
