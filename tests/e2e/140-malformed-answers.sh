#!/bin/sh
# Malformed answers (docs/COVERAGE.md: the decoders' error paths of
# lib/net/client.c that no honest server reaches).  Through the proxy, a
# server answers 200 with JSON of the wrong shape to each request a pull
# or a status makes: not an object, a key missing, a number where a string
# belongs, bad hex, bad base64, a negative or fractional version, a list
# that is not one.  Each time the client exits 3 (not authentic, DESIGN
# §8), says so, and changes nothing: not its home (pins, caches, keys)
# and not the pull's target.  With the rules gone, the same commands work.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull status

srv_proxy_start "$TMP/data"
proxy_account
$GEN 140 "$TMP/src" --files 4 --no-big
push docs "$TMP/src"
pull_ok docs "$TMP/pulls/first"
expect_exit 0 "$COFFER" status
T="$TMP/pulls/t"
mkdir "$T"

# answer WHAT PATH BODY CMD...: every GET whose path ends in PATH is
# answered 200 BODY; CMD exits 3 saying the answer is not authentic, the
# proxy did answer, and neither the home nor $TMP/pulls changed.
answer() {
	_what=$1; _path=$2; _body=$3; shift 3
	rules "[{\"op\": \"status\", \"path\": \"$_path\", \"method\": \"GET\", \"code\": 200, \"body\": $_body}]"
	snapshot "$COFFER_HOME" "$TMP/home.before"
	snapshot "$TMP/pulls" "$TMP/pulls.before"
	arm
	expect_exit 3 'not authentic|malformed|tampered' "$@"
	[ "$(hits)" -gt "$ARMED" ] || fail "$_what: the proxy never answered"
	assert_unchanged "$COFFER_HOME" "$TMP/home.before" "$_what"
	assert_unchanged "$TMP/pulls" "$TMP/pulls.before" "$_what"
	echo "ok: $_what: exit 3, nothing changed"
}

# The drive's head (API §4 "Drive heads").
answer "head: not an object" '/head$' '"garbage"' "$COFFER" pull docs "$T"
answer "head: no commit" '/head$' '{"version": 1}' "$COFFER" pull docs "$T"
answer "head: commit a number" '/head$' '{"version": 1, "commit": 7}' \
    "$COFFER" pull docs "$T"
answer "head: commit not hex" '/head$' \
    "{\"version\": 1, \"commit\": \"$(printf 'zz%.0s' $(seq 32))\"}" \
    "$COFFER" pull docs "$T"
answer "head: commit too short" '/head$' '{"version": 1, "commit": "abcd"}' \
    "$COFFER" pull docs "$T"
answer "head: version negative" '/head$' \
    '{"version": -1, "commit": null}' "$COFFER" pull docs "$T"
answer "head: version fractional" '/head$' \
    '{"version": 1.5, "commit": null}' "$COFFER" pull docs "$T"
answer "head: version a string" '/head$' \
    '{"version": "1", "commit": null}' "$COFFER" pull docs "$T"

# The device chain (API §4 "Chain").
answer "chain: not an object" '/chain$' '[]' "$COFFER" status
answer "chain: entries not a list" '/chain$' \
    '{"entries": "x", "from": 0, "length": 1}' "$COFFER" status
answer "chain: an entry not base64" '/chain$' \
    '{"entries": ["!!!"], "from": 0, "length": 1}' "$COFFER" status
answer "chain: an entry a number" '/chain$' \
    '{"entries": [5], "from": 0, "length": 1}' "$COFFER" status

# The drive directory (API §4 "Drive directory").
answer "directory: record a number" '/directory$' \
    '{"version": 1, "record": 5}' "$COFFER" status
answer "directory: record not base64" '/directory$' \
    '{"version": 1, "record": "@@@"}' "$COFFER" status
answer "directory: record garbage" '/directory$' \
    '{"version": 1, "record": "AAAAAAAA"}' "$COFFER" status

# The epoch envelopes (API §4 "Envelopes").
answer "envelopes: not a list" '/envelopes$' '{"envelopes": {}}' \
    "$COFFER" status
answer "envelopes: garbage" '/envelopes$' '{"envelopes": ["AAAA"]}' \
    "$COFFER" status

rules '[]'
pull_ok docs "$T"
$CMP --ignore-top "$TMP/src" "$T" || fail "not exact once the answers are honest"
expect_exit 0 "$COFFER" status
srv_stop
echo "ok: every malformed answer refused (exit 3), nothing written"
