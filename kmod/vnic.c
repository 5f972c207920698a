// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The virtual NIC: a net_device with several RX queues and the kernel's
 * queue management ops (netdev_queue_mgmt_ops), so that queue restarts are
 * real in the kernel, whether this module drives them (restart.c) or the
 * kernel does (netlink bind-rx -> netdev_rx_queue_restart()).
 *
 * Each queue has capability flags, set here by the driver (module parameter
 * rxq_caps). A running queue owns a ring of posted buffers from a page pool:
 *  - bound to this module's provider and able to take unreadable buffers:
 *    our nm_page_pool on that provider;
 *  - otherwise a kernel page_pool. It asks for unreadable netmem
 *    (PP_FLAG_ALLOW_UNREADABLE_NETMEM) exactly when the queue has the
 *    unreadable flag, and the kernel then gives it the devmem binding of
 *    rxq->mp_params if netlink bound one. A queue without the flag ignores
 *    any provider, as a kernel driver without the page pool flag does.
 * Beside it each queue memory has a host page pool for split-off headers.
 *
 * nmk0 has a peer, nmkp0, a plain Ethernet device (veth-like): what nmkp0
 * sends arrives on nmk0's RX queues (vnic_rx.c), what nmk0 sends arrives on
 * nmkp0 as an ordinary receive. Move nmkp0 to another namespace to make the
 * kernel route between them.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/netdev_queues.h>
#include <net/netdev_rx_queue.h>
#include <net/page_pool/helpers.h>

#include "nm_kmod.h"

static struct nm_vnic *to_vnic(struct net_device *nd)
{
	return netdev_priv(nd);
}

/* The kernel's netlink bind-rx has its binding on queue @idx. */
static bool kernel_bound(struct nm_vnic *dev, u32 idx)
{
	return __netif_get_rx_queue(dev->netdev, idx)->mp_params.mp_ops;
}

/*
 * While a queue runs on the kernel's devmem, its pool holds the module
 * (qmem_build_kernel). A down queue has no pool, yet the binding stays
 * installed and, when its netlink socket closes, is unmapped against our
 * device: hold the module for it until the kernel takes it off the queue
 * (it restarts the queue then, so mem_alloc sees it gone) or the queue
 * runs again.
 */
static void kernel_pin_set(struct nm_vnic *dev, u32 idx, bool pin)
{
	if (pin == dev->kernel_pin[idx])
		return;
	if (pin && !try_module_get(THIS_MODULE))
		return;
	if (!pin)
		module_put(THIS_MODULE);
	dev->kernel_pin[idx] = pin;
}

/* Host pages for the headers the NIC splits off: never on a provider. */
static int qmem_build_hdr(struct nm_vnic *dev, struct nm_rxq *rxq,
			  struct nm_vnic_qmem *qm)
{
	struct page_pool_params pp = {
		.order = 0,
		.pool_size = 256,
		.nid = NUMA_NO_NODE,
		.dev = dev->dma_dev,
		.dma_dir = DMA_FROM_DEVICE,
		.max_len = PAGE_SIZE,
		.netdev = dev->netdev,
		.queue_idx = rxq->index,
		.flags = PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV,
	};

	qm->hpp = page_pool_create(&pp);
	if (IS_ERR(qm->hpp)) {
		int ret = PTR_ERR(qm->hpp);

		qm->hpp = NULL;
		return ret;
	}
	return 0;
}

/* Post buffers from our pool on our provider. */
static int qmem_build_nm(struct nm_vnic *dev, struct nm_rxq *rxq,
			 struct nm_vnic_qmem *qm)
{
	struct nm_page_pool_params pp = {
		.pool_size = dev->pool_size,
		.flags = NM_PP_FLAG_DMA_MAP | NM_PP_FLAG_ALLOW_UNREADABLE_NETMEM,
		.nid = NUMA_NO_NODE,
		.queue_idx = rxq->index,
		.dev = dev,
		.mp = rxq->mp,
	};
	int ret;

	ret = nm_page_pool_create(&pp, &qm->npp, NULL);
	if (ret)
		return ret;
	nm_vnic_ring_refill(dev, qm, NULL, GFP_KERNEL);
	return 0;
}

