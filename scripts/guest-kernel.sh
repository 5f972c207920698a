#!/usr/bin/env bash
# The one place that knows which Linux kernel the netmem test guest boots.
#
#   scripts/guest-kernel.sh version   print the kernel release, e.g. 6.12.95+deb12-amd64
#   scripts/guest-kernel.sh dir       print the cache directory for that release
#   scripts/guest-kernel.sh fetch     download + unpack linux-image-<release>-unsigned into
#                                     that directory (once; later calls only print it)
#   scripts/guest-kernel.sh headers   install linux-headers-<release> from bookworm-backports
#                                     (once) and print /usr/src/linux-headers-<release>
#
# The release is resolved at run time from what `linux-image-amd64` in bookworm-backports
# depends on: that suite keeps only its newest 6.12 build, so a pinned release would break
# the day a new one is uploaded. Nothing here names a mirror; apt uses the machine's sources.
#
# Environment:
#   NETMEM_CACHE                    cache root (default $HOME/.cache/netmem); the guest
#                                   kernel lives in $NETMEM_CACHE/guest/<release>
#   NETMEM_GUEST_KERNEL_VERSION     use this release instead of asking apt
#   NETMEM_GUEST_KERNEL_SERIES      upstream series to pick from backports (default 6.12)
#   NETMEM_GUEST_SUITE              suite to resolve from (default bookworm-backports)
#
# Progress and errors go to stderr; stdout carries only the requested answer.
# Exit status: 0 ok, 1 failure (message on stderr), 2 usage.
set -euo pipefail

SUITE=${NETMEM_GUEST_SUITE:-bookworm-backports}
SERIES=${NETMEM_GUEST_KERNEL_SERIES:-6.12}
CACHE_ROOT=${NETMEM_CACHE:-${HOME:-/root}/.cache/netmem}
GUEST_CACHE=$CACHE_ROOT/guest
STAMP=.netmem-fetched

log() { printf 'guest-kernel: %s\n' "$*" >&2; }
die() { printf 'guest-kernel: error: %s\n' "$*" >&2; exit 1; }

usage() {
	sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

# The metapackage version in $SUITE whose upstream part is $SERIES.
bpo_meta_version() {
	apt-cache madison linux-image-amd64 2>/dev/null |
		awk -F'|' -v suite="$SUITE" -v series="$SERIES" '
			{ v = $2; gsub(/[ \t]/, "", v); src = $3 }
			src ~ ("[ /]" suite "/") && index(v, series ".") == 1 { print v }' |
		head -n1
}

# Releases already unpacked in the cache, newest last.
cached_releases() {
	local d
	for d in "$GUEST_CACHE"/*/"$STAMP"; do
		[ -e "$d" ] || continue
		d=${d%/"$STAMP"}
		d=${d##*/}
		case $d in "$SERIES".*) printf '%s\n' "$d" ;; esac
	done | sort -V
}

resolve_from_apt() {
	local meta dep rel
	meta=$(bpo_meta_version) || true
	[ -n "$meta" ] || return 1
	dep=$(apt-cache show "linux-image-amd64=$meta" 2>/dev/null |
		sed -n 's/^Depends: *//p' | head -n1) || true
	# "linux-image-6.12.95+deb12-amd64 (= 6.12.95-1~bpo12+1)" -> 6.12.95+deb12-amd64
	rel=${dep%%[ ,]*}
	rel=${rel#linux-image-}
	case $rel in
	"$SERIES".*-amd64) printf '%s\n' "$rel" ;;
	*) return 1 ;;
	esac
}

RELEASE=""
resolve() {
	[ -z "$RELEASE" ] || return 0
	if [ -n "${NETMEM_GUEST_KERNEL_VERSION:-}" ]; then
		RELEASE=$NETMEM_GUEST_KERNEL_VERSION
		return 0
	fi
	# Asking apt takes about a second (it parses every list), so the answer is kept,
	# keyed on the suite, the series and the apt lists themselves: any apt-get update
	# that changes them asks apt again.
	local key memo=$GUEST_CACHE/.resolved
	key=$({
		echo "$SUITE $SERIES"
		stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* 2>/dev/null || true
	} | sha256sum | cut -c1-32)
	if [ -r "$memo" ] && read -r k r <"$memo" && [ "$k" = "$key" ] && [ -n "$r" ]; then
		RELEASE=$r
		return 0
	fi
	if RELEASE=$(resolve_from_apt); then
		if mkdir -p "$GUEST_CACHE" 2>/dev/null &&
			printf '%s %s\n' "$key" "$RELEASE" 2>/dev/null >"$memo.$$"; then
			mv -f "$memo.$$" "$memo"
		fi
		return 0
	fi
	# Offline or lists without the suite: fall back to what the cache already holds.
	RELEASE=$(cached_releases | tail -n1)
	if [ -n "$RELEASE" ]; then
		log "apt knows no linux-image-amd64 $SERIES in $SUITE; using cached $RELEASE"
		return 0
	fi
	die "apt knows no linux-image-amd64 $SERIES.x in $SUITE (run scripts/install-deps.sh guest, then apt-get update)"
}

