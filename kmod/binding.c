// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * dmabuf bindings (libnetmem's binding.c; the kernel's
 * net_devmem_dmabuf_binding): a dmabuf imported, attached to the NIC's DMA
 * device, mapped, cut into buffers, refcounted, bound to RX queues.
 *
 * References: the creator holds one (dropped by unbind); every page pool
 * built on the binding holds one until its last buffer is back. The memory
 * stays mapped while any buffer is out and is released once, by the last
 * put, in the reverse order of creation.
 */
#include <linux/dma-mapping.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <net/netdev_rx_queue.h>
#include <net/netmem.h>

#include "nm_kmod.h"

#define NM_BUF_MIN  256u
#define NM_BUF_MAX  SZ_64K
/* 2^24 buffers (64 GiB at 4 KiB): beyond that a u32 index is near. */
#define NM_MAX_BUFS (1u << 24)

/*
 * sizeof(struct dmabuf_genpool_chunk_owner) in Linux 6.12 (net/core/devmem.h,
 * not in the headers): base_virtual, base_dma_addr, niovs, num_niovs,
 * binding.
 */
#define NM_KERNEL_CHUNK_OWNER_SIZE (5 * sizeof(long))

/* gen_pool_add(): a vzalloc of the chunk header and its bitmap. */
static size_t genpool_chunk_bytes(unsigned long nbits)
{
	return PAGE_ALIGN(sizeof(struct gen_pool_chunk) +
			  BITS_TO_LONGS(nbits) * sizeof(long));
}

/*
 * What Linux 6.12's net_devmem_bind_dmabuf() allocates for this mapping: per
 * DMA segment a chunk owner (kzalloc), a gen_pool chunk (vzalloc: at least a
 * page) and an array of struct net_iov (kvmalloc). A lower bound: vmalloc's
 * own bookkeeping (vm_struct, vmap_area, page tables) is not counted.
 */
static u64 kernel_devmem_metadata(struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i;
	u64 bytes = kmalloc_size_roundup(sizeof(struct gen_pool));

	for_each_sgtable_dma_sg(sgt, sg, i) {
		unsigned long n = sg_dma_len(sg) >> PAGE_SHIFT;

		bytes += kmalloc_size_roundup(NM_KERNEL_CHUNK_OWNER_SIZE);
		bytes += genpool_chunk_bytes(n);
		bytes += nm_kvmalloc_bytes(n * sizeof(struct net_iov));
	}
	return bytes;
}

/* Give the buffers of one DMA-contiguous run [@off, @off + @len) at @dma
 * their addresses; returns the index after the last buffer it covers. */
static u32 map_run(struct nm_net_iov_area *area, u64 off, dma_addr_t dma,
		   u64 len, u32 next)
{
	u64 first = DIV_ROUND_UP_ULL(off, area->buf_size);
	u64 end = (off + len) >> area->buf_shift;
	u64 i;

	if (end > area->num_niovs)
		end = area->num_niovs;
	for (i = max_t(u64, first, next); i < end; i++)
		area->niovs[i].dma_addr = dma + ((i << area->buf_shift) - off);
	return max_t(u64, end, next);
}

/*
 * Walk the mapping, merge DMA-adjacent segments into runs and give every
 * buffer that lies wholly inside a run its DMA address. A buffer straddling
 * two runs (only possible above PAGE_SIZE) is reserved, never handed out.
 */
static int map_buffers(struct nm_dmabuf_binding *b)
{
	struct nm_net_iov_area *area = &b->area;
	dma_addr_t run_dma = 0;
	u64 off = 0, run_off = 0, run_len = 0;
	struct scatterlist *sg;
	unsigned int i;
	u32 next = 0;
	int ret;

	for_each_sgtable_dma_sg(b->sgt, sg, i) {
		dma_addr_t dma = sg_dma_address(sg);
		u64 len = sg_dma_len(sg);

		b->sg_nents++;
		if (run_len && run_dma + run_len == dma) {
			run_len += len;
		} else {
			if (run_len)
				next = map_run(area, run_off, run_dma, run_len, next);
			b->dma_runs++;
			run_dma = dma;
			run_off = off;
			run_len = len;
		}
		off += len;
	}
	if (run_len)
		map_run(area, run_off, run_dma, run_len, next);

	for (i = 0; i < area->num_niovs; i++) {
		if (area->niovs[i].dma_addr != DMA_MAPPING_ERROR)
			continue;
		ret = nm_net_iov_area_reserve(area, i);
		if (ret)
			return ret;
		b->unusable++;
	}
	return 0;
}

