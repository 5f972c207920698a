/* SPDX-License-Identifier: MIT */
/*
 * net_netmem_igb: the vdev, its devargs and the port's ethdev ops.
 *
 *   --vdev net_netmem_igb0,bdf=0000:00:06.0[,queues=4][,ring=512]
 *
 * The 82576 must be on vfio-pci and kept from EAL's PCI probe (-b BDF, or an
 * allow-list without it), or DPDK's own e1000 PMD takes it. Probe opens the
 * device in EAL's default VFIO container (rte_vfio_setup_device: EAL maps
 * its memory there, and rte_dev_dma_map() on this port maps external
 * memory, a dmabuf pool's included, through the vdev's dma_map) and hands
 * it to netmem's igb driver (nm_igb_open with that container as its DMA
 * domain), which resets it, brings the link up and runs its RX queues,
 * paused until the port starts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>
#include <rte_vfio.h>

#include <netmem/dpdk_igb.h>

#include "pmd_internal.h"

RTE_LOG_REGISTER(nm_igb_pmd_logtype, pmd.net.netmem_igb, INFO);

#define SYSFS_PCI "/sys/bus/pci/devices"
#define RETA_SIZE 128

static const char *const valid_args[] = { "bdf", "queues", "ring", "mtu", NULL };

/* --- configure, start, stop, close --------------------------------------- */

static int pmd_configure(struct rte_eth_dev *dev)
{
	struct pmd_adapter *ad = dev->data->dev_private;

	if (dev->data->nb_rx_queues > ad->num_queues || dev->data->nb_tx_queues > 1) {
		PMD_LOG(ERR, "%u RX / %u TX queues asked: the device runs %u RX queues "
			"(devarg queues=) and one TX queue", dev->data->nb_rx_queues,
			dev->data->nb_tx_queues, ad->num_queues);
		return -EINVAL;
	}
	return 0;
}

/* RSS: the application's redirection table, or by default the entries
 * spread over the configured queues (all on queue 0 without RSS). */
static void pmd_default_reta(const struct rte_eth_dev *dev, uint8_t reta[RETA_SIZE])
{
	uint16_t nq = dev->data->nb_rx_queues;
	bool rss = dev->data->dev_conf.rxmode.mq_mode & RTE_ETH_MQ_RX_RSS_FLAG;

	for (unsigned int i = 0; i < RETA_SIZE; i++)
		reta[i] = rss && nq ? (uint8_t)(i % nq) : 0;
}

/* The table in effect: the application's, or the default spread. */
static void pmd_current_reta(const struct rte_eth_dev *dev, uint8_t reta[RETA_SIZE])
{
	const struct pmd_adapter *ad = dev->data->dev_private;

	if (ad->reta_set)
		memcpy(reta, ad->reta, RETA_SIZE);
	else
		pmd_default_reta(dev, reta);
}

static int pmd_program_reta(struct rte_eth_dev *dev)
{
	struct pmd_adapter *ad = dev->data->dev_private;
	uint8_t reta[RETA_SIZE];
	struct nm_err err = { 0 };
	int ret;

	pmd_current_reta(dev, reta);
	ret = nm_igb_set_reta(ad->igb, reta, &err);
	if (ret)
		PMD_LOG(ERR, "RSS: %s", err.msg);
	return ret;
}

/* rte_eth_dev_rss_reta_update(): the entries whose mask bit is set. Each
 * must name a configured queue; nothing changes otherwise. The table is
 * written to the device at once when it runs, else at start. */
