#!/usr/bin/env bash
# Runs inside the test guest for scripts/kmod-compare.sh: the same TCP stream
# from a stock sender (tests/kmod/tcp_send.py, in a namespace of its own behind
# nmkp0) received on nmk0's queue 1 two ways, alternating, REPS times per
# udmabuf size:
#   devmem — the kernel's devmem TCP into a udmabuf of that size (bind-rx);
#   host   — kernel TCP into host memory (plain recv), the same queue unbound.
# Prints the receiver's "rx:" lines, each after "stream,SIZE_MIB,MODE,REP".
#
# With NETMEM_RX, the same stream also into netmem's userspace TCP on port B
# over VFIO ("stream,0,igb-netmem,REP").
#
#   stream-bench.sh KO KCTL "SIZES_MIB" STREAM_MIB REPS [NETMEM_RX]
set -u

ko=$1 kctl=$2 sizes=$3 mib=$4 reps=$5 netmem_rx=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
ns=nmk-bench
bytes=$((mib << 20))

insmod "$ko" || exit 1
ip netns add $ns || exit 1
ip link set nmkp0 netns $ns &&
	ip -n $ns link set lo up &&
	ip -n $ns addr add 169.254.87.2/24 dev nmkp0 &&
	ip -n $ns link set nmkp0 up &&
	ip addr add 169.254.87.1/24 dev nmk0 &&
	"$kctl" up && "$kctl" rss-equal 1 && "$kctl" flow -p 5201 -q 1 >/dev/null || exit 1

one() { # one SIZE MODE REP
	local log=/tmp/sb.log
	if [ "$2" = host ]; then
		"$kctl" rx -p 5201 -n $bytes -q 1 --host >$log 2>&1 &
	else
		"$kctl" rx -p 5201 -n $bytes -q 1 -s "$1" >$log 2>&1 &
	fi
	local pid=$!
	for _ in $(seq 100); do grep -q '^listening' $log && break; sleep 0.1; done
	ip netns exec $ns /usr/bin/python3 "$here/tcp_send.py" 169.254.87.1 5201 $bytes >/dev/null 2>&1
	local txrc=$?
	wait $pid
	local rxrc=$?
	echo "stream,$1,$2,$3"
	grep '^rx: mode' $log
	[ $txrc -eq 0 ] && [ $rxrc -eq 0 ] || { echo "stream-bench: $2 at $1 MiB failed (rx $rxrc, tx $txrc)"; cat $log; return 1; }
}

for s in $sizes; do
	for r in $(seq "$reps"); do
		one "$s" devmem "$r" || exit 1
		one "$s" host "$r" || exit 1
	done
done
# Kernel TCP on the kernel's igb driver, the same sender and length: port B
# into a namespace of its own, so the stream crosses the guest's wire (QEMU's
# igb model) to port A. Prints "stream,0,igb-host,REP" blocks, or a skip line.
igb_streams() {
	local a=${NETMEM_GUEST_PORT_A_IF:-} bdf=${NETMEM_GUEST_PORT_B_BDF:-} b="" r log=/tmp/sb-igb.log
	[ -n "$bdf" ] && b=$(ls "/sys/bus/pci/devices/$bdf/net" 2>/dev/null | head -n1)
	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "igb: skipped: port A '$a' or port B ($bdf) has no kernel interface"
		return 0
	fi
	ip netns add nmk-igb && ip link set "$b" netns nmk-igb &&
		ip -n nmk-igb addr add 169.254.88.2/24 dev "$b" && ip -n nmk-igb link set "$b" up &&
		ip addr add 169.254.88.1/24 dev "$a" && ip link set "$a" up || { echo "igb: skipped: cannot wire the ports"; return 0; }
	for r in $(seq "$reps"); do
		"$kctl" rx -p 5202 -n $bytes --host >$log 2>&1 &
		local pid=$!
		for _ in $(seq 100); do grep -q '^listening' $log && break; sleep 0.1; done
		ip netns exec nmk-igb /usr/bin/python3 "$here/tcp_send.py" 169.254.88.1 5202 $bytes >/dev/null 2>&1
		local txrc=$?
		wait $pid
		local rxrc=$?
		if [ $txrc -ne 0 ] || [ $rxrc -ne 0 ]; then
			echo "igb: stream failed (rx $rxrc, tx $txrc): $(tr '\n' ' ' <$log)"
			break
		fi
		echo "stream,0,igb-host,$r"
		grep '^rx: mode' $log
	done
	ip addr del 169.254.88.1/24 dev "$a"
	ip netns del nmk-igb
}
# netmem's userspace TCP on the same wire (tests/kmod/igb-netmem.sh).
igb_netmem_streams() {
	"$here/igb-netmem.sh" "$netmem_rx" "$bytes" "$reps"
}
igb_streams
igb_netmem_streams

# Refusals with tcp-data-split off, counted as kmod-compare.md counts them:
# callbacks on queue 1 (`netmem-kctl queues` column 9) across one bind.
"$kctl" hds off || exit 1
cb() { "$kctl" queues | awk '$1 == 1 { print $9 }'; }
c0=$(cb)
"$kctl" bind -q 1 -s 4 >/dev/null 2>&1 && { echo "stream-bench: bind with tcp-data-split off accepted"; exit 1; }
c1=$(cb)
"$kctl" bind-rx -q 1 -s 4 >/dev/null 2>&1 && { echo "stream-bench: bind-rx with tcp-data-split off accepted"; exit 1; }
c2=$(cb)
echo "refusal,check-first,$((c1 - c0))"
echo "refusal,bind-rx,$((c2 - c1))"
"$kctl" hds on || exit 1
"$kctl" rxstats
ip netns del $ns
sleep 0.5
rmmod netmem_kmod
