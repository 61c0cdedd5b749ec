#!/bin/sh
# Install the Debian 12 packages the benchmark needs on top of the build's
# (scripts/setup.sh): restic and borg to compare against, GNU time for the
# peak RSS, python3 for the dataset, perf and valgrind for the profiles.
# Idempotent: packages already present are skipped; apt-get update runs
# at most once, and only if something is missing.
set -eu
cd "$(dirname "$0")/.."

scripts/setup.sh

PKGS="restic borgbackup time python3 linux-perf valgrind"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "bench/setup: all packages present"
	exit 0
fi

echo "bench/setup: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
