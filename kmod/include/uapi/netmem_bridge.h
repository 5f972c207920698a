/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT */
/*
 * /dev/netmem-bridge: make a page-backed dmabuf mappable by VFIO type1.
 *
 * VFIO_IOMMU_MAP_DMA pins user pages; a dmabuf's own mmap is VM_PFNMAP and
 * type1 refuses it (EFAULT). The bridge imports the dmabuf (attach + map,
 * which pins it for exporters that can move buffers), checks that every
 * chunk is backed by struct pages, and returns an fd whose mmap inserts
 * exactly those pages (VM_MIXEDMAP), which GUP, and so VFIO, can pin.
 */
#ifndef _UAPI_NETMEM_BRIDGE_H
#define _UAPI_NETMEM_BRIDGE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define NETMEM_BRIDGE_DEV "/dev/netmem-bridge"
#define NETMEM_BRIDGE_EXPORTER_LEN 32

struct netmem_bridge_import {
	__s32 dmabuf_fd;   /* in: the dmabuf */
	__u32 flags;       /* in: 0 */
	__u64 size;        /* out: bytes, a multiple of the page size */
	__u32 nr_pages;    /* out */
	__s32 fd;          /* out: mmap it (MAP_SHARED, offset 0) */
	char exporter[NETMEM_BRIDGE_EXPORTER_LEN]; /* out: exp_name */
};

/*
 * Errors: EBADF not an fd; EINVAL not a dmabuf, size 0 or not page-aligned,
 * flags set; EBUSY this dmabuf is bridged already; EOPNOTSUPP a chunk without
 * struct pages (device memory: use iommufd on a newer kernel); EPERM without
 * CAP_SYS_ADMIN.
 */
#define NETMEM_BRIDGE_IOC_IMPORT _IOWR('N', 0x40, struct netmem_bridge_import)

#endif
