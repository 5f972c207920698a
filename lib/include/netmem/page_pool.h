/* SPDX-License-Identifier: MIT */
/*
 * Page pool: a per-queue buffer recycler over a memory provider (the kernel's
 * page_pool). One thread, the queue's owner, allocates; any thread may put
 * buffers back.
 *
 *  - alloc.cache: a plain array used only by the owner: the fast path is an
 *    index decrement, no atomics.
 *  - ring: a lock-free multi-producer ring for buffers put back from other
 *    threads (or when the cache is full); the owner refills from it.
 *  - the provider: asked for buffers only when cache and ring are empty.
 *
 * A pool never holds more than params.pool_size buffers (cached, in the ring
 * or in flight), so the ring can never overflow and a put never fails.
 *
 * nm_page_pool_destroy() is called by the owner. Buffers still in flight keep
 * the pool (and through it the provider, e.g. a dmabuf binding) alive; the
 * last one put back frees it. This is what makes unbinding with buffers in
 * flight safe.
 */
#ifndef NETMEM_PAGE_POOL_H
#define NETMEM_PAGE_POOL_H

#include <netmem/atomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <netmem/build_config.h>
#include <netmem/err.h>
#include <netmem/mp.h>
#include <netmem/net_iov.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NM_PP_CACHE_SIZE 128
#define NM_PP_REFILL     64

/* Flags, named and numbered as the kernel's PP_FLAG_*. */
#define NM_PP_FLAG_DMA_MAP                 0x1u  /* buffers need DMA addresses */
#define NM_PP_FLAG_ALLOW_UNREADABLE_NETMEM 0x8u  /* net_iovs may be handed out */

struct nm_page_pool_params {
	uint32_t pool_size;   /* most buffers held at once; > 0 */
	uint32_t flags;       /* NM_PP_FLAG_* */
	int nid;              /* NUMA node for metadata, -1 any */
	uint32_t queue_idx;   /* for introspection */
	struct nm_mp_params mp;
};

struct nm_page_pool_stats {
	uint64_t alloc_fast;     /* from the cache */
	uint64_t alloc_slow;     /* cache empty: refilled from ring or provider */
	uint64_t alloc_refill;   /* buffers moved ring -> cache */
	uint64_t alloc_provider; /* buffers taken from the provider */
	uint64_t alloc_empty;    /* allocation failed: nothing left */
	uint64_t recycle_cached; /* put straight back into the cache */
	uint64_t recycle_ring;   /* came back through the ring (snapshot) */
	uint64_t released;       /* given back to the provider */
	uint64_t in_flight;      /* held outside the pool now (snapshot only) */
	uint64_t excess_puts;    /* put back beyond what was taken (a double
				  * put): refused, reported once on stderr */
};

struct nm_ptr_ring;

/*
 * Counters one thread writes (the owner; after destroy, the drainer that
 * holds drain_lock) and others read (queue-get): written with relaxed
 * atomic stores, read with relaxed atomic loads, so a reader never sees a
 * torn value. On common CPUs both are plain moves: the fast path pays
 * nothing for it.
 */
#define NM_PP_SET(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define NM_PP_ADD(field, n) NM_PP_SET(field, (field) + (n))
#define NM_PP_READ(field)   __atomic_load_n(&(field), __ATOMIC_RELAXED)

struct nm_page_pool {
	/* Owner-only hot state first. */
	struct {
		uint32_t count;
		/* 16-byte aligned: the bulk copies move two handles per
		 * vector, and one split over two cache lines costs more
		 * (0.34 -> 0.30 ns per buffer in bulks: docs/results.md). */
		NM_ALIGNAS(16) nm_netmem_ref cache[NM_PP_CACHE_SIZE];
	} alloc;
	struct nm_page_pool_stats stats;

	/* Extra references outstanding on this pool's buffers, the sum of
	 * (refcount - 1): zero means every buffer has a single user, so a bulk
	 * put needs no per-buffer check. Written only when buffers are shared,
	 * by any thread; its own cache line. */
	NM_ALIGNAS(64) nm_atomic_long shared_refs;

