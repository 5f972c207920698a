/* SPDX-License-Identifier: MIT */
/* The software NIC itself: steering, split, drops, ring and pool limits. */
#include <netmem/netmem.h>
#include <netmem/sim.h>

#include "nm_test.h"
#include "sim_flow.h"

static struct nm_sim *make_sim(uint32_t nq, uint32_t ring)
{
	struct nm_sim_params sp = { .num_rx_queues = nq, .ring_size = ring,
				    .no_hugepages = true };
	struct nm_sim *sim = NULL;

	nm_sim_create(&sp, &sim, NULL);
	return sim;
}

static void test_bad_params(void)
{
	struct nm_sim_params sp = { .ring_size = 100 };
	struct nm_sim *sim = NULL;
	struct nm_err err = { 0 };

	CHECK_EQ(nm_sim_create(&sp, &sim, &err), -EINVAL);
	CHECK(strstr(err.msg, "power of two") != NULL);
	sp = (struct nm_sim_params){ .num_rx_queues = 65 };
	CHECK_EQ(nm_sim_create(&sp, &sim, &err), -EINVAL);
	sp = (struct nm_sim_params){ .ring_size = 64, .pool_size = 32 };
	CHECK_EQ(nm_sim_create(&sp, &sim, &err), -EINVAL);
	CHECK(sim == NULL);
}

static void test_steering_rules_and_spreading(void)
{
	struct nm_sim *sim = make_sim(4, 64);
	struct test_flow a, b;
	struct nm_sim_rxq_stats st;
	uint64_t total = 0;
	int hit[4] = { 0 };

	CHECK(sim != NULL);
	test_flow_init(&a, "udp4", 9000, 100);
	test_flow_init(&b, "tcp6", 9001, 100);
	CHECK_EQ(nm_sim_steer(sim, &a.flow, 2), 0);
	CHECK_EQ(nm_sim_steer(sim, &b.flow, 1), 0);
	CHECK_EQ(nm_sim_steer(sim, &b.flow, 9), -EINVAL);
	CHECK_EQ(test_flow_send(sim, &a, 10), 10);
	CHECK_EQ(test_flow_send(sim, &b, 10), 10);
	CHECK_EQ(test_flow_recv(sim, 2, &a, NULL, NULL, 0), 10);
	CHECK_EQ(test_flow_recv(sim, 1, &b, NULL, NULL, 0), 10);
	CHECK_EQ(a.mismatches + b.mismatches + a.hdr_mismatches + b.hdr_mismatches, 0);
	/* Unsteered flows spread by hash over every queue. */
	for (uint16_t port = 1; port <= 200; port++) {
		struct test_flow f;
		int q;
		uint8_t frame[200], pl[10] = { 0 };

		test_flow_init(&f, "udp6", port, 10);
		nm_pkt_build(frame, sizeof(frame), &f.flow, 0, pl, sizeof(pl));
		q = nm_sim_inject(sim, frame, nm_pkt_hdr_len(&f.flow) + 10);
		CHECK(q >= 0 && q < 4);
		hit[q]++;
	}
	for (int q = 0; q < 4; q++) {
		CHECK_MSG(hit[q] > 20, "queue %d got %d of 200", q, hit[q]);
		nm_sim_rxq_stats(sim, (uint32_t)q, &st);
		total += st.packets;
	}
	CHECK_EQ(total, 220);
	nm_sim_destroy(sim);
}

static void test_queue_without_header_split_gets_whole_frame(void)
{
	struct nm_sim *sim = make_sim(2, 64);
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct test_flow tf;
	struct nm_sim_rxq_stats st;

	CHECK_EQ(nm_sim_set_queue_caps(sim, 1, NM_RXQ_CAP_RESTART), 0);
	/* Caps take effect when the queue's memory is next built. */
	CHECK_EQ(nm_rxq_restart(dev, 1, NULL, NULL), 0);
	test_flow_init(&tf, "tcp4", 9100, 1200);
	CHECK_EQ(nm_sim_steer(sim, &tf.flow, 1), 0);
	CHECK_EQ(test_flow_send(sim, &tf, 25), 25);
	CHECK_EQ(test_flow_recv(sim, 1, &tf, NULL, NULL, 0), 25);
	CHECK_EQ(tf.unsplit_pkts, 25);
	CHECK_EQ(tf.split_pkts, 0);
	CHECK_EQ(tf.mismatches, 0);
	nm_sim_rxq_stats(sim, 1, &st);
	CHECK_EQ(st.hdr_bytes, 0);
	CHECK_EQ(st.split, 0);
	nm_sim_destroy(sim);
}

