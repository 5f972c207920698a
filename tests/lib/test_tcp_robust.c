/* SPDX-License-Identifier: MIT */
/*
 * What a hostile or lossy network does to the receiver, frame by frame on
 * the software NIC: 1-byte segments charged a whole buffer each, a
 * reassembly queue as large as the window, D-SACK and SACK recency, PAWS
 * with reordering, RFC 6528 ISS, SYN floods, max_accept, keepalive, data
 * past FIN, steering given back. Each test fails on the stack as it was
 * before these rules (see docs/tcp.md, "Hostile peers").
 */
#include <netinet/in.h>

#include <netmem/netmem.h>
#include <netmem/pkt.h>
#include <netmem/sim.h>
#include <netmem/sim_port.h>
#include <netmem/tcp.h>

#include "nm_test.h"
#define TCP_FX_POLL_ROUNDS 64
#include "tcp_fx.h"

#define PORT   5201
#define MSS    1448

/* Software NIC of 4 queues, queue 1 bound to a memfd dmabuf of @mib MiB
 * (4 KiB buffers), the NIC's pools @pool buffers. */
static int fx_setup(uint32_t pool, uint32_t mib, const struct nm_stack_params *extra,
		    uint32_t max_accept, struct nm_err *err)
{
	static const uint8_t mac[6] = { 0x02, 0x6e, 0x6d, 0, 0, 0x0c };
	struct nm_sim_params sp = { .num_rx_queues = 4, .ring_size = 64,
				    .pool_size = pool, .no_hugepages = true };
	struct nm_stack_params p = { 0 };
	uint32_t q = 1;
	struct nm_listen_params lp = { .port = PORT, .queues = &q, .num_queues = 1,
				       .flags = NM_LISTEN_CPU_READABLE,
				       .max_accept = max_accept, .backlog = 64 };
	void *va;

	memset(&F, 0, sizeof(F));
	F.now = 1000000000ull;
	if (nm_sim_create(&sp, &F.sim, err))
		return -1;
	nm_sim_port_init(&F.sp, F.sim, mac, capture, &F);
	tf_peer_init(&F.peer, 4, mac);
	if (extra)
		p = *extra;
	p.port = &F.sp.port;
	nm_ip_addr_parse("169.254.0.11/16", 0, &p.addrs[0], NULL);
	p.num_addrs = 1;
	p.now_ns = fake_now;
	p.now_arg = &F;
	if (nm_stack_create(&p, &F.st, err))
		return -1;
	if (nm_dmabuf_create_memfd((size_t)mib << 20, &F.buf, err) ||
	    nm_dmabuf_binding_create(nm_sim_netdev(F.sim)->dma, F.buf, NULL, &F.b, err) ||
	    nm_dmabuf_cpu_map(F.buf, &va, err))
		return -1;
	F.cpu = va;
	lp.binding = F.b;
	F.sport = 40001;
	/* Right below the wrap: every stream here crosses 2^32. */
	F.iss_peer = 0xfffff000u;
	F.tsval = 5000;
	return nm_stack_listen(F.st, &lp, &F.l, err);
}

static void fx_teardown(void)
{
	nm_stack_destroy(F.st);
	nm_dmabuf_binding_unbind(F.b);
	nm_sim_destroy(F.sim);
	nm_dmabuf_put(F.buf);
}

static size_t syn(uint8_t *f)
{
	uint8_t o[40];
	size_t ol = tf_syn_opts(o, F.tsval);

	return tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer, 0, TF_SYN, 64240, o, ol,
		      NULL, 0);
}

/* SYN, SYN-ACK, ACK; the accepted connection or NULL. */
static struct nm_conn *handshake(struct tf_seg *synack)
{
	uint8_t f[256], o[40];
	size_t ol;
	struct nm_conn *c = NULL;

