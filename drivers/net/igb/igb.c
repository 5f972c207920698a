/* SPDX-License-Identifier: MIT */
/*
 * Intel 82576 poll-mode driver: bring-up in the datasheet's order (82576
 * datasheet 4.5 "Software Initialization and Diagnostics"), the queue ops
 * of the framework, and close. The datapath is in igb_rxtx.c, RSS
 * steering in igb_rss.c, VFIO plumbing in vfio_pci.c.
 *
 *   open:  VFIO (domain = container + group, device fd, BAR0, bus master)
 *          -> 4.5.1 disable interrupts -> 4.5.2 global reset -> 4.5.3
 *          interrupts off again -> 4.5.7 link (PHY auto-negotiation) ->
 *          4.5.8 statistics -> 4.5.9 receive (RSS, then every queue through
 *          the framework's open) -> 4.5.10 transmit -> RCTL.RXEN.
 *   close: receive/transmit off, queues stopped and their memory freed,
 *          reset, bus master off, every DMA mapping removed with the domain.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igb_internal.h"

static int igb_op(struct nm_igb *igb, enum nm_igb_op op)
{
	atomic_fetch_add(&igb->op_count[op], 1);
	return 0;
}

/* --- 4.5.1-4.5.3: interrupts off, global reset ------------------------- */

static void igb_disable_interrupts(struct nm_igb *igb)
{
	igb_wr32(igb->bar0, IGB_IMC, 0xffffffffu);
	igb_wr32(igb->bar0, IGB_EIMC, 0xffffffffu);
	igb_rd32(igb->bar0, IGB_ICR);   /* clear what is pending */
	igb_rd32(igb->bar0, IGB_EICR);
}

static int igb_reset_hw(struct nm_igb *igb, struct nm_err *err)
{
	igb_disable_interrupts(igb);
	igb_wr32(igb->bar0, IGB_CTRL, igb_rd32(igb->bar0, IGB_CTRL) | IGB_CTRL_RST);
	if (!igb_wait_reg(igb->bar0, IGB_CTRL, IGB_CTRL_RST, 0, 100))
		return nm_err_set(err, -ETIMEDOUT, "%s: CTRL.RST did not clear", igb->bdf);
	/* The EEPROM (MAC address, ...) is reloaded after a reset. Like
	 * Linux's igb, go on when AUTO_RD never sets: a device without an
	 * EEPROM (or QEMU's model) does not report it. */
	igb_wait_reg(igb->bar0, IGB_EECD, IGB_EECD_AUTO_RD, IGB_EECD_AUTO_RD, 10);
	igb_disable_interrupts(igb);
	/* We, not firmware, drive the device now. */
	igb_set_bits(igb->bar0, IGB_CTRL_EXT, IGB_CTRL_EXT_DRV_LOAD);
	return 0;
}

/* --- 4.5.7: link ------------------------------------------------------- */

static int igb_phy_write(struct nm_igb *igb, uint32_t reg, uint16_t val)
{
	igb_wr32(igb->bar0, IGB_MDIC, val | reg << IGB_MDIC_REG_SHIFT |
		 IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT | IGB_MDIC_OP_WRITE);
	if (!igb_wait_reg(igb->bar0, IGB_MDIC, IGB_MDIC_READY, IGB_MDIC_READY, 10))
		return -ETIMEDOUT;
	return igb_rd32(igb->bar0, IGB_MDIC) & IGB_MDIC_ERROR ? -EIO : 0;
}

