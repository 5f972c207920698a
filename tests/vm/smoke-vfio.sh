#!/usr/bin/env bash
# Guest smoke test (b): with --vfio, port B belongs to vfio-pci and its group device
# exists; /dev/udmabuf exists; hugetlbfs is mounted with free 2 MiB pages that can be
# allocated.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=smoke-lib.sh
. "$(dirname "$0")/smoke-lib.sh"
guest_reexec --vfio --timeout 240

group=${NETMEM_GUEST_VFIO_GROUP:-}
check "NETMEM_GUEST_VFIO_GROUP is set ($group)" test -n "$group"
check "/dev/vfio/vfio is a character device" test -c /dev/vfio/vfio
check "/dev/vfio/$group is a character device" test -c "/dev/vfio/$group"
grp=$(readlink "/sys/bus/pci/devices/$NETMEM_GUEST_PORT_B_BDF/iommu_group")
check "port B's IOMMU group is $group (sysfs: ${grp##*/})" test "${grp##*/}" = "$group"
drv=$(driver_of "$NETMEM_GUEST_PORT_B_BDF")
check "port B ($NETMEM_GUEST_PORT_B_BDF) is bound to vfio-pci (driver: $drv)" test "$drv" = vfio-pci
drv=$(driver_of "$NETMEM_GUEST_PORT_A_BDF")
check "port A ($NETMEM_GUEST_PORT_A_BDF) stays on igb (driver: $drv)" test "$drv" = igb
check "/dev/udmabuf is a character device" test -c /dev/udmabuf
# The helper the guest benchmarks use, on the port init.sh bound: off
# vfio-pci and back, same group, its node there again.
rebound=$(bind_vfio "$NETMEM_GUEST_PORT_B_BDF")
check "bind_vfio moves port B to vfio-pci again (group $rebound)" test "$rebound" = "$group"
check "/dev/vfio/$group is there after bind_vfio" test -c "/dev/vfio/$group"

check "hugetlbfs is mounted on /dev/hugepages" \
	grep -q '^[^ ]* /dev/hugepages hugetlbfs ' /proc/mounts
free=$(meminfo HugePages_Free)
check "$free of $NETMEM_GUEST_HUGEPAGES hugepages are free" \
	test "$free" -gt 0 -a "$free" -eq "$NETMEM_GUEST_HUGEPAGES"
# Take one page for real: a 2 MiB file on hugetlbfs.
fallocate -l 2M /dev/hugepages/smoke
after=$(meminfo HugePages_Free)
rm -f /dev/hugepages/smoke
check "allocating 2 MiB on hugetlbfs takes one page ($free -> $after)" test "$after" -eq $((free - 1))
