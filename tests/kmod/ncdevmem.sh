#!/usr/bin/env bash
# Runs inside the test guest (tests/vm/guest-run.sh): upstream's own ncdevmem
# (the kernel's devmem selftest, built from the guest kernel's source package by
# scripts/ncdevmem.sh) against the module's NIC nmk0, a stock peer in a second
# namespace, and our own check of every byte.
#
#   ncdevmem.sh KO KCTL NCDIR [STREAM_MIB]
#
# - its configuration checks (bind-rx of no queue and with tcp-data-split off
#   refused, bind ok, then "deactivating a bound queue should be illegal"):
#   the refusal must come from the kernel's memory-provider check, and the
#   RX channel count must be unchanged afterwards;
# - RX: ncdevmem -l receives STREAM_MIB from tcp_send.py into its udmabuf
#   (7.3: -L, no payload in linear buffers allowed). Without -v it writes each
#   fragment it read out of the dmabuf to stdout, in order: tcp_recv.py
#   --stdin compares every byte with the pattern, and the sha256 (ncdevmem's
#   own -v only checks a period-7 pattern, with no total);
# - RX with ncdevmem's own -v 7 check, as upstream's selftest runs it, 16 MiB;
# - TX (7.3; 6.12 has no devmem TX): ncdevmem sends STREAM_MIB from its stdin
#   through bind-tx and MSG_ZEROCOPY, in 64 KiB lines; tcp_recv.py in the
#   namespace receives with plain recv() and compares the count and sha256.
#
# 6.12's ncdevmem runs `sudo ethtool -G IF tcp-data-split on|off`, which
# bookworm's ethtool 6.1 cannot do: a shim on PATH sends that one through ynl
# (the same tree's tools/net/ynl CLI, ethtool rings-set) and passes the rest to
# the real ethtool; `sudo` is a shim that runs its arguments (we are root).
set -u

ko=$1 kctl=$2 ncdir=$3 mib=${4:-64}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=check_lib.sh
. "$here/check_lib.sh"
send=$here/tcp_send.py recv=$here/tcp_recv.py
py=/usr/bin/python3
ns=nmk-nc
bytes=$((mib << 20))

[ -e /dev/udmabuf ] || { echo "ncdevmem.sh: SKIP: the guest has no /dev/udmabuf" >&2; exit 77; }
[ -x "$ncdir/ncdevmem" ] || { echo "ncdevmem.sh: SKIP: no ncdevmem in $ncdir" >&2; exit 77; }
kv=$(uname -r)
kmaj=${kv%%.*} kmin=${kv#*.}
kmin=${kmin%%.*}
tx=0
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -ge 16 ]; }; then tx=1; fi

# The shims (see above), in the guest's own /tmp.
shim=/tmp/nc-shim
mkdir -p $shim
realethtool=$(command -v ethtool)
cli=$ncdir/ynl/tools/net/ynl/pyynl/cli.py
[ -f "$cli" ] || cli=$ncdir/ynl/tools/net/ynl/cli.py
cat >$shim/ethtool <<EOF
#!/bin/sh
# ethtool -G IF tcp-data-split on|off through ynl (ethtool 6.1 lacks it).
if [ "\$1" = -G ] && [ "\$3" = tcp-data-split ] && [ \$# -eq 4 ]; then
	# ETHTOOL_TCP_DATA_SPLIT_ENABLED 2, _DISABLED 1 (6.12's spec has no enum names).
	case \$4 in on) v=2 ;; off) v=1 ;; *) v=0 ;; esac
	echo "ethtool shim: tcp-data-split \$4 on \$2 through ynl rings-set" >&2
	exec $py $cli --spec $ncdir/ynl/Documentation/netlink/specs/ethtool.yaml --no-schema \\
		--do rings-set --json "{\"header\": {\"dev-name\": \"\$2\"}, \"tcp-data-split\": \$v}" >&2
fi
exec $realethtool "\$@"
EOF
printf '#!/bin/sh\nexec "$@"\n' >$shim/sudo
chmod +x $shim/ethtool $shim/sudo

dmesg --clear
taint0=$(cat /proc/sys/kernel/tainted)

# Four queues, every one able to take devmem (7 = unreadable, header split,
# restart): ncdevmem binds queues 1 and 2, keeps RSS on queue 0.
insmod "$ko" rxq_caps=7,7,7,7 &&
	ip netns add $ns &&
	ip link set nmkp0 netns $ns &&
	ip -n $ns link set lo up &&
	ip -n $ns addr add 169.254.89.2/24 dev nmkp0 &&
	ip -n $ns link set nmkp0 up &&
	ip addr add 169.254.89.1/24 dev nmk0 &&
	"$kctl" up
