#!/bin/sh
# The top folder's mode and mtime are restored like every other folder's
# (issue #18, Data; commit format 2, docs/FORMAT.md §13):
# 1. A pull sets them, to the nanosecond, on a new target folder and, with
#    --overwrite, on an existing one; the whole tree then compares equal
#    with the top folder included.  The mode is masked to 0777 unless
#    --keep-modes (a setgid top folder), as a subfolder's is; an older
#    version keeps its own.
# 2. A push of the same contents is "unchanged"; a change of the top
#    folder's mode alone, or of its mtime alone, is a new version.
# 3. device remove --rekey re-seals the head with its top folder metadata.
# 4. An old commit (format 1, forged: no top folder metadata) still pulls,
#    leaving the target folder's own mode alone and its mtime unset (as
#    before format 2: writing into it moves it); a re-sealed
#    format 1 head stays format 1; the next push records the metadata.
# 5. A top folder whose mode and mtime cannot be set (immutable) is named,
#    left as it was, and the pull exits 6 (incomplete, one skipped).
. "$(dirname "$0")/lib.sh"
CMPX="python3 $TESTS/compare_tree.py"	# strict: the top folder too

# top_is DIR MODE NS: DIR's permission bits (octal) and mtime in ns.
top_is() {
	got=$(python3 -c 'import os,sys; s=os.stat(sys.argv[1]); print("%o %d" % (s.st_mode & 0o7777, s.st_mtime_ns))' "$1")
	[ "$got" = "$2 $3" ] || fail "$1: mode and mtime are '$got', want '$2 $3'"
}
# walkf HOME: the forge's listing of docs' head, in $TMP/walk.
walkf() {
	"$FORGE" --server "$SRV_URL" --home "$TMP/$1" --account alice walk \
	    --drive docs >"$TMP/walk" || fail "forge walk"
}
wfield() { sed -n "s/^$1 //p" "$TMP/walk"; }

T1=1614834367123456789		# 2021-03-04, with nanoseconds
T2=1500000000000000007
T3=1400000000987654321
settime() { touch -d "@$(($2 / 1000000000)).$(printf '%09d' $(($2 % 1000000000)))" "$1"; }

srv_start "$TMP/data"
make_account A A
coffer_in A 0 --json drive create docs
SRC="$TMP/src"
mkdir -p "$SRC/sub"
printf 'a\n' >"$SRC/a.txt"
printf 'b\n' >"$SRC/sub/b.txt"
chmod 0750 "$SRC"
settime "$SRC" $T1
top_is "$SRC" 750 $T1
coffer_in A 0 --json push docs "$SRC"
[ "$(key version)" = 1 ] || fail "first push is not version 1"
walkf A
[ "$(wfield root_meta)" = "750 1614834367 123456789" ] ||
    fail "the commit does not hold the top folder's metadata: $(wfield root_meta)"

# ---- 1. pull restores them ----
coffer_in A 0 --json pull docs "$TMP/p1"
top_is "$TMP/p1" 750 $T1
$CMPX "$SRC" "$TMP/p1" || fail "a pull into a new folder differs (top folder included)"
mkdir -m 0700 "$TMP/p2"
printf 'mine\n' >"$TMP/p2/mine.txt"
settime "$TMP/p2" $T3
coffer_in A 0 --json pull docs "$TMP/p2" --overwrite
top_is "$TMP/p2" 750 $T1
[ "$(cat "$TMP/p2/mine.txt")" = mine ] || fail "--overwrite lost a local file"
echo "ok: the top folder's mode and mtime, into a new folder and with --overwrite"

# ---- 2. push: the same is unchanged; mode alone, mtime alone are new ----
coffer_in A 0 --json push docs "$SRC"
[ "$(key unchanged)" = true ] || fail "a push of the same folder is not unchanged: $(cat "$TMP/out")"
chmod 0705 "$SRC"
top_is "$SRC" 705 $T1
coffer_in A 0 --json push docs "$SRC"
[ "$(key unchanged)" = false ] && [ "$(key version)" = 2 ] ||
    fail "a change of the top folder's mode alone made no version: $(cat "$TMP/out")"
coffer_in A 0 --json pull docs "$TMP/p3"
top_is "$TMP/p3" 705 $T1
settime "$SRC" $T2
coffer_in A 0 --json push docs "$SRC"
[ "$(key unchanged)" = false ] && [ "$(key version)" = 3 ] ||
    fail "a change of the top folder's mtime alone made no version: $(cat "$TMP/out")"
coffer_in A 0 --json pull docs "$TMP/p4"
top_is "$TMP/p4" 705 $T2
$CMPX "$SRC" "$TMP/p4" || fail "version 3 differs (top folder included)"
echo "ok: a change of the top folder's mode or mtime alone is a new version"

# setgid: masked to 0777 unless --keep-modes, as a subfolder's mode is.
chmod 2750 "$SRC"
coffer_in A 0 --json push docs "$SRC"
[ "$(key version)" = 4 ] || fail "setgid on the top folder made no version"
coffer_in A 0 --json pull docs "$TMP/p5"
top_is "$TMP/p5" 750 $T2
coffer_in A 0 --json pull docs "$TMP/p6" --keep-modes
top_is "$TMP/p6" 2750 $T2
coffer_in A 0 --json pull docs "$TMP/p7" --version 1
top_is "$TMP/p7" 750 $T1
echo "ok: --keep-modes keeps the top folder's setgid bit; version 1 keeps its own"

