/* SPDX-License-Identifier: MIT */
/*
 * The TCP stack frame by frame on the software NIC: frames a Linux peer
 * would send are injected, what the stack sends is captured and its
 * fields checked (handshake options, ACK numbers, SACK blocks, windows,
 * RST), payload bytes are read back from the dmabuf at the offsets the
 * fragments name, tokens and buffers are accounted to the last one.
 *
 * Every test runs three times, with the peer's ISS at 1000, at a random
 * value, and just below 2^32 so the stream crosses sequence wrap-around
 * within its first segments. The random ones come from a seed printed at
 * the start; NM_TEST_SEED=N runs them again.
 */
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include <netmem/netmem.h>
#include <netmem/sim.h>
#include <netmem/sim_port.h>
#include <netmem/tcp.h>

#include "nm_test.h"
#include "sim_flow.h"
#include "tcp_fx.h"

#define PORT   5201
#define MSS    1448   /* 1460 less the timestamp option */

/* The peer's ISS for the test running now (see main). */
static uint32_t test_iss = 1000;

/* Wrap-safe "a is after b" for the test's own window arithmetic. */
static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* A software NIC of 4 queues, queue 1 bound to a memfd dmabuf. */
static int fx_setup(int ipver, uint32_t sim_pool, uint32_t listen_flags,
		    struct nm_err *err)
{
	static const uint8_t mac[6] = { 0x02, 0x6e, 0x6d, 0, 0, 0x0b };
	struct nm_sim_params sp = { .num_rx_queues = 4, .ring_size = 64,
				    .pool_size = sim_pool, .no_hugepages = true };
	struct nm_stack_params p = { 0 };
	uint32_t q = 1;
	struct nm_listen_params lp = { .port = PORT, .queues = &q, .num_queues = 1,
				       .flags = listen_flags };
	void *va;
	int ret;

	memset(&F, 0, sizeof(F));
	F.now = 1000000000ull;
	if (nm_sim_create(&sp, &F.sim, err))
		return -1;
	nm_sim_port_init(&F.sp, F.sim, mac, capture, &F);
	tf_peer_init(&F.peer, ipver, mac);
	p.port = &F.sp.port;
	nm_ip_addr_parse(ipver == 4 ? "169.254.0.11/16" : "fe80::11/64", 0,
			 &p.addrs[0], NULL);
	p.num_addrs = 1;
	p.now_ns = fake_now;
	p.now_arg = &F;
	/* These tests check the delayed-ACK policy from the first segment on. */
	p.initial_quickacks = NM_QUICKACK_OFF;
	if (nm_stack_create(&p, &F.st, err))
		return -1;
	if (nm_dmabuf_create_memfd(4 << 20, &F.buf, err) ||
	    nm_dmabuf_binding_create(nm_sim_netdev(F.sim)->dma, F.buf, NULL, &F.b, err) ||
	    nm_dmabuf_cpu_map(F.buf, &va, err))
		return -1;
	F.cpu = va;
	lp.binding = F.b;
	ret = nm_stack_listen(F.st, &lp, &F.l, err);
	F.sport = 40001;
	F.iss_peer = test_iss;
	F.tsval = 5000;
	return ret;
}

static void fx_teardown(void)
{
	nm_stack_destroy(F.st);
	nm_dmabuf_binding_unbind(F.b);
	nm_sim_destroy(F.sim);
	nm_dmabuf_put(F.buf);
}

/* SYN, SYN-ACK, ACK; returns the accepted connection or NULL. */
static struct nm_conn *handshake(struct tf_seg *synack)
{
	uint8_t f[256], o[40];
	size_t ol = tf_syn_opts(o, F.tsval);
	struct nm_conn *c = NULL;

	F.ncap = 0;
	inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer, 0, TF_SYN, 64240,
			 o, ol, NULL, 0));
	*synack = last_seg();
	F.our_iss = synack->seq;
	ol = tf_ts_opts(o, ++F.tsval, synack->tsval);
	inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 1, F.our_iss + 1,
			 TF_ACK, 502, o, ol, NULL, 0));
	nm_listener_accept(F.l, &c);
	return c;
}

static void payload_fill(uint8_t *p, size_t len, uint32_t off)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((off + i) * 7 + 3);
}

/* Data segment @idx (MSS bytes each) of the stream. */
static size_t data_seg(uint8_t *f, uint32_t idx, uint32_t len)
{
	uint8_t pl[MSS], o[12];
	size_t ol = tf_ts_opts(o, ++F.tsval, 0);

	payload_fill(pl, len, idx * MSS);
	return tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 1 + idx * MSS,
		      F.our_iss + 1, TF_ACK | TF_PSH, 502, o, ol, pl, len);
}

