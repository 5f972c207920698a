#!/usr/bin/env python3
# A stock TCP sender (Python's socket module, nothing of ours) for the kmod
# stream tests: connects to HOST:PORT and sends BYTES of the stream that
# netmem-kctl rx checks byte for byte (apps/netmem-kctl/rx.c, pattern_fill):
# byte i is block[i % len(block)], word k of the block splitmix64's k-th
# output, little-endian, 131071 words.
#
#   tcp_send.py HOST PORT BYTES [--tries N] [--src-port P]
#
# --src-port binds the source port first (upstream's ncdevmem steers its flow
# with a rule on the source port too: the port it listens on).
# Prints "sent BYTES bytes in SECONDS s"; exit 0 when every byte was sent
# and the receiver closed, 1 otherwise.
import socket
import struct
import sys
import time

M = (1 << 64) - 1
WORDS = 131071


def block():
    out = bytearray()
    x = 0
    pack = struct.Struct("<Q").pack
    for _ in range(WORDS):
        x = (x + 0x9E3779B97F4A7C15) & M
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        out += pack(z ^ (z >> 31))
    return bytes(out)


def main():
    if len(sys.argv) < 4:
        print(__doc__ or "usage: tcp_send.py HOST PORT BYTES [--tries N]", file=sys.stderr)
        return 2
    host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    opts = dict(zip(sys.argv[4::2], sys.argv[5::2]))
    tries = int(opts.get("--tries", 50))
    src = ("", int(opts["--src-port"])) if "--src-port" in opts else None
    blk = block()
    twice = memoryview(blk + blk)
    s = None
    for _ in range(tries):
        try:
            s = socket.create_connection((host, port), timeout=10, source_address=src)
            break
        except OSError:
            time.sleep(0.2)
    if s is None:
        print(f"tcp_send: cannot connect to {host}:{port}", file=sys.stderr)
        return 1
    s.settimeout(120)
    t0 = time.monotonic()
    sent = 0
    chunk = 256 * 1024
    while sent < total:
        at = sent % len(blk)
        n = min(chunk, total - sent, len(blk))
        s.sendall(twice[at:at + n])
        sent += n
    s.shutdown(socket.SHUT_WR)
    # The receiver closes once it has everything.
    while s.recv(4096):
        pass
    s.close()
    print(f"sent {sent} bytes in {time.monotonic() - t0:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
