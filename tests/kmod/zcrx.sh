#!/usr/bin/env bash
# Runs inside the test guest (tests/vm/guest-run.sh), 7.3 only: io_uring
# zero-copy receive (zcrx) on the module's NIC, received by netmem-kctl zcrx
# (apps/netmem-kctl/zcrx.c), every byte checked where it landed.
#
#   zcrx.sh KO KCTL [STREAM_MIB [IOU_ZCRX]]
#
# IOU_ZCRX: upstream's iou-zcrx (scripts/iou-zcrx.sh build), or "none: why".
#
# The wiring of stream.sh: nmkp0 in a namespace of its own, a stock sender
# (tcp_send.py), RSS on queue 0, an ntuple rule sends port 5201 to queue 1.
# Queue 2 lacks the unreadable flag (the module's lesser queues): zcrx there
# is refused, after the driver callbacks the kernel's check-after path costs.
set -u

ko=$1 kctl=$2 mib=${3:-64} iou=${4:-none: not given}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=check_lib.sh
. "$here/check_lib.sh"
send=$here/tcp_send.py
py=/usr/bin/python3
ns=nmk-zc

[ -e /dev/udmabuf ] || { echo "zcrx.sh: SKIP: the guest has no /dev/udmabuf" >&2; exit 77; }
[ -x $py ] || { echo "zcrx.sh: SKIP: no $py for the sender" >&2; exit 77; }
kv=$(uname -r)
[ "${kv%%.*}" -ge 7 ] || { echo "zcrx.sh: SKIP: $kv: the module's zcrx test runs on 7.3 (events, rx_buf_len, dmabuf areas)" >&2; exit 77; }
dmesg --clear
taint0=$(cat /proc/sys/kernel/tainted)

insmod "$ko" && ip netns add $ns &&
	ip link set nmkp0 netns $ns && ip -n $ns link set lo up &&
	ip -n $ns addr add 169.254.89.2/24 dev nmkp0 && ip -n $ns link set nmkp0 up &&
	ip addr add 169.254.89.1/24 dev nmk0 && "$kctl" up && "$kctl" rss-equal 1 &&
	"$kctl" flow -p 5201 -q 1 >/dev/null
ok $? "insmod, nmkp0 in $ns, RSS on queue 0, tcp4 dst-port 5201 -> queue 1"
# Without 7.3's uapi header at build time the receiver says so (77); with it,
# a queue the NIC does not have is refused by the kernel (3), nothing touched.
out=$("$kctl" zcrx -p 1 -n 1 -q 99 2>&1)
rc=$?
if [ $rc -eq 77 ]; then
	rmmod netmem_kmod
	echo "zcrx.sh: SKIP: $out" >&2
	exit 77
fi
[ $rc -eq 3 ]
ok $? "zcrx on queue 99 (nmk0 has $("$kctl" info | sed -n 's/.*), \([0-9]*\) RX queues.*/\1/p')) refused: $out"

# The ring's close tears the ifq down from a worker: wait (bounded) until the
# queue runs on host pages again before the next registration.
queue_host() { # queue_host Q
	for _ in $(seq 50); do
		[ "$(qcol "$1" 3)" = host ] && return 0
		sleep 0.1
	done
	return 1
}

# zc_stream NAME BYTES ZCRX-ARGS...: sets $line $rxrc $txrc
zc_stream() {
	local name=$1 nb=$2 log=/tmp/zc-$1.log
	shift 2
	"$kctl" zcrx -p 5201 -n "$nb" "$@" >"$log" 2>&1 &
	local rxpid=$!
	for _ in $(seq 100); do grep -q '^listening\|^zcrx: refused' "$log" && break; sleep 0.1; done
	txrc=-1
	if grep -q '^listening' "$log"; then
		ip netns exec $ns $py "$send" 169.254.89.1 5201 "$nb" >/tmp/tx-$name.log 2>&1
		txrc=$?
	fi
	wait $rxpid
	rxrc=$?
	line=$(grep '^zcrx: \(mode\|refused\)' "$log" | head -n1)
	note "$name: $(tr '\n' ' ' <"$log") | sender: $(cat /tmp/tx-$name.log 2>/dev/null)"
}