static int igb_link_up(struct nm_igb *igb, int timeout_ms, struct nm_err *err)
{
	int ret;

	igb_set_bits(igb->bar0, IGB_CTRL, IGB_CTRL_SLU);
	/* Copper: let the PHY auto-negotiate (it advertises 1000 full). */
	ret = igb_phy_write(igb, MII_BMCR, MII_BMCR_AUTOEN | MII_BMCR_ANRESTART |
			    MII_BMCR_SPEED1000 | MII_BMCR_FD);
	if (ret)
		return nm_err_set(err, ret, "%s: cannot write the PHY control register (MDIC)",
				  igb->bdf);
	if (!igb_wait_reg(igb->bar0, IGB_STATUS, IGB_STATUS_LU, IGB_STATUS_LU, timeout_ms))
		return nm_err_set(err, -ENOLINK,
				  "%s: no link after %d ms (STATUS 0x%08x): is a cable (or the "
				  "emulator's netdev) attached?", igb->bdf, timeout_ms,
				  igb_rd32(igb->bar0, IGB_STATUS));
	return 0;
}

/* --- 4.5.9: receive, global part; the queues come up in start() -------- */

static void igb_rx_init(struct nm_igb *igb)
{
	volatile uint8_t *bar0 = igb->bar0;

	igb_wr32(bar0, IGB_RCTL, 0);
	/* Long packets (RCTL.LPE, set with RXEN above MTU 1500) up to this
	 * length, CRC included (8.10.4). */
	igb_wr32(bar0, IGB_RLPML, NM_IGB_FRAME_LEN(igb->mtu) + 4u);
	for (uint32_t i = 0; i < 16; i++)
		igb_wr32(bar0, IGB_RXDCTL(i), 0);   /* queue 0 is on after reset */
	for (uint32_t i = 0; i < 128; i++)
		igb_wr32(bar0, IGB_MTA(i), 0);
	/* Receive address 0 holds the EEPROM's MAC after the reset. */
	igb_wr32(bar0, IGB_RAH(0), igb_rd32(bar0, IGB_RAH(0)) | IGB_RAH_AV);
	/* Header split: where headers end (split queues set SRRCTL). */
	igb_wr32(bar0, IGB_PSRTYPE(0), IGB_PSRTYPE_L2HDR | IGB_PSRTYPE_IPV4HDR |
		 IGB_PSRTYPE_IPV6HDR | IGB_PSRTYPE_TCPHDR | IGB_PSRTYPE_UDPHDR);
	igb_rss_init(igb);
}

/* --- the framework's queue ops ----------------------------------------- */

