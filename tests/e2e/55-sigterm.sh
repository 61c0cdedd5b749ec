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

def backlog():
    # The listening socket's accept queue (rx_queue of a LISTEN entry in
    # /proc/net/tcp); None once the socket is closed.
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            w = line.split()
            if int(w[1].split(":")[1], 16) == port and w[3] == "0A":
                return int(w[4].split(":")[1], 16)
    return None

def until(cond, what, seconds=30):
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            sys.exit("timed out waiting: " + what)
        time.sleep(0.01)

# The server has accepted the connection (it left the accept queue).
until(lambda: backlog() == 0, "the server to accept the connection")
os.kill(pid, signal.SIGTERM)
# No new connections once stopping: the listening socket closes.
def refused():
    try:
        t = socket.create_connection(("127.0.0.1", port), timeout=1)
    except OSError:
        return True
    t.close()
    return False
until(refused, "the listening socket to close after SIGTERM")
if not refused() or backlog() is not None:
    sys.exit("a new connection was accepted after the listening socket closed")
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
