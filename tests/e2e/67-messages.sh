#!/bin/sh
# Messages that say what happened (issue #18), through the rewriting
# proxy:
# - a server's error text full of terminal escape sequences ("\033[2K\r
#   push done", C1 CSI, bidi override) is shown escaped: no ESC, no CR,
#   no C1 byte reaches stderr, the exit status is the refusal's (4), and
#   --json carries it escaped too;
# - a quota exceeded (507) is exit 4 "the account's storage quota is full"
#   (it was "a path longer than 65536 bytes", exit 1);
# - a typo'd drive name names the closest drive ("did you mean 'docs'?")
#   for push, pull, log and ls, and 'drive create' when nothing is close;
# - no HOME and no COFFER_HOME: exit 1 "set HOME or COFFER_HOME" (it was
#   "invalid argument");
# - an unknown command or option is exit 2 with status 2 in its JSON
#   (--json bogus said status 1).
. "$(dirname "$0")/lib.sh"

# A small quota: the first push fits, a bigger second one does not.
proxy_start
srv_start "$TMP/data" --origin "$PROXY_URL" --quota 300000
rules '[]'
proxy_account carol

# no_raw FILE: no ESC, CR, other C0 control but newline and tab, DEL or C1
# byte (raw, or UTF-8 encoded U+0080-U+009F) and no bidi override in FILE.
no_raw() {
	if LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]' "$1" ||
	    grep -qP '\xc2[\x80-\x9f]|\xe2\x80\xae' "$1"; then
		od -c "$1" | head -20
		fail "$2: a raw control byte reached the terminal"
	fi
}

# ---- 1. the server's text is escaped ----
mkdir -p "$TMP/src"
printf 'hello\n' >"$TMP/src/a.txt"
BODY='{"error": "\u001b[2K\rpush done: version 9 \u001b]0;pwned\u0007\u009b31m\u202egnp.exe end"}'
rules "[{\"op\": \"status\", \"path\": \"/objects/have\$\", \"code\": 403, \"body\": $BODY}]"
arm
expect_exit 4 '' "$COFFER" push docs "$TMP/src"
[ "$(hits)" -gt "$ARMED" ] || fail "the proxy never served the error"
no_raw "$TMP/err" "push"
grep -q 'the server refused the request' "$TMP/err" ||
    fail "the refusal is not reported"
grep -qF '\x1b[2K\x0dpush done: version 9 \x1b]0;pwned\x07\xc2\x9b31m\xe2\x80\xaegnp.exe' \
    "$TMP/err" || { cat "$TMP/err"; fail "the server's text is not shown escaped"; }
[ ! -s "$TMP/out" ] || fail "a failed push printed a result"
echo "ok: server text with escape sequences shown escaped, exit 4"

# The same for a refusal on the session's own connection (log's head).
rules "[{\"op\": \"status\", \"path\": \"/head\$\", \"method\": \"GET\", \"code\": 403, \"body\": $BODY}]"
arm
expect_exit 4 '' "$COFFER" log docs
[ "$(hits)" -gt "$ARMED" ] || fail "the proxy never served the error to log"
no_raw "$TMP/err" "log"
grep -qF '\x1b[2K\x0dpush done' "$TMP/err" ||
    { cat "$TMP/err"; fail "log: the server's text is not shown escaped"; }

# The same in JSON: one line, status 4, the text escaped (no raw byte).
arm
expect_exit 4 '' "$COFFER" --json log docs
no_raw "$TMP/out" "log --json"
python3 - "$TMP/out" <<'EOF' || fail "--json error line"
import json, sys
lines = open(sys.argv[1], "rb").read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["status"] == 4, o
e = o["error"]
assert "\x1b" not in e and "\r" not in e and "\x9b" not in e and "\u202e" not in e, e
assert "\\x1b[2K\\x0dpush done" in e, e
EOF
echo "ok: --json: the error escaped, status 4"
rules '[]'

# ---- 2. quota exceeded: exit 4, the cause and the next step ----
push docs "$TMP/src"
head -c 600000 /dev/urandom >"$TMP/src/big"
expect_exit 4 '' "$COFFER" push docs "$TMP/src"
grep -q "the account's storage quota is full" "$TMP/err" ||
    { cat "$TMP/err"; fail "quota: the cause is not named"; }
grep -q 'larger quota' "$TMP/err" || fail "quota: no next step"
grep -q 'path longer' "$TMP/err" && fail "quota told as a path too long"
grep -q '"ev":"quota_full"' "$TMP/server.log" || fail "quota: no log line"
expect_exit 4 '' "$COFFER" --json push docs "$TMP/src"
grep -q '"status":4' "$TMP/out" || fail "quota: JSON status"
grep -q 'quota is full' "$TMP/out" || fail "quota: JSON message"
rm "$TMP/src/big"
echo "ok: quota exceeded: exit 4, 'storage quota is full'"

