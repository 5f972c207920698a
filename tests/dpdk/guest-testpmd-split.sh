#!/usr/bin/env bash
# Runs INSIDE the test guest (through tests/dpdk/guest-tap.sh ... --vfio -- this).
# Speaks TAP.
#
#   guest-testpmd-split.sh BUILD_DIR
#
# Unmodified dpdk-testpmd on net_netmem_igb (the DPDK PMD over netmem's igb driver,
# port B on vfio-pci, kept from EAL's PCI probe with -b) with buffer split: two
# mempools (--mbuf-size=512,2176), headers in mb_pool_0 (host memory), payload in
# mb_pool_0_1 on the "dmabuf" ops (NETMEM_DMABUF_POOLS), whose dmabuf is a udmabuf lent
# by nm-dmabuf-hold. Twice: --rxhdrs=ipv6-udp (protocol split) and --rxpkts=256,0
# (length-based: a 256-byte header buffer; the 82576 still splits where the headers
# end). Each time the guest kernel's own stack on port A sends UDP datagrams over
# IPv6 (a python3 socket, link-local addresses, a static neighbour entry for the
# address port B's MAC gives, since nothing answers neighbour discovery there);
# testpmd counts them; after it
# exits, nm-dmabuf-hold finds every datagram's payload at the start of a udmabuf
# buffer (so the headers went elsewhere) and checks every byte.
#
# Environment: NETMEM_TESTPMD_FRAMES (default 200), NETMEM_TESTPMD_WAIT (seconds
# to wait for testpmd to come up; default 300).
set -uo pipefail
. "$(dirname "$0")/testpmd-lib.sh"

build=${1:?usage: guest-testpmd-split.sh BUILD_DIR}
plugin=$build/drivers/net/netmem_igb_pmd/librte_net_netmem_igb.so
hold=$build/tests/dpdk/nm-dmabuf-hold
frames=${NETMEM_TESTPMD_FRAMES:-200}
wait_s=${NETMEM_TESTPMD_WAIT:-150}
port=47000
size=1000
plan=10
tap_label="testpmd split step"

echo "1..$plan"
[ -c /dev/udmabuf ] || skip_rest "no /dev/udmabuf in this guest"
[ -n "${NETMEM_GUEST_VFIO_GROUP:-}" ] || skip_rest "port B is not on vfio-pci (run guest-run.sh with --vfio)"
for f in "$plugin" "$hold"; do
	[ -f "$f" ] || skip_rest "$f is not built"
done
command -v dpdk-testpmd >/dev/null || skip_rest "dpdk-testpmd is not installed"
command -v python3 >/dev/null || skip_rest "no python3 for the sender"

stage_plugin "$plugin"

bdf=$NETMEM_GUEST_PORT_B_BDF
ifa=$NETMEM_GUEST_PORT_A_IF
tmp=$(mktemp -d)

# Port B's EUI-64 link-local address from the MAC testpmd reports ("Port 0: MAC"),
# and a static neighbour entry for it on port A (nothing answers ND on port B).
neigh_for_port_b() {
	local mac b
	mac=$(sed -n 's/^Port 0: \([0-9A-Fa-f:]\{17\}\)$/\1/p' "$1" | head -n1)
	[ -n "$mac" ] || return 1
	IFS=: read -r -a b <<<"$mac"
	b_ll=$(printf 'fe80::%x:%x:%x:%x' $(((0x${b[0]} ^ 2) << 8 | 0x${b[1]})) \
		$((0x${b[2]} << 8 | 0xff)) $((0xfe << 8 | 0x${b[3]})) $((0x${b[4]} << 8 | 0x${b[5]})))
	ip -6 neigh replace "$b_ll" lladdr "$mac" dev "$ifa" nud permanent
}