# zc_ok NAME BYTES WHAT: the assertions every stream makes
zc_ok() {
	local nb=$2
	[ $rxrc -eq 0 ] && [ $txrc -eq 0 ] && [ "$(field bytes "$line")" = "$nb" ] &&
		[ "$(field mismatches "$line")" = 0 ]
	ok $? "$3: $((nb >> 20)) MiB from a stock sender through RECV_ZC, every byte checked where it landed (bytes $(field bytes "$line"), mismatches $(field mismatches "$line"), $(field frags "$line") fragments, largest $(field max_frag "$line"))"
	[ "$(field copy_fallbacks "$line")" = 0 ] && [ "$(field events_copy "$line")" = 0 ] &&
		[ "$(field q_payload_devmem "$line")" -ge "$nb" ] && [ "$(field q_hdr_bytes "$line")" -gt 0 ]
	ok $? "$3: zero copy: 0 copy fallbacks, 0 copy events, $(field q_payload_devmem "$line") payload bytes placed by the NIC into io_uring's net_iovs, $(field q_hdr_bytes "$line") header bytes in host pages"
	[ "$(field refills "$line")" = "$(field frags "$line")" ] && [ "$(field refill_full_waits "$line")" = 0 ]
	ok $? "$3: every fragment given back through the refill ring ($(field refills "$line") entries, never full), $(field enters "$line") io_uring_enter calls for $(field cqes "$line") CQEs"
	queue_host 1
	ok $? "$3: closing the ring took io_uring's provider off queue 1 (host pages again: $(qcol 1 3))"
}

# 1. A udmabuf area at 4 KiB buffers: the CI case.
zc_stream dmabuf $((mib << 20)) -q 1 -s "$mib"
zc_ok dmabuf $((mib << 20)) "zcrx into a udmabuf, rx_buf_len 4096"
echo "csv,zcrx_dmabuf_4k,secs,$(field secs "$line"),cpu_all_s,$(field cpu_all_s "$line"),enters,$(field enters "$line")"

# 2. A host-memory area.
zc_stream host $((16 << 20)) -q 1 -s 16 --host
zc_ok host $((16 << 20)) "zcrx into host memory"

# 3. Large buffers: rx_buf_len 32 KiB over a hugetlb udmabuf (QCFG_RX_PAGE_SIZE).
zc_stream big $((32 << 20)) -q 1 -s 32 --huge --rx-page-size 32768
[ "$(field rx_buf_len "$line")" = 32768 ]
ok $? "zcrx at rx_buf_len 32768: the kernel kept it ($(field rx_buf_len "$line"))"
zc_ok big $((32 << 20)) "zcrx into a hugetlb udmabuf, rx_buf_len 32768"

# 4. rx_buf_len the NIC cannot post: refused before any queue callback.
cb=$(qcol 1 9)
zc_stream big128 $((1 << 20)) -q 1 -s 4 --huge --rx-page-size 131072
[ $rxrc -eq 3 ] && [ "$(qcol 1 9)" = "$cb" ]
ok $? "rx_buf_len 128 KiB refused, 0 queue callbacks: $line"

# 5. A lesser queue (no unreadable flag): the kernel builds the queue, then
# finds no page pool on its provider (check-after), and restores the queue.
c2=$(qcol 2 9)
zc_stream lesser $((1 << 20)) -q 2 -s 4
kcb=$(( $(qcol 2 9) - c2 ))
[ $rxrc -eq 3 ] && [ $kcb -gt 0 ] && [ "$(field bufs_posted "$line")" -gt 0 ] && [ "$(qcol 2 3)" = host ]
ok $? "zcrx on queue 2 (no unreadable flag) refused after $kcb driver callbacks and $(field bufs_posted "$line") buffers posted in vain, queue 2 on host pages as before: $line"
echo "csv,zcrx_refused_callbacks,kernel,$kcb,callbacks,queue 2 without the unreadable flag"
echo "csv,zcrx_refused_buffers,kernel,$(field bufs_posted "$line"),buffers,posted in vain on queue 2"