/* Post buffers from a kernel page_pool (host pages or the kernel's devmem). */
static int qmem_build_kernel(struct nm_vnic *dev, struct nm_rxq *rxq,
			     struct nm_vnic_qmem *qm)
{
	struct page_pool_params pp = {
		.order = get_order(qm->buf_size),
		.pool_size = dev->pool_size,
		.nid = NUMA_NO_NODE,
		.dev = dev->dma_dev,
		.dma_dir = DMA_FROM_DEVICE,
		.max_len = qm->buf_size,
		.offset = 0,
		.netdev = dev->netdev,
		.queue_idx = rxq->index,
		.flags = PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV,
	};

	if (rxq->caps & NM_RXQ_CAP_UNREADABLE)
		pp.flags |= PP_FLAG_ALLOW_UNREADABLE_NETMEM;
	qm->kpp = page_pool_create(&pp);
	if (IS_ERR(qm->kpp)) {
		int ret = PTR_ERR(qm->kpp);

		qm->kpp = NULL;
		return ret;
	}
	if (qm->kpp->mp_ops) {
		/* The kernel's binding now lives in this pool and will be
		 * unmapped against our device: stay loaded until it is gone. */
		qm->kernel_devmem = true;
		__module_get(THIS_MODULE);
	}
	nm_vnic_ring_refill(dev, qm, NULL, GFP_KERNEL);
	return 0;
}

static void qmem_release(struct nm_vnic_qmem *qm)
{
	u32 i;

	if (qm->npp) {
		for (i = 0; i < qm->ring_fill; i++)
			nm_page_pool_put_netmem(qm->npp, qm->ring[i], false);
		nm_page_pool_destroy(qm->npp);
	}
	if (qm->kpp) {
		if (qm->part)   /* the large buffer being filled: our reference */
			page_pool_put_full_netmem(qm->kpp, (__force netmem_ref)qm->part, false);
		for (i = 0; i < qm->ring_fill; i++)
			page_pool_put_full_netmem(qm->kpp,
						  (__force netmem_ref)qm->ring[i],
						  false);
		page_pool_destroy(qm->kpp);
		if (qm->kernel_devmem)
			module_put(THIS_MODULE);
	}
	if (qm->hpp)
		page_pool_destroy(qm->hpp);
	kvfree(qm->ring);
	memset(qm, 0, sizeof(*qm));
}

/* @buf_size: PAGE_SIZE, or larger where the core's qcfg asks (vnic_qcfg.c). */
static int qmem_build(struct nm_vnic *dev, struct nm_vnic_qmem *qm, u32 idx, u32 buf_size)
{
	struct nm_rxq *rxq = &dev->rxqs[idx];
	int ret;

	memset(qm, 0, sizeof(*qm));
	qm->buf_size = buf_size;
	/* The same bytes posted whatever the buffer size, as bnxt does. */
	qm->ring_cap = max(1u, dev->ring_size >> get_order(buf_size));
	qm->ring = kvcalloc(dev->ring_size, sizeof(*qm->ring), GFP_KERNEL);
	if (!qm->ring)
		return -ENOMEM;
	ret = qmem_build_hdr(dev, rxq, qm);
	if (ret)
		goto out;
	if (rxq->mp.ops && (rxq->caps & NM_RXQ_CAP_UNREADABLE))
		ret = qmem_build_nm(dev, rxq, qm);
	else
		ret = qmem_build_kernel(dev, rxq, qm);
out:
	if (!ret && !qm->ring_fill)
		ret = -ENOMEM;          /* a ring with no buffer receives nothing */
	if (ret) {
		qmem_release(qm);
		return ret;
	}
	rxq->counters.bufs_posted += qm->ring_fill;
	return 0;
}

/* ---- netdev_queue_mgmt_ops: what the restart paths call ------------------ */