static void test_handshake_options(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa;
	struct nm_conn *c;
	struct nm_conn_info ci;

	CHECK_MSG(fx_setup(4, 0, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(sa.ok);
	CHECK_EQ(sa.flags, TF_SYN | TF_ACK);
	CHECK_EQ(sa.ack, F.iss_peer + 1);
	CHECK_EQ(sa.mss, 1460);
	CHECK_EQ(sa.wscale, 7);
	CHECK(sa.sack_perm);
	CHECK(sa.ts);
	CHECK_EQ(sa.tsecr, 5000);   /* the SYN's TSval echoed */
	CHECK(sa.win > 0);
	CHECK(c != NULL);
	nm_conn_get_info(c, &ci);
	CHECK(!strcmp(ci.state, "ESTABLISHED"));
	CHECK(ci.sack && ci.timestamps);
	CHECK_EQ(ci.rcv_wscale, 7);
	nm_conn_close(c);
	fx_teardown();
}

static void test_inorder_ooo_dup_sack(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa, s;
	struct nm_tcp_counters ct;
	struct nm_frag fr[16];
	uint8_t f[1600], want[MSS * 6];
	struct nm_conn *c;
	int n;
	uint64_t total = 0;

	CHECK_MSG(fx_setup(4, 0, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	F.ncap = 0;
	inject(f, data_seg(f, 0, MSS));
	CHECK_EQ(F.ncap, 0);           /* one full segment: ACK delayed */
	inject(f, data_seg(f, 1, MSS));
	s = last_seg();
	CHECK_EQ(F.ncap, 1);           /* the second: ACK now */
	CHECK_EQ(s.ack, F.iss_peer + 1 + 2 * MSS);
	CHECK_EQ(s.nsack, 0);
	/* Segment 3 before 2: held, ACKed at once with a SACK block. */
	F.ncap = 0;
	inject(f, data_seg(f, 3, MSS));
	s = last_seg();
	CHECK_EQ(F.ncap, 1);
	CHECK_EQ(s.ack, F.iss_peer + 1 + 2 * MSS);
	CHECK_EQ(s.nsack, 1);
	CHECK_EQ(s.sack[0][0], F.iss_peer + 1 + 3 * MSS);
	CHECK_EQ(s.sack[0][1], F.iss_peer + 1 + 4 * MSS);
	/* TS.Recent comes from the segment at our last ACK's edge (RFC 7323
	 * 4.3, Linux's rcv_wup rule): segment 0's, echoed for the delayed
	 * ACK of 0-1, and kept for the out-of-order segment 3. */
	CHECK_EQ(s.tsecr, F.tsval - 2);
	/* Segment 5 too: two blocks, the newest first. */
	inject(f, data_seg(f, 5, MSS));
	s = last_seg();
	CHECK_EQ(s.nsack, 2);
	CHECK_EQ(s.sack[0][0], F.iss_peer + 1 + 5 * MSS);
	CHECK_EQ(s.sack[1][0], F.iss_peer + 1 + 3 * MSS);
	/* Segment 3 again: a duplicate. */
	inject(f, data_seg(f, 3, MSS));
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.dup, 1);
	CHECK_EQ(ct.ooo, 2);
	/* Segment 2 fills the first hole: ACK through 3, block 5 left. */
	F.ncap = 0;
	inject(f, data_seg(f, 2, MSS));
	s = last_seg();
	CHECK_EQ(s.ack, F.iss_peer + 1 + 4 * MSS);
	CHECK_EQ(s.nsack, 1);
	CHECK_EQ(s.sack[0][0], F.iss_peer + 1 + 5 * MSS);
	/* A segment overlapping half of 4 and half of 5 ... then all of 4:
	 * delivered trimmed, with an offset into its buffer. */
	{
		uint8_t pl[MSS], o[12];
		size_t ol = tf_ts_opts(o, ++F.tsval, 0);
		uint32_t start = 4 * MSS + MSS / 2;

		payload_fill(pl, MSS, start);
		inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 1 + start,
				 F.our_iss + 1, TF_ACK, 502, o, ol, pl, MSS));
	}
	inject(f, data_seg(f, 4, MSS));
	s = last_seg();
	CHECK_EQ(s.ack, F.iss_peer + 1 + 6 * MSS);
	CHECK_EQ(s.nsack, 0);
	/* The stream reads back intact from the dmabuf. */
	payload_fill(want, sizeof(want), 0);
	while ((n = nm_conn_recv(c, fr, 16)) > 0) {
		for (int i = 0; i < n; i++) {
			struct nm_token_range r = { fr[i].token, 1 };

			CHECK(fr[i].flags & NM_FRAG_DMABUF);
			CHECK_EQ(fr[i].binding_id, F.b->id);
			CHECK_EQ(fr[i].stream_off, total);
			CHECK(total + fr[i].len <= sizeof(want));
			CHECK(!memcmp(F.cpu + fr[i].offset, want + total, fr[i].len));
			total += fr[i].len;
			CHECK_EQ(nm_conn_release_tokens(c, &r, 1, NULL), 1);
		}
	}
	CHECK_EQ(n, -EAGAIN);
	CHECK_EQ(total, sizeof(want));
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.bytes, sizeof(want));
	CHECK(ct.partial_dup >= 1);
	CHECK_EQ(ct.tokens_held, 0);
	CHECK_EQ(ct.copy_fallback, 0);
	nm_conn_close(c);
	fx_teardown();
}

static void test_bad_csum_and_tokens(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa, s;
	struct nm_tcp_counters ct;
	struct nm_frag fr[4];
	uint8_t f[1600];
	struct nm_conn *c;
	size_t len;
	uint32_t toks[2];
	uint8_t o[12];

	CHECK_MSG(fx_setup(4, 0, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	len = data_seg(f, 0, MSS);
	f[len - 1] ^= 0x55;  /* the NIC's engine sees a wrong checksum */
	F.ncap = 0;
	inject(f, len);
	CHECK_EQ(F.ncap, 0);
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.bad_csum, 1);
	CHECK_EQ(ct.segs, 0);
	inject(f, data_seg(f, 0, MSS));
	inject(f, data_seg(f, 1, MSS));
	CHECK_EQ(nm_conn_recv(c, fr, 4), 2);
	/* Unknown, doubled, returned-already tokens: refused, nothing freed. */
	{
		struct nm_token_range bad = { 999, 1 };
		struct nm_token_range twice[2] = { { fr[0].token, 1 }, { fr[0].token, 1 } };
		struct nm_token_range one = { fr[0].token, 1 };

		CHECK_EQ(nm_conn_release_tokens(c, &bad, 1, &err), -ENOENT);
		CHECK(strstr(err.msg, "999") != NULL);
		CHECK_EQ(nm_conn_release_tokens(c, twice, 2, &err), -ENOENT);
		nm_conn_counters(c, &ct);
		CHECK_EQ(ct.tokens_held, 2);
		CHECK_EQ(nm_conn_release_tokens(c, &one, 1, NULL), 1);
		CHECK_EQ(nm_conn_release_tokens(c, &one, 1, &err), -ENOENT);
	}
	/* The refill ring: no lock; the poller releases on its next pass. */
	toks[0] = fr[1].token;
	toks[1] = 12345;  /* bad: counted, not released */
	CHECK_EQ(nm_conn_refill(c, toks, 2), 2);
	F.now += 2000000;
	poll_all();
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.tokens_held, 0);
	CHECK_EQ(ct.bad_tokens, 1);
	/* Delayed ACK: data, then 40 ms of quiet. */
	F.ncap = 0;
	inject(f, data_seg(f, 2, MSS));
	CHECK_EQ(F.ncap, 0);
	F.now += 41000000;
	poll_all();
	s = last_seg();
	CHECK_EQ(F.ncap, 1);
	CHECK_EQ(s.ack, F.iss_peer + 1 + 3 * MSS);
	/* A keepalive (one old sequence number, no data) is answered. */
	{
		size_t ol = tf_ts_opts(o, ++F.tsval, 0);

		F.ncap = 0;
		inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 3 * MSS,
				 F.our_iss + 1, TF_ACK, 502, o, ol, NULL, 0));
		s = last_seg();
		CHECK_EQ(F.ncap, 1);
		CHECK_EQ(s.ack, F.iss_peer + 1 + 3 * MSS);
	}
	nm_conn_close(c);  /* unread data: a reset, as Linux */
	s = last_seg();
	CHECK(s.flags & TF_RST);
	fx_teardown();
}

