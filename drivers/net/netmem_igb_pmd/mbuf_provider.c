/* SPDX-License-Identifier: MIT */
/*
 * A netmem memory provider whose buffers are the mbufs of a DPDK pktmbuf
 * mempool: the DPDK mempool is the backing store under netmem's page pool,
 * as a dmabuf binding or host memory is for netmem's own users.
 *
 * The provider owns an area of net_iov descriptors. Handing out a buffer
 * takes a free descriptor and an mbuf from the mempool; the buffer's DMA
 * address (the area's IOVA table) is the mbuf's data IOVA (buf_iova +
 * headroom), which the
 * mempool's memory has in EAL's VFIO container (host hugepages mapped by
 * EAL, a dmabuf pool mapped by rte_dev_dma_map for this port). When a
 * frame is received, pmd_mbuf_mp_take() hands the mbuf to the application
 * and releases the descriptor from the page pool for good; the application
 * frees the mbuf to its mempool like any other. Buffers the page pool gives
 * back unreceived (a ring stopped, a pool destroyed) return their mbufs to
 * the mempool here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_mbuf.h>

#include <netmem/page_pool.h>

#include "pmd_internal.h"

#define BATCH 64

struct pmd_mbuf_mp {
	struct rte_mempool *mp;
	struct nm_net_iov_area area;
	struct rte_mbuf **mbufs;   /* the mbuf each taken descriptor stands for */
	uint64_t *iovas;           /* its data IOVA (the area's IOVA table) */
	atomic_int refs;           /* the queue's setup + every page pool on it */
};

static void mbuf_mp_unref(struct pmd_mbuf_mp *m)
{
	if (atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	nm_net_iov_area_fini(&m->area);
	free(m->iovas);
	free(m->mbufs);
	free(m);
}

static int mbuf_mp_init(struct nm_page_pool *pool)
{
	atomic_fetch_add(&((struct pmd_mbuf_mp *)pool->mp_priv)->refs, 1);
	return 0;
}

static void mbuf_mp_destroy(struct nm_page_pool *pool)
{
	mbuf_mp_unref(pool->mp_priv);
}

static unsigned int mbuf_mp_alloc(struct nm_page_pool *pool, nm_netmem_ref *out,
				  unsigned int n)
{
	struct pmd_mbuf_mp *m = pool->mp_priv;
	struct rte_mbuf *mb[BATCH];
	unsigned int done = 0;

	while (done < n) {
		unsigned int want = n - done < BATCH ? n - done : BATCH;
		unsigned int k = nm_net_iov_area_alloc(&m->area, out + done, want), got = k;

		if (!k)
			break;
		/* All or nothing in DPDK: ask for less until it gives. */
		while (got && rte_pktmbuf_alloc_bulk(m->mp, mb, got))
			got /= 2;
		if (got < k)
			nm_net_iov_area_free(&m->area, out + done + got, k - got);
		for (unsigned int i = 0; i < got; i++) {
			struct nm_net_iov *niov = nm_netmem_to_net_iov(out[done + i]);

			m->mbufs[niov->index] = mb[i];
			m->iovas[niov->index] = rte_mbuf_data_iova_default(mb[i]);
		}
		done += got;
		if (got < want)
			break;
	}
	return done;
}

static void mbuf_mp_release(struct nm_page_pool *pool, const nm_netmem_ref *in,
			    unsigned int n)
{
	struct pmd_mbuf_mp *m = pool->mp_priv;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t idx = nm_netmem_to_net_iov(in[i])->index;

		/* NULL: received, the mbuf is the application's now. */
		if (m->mbufs[idx])
			rte_pktmbuf_free(m->mbufs[idx]);
		m->mbufs[idx] = NULL;
	}
	nm_net_iov_area_free(&m->area, in, n);
}

static int mbuf_mp_describe(void *priv, char *buf, size_t len)
{
	struct pmd_mbuf_mp *m = priv;

	return snprintf(buf, len, "mbufs of mempool %s (ops %s), %u B buffers", m->mp->name,
			rte_mempool_get_ops(m->mp->ops_index)->name, m->area.buf_size);
}

static const struct nm_memory_provider_ops mbuf_mp_ops = {
	.name = "dpdk-mempool",
	.required_caps = 0,
	.init = mbuf_mp_init,
	.destroy = mbuf_mp_destroy,
	.alloc_netmems = mbuf_mp_alloc,
	.release_netmems = mbuf_mp_release,
	.describe = mbuf_mp_describe,
};

int pmd_mbuf_mp_create(struct rte_mempool *mp, uint32_t buf_size, uint32_t num,
		       struct pmd_mbuf_mp **out, struct nm_err *err)
{
	struct pmd_mbuf_mp *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return nm_err_set(err, -ENOMEM, "out of memory");
	m->mp = mp;
	atomic_init(&m->refs, 1);
	m->mbufs = calloc(num, sizeof(*m->mbufs));
	m->iovas = calloc(num, sizeof(*m->iovas));
	/* Readable: an mbuf's data is always CPU-addressable in DPDK, and a
	 * frame the device did not split is delivered whole in it. */
	ret = m->mbufs && m->iovas ?
	      nm_net_iov_area_init(&m->area, num, buf_size, 0, 0, NULL, true, m) : -ENOMEM;
	if (ret) {
		free(m->iovas);
		free(m->mbufs);
		free(m);
		return nm_err_set(err, ret, "out of memory for %u buffer descriptors", num);
	}
	/* Not base + offset: each buffer is at its mbuf's IOVA. */
	m->area.iovas = m->iovas;
	*out = m;
	return 0;
}

void pmd_mbuf_mp_put(struct pmd_mbuf_mp *m)
{
	if (m)
		mbuf_mp_unref(m);
}

struct nm_mp_params pmd_mbuf_mp_params(struct pmd_mbuf_mp *m)
{
	return (struct nm_mp_params){ .ops = &mbuf_mp_ops, .priv = m,
				      .buf_size = m->area.buf_size };
}

struct rte_mbuf *pmd_mbuf_mp_take(nm_netmem_ref ref)
{
	struct nm_net_iov *niov = nm_netmem_to_net_iov(ref);
	struct pmd_mbuf_mp *m = nm_net_iov_owner(niov)->owner_priv;
	struct rte_mbuf *mb = m->mbufs[niov->index];

	m->mbufs[niov->index] = NULL;
	nm_page_pool_release_netmems(niov->pp, &ref, 1);
	return mb;
}
