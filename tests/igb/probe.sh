#!/usr/bin/env bash
# igb guest test: claim port B through VFIO (container, group, device, BAR0,
# bus master, reset), bring the link up, read the device back, close it
# leaving no DMA mapping. Usage: probe.sh PATH/igb-probe
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 120 -- "$@"
need_exe "$1"
check "igb-probe on $NETMEM_GUEST_PORT_B_BDF (group $NETMEM_GUEST_VFIO_GROUP)" "$1" "$NETMEM_GUEST_PORT_B_BDF"
