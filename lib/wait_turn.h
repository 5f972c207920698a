/* SPDX-License-Identifier: MIT */
/*
 * For the lock-free rings (lib/net_iov.c, lib/ptr_ring.c): wait for an
 * earlier claimer to publish its slots. Normally a few nanoseconds; if it
 * was preempted mid-copy (threads here are not pinned lcores), give it the
 * CPU instead of spinning out our time slice.
 */
#ifndef NETMEM_WAIT_TURN_H
#define NETMEM_WAIT_TURN_H

#include <sched.h>

static inline void nm_wait_turn(unsigned int *spins)
{
	if (++*spins > 256) {
		sched_yield();
		return;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

#endif
