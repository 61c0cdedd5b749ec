#!/bin/sh
# Crash: kill -9 at seeded random moments during a stream of writes, 20
# rounds; after each restart every acknowledged write is intact and the
# store consistent.
. "$(dirname "$0")/lib.sh"
ROUNDS=${COFFER_CRASH_ROUNDS:-20}
SEED=${COFFER_CRASH_SEED:-4242}
ACK="$TMP/acked"
: >"$ACK"
r=0
# A small LCG in shell arithmetic for the kill moments (seeded).
x=$SEED
while [ "$r" -lt "$ROUNDS" ]; do
	# The store as the crash left it: consistent (SQLite integrity, every
	# object row points at its own record in a pack, quota counters).
	if [ $r -gt 0 ]; then "$COFFERD" check --data "$TMP/data" >/dev/null; fi
	srv_start "$TMP/data"
	"$SRVCLIENT" "$SRV_URL" crash-verify "$SEED" "$ACK" >/dev/null
	"$SRVCLIENT" "$SRV_URL" crash-write "$SEED" "$ACK" &
	W=$!
	x=$(( (x * 1103515245 + 12345) % 2147483648 ))
	ms=$(( 50 + x % 400 ))
	sleep "$(printf '0.%03d' "$ms")"
	srv_kill9
	wait "$W" || { echo "writer failed"; exit 1; }
	r=$((r + 1))
done
srv_start "$TMP/data"
"$SRVCLIENT" "$SRV_URL" crash-verify "$SEED" "$ACK"
[ -s "$ACK" ] || { echo "no write was acknowledged"; exit 1; }
srv_stop
"$COFFERD" check --data "$TMP/data"
echo "ok: $(wc -l <"$ACK") acknowledged batches over $ROUNDS crashes"
