#!/bin/sh
# Adversarial (issue #5; THREATS 19, 23, 26, 29, 30): a server that serves
# old but validly signed state.  Through the proxy, which records every
# answer and replays an older one:
# - the drive head rolled back to version 1, and to version 0 (empty),
#   after this device verified version 2;
# - version 2's commit or root tree replaced by version 1's (older, valid,
#   signed, but not the object the id names);
# - the drive directory rolled back to an older validly signed record, or
#   said not to exist; the head said to be empty;
# - a push while the head is rolled back (exit 3, the head does not move).
# Each `coffer pull` exits 3 and changes nothing on disk; with the rules
# removed the same pull succeeds and is exact.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull

srv_proxy_start "$TMP/data"
proxy_account
$GEN 71 "$TMP/src" --files 8 --no-big
push docs "$TMP/src"
walk docs
C1=$(sed -n 's/^commit //p' "$TMP/walk")
R1=$(sed -n 's/^root //p' "$TMP/walk")
printf 'version 2\n' >"$TMP/src/added-in-v2"
push docs "$TMP/src"
walk docs
C2=$(sed -n 's/^commit //p' "$TMP/walk")
R2=$(sed -n 's/^root //p' "$TMP/walk")
[ "$C1" != "$C2" ] && [ "$R1" != "$R2" ] || fail "version 2 is not new"
# This device verifies version 2 (and pins it).
pull_ok docs "$TMP/pulls/v2"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/v2" || fail "version 2 not exact"
rm -rf "$TMP/pulls/v2"
mkdir "$TMP/pulls/t"
T="$TMP/pulls/t"
HEAD="/drives/$DOCS/head\$"

# The head rolled back.
rules "[{\"op\": \"replay\", \"path\": \"$HEAD\", \"method\": \"GET\", \"match\": \"\\\"version\\\": *1[^0-9]\"}]"
arm; pull_refused "head rolled back to version 1" docs "$T"
rules "[{\"op\": \"replay\", \"path\": \"$HEAD\", \"method\": \"GET\", \"match\": \"\\\"version\\\": *0[^0-9]\"}]"
arm; pull_refused "head rolled back to version 0 (empty drive)" docs "$T"
# Even when the user asks for version 1 explicitly, the head is stale.
rules "[{\"op\": \"replay\", \"path\": \"$HEAD\", \"method\": \"GET\", \"match\": \"\\\"version\\\": *1[^0-9]\"}]"
arm; pull_refused "head rolled back, pull --version 1" docs "$T" --version 1

# A push on a rolled-back head is refused too: it would re-parent the
# user's new version on a stale line.  The server's head does not move.
printf 'version 3\n' >"$TMP/src/added-in-v3"
rules "[{\"op\": \"replay\", \"path\": \"$HEAD\", \"method\": \"GET\", \"match\": \"\\\"version\\\": *1[^0-9]\"}]"
arm
expect_exit 3 '' "$COFFER" push docs "$TMP/src"
[ "$(hits)" -gt "$ARMED" ] || fail "push: the proxy never tampered"
rules '[]'
[ "$($F info --drive docs | sed -n 's/^head_version //p')" = 2 ] ||
    fail "a refused push moved the head"
echo "ok: push on a head rolled back to version 1: refused (exit 3), head unmoved"
rm "$TMP/src/added-in-v3"

# Older valid objects in place of the current ones.
rules "[{\"op\": \"replace\", \"id\": \"$C2\", \"with_id\": \"$C1\"}]"
arm; pull_refused "commit 2 replaced by commit 1" docs "$T"
rules "[{\"op\": \"replace\", \"id\": \"$R2\", \"with_id\": \"$R1\"}]"
arm; pull_refused "root tree 2 replaced by root tree 1" docs "$T"

# The directory rolled back: the record from before "pics" was created.
DIRP="/directory\$"
rules "[{\"op\": \"replay\", \"path\": \"$DIRP\", \"method\": \"GET\", \"match\": \"\\\"version\\\": *2[^0-9]\"}]"
arm; pull_refused "drive directory rolled back to version 2" docs "$T"
rules "[{\"op\": \"status\", \"path\": \"$DIRP\", \"method\": \"GET\", \"code\": 200, \"body\": {\"version\": 0, \"record\": null}}]"
arm; pull_refused "drive directory said to be none" docs "$T"
rules "[{\"op\": \"status\", \"path\": \"$HEAD\", \"method\": \"GET\", \"code\": 200, \"body\": {\"version\": 0, \"commit\": null}}]"
arm; pull_refused "drive head said to be empty" docs "$T"

# Version 1 by --version with no tampering is still there and exact.
rules '[]'
pull_ok docs "$TMP/pulls/v1" --version 1
rm "$TMP/src/added-in-v2"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/v1" ||
    fail "version 1 by --version is not exact"
# The rules are gone: the current version is served and accepted.
pull_ok docs "$T"
srv_stop
echo "ok: every rollback refused"
