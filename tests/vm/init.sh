#!/bin/sh
# PID 1 of the netmem test guest (busybox ash, runs from the initramfs that
# tests/vm/mkinitramfs.sh builds). tests/vm/guest-run.sh adds /netmem/config and
# /netmem/cmd.sh to the initramfs of each run.
#
# It loads the modules listed in /etc/netmem/modules.boot, mounts the host's root
# read-only over 9p at /host, prepares /host for a chroot (proc, sys, dev, tmpfs on
# /tmp and /run, hugetlbfs, the guest kernel's module tree at /lib/modules/<release>),
# brings up port A (igb), optionally hands port B to vfio-pci, runs /netmem/cmd.sh in
# the chroot with stdout/stderr on the second serial port (/dev/ttyS1), prints
# NETMEM_GUEST_EXIT[<nonce>]=<code> on the console and powers off.
# shellcheck shell=ash

export PATH=/bin:/sbin

NONCE="unset"
KVER=$(uname -r)
PORT_A_BDF=0000:00:04.0
PORT_B_BDF=0000:00:06.0

# Everything goes through printk (timestamps; the console writes it synchronously, so
# it reaches the host even though we power off right after). Progress is at notice
# level, which the "quiet" console of a non-verbose run leaves out; warnings, errors
# and the markers are always on the console.
kmsg() { echo "<$1>$2" >/dev/kmsg 2>/dev/null || echo "$2"; }
say() { kmsg 5 "netmem-init: $*"; }
warn() { kmsg 3 "netmem-init: warning: $*"; }

