#!/usr/bin/env python3
"""readhook.py DIR RULE...: the other end of push's test hook
COFFER_TEST_PUSH_READ_FIFO=DIR (lib/client/push.c): makes the FIFOs
DIR/req and DIR/ack, then for each file push has just read (its path on
req, relative to the pushed folder) applies the first matching RULE to
the file under ROOT, logs the path to DIR/log and acks.  RULE is
always:ROOT/PATH (changed after every read: truncated to 1000 bytes when
longer, else rewritten to 3 MB of new bytes) or once:ROOT/PATH (the
same, after its first read only).  Runs until killed.
"""
import os
import sys

d = sys.argv[1]
rules = []
for r in sys.argv[2:]:
    kind, path = r.split(":", 1)
    rules.append([kind, path, 0])
for n in ("req", "ack"):
    p = os.path.join(d, n)
    if not os.path.exists(p):
        os.mkfifo(p)
open(os.path.join(d, "ready"), "w").close()


def change(path):
    st = os.stat(path)
    if st.st_size > 1000:
        with open(path, "r+b") as f:
            f.truncate(1000)
    else:
        with open(path, "wb") as f:
            f.write(os.urandom(3 << 20))


while True:
    with open(os.path.join(d, "req"), "rb") as f:
        req = f.read().rstrip(b"\n").decode("utf-8", "replace")
    with open(os.path.join(d, "log"), "a") as f:
        f.write(req + "\n")
    for r in rules:
        if r[1].endswith("/" + req):
            r[2] += 1
            if r[0] == "always" or r[2] == 1:
                change(r[1])
            break
    with open(os.path.join(d, "ack"), "wb") as f:
        f.write(b"k")
