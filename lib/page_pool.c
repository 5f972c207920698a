/* SPDX-License-Identifier: MIT */
/*
 * Page pool slow paths, creation and the deferred destroy.
 *
 * Lifetime: pool->refs counts the owner's share (1, dropped once the last
 * buffer is back after destroy), destroy itself while it runs, and every
 * thread releasing buffers of a destroyed pool. The pool is freed when the
 * count reaches zero.
 *
 * A foreign put is one produce into the recycle ring and nothing else: no
 * pin, no fence, no look at a flag. Destroy closes the ring first
 * (nm_ptr_ring_close(): it returns once every produce that claimed before
 * has published, and a producer's publish is its last touch of the pool),
 * then drains it. A put that finds the ring closed still holds its buffers,
 * and they keep the pool: it pins the pool and releases them to the
 * provider itself, under drain_lock; whoever brings the last buffer home
 * drops the owner's share. (The kernel's page_pool keeps the pool for its
 * in-flight pages the same way, and frees it from a retry timer.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/page_pool.h>

#include "ptr_ring.h"
#include "wait_turn.h"

#ifdef NM_PP_TEST_HOOKS
#include "page_pool_test.h"

void (*nm_pp_test_hook)(struct nm_page_pool *pool, enum nm_pp_test_point at);
#define PP_TEST_POINT(pool, at) \
	do { if (nm_pp_test_hook) nm_pp_test_hook(pool, at); } while (0)
#else
#define PP_TEST_POINT(pool, at) do { } while (0)
#endif

int nm_page_pool_create(const struct nm_page_pool_params *params,
			struct nm_page_pool **out, struct nm_err *err)
{
	const struct nm_memory_provider_ops *ops = params->mp.ops;
	struct nm_page_pool *pool;
	int ret;

	if (!params->pool_size)
		return nm_err_set(err, -EINVAL, "page pool size must be > 0");
	if (!ops || !ops->alloc_netmems || !ops->release_netmems)
		return nm_err_set(err, -EINVAL,
				  "page pool needs a memory provider with alloc/release ops");
	pool = aligned_alloc(_Alignof(struct nm_page_pool), sizeof(*pool));
	if (!pool)
		return nm_err_set(err, -ENOMEM, "out of memory for page pool");
	memset(pool, 0, sizeof(*pool));
	atomic_init(&pool->shared_refs, 0);
	pool->p = *params;
	pool->mp_priv = params->mp.priv;
	/* Every buffer the pool holds fits in the ring: a put never fails. */
	pool->ring = nm_ptr_ring_create(params->pool_size);
	if (!pool->ring) {
		free(pool);
		return nm_err_set(err, -ENOMEM, "out of memory for recycle ring");
	}
	atomic_init(&pool->refs, 1);
	atomic_init(&pool->excess_reported, false);
	atomic_flag_clear(&pool->drain_lock);
	if (ops->init) {
		ret = ops->init(pool);
		if (ret) {
			nm_ptr_ring_destroy(pool->ring);
			free(pool);
			return nm_err_set(err, ret,
					  "memory provider '%s' refused the pool: %s",
					  ops->name, ret == -EINVAL ?
					  "pool flags do not allow its buffers" :
					  "init failed");
		}
	}
	*out = pool;
	return 0;
}

static void pool_release(struct nm_page_pool *pool, const nm_netmem_ref *refs,
			 unsigned int n)
{
	if (!n)
		return;
	pool->p.mp.ops->release_netmems(pool, refs, n);
	NM_PP_ADD(pool->release_cnt, n);
	NM_PP_ADD(pool->stats.released, n);
}

static void pool_free(struct nm_page_pool *pool)
{
	if (pool->p.mp.ops->destroy)
		pool->p.mp.ops->destroy(pool);
	nm_ptr_ring_destroy(pool->ring);
	free(pool);
}

