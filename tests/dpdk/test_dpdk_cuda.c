/* SPDX-License-Identifier: MIT */
/*
 * A "dmabuf" pool on GPU memory (cuda:) with the ethdev adapter's buffer
 * split: headers in a host pool, payload in mbufs whose data the CPU cannot
 * read, checked by a CUDA kernel on the GPU.
 *
 * EAL runs --no-pci: no device here DMAs through VFIO type1, which cannot
 * map GPU memory (the pool's domain refuses such a device, with the reason).
 * The NIC is a stand-in for a PMD with buffer split whose DMA engine is the
 * GPU's copy engine: the adapter's ethdev calls for a net_ring port are a
 * table that reports buffer split and records the queue's setup; the
 * stand-in's receive writes each frame's headers with the CPU into an mbuf
 * of the header pool and its payload with nm_dma_write() on EAL's domain
 * (cuMemcpyHtoD into the payload mbuf's IOVA), then hands the chain to the
 * port's own ring, so rte_eth_rx_burst() delivers it. The CPU never loads
 * or stores a payload byte: the fake driver's device memory is PROT_NONE.
 *
 * Each case runs on the fake driver table (everywhere: it checks our
 * plumbing), then on the real driver with cuda: and cudamem: memory
 * (skipped, with the reason, without a GPU: scripts/gpu-check.sh runs them
 * where there is one).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <netmem/cuda.h>
#include <netmem/dpdk_ethdev.h>
#include <netmem/dpdk_mempool.h>
#include <netmem/netdev.h>
#include <netmem/pkt.h>

#include "internal.h"
#include "nm_test.h"
#include "dpdk_test.h"
#include "cuda_fake.h"

#define FAKE_SIZE (8u << 20)
#define NUM_MBUFS 512u
#define PAYLOAD 1000u
#define FRAMES 64u
#define SEED 0x6a7bu

static struct rte_mempool *host_pool, *hdr_pool;
static uint16_t ring_port;

/* ---- the memory: fake driver, or the real one --------------------------- */

enum kind { K_FAKE, K_CUDA, K_CUDAMEM };
static const char *const kind_spec[] = { "fake cuda:8M", "cuda:64M", "cudamem:64M" };

static struct {
	enum kind kind;
	struct nm_dmabuf *buf;      /* our reference; the pool holds its own */
	struct rte_mempool *pool;
	char skip[NM_ERR_MSG_LEN + 16];
} g;

/* 1: no GPU here for this kind (reason in g.skip). */
static int mem_open(struct nm_err *err)
{
	int ret;

	if (g.kind == K_FAKE) {
		fake_reset();
		return nm_cuda_dmabuf_create_with(&fake_api, FAKE_SIZE, 0, true, &g.buf, err);
	}
	ret = nm_dmabuf_open_spec(kind_spec[g.kind], &g.buf, err);
	if (ret == -ENOENT || ret == -ENOSYS || ret == -ENODEV || ret == -EOPNOTSUPP) {
		snprintf(g.skip, sizeof(g.skip), "%s", err->msg);
		return 1;
	}
	return ret;
}

static int gpu_check(const struct nm_cuda_span *s, unsigned int n, uint64_t *bad,
		     struct nm_err *err)
{
	if (g.kind == K_FAKE)
		return nm_cuda_check_pattern_with(g.buf, "fake image", s, n, SEED, bad, err);
	return nm_cuda_check_pattern(g.buf, s, n, SEED, bad, err);
}

/* ---- a stand-in PMD with buffer split, its DMA the copy engine ---------- */

static struct {
	const struct rte_device *dev;
	bool started;
	uint16_t nb_desc;
	struct rte_eth_rxconf conf;
	struct rte_mempool *mp;
	union rte_eth_rxseg segs[2];
	uint16_t nseg;
	char log[128];
} nic;

static int nic_info_get(uint16_t port, struct rte_eth_dev_info *info)
{
	int ret = rte_eth_dev_info_get(port, info);

	if (ret || port != ring_port)
		return ret;
	info->rx_queue_offload_capa |= RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT;
	info->rx_offload_capa |= RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT;
	info->rx_seg_capa.max_nseg = 2;
	info->rx_seg_capa.multi_pools = 1;
	info->dev_capa |= RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP;
	nic.dev = info->device;
	return 0;
}

