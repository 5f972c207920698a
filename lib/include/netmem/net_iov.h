/* SPDX-License-Identifier: MIT */
/*
 * netmem handles and net_iov descriptors (the kernel's netmem_ref, struct
 * net_iov and struct net_iov_area).
 *
 * Every buffer a page pool hands out is described by a struct nm_net_iov kept
 * in host memory. The handle, nm_netmem_ref, is the descriptor's address with
 * bit 0 saying whether the CPU may touch the payload:
 *   bit 0 clear: a host buffer, readable; nm_netmem_address() gives its bytes.
 *   bit 0 set:   a net_iov in device memory (a dmabuf); the CPU must not read
 *                or write it on the datapath; only its DMA address is used.
 *
 * An area is one contiguous run of equal-sized buffers (a dmabuf binding, or
 * a host memory region) with a lock-free free list kept in the free
 * buffers' descriptors (a stack, safe from any number of threads; no memory
 * per buffer beyond the descriptor).
 */
#ifndef NETMEM_NET_IOV_H
#define NETMEM_NET_IOV_H

#include <netmem/atomic.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uintptr_t nm_netmem_ref;

#define NM_NETMEM_NET_IOV 1UL  /* bit 0: unreadable device memory */

struct nm_page_pool;
struct nm_net_iov_area;
struct nm_net_iov_free;

/*
 * 16 bytes per buffer (the kernel's struct net_iov is 48 in 6.12), four to a
 * cache line. What the kernel stores per buffer and this does not, it finds
 * from the index: the descriptors of an area follow one cache line that
 * names the area (nm_net_iov_owner()), and a buffer's IOVA is the area's base
 * plus its offset, or the area's table where buffers are not contiguous in
 * IOVA (nm_net_iov_dma_addr()).
 */
struct nm_net_iov {
	struct nm_page_pool *pp;        /* pool holding it, NULL when free */
	nm_atomic_int pp_ref_count;     /* 1 while allocated; more when shared;
					 * negative while free in its area
					 * (NM_NET_IOV_FREE: the free list's
					 * link, lib/net_iov.c) */
	uint32_t index;                 /* position in the area */
};

/* In pp_ref_count: the buffer is free in its area (lib/net_iov.c). */
#define NM_NET_IOV_FREE 0x80000000u

/* Bytes before niovs[0]: the line that names the area (lib/net_iov.c). */
#define NM_NET_IOV_HEAD 64

struct nm_net_iov_area {
	struct nm_net_iov *niovs;
	uint32_t num_niovs;
	uint32_t buf_size;        /* bytes per buffer */
	uint64_t base_offset;     /* offset of buffer 0 in the backing memory */
	uint64_t base_iova;       /* IOVA of buffer 0 */
	uint8_t *cpu_base;        /* CPU address of buffer 0, NULL if none */
	bool readable;            /* handles are host buffers (else net_iov) */
	void *owner_priv;         /* the binding or host region owning the area */
	/* Each buffer's IOVA where they are not base_iova + index * buf_size
	 * (buffers of another allocator's objects), else NULL; its owner's. */
	uint64_t *iovas;

	/* The free list's head (lib/net_iov.c): lock-free, the most recently
	 * freed first, then never-used buffers in order. */
	struct nm_net_iov_free *free_list;
	size_t map_len;           /* descriptors + list head, 0 when malloc'ed */
};

static inline bool nm_netmem_is_net_iov(nm_netmem_ref netmem)
{
	return netmem & NM_NETMEM_NET_IOV;
}

static inline struct nm_net_iov *nm_netmem_to_net_iov(nm_netmem_ref netmem)
{
	return (struct nm_net_iov *)(netmem & ~NM_NETMEM_NET_IOV);
}

/* The area of a buffer that is handed out (its index is written then). */
static inline struct nm_net_iov_area *nm_net_iov_owner(const struct nm_net_iov *niov)
{
	return *(struct nm_net_iov_area *const *)((const uint8_t *)(niov - niov->index) -
						   NM_NET_IOV_HEAD);
}

static inline nm_netmem_ref nm_net_iov_to_netmem(const struct nm_net_iov *niov)
{
	return (nm_netmem_ref)niov |
	       (nm_net_iov_owner(niov)->readable ? 0 : NM_NETMEM_NET_IOV);
}

/* The IOVA the device writes the buffer at. */
static inline uint64_t nm_net_iov_dma_addr(const struct nm_net_iov *niov)
{
	const struct nm_net_iov_area *a = nm_net_iov_owner(niov);

	if (a->iovas)
		return a->iovas[niov->index];
	return a->base_iova + (uint64_t)niov->index * a->buf_size;
}

static inline uint64_t nm_netmem_dma_addr(nm_netmem_ref netmem)
{
	return nm_net_iov_dma_addr(nm_netmem_to_net_iov(netmem));
}

/* Offset of the buffer in its backing memory (the dmabuf offset for net_iovs). */
static inline uint64_t nm_net_iov_offset(const struct nm_net_iov *niov)
{
	const struct nm_net_iov_area *a = nm_net_iov_owner(niov);

	return a->base_offset + (uint64_t)niov->index * a->buf_size;
}

/* The payload's CPU address; NULL for a net_iov (the CPU must not touch it). */
static inline void *nm_netmem_address(nm_netmem_ref netmem)
{
	const struct nm_net_iov_area *a;
	struct nm_net_iov *niov;

	if (nm_netmem_is_net_iov(netmem))
		return NULL;
	niov = nm_netmem_to_net_iov(netmem);
	a = nm_net_iov_owner(niov);
	return a->cpu_base + (size_t)niov->index * a->buf_size;
}

static inline uint32_t nm_netmem_buf_size(nm_netmem_ref netmem)
{
	return nm_net_iov_owner(nm_netmem_to_net_iov(netmem))->buf_size;
}

/*
 * Set up @area over @num buffers of @buf_size bytes starting at @iova (and
 * @cpu_base, may be NULL). All buffers start free. Returns 0 or -errno.
 */
int nm_net_iov_area_init(struct nm_net_iov_area *area, uint32_t num,
			 uint32_t buf_size, uint64_t base_offset, uint64_t iova,
			 uint8_t *cpu_base, bool readable, void *owner_priv);
void nm_net_iov_area_fini(struct nm_net_iov_area *area);

/* Take up to @n free buffers (refcount set to 1); returns how many. */
unsigned int nm_net_iov_area_alloc(struct nm_net_iov_area *area,
				   nm_netmem_ref *out, unsigned int n);
/* Give buffers back to the free list. A double free (a buffer already
 * free or never taken, or more freed than taken) aborts, naming the buffer:
 * it would be handed out twice. */
void nm_net_iov_area_free(struct nm_net_iov_area *area,
			  const nm_netmem_ref *in, unsigned int n);

/*
 * The same by index, for an owner that keeps its own per-buffer state and
 * never reads the descriptors' pp/refcount (the DPDK mempool: the mbuf is
 * the reference): the descriptors are not touched. @exact: all @n or none.
 */
unsigned int nm_net_iov_area_take(struct nm_net_iov_area *area, uint32_t *idx,
				  unsigned int n, bool exact);
void nm_net_iov_area_give(struct nm_net_iov_area *area, const uint32_t *idx,
			  unsigned int n);
/* Buffers currently taken from the area. */
uint32_t nm_net_iov_area_in_use(struct nm_net_iov_area *area);

#ifdef __cplusplus
}
#endif
#endif
