#!/bin/sh
# Full disks say so (issue #18), on small tmpfs mounts (root; skipped,
# saying so, where mount is not allowed):
# - the server's disk: cofferd logs a JSON line naming the cause (ENOSPC)
#   and answers 507 "disk_full" (it was a silent 500); the client exits 4
#   with "the server is out of disk space" (it said "refused");
# - the pull target's disk: exit 1, the message names the file and "No
#   space left on device" (it said "local I/O error"), and no temporary
#   file is left.
. "$(dirname "$0")/lib.sh"

MNT1="$TMP/srvdisk"
MNT2="$TMP/pulldisk"
mkdir "$MNT1" "$MNT2"
umount_all() {
	[ -z "$SRV_PID" ] || { kill -KILL "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=; }
	umount "$MNT1" 2>/dev/null || true
	umount "$MNT2" 2>/dev/null || true
	cleanup
}
trap umount_all EXIT
if ! mount -t tmpfs -o size=6m,mode=0700 tmpfs "$MNT1" 2>/dev/null ||
    ! mount -t tmpfs -o size=1m,mode=0700 tmpfs "$MNT2" 2>/dev/null; then
	echo "SKIP: cannot mount a tmpfs here (needs root): full disks not tested"
	exit 77
fi


# ---- the server's disk fills ----
srv_start "$MNT1/data"
COFFER_HOME="$TMP/home"; export COFFER_HOME
mkdir -m 700 "$COFFER_HOME"
expect_exit 0 "$COFFER" --json account create --server "$SRV_URL" alice
expect_exit 0 "$COFFER" --json drive create docs
mkdir "$TMP/small"
echo hello >"$TMP/small/a"
expect_exit 0 "$COFFER" --json push docs "$TMP/small"
mkdir "$TMP/big"
head -c 3000000 /dev/urandom >"$TMP/big/one"
head -c 3000000 /dev/urandom >"$TMP/big/two"
head -c 3000000 /dev/urandom >"$TMP/big/three"
expect_exit 4 '' "$COFFER" push docs "$TMP/big"
grep -q 'the server is out of disk space' "$TMP/err" ||
    { cat "$TMP/err"; fail "server disk full: the cause is not named"; }
grep -q 'freed space' "$TMP/err" || fail "server disk full: no next step"
grep '"ev":"disk_full"' "$TMP/server.log" | grep -q '"errno":"ENOSPC"' ||
    { tail -5 "$TMP/server.log"; fail "cofferd logged no disk_full line naming ENOSPC"; }
grep -q '"ev":"request".*"status":"507"' "$TMP/server.log" ||
    fail "cofferd did not answer 507"
grep -q '"status":"500"' "$TMP/server.log" && fail "cofferd answered a silent 500"
expect_exit 4 '' "$COFFER" --json push docs "$TMP/big"
grep -q '"status":4' "$TMP/out" && grep -q 'out of disk space' "$TMP/out" ||
    fail "server disk full: JSON"
# What was stored before is still there.
expect_exit 0 "$COFFER" --json log docs
srv_stop
echo "ok: the server's disk full: logged (ENOSPC), 507, exit 4 'out of disk space'"

# ---- the pull target's disk fills ----
srv_start "$TMP/data"
COFFER_HOME="$TMP/home2"; export COFFER_HOME
mkdir -m 700 "$COFFER_HOME"
expect_exit 0 "$COFFER" --json account create --server "$SRV_URL" bob
expect_exit 0 "$COFFER" --json drive create docs
expect_exit 0 "$COFFER" --json push docs "$TMP/big"
expect_exit 1 '' "$COFFER" pull docs "$MNT2/t"
grep -q 'No space left on device' "$TMP/err" ||
    { cat "$TMP/err"; fail "pull: ENOSPC not named"; }
grep -Eq "$MNT2/t/(one|two|three)" "$TMP/err" ||
    { cat "$TMP/err"; fail "pull: the path is not named"; }
grep -q 'local I/O error' "$TMP/err" && fail "pull: only 'local I/O error'"
left=$(find "$MNT2" -name '.coffer-tmp-*')
[ -z "$left" ] || fail "pull left temporary files: $left"
expect_exit 1 '' "$COFFER" --json pull docs "$MNT2/u"
grep -q '"status":1' "$TMP/out" && grep -q 'No space left on device' "$TMP/out" ||
    fail "pull: JSON"
[ -z "$(find "$MNT2" -name '.coffer-tmp-*')" ] || fail "pull --json left temporary files"
srv_stop
echo "ok: the pull target's disk full: exit 1, the path and 'No space left on device', no temporary file"
