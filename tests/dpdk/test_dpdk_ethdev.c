/* SPDX-License-Identifier: MIT */
/*
 * The ethdev adapter on real vdev ports: queue flags from what a PMD
 * reports, refusal before any ethdev call on ports without buffer split
 * (net_null, net_ring: the port keeps receiving, payload intact), and the
 * queue listing through telemetry and netmem-ctl's control socket. The
 * restart itself: test_dpdk_adapter_restart.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <netmem/dpdk_ethdev.h>
#include <netmem/dpdk_mempool.h>
#include <netmem/netdev.h>
#include <netmem/pkt.h>

#include "internal.h"
#include "nm_test.h"
#include "dpdk_test.h"
#include "telemetry_client.h"

/* What a split-capable port without checksum offload enabled offers. */
#define SPLIT_PORT_CAPS (NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT | NM_RXQ_CAP_RESTART)

static struct rte_mempool *host_pool, *hdr_pool, *dmabuf_pool;
static uint16_t null_port, ring_port;

static void test_caps_from_dev_info(void)
{
	struct rte_eth_dev_info i;
	const uint64_t split = RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT;

	memset(&i, 0, sizeof(i));
	CHECK_EQ(nm_dpdk_rxq_caps(&i, 0, true, true, false), 0);
	/* What a split-capable NIC (mlx5-like) reports. */
	i.rx_queue_offload_capa = split;
	i.rx_offload_capa = split;
	i.rx_seg_capa.max_nseg = 2;
	i.rx_seg_capa.multi_pools = 1;
	i.dev_capa = RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP;
	CHECK_EQ(nm_dpdk_rxq_caps(&i, 0, true, true, false), SPLIT_PORT_CAPS);
	/* A vdev copies with the CPU: not for unreadable memory. */
	CHECK_EQ(nm_dpdk_rxq_caps(&i, 0, false, true, false),
		 NM_RXQ_CAP_HEADER_SPLIT | NM_RXQ_CAP_RESTART);
	/* One pool for every segment: headers would land in the dmabuf. */
	i.rx_seg_capa.multi_pools = 0;
	CHECK_EQ(nm_dpdk_rxq_caps(&i, 0, true, true, false),
		 NM_RXQ_CAP_HEADER_SPLIT | NM_RXQ_CAP_RESTART);
	i.rx_seg_capa.multi_pools = 1;
	/* One segment is no split. */
	i.rx_seg_capa.max_nseg = 1;
	CHECK_EQ(nm_dpdk_rxq_caps(&i, 0, true, true, false), NM_RXQ_CAP_RESTART);
	i.rx_seg_capa.max_nseg = 2;
	/* Port-level only: usable when the port was configured with it. */
	i.rx_queue_offload_capa = 0;
	CHECK_EQ(nm_dpdk_rxq_caps(&i, 0, true, true, false), NM_RXQ_CAP_RESTART);
	CHECK_EQ(nm_dpdk_rxq_caps(&i, split, true, true, false), SPLIT_PORT_CAPS);
	/* No runtime setup: restartable only while the port is stopped. */
	i.dev_capa = 0;
	CHECK_EQ(nm_dpdk_rxq_caps(&i, split, true, true, false),
		 NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT);
	CHECK_EQ(nm_dpdk_rxq_caps(&i, split, true, true, true), SPLIT_PORT_CAPS);
	/* A setup we cannot read back cannot be restored. */
	CHECK_EQ(nm_dpdk_rxq_caps(&i, split, true, false, true),
		 NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT);
}

static uint64_t rx_some(uint16_t port, struct rte_mempool *expect_pool, int *bad)
{
	struct rte_mbuf *pkts[32];
	uint64_t rx = 0;

	for (int i = 0; i < 20; i++) {
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, 32);

		for (uint16_t k = 0; k < n; k++)
			*bad += pkts[k]->pool != expect_pool;
		rx += n;
		rte_pktmbuf_free_bulk(pkts, n);
	}
	return rx;
}

/* net_null has no buffer split: the bind is refused with the reason, before
 * any ethdev call, and the queue keeps receiving into its own pool. */
