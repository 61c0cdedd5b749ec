#!/bin/sh
# Secrets at the terminal (issue #18), typed through a real pseudo-terminal
# (tests/pty_run.py): account create, device join and recover ask for a
# passphrase twice with echo off (a mismatch asks again; empty means none,
# and says the key is stored unprotected); a later command asks for it
# when the key file is sealed (wrong three times: exit 5); ^C at a prompt
# leaves echo on; the recovery key is read with echo off; a missing
# COFFER_PASSPHRASE_FILE is named as such (exit 1).  Core dumps are off
# in coffer: RLIMIT_CORE 0 and not dumpable (its /proc files are root's,
# unreadable to its own user).
. "$(dirname "$0")/lib.sh"
PTY="python3 $TESTS/pty_run.py"
fail() { echo "FAIL: $*"; [ ! -f "$TMP/t" ] || { echo "--- terminal:"; cat -v "$TMP/t"; }; exit 1; }
rc() { if "$@" >"$TMP/out" 2>"$TMP/err"; then echo 0; else echo $?; fi; }
# kdf byte of a key file (FORMAT §2: "CFKF", version, kdf): 1 sealed, 0 not.
kdf() { od -An -tu1 -j5 -N1 "$1" | tr -d ' '; }
sealed() {
	[ "$(kdf "$1")" = 1 ] && [ "$(wc -c <"$1")" = 203 ] || fail "$1 is not sealed (kdf $(kdf "$1"))"
}
plain() {
	[ "$(kdf "$1")" = 0 ] && [ "$(wc -c <"$1")" = 139 ] || fail "$1 is not a plain key file"
}
echo_on() { grep -qx 'echo: on' "$TMP/t.echo" || fail "echo left off: $(cat "$TMP/t.echo")"; }
not_shown() { ! grep -qF "$1" "$TMP/t" || fail "the terminal showed what was typed: $1"; }

PW="Tr0ub4dor-pw-$$"
srv_start "$TMP/data"
A="$TMP/a"; mkdir -m 700 "$A"

# account create: a mismatch asks again, then the same twice seals the key.
if COFFER_HOME="$A" $PTY --out "$TMP/t" \
    --expect "Passphrase to protect" --send "$PW" \
    --expect "same passphrase again" --send "${PW}x" \
    --expect "differ" \
    --expect "Passphrase to protect" --send "$PW" \
    --expect "same passphrase again" --send "$PW" \
    -- "$COFFER" account create --server "$SRV_URL" pat; then r=0; else r=$?; fi
[ $r = 0 ] || fail "account create on a terminal exit $r"
grep -q "Recovery key" "$TMP/t" || fail "no recovery key shown"
not_shown "$PW"
echo_on
sealed "$A/device.key"
RK=$(sed -n 's/^    \([A-Z0-9][A-Z0-9 -]*[A-Z0-9]\)[[:space:]]*$/\1/p' "$TMP/t" | head -1)
[ -n "$RK" ] || fail "no recovery key text"
printf '%s\n' "$PW" >"$TMP/pw"

# A later command asks, and works with the right one.
if COFFER_HOME="$A" $PTY --out "$TMP/t" \
    --expect "Passphrase for this device's key" --send "$PW" \
    -- "$COFFER" drive create d; then r=0; else r=$?; fi
[ $r = 0 ] || fail "drive create with the typed passphrase exit $r"
grep -q "Drive 'd' created" "$TMP/t" || fail "no drive created"
not_shown "$PW"

# Wrong three times: exit 5, says so; the wrong ones are not shown.
if COFFER_HOME="$A" $PTY --out "$TMP/t" \
    --expect "Passphrase for this device's key" --send "bad-one-$$" \
    --expect "Wrong passphrase; try again" \
    --expect "Passphrase for this device's key" --send "bad-two-$$" \
    --expect "Wrong passphrase; try again" \
    --expect "Passphrase for this device's key" --send "" \
    -- "$COFFER" drive list; then r=0; else r=$?; fi
[ $r = 5 ] || fail "three wrong passphrases exit $r, not 5"
grep -q "wrong passphrase for this device's key (asked 3 times)" "$TMP/t" || fail "no wrong-passphrase message"
not_shown "bad-one-$$"
not_shown "bad-two-$$"
echo_on

