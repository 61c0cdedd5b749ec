#!/usr/bin/env python3
"""proxy.py --rules FILE [--upstream URL] [--hits FILE] [--port N]

A man-in-the-middle HTTP/1.1 proxy in front of cofferd for the adversarial
tests (issue #5).  It listens on 127.0.0.1 (port 0 by default: a free one),
prints {"ready": true, "port": N} on stdout, forwards every request to the
upstream server byte for byte (request signatures cover the request, and
the Host header names the origin the client signed for, so the proxy never
touches a request: start cofferd with --origin http://127.0.0.1:N), and
rewrites responses by rules.  Security never depends on the transport: the
client must detect every rewrite (exit 3) and write nothing unverified.

The rules file is JSON, read before each request and taken up whenever its
bytes change (rule state is reset then; a writer that installs the same
rules again adds a changing "gen" number):

  {"upstream": "http://127.0.0.1:PORT",        (unless --upstream)
   "rules": [RULE, ...]}

Every response is recorded in memory: each answer, by method and path, and
every object seen in a get-many answer (by drive and id).  RULE is an
object with "op" and, optionally, "times" (apply at most that many times)
and "drive" (hex: only requests about that drive).  Ops on get-many
answers (POST .../drives/D/objects/get), which are CFBF frames
(docs/API.md §3), with "id" the object's id in hex, or "nth" its index in
the answer (0 first, of every answer that has one):

  {"op": "flip", "id"|"nth", "byte": B, "bit": K}   flip bit K (0-7) of byte B
                                                    (negative B: from the end)
  {"op": "replace", "id"|"nth", "with_id": HEX}     serve the bytes of another
                                                    object seen before (any drive)
  {"op": "replace", "id"|"nth", "file": PATH}       ... or of a file
  {"op": "drop", "id"|"nth"}                        leave the object out
  {"op": "truncate", "id"|"nth", "len": N}          keep its first N bytes
                                                    (negative: drop -N at the end)
  {"op": "swap", "nth": K}                          exchange items K and K + 1

and, on any of these, "min_items": N applies it only to answers of at least
N objects (a page of commits, not a single fetch).

Ops on any answer:

  {"op": "replay", "path": REGEX, "method": M, "index": I}
      answer a request whose path matches REGEX (re.search) with the I-th
      answer recorded for the same method and path (0 the first, -2 the
      one before the last...) instead of the live one: an older head, an
      older directory record, an older chain.  With "match": REGEX
      instead of "index", the newest recorded answer whose body matches.
  {"op": "alias_drive", "from": HEX_A, "to": HEX_B}
      answer requests about drive A as if they were about drive B: the
      newest recorded head of B, and get-many from the objects of B seen
      so far: a drive name pointed at another drive.
  {"op": "append_json", "path": REGEX, "key": K, "b64_file": PATH}
      append the base64 of a file's bytes to the list K of a JSON answer
      (a chain entry the server made up: "entries").
  {"op": "status", "path": REGEX, "code": N [, "method": M] [, "body": JSON]}
      answer N with JSON (default {"error": "proxy"}) without forwarding:
      a refusal, or a made-up answer ({"version": 0, "record": null}).

  {"op": "chain_pages", "path": REGEX, "count": K, "size": S, "length": L
   [, "from_min": F]}
      answer a GET whose path matches REGEX and whose query has from >= F
      (default 0) with a made-up chain page: K entries of S zero bytes
      each (base64), "from" as asked and "length" L, without forwarding;
      a page from below F is forwarded and its "length" set to L (so the
      client asks for more).  "times" counts the made-up pages: a server
      that feeds a client garbage pages to exhaust its memory.
  {"op": "json_list", "path": REGEX, "key": K, "action": A, "index": I
   [, "n": N] [, "b64_file": PATH]}
      edit the list K of a JSON answer (directory records between a pin
      and the head): A "drop" leaves element I out, "swap" exchanges
      elements I and I + 1, "replace" puts the base64 of a file's bytes
      in place of element I, "keep" keeps only the first N elements.
      Applied only if the list is long enough for it.

Every rule applied writes one JSON line to --hits FILE (and to stderr), so
a test can check that the attack it meant actually happened.  Python 3
standard library only.
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import re
import socketserver
import struct
import sys
import threading
import urllib.parse

FRAME_TAG = b"CFBF"
FRAME_VERSION = 1
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
       "te", "trailer", "upgrade", "content-length"}
DRIVE_RE = re.compile(r"/drives/([0-9a-f]{64})(/|$)")


class FrameError(Exception):
    pass


def frame_parse(b):
    if len(b) < 9 or b[:4] != FRAME_TAG or b[4] != FRAME_VERSION:
        raise FrameError("not a CFBF frame")
    (count,) = struct.unpack(">I", b[5:9])
    off = 9
    items = []
    for _ in range(count):
        if off + 36 > len(b):
            raise FrameError("short frame")
        oid = b[off:off + 32]
        (n,) = struct.unpack(">I", b[off + 32:off + 36])
        off += 36
        if off + n > len(b):
            raise FrameError("short object")
        items.append([oid, b[off:off + n]])
        off += n
    if off != len(b):
        raise FrameError("trailing bytes")
    return items


def frame_build(items):
    out = bytearray(FRAME_TAG + bytes([FRAME_VERSION]) +
                    struct.pack(">I", len(items)))
    for oid, data in items:
        out += oid + struct.pack(">I", len(data)) + data
    return bytes(out)


class State:
    def __init__(self, rules_path, upstream, hits_path):
        self.lock = threading.Lock()
        self.rules_path = rules_path
        self.fixed_upstream = upstream
        self.hits_path = hits_path
        self.sig = None
        self.conf = {}
        self.used = []
        self.nth_seen = []
        self.record = {}        # (method, path) -> [(status, headers, body)]
        self.objects = {}       # drive hex -> {id bytes: blob}
        self.allobjects = {}    # id bytes -> blob (any drive)

    def load(self):
        # Compared by content, not by stat: two writes within one tick of
        # the file clock (and a reused inode) look the same to stat.  The
        # writer (rules() in tests/e2e/lib.sh) numbers each version, so
        # the same rules installed again still reset the rule state.
        try:
            with open(self.rules_path, "rb") as f:
                data = f.read()
        except OSError:
            data = None
        if data == self.sig:
            return
        self.sig = data
        conf = {}
        if data is not None:
            try:
                conf = json.loads(data) if data.strip() else {}
            except ValueError as e:
                log({"proxy": "bad rules file", "error": str(e)})
                conf = {}
        self.conf = conf
        n = len(conf.get("rules", []))
        self.used = [0] * n
        self.nth_seen = [0] * n

    def upstream(self):
        return self.fixed_upstream or self.conf.get("upstream")

    def rules(self):
        return self.conf.get("rules", [])

    def may_apply(self, i, rule):
        t = rule.get("times")
        return t is None or self.used[i] < t

    def hit(self, i, rule, path, **more):
        self.used[i] += 1
        rec = {"hit": i, "op": rule.get("op"), "path": path}
        rec.update(more)
        log(rec)
        if self.hits_path:
            with open(self.hits_path, "a") as f:
                f.write(json.dumps(rec) + "\n")


def log(obj):
    sys.stderr.write(json.dumps(obj) + "\n")
    sys.stderr.flush()


def drive_of(path):
    m = DRIVE_RE.search(path)
    return m.group(1) if m else None


def rule_drive_ok(rule, path):
    d = rule.get("drive")
    return d is None or drive_of(path) == d.lower()


def find_item(rule, items, state, i):
    """The index in items the rule targets, or None."""
    if "id" in rule:
        want = bytes.fromhex(rule["id"])
        for k, (oid, _) in enumerate(items):
            if oid == want:
                return k
        return None
    if "nth" in rule:
        k = rule["nth"]
        return k if 0 <= k < len(items) else None
    return None


def tamper_frame(state, path, body):
    try:
        items = frame_parse(body)
    except FrameError as e:
        log({"proxy": "unparsable get-many answer", "error": str(e)})
        return body
    drive = drive_of(path)
    for oid, blob in items:
        state.objects.setdefault(drive, {})[oid] = blob
        state.allobjects[oid] = blob
    changed = False
    for i, rule in enumerate(state.rules()):
        op = rule.get("op")
        if op not in ("flip", "replace", "drop", "truncate", "swap"):
            continue
        if not state.may_apply(i, rule) or not rule_drive_ok(rule, path):
            continue
        if len(items) < rule.get("min_items", 0):
            continue
        k = find_item(rule, items, state, i)
        if k is None or (op == "swap" and k + 1 >= len(items)):
            continue
        oid, blob = items[k]
        if op == "flip":
            b = rule.get("byte", 0)
            if b < 0:
                b += len(blob)
            if not 0 <= b < len(blob):
                continue
            x = bytearray(blob)
            x[b] ^= 1 << (rule.get("bit", 0) & 7)
            items[k][1] = bytes(x)
            state.hit(i, rule, path, id=oid.hex(), byte=b)
        elif op == "replace":
            if "file" in rule:
                with open(rule["file"], "rb") as f:
                    items[k][1] = f.read()
            else:
                other = state.allobjects.get(bytes.fromhex(rule["with_id"]))
                if other is None:
                    log({"proxy": "replace: object not seen yet",
                         "with_id": rule["with_id"]})
                    continue
                items[k][1] = other
            state.hit(i, rule, path, id=oid.hex())
        elif op == "drop":
            del items[k]
            state.hit(i, rule, path, id=oid.hex())
        elif op == "truncate":
            n = rule.get("len", 0)
            items[k][1] = blob[:n] if n >= 0 else blob[:len(blob) + n]
            state.hit(i, rule, path, id=oid.hex(), len=len(items[k][1]))
        elif op == "swap":
            items[k], items[k + 1] = items[k + 1], items[k]
            state.hit(i, rule, path, id=oid.hex(), nth=k)
        changed = True
    return frame_build(items) if changed else body


GARBAGE = {}


def query_from(full_path):
    """The from=N of a request's query, 0 if absent."""
    q = urllib.parse.urlsplit(full_path).query
    try:
        return int(urllib.parse.parse_qs(q).get("from", ["0"])[0])
    except ValueError:
        return 0


