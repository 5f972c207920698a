#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The host kernel's TCP into a dmabuf of 1, 2, 8 and 64 buffers over a TAP
# device (the software NIC's 256-entry rings drain whenever the application
# holds every buffer), in a network namespace made for the run: each stream
# arrives byte for byte (sha256), or netmem-rx stops naming the buffers with
# what it got intact; never a "double free" abort or a sanitizer report.
#
# usage: test_tcp_scarce.sh NETMEM_RX [ASAN_NETMEM_RX]
#   (the second, the ASan/UBSan build's, is run when it exists)
set -u
RX=${1:?usage: $0 NETMEM_RX [ASAN_NETMEM_RX]}
[ -n "${2:-}" ] && [ -x "$2" ] && RX=$2
NS=nmt-$$-scarce
TAPIF=nmtap0
WORK=$(mktemp -d /tmp/nmt-scarce.XXXXXX)
CASES="buf64 buf8 buf2 buf1"
N=0
FAILED=0

echo "1..4"
echo "# netmem-rx: $RX"
skip_all() {
	for c in $CASES; do N=$((N + 1)); echo "ok $N - $c # SKIP $1"; done
	rm -rf "$WORK"
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces, TAP)"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
command -v ip >/dev/null || skip_all "no ip(8)"
command -v python3 >/dev/null || skip_all "no python3"

cleanup() {
	[ -n "${RXPID:-}" ] && kill -9 "$RXPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

ip netns add "$NS" || skip_all "cannot make a network namespace"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip tuntap add dev $TAPIF mode tap || skip_all "cannot make a TAP device"
ip netns exec "$NS" ip link set $TAPIF up
ip netns exec "$NS" ip addr add 169.254.78.1/24 dev $TAPIF

# A stop names the dmabuf's buffers ("the dmabuf holds 1 buffer; ...").
REASON='holds [0-9]+ buffers?'
ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); echo "not ok $N - $1"; FAILED=1; sed 's/^/# /' "$WORK/rx.log" | tail -25; }

# one NAME BUFS SPEC BUF_SIZE BYTES
one() {
	local name=$1 bufs=$2 spec=$3 bsize=$4 bytes=$5 rc=0
	head -c "$bytes" /dev/urandom >"$WORK/in"
	rm -f "$WORK/out"
	ip netns exec "$NS" "$RX" --dmabuf "$spec" --buf-size "$bsize" --dev tap:$TAPIF \
		--addr4 169.254.78.2/24 --listen 5201 --timeout 20 --quiet --out "$WORK/out" \
		>"$WORK/rx.log" 2>&1 &
	RXPID=$!
	for _ in $(seq 200); do
		grep -q "^listening" "$WORK/rx.log" 2>/dev/null && break
		kill -0 $RXPID 2>/dev/null || break
		sleep 0.05
	done
	ip netns exec "$NS" timeout 90 python3 -c '
import socket, sys
s = socket.create_connection(("169.254.78.2", 5201), timeout=60)
s.sendall(open(sys.argv[1], "rb").read())
s.shutdown(socket.SHUT_WR)
try:
    s.recv(1)
except OSError:
    pass
s.close()' "$WORK/in" >>"$WORK/rx.log" 2>&1
	wait $RXPID || rc=$?
	RXPID=
	if grep -q 'double free\|AddressSanitizer\|runtime error' "$WORK/rx.log"; then
		not_ok "$name: a buffer handed out twice or a sanitizer report"
	elif [ "$rc" = 0 ]; then
		if [ "$(sha256sum <"$WORK/in")" = "$(sha256sum <"$WORK/out")" ]; then
			ok "$name: $bytes bytes through $bufs buffer(s), sha256 equal"
		else
			not_ok "$name: exit 0 but the stream differs (sha256)"
		fi
	elif [ "$rc" -lt 128 ] && grep -Eq "$REASON" "$WORK/rx.log" &&
		{ [ ! -e "$WORK/out" ] ||  # refused before listening: nothing arrived
		  cmp -s -n "$(stat -c %s "$WORK/out")" "$WORK/in" "$WORK/out"; }; then
		ok "$name: stopped (exit $rc) naming the buffers, what arrived intact: $(grep -E -m1 "$REASON" "$WORK/rx.log")"
	else
		not_ok "$name: netmem-rx exited $rc without naming the reason"
	fi
}

one buf64 64 memfd:128K 2048 $((4 << 20))
one buf8 8 memfd:16K 2048 $((1 << 20))
one buf2 2 memfd:4K 2048 $((256 << 10))
one buf1 1 memfd:4K 4096 $((256 << 10))
exit $FAILED
