#!/usr/bin/env bash
# Runs inside the test guest: the stream of tests/kmod/tcp_send.py into netmem's
# userspace TCP on the guest's igb port B over VFIO (netmem-rx --listen, one
# poller thread, a 16 MiB udmabuf), sent by port A's kernel over the wire.
# CPU: the whole guest's busy time and netmem-rx's own. Prints
# "stream,0,igb-netmem,REP" and an "rx:" line per run, or a skip line.
# Used by stream-bench.sh and rx3-bench.sh.
#
#   igb-netmem.sh NETMEM_RX BYTES REPS
# Environment (tests/vm/guest-run.sh): NETMEM_GUEST_PORT_A_IF, NETMEM_GUEST_PORT_B_BDF.
set -u

netmem_rx=$1 bytes=$2 reps=$3
here=$(cd "$(dirname "$0")" && pwd)
# bind_vfio
# shellcheck source=../vm/smoke-lib.sh
. "$here/../vm/smoke-lib.sh"

a=${NETMEM_GUEST_PORT_A_IF:-} bdf=${NETMEM_GUEST_PORT_B_BDF:-} log=/tmp/sb-nm.log
dev=/sys/bus/pci/devices/$bdf
if [ -z "$netmem_rx" ] || [ ! -x "$netmem_rx" ] || [ -z "$a" ] || [ ! -e "$dev/driver" ]; then
	echo "igb-netmem: skipped: no netmem-rx, or port A/B missing"
	exit 0
fi
bind_vfio "$bdf" >/dev/null || { echo "igb-netmem: skipped: port B not on vfio-pci"; exit 0; }
ip addr add 169.254.88.1/24 dev "$a"
for r in $(seq "$reps"); do
	"$netmem_rx" --dev "igb:$bdf" --dmabuf udmabuf:16M --listen 5203 --listen-queues 1,2 \
		--pollers 1 --addr4 169.254.88.2/24 --quiet >$log 2>&1 &
	pid=$!
	for _ in $(seq 600); do grep -q '^listening on' $log && break; sleep 0.1; done
	j0=$(awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
	c0=$(awk '{ print $14 + $15 }' /proc/$pid/stat 2>/dev/null || echo 0)
	/usr/bin/python3 "$here/tcp_send.py" 169.254.88.2 5203 $bytes >/dev/null 2>&1
	txrc=$?
	c1=$(awk '{ print $14 + $15 }' /proc/$pid/stat 2>/dev/null || echo "$c0")
	wait $pid
	rxrc=$?
	j1=$(awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
	line=$(grep '^received ' $log)
	got=$(awk '{ print $2 }' <<<"$line")
	secs=$(sed -n 's/.* in \([0-9.]*\) s:.*/\1/p' <<<"$line")
	if [ $txrc -ne 0 ] || [ $rxrc -ne 0 ] || [ "$got" != "$bytes" ]; then
		echo "igb-netmem: stream failed (rx $rxrc, tx $txrc): $(tr '\n' ' ' <$log)"
		break
	fi
	echo "stream,0,igb-netmem,$r"
	awk -v b="$bytes" -v s="$secs" -v j=$((j1 - j0)) -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "rx: mode=netmem bytes=%d expect=%d secs=%s cpu_self_s=%.3f cpu_all_s=%.3f\n", b, b, s, c / hz, j / hz }'
done
ip addr del 169.254.88.1/24 dev "$a"
