/* SPDX-License-Identifier: MIT */
/*
 * The payload check on the GPU: the kernel of pattern_check.cu, built by
 * nvcc into a fatbin at build time and embedded here, loaded into the
 * dmabuf's context on first use and launched through the driver table.
 * Only the spans go to the GPU and only a count comes back.
 */
#include <errno.h>
#include <stdio.h>

#include <netmem/cuda.h>

#ifdef NM_HAVE_CUDA_H
#include "cuda_api.h"

#ifdef NM_HAVE_CUDA_KERNEL
extern const unsigned char nm_cuda_pattern_image[];
extern const size_t nm_cuda_pattern_image_len;
#define CHECK_IMAGE nm_cuda_pattern_image
#else
#define CHECK_IMAGE NULL
#endif

#define THREADS 256u

static int load_kernel(struct nm_cuda_mem *m, const void *image, struct nm_err *err)
{
	char ebuf[32];
	CUresult r;

	if (m->check_fn)
		return 0;
	if (!image)
		return nm_err_set(err, -ENOSYS,
				  "cuda: netmem was built without nvcc, so it has no GPU check "
				  "kernel; rebuild where the CUDA toolkit's nvcc is");
	r = m->api->module_load_data(&m->module, image);
	if (r != CUDA_SUCCESS)
		return nm_err_set(err, -EIO,
				  "cuModuleLoadData (check kernel): %s (a driver older than the "
				  "toolkit that built it?)", nm_cuda_errname(m->api, r, ebuf, sizeof(ebuf)));
	r = m->api->module_get_function(&m->check_fn, m->module, "nm_pattern_check_spans");
	if (r != CUDA_SUCCESS) {
		m->api->module_unload(m->module);
		m->module = NULL;
		return nm_err_set(err, -EIO, "cuModuleGetFunction: %s",
				  nm_cuda_errname(m->api, r, ebuf, sizeof(ebuf)));
	}
	return 0;
}

int nm_cuda_check_pattern_with(struct nm_dmabuf *buf, const void *image,
			       const struct nm_cuda_span *spans, unsigned int n,
			       uint32_t seed, uint64_t *bad, struct nm_err *err)
{
	struct nm_cuda_mem *m;
	const struct nm_cuda_api *api;
	CUdeviceptr dspans, dbad;
	unsigned long long count = 0;
	size_t bytes = (size_t)n * sizeof(*spans) + sizeof(count);
	char ebuf[32];
	void *args[4];
	CUresult r;
	int ret;

	if (!nm_dmabuf_is_cuda(buf))
		return nm_err_set(err, -EINVAL, "not cuda device memory");
	m = buf->dev_priv;
	api = m->api;
	for (unsigned int i = 0; i < n; i++)
		if (spans[i].off > buf->size || spans[i].len > buf->size - spans[i].off)
			return nm_err_set(err, -EINVAL, "span %u (%llu+%u) is outside the %llu-byte buffer",
					  i, (unsigned long long)spans[i].off, spans[i].len,
					  (unsigned long long)buf->size);
	*bad = 0;
	if (!n)
		return 0;
	ret = nm_cuda_mem_enter(m, err);
	if (ret)
		return ret;
	ret = load_kernel(m, image, err);
	if (ret)
		goto out;
	/* Kept from call to call (freed with the memory): a cuMemFree per
	 * burst would wait for the GPU each time. */
	if (m->scratch_size < bytes) {
		if (m->scratch)
			api->mem_free(m->scratch);
		m->scratch = 0;
		m->scratch_size = 0;
		r = api->mem_alloc(&m->scratch, bytes);
		if (r != CUDA_SUCCESS) {
			ret = nm_err_set(err, -ENOMEM, "cuMemAlloc of %zu bytes: %s", bytes,
					 nm_cuda_errname(api, r, ebuf, sizeof(ebuf)));
			goto out;
		}
		m->scratch_size = bytes;
	}
	/* The count first (8-byte aligned), then the spans. */
	dbad = m->scratch;
	dspans = m->scratch + sizeof(count);
	r = api->memcpy_htod(dbad, &count, sizeof(count));
	if (r == CUDA_SUCCESS)
		r = api->memcpy_htod(dspans, spans, (size_t)n * sizeof(*spans));
	if (r != CUDA_SUCCESS) {
		ret = nm_err_set(err, -EIO, "cuMemcpyHtoD (spans): %s",
				 nm_cuda_errname(api, r, ebuf, sizeof(ebuf)));
		goto out;
	}
	args[0] = &m->base;
	args[1] = &dspans;
	args[2] = &seed;
	args[3] = &dbad;
	r = api->launch_kernel(m->check_fn, n, 1, 1, THREADS, 1, 1, 0, NULL, args, NULL);
	if (r != CUDA_SUCCESS) {
		ret = nm_err_set(err, -EIO, "cuLaunchKernel (check): %s",
				 nm_cuda_errname(api, r, ebuf, sizeof(ebuf)));
		goto out;
	}
	/* Synchronous on the legacy stream: after the kernel, as were the
	 * copy engine's writes before it. */
	r = api->memcpy_dtoh(&count, dbad, sizeof(count));
	if (r != CUDA_SUCCESS) {
		ret = nm_err_set(err, -EIO, "check kernel: %s",
				 nm_cuda_errname(api, r, ebuf, sizeof(ebuf)));
		goto out;
	}
	*bad = count;
out:
	nm_cuda_mem_leave(m);
	return ret;
}

int nm_cuda_check_pattern(struct nm_dmabuf *buf, const struct nm_cuda_span *spans,
			  unsigned int n, uint32_t seed, uint64_t *bad,
			  struct nm_err *err)
{
	return nm_cuda_check_pattern_with(buf, CHECK_IMAGE, spans, n, seed, bad, err);
}

#endif
