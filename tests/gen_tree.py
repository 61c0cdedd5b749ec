#!/usr/bin/env python3
"""gen_tree.py SEED DIR [--files N] [--max-size B] [--no-big]

Make a folder tree with every kind of entry coffer must restore exactly,
the same for the same SEED (DESIGN §10):

- regular files: empty, tiny, around the 1 KiB padding floor, text and
  binary, compressible and not, one of several chunks (3 MiB of random
  bytes: the chunker's minimum is 512 KiB) unless --max-size is smaller;
- directories: nested, empty, with modes 0700, 0750, 0711, 0755;
- symlinks: relative, absolute, dangling, to a directory, to "..";
- permission bits 0600, 0644, 0755, 0444, 0640, 0700 on files;
- mtimes with nanoseconds on every file, directory and symlink (lstat);
- names with spaces, unicode, bytes that are not UTF-8, a tab, a newline,
  leading dashes, and a name of exactly 255 bytes.

DIR must not exist or be empty.  Python 3 standard library only.  Nothing
depends on the clock, the user or the machine: only on SEED and the
options (modes are set explicitly, so the umask does not matter).
"""
import argparse
import os
import random
import stat
import sys

KIB = 1024
MIB = 1024 * KIB

# A fixed base time (2023-11-14) so that every mtime is reproducible.
BASE_SEC = 1700000000


def mtime_ns(rng):
    """An mtime with a non-zero nanosecond part (and sometimes old, or
    exactly on a second, or before 1970)."""
    k = rng.randrange(8)
    if k == 0:
        sec = BASE_SEC - rng.randrange(10 ** 9)        # long ago
    elif k == 1:
        return (BASE_SEC + rng.randrange(10 ** 6)) * 10 ** 9   # whole second
    elif k == 2:
        sec = -rng.randrange(1, 10 ** 6)               # before the epoch
    else:
        sec = BASE_SEC + rng.randrange(10 ** 7)
    return sec * 10 ** 9 + rng.randrange(1, 10 ** 9)


def rand_bytes(rng, n):
    return rng.getrandbits(8 * n).to_bytes(n, "little") if n > 0 else b""


def text_bytes(rng, n):
    words = [b"coffer", b"chunk", b"tree", b"commit", b"drive", b"seal",
             b"lorem", b"ipsum", b"\xc3\xa9t\xc3\xa9", b"\xe6\x97\xa5\xe6\x9c\xac"]
    out = bytearray()
    while len(out) < n:
        out += rng.choice(words)
        out += b"\n" if rng.randrange(9) == 0 else b" "
    return bytes(out[:n])


