/* SPDX-License-Identifier: MIT */
/*
 * The EAL's DMA domain: a netmem DMA domain whose "map" is DPDK's own way of
 * giving a device external memory. Register the range with EAL
 * (rte_extmem_register(), so rte_mem_virt2iova() and PMDs know it), then map
 * it for each device that does DMA (rte_dev_dma_map(): for a PCI device on
 * vfio-pci, VFIO_IOMMU_MAP_DMA into EAL's default container). IOVA == VA.
 *
 * VFIO type1 pins the pages behind the address, so the domain says
 * pins_pages and a binding maps the memory behind a dmabuf (a udmabuf's
 * memfd); a dmabuf with no such memory is refused by the binding before it
 * gets here (nm_dmabuf_pin_addr(): EFAULT with the reason).
 *
 * Device memory (a GPU's, nm_dma_dev_mem) has no pages to pin: map_dev
 * registers its address with EAL all the same (as DPDK's gpudev does for
 * GPU memory) but maps it for no device that DMAs through VFIO type1; such
 * a device is refused with the reason. What can reach it is a device whose
 * "DMA" is the memory's own copy engine: write() below (a stand-in PMD).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_memory.h>

#include "internal.h"

#define MAX_DEVS 32

struct eal_range {
	uint64_t va, len;
	struct rte_device *devs[MAX_DEVS];  /* mapped for these */
	uint32_t num_devs;
	struct nm_dma_dev_mem dev_mem;      /* .write set: device memory */
};

struct eal_domain {
	struct nm_dma_domain dom;
	pthread_mutex_t lock;
	struct eal_range *ranges;
	uint32_t num, cap;
};

#define to_eal(d) ((struct eal_domain *)(d))

bool nm_dpdk_device_does_dma(const struct rte_device *dev)
{
	const struct rte_bus *bus = dev ? rte_dev_bus(dev) : NULL;
	const struct rte_driver *drv = dev ? rte_dev_driver(dev) : NULL;

	/* Virtual devices move packets with the CPU, except net_netmem_igb,
	 * a vdev over a VFIO device in EAL's container whose dma_map maps
	 * there; every other bus (pci, vmbus, fslmc, ...) has devices that
	 * DMA. */
	if (bus && drv && !strcmp(rte_bus_name(bus), "vdev"))
		return !strcmp(rte_driver_name(drv), "net_netmem_igb");
	return bus && strcmp(rte_bus_name(bus), "vdev") != 0;
}

static struct eal_range *find_range(struct eal_domain *e, uint64_t iova)
{
	for (uint32_t i = 0; i < e->num; i++)
		if (iova >= e->ranges[i].va &&
		    iova < e->ranges[i].va + e->ranges[i].len)
			return &e->ranges[i];
	return NULL;
}

/* Caller holds e->lock. */
static int range_map_device(struct eal_range *r, struct rte_device *dev,
			    struct nm_err *err)
{
	for (uint32_t i = 0; i < r->num_devs; i++)
		if (r->devs[i] == dev)
			return 0;
	if (!nm_dpdk_device_does_dma(dev))
		return 1;
	if (r->dev_mem.write)
		return nm_err_set(err, -EOPNOTSUPP,
				  "device memory cannot be DMA-mapped for %s through EAL's VFIO "
				  "type1 container (type1 pins CPU pages; it has none): map it "
				  "through iommufd with dmabuf support (newer kernels), or receive "
				  "into it by its own copy engine", rte_dev_name(dev));
	if (r->num_devs == MAX_DEVS)
		return nm_err_set(err, -ENOSPC, "dmabuf already mapped for %d devices",
				  MAX_DEVS);
	if (rte_dev_dma_map(dev, (void *)(uintptr_t)r->va, r->va, r->len)) {
		int ret = -rte_errno;

		if (ret == -ENOTSUP)
			return 1;
		return nm_err_set(err, ret ? ret : -EIO,
				  "rte_dev_dma_map of %llu bytes for %s: %s",
				  (unsigned long long)r->len, rte_dev_name(dev),
				  rte_strerror(-ret));
	}
	r->devs[r->num_devs++] = dev;
	NM_LOG(DEBUG, "mapped %#llx+%llu for %s", (unsigned long long)r->va,
	       (unsigned long long)r->len, rte_dev_name(dev));
	return 0;
}

static void range_unmap_all(struct eal_range *r)
{
	while (r->num_devs) {
		struct rte_device *dev = r->devs[--r->num_devs];

		if (rte_dev_dma_unmap(dev, (void *)(uintptr_t)r->va, r->va, r->len))
			NM_LOG(WARNING, "rte_dev_dma_unmap for %s: %s",
			       rte_dev_name(dev), rte_strerror(rte_errno));
	}
	if (rte_extmem_unregister((void *)(uintptr_t)r->va, r->len))
		NM_LOG(WARNING, "rte_extmem_unregister: %s", rte_strerror(rte_errno));
}

