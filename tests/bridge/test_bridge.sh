#!/usr/bin/env bash
# Build the bridge module (once), boot the guest with port B on VFIO, and run
# test_bridge there: the clear error without the module, then insmod, vgem and
# dma-heap through VFIO type1, close orders, kill -9, bad input, rmmod, dmesg.
#   test_bridge.sh MESON_BUILD_ROOT TEST_BINARY
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0
ko=$("$here/build-module.sh" "$1" 2>"$1/tests/bridge-build.err") || rc=$?
if [ $rc = 77 ]; then
	# One line: a multi-line reason would be non-TAP output.
	echo "1..0 # SKIP $(tr '\n' ' ' <"$1/tests/bridge-build.err")"
	exit 77
elif [ $rc != 0 ]; then
	sed 's/^/# /' "$1/tests/bridge-build.err"
	echo "Bail out! the bridge module did not build"
	exit 1
fi
exec "$here/../vm/guest-run.sh" --vfio --timeout 240 -- sh -c \
	"modprobe vgem && dmesg -C && exec $2 $ko"
