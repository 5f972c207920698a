/* SPDX-License-Identifier: MIT */
/*
 * Force-included (-include) into DPDK's own app/test sources by
 * tests/dpdk/app-test.sh to build their pktmbuf variants: the pools those
 * tests create become pktmbuf pools (a pktmbuf private area, the object
 * past the mbuf header as its data room) on rte_mbuf_best_mempool_ops(), so
 * that with --mbuf-pool-ops-name=dmabuf they sit on the dmabuf free list
 * (nm_variant.c checks each through telemetry). DPDK's sources are not
 * changed; only these names are redirected.
 *
 *   NM_VARIANT_CREATE   rte_mempool_create()
 *   NM_VARIANT_EMPTY    rte_mempool_create_empty() too (mempool_perf's
 *                       default pool; its test sets the ops and populates)
 *   NM_VARIANT_EXTBUF   rte_pktmbuf_pool_create(): DPDK's own pinned
 *                       external-buffer pool (rte_pktmbuf_pool_create_extbuf()
 *                       over rte_malloc memory) wherever there is a data
 *                       room, for mbuf_autotest beside the dmabuf ops
 */
#ifndef NM_VARIANT_H
#define NM_VARIANT_H

#include <stdint.h>

#include <rte_mempool.h>

struct rte_mempool *nm_variant_mempool_create(const char *name, unsigned int n,
	unsigned int elt_size, unsigned int cache_size, unsigned int private_data_size,
	rte_mempool_ctor_t *mp_init, void *mp_init_arg, rte_mempool_obj_cb_t *obj_init,
	void *obj_init_arg, int socket_id, unsigned int flags);
struct rte_mempool *nm_variant_mempool_create_empty(const char *name, unsigned int n,
	unsigned int elt_size, unsigned int cache_size, unsigned int private_data_size,
	int socket_id, unsigned int flags);
int nm_variant_mempool_populate_default(struct rte_mempool *mp);
struct rte_mempool *nm_variant_extbuf_pool_create(const char *name, unsigned int n,
	unsigned int cache_size, uint16_t priv_size, uint16_t data_room_size,
	int socket_id);

#ifdef NM_VARIANT_CREATE
#define rte_mempool_create nm_variant_mempool_create
#endif
#ifdef NM_VARIANT_EMPTY
#define rte_mempool_create_empty nm_variant_mempool_create_empty
#define rte_mempool_populate_default nm_variant_mempool_populate_default
#endif
#ifdef NM_VARIANT_EXTBUF
#define rte_pktmbuf_pool_create nm_variant_extbuf_pool_create
#endif

#endif