	F.ncap = 0;
	inject(f, syn(f));
	*synack = last_seg();
	if (!synack->ok || synack->flags != (TF_SYN | TF_ACK))
		return NULL;
	F.our_iss = synack->seq;
	ol = tf_ts_opts(o, ++F.tsval, synack->tsval);
	inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 1, F.our_iss + 1,
			 TF_ACK, 502, o, ol, NULL, 0));
	nm_listener_accept(F.l, &c);
	return c;
}

static uint8_t pattern(uint32_t stream_off)
{
	return (uint8_t)(stream_off * 7 + 3);
}

/* @len bytes at stream offset @off (flags ACK|PSH and @extra). */
static size_t data_at(uint8_t *f, uint32_t off, uint32_t len, uint8_t extra,
		      uint32_t tsval)
{
	uint8_t pl[MSS], o[12];
	size_t ol = tf_ts_opts(o, tsval, 0);

	for (uint32_t i = 0; i < len; i++)
		pl[i] = pattern(off + i);
	return tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 1 + off, F.our_iss + 1,
		      TF_ACK | TF_PSH | extra, 502, o, ol, pl, len);
}

/* Read and check everything the connection has; returns the bytes. */
static uint64_t drain_check(struct nm_conn *c, uint64_t *bad)
{
	struct nm_frag fr[64];
	uint64_t got = 0;
	int n;

	while ((n = nm_conn_recv(c, fr, 64)) > 0)
		for (int i = 0; i < n; i++) {
			const uint8_t *p = fr[i].flags & NM_FRAG_LINEAR ?
					   fr[i].data : F.cpu + fr[i].offset;
			struct nm_token_range r = { fr[i].token, 1 };

			for (uint32_t k = 0; k < fr[i].len; k++)
				if (p[k] != pattern((uint32_t)fr[i].stream_off + k))
					(*bad)++;
			got += fr[i].len;
			nm_conn_release_tokens(c, &r, 1, NULL);
		}
	return got;
}

static uint32_t window_of(const struct tf_seg *s)
{
	return (uint32_t)s->win << 7;
}

/* A peer sending 1-byte segments that nobody reads holds at most its
 * share of buffers (the window counts bytes, a segment costs a buffer);
 * a second connection on the queue still gets a window and its data. */
static void test_tiny_segments_charged(void)
{
	struct nm_err err = { 0 };
	struct nm_tcp_counters ct;
	struct tf_seg sa, s;
	struct nm_conn *a, *b;
	uint8_t f[1600];
	uint64_t bad = 0;

	/* Pool of 128: a budget of 64 buffers on queue 1. */
	CHECK_MSG(fx_setup(128, 4, NULL, 0, &err) == 0, "%s", err.msg);
	a = handshake(&sa);
	CHECK(a != NULL);
	for (uint32_t i = 0; i < 400; i++)
		inject(f, data_at(f, i, 1, 0, ++F.tsval));
	nm_conn_counters(a, &ct);
	CHECK_MSG(ct.segs <= 56, "a 1-byte peer holds %llu buffers of 64",
		  (unsigned long long)ct.segs);
	CHECK(ct.over_share > 0);
	/* A newcomer on the same queue. */
	F.sport++;
	F.iss_peer = 0x100;
	b = handshake(&sa);
	CHECK(b != NULL);
	CHECK_MSG(window_of(&sa) >= 4 * MSS || sa.win >= 4 * MSS,
		  "the newcomer's SYN-ACK window is %u", sa.win);
	for (uint32_t i = 0; i < 8; i++)
		inject(f, data_at(f, i * MSS, MSS, 0, ++F.tsval));
	s = last_seg();
	CHECK_EQ(s.ack, F.iss_peer + 1 + 8 * MSS);
	CHECK_EQ(drain_check(b, &bad), 8 * MSS);
	CHECK_EQ(bad, 0);
	nm_conn_abort(a);
	nm_conn_abort(b);
	fx_teardown();
}

/* One segment lost from a large window: the rest (more than the 256 the
 * old queue held) is kept, the hole fills, every byte lands in order. */
