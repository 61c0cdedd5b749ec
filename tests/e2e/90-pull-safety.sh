#!/bin/sh
# pull never loses a local file (issue #18, Data):
# 1. Without --delete, a local entry of another kind than the version's
#    (a folder where the version has a file or a symlink, a file where it
#    has a folder or a symlink) stops the pull before its first write:
#    exit 1, each path named (escaped for the terminal), the target
#    unchanged to the byte and the ns (keep.txt still there).  With
#    --delete the version replaces them.  (A planted symlink is still
#    replaced without --delete: 74-adversarial-symlink.sh.)
# 2. Temporary files an interrupted pull left (.coffer-tmp-*) are removed
#    by the next pull into that folder -- only regular files of exactly
#    the pull's name form, only in folders the pull walks -- and push
#    never stores one (coffer ls), warning each (exit 0).  Temporary
#    symlinks too, never followed.  Once with names made by hand, once
#    with a real pull killed while it writes a large file.
# 3. Two pulls into one folder: the second exits 1 at once, the first
#    completes.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull ls
# A refusal exits 1, as a sanitizer report would: look for one.
no_san() {
	if grep -q 'Sanitizer\|runtime error' "$TMP/err" "$TMP/out"; then
		cat "$TMP/err"; fail "sanitizer report"
	fi
}

srv_proxy_start "$TMP/data"
proxy_account
ESCNAME=$(printf 'esc\033[31mred')

# ---- 1. entries of another kind ----
SRC="$TMP/src"
mkdir -p "$SRC/b" "$SRC/n"
printf 'version f\n' >"$SRC/f.txt"
printf 'version a\n' >"$SRC/a"		# a file; a folder in the target
printf 'in b\n' >"$SRC/b/g"		# a folder; a file in the target
ln -s target-c "$SRC/c"			# a symlink; a file in the target
ln -s target-d "$SRC/d"			# a symlink; a folder in the target
printf 'n/x\n' >"$SRC/n/x"		# deeper: a file; a folder
printf 'esc\n' >"$SRC/$ESCNAME"		# a file; a folder, named with ESC
printf 'version z\n' >"$SRC/zz.txt"
push docs "$SRC"

T="$TMP/pulls/t"
mkdir -p "$T/a" "$T/d" "$T/n/x" "$T/$ESCNAME"
printf 'keep me\n' >"$T/a/keep.txt"
printf 'old f\n' >"$T/f.txt"
printf 'mine b\n' >"$T/b"
printf 'mine c\n' >"$T/c"
printf 'keep d\n' >"$T/d/keep.txt"
printf 'keep n\n' >"$T/n/x/keep.txt"
printf 'old z\n' >"$T/zz.txt"
snapshot "$T" "$TMP/snap.t"

expect_exit 1 '' "$COFFER" pull docs "$T" --overwrite
no_san
E="$TMP/err"
for l in "a: a folder here, a file in the version" \
    "b: a file here, a folder in the version" \
    "c: a file here, a symlink in the version" \
    "d: a folder here, a symlink in the version" \
    "n/x: a folder here, a file in the version" \
    'esc\x1b[31mred: a folder here, a file in the version'; do
	grep -qF ": $l: left alone (--delete replaces it)" "$E" ||
	    { cat "$E"; fail "the refusal does not name '$l'"; }
done
grep -q '6 local entries are of another kind than in version 1.*nothing was written' "$E" ||
    { cat "$E"; fail "the refusal does not say why, or that nothing was written"; }
if grep -q "$(printf '\033')" "$E"; then fail "a raw escape byte reached the terminal"; fi
assert_unchanged "$T" "$TMP/snap.t"
[ "$(cat "$T/a/keep.txt")" = "keep me" ] || fail "keep.txt lost"
echo "ok: entries of another kind stop the pull before any write, each named"

expect_exit 1 '' "$COFFER" --json pull docs "$T" --overwrite
no_san
grep -q '"status":1' "$TMP/out" && grep -q 'nothing was written' "$TMP/out" ||
    { cat "$TMP/out"; fail "the JSON refusal is not status 1 with its reason"; }
assert_unchanged "$T" "$TMP/snap.t"

# With --delete the version replaces them, and the target is the version.
expect_exit 0 "$COFFER" pull docs "$T" --overwrite --delete
$CMP --ignore-top "$SRC" "$T" || fail "--delete did not give the version"
echo "ok: --delete replaces entries of another kind"

