/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * netmem_kmod internals: libnetmem's design (the headers in lib/include/netmem) carried
 * into the kernel, under the same names, so the two can be read side by side
 * and measured on the same dmabuf.
 *
 *   nm_net_iov, nm_net_iov_area  net_iov.h   descriptors of device memory
 *   nm_memory_provider_ops       mp.h        a page pool's backing store
 *   nm_page_pool                 page_pool.h per-queue recycler
 *   nm_dmabuf_binding            binding.h   dmabuf imported, mapped, cut up
 *   nm_rxq, nm_rxq_restart()     netdev.h    flags + the common restart path
 *
 * The device is a virtual NIC (vnic.c) whose RX queues implement the kernel's
 * own struct netdev_queue_mgmt_ops, so the same driver callbacks serve this
 * module's restart path and the kernel's netdev_rx_queue_restart() behind
 * netlink bind-rx.
 *
 * Locking: rtnl_lock is our dev->lock. Every control operation (restart,
 * bind, unbind, queue queries, benchmarks) holds it, as the kernel's queue
 * restart does; a pool's allocation side is used only under it.
 */
#ifndef NM_KMOD_H
#define NM_KMOD_H

#include <linux/atomic.h>
#include <linux/dma-buf.h>
#include <linux/ethtool.h>
#include <linux/genalloc.h>
#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/ptr_ring.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <net/page_pool/types.h>

#include "compat.h"
#include "include/uapi/netmem_kmod.h"

#define NM_MAX_RXQ  16
#define NM_MAX_RING 4096    /* buffers a queue posts */
#define NM_MAX_POOL 16384   /* a page pool's recycle ring */
#define NM_MAX_RULES 16     /* ethtool ntuple rules */
#define NM_DRAIN_WAIT_S 60  /* rmmod waits this long for page pools to drain */
#define NM_RSS_INDIR 64     /* RSS indirection table entries */
#define NM_RX_BACKLOG 512   /* frames a queue holds before the peer stops */

/* A failure's errno and its reason in words (libnetmem's struct nm_err). */
struct nm_err {
	int code;
	char msg[NMK_REASON_LEN];
};

/* Record @code and a reason in @err (may be NULL); returns @code. */
__printf(3, 4) int nm_err_set(struct nm_err *err, int code, const char *fmt, ...);

/* ---- net_iov.h ------------------------------------------------------------ */

/* A handle: a descriptor's address, bit 0 set for unreadable memory. */
typedef unsigned long nm_netmem_ref;
#define NM_NETMEM_NET_IOV 1UL

struct nm_page_pool;
struct nm_net_iov_area;

/* 32 bytes per buffer; the kernel's struct net_iov is 48 in 6.12. */
struct nm_net_iov {
	struct nm_net_iov_area *owner;
	struct nm_page_pool *pp;        /* pool holding it, NULL when free */
	dma_addr_t dma_addr;            /* where the device writes */
	atomic_t pp_ref_count;          /* 0 free, 1 in a pool, more when shared */
	u32 index;                      /* position in the area */
};

/*
 * One run of equal-sized buffers. The free ones are tracked by a gen_pool
 * over buffer *offsets* (one chunk, one bit per buffer), not over DMA
 * addresses: the cost does not depend on how the dmabuf is scattered.
 */
struct nm_net_iov_area {
	struct nm_net_iov *niovs;
	u32 num_niovs;
	u32 buf_size;
	unsigned int buf_shift;
	struct gen_pool *free;
	unsigned long base;             /* gen_pool address of buffer 0 */
	unsigned long next_bit;         /* next-fit hint */
	atomic64_t *bufs_out;           /* the device's count of buffers out */
};

static inline bool nm_netmem_is_net_iov(nm_netmem_ref netmem)
{
	return netmem & NM_NETMEM_NET_IOV;
}

static inline struct nm_net_iov *nm_netmem_to_net_iov(nm_netmem_ref netmem)
{
	return (struct nm_net_iov *)(netmem & ~NM_NETMEM_NET_IOV);
}

