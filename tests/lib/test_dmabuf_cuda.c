/* SPDX-License-Identifier: MIT */
/*
 * The cuda: source against a FAKE CUDA driver table (no GPU needed): every
 * error path says why and releases what it took, exactly once; the last
 * put frees the memory once and then drops the context; the software NIC's
 * payload goes through the copy engine (the fake's device memory is a
 * PROT_NONE range, so a CPU store would crash); the check kernel's launch
 * arguments are the ones the fake kernel reads. This tests our plumbing, not
 * a GPU: tests/lib/test_cuda_gpu.c (scripts/gpu-check.sh) is the proof.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../lib/cuda/cuda_api.h"
#include "cuda_cases.h"

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
	uint64_t htod_bytes;
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
	memcpy(fk_host(d), s, n);
	f.htod_bytes += n;
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

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* Everything taken was given back, once. */
#define CHECK_BALANCED() do { \
	CHECK_EQ(f.retained, f.released); \
	CHECK_EQ(f.pushed, f.popped); \
	CHECK_EQ(f.created, f.mem_released); \
	CHECK_EQ(f.reserved, f.addr_freed); \
	CHECK_EQ(f.mapped, f.unmapped); \
	CHECK_EQ(f.modules, f.unloads); \
	CHECK_EQ(f.allocs, f.frees); \
	CHECK_EQ(f.legacy_allocs, f.legacy_frees); \
	} while (0)

static bool fake_unexported;   /* cudamem: instead of cuda: */

static int cases_make(struct nm_dmabuf **out, struct nm_err *err)
{
	fake_reset();
	return nm_cuda_dmabuf_create_with(&fake_api, FAKE_SIZE, 0, !fake_unexported, out, err);
}

static int cases_check(struct nm_dmabuf *buf, const struct nm_cuda_span *s,
		       unsigned int n, uint32_t seed, uint64_t *bad, struct nm_err *err)
{
	return nm_cuda_check_pattern_with(buf, "fake image", s, n, seed, bad, err);
}

/* One failing step: the errno, a phrase of the reason, nothing leaked. */
static int expect_failure(enum step s, CUresult r, uint64_t size, int gpu, int want,
			  const char *phrase)
{
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf = NULL;
	int fds = open_fds(), ret;

	f.fail = s;
	f.fail_with = r;
	ret = nm_cuda_dmabuf_create_with(&fake_api, size, gpu, true, &buf, &err);
	printf("# step %d: %d %s\n", s, ret, err.msg);
	if (ret != want || !strstr(err.msg, phrase) || buf || open_fds() != fds ||
	    f.retained != f.released || f.pushed != f.popped || f.created != f.mem_released ||
	    f.reserved != f.addr_freed || f.mapped != f.unmapped ||
	    f.legacy_allocs != f.legacy_frees)
		return -1;
	return 0;
}

