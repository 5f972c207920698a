/* SPDX-License-Identifier: MIT */
/*
 * cuda:SIZE[:GPU]: NVIDIA device memory exported as a dmabuf.
 *
 * Acquire in order: the driver (dlopen), cuInit, the device, its dmabuf
 * support, the primary context (retained), physical memory (cuMemCreate at
 * the driver's granularity), a virtual range, the mapping, access (or, where
 * the GPU or sandbox has no VMM, one cuMemAlloc), the dmabuf fd, the import. Errors release in exact reverse order; so does the
 * dmabuf's last put, through cuda_release().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netmem/cuda.h>

#ifdef NM_HAVE_CUDA_H
#include "cuda_api.h"

#define ERRNAME(api, r) nm_cuda_errname((api), (r), ebuf, sizeof(ebuf))

int nm_cuda_mem_enter(const struct nm_cuda_mem *m, struct nm_err *err)
{
	char ebuf[32];
	CUresult r = m->api->ctx_push(m->ctx);

	if (r != CUDA_SUCCESS)
		return nm_err_set(err, -EIO, "cuCtxPushCurrent: %s", ERRNAME(m->api, r));
	return 0;
}

void nm_cuda_mem_leave(const struct nm_cuda_mem *m)
{
	CUcontext prev;

	m->api->ctx_pop(&prev);
}

/* The GPU's copy engine writes host bytes into the range (the software
 * NIC's DMA, standing in for a real NIC's). */
static int cuda_write(struct nm_dmabuf *buf, uint64_t off, const void *src,
		      uint64_t len)
{
	struct nm_cuda_mem *m = buf->dev_priv;
	CUresult r;

	if (off > m->size || len > m->size - off)
		return -EFAULT;
	if (nm_cuda_mem_enter(m, NULL))
		return -EIO;
	r = m->api->memcpy_htod(m->base + off, src, len);
	nm_cuda_mem_leave(m);
	return r == CUDA_SUCCESS ? 0 : -EIO;
}

/* The VMM path: physical memory at the driver's granularity, a virtual
 * range, the mapping, access. */
static int alloc_vmm(struct nm_cuda_mem *m, const char *name, long page,
		     struct nm_err *err)
{
	const struct nm_cuda_api *api = m->api;
	CUmemAllocationProp prop = { 0 };
	CUmemAccessDesc access = { 0 };
	char ebuf[32];
	size_t gran = 0;
	int ret;
	CUresult r;

	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = m->ordinal;
	r = api->mem_get_granularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM);
	if (r != CUDA_SUCCESS || !gran)
		return nm_err_set(err, -EIO, "cuMemGetAllocationGranularity: %s",
				  r != CUDA_SUCCESS ? ERRNAME(api, r) : "granularity 0");
	/* The export needs the range aligned to both the host page and the
	 * driver's granularity. */
	if (m->size % gran || m->size % (uint64_t)page)
		return nm_err_set(err, -EINVAL,
				  "cuda: %llu bytes is not a multiple of GPU %d's allocation "
				  "granularity (%zu KiB) and the host page (%ld bytes)",
				  (unsigned long long)m->size, m->ordinal, gran >> 10, page);
	r = api->mem_create(&m->handle, m->size, &prop, 0);
	if (r == CUDA_ERROR_NOT_SUPPORTED)
		return 1;       /* not here after all: cuMemAlloc */
	if (r != CUDA_SUCCESS)
		return nm_err_set(err, r == CUDA_ERROR_OUT_OF_MEMORY ? -ENOMEM : -EIO,
				  "cuMemCreate of %llu MiB on GPU %d (%s): %s",
				  (unsigned long long)(m->size >> 20), m->ordinal, name,
				  ERRNAME(api, r));
	r = api->mem_address_reserve(&m->base, m->size, gran, 0, 0);
	if (r != CUDA_SUCCESS) {
		ret = nm_err_set(err, -ENOMEM, "cuMemAddressReserve of %llu bytes: %s",
				 (unsigned long long)m->size, ERRNAME(api, r));
		goto err_release;
	}
	r = api->mem_map(m->base, m->size, 0, m->handle, 0);
	if (r != CUDA_SUCCESS) {
		ret = nm_err_set(err, -EIO, "cuMemMap: %s", ERRNAME(api, r));
		goto err_addr;
	}
	access.location = prop.location;
	access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
	r = api->mem_set_access(m->base, m->size, &access, 1);
	if (r != CUDA_SUCCESS) {
		ret = nm_err_set(err, -EIO, "cuMemSetAccess: %s", ERRNAME(api, r));
		goto err_unmap;
	}
	m->vmm = true;
	return 0;