def chain_page(rule, start):
    """A made-up chain page: count entries of size zero bytes (base64)."""
    size, count = rule.get("size", 0), rule.get("count", 1)
    if size not in GARBAGE:
        GARBAGE[size] = base64.b64encode(bytes(size))
    ent = b'"' + GARBAGE[size] + b'"'
    return (b'{"entries": [' + b",".join([ent] * count) +
            b'], "from": %d, "length": %d}' % (start, rule.get("length", 0)))


def json_list_edit(rule, data):
    """The answer with rule's edit of its list, or None if it does not apply."""
    try:
        obj = json.loads(data)
        lst = obj[rule["key"]]
        if not isinstance(lst, list):
            return None
        a, k = rule.get("action"), rule.get("index", 0)
        if a == "drop" and 0 <= k < len(lst):
            del lst[k]
        elif a == "swap" and 0 <= k < len(lst) - 1:
            lst[k], lst[k + 1] = lst[k + 1], lst[k]
        elif a == "replace" and 0 <= k < len(lst):
            with open(rule["b64_file"], "rb") as f:
                lst[k] = base64.b64encode(f.read()).decode()
        elif a == "keep" and 0 <= rule.get("n", 0) < len(lst):
            del lst[rule.get("n", 0):]
        else:
            return None
        return json.dumps(obj).encode()
    except (ValueError, OSError, KeyError, TypeError) as e:
        log({"proxy": "json_list failed", "error": str(e)})
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "coffer-test-proxy"
    conn = None
    conn_target = None

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline()
                n = int(line.split(b";")[0].strip(), 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, headers, body):
        self.send_response_only(status)
        for k, v in headers:
            if k.lower() not in HOP and k.lower() not in ("date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def forward(self, upstream, body):
        u = urllib.parse.urlsplit(upstream)
        target = (u.hostname, u.port or 80)
        for attempt in range(2):
            if self.conn is None or self.conn_target != target:
                self.conn = http.client.HTTPConnection(*target, timeout=600)
                self.conn_target = target
            try:
                self.conn.putrequest(self.command, self.path,
                                     skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    if k.lower() not in HOP:
                        self.conn.putheader(k, v)
                self.conn.putheader("Content-Length", str(len(body)))
                self.conn.endheaders(body if body else None)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, r.getheaders(), data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise OSError("unreachable")

    def handle_any(self):
        st = STATE
        body = self.read_body()
        path = self.path.split("?", 1)[0]
        with st.lock:
            st.load()
            upstream = st.upstream()
            rules = list(enumerate(st.rules()))
            # Answers made up without asking the server.
            for i, rule in rules:
                op = rule.get("op")
                if not st.may_apply(i, rule) or not rule_drive_ok(rule, path):
                    continue
                if op == "status" and re.search(rule["path"], path) and \
                        rule.get("method", self.command) == self.command:
                    st.hit(i, rule, path, code=rule["code"])
                    body = json.dumps(rule.get("body", {"error": "proxy"}))
                    self.send(rule["code"], [("Content-Type", "application/json")],
                              body.encode())
                    return
                if op == "chain_pages" and self.command == "GET" and \
                        re.search(rule["path"], path) and \
                        query_from(self.path) >= rule.get("from_min", 0):
                    start = query_from(self.path)
                    page = chain_page(rule, start)
                    st.hit(i, rule, path, start=start, bytes=len(page))
                    self.send(200, [("Content-Type", "application/json")],
                              page)
                    return
                if op == "alias_drive" and drive_of(path) == rule["from"].lower():
                    ans = self.alias(st, rule, path, body)
                    if ans is not None:
                        st.hit(i, rule, path)
                        self.send(*ans)
                        return
        if not upstream:
            self.send(502, [("Content-Type", "application/json")],
                      b'{"error": "proxy has no upstream"}')
            return
        try:
            status, headers, data = self.forward(upstream, body)
        except OSError:
            self.send(502, [("Content-Type", "application/json")],
                      b'{"error": "upstream unreachable"}')
            return
        with st.lock:
            st.load()
            key = (self.command, path)
            st.record.setdefault(key, []).append((status, headers, data))
            if (self.command == "POST" and path.endswith("/objects/get") and
                    status == 200):
                data = tamper_frame(st, path, data)
            for i, rule in enumerate(st.rules()):
                op = rule.get("op")
                if not st.may_apply(i, rule) or not rule_drive_ok(rule, path):
                    continue
                if op == "replay" and re.search(rule["path"], path) and \
                        rule.get("method", self.command) == self.command:
                    rec = st.record[key]
                    if "match" in rule:
                        pick = [k for k in range(len(rec))
                                if re.search(rule["match"].encode(), rec[k][2])]
                        idx = pick[-1] if pick else len(rec)
                    else:
                        idx = rule.get("index", 0)
                    if -len(rec) <= idx < len(rec) and rec[idx][2] != data:
                        status, headers, data = rec[idx]
                        st.hit(i, rule, path, index=idx)
                elif op == "append_json" and re.search(rule["path"], path) \
                        and status == 200:
                    try:
                        obj = json.loads(data)
                        with open(rule["b64_file"], "rb") as f:
                            extra = base64.b64encode(f.read()).decode()
                        obj.setdefault(rule["key"], []).append(extra)
                        if "length" in obj and isinstance(obj["length"], int):
                            obj["length"] += 1
                        data = json.dumps(obj).encode()
                        st.hit(i, rule, path)
                    except (ValueError, OSError, AttributeError) as e:
                        log({"proxy": "append_json failed", "error": str(e)})
                elif op == "chain_pages" and self.command == "GET" and \
                        re.search(rule["path"], path) and status == 200:
                    try:
                        obj = json.loads(data)
                        obj["length"] = rule.get("length", 0)
                        data = json.dumps(obj).encode()
                        log({"proxy": "chain_pages: length set",
                             "length": obj["length"]})
                    except (ValueError, TypeError) as e:
                        log({"proxy": "chain_pages failed", "error": str(e)})
                elif op == "json_list" and re.search(rule["path"], path) \
                        and status == 200:
                    new = json_list_edit(rule, data)
                    if new is not None:
                        data = new
                        st.hit(i, rule, path, action=rule.get("action"))
        self.send(status, headers, data)

    def alias(self, st, rule, path, body):
        """An answer about drive A made from what was seen of drive B."""
        a, b = rule["from"].lower(), rule["to"].lower()
        bpath = path.replace(a, b)
        if self.command == "GET" and path.endswith("/head"):
            rec = st.record.get(("GET", bpath))
            if rec:
                return rec[-1]
            return None
        if self.command == "POST" and path.endswith("/objects/get"):
            try:
                want = frame_parse(body)
            except FrameError:
                return None
            have = st.objects.get(b, {})
            items = [[oid, have[oid]] for oid, _ in want if oid in have]
            return (200, [("Content-Type", "application/x-coffer-frame")],
                    frame_build(items))
        if self.command == "POST" and path.endswith("/objects/have"):
            try:
                want = frame_parse(body)
            except FrameError:
                return None
            have = st.objects.get(b, {})
            items = [[oid, b""] for oid, _ in want if oid in have]
            return (200, [("Content-Type", "application/x-coffer-frame")],
                    frame_build(items))
        return None

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


STATE = None


def main():
    global STATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rules", required=True)
    ap.add_argument("--upstream")
    ap.add_argument("--hits")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    STATE = State(a.rules, a.upstream, a.hits)
    srv = Server(("127.0.0.1", a.port), Handler)
    sys.stdout.write(json.dumps({"ready": True, "port": srv.server_address[1]})
                     + "\n")
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
