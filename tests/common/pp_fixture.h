/* SPDX-License-Identifier: MIT */
/*
 * The page pool tests' fixture (test_page_pool.c, test_page_pool_race.c): a
 * pool over host memory in an identity domain, the host provider's init and
 * destroy counted.
 */
#ifndef NM_TEST_PP_FIXTURE_H
#define NM_TEST_PP_FIXTURE_H

#include <stdatomic.h>

#include <netmem/netmem.h>

static atomic_int inits, destroys;
static struct nm_memory_provider_ops counting_ops;

static inline int counting_init(struct nm_page_pool *pool)
{
	atomic_fetch_add(&inits, 1);
	return nm_mp_host_ops.init(pool);
}

static inline void counting_destroy(struct nm_page_pool *pool)
{
	atomic_fetch_add(&destroys, 1);
	nm_mp_host_ops.destroy(pool);
}

struct fixture {
	struct nm_dma_domain *dom;
	struct nm_host_mem *mem;
	struct nm_page_pool *pool;
};

/* @nbufs 2 KiB host buffers, a pool of at most @pool_size of them. */
static inline int fixture_up(struct fixture *f, uint32_t nbufs, uint32_t pool_size)
{
	struct nm_host_mem_params hp = {
		.size = (uint64_t)nbufs * 2048, .buf_size = 2048, .numa_node = -1,
		.no_hugepages = true,
	};
	struct nm_page_pool_params pp = { .pool_size = pool_size, .nid = -1,
					  .flags = NM_PP_FLAG_DMA_MAP };

	counting_ops = nm_mp_host_ops;
	counting_ops.init = counting_init;
	counting_ops.destroy = counting_destroy;
	atomic_store(&inits, 0);
	atomic_store(&destroys, 0);
	if (nm_dma_domain_identity_create(&f->dom, NULL) ||
	    nm_host_mem_create(f->dom, &hp, &f->mem, NULL))
		return -1;
	pp.mp = (struct nm_mp_params){ .ops = &counting_ops, .priv = f->mem };
	return nm_page_pool_create(&pp, &f->pool, NULL);
}

static inline void fixture_down(struct fixture *f)
{
	nm_host_mem_put(f->mem);
	nm_dma_domain_put(f->dom);
}

#endif
