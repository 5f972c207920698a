# SPDX-License-Identifier: MIT
# Shared by test_tcp_faults.sh, test_tcp_hostile.sh and scripts/tcp-fault-bench.sh:
# two network namespaces joined by tap_relay.
#
#   A (the kernel's sender)          B (the receiver)
#   nma0 169.254.78.1 ── tap_relay ── nmb0: netmem-rx --dev tap:nmb0, 169.254.78.2
#                        (impairs A->B)     or the kernel, 169.254.78.2 on nmb0
#
# netmem mode: the relay's B end is an AF_PACKET socket on nmb0 (whatever it
# sends goes out of nmb0 into netmem-rx, which holds the TAP); nmb0 itself
# has no address, so B's kernel stays silent. kernel mode: the relay holds
# nmb0's descriptor and B's kernel is the receiver. Either way the same frames
# cross the same relay with the same seed.
#
# The caller sets RX (netmem-rx), RELAY (tap_relay), WORK (a directory).

RL_ID=${RL_ID:-$$}
NSA=nmr-$RL_ID-a
NSB=nmr-$RL_ID-b
TAPA=nma0
TAPB=nmb0
IPA=169.254.78.1
IPB=169.254.78.2
PORT=5201
PEER=$(realpath "$(dirname "${BASH_SOURCE[0]}")")/tcp_peer.py
# The fault cases: relay options | the relay counter that proves the fault
# was injected | what it is. Shared by test_tcp_faults.sh and
# scripts/tcp-fault-bench.sh.
declare -gA RL_FAULTS=(
	[clean]="|frames|no impairment"
	[loss1]="--loss 1|lost|loss 1 %"
	[loss10]="--loss 10|lost|loss 10 %"
	[reorder]="--delay 5 --reorder 25|reordered|delay 5 ms reorder 25 %"
	[delay]="--delay 50 --jitter 10|delayed|delay 50 ms +- 10 ms, order kept"
	[delay-netem]="--delay 50 --jitter 10 --jitter-reorder|passed by jitter|delay 50 ms +- 10 ms, reordered by jitter as netem's tfifo does"
	[dup5]="--dup 5|duplicated|duplicate 5 %"
	[corrupt1]="--corrupt 1|corrupted|corrupt 1 % (one bit)"
)
RELAYPID=
RXPID=
SINKPID=

nsa() { ip netns exec "$NSA" "$@"; }
nsb() { ip netns exec "$NSB" "$@"; }

rl_setup() {
	rl_teardown
	ip netns add "$NSA" && ip netns add "$NSB" || return 1
	local ns
	for ns in "$NSA" "$NSB"; do
		ip -n "$ns" link set lo up
		# IPv4 only: no router solicitations or MLD on the wire.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	ip -n "$NSA" tuntap add dev $TAPA mode tap || return 1
	ip -n "$NSB" tuntap add dev $TAPB mode tap || return 1
	ip -n "$NSA" link set $TAPA txqueuelen 10000 up
	ip -n "$NSB" link set $TAPB txqueuelen 10000 up
	ip -n "$NSA" addr add $IPA/24 dev $TAPA
	# Each run starts cold: no ssthresh or RTT cached from the last one;
	# 1-byte writes go as 1-byte segments.
	nsa sysctl -qw net.ipv4.tcp_no_metrics_save=1 net.ipv4.tcp_autocorking=0
}

rl_teardown() {
	rl_stop_all
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	return 0
}

rl_stop_all() {
	[ -n "$RXPID" ] && { kill -9 "$RXPID"; wait "$RXPID"; } 2>/dev/null
	[ -n "$SINKPID" ] && { kill -9 "$SINKPID"; wait "$SINKPID"; } 2>/dev/null
	[ -n "$RELAYPID" ] && { kill -9 "$RELAYPID"; wait "$RELAYPID"; } 2>/dev/null
	RXPID='' SINKPID='' RELAYPID=''
}

# wait_line FILE REGEX PID [TRIES]: until FILE has a line matching REGEX,
# while PID lives (0.05 s per try).
wait_line() {
	local i
	for i in $(seq "${4:-200}"); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { grep -qE "$2" "$1" 2>/dev/null; return; }
		sleep 0.05
	done
	return 1
}

# rl_mode netmem|kernel: B's kernel has the address only as the receiver;
# A forgets B's MAC (it changes with the receiver) and cached metrics.
rl_mode() {
	ip -n "$NSB" addr flush dev $TAPB
	[ "$1" = kernel ] && ip -n "$NSB" addr add $IPB/24 dev $TAPB
	ip -n "$NSA" neigh flush dev $TAPA
	ip -n "$NSA" tcp_metrics flush 2>/dev/null
	return 0
}

# rl_relay MODE LOG [impairment options]: the relay, ready when it says so.
rl_relay() {
	local mode=$1 log=$2 bend
	shift 2
	if [ "$mode" = kernel ]; then bend=$NSB:tap:$TAPB; else bend=$NSB:packet:$TAPB; fi
	"$RELAY" --a "$NSA:tap:$TAPA" --b "$bend" --timeout 300 ${RL_CPU:+--cpu $RL_CPU} "$@" \
		>"$log" 2>&1 &
	RELAYPID=$!
	wait_line "$log" '^relay ready' $RELAYPID
}