static void test_error_paths(void)
{
	fake_reset();
	CHECK_EQ(expect_failure(S_INIT, CUDA_ERROR_NO_DEVICE, FAKE_SIZE, 0, -ENODEV,
				"sees no GPU"), 0);
	fake_reset();
	CHECK_EQ(expect_failure(S_INIT, CUDA_ERROR_UNKNOWN, FAKE_SIZE, 0, -ENODEV,
				"cuInit: CUDA_ERROR_UNKNOWN"), 0);
	fake_reset();
	f.count = 2;
	CHECK_EQ(expect_failure(S_NONE, 0, FAKE_SIZE, 2, -ENODEV,
				"there is no GPU 2: 2 GPUs here"), 0);
	fake_reset();
	CHECK_EQ(expect_failure(S_NONE, 0, FAKE_SIZE, -1, -ENODEV, "there is no GPU -1"), 0);
	fake_reset();
	f.dmabuf_attr = 0;
	CHECK_EQ(expect_failure(S_NONE, 0, FAKE_SIZE, 0, -EOPNOTSUPP,
				"cannot export GPU 0 (Fake GPU) memory as a dmabuf"), 0);
	CHECK_EQ(f.retained, 0);
	fake_reset();
	CHECK_EQ(expect_failure(S_RETAIN, CUDA_ERROR_UNKNOWN, FAKE_SIZE, 0, -ENODEV,
				"cuDevicePrimaryCtxRetain"), 0);
	fake_reset();
	CHECK_EQ(expect_failure(S_NONE, 0, 3u << 20, 0, -EINVAL,
				"granularity (2048 KiB)"), 0);
	CHECK_EQ(f.retained, 1);
	fake_reset();
	CHECK_EQ(expect_failure(S_NONE, 0, 0, 0, -EINVAL, "size must be > 0"), 0);
	fake_reset();
	CHECK_EQ(expect_failure(S_GRAN, CUDA_ERROR_UNKNOWN, FAKE_SIZE, 0, -EIO,
				"cuMemGetAllocationGranularity"), 0);
	fake_reset();
	CHECK_EQ(expect_failure(S_CREATE, CUDA_ERROR_OUT_OF_MEMORY, FAKE_SIZE, 0, -ENOMEM,
				"cuMemCreate of 8 MiB on GPU 0 (Fake GPU): CUDA_ERROR_OUT_OF_MEMORY"), 0);
	fake_reset();
	CHECK_EQ(expect_failure(S_RESERVE, CUDA_ERROR_UNKNOWN, FAKE_SIZE, 0, -ENOMEM,
				"cuMemAddressReserve"), 0);
	CHECK_EQ(f.created, 1);
	fake_reset();
	CHECK_EQ(expect_failure(S_MAP, CUDA_ERROR_UNKNOWN, FAKE_SIZE, 0, -EIO, "cuMemMap"), 0);
	CHECK_EQ(f.reserved, 1);
	fake_reset();
	CHECK_EQ(expect_failure(S_ACCESS, CUDA_ERROR_UNKNOWN, FAKE_SIZE, 0, -EIO,
				"cuMemSetAccess"), 0);
	CHECK_EQ(f.mapped, 1);
	fake_reset();
	CHECK_EQ(expect_failure(S_HANDLE, CUDA_ERROR_NOT_SUPPORTED, FAKE_SIZE, 0, -EOPNOTSUPP,
				"would not export this memory as a dmabuf"), 0);
	fake_reset();
	CHECK_EQ(expect_failure(S_IMPORT, 0, FAKE_SIZE, 0, -ENOTTY, "fake import"), 0);
	CHECK_EQ(f.mapped, 1);
	CHECK_EQ(f.released, 1);
}

/* The last put, and only it, frees the memory once, then the context. */
static void test_release_order(void)
{
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf;
	int fds = open_fds();

	CHECK_EQ(cases_make(&buf, &err), 0);
	CHECK_EQ(f.retained, 1);
	CHECK_EQ(f.pushed, f.popped);
	nm_dmabuf_get(buf);
	nm_dmabuf_put(buf);
	CHECK_EQ(f.unmapped + f.addr_freed + f.mem_released + f.released, 0);
	nm_dmabuf_put(buf);
	CHECK_EQ(f.unmapped, 1);
	CHECK_EQ(f.addr_freed, 1);
	CHECK_EQ(f.mem_released, 1);
	CHECK_EQ(f.released, 1);
	CHECK_MSG(!strcmp(f.log, "unmap addr mem ctx "), "release order '%s'", f.log);
	CHECK_BALANCED();
	CHECK_EQ(open_fds(), fds);
}

/* Without VMM (the attribute, or cuMemCreate saying NOT_SUPPORTED): the
 * same buffer from cuMemAlloc, freed once by the last put, before the
 * context; the software NIC path is the same. */
static void test_without_vmm(void)
{
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf;
	int fds = open_fds();

	fake_reset();
	f.vmm_attr = 0;
	CHECK_EQ(nm_cuda_dmabuf_create_with(&fake_api, 3u << 20, 0, true, &buf, &err), 0);
	CHECK_EQ(f.created + f.reserved, 0);
	CHECK_EQ(f.legacy_allocs, 1);
	CHECK_EQ(buf->dev_addr, (uint64_t)(uintptr_t)f.dev);
	nm_dmabuf_put(buf);
	CHECK_MSG(!strcmp(f.log, "free ctx "), "release order '%s'", f.log);
	CHECK_BALANCED();
	fake_reset();
	f.fail = S_CREATE;
	f.fail_with = CUDA_ERROR_NOT_SUPPORTED;
	CHECK_EQ(nm_cuda_dmabuf_create_with(&fake_api, FAKE_SIZE, 0, true, &buf, &err), 0);
	CHECK_EQ(f.legacy_allocs, 1);
	nm_dmabuf_put(buf);
	CHECK_BALANCED();
	fake_reset();
	f.vmm_attr = 0;
	CHECK_EQ(expect_failure(S_NONE, 0, 4097, 0, -EINVAL, "host page"), 0);
	CHECK_EQ(open_fds(), fds);
}

