#!/usr/bin/env bash
# Build the bridge module, boot the guest with port B on VFIO, and run
# test_bridge without and with the module; then rmmod and check dmesg.
#   test_bridge.sh BUILD_DIR TEST_BINARY
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$1 bin=$2
out=$build/kmod-bridge

kver=$("$src/scripts/guest-kernel.sh" version) || { echo "1..0 # SKIP no guest kernel version"; exit 77; }
kdir=/usr/src/linux-headers-$kver
if [ ! -f "$kdir/Makefile" ]; then
	echo "1..0 # SKIP no kernel headers for $kver (scripts/guest-kernel.sh headers)"
	exit 77
fi
# Kbuild writes next to its sources: build a copy in the build directory.
rm -rf "$out"
mkdir -p "$out/bridge" "$out/include"
cp "$src"/kmod/bridge/{Kbuild,netmem_bridge.c} "$out/bridge/"
cp -r "$src"/kmod/include/uapi "$out/include/"
make -s -C "$kdir" M="$out/bridge" modules >"$out/build.log" 2>&1 ||
	{ cat "$out/build.log"; echo "Bail out! module build failed"; exit 1; }

exec "$src/tests/vm/guest-run.sh" --vfio --timeout 240 -- sh -c \
	"modprobe vgem && dmesg -C && exec $bin $out/bridge/netmem_bridge.ko"