/*
 * A frame in two pieces (the TAP's rewritten headers, then a TSO frame's
 * payload), cut at every offset from the header end on, lands as the whole
 * frame would, split or not; the wire's verdict is reported as given, the
 * queue's own check only for a whole frame (-EINVAL else, nothing taken).
 */
static void test_inject_in_two_pieces_with_the_wires_verdict(void)
{
	struct nm_sim *sim = make_sim(2, 64);
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct test_flow tf;
	uint8_t frame[1600], pl[1400];
	struct nm_rx_pkt pk[4];
	struct nm_pkt_info pi;
	uint32_t hlen;
	int len;

	CHECK(sim != NULL);
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7 + 3);
	test_flow_init(&tf, "tcp4", 9300, sizeof(pl));
	CHECK_EQ(nm_sim_steer(sim, &tf.flow, 1), 0);
	len = nm_pkt_build(frame, sizeof(frame), &tf.flow, 0, pl, sizeof(pl));
	CHECK(len > 0);
	CHECK_EQ(nm_pkt_parse(frame, (size_t)len, &pi), 0);
	hlen = pi.hdr_len;
	for (int pass = 0; pass < 2; pass++) {
		if (pass) {  /* the same without header split */
			CHECK_EQ(nm_sim_set_queue_caps(sim, 1, NM_RXQ_CAP_RESTART |
						       NM_RXQ_CAP_RX_CSUM), 0);
			CHECK_EQ(nm_rxq_restart(dev, 1, NULL, NULL), 0);
		}
		for (int cut = (int)hlen; cut < (int)hlen + 40; cut++) {
			const uint8_t *h, *b;

			CHECK_EQ(nm_sim_inject2(sim, frame, (size_t)cut, frame + cut,
						(size_t)len - (size_t)cut, NM_RX_PKT_L4_CSUM_GOOD), 1);
			CHECK_EQ(nm_sim_rx_burst(sim, 1, pk, 4), 1);
			CHECK_EQ(pk[0].flags & NM_RX_PKT_L4_CSUM_GOOD, NM_RX_PKT_L4_CSUM_GOOD);
			CHECK_EQ(pk[0].hdr_len + pk[0].payload_len, (uint32_t)len);
			h = pk[0].hdr ? nm_netmem_address(pk[0].hdr) : NULL;
			b = nm_netmem_address(pk[0].payload);
			CHECK_EQ(pk[0].hdr_len, pass ? 0 : hlen);
			CHECK(!h || memcmp(h, frame, pk[0].hdr_len) == 0);
			CHECK(memcmp(b, frame + pk[0].hdr_len, pk[0].payload_len) == 0);
			nm_netmem_put(pk[0].payload);
			if (pk[0].hdr)
				nm_netmem_put(pk[0].hdr);
		}
	}
	/* The queue's own check reads a whole frame only. */
	CHECK_EQ(nm_sim_inject2(sim, frame, 60, frame + 60, (size_t)len - 60, -1), -EINVAL);
	CHECK_EQ(nm_sim_rx_waiting(sim, 1), 0);
	CHECK_EQ(nm_sim_inject2(sim, frame, (size_t)len, NULL, 0, -1), 1);
	CHECK_EQ(nm_sim_rx_waiting(sim, 1), 1);
	CHECK_EQ(nm_sim_rx_burst(sim, 1, pk, 4), 1);
	CHECK_EQ(pk[0].flags & NM_RX_PKT_L4_CSUM_GOOD, NM_RX_PKT_L4_CSUM_GOOD);
	nm_netmem_put(pk[0].payload);
	/* A wrong checksum is the queue's BAD; the wire's word is taken as given. */
	frame[len - 1] ^= 1;
	CHECK_EQ(nm_sim_inject2(sim, frame, (size_t)len, NULL, 0, -1), 1);
	CHECK_EQ(nm_sim_rx_burst(sim, 1, pk, 4), 1);
	CHECK_EQ(pk[0].flags & NM_RX_PKT_L4_CSUM_BAD, NM_RX_PKT_L4_CSUM_BAD);
	nm_netmem_put(pk[0].payload);
	nm_sim_destroy(sim);
}

