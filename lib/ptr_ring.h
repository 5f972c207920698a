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

#include <stdbool.h>
#include <stdint.h>

#include <netmem/net_iov.h>

struct nm_ptr_ring;

struct nm_ptr_ring *nm_ptr_ring_create(uint32_t min_capacity);
void nm_ptr_ring_destroy(struct nm_ptr_ring *r);
/* 0, or nothing added: -ENOSPC, the ring is full; -ESHUTDOWN, it is closed. */
int nm_ptr_ring_produce(struct nm_ptr_ring *r, nm_netmem_ref v);
int nm_ptr_ring_produce_bulk(struct nm_ptr_ring *r, const nm_netmem_ref *v,
			     unsigned int n);
/* Close to producers (once); returns when every earlier produce published. */
void nm_ptr_ring_close(struct nm_ptr_ring *r);
/* Up to @n entries; returns how many. Single consumer. */
unsigned int nm_ptr_ring_consume(struct nm_ptr_ring *r, nm_netmem_ref *out,
				 unsigned int n);
uint32_t nm_ptr_ring_count(struct nm_ptr_ring *r);

#endif
