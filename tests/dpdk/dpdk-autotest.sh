#!/bin/sh
# SPDX-License-Identifier: MIT
#
# DPDK's own mempool and mbuf test suites (dpdk-test from dpdk-dev), each run
# twice in a row: with the default mbuf ops, then with the plugin and
# --mbuf-pool-ops-name=dmabuf, so every pool the suite makes through the mbuf
# library lands on the dmabuf ops (plain and data-room-less pools on their
# host fallback). TAP, one line per comparison.
#
#   dpdk-autotest.sh PLUGIN [DPDK-TEST]   (default: dpdk-test on PATH)
#
# mbuf_autotest's test_attach_from_different_pool checks the refcount of
# the mbuf a clone is attached to; for an mbuf with an external buffer (a
# pinned external-buffer pool: DPDK's rte_pktmbuf_pool_create_extbuf() as
# much as ours) rte_pktmbuf_attach() counts the clone in the buffer's shared
# info instead, so that check fails and the suite stops there: reported as a
# TODO after checking that everything before it ran as with the default ops.
# On 22.11 the suite then dies (SIGSEGV) in that sub-test's fail path, from an
# rte_pktmbuf_copy() into the pinned pool earlier on: DPDK's own
# rte_pktmbuf_pool_create_extbuf() pools do the same (test_dpdk_mempool's
# test_pinned_copy_like_dpdk shows both side by side).
#
# mbuf_autotest then runs a third time on the inline layout
# (NETMEM_DMABUF_MBUF=inline: whole ordinary mbufs in the dmabuf), where no
# pinned-extbuf semantics apply: it must pass whole, the same sub-tests as
# with the default ops.
set -u
plugin=${1:?usage: dpdk-autotest.sh PLUGIN [DPDK-TEST]}
dpdk_test=${2:-$(command -v dpdk-test || true)}
if [ -z "$dpdk_test" ] || [ ! -x "$dpdk_test" ]; then
	echo "1..0 # SKIP no dpdk-test ${2:-on PATH} (Debian package dpdk-dev; scripts/dpdk-lts.sh for 25.11)"
	exit 0
fi
echo "# $dpdk_test"
case "$plugin" in
/*) ;;
*) plugin=$(pwd)/$plugin ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/nm-autotest.XXXXXX")
# EAL takes a -d plugin only from a path no group or other user can write to
# anywhere along it (a checkout under /tmp is refused): stage a copy there.
stage=$(mktemp -d /run/nm-autotest.XXXXXX 2>/dev/null || mktemp -d "$HOME/.nm-autotest.XXXXXX")
trap 'rm -rf "$work" "$stage"' EXIT
cp -L "$plugin" "$stage/" && chmod 755 "$stage" && plugin=$stage/${plugin##*/}
eal="--no-huge -m 512 --no-pci --no-shconf -l 0-1 --log-level=pmd.mempool.dmabuf:info"

# run NAME OUT [EAL ARGS...]: one autotest, output line-buffered (it may crash)
run() {
	t=$1 out=$2
	shift 2
	DPDK_TEST=$t NETMEM_CTL=0 timeout 300 stdbuf -oL "$dpdk_test" $eal \
		--file-prefix="nmat$$" "$@" >"$out" 2>&1
	echo $?
}
# Lines that say which sub-tests ran, without addresses or hex dumps.
progress() {
	grep -E ' ok$|FAILED|^Test (OK|Failed)' "$1" || true
}

# The inline layout: ordinary mbufs, the whole suite (one TAP line).
inline_run() {
	n=$((n + 1))
	rc_in=$(NETMEM_DMABUF_MBUF=inline run $t "$work/$t.in" -d "$plugin" \
		--mbuf-pool-ops-name=dmabuf)
	inl=$(grep -c 'netmem-dmabuf: pool .* inline mbufs on' "$work/$t.in")
	if [ "$rc_in" -eq 0 ] && [ "$inl" -gt 0 ] &&
	   [ "$(progress "$work/$t.in")" = "$(progress "$work/$t.def")" ]; then
		echo "ok $n - $t passes whole on the inline layout (NETMEM_DMABUF_MBUF=inline, $inl pools in a dmabuf), the same sub-tests as with the default ops"
	else
		echo "not ok $n - $t on the inline layout (exit $rc_in, $inl inline pools)"
		progress "$work/$t.in" | tail -5 | sed 's/^/# /'
	fi
}

