/* SPDX-License-Identifier: MIT */
/*
 * The page pool's put cache (nm_netmem_put_cached): buffers held until a
 * flush, a full cache or another pool's buffer sends them home in one ring
 * operation; shared buffers held only on their last put; foreign threads
 * putting through their own caches while the owner allocates, every buffer
 * back; a pool destroyed while a cache holds its buffers stays until the
 * flush and then frees. Runs under ASan and TSan as well.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include <netmem/netmem.h>

#include "nm_test.h"
#include "pp_fixture.h"

static uint64_t in_flight(struct nm_page_pool *pool)
{
	struct nm_page_pool_stats st;

	nm_page_pool_get_stats(pool, &st);
	return st.in_flight;
}

static void test_held_until_flush(void)
{
	struct nm_pp_put_cache c;
	nm_netmem_ref refs[NM_PP_PUT_CACHE + 5];
	struct fixture f, g;
	nm_netmem_ref other;

	CHECK_EQ(fixture_up(&f, 256, 128), 0);
	nm_pp_put_cache_init(&c);
	CHECK_EQ(nm_page_pool_alloc_netmems(f.pool, refs, NM_PP_PUT_CACHE + 5),
		 NM_PP_PUT_CACHE + 5);
	/* Held, not yet home. */
	for (unsigned int i = 0; i < NM_PP_PUT_CACHE; i++)
		nm_netmem_put_cached(&c, refs[i]);
	CHECK_EQ(c.count, NM_PP_PUT_CACHE);
	CHECK(c.pool == f.pool);
	CHECK_EQ(in_flight(f.pool), NM_PP_PUT_CACHE + 5);
	/* Full: the next put sends the 32 home first. */
	nm_netmem_put_cached(&c, refs[NM_PP_PUT_CACHE]);
	CHECK_EQ(c.count, 1);
	CHECK_EQ(in_flight(f.pool), 5);
	/* A shared buffer stays out until its last put. */
	nm_netmem_get(refs[NM_PP_PUT_CACHE + 1]);
	nm_netmem_put_cached(&c, refs[NM_PP_PUT_CACHE + 1]);
	CHECK_EQ(c.count, 1);
	nm_netmem_put_cached(&c, refs[NM_PP_PUT_CACHE + 1]);
	CHECK_EQ(c.count, 2);
	CHECK_EQ(atomic_load(&f.pool->shared_refs), 0);
	/* Another pool's buffer: this pool's go home, the cache moves on. */
	CHECK_EQ(fixture_up(&g, 64, 32), 0);
	other = nm_page_pool_alloc_netmem(g.pool);
	CHECK(other != 0);
	nm_netmem_put_cached(&c, other);
	CHECK(c.pool == g.pool);
	CHECK_EQ(c.count, 1);
	CHECK_EQ(in_flight(f.pool), 3);
	nm_netmem_put_cached(&c, refs[NM_PP_PUT_CACHE + 2]);
	CHECK_EQ(in_flight(g.pool), 0);
	nm_netmem_put_cached(&c, refs[NM_PP_PUT_CACHE + 3]);
	nm_netmem_put_cached(&c, refs[NM_PP_PUT_CACHE + 4]);
	nm_pp_put_cache_flush(&c);
	CHECK_EQ(c.count, 0);
	CHECK(c.pool == NULL);
	CHECK_EQ(in_flight(f.pool), 0);
	nm_pp_put_cache_flush(&c);     /* empty: nothing to do */
	/* All of them are the owner's to hand out again. */
	CHECK_EQ(nm_page_pool_alloc_netmems(f.pool, refs, NM_PP_PUT_CACHE + 5),
		 NM_PP_PUT_CACHE + 5);
	nm_page_pool_put_netmem_bulk(f.pool, refs, NM_PP_PUT_CACHE + 5, true);
	nm_page_pool_destroy(g.pool);
	nm_page_pool_destroy(f.pool);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	CHECK_EQ(nm_net_iov_area_in_use(&g.mem->area), 0);
	fixture_down(&g);
	fixture_down(&f);
}

