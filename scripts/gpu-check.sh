#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every GPU check of the cuda: dmabuf source in one run (a few minutes), for
# a machine with an NVIDIA GPU and driver (docs/cuda.md):
#   the GPU, driver and CUDA versions; the fake-driver unit test; import;
#   the VFIO type1 and kernel-bridge refusals; the software NIC receiving
#   into GPU memory through the copy engine with the payload checked by a
#   CUDA kernel (unit test and netmem-rx). (The DPDK pool on GPU memory is
#   reported as not supported yet.)
#
#   scripts/gpu-check.sh            run the checks (output also to
#                                   $OUT/gpu-check.log when $OUT is set)
#   scripts/gpu-check.sh --bundle   on a build machine: build the binaries
#                                   into build-gpu-bundle/ (with the libnuma
#                                   and libdrm they need), for a GPU machine
#                                   without build dependencies
#
# Binaries come from the build NETMEM_BUILD names, else build-gpu-bundle/ if
# it is there, else build/, else it builds build-gpu/ (DPDK only if found).
# It installs nothing.
# Exit status: 0 every check passed; 1 a check failed; 2 nothing to run
# (cannot build); 3 no NVIDIA GPU or driver here (nothing was run); 4 a GPU
# is here but cuda: could not be made, e.g. the driver exports no dmabuf
# (the reason is printed).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$root/build-gpu-bundle

if [ "${1:-}" = "--bundle" ]; then
	set -e
	cd "$root"
	[ -f build-gpu/build.ninja ] || meson setup build-gpu -Ddpdk=disabled -Dcuda=enabled >/dev/null
	ninja -C build-gpu apps/netmem-rx tests/test_cuda_gpu tests/test_dmabuf_cuda
	rm -rf "$bundle"
	mkdir -p "$bundle/bin" "$bundle/lib"
	cp build-gpu/apps/netmem-rx build-gpu/tests/test_cuda_gpu build-gpu/tests/test_dmabuf_cuda \
		"$bundle/bin/"
	for l in libnuma.so.1 libdrm.so.2; do
		cp -L "$(ldd build-gpu/apps/netmem-rx | awk -v l=$l '$1 == l { print $3 }')" "$bundle/lib/"
	done
	{ echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with changes)')"
	  echo "built $(date -u +%FT%TZ) on $(. /etc/os-release; echo "$PRETTY_NAME")"
	  /usr/local/cuda/bin/nvcc --version 2>/dev/null | tail -1; } >"$bundle/INFO"
	du -sh "$bundle"
	echo "carry it: run(command='scripts/gpu-check.sh', carry=['build-gpu-bundle'])"
	exit 0
fi

if [ -n "${OUT:-}" ] && mkdir -p "$OUT" 2>/dev/null; then
	exec > >(tee "$OUT/gpu-check.log") 2>&1
fi
echo "# netmem GPU check, $(date -u +%FT%TZ), $(uname -srm)"

# The driver's library is often outside the loader's default path.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu; do
	[ -e "$d/libcuda.so.1" ] && export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
done
export PATH=$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin

# --- is there a GPU -----------------------------------------------------
if ! command -v nvidia-smi >/dev/null; then
	echo "NO GPU: nvidia-smi is not installed here: no NVIDIA driver, so no GPU check can run"
	echo "# result: no GPU (exit 3)"
	exit 3
fi
if ! smi=$(nvidia-smi --query-gpu=index,name,driver_version,memory.total,pci.bus_id \
		--format=csv,noheader 2>&1) || [ -z "$smi" ]; then
	echo "NO GPU: nvidia-smi found no usable GPU: $smi"
	echo "# result: no GPU (exit 3)"
	exit 3
fi
echo "## GPU (nvidia-smi: index, name, driver, memory, PCI)"
echo "$smi"
nvidia-smi 2>/dev/null | grep -m1 "CUDA Version" | sed 's/^/# /'
command -v nvcc >/dev/null && nvcc --version | tail -2 | sed 's/^/# nvcc: /'
uname -r | sed 's/^/# kernel: /'

# --- what to run ----------------------------------------------------------
if [ -z "${NETMEM_BUILD:-}" ] && [ -x "$bundle/bin/test_cuda_gpu" ]; then
	bin=$bundle/bin
	export LD_LIBRARY_PATH=$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	sed 's/^/# bundle: /' "$bundle/INFO" 2>/dev/null
	rx=$bin/netmem-rx; gpu_test=$bin/test_cuda_gpu; fake_test=$bin/test_dmabuf_cuda
