/* SPDX-License-Identifier: MIT */
/*
 * The page pool's destroy/drain races, made deterministic: this test builds
 * lib/page_pool.c with NM_PP_TEST_HOOKS, and at the hook point the owner
 * (inside nm_page_pool_destroy) lets a second thread do its whole put and
 * waits for it, so the interleaving is the same every run.
 *
 * The two threads hand over with relaxed atomics only: they order the steps
 * but give ThreadSanitizer no happens-before edge, so whatever the pool
 * itself fails to order is reported (suite tsan-lib, build-tsan).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include <netmem/netmem.h>

#include "../../lib/page_pool_test.h"
#include "nm_test.h"

static atomic_int destroys;

static void counting_destroy(struct nm_page_pool *pool)
{
	atomic_fetch_add(&destroys, 1);
	nm_mp_host_ops.destroy(pool);
}

static struct nm_memory_provider_ops counting_ops;

struct fixture {
	struct nm_dma_domain *dom;
	struct nm_host_mem *mem;
	struct nm_page_pool *pool;
};

static int fixture_up(struct fixture *f)
{
	struct nm_host_mem_params hp = {
		.size = 1024 * 2048, .buf_size = 2048, .numa_node = -1,
		.no_hugepages = true,
	};
	struct nm_page_pool_params pp = { .pool_size = 256, .nid = -1,
					  .flags = NM_PP_FLAG_DMA_MAP };

	counting_ops = nm_mp_host_ops;
	counting_ops.destroy = counting_destroy;
	atomic_store(&destroys, 0);
	if (nm_dma_domain_identity_create(&f->dom, NULL) ||
	    nm_host_mem_create(f->dom, &hp, &f->mem, NULL))
		return -1;
	pp.mp = (struct nm_mp_params){ .ops = &counting_ops, .priv = f->mem };
	return nm_page_pool_create(&pp, &f->pool, NULL);
}

static void fixture_down(struct fixture *f)
{
	nm_host_mem_put(f->mem);
	nm_dma_domain_put(f->dom);
}

/* The second thread: holds NPUT buffers, puts them back when told. */
#define NPUT 8

static struct {
	enum nm_pp_test_point at;     /* where the put is to land */
	atomic_bool armed;            /* the hook acts once */
	atomic_bool go, done;         /* relaxed: order, not synchronize */
	nm_netmem_ref refs[NPUT];
	uint32_t in_use_after_put;    /* what the owner saw when it was done */
	struct nm_net_iov_area *area;
} race;

static void wait_flag(atomic_bool *flag)
{
	/* Bounded: a put that never ends is a failure, not a hang. */
	for (long i = 0; i < 200000000L; i++) {
		if (atomic_load_explicit(flag, memory_order_relaxed))
			return;
		sched_yield();
	}
	printf("# timed out waiting for the other thread\n");
	abort();
}

static void *putter(void *arg)
{
	(void)arg;
	wait_flag(&race.go);
	nm_netmem_put_bulk(race.refs, NPUT);
	atomic_store_explicit(&race.done, true, memory_order_relaxed);
	return NULL;
}

static void hook(struct nm_page_pool *pool, enum nm_pp_test_point at)
{
	(void)pool;
	if (at != race.at || !atomic_exchange(&race.armed, false))
		return;
	atomic_store_explicit(&race.go, true, memory_order_relaxed);
	wait_flag(&race.done);
	race.in_use_after_put = nm_net_iov_area_in_use(race.area);
}

/* Set up: the owner has 64 buffers from the provider, NPUT of them handed
 * to the putter thread, the rest in its cache (released by destroy). */
static int race_up(struct fixture *f, enum nm_pp_test_point at, pthread_t *th)
{
	if (fixture_up(f))
		return -1;
	if (nm_page_pool_alloc_netmems(f->pool, race.refs, NPUT) != NPUT)
		return -1;
	race.at = at;
	race.area = &f->mem->area;
	race.in_use_after_put = UINT32_MAX;
	atomic_store(&race.go, false);
	atomic_store(&race.done, false);
	atomic_store(&race.armed, true);
	nm_pp_test_hook = hook;
	return pthread_create(th, NULL, putter, NULL);
}

/*
 * A put that lands while the drainer holds drain_lock, after it emptied the
 * ring: the putter sees the pool destroyed, finds the lock taken and
 * leaves. Only the drainer's second look at the ring after unlocking can
 * release those buffers; without it they stay in the ring, the provider is
 * never told and the pool is never freed.
 */
static void test_put_while_drainer_holds_the_lock(void)
{
	struct fixture f;
	pthread_t th;

	CHECK_EQ(race_up(&f, NM_PP_AT_DRAIN_LOCKED, &th), 0);
	nm_page_pool_destroy(f.pool);
	pthread_join(th, NULL);
	nm_pp_test_hook = NULL;
	CHECK(!atomic_load(&race.armed));            /* the hook did run */
	/* The putter could not drain: its buffers were still out then. */
	CHECK_EQ(race.in_use_after_put, NPUT);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

/*
 * A put between destroy marking the pool and destroy's own drain: the
 * putter must see the pool destroyed and release everything to the
 * provider itself, reading the counters destroy wrote just before (the
 * cache it released). That needs the mark's release to be acquired by the
 * putter's load; a relaxed load gives no such order (ThreadSanitizer
 * reports the counters as raced; a weakly ordered CPU may see them stale).
 */
static void test_put_between_mark_and_drain(void)
{
	struct fixture f;
	pthread_t th;

	CHECK_EQ(race_up(&f, NM_PP_AT_DESTROY_MARKED, &th), 0);
	nm_page_pool_destroy(f.pool);
	pthread_join(th, NULL);
	nm_pp_test_hook = NULL;
	CHECK(!atomic_load(&race.armed));
	/* The putter released all 64 (its 8 and the cache's 56) itself. */
	CHECK_EQ(race.in_use_after_put, 0);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

NM_TEST_MAIN(
	NM_TEST(test_put_while_drainer_holds_the_lock),
	NM_TEST(test_put_between_mark_and_drain),
)
