/* SPDX-License-Identifier: MIT */
/*
 * The ring of lib/ptr_ring.h (its produce is there, inline: a foreign put
 * is that and nothing else): create, close, consume, count.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "ptr_ring.h"

struct nm_ptr_ring *nm_ptr_ring_create(uint32_t min_capacity)
{
	struct nm_ptr_ring *r;
	size_t cap = 2;

	while (cap < min_capacity)
		cap <<= 1;
	r = aligned_alloc(NM_PTR_RING_LINE, sizeof(*r));
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

void nm_ptr_ring_close(struct nm_ptr_ring *r)
{
	/* Release: pairs with the producers' acquire of the head. */
	size_t head = atomic_fetch_or_explicit(&r->prod_head, NM_PTR_RING_CLOSED,
					       memory_order_acq_rel) & ~NM_PTR_RING_CLOSED;
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