kdir() { printf '%s/%s\n' "$GUEST_CACHE" "$RELEASE"; }

# Download linux-image-$RELEASE-unsigned into $1.
download() {
	local into=$1 opts=(-q)
	# As root apt drops to the _apt user, which cannot write into a private cache.
	if [ "$(id -u)" -eq 0 ]; then opts+=(-o APT::Sandbox::User=root); fi
	(cd "$into" && apt-get "${opts[@]}" download "linux-image-$RELEASE-unsigned" >&2)
}

cmd_fetch() {
	resolve
	local dir tmp deb
	dir=$(kdir)
	if [ -e "$dir/$STAMP" ]; then
		printf '%s\n' "$dir"
		return 0
	fi
	mkdir -p "$GUEST_CACHE"
	# Parallel callers (meson runs tests in parallel) wait for one download.
	exec 9>"$GUEST_CACHE/.lock-$RELEASE"
	flock 9
	if [ -e "$dir/$STAMP" ]; then
		printf '%s\n' "$dir"
		return 0
	fi
	tmp=$(mktemp -d "$GUEST_CACHE/.fetch-$RELEASE.XXXXXX")
	# shellcheck disable=SC2064 # expand $tmp now
	trap "rm -rf '$tmp'" EXIT
	log "downloading linux-image-$RELEASE-unsigned ($SUITE)"
	if ! download "$tmp"; then
		# The lists may predate a new upload that removed this build from the archive.
		if [ -z "${NETMEM_GUEST_KERNEL_VERSION:-}" ] && [ "$(id -u)" -eq 0 ]; then
			log "download failed; refreshing apt lists and resolving again"
			apt-get update -qq >&2 || true
			local old=$RELEASE
			RELEASE=""
			RELEASE=$(resolve_from_apt) || die "no $SERIES kernel in $SUITE after apt-get update"
			if [ "$RELEASE" != "$old" ]; then
				# Different release: retry via a fresh invocation (new lock, new dir).
				rm -rf "$tmp"
				trap - EXIT
				exec 9>&-
				NETMEM_GUEST_KERNEL_VERSION=$RELEASE exec "$0" fetch
			fi
			download "$tmp" || die "cannot download linux-image-$RELEASE-unsigned"
		else
			die "cannot download linux-image-$RELEASE-unsigned"
		fi
	fi
	deb=$(find "$tmp" -maxdepth 1 -name '*.deb' -print -quit)
	[ -n "$deb" ] || die "apt-get download produced no .deb"
	log "unpacking $(basename "$deb")"
	mkdir "$tmp/root"
	dpkg -x "$deb" "$tmp/root"
	rm -f "$deb"
	[ -f "$tmp/root/boot/vmlinuz-$RELEASE" ] || die "package has no boot/vmlinuz-$RELEASE"
	[ -d "$tmp/root/lib/modules/$RELEASE" ] || die "package has no lib/modules/$RELEASE"
	# The package ships no modules.dep (its postinst runs depmod); build it here so
	# modprobe works in the guest and dependencies can be resolved on the host.
	log "depmod $RELEASE"
	local depmod
	depmod=$(PATH=$PATH:/usr/sbin:/sbin command -v depmod) || die "depmod not found (install kmod)"
	"$depmod" -b "$tmp/root" "$RELEASE"
	touch "$tmp/root/$STAMP"
	rm -rf "$dir"
	mv "$tmp/root" "$dir"
	rm -rf "$tmp"
	trap - EXIT
	log "guest kernel ready in $dir"
	printf '%s\n' "$dir"
}

cmd_headers() {
	resolve
	local pkg=linux-headers-$RELEASE dst=/usr/src/linux-headers-$RELEASE
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		log "installing $pkg ($SUITE)"
		DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq \
			--no-install-recommends -t "$SUITE" "$pkg" >&2 ||
			die "cannot install $pkg"
	fi
	[ -d "$dst" ] || die "$pkg installed but $dst is missing"
	printf '%s\n' "$dst"
}

[ $# -eq 1 ] || usage
case $1 in
version) resolve; printf '%s\n' "$RELEASE" ;;
dir) resolve; kdir ;;
fetch) cmd_fetch ;;
headers) cmd_headers ;;
-h | --help | help) usage ;;
*) usage ;;
esac
