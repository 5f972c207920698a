/* SPDX-License-Identifier: MIT */
/*
 * Flow steering through RSS (82576 datasheet 7.1.2.8). The device hashes
 * the 5-tuple of TCP and UDP frames (Toeplitz, with the 40-byte key in
 * RSSRK) and sends the frame to the queue in entry (hash & 127) of the
 * redirection table (RETA). We program the key, so we compute the same hash
 * and point exactly the entry of a chosen flow at the chosen queue; every
 * other entry stays on queue 0. Frames the device does not hash (not TCP or
 * UDP over IP) go to queue 0 too.
 *
 * Why RSS: QEMU's igb model (hw/net/igb_core.c) implements RSS and VMDq
 * pools but none of the 82576's exact-match filters (2-tuple, SYN, flex;
 * ETQF only tags packets), so the redirection table is the one mechanism
 * that places a chosen TCP/UDP flow on a chosen queue on both the model
 * and real hardware. The catch: another flow whose hash shares the same
 * 7 low bits lands on the same queue (see docs/igb.md).
 *
 * Each steered flow is recorded, and an entry's reference count is the
 * number of records through it: an unsteer gives back exactly what its
 * steer took (one for a flow never steered gives back nothing), so the
 * table comes back whole however many connections come and go.
 *
 * UDP has no SYN to steer on, and the device no filter on a destination
 * port: a UDP listener's port rule points every entry that carries no
 * steered flow (entry 0 excepted) at its queue, so its datagrams land
 * there from the first, whatever their source. So does other hashed
 * traffic without a steered flow (another port's datagrams, TCP
 * handshakes); unhashed frames (ARP, ICMP, ND) stay on queue 0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "igb_internal.h"

/* The well-known Microsoft RSS key, as most drivers use. */
static const uint8_t rss_key[IGB_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

void nm_igb_rss_key(uint8_t key[IGB_RSS_KEY_LEN])
{
	memcpy(key, rss_key, IGB_RSS_KEY_LEN);
}

static uint32_t toeplitz(const uint8_t *in, size_t len)
{
	uint32_t hash = 0;
	uint32_t v = (uint32_t)rss_key[0] << 24 | (uint32_t)rss_key[1] << 16 |
		     (uint32_t)rss_key[2] << 8 | rss_key[3];

	for (size_t i = 0; i < len; i++) {
		for (int b = 7; b >= 0; b--) {
			if (in[i] & (1u << b))
				hash ^= v;
			v = v << 1 | ((rss_key[i + 4] >> b) & 1u);
		}
	}
	return hash;
}

uint32_t nm_igb_rss_hash(const struct nm_flow *f)
{
	size_t alen = f->ipver == 4 ? 4 : 16;
	uint8_t in[36];

	/* Source address, destination address, source port, destination port. */
	memcpy(in, f->src_ip, alen);
	memcpy(in + alen, f->dst_ip, alen);
	in[2 * alen] = (uint8_t)(f->src_port >> 8);
	in[2 * alen + 1] = (uint8_t)f->src_port;
	in[2 * alen + 2] = (uint8_t)(f->dst_port >> 8);
	in[2 * alen + 3] = (uint8_t)f->dst_port;
	return toeplitz(in, 2 * alen + 4);
}

static void write_reta(struct nm_igb *igb, uint32_t reg)
{
	const uint8_t *e = &igb->reta[4 * reg];

	igb_wr32(igb->bar0, IGB_RETA(reg), (uint32_t)e[0] | (uint32_t)e[1] << 8 |
		 (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24);
}

void igb_rss_init(struct nm_igb *igb)
{
	volatile uint8_t *bar0 = igb->bar0;

	for (uint32_t i = 0; i < IGB_RSS_KEY_LEN / 4; i++)
		igb_wr32(bar0, IGB_RSSRK(i), (uint32_t)rss_key[4 * i] |
			 (uint32_t)rss_key[4 * i + 1] << 8 | (uint32_t)rss_key[4 * i + 2] << 16 |
			 (uint32_t)rss_key[4 * i + 3] << 24);
	memset(igb->reta, 0, sizeof(igb->reta));
	memset(igb->reta_dflt, 0, sizeof(igb->reta_dflt));
	memset(igb->reta_refs, 0, sizeof(igb->reta_refs));
	igb->num_flows = 0;
	igb->num_port_rules = 0;
	for (uint32_t i = 0; i < IGB_RETA_SIZE / 4; i++)
		write_reta(igb, i);
	/* The hash goes into the descriptor instead of the packet checksum;
	 * the IP and TCP/UDP verdicts stay in the status and error bits
	 * (7.1.11.2), which is what rx-csum queues report. */
	igb_wr32(bar0, IGB_RXCSUM, IGB_RXCSUM_PCSD | IGB_RXCSUM_IPOFL | IGB_RXCSUM_TUOFL);
	/* TCP and UDP over IPv4 and IPv6 only: anything else is not hashed
	 * and stays on queue 0. Bit 18 is TCP/IPv6 with extension headers,
	 * which QEMU's model uses for all TCP/IPv6; bit 21 is plain TCP/IPv6
	 * on the real device. */
	igb_wr32(bar0, IGB_MRQC, IGB_MRQC_ENABLE_RSS | IGB_MRQC_RSS_TCPIPV4 |
		 IGB_MRQC_RSS_TCPIPV6 | (1u << 21) | IGB_MRQC_RSS_UDPIPV4 |
		 IGB_MRQC_RSS_UDPIPV6);
}

void igb_rss_fini(struct nm_igb *igb)
{
	free(igb->flows);
	igb->flows = NULL;
	igb->num_flows = igb->cap_flows = 0;
}

/* Where entry @slot points while no flow is steered through it. */
static uint8_t unowned_queue(const struct nm_igb *igb, uint32_t slot)
{
	if (slot && igb->num_port_rules)
		return (uint8_t)igb->port_rules[0].queue;
	return igb->reta_dflt[slot];
}

/* Point every entry without a steered flow where it belongs now. */
static void write_unowned(struct nm_igb *igb)
{
	for (uint32_t i = 0; i < IGB_RETA_SIZE; i++)
		if (!igb->reta_refs[i])
			igb->reta[i] = unowned_queue(igb, i);
	for (uint32_t i = 0; i < IGB_RETA_SIZE / 4; i++)
		write_reta(igb, i);
}

static bool flow_is(const struct igb_flow_rec *r, uint32_t hash, const struct nm_flow *f)
{
	size_t alen = f->ipver == 4 ? 4 : 16;

	return r->hash == hash && r->ipver == f->ipver && r->l4proto == f->l4proto &&
	       r->src_port == f->src_port && r->dst_port == f->dst_port &&
	       !memcmp(r->src_ip, f->src_ip, alen) && !memcmp(r->dst_ip, f->dst_ip, alen);
}

static struct igb_flow_rec *flow_find(struct nm_igb *igb, uint32_t hash,
				      const struct nm_flow *f)
{
	for (uint32_t i = 0; i < igb->num_flows; i++)
		if (flow_is(&igb->flows[i], hash, f))
			return &igb->flows[i];
	return NULL;
}

static int flow_add(struct nm_igb *igb, uint32_t hash, const struct nm_flow *f)
{
	struct igb_flow_rec *r = flow_find(igb, hash, f);

	if (r) {
		r->count++;
		return 0;
	}
	if (igb->num_flows == igb->cap_flows) {
		uint32_t cap = igb->cap_flows ? 2 * igb->cap_flows : 64;
		struct igb_flow_rec *n = realloc(igb->flows, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		igb->flows = n;
		igb->cap_flows = cap;
	}
	r = &igb->flows[igb->num_flows++];
	memset(r, 0, sizeof(*r));
	r->hash = hash;
	r->count = 1;
	r->ipver = f->ipver;
	r->l4proto = f->l4proto;
	r->src_port = f->src_port;
	r->dst_port = f->dst_port;
	memcpy(r->src_ip, f->src_ip, f->ipver == 4 ? 4 : 16);
	memcpy(r->dst_ip, f->dst_ip, f->ipver == 4 ? 4 : 16);
	return 0;
}

int nm_igb_steer(struct nm_igb *igb, const struct nm_flow *f, uint32_t queue,
		 struct nm_err *err)
{
	uint32_t hash, slot;
	int ret = 0;

	if (queue >= igb->dev.num_rx_queues)
		return nm_err_set(err, -EINVAL, "queue %u out of range: %s has %u RX queues",
				  queue, igb->dev.name, igb->dev.num_rx_queues);
	if ((f->ipver != 4 && f->ipver != 6) || (f->l4proto != 6 && f->l4proto != 17))
		return nm_err_set(err, -EINVAL,
				  "only TCP and UDP over IPv4/IPv6 can be steered (RSS hashes those)");
	hash = nm_igb_rss_hash(f);
	slot = hash & (IGB_RETA_SIZE - 1);
	pthread_mutex_lock(&igb->rss_lock);
	if (slot == 0 && queue != 0) {
		ret = nm_err_set(err, -EEXIST,
				 "flow to port %u hashes (0x%08x) to redirection entry 0, which stays "
				 "on queue 0 for unhashed traffic; choose another port",
				 f->dst_port, hash);
	} else if (igb->reta_refs[slot] && igb->reta[slot] != queue) {
		ret = nm_err_set(err, -EEXIST,
				 "flow to port %u shares redirection entry %u (hash 0x%08x) with a flow "
				 "already steered to queue %u; choose another port",
				 f->dst_port, slot, hash, igb->reta[slot]);
	} else if (igb->reta_refs[slot] == UINT16_MAX) {
		ret = nm_err_set(err, -ENOSPC, "redirection entry %u already carries %u flows",
				 slot, UINT16_MAX);
	} else if (flow_add(igb, hash, f)) {
		ret = nm_err_set(err, -ENOMEM, "out of memory for the steered flows");
	} else {
		igb->reta[slot] = (uint8_t)queue;
		igb->reta_refs[slot]++;
		write_reta(igb, slot / 4);
	}
	pthread_mutex_unlock(&igb->rss_lock);
	return ret;
}

void nm_igb_unsteer(struct nm_igb *igb, const struct nm_flow *f)
{
	uint32_t hash = nm_igb_rss_hash(f), slot = hash & (IGB_RETA_SIZE - 1);
	struct igb_flow_rec *r;

	pthread_mutex_lock(&igb->rss_lock);
	r = flow_find(igb, hash, f);
	if (r) {
		if (!--r->count)
			*r = igb->flows[--igb->num_flows];
		/* The last flow through an entry gives it back. */
		if (!--igb->reta_refs[slot]) {
			igb->reta[slot] = unowned_queue(igb, slot);
			write_reta(igb, slot / 4);
		}
	}
	pthread_mutex_unlock(&igb->rss_lock);
}

int nm_igb_steer_port(struct nm_igb *igb, uint8_t ipver, uint8_t l4proto, uint16_t port,
		      uint32_t queue, struct nm_err *err)
{
	int ret = 0;

	if (l4proto != 17)
		return nm_err_set(err, -EOPNOTSUPP, "the 82576 matches no destination port: TCP "
				  "is steered per connection once its SYN is seen, UDP by port");
	if (ipver != 4 && ipver != 6)
		return nm_err_set(err, -EINVAL, "IP version %u", ipver);
	if (queue >= igb->dev.num_rx_queues)
		return nm_err_set(err, -EINVAL, "queue %u out of range: %s has %u RX queues",
				  queue, igb->dev.name, igb->dev.num_rx_queues);
	pthread_mutex_lock(&igb->rss_lock);
	if (igb->num_port_rules && igb->port_rules[0].queue != queue)
		ret = nm_err_set(err, -EEXIST, "UDP port %u already takes the unsteered "
				 "redirection entries to queue %u: without a port filter one "
				 "queue per device receives UDP by port", igb->port_rules[0].port,
				 igb->port_rules[0].queue);
	else if (igb->num_port_rules == IGB_PORT_RULES)
		ret = nm_err_set(err, -ENOSPC, "%u UDP port rules already", IGB_PORT_RULES);
	if (!ret) {
		igb->port_rules[igb->num_port_rules++] = (struct igb_port_rule){
			ipver, port, queue };
		if (igb->num_port_rules == 1)
			write_unowned(igb);
	}
	pthread_mutex_unlock(&igb->rss_lock);
	return ret;
}

void nm_igb_unsteer_port(struct nm_igb *igb, uint8_t ipver, uint8_t l4proto, uint16_t port)
{
	pthread_mutex_lock(&igb->rss_lock);
	for (uint32_t i = 0; l4proto == 17 && i < igb->num_port_rules; i++) {
		if (igb->port_rules[i].ipver != ipver || igb->port_rules[i].port != port)
			continue;
		igb->port_rules[i] = igb->port_rules[--igb->num_port_rules];
		if (!igb->num_port_rules)
			write_unowned(igb);
		break;
	}
	pthread_mutex_unlock(&igb->rss_lock);
}

void nm_igb_reta_get(struct nm_igb *igb, uint8_t reta[IGB_RETA_SIZE],
		     uint16_t refs[IGB_RETA_SIZE])
{
	pthread_mutex_lock(&igb->rss_lock);
	if (reta)
		memcpy(reta, igb->reta, IGB_RETA_SIZE);
	if (refs)
		memcpy(refs, igb->reta_refs, sizeof(igb->reta_refs));
	pthread_mutex_unlock(&igb->rss_lock);
}

int nm_igb_set_reta(struct nm_igb *igb, const uint8_t reta[IGB_RETA_SIZE],
		    struct nm_err *err)
{
	int ret = 0;

	for (uint32_t i = 0; i < IGB_RETA_SIZE; i++)
		if (reta[i] >= igb->dev.num_rx_queues)
			return nm_err_set(err, -EINVAL, "redirection entry %u -> queue %u: %s has "
					  "%u RX queues", i, reta[i], igb->dev.name,
					  igb->dev.num_rx_queues);
	pthread_mutex_lock(&igb->rss_lock);
	for (uint32_t i = 0; i < IGB_RETA_SIZE && !ret; i++)
		if (igb->reta_refs[i])
			ret = nm_err_set(err, -EBUSY, "redirection entry %u carries %u steered "
					 "flow(s): unsteer them first", i, igb->reta_refs[i]);
	if (!ret && igb->num_port_rules)
		ret = nm_err_set(err, -EBUSY, "UDP port %u takes the redirection table to queue "
				 "%u: remove its listener first", igb->port_rules[0].port,
				 igb->port_rules[0].queue);
	if (!ret) {
		memcpy(igb->reta_dflt, reta, IGB_RETA_SIZE);
		write_unowned(igb);
	}
	pthread_mutex_unlock(&igb->rss_lock);
	return ret;
}
