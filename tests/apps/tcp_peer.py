#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Stock-kernel peers for the relay tests: a sender, a kernel receiver,
sequential connections, and hostile peers (spoofed SYNs, 1-byte segments
in order and out of order) written as raw frames with AF_PACKET.

Every command is bounded (a deadline) and prints one summary line that
the shell tests parse; exit 0 means what it says in the summary, 1 an
error that the line names.
"""
import argparse
import hashlib
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time


def summary(*words):
    print(" ".join(str(w) for w in words), flush=True)


# --- a sender and a receiver, the kernel's TCP ---------------------------

def acked(s):
    """Data bytes the peer has acknowledged (tcp_info's tcpi_bytes_acked,
    at offset 120, less the SYN); -1 when unknown."""
    try:
        ti = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    except OSError:
        return -1
    if len(ti) < 128:
        return -1
    return max(0, struct.unpack_from("=Q", ti, 120)[0] - 1)


def tcpi_line(s):
    """The sender's view of the stream from tcp_info (Linux >= 6.2
    layout): where its time went (busy, limited by the receiver's window,
    by its own buffer), what it retransmitted and how the window ended."""
    try:
        ti = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    except OSError:
        return "send: tcpi unknown"
    if len(ti) < 232:
        return "send: tcpi unknown (short tcp_info)"
    u32 = lambda o: struct.unpack_from("=I", ti, o)[0]
    u64 = lambda o: struct.unpack_from("=Q", ti, o)[0]
    return ("send: tcpi busy_us %d rwnd_limited_us %d sndbuf_limited_us %d "
            "retrans %d dsack_dups %d reord_seen %d cwnd %d ssthresh %d "
            "rtt_us %d snd_wnd %d data_segs_out %d" %
            (u64(168), u64(176), u64(184), u32(100), u32(216), u32(220),
             u32(80), u32(76), u32(68), u32(228), u32(156)))


def cmd_send(a):
    """Connect, send FILE, shut down, wait for the peer's FIN.

    Exit 0 only when every byte was handed to the kernel and the peer
    closed cleanly (recv() == b''): a sender that exits 0 believes its
    bytes landed."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    if a.nodelay:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        s.connect((a.host, a.port))
        t_conn = time.monotonic()
        with open(a.file, "rb") as f:
            s.sendfile(f)
        t_sent = time.monotonic()
        # Every byte acknowledged: the stream's own time, whatever the FIN does.
        size = os.path.getsize(a.file)
        while acked(s) < size and time.monotonic() - t_sent < a.timeout:
            time.sleep(0.0005)
        t_acked = time.monotonic()
        summary("send: acked_all %.4f" % (t_acked - t0))
        summary(tcpi_line(s))
        s.shutdown(socket.SHUT_WR)
        while True:
            b = s.recv(65536)
            if not b:
                break
        t_fin = time.monotonic()
    except Exception as e:  # the line names what happened
        summary("send: error", type(e).__name__, str(e).replace("\n", " "),
                "after %.3f s, acked %d" % (time.monotonic() - t0, acked(s)))
        return 1
    finally:
        s.close()
    summary("send: ok bytes", os.path.getsize(a.file),
            "connect %.4f total %.4f acked_all %.4f fin_after %.4f" %
            (t_conn - t0, t_fin - t0, t_acked - t0, t_fin - t_sent))
    return 0


def cmd_sink(a):
    """The kernel as the receiver: accept N connections one at a time,
    write each to OUT (OUT.I for I > 0), close (our FIN) at its end."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(128)
    ls.settimeout(a.timeout)
    summary("listening", a.addr, a.port)
    t0 = None
    total = 0
    for i in range(a.connections):
        try:
            c, peer = ls.accept()
        except socket.timeout:
            summary("sink: error no connection", i)
            return 1
        c.settimeout(a.timeout)
        t0 = t0 or time.monotonic()
        path = a.out if i == 0 else "%s.%d" % (a.out, i)
        buf = bytearray(1 << 20)
        with open(path, "wb") as f:
            while True:
                n = c.recv_into(buf)
                if not n:
                    break
                f.write(buf[:n])
                total += n
        c.close()
    summary("sink: received", total, "bytes in %.4f s" % (time.monotonic() - t0))
    return 0


def cmd_msink(a):
    """The kernel as the receiver of N connections at once (select), each
    read as it has data and written to OUT.I (I in accept order), closed at
    its end: the kernel's answer to peers that share its listener, as
    netmem-rx reads all of its connections at once."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(128)
    ls.setblocking(False)
    summary("listening", a.addr, a.port)
    socks, files, accepted, done = {}, {}, 0, 0
    buf = bytearray(1 << 20)
    end = time.monotonic() + a.timeout
    while done < a.connections:
        if time.monotonic() > end:
            summary("msink: error timeout with", done, "of", a.connections, "ended")
            return 1
        r, _, _ = select.select([ls] + list(socks), [], [], 0.5)
        for s in r:
            if s is ls:
                c, _ = ls.accept()
                c.setblocking(False)
                files[c] = open("%s.%d" % (a.out, accepted), "wb")
                socks[c] = accepted
                accepted += 1
                continue
            try:
                n = s.recv_into(buf)
            except BlockingIOError:
                continue
            if n:
                files[s].write(buf[:n])
                continue
            files.pop(s).close()
            del socks[s]
            s.close()
            done += 1
    summary("msink: done", done)
    return 0


