/* SPDX-License-Identifier: MIT */
/*
 * igb-rx-bench: the receive path alone, measured like DPDK's testpmd in
 * rxonly mode with --record-core-cycles: poll bursts of 32, give every
 * buffer straight back (nm_igb_rx_recycle), count packets and bytes, and count the TSC cycles
 * of the polls that returned packets ("busy cycles"). Without payload
 * checks, so it compares with testpmd freeing its mbufs unread.
 *
 *   igb-rx-bench --bdf BDF [--flow udp6] [--port 5201] [--dmabuf udmabuf:64M|none]
 *                [--idle-ms 2000] [--rounds R --per-round N --go FIFO]
 *
 * Streaming (default): poll until the flow stops for --idle-ms.
 * Drain (--rounds): R times, wait for a line on FIFO without polling (the
 * sender fills the ring meanwhile), then drain N frames in full bursts.
 */
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netmem/igb.h>
#include <netmem/netmem.h>

#include "bench_stats.h"

#define QUEUE 1
#define BURST 32

static uint64_t cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}


static double cycles_per_second(void)
{
	double t0 = now_s();
	uint64_t c0 = cycles();

	usleep(200 * 1000);
	return (double)(cycles() - c0) / (now_s() - t0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bdf", required_argument, NULL, 'b' }, { "flow", required_argument, NULL, 'f' },
		{ "port", required_argument, NULL, 'p' }, { "dmabuf", required_argument, NULL, 'd' },
		{ "idle-ms", required_argument, NULL, 'i' }, { "rounds", required_argument, NULL, 'r' },
		{ "per-round", required_argument, NULL, 'n' }, { "go", required_argument, NULL, 'g' },
		{ 0 },
	};
	struct nm_igb_params p = { 0 };
	const char *flow_name = "udp6", *spec = "udmabuf:64M";
	unsigned long port = 5201;
	const char *go_path = NULL;
	struct nm_err err = { 0 };
	struct nm_igb *igb;
	struct nm_netdev *dev;
	struct nm_dmabuf *buf = NULL;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_igb_hw_stats hw;
	struct nm_igb_rxq_stats st;
	struct nm_flow f;
	static struct bench run = { .name = "igb-rx-bench", .idle_ms = 2000 };
	uint64_t bytes = 0;
	double hz;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': p.bdf = optarg; break;
		case 'f': flow_name = optarg; break;
		case 'p': port = strtoul(optarg, NULL, 0); break;
		case 'd': spec = optarg; break;
		case 'i': run.idle_ms = strtoul(optarg, NULL, 0); break;
		case 'r': run.rounds = strtoul(optarg, NULL, 0); break;
		case 'n': run.per_round = strtoul(optarg, NULL, 0); break;
		case 'g': go_path = optarg; break;
		default: return 2;
		}
	}
	if (!p.bdf || port > 65535 || nm_flow_from_name(flow_name, (uint16_t)port, &f) ||
	    (run.rounds && (!run.per_round || !go_path))) {
		fprintf(stderr, "usage: igb-rx-bench --bdf BDF [--flow udp6] [--port P] "
			"[--dmabuf SPEC|none] [--idle-ms MS]\n");
		return 2;
	}
	if (nm_igb_open(&p, &igb, &err))
		goto fail;
	dev = nm_igb_netdev(igb);
	if (strcmp(spec, "none") &&
	    (nm_dmabuf_open_spec(spec, &buf, &err) ||
	     nm_dmabuf_binding_create(dev->dma, buf, NULL, &b, &err) ||
	     nm_dmabuf_binding_bind_rxq(b, dev, QUEUE, &err)))
		goto fail;
	if (nm_igb_steer(igb, &f, QUEUE, &err))
		goto fail;
	hz = cycles_per_second();
	printf("igb-rx-bench: %s to port %lu on queue %d (header split, payload in %s), on CPU %d; "
	       "ready\n", flow_name, port, QUEUE, b ? spec : "host memory", sched_getcpu());
	fflush(stdout);
	if (run.rounds > BENCH_MAX_ROUNDS)
		run.rounds = BENCH_MAX_ROUNDS;
	if (run.rounds && !(run.go = fopen(go_path, "r"))) {
		fprintf(stderr, "igb-rx-bench: %s: cannot open\n", go_path);
		return 1;
	}

	for (;;) {
		struct nm_rx_pkt burst[BURST];
		uint64_t t;
		unsigned int n;

		if (!bench_next(&run))
			break;
		t = cycles();
		n = nm_igb_rx_burst(igb, QUEUE, burst, BURST);
		if (!n) {
			if (!bench_idle(&run))
				break;
			continue;
		}
		for (unsigned int i = 0; i < n; i++)
			bytes += burst[i].hdr_len + burst[i].payload_len;
		/* Back into the queue's pool caches, as DPDK frees into its
		 * lcore's mempool cache. */
		nm_igb_rx_recycle(igb, QUEUE, burst, n);
		t = cycles() - t;
		bench_count(&run, n, t);
	}
	nm_igb_hw_stats(igb, &hw);
	nm_igb_rxq_stats(igb, QUEUE, &st);
	printf("igb-rx-bench: mode=%s packets=%llu bytes=%llu seconds=%.3f pps=%.0f bytes_per_s=%.0f "
	       "busy_cycles=%llu cycles_per_packet=%.1f tsc_mhz=%.0f split=%llu "
	       "device_rx_good=%llu device_rx_missed=%llu "
	       "round_median_cycles_per_packet=%.1f cpu=%d\n",
	       run.rounds ? "drain" : "stream", (unsigned long long)run.pkts, (unsigned long long)bytes,
	       run.last - run.first,
	       (double)run.pkts / (run.last - run.first), (double)bytes / (run.last - run.first),
	       (unsigned long long)run.busy, (double)run.busy / (double)run.pkts, hz / 1e6,
	       (unsigned long long)st.split, (unsigned long long)hw.rx_good,
	       (unsigned long long)hw.rx_missed, median(run.cpp, run.rounds), sched_getcpu());
	if (b)
		nm_dmabuf_binding_unbind(b);
	nm_igb_close(igb);
	nm_dmabuf_put(buf);
	return 0;
fail:
	fprintf(stderr, "igb-rx-bench: %s\n", err.msg);
	return 1;
}