ok $? "insmod rxq_caps=7,7,7,7 ($kv), nmkp0 in namespace $ns, nmk0 up; ncdevmem $(cat "$ncdir/.netmem-built")"
rxcur() { $realethtool -l nmk0 2>/dev/null | awk '/^Current/ { c = 1 } c && /^RX:/ { print $2; exit }'; }
rx0=$(rxcur)

# Its configuration checks. 7.3 runs them alone (no -s); 6.12 runs them before
# every mode and exits 1 when it has no server to run after them.
log=/tmp/nc-checks.log
if [ $tx -eq 1 ]; then
	PATH=$shim:$PATH timeout 120 "$ncdir/ncdevmem" -f nmk0 -t 1 -q 2 >$log 2>&1
	rc=$?
else
	PATH=$shim:$PATH timeout 120 "$ncdir/ncdevmem" -f nmk0 -t 1 -q 2 >$log 2>&1
	rc=$?
	[ $rc -eq 1 ] && ! grep -q 'should have failed\|should be illegal\|Failed to' $log && rc=0
fi
sed 's/^/#   checks: /' $log | grep -v 'recvmsg ret\|received frag' | tail -n 25
why=$(grep -i 'memory provider' $log | head -n1)
[ $rc -eq 0 ] && [ -n "$why" ] && [ "$(rxcur)" = "$rx0" ]
ok $? "ncdevmem's checks pass; deactivating a bound queue was refused by the kernel's memory-provider check (\"$why\"), RX channels still $(rxcur) (were $rx0)"

# RX: ncdevmem receives; its stdout (the bytes it read from the dmabuf) is checked.
lflag=
[ $tx -eq 1 ] && lflag=-L
# pipefail: the status is ncdevmem's (its own checks) or the byte check's.
(set -o pipefail; PATH=$shim:$PATH timeout 150 "$ncdir/ncdevmem" -s 169.254.89.1 -c 169.254.89.2 -l -p 5401 -f nmk0 -t 1 -q 2 $lflag \
	2>/tmp/nc-rx.err | $py "$recv" --stdin $bytes >/tmp/nc-rx.out 2>&1) &
rxpid=$!
for _ in $(seq 600); do grep -q 'Waiting or connection\|FAIL\|error' /tmp/nc-rx.err 2>/dev/null && break; sleep 0.1; done
# From port 5401: ncdevmem's flow rule names the source port too.
ip netns exec $ns $py "$send" 169.254.89.1 5401 $bytes --src-port 5401 >/tmp/nc-rx.send 2>&1
src=$?
wait $rxpid
rxrc=$?
line=$(grep '^recv:' /tmp/nc-rx.out)
grep -v 'recvmsg ret\|received frag' /tmp/nc-rx.err | tail -n 12 | sed 's/^/#   rx: /'
note "rx: sender: $(cat /tmp/nc-rx.send) | check: $line"
"$kctl" rxstats | sed 's/^/#   after rx: /'
"$kctl" queues | sed 's/^/#   after rx: /'
frags=$(grep -c '^received frag' /tmp/nc-rx.err)
[ $src -eq 0 ] && [ $rxrc -eq 0 ] && [ "$frags" -gt 0 ] &&
	! grep -q 'flow steering error\|FAIL' /tmp/nc-rx.err
ok $? "ncdevmem -l${lflag:+ $lflag} received $mib MiB through the kernel's devmem TCP on nmk0 ($frags dmabuf fragments): every byte it read from its dmabuf as sent, mismatches $(field mismatches "$line"), sha256 $(field sha256 "$line" | cut -c1-16)... = expected"

# RX with its own check as upstream's selftest runs it (-v 7: byte i of the
# stream is (1 + i) % 7, the 0 written as a newline by 7.3's ncdevmem, as
# 0 by 6.12's), 16 MiB: the weaker check.
vmib=16
vzero=10
[ $tx -eq 1 ] || vzero=0
PATH=$shim:$PATH timeout 100 "$ncdir/ncdevmem" -s 169.254.89.1 -c 169.254.89.2 -l -p 5403 -f nmk0 -t 1 -q 2 $lflag \
	-v 7 >/tmp/nc-v.out 2>/tmp/nc-v.err &