/* The check: its module is loaded once, unloaded by the last put; no image
 * (built without nvcc) and a driver that rejects the image are reported. */
static void test_check_kernel(void)
{
	struct nm_err err = { 0 };
	struct nm_cuda_span s = { .off = 0, .stream_off = 0, .len = 4096 };
	struct nm_dmabuf *buf;
	uint64_t bad = 99;
	uint8_t page[4096];

	CHECK_EQ(cases_make(&buf, &err), 0);
	CHECK_EQ(nm_cuda_check_pattern_with(buf, NULL, &s, 1, 5, &bad, &err), -ENOSYS);
	CHECK(strstr(err.msg, "without nvcc") != NULL);
	CHECK_EQ(nm_cuda_check_pattern_with(buf, "other image", &s, 1, 5, &bad, &err), -EIO);
	CHECK(strstr(err.msg, "cuModuleLoadData") != NULL);
	nm_pattern_fill(page, sizeof(page), 0, 5);
	CHECK_EQ(buf->dev_ops->write(buf, 0, page, sizeof(page)), 0);
	CHECK_EQ(buf->dev_ops->write(buf, buf->size - 10, page, 20), -EFAULT);
	CHECK_EQ(cases_check(buf, &s, 1, 5, &bad, &err), 0);
	CHECK_EQ(bad, 0);
	CHECK_EQ(cases_check(buf, &s, 1, 6, &bad, &err), 0);
	CHECK_EQ(bad, 1);
	CHECK_EQ(f.modules, 1);
	CHECK_EQ(f.allocs, 1);          /* scratch kept between checks... */
	CHECK_EQ(f.frees, 0);
	nm_dmabuf_put(buf);             /* ...and freed with the memory */
	CHECK_BALANCED();
	/* Host memory is not cuda memory. */
	CHECK_EQ(nm_dmabuf_create_memfd(1 << 20, &buf, NULL), 0);
	CHECK_EQ(nm_cuda_check_pattern_with(buf, "fake image", &s, 1, 5, &bad, &err), -EINVAL);
	nm_dmabuf_put(buf);
}

/* Through the software NIC: bytes went through the fake copy engine. */
static void test_sim_receive(void)
{
	cuda_case_sim_receive();
	if (nm_test_failed)
		return;
	CHECK(f.htod_bytes >= 40 * 64 * 3000);
	CHECK_BALANCED();
}

/* cudamem: where the driver exports no dmabuf: the same memory, no fd,
 * the same software NIC path. */
static void test_unexported(void)
{
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf;
	int fds = open_fds();

	fake_reset();
	f.dmabuf_attr = 0;
	CHECK_EQ(nm_cuda_dmabuf_create_with(&fake_api, FAKE_SIZE, 0, false, &buf, &err), 0);
	CHECK(nm_dmabuf_is_cuda(buf));
	CHECK(buf->emulated);
	CHECK_EQ(buf->fd, -1);
	CHECK(!buf->cpu_mappable);
	nm_dmabuf_put(buf);
	CHECK_BALANCED();
	CHECK_EQ(open_fds(), fds);
	fake_unexported = true;
	cuda_case_sim_receive();
	fake_unexported = false;
	if (nm_test_failed)
		return;
	CHECK(f.htod_bytes >= 40 * 64 * 3000);
	CHECK_BALANCED();
}

/* The spec parser: bad input refused before any driver is touched. */
static void test_spec(void)
{
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf = NULL;

	CHECK_EQ(nm_dmabuf_open_spec("cuda:lots", &buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "bad size") != NULL);
	CHECK_EQ(nm_dmabuf_open_spec("cuda:64M:x", &buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "GPU must be a device index") != NULL);
	CHECK_EQ(nm_dmabuf_open_spec("cuda:64M:", &buf, &err), -EINVAL);
	CHECK_EQ(nm_dmabuf_open_spec("cuda:", &buf, &err), -EINVAL);
	CHECK_EQ(nm_dmabuf_open_spec("cudamem:1x", &buf, &err), -EINVAL);
	CHECK(buf == NULL);
}

NM_TEST_MAIN(NM_TEST(test_error_paths), NM_TEST(test_release_order),
	     NM_TEST(test_check_kernel), NM_TEST(cuda_case_import),
	     NM_TEST(cuda_case_vfio_refused), NM_TEST(test_sim_receive),
	     NM_TEST(test_unexported), NM_TEST(test_without_vmm), NM_TEST(test_spec))
