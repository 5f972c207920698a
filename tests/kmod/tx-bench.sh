#!/usr/bin/env bash
# Runs inside the test guest for scripts/kmod-compare.sh: the same TCP stream
# sent from nmk0 two ways, alternating, REPS times each, to a stock receiver
# (tests/kmod/tcp_recv.py, plain recv(), every byte checked) in a namespace of
# its own behind nmkp0:
#   devmem — the kernel's devmem TX from a 4 MiB udmabuf (netmem-kctl tx:
#            bind-tx, sendmsg(MSG_ZEROCOPY) + SCM_DEVMEM_DMABUF);
#   host   — plain send() from host memory (netmem-kctl tx --host).
# Both sides pinned alike in both modes: the sender on CPU 0, the receiver on
# CPU 1 (printed). Prints "txstream,MODE,REP" before each sender's "tx:" line,
# or one "txstream,skipped,REASON" line where the kernel has no devmem TX.
#
#   tx-bench.sh KO KCTL STREAM_MIB REPS
set -u

ko=$1 kctl=$2 mib=$3 reps=$4
here=$(cd "$(dirname "$0")" && pwd)
ns=nmk-txb
bytes=$((mib << 20))
kv=$(uname -r)
kmaj=${kv%%.*} kmin=${kv#*.}
kmin=${kmin%%.*}
if [ "$kmaj" -lt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -lt 16 ]; }; then
	echo "txstream,skipped,Linux $kv has no devmem TX (bind-tx: 6.16)"
	exit 0
fi

insmod "$ko" || exit 1
ip netns add $ns || exit 1
ip link set nmkp0 netns $ns &&
	ip -n $ns link set lo up &&
	ip -n $ns addr add 169.254.90.2/24 dev nmkp0 &&
	ip -n $ns link set nmkp0 up &&
	ip addr add 169.254.90.1/24 dev nmk0 &&
	"$kctl" up || exit 1
echo "txstream,pinning,sender (netmem-kctl tx) on CPU 0, receiver (tcp_recv.py) on CPU 1, both modes"

one() { # one MODE REP
	local log=/tmp/txb-recv.log
	ip netns exec $ns taskset -c 1 /usr/bin/python3 "$here/tcp_recv.py" 169.254.90.2 5301 $bytes >$log 2>&1 &
	local pid=$!
	for _ in $(seq 100); do grep -q '^listening' $log && break; sleep 0.1; done
	local args=(-s 4)
	[ "$1" = host ] && args=(--host)
	echo "txstream,$1,$2"
	taskset -c 0 "$kctl" tx -a 169.254.90.2 -p 5301 -n $bytes "${args[@]}" >/tmp/txb-tx.log 2>&1
	local txrc=$?
	wait $pid
	local rxrc=$?
	grep '^tx: mode' /tmp/txb-tx.log
	grep '^recv:' $log
	[ $txrc -eq 0 ] && [ $rxrc -eq 0 ] ||
		{ echo "tx-bench: $1 failed (tx $txrc, recv $rxrc)"; cat /tmp/txb-tx.log $log; return 1; }
}

for r in $(seq "$reps"); do
	one devmem "$r" || exit 1
	one host "$r" || exit 1
done
ip netns del $ns
sleep 0.5
"$kctl" down
rmmod netmem_kmod || exit 1
