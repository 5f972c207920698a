/* SPDX-License-Identifier: MIT */
/*
 * net_netmem_igb, the DPDK ethdev PMD over netmem's igb driver
 * (--vdev net_netmem_igb0,bdf=BDF[,queues=N][,ring=N]; see docs/dpdk.md).
 */
#ifndef NETMEM_DPDK_IGB_H
#define NETMEM_DPDK_IGB_H

#include <stdint.h>

#include <netmem/igb.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * netmem's igb device under ethdev port @port, or NULL when the port is not
 * a net_netmem_igb one: for introspection (nm_igb_netdev() and its queues'
 * flags and counters, nm_igb_op_count(), nm_igb_rxq_stats()). Valid until
 * the port is closed.
 */
struct nm_igb *nm_dpdk_igb(uint16_t port);

#ifdef __cplusplus
}
#endif
#endif
