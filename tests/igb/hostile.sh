#!/usr/bin/env bash
# igb guest test: hostile peers against userspace devmem TCP on the real NIC
# model. Port B runs netmem-rx over VFIO; port A is the guest kernel, whose
# own TCP sends the legitimate stream, and from which tests/apps/tcp_peer.py
# sends the attacks as a kernel socket would (1-byte writes) or as raw
# frames (a 10,000-SYN flood from spoofed link-local sources, connections
# holding 1-byte segments past holes they never fill). Each case runs the
# same 32 MiB stream as the run alone and checks: every byte landed (sha256),
# ping answered meanwhile, the attack really happened (its peer's summary).
# The stream's rate against the run alone is printed; it is asserted only as
# a floor against starvation (10 %): rates live in benchmarks.
# Usage: hostile.sh PATH/netmem-rx
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 600 -- "$@"
app=$1
need_exe "$app"
peer=$IGB_DIR/../apps/tcp_peer.py
a=$NETMEM_GUEST_PORT_A_IF
b_ip=169.254.12.2
w=/tmp/hostile-test
mkdir -p $w
ip addr add 169.254.12.1/24 dev "$a"
head -c 32M /dev/urandom >$w/s32.bin

start_rx() { # NAME ARGS...
	local name=$1
	shift
	rm -f $w/out*
	listen_bg $w/$name.log "$name: netmem-rx did not start listening" "$app" \
		--dev "igb:$NETMEM_GUEST_PORT_B_BDF" --dmabuf udmabuf:64M --listen 5201 \
		--listen-queues 1 --addr4 $b_ip/24 --out $w/out --timeout 30 "$@"
}

stop_rx() { # NAME: the receiver ends (SIGTERM when the attackers linger)
	local i
	for i in $(seq 100); do kill -0 "$rx_pid" 2>/dev/null || break; sleep 0.1; done
	kill "$rx_pid" 2>/dev/null || true
	wait "$rx_pid" 2>/dev/null || true
}

# legit NAME: the stream from the kernel; prints the seconds until every
# byte was acknowledged (the stream's own time, whatever the FIN does).
legit() {
	python3 "$peer" send $b_ip 5201 $w/s32.bin --timeout 60 >$w/$1.send 2>&1 ||
		{ cat $w/$1.send $w/$1.log; fail "$1: the legitimate stream failed"; }
	awk '$2 == "ok" { for (i = 1; i <= NF; i++) if ($i == "acked_all") print $(i + 1) }' $w/$1.send
}

landed() { # NAME: one of the outputs is the stream, byte for byte
	local want
	want=$(sha256sum <$w/s32.bin | cut -d' ' -f1)
	sha256sum $w/out* 2>/dev/null | grep -q "^$want " ||
		{ cat $w/$1.log; fail "$1: the legitimate stream did not land intact"; }
}

ping -c 2 -W 2 $b_ip >/dev/null 2>&1 || true  # ARP for the raw peers
start_rx alone --connections 1
t_alone=$(legit alone)
stop_rx alone
landed alone
pass "alone: 32 MiB in ${t_alone} s"

# attack NAME WHAT CMD...: the attack in the background, then the stream.
attack() {
	local name=$1 what=$2
	shift 2
	start_rx "$name" --connections 5
	python3 "$peer" "$@" >$w/$name.peer 2>&1 &
	local ap=$!
	sleep 0.5
	ping -c 10 -i 0.2 -W 2 $b_ip >$w/$name.ping 2>&1 &
	local pp=$!
	local t
	t=$(legit "$name")
	touch $w/stop
	wait "$pp" || true
	wait "$ap" || true
	rm -f $w/stop
	stop_rx "$name"
	landed "$name"
	local replies pct
	replies=$(grep -c 'bytes from' $w/$name.ping || true)
	[ "$replies" -ge 5 ] || { cat $w/$name.ping; fail "$name: ping answered $replies/10"; }
	pct=$(awk -v a="$t_alone" -v t="$t" 'BEGIN { printf "%d", 100 * a / t }')
	echo "# $name: $(head -n1 $w/$name.peer)"
	[ "$pct" -ge 10 ] || fail "$name: the stream ran at $pct % of its rate alone (starved)"
	pass "$what: the stream landed intact in $t s, $pct % of its rate alone; ping $replies/10"
}

attack flood "a 10,000-SYN flood from spoofed sources" \
	synflood "$a" $b_ip 5201 10000 --avoid 169.254.12.1 --rate 5000 --seed 3
grep -q '^synflood: sent 10000 ' $w/flood.peer || fail "flood: the flood was not sent"
attack tiny "4 connections writing 1-byte segments" \
	tiny $b_ip 5201 --conns 4 --seconds 30 --stopfile $w/stop
attack ooo "4 raw connections holding 256 1-byte segments past a hole" \
	ooo "$a" $b_ip 5201 --src-base 169.254.12.20 --conns 4 --segs 256 --seconds 30 --stopfile $w/stop
check "the stack dropped tiny segments past their share, or pruned the hoarders" \
	sh -c "grep -qE '(over share|ooo pruned|pruned) [1-9]' $w/tiny.log $w/ooo.log"
