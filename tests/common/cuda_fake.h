/* SPDX-License-Identifier: MIT */
/*
 * A FAKE CUDA driver table (no GPU needed), shared by the fake-driver tests
 * (tests/lib/test_dmabuf_cuda.c, tests/dpdk/test_dpdk_cuda.c). Its "device
 * memory" is a PROT_NONE range, so a CPU load or store into it crashes; the
 * fake copy engine (cuMemcpyHtoD/DtoH) and the fake check kernel work on a
 * host shadow of it. Counters record what was taken and given back, and
 * step S_x fails with f.fail_with when f.fail == S_x.
 */
#ifndef NM_TEST_CUDA_FAKE_H
#define NM_TEST_CUDA_FAKE_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <netmem/pkt.h>

#include "../../lib/cuda/cuda_api.h"

#define GRAN (2u << 20)
#define FAKE_SIZE (8u << 20)

enum step {
	S_INIT, S_COUNT, S_RETAIN, S_GRAN, S_CREATE, S_RESERVE, S_MAP, S_ACCESS,
	S_HANDLE, S_IMPORT, S_NONE,
};

static struct fake {
	enum step fail;         /* this step fails */
	CUresult fail_with;
	int count, dmabuf_attr, vmm_attr;
	/* what was taken and given back */
	int retained, released, pushed, popped, created, mem_released;
	int reserved, addr_freed, mapped, unmapped, modules, unloads;
	int allocs, frees, legacy_allocs, legacy_frees;
	uint64_t htod_bytes, dev_htod_bytes;
	char log[256];          /* order of the release steps */
	uint8_t *dev;           /* PROT_NONE: the "device" range */
	uint8_t *shadow;        /* what it holds, for the fake copy engine */
	size_t dev_size;
} f;

static void logstep(const char *s)
{
	strncat(f.log, s, sizeof(f.log) - strlen(f.log) - 1);
}

static CUresult step_result(enum step s)
{
	return f.fail == s ? f.fail_with : CUDA_SUCCESS;
}