static int pmd_reta_update(struct rte_eth_dev *dev, struct rte_eth_rss_reta_entry64 *conf,
			   uint16_t size)
{
	struct pmd_adapter *ad = dev->data->dev_private;
	uint8_t reta[RETA_SIZE];
	struct nm_err err = { 0 };
	int ret = 0;

	if (size != RETA_SIZE) {
		PMD_LOG(ERR, "RSS: a table of %u entries given; the device has %u", size,
			RETA_SIZE);
		return -EINVAL;
	}
	pmd_current_reta(dev, reta);
	for (unsigned int i = 0; i < RETA_SIZE; i++) {
		const struct rte_eth_rss_reta_entry64 *c = &conf[i / RTE_ETH_RETA_GROUP_SIZE];
		unsigned int b = i % RTE_ETH_RETA_GROUP_SIZE;

		if (!(c->mask >> b & 1))
			continue;
		if (c->reta[b] >= dev->data->nb_rx_queues) {
			PMD_LOG(ERR, "RSS: entry %u -> queue %u, but %u RX queue(s) are "
				"configured; table unchanged", i, c->reta[b],
				dev->data->nb_rx_queues);
			return -EINVAL;
		}
		reta[i] = (uint8_t)c->reta[b];
	}
	if (dev->data->dev_started) {
		ret = nm_igb_set_reta(ad->igb, reta, &err);
		if (ret) {
			PMD_LOG(ERR, "RSS: %s; table unchanged", err.msg);
			return ret;
		}
	}
	memcpy(ad->reta, reta, RETA_SIZE);
	ad->reta_set = true;
	return 0;
}

static int pmd_reta_query(struct rte_eth_dev *dev, struct rte_eth_rss_reta_entry64 *conf,
			  uint16_t size)
{
	uint8_t reta[RETA_SIZE];

	if (size != RETA_SIZE)
		return -EINVAL;
	pmd_current_reta(dev, reta);
	for (unsigned int i = 0; i < RETA_SIZE; i++) {
		struct rte_eth_rss_reta_entry64 *c = &conf[i / RTE_ETH_RETA_GROUP_SIZE];
		unsigned int b = i % RTE_ETH_RETA_GROUP_SIZE;

		if (c->mask >> b & 1)
			c->reta[b] = reta[i];
	}
	return 0;
}

#define PMD_RSS_HF (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP | \
		    RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_NONFRAG_IPV6_UDP)

static int pmd_rss_hash_conf_get(struct rte_eth_dev *dev, struct rte_eth_rss_conf *conf)
{
	(void)dev;
	if (conf->rss_key) {
		if (conf->rss_key_len < 40)
			return -EINVAL;
		nm_igb_rss_key(conf->rss_key);
	}
	conf->rss_key_len = 40;
	conf->rss_hf = PMD_RSS_HF;
	return 0;
}

/* The key and hash types are fixed: netmem steers flows by computing the
 * device's hash with this key. The same settings are taken; others are
 * refused with the reason. */
static int pmd_rss_hash_update(struct rte_eth_dev *dev, struct rte_eth_rss_conf *conf)
{
	uint8_t key[40];

	(void)dev;
	nm_igb_rss_key(key);
	if (conf->rss_key && (conf->rss_key_len != 40 || memcmp(conf->rss_key, key, 40))) {
		PMD_LOG(ERR, "RSS: the hash key is fixed (netmem computes flows' hashes with "
			"it to steer them); another key is not supported");
		return -ENOTSUP;
	}
	if (conf->rss_hf & ~(uint64_t)PMD_RSS_HF) {
		PMD_LOG(ERR, "RSS: hash types %#" PRIx64 " asked; the device hashes TCP and "
			"UDP over IPv4 and IPv6 only (%#" PRIx64 ")", conf->rss_hf,
			(uint64_t)PMD_RSS_HF);
		return -ENOTSUP;
	}
	return 0;
}

static int pmd_start(struct rte_eth_dev *dev)
{
	struct pmd_adapter *ad = dev->data->dev_private;
	int ret = pmd_program_reta(dev);

	if (ret)
		return ret;
	for (uint16_t q = 0; q < dev->data->nb_rx_queues; q++) {
		struct pmd_rxq *rq = &ad->rxq[q];

		if (rq->configured && !rq->conf.rx_deferred_start) {
			ret = pmd_rx_queue_start(dev, q);
			if (ret)
				return ret;
		}
	}
	if (dev->data->nb_tx_queues)
		dev->data->tx_queue_state[0] = RTE_ETH_QUEUE_STATE_STARTED;
	nm_igb_set_rx_mode(ad->igb, ad->promisc, ad->allmulti);
	return 0;
}

