/* SPDX-License-Identifier: MIT */
/*
 * The igb datapath: RX rings with advanced descriptors (82576 datasheet
 * 7.1.5) and header split (7.1.6 / SRRCTL.DESCTYPE = 010b), TX on queue 0
 * with advanced data descriptors (7.2.2.3).
 *
 * An RX ring of N descriptors holds at most N-1 posted buffers; slot i of
 * the driver's shadow array remembers which buffers descriptor i points at,
 * since the device overwrites the descriptor when it writes back. The
 * driver reads only posted descriptors (next_to_clean up to tail): the
 * others keep their last write-back, DD included, until posted again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "igb_internal.h"

#define RX_REFILL_MIN 32u   /* refill (and write RDT) once this many are free */

static void put_slot(struct igb_qmem *q, struct igb_rx_slot *s)
{
	if (s->hdr)
		nm_page_pool_put_netmem(q->hdr_pool, s->hdr, true);
	if (s->payload)
		nm_page_pool_put_netmem(q->pool, s->payload, true);
	s->hdr = s->payload = 0;
}

static uint32_t rx_posted(const struct igb_qmem *q)
{
	return (q->tail - q->next_to_clean) & (q->size - 1);
}

/* Post buffers in every free slot (as many as the pools give); returns how
 * many were posted. Buffers come in bulk from the pools' caches. */
static uint32_t rx_refill(struct igb_qmem *q, struct nm_igb_rxq_stats *st)
{
	nm_netmem_ref pay[64], hdr[64];
	uint32_t mask = q->size - 1, posted = 0;

	for (;;) {
		uint32_t want = mask - rx_posted(q), got, i;

		if (!want)
			break;
		if (want > 64)
			want = 64;
		got = nm_page_pool_alloc_netmems(q->pool, pay, want);
		if (got && q->split) {
			uint32_t h = nm_page_pool_alloc_netmems(q->hdr_pool, hdr, got);

			for (i = h; i < got; i++)
				nm_page_pool_put_netmem(q->pool, pay[i], true);
			got = h;
		}
		for (i = 0; i < got; i++) {
			struct igb_rx_slot *s = &q->slots[q->tail];
			union igb_adv_rx_desc *d = &q->ring[q->tail];

			s->payload = pay[i];
			s->hdr = q->split ? hdr[i] : 0;
			d->read.pkt_addr = nm_netmem_dma_addr(pay[i]);
			/* Bit 0 of the header address is where the device writes
			 * DD: buffers are aligned, so it reads 0 until write-back. */
			d->read.hdr_addr = s->hdr ? nm_netmem_dma_addr(s->hdr) : 0;
			q->tail = (q->tail + 1) & mask;
		}
		posted += got;
		if (got < want) {
			st->refill_empty++;
			break;
		}
	}
	return posted;
}

/* 4.5.9 for one queue, also the dynamic enable of 4.5.9.1: program the
 * ring, fill it, enable the queue, then hand the buffers over with RDT. */
int igb_rx_ring_start(struct nm_igb *igb, struct igb_qmem *q, uint32_t idx,
		      struct nm_err *err)
{
	volatile uint8_t *bar0 = igb->bar0;
	uint64_t iova = q->ring_mem->iova;
	uint32_t srrctl = (q->buf_size >> IGB_SRRCTL_BSIZEPKT_SHIFT) | IGB_SRRCTL_DROP_EN;