# One testpmd run: NAME, then testpmd's split options. Five TAP lines.
run_split() {
	local name=$1
	shift
	local log=$tmp/$name.log fifo=$tmp/$name.stdin t0 up=0 hold_rc=0 rx summary
	mkfifo "$fifo"
	NETMEM_DMABUF_POOLS=mb_pool_0_1 "$hold" --source udmabuf:16M --frames "$frames" \
		--port "$port" --payload-only -- \
		stdbuf -oL dpdk-testpmd -l 0-1 -n 1 --iova-mode=va -b "$bdf" \
		--vdev "net_netmem_igb0,bdf=$bdf,queues=1" -d "$plugin" \
		--mbuf-pool-ops-name=dmabuf --log-level=pmd.mempool.dmabuf:info \
		--log-level=pmd.net.netmem_igb:info -- \
		--forward-mode=rxonly --mbuf-size=512,2176 --rx-offloads=0x100000 "$@" \
		--total-num-mbufs=2048 --nb-cores=1 --rxq=1 --txq=1 \
		<"$fifo" >"$log" 2>&1 &
	local hpid=$!
	exec 3>"$fifo"
	t0=$(date +%s)
	testpmd_wait_up "$hpid" "$log" "$wait_s" "$t0" && up=1
	if [ "$up" = 1 ] && grep -q "queue 0: buffer split .*payload from mb_pool_0_1, headers from mb_pool_0" "$log" &&
		grep -q "pool 'mb_pool_0_1': .* on udmabuf .*DMA-mapped for 1 device" "$log"; then
		ok "$name: testpmd on net_netmem_igb ($bdf) with buffer split $*, headers in mb_pool_0 (host), payload in mb_pool_0_1 (udmabuf), up in $(($(date +%s) - t0)) s"
		grep -E "net_netmem_igb|netmem-dmabuf" "$log" | sed 's/^/# /'
	else
		not_ok "$name: testpmd came up on net_netmem_igb with buffer split (waited $(($(date +%s) - t0)) s)"
		show "$log"
		exec 3>&-
		testpmd_stop "$hpid"
		n=$((n + 4))
		echo "not ok $((n - 3)) - $name: telemetry # testpmd did not start"
		echo "not ok $((n - 2)) - $name: sender # testpmd did not start"
		echo "not ok $((n - 1)) - $name: count # testpmd did not start"
		echo "not ok $n - $name: payload # testpmd did not start"
		return
	fi

	# What netmem sees of the port while testpmd runs: the adapter's flags for it.
	printf '/netmem/queues,0\n' | timeout 60 dpdk-telemetry.py >"$tmp/$name.tel" 2>&1
	if grep -Eq '"flags": *\["unreadable,header-split,restart"\]' "$tmp/$name.tel"; then
		ok "$name: telemetry /netmem/queues,0: queue 0 flags unreadable,header-split,restart"
	else
		not_ok "$name: telemetry /netmem/queues,0 shows the port's buffer split flags"
		show "$tmp/$name.tel"
	fi

	if ! neigh_for_port_b "$log"; then
		not_ok "$name: port B's MAC from testpmd and a neighbour entry for it on $ifa"
		show "$log"
	elif python3 - "$b_ll" "$ifa" "$port" "$frames" "$size" >"$tmp/$name.sender" 2>&1 <<'EOF'
import socket, struct, sys, time
dst, ifname, port, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
scope = socket.if_nametoindex(ifname)
for seq in range(count):
    # test_frame.h: magic, sequence, length, then netmem's pattern (nm_pattern_byte) at offset 16.
    body = bytes((((o ^ (o >> 8) ^ (o >> 16) ^ (o >> 24)) * 37 + seq) & 0xff) for o in range(16, size))
    s.sendto(b"NMDPDK01" + struct.pack(">II", seq, size) + body, (dst, port, 0, scope))
    time.sleep(0.002)
print(f"python3 UDP/IPv6 socket on {ifname}: {count} datagrams of {size} B to [{dst}]:{port}")
EOF
	then
		ok "$name: $(head -n1 "$tmp/$name.sender")"
	else
		not_ok "$name: the kernel's UDP sender on $ifa"
		show "$tmp/$name.sender"
	fi
	sleep 3
	echo >&3
	exec 3>&-
	wait "$hpid" || hold_rc=$?
	rx=$(sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' "$log" | sort -n | tail -n1)
	if [ "${rx:-0}" -ge "$frames" ]; then
		ok "$name: testpmd rxonly counted $rx packets (>= $frames sent)"
	else
		not_ok "$name: testpmd rxonly counted ${rx:-no} packets, expected >= $frames"
		show "$log"
	fi
	summary=$(grep '^nm-dmabuf-hold:' "$log" | tail -n1)
	if [ "$hold_rc" -eq 0 ]; then
		ok "$name: every payload at the start of a udmabuf buffer, headers elsewhere: ${summary#nm-dmabuf-hold: }"
	else
		not_ok "$name: payload in the udmabuf (nm-dmabuf-hold exit $hold_rc): ${summary#nm-dmabuf-hold: }"
		show "$log"
	fi
	grep -E "outstanding|netmem-dmabuf: .*(refused|error)" "$log" | sed 's/^/# /'
}

run_split proto --rxhdrs=ipv6-udp
run_split length --rxpkts=256,0
[ -z "${b_ll:-}" ] || ip -6 neigh del "$b_ll" dev "$ifa" 2>/dev/null
rm -rf "$tmp"
exit "$failed"