# 6. Queue 1 receives again afterwards.
zc_stream after $((2 << 20)) -q 1 -s 4
[ $rxrc -eq 0 ] && [ "$(field mismatches "$line")" = 0 ]
ok $? "queue 1 receives through zcrx again afterwards ($(field bytes "$line") bytes)"

# 7. Upstream's iou-zcrx (linux-source-7.3's selftest tool) as the receiver on
# nmk0: its cases as iou-zcrx.py runs them (IPv6, a tcp6 rule to queue 1).
# Its server checks each byte against its pattern and gives up after 5 s.
if [ -x "${iou%% *}" ]; then
	ip addr add fd00:89::1/64 dev nmk0 nodad &&
		ip -n $ns addr add fd00:89::2/64 dev nmkp0 nodad &&
		ethtool -N nmk0 flow-type tcp6 dst-port 9999 action 1 >/dev/null
	ok $? "iou-zcrx: nmk0 fd00:89::1, nmkp0 fd00:89::2, tcp6 dst-port 9999 -> queue 1"
	iou_case() { # iou_case NAME SERVER-ARGS -- CLIENT-ARGS
		local name=$1 sargs=() cargs=() pd0 pd1 rc crc
		shift
		while [ "$1" != -- ]; do sargs+=("$1"); shift; done
		shift
		cargs=("$@")
		queue_host 1
		pd0=$("$kctl" rxstats | awk '$1 == 1 { print $5 }')
		"$iou" -s -p 9999 -i nmk0 -q 1 "${sargs[@]}" >/tmp/iou-$name.log 2>&1 &
		local spid=$!
		for _ in $(seq 50); do ss -ltn 2>/dev/null | grep -q ':9999 ' && break; sleep 0.1; done
		ip netns exec $ns "$iou" -c -h fd00:89::1 -p 9999 "${cargs[@]}" >>/tmp/iou-$name.log 2>&1
		crc=$?
		wait $spid
		rc=$?
		pd1=$("$kctl" rxstats | awk '$1 == 1 { print $5 }')
		[ $rc -eq 0 ] && [ $crc -eq 0 ] && [ $((pd1 - pd0)) -ge "$want" ]
		ok $? "upstream iou-zcrx $name: server exit $rc, client exit $crc, $((pd1 - pd0)) payload bytes into io_uring's net_iovs on queue 1 (>= $want): $(tr '\n' ' ' </tmp/iou-$name.log | head -c 200)"
	}
	want=$((2 << 20))
	iou_case single -- -l 12840
	want=16384
	iou_case oneshot -o 4 -- -l 4096 -z 16384
	want=$((2 << 20))
	iou_case large-chunks -x 8 -- -l 12840
else
	echo "ok $((n += 1)) # SKIP upstream iou-zcrx: $iou"
fi

"$kctl" rxstats | sed 's/^/# /'
ip netns del $ns
sleep 0.5
info=$("$kctl" info | grep '^live')
grep -q '^live: 0 bindings, 0 kmod pools, 0 net_iovs out, 0 kernel devmem pools' <<<"$info"
ok $? "module accounting back to zero: $info"
"$kctl" pools | sed 's/^/# before rmmod: /'
"$kctl" down
t0=$(date +%s)
rmmod netmem_kmod
ok $? "rmmod netmem_kmod ($(( $(date +%s) - t0 )) s)"
kernel_clean 2

echo "1..$n"
echo "# kmod zcrx: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
