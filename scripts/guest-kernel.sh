#!/usr/bin/env bash
# The one place that knows which Linux kernels the netmem test guest boots, and where
# their images and headers live. Nothing is installed on the host: every package is
# unpacked with dpkg-deb into a cache.
#
#   scripts/guest-kernel.sh [--kernel 6.12|7.3] version   the release, e.g. 6.12.95+deb12-amd64
#   scripts/guest-kernel.sh [--kernel 6.12|7.3] dir       the cache directory of its image
#   scripts/guest-kernel.sh [--kernel 6.12|7.3] fetch     unpack image + modules there (once)
#   scripts/guest-kernel.sh [--kernel 6.12|7.3] headers   unpack headers + kbuild (once), make them
#                                      build with this machine's gcc, print the dir for make -C
#   scripts/guest-kernel.sh [--kernel 6.12|7.3] source    download linux-source-<series> (once),
#                                      print the .deb's path
#
# Kernels: 6.12 from bookworm-backports (the default), 7.3 from trixie-backports. The
# release is resolved at run time from what `linux-image-amd64` in that suite depends on:
# a suite keeps only its newest build, so a pinned release breaks the day one is uploaded.
# apt runs on a private state in the cache whose only source is the machine's own Debian
# entry with the suite changed: the host's sources, lists and packages stay as they are.
#
# Environment:
#   NETMEM_CACHE                  cache root (default $HOME/.cache/netmem): images in
#                                 guest/<release>, headers in headers/<release>, apt state
#                                 in apt/<suite>, header and source .debs kept in dl/
#   NETMEM_GUEST_KERNEL_SERIES    the kernel when --kernel is not given (default 6.12)
#   NETMEM_GUEST_KERNEL_VERSION   use this release instead of asking apt
#   NETMEM_GUEST_SUITE            suite to resolve from (default: by series)
#
# Progress goes to stderr; stdout carries only the answer.
# Exit status: 0 ok, 1 failure (message on stderr), 2 usage.
set -euo pipefail

SERIES=${NETMEM_GUEST_KERNEL_SERIES:-6.12}
if [ "${1:-}" = --kernel ]; then
	[ $# -ge 2 ] || { echo "guest-kernel: --kernel needs 6.12 or 7.3" >&2; exit 2; }
	SERIES=$2
	shift 2
fi
case $SERIES in
6.12) DEFAULT_SUITE=bookworm-backports ;;
7.3) DEFAULT_SUITE=trixie-backports ;;
*) echo "guest-kernel: unknown kernel '$SERIES' (6.12 or 7.3)" >&2; exit 2 ;;
esac
SUITE=${NETMEM_GUEST_SUITE:-$DEFAULT_SUITE}
CACHE_ROOT=${NETMEM_CACHE:-${HOME:-/root}/.cache/netmem}
GUEST_CACHE=$CACHE_ROOT/guest
HDR_CACHE=$CACHE_ROOT/headers
DL_CACHE=$CACHE_ROOT/dl
APT_ROOT=$CACHE_ROOT/apt/$SUITE
STAMP=.netmem-fetched

log() { printf 'guest-kernel: %s\n' "$*" >&2; }
die() { printf 'guest-kernel: error: %s\n' "$*" >&2; exit 1; }

usage() {
	sed -n '6,14s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# --- a private apt for $SUITE --------------------------------------------------------

apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$APT_ROOT/sources.list.d"
	-o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$APT_ROOT/preferences.d"
	-o "Dir::State::Lists=$APT_ROOT/lists" -o "Dir::State::Status=/dev/null"
	-o "Dir::Cache=$APT_ROOT/cache" -o "Debug::NoLocking=1")
# As root apt drops to the _apt user, which cannot write into a private cache.
if [ "$(id -u)" -eq 0 ]; then apt_opts+=(-o APT::Sandbox::User=root); fi
papt_get() { apt-get -q "${apt_opts[@]}" "$@"; }
papt_cache() { apt-cache "${apt_opts[@]}" "$@"; }