static void test_closed_port_rst_and_fin(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa, s;
	uint8_t f[256], o[40];
	struct nm_frag fr[4];
	struct nm_conn *c;
	size_t ol;

	CHECK_MSG(fx_setup(6, 0, 0, &err) == 0, "%s", err.msg);
	F.ncap = 0;
	ol = tf_syn_opts(o, 1);
	inject(f, tf_tcp(&F.peer, f, 40100, 9, 777, 0, TF_SYN, 64240, o, ol, NULL, 0));
	s = last_seg();
	CHECK(s.ok);
	CHECK_EQ(s.flags, TF_RST | TF_ACK);
	CHECK_EQ(s.ack, 778);
	/* IPv6 connection, then FIN both ways. */
	c = handshake(&sa);
	CHECK(c != NULL);
	CHECK_EQ(sa.mss, 1440);
	inject(f, data_seg(f, 0, 100));
	ol = tf_ts_opts(o, ++F.tsval, 0);
	F.ncap = 0;
	inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 101, F.our_iss + 1,
			 TF_ACK | TF_FIN, 502, o, ol, NULL, 0));
	s = last_seg();
	CHECK_EQ(s.ack, F.iss_peer + 102);
	CHECK_EQ(nm_conn_recv(c, fr, 4), 1);
	CHECK_EQ(fr[0].len, 100);
	CHECK_EQ(nm_conn_recv(c, fr, 4), 0);   /* end of stream */
	F.ncap = 0;
	nm_conn_close(c);
	s = last_seg();
	CHECK(s.flags & TF_FIN);
	CHECK_EQ(s.seq, F.our_iss + 1);
	ol = tf_ts_opts(o, ++F.tsval, 0);
	inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 102, F.our_iss + 2,
			 TF_ACK, 502, o, ol, NULL, 0));
	/* Closed and reaped: a stray segment now gets a RST. */
	F.now += 5000000;
	poll_all();
	F.ncap = 0;
	inject(f, data_seg(f, 1, 10));
	s = last_seg();
	CHECK(s.flags & TF_RST);
	{
		struct nm_stack_counters sc;

		nm_stack_counters(F.st, &sc);
		CHECK(sc.unknown_conn >= 1);
		CHECK_EQ(sc.tcp.tokens_held, 0);
	}
	fx_teardown();
}

/* A slow consumer: the window closes, nothing is lost, a window update
 * goes out when tokens come back. */
static void test_window_closes_and_reopens(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa, s;
	struct nm_tcp_counters ct;
	struct nm_frag fr[64];
	uint8_t f[1600], o[12];
	struct nm_conn *c;
	uint32_t sent = 0, right;
	int n;

	/* Pool of 128: a budget of 64 buffers on queue 1. */
	CHECK_MSG(fx_setup(4, 128, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	inject(f, data_seg(f, sent, MSS));
	sent++;
	s = last_seg();
	for (int i = 0; i < 200; i++) {
		F.now += 50000000;  /* let delayed ACKs out */
		poll_all();
		s = last_seg();
		right = s.ack + ((uint32_t)s.win << 7);
		if (seq_after(F.iss_peer + 1 + (sent + 1) * MSS, right))
			break;  /* the peer may not send more */
		inject(f, data_seg(f, sent, MSS));
		sent++;
	}
	F.now += 50000000;
	poll_all();
	s = last_seg();
	CHECK_MSG(s.win < 12, "window %u after %u segments", s.win, sent);
	CHECK_MSG(sent >= 40 && sent <= 64, "sent %u", sent);
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.segs, sent);
	CHECK_EQ(ct.out_of_buffers, 0);
	/* A zero-window probe is answered. */
	F.ncap = 0;
	{
		size_t ol = tf_ts_opts(o, ++F.tsval, 0);

		inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + sent * MSS,
				 F.our_iss + 1, TF_ACK, 502, o, ol, NULL, 0));
	}
	CHECK_EQ(F.ncap, 1);
	/* The consumer returns everything: the window opens again. */
	F.ncap = 0;
	while ((n = nm_conn_recv(c, fr, 64)) > 0)
		for (int i = 0; i < n; i++) {
			struct nm_token_range r = { fr[i].token, 1 };

			nm_conn_release_tokens(c, &r, 1, NULL);
		}
	s = last_seg();
	CHECK(F.ncap >= 1);
	CHECK(((uint32_t)s.win << 7) >= 32u * MSS);
	nm_conn_counters(c, &ct);
	CHECK(ct.window_update >= 1);
	nm_conn_close(c);
	fx_teardown();
}

static void test_neighbours_and_echo(void)
{
	struct nm_err err = { 0 };
	uint8_t f[256], *r;
	struct nm_stack_counters sc;
	size_t off;

	CHECK_MSG(fx_setup(4, 0, 0, &err) == 0, "%s", err.msg);
	/* ARP who-has 169.254.0.11 */
	memset(f, 0xff, 6);
	memcpy(f + 6, F.peer.mac, 6);
	tf_put16(f + 12, 0x0806);
	tf_put16(f + 14, 1);
	tf_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	tf_put16(f + 20, 1);
	memcpy(f + 22, F.peer.mac, 6);
	memcpy(f + 28, F.peer.ip, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, F.peer.our_ip, 4);
	F.ncap = 0;
	inject(f, 60);
	CHECK_EQ(F.ncap, 1);
	r = F.cap[0];
	CHECK(!memcmp(r, F.peer.mac, 6));
	CHECK_EQ(tf_get16(r + 20), 2);
	CHECK(!memcmp(r + 22, F.peer.our_mac, 6));
	CHECK(!memcmp(r + 28, F.peer.our_ip, 4));
	/* ICMP echo */
	off = tf_ip(&F.peer, f, 1, 16, 64, NULL, NULL);
	memset(f + off, 0, 16);
	f[off] = 8;
	tf_put16(f + off + 4, 0x1234);
	tf_put16(f + off + 2, tf_fold(tf_sum(0, f + off, 16)));
	F.ncap = 0;
	inject(f, off + 16);
	CHECK_EQ(F.ncap, 1);
	r = F.cap[0];
	CHECK_EQ(r[34], 0);
	CHECK_EQ(tf_fold(tf_sum(0, r + 34, 16)), 0);
	CHECK(!memcmp(r + 30, F.peer.ip, 4));
	nm_stack_counters(F.st, &sc);
	CHECK_EQ(sc.arp_replies, 1);
	CHECK_EQ(sc.echo_replies, 1);
	fx_teardown();

	/* IPv6: NS for our address to its solicited-node group. */
	CHECK_MSG(fx_setup(6, 0, 0, &err) == 0, "%s", err.msg);
	{
		uint8_t grp[16], gmac[6] = { 0x33, 0x33, 0xff };
		uint8_t *m;

		nm_ip6_solicited_node(F.peer.our_ip, grp);
		memcpy(gmac + 3, grp + 13, 3);
		off = tf_ip(&F.peer, f, 58, 32, 255, grp, gmac);
		m = f + off;
		memset(m, 0, 32);
		m[0] = 135;
		memcpy(m + 8, F.peer.our_ip, 16);
		m[24] = 1;
		m[25] = 1;
		memcpy(m + 26, F.peer.mac, 6);
		tf_put16(m + 2, tf_fold(tf_sum(tf_pseudo(f, 6, 58, 32), m, 32)));
		F.ncap = 0;
		inject(f, off + 32);
		CHECK_EQ(F.ncap, 1);
		r = F.cap[0];
		CHECK(!memcmp(r, F.peer.mac, 6));
		CHECK_EQ(r[20], 58);
		CHECK_EQ(r[21], 255);
		CHECK_EQ(r[54], 136);
		CHECK_EQ(r[58], 0x60);  /* solicited, override */
		CHECK(!memcmp(r + 62, F.peer.our_ip, 16));
		CHECK_EQ(r[78], 2);
		CHECK(!memcmp(r + 80, F.peer.our_mac, 6));
		CHECK_EQ(tf_fold(tf_sum(tf_pseudo(r, 6, 58, 32), r + 54, 32)), 0);
		/* The same NS as a DAD probe (from ::): NA to all nodes. */
		memset(f + 22, 0, 16);
		m[24] = 0;  /* no source lladdr option from :: */
		memset(m + 24, 0, 8);
		tf_put16(m + 2, 0);
		tf_put16(f + 18, 24);
		tf_put16(m + 2, tf_fold(tf_sum(tf_pseudo(f, 6, 58, 24), m, 24)));
		F.ncap = 0;
		inject(f, off + 24);
		CHECK_EQ(F.ncap, 1);
		r = F.cap[0];
		CHECK_EQ(r[0], 0x33);
		CHECK_EQ(r[53], 1);     /* ff02::1 */
		CHECK_EQ(r[58], 0x20);  /* override only */
	}
	fx_teardown();
}

