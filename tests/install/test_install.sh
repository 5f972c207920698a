#!/usr/bin/env bash
# The README's example, built as a user would: against the installed headers
# and libnetmem.pc (meson install --destdir into a temporary root), then run.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "not ok $n - $*"; exit 1; }
n=1
echo "1..3"

meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
	fail "meson install: $(tail -5 "$tmp/install.log")"
pc=$(find "$tmp/root" -name libnetmem.pc | head -1)
[ -n "$pc" ] || fail "no libnetmem.pc installed"
prefix=$(pkg-config --variable=prefix "$pc")
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --define-variable=prefix="$tmp/root$prefix" --cflags --libs libnetmem)
grep -q -- "-I$tmp/root" <<<"$flags" || fail "pkg-config flags do not point into the install: $flags"
echo "ok $n - installed, libnetmem.pc found: $flags"
n=2

# The one C block under "## A short example", exactly as the README shows it.
python3 - "$src/README.md" "$tmp/example.c" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
sec = text[text.index("## A short example"):]
m = re.search(r"```c\n(.*?)```", sec, re.S)
open(sys.argv[2], "w").write(m.group(1))
PY
# A sanitizer build installs an instrumented library: build the example the same way.
san=()
libso=$(find "$tmp/root" -name 'libnetmem.so*' | head -1)
if ldd "$libso" | grep -q libasan; then san=(-fsanitize=address,undefined); fi
if ldd "$libso" | grep -q libtsan; then san=(-fsanitize=thread); fi
# shellcheck disable=SC2086
cc "${san[@]}" -std=c11 -Wall -Wextra -Werror -o "$tmp/example" "$tmp/example.c" $flags \
	>"$tmp/cc.log" 2>&1 || fail "the README example does not build: $(head -20 "$tmp/cc.log")"
echo "ok $n - the README example builds against the installed library"
n=3

libdir=$(dirname "$(find "$tmp/root" -name 'libnetmem.so*' | head -1)")
out=$(LD_LIBRARY_PATH=$libdir "$tmp/example" 2>&1) || fail "example exited $?: $out"
grep -q "queue 1 receives into" <<<"$out" || fail "unexpected output: $out"
echo "ok $n - the example runs: $(head -1 <<<"$out")"
