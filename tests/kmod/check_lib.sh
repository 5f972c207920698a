# SPDX-License-Identifier: MIT
# What the module's guest test scripts share (sourced; bash): TAP lines and
# the readers of netmem-kctl's output. The caller sets kctl (netmem-kctl)
# before it calls qcol, and ends with its own plan line from $n and $failed.

n=0 failed=0

ok() { # ok STATUS MESSAGE
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
note() { echo "# $*"; }
# field KEY LINE: the value of KEY=... in an "rx:", "tx:", "recv:" or "zcrx:" line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
# qcol QUEUE COLUMN: a column of `netmem-kctl queues` (6 restarts, 7 refused, 9 callbacks).
qcol() { "$kctl" queues | awk -v q="$1" -v c="$2" '$1 == q { print $c }'; }

# kernel_clean SECONDS: after the last rmmod, give the kernel SECONDS to free
# page pools that still had buffers out (a worker does it, a second or so
# later), then two checks: dmesg holds no warning of ours, and no taint
# appeared but out-of-tree/unsigned (4096 | 8192). The caller read
# /proc/sys/kernel/tainted into taint0 at its start.
kernel_clean() {
	local bad taint1 new
	sleep "$1"
	bad=$(dmesg | grep -E 'WARNING|BUG|[Ll]eak|Oops|general protection|refcount_t|stalled pool|stays registered' || true)
	[ -z "$bad" ]
	ok $? "dmesg, $1 s after the last rmmod, has no WARNING/BUG/leak/Oops/refcount_t/stalled pool/device left registered$( [ -n "$bad" ] && printf ':\n%s' "$bad")"
	dmesg | tail -n 20 | sed 's/^/#   /'
	taint1=$(cat /proc/sys/kernel/tainted)
	new=$(( taint1 & ~(taint0 | 4096 | 8192) ))
	[ "$new" -eq 0 ]
	ok $? "no new taint but out-of-tree/unsigned (tainted $taint0 -> $taint1)"
}
