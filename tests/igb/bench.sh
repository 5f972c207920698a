#!/usr/bin/env bash
# igb benchmark (meson benchmark 'igb-rx-vs-dpdk', run by `meson test --benchmark`):
# one flow from port A (igb-send: udp6, 1452-byte payload, 1514-byte frames,
# straight to the driver) received on port B, in the same guest, by
#   netmem/udmabuf  igb-rx-bench: queue 1 bound to a udmabuf, header split
#   netmem/host     igb-rx-bench: queue 1 on host memory, header split
#   dpdk            igb-dpdk-rx-bench: DPDK's own igb PMD (net_e1000_igb) over
#                   VFIO, one queue, under the very same loop
#   testpmd         dpdk-testpmd rxonly --record-core-cycles (stream only)
# in two modes:
#   stream  port A sends FRAMES as fast as it can: packets/s and bytes/s seen.
#           Busy cycles per packet (TSC cycles of the polls that returned
#           packets, what testpmd's --record-core-cycles counts) are shown but
#           depend on how full the bursts happen to be, so no capacity here.
#   drain   ROUNDS times, port A fills the ring with 448 frames while nobody
#           polls, then the receiver drains it in bursts of 32: the receive
#           path's own cost, so capacity = TSC Hz / busy cycles per packet,
#           taken as the median over the rounds (TCG's TSC keeps running
#           while the host preempts the guest, which spoils single rounds).
#           testpmd cannot do this: it drops what arrived while it was stopped.
# Pinning (the stream figures depend on it): the sender on CPU 0, every
# receiver on CPU 1 (taskset -c 1; DPDK's EAL also -l 1 --main-lcore 1, its
# only lcore; testpmd's forwarding lcore 1, its idle main lcore 0). Each
# receiver prints the CPU it ran on (cpu=), and the summary shows it.
# Under TCG absolute numbers mean little; the ratios are the result.
# Usage: bench.sh PATH/igb-rx-bench PATH/igb-dpdk-rx-bench PATH/igb-send [FRAMES [ROUNDS [TRIALS]]]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 1200 -- "$@"
bench=$1 dpdk_bench=$2 send=$3 frames=${4:-30000} rounds=${5:-30} trials=${6:-5}
need_exe "$bench"
need_exe "$dpdk_bench"
need_exe "$send"
bdf=$NETMEM_GUEST_PORT_B_BDF
a=$NETMEM_GUEST_PORT_A_IF
payload=1452 per_round=448
out=/tmp/bench

# send N: port A sends N frames of the flow; the sender runs on CPU 0, receivers on CPU 1.
send() { taskset -c 0 "$send" --if "$a" --flow udp6 --port 5201 --payload $payload --bytes $(($1 * payload)); }

# receive NAME MODE COMMAND...: run one receiver through one mode; its last line
# (mode=... packets=... cycles_per_packet=... tsc_mhz=...) goes to $out.NAME.MODE.
receive() {
	local name=$1 mode=$2 log=$out.$1.$2 pid
	shift 2
	if [ "$mode" = drain ]; then
		rm -f $out.go
		mkfifo $out.go
		set -- "$@" --rounds "$rounds" --per-round $per_round --go $out.go
	fi
	echo "\$ $* (receiver: $name, $mode)"
	"$@" >"$log" 2>&1 &
	pid=$!
	wait_line "$log" 'ready' 240 || { kill "$pid" 2>/dev/null; cat "$log"; fail "$name did not start"; }
	if [ "$mode" = stream ]; then
		send "$frames"
	else
		exec 4>$out.go
		for r in $(seq "$rounds"); do
			send $per_round >/dev/null
			echo go >&4
			wait_line "$log" "round $r drained" 30 || { cat "$log"; fail "$name: round $r not drained"; }
		done
		exec 4>&-
	fi
	wait "$pid" || { cat "$log"; fail "$name failed"; }
	grep -E 'mode=|only' "$log"
	grep 'mode=' "$log" | tail -n 1 >"$out.$name.$mode.res"
}

