/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Where the kernel API this module uses moved between the two kernels it is
 * built and tested on, Debian's 6.12 and 7.3. One source for both: each
 * difference is named here once, keyed on LINUX_VERSION_CODE at the release
 * that changed it upstream.
 */
#ifndef NM_KMOD_COMPAT_H
#define NM_KMOD_COMPAT_H

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

#endif /* NM_KMOD_COMPAT_H */