static int nm_vnic_queue_mem_alloc(struct net_device *nd, NM_QCFG_ARG void *mem, int idx)
{
	struct nm_vnic *dev = to_vnic(nd);

	dev->rxqs[idx].counters.cb_mem_alloc++;
	if (dev->kernel_pin[idx] && !kernel_bound(dev, idx))
		kernel_pin_set(dev, idx, false);
	/*
	 * 6.12's bind-rx checks nothing about header split; this driver can
	 * only learn of the kernel's binding here. Payload in net_iovs needs
	 * the headers apart, so it refuses now, one callback in.
	 */
	if (kernel_bound(dev, idx) &&
	    !(dev->rxqs[idx].caps & NM_RXQ_CAP_HEADER_SPLIT)) {
		netdev_warn(nd, "queue %d: devmem refused: %s\n", idx,
			    dev->tcp_data_split ? "the queue cannot split headers" :
			    "tcp-data-split is off");
		return -EOPNOTSUPP;
	}
#if NM_HAVE_QCFG
	return qmem_build(dev, mem, idx, nm_vnic_qcfg_buf_size(qcfg));
#else
	return qmem_build(dev, mem, idx, PAGE_SIZE);
#endif
}

static void nm_vnic_queue_mem_free(struct net_device *nd, void *mem)
{
	struct nm_vnic *dev = to_vnic(nd);
	struct nm_vnic_qmem *qm = mem;
	u32 idx = 0;

	if (qm->npp)
		idx = qm->npp->p.queue_idx;
	else if (qm->kpp)
		idx = qm->kpp->slow.queue_idx;
	else if (qm->hpp)
		idx = qm->hpp->slow.queue_idx;
	dev->rxqs[idx].counters.cb_mem_free++;
	qmem_release(qm);
}

static int nm_vnic_queue_stop(struct net_device *nd, void *mem, int idx)
{
	struct nm_vnic *dev = to_vnic(nd);
	struct nm_rxq *rxq = &dev->rxqs[idx];

	rxq->counters.cb_stop++;
	if (!dev->running[idx])
		return -ENETDOWN;
	/* The driver cannot stop this queue alone while the device runs. */
	if (!(rxq->caps & NM_RXQ_CAP_RESTART))
		return -EOPNOTSUPP;
	nm_vnic_rx_stop(dev, idx);
	dev->running[idx] = false;
	memcpy(mem, &dev->cur[idx], sizeof(dev->cur[idx]));
	memset(&dev->cur[idx], 0, sizeof(dev->cur[idx]));
	return 0;
}

static int nm_vnic_queue_start(struct net_device *nd, NM_QCFG_ARG void *mem, int idx)
{
	struct nm_vnic *dev = to_vnic(nd);

	dev->rxqs[idx].counters.cb_start++;
	if (dev->running[idx] || !netif_running(nd))
		return -EBUSY;
	memcpy(&dev->cur[idx], mem, sizeof(dev->cur[idx]));
	dev->running[idx] = true;
	nm_vnic_rx_start(dev, idx);
	return 0;
}

static const struct netdev_queue_mgmt_ops nm_vnic_qops = {
	.ndo_queue_mem_size = sizeof(struct nm_vnic_qmem),
	.ndo_queue_mem_alloc = nm_vnic_queue_mem_alloc,
	.ndo_queue_mem_free = nm_vnic_queue_mem_free,
	.ndo_queue_start = nm_vnic_queue_start,
	.ndo_queue_stop = nm_vnic_queue_stop,
#if NM_HAVE_QCFG
	.ndo_default_qcfg = nm_vnic_default_qcfg,
	.ndo_validate_qcfg = nm_vnic_validate_qcfg,
	.supported_params = QCFG_RX_PAGE_SIZE,
#endif
};

/* ---- net_device_ops ------------------------------------------------------- */

static void nm_vnic_close_queues(struct nm_vnic *dev)
{
	u32 i;

	for (i = 0; i < dev->num_rx_queues; i++) {
		if (dev->running[i]) {
			netif_queue_set_napi(dev->netdev, i, NETDEV_QUEUE_TYPE_RX, NULL);
			nm_vnic_rx_stop(dev, i);
			dev->running[i] = false;
			qmem_release(&dev->cur[i]);
		}
		skb_queue_purge(&dev->rx[i].backlog);
		kernel_pin_set(dev, i, kernel_bound(dev, i));
	}
}

