#!/bin/sh
# The device's home on a full disk (docs/COVERAGE.md: the failed-write
# paths of cf_state_write, lib/client/state.c, that 69-disk-full.sh does
# not reach: there the server's disk and the pull's target fill, here the
# home).  A push, a pull and a drive create whose pin or account file
# cannot be written (ENOSPC) exit 1 naming no success, leave no temporary
# file in the home, and keep every pin as it was; with room again, the
# same device pushes and pulls again, exactly.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull status

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to mount a small tmpfs"; exit 77; }
HM="$TMP/homedisk"
mkdir "$HM"
if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$HM" 2>/dev/null; then
	echo "SKIP: cannot mount a tmpfs here: a full home not tested"
	exit 77
fi
home_cleanup() {
	[ -z "$SRV_PID" ] || { kill -KILL "$SRV_PID" 2>/dev/null || true; }
	umount "$HM" 2>/dev/null || true
	cleanup
}
trap home_cleanup EXIT

srv_start "$TMP/data"
H="$HM/home"
mkdir -m 700 "$H"
coffer_in "$H" 0 --json account create --server "$SRV_URL" alice --name laptop
coffer_in "$H" 0 --json drive create docs
$GEN 142 "$TMP/src" --files 4 --no-big
coffer_in "$H" 0 --json push docs "$TMP/src"
mkdir "$TMP/pulls"
V1=$(sql 'select max(version) from drives')

# fill: the home's disk full to the last page (a file can still be
# made, not written: the write fails with ENOSPC).
fill() { dd if=/dev/zero of="$HM/filler" bs=4k 2>/dev/null || true; }
unfill() { rm -f "$HM/filler"; }

# no_tmp WHAT: no temporary file left in the home.
no_tmp() {
	left=$(find "$H" -name '.*.tmp-*')
	[ -z "$left" ] || fail "$1: temporary files left in the home: $left"
}

# A push: the server takes the version, the drive pin cannot follow.
# (nodirtime: a temporary file made and removed touches the folder.)
snapshot "$H/drives" "$TMP/pins.before" nodirtime
echo "changed while the home was full" >"$TMP/src/full.txt"
fill
coffer_in "$H" 1 'local I/O error' --json push docs "$TMP/src"
no_tmp "push"
assert_unchanged "$H/drives" "$TMP/pins.before" "a push into a full home"
echo "ok: push with a full home: exit 1, no temporary file, the pin as it was"

# A pull of that version: the target is written elsewhere, the pin is not.
coffer_in "$H" 1 'local I/O error' --json pull docs "$TMP/pulls/a"
no_tmp "pull"
assert_unchanged "$H/drives" "$TMP/pins.before" "a pull into a full home"
echo "ok: pull with a full home: exit 1, no temporary file, the pin as it was"

# A new drive: its name is in the directory record the server took or not;
# either way nothing half-written stays.
coffer_in "$H" 1 '' --json drive create pics
no_tmp "drive create"
echo "ok: drive create with a full home: exit 1, no temporary file"

# Room again: the same device pushes and pulls, exactly.
unfill
coffer_in "$H" 0 --json status
coffer_in "$H" 0 --json push docs "$TMP/src"
rm -rf "$TMP/pulls/a"
coffer_in "$H" 0 --json pull docs "$TMP/pulls/a"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/a" || fail "not exact after the disk had room again"
[ "$(sql 'select max(version) from drives')" -gt "$V1" ] || fail "no new version"
no_tmp "after"
srv_stop
echo "ok: a full home fails cleanly and recovers"
