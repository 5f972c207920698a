/* SPDX-License-Identifier: MIT */
/*
 * The free list of a "dmabuf" pool: a bounded lock-free ring of object
 * pointers, for any number of producers and consumers. The scheme is
 * rte_ring's, and lib/ptr_ring.h's for netmem handles: a thread claims a run
 * of slots by moving the head with one CAS, copies, then publishes by moving
 * the tail once the threads that claimed earlier runs have published theirs.
 *
 * Specialised for the pool, which is what makes it cheaper than a generic
 * rte_ring: pointers only, all or nothing, copies in runs of four pointers
 * that the compiler turns into vector moves, and a single-producer or
 * single-consumer side (RTE_MEMPOOL_F_SP_PUT / SC_GET) claims with a plain
 * store. Its capacity is at least the pool's object count, so a put always
 * finds room; one that does not is a double put and is refused.
 */
#ifndef NETMEM_DPDK_OBJ_RING_H
#define NETMEM_DPDK_OBJ_RING_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_pause.h>

struct nm_obj_ring {
	uint32_t prod_head;
	uint32_t prod_tail;
	uint8_t pad0[RTE_CACHE_LINE_SIZE - 8];
	uint32_t cons_head;
	uint32_t cons_tail;
	uint8_t pad1[RTE_CACHE_LINE_SIZE - 8];
	uint32_t capacity;      /* entries it may hold */
	uint32_t mask;          /* slots - 1, slots a power of two */
	bool sp, sc;            /* one producer / one consumer at a time */
	uint8_t pad2[RTE_CACHE_LINE_SIZE - 10];
	void *slots[];
};

/* Bytes for a ring of @capacity entries. */
static inline size_t nm_obj_ring_size(uint32_t capacity)
{
	return sizeof(struct nm_obj_ring) + (size_t)rte_align32pow2(capacity) * sizeof(void *);
}

/* Set up @r (nm_obj_ring_size(@capacity) zeroed bytes), empty. */
static inline void nm_obj_ring_init(struct nm_obj_ring *r, uint32_t capacity, bool sp,
				    bool sc)
{
	r->capacity = capacity;
	r->mask = rte_align32pow2(capacity) - 1;
	r->sp = sp;
	r->sc = sc;
}

/* Entries in the ring; exact when nothing runs, a snapshot otherwise. */
static inline uint32_t nm_obj_ring_count(const struct nm_obj_ring *r)
{
	/* Consumer first: the count can only look smaller, never wrap. */
	uint32_t ct = __atomic_load_n(&r->cons_tail, __ATOMIC_ACQUIRE);

	return __atomic_load_n(&r->prod_tail, __ATOMIC_ACQUIRE) - ct;
}

/* Wait for the claims before ours to publish (*@tail reaching @pos): a few
 * nanoseconds normally; if one was preempted mid-copy (a thread that is no
 * pinned lcore), give it the CPU instead of spinning out our time slice.
 * Out of line: the fast path only tests the tail once. */
static __rte_noinline void nm_obj_ring_wait_turn(const uint32_t *tail, uint32_t pos)
{
	for (unsigned int spins = 0; __atomic_load_n(tail, __ATOMIC_ACQUIRE) != pos; spins++) {
		if (spins > 256)
			sched_yield();
		else
			rte_pause();
	}
}

/* Move *@at from *@head to *@head + @n; on failure *@head is the value
 * found. The old value is kept in the caller's register, not taken from
 * cmpxchg's result: what follows (the slot addresses, the copy) then does
 * not wait out the locked instruction's latency, as with rte_ring's
 * rte_atomic32_cmpset(). */
static __rte_always_inline bool obj_ring_claim(uint32_t *at, uint32_t *head, uint32_t n)
{
	uint32_t found = *head;

	if (__atomic_compare_exchange_n(at, &found, *head + n, false, __ATOMIC_ACQUIRE,
					__ATOMIC_ACQUIRE))
		return true;
	*head = found;
	return false;
}

/* Copy @n pointers, four at a time where it can (fixed-size memcpy becomes
 * vector moves; a loop of single pointers stays scalar). */
