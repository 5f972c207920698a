/* SPDX-License-Identifier: MIT */
/*
 * RX queues (setup with or without buffer split, start, stop) and the
 * datapath of net_netmem_igb, on netmem's igb driver.
 *
 * Buffer split is the 82576's header split (SRRCTL DESCTYPE 010b): the
 * device writes a TCP/UDP frame's headers, up to the end of the L4 header,
 * into the header buffer (segment 0, from rx_seg[0].mp) and the rest into
 * the packet buffer (segment 1, from rx_seg[1].mp). It has no split at a
 * fixed offset: a length-based rx_seg[0].length sets the header buffer's
 * size (the most it takes), and the split still falls where the headers
 * end. Frames it does not split (not IP, or headers larger than the header
 * buffer) arrive whole in one segment-1 mbuf.
 */
#include <errno.h>
#include <string.h>

#include <ethdev_driver.h>
#include <rte_malloc.h>

#include <netmem/binding.h>
#include <netmem/dpdk_mempool.h>

#include "pmd_internal.h"

#define HDR_MAX 960u   /* SRRCTL.BSIZEHEADER: 4 bits of 64 bytes */

/* What proto_hdr split the device does: after the TCP or UDP header. */
static const uint32_t split_ptypes[] = {
	RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4_EXT_UNKNOWN | RTE_PTYPE_L4_TCP,
	RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4_EXT_UNKNOWN | RTE_PTYPE_L4_UDP,
	RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6_EXT_UNKNOWN | RTE_PTYPE_L4_TCP,
	RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6_EXT_UNKNOWN | RTE_PTYPE_L4_UDP,
	RTE_PTYPE_UNKNOWN,
};

const uint32_t *pmd_split_ptypes(PMD_PTYPES_ARGS)
{
	(void)dev;
	PMD_PTYPES_RETURN(split_ptypes);
}

static bool split_ptype_ok(uint32_t p)
{
	for (const uint32_t *s = split_ptypes; *s; s++)
		if (*s == p)
			return true;
	return false;
}

static uint32_t mbuf_room(struct rte_mempool *mp)
{
	uint32_t room = rte_pktmbuf_data_room_size(mp);

	return room > RTE_PKTMBUF_HEADROOM ? room - RTE_PKTMBUF_HEADROOM : 0;
}

static void rxq_drop_setup(struct pmd_rxq *q)
{
	/* Page pools still running on them keep the providers alive. */
	pmd_mbuf_mp_put(q->hdr_prov);
	pmd_mbuf_mp_put(q->pay_prov);
	q->hdr_prov = q->pay_prov = NULL;
	q->configured = false;
}

/*
 * Move the device's queue onto @n's pools now, through netmem's common
 * check-first path, and leave it paused: it runs once the queue starts
 * (the port's start, or rte_eth_dev_rx_queue_start). A payload pool that
 * is a dmabuf pool ("dmabuf" ops) needs what netmem's dmabuf provider
 * needs (header split, unreadable): without buffer split the check refuses
 * the setup before any driver callback, and the queue keeps its memory.
 */
static int rxq_apply(struct pmd_adapter *ad, const struct pmd_rxq *n, struct nm_err *err)
{
	struct nm_igb_rxq_layout l = { .split = n->split, .hdr_size = n->hdr_size };
	struct nm_mp_params pay = pmd_mbuf_mp_params(n->pay_prov);
	int ret;

	if (n->split)
		l.hdr_mp = pmd_mbuf_mp_params(n->hdr_prov);
	/* Lock-free: the ethdev adapter calls us holding the driver's lock. */
	if (nm_dpdk_pool_is_dmabuf(n->pay_mp))
		pay.extra_caps = nm_mp_dmabuf_ops.required_caps;
	ret = nm_igb_rxq_setup(ad->igb, n->idx, &l, &pay, err);
	if (!ret)
		ret = nm_igb_rxq_pause(ad->igb, n->idx, true, err);
	return ret;
}

