/* SPDX-License-Identifier: MIT */
/*
 * The "dmabuf" DPDK mempool driver: mbufs whose data buffers live in a
 * dmabuf.
 *
 * The mbuf headers (struct rte_mbuf, its private area, its shared info) are
 * ordinary mempool objects in host memory. Each mbuf is pinned, for the life
 * of the pool, to one buffer of a netmem dmabuf binding (one net_iov): its
 * buf_iova is the net_iov's DMA address and it carries RTE_MBUF_F_EXTERNAL,
 * exactly as DPDK's pinned external buffer pools
 * (rte_pktmbuf_pool_create_extbuf()). The free list of the pool IS the
 * binding's buffer allocator: taking an mbuf takes its net_iov, putting it
 * back frees the net_iov.
 *
 * The dmabuf is registered with DPDK (rte_extmem_register()) and DMA-mapped
 * (rte_dev_dma_map()) for every DMA-capable ethdev port present when the
 * pool is created; nm_dpdk_pool_dma_map_port() maps it for a port probed
 * later. Needs IOVA-as-VA (what EAL picks with VFIO and an IOMMU, or
 * --no-huge); a pool in IOVA-as-PA mode is refused with the reason.
 *
 * The memory DPDK maps is what netmem's nm_dmabuf_pin_addr() chooses
 * (docs/dmabuf-paths.md): the memfd behind a udmabuf, or the netmem kernel
 * bridge's mapping of any other page-backed dmabuf (DRM PRIME, dma-heap).
 * Both are also the CPU's view of the buffers, so buf_addr is valid. A
 * dmabuf with nothing userspace can pin (device memory without struct
 * pages, or any fd:N dmabuf when the bridge is not loaded and no memfd is
 * given) is refused at pool creation with netmem's reason (EOPNOTSUPP,
 * ENODEV, EFAULT): DPDK's VFIO type1 container has no other way in.
 *
 * Three ways to select it:
 *   - nm_dpdk_pktmbuf_pool_create() below (a source string or a dmabuf fd);
 *   - rte_pktmbuf_pool_create_by_ops(..., "dmabuf"): the source then comes
 *     from $NETMEM_DMABUF;
 *   - the EAL option --mbuf-pool-ops-name=dmabuf for unmodified apps
 *     (dpdk-testpmd -d librte_mempool_dmabuf.so ...), also from
 *     $NETMEM_DMABUF.
 *
 * NETMEM_DMABUF: any nm_dmabuf_open_spec() source: "udmabuf:SIZE",
 * "vgem:SIZE", "heap:SIZE", "fd:N" (an inherited dmabuf fd), "auto:SIZE",
 * "memfd:SIZE" (a stand-in for machines without /dev/udmabuf; never passed
 * off as a dmabuf). Unset: "auto", sized to fit the pool. Each pool
 * needs its own dmabuf: a second pool on the same dmabuf is refused (EBUSY).
 *
 * Two layouts (NETMEM_DMABUF_MBUF, or params.layout):
 *   - "pinned" (the default): as above, the mbuf headers in host memory,
 *     only the data rooms in the dmabuf; works for memory the CPU must not
 *     touch. DPDK's pinned-extbuf semantics come with it (clones counted in
 *     the shared info, rte_pktmbuf_copy() into such a pool drops the flag).
 *   - "inline": ordinary mbufs, whole objects (object header, mbuf, private
 *     area, data room) inside the dmabuf, each object in one buffer of the
 *     binding: no RTE_MBUF_F_EXTERNAL, every mbuf API behaves as on the
 *     default ops. Needs a dmabuf the CPU can map (refused otherwise).
 *
 * A udmabuf passed as "fd:N" can bring its memfd along
 * (NETMEM_DMABUF_MEMFD=M, or params.memfd): it is then pinned through that
 * memfd, no bridge needed, once the driver has checked that the two show
 * the same bytes.
 */
#ifndef NETMEM_DPDK_MEMPOOL_H
#define NETMEM_DPDK_MEMPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>

#include <netmem/err.h>

struct nm_dmabuf;

