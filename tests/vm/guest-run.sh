#!/usr/bin/env bash
# Runs a command as root inside the netmem test guest and exits with its status.
#
#   tests/vm/guest-run.sh [--kernel 6.12|7.3] [--timeout SECONDS] [--vfio] [--mem MiB] \
#                         [--hugepages N] -- COMMAND [ARGS...]
#
# The guest: Debian's bookworm-backports 6.12 kernel, or trixie-backports' 7.3 with
# --kernel 7.3 (scripts/guest-kernel.sh; both unpacked in the cache), under
# QEMU/TCG, q35 with an emulated Intel IOMMU, two igb NICs on one private QEMU hub
# (port A 0000:00:04.0 on the kernel igb driver, up, IPv6 link-local; port B
# 0000:00:06.0 on igb, or on vfio-pci with --vfio), the host's root read-only at /,
# tmpfs on /tmp and /run, hugetlbfs on /dev/hugepages. COMMAND runs in the current
# directory (which must not be under /tmp or /run: the guest cannot see those).
#
# Options:
#   --kernel SERIES    6.12 (default; or NETMEM_GUEST_KERNEL_SERIES) or 7.3
#   --timeout SECONDS  kill the guest after this long, exit 124 (default 300)
#   --vfio             bind port B to vfio-pci; NETMEM_GUEST_VFIO_GROUP gives its group
#   --mem MiB          guest memory (default 2048)
#   --hugepages N      2 MiB hugepages to reserve (default 256)
#
# COMMAND's environment: PATH from the caller, HOME=/tmp/home, NETMEM_GUEST=1,
# NETMEM_GUEST_KERNEL, NETMEM_GUEST_PORT_A_BDF, NETMEM_GUEST_PORT_A_IF,
# NETMEM_GUEST_PORT_B_BDF, NETMEM_GUEST_HUGEPAGES, NETMEM_GUEST_VFIO_GROUP (--vfio).
# Its stdout and stderr both come out on stdout; one timing line goes to stderr.
#
# Exit status: COMMAND's; 77 the test bed cannot run here (reason on stderr);
# 124 timeout; 99 the guest failed before reporting COMMAND's status; 2 usage.
#
# NETMEM_GUEST_VERBOSE=1 streams the whole guest console (kernel and init) to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd)

TIMEOUT=300
VFIO=0
MEM=2048
HUGEPAGES=256
case ${NETMEM_GUEST_VERBOSE:-0} in
0 | "" | no | false) VERBOSE=0 ;;
*) VERBOSE=1 ;;
esac

say() { printf 'guest-run: %s\n' "$*" >&2; }
skip() { say "SKIP: $*"; exit 77; }
usage() {
	[ $# -eq 0 ] || say "$*"
	sed -n '4,5s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# uint NAME VALUE: VALUE must be a non-negative integer.
uint() { [[ $2 =~ ^[0-9]+$ ]] || usage "$1 needs a number, not '$2'"; printf '%s' "$2"; }
while [ $# -gt 0 ]; do
	case $1 in
	--timeout | --mem | --hugepages)
		[ $# -ge 2 ] || usage "$1 needs a value"
		opt=$1 val=$(uint "$1" "$2") || exit 2
		shift 2 ;;
	--timeout=* | --mem=* | --hugepages=*)
		opt=${1%%=*} val=$(uint "${1%%=*}" "${1#*=}") || exit 2
		shift ;;
	--vfio) VFIO=1; shift; continue ;;
	--kernel)
		[ $# -ge 2 ] || usage "--kernel needs 6.12 or 7.3"
		case $2 in 6.12 | 7.3) ;; *) usage "--kernel takes 6.12 or 7.3, not '$2'" ;; esac
		NETMEM_GUEST_KERNEL_SERIES=$2
		shift 2
		continue ;;
	--) shift; break ;;
	-h | --help) sed -n '2,33s/^# \{0,1\}//p' "$0" >&2; exit 0 ;;
	*) usage "unknown argument: $1" ;;
	esac
	case $opt in
	--timeout) TIMEOUT=$val ;;
	--mem) MEM=$val ;;
	--hugepages) HUGEPAGES=$val ;;
	esac