static int eal_map(struct nm_dma_domain *d, void *va, uint64_t len,
		   uint64_t *iova, struct nm_err *err)
{
	struct eal_domain *e = to_eal(d);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t start = (uint64_t)(uintptr_t)va;
	unsigned int n_pages = (unsigned int)(len / pg);
	struct eal_range *r;
	rte_iova_t *iovas;
	uint16_t port;
	int ret = 0;

	if (rte_eal_iova_mode() != RTE_IOVA_VA)
		return nm_err_set(err, -ENOTSUP,
				  "EAL runs in IOVA-as-PA mode: dmabuf memory is not physically "
				  "contiguous; use VFIO with an IOMMU or --iova-mode=va");
	if (start % pg || len % pg || !n_pages)
		return nm_err_set(err, -EINVAL, "range %#llx+%llu is not page aligned",
				  (unsigned long long)start, (unsigned long long)len);
	iovas = malloc(n_pages * sizeof(*iovas));
	if (!iovas)
		return nm_err_set(err, -ENOMEM, "out of memory");
	for (unsigned int i = 0; i < n_pages; i++)
		iovas[i] = start + (uint64_t)i * pg;

	pthread_mutex_lock(&e->lock);
	if (e->num == e->cap) {
		uint32_t cap = e->cap ? e->cap * 2 : 4;
		struct eal_range *nr = realloc(e->ranges, cap * sizeof(*nr));

		if (!nr) {
			ret = nm_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		e->ranges = nr;
		e->cap = cap;
	}
	if (rte_extmem_register(va, len, iovas, n_pages, pg)) {
		ret = nm_err_set(err, -rte_errno, "rte_extmem_register of %llu bytes: %s",
				 (unsigned long long)len, rte_strerror(rte_errno));
		goto out;
	}
	r = &e->ranges[e->num];
	memset(r, 0, sizeof(*r));
	r->va = start;
	r->len = len;
	/* Every port probed so far; later ones through
	 * nm_dpdk_pool_dma_map_port(). */
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(port, &info) || !info.device)
			continue;
		ret = range_map_device(r, info.device, err);
		if (ret < 0) {
			range_unmap_all(r);
			goto out;
		}
	}
	ret = 0;
	e->num++;
	*iova = start;
out:
	pthread_mutex_unlock(&e->lock);
	free(iovas);
	return ret;
}

static int eal_unmap(struct nm_dma_domain *d, uint64_t iova, uint64_t len)
{
	struct eal_domain *e = to_eal(d);
	int ret = -ENOENT;

	pthread_mutex_lock(&e->lock);
	for (uint32_t i = 0; i < e->num; i++) {
		if (e->ranges[i].va != iova || e->ranges[i].len != len)
			continue;
		range_unmap_all(&e->ranges[i]);
		e->ranges[i] = e->ranges[--e->num];
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&e->lock);
	return ret;
}

static void eal_destroy(struct nm_dma_domain *d)
{
	struct eal_domain *e = to_eal(d);

	pthread_mutex_destroy(&e->lock);
	free(e->ranges);
	free(e);
}

/* Device memory: registered like host memory (IOVA == its address), and
 * refused for every port present that DMAs through VFIO. */
static int eal_map_dev(struct nm_dma_domain *d, const struct nm_dma_dev_mem *m,
		       uint64_t len, uint64_t *iova, struct nm_err *err)
{
	struct eal_domain *e = to_eal(d);
	struct rte_eth_dev_info info;
	struct eal_range *r;
	uint16_t port;
	int ret;

	if (!m->write)
		return nm_err_set(err, -EINVAL, "device memory without a write op");
	/* Before registering: eal_map maps host memory for these. */
	RTE_ETH_FOREACH_DEV(port) {
		struct eal_range probe = { .dev_mem = *m };

		if (rte_eth_dev_info_get(port, &info) || !info.device)
			continue;
		ret = range_map_device(&probe, info.device, err);
		if (ret < 0)
			return ret;
	}
	ret = eal_map(d, (void *)(uintptr_t)m->addr, len, iova, err);
	if (ret)
		return ret;
	pthread_mutex_lock(&e->lock);
	r = find_range(e, *iova);
	r->dev_mem = *m;
	pthread_mutex_unlock(&e->lock);
	return 0;
}

/* A device's write that is not the CPU's store into an mbuf: into device
 * memory through its own copy, into host memory (IOVA == VA) as a copy. */