int nm_dmabuf_binding_create(struct nm_vnic *dev, int fd, u32 buf_size,
			     struct nm_dmabuf_binding **out, struct nm_err *err)
{
	int nid = dev_to_node(dev->dma_dev);
	struct nm_dmabuf_binding *b;
	struct dma_buf *dmabuf;
	u64 num;
	int ret;

	if (!buf_size)
		buf_size = PAGE_SIZE;
	if (!is_power_of_2(buf_size) || buf_size < NM_BUF_MIN || buf_size > NM_BUF_MAX)
		return nm_err_set(err, -EINVAL,
				  "buffer size %u: must be a power of two from %u to %u",
				  buf_size, NM_BUF_MIN, NM_BUF_MAX);
	if (fd < 0)
		return nm_err_set(err, -EBADF, "fd %d is not a file descriptor", fd);

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		if (ret == -EBADF)
			return nm_err_set(err, ret, "fd %d is not open", fd);
		if (ret == -EINVAL)
			return nm_err_set(err, ret, "fd %d is not a dmabuf", fd);
		return nm_err_set(err, ret, "cannot import fd %d as a dmabuf", fd);
	}
	num = dmabuf->size >> ilog2(buf_size);
	if (!num || num > NM_MAX_BUFS) {
		ret = nm_err_set(err, -EINVAL,
				 "dmabuf of %zu bytes: holds %llu buffers of %u bytes (1 to %u allowed)",
				 dmabuf->size, num, buf_size, NM_MAX_BUFS);
		goto err_put_dmabuf;
	}

	b = kzalloc_node(sizeof(*b), GFP_KERNEL, nid);
	if (!b) {
		ret = nm_err_set(err, -ENOMEM, "out of memory");
		goto err_put_dmabuf;
	}
	refcount_set(&b->refs, 1);
	b->dev = dev;
	b->dmabuf = dmabuf;
	b->size = dmabuf->size;
	INIT_LIST_HEAD(&b->file_node);

	b->attach = dma_buf_attach(dmabuf, dev->dma_dev);
	if (IS_ERR(b->attach)) {
		ret = nm_err_set(err, PTR_ERR(b->attach),
				 "cannot attach the %s dmabuf to %s",
				 dmabuf->exp_name, dev_name(dev->dma_dev));
		goto err_free_binding;
	}
	b->sgt = dma_buf_map_attachment_unlocked(b->attach, DMA_FROM_DEVICE);
	if (IS_ERR(b->sgt)) {
		ret = nm_err_set(err, PTR_ERR(b->sgt),
				 "cannot map the %s dmabuf for %s",
				 dmabuf->exp_name, dev_name(dev->dma_dev));
		goto err_detach;
	}

	ret = nm_net_iov_area_init(&b->area, num, buf_size, nid,
				   &dev->stats.bufs_out);
	if (ret) {
		nm_err_set(err, ret, "out of memory for %llu descriptors", num);
		goto err_unmap;
	}
	ret = map_buffers(b);
	if (ret) {
		nm_err_set(err, ret, "cannot reserve the unusable buffers");
		goto err_fini_area;
	}
	if (b->unusable == num) {
		ret = nm_err_set(err, -EINVAL,
				 "no %u-byte buffer of the dmabuf is DMA-contiguous (%u segments)",
				 buf_size, b->sg_nents);
		goto err_fini_area;
	}

	b->metadata_bytes = kmalloc_size_roundup(sizeof(*b)) +
			    nm_kvmalloc_bytes(num * sizeof(struct nm_net_iov)) +
			    kmalloc_size_roundup(sizeof(struct gen_pool)) +
			    genpool_chunk_bytes(num);
	b->kernel_metadata_bytes = kernel_devmem_metadata(b->sgt);
	b->id = atomic_inc_return(&dev->next_binding_id);
	atomic64_inc(&dev->stats.live_bindings);
	*out = b;
	return 0;