static inline nm_netmem_ref nm_net_iov_to_netmem(struct nm_net_iov *niov)
{
	return (nm_netmem_ref)niov | NM_NETMEM_NET_IOV;
}

static inline u64 nm_net_iov_offset(const struct nm_net_iov *niov)
{
	return (u64)niov->index * niov->owner->buf_size;
}

/* @num buffers of @buf_size (a power of two), all free, no DMA address. */
int nm_net_iov_area_init(struct nm_net_iov_area *area, u32 num, u32 buf_size,
			 int nid, atomic64_t *bufs_out);
/* Keep buffer @index out of the free set for good. */
int nm_net_iov_area_reserve(struct nm_net_iov_area *area, u32 index);
/* Tear down; returns how many buffers were not back (0 unless a bug). */
u32 nm_net_iov_area_fini(struct nm_net_iov_area *area);
/* Take up to @n free buffers for @pp (refcount 1); returns how many. */
unsigned int nm_net_iov_area_alloc(struct nm_net_iov_area *area,
				   struct nm_page_pool *pp,
				   nm_netmem_ref *out, unsigned int n);
/* Give buffers back (refcount 0, no pool). */
void nm_net_iov_area_free(struct nm_net_iov_area *area,
			  const nm_netmem_ref *in, unsigned int n);

/* ---- mp.h ----------------------------------------------------------------- */

struct nm_rxq;

struct nm_memory_provider_ops {
	const char *name;
	/* NM_RXQ_CAP_* a queue must have; checked before any callback. */
	u32 required_caps;
	int (*init)(struct nm_page_pool *pool);
	void (*destroy)(struct nm_page_pool *pool);
	unsigned int (*alloc_netmems)(struct nm_page_pool *pool,
				      nm_netmem_ref *out, unsigned int n);
	void (*release_netmems)(struct nm_page_pool *pool,
				const nm_netmem_ref *in, unsigned int n);
	int (*describe)(void *priv, char *buf, size_t len);
	/* @rxq no longer has this provider bound. */
	void (*uninstall)(void *priv, struct nm_rxq *rxq);
};

struct nm_mp_params {
	const struct nm_memory_provider_ops *ops;  /* NULL: driver default */
	void *priv;
};

/* ---- page_pool.h ---------------------------------------------------------- */

#define NM_PP_CACHE_SIZE 128
#define NM_PP_REFILL     64

#define NM_PP_FLAG_DMA_MAP                 0x1u
#define NM_PP_FLAG_ALLOW_UNREADABLE_NETMEM 0x8u

struct nm_vnic;

struct nm_page_pool_params {
	u32 pool_size;          /* recycle ring entries; overflow goes back */
	u32 flags;              /* NM_PP_FLAG_* */
	int nid;
	u32 queue_idx;
	struct nm_vnic *dev;    /* the pool is listed on it (introspection) */
	struct nm_mp_params mp;
};

/*
 * Allocation side (alloc cache, hold_cnt): the queue's owner only. Puts may
 * come from anywhere in process context; after destroy, the last buffer put
 * back frees the pool.
 */
struct nm_page_pool {
	struct {
		u32 count;
		nm_netmem_ref cache[NM_PP_CACHE_SIZE];
	} alloc;
	u64 hold_cnt;                   /* taken from the provider */

	struct nm_page_pool_params p;
	void *mp_priv;
	struct ptr_ring ring;           /* produced under @lock */
	spinlock_t lock;
	u64 release_cnt;                /* given back; under @lock */
	bool destroyed;                 /* under @lock */
	struct list_head dev_node;      /* on p.dev->pools */
};

int nm_page_pool_create(const struct nm_page_pool_params *params,
			struct nm_page_pool **out, struct nm_err *err);
void nm_page_pool_destroy(struct nm_page_pool *pool);
nm_netmem_ref nm_page_pool_alloc_slow(struct nm_page_pool *pool);
void nm_page_pool_recycle_slow(struct nm_page_pool *pool, nm_netmem_ref netmem);