# ---- 3. a rekey carries them over ----
make_device B; BID=$JOINED
make_device C; CID=$JOINED
coffer_in A 0 --json device remove "$BID" --rekey
[ "$(key rekeyed)" = true ] || fail "not rekeyed"
coffer_in A 0 --json log docs
[ "$(key version)" = 5 ] || fail "the rekey made no version 5"
walkf A
[ "$(wfield root_meta)" = "2750 1500000000 7" ] ||
    fail "the re-sealed head lost the top folder's metadata: $(wfield root_meta)"
coffer_in C 0 --json pull docs "$TMP/p8" --keep-modes
top_is "$TMP/p8" 2750 $T2
$CMPX "$SRC" "$TMP/p8" || fail "the re-sealed version differs (top folder included)"
echo "ok: device remove --rekey keeps the top folder's metadata"

# ---- 4. an old commit (format 1) ----
ROOT=$(wfield root)
"$FORGE" --server "$SRV_URL" --home "$TMP/A" --account alice commit \
    --drive docs --root "$ROOT" >"$TMP/forged" || fail "forge commit"
grep -q '^version 6$' "$TMP/forged" || fail "the forged commit is not version 6: $(cat "$TMP/forged")"
walkf A
[ "$(wfield root_meta)" = none ] || fail "the forged commit is not format 1: $(wfield root_meta)"
mkdir -m 0711 "$TMP/p9"
settime "$TMP/p9" $T3
coffer_in A 0 --json pull docs "$TMP/p9" --overwrite
[ "$(key version)" = 6 ] || fail "did not pull version 6"
# Its mode is left alone; its mtime is whatever writing into it made it.
m=$(python3 -c 'import os,sys; s=os.stat(sys.argv[1]); print("%o %d" % (s.st_mode & 0o7777, s.st_mtime_ns))' "$TMP/p9")
[ "${m% *}" = 711 ] || fail "a format 1 version changed the target folder's mode: $m"
[ "${m#* }" != $T2 ] || fail "a format 1 version set the target folder's mtime"
python3 "$TESTS/compare_tree.py" --ignore-top "$SRC" "$TMP/p9" || fail "the format 1 version's contents differ"
coffer_in A 0 --json pull docs "$TMP/p10"
python3 "$TESTS/compare_tree.py" --ignore-top "$SRC" "$TMP/p10" || fail "the format 1 version's contents differ (new folder)"
m=$(python3 -c 'import os,sys; print("%o" % (os.stat(sys.argv[1]).st_mode & 0o7777))' "$TMP/p10")
[ "$m" != 2750 ] && [ "$m" != 750 ] || fail "a format 1 version set the top folder's mode"
echo "ok: a format 1 commit pulls and leaves the top folder alone"

# Re-sealed, a format 1 head stays format 1 (no folder to read it from).
coffer_in A 0 --json device remove "$CID" --rekey
[ "$(key rekeyed)" = true ] || fail "not rekeyed (2)"
walkf A
[ "$(wfield version)" = 7 ] || fail "the second rekey made no version 7"
[ "$(wfield root_meta)" = none ] || fail "the re-sealed format 1 head has metadata: $(wfield root_meta)"
# The next push of the same folder records them: a new version.
coffer_in A 0 --json push docs "$SRC"
[ "$(key unchanged)" = false ] && [ "$(key version)" = 8 ] ||
    fail "a push over a format 1 head did not record the top folder: $(cat "$TMP/out")"
walkf A
[ "$(wfield root_meta)" = "2750 1500000000 7" ] || fail "version 8: $(wfield root_meta)"
coffer_in A 0 --json push docs "$SRC"
[ "$(key unchanged)" = true ] || fail "the push after it is not unchanged"
coffer_in A 0 --json pull docs "$TMP/p11" --keep-modes
top_is "$TMP/p11" 2750 $T2
echo "ok: a re-sealed format 1 head stays format 1; the next push records the top folder"

# ---- 5. a top folder whose mode cannot be set is named: exit 6 ----
# An immutable empty folder (chattr +i: root, on a file system that has
# it): an empty version writes nothing into it, then cannot set its mode.
coffer_in A 0 --json drive create empty
mkdir -m 0750 "$TMP/esrc"
coffer_in A 0 --json push empty "$TMP/esrc"
mkdir -m 0700 "$TMP/imm"
if chattr +i "$TMP/imm" 2>/dev/null; then
	trap 'chattr -i "$TMP/imm" 2>/dev/null; cleanup' EXIT
	before=$(python3 -c 'import os,sys; s=os.stat(sys.argv[1]); print("%o %d" % (s.st_mode & 0o7777, s.st_mtime_ns))' "$TMP/imm")
	coffer_in A 6 '' --json pull empty "$TMP/imm"
	grep -q "coffer: \.: could not set the top folder's mode and time (Operation not permitted)" "$TMP/err" ||
	    { cat "$TMP/err"; fail "the top folder's failure is not named"; }
	[ "$(key incomplete)" = true ] && [ "$(key skipped)" = 1 ] ||
	    fail "not incomplete with one skipped: $(cat "$TMP/out")"
	after=$(python3 -c 'import os,sys; s=os.stat(sys.argv[1]); print("%o %d" % (s.st_mode & 0o7777, s.st_mtime_ns))' "$TMP/imm")
	[ "$before" = "$after" ] || fail "the immutable folder changed: $before, $after"
	chattr -i "$TMP/imm"
	coffer_in A 0 --json pull empty "$TMP/imm"
	top_is "$TMP/imm" 750 "$(python3 -c 'import os,sys; print(os.stat(sys.argv[1]).st_mtime_ns)' "$TMP/esrc")"
	echo "ok: a top folder whose mode cannot be set is named, exit 6"
else
	echo "skip: chattr +i is not available here (section 5)"
fi
