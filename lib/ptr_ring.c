/* SPDX-License-Identifier: MIT */
/*
 * The ring of lib/ptr_ring.h: producer head/tail and one consumer index (the
 * scheme of DPDK's rte_ring, multi-producer, single-consumer). A producer
 * claims a run of slots by moving prod_head with one CAS, copies its
 * handles, then publishes by moving prod_tail once the producers that
 * claimed before it have published theirs. The consumer reads up to
 * prod_tail and frees the slots by moving cons. Slots are bare handles:
 * the consumer never writes a producer's cache line back.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "ptr_ring.h"
#include "wait_turn.h"

#define CACHE_LINE 64
/* In prod_head: closed to producers (nm_ptr_ring_close()). A claim's CAS
 * fails once it is set, so no produce claims after the close. */
#define RING_CLOSED ((size_t)1 << (sizeof(size_t) * 8 - 1))

struct nm_ptr_ring {
	_Alignas(CACHE_LINE) atomic_size_t prod_head;  /* producers */
	atomic_size_t prod_tail;
	/* Consumer side; atomic because, after destroy, the consumer role
	 * moves between threads and producers read it for room. */
	_Alignas(CACHE_LINE) atomic_size_t cons;
	_Alignas(CACHE_LINE) size_t mask;
	size_t cap;
	nm_netmem_ref *slots;
};

struct nm_ptr_ring *nm_ptr_ring_create(uint32_t min_capacity)
{
	struct nm_ptr_ring *r;
	size_t cap = 2;

	while (cap < min_capacity)
		cap <<= 1;
	r = aligned_alloc(CACHE_LINE, sizeof(*r));
	if (!r)
		return NULL;
	r->slots = calloc(cap, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return NULL;
	}
	r->mask = cap - 1;
	r->cap = cap;
	atomic_init(&r->prod_head, 0);
	atomic_init(&r->prod_tail, 0);
	atomic_init(&r->cons, 0);
	return r;
}

void nm_ptr_ring_destroy(struct nm_ptr_ring *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

/*
 * The room is exact: the consumer frees slots (moves cons) before it hands
 * their entries on, so an entry can come back only after its slot is free.
 * No room therefore means entries put twice: false, nothing claimed.
 * Inlined in both entry points, so the single put has no loop to set up.
 */
static inline __attribute__((always_inline)) int produce(struct nm_ptr_ring *r,
							 const nm_netmem_ref *v,
							 unsigned int n)
{
	/* Acquire loads of the head: a producer that finds the ring closed
	 * sees what the closer did before closing (a pool's counters). */
	size_t head = atomic_load_explicit(&r->prod_head, memory_order_acquire);
	unsigned int spins = 0;

	if (!n)
		return 0;
	if (n > r->cap)
		return -ENOSPC;
	for (;;) {
		size_t cons, room, found;

		if (head & RING_CLOSED)
			return -ESHUTDOWN;
		/* Acquire: the consumer's reads of these slots are done. */
		cons = atomic_load_explicit(&r->cons, memory_order_acquire);
		/* Free slots as cap + cons - head: a stale head (cons has
		 * passed it) reads as more room, and the CAS then fails. */
		room = r->cap + cons - head;

		if (n > room) {
			size_t now = atomic_load_explicit(&r->prod_head, memory_order_acquire);

			if (now == head)
				return -ENOSPC;
			head = now;
			continue;
		}
		/* The CAS fills @found, not @head: the slot writes below then
		 * use the head loaded above, and do not wait out the locked
		 * instruction's latency for its result. */
		found = head;
		if (atomic_compare_exchange_weak_explicit(&r->prod_head, &found, head + n,
							  memory_order_acquire,
							  memory_order_acquire))
			break;
		head = found;
	}
	for (unsigned int i = 0; i < n; i++)
		r->slots[(head + i) & r->mask] = v[i];
	/* Publish in claim order. The acquire chains the earlier producers'
	 * slot writes into our release, so a consumer that sees our tail
	 * sees theirs. */
	while (atomic_load_explicit(&r->prod_tail, memory_order_acquire) != head)
		nm_wait_turn(&spins);
	/* Our last touch of the ring: a close waits for it (release). */
	atomic_store_explicit(&r->prod_tail, head + n, memory_order_release);
	return 0;
}

int nm_ptr_ring_produce(struct nm_ptr_ring *r, nm_netmem_ref v)
{
	return produce(r, &v, 1);
}

int nm_ptr_ring_produce_bulk(struct nm_ptr_ring *r, const nm_netmem_ref *v,
			     unsigned int n)
{
	return produce(r, v, n);
}

void nm_ptr_ring_close(struct nm_ptr_ring *r)
{
	/* Release: pairs with the producers' acquire of the head. */
	size_t head = atomic_fetch_or_explicit(&r->prod_head, RING_CLOSED,
					       memory_order_acq_rel) & ~RING_CLOSED;
	unsigned int spins = 0;

	/* The produces that claimed before us publish in a few nanoseconds
	 * (or, preempted, once they run again): acquire their slot writes. */
	while (atomic_load_explicit(&r->prod_tail, memory_order_acquire) != head)
		nm_wait_turn(&spins);
}

unsigned int nm_ptr_ring_consume(struct nm_ptr_ring *r, nm_netmem_ref *out,
				 unsigned int n)
{
	size_t cons = atomic_load_explicit(&r->cons, memory_order_relaxed);
	size_t avail = atomic_load_explicit(&r->prod_tail, memory_order_acquire) - cons;
	unsigned int k = n < avail ? n : (unsigned int)avail;

	if (!k)
		return 0;
	for (unsigned int i = 0; i < k; i++)
		out[i] = r->slots[(cons + i) & r->mask];
	/* Release: our slot reads happen before a producer reuses them. */
	atomic_store_explicit(&r->cons, cons + k, memory_order_release);
	return k;
}

uint32_t nm_ptr_ring_count(struct nm_ptr_ring *r)
{
	/* Consumer first: the tail read after it is never behind it. */
	size_t cons = atomic_load_explicit(&r->cons, memory_order_acquire);

	return (uint32_t)(atomic_load_explicit(&r->prod_tail, memory_order_acquire) - cons);
}
