#!/usr/bin/env bash
# Runs inside the test guest (tests/vm/guest-run.sh), 7.3 only: large RX
# buffers on the module's NIC (QCFG_RX_PAGE_SIZE, vnic_qcfg.c) through the
# kernel's devmem TCP, bind-rx with rx-page-size (netmem-kctl --rx-page-size).
#
#   rxbuf.sh KO KCTL [STREAM_MIB]
#
# The same wiring as stream.sh: nmkp0 in a namespace of its own, a stock
# sender (tcp_send.py), RSS on queue 0, an ntuple rule sends port 5201 to
# queue 1; every byte checked by netmem-kctl rx. Buffers above a page need
# physically contiguous runs in the dmabuf: the udmabuf is on hugetlb pages.
set -u

ko=$1 kctl=$2 mib=${3:-64}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=check_lib.sh
. "$here/check_lib.sh"
send=$here/tcp_send.py
py=/usr/bin/python3
ns=nmk-big

[ -e /dev/udmabuf ] || { echo "rxbuf.sh: SKIP: the guest has no /dev/udmabuf" >&2; exit 77; }
[ -x $py ] || { echo "rxbuf.sh: SKIP: no $py for the sender" >&2; exit 77; }
kv=$(uname -r)
kmaj=${kv%%.*}
[ "$kmaj" -ge 7 ] || { echo "rxbuf.sh: SKIP: $kv has no rx-page-size (7.3's bind-rx attribute)" >&2; exit 77; }

dmesg --clear
taint0=$(cat /proc/sys/kernel/tainted)

insmod "$ko" && ip netns add $ns &&
	ip link set nmkp0 netns $ns && ip -n $ns link set lo up &&
	ip -n $ns addr add 169.254.88.2/24 dev nmkp0 && ip -n $ns link set nmkp0 up &&
	ip addr add 169.254.88.1/24 dev nmk0 && "$kctl" up && "$kctl" rss-equal 1 &&
	"$kctl" flow -p 5201 -q 1 >/dev/null
ok $? "insmod, nmkp0 in $ns, RSS on queue 0, tcp4 dst-port 5201 -> queue 1"

# rx_stream NAME BYTES RX-ARGS...: sets $line $rxrc $txrc
rx_stream() {
	local name=$1 nb=$2 log=/tmp/rx-$1.log
	shift 2
	"$kctl" rx -p 5201 -n "$nb" "$@" >"$log" 2>&1 &
	local rxpid=$!
	for _ in $(seq 100); do grep -q '^listening\|^rx: refused' "$log" && break; sleep 0.1; done
	txrc=-1
	if grep -q '^listening' "$log"; then
		ip netns exec $ns $py "$send" 169.254.88.1 5201 "$nb" >/tmp/tx-$name.log 2>&1
		txrc=$?
	fi
	wait $rxpid
	rxrc=$?
	line=$(grep '^rx: \(mode\|refused\)' "$log" | head -n1)
	note "$name: $(tr '\n' ' ' <"$log") | sender: $(cat /tmp/tx-$name.log 2>/dev/null)"
}

# 1. Page-sized buffers first (the baseline): one buffer per segment.
rx_stream p4k $((8 << 20)) -q 1 -s 16
a4=$(field q_ring_allocs "$line") p4=$(field q_payload_devmem "$line")
[ $rxrc -eq 0 ] && [ "$(field mismatches "$line")" = 0 ] && [ "${p4:-0}" -ge $((8 << 20)) ]
ok $? "rx-page-size 4096: 8 MiB, every byte checked in the udmabuf; $a4 buffers for $p4 payload bytes"

