#!/usr/bin/env bash
# Runs inside the test guest (tests/vm/guest-run.sh): real TCP streams through
# the module's NIC pair, received by the kernel's devmem TCP into a udmabuf.
#
#   stream.sh KO KCTL [STREAM_MIB]
#
# nmkp0 (the plain end) goes into a namespace of its own and a stock sender
# (tests/kmod/tcp_send.py: Python's socket module) streams from it to a
# listener on nmk0. Steering as ncdevmem sets it: RSS on queue 0 only, an
# ntuple rule sends the test port to queue 1. Every byte is checked by
# netmem-kctl rx (apps/netmem-kctl/rx.c). Each assertion prints what it saw.
set -u

ko=$1 kctl=$2 mib=${3:-64}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=check_lib.sh
. "$here/check_lib.sh"
send=$here/tcp_send.py
py=/usr/bin/python3
ns=nmk-snd
bytes=$((mib << 20))

[ -e /dev/udmabuf ] || { echo "stream.sh: SKIP: the guest has no /dev/udmabuf" >&2; exit 77; }
[ -x $py ] || { echo "stream.sh: SKIP: no $py for the sender" >&2; exit 77; }

dmesg --clear
taint0=$(cat /proc/sys/kernel/tainted)

# 6.14+ checks tcp-data-split itself (dev->cfg->hds_config): ethtool refuses to
# turn it off under a memory provider, and bind-rx refuses without it, both
# before any driver callback. 6.12 leaves both to the driver.
kv=$(uname -r)
kmaj=${kv%%.*} kmin=${kv#*.}
kmin=${kmin%%.*}
core_hds=0
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -ge 14 ]; }; then core_hds=1; fi

setup() { # load the module and wire the pair; one assertion
	insmod "$ko" || return 1
	ip netns add $ns 2>/dev/null || true
	ip link set nmkp0 netns $ns &&
		ip -n $ns link set lo up &&
		ip -n $ns addr add 169.254.87.2/24 dev nmkp0 &&
		ip -n $ns link set nmkp0 up &&
		ip addr add 169.254.87.1/24 dev nmk0 &&
		"$kctl" up &&
		"$kctl" rss-equal 1 &&
		"$kctl" flow -p 5201 -q 1 >/dev/null
}

# rx_stream NAME SENDER-BYTES RX-ARGS...: one receiver, one sender; sets $line, $rxrc, $txrc
rx_stream() {
	local name=$1 nb=$2 log=/tmp/rx-$1.log
	shift 2
	"$kctl" rx -p 5201 -n "$nb" "$@" >"$log" 2>&1 &
	local rxpid=$!
	for _ in $(seq 100); do grep -q '^listening\|^rx: refused' "$log" && break; sleep 0.1; done
	if grep -q '^listening' "$log"; then
		ip netns exec $ns $py "$send" 169.254.87.1 5201 "$nb" >/tmp/tx-$name.log 2>&1
		txrc=$?
	else
		txrc=-1
	fi
	wait $rxpid
	rxrc=$?
	line=$(grep '^rx: \(mode\|refused\)' "$log" | head -n1)
	note "$name: $(tr '\n' ' ' <"$log") | sender: $(cat /tmp/tx-$name.log 2>/dev/null)"
}

setup
ok $? "insmod, nmkp0 in namespace $ns (169.254.87.2), nmk0 169.254.87.1, RSS on queue 0, rule: tcp4 dst-port 5201 -> queue 1"
"$kctl" info | sed 's/^/# /'
"$kctl" info | grep -q 'dma identity: yes'
ok $? "the NIC's DMA addresses are physical (the CPU copy writes where a device would)"

# 1. Kernel TCP into host memory on the same NIC (queue 1 unbound).
rx_stream host $((8 << 20)) --host -q 1
[ $rxrc -eq 0 ] && [ $txrc -eq 0 ] && [ "$(field q_split "$line")" -gt 0 ] &&
	[ "$(field q_payload_host "$line")" -ge $((8 << 20)) ]
ok $? "host memory: 8 MiB from a stock sender, every byte as sent; queue 1 split $(field q_split "$line") segments, $(field q_payload_host "$line") payload bytes into host page-pool pages"

# 2. The kernel's devmem TCP: a 64 MiB stream into a udmabuf.
cb0=$(qcol 1 9)
rx_stream devmem $bytes -q 1 -s "$mib"
dm=$(field dmabuf_bytes "$line")
[ $rxrc -eq 0 ] && [ $txrc -eq 0 ] && [ "$dm" = "$bytes" ] && [ "$(field mismatches "$line")" = 0 ]
ok $? "devmem TCP: $mib MiB from a stock sender, every byte checked in the udmabuf (received $(field bytes "$line"), in dmabuf $dm, mismatches $(field mismatches "$line"))"
[ "$(field linear_bytes "$line")" = 0 ] && [ "$(field q_payload_devmem "$line")" -ge "$bytes" ] &&
	[ "$(field q_hdr_bytes "$line")" -gt 0 ]
