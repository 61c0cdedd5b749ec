#!/bin/sh
# Adversarial (issue #5; THREATS 21, 24, 25): trees the forge tool makes
# from scratch, sealed under the drive's real keys and committed by this
# very device, so that only the tree checks can refuse them:
# - names "..", ".", "", "a/b", "../../x", "/tmp/abs", one with a NUL, and
#   a symlink named "..";
# - duplicate names and entries out of order;
# - the symlink-then-dir and symlink-then-file tricks: a symlink "x" to a
#   folder or file outside the target, and an entry "x" again that would
#   write through it (and the reverse order).
# Each case gets a drive of its own, so nothing else can be why it fails.
# A forged but valid version pulls back exactly (the control), so every
# refusal is the defect's doing.  Each refused pull exits 3, leaves the
# target and its folder unchanged, and writes nothing outside (the folder
# the symlinks point to is unchanged).  Commits, lengths and chain entries
# forged the same way: 76-adversarial-commits.sh.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull

srv_proxy_start "$TMP/data"
proxy_account
forge_setup

# ---- control: a forged, valid version pulls back exactly ----
drive good
version good "file:hello.txt:640:1700000000.5:CHUNK" "link:l:hello.txt" \
    "dir:sub:750:1600000000.25:SUB"
pull_ok good "$TMP/pulls/good"
mkdir -p "$TMP/want/sub"
printf 'pwned\n' >"$TMP/want/hello.txt"
printf 'pwned\n' >"$TMP/want/sub/pwned"
ln -s hello.txt "$TMP/want/l"
python3 - "$TMP/want" <<'EOF'
import os, sys
w = sys.argv[1]
os.chmod(w + "/hello.txt", 0o640); os.chmod(w + "/sub/pwned", 0o644)
os.chmod(w + "/sub", 0o750)
for p, ns in (("/hello.txt", 1700000000500000000), ("/sub/pwned", 1700000000100000000),
              ("/sub", 1600000000250000000)):
    os.utime(w + p, ns=(ns, ns))
os.utime(w + "/l", ns=(0, 0), follow_symlinks=False)
EOF
# The forged symlink's mtime is 0 (forge tree writes 0 for symlinks).
$CMP --ignore-top "$TMP/want" "$TMP/pulls/good" || fail "the forged valid version is not exact"
rm -rf "$TMP/pulls/good"
echo "ok: control: a forged valid version pulls back exactly"

# ---- unsafe or malformed names ----
n=0
for spec in "file:..:644:0:CHUNK" "file:.:644:0:CHUNK" "file::644:0:CHUNK" \
    "dir:..:755:0:SUB" "file:a%2Fb:644:0:CHUNK" "file:..%2F..%2Fx:644:0:CHUNK" \
    "file:%2Ftmp%2Fabs:644:0:CHUNK" "file:a%00b:644:0:CHUNK" \
    "link:..:OUTSIDE"; do
	n=$((n + 1))
	drive "name$n"
	version "name$n" "$spec"
	refused "tree entry $spec" "name$n"
done

# ---- duplicates, disorder, symlink tricks ----
drive dup
version dup "file:x:644:0:CHUNK" "file:x:644:0:CHUNK"
refused "duplicate names" dup
drive order
version order "file:b:644:0:CHUNK" "file:a:644:0:CHUNK"
refused "entries out of order" order
drive trick1
version trick1 "link:x:OUTSIDE" "dir:x:755:0:SUB"
refused "symlink x to a folder outside, then dir x" trick1
drive trick2
version trick2 "link:x:OUTSIDE/victim" "file:x:644:0:CHUNK"
refused "symlink x to a file outside, then file x" trick2
drive trick3
version trick3 "dir:x:755:0:SUB" "link:x:OUTSIDE/dir"
refused "dir x, then symlink x" trick3

srv_stop
echo "ok: every forged version refused"