/* Drop a reference; the last one frees a destroyed, empty pool. */
static void pool_unpin(struct nm_page_pool *pool)
{
	if (atomic_fetch_sub_explicit(&pool->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* refs hit zero only after destroy, with nothing outstanding. */
	pool_free(pool);
}

/*
 * After destroy (the ring closed): release @refs[0..n) and what the ring
 * still holds, under drain_lock (the ring's one consumer then, and the
 * counters' one writer). Whoever brings the last buffer home drops the
 * owner's share. Runs with a pin held. The lock is held for one provider
 * release of a few buffers: a thread that finds it taken waits its turn.
 */
static void pool_release_destroyed(struct nm_page_pool *pool, const nm_netmem_ref *refs,
				   unsigned int n)
{
	nm_netmem_ref batch[NM_PP_REFILL];
	bool empty_now = false;
	unsigned int spins = 0, k;

	while (atomic_flag_test_and_set_explicit(&pool->drain_lock, memory_order_acquire))
		nm_wait_turn(&spins);
	pool_release(pool, refs, n);
	while ((k = nm_ptr_ring_consume(pool->ring, batch, NM_PP_REFILL)))
		pool_release(pool, batch, k);
	if (pool->hold_cnt == pool->release_cnt && !pool->owner_dropped) {
		pool->owner_dropped = true;
		empty_now = true;
	}
	atomic_flag_clear_explicit(&pool->drain_lock, memory_order_release);
	if (empty_now)
		pool_unpin(pool);
}

void nm_page_pool_destroy(struct nm_page_pool *pool)
{
	if (!pool)
		return;
	pool_release(pool, pool->alloc.cache, pool->alloc.count);
	NM_PP_SET(pool->alloc.count, 0);
	atomic_fetch_add_explicit(&pool->refs, 1, memory_order_relaxed);
	PP_TEST_POINT(pool, NM_PP_AT_DESTROY_BEGUN);
	/* From here a put finds the ring closed and releases its own; the
	 * ones that got in before are all published when this returns. */
	nm_ptr_ring_close(pool->ring);
	PP_TEST_POINT(pool, NM_PP_AT_RING_CLOSED);
	pool_release_destroyed(pool, NULL, 0);
	pool_unpin(pool);
}

/*
 * Debug builds' reference count checks (NM_DEBUG_REFCOUNT, page_pool.h):
 * 0 while the pool holds a buffer, 1 or more while it is out.
 */
static _Noreturn void pp_debug_bad(const struct nm_net_iov *niov, const char *what,
				   int count, const char *why)
{
	const struct nm_net_iov_area *a = nm_net_iov_owner(niov);

	fprintf(stderr, "netmem: debug refcount: %s buffer %u of area %p (offset 0x%llx, "
		"iova 0x%llx, pool %p) with reference count %d: %s\n", what, niov->index,
		(const void *)a, (unsigned long long)nm_net_iov_offset(niov),
		(unsigned long long)nm_net_iov_dma_addr(niov), (void *)niov->pp, count, why);
	abort();
}

bool nm_pp_debug_unref(struct nm_net_iov *niov)
{
	int c = atomic_load_explicit(&niov->pp_ref_count, memory_order_acquire);

	for (;;) {
		if (c < 1)
			pp_debug_bad(niov, "put back", c,
				     "it is already back in its pool (a double or excess put)");
		if (c > 1)
			return nm_net_iov_unref_slow(niov);
		/* The sole reference: 0 marks the buffer as the pool's. */
		if (atomic_compare_exchange_weak_explicit(&niov->pp_ref_count, &c, 0,
							  memory_order_acq_rel,
							  memory_order_acquire))
			return true;
	}
}

void nm_pp_debug_get(struct nm_net_iov *niov, int old)
{
	pp_debug_bad(niov, "reference taken on", old,
		     "it is back in its pool (put back before this get)");
}

void nm_pp_debug_handout(const nm_netmem_ref *refs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct nm_net_iov *niov = nm_netmem_to_net_iov(refs[i]);
		int old = atomic_exchange_explicit(&niov->pp_ref_count, 1,
						   memory_order_acq_rel);

		if (old)
			pp_debug_bad(niov, "handed out", old,
				     "it is still in use (it went back to the pool twice)");
	}
}

static unsigned int pool_refill(struct nm_page_pool *pool, unsigned int want)
{
	unsigned int got;
	uint64_t held;

	got = nm_ptr_ring_consume(pool->ring, pool->alloc.cache, want);
	if (got) {
		NM_PP_ADD(pool->stats.alloc_refill, got);
		return got;
	}
	held = pool->hold_cnt - pool->release_cnt;
	if (held >= pool->p.pool_size)
		return 0;
	if (want > pool->p.pool_size - held)
		want = (unsigned int)(pool->p.pool_size - held);
	got = pool->p.mp.ops->alloc_netmems(pool, pool->alloc.cache, want);
	for (unsigned int i = 0; i < got; i++) {
		struct nm_net_iov *niov = nm_netmem_to_net_iov(pool->alloc.cache[i]);

		niov->pp = pool;
		if (NM_DEBUG_REFCOUNT)
			/* The provider's 1 says taken from it; here, the
			 * pool's (0) until handed out. */
			atomic_store_explicit(&niov->pp_ref_count, 0,
					      memory_order_relaxed);
	}
	NM_PP_ADD(pool->hold_cnt, got);
	NM_PP_ADD(pool->stats.alloc_provider, got);
	return got;
}

nm_netmem_ref nm_page_pool_alloc_slow(struct nm_page_pool *pool)
{
	NM_PP_ADD(pool->stats.alloc_slow, 1);
	NM_PP_SET(pool->alloc.count, pool_refill(pool, NM_PP_REFILL));
	if (!pool->alloc.count) {
		NM_PP_ADD(pool->stats.alloc_empty, 1);
		return 0;
	}
	NM_PP_SET(pool->alloc.count, pool->alloc.count - 1);
	if (NM_DEBUG_REFCOUNT)
		nm_pp_debug_handout(&pool->alloc.cache[pool->alloc.count], 1);
	return pool->alloc.cache[pool->alloc.count];
}

unsigned int nm_page_pool_alloc_bulk_slow(struct nm_page_pool *pool,
					  nm_netmem_ref *out, unsigned int n)
{
	unsigned int done = 0;

	NM_PP_ADD(pool->stats.alloc_slow, 1);
	while (done < n) {
		unsigned int take;

		if (!pool->alloc.count) {
			NM_PP_SET(pool->alloc.count, pool_refill(pool, NM_PP_REFILL));
			if (!pool->alloc.count) {
				NM_PP_ADD(pool->stats.alloc_empty, 1);
				break;
			}
		}
		take = n - done < pool->alloc.count ? n - done : pool->alloc.count;
		NM_PP_SET(pool->alloc.count, pool->alloc.count - take);
		for (unsigned int i = 0; i < take; i++)
			out[done + i] = pool->alloc.cache[pool->alloc.count + i];
		done += take;
	}
	NM_PP_ADD(pool->stats.alloc_fast, done);
	if (NM_DEBUG_REFCOUNT)
		nm_pp_debug_handout(out, done);
	return done;
}

bool nm_net_iov_unref_slow(struct nm_net_iov *niov)
{
	struct nm_page_pool *pool = niov->pp;
	bool last;
	int old;

	/* Once our reference is gone, another user may return the buffer and
	 * (after destroy) free the pool: pin it until its count is updated. */
	atomic_fetch_add_explicit(&pool->refs, 1, memory_order_relaxed);
	old = atomic_fetch_sub_explicit(&niov->pp_ref_count, 1, memory_order_acq_rel);
	if (NM_DEBUG_REFCOUNT && old < 1)
		pp_debug_bad(niov, "put back", old,
			     "it is already back in its pool (a double or excess put)");
	last = old == 1;
	if (!last)
		atomic_fetch_sub_explicit(&pool->shared_refs, 1, memory_order_release);
	else if (!NM_DEBUG_REFCOUNT)
		/* A concurrent put already took the shared count back;
		 * the pool keeps 1 on the buffers it holds (a debug
		 * build's 0 is already there). */
		atomic_store_explicit(&niov->pp_ref_count, 1, memory_order_relaxed);
	pool_unpin(pool);
	return last;
}

/*
 * The ring never holds more than the pool has handed out, so a full ring
 * means buffers put back twice (or never taken). Producing them would wait
 * forever for a slot nobody frees: they are refused, counted, and said once.
 */
static void pool_excess(struct nm_page_pool *pool, unsigned int n)
{
	__atomic_fetch_add(&pool->stats.excess_puts, n, __ATOMIC_RELAXED);
	if (!atomic_exchange(&pool->excess_reported, true))
		fprintf(stderr, "netmem: page pool of queue %u: %u buffer(s) put back with its "
			"ring full, beyond the %u it can hold (a double or excess put); refused, "
			"not recycled (counted in excess_puts)\n", pool->p.queue_idx, n,
			pool->p.pool_size);
}

/* After a produce into the ring that did not go in: full (a double or
 * excess put), or closed by destroy. */
static void return_refused(struct nm_page_pool *pool, const nm_netmem_ref *refs,
			   unsigned int n, int ret)
{
	if (ret == -ENOSPC) {
		pool_excess(pool, n);
		return;
	}
	/* Closed: the pool is being or was destroyed. Our buffers are still
	 * out, so it is there until they are released: pin it, release them. */
	atomic_fetch_add_explicit(&pool->refs, 1, memory_order_relaxed);
	pool_release_destroyed(pool, refs, n);
	pool_unpin(pool);
}

void nm_page_pool_recycle_slow(struct nm_page_pool *pool, nm_netmem_ref netmem,
			       bool allow_direct)
{
	/* The owner with a full cache, or another thread: one produce. In
	 * the ring, its publish was our last touch of the pool (a destroy
	 * closing the ring waits for it, then drains what we put). */
	int ret = nm_ptr_ring_produce(pool->ring, netmem);

	if (__builtin_expect(!ret, 1))
		return;
	/* The owner never finds the ring closed: destroy is its own call. */
	if (allow_direct)
		pool_excess(pool, 1);
	else
		return_refused(pool, &netmem, 1, ret);
}

void nm_page_pool_return_bulk(struct nm_page_pool *pool,
			      const nm_netmem_ref *refs, unsigned int n)
{
	int ret = nm_ptr_ring_produce_bulk(pool->ring, refs, n);

	if (__builtin_expect(!ret, 1))
		return;
	return_refused(pool, refs, n, ret);
}

void nm_netmem_put_bulk(const nm_netmem_ref *refs, unsigned int n)
{
	nm_netmem_ref batch[NM_PP_REFILL];
	struct nm_page_pool *cur = NULL;
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct nm_net_iov *niov = nm_netmem_to_net_iov(refs[i]);

		if (!nm_net_iov_unref_is_last(niov))
			continue;
		if (k && (niov->pp != cur || k == NM_PP_REFILL)) {
			nm_page_pool_return_bulk(cur, batch, k);
			k = 0;
		}
		cur = niov->pp;
		batch[k++] = refs[i];
	}
	if (k)
		nm_page_pool_return_bulk(cur, batch, k);
}