static inline nm_netmem_ref nm_page_pool_alloc_netmem(struct nm_page_pool *pool)
{
	if (likely(pool->alloc.count))
		return pool->alloc.cache[--pool->alloc.count];
	return nm_page_pool_alloc_slow(pool);
}

/* Drop a reference; true when it was the last (the count stays 1). */
static inline bool nm_net_iov_unref_is_last(struct nm_net_iov *niov)
{
	if (atomic_read(&niov->pp_ref_count) == 1)
		return true;
	if (atomic_dec_return(&niov->pp_ref_count))
		return false;
	atomic_set(&niov->pp_ref_count, 1);
	return true;
}

/* @allow_direct: the caller is the pool's owner and the pool is alive. */
static inline void nm_page_pool_put_netmem(struct nm_page_pool *pool,
					   nm_netmem_ref netmem,
					   bool allow_direct)
{
	if (!nm_net_iov_unref_is_last(nm_netmem_to_net_iov(netmem)))
		return;
	if (allow_direct && pool->alloc.count < NM_PP_CACHE_SIZE) {
		pool->alloc.cache[pool->alloc.count++] = netmem;
		return;
	}
	nm_page_pool_recycle_slow(pool, netmem);
}

/* ---- binding.h ------------------------------------------------------------ */

struct nm_dmabuf_binding {
	refcount_t refs;        /* creator + each pool built on it */
	u32 id;
	struct nm_vnic *dev;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	u64 size;
	u32 sg_nents;           /* DMA segments of the mapping */
	u32 dma_runs;           /* DMA-contiguous runs of segments */
	u32 unusable;           /* buffers straddling a DMA discontinuity */
	u64 metadata_bytes;
	u64 kernel_metadata_bytes;
	struct nm_net_iov_area area;
	unsigned long bound;    /* queues bound, a bitmap; under rtnl */
	bool unbound;
	struct list_head file_node;  /* on the opening file's list; rtnl */
};

int nm_dmabuf_binding_create(struct nm_vnic *dev, int fd, u32 buf_size,
			     struct nm_dmabuf_binding **out, struct nm_err *err);
/* Bind to queue @idx through the common restart path. rtnl held. */
int nm_dmabuf_binding_bind_rxq(struct nm_dmabuf_binding *b, u32 idx,
			       enum nmk_check check, struct nm_err *err);
/* Move every bound queue back to host memory and drop the creator's
 * reference. Buffers still out keep the memory mapped. rtnl held. */
void nm_dmabuf_binding_unbind(struct nm_dmabuf_binding *b);
void nm_dmabuf_binding_get(struct nm_dmabuf_binding *b);
void nm_dmabuf_binding_put(struct nm_dmabuf_binding *b);
struct nm_mp_params nm_dmabuf_binding_mp(struct nm_dmabuf_binding *b);

extern const struct nm_memory_provider_ops nm_mp_dmabuf_ops;

/* ---- netdev.h: the device, its queues, the restart path ------------------- */

struct nm_rxq {
	struct nm_vnic *dev;
	u32 index;
	u32 caps;                       /* NM_RXQ_CAP_*, set by the driver */
	u32 hw_caps;                    /* what the queue can do at all (rxq_caps);
					 * caps drops header-split when ethtool
					 * turns tcp-data-split off */
	struct nm_mp_params mp;         /* bound provider; ops NULL: default */
	struct nmk_rxq_counters counters;
};

/* One generation of a queue's memory: ndo_queue_mem_size bytes. */
struct nm_vnic_qmem {
	struct page_pool *kpp;          /* kernel page_pool: host or devmem */
	struct nm_page_pool *npp;       /* or ours, on our provider */
	struct page_pool *hpp;          /* host pages for split-off headers */
	unsigned long *ring;            /* posted buffers (netmem refs) */
	u32 ring_fill;
	u32 ring_cap;                   /* buffers posted: ring_size >> order */
	u32 buf_size;                   /* PAGE_SIZE, or the qcfg's rx_page_size */
	unsigned long part;             /* large buffers: the one being filled */
	u32 part_off;                   /* bytes of @part used */
	bool kernel_devmem;             /* kpp runs on the kernel's devmem */
};

