// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * netmem_kmod: module setup and the control interface, /dev/netmem-kmod.
 *
 * Load: a platform device (the NIC's DMA device, 64-bit mask), the virtual
 * NIC on it, then the misc device. Bindings belong to the open file that made
 * them, as the kernel's belong to the netlink socket: closing it unbinds.
 * Unload goes in reverse; an open file or a kernel devmem binding on one of
 * our queues holds the module, so rmmod cannot pull memory from under them.
 */
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "nm_kmod.h"

static u32 rxq_caps[NM_MAX_RXQ] = {
	NM_RXQ_CAP_ALL,                                 /* 0 */
	NM_RXQ_CAP_ALL,                                 /* 1 */
	NM_RXQ_CAP_HEADER_SPLIT | NM_RXQ_CAP_RESTART,   /* 2: no unreadable */
	NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT,/* 3: no restart */
	NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_RESTART,     /* 4: no header split */
};
static unsigned int num_rxq_caps = 5;
module_param_array(rxq_caps, uint, &num_rxq_caps, 0444);
MODULE_PARM_DESC(rxq_caps,
		 "capability flags of each RX queue (1 unreadable, 2 header-split, 4 restart); their count is the number of queues (default 7,7,6,3,5)");

static unsigned int ring_size = 256;
module_param(ring_size, uint, 0444);
MODULE_PARM_DESC(ring_size, "buffers each running RX queue posts, 1 to 4096 (default 256)");

static unsigned int pool_size = 1024;
module_param(pool_size, uint, 0444);
MODULE_PARM_DESC(pool_size, "recycle ring entries of each queue's page pool, 1 to 16384 (default 1024)");

static bool tcp_data_split = true;
module_param(tcp_data_split, bool, 0444);
MODULE_PARM_DESC(tcp_data_split, "tcp-data-split (header split) at load; ethtool -G changes it (default on)");

static struct platform_device *nm_pdev;
static struct nm_vnic *nm_dev;

struct nm_file {
	struct nm_vnic *dev;
	struct list_head bindings;      /* under rtnl */
};

static int nm_open(struct inode *inode, struct file *f)
{
	struct nm_file *nf = kzalloc(sizeof(*nf), GFP_KERNEL);

	if (!nf)
		return -ENOMEM;
	nf->dev = nm_dev;
	INIT_LIST_HEAD(&nf->bindings);
	f->private_data = nf;
	return 0;
}

static int nm_release(struct inode *inode, struct file *f)
{
	struct nm_file *nf = f->private_data;
	struct nm_dmabuf_binding *b, *tmp;

	nm_lock(nf->dev->netdev);
	list_for_each_entry_safe(b, tmp, &nf->bindings, file_node) {
		list_del_init(&b->file_node);
		nm_dmabuf_binding_unbind(b);
	}
	nm_unlock(nf->dev->netdev);
	kfree(nf);
	return 0;
}

static void ioc_info(struct nm_vnic *dev, struct nmk_info *in)
{
	memset(in, 0, sizeof(*in));
	in->abi_version = NMK_ABI_VERSION;
	in->num_rx_queues = dev->num_rx_queues;
	in->ring_size = dev->ring_size;
	in->pool_size = dev->pool_size;
	in->page_size = PAGE_SIZE;
	in->sizeof_net_iov = sizeof(struct nm_net_iov);
	in->sizeof_kernel_net_iov = sizeof(struct net_iov);
	nm_lock(dev->netdev);
	in->ifindex = dev->netdev->ifindex;
	strscpy(in->ifname, dev->netdev->name, sizeof(in->ifname));
	in->kernel_devmem_pools = nm_vnic_kernel_devmem_pools(dev);
	strscpy(in->peer_ifname, dev->peer->name, sizeof(in->peer_ifname));
	in->peer_ifindex = dev->peer->ifindex;
	in->tcp_data_split = dev->tcp_data_split;
	in->dma_identity = dev->dma_identity;
	nm_unlock(dev->netdev);
	in->live_bindings = atomic64_read(&dev->stats.live_bindings);
	in->live_pools = atomic64_read(&dev->stats.live_pools);
	in->bufs_out = atomic64_read(&dev->stats.bufs_out);
	in->bindings_freed = atomic64_read(&dev->stats.bindings_freed);
	in->free_errors = atomic64_read(&dev->stats.free_errors);
}

static int ioc_queue_get(struct nm_vnic *dev, struct nmk_queue *q)
{
	u32 idx = q->index;

	if (q->reserved)
		return -EINVAL;
	if (idx >= dev->num_rx_queues)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->index = idx;
	nm_lock(dev->netdev);
	nm_vnic_queue_info(dev, idx, q);
	nm_unlock(dev->netdev);
	return 0;
}

static int ioc_bind(struct nm_file *nf, struct nmk_bind *a, struct nm_err *err)
{
	struct nm_vnic *dev = nf->dev;
	struct nm_dmabuf_binding *b;
	u64 t0 = ktime_get_ns();
	int ret;

	if (a->flags)
		return nm_err_set(err, -EINVAL, "flags must be 0");
	if (a->check > NMK_CHECK_MAX)
		return nm_err_set(err, -EINVAL, "unknown check mode %u", a->check);
	ret = nm_rxq_check_idx(dev, a->queue, err);
	if (ret)
		return ret;

	ret = nm_dmabuf_binding_create(dev, a->dmabuf_fd, a->buf_size, &b, err);
	if (ret)
		return ret;
	a->id = b->id;
	a->size = b->size;
	a->num_bufs = b->area.num_niovs - b->unusable;
	a->unusable = b->unusable;
	a->sg_nents = b->sg_nents;
	a->dma_runs = b->dma_runs;
	a->metadata_bytes = b->metadata_bytes;
	a->kernel_metadata_bytes = b->kernel_metadata_bytes;

	nm_lock(dev->netdev);
	ret = nm_dmabuf_binding_bind_rxq(b, a->queue, a->check, err);
	if (ret)
		nm_dmabuf_binding_unbind(b);
	else
		list_add_tail(&b->file_node, &nf->bindings);
	nm_unlock(dev->netdev);
	a->elapsed_ns = ktime_get_ns() - t0;
	return ret;
}

static int ioc_unbind(struct nm_file *nf, struct nmk_unbind *a, struct nm_err *err)
{
	struct nm_dmabuf_binding *b, *found = NULL;
	u64 t0 = ktime_get_ns();

	if (a->flags)
		return nm_err_set(err, -EINVAL, "flags must be 0");
	nm_lock(nf->dev->netdev);
	list_for_each_entry(b, &nf->bindings, file_node) {
		if (b->id == a->id) {
			found = b;
			break;
		}
	}
	if (found) {
		list_del_init(&found->file_node);
		nm_dmabuf_binding_unbind(found);
	}
	nm_unlock(nf->dev->netdev);
	a->elapsed_ns = ktime_get_ns() - t0;
	if (!found)
		return nm_err_set(err, -ENOENT,
				  "no binding %u on this file (never made, or unbound already)",
				  a->id);
	return 0;
}

static int bench_locked(struct nm_vnic *dev, struct nmk_bench *a, struct nm_err *err)
{
	bool napi_off;
	int ret;

	a->provider = 0;
	a->allocated = a->first_round = a->ring_fill = a->bad = 0;
	a->ns_alloc = a->ns_put = a->ns_alloc_first = a->ns_put_first = 0;
	nm_lock(dev->netdev);
	/* The pool's allocation side belongs to the queue's NAPI: hold it off. */
	napi_off = a->queue < dev->num_rx_queues && dev->running[a->queue];
	if (napi_off)
		nm_vnic_rx_stop(dev, a->queue);
	ret = nm_bench_run(dev, a, err);
	if (napi_off)
		nm_vnic_rx_start(dev, a->queue);
	nm_unlock(dev->netdev);
	return ret;
}

/* The reason travels back in the argument, also (above all) on failure. */
static void set_reason(char *reason, int ret, const struct nm_err *err)
{
	if (ret && err->code)
		strscpy(reason, err->msg, NMK_REASON_LEN);
	else
		reason[0] = '\0';
}

static long user_bind(struct nm_file *nf, void __user *argp)
{
	struct nm_err err = { 0 };
	struct nmk_bind a;
	int ret;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	ret = ioc_bind(nf, &a, &err);
	set_reason(a.reason, ret, &err);
	return copy_to_user(argp, &a, sizeof(a)) ? -EFAULT : ret;
}

static long user_unbind(struct nm_file *nf, void __user *argp)
{
	struct nm_err err = { 0 };
	struct nmk_unbind a;
	int ret;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	ret = ioc_unbind(nf, &a, &err);
	set_reason(a.reason, ret, &err);
	return copy_to_user(argp, &a, sizeof(a)) ? -EFAULT : ret;
}

static long user_bench(struct nm_file *nf, void __user *argp)
{
	struct nm_err err = { 0 };
	struct nmk_bench a;
	int ret;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	ret = bench_locked(nf->dev, &a, &err);
	set_reason(a.reason, ret, &err);
	return copy_to_user(argp, &a, sizeof(a)) ? -EFAULT : ret;
}

static long nm_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct nm_file *nf = f->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case NMK_IOC_INFO: {
		struct nmk_info in;

		ioc_info(nf->dev, &in);
		return copy_to_user(argp, &in, sizeof(in)) ? -EFAULT : 0;
	}
	case NMK_IOC_RXQ_STATS: {
		struct nmk_rxq_stats st;
		u32 idx;

		if (copy_from_user(&st, argp, sizeof(st)))
			return -EFAULT;
		idx = st.index;
		if (st.reserved || idx >= nf->dev->num_rx_queues)
			return -EINVAL;
		st = nf->dev->rx[idx].st;  /* NAPI writes it: a racy snapshot */
		st.index = idx;
		st.reserved = 0;
		/* The pool the queue runs on now (a restart replaces it). */
		nm_lock(nf->dev->netdev);
		st.pool_hold = 0;
		if (nf->dev->running[idx] && nf->dev->cur[idx].kpp)
			st.pool_hold = nf->dev->cur[idx].kpp->pages_state_hold_cnt;
		else if (nf->dev->running[idx] && nf->dev->cur[idx].npp)
			st.pool_hold = nf->dev->cur[idx].npp->hold_cnt;
		nm_unlock(nf->dev->netdev);
		return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
	}
	case NMK_IOC_TX_STATS: {
		struct nmk_tx_stats st;

		nm_vnic_tx_stats(nf->dev, &st);
		return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
	}
	case NMK_IOC_QUEUE_GET: {
		struct nmk_queue q;
		int ret;

		if (copy_from_user(&q, argp, sizeof(q)))
			return -EFAULT;
		ret = ioc_queue_get(nf->dev, &q);
		if (ret)
			return ret;
		return copy_to_user(argp, &q, sizeof(q)) ? -EFAULT : 0;
	}
	}

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	switch (cmd) {
	case NMK_IOC_BIND:
		return user_bind(nf, argp);
	case NMK_IOC_UNBIND:
		return user_unbind(nf, argp);
	case NMK_IOC_BENCH:
		return user_bench(nf, argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations nm_fops = {
	.owner = THIS_MODULE,
	.open = nm_open,
	.release = nm_release,
	.unlocked_ioctl = nm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice nm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = NMK_DEVICE_NAME,
	.fops = &nm_fops,
	.mode = 0600,
};

static int __init nm_init(void)
{
	int ret;

	if (!num_rxq_caps || num_rxq_caps > NM_MAX_RXQ || !ring_size ||
	    ring_size > NM_MAX_RING || !pool_size || pool_size > NM_MAX_POOL) {
		pr_err("netmem_kmod: need 1 to %u rxq_caps, ring_size 1 to %u, pool_size 1 to %u\n",
		       NM_MAX_RXQ, NM_MAX_RING, NM_MAX_POOL);
		return -EINVAL;
	}
	/* AUTO: a device left registered by an earlier unload (nm_exit) must
	 * not block this one. */
	nm_pdev = platform_device_register_simple("netmem-kmod", PLATFORM_DEVID_AUTO,
						  NULL, 0);
	if (IS_ERR(nm_pdev))
		return PTR_ERR(nm_pdev);
	ret = dma_coerce_mask_and_coherent(&nm_pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_pdev;

	ret = nm_vnic_create(&nm_pdev->dev, rxq_caps, num_rxq_caps, ring_size,
			     pool_size, tcp_data_split, &nm_dev);
	if (ret)
		goto err_pdev;
	ret = misc_register(&nm_misc);
	if (ret)
		goto err_vnic;
	pr_info("netmem_kmod: %s with %u RX queues, peer %s, /dev/%s%s\n",
		nm_dev->netdev->name, nm_dev->num_rx_queues, nm_dev->peer->name,
		NMK_DEVICE_NAME, nm_dev->dma_identity ? "" :
		" (DMA addresses are not physical: payload into net_iovs is dropped)");
	return 0;

err_vnic:
	if (!nm_vnic_destroy(nm_dev))
		return ret;     /* cannot happen: nothing ran yet */
err_pdev:
	platform_device_unregister(nm_pdev);
	return ret;
}

static void __exit nm_exit(void)
{
	misc_deregister(&nm_misc);
	if (nm_vnic_destroy(nm_dev)) {
		platform_device_unregister(nm_pdev);
		return;
	}
	/* Buffers still out will be unmapped against it by the kernel (no
	 * code of ours runs then): leave the device registered, leak it. */
	pr_warn("netmem_kmod: page pools still hold buffers after %d s; %s stays registered for their DMA unmapping\n",
		NM_DRAIN_WAIT_S,
		dev_name(&nm_pdev->dev));
}

module_init(nm_init);
module_exit(nm_exit);
MODULE_DESCRIPTION("netmem: in-kernel dmabuf provider, check-first queue restart, virtual NIC");
MODULE_AUTHOR("netmem authors");
MODULE_LICENSE("Dual MIT/GPL");
NM_IMPORT_NS_DMA_BUF();
