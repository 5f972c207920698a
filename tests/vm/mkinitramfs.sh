#!/usr/bin/env bash
# Builds the netmem test guest's initramfs and prints its path.
#
#   tests/vm/mkinitramfs.sh
#
# The initramfs holds a static busybox, tests/vm/init.sh as /init, and the guest
# kernel's modules (decompressed) for 9p, VFIO, igb and vgem, with every dependency
# resolved through the kernel's modules.dep (modprobe --show-depends), not by hand.
# /etc/netmem/modules.boot lists, in load order, what /init loads at boot; vgem and its
# DRM dependencies are included but loaded on demand (`modprobe vgem` in the guest).
#
# The result is cached next to the unpacked kernel ($(scripts/guest-kernel.sh dir))
# under a name derived from every input (kernel release, this script, init.sh,
# busybox, module lists); it is rebuilt only when one of them changes.
#
# Exit status: 0 ok, 77 a needed tool is missing, 1 other failure.
set -euo pipefail

# Loaded by /init, in this order after dependency resolution.
BOOT_MODULES=(netfs 9pnet 9pnet_virtio 9p overlay
	irqbypass vfio vfio_iommu_type1 vfio-pci-core vfio-pci
	dca i2c-algo-bit igb)
# Present in the initramfs, loaded on demand.
EXTRA_MODULES=(vgem)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd)

log() { printf 'mkinitramfs: %s\n' "$*" >&2; }
die() { printf 'mkinitramfs: error: %s\n' "$*" >&2; exit 1; }
skip() { printf 'mkinitramfs: %s\n' "$*" >&2; exit 77; }

export PATH=$PATH:/usr/sbin:/sbin
for tool in cpio modprobe depmod sha256sum flock; do
	command -v "$tool" >/dev/null || skip "$tool not found (scripts/install-deps.sh guest)"
done
busybox=/bin/busybox
[ -x "$busybox" ] || skip "$busybox not found (install busybox-static)"
# A dynamically linked busybox cannot run from the initramfs.
if ldd "$busybox" >/dev/null 2>&1; then
	skip "$busybox is dynamically linked (install busybox-static)"
fi

kdir=$("$repo/scripts/guest-kernel.sh" fetch) || skip "cannot fetch the guest kernel"
kver=${kdir##*/}
kmods=$kdir/lib/modules/$kver
[ -f "$kmods/modules.dep" ] || die "$kmods/modules.dep missing"

key=$({
	echo "$kver"
	echo "${BOOT_MODULES[*]} / ${EXTRA_MODULES[*]}"
	sha256sum "$here/mkinitramfs.sh" "$here/init.sh" "$busybox" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
out=$kdir/initramfs-$key.cpio

if [ -f "$out" ]; then
	printf '%s\n' "$out"
	exit 0
fi

exec 9>"$kdir/.initramfs.lock"
flock 9
if [ -f "$out" ]; then
	printf '%s\n' "$out"
	exit 0
fi

log "building initramfs for $kver"
stage=$(mktemp -d "${TMPDIR:-/tmp}/netmem-initramfs.XXXXXX")
# shellcheck disable=SC2064 # expand $stage now
trap "rm -rf '$stage'" EXIT

# Module files (relative to $kmods) for the given names, dependencies first, once each.
resolve() {
	local m line path
	for m in "$@"; do
		modprobe -d "$kdir" -S "$kver" --show-depends "$m" ||
			die "cannot resolve module $m for $kver"
	done | while read -r line; do
		case $line in
		insmod\ *)
			path=${line#insmod }
			path=${path%% *}
			printf '%s\n' "${path#"$kmods"/}"
			;;
		builtin\ *) ;;
		*) die "unexpected modprobe output: $line" ;;
		esac
	done | awk '!seen[$0]++'
}

boot=$(resolve "${BOOT_MODULES[@]}")
extra=$(resolve "${EXTRA_MODULES[@]}")
all=$(printf '%s\n%s\n' "$boot" "$extra" | awk '!seen[$0]++')

mkdir -p "$stage"/{bin,sbin,dev,proc,sys,host,etc/netmem,netmem,"lib/modules/$kver"}
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done
install -m 0755 "$here/init.sh" "$stage/init"

# Decompressed: insmod in /init then needs no decompressor, and no module is read twice.
strip_ext() { local f=$1; f=${f%.xz}; f=${f%.zst}; f=${f%.gz}; printf '%s\n' "$f"; }
while read -r rel; do
	src=$kmods/$rel
	dst=$stage/lib/modules/$kver/$(strip_ext "$rel")
	mkdir -p "$(dirname "$dst")"
	case $rel in
	*.ko.xz) if command -v xz >/dev/null; then xz -dc "$src"; else "$busybox" xzcat "$src"; fi >"$dst" ;;
	*.ko.zst) command -v zstd >/dev/null || skip "zstd not found (install zstd)"
		zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*.ko) cp "$src" "$dst" ;;
	*) die "unexpected module file $rel" ;;
	esac
done <<<"$all"
while read -r rel; do strip_ext "$rel"; done <<<"$boot" >"$stage/etc/netmem/modules.boot"
cp "$kmods/modules.order" "$kmods/modules.builtin" "$kmods/modules.builtin.modinfo" \
	"$stage/lib/modules/$kver/"
# modules.dep for busybox modprobe inside the initramfs.
depmod -b "$stage" "$kver"

# Uncompressed: under TCG, decompressing costs more than loading a few MB more.
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
# Older builds for this kernel are no longer wanted (a QEMU already running has its copy).
find "$kdir" -maxdepth 1 -name 'initramfs-*.cpio' ! -path "$out" -delete
log "$(du -h "$out" | cut -f1) initramfs $out"
printf '%s\n' "$out"
