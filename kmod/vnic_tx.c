// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The virtual NIC's transmit: what nmk0 sends arrives on its peer nmkp0, as
 * on veth's other end.
 *
 * A frame with payload in fragments is read as a NIC's DMA engine reads it:
 * from each fragment's DMA address (skb_frag_dma_map()), by a CPU copy
 * standing in for the DMA, as on RX (vnic_rx.c: the DMA device is on
 * dma-direct, a DMA address is the physical one). For host pages that
 * address comes from dma_map_page(). For devmem TX (6.16+: netlink bind-tx,
 * then sendmsg(MSG_ZEROCOPY) with SCM_DEVMEM_DMABUF) the fragments are the
 * kernel's net_iovs, unreadable to the stack, and the address is the one the
 * kernel's binding mapped the dmabuf at for our DMA device: the bytes come
 * out of the dmabuf's pages, read nowhere else. The peer gets a fresh,
 * readable skb with the same headers, checksum state and GSO fields; the
 * original is freed as on a TX completion, which ends the sender's hold on
 * its buffers (its zerocopy notification).
 *
 * A frame all in its linear head (ACKs) goes over as it is.
 */
#include <linux/dma-mapping.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "nm_kmod.h"

/* Append @len bytes at @src to @skb's page fragments, page by page. */
static int tx_put(struct sk_buff *skb, const u8 *src, unsigned int len,
		  struct page **cur, unsigned int *used)
{
	struct skb_shared_info *sh = skb_shinfo(skb);
	unsigned int n;

	while (len) {
		if (!*cur || *used == PAGE_SIZE) {
			if (sh->nr_frags == MAX_SKB_FRAGS)
				return -EMSGSIZE;
			*cur = alloc_page(GFP_ATOMIC);
			if (!*cur)
				return -ENOMEM;
			*used = 0;
			skb_fill_page_desc(skb, sh->nr_frags, *cur, 0, 0);
			skb->truesize += PAGE_SIZE;
		}
		n = min(len, (unsigned int)PAGE_SIZE - *used);
		memcpy(page_address(*cur) + *used, src, n);
		skb_frag_size_add(&sh->frags[sh->nr_frags - 1], n);
		skb->len += n;
		skb->data_len += n;
		*used += n;
		src += n;
		len -= n;
	}
	return 0;
}

/* Append @frag to @n, read at its DMA address a page at a time. */
static int tx_read_frag(struct nm_vnic *dev, const skb_frag_t *frag,
			struct sk_buff *n, struct page **cur, unsigned int *used,
			bool *devmem)
{
	unsigned int size = skb_frag_size(frag), done = 0, len;
	dma_addr_t dma;
	int ret = 0;
	void *va;

	*devmem = skb_frag_is_net_iov(frag);
	if (*devmem && !NM_HAVE_NETMEM_TX)
		return -EOPNOTSUPP;
	dma = skb_frag_dma_map(dev->dma_dev, frag, 0, size, DMA_TO_DEVICE);
	if (!*devmem && dma_mapping_error(dev->dma_dev, dma))
		return -ENOMEM;
	while (!ret && done < size) {
		len = min_t(unsigned int, size - done, PAGE_SIZE - offset_in_page(dma + done));
		va = nm_vnic_dma_to_va(dev, dma + done, len);
		ret = va ? tx_put(n, va, len, cur, used) : -EFAULT;
		done += len;
	}
	if (!*devmem)
		dma_unmap_page(dev->dma_dev, dma, size, DMA_TO_DEVICE);
	return ret;
}

/* The frame as the device read it: same head, payload from DMA addresses. */
static struct sk_buff *tx_dma_read(struct nm_vnic *dev, struct sk_buff *skb)
{
	struct skb_shared_info *sh = skb_shinfo(skb);
	unsigned int hr = skb_headroom(skb), i;
	struct nm_vnic_tx_stats *st = &dev->tx_st;
	struct page *cur = NULL;
	unsigned int used = 0;
	struct sk_buff *n;
	bool devmem;
	int ret;

	n = alloc_skb(hr + skb_headlen(skb), GFP_ATOMIC);
	if (!n) {
		atomic64_inc(&st->drop_nomem);
		return NULL;
	}
	skb_reserve(n, hr);
	skb_put_data(n, skb->data, skb_headlen(skb));
	for (i = 0; i < sh->nr_frags; i++) {
		const skb_frag_t *f = &sh->frags[i];

		ret = tx_read_frag(dev, f, n, &cur, &used, &devmem);
		if (ret)
			goto err;
		atomic64_add(skb_frag_size(f), devmem ? &st->bytes_devmem : &st->bytes_host);
		atomic64_inc(devmem ? &st->frags_devmem : &st->frags_host);
	}
	skb_copy_header(n, skb);
	n->unreadable = 0;      /* copied with the header group: not so now */
	n->pp_recycle = 0;      /* our own pages, on no page pool */
	return n;
err:
	atomic64_inc(ret == -EFAULT ? &st->drop_unmapped :
		     ret == -ENOMEM ? &st->drop_nomem : &st->drop_other);
	kfree_skb(n);
	return NULL;
}

netdev_tx_t nm_vnic_tx(struct nm_vnic *dev, struct sk_buff *skb)
{
	struct net_device *nd = dev->netdev;
	unsigned int len = skb->len;
	struct sk_buff *out = skb;

	if (skb_shinfo(skb)->nr_frags) {
		out = tx_dma_read(dev, skb);
		dev_consume_skb_any(skb);       /* the TX completion */
		if (!out) {
			DEV_STATS_INC(nd, tx_dropped);
			return NETDEV_TX_OK;
		}
		atomic64_inc(&dev->tx_st.dma_read);
	}
	atomic64_inc(&dev->tx_st.packets);
	if (dev_forward_skb(dev->peer, out) == NET_RX_SUCCESS) {
		DEV_STATS_INC(nd, tx_packets);
		DEV_STATS_ADD(nd, tx_bytes, len);
	} else {
		DEV_STATS_INC(nd, tx_dropped);
	}
	return NETDEV_TX_OK;
}

void nm_vnic_tx_stats(struct nm_vnic *dev, struct nmk_tx_stats *out)
{
	const struct nm_vnic_tx_stats *st = &dev->tx_st;

	memset(out, 0, sizeof(*out));
	out->netmem_tx = nm_vnic_netmem_tx(dev->netdev);
	out->packets = atomic64_read(&st->packets);
	out->dma_read = atomic64_read(&st->dma_read);
	out->frags_devmem = atomic64_read(&st->frags_devmem);
	out->bytes_devmem = atomic64_read(&st->bytes_devmem);
	out->frags_host = atomic64_read(&st->frags_host);
	out->bytes_host = atomic64_read(&st->bytes_host);
	out->drop_nomem = atomic64_read(&st->drop_nomem);
	out->drop_unmapped = atomic64_read(&st->drop_unmapped);
	out->drop_other = atomic64_read(&st->drop_other);
}
