/* SPDX-License-Identifier: MIT */
/* Shared by the files of the "dmabuf" mempool driver; not installed. */
#ifndef NETMEM_DPDK_INTERNAL_H
#define NETMEM_DPDK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <netmem/binding.h>
#include <netmem/dma_domain.h>
#include <netmem/netdev.h>

#include <netmem/dpdk_ethdev.h>
#include <netmem/dpdk_mempool.h>

#include "obj_ring.h"

extern int nm_dpdk_logtype;
#define NM_LOG(level, fmt, ...)                                             \
	rte_log(RTE_LOG_##level, nm_dpdk_logtype, "netmem-dmabuf: " fmt "\n", \
		##__VA_ARGS__)

/* Pools and port mirrors are listed under this lock (telemetry reads them
 * from its own thread). */
extern pthread_mutex_t nm_dpdk_lock;

/*
 * The EAL's DMA domain (dpdk_domain.c): DPDK's own VFIO container, reached
 * through rte_extmem_register() + rte_dev_dma_map(). IOVA == VA. One per
 * process, shared by every port (they all sit in EAL's default container):
 * a pool's binding is made in it, and so serves every port with one mapping.
 */
int nm_dpdk_eal_domain(struct nm_dma_domain **dom, struct nm_err *err);
/* Map the range holding @iova for @dev too. 0 done (or already), 1 the
 * device does no DMA (a vdev), <0 error. */
int nm_dpdk_domain_map_device(struct nm_dma_domain *d, uint64_t iova,
			      struct rte_device *dev, struct nm_err *err);
/* Devices the range holding @iova is mapped for. */
uint32_t nm_dpdk_domain_mapped_devices(struct nm_dma_domain *d, uint64_t iova);
/* True when @dev receives by DMA (it is on a bus that maps memory). */
bool nm_dpdk_device_does_dma(const struct rte_device *dev);

/* Open the dmabuf a pool asks for (dmabuf_source.c); @need: bytes the
 * pool needs when the size is ours to choose. Writes the source used. */
int nm_dpdk_open_source(const struct nm_dpdk_pool_params *params, uint64_t need,
			struct nm_dmabuf **out, char *source, size_t len,
			struct nm_err *err);

/* What sits after the mbuf and its private area in every object. */
struct nm_dpdk_obj_tail {
	struct rte_mbuf_ext_shared_info shinfo;
	uint32_t niov;      /* index of the buffer this mbuf is pinned to */
};

/* mp->pool_data of a "dmabuf" pool. */
struct nm_dpdk_pool {
	/* What every get and put reads, in the first cache line (the free
	 * list, obj_ring.h, follows the struct: nm_dpdk_pool_ring()). */
	/* A pool with nothing to place in a dmabuf (host_fallback.c): host
	 * memory, objects on this ring; everything dmabuf below is unset. */
	struct rte_ring *host;
	atomic_bool attached;             /* mbufs point at their buffers */
	bool linear;                      /* objs[i] == lin_base + i << shift, the
					   * objects 1 << shift bytes apart (set
					   * before attached) */
	uintptr_t lin_base;
	uintptr_t lin_end;                /* lin_base + num_objs << shift */
	uintptr_t lin_low;                /* (1 << shift) - 1 */
	bool inline_objs;                 /* layout inline: object i sits in
					   * buffer i, an ordinary mbuf */

	struct rte_mempool *mp;           /* NULL once freed */
	char name[RTE_MEMPOOL_NAMESIZE];
	char source[64];
	struct nm_dmabuf_binding *b;
	struct nm_net_iov_area *area;     /* &b->area: all taken by the pool */
	void **objs;                      /* objs[i]: the mbuf on buffer i */
	uint32_t num_objs;                /* objects populated so far */
	uint32_t tail_off;                /* struct nm_dpdk_obj_tail in an object */
	uint16_t buf_len;                 /* mbuf buf_len (the data room) */
	uint8_t *cpu_base;                /* CPU address of buffer 0 */
	uint8_t *data_base;               /* buf_addr of buffer 0 (cpu_base, or
					   * device memory's own address) */
	uint32_t *lk;                     /* address bucket -> index, or NULL */
	uintptr_t lk_base;
	uint32_t lk_shift;
	uint32_t lk_len;
	pthread_mutex_t attach_lock;
	bool ready;                       /* set up (listed before that) */
	bool orphaned;
	bool destroy_seen;                /* the DESTROY event came */
	uint32_t outstanding;             /* mbufs out when it came */
	uint64_t dev_ino;                 /* dmabuf file identity, 0 unknown */
	uint64_t dev_dev;
	char host_reason[96];
	TAILQ_ENTRY(nm_dpdk_pool) next;
};
TAILQ_HEAD(nm_dpdk_pool_list, nm_dpdk_pool);

/* The pool struct's bytes, to a whole cache line: a dmabuf pool's free list
 * comes right behind it, in the same allocation. */
#define NM_DPDK_POOL_SIZE RTE_ALIGN_CEIL(sizeof(struct nm_dpdk_pool), RTE_CACHE_LINE_SIZE)

/* A zeroed pool with @extra bytes behind it, on @socket; rte_free() it. */
static inline struct nm_dpdk_pool *nm_dpdk_pool_zalloc(size_t extra, int socket)
{
	return rte_zmalloc_socket("netmem-dmabuf-pool", NM_DPDK_POOL_SIZE + extra,
				  RTE_CACHE_LINE_SIZE, socket);
}

/* A dmabuf pool's free list, at a fixed offset from the pool: a get or put
 * finds it without loading a pointer first. */
static inline struct nm_obj_ring *nm_dpdk_pool_ring(const struct nm_dpdk_pool *p)
{
	return (struct nm_obj_ring *)((uintptr_t)p + NM_DPDK_POOL_SIZE);
}
extern struct nm_dpdk_pool_list nm_dpdk_pools;
/* The host-memory pools on the dmabuf ops (nm_dpdk_lock). */
extern struct nm_dpdk_pool_list nm_dpdk_host_pools;

/* Why @mp gets host memory, or NULL when its data room goes in a dmabuf. */
const char *nm_dpdk_host_reason(const struct rte_mempool *mp);
/* $NETMEM_DMABUF_POOLS names @name (or is unset). */
bool nm_dpdk_pool_selected(const char *name);
int nm_dpdk_host_alloc(struct rte_mempool *mp, const char *reason);
void nm_dpdk_host_free(struct nm_dpdk_pool *p);
int nm_dpdk_host_populate(struct rte_mempool *mp, unsigned int max_objs,
			  void *vaddr, rte_iova_t iova, size_t len,
			  rte_mempool_populate_obj_cb_t *obj_cb, void *obj_cb_arg);

/* Fill @info from @p; nm_dpdk_lock held. */
void nm_dpdk_pool_fill_info(struct nm_dpdk_pool *p,
			    struct nm_dpdk_pool_info *info);

/* The control socket for netmem-ctl (ctl.c). Start it without holding
 * nm_dpdk_lock; forget a mirror (nm_dpdk_lock held) before freeing it. */
void nm_dpdk_ctl_start(void);
void nm_dpdk_ctl_forget_locked(struct nm_netdev *nd);
const char *nm_dpdk_ctl_path(void);

/* The port mirrors (ethdev_adapter.c), for telemetry. */
struct nm_netdev *nm_dpdk_port_netdev_locked(uint16_t port, struct nm_err *err);
bool nm_dpdk_port_mirrored_locked(uint16_t port);

/*
 * The ethdev calls the adapter makes, in one table so the unit tests can
 * stand in for a PMD with buffer split (no such port exists without
 * hardware). The default table calls rte_eth_*.
 */
struct nm_dpdk_ethdev_ops {
	int (*info_get)(uint16_t port, struct rte_eth_dev_info *info);
	int (*conf_get)(uint16_t port, struct rte_eth_conf *conf);
	int (*rxq_info_get)(uint16_t port, uint16_t q, struct rte_eth_rxq_info *qi);
	int (*rxq_setup)(uint16_t port, uint16_t q, uint16_t nb_desc,
			 unsigned int socket, const struct rte_eth_rxconf *conf,
			 struct rte_mempool *mp);
	int (*rxq_start)(uint16_t port, uint16_t q);
	int (*rxq_stop)(uint16_t port, uint16_t q);
	bool (*does_dma)(const struct rte_device *dev);
};
extern const struct nm_dpdk_ethdev_ops nm_dpdk_ethdev_default_ops;
/* Tests only: use @ops (NULL: the default). */
void nm_dpdk_set_ethdev_ops(const struct nm_dpdk_ethdev_ops *ops);

#endif