static int nm_vnic_open(struct net_device *nd)
{
	struct nm_vnic *dev = to_vnic(nd);
	u32 i;
	int ret;

	/* The queues ethtool -L left (all of them unless it took some away). */
	for (i = 0; i < nd->real_num_rx_queues; i++) {
		ret = qmem_build(dev, &dev->cur[i], i, nm_vnic_queue_buf_size(dev, i));
		if (ret) {
			nm_vnic_close_queues(dev);
			return ret;
		}
		dev->running[i] = true;
		nm_vnic_rx_start(dev, i);
		netif_queue_set_napi(nd, i, NETDEV_QUEUE_TYPE_RX, &dev->rx[i].napi);
		kernel_pin_set(dev, i, false);
	}
	netif_carrier_on(nd);
	netif_tx_start_all_queues(nd);
	return 0;
}

static int nm_vnic_stop(struct net_device *nd)
{
	netif_tx_stop_all_queues(nd);
	netif_carrier_off(nd);
	nm_vnic_close_queues(to_vnic(nd));
	return 0;
}

/* nmk0 sends: the peer receives (vnic_tx.c). */
static netdev_tx_t nm_vnic_xmit(struct sk_buff *skb, struct net_device *nd)
{
	return nm_vnic_tx(to_vnic(nd), skb);
}

static const struct net_device_ops nm_vnic_netdev_ops = {
	.ndo_open = nm_vnic_open,
	.ndo_stop = nm_vnic_stop,
	.ndo_start_xmit = nm_vnic_xmit,
	.ndo_validate_addr = eth_validate_addr,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_set_features = nm_vnic_set_features,
};

/* The largest frame a header page holds whole (frames that are not split). */
#define NM_MAX_FRAME (SKB_WITH_OVERHEAD(PAGE_SIZE) - NET_SKB_PAD - NET_IP_ALIGN)
#define NM_FEATURES (NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_RXCSUM | NETIF_F_HIGHDMA)

static void nm_vnic_setup(struct net_device *nd)
{
	ether_setup(nd);
	nd->netdev_ops = &nm_vnic_netdev_ops;
	nd->ethtool_ops = &nm_vnic_ethtool_ops;
	nd->queue_mgmt_ops = &nm_vnic_qops;
	nd->priv_flags |= IFF_NO_QUEUE;
	nd->features = NM_FEATURES | NETIF_F_NTUPLE;
	nd->hw_features = NM_FEATURES | NETIF_F_NTUPLE;
	nd->max_mtu = NM_MAX_FRAME - ETH_HLEN;
	/* TSO: the TX path hands the peer whole GSO frames, as veth does, and
	 * reads their payload by DMA address (devmem TX: NETMEM_TX_DMA). */
	nd->features |= NETIF_F_TSO | NETIF_F_TSO6;
	nd->hw_features |= NETIF_F_TSO | NETIF_F_TSO6;
	nm_set_netmem_tx(nd);
}

/* ---- the peer: a plain end, in whatever namespace it is moved to -------- */

struct nm_peer {
	struct nm_vnic *dev;
};

static int nm_peer_open(struct net_device *pd)
{
	netif_carrier_on(pd);
	netif_start_queue(pd);
	return 0;
}

static int nm_peer_stop(struct net_device *pd)
{
	netif_stop_queue(pd);
	netif_carrier_off(pd);
	return 0;
}

static netdev_tx_t nm_peer_xmit(struct sk_buff *skb, struct net_device *pd)
{
	struct nm_peer *p = netdev_priv(pd);

	return nm_vnic_rx_enqueue(p->dev, skb);
}

static const struct net_device_ops nm_peer_netdev_ops = {
	.ndo_open = nm_peer_open,
	.ndo_stop = nm_peer_stop,
	.ndo_start_xmit = nm_peer_xmit,
	.ndo_validate_addr = eth_validate_addr,
	.ndo_set_mac_address = eth_mac_addr,
};

static void nm_peer_setup(struct net_device *pd)
{
	ether_setup(pd);
	pd->netdev_ops = &nm_peer_netdev_ops;
	pd->features = NM_FEATURES;
	pd->hw_features = NM_FEATURES;
	pd->max_mtu = NM_MAX_FRAME - ETH_HLEN;
}

