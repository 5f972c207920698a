#!/usr/bin/env bash
# igb guest test: a udmabuf bind to queue 3, which runs without header split,
# is refused before any driver callback: its ring registers are unchanged and
# its flow goes on without a gap. Usage: refuse.sh PATH/igb-queues
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 200 -- "$@"
need_exe "$1"
check "igb-queues refuse" "$1" refuse
