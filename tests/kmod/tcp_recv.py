#!/usr/bin/env python3
# A stock TCP receiver (Python's socket module and hashlib, nothing of ours)
# for the kmod TX tests: listens on ADDR:PORT, takes one connection, reads
# until EOF with plain recv() and checks every byte.
#
#   tcp_recv.py ADDR PORT BYTES [--sha256 HEX] [--timeout S]
#   tcp_recv.py --stdin BYTES [--sha256 HEX]
#
# --stdin checks a stream piped in instead (what upstream's ncdevmem prints
# to stdout: every payload byte it read out of its dmabuf).
# Without --sha256 the stream must be tcp_send.py's (byte i is
# block[i % len(block)], the splitmix64 block): each byte is compared at its
# offset, and the sha256 of what came is compared with the sha256 of the
# expected stream, computed here from the block. With --sha256 the bytes
# are anybody's (e.g. what ncdevmem sent from its stdin) and only the count
# and the digest are compared.
#
# Prints "listening ..." once bound, then one "recv: key=value ..." line;
# exit 0 when exactly BYTES came, all as expected, 1 otherwise.
import hashlib
import socket
import sys
import time

from tcp_send import block


def main():
    args = sys.argv[1:]
    want_sha = None
    timeout = 120.0
    if "--sha256" in args:
        i = args.index("--sha256")
        want_sha = args[i + 1]
        del args[i:i + 2]
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    stdin = "--stdin" in args
    if stdin:
        args.remove("--stdin")
    if len(args) != (1 if stdin else 3):
        print("usage: tcp_recv.py ADDR PORT BYTES [--sha256 HEX] [--timeout S]\n"
              "       tcp_recv.py --stdin BYTES [--sha256 HEX]", file=sys.stderr)
        return 2
    total = int(args[-1])

    blk = b"" if want_sha else block()
    if stdin:
        src = sys.stdin.buffer.raw
        recv_into = src.readinto
    else:
        addr, port = args[0], int(args[1])
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, port))
        ls.listen(1)
        ls.settimeout(timeout)
        print(f"listening on {addr}:{port}", flush=True)
        try:
            src, _ = ls.accept()
        except OSError as e:
            print(f"recv: no connection: {e}", flush=True)
            return 1
        ls.close()
        src.settimeout(timeout)
        recv_into = src.recv_into
    got = hashlib.sha256()
    exp = hashlib.sha256()
    n = 0
    mismatches = 0
    first_bad = -1
    t0 = time.monotonic()
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    err = ""
    while True:
        try:
            k = recv_into(buf)
        except OSError as e:
            err = f" error={e.__class__.__name__}"
            break
        if not k:
            break
        chunk = view[:k]
        got.update(chunk)
        if blk:
            # Compare at the stream offset, block by block.
            off = 0
            while off < k:
                at = (n + off) % len(blk)
                m = min(k - off, len(blk) - at)
                want = blk[at:at + m]
                exp.update(want)
                if chunk[off:off + m] != want:
                    for j in range(m):
                        if chunk[off + j] != want[j]:
                            if first_bad < 0:
                                first_bad = n + off + j
                            mismatches += 1
                off += m
        n += k
    secs = time.monotonic() - t0
    src.close()
    if blk:
        # The digest of the expected stream covers what came; a short one fails on n.
        want_sha = exp.hexdigest()
    have = got.hexdigest()
    ok = n == total and mismatches == 0 and have == want_sha and not err
    print(f"recv: bytes={n} expect={total} mismatches={mismatches} first_bad={first_bad} "
          f"sha256={have} expect_sha256={want_sha} secs={secs:.3f}{err} "
          f"result={'ok' if ok else 'FAIL'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
