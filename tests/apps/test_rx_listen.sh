#!/bin/bash
# SPDX-License-Identifier: MIT
#
# netmem-rx --listen's life over a TAP (the host kernel's TCP as the peer,
# in a network namespace made for the run): 100 sequential connections,
# each closed by our FIN as soon as it ended and every byte intact; a
# connection past --connections refused, never swallowed; --connections 0
# serving until SIGTERM (exit 0 when nothing was open, 1 and a RST to the
# sender when a stream was cut); UDP short of --bytes and a run with no
# connection in --timeout exit 1 and say why in the last line.
#
# usage: test_rx_listen.sh NETMEM_RX [CASE...]
set -u
RX=${1:?usage: $0 NETMEM_RX [case...]}
shift
CASES=${*:-"sequential beyond forever cut udp stall"}
NS=nmt-$$-lst
TAPIF=nmtap1
WORK=$(mktemp -d /tmp/nmt-lst.XXXXXX)
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

cleanup() {
	[ -n "${RXPID:-}" ] && kill -9 "$RXPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

nsx() { ip netns exec "$NS" "$@"; }
ip netns add "$NS" || skip_all "cannot add a network namespace"
nsx ip link set lo up
nsx ip tuntap add dev $TAPIF mode tap || skip_all "cannot add a TAP"
nsx ip link set $TAPIF up
nsx ip addr add 169.254.78.1/24 dev $TAPIF

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); echo "not ok $N - $1"; FAILED=1; sed 's/^/# /' "$WORK/rx.log" | tail -25; }