static void test_reassembly_holds_the_window(void)
{
	struct nm_err err = { 0 };
	struct nm_tcp_counters ct;
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1600];
	uint64_t bad = 0;
	const uint32_t n = 700;

	CHECK_MSG(fx_setup(4096, 16, NULL, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	/* Let the window grow to what the budget gives. */
	inject(f, data_at(f, 0, MSS, 0, ++F.tsval));
	F.now += 50000000;
	poll_all();
	CHECK_EQ(drain_check(c, &bad), MSS);
	{
		struct nm_conn_info ci;

		nm_conn_get_info(c, &ci);
		CHECK_MSG(ci.rcv_wnd >= (n + 2) * MSS, "window %u", ci.rcv_wnd);
	}
	/* Segment 1 lost; 2..n arrive. */
	for (uint32_t i = 2; i <= n; i++) {
		F.ncap = 0;
		inject(f, data_at(f, i * MSS, MSS, 0, ++F.tsval));
	}
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.ooo_queue_full, 0);
	CHECK_EQ(ct.ooo, n - 1);
	s = last_seg();
	CHECK_EQ(s.ack, F.iss_peer + 1 + MSS);
	CHECK_EQ(s.nsack, 1);
	CHECK_EQ(s.sack[0][0], F.iss_peer + 1 + 2 * MSS);
	CHECK_EQ(s.sack[0][1], F.iss_peer + 1 + (n + 1) * MSS);
	inject(f, data_at(f, MSS, MSS, 0, ++F.tsval));
	s = last_seg();
	CHECK_EQ(s.ack, F.iss_peer + 1 + (n + 1) * MSS);
	CHECK_EQ(s.nsack, 0);
	CHECK_EQ(drain_check(c, &bad), (uint64_t)n * MSS);
	CHECK_EQ(bad, 0);
	nm_conn_abort(c);
	fx_teardown();
}

/* Duplicates are reported (RFC 2883) as the first SACK block, once; SACK
 * blocks are merged runs, the most recently changed first. */
static void test_dsack_and_sack_order(void)
{
	struct nm_err err = { 0 };
	struct nm_tcp_counters ct;
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1600];
	uint32_t base;

	CHECK_MSG(fx_setup(0, 4, NULL, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	base = F.iss_peer + 1;
	inject(f, data_at(f, 0, MSS, 0, ++F.tsval));
	/* The same segment again: a D-SACK for it, below the ACK. */
	F.ncap = 0;
	inject(f, data_at(f, 0, MSS, 0, ++F.tsval));
	s = last_seg();
	CHECK_EQ(s.ack, base + MSS);
	CHECK_EQ(s.nsack, 1);
	CHECK_EQ(s.sack[0][0], base);
	CHECK_EQ(s.sack[0][1], base + MSS);
	/* Holes: 2, 4, 6 held (1, 3, 5 missing). */
	inject(f, data_at(f, 2 * MSS, MSS, 0, ++F.tsval));
	inject(f, data_at(f, 4 * MSS, MSS, 0, ++F.tsval));
	inject(f, data_at(f, 6 * MSS, MSS, 0, ++F.tsval));
	s = last_seg();
	CHECK_EQ(s.nsack, 3);
	CHECK_EQ(s.sack[0][0], base + 6 * MSS);
	CHECK_EQ(s.sack[1][0], base + 4 * MSS);
	CHECK_EQ(s.sack[2][0], base + 2 * MSS);
	/* 3 arrives: 2-4 merge into one block, now the most recent. */
	inject(f, data_at(f, 3 * MSS, MSS, 0, ++F.tsval));
	s = last_seg();
	CHECK_EQ(s.nsack, 2);
	CHECK_EQ(s.sack[0][0], base + 2 * MSS);
	CHECK_EQ(s.sack[0][1], base + 5 * MSS);
	CHECK_EQ(s.sack[1][0], base + 6 * MSS);
	/* 4 again: D-SACK first, then the block that holds it. */
	inject(f, data_at(f, 4 * MSS, MSS, 0, ++F.tsval));
	s = last_seg();
	CHECK_EQ(s.nsack, 3);
	CHECK_EQ(s.sack[0][0], base + 4 * MSS);
	CHECK_EQ(s.sack[0][1], base + 5 * MSS);
	CHECK_EQ(s.sack[1][0], base + 2 * MSS);
	CHECK_EQ(s.sack[1][1], base + 5 * MSS);
	/* A segment from inside hole 5 into 6: trimmed at its back to where 6
	 * starts, so the run is one block, no gap. */
	inject(f, data_at(f, 5 * MSS + MSS / 2, MSS, 0, ++F.tsval));
	s = last_seg();
	CHECK_EQ(s.sack[0][0], base + 5 * MSS + MSS / 2);
	CHECK_EQ(s.sack[0][1], base + 7 * MSS);
	/* The next ACK has no D-SACK any more. */
	inject(f, data_at(f, 8 * MSS, MSS, 0, ++F.tsval));
	s = last_seg();
	CHECK(s.sack[0][0] != base + 4 * MSS);
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.dsacks_sent, 2);
	nm_conn_abort(c);
	fx_teardown();
}