static int nic_rxq_info_get(uint16_t port, uint16_t q, struct rte_eth_rxq_info *qi)
{
	if (port != ring_port)
		return rte_eth_rx_queue_info_get(port, q, qi);
	memset(qi, 0, sizeof(*qi));
	qi->mp = nic.mp ? nic.mp : nic.segs[0].split.mp;
	qi->conf = nic.conf;
	qi->conf.rx_nseg = nic.nseg;
	qi->nb_desc = nic.nb_desc;
	qi->queue_state = nic.started ? RTE_ETH_QUEUE_STATE_STARTED : RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

static int nic_rxq_setup(uint16_t port, uint16_t q, uint16_t nb_desc, unsigned int socket,
			 const struct rte_eth_rxconf *conf, struct rte_mempool *mp)
{
	if (port != ring_port)
		return rte_eth_rx_queue_setup(port, q, nb_desc, socket, conf, mp);
	snprintf(nic.log + strlen(nic.log), sizeof(nic.log) - strlen(nic.log), "setup(%d) ",
		 conf->rx_nseg ? conf->rx_nseg : 1);
	if (q || nic.started || (conf->rx_nseg && (mp || conf->rx_nseg != 2)))
		return -EINVAL;
	nic.nb_desc = nb_desc;
	nic.conf = *conf;
	nic.conf.rx_seg = NULL;
	nic.mp = mp;
	nic.nseg = conf->rx_nseg;
	memset(nic.segs, 0, sizeof(nic.segs));
	for (int i = 0; i < conf->rx_nseg; i++)
		nic.segs[i] = conf->rx_seg[i];
	return 0;
}

static int nic_rxq_start(uint16_t port, uint16_t q)
{
	if (port != ring_port)
		return rte_eth_dev_rx_queue_start(port, q);
	strcat(nic.log, "start ");
	nic.started = true;
	return 0;
}

static int nic_rxq_stop(uint16_t port, uint16_t q)
{
	if (port != ring_port)
		return rte_eth_dev_rx_queue_stop(port, q);
	strcat(nic.log, "stop ");
	nic.started = false;
	return 0;
}

/* Its receive never touches payload with the CPU: it is a DMA device, to
 * the adapter (the domain still maps nothing for a vdev: no IOMMU). */
static bool nic_does_dma(const struct rte_device *dev)
{
	return dev == nic.dev || nm_dpdk_device_does_dma(dev);
}

static bool vdev_does_dma(const struct rte_device *dev)
{
	return nm_dpdk_device_does_dma(dev);
}

static int nic_conf_get(uint16_t port, struct rte_eth_conf *conf)
{
	return nm_dpdk_ethdev_default_ops.conf_get(port, conf);
}

static struct nm_dpdk_ethdev_ops nic_ops = {
	.info_get = nic_info_get,
	.conf_get = nic_conf_get,
	.rxq_info_get = nic_rxq_info_get,
	.rxq_setup = nic_rxq_setup,
	.rxq_start = nic_rxq_start,
	.rxq_stop = nic_rxq_stop,
	.does_dma = nic_does_dma,
};

static void nic_reset(void)
{
	memset(&nic, 0, sizeof(nic));
	nic.nb_desc = 256;
	nic.mp = host_pool;
	nic.started = true;
}

/* The DMA engine: @len bytes at offset @off of @m's data. Into a dmabuf
 * pool's mbuf through EAL's DMA domain (for GPU memory the copy engine);
 * into host memory as a copy. */
static int nic_dma(struct rte_mbuf *m, uint32_t off, const void *src, uint32_t len)
{
	struct nm_dma_domain *dom;

	if (!nm_dpdk_pool_is_dmabuf(m->pool)) {
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, off), src, len);
		return 0;
	}
	if (nm_dpdk_eal_domain(&dom, NULL))
		return -ENODEV;
	return nm_dma_write(dom, rte_pktmbuf_iova_offset(m, off), src, len);
}

/* Receive @n frames of @flen bytes from the wire @w into queue 0 as it is
 * set up, and hand them to the port's ring (what rx_burst takes). */