testpmd_stream() {
	local log=$out.testpmd fifo=$out.fifo pid
	# Forwarding on lcore 1 (CPU 1, where the other receivers run); the main
	# lcore 0 only waits for the enter key, beside the sender.
	local cmd=(dpdk-testpmd -l 0-1 -n 1 -a "$bdf" --file-prefix=nmtp -- --forward-mode=rxonly
		--record-core-cycles --nb-cores=1 --rxq=1 --txq=1 --rxd=512 --burst=32
		--total-num-mbufs=8192)
	rm -f "$fifo"
	mkfifo "$fifo"
	echo "\$ ${cmd[*]}"
	stdbuf -oL "${cmd[@]}" <"$fifo" >"$log" 2>&1 &
	pid=$!
	exec 3>"$fifo"
	wait_line "$log" 'Press enter to exit' 240 || { kill "$pid"; cat "$log"; fail "testpmd did not start"; }
	sleep 2   # link up again after the PMD's own reset
	send "$frames"
	sleep 2
	echo >&3
	exec 3>&-
	wait "$pid" || true
	grep -E 'RX-total|cycles/packet' "$log" | tail -n 2
}

cpu=(taskset -c 1)
receivers() {   # receivers MODE TRIAL
	receive udmabuf "$1" "${cpu[@]}" "$bench" --bdf "$bdf" --dmabuf udmabuf:64M
	mv "$out.udmabuf.$1.res" "$out.udmabuf.$1.$2"
	receive host "$1" "${cpu[@]}" "$bench" --bdf "$bdf" --dmabuf none
	mv "$out.host.$1.res" "$out.host.$1.$2"
	receive dpdk "$1" "${cpu[@]}" "$dpdk_bench" -l 1 -n 1 -a "$bdf" --file-prefix=nmb \
		--main-lcore 1 -- --idle-ms 2000
	mv "$out.dpdk.$1.res" "$out.dpdk.$1.$2"
}
receivers stream 1
testpmd_stream
# The host is shared and TCG's speed drifts with its load: drains run in
# turns, TRIALS times, and the ratios are taken within each turn.
for trial in $(seq "$trials"); do receivers drain "$trial"; done

echo
echo "== igb receive path vs DPDK's igb PMD: udp6, 1514-byte frames, port A -> port B =="
summary() {   # summary MODE TRIAL...: one table per trial, then the ratios
	local mode=$1
	shift
	for t in "$@"; do cat "$out.udmabuf.$mode.$t" "$out.host.$mode.$t" "$out.dpdk.$mode.$t"; done |
	awk -v mode="$mode" '
	function field(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return 0 }
	function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	BEGIN { split("netmem/udmabuf netmem/host DPDK-PMD", name, " ")
		printf "%-6s %-15s %4s %8s %10s %12s %11s %13s %14s\n", "trial", "receiver", "cpu",
		       "packets", "packets/s", "bytes/s", "cycles/pkt", "capacity pps", "capacity B/s" }
	/mode=/ { r = (NR - 1) % 3 + 1; t = int((NR - 1) / 3) + 1
		p = field("packets"); b = field("bytes")
		c = field(mode == "drain" ? "round_median_cycles_per_packet" : "cycles_per_packet")
		cap[t, r] = field("tsc_mhz") * 1e6 / c; pps[t, r] = field("pps")
		printf "%-6d %-15s %4s %8d %10s %12s %11.0f %13s %14s\n", t, name[r], field("cpu"), p,
		       mode == "stream" ? sprintf("%.0f", field("pps")) : "-",
		       mode == "stream" ? sprintf("%.0f", field("bytes_per_s")) : "-", c,
		       mode == "drain" ? sprintf("%.0f", cap[t, r]) : "-",
		       mode == "drain" ? sprintf("%.0f", cap[t, r] * b / p) : "-"; n = t }
	END {
		if (mode == "stream") {
			printf "packets/s and bytes/s seen, netmem/DPDK: udmabuf %.2f, host %.2f\n",
			       pps[1, 1] / pps[1, 3], pps[1, 2] / pps[1, 3]
			exit
		}
		for (t = 1; t <= n; t++) { u[t] = cap[t, 1] / cap[t, 3]; h[t] = cap[t, 2] / cap[t, 3]
			printf "trial %d: netmem/DPDK capacity (packets/s and bytes/s alike): udmabuf %.2f, host %.2f\n", t, u[t], h[t] }
		if (n > 1)
			printf "median netmem/DPDK capacity: udmabuf %.2f, host %.2f\n", median(u, n), median(h, n)
	}'
}
echo "-- pinning: sender (igb-send) taskset -c 0; receivers taskset -c 1 (DPDK PMD: EAL -l 1 --main-lcore 1; testpmd: -l 0-1, forwarding lcore 1); cpu = where each receiver ran"
echo "-- stream: $frames frames, sent as fast as port A can; the receivers also contend with it"
summary stream 1
echo "-- drain: $rounds x $per_round frames queued while nobody polls, then drained in bursts of 32"
summary drain $(seq "$trials")
