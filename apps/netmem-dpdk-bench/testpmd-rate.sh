#!/usr/bin/env bash
# testpmd rxonly packets/s on the guest's igb port B (net_e1000_igb over VFIO), with
# mbufs from the "dmabuf" mempool ops (a udmabuf) and with DPDK's default ops
# (ring_mp_mc), in the same guest boot, one after the other.
#
#   apps/netmem-dpdk-bench/testpmd-rate.sh BUILD_DIR [SECONDS] [ROUNDS] [PMD]
#
# PMD: e1000 (default: DPDK's net_e1000_igb, one pool) or netmem_igb (net_netmem_igb,
# netmem's igb driver under DPDK, with buffer split --rxhdrs=ipv6-udp: headers in
# mb_pool_0, payload in mb_pool_0_1; with dmabuf only mb_pool_0_1 is on the udmabuf,
# NETMEM_DMABUF_POOLS; with ring_mp_mc both pools are ordinary host pools).
#
# Port A (kernel igb) sends 1000-byte UDP frames to ff02::1 as fast as it can for
# SECONDS (default 5); testpmd counts what it receives and what the NIC dropped
# ("missed": imissed; QEMU's igb does not always count its drops, so compare rx with
# sent too). With --record-core-cycles testpmd also reports the CPU cycles its
# forwarding core spent per received packet (the rx bursts, with the PMD's refills
# from the pool, and the frees): that is where the pool's cost shows.
#
# Under QEMU TCG both NICs are emulated, the sender shares the guest's two vCPUs with
# testpmd's polling core, and TCG's clock runs on while a vCPU thread waits for the
# host: on a busy host both figures are dominated by that noise. Prints one line per
# run and best-of-rounds ratios. Needs what tests/vm/guest-run.sh needs; run it from
# a directory the guest sees.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ "${1:-}" != --inside ]; then
	build=$(cd "${1:?usage: testpmd-rate.sh BUILD_DIR [SECONDS] [ROUNDS]}" && pwd)
	exec "$repo/tests/vm/guest-run.sh" --timeout 590 --vfio -- \
		"$here/testpmd-rate.sh" --inside "$build" "${2:-5}" "${3:-2}" "${4:-e1000}"
fi

build=$2
seconds=$3
rounds=$4
which=$5
plugin=$build/drivers/mempool/dmabuf/librte_mempool_dmabuf.so
if [ "$which" = netmem_igb ]; then
	plugin=$build/drivers/net/netmem_igb_pmd/librte_net_netmem_igb.so
	# EAL refuses -d plugins under a world-writable directory.
	mkdir -p /run/netmem-bench && chmod 755 /run/netmem-bench && cp "$plugin" /run/netmem-bench/
	plugin=/run/netmem-bench/${plugin##*/}
fi
hold=$build/tests/dpdk/nm-dmabuf-hold
sender=$build/tests/dpdk/nm-frame-sender
tmp=$(mktemp -d)

# run OPS: one testpmd run; prints "OPS rx PACKETS sent FRAMES pps RATE".
run() {
	local ops=$1 log=$tmp/$1.log fifo=$tmp/$1.in pid rx sent t0
	local -a pmd=(dpdk-testpmd -l 0-1 -n 1 -a "$NETMEM_GUEST_PORT_B_BDF" -d "$plugin")
	local -a args=(-- --forward-mode=rxonly --total-num-mbufs=4096 --rxd=1024 --txd=512
		--nb-cores=1 --record-core-cycles)
	local bdf=$NETMEM_GUEST_PORT_B_BDF

	if [ "$which" = netmem_igb ]; then
		# testpmd never flushes its "Press enter" line into a file: line-buffer it.
		pmd=(env NETMEM_DMABUF_POOLS=mb_pool_0_1 stdbuf -oL dpdk-testpmd -l 0-1 -n 1
			--iova-mode=va -b "$bdf" --vdev "net_netmem_igb0,bdf=$bdf,queues=1,ring=1024"
			-d "$plugin")
		args+=(--mbuf-size=512,2176 --rxhdrs=ipv6-udp --rx-offloads=0x100000)
	fi

	rm -f "$fifo"
	mkfifo "$fifo"
	if [ "$ops" = dmabuf ]; then
		"$hold" --source udmabuf:32M --frames 0 -- "${pmd[@]}" --mbuf-pool-ops-name=dmabuf \
			"${args[@]}" <"$fifo" >"$log" 2>&1 &
	else
		"${pmd[@]}" --mbuf-pool-ops-name="$ops" "${args[@]}" <"$fifo" >"$log" 2>&1 &
	fi
	pid=$!
	exec 3>"$fifo"
	t0=$(date +%s)
	until grep -q "Press enter to exit" "$log"; do
		if ! kill -0 "$pid" 2>/dev/null || [ $(($(date +%s) - t0)) -gt 240 ]; then
			echo "$ops: testpmd did not come up"; sed 's/^/  | /' "$log" | tail -20
			exec 3>&-
			return 1
		fi
		sleep 1
	done
	sleep 2
	sent=$("$sender" --if "$NETMEM_GUEST_PORT_A_IF" --seconds "$seconds" --size 1000 |
		sed -n 's/.*sent \([0-9]*\) frames.*/\1/p')
	sleep 2
	echo >&3
	exec 3>&-
	wait "$pid"
	rx=$(sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' "$log" | sort -n | tail -n1)
	missed=$(sed -n 's/.*RX-dropped: *\([0-9]*\).*/\1/p' "$log" | sort -n | tail -n1)
	cpp=$(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' "$log" | tail -n1)
	grep -q "preferred mempool ops selected: $ops" "$log" ||
		echo "$ops: WARNING: testpmd did not report ops $ops"
	awk -v o="$ops" -v r="${rx:-0}" -v s="${sent:-0}" -v m="${missed:-?}" -v t="$seconds" \
		-v c="${cpp:-0}" 'BEGIN { printf "%-11s sent %8d  rx %8d  missed %6s  pps %8.0f  cycles/pkt %8.0f  rx/sent %.3f\n",
			o, s, r, m, r / t, c, (s > 0 ? r / s : 0) }'
}

echo "testpmd rxonly on $NETMEM_GUEST_PORT_B_BDF (net_${which/e1000/e1000_igb}, VFIO, QEMU TCG), $seconds s per run"
for _ in $(seq "$rounds"); do
	run dmabuf
	run ring_mp_mc
done | tee "$tmp/results"
# The machine is shared and TCG's clock runs on while a vCPU waits: take the best of
# the rounds (highest pps, fewest cycles/packet) as the least disturbed figure.
awk '$1 == "dmabuf" || $1 == "ring_mp_mc" {
		if ($9 > pps[$1]) pps[$1] = $9
		if (!($1 in cyc) || $11 < cyc[$1]) cyc[$1] = $11
	}
     END { if (pps["ring_mp_mc"] > 0 && cyc["ring_mp_mc"] > 0)
		printf "best of the rounds: pps dmabuf %.0f, ring_mp_mc %.0f (ratio %.2f); " \
		       "cycles/pkt dmabuf %.0f, ring_mp_mc %.0f (ratio %.2f)\n",
		       pps["dmabuf"], pps["ring_mp_mc"], pps["dmabuf"] / pps["ring_mp_mc"],
		       cyc["dmabuf"], cyc["ring_mp_mc"], cyc["dmabuf"] / cyc["ring_mp_mc"] }' \
	"$tmp/results"
rm -rf "$tmp"
