#!/bin/bash
# SPDX-License-Identifier: MIT
#
# netmem-rx against the open network, through tap_relay (no impairment: a
# plain wire between the kernel's namespace A and netmem-rx in B):
#   second    a connection beyond --connections 1 loses nothing: its sender
#             gets an error (refused, or reset when netmem-rx exits; not its
#             own timeout) or every byte lands; no acknowledged byte lost
#   seq100    100 sequential connections, each closed (our FIN) within 100 ms
#             of its last byte, every byte intact
#   syn300    300 spoofed SYNs, then a real stream connects within 1 s, intact
#   flood10k  10,000 spoofed SYNs during a stream: intact, ping answered; its
#             rate against the same stream alone is printed
#   tiny      4 connections of 1-byte writes (TCP_NODELAY) during a stream
#   ooo       4 raw connections holding 256 1-byte out-of-order segments each
#             during a stream
#   kill      kill -9 mid-run with the backlog overflowing and a SYN flood:
#             every sender either got an error or had every byte land
# NMT_OOO_SEGS sets the out-of-order segments per raw connection (256).
# Rates: the stream under attack must keep >= 10 % of its rate alone (a floor
# far below what load on a shared machine moves: starvation, not noise);
# NMT_ASSERT_RATE=1 asserts the issue's 50 % (scripts/tcp-fault-bench.sh
# --hostile), a benchmark's figure rather than a test's. NMT_RATE_ROUNDS=N
# runs the stream alone and under attack N times in turns (each alone run
# just before its attacked one) and judges the median of the N ratios: on
# a shared machine one pair moves by 3x.
#
# NMT_KERNEL=1 (a benchmark's option, as NMT_ASSERT_RATE): after each round
# of the tiny case, the kernel is the receiver of the same stream alone and
# under the same attack, over the same relay (tcp_peer.py msink reads all
# five connections at once, as netmem-rx does), and its median rate is
# printed beside ours: what the kernel keeps on these cores, not asserted.
#
# usage: test_tcp_hostile.sh NETMEM_RX TAP_RELAY [CASE...]
set -u
RX=${1:?usage: $0 NETMEM_RX TAP_RELAY [case...]}
RELAY=${2:?usage: $0 NETMEM_RX TAP_RELAY [case...]}
shift 2
CASES=${*:-"second seq100 syn300 flood10k tiny ooo kill"}
WORK=$(mktemp -d /tmp/nmt-hostile.XXXXXX)
N=0
FAILED=0
BASE_T=
FLOOR=10
[ -n "${NMT_ASSERT_RATE:-}" ] && FLOOR=50
ROUNDS=${NMT_RATE_ROUNDS:-1}
ROUND=1
RATIOS=()
KRATIOS=()
R_ACTIVE=

echo "1..$(wc -w <<<"$CASES")"
skip_all() {
	for c in $CASES; do N=$((N + 1)); echo "ok $N - $c # SKIP $1"; done
	rm -rf "$WORK"
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces, TAP)"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
command -v ip >/dev/null || skip_all "no ip(8)"
command -v ss >/dev/null || skip_all "no ss(8)"
command -v python3 >/dev/null || skip_all "no python3"