/* A queue without RX checksum offload is refused for unreadable memory
 * before anything is touched; CPU-readable memory may use it. */
static void test_listen_refused_without_rx_csum(void)
{
	struct nm_err err = { 0 };
	struct nm_sim_params sp = { .num_rx_queues = 4, .ring_size = 64, .no_hugepages = true };
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 1 };
	struct nm_stack_params p = { 0 };
	struct nm_sim *sim;
	struct nm_sim_port port;
	struct nm_stack *st;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_listener *l = NULL;
	struct nm_rxq_info info;
	uint32_t q = 2;
	struct nm_listen_params lp = { .port = PORT, .queues = &q, .num_queues = 1 };
	struct test_ops ops;
	struct test_udp { struct nm_flow f; uint8_t frame[256]; } u;
	struct nm_rx_pkt pk[4];
	int len;

	CHECK_EQ(nm_sim_create(&sp, &sim, NULL), 0);
	CHECK_EQ(nm_sim_set_queue_caps(sim, 2, NM_RXQ_CAP_ALL & ~NM_RXQ_CAP_RX_CSUM), 0);
	nm_sim_port_init(&port, sim, mac, NULL, NULL);
	p.port = &port.port;
	CHECK_EQ(nm_stack_create(&p, &st, NULL), 0);
	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(nm_sim_netdev(sim)->dma, buf, NULL, &b, NULL), 0);
	lp.binding = b;
	test_ops_snap(sim, &ops);
	CHECK_EQ(nm_stack_listen(st, &lp, &l, &err), -EOPNOTSUPP);
	CHECK(strstr(err.msg, "rx-csum") != NULL);
	for (int i = 0; i < NM_SIM_OP_COUNT; i++)
		CHECK_EQ(test_ops_since(sim, &ops, (enum nm_sim_op)i), 0);
	CHECK_EQ(nm_netdev_rxq_info(nm_sim_netdev(sim), 2, &info), 0);
	CHECK_EQ(info.counters.restarts, 0);
	CHECK(!strcmp(info.provider, "host"));
	/* The queue still receives. */
	nm_flow_from_name("udp4", 7777, &u.f);
	CHECK_EQ(nm_sim_steer(sim, &u.f, 2), 0);
	len = nm_pkt_build(u.frame, sizeof(u.frame), &u.f, 0, "abcd", 4);
	CHECK_EQ(nm_sim_inject(sim, u.frame, (size_t)len), 2);
	CHECK_EQ(nm_sim_rx_burst(sim, 2, pk, 4), 1);
	nm_netmem_put(pk[0].hdr);
	nm_netmem_put(pk[0].payload);
	/* The default queue is never given to a binding. */
	q = 0;
	CHECK_EQ(nm_stack_listen(st, &lp, &l, &err), -EINVAL);
	/* CPU-readable memory: software checksums, the queue is fine. */
	q = 2;
	lp.flags = NM_LISTEN_CPU_READABLE;
	CHECK_MSG(nm_stack_listen(st, &lp, &l, &err) == 0, "%s", err.msg);
	CHECK_EQ(nm_netdev_rxq_info(nm_sim_netdev(sim), 2, &info), 0);
	CHECK_EQ(info.counters.restarts, 1);
	nm_stack_destroy(st);
	nm_dmabuf_binding_unbind(b);
	nm_sim_destroy(sim);
	nm_dmabuf_put(buf);
}

/* No verdict on unreadable memory: dropped and counted. With the
 * CPU-readable flag, the stack checks the sum itself through the mapping.
 * The frames land on queue 2, bound to the same dmabuf but without a
 * checksum engine (bound by hand: the listener would refuse it). */
static void test_no_verdict(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa;
	struct nm_tcp_counters ct;
	uint8_t f[1600];
	struct nm_conn *c;
	struct nm_flow fl = { .ipver = 4, .l4proto = IPPROTO_TCP };

	for (int readable = 0; readable < 2; readable++) {
		CHECK_MSG(fx_setup(4, 0, readable ? NM_LISTEN_CPU_READABLE : 0, &err) == 0,
			  "%s", err.msg);
		CHECK_EQ(nm_sim_set_queue_caps(F.sim, 2, NM_RXQ_CAP_ALL & ~NM_RXQ_CAP_RX_CSUM), 0);
		CHECK_EQ(nm_dmabuf_binding_bind_rxq(F.b, nm_sim_netdev(F.sim), 2, NULL), 0);
		c = handshake(&sa);
		CHECK(c != NULL);
		memcpy(fl.src_mac, F.peer.mac, 6);
		memcpy(fl.dst_mac, F.peer.our_mac, 6);
		memcpy(fl.src_ip, F.peer.ip, 4);
		memcpy(fl.dst_ip, F.peer.our_ip, 4);
		fl.src_port = F.sport;
		fl.dst_port = PORT;
		CHECK_EQ(nm_sim_steer_flow(F.sim, &fl, 2), 0);
		inject(f, data_seg(f, 0, MSS));
		nm_conn_counters(c, &ct);
		if (readable) {
			CHECK_EQ(ct.no_verdict, 0);
			CHECK_EQ(ct.segs, 1);
			/* A corrupt one is caught by the software sum. */
			{
				size_t len = data_seg(f, 1, MSS);

				f[len - 3] ^= 1;
				inject(f, len);
			}
			nm_conn_counters(c, &ct);
			CHECK_EQ(ct.bad_csum, 1);
		} else {
			CHECK_EQ(ct.no_verdict, 1);
			CHECK_EQ(ct.segs, 0);
		}
		nm_conn_abort(c);
		fx_teardown();
	}
}

