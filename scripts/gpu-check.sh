#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every GPU check of the cuda: dmabuf source in one run (a few minutes), for
# a machine with an NVIDIA GPU and driver (docs/cuda.md):
#   the GPU, driver and CUDA versions; the fake-driver unit test; import;
#   the VFIO type1 and kernel-bridge refusals; the software NIC receiving
#   into GPU memory through the copy engine with the payload checked by a
#   CUDA kernel (unit test and netmem-rx); a DPDK "dmabuf" pool on GPU
#   memory with the ethdev adapter's buffer split (headers in host memory),
#   the payload written by the copy engine for a stand-in PMD and checked
#   on the GPU (tests/dpdk/test_dpdk_cuda.c, EAL --no-pci: no VFIO).
#
#   scripts/gpu-check.sh            run the checks (output also to
#                                   $OUT/gpu-check.log when $OUT is set)
#   scripts/gpu-check.sh --bundle   on a build machine: build the binaries
#                                   into build-gpu-bundle/ with every shared
#                                   library they need but glibc's (libnuma,
#                                   libdrm, DPDK's librte_*, and the DPDK
#                                   plugins EAL loads: bus_vdev, net_ring,
#                                   mempool_ring), for a GPU machine without
#                                   build dependencies or DPDK
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
	dpdk=disabled
	pkg-config --exists libdpdk && dpdk=enabled
	[ -f build-gpu/build.ninja ] || meson setup build-gpu -Ddpdk=$dpdk -Dcuda=enabled >/dev/null
	bins="apps/netmem-rx tests/test_cuda_gpu tests/test_dmabuf_cuda"
	[ $dpdk = enabled ] && bins="$bins tests/dpdk/test_dpdk_cuda"
	ninja -C build-gpu $bins
	rm -rf "$bundle"
	mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/pmds"
	for b in $bins; do cp "build-gpu/$b" "$bundle/bin/"; done
	objs=$(for b in $bins; do echo "build-gpu/$b"; done)
	if [ $dpdk = enabled ]; then
		# The drivers EAL loads from its PMD directory, which a machine
		# without DPDK lacks. bus_vdev goes in lib/: net_ring links it, and
		# one file loaded as a plugin and as a dependency would be two.
		pmd_dir=$(ls -d "$(pkg-config --variable=libdir libdpdk)"/dpdk/pmds-* | head -1)
		for d in bus_vdev net_ring mempool_ring; do
			so=$(ls "$pmd_dir"/librte_$d.so.* 2>/dev/null | head -1)
			[ -n "$so" ] || { echo "no librte_$d plugin under $pmd_dir" >&2; exit 1; }
			# (-d DIR takes files ending .so or .so.ABI)
			[ $d = bus_vdev ] || cp -L "$so" "$bundle/pmds/librte_$d.so"
			objs="$objs $so"
		done
		echo "$pmd_dir" >"$bundle/pmds/EAL_PMD_DIR"
	fi
	# Every library they need but glibc's own (the GPU machine has that).
	for l in $(ldd $objs | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
		case $(basename "$l") in
		libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libresolv.so.*) ;;
		*) cp -L "$l" "$bundle/lib/" ;;
		esac
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
	dpdk_test=$bin/test_dpdk_cuda
	# Where EAL's own PMD directory is missing (no DPDK installed), name
	# the bundle's plugins, staged: EAL refuses plugins under a
	# world-writable directory.
	if ls "$bundle"/pmds/*.so >/dev/null 2>&1 &&
	   [ ! -d "$(cat "$bundle/pmds/EAL_PMD_DIR" 2>/dev/null)" ]; then
		pmds=$(mktemp -d /run/netmem-gpu-pmds.XXXXXX 2>/dev/null ||
		       mktemp -d "$HOME/.netmem-gpu-pmds.XXXXXX")
		chmod 0755 "$pmds"
		cp "$bundle"/pmds/*.so "$pmds/"
		export NETMEM_DPDK_PMDS=$pmds
		trap 'rm -rf "$pmds"' EXIT
	fi
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
	dpdk_test=$b/tests/dpdk/test_dpdk_cuda
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
	grep -q '^1\.\.0 # SKIP' <<<"$out" && skip=1 ok=1   # the whole file skipped
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

# A DPDK pool on GPU memory, buffer split onto it, payload checked on the
# GPU. EAL --no-pci: a port that DMAs through VFIO type1 is refused on such
# memory (type1 cannot map it; iommufd is the way), so the NIC is a stand-in
# whose DMA is the GPU's copy engine (docs/dpdk.md, docs/cuda.md).
if [ -x "$dpdk_test" ]; then
	tap "DPDK: dmabuf pool on GPU memory, buffer split, payload checked on the GPU" "$dpdk_test"
else
	echo "## DPDK pool on GPU memory: SKIP: built without DPDK ($dpdk_test missing)"
	skipped=$((skipped + 1))
fi

echo "# result: $passed passed, $failed failed, $skipped skipped"
[ $failed -gt 0 ] && exit 1
if [ -n "$nodmabuf" ]; then
	echo "# a GPU is here, but the cuda: checks were skipped: $nodmabuf"
	exit 4
fi
exit 0