err_unmap:
	api->mem_unmap(m->base, m->size);
err_addr:
	api->mem_address_free(m->base, m->size);
err_release:
	api->mem_release(m->handle);
	return ret;
}

/* Without VMM (older GPUs, some sandboxes): cuMemAlloc, whose large
 * allocations start on a 2 MiB boundary; checked, since the export needs
 * host-page alignment. */
static int alloc_legacy(struct nm_cuda_mem *m, const char *name, long page,
			struct nm_err *err)
{
	char ebuf[32];
	CUresult r;

	if (m->size % (uint64_t)page)
		return nm_err_set(err, -EINVAL,
				  "cuda: %llu bytes is not a multiple of the host page (%ld bytes)",
				  (unsigned long long)m->size, page);
	r = m->api->mem_alloc(&m->base, m->size);
	if (r != CUDA_SUCCESS)
		return nm_err_set(err, r == CUDA_ERROR_OUT_OF_MEMORY ? -ENOMEM : -EIO,
				  "cuMemAlloc of %llu MiB on GPU %d (%s): %s",
				  (unsigned long long)(m->size >> 20), m->ordinal, name,
				  ERRNAME(m->api, r));
	if (m->base % (uint64_t)page) {
		m->api->mem_free(m->base);
		return nm_err_set(err, -EINVAL,
				  "cuMemAlloc gave %#llx, not aligned to the host page: cannot "
				  "export it", (unsigned long long)m->base);
	}
	m->vmm = false;
	return 0;
}

static int cuda_mem_alloc(struct nm_cuda_mem *m, bool has_vmm, const char *name,
			  struct nm_err *err)
{
	long page = sysconf(_SC_PAGESIZE);
	int ret = has_vmm ? alloc_vmm(m, name, page, err) : 1;

	return ret == 1 ? alloc_legacy(m, name, page, err) : ret;
}

static void cuda_mem_unalloc(struct nm_cuda_mem *m)
{
	if (m->vmm) {
		m->api->mem_unmap(m->base, m->size);
		m->api->mem_address_free(m->base, m->size);
		m->api->mem_release(m->handle);
	} else {
		m->api->mem_free(m->base);
	}
}

/* Reverse of the acquisition; every step is taken exactly once. */
static void cuda_mem_free(struct nm_cuda_mem *m)
{
	const struct nm_cuda_api *api = m->api;
	bool ctx = nm_cuda_mem_enter(m, NULL) == 0;

	if (m->module)
		api->module_unload(m->module);
	if (m->scratch)
		api->mem_free(m->scratch);
	cuda_mem_unalloc(m);
	if (ctx)
		nm_cuda_mem_leave(m);
	api->primary_ctx_release(m->dev);
	free(m);
}

static void cuda_release(struct nm_dmabuf *buf)
{
	cuda_mem_free(buf->dev_priv);
	buf->dev_priv = NULL;
}

const struct nm_dmabuf_dev_ops nm_cuda_dev_ops = {
	.kind = "cuda",
	.write = cuda_write,
	.release = cuda_release,
};

/* cuInit, the device, and what it must support. */
static int cuda_device(const struct nm_cuda_api *api, int gpu, bool need_dmabuf,
		       CUdevice *dev, bool *has_vmm, char *name, size_t name_len,
		       struct nm_err *err)
{
	char ebuf[32];
	int count = 0, dmabuf = 0, vmm = 0;
	CUresult r;

