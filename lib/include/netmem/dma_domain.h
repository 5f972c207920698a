/* SPDX-License-Identifier: MIT */
/*
 * DMA domains: where a device's addresses (IOVAs) come from.
 *
 *  - identity: IOVA == CPU address, for the software NIC. It records every
 *    mapping so the software NIC's "DMA" is checked like an IOMMU would: a
 *    write to an IOVA that is not mapped is a counted fault, not a write.
 *  - vfio type1: a VFIO container; VFIO_IOMMU_MAP_DMA pins process memory and
 *    maps it at an IOVA we allocate.
 */
#ifndef NETMEM_DMA_DOMAIN_H
#define NETMEM_DMA_DOMAIN_H

#include <netmem/atomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <netmem/err.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nm_dma_domain;

/*
 * Memory the CPU cannot address (a GPU's; see nm_dmabuf_dev_ops). A
 * software device's DMA into it goes through @write, the memory owner's
 * own copy, instead of a memcpy through a CPU address.
 */
struct nm_dma_dev_mem {
	uint64_t addr;  /* its place in the process's unified address space */
	int (*write)(void *ctx, uint64_t off, const void *src, uint64_t len);
	void *ctx;
};

struct nm_dma_domain_ops {
	const char *kind;
	/* Pins process pages (VFIO type1): needs memory with struct pages,
	 * not a PFNMAP mapping such as a dmabuf's own mmap. */
	bool pins_pages;
	/* Map @len bytes at CPU address @va; returns the IOVA in *@iova. */
	int (*map)(struct nm_dma_domain *d, void *va, uint64_t len,
		   uint64_t *iova, struct nm_err *err);
	int (*unmap)(struct nm_dma_domain *d, uint64_t iova, uint64_t len);
	/* CPU address behind [iova, iova+len), or NULL if not mapped. Only
	 * software devices use it; NULL for hardware domains. */
	void *(*translate)(struct nm_dma_domain *d, uint64_t iova, uint64_t len);
	/* Map device memory for a software device (IOVA == m->addr); NULL
	 * where the domain cannot (hardware domains). */
	int (*map_dev)(struct nm_dma_domain *d, const struct nm_dma_dev_mem *m,
		       uint64_t len, uint64_t *iova, struct nm_err *err);
	/* A software device's write of @len bytes at @iova: memcpy, or the
	 * device memory's own write; -EFAULT when not mapped. NULL: use
	 * translate + memcpy. */
	int (*write)(struct nm_dma_domain *d, uint64_t iova, const void *src,
		     uint64_t len);
	void (*destroy)(struct nm_dma_domain *d);
};

/* Updated atomically by whichever thread maps or unmaps: read them with
 * nm_dma_domain_get_stats() while other threads run. */
struct nm_dma_domain_stats {
	uint64_t maps, unmaps, mapped_bytes, faults;
};

struct nm_dma_domain {
	const struct nm_dma_domain_ops *ops;
	nm_atomic_int refs;
	struct nm_dma_domain_stats stats;
	nm_atomic_int binding_ids;  /* the last binding id given in it */
};

int nm_dma_domain_identity_create(struct nm_dma_domain **out,
				  struct nm_err *err);

/*
 * A VFIO type1 container holding the IOMMU group @group (its number, as in
 * /dev/vfio/N). Fails with a clear reason when VFIO or the group is absent.
 */
int nm_dma_domain_vfio_create(int group, struct nm_dma_domain **out,
			      struct nm_err *err);
/* The device fd of @bdf ("0000:00:06.0") in a vfio domain's group. */
int nm_dma_domain_vfio_device_fd(struct nm_dma_domain *d, const char *bdf,
				 struct nm_err *err);

int nm_dma_map(struct nm_dma_domain *d, void *va, uint64_t len, uint64_t *iova,
	       struct nm_err *err);
int nm_dma_unmap(struct nm_dma_domain *d, uint64_t iova, uint64_t len);
/* For software devices: CPU address of a device write; counts a fault if
 * the range is not mapped (or is device memory, which has none). */
void *nm_dma_translate(struct nm_dma_domain *d, uint64_t iova, uint64_t len);
/* Map device memory (-EOPNOTSUPP with the reason where the domain cannot). */
int nm_dma_map_dev(struct nm_dma_domain *d, const struct nm_dma_dev_mem *m,
		   uint64_t len, uint64_t *iova, struct nm_err *err);
/* For software devices: write @len bytes from @src at @iova, into host or
 * device memory alike; -EFAULT (a counted fault) if not mapped. */
int nm_dma_write(struct nm_dma_domain *d, uint64_t iova, const void *src,
		 uint64_t len);

/* A snapshot of @d's counters, safe against concurrent maps and unmaps. */
void nm_dma_domain_get_stats(const struct nm_dma_domain *d,
			     struct nm_dma_domain_stats *st);

void nm_dma_domain_get(struct nm_dma_domain *d);
void nm_dma_domain_put(struct nm_dma_domain *d);

#ifdef __cplusplus
}
#endif
#endif
