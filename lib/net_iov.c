/* SPDX-License-Identifier: MIT */
/*
 * net_iov areas and their free list.
 *
 * The free list lives in the descriptors themselves: a free buffer's
 * pp_ref_count holds the index of the next free one (NM_NET_IOV_FREE set,
 * so the count reads negative), and one word holds the top of that stack
 * with a change count (Treiber's lock-free stack; the change count makes a
 * pop whose top was taken and put back in between fail its CAS instead of
 * linking a stale next). Buffers never handed out are not on it: they are
 * the indexes from `fresh` up, handed out in order. No lock, one CAS per
 * bulk on each side, and no memory per buffer beyond the descriptor
 * (16 B; the ring of indexes this replaced took 4 B more per buffer).
 * A bulk pop walks its run's links, one load each, overlapped where a run
 * was given back in order (a warm hand-out measured 2.1-2.8 ns per buffer
 * against the ring's 1.3, more where the descriptors are out of cache:
 * docs/results.md); only the provider's slow path takes this list: a page
 * pool recycles through its own cache and ring.
 *
 * Metadata: one cache line naming the area (a descriptor finds its area by
 * its index: nm_net_iov_owner()), the descriptors (16 B per buffer), then
 * one line for the list's head.
 *
 * Cold cost: all of it is one anonymous mapping advised onto transparent
 * huge pages, and creating an area writes none of it but the first line
 * and the head: a descriptor is written when its buffer is first handed
 * out (the alloc writes its reference count there anyway). An 8 GiB area
 * of 4 KiB buffers (32 MiB of metadata) costs at create what a 4 KiB one
 * does; its pages fault in as buffers are first used. Small areas stay on
 * the heap (and under the sanitizers' eyes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <netmem/net_iov.h>


#ifdef NM_NET_IOV_TEST_HOOKS
#include "net_iov_test.h"

void (*nm_net_iov_test_hook)(struct nm_net_iov_area *area);
#define NIOV_TEST_POINT(area) \
	do { if (nm_net_iov_test_hook) nm_net_iov_test_hook(area); } while (0)
#else
#define NIOV_TEST_POINT(area) do { } while (0)
#endif

#define CACHE_LINE 64u
#define HUGE_2M (2ull << 20)
/* Below this much metadata the heap is as fast and ASan sees overflows. */
#define MAP_THRESHOLD HUGE_2M

/* A free buffer's pp_ref_count: this bit and its next free index + 1 (0:
 * the last). Negative as an int: no reference count, and a second free
 * of the buffer sees it. */
#define NEXT_MASK (NM_NET_IOV_FREE - 1u)

struct nm_net_iov_free {
	/* Top index + 1 (0: empty) in the low half, change count above. */
	uint64_t top;
	uint32_t fresh;           /* buffers from here on never handed out */
	uint32_t in_use;          /* taken and not given back */
};

/* The head line, descriptors, then the list head at the next cache line. */
_Static_assert(NM_NET_IOV_HEAD % CACHE_LINE == 0, "descriptors start on a line");
_Static_assert(CACHE_LINE % sizeof(struct nm_net_iov) == 0, "no descriptor straddles a line");

