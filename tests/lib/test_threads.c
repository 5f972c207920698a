/* SPDX-License-Identifier: MIT */
/*
 * What runs on two threads at once, for ThreadSanitizer (suite tsan-lib in
 * build-tsan, see scripts/test.sh) as much as for the plain build:
 *  - queue-get (nm_netdev_rxq_info) reading a queue's page pool counters
 *    while the queue's owner receives and recycles;
 *  - a binding's last buffer coming back on another thread (the unmap runs
 *    there) while the main thread maps and unmaps in the same DMA domain;
 *  - one binding bound to and taken off queues of two devices of its domain
 *    from two threads, while a third unbinds it.
 * Under TSan, a race is reported and the test exits non-zero.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include <netmem/netmem.h>
#include <netmem/sim.h>

#include "nm_test.h"
#include "sim_flow.h"

#define ROUNDS 300

struct rx_side {
	struct nm_sim *sim;
	struct nm_dmabuf *buf;
	struct test_flow tf;
	unsigned int got;
	atomic_bool done;
};

static void *receiver(void *arg)
{
	struct rx_side *rx = arg;

	for (int i = 0; i < ROUNDS; i++) {
		if (test_flow_send(rx->sim, &rx->tf, 16) != 16)
			break;
		rx->got += test_flow_recv(rx->sim, 1, &rx->tf, rx->buf, NULL, 0);
	}
	atomic_store(&rx->done, true);
	return NULL;
}

static void test_queue_get_while_receiving(void)
{
	struct nm_sim_params sp = { .num_rx_queues = 2, .ring_size = 64,
				    .no_hugepages = true };
	struct nm_dmabuf_binding *b;
	struct nm_netdev *dev;
	struct rx_side rx = { 0 };
	uint64_t last_fast = 0, looks = 0;
	bool monotonic = true, on_dmabuf = true;
	pthread_t th;

	CHECK_EQ(nm_sim_create(&sp, &rx.sim, NULL), 0);
	dev = nm_sim_netdev(rx.sim);
	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &rx.buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, rx.buf, NULL, &b, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, dev, 1, NULL), 0);
	test_flow_init(&rx.tf, "tcp4", 7100, 1448);
	CHECK_EQ(nm_sim_steer(rx.sim, &rx.tf.flow, 1), 0);
	atomic_init(&rx.done, false);
	CHECK_EQ(pthread_create(&th, NULL, receiver, &rx), 0);
	while (!atomic_load(&rx.done)) {
		struct nm_rxq_info info;
		struct nm_dma_domain_stats ds;

		if (nm_netdev_rxq_info(dev, 1, &info) || !info.has_pool)
			continue;
		nm_dma_domain_get_stats(dev->dma, &ds);
		monotonic &= info.pool.alloc_fast >= last_fast;
		on_dmabuf &= !strcmp(info.provider, "dmabuf");
		last_fast = info.pool.alloc_fast;
		looks++;
	}
	pthread_join(th, NULL);
	CHECK_EQ(rx.got, ROUNDS * 16);
	CHECK_EQ(rx.tf.mismatches, 0);
	CHECK_EQ(rx.tf.net_iov_pkts, ROUNDS * 16);
	CHECK(looks > 0);
	CHECK(monotonic);
	CHECK(on_dmabuf);
	CHECK_EQ(nm_dmabuf_binding_unbind(b), 0);
	nm_sim_destroy(rx.sim);
	CHECK_EQ(atomic_load(&rx.buf->refs), 1);
	nm_dmabuf_put(rx.buf);
}

struct returner {
	nm_netmem_ref *refs;
	unsigned int n;
};

static void *put_back(void *arg)
{
	struct returner *r = arg;

	for (unsigned int i = 0; i < r->n; i++)
		nm_netmem_put(r->refs[i]);
	return NULL;
}

static void test_last_buffer_returns_on_another_thread(void)
{
	struct nm_sim_params sp = { .num_rx_queues = 2, .ring_size = 64,
				    .no_hugepages = true };
	static nm_netmem_ref held[64];
	struct nm_dma_domain_stats before, after;
	struct nm_dmabuf *buf, *other;
	struct nm_dmabuf_binding *b;
	struct returner r = { held, 64 };
	struct nm_netdev *dev;
	struct nm_sim *sim;
	struct test_flow tf;
	pthread_t th;

	CHECK_EQ(nm_sim_create(&sp, &sim, NULL), 0);
	dev = nm_sim_netdev(sim);
	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &other, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_create(dev->dma, buf, NULL, &b, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, dev, 1, NULL), 0);
	test_flow_init(&tf, "udp4", 7101, 1000);
	CHECK_EQ(nm_sim_steer(sim, &tf.flow, 1), 0);
	CHECK_EQ(test_flow_send(sim, &tf, 32), 32);
	CHECK_EQ(test_flow_recv(sim, 1, &tf, buf, held, 32), 32);
	CHECK_EQ(nm_dmabuf_binding_unbind(b), 0);  /* 32 payloads in flight */
	nm_dma_domain_get_stats(dev->dma, &before);

	CHECK_EQ(pthread_create(&th, NULL, put_back, &r), 0);
	for (int i = 0; i < 50; i++) {
		struct nm_dmabuf_binding *x;

		if (nm_dmabuf_binding_create(dev->dma, other, NULL, &x, NULL))
			break;
		nm_dmabuf_binding_unbind(x);
	}
	pthread_join(th, NULL);
	nm_dma_domain_get_stats(dev->dma, &after);
	/* 50 maps and unmaps here, one unmap there (the last buffer's). */
	CHECK_EQ(after.maps - before.maps, 50);
	CHECK_EQ(after.unmaps - before.unmaps, 51);
	CHECK_EQ(before.mapped_bytes - after.mapped_bytes, 1 << 20);
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_sim_destroy(sim);
	nm_dmabuf_put(buf);
	nm_dmabuf_put(other);
}