static int pmd_stop(struct rte_eth_dev *dev)
{
	struct pmd_adapter *ad = dev->data->dev_private;

	for (uint16_t q = 0; q < ad->num_queues; q++) {
		nm_igb_rxq_pause(ad->igb, q, true, NULL);
		if (q < dev->data->nb_rx_queues)
			dev->data->rx_queue_state[q] = RTE_ETH_QUEUE_STATE_STOPPED;
	}
	if (dev->data->nb_tx_queues)
		dev->data->tx_queue_state[0] = RTE_ETH_QUEUE_STATE_STOPPED;
	dev->data->dev_started = 0;
	return 0;
}

static void pmd_release(struct pmd_adapter *ad)
{
	/* No more DMA, every buffer (and its mbuf) back, every mapping gone. */
	nm_igb_close(ad->igb);
	ad->igb = NULL;
	for (unsigned int q = 0; q < NM_IGB_MAX_RX_QUEUES; q++) {
		pmd_mbuf_mp_put(ad->rxq[q].hdr_prov);
		pmd_mbuf_mp_put(ad->rxq[q].pay_prov);
		ad->rxq[q].hdr_prov = ad->rxq[q].pay_prov = NULL;
	}
	if (ad->dom)
		nm_dma_domain_put(ad->dom);
	ad->dom = NULL;
	if (ad->vfio_fd >= 0)
		rte_vfio_release_device(SYSFS_PCI, ad->bdf, ad->vfio_fd);
	ad->vfio_fd = -1;
}

static int pmd_close(struct rte_eth_dev *dev)
{
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	pmd_release(dev->data->dev_private);
	return 0;
}

/* --- what the port can do ------------------------------------------------ */

static int pmd_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct pmd_adapter *ad = dev->data->dev_private;

	info->max_rx_queues = (uint16_t)ad->num_queues;
	info->max_tx_queues = 1;
	info->max_mac_addrs = 1;
	/* The MTU is the devarg's, set at probe: above 1500 the device takes
	 * jumbo frames and every queue only buffers that hold a whole one. */
	info->min_rx_bufsize = RTE_MAX(2048u, RTE_ALIGN_CEIL(NM_IGB_FRAME_LEN(ad->mtu), 1024u));
	info->max_rx_pktlen = RTE_MAX(2048u, NM_IGB_FRAME_LEN(ad->mtu));
	info->max_mtu = (uint16_t)ad->mtu;
	info->min_mtu = 68;
	info->rx_offload_capa = RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT | RTE_ETH_RX_OFFLOAD_IPV4_CKSUM |
				RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
				RTE_ETH_RX_OFFLOAD_RSS_HASH;
	info->rx_queue_offload_capa = RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* Headers and payload from different pools; no offsets. */
	info->rx_seg_capa.max_nseg = 2;
	info->rx_seg_capa.multi_pools = 1;
	info->rx_seg_capa.offset_allowed = 0;
	info->rx_seg_capa.offset_align_log2 = 0;
	info->dev_capa = RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP;
	info->reta_size = RETA_SIZE;
	info->hash_key_size = 40;
	info->flow_type_rss_offloads = PMD_RSS_HF;
	/* The ring size is the device's (devarg ring=), fixed at probe. */
	info->rx_desc_lim = (struct rte_eth_desc_lim){
		.nb_max = (uint16_t)ad->ring_size, .nb_min = (uint16_t)ad->ring_size, .nb_align = 1,
	};
	info->tx_desc_lim = (struct rte_eth_desc_lim){ .nb_max = 4096, .nb_min = 1, .nb_align = 1 };
	info->default_rxportconf.ring_size = (uint16_t)ad->ring_size;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.ring_size = 256;
	info->speed_capa = RTE_ETH_LINK_SPEED_1G;
	return 0;
}

static int pmd_link_update(struct rte_eth_dev *dev, int wait)
{
	struct pmd_adapter *ad = dev->data->dev_private;
	struct rte_eth_link link = { 0 };
	uint32_t speed = 0;
	bool fd = false;

	(void)wait;
	link.link_status = nm_igb_link(ad->igb, &speed, &fd) ? RTE_ETH_LINK_UP :
							       RTE_ETH_LINK_DOWN;
	link.link_speed = link.link_status ? speed : RTE_ETH_SPEED_NUM_NONE;
	link.link_duplex = fd ? RTE_ETH_LINK_FULL_DUPLEX : RTE_ETH_LINK_HALF_DUPLEX;
	link.link_autoneg = RTE_ETH_LINK_AUTONEG;
	return rte_eth_linkstatus_set(dev, &link);
}