static inline void nm_obj_copy(void **restrict d, void *const *restrict s, uint32_t n)
{
	for (; n >= 4; n -= 4, d += 4, s += 4)
		memcpy(d, s, 4 * sizeof(*d));
	for (uint32_t i = 0; i < n; i++)
		d[i] = s[i];
}

/* Slots [pos, pos + n) in at most two straight runs (around the end). */
static inline void nm_obj_ring_copy_in(struct nm_obj_ring *r, uint32_t pos,
				       void *const *in, uint32_t n)
{
	uint32_t at = pos & r->mask, first = r->mask + 1 - at;

	if (likely(first >= n)) {
		nm_obj_copy(&r->slots[at], in, n);
		return;
	}
	nm_obj_copy(&r->slots[at], in, first);
	nm_obj_copy(&r->slots[0], in + first, n - first);
}

static inline void nm_obj_ring_copy_out(const struct nm_obj_ring *r, uint32_t pos,
					void **out, uint32_t n)
{
	uint32_t at = pos & r->mask, first = r->mask + 1 - at;

	if (likely(first >= n)) {
		nm_obj_copy(out, &r->slots[at], n);
		return;
	}
	nm_obj_copy(out, &r->slots[at], first);
	nm_obj_copy(out + first, &r->slots[0], n - first);
}

/* The put for one or for many producers (@sp a constant where inlined, so
 * each is its own straight code, without the flag tested in the loops). */
static __rte_always_inline bool obj_ring_put(struct nm_obj_ring *r, void *const *in,
					     uint32_t n, const bool sp)
{
	/* Acquire loads of the head keep it read before the other side's
	 * tail (DPDK uses a fence; the same on x86, and TSan follows it). */
	uint32_t head = __atomic_load_n(&r->prod_head, __ATOMIC_ACQUIRE);

	do {
		if (r->capacity - (head - __atomic_load_n(&r->cons_tail, __ATOMIC_ACQUIRE)) < n)
			return false;
		if (sp) {
			__atomic_store_n(&r->prod_head, head + n, __ATOMIC_RELAXED);
			break;
		}
	} while (!obj_ring_claim(&r->prod_head, &head, n));
	nm_obj_ring_copy_in(r, head, in, n);
	/* Earlier claims publish first: the tail only moves in order. */
	if (!sp && unlikely(__atomic_load_n(&r->prod_tail, __ATOMIC_ACQUIRE) != head))
		nm_obj_ring_wait_turn(&r->prod_tail, head);
	/* Release: the slot writes before a consumer's acquire of the tail. */
	__atomic_store_n(&r->prod_tail, head + n, __ATOMIC_RELEASE);
	return true;
}

/* Put all @n or nothing; false when there is no room for them. */
static inline bool nm_obj_ring_put(struct nm_obj_ring *r, void *const *in, uint32_t n)
{
	if (unlikely(!n))
		return true;
	return unlikely(r->sp) ? obj_ring_put(r, in, n, true) : obj_ring_put(r, in, n, false);
}

static __rte_always_inline bool obj_ring_take(struct nm_obj_ring *r, void **out,
					      uint32_t n, const bool sc)
{
	uint32_t head = __atomic_load_n(&r->cons_head, __ATOMIC_ACQUIRE);

	do {
		/* Pairs with the producers' release of prod_tail. */
		if (__atomic_load_n(&r->prod_tail, __ATOMIC_ACQUIRE) - head < n)
			return false;
		if (sc) {
			__atomic_store_n(&r->cons_head, head + n, __ATOMIC_RELAXED);
			break;
		}
	} while (!obj_ring_claim(&r->cons_head, &head, n));
	nm_obj_ring_copy_out(r, head, out, n);
	if (!sc && unlikely(__atomic_load_n(&r->cons_tail, __ATOMIC_ACQUIRE) != head))
		nm_obj_ring_wait_turn(&r->cons_tail, head);
	/* Release: our slot reads happen before a producer reuses them. */
	__atomic_store_n(&r->cons_tail, head + n, __ATOMIC_RELEASE);
	return true;
}

/* Take all @n or nothing; false when fewer are there. */
static inline bool nm_obj_ring_take(struct nm_obj_ring *r, void **out, uint32_t n)
{
	if (unlikely(!n))
		return true;
	return unlikely(r->sc) ? obj_ring_take(r, out, n, true) : obj_ring_take(r, out, n, false);
}

#endif
