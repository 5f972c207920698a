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
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "ptr_ring.h"
#include "wait_turn.h"

#define CACHE_LINE 64

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

bool nm_ptr_ring_produce(struct nm_ptr_ring *r, nm_netmem_ref v)
{
	return nm_ptr_ring_produce_bulk(r, &v, 1);
}

/*
 * The room is exact: the consumer frees slots (moves cons) before it hands
 * their entries on, so an entry can come back only after its slot is free.
 * No room therefore means entries put twice: false, nothing claimed.
 */
bool nm_ptr_ring_produce_bulk(struct nm_ptr_ring *r, const nm_netmem_ref *v,
			      unsigned int n)
{
	size_t head = atomic_load_explicit(&r->prod_head, memory_order_relaxed);
	unsigned int spins = 0;

	if (!n)
		return true;
	if (n > r->cap)
		return false;
	for (;;) {
		/* Acquire: the consumer's reads of these slots are done. */
		size_t cons = atomic_load_explicit(&r->cons, memory_order_acquire);
		/* Free slots as cap + cons - head: a stale head (cons has
		 * passed it) reads as more room, and the CAS then fails. */
		size_t room = r->cap + cons - head;

		if (n > room) {
			size_t now = atomic_load_explicit(&r->prod_head, memory_order_relaxed);

			if (now == head)
				return false;
			head = now;
			continue;
		}
		if (atomic_compare_exchange_weak_explicit(&r->prod_head, &head, head + n,
							  memory_order_relaxed,
							  memory_order_relaxed))
			break;
	}
	for (unsigned int i = 0; i < n; i++)
		r->slots[(head + i) & r->mask] = v[i];
	/* Publish in claim order. The acquire chains the earlier producers'
	 * slot writes into our release, so a consumer that sees our tail
	 * sees theirs. */
	while (atomic_load_explicit(&r->prod_tail, memory_order_acquire) != head)
		nm_wait_turn(&spins);
	atomic_store_explicit(&r->prod_tail, head + n, memory_order_release);
	return true;
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

bool nm_ptr_ring_empty(struct nm_ptr_ring *r)
{
	size_t cons = atomic_load_explicit(&r->cons, memory_order_acquire);

	return atomic_load_explicit(&r->prod_tail, memory_order_acquire) == cons;
}

uint32_t nm_ptr_ring_count(struct nm_ptr_ring *r)
{
	/* Consumer first: the tail read after it is never behind it. */
	size_t cons = atomic_load_explicit(&r->cons, memory_order_acquire);

	return (uint32_t)(atomic_load_explicit(&r->prod_tail, memory_order_acquire) - cons);
}
