#!/bin/sh
# coffer selftest: a sample folder's chunks sealed and opened back through
# the library; the CLI's JSON output, usage errors and exit statuses.
set -eu
. "$(dirname "$0")/lib.sh"
T=$TMP

mkdir -p "$T/src/a/b" "$T/src/empty-dir"
printf 'hello\n' > "$T/src/a/hello.txt"
: > "$T/src/a/empty"
head -c 3000000 /dev/urandom > "$T/src/a/b/random.bin"	# several chunks
yes coffer | head -c 2000000 > "$T/src/a/b/text.txt"		# compresses
ln -s hello.txt "$T/src/a/link"
mkfifo "$T/src/a/fifo"

out=$("$COFFER" --json selftest "$T/src") || fail "selftest exit $?"
echo "$out"
echo "$out" | grep -q '"files": 4' || fail "expected 4 files"
echo "$out" | grep -q '"bytes": 5000006' || fail "expected 5000006 bytes"
echo "$out" | grep -q '"skipped": 2' || fail "symlink and fifo must be skipped"
echo "$out" | grep -q '"verified": true' || fail "not verified"

# Usage errors exit 2; a missing folder is a local error, exit 1, as JSON.
set +e
"$COFFER" selftest >/dev/null 2>&1; [ $? = 2 ] || fail "usage must exit 2"
"$COFFER" nosuchcommand >/dev/null 2>&1; [ $? = 2 ] || fail "unknown command must exit 2"
out=$("$COFFER" --json selftest "$T/nope"); rc=$?
set -e
[ "$rc" = 1 ] || fail "missing folder must exit 1, got $rc"
echo "$out" | grep -q '"error"' || fail "no JSON error"
echo "$out" | grep -q '"status": *1' || fail "no status in JSON error"
"$COFFER" --help | grep -q selftest || fail "--help"
"$COFFER" help push | grep -q "push DRIVE DIR" || fail "help push"
echo "ok"
