#!/bin/sh
# The client end to end (issue #5): account create, drive create/list, a
# generated tree with every kind of entry pushed and pulled back exactly
# (bytes, modes, mtimes to the ns, symlinks, empty folders, non-UTF-8
# names), an unchanged push that reads nothing, uploads nothing and makes
# no version, two versions and the older one by --version, --overwrite
# and --delete, a pull into a non-empty folder refused, log, ls, status,
# check --read-data, and the exit statuses of usage errors.
. "$(dirname "$0")/lib.sh"


srv_start "$TMP/data"
COFFER_HOME="$TMP/home"; export COFFER_HOME
mkdir -m 700 "$COFFER_HOME"

# Usage errors exit 2; a command before the account exists says what to do.
expect_exit 2 '' "$COFFER" push
expect_exit 2 '' "$COFFER" --json pull onlyone
grep -q '"status":2' "$TMP/out" || fail "usage error not in JSON"
expect_exit 1 '' "$COFFER" --json status
grep -q 'account create' "$TMP/out" || fail "no advice without an account"
"$COFFER" help push | grep -q 'push DRIVE DIR' || fail "help push"

# Account: recovery_key and account_id.
expect_exit 0 "$COFFER" --json account create --server "$SRV_URL" alice --name laptop
key recovery_key | grep -Eq '^([0-9A-Z]{5}-){7}[0-9A-Z]{5}$' || fail "recovery key"
[ "$(key account_id | wc -c)" = 65 ] || fail "account id"
expect_exit 1 '' "$COFFER" account create --server "$SRV_URL" alice2
mkdir -m 700 "$TMP/home-b"
COFFER_HOME="$TMP/home-b" expect_exit 1 '' "$COFFER" account create --server "$SRV_URL" alice
grep -q 'choose another name' "$TMP/err" || fail "a taken account name is not explained"
expect_exit 2 '' "$COFFER" account create --server "$SRV_URL" 'Bad Name'
expect_exit 0 "$COFFER" --json drive create docs
expect_exit 0 "$COFFER" --json drive create pics
expect_exit 1 '' "$COFFER" --json drive create docs
expect_exit 0 "$COFFER" --json drive list
grep -q '"name":"docs"' "$TMP/out" && grep -q '"name":"pics"' "$TMP/out" || fail "drive list"

# Version 1: a generated tree with every kind of entry, plus a fifo that
# is skipped with a warning.
$GEN 601 "$TMP/src" --files 30 >/dev/null
mkfifo "$TMP/src/a-fifo"
expect_exit 6 '' "$COFFER" --json push docs "$TMP/src"
[ "$(key incomplete)" = true ] && [ "$(key skipped)" = 1 ] || fail "a skipped fifo is not an incomplete version"
[ "$(key version)" = 1 ] || fail "first version is not 1"
[ "$(key chunks_uploaded)" -gt 0 ] || fail "nothing uploaded"
grep -q 'a-fifo.*skipped' "$TMP/err" || fail "no warning for the fifo"
# Removing the fifo moves the folder's mtime, which version 1 holds (the
# top folder's, FORMAT §13): put it back, so that nothing changed.
touch -r "$TMP/src" "$TMP/src.time"
rm "$TMP/src/a-fifo"
touch -r "$TMP/src.time" "$TMP/src"
NFILES=$(key files)

# The same again: nothing read, nothing uploaded, no version; and, with
# the known-ids cache, no tree fetched (one get: the head commit).
g0=$(grep -c 'objects/get' "$TMP/server.log" || true)
expect_exit 0 "$COFFER" --json push docs "$TMP/src"
g1=$(grep -c 'objects/get' "$TMP/server.log" || true)
[ $((g1 - g0)) = 1 ] || fail "unchanged push made $((g1 - g0)) get requests, want 1"
[ "$(key version)" = 1 ] || fail "unchanged push made a version"
[ "$(key unchanged)" = true ] || fail "unchanged push not reported"
for k in files_read bytes_read chunks_uploaded bytes_uploaded; do
	[ "$(key $k)" = 0 ] || fail "unchanged push: $k = $(key $k)"
done
[ "$(key files)" = "$NFILES" ] || fail "files count changed"
grep -q 'no new version' "$TMP/err" || fail "unchanged push did not say so"

# Pull into a new folder: exact.
expect_exit 0 "$COFFER" --json pull docs "$TMP/v1"
$CMP --ignore-top "$TMP/src" "$TMP/v1" || fail "pull of version 1 is not exact"
cp -a "$TMP/src" "$TMP/src-v1"

# Version 2: change a file, add one, remove one.
printf 'changed\n' >"$TMP/src/changed.txt"
f=$(cd "$TMP/src" && find . -type f | sort | head -1)
rm "$TMP/src/$f"
expect_exit 0 "$COFFER" --json push docs "$TMP/src"
[ "$(key version)" = 2 ] || fail "second version is not 2"
[ "$(key files_read)" -le 2 ] || fail "push of a small change read $(key files_read) files"
expect_exit 0 "$COFFER" --json log docs
[ "$(wc -l <"$TMP/out")" = 2 ] || fail "log does not have 2 lines"
head -1 "$TMP/out" | grep -q '"version":1,"commit":"[0-9a-f]\{64\}","time":[0-9]*,"device":"[0-9a-f]\{64\}"' || fail "log line"

