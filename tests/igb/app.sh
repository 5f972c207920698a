#!/usr/bin/env bash
# igb guest test: the receive app with the command line a user types,
#   netmem-rx --dev igb:0000:00:06.0 --dmabuf udmabuf:64M --flow tcp6 ...
# while igb-send on port A (kernel igb) sends the flow, paced by the app's
# progress frames (our TX). Once for TCP over IPv6, once for UDP over IPv4.
# Usage: app.sh PATH/netmem-rx PATH/igb-send
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 240 -- "$@"
rx=$1 send=$2
need_exe "$rx"
need_exe "$send"
bdf=$NETMEM_GUEST_PORT_B_BDF
a=$NETMEM_GUEST_PORT_A_IF

run_flow() {
	local flow=$1 port=$2 bytes=$3 log=/tmp/netmem-rx-$1.log pid rc=0
	local cmd=(netmem-rx --dev "igb:$bdf" --dmabuf udmabuf:64M --flow "$flow" --port "$port"
		--bytes "$bytes" --ack-every 16)
	echo "\$ ${cmd[*]}"
	"$rx" "${cmd[@]:1}" >"$log" 2>&1 &
	pid=$!
	if ! wait_line "$log" '^ready' 60; then
		kill "$pid" 2>/dev/null || true
		cat "$log"
		fail "netmem-rx did not get ready"
	fi
	echo "\$ igb-send --if $a --flow $flow --port $port --bytes $bytes --window 64"
	if ! "$send" --if "$a" --flow "$flow" --port "$port" --bytes "$bytes" --window 64; then
		kill "$pid" 2>/dev/null || true
		cat "$log"
		fail "igb-send failed"
	fi
	wait "$pid" || rc=$?
	cat "$log"
	check "netmem-rx ($flow) exited 0" test "$rc" = 0
	check "netmem-rx ($flow): every byte verified" grep -q '^payload check: every byte verified' "$log"
	check "netmem-rx ($flow): every frame split, payload in the dmabuf" \
		grep -Eq '^header split: ([0-9]+) of \1 frames; .* \(\1 net_iov buffers\)' "$log"
	check "netmem-rx ($flow): bind to the split-off queue refused before any callback" \
		grep -q 'driver callbacks run: 0)' "$log"
}

run_flow tcp6 5201 16M
run_flow udp4 5301 8M
