/* SPDX-License-Identifier: MIT */
/*
 * The stack under threads, as netmem-rx runs it: three pollers on four
 * queues, an application thread reading four connections and returning
 * tokens through the refill rings, a peer thread injecting. Each
 * connection's frames move between queues mid-stream (steered to one
 * queue, then unsteered back to the listener's port rule), so one
 * connection is worked on by two pollers. Built twice: plain and with
 * ThreadSanitizer (suite tsan-lib, build-tsan).
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include <netmem/netmem.h>
#include <netmem/sim.h>
#include <netmem/sim_port.h>
#include <netmem/tcp.h>

#include "nm_test.h"
#include "tcp_frames.h"

#define PORT   5201
#define NCONN  4
#define SEGS   300
#define SEGLEN 1000

struct peer_conn {
	uint16_t sport;
	uint32_t iss, our_iss;
	atomic_bool synack_seen;
	atomic_uint acked;        /* highest ACK number seen */
	atomic_uint win_right;    /* ack + window, scaled */
};

static struct {
	struct nm_sim *sim;
	struct nm_sim_port sp;
	struct nm_stack *st;
	struct nm_listener *l;
	struct tf_peer peer;
	struct peer_conn pc[NCONN];
	atomic_bool stop;
	atomic_int app_done;
	int errors;
} T;

static bool on_tx(void *arg, const void *frame, uint16_t len)
{
	struct tf_seg s = tf_parse(frame, len);

	(void)arg;
	if (!s.ok)
		return true;
	for (int i = 0; i < NCONN; i++) {
		struct peer_conn *p = &T.pc[i];

		if (s.dport != p->sport)
			continue;
		if (s.flags & TF_SYN) {
			p->our_iss = s.seq;
			atomic_store(&p->synack_seen, true);
		} else {
			atomic_store(&p->acked, s.ack);
			atomic_store(&p->win_right, s.ack + ((uint32_t)s.win << 7));
		}
	}
	return true;
}

static void *poller(void *arg)
{
	uintptr_t which = (uintptr_t)arg;

	while (!atomic_load(&T.stop)) {
		int got = 0;

		if (which == 0) {
			got += nm_stack_poll(T.st, 0, 0);
			got += nm_stack_poll(T.st, 3, 0);
		} else {
			got += nm_stack_poll(T.st, (uint32_t)which, 0);
		}
		if (!got)
			usleep(20);
	}
	return NULL;
}

static void *app(void *arg)
{
	struct nm_conn *c[NCONN] = { 0 };
	int nc = 0, ended = 0;
	struct nm_frag fr[32];
	uint32_t toks[32];

	(void)arg;
	while (ended < NCONN && !atomic_load(&T.stop)) {
		if (nc < NCONN && nm_listener_accept(T.l, &c[nc]) == 0)
			nc++;
		for (int i = 0; i < nc; i++) {
			int n = c[i] ? nm_conn_recv(c[i], fr, 32) : -EAGAIN;

			if (n == 0) {
				nm_conn_close(c[i]);
				c[i] = NULL;
				ended++;
				continue;
			}
			for (int j = 0; j < n; j++)
				toks[j] = fr[j].token;
			if (n > 0 && nm_conn_refill(c[i], toks, (unsigned int)n) != (unsigned int)n)
				T.errors++;
		}
		usleep(10);
	}
	atomic_store(&T.app_done, ended);
	return NULL;
}

static void inject_tcp(struct peer_conn *p, uint32_t seq, uint8_t flags,
		       const void *pl, size_t len)
{
	uint8_t f[1600], o[12];
	size_t ol = tf_ts_opts(o, 100 + seq / 1000, 0);

	size_t flen = tf_tcp(&T.peer, f, p->sport, PORT, seq, p->our_iss + 1,
			     flags, 2000, o, ol, pl, len);

	/* This peer never retransmits: wait for a descriptor rather than
	 * lose the frame when the poller lags. */
	for (int w = 0; w < 100000 && nm_sim_inject(T.sim, f, flen) == -ENOBUFS; w++)
		usleep(20);
}

