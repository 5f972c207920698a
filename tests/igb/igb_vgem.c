/* SPDX-License-Identifier: MIT */
/*
 * A DRM PRIME dmabuf (vgem, through libdrm) and the igb device's VFIO type1
 * container: the kernel refuses to map the dmabuf's own mmap (EFAULT: its
 * pages are VM_PFNMAP), so the binding is refused with a reason that names
 * the way out (the kernel bridge, or iommufd on a newer kernel), and the
 * device's queues are not touched. Needs `modprobe vgem` first, and the
 * netmem kernel bridge not loaded (with it, such a dmabuf can be mapped).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <netmem/igb.h>

#include "igb_test.h"

const char *igbt_name = "igb-vgem";

int main(void)
{
	struct nm_igb_params p = { .bdf = getenv("NETMEM_GUEST_PORT_B_BDF") };
	struct nm_err err = { 0 };
	struct nm_igb *igb;
	struct nm_netdev *dev;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_dma_domain_stats before;
	uint64_t ops[NM_IGB_OP_COUNT], iova;
	void *map;
	int ret;

	if (!p.bdf)
		IGBT_DIE("run in the test guest with --vfio");
	/* A vgem dumb buffer exported with DRM PRIME (libdrm), imported. */
	ret = nm_dmabuf_open_spec("vgem:4M", &buf, &err);
	IGBT_CHECK(!ret, "a vgem PRIME dmabuf: exporter '%s', %llu bytes",
		   ret ? err.msg : buf->exporter, ret ? 0ull : (unsigned long long)buf->size);

	ret = nm_igb_open(&p, &igb, &err);
	IGBT_CHECK(!ret, "open %s%s%s", p.bdf, ret ? ": " : "", ret ? err.msg : "");
	dev = nm_igb_netdev(igb);
	before = dev->dma->stats;
	for (int i = 0; i < NM_IGB_OP_COUNT; i++)
		ops[i] = nm_igb_op_count(igb, (enum nm_igb_op)i);

	/* What the kernel says to the dmabuf's own mapping. */
	map = mmap(NULL, buf->size, PROT_READ | PROT_WRITE, MAP_SHARED, buf->fd, 0);
	IGBT_CHECK(map != MAP_FAILED, "the dmabuf mmaps for the CPU");
	ret = nm_dma_map(dev->dma, map, buf->size, &iova, &err);
	IGBT_CHECK(ret == -EFAULT, "VFIO_IOMMU_MAP_DMA of that mapping fails: %s", err.msg);
	munmap(map, buf->size);

	/* What a user sees when binding it. */
	nm_err_clear(&err);
	ret = nm_dmabuf_binding_create(dev->dma, buf, NULL, &b, &err);
	IGBT_CHECK(ret < 0 && strstr(err.msg, "type1") &&
		   (strstr(err.msg, "bridge") || strstr(err.msg, "iommufd")),
		   "binding refused (%s) with the reason and the way out: %s", strerror(-ret),
		   err.msg);
	for (int i = 0; i < NM_IGB_OP_COUNT; i++)
		if (nm_igb_op_count(igb, (enum nm_igb_op)i) != ops[i])
			IGBT_DIE("a queue callback ran");
	IGBT_CHECK(dev->dma->stats.maps == before.maps &&
		   dev->dma->stats.mapped_bytes == before.mapped_bytes,
		   "nothing was mapped and no queue was touched");
	nm_igb_close(igb);
	nm_dmabuf_put(buf);
	return 0;
}
