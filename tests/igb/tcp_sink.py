#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The kernel's own TCP receive into host memory: the baseline netmem's
userspace devmem TCP is measured against. Accepts one connection, recv()s
into one reused buffer until the peer closes, prints one line:

  bytes=N secs=S cpu_user=U cpu_sys=Y [sha256=HEX]

Usage: tcp_sink.py [--addr A] --port P [--sha256] [--ready FILE]
"""
import argparse
import hashlib
import resource
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="::")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sha256", action="store_true")
    ap.add_argument("--ready", help="touch this file once listening")
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()

    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    if a.ready:
        open(a.ready, "w").close()
    c, _ = ls.accept()
    c.settimeout(a.timeout)
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    h = hashlib.sha256() if a.sha256 else None
    total = 0
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = None
    while True:
        n = c.recv_into(view)
        if not n:
            break
        if t0 is None:
            t0 = time.monotonic()
        total += n
        if h:
            h.update(view[:n])
    t1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    line = "bytes=%d secs=%.6f cpu_user=%.6f cpu_sys=%.6f" % (
        total, t1 - (t0 or t1), r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime)
    if h:
        line += " sha256=" + h.hexdigest()
    print(line, flush=True)


if __name__ == "__main__":
    main()
