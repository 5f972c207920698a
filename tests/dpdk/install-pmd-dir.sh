#!/bin/sh
# SPDX-License-Identifier: MIT
#
# meson install puts the plugin where EAL loads plugins by itself: installs
# into a DESTDIR under the build directory, checks the link in the PMD
# directory names the installed plugin, then has dpdk-test load a directory
# of that layout (EAL's -d DIR: what it does with its own PMD directory) and
# run mempool_autotest on --mbuf-pool-ops-name=dmabuf with no -d for the file.
#   install-pmd-dir.sh BUILD_ROOT PMD_DIR PREFIX LIBDIR [DPDK-TEST]
# DPDK-TEST: the dpdk-test of the DPDK built against (default: PATH's).
set -u
build=$1 pmd=$2 prefix=$3 libdir=$4
dpdk_test=${5:-$(command -v dpdk-test || true)}
echo "1..3"
if [ "$pmd" = none ]; then
	echo "ok 1 # SKIP built with -Ddpdk_pmd_dir=none"
	echo "ok 2 # SKIP"
	echo "ok 3 # SKIP"
	exit 0
fi
dest=$build/pmd-destdir
rm -rf "$dest"
if meson install -C "$build" --destdir "$dest" --quiet --no-rebuild >"$build/pmd-install.log" 2>&1; then
	echo "ok 1 - meson install into a DESTDIR"
else
	echo "not ok 1 - meson install into a DESTDIR"
	tail -5 "$build/pmd-install.log" | sed 's/^/# /'
fi
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
link=$dest$pmd/librte_mempool_dmabuf.so
want=$libdir/netmem/librte_mempool_dmabuf.so
if [ -L "$link" ] && [ "$(readlink "$link")" = "$want" ] && [ -f "$dest$want" ]; then
	echo "ok 2 - $pmd/librte_mempool_dmabuf.so -> $want (installed)"
else
	echo "not ok 2 - no link $pmd/librte_mempool_dmabuf.so -> $want"
fi
if [ -z "$dpdk_test" ] || [ ! -x "$dpdk_test" ]; then
	echo "ok 3 # SKIP no dpdk-test ${5:-on PATH} (Debian package dpdk-dev)"
	exit 0
fi
# The PMD directory as EAL would see it once installed (DESTDIR's link
# target is the final path, so point a copy of the link at the DESTDIR's).
# EAL refuses a -d path any group or other user can write to (a build under
# /tmp): the directory lives under /run (or $HOME) and holds a copy.
dir=$(mktemp -d /run/nm-pmd-dir.XXXXXX 2>/dev/null || mktemp -d "$HOME/.nm-pmd-dir.XXXXXX")
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
cp -L "$dest$want" "$dir/librte_mempool_dmabuf.so"
out=$(DPDK_TEST=mempool_autotest NETMEM_CTL=0 timeout 120 "$dpdk_test" --no-huge -m 512 \
	--no-pci --no-shconf -l 0-1 --file-prefix=nmpmd$$ -d "$dir" \
	--mbuf-pool-ops-name=dmabuf 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q 'netmem-dmabuf: pool'; then
	echo "ok 3 - EAL loads the plugin from a PMD directory; mempool_autotest on dmabuf ops passes"
else
	echo "not ok 3 - plugin from a PMD directory (exit $rc)"
	printf '%s\n' "$out" | tail -5 | sed 's/^/# /'
fi
