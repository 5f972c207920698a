#!/usr/bin/env bash
# Guest smoke test (a): the guest boots, runs a command, and its exit status and
# output come back to the host.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=smoke-lib.sh
. "$(dirname "$0")/smoke-lib.sh"

# run EXPECTED_RC EXPECTED_STDOUT COMMAND...: one boot, checked on the host.
run() {
	local want_rc=$1 want_out=$2 rc=0 out
	shift 2
	out=$("$GUEST_RUN" --timeout 120 -- "$@") || rc=$?
	if [ "$rc" -eq 77 ]; then
		echo "$SMOKE_NAME: skipped (the guest test bed cannot run here)"
		exit 77
	fi
	[ "$rc" -eq "$want_rc" ] || fail "'$*' exited $rc in the guest, expected $want_rc (output: $out)"
	[ "$out" = "$want_out" ] || fail "'$*' printed '$out', expected '$want_out'"
	pass "'$*' -> exit $rc, output '$out'"
}

run 0 "" true
# shellcheck disable=SC2016 # expanded in the guest
run 3 "in the guest as uid 0 in $PWD" sh -c 'echo "in the guest as uid $(id -u) in $PWD"; exit 3'
