#!/usr/bin/env python3
"""A seeded benchmark dataset (bench/run.sh, docs/PERFORMANCE.md).

    dataset.py SEED DIR [--scale F]         write the first state into DIR (new or empty)
    dataset.py --mutate SEED DIR [--scale F] turn the first state into the second, in place

At scale 1: about 1 GiB in about 20,000 files, in ~800 folders up to three deep.
The mix (counts and bytes scale with F; sizes are drawn log-uniformly in each range):

    kind         share of files   size range          content
    text         60 %             512 B - 32 KiB      lines of words (compresses ~1.8x)
    binary       35 %             1 KiB - 64 KiB      4 random bits per byte (compresses ~2x)
    medium        5 %             64 KiB - 2 MiB      half random, half 4-bit bytes
    large        8 files x F      the rest, to 1 GiB  random bytes (incompressible)

Every byte comes from Python's Mersenne Twister seeded by SEED, so a seed gives
the same tree, names, sizes and bytes on every machine; random content is unique
across files (no accidental dedup).  File mtimes are left as written.

The second state (--mutate, deterministic per SEED and the first state's file
list): 1 % of the files changed -- half edited in place (a range of 1-64 KiB
overwritten with new bytes, size unchanged), half appended to (1-64 KiB) -- and
0.1 % new files (at least 2), text and binary, added in a new folder.

Needs Python 3.9 or later (random.randbytes).  Writing 1 GiB takes 10-12 s.
"""

import argparse
import math
import os
import random
import sys

GIB = 1 << 30
FILES_AT_SCALE_1 = 20000
FILES_PER_FOLDER = 25
TOP_FOLDERS = 20
LARGE_FILES_AT_SCALE_1 = 8
LARGE_MIN = 1 << 20
PIECE = 16 << 20            # random bytes generated per call
WRITE_BUF = 8 << 20

# (kind, share of files, min size, max size)
MIX = [
    ("text", 0.60, 512, 32 << 10),
    ("binary", 0.35, 1 << 10, 64 << 10),
    ("medium", 0.05, 64 << 10, 2 << 20),
]

NIBBLES = bytes(b & 0x0F for b in range(256))

WORD_COUNT = 4096
LINE_COUNT = 8192


def log_uniform(r, lo, hi):
    return int(math.exp(r.uniform(math.log(lo), math.log(hi))))


def rand_bytes(r, n):
    parts = []
    while n > 0:
        k = min(n, PIECE)
        parts.append(r.randbytes(k))
        n -= k
    return b"".join(parts)


class Content:
    """Makes file bodies of each kind from one seeded generator."""

    def __init__(self, r):
        self.r = r
        letters = "abcdefghijklmnopqrstuvwxyz"
        words = ["".join(r.choices(letters, k=r.randint(2, 10)))
                 for _ in range(WORD_COUNT)]
        self.lines = []
        for _ in range(LINE_COUNT):
            line = " ".join(r.choices(words, k=r.randint(4, 14)))
            self.lines.append((line + "\n").encode())
        self.avg_line = sum(len(x) for x in self.lines) / len(self.lines)

    def text(self, n):
        out = b""
        while len(out) < n:
            k = int((n - len(out)) / self.avg_line) + 2
            out += b"".join(self.r.choices(self.lines, k=k))
        return out[:n]

    def binary(self, n):
        return rand_bytes(self.r, n).translate(NIBBLES)

    def random(self, n):
        return rand_bytes(self.r, n)

    def medium(self, n):
        half = n // 2
        return self.random(half) + self.binary(n - half)

    def make(self, kind, n):
        return getattr(self, "random" if kind == "large" else kind)(n)