/* Three peers, one after the other, hold the queue's hard limit with
 * 1-byte segments past a hole they never fill (each took the share it had
 * when it came); a fourth connection finds a zero window. Once they have
 * made no progress for a while, their out-of-order buffers (never
 * acknowledged) go back down to their shares, and the fourth one's stream
 * flows. */
static void test_ooo_hoarders_pruned(void)
{
	struct nm_err err = { 0 };
	struct nm_tcp_counters ct;
	struct tf_seg sa, s;
	struct nm_conn *h[3], *e;
	uint8_t f[1600];
	uint64_t bad = 0, pruned = 0;

	/* Pool of 128: a budget of 64 buffers, a hard limit of 96. */
	CHECK_MSG(fx_setup(128, 4, NULL, 0, &err) == 0, "%s", err.msg);
	for (int i = 0; i < 3; i++) {
		F.sport = (uint16_t)(41000 + i);
		h[i] = handshake(&sa);
		CHECK(h[i] != NULL);
		for (uint32_t k = 0; k < 60; k++)
			inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 100 + 2 * k,
					 F.our_iss + 1, TF_ACK | TF_PSH, 502, NULL, 0,
					 (const uint8_t *)"x", 1));
	}
	F.sport = 42000;
	F.iss_peer = 0x2000;
	e = handshake(&sa);
	CHECK(e != NULL);
	CHECK_MSG(sa.win < 2 * MSS, "the hoarders left a window of %u", sa.win);
	F.now += 300000000ull;
	poll_all();
	F.now += 2000000ull;
	poll_all();
	for (uint32_t i = 0; i < 8; i++) {
		F.ncap = 0;
		inject(f, data_at(f, i * MSS, MSS, 0, ++F.tsval));
		s = last_seg();
	}
	CHECK_EQ(s.ack, F.iss_peer + 1 + 8 * MSS);
	CHECK_EQ(drain_check(e, &bad), 8 * MSS);
	CHECK_EQ(bad, 0);
	for (int i = 0; i < 3; i++) {
		nm_conn_counters(h[i], &ct);
		pruned += ct.ooo_pruned;
		nm_conn_abort(h[i]);
	}
	CHECK(pruned > 0);
	nm_conn_abort(e);
	fx_teardown();
}

/* A retransmission fills the hole with a newer timestamp; original
 * segments it overtook still arrive, older: they are new data, not stale
 * duplicates (PAWS), and are taken. A real duplicate with an old stamp is
 * refused and reported. */
