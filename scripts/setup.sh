#!/bin/sh
# Install the Debian 12 packages coffer needs to build and test.
# Idempotent: packages already present are skipped; running it twice is harmless.
set -eu

# For scripts/lint.sh: shellcheck.  For meson's coverage report
# (-Db_coverage=true, meson test, ninja coverage): gcovr.  For the
# peak-memory measure of e2e 96: time (/usr/bin/time).  For e2e 130 (the
# man pages render without warnings): groff-base, man-db and mandoc; for
# e2e 131 (a program outside the tree built through pkg-config):
# pkg-config.
PKGS="meson ninja-build pkg-config gcc clang llvm libclang-rt-14-dev \
libsodium-dev libsqlite3-dev libzstd-dev libmicrohttpd-dev \
libcurl4-openssl-dev libjansson-dev python3 strace time shellcheck gcovr \
groff-base man-db mandoc"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "setup: all packages present"
	exit 0
fi

echo "setup: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
