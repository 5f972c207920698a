#!/usr/bin/env python3
"""The 7.3 receive comparison's section of docs/kmod-compare.md and its plot.

    kmod-rx3-report.py RAW MD SVG

RAW is what tests/kmod/rx3-bench.sh printed in the guest (scripts/kmod-compare.sh
--rx3 keeps it in BUILD/kmod-compare-7.3/rx3-raw.txt). The section goes between
"<!-- rx3 begin -->" and "<!-- rx3 end -->" in MD (appended when absent); the rest
of MD stays as it is.
"""
import html
import statistics
import sys

raw_path, md_path, svg_path = sys.argv[1:]
MODES = [
    ("devmem-4k", "kernel devmem TCP, 4K"),
    ("devmem-32k", "kernel devmem TCP, 32K"),
    ("zcrx-4k", "io_uring zcrx, 4K"),
    ("zcrx-32k", "io_uring zcrx, 32K"),
    ("netmem", "netmem userspace TCP, VFIO igb"),
    ("host", "kernel TCP into host memory"),
]

env, pinning, runs, key, notes = "(no environment line)", "", {}, None, []
for line in open(raw_path, errors="replace"):
    line = line.rstrip("\n")
    if line.startswith("env,"):
        env = line[4:]
    elif line.startswith("pinning,"):
        pinning = line[8:]
    elif line.startswith("rx3,"):
        key = line.split(",")[1]
    elif key and (line.startswith("rx: mode=") or line.startswith("zcrx: mode=")):
        runs.setdefault(key, []).append(dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv))
        key = None
    elif line.startswith("igb-netmem: "):
        notes.append(line)


def num(r, k):
    try:
        return float(r[k])
    except (KeyError, ValueError):
        return None


def med(mode, fn):
    vals = [v for v in (fn(r) for r in runs.get(mode, [])) if v is not None]
    return statistics.median(vals) if vals else None


def gbps(r):
    b, t = num(r, "bytes"), num(r, "secs")
    return b * 8 / t / 1e9 if b and t else None


def per_gib(k):
    return lambda r: (num(r, k) / (num(r, "bytes") / 2**30)
                      if num(r, k) is not None and num(r, "bytes") else None)


def per_mib(k):
    return lambda r: (num(r, k) / (num(r, "bytes") / 2**20)
                      if num(r, k) is not None and num(r, "bytes") else None)


def refills_s(r):
    n = num(r, "refills") if "refills" in r else num(r, "tokens_returned")
    t = num(r, "secs")
    return n / t if n is not None and t else None


def fmt(v, d=2):
    if v is None:
        return "n/a"
    return f"{v:,.{d}f}" if d else f"{v:,.0f}"


present = [(m, label) for m, label in MODES if m in runs]
nrounds = max((len(v) for v in runs.values()), default=0)
base = "devmem-4k"
out = ["<!-- rx3 begin -->",
       "## Linux 7.3: kernel devmem TCP, io_uring zcrx, netmem userspace TCP",
       "",
       f"Measured {env}. Produced by `scripts/kmod-compare.sh --rx3 {nrounds} --stream "
       f"{int(num(runs[present[0][0]][0], 'expect') or 0) >> 20 if present else 0}` "
       "(guest side: `tests/kmod/rx3-bench.sh`). The same stream from a stock sender "
       "(Python sockets, `tests/kmod/tcp_send.py`, behind `nmkp0` in its own namespace) to "
       "queue 1 of the module's NIC `nmk0` (an ntuple rule), received in turn, one round "
       "of every receiver after the other, median of the rounds: the kernel's devmem TCP "
       "(bind-rx of a udmabuf, `recvmsg(MSG_SOCK_DEVMEM)`, tokens back with "
       "`SO_DEVMEM_DONTNEED` every 64 fragments), io_uring zcrx (`netmem-kctl zcrx`: a "
       "udmabuf area, one multishot `RECV_ZC`, buffers back through the refill ring), at "
       "4 KiB and 32 KiB buffers (`rx-page-size` / `rx_buf_len`, a udmabuf on hugetlb "
       "pages; the NIC packs consecutive segments into a large buffer, "
       "[kmod.md](kmod.md#large-rx-buffers-73)), and kernel TCP into host memory "
       "(`recv`). Every byte is checked in every mode. The netmem column is the same "
       "sender and length into netmem's userspace TCP on the guest's igb port over VFIO "
       "(`netmem-rx --listen --pollers 1`, a 16 MiB udmabuf): a different NIC (QEMU's "
       "igb model over its wire), so read it beside, not against, the module NIC's "
       "columns. The module's NIC places payload by CPU copy (no DMA engine), in every "
       f"module NIC column alike. Pinning: {pinning or 'not recorded'}. CPU is busy "
       "time per GiB received: of the whole guest (2 vCPUs: sender, softirq, receiver) "
       "and of the receiving process. Syscalls: the receiver's data path (devmem: "
       "`recvmsg`, `SO_DEVMEM_DONTNEED`, the `DMA_BUF_IOCTL_SYNC` pair around each "
       "`recvmsg`; zcrx: `io_uring_enter`, the sync pair per reap, event re-arms; host: "
       "`recv`), counted by the receiver itself. Under TCG on a shared host, read "
       "ratios within a row, not absolutes.",
       ""]
