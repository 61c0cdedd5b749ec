#!/bin/sh
# device remove --rekey re-seals every drive's head from the server's
# objects, in memory (issue #18): while it runs and after it, no file under
# the home (its data and cache) or the temporary folder it is given holds
# any plaintext of the pushed files (a marker string in each, searched
# over and over while the rekey runs); the re-sealed version is a new
# version with new chunk ids that another device pulls back exactly
# (modes, times, symlinks, empty folders and files, a file larger than the
# chunker's window), and the drive's ids all change, while the removed
# device is refused.  Past the delta cap it is split into versions that
# each read back as the same folder.
. "$(dirname "$0")/lib.sh"

MARK="coffer-plaintext-marker-$$-q7Zx"

# watch PID DIR...: search DIR... for $MARK until PID ends, then once more;
# print each file found holding it (in $TMP/hits).
watch_dirs() {
	python3 - "$MARK" "$@" >"$TMP/hits" <<'PY'
import os, sys
mark, pid, dirs = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3:]
hits, scans = set(), 0
def scan():
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                p = os.path.join(root, f)
                try:
                    with open(p, "rb") as fh:
                        if mark in fh.read():
                            hits.add(p)
                except OSError:
                    pass
def alive():
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
while alive():
    scan()
    scans += 1
scan()
for h in sorted(hits):
    print(h)
sys.stderr.write("scans: %d\n" % scans)
PY
}

srv_start "$TMP/data"
make_account A A
coffer_in A 0 --json drive create docs
coffer_in A 0 --json drive create empty
$GEN 991 "$TMP/src" --files 20 >/dev/null
# The marker in small files, in a file of several chunks, and at both ends
# of a file larger than the window (CF_CHUNK_MAX, 8 MiB) -- between random
# bytes, so that it is not compressed away.
printf '%s\n' "$MARK" >"$TMP/src/marked.txt"
mkdir -p "$TMP/src/deep/er"
printf 'x %s y\n' "$MARK" >"$TMP/src/deep/er/marked2.txt"
python3 - "$MARK" "$TMP/src" <<'PY'
import os, random, sys
mark, d = sys.argv[1].encode(), sys.argv[2]
r = random.Random(99)
def rnd(n): return bytes(r.getrandbits(8) for _ in range(n)) if n < 4096 else r.randbytes(n)
with open(os.path.join(d, "several-chunks.bin"), "wb") as f:
    for _ in range(6):
        f.write(rnd(700 * 1024) + mark)
with open(os.path.join(d, "deep", "past-window.bin"), "wb") as f:
    f.write(mark + rnd(19 * 1024 * 1024 + 123) + mark)
PY
coffer_in A 0 --json push docs "$TMP/src"
"$FORGE" --server "$SRV_URL" --home "$TMP/A" --account alice walk --drive docs |
    sed -n 's/^\(chunk\|tree\|list\) \([0-9a-f]*\).*/\1 \2/p' | sort -u >"$TMP/ids.before"
[ -s "$TMP/ids.before" ] || fail "no ids listed"
make_device B; BID=$JOINED
make_device C
coffer_in B 0 --json pull docs "$TMP/pullB"

# The home holds no plaintext before (the check can see nothing else).
watch_dirs 0 "$TMP/A"
[ ! -s "$TMP/hits" ] || fail "plaintext in the home before the rekey: $(cat "$TMP/hits")"

mkdir -m 700 "$TMP/tmpdir"
( COFFER_HOME="$TMP/A" TMPDIR="$TMP/tmpdir" "$COFFER" --json device remove "$BID" --rekey \
    >"$TMP/rekey.out" 2>"$TMP/rekey.err" </dev/null && rc=0 || rc=$?
  echo "$rc" >"$TMP/rekey.rc" ) &
REKEY=$!
# Its pid: the coffer child of the subshell.
i=0
while :; do
	P=$(pgrep -P "$REKEY" -x coffer || true)
	[ -z "$P" ] || break
	[ ! -s "$TMP/rekey.rc" ] || break
	i=$((i + 1)); [ $i -le 500 ] || fail "the rekey did not start"; sleep 0.01