	r = api->init(0);
	if (r == CUDA_ERROR_NO_DEVICE)
		return nm_err_set(err, -ENODEV,
				  "cuInit: CUDA_ERROR_NO_DEVICE: the CUDA driver is installed but "
				  "sees no GPU here");
	if (r != CUDA_SUCCESS)
		return nm_err_set(err, -ENODEV,
				  "cuInit: %s: the CUDA driver cannot start (no GPU, or the kernel "
				  "module and libcuda.so.1 are of different versions)",
				  ERRNAME(api, r));
	r = api->device_get_count(&count);
	if (r != CUDA_SUCCESS)
		return nm_err_set(err, -ENODEV, "cuDeviceGetCount: %s", ERRNAME(api, r));
	if (gpu < 0 || gpu >= count)
		return nm_err_set(err, -ENODEV, "cuda: there is no GPU %d: %d GPU%s here%s", gpu,
				  count, count == 1 ? "" : "s",
				  count > 1 ? " (indexes from 0)" : count ? " (GPU 0)" : "");
	r = api->device_get(dev, gpu);
	if (r != CUDA_SUCCESS)
		return nm_err_set(err, -ENODEV, "cuDeviceGet(%d): %s", gpu, ERRNAME(api, r));
	if (api->device_get_name(name, (int)name_len, *dev) != CUDA_SUCCESS)
		snprintf(name, name_len, "GPU %d", gpu);
	r = api->device_get_attribute(&vmm,
				      CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, *dev);
	*has_vmm = r == CUDA_SUCCESS && vmm;
	r = api->device_get_attribute(&dmabuf, CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED, *dev);
	if (need_dmabuf && (r != CUDA_SUCCESS || !dmabuf))
		return nm_err_set(err, -EOPNOTSUPP,
				  "cuda: the driver cannot export GPU %d (%s) memory as a dmabuf "
				  "(CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED is 0: it needs NVIDIA's open "
				  "kernel modules and Linux 5.12 or later; cudamem: runs without it)",
				  gpu, name);
	return 0;
}

int nm_cuda_dmabuf_create_with(const struct nm_cuda_api *api, uint64_t size,
			       int gpu, bool exported, struct nm_dmabuf **out,
			       struct nm_err *err)
{
	struct nm_dmabuf *buf = NULL;
	struct nm_cuda_mem *m;
	char name[96], ebuf[32];
	bool has_vmm = false;
	int fd = -1, ret;
	CUresult r;

	if (!size)
		return nm_err_set(err, -EINVAL, "cuda: size must be > 0");
	m = calloc(1, sizeof(*m));
	if (!m)
		return nm_err_set(err, -ENOMEM, "out of memory");
	m->api = api;
	m->ordinal = gpu;
	m->size = size;
	ret = cuda_device(api, gpu, exported, &m->dev, &has_vmm, name, sizeof(name), err);
	if (ret)
		goto err_free;
	r = api->primary_ctx_retain(&m->ctx, m->dev);
	if (r != CUDA_SUCCESS) {
		ret = nm_err_set(err, -ENODEV, "cuDevicePrimaryCtxRetain(GPU %d): %s", gpu,
				 ERRNAME(api, r));
		goto err_free;
	}
	ret = nm_cuda_mem_enter(m, err);
	if (ret)
		goto err_ctx;

