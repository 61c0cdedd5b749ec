#!/bin/sh
# Authorisation: account B reaches nothing of A's; a removed device, a
# stale and a replayed request are refused (srvclient authz, endpoints);
# an invite token works once on an invite-only server.
. "$(dirname "$0")/lib.sh"
srv_start "$TMP/data"
"$SRVCLIENT" "$SRV_URL" authz
srv_stop
# Invite-only: tokens from `cofferd invite`, each single-use.
TOKEN=$("$COFFERD" invite --data "$TMP/inv")
[ ${#TOKEN} -eq 64 ] || { echo "bad token: $TOKEN"; exit 1; }
srv_start "$TMP/inv" --invite-only
"$SRVCLIENT" "$SRV_URL" invite "$TOKEN"
# The token never reaches the log.
if grep -q "$TOKEN" "$TMP/server.log"; then echo "token in the log"; exit 1; fi
srv_stop
# Limits: quota, pending joins, join expiry, body and JSON caps, rate.
srv_start "$TMP/lim" --quota 1000 --join-ttl 2 --rate 40
"$SRVCLIENT" "$SRV_URL" limits
srv_stop
echo ok