	NM_ALIGNAS(64) struct nm_page_pool_params p;
	void *mp_priv;                 /* the provider's state for this pool */
	struct nm_ptr_ring *ring;
	uint64_t hold_cnt;             /* taken from the provider */
	uint64_t release_cnt;          /* given back to the provider */
	nm_atomic_int refs;               /* owner + destroy + releasers after it */
	nm_atomic_flag drain_lock;        /* after destroy: who releases */
	bool owner_dropped;            /* under drain_lock */
	nm_atomic_bool excess_reported; /* stderr told once */
};

int nm_page_pool_create(const struct nm_page_pool_params *params,
			struct nm_page_pool **out, struct nm_err *err);
void nm_page_pool_destroy(struct nm_page_pool *pool);

/* Out-of-line parts of the fast path below. */
nm_netmem_ref nm_page_pool_alloc_slow(struct nm_page_pool *pool);
unsigned int nm_page_pool_alloc_bulk_slow(struct nm_page_pool *pool,
					  nm_netmem_ref *out, unsigned int n);
void nm_page_pool_recycle_slow(struct nm_page_pool *pool, nm_netmem_ref netmem,
			       bool allow_direct);

/* Any thread: put back buffers of @pool whose last reference the caller
 * has already dropped. */
void nm_page_pool_return_bulk(struct nm_page_pool *pool,
			      const nm_netmem_ref *refs, unsigned int n);

/* Any thread: put back buffers of any pools, one ring operation per run of
 * buffers from the same pool. */
void nm_netmem_put_bulk(const nm_netmem_ref *refs, unsigned int n);

/*
 * Debug builds (NM_DEBUG_REFCOUNT: meson -Ddebug_refcount, on by default
 * with buildtype=debug): a buffer the pool holds has reference count 0, one
 * handed out 1 or more, and every put, get and hand-out checks it, so a
 * double or excess put is caught at that put: the buffer is named on
 * stderr and the process aborts. Release builds keep the count at 1 in the
 * pool and check nothing on the fast path (an excess put is then refused
 * only when the ring is full: stats.excess_puts).
 */
bool nm_pp_debug_unref(struct nm_net_iov *niov);
void nm_pp_debug_get(struct nm_net_iov *niov, int old);
void nm_pp_debug_handout(const nm_netmem_ref *refs, unsigned int n);

/*
 * Owner thread: @n buffers the caller holds leave the pool for good: the
 * provider takes them back now (release_netmems) and the pool never
 * recycles them. For a provider whose buffers live on outside the pool once
 * received (a DPDK mbuf handed to the application, which frees it to its
 * mempool); the pool's counts stay exact (released, not in flight).
 */
void nm_page_pool_release_netmems(struct nm_page_pool *pool,
				  const nm_netmem_ref *refs, unsigned int n);

/* Snapshot of the counters, in_flight computed. Any thread, while the pool
 * exists (each counter is read atomically; the set is not one instant). */
void nm_page_pool_get_stats(const struct nm_page_pool *pool,
			    struct nm_page_pool_stats *st);

/*
 * Copy @n handles (the two never overlap). Not memcpy(): for the short runs
 * a burst moves, the library call and its size dispatch cost more than the
 * copy (docs/results.md).
 */
static inline void nm_pp_copy_refs(nm_netmem_ref *dst,
				   const nm_netmem_ref *src, unsigned int n)
{
	const nm_netmem_ref *end = src + (n & ~7u);

	/* Eight at a time: fixed-size copies the compiler makes vector
	 * moves, pointers stepped so the loop adds no address arithmetic. */
	for (; src != end; src += 8, dst += 8)
		__builtin_memcpy(dst, src, 8 * sizeof(*dst));
	/* The rest without a loop (a loop here becomes a memmove() call). */
	if (n & 4) {
		__builtin_memcpy(dst, src, 4 * sizeof(*dst));
		src += 4;
		dst += 4;
	}
	if (n & 2) {
		__builtin_memcpy(dst, src, 2 * sizeof(*dst));
		src += 2;
		dst += 2;
	}
	if (n & 1)
		*dst = *src;
}

