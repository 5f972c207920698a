/* SPDX-License-Identifier: MIT */
/*
 * A netmem DMA domain over EAL's default VFIO container: where netmem's igb
 * driver maps its own memory (descriptor rings, host header/TX buffers)
 * when the device was opened by EAL (rte_vfio_setup_device). IOVA == VA,
 * as EAL's own mappings in IOVA-as-VA mode, so the two never overlap:
 * different memory, different addresses.
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_vfio.h>

#include "pmd_internal.h"

static int eal_vfio_map(struct nm_dma_domain *d, void *va, uint64_t len,
			uint64_t *iova, struct nm_err *err)
{
	uint64_t a = (uint64_t)(uintptr_t)va;

	(void)d;
	if (rte_vfio_container_dma_map(RTE_VFIO_DEFAULT_CONTAINER_FD, a, a, len))
		return nm_err_set(err, rte_errno ? -rte_errno : -EIO,
				  "rte_vfio_container_dma_map of %llu bytes into EAL's container: %s",
				  (unsigned long long)len, rte_strerror(rte_errno));
	*iova = a;
	return 0;
}

static int eal_vfio_unmap(struct nm_dma_domain *d, uint64_t iova, uint64_t len)
{
	(void)d;
	return rte_vfio_container_dma_unmap(RTE_VFIO_DEFAULT_CONTAINER_FD, iova, iova, len) ?
	       -rte_errno : 0;
}

static void eal_vfio_destroy(struct nm_dma_domain *d)
{
	free(d);
}

static const struct nm_dma_domain_ops eal_vfio_ops = {
	.kind = "dpdk-eal-vfio",
	.pins_pages = true,
	.map = eal_vfio_map,
	.unmap = eal_vfio_unmap,
	.destroy = eal_vfio_destroy,
};

int pmd_eal_vfio_domain_create(struct nm_dma_domain **out, struct nm_err *err)
{
	struct nm_dma_domain *d;

	if (rte_eal_iova_mode() != RTE_IOVA_VA)
		return nm_err_set(err, -ENOTSUP,
				  "EAL runs in IOVA-as-PA mode; " PMD_NAME " maps netmem's memory at "
				  "IOVA == VA: run EAL with --iova-mode=va");
	d = calloc(1, sizeof(*d));
	if (!d)
		return nm_err_set(err, -ENOMEM, "out of memory");
	d->ops = &eal_vfio_ops;
	atomic_init(&d->refs, 1);
	*out = d;
	return 0;
}
