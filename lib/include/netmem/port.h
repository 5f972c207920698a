/* SPDX-License-Identifier: MIT */
/*
 * A port: what a protocol layer (lib/tcp: ARP, neighbour discovery, ICMP,
 * TCP) needs of a NIC, whichever driver runs it. A driver (software NIC,
 * TAP, igb) fills in the ops and embeds or points to a struct nm_port; the
 * protocol code only ever sees this, so the arrows point one way:
 * protocol -> core <- driver.
 *
 * Threads: rx_burst on one queue from one thread at a time (each queue has
 * one poller); tx_burst from any thread (the driver serialises its TX
 * ring); steer_* from control context.
 */
#ifndef NETMEM_PORT_H
#define NETMEM_PORT_H

#include <stdint.h>

#include <netmem/err.h>
#include <netmem/netdev.h>
#include <netmem/pkt.h>
#include <netmem/rx_pkt.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nm_port;

struct nm_port_ops {
	/* Poll up to @n frames of RX queue @queue; refills its ring. The
	 * caller owns both buffers of every frame (nm_netmem_put()). */
	unsigned int (*rx_burst)(struct nm_port *port, uint32_t queue,
				 struct nm_rx_pkt *pkts, unsigned int n);
	/* Send @n frames; the driver copies them (the caller keeps its
	 * buffers). Returns how many were queued; fewer when the ring is
	 * full. */
	unsigned int (*tx_burst)(struct nm_port *port,
				 const void *const *frames,
				 const uint16_t *lens, unsigned int n);
	/* Optional. Steer every frame to (@ipver, @l4proto, @dst_port) to
	 * @queue: a listener's rule. -EOPNOTSUPP when the device cannot
	 * match on the destination port alone. */
	int (*steer_port)(struct nm_port *port, uint8_t ipver, uint8_t l4proto,
			  uint16_t dst_port, uint32_t queue, struct nm_err *err);
	/* Optional. Undo a steer_port() that succeeded (a listener closes). */
	void (*unsteer_port)(struct nm_port *port, uint8_t ipver, uint8_t l4proto,
			     uint16_t dst_port);
	/* Optional. Steer the frames of one flow (@f's 5-tuple as the device
	 * receives it) to @queue; -EEXIST when another flow owns the hardware
	 * entry it needs (a collision the caller must handle). */
	int (*steer_flow)(struct nm_port *port, const struct nm_flow *f,
			  uint32_t queue, struct nm_err *err);
	/* Optional. Undo steer_flow() for @f. */
	void (*unsteer_flow)(struct nm_port *port, const struct nm_flow *f);
	/* Optional. Also receive frames sent to multicast MAC @mac (IPv6
	 * neighbour solicitations go to a solicited-node group). A port
	 * without it receives every multicast frame, or none. */
	int (*join_mcast)(struct nm_port *port, const uint8_t mac[6]);
};

struct nm_port {
	const struct nm_port_ops *ops;
	struct nm_netdev *dev;   /* its queues, flags and restart path */
	uint8_t mac[6];
	uint16_t mtu;            /* IP MTU (1500 unless the driver says) */
	/* The queue unsteered traffic lands on; it stays on host memory. */
	uint32_t default_queue;
};

static inline unsigned int nm_port_rx_burst(struct nm_port *port,
					    uint32_t queue,
					    struct nm_rx_pkt *pkts,
					    unsigned int n)
{
	return port->ops->rx_burst(port, queue, pkts, n);
}

static inline unsigned int nm_port_tx_burst(struct nm_port *port,
					    const void *const *frames,
					    const uint16_t *lens,
					    unsigned int n)
{
	return port->ops->tx_burst(port, frames, lens, n);
}

#ifdef __cplusplus
}
#endif
#endif