static void test_paws_with_reordering(void)
{
	struct nm_err err = { 0 };
	struct nm_tcp_counters ct;
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1600];
	uint64_t bad = 0;
	uint32_t t0;

	CHECK_MSG(fx_setup(0, 4, NULL, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	t0 = F.tsval;
	inject(f, data_at(f, 0, MSS, 0, t0 + 1));
	inject(f, data_at(f, 2 * MSS, MSS, 0, t0 + 1));   /* 1 is late */
	inject(f, data_at(f, MSS, MSS, 0, t0 + 20));      /* its retransmit */
	inject(f, data_at(f, 3 * MSS, MSS, 0, t0 + 2));   /* overtaken originals */
	inject(f, data_at(f, 4 * MSS, MSS, 0, t0 + 2));
	s = last_seg();
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.paws_rejected, 0);
	F.now += 50000000;
	poll_all();
	CHECK_EQ(last_seg().ack, F.iss_peer + 1 + 5 * MSS);
	/* The late original of 1 (old stamp, nothing new): PAWS, D-SACK. */
	F.ncap = 0;
	inject(f, data_at(f, MSS, MSS, 0, t0 + 1));
	s = last_seg();
	nm_conn_counters(c, &ct);
	CHECK(ct.paws_rejected + ct.dup == 1);
	CHECK_EQ(s.nsack, 1);
	CHECK_EQ(s.sack[0][0], F.iss_peer + 1 + MSS);
	CHECK_EQ(drain_check(c, &bad), 5 * MSS);
	CHECK_EQ(bad, 0);
	nm_conn_abort(c);
	fx_teardown();
}

/* RFC 6528: the ISS is a keyed hash of the 4-tuple plus a 4 us clock;
 * one SYN-ACK tells nothing of another tuple's, a second stack has
 * another key, and the timestamp offset is independent of the ISS. */
static void test_iss_rfc6528(void)
{
	struct nm_err err = { 0 };
	struct tf_seg s1, s2, s3, s4;
	uint8_t f[256], rst[256];
	uint32_t first;

	CHECK_MSG(fx_setup(0, 4, NULL, 0, &err) == 0, "%s", err.msg);
	F.ncap = 0;
	inject(f, syn(f));
	s1 = last_seg();
	CHECK(s1.ok);
	/* Give the tuple back (RST), advance the clock by 4 ms, ask again. */
	inject(rst, tf_tcp(&F.peer, rst, F.sport, PORT, F.iss_peer + 1, 0, TF_RST, 0,
			   NULL, 0, NULL, 0));
	F.now += 4000000;
	poll_all();
	inject(f, syn(f));
	s2 = last_seg();
	CHECK_EQ(s2.seq - s1.seq, 1000);   /* the same tuple: only M moved */
	/* The next port: unrelated (a counter or xorshift would be close). */
	F.sport++;
	inject(f, syn(f));
	s3 = last_seg();
	CHECK(s3.seq - s2.seq > 100000 && s2.seq - s3.seq > 100000);
	/* The timestamp offset is not the ISS. */
	CHECK(s3.tsval - s2.tsval != s3.seq - s2.seq);
	first = s1.seq;
	fx_teardown();
	/* Another stack, the same tuple and clock: another key. */
	CHECK_MSG(fx_setup(0, 4, NULL, 0, &err) == 0, "%s", err.msg);
	F.ncap = 0;
	inject(f, syn(f));
	s4 = last_seg();
	CHECK(s4.ok);
	CHECK(s4.seq != first);
	fx_teardown();
}

/* 1500 SYNs from spoofed sources (more than the 1024 half-open places)
 * never lock a real client out: the oldest half-open connections are
 * evicted, the client is served at once. A flood does not shrink an
 * established connection's window either. */
