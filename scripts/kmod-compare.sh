#!/usr/bin/env bash
# The comparison: userspace (libnetmem) vs the kernel module's provider vs
# the kernel's own devmem, same udmabuf and sizes, in one boot of the test
# guest. Writes a table (docs/kmod-compare.md) and a plot (docs/kmod-compare.svg).
#
#   scripts/kmod-compare.sh [--kernel 6.12|7.3] [--build DIR] [--sizes "4 16 64"] [--reps N] [--out DIR]
#
#   --kernel K    the guest kernel (default 6.12; or NETMEM_GUEST_KERNEL_SERIES):
#                 the module is built against its headers and the guest boots it
#   --build DIR   meson build directory (default: build); netmem-kctl and
#                 netmem-bench are taken from it when built, the module is
#                 built into DIR/kmod-compare
#   --sizes LIST  dmabuf sizes in MiB (default "4 16 64"); the middle one is
#                 the table's reference size
#   --reps N      bind/unbind repetitions per size, median reported (default 5)
#   --out DIR     where the table and the plot go (default: docs)
#   --stream MIB  TCP stream length for the stream comparison (default 64;
#                 0 skips it): kernel devmem TCP vs kernel TCP into host
#                 memory on the module's NIC, at each udmabuf size
#   --stream-reps N  streams per mode and size, median reported (default 3)
#                 The TX row (7.3: devmem TX vs plain send from nmk0,
#                 tests/kmod/tx-bench.sh) uses the same length and count.
#   --from RAW    write the report from an earlier run's raw output
#                 (DIR/kmod-compare/raw.txt) without booting the guest
#   --rx3 ROUNDS  instead: the 7.3 receive comparison (kernel devmem TCP 4K/32K,
#                 io_uring zcrx 4K/32K, kernel TCP into host memory on the
#                 module's NIC, netmem userspace TCP on the VFIO igb), ROUNDS
#                 interleaved rounds of --stream MiB, one 7.3 boot
#                 (tests/kmod/rx3-bench.sh); its section of kmod-compare.md and
#                 kmod-rx3.svg (scripts/kmod-rx3-report.py); with --from RAW,
#                 DIR/kmod-compare-7.3/rx3-raw.txt
#
# Needs what tests/kmod needs (kernel headers: scripts/guest-kernel.sh [--kernel K] headers;
# QEMU and the guest kernel: scripts/install-deps.sh guest) and python3.
# Exit: 0 written, 1 failed, 77 the test bed is not available here.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$repo/build
sizes="4 16 64"
reps=5
stream=64
stream_reps=3
out=$repo/docs
from=""
rx3=""

while [ $# -gt 0 ]; do
	case $1 in
	--kernel)
		case ${2:-} in 6.12 | 7.3) export NETMEM_GUEST_KERNEL_SERIES=$2 ;;
		*) echo "kmod-compare: --kernel takes 6.12 or 7.3" >&2; exit 2 ;; esac
		shift 2 ;;
	--build) build=$(cd "$2" && pwd); shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--stream) stream=$2; shift 2 ;;
	--stream-reps) stream_reps=$2; shift 2 ;;
	--from) from=$(readlink -f "$2"); shift 2 ;;
	--rx3) rx3=$2; export NETMEM_GUEST_KERNEL_SERIES=7.3; shift 2 ;;
	-h | --help) sed -n '2,31s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "kmod-compare: unknown argument $1" >&2; exit 2 ;;
	esac
done
for s in $sizes; do
	if ! [[ $s =~ ^[0-9]+$ ]] || [ "$s" -lt 1 ] || [ "$s" -gt 256 ]; then
		echo "kmod-compare: sizes are 1 to 256 MiB, not '$s'" >&2
		exit 2
	fi
done
if ! [[ $reps =~ ^[0-9]+$ ]] || [ "$reps" -lt 1 ] || [ "$reps" -gt 64 ]; then
	echo "kmod-compare: --reps takes 1 to 64" >&2
	exit 2
fi
if ! [[ $stream =~ ^[0-9]+$ ]] || [ "$stream" -gt 1024 ]; then
	echo "kmod-compare: --stream takes 0 to 1024 MiB" >&2
	exit 2
fi
if ! [[ $stream_reps =~ ^[0-9]+$ ]] || [ "$stream_reps" -lt 1 ] || [ "$stream_reps" -gt 16 ]; then
	echo "kmod-compare: --stream-reps takes 1 to 16" >&2
	exit 2
fi
command -v python3 >/dev/null || { echo "kmod-compare: python3 is needed for the report" >&2; exit 1; }

work=$build/kmod-compare
[ "${NETMEM_GUEST_KERNEL_SERIES:-6.12}" = 6.12 ] || work=$work-$NETMEM_GUEST_KERNEL_SERIES
mkdir -p "$work" "$out"
log() { printf 'kmod-compare: %s\n' "$*" >&2; }

