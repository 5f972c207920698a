#!/usr/bin/env bash
# Builds upstream's ncdevmem (the kernel's own devmem TCP selftest) and its ynl
# library from Debian's linux-source-<series> package, into the cache: nothing of
# the kernel tree is copied into this repository.
#
#   scripts/ncdevmem.sh [--kernel 6.12|7.3]     build (once), print the directory
#
# The directory holds `ncdevmem` and `ynl/` (the tree's tools/net/ynl and its
# netlink specs), for the tests' shim of `ethtool -G IF tcp-data-split`, which
# bookworm's ethtool 6.1 cannot set (ynl's rings-set does).
# Sources: 6.12: tools/testing/selftests/net/ncdevmem.c (RX only);
#          7.3:  tools/testing/selftests/drivers/net/hw/ncdevmem.c (RX, TX, -L).
# The package comes from scripts/guest-kernel.sh source (the guest kernel's suite,
# the machine's own apt sources). About 1 minute per kernel, then cached.
#
# Environment: NETMEM_CACHE (default $HOME/.cache/netmem): ncdevmem/<package version>/
# Progress goes to stderr; stdout carries only the directory.
# Exit: 0 built, 1 failed, 2 usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
series=${NETMEM_GUEST_KERNEL_SERIES:-6.12}
if [ "${1:-}" = --kernel ]; then
	[ $# -ge 2 ] || { echo "ncdevmem: --kernel needs 6.12 or 7.3" >&2; exit 2; }
	series=$2
	shift 2
fi
[ $# -eq 0 ] || { sed -n '6p' "$0" >&2; exit 2; }
case $series in
6.12) nc=tools/testing/selftests/net/ncdevmem.c gens="netdev" ;;
7.3) nc=tools/testing/selftests/drivers/net/hw/ncdevmem.c gens="netdev ethtool" ;;
*) echo "ncdevmem: unknown kernel '$series' (6.12 or 7.3)" >&2; exit 2 ;;
esac

log() { printf 'ncdevmem: %s\n' "$*" >&2; }
die() { printf 'ncdevmem: error: %s\n' "$*" >&2; exit 1; }

deb=$("$here/guest-kernel.sh" --kernel "$series" source) || die "no linux-source-$series package"
ver=$(dpkg-deb -f "$deb" Version) || die "cannot read $deb"
cache=${NETMEM_CACHE:-${HOME:-/root}/.cache/netmem}/ncdevmem
out=$cache/$series-${ver//\~/_}
if [ -x "$out/ncdevmem" ] && [ -f "$out/.netmem-built" ]; then
	printf '%s\n' "$out"
	exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src
mkdir "$src"
log "unpacking what ncdevmem, ynl and 'make headers' need from ${deb##*/}"
dpkg-deb --fsys-tarfile "$deb" |
	tar -x -O --wildcards './usr/src/linux-source-*.tar.*' |
	tar -xJ -C "$src" --strip-components=1 --wildcards \
		'linux-source-*/Makefile' 'linux-source-*/MAINTAINERS' 'linux-source-*/*Kconfig*' \
		'linux-source-*/scripts' 'linux-source-*/include' 'linux-source-*/arch/x86' \
		'linux-source-*/usr' 'linux-source-*/Documentation/netlink' \
		'linux-source-*/tools/net/ynl' "linux-source-*/$nc" ||
	die "cannot unpack ${deb##*/}"

log "make headers (the tree's UAPI, as the selftests build against it)"
make -C "$src" ARCH=x86 headers >"$tmp/headers.log" 2>&1 || { tail -n 20 "$tmp/headers.log" >&2; die "make headers failed"; }

y=$src/tools/net/ynl
log "ynl: lib and the generated $gens families"
objs=()
for g in $gens; do objs+=("$g-user.o"); done
{ make -C "$y/lib" && make -C "$y/generated" "${objs[@]}"; } >"$tmp/ynl.log" 2>&1 ||
	{ tail -n 20 "$tmp/ynl.log" >&2; die "building ynl failed"; }

log "ncdevmem from $nc"
mkdir -p "$tmp/out"
link=()
for o in "${objs[@]}"; do link+=("$y/generated/$o"); done
gcc -O2 -Wall -isystem "$src/usr/include" -I"$y/lib" -I"$y/generated" "$src/$nc" \
	"${link[@]}" "$y/lib/ynl.o" -o "$tmp/out/ncdevmem" 2>"$tmp/cc.log" ||
	{ cat "$tmp/cc.log" >&2; die "compiling ncdevmem failed"; }

# What the tcp-data-split shim runs: ynl's CLI with the ethtool spec.
mkdir -p "$tmp/out/ynl/Documentation/netlink" "$tmp/out/ynl/tools/net"
cp -a "$src/Documentation/netlink/specs" "$tmp/out/ynl/Documentation/netlink/"
cp -a "$src/Documentation/netlink/"*.yaml "$tmp/out/ynl/Documentation/netlink/" 2>/dev/null || true
cp -a "$y" "$tmp/out/ynl/tools/net/"
printf '%s\n' "$ver" >"$tmp/out/.netmem-built"
rm -rf "$out"
mv "$tmp/out" "$out"
log "built in $out"
printf '%s\n' "$out"