# The machine's own Debian entry for its release, with only the suite changed.
derive_sources() {
	local codename="" f
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "cannot tell this machine's Debian release (/etc/os-release)"
	mkdir -p "$APT_ROOT/sources.list.d" "$APT_ROOT/preferences.d" "$APT_ROOT/lists/partial" \
		"$APT_ROOT/cache/archives/partial"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822: the first stanza whose Suites names plain "$codename".
		awk -v c="$codename" -v s="$SUITE" 'BEGIN { RS = ""; ORS = "\n\n" }
			$0 ~ ("(^|\n)Suites:[^\n]*[ \t]" c "([ \t]|\n|$)") && !done {
				gsub(/Suites:[^\n]*/, "Suites: " s); print; done = 1 }' "$f"
	done | awk 'BEGIN { RS = ""; ORS = "\n\n" } NR == 1' >"$APT_ROOT/sources.list.d/netmem.sources"
	if [ -s "$APT_ROOT/sources.list.d/netmem.sources" ]; then
		rm -f "$APT_ROOT/sources.list.d/netmem.list"
		return 0
	fi
	rm -f "$APT_ROOT/sources.list.d/netmem.sources"
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -E "^deb[[:space:]].*[[:space:]]$codename([[:space:]]|$)" | head -n1 |
		sed -E "s/[[:space:]]$codename([[:space:]]|$)/ $SUITE\1/" >"$APT_ROOT/sources.list.d/netmem.list"
	[ -s "$APT_ROOT/sources.list.d/netmem.list" ] ||
		die "no Debian $codename entry in this machine's apt sources to derive $SUITE from"
}

apt_update() {
	derive_sources
	log "apt-get update ($SUITE, private state in $APT_ROOT)"
	papt_get update >&2 || die "apt-get update for $SUITE failed"
}

have_lists() { compgen -G "$APT_ROOT/lists/*_Packages*" >/dev/null; }

# --- which release -------------------------------------------------------------------

# "linux-image-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1)" among linux-image-amd64's Depends.
resolve_from_apt() {
	local meta dep rel
	have_lists || return 1
	meta=$(papt_cache madison linux-image-amd64 2>/dev/null |
		awk -F'|' -v series="$SERIES" '{ v = $2; gsub(/[ \t]/, "", v) }
			index(v, series ".") == 1 { print v }' | sort -V | tail -n1) || true
	[ -n "$meta" ] || return 1
	dep=$(papt_cache show "linux-image-amd64=$meta" 2>/dev/null |
		sed -n 's/^Depends: *//p' | head -n1) || true
	rel=$(tr ',' '\n' <<<"$dep" | sed -n 's/^ *linux-image-\([^ ]*\).*/\1/p' | head -n1)
	case $rel in
	"$SERIES".*-amd64) printf '%s\n' "$rel" ;;
	*) return 1 ;;
	esac
}

# Releases of $SERIES already unpacked in the cache, newest last.
cached_releases() {
	local d
	for d in "$GUEST_CACHE"/*/"$STAMP"; do
		[ -e "$d" ] || continue
		d=${d%/"$STAMP"}
		d=${d##*/}
		case $d in "$SERIES".*) printf '%s\n' "$d" ;; esac
	done | sort -V
}

RELEASE=""
resolve() {
	[ -z "$RELEASE" ] || return 0
	if [ -n "${NETMEM_GUEST_KERNEL_VERSION:-}" ]; then
		RELEASE=$NETMEM_GUEST_KERNEL_VERSION
		return 0
	fi
	RELEASE=$(resolve_from_apt) && return 0
	# No lists yet (first run): fetch them, unless the cache already has a release.
	RELEASE=$(cached_releases | tail -n1)
	[ -z "$RELEASE" ] || return 0
	apt_update
	RELEASE=$(resolve_from_apt) ||
		die "apt knows no linux-image-amd64 $SERIES.x in $SUITE"
}

