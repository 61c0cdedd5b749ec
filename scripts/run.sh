#!/bin/sh
# The main job of coffer, for real, on the embedded default: set up and
# build, start a cofferd on loopback (SQLite + a local folder), create an
# account on a first device ("laptop"), create a drive and push a sample
# folder, join a second device ("phone") approved by the first, pull the
# folder there, and verify it byte for byte -- contents, modes, mtimes,
# symlinks, empty folders.  Both devices then show the same safety code.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

scripts/setup.sh
if [ -d build ]; then meson setup --reconfigure build >/dev/null
else meson setup build >/dev/null; fi
ninja -C build >/dev/null
B="$ROOT/build"
COFFER="$B/cli/coffer"

W=$(mktemp -d "${TMPDIR:-/tmp}/coffer-run-XXXXXX")
SRV=""
cleanup() {
	if [ -n "$SRV" ]; then kill -TERM "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null || true; fi
	rm -rf "$W"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

step "a sample folder (seeded: every kind of entry)"
python3 tests/gen_tree.py 42 "$W/sample"
cp -r docs "$W/sample/project-docs"
echo "$(find "$W/sample" | wc -l) entries in $W/sample"

step "cofferd on loopback, data in $W/data"
"$B/server/cofferd" --listen 127.0.0.1:0 --data "$W/data" >"$W/ready" 2>"$W/server.log" &
SRV=$!
i=0
until grep -q '"ready": true' "$W/ready" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "cofferd did not start"; cat "$W/server.log"; exit 1; }
	sleep 0.1
done
URL="http://127.0.0.1:$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$W/ready")"
echo "server: $URL"

mkdir -m 700 "$W/laptop" "$W/phone"
laptop() { COFFER_HOME="$W/laptop" "$COFFER" "$@"; }
phone() { COFFER_HOME="$W/phone" "$COFFER" "$@"; }

step "laptop: account create, drive create, push"
laptop account create --server "$URL" demo --name laptop
laptop drive create docs
laptop push docs "$W/sample"

step "phone: device join, approved on the laptop"
phone --json device join --server "$URL" demo --name phone --timeout 120 >"$W/join" &
JOIN=$!
i=0
until grep -q pairing_code "$W/join" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 300 ] || { echo "no pairing code"; exit 1; }
	sleep 0.1
done
CODE=$(head -1 "$W/join" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pairing_code"])')
echo "pairing code shown on the phone: $CODE"
laptop device approve "$CODE"
wait "$JOIN"
tail -1 "$W/join"
laptop device list

step "phone: pull, and verify byte for byte"
phone pull docs "$W/restored"
python3 tests/compare_tree.py --ignore-top "$W/sample" "$W/restored"

step "safety codes (equal when the server shows both devices one world)"
a=$(laptop --json status | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["safety_code"])')
b=$(phone --json status | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["safety_code"])')
echo "laptop: $a   phone: $b"
[ "$a" = "$b" ] || { echo "safety codes differ"; exit 1; }

kill -TERM "$SRV"; wait "$SRV"; SRV=""
echo
echo "main job: verified (pushed on the laptop, pulled on the phone, identical)"