ok $? "headers in host memory: 0 payload bytes copied (SCM_DEVMEM_LINEAR), $(field q_hdr_bytes "$line") header bytes in host pages, $(field q_payload_devmem "$line") payload bytes into the kernel's net_iovs"
[ "$(field tokens_returned "$line")" = "$(field frags "$line")" ] && [ "$(field frags "$line")" -gt 0 ]
ok $? "every fragment's token given back with SO_DEVMEM_DONTNEED ($(field tokens_returned "$line") of $(field frags "$line"), $(field dontneed_calls "$line") calls)"
note "queue 1 callbacks for the bind and unbind: $(( $(qcol 1 9) - cb0 ))"

# 3. Refused binds while a stream runs on queue 1 (long enough to outlast them:
# 64 MiB took 0.9-1.1 s on 7.3, and the checks start after a second; 512 MiB
# is several seconds even on a fast guest).
bg=$(( (mib > 512 ? mib : 512) << 20 ))
"$kctl" rx -p 5201 -n "$bg" -q 1 -s "$mib" >/tmp/rx-bg.log 2>&1 &
rxpid=$!
for _ in $(seq 100); do grep -q '^listening' /tmp/rx-bg.log && break; sleep 0.1; done
ip netns exec $ns $py "$send" 169.254.87.1 5201 "$bg" >/tmp/tx-bg.log 2>&1 &
txpid=$!
sleep 1
r1=$(qcol 1 6) c1=$(qcol 1 9) c2=$(qcol 2 9) f2=$(qcol 2 7)
out=$("$kctl" bind -q 2 -s 4 2>&1)
rc=$?
[ $rc -ne 0 ] && [ "$(qcol 2 9)" = "$c2" ] && [ "$(qcol 2 7)" = $((f2 + 1)) ]
ok $? "check-first, during the stream: the module's bind of queue 2 (no unreadable flag) refused with 0 driver callbacks: $(grep -o 'refused before touching the queue' <<<"$out" || echo "$out" | head -n1)"
c2=$(qcol 2 9)
out=$("$kctl" bind-rx -q 2 -s 4 2>&1)
rc=$?
kcb=$(( $(qcol 2 9) - c2 ))
[ $rc -ne 0 ] && [ $kcb -gt 0 ]
ok $? "the kernel's bind-rx of queue 2 during the stream: refused after $kcb driver callbacks (counted): $(echo "$out" | head -n1)"
echo "csv,stream_refused_callbacks_bind-rx,kernel,$kcb,callbacks,queue 2 during a stream"
out=$("$kctl" bind-rx -q 9 -s 4 2>&1)
# 6.12: ERANGE "rx queue index out of range"; 7.3 refuses the attribute itself (EINVAL).
[ $? -ne 0 ] && grep -q 'out of range\|Numerical result\|Invalid argument' <<<"$out"
ok $? "the kernel's bind-rx of queue 9 (out of range) refused: $(echo "$out" | head -n1)"
out=$("$kctl" hds off 2>&1)
rc=$?
if [ $core_hds = 1 ]; then
	[ $rc -ne 0 ] && grep -q 'memory provider enabled' <<<"$out"
	ok $? "tcp-data-split off refused by the kernel's ethtool while queue 1 has a binding: $out"
else
	[ $rc -ne 0 ] && grep -q 'Device or resource busy' <<<"$out"
	ok $? "tcp-data-split off refused by the driver while queue 1 has a binding: $out"
fi
kill -0 $txpid 2>/dev/null
ok $? "the stream was still running after the refusals (sender alive)"
wait $txpid
txrc=$?
wait $rxpid
rxrc=$?
line=$(grep '^rx: mode' /tmp/rx-bg.log)
note "bg: $(tr '\n' ' ' </tmp/rx-bg.log) | sender: $(cat /tmp/tx-bg.log)"
[ $rxrc -eq 0 ] && [ $txrc -eq 0 ] && [ "$(qcol 1 6)" = "$r1" ] && [ "$(qcol 1 9)" -ge "$c1" ]
ok $? "the stream on queue 1 was not disturbed: every byte as sent ($(field bytes "$line")), no restart of queue 1 by the refusals"

# 4. tcp-data-split off: the queues lose header-split, devmem is refused.
"$kctl" hds off
ok $? "tcp-data-split off with nothing bound"
cb=$(qcol 1 9)
out=$("$kctl" bind -q 1 -s 4 2>&1)
[ $? -ne 0 ] && [ "$(qcol 1 9)" = "$cb" ] && grep -q 'header-split' <<<"$out"
ok $? "check-first with tcp-data-split off: the module's bind of queue 1 refused, 0 callbacks: $(grep -o 'lacks [a-z-]*' <<<"$out")"
rx_stream hdsoff $((1 << 20)) -q 1 -s 4
kcb=$(( $(qcol 1 9) - cb ))
if [ $core_hds = 1 ]; then
	[ $rxrc -eq 3 ] && [ $kcb -eq 0 ] && grep -q 'tcp-data-split is disabled' /tmp/rx-hdsoff.log
	ok $? "the kernel's bind-rx with tcp-data-split off: refused by the kernel before any driver callback ($kcb): $line"