/*
 * The fast paths keep the cache count in a local: the count is stored with
 * an atomic store (for queue-get readers), which the compiler never reads
 * back from a register, so reading pool->alloc.count again would wait for
 * the store to forward.
 */

/* One buffer from the pool, or 0 when none is left. Owner thread only. */
static inline nm_netmem_ref nm_page_pool_alloc_netmem(struct nm_page_pool *pool)
{
	uint32_t count = pool->alloc.count;

	if (__builtin_expect(count != 0, 1)) {
		nm_netmem_ref netmem = pool->alloc.cache[--count];

		NM_PP_SET(pool->alloc.count, count);
		NM_PP_ADD(pool->stats.alloc_fast, 1);
		if (NM_DEBUG_REFCOUNT)
			nm_pp_debug_handout(&netmem, 1);
		return netmem;
	}
	return nm_page_pool_alloc_slow(pool);
}

/* Up to @n buffers; returns how many. Owner thread only. */
static inline unsigned int nm_page_pool_alloc_netmems(struct nm_page_pool *pool,
						      nm_netmem_ref *out,
						      unsigned int n)
{
	uint32_t count = pool->alloc.count;

	if (__builtin_expect(count >= n, 1)) {
		count -= n;
		NM_PP_SET(pool->alloc.count, count);
		nm_pp_copy_refs(out, &pool->alloc.cache[count], n);
		NM_PP_ADD(pool->stats.alloc_fast, n);
		if (NM_DEBUG_REFCOUNT)
			nm_pp_debug_handout(out, n);
		return n;
	}
	return nm_page_pool_alloc_bulk_slow(pool, out, n);
}

/*
 * Take one more reference on an allocated buffer (e.g. shared by two users).
 * The caller holds a reference, so the buffer's pool is alive. The pool's
 * count goes up before the buffer's, so nobody sees a shared buffer while
 * the pool's count says none is.
 */
static inline void nm_netmem_get(nm_netmem_ref netmem)
{
	struct nm_net_iov *niov = nm_netmem_to_net_iov(netmem);
	int old;

	NM_ATOMIC_FETCH_ADD(&niov->pp->shared_refs, 1, NM_MO_RELAXED);
	old = NM_ATOMIC_FETCH_ADD(&niov->pp_ref_count, 1, NM_MO_RELEASE);
	if (NM_DEBUG_REFCOUNT && old < 1)
		nm_pp_debug_get(niov, old);
}

bool nm_net_iov_unref_slow(struct nm_net_iov *niov);

/*
 * Drop one reference; true when it was the last, so the buffer goes back to
 * its pool. The common case, a sole owner, needs no atomic write (as the
 * kernel's page_pool_unref_netmem()).
 */
static inline bool nm_net_iov_unref_is_last(struct nm_net_iov *niov)
{
	if (NM_DEBUG_REFCOUNT)
		return nm_pp_debug_unref(niov);
	if (NM_ATOMIC_LOAD(&niov->pp_ref_count, NM_MO_ACQUIRE) == 1)
		return true;
	return nm_net_iov_unref_slow(niov);
}

/*
 * Put a buffer back. @allow_direct: the caller is the pool's owner thread and
 * the pool is not destroyed, so the buffer may go straight into the cache.
 * Any other thread passes false.
 */
static inline void nm_page_pool_put_netmem(struct nm_page_pool *pool,
					   nm_netmem_ref netmem,
					   bool allow_direct)
{
	uint32_t count;

	if (!nm_net_iov_unref_is_last(nm_netmem_to_net_iov(netmem)))
		return;
	/* Only the owner may read the count. */
	if (allow_direct && (count = pool->alloc.count) < NM_PP_CACHE_SIZE) {
		pool->alloc.cache[count] = netmem;
		NM_PP_SET(pool->alloc.count, count + 1);
		NM_PP_ADD(pool->stats.recycle_cached, 1);
		return;
	}
	nm_page_pool_recycle_slow(pool, netmem, allow_direct);
}