	ret = cuda_mem_alloc(m, has_vmm, name, err);
	if (ret)
		goto err_leave;
	if (!exported) {
		nm_cuda_mem_leave(m);
		ret = nm_dmabuf_alloc_unexported(size, "cuda (not exported)", &buf, err);
		if (ret)
			goto err_unmap_nocx;
		goto done;
	}
	r = api->mem_get_handle(&fd, m->base, size, CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD, 0);
	if (r != CUDA_SUCCESS || fd < 0) {
		ret = nm_err_set(err, r == CUDA_ERROR_NOT_SUPPORTED ? -EOPNOTSUPP : -EIO,
				 "cuMemGetHandleForAddressRange(DMA_BUF_FD) on GPU %d (%s): %s: the "
				 "driver would not export this memory as a dmabuf", gpu, name,
				 r != CUDA_SUCCESS ? ERRNAME(api, r) : "no fd");
		goto err_unmap;
	}
	nm_cuda_mem_leave(m);
	ret = api->import(fd, &buf, err);
	close(fd);
	if (ret)
		goto err_unmap_nocx;
done:
	/* The CPU has no address for it, whatever the fd's mmap would say. */
	buf->cpu_mappable = false;
	buf->dev_ops = &nm_cuda_dev_ops;
	buf->dev_priv = m;
	buf->dev_addr = (uint64_t)m->base;
	*out = buf;
	return 0;

err_unmap_nocx:
	nm_cuda_mem_enter(m, NULL);
err_unmap:
	cuda_mem_unalloc(m);
err_leave:
	nm_cuda_mem_leave(m);
err_ctx:
	api->primary_ctx_release(m->dev);
err_free:
	free(m);
	return ret;
}

int nm_dmabuf_create_cuda(uint64_t size, int gpu, struct nm_dmabuf **out,
			  struct nm_err *err)
{
	const struct nm_cuda_api *api;
	int ret = nm_cuda_api_get(&api, err);

	return ret ? ret : nm_cuda_dmabuf_create_with(api, size, gpu, true, out, err);
}

int nm_dmabuf_create_cuda_unexported(uint64_t size, int gpu, struct nm_dmabuf **out,
				     struct nm_err *err)
{
	const struct nm_cuda_api *api;
	int ret = nm_cuda_api_get(&api, err);

	return ret ? ret : nm_cuda_dmabuf_create_with(api, size, gpu, false, out, err);
}

bool nm_dmabuf_is_cuda(const struct nm_dmabuf *buf)
{
	return buf && buf->dev_ops == &nm_cuda_dev_ops;
}

int nm_cuda_describe(int gpu, char *out, size_t len, struct nm_err *err)
{
	const struct nm_cuda_api *api;
	char name[96];
	int ret, ver = 0;
	CUdevice dev;
	bool vmm;

	ret = nm_cuda_api_get(&api, err);
	if (ret)
		return ret;
	ret = cuda_device(api, gpu, true, &dev, &vmm, name, sizeof(name), err);
	if (ret && ret != -EOPNOTSUPP)
		return ret;
	api->driver_get_version(&ver);
	snprintf(out, len, "GPU %d: %s; driver supports CUDA %d.%d; dmabuf export: %s", gpu,
		 name, ver / 1000, ver % 1000 / 10, ret ? "NO" : "yes");
	return 0;
}

#else /* !NM_HAVE_CUDA_H */

#define NO_CUDA_MSG "cuda: netmem was built without the CUDA toolkit's cuda.h; " \
		    "rebuild where /usr/local/cuda/include/cuda.h exists"

int nm_dmabuf_create_cuda(uint64_t size, int gpu, struct nm_dmabuf **out,
			  struct nm_err *err)
{
	(void)size; (void)gpu; (void)out;
	return nm_err_set(err, -ENOSYS, NO_CUDA_MSG);
}

int nm_dmabuf_create_cuda_unexported(uint64_t size, int gpu, struct nm_dmabuf **out,
				     struct nm_err *err)
{
	return nm_dmabuf_create_cuda(size, gpu, out, err);
}

bool nm_dmabuf_is_cuda(const struct nm_dmabuf *buf)
{
	(void)buf;
	return false;
}

int nm_cuda_describe(int gpu, char *out, size_t len, struct nm_err *err)
{
	(void)gpu; (void)out; (void)len;
	return nm_err_set(err, -ENOSYS, NO_CUDA_MSG);
}

int nm_cuda_check_pattern(struct nm_dmabuf *buf, const struct nm_cuda_span *spans,
			  unsigned int n, uint32_t seed, uint64_t *bad,
			  struct nm_err *err)
{
	(void)buf; (void)spans; (void)n; (void)seed; (void)bad;
	return nm_err_set(err, -ENOSYS, NO_CUDA_MSG);
}

#endif
