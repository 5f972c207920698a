// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The virtual NIC's datapath: the plain end (the peer) transmits, the frame
 * is steered to one of nmk0's RX queues (ntuple rule, else RSS), waits in the
 * queue's backlog, and the queue's NAPI poll "receives" it as a header-split
 * NIC does (bnxt, gve):
 *
 *  - TCP with tcp-data-split on and a queue flagged header-split: Ethernet,
 *    IP and TCP headers go into a page from the queue's host header pool
 *    (the skb's head, built on it), the payload into buffers posted in the
 *    queue's RX ring from its page pool: host pages, the kernel's devmem
 *    net_iovs (netlink bind-rx), or this module's net_iovs;
 *  - anything else whole into the header page.
 *
 * "DMA" is a CPU copy to the buffer's DMA address. The NIC's DMA device is a
 * platform device on dma-direct, where a DMA address is the physical address
 * (checked at load: nm_vnic_rx_dma_identity()), so the copy writes exactly
 * where a device would: for a dmabuf binding, into the dmabuf's own pages at
 * the net_iov's offset. The module neither maps the dmabuf itself nor looks
 * into the kernel's private binding.
 *
 * The kernel's net_iovs go up in skbs as netmem frags (skb->unreadable), so
 * GRO, TCP and the devmem socket path (recvmsg MSG_SOCK_DEVMEM) run as on a
 * real NIC. This module's own net_iovs cannot: 6.12 lets no module give the
 * kernel's page pool a provider (docs/kmod.md), so the stack could not give
 * them back. Frames on such a queue have their payload placed in the binding
 * and are then dropped and counted (kmod_dropped).
 */
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <net/page_pool/helpers.h>

#include "nm_kmod.h"

/* Headers we split off: Ethernet + IPv6 (or IPv4 with options) + TCP. */
#define NM_HDR_MAX 192

bool nm_vnic_rx_dma_identity(struct device *dma_dev)
{
	struct page *page = alloc_page(GFP_KERNEL);
	dma_addr_t dma;
	bool same;

	if (!page)
		return false;
	dma = dma_map_page(dma_dev, page, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(dma_dev, dma)) {
		__free_page(page);
		return false;
	}
	same = dma == page_to_phys(page);
	dma_unmap_page(dma_dev, dma, PAGE_SIZE, DMA_FROM_DEVICE);
	__free_page(page);
	return same;
}

/* Where the device would write for DMA address @dma (see above). */
void *nm_vnic_dma_to_va(const struct nm_vnic *dev, dma_addr_t dma, unsigned int len)
{
	unsigned long pfn = PHYS_PFN(dma);

	/* A large buffer is physically contiguous (one DMA segment, identity). */
	if (!dev->dma_identity || !len || !pfn_valid(pfn) || !pfn_valid(PHYS_PFN(dma + len - 1)))
		return NULL;
	return page_address(pfn_to_page(pfn)) + offset_in_page(dma);
}

/* Length of the Ethernet + IP + TCP headers in @h (@n bytes), 0 if the frame
 * is not plain TCP over IPv4/IPv6 with all its headers inside @h. */
static unsigned int tcp_headers_len(const u8 *h, unsigned int n)
{
	unsigned int l3 = ETH_HLEN, l4;
	const struct tcphdr *th;
	__be16 proto;

	if (n < ETH_HLEN)
		return 0;
	proto = ((const struct ethhdr *)h)->h_proto;
	if (proto == htons(ETH_P_IP)) {
		const struct iphdr *iph = (const void *)(h + l3);

		if (n < l3 + sizeof(*iph) || iph->ihl < 5 ||
		    iph->protocol != IPPROTO_TCP ||
		    (iph->frag_off & htons(IP_MF | IP_OFFSET)))
			return 0;
		l4 = l3 + iph->ihl * 4;
	} else if (proto == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6 = (const void *)(h + l3);

		if (n < l3 + sizeof(*ip6) || ip6->nexthdr != IPPROTO_TCP)
			return 0;
		l4 = l3 + sizeof(*ip6);
	} else {
		return 0;
	}
	if (n < l4 + sizeof(*th))
		return 0;
	th = (const void *)(h + l4);
	if (th->doff < 5 || n < l4 + th->doff * 4)
		return 0;
	return l4 + th->doff * 4;
}

static bool ring_take(struct nm_vnic_qmem *qm, unsigned long *ref)
{
	if (!qm->ring_fill)
		return false;
	*ref = qm->ring[--qm->ring_fill];
	return true;
}

void nm_vnic_ring_refill(struct nm_vnic *dev, struct nm_vnic_qmem *qm,
			 struct nmk_rxq_stats *st, gfp_t gfp)
{
	u32 want = qm->ring_cap - qm->ring_fill, got = 0;
	u64 t0;

	if (!want)
		return;
	t0 = ktime_get_ns();
	while (qm->ring_fill < qm->ring_cap) {
		unsigned long ref;

		if (qm->npp)
			ref = nm_page_pool_alloc_netmem(qm->npp);
		else
			ref = (__force unsigned long)nm_pp_alloc_netmem(qm->kpp, gfp);
		if (!ref)
			break;
		qm->ring[qm->ring_fill++] = ref;
		got++;
	}
	if (st) {
		st->ring_alloc_ns += ktime_get_ns() - t0;
		st->ring_allocs += got;
		st->ring_alloc_fail += got < want;
	}
}

/*
 * The payload of @src from @off into this module's net_iovs: placed, then
 * straight back to the pool (nothing above the driver can consume them).
 */
static bool place_kmod(struct nm_vnic_rx *rx, struct nm_vnic_qmem *qm,
		       const struct sk_buff *src, unsigned int off)
{
	while (off < src->len) {
		unsigned int chunk = min_t(unsigned int, src->len - off, PAGE_SIZE);
		unsigned long ref;
		void *va;

		if (!ring_take(qm, &ref)) {
			rx->st.drop_no_buf++;
			return false;
		}
		va = nm_vnic_dma_to_va(rx->dev, nm_netmem_to_net_iov(ref)->dma_addr, chunk);
		if (va && !skb_copy_bits(src, off, va, chunk))
			rx->st.payload_kmod += chunk;
		nm_page_pool_put_netmem(qm->npp, ref, true);
		off += chunk;
	}
	rx->st.kmod_dropped++;
	return true;
}

/*
 * Where the next @want payload bytes go: a posted buffer of one page, or,
 * with large buffers (rx_page_size), the rest of the buffer being filled,
 * as a NIC's aggregation ring packs a flow's payloads into one buffer. The
 * frag gets a reference of its own; the queue keeps one on the buffer it
 * fills until the buffer is full (or the queue memory is released).
 */
static bool frag_take(struct nm_vnic_qmem *qm, unsigned int want, netmem_ref *netmem,
		      unsigned int *boff, unsigned int *chunk)
{
	unsigned long ref;

	if (qm->buf_size <= PAGE_SIZE) {
		if (!ring_take(qm, &ref))
			return false;
		*netmem = (__force netmem_ref)ref;
		*boff = 0;
		*chunk = min_t(unsigned int, want, PAGE_SIZE);
		return true;
	}
	if (!qm->part) {
		if (!ring_take(qm, &ref))
			return false;
		qm->part = ref;
		qm->part_off = 0;
	}
	*netmem = (__force netmem_ref)qm->part;
	*boff = qm->part_off;
	*chunk = min_t(unsigned int, want, qm->buf_size - qm->part_off);
	page_pool_ref_netmem(*netmem);
	qm->part_off += *chunk;
	if (qm->part_off == qm->buf_size) {
		page_pool_put_full_netmem(qm->kpp, *netmem, false);
		qm->part = 0;
	}
	return true;
}

/* The payload of @src from @off into posted buffers, as frags of @skb. */
static bool place_frags(struct nm_vnic_rx *rx, struct nm_vnic_qmem *qm,
			struct sk_buff *skb, const struct sk_buff *src,
			unsigned int off)
{
	int frag = 0;

	while (off < src->len) {
		unsigned int chunk, boff;
		netmem_ref netmem;
		bool niov;
		void *va;

		if (frag == MAX_SKB_FRAGS ||
		    !frag_take(qm, src->len - off, &netmem, &boff, &chunk)) {
			rx->st.drop_no_buf++;
			return false;
		}
		niov = netmem_is_net_iov(netmem);
		va = niov ? nm_vnic_dma_to_va(rx->dev, page_pool_get_dma_addr_netmem(netmem) + boff, chunk) :
			    netmem_address(netmem) + boff;
		if (!va || skb_copy_bits(src, off, va, chunk)) {
			page_pool_put_full_netmem(qm->kpp, netmem, false);
			return false;
		}
		if (niov) {
			rx->st.payload_devmem += chunk;
		} else {
			page_pool_dma_sync_for_cpu(qm->kpp, netmem_to_page(netmem), boff, chunk);
			rx->st.payload_host += chunk;
		}
		/* A packed buffer's truesize is what the frag used of it. */
		skb_add_rx_frag_netmem(skb, frag++, netmem, boff, chunk,
				       qm->buf_size <= PAGE_SIZE ? PAGE_SIZE : chunk);
		off += chunk;
	}
	return true;
}

static void rx_one(struct nm_vnic *dev, struct nm_vnic_rx *rx,
		   struct nm_vnic_qmem *qm, struct sk_buff *src)
{
	struct net_device *nd = dev->netdev;
	unsigned int len = src->len, hlen, n;
	u8 hdr[NM_HDR_MAX];
	struct sk_buff *skb;
	struct page *page;
	bool split;

	n = min_t(unsigned int, len, sizeof(hdr));
	if (skb_copy_bits(src, 0, hdr, n))
		goto drop;
	hlen = tcp_headers_len(hdr, n);
	split = hlen && hlen < len && dev->tcp_data_split &&
		(dev->rxqs[rx->index].caps & NM_RXQ_CAP_HEADER_SPLIT) &&
		(nd->features & NETIF_F_RXCSUM);
	if (!split)
		hlen = len;
	if (hlen > SKB_WITH_OVERHEAD(PAGE_SIZE) - NET_SKB_PAD - NET_IP_ALIGN)
		goto drop;      /* above max_mtu: cannot come from the peer */

	page = page_pool_dev_alloc_pages(qm->hpp);
	if (!page) {
		rx->st.drop_no_buf++;
		goto drop;
	}
	skb = napi_build_skb(page_address(page), PAGE_SIZE);
	if (!skb) {
		page_pool_put_full_page(qm->hpp, page, true);
		goto drop;
	}
	skb_mark_for_recycle(skb);
	skb_reserve(skb, NET_SKB_PAD + NET_IP_ALIGN);
	if (split)
		skb_put_data(skb, hdr, hlen);
	else if (skb_copy_bits(src, 0, skb_put(skb, len), len))
		goto drop_skb;
	page_pool_dma_sync_for_cpu(qm->hpp, page, NET_SKB_PAD + NET_IP_ALIGN, hlen);

	if (split && qm->npp) {
		place_kmod(rx, qm, src, hlen);
		goto drop_skb;
	}
	if (split && !place_frags(rx, qm, skb, src, hlen))
		goto drop_skb;

	skb->protocol = eth_type_trans(skb, nd);
	/* The pair moves memory, nothing can corrupt it: as veth does. */
	if (nd->features & NETIF_F_RXCSUM)
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	skb_record_rx_queue(skb, rx->index);
	rx->st.packets++;
	rx->st.bytes += len;
	if (split) {
		rx->st.split++;
		rx->st.hdr_bytes += hlen;
	}
	napi_gro_receive(&rx->napi, skb);
	consume_skb(src);
	return;

drop_skb:
	/* Frags already added go back to their pool with the skb. */
	kfree_skb(skb);
drop:
	DEV_STATS_INC(nd, rx_dropped);
	kfree_skb(src);
}

/* Let the peer send again once every backlog has room. */
static void peer_maybe_wake(struct nm_vnic *dev)
{
	u32 i;

	if (!netif_queue_stopped(dev->peer))
		return;
	for (i = 0; i < dev->num_rx_queues; i++)
		if (skb_queue_len_lockless(&dev->rx[i].backlog) > NM_RX_BACKLOG / 2)
			return;
	netif_wake_queue(dev->peer);
}

static int nm_vnic_poll(struct napi_struct *napi, int budget)
{
	struct nm_vnic_rx *rx = container_of(napi, struct nm_vnic_rx, napi);
	struct nm_vnic *dev = rx->dev;
	struct nm_vnic_qmem *qm = &dev->cur[rx->index];
	struct sk_buff_head list;
	struct sk_buff *skb;
	int done = 0;

	rx->st.polls++;
	__skb_queue_head_init(&list);
	spin_lock(&rx->backlog.lock);
	while (done < budget && (skb = __skb_dequeue(&rx->backlog))) {
		__skb_queue_tail(&list, skb);
		done++;
	}
	spin_unlock(&rx->backlog.lock);

	while ((skb = __skb_dequeue(&list)))
		rx_one(dev, rx, qm, skb);
	nm_vnic_ring_refill(dev, qm, &rx->st, GFP_ATOMIC);
	peer_maybe_wake(dev);

	if (done < budget)
		napi_complete_done(napi, done);
	return done;
}

netdev_tx_t nm_vnic_rx_enqueue(struct nm_vnic *dev, struct sk_buff *skb)
{
	struct nm_vnic_rx *rx;
	bool full;
	int q;

	if (!netif_running(dev->netdev)) {
		DEV_STATS_INC(dev->peer, tx_dropped);
		dev->rx[0].st.drop_down++;
		kfree_skb(skb);
		return NETDEV_TX_OK;
	}
	q = nm_vnic_steer_rule(dev, skb);
	if (q < 0) {
		u32 hash = skb_get_hash(skb);

		spin_lock(&dev->steer_lock);
		q = dev->indir[hash % NM_RSS_INDIR];
		spin_unlock(&dev->steer_lock);
	}
	rx = &dev->rx[q];

	spin_lock(&rx->backlog.lock);
	if (skb_queue_len(&rx->backlog) >= NM_RX_BACKLOG) {
		rx->st.drop_backlog++;
		spin_unlock(&rx->backlog.lock);
		DEV_STATS_INC(dev->peer, tx_dropped);
		kfree_skb(skb);
		return NETDEV_TX_OK;
	}
	__skb_queue_tail(&rx->backlog, skb);
	full = skb_queue_len(&rx->backlog) >= NM_RX_BACKLOG;
	spin_unlock(&rx->backlog.lock);
	/* A full queue holds the sender in its qdisc, as a full ring would. */
	if (full)
		netif_stop_queue(dev->peer);
	/* A stopped queue (restart, link down) has NAPI disabled: no-op. */
	napi_schedule(&rx->napi);
	return NETDEV_TX_OK;
}

void nm_vnic_rx_start(struct nm_vnic *dev, u32 idx)
{
	struct nm_vnic_rx *rx = &dev->rx[idx];

	/* Every caller holds the instance lock where the kernel has one. */
	nm_napi_enable(&rx->napi);
	if (!skb_queue_empty_lockless(&rx->backlog))
		napi_schedule(&rx->napi);
}

void nm_vnic_rx_stop(struct nm_vnic *dev, u32 idx)
{
	nm_napi_disable(&dev->rx[idx].napi);
}

void nm_vnic_rx_init(struct nm_vnic *dev)
{
	u32 i;

	for (i = 0; i < dev->num_rx_queues; i++) {
		struct nm_vnic_rx *rx = &dev->rx[i];

		rx->dev = dev;
		rx->index = i;
		skb_queue_head_init(&rx->backlog);
		netif_napi_add(dev->netdev, &rx->napi, nm_vnic_poll);
	}
}

void nm_vnic_rx_fini(struct nm_vnic *dev)
{
	u32 i;

	for (i = 0; i < dev->num_rx_queues; i++) {
		netif_napi_del(&dev->rx[i].napi);
		skb_queue_purge(&dev->rx[i].backlog);
	}
}