else
	[ $rxrc -eq 3 ] && [ $kcb -eq 1 ]
	ok $? "the kernel's bind-rx with tcp-data-split off: refused by the driver's mem_alloc, $kcb callback: $line"
fi
echo "csv,hds_off_refused_callbacks_bind-rx,kernel,$kcb,callbacks,queue 1"
"$kctl" hds on
ok $? "tcp-data-split on again"

# 5. Unbind and close with tokens still held by the receiver.
rx_stream held $((4 << 20)) -q 1 -s 16 --keep-tokens 64
[ $rxrc -eq 0 ] && [ "$(field held "$line")" = 64 ] &&
	[ $(( $(field frags "$line") - $(field tokens_returned "$line") )) -eq 64 ]
ok $? "a 4 MiB stream, every byte as sent; the receiver still holds 64 tokens ($(field tokens_returned "$line") of $(field frags "$line") given back) when it closes the netlink socket (unbind), then the TCP socket"
sleep 1
info=$("$kctl" info)
grep -q ' 0 kernel devmem pools' <<<"$info"
ok $? "after unbind and close with tokens held: no kernel devmem pool left on the NIC ($(grep '^live' <<<"$info"))"
rx_stream after $((2 << 20)) -q 1 -s 4
[ $rxrc -eq 0 ]
ok $? "queue 1 binds and receives again afterwards ($(field dmabuf_bytes "$line") bytes in the dmabuf)"

# 6. This module's own provider under the same traffic: payload placed in its
# net_iovs, frames then dropped (the kernel's TCP cannot give them back).
rxs() { "$kctl" rxstats | awk -v c="$1" '$1 == 1 { print $c }'; }
pk0=$(rxs 7) kd0=$(rxs 8)
"$kctl" bind -q 1 -s 4 -t 8 >/tmp/kbind.log 2>&1 &
kbpid=$!
for _ in $(seq 50); do grep -q '^binding' /tmp/kbind.log && break; sleep 0.1; done
"$kctl" rx -p 5201 -n $((1 << 20)) -q 1 --host -w 10 >/tmp/rx-kmod.log 2>&1 &
rxpid=$!
sleep 0.5
timeout 4 ip netns exec $ns $py "$send" 169.254.87.1 5201 $((1 << 20)) >/dev/null 2>&1
kill $rxpid 2>/dev/null
wait $rxpid 2>/dev/null
wait $kbpid
kbrc=$?
pk=$(( $(rxs 7) - pk0 )) kd=$(( $(rxs 8) - kd0 ))
[ $kbrc -eq 0 ] && [ $pk -gt 0 ] && [ $kd -gt 0 ]
ok $? "the module's provider on queue 1 under the same traffic: $pk payload bytes placed in its net_iovs, $kd frames then dropped (no TCP consumer for them): $(head -n1 /tmp/kbind.log)"

"$kctl" rxstats | sed 's/^/# /'
sleep 0.5
info=$("$kctl" info | grep '^live')
grep -q '^live: 0 bindings, 0 kmod pools, 0 net_iovs out, 0 kernel devmem pools; [0-9]* bindings freed, 0 net_iovs found not back' <<<"$info"
ok $? "module accounting back to zero before rmmod: $info"
ip netns del $ns
sleep 0.5
refcnt=$(cat /sys/module/netmem_kmod/refcnt)
[ "$refcnt" = 0 ]
ok $? "module refcnt $refcnt with the namespace gone"
rmmod netmem_kmod
ok $? "rmmod netmem_kmod"
[ ! -e /sys/module/netmem_kmod ] && ! ip link show nmkp0 >/dev/null 2>&1
ok $? "module gone, nmk0 and nmkp0 gone"
setup && rx_stream second $((2 << 20)) -q 1 -s 4 && [ $rxrc -eq 0 ]
ok $? "a second load works: a 2 MiB devmem stream ($(field dmabuf_bytes "$line") bytes in the dmabuf)"
ip netns del $ns
sleep 0.5
# What rmmod will wait for (7.3 has been seen keeping one past 60 s).
"$kctl" pools | sed 's/^/# before rmmod: /'
ss -tanoi 2>/dev/null | sed 's/^/# before rmmod: /'
"$kctl" down
sleep 1
"$kctl" pools | sed 's/^/# link down, 1 s later: /'
rmmod netmem_kmod
ok $? "rmmod after the second load"

kernel_clean 3

echo "1..$n"
echo "# kmod stream: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