static int igb_mem_alloc(struct nm_netdev *dev, void *mem, uint32_t idx,
			 const struct nm_mp_params *mp, struct nm_err *err)
{
	struct nm_igb *igb = to_igb(dev);
	struct igb_qmem *q = mem;
	uint32_t caps = dev->rxqs[idx].caps;
	struct nm_host_mem_params rp = {
		.size = (uint64_t)igb->ring_size * sizeof(union igb_adv_rx_desc),
		.buf_size = igb->ring_size * (uint32_t)sizeof(union igb_adv_rx_desc),
		.numa_node = -1,
		.no_hugepages = true,
	};
	struct nm_page_pool_params pp = {
		.pool_size = igb->pool_size,
		.flags = NM_PP_FLAG_DMA_MAP,
		.nid = -1,
		.queue_idx = idx,
	};
	nm_netmem_ref probe;
	int ret;

	igb_op(igb, NM_IGB_OP_MEM_ALLOC);
	q->size = igb->ring_size;
	q->split = caps & NM_RXQ_CAP_HEADER_SPLIT;
	q->rx_csum = caps & NM_RXQ_CAP_RX_CSUM;
	ret = nm_host_mem_create(dev->dma, &rp, &q->ring_mem, err);
	if (ret)
		return ret;
	q->ring = (union igb_adv_rx_desc *)q->ring_mem->base;
	q->slots = calloc(q->size, sizeof(*q->slots));
	if (!q->slots) {
		ret = nm_err_set(err, -ENOMEM, "out of memory for the ring's slots");
		goto err_ring;
	}
	if (q->split) {
		const struct nm_mp_params *hmp = &igb->rxq[idx].hdr_mp;
		nm_netmem_ref hprobe;

		q->hdr_size = igb->rxq[idx].hdr_size ? igb->rxq[idx].hdr_size : IGB_HDR_BUF_SIZE;
		pp.mp = hmp->ops ? *hmp : nm_host_mem_mp(igb->host);
		ret = nm_page_pool_create(&pp, &q->hdr_pool, err);
		if (ret)
			goto err_slots;
		/* The device writes up to hdr_size bytes of headers: every
		 * header buffer must hold them. */
		hprobe = nm_page_pool_alloc_netmem(q->hdr_pool);
		if (!hprobe) {
			ret = nm_err_set(err, -ENOMEM, "%s queue %u: the header provider has no buffers",
					 dev->name, idx);
			goto err_hdr_pool;
		}
		if (nm_netmem_buf_size(hprobe) < q->hdr_size) {
			ret = nm_err_set(err, -EINVAL, "%s queue %u: header buffers of %u bytes, the "
					 "device writes up to %u", dev->name, idx,
					 nm_netmem_buf_size(hprobe), q->hdr_size);
			nm_page_pool_put_netmem(q->hdr_pool, hprobe, true);
			goto err_hdr_pool;
		}
		nm_page_pool_put_netmem(q->hdr_pool, hprobe, true);
	}
	/* Say truthfully what this queue's pool may hold. */
	if (caps & NM_RXQ_CAP_UNREADABLE)
		pp.flags |= NM_PP_FLAG_ALLOW_UNREADABLE_NETMEM;
	pp.mp = mp->ops ? *mp : nm_host_mem_mp(igb->jumbo ? igb->jumbo : igb->host);
	ret = nm_page_pool_create(&pp, &q->pool, err);
	if (ret)
		goto err_hdr_pool;

	/* SRRCTL.BSIZEPACKET counts 1 KiB units and a frame must fit one
	 * buffer. The restart path has checked the size the provider states
	 * (rxq buf_sizes) before any callback; a provider that states none
	 * is checked here, still before the queue is touched. */
	probe = nm_page_pool_alloc_netmem(q->pool);
	if (!probe) {
		ret = nm_err_set(err, -ENOMEM, "%s queue %u: the memory provider has no buffers",
				 dev->name, idx);
		goto err_pool;
	}
	q->buf_size = nm_netmem_buf_size(probe);
	nm_page_pool_put_netmem(q->pool, probe, true);
	if (!nm_rxq_buf_size_ok(&igb->buf_sizes, q->buf_size)) {
		ret = nm_err_set(err, -EINVAL,
				 "%s queue %u: buffers of %u bytes do not suit the 82576 at MTU %u: "
				 "it fills whole frames into buffers sized in 1 KiB steps "
				 "(SRRCTL.BSIZEPACKET); use %u B to 127 KiB, a multiple of 1 KiB",
				 dev->name, idx, q->buf_size, igb->mtu, igb->buf_sizes.min);
		goto err_pool;
	}
	return 0;

err_pool:
	nm_page_pool_destroy(q->pool);
err_hdr_pool:
	if (q->hdr_pool)
		nm_page_pool_destroy(q->hdr_pool);
err_slots:
	free(q->slots);
err_ring:
	nm_host_mem_put(q->ring_mem);
	return ret;
}

static void igb_mem_free(struct nm_netdev *dev, void *mem)
{
	struct igb_qmem *q = mem;

	igb_op(to_igb(dev), NM_IGB_OP_MEM_FREE);
	/* Buffers the application still holds keep their pools alive. */
	nm_page_pool_destroy(q->pool);
	if (q->hdr_pool)
		nm_page_pool_destroy(q->hdr_pool);
	free(q->slots);
	nm_host_mem_put(q->ring_mem);
}

static int igb_start(struct nm_netdev *dev, void *mem, uint32_t idx,
		     struct nm_err *err)
{
	struct nm_igb *igb = to_igb(dev);
	struct igb_rxq *rxq = &igb->rxq[idx];
	int ret;

	igb_op(igb, NM_IGB_OP_START);
	pthread_mutex_lock(&rxq->lock);
	ret = igb_rx_ring_start(igb, mem, idx, err);
	if (!ret)
		rxq->cur = mem;
	pthread_mutex_unlock(&rxq->lock);
	return ret;
}