# The older version by --version, the newer by default.
expect_exit 0 "$COFFER" pull docs "$TMP/old" --version 1
$CMP --ignore-top "$TMP/src-v1" "$TMP/old" || fail "pull --version 1 is not version 1"
expect_exit 0 "$COFFER" pull docs "$TMP/new"
$CMP --ignore-top "$TMP/src" "$TMP/new" || fail "pull of version 2 is not exact"
expect_exit 1 '' "$COFFER" pull docs "$TMP/nov" --version 3

# A non-empty folder needs --overwrite; without --delete extra files stay.
expect_exit 1 '' "$COFFER" --json pull docs "$TMP/old"
grep -q 'overwrite' "$TMP/out" || fail "refusal does not say --overwrite"
echo extra >"$TMP/old/extra-file"
expect_exit 0 "$COFFER" pull docs "$TMP/old" --overwrite
[ -f "$TMP/old/extra-file" ] || fail "--overwrite removed a local file"
[ -f "$TMP/old/$f" ] || fail "--overwrite removed a file version 2 lacks"
cmp -s "$TMP/old/changed.txt" "$TMP/src/changed.txt" || fail "--overwrite did not write version 2"
echo extra >"$TMP/old/extra-file"
mkdir -p "$TMP/old/extra-dir/sub"
expect_exit 0 "$COFFER" --json pull docs "$TMP/old" --overwrite --delete
[ ! -e "$TMP/old/extra-file" ] && [ ! -e "$TMP/old/extra-dir" ] || fail "--delete kept extras"
$CMP --ignore-top "$TMP/src" "$TMP/old" || fail "--delete did not give version 2"
# Back to version 1 over version 2 with --delete: exact.
expect_exit 0 "$COFFER" pull docs "$TMP/old" --version 1 --overwrite --delete
$CMP --ignore-top "$TMP/src-v1" "$TMP/old" || fail "--delete back to version 1"

# A symlink planted in the target is replaced, not followed.
mkdir "$TMP/outside" "$TMP/plant"
ln -s "$TMP/outside" "$TMP/plant/$(cd "$TMP/src" && find . -mindepth 1 -maxdepth 1 -type d ! -name '.*' | sort | head -1)"
expect_exit 0 "$COFFER" pull docs "$TMP/plant" --overwrite
[ -z "$(ls -A "$TMP/outside")" ] || fail "pull wrote through a planted symlink"
$CMP --ignore-top "$TMP/src" "$TMP/plant" || fail "planted symlink not replaced"

# ls, status, check.
expect_exit 0 "$COFFER" --json ls docs@1
[ "$(wc -l <"$TMP/out")" -gt 0 ] || fail "ls printed nothing"
grep -q '"name_b64"' "$TMP/out" || grep -rq . "$TMP/out" || fail "ls"
expect_exit 1 '' "$COFFER" ls docs no/such/folder
expect_exit 0 "$COFFER" --json status
key safety_code | grep -Eq '^[0-9A-Z]{10}$' || fail "safety code"
grep -q '"drives":\[' "$TMP/out" && grep -q '"version":2' "$TMP/out" || fail "status drives"
grep -q '"verified_at":[0-9]' "$TMP/out" || fail "status verified_at"
expect_exit 0 "$COFFER" --json check --read-data
[ "$(key versions)" = 2 ] || fail "check did not verify 2 versions"
[ "$(key chunks)" -gt 0 ] || fail "check --read-data read no chunk"

# The caches are untrusted and deletable: garbage in them changes nothing.
for f in "$COFFER_HOME"/cache/statcache/* "$COFFER_HOME"/cache/known/*; do
	head -c 300 /dev/urandom >"$f"
done
expect_exit 0 "$COFFER" --json push docs "$TMP/src"
[ "$(key unchanged)" = true ] || fail "push after a garbage cache made a version"
[ "$(key chunks_uploaded)" = 0 ] || fail "push after a garbage cache uploaded chunks"
rm -rf "$COFFER_HOME/cache"
expect_exit 0 "$COFFER" --json push docs "$TMP/src"
[ "$(key unchanged)" = true ] || fail "push without a cache made a version"
expect_exit 0 "$COFFER" --json push docs "$TMP/src"
[ "$(key files_read)" = 0 ] || fail "the cache was not rebuilt"

# Modes are masked to 0777 unless --keep-modes.
mkdir -p "$TMP/modes/sticky"
printf '#!/bin/sh\n' >"$TMP/modes/suid"
chmod 4755 "$TMP/modes/suid"
chmod 1777 "$TMP/modes/sticky"
expect_exit 0 "$COFFER" --json push pics "$TMP/modes"
expect_exit 0 "$COFFER" pull pics "$TMP/modes-masked"
[ "$(stat -c %a "$TMP/modes-masked/suid")" = 755 ] || fail "setuid bit not masked"
[ "$(stat -c %a "$TMP/modes-masked/sticky")" = 777 ] || fail "sticky bit not masked"
expect_exit 0 "$COFFER" pull pics "$TMP/modes-kept" --keep-modes
[ "$(stat -c %a "$TMP/modes-kept/suid")" = 4755 ] || fail "--keep-modes lost setuid"
[ "$(stat -c %a "$TMP/modes-kept/sticky")" = 1777 ] || fail "--keep-modes lost sticky"

srv_stop
echo ok
