#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The host kernel's own TCP streams into netmem's dmabuf over a TAP device,
# in a network namespace made for the run and deleted after it:
# sha256 of what netmem-rx wrote equals the sender's, IPv4 and IPv6, with
# netem loss/reorder/duplicate/corrupt, a slow consumer, four connections
# over two queues, a closed port, ping/ND during a stream, injected junk,
# and kill -9 of the receiver mid-stream.
#
# usage: test_tcp_tap.sh NETMEM_RX [CASE...]
set -u
RX=${1:?usage: $0 NETMEM_RX [case...]}
shift
CASES=${*:-"ipv4 ipv6 plain netem slow multi closed ping junk kill udp example ctl validate bufsize"}
NS=nmt-$$-tcp
TAPIF=nmtap0
WORK=$(mktemp -d /tmp/nmt-tcp.XXXXXX)
N=0
FAILED=0
count=$(wc -w <<<"$CASES")

echo "1..$count"
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
	[ -n "${NMT_KEEP:-}" ] && { echo "# kept $WORK"; return; }
	rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${NMT_KEEP:-}" ] && WORK_KEEP=1

nsx() { ip netns exec "$NS" "$@"; }

setup_ns() {
	ip netns del "$NS" 2>/dev/null
	ip netns add "$NS" || return 1
	nsx ip link set lo up
	nsx ip tuntap add dev $TAPIF mode tap || return 1
	nsx ip link set $TAPIF up
	nsx ip addr add 169.254.77.1/24 dev $TAPIF
	nsx ip addr add fd77::1/64 dev $TAPIF nodad
	# Linux's defaults otherwise (SACK, timestamps, window scaling).
}

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); echo "not ok $N - $1"; FAILED=1; sed 's/^/# /' "$WORK/rx.log" | tail -25; }

