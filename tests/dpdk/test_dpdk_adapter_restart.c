/* SPDX-License-Identifier: MIT */
/*
 * The ethdev adapter's restart of one RX queue with buffer split, and its
 * rollback.
 *
 * No PMD available without hardware offers buffer split (mlx5 and a few
 * others do; igb, net_null, net_ring do not), so these tests stand in for
 * one: a table of fake ethdev calls reports the capability and records every
 * queue setup/start/stop on a net_null port with two RX queues. What they
 * prove is the adapter's side: which calls, in which order, with which
 * segments, and the rollback; not a PMD's buffer split itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <netmem/dpdk_ethdev.h>
#include <netmem/dpdk_mempool.h>
#include <netmem/netdev.h>

#include "internal.h"
#include "nm_test.h"
#include "dpdk_test.h"

/* What a split-capable port without checksum offload enabled offers. */
#define SPLIT_PORT_CAPS (NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT | NM_RXQ_CAP_RESTART)

static struct rte_mempool *host_pool, *hdr_pool, *dmabuf_pool;
static uint16_t fake_port;

/* ---- a stand-in PMD with buffer split ---------------------------------- */

struct fake_q {
	uint16_t nb_desc;
	struct rte_eth_rxconf conf;
	struct rte_mempool *mp;
	union rte_eth_rxseg segs[2];
	uint16_t nseg;
	bool started;
};

static struct {
	bool runtime_setup;
	bool port_started;
	int fail_split_setups;
	const struct rte_device *dev;
	struct fake_q q[2];
	char log[256];
} fk;

static void __attribute__((format(printf, 1, 2))) fk_log(const char *fmt, ...)
{
	size_t used = strlen(fk.log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fk.log + used, sizeof(fk.log) - used, fmt, ap);
	va_end(ap);
}

static int fk_info_get(uint16_t port, struct rte_eth_dev_info *info)
{
	int ret = rte_eth_dev_info_get(port, info);

	if (ret || port != fake_port)
		return ret;
	info->rx_queue_offload_capa |= RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT;
	info->rx_offload_capa |= RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT;
	info->rx_seg_capa.max_nseg = 2;
	info->rx_seg_capa.multi_pools = 1;
	if (fk.runtime_setup)
		info->dev_capa |= RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP;
	else
		info->dev_capa &= ~RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP;
	fk.dev = info->device;
	return 0;
}

