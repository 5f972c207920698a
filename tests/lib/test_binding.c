/* SPDX-License-Identifier: MIT */
/*
 * dmabuf bindings end to end on the software NIC: payload bytes land in the
 * dmabuf at each net_iov's offset, headers in host buffers; unbinding with
 * buffers in flight keeps the memory mapped until the last one returns;
 * bad input is refused and changes nothing.
 */
#include <netmem/netmem.h>
#include <netmem/sim.h>

#include "nm_test.h"
#include "sim_flow.h"

static struct nm_sim *make_sim(const char *name)
{
	struct nm_sim_params sp = { .name = name, .num_rx_queues = 4,
				    .ring_size = 128, .no_hugepages = true };
	struct nm_sim *sim = NULL;

	nm_sim_create(&sp, &sim, NULL);
	return sim;
}

static void check_flow_lands(const char *flow_name, uint32_t payload)
{
	struct nm_sim *sim = make_sim("sim0");
	struct nm_netdev *dev;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_sim_rxq_stats st;
	struct test_flow tf;
	unsigned int got = 0;

	CHECK(sim != NULL);
	dev = nm_sim_netdev(sim);
	CHECK_EQ(nm_dmabuf_create_memfd(2 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, buf, NULL, &b, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, dev, 3, NULL), 0);
	test_flow_init(&tf, flow_name, 7000, payload);
	CHECK_EQ(nm_sim_steer(sim, &tf.flow, 3), 0);
	/* More frames than the dmabuf holds buffers: recycling must work. */
	for (int round = 0; round < 20; round++) {
		CHECK_EQ(test_flow_send(sim, &tf, 100), 100);
		got += test_flow_recv(sim, 3, &tf, buf, NULL, 0);
	}
	CHECK_EQ(got, 2000);
	CHECK_EQ(tf.received, tf.sent);
	CHECK_EQ(tf.mismatches, 0);
	CHECK_EQ(tf.hdr_mismatches, 0);
	CHECK_EQ(tf.split_pkts, 2000);
	CHECK_EQ(tf.net_iov_pkts, 2000);
	nm_sim_rxq_stats(sim, 3, &st);
	CHECK_EQ(st.payload_bytes, tf.sent);    /* no payload byte in host memory */
	CHECK_EQ(st.hdr_bytes, 2000 * nm_pkt_hdr_len(&tf.flow));
	nm_dmabuf_binding_unbind(b);
	nm_sim_destroy(sim);
	CHECK_EQ(atomic_load(&buf->refs), 1);  /* only ours is left */
	nm_dmabuf_put(buf);
}

static void test_udp4_payload_lands_in_dmabuf(void) { check_flow_lands("udp4", 1472); }
static void test_tcp4_payload_lands_in_dmabuf(void) { check_flow_lands("tcp4", 1448); }
static void test_udp6_payload_lands_in_dmabuf(void) { check_flow_lands("udp6", 1452); }
static void test_tcp6_payload_lands_in_dmabuf(void) { check_flow_lands("tcp6", 1000); }

static void test_net_iov_addresses_are_the_dmabuf(void)
{
	struct nm_sim *sim = make_sim("sim0");
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_rx_pkt pkt;
	struct test_flow tf;
	struct nm_net_iov *niov;

	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, buf, NULL, &b, NULL), 0);
	CHECK_EQ(b->area.num_niovs, (1 << 20) / NM_BINDING_DEFAULT_BUF_SIZE);
	CHECK(sizeof(struct nm_net_iov) <= 48);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, dev, 0, NULL), 0);
	test_flow_init(&tf, "udp4", 7001, 1000);
	CHECK_EQ(nm_sim_steer(sim, &tf.flow, 0), 0);
	CHECK_EQ(test_flow_send(sim, &tf, 1), 1);
	CHECK_EQ(nm_sim_rx_burst(sim, 0, &pkt, 1), 1);
	CHECK(nm_netmem_is_net_iov(pkt.payload));
	CHECK(nm_netmem_address(pkt.payload) == NULL);  /* never CPU-readable */
	niov = nm_netmem_to_net_iov(pkt.payload);
	CHECK(nm_net_iov_owner(niov) == &b->area);
	CHECK_EQ(nm_net_iov_dma_addr(niov), b->iova + nm_net_iov_offset(niov));
	CHECK(nm_net_iov_offset(niov) + 1000 <= buf->size);
	CHECK(!nm_netmem_is_net_iov(pkt.hdr));
	nm_netmem_put(pkt.payload);
	nm_netmem_put(pkt.hdr);
	nm_dmabuf_binding_unbind(b);
	nm_sim_destroy(sim);
	nm_dmabuf_put(buf);
}

