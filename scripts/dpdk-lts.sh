#!/usr/bin/env bash
# DPDK 25.11 LTS beside the system's 22.11: Debian's dpdk source package (or
# upstream's tag, below), built with meson into a cache (never installed
# system-wide; forky's binary packages need a newer libc than bookworm's). A
# minimal set: the mandatory libraries, bus/pci, bus/vdev, mempool/ring,
# mempool/stack, net/null, net/ring, net/e1000, testpmd and dpdk-test
# (app/test), with the driver SDK headers installed (enable_driver_sdk=true)
# for net_netmem_igb.
#
# The source package is found as scripts/dpdk-driver-sdk.sh finds 22.11's: apt
# with a private copy of this machine's Debian sources entry, "Types: deb-src"
# and "Suites: forky trixie-backports", private lists; /etc/apt is untouched
# and no mirror host name lives in this repository. Debian's source is used
# whenever the archive serves it; NETMEM_DPDK_LTS_SRC (an upstream tarball or
# tree of the same release, e.g. the v25.11.2 tag) is the fallback where the
# index names a package whose files the mirror does not have.
#
#   scripts/dpdk-lts.sh dir     print the install prefix (may not exist yet)
#   scripts/dpdk-lts.sh pc      print the directory holding its libdpdk.pc
#   scripts/dpdk-lts.sh build   fetch + build + install once (reused); print the prefix
#   scripts/dpdk-lts.sh src     print PREFIX/share/netmem-src (DPDK's app/test
#                               and EAL headers of the build, for
#                               tests/dpdk/app-test.sh), fetched again if absent
#
# Environment: NETMEM_CACHE (default $HOME/.cache/netmem), NETMEM_DPDK_LTS
# (the release, default 25.11), NETMEM_JOBS (ninja -j, default 2),
# NETMEM_DPDK_LTS_SRC (a DPDK source tree or tarball of that release, used
# when Debian's source package cannot be fetched).
set -euo pipefail

CACHE_ROOT=${NETMEM_CACHE:-${HOME:-/root}/.cache/netmem}
release=${NETMEM_DPDK_LTS:-25.11}
suites="forky trixie-backports"
jobs=${NETMEM_JOBS:-2}
root=$CACHE_ROOT/dpdk-$release
stamp=$root/.netmem-built
log() { printf '[dpdk-lts] %s\n' "$*" >&2; }
die() { printf 'dpdk-lts: error: %s\n' "$*" >&2; exit 1; }

case ${1:-} in
dir)
	echo "$root"
	exit 0 ;;
pc)
	echo "$root/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/pkgconfig"
	exit 0 ;;
build | src) ;;
*)
	sed -n '2,28s/^# \{0,1\}//p' "$0" >&2
	exit 2 ;;
esac

# Debian's source package: sets version and top, or says why not (returns 1).
fetch_debian_source() {
	local src=/etc/apt/sources.list.d/debian.sources
	[ -f "$src" ] || { why="no $src to derive a deb-src entry from"; return 1; }
	# The first stanza naming plain "bookworm": same URIs/Components/Signed-By.
	awk -v suite="$suites" 'BEGIN{RS=""; ORS="\n\n"}
	     /(^|\n)Suites:[^\n]*(^|[ \t])bookworm([ \t]|\n|$)/ && !done {
		gsub(/Types:[^\n]*/, "Types: deb-src"); gsub(/Suites:[^\n]*/, "Suites: " suite);
		print; done=1 }' "$src" >"$work/src.sources"
	grep -q deb-src "$work/src.sources" || { why="could not derive a deb-src entry from $src"; return 1; }
	local opts=(-o "Dir::Etc::SourceList=$work/src.sources" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work" -o "Dir::Cache::Archives=$work/archives"
		-o APT::Sandbox::User=root)
	log "reading Debian's source index of $suites (deb-src derived from $src)"
	apt-get "${opts[@]}" update -qq >&2 || { why="apt-get update ($suites deb-src) failed"; return 1; }
	# The newest $release.* the index offers (forky may move on to a later LTS).
	version=$(apt-cache "${opts[@]}" showsrc dpdk 2>/dev/null |
		sed -n 's/^Version: //p' | grep -E "^([0-9]+:)?$release\." | sort -V | tail -n1)
	[ -n "$version" ] || { why="Debian's $suites have no dpdk $release.* source package"; return 1; }
	log "fetching dpdk $version"
	if ! (cd "$work" && apt-get "${opts[@]}" source --download-only "dpdk=$version" >&2); then
		why="the index names dpdk $version but apt-get source could not fetch it (seen: 404 from this machine's mirror)"
		return 1
	fi
	local orig
	orig=$(ls "$work"/dpdk_*.orig.tar.* 2>/dev/null | head -n1)
	[ -n "$orig" ] || { why="no orig tarball downloaded"; return 1; }
	log "unpacking $(basename "$orig")"
	tar -xf "$orig" -C "$work" "${members[@]}"
	top=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'dpdk*' | head -n1)
	version="$version (Debian)"
}

# The source tree: Debian's package, else NETMEM_DPDK_LTS_SRC. Sets version, top.
get_source() {
	why=""
	if fetch_debian_source; then
		return 0
	fi
	[ -n "${NETMEM_DPDK_LTS_SRC:-}" ] ||
		die "$why; give a DPDK $release source tree or tarball (the upstream tag) in NETMEM_DPDK_LTS_SRC"
	log "Debian's source: $why; using NETMEM_DPDK_LTS_SRC=$NETMEM_DPDK_LTS_SRC"
	version="$release (from $NETMEM_DPDK_LTS_SRC)"
	if [ -d "$NETMEM_DPDK_LTS_SRC" ]; then
		top=$NETMEM_DPDK_LTS_SRC
	else
		tar -xf "$NETMEM_DPDK_LTS_SRC" -C "$work" "${members[@]}" ||
			die "cannot unpack $NETMEM_DPDK_LTS_SRC"
		top=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'dpdk*' | head -n1)
	fi
}