static int pmd_set_rx_mode(struct rte_eth_dev *dev, bool promisc, bool allmulti)
{
	struct pmd_adapter *ad = dev->data->dev_private;

	ad->promisc = promisc;
	ad->allmulti = allmulti;
	nm_igb_set_rx_mode(ad->igb, promisc, allmulti);
	return 0;
}

static int pmd_promisc_on(struct rte_eth_dev *dev)
{
	return pmd_set_rx_mode(dev, true, ((struct pmd_adapter *)dev->data->dev_private)->allmulti);
}

static int pmd_promisc_off(struct rte_eth_dev *dev)
{
	return pmd_set_rx_mode(dev, false, ((struct pmd_adapter *)dev->data->dev_private)->allmulti);
}

static int pmd_allmulti_on(struct rte_eth_dev *dev)
{
	return pmd_set_rx_mode(dev, ((struct pmd_adapter *)dev->data->dev_private)->promisc, true);
}

static int pmd_allmulti_off(struct rte_eth_dev *dev)
{
	return pmd_set_rx_mode(dev, ((struct pmd_adapter *)dev->data->dev_private)->promisc, false);
}

/* --- queues -------------------------------------------------------------- */

static int pmd_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			      unsigned int socket, const struct rte_eth_txconf *conf)
{
	struct pmd_adapter *ad = dev->data->dev_private;

	(void)nb_desc; (void)socket; (void)conf;
	ad->txq.ad = ad;
	ad->txq.idx = qid;
	dev->data->tx_queues[qid] = &ad->txq;
	return 0;
}

static void pmd_tx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	dev->data->tx_queues[qid] = NULL;
}

static void pmd_rxq_info_get(struct rte_eth_dev *dev, uint16_t qid,
			     struct rte_eth_rxq_info *qinfo)
{
	struct pmd_rxq *q = &((struct pmd_adapter *)dev->data->dev_private)->rxq[qid];

	qinfo->mp = q->split ? q->hdr_mp : q->pay_mp;
	qinfo->conf = q->conf;
	qinfo->scattered_rx = 0;
	qinfo->nb_desc = q->nb_desc;
	qinfo->rx_buf_size = q->pay_mp ? (uint16_t)(rte_pktmbuf_data_room_size(q->pay_mp) -
						    RTE_PKTMBUF_HEADROOM) : 0;
	qinfo->queue_state = dev->data->rx_queue_state[qid];
}

static int pmd_mac_addr_set(struct rte_eth_dev *dev, struct rte_ether_addr *addr)
{
	struct pmd_adapter *ad = dev->data->dev_private;

	/* RAL0/RAH0 hold the EEPROM's address; only that one is served. */
	return rte_is_same_ether_addr(addr, &ad->mac) ? 0 : -ENOTSUP;
}

static const struct eth_dev_ops pmd_ops = {
	.dev_configure = pmd_configure,
	.dev_start = pmd_start,
	.dev_stop = pmd_stop,
	.dev_close = pmd_close,
	.dev_infos_get = pmd_infos_get,
	.dev_supported_ptypes_get = pmd_ptypes,
	.link_update = pmd_link_update,
	.promiscuous_enable = pmd_promisc_on,
	.promiscuous_disable = pmd_promisc_off,
	.allmulticast_enable = pmd_allmulti_on,
	.allmulticast_disable = pmd_allmulti_off,
	.mac_addr_set = pmd_mac_addr_set,
	.stats_get = pmd_stats_get,
	.stats_reset = pmd_stats_reset,
	.xstats_get = pmd_xstats_get,
	.xstats_get_names = pmd_xstats_get_names,
	.rx_queue_setup = pmd_rx_queue_setup,
	.rx_queue_release = pmd_rx_queue_release,
	.rx_queue_start = pmd_rx_queue_start,
	.rx_queue_stop = pmd_rx_queue_stop,
	.tx_queue_setup = pmd_tx_queue_setup,
	.tx_queue_release = pmd_tx_queue_release,
	.rxq_info_get = pmd_rxq_info_get,
	.reta_update = pmd_reta_update,
	.reta_query = pmd_reta_query,
	.rss_hash_update = pmd_rss_hash_update,
	.rss_hash_conf_get = pmd_rss_hash_conf_get,
	.buffer_split_supported_hdr_ptypes_get = pmd_split_ptypes,
};

