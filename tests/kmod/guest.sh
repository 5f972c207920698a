#!/usr/bin/env bash
# Runs inside the test guest (tests/vm/guest-run.sh): loads netmem_kmod, runs
# one group of netmem-kctl checks, unloads it, and checks that the kernel
# neither warned nor leaked. Every assertion prints what it checked.
#
#   guest.sh KO KCTL provider|devmem [SIZE_MIB]
#
# provider: the module's own dmabuf provider (alloc, refuse, bad-input)
# devmem:   the kernel's devmem on the module's NIC (netlink bind-rx), and
#           rmmod refused while a kernel binding lives in the module's pool
set -u

ko=$1 kctl=$2 group=$3 size=${4:-}
n=0 failed=0

ok() { # ok COND-STATUS MESSAGE
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
note() { echo "# $*"; }

[ -e /dev/udmabuf ] || { echo "guest.sh: SKIP: the guest has no /dev/udmabuf" >&2; exit 77; }

# Only what happens from here on counts.
dmesg --clear
taint0=$(cat /proc/sys/kernel/tainted)

insmod "$ko"
ok $? "insmod $(basename "$ko") ($(uname -r))"
[ -c /dev/netmem-kmod ]
ok $? "/dev/netmem-kmod exists"
"$kctl" info

kctl_run() { # kctl_run ARGS...: one netmem-kctl run, its TAP lines inline
	local rc
	"$kctl" "$@"
	rc=$?
	ok $rc "netmem-kctl $* (exit $rc)"
}

case $group in
provider)
	kctl_run check alloc -s "${size:-64}"
	kctl_run check refuse -s 16
	kctl_run check bad-input -s 4
	# ntuple off drops every flow rule, as gve and bnxt do (upstream's ncdevmem
	# turns it off and on before each run and expects an empty table). ethtool
	# 6.1 exits 0 when -N fails: the table is counted instead.
	ethtool -N nmk0 flow-type tcp6 dst-port 5201 action 1 >/dev/null 2>&1
	ethtool -N nmk0 flow-type tcp4 dst-port 5202 action 1 >/dev/null 2>&1
	r0=$(ethtool -n nmk0 2>/dev/null | grep -c '^Filter:')
	ethtool -K nmk0 ntuple off && ethtool -K nmk0 ntuple on
	r1=$(ethtool -n nmk0 2>/dev/null | grep -c '^Filter:')
	[ "$r0" -eq 2 ] && [ "$r1" -eq 0 ]
	ok $? "ethtool -K nmk0 ntuple off cleared the flow rules ($r0 before, $r1 after off and on)"
	;;
devmem)
	kctl_run check devmem -s "${size:-16}"
	# ethtool -L: a queue with a memory provider bound cannot go away (the
	# check upstream's ncdevmem makes); with nothing bound and the link down
	# the RX count changes and comes back.
	rxcur() { ethtool -l nmk0 2>/dev/null | awk '/^Current/ { c = 1 } c && /^RX:/ { print $2; exit }'; }
	rx0=$(rxcur)
	"$kctl" bind-rx -q 1 -s 4 -t 4 >/tmp/bind-rx1.log 2>&1 &
	bg=$!
	for _ in $(seq 50); do grep -q '^kernel devmem binding' /tmp/bind-rx1.log && break; sleep 0.1; done
	out=$(ethtool -L nmk0 rx 1 2>&1)
	rc=$?
	rx1=$(rxcur)
	[ $rc -ne 0 ] && [ -n "$rx0" ] && [ "$rx1" = "$rx0" ]
	ok $? "ethtool -L nmk0 rx 1 refused while the kernel's binding is on queue 1 (RX $rx0 -> $rx1): $(echo $out)"
	wait $bg
	"$kctl" down && ethtool -L nmk0 rx 1 && [ "$(rxcur)" = 1 ] &&
		ethtool -L nmk0 rx "$rx0" && [ "$(rxcur)" = "$rx0" ] && "$kctl" up
	ok $? "with nothing bound and the link down: ethtool -L nmk0 rx 1, then rx $rx0 again, link up"
	# A kernel binding on one of our queues holds the module, running or down.
	for state in up down; do
		"$kctl" bind-rx -q 0 -s 4 -t 4 >/tmp/bind-rx.log 2>&1 &
		bg=$!
		for _ in $(seq 50); do grep -q '^kernel devmem binding' /tmp/bind-rx.log && break; sleep 0.1; done
		grep -q '^kernel devmem binding' /tmp/bind-rx.log
		ok $? "netmem-kctl bind-rx -q 0 holds a kernel binding: $(head -n1 /tmp/bind-rx.log)"
		if [ $state = down ]; then
			"$kctl" down
			ok $? "link down with the kernel's binding still on queue 0 (no pool holds it now)"
		fi
		refused=1
		out=$(rmmod netmem_kmod 2>&1) || refused=0
		[ $refused -eq 0 ] && [ -d /sys/module/netmem_kmod ]
		ok $? "link $state: rmmod refused while the kernel's binding is on our queue: ${out:-no error}"
		wait $bg
		ok $? "the binding's socket closed (netmem-kctl bind-rx exited 0)"
		refcnt=$(cat /sys/module/netmem_kmod/refcnt)
		[ "$refcnt" -eq 0 ]
		ok $? "link $state: the module is free again once the kernel took the binding off (refcnt $refcnt)"
	done
	"$kctl" up
	ok $? "link up again"
	;;
*)
	echo "guest.sh: unknown group '$group'" >&2
	exit 2
	;;
esac

"$kctl" queues
"$kctl" info

rmmod netmem_kmod
ok $? "rmmod netmem_kmod"
[ ! -e /sys/module/netmem_kmod ] && [ ! -e /dev/netmem-kmod ]
ok $? "module gone: no /sys/module/netmem_kmod, no /dev/netmem-kmod"

bad=$(dmesg | grep -E 'WARNING|BUG|[Ll]eak|Oops|general protection|refcount_t|stalled pool' || true)
[ -z "$bad" ]
ok $? "dmesg since insmod has no WARNING/BUG/leak/Oops/refcount_t/stalled pool$( [ -n "$bad" ] && printf ':\n%s' "$bad")"
note "dmesg since insmod:"
dmesg | sed 's/^/#   /'

taint1=$(cat /proc/sys/kernel/tainted)
# 4096 O (out-of-tree module) and 8192 E (unsigned module) are expected.
new=$(( taint1 & ~(taint0 | 4096 | 8192) ))
[ "$new" -eq 0 ]
ok $? "no new taint but out-of-tree/unsigned (tainted $taint0 -> $taint1, unexpected bits $new)"

if [ -w /sys/kernel/debug/kmemleak ] || { mount -t debugfs none /sys/kernel/debug 2>/dev/null; [ -w /sys/kernel/debug/kmemleak ]; }; then
	echo scan >/sys/kernel/debug/kmemleak
	leaks=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak || true)
	[ "$leaks" -eq 0 ]
	ok $? "kmemleak: $leaks unreferenced objects"
else
	note "kmemleak: not in this kernel (CONFIG_DEBUG_KMEMLEAK unset); the module's own accounting stands in (live objects and net_iovs not back, checked above)"
fi

echo "# kmod $group: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
