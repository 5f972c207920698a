/* SPDX-License-Identifier: MIT */
/*
 * The cost of netmem's TCP receive path per segment, for callgrind (docs/
 * results.md): in-order 1448-byte segments on the software NIC, through
 * the stack (input, ACK policy, ACKs built and "sent", recv, tokens back),
 * against the same frames received and returned without the stack (the
 * baseline, same run of the same binary). Frames are built before the
 * measured part; the clock is simulated so timers are deterministic.
 *
 * usage: netmem-tcp-bench stack|raw SEGMENTS
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/netmem.h>
#include <netmem/sim.h>
#include <netmem/sim_port.h>
#include <netmem/tcp.h>

#define MSS  1448
#define PORT 5201

static uint64_t now_ns;
static uint64_t fake_now(void *arg) { (void)arg; return now_ns; }

static uint32_t synack_seq;
static bool tx_cb(void *arg, const void *frame, uint16_t len)
{
	const uint8_t *t = (const uint8_t *)frame + 34;

	(void)arg;
	if (len >= 54 && (t[13] & 0x02))
		synack_seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
	return true;
}

/* One TCP segment from 169.254.0.10:40000 with a timestamp option. */
static int seg(uint8_t *f, uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *opt,
	       size_t olen, size_t plen)
{
	static uint8_t payload[MSS];
	struct nm_flow fl;
	int len;

	nm_flow_from_name("tcp4", PORT, &fl);
	len = nm_pkt_build(f, 1600, &fl, seq, payload, 0);
	(void)len;
	/* nm_pkt_build makes a plain header; redo TCP with options. */
	{
		uint8_t *ip = f + 14, *t = f + 34;
		uint32_t sum = 0;
		size_t thl = 20 + olen, l4 = thl + plen;

		ip[2] = (uint8_t)((20 + l4) >> 8);
		ip[3] = (uint8_t)(20 + l4);
		ip[10] = ip[11] = 0;
		for (int i = 0; i < 20; i += 2)
			sum += (uint32_t)ip[i] << 8 | ip[i + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		ip[10] = (uint8_t)(~sum >> 8);
		ip[11] = (uint8_t)~sum;
		t[8] = (uint8_t)(ack >> 24); t[9] = (uint8_t)(ack >> 16);
		t[10] = (uint8_t)(ack >> 8); t[11] = (uint8_t)ack;
		t[12] = (uint8_t)((thl / 4) << 4);
		t[13] = flags;
		t[14] = 0x01; t[15] = 0xf6;
		memcpy(t + 20, opt, olen);
		memset(t + thl, 0x5a, plen);
		t[16] = t[17] = 0;
		sum = 0;
		for (int i = 12; i < 20; i += 2)
			sum += (uint32_t)ip[i] << 8 | ip[i + 1];
		sum += 6 + (uint32_t)l4;
		for (size_t i = 0; i + 1 < l4; i += 2)
			sum += (uint32_t)t[i] << 8 | t[i + 1];
		if (l4 & 1)
			sum += (uint32_t)t[l4 - 1] << 8;
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		t[16] = (uint8_t)(~sum >> 8);
		t[17] = (uint8_t)~sum;
		return (int)(34 + l4);
	}
}

int main(int argc, char **argv)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0b };
	static const uint8_t syn_opt[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
					     0, 0, 0, 0, 1, 3, 3, 7 };
	uint8_t ts_opt[12] = { 1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 0 };
	struct nm_sim_params sp = { .num_rx_queues = 2, .ring_size = 256, .pool_size = 4096,
				    .no_hugepages = true };
	struct nm_stack_params p = { .now_ns = fake_now };
	uint32_t q = 1;
	struct nm_listen_params lp = { .port = PORT, .queues = &q, .num_queues = 1 };
	struct nm_sim *sim;
	struct nm_sim_port port;
	struct nm_stack *st = NULL;
	struct nm_listener *l;
	struct nm_conn *c = NULL;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_err err = { 0 };
	uint8_t (*frames)[1600];
	uint16_t *lens;
	bool stack;
	long n;
	uint64_t bytes = 0;

	if (argc != 3 || (strcmp(argv[1], "stack") && strcmp(argv[1], "raw")))
		return fprintf(stderr, "usage: %s stack|raw SEGMENTS\n", argv[0]), 2;
	stack = !strcmp(argv[1], "stack");
	n = atol(argv[2]);
	frames = calloc((size_t)n + 1, sizeof(*frames));
	lens = calloc((size_t)n + 1, sizeof(*lens));
	if (nm_sim_create(&sp, &sim, &err) || nm_dmabuf_create_memfd(64 << 20, &buf, &err) ||
	    nm_dmabuf_binding_create(nm_sim_netdev(sim)->dma, buf, NULL, &b, &err))
		return fprintf(stderr, "%s\n", err.msg), 1;
	nm_sim_port_init(&port, sim, mac, tx_cb, NULL);
	p.port = &port.port;
	nm_ip_addr_parse("169.254.0.11", 4, &p.addrs[0], NULL);
	p.num_addrs = 1;
	if (nm_stack_create(&p, &st, &err))
		return fprintf(stderr, "%s\n", err.msg), 1;
	if (stack) {
		uint8_t f[1600];

		if (nm_stack_listen(st, &lp, &l, &err))
			return fprintf(stderr, "%s\n", err.msg), 1;
		nm_sim_inject(sim, f, (size_t)seg(f, 999, 0, 0x02, syn_opt, 20, 0));
		nm_stack_poll(st, 1, 0);
		nm_sim_inject(sim, f, (size_t)seg(f, 1000, synack_seq + 1, 0x10, ts_opt, 12, 0));
		nm_stack_poll(st, 1, 0);
		if (nm_listener_accept(l, &c))
			return fprintf(stderr, "no connection\n"), 1;
	} else {
		struct nm_flow fl;

		nm_flow_from_name("tcp4", PORT, &fl);
		nm_dmabuf_binding_bind_rxq(b, nm_sim_netdev(sim), 1, NULL);
		nm_sim_steer(sim, &fl, 1);
	}
	for (long i = 0; i < n; i++)
		lens[i] = (uint16_t)seg(frames[i], 1000 + (uint32_t)i * MSS, synack_seq + 1,
					0x18, ts_opt, 12, MSS);

	/* Measured: inject, receive, hand out, return. */
	for (long i = 0; i < n; i++) {
		now_ns += 1000;
		nm_sim_inject(sim, frames[i], lens[i]);
		if (stack) {
			struct nm_frag fr[8];
			uint32_t tok[8];
			int k;

			nm_stack_poll(st, 1, 0);
			k = nm_conn_recv(c, fr, 8);
			for (int j = 0; j < k; j++) {
				tok[j] = fr[j].token;
				bytes += fr[j].len;
			}
			if (k > 0)
				nm_conn_refill(c, tok, (unsigned int)k);
		} else {
			struct nm_rx_pkt pk[8];
			unsigned int k = nm_sim_rx_burst(sim, 1, pk, 8);

			for (unsigned int j = 0; j < k; j++) {
				bytes += pk[j].payload_len;
				nm_netmem_put(pk[j].hdr);
				nm_netmem_put(pk[j].payload);
			}
		}
	}
	printf("%s: %ld segments, %llu payload bytes received\n", argv[1], n,
	       (unsigned long long)bytes);
	if (c)
		nm_conn_abort(c);
	nm_stack_destroy(st);
	nm_dmabuf_binding_unbind(b);
	nm_sim_destroy(sim);
	nm_dmabuf_put(buf);
	free(frames);
	free(lens);
	return 0;
}
