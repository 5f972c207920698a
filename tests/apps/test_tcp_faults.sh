#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The kernel's TCP sends 16 MiB through a seeded netem-like relay
# (tests/apps/tap_relay.c; this host's kernel has no sch_netem) into
# netmem-rx, and then, over the same faults with the same seed, into the
# kernel itself as the receiver. Asserted: the bytes (sha256) and that the
# relay really injected the fault. Printed, not asserted (timing belongs to
# scripts/tcp-fault-bench.sh): both times and their ratio.
#
# usage: test_tcp_faults.sh NETMEM_RX TAP_RELAY [CASE...]
#   NMT_FAULT_SIZE  bytes per stream (default 16M)   NMT_SEED  relay seed (default 1)
set -u
RX=${1:?usage: $0 NETMEM_RX TAP_RELAY [case...]}
RELAY=${2:?usage: $0 NETMEM_RX TAP_RELAY [case...]}
shift 2
CASES=${*:-"seed clean loss1 loss10 reorder delay delay-netem dup5 corrupt1"}
SIZE=${NMT_FAULT_SIZE:-16M}
SEED=${NMT_SEED:-1}
WORK=$(mktemp -d /tmp/nmt-faults.XXXXXX)
N=0
FAILED=0

echo "1..$(wc -w <<<"$CASES")"
skip_all() {
	for c in $CASES; do N=$((N + 1)); echo "ok $N - $c # SKIP $1"; done
	rm -rf "$WORK"
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces, TAP)"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
command -v ip >/dev/null || skip_all "no ip(8)"
command -v python3 >/dev/null || skip_all "no python3"

. "$(dirname "$0")/relay_lib.sh"
cleanup() {
	rl_teardown
	[ -n "${NMT_KEEP:-}" ] && { echo "# kept $WORK"; return; }
	rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 143" TERM INT  # a timeout still deletes the namespaces

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() {
	N=$((N + 1)); echo "not ok $N - $1"; FAILED=1
	local f
	for f in "$@"; do
		[ "$f" = "$1" ] && continue
		[ -f "$f" ] && { echo "# --- $(basename "$f")"; tail -15 "$f" | sed 's/^/# /'; }
	done
}

case_seed() {
	# The verdicts alone: same seed, same frames hit; another seed, others;
	# rates as asked (10 % of 100000 frames: 9500..10500).
	local o=(--loss 10 --dup 5 --delay 5 --reorder 25 --corrupt 1)
	local a b c lost
	a=$("$RELAY" --dry 100000 --seed "$SEED" "${o[@]}")
	b=$("$RELAY" --dry 100000 --seed "$SEED" "${o[@]}")
	c=$("$RELAY" --dry 100000 --seed $((SEED + 1)) "${o[@]}")
	lost=$(tr -cd L <<<"$a" | wc -c)
	if [ "$a" = "$b" ] && [ "$a" != "$c" ] && [ "$lost" -ge 9500 ] && [ "$lost" -le 10500 ]; then
		ok "relay: seed $SEED gives the same verdicts frame by frame, seed $((SEED + 1)) others; loss 10 % hit $lost of 100000"
	else
		not_ok "relay: verdicts not reproducible or rates off (lost $lost of 100000)"
	fi
}

# fault_case NAME: netmem, then the kernel, same relay options and seed.
fault_case() {
	local name=$1 opts want what
	IFS='|' read -r opts want what <<<"${RL_FAULTS[$name]}"
	local nm_t k_t nm_why k_why nm_inj k_inj nm_rt k_rt
	rl_run netmem "$WORK/in" "$WORK/out" "$name-netmem" --seed "$SEED" $opts
	nm_why=$RUN_WHY nm_t=$RUN_TIME nm_rt=$RUN_RETRANS
	nm_inj=$(relay_count "$WORK/$name-netmem.relay" 'a->b' "$want")
	rl_run kernel "$WORK/in" "$WORK/out.k" "$name-kernel" --seed "$SEED" $opts
	k_why=$RUN_WHY k_t=$RUN_TIME k_rt=$RUN_RETRANS
	k_inj=$(relay_count "$WORK/$name-kernel.relay" 'a->b' "$want")
	local ratio=-
	[ -n "$nm_t" ] && [ -n "$k_t" ] && ratio=$(awk -v a="$nm_t" -v b="$k_t" 'BEGIN { printf "%.2f", a / b }')
	echo "# $what, seed $SEED, $SIZE: netmem ${nm_t:-?} s (sender retransmitted $nm_rt), kernel ${k_t:-?} s (retransmitted $k_rt), ratio $ratio"
	echo "# relay into netmem: $(grep '^relay a->b' "$WORK/$name-netmem.relay" | cut -d: -f2 | cut -d, -f1-8)"
	echo "# relay into kernel: $(grep '^relay a->b' "$WORK/$name-kernel.relay" | cut -d: -f2 | cut -d, -f1-8)"
	grep '^all connections' "$WORK/$name-netmem.rx" | sed 's/^/# netmem-rx: /'
	if [ -n "$k_why" ]; then
		not_ok "$name: the kernel receiver failed (the harness, not netmem): $k_why" \
			"$WORK/$name-kernel.rx" "$WORK/$name-kernel.send" "$WORK/$name-kernel.relay"
	elif [ "$name" != clean ] && { [ "${nm_inj:-0}" = 0 ] || [ "${k_inj:-0}" = 0 ]; }; then
		not_ok "$name: the relay injected nothing ($want: ${nm_inj:-0} into netmem, ${k_inj:-0} into the kernel)" \
			"$WORK/$name-netmem.relay"
	elif [ -n "$nm_why" ]; then
		not_ok "$name ($what): netmem: $nm_why" "$WORK/$name-netmem.rx" "$WORK/$name-netmem.send"
	else
		ok "$what: $SIZE through the relay into netmem-rx and into the kernel, sha256 equal ($want: $nm_inj / $k_inj)"
	fi
}

rl_setup || skip_all "cannot make namespaces with TAP devices here"
head -c "$SIZE" /dev/urandom >"$WORK/in"
for c in $CASES; do
	if [ "$c" = seed ]; then
		case_seed
	elif [ -n "${RL_FAULTS[$c]+x}" ]; then
		fault_case "$c"
	else
		not_ok "$c: no such case"
	fi
done
exit $FAILED
