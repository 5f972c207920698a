#!/usr/bin/env bash
# Installs netmem's build and test dependencies from Debian's packages.
# Idempotent: safe to run again; it only installs what is missing.
#
#   scripts/install-deps.sh [base|guest|dpdk-lts|all]   (default: all)
#
# base     : compiler, meson, libnuma, libdrm, DPDK 22.11 (what `meson test` on the host needs)
# guest    : + bookworm-backports (QEMU 10), busybox; the 6.12 and 7.3 guest kernels and
#            their headers unpacked into ~/.cache/netmem (scripts/guest-kernel.sh), not installed
# dpdk-lts : + DPDK 25.11 LTS built from Debian's source package into the cache
#            (scripts/dpdk-lts.sh; minutes on 2 cores the first time, reused after)
# all      : base + guest + dpdk-lts (a dpdk-lts that cannot be built is reported,
#            not fatal: its tests skip, saying why)
#
# bookworm-backports is added by copying this machine's own Debian sources entry
# with only the suite changed, so no mirror host name lives in this repository.
set -euo pipefail

what=${1:-all}
case $what in base | guest | dpdk-lts | all) ;; *) echo "usage: $0 [base|guest|dpdk-lts|all]" >&2; exit 2 ;; esac
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[install-deps] %s\n' "$*"; }

bpo_list=/etc/apt/sources.list.d/netmem-bookworm-backports.sources

add_backports() {
	if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return 0
	fi
	local src=/etc/apt/sources.list.d/debian.sources
	if [ -f "$src" ]; then
		# deb822: take the first stanza whose Suites names plain "bookworm",
		# keep its URIs/Components/Signed-By, change only the suite.
		awk 'BEGIN{RS=""; ORS="\n\n"}
		     /(^|\n)Suites:[^\n]*(^|[ \t])bookworm([ \t]|\n|$)/ && !done {
			gsub(/Suites:[^\n]*/, "Suites: bookworm-backports"); print; done=1 }' \
			"$src" | $SUDO tee "$bpo_list" >/dev/null
	elif [ -f /etc/apt/sources.list ]; then
		grep -E '^deb[[:space:]].*[[:space:]]bookworm[[:space:]]' /etc/apt/sources.list | head -n1 |
			sed -E 's/[[:space:]]bookworm[[:space:]]/ bookworm-backports /' |
			$SUDO tee /etc/apt/sources.list.d/netmem-bookworm-backports.list >/dev/null
	fi
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "install-deps: could not derive a bookworm-backports entry from this machine's sources" >&2
		exit 1
	fi
	log "added bookworm-backports (derived from the machine's Debian sources)"
	$SUDO apt-get update -qq
}

missing() {
	local p out=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || out+=("$p")
	done
	echo "${out[@]:-}"
}

apt_install() { # [-t suite] pkgs...
	local target=()
	if [ "$1" = "-t" ]; then target=(-t "$2"); shift 2; fi
	local need
	need=$(missing "$@")
	[ -n "$need" ] || return 0
	log "apt-get install ${target[*]:-} $need"
	# shellcheck disable=SC2086
	if ! $SUDO apt-get install -y -qq --no-install-recommends "${target[@]}" $need >/dev/null; then
		# Stale package lists name versions the archive no longer has.
		log "install failed; refreshing the package lists and trying again"
		$SUDO apt-get update -qq
		$SUDO apt-get install -y -qq --no-install-recommends "${target[@]}" $need >/dev/null
	fi
}

updated=0
ensure_updated() {
	[ $updated -eq 1 ] && return 0
	# apt lists are needed once per machine; refresh if they look absent
	if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || [ -n "${NETMEM_APT_UPDATE:-}" ]; then
		$SUDO apt-get update -qq
	fi
	updated=1
}

base_pkgs=(build-essential meson ninja-build pkg-config python3 libnuma-dev
	dpdk dpdk-dev libdpdk-dev cpio kmod busybox-static
	# The TCP tests (TAP on the host, igb in the guest): ip/tc/ss, ping,
	# netcat, socat and iperf3 as ordinary senders.
	iproute2 iputils-ping netcat-openbsd socat iperf3
	# The TCP fuzz target (tests/fuzz, meson test tcp-fuzz): clang and
	# libFuzzer's runtime (clang only recommends it).
	clang libclang-rt-14-dev
	# DPDK's own meson (scripts/dpdk-lts.sh) reads ELF notes with it.
	python3-pyelftools)

ensure_updated
add_backports
# QEMU 10 from backports upgrades libdrm2, so libdrm-dev must come from backports too.
apt_install -t bookworm-backports libdrm-dev
apt_install "${base_pkgs[@]}"
# DPDK's driver SDK headers for the net_netmem_igb PMD (Debian's libdpdk-dev leaves
# them out): from Debian's source package of the installed DPDK, into a cache.
"$(dirname "$0")/dpdk-driver-sdk.sh" fetch >/dev/null

if [ "$what" = guest ] || [ "$what" = all ]; then
	apt_install -t bookworm-backports qemu-system-x86
	# 7.3's kbuild tools are rebuilt here (objtool links libelf).
	apt_install libelf-dev
	# Upstream's ncdevmem and its ynl library are generated from the kernel's
	# netlink specs by ynl's Python (scripts/ncdevmem.sh, kmod-ncdevmem).
	apt_install python3-yaml python3-jsonschema
	# The guest's kernels, 6.12 and 7.3, and the headers kernel modules are built
	# against: unpacked into ~/.cache/netmem, never installed on this machine
	# (scripts/guest-kernel.sh resolves the versions and says what it does).
	for k in 6.12 7.3; do
		"$(dirname "$0")/guest-kernel.sh" --kernel "$k" fetch >/dev/null
		"$(dirname "$0")/guest-kernel.sh" --kernel "$k" headers >/dev/null
	done
fi
if [ "$what" = dpdk-lts ] || [ "$what" = all ]; then
	# src: DPDK's app/test sources for dpdk_app_test (kept by a build;
	# fetched again for a cache built before they were).
	if [ "$what" = dpdk-lts ]; then
		"$(dirname "$0")/dpdk-lts.sh" build >/dev/null
		"$(dirname "$0")/dpdk-lts.sh" src >/dev/null
	elif ! { "$(dirname "$0")/dpdk-lts.sh" build && "$(dirname "$0")/dpdk-lts.sh" src; } >/dev/null; then
		log "DPDK 25.11 LTS not built, or its app/test sources missing (above): those tests skip"
	fi
fi
log "done ($what)"