# ^C at the prompt: killed by SIGINT, echo back on.
if COFFER_HOME="$A" $PTY --out "$TMP/t" \
    --expect "Passphrase for this device's key" --ctrl-c \
    -- "$COFFER" drive list; then r=0; else r=$?; fi
[ $r = 130 ] || fail "^C at the passphrase prompt exit $r, not 130"
echo_on

# Not on a terminal: COFFER_PASSPHRASE_FILE, or none (exit 5, with advice).
[ "$(COFFER_HOME="$A" COFFER_PASSPHRASE_FILE="$TMP/pw" rc "$COFFER" drive list </dev/null)" = 0 ] || fail "the passphrase file no longer works"
[ "$(COFFER_HOME="$A" rc "$COFFER" drive list </dev/null)" = 5 ] || fail "no passphrase off a terminal is not exit 5"
grep -q COFFER_PASSPHRASE_FILE "$TMP/err" || fail "no advice off a terminal"

# A missing passphrase file is named, exit 1 (not "no account yet").
[ "$(COFFER_HOME="$A" COFFER_PASSPHRASE_FILE="$TMP/nope" rc "$COFFER" drive list)" = 1 ] || fail "a missing passphrase file is not exit 1"
grep -q "passphrase file $TMP/nope (COFFER_PASSPHRASE_FILE) does not exist" "$TMP/err" || fail "the missing passphrase file is not named: $(cat "$TMP/err")"
! grep -q "no account" "$TMP/err" || fail "a missing passphrase file told as no account"
[ "$(COFFER_HOME="$A" COFFER_PASSPHRASE_FILE="$TMP/nope" rc "$COFFER" --json drive list)" = 1 ] || fail "--json: a missing passphrase file is not exit 1"
grep -q '"status":1' "$TMP/out" && grep -q 'does not exist' "$TMP/out" || fail "--json: no error line for the missing file"
B0="$TMP/b0"; mkdir -m 700 "$B0"
[ "$(COFFER_HOME="$B0" COFFER_PASSPHRASE_FILE="$TMP/nope" rc "$COFFER" account create --server "$SRV_URL" nofile)" = 1 ] || fail "account create with a missing passphrase file is not exit 1"
grep -q "does not exist" "$TMP/err" || fail "account create: the missing passphrase file is not named"
[ ! -e "$B0/device.key" ] || fail "a key was written without its passphrase file"

# Empty passphrase: said to be stored unprotected; later commands do not ask.
B="$TMP/b"; mkdir -m 700 "$B"
if COFFER_HOME="$B" $PTY --out "$TMP/t" \
    --expect "Passphrase to protect" --send "" \
    -- "$COFFER" account create --server "$SRV_URL" quin; then r=0; else r=$?; fi
[ $r = 0 ] || fail "account create with no passphrase exit $r"
grep -q "stored unprotected" "$TMP/t" || fail "no warning that the key is unprotected"
plain "$B/device.key"
if COFFER_HOME="$B" $PTY --out "$TMP/t" -- "$COFFER" drive list; then r=0; else r=$?; fi
[ $r = 0 ] || fail "drive list with a plain key on a terminal exit $r"
! grep -q "Passphrase" "$TMP/t" || fail "asked for a passphrase the key does not have"

# device join asks too; the key it makes is sealed.
C="$TMP/c"; mkdir -m 700 "$C"
APPROVE="code=\$(sed -n 's/^Pairing code: //p' '$TMP/t' | tr -d '\\r'); \
COFFER_HOME='$A' COFFER_PASSPHRASE_FILE='$TMP/pw' '$COFFER' device approve \"\$code\" >'$TMP/approve.out' 2>&1"
if COFFER_HOME="$C" $PTY --out "$TMP/t" \
    --expect "Passphrase to protect" --send "$PW-c" \
    --expect "same passphrase again" --send "$PW-c" \
    --expect "Waiting for the approval" --run "$APPROVE" \
    --expect "Joined account" \
    -- "$COFFER" device join --server "$SRV_URL" pat --name cee --timeout 120; then r=0; else r=$?; fi
