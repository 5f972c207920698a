/* SPDX-License-Identifier: MIT */
/*
 * dmabuf bindings (the kernel's net_devmem_bind_dmabuf() and friends).
 * Acquire in order: dmabuf reference, memory to map, DMA mapping, buffer
 * area; the error path and the final put release in exact reverse order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/binding.h>

#include "netdev_internal.h"

static int dev_mem_write(void *ctx, uint64_t off, const void *src, uint64_t len)
{
	struct nm_dmabuf *dmabuf = ctx;

	return dmabuf->dev_ops->write(dmabuf, off, src, len);
}

int nm_dmabuf_binding_create(struct nm_dma_domain *domain,
			     struct nm_dmabuf *dmabuf,
			     const struct nm_binding_params *params,
			     struct nm_dmabuf_binding **out, struct nm_err *err)
{
	uint32_t buf_size = params && params->buf_size ? params->buf_size :
			    NM_BINDING_DEFAULT_BUF_SIZE;
	struct nm_dmabuf_binding *b;
	uint64_t nbufs;
	void *va;
	int ret;

	if (!domain)
		return nm_err_set(err, -EINVAL, "no DMA domain given");
	if (!dmabuf)
		return nm_err_set(err, -EINVAL, "no dmabuf given");
	if (buf_size < 256 || buf_size > 65536 || (buf_size & (buf_size - 1)))
		return nm_err_set(err, -EINVAL,
				  "buffer size %u: must be a power of two from 256 to 65536",
				  buf_size);
	nbufs = dmabuf->size / buf_size;
	if (!nbufs)
		return nm_err_set(err, -EINVAL,
				  "dmabuf of %llu bytes is smaller than one %u-byte buffer",
				  (unsigned long long)dmabuf->size, buf_size);
	if (nbufs > UINT32_MAX)
		return nm_err_set(err, -E2BIG, "dmabuf holds too many buffers");

	b = calloc(1, sizeof(*b));
	if (!b)
		return nm_err_set(err, -ENOMEM, "out of memory");
	atomic_init(&b->refs, 1);
	nm_dmabuf_get(dmabuf);
	b->dmabuf = dmabuf;
	b->size = nbufs * buf_size;

	if (dmabuf->dev_ops && (!domain->ops->pins_pages || domain->ops->map_dev)) {
		/* Device memory on a domain that can take it (a software
		 * device's, or EAL's for devices that DMA by the memory's own
		 * copy engine): no CPU address; its DMA goes through the
		 * memory's own write. */
		struct nm_dma_dev_mem m = {
			.addr = dmabuf->dev_addr, .write = dev_mem_write, .ctx = dmabuf,
		};

		ret = nm_dma_map_dev(domain, &m, b->size, &b->iova, err);
	} else {
		/* Refuses device memory on a VFIO type1 domain, with why. */
		ret = domain->ops->pins_pages ? nm_dmabuf_pin_addr(dmabuf, &va, err) :
						nm_dmabuf_cpu_map(dmabuf, &va, err);
		if (ret)
			goto err_put_dmabuf;
		ret = nm_dma_map(domain, va, b->size, &b->iova, err);
	}
	if (ret == -EEXIST)
		/* The usual cause, said plainly: an unbound binding of this
		 * dmabuf still has buffers in flight, so it is still mapped. */
		nm_err_set(err, ret,
			   "dmabuf (%s, %llu MiB) is still DMA-mapped in this %s domain, most "
			   "likely by an earlier binding whose buffers are still in flight; bind "
			   "it again once they are back", dmabuf->exporter,
			   (unsigned long long)(dmabuf->size >> 20), domain->ops->kind);
	if (ret)
		goto err_put_dmabuf;
	nm_dma_domain_get(domain);
	b->domain = domain;
	/* cpu_base stays NULL: these buffers are net_iovs, never read. */
	ret = nm_net_iov_area_init(&b->area, (uint32_t)nbufs, buf_size, 0,
				   b->iova, NULL, false, b);
	if (ret) {
		nm_err_set(err, ret, "out of memory for %llu buffer descriptors",
			   (unsigned long long)nbufs);
		goto err_unmap;
	}
	pthread_mutex_init(&b->lock, NULL);
	b->id = (uint32_t)atomic_fetch_add_explicit(&domain->binding_ids, 1,
						    memory_order_relaxed) + 1;
	*out = b;
	return 0;

err_unmap:
	nm_dma_unmap(domain, b->iova, b->size);
	nm_dma_domain_put(domain);
err_put_dmabuf:
	nm_dmabuf_put(dmabuf);
	free(b);
	return ret;
}