# ---- the TX row: devmem TX vs plain send (tests/kmod/tx-bench.sh) ----------------
# The guest's part, one line of the guest command; skipped by the script itself
# on a kernel without devmem TX (6.12), which it says in the raw output.
tx_guest_cmd() { # KO KCTL
	[ "$stream" -gt 0 ] || return 0
	printf "'%s' '%s' '%s' %s %s || exit 1\n" "$repo/tests/kmod/tx-bench.sh" "$1" "$2" "$stream" "$stream_reps"
}

# Append the TX section to the report from the raw output's txstream blocks.
tx_report() { # RAW MD
	python3 - "$1" "$2" <<'PY'
import statistics
import sys

raw, md = sys.argv[1:]
runs = {"devmem": [], "host": []}
mode, skipped, pinning = None, None, None
for line in open(raw, errors="replace"):
    line = line.rstrip("\n")
    if line.startswith("txstream,"):
        parts = line.split(",", 2)
        if parts[1] == "skipped":
            skipped = parts[2]
        elif parts[1] == "pinning":
            pinning = parts[2]
        else:
            mode = parts[1]
        continue
    if mode and line.startswith("tx: mode="):
        runs[mode].append(dict(kv.split("=", 1) for kv in line[4:].split() if "=" in kv))
        mode = None
out = ["\n## TCP send from the module's NIC: devmem TX vs plain send\n"]
if skipped or not runs["devmem"]:
    out.append(f"Not run: {skipped or 'no txstream blocks in the raw output'}.\n")
else:
    def med(m, fn):
        v = [x for x in (fn(r) for r in runs[m]) if x is not None]
        return statistics.median(v) if v else None
    def gbps(r):
        return int(r["bytes"]) * 8 / float(r["secs"]) / 1e9 if float(r["secs"]) else None
    def cpu(key):
        return lambda r: float(r[key]) / (int(r["bytes"]) / 2**30)
    def nic(key):
        return lambda r: int(r[key]) / (int(r["bytes"]) / 2**20)
    mib = int(runs["devmem"][0]["bytes"]) >> 20
    out.append(f"The same {mib} MiB stream (`tcp_send.py`'s pattern) from `netmem-kctl tx` on `nmk0` "
               "to a stock receiver (`tests/kmod/tcp_recv.py`: plain `recv()`, every byte compared "
               "and the sha256 checked) behind `nmkp0` in its own namespace, two ways in turn, "
               f"median of {len(runs['devmem'])}: the kernel's devmem TX from a 4 MiB udmabuf "
               "(netlink bind-tx, `sendmsg(MSG_ZEROCOPY)` with `SCM_DEVMEM_DMABUF`, every "
               "zerocopy completion reaped) and plain `send()` from host memory. The NIC reads "
               "each payload fragment at its DMA address by CPU copy in both modes (net_iovs "
               "of the binding, or host pages mapped for the send); plain send pays the "
               "kernel's copy from user memory on top. "
               f"Pinning: {pinning or 'not printed'}. CPU is the whole guest's busy time per "
               "GiB sent (sender, stack, NIC copy, receiver's check); under TCG read the ratio.\n")
    out.append("| figure | devmem TX | plain send | devmem / plain |")
    out.append("|---|---|---|---|")
    def row(label, fn, digits=2):
        d, h = med("devmem", fn), med("host", fn)
        f = lambda v: "n/a" if v is None else f"{v:.{digits}f}"
        r = "" if not d or not h else f"{d / h:.2f}"
        out.append(f"| {label} | {f(d)} | {f(h)} | {r} |")
    row("throughput (Gbit/s)", gbps)
    row("CPU seconds per GiB, whole guest", cpu("cpu_all_s"))
    row("CPU seconds per GiB, sending process", cpu("cpu_self_s"))
    # Above 1 MiB per MiB: TCP retransmits, read again.
    row("payload bytes the NIC read from net_iovs, per MiB sent", nic("nic_bytes_devmem"), 0)
    row("payload bytes the NIC read from host pages, per MiB sent", nic("nic_bytes_host"), 0)
    out.append("")
open(md, "a").write("\n".join(out) + "\n")
PY
}