. "$(dirname "$0")/relay_lib.sh"
cleanup() {
	local p
	for p in ${BGPIDS:-}; do kill -9 "$p" 2>/dev/null; done
	rl_teardown
	[ -n "${NMT_KEEP:-}" ] && { echo "# kept $WORK"; return; }
	rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 143" TERM INT  # a timeout still deletes the namespaces

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() {
	N=$((N + 1)); echo "not ok $N - $1"; FAILED=1
	local f
	shift
	for f in "$@"; do
		[ -f "$f" ] && { echo "# --- $(basename "$f")"; tail -12 "$f" | sed 's/^/# /'; }
	done
}

# start CASE ARGS...: relay (plain wire) and netmem-rx with ARGS.
start() {
	local c=$1
	shift
	rl_stop_all
	rl_mode netmem
	rl_netmem "$WORK/$c.rx" --timeout 10 "$@" ||
		{ not_ok "$c: netmem-rx did not start: $(grep netmem-rx "$WORK/$c.rx" | head -1)" "$WORK/$c.rx"; rl_stop_all; return 1; }
	rl_relay netmem "$WORK/$c.relay" ||
		{ not_ok "$c: relay did not start" "$WORK/$c.relay"; rl_stop_all; return 1; }
}

# finish SECONDS: netmem-rx's exit status (124: killed after SECONDS), relay stopped.
finish() {
	local rc=0
	rl_wait_pid "$RXPID" "$1" || rc=$?
	RXPID=
	rl_relay_stop
	return $rc
}

# established N: until A has N established connections to B's port (5 s).
established() {
	local i
	for i in $(seq 100); do
		[ "$(nsa ss -tnH state established dst $IPB dport = $PORT | wc -l)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# landed SENDLOG IN OUT...: a sender that exited 0 must find all its bytes
# in one of the OUT files, one that failed the bytes the peer acknowledged
# (tcp_info's bytes_acked; a kill -9 of the receiver loses those, as it
# would with the kernel: so only with ACKED=strict). Prints the verdict;
# returns 1 for a lost stream.
landed() {
	local log=$1 in=$2 f want n
	shift 2
	if ! grep -q '^send: ok' "$log"; then
		n=$(grep -oE 'acked [0-9]+' "$log" | awk '{print $2}')
		if [ "${ACKED:-}" = strict ] && [ "${n:-0}" -gt 0 ]; then
			for f in "$@"; do
				[ -f "$f" ] && cmp -s -n "$n" "$in" "$f" && {
					echo "error after its $n acknowledged bytes landed: $(tail -1 "$log")"; return 0; }
			done
			echo "LOST: $n bytes acknowledged, then $(tail -1 "$log"); no output holds them"
			return 1
		fi
		echo "error: $(tail -1 "$log")"
		return 0
	fi
	want=$(sha "$in")
	for f in "$@"; do
		[ -f "$f" ] && [ "$(sha "$f")" = "$want" ] && { echo "landed"; return 0; }
	done
	echo "LOST: the sender exited 0 ($(tail -1 "$log")) but no output holds its bytes"
	return 1
}

# pings: replies of 10 pings from A to netmem-rx, 0.1 s apart.
pings() {
	nsa ping -c 10 -i 0.1 -W 1 $IPB 2>/dev/null | grep -oE '[0-9]+ received' | awk '{print $1}'
}

case_second() {
	# The first stream lasts 2 s (16 MiB at 8 MiB/s): the second must
	# come while it runs, not after netmem-rx has ended.
	head -c 16M /dev/urandom >"$WORK/in0"
	head -c 4M /dev/urandom >"$WORK/in1"
	rm -f "$WORK"/out*
	start second --connections 1 --out "$WORK/out" --consume-rate 8M || return
	rl_send "$WORK/in0" "$WORK/second.send0" --timeout 15 &
	local s0=$! r0=0 r1=0 rc=0 v0 v1
	established 1
	rl_send "$WORK/in1" "$WORK/second.send1" --timeout 15 &
	local s1=$!
	rl_wait_pid $s0 25 || r0=$?
	rl_wait_pid $s1 25 || r1=$?
	finish 15 || rc=$?
	v0=$(landed "$WORK/second.send0" "$WORK/in0" "$WORK"/out*)
	v1=$(ACKED=strict landed "$WORK/second.send1" "$WORK/in1" "$WORK"/out*)
	echo "# first sender (exit $r0): $v0; second sender (exit $r1): $v1; netmem-rx exit $rc"
	if [[ $v0 != landed ]]; then
		not_ok "second: the first stream did not land: $v0" "$WORK/second.rx"
	elif [[ $v1 == LOST* ]]; then
		not_ok "second: a connection beyond --connections 1 lost acknowledged bytes: $v1" "$WORK/second.rx"
	elif [[ $v1 == *TimeoutError* ]]; then
		# Refused (RST, or no SYN-ACK: connect fails), or held in a backlog
		# and reset when netmem-rx exits: either way the sender knows at
		# once; a sender left to its own timeout learns nothing from us.
		not_ok "second: the connection beyond --connections 1 was neither refused nor reset at netmem-rx's exit: $v1" "$WORK/second.rx"
	else
		ok "a connection beyond --connections 1: $v1; the first landed"
	fi
}

case_seq100() {
	mkdir -p "$WORK/seq"
	rm -f "$WORK"/seq/*
	start seq100 --connections 100 --out "$WORK/seq/out" || return
	local rc=0 bad=0 i f
	nsa python3 "$PEER" seq $IPB $PORT "$WORK/seq" --count 100 --size 16384 --limit 0.1 \
		--timeout 1 --deadline 30 \
		>"$WORK/seq100.send" 2>&1
	finish 15 || rc=$?
	for i in $(seq 0 99); do
		f=$WORK/seq/out; [ $i = 0 ] || f=$WORK/seq/out.$i
		[ -f "$f" ] && [ "$(sha "$f")" = "$(sha "$WORK/seq/in.$i")" ] || bad=$((bad + 1))
	done
	local line
	line=$(grep '^seq: connections' "$WORK/seq100.send")
	echo "# $line; netmem-rx exit $rc; $bad of 100 outputs differ"
	if grep -q 'errors 0 over_limit 0' <<<"$line" && [ $bad = 0 ] && [ $rc = 0 ]; then
		ok "100 sequential connections: each closed within 100 ms of its last byte, every byte intact"
	else
		not_ok "seq100: ${line:-no summary}, $bad outputs differ, netmem-rx exit $rc" \
			"$WORK/seq100.send" "$WORK/seq100.rx"
	fi
}

case_syn300() {
	head -c 4M /dev/urandom >"$WORK/in"
	rm -f "$WORK/out"
	start syn300 --connections 1 --out "$WORK/out" || return
	nsa python3 "$PEER" synflood $TAPA $IPB $PORT 300 --avoid $IPA --seed 3 \
		>"$WORK/syn300.flood" 2>&1
	rl_send "$WORK/in" "$WORK/syn300.send" --timeout 10
	local sr=$? rc=0 conn
	finish 15 || rc=$?
	conn=$(grep -oE 'connect [0-9.]+' "$WORK/syn300.send" | awk '{print $2}')
	echo "# $(cat "$WORK/syn300.flood"); then $(tail -1 "$WORK/syn300.send"); netmem-rx exit $rc"
	grep '^stack:' "$WORK/syn300.rx" | sed 's/^/# /'
	if ! grep -q '^synflood: sent 300 ' "$WORK/syn300.flood"; then
		not_ok "syn300: the flood was not sent" "$WORK/syn300.flood"
	elif [ $sr = 0 ] && awk -v c="$conn" 'BEGIN { exit !(c < 1) }' &&
	     [ "$(sha "$WORK/in")" = "$(sha "$WORK/out" 2>/dev/null)" ]; then
		ok "300 spoofed SYNs, then a real stream connects in $conn s (< 1 s) and lands intact"
	else
		not_ok "syn300: after 300 spoofed SYNs the stream did not connect within 1 s intact (sender exit $sr, connect ${conn:-never})" \
			"$WORK/syn300.rx"
	fi
}

# alone: the legitimate stream's time with nothing else on the queue (once).
alone() {
	[ -n "$BASE_T" ] && return 0
	head -c 64M /dev/urandom >"$WORK/legit"
	rm -f "$WORK/out"
	start alone --connections 1 --out "$WORK/out" || return 1
	rl_send "$WORK/legit" "$WORK/alone.send" --timeout 20
	finish 15
	[ "$(sha "$WORK/legit")" = "$(sha "$WORK/out" 2>/dev/null)" ] || {
		not_ok "alone: the stream alone failed" "$WORK/alone.send" "$WORK/alone.rx"; return 1; }
	BASE_T=$(acked_time "$WORK/alone.send")
}

# acked_time LOG: seconds from connect() to the last byte acknowledged.
acked_time() { grep -oE 'acked_all [0-9.]+' "$1" | tail -1 | awk '{print $2}'; }

# judge CASE OUT SENDER_EXIT PINGS WHAT: the stream under attack. Its rate
# is taken to its last byte acknowledged (the FIN is judged apart).
judge() {
	local c=$1 out=$2 sr=$3 p=$4 what=$5 t ratio intact=false
	t=$(acked_time "$WORK/$c.send")
	ratio=$(awk -v a="$BASE_T" -v b="${t:-0}" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')
	local lbl=
	[ -n "$R_ACTIVE" ] && lbl=" (round $ROUND of $ROUNDS)"
	echo "# $what$lbl: 64 MiB acknowledged in ${t:-never} s, alone in $BASE_T s: $ratio % of its rate; ping ${p:-0}/10 answered"
	grep -E '^(all connections|stack):' "$WORK/$c.rx" | sed 's/^/# /'
	[ "$(sha "$WORK/legit")" = "$(sha "$out" 2>/dev/null)" ] && intact=true
	if [ -n "$R_ACTIVE" ]; then
		RATIOS+=("$ratio")
		# Every round must land intact; the rate is the rounds' median.
		if $intact && [ "$sr" = 0 ] && [ "${p:-0}" -ge 5 ] && [ "$ROUND" -lt "$ROUNDS" ]; then
			return 0
		fi
		ratio=$(printf '%s\n' "${RATIOS[@]}" | sort -n | awk '{ v[NR] = $1 } END {
			print (NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2 + 0.5)) }')
		echo "# $what: ${#RATIOS[@]} rounds, rates ${RATIOS[*]} %: median $ratio %"
	fi
	if $intact && [ "$sr" != 0 ]; then
		not_ok "$c: the stream landed intact but its sender got no FIN ($(tail -1 "$WORK/$c.send")): closed only when every connection has ended" "$WORK/$c.rx"
	elif ! $intact; then
		not_ok "$c: the legitimate stream did not land during $what (sender exit $sr: $(tail -1 "$WORK/$c.send"))" "$WORK/$c.rx"
	elif [ "${p:-0}" -lt 5 ]; then
		not_ok "$c: ping answered ${p:-0} of 10 during $what" "$WORK/$c.rx"
	elif [ "$ratio" -lt "$FLOOR" ]; then
		not_ok "$c: the stream ran at $ratio % of its rate alone during $what (< $FLOOR %)"
	else
		ok "$what: the stream lands intact at $ratio % of its rate alone, ping ${p}/10"
	fi
}

case_flood10k() {
	alone || return
	rm -f "$WORK/out"
	start flood10k --connections 1 --out "$WORK/out" || return
	# ~5000 SYNs/s for 2 s from random sources; the stream and the pings
	# start with it.
	nsa python3 "$PEER" synflood $TAPA $IPB $PORT 10000 --avoid $IPA --rate 5000 --seed 4 \
		>"$WORK/flood10k.flood" 2>&1 &
	local fp=$! sr=0 p
	BGPIDS="$fp"
	rl_send "$WORK/legit" "$WORK/flood10k.send" --timeout 20 &
	local sp=$!
	p=$(pings)
	rl_wait_pid $sp 30 || sr=$?
	rl_wait_pid $fp 30
	BGPIDS=
	finish 15
	echo "# $(cat "$WORK/flood10k.flood")"
	grep -q '^synflood: sent 10000 ' "$WORK/flood10k.flood" ||
		{ not_ok "flood10k: the flood was not sent" "$WORK/flood10k.flood"; return; }
	judge flood10k "$WORK/out" $sr "$p" "a 10,000-SYN flood"
}

# attacked CASE CMD...: 4 hostile connections first (connections 0-3), then
# the legitimate stream (connection 4, FILE.4) and pings, on one queue.
attacked() {
	local c=$1 what=$2
	shift 2
	alone || return
	rm -f "$WORK"/out* "$WORK/stop"
	start "$c" --connections 5 --out "$WORK/out" || return
	nsa python3 "$PEER" "$@" --stopfile "$WORK/stop" --seconds 40 >"$WORK/$c.peer" 2>&1 &
	local ap=$! sr=0 p i
	BGPIDS="$ap"
	for i in $(seq 100); do
		grep -qE 'connected [1-9]' "$WORK/$c.peer" && break
		kill -0 $ap 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -qE 'connected 4' "$WORK/$c.peer"; then
		touch "$WORK/stop"; rl_wait_pid $ap 10; finish 5; BGPIDS=
		not_ok "$c: the hostile connections did not come up: $(tail -1 "$WORK/$c.peer")" "$WORK/$c.rx"
		return
	fi
	sleep 0.5 # let them fill what they can before the stream starts
	rl_send "$WORK/legit" "$WORK/$c.send" --timeout 20 &
	local sp=$!
	p=$(pings)
	rl_wait_pid $sp 40 || sr=$?
	touch "$WORK/stop"
	rl_wait_pid $ap 15
	BGPIDS=
	finish 15
	echo "# hostile peer: $(tail -1 "$WORK/$c.peer")"
	judge "$c" "$WORK/out.4" $sr "$p" "$what"
	[ -n "${NMT_KERNEL:-}" ] && [ "$c" = tiny ] && kernel_round "$c" "$@"
}

# kernel_msink LOG CONNS: the kernel's receiver in B for CONNS connections.
kernel_msink() {
	rl_stop_all
	rl_mode kernel
	ip netns exec "$NSB" python3 "$PEER" msink $IPB $PORT "$WORK/kout" \
		--connections "$2" --timeout 40 >"$1" 2>&1 &
	SINKPID=$!
	wait_line "$1" '^listening' $SINKPID && rl_relay kernel "${1%.sink}.krelay"
}

# kernel_round CASE CMD...: the stream alone, then under CMD's attack, into
# the kernel; its ratio joins KRATIOS (printed, never judged).
kernel_round() {
	local c=$1 ka kb ap
	shift
	rm -f "$WORK"/kout* "$WORK/stop"
	kernel_msink "$WORK/k-alone.sink" 1 || { echo "# kernel: receiver did not start"; rl_stop_all; return; }
	rl_send "$WORK/legit" "$WORK/k-alone.send" --timeout 20
	rl_wait_pid "$SINKPID" 10; SINKPID=
	rl_relay_stop
	ka=$(acked_time "$WORK/k-alone.send")
	[ "$(sha "$WORK/legit")" = "$(sha "$WORK/kout.0" 2>/dev/null)" ] || ka=
	rm -f "$WORK"/kout*
	kernel_msink "$WORK/k-$c.sink" 5 || { echo "# kernel: receiver did not start"; rl_stop_all; return; }
	nsa python3 "$PEER" "$@" --stopfile "$WORK/stop" --seconds 40 >"$WORK/k-$c.peer" 2>&1 &
	ap=$!
	BGPIDS="$ap"
	for i in $(seq 100); do
		grep -qE 'connected 4' "$WORK/k-$c.peer" && break
		kill -0 $ap 2>/dev/null || break
		sleep 0.05
	done
	sleep 0.5 # as in attacked()
	rl_send "$WORK/legit" "$WORK/k-$c.send" --timeout 20
	touch "$WORK/stop"
	rl_wait_pid $ap 15
	BGPIDS=
	rl_wait_pid "$SINKPID" 15; SINKPID=
	rl_relay_stop
	kb=$(acked_time "$WORK/k-$c.send")
	[ "$(sha "$WORK/legit")" = "$(sha "$WORK/kout.4" 2>/dev/null)" ] || kb=
	if [ -n "$ka" ] && [ -n "$kb" ]; then
		KRATIOS+=("$(awk -v a="$ka" -v b="$kb" 'BEGIN { printf "%.0f", 100 * a / b }')")
		echo "# kernel receiver, round $ROUND: alone $ka s, under the same attack $kb s: ${KRATIOS[-1]} % of its rate ($(tail -1 "$WORK/k-$c.peer"))"
	else
		echo "# kernel receiver, round $ROUND: the stream did not land intact (alone ${ka:-failed}, attacked ${kb:-failed})"
	fi
	if [ "$ROUND" -ge "$ROUNDS" ] && [ ${#KRATIOS[@]} -gt 0 ]; then
		echo "# kernel receiver: ${#KRATIOS[@]} rounds, rates ${KRATIOS[*]} %: median $(printf '%s\n' "${KRATIOS[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2 + 0.5)) }') %"
		KRATIOS=()
	fi
}

# rounds CASE ARGS...: CASE's attacked run ROUNDS times, each after a run of
# the stream alone when there are several (judge takes their median).
rounds() {
	local n0=$N
	RATIOS=()
	[ "$ROUNDS" -gt 1 ] && R_ACTIVE=1
	for ROUND in $(seq "$ROUNDS"); do
		[ -n "$R_ACTIVE" ] && BASE_T=
		attacked "$@"
		[ "$N" != "$n0" ] && break  # judged: the last round, or a failure
	done
	ROUND=1 R_ACTIVE=
}

case_tiny() {
	rounds tiny "4 connections writing 1-byte segments in order" \
		tiny $IPB $PORT --conns 4
}

case_ooo() {
	rounds ooo "4 raw connections holding ${NMT_OOO_SEGS:-256} 1-byte out-of-order segments each" \
		ooo $TAPA $IPB $PORT --src-base 169.254.78.20 --conns 4 --segs "${NMT_OOO_SEGS:-256}"
}

case_kill() {
	local i pids=() lost=0 r
	for i in 0 1 2 3; do head -c 8M /dev/urandom >"$WORK/kin$i"; done
	rm -f "$WORK"/kout*
	# Two accepted, two beyond --connections (the backlog), a flood on top.
	start kill --connections 2 --out "$WORK/kout" --consume-rate 8M || return
	for i in 0 1 2 3; do
		rl_send "$WORK/kin$i" "$WORK/kill.send$i" --timeout 10 &
		pids+=($!)
	done
	nsa python3 "$PEER" synflood $TAPA $IPB $PORT 2000 --avoid $IPA --rate 4000 --seed 5 \
		>"$WORK/kill.flood" 2>&1 &
	local fp=$!
	BGPIDS="${pids[*]} $fp"
	established 2
	for i in $(seq 100); do [ -s "$WORK/kout" ] && break; sleep 0.05; done
	sleep 0.3
	kill -9 "$RXPID" 2>/dev/null
	wait "$RXPID" 2>/dev/null
	RXPID=
	# The next run on the port answers the old connections with RSTs (or
	# accepts SYNs that were waiting): each sender ends one way or another.
	rl_netmem "$WORK/kill2.rx" --connections 4 --out "$WORK/kout2" --timeout 5 ||
		echo "# the second netmem-rx did not start"
	for i in 0 1 2 3; do rl_wait_pid "${pids[$i]}" 30; done
	rl_wait_pid $fp 10
	BGPIDS=
	finish 10
	for i in 0 1 2 3; do
		r=$(landed "$WORK/kill.send$i" "$WORK/kin$i" "$WORK"/kout*) || lost=$((lost + 1))
		echo "# sender $i: $r"
	done
	if [ $lost = 0 ]; then
		ok "kill -9 with 2 connections beyond the limit and a SYN flood: every sender got an error or had every byte land"
	else
		not_ok "kill: $lost sender(s) exited 0 with their bytes lost" "$WORK/kill.rx" "$WORK/kill2.rx"
	fi
}

rl_setup || skip_all "cannot make namespaces with TAP devices here"
for c in $CASES; do
	if declare -F "case_$c" >/dev/null; then
		"case_$c"
	else
		not_ok "$c: no such case"
	fi
done
exit $FAILED
