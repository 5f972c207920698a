// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * netmem bridge: page-backed dmabufs made mappable by VFIO type1.
 *
 * One bridge per dmabuf. It owns, for its whole life: the dmabuf reference,
 * the attachment to our misc device, the mapped sg_table (mapping a static
 * attachment pins the buffer for exporters that can move it) and the array
 * of its pages. References to the bridge: the fd we hand out, and every VMA
 * that maps it. Whatever order userspace closes things in (dmabuf fd, bridge
 * fd, munmap, VFIO container), the last reference releases in exact reverse
 * order of acquisition. Pages VFIO pinned keep their own page references.
 *
 * Pages are inserted with vm_insert_pages() into a VM_MIXEDMAP VMA: GUP sees
 * normal pages there (vm_normal_page() returns them for MIXEDMAP pfns with a
 * struct page), so pin_user_pages(), and so VFIO_IOMMU_MAP_DMA, works. vgem's
 * pages are shmem page-cache folios and the system heap's are driver-owned
 * compound pages; vm_insert_page() maps both as file-rmap'd pages of our own
 * VMA, takes a page reference per mapping, and never touches the exporter's
 * own mappings or rmap, so the exporter's mmap and ours coexist.
 */
#include <linux/anon_inodes.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <uapi/netmem_bridge.h>

struct bridge {
	struct kref ref;
	struct list_head node;          /* in bridges, under bridges_lock */
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	struct page **pages;
	unsigned long nr_pages;
};

static LIST_HEAD(bridges);
static DEFINE_MUTEX(bridges_lock);
static struct miscdevice bridge_misc;

static void bridge_release(struct kref *ref)
{
	struct bridge *b = container_of(ref, struct bridge, ref);

	mutex_lock(&bridges_lock);
	list_del(&b->node);
	mutex_unlock(&bridges_lock);
	kvfree(b->pages);
	dma_buf_unmap_attachment_unlocked(b->attach, b->sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(b->dmabuf, b->attach);
	dma_buf_put(b->dmabuf);
	kfree(b);
}

static void bridge_vm_open(struct vm_area_struct *vma)
{
	struct bridge *b = vma->vm_private_data;

	kref_get(&b->ref);
}

static void bridge_vm_close(struct vm_area_struct *vma)
{
	struct bridge *b = vma->vm_private_data;

	kref_put(&b->ref, bridge_release);
}

static const struct vm_operations_struct bridge_vm_ops = {
	.open = bridge_vm_open,
	.close = bridge_vm_close,
};

static int bridge_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct bridge *b = file->private_data;
	unsigned long npages = vma_pages(vma);
	unsigned long num;
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff > b->nr_pages || npages > b->nr_pages - vma->vm_pgoff)
		return -EINVAL;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	num = npages;
	ret = vm_insert_pages(vma, vma->vm_start, b->pages + vma->vm_pgoff, &num);
	if (ret)
		return ret; /* no vm_ops yet: the failed VMA holds no reference */
	/* Only now does the VMA hold a reference; close() drops it. */
	kref_get(&b->ref);
	vma->vm_private_data = b;
	vma->vm_ops = &bridge_vm_ops;
	return 0;
}

static int bridge_file_release(struct inode *inode, struct file *file)
{
	struct bridge *b = file->private_data;

	kref_put(&b->ref, bridge_release);
	return 0;
}

static const struct file_operations bridge_fops = {
	.owner = THIS_MODULE,
	.mmap = bridge_mmap,
	.release = bridge_file_release,
};

/* Every CPU page of the mapping, or -EOPNOTSUPP for a chunk without one. */
static int bridge_collect_pages(struct bridge *b)
{
	struct sg_page_iter piter;
	unsigned long i = 0;

	b->pages = kvmalloc_array(b->nr_pages, sizeof(*b->pages), GFP_KERNEL);
	if (!b->pages)
		return -ENOMEM;
	for_each_sgtable_page(b->sgt, &piter, 0) {
		struct page *page;

		if (!sg_page(piter.sg))
			return -EOPNOTSUPP;
		page = sg_page_iter_page(&piter);
		if (!pfn_valid(page_to_pfn(page)) || is_zone_device_page(page))
			return -EOPNOTSUPP;
		if (i == b->nr_pages)
			return -EINVAL;
		b->pages[i++] = page;
	}
	return i == b->nr_pages ? 0 : -EINVAL;
}

