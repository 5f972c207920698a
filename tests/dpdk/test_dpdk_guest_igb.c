/* SPDX-License-Identifier: MIT */
/*
 * In the guest, on a real PCI NIC model over VFIO (port B, DPDK's
 * net_e1000_igb): the adapter's flags for a port without buffer split, its
 * refusal before any ethdev call, and traffic that keeps flowing, payload
 * intact, through the refusal. Frames come from port A (kernel igb) through
 * an AF_PACKET socket this program opens itself. A pool on GPU memory (the
 * fake CUDA driver table: no GPU in the guest) is refused for this port,
 * which DMAs through VFIO type1, with the reason and the way out.
 *
 *   test_dpdk_guest_igb   (needs NETMEM_GUEST_PORT_B_BDF on vfio-pci and
 *                          NETMEM_GUEST_PORT_A_IF; skips without them)
 */
#include <errno.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <netmem/dpdk_ethdev.h>
#include <netmem/dpdk_mempool.h>
#include <netmem/netdev.h>

#include "nm_test.h"
#include "test_frame.h"
#ifdef NM_HAVE_CUDA_H
#include "cuda_fake.h"
#endif

#define PORT_UDP 47001
#define BURST 50

static uint16_t port;
static int tx_fd = -1;
static struct sockaddr_ll tx_addr;
static struct nm_flow tx_flow;
static struct rte_mempool *host_pool, *hdr_pool, *dmabuf_pool;
static uint32_t next_seq;

static int open_sender(const char *ifname)
{
	struct ifreq ifr = { 0 };

	tx_fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (tx_fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(tx_fd, SIOCGIFHWADDR, &ifr))
		return -errno;
	tx_addr = (struct sockaddr_ll){ .sll_family = AF_PACKET, .sll_halen = 6,
					.sll_ifindex = (int)if_nametoindex(ifname) };
	memcpy(tx_addr.sll_addr, nm_tf_dst_mac, 6);
	nm_tf_flow(&tx_flow, (const uint8_t *)ifr.ifr_hwaddr.sa_data, PORT_UDP);
	return 0;
}

/* Send @n frames from port A, receive them on port B, check each. Returns
 * how many of ours arrived intact. */
static unsigned int send_and_receive(unsigned int n, struct rte_mempool *expect)
{
	uint8_t frame[1200], payload[1000];
	struct rte_mbuf *pkts[32];
	unsigned int good = 0;
	uint32_t first = next_seq;

	for (unsigned int i = 0; i < n; i++) {
		nm_tf_payload(payload, sizeof(payload), next_seq++);
		int len = nm_pkt_build(frame, sizeof(frame), &tx_flow, 0, payload,
				       sizeof(payload));

		if (len < 0 || sendto(tx_fd, frame, (size_t)len, 0,
				      (struct sockaddr *)&tx_addr, sizeof(tx_addr)) < 0)
			return 0;
		usleep(2000);
	}
	for (int spin = 0; spin < 2000 && good < n; spin++) {
		uint16_t k = rte_eth_rx_burst(port, 0, pkts, 32);

		for (uint16_t i = 0; i < k; i++) {
			uint32_t seq, bad, checked;

			if (pkts[i]->pool == expect && pkts[i]->nb_segs == 1 &&
			    nm_tf_check(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
					pkts[i]->data_len, PORT_UDP, &seq, &bad, &checked) &&
			    !bad && seq >= first && seq < next_seq)
				good++;
		}
		rte_pktmbuf_free_bulk(pkts, k);
		if (!k)
			usleep(1000);
	}
	return good;
}

static void test_traffic_flows_before(void)
{
	unsigned int got = send_and_receive(BURST, host_pool);

	CHECK_MSG(got == BURST, "%u of %u frames arrived intact", got, BURST);
}

static void test_flags_from_igb(void)
{
	struct nm_err err = { 0 };
	struct nm_netdev *nd = nm_dpdk_port_netdev(port, &err);
	char *table = NULL;
	size_t len = 0;
	FILE *mem;

	CHECK_MSG(nd, "%s", err.msg);
	/* igb: no buffer split, no runtime queue setup, port running. */
	CHECK_EQ(nd->rxqs[0].caps, 0);
	mem = open_memstream(&table, &len);
	nm_netdev_print_queues(nd, mem);
	fclose(mem);
	for (char *l = strtok(table, "\n"); l; l = strtok(NULL, "\n"))
		printf("# %s\n", l);
	free(table);
}

static void test_bind_refused_before_touching(void)
{
	struct nm_dpdk_rxq_split s = { .hdr_pool = hdr_pool, .payload_pool = dmabuf_pool,
				       .hdr_len = 64 };
	struct nm_err err = { 0 };
	struct rte_eth_rxq_info before, after;

	CHECK_EQ(rte_eth_rx_queue_info_get(port, 0, &before), 0);
	CHECK_EQ(nm_dpdk_rxq_bind(port, 0, &s, &err), -EOPNOTSUPP);
	printf("# %s\n", err.msg);
	CHECK(strstr(err.msg, "PMD net_e1000_igb") && strstr(err.msg, "DMA device"));
	CHECK_EQ(rte_eth_rx_queue_info_get(port, 0, &after), 0);
	CHECK(after.mp == host_pool && after.nb_desc == before.nb_desc);
	CHECK_EQ(after.queue_state, RTE_ETH_QUEUE_STATE_STARTED);
}

