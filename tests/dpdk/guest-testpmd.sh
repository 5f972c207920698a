#!/usr/bin/env bash
# Runs INSIDE the test guest (through tests/dpdk/guest-tap.sh ... --vfio -- this).
# Speaks TAP.
#
#   guest-testpmd.sh BUILD_DIR [SOURCE [BRIDGE_KO]]
#
# Unmodified dpdk-testpmd receives on port B (igb model, DPDK's net_e1000_igb PMD over
# VFIO) into mbufs whose data buffers are in a dmabuf: the plugin is loaded with -d,
# selected with --mbuf-pool-ops-name=dmabuf, and the dmabuf (SOURCE, default
# udmabuf:16M) comes from nm-dmabuf-hold as NETMEM_DMABUF=fd:N (a udmabuf with its
# memfd). Port A (kernel igb) sends N UDP frames to ff02::1 carrying a known pattern.
# After testpmd exits, nm-dmabuf-hold reads the dmabuf and checks every payload byte
# of every frame.
#
# Any other dmabuf (vgem:16M: a DRM PRIME export) reaches VFIO only through the netmem
# kernel bridge: BRIDGE_KO is loaded first (vgem too); without it the test skips.
#
# NETMEM_DMABUF_MBUF=inline runs it on the inline layout (whole mbufs in the
# dmabuf): testpmd's pool must say so, and the payloads are looked for behind
# each buffer's object header, mbuf and headroom.
#
# Environment: NETMEM_TESTPMD_FRAMES (default 200), NETMEM_TESTPMD_WAIT (seconds
# to wait for testpmd to come up; default 200, EAL is slow under TCG, and the
# guest's clock runs slow when the host is busy: the guest's 200 s must end
# well inside guest-run's 420).
set -uo pipefail
. "$(dirname "$0")/testpmd-lib.sh"

build=${1:?usage: guest-testpmd.sh BUILD_DIR [SOURCE [BRIDGE_KO]]}
source=${2:-udmabuf:16M}
bridge=${3:-}
plugin=$build/drivers/mempool/dmabuf/librte_mempool_dmabuf.so
hold=$build/tests/dpdk/nm-dmabuf-hold
sender=$build/tests/dpdk/nm-frame-sender
frames=${NETMEM_TESTPMD_FRAMES:-200}
wait_s=${NETMEM_TESTPMD_WAIT:-200}
port=47000
layout=${NETMEM_DMABUF_MBUF:-pinned}
case $layout in
pinned) headroom=128 ;;
# rte_mempool_objhdr (one cache line), rte_mbuf, RTE_PKTMBUF_HEADROOM
inline) headroom=$((64 + 128 + 128)) ;;
*) printf '1..1\nnot ok 1 - unknown NETMEM_DMABUF_MBUF=%s\n' "$layout"; exit 1 ;;
esac
export NETMEM_DMABUF_MBUF=$layout
plan=6
tap_label="testpmd step"

echo "1..$plan"
case $source in
udmabuf:*)
	[ -c /dev/udmabuf ] || skip_rest "no /dev/udmabuf in this guest"
	exporter=udmabuf ;;
vgem:*)
	[ -f "$bridge" ] || skip_rest "the netmem bridge module is not built (${bridge:-no path}; the guest-bridge test builds it)"
	modprobe vgem 2>/dev/null || skip_rest "no vgem module in this guest"
	insmod "$bridge" || skip_rest "insmod $bridge failed"
	exporter=drm ;;
*)
	skip_rest "unknown source $source" ;;
esac
[ -n "${NETMEM_GUEST_VFIO_GROUP:-}" ] || skip_rest "port B is not on vfio-pci (run guest-run.sh with --vfio)"
for f in "$plugin" "$hold" "$sender"; do
	[ -x "$f" ] || [ -f "$f" ] || skip_rest "$f is not built"
done
command -v dpdk-testpmd >/dev/null || skip_rest "dpdk-testpmd is not installed"
echo "# $(command -v dpdk-testpmd)"

stage_plugin "$plugin"

tmp=$(mktemp -d)
log=$tmp/testpmd.log
fifo=$tmp/stdin
mkfifo "$fifo"
# testpmd reads its stdin for "enter to exit": hold a writer open until we are done.
"$hold" --source "$source" --frames "$frames" --port "$port" --headroom "$headroom" -- \
	dpdk-testpmd -l 0-1 -n 1 -a "$NETMEM_GUEST_PORT_B_BDF" -d "$plugin" \
	--mbuf-pool-ops-name=dmabuf --log-level=pmd.mempool.dmabuf:info -- \
	--forward-mode=rxonly --total-num-mbufs=2048 --rxd=512 --txd=512 --nb-cores=1 \
	<"$fifo" >"$log" 2>&1 &