/* Put back @n buffers of @pool (references checked one by one). */
static inline void nm_page_pool_put_netmem_bulk(struct nm_page_pool *pool,
						const nm_netmem_ref *refs,
						unsigned int n,
						bool allow_direct)
{
	uint32_t count;

	/* Only the owner may read the count. */
	if (allow_direct && n <= NM_PP_CACHE_SIZE - (count = pool->alloc.count)) {
		uint32_t kept = 0;

		/* No buffer of this pool is shared: each has one user, us.
		 * (Debug builds check each buffer instead.) */
		if (!NM_DEBUG_REFCOUNT &&
		    __builtin_expect(NM_ATOMIC_LOAD(&pool->shared_refs,
						    NM_MO_ACQUIRE) == 0, 1)) {
			nm_pp_copy_refs(&pool->alloc.cache[count], refs, n);
			NM_PP_SET(pool->alloc.count, count + n);
			NM_PP_ADD(pool->stats.recycle_cached, n);
			return;
		}

		for (unsigned int i = 0; i < n; i++)
			if (nm_net_iov_unref_is_last(nm_netmem_to_net_iov(refs[i])))
				pool->alloc.cache[count + kept++] = refs[i];
		NM_PP_SET(pool->alloc.count, count + kept);
		NM_PP_ADD(pool->stats.recycle_cached, kept);
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		nm_page_pool_put_netmem(pool, refs[i], allow_direct);
}

/*
 * Owner thread only: recycle buffers the caller holds the sole reference to
 * (a driver taking back buffers it never handed out, or an application that
 * never shared them). No per-buffer reference check, the same work as a
 * mempool put (the kernel's page_pool_put_unrefed_netmem idea).
 */
static inline void nm_page_pool_recycle_direct_bulk(struct nm_page_pool *pool,
						    const nm_netmem_ref *refs,
						    unsigned int n)
{
	uint32_t count = pool->alloc.count;

	if (!NM_DEBUG_REFCOUNT &&
	    __builtin_expect(n <= NM_PP_CACHE_SIZE - count, 1)) {
		nm_pp_copy_refs(&pool->alloc.cache[count], refs, n);
		NM_PP_SET(pool->alloc.count, count + n);
		NM_PP_ADD(pool->stats.recycle_cached, n);
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		nm_page_pool_put_netmem(pool, refs[i], true);
}

/* Put back a buffer from any thread: finds its pool itself. */
static inline void nm_netmem_put(nm_netmem_ref netmem)
{
	nm_page_pool_put_netmem(nm_netmem_to_net_iov(netmem)->pp, netmem, false);
}

/*
 * A put cache: for a thread other than the pool's owner that puts back
 * many buffers one at a time (an application done with received data).
 * Each put is a look at the buffer's count and a store here; buffers of one
 * pool go to its ring NM_PP_PUT_CACHE at a time, one ring operation each
 * time (a single foreign put is one ring operation per buffer). The caller
 * owns it (on its stack, or in its own per-thread state) and flushes it:
 * until then its buffers are in flight, and a destroyed pool stays until
 * they come back (the same as buffers still held). Like DPDK's user-owned
 * mempool caches for non-EAL threads.
 */
#define NM_PP_PUT_CACHE 32

struct nm_pp_put_cache {
	struct nm_page_pool *pool;   /* whose buffers it holds; NULL: none */
	uint32_t count;
	nm_netmem_ref refs[NM_PP_PUT_CACHE];
};

static inline void nm_pp_put_cache_init(struct nm_pp_put_cache *c)
{
	c->pool = NULL;
	c->count = 0;
}

/* Any thread, the cache's: every buffer it holds goes back to its pool. */
void nm_pp_put_cache_flush(struct nm_pp_put_cache *c);

/* Put a buffer back through @c (a buffer of another pool, or a full cache,
 * flushes first). */
static inline void nm_netmem_put_cached(struct nm_pp_put_cache *c, nm_netmem_ref netmem)
{
	struct nm_net_iov *niov = nm_netmem_to_net_iov(netmem);

	if (!nm_net_iov_unref_is_last(niov))
		return;
	if (__builtin_expect(niov->pp != c->pool || c->count == NM_PP_PUT_CACHE, 0)) {
		nm_pp_put_cache_flush(c);
		c->pool = niov->pp;
	}
	c->refs[c->count++] = netmem;
}

#ifdef __cplusplus
}
#endif
#endif
