#!/bin/bash
# SPDX-License-Identifier: MIT
#
# netmem-rx against the kernel as the receiver over the same seeded faults
# (tests/apps/tap_relay: this host's kernel has no sch_netem): for each fault
# case, RUNS streams into each receiver, interleaved (netmem, kernel, netmem,
# ...), every one checked by sha256; prints each time (the sender's connect()
# to the receiver's FIN), the medians and their ratio, and the issue's target
# (netmem within 1.25x of the kernel). With --hostile it then runs the long
# hostile-peer cases (tests/apps/test_tcp_hostile.sh) with the rate asserted.
#
# usage: scripts/tcp-fault-bench.sh [-C BUILD] [--runs N] [--size SIZE] [--seed N]
#                                   [--cases "loss1 loss10 ..."] [--cpu N] [--hostile]
# Needs root, /dev/net/tun, python3; the build dir must hold apps/netmem-rx and
# tests/apps/tap_relay (ninja -C BUILD).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
RUNS=3
SIZE=16M
SEED=1
CASES="loss1 loss10 reorder delay delay-netem dup5"
HOSTILE=false
RL_CPU=
while [ $# -gt 0 ]; do
	case $1 in
	-C) BUILD=$(realpath "$2"); shift ;;
	--runs) RUNS=$2; shift ;;
	--size) SIZE=$2; shift ;;
	--seed) SEED=$2; shift ;;
	--cases) CASES=$2; shift ;;
	--cpu) RL_CPU=$2; shift ;;
	--hostile) HOSTILE=true ;;
	-h|--help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "tcp-fault-bench: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
RX=$BUILD/apps/netmem-rx
RELAY=$BUILD/tests/apps/tap_relay
[ "$(id -u)" = 0 ] || { echo "tcp-fault-bench: needs root (namespaces, TAP)" >&2; exit 2; }
[ -x "$RX" ] && [ -x "$RELAY" ] || { echo "tcp-fault-bench: build first: ninja -C $BUILD" >&2; exit 2; }
WORK=$(mktemp -d /tmp/nm-fault-bench.XXXXXX)
. "$ROOT/tests/apps/relay_lib.sh"
trap 'rl_teardown; rm -rf "$WORK"' EXIT
trap 'exit 143' TERM INT

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "tcp-fault-bench: $(date -u '+%F %T UTC'), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; relay cpu ${RL_CPU:-any}"
echo "load: $(uptime)"
echo "stream $SIZE, seed $SEED, $RUNS runs per receiver, interleaved; times: sender connect() -> receiver's FIN"
rl_setup || { echo "tcp-fault-bench: cannot make the namespaces" >&2; exit 2; }
head -c "$SIZE" /dev/urandom >"$WORK/in"

RESULTS=()
FAILS=0
for c in $CASES; do
	[ -n "${RL_FAULTS[$c]+x}" ] || { echo "tcp-fault-bench: no case $c" >&2; exit 2; }
	IFS='|' read -r opts want what <<<"${RL_FAULTS[$c]}"
	nm=() kr=()
	for r in $(seq "$RUNS"); do
		for mode in netmem kernel; do
			if rl_run $mode "$WORK/in" "$WORK/out" "$c-$mode-$r" --seed "$SEED" $opts; then
				t=$RUN_TIME
			else
				t=fail FAILS=$((FAILS + 1))
				echo "  $c $mode run $r: $RUN_WHY"
			fi
			inj=$(relay_count "$WORK/$c-$mode-$r.relay" 'a->b' "$want")
			[ "$c" = clean ] || [ "${inj:-0}" -gt 0 ] || { t=fail; echo "  $c $mode run $r: the relay injected nothing"; }
			if [ $mode = netmem ]; then nm+=("$t"); else kr+=("$t"); fi
		done
	done
	mn=$(echo "${nm[*]}" | tr ' ' '\n' | grep -v fail | median)
	mk=$(echo "${kr[*]}" | tr ' ' '\n' | grep -v fail | median)
	ratio=- verdict="-"
	if [ -n "$mn" ] && [ -n "$mk" ]; then
		ratio=$(awk -v a="$mn" -v b="$mk" 'BEGIN { printf "%.2f", a / b }')
		verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.25 ? "within 1.25x" : "over 1.25x") }')
	fi
	echo "$what: netmem ${nm[*]} s; kernel ${kr[*]} s; medians ${mn:-?} / ${mk:-?} s, ratio $ratio ($verdict)"
	RESULTS+=("| $what | ${nm[*]} | ${kr[*]} | ${mn:-?} | ${mk:-?} | $ratio |")
done
echo
echo "| case | netmem runs (s) | kernel runs (s) | netmem median | kernel median | ratio |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${RESULTS[@]}"
echo "load after: $(uptime)"

if $HOSTILE; then
	echo
	echo "hostile peers (rates asserted >= 50 % of the stream alone, NMT_ASSERT_RATE=1; the 1-byte cases as the median of NMT_RATE_ROUNDS=5 pairs; the kernel as the receiver of the same 1-byte attack after each, NMT_KERNEL=1):"
	rl_teardown
	NMT_ASSERT_RATE=1 NMT_KERNEL=1 NMT_RATE_ROUNDS=${NMT_RATE_ROUNDS:-5} "$ROOT/tests/apps/test_tcp_hostile.sh" "$RX" "$RELAY" || FAILS=$((FAILS + 1))
fi
[ $FAILS = 0 ]