# ---- 2. temporary files of an interrupted pull ----
S2="$TMP/src2"
mkdir -p "$S2/sub" "$S2/sub2"
printf 'one\n' >"$S2/one"
printf 'two\n' >"$S2/sub/two"
printf 'three\n' >"$S2/sub2/three"
expect_exit 0 "$COFFER" --json drive create tmpd
push tmpd "$S2"
T2="$TMP/pulls/t2"
pull_ok tmpd "$T2"
H=0123456789abcdef
printf 'stale\n' >"$T2/.coffer-tmp-$H-0"
printf 'stale\n' >"$T2/sub/.coffer-tmp-$H-1f"
# Not of the pull's form, not a regular file, or not in a folder the
# pull walks: kept.
printf 'x\n' >"$T2/.coffer-tmp-notours"
printf 'x\n' >"$T2/.coffer-tmp-0123456789ABCDEF-0"
printf 'x\n' >"$T2/.coffer-tmp-$H-00"
printf 'x\n' >"$T2/.coffer-tmp-$H-0.txt"
mkdir "$T2/sub2/.coffer-tmp-$H-2" "$T2/extra"
printf 'x\n' >"$T2/extra/.coffer-tmp-$H-3"
# Temporary symlinks (16 hex digits only), pointing outside the target:
# removed, never followed (what they point at survives).  Of that name
# but a regular file, or a symlink with a file's name: kept.
H2=fedcba9876543210
OUT="$TMP/outside"
mkdir -p "$OUT/d"
printf 'victim\n' >"$OUT/victim"
printf 'in d\n' >"$OUT/d/x"
ln -s "$OUT/victim" "$T2/.coffer-tmp-$H"
ln -s "$OUT/d" "$T2/sub/.coffer-tmp-$H2"
printf 'x\n' >"$T2/sub2/.coffer-tmp-$H2"
ln -s "$OUT/victim" "$T2/.coffer-tmp-$H-5"
ln -s "$OUT/victim" "$T2/extra/.coffer-tmp-$H2"
snapshot "$OUT" "$TMP/snap.out"
expect_exit 0 "$COFFER" pull tmpd "$T2" --overwrite
for p in ".coffer-tmp-$H-0" "sub/.coffer-tmp-$H-1f" ".coffer-tmp-$H" \
    "sub/.coffer-tmp-$H2"; do
	[ ! -e "$T2/$p" ] && [ ! -L "$T2/$p" ] ||
	    fail "the stale temporary file $p survived --overwrite"
done
grep -q 'removed 4 temporary files left by an interrupted pull' "$TMP/err" ||
    { cat "$TMP/err"; fail "the removal is not reported"; }
for p in .coffer-tmp-notours .coffer-tmp-0123456789ABCDEF-0 ".coffer-tmp-$H-00" \
    ".coffer-tmp-$H-0.txt" "sub2/.coffer-tmp-$H-2" "extra/.coffer-tmp-$H-3" \
    "sub2/.coffer-tmp-$H2" ".coffer-tmp-$H-5" "extra/.coffer-tmp-$H2"; do
	[ -e "$T2/$p" ] || [ -L "$T2/$p" ] ||
	    fail "$p (not a temporary file of a pull here) was removed"
done
[ -L "$T2/.coffer-tmp-$H-5" ] && [ -L "$T2/extra/.coffer-tmp-$H2" ] &&
    [ -f "$T2/sub2/.coffer-tmp-$H2" ] && [ ! -L "$T2/sub2/.coffer-tmp-$H2" ] ||
    fail "a look-alike changed type"
assert_unchanged "$OUT" "$TMP/snap.out"
echo "ok: stale temporary files and symlinks removed (never followed), nothing else"

# push leaves them out (a file and a symlink of the pull's forms), with
# a warning each -- not a skipped file (nothing is lost): exit 0.
P="$TMP/src3"
mkdir -p "$P/d"
printf 'real\n' >"$P/real"
printf 'stale\n' >"$P/.coffer-tmp-$H-0"
printf 'stale\n' >"$P/d/.coffer-tmp-$H-a"
ln -s somewhere "$P/.coffer-tmp-$H"
printf 'mine\n' >"$P/.coffer-tmp-notours"
expect_exit 0 "$COFFER" --json drive create pushd
push pushd "$P"
W='a temporary file of an interrupted pull: not pushed (a pull into this folder removes it)'
for p in ".coffer-tmp-$H-0" "d/.coffer-tmp-$H-a" ".coffer-tmp-$H"; do
	grep -qF "$p: $W" "$TMP/err" ||
	    { cat "$TMP/err"; fail "push does not say it left $p out"; }