#define SHARED_ROUNDS 200

struct shared_side {
	struct nm_dmabuf_binding *b;
	struct nm_netdev *dev;
	uint32_t queue;
	unsigned int bound, refused;
	int ret;
	atomic_bool *start_unbind;
	atomic_int *quarters;    /* sides past a quarter of their rounds */
};

/* Bind and unbind one queue until the binding refuses (it was unbound). */
static void *bind_loop(void *arg)
{
	struct shared_side *s = arg;

	for (int i = 0; i < SHARED_ROUNDS; i++) {
		int ret = nm_dmabuf_binding_bind_rxq(s->b, s->dev, s->queue, NULL);

		if (ret == -ENOENT) {
			s->refused++;
			break;
		}
		if (ret == 0) {
			s->bound++;
			/* The unbind starts once both sides have bound a
			 * while: on two shared cores one thread may run all
			 * its rounds before the other is scheduled. */
			if (i == SHARED_ROUNDS / 4 && atomic_fetch_add(s->quarters, 1) == 1)
				atomic_store(s->start_unbind, true);
			/* -ENOENT: the unbind took the queue off already. */
			(void)nm_rxq_unbind_mp(s->dev, s->queue, NULL);
		}
	}
	return NULL;
}

static void *unbind_once(void *arg)
{
	struct shared_side *s = arg;

	while (!atomic_load(s->start_unbind))
		sched_yield();
	s->ret = nm_dmabuf_binding_unbind(s->b);
	return NULL;
}

static void test_shared_binding_two_devices(void)
{
	struct nm_sim_params sp = { .num_rx_queues = 4, .ring_size = 64,
				    .no_hugepages = true };
	struct nm_dma_domain_stats before, after;
	struct shared_side sa = { 0 }, sb = { 0 }, su = { 0 };
	struct nm_dma_domain *dom;
	struct nm_sim *a, *bsim;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	atomic_bool go;
	atomic_int quarters;
	pthread_t ta, tb, tu;

	atomic_init(&go, false);
	atomic_init(&quarters, 0);
	CHECK_EQ(nm_dma_domain_identity_create(&dom, NULL), 0);
	sp.dma = dom;
	sp.name = "simA";
	CHECK_EQ(nm_sim_create(&sp, &a, NULL), 0);
	sp.name = "simB";
	CHECK_EQ(nm_sim_create(&sp, &bsim, NULL), 0);
	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	nm_dma_domain_get_stats(dom, &before);
	CHECK_EQ(nm_dmabuf_binding_create(dom, buf, NULL, &b, NULL), 0);
	nm_dmabuf_binding_get(b);   /* ours: the threads may still call after unbind */
	sa = (struct shared_side){ .b = b, .dev = nm_sim_netdev(a), .queue = 1,
				   .start_unbind = &go, .quarters = &quarters };
	sb = (struct shared_side){ .b = b, .dev = nm_sim_netdev(bsim), .queue = 2,
				   .start_unbind = &go, .quarters = &quarters };
	su = (struct shared_side){ .b = b, .start_unbind = &go };
	CHECK_EQ(pthread_create(&ta, NULL, bind_loop, &sa), 0);
	CHECK_EQ(pthread_create(&tb, NULL, bind_loop, &sb), 0);
	CHECK_EQ(pthread_create(&tu, NULL, unbind_once, &su), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	atomic_store(&go, true);    /* both are done: unbind now if not yet */
	pthread_join(tu, NULL);
	printf("# simA bound %u times, simB %u; refused after unbind: %u, %u\n", sa.bound,
	       sb.bound, sa.refused, sb.refused);
	CHECK_EQ(su.ret, 0);
	CHECK(sa.bound > 0 && sb.bound > 0);
	/* Every queue is off the binding and on host memory again. */
	CHECK_EQ(b->num_bound, 0);
	CHECK(nm_sim_netdev(a)->rxqs[1].mp.ops == NULL);
	CHECK(nm_sim_netdev(bsim)->rxqs[2].mp.ops == NULL);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, nm_sim_netdev(a), 1, NULL), -ENOENT);
	nm_dmabuf_binding_put(b);   /* the last reference: unmapped */
	nm_dma_domain_get_stats(dom, &after);
	CHECK_EQ(after.mapped_bytes, before.mapped_bytes);
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_sim_destroy(a);
	nm_sim_destroy(bsim);
	nm_dma_domain_put(dom);
	nm_dmabuf_put(buf);
}

NM_TEST_MAIN(
	NM_TEST(test_queue_get_while_receiving),
	NM_TEST(test_last_buffer_returns_on_another_thread),
	NM_TEST(test_shared_binding_two_devices),
)