static void test_syn_flood(void)
{
	struct nm_err err = { 0 };
	struct nm_stack_counters sc;
	struct nm_conn_info ci0, ci1;
	struct tf_seg sa;
	struct nm_conn *est, *c;
	uint8_t f[256];
	struct tf_peer real;

	CHECK_MSG(fx_setup(0, 4, NULL, 0, &err) == 0, "%s", err.msg);
	est = handshake(&sa);
	CHECK(est != NULL);
	nm_conn_get_info(est, &ci0);
	real = F.peer;
	for (uint32_t i = 0; i < 1500; i++) {
		F.peer.ip[2] = (uint8_t)(i >> 8);
		F.peer.ip[3] = (uint8_t)(i + 20);
		F.sport = (uint16_t)(1024 + i);
		nm_sim_inject(F.sim, f, syn(f));
		if (i % 16 == 15)
			poll_all();
	}
	poll_all();
	F.now += 2000000;
	poll_all();
	nm_stack_counters(F.st, &sc);
	CHECK_MSG(sc.syn_evicted >= 1500 - 1024, "evicted %llu",
		  (unsigned long long)sc.syn_evicted);
	/* The established connection's window is untouched by the flood. */
	nm_conn_get_info(est, &ci1);
	CHECK_EQ(ci1.rcv_wnd, ci0.rcv_wnd);
	/* A real client right after. */
	F.peer = real;
	F.sport = 50000;
	F.iss_peer = 777;
	c = handshake(&sa);
	CHECK_MSG(c != NULL, "no SYN-ACK after the flood");
	nm_conn_abort(c);
	nm_conn_abort(est);
	fx_teardown();
}

/* max_accept: a connection past what the application takes is refused
 * with a RST before anything of it is acknowledged; half-open ones (a
 * flood) do not take a real client's place. */
static void test_max_accept(void)
{
	struct nm_err err = { 0 };
	struct nm_stack_counters sc;
	struct tf_seg sa, s;
	struct nm_conn *c1, *c2;
	struct tf_peer real;
	uint8_t f[256];

	CHECK_MSG(fx_setup(0, 4, NULL, 2, &err) == 0, "%s", err.msg);
	c1 = handshake(&sa);
	CHECK(c1 != NULL);
	real = F.peer;
	for (uint32_t i = 0; i < 50; i++) {
		F.peer.ip[3] = (uint8_t)(100 + i);
		F.sport = (uint16_t)(2000 + i);
		inject(f, syn(f));
	}
	F.peer = real;
	F.sport = 45000;
	c2 = handshake(&sa);
	CHECK_MSG(c2 != NULL, "a flood of half-open connections took the last place");
	F.sport++;
	F.ncap = 0;
	inject(f, syn(f));
	s = last_seg();
	CHECK(s.ok);
	CHECK_EQ(s.flags & TF_RST, TF_RST);
	nm_stack_counters(F.st, &sc);
	CHECK_EQ(sc.syn_over_limit, 1);
	nm_conn_abort(c1);
	nm_conn_abort(c2);
	fx_teardown();
}

/* A silent peer is probed after keepalive_ms, then reset after the
 * probes; its buffers come back. An answer resets the count. */