static void test_refused_on_net_null_port_keeps_running(void)
{
	struct nm_err err = { 0 };
	struct rte_eth_stats st0, st1;
	struct nm_rxq_info qi;
	struct nm_netdev *nd;
	int bad = 0;
	uint64_t rx;

	CHECK_EQ(nm_test_start_port(null_port, 1, host_pool), 0);
	CHECK_EQ(rx_some(null_port, host_pool, &bad), 640);
	CHECK_EQ(rte_eth_stats_get(null_port, &st0), 0);

	CHECK_EQ(nm_dpdk_rxq_bind(null_port, 0, nm_test_split(hdr_pool, dmabuf_pool), &err), -EOPNOTSUPP);
	printf("# refusal: %s\n", err.msg);
	CHECK(strstr(err.msg, "lacks unreadable,header-split,restart"));
	CHECK(strstr(err.msg, "refused before touching the queue"));
	CHECK(strstr(err.msg, "BUFFER_SPLIT no"));

	rx = rx_some(null_port, host_pool, &bad);
	CHECK_EQ(rx, 640);
	CHECK_EQ(bad, 0);
	CHECK_EQ(rte_eth_stats_get(null_port, &st1), 0);
	CHECK_EQ(st1.ipackets - st0.ipackets, 640);

	nd = nm_dpdk_port_netdev(null_port, &err);
	CHECK_MSG(nd, "%s", err.msg);
	CHECK_EQ(nm_netdev_rxq_info(nd, 0, &qi), 0);
	CHECK_EQ(qi.caps, 0);
	CHECK(qi.running);
	CHECK(!strcmp(qi.provider, "host"));
	CHECK_EQ(qi.counters.refused, 1);
	CHECK_EQ(qi.counters.restarts, 0);
	/* Nothing of the dmabuf pool went to the port. */
	CHECK_EQ(rte_mempool_avail_count(dmabuf_pool), dmabuf_pool->size);
}

/* net_ring loops frames back: they arrive intact before and after a
 * refused bind. */
static void test_refused_on_net_ring_payload_intact(void)
{
	struct nm_flow f;
	struct nm_err err = { 0 };

	CHECK_EQ(nm_flow_from_name("udp6", 9000, &f), 0);
	CHECK_EQ(nm_test_start_port(ring_port, 1, host_pool), 0);
	for (int round = 0; round < 2; round++) {
		struct rte_mbuf *tx[8], *rx[8];
		uint8_t payload[512];
		uint16_t n;

		for (int i = 0; i < 8; i++) {
			int len;

			nm_pattern_fill(payload, sizeof(payload), 0, (uint32_t)(round * 8 + i));
			tx[i] = rte_pktmbuf_alloc(host_pool);
			CHECK(tx[i]);
			len = nm_pkt_build(rte_pktmbuf_mtod(tx[i], void *), 1024, &f, 0,
					   payload, sizeof(payload));
			CHECK(len > 0);
			rte_pktmbuf_append(tx[i], (uint16_t)len);
		}
		CHECK_EQ(rte_eth_tx_burst(ring_port, 0, tx, 8), 8);
		n = rte_eth_rx_burst(ring_port, 0, rx, 8);
		CHECK_EQ(n, 8);
		for (int i = 0; i < 8; i++) {
			struct nm_pkt_info pi;
			const uint8_t *fr = rte_pktmbuf_mtod(rx[i], const uint8_t *);

			CHECK_EQ(nm_pkt_parse(fr, rx[i]->data_len, &pi), 0);
			CHECK_EQ(pi.payload_len, sizeof(payload));
			CHECK_EQ(nm_pattern_check(fr + pi.hdr_len, pi.payload_len, 0,
						  (uint32_t)(round * 8 + i)), -1);
		}
		rte_pktmbuf_free_bulk(rx, 8);
		if (round == 0) {
			CHECK_EQ(nm_dpdk_rxq_bind(ring_port, 0, nm_test_split(hdr_pool, dmabuf_pool), &err), -EOPNOTSUPP);
			CHECK(strstr(err.msg, "PMD net_ring"));
		}
	}
}