/* Segments in random order, duplicated, overlapping at random offsets:
 * the stream reads back byte for byte, every buffer comes home. */
static void test_reassembly_fuzz(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa;
	struct nm_tcp_counters ct;
	struct nm_frag fr[64];
	static uint8_t want[MSS * 40];
	uint8_t f[1600], o[12], pl[MSS];
	struct nm_conn *c;
	uint64_t total = 0;
	unsigned int seed = 12345;
	int n;

	CHECK_MSG(fx_setup(4, 512, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	payload_fill(want, sizeof(want), 0);
	for (int round = 0; round < 4000 && total < sizeof(want); round++) {
		uint32_t start = (uint32_t)(rand_r(&seed) % (sizeof(want) - 1));
		uint32_t len = 1 + (uint32_t)(rand_r(&seed) % MSS);
		size_t ol = tf_ts_opts(o, F.tsval, 0);

		if (rand_r(&seed) % 3 == 0)
			start = (uint32_t)total;  /* keep the front moving */
		if (start + len > sizeof(want))
			len = (uint32_t)sizeof(want) - start;
		payload_fill(pl, len, start);
		inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 1 + start,
				 F.our_iss + 1, TF_ACK, 502, o, ol, pl, len));
		while ((n = nm_conn_recv(c, fr, 64)) > 0)
			for (int i = 0; i < n; i++) {
				struct nm_token_range r = { fr[i].token, 1 };

				CHECK_EQ(fr[i].stream_off, total);
				CHECK_MSG(!memcmp(F.cpu + fr[i].offset, want + total, fr[i].len),
					  "bytes at %llu differ", (unsigned long long)total);
				total += fr[i].len;
				CHECK_EQ(nm_conn_release_tokens(c, &r, 1, NULL), 1);
			}
	}
	CHECK_EQ(total, sizeof(want));
	nm_conn_counters(c, &ct);
	CHECK(ct.ooo > 0 && ct.partial_dup > 0);
	printf("# fuzz: %llu segs, ooo %llu, dup %llu, partial %llu\n",
	       (unsigned long long)ct.segs, (unsigned long long)ct.ooo,
	       (unsigned long long)ct.dup, (unsigned long long)ct.partial_dup);
	nm_conn_abort(c);
	fx_teardown();
	{
		struct nm_page_pool_stats ps;

		(void)ps;
	}
}

/* steer_flow() -EEXIST: the second flow of a taken slot stays on the
 * queue its SYN came on, counted; its stream still arrives. */
static uint32_t flow_slot(const struct tf_peer *p, uint16_t sport)
{
	uint8_t f[256];
	struct nm_pkt_info pi;
	size_t len = tf_tcp(p, f, sport, PORT, 1, 0, TF_SYN, 1, NULL, 0, NULL, 0);

	nm_pkt_parse(f, len, &pi);
	return pi.flow_hash % NM_SIM_FLOW_SLOTS;
}

static void test_steer_collision(void)
{
	struct nm_err err = { 0 };
	struct nm_stack_counters sc;
	struct nm_tcp_counters ct;
	struct nm_frag fr[4];
	struct tf_seg sa;
	struct nm_conn *c1, *c2;
	uint8_t f[1600];
	uint16_t other = 0;

	CHECK_MSG(fx_setup(4, 0, 0, &err) == 0, "%s", err.msg);
	/* A second peer port whose flow takes the first one's slot. */
	for (uint16_t sp = 40002; sp < 60000 && !other; sp++)
		if (flow_slot(&F.peer, sp) == flow_slot(&F.peer, F.sport))
			other = sp;
	CHECK(other != 0);
	c1 = handshake(&sa);
	CHECK(c1 != NULL);
	F.sport = other;
	c2 = handshake(&sa);
	CHECK(c2 != NULL);
	nm_stack_counters(F.st, &sc);
	CHECK_EQ(sc.flow_steered, 1);
	CHECK_EQ(sc.flow_steer_collisions, 1);
	inject(f, data_seg(f, 0, MSS));
	CHECK_EQ(nm_conn_recv(c2, fr, 4), 1);
	CHECK_EQ(fr[0].len, MSS);
	nm_conn_counters(c2, &ct);
	CHECK_EQ(ct.segs, 1);
	nm_conn_abort(c1);
	nm_conn_abort(c2);
	fx_teardown();
}

/* A burst of in-order segments that one poll takes in gets one ACK, as a
 * GRO packet does in the kernel; a hole in a burst is still told at once. */
static void test_ack_per_burst(void)
{
	struct nm_err err = { 0 };
	struct nm_tcp_counters ct;
	struct nm_frag fr[32];
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1600];
	int n;

	CHECK_MSG(fx_setup(4, 0, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	F.ncap = 0;
	for (uint32_t i = 0; i < 16; i++)
		nm_sim_inject(F.sim, f, data_seg(f, i, MSS));
	poll_all();
	s = last_seg();
	CHECK_EQ(F.ncap, 1);  /* not 8: one per burst */
	CHECK_EQ(s.ack, F.iss_peer + 1 + 16 * MSS);
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.segs, 16);
	CHECK_EQ(ct.acks_sent, 2);  /* the handshake's and the burst's */
	/* 3 in order, then segment 20 past a hole at 19: the hole is told at
	 * once, with a SACK block, and that ACK covers the three. */
	F.ncap = 0;
	for (uint32_t i = 16; i < 19; i++)
		nm_sim_inject(F.sim, f, data_seg(f, i, MSS));
	nm_sim_inject(F.sim, f, data_seg(f, 20, MSS));
	poll_all();
	s = last_seg();
	CHECK_EQ(F.ncap, 1);  /* the SACK ACK covers the three before it */
	CHECK_EQ(s.ack, F.iss_peer + 1 + 19 * MSS);
	CHECK_EQ(s.nsack, 1);
	/* The hole filled: ACK now, up to 21. */
	F.ncap = 0;
	inject(f, data_seg(f, 19, MSS));
	s = last_seg();
	CHECK_EQ(F.ncap, 1);
	CHECK_EQ(s.ack, F.iss_peer + 1 + 21 * MSS);
	/* After a hole filled, the sender is recovering: even one segment
	 * alone is ACKed at its burst's end (quickack), not 40 ms later. */
	F.ncap = 0;
	inject(f, data_seg(f, 21, MSS));
	CHECK_EQ(F.ncap, 1);
	CHECK_EQ(last_seg().ack, F.iss_peer + 1 + 22 * MSS);
	n = nm_conn_recv(c, fr, 32);
	CHECK_EQ(n, 22);
	nm_conn_abort(c);
	fx_teardown();
}

