/* SPDX-License-Identifier: MIT */
/*
 * Host memory provider: one region of process memory, mapped once into a DMA
 * domain and cut into readable buffers. Hugepages first (fewer IOMMU and TLB
 * entries); normal pages otherwise, with the reason recorded in m->note.
 */
#include <errno.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <netmem/mp_host.h>
#include <netmem/page_pool.h>

#define HUGEPAGE_SZ (2ull << 20)
#define PAGE_SZ     4096ull

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static void *map_region(struct nm_host_mem *m, uint64_t size, bool no_huge)
{
	void *p = MAP_FAILED;

	if (!no_huge) {
		m->size = round_up(size, HUGEPAGE_SZ);
		p = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p != MAP_FAILED) {
			m->hugepages = true;
			return p;
		}
		snprintf(m->note, sizeof(m->note),
			 "no free 2 MiB hugepages for %llu MiB (%s): using 4 KiB pages; "
			 "set vm.nr_hugepages for fewer IOMMU entries",
			 (unsigned long long)(m->size >> 20), strerror(errno));
	}
	m->size = round_up(size, PAGE_SZ);
	p = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void place_on_node(struct nm_host_mem *m, int node)
{
	m->numa_node = -1;
	if (node < 0)
		return;
	if (numa_available() < 0 || node > numa_max_node()) {
		size_t used = strlen(m->note);

		snprintf(m->note + used, sizeof(m->note) - used,
			 "%sNUMA node %d not available: memory not placed",
			 used ? "; " : "", node);
		return;
	}
	numa_tonode_memory(m->base, m->size, node);
	m->numa_node = node;
}

int nm_host_mem_create(struct nm_dma_domain *domain,
		       const struct nm_host_mem_params *params,
		       struct nm_host_mem **out, struct nm_err *err)
{
	uint32_t buf_size = params->buf_size ? params->buf_size : 2048;
	struct nm_host_mem *m;
	uint64_t nbufs;
	int ret;

	if (!params->size)
		return nm_err_set(err, -EINVAL, "host memory size must be > 0");
	if (buf_size < 64 || (buf_size & (buf_size - 1)))
		return nm_err_set(err, -EINVAL, "buffer size %u: must be a power of two >= 64",
				  buf_size);
	m = calloc(1, sizeof(*m));
	if (!m)
		return nm_err_set(err, -ENOMEM, "out of memory");
	atomic_init(&m->refs, 1);
	m->base = map_region(m, params->size, params->no_hugepages);
	if (!m->base) {
		ret = nm_err_set(err, -ENOMEM, "cannot map %llu bytes of host memory",
				 (unsigned long long)params->size);
		goto err_free;
	}
	place_on_node(m, params->numa_node);
	/* Touch every page now: placement applies, and DMA never faults. */
	memset(m->base, 0, m->size);
	ret = nm_dma_map(domain, m->base, m->size, &m->iova, err);
	if (ret)
		goto err_unmap_cpu;
	nm_dma_domain_get(domain);
	m->domain = domain;
	nbufs = m->size / buf_size;
	ret = nm_net_iov_area_init(&m->area, (uint32_t)nbufs, buf_size, 0, m->iova,
				   m->base, true, m);
	if (ret) {
		nm_err_set(err, ret, "out of memory for buffer descriptors");
		goto err_dma_unmap;
	}
	*out = m;
	return 0;

err_dma_unmap:
	nm_dma_unmap(domain, m->iova, m->size);
	nm_dma_domain_put(domain);
err_unmap_cpu:
	munmap(m->base, m->size);
err_free:
	free(m);
	return ret;
}

void nm_host_mem_get(struct nm_host_mem *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void nm_host_mem_put(struct nm_host_mem *m)
{
	if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
		return;
	nm_net_iov_area_fini(&m->area);
	nm_dma_unmap(m->domain, m->iova, m->size);
	nm_dma_domain_put(m->domain);
	munmap(m->base, m->size);
	free(m);
}

struct nm_mp_params nm_host_mem_mp(struct nm_host_mem *m)
{
	return (struct nm_mp_params){ .ops = &nm_mp_host_ops, .priv = m,
				      .buf_size = m->area.buf_size };
}

static int mp_host_init(struct nm_page_pool *pool)
{
	nm_host_mem_get(pool->mp_priv);
	return 0;
}

static void mp_host_destroy(struct nm_page_pool *pool)
{
	nm_host_mem_put(pool->mp_priv);
}

static unsigned int mp_host_alloc(struct nm_page_pool *pool,
				  nm_netmem_ref *out, unsigned int n)
{
	struct nm_host_mem *m = pool->mp_priv;

	return nm_net_iov_area_alloc(&m->area, out, n);
}

static void mp_host_release(struct nm_page_pool *pool,
			    const nm_netmem_ref *in, unsigned int n)
{
	struct nm_host_mem *m = pool->mp_priv;

	nm_net_iov_area_free(&m->area, in, n);
}

static int mp_host_describe(void *priv, char *buf, size_t len)
{
	struct nm_host_mem *m = priv;

	return snprintf(buf, len, "host %llu MiB on %s, node %d, %u x %u B, %u in use",
			(unsigned long long)(m->size >> 20),
			m->hugepages ? "2 MiB hugepages" : "4 KiB pages", m->numa_node,
			m->area.num_niovs, m->area.buf_size,
			nm_net_iov_area_in_use(&m->area));
}

const struct nm_memory_provider_ops nm_mp_host_ops = {
	.name = "host",
	.required_caps = 0,
	.init = mp_host_init,
	.destroy = mp_host_destroy,
	.alloc_netmems = mp_host_alloc,
	.release_netmems = mp_host_release,
	.describe = mp_host_describe,
};