/* --- probe / remove ------------------------------------------------------ */

static int kv_str(const char *key, const char *val, void *out)
{
	(void)key;
	if (strlen(val) >= 32)
		return -EINVAL;
	snprintf(out, 32, "%s", val);
	return 0;
}

static int kv_u32(const char *key, const char *val, void *out)
{
	char *end;
	unsigned long v = strtoul(val, &end, 0);

	(void)key;
	if (!*val || *end || v > UINT32_MAX)
		return -EINVAL;
	*(uint32_t *)out = (uint32_t)v;
	return 0;
}

static int parse_args(const char *args, struct pmd_adapter *ad)
{
	struct rte_kvargs *kv = rte_kvargs_parse(args ? args : "", valid_args);
	int ret;

	if (!kv) {
		PMD_LOG(ERR, "bad devargs '%s': bdf=DOMAIN:BUS:DEV.FN[,queues=N][,ring=N][,mtu=N]",
			args ? args : "");
		return -EINVAL;
	}
	ret = rte_kvargs_process(kv, "bdf", kv_str, ad->bdf);
	if (!ret)
		ret = rte_kvargs_process(kv, "queues", kv_u32, &ad->num_queues);
	if (!ret)
		ret = rte_kvargs_process(kv, "ring", kv_u32, &ad->ring_size);
	if (!ret)
		ret = rte_kvargs_process(kv, "mtu", kv_u32, &ad->mtu);
	rte_kvargs_free(kv);
	if (ret) {
		PMD_LOG(ERR, "bad devargs '%s'", args);
		return -EINVAL;
	}
	if (!ad->bdf[0]) {
		PMD_LOG(ERR, "no bdf= devarg: which 82576 (e.g. bdf=0000:00:06.0)?");
		return -EINVAL;
	}
	if (ad->mtu < 68 || ad->mtu > NM_IGB_MAX_MTU) {
		PMD_LOG(ERR, "mtu=%u: the 82576 takes an MTU of 68 to %u", ad->mtu,
			NM_IGB_MAX_MTU);
		return -EINVAL;
	}
	return 0;
}

