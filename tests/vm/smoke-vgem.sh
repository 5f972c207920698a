#!/usr/bin/env bash
# Guest smoke test (c): the guest kernel's module tree is in place; `modprobe vgem`
# loads vgem with its DRM dependencies and a DRM device node appears.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=smoke-lib.sh
. "$(dirname "$0")/smoke-lib.sh"
guest_reexec --timeout 240

check "/lib/modules/$(uname -r)/modules.dep exists" test -f "/lib/modules/$(uname -r)/modules.dep"
check "vgem is not loaded before modprobe" test ! -e /sys/module/vgem
check "modprobe vgem" modprobe vgem
check "vgem is loaded" test -d /sys/module/vgem
check "drm is loaded as its dependency" test -d /sys/module/drm
nodes=$(find /dev/dri -maxdepth 1 \( -name 'card*' -o -name 'renderD*' \) 2>/dev/null | sort | tr '\n' ' ')
check "a DRM node appeared in /dev/dri ($nodes)" test -n "$nodes"
# vgem's device is a bare platform device named "vgem" (no driver is bound to it).
vgem_card=""
for c in /sys/class/drm/card*; do
	dev=$(readlink -f "$c/device")
	[ "${dev##*/}" = vgem ] && vgem_card=${c##*/}
done
check "a DRM card belongs to vgem (${vgem_card:-none})" test -n "$vgem_card"
check "/dev/dri/$vgem_card is a character device" test -c "/dev/dri/$vgem_card"
