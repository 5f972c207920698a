/* SPDX-License-Identifier: MIT */
/* The kind-independent half of DMA domains: refcount and counters. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <netmem/dma_domain.h>

int nm_dma_map(struct nm_dma_domain *d, void *va, uint64_t len, uint64_t *iova,
	       struct nm_err *err)
{
	int ret;

	if (!len)
		return nm_err_set(err, -EINVAL, "cannot DMA-map 0 bytes");
	ret = d->ops->map(d, va, len, iova, err);
	if (!ret) {
		/* Any thread maps and unmaps (the last buffer of a binding
		 * may come back anywhere): the counters are atomic. */
		__atomic_fetch_add(&d->stats.maps, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&d->stats.mapped_bytes, len, __ATOMIC_RELAXED);
	}
	return ret;
}

int nm_dma_unmap(struct nm_dma_domain *d, uint64_t iova, uint64_t len)
{
	int ret = d->ops->unmap(d, iova, len);

	if (!ret) {
		__atomic_fetch_add(&d->stats.unmaps, 1, __ATOMIC_RELAXED);
		__atomic_fetch_sub(&d->stats.mapped_bytes, len, __ATOMIC_RELAXED);
	}
	return ret;
}

void *nm_dma_translate(struct nm_dma_domain *d, uint64_t iova, uint64_t len)
{
	void *va = d->ops->translate ? d->ops->translate(d, iova, len) : NULL;

	if (!va)
		__atomic_fetch_add(&d->stats.faults, 1, __ATOMIC_RELAXED);
	return va;
}

int nm_dma_map_dev(struct nm_dma_domain *d, const struct nm_dma_dev_mem *m,
		   uint64_t len, uint64_t *iova, struct nm_err *err)
{
	int ret;

	if (!len)
		return nm_err_set(err, -EINVAL, "cannot DMA-map 0 bytes");
	if (!d->ops->map_dev)
		return nm_err_set(err, -EOPNOTSUPP,
				  "the %s DMA domain cannot map device memory", d->ops->kind);
	ret = d->ops->map_dev(d, m, len, iova, err);
	if (!ret) {
		__atomic_fetch_add(&d->stats.maps, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&d->stats.mapped_bytes, len, __ATOMIC_RELAXED);
	}
	return ret;
}

int nm_dma_write(struct nm_dma_domain *d, uint64_t iova, const void *src,
		 uint64_t len)
{
	int ret;

	if (d->ops->write) {
		ret = d->ops->write(d, iova, src, len);
		if (ret == -EFAULT)
			__atomic_fetch_add(&d->stats.faults, 1, __ATOMIC_RELAXED);
		return ret;
	}
	void *va = nm_dma_translate(d, iova, len);

	if (!va)
		return -EFAULT;
	memcpy(va, src, len);
	return 0;
}

void nm_dma_domain_get_stats(const struct nm_dma_domain *d,
			     struct nm_dma_domain_stats *st)
{
	st->maps = __atomic_load_n(&d->stats.maps, __ATOMIC_RELAXED);
	st->unmaps = __atomic_load_n(&d->stats.unmaps, __ATOMIC_RELAXED);
	st->mapped_bytes = __atomic_load_n(&d->stats.mapped_bytes, __ATOMIC_RELAXED);
	st->faults = __atomic_load_n(&d->stats.faults, __ATOMIC_RELAXED);
}

void nm_dma_domain_get(struct nm_dma_domain *d)
{
	atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
}

void nm_dma_domain_put(struct nm_dma_domain *d)
{
	if (d && atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1)
		d->ops->destroy(d);
}
