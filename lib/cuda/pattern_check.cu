// SPDX-License-Identifier: MIT
// The payload check on the GPU: one block per span, each thread strides over
// the span's bytes and compares them with the test pattern (the same
// formula as nm_pattern_byte() in lib/include/netmem/pkt.h). A span with a
// wrong byte adds one to *bad. The bytes are read where they landed, in
// device memory; nothing is copied back but the count.

// Same layout as struct nm_cuda_span (lib/include/netmem/cuda.h).
struct nm_cuda_span {
	unsigned long long off;
	unsigned long long stream_off;
	unsigned int len;
	unsigned int reserved;
};

__device__ __forceinline__ unsigned char pattern_byte(unsigned long long o, unsigned int seed)
{
	return (unsigned char)((o ^ (o >> 8) ^ (o >> 16) ^ (o >> 24)) * 37u + seed);
}

extern "C" __global__ void nm_pattern_check_spans(const unsigned char *base,
						  const nm_cuda_span *spans,
						  unsigned int seed,
						  unsigned long long *bad)
{
	__shared__ int miss;
	const nm_cuda_span s = spans[blockIdx.x];

	if (threadIdx.x == 0)
		miss = 0;
	__syncthreads();
	for (unsigned int i = threadIdx.x; i < s.len; i += blockDim.x)
		if (base[s.off + i] != pattern_byte(s.stream_off + i, seed))
			miss = 1;
	__syncthreads();
	if (threadIdx.x == 0 && miss)
		atomicAdd(bad, 1ull);
}
