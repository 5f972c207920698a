#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# TCP receive on this machine, three receivers of the same stream from the
# host kernel's TCP (a Python sendfile() of a file in /dev/shm):
#   kernel, offloads off  tcp-sink (recv() into 1 MiB) on a veth pair with
#                         rx/tx checksum, TSO, GSO, GRO off on both ends
#   kernel, defaults      the same on a veth pair left as the kernel makes it
#   netmem on TAP         netmem-rx --dev tap: (one poller, payload into a
#                         memfd dmabuf, tokens back through the refill ring),
#                         the TAP's checksum and TSO offloads on (TSO frames
#                         cut into segments by the TAP NIC, checksums the
#                         kernel vouched for not checked again)
#   netmem, no offloads   the same with --dev tap:IF,no-offload: MTU frames,
#                         one read() each, every checksum checked by us
# Each in its own network namespaces, made here and deleted after. Sender
# pinned to CPU 0, receiver to CPU 1 (taskset). Trials take turns (kernel
# off, kernel default, netmem, netmem without offloads, again...); medians
# of TRIALS.
#
# CPU per GiB is both sides' (sender + receiver) user + system time over the
# transfer: the receiver's from its /proc/PID/stat just before the sender
# connects to wait4() when it exits (netmem's poller spins while it waits
# for a connection; that wait is left out), the sender's own getrusage from
# connect to the receiver's FIN. On a veth much of the
# kernel receiver's work runs in the sender's softirq, charged to the sender,
# so only the sum compares. Softirq time in ksoftirqd is charged to neither.
#
# usage: scripts/tcp-tap-bench.sh [BUILD_DIR [MIB [TRIALS]]]   (root; ethtool)
set -euo pipefail
build=${1:-build} mib=${2:-256} trials=${3:-5}
rx=$build/apps/netmem-rx sink=$build/tests/igb/tcp-sink
[ "$(id -u)" = 0 ] || { echo "tcp-tap-bench: needs root (namespaces, TAP)" >&2; exit 2; }
[ -c /dev/net/tun ] || { echo "tcp-tap-bench: no /dev/net/tun" >&2; exit 2; }
command -v ethtool >/dev/null || { echo "tcp-tap-bench: needs ethtool (apt-get install ethtool)" >&2; exit 2; }
for f in "$rx" "$sink"; do
	[ -x "$f" ] || { echo "tcp-tap-bench: $f not built (ninja -C $build)" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "tcp-tap-bench: needs 2 CPUs to pin sender and receiver apart" >&2; exit 2; }

exec python3 - "$rx" "$sink" "$mib" "$trials" <<'EOF'
import os, re, statistics, subprocess, sys, time

rx, sink, mib, trials = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tag = str(os.getpid())
NS = {"tap": "nmtb-tap-" + tag, "s_off": "nmtb-so-" + tag, "r_off": "nmtb-ro-" + tag,
      "s_def": "nmtb-sd-" + tag, "r_def": "nmtb-rd-" + tag}
work = "/dev/shm/nmtb-" + tag
stream = work + "/stream.bin"
size = mib << 20
SEND_CPU, RECV_CPU = 0, 1


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True).stdout


def nsx(ns, *cmd, check=True):
    return sh("ip", "netns", "exec", ns, *cmd, check=check)


def cleanup():
    for ns in NS.values():
        sh("ip", "netns", "del", ns, check=False)
    sh("rm", "-rf", work, check=False)


def veth(s, r, prefix, offloads_off):
    for ns in (s, r):
        sh("ip", "netns", "add", ns)
        nsx(ns, "ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", "nmtb" + tag[-4:], "netns", s, "type", "veth",
       "peer", "name", "nmtbp" + tag[-4:], "netns", r)
    for ns, dev, addr in ((s, "nmtb" + tag[-4:], prefix + ".1/24"),
                          (r, "nmtbp" + tag[-4:], prefix + ".2/24")):
        nsx(ns, "ip", "link", "set", dev, "name", "veth0")
        if offloads_off:
            nsx(ns, "ethtool", "-K", "veth0", "rx", "off", "tx", "off", "tso", "off",
                "gso", "off", "gro", "off")
        nsx(ns, "ip", "addr", "add", addr, "dev", "veth0")
        nsx(ns, "ip", "link", "set", "veth0", "up")


