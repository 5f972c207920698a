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
