#!/usr/bin/env bash
# igb benchmark (meson benchmark 'igb-tcp-vs-kernel'): the same TCP stream
# from the guest kernel on port A (socat, the kernel's TCP, TSO as the
# kernel chooses) received on port B, in one guest boot, by
#   kernel   the kernel's igb driver and TCP (GRO on), port B in a network
#            namespace of its own so the stream crosses the wire; a plain
#            recv() into one 1 MiB host buffer (tests/igb/tcp_sink.c)
#   netmem   netmem's igb driver over VFIO and netmem's userspace TCP
#            (netmem-rx --listen), payload into a udmabuf, headers in host
#            memory, tokens back through the refill ring
# Per trial: Gbit/s of the receiver, and CPU seconds per GiB of the whole
# guest (every CPU's busy time from /proc/stat: sender, softirq, receiver
# and its pollers alike, since the kernel receiver's work is mostly in
# softirq, charged to no process). Medians of TRIALS; ratios netmem/kernel.
# The sender runs on CPU 0, each receiver (python, or netmem-rx with one
# poller thread over its queues plus the consuming thread) on CPU 1.
# Under TCG absolute numbers mean little; the ratios are the result.
# MTU (default 1500) is set on both ports for both receivers, so the kernel's
# baseline runs at the same MTU; BUF_SIZE (default 4096, 16384 above MTU
# 4000) is netmem's dmabuf buffer size (--buf-size). Frames per MiB are
# counted on port B: the kernel's rx_packets, netmem's listen queues.
# Usage: tcp-bench.sh PATH/netmem-rx PATH/tcp-sink [SIZE_MIB [TRIALS [MTU [BUF_SIZE]]]]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
if ! in_guest; then
	# Port B starts on the kernel's igb; the script moves it to vfio-pci.
	exec "$GUEST_RUN" --timeout 1100 -- "$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")" "$@"
fi
app=$1 sink_exe=$2 mib=${3:-64} trials=${4:-5} mtu=${5:-1500}
buf=${6:-$([ "$mtu" -gt 4000 ] && echo 16384 || echo 4096)}
need_exe "$app"
need_exe "$sink_exe"
command -v socat >/dev/null || fail "socat is not installed (scripts/install-deps.sh base)"
a=$NETMEM_GUEST_PORT_A_IF bdf=$NETMEM_GUEST_PORT_B_BDF
w=/tmp/tcp-bench
mkdir -p $w
head -c "${mib}M" /dev/urandom >$w/stream.bin
bytes=$((mib << 20))
ip link set "$a" mtu "$mtu" || fail "port A refuses MTU $mtu"
ip addr add 169.254.10.1/24 dev "$a"

busy_jiffies() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# per_cpu: "cpu0 cpu1" busy jiffies, to say where the time went (sender on 0).
per_cpu() { awk '/^cpu[01] /{ printf "%d ", $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
split_line() { # "BEFORE" "AFTER": the sender's and the receiver's CPU seconds
	awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN { split(a, x); split(b, y);
		printf "CPU s: sender side (cpu0) %.2f, receiver side (cpu1) %.2f", (y[1] - x[1]) / hz, (y[2] - x[2]) / hz }'
}
hz=$(getconf CLK_TCK)

# one NAME: send the stream once to the receiver started by the caller, print
# "NAME gbps cpu_s_per_gib" from the receiver's time and the guest's busy time.
results=$w/results
: >$results
record() { # NAME SECONDS JIFFIES FRAMES
	awk -v n="$1" -v s="$2" -v j="$3" -v f="$4" -v hz="$hz" -v b=$bytes 'BEGIN {
		printf "%s %.4f %.4f %.1f\n", n, b * 8 / s / 1e9, (j / hz) / (b / 2^30),
			f / (b / 2^20) }' >>$results
}

# --- kernel: port B on the kernel's igb, in its own namespace -----------------
bif=$(netdev_of "$bdf") || fail "port B has no kernel netdev"
ip netns add nmk
ip link set "$bif" netns nmk
ip -n nmk link set lo up
ip -n nmk link set "$bif" mtu "$mtu"
ip -n nmk link set "$bif" up
ip -n nmk addr add 169.254.10.2/24 dev "$bif"
wait_for 10 ip netns exec nmk sh -c "cat /sys/class/net/$bif/carrier | grep -q 1" ||
	fail "port B's link did not come up in the namespace"
