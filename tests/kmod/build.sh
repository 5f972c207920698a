#!/usr/bin/env bash
# Builds kmod/ out of tree into OUTDIR/kmod (6.12) or OUTDIR/kmod-7.3 (not the
# source tree) against the guest kernel's headers, warnings as errors, and prints
# the .ko's path.
#
#   tests/kmod/build.sh [--kernel 6.12|7.3] OUTDIR
#
# The kernel: --kernel, else NETMEM_GUEST_KERNEL_SERIES, else 6.12. The headers are
# those scripts/guest-kernel.sh unpacks into the cache (`guest-kernel.sh headers`,
# nothing installed on the host); KDIR=<headers dir> overrides them.
# Exit: 0 built, 1 failed, 77 no headers.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
series=${NETMEM_GUEST_KERNEL_SERIES:-6.12}
if [ "${1:-}" = --kernel ]; then series=${2:-}; shift 2 || true; fi
[ $# -eq 1 ] || { echo "usage: $0 [--kernel 6.12|7.3] OUTDIR" >&2; exit 2; }
out=$(mkdir -p "$1" && cd "$1" && pwd)/kmod
[ "$series" = 6.12 ] || out=$out-$series

skip() { echo "kmod-build: SKIP: $*" >&2; exit 77; }

kdir=${KDIR:-}
if [ -z "$kdir" ]; then
	kdir=$("$repo/scripts/guest-kernel.sh" --kernel "$series" headers) ||
		skip "no $series kernel headers (scripts/guest-kernel.sh --kernel $series headers failed)"
fi
[ -f "$kdir/Makefile" ] || skip "no kernel headers in $kdir"
command -v make >/dev/null || skip "make not found"

mkdir -p "$out"
# One build at a time: meson runs the kmod tests in parallel.
exec 9>"$out/.lock"
flock 9

# Mirror the sources; -p keeps their times so make rebuilds only what changed.
(cd "$repo/kmod" && cp -p --parents Kbuild ./*.c ./*.h include/uapi/*.h "$out/")

log=$out/build.log
if ! make -C "$kdir" M="$out" -j2 modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "kmod-build: FAIL: make against $kdir failed" >&2
	exit 1
fi
# -Werror covers the compiler; modpost only warns.
if grep -E 'warning:|WARNING:' "$log" >&2; then
	echo "kmod-build: FAIL: the build warned (see above)" >&2
	exit 1
fi
[ -f "$out/netmem_kmod.ko" ] || { echo "kmod-build: FAIL: no netmem_kmod.ko" >&2; exit 1; }
echo "kmod-build: built $out/netmem_kmod.ko against $kdir" >&2
echo "$out/netmem_kmod.ko"