def folders(r, nfiles):
    """Folder paths (relative), about FILES_PER_FOLDER files each, <= 3 deep."""
    want = max(1, nfiles // FILES_PER_FOLDER)
    out = []
    top = min(TOP_FOLDERS, want)
    for i in range(top):
        out.append("d%02d" % i)
    while len(out) < want:
        parent = r.choice(out)
        if parent.count("/") >= 2:
            continue
        out.append("%s/s%03d" % (parent, len(out)))
    return out


def plan(seed, scale):
    """The first state: a list of (path, kind, size), in creation order."""
    r = random.Random("coffer-bench-plan-%d" % seed)
    nfiles = max(10, int(round(FILES_AT_SCALE_1 * scale)))
    nlarge = max(1, int(round(LARGE_FILES_AT_SCALE_1 * scale)))
    total = int(GIB * scale)
    dirs = folders(r, nfiles)
    files = []
    used = 0
    for kind, share, lo, hi in MIX:
        for _ in range(int(round(nfiles * share))):
            n = log_uniform(r, lo, hi)
            files.append([kind, n])
            used += n
    each = max(LARGE_MIN, (total - used) // nlarge)
    for _ in range(nlarge):
        files.append(["large", each])
    r.shuffle(files)
    out = []
    for i, (kind, n) in enumerate(files):
        ext = {"text": "txt", "binary": "bin", "medium": "dat", "large": "big"}[kind]
        out.append(("%s/f%05d.%s" % (r.choice(dirs), i, ext), kind, n))
    return out


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb", buffering=WRITE_BUF) as f:
        f.write(data)


def create(seed, root, scale):
    if os.path.exists(root) and os.listdir(root):
        sys.exit("dataset.py: %s is not empty" % root)
    c = Content(random.Random("coffer-bench-content-%d" % seed))
    nbytes = 0
    files = plan(seed, scale)
    for rel, kind, n in files:
        data = c.make(kind, n)
        write_file(os.path.join(root, rel), data)
        nbytes += len(data)
    print("dataset: %d files, %d bytes in %s" % (len(files), nbytes, root))


def mutate(seed, root, scale):
    files = []
    for d, _, names in os.walk(root):
        for name in names:
            files.append(os.path.relpath(os.path.join(d, name), root))
    files.sort()
    if not files:
        sys.exit("dataset.py: %s is empty" % root)
    r = random.Random("coffer-bench-mutate-%d" % seed)
    c = Content(random.Random("coffer-bench-mutate-content-%d" % seed))
    nchange = max(2, int(round(len(files) * 0.01)))
    nadd = max(2, int(round(len(files) * 0.001)))
    edited = appended = changed_bytes = 0
    for i, rel in enumerate(r.sample(files, nchange)):
        path = os.path.join(root, rel)
        size = os.path.getsize(path)
        k = log_uniform(r, 1 << 10, 64 << 10)
        if i % 2 == 0 and size > 0:
            k = min(k, size)
            off = r.randrange(0, size - k + 1)
            with open(path, "r+b") as f:
                f.seek(off)
                f.write(c.random(k))
            edited += 1
        else:
            with open(path, "ab") as f:
                f.write(c.text(k) if rel.endswith(".txt") else c.random(k))
            appended += 1
        changed_bytes += k
    added_bytes = 0
    for i in range(nadd):
        kind, _, lo, hi = MIX[i % 2]
        n = log_uniform(r, lo, hi)
        write_file(os.path.join(root, "added", "n%04d.%s" % (i, kind[:3])),
                   c.make(kind, n))
        added_bytes += n
    print("mutate: %d edited in place, %d appended (%d bytes), %d added (%d bytes)"
          % (edited, appended, changed_bytes, nadd, added_bytes))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mutate", action="store_true",
                    help="make the second state in place")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("seed", type=int)
    ap.add_argument("dir")
    a = ap.parse_args()
    if not 0 < a.scale <= 64:
        sys.exit("dataset.py: --scale must be in (0, 64]")
    if a.mutate:
        mutate(a.seed, a.dir, a.scale)
    else:
        create(a.seed, a.dir, a.scale)


if __name__ == "__main__":
    main()
