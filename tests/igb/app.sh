#!/usr/bin/env bash
# igb guest test: the receive app with the command line a user types,
#   netmem-rx --dev igb:0000:00:06.0 --dmabuf udmabuf:64M --listen 5201 ...
# and stock senders on port A (the guest kernel's TCP/UDP): nc over IPv6 to
# the link-local address port B takes from its MAC (no address given, no
# neighbour entry set), and a Python UDP socket over IPv4. The TCP stream
# written out with --out equals what nc sent (sha256); every UDP datagram
# is counted, and lands in the udmabuf (the UDP port steered to its queue
# when it listens); the bind to a queue without rx-csum is refused before
# any driver callback.
# Usage: app.sh PATH/netmem-rx
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 240 -- "$@"
rx=$1
need_exe "$rx"
command -v nc >/dev/null || fail "nc is not installed (scripts/install-deps.sh base)"
bdf=$NETMEM_GUEST_PORT_B_BDF
a=$NETMEM_GUEST_PORT_A_IF
w=/tmp/app
mkdir -p $w

# start NAME ARGS...: netmem-rx in the background until it listens.
start() {
	local name=$1
	shift
	echo "\$ netmem-rx --dev igb:$bdf $*"
	listen_bg $w/$name.log "$name: netmem-rx did not listen" "$rx" --dev "igb:$bdf" "$@"
}
finish() {
	local rc=0
	wait "$rx_pid" || rc=$?
	cat $w/$1.log
	check "netmem-rx ($1) exited 0" test "$rc" = 0
}

# --- TCP over IPv6, link-local only --------------------------------------------
head -c 16M /dev/urandom >$w/tcp.in
start tcp6 --dmabuf udmabuf:64M --listen 5201 --listen-queues 1,2 --lesser-queue 3 --out $w/tcp.out
ll=$(grep -o 'fe80::[0-9a-f:]*' $w/tcp6.log | head -n1)
[ -n "$ll" ] || fail "netmem-rx named no link-local address"
echo "\$ nc -6 -N $ll%$a 5201 < 16 MiB"
nc -6 -N -w 30 "$ll%$a" 5201 <$w/tcp.in || { kill "$rx_pid" 2>/dev/null; cat $w/tcp6.log; fail "nc failed"; }
finish tcp6
check "tcp6: the 16 MiB nc sent arrived byte for byte (sha256 of --out)" \
	test "$(sha256sum <$w/tcp.in)" = "$(sha256sum <$w/tcp.out)"
check "tcp6: the listener refused queue 3 (no rx-csum) before any driver callback" \
	grep -q 'driver callbacks run: 0' $w/tcp6.log

# --- UDP over IPv4 ---------------------------------------------------------------
ip addr add 169.254.10.1/24 dev "$a"
start udp4 --dmabuf udmabuf:64M --listen 5301 --udp --listen-queues 1 --addr4 169.254.10.2/24 \
	--bytes 1120000
ping -c 1 -W 5 169.254.10.2 >/dev/null || fail "ping 169.254.10.2 (ARP answered by netmem)"
# From a fixed source port whose hash is outside redirection entry 0
# (test_igb_rss.c), which stays on queue 0.
/usr/bin/python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("169.254.10.1", 41000))
for i in range(800):
    s.sendto(bytes([i % 251]) * 1400, ("169.254.10.2", 5301))
    if i % 20 == 0: time.sleep(0.01)'
finish udp4
check "udp4: all 800 datagrams from a Python socket counted" grep -q '^UDP: 800 datagrams' $w/udp4.log
# Steered at listen time (no SYN to steer on): every datagram's payload in
# the udmabuf on queue 1, none in host memory.
check "udp4: no datagram in host memory (copy fallbacks 0)" \
	grep -q '^UDP: 800 datagrams.* 800 landed in the dmabuf, 0 in host memory' $w/udp4.log
check "udp4: queue 1 took all 1120000 payload bytes into the udmabuf" \
	grep -q '^  queue 1: .* 1120000 payload bytes' $w/udp4.log