done
[ $# -gt 0 ] || usage "no command given"
# Every helper below (guest-kernel.sh, mkinitramfs.sh) reads the series from here.
export NETMEM_GUEST_KERNEL_SERIES=${NETMEM_GUEST_KERNEL_SERIES:-6.12}
[ "$TIMEOUT" -gt 0 ] || usage "--timeout must be at least 1"
[ "$MEM" -ge 256 ] || usage "--mem $MEM is too small"
[ $((HUGEPAGES * 2 + 192)) -le "$MEM" ] || usage "--hugepages $HUGEPAGES (2 MiB each) leaves too little of --mem $MEM"

# Host paths the guest cannot see: it mounts its own /proc, /sys, /dev and tmpfs on /tmp, /run.
hidden_in_guest() {
	case $1/ in
	/tmp/* | /run/* | /proc/* | /sys/* | /dev/* | /var/run/*) return 0 ;;
	*) return 1 ;;
	esac
}

cwd=$(pwd -P)
# A checkout under /tmp or /run (a CI clone, say) is shared with the guest on its own
# and mounted over the guest's tmpfs at the same path.
workdir=""
if hidden_in_guest "$cwd"; then
	case $cwd/ in
	/tmp/* | /run/*) workdir=$(git -C "$cwd" rev-parse --show-toplevel 2>/dev/null || echo "$cwd") ;;
	*)
		say "the current directory $cwd is not visible in the guest (it mounts its own /proc, /sys, /dev); run from elsewhere"
		exit 2
		;;
	esac
fi

# --- what the test bed needs ----------------------------------------------------
QEMU=${NETMEM_QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || skip "$QEMU not found (scripts/install-deps.sh guest)"
"$QEMU" -device help 2>/dev/null | grep -q '"igb"' ||
	skip "$QEMU has no igb device model (needs QEMU >= 8.0 from bookworm-backports)"

kdir=$("$repo/scripts/guest-kernel.sh" dir) || skip "no guest kernel known (scripts/guest-kernel.sh dir)"
if hidden_in_guest "$kdir"; then
	say "the guest kernel cache $kdir is not visible in the guest; point NETMEM_CACHE elsewhere"
	exit 2
fi
kdir=$("$repo/scripts/guest-kernel.sh" fetch) || skip "cannot fetch the guest kernel (scripts/guest-kernel.sh fetch)"
kver=${kdir##*/}
rc=0
base_initrd=$(NETMEM_GUEST_KERNEL_VERSION=$kver "$here/mkinitramfs.sh") || rc=$?
if [ $rc -eq 77 ]; then exit 77; fi
[ $rc -eq 0 ] || { say "building the initramfs failed"; exit 99; }

# --- this run's files ------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/netmem-guest.XXXXXX")
qpid=""
tails=()
# shellcheck disable=SC2317 # called from the trap
cleanup() {
	local p
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill -TERM "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	for p in "${tails[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Single quotes for /bin/sh (the guest runs the host's sh).
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

nonce=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$tmp/extra/netmem"
{
	echo "NONCE=$nonce"
	echo "VFIO=$VFIO"
	echo "HUGEPAGES=$HUGEPAGES"
	echo "MODDIR=$(shq "$kdir/lib/modules/$kver")"
	echo "WORKDIR=$(shq "$workdir")"
} >"$tmp/extra/netmem/config"
{
	echo "export PATH=$(shq "${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}")"
	echo "cd $(shq "$cwd") || exit 125"
	printf 'exec'
	for a in "$@"; do printf ' %s' "$(shq "$a")"; done
	echo
} >"$tmp/extra/netmem/cmd.sh"
# The kernel unpacks concatenated cpio archives in order: the cached base, then ours.
(cd "$tmp/extra" && find netmem | cpio -o -H newc --owner=0:0 --quiet) >"$tmp/extra.cpio"
cat "$base_initrd" "$tmp/extra.cpio" >"$tmp/initrd"

append="console=ttyS0 init_on_alloc=0 no_timer_check panic=-1 printk.devkmsg=on intel_iommu=on iommu=pt rdinit=/init"
[ "$VERBOSE" = 1 ] || append="$append quiet"

# shellcheck disable=SC2054 # the commas belong to QEMU's option syntax
qemu_args=(
	-nodefaults -no-user-config -display none -no-reboot
	-accel tcg,thread=multi -cpu max -smp 2 -m "$MEM"
	-machine q35,kernel-irqchip=split
	-device intel-iommu,intremap=on,caching-mode=on
	-kernel "$kdir/boot/vmlinuz-$kver" -initrd "$tmp/initrd" -append "$append"
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot,addr=0x2
	-netdev hubport,id=p0,hubid=0 -device igb,netdev=p0,addr=0x4,mac=52:54:00:00:00:0a
	-netdev hubport,id=p1,hubid=0 -device igb,netdev=p1,addr=0x6,mac=52:54:00:00:00:0b
	-serial "file:$tmp/console.log" -serial "file:$tmp/output.log"
)
if [ -n "$workdir" ]; then
	# shellcheck disable=SC2054
	qemu_args+=(-fsdev "local,id=workdir,path=$workdir,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=workdir,mount_tag=workdir,addr=0x3)
fi

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

console_tail() {
	[ "$VERBOSE" = 1 ] && return 0
	say "last lines of the guest console:"
	tr -d '\r' <"$tmp/console.log" | tail -n 25 | sed 's/^/  | /' >&2
	# The hub is private on purpose; QEMU warns that it reaches no host network.
	if grep -qv 'is not connected to host network' "$tmp/qemu.log"; then
		say "QEMU said:"
		grep -v 'is not connected to host network' "$tmp/qemu.log" | sed 's/^/  | /' >&2
	fi
}

marker() { tr -d '\r' <"$tmp/console.log" | sed -n "s/.*NETMEM_GUEST_$1\[$nonce\]$2.*/\1/p" | head -n1; }

boot_once() {
	: >"$tmp/console.log"
	: >"$tmp/output.log"
	start=$EPOCHREALTIME
	"$QEMU" "${qemu_args[@]}" </dev/null >"$tmp/qemu.log" 2>&1 &
	qpid=$!

	tail -s 0.1 -n +1 -f --pid="$qpid" "$tmp/output.log" &
	tails+=($!)
	if [ "$VERBOSE" = 1 ]; then
		tail -s 0.1 -n +1 -f --pid="$qpid" "$tmp/console.log" >&2 &
		tails+=($!)
	fi

	# Our own watchdog (not timeout(1)) keeps QEMU in this process group, so whoever
	# kills the group (meson on its own timeout, ^C) takes QEMU along.
	deadline=$((${start%[.,]*} + TIMEOUT))
	timed_out=0
	while kill -0 "$qpid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			timed_out=1
			kill -TERM "$qpid" 2>/dev/null || true
			for _ in $(seq 50); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.2; done
			kill -KILL "$qpid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	qrc=0
	wait "$qpid" || qrc=$?
	qpid=""
	for p in "${tails[@]}"; do wait "$p" 2>/dev/null || true; done
	tails=()
	end=$EPOCHREALTIME
	wall=$(elapsed "${start/,/.}" "${end/,/.}")

	# The markers carry this run's nonce, so nothing else on the console can fake them.
	ready=$(tr -d '\r' <"$tmp/console.log" |
		sed -n "s/^\[ *\([0-9.]*\)\] NETMEM_GUEST_READY\[$nonce\].*/\1/p" | head -n1)
	exit_code=$(marker EXIT '=\([0-9]\{1,3\}\)')
	vfio_group=$(tr -d '\r' <"$tmp/console.log" | sed -n 's/.*NETMEM_GUEST_VFIO_GROUP=\([0-9]*\).*/\1/p' | head -n1)
}

# One guest at a time on this machine, whichever checkout starts it: two TCG
# guests on two cores starve each other's timers (boot panics, RCU stalls).
# The wait is announced; the guest's own timeout starts once it holds the lock.
lock=${NETMEM_GUEST_LOCK:-/tmp/netmem-guest.lock}
# A caller may have taken the lock itself (`flock LOCK meson test ...`): opening the
# file again would wait on that caller forever. If the lock's holder is one of our
# ancestors, it already keeps other guests out; if the lock came down to us as an
# open descriptor, hold it through that one.
ancestor_holds_lock() {
	local ino pid p
	ino=$(stat -c %i "$lock" 2>/dev/null) || return 1
	# /proc/locks: "1: FLOCK  ADVISORY  WRITE 31399 fe:01:1234 0 EOF"
	for pid in $(awk -v i=":$ino" '$2 == "FLOCK" && substr($6, length($6) - length(i) + 1) == i { print $5 }' /proc/locks 2>/dev/null); do
		p=$PPID
		while [ -n "$p" ] && [ "$p" -gt 1 ]; do
			[ "$p" = "$pid" ] && return 0
			p=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f2)
		done
	done
	return 1
}
lockfd=""
for fd in /proc/$$/fd/[0-9]*; do
	n=${fd##*/}
	[ "$n" -gt 2 ] || continue
	[ "$(readlink "$fd" 2>/dev/null)" = "$(readlink -f "$lock")" ] || continue
	if flock -n "$n" 2>/dev/null; then lockfd=$n; break; fi
done
if [ -z "$lockfd" ] && ancestor_holds_lock; then
	say "the guest lock is held by a caller of this script: running under it"
elif [ -z "$lockfd" ]; then
	exec 8>"$lock"
	if ! flock -n 8; then
		say "another guest is running on this machine; waiting for it"
		flock 8
	fi
elif ! flock -n "$lockfd"; then
	flock "$lockfd"
fi

# A boot that dies before the command starts (TCG on a loaded machine can fail the
# kernel's early timer check) ran nothing, so one more boot is safe.
attempt=1
while :; do
	boot_once
	if [ "$timed_out" = 0 ] && [ -z "$exit_code" ] && [ -z "$ready" ] && [ $attempt -lt 2 ]; then
		say "the guest died before the command started ($wall s); booting once more"
		console_tail
		attempt=2
		continue
	fi
	break
done

info="$wall s wall, guest $kver"
[ -z "$ready" ] || info="$info, command started at ${ready%???} s guest time"
[ -z "$vfio_group" ] || info="$info, vfio group $vfio_group"

if [ "$timed_out" = 1 ]; then
	say "TIMEOUT: killed the guest after $TIMEOUT s ($info)"
	console_tail
	exit 124
fi
if [ -n "$exit_code" ]; then
	say "exit $exit_code ($info)"
	exit "$exit_code"
fi
error=$(marker ERROR ': \(.*\)')
if [ -n "$error" ]; then
	say "guest setup failed: $error ($info)"
else
	say "the guest stopped without reporting the command's exit status (QEMU exit $qrc; $info)"
fi
console_tail
exit 99
