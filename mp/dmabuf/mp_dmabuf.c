/* SPDX-License-Identifier: MIT */
/*
 * The dmabuf memory provider (the kernel's mp_dmabuf_devmem): hands out the
 * net_iovs of a binding. Each pool holds a binding reference for its whole
 * life, so the dmabuf stays mapped while any of its buffers is in flight.
 */
#include <errno.h>
#include <stdio.h>

#include <netmem/binding.h>
#include <netmem/page_pool.h>

static int mp_dmabuf_init(struct nm_page_pool *pool)
{
	struct nm_dmabuf_binding *b = pool->mp_priv;

	/* The queue's flags were checked before the restart began; this
	 * catches a driver that built a pool unfit for net_iovs anyway. */
	if (!(pool->p.flags & NM_PP_FLAG_ALLOW_UNREADABLE_NETMEM) ||
	    !(pool->p.flags & NM_PP_FLAG_DMA_MAP))
		return -EINVAL;
	nm_dmabuf_binding_get(b);
	return 0;
}

static void mp_dmabuf_destroy(struct nm_page_pool *pool)
{
	nm_dmabuf_binding_put(pool->mp_priv);
}

static unsigned int mp_dmabuf_alloc(struct nm_page_pool *pool,
				    nm_netmem_ref *out, unsigned int n)
{
	struct nm_dmabuf_binding *b = pool->mp_priv;

	return nm_net_iov_area_alloc(&b->area, out, n);
}

static void mp_dmabuf_release(struct nm_page_pool *pool,
			      const nm_netmem_ref *in, unsigned int n)
{
	struct nm_dmabuf_binding *b = pool->mp_priv;

	nm_net_iov_area_free(&b->area, in, n);
}

static int mp_dmabuf_describe(void *priv, char *buf, size_t len)
{
	struct nm_dmabuf_binding *b = priv;

	return snprintf(buf, len, "binding %u: %s%s %llu MiB, %u x %u B, %u in use, iova %#llx%s%s",
			b->id, b->dmabuf->exporter,
			b->dmabuf->emulated ? " (emulated)" : "",
			(unsigned long long)(b->size >> 20), b->area.num_niovs,
			b->area.buf_size, nm_net_iov_area_in_use(&b->area),
			(unsigned long long)b->iova, b->holder[0] ? ", held by " : "", b->holder);
}

static void mp_dmabuf_uninstall(void *priv, struct nm_rxq *rxq)
{
	nm_dmabuf_binding_forget_rxq(priv, rxq);
}

const struct nm_memory_provider_ops nm_mp_dmabuf_ops = {
	.name = "dmabuf",
	.required_caps = NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT,
	.init = mp_dmabuf_init,
	.destroy = mp_dmabuf_destroy,
	.alloc_netmems = mp_dmabuf_alloc,
	.release_netmems = mp_dmabuf_release,
	.describe = mp_dmabuf_describe,
	.uninstall = mp_dmabuf_uninstall,
};