# --rx3: the 7.3 receive comparison, its own boot and its own section.
if [ -n "$rx3" ]; then
	[[ $rx3 =~ ^[0-9]+$ ]] && [ "$rx3" -ge 1 ] && [ "$rx3" -le 16 ] && [ "$stream" -ge 1 ] ||
		{ echo "kmod-compare: --rx3 takes 1 to 16 rounds, --stream at least 1 MiB" >&2; exit 2; }
	raw=$work/rx3-raw.txt
	if [ -n "$from" ]; then
		raw=$from
	else
		rc=0
		ko=$("$repo/tests/kmod/build.sh" "$work") || rc=$?
		[ $rc -eq 0 ] || exit $rc
		kctl=$build/apps/netmem-kctl/netmem-kctl
		[ -x "$kctl" ] || { log "no $kctl: build it (meson) with the 7.3 headers in the cache"; exit 1; }
		netmem_rx=$build/apps/netmem-rx
		[ -x "$netmem_rx" ] || netmem_rx=""
		qemu_ver=$(qemu-system-x86_64 --version 2>/dev/null | head -n1 || true)
		echo "env,$(date -u +%Y-%m-%d), guest $("$repo/scripts/guest-kernel.sh" version) under ${qemu_ver:-QEMU} TCG (2 vCPUs), host $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, $rx3 rounds of $stream MiB" >"$raw"
		log "one 7.3 guest boot: $rx3 rounds of five receivers, $stream MiB each"
		(cd "$repo" && "$repo/tests/vm/guest-run.sh" --timeout 900 -- \
			"$repo/tests/kmod/rx3-bench.sh" "$ko" "$kctl" "$stream" "$rx3" "$netmem_rx") >>"$raw" || rc=$?
		if [ $rc -ne 0 ]; then
			tail -n 30 "$raw" >&2
			log "the guest run failed (exit $rc)"
			exit $rc
		fi
	fi
	python3 "$here/kmod-rx3-report.py" "$raw" "$out/kmod-compare.md" "$out/kmod-rx3.svg"
	exit
fi