void nm_pp_put_cache_flush(struct nm_pp_put_cache *c)
{
	if (c->count)
		nm_page_pool_return_bulk(c->pool, c->refs, c->count);
	c->count = 0;
	/* The pool may go once its buffers are home: forget it. */
	c->pool = NULL;
}

void nm_page_pool_release_netmems(struct nm_page_pool *pool,
				  const nm_netmem_ref *refs, unsigned int n)
{
	pool_release(pool, refs, n);
}

void nm_page_pool_get_stats(const struct nm_page_pool *pool,
			    struct nm_page_pool_stats *st)
{
	const struct nm_page_pool_stats *s = &pool->stats;
	uint64_t outstanding = NM_PP_READ(pool->hold_cnt) - NM_PP_READ(pool->release_cnt);
	uint64_t parked = NM_PP_READ(pool->alloc.count) + nm_ptr_ring_count(pool->ring);

	*st = (struct nm_page_pool_stats){
		.alloc_fast = NM_PP_READ(s->alloc_fast),
		.alloc_slow = NM_PP_READ(s->alloc_slow),
		.alloc_refill = NM_PP_READ(s->alloc_refill),
		.alloc_provider = NM_PP_READ(s->alloc_provider),
		.alloc_empty = NM_PP_READ(s->alloc_empty),
		.recycle_cached = NM_PP_READ(s->recycle_cached),
		.released = NM_PP_READ(s->released),
		.excess_puts = NM_PP_READ(s->excess_puts),
	};
	/* Buffers put back through the ring are counted when the owner takes
	 * them back, so producers never share a counter. */
	st->recycle_ring = st->alloc_refill;
	st->in_flight = outstanding > parked ? outstanding - parked : 0;
}
