// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * net_iov areas (libnetmem's net_iov.c): a run of equal-sized buffers of
 * device memory, one descriptor each, and the set of free ones.
 *
 * The free set is a gen_pool over buffer offsets: one chunk, one bit per
 * buffer, whatever the dmabuf's scatter list looks like. (Linux 6.12's
 * devmem binding adds one gen_pool chunk per DMA segment, each chunk a
 * vzalloc, and a udmabuf maps one segment per page; see docs/kmod.md.)
 * Allocation is next-fit from where the last one ended, so taking every
 * buffer in turn does not rescan the filled prefix of the bitmap each time.
 */
#include <linux/bitmap.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "nm_kmod.h"

static unsigned long nm_next_fit(unsigned long *map, unsigned long size,
				 unsigned long start, unsigned int nr,
				 void *data, struct gen_pool *pool,
				 unsigned long start_addr)
{
	struct nm_net_iov_area *area = data;
	unsigned long hint = READ_ONCE(area->next_bit);
	unsigned long bit;

	/* On a retry gen_pool passes the bit it lost; start past it. */
	if (start > hint)
		hint = start;
	if (hint >= size)
		hint = 0;
	bit = bitmap_find_next_zero_area(map, size, hint, nr, 0);
	if (bit >= size && hint)
		bit = bitmap_find_next_zero_area(map, size, 0, nr, 0);
	if (bit < size)
		WRITE_ONCE(area->next_bit, bit + nr);
	return bit;
}

static unsigned long niov_addr(const struct nm_net_iov_area *area, u32 index)
{
	return area->base + ((unsigned long)index << area->buf_shift);
}

int nm_net_iov_area_init(struct nm_net_iov_area *area, u32 num, u32 buf_size,
			 int nid, atomic64_t *bufs_out)
{
	u32 i;
	int ret;

	memset(area, 0, sizeof(*area));
	area->niovs = kvcalloc(num, sizeof(*area->niovs), GFP_KERNEL);
	if (!area->niovs)
		return -ENOMEM;
	area->num_niovs = num;
	area->buf_size = buf_size;
	area->buf_shift = ilog2(buf_size);
	area->bufs_out = bufs_out;
	/* gen_pool_alloc() returns 0 for "none": keep address 0 out. */
	area->base = buf_size;

	area->free = gen_pool_create(area->buf_shift, nid);
	if (!area->free) {
		ret = -ENOMEM;
		goto err_free_niovs;
	}
	gen_pool_set_algo(area->free, nm_next_fit, area);
	ret = gen_pool_add(area->free, area->base,
			   (size_t)num << area->buf_shift, nid);
	if (ret)
		goto err_destroy_pool;

	for (i = 0; i < num; i++) {
		area->niovs[i].owner = area;
		area->niovs[i].index = i;
		area->niovs[i].dma_addr = DMA_MAPPING_ERROR;
	}
	return 0;

err_destroy_pool:
	gen_pool_destroy(area->free);
err_free_niovs:
	kvfree(area->niovs);
	area->niovs = NULL;
	return ret;
}

/* Keep buffer @index out of the free set for good (no DMA address). */
int nm_net_iov_area_reserve(struct nm_net_iov_area *area, u32 index)
{
	struct genpool_data_fixed fixed = {
		.offset = (unsigned long)index << area->buf_shift,
	};

	if (gen_pool_alloc_algo(area->free, area->buf_size,
				gen_pool_fixed_alloc, &fixed) != niov_addr(area, index))
		return -EBUSY;
	return 0;
}

u32 nm_net_iov_area_fini(struct nm_net_iov_area *area)
{
	u32 i, not_back = 0;

	if (!area->niovs)
		return 0;
	for (i = 0; i < area->num_niovs; i++) {
		struct nm_net_iov *niov = &area->niovs[i];

		if (niov->dma_addr == DMA_MAPPING_ERROR) {
			gen_pool_free(area->free, niov_addr(area, i),
				      area->buf_size);
			continue;
		}
		if (atomic_read(&niov->pp_ref_count) || niov->pp)
			not_back++;
	}
	/* gen_pool_destroy() BUGs on a chunk with buffers still taken: if
	 * one ever is (a bug of ours), keep the pool rather than crash. */
	if (!not_back && gen_pool_avail(area->free) == gen_pool_size(area->free))
		gen_pool_destroy(area->free);
	else if (!not_back)
		not_back = 1;
	kvfree(area->niovs);
	area->niovs = NULL;
	return not_back;
}

unsigned int nm_net_iov_area_alloc(struct nm_net_iov_area *area,
				   struct nm_page_pool *pp,
				   nm_netmem_ref *out, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		unsigned long addr = gen_pool_alloc(area->free, area->buf_size);
		struct nm_net_iov *niov;

		if (!addr)
			break;
		niov = &area->niovs[(addr - area->base) >> area->buf_shift];
		niov->pp = pp;
		atomic_set(&niov->pp_ref_count, 1);
		out[i] = nm_net_iov_to_netmem(niov);
	}
	atomic64_add(i, area->bufs_out);
	return i;
}

void nm_net_iov_area_free(struct nm_net_iov_area *area,
			  const nm_netmem_ref *in, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct nm_net_iov *niov = nm_netmem_to_net_iov(in[i]);

		niov->pp = NULL;
		atomic_set(&niov->pp_ref_count, 0);
		gen_pool_free(area->free, niov_addr(area, niov->index),
			      area->buf_size);
	}
	atomic64_sub(n, area->bufs_out);
}
