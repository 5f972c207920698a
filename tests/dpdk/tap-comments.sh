#!/usr/bin/env bash
# Runs a TAP test with its stderr turned into TAP comments ("# " in front of
# each line), for runners that merge the two streams (tests/vm/guest-run.sh
# does: the guest has one serial port for both). EAL's log, the plugin's
# "netmem-dmabuf: pool ..." lines and any library warning then read as
# comments, not as unknown TAP lines. Exit status: the test's.
#
#   tap-comments.sh COMMAND [ARGS...]
set -uo pipefail
exec 3> >(sed -u 's/^/# /')
comments=$!
"$@" 2>&3 3>&-
rc=$?
# Every comment out before the exit status (the stream ends when the
# test's last stderr writer closes it).
exec 3>&-
wait "$comments"
exit "$rc"