# What tests/dpdk/app-test.sh builds DPDK's own app/test from: its sources
# and the EAL headers it needs that DPDK does not install.
keep_app_test_src() {
	local dst=$1
	rm -rf "$dst.tmp"
	mkdir -p "$dst.tmp/lib/eal/linux"
	cp -r "$top/app/test" "$dst.tmp/app-test" &&
		cp -r "$top/lib/eal/include" "$dst.tmp/lib/eal/include" &&
		cp -r "$top/lib/eal/linux/include" "$dst.tmp/lib/eal/linux/include" &&
		cp "$top/VERSION" "$dst.tmp/" || die "cannot copy app/test from $top"
	mkdir -p "$dst.tmp/app" && mv "$dst.tmp/app-test" "$dst.tmp/app/test"
	rm -rf "$dst"
	mv "$dst.tmp" "$dst"
}

if [ "$1" = src ]; then
	[ -f "$stamp" ] || die "DPDK $release is not built in $root (scripts/dpdk-lts.sh build)"
	if [ ! -f "$root/share/netmem-src/app/test/test.c" ]; then
		# A cache built before the sources were kept: fetch them again.
		work=$CACHE_ROOT/dpdk-$release.work
		rm -rf "$work"
		mkdir -p "$work/lists/partial" "$work/archives/partial"
		members=(--wildcards "*/app/test/*" "*/lib/eal/include/*" "*/lib/eal/linux/include/*" "*/VERSION")
		get_source
		built=$(PKG_CONFIG_PATH=$("$0" pc) pkg-config --modversion libdpdk)
		[ "$(cat "$top/VERSION")" = "$built" ] ||
			die "the source is DPDK $(cat "$top/VERSION"), the cache's build $built"
		keep_app_test_src "$root/share/netmem-src"
		rm -rf "$work"
	fi
	echo "$root/share/netmem-src"
	exit 0
fi

if [ -f "$stamp" ]; then
	echo "$root"
	exit 0
fi
command -v meson >/dev/null || die "meson is not installed (scripts/install-deps.sh base)"
# DPDK's build runs PATH's python3: make it the one meson runs on (apt's,
# where python3-pyelftools is), not a python3 some tool put first on PATH.
mpy=$(sed -n '1s/^#! *//p' "$(command -v meson)")
case $mpy in /*/python3*) PATH=${mpy%/*}:$PATH ;; esac
python3 -c 'import elftools' 2>/dev/null ||
	die "DPDK's meson needs python3-pyelftools (apt-get install python3-pyelftools)"

t0=$(date +%s)
work=$CACHE_ROOT/dpdk-$release.work
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/archives/partial"
members=()
get_source
[ -f "$top/meson.build" ] || die "no DPDK source tree (meson.build) in $top"
grep -q "^$release" "$top/VERSION" || die "$top is DPDK $(cat "$top/VERSION"), not $release"

# Only the mandatory libraries (enable_libs names one of them: an empty list
# means all). Generic ISA: the cache may be used by a machine other than the one that built it.
drivers=bus/pci,bus/vdev,mempool/ring,mempool/stack,net/null,net/ring,net/e1000
log "configuring (drivers: $drivers; apps: test-pmd, test)"
meson setup "$work/build" "$top" --prefix="$root" --libdir="lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)" \
	-Dbuildtype=release -Ddefault_library=shared -Dplatform=generic \
	-Denable_libs=stack -Denable_drivers="$drivers" \
	-Denable_apps=test-pmd,test -Dtests=true \
	-Denable_driver_sdk=true -Denable_docs=false -Dexamples= \
	-Dcheck_includes=false -Dc_link_args="-Wl,-rpath,$root/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)" \
	>"$work/setup.log" 2>&1 ||
	{ tail -30 "$work/setup.log" >&2; die "meson setup failed ($work/setup.log)"; }
units=$(ninja -C "$work/build" -t targets all 2>/dev/null | grep -c '\.o: ' || true)
log "building about $units objects with -j$jobs (minutes on 2 cores)"
# ninja's status line, one per 25 steps, so a CI log shows progress.
progress() {
	local line step n
	while IFS= read -r line; do
		case $line in
		'['[0-9]*/[0-9]*']'*)
			step=${line%%]*} step=${step#[} n=${step%/*}
			if [ $((n % 25)) -eq 0 ] || [ "$n" = "${step#*/}" ]; then
				log "[$step] $(($(date +%s) - t0)) s"
			fi ;;
		*) printf '%s\n' "$line" >&2 ;;
		esac
	done
}
if ! NINJA_STATUS='[%f/%t] ' ninja -C "$work/build" -j"$jobs" 2>&1 | progress; then
	die "ninja failed (the build is left in $work)"
fi
rm -rf "$root"
meson install -C "$work/build" --no-rebuild >"$work/install.log" 2>&1 ||
	{ tail -20 "$work/install.log" >&2; die "meson install failed"; }
[ -x "$root/bin/dpdk-test" ] || cp "$work/build/app/dpdk-test" "$root/bin/"
[ -f "$root/include/ethdev_driver.h" ] || die "no driver SDK headers installed"
keep_app_test_src "$root/share/netmem-src"
rm -rf "$work"
echo "$version $(($(date +%s) - t0)) s" >"$stamp"
log "dpdk $version built and installed in $root in $(($(date +%s) - t0)) s"
echo "$root"
