#!/bin/sh
# Adversarial (issue #5; THREATS 5, 21, 24): a server that answers for one
# drive with another drive of the same account -- a drive name pointed at
# another drive.  The directory record is signed, so the server cannot
# rename; what it can do is serve drive B's head and objects (valid,
# sealed, signed by this very device) to requests about drive A.  Through
# the proxy's alias rule:
# - "docs" (pinned at version 1) answered with "pics";
# - "fresh" (created, never pushed: no version pinned) answered with "pics";
# - only the commit of "pics" served under "docs" (objects of another drive).
# Each `coffer pull` exits 3 and writes nothing; without the rule, each
# drive pulls back exactly what was pushed to it.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull

srv_proxy_start "$TMP/data"
proxy_account
expect_exit 0 "$COFFER" --json drive create fresh
FRESH=$($F info --drive fresh | sed -n 's/^drive_id //p')
[ -n "$FRESH" ] || fail "no id for drive fresh"
$GEN 72 "$TMP/docs" --files 6 --no-big
$GEN 73 "$TMP/pics" --files 6 --no-big
push docs "$TMP/docs"
push pics "$TMP/pics"
# Both pulled once through the proxy: it has seen all of pics' answers.
pull_ok docs "$TMP/pulls/docs"
$CMP --ignore-top "$TMP/docs" "$TMP/pulls/docs" || fail "docs not exact"
pull_ok pics "$TMP/pulls/pics"
$CMP --ignore-top "$TMP/pics" "$TMP/pulls/pics" || fail "pics not exact"
rm -rf "$TMP/pulls/docs" "$TMP/pulls/pics"
mkdir "$TMP/pulls/t"
T="$TMP/pulls/t"

rules "[{\"op\": \"alias_drive\", \"from\": \"$DOCS\", \"to\": \"$PICS\"}]"
arm; pull_refused "docs answered with pics" docs "$T"
rules "[{\"op\": \"alias_drive\", \"from\": \"$FRESH\", \"to\": \"$PICS\"}]"
arm; pull_refused "fresh (never pushed) answered with pics" fresh "$T"

# Only the commit: docs' head, but its commit's bytes are pics' commit.
walk pics
PC=$(sed -n 's/^commit //p' "$TMP/walk")
walk docs
DC=$(sed -n 's/^commit //p' "$TMP/walk")
$F raw --drive pics --id "$PC" --out "$TMP/pics-commit" || fail "forge raw"
rules "[{\"op\": \"replace\", \"id\": \"$DC\", \"file\": \"$TMP/pics-commit\"}]"
arm; pull_refused "commit of pics served as the commit of docs" docs "$T"

rules '[]'
pull_ok docs "$T" --overwrite
$CMP --ignore-top "$TMP/docs" "$T" || fail "docs not exact after the attacks"
srv_stop
echo "ok: another drive's data refused"
