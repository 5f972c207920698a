#!/usr/bin/env bash
# igb guest test: a receiver killed with SIGKILL in the middle of a TCP
# stream from the guest kernel (socat, then nc, on port A) leaves the device claimable:
# a second netmem-rx opens it at once and takes a whole stream, byte for
# byte (sha256 of --out), and the killed one's sender sees its connection
# fail (the new stack resets what it does not know).
# Usage: reclaim.sh PATH/netmem-rx
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 240 -- "$@"
rx=$1
need_exe "$rx"
command -v nc >/dev/null && command -v socat >/dev/null ||
	fail "nc or socat is not installed (scripts/install-deps.sh base)"
bdf=$NETMEM_GUEST_PORT_B_BDF
a=$NETMEM_GUEST_PORT_A_IF
w=/tmp/reclaim
mkdir -p $w
faults_before=$(dmesg | grep -c 'DMAR.*fault' || true)
ip addr add 169.254.10.1/24 dev "$a"
head -c 64M /dev/urandom >$w/big.in
head -c 8M /dev/urandom >$w/small.in
args=(--dmabuf udmabuf:64M --listen 5201 --listen-queues 1,2 --addr4 169.254.10.2/24)

listen_bg $w/rx1.log "the first netmem-rx did not listen" "$rx" --dev "igb:$bdf" "${args[@]}"
rx1=$rx_pid
# socat, not nc: netcat-openbsd exits 0 even when its connection is reset.
socat -u OPEN:$w/big.in TCP:169.254.10.2:5201 2>$w/tx1.err &
tx1=$!
# Kill it in the middle of the stream, the device busy writing.
wait_line $w/rx1.log 'Gbit/s  conns' 60 || { cat $w/rx1.log; fail "the first netmem-rx received nothing"; }
kill -0 "$rx1" 2>/dev/null || { cat $w/rx1.log; fail "the first netmem-rx ended before the kill"; }
pass "the first netmem-rx (pid $rx1) is receiving: $(grep 'Gbit/s  conns' $w/rx1.log | tail -n1 | tr -s ' ')"
kill -9 "$rx1"
wait "$rx1" 2>/dev/null || true
check "it is gone after SIGKILL" sh -c "! kill -0 $rx1 2>/dev/null"
echo "--- the first run's output up to the kill:"
cat $w/rx1.log

listen_bg $w/rx2.log "a second netmem-rx could not claim the device" \
	"$rx" --dev "igb:$bdf" "${args[@]}" --out $w/small.out --quiet
rx2=$rx_pid
pass "a second netmem-rx claimed $bdf right after the kill"
# The killed receiver's sender retransmits into the new stack, which resets it.
for _ in $(seq 600); do kill -0 "$tx1" 2>/dev/null || break; sleep 0.1; done
kill -0 "$tx1" 2>/dev/null && { kill "$tx1"; fail "the killed receiver's sender still runs after 60 s"; }
rc=0
wait "$tx1" || rc=$?
check "the killed receiver's sender saw its connection fail (socat exit $rc: $(tail -n1 $w/tx1.err))" test "$rc" != 0
nc -N -w 60 169.254.10.2 5201 <$w/small.in || fail "nc to the second netmem-rx failed"
rc=0
wait "$rx2" || rc=$?
echo "--- the second run:"
cat $w/rx2.log
check "the second netmem-rx took 8 MiB, byte for byte (sha256 of --out)" \
	sh -c "[ $rc = 0 ] && [ \"\$(sha256sum <$w/small.in)\" = \"\$(sha256sum <$w/small.out)\" ]"
faults=$(($(dmesg | grep -c 'DMAR.*fault' || true) - faults_before))
echo "IOMMU faults logged while the killed process's device was reclaimed: $faults"
