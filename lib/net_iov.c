/* SPDX-License-Identifier: MIT */
/*
 * net_iov areas and their free list.
 *
 * The free list is a ring of buffer indexes with separate producer and
 * consumer head/tail pairs (the scheme of DPDK's rte_ring): a thread claims
 * a run of slots by moving the head with one CAS, copies the indexes, then
 * publishes by moving the tail once the threads that claimed earlier runs
 * have published theirs. No lock, one CAS per bulk on each side. The ring's
 * capacity is the area's buffer count, so a legitimate free always finds
 * room; one that does not is a double free.
 *
 * Metadata: one cache line naming the area (a descriptor finds its area by
 * its index: nm_net_iov_owner()), the descriptors (16 B per buffer), then
 * the ring (4 B per slot).
 *
 * Cold cost: all of it is one anonymous mapping advised onto transparent
 * huge pages, and creating an area writes none of it but the first line: a slot holds its index XOR its slot number, so the zero pages
 * of a fresh mapping read as the full ring 0, 1, 2, ...; a descriptor is
 * written when its buffer is handed out (the alloc writes its reference
 * count there anyway). An 8 GiB area of 4 KiB buffers (40 MiB of metadata)
 * costs at create what a 4 KiB one does; its pages fault in as buffers are
 * first used. Small areas stay on the heap (and under the sanitizers' eyes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>

#include <netmem/net_iov.h>

#include "wait_turn.h"

/* The free list's copy loops vectorise at -O3 only (measured: the DPDK
 * ops' bulk get/put 0.5 -> 0.65 of ring_mp_mc); the library builds at -O2. */
#if defined(__GNUC__) && !defined(__clang__)
#define NM_HOT __attribute__((hot, optimize("O3")))
#else
#define NM_HOT
#endif

#define CACHE_LINE 64u
#define HUGE_2M (2ull << 20)
/* Below this much metadata the heap is as fast and ASan sees overflows. */
#define MAP_THRESHOLD HUGE_2M

struct nm_net_iov_ring {
	uint32_t prod_head;
	uint32_t prod_tail;
	uint8_t pad0[CACHE_LINE - 8];
	uint32_t cons_head;
	uint32_t cons_tail;
	uint8_t pad1[CACHE_LINE - 8];
	uint32_t capacity;        /* == the area's buffer count */
	uint32_t mask;            /* slots - 1, slots a power of two */
	uint8_t pad2[CACHE_LINE - 8];
	uint32_t slots[];
};

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* The head line, descriptors, then the ring at the next cache line. */
_Static_assert(NM_NET_IOV_HEAD % CACHE_LINE == 0, "descriptors start on a line");
_Static_assert(CACHE_LINE % sizeof(struct nm_net_iov) == 0, "no descriptor straddles a line");