start_rx() {
	rm -f "$WORK"/out*
	ip netns exec "$NS" "$RX" --dmabuf memfd:16M --dev tap:$TAPIF --addr4 169.254.78.2/24 \
		--listen 5201 --timeout 20 --quiet --pollers 1 --out "$WORK/out" "$@" \
		>"$WORK/rx.log" 2>&1 &
	RXPID=$!
	for _ in $(seq 200); do
		grep -q "^listening" "$WORK/rx.log" 2>/dev/null && return 0
		kill -0 $RXPID 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# wait_rx: netmem-rx's exit status (124: still running after 60 s).
wait_rx() {
	local rc=0
	for _ in $(seq 600); do
		kill -0 $RXPID 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $RXPID 2>/dev/null && { kill -9 $RXPID; rc=124; }
	wait $RXPID || rc=$?
	RXPID=
	return $rc
}

# The senders: python3 - CMD ARGS, results on stdout, one line per connection.
cat >"$WORK/send.py" <<'EOF'
import hashlib, random, socket, sys, time
cmd, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
addr = ("169.254.78.2", 5201)

def payload(i):
    return random.Random(i).randbytes(size)

def one(i, hold=None):
    """Send stream i; returns (status, ms from our last byte to the peer's FIN).
    A refused connect (ECONNREFUSED: the receiver's max_accept) is a status
    too, of this stream only."""
    try:
        s = socket.create_connection(addr, timeout=10)
    except OSError as e:
        return type(e).__name__, 0
    try:
        s.sendall(payload(i))
        if hold is not None:
            hold(s)
        s.shutdown(socket.SHUT_WR)
        t = time.monotonic()
        if s.recv(1) != b"":
            return "data?", 0
        return "ok", (time.monotonic() - t) * 1000
    except OSError as e:
        return type(e).__name__, 0
    finally:
        s.close()

if cmd == "seq":            # n streams one after another
    for i in range(n):
        st, ms = one(i)
        print(i, st, "%.1f" % ms, hashlib.sha256(payload(i)).hexdigest(), flush=True)
elif cmd == "beyond":       # stream 0 stays open while stream 1 tries
    def second(s0):
        st, _ = one(1)
        print(1, st, flush=True)
    st, ms = one(0, hold=second)
    print(0, st, "%.1f" % ms, hashlib.sha256(payload(0)).hexdigest(), flush=True)
elif cmd == "cut":          # stream 0 open, never ends: waits for a RST
    s = socket.create_connection(addr, timeout=10)
    s.sendall(payload(0))
    print("sent", flush=True)
    try:
        r = s.recv(1)
        print("end", "fin" if r == b"" else "data", flush=True)
    except OSError as e:
        print("end", type(e).__name__, flush=True)
EOF
send() { nsx python3 "$WORK/send.py" "$@"; }

# Each line "i ok ms sha": the file netmem-rx wrote for it has that sha.
# MAXMS: the longest wait for our FIN.
check_files() {
	MAXMS=$(python3 - "$1" "$WORK/out" <<'EOF'
import hashlib, sys
bad, worst = 0, 0.0
for line in open(sys.argv[1]):
    i, st, ms, want = line.split()
    path = sys.argv[2] + ("" if i == "0" else "." + i)
    try:
        got = hashlib.sha256(open(path, "rb").read()).hexdigest()
    except OSError as e:
        got = str(e)
    if st != "ok" or got != want:
        print("# connection %s: %s, %s: %s" % (i, st, path, got[:16]), file=sys.stderr)
        bad = 1
    worst = max(worst, float(ms))
print(worst)
sys.exit(bad)
EOF
)
}

case_sequential() {
	if ! start_rx --connections 100; then not_ok "sequential (receiver did not start)"; return; fi
	send seq 100 65536 >"$WORK/send.out" 2>"$WORK/send.err"
	local rc=0
	wait_rx || rc=$?
	if [ $rc != 0 ] || [ "$(wc -l <"$WORK/send.out")" != 100 ]; then
		cat "$WORK/send.err" >>"$WORK/rx.log"
		not_ok "sequential: exit $rc, $(wc -l <"$WORK/send.out") of 100 senders done"
	elif ! check_files "$WORK/send.out"; then
		not_ok "sequential: a stream differs"
	elif python3 -c "import sys; sys.exit(not $MAXMS < 100)"; then
		ok "100 sequential connections: sha256 equal, each got our FIN within $MAXMS ms of its last byte"
	else
		not_ok "sequential: a FIN came $MAXMS ms after the last byte (over 100 ms)"
	fi
}

case_beyond() {
	if ! start_rx --connections 1; then not_ok "beyond (receiver did not start)"; return; fi
	send beyond 1 1048576 >"$WORK/send.out" 2>"$WORK/send.err"
	local rc=0 second
	wait_rx || rc=$?
	second=$(awk '$1 == 1 {print $2}' "$WORK/send.out")
	grep '^0 ' "$WORK/send.out" >"$WORK/first.out"
	if [ $rc != 0 ] || ! check_files "$WORK/first.out"; then
		cat "$WORK/send.err" >>"$WORK/rx.log"
		not_ok "beyond: exit $rc, the first stream: $(cat "$WORK/first.out")"
	elif [ "$second" = ok ] || [ -z "$second" ] || [ -e "$WORK/out.1" ]; then
		not_ok "beyond: the second sender was told '${second:-nothing}': its bytes went nowhere"
	else
		ok "--connections 1: a second connection meanwhile is refused ($second), the first intact"
	fi
}

case_forever() {
	if ! start_rx --connections 0; then not_ok "forever (receiver did not start)"; return; fi
	send seq 3 100000 >"$WORK/send.out" 2>"$WORK/send.err"
	kill -TERM $RXPID
	local rc=0
	wait_rx || rc=$?
	if [ $rc != 0 ] || ! check_files "$WORK/send.out"; then
		not_ok "forever: exit $rc after 3 whole streams"
	elif ! tail -1 "$WORK/rx.log" | grep -q "^interrupted by signal 15: 0 connection(s) cut mid-stream, 3 ended; exit 0"; then
		not_ok "forever: last line: $(tail -1 "$WORK/rx.log")"
	else
		ok "--connections 0: 3 streams intact, SIGTERM with none open: exit 0"
	fi
}

case_cut() {
	if ! start_rx --connections 0; then not_ok "cut (receiver did not start)"; return; fi
	nsx python3 "$WORK/send.py" cut 1 200000 >"$WORK/send.out" 2>&1 &
	local spid=$! rc=0
	for _ in $(seq 200); do
		grep -q "^sent" "$WORK/send.out" && break
		sleep 0.05
	done
	# Sent, and read by netmem-rx: the stream is open and mid-way.
	for _ in $(seq 200); do
		[ "$(stat -c %s "$WORK/out" 2>/dev/null)" = 200000 ] && break
		sleep 0.05
	done
	kill -TERM $RXPID
	wait_rx || rc=$?
	wait $spid
	if [ $rc != 1 ]; then
		not_ok "cut: exit $rc, not 1"
	elif ! tail -1 "$WORK/rx.log" | grep -q "^interrupted by signal 15: 1 connection(s) cut mid-stream"; then
		not_ok "cut: last line: $(tail -1 "$WORK/rx.log")"
	elif ! grep -q "^end ConnectionResetError" "$WORK/send.out"; then
		not_ok "cut: the sender saw: $(cat "$WORK/send.out")"
	else
		ok "SIGTERM mid-stream: exit 1, the last line says so, the sender gets a RST"
	fi
}

case_udp() {
	if ! start_rx --udp --bytes 100000; then not_ok "udp (receiver did not start)"; return; fi
	nsx python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(10):
    s.sendto(bytes([i]) * 1000, ("169.254.78.2", 5201))'
	local rc=0
	wait_rx || rc=$?
	if [ $rc = 1 ] && tail -1 "$WORK/rx.log" | grep -Eq "^UDP: [0-9]+ of 100000 bytes \(--bytes\) arrived: datagrams lost; exit 1"; then
		ok "UDP short of --bytes: exit 1, the last line says so ($(tail -1 "$WORK/rx.log" | cut -d: -f2 | cut -d'(' -f1))"
	else
		not_ok "udp: exit $rc, last line: $(tail -1 "$WORK/rx.log")"
	fi
}

case_stall() {
	if ! start_rx --connections 2 --timeout 1; then not_ok "stall (receiver did not start)"; return; fi
	local rc=0
	wait_rx || rc=$?
	if [ $rc = 1 ] && tail -1 "$WORK/rx.log" | grep -q "^stopped: no progress for 1 s, 0 of 2 connection(s) came, 0 ended; exit 1"; then
		ok "no connection within --timeout: exit 1, the last line says so"
	else
		not_ok "stall: exit $rc, last line: $(tail -1 "$WORK/rx.log")"
	fi
}

for c in $CASES; do
	"case_$c"
done
exit $FAILED