# ---- 3. a typo'd drive name: the closest existing name ----
for cmd in "push dcos $TMP/src" "pull dcos $TMP/pulls/x" "log dcos" "ls dcos" "ls dcos@1"; do
	# shellcheck disable=SC2086
	expect_exit 1 '' "$COFFER" $cmd
	grep -q "there is no drive 'dcos'" "$TMP/err" ||
	    { cat "$TMP/err"; fail "$cmd: the drive is not said to be missing"; }
	grep -q "did you mean 'docs'?" "$TMP/err" ||
	    { cat "$TMP/err"; fail "$cmd: no suggestion"; }
	grep -q 'drive create' "$TMP/err" && fail "$cmd: suggests creating a typo"
done
[ ! -e "$TMP/pulls/x" ] || fail "pull of a missing drive made its target"
expect_exit 1 '' "$COFFER" --json log PICS
grep -q "did you mean 'pics'?" "$TMP/out" || fail "no case-insensitive suggestion"
grep -q '"status":1' "$TMP/out" || fail "typo: JSON status"
expect_exit 1 '' "$COFFER" push holidays "$TMP/src"
grep -q "there is no drive 'holidays'" "$TMP/err" || fail "far name: not said missing"
grep -q "coffer drive create holidays" "$TMP/err" || fail "far name: no 'drive create'"
grep -q 'did you mean' "$TMP/err" && fail "far name: a suggestion"
# A drive that exists but lacks the version is not called missing.
expect_exit 1 '' "$COFFER" ls docs@7
grep -q 'no drive' "$TMP/err" && fail "ls docs@7 blames the drive"
grep -q 'no such version' "$TMP/err" || fail "ls docs@7: no reason"
echo "ok: typo'd drive names: 'did you mean', or 'drive create' when nothing is close"

# ---- 4. no HOME, no COFFER_HOME ----
expect_exit 1 '' env -u HOME -u COFFER_HOME -u XDG_DATA_HOME -u XDG_CACHE_HOME "$COFFER" status
grep -q 'set HOME or COFFER_HOME' "$TMP/err" || { cat "$TMP/err"; fail "no HOME: no advice"; }
grep -q 'invalid argument' "$TMP/err" && fail "no HOME: 'invalid argument'"
expect_exit 1 '' env -u HOME -u COFFER_HOME -u XDG_DATA_HOME -u XDG_CACHE_HOME "$COFFER" --json \
    account create --server "$PROXY_URL" dave
grep -q 'set HOME or COFFER_HOME' "$TMP/out" || fail "no HOME: account create"
grep -q '"status":1' "$TMP/out" || fail "no HOME: JSON status"
echo "ok: no HOME: exit 1, 'set HOME or COFFER_HOME'"

# ---- 5. unknown commands and options: exit 2, status 2 in JSON ----
for args in "bogus" "--bogus" "push --bogus" "pull docs d --bogus" \
    "log docs --bogus" "ls --bogus" "ls docs --bogus" "status --bogus" "check --bogus" \
    "drive bogus" "share"; do
	# shellcheck disable=SC2086
	expect_exit 2 '' "$COFFER" --json $args
	python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read().splitlines()[0]); assert o["status"] == 2, o' \
	    "$TMP/out" || { cat "$TMP/out"; fail "'--json $args': JSON status is not 2"; }
	# shellcheck disable=SC2086
	expect_exit 2 '' "$COFFER" $args
done
expect_exit 2 '' "$COFFER" bogus --json
grep -q '"status":2' "$TMP/out" || fail "bogus --json: status"
echo "ok: unknown commands and options: exit 2, status 2"

# ---- 6. a path in a warning is escaped like the server's text ----
# A fifo (skipped with a warning) whose name holds a C1 CSI, a bidi
# override and an ESC: the warning names it escaped, nothing raw.
expect_exit 0 "$COFFER" drive create warn
mkdir -p "$TMP/warnsrc"
echo small >"$TMP/warnsrc/f.txt"
WNAME=$(printf 'w\302\2331m\342\200\256\033[2Kx')
mkfifo "$TMP/warnsrc/$WNAME"
expect_exit 6 '' "$COFFER" push warn "$TMP/warnsrc"
no_raw "$TMP/err" "push warning"
grep -qF 'w\xc2\x9b1m\xe2\x80\xae\x1b[2Kx' "$TMP/err" ||
    { cat "$TMP/err"; fail "the fifo's name is not shown escaped"; }
echo "ok: a path in a warning is escaped (C1, bidi, ESC)"