	igb_wr32(bar0, IGB_RXDCTL(idx), 0);
	if (!igb_wait_reg(bar0, IGB_RXDCTL(idx), IGB_RXDCTL_ENABLE, 0, 10))
		return nm_err_set(err, -ETIMEDOUT, "%s queue %u: RXDCTL.ENABLE did not clear",
				  igb->dev.name, idx);
	if (q->split)
		srrctl |= q->hdr_size << IGB_SRRCTL_BSIZEHDR_SHIFT |
			  IGB_SRRCTL_DESCTYPE_HDR_SPLIT;
	else
		srrctl |= IGB_SRRCTL_DESCTYPE_ONEBUF;
	igb_wr32(bar0, IGB_RDBAL(idx), (uint32_t)iova);
	igb_wr32(bar0, IGB_RDBAH(idx), (uint32_t)(iova >> 32));
	igb_wr32(bar0, IGB_RDLEN(idx), q->size * (uint32_t)sizeof(union igb_adv_rx_desc));
	igb_wr32(bar0, IGB_SRRCTL(idx), srrctl);
	igb_wr32(bar0, IGB_RDH(idx), 0);
	igb_wr32(bar0, IGB_RDT(idx), 0);

	memset(q->ring, 0, q->size * sizeof(*q->ring));
	q->next_to_clean = q->tail = 0;
	q->discard = false;
	if (!rx_refill(q, &igb->rxq[idx].stats))
		return nm_err_set(err, -ENOMEM, "%s queue %u: no buffers to post",
				  igb->dev.name, idx);
	igb_wr32(bar0, IGB_RXDCTL(idx), IGB_RXDCTL_PTHRESH(8) | IGB_RXDCTL_HTHRESH(8) |
		 IGB_RXDCTL_WTHRESH(1) | IGB_RXDCTL_ENABLE);
	if (!igb_wait_reg(bar0, IGB_RXDCTL(idx), IGB_RXDCTL_ENABLE, IGB_RXDCTL_ENABLE, 10)) {
		igb_rx_ring_stop(igb, q, idx);
		return nm_err_set(err, -ETIMEDOUT, "%s queue %u: RXDCTL.ENABLE did not set",
				  igb->dev.name, idx);
	}
	igb_wr32(bar0, IGB_RDT(idx), q->tail);
	return 0;
}

/* Dynamic disable (4.5.9.2): the device stops using the ring once ENABLE
 * reads back 0; every buffer the ring still holds goes back to its pool. */
void igb_rx_ring_stop(struct nm_igb *igb, struct igb_qmem *q, uint32_t idx)
{
	uint32_t mask = q->size - 1;

	igb_wr32(igb->bar0, IGB_RXDCTL(idx), 0);
	igb_wait_reg(igb->bar0, IGB_RXDCTL(idx), IGB_RXDCTL_ENABLE, 0, 10);
	for (; q->next_to_clean != q->tail; q->next_to_clean = (q->next_to_clean + 1) & mask)
		put_slot(q, &q->slots[q->next_to_clean]);
}

/* The device's packet type (IGB_PTYPE_*) as NM_RX_PTYPE_* bits. */
static uint32_t ptype_of(uint32_t t)
{
	return ((t & (IGB_PTYPE_IPV4 | IGB_PTYPE_IPV4E)) ? NM_RX_PTYPE_IPV4 : 0) |
	       ((t & (IGB_PTYPE_IPV6 | IGB_PTYPE_IPV6E)) ? NM_RX_PTYPE_IPV6 : 0) |
	       ((t & (IGB_PTYPE_IPV4E | IGB_PTYPE_IPV6E)) ? NM_RX_PTYPE_IP_EXT : 0) |
	       ((t & IGB_PTYPE_TCP) ? NM_RX_PTYPE_TCP : 0) |
	       ((t & IGB_PTYPE_UDP) ? NM_RX_PTYPE_UDP : 0) |
	       ((t & IGB_PTYPE_SCTP) ? NM_RX_PTYPE_SCTP : 0);
}

/* The device's checksum verdict from the write-back status/error bits
 * (7.1.11.2, 8.10.2 RXCSUM): checked-and-wrong, checked-and-good, or not
 * checked (not IP, not TCP/UDP, a fragment). */
