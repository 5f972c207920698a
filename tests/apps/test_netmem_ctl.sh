#!/usr/bin/env bash
# netmem-ctl against a running netmem-rx: the queue table, JSON, errors.
set -euo pipefail
rx=$1 ctl=$2
dir=$(mktemp -d)
pid=""
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
export NETMEM_RUN_DIR=$dir
fail() { echo "not ok - $*"; exit 1; }
n=0
t() { n=$((n + 1)); echo "ok $n - $*"; }
echo "1..6"

out=$("$ctl" queue-get 2>&1) && fail "queue-get with nothing running succeeded: $out"
grep -q "no control socket" <<<"$out" || fail "unclear error: $out"
t "nothing running: clear error"

"$rx" --ctl --hold 20 --bytes 8M --quiet >"$dir/rx.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	grep -q "^serving" "$dir/rx.log" 2>/dev/null && break
	sleep 0.1
done
grep -q "^serving" "$dir/rx.log" || fail "netmem-rx did not start serving: $(cat "$dir/rx.log")"

out=$("$ctl" queue-get) || fail "queue-get: $out"
grep -Eq "^3 +up +header-split,restart(,rx-csum)? +host +0 +1 " <<<"$out" || fail "queue 3 row: $out"
grep -Eq "^1 +up +unreadable,header-split,restart(,rx-csum)? +dmabuf " <<<"$out" || fail "queue 1 row: $out"
t "queue-get shows flags, providers, restarts and refusals"

"$ctl" --json page-pool-get | python3 -c '
import json, sys
d = json.load(sys.stdin)["devices"][0]
q = {x["index"]: x for x in d["queues"]}
assert d["name"] == "sim0" and d["rx-queues"] == 4, d
assert q[1]["provider"] == "dmabuf" and "unreadable" in q[1]["flags"], q[1]
assert "unreadable" not in q[3]["flags"] and q[3]["refused"] == 1, q[3]
assert q[1]["pool"]["alloc-fast"] > 0, q[1]
' || fail "JSON answer"
t "page-pool-get JSON parses and says the same"

out=$("$ctl" bogus 2>&1) && fail "bogus command accepted"
grep -q "unknown command" <<<"$out" || fail "$out"
t "unknown command: clear error"

set +e
out=$("$ctl" bind-rx --dmabuf memfd:1M --queues 0 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && grep -q "queue 0 is the port's default queue" <<<"$out" || fail "bind-rx queue 0: rc=$rc $out"
set +e
out=$("$ctl" bind-rx --dmabuf memfd:1M --queues 2 --dev "$(printf 'x%.0s' $(seq 80))" 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && grep -q "dev= takes 1 to" <<<"$out" || fail "over-long --dev: rc=$rc $out"
"$ctl" queue-get | grep -Eq "^2 +up .* host " || fail "queue 2 bound by a refused request"
t "bind-rx: queue 0 refused with the reason, an over-long --dev refused, nothing bound"

set +e
out=$("$ctl" unbind --binding -1 2>&1); rc=$?
set -e
[ $rc -eq 2 ] && grep -q "bad value for --binding" <<<"$out" || fail "unbind -1: rc=$rc $out"
t "unbind --binding -1 refused"