[ $r = 0 ] || { cat "$TMP/approve.out"; fail "device join on a terminal exit $r"; }
sealed "$C/device.key"
not_shown "$PW-c"

# recover: the recovery key is not echoed; the new key is sealed.
D="$TMP/d"; mkdir -m 700 "$D"
if COFFER_HOME="$D" $PTY --out "$TMP/t" \
    --expect "Recovery key:" --send "$RK" \
    --expect "Passphrase to protect" --send "$PW-d" \
    --expect "same passphrase again" --send "$PW-d" \
    -- "$COFFER" recover --server "$SRV_URL" pat --keep-devices --name dee; then r=0; else r=$?; fi
[ $r = 0 ] || fail "recover on a terminal exit $r"
grep -q "Recovered account 'pat'" "$TMP/t" || fail "not recovered"
not_shown "$RK"
not_shown "$(printf '%s' "$RK" | cut -c1-12)"
not_shown "$PW-d"
sealed "$D/device.key"
# ^C at the recovery key prompt: echo back on.
E="$TMP/e"; mkdir -m 700 "$E"
if COFFER_HOME="$E" $PTY --out "$TMP/t" --expect "Recovery key:" --ctrl-c \
    -- "$COFFER" recover --server "$SRV_URL" pat --keep-devices; then r=0; else r=$?; fi
[ $r = 130 ] || fail "^C at the recovery key prompt exit $r, not 130"
echo_on
[ ! -e "$E/account" ] || fail "an interrupted recover left an account"

# Core dumps off: a coffer waiting at its prompt has RLIMIT_CORE 0 and is
# not dumpable, so its /proc files are root's and its own user cannot read
# them (run as nobody when the suite runs as root; a process that did not
# turn dumping off, sleep, shows the difference).
AS=
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || { echo "SKIP core dumps: root without setpriv"; srv_stop; exit 77; }
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups --"
	chmod 711 "$TMP"
fi
ME=$($AS id -u)
N="$TMP/n"; mkdir -m 777 "$N"
cp "$TMP/pw" "$N/pw"; chmod 644 "$N/pw"
$AS env COFFER_HOME="$N/home" COFFER_PASSPHRASE_FILE="$N/pw" "$COFFER" account create --server "$SRV_URL" nora >/dev/null 2>"$TMP/err" </dev/null || fail "account create as $ME: $(cat "$TMP/err")"
$AS sleep 60 &
SLEEP=$!
EXTRA_PID=$SLEEP
CHECK="cat /proc/\$PID/limits >'$TMP/limits'; stat -c %u /proc/\$PID/environ >'$TMP/owner'; \
if $AS cat /proc/\$PID/environ >/dev/null 2>&1; then echo readable; else echo unreadable; fi >'$TMP/readable'; \
stat -c %u /proc/$SLEEP/environ >'$TMP/owner.sleep'; \
if $AS cat /proc/$SLEEP/environ >/dev/null 2>&1; then echo readable; else echo unreadable; fi >'$TMP/readable.sleep'"
# shellcheck disable=SC2086 # $AS: a command and its words, or nothing
if $PTY --out "$TMP/t" \
    --expect "Passphrase for this device's key" --run "$CHECK" --send "$PW" \
    -- $AS env COFFER_HOME="$N/home" "$COFFER" drive list; then r=0; else r=$?; fi
kill "$SLEEP" 2>/dev/null || true
wait "$SLEEP" 2>/dev/null || true
EXTRA_PID=
[ $r = 0 ] || fail "drive list as $ME on a terminal exit $r"
grep -Eq '^Max core file size +0 +0 ' "$TMP/limits" || fail "core file size not 0: $(grep core "$TMP/limits")"
[ "$(cat "$TMP/owner.sleep")" = "$ME" ] && [ "$(cat "$TMP/readable.sleep")" = readable ] || fail "the control process is not its user's"
[ "$(cat "$TMP/owner")" = 0 ] || fail "coffer's /proc files belong to $(cat "$TMP/owner"): it is dumpable"
[ "$(cat "$TMP/readable")" = unreadable ] || fail "coffer's environ is readable by its own user"

srv_stop
echo ok
