#!/bin/sh
# SPDX-License-Identifier: MIT
# The directory EAL loads plugins from by itself (RTE_EAL_PMD_PATH):
# LIBDIR/dpdk/pmds-ABI, ABI being the installed EAL's ABI version, read from
# the file librte_eal.so resolves to (librte_eal.so.23.0 -> 23.0).
#   dpdk-pmd-dir.sh LIBDIR VERSION
# Fallback when that file is not there: the ABI from the release number
# (an LTS YY.11 has ABI YY+1.0: 22.11 -> 23.0, 24.11 -> 25.0; other
# releases are not guessed).
libdir=$1 version=$2
so=$(readlink -f "$libdir/librte_eal.so" 2>/dev/null)
abi=${so##*/librte_eal.so.}
case "$abi" in
[0-9]*.[0-9]*) ;;
*)
	yy=${version%%.*} rest=${version#*.}
	mm=${rest%%.*}
	if [ "$mm" = 11 ]; then
		abi=$((yy + 1)).0
	else
		echo "cannot tell the DPDK ABI of $version from $libdir" >&2
		exit 1
	fi
	;;
esac
echo "$libdir/dpdk/pmds-$abi"
