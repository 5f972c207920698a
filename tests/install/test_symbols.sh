#!/usr/bin/env bash
# The shared library exports the public API and nothing else: every dynamic
# symbol is nm_* and declared in a public header (no igb_*, no ctl_*, no
# library-internal nm_*_locked).
set -euo pipefail
lib=$1 src=$2
fail() { echo "not ok $n - $*"; exit 1; }
echo "1..2"
n=1
# Type A is the version node (LIBNETMEM_0), not a symbol.
syms=$(nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }')
[ -n "$syms" ] || fail "no symbols read from $lib"
bad=$(grep -v '^nm_' <<<"$syms" || true)
[ -z "$bad" ] || fail "exported without the nm_ prefix: $(tr '\n' ' ' <<<"$bad")"
echo "ok $n - $(wc -l <<<"$syms") symbols exported, all nm_*"
n=2
undeclared=""
for s in $syms; do
	grep -rqw -- "$s" "$src/lib/include" "$src/drivers/net/"*/include \
		|| undeclared="$undeclared $s"
done
[ -z "$undeclared" ] || fail "exported but in no public header (add to lib/libnetmem.map's local list):$undeclared"
echo "ok $n - every exported symbol is declared in a public header"
