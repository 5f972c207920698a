#!/usr/bin/env bash
# Upstream's io_uring zcrx selftest tool, iou-zcrx
# (tools/testing/selftests/drivers/net/hw/iou-zcrx.c in linux-source-7.3), built
# into the cache against liburing >= 2.10 (zcrx registration; bookworm has 2.3):
# Debian forky's liburing source package, built there too. Nothing is installed
# system-wide and nothing of either project is copied into this repository.
#
# The source package is found as scripts/dpdk-lts.sh finds DPDK's: apt with a
# private copy of this machine's Debian sources entry ("Types: deb-src",
# "Suites: forky"), private lists; /etc/apt is untouched, no mirror host name here.
#
#   scripts/iou-zcrx.sh dir     print where the binary goes (may not exist yet)
#   scripts/iou-zcrx.sh build   fetch + build once (reused); print the binary's path
#
# Environment: NETMEM_CACHE (default $HOME/.cache/netmem), NETMEM_JOBS (make -j,
# default 2). Exit: 0 built, 1 failure (message on stderr), 2 usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${NETMEM_CACHE:-${HOME:-/root}/.cache/netmem}
suite=forky
jobs=${NETMEM_JOBS:-2}
uring=$CACHE_ROOT/liburing
out=$CACHE_ROOT/iou-zcrx-7.3
log() { printf '[iou-zcrx] %s\n' "$*" >&2; }
die() { printf 'iou-zcrx: error: %s\n' "$*" >&2; exit 1; }

case ${1:-} in
dir) echo "$out/iou-zcrx"; exit 0 ;;
build) ;;
*) sed -n '2,15s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac

if [ -x "$out/iou-zcrx" ] && [ -f "$uring/.netmem-built" ]; then
	echo "$out/iou-zcrx"
	exit 0
fi
command -v make >/dev/null || die "make is not installed"
work=$(mktemp -d "${TMPDIR:-/tmp}/netmem-iou-zcrx.XXXXXX")
trap 'rm -rf "$work"' EXIT

# liburing from Debian's source package, into $uring (headers + static lib).
if [ ! -f "$uring/.netmem-built" ]; then
	src=/etc/apt/sources.list.d/debian.sources
	[ -f "$src" ] || die "no $src to derive a deb-src entry from"
	awk -v suite="$suite" 'BEGIN{RS=""; ORS="\n\n"}
	     /(^|\n)Suites:[^\n]*(^|[ \t])bookworm([ \t]|\n|$)/ && !done {
		gsub(/Types:[^\n]*/, "Types: deb-src"); gsub(/Suites:[^\n]*/, "Suites: " suite);
		print; done=1 }' "$src" >"$work/src.sources"
	grep -q deb-src "$work/src.sources" || die "could not derive a deb-src entry from $src"
	opts=(-o "Dir::Etc::SourceList=$work/src.sources" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work" -o "Dir::Cache::Archives=$work/archives"
		-o APT::Sandbox::User=root)
	mkdir -p "$work/lists/partial" "$work/archives/partial"
	log "reading Debian $suite's source index (deb-src derived from $src)"
	apt-get "${opts[@]}" update -qq >&2 || die "apt-get update ($suite deb-src) failed"
	version=$(apt-cache "${opts[@]}" showsrc liburing 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n1)
	[ -n "$version" ] || die "Debian $suite has no liburing source package"
	case ${version#*:} in
	2.[0-9] | 2.[0-9][-.+~]*) die "Debian $suite's liburing $version predates zcrx (2.10)" ;;
	esac
	log "fetching liburing $version"
	(cd "$work" && apt-get "${opts[@]}" source --download-only "liburing=$version" >&2) ||
		die "apt-get source liburing=$version failed"
	orig=$(ls "$work"/liburing_*.orig.tar.* 2>/dev/null | head -n1)
	[ -n "$orig" ] || die "no orig tarball downloaded"
	tar -xf "$orig" -C "$work"
	top=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'liburing*' | head -n1)
	[ -f "$top/configure" ] || die "no liburing source tree in $orig"
	log "building liburing $version into $uring"
	rm -rf "$uring"
	(cd "$top" && ./configure --prefix="$uring" >&2 && make -C src -j"$jobs" >&2 &&
		make install -C src >&2) >"$work/build.log" 2>&1 ||
		{ tail -n 30 "$work/build.log" >&2; die "liburing build failed"; }
	echo "$version" >"$uring/.netmem-built"
fi

# iou-zcrx from linux-source-7.3 (the .deb scripts/guest-kernel.sh keeps in dl/).
deb=$("$here/guest-kernel.sh" --kernel 7.3 source) || die "no linux-source-7.3"
log "unpacking iou-zcrx.c from $(basename "$deb")"
dpkg-deb --fsys-tarfile "$deb" | tar -x -O --wildcards './usr/src/linux-source-*.tar.*' |
	tar -xJ -C "$work" --wildcards 'linux-source-*/tools/testing/selftests/drivers/net/hw/iou-zcrx.c' ||
	die "iou-zcrx.c not found in $deb"
c=$(ls "$work"/linux-source-*/tools/testing/selftests/drivers/net/hw/iou-zcrx.c)
mkdir -p "$out"
libdir=$(ls -d "$uring"/lib* | head -n1)
cc -O2 -w -I"$uring/include" -o "$out/iou-zcrx.new" "$c" "$libdir/liburing.a" -lpthread >&2 ||
	die "iou-zcrx.c does not build against liburing $(cat "$uring/.netmem-built")"
mv "$out/iou-zcrx.new" "$out/iou-zcrx"
log "built $out/iou-zcrx (liburing $(cat "$uring/.netmem-built"), $(basename "$deb"))"
echo "$out/iou-zcrx"