done
[ "$(grep -cF "$W" "$TMP/err")" = 3 ] ||
    { cat "$TMP/err"; fail "push warned about something else"; }
grep -q '"skipped": *0' "$TMP/out" ||
    { cat "$TMP/out"; fail "push counted a pull's temporary file as skipped"; }
expect_exit 0 "$COFFER" --json ls pushd
grep -q '"name":"real"' "$TMP/out" && grep -q '"name":".coffer-tmp-notours"' "$TMP/out" ||
    { cat "$TMP/out"; fail "ls does not list what push should keep"; }
if grep -q "coffer-tmp-$H" "$TMP/out"; then
	cat "$TMP/out"; fail "push stored a temporary file of a pull"
fi
expect_exit 0 "$COFFER" --json ls pushd d
if grep -q "coffer-tmp-$H" "$TMP/out"; then
	cat "$TMP/out"; fail "push stored a temporary file of a pull (in d/)"
fi
echo "ok: push never stores a pull's temporary file"

# A real pull of a large file, stopped (SIGSTOP) while its temporary file
# is there -- no race: catch_tmp checks the file after the stop.
B="$TMP/src4"
mkdir -p "$B"
head -c 67108864 /dev/urandom >"$B/big"
printf 'small\n' >"$B/small"
expect_exit 0 "$COFFER" --json drive create big
push big "$B"
# catch_tmp TARGET: start "pull big TARGET" as $KPID and stop it while a
# temporary file of it is in TARGET; 1 if it ended before.
catch_tmp() {
	"$COFFER" pull big "$1" >"$TMP/bg.out" 2>"$TMP/bg.err" &
	KPID=$!
	_i=0
	while :; do
		if find "$1" -maxdepth 1 -name '.coffer-tmp-*' 2>/dev/null | grep -q .; then
			kill -STOP "$KPID" 2>/dev/null || true
			find "$1" -maxdepth 1 -name '.coffer-tmp-*' | grep -q . && return 0
			kill -CONT "$KPID" 2>/dev/null || true
		fi
		kill -0 "$KPID" 2>/dev/null || { wait "$KPID" || true; return 1; }
		_i=$((_i + 1))
		[ $_i -le 100000 ] || { kill -KILL "$KPID"; fail "no temporary file appeared"; }
	done
}

# Two pulls into one folder: the second is refused at once (exit 1, named,
# nothing written); the first, resumed, completes exactly.
T4="$TMP/pulls/t4"
if catch_tmp "$T4"; then
	snapshot "$T4" "$TMP/snap.t4"
	expect_exit 1 '' "$COFFER" pull big "$T4" --overwrite --delete
	no_san
	grep -qF "another pull into $T4 is running" "$TMP/err" ||
	    { cat "$TMP/err"; kill -KILL "$KPID"; fail "the second pull does not say why"; }
	assert_unchanged "$T4" "$TMP/snap.t4"
	kill -CONT "$KPID"
	rc=0; wait "$KPID" || rc=$?
	[ $rc = 0 ] || { cat "$TMP/bg.err"; fail "the first pull failed ($rc)"; }
	$CMP --ignore-top "$B" "$T4" || fail "the first pull did not give the version"
	if find "$T4" -name '.coffer-tmp-*' | grep -q .; then fail "a temporary file was left"; fi
	echo "ok: a second pull into the same folder is refused, the first completes"
else
	echo "SKIP: two pulls: the pull ended before a temporary file could be caught (not tested)"
fi

# A killed pull (kill -9 while stopped with its temporary file there):
# pull --overwrite into the same folder removes what it left.
T3="$TMP/pulls/t3"
if catch_tmp "$T3"; then
	kill -KILL "$KPID"
	wait "$KPID" 2>/dev/null || true
	find "$T3" -maxdepth 1 -name '.coffer-tmp-*' | grep -q . || fail "the temporary file went away"
	expect_exit 0 "$COFFER" pull big "$T3" --overwrite
	if find "$T3" -maxdepth 1 -name '.coffer-tmp-*' | grep -q .; then
		ls -A "$T3"; fail "the killed pull's temporary file survived --overwrite"
	fi
	grep -q 'temporary files\{0,1\} left by an interrupted pull' "$TMP/err" ||
	    fail "the removal is not reported"
	cmp -s "$B/big" "$T3/big" || fail "the big file is not the version's"
	echo "ok: a killed pull's temporary file is removed by the next pull"
else
	echo "SKIP: killed pull: the pull ended before a temporary file could be caught (not tested here; the made-up names above test the removal)"
fi

srv_stop
echo "ok: pull safety"
