#!/usr/bin/env bash
# Command lines: bad values named by their option and refused with exit 2,
# a payload that cannot fit refused up front, SIGTERM ending a run cleanly,
# netmem-bench strict about numbers and honest in its exit status.
set -euo pipefail
rx=$1 bench=$2
n=0
fail() { echo "not ok $((n + 1)) - $*"; exit 1; }
t() { n=$((n + 1)); echo "ok $n - $*"; }
echo "1..6"

expect2() { # what-the-message-must-say, args...
	local want=$1 out rc
	shift
	set +e
	out=$("$rx" "$@" 2>&1)
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "netmem-rx $*: exit $rc, not 2: $out"
	grep -qF -- "$want" <<<"$out" || fail "netmem-rx $*: no '$want' in: $out"
}
expect2 "bad value for --queues: '0'" --queues 0
expect2 "bad value for --lesser-queue: '4294967295'" --lesser-queue 4294967295
expect2 "bad value for --buf-size: '0'" --buf-size 0
expect2 "bad value for --buf-size: '3000'" --buf-size 3000
expect2 "bad value for --queue: '9x'" --queue=9x
expect2 "bad value for --port: '70000'" --port 70000
expect2 "bad value for --mtu: '9001' (an MTU from 68 to 9000" --mtu 9001
expect2 "bad value for --try-buf-size: '3000'" --try-buf-size 3000
expect2 "--mtu is for --dev igb:BDF" --mtu 9000
t "bad values: exit 2, the option named, its range given"

# --listen: everything that can be refused is, before any device is touched.
lst=(--listen 5201 --dev tap:nmclinosuch0)
expect2 "bad value for --listen: '0x50' (a decimal port, 1 to 65535" --listen 0x50 --dev tap:x
expect2 "bad value for --port: '-1' (a decimal port, 0 to 65535" --port -1
expect2 "bad value for --connections: '2000000' (0 (no limit) to 1000000" --connections 2000000
expect2 "bad value for --keepalive: '0' (1 to 86400000 ms" "${lst[@]}" --keepalive 0
expect2 "tap:IFNAME[,create][,no-offload]" --listen 5201 --dev tap:x,make
expect2 "--out /tmp is a directory" "${lst[@]}" --out /tmp
expect2 "--out /nonexistent-nm/x: No such file or directory" "${lst[@]}" --out /nonexistent-nm/x
expect2 "the dmabuf holds 2 buffers of 4096 B; a 1448-byte MSS window needs at least 4" \
	"${lst[@]}" --dmabuf memfd:8K
if [ -c /dev/net/tun ] && ! ip link show nmclinosuch0 >/dev/null 2>&1; then
	expect2 "TAP: no interface nmclinosuch0" "${lst[@]}"
	ip link show nmclinosuch0 >/dev/null 2>&1 && fail "a TAP was created for tap:nmclinosuch0"
fi
t "--listen: bad port, range, --out, a missing TAP, a too small dmabuf: exit 2 before listening"

expect2 "does not fit one 4096-byte buffer" --payload 5000
t "--payload above the buffer size refused before anything starts"

out=$("$rx" --quiet --payload 8000 --buf-size 8192 --bytes 4M) || fail "8000 in 8192: $out"
grep -q "every byte verified" <<<"$out" || fail "$out"
t "--payload 8000 with --buf-size 8192 runs and verifies"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$rx" --quiet --bytes 64G >"$log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	grep -q "^bound" "$log" && break
	sleep 0.1
done
sleep 0.3
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
[ $rc -eq 1 ] || fail "SIGTERM: exit $rc, not 1: $(cat "$log")"
grep -q "interrupted by signal 15" "$log" || fail "no interruption line: $(cat "$log")"
grep -q "the run was cut short" "$log" || fail "no summary: $(cat "$log")"
grep -Eq "^1 +up .* dmabuf " "$log" || fail "no queue table: $(cat "$log")"
grep -q "unbound binding 1: queue 1 back on host memory" "$log" || fail "no clean unbind: $(cat "$log")"
t "SIGTERM: summary, queue table, clean unbind, exit 1"

set +e
out=$("$bench" --rounds 5x 2>&1); rc1=$?
out2=$("$bench" --bind-only --bind-max 64M --bind-sources bogus 2>&1); rc2=$?
out3=$("$bench" --bind-only --bind-max 64M --bind-vfio-group 4242 2>&1); rc3=$?
set -e
[ $rc1 -eq 2 ] || fail "--rounds 5x: exit $rc1: $out"
[ $rc2 -eq 1 ] && grep -q "bogus" <<<"$out2" || fail "unknown source: exit $rc2: $out2"
[ $rc3 -eq 1 ] || fail "failed VFIO open: exit $rc3: $out3"
t "netmem-bench: --rounds 5x refused, unknown source and failed VFIO open exit 1"