static int nm_kick_poll(struct napi_struct *napi, int budget)
{
	napi_complete_done(napi, 0);
	return 0;
}

static int nm_peer_create(struct nm_vnic *dev)
{
	struct net_device *pd;
	int ret;

	pd = alloc_netdev(sizeof(struct nm_peer), "nmkp%d", NET_NAME_ENUM,
			  nm_peer_setup);
	if (!pd)
		return -ENOMEM;
	((struct nm_peer *)netdev_priv(pd))->dev = dev;
	eth_hw_addr_random(pd);
	netif_napi_add(pd, &dev->kick_napi, nm_kick_poll);
	ret = register_netdev(pd);
	if (ret) {
		free_netdev(pd);
		return ret;
	}
	napi_enable(&dev->kick_napi);
	dev->peer = pd;
	return 0;
}

static void nm_peer_destroy(struct nm_vnic *dev)
{
	napi_disable(&dev->kick_napi);
	unregister_netdev(dev->peer);
	free_netdev(dev->peer);     /* deletes its NAPI */
}

/*
 * An skb freed on another CPU than the one that built it waits on that CPU's
 * defer list until the CPU next runs NET_RX (skb_attempt_defer_free). With
 * our link down nothing may run there, and the pages such skbs hold keep our
 * page pools alive (7.3, after a devmem stream). A NAPI of ours scheduled on
 * each CPU makes NET_RX run there, which flushes the list first.
 */
static long nm_kick_cpu(void *arg)
{
	struct nm_vnic *dev = arg;

	local_bh_disable();
	napi_schedule(&dev->kick_napi);
	local_bh_enable();
	return 0;
}

static void nm_kick_all_cpus(struct nm_vnic *dev)
{
	unsigned int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		work_on_cpu(cpu, nm_kick_cpu, dev);
	cpus_read_unlock();
}

int nm_vnic_create(struct device *parent, const u32 *caps, u32 nrxq,
		   u32 ring_size, u32 pool_size, bool hds, struct nm_vnic **out)
{
	struct net_device *nd;
	struct nm_vnic *dev;
	u32 i;
	int ret;

	if (!nrxq || nrxq > NM_MAX_RXQ || !ring_size || !pool_size)
		return -EINVAL;
	nd = alloc_netdev_mqs(sizeof(*dev), "nmk%d", NET_NAME_ENUM,
			      nm_vnic_setup, nrxq, nrxq);
	if (!nd)
		return -ENOMEM;
	SET_NETDEV_DEV(nd, parent);
	eth_hw_addr_random(nd);

	dev = to_vnic(nd);
	dev->netdev = nd;
	dev->dma_dev = parent;
	dev->num_rx_queues = nrxq;
	dev->ring_size = ring_size;
	dev->pool_size = pool_size;
	spin_lock_init(&dev->pools_lock);
	INIT_LIST_HEAD(&dev->pools);
	dev->tcp_data_split = hds;
	dev->dma_identity = nm_vnic_rx_dma_identity(parent);
	for (i = 0; i < nrxq; i++) {
		dev->rxqs[i].dev = dev;
		dev->rxqs[i].index = i;
		dev->rxqs[i].hw_caps = caps[i] & NM_RXQ_CAP_ALL;
		dev->rxqs[i].caps = dev->rxqs[i].hw_caps;
		if (!hds)
			dev->rxqs[i].caps &= ~NM_RXQ_CAP_HEADER_SPLIT;
	}
	nm_vnic_steer_init(dev);
	nm_vnic_rx_init(dev);
#if NM_HAVE_NETDEV_CFG_HDS
	/* The core's view of tcp-data-split, which bind-rx checks. */
	nd->cfg->hds_config = hds ? ETHTOOL_TCP_DATA_SPLIT_ENABLED :
				    ETHTOOL_TCP_DATA_SPLIT_DISABLED;
#endif

	/* The peer first: nmk0's transmit may use it as soon as it exists. */
	ret = nm_peer_create(dev);
	if (ret)
		goto err_free;
	ret = register_netdev(nd);
	if (ret)
		goto err_peer;
	*out = dev;
	return 0;

err_peer:
	nm_peer_destroy(dev);
err_free:
	nm_vnic_rx_fini(dev);
	free_netdev(nd);
	return ret;
}