# 2. Large buffers: the kernel's binding cut into 32 KiB net_iovs, the queue's
# page pool of order 3, several segments packed into each buffer.
for sz in 32768 65536; do
	nb=$((mib << 20))
	[ $sz = 65536 ] && nb=$((16 << 20))
	cb0=$(qcol 1 9)
	rx_stream "p$sz" $nb -q 1 -s "$mib" --huge --rx-page-size $sz
	a=$(field q_ring_allocs "$line") p=$(field q_payload_devmem "$line")
	[ $rxrc -eq 0 ] && [ $txrc -eq 0 ] && [ "$(field mismatches "$line")" = 0 ] &&
		[ "$(field dmabuf_bytes "$line")" = $nb ] && [ "${p:-0}" -ge $nb ]
	ok $? "rx-page-size $sz: $((nb >> 20)) MiB from a stock sender, every byte checked in a hugetlb udmabuf (in dmabuf $(field dmabuf_bytes "$line"), frags $(field frags "$line"), mismatches $(field mismatches "$line"))"
	[ "${a:-0}" -gt 0 ] && [ $((a * sz)) -ge "$p" ] && [ $((a * 4096)) -lt "$p" ]
	ok $? "rx-page-size $sz: $a buffers of $sz bytes held $p payload bytes (packed: 4 KiB buffers would take at least $((p / 4096)))"
	[ "$(field tokens_returned "$line")" = "$(field frags "$line")" ]
	ok $? "rx-page-size $sz: every fragment's token given back ($(field tokens_returned "$line") of $(field frags "$line"))"
	note "queue 1 callbacks for the bind and unbind at $sz: $(( $(qcol 1 9) - cb0 ))"
done

# 3. Refusals: what the NIC cannot post is refused before any queue callback
# (ndo_validate_qcfg); what the dmabuf cannot give, before the queue too.
cb=$(qcol 1 9)
out=$("$kctl" bind-rx -q 1 -s 4 --huge --rx-page-size 131072 2>&1)
rc=$?
[ $rc -ne 0 ] && [ "$(qcol 1 9)" = "$cb" ] && grep -q 'rx-page-size 131072' <<<"$out"
ok $? "rx-page-size 128 KiB refused by the NIC's validate_qcfg, 0 callbacks: $(echo $out | head -c 200)"
out=$("$kctl" bind-rx -q 1 -s 4 --huge --rx-page-size 12288 2>&1)
rc=$?
[ $rc -ne 0 ] && [ "$(qcol 1 9)" = "$cb" ] && grep -q 'power of 2' <<<"$out"
ok $? "rx-page-size 12288 refused by the core (not a power of two), 0 callbacks: $(echo $out | head -c 200)"
# Over 4 KiB pages the udmabuf's segments are as long as the pages happen to
# be contiguous: refused or not by chance, so only shown.
out=$("$kctl" bind-rx -q 1 -s 4 --rx-page-size 32768 -t 0 2>&1)
note "rx-page-size 32 KiB over a udmabuf of 4 KiB pages (exit $?): $(echo $out | head -c 200)"
c2=$(qcol 2 9)
out=$("$kctl" bind-rx -q 2 -s 4 --huge --rx-page-size 32768 2>&1)
rc=$?
kcb=$(( $(qcol 2 9) - c2 ))
[ $rc -ne 0 ] && [ $kcb -gt 0 ]
ok $? "rx-page-size 32 KiB on queue 2 (no unreadable flag): refused after $kcb driver callbacks (the kernel checks after mem_alloc): $(echo $out | head -c 200)"
echo "csv,rxbuf_refused_callbacks_bind-rx,kernel,$kcb,callbacks,queue 2 rx-page-size 32768"
rx_stream after $((2 << 20)) -q 1 -s 4
[ $rxrc -eq 0 ]
ok $? "queue 1 receives at 4 KiB again afterwards ($(field dmabuf_bytes "$line") bytes in the dmabuf)"

"$kctl" rxstats | sed 's/^/# /'
ip netns del $ns
sleep 0.5
info=$("$kctl" info | grep '^live')
grep -q '^live: 0 bindings, 0 kmod pools, 0 net_iovs out, 0 kernel devmem pools' <<<"$info"
ok $? "module accounting back to zero: $info"
"$kctl" down
rmmod netmem_kmod
ok $? "rmmod netmem_kmod"
kernel_clean 2

echo "1..$n"
echo "# kmod rxbuf: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
