/* SPDX-License-Identifier: MIT */
/*
 * dmabuf import: take any dmabuf fd, check that it is one, learn its size,
 * exporter and whether the CPU can map it; bracket CPU access with
 * DMA_BUF_IOCTL_SYNC.
 *
 * The object also knows the memory a DMA domain can pin for it. VFIO type1
 * cannot pin a dmabuf's own mmap (VM_PFNMAP: EFAULT), so the path is chosen
 * here: a udmabuf netmem creates is pinned through the memfd behind it; any
 * other page-backed dmabuf (DRM PRIME, dma-heap) through the netmem kernel
 * bridge (kmod/bridge), which maps exactly its pages; without the bridge, or
 * for device memory without struct pages, a clear error says why and what
 * to do (see docs/dmabuf-paths.md).
 */
#ifndef NETMEM_DMABUF_H
#define NETMEM_DMABUF_H

#include <netmem/atomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <netmem/err.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NM_DMABUF_EXPORTER_LEN 32

struct nm_dmabuf;

/*
 * Device memory behind a dmabuf (a GPU's), which the CPU cannot address.
 * The source that made it (lib/cuda) owns it; the last put releases it.
 */
struct nm_dmabuf_dev_ops {
	const char *kind;       /* "cuda" */
	/* Write @len bytes from host memory @src at offset @off, with the
	 * device's own copy engine: on the software NIC this stands in for
	 * the NIC's DMA, so no CPU store ever reaches the memory. */
	int (*write)(struct nm_dmabuf *buf, uint64_t off, const void *src,
		     uint64_t len);
	/* Free the memory; called once, by the last put, after the dmabuf
	 * fds are closed. */
	void (*release)(struct nm_dmabuf *buf);
};

struct nm_dmabuf {
	nm_atomic_int refs;
	int fd;                 /* our own dup of the dmabuf fd (-1 if emulated) */
	int backing_fd;         /* memfd behind it, or -1 when unknown */
	uint64_t size;
	char exporter[NM_DMABUF_EXPORTER_LEN];  /* exp_name from fdinfo */
	bool emulated;          /* a plain memfd standing in for a dmabuf */
	bool cpu_mappable;      /* its exporter lets the CPU mmap it */
	void *cpu_addr;         /* CPU mapping, made on first use */
	void *pin_addr;         /* pinnable mapping (memfd or bridge) */
	int bridge_fd;          /* the bridge's fd when pinned through it */
	/* Device memory (NULL for host memory): its ops, its owner's state,
	 * and its address in the process's unified (CPU and GPU) address
	 * space, which is no CPU mapping. */
	const struct nm_dmabuf_dev_ops *dev_ops;
	void *dev_priv;
	uint64_t dev_addr;
};

/*
 * Import the dmabuf behind @fd (the fd is dup'ed; the caller keeps its own).
 * Refuses with -EBADF for a closed fd and -ENOTTY for an fd that is not a
 * dmabuf (regular file, pipe, socket), with the reason in @err.
 */
int nm_dmabuf_import(int fd, struct nm_dmabuf **out, struct nm_err *err);

/* Create a udmabuf of @size bytes over a sealed memfd (needs /dev/udmabuf). */
int nm_dmabuf_create_udmabuf(uint64_t size, struct nm_dmabuf **out,
			     struct nm_err *err);

/*
 * A memfd of @size bytes standing in for a dmabuf, for machines without any
 * exporter: exporter "memfd", emulated = true. Never passed off as a dmabuf.
 */
int nm_dmabuf_create_memfd(uint64_t size, struct nm_dmabuf **out,
			   struct nm_err *err);

/* A dumb buffer of @size bytes from a DRM device, exported with PRIME
 * (libdrm). @node: a /dev/dri path, or NULL to find the vgem device. */
int nm_dmabuf_create_drm(const char *node, uint64_t size, struct nm_dmabuf **out,
			 struct nm_err *err);