static uint32_t csum_verdict(uint32_t status)
{
	uint32_t v = 0;

	if ((status & IGB_RXD_STAT_IPCS) && (status & IGB_RXD_ERR_IPE))
		v |= NM_RX_PKT_IP_CSUM_BAD;
	if (status & IGB_RXD_STAT_TCPCS)
		v |= (status & IGB_RXD_ERR_TCPE) ? NM_RX_PKT_L4_CSUM_BAD :
						   NM_RX_PKT_L4_CSUM_GOOD;
	return v;
}

unsigned int nm_igb_rx_burst(struct nm_igb *igb, uint32_t queue,
			     struct nm_rx_pkt *pkts, unsigned int n)
{
	uint64_t split = 0, hdr_bytes = 0, payload_bytes = 0;
	struct igb_rxq *rxq;
	struct igb_qmem *q;
	unsigned int got = 0;

	if (queue >= igb->dev.num_rx_queues)
		return 0;
	rxq = &igb->rxq[queue];
	pthread_mutex_lock(&rxq->lock);
	q = rxq->cur;
	if (!q)
		goto out;
	/* Only posted descriptors (next_to_clean up to tail): one past them
	 * still holds its write-back of a lap ago, DD set, and its slot a
	 * buffer already handed out. The ring drains that far whenever the
	 * application holds every buffer (a dmabuf of fewer buffers than
	 * descriptors). */
	while (got < n && q->next_to_clean != q->tail) {
		union igb_adv_rx_desc *d = &q->ring[q->next_to_clean];
		uint32_t status = __atomic_load_n(&d->wb.status_error, __ATOMIC_ACQUIRE);
		struct igb_rx_slot s;
		uint32_t len, hlen, rss;
		uint16_t info, pinfo;

		if (!(status & IGB_RXD_STAT_DD))
			break;
		s = q->slots[q->next_to_clean];
		len = d->wb.length;
		info = d->wb.hdr_info;
		pinfo = d->wb.pkt_info;
		rss = d->wb.rss;
		q->next_to_clean = (q->next_to_clean + 1) & (q->size - 1);

		/* Buffers hold whole frames (the queue takes no buffer
		 * smaller than the largest frame at the MTU): a frame over
		 * several descriptors (a provider that stated no size) is
		 * dropped to its last descriptor, counted once; so is a frame
		 * with errors. */
		if (q->discard || !(status & IGB_RXD_STAT_EOP) ||
		    (status & IGB_RXD_ERR_FRAME)) {
			if (!q->discard)
				rxq->stats.drop_error++;
			q->discard = !(status & IGB_RXD_STAT_EOP);
			put_slot(q, &s);
			continue;
		}
		hlen = q->split && (info & IGB_RXD_HDR_SPH) ? IGB_RXD_HDR_LEN(info) : 0;
		if (!hlen && s.hdr) {
			/* Not split (not TCP/UDP over IP, or the header did
			 * not fit): the whole frame is in the packet buffer. */
			nm_page_pool_put_netmem(q->hdr_pool, s.hdr, true);
			s.hdr = 0;
		}
		if (!hlen && nm_netmem_is_net_iov(s.payload)) {
			/* Its headers are in memory the CPU must not read. */
			rxq->stats.drop_unsplit++;
			put_slot(q, &s);
			continue;
		}
		if (!len) {
			nm_page_pool_put_netmem(q->pool, s.payload, true);
			s.payload = 0;
		}
		if (!hlen && !len) {
			rxq->stats.drop_error++;
			continue;
		}
		pkts[got++] = (struct nm_rx_pkt){
			.hdr = s.hdr,
			.payload = s.payload,
			.hdr_len = hlen,
			.payload_len = len,
			.flags = (hlen ? NM_RX_PKT_SPLIT : 0) |
				 (q->rx_csum ? csum_verdict(status) : 0) |
				 (IGB_RXD_RSS_TYPE(pinfo) ? NM_RX_PKT_RSS_HASH : 0),
			.queue = queue,
			.rss_hash = IGB_RXD_RSS_TYPE(pinfo) ? rss : 0,
		};
		if (!(IGB_RXD_PTYPE(pinfo) & IGB_PTYPE_ETQF)) {
			pkts[got - 1].ptype = ptype_of(IGB_RXD_PTYPE(pinfo));
			pkts[got - 1].flags |= NM_RX_PKT_PTYPE;
		}
		split += hlen != 0;
		rxq->stats.csum_bad += !!(pkts[got - 1].flags &
					  (NM_RX_PKT_L4_CSUM_BAD | NM_RX_PKT_IP_CSUM_BAD));
		hdr_bytes += hlen;
		payload_bytes += len;
	}
	rxq->stats.packets += got;
	rxq->stats.bytes += hdr_bytes + payload_bytes;
	rxq->stats.split += split;
	rxq->stats.hdr_bytes += hdr_bytes;
	rxq->stats.payload_bytes += payload_bytes;
	if (q->size - 1 - rx_posted(q) >= (RX_REFILL_MIN < q->size / 4 ? RX_REFILL_MIN : q->size / 4) &&
	    rx_refill(q, &rxq->stats))
		igb_wr32(igb->bar0, IGB_RDT(queue), q->tail);
out:
	pthread_mutex_unlock(&rxq->lock);
	return got;
}

