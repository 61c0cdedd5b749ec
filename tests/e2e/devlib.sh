# Shared by the trusted-device scripts (8N-devices-*.sh), on top of lib.sh:
# several COFFER_HOMEs ($TMP/NAME) of one account on one real cofferd,
# joined and approved through the real client; edits of the server's own
# store (docs/STORAGE.md).  Sourced, not run.
. "$(dirname "$0")/lib.sh"
TESTS=$(cd "$(dirname "$0")/.." && pwd)
COFFER="$COFFER_BUILD/cli/coffer"
FORGE="$COFFER_BUILD/tests/forge"
FCHAIN="$COFFER_BUILD/tests/forge_chain"
REMOVED="$COFFER_BUILD/tests/removed_dev"
GEN="python3 $TESTS/gen_tree.py"
CMP="python3 $TESTS/compare_tree.py --ignore-top"
# The account every device joins (dev_account sets it).
DEV_ACCOUNT=alice

fail() { echo "FAIL: $*"; exit 1; }
LC_ALL=C; export LC_ALL

# run WANT HOME CMD...: 'coffer --json CMD' in device HOME ($TMP/HOME) must
# exit WANT; stdout in $TMP/out, stderr in $TMP/err.
run() {
	want=$1; home=$2; shift 2
	if COFFER_HOME="$TMP/$home" "$COFFER" --json "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	then rc=0; else rc=$?; fi
	if grep -q 'Sanitizer\|runtime error' "$TMP/err"; then
		echo "FAIL: sanitizer report from '$home: coffer $*'"; cat "$TMP/err"; exit 1
	fi
	if [ "$rc" != "$want" ]; then
		echo "FAIL: '$home: coffer $*' exited $rc, want $want"; cat "$TMP/out" "$TMP/err"
		exit 1
	fi
}

# key K: the value of JSON key K on the last line of $TMP/out (booleans
# as true/false).
key() {
	tail -1 "$TMP/out" | python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(str(v).lower() if isinstance(v,bool) else v)' "$1"
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

# chain_len [NAME]: the length of the account's chain in the server's store.
chain_len() { sql 'select chain_len from accounts where name = ?' "${1:-$DEV_ACCOUNT}"; }

# dev_account HOME DEVICE [NAME]: a new home that creates the account
# (default alice) on $SRV_URL.  Sets ACCT (its id) and RK (its recovery key).
dev_account() {
	DEV_ACCOUNT=${3:-alice}
	mkdir -m 700 "$TMP/$1"
	run 0 "$1" account create --server "$SRV_URL" "$DEV_ACCOUNT" --name "$2"
	ACCT=$(key account_id)
	RK=$(key recovery_key)
}

# join_start HOME DEVICE [TIMEOUT]: 'device join' of a new home in the
# background; waits for the pairing code (its first line) into $CODE.
join_start() {
	mkdir -m 700 "$TMP/$1"; rm -f "$TMP/join.rc" "$TMP/join.out"
	( COFFER_HOME="$TMP/$1" "$COFFER" --json device join --server "$SRV_URL" \
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
	[ "$(cat "$TMP/join.rc")" = "$1" ] || { cat "$TMP/join.out" "$TMP/join.err"; fail "join exited $(cat "$TMP/join.rc"), want $1"; }
	JOINED=
	if [ "$1" = 0 ]; then
		JOINED=$(tail -1 "$TMP/join.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["device_id"])')
	fi
}

# dev_join HOME [DEVICE [APPROVER]]: a new home joined and approved by
# APPROVER (default A); sets JOINED.
dev_join() {
	join_start "$1" "${2:-$1}"
	run 0 "${3:-A}" device approve "$CODE"
	join_wait 0
}

# dev_id HOME: this device's id, from 'device list'.
dev_id() {
	COFFER_HOME="$TMP/$1" "$COFFER" --json device list 2>/dev/null | python3 -c \
	    'import json,sys; print([d["id"] for d in json.load(sys.stdin)["devices"] if d["this_device"]][0])'
}

# srv_again DATA: start cofferd again on the same port (the devices keep its URL).
srv_again() {
	: >"$TMP/ready"
	"$COFFERD" --listen "127.0.0.1:$SRV_PORT" --data "$1" >"$TMP/ready" 2>>"$TMP/server.log" &
	SRV_PID=$!
	i=0
	while ! grep -q '"ready": true' "$TMP/ready" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
			echo "cofferd did not start again"; tail "$TMP/server.log"; exit 1
		fi
		sleep 0.05
	done
}

# store_copy DIR: a consistent copy of the server's whole store (meta.db
# and packs), taken with the server stopped and started again.
store_copy() {
	srv_stop
	rm -rf "$1"
	cp -a "$TMP/data" "$1"
	srv_again "$TMP/data"
}

# objects [DATA]: every (drive id, object id) of the store, one "DRIVE ID"
# a line, sorted.
objects() {
	SQL_DATA=${1:-$TMP/data} python3 - "${1:-$TMP/data}/meta.db" <<'PY' | sort
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
for d, i in c.execute("select drive, id from objects"):
    print(d.hex(), i.hex())
PY
}

# assert_same_tree SNAP DIR: DIR is exactly as snapshot SNAP (lib's
# snapshot format, via python: names, modes, sizes, mtimes, hashes).
dev_snapshot() {
	python3 -S - "$1" >"$2" <<'EOF'
import hashlib, os, sys
root = sys.argv[1]
for d, dirs, files in os.walk(root):
    dirs.sort()
    for n in sorted(dirs + files) + [""]:
        p = os.path.join(d, n) if n else d
        st = os.lstat(p)
        h = ""
        if os.path.isfile(p) and not os.path.islink(p):
            h = hashlib.sha256(open(p, "rb").read()).hexdigest()
        print(repr(p), oct(st.st_mode), st.st_size if not os.path.isdir(p) else 0, st.st_mtime_ns, h)
EOF
}
dev_unchanged() {
	dev_snapshot "$1" "$TMP/devsnap.now"
	cmp -s "$2" "$TMP/devsnap.now" || { diff "$2" "$TMP/devsnap.now" | head; fail "$3: $1 changed"; }
}