/* One RX queue's datapath: frames from the peer wait in @backlog for NAPI. */
struct nm_vnic_rx {
	struct napi_struct napi;
	struct sk_buff_head backlog;
	struct nm_vnic *dev;
	u32 index;
	struct nmk_rxq_stats st;        /* written by NAPI (and the peer's xmit
					 * for drops, under backlog.lock) */
};

struct nm_flow_rule {
	bool used;
	struct ethtool_rx_flow_spec fs;
};

struct nm_vnic_stats {
	atomic64_t live_bindings;
	atomic64_t live_pools;
	atomic64_t bufs_out;
	atomic64_t bindings_freed;
	atomic64_t free_errors;
};

/* nmk0's transmit (vnic_tx.c): xmit runs on any CPU. */
struct nm_vnic_tx_stats {
	atomic64_t packets, dma_read;
	atomic64_t frags_devmem, bytes_devmem, frags_host, bytes_host;
	atomic64_t drop_nomem, drop_unmapped, drop_other;
};

struct nm_vnic {
	struct net_device *netdev;
	struct device *dma_dev;         /* netdev's parent: dmabufs attach to it */
	u32 num_rx_queues;
	u32 ring_size;
	u32 pool_size;
	struct nm_rxq rxqs[NM_MAX_RXQ];
	struct nm_vnic_qmem cur[NM_MAX_RXQ];  /* what each queue runs on */
	bool running[NM_MAX_RXQ];
	bool kernel_pin[NM_MAX_RXQ];    /* module held for a kernel binding */
	spinlock_t pools_lock;
	struct list_head pools;         /* our pools, as dev->page_pools */
	/* The datapath (vnic_rx.c) and its configuration (vnic_ethtool.c). */
	struct net_device *peer;        /* the plain end: frames it sends arrive here */
	struct napi_struct kick_napi;   /* on the peer: runs NET_RX on a CPU (rmmod) */
	struct nm_vnic_rx rx[NM_MAX_RXQ];
	bool dma_identity;              /* DMA address = physical: the copy works */
	bool tcp_data_split;            /* ethtool tcp-data-split; under rtnl */
	spinlock_t steer_lock;          /* rules and indir: xmit reads them */
	struct nm_flow_rule rules[NM_MAX_RULES];
	u32 indir[NM_RSS_INDIR];
	atomic_t next_binding_id;
	struct nm_vnic_stats stats;
	struct nm_vnic_tx_stats tx_st;
};

int nm_vnic_create(struct device *parent, const u32 *caps, u32 nrxq,
		   u32 ring_size, u32 pool_size, bool hds, struct nm_vnic **out);
/* False when a kernel page pool of ours still had buffers out after 10 s:
 * the DMA device must then stay registered for their unmapping. */
bool nm_vnic_destroy(struct nm_vnic *dev);
void nm_vnic_queue_info(struct nm_vnic *dev, u32 idx, struct nmk_queue *q);
u32 nm_vnic_kernel_devmem_pools(struct nm_vnic *dev);

int nm_rxq_check_idx(struct nm_vnic *dev, u32 idx, struct nm_err *err);
/*
 * The common restart path: move queue @idx onto @mp (NULL: host memory).
 * NMK_CHECK_FIRST refuses with -EOPNOTSUPP before any driver callback when
 * the queue's flags lack what @mp needs; the other two modes reproduce the
 * kernel's check-after designs for comparison. rtnl held.
 */
int nm_rxq_restart(struct nm_vnic *dev, u32 idx, const struct nm_mp_params *mp,
		   enum nmk_check check, struct nm_err *err);
