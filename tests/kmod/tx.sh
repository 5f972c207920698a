#!/usr/bin/env bash
# Runs inside the test guest (tests/vm/guest-run.sh): devmem TX through the
# module's NIC pair (Linux 6.16+; the guest's 7.3).
#
#   tx.sh KO KCTL [STREAM_MIB]
#
# nmkp0 goes into a namespace of its own with a stock receiver
# (tests/kmod/tcp_recv.py: plain recv(), every byte compared with the
# pattern, sha256 of what came against the expected stream's). netmem-kctl tx
# on nmk0 sends the stream: first from host memory (plain send), then from a
# udmabuf through the kernel's devmem TX (netlink bind-tx,
# sendmsg(MSG_ZEROCOPY) with SCM_DEVMEM_DMABUF), every zerocopy completion
# reaped. nmk0 reads each payload fragment at its DMA address (a CPU copy
# standing in for the DMA) and counts where it came from. Each assertion
# prints what it saw.
set -u

ko=$1 kctl=$2 mib=${3:-64}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=check_lib.sh
. "$here/check_lib.sh"
recv=$here/tcp_recv.py
py=/usr/bin/python3
ns=nmk-tx
bytes=$((mib << 20))

[ -e /dev/udmabuf ] || { echo "tx.sh: SKIP: the guest has no /dev/udmabuf" >&2; exit 77; }
[ -x $py ] || { echo "tx.sh: SKIP: no $py for the receiver" >&2; exit 77; }
kv=$(uname -r)
kmaj=${kv%%.*} kmin=${kv#*.}
kmin=${kmin%%.*}
if [ "$kmaj" -lt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -lt 16 ]; }; then
	echo "tx.sh: SKIP: Linux $kv has no devmem TX (netdev bind-tx, SCM_DEVMEM_DMABUF: 6.16)" >&2
	exit 77
fi

dmesg --clear
taint0=$(cat /proc/sys/kernel/tainted)

insmod "$ko" &&
	ip netns add $ns &&
	ip link set nmkp0 netns $ns &&
	ip -n $ns link set lo up &&
	ip -n $ns addr add 169.254.88.2/24 dev nmkp0 &&
	ip -n $ns link set nmkp0 up &&
	ip addr add 169.254.88.1/24 dev nmk0 &&
	"$kctl" up
ok $? "insmod ($kv), nmkp0 in namespace $ns (169.254.88.2), nmk0 169.254.88.1 up"

# tx_stream NAME BYTES TX-ARGS...: a receiver in the namespace, then the sender;
# sets $txline, $rxline, $txrc, $rxrc
tx_stream() {
	local name=$1 nb=$2 log=/tmp/recv-$1.log
	shift 2
	ip netns exec $ns $py "$recv" 169.254.88.2 5301 "$nb" >"$log" 2>&1 &
	local rpid=$!
	for _ in $(seq 100); do grep -q '^listening' "$log" && break; sleep 0.1; done
	"$kctl" tx -a 169.254.88.2 -p 5301 -n "$nb" "$@" >/tmp/tx-$name.log 2>&1
	txrc=$?
	wait $rpid
	rxrc=$?
	txline=$(grep '^tx: \(mode\|refused\)' /tmp/tx-$name.log | head -n1)
	rxline=$(grep '^recv:' "$log" | head -n1)
	note "$name: $(tr '\n' ' ' </tmp/tx-$name.log) | receiver: $(tr '\n' ' ' <"$log")"
}

# Plain send from host memory: the baseline, and the NIC's read of host pages.
tx_stream host $((8 << 20)) --host
[ $txrc -eq 0 ] && [ $rxrc -eq 0 ] && [ "$(field nic_bytes_host "$txline")" -ge $((8 << 20)) ] &&
	[ "$(field nic_bytes_devmem "$txline")" = 0 ]
ok $? "8 MiB by plain send: every byte as sent ($(field sha256 "$rxline" | cut -c1-16)...), the NIC read $(field nic_bytes_host "$txline") payload bytes from host pages, 0 from net_iovs"

# Devmem TX: the payload never passes through the kernel's CPU side.
tx_stream devmem $bytes -s 4
[ "$(field netmem_tx "$txline")" = 1 ]
ok $? "nmk0 declares devmem TX (NETMEM_TX_DMA): bind-tx accepted ($(grep '^tx: kernel devmem TX binding' /tmp/tx-devmem.log))"
[ $rxrc -eq 0 ] && [ "$(field mismatches "$rxline")" = 0 ] &&
	[ "$(field sha256 "$rxline")" = "$(field expect_sha256 "$rxline")" ]
ok $? "$mib MiB by devmem TX from a 4 MiB udmabuf, received with plain recv: bytes=$(field bytes "$rxline"), mismatches $(field mismatches "$rxline"), sha256 $(field sha256 "$rxline" | cut -c1-16)... as expected"
[ $txrc -eq 0 ] && [ "$(field completions "$txline")" = "$(field zc_ids "$txline")" ] &&
	[ "$(field copied "$txline")" = 0 ] && [ "$(field zc_ids "$txline")" -gt 0 ]
ok $? "every zerocopy completion reaped: $(field completions "$txline") of $(field zc_ids "$txline") sendmsg ids, $(field copied "$txline") fell back to a copy"
# At least the stream (TCP retransmits are read again), none from host pages.
dm=$(field nic_bytes_devmem "$txline")
[ -n "$dm" ] && [ "$dm" -ge "$bytes" ] && [ "$(field nic_bytes_host "$txline")" = 0 ] &&
	[ "$(field nic_drops "$txline")" = 0 ]
ok $? "the NIC read every payload byte at the net_iovs' DMA addresses: $dm bytes ($((${dm:-0} - bytes)) retransmitted) in $(field nic_frags_devmem "$txline") fragments, 0 from host pages, $(field nic_drops "$txline") drops"

# A device that does not declare devmem TX: bind-tx refused, nothing sent.
out=$("$kctl" tx -a 127.0.0.1 -p 5301 -n 4096 -s 4 --dev lo 2>&1)
rc=$?
[ $rc -eq 3 ] && grep -q '^tx: refused bind-tx on lo' <<<"$out"
ok $? "bind-tx on lo (no NETMEM_TX) refused (exit $rc): $(grep '^tx:' <<<"$out")"
# Bad input: a udmabuf too small for the pattern, refused before anything.
out=$("$kctl" tx -a 169.254.88.2 -p 5301 -n 4096 -s 1 2>&1)
rc=$?
[ $rc -eq 2 ]
ok $? "netmem-kctl tx -s 1 refused (exit $rc): $out"

# The binding lives as long as its netlink socket: the tool is gone.
ip netns del $ns
sleep 0.5
refcnt=$(cat /sys/module/netmem_kmod/refcnt)
[ "$refcnt" = 0 ]
ok $? "module refcnt $refcnt with the sender and the namespace gone"
"$kctl" down
rmmod netmem_kmod
ok $? "rmmod netmem_kmod"
[ ! -e /sys/module/netmem_kmod ] && ! ip link show nmkp0 >/dev/null 2>&1
ok $? "module gone, nmk0 and nmkp0 gone"

kernel_clean 2

echo "1..$n"
echo "# kmod tx: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
