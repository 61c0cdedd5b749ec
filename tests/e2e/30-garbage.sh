#!/bin/sh
# Garbage: thousands of random requests (methods, paths, lying lengths,
# huge headers, bad JSON, bad frames, signed garbage); then the server
# still serves a real client, stored nothing, its memory did not grow
# without bound, and it exits 0 on SIGTERM.
. "$(dirname "$0")/lib.sh"
N=${COFFER_GARBAGE_N:-1500}
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$SRV_PID/status"; }
srv_start "$TMP/data" --timeout 5
"$SRVCLIENT" "$SRV_URL" garbage 1 "$N"
R1=$(rss)
"$SRVCLIENT" "$SRV_URL" garbage 2 "$N"
"$SRVCLIENT" "$SRV_URL" garbage 3 "$N"
R2=$(rss)
echo "rss after round 1: ${R1} KiB, after round 3: ${R2} KiB"
# Two more rounds of the same garbage may not add more than 64 MiB.
[ "$R2" -lt $((R1 + 65536)) ] || { echo "memory grew"; exit 1; }
# Nothing crashed: every request got an answer or a closed connection.
if grep -q '"status":"5[0-9][0-9]"' "$TMP/server.log"; then
	grep '"status":"5' "$TMP/server.log" | grep -v '"status":"501"' | head -5
	if grep '"status":"5' "$TMP/server.log" | grep -qv '"status":"501"'; then
		echo "server errors on garbage"; exit 1
	fi
fi
srv_stop
echo ok