void nm_dmabuf_binding_get(struct nm_dmabuf_binding *b)
{
	atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void nm_dmabuf_binding_put(struct nm_dmabuf_binding *b)
{
	if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Every pool on it is gone, so every buffer is back in the area and
	 * no queue runs on it. */
	nm_net_iov_area_fini(&b->area);
	nm_dma_unmap(b->domain, b->iova, b->size);
	nm_dma_domain_put(b->domain);
	nm_dmabuf_put(b->dmabuf);
	pthread_mutex_destroy(&b->lock);
	free(b->bound);
	free(b);
}

struct nm_mp_params nm_dmabuf_binding_mp(struct nm_dmabuf_binding *b)
{
	return (struct nm_mp_params){ .ops = &nm_mp_dmabuf_ops, .priv = b,
				      .buf_size = b->area.buf_size };
}

int nm_dmabuf_binding_bind_rxq(struct nm_dmabuf_binding *b,
			       struct nm_netdev *dev, uint32_t idx,
			       struct nm_err *err)
{
	return nm_dmabuf_binding_bind_rxq_caps(b, dev, idx, 0, err);
}

int nm_dmabuf_binding_bind_rxq_caps(struct nm_dmabuf_binding *b,
				    struct nm_netdev *dev, uint32_t idx,
				    uint32_t extra_caps, struct nm_err *err)
{
	struct nm_mp_params mp = nm_dmabuf_binding_mp(b);
	struct nm_rxq **bound;
	int ret;

	/* The IOVAs the device would be given are another domain's. */
	if (dev->dma != b->domain)
		return nm_err_set(err, -EXDEV,
				  "binding %u is mapped in another DMA domain than %s's (%s); "
				  "a queue takes buffers only from a binding in its device's domain",
				  b->id, dev->name, dev->dma->ops->kind);
	pthread_mutex_lock(&dev->lock);
	/* Held across the restart: an unbind either sees this queue bound or
	 * finds the binding closed to it, never a queue added behind it. */
	pthread_mutex_lock(&b->lock);
	if (b->unbound) {
		ret = nm_err_set(err, -ENOENT, "binding %u was unbound", b->id);
		goto out;
	}
	/* Room first: nothing may fail after the queue has restarted. */
	bound = realloc(b->bound, (b->num_bound + 1) * sizeof(*bound));
	if (!bound) {
		ret = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	b->bound = bound;
	mp.extra_caps = extra_caps;
	ret = nm_rxq_bind_mp_locked(dev, idx, &mp, err);
	if (!ret)
		b->bound[b->num_bound++] = &dev->rxqs[idx];
out:
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/* The queue left this binding (restart onto other memory, or teardown). */
void nm_dmabuf_binding_forget_rxq(struct nm_dmabuf_binding *b,
				  struct nm_rxq *rxq)
{
	pthread_mutex_lock(&b->lock);
	for (uint32_t i = 0; i < b->num_bound; i++) {
		if (b->bound[i] != rxq)
			continue;
		b->bound[i] = b->bound[--b->num_bound];
		break;
	}
	pthread_mutex_unlock(&b->lock);
}

static bool rxq_in(struct nm_rxq *const *v, uint32_t n, const struct nm_rxq *rxq)
{
	for (uint32_t i = 0; i < n; i++)
		if (v[i] == rxq)
			return true;
	return false;
}

/* A bound queue not tried yet, or NULL. */
static struct nm_rxq *next_untried(struct nm_dmabuf_binding *b,
				   struct nm_rxq *const *tried, uint32_t ntried)
{
	struct nm_rxq *rxq = NULL;

	pthread_mutex_lock(&b->lock);
	for (uint32_t i = b->num_bound; i-- > 0 && !rxq;)
		if (!rxq_in(tried, ntried, b->bound[i]))
			rxq = b->bound[i];
	pthread_mutex_unlock(&b->lock);
	return rxq;
}

int nm_dmabuf_binding_unbind_err(struct nm_dmabuf_binding *b,
				 struct nm_err *err)
{
	struct nm_rxq **tried, *rxq;
	uint32_t ntried = 0;
	int ret = 0;

	pthread_mutex_lock(&b->lock);
	/* Closed to new queues from here on, so the bound set only shrinks
	 * and each queue is tried at most once. */
	tried = malloc((b->num_bound + 1) * sizeof(*tried));
	if (tried)
		b->unbound = true;
	pthread_mutex_unlock(&b->lock);
	if (!tried)
		return nm_err_set(err, -ENOMEM, "out of memory");
	/* Each queue under its own device's lock, taken before the
	 * binding's: the queues may belong to several devices. */
	while ((rxq = next_untried(b, tried, ntried))) {
		struct nm_netdev *dev = rxq->dev;
		struct nm_err e = { 0 };
		bool still;
		int r = 0;

		tried[ntried++] = rxq;
		pthread_mutex_lock(&dev->lock);
		pthread_mutex_lock(&b->lock);
		still = rxq_in(b->bound, b->num_bound, rxq);
		pthread_mutex_unlock(&b->lock);
		if (still)
			r = nm_rxq_restart_locked(dev, rxq->index, NULL, &e);
		pthread_mutex_unlock(&dev->lock);
		if (r && !ret)
			/* The queue still runs on (or is stopped with) this
			 * binding's memory, and says so: it stays bound. */
			ret = nm_err_set(err, r, "unbind of binding %u: %s", b->id, e.msg);
	}
	free(tried);
	if (ret)
		return ret;  /* the creator's reference stays: call again */
	nm_dmabuf_binding_put(b);
	return 0;
}

int nm_dmabuf_binding_unbind(struct nm_dmabuf_binding *b)
{
	return nm_dmabuf_binding_unbind_err(b, NULL);
}
