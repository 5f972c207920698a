/* SPDX-License-Identifier: MIT */
/*
 * What runs on two threads at once, for ThreadSanitizer (suite tsan-lib in
 * build-tsan, see scripts/test.sh) as much as for the plain build:
 *  - queue-get (nm_netdev_rxq_info) reading a queue's page pool counters
 *    while the queue's owner receives and recycles;
 *  - a binding's last buffer coming back on another thread (the unmap runs
 *    there) while the main thread maps and unmaps in the same DMA domain.
 * Under TSan, a race is reported and the test exits non-zero.
 */
#include <pthread.h>

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

NM_TEST_MAIN(
	NM_TEST(test_queue_get_while_receiving),
	NM_TEST(test_last_buffer_returns_on_another_thread),
)
