# Sourced by the guest smoke tests (tests/vm/smoke-*.sh). Not executable on its own.
#
# A smoke test is one script with two roles: on the host it boots the guest through
# guest-run.sh and runs itself in there (guest_reexec); in the guest (NETMEM_GUEST=1)
# it checks real outcomes with check/fail and exits non-zero on the first failure.
# shellcheck shell=bash

SMOKE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
GUEST_RUN=${NETMEM_GUEST_RUN:-$SMOKE_DIR/guest-run.sh}
SMOKE_NAME=$(basename "$0" .sh)

in_guest() { [ "${NETMEM_GUEST:-}" = 1 ]; }

# guest_reexec [guest-run options]: on the host, run this script in the guest and exit
# with its status (77 = skipped passes through to meson). In the guest, return.
guest_reexec() {
	in_guest && return 0
	local self
	# The physical path: a symlinked tree may live where the guest cannot see it.
	self=$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")
	exec "$GUEST_RUN" "$@" -- "$self"
}

fail() { printf '%s: FAIL: %s\n' "$SMOKE_NAME" "$*"; exit 1; }
pass() { printf '%s: ok: %s\n' "$SMOKE_NAME" "$*"; }

# check DESCRIPTION COMMAND...: run COMMAND, fail with DESCRIPTION unless it succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
	local tries=$(($1 * 10))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# netdev_of BDF: the interface name of a PCI network function.
netdev_of() {
	local n
	for n in "/sys/bus/pci/devices/$1/net/"*; do
		[ -e "$n" ] && { basename "$n"; return 0; }
	done
	return 1
}

# driver_of BDF: the driver bound to a PCI function (empty if none).
driver_of() {
	local d
	d=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || return 0
	basename "$d"
}

# bind_vfio BDF: move a PCI function to vfio-pci (unbind from its driver,
# driver_override, drivers_probe) and wait for its group's /dev/vfio node.
# Prints the IOMMU group number; returns 1, saying why on stderr, if it cannot.
bind_vfio() {
	local bdf=$1 dev=/sys/bus/pci/devices/$1 grp
	[ -d "$dev" ] || { echo "bind_vfio: $bdf is not present" >&2; return 1; }
	if [ -e "$dev/driver" ]; then
		echo "$bdf" >"$dev/driver/unbind" || { echo "bind_vfio: cannot unbind $bdf" >&2; return 1; }
	fi
	echo vfio-pci >"$dev/driver_override" && echo "$bdf" >/sys/bus/pci/drivers_probe
	[ "$(driver_of "$bdf")" = vfio-pci ] ||
		{ echo "bind_vfio: $bdf bound to '$(driver_of "$bdf")', not vfio-pci" >&2; return 1; }
	grp=$(readlink "$dev/iommu_group") || { echo "bind_vfio: $bdf has no IOMMU group" >&2; return 1; }
	grp=${grp##*/}
	wait_for 5 test -e "/dev/vfio/$grp" ||
		{ echo "bind_vfio: /dev/vfio/$grp did not appear" >&2; return 1; }
	echo "$grp"
}

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