#ifdef __cplusplus
extern "C" {
#endif

/* The mempool ops name. */
#define NM_DPDK_MEMPOOL_OPS "dmabuf"
/* The environment variable naming the dmabuf of pools made without params. */
#define NM_DPDK_DMABUF_ENV "NETMEM_DMABUF"
/* With NETMEM_DMABUF=fd:N: the memfd behind that udmabuf (see below). */
#define NM_DPDK_DMABUF_MEMFD_ENV "NETMEM_DMABUF_MEMFD"
/* Comma-separated pool names: only these pools on the ops go into a dmabuf,
 * the others keep host memory (unset: every pool with a data room). */
#define NM_DPDK_DMABUF_POOLS_ENV "NETMEM_DMABUF_POOLS"
/* "pinned" (default) or "inline": the layout of pools whose params leave it
 * unset (see enum nm_dpdk_mbuf_layout). */
#define NM_DPDK_DMABUF_MBUF_ENV "NETMEM_DMABUF_MBUF"

enum nm_dpdk_mbuf_layout {
	NM_DPDK_MBUF_FROM_ENV = 0,   /* $NETMEM_DMABUF_MBUF, unset: pinned */
	NM_DPDK_MBUF_PINNED,         /* headers in host memory, data room pinned */
	NM_DPDK_MBUF_INLINE,         /* whole ordinary mbufs in the dmabuf */
};

/*
 * Where a pool's dmabuf comes from. Also what rte_mempool_set_ops_byname()
 * takes as pool_config for the "dmabuf" ops (NULL: $NETMEM_DMABUF). The fds
 * count when > 0, so a zeroed struct means "from the environment".
 */
struct nm_dpdk_pool_params {
	const char *source;   /* nm_dmabuf_open_spec() syntax; NULL: env/auto */
	int dmabuf_fd;        /* > 0: this dmabuf (dup'ed); wins over source */
	int memfd;            /* > 0: the memfd behind dmabuf_fd (a udmabuf) */
	struct nm_err *err;   /* optional: the reason a creation failed */
	/* Non-NULL: this dmabuf, already open (the pool takes its own
	 * reference); wins over the rest. For device memory (cuda:) the
	 * mbufs' buf_addr is the memory's own address: no CPU access. */
	struct nm_dmabuf *dmabuf;
	enum nm_dpdk_mbuf_layout layout;
};

/*
 * A pktmbuf pool of @n mbufs, each pinned to one @data_room_size buffer of a
 * dmabuf (buffers are the next power of two >= @data_room_size, >= 256).
 * The mbufs carry no data room in host memory. In the inline layout each
 * buffer holds a whole ordinary mbuf instead (the next power of two >=
 * object header + mbuf + @priv_size + @data_room_size). Returns NULL with
 * rte_errno set and the reason in @params->err (and the log) on failure.
 */
struct rte_mempool *nm_dpdk_pktmbuf_pool_create(const char *name, unsigned int n,
						unsigned int cache_size,
						uint16_t priv_size,
						uint16_t data_room_size,
						int socket_id,
						const struct nm_dpdk_pool_params *params);

/* True when @mp runs on the "dmabuf" ops with its data room in a dmabuf. */
bool nm_dpdk_pool_is_dmabuf(const struct rte_mempool *mp);

/*
 * A pool on the "dmabuf" ops with nothing to put in a dmabuf (a plain
 * object pool, mbufs without a data room, or with it in the application's
 * external memory) keeps host memory, as the default ops would give it:
 * returns why, or NULL for any other pool. Also in /netmem/host_pools.
 */
const char *nm_dpdk_pool_host_fallback(const struct rte_mempool *mp);

/*
 * Free a pool, but only when every mbuf is back (in the pool or an lcore
 * cache): returns -EBUSY and leaves the pool untouched otherwise. (A plain
 * rte_mempool_free() with mbufs outstanding cannot be refused; the driver
 * then keeps the dmabuf mapped for the rest of the process, so a device
 * still holding a buffer cannot write into freed memory, and says so.)
 */
int nm_dpdk_pool_free(struct rte_mempool *mp, struct nm_err *err);

/* DMA-map @mp's dmabuf for @port's device (no-op when done or when the
 * device does no DMA, e.g. a vdev). */
int nm_dpdk_pool_dma_map_port(struct rte_mempool *mp, uint16_t port,
			      struct nm_err *err);

struct nm_dpdk_pool_info {
	char source[64];          /* what the dmabuf came from */
	char exporter[32];        /* "udmabuf", "memfd", ... */
	bool emulated;            /* a memfd standing in for a dmabuf */
	bool readable;            /* the CPU can read the buffers */
	bool inline_mbufs;        /* layout inline: whole mbufs in the dmabuf */
	bool orphaned;            /* freed with mbufs outstanding */
	uint32_t binding_id;
	uint64_t dmabuf_size;
	uint64_t iova;            /* of buffer 0 */
	uint32_t buf_size;        /* bytes per buffer in the dmabuf */
	uint32_t num_bufs;        /* buffers in the binding */
	uint32_t num_objs;        /* mbufs in the pool */
	uint32_t free_bufs;       /* in the pool's free list (not lcore caches) */
	uint32_t mapped_devices;  /* devices the dmabuf is DMA-mapped for */
};

/* Facts about a "dmabuf" pool; -EINVAL for another kind of pool. */
int nm_dpdk_pool_info(const struct rte_mempool *mp,
		      struct nm_dpdk_pool_info *info);

#ifdef __cplusplus
}
#endif
#endif