static int igb_stop(struct nm_netdev *dev, void *mem, uint32_t idx,
		    struct nm_err *err)
{
	struct nm_igb *igb = to_igb(dev);
	struct igb_rxq *rxq = &igb->rxq[idx];

	(void)err;
	igb_op(igb, NM_IGB_OP_STOP);
	pthread_mutex_lock(&rxq->lock);
	rxq->cur = NULL;
	igb_rx_ring_stop(igb, mem, idx);
	pthread_mutex_unlock(&rxq->lock);
	return 0;
}

static struct nm_page_pool *igb_mem_pool(void *mem)
{
	return ((struct igb_qmem *)mem)->pool;
}

static const struct nm_queue_mgmt_ops igb_qops = {
	.mem_size = sizeof(struct igb_qmem),
	.mem_alloc = igb_mem_alloc,
	.mem_free = igb_mem_free,
	.start = igb_start,
	.stop = igb_stop,
	.mem_pool = igb_mem_pool,
};

/* What a queue can truly do: header split is what makes unreadable
 * payload memory possible, since the CPU must still parse the headers. */
static uint32_t igb_queue_caps(bool split, bool csum)
{
	return NM_RXQ_CAP_RESTART | (csum ? NM_RXQ_CAP_RX_CSUM : 0) |
	       (split ? NM_RXQ_CAP_HEADER_SPLIT | NM_RXQ_CAP_UNREADABLE : 0);
}

/* What every queue takes (SRRCTL.BSIZEPACKET, 8.10.2): 1 KiB units, 7 bits,
 * so up to 127 KiB; and, since the driver takes a frame only whole in one
 * buffer, at least the largest frame at this MTU. */
static struct nm_rxq_buf_sizes igb_buf_sizes(uint32_t mtu)
{
	uint32_t min = (NM_IGB_FRAME_LEN(mtu) + 1023u) & ~1023u;
	uint32_t dflt = IGB_HOST_BUF_SIZE;

	while (dflt < min)
		dflt <<= 1;
	return (struct nm_rxq_buf_sizes){ .min = min, .max = 127u * 1024, .step = 1024,
					  .dflt = dflt };
}

/* --- open / close ------------------------------------------------------ */

static int check_params(struct nm_igb_params *p, struct nm_err *err)
{
	if (!p->bdf || !*p->bdf)
		return nm_err_set(err, -EINVAL, "no PCI address given (e.g. 0000:00:06.0)");
	if (strlen(p->bdf) >= 16)
		return nm_err_set(err, -EINVAL, "'%s' is not a PCI address", p->bdf);
	if (!p->num_rx_queues)
		p->num_rx_queues = 4;
	if (!p->ring_size)
		p->ring_size = 512;
	if (!p->pool_size)
		p->pool_size = 2 * p->ring_size;
	if (!p->link_timeout_ms)
		p->link_timeout_ms = 5000;
	if (!p->mtu)
		p->mtu = 1500;
	if (p->mtu < 68 || p->mtu > NM_IGB_MAX_MTU)
		return nm_err_set(err, -EINVAL, "MTU %u: the igb driver takes 68 to %u",
				  p->mtu, NM_IGB_MAX_MTU);
	if (p->num_rx_queues > NM_IGB_MAX_RX_QUEUES)
		return nm_err_set(err, -EINVAL, "the igb driver runs at most %d RX queues, not %u",
				  NM_IGB_MAX_RX_QUEUES, p->num_rx_queues);
	if (p->ring_size < 64 || p->ring_size > 4096 || (p->ring_size & (p->ring_size - 1)))
		return nm_err_set(err, -EINVAL, "ring size %u: a power of two from 64 to 4096",
				  p->ring_size);
	if (p->pool_size < p->ring_size)
		return nm_err_set(err, -EINVAL, "pool size %u is smaller than the ring (%u)",
				  p->pool_size, p->ring_size);
	return 0;
}

