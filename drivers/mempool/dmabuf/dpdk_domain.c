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

static const struct nm_dma_domain_ops eal_domain_ops = {
	.kind = "dpdk-eal",
	.pins_pages = true,
	.map = eal_map,
	.unmap = eal_unmap,
	.translate = NULL,
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

/* The pseudo device that owns the bindings: it never runs a queue. */
static int owner_no_mem(struct nm_netdev *dev, void *qmem, uint32_t idx,
			const struct nm_mp_params *mp, struct nm_err *err)
{
	(void)dev; (void)qmem; (void)idx; (void)mp;
	return nm_err_set(err, -EOPNOTSUPP, "the dpdk pseudo device has no queues to run");
}

static void owner_free(struct nm_netdev *dev, void *qmem)
{
	(void)dev; (void)qmem;
}

static int owner_nop(struct nm_netdev *dev, void *qmem, uint32_t idx,
		     struct nm_err *err)
{
	(void)dev; (void)qmem; (void)idx; (void)err;
	return -EOPNOTSUPP;
}

static const struct nm_queue_mgmt_ops owner_qops = {
	.mem_size = sizeof(int),
	.mem_alloc = owner_no_mem,
	.mem_free = owner_free,
	.start = owner_nop,
	.stop = owner_nop,
};

static struct {
	struct eal_domain *dom;
	struct nm_netdev owner;
	bool ready;
} eal;

int nm_dpdk_eal_domain(struct nm_dma_domain **dom, struct nm_netdev **owner,
		       struct nm_err *err)
{
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	struct eal_domain *e;
	int ret = 0;

	pthread_mutex_lock(&once);
	if (eal.ready)
		goto out;
	e = calloc(1, sizeof(*e));
	if (!e) {
		ret = nm_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	e->dom.ops = &eal_domain_ops;
	atomic_init(&e->dom.refs, 1);
	pthread_mutex_init(&e->lock, NULL);
	ret = nm_netdev_init(&eal.owner, "dpdk", 1, &owner_qops, &e->dom, err);
	/* The device holds the domain now (or nobody does). */
	nm_dma_domain_put(&e->dom);
	if (ret)
		goto out;
	eal.dom = e;
	eal.ready = true;
out:
	if (!ret) {
		*dom = &eal.dom->dom;
		*owner = &eal.owner;
	}
	pthread_mutex_unlock(&once);
	return ret;
}
