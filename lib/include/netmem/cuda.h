/* SPDX-License-Identifier: MIT */
/*
 * NVIDIA GPU memory as a dmabuf (the source cuda:SIZE[:GPU]).
 *
 * Device memory is allocated with the CUDA driver's virtual memory API at
 * the granularity the driver demands, exported with
 * cuMemGetHandleForAddressRange(CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD) and
 * imported like any dmabuf, with cpu_mappable false. libcuda.so.1 is opened
 * at run time: nothing links against the driver, and a machine without one
 * gets a clear error, not a missing library. The dmabuf owns the memory:
 * its last put closes the fd, then unmaps and frees the memory and drops
 * the context reference.
 *
 * What it gets: a software NIC (identity domain) receives into it through
 * the GPU's copy engine (nm_dmabuf_dev_ops.write, standing in for the NIC's
 * DMA) and nm_cuda_check_pattern() checks the payload with a CUDA kernel,
 * so the CPU never reads a payload byte; VFIO type1 refuses it (no pages to
 * pin: iommufd is the way); the kernel bridge refuses it (EOPNOTSUPP).
 * See docs/cuda.md.
 */
#ifndef NETMEM_CUDA_H
#define NETMEM_CUDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netmem/dmabuf.h>
#include <netmem/err.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * @size bytes of device memory on GPU @gpu (an index as CUDA counts them).
 * Errors, each with the reason in @err: -ENOSYS built without CUDA headers
 * or with a driver too old; -ENOENT no driver (libcuda.so.1) installed;
 * -ENODEV cuInit failed (no GPU) or @gpu out of range; -EOPNOTSUPP the
 * driver cannot export dmabufs; -EINVAL @size not a multiple of the GPU's
 * allocation granularity (2 MiB on current GPUs); -ENOMEM not enough
 * device memory.
 */
int nm_dmabuf_create_cuda(uint64_t size, int gpu, struct nm_dmabuf **out,
			  struct nm_err *err);

/*
 * The same device memory without the dmabuf export (cudamem:SIZE[:GPU]),
 * for drivers that cannot export one here: no fd (emulated = true), so only
 * the software NIC can use it; everything else is as for cuda:. The
 * stand-in that lets the copy engine and the GPU check run anyway.
 */
int nm_dmabuf_create_cuda_unexported(uint64_t size, int gpu, struct nm_dmabuf **out,
				     struct nm_err *err);

/* Is @buf device memory made by nm_dmabuf_create_cuda*()? */
bool nm_dmabuf_is_cuda(const struct nm_dmabuf *buf);

/* A payload range to check: @len bytes at dmabuf offset @off that should
 * hold the pattern (nm_pattern_byte) from stream offset @stream_off. */
struct nm_cuda_span {
	uint64_t off;
	uint64_t stream_off;
	uint32_t len;
	uint32_t reserved;   /* 0 */
};

/*
 * Check @n spans of @buf against the pattern of @seed with a CUDA kernel on
 * the GPU; *@bad gets the number of spans with at least one wrong byte.
 * The bytes never leave the GPU. -ENOSYS when built without nvcc (no
 * kernel), -EINVAL a span outside the buffer or @buf not cuda memory.
 */
int nm_cuda_check_pattern(struct nm_dmabuf *buf, const struct nm_cuda_span *spans,
			  unsigned int n, uint32_t seed, uint64_t *bad,
			  struct nm_err *err);

/* One line on GPU @gpu for reports: name, memory, driver's CUDA version,
 * dmabuf support. */
int nm_cuda_describe(int gpu, char *out, size_t len, struct nm_err *err);

#ifdef __cplusplus
}
#endif
#endif