static CUresult fk_init(unsigned int fl) { (void)fl; return step_result(S_INIT); }
static CUresult fk_version(int *v) { *v = 13000; return CUDA_SUCCESS; }
static CUresult fk_errname(CUresult r, const char **s)
{
	*s = r == CUDA_ERROR_NO_DEVICE ? "CUDA_ERROR_NO_DEVICE" :
	     r == CUDA_ERROR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY" :
	     r == CUDA_ERROR_NOT_SUPPORTED ? "CUDA_ERROR_NOT_SUPPORTED" : "CUDA_ERROR_UNKNOWN";
	return CUDA_SUCCESS;
}
static CUresult fk_count(int *n)
{
	*n = f.count;
	return step_result(S_COUNT);
}
static CUresult fk_get(CUdevice *d, int i) { *d = i; return CUDA_SUCCESS; }
static CUresult fk_name(char *n, int len, CUdevice d)
{
	(void)d;
	snprintf(n, (size_t)len, "Fake GPU");
	return CUDA_SUCCESS;
}
static CUresult fk_attr(int *v, CUdevice_attribute a, CUdevice d)
{
	(void)d;
	*v = a == CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED ? f.dmabuf_attr :
	     a == CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED ? f.vmm_attr : 0;
	return CUDA_SUCCESS;
}
static CUresult fk_retain(CUcontext *c, CUdevice d)
{
	(void)d;
	if (f.fail == S_RETAIN)
		return f.fail_with;
	*c = (CUcontext)&f;
	f.retained++;
	return CUDA_SUCCESS;
}
static CUresult fk_release(CUdevice d) { (void)d; f.released++; logstep("ctx "); return CUDA_SUCCESS; }
static CUresult fk_push(CUcontext c) { (void)c; f.pushed++; return CUDA_SUCCESS; }
static CUresult fk_pop(CUcontext *c) { *c = NULL; f.popped++; return CUDA_SUCCESS; }
static CUresult fk_sync(void) { return CUDA_SUCCESS; }
static CUresult fk_gran(size_t *g, const CUmemAllocationProp *p, CUmemAllocationGranularity_flags fl)
{
	(void)p; (void)fl;
	*g = GRAN;
	return step_result(S_GRAN);
}
static CUresult fk_create(CUmemGenericAllocationHandle *h, size_t size,
			  const CUmemAllocationProp *p, unsigned long long fl)
{
	(void)p; (void)fl;
	if (f.fail == S_CREATE)
		return f.fail_with;
	*h = 42;
	f.created++;
	f.dev_size = size;
	return CUDA_SUCCESS;
}
static CUresult fk_mem_release(CUmemGenericAllocationHandle h)
{
	(void)h;
	f.mem_released++;
	logstep("mem ");
	return CUDA_SUCCESS;
}
static CUresult fk_reserve(CUdeviceptr *p, size_t size, size_t al, CUdeviceptr a,
			   unsigned long long fl)
{
	(void)al; (void)a; (void)fl;
	if (f.fail == S_RESERVE)
		return f.fail_with;
	f.dev = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	f.shadow = calloc(1, size);
	*p = (CUdeviceptr)(uintptr_t)f.dev;
	f.reserved++;
	return CUDA_SUCCESS;
}
static CUresult fk_addr_free(CUdeviceptr p, size_t size)
{
	munmap((void *)(uintptr_t)p, size);
	free(f.shadow);
	f.shadow = NULL;
	f.addr_freed++;
	logstep("addr ");
	return CUDA_SUCCESS;
}
static CUresult fk_map(CUdeviceptr p, size_t s, size_t o, CUmemGenericAllocationHandle h,
		       unsigned long long fl)
{
	(void)p; (void)s; (void)o; (void)h; (void)fl;
	if (f.fail == S_MAP)
		return f.fail_with;
	f.mapped++;
	return CUDA_SUCCESS;
}
static CUresult fk_unmap(CUdeviceptr p, size_t s)
{
	(void)p; (void)s;
	f.unmapped++;
	logstep("unmap ");
	return CUDA_SUCCESS;
}
static CUresult fk_access(CUdeviceptr p, size_t s, const CUmemAccessDesc *d, size_t n)
{
	(void)p; (void)s; (void)d; (void)n;
	return step_result(S_ACCESS);
}
static CUresult fk_handle(void *h, CUdeviceptr p, size_t s, CUmemRangeHandleType t,
			  unsigned long long fl)
{
	int fd;

	(void)p; (void)fl;
	if (f.fail == S_HANDLE)
		return f.fail_with;
	if (t != CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD)
		return CUDA_ERROR_INVALID_VALUE;
	/* A memfd of the size stands in for the driver's dmabuf. */
	fd = memfd_create("fake-cuda-dmabuf", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)s))
		return CUDA_ERROR_UNKNOWN;
	*(int *)h = fd;
	return CUDA_SUCCESS;
}
/* The "device" address @p as host memory: the range's shadow, or a
 * scratch allocation (host malloc, address as is). */
static void *fk_host(CUdeviceptr p)
{
	uint8_t *a = (uint8_t *)(uintptr_t)p;

	if (f.dev && a >= f.dev && a < f.dev + f.dev_size)
		return f.shadow + (a - f.dev);
	return a;
}
static CUresult fk_htod(CUdeviceptr d, const void *s, size_t n)
{
	uint8_t *a = (uint8_t *)(uintptr_t)d;

	memcpy(fk_host(d), s, n);
	f.htod_bytes += n;
	if (f.dev && a >= f.dev && a < f.dev + f.dev_size)
		f.dev_htod_bytes += n;   /* into the buffer, not the check's scratch */
	return CUDA_SUCCESS;
}
static CUresult fk_dtoh(void *d, CUdeviceptr s, size_t n)
{
	memcpy(d, fk_host(s), n);
	return CUDA_SUCCESS;
}
/* cuMemAlloc: the buffer itself without VMM (a PROT_NONE range, as with
 * cuMemCreate), or the check's small scratch (host memory). */
