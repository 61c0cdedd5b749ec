#!/bin/sh
# SIGTERM finishes the requests in flight: a request whose body is still
# arriving when the signal comes gets its whole answer, new connections
# are refused, and the server exits 0.
. "$(dirname "$0")/lib.sh"
srv_start "$TMP/data"
python3 - "$SRV_PORT" "$SRV_PID" <<'PY'
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
body = b'{"envelopes": []}'
s.sendall(b"POST /v1/accounts/" + b"00" * 32 + b"/envelopes HTTP/1.1\r\n"
          b"Host: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % (port, len(body)) + body[:5])
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
# No new connections once stopping.
try:
    t = socket.create_connection(("127.0.0.1", port), timeout=1)
    t.sendall(b"GET /v1/names/x HTTP/1.1\r\nHost: x\r\n\r\n")
    t.settimeout(1)
    if t.recv(100).startswith(b"HTTP/1.1"):
        sys.exit("a new connection was served after SIGTERM")
except OSError:
    pass
s.sendall(body[5:])
s.settimeout(5)
r = b""
while b"\r\n\r\n" not in r:
    k = s.recv(4096)
    if not k:
        break
    r += k
if not r.startswith(b"HTTP/1.1 401"):
    sys.exit("the request in flight got no answer: %r" % r[:80])
print("in-flight request answered:", r.split(b"\r\n")[0].decode())
PY
# The server exits 0 once it is done.
if wait "$SRV_PID"; then rc=0; else rc=$?; fi
SRV_PID=
[ "$rc" = 0 ] || { echo "cofferd exited $rc"; exit 1; }
grep -q '"ev":"stopped"' "$TMP/server.log"
echo ok
