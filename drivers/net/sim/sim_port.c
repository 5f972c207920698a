/* SPDX-License-Identifier: MIT */
/* The software NIC behind struct nm_port (see sim_port.h). */
#include <errno.h>
#include <string.h>

#include <netmem/sim_port.h>

static struct nm_sim_port *to_sp(struct nm_port *port)
{
	return (struct nm_sim_port *)port;
}

static unsigned int sp_rx_burst(struct nm_port *port, uint32_t queue,
				struct nm_rx_pkt *pkts, unsigned int n)
{
	return nm_sim_rx_burst(to_sp(port)->sim, queue, pkts, n);
}

static unsigned int sp_tx_burst(struct nm_port *port, const void *const *frames,
				const uint16_t *lens, unsigned int n)
{
	struct nm_sim_port *sp = to_sp(port);
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!sp->tx || !sp->tx(sp->tx_arg, frames[i], lens[i]))
			break;
	return i;
}

static int sp_steer_port(struct nm_port *port, uint8_t ipver, uint8_t l4proto,
			 uint16_t dst_port, uint32_t queue, struct nm_err *err)
{
	struct nm_flow f = { .ipver = ipver, .l4proto = l4proto, .dst_port = dst_port };
	int ret = nm_sim_steer(to_sp(port)->sim, &f, queue);

	return ret ? nm_err_set(err, ret, "software NIC: no room for a port rule") : 0;
}

static void sp_unsteer_port(struct nm_port *port, uint8_t ipver, uint8_t l4proto,
			    uint16_t dst_port)
{
	struct nm_flow f = { .ipver = ipver, .l4proto = l4proto, .dst_port = dst_port };

	nm_sim_unsteer(to_sp(port)->sim, &f);
}

static int sp_steer_flow(struct nm_port *port, const struct nm_flow *f,
			 uint32_t queue, struct nm_err *err)
{
	int ret = nm_sim_steer_flow(to_sp(port)->sim, f, queue);

	if (ret == -EEXIST)
		return nm_err_set(err, ret, "software NIC: flow slot taken by another flow");
	return ret ? nm_err_set(err, ret, "software NIC: cannot steer that flow") : 0;
}

static void sp_unsteer_flow(struct nm_port *port, const struct nm_flow *f)
{
	nm_sim_unsteer_flow(to_sp(port)->sim, f);
}

static const struct nm_port_ops sim_port_ops = {
	.rx_burst = sp_rx_burst,
	.tx_burst = sp_tx_burst,
	.steer_port = sp_steer_port,
	.unsteer_port = sp_unsteer_port,
	.steer_flow = sp_steer_flow,
	.unsteer_flow = sp_unsteer_flow,
};

void nm_sim_port_init(struct nm_sim_port *p, struct nm_sim *sim,
		      const uint8_t mac[6], nm_sim_port_tx_fn tx, void *tx_arg)
{
	memset(p, 0, sizeof(*p));
	p->port.ops = &sim_port_ops;
	p->port.dev = nm_sim_netdev(sim);
	memcpy(p->port.mac, mac, 6);
	p->port.mtu = 1500;
	p->port.default_queue = 0;
	p->sim = sim;
	p->tx = tx;
	p->tx_arg = tx_arg;
}
