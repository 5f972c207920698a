/* SPDX-License-Identifier: MIT */
/*
 * The identity DMA domain: IOVA == CPU address, but only inside ranges that
 * were mapped, exactly as an IOMMU would allow. The software NIC asks it to
 * translate every write, so a device write after unmap is caught as a fault.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/dma_domain.h>

struct identity_map {
	uint64_t iova, len;
	struct nm_dma_dev_mem dev;  /* dev.write set: device memory */
};

struct identity_domain {
	struct nm_dma_domain dom;
	pthread_mutex_t lock;
	struct identity_map *maps;
	unsigned int num, cap;
};

#define to_identity(d) ((struct identity_domain *)(d))

/* Record [start, start+len), host memory or (@dev) device memory. */
static int identity_add(struct identity_domain *id, uint64_t start, uint64_t len,
			const struct nm_dma_dev_mem *dev, uint64_t *iova,
			struct nm_err *err)
{
	int ret = 0;

	pthread_mutex_lock(&id->lock);
	for (unsigned int i = 0; i < id->num; i++) {
		if (start < id->maps[i].iova + id->maps[i].len &&
		    id->maps[i].iova < start + len) {
			ret = nm_err_set(err, -EEXIST,
					 "range %#llx+%llu is already DMA-mapped",
					 (unsigned long long)start,
					 (unsigned long long)len);
			goto out;
		}
	}
	if (id->num == id->cap) {
		unsigned int cap = id->cap ? id->cap * 2 : 8;
		struct identity_map *m = realloc(id->maps, cap * sizeof(*m));

		if (!m) {
			ret = nm_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		id->maps = m;
		id->cap = cap;
	}
	id->maps[id->num++] = (struct identity_map){ start, len,
						     dev ? *dev : (struct nm_dma_dev_mem){ 0 } };
	*iova = start;
out:
	pthread_mutex_unlock(&id->lock);
	return ret;
}

static int identity_map(struct nm_dma_domain *d, void *va, uint64_t len,
			uint64_t *iova, struct nm_err *err)
{
	return identity_add(to_identity(d), (uint64_t)(uintptr_t)va, len, NULL,
			    iova, err);
}

/* Unified addressing keeps device memory apart from every CPU address, so
 * it shares the identity space without overlapping host mappings. */
static int identity_map_dev(struct nm_dma_domain *d, const struct nm_dma_dev_mem *m,
			    uint64_t len, uint64_t *iova, struct nm_err *err)
{
	if (!m->write)
		return nm_err_set(err, -EINVAL, "device memory without a write op");
	return identity_add(to_identity(d), m->addr, len, m, iova, err);
}

static int identity_unmap(struct nm_dma_domain *d, uint64_t iova, uint64_t len)
{
	struct identity_domain *id = to_identity(d);
	int ret = -ENOENT;

	pthread_mutex_lock(&id->lock);
	for (unsigned int i = 0; i < id->num; i++) {
		if (id->maps[i].iova == iova && id->maps[i].len == len) {
			id->maps[i] = id->maps[--id->num];
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&id->lock);
	return ret;
}

static void *identity_translate(struct nm_dma_domain *d, uint64_t iova,
				uint64_t len)
{
	struct identity_domain *id = to_identity(d);
	void *va = NULL;

	pthread_mutex_lock(&id->lock);
	for (unsigned int i = 0; i < id->num; i++) {
		if (iova >= id->maps[i].iova &&
		    iova + len <= id->maps[i].iova + id->maps[i].len) {
			/* Device memory has no CPU address. */
			if (!id->maps[i].dev.write)
				va = (void *)(uintptr_t)iova;
			break;
		}
	}
	pthread_mutex_unlock(&id->lock);
	return va;
}

static int identity_write(struct nm_dma_domain *d, uint64_t iova, const void *src,
			  uint64_t len)
{
	struct identity_domain *id = to_identity(d);
	struct identity_map *m = NULL;
	int ret;

	pthread_mutex_lock(&id->lock);
	for (unsigned int i = 0; i < id->num; i++) {
		if (iova >= id->maps[i].iova &&
		    iova + len <= id->maps[i].iova + id->maps[i].len) {
			m = &id->maps[i];
			break;
		}
	}
	if (!m) {
		pthread_mutex_unlock(&id->lock);
		return -EFAULT;
	}
	if (!m->dev.write) {
		/* Host memory: the copy needs no lock (unmap waits for every
		 * buffer, as an IOMMU user must). */
		pthread_mutex_unlock(&id->lock);
		memcpy((void *)(uintptr_t)iova, src, len);
		return 0;
	}
	/* Device memory: the mapping must hold while its owner copies. */
	ret = m->dev.write(m->dev.ctx, iova - m->iova, src, len);
	pthread_mutex_unlock(&id->lock);
	return ret;
}

static void identity_destroy(struct nm_dma_domain *d)
{
	struct identity_domain *id = to_identity(d);

	pthread_mutex_destroy(&id->lock);
	free(id->maps);
	free(id);
}

static const struct nm_dma_domain_ops identity_ops = {
	.kind = "identity",
	.map = identity_map,
	.unmap = identity_unmap,
	.translate = identity_translate,
	.map_dev = identity_map_dev,
	.write = identity_write,
	.destroy = identity_destroy,
};

int nm_dma_domain_identity_create(struct nm_dma_domain **out,
				  struct nm_err *err)
{
	struct identity_domain *id = calloc(1, sizeof(*id));

	if (!id)
		return nm_err_set(err, -ENOMEM, "out of memory");
	id->dom.ops = &identity_ops;
	atomic_init(&id->dom.refs, 1);
	pthread_mutex_init(&id->lock, NULL);
	*out = &id->dom;
	return 0;
}