static void test_threads(void)
{
	static const uint8_t mac[6] = { 0x02, 0x6e, 0x6d, 0, 0, 0x0c };
	struct nm_sim_params sp = { .num_rx_queues = 4, .ring_size = 128,
				    .pool_size = 1024, .no_hugepages = true };
	struct nm_stack_params p = { 0 };
	uint32_t qs[2] = { 1, 2 };
	struct nm_listen_params lp = { .port = PORT, .queues = qs, .num_queues = 2 };
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	pthread_t th[4];
	uint8_t pl[SEGLEN], o[40];
	struct nm_err err = { 0 };
	struct nm_stack_counters sc;

	memset(pl, 0x5a, sizeof(pl));
	CHECK_EQ(nm_sim_create(&sp, &T.sim, NULL), 0);
	nm_sim_port_init(&T.sp, T.sim, mac, on_tx, NULL);
	tf_peer_init(&T.peer, 4, mac);
	p.port = &T.sp.port;
	nm_ip_addr_parse("169.254.0.11", 4, &p.addrs[0], NULL);
	p.num_addrs = 1;
	CHECK_EQ(nm_stack_create(&p, &T.st, NULL), 0);
	CHECK_EQ(nm_dmabuf_create_memfd(8 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(nm_sim_netdev(T.sim)->dma, buf, NULL, &b, NULL), 0);
	lp.binding = b;
	CHECK_MSG(nm_stack_listen(T.st, &lp, &T.l, &err) == 0, "%s", err.msg);
	for (int i = 0; i < NCONN; i++) {
		T.pc[i].sport = (uint16_t)(41000 + i);
		T.pc[i].iss = 1000u * (uint32_t)(i + 1);
	}
	for (uintptr_t i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, poller, (void *)i);
	pthread_create(&th[3], NULL, app, NULL);

	for (int i = 0; i < NCONN; i++) {
		struct peer_conn *pc = &T.pc[i];
		size_t ol;

		ol = tf_syn_opts(o, 100);
		{
			uint8_t f[256];

			nm_sim_inject(T.sim, f, tf_tcp(&T.peer, f, pc->sport, PORT, pc->iss, 0,
						       TF_SYN, 64240, o, ol, NULL, 0));
		}
		for (int w = 0; w < 20000 && !atomic_load(&pc->synack_seen); w++)
			usleep(100);
		CHECK(atomic_load(&pc->synack_seen));
		inject_tcp(pc, pc->iss + 1, TF_ACK, NULL, 0);
	}
	/* Stream: round robin over the connections, within each window;
	 * halfway, the flows fall back from their own queue to the port
	 * rule's, so two pollers see each connection. */
	for (int s = 0; s < SEGS; s++) {
		if (s == SEGS / 2)
			for (int i = 0; i < NCONN; i++) {
				struct nm_flow fl = { .ipver = 4, .l4proto = IPPROTO_TCP,
						      .src_port = T.pc[i].sport, .dst_port = PORT };

				memcpy(fl.src_mac, T.peer.mac, 6);
				memcpy(fl.dst_mac, mac, 6);
				memcpy(fl.src_ip, T.peer.ip, 4);
				memcpy(fl.dst_ip, T.peer.our_ip, 4);
				nm_sim_unsteer_flow(T.sim, &fl);
			}
		for (int i = 0; i < NCONN; i++) {
			struct peer_conn *pc = &T.pc[i];
			uint32_t seq = pc->iss + 1 + (uint32_t)s * SEGLEN;

			/* Wait for window; probe now and then as Linux's
			 * persist timer does (an old byte: the stack ACKs). */
			for (int w = 0; w < 50000 &&
			     (int32_t)(atomic_load(&pc->win_right) - (seq + SEGLEN)) < 0; w++) {
				usleep(100);
				if (w % 50 == 49)
					inject_tcp(pc, seq - 1, TF_ACK, NULL, 0);
			}
			inject_tcp(pc, seq, TF_ACK | TF_PSH, pl, SEGLEN);
		}
	}
	for (int i = 0; i < NCONN; i++)
		inject_tcp(&T.pc[i], T.pc[i].iss + 1 + SEGS * SEGLEN, TF_ACK | TF_FIN, NULL, 0);
	for (int w = 0; w < 100000 && !atomic_load(&T.app_done); w++)
		usleep(100);
	atomic_store(&T.stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	nm_stack_counters(T.st, &sc);
	for (uint32_t q = 0; q < 4; q++) {
		struct nm_sim_rxq_stats qs;

		nm_sim_rxq_stats(T.sim, q, &qs);
		printf("# queue %u: %llu frames, no buffer %llu\n", q,
		       (unsigned long long)qs.packets, (unsigned long long)qs.drop_no_buf);
	}
	printf("# out of window %llu, out of buffers %llu, dup %llu, window zero %llu, updates %llu\n",
	       (unsigned long long)sc.tcp.out_of_window, (unsigned long long)sc.tcp.out_of_buffers,
	       (unsigned long long)sc.tcp.dup, (unsigned long long)sc.tcp.window_zero,
	       (unsigned long long)sc.tcp.window_update);
	for (int i = 0; i < NCONN; i++)
		printf("# peer %d: acked %u of %u\n", i, atomic_load(&T.pc[i].acked) - T.pc[i].iss,
		       2 + SEGS * SEGLEN);
	printf("# %llu segs, %llu bytes, ooo %llu, acks %llu, steered %llu\n",
	       (unsigned long long)sc.tcp.segs, (unsigned long long)sc.tcp.bytes,
	       (unsigned long long)sc.tcp.ooo, (unsigned long long)sc.tcp.acks_sent,
	       (unsigned long long)sc.flow_steered);
	CHECK_EQ(atomic_load(&T.app_done), NCONN);
	CHECK_EQ(T.errors, 0);
	CHECK_EQ(sc.tcp.bytes, (uint64_t)NCONN * SEGS * SEGLEN);
	CHECK_EQ(sc.flow_steered, NCONN);
	/* No connection here is idle for 2 h: a probe would be the timer
	 * pass's clock read before a poller's stamp, taken as a wrap. */
	CHECK_EQ(sc.tcp.keepalives_sent, 0);
	for (int i = 0; i < NCONN; i++)
		CHECK_EQ(atomic_load(&T.pc[i].acked), T.pc[i].iss + 2 + SEGS * SEGLEN);
	nm_stack_destroy(T.st);
	nm_dmabuf_binding_unbind(b);
	nm_sim_destroy(T.sim);
	nm_dmabuf_put(buf);
}

NM_TEST_MAIN(NM_TEST(test_threads))
