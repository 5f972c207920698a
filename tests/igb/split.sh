#!/usr/bin/env bash
# igb guest test: port A (kernel igb) sends UDP and TCP payload patterns to
# port B; queue 1, bound to a udmabuf, gets every frame split: headers in
# host memory, payload in the udmabuf, every byte checked; no payload byte in
# host buffers; no DMA mapping left after close. Usage: split.sh PATH/igb-split
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 200 -- "$@"
need_exe "$1"
check "igb-split: 4 MiB UDP + 4 MiB TCP into a udmabuf" "$1" --bytes 4M --dmabuf udmabuf:16M
