#!/usr/bin/env bash
# igb guest test: jumbo frames and buffer sizes as a checked capability.
# Port A (the guest kernel's igb) at MTU 9000 streams over TCP (nc) to
# netmem's igb on port B at MTU 9000 with 16 KiB dmabuf buffers:
#   - a bind of 8 KiB buffers (a 9018-byte frame does not fit one) to
#     queue 0 is refused by the restart path before any driver callback:
#     0 callbacks, its restart counter does not move, and it goes on
#     receiving on its host memory (ARP and the handshake land there after)
#   - the 32 MiB nc sent arrive byte for byte (sha256 of --out)
#   - the segments were jumbo: more than 4 KiB of payload per frame on the
#     listen queues, none dropped for spanning descriptors
#   - queue-get (JSON) reports 16384 in effect on the listen queues, what
#     they take (9216 B and up), and 16 KiB default buffers on queue 0
# Usage: jumbo.sh PATH/netmem-rx PATH/netmem-ctl
set -euo pipefail
. "$(dirname "$0")/lib.sh"
igb_reexec --timeout 300 -- "$@"
rx=$1 ctl=$2
need_exe "$rx"
need_exe "$ctl"
command -v nc >/dev/null || fail "nc is not installed (scripts/install-deps.sh base)"
bdf=$NETMEM_GUEST_PORT_B_BDF
a=$NETMEM_GUEST_PORT_A_IF
w=/tmp/jumbo
mkdir -p $w
ip link set "$a" mtu 9000 || fail "port A (kernel igb) refuses MTU 9000"
ip addr add 169.254.10.1/24 dev "$a"
pass "port A: $(ip -o link show "$a" | grep -o 'mtu [0-9]*')"

head -c 32M /dev/urandom >$w/in
cmd=(--dev "igb:$bdf" --mtu 9000 --buf-size 16384 --try-buf-size 8192 --dmabuf udmabuf:64M
	--listen 5201 --listen-queues 1,2 --addr4 169.254.10.2/24 --out $w/out
	--ctl-sock $w/ctl.sock --hold 6)
echo "\$ netmem-rx ${cmd[*]}"
listen_bg $w/rx.log "netmem-rx did not listen" "$rx" "${cmd[@]}"
echo "\$ nc -N -p 40000 169.254.10.2 5201 < 32 MiB"
# Source port fixed, one RSS can steer to a listen queue (see tcp.sh).
nc -N -w 30 -p 40000 169.254.10.2 5201 <$w/in || { kill "$rx_pid" 2>/dev/null; cat $w/rx.log; fail "nc failed"; }
wait_line $w/rx.log '^received ' 60 || { kill "$rx_pid" 2>/dev/null; cat $w/rx.log; fail "no summary"; }
"$ctl" --sock $w/ctl.sock --json queue-get >$w/q.json 2>&1 || { cat $w/q.json; fail "queue-get"; }
rc=0
wait "$rx_pid" || rc=$?
cat $w/rx.log
check "netmem-rx exited 0" test "$rc" = 0

check "8 KiB buffers at MTU 9000 refused before any driver callback, 0 restarts" \
	grep -Eq 'bind 8192-byte buffers to queue 0 \(takes 9216-130048 B in steps of 1024 at MTU 9000\): refused' $w/rx.log
check "  ... with the reason, and nothing ran" \
	grep -q 'its buffers are 8192 B and the queue takes 9216-130048 B in steps of 1024; refused before touching the queue (driver callbacks run: 0, restarts 0 -> 0)' $w/rx.log
check "the 32 MiB nc sent at MTU 9000 arrived byte for byte (sha256 of --out)" \
	test "$(sha256sum <$w/in)" = "$(sha256sum <$w/out)"

# "  queue Q: F frames, S split, P payload bytes, ..., errors dropped E"
read -r frames bytes errs < <(awk '/^  queue [12]:/ { f += $3; p += $7; e += $NF }
	END { print f, p, e }' $w/rx.log)
q0=$(awk '/^  queue 0:/ { print $3 }' $w/rx.log)
check "queue 0 kept receiving after the refusal ($q0 frames: ARP, the handshake)" test "$q0" -ge 2
echo "# listen queues: $frames frames, $bytes payload bytes, $errs dropped for errors"
check "the stream landed on the listen queues" test "$bytes" -ge $((32 << 20))
check "jumbo segments: more than 4096 payload bytes per frame (got $((bytes / (frames ? frames : 1))))" \
	test "$((bytes / frames))" -gt 4096
check "no frame dropped for spanning descriptors or errors" test "$errs" = 0

/usr/bin/python3 - $w/q.json <<'EOF' || fail "queue-get does not report the sizes"
import json, sys
q = {x["index"]: x for x in json.load(open(sys.argv[1]))["devices"][0]["queues"]}
for i in (1, 2):
    assert q[i]["provider"] == "dmabuf" and q[i]["buf-size"] == 16384, q[i]
    assert q[i]["buf-sizes"]["min"] == 9216 and q[i]["buf-sizes"]["max"] == 130048, q[i]
assert q[1]["refused"] == 0 and q[1]["restarts"] == 1, q[1]   # the listener's bind
assert q[0]["provider"] == "host" and q[0]["buf-size"] == 16384, q[0]
assert q[0]["refused"] == 1 and q[0]["restarts"] == 0, q[0]   # the 8 KiB try
for i in (0, 1):
    print("# queue %d:" % i, json.dumps({k: q[i][k] for k in ("provider", "buf-size", "buf-sizes", "restarts", "refused")}))
EOF
pass "queue-get: 16384 in effect on queues 1 and 2 (they take 9216 B and up); queue 0 on 16 KiB host defaults, refused 1, restarts 0"