/* GPU memory cannot be mapped for a device behind VFIO type1: the pool is
 * refused at creation, with the reason, before EAL registers anything; the
 * memory is released once; the port goes on receiving (next test). */
static void test_gpu_pool_refused_for_igb(void)
{
#ifdef NM_HAVE_CUDA_H
	struct nm_err err = { 0 };
	struct nm_dpdk_pool_params prm = { .source = "fake cuda:8M", .err = &err };
	struct nm_dpdk_pool_info pi;
	struct nm_dmabuf *buf;
	struct rte_mempool *mp;

	fake_reset();
	CHECK_MSG(nm_cuda_dmabuf_create_with(&fake_api, 8u << 20, 0, true, &buf, &err) == 0,
		  "%s", err.msg);
	prm.dmabuf = buf;
	mp = nm_dpdk_pktmbuf_pool_create("gpu", 512, 0, 0, 2048, 0, &prm);
	printf("# %s\n", err.msg);
	CHECK(!mp);
	CHECK_EQ(rte_errno, EOPNOTSUPP);
	CHECK(strstr(err.msg, "through EAL's VFIO type1 container"));
	CHECK(strstr(err.msg, getenv("NETMEM_GUEST_PORT_B_BDF")));
	CHECK(strstr(err.msg, "iommufd"));
	CHECK_EQ(f.dev_htod_bytes, 0);
	nm_dmabuf_put(buf);
	CHECK_EQ(f.created, f.mem_released);
	CHECK_EQ(f.retained, f.released);
	/* The udmabuf pool is as it was. */
	CHECK_EQ(nm_dpdk_pool_info(dmabuf_pool, &pi), 0);
	CHECK_EQ(pi.mapped_devices, 1);
#else
	SKIP("built without the CUDA toolkit's cuda.h (no fake driver table)");
#endif
}

static void test_traffic_flows_after(void)
{
	unsigned int got = send_and_receive(BURST, host_pool);

	CHECK_MSG(got == BURST, "%u of %u frames arrived intact", got, BURST);
}

static void test_dmabuf_mapped_for_igb(void)
{
	struct nm_dpdk_pool_info pi;

	CHECK_EQ(nm_dpdk_pool_info(dmabuf_pool, &pi), 0);
	printf("# pool %s: %s %llu MiB, mapped for %u device(s)\n", dmabuf_pool->name,
	       pi.exporter, (unsigned long long)(pi.dmabuf_size >> 20), pi.mapped_devices);
	CHECK(!strcmp(pi.exporter, "udmabuf"));
	CHECK_EQ(pi.mapped_devices, 1);
}

int main(int argc, char **argv)
{
	static const struct nm_test tests[] = {
		NM_TEST(test_traffic_flows_before),
		NM_TEST(test_flags_from_igb),
		NM_TEST(test_bind_refused_before_touching),
		NM_TEST(test_gpu_pool_refused_for_igb),
		NM_TEST(test_traffic_flows_after),
		NM_TEST(test_dmabuf_mapped_for_igb),
	};
	const char *bdf = getenv("NETMEM_GUEST_PORT_B_BDF");
	const char *ifa = getenv("NETMEM_GUEST_PORT_A_IF");
	struct nm_dpdk_pool_params prm = { .source = "udmabuf:8M" };
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_link link = { 0 };
	char allow[64];
	char *eal[] = { argv[0], "-l", "0", "-n", "1", "-a", allow,
			"--log-level=pmd.mempool.dmabuf:info", NULL };
	int ret;

	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!bdf || !ifa || !getenv("NETMEM_GUEST_VFIO_GROUP")) {
		printf("1..0 # SKIP not in the test guest with port B on vfio-pci\n");
		return 0;
	}
	snprintf(allow, sizeof(allow), "%s", bdf);
	rte_openlog_stream(stderr);
	if (rte_eal_init(8, eal) < 0 || rte_eth_dev_count_avail() != 1 || open_sender(ifa)) {
		printf("Bail out! EAL on %s or the sender on %s did not start\n", bdf, ifa);
		return 1;
	}
	port = 0;
	host_pool = rte_pktmbuf_pool_create_by_ops("host", 2048, 32, 0,
						   RTE_MBUF_DEFAULT_BUF_SIZE, 0, "ring_mp_mc");
	hdr_pool = rte_pktmbuf_pool_create_by_ops("hdr", 512, 32, 0, 256, 0, "ring_mp_mc");
	dmabuf_pool = nm_dpdk_pktmbuf_pool_create("payload", 1024, 32, 0, 2048, 0, &prm);
	if (!host_pool || !hdr_pool || !dmabuf_pool ||
	    rte_eth_dev_configure(port, 1, 1, &conf) ||
	    rte_eth_rx_queue_setup(port, 0, 512, 0, NULL, host_pool) ||
	    rte_eth_tx_queue_setup(port, 0, 512, 0, NULL) ||
	    rte_eth_promiscuous_enable(port) || rte_eth_dev_start(port)) {
		printf("Bail out! cannot set up port %s\n", bdf);
		return 1;
	}
	for (int i = 0; i < 100 && !link.link_status; i++) {
		if (rte_eth_link_get_nowait(port, &link))
			break;
		usleep(100000);
	}
	ret = nm_test_run(tests, sizeof(tests) / sizeof(tests[0]));
	rte_eth_dev_stop(port);
	nm_dpdk_port_forget(port, NULL);
	rte_eth_dev_close(port);
	nm_dpdk_pool_free(dmabuf_pool, NULL);
	rte_eal_cleanup();
	return ret;
}