# start_rx ARGS...: netmem-rx in the namespace, in the background.
start_rx() {
	# Not through nsx: $! must be netmem-rx itself (ip netns exec execs it).
	ip netns exec "$NS" "$RX" --dmabuf memfd:32M --dev tap:$TAPIF${TAPOPT:-} --addr4 169.254.77.2/24 \
		--addr6 fd77::2/64 --listen 5201 --timeout 20 --quiet "$@" \
		>"$WORK/rx.log" 2>&1 &
	RXPID=$!
	# Ready once it prints its addresses.
	for _ in $(seq 100); do
		grep -q "^listening" "$WORK/rx.log" 2>/dev/null && return 0
		kill -0 $RXPID 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

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

# send FILE HOST [PORT]: the kernel's TCP via a Python socket (sendfile).
send() {
	nsx python3 - "$1" "$2" "${3:-5201}" <<'EOF'
import socket, sys
path, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(30)
s.connect((host, port))
with open(path, "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
s.recv(1)  # until our FIN
s.close()
EOF
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
counter() { grep -o "$1 [0-9]*" "$WORK/rx.log" | tail -1 | awk '{print $NF}'; }

stream_case() {  # name host size [rx args...]
	local name=$1 host=$2 size=$3
	shift 3
	[ "$size" = 0 ] || head -c "$size" /dev/urandom >"$WORK/in"
	rm -f "$WORK/out"
	if ! start_rx --out "$WORK/out" "$@"; then not_ok "$name (receiver did not start)"; return 1; fi
	if ! send "$WORK/in" "$host" 2>"$WORK/send.err"; then
		cat "$WORK/send.err" >>"$WORK/rx.log"
		wait_rx
		not_ok "$name (sender failed)"
		return 1
	fi
	wait_rx || { not_ok "$name (receiver exit $?)"; return 1; }
	if [ "$(sha "$WORK/in")" != "$(sha "$WORK/out")" ]; then
		not_ok "$name (sha256 differs)"
		return 1
	fi
	return 0
}

# tso: the TSO frames the TAP NIC cut into segments (its offloads line).
tso() { grep -oE '^TAP offloads: [0-9]+ TSO' "$WORK/rx.log" | awk '{print $3}'; }

case_ipv4() {
	stream_case ipv4 169.254.77.2 32M || return
	echo "# $(grep -E '^(received|TAP offloads)' "$WORK/rx.log")"
	if [ "$(tso)" -gt 0 ] 2>/dev/null; then
		ok "ipv4: 32 MiB from the kernel's TCP as $(tso) TSO frames cut here, sha256 equal"
	else
		not_ok "ipv4: sha256 equal, but no TSO frame came (offloads off?)"
	fi
}

case_ipv6() {
	stream_case ipv6 fd77::2 16M || return
	if [ "$(tso)" -gt 0 ] 2>/dev/null; then
		ok "ipv6: 16 MiB as $(tso) TSO frames, sha256 equal"
	else
		not_ok "ipv6: sha256 equal, but no TSO frame came"
	fi
}

# The TAP read as a wire (,no-offload): MTU frames, every checksum ours.
case_plain() {
	TAPOPT=,no-offload stream_case plain 169.254.77.2 16M || return
	if grep -q '^TAP offloads' "$WORK/rx.log"; then
		not_ok "plain: ,no-offload still used the offloads"
	else
		ok "no-offload: 16 MiB as plain frames, every checksum checked here, sha256 equal"
	fi
}

case_netem() {
	local how="netem on the kernel's side" extra=()
	if ! nsx tc qdisc add dev $TAPIF root netem loss 2% duplicate 2% corrupt 1% \
		delay 1ms reorder 10% 50% 2>/dev/null; then
		# No sch_netem in this kernel: the TAP NIC impairs what it reads.
		how="no sch_netem here: the TAP NIC's own impairment"
		extra=(--tap-impair loss=2,dup=2,reorder=5,corrupt=1)
	fi
	if stream_case netem 169.254.77.2 16M "${extra[@]}"; then
		local line ooo bad dup
		line=$(grep '^all connections' "$WORK/rx.log")
		ooo=$(grep -o 'ooo [0-9]*' <<<"$line" | awk '{print $2}')
		bad=$(grep -o 'bad csum [0-9]*' <<<"$line" | awk '{print $3}')
		dup=$(grep -o 'dup [0-9]*' <<<"$line" | head -1 | awk '{print $2}')
		echo "# $how: ooo $ooo, dup $dup, bad csum $bad"
		grep '^TAP impairment' "$WORK/rx.log" | sed 's/^/# /'
		if [ "${ooo:-0}" -gt 0 ] && [ "${dup:-0}" -gt 0 ] && [ "${bad:-0}" -gt 0 ]; then
			ok "loss/dup/corrupt/reorder ($how): sha256 equal, ooo $ooo, dup $dup, bad csum $bad"
		else
			not_ok "netem: counters show no out-of-order, duplicate or bad-checksum segments"
		fi
	fi
	nsx tc qdisc del dev $TAPIF root 2>/dev/null
}

case_slow() {
	# 4 MiB/s consumer, 8 MiB: the window closes, the sender waits.
	if stream_case slow 169.254.77.2 8M --consume-rate 4M; then
		local z oob
		z=$(grep '^all connections' "$WORK/rx.log" | grep -o 'window zero [0-9]*' | awk '{print $3}')
		oob=$(grep '^all connections' "$WORK/rx.log" | grep -o 'out of buffers [0-9]*' | awk '{print $4}')
		if [ "${z:-0}" -gt 0 ] && [ "${oob:-1}" = 0 ]; then
			ok "slow consumer: window closed $z times, nothing dropped, sha256 equal"
		else
			not_ok "slow consumer: window zero ${z:-?}, out of buffers ${oob:-?}"
		fi
	fi
}

case_multi() {
	local i pids=() fail=0
	for i in 0 1 2 3; do head -c 4M /dev/urandom >"$WORK/in$i"; done
	rm -f "$WORK"/out*
	start_rx --out "$WORK/out" --connections 4 --listen-queues 1,2 --queues 4 || {
		not_ok "multi (receiver did not start)"; return; }
	for i in 0 1 2 3; do send "$WORK/in$i" 169.254.77.2 & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || fail=1; done
	wait_rx || fail=1
	[ $fail = 0 ] || { not_ok "multi: a sender or the receiver failed"; return; }
	local want got
	want=$(for i in 0 1 2 3; do sha "$WORK/in$i"; done | sort)
	got=$(for f in "$WORK/out" "$WORK/out.1" "$WORK/out.2" "$WORK/out.3"; do sha "$f"; done | sort)
	local queues
	queues=$(grep -o 'queue [0-9]$' "$WORK/rx.log" | sort -u | wc -l)
	if [ "$want" = "$got" ] && [ "$queues" = 2 ]; then
		ok "4 connections over 2 queues: every stream's sha256 equal"
	else
		not_ok "multi: streams differ or not spread over 2 queues ($queues)"
	fi
}

case_closed() {
	start_rx || { not_ok "closed (receiver did not start)"; return; }
	local r
	r=$(nsx python3 -c '
import socket
s = socket.socket(); s.settimeout(5)
try:
    s.connect(("169.254.77.2", 9)); print("connected")
except ConnectionRefusedError: print("refused")
except Exception as e: print(type(e).__name__)')
	kill -INT $RXPID
	wait_rx
	if [ "$r" = refused ] && grep -q "RST sent [1-9]" "$WORK/rx.log"; then
		ok "SYN to a closed port: RST, the kernel's connect() fails with ECONNREFUSED"
	else
		not_ok "closed port: connect said '$r'"
	fi
}

case_ping() {
	head -c 16M /dev/urandom >"$WORK/in"
	start_rx --out "$WORK/out" --consume-rate 8M || { not_ok "ping (no receiver)"; return; }
	send "$WORK/in" 169.254.77.2 &
	local sp=$! p4=1 p6=1 pl=1 ll
	sleep 0.5
	ll=$(grep -o 'fe80::[0-9a-f:]*' "$WORK/rx.log" | head -1)
	nsx ip neigh flush dev $TAPIF
	nsx ping -c 3 -i 0.2 -W 2 169.254.77.2 >/dev/null && p4=0
	nsx ping -6 -c 3 -i 0.2 -W 2 fd77::2 >/dev/null && p6=0
	nsx ping -6 -c 2 -i 0.2 -W 2 "$ll%$TAPIF" >/dev/null && pl=0
	wait $sp
	local s=$?
	wait_rx
	if [ $p4 = 0 ] && [ $p6 = 0 ] && [ $pl = 0 ] && [ $s = 0 ] &&
	   [ "$(sha "$WORK/in")" = "$(sha "$WORK/out")" ]; then
		ok "ping, ping6 and ND (global and fe80:: from the MAC) during a stream; stream intact"
	else
		not_ok "ping: v4 $p4 v6 $p6 link-local $pl sender $s"
	fi
}

# wait_connected FILE: until the kernel's sender has an established
# connection to port 5201 and netmem-rx has written a first byte to FILE,
# while netmem-rx runs; 10 s at most. (ss, not netmem-rx's "connection 0
# from" line: its stdout is a file, buffered until it exits.)
wait_connected() {
	local i
	for i in $(seq 200); do
		[ -n "$(nsx ss -tnH state established dst 169.254.77.2 dport = 5201)" ] &&
			[ -s "$1" ] && return 0
		kill -0 "$RXPID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

case_junk() {
	head -c 16M /dev/urandom >"$WORK/in"
	# 4 MiB/s: the stream lasts while the junk is written.
	start_rx --out "$WORK/out" --consume-rate 4M || { not_ok "junk (no receiver)"; return; }
	send "$WORK/in" 169.254.77.2 &
	local sp=$! mac
	if ! wait_connected "$WORK/out"; then
		wait $sp; wait_rx; not_ok "junk: the sender never connected"; return
	fi
	mac=$(grep -o 'MAC [0-9a-f:]*' "$WORK/rx.log" | head -1 | cut -d' ' -f2)
	# Random sequence numbers on the live connection and on strangers,
	# written as raw frames on the kernel's side of the TAP. Any error (no
	# live connection found, no MAC, a short send) exits non-zero and fails
	# the case: a run that injected nothing must not pass.
	nsx python3 - "$TAPIF" "$mac" >"$WORK/junk.log" 2>&1 <<'EOF'
import os, random, socket, struct, subprocess, sys
ifname, mac = sys.argv[1], sys.argv[2]
out = subprocess.run(["ss", "-tnH", "state", "established", "dst", "169.254.77.2"],
                     capture_output=True, text=True, check=True).stdout
# With a state filter ss leaves the State column out: Recv-Q Send-Q Local Peer.
sports = [int(l.split()[2].rsplit(":", 1)[1]) for l in out.splitlines() if l.strip()]
if not sports:
    sys.exit("no established connection to 169.254.77.2 to hit: %r" % out)
mac_dst = bytes.fromhex(mac.replace(":", ""))
if len(mac_dst) != 6:
    sys.exit("no MAC for netmem-rx: %r" % mac)
mac_src = bytes.fromhex(open(f"/sys/class/net/{ifname}/address").read().strip().replace(":", ""))
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dst = socket.inet_aton("169.254.77.1"), socket.inet_aton("169.254.77.2")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
rnd = random.Random(7)
sent = live = 0
for i in range(400):
    hit = i % 2 == 0
    sport = rnd.choice(sports) if hit else rnd.randrange(1024, 65535)
    flags = rnd.choice([0x10, 0x18, 0x04, 0x02, 0x11, 0x14])
    payload = os.urandom(rnd.randrange(0, 1200))
    tcp = struct.pack("!HHIIBBHHH", sport, 5201, rnd.getrandbits(32), rnd.getrandbits(32),
                      5 << 4, flags, 1000, 0, 0) + payload
    ph = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    frame = mac_dst + mac_src + b"\x08\x00" + ip + tcp
    if s.send(frame) != len(frame):
        sys.exit("short send")
    sent += 1
    live += hit
print("junk: sent", sent, "live", live, "connections", len(sports))
EOF
	local jr=$?
	wait $sp
	local st=$?
	wait_rx
	local rc=$? oow
	oow=$(grep '^all connections' "$WORK/rx.log" | grep -o 'out of window [0-9]*' | awk '{print $4}')
	sed 's/^/# /' "$WORK/junk.log"
	if [ $jr != 0 ] || ! grep -q '^junk: sent 400 live 200' "$WORK/junk.log"; then
		not_ok "junk: the injection failed (exit $jr), nothing was tested"
	elif [ "${oow:-0}" = 0 ]; then
		not_ok "junk: netmem-rx counted no out-of-window segment: the junk never reached the connection"
	elif [ $st = 0 ] && [ $rc = 0 ] && [ "$(sha "$WORK/in")" = "$(sha "$WORK/out")" ]; then
		ok "400 frames with random sequence numbers (200 on the live connection, $oow out of window) / for unknown connections: stream intact"
	else
		not_ok "junk: sender $st receiver $rc"
	fi
}

case_kill() {
	head -c 64M /dev/urandom >"$WORK/in"
	start_rx --out "$WORK/out" --consume-rate 4M || { not_ok "kill (no receiver)"; return; }
	send "$WORK/in" 169.254.77.2 2>"$WORK/send.err" &
	local sp=$!
	# Killed once the connection is up and bytes flow: else a sender that
	# never connected would fail and pass the case.
	if ! wait_connected "$WORK/out"; then
		wait $sp; wait_rx; not_ok "kill: the sender never connected"; return
	fi
	{ kill -9 $RXPID; wait $RXPID; } 2>/dev/null
	RXPID=
	# The next receiver on the same port answers the old connection's
	# retransmissions with a RST: the kernel's sender fails.
	start_rx --out "$WORK/out2" || { not_ok "kill (second receiver did not start)"; return; }
	local st=0
	wait $sp || st=$?
	kill -INT $RXPID
	wait_rx
	# And a new stream to it works.
	if [ $st != 0 ] && stream_case kill-next 169.254.77.2 8M; then
		ok "kill -9 mid-stream: the kernel's sender fails (exit $st); the next run on the port works"
	elif [ $st = 0 ]; then
		not_ok "kill: the sender did not see the connection fail"
	fi
}

case_udp() {
	start_rx --udp --bytes 1120000 || { not_ok "udp (no receiver)"; return; }
	# Resolve the neighbour first: the kernel holds only a few datagrams
	# while it waits for an ARP answer.
	nsx ping -c 1 -W 2 169.254.77.2 >/dev/null
	nsx python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(800):
    s.sendto(bytes([i % 251]) * 1400, ("169.254.77.2", 5201))
    if i % 50 == 0: time.sleep(0.01)'
	wait_rx
	local d
	d=$(grep -o '^UDP: [0-9]* datagrams' "$WORK/rx.log" | awk '{print $2}')
	if [ "${d:-0}" = 800 ]; then
		ok "UDP: all 800 datagrams (1400 bytes each) counted, none lost"
	else
		not_ok "udp: ${d:-0} datagrams"
	fi
}

case_example() {
	if [ -z "${NMT_EXAMPLE:-}" ] || [ ! -x "$NMT_EXAMPLE" ]; then
		N=$((N + 1)); echo "ok $N - example # SKIP NMT_EXAMPLE not given"; return
	fi
	head -c 4M /dev/urandom >"$WORK/in"
	ip netns exec "$NS" timeout 30 "$NMT_EXAMPLE" $TAPIF 169.254.77.2/24 5202 \
		>"$WORK/rx.log" 2>&1 &
	local ep=$!
	sleep 0.3
	send "$WORK/in" 169.254.77.2 5202
	wait $ep
	if grep -q "^received 4194304 bytes" "$WORK/rx.log"; then
		ok "docs/examples/tcp_rx.c receives a 4 MiB stream"
	else
		not_ok "example"
	fi
}

case_ctl() {
	if [ -z "${NMT_CTL:-}" ]; then
		N=$((N + 1)); echo "ok $N - ctl # SKIP NMT_CTL not given"; return
	fi
	head -c 8M /dev/urandom >"$WORK/in"
	start_rx --out "$WORK/out" --consume-rate 4M --ctl-sock "$WORK/ctl.sock" ||
		{ not_ok "ctl (no receiver)"; return; }
	send "$WORK/in" 169.254.77.2 &
	local sp=$! seen=false
	# Asked while the stream runs (8 MiB at 4 MiB/s: two seconds or more);
	# on a loaded machine the connection may take a moment to come up.
	for _ in $(seq 50); do
		sleep 0.2
		"$NMT_CTL" --sock "$WORK/ctl.sock" --json tcp-get >"$WORK/tcp.json" 2>&1 || continue
		if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["connections"]
assert d["stack"]["conns_accepted"] >= 1
assert any(x["state"] == "ESTABLISHED" and x["segs"] > 0 and x["local-port"] == 5201 for x in c)
' "$WORK/tcp.json" 2>/dev/null; then
			seen=true
			break
		fi
	done
	wait $sp
	wait_rx
	if $seen; then
		ok "netmem-ctl tcp-get shows the live connection and its counters"
	else
		sed 's/^/# /' "$WORK/tcp.json" | head -5
		not_ok "ctl: tcp-get"
	fi
}

case_validate() {
	# ncdevmem's -v 7 stream: yes $(echo -e \\x01\\x02\\x03\\x04\\x05\\x06) | head -c 4M
	yes "$(printf '\x01\x02\x03\x04\x05\x06')" | head -c 4M >"$WORK/in"
	stream_case validate 169.254.77.2 0 -v 7 || return
	if ! grep -q "pattern validated" "$WORK/rx.log"; then
		not_ok "validate: no 'pattern validated'"; return
	fi
	# One wrong byte is caught.
	printf '\x09' | dd of="$WORK/in" bs=1 seek=100000 conv=notrunc 2>/dev/null
	start_rx -v 7 || { not_ok "validate (no receiver)"; return; }
	send "$WORK/in" 169.254.77.2
	local rc=0
	wait_rx || rc=$?
	if [ $rc = 1 ] && grep -q "stream byte 100000" "$WORK/rx.log"; then
		ok "-v 7: ncdevmem's pattern validated; a wrong byte at 100000 is named, exit 1"
	else
		not_ok "validate: wrong byte not caught (exit $rc)"
	fi
}

case_bufsize() {
	# A size the TAP queues do not take (a frame must fit one buffer): a
	# clear refusal, nothing started. A size they take: in effect, shown
	# by queue-get, and the stream intact.
	local rc=0
	start_rx --buf-size 1024 && { not_ok "bufsize: --buf-size 1024 accepted"; wait_rx; return; }
	wait_rx || rc=$?
	if [ $rc != 2 ] || ! grep -q "its buffers are 1024 B and the queue takes 2048-65536 B in steps of 256; refused before touching the queue" "$WORK/rx.log"; then
		not_ok "bufsize: --buf-size 1024 not refused clearly (exit $rc)"; return
	fi
	if [ -z "${NMT_CTL:-}" ]; then
		stream_case bufsize 169.254.77.2 8M --buf-size 16384 &&
			ok "--buf-size 1024 refused with the reason; 16384 streams 8 MiB intact"
		return
	fi
	head -c 8M /dev/urandom >"$WORK/in"
	rm -f "$WORK/out"
	start_rx --out "$WORK/out" --buf-size 16384 --consume-rate 4M --ctl-sock "$WORK/ctl.sock" ||
		{ not_ok "bufsize (no receiver)"; return; }
	send "$WORK/in" 169.254.77.2 &
	local sp=$!
	sleep 1
	"$NMT_CTL" --sock "$WORK/ctl.sock" --json queue-get >"$WORK/q.json" 2>&1
	wait $sp
	wait_rx || { not_ok "bufsize (receiver exit $?)"; return; }
	if [ "$(sha "$WORK/in")" = "$(sha "$WORK/out")" ] && python3 -c '
import json, sys
q = {x["index"]: x for x in json.load(open(sys.argv[1]))["devices"][0]["queues"]}
assert q[1]["provider"] == "dmabuf" and q[1]["buf-size"] == 16384, q[1]
assert q[1]["buf-sizes"]["min"] == 2048 and q[1]["restarts"] == 1, q[1]
assert q[0]["buf-size"] == 2048, q[0]
' "$WORK/q.json"; then
		ok "--buf-size 1024 refused with the reason; 16384 in effect (queue-get), 8 MiB intact"
	else
		sed 's/^/# /' "$WORK/q.json" | head -5
		not_ok "bufsize: 16384 not in effect or stream differs"
	fi
}

setup_ns || skip_all "cannot make a namespace with a TAP device here"
for c in $CASES; do
	"case_$c"
done
exit $FAILED
