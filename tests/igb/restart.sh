#!/usr/bin/env bash
# igb guest test: queue 1 restarts eight times onto new memory (udmabuf A,
# host, udmabuf B, host, ...) while queues 2 and 3 keep receiving their
# flows without a lost or damaged byte. Usage: restart.sh PATH/igb-queues
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 200 -- "$@"
need_exe "$1"
check "igb-queues restart" "$1" restart