static int igb_claim(struct nm_igb *igb, const struct nm_igb_params *p,
		     struct nm_dma_domain **dom, struct nm_err *err)
{
	uint16_t ids[2];
	int group, ret;

	if (p->dma_domain) {
		/* Someone else's container (EAL's): the device is already in it. */
		nm_dma_domain_get(p->dma_domain);
		*dom = p->dma_domain;
		igb->ext_fd = true;
		ret = nm_vfio_pci_open_fd(&igb->pci, p->vfio_device_fd, igb->bdf, err);
	} else {
		group = nm_vfio_pci_group(igb->bdf, err);
		if (group < 0)
			return group;
		ret = nm_dma_domain_vfio_create(group, dom, err);
		if (ret)
			return ret;
		ret = nm_vfio_pci_open(&igb->pci, *dom, igb->bdf, err);
	}
	if (ret)
		goto err_dom;
	if (nm_vfio_pci_cfg_read(&igb->pci, PCI_VENDOR_ID, ids, sizeof(ids)) ||
	    ids[0] != IGB_VENDOR_INTEL || ids[1] != IGB_DEV_ID_82576) {
		ret = nm_err_set(err, -ENODEV, "%s is %04x:%04x, not an Intel 82576 (8086:10c9)",
				 igb->bdf, ids[0], ids[1]);
		goto err_pci;
	}
	igb->bar0 = igb->pci.bar0;
	/* Function-level reset: whatever a previous owner left running stops. */
	nm_vfio_pci_reset(&igb->pci);
	ret = nm_vfio_pci_bus_master(&igb->pci, true);
	if (ret) {
		nm_err_set(err, ret, "%s: cannot enable bus mastering", igb->bdf);
		goto err_pci;
	}
	return 0;
err_pci:
	nm_vfio_pci_close(&igb->pci, !igb->ext_fd);
err_dom:
	nm_dma_domain_put(*dom);
	return ret;
}

static void igb_read_mac(struct nm_igb *igb)
{
	uint32_t lo = igb_rd32(igb->bar0, IGB_RAL(0)), hi = igb_rd32(igb->bar0, IGB_RAH(0));

	for (int i = 0; i < 4; i++)
		igb->mac[i] = (uint8_t)(lo >> (8 * i));
	igb->mac[4] = (uint8_t)hi;
	igb->mac[5] = (uint8_t)(hi >> 8);
}

static void igb_quiesce(struct nm_igb *igb)
{
	igb_wr32(igb->bar0, IGB_RCTL, 0);
	igb_wr32(igb->bar0, IGB_TCTL, 0);
	igb_disable_interrupts(igb);
}

int nm_igb_open(const struct nm_igb_params *params, struct nm_igb **out,
		struct nm_err *err)
{
	struct nm_igb_params p = params ? *params : (struct nm_igb_params){ 0 };
	struct nm_host_mem_params hp = { .numa_node = -1, .buf_size = IGB_HOST_BUF_SIZE };
	struct nm_dma_domain *dom;
	struct nm_igb *igb;
	char name[NM_NETDEV_NAME_LEN];
	int ret;

	ret = check_params(&p, err);
	if (ret)
		return ret;
	igb = calloc(1, sizeof(*igb));
	if (!igb)
		return nm_err_set(err, -ENOMEM, "out of memory");
	snprintf(igb->bdf, sizeof(igb->bdf), "%s", p.bdf);
	igb->ring_size = p.ring_size;
	igb->pool_size = p.pool_size;
	igb->mtu = p.mtu;
	igb->buf_sizes = igb_buf_sizes(p.mtu);
	pthread_mutex_init(&igb->rss_lock, NULL);
	for (uint32_t i = 0; i < NM_IGB_MAX_RX_QUEUES; i++)
		pthread_mutex_init(&igb->rxq[i].lock, NULL);