static void test_keepalive(void)
{
	struct nm_err err = { 0 };
	struct nm_stack_params sp = { .keepalive_ms = 1000, .keepalive_probes = 2 };
	struct nm_tcp_counters ct;
	struct tf_seg sa, s;
	struct nm_conn *c;
	struct nm_frag fr[4];
	uint8_t f[1600];

	CHECK_MSG(fx_setup(0, 4, &sp, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	inject(f, data_at(f, 2 * MSS, MSS, 0, ++F.tsval));  /* held out of order */
	F.ncap = 0;
	F.now += 1001000000ull;
	poll_all();
	s = last_seg();
	CHECK(s.ok);
	CHECK_EQ(s.seq, F.our_iss);  /* one byte behind */
	/* The peer answers: the count starts again. */
	inject(f, tf_tcp(&F.peer, f, F.sport, PORT, F.iss_peer + 1, F.our_iss + 1,
			 TF_ACK, 502, NULL, 0, NULL, 0));
	F.now += 1001000000ull;
	poll_all();
	F.now += 101000000ull;
	poll_all();
	F.now += 101000000ull;
	poll_all();
	nm_conn_counters(c, &ct);
	CHECK_EQ(ct.keepalives_sent, 3);
	CHECK_EQ(ct.idle_resets, 1);
	CHECK_EQ(nm_conn_recv(c, fr, 4), -ECONNRESET);
	nm_conn_close(c);
	fx_teardown();
}

/* Nothing exists past the peer's FIN: data beyond it, queued or late,
 * is dropped and counted; the stream ends exactly at the FIN. */
static void test_data_past_fin(void)
{
	struct nm_err err = { 0 };
	struct nm_tcp_counters ct;
	struct tf_seg sa;
	struct nm_conn *c;
	struct nm_frag fr[4];
	uint8_t f[1600];
	uint64_t bad = 0;

	CHECK_MSG(fx_setup(0, 4, NULL, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	inject(f, data_at(f, 4 * MSS, MSS, 0, ++F.tsval));         /* past the FIN */
	inject(f, data_at(f, 2 * MSS, 100, TF_FIN, ++F.tsval));    /* FIN at 2*MSS+100 */
	inject(f, data_at(f, 3 * MSS, MSS, 0, ++F.tsval));         /* past it again */
	inject(f, data_at(f, MSS, MSS, 0, ++F.tsval));
	inject(f, data_at(f, 0, MSS, 0, ++F.tsval));
	CHECK_EQ(drain_check(c, &bad), 2 * MSS + 100);
	CHECK_EQ(bad, 0);
	CHECK_EQ(nm_conn_recv(c, fr, 4), 0);
	nm_conn_counters(c, &ct);
	CHECK(ct.past_fin >= 2);
	nm_conn_close(c);
	fx_teardown();
}

static uint32_t slot_of(const struct tf_peer *p, uint16_t sport)
{
	uint8_t f[256];
	struct nm_pkt_info pi;
	size_t len = tf_tcp(p, f, sport, PORT, 1, 0, TF_SYN, 1, NULL, 0, NULL, 0);

	nm_pkt_parse(f, len, &pi);
	return pi.flow_hash % NM_SIM_FLOW_SLOTS;
}

/* Every slot of the NIC's flow table takes a new flow: none leaked. */
static unsigned int free_flow_slots(void)
{
	struct tf_peer probe = F.peer;
	bool seen[NM_SIM_FLOW_SLOTS] = { false };
	unsigned int ok = 0;

	probe.ip[3] = 99;
	for (uint32_t sp = 1024; sp < 60000; sp++) {
		uint32_t slot = slot_of(&probe, (uint16_t)sp);
		struct nm_flow fl = { .ipver = 4, .l4proto = 6,
				      .src_port = (uint16_t)sp, .dst_port = PORT };

		if (seen[slot])
			continue;
		seen[slot] = true;
		memcpy(fl.src_mac, probe.mac, 6);
		memcpy(fl.dst_mac, probe.our_mac, 6);
		memcpy(fl.src_ip, probe.ip, 4);
		memcpy(fl.dst_ip, probe.our_ip, 4);
		if (nm_sim_steer_flow(F.sim, &fl, 2) == 0) {
			ok++;
			nm_sim_unsteer_flow(F.sim, &fl);
		}
	}
	return ok;
}

/* Every steering entry a connection took is given back when it ends or
 * is refused: with the table of connections full, 100 more SYNs (refused)
 * and the connections' end leave every flow slot of the NIC free. */
static void test_steering_given_back(void)
{
	struct nm_err err = { 0 };
	struct nm_stack_params sp = { .max_conns = 8 };
	struct nm_stack_counters sc;
	struct nm_conn *c[8];
	struct tf_seg sa;
	uint8_t f[256];

	CHECK_MSG(fx_setup(0, 4, &sp, 0, &err) == 0, "%s", err.msg);
	for (uint32_t i = 0; i < 8; i++) {
		F.sport = (uint16_t)(20000 + i);
		c[i] = handshake(&sa);
		CHECK(c[i] != NULL);
	}
	for (uint32_t i = 0; i < 100; i++) {
		F.sport = (uint16_t)(30000 + i);
		inject(f, syn(f));
	}
	nm_stack_counters(F.st, &sc);
	CHECK_EQ(sc.conns_refused, 100);
	for (uint32_t i = 0; i < 8; i++)
		nm_conn_abort(c[i]);
	F.now += 2000000;
	poll_all();
	CHECK_EQ(free_flow_slots(), NM_SIM_FLOW_SLOTS);
	fx_teardown();
}

/* How many valid TCP segments the stack sent since F.ncap was cleared. */
static unsigned int segs_sent(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < F.ncap; i++)
		n += tf_parse(F.cap[i], F.caplen[i]).ok;
	return n;
}

/* Segments behind a hole that come in one poll burst get one ACK, with
 * the SACK block as it stands after the last of them (the burst is our
 * GRO: an ACK per segment costs a TX each and stretched the recoveries
 * it reports); the segment that fills the hole and what follows it in
 * the same burst get one more. A lone out-of-order segment is still
 * ACKed in its own burst, not after the delayed-ACK timer. */
static void test_ooo_acked_per_burst(void)
{
	struct nm_err err = { 0 };
	struct tf_seg sa, s;
	struct nm_conn *c;
	uint8_t f[1600];
	uint64_t bad = 0;
	uint32_t base;

	CHECK_MSG(fx_setup(0, 4, NULL, 0, &err) == 0, "%s", err.msg);
	c = handshake(&sa);
	CHECK(c != NULL);
	base = F.iss_peer + 1;
	inject(f, data_at(f, 0, MSS, 0, ++F.tsval));
	/* Segment 1 lost; 2..9 in one burst. */
	F.ncap = 0;
	for (uint32_t i = 2; i <= 9; i++)
		nm_sim_inject(F.sim, f, data_at(f, i * MSS, MSS, 0, ++F.tsval));
	poll_all();
	CHECK_EQ(segs_sent(), 1);
	s = last_seg();
	CHECK_EQ(s.ack, base + MSS);
	CHECK_EQ(s.nsack, 1);
	CHECK_EQ(s.sack[0][0], base + 2 * MSS);
	CHECK_EQ(s.sack[0][1], base + 10 * MSS);
	/* A lone one: its own ACK at once, no timer pass. */
	F.ncap = 0;
	inject(f, data_at(f, 11 * MSS, MSS, 0, ++F.tsval));
	CHECK_EQ(segs_sent(), 1);
	s = last_seg();
	CHECK_EQ(s.nsack, 2);
	CHECK_EQ(s.sack[0][0], base + 11 * MSS);
	/* The retransmission of 1 and of 10, then 12, in one burst. */
	F.ncap = 0;
	nm_sim_inject(F.sim, f, data_at(f, MSS, MSS, 0, ++F.tsval));
	nm_sim_inject(F.sim, f, data_at(f, 10 * MSS, MSS, 0, ++F.tsval));
	nm_sim_inject(F.sim, f, data_at(f, 12 * MSS, MSS, 0, ++F.tsval));
	poll_all();
	CHECK_EQ(segs_sent(), 1);
	s = last_seg();
	CHECK_EQ(s.ack, base + 13 * MSS);
	CHECK_EQ(s.nsack, 0);
	CHECK_EQ(drain_check(c, &bad), 13 * MSS);
	CHECK_EQ(bad, 0);
	nm_conn_abort(c);
	fx_teardown();
}

int main(void)
{
	static const struct nm_test tests[] = {
		NM_TEST(test_tiny_segments_charged),
		NM_TEST(test_reassembly_holds_the_window),
		NM_TEST(test_dsack_and_sack_order),
		NM_TEST(test_ooo_acked_per_burst),
		NM_TEST(test_paws_with_reordering),
		NM_TEST(test_ooo_hoarders_pruned),
		NM_TEST(test_iss_rfc6528),
		NM_TEST(test_syn_flood),
		NM_TEST(test_max_accept),
		NM_TEST(test_keepalive),
		NM_TEST(test_data_past_fin),
		NM_TEST(test_steering_given_back),
	};

	return nm_test_run(tests, sizeof(tests) / sizeof(tests[0]));
}