err_fini_area:
	nm_net_iov_area_fini(&b->area);
err_unmap:
	dma_buf_unmap_attachment_unlocked(b->attach, b->sgt, DMA_FROM_DEVICE);
err_detach:
	dma_buf_detach(dmabuf, b->attach);
err_free_binding:
	kfree(b);
err_put_dmabuf:
	dma_buf_put(dmabuf);
	return ret;
}

static void binding_free(struct nm_dmabuf_binding *b)
{
	struct nm_vnic *dev = b->dev;
	u32 not_back = nm_net_iov_area_fini(&b->area);

	if (not_back) {
		atomic64_add(not_back, &dev->stats.free_errors);
		pr_err("netmem_kmod: binding %u freed with %u buffers not back: leaked\n",
		       b->id, not_back);
	}
	dma_buf_unmap_attachment_unlocked(b->attach, b->sgt, DMA_FROM_DEVICE);
	dma_buf_detach(b->dmabuf, b->attach);
	dma_buf_put(b->dmabuf);
	atomic64_dec(&dev->stats.live_bindings);
	atomic64_inc(&dev->stats.bindings_freed);
	kfree(b);
}

void nm_dmabuf_binding_get(struct nm_dmabuf_binding *b)
{
	refcount_inc(&b->refs);
}

/* Process context: the last put unmaps, which may sleep. */
void nm_dmabuf_binding_put(struct nm_dmabuf_binding *b)
{
	if (refcount_dec_and_test(&b->refs))
		binding_free(b);
}

struct nm_mp_params nm_dmabuf_binding_mp(struct nm_dmabuf_binding *b)
{
	return (struct nm_mp_params){ .ops = &nm_mp_dmabuf_ops, .priv = b };
}

int nm_dmabuf_binding_bind_rxq(struct nm_dmabuf_binding *b, u32 idx,
			       enum nmk_check check, struct nm_err *err)
{
	struct nm_vnic *dev = b->dev;
	struct nm_mp_params mp;
	struct nm_rxq *rxq;
	int ret;

	ASSERT_RTNL();
	ret = nm_rxq_check_idx(dev, idx, err);
	if (ret)
		return ret;
	rxq = &dev->rxqs[idx];
	if (b->unbound)
		return nm_err_set(err, -EINVAL, "binding %u is unbound", b->id);
	if (rxq->mp.ops) {
		char desc[96] = "";

		if (rxq->mp.ops->describe)
			rxq->mp.ops->describe(rxq->mp.priv, desc, sizeof(desc));
		return nm_err_set(err, -EBUSY,
				  "%s queue %u is already bound to '%s' (%s); unbind it first",
				  dev->netdev->name, idx, rxq->mp.ops->name, desc);
	}
	if (__netif_get_rx_queue(dev->netdev, idx)->mp_params.mp_ops)
		return nm_err_set(err, -EBUSY,
				  "%s queue %u is bound to the kernel's devmem (netlink bind-rx)",
				  dev->netdev->name, idx);

	mp = nm_dmabuf_binding_mp(b);
	ret = nm_rxq_restart(dev, idx, &mp, check, err);
	if (!ret)
		__set_bit(idx, &b->bound);
	return ret;
}

void nm_dmabuf_binding_unbind(struct nm_dmabuf_binding *b)
{
	static const struct nm_mp_params none;
	struct nm_vnic *dev = b->dev;
	unsigned long bound = b->bound;
	unsigned int idx;

	ASSERT_RTNL();
	b->unbound = true;
	for_each_set_bit(idx, &bound, NM_MAX_RXQ) {
		if (!test_bit(idx, &b->bound))
			continue;
		/* Could not restart the queue: its pool keeps the binding
		 * alive until the queue next stops; the queue forgets it. */
		if (nm_rxq_restart(dev, idx, NULL, NMK_CHECK_FIRST, NULL))
			nm_rxq_set_mp(&dev->rxqs[idx], &none);
	}
	nm_dmabuf_binding_put(b);
}
