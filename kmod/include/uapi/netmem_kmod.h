/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * netmem_kmod: the in-kernel counterpart of libnetmem, for comparison.
 *
 * The module registers one virtual NIC ("nmk0") with several RX queues that
 * implement the kernel's netdev_queue_mgmt_ops, each carrying the capability
 * flags below, and a misc device /dev/netmem-kmod whose ioctls bind a dmabuf
 * to a queue through the module's own restart path, query queues and run
 * in-kernel benchmarks. Names and numbers mirror libnetmem
 * (lib/include/netmem/rxq_caps.h, netdev.h, binding.h).
 *
 * Every ioctl argument struct is read and written back whole, also when the
 * call fails: `reason` then says why, in words. Fields named `flags` or
 * `reserved` must be zero (-EINVAL otherwise), so they can be given meaning
 * later without breaking old callers.
 */
#ifndef _UAPI_NETMEM_KMOD_H
#define _UAPI_NETMEM_KMOD_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define NMK_DEVICE_NAME "netmem-kmod"   /* /dev/netmem-kmod */
#define NMK_ABI_VERSION 2
#define NMK_REASON_LEN  192
#define NMK_IFNAMSIZ    16

/*
 * RX queue capability flags, set by the driver (libnetmem's enum
 * nm_rxq_cap, same names and values). Not redefined when libnetmem's
 * rxq_caps.h came first.
 */
#ifndef NETMEM_RXQ_CAPS_H
#define NM_RXQ_CAP_UNREADABLE   (1u << 0) /* payload may land in net_iovs */
#define NM_RXQ_CAP_HEADER_SPLIT (1u << 1) /* headers to host buffers */
#define NM_RXQ_CAP_RESTART      (1u << 2) /* restartable while the device runs */
#define NM_RXQ_CAP_ALL (NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT | \
			NM_RXQ_CAP_RESTART)
#endif

/* Where the restart path checks the queue's flags (struct nmk_bind.check). */
enum nmk_check {
	/* Ours: compare flags with the provider's needs before any driver
	 * callback; a refused bind never touches the queue. */
	NMK_CHECK_FIRST = 0,
	/* Linux 6.12 as merged: ndo_queue_mem_alloc, then look for a page
	 * pool on the binding (page_pool_check_memory_provider); on failure
	 * free the new memory. No stop/start, one wasted mem_alloc. */
	NMK_CHECK_AFTER_ALLOC = 1,
	/* The seed's v19: restart the queue fully, then look for the pool;
	 * when it is missing, restart back onto the old provider. */
	NMK_CHECK_AFTER_RESTART = 2,
	NMK_CHECK_MAX = NMK_CHECK_AFTER_RESTART,
};

/* What a queue's memory comes from (struct nmk_queue.provider). */
enum nmk_provider {
	NMK_PROVIDER_NONE = 0,           /* queue down: no memory */
	NMK_PROVIDER_HOST = 1,           /* kernel page_pool on host pages */
	NMK_PROVIDER_DMABUF = 2,         /* this module's dmabuf provider */
	NMK_PROVIDER_KERNEL_DEVMEM = 3,  /* the kernel's mp_dmabuf_devmem (bind-rx) */
};

struct nmk_info {
	__u32 abi_version;          /* NMK_ABI_VERSION */
	__u32 num_rx_queues;
	__u32 ifindex;              /* of the virtual NIC */
	__u32 ring_size;            /* buffers a running queue posts */
	__u32 pool_size;            /* page pool recycle ring, each pool */
	__u32 page_size;
	__u32 sizeof_net_iov;       /* this module's descriptor */
	__u32 sizeof_kernel_net_iov;/* struct net_iov of the running kernel */
	char ifname[NMK_IFNAMSIZ];
	/* Live objects of this module: all zero when nothing is bound. */
	__u64 live_bindings;
	__u64 live_pools;           /* this module's page pools */
	__u64 bufs_out;             /* net_iovs outside their provider */
	__u64 bindings_freed;
	__u64 free_errors;          /* net_iovs found not back at a binding's end */
	__u64 kernel_devmem_pools;  /* kernel pools on our queues running on devmem */
	/* The datapath (ABI 2): the plain end of the pair, header split. */
	char peer_ifname[NMK_IFNAMSIZ];
	__u32 peer_ifindex;         /* in the namespace it was created in */
	__u32 tcp_data_split;       /* 1: ethtool tcp-data-split on */
	__u32 dma_identity;         /* 1: DMA address = physical, the datapath runs */
	__u32 reserved;
};

