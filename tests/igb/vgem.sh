#!/usr/bin/env bash
# igb guest test: a DRM PRIME dmabuf from vgem cannot be mapped through the
# VFIO type1 container (the kernel answers EFAULT); binding it is refused
# with the reason and the way out, and no queue is touched.
# Usage: vgem.sh PATH/igb-vgem
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 150 -- "$@"
need_exe "$1"
check "modprobe vgem" modprobe vgem
check "igb-vgem" "$1"
