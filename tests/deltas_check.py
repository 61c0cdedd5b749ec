#!/usr/bin/env python3
"""deltas_check.py DB DRIVE_HEX WALK N [CAP]

Rebuild a drive's live set from the reference deltas the server stored
(docs/API.md §4, FORMAT "CFRD") and compare it, version by version, with
a client-side walk of each version (WALK.1 .. WALK.N, as 'forge walk'
prints them).  Every version 1..N must have a delta; no start id may be
live already and every stop id must be; with CAP, no delta may hold more
than CAP ids; the server's own live table must equal the head's walk.
Exit 0 if all holds, 1 (with the reason) otherwise.
"""
import sqlite3
import struct
import sys


def ids(b, off):
    k = struct.unpack(">I", b[off:off + 4])[0]
    off += 4
    return [b[off + 32 * i: off + 32 * i + 32] for i in range(k)], off + 32 * k


def main():
    db, drive, walk, n = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    cap = int(sys.argv[5]) if len(sys.argv) > 5 else None
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    rows = con.execute("SELECT version, delta FROM deltas WHERE drive = ? "
                       "ORDER BY version", (drive,)).fetchall()
    if [r[0] for r in rows] != list(range(1, n + 1)):
        sys.exit("delta versions %s, want 1..%d" % ([r[0] for r in rows], n))
    live = set()
    for v, d in rows:
        if d[:5] != b"CFRD\x01":
            sys.exit("version %d: not a delta" % v)
        start, off = ids(d, 5)
        stop, off = ids(d, off)
        if off != len(d):
            sys.exit("version %d: trailing bytes" % v)
        if cap is not None and len(start) + len(stop) > cap:
            sys.exit("version %d: delta of %d ids, cap %d" % (v, len(start) + len(stop), cap))
        if set(start) & live:
            sys.exit("start id already live at %d" % v)
        if not set(stop) <= live:
            sys.exit("stop id not live at %d" % v)
        live = (live | set(start)) - set(stop)
        want = set()
        for line in open("%s.%d" % (walk, v)):
            f = line.split()
            if f and f[0] in ("tree", "list", "chunk"):
                want.add(bytes.fromhex(f[1]))
        if live != want:
            sys.exit("version %d: %d live, %d walked, %d only live, %d only walked" % (
                v, len(live), len(want), len(live - want), len(want - live)))
        print("version %d: %d ids (delta %d), equal" % (v, len(live), len(start) + len(stop)))
    kept = set(r[0] for r in con.execute("SELECT id FROM live WHERE drive = ?", (drive,)))
    if kept != live:
        sys.exit("the server's live set is not the head's walk")


if __name__ == "__main__":
    main()