static CUresult fk_alloc(CUdeviceptr *p, size_t n)
{
	if (n >= GRAN) {
		f.dev = mmap(NULL, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			     -1, 0);
		f.shadow = calloc(1, n);
		f.dev_size = n;
		*p = (CUdeviceptr)(uintptr_t)f.dev;
		f.legacy_allocs++;
		return CUDA_SUCCESS;
	}
	*p = (CUdeviceptr)(uintptr_t)malloc(n);
	f.allocs++;
	return CUDA_SUCCESS;
}
static CUresult fk_free(CUdeviceptr p)
{
	if (f.dev && (uint8_t *)(uintptr_t)p == f.dev) {
		munmap(f.dev, f.dev_size);
		free(f.shadow);
		f.dev = f.shadow = NULL;
		f.legacy_frees++;
		logstep("free ");
		return CUDA_SUCCESS;
	}
	free((void *)(uintptr_t)p);
	f.frees++;
	return CUDA_SUCCESS;
}
static CUresult fk_load(CUmodule *m, const void *image)
{
	if (strcmp(image, "fake image"))
		return CUDA_ERROR_INVALID_IMAGE;
	*m = (CUmodule)&f.modules;
	f.modules++;
	return CUDA_SUCCESS;
}
static CUresult fk_unload(CUmodule m) { (void)m; f.unloads++; return CUDA_SUCCESS; }
static CUresult fk_getfn(CUfunction *fn, CUmodule m, const char *name)
{
	(void)m;
	if (strcmp(name, "nm_pattern_check_spans"))
		return CUDA_ERROR_NOT_FOUND;
	*fn = (CUfunction)&f;
	return CUDA_SUCCESS;
}
/* The kernel of lib/cuda/pattern_check.cu, run on the shadow from the
 * very arguments a real launch gets. */
static CUresult fk_launch(CUfunction fn, unsigned int gx, unsigned int gy, unsigned int gz,
			  unsigned int bx, unsigned int by, unsigned int bz, unsigned int shm,
			  CUstream st, void **args, void **extra)
{
	CUdeviceptr base = *(CUdeviceptr *)args[0];
	const struct nm_cuda_span *spans = fk_host(*(CUdeviceptr *)args[1]);
	uint32_t seed = *(uint32_t *)args[2];
	unsigned long long *bad = fk_host(*(CUdeviceptr *)args[3]);

	(void)fn; (void)gy; (void)gz; (void)bx; (void)by; (void)bz; (void)shm; (void)st;
	if (extra || !bx)
		return CUDA_ERROR_INVALID_VALUE;
	for (unsigned int b = 0; b < gx; b++) {
		const uint8_t *p = fk_host(base + spans[b].off);

		if (nm_pattern_check(p, spans[b].len, spans[b].stream_off, seed) != -1)
			(*bad)++;
	}
	return CUDA_SUCCESS;
}
static int fk_import(int fd, struct nm_dmabuf **out, struct nm_err *err)
{
	off_t size = lseek(fd, 0, SEEK_END);

	if (f.fail == S_IMPORT)
		return nm_err_set(err, -ENOTTY, "fd %d is not a dmabuf (fake import)", fd);
	return nm_dmabuf_create_memfd((uint64_t)size, out, err);
}

static const struct nm_cuda_api fake_api = {
	.init = fk_init, .driver_get_version = fk_version, .get_error_name = fk_errname,
	.device_get_count = fk_count, .device_get = fk_get, .device_get_name = fk_name,
	.device_get_attribute = fk_attr, .primary_ctx_retain = fk_retain,
	.primary_ctx_release = fk_release, .ctx_push = fk_push, .ctx_pop = fk_pop,
	.ctx_synchronize = fk_sync, .mem_get_granularity = fk_gran, .mem_create = fk_create,
	.mem_release = fk_mem_release, .mem_address_reserve = fk_reserve,
	.mem_address_free = fk_addr_free, .mem_map = fk_map, .mem_unmap = fk_unmap,
	.mem_set_access = fk_access, .mem_get_handle = fk_handle, .memcpy_htod = fk_htod,
	.memcpy_dtoh = fk_dtoh, .mem_alloc = fk_alloc, .mem_free = fk_free,
	.module_load_data = fk_load, .module_unload = fk_unload,
	.module_get_function = fk_getfn, .launch_kernel = fk_launch, .import = fk_import,
};

static void fake_reset(void)
{
	memset(&f, 0, sizeof(f));
	f.fail = S_NONE;
	f.count = 1;
	f.dmabuf_attr = f.vmm_attr = 1;
}

#endif