/* Send full segments on the current peer, from its stream start, until
 * its window's right edge. */
static uint32_t fill_from_start(void)
{
	uint8_t f[1600];
	uint32_t sent = 0, right;
	struct tf_seg s;

	for (int i = 0; i < 200; i++) {
		F.now += 50000000;  /* let delayed ACKs out */
		poll_all();
		s = last_seg();
		right = s.ack + ((uint32_t)s.win << 7);
		if (sent && seq_after(F.iss_peer + 1 + (sent + 1) * MSS, right))
			break;
		inject(f, data_seg(f, sent, MSS));
		sent++;
	}
	return sent;
}

/* Connections on one queue: B, C and D fill the queue's buffers, so A's
 * window is zero because of them, not of A's own buffers. When B's
 * buffers come back, A must be told its window opened (a timer pass), not
 * left to its peer's zero-window probes, which back off to minutes. */
static void test_window_opens_for_the_other_conn(void)
{
	struct nm_err err = { 0 };
	struct nm_frag fr[64];
	struct tf_seg sa, s;
	struct nm_conn *a, *b, *c, *d;
	uint32_t sent_b, sent_c;
	uint16_t sport_a;
	bool told = false;
	int n;

	/* Pool of 128: a budget of 64 buffers on queue 1. */
	CHECK_MSG(fx_setup(4, 128, 0, &err) == 0, "%s", err.msg);
	b = handshake(&sa);
	CHECK(b != NULL);
	sent_b = fill_from_start();
	/* Alone, a connection takes seven eighths of the budget. */
	CHECK_MSG(sent_b >= 52 && sent_b <= 56, "B took %u segments", sent_b);
	/* C and D take what is left, up to the queue's hard limit (96). */
	F.sport++;
	F.iss_peer = test_iss ^ 0x7000000;
	c = handshake(&sa);
	CHECK(c != NULL);
	CHECK_MSG(sa.win >= 2 * MSS, "C's SYN-ACK window %u: B left a quarter", sa.win);
	sent_c = fill_from_start();
	F.sport++;
	F.iss_peer = test_iss ^ 0x9000000;
	d = handshake(&sa);
	CHECK(d != NULL);
	sent_c += fill_from_start();
	CHECK_MSG(sent_b + sent_c >= 90, "B, C and D took %u + %u segments", sent_b, sent_c);
	/* A arrives while B, C and D hold the queue's buffers: a zero window. */
	F.sport++;
	F.iss_peer = test_iss ^ 0x5000000;
	a = handshake(&sa);
	CHECK(a != NULL);
	sport_a = F.sport;
	CHECK_MSG(sa.win < 2 * MSS, "A's SYN-ACK window %u", sa.win);
	/* B's reader gives everything back; A's peer says nothing. */
	while ((n = nm_conn_recv(b, fr, 64)) > 0)
		for (int i = 0; i < n; i++) {
			struct nm_token_range r = { fr[i].token, 1 };

			CHECK_EQ(nm_conn_release_tokens(b, &r, 1, NULL), 1);
		}
	F.ncap = 0;
	F.now += 2000000;
	poll_all();
	for (unsigned int i = 0; i < F.ncap; i++) {
		s = tf_parse(F.cap[i], F.caplen[i]);
		if (s.ok && s.dport == sport_a && ((uint32_t)s.win << 7) >= 2 * MSS)
			told = true;
	}
	CHECK_MSG(told, "A was not told its window opened (%u frames sent)", F.ncap);
	nm_conn_abort(a);
	nm_conn_abort(b);
	nm_conn_abort(c);
	nm_conn_abort(d);
	fx_teardown();
}

/* With room in the window, an ACK owed at a burst's end waits for 64 KiB
 * unacknowledged (the stack's default coalescing) or the next timer pass. */
static void test_ack_coalescing(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1600];
	uint32_t sent = 0;

	CHECK_MSG(fx_setup(4, 1024, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	/* Let the window open past 64 KiB (the SYN-ACK's is unscaled). */
	inject(f, data_seg(f, sent++, MSS));
	F.now += 41000000;
	poll_all();
	s = last_seg();
	CHECK_MSG(((uint32_t)s.win << 7) >= 2 * 65536, "window %u", (uint32_t)s.win << 7);
	/* 16 segments (23 KiB) in a burst: no ACK yet; one at the timer pass. */
	F.ncap = 0;
	for (int i = 0; i < 16; i++)
		nm_sim_inject(F.sim, f, data_seg(f, sent++, MSS));
	poll_all();
	CHECK_EQ(F.ncap, 0);
	F.now += 1500000;
	poll_all();
	CHECK_EQ(F.ncap, 1);
	CHECK_EQ(last_seg().ack, F.iss_peer + 1 + sent * MSS);
	/* 46 segments (66 KiB) over two bursts of one poll pass: one ACK, at
	 * once, when the second burst passes 64 KiB. */
	F.ncap = 0;
	for (int i = 0; i < 46; i++)
		nm_sim_inject(F.sim, f, data_seg(f, sent++, MSS));
	poll_all();
	CHECK_EQ(F.ncap, 1);
	CHECK_EQ(last_seg().ack, F.iss_peer + 1 + sent * MSS);
	nm_conn_abort(c);
	fx_teardown();
}

/* A segment of the stream at offset @off (bytes of the pattern there). */
static size_t seg_at(uint8_t *f, uint32_t off, uint32_t len, uint8_t flags, uint32_t tsval)
{
	static uint8_t pl[2048];
	uint8_t o[12];
	size_t ol = tf_ts_opts(o, tsval, 0);

	payload_fill(pl, len, off);
	return tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 1 + off, F.our_iss + 1,
		      flags, 502, o, ol, pl, len);
}

/* Read everything there is, check it against the pattern, give the
 * tokens back; returns the bytes read (-1 on a bad fragment). */
static long read_release(struct nm_conn *c, uint64_t *total)
{
	struct nm_frag fr[64];
	long got = 0;
	int n;

	while ((n = nm_conn_recv(c, fr, 64)) > 0)
		for (int i = 0; i < n; i++) {
			struct nm_token_range r = { fr[i].token, 1 };
			uint8_t want[2048];

			if (!fr[i].len || fr[i].len > sizeof(want) || fr[i].stream_off != *total)
				return -1;
			payload_fill(want, fr[i].len, (uint32_t)*total);
			if (memcmp(F.cpu + fr[i].offset, want, fr[i].len))
				return -1;
			*total += fr[i].len;
			got += fr[i].len;
			if (nm_conn_release_tokens(c, &r, 1, NULL) != 1)
				return -1;
		}
	return got;
}

/* Send full segments from stream offset *@off while the window we were
 * told has room for one; returns how many went. */