# Build what the guest runs, boot it once, keep its output in $raw.
run_guest() {
	local ko kctl bench bench_cmd guest_cmd qemu_ver netmem_rx rc=0

	ko=$("$repo/tests/kmod/build.sh" "$work") || rc=$?
	[ $rc -eq 0 ] || exit $rc
	kctl=$build/apps/netmem-kctl/netmem-kctl
	if [ ! -x "$kctl" ]; then
		# Not in the meson build (yet): the tool is plain C with no dependency.
		kctl=$work/netmem-kctl
		log "building netmem-kctl into $kctl"
		${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE \
			-I"$repo/kmod/include/uapi" "$repo"/apps/netmem-kctl/*.c -o "$kctl"
	fi
	netmem_rx=$build/apps/netmem-rx
	[ -x "$netmem_rx" ] || { log "no $netmem_rx: the netmem userspace TCP column will say so"; netmem_rx=""; }
	bench=$build/apps/netmem-bench
	bench_cmd=""
	if [ -x "$bench" ]; then
		bench_cmd="$bench --no-dpdk --ops 2000000 --rounds 3 --bind-max 64M"
	else
		log "no $bench: the userspace column will say so"
	fi

	guest_cmd="set -o pipefail
insmod '$ko' || exit 1
for s in $sizes; do
	echo \"size,\$s\"
	'$kctl' bench -s \$s -r $reps | grep -E '^(csv|#)' || exit 1
done
rmmod netmem_kmod || exit 1
if dmesg | grep -E 'WARNING|BUG|[Ll]eak|Oops'; then echo 'kmod-compare: the kernel warned'; exit 1; fi
if [ $stream -gt 0 ]; then '$repo/tests/kmod/stream-bench.sh' '$ko' '$kctl' '$sizes' $stream $stream_reps '$netmem_rx' || exit 1; fi
if dmesg | grep -E 'WARNING|BUG|[Ll]eak|Oops'; then echo 'kmod-compare: the kernel warned'; exit 1; fi
$(tx_guest_cmd "$ko" "$kctl")
if dmesg | grep -E 'WARNING|BUG|[Ll]eak|Oops'; then echo 'kmod-compare: the kernel warned'; exit 1; fi
if [ -n '$bench_cmd' ]; then echo 'userspace-bench-begin'; ${bench_cmd:-true}; echo 'userspace-bench-end'; fi"

	qemu_ver=$(qemu-system-x86_64 --version 2>/dev/null | head -n1 || true)
	echo "env,$(date -u +%Y-%m-%d), guest $("$repo/scripts/guest-kernel.sh" version) under ${qemu_ver:-QEMU} TCG (2 vCPUs), host $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start" >"$raw"
	log "one guest boot: sizes $sizes MiB, $reps reps (TCG: a few minutes)"
	(cd "$repo" && "$repo/tests/vm/guest-run.sh" --timeout 900 -- bash -c "$guest_cmd") >>"$raw" || rc=$?
	if [ $rc -ne 0 ]; then
		tail -n 30 "$raw" >&2
		log "the guest run failed (exit $rc)"
		[ $rc -eq 77 ] && exit 77
		exit 1
	fi
}

raw=$work/raw.txt
if [ -n "$from" ]; then
	raw=$from
	sizes=$(sed -n 's/^size,//p' "$raw" | tr '\n' ' ')
	reps=$(sed -n 's/^# bench: .*, \([0-9]*\) reps.*/\1/p' "$raw" | head -n1)
else
	run_guest
fi

# --- the report -------------------------------------------------------------------
KVER="${NETMEM_GUEST_KERNEL_SERIES:-6.12}" python3 - "$raw" "$out/kmod-compare.md" "$out/kmod-compare.svg" "$sizes" "$reps" "$out/kmod-stream.svg" <<'PY'
import html
import os
import re
import statistics
import sys

raw, md_path, svg_path, sizes_arg, reps, stream_svg_path = sys.argv[1:]
KVER = os.environ.get("KVER", "6.12")  # the guest kernel the report ran on
env_line = "(no environment line in the raw output)"
sizes = [int(s) for s in sizes_arg.split()]
ref = sizes[len(sizes) // 2]

fig = {}          # (size, metric, impl) -> (value, unit, note)
size = None
userspace = []
in_bench = False
hds_refusals = {}  # restart path -> driver callbacks, tcp-data-split off
streams = {}      # (udmabuf MiB, "devmem"|"host") -> [rx line fields]
stream_key = None
for line in open(raw, errors="replace"):
    line = line.rstrip("\n")
    if line == "userspace-bench-begin":
        in_bench = True
        continue
    if line == "userspace-bench-end":
        in_bench = False
        continue
    if in_bench:
        userspace.append(line)
        continue
    if line.startswith("stream,"):
        _, s_mib, s_mode, _rep = line.split(",")
        stream_key = (int(s_mib), s_mode)
        continue
    if line.startswith("rx: mode=") and stream_key:
        kv = dict(f.split("=", 1) for f in line[4:].split() if "=" in f)
        streams.setdefault(stream_key, []).append(kv)
        stream_key = None
        continue
    if line.startswith("refusal,"):
        _, r_mode, r_cb = line.split(",")
        hds_refusals[r_mode] = float(r_cb)
        continue
    if line.startswith("env,"):
        env_line = line[4:]
    elif line.startswith("size,"):
        size = int(line.split(",")[1])
    elif line.startswith("csv,") and size is not None:
        _, metric, impl, value, unit, note = line.split(",", 5)
        fig[(size, metric, impl)] = (float(value), unit, note)

us = {}
for line in userspace:
    m = re.match(r"fast path, one at a time\s+([\d.]+)", line)
    if m:
        us["recycle"] = float(m.group(1))
    m = re.match(r"host metadata per buffer: (\d+) bytes", line)
    if m:
        us["meta"] = float(m.group(1))
    # "[source]  N MiB  total-ms ..." rows of the bind scaling table
    m = re.match(r"\s*(?:([a-z-]+)\s+)?(\d+) MiB\s+([\d.]+)", line)
    if m:
        us.setdefault("bind", {})[(m.group(1) or "memfd", int(m.group(2)))] = float(m.group(3))

def get(metric, impl, s=ref):
    v = fig.get((s, metric, impl))
    return None if v is None else v[0]

def fmt(v, digits=0):
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"

def ratio(a, b):
    return "" if a is None or b is None or a == 0 else f"{b / a:,.0f}x"

NO_US = "not measured by netmem-bench"
rows = []
kb, kr = get("bind_us", "kmod"), get("bind_us", "kernel")
def us_bind():
    b = us.get("bind", {})
    if not b:
        return "n/a"
    pick = sorted(b, key=lambda k: (k[1] != ref, k[0] != "udmabuf", k[1]))[0]
    return (f"bind + unbind: {b[pick] * 1000:,.0f} at {pick[1]} MiB "
            f"({pick[0]}, netmem-bench)")
rows.append((f"bind latency, {ref} MiB (us)", us_bind(), fmt(kb), fmt(kr), ratio(kb, kr)))
ku, kru = get("unbind_us", "kmod"), get("unbind_us", "kernel")
rows.append((f"unbind latency, {ref} MiB (us)", "(in the line above)", fmt(ku), fmt(kru), ratio(ku, kru)))
a1, a2 = get("alloc_all_ns", "kmod"), get("alloc_all_ns", "kernel")
rows.append(("take every buffer from the provider (ns/buffer)", NO_US, fmt(a1), fmt(a2), ratio(a1, a2)))
p1, p2 = get("put_all_ns", "kmod"), get("put_all_ns", "kernel")
rows.append(("put every buffer back, remote (ns/buffer)", NO_US, fmt(p1), fmt(p2), ratio(p1, p2)))
def fast(impl):
    a, p = get("alloc_recycle_ns", impl), get("put_recycle_ns", impl)
    return None if a is None or p is None else a + p
f1, f2 = fast("kmod"), fast("kernel")
rows.append(("alloc + put, pool fast path (ns/buffer)",
             f"{us['recycle']:.1f} (one at a time)" if "recycle" in us else "n/a",
             fmt(f1, 1) + " (64 at a time)", fmt(f2, 1) + " (64 at a time)", ""))
rows.append(("restarts per refused bind (queue without unreadable)",
             "0 (check-first; tests/lib/test_restart.c asserts no callback)",
             fmt(get("refused_restarts_check-first", "kmod")),
             fmt(get("refused_restarts_bind-rx", "kernel")), ""))
rows.append(("driver callbacks per refused bind",
             "0 (same test)",
             fmt(get("refused_callbacks_check-first", "kmod")),
             fmt(get("refused_callbacks_bind-rx", "kernel")), ""))
rows.append(("buffers posted in vain per refused bind", "0",
             fmt(get("refused_buffers_check-first", "kmod")),
             fmt(get("refused_buffers_bind-rx", "kernel")), ""))
m1, m2 = get("meta_bytes_est", "kmod"), get("meta_bytes_est", "kernel")
rows.append(("metadata bytes per buffer, from the allocations made",
             fmt(us.get("meta")) + " (netmem-bench: sizeof struct nm_net_iov)" if "meta" in us else "n/a",
             fmt(m1, 1), fmt(m2) + " (lower bound)", ratio(m1, m2)))
n1, n2 = get("meta_bytes_measured", "kmod"), get("meta_bytes_measured", "kernel")
rows.append(("metadata bytes per buffer, measured (free memory drop)", NO_US,
             fmt(n1), fmt(n2), ratio(n1, n2)))
rows.append(("descriptor bytes (net_iov)", fmt(us.get("meta")) if "meta" in us else "n/a",
             fmt(get("net_iov_bytes", "kmod")), fmt(get("net_iov_bytes", "kernel")), ""))

modes = [("check-first", "kmod", "ours: flags checked before any callback"),
         ("check-after-alloc", "kmod", f"{KVER} as merged, reproduced in the module"),
         ("check-after-restart", "kmod", "the seed's v19 order, with a restart back"),
         ("bind-rx", "kernel", f"the real {KVER} kernel, netlink bind-rx")]

segs = get("dma_segments", "kmod")
out = []
out.append("<!-- Generated by scripts/kmod-compare.sh; do not edit by hand. -->")
out.append("# kmod comparison: userspace vs kernel module vs the kernel's devmem\n")
out.append(f"Measured {env_line}. One guest boot; udmabuf of {', '.join(map(str, sizes))} MiB "
           f"({fmt(segs)} DMA segments for its {ref * 256} pages at {ref} MiB: 6.12's udmabuf maps one per "
           "page, 7.3's merges contiguous ones), 4096-byte "
           f"buffers, bind/unbind median of {reps}. Under TCG absolute times are slow and move "
           "with the host's load; compare within a column set, not with hardware. "
           "How each figure is taken: [kmod.md](kmod.md#the-comparison).\n")
out.append(f"## At {ref} MiB\n")
out.append(f"| figure | userspace (libnetmem) | kmod (check-first) | kernel {KVER} devmem | kernel / kmod |")
out.append("|---|---|---|---|---|")
for r in rows:
    out.append("| " + " | ".join(r) + " |")
out.append("\n## A refused bind (queue 2: header-split, restart; no unreadable)\n")
out.append("| restart path | restarts (stop + start) | driver callbacks | buffers posted in vain | |")
out.append("|---|---|---|---|---|")
for mode, impl, what in modes:
    out.append(f"| {mode} | {fmt(get('refused_restarts_' + mode, impl))} | "
               f"{fmt(get('refused_callbacks_' + mode, impl))} | "
               f"{fmt(get('refused_buffers_' + mode, impl))} | {what} |")
for mode, what in (("check-first", "ours, tcp-data-split off: the queues lose header-split"),
                   ("bind-rx", f"the real {KVER} kernel, tcp-data-split off: refused by this driver's mem_alloc")):
    if mode in hds_refusals:
        cbs = hds_refusals[mode]
        # One callback is mem_alloc alone: nothing was stopped or started.
        out.append(f"| {mode}, tcp-data-split off (queue 1) | {'0' if cbs < 3 else 'n/a'} | "
                   f"{fmt(cbs)} | 0 | {what} |")
out.append("\n## Against dmabuf size\n")
out.append("| MiB | buffers | kmod bind us | kernel bind us | kmod unbind us | kernel unbind us | "
           "kmod alloc ns/buf | kernel alloc ns/buf | kmod put ns/buf | kernel put ns/buf | "
           "kmod meta B/buf | kernel meta B/buf |")
out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
for s in sizes:
    out.append(f"| {s} | {s * 256} | " + " | ".join(fmt(get(m, i, s)) for m, i in [
        ("bind_us", "kmod"), ("bind_us", "kernel"), ("unbind_us", "kmod"), ("unbind_us", "kernel"),
        ("alloc_all_ns", "kmod"), ("alloc_all_ns", "kernel"), ("put_all_ns", "kmod"),
        ("put_all_ns", "kernel"), ("meta_bytes_measured", "kmod"),
        ("meta_bytes_measured", "kernel")]) + " |")
out.append("\n![per-buffer cost and bind latency against dmabuf size](kmod-compare.svg)\n")
if userspace:
    out.append("## netmem-bench in the same guest\n")
    out.append("```")
    out.extend(userspace)
    out.append("```")
else:
    out.append("## Userspace\n")
    out.append("`build/apps/netmem-bench` was not built when this ran: the userspace column "
               "is left for it (the lead's benchmark; see kmod.md).")
# ---- TCP streams on the module's NIC (tests/kmod/stream-bench.sh) ---------------
def smetric(size, mode, fn):
    runs = streams.get((size, mode), [])
    vals = [v for v in (fn(r) for r in runs) if v is not None]
    return statistics.median(vals) if vals else None

def num(r, k):
    try:
        return float(r[k])
    except (KeyError, ValueError):
        return None

def gbps(r):
    b, t = num(r, "bytes"), num(r, "secs")
    return b * 8 / t / 1e9 if b and t else None

def cpu_gib(key):
    def f(r):
        b, c = num(r, "bytes"), num(r, key)
        return c / (b / 2**30) if b and c is not None else None
    return f

def tokens_s(r):
    n, t = num(r, "tokens_returned"), num(r, "secs")
    return n / t if n and t else None

def ring_ns(r):
    ns, n = num(r, "q_ring_alloc_ns"), num(r, "q_ring_allocs")
    return ns / n if n else None

def per_mib(key):
    def f(r):
        v, b = num(r, key), num(r, "bytes")
        return v / (b / 2**20) if b and v is not None else None
    return f

stream_sizes = sorted({k[0] for k in streams if k[1] in ("devmem", "host")})
if stream_sizes:
    sref = ref if ref in stream_sizes else stream_sizes[len(stream_sizes) // 2]
    smib = int(num(streams[(sref, "devmem")][0], "expect") or 0) >> 20
    nrep = len(streams.get((sref, "devmem"), []))
    have_nm = (0, "igb-netmem") in streams
    SLOT_US = "n/a" if have_nm else "not run (no netmem-rx)"
    SLOT_IGB = "slot: not run yet"
    def rr(a, b, digits=2):
        return "" if a is None or b is None or b == 0 else f"{a / b:.{digits}f}"
    out.append("\n## TCP streams: the kernel's devmem TCP on the module's NIC\n")
    out.append(f"The same {smib} MiB stream from a stock sender (Python sockets, "
               "`tests/kmod/tcp_send.py`, in its own network namespace behind `nmkp0`) to a "
               "listener on `nmk0`, steered to queue 1 by an ntuple rule, received two ways in "
               f"turn, median of {nrep}: the kernel's devmem TCP into a udmabuf "
               "(netlink bind-rx, `recvmsg(MSG_SOCK_DEVMEM)`, tokens back with "
               "`SO_DEVMEM_DONTNEED` every 64 fragments), and kernel TCP into host memory "
               "(`recv`). The NIC splits headers into host page-pool pages and writes payload into "
               "the queue's page pool buffers by CPU copy (no DMA engine): both modes pay that copy, "
               "the host mode then pays the kernel's copy to user memory too. Every byte "
               "is checked in both. CPU is the whole guest's busy time (sender, softirq, receiver; "
               "2 vCPUs) per GiB received; under TCG, on a shared host, read ratios within a row, "
               "not absolutes, and expect run-to-run spread of tens of percent. "
               "The two right-hand columns are the same stream on the guest's igb ports "
               "(notes below the tables).\n")
    out.append(f"### At a {sref} MiB udmabuf\n")
    out.append("| figure | kernel devmem TCP, module NIC | kernel TCP into host memory, module NIC | "
               "devmem / host | netmem userspace TCP, VFIO igb | kernel TCP, kernel igb |")
    out.append("|---|---|---|---|---|---|")
    have_igb = (0, "igb-host") in streams
    def srow(label, fn, digits=2, ratio_ok=True, host_text=None, igb=True):
        d, h = smetric(sref, "devmem", fn), smetric(sref, "host", fn)
        g = fmt(smetric(0, "igb-host", fn), digits) if have_igb and igb else (
            "n/a" if have_igb else SLOT_IGB)
        u = fmt(smetric(0, "igb-netmem", fn), digits) if have_nm and igb else SLOT_US
        out.append(f"| {label} | {fmt(d, digits)} | {host_text or fmt(h, digits)} | "
                   f"{rr(d, h) if ratio_ok else ''} | {u} | {g} |")
    srow("throughput (Gbit/s)", gbps)
    srow("CPU seconds per GiB, whole guest", cpu_gib("cpu_all_s"))
    srow("CPU seconds per GiB, receiving process", cpu_gib("cpu_self_s"))
    srow("tokens returned per second", tokens_s, 0, False, "(no tokens: data copied)", False)
    srow("payload bytes copied to the user (SCM_DEVMEM_LINEAR / recv) per MiB",
         per_mib("linear_bytes"), 0, False)
    km = get("meta_bytes_measured", "kernel", sref)
    ke = get("meta_bytes_est", "kernel", sref)
    out.append(f"| metadata bytes per buffer | {fmt(km)} measured, {fmt(ke)} by allocation "
               f"(the {KVER} binding of a {sref} MiB udmabuf, table above) | 64 (struct page; "
               "no binding) | " + rr(km, 64.0, 0) + " | " +
               ("32 (net_iov) + 4 (free-ring slot)" if have_nm else SLOT_US) + " | " +
               ("64 (struct page)" if have_igb else SLOT_IGB) + " |")
    srow("RX ring refill under traffic, ns per buffer (page pool + provider)", ring_ns, 0, igb=False)
    srow("provider allocations per MiB received (page pool misses)", per_mib("q_pool_hold"), 1, igb=False)
    srow("frames dropped for want of a posted buffer, per MiB", per_mib("q_drop_no_buf"), 2, False, igb=False)
    out.append("\n### Against udmabuf size\n")
    out.append("| udmabuf MiB | devmem Gbit/s | host Gbit/s | devmem/host | devmem CPU s/GiB | "
               "host CPU s/GiB | devmem/host | tokens/s | devmem refill ns/buf | host refill ns/buf | "
               "devmem provider allocs/MiB | devmem drops/MiB |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for sz in stream_sizes:
        g = [smetric(sz, m, gbps) for m in ("devmem", "host")]
        c = [smetric(sz, m, cpu_gib("cpu_all_s")) for m in ("devmem", "host")]
        n = [smetric(sz, m, ring_ns) for m in ("devmem", "host")]
        out.append(f"| {sz} | {fmt(g[0], 2)} | {fmt(g[1], 2)} | {rr(g[0], g[1])} | {fmt(c[0], 2)} | "
                   f"{fmt(c[1], 2)} | {rr(c[0], c[1])} | {fmt(smetric(sz, 'devmem', tokens_s))} | "
                   f"{fmt(n[0])} | {fmt(n[1])} | {fmt(smetric(sz, 'devmem', per_mib('q_pool_hold')), 1)} | "
                   f"{fmt(smetric(sz, 'devmem', per_mib('q_drop_no_buf')), 2)} |")
    out.append("\n![throughput and ring refill cost against udmabuf size](kmod-stream.svg)\n")
    if have_igb:
        out.append("Kernel igb column: the same sender and length from port B (in its own "
                   "namespace) over the guest's wire to port A, both on the kernel's igb driver "
                   "(QEMU's igb model), received with `recv()` into host memory; the ring and "
                   "provider rows are the module NIC's counters, so n/a there.\n")
    if have_nm:
        out.append("netmem column: the same sender and length from port A's kernel over the "
                   "same wire to port B on netmem's igb driver over VFIO, received by netmem's "
                   "userspace TCP (`netmem-rx --listen --pollers 1`, one poller thread plus the "
                   "consumer) into a 16 MiB udmabuf, headers in host memory, tokens back through "
                   "the refill ring. A poll-mode receiver spins while it waits: its CPU is spent "
                   "whether or not data comes, so read CPU per GiB with the throughput beside "
                   "it.\n")
    if not have_igb and not have_nm:
        out.append("netmem's own userspace TCP on the VFIO igb port, and kernel TCP over "
                   "the kernel's igb driver between the guest's two ports, did not run for "
                   "this report.\n")
# The 7.3 receive comparison (--rx3) keeps its section across this rewrite.
try:
    old = open(md_path).read()
    keep = old[old.index("<!-- rx3 begin -->"):old.index("<!-- rx3 end -->") + len("<!-- rx3 end -->")]
    out.append("\n" + keep)
except (OSError, ValueError):
    pass
open(md_path, "w").write("\n".join(out) + "\n")

# ---- the plot: three log-scale panels, plain SVG --------------------------------
import math
W, H, PW, PH, L, T = 1020, 390, 280, 250, 60, 50
series = [
    ("alloc_all_ns", "ns per buffer: take every buffer", [("kmod", "#1f77b4"), ("kernel", "#d62728")]),
    ("put_all_ns", "ns per buffer: put every buffer back", [("kmod", "#1f77b4"), ("kernel", "#d62728")]),
    ("bind_us", "bind latency, us", [("kmod", "#1f77b4"), ("kernel", "#d62728")]),
]
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       '<rect width="100%" height="100%" fill="white"/>',
       f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="14">kmod provider (blue) vs '
       f'Linux {KVER} devmem (red), udmabuf, log scale, TCG guest</text>']
for p, (metric, title, impls) in enumerate(series):
    x0 = L + p * (PW + 60)
    vals = [get(metric, i, s) for i, _ in impls for s in sizes]
    vals = [v for v in vals if v and v > 0]
    if not vals:
        continue
    lo = 10 ** math.floor(math.log10(min(vals)))
    hi = 10 ** math.ceil(math.log10(max(vals)))
    if hi <= lo:
        hi = lo * 10
    def X(i):
        return x0 + (PW * (i + 0.5) / len(sizes))
    def Y(v):
        return T + PH - PH * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    svg.append(f'<text x="{x0 + PW / 2}" y="{T - 10}" text-anchor="middle">{html.escape(title)}</text>')
    svg.append(f'<rect x="{x0}" y="{T}" width="{PW}" height="{PH}" fill="none" stroke="#888"/>')
    e = math.log10(lo)
    while e <= math.log10(hi) + 1e-9:
        y = Y(10 ** e)
        svg.append(f'<line x1="{x0}" x2="{x0 + PW}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        v = 10 ** e
        label = f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}"
        svg.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
        e += 1
    for i, s in enumerate(sizes):
        svg.append(f'<text x="{X(i):.1f}" y="{T + PH + 16}" text-anchor="middle">{s} MiB</text>')
    for impl, color in impls:
        pts = [(X(i), Y(get(metric, impl, s))) for i, s in enumerate(sizes)
               if get(metric, impl, s)]
        if len(pts) > 1:
            svg.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' %
                       (color, " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)))
        for x, y in pts:
            svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
svg.append(f'<text x="{L}" y="{H - 10}">dmabuf size (buffers of 4096 B: 256 per MiB)</text>')
for k, (name, color) in enumerate([("kmod: this module's provider", "#1f77b4"),
                                   (f"kernel {KVER}: mp_dmabuf_devmem (bind-rx)", "#d62728")]):
    lx = W - 560 + k * 280
    svg.append(f'<line x1="{lx}" x2="{lx + 24}" y1="{H - 14}" y2="{H - 14}" stroke="{color}" stroke-width="3"/>')
    svg.append(f'<text x="{lx + 30}" y="{H - 10}">{html.escape(name)}</text>')
svg.append("</svg>")
open(svg_path, "w").write("\n".join(svg) + "\n")
# ---- the stream plot: Gbit/s (linear) and refill ns/buffer (log) ----------------
if stream_sizes:
    W2, H2, PW2, PH2, L2, T2 = 760, 380, 280, 250, 60, 50
    svg2 = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W2}" height="{H2}" font-family="sans-serif" font-size="11">',
            '<rect width="100%" height="100%" fill="white"/>',
            f'<text x="{W2 / 2}" y="18" text-anchor="middle" font-size="14">TCP stream on the module\'s NIC: '
            'devmem TCP (red) vs host memory (blue), TCG guest</text>']
    panels = [("Gbit/s", gbps, False), ("RX ring refill, ns per buffer (log)", ring_ns, True)]
    for p, (title, fn, logy) in enumerate(panels):
        x0 = L2 + p * (PW2 + 90)
        vals = [smetric(sz, m, fn) for sz in stream_sizes for m in ("devmem", "host")]
        vals = [v for v in vals if v and v > 0]
        if not vals:
            continue
        if logy:
            lo = 10 ** math.floor(math.log10(min(vals)))
            hi = 10 ** math.ceil(math.log10(max(vals)))
            hi = hi if hi > lo else lo * 10
            tr = lambda v: (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
            ticks = [10 ** e for e in range(int(math.log10(lo)), int(math.log10(hi)) + 1)]
        else:
            lo, hi = 0.0, max(vals) * 1.15
            tr = lambda v: (v - lo) / (hi - lo)
            ticks = [hi * i / 5 for i in range(6)]
        Y = lambda v: T2 + PH2 - PH2 * tr(v)
        X = lambda i: x0 + PW2 * (i + 0.5) / len(stream_sizes)
        svg2.append(f'<text x="{x0 + PW2 / 2}" y="{T2 - 10}" text-anchor="middle">{html.escape(title)}</text>')
        svg2.append(f'<rect x="{x0}" y="{T2}" width="{PW2}" height="{PH2}" fill="none" stroke="#888"/>')
        for tv in ticks:
            y = Y(tv)
            svg2.append(f'<line x1="{x0}" x2="{x0 + PW2}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
            svg2.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{tv:.3g}</text>')
        for i, sz in enumerate(stream_sizes):
            svg2.append(f'<text x="{X(i):.1f}" y="{T2 + PH2 + 16}" text-anchor="middle">{sz} MiB</text>')
        for mode, color in (("devmem", "#d62728"), ("host", "#1f77b4")):
            pts = [(X(i), Y(smetric(sz, mode, fn))) for i, sz in enumerate(stream_sizes)
                   if smetric(sz, mode, fn)]
            if len(pts) > 1:
                svg2.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' %
                            (color, " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)))
            for x, y in pts:
                svg2.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
    svg2.append(f'<text x="{L2}" y="{H2 - 10}">udmabuf size bound to the queue (devmem); the host '
                'mode uses no udmabuf and repeats at each size</text>')
    svg2.append("</svg>")
    open(stream_svg_path, "w").write("\n".join(svg2) + "\n")

print(f"kmod-compare: wrote {md_path} and {svg_path}", file=sys.stderr)
PY
tx_report "$raw" "$out/kmod-compare.md"
log "raw figures: $raw"