int pmd_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
		       unsigned int socket, const struct rte_eth_rxconf *conf,
		       struct rte_mempool *mp)
{
	struct pmd_adapter *ad = dev->data->dev_private;
	struct pmd_rxq *q = &ad->rxq[qid];
	uint64_t offloads = conf->offloads | dev->data->dev_conf.rxmode.offloads;
	struct pmd_rxq n = { .ad = ad, .idx = qid, .port_id = dev->data->port_id };
	uint32_t pay_room, num = 2 * ad->ring_size + 2 * 64;
	struct nm_err err = { 0 };
	int ret = -EINVAL;

	(void)socket;
	if (offloads & RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT) {
		const struct rte_eth_rxseg_split *seg = &conf->rx_seg[0].split;

		if (conf->rx_nseg != 2 || !conf->rx_seg) {
			PMD_LOG(ERR, "queue %u: buffer split takes 2 segments (headers, payload), "
				"not %u", qid, conf->rx_nseg);
			goto keep;
		}
		if (seg[0].proto_hdr && !split_ptype_ok(seg[0].proto_hdr)) {
			PMD_LOG(ERR, "queue %u: the 82576 splits only after a TCP or UDP header over "
				"IPv4/IPv6 (ptype %#x asked)", qid, seg[0].proto_hdr);
			goto keep;
		}
		if (seg[1].proto_hdr || seg[0].offset || seg[1].offset) {
			PMD_LOG(ERR, "queue %u: segment 1 takes the rest of the frame: no protocol "
				"or offset there", qid);
			goto keep;
		}
		n.split = true;
		n.proto_hdr = seg[0].proto_hdr;
		n.hdr_len = seg[0].proto_hdr ? 0 : seg[0].length;
		n.hdr_mp = seg[0].mp;
		n.pay_mp = seg[1].mp;
		n.hdr_size = RTE_MIN(n.hdr_len ? n.hdr_len : HDR_MAX, mbuf_room(n.hdr_mp));
		n.hdr_size = RTE_MIN(n.hdr_size, HDR_MAX) & ~63u;
		if (n.hdr_size < 64) {
			PMD_LOG(ERR, "queue %u: a header segment of %u bytes: the 82576's header "
				"buffer is 64 to 960 bytes in 64-byte steps", qid,
				n.hdr_len ? n.hdr_len : mbuf_room(n.hdr_mp));
			goto keep;
		}
	} else {
		if (!mp) {
			PMD_LOG(ERR, "queue %u: no mempool", qid);
			goto keep;
		}
		n.pay_mp = mp;
	}
	pay_room = mbuf_room(n.pay_mp) & ~1023u;
	if (pay_room < 2048) {
		PMD_LOG(ERR, "queue %u: payload mbufs of %u bytes (less headroom): the 82576 "
			"fills whole frames into buffers of 2 KiB or more (SRRCTL.BSIZEPACKET)", qid,
			mbuf_room(n.pay_mp));
		goto keep;
	}
	pay_room = RTE_MIN(pay_room, 127u * 1024);
	ret = pmd_mbuf_mp_create(n.pay_mp, pay_room, num, &n.pay_prov, &err);
	if (!ret && n.split)
		ret = pmd_mbuf_mp_create(n.hdr_mp, mbuf_room(n.hdr_mp), num, &n.hdr_prov, &err);
	if (ret) {
		pmd_mbuf_mp_put(n.pay_prov);
		PMD_LOG(ERR, "queue %u: %s", qid, err.msg);
		goto keep;
	}
	n.conf = *conf;
	n.conf.rx_seg = NULL;
	n.conf.rx_nseg = 0;
	n.nb_desc = nb_desc;
	n.configured = true;
	ret = rxq_apply(ad, &n, &err);
	if (ret) {
		/* Refused or failed: the queue keeps its old setup and memory,
		 * and ethdev (which released it before asking) gets it back. */
		pmd_mbuf_mp_put(n.hdr_prov);
		pmd_mbuf_mp_put(n.pay_prov);
		PMD_LOG(ERR, "queue %u: %s", qid, err.msg);
		goto keep;
	}
	rxq_drop_setup(q);
	*q = n;
	dev->data->rx_queues[qid] = q;
	PMD_LOG(INFO, "queue %u: %s%s, payload from %s%s%s", qid,
		n.split ? "buffer split " : "one buffer",
		n.split ? (n.proto_hdr ? "after the L4 header" : "by header length") : "",
		n.pay_mp->name, n.split ? ", headers from " : "", n.split ? n.hdr_mp->name : "");
	return 0;

keep:
	/* Refused or failed: the queue keeps its old setup and memory, and
	 * ethdev (which released it before asking) gets it back. */
	if (q->configured)
		dev->data->rx_queues[qid] = q;
	return ret;
}

