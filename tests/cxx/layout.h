/* SPDX-License-Identifier: MIT */
/* Sizes and member offsets of the public structs with atomic or aligned
 * members, compiled once as C and once as C++: the two tables must match. */
#include <stddef.h>

#include <netmem/netmem.h>
#include <netmem/sim.h>

#define NM_LAYOUT_TABLE { \
	sizeof(struct nm_page_pool), _Alignof_pool, \
	offsetof(struct nm_page_pool, shared_refs), offsetof(struct nm_page_pool, p), \
	offsetof(struct nm_page_pool, refs), \
	offsetof(struct nm_page_pool, drain_lock), offsetof(struct nm_page_pool, owner_dropped), \
	sizeof(struct nm_net_iov), offsetof(struct nm_net_iov, pp_ref_count), \
	sizeof(struct nm_dmabuf), offsetof(struct nm_dmabuf, fd), \
	sizeof(struct nm_dmabuf_binding), offsetof(struct nm_dmabuf_binding, area), \
	offsetof(struct nm_dmabuf_binding, bound), \
	sizeof(struct nm_dma_domain), offsetof(struct nm_dma_domain, stats), \
	sizeof(struct nm_host_mem), sizeof(struct nm_netdev), \
	offsetof(struct nm_netdev, lock), sizeof(struct nm_rxq_info), \
}
#define NM_LAYOUT_COUNT 20
