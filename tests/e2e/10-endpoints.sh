#!/bin/sh
# Every endpoint end to end through the client library; SIGTERM exits 0.
. "$(dirname "$0")/lib.sh"
"$COFFERD" --help | grep -q -- '--listen' || { echo "no --help"; exit 1; }
srv_start "$TMP/data"
"$SRVCLIENT" "$SRV_URL" endpoints
"$SRVCLIENT" "$SRV_URL" bulk
# The logs are JSON lines, one per request, without signatures or nonces.
grep -q '"ev":"request"' "$TMP/server.log"
if grep -qi 'signature"\|nonce"' "$TMP/server.log"; then
	echo "secrets in the log"; exit 1
fi
srv_stop
# Restart on the same data: everything is still there.
srv_start "$TMP/data"
"$SRVCLIENT" "$SRV_URL" lookup alice
"$SRVCLIENT" "$SRV_URL" authz
srv_stop
# Puts side by side, overlapping, over many small packs; then the store checks.
srv_start "$TMP/data-conc" --pack-max 65536
"$SRVCLIENT" "$SRV_URL" concurrent
srv_stop
"$COFFERD" check --data "$TMP/data-conc" >/dev/null
echo ok
