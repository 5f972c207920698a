#!/usr/bin/env bash
# A kmod guest test: builds the module (tests/kmod/build.sh) and runs
# tests/kmod/guest.sh in the test guest (tests/vm/guest-run.sh).
#
#   tests/kmod/run.sh KCTL OUTDIR GROUP [SIZE_MIB]
#
# GROUP provider or devmem: guest.sh; stream, rxbuf, zcrx: that script
# (SIZE_MIB: the stream); tx: tx.sh, devmem TX (6.16+: skipped on 6.12, with
# the reason, before a boot); ncdevmem: ncdevmem.sh, upstream's ncdevmem built
# from the kernel's source package (scripts/ncdevmem.sh, into the cache)
# against nmk0.
# The kernel: NETMEM_GUEST_KERNEL_SERIES (6.12, the default, or 7.3), for the
# module build and the guest alike.
#
# Exit: guest.sh's status; 77 (skipped, reason on stderr) when the module
# cannot be built here or the guest cannot run; 124 timeout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -ge 3 ] || { echo "usage: $0 KCTL OUTDIR GROUP [SIZE_MIB]" >&2; exit 2; }
# meson may pass paths relative to the build directory: pin them down.
kctl=$(readlink -f "$1") outdir=$(readlink -f "$2") group=$3
shift 3

if [ "$group" = tx ] && [ "${NETMEM_GUEST_KERNEL_SERIES:-6.12}" = 6.12 ]; then
	echo "kmod-tx: SKIP: Linux 6.12 has no devmem TX (netdev bind-tx, SCM_DEVMEM_DMABUF and the driver's NETMEM_TX came in 6.16); kmod-tx-7.3 runs it" >&2
	exit 77
fi

rc=0
ko=$("$here/build.sh" "$outdir") || rc=$?
[ $rc -eq 0 ] || exit $rc

# The guest mounts its own /tmp, /run, /proc, /sys, /dev: artifacts built
# there are invisible to it, so stage them in the (shared) cache instead.
hidden() { case $1/ in /tmp/* | /run/* | /proc/* | /sys/* | /dev/*) return 0 ;; esac; return 1; }
if hidden "$ko" || hidden "$kctl"; then
	stage=${NETMEM_CACHE:-${HOME:-/root}/.cache/netmem}/kmod-stage/${NETMEM_GUEST_KERNEL_SERIES:-6.12}-$group
	if hidden "$stage"; then
		echo "kmod: SKIP: build dir and NETMEM_CACHE are both invisible to the guest" >&2
		exit 77
	fi
	mkdir -p "$stage"
	cp "$ko" "$stage/netmem_kmod.ko"
	cp "$kctl" "$stage/netmem-kctl"
	ko=$stage/netmem_kmod.ko kctl=$stage/netmem-kctl
fi

cd "$repo"
if [ "$group" = ncdevmem ]; then
	ncdir=$("$repo/scripts/ncdevmem.sh" --kernel "${NETMEM_GUEST_KERNEL_SERIES:-6.12}") || {
		echo "kmod-ncdevmem: SKIP: upstream's ncdevmem could not be built from linux-source-${NETMEM_GUEST_KERNEL_SERIES:-6.12} (scripts/ncdevmem.sh, above)" >&2
		exit 77
	}
	exec "$repo/tests/vm/guest-run.sh" --timeout "${NETMEM_KMOD_TIMEOUT:-600}" -- \
		"$here/ncdevmem.sh" "$ko" "$kctl" "$ncdir" "$@"
fi
if [ "$group" = tx ]; then
	exec "$repo/tests/vm/guest-run.sh" --timeout "${NETMEM_KMOD_TIMEOUT:-300}" -- \
		"$here/tx.sh" "$ko" "$kctl" "$@"
fi
if [ "$group" = zcrx ]; then
	# Upstream's iou-zcrx as a second receiver: built into the cache (visible to
	# the guest); its absence is reported there, with the reason.
	iou=$("$repo/scripts/iou-zcrx.sh" build 2>"$outdir/iou-zcrx-build.log") ||
		iou="none: $(tail -n 1 "$outdir/iou-zcrx-build.log")"
	set -- "${1:-64}" "$iou"
fi
if [ "$group" = stream ] || [ "$group" = rxbuf ] || [ "$group" = zcrx ]; then
	# Real TCP through the NIC pair: its own script (loads the module itself).
	exec "$repo/tests/vm/guest-run.sh" --timeout "${NETMEM_KMOD_TIMEOUT:-300}" -- \
		"$here/$group.sh" "$ko" "$kctl" "$@"
fi
exec "$repo/tests/vm/guest-run.sh" --timeout "${NETMEM_KMOD_TIMEOUT:-200}" -- \
	"$here/guest.sh" "$ko" "$kctl" "$group" "$@"
