// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Large RX buffers (7.0+: struct netdev_queue_config, QCFG_RX_PAGE_SIZE).
 *
 * A memory provider may ask for buffers larger than a page: netlink bind-rx's
 * rx-page-size (7.3) or io_uring zcrx's rx_buf_len. The core then hands the
 * queue's ndo_queue_mem_alloc() a qcfg with rx_page_size set, after asking
 * the driver to validate it. The module's NIC takes 4K to 64K, a power of
 * two: its queue memory's page pool gets that order (the provider's init
 * checks it matches its own buffer size) and the datapath fills a buffer
 * with consecutive payloads of the queue, as a NIC's aggregation ring does.
 * 6.12 has no such configuration: every buffer is one page there.
 */
#include <linux/log2.h>
#include <linux/netdevice.h>
#include <linux/sizes.h>
#include <net/netdev_queues.h>

#include "nm_kmod.h"

#define NM_RX_PAGE_MIN SZ_4K
#define NM_RX_PAGE_MAX SZ_64K

#if NM_HAVE_QCFG

void nm_vnic_default_qcfg(struct net_device *nd, struct netdev_queue_config *qcfg)
{
	qcfg->rx_page_size = PAGE_SIZE;
}

/* Called before any queue callback: a size we cannot post is refused here. */
int nm_vnic_validate_qcfg(struct net_device *nd, struct netdev_queue_config *qcfg,
			  struct netlink_ext_ack *extack)
{
	u32 sz = qcfg->rx_page_size;

	if (!sz)
		return 0;
	if (!is_power_of_2(sz) || sz < NM_RX_PAGE_MIN || sz < PAGE_SIZE ||
	    sz > NM_RX_PAGE_MAX) {
		NL_SET_ERR_MSG_FMT(extack,
				   "rx-page-size %u: nmk takes a power of two from %lu to %u",
				   sz, max_t(unsigned long, NM_RX_PAGE_MIN, PAGE_SIZE),
				   NM_RX_PAGE_MAX);
		return -ERANGE;
	}
	return 0;
}

u32 nm_vnic_qcfg_buf_size(const struct netdev_queue_config *qcfg)
{
	return qcfg && qcfg->rx_page_size ? qcfg->rx_page_size : PAGE_SIZE;
}

u32 nm_vnic_queue_buf_size(struct nm_vnic *dev, u32 idx)
{
	struct netdev_queue_config qcfg;

	netdev_queue_config(dev->netdev, idx, &qcfg);
	return nm_vnic_qcfg_buf_size(&qcfg);
}

#else

u32 nm_vnic_queue_buf_size(struct nm_vnic *dev, u32 idx)
{
	return PAGE_SIZE;
}

#endif
