#!/usr/bin/env bash
# scripts/gpu-check.sh where there is no GPU: it says so and exits 3; with a
# stand-in nvidia-smi (no driver behind it) it runs its checks on this
# build, which skip with the reason, and exits 4. On a GPU machine this
# test is skipped: run the script itself there.
set -uo pipefail
script=$1 build=$2
echo "1..2"
if command -v nvidia-smi >/dev/null; then
	echo "ok 1 - no-GPU path # SKIP nvidia-smi is here: run scripts/gpu-check.sh itself"
	echo "ok 2 - checks skip with the reason # SKIP nvidia-smi is here"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$(OUT=$tmp/out NETMEM_BUILD=$build "$script" 2>&1); rc=$?
if [ $rc -eq 3 ] && grep -q "^NO GPU: nvidia-smi is not installed" <<<"$out" &&
   grep -q "NO GPU" "$tmp/out/gpu-check.log"; then
	echo "ok 1 - no GPU: exit 3, the reason printed and logged under \$OUT"
else
	echo "not ok 1 - no GPU: rc=$rc"; sed 's/^/# /' <<<"$out"
fi
mkdir -p "$tmp/bin"
cat >"$tmp/bin/nvidia-smi" <<'SMI'
#!/bin/sh
echo "0, stand-in (no driver), 0.0, 0 MiB, 00000000:00:00.0"
SMI
chmod +x "$tmp/bin/nvidia-smi"
out=$(PATH=$tmp/bin:$PATH NETMEM_BUILD=$build "$script" 2>&1); rc=$?
# Where the DPDK GPU test was built its fake-driver cases run and pass.
dpdk_ok=true
if [ -x "$build/tests/dpdk/test_dpdk_cuda" ]; then
	grep -q "^ok .* - fake_split_rx_checked_on_gpu$" <<<"$out" &&
	grep -q "^ok .* - cuda_split_rx_checked_on_gpu # SKIP" <<<"$out" || dpdk_ok=false
fi
if [ $rc -eq 4 ] && grep -q "cuda: checks were skipped: SKIP" <<<"$out" &&
   grep -q "^ok .* - test_error_paths" <<<"$out" && ! grep -q "^not ok" <<<"$out" &&
   $dpdk_ok; then
	echo "ok 2 - stand-in GPU without a driver: checks skip with the reason, exit 4"
else
	echo "not ok 2 - stand-in GPU: rc=$rc"; sed 's/^/# /' <<<"$out"
fi
