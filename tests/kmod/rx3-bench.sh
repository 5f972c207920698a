#!/usr/bin/env bash
# Runs inside the 7.3 test guest for scripts/kmod-compare.sh --rx3: the same TCP
# stream from a stock sender (tests/kmod/tcp_send.py, in a namespace of its own
# behind nmkp0) received on nmk0's queue 1 five ways, interleaved, REPS rounds:
#   devmem-4k, devmem-32k  the kernel's devmem TCP (bind-rx, recvmsg + tokens),
#                          4 KiB net_iovs / 32 KiB (rx-page-size, hugetlb udmabuf)
#   zcrx-4k, zcrx-32k      io_uring zcrx into a udmabuf area (refill ring),
#                          rx_buf_len 4 KiB / 32 KiB (hugetlb udmabuf)
#   host                   kernel TCP into host memory (recv)
# then netmem's userspace TCP on the VFIO igb port (tests/kmod/igb-netmem.sh).
# The receiver runs on CPU 1, the sender on CPU 0, in every mode alike.
# Prints "rx3,MODE,REP" before each receiver line, "pinning,..." once.
#
#   rx3-bench.sh KO KCTL STREAM_MIB REPS [NETMEM_RX]
set -u

ko=$1 kctl=$2 mib=$3 reps=$4 netmem_rx=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
ns=nmk-rx3
bytes=$((mib << 20))
rxcpu=1 txcpu=0

insmod "$ko" || exit 1
ip netns add $ns || exit 1
ip link set nmkp0 netns $ns &&
	ip -n $ns link set lo up &&
	ip -n $ns addr add 169.254.87.2/24 dev nmkp0 &&
	ip -n $ns link set nmkp0 up &&
	ip addr add 169.254.87.1/24 dev nmk0 &&
	"$kctl" up && "$kctl" rss-equal 1 && "$kctl" flow -p 5201 -q 1 >/dev/null || exit 1
echo "pinning,module NIC rows: receiver on CPU $rxcpu and sender on CPU $txcpu (taskset) in every mode, $(nproc) vCPUs, NAPI where the sender's softirq runs; netmem row: unpinned, as stream-bench runs it"

queue_host() { # bounded: io_uring's ifq goes away from a worker after close
	for _ in $(seq 50); do
		[ "$("$kctl" queues | awk '$1 == 1 { print $3 }')" = host ] && return 0
		sleep 0.1
	done
	return 1
}

one() { # one MODE REP
	local log=/tmp/rx3.log args
	case $1 in
	devmem-4k) args=(rx -s "$mib") ;;
	devmem-32k) args=(rx -s "$mib" --huge --rx-page-size 32768) ;;
	zcrx-4k) args=(zcrx -s "$mib") ;;
	zcrx-32k) args=(zcrx -s "$mib" --huge --rx-page-size 32768) ;;
	host) args=(rx --host) ;;
	esac
	queue_host || { echo "rx3-bench: queue 1 still has a provider before $1"; return 1; }
	taskset -c $rxcpu "$kctl" "${args[@]}" -p 5201 -n $bytes -q 1 >$log 2>&1 &
	local pid=$!
	for _ in $(seq 100); do grep -q '^listening' $log && break; sleep 0.1; done
	ip netns exec $ns taskset -c $txcpu /usr/bin/python3 "$here/tcp_send.py" 169.254.87.1 5201 $bytes >/dev/null 2>&1
	local txrc=$?
	wait $pid
	local rxrc=$?
	echo "rx3,$1,$2"
	grep '^rx: mode\|^zcrx: mode' $log
	[ $txrc -eq 0 ] && [ $rxrc -eq 0 ] || { echo "rx3-bench: $1 failed (rx $rxrc, tx $txrc)"; cat $log; return 1; }
}

for r in $(seq "$reps"); do
	for m in devmem-4k zcrx-4k host devmem-32k zcrx-32k; do
		one $m "$r" || exit 1
	done
done
"$kctl" rxstats
ip netns del $ns
sleep 0.5
"$kctl" down
rmmod netmem_kmod || exit 1
# netmem's userspace TCP on the guest's igb port B over VFIO (its own wire).
"$here/igb-netmem.sh" "$netmem_rx" "$bytes" "$reps" | sed 's/^stream,0,igb-netmem,/rx3,netmem,/'