done
watch_dirs "${P:-0}" "$TMP/A" "$TMP/tmpdir" 2>"$TMP/scans"
wait "$REKEY" || true
[ "$(cat "$TMP/rekey.rc")" = 0 ] || { cat "$TMP/rekey.out" "$TMP/rekey.err"; fail "remove --rekey exited $(cat "$TMP/rekey.rc")"; }
[ ! -s "$TMP/hits" ] || fail "plaintext on disk during or after the rekey: $(cat "$TMP/hits")"
grep -q '"rekeyed":true' "$TMP/rekey.out" || fail "not rekeyed: $(cat "$TMP/rekey.out")"
[ -z "$(find "$TMP/A" "$TMP/tmpdir" -name 'rekey-*')" ] || fail "a rekey folder was made"

# A new version, with none of the old ids (same content, new secret).
coffer_in A 0 --json log docs
[ "$(key version)" = 2 ] || fail "the re-sealed version is not version 2"
"$FORGE" --server "$SRV_URL" --home "$TMP/A" --account alice walk --drive docs |
    sed -n 's/^\(chunk\|tree\|list\) \([0-9a-f]*\).*/\1 \2/p' | sort -u >"$TMP/ids.after"
[ -s "$TMP/ids.after" ] || fail "no ids listed after"
[ -z "$(comm -12 "$TMP/ids.before" "$TMP/ids.after")" ] || fail "an id survived the rekey: $(comm -12 "$TMP/ids.before" "$TMP/ids.after" | head -3; cat "$TMP/scans")"

# Another device pulls it back exactly; version 1 still reads; B is refused.
coffer_in C 0 --json pull docs "$TMP/pullC"
$CMP --ignore-top "$TMP/src" "$TMP/pullC" || fail "C's pull of the re-sealed version differs"
cmp "$TMP/src/deep/past-window.bin" "$TMP/pullC/deep/past-window.bin" || fail "the large file differs"
coffer_in C 0 --json pull docs "$TMP/pullC1" --version 1
$CMP --ignore-top "$TMP/src" "$TMP/pullC1" || fail "version 1 is no longer readable"
coffer_in C 0 --json log empty
[ ! -s "$TMP/out" ] || fail "the empty drive got a version"
coffer_in B 4 '' --json pull docs "$TMP/pullB2"
# A push of the same folder after the rekey uploads no chunk: the
# re-sealed version was cut by the new secret's chunker, as a push cuts.
coffer_in C 0 --json push docs "$TMP/src"
[ "$(key chunks_uploaded)" = 0 ] || fail "a push after the rekey uploaded $(key chunks_uploaded) chunks"

# Past the server's cap on one reference delta (lowered for the test), the
# re-sealed head goes up as several versions, each a whole snapshot; the
# last is the folder exactly.
coffer_in A 0 --json log docs
before=$(key version)
CID=$(device_id C)
COFFER_TEST_DELTA_CAP=100; export COFFER_TEST_DELTA_CAP
coffer_in A 0 --json device remove "$CID" --rekey
unset COFFER_TEST_DELTA_CAP
coffer_in A 0 --json log docs
after=$(key version); echo "split into $((after - before)) versions"
[ "$after" -gt $((before + 1)) ] || fail "no split: version $before to $after"
coffer_in A 0 --json pull docs "$TMP/pullA2"
$CMP --ignore-top "$TMP/src" "$TMP/pullA2" || fail "the split re-sealed version differs"
v=$((before + 1))
while [ $v -lt "$after" ]; do
	coffer_in A 0 --json pull docs "$TMP/pullA2.$v" --version $v
	$CMP --ignore-top "$TMP/src" "$TMP/pullA2.$v" || fail "re-sealed version $v (a step of the split) differs"
	v=$((v + 1))
done

srv_stop
echo "99-rekey-no-plaintext: ok"