vpid=$!
for _ in $(seq 600); do grep -q 'Waiting or connection\|FAIL\|error' /tmp/nc-v.err 2>/dev/null && break; sleep 0.1; done
ip netns exec $ns $py - 169.254.89.1 5403 $((vmib << 20)) $vzero <<'EOF' >/tmp/nc-v.send 2>&1
import socket, sys, time
host, port, total, zero = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
block = bytes([1, 2, 3, 4, 5, 6, zero]) * (1 << 15)   # whole periods: every send starts one
s = None
for _ in range(100):
    try:
        s = socket.create_connection((host, port), timeout=2, source_address=("", port))
        break
    except OSError:
        time.sleep(0.2)
if s is None:
    sys.exit(f"cannot connect to {host}:{port}")
s.settimeout(60)
sent = 0
while sent < total:
    n = min(len(block), total - sent)
    s.sendall(block[:n])
    sent += n
s.close()
print(f"sent {sent} bytes")
EOF
vsrc=$?
wait $vpid
vrc=$?
"$kctl" rxstats | sed 's/^/#   after rx -v 7: /'
validated=$(grep -c '^Validated buffer' /tmp/nc-v.out)
grep -v 'recvmsg ret\|received frag' /tmp/nc-v.err | tail -n 12 | sed 's/^/#   rx -v 7: /'
[ $vsrc -eq 0 ] && [ $vrc -eq 0 ] && [ "$validated" -gt 0 ] && ! grep -q 'Failed validation' /tmp/nc-v.err
ok $? "ncdevmem -l${lflag:+ $lflag} -v 7 (its own check) received $vmib MiB ($(cat /tmp/nc-v.send)): $validated buffers validated, $(grep -c 'Failed validation' /tmp/nc-v.err) validation failures, exit $vrc"

# TX: ncdevmem sends its stdin from its udmabuf through bind-tx.
if [ $tx -eq 1 ]; then
	$py - "$send" $bytes /tmp/nc-tx.in <<'EOF'
import sys, importlib.util
spec = importlib.util.spec_from_file_location("tcp_send", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
total, path = int(sys.argv[2]), sys.argv[3]
# The pattern, with a newline ending each 64 KiB line (ncdevmem sends a line
# per sendmsg) and none inside one.
b = m.block().replace(b"\n", b"\x0b")
out = bytearray()
while len(out) < total:
    out += b
out = out[:total]
for i in range(65535, total, 65536):
    out[i] = 0x0a
out[-1] = 0x0a
open(path, "wb").write(out)
EOF
	want=$(sha256sum /tmp/nc-tx.in | cut -d' ' -f1)
	"$kctl" txstats >/tmp/nc-tx.st0
	ip netns exec $ns $py "$recv" 169.254.89.2 5402 $bytes --sha256 "$want" >/tmp/nc-tx.out 2>&1 &
	rpid=$!
	for _ in $(seq 100); do grep -q '^listening' /tmp/nc-tx.out && break; sleep 0.1; done
	timeout 150 "$ncdir/ncdevmem" -s 169.254.89.2 -p 5402 -f nmk0 -t 1 -q 1 </tmp/nc-tx.in >/dev/null 2>/tmp/nc-tx.err
	ncrc=$?
	wait $rpid
	rrc=$?
	"$kctl" txstats >/tmp/nc-tx.st1
	line=$(grep '^recv:' /tmp/nc-tx.out)
	grep -v 'sendmsg_ret\|tx complete' /tmp/nc-tx.err | tail -n 8 | sed 's/^/#   tx: /'
	b0=$(field bytes_devmem "$(cat /tmp/nc-tx.st0)") b1=$(field bytes_devmem "$(cat /tmp/nc-tx.st1)")
	dm=$(( ${b1:-0} - ${b0:-0} ))
	note "tx: check: $line | nic: $(cat /tmp/nc-tx.st1)"
	[ $ncrc -eq 0 ] && [ $rrc -eq 0 ] && grep -q 'tx ok' /tmp/nc-tx.err && [ "$dm" -ge $bytes ]
	ok $? "ncdevmem (client) sent $mib MiB by devmem TX in $(grep -c '^sendmsg_ret' /tmp/nc-tx.err) sendmsg, $(grep -c '^tx complete' /tmp/nc-tx.err) completions; plain recv() got $(field bytes "$line") bytes, sha256 $(field sha256 "$line" | cut -c1-16)... = its stdin's; the NIC read $dm bytes at net_iov DMA addresses"
else
	note "tx: skipped: Linux $kv has no devmem TX (bind-tx: 6.16) and its ncdevmem has no client mode"
fi

ip netns del $ns
sleep 0.5
"$kctl" down
rmmod netmem_kmod
ok $? "rmmod netmem_kmod"
kernel_clean 2

echo "1..$n"
echo "# kmod ncdevmem: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
