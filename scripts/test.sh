#!/usr/bin/env bash
# Install what netmem needs, build it three times (plain, release, and with
# ASan/UBSan) plus the threaded unit tests with ThreadSanitizer, and run every
# test suite: unit tests in those three builds, tsan-lib in the TSan one, then
# the DPDK, guest and kmod suites in the plain build (against Debian's DPDK
# 22.11), and the DPDK suite again in build-dpdk25 against DPDK 25.11 LTS
# (scripts/dpdk-lts.sh's cache; only the DPDK targets are built there), with
# testpmd_udmabuf from the guest suite. Ends with one line: "N passed, N
# failed, N skipped" (known failures, TAP "# TODO", on the line before it).
#
#   scripts/test.sh                 everything
#   NETMEM_SKIP_INSTALL=1 scripts/test.sh    skip the apt step
#   NETMEM_SUITES="unit guest" scripts/test.sh  only these suites
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ -z "${NETMEM_SKIP_INSTALL:-}" ]; then
	scripts/install-deps.sh all
fi

suites=${NETMEM_SUITES:-unit apps dpdk guest kmod}
jobs=$(nproc)

setup() { # dir, extra meson args...
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir" -j "$jobs" >/dev/null
}

echo "== build (plain)"
setup build
# Release (-O3, NDEBUG): what a user's `--buildtype=release` compiles, with
# -Werror; its unit suite runs too. No DPDK or CUDA parts: cheap, and the
# unit tests need neither (the tests use no assert(): NDEBUG changes none).
echo "== build (release)"
setup build-release -Dbuildtype=release -Ddpdk=disabled -Dcuda=disabled
echo "== build (ASan + UBSan)"
setup build-asan -Db_sanitize=address,undefined -Dbuildtype=debug -Ddpdk=disabled
# ThreadSanitizer: only the threaded unit tests (suite tsan-lib). GCC warns
# that TSan does not model fences (-Wtsan); the code's fences stay.
echo "== build (TSan, threaded unit tests only)"
tsan_args=(-Db_sanitize=thread -Dbuildtype=debug -Ddpdk=disabled -Dc_args=-Wno-tsan)
if [ -f build-tsan/build.ninja ]; then
	meson setup --reconfigure build-tsan "${tsan_args[@]}" >/dev/null
else
	meson setup build-tsan "${tsan_args[@]}" >/dev/null
fi
ninja -C build-tsan -j "$jobs" tests/test_page_pool tests/test_pp-put-cache tests/test_page_pool_race tests/test_threads tests/test_tcp-threads tests/test_net_iov >/dev/null

# DPDK 25.11 LTS: the targets of the DPDK suite only (the rest is the same
# code as in build). Skipped, with the reason, where the cache has no 25.11.
dpdk25=""
dpdk25_why=""
if [[ " $suites " == *" dpdk "* ]]; then
	if [ -f "$(scripts/dpdk-lts.sh dir)/.netmem-built" ]; then
		echo "== build (DPDK 25.11 LTS, the DPDK targets only)"
		t0=$(date +%s)
		if [ -f build-dpdk25/build.ninja ]; then
			meson setup --reconfigure build-dpdk25 -Ddpdk=enabled -Ddpdk_pc="$(scripts/dpdk-lts.sh pc)" >/dev/null
		else
			meson setup build-dpdk25 -Ddpdk=enabled -Ddpdk_pc="$(scripts/dpdk-lts.sh pc)" >/dev/null
		fi
		mapfile -t dpdk25_targets < <(meson introspect build-dpdk25 --targets | python3 -c '
import json, os, sys
root, bdir = os.getcwd(), os.path.abspath("build-dpdk25")
dirs = ("tests/dpdk/", "drivers/mempool/dmabuf/", "drivers/net/netmem_igb_pmd/")
for t in json.load(sys.stdin):
    if os.path.relpath(t["defined_in"], root).startswith(dirs) and t["type"] != "run":
        print("\n".join(os.path.relpath(f, bdir) for f in t["filename"]))')
		# netmem-ctl: the testpmd guest test asks it for testpmd's queues.
		ninja -C build-dpdk25 -j "$jobs" "${dpdk25_targets[@]}" apps/netmem-ctl >/dev/null
		echo "   ${#dpdk25_targets[@]} targets in $(($(date +%s) - t0)) s"
		dpdk25=1
	else
		dpdk25_why="no DPDK 25.11 in $(scripts/dpdk-lts.sh dir) (scripts/install-deps.sh dpdk-lts)"
	fi
fi

logs=()
missing=0
run_suite() { # builddir suite [meson test args...]
	local dir=$1 suite=$2 log list
	shift 2
	# Into a variable first: grep -q closing the pipe early would make
	# meson die of SIGPIPE and the suite look absent.
	list=$(meson test -C "$dir" --list 2>/dev/null) || true
	if ! grep -Eq "^netmem:([a-z0-9-]+\+)*$suite(\+[a-z0-9-]+)* / " <<<"$list"; then
		echo "== $suite ($dir): NO TESTS in this build (counted as a failure)"
		missing=$((missing + 1))
		return 0
	fi
	echo "== suite $suite ($dir)"
	log="$root/$dir/meson-logs/testlog-$suite.json"
	# Guests run one at a time: two TCG guests on two cores starve each other's
	# timers (boot panics, RCU stalls); serial is slower but deterministic.
	local par=()
	case $suite in guest | kmod) par=(--num-processes 1) ;; esac
	# meson exits non-zero on a failure; the summary below counts it.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$dir" --suite "$suite" "${par[@]}" "$@" --print-errorlogs --logbase "testlog-$suite" || true
	logs+=("$log")
}

for s in $suites; do
	run_suite build "$s"
	if [ "$s" = unit ]; then
		run_suite build-release unit
		run_suite build-asan unit
		# Built above, target by target: no full rebuild here.
		TSAN_OPTIONS=halt_on_error=0:exitcode=66 run_suite build-tsan tsan-lib --no-rebuild
	fi
done

if [ -n "$dpdk25" ]; then
	# Every DPDK host test but the install check (it installs the whole build).
	mapfile -t dpdk25_tests < <(meson test -C build-dpdk25 --no-rebuild --list --suite dpdk 2>/dev/null |
		sed -n 's|^netmem:[a-z+-]* / ||p' | grep -vx dpdk_install_pmd_dir)
	run_suite build-dpdk25 dpdk --no-rebuild "${dpdk25_tests[@]}"
	# And 25.11's testpmd on the igb model over VFIO in the guest (~35 s).
	if [[ " $suites " == *" guest "* ]]; then
		run_suite build-dpdk25 guest --no-rebuild testpmd_udmabuf
	fi
elif [ -n "$dpdk25_why" ]; then
	echo "== suite dpdk (DPDK 25.11): skipped: $dpdk25_why"
	mkdir -p build/meson-logs
	python3 -c 'import json, sys; print(json.dumps({"name": "dpdk suite on DPDK 25.11",
		"result": "SKIP", "stdout": "1..0 # SKIP " + sys.argv[1]}))' "$dpdk25_why" \
		>build/meson-logs/testlog-dpdk25-skip.json
	logs+=("$root/build/meson-logs/testlog-dpdk25-skip.json")
fi

python3 scripts/test-summary.py --missing "$missing" "${logs[@]}"