static void recycle_one(struct igb_qmem *q, nm_netmem_ref ref)
{
	struct nm_page_pool *pp;

	if (!ref)
		return;
	pp = nm_netmem_to_net_iov(ref)->pp;
	/* The running memory's pools are alive, and ours under the lock. */
	nm_page_pool_put_netmem(pp, ref, q && (pp == q->pool || pp == q->hdr_pool));
}

void nm_igb_rx_recycle(struct nm_igb *igb, uint32_t queue,
		       const struct nm_rx_pkt *pkts, unsigned int n)
{
	struct igb_rxq *rxq;

	if (queue >= igb->dev.num_rx_queues) {
		for (unsigned int i = 0; i < n; i++) {
			if (pkts[i].hdr)
				nm_netmem_put(pkts[i].hdr);
			if (pkts[i].payload)
				nm_netmem_put(pkts[i].payload);
		}
		return;
	}
	rxq = &igb->rxq[queue];
	pthread_mutex_lock(&rxq->lock);
	for (unsigned int i = 0; i < n; i++) {
		recycle_one(rxq->cur, pkts[i].hdr);
		recycle_one(rxq->cur, pkts[i].payload);
	}
	pthread_mutex_unlock(&rxq->lock);
}

/* --- transmit (4.5.10), queue 0 ---------------------------------------- */

