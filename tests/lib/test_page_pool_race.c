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
#include "pp_fixture.h"

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
	if (fixture_up(f, 1024, 256))
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
 * A put after destroy released the cache but before it closed the ring: the
 * put lands in the ring as any foreign put (no pin, nothing more), and the
 * close then waits for it and the drain releases its buffers. Without the
 * drain after the close they stay in the ring: the provider is never told
 * and the pool is never freed.
 */
static void test_put_before_the_close(void)
{
	struct fixture f;
	pthread_t th;

	CHECK_EQ(race_up(&f, NM_PP_AT_DESTROY_BEGUN, &th), 0);
	nm_page_pool_destroy(f.pool);
	pthread_join(th, NULL);
	nm_pp_test_hook = NULL;
	CHECK(!atomic_load(&race.armed));            /* the hook did run */
	/* In the ring, not yet released: the cache's 56 were, its 8 not. */
	CHECK_EQ(race.in_use_after_put, NPUT);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

/*
 * A put after the close, before destroy's drain: the produce is refused and
 * the putter releases its buffers to the provider itself, reading and
 * writing the counters destroy wrote just before (the cache it released),
 * so the lock's acquire must order them (ThreadSanitizer reports them
 * raced otherwise). Its buffers are the last ones home: it drops the
 * owner's share, and destroy's own unpin then frees the pool, once.
 */
static void test_put_after_the_close(void)
{
	struct fixture f;
	pthread_t th;

	CHECK_EQ(race_up(&f, NM_PP_AT_RING_CLOSED, &th), 0);
	nm_page_pool_destroy(f.pool);
	pthread_join(th, NULL);
	nm_pp_test_hook = NULL;
	CHECK(!atomic_load(&race.armed));
	CHECK_EQ(race.in_use_after_put, 0);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

/* The same after destroy returned (the pool waits for its last buffers):
 * the put releases them and frees the pool, which nothing else would. */
static void test_put_after_destroy(void)
{
	struct fixture f;
	nm_netmem_ref refs[NPUT];

	CHECK_EQ(fixture_up(&f, 1024, 256), 0);
	CHECK_EQ(nm_page_pool_alloc_netmems(f.pool, refs, NPUT), NPUT);
	nm_page_pool_destroy(f.pool);
	CHECK_EQ(atomic_load(&destroys), 0);         /* 8 still out */
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), NPUT);
	nm_netmem_put_bulk(refs, NPUT);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

NM_TEST_MAIN(
	NM_TEST(test_put_before_the_close),
	NM_TEST(test_put_after_the_close),
	NM_TEST(test_put_after_destroy),
)