static void test_drops_are_counted(void)
{
	struct nm_sim *sim = make_sim(1, 16);
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct test_flow tf;
	struct nm_sim_rxq_stats st;
	static nm_netmem_ref held[64];
	uint8_t frame[9100], pl[9000] = { 0 };
	int len;

	test_flow_init(&tf, "udp4", 9200, 500);
	/* The ring holds 16: the 17th frame finds no buffer. */
	CHECK_EQ(test_flow_send(sim, &tf, 20), 16);
	nm_sim_rxq_stats(sim, 0, &st);
	CHECK_EQ(st.drop_no_buf, 4);
	/* Hold everything: the pool (2 x ring) runs dry, the ring stays short. */
	CHECK_EQ(test_flow_recv(sim, 0, &tf, NULL, held, 32), 16);
	CHECK_EQ(test_flow_send(sim, &tf, 20), 16);
	CHECK_EQ(test_flow_recv(sim, 0, &tf, NULL, held + 32, 16), 16);
	CHECK_EQ(test_flow_send(sim, &tf, 5), 0);
	for (int i = 0; i < 64; i++)
		if (held[i])
			nm_netmem_put(held[i]);
	/* A frame larger than a buffer is dropped, not truncated. */
	len = nm_pkt_build(frame, sizeof(frame), &tf.flow, 0, pl, 4000);
	CHECK_EQ(nm_sim_inject(sim, frame, (size_t)len), -ENOBUFS); /* ring still empty */
	CHECK_EQ(nm_sim_rx_burst(sim, 0, NULL, 0), 0);            /* refills */
	CHECK_EQ(nm_sim_inject(sim, frame, (size_t)len), -EMSGSIZE);
	nm_netdev_close(dev);
	CHECK_EQ(test_flow_send(sim, &tf, 3), 0);
	nm_sim_rxq_stats(sim, 0, &st);
	CHECK_EQ(st.drop_stopped, 3);
	CHECK_EQ(st.drop_too_big, 1);
	nm_sim_destroy(sim);
}

static void test_queue_table_lists_flags_and_provider(void)
{
	struct nm_sim *sim = make_sim(2, 16);
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct nm_rxq_info info;
	char out[4096] = { 0 };
	FILE *f = fmemopen(out, sizeof(out) - 1, "w");

	CHECK_EQ(nm_sim_set_queue_caps(sim, 1, NM_RXQ_CAP_HEADER_SPLIT), 0);
	CHECK_EQ(nm_netdev_rxq_info(dev, 1, &info), 0);
	CHECK_EQ(info.caps, NM_RXQ_CAP_HEADER_SPLIT);
	CHECK(info.running);
	CHECK(info.has_pool);
	CHECK_EQ(strcmp(info.provider, "host"), 0);
	CHECK_EQ(nm_netdev_rxq_info(dev, 2, &info), -EINVAL);
	nm_netdev_print_queues(dev, f);
	fclose(f);
	CHECK(strstr(out, "unreadable,header-split,restart") != NULL);
	CHECK(strstr(out, "\n1      up    header-split ") != NULL);
	nm_sim_destroy(sim);
}

static bool any_twice(const nm_netmem_ref *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			if (r[i] && r[i] == r[j])
				return true;
	return false;
}

