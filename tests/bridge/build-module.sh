#!/usr/bin/env bash
# Build kmod/bridge against the guest kernel's headers into BUILD_DIR/tests/kmod-bridge
# (Kbuild writes next to its sources, so it builds a copy), once: rebuilt only when
# a source is newer, swapped in atomically, under a lock, so tests that use the module
# can run beside the one that builds it. Prints the .ko path; exit 77 without headers.
#   build-module.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$1/tests/kmod-bridge
ko=$out/bridge/netmem_bridge.ko

# The headers scripts/guest-kernel.sh unpacks into the cache (nothing installed on the host).
kdir=$("$src/scripts/guest-kernel.sh" headers) || { echo "no guest kernel headers (scripts/guest-kernel.sh headers failed)" >&2; exit 77; }
[ -f "$kdir/Makefile" ] || { echo "no kernel headers in $kdir" >&2; exit 77; }

mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
fresh=1
for f in "$src"/kmod/bridge/{Kbuild,netmem_bridge.c} "$src"/kmod/include/uapi/netmem_bridge.h; do
	[ -f "$ko" ] && [ "$ko" -nt "$f" ] || fresh=0
done
if [ $fresh = 0 ]; then
	tmp=$(mktemp -d "$out/build.XXXXXX")
	mkdir -p "$tmp/bridge" "$tmp/include"
	cp "$src"/kmod/bridge/{Kbuild,netmem_bridge.c} "$tmp/bridge/"
	cp -r "$src"/kmod/include/uapi "$tmp/include/"
	if ! make -s -C "$kdir" M="$tmp/bridge" modules >"$tmp/build.log" 2>&1; then
		cat "$tmp/build.log" >&2
		rm -rf "$tmp"
		exit 1
	fi
	rm -rf "$out/bridge" "$out/include"
	mv "$tmp/bridge" "$tmp/include" "$out/"
	rm -rf "$tmp"
fi
echo "$ko"