	ret = igb_claim(igb, &p, &dom, err);
	if (ret)
		goto err_free;
	ret = igb_reset_hw(igb, err);
	if (ret)
		goto err_release;
	igb_read_mac(igb);
	ret = igb_link_up(igb, p.link_timeout_ms, err);
	if (ret)
		goto err_release;
	nm_igb_hw_stats(igb, &(struct nm_igb_hw_stats){ 0 });   /* 4.5.8: clear */
	memset(&igb->hw, 0, sizeof(igb->hw));

	/* Headers, default payload and TX frames: each queue's pools twice
	 * over (old and new memory during a restart) and what the
	 * application still holds, plus the TX pool. */
	hp.size = ((uint64_t)p.num_rx_queues * p.pool_size * 2 * 3 + 2 * IGB_TX_RING_SIZE) *
		  IGB_HOST_BUF_SIZE;
	hp.no_hugepages = p.no_hugepages;
	ret = nm_host_mem_create(dom, &hp, &igb->host, err);
	if (ret)
		goto err_release;
	if (igb->buf_sizes.dflt > IGB_HOST_BUF_SIZE) {
		/* Jumbo frames: default payload buffers that hold one whole,
		 * for each queue's pool twice over (a restart). */
		struct nm_host_mem_params jp = {
			.numa_node = -1, .buf_size = igb->buf_sizes.dflt,
			.no_hugepages = p.no_hugepages,
			.size = (uint64_t)p.num_rx_queues * p.pool_size * 2 * igb->buf_sizes.dflt,
		};

		ret = nm_host_mem_create(dom, &jp, &igb->jumbo, err);
		if (ret)
			goto err_host;
	}
	snprintf(name, sizeof(name), "igb@%s", igb->bdf);
	ret = nm_netdev_init(&igb->dev, name, p.num_rx_queues, &igb_qops, dom, err);
	if (ret)
		goto err_host;
	nm_dma_domain_put(dom);   /* the device holds it now */
	dom = NULL;
	for (uint32_t i = 0; i < p.num_rx_queues; i++) {
		nm_netdev_set_rxq_caps(&igb->dev, i,
				       igb_queue_caps(!(p.no_split_mask & (1u << i)),
						      !(p.no_csum_mask & (1u << i))));
		nm_netdev_set_rxq_buf_sizes(&igb->dev, i, &igb->buf_sizes);
	}

	igb_rx_init(igb);
	igb_port_init(igb);
	ret = nm_netdev_open(&igb->dev, err);
	if (ret)
		goto err_netdev;
	ret = igb_tx_init(igb, err);
	if (ret)
		goto err_netdev;
	igb_wr32(igb->bar0, IGB_RCTL, IGB_RCTL_EN | IGB_RCTL_BAM | IGB_RCTL_SECRC |
		 (igb->mtu > 1500 ? IGB_RCTL_LPE : 0));
	*out = igb;
	return 0;

err_netdev:
	igb_quiesce(igb);
	nm_netdev_fini(&igb->dev);
err_host:
	if (igb->jumbo)
		nm_host_mem_put(igb->jumbo);
	nm_host_mem_put(igb->host);
err_release:
	nm_vfio_pci_bus_master(&igb->pci, false);
	nm_vfio_pci_close(&igb->pci, !igb->ext_fd);
	if (dom)
		nm_dma_domain_put(dom);
err_free:
	igb_rss_fini(igb);
	free(igb);
	return ret;
}

void nm_igb_close(struct nm_igb *igb)
{
	if (!igb)
		return;
	/* No more DMA from here on; then give every buffer and mapping back. */
	igb_quiesce(igb);
	nm_netdev_fini(&igb->dev);   /* stops queues, frees their memory */
	igb_tx_fini(igb);
	igb_wr32(igb->bar0, IGB_CTRL, igb_rd32(igb->bar0, IGB_CTRL) | IGB_CTRL_RST);
	igb_wait_reg(igb->bar0, IGB_CTRL, IGB_CTRL_RST, 0, 100);
	nm_vfio_pci_bus_master(&igb->pci, false);
	nm_vfio_pci_close(&igb->pci, !igb->ext_fd);
	/* The last reference to the host memory unmaps it, and with it goes
	 * the last reference to the domain, which closes the container. */
	if (igb->jumbo)
		nm_host_mem_put(igb->jumbo);
	nm_host_mem_put(igb->host);
	for (uint32_t i = 0; i < NM_IGB_MAX_RX_QUEUES; i++)
		pthread_mutex_destroy(&igb->rxq[i].lock);
	igb_rss_fini(igb);
	pthread_mutex_destroy(&igb->rss_lock);
	free(igb);
}

