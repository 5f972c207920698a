/* SPDX-License-Identifier: MIT */
/*
 * EAL start-up shared by the DPDK tests: no hugepages, no PCI, a private
 * file prefix (so tests can run side by side), DPDK's log on stderr so
 * stdout carries only TAP. The vdevs each test needs are passed in.
 */
#ifndef NM_DPDK_TEST_H
#define NM_DPDK_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include <netmem/dpdk_ethdev.h>

/* Start EAL with @vdevs (NULL-terminated "--vdev=..." strings). On failure
 * print a TAP plan that skips the whole file, with the reason, and return
 * -1 (the caller exits 0: a skip, never a silent pass). */
static inline int nm_dpdk_test_eal_init(const char *prog, const char *const *vdevs)
{
	char prefix[64], *argv[32];
	int argc = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=nmtest%d", (int)getpid());
	argv[argc++] = (char *)prog;
	argv[argc++] = "--no-huge";
	argv[argc++] = "-m";
	argv[argc++] = "256";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-shconf";
	argv[argc++] = "-l";
	argv[argc++] = "0";
	argv[argc++] = prefix;
	argv[argc++] = "--log-level=pmd.mempool.dmabuf:info";
	for (int i = 0; vdevs && vdevs[i] && argc < 30; i++)
		argv[argc++] = (char *)vdevs[i];
	argv[argc] = NULL;
	rte_openlog_stream(stderr);
	if (rte_eal_init(argc, argv) < 0) {
		printf("1..0 # SKIP EAL does not start here (--no-huge --no-pci); see stderr\n");
		return -1;
	}
	return 0;
}

/* Configure @port with @nrxq RX queues on @mp and one TX queue; start it. */
static inline int nm_test_start_port(uint16_t port, uint16_t nrxq, struct rte_mempool *mp)
{
	struct rte_eth_conf conf = { 0 };
	int ret = rte_eth_dev_configure(port, nrxq, 1, &conf);

	for (uint16_t q = 0; !ret && q < nrxq; q++)
		ret = rte_eth_rx_queue_setup(port, q, 256, 0, NULL, mp);
	if (!ret)
		ret = rte_eth_tx_queue_setup(port, 0, 256, 0, NULL);
	if (!ret)
		ret = rte_eth_dev_start(port);
	return ret;
}

/* Headers (64 bytes) to @hdr, the rest to the dmabuf pool @payload. */
static inline const struct nm_dpdk_rxq_split *nm_test_split(struct rte_mempool *hdr,
							     struct rte_mempool *payload)
{
	static struct nm_dpdk_rxq_split s;

	s = (struct nm_dpdk_rxq_split){ .hdr_pool = hdr, .payload_pool = payload,
					.hdr_len = 64 };
	return &s;
}

#endif
