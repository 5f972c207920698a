/* SPDX-License-Identifier: MIT */
/*
 * Host memory provider (mp/host): buffers in process memory, on hugepages
 * where the machine has them (libnuma places them on a node), else on normal
 * pages with the reason kept in nm_host_mem.note for the caller to print.
 * The region is mapped once into a DMA domain; its buffers are readable.
 */
#ifndef NETMEM_MP_HOST_H
#define NETMEM_MP_HOST_H

#include <netmem/atomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <netmem/dma_domain.h>
#include <netmem/err.h>
#include <netmem/mp.h>
#include <netmem/net_iov.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nm_host_mem_params {
	uint64_t size;        /* bytes; rounded up to whole buffers/hugepages */
	uint32_t buf_size;    /* 0: 2048 */
	int numa_node;        /* -1: no placement */
	bool no_hugepages;    /* force normal pages */
};

struct nm_host_mem {
	nm_atomic_int refs;
	uint8_t *base;
	uint64_t size;
	bool hugepages;
	int numa_node;         /* node bound to, -1 if none */
	char note[160];        /* why hugepages or placement were not used */
	struct nm_dma_domain *domain;
	uint64_t iova;
	struct nm_net_iov_area area;
};

int nm_host_mem_create(struct nm_dma_domain *domain,
		       const struct nm_host_mem_params *params,
		       struct nm_host_mem **out, struct nm_err *err);
void nm_host_mem_get(struct nm_host_mem *m);
void nm_host_mem_put(struct nm_host_mem *m);

struct nm_mp_params nm_host_mem_mp(struct nm_host_mem *m);

extern const struct nm_memory_provider_ops nm_mp_host_ops;

#ifdef __cplusplus
}
#endif
#endif
