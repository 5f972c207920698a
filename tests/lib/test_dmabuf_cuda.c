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
#include "cuda_fake.h"
#include "cuda_cases.h"

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