ping -c 1 -W 5 169.254.10.2 >/dev/null || fail "ping the kernel's port B"
for t in $(seq "$trials"); do
	rm -f $w/ready
	ip netns exec nmk nstat -n
	ip netns exec nmk taskset -c 1 "$sink_exe" 169.254.10.2 5201 $w/ready >$w/kernel.$t.log &
	sink=$!
	wait_for 30 test -e $w/ready || fail "the kernel receiver did not start"
	j0=$(busy_jiffies) p0=$(per_cpu)
	f0=$(ip netns exec nmk cat /sys/class/net/$bif/statistics/rx_packets)
	taskset -c 0 socat -u OPEN:$w/stream.bin TCP:169.254.10.2:5201
	wait "$sink"
	j1=$(busy_jiffies) p1=$(per_cpu)
	f1=$(ip netns exec nmk cat /sys/class/net/$bif/statistics/rx_packets)
	secs=$(sed -n 's/.*secs=\([0-9.]*\).*/\1/p' $w/kernel.$t.log)
	got=$(sed -n 's/^bytes=\([0-9]*\).*/\1/p' $w/kernel.$t.log)
	[ "$got" = "$bytes" ] || fail "kernel trial $t: $got of $bytes bytes"
	record kernel "$secs" $((j1 - j0)) $((f1 - f0))
	echo "kernel trial $t: $(tail -n1 $results)"
	# What the receiver sent back (ACKs) and took in, for the ACK ratio.
	echo "  $(split_line "$p0" "$p1")"
	echo "  kernel: $(ip netns exec nmk nstat -z TcpInSegs TcpOutSegs TcpExtTCPDelivered 2>/dev/null | awk 'NR > 1 { printf "%s %s  ", $1, $2 }')"
done
ip netns del nmk

# --- netmem: port B to vfio-pci, netmem's driver and TCP ---------------------
wait_for 10 test -e "/sys/bus/pci/devices/$bdf/driver" || fail "port B came back without a driver"
bind_vfio "$bdf" >/dev/null || fail "port B ($bdf) to vfio-pci"
ip neigh flush dev "$a"
for t in $(seq "$trials"); do
	listen_bg $w/netmem.$t.log "netmem-rx did not listen" \
		taskset -c 1 "$app" --dev "igb:$bdf" --dmabuf udmabuf:64M --listen 5201 \
		--listen-queues 1,2 --pollers 1 --addr4 169.254.10.2/24 --mtu "$mtu" --buf-size "$buf" \
		--quiet
	rx=$rx_pid
	j0=$(busy_jiffies) p0=$(per_cpu)
	taskset -c 0 socat -u OPEN:$w/stream.bin TCP:169.254.10.2:5201
	p1=$(per_cpu)
	wait "$rx" || { cat $w/netmem.$t.log; fail "netmem-rx trial $t failed"; }
	j1=$(busy_jiffies)
	# "received N bytes on 1 connection(s) in S s: G Gbit/s"
	line=$(grep '^received ' $w/netmem.$t.log)
	got=$(awk '{ print $2 }' <<<"$line")
	secs=$(sed -n 's/.* in \([0-9.]*\) s:.*/\1/p' <<<"$line")
	[ "$got" = "$bytes" ] || { cat $w/netmem.$t.log; fail "netmem trial $t: $got of $bytes bytes"; }
	# "  queue Q: F frames, ...": the frames on the listen queues
	frames=$(awk '/^  queue [12]:/ { f += $3 } END { print f + 0 }' $w/netmem.$t.log)
	record netmem "$secs" $((j1 - j0)) "$frames"
	echo "netmem trial $t: $(tail -n1 $results)"
	echo "  $(split_line "$p0" "$p1")"
	echo "  netmem: $(grep -m1 '^all connections' $w/netmem.$t.log)"
done

# --- medians and ratios ------------------------------------------------------
med() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' $results | sort -g |
	awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
kg=$(med kernel 2) kc=$(med kernel 3) ng=$(med netmem 2) nc=$(med netmem 3)
kf=$(med kernel 4) nf=$(med netmem 4)
echo
echo "TCP receive of a ${mib} MiB stream from the guest kernel (port A), MTU $mtu," \
	"netmem buffers $buf B, median of $trials:"
# The figures depend on it: say it with them.
echo "  pinning: sender (socat) taskset -c 0; receivers taskset -c 1 (tcp-sink; netmem-rx" \
	"--pollers 1, poller and consumer); the kernel receiver's softirq runs where port B's" \
	"interrupt lands (not pinned), counted in the whole guest's CPU"
printf '  %-44s %9s %14s %11s\n' receiver Gbit/s "CPU s/GiB" "frames/MiB"
printf '  %-44s %9.3f %14.2f %11.1f\n' "kernel igb + kernel TCP, recv() to host" "$kg" "$kc" "$kf"
printf '  %-44s %9.3f %14.2f %11.1f\n' "netmem igb/VFIO + userspace TCP, to udmabuf" "$ng" "$nc" "$nf"
awk -v kg="$kg" -v kc="$kc" -v ng="$ng" -v nc="$nc" 'BEGIN {
	printf "ratio netmem/kernel: throughput %.2f, CPU per GiB %.2f\n", ng / kg, nc / kc }'
