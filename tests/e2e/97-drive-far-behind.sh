#!/bin/sh
# A device far behind on a drive syncs in pages (issue #18): a line of
# commits longer than one call verifies (CF_HISTORY_LINE_MAX, 65,536) was
# refused for good (ETOOBIG); now it is walked back from the head by
# parent ids (ids only kept) and verified forward from the pin one page
# at a time, each page from the head the one before accepted, the
# removals' records over the whole line at the end; nothing is pinned
# unless all of it verifies.  Making 65,537 versions takes too long here:
# COFFER_TEST_LINE_PAGE lowers the page (it never raises it), so a device
# 40 versions behind crosses pages of 16 (and of 1).  Through the proxy,
# a server that drops or reorders a commit of a page fetch, at the
# boundary between two pages or inside one, or swaps in another commit,
# is refused: exit 3, the device's drive pin unchanged.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull device

# drive_pin HOME: the version of HOME's only drive pin (FORMAT §19.3; not the
# last-looked mark beside it, §19.7).
drive_pin() {
	python3 -c 'import glob,sys; f=[g for g in glob.glob(sys.argv[1]+"/drives/*") if not g.endswith(".looked")]; assert len(f)==1; b=open(f[0],"rb").read(); assert b[:4]==b"CFDH"; print(int.from_bytes(b[53:61],"big"))' "$TMP/$1"
}

srv_proxy_start "$TMP/data"
make_home "$TMP/A"
coffer_in A 0 --json account create --server "$PROXY_URL" alice --name laptop
coffer_in A 0 --json drive create docs
mkdir "$TMP/src"
echo 1 >"$TMP/src/v"
coffer_in A 0 --json push docs "$TMP/src"

# B joins and pulls version 1.
join_start B phone 60 "$PROXY_URL"
coffer_in A 0 --json device approve "$CODE"
join_wait 0
coffer_in B 0 --json pull docs "$TMP/b1"
[ "$(drive_pin B)" = 1 ] || fail "B's pin: $(drive_pin B), want 1"

# A makes 40 more versions while B looks away.
v=2
while [ $v -le 41 ]; do
	echo $v >"$TMP/src/v"
	coffer_in A 0 --json push docs "$TMP/src"
	v=$((v + 1))
done
rm -rf "$TMP/B.behind"
cp -a "$TMP/B" "$TMP/B.behind"
# behind: B as it was before the pushes (40 versions behind).
behind() { rm -rf "$TMP/B"; cp -a "$TMP/B.behind" "$TMP/B"; }

# refused WHAT PAGE RULE: B's pull, verifying PAGE commits at a time,
# exits 3 through RULE, which the proxy applied; B's files are unchanged.
refused() {
	behind
	snapshot "$TMP/B" "$TMP/b.before"
	rules "[$3]"
	arm
	rm -rf "$TMP/bt"
	COFFER_TEST_LINE_PAGE=$2 coffer_in B 3 '' --json pull docs "$TMP/bt"
	[ "$(hits)" -gt "$ARMED" ] || fail "$1: the proxy never tampered (test defect)"
	grep -q "not authentic" "$TMP/out" || { cat "$TMP/out"; fail "$1: no reason given"; }
	assert_unchanged "$TMP/B" "$TMP/b.before"
	[ ! -e "$TMP/bt/v" ] || fail "$1: a file was written"
	rules '[]'
	echo "ok: $1: refused (exit 3), B's pin unchanged"
}
# Pages of 16: versions 2-17 come from the walk back, 18-33 and 34-41 are
# fetched again, 16 and 8 commits at once (a page fetch: min_items 2).
refused "the first commit of the second page dropped" 16 \
    '{"op": "drop", "nth": 0, "min_items": 2, "times": 1}'
refused "the last commit of the second page dropped (the boundary to the third)" 16 \
    '{"op": "drop", "nth": 15, "min_items": 16, "times": 1}'
refused "the first two commits of the second page swapped" 16 \
    '{"op": "swap", "nth": 0, "min_items": 2, "times": 1}'
refused "two commits inside the second page swapped" 16 \
    '{"op": "swap", "nth": 3, "min_items": 8, "times": 1}'
refused "the two commits of a page of 2 swapped" 2 \
    '{"op": "swap", "nth": 0, "min_items": 2, "times": 1}'

# Honest: B syncs from 40 versions behind in pages of 16, of 1, and of
# the whole line (a value above the maximum is ignored), and pulls the
# newest version.
for page in 16 1 1000000; do
	behind
	rm -rf "$TMP/bp"
	COFFER_TEST_LINE_PAGE=$page coffer_in B 0 --json pull docs "$TMP/bp"
	[ "$(drive_pin B)" = 41 ] || fail "page $page: B's pin is $(drive_pin B), want 41"
	[ "$(cat "$TMP/bp/v")" = 41 ] || fail "page $page: pulled the wrong version"
	# The pinned line is the real one: version 30 pulls.
	rm -rf "$TMP/b30"
	coffer_in B 0 --json pull docs "$TMP/b30" --version 30
	[ "$(cat "$TMP/b30/v")" = 30 ] || fail "page $page: version 30 is wrong"
	echo "ok: 40 versions behind, pages of $page: synced to 41, verified"
done
srv_stop
echo "ok: a device far behind syncs in pages"
