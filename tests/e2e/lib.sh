# The end-to-end scripts' one helper library (in the manner of OpenSSH's
# regress/test-exec.sh): sourced, never run, by every tests/e2e/NN-*.sh as
#	. "$(dirname "$0")/lib.sh"
# Needs COFFER_BUILD (the build folder; meson test sets it).  Gives:
#   the programs    $COFFER $COFFERD $SRVCLIENT $FORGE $FCHAIN $REMOVED,
#                   $GEN (gen_tree.py), $CMP (compare_tree.py), $TESTS
#   a scratch dir   $TMP, removed at exit with every process started here
#   the server      srv_start DATA [opts] / srv_stop / srv_kill9 /
#                   srv_restart DATA (same port) / store_copy DIR
#   its store       sql 'STATEMENT' ARGS / chain_len [ACCOUNT] / objects
#   checks          fail "reason" / expect_exit N [REASON] CMD... /
#                   wait_file FILE [WHAT]
#   coffer          coffer_in HOME N [REASON] ARGS... / key K
#   skipping        need_client CMD... (exit 77 if a command is not built)
#   devices         make_home DIR / make_account HOME DEVICE [ACCOUNT] /
#                   join_start HOME DEVICE [TIMEOUT] + join_wait RC /
#                   make_device HOME [DEVICE [APPROVER]] / device_id HOME
#   the disk        snapshot DIR FILE [nodirtime] /
#                   assert_unchanged DIR FILE [WHAT] / assert_empty_dir DIR
#   the proxy       proxy_start / proxy_stop / srv_proxy_start DATA /
#                   rules JSON / hits / arm
#   one device of   proxy_account [ACCOUNT] (drives docs, pics, through the
#   the adversarial proxy) / push / pull_ok / pull_refused / walk / field /
#   scripts         forge_setup / drive / version / refused / verified_only
#
# A refusal is checked by its exit status AND its reason:
#	expect_exit 3 'not authentic' "$COFFER" pull docs "$T"
#	coffer_in A 2 'no pending join request' --json device approve "$CODE"
# (REASON, a grep -E pattern, is looked for in stdout and stderr; '' when
# the script checks the message itself on the next lines.)
#
# This library replaces the two dialects lib.sh + devlib.sh and lib.sh +
# advlib.sh.  Old name -> new name, for a script written against them:
#   . devlib.sh / . advlib.sh        . lib.sh (one line; drop ADV_E2E)
#   run N HOME ARGS...               coffer_in HOME N [''] --json ARGS...
#   expect_rc N CMD...               expect_exit N [''] CMD...
#   $TMP/last.out, $TMP/last.err     $TMP/out, $TMP/err (both forms)
#   dev_snapshot DIR FILE            snapshot DIR FILE
#   dev_unchanged DIR FILE WHAT      assert_unchanged DIR FILE WHAT
#   dev_account HOME DEV [ACCOUNT]   make_account HOME DEV [ACCOUNT]
#   dev_join HOME [DEV [APPROVER]]   make_device HOME [DEV [APPROVER]]
#   dev_id HOME                      device_id HOME
#   new_home DIR                     make_home DIR
#   adv_account [ACCOUNT]            proxy_account [ACCOUNT]
#   srv_again DATA                   srv_restart DATA
#   $CMP (devlib: --ignore-top)      $CMP --ignore-top (say it)
#   a local fail/run/key/rules       drop it: the library's
# ([''] : the empty REASON is needed only when N is not 0.)
set -eu
: "${COFFER_BUILD:?set COFFER_BUILD to the build folder}"
# No test types at a terminal by accident: coffer asks for passphrases
# when stdin is one (tests/pty_run.py gives a test its own).
exec </dev/null
LC_ALL=C; export LC_ALL
E2E=${E2E:-$(dirname "$0")}
TESTS=$(cd "$E2E/.." && pwd)
COFFER="$COFFER_BUILD/cli/coffer"
COFFERD="$COFFER_BUILD/server/cofferd"
SRVCLIENT="$COFFER_BUILD/tests/srvclient"
FORGE="$COFFER_BUILD/tests/forge"
FCHAIN="$COFFER_BUILD/tests/forge_chain"
REMOVED="$COFFER_BUILD/tests/removed_dev"
GEN="python3 $TESTS/gen_tree.py"
CMP="python3 $TESTS/compare_tree.py"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/coffer-e2e-XXXXXX")
SRV_PID=
SRV_PORT=
SRV_URL=
PROXY_PID=
PROXY_PORT=
PROXY_URL=
PROXY_UPSTREAM=
RULES="$TMP/rules.json"
HITS="$TMP/hits.jsonl"
EXTRA_PID=
# The account every device joins (make_account sets it).
DEV_ACCOUNT=alice