static uint32_t fill_window(uint32_t *off)
{
	uint8_t f[1600];
	uint32_t sent = 0;

	for (int i = 0; i < 300; i++) {
		struct tf_seg s;

		F.now += 50000000;  /* let delayed ACKs out */
		poll_all();
		s = last_seg();
		if (seq_after(F.iss_peer + 1 + *off + MSS, s.ack + ((uint32_t)s.win << 7)))
			break;
		inject(f, seg_at(f, *off, MSS, TF_ACK, ++F.tsval));
		*off += MSS;
		sent++;
	}
	return sent;
}

/* A FIN beyond a hole is kept and taken when the hole fills: the stream
 * ends, the FIN is acknowledged. */
static void test_fin_beyond_hole(void)
{
	struct nm_err err = { 0 };
	struct nm_frag fr[4];
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1600];
	uint64_t total = 0;

	CHECK_MSG(fx_setup(4, 0, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	inject(f, seg_at(f, MSS, MSS, TF_ACK | TF_FIN, ++F.tsval));
	s = last_seg();
	CHECK_EQ(s.ack, F.iss_peer + 1);          /* the hole: nothing in order */
	inject(f, seg_at(f, 0, MSS, TF_ACK, ++F.tsval));
	s = last_seg();
	CHECK_EQ(s.ack, F.iss_peer + 1 + 2 * MSS + 1);  /* data and FIN */
	CHECK_EQ(read_release(c, &total), 2 * MSS);
	CHECK_EQ(nm_conn_recv(c, fr, 4), 0);      /* end of stream */
	nm_conn_close(c);
	fx_teardown();
}

/* RFC 5961: a RST in the window but not at rcv_nxt gets a challenge ACK
 * and changes nothing; one at rcv_nxt resets. */
static void test_rst_in_window_challenged(void)
{
	struct nm_err err = { 0 };
	struct nm_tcp_counters ct;
	struct nm_conn_info ci;
	struct nm_frag fr[4];
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1600];
	uint64_t total = 0;

	CHECK_MSG(fx_setup(4, 0, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	inject(f, data_seg(f, 0, MSS));
	F.ncap = 0;
	inject(f, seg_at(f, MSS + 100, 0, TF_RST, ++F.tsval));
	s = last_seg();
	CHECK_EQ(F.ncap, 1);
	CHECK_EQ(s.flags, TF_ACK);
	CHECK_EQ(s.ack, F.iss_peer + 1 + MSS);
	nm_conn_get_info(c, &ci);
	CHECK(!strcmp(ci.state, "ESTABLISHED"));
	inject(f, data_seg(f, 1, MSS));
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.segs, 2);
	CHECK_EQ(ct.rst_rcvd, 0);
	inject(f, seg_at(f, 2 * MSS, 0, TF_RST, ++F.tsval));
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.rst_rcvd, 1);
	CHECK_EQ(read_release(c, &total), 2 * MSS);
	CHECK_EQ(nm_conn_recv(c, fr, 4), -ECONNRESET);
	nm_conn_close(c);
	fx_teardown();
}

/* PAWS (RFC 7323 5): a segment whose timestamp is older than TS.Recent
 * (by more than a reordering could make it, 250 ticks) is dropped and
 * answered with an ACK; the next current one is taken. */
static void test_paws(void)
{
	struct nm_err err = { 0 };
	struct nm_tcp_counters ct;
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1600];
	uint64_t total = 0;

	CHECK_MSG(fx_setup(4, 0, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	F.tsval += 100000;
	inject(f, seg_at(f, 0, MSS, TF_ACK, F.tsval));
	F.ncap = 0;
	inject(f, seg_at(f, MSS, MSS, TF_ACK, F.tsval - 1000));
	s = last_seg();
	CHECK_EQ(F.ncap, 1);
	CHECK_EQ(s.ack, F.iss_peer + 1 + MSS);
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.paws_rejected, 1);
	CHECK_EQ(ct.segs, 1);
	inject(f, seg_at(f, MSS, MSS, TF_ACK, F.tsval + 1));
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.segs, 2);
	CHECK_EQ(read_release(c, &total), 2 * MSS);
	nm_conn_abort(c);
	fx_teardown();
}

/* The right edge is where the stream stops: a FIN just past it is not
 * taken, a segment crossing it is cut there. (The edge is the stack's own,
 * rcv_nxt + rcv_wnd: the one told may be rounded down to the scale.) */
