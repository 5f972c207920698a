/* SPDX-License-Identifier: MIT */
/*
 * igb-dpdk-rx-bench: DPDK's own igb PMD (net_e1000_igb) under exactly the
 * loop igb-rx-bench runs on our driver: rte_eth_rx_burst of 32, free the
 * mbufs unread, count the TSC cycles of the polls that returned packets.
 * One RX queue, 512 descriptors, default mbufs. Same options and output.
 *
 *   igb-dpdk-rx-bench -l 1 -n 1 -a BDF -- [--idle-ms MS]
 *                     [--rounds R --per-round N --go FIFO]
 */
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "bench_stats.h"

#define BURST 32


int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "idle-ms", required_argument, NULL, 'i' }, { "rounds", required_argument, NULL, 'r' },
		{ "per-round", required_argument, NULL, 'n' }, { "go", required_argument, NULL, 'g' },
		{ 0 },
	};
	struct rte_eth_conf conf;
	struct rte_eth_link link;
	struct rte_mempool *mp;
	struct rte_eth_stats es;
	struct rte_eth_dev_info info;
	
	const char *go_path = NULL;
	static struct bench run = { .name = "igb-dpdk-rx-bench", .idle_ms = 2000 };
	uint64_t bytes = 0;
	int ret, c;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		return 1;
	argc -= ret;
	argv += ret;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': run.idle_ms = strtoul(optarg, NULL, 0); break;
		case 'r': run.rounds = strtoul(optarg, NULL, 0); break;
		case 'n': run.per_round = strtoul(optarg, NULL, 0); break;
		case 'g': go_path = optarg; break;
		default: return 2;
		}
	}
	if (rte_eth_dev_count_avail() != 1 || (run.rounds && (!run.per_round || !go_path))) {
		fprintf(stderr, "igb-dpdk-rx-bench: give one port (-a BDF) and, for drain, "
			"--rounds --per-round --go\n");
		return 2;
	}
	memset(&conf, 0, sizeof(conf));
	mp = rte_pktmbuf_pool_create("rx", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	if (!mp || rte_eth_dev_configure(0, 1, 1, &conf) ||
	    rte_eth_rx_queue_setup(0, 0, 512, rte_eth_dev_socket_id(0), NULL, mp) ||
	    rte_eth_tx_queue_setup(0, 0, 512, rte_eth_dev_socket_id(0), NULL) ||
	    rte_eth_dev_start(0)) {
		fprintf(stderr, "igb-dpdk-rx-bench: port setup failed\n");
		return 1;
	}
	for (int i = 0; i < 100; i++) {
		if (rte_eth_link_get_nowait(0, &link) || link.link_status)
			break;
		rte_delay_ms(100);
	}
	if (rte_eth_dev_info_get(0, &info)) {
		fprintf(stderr, "igb-dpdk-rx-bench: no device info for port 0\n");
		return 1;
	}
	printf("igb-dpdk-rx-bench: port 0 (%s), 1 RX queue, link %s, on CPU %d; ready\n",
	       info.driver_name, link.link_status ? "up" : "DOWN", sched_getcpu());
	fflush(stdout);
	if (run.rounds > BENCH_MAX_ROUNDS)
		run.rounds = BENCH_MAX_ROUNDS;
	if (run.rounds && !(run.go = fopen(go_path, "r")))
		return 1;

	for (;;) {
		struct rte_mbuf *burst[BURST];
		uint64_t t;
		uint16_t n;

		if (!bench_next(&run))
			break;
		t = rte_rdtsc();
		n = rte_eth_rx_burst(0, 0, burst, BURST);
		if (!n) {
			if (!bench_idle(&run))
				break;
			continue;
		}
		for (uint16_t i = 0; i < n; i++)
			bytes += burst[i]->pkt_len;
		rte_pktmbuf_free_bulk(burst, n);
		t = rte_rdtsc() - t;
		bench_count(&run, n, t);
	}
	rte_eth_stats_get(0, &es);
	printf("igb-dpdk-rx-bench: mode=%s packets=%llu bytes=%llu seconds=%.3f pps=%.0f "
	       "bytes_per_s=%.0f busy_cycles=%llu cycles_per_packet=%.1f tsc_mhz=%.0f "
	       "device_rx_good=%llu device_rx_missed=%llu "
	       "round_median_cycles_per_packet=%.1f cpu=%d\n", run.rounds ? "drain" : "stream",
	       (unsigned long long)run.pkts, (unsigned long long)bytes, run.last - run.first,
	       (double)run.pkts / (run.last - run.first), (double)bytes / (run.last - run.first),
	       (unsigned long long)run.busy, (double)run.busy / (double)run.pkts,
	       (double)rte_get_tsc_hz() / 1e6, (unsigned long long)es.ipackets,
	       (unsigned long long)es.imissed, median(run.cpp, run.rounds), sched_getcpu());
	rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	rte_eal_cleanup();
	return 0;
}
