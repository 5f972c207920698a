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
 */
#ifndef NETMEM_PTR_RING_H
#define NETMEM_PTR_RING_H

#include <stdbool.h>
#include <stdint.h>

#include <netmem/net_iov.h>

struct nm_ptr_ring;

struct nm_ptr_ring *nm_ptr_ring_create(uint32_t min_capacity);
void nm_ptr_ring_destroy(struct nm_ptr_ring *r);
/* False: the ring is full (nothing was added). */
bool nm_ptr_ring_produce(struct nm_ptr_ring *r, nm_netmem_ref v);
bool nm_ptr_ring_produce_bulk(struct nm_ptr_ring *r, const nm_netmem_ref *v,
			      unsigned int n);
/* Up to @n entries; returns how many. Single consumer. */
unsigned int nm_ptr_ring_consume(struct nm_ptr_ring *r, nm_netmem_ref *out,
				 unsigned int n);
bool nm_ptr_ring_empty(struct nm_ptr_ring *r);
uint32_t nm_ptr_ring_count(struct nm_ptr_ring *r);

#endif