echo "1..6"
n=0
for t in mempool_autotest mbuf_autotest; do
	rc_def=$(run $t "$work/$t.def")
	rc_dm=$(run $t "$work/$t.dm" -d "$plugin" --mbuf-pool-ops-name=dmabuf)
	n=$((n + 1))
	if [ "$rc_def" -ne 0 ]; then
		echo "not ok $n - $t with the default ops (exit $rc_def): nothing to compare with"
		tail -5 "$work/$t.def" | sed 's/^/# /'
		n=$((n + 1))
		echo "not ok $n - $t with dmabuf ops: no baseline"
		if [ $t = mbuf_autotest ]; then
			n=$((n + 2))
			echo "not ok $((n - 1)) - $t: no baseline"
			echo "not ok $n - $t on the inline layout: no baseline"
		fi
		continue
	fi
	echo "ok $n - $t passes with the default ops"
	n=$((n + 1))
	# Each dmabuf run must really have used the dmabuf ops.
	if ! grep -q 'netmem-dmabuf: pool' "$work/$t.dm"; then
		echo "not ok $n - $t with dmabuf ops: the plugin made no pool (exit $rc_dm)"
		tail -5 "$work/$t.dm" | sed 's/^/# /'
		if [ $t = mbuf_autotest ]; then
			n=$((n + 1))
			echo "not ok $n - $t: not run on the dmabuf ops"
			inline_run
		fi
		continue
	fi
	sed -n 's/^netmem-dmabuf: \(pool .*\)/# \1/p' "$work/$t.dm" | cut -c1-160 | head -4
	case $t in
	mempool_autotest)
		if [ "$rc_dm" -eq 0 ] && [ "$(progress "$work/$t.dm")" = "$(progress "$work/$t.def")" ]; then
			echo "ok $n - $t passes with --mbuf-pool-ops-name=dmabuf, same sub-tests"
		else
			echo "not ok $n - $t with --mbuf-pool-ops-name=dmabuf (exit $rc_dm)"
			progress "$work/$t.dm" | tail -5 | sed 's/^/# /'
		fi
		;;
	mbuf_autotest)
		if [ "$rc_dm" -eq 0 ]; then
			# Would mean the external-buffer refcount check changed: look.
			echo "ok $n - $t passes with --mbuf-pool-ops-name=dmabuf"
			n=$((n + 1))
			echo "ok $n - (no known failure to check)"
			inline_run
			continue
		fi
		# Everything the default run reported before the known stop.
		before=$(progress "$work/$t.def" | sed '/test_attach_from_different_pool ok/,$d')
		got=$(progress "$work/$t.dm" | grep -v FAILED | head -n "$(printf '%s\n' "$before" | wc -l)")
		if [ "$got" = "$before" ] && ! progress "$work/$t.dm" | grep FAILED | grep -vq 'invalid refcnt in m'; then
			echo "ok $n - $t with dmabuf ops: every sub-test up to test_attach_from_different_pool ran as with the default ops"
			printf '%s\n' "$before" | sed 's/^/#   /'
		else
			echo "not ok $n - $t with dmabuf ops: differs from the default run before the known stop (exit $rc_dm)"
			progress "$work/$t.dm" | tail -5 | sed 's/^/# /'
		fi
		n=$((n + 1))
		if grep -q 'invalid refcnt in m' "$work/$t.dm"; then
			why="checks rte_mbuf_refcnt_read() of an mbuf with an external buffer, whose clones are counted in its shared info"
			# 139: its fail path frees a clone of an earlier rte_pktmbuf_copy(),
			# which DPDK's copy left without RTE_MBUF_F_EXTERNAL: DPDK's own
			# pinned pools crash the same (dpdk_mempool test_pinned_copy_like_dpdk).
			[ "$rc_dm" -eq 139 ] && why="$why; then SIGSEGV: rte_pktmbuf_copy() into a pinned pool drops RTE_MBUF_F_EXTERNAL, as on DPDK's own pinned pools"
			echo "not ok $n - $t test_attach_from_different_pool # TODO $why (exit $rc_dm)"
		else
			echo "not ok $n - $t stopped elsewhere (exit $rc_dm)"
			tail -5 "$work/$t.dm" | sed 's/^/# /'
		fi
		inline_run
		;;
	esac
done
