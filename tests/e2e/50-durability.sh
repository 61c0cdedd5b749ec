#!/bin/sh
# Durability order (DESIGN §6, docs/STORAGE.md), shown with strace: a new
# pack is written under a temporary name, fsynced, renamed into place and
# its folder fsynced; for a put, every byte of the batch is written and
# fsynced before the metadata commit (the WAL write and its sync), and the
# 201 goes out only after that.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || { echo "SKIP: strace missing"; exit 77; }
TRACE="$TMP/trace"
COFFERD_REAL="$COFFERD"
: >"$TMP/ready"
# LeakSanitizer cannot run under ptrace; the other scripts check leaks.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -y -qq -o "$TRACE" \
    -e trace=openat,pwrite64,pwritev,write,fsync,fdatasync,rename,sendto,sendmsg,writev \
    "$COFFERD_REAL" --listen 127.0.0.1:0 --data "$TMP/data" --pack-max 65536 \
    >"$TMP/ready" 2>>"$TMP/server.log" &
SRV_PID=$!
i=0
while ! grep -q '"ready": true' "$TMP/ready" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 400 ] || { echo "no ready"; exit 1; }
	sleep 0.05
done
SRV_PORT=$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$TMP/ready")
EXTRA_PID=$(head -1 "$TRACE" | awk '{print $1}')
SRV_URL="http://127.0.0.1:$SRV_PORT"
# 200 x 512 B fill pack 1 past --pack-max; the next put starts pack 2.
"$SRVCLIENT" "$SRV_URL" put-batch 77 200
"$SRVCLIENT" "$SRV_URL" put-batch 78 1
# Stop the traced server itself (strace then exits with its status).
kill -TERM "$EXTRA_PID"
if wait "$SRV_PID"; then rc=0; else rc=$?; fi
SRV_PID=
EXTRA_PID=
[ "$rc" = 0 ] || { echo "cofferd exited $rc on SIGTERM"; exit 1; }
python3 - "$TRACE" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
ev = []
for i, l in enumerate(lines):
    m = re.match(r'^\d+\s+(\w+)\((.*)', l)
    if not m or 'resumed>' in l:
        continue
    ev.append((i, m.group(1), m.group(2)))
def idx(pred, start=0):
    for k in range(start, len(ev)):
        if pred(ev[k]):
            return k
    return None
def fail(msg):
    print("durability FAIL:", msg); sys.exit(1)
# 1. The new pack: tmp written, fsynced, renamed, folder fsynced.
k = idx(lambda e: e[1] == 'openat' and 'pack-00000001.tmp' in e[2])
if k is None: fail("no pack creation")
w = idx(lambda e: e[1] in ('pwrite64', 'write') and '.tmp>' in e[2], k)
s = idx(lambda e: e[1] in ('fsync', 'fdatasync') and '.tmp>' in e[2], k)
r = idx(lambda e: e[1] == 'rename' and '.tmp' in e[2], k)
d = idx(lambda e: e[1] in ('fsync',) and re.search(r'/packs>\)', e[2]), k)
if None in (w, s, r, d) or not (w < s < r < d):
    fail("pack creation order %r" % ((w, s, r, d),))
print("new pack: write %d < fsync %d < rename %d < fsync(folder) %d" % (w, s, r, d))
# 2. Each put: pack bytes, pack fsync, then WAL writes, WAL sync, then 201.
puts = 0
start = 0
while True:
    p = idx(lambda e: e[1] == 'pwritev' and '.pack>' in e[2], start)
    if p is None: break
    fs = idx(lambda e: e[1] in ('fsync', 'fdatasync') and '.pack>' in e[2], p)
    wal = idx(lambda e: e[1] == 'pwrite64' and 'meta.db-wal>' in e[2], p)
    wsync = idx(lambda e: e[1] in ('fsync', 'fdatasync') and 'meta.db-wal>' in e[2], p)
    ok201 = idx(lambda e: e[1] in ('sendmsg', 'sendto', 'writev', 'write') and 'HTTP/1.1 201' in e[2], p)
    if None in (fs, wal, wsync, ok201):
        fail("put %d incomplete: %r" % (puts, (fs, wal, wsync, ok201)))
    # No pack write sneaks in between the fsync and the commit.
    p2 = idx(lambda e: e[1] == 'pwritev' and '.pack>' in e[2], p + 1)
    if p2 is not None and p2 < wsync:
        fail("pack written again before the commit")
    if not (p < fs < wal < wsync < ok201):
        fail("put order %r" % ((p, fs, wal, wsync, ok201),))
    print("put %d: pack write %d < pack fsync %d < WAL write %d < WAL sync %d < 201 %d"
          % (puts, p, fs, wal, wsync, ok201))
    puts += 1
    start = ok201
if puts != 2: fail("expected 2 puts with new objects, saw %d" % puts)
# 3. The second put started pack 2 inside the request: the new file was
#    written, fsynced, renamed and its folder fsynced before the batch
#    went into it, and all of that before the metadata commit and the 201.
k = idx(lambda e: e[1] == 'openat' and 'pack-00000002.tmp' in e[2])
if k is None: fail("no pack rollover")
s2 = idx(lambda e: e[1] in ('fsync', 'fdatasync') and 'pack-00000002.tmp>' in e[2], k)
r2 = idx(lambda e: e[1] == 'rename' and 'pack-00000002.tmp' in e[2], k)
d2 = idx(lambda e: e[1] == 'fsync' and re.search(r'/packs>\)', e[2]), k)
p2 = idx(lambda e: e[1] == 'pwritev' and 'pack-00000002.pack>' in e[2], k)
f2 = idx(lambda e: e[1] in ('fsync', 'fdatasync') and 'pack-00000002.pack>' in e[2], k)
w2 = idx(lambda e: e[1] == 'pwrite64' and 'meta.db-wal>' in e[2], k)
ws2 = idx(lambda e: e[1] in ('fsync', 'fdatasync') and 'meta.db-wal>' in e[2], k)
ok2 = idx(lambda e: e[1] in ('sendmsg', 'sendto', 'writev', 'write') and 'HTTP/1.1 201' in e[2], k)
order = (k, s2, r2, d2, p2, f2, w2, ws2, ok2)
if None in order or list(order) != sorted(order):
    fail("rollover order %r" % (order,))
print("rollover: create %d < fsync %d < rename %d < fsync(folder) %d < write %d < fsync %d"
      " < WAL write %d < WAL sync %d < 201 %d" % order)
PY
echo ok
