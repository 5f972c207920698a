// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The dmabuf memory provider (libnetmem's mp/dmabuf; the kernel's
 * mp_dmabuf_devmem): hands out the net_iovs of a binding. Each pool holds a
 * binding reference for its whole life, so the dmabuf stays mapped while any
 * of its buffers is out.
 */
#include "nm_kmod.h"

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

	return nm_net_iov_area_alloc(&b->area, pool, out, n);
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

	return scnprintf(buf, len, "binding %u: %s %llu KiB, %u x %u B, %u segments",
			 b->id, b->dmabuf->exp_name, b->size >> 10,
			 b->area.num_niovs - b->unusable, b->area.buf_size,
			 b->sg_nents);
}

static void mp_dmabuf_uninstall(void *priv, struct nm_rxq *rxq)
{
	struct nm_dmabuf_binding *b = priv;

	__clear_bit(rxq->index, &b->bound);
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
