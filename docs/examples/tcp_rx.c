/* SPDX-License-Identifier: MIT */
/*
 * The smallest complete userspace devmem TCP receiver (docs/tcp.md):
 * a TAP NIC, a dmabuf bound to queue 1, one TCP connection received into
 * it. One thread polls both queues; tokens go back through the refill
 * ring. usage: tcp_rx IFNAME ADDR/PREFIX PORT
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include <netmem/netmem.h>
#include <netmem/tap.h>

int main(int argc, char **argv)
{
	struct nm_tap_params tp = { .num_rx_queues = 2 };
	struct nm_stack_params sp = { .num_addrs = 1 };
	uint32_t queue = 1;
	struct nm_listen_params lp = { .l4proto = IPPROTO_TCP, .queues = &queue,
				       .num_queues = 1 };
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_tap *tap;
	struct nm_stack *st;
	struct nm_listener *l;
	struct nm_conn *c = NULL;
	struct nm_frag fr[64];
	uint32_t tokens[64];
	uint64_t total = 0;
	int n;

	if (argc != 4)
		return fprintf(stderr, "usage: %s IFNAME ADDR/PREFIX PORT\n", argv[0]), 2;
	tp.ifname = argv[1];
	lp.port = (uint16_t)atoi(argv[3]);
	if (nm_ip_addr_parse(argv[2], 0, &sp.addrs[0], &err) ||
	    nm_tap_create(&tp, &tap, &err) ||
	    nm_dmabuf_create_memfd(16 << 20, &buf, &err) ||
	    nm_dmabuf_binding_create(nm_tap_netdev(tap)->dma, buf, NULL, &b, &err))
		return fprintf(stderr, "%s\n", err.msg), 1;
	sp.port = nm_tap_port(tap);
	if (nm_stack_create(&sp, &st, &err) || nm_stack_listen(st, &lp, &l, &err))
		return fprintf(stderr, "%s\n", err.msg), 1;

	for (;;) {
		nm_stack_poll(st, 0, 0);       /* ARP, ND, handshakes */
		nm_stack_poll(st, queue, 0);   /* the stream */
		if (!c && nm_listener_accept(l, &c))
			continue;
		n = nm_conn_recv(c, fr, 64);
		if (n == 0 || n == -ECONNRESET)
			break;                 /* end of stream, or reset */
		for (int i = 0; i < n; i++) {
			/* fr[i]: fr[i].len bytes at fr[i].offset in the dmabuf
			 * of binding fr[i].binding_id. */
			total += fr[i].len;
			tokens[i] = fr[i].token;
		}
		if (n > 0)
			nm_conn_refill(c, tokens, (unsigned int)n);
	}
	printf("received %llu bytes\n", (unsigned long long)total);
	nm_conn_close(c);
	for (int i = 0; i < 1000; i++)  /* let our FIN and its ACK pass */
		nm_stack_poll(st, 0, 0), nm_stack_poll(st, queue, 0);
	nm_stack_destroy(st);
	nm_dmabuf_binding_unbind(b);
	nm_tap_destroy(tap);
	nm_dmabuf_put(buf);
	return 0;
}
