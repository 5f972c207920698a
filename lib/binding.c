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

int nm_dmabuf_binding_create(struct nm_netdev *dev, struct nm_dmabuf *dmabuf,
			     const struct nm_binding_params *params,
			     struct nm_dmabuf_binding **out, struct nm_err *err)
{
	uint32_t buf_size = params && params->buf_size ? params->buf_size :
			    NM_BINDING_DEFAULT_BUF_SIZE;
	struct nm_dma_domain *domain = dev->dma;
	struct nm_dmabuf_binding *b;
	uint64_t nbufs;
	void *va;
	int ret;

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

	if (dmabuf->dev_ops && !domain->ops->pins_pages) {
		/* Device memory on a software device: no CPU address; its
		 * DMA goes through the memory's own write. */
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
			   "dmabuf (%s, %llu MiB) is still DMA-mapped in %s's domain, most likely "
			   "by an earlier binding whose buffers are still in flight; bind it again "
			   "once they are back", dmabuf->exporter,
			   (unsigned long long)(dmabuf->size >> 20), dev->name);
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
	b->dev = dev;
	pthread_mutex_lock(&dev->lock);
	b->id = dev->next_binding_id++;
	b->dev_next = dev->bindings;
	dev->bindings = b;
	pthread_mutex_unlock(&dev->lock);
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

static void binding_unlink(struct nm_dmabuf_binding *b);

void nm_dmabuf_binding_put(struct nm_dmabuf_binding *b)
{
	if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (b->dev) {
		/* The creator's reference went without an unbind. */
		struct nm_netdev *dev = b->dev;

		pthread_mutex_lock(&dev->lock);
		binding_unlink(b);
		pthread_mutex_unlock(&dev->lock);
	}
	/* Every pool on it is gone, so every buffer is back in the area. */
	nm_net_iov_area_fini(&b->area);
	nm_dma_unmap(b->domain, b->iova, b->size);
	nm_dma_domain_put(b->domain);
	nm_dmabuf_put(b->dmabuf);
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

	if (!b->dev && b->unbound)
		return nm_err_set(err, -ENOENT, "binding %u was unbound", b->id);
	if (dev != b->dev)
		return nm_err_set(err, -EXDEV,
				  "binding %u is mapped for %s's DMA domain; it cannot serve a queue of %s",
				  b->id, b->dev ? b->dev->name : "a removed device", dev->name);
	pthread_mutex_lock(&dev->lock);
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
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/* The queue left this binding (restart onto other memory, or teardown). */
void nm_dmabuf_binding_forget_rxq(struct nm_dmabuf_binding *b,
				  struct nm_rxq *rxq)
{
	for (uint32_t i = 0; i < b->num_bound; i++) {
		if (b->bound[i] != rxq)
			continue;
		b->bound[i] = b->bound[--b->num_bound];
		break;
	}
}

/* Take @b off its device's list. dev->lock held. */
static void binding_unlink(struct nm_dmabuf_binding *b)
{
	struct nm_dmabuf_binding **pp;

	for (pp = &b->dev->bindings; *pp; pp = &(*pp)->dev_next) {
		if (*pp == b) {
			*pp = b->dev_next;
			break;
		}
	}
	b->dev_next = NULL;
	b->dev = NULL;
}

/* The device is going (nm_netdev_fini, dev->lock held, queues already
 * uninstalled): no binding may keep pointing at it. */
void nm_netdev_forget_bindings(struct nm_netdev *dev)
{
	while (dev->bindings) {
		struct nm_dmabuf_binding *b = dev->bindings;

		dev->bindings = b->dev_next;
		b->dev_next = NULL;
		b->dev = NULL;
		b->num_bound = 0;
	}
}

int nm_dmabuf_binding_unbind_err(struct nm_dmabuf_binding *b,
				 struct nm_err *err)
{
	struct nm_netdev *dev = b->dev;
	int ret = 0;

	if (dev) {
		pthread_mutex_lock(&dev->lock);
		b->unbound = true;  /* no new queues, whatever happens below */
		/* From the end: a queue that stays (restart failed) is never
		 * looked at twice, and one that leaves swaps in from above. */
		for (uint32_t i = b->num_bound; i-- > 0;) {
			struct nm_rxq *rxq = b->bound[i];
			struct nm_err e = { 0 };
			int r = nm_rxq_restart_locked(dev, rxq->index, NULL, &e);

			if (!r || ret)
				continue;
			/* The queue still runs on (or is stopped with) this
			 * binding's memory, and says so: it stays bound. */
			ret = nm_err_set(err, r, "unbind of binding %u: %s", b->id, e.msg);
		}
		if (!ret)
			binding_unlink(b);
		pthread_mutex_unlock(&dev->lock);
	}
	if (ret)
		return ret;  /* the creator's reference stays: call again */
	nm_dmabuf_binding_put(b);
	return 0;
}

int nm_dmabuf_binding_unbind(struct nm_dmabuf_binding *b)
{
	return nm_dmabuf_binding_unbind_err(b, NULL);
}