static size_t head_offset(uint32_t num)
{
	size_t d = NM_NET_IOV_HEAD + (size_t)num * sizeof(struct nm_net_iov);

	return (d + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
}

static void *meta_alloc(size_t len, size_t *map_len)
{
	uint8_t *p;

	if (len < MAP_THRESHOLD) {
		/* Zeroed, as a fresh mapping is. */
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
	size_t hoff, len;
	uint8_t *meta;

	/* An index + 1 must fit beside NM_NET_IOV_FREE. */
	if (!num || !buf_size || num > NEXT_MASK)
		return -EINVAL;
	hoff = head_offset(num);
	len = hoff + CACHE_LINE;
	meta = meta_alloc(len, &area->map_len);
	if (!meta)
		return -ENOMEM;
	*(struct nm_net_iov_area **)meta = area;
	area->niovs = (struct nm_net_iov *)(meta + NM_NET_IOV_HEAD);
	/* Zeroed: empty, every buffer fresh. Nothing per buffer (see the
	 * top): fresh ones go out in order (the device fills the area front
	 * first), and descriptors are written at hand-out. */
	area->free_list = (struct nm_net_iov_free *)(meta + hoff);
	area->iovas = NULL;
	area->num_niovs = num;
	area->buf_size = buf_size;
	area->base_offset = base_offset;
	area->base_iova = iova;
	area->cpu_base = cpu_base;
	area->readable = readable;
	area->owner_priv = owner_priv;
	return 0;
}

void nm_net_iov_area_fini(struct nm_net_iov_area *area)
{
	if (!area->niovs)
		return;
	meta_free((uint8_t *)area->niovs - NM_NET_IOV_HEAD, area->map_len);
	area->niovs = NULL;
	area->free_list = NULL;
}

static _Noreturn void bad_free(const struct nm_net_iov_area *area, uint32_t idx,
			       const char *why)
{
	fprintf(stderr, "netmem: net_iov area %p: buffer %u given back %s\n",
		(const void *)area, idx, why);
	abort();
}

/* Put @n free buffers on the stack, @idx[0] on top, in one CAS. Their
 * links are written first: a pop that reads them stale fails its CAS. */
static void stack_push(struct nm_net_iov_area *area, const uint32_t *idx, unsigned int n)
{
	struct nm_net_iov_free *fl = area->free_list;
	nm_atomic_int *last = &area->niovs[idx[n - 1]].pp_ref_count;
	uint64_t old, top;

	for (unsigned int i = 0; i + 1 < n; i++)
		atomic_store_explicit(&area->niovs[idx[i]].pp_ref_count,
				      (int)(NM_NET_IOV_FREE | (idx[i + 1] + 1)),
				      memory_order_relaxed);
	old = __atomic_load_n(&fl->top, __ATOMIC_RELAXED);
	do {
		atomic_store_explicit(last, (int)(NM_NET_IOV_FREE | (uint32_t)old),
				      memory_order_relaxed);
		top = ((old >> 32) + 1) << 32 | (idx[0] + 1);
		/* Release: the links above before the new top. */
	} while (!__atomic_compare_exchange_n(&fl->top, &old, top, true, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}

/* Take up to @n from the top of the stack in one CAS; returns how many. */
static unsigned int stack_pop(struct nm_net_iov_area *area, uint32_t *idx, unsigned int n)
{
	struct nm_net_iov_free *fl = area->free_list;
	/* In locals: the stores to @idx could alias them otherwise. */
	struct nm_net_iov *niovs = area->niovs;
	uint32_t num = area->num_niovs;
	uint64_t old = __atomic_load_n(&fl->top, __ATOMIC_ACQUIRE);
	unsigned int k;

	for (;;) {
		uint32_t cur = (uint32_t)old;

		for (k = 0; k < n && cur; k++) {
			uint32_t v;

			/* Out of range or not free: the run was taken while we
			 * walked it, and the CAS below will fail. */
			if (cur > num)
				break;
			idx[k] = cur - 1;
			v = (uint32_t)atomic_load_explicit(&niovs[cur - 1].pp_ref_count,
							   memory_order_relaxed);
			if (!(v & NM_NET_IOV_FREE))
				break;
			/* A run given back in order links each buffer to the
			 * next index: going on there before the load is back
			 * (a branch, not a data dependence; the asm keeps the
			 * compiler from folding it into cur = next) lets the
			 * walk's loads overlap. A wrong guess costs what the
			 * walk costs anyway. */
			if (__builtin_expect((v & NEXT_MASK) == cur + 1, 1)) {
				cur++;
				__asm__("" : "+r"(cur));
			} else {
				cur = v & NEXT_MASK;
			}
		}
		if (!k)
			return 0;
		NIOV_TEST_POINT(area);
		/* Acquire (on failure too): the links of the top we retry with. */
		if (__atomic_compare_exchange_n(&fl->top, &old,
						((old >> 32) + 1) << 32 | cur, true,
						__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			return k;
	}
}

/* Claim up to @n never-used indexes (all @n or none with @exact); the
 * first in *@first. */
static unsigned int fresh_claim(struct nm_net_iov_area *area, uint32_t *first,
				unsigned int n, bool exact)
{
	struct nm_net_iov_free *fl = area->free_list;
	uint32_t f = __atomic_load_n(&fl->fresh, __ATOMIC_RELAXED), k;

	do {
		k = area->num_niovs - f;
		if (k > n)
			k = n;
		if (!k || (exact && k < n))
			return 0;
	} while (!__atomic_compare_exchange_n(&fl->fresh, &f, f + k, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	*first = f;
	return k;
}

/* Up to @n free indexes (exactly @n or none with @exact): the most
 * recently freed first, then fresh ones. */
static unsigned int list_take(struct nm_net_iov_area *area, uint32_t *idx,
			      unsigned int n, bool exact)
{
	unsigned int k = 0, f;
	uint32_t first;

	while (k < n) {
		unsigned int got = stack_pop(area, idx + k, n - k);

		if (!got)
			break;
		k += got;
	}
	if (k < n) {
		f = fresh_claim(area, &first, n - k, exact);
		if (exact && !f && k) {
			/* Not enough: what was popped goes back untouched. */
			stack_push(area, idx, k);
			return 0;
		}
		for (unsigned int i = 0; i < f; i++)
			idx[k + i] = first + i;
		k += f;
	}
	if (k)
		__atomic_fetch_add(&area->free_list->in_use, k, __ATOMIC_RELAXED);
	return k;
}

/*
 * Give back @n taken indexes. A buffer already free (its count negative)
 * or never handed out, or more given back than are out, is a double free:
 * the buffer would go to two owners, so it aborts, naming it.
 */
static void list_give(struct nm_net_iov_area *area, const uint32_t *idx, unsigned int n)
{
	struct nm_net_iov_free *fl = area->free_list;
	uint32_t fresh = __atomic_load_n(&fl->fresh, __ATOMIC_RELAXED);

	if (!n)
		return;
	for (unsigned int i = 0; i < n; i++) {
		if (idx[i] >= fresh)
			bad_free(area, idx[i], "that was never handed out");
		if (atomic_load_explicit(&area->niovs[idx[i]].pp_ref_count,
					 memory_order_relaxed) < 0)
			bad_free(area, idx[i], "twice (it is already free)");
	}
	if (__atomic_fetch_sub(&fl->in_use, n, __ATOMIC_RELAXED) < n) {
		fprintf(stderr, "netmem: net_iov area %p: %u buffers given back with fewer out "
			"(double free)\n", (void *)area, n);
		abort();
	}
	stack_push(area, idx, n);
}

/* A buffer handed out: its descriptor, whole (it may never have been
 * written: see the top). */
static inline void niov_init(struct nm_net_iov *niov, uint32_t i, int refs)
{
	niov->pp = NULL;
	niov->index = i;
	atomic_store_explicit(&niov->pp_ref_count, refs, memory_order_relaxed);
}

unsigned int nm_net_iov_area_take(struct nm_net_iov_area *area, uint32_t *idx,
				  unsigned int n, bool exact)
{
	unsigned int k = list_take(area, idx, n, exact);

	for (unsigned int i = 0; i < k; i++)
		niov_init(&area->niovs[idx[i]], idx[i], 0);
	return k;
}

void nm_net_iov_area_give(struct nm_net_iov_area *area, const uint32_t *idx,
			  unsigned int n)
{
	list_give(area, idx, n);
}

#define BULK 64u

unsigned int nm_net_iov_area_alloc(struct nm_net_iov_area *area,
				   nm_netmem_ref *out, unsigned int n)
{
	uint32_t idx[BULK];
	unsigned int got = 0;

	while (got < n) {
		unsigned int want = n - got < BULK ? n - got : BULK;
		unsigned int k = list_take(area, idx, want, false);

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

			niov->pp = NULL;
			idx[i] = niov->index;
		}
		list_give(area, idx, k);
		in += k;
		n -= k;
	}
}

uint32_t nm_net_iov_area_in_use(struct nm_net_iov_area *area)
{
	return __atomic_load_n(&area->free_list->in_use, __ATOMIC_RELAXED);
}
