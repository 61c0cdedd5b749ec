#!/usr/bin/env python3
"""compare_tree.py [options] A B

Compare two folder trees exactly, without following any symlink: the same
names (as raw bytes), the same type of each entry, the same contents of
regular files, the same permission bits (mode & 07777), the same mtime to
the nanosecond for files, directories and symlinks (lstat), and the same
symlink targets (as raw bytes).  Prints one line per difference (names
escaped) and exits 0 only if there is none; 1 if the trees differ; 2 on a
usage error or if A or B is not a folder.

Strict by default.  --ignore-top-mtime and --ignore-top-mode leave out the
mtime and the mode of A and B themselves (a pull sets them only from a
commit in format 2, FORMAT §13; --ignore-top is for older versions and for
tests about the contents alone).  --ignore-dir-mtimes leaves
out every directory's mtime.  --max N stops after N differences (default
50).  Python 3 standard library only.
"""
import argparse
import hashlib
import os
import stat
import sys

KINDS = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "dir",
    stat.S_IFLNK: "symlink",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "char device",
    stat.S_IFBLK: "block device",
}


def show(rel):
    """A printable, unambiguous form of a relative path of bytes."""
    if rel == b"":
        return "(top)"
    return repr(rel)[1:]


def digest(path):
    h = hashlib.blake2b()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            h.update(b)
    finally:
        os.close(fd)
    return h.digest()


class Cmp:
    def __init__(self, a, b, opts):
        self.a = os.fsencode(a)
        self.b = os.fsencode(b)
        self.o = opts
        self.n = 0

    def diff(self, rel, what):
        self.n += 1
        if self.n <= self.o.max:
            print("%s: %s" % (show(rel), what))

    def entry(self, rel):
        pa = os.path.join(self.a, rel) if rel else self.a
        pb = os.path.join(self.b, rel) if rel else self.b
        sa = os.lstat(pa)
        sb = os.lstat(pb)
        ka = KINDS.get(stat.S_IFMT(sa.st_mode), "unknown")
        kb = KINDS.get(stat.S_IFMT(sb.st_mode), "unknown")
        if ka != kb:
            self.diff(rel, "type %s != %s" % (ka, kb))
            return
        top = rel == b""
        if ka != "symlink" and not (top and self.o.ignore_top_mode):
            ma, mb = stat.S_IMODE(sa.st_mode), stat.S_IMODE(sb.st_mode)
            if ma != mb:
                self.diff(rel, "mode %04o != %04o" % (ma, mb))
        skip_mtime = (top and self.o.ignore_top_mtime) or \
            (ka == "dir" and self.o.ignore_dir_mtimes)
        if not skip_mtime and sa.st_mtime_ns != sb.st_mtime_ns:
            self.diff(rel, "mtime %d.%09d != %d.%09d" % (
                sa.st_mtime_ns // 10 ** 9, sa.st_mtime_ns % 10 ** 9,
                sb.st_mtime_ns // 10 ** 9, sb.st_mtime_ns % 10 ** 9))
        if ka == "file":
            if sa.st_size != sb.st_size:
                self.diff(rel, "size %d != %d" % (sa.st_size, sb.st_size))
            elif digest(pa) != digest(pb):
                self.diff(rel, "contents differ")
        elif ka == "symlink":
            ta, tb = os.readlink(pa), os.readlink(pb)
            if ta != tb:
                self.diff(rel, "symlink target %s != %s" % (show(ta), show(tb)))
        elif ka == "dir":
            na = set(os.listdir(pa))
            nb = set(os.listdir(pb))
            for x in sorted(na - nb):
                self.diff(os.path.join(rel, x), "only in A")
            for x in sorted(nb - na):
                self.diff(os.path.join(rel, x), "only in B")
            for x in sorted(na & nb):
                self.entry(os.path.join(rel, x))
        elif (ka in ("char device", "block device") and
              sa.st_rdev != sb.st_rdev):
            self.diff(rel, "device number differs")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--ignore-top-mtime", action="store_true")
    ap.add_argument("--ignore-top-mode", action="store_true")
    ap.add_argument("--ignore-top", action="store_true",
                    help="both of the above")
    ap.add_argument("--ignore-dir-mtimes", action="store_true")
    ap.add_argument("--max", type=int, default=50)
    o = ap.parse_args()
    if o.ignore_top:
        o.ignore_top_mtime = o.ignore_top_mode = True
    for d in (o.a, o.b):
        try:
            st = os.lstat(d)
        except OSError as e:
            print("compare_tree: %s: %s" % (d, e.strerror), file=sys.stderr)
            sys.exit(2)
        if not stat.S_ISDIR(st.st_mode):
            print("compare_tree: %s is not a folder" % d, file=sys.stderr)
            sys.exit(2)
    c = Cmp(o.a, o.b, o)
    c.entry(b"")
    if c.n:
        if c.n > o.max:
            print("... %d differences in all" % c.n)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