static void test_unbind_with_buffers_in_flight(void)
{
	struct nm_sim *sim = make_sim("sim0");
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct nm_dma_domain *dom = dev->dma;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	static nm_netmem_ref held[100];
	struct test_flow tf;
	uint64_t unmaps, iova, size;

	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, buf, NULL, &b, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, dev, 1, NULL), 0);
	test_flow_init(&tf, "tcp4", 7002, 1448);
	CHECK_EQ(nm_sim_steer(sim, &tf.flow, 1), 0);
	CHECK_EQ(test_flow_send(sim, &tf, 50), 50);
	CHECK_EQ(test_flow_recv(sim, 1, &tf, buf, held, 50), 50);
	CHECK_EQ(tf.mismatches, 0);
	iova = b->iova;
	size = b->size;
	unmaps = dom->stats.unmaps;

	nm_dmabuf_binding_unbind(b);
	/* The queue is back on host memory and receiving... */
	CHECK(dev->rxqs[1].mp.ops == NULL);
	CHECK_EQ(test_flow_send(sim, &tf, 10), 10);
	/* ...while the 50 buffers the app holds stay mapped. */
	CHECK_EQ(dom->stats.unmaps, unmaps);
	CHECK(nm_dma_translate(dom, iova, size) != NULL);
	CHECK_EQ(atomic_load(&b->refs), 1);      /* the zombie pool's */
	CHECK_EQ(nm_net_iov_area_in_use(&b->area), 50);
	for (int i = 0; i < 50; i++)
		nm_netmem_put(held[2 * i + 1]);  /* headers: host memory */
	for (int i = 0; i < 49; i++)
		nm_netmem_put(held[2 * i]);      /* all payloads but one */
	CHECK_EQ(dom->stats.unmaps, unmaps);
	CHECK_EQ(nm_net_iov_area_in_use(&b->area), 1);
	nm_netmem_put(held[98]);
	/* Last buffer back: unmapped, exactly once. */
	CHECK_EQ(dom->stats.unmaps, unmaps + 1);
	CHECK(nm_dma_translate(dom, iova, size) == NULL);
	CHECK_EQ(atomic_load(&buf->refs), 1);
	CHECK_EQ(test_flow_recv(sim, 1, &tf, NULL, NULL, 0), 10);
	CHECK_EQ(tf.mismatches, 0);
	nm_sim_destroy(sim);
	nm_dmabuf_put(buf);
}

static void test_bad_input_changes_nothing(void)
{
	struct nm_sim *a = make_sim("simA"), *bdev = make_sim("simB");
	struct nm_netdev *da = nm_sim_netdev(a), *db = nm_sim_netdev(bdev);
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_err err = { 0 };
	uint64_t allocs;
	struct test_flow tf;

	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(da->dma, buf, NULL, &b, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, da, 0, NULL), 0);
	allocs = nm_sim_op_count(a, NM_SIM_OP_MEM_ALLOC);

	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, da, 4, &err), -EINVAL);
	CHECK_MSG(strstr(err.msg, "out of range") != NULL, "%s", err.msg);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, da, 0, &err), -EBUSY);
	CHECK_MSG(strstr(err.msg, "already bound") != NULL, "%s", err.msg);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, db, 1, &err), -EXDEV);
	CHECK_MSG(strstr(err.msg, "simB") != NULL, "%s", err.msg);
	CHECK_EQ(nm_sim_op_count(a, NM_SIM_OP_MEM_ALLOC), allocs);
	CHECK_EQ(nm_sim_op_count(bdev, NM_SIM_OP_MEM_ALLOC), 4);  /* its open only */
	CHECK(db->rxqs[1].mp.ops == NULL);
	CHECK_EQ(b->num_bound, 1);
	CHECK_EQ(nm_rxq_unbind_mp(da, 2, &err), -ENOENT);
	/* Queue 0 still works on the binding. */
	test_flow_init(&tf, "udp6", 7003, 1200);
	CHECK_EQ(nm_sim_steer(a, &tf.flow, 0), 0);
	CHECK_EQ(test_flow_send(a, &tf, 10), 10);
	CHECK_EQ(test_flow_recv(a, 0, &tf, buf, NULL, 0), 10);
	CHECK_EQ(tf.net_iov_pkts, 10);
	CHECK_EQ(tf.mismatches, 0);

	/* A binding someone else still references refuses new queues once
	 * unbound (the caller's own handle is gone after unbind). */
	nm_dmabuf_binding_get(b);
	nm_dmabuf_binding_unbind(b);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, da, 1, &err), -ENOENT);
	CHECK(da->rxqs[1].mp.ops == NULL);
	nm_dmabuf_binding_put(b);
	nm_sim_destroy(a);
	nm_sim_destroy(bdev);
	nm_dmabuf_put(buf);
}

