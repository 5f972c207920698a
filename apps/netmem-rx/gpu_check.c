/* SPDX-License-Identifier: MIT */
/*
 * netmem-rx's payload check for GPU memory (--dmabuf cuda:SIZE): the spans
 * of one burst are checked by one CUDA kernel launch where they landed, so
 * the CPU never reads a payload byte. The buffers stay held until then.
 */
#include <stdio.h>

#include <netmem/cuda.h>

#include "netmem_rx.h"

bool gpu_check_wanted(const struct nm_dmabuf *buf)
{
	return nm_dmabuf_is_cuda(buf);
}

void gpu_check_print(const struct nm_dmabuf *buf)
{
	struct nm_err err = { 0 };
	char line[256];

	(void)buf;
	if (nm_cuda_describe(0, line, sizeof(line), &err) == 0)
		printf("gpu: %s\n", line);
	printf("payload check: on the GPU (CUDA kernel); the software NIC's DMA is the GPU's "
	       "copy engine; the CPU reads no payload byte\n");
}

void gpu_check_add(struct gpu_check *gc, uint64_t off, uint32_t len, uint64_t stream_off)
{
	gc->spans[gc->n++] = (struct nm_cuda_span){ .off = off, .stream_off = stream_off,
						    .len = len };
}

int gpu_check_flush(struct gpu_check *gc, uint64_t *mismatches)
{
	struct nm_err err = { 0 };
	uint64_t bad = 0;
	int ret;

	if (!gc->n)
		return 0;
	ret = nm_cuda_check_pattern(gc->buf, gc->spans, gc->n, gc->seed, &bad, &err);
	gc->n = 0;
	if (ret) {
		fprintf(stderr, "netmem-rx: GPU payload check: %s\n", err.msg);
		return ret;
	}
	*mismatches += bad;
	return 0;
}
