#!/bin/sh
# A damaged device home (docs/COVERAGE.md: the short-read and bad-format
# paths of the readers of the device's own files, lib/crypto/keyfile.c,
# lib/client/state.c, lib/chain/pin.c).  Each trusted file of the home
# (FORMAT §19: account, device key, chain pin, directory pin, drive pin)
# cut short at 0, 7 and all-but-one bytes, and the account, key and
# chain pin with one bit flipped: 'coffer status' and 'coffer pull' exit 1
# (bad data in the device's own files, DESIGN §8; not 3, it is not the
# server's), say that a file of this device is damaged, and change nothing
# in the home or the target.  The untrusted caches (§19.4, §19.5) cut
# short or garbled are ignored: push and pull still work, exactly.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull status

srv_start "$TMP/data"
make_account A laptop
coffer_in A 0 --json drive create docs
DRIVE=$(key drive_id)
$GEN 141 "$TMP/src" --files 4 --no-big
coffer_in A 0 --json push docs "$TMP/src"
mkdir "$TMP/pulls"
coffer_in A 0 --json pull docs "$TMP/pulls/t"
H="$TMP/A"
[ -f "$H/drives/$DRIVE" ] || fail "no drive pin at drives/$DRIVE"

# damaged WHAT: status and pull exit 1, say so, and change nothing.
damaged() {
	snapshot "$H" "$TMP/home.before"
	snapshot "$TMP/pulls" "$TMP/pulls.before"
	coffer_in A 1 'a file of this device is damaged' status
	coffer_in A 1 'a file of this device is damaged' \
	    pull docs "$TMP/pulls/t" --overwrite
	assert_unchanged "$H" "$TMP/home.before" "$1"
	assert_unchanged "$TMP/pulls" "$TMP/pulls.before" "$1"
}

for f in account device.key chain.pin directory.pin "drives/$DRIVE"; do
	cp "$H/$f" "$TMP/saved"
	len=$(wc -c <"$TMP/saved")
	for n in 0 7 $((len - 1)); do
		head -c "$n" "$TMP/saved" >"$H/$f"
		damaged "$f cut to $n of $len bytes"
	done
	cp "$TMP/saved" "$H/$f"
	echo "ok: $f cut short: exit 1, nothing changed"
done

# One bit flipped where it is checked (the account file and the key are
# sealed, the chain pin is the chain's own signed entries).
for f in account device.key chain.pin; do
	cp "$H/$f" "$TMP/saved"
	len=$(wc -c <"$TMP/saved")
	for off in 5 $((len / 2)) $((len - 1)); do
		python3 -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[o] ^= 0x20; open(p, "wb").write(b)' "$H/$f" "$off"
		damaged "$f with byte $off flipped"
		cp "$TMP/saved" "$H/$f"
	done
	echo "ok: $f with a bit flipped: exit 1, nothing changed"
done
coffer_in A 0 --json status

# The caches are untrusted: cut short or garbled, they are dropped.
for c in statcache known; do
	f="$H/cache/$c/$DRIVE"
	[ -f "$f" ] || fail "no $c cache at $f"
	for how in cut garble; do
		if [ $how = cut ]; then
			head -c 7 "$f" >"$TMP/c" && mv "$TMP/c" "$f"
		else
			head -c 4000 /dev/urandom >"$f"
		fi
		echo "more $c $how" >>"$TMP/src/added.txt"
		coffer_in A 0 --json push docs "$TMP/src"
		rm -rf "$TMP/pulls/c"
		coffer_in A 0 --json pull docs "$TMP/pulls/c"
		$CMP --ignore-top "$TMP/src" "$TMP/pulls/c" ||
		    fail "a push after the $c cache was ${how}: not exact"
	done
	echo "ok: the $c cache cut short or garbled: dropped, push and pull exact"
done
srv_stop
echo "ok: a damaged home is refused with exit 1 and left as it was"