static void test_binding_params_are_checked(void)
{
	struct nm_sim *sim = make_sim("sim0");
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_binding_params bp = { .buf_size = 3000 };
	struct nm_err err = { 0 };

	CHECK_EQ(nm_dmabuf_create_memfd(8192, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, buf, &bp, &b, &err), -EINVAL);
	CHECK(strstr(err.msg, "power of two") != NULL);
	bp.buf_size = 16384;
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, buf, &bp, &b, &err), -EINVAL);
	CHECK(strstr(err.msg, "smaller than one") != NULL);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, NULL, NULL, &b, &err), -EINVAL);
	CHECK(b == NULL);
	CHECK_EQ(dev->dma->stats.maps, 1);     /* only the host memory */
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_sim_destroy(sim);
	nm_dmabuf_put(buf);
}

static void test_device_teardown_while_bound(void)
{
	struct nm_sim *sim = make_sim("sim0");
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;

	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, buf, NULL, &b, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, dev, 0, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, dev, 2, NULL), 0);
	nm_sim_destroy(sim);            /* queues uninstall the binding */
	CHECK_EQ(b->num_bound, 0);
	nm_dmabuf_binding_unbind(b);    /* safe: only drops the reference */
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_dmabuf_put(buf);
}

/*
 * A binding belongs to its DMA domain, not to a device: one that never
 * served a queue (its one bind was refused) outlives the device, and
 * unbind after the device is gone touches nothing of it.
 */
static void test_device_teardown_unbound_binding(void)
{
	struct nm_sim *sim = make_sim("sim0");
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct nm_dma_domain *dom = dev->dma;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b, *never;
	struct nm_err err = { 0 };

	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_sim_set_queue_caps(sim, 3, NM_RXQ_CAP_RESTART), 0);
	CHECK_EQ(nm_dmabuf_binding_create(dom, buf, NULL, &b, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, dev, 3, &err), -EOPNOTSUPP);
	CHECK_EQ(b->num_bound, 0);
	CHECK_EQ(nm_dmabuf_binding_create(dom, buf, NULL, &never, NULL), -EEXIST);
	nm_sim_destroy(sim);
	CHECK_EQ(atomic_load(&dom->refs), 1);  /* the binding's: still mapped */
	CHECK(nm_dma_translate(dom, b->iova, b->size) != NULL);
	nm_dmabuf_binding_unbind(b);    /* touches no freed device */
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_dmabuf_put(buf);
}

/* Two software NICs behind one IOMMU (one DMA domain), and a third in
 * its own. */
struct two_ports {
	struct nm_dma_domain *dom;
	struct nm_sim *a, *b, *other;
	struct nm_netdev *da, *db, *dother;
};

static void two_ports_make(struct two_ports *t)
{
	struct nm_sim_params sp = { .num_rx_queues = 4, .ring_size = 128,
				    .no_hugepages = true };

	CHECK_EQ(nm_dma_domain_identity_create(&t->dom, NULL), 0);
	sp.dma = t->dom;
	sp.name = "simA";
	CHECK_EQ(nm_sim_create(&sp, &t->a, NULL), 0);
	sp.name = "simB";
	CHECK_EQ(nm_sim_create(&sp, &t->b, NULL), 0);
	sp.dma = NULL;
	sp.name = "simX";
	CHECK_EQ(nm_sim_create(&sp, &t->other, NULL), 0);
	t->da = nm_sim_netdev(t->a);
	t->db = nm_sim_netdev(t->b);
	t->dother = nm_sim_netdev(t->other);
	CHECK(t->da->dma == t->dom && t->db->dma == t->dom && t->dother->dma != t->dom);
}

