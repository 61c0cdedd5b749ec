#!/usr/bin/env python3
"""store_edit.py DATA COMMAND ...: edit a cofferd data folder directly, as
an intruder with the server's disk would (issue #5's adversarial tests).

The embedded engine keeps metadata in DATA/meta.db (SQLite, WAL) and object
bytes in append-only pack files DATA/packs/pack-NNNNNNNN (server/meta.c,
server/objstore.h).  Edits are made in one SQLite transaction with a busy
timeout, so they are safe while cofferd runs; packs are edited in place.

  flip DRIVE ID BYTE [BIT]     flip a bit of the object's stored bytes
                               (negative BYTE: from the end)
  point DRIVE ID OTHER_ID      make the object ID of DRIVE read the bytes
                               stored for OTHER_ID (in any drive)
  head DRIVE VERSION COMMIT    set the drive's head (a rollback at rest)
  show DRIVE ID                print pack, offset and length
  setloc DRIVE ID PACK OFF LEN put a location back (what show printed)

Ids in hex.  Exit 0 on success, 1 if the object or drive is not stored,
2 on a usage error.  Python 3 standard library only.
"""
import glob
import os
import sqlite3
import sys


def db(data):
    c = sqlite3.connect(os.path.join(data, "meta.db"), timeout=30,
                        isolation_level=None)
    c.execute("PRAGMA busy_timeout = 30000")
    return c


def loc(c, drive, oid):
    if drive is None:
        r = c.execute("SELECT pack, off, len FROM objects WHERE id = ?",
                      (oid,)).fetchone()
    else:
        r = c.execute("SELECT pack, off, len FROM objects WHERE drive = ? "
                      "AND id = ?", (drive, oid)).fetchone()
    if r is None:
        sys.exit("store_edit: object not stored")
    return r


def pack_path(data, pack):
    m = [p for p in glob.glob(os.path.join(data, "packs", "pack-%08d*" % pack))
         if not p.endswith(".tmp")]
    if len(m) != 1:
        sys.exit("store_edit: pack %d not found" % pack)
    return m[0]


def main():
    a = sys.argv[1:]
    if len(a) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    data, cmd = a[0], a[1]
    c = db(data)
    if cmd == "flip" and len(a) in (5, 6):
        pack, off, n = loc(c, bytes.fromhex(a[2]), bytes.fromhex(a[3]))
        b = int(a[4])
        if b < 0:
            b += n
        if not 0 <= b < n:
            sys.exit("store_edit: byte out of range")
        bit = int(a[5]) if len(a) == 6 else 0
        with open(pack_path(data, pack), "r+b") as f:
            f.seek(off + b)
            x = f.read(1)[0]
            f.seek(off + b)
            f.write(bytes([x ^ (1 << bit)]))
            f.flush()
            os.fsync(f.fileno())
    elif cmd == "point" and len(a) == 5:
        drive, oid, other = (bytes.fromhex(x) for x in a[2:5])
        loc(c, drive, oid)
        pack, off, n = loc(c, None, other)
        c.execute("BEGIN IMMEDIATE")
        c.execute("UPDATE objects SET pack = ?, off = ?, len = ? WHERE "
                  "drive = ? AND id = ?", (pack, off, n, drive, oid))
        c.execute("COMMIT")
    elif cmd == "head" and len(a) == 5:
        drive = bytes.fromhex(a[2])
        c.execute("BEGIN IMMEDIATE")
        cur = c.execute("UPDATE drives SET version = ?, commit_id = ? WHERE "
                        "id = ?", (int(a[3]), bytes.fromhex(a[4]), drive))
        if cur.rowcount != 1:
            c.execute("ROLLBACK")
            sys.exit("store_edit: drive not stored")
        c.execute("COMMIT")
    elif cmd == "setloc" and len(a) == 7:
        drive, oid = bytes.fromhex(a[2]), bytes.fromhex(a[3])
        loc(c, drive, oid)
        c.execute("BEGIN IMMEDIATE")
        c.execute("UPDATE objects SET pack = ?, off = ?, len = ? WHERE "
                  "drive = ? AND id = ?",
                  (int(a[4]), int(a[5]), int(a[6]), drive, oid))
        c.execute("COMMIT")
    elif cmd == "show" and len(a) == 4:
        print("%d %d %d" % loc(c, bytes.fromhex(a[2]), bytes.fromhex(a[3])))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    c.close()


if __name__ == "__main__":
    main()
