#!/usr/bin/env bash
# Guest smoke test (d): port A (igb) has link and an IPv6 link-local address, and
# frames it sends cross the private QEMU hub to port B. Only the link-local
# all-nodes group (ff02::1) on the guest's own wire is used.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=smoke-lib.sh
. "$(dirname "$0")/smoke-lib.sh"
guest_reexec --timeout 240

a=${NETMEM_GUEST_PORT_A_IF:-}
check "NETMEM_GUEST_PORT_A_IF is set ($a)" test -n "$a"
check "$a belongs to port A ($NETMEM_GUEST_PORT_A_BDF)" test "$(netdev_of "$NETMEM_GUEST_PORT_A_BDF")" = "$a"
check "$a is driven by igb" test "$(driver_of "$NETMEM_GUEST_PORT_A_BDF")" = igb
check "$a has carrier" test "$(cat "/sys/class/net/$a/carrier")" = 1
check "$a has an IPv6 link-local address" grep -q "^fe80.* $a\$" /proc/net/if_inet6

# Port B (still on igb without --vfio) listens on the same hub.
b=$(netdev_of "$NETMEM_GUEST_PORT_B_BDF") || fail "port B has no netdev"
echo 0 >"/proc/sys/net/ipv6/conf/$b/accept_dad"
ip link set "$b" up
carrier() { [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = 1 ]; }
check "$b (port B) gets carrier" wait_for 10 carrier "$b"

stat() { cat "/sys/class/net/$1/statistics/$2"; }
tx0=$(stat "$a" tx_packets)
rx0=$(stat "$b" rx_packets)
if command -v ping >/dev/null; then ping=(ping); else ping=(busybox ping); fi
check "${ping[*]} -6 -c 3 -I $a ff02::1" "${ping[@]}" -6 -c 3 -I "$a" ff02::1
tx=$(($(stat "$a" tx_packets) - tx0))
rx=$(($(stat "$b" rx_packets) - rx0))
check "$a sent the echo requests ($tx packets)" test "$tx" -ge 3
check "$b received them over the hub ($rx packets)" test "$rx" -ge 3
