/* SPDX-License-Identifier: MIT */
/*
 * A bounded lock-free ring of netmem handles: many producers, one consumer
 * at a time (the pool's owner, or after destroy whoever holds the drain
 * lock). A producer claims a run of slots with one CAS and publishes them
 * with one release store of the tail, in claim order; the consumer needs
 * no atomic read-modify-write at all (lib/ptr_ring.c).
 *
 * The ring never fills in correct use: its user never holds more entries
 * than its capacity (a page pool never holds more buffers than that). A
 * produce that finds it full (entries put twice) fails at once, claiming
 * nothing, instead of waiting forever.
 *
 * The consumer can close it (a pool being destroyed): later produces fail,
 * claiming nothing, and the close returns once every produce that claimed
 * before it has published. A producer's last touch of the ring is its
 * publish, so once closed, what is in the ring is all there will be and no
 * producer is still inside: the memory may go when the consumer is done.
 */
#ifndef NETMEM_PTR_RING_H
#define NETMEM_PTR_RING_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netmem/net_iov.h>

#include "wait_turn.h"

/*
 * Producer head/tail and one consumer index (the scheme of DPDK's rte_ring,
 * multi-producer, single-consumer). A producer claims a run of slots by
 * moving prod_head with one CAS, copies its handles, then publishes by
 * moving prod_tail once the producers that claimed before it have
 * published theirs. The consumer reads up to prod_tail and frees the slots
 * by moving cons. Slots are bare handles: the consumer never writes a
 * producer's cache line back.
 */
#define NM_PTR_RING_LINE 64
/* In prod_head: closed to producers (nm_ptr_ring_close()). A claim's CAS
 * fails once it is set, so no produce claims after the close. */
#define NM_PTR_RING_CLOSED ((size_t)1 << (sizeof(size_t) * 8 - 1))

struct nm_ptr_ring {
	_Alignas(NM_PTR_RING_LINE) atomic_size_t prod_head;  /* producers */
	atomic_size_t prod_tail;
	/* Consumer side; atomic because, after destroy, the consumer role
	 * moves between threads and producers read it for room. */
	_Alignas(NM_PTR_RING_LINE) atomic_size_t cons;
	_Alignas(NM_PTR_RING_LINE) size_t mask;
	size_t cap;
	nm_netmem_ref *slots;
};

struct nm_ptr_ring *nm_ptr_ring_create(uint32_t min_capacity);
void nm_ptr_ring_destroy(struct nm_ptr_ring *r);
/*
 * nm_ptr_ring_produce()/_bulk(): 0, or nothing added: -ENOSPC, the ring is
 * full; -ESHUTDOWN, it is closed.
 *
 * The room is exact: the consumer frees slots (moves cons) before it hands
 * their entries on, so an entry can come back only after its slot is free.
 * No room therefore means entries put twice: false, nothing claimed.
 * Inlined in both entry points, so the single put has no loop to set up.
 * In this header so the page pool's foreign put has no call to make here
 * (measured 5.7-6.1 -> 4.6-4.8 ns per put, docs/results.md).
 */
static inline __attribute__((always_inline)) int nm_ptr_ring_produce_n(struct nm_ptr_ring *r,
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

		if (head & NM_PTR_RING_CLOSED)
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

static inline int nm_ptr_ring_produce(struct nm_ptr_ring *r, nm_netmem_ref v)
{
	return nm_ptr_ring_produce_n(r, &v, 1);
}

static inline int nm_ptr_ring_produce_bulk(struct nm_ptr_ring *r,
					   const nm_netmem_ref *v, unsigned int n)
{
	return nm_ptr_ring_produce_n(r, v, n);
}

/* Close to producers (once); returns when every earlier produce published. */
void nm_ptr_ring_close(struct nm_ptr_ring *r);
/* Up to @n entries; returns how many. Single consumer. */
unsigned int nm_ptr_ring_consume(struct nm_ptr_ring *r, nm_netmem_ref *out,
				 unsigned int n);
uint32_t nm_ptr_ring_count(struct nm_ptr_ring *r);

#endif