static size_t ring_offset(uint32_t num)
{
	size_t d = NM_NET_IOV_HEAD + (size_t)num * sizeof(struct nm_net_iov);

	return (d + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
}

static void *meta_alloc(size_t len, size_t *map_len)
{
	uint8_t *p;

	if (len < MAP_THRESHOLD) {
		/* Zeroed, as a fresh mapping is: the ring's slots depend on it. */
		len = (len + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
		*map_len = 0;
		p = aligned_alloc(CACHE_LINE, len);
		if (p)
			memset(p, 0, len);
		return p;
	}
	len = (len + HUGE_2M - 1) & ~(HUGE_2M - 1);
	/* Over-map by 2 MiB so the start can sit on a huge page boundary. */
	p = mmap(NULL, len + HUGE_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	{
		uintptr_t a = ((uintptr_t)p + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1);
		size_t head = a - (uintptr_t)p;

		if (head)
			munmap(p, head);
		if (HUGE_2M - head)
			munmap((uint8_t *)a + len, HUGE_2M - head);
		p = (uint8_t *)a;
	}
	/* Advice: without THP the pages fault in 4 KiB at a time as the
	 * descriptors are written. (Pre-faulting with MADV_POPULATE_WRITE or
	 * MAP_POPULATE measured slower than letting the writes fault 2 MiB
	 * pages: docs/results.md.) */
	(void)madvise(p, len, MADV_HUGEPAGE);
	*map_len = len;
	return p;
}

static void meta_free(void *p, size_t map_len)
{
	if (map_len)
		munmap(p, map_len);
	else
		free(p);
}

int nm_net_iov_area_init(struct nm_net_iov_area *area, uint32_t num,
			 uint32_t buf_size, uint64_t base_offset, uint64_t iova,
			 uint8_t *cpu_base, bool readable, void *owner_priv)
{
	struct nm_net_iov_ring *r;
	uint32_t slots;
	size_t roff, len;
	uint8_t *meta;

	if (!num || !buf_size || num > (1u << 31))
		return -EINVAL;
	slots = pow2_at_least(num);
	roff = ring_offset(num);
	len = roff + sizeof(*r) + (size_t)slots * sizeof(uint32_t);
	meta = meta_alloc(len, &area->map_len);
	if (!meta)
		return -ENOMEM;
	*(struct nm_net_iov_area **)meta = area;
	area->niovs = (struct nm_net_iov *)(meta + NM_NET_IOV_HEAD);
	area->free_ring = r = (struct nm_net_iov_ring *)(meta + roff);
	area->iovas = NULL;
	area->num_niovs = num;
	area->buf_size = buf_size;
	area->base_offset = base_offset;
	area->base_iova = iova;
	area->cpu_base = cpu_base;
	area->readable = readable;
	area->owner_priv = owner_priv;
	/* Nothing per buffer here (see the top): the zeroed slots read as
	 * 0, 1, 2... (handed out in order: the device fills the buffer front
	 * first), and descriptors are written at hand-out. */
	memset(r, 0, sizeof(*r));
	r->capacity = num;
	r->mask = slots - 1;
	r->prod_head = r->prod_tail = num;
	return 0;
}

void nm_net_iov_area_fini(struct nm_net_iov_area *area)
{
	if (!area->niovs)
		return;
	meta_free((uint8_t *)area->niovs - NM_NET_IOV_HEAD, area->map_len);
	area->niovs = NULL;
	area->free_ring = NULL;
}

/* Slot copies in at most two straight runs (around the ring's end), so the
 * compiler can vectorise them. */
/* A slot stores its index XOR its slot number (see the top): one XOR with
 * a running slot number, which vectorises as the plain copy did. */
static inline NM_HOT void xor_idx(uint32_t *restrict d, const uint32_t *restrict s,
				  uint32_t slot, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		d[i] = s[i] ^ (slot + i);
}

static inline NM_HOT void copy_out(const struct nm_net_iov_ring *r, uint32_t pos,
			    uint32_t *out, uint32_t n)
{
	uint32_t at = pos & r->mask, first = r->mask + 1 - at;

	if (first > n)
		first = n;
	xor_idx(out, &r->slots[at], at, first);
	xor_idx(out + first, &r->slots[0], 0, n - first);
}

static inline NM_HOT void copy_in(struct nm_net_iov_ring *r, uint32_t pos,
			   const uint32_t *in, uint32_t n)
{
	uint32_t at = pos & r->mask, first = r->mask + 1 - at;

	if (first > n)
		first = n;
	xor_idx(&r->slots[at], in, at, first);
	xor_idx(&r->slots[0], in + first, 0, n - first);
}

/* Move *@at from *@head to *@head + @n; on failure *@head is the value
 * found. The old value stays in the caller's register, not cmpxchg's
 * result: the copy after a claim then does not wait out the locked
 * instruction's latency (as with rte_ring's rte_atomic32_cmpset()). */
static inline bool ring_claim(uint32_t *at, uint32_t *head, uint32_t n)
{
	uint32_t found = *head;

	if (__atomic_compare_exchange_n(at, &found, *head + n, false, __ATOMIC_ACQUIRE,
					__ATOMIC_ACQUIRE))
		return true;
	*head = found;
	return false;
}

/* Claim up to @n entries (exactly @n with @exact), copy them out, publish. */
static NM_HOT unsigned int ring_take(struct nm_net_iov_ring *r, uint32_t *out,
			      unsigned int n, bool exact)
{
	/* Acquire loads of the head keep it read before the other side's
	 * tail (DPDK uses a fence; this is the same on x86, and the thread
	 * sanitizer understands it). */
	uint32_t head = __atomic_load_n(&r->cons_head, __ATOMIC_ACQUIRE);
	uint32_t avail, k;
	unsigned int spins = 0;

	do {
		/* Pairs with the producers' release of prod_tail (their
		 * slot writes). */
		avail = __atomic_load_n(&r->prod_tail, __ATOMIC_ACQUIRE) - head;
		k = n <= avail ? n : (exact ? 0 : avail);
		if (!k)
			return 0;
	} while (!ring_claim(&r->cons_head, &head, k));
	copy_out(r, head, out, k);
	/* Earlier claims publish first: the tail only moves in order. The
	 * acquire chains their slot reads into our release, so a producer
	 * that sees our tail sees every earlier reader done. */
	while (__atomic_load_n(&r->cons_tail, __ATOMIC_ACQUIRE) != head)
		nm_wait_turn(&spins);
	/* Release: our slot reads happen before a producer reuses them. */
	__atomic_store_n(&r->cons_tail, head + k, __ATOMIC_RELEASE);
	return k;
}

static NM_HOT void ring_put(struct nm_net_iov_ring *r, const uint32_t *in, unsigned int n)
{
	uint32_t head = __atomic_load_n(&r->prod_head, __ATOMIC_ACQUIRE);
	uint32_t room;
	unsigned int spins = 0;

	if (!n)
		return;
	do {
		room = r->capacity -
		       (head - __atomic_load_n(&r->cons_tail, __ATOMIC_ACQUIRE));
		if (n > room) {
			/* More back than ever went out: a buffer freed twice
			 * would be handed to two owners. */
			fprintf(stderr, "netmem: net_iov area: %u buffers freed with room for %u "
				"(double free)\n", n, room);
			abort();
		}
	} while (!ring_claim(&r->prod_head, &head, n));
	copy_in(r, head, in, n);
	while (__atomic_load_n(&r->prod_tail, __ATOMIC_ACQUIRE) != head)
		nm_wait_turn(&spins);
	__atomic_store_n(&r->prod_tail, head + n, __ATOMIC_RELEASE);
}

/* A buffer handed out: its descriptor, whole (it may never have been
 * written: see the top). */
static inline void niov_init(struct nm_net_iov *niov, uint32_t i, int refs)
{
	niov->pp = NULL;
	niov->index = i;
	atomic_store_explicit(&niov->pp_ref_count, refs, memory_order_relaxed);
}

NM_HOT unsigned int nm_net_iov_area_take(struct nm_net_iov_area *area, uint32_t *idx,
				  unsigned int n, bool exact)
{
	unsigned int k = ring_take(area->free_ring, idx, n, exact);

	for (unsigned int i = 0; i < k; i++)
		niov_init(&area->niovs[idx[i]], idx[i], 0);
	return k;
}

NM_HOT void nm_net_iov_area_give(struct nm_net_iov_area *area, const uint32_t *idx,
			  unsigned int n)
{
	ring_put(area->free_ring, idx, n);
}

#define BULK 64u

unsigned int nm_net_iov_area_alloc(struct nm_net_iov_area *area,
				   nm_netmem_ref *out, unsigned int n)
{
	uint32_t idx[BULK];
	unsigned int got = 0;

	while (got < n) {
		unsigned int want = n - got < BULK ? n - got : BULK;
		unsigned int k = ring_take(area->free_ring, idx, want, false);

		for (unsigned int i = 0; i < k; i++) {
			struct nm_net_iov *niov = &area->niovs[idx[i]];

			niov_init(niov, idx[i], 1);
			out[got + i] = nm_net_iov_to_netmem(niov);
		}
		got += k;
		if (k < want)
			break;
	}
	return got;
}

void nm_net_iov_area_free(struct nm_net_iov_area *area,
			  const nm_netmem_ref *in, unsigned int n)
{
	uint32_t idx[BULK];

	while (n) {
		unsigned int k = n < BULK ? n : BULK;

		for (unsigned int i = 0; i < k; i++) {
			struct nm_net_iov *niov = nm_netmem_to_net_iov(in[i]);

			atomic_store_explicit(&niov->pp_ref_count, 0,
					      memory_order_relaxed);
			niov->pp = NULL;
			idx[i] = niov->index;
		}
		ring_put(area->free_ring, idx, k);
		in += k;
		n -= k;
	}
}

uint32_t nm_net_iov_area_in_use(struct nm_net_iov_area *area)
{
	struct nm_net_iov_ring *r = area->free_ring;
	/* Consumer first: the count can only look larger, never negative. */
	uint32_t ct = __atomic_load_n(&r->cons_tail, __ATOMIC_ACQUIRE);
	uint32_t free = __atomic_load_n(&r->prod_tail, __ATOMIC_ACQUIRE) - ct;

	return free >= area->num_niovs ? 0 : area->num_niovs - free;
}
