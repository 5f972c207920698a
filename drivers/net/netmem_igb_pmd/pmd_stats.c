/* SPDX-License-Identifier: MIT */
/*
 * net_netmem_igb's statistics: netmem's igb driver counts per RX queue and
 * folds the device's clear-on-read registers into totals; ethdev's stats
 * are those since open less what a reset saw, and the xstats are the
 * driver's own per-queue counters (no extra work on the datapath).
 */
#include <stdio.h>
#include <string.h>

#include <ethdev_driver.h>

#include "pmd_internal.h"

/* Totals in @s, per-queue counters in @q, since open. */
static void raw_stats(struct pmd_adapter *ad, uint16_t nq, struct rte_eth_stats *s,
		      struct pmd_qstats *q)
{
	struct nm_igb_hw_stats hw;

	memset(s, 0, sizeof(*s));
	memset(q, 0, sizeof(*q));
	for (uint16_t i = 0; i < nq && i < ad->num_queues; i++) {
		struct nm_igb_rxq_stats st;

		nm_igb_rxq_stats(ad->igb, i, &st);
		s->ipackets += st.packets;
		s->ibytes += st.bytes;
		s->ierrors += st.drop_error + st.drop_unsplit;
		s->rx_nombuf += st.refill_empty;
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			q->q_ipackets[i] = st.packets;
			q->q_ibytes[i] = st.bytes;
			q->q_errors[i] = st.drop_error + st.drop_unsplit;
		}
	}
	nm_igb_hw_stats(ad->igb, &hw);
	s->imissed = hw.rx_missed;
	s->opackets = ad->txq.packets;
	s->obytes = ad->txq.bytes;
	s->oerrors = ad->txq.errors;
	q->q_opackets[0] = ad->txq.packets;
	q->q_obytes[0] = ad->txq.bytes;
}

/* @v -= @b, both @n bytes of uint64_t counters. */
static void sub_counters(void *v, const void *b, size_t n)
{
	uint64_t *x = v;
	const uint64_t *y = b;

	for (size_t i = 0; i < n / sizeof(uint64_t); i++)
		x[i] -= y[i];
}

int pmd_stats_get(PMD_STATS_ARGS)
{
	struct pmd_adapter *ad = dev->data->dev_private;
	struct pmd_qstats q;

	raw_stats(ad, dev->data->nb_rx_queues, s, &q);
	/* rte_eth_stats and the queue counters are all uint64_t. */
	sub_counters(s, &ad->base, sizeof(*s));
	sub_counters(&q, &ad->qbase, sizeof(q));
#if PMD_QSTATS_IN_ETH_STATS
	memcpy(s->q_ipackets, q.q_ipackets, sizeof(q.q_ipackets));
	memcpy(s->q_opackets, q.q_opackets, sizeof(q.q_opackets));
	memcpy(s->q_ibytes, q.q_ibytes, sizeof(q.q_ibytes));
	memcpy(s->q_obytes, q.q_obytes, sizeof(q.q_obytes));
	memcpy(s->q_errors, q.q_errors, sizeof(q.q_errors));
#else
	if (qs) {
		memcpy(qs->q_ipackets, q.q_ipackets, sizeof(q.q_ipackets));
		memcpy(qs->q_opackets, q.q_opackets, sizeof(q.q_opackets));
		memcpy(qs->q_ibytes, q.q_ibytes, sizeof(q.q_ibytes));
		memcpy(qs->q_obytes, q.q_obytes, sizeof(q.q_obytes));
		memcpy(qs->q_errors, q.q_errors, sizeof(q.q_errors));
	}
#endif
	return 0;
}

int pmd_stats_reset(struct rte_eth_dev *dev)
{
	struct pmd_adapter *ad = dev->data->dev_private;

	raw_stats(ad, dev->data->nb_rx_queues, &ad->base, &ad->qbase);
	return 0;
}

/* Per RX queue, what netmem's igb driver counts (cheap: its own counters). */
static const char *const xq_names[] = {
	"split_packets", "header_bytes", "payload_bytes", "unsplit_packets",
	"drop_unsplit", "drop_error", "csum_bad", "refill_empty",
};
#define XQ_N RTE_DIM(xq_names)

int pmd_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xs, unsigned int n)
{
	struct pmd_adapter *ad = dev->data->dev_private;
	unsigned int total = dev->data->nb_rx_queues * XQ_N, k = 0;

	if (!xs || n < total)
		return (int)total;
	for (uint16_t q = 0; q < dev->data->nb_rx_queues; q++) {
		struct nm_igb_rxq_stats st;
		uint64_t v[XQ_N];

		nm_igb_rxq_stats(ad->igb, q, &st);
		v[0] = st.split;
		v[1] = st.hdr_bytes;
		v[2] = st.payload_bytes;
		v[3] = ad->rxq[q].unsplit;
		v[4] = st.drop_unsplit;
		v[5] = st.drop_error;
		v[6] = st.csum_bad;
		v[7] = st.refill_empty;
		for (unsigned int i = 0; i < XQ_N; i++, k++) {
			xs[k].id = k;
			xs[k].value = v[i];
		}
	}
	return (int)total;
}

int pmd_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
				unsigned int size)
{
	unsigned int total = dev->data->nb_rx_queues * XQ_N, k = 0;

	if (!names || size < total)
		return (int)total;
	for (uint16_t q = 0; q < dev->data->nb_rx_queues; q++)
		for (unsigned int i = 0; i < XQ_N; i++, k++)
			snprintf(names[k].name, sizeof(names[k].name), "rx_q%u_%s", q, xq_names[i]);
	return (int)total;
}
