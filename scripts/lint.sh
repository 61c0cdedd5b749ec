#!/bin/sh
# Lint: functions the house style bans (STYLE.md) must not appear in the
# project's C code.  Prints each offending line and exits 1 if any.
set -u
cd "$(dirname "$0")/.."
banned='\b(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol|atoll|strtok|tmpnam|mktemp)[[:space:]]*\('
found=$(grep -rnE "$banned" --include='*.c' --include='*.h' \
    include lib cli server tests fuzz bench 2>/dev/null)
if [ -n "$found" ]; then
	echo "banned functions (use snprintf, memcpy with a checked length, strtoul with range checks, strtok_r, mkstemp):"
	echo "$found"
	exit 1
fi
# memcmp on secrets: MACs, tags and key commitments are compared in constant time.
found=$(grep -rnE '(^|[^_[:alnum:]])memcmp\([^)]*(mac|tag|cmt|commit)' --include='*.c' lib 2>/dev/null)
if [ -n "$found" ]; then
	echo "memcmp near a MAC/tag/commitment in lib/ (use crypto_verify_32 or sodium_memcmp):"
	echo "$found"
	exit 1
fi
echo "lint: clean"
