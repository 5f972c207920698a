/* SPDX-License-Identifier: MIT */
/*
 * The VFIO type1 DMA domain: one container holding one IOMMU group.
 * VFIO_IOMMU_MAP_DMA pins the pages behind a process address and maps them at
 * an IOVA we choose. IOVAs come from a first-fit list of holes starting at
 * 4 GiB (clear of the low MMIO window), 2 MiB aligned so hugepages map as
 * large IOMMU pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <netmem/dma_domain.h>

#define IOVA_BASE  (1ull << 32)
#define IOVA_ALIGN (2ull << 20)

struct vfio_range {
	uint64_t iova, len;
};

struct vfio_domain {
	struct nm_dma_domain dom;
	int container, group, group_id;
	pthread_mutex_t lock;
	struct vfio_range *maps;    /* sorted by iova */
	unsigned int num, cap;
};

#define to_vfio(d) ((struct vfio_domain *)(d))

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* First hole that fits; keeps maps sorted. Caller holds the lock. */
static int iova_reserve(struct vfio_domain *v, uint64_t len, uint64_t *iova,
			unsigned int *slot)
{
	uint64_t at = IOVA_BASE;
	unsigned int i;

	for (i = 0; i < v->num; i++) {
		if (at + len <= v->maps[i].iova)
			break;
		at = align_up(v->maps[i].iova + v->maps[i].len, IOVA_ALIGN);
	}
	if (v->num == v->cap) {
		unsigned int cap = v->cap ? v->cap * 2 : 8;
		struct vfio_range *m = realloc(v->maps, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		v->maps = m;
		v->cap = cap;
	}
	*iova = at;
	*slot = i;
	return 0;
}

static int vfio_map(struct nm_dma_domain *d, void *va, uint64_t len,
		    uint64_t *iova, struct nm_err *err)
{
	struct vfio_domain *v = to_vfio(d);
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	unsigned int slot;
	uint64_t at;
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = iova_reserve(v, len, &at, &slot);
	if (ret) {
		pthread_mutex_unlock(&v->lock);
		return nm_err_set(err, ret, "out of memory");
	}
	map.iova = at;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uint64_t)(uintptr_t)va;
	map.size = len;
	if (ioctl(v->container, VFIO_IOMMU_MAP_DMA, &map)) {
		ret = -errno;
		pthread_mutex_unlock(&v->lock);
		if (ret == -EFAULT)
			return nm_err_set(err, ret,
					  "VFIO_IOMMU_MAP_DMA of %llu bytes: EFAULT: type1 can pin only "
					  "memory backed by struct pages (not a PFNMAP mapping such as a "
					  "dmabuf's own mmap)", (unsigned long long)len);
		return nm_err_set(err, ret, "VFIO_IOMMU_MAP_DMA of %llu bytes: %s%s",
				  (unsigned long long)len, strerror(-ret),
				  ret == -ENOMEM ? " (locked memory limit? see ulimit -l)" : "");
	}
	memmove(&v->maps[slot + 1], &v->maps[slot],
		(v->num - slot) * sizeof(*v->maps));
	v->maps[slot] = (struct vfio_range){ at, len };
	v->num++;
	pthread_mutex_unlock(&v->lock);
	*iova = at;
	return 0;
}

static int vfio_unmap(struct nm_dma_domain *d, uint64_t iova, uint64_t len)
{
	struct vfio_domain *v = to_vfio(d);
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = len,
	};
	int ret = -ENOENT;

	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < v->num; i++) {
		if (v->maps[i].iova != iova || v->maps[i].len != len)
			continue;
		if (ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &unmap)) {
			ret = -errno;
			break;
		}
		memmove(&v->maps[i], &v->maps[i + 1],
			(v->num - i - 1) * sizeof(*v->maps));
		v->num--;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static void vfio_destroy(struct nm_dma_domain *d)
{
	struct vfio_domain *v = to_vfio(d);

	/* Closing the container drops every mapping still left. */
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	pthread_mutex_destroy(&v->lock);
	free(v->maps);
	free(v);
}

static const struct nm_dma_domain_ops vfio_ops = {
	.kind = "vfio-type1",
	.pins_pages = true,
	.map = vfio_map,
	.unmap = vfio_unmap,
	.translate = NULL,
	.destroy = vfio_destroy,
};

int nm_dma_domain_vfio_create(int group, struct nm_dma_domain **out,
			      struct nm_err *err)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_domain *v;
	char path[64];
	int ret;

	if (group < 0)
		return nm_err_set(err, -EINVAL, "bad IOMMU group %d", group);
	v = calloc(1, sizeof(*v));
	if (!v)
		return nm_err_set(err, -ENOMEM, "out of memory");
	v->dom.ops = &vfio_ops;
	atomic_init(&v->dom.refs, 1);
	v->group = -1;
	v->group_id = group;
	pthread_mutex_init(&v->lock, NULL);

	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->container < 0) {
		ret = nm_err_set(err, -errno,
				 "cannot open /dev/vfio/vfio: %s (load vfio-pci and bind the NIC to it)",
				 strerror(errno));
		goto fail;
	}
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    !ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) {
		ret = nm_err_set(err, -ENOTSUP, "VFIO here has no type1v2 IOMMU");
		goto fail;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	v->group = open(path, O_RDWR | O_CLOEXEC);
	if (v->group < 0) {
		ret = nm_err_set(err, -errno, "cannot open %s: %s%s", path,
				 strerror(errno),
				 errno == EBUSY ? " (another process owns the group)" : "");
		goto fail;
	}
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = nm_err_set(err, -EPERM,
				 "IOMMU group %d is not viable: bind every device in it to vfio-pci",
				 group);
		goto fail;
	}
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) ||
	    ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		ret = nm_err_set(err, -errno, "cannot attach group %d to a type1 container: %s",
				 group, strerror(errno));
		goto fail;
	}
	*out = &v->dom;
	return 0;
fail:
	vfio_destroy(&v->dom);
	return ret;
}

int nm_dma_domain_vfio_device_fd(struct nm_dma_domain *d, const char *bdf,
				 struct nm_err *err)
{
	struct vfio_domain *v = to_vfio(d);
	int fd;

	if (d->ops != &vfio_ops)
		return nm_err_set(err, -EINVAL, "not a VFIO domain");
	fd = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fd < 0)
		return nm_err_set(err, -errno, "no device %s in IOMMU group %d: %s",
				  bdf, v->group_id, strerror(errno));
	return fd;
}
