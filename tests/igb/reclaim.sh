#!/usr/bin/env bash
# igb guest test: a receiver killed with SIGKILL in the middle of a flow
# leaves the device claimable: a second netmem-rx opens it at once and
# receives a whole flow with every byte verified.
# Usage: reclaim.sh PATH/netmem-rx PATH/igb-send
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 240 -- "$@"
rx=$1 send=$2
need_exe "$rx"
need_exe "$send"
bdf=$NETMEM_GUEST_PORT_B_BDF
a=$NETMEM_GUEST_PORT_A_IF
log1=/tmp/rx1.log log2=/tmp/rx2.log
faults_before=$(dmesg | grep -c 'DMAR.*fault' || true)

"$rx" --dev "igb:$bdf" --dmabuf udmabuf:64M --flow tcp6 --bytes 64M --ack-every 16 >"$log1" 2>&1 &
rx1=$!
wait_line "$log1" '^ready' 60 || { cat "$log1"; fail "the first netmem-rx did not get ready"; }
"$send" --if "$a" --flow tcp6 --port 5201 --bytes 64M --window 64 >/dev/null 2>&1 &
tx1=$!
# Kill it in the middle of the flow: a quarter in, the device busy writing.
wait_line "$log1" '^ *25%' 60 || { cat "$log1"; fail "the first netmem-rx received nothing"; }
kill -0 "$rx1" 2>/dev/null || { cat "$log1"; fail "the first netmem-rx ended before the kill"; }
pass "the first netmem-rx (pid $rx1) is receiving: $(grep '25%' "$log1" | tr -s ' ')"
kill -9 "$rx1"
wait "$rx1" 2>/dev/null || true
check "it is gone after SIGKILL" sh -c "! kill -0 $rx1 2>/dev/null"
kill "$tx1" 2>/dev/null || true
wait "$tx1" 2>/dev/null || true
echo "--- the first run's output up to the kill:"
cat "$log1"

"$rx" --dev "igb:$bdf" --dmabuf udmabuf:64M --flow tcp6 --port 5202 --bytes 8M --ack-every 16 \
	--quiet >"$log2" 2>&1 &
rx2=$!
if ! wait_line "$log2" '^ready' 60; then
	cat "$log2"
	fail "a second netmem-rx could not claim the device"
fi
pass "a second netmem-rx claimed $bdf right after the kill"
"$send" --if "$a" --flow tcp6 --port 5202 --bytes 8M --window 64
rc=0
wait "$rx2" || rc=$?
echo "--- the second run:"
cat "$log2"
check "the second netmem-rx received 8 MiB, every byte verified" \
	sh -c "[ $rc = 0 ] && grep -q '^payload check: every byte verified' $log2"
faults=$(($(dmesg | grep -c 'DMAR.*fault' || true) - faults_before))
echo "IOMMU faults logged while the killed process's device was reclaimed: $faults"