else
	b=${NETMEM_BUILD:-$root/build}
	if [ ! -x "$b/tests/test_cuda_gpu" ]; then
		b=$root/build-gpu
		echo "## building $b"
		if ! command -v meson >/dev/null || ! command -v ninja >/dev/null; then
			echo "CANNOT BUILD: meson or ninja missing; on a build machine run" \
			     "'scripts/gpu-check.sh --bundle' and carry build-gpu-bundle"
			exit 2
		fi
		dpdk=disabled
		pkg-config --exists libdpdk 2>/dev/null && dpdk=enabled
		if ! { [ -f "$b/build.ninja" ] || meson setup "$b" -Ddpdk=$dpdk -Dcuda=enabled; } ||
		   ! ninja -C "$b"; then
			echo "CANNOT BUILD (missing libnuma-dev/libdrm-dev?): on a build machine run" \
			     "'scripts/gpu-check.sh --bundle' and carry build-gpu-bundle"
			exit 2
		fi
	fi
	rx=$b/apps/netmem-rx; gpu_test=$b/tests/test_cuda_gpu; fake_test=$b/tests/test_dmabuf_cuda
fi

# --- the checks -------------------------------------------------------------
passed=0 failed=0 skipped=0 nodmabuf=
tap() {  # name, command...: a TAP test; count its lines
	local name=$1 rc
	shift
	echo "## $name: $*"
	out=$(timeout 180 "$@" 2>&1); rc=$?
	echo "$out"
	local ok nok skip
	ok=$(grep -c '^ok ' <<<"$out"); nok=$(grep -c '^not ok ' <<<"$out")
	skip=$(grep -c '^ok .* # SKIP' <<<"$out")
	passed=$((passed + ok - skip)); skipped=$((skipped + skip)); failed=$((failed + nok))
	if [ $rc -ne 0 ] && [ "$nok" -eq 0 ]; then
		echo "# $name exited $rc"
		failed=$((failed + 1))
	fi
	return 0
}
[ -x "$fake_test" ] && tap "fake-driver unit test" "$fake_test"
tap "GPU: import, refusals, software NIC with on-GPU check" "$gpu_test"
# Skipped there: the GPU is here, but cuda: could not be made (the reason).
nodmabuf=$(grep -m1 -o 'SKIP .*' <<<"$out")
gpu_out=$out

echo "## netmem-rx --dmabuf cuda:64M (software NIC, payload checked on the GPU)"
out=$(timeout 180 "$rx" --dmabuf cuda:64M --bytes 256M --quiet 2>&1); rc=$?
echo "$out"
if [ $rc -eq 0 ] && grep -q "every byte verified on the GPU" <<<"$out"; then
	passed=$((passed + 1))
elif [ -n "$nodmabuf" ]; then
	skipped=$((skipped + 1))
else
	failed=$((failed + 1))
fi
# The same memory without the dmabuf export: runs where the export cannot.
echo "## netmem-rx --dmabuf cudamem:64M (GPU memory, no dmabuf export)"
out=$(timeout 180 "$rx" --dmabuf cudamem:64M --bytes 256M --quiet 2>&1); rc=$?
echo "$out"
if [ $rc -eq 0 ] && grep -q "every byte verified on the GPU" <<<"$out"; then
	passed=$((passed + 1))
elif grep -q "^ok .* test_sim_receive_cudamem # SKIP" <<<"$gpu_out"; then
	skipped=$((skipped + 1))   # no driver or GPU for it either (said above)
else
	failed=$((failed + 1))
fi

# A DPDK pool maps its dmabuf through EAL's DMA domain, which pins pages
# (VFIO type1): cuda: memory is refused there by design (docs/cuda.md).
echo "## DPDK pool on GPU memory: SKIP: not supported yet (EAL's DMA domain pins pages" \
     "like VFIO type1; the binding refuses cuda: memory there with the reason)"
skipped=$((skipped + 1))

echo "# result: $passed passed, $failed failed, $skipped skipped"
[ $failed -gt 0 ] && exit 1
if [ -n "$nodmabuf" ]; then
	echo "# a GPU is here, but the cuda: checks were skipped: $nodmabuf"
	exit 4
fi
exit 0