struct nmk_rxq_counters {
	/* The module's restart path (bind/unbind through /dev/netmem-kmod). */
	__u64 restarts;     /* completed stop + start onto new memory */
	__u64 refused;      /* refused by the flag check, before any callback */
	__u64 check_failed; /* a check-after variant found no pool on the binding */
	__u64 rollbacks;    /* a driver step failed; the old memory was kept */
	/* Driver callbacks, whoever called them (this module or the kernel's
	 * netdev_rx_queue_restart() behind netlink bind-rx). */
	__u64 cb_mem_alloc;
	__u64 cb_mem_free;
	__u64 cb_stop;
	__u64 cb_start;
	__u64 bufs_posted;  /* buffers mem_alloc put into RX rings */
};

struct nmk_queue {
	__u32 index;        /* in */
	__u32 caps;         /* NM_RXQ_CAP_* */
	__u32 running;
	__u32 provider;     /* enum nmk_provider of the memory it runs on */
	__u32 binding_id;   /* this module's binding bound to it, 0 if none */
	__u32 kernel_bound; /* the kernel's rxq->mp_params is set (bind-rx) */
	__u32 ring_fill;    /* buffers posted in its RX ring */
	__u32 reserved;
	__u64 pool_hold;    /* buffers its pool took from the provider/pages */
	__u64 pool_release; /* buffers its pool gave back */
	struct nmk_rxq_counters counters;
	char provider_desc[NMK_REASON_LEN];
};

/*
 * What one RX queue's datapath did since load (NMK_IOC_RXQ_STATS). The peer's
 * frames are steered to a queue (ntuple rule, else RSS), and its NAPI poll
 * splits each TCP segment: headers into a host page-pool page, payload into
 * the buffers posted from the queue's page pool (a CPU copy to the buffer's
 * DMA address, standing in for the device's DMA).
 */
struct nmk_rxq_stats {
	__u32 index;            /* in */
	__u32 reserved;         /* in: 0 */
	__u64 packets;          /* frames handed to the stack */
	__u64 bytes;
	__u64 split;            /* of them header-split */
	__u64 hdr_bytes;        /* header bytes put in host pages */
	__u64 payload_host;     /* payload bytes put in host pages */
	__u64 payload_devmem;   /* payload bytes put in the kernel's net_iovs */
	__u64 payload_kmod;     /* payload bytes put in this module's net_iovs */
	__u64 kmod_dropped;     /* frames on this module's provider (no TCP consumer) */
	__u64 drop_no_buf;      /* frames dropped: no posted buffer (ring empty) */
	__u64 drop_backlog;     /* frames dropped: the queue's backlog was full */
	__u64 drop_down;        /* frames dropped: device down */
	__u64 ring_allocs;      /* buffers taken from the page pool to refill the ring */
	__u64 ring_alloc_ns;    /* time in those allocations */
	__u64 ring_alloc_fail;  /* refills the pool could not serve */
	__u64 pool_hold;        /* the running pool's provider allocations (now) */
	__u64 polls;            /* NAPI polls */
};

/*
 * What nmk0's transmit did since load (NMK_IOC_TX_STATS). A frame with
 * payload in fragments is read from each fragment's DMA address (a CPU copy
 * standing in for the device's DMA): net_iovs of a devmem TX binding, or
 * host pages mapped for the send.
 */
struct nmk_tx_stats {
	__u32 netmem_tx;        /* the NIC declares devmem TX (NETMEM_TX_DMA) */
	__u32 reserved;
	__u64 packets;          /* frames handed to the peer */
	__u64 dma_read;         /* of them read from DMA addresses */
	__u64 frags_devmem;     /* fragments that were net_iovs (devmem TX) */
	__u64 bytes_devmem;     /* payload bytes read from them */
	__u64 frags_host;       /* fragments in host pages */
	__u64 bytes_host;
	__u64 drop_nomem;       /* frames dropped: no memory for the copy */
	__u64 drop_unmapped;    /* frames dropped: a DMA address not readable */
	__u64 drop_other;       /* frames dropped: too many pages, no TX support */
};

