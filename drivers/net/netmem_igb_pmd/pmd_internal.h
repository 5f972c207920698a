/* SPDX-License-Identifier: MIT */
/*
 * net_netmem_igb: a DPDK ethdev PMD (a vdev) that drives the Intel 82576
 * through netmem's own igb driver (drivers/net/igb, which knows nothing of
 * DPDK). The device sits in EAL's default VFIO container, so every mempool
 * EAL maps (and every dmabuf pool rte_dev_dma_map() maps for this port) is
 * reachable by the NIC; netmem's igb does its own mappings through a netmem
 * DMA domain over that container. See docs/dpdk.md.
 */
#ifndef NETMEM_IGB_PMD_INTERNAL_H
#define NETMEM_IGB_PMD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <ethdev_driver.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_version.h>

#include <netmem/dma_domain.h>
#include <netmem/igb.h>
#include <netmem/mp.h>

#define PMD_NAME "net_netmem_igb"

extern int nm_igb_pmd_logtype;
#define PMD_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, nm_igb_pmd_logtype, PMD_NAME ": " fmt "\n", ##__VA_ARGS__)

/*
 * Where the driver API moved between the LTS releases this PMD builds on
 * (22.11, 25.11), one source for both:
 *  - 24.03: the ptype callbacks return the array's length too (no
 *    terminator needed; ours keep RTE_PTYPE_UNKNOWN last for 22.11);
 *  - 25.11: the per-queue counters left struct rte_eth_stats for a struct
 *    eth_queue_stats of their own, a second stats_get argument.
 */
#if RTE_VERSION >= RTE_VERSION_NUM(24, 3, 0, 0)
#define PMD_PTYPES_ARGS struct rte_eth_dev *dev, size_t *no_of_elements
#define PMD_PTYPES_RETURN(arr) \
	return (*no_of_elements = RTE_DIM(arr) - 1, (arr))
#else
#define PMD_PTYPES_ARGS struct rte_eth_dev *dev
#define PMD_PTYPES_RETURN(arr) return (arr)
#endif
#if RTE_VERSION >= RTE_VERSION_NUM(25, 11, 0, 0)
#define PMD_QSTATS_IN_ETH_STATS 0
#define PMD_STATS_ARGS struct rte_eth_dev *dev, struct rte_eth_stats *s, \
	struct eth_queue_stats *qs
#else
#define PMD_QSTATS_IN_ETH_STATS 1
#define PMD_STATS_ARGS struct rte_eth_dev *dev, struct rte_eth_stats *s
#endif

/* The per-queue counters, on every release (what 25.11 calls struct
 * eth_queue_stats). */
struct pmd_qstats {
	uint64_t q_ipackets[RTE_ETHDEV_QUEUE_STAT_CNTRS];
	uint64_t q_opackets[RTE_ETHDEV_QUEUE_STAT_CNTRS];
	uint64_t q_ibytes[RTE_ETHDEV_QUEUE_STAT_CNTRS];
	uint64_t q_obytes[RTE_ETHDEV_QUEUE_STAT_CNTRS];
	uint64_t q_errors[RTE_ETHDEV_QUEUE_STAT_CNTRS];
};

/* --- eal_vfio_domain.c: a netmem DMA domain over EAL's default container */
int pmd_eal_vfio_domain_create(struct nm_dma_domain **out, struct nm_err *err);

/* --- mbuf_provider.c: a netmem memory provider over a pktmbuf mempool --- */
struct pmd_mbuf_mp;
/*
 * Buffers of @buf_size bytes (at most the data room less the headroom),
 * each one mbuf of @mp while the netmem page pool holds it; at most @num at
 * once. One reference for the caller.
 */
int pmd_mbuf_mp_create(struct rte_mempool *mp, uint32_t buf_size, uint32_t num,
		       struct pmd_mbuf_mp **out, struct nm_err *err);
void pmd_mbuf_mp_put(struct pmd_mbuf_mp *m);
/* The provider, for nm_mp_params. */
struct nm_mp_params pmd_mbuf_mp_params(struct pmd_mbuf_mp *m);
/*
 * A received buffer leaves netmem for the application: returns its mbuf
 * and tells the page pool it is gone for good (nm_page_pool_release_netmems),
 * so the application frees it to its mempool as any mbuf. Queue's poller.
 */
struct rte_mbuf *pmd_mbuf_mp_take(nm_netmem_ref ref);

/* --- the port --------------------------------------------------------- */
struct pmd_adapter;

struct pmd_rxq {
	struct pmd_adapter *ad;
	uint16_t idx;
	uint16_t port_id;
	bool configured;        /* rx_queue_setup done: the device runs it */
	bool split;
	uint32_t proto_hdr;     /* seg 0: up to these headers, or ... */
	uint16_t hdr_len;       /* ... a header buffer of this many bytes */
	uint32_t hdr_size;      /* SRRCTL.BSIZEHEADER in bytes */
	struct rte_mempool *hdr_mp, *pay_mp;
	struct pmd_mbuf_mp *hdr_prov, *pay_prov;
	struct rte_eth_rxconf conf;  /* for rxq_info_get; rx_seg not kept */
	uint16_t nb_desc;
	uint64_t unsplit;       /* delivered whole in one payload mbuf */
	uint64_t no_mbuf;       /* a buffer without its mbuf (must stay 0) */
};

struct pmd_txq {
	struct pmd_adapter *ad;
	uint16_t idx;
	uint64_t packets, bytes, errors;
};

struct pmd_adapter {
	struct nm_igb *igb;
	struct nm_dma_domain *dom;
	char bdf[32];
	int vfio_fd;
	uint32_t num_queues;    /* RX queues the device runs (devarg queues=) */
	uint32_t ring_size;     /* RX descriptors per queue (devarg ring=) */
	uint32_t mtu;           /* the device's MTU (devarg mtu=), fixed at probe */
	struct rte_ether_addr mac;
	bool promisc, allmulti;
	/* The redirection table the application set (rss_reta_update), or
	 * none: then start spreads the entries over the configured queues. */
	uint8_t reta[128];
	bool reta_set;
	struct pmd_rxq rxq[NM_IGB_MAX_RX_QUEUES];
	struct pmd_txq txq;
	/* Stats are counters since open: reset keeps an offset. */
	struct rte_eth_stats base;
	struct pmd_qstats qbase;
	uint64_t hw_rx_base, hw_tx_base, hw_missed_base;
};

/* pmd_rxtx.c */
uint16_t pmd_rx_burst(void *rxq, struct rte_mbuf **pkts, uint16_t n);
uint16_t pmd_tx_burst(void *txq, struct rte_mbuf **pkts, uint16_t n);
int pmd_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
		       unsigned int socket, const struct rte_eth_rxconf *conf,
		       struct rte_mempool *mp);
void pmd_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid);
int pmd_rx_queue_start(struct rte_eth_dev *dev, uint16_t qid);
int pmd_rx_queue_stop(struct rte_eth_dev *dev, uint16_t qid);
const uint32_t *pmd_split_ptypes(PMD_PTYPES_ARGS);
/* The packet types the RX burst sets in mbufs (from the descriptors). */
const uint32_t *pmd_ptypes(PMD_PTYPES_ARGS);

/* pmd_stats.c */
int pmd_stats_get(PMD_STATS_ARGS);
int pmd_stats_reset(struct rte_eth_dev *dev);
int pmd_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xs, unsigned int n);
int pmd_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
			 unsigned int size);

#endif