hpid=$!
exec 3>"$fifo"

t0=$(date +%s)
up=0
testpmd_wait_up "$hpid" "$log" "$wait_s" "$t0" && up=1
if [ "$up" = 1 ] && grep -q "preferred mempool ops selected: dmabuf" "$log" &&
	grep -q "pool 'mb_pool_0': .* $layout mbufs on $exporter .*DMA-mapped for 1 device" "$log"; then
	ok "testpmd forwards on $NETMEM_GUEST_PORT_B_BDF (net_e1000_igb, VFIO) with a $source mempool ($layout mbufs), up in $(($(date +%s) - t0)) s"
	grep -E "netmem-dmabuf|mempool ops|Link|link" "$log" | sed 's/^/# /'
else
	not_ok "testpmd came up on a $source mempool (waited $(($(date +%s) - t0)) s)"
	show "$log"
	exec 3>&-
	testpmd_stop "$hpid"
	skip_rest "testpmd did not start"
fi

# The same through telemetry, while it runs.
tel=$tmp/telemetry.txt
printf '/netmem/dmabuf_pool,mb_pool_0\n/netmem/queues,0\n' |
	timeout 30 dpdk-telemetry.py >"$tel" 2>&1
if grep -Eq "\"exporter\": *\"$exporter\"" "$tel" && grep -Eq '"mapped_devices": *1' "$tel" &&
	grep -Eq "\"layout\": *\"$layout\"" "$tel" &&
	grep -Eq '"provider": *\[' "$tel"; then
	ok "telemetry /netmem/dmabuf_pool and /netmem/queues answer from testpmd"
	tr -d '\n' <"$tel" | sed 's/  */ /g; s/^/# /'
	echo
else
	not_ok "telemetry /netmem/dmabuf_pool and /netmem/queues answer from testpmd"
	show "$tel"
fi

# And through netmem's own CLI (the plugin serves its control socket).
ctl=$build/apps/netmem-ctl
if [ ! -x "$ctl" ]; then
	n=$((n + 1)); echo "ok $n - netmem-ctl queue-get # SKIP $ctl is not built"
else
	# netmem's server gives a client two seconds (its deadline) per request; under TCG
	# on a busy host the client can miss that: try up to three times.
	for _ in 1 2 3; do
		ctl_rc=0
		timeout 30 "$ctl" queue-get >"$tmp/ctl.txt" 2>&1 || ctl_rc=$?
		grep -q "0000:00:06.0" "$tmp/ctl.txt" && break
		sleep 1
	done
	if [ "$ctl_rc" -eq 0 ] && grep -q "0000:00:06.0" "$tmp/ctl.txt" &&
		grep -q "dpdk-eal" "$tmp/ctl.txt"; then
		ok "netmem-ctl queue-get lists testpmd's port"
		sed 's/^/# /' "$tmp/ctl.txt"
	else
		not_ok "netmem-ctl queue-get lists testpmd's port (exit $ctl_rc)"
		show "$tmp/ctl.txt"
		find /run/netmem -maxdepth 1 2>&1 | sed "s/^/# /"
	fi
fi

if "$sender" --if "$NETMEM_GUEST_PORT_A_IF" --count "$frames" --port "$port" --size 1000 \
	--gap-us 2000 >"$tmp/sender.log" 2>&1; then
	# One TAP line; anything more the sender said goes as comments.
	ok "$(head -n1 "$tmp/sender.log")"
	tail -n +2 "$tmp/sender.log" | sed 's/^/# /'
else
	not_ok "sender on $NETMEM_GUEST_PORT_A_IF"
	show "$tmp/sender.log"
fi

sleep 3
echo >&3
exec 3>&-
hold_rc=0
wait "$hpid" || hold_rc=$?

rx=$(sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' "$log" | sort -n | tail -n1)
if [ "${rx:-0}" -ge "$frames" ]; then
	ok "testpmd rxonly counted $rx packets (>= $frames sent; the rest is the port's own IPv6 multicast)"
else
	not_ok "testpmd rxonly counted ${rx:-no} packets, expected >= $frames"
	show "$log"
fi

summary=$(grep '^nm-dmabuf-hold:' "$log" | tail -n1)
if [ "$hold_rc" -eq 0 ]; then
	ok "payload verified in the dmabuf after testpmd exited: ${summary#nm-dmabuf-hold: }"
else
	not_ok "payload in the dmabuf (nm-dmabuf-hold exit $hold_rc): ${summary#nm-dmabuf-hold: }"
	show "$log"
fi
grep -E "outstanding" "$log" | sed 's/^/# /'
[ -z "$bridge" ] || rmmod netmem_bridge 2>/dev/null
rm -rf "$tmp"
exit "$failed"
