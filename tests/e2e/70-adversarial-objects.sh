#!/bin/sh
# Adversarial (issue #5; THREATS 13, 18, 20): a server that flips a bit of
# an object of a version.  Through the man-in-the-middle proxy, in the
# commit, the root tree, a subtree, a small chunk and a 1 MiB chunk, at the
# tag, the version, the key id, the nonce, the key commitment, the
# ciphertext and the MAC (and three bytes deep in the big chunk).  Each
# `coffer pull` exits 3 and leaves nothing unverified (lib.sh
# pull_refused: strict for the commit and trees, verified files only for a
# chunk).  A pull with no rule is exact (compare_tree.py), so the refusals
# are the tampering's doing.  Swaps, drops, truncations:
# 78-adversarial-swap.sh.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull

srv_proxy_start "$TMP/data"
proxy_account
$GEN 70 "$TMP/src" --files 12
ADV_SRC="$TMP/src"
push docs "$TMP/src"
$GEN 71 "$TMP/pics" --files 4 --no-big
push pics "$TMP/pics"

walk docs
COMMIT=$(sed -n 's/^commit //p' "$TMP/walk")
ROOT=$(sed -n 's/^root //p' "$TMP/walk")
SUB=$(field tree 2)
CH1=$(field chunk 1)
CH2=$(field chunk 2)
BIG=$(awk '$1 == "chunk" && $3 > 500000 { print $2; exit }' "$TMP/walk")
for v in COMMIT ROOT SUB CH1 CH2 BIG; do
	eval "x=\$$v"
	[ -n "$x" ] || fail "no $v in the version (forge walk)"
done
walk pics
PROOT=$(sed -n 's/^root //p' "$TMP/walk")
PCH=$(field chunk 1)
$F raw --drive pics --id "$PCH" --out "$TMP/pics-chunk" || fail "forge raw"
$F raw --drive pics --id "$PROOT" --out "$TMP/pics-root" || fail "forge raw"

# Control: no rule, an exact copy.
pull_ok docs "$TMP/pulls/ok"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/ok" || fail "the untampered pull is not exact"
rm -rf "$TMP/pulls/ok"
mkdir "$TMP/pulls/t"
T="$TMP/pulls/t"


# A bit flipped: tag, version, key id, nonce, commitment, ciphertext, MAC.
# (A chunk is checked as it is written to a temporary file: the target's
# own mtime may change then, nothing else; TOUCH_OK.)
for what in COMMIT ROOT SUB CH1 BIG; do
	eval "id=\$$what"
	case $what in CH1|BIG) TOUCH_OK=1 ;; *) TOUCH_OK= ;; esac
	case $what in
	SUB|BIG) bytes="5 70 100 -1" ;;
	*) bytes="0 4 5 40 70 100 -17 -1" ;;
	esac
	for byte in $bytes; do
		rules "[{\"op\": \"flip\", \"id\": \"$id\", \"byte\": $byte, \"bit\": 2}]"
		arm
		pull_refused "bit flipped in $what at byte $byte" docs "$T"
	done
done
# A bit deep inside the big chunk (sampled).
TOUCH_OK=1
for byte in 4096 300000 -5000; do
	rules "[{\"op\": \"flip\", \"id\": \"$BIG\", \"byte\": $byte, \"bit\": 0}]"
	arm
	pull_refused "bit flipped in the big chunk at byte $byte" docs "$T"
done

srv_stop
echo "ok: every flipped bit refused"
