#!/bin/sh
# A passphrase-protected device key (COFFER_PASSPHRASE_FILE): the right
# passphrase works, a wrong or missing one is exit 5; a damaged account
# file is exit 1; an unreachable server is exit 4 with advice; an
# invite-only server needs --invite.
. "$(dirname "$0")/lib.sh"
COFFER="$COFFER_BUILD/cli/coffer"
fail() { echo "FAIL: $*"; exit 1; }
rc() { if "$@" >"$TMP/out" 2>"$TMP/err"; then echo 0; else echo $?; fi; }

srv_start "$TMP/data"
COFFER_HOME="$TMP/home"; export COFFER_HOME
mkdir -m 700 "$COFFER_HOME"
printf 'correct horse\n' >"$TMP/pass"
printf 'wrong horse\n' >"$TMP/bad"
[ "$(COFFER_PASSPHRASE_FILE="$TMP/pass" rc "$COFFER" --json account create --server "$SRV_URL" frank)" = 0 ] || fail "account create with a passphrase"
[ "$(COFFER_PASSPHRASE_FILE="$TMP/pass" rc "$COFFER" --json drive create d)" = 0 ] || fail "drive create with the passphrase"
[ "$(COFFER_PASSPHRASE_FILE="$TMP/bad" rc "$COFFER" --json drive list)" = 5 ] || fail "a wrong passphrase is not exit 5"
grep -q '"status":5' "$TMP/out" || fail "no JSON error for the wrong passphrase"
[ "$(rc "$COFFER" drive list)" = 5 ] || fail "no passphrase is not exit 5"
grep -q 'COFFER_PASSPHRASE_FILE' "$TMP/err" || fail "no advice about the passphrase"
# Nothing was tried: it is not called a wrong passphrase.
grep -q 'none could be asked for (no terminal)' "$TMP/err" || fail "no passphrase: the cause is not named"
grep -q 'wrong passphrase' "$TMP/err" && fail "no passphrase given, yet 'wrong passphrase'"

# The device's own account file damaged: exit 1 (not 3: it is not the server's).
cp "$COFFER_HOME/account" "$TMP/account.good"
sed 's/^account=frank$/account=FRANK/' "$TMP/account.good" >"$COFFER_HOME/account"
[ "$(COFFER_PASSPHRASE_FILE="$TMP/pass" rc "$COFFER" --json drive list)" = 1 ] || fail "a damaged account file is not exit 1"
cp "$TMP/account.good" "$COFFER_HOME/account"

srv_stop
[ "$(COFFER_PASSPHRASE_FILE="$TMP/pass" rc "$COFFER" --json status)" = 4 ] || fail "an unreachable server is not exit 4"
grep -q 'running' "$TMP/out" || fail "no advice for an unreachable server"

# An invite-only server: refused without an invite (exit 4, with advice),
# created with one.
srv_start "$TMP/data2" --invite-only
COFFER_HOME="$TMP/home2"; export COFFER_HOME
mkdir -m 700 "$COFFER_HOME"
[ "$(rc "$COFFER" --json account create --server "$SRV_URL" ivy)" = 4 ] || fail "no invite is not exit 4"
grep -q 'invite' "$TMP/out" || fail "no advice about the invite"
TOKEN=$("$COFFERD" invite --data "$TMP/data2" | tail -1)
[ "$(rc "$COFFER" --json account create --server "$SRV_URL" ivy --invite "$TOKEN")" = 0 ] || fail "account create with an invite"
[ "$(rc "$COFFER" --json drive create d)" = 0 ] || fail "drive create after an invite"
srv_stop
echo ok