static int nic_receive(const uint8_t *w, uint32_t flen, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++, w += flen) {
		struct rte_mbuf *h, *p = NULL;
		uint32_t hl = nic.nseg ? nic.segs[0].split.length : flen;
		int ret;

		h = rte_pktmbuf_alloc(nic.nseg ? nic.segs[0].split.mp : nic.mp);
		if (nic.nseg)
			p = rte_pktmbuf_alloc(nic.segs[1].split.mp);
		if (!h || (nic.nseg && !p)) {
			rte_pktmbuf_free(h);
			rte_pktmbuf_free(p);
			return -ENOBUFS;
		}
		ret = nic_dma(h, 0, w, hl);
		h->data_len = (uint16_t)hl;
		h->pkt_len = flen;
		if (p) {
			ret = ret ? ret : nic_dma(p, 0, w + hl, flen - hl);
			p->data_len = (uint16_t)(flen - hl);
			h->next = p;
			h->nb_segs = 2;
		}
		if (ret || rte_eth_tx_burst(ring_port, 0, &h, 1) != 1) {
			rte_pktmbuf_free(h);
			return ret ? ret : -ENOSPC;
		}
	}
	return 0;
}

/* ---- the cases ---------------------------------------------------------- */

static struct nm_flow flow;
static uint32_t hdr_bytes;

/* The frames on the wire: frame i carries the pattern from stream offset
 * i * PAYLOAD; @bad_frame (or -1) has one payload byte changed. */
static uint8_t *wire(unsigned int n, int bad_frame, uint32_t *flen)
{
	uint8_t payload[PAYLOAD], *w;

	*flen = hdr_bytes + PAYLOAD;
	w = calloc(n, *flen);
	for (unsigned int i = 0; w && i < n; i++) {
		nm_pattern_fill(payload, PAYLOAD, (uint64_t)i * PAYLOAD, SEED);
		if ((int)i == bad_frame)
			payload[PAYLOAD / 2] ^= 0x40;
		if (nm_pkt_build(w + i * *flen, *flen, &flow, i, payload, PAYLOAD) != (int)*flen) {
			free(w);
			return NULL;
		}
	}
	return w;
}

#define OPEN_MEM() do { \
	struct nm_err _e = { 0 }; \
	int _r = mem_open(&_e); \
	if (_r == 1) \
		SKIP(g.skip); \
	CHECK_MSG(_r == 0, "%s: %d %s", kind_spec[g.kind], _r, _e.msg); \
	} while (0)

/* The pool: every mbuf external, its data at the memory's own address
 * (IOVA == that address), none readable by the CPU. */
static void case_pool_on_gpu_memory(void)
{
	struct nm_err err = { 0 };
	struct nm_dpdk_pool_params prm = { .source = kind_spec[g.kind], .err = &err };
	struct nm_dpdk_pool_info info;
	struct rte_mbuf *m[NUM_MBUFS];
	uint64_t lo, hi;

	OPEN_MEM();
	prm.dmabuf = g.buf;
	g.pool = nm_dpdk_pktmbuf_pool_create("gpu", NUM_MBUFS, 0, 0, 2048, 0, &prm);
	CHECK_MSG(g.pool, "%s", err.msg);
	CHECK_EQ(nm_dpdk_pool_info(g.pool, &info), 0);
	printf("# pool 'gpu' on %s: exporter '%s', readable %d, %u x %u B at iova %#llx\n",
	       info.source, info.exporter, info.readable, info.num_bufs, info.buf_size,
	       (unsigned long long)info.iova);
	CHECK(!info.readable);
	CHECK_EQ(info.iova, g.buf->dev_addr);
	CHECK_EQ(info.mapped_devices, 0);   /* no device DMAs through VFIO here */
	lo = g.buf->dev_addr;
	hi = lo + g.buf->size;
	CHECK_EQ(rte_pktmbuf_alloc_bulk(g.pool, m, NUM_MBUFS), 0);
	for (unsigned int i = 0; i < NUM_MBUFS; i++) {
		uint64_t a = (uint64_t)(uintptr_t)m[i]->buf_addr;

		CHECK(m[i]->ol_flags & RTE_MBUF_F_EXTERNAL);
		CHECK(a >= lo && a + m[i]->buf_len <= hi);
		CHECK_EQ(rte_mbuf_iova_get(m[i]), a);
	}
	rte_pktmbuf_free_bulk(m, NUM_MBUFS);
	CHECK_EQ(rte_mempool_avail_count(g.pool), NUM_MBUFS);
	if (g.kind == K_FAKE)
		CHECK_EQ(f.dev_htod_bytes, 0);
}

/* A port whose receive copies with the CPU (any vdev, as the adapter sees
 * it) cannot take memory the CPU cannot reach: refused before any call. */
