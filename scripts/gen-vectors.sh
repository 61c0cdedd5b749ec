#!/bin/sh
# Regenerate the ```vectors block of docs/FORMAT.md §11 from build/tests/kat_gen.
# Run only when a format changes on purpose; test_kat then checks the code against it.
set -eu
cd "$(dirname "$0")/.."
ninja -C build tests/kat_gen >/dev/null
build/tests/kat_gen > build/vectors.txt
python3 - <<'PY'
import re
doc = open('docs/FORMAT.md').read()
vec = open('build/vectors.txt').read()
new, n = re.subn(r'```vectors\n.*?```', '```vectors\n' + vec.replace('\\', '\\\\') + '```', doc, flags=re.S)
assert n == 1, "no vectors block"
open('docs/FORMAT.md', 'w').write(new)
PY
echo "docs/FORMAT.md: $(wc -l < build/vectors.txt) vectors written"
