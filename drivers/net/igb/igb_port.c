/* SPDX-License-Identifier: MIT */
/*
 * The igb driver as a struct nm_port: the thin forwarders a protocol layer
 * calls. Unsteered traffic (ARP, neighbour discovery, ICMP, SYNs, anything
 * not hashed or hashed to an unowned entry) lands on queue 0, which stays
 * on host memory.
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

static const struct nm_port_ops igb_port_ops = {
	.rx_burst = port_rx_burst,
	.tx_burst = port_tx_burst,
	.steer_flow = port_steer_flow,
	.unsteer_flow = port_unsteer_flow,
};

void igb_port_init(struct nm_igb *igb)
{
	igb->port = (struct nm_port){
		.ops = &igb_port_ops,
		.dev = &igb->dev,
		.mtu = 1500,
		.default_queue = 0,
	};
	memcpy(igb->port.mac, igb->mac, sizeof(igb->mac));
}

struct nm_port *nm_igb_port(struct nm_igb *igb)
{
	return &igb->port;
}
