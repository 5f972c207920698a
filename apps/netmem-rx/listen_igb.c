/* SPDX-License-Identifier: MIT */
/*
 * --listen --dev igb:BDF: the Intel 82576 over VFIO as the port of
 * run_listen(). Queue 0 stays on host memory (ARP, neighbour discovery,
 * echo, handshakes); the listener binds the dmabuf to the other queues and
 * steers each connection to one of them after its SYN (the device offers
 * no destination-port filter, see docs/tcp.md).
 */
#include <stdio.h>

#include <netmem/binding.h>
#include <netmem/igb.h>

#include "netmem_rx.h"

/* What a listener on unreadable memory meets on a queue without rx-csum:
 * refused by the restart path before any driver callback, and the queue
 * never stops. Shown once, with the count of callbacks that ran. */
static void show_refused_bind(struct nm_igb *igb, struct nm_dmabuf *buf, uint32_t q)
{
	struct nm_netdev *dev = nm_igb_netdev(igb);
	struct nm_dmabuf_binding *b;
	struct nm_err err = { 0 };
	uint64_t before = 0, after = 0;
	int r;

	if (nm_dmabuf_binding_create(dev->dma, buf, NULL, &b, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		return;
	}
	for (int i = 0; i < NM_IGB_OP_COUNT; i++)
		before += nm_igb_op_count(igb, (enum nm_igb_op)i);
	r = nm_dmabuf_binding_bind_rxq_caps(b, dev, q, NM_RXQ_CAP_RX_CSUM, &err);
	for (int i = 0; i < NM_IGB_OP_COUNT; i++)
		after += nm_igb_op_count(igb, (enum nm_igb_op)i);
	printf("bind to queue %u (no rx-csum) for a listener on unreadable memory: %s\n"
	       "  -> %s (driver callbacks run: %llu)\n", q, r ? "refused" : "accepted?!",
	       r ? err.msg : "-", (unsigned long long)(after - before));
	nm_dmabuf_binding_unbind(b);
}

/* --try-buf-size: the buffer size is a checked capability too. A size the
 * queue does not take (e.g. 8 KiB at MTU 9000) is refused before any
 * driver callback: the queue's restart counter does not move. Tried on
 * queue 0, which stays on host memory and takes ARP and the handshakes
 * right after: they show it never stopped. */
static void show_buf_size_check(struct nm_igb *igb, struct nm_dmabuf *buf, uint32_t q,
				uint32_t size)
{
	struct nm_netdev *dev = nm_igb_netdev(igb);
	struct nm_binding_params bp = { .buf_size = size };
	struct nm_dmabuf_binding *b;
	struct nm_rxq_info before, after;
	struct nm_err err = { 0 };
	uint64_t ops0 = 0, ops1 = 0;
	char takes[64];
	int r;

	if (nm_dmabuf_binding_create(dev->dma, buf, &bp, &b, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		return;
	}
	nm_netdev_rxq_info(dev, q, &before);
	for (int i = 0; i < NM_IGB_OP_COUNT; i++)
		ops0 += nm_igb_op_count(igb, (enum nm_igb_op)i);
	r = nm_dmabuf_binding_bind_rxq_caps(b, dev, q, NM_RXQ_CAP_RX_CSUM, &err);
	for (int i = 0; i < NM_IGB_OP_COUNT; i++)
		ops1 += nm_igb_op_count(igb, (enum nm_igb_op)i);
	nm_netdev_rxq_info(dev, q, &after);
	printf("bind %u-byte buffers to queue %u (takes %s at MTU %u): %s\n"
	       "  -> %s (driver callbacks run: %llu, restarts %llu -> %llu)\n", size, q,
	       nm_rxq_buf_sizes_str(&before.buf_sizes, takes, sizeof(takes)), nm_igb_mtu(igb),
	       r ? "refused" : "accepted", r ? err.msg : "bound, now unbound again",
	       (unsigned long long)(ops1 - ops0), (unsigned long long)before.counters.restarts,
	       (unsigned long long)after.counters.restarts);
	nm_dmabuf_binding_unbind(b);
}

int run_listen_igb(const struct options *o, struct nm_dmabuf *buf)
{
	struct nm_igb_params ip = { .bdf = o->dev + 4, .num_rx_queues = o->queues,
				    .mtu = o->mtu };
	struct nm_err err = { 0 };
	struct nm_igb_hw_stats hw;
	struct nm_igb *igb;
	uint8_t mac[6];
	int ret;

	if (o->lesser_queue >= 0)
		ip.no_csum_mask = 1u << o->lesser_queue;
	if (nm_igb_open(&ip, &igb, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		return 2;
	}
	nm_igb_mac_addr(igb, mac);
	printf("device: igb %s over VFIO, MAC %02x:%02x:%02x:%02x:%02x:%02x, link up, "
	       "%u RX queues (queue 0 on host memory), MTU %u\n", ip.bdf, mac[0], mac[1],
	       mac[2], mac[3], mac[4], mac[5], o->queues, nm_igb_mtu(igb));
	if (o->lesser_queue >= 0)
		show_refused_bind(igb, buf, (uint32_t)o->lesser_queue);
	if (o->try_buf_size)
		show_buf_size_check(igb, buf, 0, o->try_buf_size);
	ret = run_listen(o, nm_igb_port(igb), buf);
	nm_igb_hw_stats(igb, &hw);
	printf("igb: %llu frames received, %llu sent, %llu missed\n",
	       (unsigned long long)hw.rx_good, (unsigned long long)hw.tx_good,
	       (unsigned long long)hw.rx_missed);
	for (uint32_t q = 0; q < o->queues; q++) {
		struct nm_igb_rxq_stats st;

		nm_igb_rxq_stats(igb, q, &st);
		printf("  queue %u: %llu frames, %llu split, %llu payload bytes, bad checksum %llu, "
		       "unsplit dropped %llu, errors dropped %llu\n", q,
		       (unsigned long long)st.packets,
		       (unsigned long long)st.split, (unsigned long long)st.payload_bytes,
		       (unsigned long long)st.csum_bad, (unsigned long long)st.drop_unsplit,
		       (unsigned long long)st.drop_error);
	}
	nm_igb_close(igb);
	return ret;
}