def cmd_seq(a):
    """N sequential connections of SIZE bytes each (their data in
    DIR/in.I); for each, the time from its last byte handed over to the
    peer's FIN. All of it within DEADLINE seconds (the rest are errors)."""
    lat = []
    errors = 0
    end = time.monotonic() + a.deadline
    for i in range(a.count):
        if time.monotonic() > end:
            summary("seq: deadline of %g s passed at connection %d" % (a.deadline, i))
            errors += a.count - i
            lat += [float("inf")] * (a.count - i)
            break
        data = random.Random(i).randbytes(a.size)
        with open(os.path.join(a.dir, "in.%d" % i), "wb") as f:
            f.write(data)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        try:
            s.connect((a.host, a.port))
            s.sendall(data)
            t = time.monotonic()
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
            lat.append(time.monotonic() - t)
        except Exception as e:
            summary("seq: connection", i, "error", type(e).__name__, e)
            errors += 1
            lat.append(float("inf"))
        finally:
            s.close()
    worst = max(lat) if lat else 0
    slow = sum(1 for x in lat if x > a.limit)
    summary("seq: connections", a.count, "errors", errors, "over_limit", slow,
            "worst_fin_after %.4f" % worst, "median %.4f" % sorted(lat)[len(lat) // 2])
    return 0 if errors == 0 else 1


def cmd_tiny(a):
    """CONNS connections writing 1 byte at a time (TCP_NODELAY; run it with
    net.ipv4.tcp_autocorking=0) until STOPFILE appears or the deadline."""
    socks = []
    for _ in range(a.conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(5)
        s.connect((a.host, a.port))
        s.setblocking(False)
        socks.append(s)
    summary("tiny: connected", len(socks))
    sent = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end and not os.path.exists(a.stopfile):
        _, w, _ = select.select([], socks, [], 0.05)
        for s in w:
            try:
                sent += s.send(b"x")
            except BlockingIOError:
                pass
    for s in socks:
        s.setblocking(True)
        s.settimeout(5)
        try:
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
        except Exception:
            pass
        s.close()
    summary("tiny: bytes", sent)
    return 0


# --- raw frames ----------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def mac_of(ifname):
    with open("/sys/class/net/%s/address" % ifname) as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def neigh_mac(ifname, ip):
    """The peer's MAC, resolved by the kernel (a ping first if needed)."""
    for attempt in range(2):
        out = subprocess.run(["ip", "neigh", "show", "dev", ifname, ip],
                             capture_output=True, text=True).stdout
        if "lladdr" in out:
            return bytes.fromhex(out.split("lladdr")[1].split()[0].replace(":", ""))
        subprocess.run(["ping", "-c", "1", "-W", "2", ip], capture_output=True)
    raise SystemExit("no neighbour entry for %s on %s" % (ip, ifname))


def tcp_frame(mac_dst, mac_src, src, dst, sport, dport, seq, ack, flags, win,
              payload=b"", opts=b"", ipid=0):
    off = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      off << 4, flags, win, 0, 0) + opts + payload
    ph = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid & 0xffff, 0x4000,
                     64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return mac_dst + mac_src + b"\x08\x00" + ip + tcp


def cmd_synflood(a):
    """COUNT SYNs from random sources in the /24 of DST (never DST or the
    sender's own address: nobody answers the SYN-ACKs), at most RATE/s."""
    rnd = random.Random(a.seed)
    mac_src = mac_of(a.ifname)
    mac_dst = neigh_mac(a.ifname, a.dst)
    dst = socket.inet_aton(a.dst)
    net = a.dst.rsplit(".", 1)[0]
    own = {a.dst, a.avoid}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.ifname, 0))
    t0 = time.monotonic()
    sent = 0
    for i in range(a.count):
        while True:
            src_ip = "%s.%d" % (net, rnd.randrange(3, 255))
            if src_ip not in own:
                break
        mss = struct.pack("!BBH", 2, 4, 1460)
        f = tcp_frame(mac_dst, mac_src, socket.inet_aton(src_ip), dst,
                      rnd.randrange(1024, 65535), a.port, rnd.getrandbits(32), 0,
                      0x02, 64240, opts=mss, ipid=i)
        try:
            s.send(f)
            sent += 1
        except OSError:
            time.sleep(0.001)
        if a.rate and sent % 100 == 0:
            ahead = sent / a.rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    summary("synflood: sent", sent, "in %.3f s" % (time.monotonic() - t0))
    return 0