hdr = "| figure | " + " | ".join(label for _, label in present) + " |"
out += [hdr, "|---" * (len(present) + 1) + "|"]


def row(label, fn, d=2, only=None, ratio=False):
    cells = []
    b = med(base, fn)
    for m, _ in present:
        v = med(m, fn) if only is None or m in only else None
        c = fmt(v, d)
        if ratio and v is not None and b and m != base:
            c += f" ({v / b:.2f}x)"
        cells.append(c)
    out.append(f"| {label} | " + " | ".join(cells) + " |")


module = [m for m, _ in MODES if m != "netmem"]
row("throughput, Gbit/s (x kernel devmem 4K)", gbps, 2, ratio=True)
row("CPU s per GiB, whole guest (x kernel devmem 4K)", per_gib("cpu_all_s"), 2, ratio=True)
row("CPU s per GiB, receiving process", per_gib("cpu_self_s"), 2)
row("buffers given back per second (tokens / refill entries)", refills_s, 0,
    only=["devmem-4k", "devmem-32k", "zcrx-4k", "zcrx-32k"])
row("receiver syscalls per GiB", per_gib("syscalls"), 0, only=module)
row("NIC buffers consumed per MiB (ring refills)", per_mib("q_ring_allocs"), 1, only=module)
row("payload copied by the kernel (copy fallbacks / linear bytes / recv), per MiB",
    lambda r: (num(r, "copy_bytes") if "copy_bytes" in r else
               num(r, "linear_bytes") if "linear_bytes" in r else None) / (num(r, "bytes") / 2**20)
    if num(r, "bytes") and (("copy_bytes" in r) or ("linear_bytes" in r)) else None,
    0, only=["devmem-4k", "devmem-32k", "zcrx-4k", "zcrx-32k"])
out.append("")
out.append("Host memory is copied by `recv` (all of it), so the last row is n/a there; "
           "netmem's poll-mode receiver counts no syscalls of its own and spins while it "
           "waits (its CPU is spent whether data comes or not).")
if notes:
    out.append("")
    out += [f"- {html.escape(n)}" for n in notes]
out += ["", "![7.3 receive comparison: throughput and CPU per GiB](kmod-rx3.svg)", "",
        "<!-- rx3 end -->"]
section = "\n".join(out) + "\n"

try:
    doc = open(md_path).read()
except OSError:
    doc = ""
if "<!-- rx3 begin -->" in doc and "<!-- rx3 end -->" in doc:
    a = doc.index("<!-- rx3 begin -->")
    b = doc.index("<!-- rx3 end -->") + len("<!-- rx3 end -->\n")
    doc = doc[:a] + section + doc[b:]
else:
    doc = doc.rstrip("\n") + "\n\n" + section
open(md_path, "w").write(doc)

# The plot: two bar panels (Gbit/s, whole-guest CPU s/GiB), one bar per receiver.
W, H, L, T, PW, PH = 900, 360, 60, 50, 360, 220
colors = ["#4c72b0", "#8172b2", "#dd8452", "#c44e52", "#55a868", "#937860"]
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">Linux 7.3, one stream, '
       f'median of {nrounds} rounds (TCG guest)</text>']
for p, (title, fn) in enumerate([("throughput, Gbit/s", gbps),
                                 ("CPU s per GiB, whole guest", per_gib("cpu_all_s"))]):
    x0 = L + p * (PW + 80)
    vals = [med(m, fn) for m, _ in present]
    top = max([v for v in vals if v is not None] or [1]) * 1.15
    svg.append(f'<text x="{x0 + PW / 2}" y="{T - 10}" text-anchor="middle">{title}</text>')
    svg.append(f'<line x1="{x0}" y1="{T + PH}" x2="{x0 + PW}" y2="{T + PH}" stroke="black"/>')
    svg.append(f'<line x1="{x0}" y1="{T}" x2="{x0}" y2="{T + PH}" stroke="black"/>')
    for i in range(6):
        v = top * i / 5
        y = T + PH - PH * i / 5
        svg.append(f'<text x="{x0 - 5}" y="{y + 4}" text-anchor="end">{v:.2f}</text>')
    bw = PW / max(len(present), 1)
    for i, ((m, label), v) in enumerate(zip(present, vals)):
        if v is None:
            continue
        h = PH * v / top
        x = x0 + i * bw + 4
        svg.append(f'<rect x="{x:.1f}" y="{T + PH - h:.1f}" width="{bw - 8:.1f}" height="{h:.1f}" '
                   f'fill="{colors[i % len(colors)]}"><title>{html.escape(label)}: {v:.3f}</title></rect>')
        svg.append(f'<text x="{x + (bw - 8) / 2:.1f}" y="{T + PH - h - 4:.1f}" text-anchor="middle">{v:.2f}</text>')
for i, (m, label) in enumerate(present):
    y = T + PH + 30 + (i // 3) * 18
    x = L + (i % 3) * 280
    svg.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colors[i % len(colors)]}"/>')
    svg.append(f'<text x="{x + 14}" y="{y}">{html.escape(label)}</text>')
svg.append("</svg>")
open(svg_path, "w").write("\n".join(svg) + "\n")
