#!/usr/bin/env bash
# Install the build dependencies, build netmem, and show its main job: the
# Linux kernel's own TCP streaming into a dmabuf through netmem's userspace
# devmem TCP stack, over a TAP device in a network namespace made for the
# demo (and deleted after it), verified by sha256.
#
# Without root or /dev/net/tun it falls back to the synthetic run on the
# software NIC, and says why. Arguments go to netmem-rx in that fallback
# (see: scripts/demo.sh --help); NETMEM_DEMO_SYNTHETIC=1 forces it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${NETMEM_SKIP_INSTALL:-}" ]; then
	scripts/install-deps.sh base
fi
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
RX=build/apps/netmem-rx

why=""
if [ -n "${NETMEM_DEMO_SYNTHETIC:-}" ] || [ $# -gt 0 ]; then
	why="asked for the synthetic run"
elif [ "$(id -u)" != 0 ]; then
	why="not root (network namespaces and TAP devices need it)"
elif [ ! -c /dev/net/tun ]; then
	why="no /dev/net/tun"
elif ! command -v ip >/dev/null || ! command -v python3 >/dev/null; then
	why="no ip(8) or python3"
fi
if [ -n "$why" ]; then
	echo "demo: synthetic run on the software NIC: $why"
	exec "$RX" "$@"
fi

NS=nmdemo-$$
WORK=$(mktemp -d /tmp/nmdemo.XXXXXX)
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip tuntap add dev nmtap0 mode tap
ip netns exec "$NS" ip link set nmtap0 up
ip netns exec "$NS" ip addr add 169.254.77.1/24 dev nmtap0
head -c 64M /dev/urandom >"$WORK/sent"

echo "demo: namespace $NS: the kernel (169.254.77.1 on nmtap0) sends 64 MiB over TCP"
echo "demo: to netmem (169.254.77.2, the other end of the TAP), payload into a dmabuf"
echo
ip netns exec "$NS" "$RX" --dmabuf auto:32M --dev tap:nmtap0 --addr4 169.254.77.2/24 \
	--listen 5201 --out "$WORK/received" --timeout 20 &
rx=$!
sleep 0.5
ip netns exec "$NS" python3 - "$WORK/sent" <<'EOF'
import socket, sys
s = socket.create_connection(("169.254.77.2", 5201), timeout=30)
with open(sys.argv[1], "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
EOF
wait $rx
echo
sent=$(sha256sum "$WORK/sent" | cut -d' ' -f1)
got=$(sha256sum "$WORK/received" | cut -d' ' -f1)
echo "sha256 sent:     $sent"
echo "sha256 received: $got"
if [ "$sent" = "$got" ]; then
	echo "demo: every byte the kernel sent landed in the dmabuf and came back intact"
else
	echo "demo: MISMATCH"
	exit 1
fi