# rl_relay_stop: SIGTERM; its counters are the last lines of its log.
rl_relay_stop() {
	[ -n "$RELAYPID" ] || return 0
	kill -TERM "$RELAYPID" 2>/dev/null
	wait "$RELAYPID" 2>/dev/null
	RELAYPID=
}

# relay_count LOG DIR FIELD: e.g. relay_count log a->b lost
relay_count() {
	grep "^relay $2:" "$1" | grep -oE "$3 [0-9]+" | awk '{print $NF}'
}

# rl_netmem LOG ARGS...: netmem-rx in B on nmb0, listening on PORT.
rl_netmem() {
	local log=$1
	shift
	# Not through a function: $! must be netmem-rx itself.
	ip netns exec "$NSB" "$RX" --dmabuf memfd:32M --dev tap:$TAPB --addr4 $IPB/24 \
		--listen $PORT --quiet "$@" >"$log" 2>&1 &
	RXPID=$!
	wait_line "$log" '^listening' $RXPID
}

# rl_wait_pid PID SECONDS: its exit status, or 124 after killing it.
rl_wait_pid() {
	local i rc=0
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && { kill -9 "$1"; wait "$1" 2>/dev/null; return 124; }
	wait "$1" || rc=$?
	return $rc
}

# rl_sink LOG OUT [ARGS]: the kernel's receiver in B (python), listening.
rl_sink() {
	local log=$1 out=$2
	shift 2
	ip netns exec "$NSB" python3 "$PEER" sink $IPB $PORT "$out" "$@" >"$log" 2>&1 &
	SINKPID=$!
	wait_line "$log" '^listening' $SINKPID
}

# rl_send FILE LOG [ARGS]: the kernel's sender in A; its summary in LOG.
rl_send() {
	local f=$1 log=$2
	shift 2
	nsa python3 "$PEER" send $IPB $PORT "$f" "$@" >"$log" 2>&1
}

# send_time LOG: seconds from connect() to the receiver's FIN.
send_time() { grep -oE 'total [0-9.]+' "$1" | awk '{print $2}'; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

# retrans: segments A's kernel has retransmitted so far (all connections).
retrans() {
	nsa cat /proc/net/snmp | awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i; h = 1 } else print $c }'
}

# rl_run MODE IN OUT TAG [relay options]: one stream of IN through the relay
# into netmem-rx (MODE netmem) or the kernel (MODE kernel), OUT written.
# Sets RUN_TIME (the sender's connect -> receiver's FIN, seconds), RUN_RETRANS
# (segments the sender retransmitted) and RUN_WHY (empty when the bytes are
# equal and both ends exited 0). Logs: $WORK/TAG.{relay,rx,send}.
# Bounded: the receiver gets RL_RUN_LIMIT seconds (default 40), the sender
# 5 more after it.
rl_run() {
	local mode=$1 in=$2 out=$3 tag=$4 rc=0 sp r0 rpid
	shift 4
	RUN_TIME='' RUN_WHY='' RUN_RETRANS=''
	rm -f "$out"
	rl_mode "$mode"
	if [ "$mode" = netmem ]; then
		rl_netmem "$WORK/$tag.rx" --out "$out" --timeout 10 ||
			{ RUN_WHY="netmem-rx did not start: $(tail -1 "$WORK/$tag.rx")"; rl_stop_all; return 1; }
		rpid=$RXPID
	else
		rl_sink "$WORK/$tag.rx" "$out" --timeout 30 ||
			{ RUN_WHY="kernel sink did not start"; rl_stop_all; return 1; }
		rpid=$SINKPID
	fi
	rl_relay "$mode" "$WORK/$tag.relay" "$@" ||
		{ RUN_WHY="relay did not start: $(tail -1 "$WORK/$tag.relay")"; rl_stop_all; return 1; }
	r0=$(retrans)
	rl_send "$in" "$WORK/$tag.send" --timeout 30 &
	sp=$!
	rl_wait_pid "$rpid" "${RL_RUN_LIMIT:-40}" || rc=$?
	RXPID='' SINKPID=''
	[ $rc = 0 ] || RUN_WHY="$mode receiver exit $rc"
	rc=0
	rl_wait_pid $sp 5 || rc=$?
	[ $rc = 0 ] || RUN_WHY="${RUN_WHY:+$RUN_WHY; }sender exit $rc: $(tail -1 "$WORK/$tag.send")"
	RUN_RETRANS=$(( $(retrans) - r0 ))
	rl_relay_stop
	RUN_TIME=$(send_time "$WORK/$tag.send")
	if [ -z "$RUN_WHY" ] && [ "$(sha "$in")" != "$(sha "$out" 2>/dev/null)" ]; then
		RUN_WHY="sha256 differs ($(stat -c %s "$out" 2>/dev/null || echo 0) of $(stat -c %s "$in") bytes)"
	fi
	[ -z "$RUN_WHY" ]
}
