#!/bin/sh
# The main job, as far as it exists today.  Sets up, builds, and runs it.
#
# Now:        a sample folder's files are chunked, each chunk sealed with
#             fresh keys and opened back through libcoffer, and verified.
# Still to come (the issues that bring them):
#   #4  a cofferd server on loopback with SQLite and a local folder
#   #5  an account, `coffer push` of the folder and `coffer pull` back
#   #6  a second device joined and approved, pulling the folder, verified
set -eu
cd "$(dirname "$0")/.."

scripts/setup.sh
if [ -d build ]; then meson setup --reconfigure build >/dev/null
else meson setup build >/dev/null; fi
ninja -C build >/dev/null

SAMPLE=$(mktemp -d "${TMPDIR:-/tmp}/coffer-sample-XXXXXX")
trap 'rm -rf "$SAMPLE"' EXIT
# A sample folder: the project's own sources and docs, an empty file, a
# nested folder, and a 20 MiB file of random bytes (several chunks).
cp -r docs lib "$SAMPLE/"
mkdir -p "$SAMPLE/nested/deeper"
: > "$SAMPLE/nested/empty"
head -c 20971520 /dev/urandom > "$SAMPLE/nested/deeper/random.bin"
ln -s ../docs "$SAMPLE/nested/link-to-docs"

echo "coffer: sealing and opening every chunk of $SAMPLE"
build/cli/coffer selftest "$SAMPLE"
echo
echo "Done: chunk -> seal -> open -> verify round trip through libcoffer."
echo "Still to come: the server (issue #4), push and pull (#5), a second"
echo "device joined and approved that pulls the folder back (#6)."