# The packages that make up a part ("image" or "headers") of $RELEASE, from apt.
packages() {
	local p deps
	case $1 in
	image)
		# 6.12 ships one package; 7.x splits kernel, modules and config/System.map.
		if papt_cache show "linux-image-$RELEASE-unsigned" >/dev/null 2>&1; then
			echo "linux-image-$RELEASE-unsigned"
		else
			for p in "linux-binary-unsigned-$RELEASE" "linux-modules-$RELEASE" "linux-base-$RELEASE"; do
				papt_cache show "$p" >/dev/null 2>&1 || return 1
				echo "$p"
			done
		fi
		;;
	headers)
		echo "linux-headers-$RELEASE"
		# + its -common and linux-kbuild, as the package names them.
		deps=$(papt_cache show "linux-headers-$RELEASE" 2>/dev/null | sed -n 's/^Depends: *//p' | head -n1)
		[ -n "$deps" ] || return 1
		tr ',' '\n' <<<"$deps" | sed -n 's/^ *\(linux-headers-[^ ]*-common\|linux-kbuild-[^ ]*\).*/\1/p'
		;;
	esac
}

# apt-get download PKGS into DL_CACHE (kept: a second unpack needs no network); prints
# the .deb paths. A failure refreshes the lists once (a new upload removes old builds).
download() {
	local p f debs=() missing=()
	mkdir -p "$DL_CACHE"
	for p in "$@"; do
		f=$(compgen -G "$DL_CACHE/${p}_*.deb" | sort -V | tail -n1) || true
		if [ -n "$f" ]; then debs+=("$f"); else missing+=("$p"); fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "downloading ${missing[*]} ($SUITE)"
		[ -s "$APT_ROOT/sources.list.d/netmem.sources" ] || [ -s "$APT_ROOT/sources.list.d/netmem.list" ] ||
			derive_sources
		if ! (cd "$DL_CACHE" && papt_get download "${missing[@]}" >&2); then
			apt_update
			(cd "$DL_CACHE" && papt_get download "${missing[@]}" >&2) ||
				die "cannot download ${missing[*]} from $SUITE"
		fi
		for p in "${missing[@]}"; do
			f=$(compgen -G "$DL_CACHE/${p}_*.deb" | sort -V | tail -n1) || die "apt-get download left no $p"
			debs+=("$f")
		done
	fi
	printf '%s\n' "${debs[@]}"
}

# Names the parts of $RELEASE; refreshes the lists once when apt does not know them.
part_packages() {
	local out
	if out=$(packages "$1"); then printf '%s\n' "$out"; return 0; fi
	apt_update >&2
	packages "$1" || die "apt knows no $1 packages for $RELEASE in $SUITE"
}

# --- the image -------------------------------------------------------------------------

kdir() { printf '%s/%s\n' "$GUEST_CACHE" "$RELEASE"; }

cmd_fetch() {
	resolve
	local dir tmp deb depmod
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
	local pkgs debs
	pkgs=$(part_packages image)
	# shellcheck disable=SC2086 # one package name per word
	debs=$(download $pkgs)
	mkdir "$tmp/root"
	while read -r deb; do
		log "unpacking ${deb##*/}"
		dpkg-deb -x "$deb" "$tmp/root"
	done <<<"$debs"
	# One layout for every release: boot/vmlinuz-REL and lib/modules/REL (7.x ships
	# usr/lib/modules/REL/vmlinuz.unsigned).
	if [ ! -d "$tmp/root/lib/modules/$RELEASE" ] && [ -d "$tmp/root/usr/lib/modules/$RELEASE" ]; then
		mv "$tmp/root/usr/lib/modules" "$tmp/root/lib-modules"
		mkdir -p "$tmp/root/lib"
		mv "$tmp/root/lib-modules" "$tmp/root/lib/modules"
	fi
	if [ ! -f "$tmp/root/boot/vmlinuz-$RELEASE" ] && [ -f "$tmp/root/lib/modules/$RELEASE/vmlinuz.unsigned" ]; then
		mkdir -p "$tmp/root/boot"
		mv "$tmp/root/lib/modules/$RELEASE/vmlinuz.unsigned" "$tmp/root/boot/vmlinuz-$RELEASE"
	fi
	# The unpacked tree is what is kept (the modules .deb alone is 100 MB).
	while read -r deb; do rm -f "$deb"; done <<<"$debs"
	[ -f "$tmp/root/boot/vmlinuz-$RELEASE" ] || die "no vmlinuz for $RELEASE in $pkgs"
	[ -d "$tmp/root/lib/modules/$RELEASE/kernel" ] || die "no modules for $RELEASE in $pkgs"
	# The packages ship no modules.dep (postinst runs depmod); build it here so modprobe
	# works in the guest and dependencies can be resolved on the host.
	log "depmod $RELEASE"
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

# --- the headers -----------------------------------------------------------------------

glibc_of_host() { getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $2 }'; }

# The newest GLIBC_x.y an ELF file asks for.
glibc_needed() {
	{ objdump -T "$1" 2>/dev/null || true; } | { grep -o 'GLIBC_[0-9][0-9.]*' || true; } | sed 's/GLIBC_//' | sort -V | tail -n1
}

# Is version $1 newer than $2?
newer() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n1)" = "$1" ]; }

