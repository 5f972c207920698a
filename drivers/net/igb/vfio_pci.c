/* SPDX-License-Identifier: MIT */
/*
 * VFIO plumbing for one PCI function (cf. ixy's libixy-vfio.c). The
 * container and the group are the DMA domain's; here: the device fd, config
 * space through the config region, BAR0 through mmap, bus master, reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfio_pci.h"

int nm_vfio_pci_group(const char *bdf, struct nm_err *err)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	char *end;
	long group;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (access(path, F_OK))
		return nm_err_set(err, -ENODEV, "no PCI device %s (%s)", bdf, path);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return nm_err_set(err, -ENODEV,
				  "%s has no IOMMU group (%s): enable the IOMMU (intel_iommu=on) "
				  "or use a kernel with VFIO no-IOMMU mode", bdf, strerror(errno));
	link[n] = '\0';
	group = strtol(basename(link), &end, 10);
	if (*end || group < 0 || group > INT_MAX)
		return nm_err_set(err, -EINVAL, "odd IOMMU group link %s", link);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || (link[n] = '\0', strcmp(basename(link), "vfio-pci")))
		return nm_err_set(err, -EBUSY,
				  "%s is %s%s, not vfio-pci: echo vfio-pci > /sys/bus/pci/devices/%s/"
				  "driver_override, unbind it and write it to /sys/bus/pci/drivers_probe",
				  bdf, n < 0 ? "bound to no driver" : "bound to ",
				  n < 0 ? "" : basename(link), bdf);
	return (int)group;
}

int nm_vfio_pci_open(struct nm_vfio_pci *p, struct nm_dma_domain *dom,
		     const char *bdf, struct nm_err *err)
{
	int ret;
	int fd = nm_dma_domain_vfio_device_fd(dom, bdf, err);

	if (fd < 0)
		return fd;
	ret = nm_vfio_pci_open_fd(p, fd, bdf, err);
	if (ret)
		close(fd);
	return ret;
}

int nm_vfio_pci_open_fd(struct nm_vfio_pci *p, int fd, const char *bdf,
			struct nm_err *err)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct vfio_region_info bar = { .argsz = sizeof(bar),
					.index = VFIO_PCI_BAR0_REGION_INDEX };
	void *map;
	int ret;

	memset(p, 0, sizeof(*p));
	p->fd = fd;
	if (fd < 0)
		return nm_err_set(err, -EBADF, "%s: no VFIO device fd", bdf);
	if (ioctl(p->fd, VFIO_DEVICE_GET_INFO, &info) || !(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		ret = nm_err_set(err, -ENODEV, "%s: not a VFIO PCI device", bdf);
		goto fail;
	}
	p->can_reset = info.flags & VFIO_DEVICE_FLAGS_RESET;
	if (ioctl(p->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    ioctl(p->fd, VFIO_DEVICE_GET_REGION_INFO, &bar)) {
		ret = nm_err_set(err, -errno, "%s: VFIO region info: %s", bdf, strerror(errno));
		goto fail;
	}
	p->cfg_offset = cfg.offset;
	if (!bar.size || !(bar.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		ret = nm_err_set(err, -ENOTSUP, "%s: BAR0 cannot be mapped through VFIO", bdf);
		goto fail;
	}
	map = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd,
		   (off_t)bar.offset);
	if (map == MAP_FAILED) {
		ret = nm_err_set(err, -errno, "%s: mmap of BAR0 (%llu bytes): %s", bdf,
				 (unsigned long long)bar.size, strerror(errno));
		goto fail;
	}
	p->bar0 = map;
	p->bar0_size = bar.size;
	return 0;
fail:
	p->fd = -1;
	return ret;
}

void nm_vfio_pci_close(struct nm_vfio_pci *p, bool close_fd)
{
	if (p->bar0)
		munmap((void *)p->bar0, p->bar0_size);
	p->bar0 = NULL;
	if (p->fd >= 0 && close_fd)
		close(p->fd);
	p->fd = -1;
}

int nm_vfio_pci_cfg_read(struct nm_vfio_pci *p, uint32_t off, void *buf, size_t len)
{
	ssize_t n = pread(p->fd, buf, len, (off_t)(p->cfg_offset + off));

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

int nm_vfio_pci_cfg_write(struct nm_vfio_pci *p, uint32_t off, const void *buf,
			  size_t len)
{
	ssize_t n = pwrite(p->fd, buf, len, (off_t)(p->cfg_offset + off));

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

int nm_vfio_pci_bus_master(struct nm_vfio_pci *p, bool on)
{
	uint16_t cmd;
	int ret = nm_vfio_pci_cfg_read(p, PCI_COMMAND, &cmd, sizeof(cmd));

	if (ret)
		return ret;
	cmd |= PCI_COMMAND_MEMORY;
	if (on)
		cmd |= PCI_COMMAND_MASTER;
	else
		cmd &= (uint16_t)~PCI_COMMAND_MASTER;
	return nm_vfio_pci_cfg_write(p, PCI_COMMAND, &cmd, sizeof(cmd));
}

int nm_vfio_pci_reset(struct nm_vfio_pci *p)
{
	if (!p->can_reset)
		return -ENOTTY;
	return ioctl(p->fd, VFIO_DEVICE_RESET) ? -errno : 0;
}