def compressible_bytes(rng, n):
    unit = rand_bytes(rng, 64)
    return (unit * (n // 64 + 1))[:n]


class Gen:
    def __init__(self, seed, root, max_size):
        self.rng = random.Random(seed)
        self.root = os.fsencode(root)
        self.max_size = max_size
        self.times = []         # (path, ns) applied at the end, deepest first
        self.dirmodes = []      # (path, mode) applied at the end

    def p(self, rel):
        return os.path.join(self.root, rel) if rel else self.root

    def file(self, rel, data, mode):
        path = self.p(rel)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                k = os.write(fd, view)
                view = view[k:]
        finally:
            os.close(fd)
        os.chmod(path, mode)
        self.times.append((path, mtime_ns(self.rng)))

    def dir(self, rel, mode=0o755):
        path = self.p(rel)
        os.mkdir(path, 0o700)
        self.dirmodes.append((path, mode))
        self.times.append((path, mtime_ns(self.rng)))

    def link(self, rel, target):
        path = self.p(rel)
        os.symlink(target, path)
        self.times.append((path, mtime_ns(self.rng)))

    def size(self, n):
        return min(n, self.max_size)

    def finish(self):
        # Modes of directories, then every mtime, deepest paths first, so
        # that setting a child's time never changes its parent's again.
        for path, mode in self.dirmodes:
            os.chmod(path, mode)
        for path, ns in sorted(self.times, key=lambda t: -t[0].count(b"/")):
            os.utime(path, ns=(ns, ns), follow_symlinks=False)
        ns = mtime_ns(self.rng)
        os.utime(self.root, ns=(ns, ns))


def generate(seed, root, nfiles, max_size, big):
    g = Gen(seed, root, max_size)
    rng = g.rng
    if os.path.lexists(g.root):
        if not os.path.isdir(g.root) or os.listdir(g.root):
            sys.exit("gen_tree: %s exists and is not an empty folder" % root)
    else:
        os.mkdir(g.root, 0o755)
    os.chmod(g.root, 0o755)

    # Files of every size class.
    g.file(b"empty", b"", 0o644)
    g.file(b"one-byte", b"x", 0o600)
    g.file(b"pad-1023.bin", rand_bytes(rng, g.size(1023)), 0o644)
    g.file(b"pad-1024.bin", rand_bytes(rng, g.size(1024)), 0o644)
    g.file(b"pad-1025.bin", rand_bytes(rng, g.size(1025)), 0o644)
    g.file(b"text.txt", text_bytes(rng, g.size(20000)), 0o644)
    g.file(b"script.sh", b"#!/bin/sh\necho coffer\n", 0o755)
    g.file(b"read-only.txt", text_bytes(rng, g.size(3000)), 0o444)
    g.file(b"group-read", rand_bytes(rng, g.size(777)), 0o640)
    g.file(b"owner-only-exec", rand_bytes(rng, g.size(4096)), 0o700)
    g.file(b"compressible.bin", compressible_bytes(rng, g.size(600 * KIB)), 0o644)
    if big and max_size >= 3 * MIB:
        # Random, so incompressible: several chunks (min 512 KiB, avg 1 MiB).
        g.file(b"big-random.bin", rand_bytes(rng, 3 * MIB + rng.randrange(4096)),
               0o644)

    # Names.
    g.file(b"with space.txt", b"spaces\n", 0o644)
    g.file("ünïcödé-名前.txt".encode("utf-8"), b"unicode\n", 0o644)
    g.file(b"not-utf8-\xff\xfe\x80.bin", rand_bytes(rng, 100), 0o644)
    g.file(b"-rf", b"leading dash\n", 0o644)
    g.file(b"--help", b"two dashes\n", 0o644)
    g.file(b"tab\tname", b"tab\n", 0o644)
    g.file(b"new\nline", b"newline\n", 0o644)
    g.file(b".hidden", b"dot file\n", 0o600)
    g.file(b"...", b"three dots\n", 0o644)
    long_name = (b"L" * 200 + b"-" + bytes(rng.choice(b"abcdefghij")
                                          for _ in range(54)))
    assert len(long_name) == 255
    g.file(long_name, b"a name of 255 bytes\n", 0o644)

    # Directories: nested, empty, various modes.
    g.dir(b"a", 0o755)
    g.dir(b"a/b", 0o750)
    g.dir(b"a/b/c", 0o700)
    g.dir(b"a/b/c/d", 0o711)
    g.file(b"a/b/file.txt", text_bytes(rng, 500), 0o644)
    g.file(b"a/b/c/d/deep.bin", rand_bytes(rng, g.size(70000)), 0o600)
    g.dir(b"empty-dir", 0o755)
    g.dir(b"a/empty-inner", 0o700)
    g.dir(b"dir with space", 0o755)
    g.file(b"dir with space/f", b"f\n", 0o644)
    g.dir(b"\xc3\xa9-dir-\xff", 0o755)
    g.file(b"\xc3\xa9-dir-\xff/inside", b"inside\n", 0o644)

    # Symlinks (never followed by coffer).
    g.link(b"link-rel", b"a/b/file.txt")
    g.link(b"link-abs", b"/nonexistent/coffer-absolute-target")
    g.link(b"link-dangling", b"does/not/exist")
    g.link(b"link-dir", b"a/b")
    g.link(b"a/b/link-up", b"../../text.txt")
    g.link(b"link-dotdot", b"..")
    g.link(b"link-\xff", b"target-\xfe with space")

    # Random extra files in random folders.
    dirs = [b"", b"a", b"a/b", b"a/b/c", b"dir with space"]
    for i in range(nfiles):
        if rng.randrange(6) == 0:
            d = os.path.join(rng.choice(dirs), b"r%03d" % i)
            g.dir(d, rng.choice([0o755, 0o700, 0o750]))
            dirs.append(d)
            continue
        d = rng.choice(dirs)
        kind = rng.randrange(4)
        n = g.size(rng.choice([0, 1, 17, 1000, 1024, 5000, 33000, 130000]))
        data = (rand_bytes(rng, n) if kind < 2 else
                text_bytes(rng, n) if kind == 2 else compressible_bytes(rng, n))
        name = os.path.join(d, b"f%03d%s" % (i, rng.choice(
            [b".bin", b".txt", b"", b" x", b"-\xe2\x82\xac"])))
        g.file(name, data, rng.choice([0o644, 0o600, 0o755, 0o444]))
    g.finish()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("seed", type=int)
    ap.add_argument("dir")
    ap.add_argument("--files", type=int, default=30,
                    help="random extra files and folders (default 30)")
    ap.add_argument("--max-size", type=int, default=4 * MIB,
                    help="largest file in bytes (default 4 MiB; below 3 MiB "
                         "there is no file of several chunks)")
    ap.add_argument("--no-big", action="store_true",
                    help="leave out the 3 MiB file of several chunks")
    a = ap.parse_args()
    if a.files < 0 or a.max_size < 0:
        ap.error("--files and --max-size must not be negative")
    os.umask(0o022)
    generate(a.seed, a.dir, a.files, a.max_size, not a.no_big)


if __name__ == "__main__":
    main()
