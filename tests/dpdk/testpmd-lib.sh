# Sourced by the guest testpmd scripts (guest-testpmd.sh, guest-testpmd-split.sh):
# waiting for a testpmd started in the background, and stopping one that never
# came up.

# testpmd_wait_up PID LOG WAIT_S T0: 0 once LOG says "Press enter to exit"; 1
# when PID is gone or WAIT_S guest seconds have passed since T0. Every 30 s it
# says where the start stands, in case it never ends (a guest killed for its
# time says nothing else).
testpmd_wait_up() {
	local pid=$1 log=$2 wait_s=$3 t0=$4 el
	while kill -0 "$pid" 2>/dev/null; do
		grep -q "Press enter to exit" "$log" && return 0
		el=$(($(date +%s) - t0))
		[ "$el" -lt "$wait_s" ] || return 1
		[ "$el" -eq 0 ] || [ $((el % 30)) -ne 0 ] ||
			echo "# waiting for testpmd, $el s: $(tail -n1 "$log" | cut -c1-160)"
		sleep 1
	done
	return 1
}

# testpmd_stop PID: stop it and reap it, bounded: a testpmd stuck in EAL's
# init may not hear SIGTERM.
testpmd_stop() {
	local pid=$1
	kill "$pid" 2>/dev/null
	for _ in $(seq 10); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
	pkill -9 -f dpdk-testpmd 2>/dev/null
	kill -9 "$pid" 2>/dev/null
	wait "$pid"
}