/* Destroyed while a put cache holds some of its buffers: it stays (the
 * provider not yet destroyed) until the flush brings them home. */
static void test_destroy_before_flush(void)
{
	struct nm_pp_put_cache c;
	nm_netmem_ref refs[10];
	struct fixture f;

	CHECK_EQ(fixture_up(&f, 64, 32), 0);
	nm_pp_put_cache_init(&c);
	CHECK_EQ(nm_page_pool_alloc_netmems(f.pool, refs, 10), 10);
	for (int i = 0; i < 10; i++)
		nm_netmem_put_cached(&c, refs[i]);
	nm_page_pool_destroy(f.pool);
	CHECK_EQ(atomic_load(&destroys), 0);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 10);
	nm_pp_put_cache_flush(&c);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

/* Foreign threads, each with its own cache, put back what the owner hands
 * them; the owner allocates until it has handed out OPS buffers. */
#define THREADS 3
#if defined(__SANITIZE_THREAD__)
#define OPS (1u << 16)
#else
#define OPS (1u << 20)
#endif
#define SLOTS 256

struct lane {
	_Alignas(64) atomic_uint_least64_t head;
	atomic_uint_least64_t tail;
	nm_netmem_ref slots[SLOTS];
	atomic_bool done;
	uint64_t returned;
};

static void *putter(void *arg)
{
	struct lane *l = arg;
	struct nm_pp_put_cache c;

	nm_pp_put_cache_init(&c);
	for (;;) {
		uint64_t t = atomic_load_explicit(&l->tail, memory_order_acquire);
		uint64_t hd = atomic_load_explicit(&l->head, memory_order_relaxed);

		if (t == hd) {
			/* Idle: what the cache holds goes home (else the
			 * owner could run dry while we wait). */
			nm_pp_put_cache_flush(&c);
			if (atomic_load(&l->done) && atomic_load(&l->tail) == hd)
				break;
			sched_yield();
			continue;
		}
		for (; hd != t; hd++, l->returned++)
			nm_netmem_put_cached(&c, l->slots[hd % SLOTS]);
		atomic_store_explicit(&l->head, hd, memory_order_release);
	}
	return NULL;
}

static void test_foreign_threads_conserve_buffers(void)
{
	static struct lane lanes[THREADS];
	pthread_t th[THREADS];
	uint64_t handed = 0, returned = 0;
	struct fixture f;

	CHECK_EQ(fixture_up(&f, 2048, 1024), 0);
	for (int i = 0; i < THREADS; i++) {
		memset(&lanes[i], 0, sizeof(lanes[i]));
		CHECK_EQ(pthread_create(&th[i], NULL, putter, &lanes[i]), 0);
	}
	while (handed < OPS) {
		struct lane *l = &lanes[handed % THREADS];
		uint64_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);
		nm_netmem_ref n;

		if (t - atomic_load_explicit(&l->head, memory_order_acquire) >= SLOTS ||
		    !(n = nm_page_pool_alloc_netmem(f.pool))) {
			sched_yield();
			continue;
		}
		/* Some shared: the putter's put is then not the last. */
		if (handed % 7 == 0)
			nm_netmem_get(n);
		l->slots[t % SLOTS] = n;
		atomic_store_explicit(&l->tail, t + 1, memory_order_release);
		if (handed % 7 == 0)
			nm_page_pool_put_netmem(f.pool, n, true);
		handed++;
	}
	for (int i = 0; i < THREADS; i++)
		atomic_store(&lanes[i].done, true);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		returned += lanes[i].returned;
	}
	printf("# %d threads, %llu buffers put back through their caches\n", THREADS,
	       (unsigned long long)returned);
	CHECK_EQ(returned, OPS);
	CHECK_EQ(in_flight(f.pool), 0);
	CHECK_EQ(atomic_load(&f.pool->shared_refs), 0);
	nm_page_pool_destroy(f.pool);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

NM_TEST_MAIN(
	NM_TEST(test_held_until_flush),
	NM_TEST(test_destroy_before_flush),
	NM_TEST(test_foreign_threads_conserve_buffers),
)
