/* SPDX-License-Identifier: MIT */
/*
 * What a GPU dmabuf gets, as test cases shared by the fake-driver unit test
 * (tests/lib/test_dmabuf_cuda.c) and the GPU test (tests/lib/test_cuda_gpu.c).
 * The including file defines the buffer and the check:
 *
 *   static int cases_make(struct nm_dmabuf **out, struct nm_err *err);
 *   static int cases_check(struct nm_dmabuf *buf, const struct nm_cuda_span *s,
 *                          unsigned int n, uint32_t seed, uint64_t *bad,
 *                          struct nm_err *err);
 *
 * and may SKIP inside cases_make (return 1) when there is no GPU.
 */
#ifndef NM_TEST_CUDA_CASES_H
#define NM_TEST_CUDA_CASES_H

#include <netmem/cuda.h>
#include <netmem/netmem.h>
#include <netmem/sim.h>

#include "nm_test.h"
#include "sim_flow.h"

static int cases_make(struct nm_dmabuf **out, struct nm_err *err);
static int cases_check(struct nm_dmabuf *buf, const struct nm_cuda_span *s,
		       unsigned int n, uint32_t seed, uint64_t *bad, struct nm_err *err);

#define CASES_MAKE(buf) do { \
	struct nm_err _e = { 0 }; \
	int _r = cases_make(&(buf), &_e); \
	if (_r == 1) \
		return; \
	CHECK_MSG(_r == 0, "cuda dmabuf: %d %s", _r, _e.msg); \
	} while (0)

/* Import: device memory, no CPU mapping. */
static void cuda_case_import(void)
{
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf;
	void *p;

	CASES_MAKE(buf);
	printf("# exporter '%s', %llu MiB at device address %#llx\n", buf->exporter,
	       (unsigned long long)(buf->size >> 20), (unsigned long long)buf->dev_addr);
	CHECK(nm_dmabuf_is_cuda(buf));
	CHECK(!buf->cpu_mappable);
	CHECK(buf->dev_addr != 0);
	CHECK_EQ(nm_dmabuf_cpu_map(buf, &p, &err), -ENODEV);
	CHECK(strstr(err.msg, "does not let the CPU map") != NULL);
	nm_dmabuf_put(buf);
}

/* A stand-in for a VFIO type1 domain: it pins pages; count its maps. */
static int vfio_standin_maps;
static int vfio_standin_map(struct nm_dma_domain *d, void *va, uint64_t len,
			    uint64_t *iova, struct nm_err *err)
{
	(void)d; (void)va; (void)len; (void)iova; (void)err;
	vfio_standin_maps++;
	return 0;
}
static int vfio_standin_unmap(struct nm_dma_domain *d, uint64_t iova, uint64_t len)
{
	(void)d; (void)iova; (void)len;
	return 0;
}
static void vfio_standin_destroy(struct nm_dma_domain *d)
{
	free(d);
}
static const struct nm_dma_domain_ops vfio_standin_ops = {
	.kind = "vfio-type1 (stand-in)", .pins_pages = true,
	.map = vfio_standin_map, .unmap = vfio_standin_unmap,
	.destroy = vfio_standin_destroy,
};
/* VFIO type1 cannot map device memory: refused at binding create, with the
 * reason and the way out, before any mapping. */
static void cuda_case_vfio_refused(void)
{
	struct nm_dma_domain *dom;
	struct nm_err err = { 0 };
	struct nm_dmabuf_binding *b = NULL;
	struct nm_dmabuf *buf;

	CASES_MAKE(buf);
	dom = calloc(1, sizeof(*dom));
	CHECK(dom != NULL);
	dom->ops = &vfio_standin_ops;
	atomic_init(&dom->refs, 1);
	vfio_standin_maps = 0;
	CHECK_EQ(nm_dmabuf_binding_create(dom, buf, NULL, &b, &err), -EOPNOTSUPP);
	printf("# refused: %s\n", err.msg);
	CHECK(strstr(err.msg, "VFIO type1") != NULL);
	CHECK(strstr(err.msg, "iommufd") != NULL);
	CHECK(b == NULL);
	CHECK_EQ(vfio_standin_maps, 0);
	CHECK_EQ(atomic_load(&dom->refs), 1);  /* nothing kept */
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_dmabuf_put(buf);
	nm_dma_domain_put(dom);
}