/* A buffer of @size bytes from a dma-heap (@heap: "system" when NULL). */
int nm_dmabuf_create_heap(const char *heap, uint64_t size, struct nm_dmabuf **out,
			  struct nm_err *err);

/*
 * Open a dmabuf named by a user:
 *   udmabuf:SIZE         a udmabuf over a sealed memfd
 *   vgem:SIZE            a vgem dumb buffer exported with DRM PRIME
 *   drm:/dev/dri/X:SIZE  the same from any DRM node with dumb buffers
 *   heap:SIZE            a dma-heap buffer (/dev/dma_heap/system)
 *   heap:NAME:SIZE       from /dev/dma_heap/NAME
 *   fd:N                 a dmabuf fd the process already holds
 *   memfd:SIZE           a memfd standing in for a dmabuf (no exporter here)
 *   auto:SIZE            udmabuf if /dev/udmabuf is usable, else memfd
 *   cuda:SIZE[:GPU]      NVIDIA GPU memory (GPU: device index, default 0),
 *                        exported by the CUDA driver (netmem/cuda.h)
 *   cudamem:SIZE[:GPU]   the same GPU memory without the dmabuf export, for
 *                        drivers that have none (software NIC only)
 * SIZE takes K, M, G suffixes. The same spelling serves the apps, the CLI and
 * the DPDK plugin.
 */
int nm_dmabuf_open_spec(const char *spec, struct nm_dmabuf **out,
			struct nm_err *err);

/*
 * Tell netmem the memfd behind an imported udmabuf (made by someone else), so
 * VFIO pins it directly. Checked first: a cookie written through @memfd must
 * show through the dmabuf (the byte is restored), else -EINVAL and nothing
 * changes, so a device is never given the wrong memory. @memfd is dup'ed.
 */
int nm_dmabuf_attach_memfd(struct nm_dmabuf *buf, int memfd, struct nm_err *err);

/* The memfd stand-in made by another process (nm_dmabuf_create_memfd()
 * there, passed over a socket): @fd must be sealed against shrinking; it is
 * dup'ed. */
int nm_dmabuf_import_memfd(int fd, struct nm_dmabuf **out, struct nm_err *err);

void nm_dmabuf_get(struct nm_dmabuf *buf);
void nm_dmabuf_put(struct nm_dmabuf *buf);

/* Map the whole buffer for CPU access (once; unmapped on the last put). */
int nm_dmabuf_cpu_map(struct nm_dmabuf *buf, void **addr, struct nm_err *err);

/*
 * Memory a DMA domain may pin for this buffer (the memfd behind a udmabuf,
 * else the bridge's mapping). Sets *@addr and returns 0, or: -ENODEV no
 * bridge loaded, -EOPNOTSUPP device memory without struct pages (known
 * device memory such as cuda: is refused before the bridge is asked), -EBUSY the
 * dmabuf is bridged already, -EFAULT nothing pinnable at all.
 */
int nm_dmabuf_pin_addr(struct nm_dmabuf *buf, void **addr, struct nm_err *err);

/* DMA_BUF_IOCTL_SYNC around CPU reads/writes (no-op when emulated). */
#define NM_DMABUF_READ  1u
#define NM_DMABUF_WRITE 2u
int nm_dmabuf_begin_cpu_access(struct nm_dmabuf *buf, unsigned int dir);
int nm_dmabuf_end_cpu_access(struct nm_dmabuf *buf, unsigned int dir);

/*
 * For sources of device memory whose driver exports no dmabuf here: an
 * object with no fd (emulated = true, not CPU-mappable) that the source
 * then gives its dev_ops. The software NIC path works the same on it.
 */
int nm_dmabuf_alloc_unexported(uint64_t size, const char *exporter,
			       struct nm_dmabuf **out, struct nm_err *err);

/* Parse "64M", "4096", "1G" into bytes; -EINVAL on junk or zero. */
int nm_parse_size(const char *s, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