/*
 * ethdev releases a queue before every setup of it: the device keeps
 * running it, and its setup is kept until a new one replaces it (or the
 * port closes), so a refused setup changes nothing.
 */
void pmd_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	(void)dev;
	(void)qid;
}

int pmd_rx_queue_start(struct rte_eth_dev *dev, uint16_t qid)
{
	struct pmd_adapter *ad = dev->data->dev_private;
	struct nm_err err = { 0 };
	int ret;

	if (!ad->rxq[qid].configured)
		return -EINVAL;
	ret = nm_igb_rxq_pause(ad->igb, qid, false, &err);
	if (ret) {
		PMD_LOG(ERR, "queue %u start: %s", qid, err.msg);
		return ret;
	}
	dev->data->rx_queue_state[qid] = RTE_ETH_QUEUE_STATE_STARTED;
	return 0;
}

int pmd_rx_queue_stop(struct rte_eth_dev *dev, uint16_t qid)
{
	struct pmd_adapter *ad = dev->data->dev_private;
	struct nm_err err = { 0 };
	int ret = nm_igb_rxq_pause(ad->igb, qid, true, &err);

	if (ret) {
		PMD_LOG(ERR, "queue %u stop: %s", qid, err.msg);
		return ret;
	}
	dev->data->rx_queue_state[qid] = RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

static uint64_t csum_flags(uint32_t f)
{
	uint64_t ol = 0;

	if (f & NM_RX_PKT_L4_CSUM_GOOD)
		ol |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	if (f & NM_RX_PKT_L4_CSUM_BAD)
		ol |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
	if (f & NM_RX_PKT_IP_CSUM_BAD)
		ol |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	return ol;
}

/* What the NIC parsed as a DPDK packet type (what pmd_ptypes() lists). */
static uint32_t pmd_ptype(uint32_t t)
{
	uint32_t p = RTE_PTYPE_L2_ETHER;

	if (t & NM_RX_PTYPE_IPV4)
		p |= (t & NM_RX_PTYPE_IP_EXT) ? RTE_PTYPE_L3_IPV4_EXT : RTE_PTYPE_L3_IPV4;
	else if (t & NM_RX_PTYPE_IPV6)
		p |= (t & NM_RX_PTYPE_IP_EXT) ? RTE_PTYPE_L3_IPV6_EXT : RTE_PTYPE_L3_IPV6;
	if (t & NM_RX_PTYPE_TCP)
		p |= RTE_PTYPE_L4_TCP;
	else if (t & NM_RX_PTYPE_UDP)
		p |= RTE_PTYPE_L4_UDP;
	else if (t & NM_RX_PTYPE_SCTP)
		p |= RTE_PTYPE_L4_SCTP;
	return p;
}

const uint32_t *pmd_ptypes(PMD_PTYPES_ARGS)
{
	static const uint32_t ptypes[] = {
		RTE_PTYPE_L2_ETHER,
		RTE_PTYPE_L3_IPV4, RTE_PTYPE_L3_IPV4_EXT,
		RTE_PTYPE_L3_IPV6, RTE_PTYPE_L3_IPV6_EXT,
		RTE_PTYPE_L4_TCP, RTE_PTYPE_L4_UDP, RTE_PTYPE_L4_SCTP,
		RTE_PTYPE_UNKNOWN,
	};

	(void)dev;
	PMD_PTYPES_RETURN(ptypes);
}

uint16_t pmd_rx_burst(void *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	struct pmd_rxq *q = rxq;
	struct nm_rx_pkt rx[64];
	uint16_t done = 0;

	while (done < n) {
		unsigned int want = RTE_MIN((unsigned int)(n - done), RTE_DIM(rx));
		unsigned int got = nm_igb_rx_burst(q->ad->igb, q->idx, rx, want);

		for (unsigned int i = 0; i < got; i++) {
			struct rte_mbuf *h = rx[i].hdr ? pmd_mbuf_mp_take(rx[i].hdr) : NULL;
			struct rte_mbuf *p = rx[i].payload ? pmd_mbuf_mp_take(rx[i].payload) : NULL;
			struct rte_mbuf *first = h ? h : p;

			if (!first || (rx[i].hdr && !h) || (rx[i].payload && !p)) {
				/* Cannot happen: every buffer posted carries its mbuf. */
				q->no_mbuf++;
				rte_pktmbuf_free(h);
				rte_pktmbuf_free(p);
				continue;
			}
			if (h) {
				h->data_len = (uint16_t)rx[i].hdr_len;
				if (p) {
					p->data_len = (uint16_t)rx[i].payload_len;
					h->next = p;
					h->nb_segs = 2;
				}
			} else {
				p->data_len = (uint16_t)rx[i].payload_len;
				q->unsplit += q->split;
			}
			first->pkt_len = rx[i].hdr_len + rx[i].payload_len;
			first->port = q->port_id;
			first->ol_flags = csum_flags(rx[i].flags);
			if (rx[i].flags & NM_RX_PKT_RSS_HASH) {
				first->hash.rss = rx[i].rss_hash;
				first->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
			}
			first->packet_type = (rx[i].flags & NM_RX_PKT_PTYPE) ?
					     pmd_ptype(rx[i].ptype) : RTE_PTYPE_UNKNOWN;
			pkts[done++] = first;
		}
		if (got < want)
			break;
	}
	return done;
}

#define TX_LINEAR 2048u

uint16_t pmd_tx_burst(void *txq, struct rte_mbuf **pkts, uint16_t n)
{
	struct pmd_txq *t = txq;
	static __thread uint8_t lin[32][TX_LINEAR];
	const void *frames[32];
	uint16_t lens[32], done = 0;

	while (done < n) {
		unsigned int k = RTE_MIN((unsigned int)(n - done), 32u), sent;
		struct rte_mbuf *m = pkts[done];

		if (!m->pkt_len || m->pkt_len > TX_LINEAR) {
			/* Larger than one of netmem's TX buffers: dropped, counted. */
			t->errors++;
			rte_pktmbuf_free(m);
			done++;
			continue;
		}
		for (unsigned int i = 0; i < k; i++) {
			m = pkts[done + i];
			if (!m->pkt_len || m->pkt_len > TX_LINEAR) {
				k = i;
				break;
			}
			/* netmem's igb sends from its own host buffers (it
			 * copies): a chain is flattened first. */
			frames[i] = m->nb_segs == 1 ? rte_pktmbuf_mtod(m, const void *) :
				    rte_pktmbuf_read(m, 0, m->pkt_len, lin[i]);
			lens[i] = (uint16_t)m->pkt_len;
		}
		sent = nm_igb_tx_burst(t->ad->igb, frames, lens, k);
		for (unsigned int i = 0; i < sent; i++) {
			t->bytes += pkts[done + i]->pkt_len;
			rte_pktmbuf_free(pkts[done + i]);
		}
		t->packets += sent;
		done += sent;
		if (sent < k)
			break;
	}
	return done;
}