static int fk_rxq_info_get(uint16_t port, uint16_t q, struct rte_eth_rxq_info *qi)
{
	if (port != fake_port)
		return rte_eth_rx_queue_info_get(port, q, qi);
	memset(qi, 0, sizeof(*qi));
	qi->mp = fk.q[q].mp ? fk.q[q].mp : fk.q[q].segs[0].split.mp;
	qi->conf = fk.q[q].conf;
	qi->conf.rx_nseg = fk.q[q].nseg;
	qi->nb_desc = fk.q[q].nb_desc;
	qi->queue_state = fk.q[q].started ? RTE_ETH_QUEUE_STATE_STARTED :
					    RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

static int fk_rxq_setup(uint16_t port, uint16_t q, uint16_t nb_desc, unsigned int socket,
			const struct rte_eth_rxconf *conf, struct rte_mempool *mp)
{
	struct fake_q *fq = &fk.q[q];

	if (port != fake_port)
		return rte_eth_rx_queue_setup(port, q, nb_desc, socket, conf, mp);
	fk_log("setup(%d,%d) ", q, conf->rx_nseg ? conf->rx_nseg : 1);
	/* As ethdev: a running port needs runtime setup and a stopped queue. */
	if (fk.port_started && (!fk.runtime_setup || fq->started))
		return -EBUSY;
	if (conf->rx_nseg && fk.fail_split_setups) {
		fk.fail_split_setups--;
		return -EIO;
	}
	if (conf->rx_nseg && (mp || !(conf->offloads & RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT)))
		return -EINVAL;
	fq->nb_desc = nb_desc;
	fq->conf = *conf;
	fq->mp = mp;
	fq->nseg = conf->rx_nseg;
	memset(fq->segs, 0, sizeof(fq->segs));
	for (int i = 0; i < conf->rx_nseg && i < 2; i++)
		fq->segs[i] = conf->rx_seg[i];
	fq->conf.rx_seg = NULL;
	return 0;
}

static int fk_rxq_start(uint16_t port, uint16_t q)
{
	if (port != fake_port)
		return rte_eth_dev_rx_queue_start(port, q);
	fk_log("start(%d) ", q);
	if (!fk.port_started)
		return -EINVAL;
	fk.q[q].started = true;
	return 0;
}

static int fk_rxq_stop(uint16_t port, uint16_t q)
{
	if (port != fake_port)
		return rte_eth_dev_rx_queue_stop(port, q);
	fk_log("stop(%d) ", q);
	fk.q[q].started = false;
	return 0;
}

static bool fk_does_dma(const struct rte_device *dev)
{
	return dev == fk.dev || nm_dpdk_device_does_dma(dev);
}

static int fk_conf_get(uint16_t port, struct rte_eth_conf *conf)
{
	return nm_dpdk_ethdev_default_ops.conf_get(port, conf);
}

static const struct nm_dpdk_ethdev_ops fake_ops = {
	.info_get = fk_info_get,
	.conf_get = fk_conf_get,
	.rxq_info_get = fk_rxq_info_get,
	.rxq_setup = fk_rxq_setup,
	.rxq_start = fk_rxq_start,
	.rxq_stop = fk_rxq_stop,
	.does_dma = fk_does_dma,
};

static void fk_reset(bool runtime, bool started)
{
	fk.runtime_setup = runtime;
	fk.port_started = started;
	fk.fail_split_setups = 0;
	for (int q = 0; q < 2; q++) {
		memset(&fk.q[q], 0, sizeof(fk.q[q]));
		fk.q[q].nb_desc = 512;
		fk.q[q].mp = host_pool;
		fk.q[q].conf.rx_free_thresh = 32;
		fk.q[q].started = started;
	}
	fk.log[0] = '\0';
}

static bool q_is_original(const struct fake_q *fq)
{
	return fq->mp == host_pool && !fq->nseg && fq->nb_desc == 512 &&
	       fq->conf.rx_free_thresh == 32 &&
	       !(fq->conf.offloads & RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT);
}

static void provider_of(uint32_t q, char *name, uint64_t *restarts, uint64_t *rollbacks)
{
	struct nm_netdev *nd = nm_dpdk_port_netdev(fake_port, NULL);
	struct nm_rxq_info qi = { 0 };

	if (nd)
		nm_netdev_rxq_info(nd, q, &qi);
	strcpy(name, qi.provider);
	*restarts = qi.counters.restarts;
	*rollbacks = qi.counters.rollbacks;
}

/* A port with per-queue buffer split and runtime setup: binding queue 1
 * stops, re-sets-up (headers to the host pool, payload to the dmabuf pool)
 * and starts queue 1 only; queue 0 is never called. */
static void test_bind_restarts_only_that_queue(void)
{
	struct nm_err err = { 0 };
	struct nm_netdev *nd;
	char prov[24], *table = NULL;
	size_t tlen = 0;
	uint64_t restarts, rollbacks;
	FILE *mem;

	fk_reset(true, true);
	nm_dpdk_set_ethdev_ops(&fake_ops);
	nd = nm_dpdk_port_netdev(fake_port, &err);
	CHECK_MSG(nd, "%s", err.msg);
	CHECK_EQ(nd->rxqs[1].caps, SPLIT_PORT_CAPS);
	CHECK_EQ(fk.log[0], '\0');          /* adopting touched nothing */
	CHECK_MSG(nm_dpdk_rxq_bind(fake_port, 1, nm_test_split(hdr_pool, dmabuf_pool), &err) == 0, "%s", err.msg);
	CHECK_MSG(!strcmp(fk.log, "stop(1) setup(1,2) start(1) "), "calls: %s", fk.log);
	CHECK(fk.q[1].mp == NULL && fk.q[1].nseg == 2);
	CHECK(fk.q[1].segs[0].split.mp == hdr_pool && fk.q[1].segs[0].split.length == 64);
	CHECK(fk.q[1].segs[1].split.mp == dmabuf_pool && fk.q[1].segs[1].split.length == 0);
	CHECK(fk.q[1].conf.offloads & RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT);
	CHECK_EQ(fk.q[1].nb_desc, 512);                 /* the rest as it was */
	CHECK_EQ(fk.q[1].conf.rx_free_thresh, 32);
	CHECK(fk.q[1].started && fk.q[0].started);
	CHECK(q_is_original(&fk.q[0]));
	provider_of(1, prov, &restarts, &rollbacks);
	CHECK(!strcmp(prov, "dmabuf"));
	CHECK_EQ(restarts, 1);
	provider_of(0, prov, &restarts, &rollbacks);
	CHECK(!strcmp(prov, "host"));
	CHECK_EQ(restarts, 0);

	/* The CLI's view of the same device. */
	mem = open_memstream(&table, &tlen);
	nm_netdev_print_queues(nd, mem);
	fclose(mem);
	for (char *line = strtok(table, "\n"); line; line = strtok(NULL, "\n"))
		printf("# %s\n", line);
	free(table);
	mem = open_memstream(&table, &tlen);
	nm_netdev_print_queues(nd, mem);
	fclose(mem);
	CHECK(strstr(table, "dmabuf") && strstr(table, "headers in hdr"));
	free(table);

	/* Bound already: refused, nothing called. */
	fk.log[0] = '\0';
	CHECK_EQ(nm_dpdk_rxq_bind(fake_port, 1, nm_test_split(hdr_pool, dmabuf_pool), &err), -EBUSY);
	CHECK_EQ(fk.log[0], '\0');
}

/* The split setup fails: the queue goes back onto the setup it had. */
static void test_failed_setup_rolls_back(void)
{
	struct nm_err err = { 0 };
	char prov[24];
	uint64_t restarts, rollbacks;

	fk.log[0] = '\0';
	fk.fail_split_setups = 1;
	CHECK_EQ(nm_dpdk_rxq_bind(fake_port, 0, nm_test_split(hdr_pool, dmabuf_pool), &err), -EIO);
	printf("# %s\n", err.msg);
	CHECK_MSG(!strcmp(fk.log, "stop(0) setup(0,2) setup(0,1) start(0) "), "calls: %s",
		  fk.log);
	CHECK(q_is_original(&fk.q[0]));
	CHECK(fk.q[0].started);
	provider_of(0, prov, &restarts, &rollbacks);
	CHECK(!strcmp(prov, "host"));
	CHECK_EQ(rollbacks, 1);
}

/* Unbinding puts queue 1 back exactly as the app had set it up. */
static void test_unbind_restores_setup(void)
{
	struct nm_err err = { 0 };
	char prov[24];
	uint64_t restarts, rollbacks;

	fk.log[0] = '\0';
	CHECK_MSG(nm_dpdk_rxq_unbind(fake_port, 1, &err) == 0, "%s", err.msg);
	CHECK_MSG(!strcmp(fk.log, "stop(1) setup(1,1) start(1) "), "calls: %s", fk.log);
	CHECK(q_is_original(&fk.q[1]));
	provider_of(1, prov, &restarts, &rollbacks);
	CHECK(!strcmp(prov, "host"));
	CHECK_EQ(restarts, 2);
	CHECK_EQ(nm_dpdk_port_forget(fake_port, &err), 0);
}

/* Without runtime setup a running port is refused (check first, no call);
 * a stopped one is set up directly, nothing to stop or start. */
static void test_no_runtime_setup(void)
{
	struct nm_err err = { 0 };

	fk_reset(false, true);
	CHECK_EQ(nm_dpdk_rxq_bind(fake_port, 0, nm_test_split(hdr_pool, dmabuf_pool), &err), -EOPNOTSUPP);
	CHECK(strstr(err.msg, "lacks restart"));
	CHECK_EQ(fk.log[0], '\0');

	fk_reset(false, false);
	CHECK_MSG(nm_dpdk_rxq_bind(fake_port, 0, nm_test_split(hdr_pool, dmabuf_pool), &err) == 0, "%s", err.msg);
	CHECK_MSG(!strcmp(fk.log, "setup(0,2) "), "calls: %s", fk.log);
	fk.log[0] = '\0';
	CHECK_MSG(nm_dpdk_rxq_unbind(fake_port, 0, &err) == 0, "%s", err.msg);
	CHECK_MSG(!strcmp(fk.log, "setup(0,1) "), "calls: %s", fk.log);
	CHECK(q_is_original(&fk.q[0]));
	CHECK_EQ(nm_dpdk_port_forget(fake_port, &err), 0);
	nm_dpdk_set_ethdev_ops(NULL);
}

int main(int argc, char **argv)
{
	static const char *const vdevs[] = { "--vdev=net_null1", NULL };
	static const struct nm_test tests[] = {
		NM_TEST(test_bind_restarts_only_that_queue),
		NM_TEST(test_failed_setup_rolls_back),
		NM_TEST(test_unbind_restores_setup),
		NM_TEST(test_no_runtime_setup),
	};
	struct nm_dpdk_pool_params prm = { .source = "memfd:4M" };
	int ret;

	(void)argc;
	setenv("NETMEM_CTL", "0", 1);
	if (nm_dpdk_test_eal_init(argv[0], vdevs))
		return 0;
	host_pool = rte_pktmbuf_pool_create_by_ops("host", 2048, 32, 0,
						   RTE_MBUF_DEFAULT_BUF_SIZE, 0, "ring_mp_mc");
	hdr_pool = rte_pktmbuf_pool_create_by_ops("hdr", 1024, 32, 0, 256, 0, "ring_mp_mc");
	dmabuf_pool = nm_dpdk_pktmbuf_pool_create("payload", 1024, 32, 0, 2048, 0, &prm);
	if (!host_pool || !hdr_pool || !dmabuf_pool ||
	    rte_eth_dev_get_port_by_name("net_null1", &fake_port) ||
	    nm_test_start_port(fake_port, 2, host_pool)) {
		printf("Bail out! cannot set up the pools and the vdev port (see stderr)\n");
		return 1;
	}
	ret = nm_test_run(tests, sizeof(tests) / sizeof(tests[0]));
	rte_eal_cleanup();
	return ret;
}