static int pmd_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct pmd_adapter tmp = { .num_queues = 4, .ring_size = 512, .mtu = 1500,
				   .vfio_fd = -1 };
	struct nm_igb_params p = { 0 };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct rte_eth_dev *eth;
	struct pmd_adapter *ad;
	struct nm_err err = { 0 };
	uint16_t port;
	uint8_t mac[6];
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		PMD_LOG(ERR, "%s: primary processes only", name);
		return -ENOTSUP;
	}
	ret = parse_args(rte_vdev_device_args(vdev), &tmp);
	if (ret)
		return ret;
	if (rte_eth_dev_get_port_by_name(tmp.bdf, &port) == 0) {
		PMD_LOG(ERR, "%s: %s is already port %u (EAL's PCI probe took it): keep it from "
			"the PCI bus with -b %s", name, tmp.bdf, port, tmp.bdf);
		return -EBUSY;
	}
	ret = rte_vfio_setup_device(SYSFS_PCI, tmp.bdf, &tmp.vfio_fd, &info);
	if (ret) {
		PMD_LOG(ERR, "%s: %s cannot be opened through EAL's VFIO (%s): bind it to "
			"vfio-pci, with an IOMMU", name, tmp.bdf,
			ret > 0 ? "not managed by VFIO" : "rte_vfio_setup_device failed");
		return ret > 0 ? -ENODEV : ret;
	}
	ret = pmd_eal_vfio_domain_create(&tmp.dom, &err);
	if (ret)
		goto err_vfio;
	p.bdf = tmp.bdf;
	p.num_rx_queues = tmp.num_queues;
	p.ring_size = tmp.ring_size;
	p.pool_size = tmp.ring_size;
	p.mtu = tmp.mtu;
	p.dma_domain = tmp.dom;
	p.vfio_device_fd = tmp.vfio_fd;
	ret = nm_igb_open(&p, &tmp.igb, &err);
	if (ret)
		goto err_dom;
	/* Nothing is received until the port starts. */
	for (uint32_t q = 0; q < tmp.num_queues; q++)
		nm_igb_rxq_pause(tmp.igb, q, true, NULL);

	eth = rte_eth_vdev_allocate(vdev, sizeof(*ad));
	if (!eth) {
		ret = nm_err_set(&err, -ENOMEM, "cannot allocate an ethdev port");
		goto err_igb;
	}
	ad = eth->data->dev_private;
	*ad = tmp;
	ad->txq.ad = ad;
	for (unsigned int q = 0; q < NM_IGB_MAX_RX_QUEUES; q++) {
		ad->rxq[q].ad = ad;
		ad->rxq[q].idx = (uint16_t)q;
	}
	nm_igb_mac_addr(ad->igb, mac);
	memcpy(ad->mac.addr_bytes, mac, 6);
	eth->data->mac_addrs = rte_zmalloc(name, sizeof(ad->mac), 0);
	if (!eth->data->mac_addrs) {
		rte_eth_dev_release_port(eth);
		ret = nm_err_set(&err, -ENOMEM, "out of memory");
		goto err_igb;
	}
	*eth->data->mac_addrs = ad->mac;
	eth->dev_ops = &pmd_ops;
	eth->rx_pkt_burst = pmd_rx_burst;
	eth->tx_pkt_burst = pmd_tx_burst;
	eth->data->dev_flags |= RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS;
	rte_eth_dev_probing_finish(eth);
	PMD_LOG(INFO, "%s: port %u on %s (netmem igb, %u RX queues x %u descriptors, EAL's "
		"VFIO container), MAC " RTE_ETHER_ADDR_PRT_FMT, name, eth->data->port_id,
		ad->bdf, ad->num_queues, ad->ring_size, RTE_ETHER_ADDR_BYTES(&ad->mac));
	return 0;

err_igb:
	nm_igb_close(tmp.igb);
err_dom:
	nm_dma_domain_put(tmp.dom);
err_vfio:
	rte_vfio_release_device(SYSFS_PCI, tmp.bdf, tmp.vfio_fd);
	if (err.code)
		PMD_LOG(ERR, "%s: %s", name, err.msg);
	return ret;
}

struct nm_igb *nm_dpdk_igb(uint16_t port)
{
	struct rte_eth_dev_info info;
	struct rte_eth_dev *eth;

	if (rte_eth_dev_info_get(port, &info) || !info.driver_name ||
	    strcmp(info.driver_name, PMD_NAME))
		return NULL;
	eth = &rte_eth_devices[port];
	return ((struct pmd_adapter *)eth->data->dev_private)->igb;
}

static int pmd_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth = rte_eth_dev_allocated(rte_vdev_device_name(vdev));

	if (!eth)
		return 0;
	return rte_eth_dev_close(eth->data->port_id);
}

/* rte_dev_dma_map() on this port: external memory (a dmabuf pool's, after
 * rte_extmem_register) into EAL's container, where the device is. */
static int pmd_dma_map(struct rte_vdev_device *vdev, void *addr, uint64_t iova, size_t len)
{
	(void)vdev;
	return rte_vfio_container_dma_map(RTE_VFIO_DEFAULT_CONTAINER_FD,
					  (uint64_t)(uintptr_t)addr, iova, len);
}

static int pmd_dma_unmap(struct rte_vdev_device *vdev, void *addr, uint64_t iova, size_t len)
{
	(void)vdev;
	return rte_vfio_container_dma_unmap(RTE_VFIO_DEFAULT_CONTAINER_FD,
					    (uint64_t)(uintptr_t)addr, iova, len);
}

static struct rte_vdev_driver pmd_vdev_drv = {
	.probe = pmd_probe,
	.remove = pmd_remove,
	.dma_map = pmd_dma_map,
	.dma_unmap = pmd_dma_unmap,
};

RTE_PMD_REGISTER_VDEV(net_netmem_igb, pmd_vdev_drv);
RTE_PMD_REGISTER_PARAM_STRING(net_netmem_igb, "bdf=<pci address> queues=<1-8> ring=<64-4096>");