int igb_tx_init(struct nm_igb *igb, struct nm_err *err)
{
	struct igb_txq *t = &igb->txq;
	volatile uint8_t *bar0 = igb->bar0;
	struct nm_host_mem_params rp = {
		.size = IGB_TX_RING_SIZE * sizeof(union igb_adv_tx_desc),
		.buf_size = IGB_TX_RING_SIZE * (uint32_t)sizeof(union igb_adv_tx_desc),
		.numa_node = -1,
		.no_hugepages = true,
	};
	struct nm_page_pool_params pp = {
		.pool_size = 2 * IGB_TX_RING_SIZE,
		.nid = -1,
		.mp = nm_host_mem_mp(igb->host),
	};
	uint64_t iova;
	int ret;

	pthread_mutex_init(&t->lock, NULL);
	t->size = IGB_TX_RING_SIZE;
	t->bufs = calloc(t->size, sizeof(*t->bufs));
	if (!t->bufs)
		return nm_err_set(err, -ENOMEM, "out of memory");
	ret = nm_host_mem_create(igb->dev.dma, &rp, &t->ring_mem, err);
	if (ret)
		goto err_bufs;
	ret = nm_page_pool_create(&pp, &t->pool, err);
	if (ret)
		goto err_ring;
	t->ring = (union igb_adv_tx_desc *)t->ring_mem->base;
	iova = t->ring_mem->iova;
	igb_wr32(bar0, IGB_TXDCTL(0), 0);
	igb_wr32(bar0, IGB_TDBAL(0), (uint32_t)iova);
	igb_wr32(bar0, IGB_TDBAH(0), (uint32_t)(iova >> 32));
	igb_wr32(bar0, IGB_TDLEN(0), t->size * (uint32_t)sizeof(union igb_adv_tx_desc));
	igb_wr32(bar0, IGB_TDH(0), 0);
	igb_wr32(bar0, IGB_TDT(0), 0);
	igb_wr32(bar0, IGB_TXDCTL(0), IGB_TXDCTL_ENABLE);
	if (!igb_wait_reg(bar0, IGB_TXDCTL(0), IGB_TXDCTL_ENABLE, IGB_TXDCTL_ENABLE, 10)) {
		ret = nm_err_set(err, -ETIMEDOUT, "%s: TXDCTL.ENABLE did not set", igb->dev.name);
		goto err_pool;
	}
	igb_wr32(bar0, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP | IGB_TCTL_CT(15) |
		 IGB_TCTL_COLD(63));
	return 0;

err_pool:
	nm_page_pool_destroy(t->pool);
err_ring:
	nm_host_mem_put(t->ring_mem);
err_bufs:
	free(t->bufs);
	pthread_mutex_destroy(&t->lock);
	return ret;
}

void igb_tx_fini(struct nm_igb *igb)
{
	struct igb_txq *t = &igb->txq;

	igb_wr32(igb->bar0, IGB_TXDCTL(0), 0);
	for (uint32_t i = 0; i < t->size; i++)
		if (t->bufs[i])
			nm_page_pool_put_netmem(t->pool, t->bufs[i], true);
	nm_page_pool_destroy(t->pool);
	nm_host_mem_put(t->ring_mem);
	free(t->bufs);
	pthread_mutex_destroy(&t->lock);
}

unsigned int nm_igb_tx_burst(struct nm_igb *igb, const void *const *frames,
			     const uint16_t *lens, unsigned int n)
{
	struct igb_txq *t = &igb->txq;
	uint32_t mask;
	unsigned int sent = 0;

	pthread_mutex_lock(&t->lock);
	mask = t->size - 1;
	/* Give back the buffers of what the device has sent. */
	while (t->clean != t->tail &&
	       (__atomic_load_n(&t->ring[t->clean].wb.status, __ATOMIC_ACQUIRE) & IGB_TXD_STAT_DD)) {
		nm_page_pool_put_netmem(t->pool, t->bufs[t->clean], true);
		t->bufs[t->clean] = 0;
		t->clean = (t->clean + 1) & mask;
	}
	for (; sent < n && ((t->tail + 1) & mask) != t->clean; sent++) {
		union igb_adv_tx_desc *d = &t->ring[t->tail];
		nm_netmem_ref buf;

		if (!lens[sent] || lens[sent] > IGB_HOST_BUF_SIZE)
			break;
		buf = nm_page_pool_alloc_netmem(t->pool);
		if (!buf)
			break;
		memcpy(nm_netmem_address(buf), frames[sent], lens[sent]);
		d->read.buffer_addr = nm_netmem_dma_addr(buf);
		d->read.cmd_type_len = lens[sent] | IGB_TXD_DTYP_DATA | IGB_TXD_CMD_DEXT |
				       IGB_TXD_CMD_EOP | IGB_TXD_CMD_IFCS | IGB_TXD_CMD_RS;
		d->read.olinfo_status = (uint32_t)lens[sent] << IGB_TXD_PAYLEN_SHIFT;
		t->bufs[t->tail] = buf;
		t->tail = (t->tail + 1) & mask;
	}
	if (sent)
		igb_wr32(igb->bar0, IGB_TDT(0), t->tail);
	pthread_mutex_unlock(&t->lock);
	return sent;
}