fail() {
	kmsg 3 "netmem-init: error: $*"
	kmsg 2 "NETMEM_GUEST_ERROR[$NONCE]: $*"
	poweroff -f
	sleep 30
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
hostname netmem-guest

[ -r /netmem/config ] || fail "/netmem/config missing (boot through tests/vm/guest-run.sh)"
# shellcheck source=/dev/null
. /netmem/config
# From the config: NONCE VFIO HUGEPAGES MODDIR

say "loading modules"
# --- modules ------------------------------------------------------------------
while read -r mod; do
	[ -n "$mod" ] || continue
	say "insmod $mod"; insmod "/lib/modules/$KVER/$mod" || fail "insmod $mod"
done </etc/netmem/modules.boot

# --- network: port A up early, it needs a moment for carrier -------------------
ip link set lo up
PORT_A_IF=
for n in "/sys/bus/pci/devices/$PORT_A_BDF/net/"*; do
	[ -e "$n" ] && PORT_A_IF=${n##*/} && break
done
[ -n "$PORT_A_IF" ] || fail "port A ($PORT_A_BDF) has no igb netdev"
# No duplicate address detection: the link-local address is usable at once.
echo 0 >"/proc/sys/net/ipv6/conf/$PORT_A_IF/accept_dad"
ip link set "$PORT_A_IF" up || fail "ip link set $PORT_A_IF up"

say "mounting the host root"
# --- the host's root ----------------------------------------------------------
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host ||
	fail "cannot mount the host root (9p, tag hostroot)"

mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t hugetlbfs -o mode=1777 hugetlbfs /dev/hugepages || fail "mount hugetlbfs"
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true

mount -o rbind /proc /host/proc || fail "bind /proc"
mount -o rbind /sys /host/sys || fail "bind /sys"
mount -o rbind /dev /host/dev || fail "bind /dev"
mount -t tmpfs -o mode=1777 tmpfs /host/tmp || fail "tmpfs /tmp"
mount -t tmpfs -o mode=755 tmpfs /host/run || fail "tmpfs /run"
if [ -n "${WORKDIR:-}" ]; then
	# The caller's checkout lives under /tmp or /run: mount it where it was.
	mkdir -p "/host$WORKDIR" || fail "mkdir $WORKDIR"
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose workdir "/host$WORKDIR" ||
		fail "cannot mount the work tree $WORKDIR (9p, tag workdir)"
fi
mkdir -p /host/tmp/home

# The guest kernel's own modules where modprobe looks for them, /lib/modules/<release>.
# The host may have no /lib/modules at all and its root is read-only, so a read-only
# overlay puts an empty modules/<release> over the host's /lib, and the unpacked
# module tree is bind-mounted onto it.
[ -d "/host$MODDIR" ] || fail "module tree $MODDIR not visible in the guest"
hostlib=$(readlink -f /host/lib) || fail "no /lib on the host"
mkdir -p "/netmem/libstub/modules/$KVER"
mount -t overlay -o "ro,lowerdir=/netmem/libstub:$hostlib" overlay "$hostlib" ||
	fail "overlay on $hostlib"
mount -o bind "/host$MODDIR" "$hostlib/modules/$KVER" || fail "bind $MODDIR"

say "reserving $HUGEPAGES hugepages"
# --- hugepages ----------------------------------------------------------------
if [ "$HUGEPAGES" -gt 0 ]; then
	echo "$HUGEPAGES" >/proc/sys/vm/nr_hugepages
	got=$(cat /proc/sys/vm/nr_hugepages)
	[ "$got" -eq "$HUGEPAGES" ] || warn "asked for $HUGEPAGES hugepages, got $got"
fi

say "port B"
# --- port B -------------------------------------------------------------------
VFIO_GROUP=
if [ "$VFIO" = 1 ]; then
	dev=/sys/bus/pci/devices/$PORT_B_BDF
	[ -d "$dev" ] || fail "port B ($PORT_B_BDF) not present"
	if [ -e "$dev/driver" ]; then
		echo "$PORT_B_BDF" >"$dev/driver/unbind" || fail "unbind $PORT_B_BDF"
	fi
	echo vfio-pci >"$dev/driver_override"
	echo "$PORT_B_BDF" >/sys/bus/pci/drivers_probe
	drv=$(readlink "$dev/driver")
	[ "${drv##*/}" = vfio-pci ] || fail "port B bound to '${drv##*/}', not vfio-pci"
	grp=$(readlink "$dev/iommu_group") || fail "port B has no IOMMU group"
	VFIO_GROUP=${grp##*/}
	i=0
	while [ ! -e "/dev/vfio/$VFIO_GROUP" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e "/dev/vfio/$VFIO_GROUP" ] || fail "/dev/vfio/$VFIO_GROUP did not appear"
	kmsg 2 "NETMEM_GUEST_VFIO_GROUP=$VFIO_GROUP"
fi

say "waiting for $PORT_A_IF"
# --- wait for port A: carrier and an IPv6 link-local address -------------------
i=0
while [ $i -lt 100 ]; do
	if [ "$(cat "/sys/class/net/$PORT_A_IF/carrier" 2>/dev/null)" = 1 ] &&
		grep -q "^fe80.* $PORT_A_IF\$" /proc/net/if_inet6; then
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
[ $i -lt 100 ] || warn "$PORT_A_IF has no carrier or no link-local address after 10 s"

# --- the command --------------------------------------------------------------
mkdir -p /host/run/netmem
cp /netmem/cmd.sh /host/run/netmem/cmd.sh
stty -F /dev/ttyS1 115200 raw -echo

set -- NETMEM_GUEST=1 NETMEM_GUEST_KERNEL="$KVER" \
	NETMEM_GUEST_PORT_A_BDF="$PORT_A_BDF" NETMEM_GUEST_PORT_A_IF="$PORT_A_IF" \
	NETMEM_GUEST_PORT_B_BDF="$PORT_B_BDF" NETMEM_GUEST_HUGEPAGES="$HUGEPAGES"
[ -z "$VFIO_GROUP" ] || set -- "$@" NETMEM_GUEST_VFIO_GROUP="$VFIO_GROUP"

kmsg 2 "NETMEM_GUEST_READY[$NONCE]"
# The serial port drains on the command's last close of /dev/ttyS1, before its exit
# status reaches us, so no output is lost to the power-off below.
env -i HOME=/tmp/home TERM=dumb LANG=C.UTF-8 USER=root LOGNAME=root "$@" \
	chroot /host /bin/sh /run/netmem/cmd.sh </dev/null >/dev/ttyS1 2>&1
rc=$?
kmsg 2 "NETMEM_GUEST_EXIT[$NONCE]=$rc"
poweroff -f
sleep 30
