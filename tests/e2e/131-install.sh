#!/bin/sh
# meson install, and a program outside the tree built on what it installed:
# - `meson install --destdir' puts in the prefix the shared library (with
#   its soname, exporting only coffer_*), every public header of
#   include/coffer/ and the generated version.h, coffer.pc, the man pages
#   coffer(1) and cofferd(8), the bash completion, coffer and cofferd;
# - each installed header compiles on its own;
# - a program in a folder outside the tree compiles and links with
#   `cc $(pkg-config --cflags --libs coffer)' only, against the installed
#   shared library (not the build tree's), and runs: examples/pushpull.c
#   when it exists (it pushes a generated folder to a real cofferd through
#   the public API and pulls it back; the trees must be identical),
#   otherwise a program calling coffer_init() and coffer_strerror().
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TESTS="$SRC/tests"
ROOT="$TMP/root"
fail() { echo "FAIL: $*"; exit 1; }
# meson test points LD_LIBRARY_PATH at the build tree's libcoffer.so (this
# test depends on it); a program outside the tree finds the installed one.
unset LD_LIBRARY_PATH

for t in pkg-config cc readelf nm; do
	if ! command -v "$t" >/dev/null; then
		echo "SKIP: $t is not installed (scripts/setup.sh installs it)"
		exit 77
	fi
done

# ---- meson install ----
# --no-rebuild: meson test built the targets (the e2e tests depend on the
# library); never rebuild a tree other tests are running from.
meson install -C "$COFFER_BUILD" --no-rebuild --destdir "$ROOT" \
    >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; fail "meson install"; }
pc=$(find "$ROOT" -name coffer.pc)
[ -n "$pc" ] && [ "$(echo "$pc" | wc -l)" = 1 ] || fail "coffer.pc: '$pc'"
libdir=$(dirname "$(dirname "$pc")")
prefix=$ROOT$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=prefix coffer)
[ -d "$prefix" ] || fail "no prefix $prefix"

for f in bin/coffer bin/cofferd share/man/man1/coffer.1 \
    share/man/man8/cofferd.8 share/bash-completion/completions/coffer \
    include/coffer/version.h; do
	[ -f "$prefix/$f" ] || fail "not installed: $f"
done
cmp -s "$SRC/man/coffer.1" "$prefix/share/man/man1/coffer.1" || fail "coffer.1 differs"
cmp -s "$SRC/completion/coffer.bash" \
    "$prefix/share/bash-completion/completions/coffer" || fail "completion differs"

# Every public header, and nothing else of include/coffer/.
(cd "$SRC/include/coffer" && ls -- *.h; echo version.h) | sort >"$TMP/want"
(cd "$prefix/include/coffer" && ls) | sort >"$TMP/got"
cmp -s "$TMP/want" "$TMP/got" ||
    { diff "$TMP/want" "$TMP/got"; fail "installed headers differ from include/coffer/*.h"; }

# The library: a soname with the major version, a link to it, and only
# the public API exported.
lib=$(readlink -f "$libdir/libcoffer.so") || fail "no libcoffer.so in $libdir"
major=$(sed -n 's/^#define COFFER_VERSION_MAJOR[[:space:]]*\([0-9]*\)$/\1/p' \
    "$prefix/include/coffer/version.h")
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libcoffer.so.$major" ] || fail "soname '$soname', major '$major'"
[ -e "$libdir/$soname" ] || fail "no $soname link"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' >"$TMP/syms"
grep -q '^coffer_init$' "$TMP/syms" || fail "coffer_init not exported"
if grep -v '^coffer_' "$TMP/syms" >"$TMP/extra"; then
	head "$TMP/extra"; fail "libcoffer.so exports more than coffer_*"
fi

# ---- a program outside the tree, through pkg-config only ----
export PKG_CONFIG_PATH="$libdir/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$ROOT"
PCFLAGS=$(pkg-config --cflags coffer) || fail "pkg-config --cflags coffer"
PLIBS=$(pkg-config --libs coffer) || fail "pkg-config --libs coffer"
case " $PCFLAGS " in *" -I$prefix/include "*) ;;
*) fail "cflags '$PCFLAGS' do not point into the installed prefix" ;; esac
# A library built with the sanitizers needs them in the program too.
SAN=""
readelf -d "$lib" | grep -q 'NEEDED.*libasan' && SAN="$SAN -fsanitize=address"
readelf -d "$lib" | grep -q 'NEEDED.*libubsan' && SAN="$SAN -fsanitize=undefined"
OUT="$TMP/outside"
mkdir -p "$OUT"
for h in "$prefix"/include/coffer/*.h; do
	printf '#include <coffer/%s>\nint main(void) { return 0; }\n' \
	    "$(basename "$h")" >"$OUT/h.c"
	# shellcheck disable=SC2086 # flags are words
	cc -std=c99 -Wall -Wextra -Werror $PCFLAGS -c "$OUT/h.c" -o "$OUT/h.o" \
	    2>"$TMP/cc.err" || { cat "$TMP/cc.err"; fail "$(basename "$h") does not compile alone"; }
done

# build NAME SOURCE: $OUT/NAME from SOURCE, outside the tree.
build() {
	cp "$2" "$OUT/$1.c"
	# shellcheck disable=SC2086 # flags are words
	(cd "$OUT" && cc -std=gnu11 -Wall -Wextra -Werror $SAN $PCFLAGS \
	    -o "$1" "$1.c" $PLIBS -Wl,-rpath,"$libdir") 2>"$TMP/cc.err" ||
	    { cat "$TMP/cc.err"; fail "$1 does not build through pkg-config"; }
	# The installed library, not the build tree's.
	ldd "$OUT/$1" | grep -q "libcoffer.so.$major => $libdir/" ||
	    { ldd "$OUT/$1"; fail "$1 is not linked to the installed libcoffer"; }
}

if [ -f "$SRC/examples/pushpull.c" ]; then
	build pushpull "$SRC/examples/pushpull.c"
	python3 "$TESTS/gen_tree.py" 31 "$TMP/src" --files 40
	srv_start "$TMP/data"
	"$OUT/pushpull" "$SRV_URL" "$TMP/home" "$TMP/src" "$TMP/dst" \
	    >"$TMP/pp.out" 2>&1 || { cat "$TMP/pp.out"; fail "pushpull exited $?"; }
	python3 "$TESTS/compare_tree.py" "$TMP/src" "$TMP/dst" ||
	    fail "the tree pulled through the API differs from the one pushed"
	srv_stop
	echo "examples/pushpull.c: pushed and pulled through the installed library"
else
	cat >"$TMP/minimal.c" <<'EOF'
#include <stdio.h>
#include <string.h>

#include <coffer/coffer.h>

int
main(void)
{
	const char *s;

	if (coffer_init() != 0)
		return 1;
	s = coffer_strerror(COFFER_EBADKEY);
	if (s == NULL || strlen(s) == 0)
		return 1;
	printf("coffer %s: %s\n", COFFER_VERSION, s);
	return 0;
}
EOF
	build minimal "$TMP/minimal.c"
	out=$("$OUT/minimal") || fail "the minimal program exited $?"
	V=$(sed -n 's/^#define COFFER_VERSION[[:space:]]*"\(.*\)"$/\1/p' \
	    "$prefix/include/coffer/version.h")
	case $out in
	"coffer $V: "?*) ;;
	*) fail "the minimal program printed '$out'" ;;
	esac
	echo "no examples/pushpull.c yet: the minimal program ran ($out)"
fi
echo "131-install: ok"