/*
 * A dmabuf of 1, 2, 8 or 64 buffers on a 256-entry ring: the application
 * holds a varying share of them while frames keep coming (a seeded walk;
 * frames that find no buffer are dropped and counted). No buffer is ever
 * in two frames at once, every frame received is intact where it landed,
 * and after the unbind every buffer is home.
 */
static void scarce_run(uint32_t nbufs, uint32_t buf_size)
{
	struct nm_sim *sim = make_sim(2, 256);
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct nm_binding_params bp = { .buf_size = buf_size };
	struct nm_dmabuf *buf = NULL;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_err err = { 0 };
	struct test_flow tf;
	nm_netmem_ref held[2 * 128];
	unsigned int nheld = 0, got_total = 0;
	uint32_t rnd = 7;
	char spec[32];

	snprintf(spec, sizeof(spec), "memfd:%u", nbufs * buf_size);
	CHECK(sim != NULL);
	CHECK_MSG(nm_dmabuf_open_spec(spec, &buf, &err) == 0, "%s", err.msg);
	CHECK_MSG(nm_dmabuf_binding_create(dev->dma, buf, &bp, &b, &err) == 0, "%s", err.msg);
	CHECK_EQ(b->area.num_niovs, nbufs);
	CHECK_MSG(nm_dmabuf_binding_bind_rxq(b, dev, 1, &err) == 0, "%s", err.msg);
	test_flow_init(&tf, "tcp4", 9300, 1448);
	CHECK_EQ(nm_sim_steer(sim, &tf.flow, 1), 0);
	for (unsigned int step = 0; step < 3000; step++) {
		unsigned int got, back;

		rnd = rnd * 1103515245u + 12345u;
		test_flow_send(sim, &tf, (rnd >> 16) % 4);
		got = test_flow_recv(sim, 1, &tf, buf, held + nheld,
				     (unsigned int)(sizeof(held) / sizeof(held[0]) - nheld) / 2);
		CHECK(nheld / 2 + got <= nbufs);
		nheld += 2 * got;
		got_total += got;
		CHECK_MSG(!any_twice(held, nheld), "step %u: one buffer in two frames", step);
		back = nheld ? 2 * ((rnd >> 20) % (nheld / 2 + 1)) : 0;
		for (unsigned int i = 0; i < back; i++)
			if (held[i])
				nm_netmem_put(held[i]);
		memmove(held, held + back, (nheld - back) * sizeof(held[0]));
		nheld -= back;
	}
	CHECK_EQ(tf.mismatches + tf.hdr_mismatches, 0);
	CHECK_EQ(tf.net_iov_pkts, got_total);
	CHECK_MSG(got_total > 500, "%u frames in 3000 steps", got_total);
	/* Unbound with buffers held: they keep the pool until they are back. */
	CHECK_MSG(nm_dmabuf_binding_unbind_err(b, &err) == 0, "%s", err.msg);
	for (unsigned int i = 0; i < nheld; i++)
		if (held[i])
			nm_netmem_put(held[i]);
	nm_sim_destroy(sim);
	nm_dmabuf_put(buf);
}

static void test_scarce_1_buffer(void) { scarce_run(1, 4096); }
static void test_scarce_2_buffers(void) { scarce_run(2, 2048); }
static void test_scarce_8_buffers(void) { scarce_run(8, 2048); }
static void test_scarce_64_buffers(void) { scarce_run(64, 2048); }

NM_TEST_MAIN(
	NM_TEST(test_bad_params),
	NM_TEST(test_steering_rules_and_spreading),
	NM_TEST(test_queue_without_header_split_gets_whole_frame),
	NM_TEST(test_inject_in_two_pieces_with_the_wires_verdict),
	NM_TEST(test_drops_are_counted),
	NM_TEST(test_queue_table_lists_flags_and_provider),
	NM_TEST(test_scarce_1_buffer),
	NM_TEST(test_scarce_2_buffers),
	NM_TEST(test_scarce_8_buffers),
	NM_TEST(test_scarce_64_buffers),
)
