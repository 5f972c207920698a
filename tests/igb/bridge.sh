#!/usr/bin/env bash
# igb guest test: payload from the NIC into page-backed dmabufs that reach VFIO only
# through the netmem kernel bridge: a vgem (DRM PRIME) buffer and a system dma-heap
# buffer. The sender is the guest kernel's TCP on port A (nc); netmem-rx --listen
# writes the stream out through the dmabuf's own mmap, inside DMA_BUF_IOCTL_SYNC,
# and it must equal what nc sent (sha256); headers land in host memory, no
# segment in host memory. Then kill -9 mid-stream, and a second run claims the
# device and new memory; every dmabuf is released, rmmod is clean, dmesg has no
# warning.
# Usage: bridge.sh BUILD_ROOT PATH/netmem-rx   (on the host)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
if ! in_guest; then
	rc=0
	ko=$("$IGB_DIR/../bridge/build-module.sh" "$1" 2>"$1/tests/igb-bridge-build.err") || rc=$?
	if [ $rc = 77 ]; then
		echo "SKIP: $(cat "$1/tests/igb-bridge-build.err")" >&2
		exit 77
	fi
	[ $rc = 0 ] || { cat "$1/tests/igb-bridge-build.err"; exit 1; }
	shift
	igb_reexec --timeout 280 -- "$ko" "$@"
fi
ko=$1 rx=$2
need_exe "$rx"
command -v nc >/dev/null && command -v socat >/dev/null ||
	fail "nc or socat is not installed (scripts/install-deps.sh base)"
bdf=$NETMEM_GUEST_PORT_B_BDF
a=$NETMEM_GUEST_PORT_A_IF
w=/tmp/bridge
mkdir -p $w
ip addr add 169.254.10.1/24 dev "$a"
head -c 8M /dev/urandom >$w/in
head -c 64M /dev/urandom >$w/big
listen=(--listen-queues 1 --addr4 169.254.10.2/24)

dmabufs() { sed -n 's/^Total \([0-9]*\) objects.*/\1/p' /sys/kernel/debug/dma_buf/bufinfo; }

modprobe vgem
dmesg -C
check "insmod the bridge" insmod "$ko"
base=$(dmabufs)

# run_flow SPEC EXPORTER PORT SPORT: 8 MiB from nc (source port SPORT) into a
# dmabuf of SPEC. The source ports are fixed, each its own (the last one is in
# TIME_WAIT), and RSS can steer each flow to the listen queue: see tcp.sh and
# test_igb_rss.c.
run_flow() {
	local spec=$1 exporter=$2 port=$3 sport=$4 log=$w/rx-$1.log pid rc=0
	local cmd=(netmem-rx --dev "igb:$bdf" --dmabuf "$spec" --listen "$port" "${listen[@]}"
		--out $w/out)
	echo "\$ ${cmd[*]}"
	listen_bg "$log" "netmem-rx on $spec did not listen" "$rx" "${cmd[@]:1}"
	pid=$rx_pid
	nc -N -w 60 -p "$sport" 169.254.10.2 "$port" <$w/in ||
		{ kill "$pid" 2>/dev/null || true; cat "$log"; fail "nc failed"; }
	wait "$pid" || rc=$?
	cat "$log"
	check "$spec: exporter is '$exporter' (a real dmabuf, not emulated)" \
		grep -q "^dmabuf: $exporter, " "$log"
	check "$spec: netmem-rx exited 0" test "$rc" = 0
	check "$spec: the stream read back through the dmabuf's mmap is what nc sent (sha256)" \
		test "$(sha256sum <$w/in)" = "$(sha256sum <$w/out)"
	check "$spec: no segment landed in host memory (payload in net_iovs, headers split off)" \
		grep -Eq '^all connections: [1-9][0-9]* segs, 8388608 bytes, .* copy fallbacks 0,' "$log"
}

run_flow vgem:16M drm 5401 40000
run_flow heap:16M system 5402 40001
check "every dmabuf released after the runs" test "$(dmabufs)" = "$base"

# kill -9 in the middle of a stream into a heap buffer, then claim everything again.
log1=$w/rx-kill.log
listen_bg "$log1" "netmem-rx (to be killed) did not listen" \
	"$rx" --dev "igb:$bdf" --dmabuf heap:16M --listen 5403 "${listen[@]}"
rx1=$rx_pid
socat -u OPEN:$w/big TCP:169.254.10.2:5403,sourceport=40002 2>/dev/null &
tx1=$!
wait_line "$log1" 'Gbit/s  conns' 90 || { cat "$log1"; fail "netmem-rx (to be killed) received nothing"; }
kill -9 "$rx1"
wait "$rx1" 2>/dev/null || true
kill "$tx1" 2>/dev/null || true
wait "$tx1" 2>/dev/null || true
pass "netmem-rx killed with SIGKILL in the middle of a 64 MiB stream into heap:16M"
check "the killed process's dmabuf, bridge and mappings are all released" \
	test "$(dmabufs)" = "$base"
run_flow vgem:16M drm 5404 40003

check "rmmod the bridge" rmmod netmem_bridge
if dmesg | grep -E 'WARNING|BUG|Oops|refcount|leak'; then
	fail "dmesg has warnings"
fi
pass "dmesg clean"