static long bridge_import(struct netmem_bridge_import __user *uarg)
{
	struct netmem_bridge_import arg;
	struct dma_buf *dmabuf;
	struct bridge *b, *other;
	int fd, ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags)
		return -EINVAL;
	dmabuf = dma_buf_get(arg.dmabuf_fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	if (!dmabuf->size || !PAGE_ALIGNED(dmabuf->size)) {
		ret = -EINVAL;
		goto err_put;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b) {
		ret = -ENOMEM;
		goto err_put;
	}
	kref_init(&b->ref);
	INIT_LIST_HEAD(&b->node);
	b->dmabuf = dmabuf;
	b->nr_pages = dmabuf->size >> PAGE_SHIFT;

	mutex_lock(&bridges_lock);
	list_for_each_entry(other, &bridges, node) {
		if (other->dmabuf == dmabuf) {
			mutex_unlock(&bridges_lock);
			ret = -EBUSY;
			goto err_free;
		}
	}
	list_add(&b->node, &bridges);
	mutex_unlock(&bridges_lock);

	/* A static attachment: exporters that can move buffers pin them. */
	b->attach = dma_buf_attach(dmabuf, bridge_misc.this_device);
	if (IS_ERR(b->attach)) {
		ret = PTR_ERR(b->attach);
		goto err_unlist;
	}
	b->sgt = dma_buf_map_attachment_unlocked(b->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(b->sgt)) {
		ret = PTR_ERR(b->sgt);
		goto err_detach;
	}
	ret = bridge_collect_pages(b);
	if (ret)
		goto err_unmap;

	fd = anon_inode_getfd("[netmem-bridge]", &bridge_fops, b, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_unmap;
	}
	/* From here the fd owns the bridge; a copy-out failure leaves it to
	 * the process's fd table (closed at exit), as for any fd-returning
	 * ioctl. */
	arg.size = dmabuf->size;
	arg.nr_pages = b->nr_pages;
	arg.fd = fd;
	strscpy(arg.exporter, dmabuf->exp_name ? dmabuf->exp_name : "?",
		sizeof(arg.exporter));
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;

err_unmap:
	kvfree(b->pages);
	dma_buf_unmap_attachment_unlocked(b->attach, b->sgt, DMA_BIDIRECTIONAL);
err_detach:
	dma_buf_detach(dmabuf, b->attach);
err_unlist:
	mutex_lock(&bridges_lock);
	list_del(&b->node);
	mutex_unlock(&bridges_lock);
err_free:
	kfree(b);
err_put:
	dma_buf_put(dmabuf);
	return ret;
}

static long bridge_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case NETMEM_BRIDGE_IOC_IMPORT:
		return bridge_import((struct netmem_bridge_import __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations bridge_misc_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = bridge_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice bridge_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "netmem-bridge",
	.fops = &bridge_misc_fops,
	.mode = 0600,
};

static int __init bridge_init(void)
{
	int ret = misc_register(&bridge_misc);

	if (ret)
		return ret;
	/* Attachments map for this device: let it address all memory. */
	ret = dma_coerce_mask_and_coherent(bridge_misc.this_device, DMA_BIT_MASK(64));
	if (ret)
		misc_deregister(&bridge_misc);
	return ret;
}

static void __exit bridge_exit(void)
{
	/* Every bridge holds a module reference through its file. */
	misc_deregister(&bridge_misc);
}

module_init(bridge_init);
module_exit(bridge_exit);
MODULE_DESCRIPTION("netmem: page-backed dmabufs made mappable by VFIO type1");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_IMPORT_NS(DMA_BUF);