static void case_cpu_port_refused(void)
{
	struct nm_err err = { 0 };
	struct nm_dpdk_rxq_split s = { .hdr_pool = hdr_pool, .hdr_len = 0 };

	if (!g.pool)
		SKIP(g.skip[0] ? g.skip : "no pool (see the first case)");
	s.payload_pool = g.pool;
	s.hdr_len = hdr_bytes;
	nic_reset();
	nic_ops.does_dma = vdev_does_dma;
	nm_dpdk_set_ethdev_ops(&nic_ops);
	CHECK_EQ(nm_dpdk_rxq_bind(ring_port, 0, &s, &err), -EOPNOTSUPP);
	printf("# %s\n", err.msg);
	CHECK(strstr(err.msg, "lacks unreadable"));
	CHECK(strstr(err.msg, "refused before touching the queue"));
	CHECK_EQ(nic.log[0], '\0');
	CHECK(nic.mp == host_pool && nic.started);
	nic_ops.does_dma = nic_does_dma;
	nm_dpdk_set_ethdev_ops(NULL);
	CHECK_EQ(nm_dpdk_port_forget(ring_port, &err), 0);
}

/* Receive through a bound queue, then unbind: headers in host memory, each
 * payload in GPU memory, verified there; one changed byte found. */
static void case_split_receive_checked_on_gpu(void)
{
	struct nm_err err = { 0 };
	struct nm_dpdk_rxq_split s = { .hdr_pool = hdr_pool };
	struct nm_cuda_span spans[FRAMES];
	struct rte_mbuf *rx[FRAMES];
	uint64_t bad = ~0ull;
	uint8_t *w;
	uint32_t flen;
	uint16_t n;

	if (!g.pool)
		SKIP(g.skip[0] ? g.skip : "no pool (see the first case)");
	s.payload_pool = g.pool;
	s.hdr_len = hdr_bytes;
	nic_reset();
	nm_dpdk_set_ethdev_ops(&nic_ops);
	CHECK_MSG(nm_dpdk_rxq_bind(ring_port, 0, &s, &err) == 0, "%s", err.msg);
	CHECK_MSG(!strcmp(nic.log, "stop setup(2) start "), "calls: %s", nic.log);
	CHECK(nic.segs[0].split.mp == hdr_pool && nic.segs[1].split.mp == g.pool);

	for (int round = 0; round < 2; round++) {
		/* Round 1: frame 5 has a wrong payload byte. */
		w = wire(FRAMES, round ? 5 : -1, &flen);
		CHECK(w);
		CHECK_EQ(nic_receive(w, flen, FRAMES), 0);
		n = rte_eth_rx_burst(ring_port, 0, rx, FRAMES);
		CHECK_EQ(n, FRAMES);
		for (unsigned int i = 0; i < FRAMES; i++) {
			struct rte_mbuf *h = rx[i], *p = h->next;
			struct nm_pkt_info pi;

			CHECK(h->pool == hdr_pool && h->nb_segs == 2 && p && p->pool == g.pool);
			CHECK_EQ(h->pkt_len, flen);
			CHECK_EQ(h->data_len, hdr_bytes);
			CHECK_EQ(p->data_len, PAYLOAD);
			/* Headers: host memory, the CPU parses them. */
			CHECK(!memcmp(rte_pktmbuf_mtod(h, void *), w + i * flen, hdr_bytes));
			CHECK_EQ(nm_pkt_parse(rte_pktmbuf_mtod(h, void *), h->data_len, &pi), 0);
			CHECK_EQ(pi.hdr_len, hdr_bytes);
			CHECK_EQ(pi.dst_port, flow.dst_port);
			/* Payload: where it is, not what it is. */
			spans[i] = (struct nm_cuda_span){
				.off = rte_pktmbuf_mtod(p, uintptr_t) - g.buf->dev_addr,
				.stream_off = (uint64_t)i * PAYLOAD, .len = PAYLOAD,
			};
		}
		CHECK_MSG(gpu_check(spans, FRAMES, &bad, &err) == 0, "%s", err.msg);
		printf("# round %d: %u frames, payload checked on the GPU: %llu bad\n", round,
		       FRAMES, (unsigned long long)bad);
		CHECK_EQ(bad, round ? 1 : 0);
		rte_pktmbuf_free_bulk(rx, FRAMES);
		free(w);
	}
	if (g.kind == K_FAKE)   /* all of it by the copy engine, nothing else */
		CHECK_EQ(f.dev_htod_bytes, 2ull * FRAMES * PAYLOAD);
	CHECK_EQ(rte_mempool_avail_count(g.pool), NUM_MBUFS);

	/* Unbound: the queue is as the app set it up; frames land whole. */
	nic.log[0] = '\0';
	CHECK_MSG(nm_dpdk_rxq_unbind(ring_port, 0, &err) == 0, "%s", err.msg);
	CHECK_MSG(!strcmp(nic.log, "stop setup(1) start "), "calls: %s", nic.log);
	CHECK(nic.mp == host_pool && !nic.nseg);
	w = wire(1, -1, &flen);
	CHECK(w && nic_receive(w, flen, 1) == 0);
	CHECK_EQ(rte_eth_rx_burst(ring_port, 0, rx, 1), 1);
	CHECK(rx[0]->pool == host_pool && rx[0]->nb_segs == 1);
	CHECK_EQ(nm_pattern_check(rte_pktmbuf_mtod_offset(rx[0], uint8_t *, hdr_bytes),
				  PAYLOAD, 0, SEED), -1);
	rte_pktmbuf_free(rx[0]);
	free(w);
	nm_dpdk_set_ethdev_ops(NULL);
	CHECK_EQ(nm_dpdk_port_forget(ring_port, &err), 0);
}

