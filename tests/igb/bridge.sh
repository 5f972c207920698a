#!/usr/bin/env bash
# igb guest test: payload from the NIC into page-backed dmabufs that reach VFIO only
# through the netmem kernel bridge: a vgem (DRM PRIME) buffer and a system dma-heap
# buffer. Every payload byte is checked by netmem-rx through the dmabuf's own mmap,
# inside DMA_BUF_IOCTL_SYNC; headers land in host memory. Then kill -9 mid-receive,
# and a second run claims the device and new memory; every dmabuf is released,
# rmmod is clean, dmesg has no warning.
# Usage: bridge.sh BUILD_ROOT PATH/netmem-rx PATH/igb-send   (on the host)
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
ko=$1 rx=$2 send=$3
need_exe "$rx"
need_exe "$send"
bdf=$NETMEM_GUEST_PORT_B_BDF
a=$NETMEM_GUEST_PORT_A_IF

dmabufs() { sed -n 's/^Total \([0-9]*\) objects.*/\1/p' /sys/kernel/debug/dma_buf/bufinfo; }

modprobe vgem
dmesg -C
check "insmod the bridge" insmod "$ko"
base=$(dmabufs)

# run_flow SPEC EXPORTER FLOW PORT BYTES
run_flow() {
	local spec=$1 exporter=$2 flow=$3 port=$4 bytes=$5 log=/tmp/rx-$1.log pid rc=0
	local cmd=(netmem-rx --dev "igb:$bdf" --dmabuf "$spec" --flow "$flow" --port "$port"
		--bytes "$bytes" --ack-every 16)
	echo "\$ ${cmd[*]}"
	"$rx" "${cmd[@]:1}" >"$log" 2>&1 &
	pid=$!
	if ! wait_line "$log" '^ready' 60; then
		kill "$pid" 2>/dev/null || true
		cat "$log"
		fail "netmem-rx on $spec did not get ready"
	fi
	"$send" --if "$a" --flow "$flow" --port "$port" --bytes "$bytes" --window 64 ||
		{ kill "$pid" 2>/dev/null || true; cat "$log"; fail "igb-send failed"; }
	wait "$pid" || rc=$?
	cat "$log"
	check "$spec: exporter is '$exporter' (a real dmabuf, not emulated)" \
		grep -q "^dmabuf: $exporter, " "$log"
	check "$spec: netmem-rx exited 0" test "$rc" = 0
	check "$spec: every payload byte verified through the dmabuf's mmap" \
		grep -q '^payload check: every byte verified' "$log"
	check "$spec: every frame split, headers in host memory, payload in net_iovs" \
		grep -Eq '^header split: ([0-9]+) of \1 frames; .* \(\1 net_iov buffers\)' "$log"
}

run_flow vgem:16M drm udp4 5401 8M
run_flow heap:16M system tcp6 5402 8M
check "every dmabuf released after the runs" test "$(dmabufs)" = "$base"

# kill -9 in the middle of a flow into a heap buffer, then claim everything again.
log1=/tmp/rx-kill.log
"$rx" --dev "igb:$bdf" --dmabuf heap:16M --flow tcp6 --port 5403 --bytes 64M --ack-every 16 \
	>"$log1" 2>&1 &
rx1=$!
wait_line "$log1" '^ready' 60 || { cat "$log1"; fail "netmem-rx (to be killed) did not get ready"; }
"$send" --if "$a" --flow tcp6 --port 5403 --bytes 64M --window 64 >/dev/null 2>&1 &
tx1=$!
wait_line "$log1" '^ *25%' 90 || { cat "$log1"; fail "netmem-rx (to be killed) received nothing"; }
kill -9 "$rx1"
wait "$rx1" 2>/dev/null || true
kill "$tx1" 2>/dev/null || true
wait "$tx1" 2>/dev/null || true
pass "netmem-rx killed with SIGKILL a quarter into a 64 MiB flow into heap:16M"
check "the killed process's dmabuf, bridge and mappings are all released" \
	test "$(dmabufs)" = "$base"
run_flow vgem:16M drm tcp4 5404 8M

check "rmmod the bridge" rmmod netmem_bridge
if dmesg | grep -E 'WARNING|BUG|Oops|refcount|leak'; then
	fail "dmesg has warnings"
fi
pass "dmesg clean"
