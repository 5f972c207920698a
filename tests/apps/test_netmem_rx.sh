#!/usr/bin/env bash
# netmem-rx as a user runs it: the default run, bad options, every flow.
set -euo pipefail
rx=$1
fail() { echo "not ok - $*"; exit 1; }
n=0
t() { n=$((n + 1)); echo "ok $n - $*"; }
echo "1..5"

out=$("$rx" --bytes 16M) || fail "default run exited $?: $out"
grep -q "payload check: every byte verified" <<<"$out" || fail "no verification line: $out"
grep -q "bind to queue 3: refused, as it should be" <<<"$out" || fail "no refused bind shown"
grep -q "driver callbacks run: 0" <<<"$out" || fail "refused bind ran callbacks: $out"
grep -Eq "^1 +up +unreadable,header-split,restart(,rx-csum)? +dmabuf " <<<"$out" || fail "queue 1 not on dmabuf: $out"
# The refused queue: refused once, never restarted (its setup is not a restart).
grep -Eq "^3 +up +header-split,restart(,rx-csum)? +host +0 +1 " <<<"$out" || fail "queue 3 row: $out"
t "default run verifies every byte and shows the refused bind"

for flow in udp4 tcp4 udp6 tcp6; do
	out=$("$rx" --quiet --flow $flow --bytes 4M --payload 1000) || fail "$flow: exit $?: $out"
	grep -q "every byte verified" <<<"$out" || fail "$flow: $out"
done
t "all four flows verified"

set +e
out=$("$rx" --queue 9 2>&1); rc=$?
set -e
[ $rc -eq 2 ] && grep -q "queue out of range" <<<"$out" || fail "bad queue: rc=$rc $out"
t "out-of-range queue: exit 2 with the reason"

set +e
out=$("$rx" --dmabuf fd:0 2>&1); rc=$?
set -e
[ $rc -eq 2 ] && grep -q "not a dmabuf" <<<"$out" || fail "fd:0: rc=$rc $out"
t "non-dmabuf fd refused: exit 2 with the reason"

set +e
out=$("$rx" --bytes lots 2>&1); rc=$?
set -e
[ $rc -eq 2 ] && grep -q "bad value" <<<"$out" || fail "bad --bytes: rc=$rc $out"
t "bad option value: exit 2"