# fail REASON: print and exit 1.
fail() { echo "FAIL: $*"; exit 1; }

# wait_file FILE [WHAT]: wait (at most 60 s) until FILE exists; fail
# naming WHAT if it never does.
wait_file() {
	_w=0
	while [ ! -e "$1" ]; do
		_w=$((_w + 1))
		[ $_w -le 1200 ] || fail "${2:-$1} never appeared"
		sleep 0.05
	done
}

# ---- the server ----

# srv_wait WHAT: wait for cofferd's "ready" line in $TMP/ready.
srv_wait() {
	i=0
	while ! grep -q '"ready": true' "$TMP/ready" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
			echo "cofferd did not $1"; tail -20 "$TMP/server.log"
			return 1
		fi
		sleep 0.05
	done
}

# srv_start DATA [cofferd options...]: start on 127.0.0.1:0, wait for ready.
srv_start() {
	data=$1; shift
	: >"$TMP/ready"
	"$COFFERD" --listen 127.0.0.1:0 --data "$data" "$@" \
	    >"$TMP/ready" 2>>"$TMP/server.log" &
	SRV_PID=$!
	srv_wait start
	SRV_PORT=$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$TMP/ready")
	SRV_URL="http://127.0.0.1:$SRV_PORT"
	# The proxy forwards to the server started last.
	PROXY_UPSTREAM=$SRV_URL
}

# srv_restart DATA: start cofferd again on the same port (the devices keep
# its URL).
srv_restart() {
	: >"$TMP/ready"
	"$COFFERD" --listen "127.0.0.1:$SRV_PORT" --data "$1" \
	    >"$TMP/ready" 2>>"$TMP/server.log" &
	SRV_PID=$!
	srv_wait "start again" || exit 1
}

# srv_stop: SIGTERM, and the server must exit 0.
srv_stop() {
	[ -n "$SRV_PID" ] || return 0
	kill -TERM "$SRV_PID"
	if wait "$SRV_PID"; then rc=0; else rc=$?; fi
	SRV_PID=
	if [ "$rc" != 0 ]; then
		echo "cofferd exited $rc on SIGTERM"; tail -20 "$TMP/server.log"
		return 1
	fi
	if grep -q 'Sanitizer\|runtime error' "$TMP/server.log"; then
		echo "sanitizer report in the server log"; cat "$TMP/server.log"
		return 1
	fi
}

# srv_kill9: the crash.
srv_kill9() {
	[ -n "$SRV_PID" ] || return 0
	kill -KILL "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
	SRV_PID=
}

# store_copy DIR: a consistent copy of the server's whole store (meta.db
# and packs), taken with the server stopped and started again.
store_copy() {
	srv_stop
	rm -rf "$1"
	cp -a "$TMP/data" "$1"
	srv_restart "$TMP/data"
}

# sql 'STATEMENT' ARGS...: run on the server's store ($TMP/data, or
# $SQL_DATA); x:HEX is a blob, f:PATH a file's bytes; prints the first
# column of each row (hex for blobs).
sql() {
	python3 - "${SQL_DATA:-$TMP/data}/meta.db" "$@" <<'PY'
import sqlite3, sys
db, q, args = sys.argv[1], sys.argv[2], []
for a in sys.argv[3:]:
    if a.startswith("x:"): args.append(bytes.fromhex(a[2:]))
    elif a.startswith("f:"): args.append(open(a[2:], "rb").read())
    else: args.append(a)
c = sqlite3.connect(db, timeout=30, isolation_level=None)
c.execute("PRAGMA busy_timeout = 30000")
for row in c.execute(q, args):
    v = row[0]
    print(v.hex() if isinstance(v, bytes) else v)
PY
}

