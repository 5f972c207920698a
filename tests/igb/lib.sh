# Sourced by the igb guest tests (tests/igb/*.sh). Not executable on its own.
#
# Each test is one script with two roles: on the host it boots the test guest
# with port B on vfio-pci and runs itself there, with the same arguments (the
# paths of the programs it needs); in the guest it checks real outcomes with
# check/fail from tests/vm/smoke-lib.sh and exits non-zero on the first failure.
# shellcheck shell=bash

IGB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=../vm/smoke-lib.sh
. "$IGB_DIR/../vm/smoke-lib.sh"
SMOKE_NAME=igb-$SMOKE_NAME

# igb_reexec [guest-run options] -- ARGS...: on the host, run this script in
# the guest (with --vfio) and exit with its status; in the guest, return.
igb_reexec() {
	in_guest && return 0
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	exec "$GUEST_RUN" --vfio "${opts[@]}" -- "$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")" "$@"
}

# need_exe PATH: the program must exist (the build made it).
need_exe() { [ -x "$1" ] || fail "$1 is not built"; }

# wait_line FILE PATTERN SECONDS: wait until FILE has a line matching PATTERN.
wait_line() {
	local tries=$(($3 * 10))
	until grep -q "$2" "$1" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# listen_bg LOG MESSAGE CMD...: CMD (a netmem-rx --listen) in the background,
# its output in LOG, until it says it listens (60 s); its PID is in rx_pid.
# Otherwise it is stopped, LOG is shown and the test fails with MESSAGE.
listen_bg() {
	local log=$1 msg=$2
	shift 2
	"$@" >"$log" 2>&1 &
	rx_pid=$!
	wait_line "$log" '^listening on' 60 && return 0
	kill "$rx_pid" 2>/dev/null || true
	cat "$log"
	fail "$msg"
}
