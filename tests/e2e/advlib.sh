# Shared by the adversarial scripts (7N-adversarial-*.sh) and 05-tools.sh,
# on top of lib.sh: the man-in-the-middle proxy, the forge tool, the tree
# generator and comparer, and a client home.  Sourced, not run.
# (ADV_E2E: the folder of lib.sh, for a script that lives elsewhere.)
ADV_E2E=${ADV_E2E:-$(dirname "$0")}
. "$ADV_E2E/lib.sh"
TESTS=$(cd "$ADV_E2E/.." && pwd)
COFFER="$COFFER_BUILD/cli/coffer"
FORGE="$COFFER_BUILD/tests/forge"
GEN="python3 $TESTS/gen_tree.py"
CMP="python3 $TESTS/compare_tree.py"
PROXY_PID=
PROXY_PORT=
PROXY_URL=
RULES="$TMP/rules.json"
HITS="$TMP/hits.jsonl"

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

# rules JSON_RULES: install a rule list (the upstream is kept).
rules() {
	printf '{"upstream": "%s", "rules": %s}\n' "$SRV_URL" "$1" >"$RULES.new"
	mv "$RULES.new" "$RULES"
	# The proxy notices by mtime; make sure the change is visible.
	sleep 0.02
}

# hits: the number of times a rule was applied so far.
hits() { wc -l <"$HITS" | tr -d ' '; }

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

adv_cleanup() {
	proxy_stop
	cleanup
}
trap adv_cleanup EXIT

# A fresh client home: COFFER_HOME, no passphrase.
new_home() {
	mkdir -p "$1"
	chmod 700 "$1"
}

# fail MESSAGE: print and exit 1.
fail() { echo "FAIL: $*"; exit 1; }

# expect_rc WANT CMD...: run CMD, which must exit WANT.
expect_rc() {
	_want=$1; shift
	if "$@" >"$TMP/last.out" 2>"$TMP/last.err"; then _rc=0; else _rc=$?; fi
	if [ "$_rc" != "$_want" ]; then
		echo "FAIL: '$*' exited $_rc, want $_want"
		sed 's/^/  out: /' "$TMP/last.out" | head -20
		sed 's/^/  err: /' "$TMP/last.err" | head -20
		exit 1
	fi
}

# empty_dir DIR: DIR exists and holds nothing at all (no temporary files).
assert_empty_dir() {
	[ -d "$1" ] || fail "$1 is gone"
	_left=$(ls -A "$1")
	[ -z "$_left" ] || fail "$1 is not empty after a refused pull: $_left"
}

# snapshot DIR FILE / assert_unchanged DIR FILE: every name, type, mode,
# size, mtime (ns) and content hash under DIR, so a refused pull can be
# shown to have changed nothing (and left no temporary file).
snapshot() {
	python3 -S - "$1" "${3:-}" >"$2" <<'EOF'
import hashlib, os, stat, sys
root = os.fsencode(sys.argv[1])
nodirtime = sys.argv[2] == "nodirtime"
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
assert_unchanged() {
	snapshot "$1" "$TMP/snap.now" "${3:-}"
	if ! cmp -s "$2" "$TMP/snap.now"; then
		diff "$2" "$TMP/snap.now" | head -20
		fail "$1 changed after a refused command"
	fi
}

# ---- one device, one account, two drives, all through the proxy ----

# adv_account [NAME]: COFFER_HOME, account NAME (default "carol") with drives "docs" and "pics",
# created through the proxy (so the client's server URL is the proxy's).
# Sets F (the forge with its context), DOCS and PICS (drive ids).
adv_account() {
	ACCOUNT=${1:-carol}
	COFFER_HOME="$TMP/home"
	export COFFER_HOME
	new_home "$COFFER_HOME"
	expect_rc 0 "$COFFER" --json account create --server "$PROXY_URL" "$ACCOUNT"
	expect_rc 0 "$COFFER" --json drive create docs
	DOCS=$(sed -n 's/.*"drive_id": *"\([0-9a-f]*\)".*/\1/p' "$TMP/last.out")
	expect_rc 0 "$COFFER" --json drive create pics
	PICS=$(sed -n 's/.*"drive_id": *"\([0-9a-f]*\)".*/\1/p' "$TMP/last.out")
	F="$FORGE --server $PROXY_URL --home $COFFER_HOME --account $ACCOUNT"
	if [ -z "$DOCS" ] || [ -z "$PICS" ]; then
		DOCS=$($F info --drive docs | sed -n 's/^drive_id //p')
		PICS=$($F info --drive pics | sed -n 's/^drive_id //p')
	fi
	[ -n "$DOCS" ] && [ -n "$PICS" ] || fail "no drive ids"
	mkdir -p "$TMP/pulls"
}

# push DRIVE DIR: must succeed.
push() { expect_rc 0 "$COFFER" --json push "$1" "$2"; }

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
	expect_rc 0 "$COFFER" pull "$_drv" "$_tgt" "$@"
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
arm() { ARMED=$(hits); }
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

# forge_setup: after adv_account: a folder "outside" next to the target
# (so every refused pull's snapshot covers it), the target T, no proxy
# rule to check (ARMED empty).
# The folder outside the target lives next to it, so that every refused
# pull's snapshot of $TMP/pulls covers it too.
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
	expect_rc 0 "$COFFER" --json drive create "$1"
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