# chain_len [ACCOUNT]: the length of the account's chain in the store.
chain_len() {
	sql 'select chain_len from accounts where name = ?' \
	    "${1:-$DEV_ACCOUNT}"
}

# objects [DATA]: every (drive id, object id) of the store, one "DRIVE ID"
# a line, sorted.
objects() {
	python3 - "${1:-$TMP/data}/meta.db" <<'PY' | sort
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
for d, i in c.execute("select drive, id from objects"):
    print(d.hex(), i.hex())
PY
}

# ---- running things ----

# expect_exit N [REASON] CMD...: run CMD (stdout in $TMP/out, stderr in
# $TMP/err), which must exit N, report no sanitizer finding, and, when N
# is not 0, say REASON (a grep -E pattern; '' when the script checks the
# message itself): the second argument is REASON exactly when N is not 0.
expect_exit() {
	_want=$1; shift
	_why=
	if [ "$_want" != 0 ]; then _why=$1; shift; fi
	if "$@" >"$TMP/out" 2>"$TMP/err"; then _rc=0; else _rc=$?; fi
	if grep -q 'Sanitizer\|runtime error' "$TMP/err"; then
		cat "$TMP/err"; fail "sanitizer report from '$*'"
	fi
	if [ "$_rc" != "$_want" ]; then
		echo "FAIL: '$*' exited $_rc, want $_want"
		sed 's/^/  out: /' "$TMP/out" | head -20
		sed 's/^/  err: /' "$TMP/err" | head -20
		[ -z "$PROXY_PID" ] || tail -3 "$HITS" | sed 's/^/  proxy: /'
		exit 1
	fi
	if [ -n "$_why" ] && ! cat "$TMP/out" "$TMP/err" | grep -qE -- "$_why"
	then
		sed 's/^/  out: /' "$TMP/out" | head -20
		sed 's/^/  err: /' "$TMP/err" | head -20
		fail "'$*' exited $_rc without saying '$_why'"
	fi
	return 0
}

# home_dir HOME: HOME as a path ($TMP/HOME for a bare name).
home_dir() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$TMP/$1" ;;
	esac
}

# coffer_in HOME N [REASON] ARGS...: 'coffer ARGS' with COFFER_HOME the
# home HOME ($TMP/HOME for a bare name), as expect_exit.
coffer_in() {
	_home=$(home_dir "$1"); _n=$2; shift 2
	if [ "$_n" = 0 ]; then
		expect_exit 0 env COFFER_HOME="$_home" "$COFFER" "$@"
	else
		_r=$1; shift
		expect_exit "$_n" "$_r" env COFFER_HOME="$_home" "$COFFER" "$@"
	fi
}

# key K: the value of JSON key K on the last line of $TMP/out (booleans
# as true/false).
key() {
	tail -1 "$TMP/out" | python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(str(v).lower() if isinstance(v,bool) else v)' "$1"
}

# have_client CMD...: 0 if every client command named is built (coffer
# help CMD does not say "not built yet").
have_client() {
	[ -x "$COFFER" ] || return 1
	for _c in "$@"; do
		_out=$("$COFFER" help "$_c" 2>&1) || return 1
		case $_out in *"not built yet"*) return 1 ;; esac
	done
	return 0
}

# need_client CMD...: skip the script (exit 77, saying so) only if a client
# command it needs is absent.
need_client() {
	if ! have_client "$@"; then
		echo "SKIP: needs 'coffer $*', not built yet (issue #5)"
		exit 77
	fi
}

# ---- devices: homes of one account on one server ----

# make_home DIR: a fresh client home (mode 700), no passphrase.
make_home() {
	mkdir -p "$1"
	chmod 700 "$1"
}

# make_account HOME DEVICE [ACCOUNT]: a new home $TMP/HOME that creates the
# account (default alice) on $SRV_URL.  Sets ACCT (its id) and RK (its
# recovery key).
make_account() {
	DEV_ACCOUNT=${3:-alice}
	mkdir -m 700 "$TMP/$1"
	coffer_in "$1" 0 --json account create --server "$SRV_URL" \
	    "$DEV_ACCOUNT" --name "$2"
	ACCT=$(key account_id)
	RK=$(key recovery_key)
}

