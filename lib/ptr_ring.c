/* SPDX-License-Identifier: MIT */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "ptr_ring.h"

#define CACHE_LINE 64

struct ring_slot {
	atomic_size_t seq;
	nm_netmem_ref val;
};

struct nm_ptr_ring {
	_Alignas(CACHE_LINE) atomic_size_t tail;   /* producers */
	/* Consumer side; atomic only because, after destroy, the consumer
	 * role moves between threads and others peek at it. */
	_Alignas(CACHE_LINE) atomic_size_t head;
	_Alignas(CACHE_LINE) size_t mask;
	struct ring_slot *slots;
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
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	for (size_t i = 0; i < cap; i++)
		atomic_init(&r->slots[i].seq, i);
	return r;
}

void nm_ptr_ring_destroy(struct nm_ptr_ring *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

/* Publish @v at @pos, a slot claimed free (its consumer may still be
 * storing its release for a moment). */
static void ring_publish(struct nm_ptr_ring *r, size_t pos, nm_netmem_ref v)
{
	struct ring_slot *s = &r->slots[pos & r->mask];

	while (atomic_load_explicit(&s->seq, memory_order_acquire) != pos)
		;
	s->val = v;
	atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
}

/*
 * Claim @n slots from the tail, only if they are free: the consumer frees
 * slots strictly in order, so the last one being free says all are. A full
 * ring is never waited on for long (its user never holds more than the
 * capacity; a full one means entries put twice): after a bounded number of
 * tries, false, and nothing was claimed.
 */
static bool ring_claim(struct nm_ptr_ring *r, unsigned int n, size_t *out)
{
	size_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);

	for (unsigned long tries = 0; tries < (1ul << 16);) {
		size_t last = pos + n - 1;
		size_t seq = atomic_load_explicit(&r->slots[last & r->mask].seq,
						  memory_order_acquire);
		intptr_t dif = (intptr_t)(seq - last);

		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&r->tail, &pos, pos + n,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				*out = pos;
				return true;
			}
		} else if (dif < 0) {
			/* Full, or the consumer is mid-release: look again. */
			if (++tries % 64 == 0)
				sched_yield();
			pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
		} else {
			pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
		}
	}
	return false;
}

bool nm_ptr_ring_produce(struct nm_ptr_ring *r, nm_netmem_ref v)
{
	return nm_ptr_ring_produce_bulk(r, &v, 1);
}

bool nm_ptr_ring_produce_bulk(struct nm_ptr_ring *r, const nm_netmem_ref *v,
			      unsigned int n)
{
	size_t pos;

	if (!n)
		return true;
	if (n > r->mask + 1 || !ring_claim(r, n, &pos))
		return false;
	for (unsigned int i = 0; i < n; i++)
		ring_publish(r, pos + i, v[i]);
	return true;
}

unsigned int nm_ptr_ring_consume(struct nm_ptr_ring *r, nm_netmem_ref *out,
				 unsigned int n)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned int got = 0;

	while (got < n) {
		struct ring_slot *s = &r->slots[head & r->mask];
		size_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);

		if (seq != head + 1)
			break; /* empty, or the next producer has not published */
		out[got++] = s->val;
		atomic_store_explicit(&s->seq, head + r->mask + 1,
				      memory_order_release);
		head++;
	}
	atomic_store_explicit(&r->head, head, memory_order_release);
	return got;
}

bool nm_ptr_ring_empty(struct nm_ptr_ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	struct ring_slot *s = &r->slots[head & r->mask];

	return atomic_load_explicit(&s->seq, memory_order_acquire) != head + 1;
}

uint32_t nm_ptr_ring_count(struct nm_ptr_ring *r)
{
	/* Head first: the tail read after it is never behind it. */
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	return (uint32_t)(atomic_load_explicit(&r->tail, memory_order_acquire) - head);
}