/* The pool goes, then the memory: released once, in order. */
static void case_release(void)
{
	struct nm_err err = { 0 };

	if (!g.buf)
		SKIP(g.skip[0] ? g.skip : "no memory (see the first case)");
	if (g.pool)
		CHECK_MSG(nm_dpdk_pool_free(g.pool, &err) == 0, "%s", err.msg);
	g.pool = NULL;
	nm_dmabuf_put(g.buf);
	g.buf = NULL;
	if (g.kind == K_FAKE) {
		CHECK_EQ(f.created, 1);
		CHECK_EQ(f.mem_released, 1);
		CHECK_EQ(f.reserved, f.addr_freed);
		CHECK_EQ(f.retained, f.released);
		CHECK_MSG(!strcmp(f.log, "unmap addr mem ctx "), "release order: %s", f.log);
	}
}

#define KIND_CASES(k, K) \
	static void k##_pool(void) { g.kind = K; memset(g.skip, 0, sizeof(g.skip)); \
				     case_pool_on_gpu_memory(); } \
	static void k##_cpu_port_refused(void) { case_cpu_port_refused(); } \
	static void k##_split_rx_checked_on_gpu(void) { case_split_receive_checked_on_gpu(); } \
	static void k##_release(void) { case_release(); }
KIND_CASES(fake, K_FAKE)
KIND_CASES(cuda, K_CUDA)
KIND_CASES(cudamem, K_CUDAMEM)
#define KIND_TESTS(k) NM_TEST(k##_pool), NM_TEST(k##_cpu_port_refused), \
	NM_TEST(k##_split_rx_checked_on_gpu), NM_TEST(k##_release)

int main(int argc, char **argv)
{
	/* $NETMEM_DPDK_PMDS: a directory of the DPDK plugins this needs
	 * (bus_vdev, net_ring, mempool_ring), for a machine without DPDK
	 * installed (scripts/gpu-check.sh's bundle). */
	const char *pmds = getenv("NETMEM_DPDK_PMDS");
	const char *vdevs[] = { "--vdev=net_ring_gpu", pmds ? "-d" : NULL, pmds, NULL };
	static const struct nm_test tests[] = {
		KIND_TESTS(fake), KIND_TESTS(cuda), KIND_TESTS(cudamem),
	};
	int ret;

	(void)argc;
	setenv("NETMEM_CTL", "0", 1);
	if (nm_dpdk_test_eal_init(argv[0], vdevs))
		return 0;
	host_pool = rte_pktmbuf_pool_create_by_ops("host", 1024, 0, 0,
						   RTE_MBUF_DEFAULT_BUF_SIZE, 0, "ring_mp_mc");
	hdr_pool = rte_pktmbuf_pool_create_by_ops("hdr", 512, 0, 0, 256, 0, "ring_mp_mc");
	if (!host_pool || !hdr_pool || nm_flow_from_name("udp6", 9000, &flow) ||
	    rte_eth_dev_get_port_by_name("net_ring_gpu", &ring_port) ||
	    nm_test_start_port(ring_port, 1, host_pool)) {
		printf("Bail out! cannot set up the pools and the vdev port (see stderr)\n");
		return 1;
	}
	hdr_bytes = nm_pkt_hdr_len(&flow);
	ret = nm_test_run(tests, sizeof(tests) / sizeof(tests[0]));
	rte_eal_cleanup();
	return ret;
}
