/* SPDX-License-Identifier: MIT */
/*
 * The igb driver as a struct nm_port: the thin forwarders a protocol layer
 * calls. Unsteered traffic (ARP, neighbour discovery, ICMP, SYNs, anything
 * not hashed or hashed to an unowned entry) lands on queue 0, which stays
 * on host memory; while a UDP listener's port rule is set, hashed traffic
 * in unowned entries goes to its queue instead (igb_rss.c).
 */
#include <errno.h>
#include <string.h>

#include "igb_internal.h"

static struct nm_igb *port_igb(struct nm_port *port)
{
	return to_igb(port->dev);
}

static unsigned int port_rx_burst(struct nm_port *port, uint32_t queue,
				  struct nm_rx_pkt *pkts, unsigned int n)
{
	return nm_igb_rx_burst(port_igb(port), queue, pkts, n);
}

static unsigned int port_tx_burst(struct nm_port *port, const void *const *frames,
				  const uint16_t *lens, unsigned int n)
{
	return nm_igb_tx_burst(port_igb(port), frames, lens, n);
}

static int port_steer_flow(struct nm_port *port, const struct nm_flow *f,
			   uint32_t queue, struct nm_err *err)
{
	return nm_igb_steer(port_igb(port), f, queue, err);
}

static void port_unsteer_flow(struct nm_port *port, const struct nm_flow *f)
{
	nm_igb_unsteer(port_igb(port), f);
}

static int port_steer_port(struct nm_port *port, uint8_t ipver, uint8_t l4proto,
			   uint16_t dst_port, uint32_t queue, struct nm_err *err)
{
	return nm_igb_steer_port(port_igb(port), ipver, l4proto, dst_port, queue, err);
}

static void port_unsteer_port(struct nm_port *port, uint8_t ipver, uint8_t l4proto,
			      uint16_t dst_port)
{
	nm_igb_unsteer_port(port_igb(port), ipver, l4proto, dst_port);
}

/* The multicast table array (7.1.1.1): with RCTL.MO = 00 the 12-bit hash
 * is bits 47:36 of the address, one bit of 4096. */
static int port_join_mcast(struct nm_port *port, const uint8_t mac[6])
{
	struct nm_igb *igb = port_igb(port);
	uint32_t hash = (uint32_t)(mac[4] >> 4) | (uint32_t)mac[5] << 4;
	uint32_t reg = (hash >> 5) & 127;

	if (!(mac[0] & 1))
		return -EINVAL;
	pthread_mutex_lock(&igb->rss_lock);
	igb_wr32(igb->bar0, IGB_MTA(reg), igb_rd32(igb->bar0, IGB_MTA(reg)) |
		 1u << (hash & 31));
	pthread_mutex_unlock(&igb->rss_lock);
	return 0;
}

static const struct nm_port_ops igb_port_ops = {
	.join_mcast = port_join_mcast,
	.rx_burst = port_rx_burst,
	.tx_burst = port_tx_burst,
	.steer_port = port_steer_port,
	.unsteer_port = port_unsteer_port,
	.steer_flow = port_steer_flow,
	.unsteer_flow = port_unsteer_flow,
};

void igb_port_init(struct nm_igb *igb)
{
	igb->port = (struct nm_port){
		.ops = &igb_port_ops,
		.dev = &igb->dev,
		.mtu = (uint16_t)igb->mtu,
		.default_queue = 0,
	};
	memcpy(igb->port.mac, igb->mac, sizeof(igb->mac));
}

struct nm_port *nm_igb_port(struct nm_igb *igb)
{
	return &igb->port;
}
