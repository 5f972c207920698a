/* SPDX-License-Identifier: MIT */
/*
 * A bounded lock-free ring of netmem handles: many producers, one consumer
 * at a time (the pool's owner, or after destroy whoever holds the drain
 * lock). Each slot carries a sequence number, so a producer claims a slot
 * with one CAS on the tail and publishes it with one release store; the
 * consumer needs no atomic read-modify-write at all.
 */
#ifndef NETMEM_PTR_RING_H
#define NETMEM_PTR_RING_H

#include <stdbool.h>
#include <stdint.h>

#include <netmem/net_iov.h>

struct nm_ptr_ring;

struct nm_ptr_ring *nm_ptr_ring_create(uint32_t min_capacity);
void nm_ptr_ring_destroy(struct nm_ptr_ring *r);
/* false only when full. */
bool nm_ptr_ring_produce(struct nm_ptr_ring *r, nm_netmem_ref v);
/* Up to @n entries; returns how many. Single consumer. */
unsigned int nm_ptr_ring_consume(struct nm_ptr_ring *r, nm_netmem_ref *out,
				 unsigned int n);
bool nm_ptr_ring_empty(struct nm_ptr_ring *r);
uint32_t nm_ptr_ring_count(struct nm_ptr_ring *r);

#endif