struct nmk_bind {
	__s32 dmabuf_fd;    /* in */
	__u32 queue;        /* in */
	__u32 buf_size;     /* in: 0 = 4096; a power of two, 256 .. 65536 */
	__u32 check;        /* in: enum nmk_check */
	__u32 flags;        /* in: 0 */
	__u32 id;           /* out: binding id (per module, from 1) */
	__u64 size;         /* out: dmabuf bytes */
	__u32 num_bufs;     /* out: buffers cut from it */
	__u32 unusable;     /* out: buffers straddling a DMA discontinuity */
	__u32 sg_nents;     /* out: DMA segments of the mapping */
	__u32 dma_runs;     /* out: DMA-contiguous runs (adjacent segments merged) */
	__u64 metadata_bytes;        /* out: what the binding allocated */
	__u64 kernel_metadata_bytes; /* out: what 6.12's devmem binding would
				      * allocate for the same mapping */
	__u64 elapsed_ns;   /* out: time inside the kernel */
	char reason[NMK_REASON_LEN]; /* out */
};

struct nmk_unbind {
	__u32 id;           /* in */
	__u32 flags;        /* in: 0 */
	__u64 elapsed_ns;   /* out */
	char reason[NMK_REASON_LEN]; /* out */
};

enum nmk_bench_op {
	/* Take buffers from the queue's pool until it has none (or `count`),
	 * check each (a net_iov, refcount 1, owned by the pool), then put them
	 * all back as a remote thread would (no direct recycling): the first
	 * round takes every chunk from the provider. */
	NMK_BENCH_ALLOC_ALL = 1,
	/* `count` (1..64) allocs then `count` direct puts, `rounds` times:
	 * the pool's fast cache. */
	NMK_BENCH_RECYCLE = 2,
};

struct nmk_bench {
	__u32 op;           /* in: enum nmk_bench_op */
	__u32 queue;        /* in */
	__u32 count;        /* in: ALLOC_ALL: most to take (0 = unlimited for
			     * this module's pools; required for the kernel's) */
	__u32 rounds;       /* in: 0 = 1 */
	__u32 flags;        /* in: 0 */
	__u32 provider;     /* out: enum nmk_provider measured */
	__u64 allocated;    /* out: buffers taken, all rounds */
	__u64 first_round;  /* out: buffers taken in round one */
	__u64 ring_fill;    /* out: buffers the queue's RX ring holds */
	__u64 bad;          /* out: buffers failing the per-buffer check */
	__u64 ns_alloc;     /* out: total ns in allocation */
	__u64 ns_put;       /* out: total ns in put */
	__u64 ns_alloc_first; /* out: ns in allocation, round one */
	__u64 ns_put_first;   /* out: ns in put, round one */
	char reason[NMK_REASON_LEN]; /* out */
};

#define NMK_IOC_MAGIC 0xB7
#define NMK_IOC_INFO      _IOR(NMK_IOC_MAGIC, 0x01, struct nmk_info)
#define NMK_IOC_QUEUE_GET _IOWR(NMK_IOC_MAGIC, 0x02, struct nmk_queue)
#define NMK_IOC_BIND      _IOWR(NMK_IOC_MAGIC, 0x03, struct nmk_bind)
#define NMK_IOC_UNBIND    _IOWR(NMK_IOC_MAGIC, 0x04, struct nmk_unbind)
#define NMK_IOC_BENCH     _IOWR(NMK_IOC_MAGIC, 0x05, struct nmk_bench)
#define NMK_IOC_RXQ_STATS _IOWR(NMK_IOC_MAGIC, 0x06, struct nmk_rxq_stats)
#define NMK_IOC_TX_STATS  _IOR(NMK_IOC_MAGIC, 0x10, struct nmk_tx_stats)

#endif
