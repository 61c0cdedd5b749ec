#!/bin/sh
# push never stores a state that never existed and never hides what it
# left out (issue #18):
# 1. a file that changes while read (truncated, rewritten: a real change
#    between the read and the re-stat, made by tests/readhook.py through
#    push's test hook, every time, without a race) is read again; one
#    that changes on every read is left out with a warning: exit 6,
#    JSON incomplete/skipped/changed; a file the version before had keeps
#    that state, a new one is absent; never a mixed state; the server's
#    live set stays exactly the walk of each version.  A file that
#    changed once is read again and stored as it is now (exit 0).
# 2. unreadable files and folders (as an unprivileged user) and special
#    files are warned about per path, counted (text and JSON), exit 6.
# 3. a file whose read(2) fails (EIO) is left out like an unreadable one.
# 5. a missing folder or a file given as DIR is named as such, not blamed
#    on the drive; a missing drive is named alone.
. "$(dirname "$0")/lib.sh"
need_client account drive push pull ls log

srv_proxy_start "$TMP/data"
proxy_account honest
heads() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select coalesce(max(version),0) from drives").fetchone()[0])' "$TMP/data/meta.db"; }
nobj() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from objects").fetchone()[0])' "$TMP/data/meta.db"; }
jkey() { tail -1 "$TMP/out" | python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(str(v).lower() if isinstance(v,bool) else v)' "$1"; }

# ---- 5: the folder is checked before the drive, and each told apart ----
printf 'x\n' >"$TMP/afile"
mkdir "$TMP/okdir"; printf 'y\n' >"$TMP/okdir/y"
o0=$(nobj)
expect_exit 1 '' "$COFFER" push docs "$TMP/nonexistent"
grep -q "no such folder '$TMP/nonexistent'" "$TMP/err" || fail "a missing folder is not named"
grep -qi "drive" "$TMP/err" && fail "a missing folder blamed the drive"
expect_exit 1 '' "$COFFER" --json push docs "$TMP/afile"
grep -q "is not a folder" "$TMP/out" || fail "a file as DIR is not named"
grep -q '"status":1' "$TMP/out" || fail "no JSON status 1"
expect_exit 1 '' "$COFFER" push nosuchdrive "$TMP/okdir"
grep -q "no drive 'nosuchdrive'" "$TMP/err" || fail "a missing drive is not named"
grep -qi "folder" "$TMP/err" && fail "a missing drive blamed the folder"
[ "$(heads)" = 0 ] && [ "$(nobj)" = "$o0" ] || fail "a refused push stored something"
echo "ok: folder and drive errors say exactly what is wrong"

# ---- 1: changed while read ----
S="$TMP/s"
mkdir -p "$S/sub"
head -c 2000000 /dev/urandom >"$S/victim.bin"
head -c 300000 /dev/urandom >"$S/sub/stable.bin"
printf 'hello\n' >"$S/text.txt"
push docs "$S"
cp "$S/victim.bin" "$TMP/victim.v1"
# A new state of the victim, and a new file; both change after every read.
head -c 5000000 /dev/urandom >"$S/victim.bin"
head -c 4000000 /dev/urandom >"$S/fresh.bin"
printf 'changed\n' >"$S/text.txt"
H="$TMP/hook"; mkdir "$H"
python3 "$TESTS/readhook.py" "$H" "always:$S/victim.bin" "always:$S/fresh.bin" &
EXTRA_PID=$!
wait_file "$H/ready" "the read hook"
COFFER_TEST_PUSH_READ_FIFO="$H" expect_exit 6 '' "$COFFER" --json push docs "$S"
[ "$(jkey incomplete)" = true ] || fail "no incomplete: true"
[ "$(jkey changed)" = 2 ] || fail "changed is $(jkey changed), want 2"
[ "$(jkey skipped)" = 0 ] || fail "skipped is $(jkey skipped), want 0"
[ "$(jkey kept)" = 1 ] || fail "kept is $(jkey kept), want 1"
[ "$(jkey version)" = 2 ] || fail "the incomplete push is not version 2"
grep -q 'victim.bin: changed while read (3 reads): kept as it is in the version' "$TMP/err" || fail "no warning for the victim"
grep -q 'fresh.bin: changed while read (3 reads): left out of this version' "$TMP/err" || fail "no warning for the new file"
grep -q 'version 2 is incomplete: 0 entries skipped, 2 files changed while read' "$TMP/err" || fail "no summary on stderr"
[ "$(grep -c '^victim.bin$' "$H/log")" = 3 ] || fail "the victim was not read 3 times"
kill "$EXTRA_PID"; wait "$EXTRA_PID" 2>/dev/null || true; EXTRA_PID=
# The server's version 2: the victim as in version 1, no fresh.bin, the
# text file as it is now.
pull_ok docs "$TMP/pulls/v2"
cmp -s "$TMP/pulls/v2/victim.bin" "$TMP/victim.v1" || fail "the victim is not its last stored state"
[ ! -e "$TMP/pulls/v2/fresh.bin" ] || fail "a file that never stopped changing was stored"
[ "$(cat "$TMP/pulls/v2/text.txt")" = changed ] || fail "the rest of the folder is not version 2"
cmp -s "$TMP/pulls/v2/sub/stable.bin" "$S/sub/stable.bin" || fail "stable file"
expect_exit 0 "$COFFER" --json ls docs
grep -q '"name":"fresh.bin"' "$TMP/out" && fail "ls shows the file left out"
grep -q '"name":"victim.bin"' "$TMP/out" || fail "ls lost the kept file"
# Text mode: the result line says incomplete.
H2="$TMP/hook2"; mkdir "$H2"
python3 "$TESTS/readhook.py" "$H2" "always:$S/fresh.bin" &
EXTRA_PID=$!
wait_file "$H2/ready" "the read hook"
COFFER_TEST_PUSH_READ_FIFO="$H2" expect_exit 6 '' "$COFFER" push docs "$S"
grep -q 'incomplete' "$TMP/out" || fail "the text result line does not say incomplete"
grep -q 'fresh.bin: changed while read' "$TMP/err" || fail "text: no warning"
kill "$EXTRA_PID"; wait "$EXTRA_PID" 2>/dev/null || true; EXTRA_PID=
# Changed once only: read again and stored as it is now, exit 0.
H3="$TMP/hook3"; mkdir "$H3"
python3 "$TESTS/readhook.py" "$H3" "once:$S/fresh.bin" &
EXTRA_PID=$!
wait_file "$H3/ready" "the read hook"
COFFER_TEST_PUSH_READ_FIFO="$H3" expect_exit 0 "$COFFER" --json push docs "$S"
[ "$(jkey changed)" = 0 ] && ! grep -q incomplete "$TMP/out" || fail "a file read again is not complete"
[ "$(grep -c '^fresh.bin$' "$H3/log")" = 2 ] || fail "fresh.bin was not read twice"
kill "$EXTRA_PID"; wait "$EXTRA_PID" 2>/dev/null || true; EXTRA_PID=
V=$(jkey version)
pull_ok docs "$TMP/pulls/v$V"
cmp -s "$TMP/pulls/v$V/fresh.bin" "$S/fresh.bin" || fail "the re-read file is not its state now"
cmp -s "$TMP/pulls/v$V/victim.bin" "$S/victim.bin" || fail "the victim is not its state now"
# Only a file that never stops changing differs from the head: it keeps
# the head's state, so no version is made; that is said, not "version V
# is incomplete" (there is no new version to be incomplete).
touch "$S/victim.bin"		# read again, not taken from the stat cache
H4="$TMP/hook4"; mkdir "$H4"
python3 "$TESTS/readhook.py" "$H4" "always:$S/victim.bin" &
EXTRA_PID=$!
wait_file "$H4/ready" "the read hook"
COFFER_TEST_PUSH_READ_FIFO="$H4" expect_exit 6 '' "$COFFER" --json push docs "$S"
kill "$EXTRA_PID"; wait "$EXTRA_PID" 2>/dev/null || true; EXTRA_PID=
[ "$(jkey unchanged)" = true ] && [ "$(jkey version)" = "$V" ] && [ "$(heads)" = "$V" ] || fail "a push of the head's state made a version"
[ "$(jkey changed)" = 1 ] && [ "$(jkey incomplete)" = true ] || fail "unchanged: JSON counts"
grep -q "no new version; 1 files that changed while read and 0 entries skipped were left as in version $V" "$TMP/err" || { cat "$TMP/err"; fail "unchanged: the summary is not told"; }
grep -q 'is incomplete' "$TMP/err" && fail "a version that was not made is called incomplete"
grep -q 'nothing changed' "$TMP/err" && fail "a file that changed is called unchanged"
# The server's live set is exactly each version's walk: the reads thrown
# away left nothing referenced.
expect_exit 0 "$COFFER" --json log docs
N=$(wc -l <"$TMP/out")
i=0
# shellcheck disable=SC2013 # one hex commit id per line: words are lines
for c in $(sed -n 's/.*"commit":"\([0-9a-f]*\)".*/\1/p' "$TMP/out"); do
	i=$((i + 1))
	$F walk --drive docs --commit "$c" >"$TMP/walk.$i" || fail "forge walk $i"
done
python3 "$TESTS/deltas_check.py" "$TMP/data/meta.db" "$DOCS" "$TMP/walk" "$N" || fail "deltas do not rebuild the walks"
expect_exit 0 "$COFFER" check --read-data
echo "ok: a file changed while read is read again, then left out (exit 6), never stored mixed"

# ---- 3: a file whose read fails is left out, the push goes on ----
# A real EIO from read(2): /proc/PID/mem bind-mounted over a file of the
# folder (a user and mount namespace), PID the push itself: its address
# 0 is unmapped, so the read fails.  (This fails on the first read; a
# failure later in a file takes the same path in push.c.)
E="$TMP/eio"; mkdir "$E"
printf 'ok\n' >"$E/ok.txt"; : >"$E/mem.bin"
# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
if unshare -rm sh -c 'mount --bind /proc/$$/mem "$0"' "$E/mem.bin" 2>/dev/null
then
	expect_exit 0 "$COFFER" --json drive create eio
	expect_exit 6 '' unshare -rm sh -c 'mount --bind /proc/$$/mem "$0/mem.bin" && exec "$@"' "$E" "$COFFER" --json push eio "$E"
	grep -q "mem.bin: cannot read (Input/output error), skipped: left out of this version" "$TMP/err" || { cat "$TMP/out" "$TMP/err"; fail "a read error is not named with its path and cause"; }
	[ "$(jkey skipped)" = 1 ] && [ "$(jkey incomplete)" = true ] && [ "$(jkey version)" = 1 ] || fail "read error: JSON counts"
	expect_exit 0 "$COFFER" --json ls eio
	grep -q '"name":"ok.txt"' "$TMP/out" || fail "the readable file is not in the version"
	grep -q '"name":"mem.bin"' "$TMP/out" && fail "a file that failed to read is in the version"
	echo "ok: a file whose read fails is left out with its cause, exit 6"
else
	echo "SKIP: read errors: no user and mount namespace"
fi

# ---- 2: unreadable entries and special files (unprivileged) ----
AS=
if [ "$(id -u)" = 0 ]; then
	if ! command -v setpriv >/dev/null; then
		echo "SKIP: unreadable entries: root without setpriv"
		proxy_stop; srv_stop; exit 77
	fi
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups --"
	chmod 711 "$TMP"
fi
U="$TMP/u"
mkdir -m 777 "$U"
mkdir -p "$U/src/locked" "$U/src/open"
printf 'ok\n' >"$U/src/open/ok.txt"
printf 'secret v1\n' >"$U/src/secret.txt"
printf 'inside\n' >"$U/src/locked/inside.txt"
printf 'n\n' >"$U/src/never.txt"
mkfifo "$U/src/a-fifo"
[ -z "$AS" ] || chown -R 65534:65534 "$U"
mkdir -m 777 "$TMP/pulls/u"
# ux WANT ARGS...: coffer as the unprivileged user, home $U/home.
ux() {
	_want=$1; shift
	if $AS env COFFER_HOME="$U/home" "$COFFER" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	then _rc=0; else _rc=$?; fi
	[ "$_rc" = "$_want" ] || { cat "$TMP/out" "$TMP/err"; fail "unprivileged 'coffer $*' exited $_rc, want $_want"; }
}
ux 0 --json account create --server "$PROXY_URL" ursula
ux 0 --json drive create files
# Version 1: secret.txt and locked/ readable, never.txt unreadable.
chmod 000 "$U/src/never.txt"
ux 6 --json push files "$U/src"
[ "$(jkey skipped)" = 2 ] || fail "v1: skipped is $(jkey skipped), want 2 (never.txt, a-fifo)"
grep -q 'never.txt: cannot read (Permission denied), skipped: left out' "$TMP/err" || fail "no warning for an unreadable file"
grep -q 'a-fifo: special file' "$TMP/err" || fail "no warning for the fifo"
# Version 2: secret.txt and locked/ become unreadable.
chmod 000 "$U/src/secret.txt" "$U/src/locked"
ux 6 push files "$U/src"
grep -q 'secret.txt: cannot read (Permission denied), skipped: kept as it is' "$TMP/err" || fail "no warning for secret.txt"
grep -q 'locked: cannot open folder (Permission denied), skipped: kept as it is' "$TMP/err" || fail "no warning for the folder"
grep -q '4 entries skipped' "$TMP/err" || fail "the text summary does not count the skipped entries"
# Version 3 differs: then secret and locked are still as in version 1.
printf 'more\n' >>"$U/src/open/ok.txt"
ux 6 --json push files "$U/src"
[ "$(jkey incomplete)" = true ] && [ "$(jkey skipped)" = 4 ] && [ "$(jkey kept)" = 2 ] || fail "v3: JSON counts"
ux 0 --json pull files "$TMP/pulls/u/v"
[ "$(cat "$TMP/pulls/u/v/secret.txt")" = "secret v1" ] || fail "secret.txt is not its last stored state"
[ "$(cat "$TMP/pulls/u/v/locked/inside.txt")" = inside ] || fail "locked/ is not its last stored state"
[ ! -e "$TMP/pulls/u/v/never.txt" ] && [ ! -e "$TMP/pulls/u/v/a-fifo" ] || fail "an entry never read is in the version"
[ "$(cat "$TMP/pulls/u/v/open/ok.txt")" = "ok
more" ] || fail "the readable file is not its state now"
chmod -R u+rwx "$U" 2>/dev/null || true
chmod 755 "$U/src/locked" 2>/dev/null || true
echo "ok: unreadable and special entries are warned about, counted, exit 6"
proxy_stop
srv_stop
echo "ok: push is honest"