/* The software NIC receives into GPU memory through the copy engine; the
 * GPU checks the payload; a byte changed on the GPU is caught. */
static void cuda_case_sim_receive(void)
{
	struct nm_sim_params sp = { .num_rx_queues = 2, .ring_size = 128,
				    .no_hugepages = true };
	struct nm_sim *sim = NULL;
	struct nm_err err = { 0 };
	struct nm_dmabuf_binding *b;
	struct nm_dmabuf *buf;
	struct nm_sim_rxq_stats st;
	struct test_flow tf;
	struct nm_cuda_span spans[64], last = { 0 };
	uint64_t bad, bad_total = 0, frames = 0, stream = 0;
	uint8_t wrong;

	CASES_MAKE(buf);
	CHECK_EQ(nm_sim_create(&sp, &sim, &err), 0);
	CHECK_MSG(nm_dmabuf_binding_create(nm_sim_netdev(sim)->dma, buf, NULL, &b, &err) == 0,
		  "%s", err.msg);
	CHECK_EQ(b->iova, buf->dev_addr);
	/* Device memory has no CPU address, even where it is mapped. */
	CHECK(nm_dma_translate(nm_sim_netdev(sim)->dma, b->iova, 64) == NULL);
	CHECK_MSG(nm_dmabuf_binding_bind_rxq(b, nm_sim_netdev(sim), 1, &err) == 0, "%s", err.msg);
	test_flow_init(&tf, "tcp6", 7100, 3000);
	CHECK_EQ(nm_sim_steer(sim, &tf.flow, 1), 0);
	for (int round = 0; round < 40; round++) {
		struct nm_rx_pkt pkts[64];
		unsigned int n;

		CHECK_EQ(test_flow_send(sim, &tf, 64), 64);
		n = nm_sim_rx_burst(sim, 1, pkts, 64);
		CHECK_EQ(n, 64);
		for (unsigned int i = 0; i < n; i++) {
			CHECK(nm_netmem_is_net_iov(pkts[i].payload));
			CHECK(pkts[i].flags & NM_RX_PKT_SPLIT);
			spans[i] = (struct nm_cuda_span){
				.off = nm_net_iov_offset(nm_netmem_to_net_iov(pkts[i].payload)),
				.stream_off = stream, .len = pkts[i].payload_len };
			stream += pkts[i].payload_len;
		}
		last = spans[0];
		CHECK_MSG(cases_check(buf, spans, n, tf.seed, &bad, &err) == 0, "%s", err.msg);
		bad_total += bad;
		frames += n;
		for (unsigned int i = 0; i < n; i++) {
			nm_netmem_put(pkts[i].payload);
			nm_netmem_put(pkts[i].hdr);
		}
	}
	CHECK_EQ(frames, 40 * 64);
	CHECK_EQ(bad_total, 0);
	nm_sim_rxq_stats(sim, 1, &st);
	CHECK_EQ(st.payload_bytes, tf.sent);
	CHECK_EQ(st.dma_faults, 0);
	/* The check can fail: one byte of the last round's first frame (no
	 * traffic since, so its buffer still holds it) changed on the GPU. */
	CHECK(last.len > 100);
	CHECK_EQ(cases_check(buf, &last, 1, tf.seed, &bad, &err), 0);
	CHECK_EQ(bad, 0);
	wrong = (uint8_t)(nm_pattern_byte(last.stream_off + 17, tf.seed) + 1);
	CHECK_EQ(buf->dev_ops->write(buf, last.off + 17, &wrong, 1), 0);
	CHECK_EQ(cases_check(buf, &last, 1, tf.seed, &bad, &err), 0);
	CHECK_EQ(bad, 1);
	last.off = buf->size - 8;
	CHECK_EQ(cases_check(buf, &last, 1, tf.seed, &bad, &err), -EINVAL);
	nm_dmabuf_binding_unbind(b);
	nm_sim_destroy(sim);
	CHECK_EQ(atomic_load(&buf->refs), 1);
	nm_dmabuf_put(buf);
}

#endif