/* Record @rxq's provider; the old one hears that it lost the queue. */
void nm_rxq_set_mp(struct nm_rxq *rxq, const struct nm_mp_params *mp);
/* page_pool_check_memory_provider(): does a pool of ours on @mp->priv
 * serve queue @idx? The inference the seed argues against. */
int nm_check_memory_provider(struct nm_vnic *dev, u32 idx,
			     const struct nm_mp_params *mp);

/* Names of the flags in @caps ("unreadable,restart" or "-"). */
const char *nm_rxq_caps_str(u32 caps, char *buf, size_t len);

/* ---- vnic_rx.c: the datapath ---------------------------------------------- */

/* Probe whether DMA addresses are physical ones on @dev (dma-direct, no
 * offset): the NIC's CPU copy writes there. */
bool nm_vnic_rx_dma_identity(struct device *dma_dev);
void nm_vnic_rx_init(struct nm_vnic *dev);
void nm_vnic_rx_fini(struct nm_vnic *dev);
/* The queue's NAPI: on at start, off (waiting for a running poll) at stop. */
void nm_vnic_rx_start(struct nm_vnic *dev, u32 idx);
void nm_vnic_rx_stop(struct nm_vnic *dev, u32 idx);
/* The peer's transmit: steer @skb to an RX queue of @dev. */
netdev_tx_t nm_vnic_rx_enqueue(struct nm_vnic *dev, struct sk_buff *skb);
/* Refill @qm's ring from its pool (process context at build, NAPI after). */
void nm_vnic_ring_refill(struct nm_vnic *dev, struct nm_vnic_qmem *qm,
			 struct nmk_rxq_stats *st, gfp_t gfp);
/* Where the device reads or writes for DMA address @dma (@len within one
 * page); NULL when it is not a physical address the CPU can reach. */
void *nm_vnic_dma_to_va(const struct nm_vnic *dev, dma_addr_t dma, unsigned int len);

/* ---- vnic_tx.c: nmk0 transmits to its peer -------------------------------- */

/* ndo_start_xmit: payload read from its DMA addresses (devmem TX too). */
netdev_tx_t nm_vnic_tx(struct nm_vnic *dev, struct sk_buff *skb);
void nm_vnic_tx_stats(struct nm_vnic *dev, struct nmk_tx_stats *out);

/* ---- vnic_qcfg.c: large RX buffers (QCFG_RX_PAGE_SIZE, 7.0+) ------------- */

#if NM_HAVE_QCFG
void nm_vnic_default_qcfg(struct net_device *nd, struct netdev_queue_config *qcfg);
int nm_vnic_validate_qcfg(struct net_device *nd, struct netdev_queue_config *qcfg,
			  struct netlink_ext_ack *extack);
/* The buffer size @qcfg asks for (PAGE_SIZE when unset). */
u32 nm_vnic_qcfg_buf_size(const struct netdev_queue_config *qcfg);
#endif
/* Queue @idx's buffer size as the core configures it now (PAGE_SIZE on 6.12). */
u32 nm_vnic_queue_buf_size(struct nm_vnic *dev, u32 idx);

/* ---- vnic_ethtool.c: tcp-data-split, ntuple rules, RSS -------------------- */

extern const struct ethtool_ops nm_vnic_ethtool_ops;
/* The RX queue for a frame with this flow; -1 when no rule matches. */
int nm_vnic_steer_rule(struct nm_vnic *dev, const struct sk_buff *skb);
void nm_vnic_steer_init(struct nm_vnic *dev);
int nm_vnic_set_features(struct net_device *nd, netdev_features_t features);
/* Set each queue's header-split flag from tcp-data-split. rtnl held. */
void nm_vnic_apply_hds(struct nm_vnic *dev);

/* ---- bench.c -------------------------------------------------------------- */

int nm_bench_run(struct nm_vnic *dev, struct nmk_bench *a, struct nm_err *err);

/* ---- sizes ---------------------------------------------------------------- */

/* Bytes the slab or page allocator really hands out for a kvmalloc(@n). */
size_t nm_kvmalloc_bytes(size_t n);

#endif