/* The same through telemetry and the CLI table. */
static void test_telemetry_lists_queues_and_pools(void)
{
	char out[8192], cmd[64];
	int n;

	snprintf(cmd, sizeof(cmd), "/netmem/queues,%u", null_port);
	n = nm_telemetry_query(cmd, out, sizeof(out));
	if (n == -ENOENT || n == -ECONNREFUSED)
		SKIP("no telemetry socket in this EAL (runtime dir not writable?)");
	CHECK_MSG(n > 0, "query: %s", strerror(-n));
	printf("# %s -> %s\n", cmd, out);
	CHECK(strstr(out, "\"name\":\"net_null0\""));
	CHECK(strstr(out, "\"flags\":[\"-\"]"));
	CHECK(strstr(out, "\"provider\":[\"host\"]"));
	CHECK(strstr(out, "\"refused\":[1]"));
	/* The size in effect: a DPDK port's own memory states none. */
	CHECK(strstr(out, "\"buf_size\":[0]"));
	n = nm_telemetry_query("/netmem/dmabuf_pools", out, sizeof(out));
	CHECK(n > 0);
	CHECK(strstr(out, "\"payload\""));
	n = nm_telemetry_query("/netmem/dmabuf_pool,payload", out, sizeof(out));
	CHECK(n > 0);
	printf("# /netmem/dmabuf_pool,payload -> %s\n", out);
	CHECK(strstr(out, "\"exporter\":\"memfd\""));
	CHECK(strstr(out, "\"num_mbufs\":1024"));
	n = nm_telemetry_query("/netmem/ports", out, sizeof(out));
	CHECK(n > 0);
	CHECK(strstr(out, "\"mirrored\":["));
}

/* What netmem-ctl asks: "queue-get" on the process's control socket. */
static int ctl_query(const char *req, char *out, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = nm_dpdk_ctl_path();
	size_t got = 0;
	ssize_t n;
	int fd;

	if (!path)
		return -ENOENT;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    write(fd, req, strlen(req)) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (got < len - 1 && (n = read(fd, out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	return (int)got;
}

/* The same through netmem-ctl's control socket, served by EAL's interrupt
 * thread: every port is listed, with the refusal counted. */
static void test_netmem_ctl_socket(void)
{
	char out[8192];
	int n = ctl_query("queue-get\n", out, sizeof(out));

	CHECK_MSG(n > 0, "control socket %s: %s", nm_dpdk_ctl_path(), strerror(-n));
	printf("# queue-get -> %.300s\n", out);
	CHECK(strstr(out, "\"name\":\"net_null0\""));
	CHECK(strstr(out, "\"name\":\"net_ring0\""));
	CHECK(strstr(out, "\"refused\":1"));
	CHECK(strstr(out, "\"dma-domain\":\"dpdk-eal\""));
	n = ctl_query("queue-get text\n", out, sizeof(out));
	CHECK(n > 0);
	CHECK(strstr(out, "net_null0: 1 RX queues, up, DMA domain dpdk-eal"));
}

int main(int argc, char **argv)
{
	static const char *const vdevs[] = {
		"--vdev=net_null0", "--vdev=net_ring0", NULL,
	};
	static const struct nm_test tests[] = {
		NM_TEST(test_caps_from_dev_info),
		NM_TEST(test_refused_on_net_null_port_keeps_running),
		NM_TEST(test_refused_on_net_ring_payload_intact),
		NM_TEST(test_telemetry_lists_queues_and_pools),
		NM_TEST(test_netmem_ctl_socket),
	};
	struct nm_dpdk_pool_params prm = { .source = "memfd:4M", .dmabuf_fd = -1 };
	int ret;

	char run_dir[] = "/tmp/nmtest-ctl-XXXXXX";

	(void)argc;
	/* netmem-ctl's socket goes to a directory of our own. */
	if (mkdtemp(run_dir))
		setenv("NETMEM_RUN_DIR", run_dir, 1);
	if (nm_dpdk_test_eal_init(argv[0], vdevs))
		return 0;
	host_pool = rte_pktmbuf_pool_create_by_ops("host", 2048, 32, 0,
						   RTE_MBUF_DEFAULT_BUF_SIZE, 0, "ring_mp_mc");
	hdr_pool = rte_pktmbuf_pool_create_by_ops("hdr", 1024, 32, 0, 256, 0, "ring_mp_mc");
	dmabuf_pool = nm_dpdk_pktmbuf_pool_create("payload", 1024, 32, 0, 2048, 0, &prm);
	if (!host_pool || !hdr_pool || !dmabuf_pool ||
	    rte_eth_dev_get_port_by_name("net_null0", &null_port) ||
	    rte_eth_dev_get_port_by_name("net_ring0", &ring_port)) {
		printf("Bail out! cannot set up the pools and vdev ports (see stderr)\n");
		return 1;
	}
	ret = nm_test_run(tests, sizeof(tests) / sizeof(tests[0]));
	rte_eal_cleanup();
	if (nm_dpdk_ctl_path())
		unlink(nm_dpdk_ctl_path());
	rmdir(run_dir);
	return ret;
}
