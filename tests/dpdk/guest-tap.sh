#!/usr/bin/env bash
# Host side of a guest test: boots the test guest (tests/vm/guest-run.sh) to run a
# script that speaks TAP, and passes that TAP through. When the test bed cannot run
# here (guest-run exits 77: no QEMU, no igb model, no kernel), it prints one skipped
# test with guest-run's reason instead, so the skip is never silent.
#
#   tests/dpdk/guest-tap.sh NAME [guest-run options] -- COMMAND [ARGS...]
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runner=$here/../vm/guest-run.sh
name=${1:?usage: guest-tap.sh NAME [guest-run options] -- COMMAND...}
shift

if [ ! -x "$runner" ]; then
	echo "1..1"
	echo "ok 1 - $name # SKIP tests/vm/guest-run.sh is not there"
	exit 0
fi
# In the guest, COMMAND's stderr comes back on the same stream as its TAP:
# run it under tap-comments.sh so each of those lines is a TAP comment.
args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	args+=("$1")
	shift
done
[ $# -gt 0 ] && shift
args+=(-- "$here/tap-comments.sh" "$@")
errlog=$(mktemp)
trap 'rm -f "$errlog"' EXIT
"$runner" "${args[@]}" 2> >(tee "$errlog" >&2)
rc=$?
wait
if [ "$rc" -eq 77 ]; then
	reason=$(sed -n 's/^guest-run: SKIP: //p' "$errlog" | tail -n1)
	echo "1..1"
	echo "ok 1 - $name # SKIP ${reason:-the guest test bed cannot run here}"
	exit 0
fi
exit "$rc"
