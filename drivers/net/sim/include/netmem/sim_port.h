/* SPDX-License-Identifier: MIT */
/*
 * The software NIC as an nm_port, for frame-level tests of the protocol
 * layer: RX is the sim's queues, TX goes to a callback (the test captures
 * what the stack sends), steering maps onto the sim's port and flow rules.
 */
#ifndef NETMEM_SIM_PORT_H
#define NETMEM_SIM_PORT_H

#include <stdint.h>

#include <netmem/port.h>
#include <netmem/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called for every frame the port sends; return false to model a full TX
 * ring (the frame is dropped). */
typedef bool (*nm_sim_port_tx_fn)(void *arg, const void *frame, uint16_t len);

struct nm_sim_port {
	struct nm_port port;     /* first: container_of is a cast */
	struct nm_sim *sim;
	nm_sim_port_tx_fn tx;
	void *tx_arg;
};

/* Make @p the port of @sim with @mac; @tx may be NULL (frames dropped). */
void nm_sim_port_init(struct nm_sim_port *p, struct nm_sim *sim,
		      const uint8_t mac[6], nm_sim_port_tx_fn tx, void *tx_arg);

#ifdef __cplusplus
}
#endif
#endif
