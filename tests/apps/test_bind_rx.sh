#!/usr/bin/env bash
# bind-rx from another process: netmem-rx serves its control socket on the
# software NIC; netmem-ctl passes a dmabuf (a sealed memfd here) and binds it
# to queue 2 there. Traffic lands in it (checked through its own mapping),
# refusals read as in-process ones, queue-get names the holder, and killing
# the holder gives the queue back to host memory with the memory unmapped.
set -euo pipefail
rx=$1 ctl=$2
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
export NETMEM_RUN_DIR=$dir
n=0
fail() { echo "not ok $((n + 1)) - $*"; exit 1; }
t() { n=$((n + 1)); echo "ok $n - $*"; }
wait_for() { # file pattern
	for _ in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
mapped() { "$ctl" --json dev-get | python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0]["dma-mapped-bytes"])'; }
row2() { "$ctl" queue-get | grep -E "^2 " || true; }
echo "1..6"

"$rx" --ctl --hold 12 --bytes 8M --quiet >"$dir/rx.log" 2>&1 &
pids+=($!)
rxpid=$!
wait_for "$dir/rx.log" "^serving" || fail "netmem-rx did not serve: $(cat "$dir/rx.log")"
base=$(mapped)

"$ctl" bind-rx --dmabuf memfd:4M --queues 2 >"$dir/c1.log" 2>&1 &
c1=$!
pids+=($c1)
wait_for "$dir/c1.log" '"binding":' || fail "bind-rx: $(cat "$dir/c1.log")"
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["binding"])' "$dir/c1.log")
row=$(row2)
grep -Eq "^2 +up .* dmabuf .*binding $id: memfd .*held by ctl conn [0-9]+, pid $c1\$" <<<"$row" ||
	fail "queue 2 does not show the binding and its holder: $row"
[ "$(mapped)" -gt "$base" ] || fail "nothing mapped for the binding"
t "bind-rx from another process: binding $id on queue 2, queue-get names the holder (pid $c1)"

inproc=$(sed -n 's/^  -> \(.*\) (driver callbacks run: [0-9]*)$/\1/p' "$dir/rx.log")
[ -n "$inproc" ] || fail "no in-process refusal in the netmem-rx log"
set +e
out=$("$ctl" bind-rx --dmabuf memfd:4M --queues 3 2>&1); rc=$?
set -e
[ $rc -eq 1 ] || fail "refused bind-rx exited $rc: $out"
[ "$out" = "{\"error\":\"$inproc\"}" ] || fail "reason differs: in-process '$inproc', over the socket '$out'"
set +e
out=$("$ctl" bind-rx --dmabuf memfd:4M --queues 2 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && grep -q "queue 2 is already bound" <<<"$out" || fail "busy queue: rc=$rc $out"
t "refusals carry the in-process reason (flags), and a busy queue is refused"

"$ctl" --json page-pool-get | python3 -c '
import json, sys
q = {x["index"]: x for x in json.load(sys.stdin)["devices"][0]["queues"]}
assert q[2]["provider"] == "dmabuf" and q[2]["pool"]["alloc-provider"] > 0, q[2]
' || fail "queue 2 takes no buffers from the dmabuf"
t "queue 2 receives into the passed dmabuf"

kill -9 "$c1"
for _ in $(seq 100); do
	grep -Eq "^2 +up .* host " <<<"$(row2)" && break
	sleep 0.05
done
row=$(row2)
grep -Eq "^2 +up .* host " <<<"$row" || fail "queue 2 not back on host memory after the holder died: $row"
[ "$(mapped)" = "$base" ] || fail "mapped bytes $(mapped), not back to $base"
t "holder killed: queue 2 back on host memory, the binding's memory unmapped"

"$ctl" bind-rx --dmabuf memfd:4M --queues 2 --hold 30 >"$dir/c2.log" 2>&1 &
c2=$!
pids+=($c2)
wait_for "$dir/c2.log" '"binding":' || fail "second bind-rx: $(cat "$dir/c2.log")"
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["binding"])' "$dir/c2.log")
out=$("$ctl" unbind --binding "$id") || fail "unbind: $out"
[ "$out" = "{\"unbound\":$id}" ] || fail "unbind answer: $out"
grep -Eq "^2 +up .* host " <<<"$(row2)" || fail "queue 2 still bound after unbind: $(row2)"
[ "$(mapped)" = "$base" ] || fail "mapped bytes $(mapped) after unbind, not $base"
kill -0 "$c2" || fail "the holder died on unbind"
set +e
out=$("$ctl" unbind --binding "$id" 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && grep -q "not held" <<<"$out" || fail "second unbind: rc=$rc $out"
kill "$c2"
t "explicit unbind from another connection; a second one is refused"

wait "$rxpid" || fail "netmem-rx exited $?: $(tail -5 "$dir/rx.log")"
grep -Eq "^hold traffic: queue 2: [0-9]+ frames, [1-9][0-9]* into a dmabuf, 0 mismatched" "$dir/rx.log" ||
	fail "no verified dmabuf traffic on queue 2: $(grep 'hold traffic' "$dir/rx.log")"
t "$(grep '^hold traffic: queue 2' "$dir/rx.log") (payloads checked in the passed dmabuf)"