static void test_right_edge(void)
{
	struct nm_err err = { 0 };
	struct nm_conn_info ci;
	struct nm_frag fr[4];
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1800];
	uint32_t off = 0, adv, left;
	uint64_t total = 0;

	CHECK_MSG(fx_setup(4, 128, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	inject(f, seg_at(f, off, MSS, TF_ACK, ++F.tsval));
	off += MSS;
	CHECK(fill_window(&off) > 8);
	F.now += 50000000;
	poll_all();
	nm_conn_get_info(c, &ci);
	s = last_seg();
	CHECK_EQ(s.ack, F.iss_peer + 1 + off);
	CHECK(!seq_after(s.ack + ((uint32_t)s.win << 7), s.ack + ci.rcv_wnd));  /* told <= edge */
	/* A FIN alone at the edge: outside the window. */
	inject(f, seg_at(f, off + ci.rcv_wnd, 0, TF_ACK | TF_FIN, ++F.tsval));
	CHECK_EQ(last_seg().ack, F.iss_peer + 1 + off);
	nm_conn_get_info(c, &ci);
	left = ci.rcv_wnd;
	adv = F.iss_peer + 1 + off + left;
	CHECK_MSG(left > 0 && left <= MSS + 128, "%u bytes left in the window", left);
	/* One byte more than the window: the window's bytes taken, not it. */
	inject(f, seg_at(f, off, left + 1, TF_ACK, ++F.tsval));
	F.now += 50000000;
	poll_all();
	s = last_seg();
	CHECK_EQ(s.ack, adv);
	CHECK_EQ(read_release(c, &total), (long)(off + left));
	CHECK_EQ(nm_conn_recv(c, fr, 4), -EAGAIN);  /* no end of stream */
	nm_conn_abort(c);
	fx_teardown();
}

/* A held out-of-order segment that ends where an in-order one ends is
 * released when that one arrives, never handed out empty. */
static void test_ooo_covered_by_inorder(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1800];
	uint64_t total = 0;

	CHECK_MSG(fx_setup(4, 0, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	inject(f, seg_at(f, 1000, 500, TF_ACK, ++F.tsval));
	inject(f, seg_at(f, 0, 1500, TF_ACK, ++F.tsval));
	s = last_seg();
	CHECK_EQ(s.ack, F.iss_peer + 1 + 1500);
	CHECK_EQ(read_release(c, &total), 1500);   /* -1: an empty fragment */
	nm_conn_abort(c);
	fx_teardown();
}

/* Two connections on a queue: each gets half the budget, no more. */
static void test_share_two_conns(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa;
	struct nm_conn *a, *b;
	uint8_t f[1600];
	uint32_t off = 0, sent;

	/* Pool of 128: a budget of 64 buffers on queue 1. */
	CHECK_MSG(fx_setup(4, 128, 0, &err) == 0, "%s", err.msg);
	b = handshake(&sa);
	CHECK(b != NULL);
	F.sport++;
	a = handshake(&sa);
	CHECK(a != NULL);
	/* A's reader takes nothing: every segment holds a buffer, and each
	 * window A is told has room for at most its half less those. */
	inject(f, seg_at(f, off, MSS, TF_ACK, ++F.tsval));  /* the budget is learnt */
	off += MSS;
	for (sent = 1; sent < 64; sent++) {
		struct tf_seg s;
		uint32_t win;

		F.now += 50000000;
		poll_all();
		s = last_seg();
		win = (uint32_t)s.win << 7;
		CHECK_MSG(win <= (32 - sent) * MSS + 127,
			  "window %u with %u of the 32 buffers of A's share held", win, sent);
		if (seq_after(F.iss_peer + 1 + off + MSS, s.ack + win))
			break;
		inject(f, seg_at(f, off, MSS, TF_ACK, ++F.tsval));
		off += MSS;
	}
	CHECK_MSG(sent >= 24 && sent <= 32, "one of two connections took %u of 64 buffers", sent);
	nm_conn_abort(a);
	nm_conn_abort(b);
	fx_teardown();
}

/* Out-of-order segments replaced by one covering them give their buffers
 * back to the budget: the next connection on the queue gets as much. */
static void test_ooo_replaced_accounting(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa;
	struct nm_conn *c;
	uint8_t f[1600];
	uint32_t off, first, second;
	uint64_t total = 0;

	CHECK_MSG(fx_setup(4, 128, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	inject(f, seg_at(f, 0, MSS, TF_ACK, ++F.tsval));
	off = MSS;
	first = fill_window(&off);
	{
		long got = read_release(c, &total);

		CHECK_MSG(got == (long)off, "read %ld of %u (first %u)", got, off, first);
	}
	/* Two held, then one that covers both. */
	inject(f, seg_at(f, off + MSS + 10, 100, TF_ACK, ++F.tsval));
	inject(f, seg_at(f, off + MSS + 200, 100, TF_ACK, ++F.tsval));
	inject(f, seg_at(f, off + MSS, 600, TF_ACK, ++F.tsval));
	inject(f, seg_at(f, off, MSS, TF_ACK, ++F.tsval));
	off += MSS + 600;
	{
		long got = read_release(c, &total);
		struct nm_tcp_counters ct;

		nm_conn_counters(c, &ct);
		CHECK_MSG(total == off, "read %ld, %llu of %u; out_of_window %llu", got,
			  (unsigned long long)total, off, (unsigned long long)ct.out_of_window);
	}
	nm_conn_abort(c);
	/* A new connection alone on the queue: the same window as the first. */
	F.now += 5000000;
	poll_all();
	F.sport++;
	c = handshake(&sa);
	CHECK(c != NULL);
	total = 0;
	inject(f, seg_at(f, 0, MSS, TF_ACK, ++F.tsval));
	off = MSS;
	second = fill_window(&off);
	CHECK_MSG(second == first, "%u segments fit the second connection's window, %u the first's",
		  second, first);
	/* Two more connections fill the queue to its hard limit (3/4 of the
	 * pool of 128): a buffer the first one lost track of would show here. */
	{
		struct nm_conn *more[2];
		uint32_t held = 1 + second;

		for (int i = 0; i < 2; i++) {
			F.sport++;
			more[i] = handshake(&sa);
			CHECK(more[i] != NULL);
			off = 0;
			held += fill_window(&off);
		}
		CHECK_MSG(held == 96, "the connections hold %u buffers, the hard limit is 96", held);
		nm_conn_abort(more[0]);
		nm_conn_abort(more[1]);
	}
	nm_conn_abort(c);
	fx_teardown();
}

static const struct nm_test tests[] = {
	NM_TEST(test_steer_collision),
	NM_TEST(test_reassembly_fuzz),
	NM_TEST(test_handshake_options),
	NM_TEST(test_inorder_ooo_dup_sack),
	NM_TEST(test_ack_per_burst),
	NM_TEST(test_ack_coalescing),
	NM_TEST(test_bad_csum_and_tokens),
	NM_TEST(test_closed_port_rst_and_fin),
	NM_TEST(test_window_closes_and_reopens),
	NM_TEST(test_window_opens_for_the_other_conn),
	NM_TEST(test_neighbours_and_echo),
	NM_TEST(test_listen_refused_without_rx_csum),
	NM_TEST(test_no_verdict),
	NM_TEST(test_fin_beyond_hole),
	NM_TEST(test_rst_in_window_challenged),
	NM_TEST(test_paws),
	NM_TEST(test_right_edge),
	NM_TEST(test_ooo_covered_by_inorder),
	NM_TEST(test_share_two_conns),
	NM_TEST(test_ooo_replaced_accounting),
};

/* The ISS variants every test runs under; a test's ISS is in its name. */
static uint32_t iss_for(int variant, unsigned int *seed)
{
	uint32_t r = (uint32_t)rand_r(seed) << 16 ^ (uint32_t)rand_r(seed);

	switch (variant) {
	case 0:
		return 1000;
	case 1:
		return r;
	default:
		/* 2^32 - 1 - up to 3 segments: the first stream byte is at
		 * most 3 segments before the wrap. */
		return 0xffffffffu - r % (3 * MSS);
	}
}

int main(void)
{
	static const char *const vname[] = { "iss 1000", "random iss", "iss below 2^32" };
	const size_t nt = sizeof(tests) / sizeof(tests[0]);
	const char *env = getenv("NM_TEST_SEED");
	unsigned int seed = env ? (unsigned int)strtoul(env, NULL, 0) :
			    (unsigned int)time(NULL) ^ (unsigned int)getpid();
	int failures = 0, k = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", 3 * nt);
	printf("# seed %u (NM_TEST_SEED=%u repeats the random ISSs)\n", seed, seed);
	for (int v = 0; v < 3; v++)
		for (size_t i = 0; i < nt; i++) {
			test_iss = iss_for(v, &seed);
			nm_test_failed = 0;
			nm_test_skip_reason = NULL;
			tests[i].fn();
			k++;
			if (nm_test_failed) {
				printf("not ok %d - %s (%s 0x%08x)\n", k, tests[i].name, vname[v], test_iss);
				failures++;
			} else if (nm_test_skip_reason) {
				printf("ok %d - %s (%s 0x%08x) # SKIP %s\n", k, tests[i].name, vname[v],
				       test_iss, nm_test_skip_reason);
			} else {
				printf("ok %d - %s (%s 0x%08x)\n", k, tests[i].name, vname[v], test_iss);
			}
		}
	return failures ? 1 : 0;
}