/* --- control and introspection ----------------------------------------- */

struct nm_netdev *nm_igb_netdev(struct nm_igb *igb)
{
	return &igb->dev;
}

struct nm_host_mem *nm_igb_host_mem(struct nm_igb *igb)
{
	return igb->host;
}

void nm_igb_mac_addr(struct nm_igb *igb, uint8_t mac[6])
{
	memcpy(mac, igb->mac, 6);
}

uint32_t nm_igb_mtu(struct nm_igb *igb)
{
	return igb->mtu;
}

int nm_igb_set_header_split(struct nm_igb *igb, uint32_t queue, bool on,
			    struct nm_err *err)
{
	struct nm_netdev *dev = &igb->dev;
	struct nm_mp_params mp;
	uint32_t old;
	int ret;

	if (queue >= dev->num_rx_queues)
		return nm_err_set(err, -EINVAL, "queue %u out of range (0-%u)", queue,
				  dev->num_rx_queues - 1);
	pthread_mutex_lock(&dev->lock);
	old = dev->rxqs[queue].caps;
	mp = dev->rxqs[queue].mp;
	pthread_mutex_unlock(&dev->lock);
	nm_netdev_set_rxq_caps(dev, queue, igb_queue_caps(on, old & NM_RXQ_CAP_RX_CSUM));
	/* Same provider, new flags: the common path checks them first. */
	ret = nm_rxq_restart(dev, queue, &mp, err);
	if (ret) {
		nm_netdev_set_rxq_caps(dev, queue, old);
		if (err) {
			char why[NM_ERR_MSG_LEN];

			snprintf(why, sizeof(why), "%s", err->msg);
			nm_err_set(err, ret, "header split %s on queue %u: %s; flags kept",
				   on ? "on" : "off", queue, why);
		}
	}
	return ret;
}

int nm_igb_rxq_setup(struct nm_igb *igb, uint32_t queue,
		     const struct nm_igb_rxq_layout *l,
		     const struct nm_mp_params *mp, struct nm_err *err)
{
	struct nm_netdev *dev = &igb->dev;
	struct igb_rxq *rxq;
	struct nm_mp_params old_hdr;
	uint32_t old_caps, old_size;
	int ret;

	if (queue >= dev->num_rx_queues)
		return nm_err_set(err, -EINVAL, "queue %u out of range (0-%u)", queue,
				  dev->num_rx_queues - 1);
	if (l->hdr_size && (l->hdr_size % 64 || l->hdr_size > 960))
		return nm_err_set(err, -EINVAL, "header buffer of %u bytes: the 82576 takes 64 to "
				  "960 in 64-byte steps (SRRCTL.BSIZEHEADER)", l->hdr_size);
	rxq = &igb->rxq[queue];
	pthread_mutex_lock(&dev->lock);
	old_caps = dev->rxqs[queue].caps;
	pthread_mutex_unlock(&dev->lock);
	old_hdr = rxq->hdr_mp;
	old_size = rxq->hdr_size;
	rxq->hdr_mp = l->split ? l->hdr_mp : (struct nm_mp_params){ 0 };
	rxq->hdr_size = l->hdr_size;
	nm_netdev_set_rxq_caps(dev, queue, igb_queue_caps(l->split,
							  old_caps & NM_RXQ_CAP_RX_CSUM));
	ret = nm_rxq_restart(dev, queue, mp, err);
	if (ret) {
		rxq->hdr_mp = old_hdr;
		rxq->hdr_size = old_size;
		nm_netdev_set_rxq_caps(dev, queue, old_caps);
		return ret;
	}
	rxq->paused = false;
	return 0;
}