# linux-source-$SERIES, unpacked in part into $1 (tools, scripts, include, x86, Kconfig).
unpack_source() {
	local deb
	deb=$(download "linux-source-$SERIES")
	log "unpacking the parts of ${deb##*/} that kbuild's tools and Kconfig need"
	# The .deb holds one tarball; read it from the pipe, no copy on disk.
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -O --wildcards './usr/src/linux-source-*.tar.*' |
		tar -xJ -C "$1" --strip-components=1 --wildcards \
			'linux-source-*/Makefile' 'linux-source-*/*Kconfig*' 'linux-source-*/tools' \
			'linux-source-*/scripts' 'linux-source-*/include' 'linux-source-*/arch/x86' ||
		die "cannot unpack ${deb##*/}"
}

# The headers were built by a compiler this machine may not have (7.3: gcc 14). Use the
# host's gcc, and drop the compiler-feature options its own Kconfig probes turn off for
# it (e.g. -fmin-function-alignment; asm goto output, off for gcc 12.0-12.3, GCC bug
# 113921): only CONFIG_CC_HAS_* and CONFIG_CC_OPT_*, never an option that shapes a
# structure. BTF for modules needs a newer pahole than bookworm's (--btf_features): off
# for the module build (auto.conf only; autoconf.h keeps it, struct module depends on it).
fix_compiler() { # HDRDIR KBUILDDIR SRCDIR
	local h=$1 k=$2 s=$3 cc drop sym
	cc=$(command -v gcc) || die "no gcc"
	log "building with $($cc --version | head -n1) instead of $(sed -n 's/^CONFIG_CC_VERSION_TEXT=//p' "$h/include/config/auto.conf")"
	sed -i -E "s|^CC = .*|CC = $cc|" "$h/.kernelvariables"
	cp "$h/.config" "$s/.config.gcc"
	(cd "$s" && env srctree=. ARCH=x86 SRCARCH=x86 KERNELVERSION="${RELEASE%%+*}" CC="$cc" LD=ld \
		HOSTCC=gcc HOSTCXX=g++ RUSTC=false BINDGEN=false \
		CC_VERSION_TEXT="$($cc --version | head -n1)" KCONFIG_CONFIG=.config.gcc \
		"$k/scripts/kconfig/conf" --olddefconfig Kconfig >"$s/kconfig.log" 2>&1) ||
		{ cat "$s/kconfig.log" >&2; die "Kconfig probe with $cc failed"; }
	drop=$(comm -23 <(grep -oE '^CONFIG_CC_(HAS|OPT)_[A-Z0-9_]+' "$h/.config" | sort) \
		<(grep -oE '^CONFIG_CC_(HAS|OPT)_[A-Z0-9_]+' "$s/.config.gcc" | sort))
	for sym in $drop; do
		sed -i "/^$sym=/d" "$h/include/config/auto.conf"
		sed -i "/^#define $sym /d" "$h/include/generated/autoconf.h"
	done
	sed -i '/^CONFIG_DEBUG_INFO_BTF_MODULES=/d' "$h/include/config/auto.conf"
	# Without BTF pahole is unused; the version kbuild compares (and warns about) is ours.
	local pv
	pv=$("$k/scripts/pahole-version.sh" pahole 2>/dev/null) || pv=0
	sed -i "s/^CONFIG_PAHOLE_VERSION=.*/CONFIG_PAHOLE_VERSION=$pv/" "$h/include/config/auto.conf"
	log "dropped for $(basename "$cc"): $(echo $drop) and (auto.conf only) CONFIG_DEBUG_INFO_BTF_MODULES; CONFIG_PAHOLE_VERSION=$pv (auto.conf)"
}

