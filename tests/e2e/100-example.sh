#!/bin/sh
# The example program (examples/pushpull.c, the public API alone) against a
# real cofferd: it creates an account and a drive, pushes a generated tree
# and pulls it back into an empty folder, byte for byte, modes and mtimes
# included; an error (the same account again) is reported with
# coffer_strerror and exit 1, and nothing is written to its target.
. "$(dirname "$0")/lib.sh"
TESTS=$(cd "$(dirname "$0")/.." && pwd)
PUSHPULL="$COFFER_BUILD/examples/pushpull"
COFFER="$COFFER_BUILD/cli/coffer"

fail() { echo "FAIL: $*"; exit 1; }

[ -x "$PUSHPULL" ] || fail "no $PUSHPULL"
srv_start "$TMP/data"
mkdir -m 700 "$TMP/home"
python3 "$TESTS/gen_tree.py" 1001 "$TMP/src" --files 25 >/dev/null
mkdir "$TMP/dst"

"$PUSHPULL" "$SRV_URL" "$TMP/home" "$TMP/src" "$TMP/dst" >"$TMP/out" \
    2>"$TMP/err" || { cat "$TMP/out" "$TMP/err"; fail "pushpull failed"; }
grep -Eq '^version 1: [0-9]+ files$' "$TMP/out" || { cat "$TMP/out"; \
    fail "no result line"; }
# Regular files (a name may hold a newline: counted by Python, not wc).
files=$(python3 -c 'import os, sys
print(sum(1 for r, _, fs in os.walk(sys.argv[1]) for f in fs
    if os.path.isfile(os.path.join(r, f)) and
    not os.path.islink(os.path.join(r, f))))' "$TMP/src")
grep -q "^version 1: $files files\$" "$TMP/out" || { cat "$TMP/out"; \
    fail "the file count is not $files"; }
python3 "$TESTS/compare_tree.py" "$TMP/src" "$TMP/dst" || \
    fail "the pulled tree differs from the pushed one"

# The same home is the CLI's too: the key opens with the example's
# passphrase, and the CLI sees the version the example made.
printf 'pushpull example passphrase\n' >"$TMP/pass"
COFFER_HOME="$TMP/home" COFFER_PASSPHRASE_FILE="$TMP/pass" \
    "$COFFER" --json log example >"$TMP/log" 2>"$TMP/err" || \
    { cat "$TMP/err"; fail "the CLI cannot read the example's account"; }
grep -q '"version":1' "$TMP/log" || fail "the CLI does not see version 1"

# An error: the account exists on this device already.
mkdir "$TMP/dst2"
if "$PUSHPULL" "$SRV_URL" "$TMP/home" "$TMP/src" "$TMP/dst2" >"$TMP/out" \
    2>"$TMP/err"; then rc=0; else rc=$?; fi
[ "$rc" = 1 ] || fail "a second run exited $rc, want 1"
grep -q 'account create: already exists' "$TMP/err" || { cat "$TMP/err"; \
    fail "the error is not coffer_strerror's"; }
[ -z "$(ls -A "$TMP/dst2")" ] || fail "a failed run wrote into its target"
[ ! -s "$TMP/out" ] || fail "a failed run printed a result"

# Usage.
if "$PUSHPULL" >/dev/null 2>&1; then rc=0; else rc=$?; fi
[ "$rc" = 2 ] || fail "no arguments exited $rc, want 2"
srv_stop
echo "ok"