def setup():
    cleanup()
    os.makedirs(work)
    with open(stream, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
    sh("ip", "netns", "add", NS["tap"])
    nsx(NS["tap"], "ip", "link", "set", "lo", "up")
    nsx(NS["tap"], "ip", "tuntap", "add", "dev", "nmtap0", "mode", "tap")
    nsx(NS["tap"], "ip", "link", "set", "nmtap0", "up")
    nsx(NS["tap"], "ip", "addr", "add", "169.254.78.1/24", "dev", "nmtap0")
    veth(NS["s_off"], NS["r_off"], "169.254.79", True)
    veth(NS["s_def"], NS["r_def"], "169.254.80", False)


SENDER = r'''
import json, os, resource, socket, sys, time
path, host, rpid = sys.argv[1], sys.argv[2], sys.argv[3]
with open("/proc/%s/stat" % rpid) as f:  # the receiver's CPU so far
    st = f.read().rsplit(")", 1)[1].split()
tck = os.sysconf("SC_CLK_TCK")
rcv0 = [int(st[11]) / tck, int(st[12]) / tck]
r0 = resource.getrusage(resource.RUSAGE_SELF)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(60)
t0 = time.monotonic()
s.connect((host, 5201))
with open(path, "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
s.recv(1)  # the receiver's FIN: every byte is acknowledged
t1 = time.monotonic()
s.close()
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"secs": t1 - t0, "rcv0": rcv0,
                  "cpu": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)}))
'''


def trial(kind):
    if kind.startswith("netmem"):
        ns_r, ns_s, host = NS["tap"], NS["tap"], "169.254.78.2"
        dev = "tap:nmtap0" + (",no-offload" if kind == "netmem-plain" else "")
        cmd = [rx, "--dmabuf", "memfd:64M", "--dev", dev, "--addr4", "169.254.78.2/24",
               "--listen", "5201", "--pollers", "1", "--timeout", "30", "--quiet"]
    else:
        ns_s, ns_r = (NS["s_off"], NS["r_off"]) if kind == "kernel-off" else (NS["s_def"], NS["r_def"])
        host = "169.254.79.2" if kind == "kernel-off" else "169.254.80.2"
        ready_file = work + "/ready"
        if os.path.exists(ready_file):
            os.unlink(ready_file)
        cmd = [sink, host, "5201", ready_file]
    log = open(work + "/rx.log", "w+")
    # ip netns exec and taskset exec: the pid is the receiver's own.
    p = subprocess.Popen(["ip", "netns", "exec", ns_r, "taskset", "-c", str(RECV_CPU)] + cmd,
                         stdout=log, stderr=subprocess.STDOUT)
    for _ in range(400):
        log.seek(0)
        if kind.startswith("netmem") and re.search(r"^listening", log.read(), re.M):
            break
        if not kind.startswith("netmem") and os.path.exists(ready_file):
            break
        if p.poll() is not None:
            break
        time.sleep(0.025)
    else:
        p.kill()
        raise SystemExit("tcp-tap-bench: %s receiver did not start" % kind)
    try:
        out = nsx(ns_s, "taskset", "-c", str(SEND_CPU), "python3", "-c", SENDER, stream, host,
                  str(p.pid))
    except subprocess.CalledProcessError as e:
        p.kill()  # a sink would wait in accept() for good
        p.wait()
        raise SystemExit("tcp-tap-bench: %s: the sender failed:\n%s" % (kind, e.stdout))
    _, status, ru = os.wait4(p.pid, 0)
    log.seek(0)
    text = log.read()
    if status:
        raise SystemExit("tcp-tap-bench: %s receiver failed (%d):\n%s" % (kind, status, text))
    snd = __import__("json").loads(out.strip().splitlines()[-1])
    # From the sender's connect to the receiver's exit.
    ru_user, ru_sys = ru.ru_utime - snd["rcv0"][0], ru.ru_stime - snd["rcv0"][1]
    rcpu = ru_user + ru_sys
    if not kind.startswith("netmem"):
        got = int(re.search(r"bytes=(\d+)", text).group(1))
    else:
        m = re.search(r"(\d+) bytes", text)
        got = int(m.group(1)) if m else -1
    if got != size:
        raise SystemExit("tcp-tap-bench: %s received %d of %d bytes:\n%s" % (kind, got, size, text))
    gib = size / (1 << 30)
    return {"gbps": size * 8 / snd["secs"] / 1e9, "snd": snd["cpu"] / gib, "rcv": rcpu / gib,
            "cpu": (snd["cpu"] + rcpu) / gib, "rusr": ru_user / gib, "rsys": ru_sys / gib}


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


try:
    setup()
    model = re.search(r"Model name:\s*(.*)", sh("lscpu")).group(1).strip()
    print("TCP receive of a %d MiB stream from the host kernel (sender pinned to CPU %d, "
          "receiver to CPU %d), median of %d, in turns" % (mib, SEND_CPU, RECV_CPU, trials))
    print("CPU: %s, %d online; load average at start: %s" % (model, os.cpu_count(), load()))
    kinds = ["kernel-off", "kernel-default", "netmem", "netmem-plain"]
    res = {k: [] for k in kinds}
    for t in range(trials):
        for k in kinds:
            r = trial(k)
            res[k].append(r)
            print("  trial %d %-15s %7.3f Gbit/s  CPU s/GiB %6.2f (sender %5.2f, receiver %5.2f: "
                  "user %5.2f, sys %5.2f)" % (t + 1, k, r["gbps"], r["cpu"], r["snd"], r["rcv"],
                                              r["rusr"], r["rsys"]), flush=True)
    med = {k: {f: statistics.median(r[f] for r in res[k])
               for f in ("gbps", "cpu", "snd", "rcv", "rusr", "rsys")} for k in kinds}
    names = {"kernel-off": "kernel TCP, veth, csum/TSO/GSO/GRO off",
             "kernel-default": "kernel TCP, veth, default offloads",
             "netmem": "netmem TCP on TAP, into memfd dmabuf",
             "netmem-plain": "netmem, TAP without offloads"}
    print("  %-40s %8s %10s %8s %9s %6s %6s" % ("receiver (median)", "Gbit/s", "CPU s/GiB",
                                               "sender", "receiver", "user", "sys"))
    for k in kinds:
        print("  %-40s %8.3f %10.2f %8.2f %9.2f %6.2f %6.2f" %
              (names[k], med[k]["gbps"], med[k]["cpu"], med[k]["snd"], med[k]["rcv"],
               med[k]["rusr"], med[k]["rsys"]))
    for nm in ("netmem", "netmem-plain"):
        for base in ("kernel-off", "kernel-default"):
            print("ratio %s/%s: throughput %.2f, CPU per GiB %.2f" %
                  (nm, base, med[nm]["gbps"] / med[base]["gbps"], med[nm]["cpu"] / med[base]["cpu"]))
    print("load average at end: %s" % load())
finally:
    cleanup()
EOF