# kbuild's host tools that need a newer glibc than this machine's: rebuilt from source.
fix_tools() { # KBUILDDIR SRCDIR TOOL...
	local k=$1 s=$2 t
	shift 2
	for t in "$@"; do
		case $t in
		tools/objtool/objtool.real-x86 | tools/objtool/objtool)
			[ -x "$s/tools/objtool/objtool" ] || {
				log "building objtool with gcc"
				make -s -C "$s/tools/objtool" -j2 >"$s/objtool.log" 2>&1 ||
					{ tail -n 20 "$s/objtool.log" >&2; die "objtool build failed"; }
			}
			install -m 0755 "$s/tools/objtool/objtool" "$k/$t"
			;;
		scripts/mod/modpost.real-lsb-64 | scripts/mod/modpost)
			[ -x "$s/scripts/mod/modpost" ] || build_modpost "$s"
			install -m 0755 "$s/scripts/mod/modpost" "$k/$t"
			;;
		tools/objtool/objtool.real-* | scripts/mod/modpost.real-*)
			;; # other targets than x86_64: never run here
		tools/bpf/resolve_btfids/*)
			# Only BTF for modules runs it, and that is off (fix_compiler).
			log "leaving $t (needs a newer glibc; unused without BTF for modules)"
			;;
		*) die "$t needs a newer glibc than this machine's and there is no recipe to rebuild it" ;;
		esac
	done
}

# modpost and its generated headers (elfconfig.h, devicetable-offsets.h) as kbuild makes
# them, from the source tree's scripts/mod Makefile run against the fixed-up headers.
build_modpost() {
	local s=$1 h=$HDRS
	log "building modpost with gcc"
	rm -rf "$s/modpost-build"
	cp -r "$s/scripts/mod" "$s/modpost-build"
	mv "$s/modpost-build/Makefile" "$s/modpost-build/Kbuild"
	# The build stage makes the tools; the final modpost stage would run the old one.
	# scripts/include (hash.h, xalloc.h) is not in linux-kbuild. The build stage makes
	# modpost; the final stage then runs the old one and fails: only the binary counts.
	make -s -C "$h" M="$s/modpost-build" -j2 HOSTCFLAGS="-I$s/scripts/include" \
		>"$s/modpost.log" 2>&1 || true
	[ -x "$s/modpost-build/modpost" ] || { tail -n 30 "$s/modpost.log" >&2; die "modpost build failed"; }
	install -m 0755 "$s/modpost-build/modpost" "$s/scripts/mod/modpost"
}

hdir() { printf '%s/%s\n' "$HDR_CACHE" "$RELEASE"; }

cmd_headers() {
	resolve
	local root out
	root=$(hdir)
	out=$root/usr/src/linux-headers-$RELEASE
	if [ -e "$root/$STAMP" ]; then
		printf '%s\n' "$out"
		return 0
	fi
	mkdir -p "$HDR_CACHE"
	exec 9>"$HDR_CACHE/.lock-$RELEASE"
	flock 9
	if [ -e "$root/$STAMP" ]; then
		printf '%s\n' "$out"
		return 0
	fi
	local tmp pkgs debs deb
	tmp=$(mktemp -d "$HDR_CACHE/.fetch-$RELEASE.XXXXXX")
	# shellcheck disable=SC2064 # expand $tmp now
	trap "rm -rf '$tmp'" EXIT
	pkgs=$(part_packages headers)
	# shellcheck disable=SC2086
	debs=$(download $pkgs)
	local r=$tmp/root
	mkdir "$r"
	while read -r deb; do
		log "unpacking ${deb##*/}"
		dpkg-deb -x "$deb" "$r"
	done <<<"$debs"
	local h=$r/usr/src/linux-headers-$RELEASE final_h=$out
	[ -f "$h/Makefile" ] || die "linux-headers-$RELEASE has no Makefile"
	# The packages point at /usr/src with absolute paths: point them at this tree.
	sed -i -E "s|^(include[[:space:]]+)/usr/src/|\1$root/usr/src/|; s|^(KBUILD_OUTPUT[[:space:]]*=[[:space:]]*)/usr/src/|\1$root/usr/src/|" \
		"$h/Makefile"
	grep -q "$root/usr/src/" "$h/Makefile" || die "unexpected $h/Makefile: $(head -n3 "$h/Makefile")"
	# lib/modules/REL/{build,source}: relative, inside this tree.
	local m l t
	for m in "$r"/lib/modules/"$RELEASE" "$r"/usr/lib/modules/"$RELEASE"; do
		for l in build source; do
			[ -L "$m/$l" ] || continue
			t=$(readlink "$m/$l")
			case $t in /*) ln -sfn "$(realpath -m --relative-to="$m" "$r$t")" "$m/$l" ;; esac
		done
	done
	# linux-kbuild-X, where the headers' scripts link leads.
	local k kb
	kb=$(cd "$h" && cd "$(dirname "$(readlink scripts)")" && pwd) ||
		die "linux-headers-$RELEASE: its scripts link leads nowhere (no linux-kbuild?)"
	kb=${kb#"$r"/}
	k=$r/$kb
	# What cannot run here: a compiler this machine lacks, tools linked to a newer glibc.
	local cc host_glibc f need stale=() src=""
	cc=$(sed -n -E 's/^CC = .*\)(\$\(CROSS_COMPILE\))?//p' "$h/.kernelvariables" 2>/dev/null | head -n1)
	[ -n "$cc" ] || cc=gcc
	host_glibc=$(glibc_of_host)
	while IFS= read -r f; do
		need=$(glibc_needed "$f")
		if [ -n "$need" ] && newer "$need" "$host_glibc"; then stale+=("${f#"$k"/}"); fi
	done < <(find "$k" -type f -perm -u+x)
	if ! command -v "x86_64-linux-gnu-$cc" >/dev/null || [ ${#stale[@]} -gt 0 ]; then
		src=$tmp/src
		mkdir "$src"
		unpack_source "$src"
	fi
	# Fixed up in place under the final path (kbuild bakes the path into what it builds).
	rm -rf "$root"
	mv "$r" "$root"
	HDRS=$final_h k=$root/$kb
	if ! command -v "x86_64-linux-gnu-$cc" >/dev/null; then
		fix_compiler "$final_h" "$k" "$src"
	fi
	if [ ${#stale[@]} -gt 0 ]; then
		log "needing glibc > $host_glibc: ${stale[*]}"
		# objtool and modpost are wrappers that run objtool.real-ARCH, modpost.real-*.
		fix_tools "$k" "$src" "${stale[@]}"
	fi
	touch "$root/$STAMP"
	rm -rf "$tmp"
	trap - EXIT
	log "headers ready in $final_h"
	printf '%s\n' "$final_h"
}

cmd_source() {
	resolve
	download "linux-source-$SERIES"
}

[ $# -eq 1 ] || usage
case $1 in
version) resolve; printf '%s\n' "$RELEASE" ;;
dir) resolve; kdir ;;
fetch) cmd_fetch ;;
headers) cmd_headers ;;
source) cmd_source ;;
-h | --help | help) usage ;;
*) usage ;;
esac
