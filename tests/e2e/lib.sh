# Shared by the end-to-end scripts: start and stop a real cofferd.
# Needs COFFER_BUILD (the build folder).  Sourced, not run.
set -eu
: "${COFFER_BUILD:?set COFFER_BUILD to the build folder}"
# No test types at a terminal by accident: coffer asks for passphrases
# when stdin is one (tests/pty_run.py gives a test its own).
exec </dev/null
COFFERD="$COFFER_BUILD/server/cofferd"
SRVCLIENT="$COFFER_BUILD/tests/srvclient"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/coffer-e2e-XXXXXX")
SRV_PID=
SRV_PORT=
SRV_URL=

# srv_start DATA [cofferd options...]: start on 127.0.0.1:0, wait for ready.
srv_start() {
	data=$1; shift
	: >"$TMP/ready"
	"$COFFERD" --listen 127.0.0.1:0 --data "$data" "$@" \
	    >"$TMP/ready" 2>>"$TMP/server.log" &
	SRV_PID=$!
	i=0
	while ! grep -q '"ready": true' "$TMP/ready" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
			echo "cofferd did not start"; cat "$TMP/server.log"; return 1
		fi
		sleep 0.05
	done
	SRV_PORT=$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$TMP/ready")
	SRV_URL="http://127.0.0.1:$SRV_PORT"
}

# srv_stop: SIGTERM, and the server must exit 0.
srv_stop() {
	[ -n "$SRV_PID" ] || return 0
	kill -TERM "$SRV_PID"
	if wait "$SRV_PID"; then rc=0; else rc=$?; fi
	SRV_PID=
	if [ "$rc" != 0 ]; then
		echo "cofferd exited $rc on SIGTERM"; tail -20 "$TMP/server.log"
		return 1
	fi
	if grep -q 'Sanitizer\|runtime error' "$TMP/server.log"; then
		echo "sanitizer report in the server log"; cat "$TMP/server.log"
		return 1
	fi
}

# srv_kill9: the crash.
srv_kill9() {
	[ -n "$SRV_PID" ] || return 0
	kill -KILL "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
	SRV_PID=
}

EXTRA_PID=
cleanup() {
	if [ -n "$SRV_PID" ]; then kill -KILL "$SRV_PID" 2>/dev/null || true; fi
	if [ -n "$EXTRA_PID" ]; then kill -KILL "$EXTRA_PID" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