/* Send @n frames of @tf to @sim queue @q; all must land in @buf. */
static void flow_lands(struct nm_sim *sim, uint32_t q, struct test_flow *tf,
		       struct nm_dmabuf *buf, unsigned int n)
{
	uint64_t before = tf->net_iov_pkts;

	CHECK_EQ(nm_sim_steer(sim, &tf->flow, q), 0);
	CHECK_EQ(test_flow_send(sim, tf, n), n);
	CHECK_EQ(test_flow_recv(sim, q, tf, buf, NULL, 0), n);
	CHECK_EQ(tf->net_iov_pkts - before, n);
	CHECK_EQ(tf->mismatches, 0);
}

/*
 * One binding, one mapping, queues of two devices of its domain: payloads
 * of both land in the one dmabuf; a device of another domain is refused
 * before any of its callbacks runs and keeps receiving; unbind moves the
 * queues of both devices back.
 */
static void test_one_binding_serves_every_device_of_its_domain(void)
{
	struct two_ports t;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_dma_domain_stats before, after;
	struct nm_err err = { 0 };
	struct test_flow fa, fb, fx;
	struct test_ops ops_x;

	two_ports_make(&t);
	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	nm_dma_domain_get_stats(t.dom, &before);
	CHECK_EQ(nm_dmabuf_binding_create(t.dom, buf, NULL, &b, &err), 0);
	nm_dma_domain_get_stats(t.dom, &after);
	CHECK_EQ(after.maps - before.maps, 1);          /* one mapping for both */
	CHECK_EQ(after.mapped_bytes - before.mapped_bytes, 1 << 20);
	CHECK_MSG(nm_dmabuf_binding_bind_rxq(b, t.da, 1, &err) == 0, "%s", err.msg);
	CHECK_MSG(nm_dmabuf_binding_bind_rxq(b, t.db, 2, &err) == 0, "%s", err.msg);
	CHECK_EQ(b->num_bound, 2);
	nm_dma_domain_get_stats(t.dom, &before);
	test_flow_init(&fa, "udp4", 7020, 1200);
	test_flow_init(&fb, "tcp6", 7021, 1000);
	/* More than the dmabuf's 256 buffers between them: recycled across
	 * both devices' pools. */
	for (int round = 0; round < 4; round++) {
		flow_lands(t.a, 1, &fa, buf, 64);
		flow_lands(t.b, 2, &fb, buf, 64);
	}

	/* Another domain's device: refused, nothing touched, still receiving. */
	test_ops_snap(t.other, &ops_x);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, t.dother, 1, &err), -EXDEV);
	printf("# refused: %s\n", err.msg);
	CHECK_MSG(strstr(err.msg, "simX") != NULL && strstr(err.msg, "DMA domain") != NULL,
		  "%s", err.msg);
	for (int op = 0; op < NM_SIM_OP_COUNT; op++)
		CHECK_EQ(test_ops_since(t.other, &ops_x, (enum nm_sim_op)op), 0);
	CHECK_EQ(t.dother->rxqs[1].counters.restarts, 0);
	CHECK(t.dother->rxqs[1].mp.ops == NULL);
	CHECK_EQ(b->num_bound, 2);
	test_flow_init(&fx, "udp6", 7022, 800);
	CHECK_EQ(nm_sim_steer(t.other, &fx.flow, 1), 0);
	CHECK_EQ(test_flow_send(t.other, &fx, 10), 10);
	CHECK_EQ(test_flow_recv(t.other, 1, &fx, NULL, NULL, 0), 10);
	CHECK_EQ(fx.net_iov_pkts, 0);
	CHECK_EQ(fx.mismatches, 0);

	CHECK_EQ(nm_dmabuf_binding_unbind_err(b, &err), 0);
	CHECK(t.da->rxqs[1].mp.ops == NULL && t.db->rxqs[2].mp.ops == NULL);
	CHECK_EQ(t.da->rxqs[1].counters.restarts, 2);
	CHECK_EQ(t.db->rxqs[2].counters.restarts, 2);
	nm_dma_domain_get_stats(t.dom, &after);
	CHECK_EQ(before.mapped_bytes - after.mapped_bytes, 1 << 20);  /* unmapped once */
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_sim_destroy(t.a);
	nm_sim_destroy(t.b);
	nm_sim_destroy(t.other);
	CHECK_EQ(atomic_load(&t.dom->refs), 1);  /* ours */
	nm_dma_domain_put(t.dom);
	nm_dmabuf_put(buf);
}

