/* SPDX-License-Identifier: MIT */
/*
 * Binding a dmabuf to one RX queue of any DPDK port, through netmem's common
 * check-first restart path.
 *
 * Each ethdev port the adapter touches gets a netmem device (struct
 * nm_netdev) that mirrors it: one netmem queue per configured RX queue, with
 * capability flags read from what the PMD reports (nothing is inferred from
 * what a setup call happens to do):
 *
 *   header-split  RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT in rx_queue_offload_capa
 *                 (or in rx_offload_capa and enabled on the port), and
 *                 rx_seg_capa.max_nseg >= 2;
 *   unreadable    header-split with rx_seg_capa.multi_pools, on a device that
 *                 receives by DMA (not a vdev): the payload segment is
 *                 written by the device into its own pool and never copied
 *                 by the CPU;
 *   restart       rx queue info can be read back (so the old setup can be
 *                 restored) and either RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP
 *                 or every queue of the port is stopped.
 *
 * nm_dpdk_rxq_bind() hands the queue to nm_rxq_bind_mp(): the flags are
 * checked against the dmabuf provider's needs before any ethdev call, so a
 * port that cannot do it is refused with the reason and never touched (its
 * traffic never stops). Otherwise only that queue is restarted: stopped, set
 * up again with buffer split (segment 0, the headers, from a host mempool;
 * segment 1, the payload, from a "dmabuf" mempool), started; any failure
 * puts it back on the setup it had.
 */
#ifndef NETMEM_DPDK_ETHDEV_H
#define NETMEM_DPDK_ETHDEV_H

#include <stdint.h>
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include <netmem/err.h>
#include <netmem/netdev.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nm_dpdk_rxq_split {
	struct rte_mempool *hdr_pool;      /* host mbufs for the headers */
	struct rte_mempool *payload_pool;  /* a "dmabuf" mempool */
	uint16_t hdr_len;     /* split after this many bytes (length split) */
	uint32_t proto_hdr;   /* or after these RTE_PTYPE_* headers (0: length) */
};

/* Bind @split's dmabuf pool to RX queue @queue of @port (see above). */
int nm_dpdk_rxq_bind(uint16_t port, uint16_t queue,
		     const struct nm_dpdk_rxq_split *split, struct nm_err *err);

/* Put the queue back on the setup it had before nm_dpdk_rxq_bind(). */
int nm_dpdk_rxq_unbind(uint16_t port, uint16_t queue, struct nm_err *err);

/*
 * The netmem device mirroring @port, created on first use, its flags
 * refreshed from the PMD. For nm_netdev_rxq_info() and
 * nm_netdev_print_queues(); valid until nm_dpdk_port_forget() or until the
 * port is seen with another number of RX queues (the mirror is then made
 * again).
 */
struct nm_netdev *nm_dpdk_port_netdev(uint16_t port, struct nm_err *err);

/* Drop the mirror of @port (-EBUSY while a queue is bound). Call before
 * rte_eth_dev_close() if the port was ever used with the adapter. */
int nm_dpdk_port_forget(uint16_t port, struct nm_err *err);

/* The NM_RXQ_CAP_* flags a queue of a port with this description gets. */
uint32_t nm_dpdk_rxq_caps(const struct rte_eth_dev_info *info,
			  uint64_t port_rx_offloads, bool dma_device,
			  bool can_restore, bool port_stopped);

/*
 * Telemetry commands (registered when the driver loads; usable with
 * dpdk-telemetry.py):
 *   /netmem/ports                 ethdev ports, and which are mirrored
 *   /netmem/queues,PORT           every RX queue: flags, provider, counters
 *   /netmem/dmabuf_pools          the "dmabuf" mempools
 *   /netmem/dmabuf_pool,NAME      one pool: dmabuf, binding, buffers
 */

#ifdef __cplusplus
}
#endif
#endif