int nm_igb_rxq_pause(struct nm_igb *igb, uint32_t queue, bool pause,
		     struct nm_err *err)
{
	struct nm_netdev *dev = &igb->dev;
	int ret = 0;
	void *qmem;

	if (queue >= dev->num_rx_queues)
		return nm_err_set(err, -EINVAL, "queue %u out of range (0-%u)", queue,
				  dev->num_rx_queues - 1);
	pthread_mutex_lock(&dev->lock);
	qmem = dev->rxqs[queue].qmem;
	if (!qmem)
		ret = nm_err_set(err, -ENODEV, "%s queue %u has no memory to run on",
				 dev->name, queue);
	else if (igb->rxq[queue].paused != pause)
		ret = pause ? igb_stop(dev, qmem, queue, err) : igb_start(dev, qmem, queue, err);
	if (!ret)
		igb->rxq[queue].paused = pause;
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

void nm_igb_set_rx_mode(struct nm_igb *igb, bool promisc, bool allmulti)
{
	uint32_t rctl = igb_rd32(igb->bar0, IGB_RCTL) & ~(IGB_RCTL_UPE | IGB_RCTL_MPE);

	igb_wr32(igb->bar0, IGB_RCTL, rctl | (promisc ? IGB_RCTL_UPE : 0) |
		 (promisc || allmulti ? IGB_RCTL_MPE : 0));
}

bool nm_igb_link(struct nm_igb *igb, uint32_t *speed_mbps, bool *full_duplex)
{
	static const uint32_t speeds[4] = { 10, 100, 1000, 1000 };
	uint32_t st = igb_rd32(igb->bar0, IGB_STATUS);

	if (speed_mbps)
		*speed_mbps = speeds[(st >> IGB_STATUS_SPEED_SHIFT) & 3];
	if (full_duplex)
		*full_duplex = st & IGB_STATUS_FD;
	return st & IGB_STATUS_LU;
}

void nm_igb_rxq_stats(struct nm_igb *igb, uint32_t queue, struct nm_igb_rxq_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (queue >= igb->dev.num_rx_queues)
		return;
	pthread_mutex_lock(&igb->rxq[queue].lock);
	*st = igb->rxq[queue].stats;
	pthread_mutex_unlock(&igb->rxq[queue].lock);
}

void nm_igb_ring_regs(struct nm_igb *igb, uint32_t queue, struct nm_igb_ring_regs *r)
{
	volatile uint8_t *bar0 = igb->bar0;

	*r = (struct nm_igb_ring_regs){
		.rdbal = igb_rd32(bar0, IGB_RDBAL(queue)),
		.rdbah = igb_rd32(bar0, IGB_RDBAH(queue)),
		.rdlen = igb_rd32(bar0, IGB_RDLEN(queue)),
		.srrctl = igb_rd32(bar0, IGB_SRRCTL(queue)),
		.rxdctl = igb_rd32(bar0, IGB_RXDCTL(queue)),
		.rdh = igb_rd32(bar0, IGB_RDH(queue)),
		.rdt = igb_rd32(bar0, IGB_RDT(queue)),
	};
}

void nm_igb_hw_stats(struct nm_igb *igb, struct nm_igb_hw_stats *st)
{
	/* Clear-on-read registers: fold them into the running totals. */
	igb->hw.rx_good += igb_rd32(igb->bar0, IGB_GPRC);
	igb->hw.tx_good += igb_rd32(igb->bar0, IGB_GPTC);
	igb->hw.rx_missed += igb_rd32(igb->bar0, IGB_MPC);
	*st = igb->hw;
}

uint64_t nm_igb_op_count(struct nm_igb *igb, enum nm_igb_op op)
{
	return op < NM_IGB_OP_COUNT ? atomic_load(&igb->op_count[op]) : 0;
}
