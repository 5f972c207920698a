/* SPDX-License-Identifier: MIT */
/*
 * cuda: on a real NVIDIA GPU and driver: the proof that
 * tests/lib/test_dmabuf_cuda.c (a fake driver) is not. Import, the VFIO
 * type1 refusal, the kernel bridge's refusal, the software NIC receiving
 * into GPU memory through the copy engine with the payload checked by a
 * CUDA kernel. Where there is no driver or GPU every test is skipped with
 * the exact reason; scripts/gpu-check.sh runs it where there is one.
 */
#include "cuda_cases.h"

#define GPU_SIZE "cuda:64M"

static char skip_msg[NM_ERR_MSG_LEN + 16];
static bool use_cudamem;   /* cudamem: (no dmabuf export) instead of cuda: */

/* Reasons a machine cannot run these at all (not failures of ours). */
static bool no_gpu_here(int ret)
{
	return ret == -ENOENT || ret == -ENOSYS || ret == -ENODEV || ret == -EOPNOTSUPP;
}

static int cases_make(struct nm_dmabuf **out, struct nm_err *err)
{
	int ret = nm_dmabuf_open_spec(use_cudamem ? "cudamem:64M" : GPU_SIZE, out, err);

	if (ret && no_gpu_here(ret)) {
		snprintf(skip_msg, sizeof(skip_msg), "%s", err->msg);
		nm_test_skip_reason = skip_msg;
		return 1;
	}
	return ret;
}

static int cases_check(struct nm_dmabuf *buf, const struct nm_cuda_span *s,
		       unsigned int n, uint32_t seed, uint64_t *bad, struct nm_err *err)
{
	return nm_cuda_check_pattern(buf, s, n, seed, bad, err);
}

static void test_describe(void)
{
	struct nm_err err = { 0 };
	char line[256];
	int ret = nm_cuda_describe(0, line, sizeof(line), &err);

	if (ret && no_gpu_here(ret)) {
		snprintf(skip_msg, sizeof(skip_msg), "%s", err.msg);
		SKIP(skip_msg);
	}
	CHECK_MSG(ret == 0, "%s", err.msg);
	printf("# %s\n", line);
}

/* The same memory imported as a plain dmabuf fd (as another process would
 * pass it): the kernel bridge is the only way VFIO type1 could pin it, and
 * the bridge refuses device memory (EOPNOTSUPP), or is not loaded. */
static void test_bridge_refuses(void)
{
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf, *plain;
	void *p;
	int ret;

	CASES_MAKE(buf);
	CHECK(buf->fd >= 0);
	CHECK_MSG(nm_dmabuf_import(buf->fd, &plain, &err) == 0, "%s", err.msg);
	printf("# as fd: exporter '%s', cpu_mappable %d\n", plain->exporter, plain->cpu_mappable);
	ret = nm_dmabuf_pin_addr(plain, &p, &err);
	printf("# pin for VFIO type1: %d %s\n", ret, err.msg);
	CHECK(ret != 0);
	CHECK(strstr(err.msg, "bridge") != NULL);
	CHECK(ret != -EOPNOTSUPP || strstr(err.msg, "netmem bridge refused") != NULL);
	nm_dmabuf_put(plain);
	nm_dmabuf_put(buf);
}

/* The copy engine and the GPU check on the memory without the export (for
 * drivers that cannot export a dmabuf: the path still runs). */
static void test_sim_receive_cudamem(void)
{
	use_cudamem = true;
	cuda_case_sim_receive();
	use_cudamem = false;
}

NM_TEST_MAIN(NM_TEST(test_describe), NM_TEST(cuda_case_import),
	     NM_TEST(cuda_case_vfio_refused), NM_TEST(test_bridge_refuses),
	     NM_TEST(cuda_case_sim_receive), NM_TEST(test_sim_receive_cudamem))
