#!/usr/bin/env bash
# The DPDK driver SDK headers (ethdev_driver.h, ethdev_vdev.h, bus_vdev_driver.h,
# ...) that an ethdev PMD built outside DPDK needs. Debian's libdpdk-dev ships
# only the application headers, so they come from Debian's own source package of
# the installed DPDK (same version: the driver API is not ABI-stable across
# releases), unpacked into a cache. apt uses a private copy of this machine's
# Debian sources entry with "Types: deb-src" (and private lists), so nothing in
# /etc/apt changes and no mirror host name lives in this repository.
# DPDK's own app/test sources come along (tests/dpdk/app-test.sh builds
# mempool_autotest, mbuf_autotest and mempool_perf_autotest from them).
#
#   scripts/dpdk-driver-sdk.sh dir     print the include root (may not exist yet)
#   scripts/dpdk-driver-sdk.sh fetch   download + unpack the headers once; print the root
#
# Environment: NETMEM_CACHE (default $HOME/.cache/netmem).
set -euo pipefail

CACHE_ROOT=${NETMEM_CACHE:-${HOME:-/root}/.cache/netmem}
log() { printf 'dpdk-driver-sdk: %s\n' "$*" >&2; }
die() { printf 'dpdk-driver-sdk: error: %s\n' "$*" >&2; exit 1; }

version=$(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null) ||
	die "libdpdk-dev is not installed"
[ -n "$version" ] || die "libdpdk-dev is not installed"
root=$CACHE_ROOT/dpdk-sdk/$version
stamp=$root/.netmem-fetched

case ${1:-} in
dir)
	echo "$root"
	exit 0 ;;
fetch) ;;
*)
	sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
	exit 2 ;;
esac

if [ -f "$stamp" ] && [ -f "$root/app/test/test.c" ]; then
	echo "$root"
	exit 0
fi
src=/etc/apt/sources.list.d/debian.sources
[ -f "$src" ] || die "no $src to derive a deb-src entry from"
work=$root.tmp
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/archives/partial"
# The first stanza naming plain "bookworm": same URIs/Components/Signed-By.
awk 'BEGIN{RS=""; ORS="\n\n"}
     /(^|\n)Suites:[^\n]*(^|[ \t])bookworm([ \t]|\n|$)/ && !done {
	gsub(/Types:[^\n]*/, "Types: deb-src"); gsub(/Suites:[^\n]*/, "Suites: bookworm bookworm-updates");
	print; done=1 }' "$src" >"$work/src.sources"
grep -q deb-src "$work/src.sources" || die "could not derive a deb-src entry from $src"
opts=(-o "Dir::Etc::SourceList=$work/src.sources" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work" -o "Dir::Cache::Archives=$work/archives"
	-o APT::Sandbox::User=root)
log "fetching Debian's dpdk $version source package for the driver SDK headers"
apt-get "${opts[@]}" update -qq >&2 || die "apt-get update (deb-src) failed"
(cd "$work" && apt-get "${opts[@]}" source --download-only "dpdk=$version" >&2) ||
	die "apt-get source dpdk=$version failed"
orig=$(ls "$work"/dpdk_*.orig.tar.* 2>/dev/null | head -n1)
[ -n "$orig" ] || die "no orig tarball downloaded"
tar -xf "$orig" -C "$work" --wildcards '*/lib/*.h' '*/drivers/bus/*.h' '*/app/test/*'
top=$(find "$work" -maxdepth 1 -type d -name 'dpdk-*' | head -n1)
[ -f "$top/lib/ethdev/ethdev_driver.h" ] || die "no ethdev_driver.h in $orig"
rm -rf "$root"
mkdir -p "$root"
mkdir -p "$root/app"
mv "$top/lib" "$top/drivers" "$root/"
mv "$top/app/test" "$root/app/"
rm -rf "$work"
touch "$stamp"
echo "$root"
