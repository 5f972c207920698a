/* SPDX-License-Identifier: MIT */
/*
 * The CUDA driver entry points netmem uses, in one table (internal, not
 * installed). The real table is filled from libcuda.so.1 with dlopen on
 * first use, so nothing links against the driver; only the toolkit's
 * cuda.h is needed to build. A unit test hands a fake table to
 * nm_cuda_dmabuf_create_with() to walk every error path without a GPU.
 */
#ifndef NETMEM_CUDA_API_H
#define NETMEM_CUDA_API_H

#include <cuda.h>

#include <netmem/cuda.h>
#include <netmem/dmabuf.h>
#include <netmem/err.h>

/* Each member has the type of the cuda.h function named beside it. */
#define NM_CUDA_FN(name) __typeof__(name) *

struct nm_cuda_api {
	NM_CUDA_FN(cuInit) init;
	NM_CUDA_FN(cuDriverGetVersion) driver_get_version;
	NM_CUDA_FN(cuGetErrorName) get_error_name;
	NM_CUDA_FN(cuDeviceGetCount) device_get_count;
	NM_CUDA_FN(cuDeviceGet) device_get;
	NM_CUDA_FN(cuDeviceGetName) device_get_name;
	NM_CUDA_FN(cuDeviceGetAttribute) device_get_attribute;
	NM_CUDA_FN(cuDevicePrimaryCtxRetain) primary_ctx_retain;
	NM_CUDA_FN(cuDevicePrimaryCtxRelease) primary_ctx_release;
	NM_CUDA_FN(cuCtxPushCurrent) ctx_push;
	NM_CUDA_FN(cuCtxPopCurrent) ctx_pop;
	NM_CUDA_FN(cuCtxSynchronize) ctx_synchronize;
	NM_CUDA_FN(cuMemGetAllocationGranularity) mem_get_granularity;
	NM_CUDA_FN(cuMemCreate) mem_create;
	NM_CUDA_FN(cuMemRelease) mem_release;
	NM_CUDA_FN(cuMemAddressReserve) mem_address_reserve;
	NM_CUDA_FN(cuMemAddressFree) mem_address_free;
	NM_CUDA_FN(cuMemMap) mem_map;
	NM_CUDA_FN(cuMemUnmap) mem_unmap;
	NM_CUDA_FN(cuMemSetAccess) mem_set_access;
	NM_CUDA_FN(cuMemGetHandleForAddressRange) mem_get_handle;
	NM_CUDA_FN(cuMemcpyHtoD) memcpy_htod;
	NM_CUDA_FN(cuMemcpyDtoH) memcpy_dtoh;
	NM_CUDA_FN(cuMemAlloc) mem_alloc;
	NM_CUDA_FN(cuMemFree) mem_free;
	NM_CUDA_FN(cuModuleLoadData) module_load_data;
	NM_CUDA_FN(cuModuleUnload) module_unload;
	NM_CUDA_FN(cuModuleGetFunction) module_get_function;
	NM_CUDA_FN(cuLaunchKernel) launch_kernel;
	/* Not the driver's: how the exported fd becomes an nm_dmabuf
	 * (nm_dmabuf_import; a fake driver, whose fds are memfds, brings
	 * its own). */
	int (*import)(int fd, struct nm_dmabuf **out, struct nm_err *err);
};

/*
 * The driver's table, loaded once per process (libcuda.so.1 stays loaded:
 * the driver does not support being unloaded). -ENOENT: no driver
 * installed; -ENOSYS: a driver too old for a needed entry point.
 */
int nm_cuda_api_get(const struct nm_cuda_api **out, struct nm_err *err);

/* "CUDA_ERROR_NO_DEVICE" for @r, or "CUDA error N". @buf: room for the latter. */
const char *nm_cuda_errname(const struct nm_cuda_api *api, CUresult r,
			    char *buf, size_t len);

/* nm_dmabuf_create_cuda() with an explicit table (the test hook). */
int nm_cuda_dmabuf_create_with(const struct nm_cuda_api *api, uint64_t size,
			       int gpu, bool exported, struct nm_dmabuf **out,
			       struct nm_err *err);

/* nm_cuda_check_pattern() with an explicit kernel image (NULL: none). */
int nm_cuda_check_pattern_with(struct nm_dmabuf *buf, const void *image,
			       const struct nm_cuda_span *spans, unsigned int n,
			       uint32_t seed, uint64_t *bad, struct nm_err *err);

/* The device memory behind a cuda dmabuf (dev_priv), for the GPU check. */
struct nm_cuda_mem {
	const struct nm_cuda_api *api;
	CUdevice dev;
	int ordinal;
	CUcontext ctx;              /* the primary context, retained */
	bool vmm;                   /* cuMemCreate + map, else cuMemAlloc */
	CUmemGenericAllocationHandle handle;
	CUdeviceptr base;
	uint64_t size;
	CUmodule module;            /* the check kernel's, loaded on first use */
	CUfunction check_fn;
	CUdeviceptr scratch;        /* the check's count and spans, kept */
	size_t scratch_size;
};

extern const struct nm_dmabuf_dev_ops nm_cuda_dev_ops;

/* Make @m's context current on this thread (pushed); pop it after. */
int nm_cuda_mem_enter(const struct nm_cuda_mem *m, struct nm_err *err);
void nm_cuda_mem_leave(const struct nm_cuda_mem *m);

#endif
