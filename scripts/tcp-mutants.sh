#!/usr/bin/env bash
# Mutation check of lib/tcp: each one-line mutant of tests/mutants.txt is
# applied alone to a scratch copy of the tree, the TCP unit tests and the
# fuzz corpus replay are rebuilt and run, and a table says which tests
# killed it (failed), or SURVIVED, or "stale" (its original line is not
# in the file once: retarget it), or "no build".
#
#   scripts/tcp-mutants.sh [MUTANTS_FILE] [NAME...]   (default tests/mutants.txt, all)
#
#   NETMEM_MUTANT_DIR   scratch directory (default: a new one under /tmp, removed at the end)
#   NETMEM_MUTANT_JOBS  ninja -j (default 2)
# Exit 0 when no mutant survived and none is stale, 1 otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
list=${1:-$root/tests/mutants.txt}
[ $# -gt 0 ] && shift
only=("$@")
jobs=${NETMEM_MUTANT_JOBS:-2}
scratch=${NETMEM_MUTANT_DIR:-}
if [ -z "$scratch" ]; then
	scratch=$(mktemp -d /tmp/netmem-mutants.XXXXXX)
	trap 'rm -rf "$scratch"' EXIT
fi
tree=$scratch/tree
build=$tree/build-mutants

# The tests each mutant faces: binary (in the build dir) and its arguments.
tests=(
	"tests/test_tcp"
	"tests/test_tcp-robust"
	"tests/test_tcp-threads"
	"tests/fuzz/fuzz_tcp_replay $tree/tests/fuzz/corpus"
)
targets=()
for t in "${tests[@]}"; do targets+=("${t%% *}"); done

log() { printf '[tcp-mutants] %s\n' "$*" >&2; }

# A copy of the working tree as it is (tracked and untracked, not ignored).
log "copying the tree into $tree"
mkdir -p "$tree"
# A kept scratch dir: the old copy goes, its build stays.
find "$tree" -mindepth 1 -maxdepth 1 ! -name build-mutants -exec rm -rf {} +
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 cp --parents -t "$tree" 2>/dev/null) || true
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$tree" -Ddpdk=disabled -Dcuda=disabled >"$scratch/setup.log" 2>&1 ||
		{ cat "$scratch/setup.log"; exit 1; }
fi

# Apply (or check) one mutant: prints "ok", "stale: why".
apply() { # file[:N] original replacement -> edits $tree/file
	python3 - "$tree" "$@" <<'EOF'
import sys
tree, spec, orig, repl = sys.argv[1:5]
path, _, nth = spec.partition(':')
try:
    lines = open(f"{tree}/{path}").read().split('\n')
except OSError as e:
    print(f"stale: {path}: {e.strerror}"); sys.exit(0)
hits = [i for i, l in enumerate(lines) if l.strip() == orig.strip()]
if nth:
    n = int(nth)
    if n > len(hits):
        print(f"stale: occurrence {n} of the line not in {path} ({len(hits)} found)"); sys.exit(0)
    hits = [hits[n - 1]]
if len(hits) != 1:
    print(f"stale: the line is in {path} {len(hits)} times" if hits else f"stale: the line is not in {path}")
    sys.exit(0)
i = hits[0]
indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
lines[i] = indent + repl.strip()
open(f"{tree}/{path}", "w").write('\n'.join(lines))
print("ok")
EOF
}

build_all() {
	ninja -C "$build" -j "$jobs" "${targets[@]}" >"$scratch/build.log" 2>&1
}

# Run every test; print the names of those that failed (TAP "not ok" lines,
# or the binary and how it ended).
run_tests() {
	local t bin out rc killed=()
	for t in "${tests[@]}"; do
		bin=${t%% *}
		# shellcheck disable=SC2086
		out=$(cd "$build" && NM_TEST_SEED=1 timeout 120 ./$t 2>&1) && rc=0 || rc=$?
		if [ $rc -eq 0 ]; then
			continue
		fi
		local names
		names=$(grep -E '^not ok ' <<<"$out" | sed -E 's/^not ok [0-9]+ - //; s/ \((iss|random)[^)]*\)//' | sort -u | tr '\n' ',' | sed 's/,$//')
		if [ -n "$names" ] && [ "${bin##*/}" != fuzz_tcp_replay ]; then
			killed+=("${bin##*/}[$names]")
		elif [ "${bin##*/}" = fuzz_tcp_replay ]; then
			local input why
			input=$(grep -E '^# .*/corpus/' <<<"$out" | tail -n1 | sed 's|.*/corpus/||')
			why=$(grep -m1 -E 'fuzz_tcp: invariant broken|ERROR: AddressSanitizer|runtime error' <<<"$out" |
				sed -E 's/^fuzz_tcp: invariant broken at operation [0-9]+: //' | cut -c1-60)
			killed+=("fuzz-replay[$input: ${why:-exit $rc}]")
		elif [ $rc -eq 124 ]; then
			killed+=("${bin##*/}[timeout]")
		else
			killed+=("${bin##*/}[exit $rc]")
		fi
	done
	local IFS=' '
	echo "${killed[*]:-}"
}

log "baseline build and run"
build_all || { tail -n 30 "$scratch/build.log"; exit 1; }
base=$(run_tests)
if [ -n "$base" ]; then
	log "the unmutated tree fails already: $base"
	exit 1
fi

survived=0 stale=0 killed=0 total=0
report=$scratch/report.txt
printf '%-26s %s\n' "mutant" "result" >"$report"
while IFS= read -r line; do
	case $line in '' | '#'*) continue ;; esac
	name=$(awk -F' @@ ' '{print $1}' <<<"$line" | xargs)
	if [ ${#only[@]} -gt 0 ] && ! printf '%s\n' "${only[@]}" | grep -qx "$name"; then
		continue
	fi
	spec=$(awk -F' @@ ' '{print $2}' <<<"$line" | xargs)
	orig=$(awk -F' @@ ' '{print $3}' <<<"$line")
	repl=$(awk -F' @@ ' '{print $4}' <<<"$line")
	file=${spec%%:*}
	total=$((total + 1))
	if [ -f "$tree/$file" ]; then
		cp "$tree/$file" "$scratch/pristine"
		res=$(apply "$spec" "$orig" "$repl")
	else
		res="stale: no file $file"
	fi
	if [ "$res" != ok ]; then
		result="stale (${res#stale: })"
		stale=$((stale + 1))
	elif ! build_all; then
		result="no build: $(grep -m1 -E 'error' "$scratch/build.log" | cut -c1-80)"
		stale=$((stale + 1))
	else
		k=$(run_tests)
		if [ -n "$k" ]; then
			result="killed by $k"
			killed=$((killed + 1))
		else
			result="SURVIVED"
			survived=$((survived + 1))
		fi
	fi
	[ ! -f "$tree/$file" ] || cp "$scratch/pristine" "$tree/$file"
	printf '%-26s %s\n' "$name" "$result" | tee -a "$report" >&2
done <"$list"
build_all || true

echo
cat "$report"
echo "$total mutants: $killed killed, $survived survived, $stale stale or not building"
[ $survived -eq 0 ] && [ $stale -eq 0 ]
