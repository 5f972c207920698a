#!/usr/bin/env bash
# libFuzzer on the TCP fuzz target for a bounded time (meson test tcp-fuzz).
#
#   tests/fuzz/run-fuzz.sh SRCDIR BUILDDIR
#
# Builds BUILDDIR/fuzz-clang (clang, -Dfuzz=true, ASan + UBSan, only the
# fuzz_tcp target) and runs it on a scratch corpus seeded from
# tests/fuzz/corpus (which it never writes). Exit 77 (skipped) with the
# reason when clang or libFuzzer's runtime is missing.
#   NETMEM_FUZZ_SECONDS  fuzzing time (default 25)
#   NETMEM_FUZZ_RUNS     most inputs (default 500000)
set -euo pipefail
src=$1
build=$2
secs=${NETMEM_FUZZ_SECONDS:-25}
runs=${NETMEM_FUZZ_RUNS:-500000}
dir=$build/fuzz-clang

if ! command -v clang >/dev/null; then
	echo "SKIP: no clang (Debian: apt-get install clang libclang-rt-14-dev)"
	exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>"$probe/err"; then
	echo "SKIP: clang cannot link -fsanitize=fuzzer (libFuzzer's runtime missing; Debian: libclang-rt-14-dev): $(head -n1 "$probe/err")"
	exit 77
fi

if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" "$src" -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug -Ddpdk=disabled -Dcuda=disabled >"$probe/setup.log" 2>&1 ||
		{ cat "$probe/setup.log"; exit 1; }
fi
ninja -C "$dir" tests/fuzz/fuzz_tcp >"$probe/build.log" 2>&1 || { tail -n 40 "$probe/build.log"; exit 1; }

work=$probe/corpus
mkdir -p "$work"
echo "fuzzing ${secs}s (at most $runs inputs, seed ${NETMEM_FUZZ_SEED:-1}: NETMEM_FUZZ_SEED=0 draws one) from $(ls "$src/tests/fuzz/corpus" | wc -l) seeds"
set +e
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	"$dir/tests/fuzz/fuzz_tcp" -max_total_time="$secs" -runs="$runs" -timeout=10 \
	-seed="${NETMEM_FUZZ_SEED:-1}" \
	-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/" \
	"$work" "$src/tests/fuzz/corpus" >"$probe/fuzz.log" 2>&1
rc=$?
set -e
grep -E '^#[0-9]+.*(DONE|INITED)|stat::number_of_executed_units|stat::peak_rss' "$probe/fuzz.log" || true
if [ $rc -ne 0 ]; then
	tail -n 60 "$probe/fuzz.log"
	echo "FAIL: libFuzzer exit $rc; the input is kept as $dir/crash-* (replay: $build/tests/fuzz/fuzz_tcp_replay FILE)"
	exit 1
fi
echo "ok: no invariant broken"