/* One of the domain's devices goes while bound: its queue leaves the
 * binding, the other device's queue keeps receiving into it, and unbind
 * restarts that one only. */
static void test_device_of_a_shared_binding_goes(void)
{
	struct two_ports t;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct test_flow fb;

	two_ports_make(&t);
	/* Room for three full rings of 128. */
	CHECK_EQ(nm_dmabuf_create_memfd(2 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(t.dom, buf, NULL, &b, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, t.da, 0, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, t.da, 3, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, t.db, 1, NULL), 0);
	CHECK_EQ(b->num_bound, 3);
	nm_sim_destroy(t.a);
	CHECK_EQ(b->num_bound, 1);
	CHECK(b->bound[0] == &t.db->rxqs[1]);
	test_flow_init(&fb, "tcp4", 7023, 1448);
	flow_lands(t.b, 1, &fb, buf, 50);
	CHECK_EQ(nm_dmabuf_binding_unbind(b), 0);
	CHECK(t.db->rxqs[1].mp.ops == NULL);
	CHECK_EQ(t.db->rxqs[1].counters.restarts, 2);
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_sim_destroy(t.b);
	nm_sim_destroy(t.other);
	nm_dma_domain_put(t.dom);
	nm_dmabuf_put(buf);
}

/* Binding a dmabuf again while its previous binding still has buffers in
 * flight: refused with a reason that says so; accepted once they are back. */
static void test_rebind_with_buffers_in_flight(void)
{
	struct nm_sim *sim = make_sim("sim0");
	struct nm_netdev *dev = nm_sim_netdev(sim);
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b, *again = NULL;
	static nm_netmem_ref held[20];
	struct nm_err err = { 0 };
	struct test_flow tf;

	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, buf, NULL, &b, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, dev, 1, NULL), 0);
	test_flow_init(&tf, "udp4", 7010, 1000);
	CHECK_EQ(nm_sim_steer(sim, &tf.flow, 1), 0);
	CHECK_EQ(test_flow_send(sim, &tf, 10), 10);
	CHECK_EQ(test_flow_recv(sim, 1, &tf, buf, held, 10), 10);
	CHECK_EQ(nm_dmabuf_binding_unbind(b), 0);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, buf, NULL, &again, &err), -EEXIST);
	CHECK_MSG(strstr(err.msg, "buffers are still in flight") != NULL, "%s", err.msg);
	CHECK(again == NULL);
	for (int i = 0; i < 20; i++)
		nm_netmem_put(held[i]);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, buf, NULL, &again, &err), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(again, dev, 1, NULL), 0);
	CHECK_EQ(test_flow_send(sim, &tf, 10), 10);
	CHECK_EQ(test_flow_recv(sim, 1, &tf, buf, NULL, 0), 10);
	CHECK_EQ(tf.mismatches, 0);
	CHECK_EQ(nm_dmabuf_binding_unbind(again), 0);
	nm_sim_destroy(sim);
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_dmabuf_put(buf);
}

NM_TEST_MAIN(
	NM_TEST(test_udp4_payload_lands_in_dmabuf),
	NM_TEST(test_tcp4_payload_lands_in_dmabuf),
	NM_TEST(test_udp6_payload_lands_in_dmabuf),
	NM_TEST(test_tcp6_payload_lands_in_dmabuf),
	NM_TEST(test_net_iov_addresses_are_the_dmabuf),
	NM_TEST(test_unbind_with_buffers_in_flight),
	NM_TEST(test_bad_input_changes_nothing),
	NM_TEST(test_binding_params_are_checked),
	NM_TEST(test_device_teardown_while_bound),
	NM_TEST(test_device_teardown_unbound_binding),
	NM_TEST(test_one_binding_serves_every_device_of_its_domain),
	NM_TEST(test_device_of_a_shared_binding_goes),
	NM_TEST(test_rebind_with_buffers_in_flight),
)
