# Sourced by the guest testpmd scripts (guest-testpmd.sh, guest-testpmd-split.sh):
# their TAP lines, staging the plugin, waiting for a testpmd started in the
# background, and stopping one that never came up.

# TAP: the sourcing script sets plan and tap_label, then prints "1..$plan".
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $*"; }
# skip_rest REASON: the steps not run yet, each skipped with REASON; exit 0.
skip_rest() {
	while [ "$n" -lt "$plan" ]; do n=$((n + 1)); echo "ok $n - $tap_label $n # SKIP $*"; done
	exit 0
}
# show FILE [LINES]: its tail as TAP comments.
show() { sed 's/^/# /' "$1" | tail -n "${2:-40}"; }

# stage_plugin PATH: sets plugin to a copy EAL will load. EAL loads -d plugins
# only from paths no group or other user can write to, and the checkout may
# live under /tmp (a CI clone): the copy is in the guest's /run.
stage_plugin() {
	local plugdir=/run/netmem-dpdk-plugin
	mkdir -p "$plugdir" && chmod 755 "$plugdir" && cp "$1" "$plugdir/" ||
		skip_rest "cannot stage the plugin in $plugdir"
	plugin=$plugdir/${1##*/}
}

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
