#!/bin/sh
# Adversarial (issue #5; THREATS 9, 11, 29): the device chain served
# shorter than this device has verified.  The forge appends a real rotate
# entry (a new epoch, signed by this device, with every envelope, as a
# trusted device would); the client verifies and pins the longer chain;
# then the proxy replays the chain answer recorded before the rotation.
# `coffer pull` and `coffer status` exit 3 and nothing is written.  (A
# chain extended by a stranger's entry: 76-adversarial-commits.sh.)
. "$(dirname "$0")/lib.sh"
need_client account drive push pull

srv_proxy_start "$TMP/data"
proxy_account
$GEN 77 "$TMP/src" --files 5 --no-big
push docs "$TMP/src"
pull_ok docs "$TMP/pulls/v1"
rm -rf "$TMP/pulls/v1"
$F rotate >"$TMP/rotate.out" || fail "forge rotate"
grep -q '^chain_length 2$' "$TMP/rotate.out" || fail "forge rotate: chain not at 2"
# The rotation is verified and pinned by the next command.
pull_ok docs "$TMP/pulls/v1"
$CMP --ignore-top "$TMP/src" "$TMP/pulls/v1" || fail "not exact after the rotation"
rm -rf "$TMP/pulls/v1"
mkdir "$TMP/pulls/t"
T="$TMP/pulls/t"

rules "[{\"op\": \"replay\", \"path\": \"/chain\$\", \"method\": \"GET\", \"match\": \"\\\"length\\\": *1[^0-9]\"}]"
arm; pull_refused "device chain rolled back to before the rotation" docs "$T"
if have_client status; then
	arm
	expect_exit 3 '' "$COFFER" status
	[ "$(hits)" -gt "$ARMED" ] || fail "status: the proxy never tampered"
	echo "ok: status: chain rollback refused (exit 3)"
fi
rules '[]'
pull_ok docs "$T"
$CMP --ignore-top "$TMP/src" "$T" || fail "not exact after the attack"
srv_stop
echo "ok: chain rollback refused"
