/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Where the kernel API this module uses moved between the two kernels it is
 * built and tested on, Debian's 6.12 and 7.3. One source for both: each
 * difference is named here once, keyed on LINUX_VERSION_CODE. Only 6.12 and
 * 7.3 are built and run; a guard's exact release in between is our reading
 * of upstream, not something tested.
 */
#ifndef NM_KMOD_COMPAT_H
#define NM_KMOD_COMPAT_H

#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/version.h>
#include <net/page_pool/types.h>

/* 6.13: symbol namespaces are string literals, MODULE_IMPORT_NS("DMA_BUF"). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define NM_IMPORT_NS_DMA_BUF() MODULE_IMPORT_NS("DMA_BUF")
#else
#define NM_IMPORT_NS_DMA_BUF() MODULE_IMPORT_NS(DMA_BUF)
#endif

/*
 * 6.14: the exported whole-buffer allocation is page_pool_alloc_netmems();
 * page_pool_alloc_netmem() became an inline helper for fragments.
 */
static inline netmem_ref nm_pp_alloc_netmem(struct page_pool *pool, gfp_t gfp)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
	return page_pool_alloc_netmems(pool, gfp);
#else
	return page_pool_alloc_netmem(pool, gfp);
#endif
}

/*
 * 7.0: ndo_queue_mem_alloc() and ndo_queue_start() take the queue's
 * configuration (struct netdev_queue_config: rx_page_size).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
#define NM_HAVE_QCFG 1
struct netdev_queue_config;
#define NM_QCFG_ARG struct netdev_queue_config *qcfg,
#else
#define NM_HAVE_QCFG 0
#define NM_QCFG_ARG
#endif

/*
 * 6.15: a device with queue_mgmt_ops is "ops locked": the core calls its
 * ndo_open/stop, queue and ethtool ops under the instance lock (bind-rx takes
 * that lock, not RTNL), and napi_enable()/napi_disable() take it themselves.
 * Inside those ops the _locked NAPI calls serve; the module's own paths
 * (ioctls) take RTNL and then the instance lock, the order the core uses.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
#include <net/netdev_lock.h>
static inline void nm_lock(struct net_device *nd)
{
	rtnl_lock();
	netdev_lock_ops(nd);
}

static inline void nm_unlock(struct net_device *nd)
{
	netdev_unlock_ops(nd);
	rtnl_unlock();
}
#define nm_napi_enable napi_enable_locked
#define nm_napi_disable napi_disable_locked
/* What the core holds when it calls a driver op (7.3's ethtool: not RTNL). */
#define nm_assert_locked(nd) netdev_assert_locked(nd)  /* ours is ops locked */
#else
static inline void nm_lock(struct net_device *nd)
{
	rtnl_lock();
}

static inline void nm_unlock(struct net_device *nd)
{
	rtnl_unlock();
}
#define nm_napi_enable napi_enable
#define nm_napi_disable napi_disable
#define nm_assert_locked(nd) ASSERT_RTNL()
#endif

/*
 * The ethtool core asks the RX ring count through get_rx_ring_count() (7.3's
 * RSS indirection set needs it); 6.12 asks get_rxnfc(ETHTOOL_GRXRINGS).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
#define NM_HAVE_GET_RX_RING_COUNT 1
#else
#define NM_HAVE_GET_RX_RING_COUNT 0
#endif

/*
 * 6.14: tcp-data-split lives in the core's netdev_config (set by ethtool's
 * rings-set, checked by bind-rx in 6.13+ as dev->cfg->hds_config): a driver
 * whose queues split headers from the start says so before registering.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
#define NM_HAVE_NETDEV_CFG_HDS 1
#else
#define NM_HAVE_NETDEV_CFG_HDS 0
#endif

/*
 * Devmem TX (6.16): a driver whose TX path takes net_iov fragments by their
 * DMA address says so, and bind-tx accepts it. 6.16 had a flag
 * (netmem_tx = true); 7.2 made it enum netmem_tx_mode.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 2, 0)
#define NM_HAVE_NETMEM_TX 1
static inline void nm_set_netmem_tx(struct net_device *nd)
{
	nd->netmem_tx = NETMEM_TX_DMA;
}

static inline bool nm_vnic_netmem_tx(const struct net_device *nd)
{
	return nd->netmem_tx == NETMEM_TX_DMA;
}
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
#define NM_HAVE_NETMEM_TX 1
static inline void nm_set_netmem_tx(struct net_device *nd)
{
	nd->netmem_tx = true;
}

static inline bool nm_vnic_netmem_tx(const struct net_device *nd)
{
	return nd->netmem_tx;
}
#else
#define NM_HAVE_NETMEM_TX 0
static inline void nm_set_netmem_tx(struct net_device *nd)
{
}

static inline bool nm_vnic_netmem_tx(const struct net_device *nd)
{
	return false;
}
#endif

#endif /* NM_KMOD_COMPAT_H */
