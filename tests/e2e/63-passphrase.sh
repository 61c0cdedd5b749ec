#!/bin/sh
# A passphrase-protected device key (COFFER_PASSPHRASE_FILE): the right
# passphrase works, a wrong or missing one is exit 5; a damaged account
# file is exit 1; an unreachable server is exit 4 with advice; an
# invite-only server needs --invite.
. "$(dirname "$0")/lib.sh"

srv_start "$TMP/data"
COFFER_HOME="$TMP/home"; export COFFER_HOME
mkdir -m 700 "$COFFER_HOME"
printf 'correct horse\n' >"$TMP/pass"
printf 'wrong horse\n' >"$TMP/bad"
# account create with a passphrase
COFFER_PASSPHRASE_FILE="$TMP/pass" expect_exit 0 "$COFFER" --json account create --server "$SRV_URL" frank
# drive create with the passphrase
COFFER_PASSPHRASE_FILE="$TMP/pass" expect_exit 0 "$COFFER" --json drive create d
# a wrong passphrase: exit 5
COFFER_PASSPHRASE_FILE="$TMP/bad" expect_exit 5 '' "$COFFER" --json drive list
grep -q '"status":5' "$TMP/out" || fail "no JSON error for the wrong passphrase"
# no passphrase: exit 5
expect_exit 5 '' "$COFFER" drive list
grep -q 'COFFER_PASSPHRASE_FILE' "$TMP/err" || fail "no advice about the passphrase"
# Nothing was tried: it is not called a wrong passphrase.
grep -q 'none could be asked for (no terminal)' "$TMP/err" || fail "no passphrase: the cause is not named"
grep -q 'wrong passphrase' "$TMP/err" && fail "no passphrase given, yet 'wrong passphrase'"

# The device's own account file damaged: exit 1 (not 3: it is not the server's).
cp "$COFFER_HOME/account" "$TMP/account.good"
sed 's/^account=frank$/account=FRANK/' "$TMP/account.good" >"$COFFER_HOME/account"
# a damaged account file: exit 1
COFFER_PASSPHRASE_FILE="$TMP/pass" expect_exit 1 '' "$COFFER" --json drive list
cp "$TMP/account.good" "$COFFER_HOME/account"

srv_stop
# an unreachable server: exit 4
COFFER_PASSPHRASE_FILE="$TMP/pass" expect_exit 4 '' "$COFFER" --json status
grep -q 'running' "$TMP/out" || fail "no advice for an unreachable server"

# An invite-only server: refused without an invite (exit 4, with advice),
# created with one.
srv_start "$TMP/data2" --invite-only
COFFER_HOME="$TMP/home2"; export COFFER_HOME
mkdir -m 700 "$COFFER_HOME"
# no invite: exit 4
expect_exit 4 '' "$COFFER" --json account create --server "$SRV_URL" ivy
grep -q 'invite' "$TMP/out" || fail "no advice about the invite"
TOKEN=$("$COFFERD" invite --data "$TMP/data2" | tail -1)
# account create with an invite
expect_exit 0 "$COFFER" --json account create --server "$SRV_URL" ivy --invite "$TOKEN"
# drive create after an invite
expect_exit 0 "$COFFER" --json drive create d
srv_stop
echo ok