class RawPeer:
    """A TCP peer of our own on a spoofed address: handshake, 1-byte
    segments anywhere in the window, then the holes and a FIN."""

    def __init__(self, sock, mac_src, mac_dst, src, dst, port, sport):
        self.s, self.mac_src, self.mac_dst = sock, mac_src, mac_dst
        self.src, self.dst, self.port, self.sport = src, dst, port, sport
        self.iss = random.getrandbits(32)
        self.rcv = None  # the receiver's next sequence number

    def frame(self, seq, flags, payload=b"", opts=b""):
        return tcp_frame(self.mac_dst, self.mac_src, self.src, self.dst, self.sport,
                         self.port, seq, self.rcv or 0, flags, 65535, payload, opts)

    def send(self, seq, flags, payload=b"", opts=b""):
        self.s.send(self.frame(seq, flags, payload, opts))


def answer_arp(s, frame, mine, mac):
    """ARP requests for our spoofed addresses get our MAC."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x06" or frame[20:22] != b"\x00\x01":
        return
    if frame[38:42] not in mine:
        return
    rep = (frame[6:12] + mac + b"\x08\x06" + frame[14:20] + b"\x00\x02" + mac +
           frame[38:42] + frame[22:28] + frame[28:32])
    s.send(rep)


def cmd_ooo(a):
    """CONNS raw connections from spoofed addresses (SRC_BASE + i), each
    sending SEGS 1-byte segments that leave a hole before every one, held
    until STOPFILE appears (or the deadline), then the holes and a FIN."""
    mac_src = mac_of(a.ifname)
    mac_dst = neigh_mac(a.ifname, a.dst)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((a.ifname, 0))
    s.settimeout(0.05)
    dst = socket.inet_aton(a.dst)
    base = a.src_base.rsplit(".", 1)
    peers = {}
    for i in range(a.conns):
        src = socket.inet_aton("%s.%d" % (base[0], int(base[1]) + i))
        p = RawPeer(s, mac_src, mac_dst, src, dst, a.port, 40000 + i)
        peers[(src, p.sport)] = p
    mine = {src for src, _ in peers}

    def pump(until, want=None):
        """Read frames until the deadline or want() holds; answer ARP and
        note each peer's SYN-ACK."""
        while time.monotonic() < until and not (want and want()):
            try:
                f = s.recv(65536)
            except socket.timeout:
                continue
            answer_arp(s, f, mine, mac_src)
            if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6:
                continue
            ihl = (f[14] & 15) * 4
            t = f[14 + ihl:]
            key = (f[30:34], struct.unpack("!H", t[2:4])[0])
            p = peers.get(key)
            if p and t[13] & 0x12 == 0x12 and p.rcv is None:
                p.rcv = (struct.unpack("!I", t[4:8])[0] + 1) & 0xffffffff

    mss = struct.pack("!BBH", 2, 4, 1460)
    for p in peers.values():
        p.send(p.iss, 0x02, opts=mss)
    pump(time.monotonic() + 3, lambda: all(p.rcv is not None for p in peers.values()))
    up = [p for p in peers.values() if p.rcv is not None]
    for p in up:
        p.send(p.iss + 1, 0x10)
    summary("ooo: connected", len(up), "of", len(peers))
    # Byte k of each stream is chr(k % 26 + 'a'); odd offsets go first.
    data = bytes(ord("a") + k % 26 for k in range(2 * a.segs))
    end = time.monotonic() + a.seconds
    sent = 0
    while time.monotonic() < end and not os.path.exists(a.stopfile):
        for p in up:
            for k in range(1, 2 * a.segs, 2):
                p.send(p.iss + 1 + k, 0x10, data[k:k + 1])
                sent += 1
        pump(time.monotonic() + 0.5)
    for p in up:
        for k in range(0, 2 * a.segs, 2):
            p.send(p.iss + 1 + k, 0x10, data[k:k + 1])
        p.send(p.iss + 1 + 2 * a.segs, 0x11)
    pump(time.monotonic() + 0.5)
    for p in up:  # whatever state it is in, the receiver may drop it now
        p.send(p.iss + 2 + 2 * a.segs, 0x04)
    summary("ooo: segments", sent)
    return 0 if up else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("send")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("file")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--nodelay", action="store_true")
    p = sub.add_parser("sink")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("out")
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    p = sub.add_parser("msink")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("out")
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    p = sub.add_parser("seq")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("dir")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--size", type=int, default=16384)
    p.add_argument("--limit", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=5)
    p.add_argument("--deadline", type=float, default=30)
    p = sub.add_parser("tiny")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--stopfile", default="/nonexistent")
    p = sub.add_parser("synflood")
    p.add_argument("ifname")
    p.add_argument("dst")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--avoid", default="")
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("ooo")
    p.add_argument("ifname")
    p.add_argument("dst")
    p.add_argument("port", type=int)
    p.add_argument("--src-base", required=True)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--segs", type=int, default=256)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--stopfile", default="/nonexistent")
    a = ap.parse_args()
    return globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