static int eal_write(struct nm_dma_domain *d, uint64_t iova, const void *src,
		     uint64_t len)
{
	struct eal_domain *e = to_eal(d);
	struct eal_range *r;
	int ret = 0;

	pthread_mutex_lock(&e->lock);
	r = find_range(e, iova);
	if (!r || len > r->va + r->len - iova)
		ret = -EFAULT;
	else if (r->dev_mem.write)
		ret = r->dev_mem.write(r->dev_mem.ctx, iova - r->va, src, len);
	else
		memcpy((void *)(uintptr_t)iova, src, len);
	pthread_mutex_unlock(&e->lock);
	return ret;
}

static const struct nm_dma_domain_ops eal_domain_ops = {
	.kind = "dpdk-eal",
	.pins_pages = true,
	.map = eal_map,
	.unmap = eal_unmap,
	.translate = NULL,
	.map_dev = eal_map_dev,
	.write = eal_write,
	.destroy = eal_destroy,
};

int nm_dpdk_domain_map_device(struct nm_dma_domain *d, uint64_t iova,
			      struct rte_device *dev, struct nm_err *err)
{
	struct eal_domain *e = to_eal(d);
	struct eal_range *r;
	int ret;

	pthread_mutex_lock(&e->lock);
	r = find_range(e, iova);
	ret = r ? range_map_device(r, dev, err) :
		  nm_err_set(err, -ENOENT, "IOVA %#llx is not registered with EAL",
			     (unsigned long long)iova);
	pthread_mutex_unlock(&e->lock);
	return ret;
}

uint32_t nm_dpdk_domain_mapped_devices(struct nm_dma_domain *d, uint64_t iova)
{
	struct eal_domain *e = to_eal(d);
	struct eal_range *r;
	uint32_t n;

	pthread_mutex_lock(&e->lock);
	r = find_range(e, iova);
	n = r ? r->num_devs : 0;
	pthread_mutex_unlock(&e->lock);
	return n;
}

/*
 * A port is being released (rte_eth_dev_close()): forget its device in every
 * range, so that nothing is unmapped later through a device that may be
 * gone by then (a vdev removed after its close). The last device of a range
 * unmaps it now, while the device still exists; with others left, the
 * mapping stays for them (in EAL's one container it is the same mapping).
 */
static int port_destroyed(uint16_t port, enum rte_eth_event_type ev, void *arg,
			  void *ret_param)
{
	struct eal_domain *e = arg;
	struct rte_eth_dev_info info;

	(void)ev;
	(void)ret_param;
	if (rte_eth_dev_info_get(port, &info) || !info.device)
		return 0;
	pthread_mutex_lock(&e->lock);
	for (uint32_t i = 0; i < e->num; i++) {
		struct eal_range *r = &e->ranges[i];

		for (uint32_t j = 0; j < r->num_devs; j++) {
			if (r->devs[j] != info.device)
				continue;
			r->devs[j] = r->devs[--r->num_devs];
			if (!r->num_devs &&
			    rte_dev_dma_unmap(info.device, (void *)(uintptr_t)r->va, r->va, r->len))
				NM_LOG(WARNING, "rte_dev_dma_unmap for %s: %s",
				       rte_dev_name(info.device), rte_strerror(rte_errno));
			NM_LOG(DEBUG, "%#llx+%llu: port %u released, %u device(s) left",
			       (unsigned long long)r->va, (unsigned long long)r->len, port,
			       r->num_devs);
			break;
		}
	}
	pthread_mutex_unlock(&e->lock);
	return 0;
}

/* One per process, as EAL's container is; it lives as long as the process
 * (this reference is never dropped), every binding of a pool holds one more. */
static struct eal_domain *eal_dom;

int nm_dpdk_eal_domain(struct nm_dma_domain **dom, struct nm_err *err)
{
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	struct eal_domain *e;
	int ret = 0;

	pthread_mutex_lock(&once);
	if (eal_dom)
		goto out;
	e = calloc(1, sizeof(*e));
	if (!e) {
		ret = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	e->dom.ops = &eal_domain_ops;
	atomic_init(&e->dom.refs, 1);
	pthread_mutex_init(&e->lock, NULL);
	/* For every port, those probed later too. */
	if (rte_eth_dev_callback_register(RTE_ETH_ALL, RTE_ETH_EVENT_DESTROY, port_destroyed, e))
		NM_LOG(WARNING, "no port release events: a pool freed after its port's device "
		       "is removed would unmap through it");
	eal_dom = e;
out:
	if (!ret)
		*dom = &eal_dom->dom;
	pthread_mutex_unlock(&once);
	return ret;
}