/*
 * A kernel page_pool destroyed with buffers still out (in sockets, in a
 * user's devmem tokens) is freed later by the kernel's retry worker, which
 * then DMA-unmaps them, and for devmem unmaps the binding, against our DMA
 * device: that device must outlive every such pool. Each pool of ours is
 * listed on nmk0 (page_pool_params.netdev) until the kernel frees it.
 */
static bool pools_drained(struct nm_vnic *dev)
{
	struct net_device *nd = dev->netdev;
	unsigned int i;

	rtnl_lock();
	dev_close(nd);          /* every queue's memory released */
	rtnl_unlock();
	for (i = 0; i < NM_DRAIN_WAIT_S * 10 && !hlist_empty(&nd->page_pools); i++) {
		if (i % 10 == 0)
			nm_kick_all_cpus(dev);
		msleep(100);
	}
	if (i)
		pr_info("netmem_kmod: waited %u ms for page pools with buffers out\n", i * 100);
	return hlist_empty(&nd->page_pools);
}

bool nm_vnic_destroy(struct nm_vnic *dev)
{
	struct net_device *nd = dev->netdev;
	bool drained = pools_drained(dev);

	unregister_netdev(nd);
	nm_peer_destroy(dev);
	nm_vnic_rx_fini(dev);
	free_netdev(nd);
	return drained;
}

u32 nm_vnic_kernel_devmem_pools(struct nm_vnic *dev)
{
	u32 i, n = 0;

	ASSERT_RTNL();
	for (i = 0; i < dev->num_rx_queues; i++)
		n += dev->running[i] && dev->cur[i].kernel_devmem;
	return n;
}

void nm_vnic_queue_info(struct nm_vnic *dev, u32 idx, struct nmk_queue *q)
{
	struct nm_rxq *rxq = &dev->rxqs[idx];
	struct nm_vnic_qmem *qm = &dev->cur[idx];

	ASSERT_RTNL();
	q->caps = rxq->caps;
	q->running = dev->running[idx];
	q->counters = rxq->counters;
	if (rxq->mp.ops == &nm_mp_dmabuf_ops)
		q->binding_id = ((struct nm_dmabuf_binding *)rxq->mp.priv)->id;
	q->kernel_bound = !!__netif_get_rx_queue(dev->netdev, idx)->mp_params.mp_ops;
	if (!q->running) {
		q->provider = NMK_PROVIDER_NONE;
		scnprintf(q->provider_desc, sizeof(q->provider_desc), "queue down");
		return;
	}
	q->ring_fill = qm->ring_fill;
	if (qm->npp) {
		struct nm_page_pool *pp = qm->npp;

		q->provider = NMK_PROVIDER_DMABUF;
		q->pool_hold = pp->hold_cnt;
		spin_lock_bh(&pp->lock);
		q->pool_release = pp->release_cnt;
		spin_unlock_bh(&pp->lock);
		pp->p.mp.ops->describe(pp->mp_priv, q->provider_desc,
				       sizeof(q->provider_desc));
		return;
	}
	q->pool_hold = qm->kpp->pages_state_hold_cnt;
	q->pool_release = atomic_read(&qm->kpp->pages_state_release_cnt);
	if (qm->kernel_devmem) {
		q->provider = NMK_PROVIDER_KERNEL_DEVMEM;
		scnprintf(q->provider_desc, sizeof(q->provider_desc),
			  "kernel page_pool on the kernel's mp_dmabuf_devmem (netlink bind-rx)");
	} else {
		q->provider = NMK_PROVIDER_HOST;
		scnprintf(q->provider_desc, sizeof(q->provider_desc),
			  "kernel page_pool, host pages%s",
			  (rxq->caps & NM_RXQ_CAP_UNREADABLE) ?
			  " (allows unreadable netmem)" : "");
	}
}