# join_start HOME DEVICE [TIMEOUT [URL]]: 'device join' of a new home in
# the background (to URL, e.g. $PROXY_URL; default the server); waits for
# the pairing code (its first line) into $CODE.
join_start() {
	mkdir -m 700 "$TMP/$1"; rm -f "$TMP/join.rc" "$TMP/join.out"
	( COFFER_HOME="$TMP/$1" "$COFFER" --json device join \
	    --server "${4:-$SRV_URL}" \
	    "$DEV_ACCOUNT" --name "$2" --timeout "${3:-60}" >"$TMP/join.out" \
	    2>"$TMP/join.err" && rc=0 || rc=$?
	  echo "$rc" >"$TMP/join.rc" ) &
	JOIN_PID=$!
	i=0
	while ! grep -q pairing_code "$TMP/join.out" 2>/dev/null; do
		i=$((i + 1)); [ $i -le 600 ] || fail "no pairing code"; sleep 0.1
	done
	CODE=$(head -1 "$TMP/join.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pairing_code"])')
}

# join_wait RC: the background join must end with exit RC; sets JOINED
# (the new device's id) when RC is 0.
join_wait() {
	wait "$JOIN_PID" || true
	i=0
	while [ ! -s "$TMP/join.rc" ]; do
		i=$((i + 1)); [ $i -le 900 ] || fail "join did not end"; sleep 0.1
	done
	if [ "$(cat "$TMP/join.rc")" != "$1" ]; then
		cat "$TMP/join.out" "$TMP/join.err"
		[ ! -s "$HITS" ] || tail -3 "$HITS"
		fail "join exited $(cat "$TMP/join.rc"), want $1"
	fi
	JOINED=
	if [ "$1" = 0 ]; then
		JOINED=$(tail -1 "$TMP/join.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["device_id"])')
	fi
}

# make_device HOME [DEVICE [APPROVER]]: a new home joined and approved by
# APPROVER (default A); sets JOINED.
make_device() {
	join_start "$1" "${2:-$1}"
	coffer_in "${3:-A}" 0 --json device approve "$CODE"
	join_wait 0
}

# device_id HOME: this device's id, from 'device list'.
device_id() {
	COFFER_HOME="$TMP/$1" "$COFFER" --json device list 2>/dev/null | python3 -c \
	    'import json,sys; print([d["id"] for d in json.load(sys.stdin)["devices"] if d["this_device"]][0])'
}

# ---- the disk: what a refused command must leave alone ----

# snapshot DIR FILE [nodirtime]: every name, type, mode, size, mtime (ns)
# and content hash (symlinks: their target) under DIR into FILE, so that a
# refused command can be shown to have changed nothing (assert_unchanged)
# and left no temporary file.  With nodirtime, folders' mtimes are left
# out (the first line of FILE records the mode).
snapshot() {
	python3 -S - "$1" "${3:-}" >"$2" <<'EOF'
import hashlib, os, stat, sys
root = os.fsencode(sys.argv[1])
nodirtime = sys.argv[2] == "nodirtime"
print("# snapshot", sys.argv[2] or "all")
for d, dirs, files in os.walk(root):
    dirs.sort()
    for n in sorted(dirs + files) + [b""]:
        p = os.path.join(d, n) if n else d
        st = os.lstat(p)
        h = ""
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                h = hashlib.sha256(f.read()).hexdigest()
        elif stat.S_ISLNK(st.st_mode):
            h = os.readlink(p).hex()
        t = st.st_mtime_ns
        if stat.S_ISDIR(st.st_mode):
            t = "-" if nodirtime else t
            st_size = 0
        else:
            st_size = st.st_size
        print(repr(p), oct(st.st_mode), st_size, t, h)
EOF
}

# assert_unchanged DIR FILE [WHAT]: DIR is exactly as snapshot FILE (taken
# the same way) says, after WHAT (default: a refused command).
assert_unchanged() {
	_mode=$(sed -n '1s/^# snapshot //p' "$2")
	[ "$_mode" = all ] && _mode=
	snapshot "$1" "$TMP/snap.now" "$_mode"
	if ! cmp -s "$2" "$TMP/snap.now"; then
		diff "$2" "$TMP/snap.now" | head -20
		fail "$1 changed after ${3:-a refused command}"
	fi
}

# assert_empty_dir DIR: DIR exists and holds nothing at all (no temporary
# files).
assert_empty_dir() {
	[ -d "$1" ] || fail "$1 is gone"
	_left=$(ls -A "$1")
	[ -z "$_left" ] || fail "$1 is not empty after a refused pull: $_left"
}

# ---- the man-in-the-middle proxy (tests/proxy.py) ----

# proxy_start: start proxy.py on a free port with an empty rule set.
proxy_start() {
	echo '{}' >"$RULES"
	: >"$HITS"
	: >"$TMP/proxy.ready"
	python3 "$TESTS/proxy.py" --rules "$RULES" --hits "$HITS" \
	    >"$TMP/proxy.ready" 2>>"$TMP/proxy.log" &
	PROXY_PID=$!
	i=0
	while ! grep -q '"ready": true' "$TMP/proxy.ready" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$PROXY_PID" 2>/dev/null; then
			echo "proxy did not start"; cat "$TMP/proxy.log"; return 1
		fi
		sleep 0.05
	done
	PROXY_PORT=$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$TMP/proxy.ready")
	PROXY_URL="http://127.0.0.1:$PROXY_PORT"
}

# rules JSON_RULES: install a rule list in front of $PROXY_UPSTREAM (the
# server started last: a script may point SRV_URL at the proxy).
rules() {
	RULES_GEN=$((${RULES_GEN:-0} + 1))
	printf '{"gen": %d, "upstream": "%s", "rules": %s}\n' "$RULES_GEN" \
	    "${PROXY_UPSTREAM:-$SRV_URL}" "$1" >"$RULES.new"
	# Renamed into place whole; the proxy compares the bytes, and the
	# generation makes each call's bytes new (no wait on the file clock).
	mv "$RULES.new" "$RULES"
}

# hits: the number of times a rule was applied so far.
hits() { wc -l <"$HITS" | tr -d ' '; }

# arm: remember the hits so far (pull_refused checks a rule applied since).
arm() { ARMED=$(hits); }

proxy_stop() {
	[ -n "$PROXY_PID" ] || return 0
	kill -TERM "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
	PROXY_PID=
}

# srv_proxy_start DATA: the proxy, then cofferd answering to the proxy's
# origin (the client signs for the URL it talks to), then the upstream.
srv_proxy_start() {
	proxy_start
	srv_start "$1" --origin "$PROXY_URL"
	rules '[]'
}

cleanup() {
	proxy_stop
	if [ -n "$SRV_PID" ]; then kill -KILL "$SRV_PID" 2>/dev/null || true; fi
	if [ -n "$EXTRA_PID" ]; then kill -KILL "$EXTRA_PID" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# ---- one device, one account, two drives, all through the proxy ----

# proxy_account [ACCOUNT]: COFFER_HOME ($TMP/home, exported), account
# ACCOUNT (default "carol") with drives "docs" and "pics", created through
# the proxy (so the client's server URL is the proxy's).  Sets F (the forge
# with its context), DOCS and PICS (drive ids).
proxy_account() {
	ACCOUNT=${1:-carol}
	COFFER_HOME="$TMP/home"
	export COFFER_HOME
	make_home "$COFFER_HOME"
	expect_exit 0 "$COFFER" --json account create --server "$PROXY_URL" "$ACCOUNT"
	expect_exit 0 "$COFFER" --json drive create docs
	DOCS=$(sed -n 's/.*"drive_id": *"\([0-9a-f]*\)".*/\1/p' "$TMP/out")
	expect_exit 0 "$COFFER" --json drive create pics
	PICS=$(sed -n 's/.*"drive_id": *"\([0-9a-f]*\)".*/\1/p' "$TMP/out")
	F="$FORGE --server $PROXY_URL --home $COFFER_HOME --account $ACCOUNT"
	if [ -z "$DOCS" ] || [ -z "$PICS" ]; then
		DOCS=$($F info --drive docs | sed -n 's/^drive_id //p')
		PICS=$($F info --drive pics | sed -n 's/^drive_id //p')
	fi
	[ -n "$DOCS" ] && [ -n "$PICS" ] || fail "no drive ids"
	mkdir -p "$TMP/pulls"
}

# push DRIVE DIR: must succeed.
push() { expect_exit 0 "$COFFER" --json push "$1" "$2"; }

# walk DRIVE [COMMIT]: the forge's listing of the head version (or COMMIT)
# into $TMP/walk; then field KIND N prints the N-th id of that kind.
walk() {
	if [ -n "${2:-}" ]; then
		$F walk --drive "$1" --commit "$2" >"$TMP/walk" || fail "forge walk"
	else
		$F walk --drive "$1" >"$TMP/walk" || fail "forge walk"
	fi
}
field() { awk -v k="$1" -v n="$2" '$1 == k { i++; if (i == n) { print $2; exit } }' "$TMP/walk"; }

# pull_ok DRIVE TARGET [ARGS]: exit 0.
pull_ok() {
	_drv=$1; _tgt=$2; shift 2
	expect_exit 0 "$COFFER" pull "$_drv" "$_tgt" "$@"
}

# verified_only ROOT SNAP TARGET SRC: everything under ROOT is either as
# in SNAP (a snapshot taken with nodirtime) or, under TARGET, exactly the
# version's entry of the same name in SRC (type, bytes, symlink target):
# a refused pull may have renamed into place files whose every chunk it
# had verified (DESIGN §7), and nothing else -- no temporary file, no
# file with an unverified chunk, nothing removed.
verified_only() {
	if python3 -S - "$@" <<'EOF'
import hashlib, os, stat, sys
root, snap, tgt, src = (os.fsencode(x) for x in sys.argv[1:5])
before = {}
for line in open(snap, "rb").read().decode("latin-1").splitlines():
    if line.startswith("# snapshot"):
        continue
    parts = line.rsplit(" ", 4)
    before[eval(parts[0])] = parts
def sha(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
bad, now = [], set()
for d, dirs, files in os.walk(root):
    for n in dirs + files + [b""]:
        p = os.path.join(d, n) if n else d
        now.add(p)
        st = os.lstat(p)
        t = stat.S_IFMT(st.st_mode)
        old = before.get(p)
        if old is not None:
            if t == stat.S_IFDIR and stat.S_ISDIR(int(old[-4], 8)):
                continue
            if t == stat.S_IFREG and old[-1] == sha(p) and old[-4] == oct(st.st_mode):
                continue
            if t == stat.S_IFLNK and old[-1] == os.readlink(p).hex():
                continue
        if not (p + b"/").startswith(tgt + b"/"):
            bad.append((p, "changed outside the target"))
            continue
        rel = os.path.relpath(p, tgt)
        q = os.path.join(src, rel) if rel != b"." else src
        try:
            sq = os.lstat(q)
        except OSError:
            bad.append((p, "not in the version (a temporary file?)"))
            continue
        if stat.S_IFMT(sq.st_mode) != t:
            bad.append((p, "not the version's type"))
        elif t == stat.S_IFREG and sha(p) != sha(q):
            bad.append((p, "contents not the version's (unverified data?)"))
        elif t == stat.S_IFLNK and os.readlink(p) != os.readlink(q):
            bad.append((p, "symlink target not the version's"))
for p in before:
    if p not in now:
        bad.append((p, "removed by a refused pull"))
for p, why in bad[:20]:
    print("  %r: %s" % (p, why))
sys.exit(1 if bad else 0)
EOF
	then
		return 0
	fi
	fail "a refused pull left something that is not the verified version"
}

# pull_refused WHAT DRIVE TARGET [ARGS]: `coffer pull` exits 3 and nothing
# changed in $TMP/pulls (the target and its neighbours: no temporary file,
# nothing unverified), and the proxy applied at least one rule since the
# last call to arm (the attack happened).  Strict: not even a folder's
# mtime may change, since pull verifies the commit and every tree before
# it touches the target (DESIGN §7).  With TOUCH_OK=1 (a bad chunk: pull
# writes each file under a temporary name and renames it once its chunks
# are verified) the target may hold files of the version $ADV_SRC that
# were completely verified, and nothing else (verified_only).
pull_refused() {
	_what=$1; _drv=$2; _tgt=$3; shift 3
	_was_empty=
	[ -n "$(ls -A "$_tgt")" ] || _was_empty=1
	if [ -n "${TOUCH_OK:-}" ]; then
		snapshot "$TMP/pulls" "$TMP/snap.before" nodirtime
	else
		snapshot "$TMP/pulls" "$TMP/snap.before"
	fi
	if "$COFFER" pull "$_drv" "$_tgt" "$@" >"$TMP/pull.out" 2>"$TMP/pull.err"
	then
		_rc=0
	else
		_rc=$?
	fi
	if [ -n "${ARMED:-}" ] && [ "$(hits)" -le "$ARMED" ]; then
		fail "$_what: the proxy never tampered (test defect: no attack happened)"
	fi
	if [ "$_rc" != 3 ]; then
		sed 's/^/  err: /' "$TMP/pull.err" | head -10
		tail -3 "$HITS" | sed 's/^/  proxy: /'
		fail "$_what: pull exited $_rc, want 3"
	fi
	if [ -n "${TOUCH_OK:-}" ]; then
		verified_only "$TMP/pulls" "$TMP/snap.before" "$_tgt" "${ADV_SRC:?}"
		# What a refused pull left must be the version's, verified:
		# start the next case from an empty target again.
		if [ -n "$_was_empty" ]; then
			rm -rf "$_tgt"; mkdir "$_tgt"
		fi
	else
		assert_unchanged "$TMP/pulls" "$TMP/snap.before"
	fi
	if [ -n "${ARMED:-}" ]; then
		[ "$(hits)" -gt "$ARMED" ] || fail "$_what: the proxy never tampered"
	fi
	echo "ok: $_what: refused (exit 3), nothing written"
}

# ---- versions made by the forge (73-, 76-adversarial-*.sh) ----

# forge_setup: after proxy_account: a folder "outside" ($OUT) next to the
# target $T, so that every refused pull's snapshot of $TMP/pulls covers it
# too; no proxy rule to check (ARMED empty).
forge_setup() {
	OUT="$TMP/pulls/outside"
	mkdir -p "$OUT/dir"
	printf 'victim\n' >"$OUT/victim"
	snapshot "$OUT" "$TMP/snap.outside"
	mkdir "$TMP/pulls/t"
	T="$TMP/pulls/t"
	printf 'pwned\n' >"$TMP/pwned"
	ARMED=
}

# drive NAME: a new drive; sets CH (a 6-byte chunk "pwned\n" stored in it)
# and SUB (a stored subtree holding the file "pwned").
drive() {
	expect_exit 0 "$COFFER" --json drive create "$1"
	CH=$($F put --drive "$1" --type chunk --in "$TMP/pwned" | sed -n 's/^id //p')
	[ -n "$CH" ] || fail "forge put chunk"
	"$FORGE" tree --out "$TMP/sub" --entry "file:pwned:644:1700000000.1:$CH/6"
	SUB=$($F put --drive "$1" --type tree --in "$TMP/sub" | sed -n 's/^id //p')
	[ -n "$SUB" ] || fail "forge put tree"
}

# version NAME SPEC...: a version of drive NAME whose root tree has the
# entries SPEC (forge tree syntax; CHUNK stands for the chunk, SUB for the
# subtree id), committed by this device.  Sets ROOT and COMMIT.
version() {
	d=$1; shift
	# shellcheck disable=SC2046 # one word per --entry and spec, split on purpose
	set -- $(for s in "$@"; do printf '%s\n' "$s" |
	    sed "s|CHUNK|$CH/6|; s|SUB|$SUB|; s|OUTSIDE|$OUT|" |
	    sed 's/^/--entry /'; done)
	"$FORGE" tree --out "$TMP/root" "$@" || fail "forge tree"
	ROOT=$($F put --drive "$d" --type tree --in "$TMP/root" | sed -n 's/^id //p')
	[ -n "$ROOT" ] || fail "forge put root"
	COMMIT=$($F commit --drive "$d" --root "$ROOT" --start "$ROOT" \
	    --start "$CH" --start "$SUB" | sed -n 's/^commit //p')
	[ -n "$COMMIT" ] || fail "forge commit"
}

# refused WHAT DRIVE: pull exits 3, nothing changed, nothing outside
# ($OUT is inside the folder pull_refused snapshots).
refused() {
	pull_refused "$1" "$2" "$T"
}
