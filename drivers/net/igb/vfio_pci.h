/* SPDX-License-Identifier: MIT */
/*
 * VFIO plumbing for a PCI function (driver-internal): the device fd from a
 * VFIO domain, its config space, BAR0 mapped into the process, bus
 * mastering and reset. The container and group belong to the DMA domain
 * (lib/dma_vfio.c); this file only deals with the device.
 */
#ifndef NETMEM_VFIO_PCI_H
#define NETMEM_VFIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netmem/dma_domain.h>
#include <netmem/err.h>

struct nm_vfio_pci {
	int fd;                    /* VFIO device fd, -1 when closed */
	uint64_t cfg_offset;       /* where config space is in the fd */
	volatile uint8_t *bar0;    /* BAR0 mapped, NULL when closed */
	size_t bar0_size;
	bool can_reset;            /* VFIO_DEVICE_RESET is available */
};

/* The IOMMU group of @bdf from sysfs, or a negative errno with the reason. */
int nm_vfio_pci_group(const char *bdf, struct nm_err *err);

/* Take @bdf from the domain's group, map BAR0. */
int nm_vfio_pci_open(struct nm_vfio_pci *p, struct nm_dma_domain *dom,
		     const char *bdf, struct nm_err *err);
/* The same on a device fd someone else opened (and will close). */
int nm_vfio_pci_open_fd(struct nm_vfio_pci *p, int fd, const char *bdf,
			struct nm_err *err);
/* Unmap BAR0; close the device fd when @close_fd (it is ours). */
void nm_vfio_pci_close(struct nm_vfio_pci *p, bool close_fd);

int nm_vfio_pci_cfg_read(struct nm_vfio_pci *p, uint32_t off, void *buf,
			 size_t len);
int nm_vfio_pci_cfg_write(struct nm_vfio_pci *p, uint32_t off,
			  const void *buf, size_t len);
/* Memory decoding and bus mastering on (or bus mastering off). */
int nm_vfio_pci_bus_master(struct nm_vfio_pci *p, bool on);
/* Function-level reset through VFIO (-ENOTTY when the device has none). */
int nm_vfio_pci_reset(struct nm_vfio_pci *p);

#endif
