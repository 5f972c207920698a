/* SPDX-License-Identifier: MIT */
/*
 * The igb driver's RX ring against a fake 82576 on the host: BAR0 is plain
 * memory, and the test plays the device (7.1.5: it takes the descriptor at
 * RDH while RDH != RDT, writes the header and payload where the descriptor
 * points, writes the descriptor back with DD and EOP, moves RDH). The
 * driver's own code (igb_rx_ring_start, nm_igb_rx_burst, nm_igb_rx_recycle)
 * runs unchanged on a udmabuf-like binding of 1, 2, 8 or 64 buffers.
 *
 * What it guards: with fewer buffers than descriptors the ring drains, and
 * every descriptor past the last posted one still carries the DD bit of its
 * write-back a lap ago. A driver that reads it hands out a buffer that is
 * already out (the guest's "1444 bytes wrong, then 64 buffers freed with
 * room for 8 (double free)" with 8 buffers on a 512-descriptor ring).
 */
#include <stdlib.h>
#include <string.h>

#include <netmem/netmem.h>

#include "igb_internal.h"
#include "nm_test.h"

#define RING     64u
#define PAYLOAD  1448u
#define HLEN     66u
#define BAR_LEN  (128u << 10)

struct fake {
	struct nm_dma_domain *dom;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_host_mem *host;     /* header buffers */
	struct nm_host_mem *ring_mem; /* the descriptor ring */
	uint8_t *cpu;                 /* the dmabuf's CPU mapping */
	struct nm_igb *igb;
	struct igb_qmem q;
	uint32_t rdh;                 /* the device's head (mirrored to RDH) */
	uint64_t sent, seen;          /* frames written / received intact */
	uint64_t bad;                 /* payload not what the device wrote */
};

static void fill(uint8_t *p, uint32_t len, uint64_t seq)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 131 + i * 7 + (seq >> 8));
}

static int fake_init(struct fake *f, uint32_t nbufs, uint32_t buf_size)
{
	struct nm_binding_params bp = { .buf_size = buf_size };
	struct nm_host_mem_params hp = { .size = 4u * RING * 2048, .buf_size = 2048,
					 .numa_node = -1, .no_hugepages = true };
	struct nm_host_mem_params rp = { .size = RING * sizeof(union igb_adv_rx_desc),
					 .buf_size = RING * sizeof(union igb_adv_rx_desc),
					 .numa_node = -1, .no_hugepages = true };
	struct nm_page_pool_params pp = { .pool_size = 2 * RING, .nid = -1,
					  .flags = NM_PP_FLAG_DMA_MAP };
	struct nm_err err = { 0 };
	char spec[32];
	void *cpu;

	memset(f, 0, sizeof(*f));
	snprintf(spec, sizeof(spec), "memfd:%u", nbufs * buf_size);
	if (nm_dma_domain_identity_create(&f->dom, &err) ||
	    nm_dmabuf_open_spec(spec, &f->buf, &err) ||
	    nm_dmabuf_binding_create(f->dom, f->buf, &bp, &f->b, &err) ||
	    nm_dmabuf_cpu_map(f->buf, &cpu, &err) ||
	    nm_host_mem_create(f->dom, &hp, &f->host, &err) ||
	    nm_host_mem_create(f->dom, &rp, &f->ring_mem, &err)) {
		printf("# setup: %s\n", err.msg);
		return -1;
	}
	f->cpu = cpu;
	f->igb = calloc(1, sizeof(*f->igb));
	f->igb->bar0 = aligned_alloc(4096, BAR_LEN);
	memset((void *)f->igb->bar0, 0, BAR_LEN);
	snprintf(f->igb->dev.name, sizeof(f->igb->dev.name), "fake-igb");
	f->igb->dev.num_rx_queues = 1;
	pthread_mutex_init(&f->igb->rxq[0].lock, NULL);

	/* What igb_mem_alloc builds for a split queue on a dmabuf. */
	f->q.size = RING;
	f->q.split = true;
	f->q.hdr_size = IGB_HDR_BUF_SIZE;
	f->q.buf_size = buf_size;
	f->q.ring_mem = f->ring_mem;
	f->q.ring = (union igb_adv_rx_desc *)f->ring_mem->base;
	f->q.slots = calloc(RING, sizeof(*f->q.slots));
	pp.mp = nm_host_mem_mp(f->host);
	if (nm_page_pool_create(&pp, &f->q.hdr_pool, &err))
		return -1;
	pp.flags |= NM_PP_FLAG_ALLOW_UNREADABLE_NETMEM;
	pp.mp = nm_dmabuf_binding_mp(f->b);
	if (nm_page_pool_create(&pp, &f->q.pool, &err))
		return -1;
	return 0;
}

static int fake_start(struct fake *f)
{
	struct nm_err err = { 0 };

	if (igb_rx_ring_start(f->igb, &f->q, 0, &err)) {
		printf("# start: %s\n", err.msg);
		return -1;
	}
	f->igb->rxq[0].cur = &f->q;
	return 0;
}

/* The device receives one frame: false when it has no descriptor (RDH ==
 * RDT, the frame is missed). */
static bool dev_rx(struct fake *f)
{
	volatile uint8_t *bar0 = f->igb->bar0;
	union igb_adv_rx_desc *d;
	uint8_t hdr[HLEN], pay[PAYLOAD];
	uint64_t pkt, ha;

	if (f->rdh == igb_rd32(bar0, IGB_RDT(0)))
		return false;
	d = &f->q.ring[f->rdh];
	pkt = d->read.pkt_addr;
	ha = d->read.hdr_addr;
	memset(hdr, 0xee, sizeof(hdr));
	fill(pay, PAYLOAD, f->sent);
	if (nm_dma_write(f->dom, ha, hdr, HLEN) || nm_dma_write(f->dom, pkt, pay, PAYLOAD))
		return false;
	memset(d, 0, sizeof(*d));
	d->wb.hdr_info = (uint16_t)(IGB_RXD_HDR_SPH | HLEN << 5);
	d->wb.length = PAYLOAD;
	__atomic_store_n(&d->wb.status_error, IGB_RXD_STAT_DD | IGB_RXD_STAT_EOP,
			 __ATOMIC_RELEASE);
	f->rdh = (f->rdh + 1) % RING;
	igb_wr32(bar0, IGB_RDH(0), f->rdh);
	f->sent++;
	return true;
}

/* Check a received frame against what the device wrote for it. */
static void check_pkt(struct fake *f, const struct nm_rx_pkt *p)
{
	uint8_t want[PAYLOAD];
	const uint8_t *got = f->cpu + nm_net_iov_offset(nm_netmem_to_net_iov(p->payload));

	fill(want, PAYLOAD, f->seen);
	if (p->payload_len != PAYLOAD || p->hdr_len != HLEN || memcmp(got, want, PAYLOAD))
		f->bad++;
	f->seen++;
}

static bool held_twice(const nm_netmem_ref *held, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			if (held[i] == held[j])
				return true;
	return false;
}

/* Stop the ring and free the queue's memory (igb_stop, igb_mem_free), then
 * the application gives back the @n frames it still holds; returns how many
 * dmabuf buffers are still out (0: every one came home). */
static uint32_t fake_fini(struct fake *f, const struct nm_rx_pkt *held, unsigned int n)
{
	uint32_t out;

	pthread_mutex_lock(&f->igb->rxq[0].lock);
	f->igb->rxq[0].cur = NULL;
	igb_rx_ring_stop(f->igb, &f->q, 0);
	pthread_mutex_unlock(&f->igb->rxq[0].lock);
	nm_page_pool_destroy(f->q.pool);
	nm_page_pool_destroy(f->q.hdr_pool);
	nm_igb_rx_recycle(f->igb, 0, held, n);
	out = nm_net_iov_area_in_use(&f->b->area);
	free(f->q.slots);
	pthread_mutex_destroy(&f->igb->rxq[0].lock);
	free((void *)f->igb->bar0);
	free(f->igb);
	nm_host_mem_put(f->ring_mem);
	nm_host_mem_put(f->host);
	nm_dmabuf_binding_put(f->b);
	nm_dmabuf_put(f->buf);
	nm_dma_domain_put(f->dom);
	return out;
}

/*
 * Lap after lap of the ring: the device fills every posted descriptor, the
 * application holds every buffer (the ring is drained), polls again (there
 * is nothing: every descriptor is the application's or unposted), then
 * gives them all back. Each frame arrives once, intact, in a buffer no one
 * else holds; at the end every buffer is home.
 */
static void drained_ring(uint32_t nbufs, uint32_t buf_size)
{
	struct fake f;
	struct nm_rx_pkt pkts[64], held[64];
	unsigned int nheld;

	CHECK(fake_init(&f, nbufs, buf_size) == 0);
	CHECK(fake_start(&f) == 0);
	/* Posted: every buffer, at most the ring's N-1. */
	CHECK_EQ(igb_rd32(f.igb->bar0, IGB_RDT(0)), nbufs < RING ? nbufs : RING - 1);
	for (unsigned int round = 0; f.sent < 5 * RING; round++) {
		unsigned int burst = 0, got;
		nm_netmem_ref refs[64];

		while (dev_rx(&f))
			burst++;
		CHECK_MSG(burst, "round %u: no descriptor posted (RDT %u, RDH %u)", round,
			  igb_rd32(f.igb->bar0, IGB_RDT(0)), f.rdh);
		nheld = 0;
		while ((got = nm_igb_rx_burst(f.igb, 0, pkts, 64))) {
			CHECK_MSG(nheld + got <= burst, "round %u (frame %llu): %u frames out "
				  "of %u written", round, (unsigned long long)f.seen,
				  nheld + got, burst);
			for (unsigned int i = 0; i < got; i++) {
				check_pkt(&f, &pkts[i]);
				held[nheld++] = pkts[i];
			}
		}
		CHECK_EQ(nheld, burst);
		for (unsigned int i = 0; i < nheld; i++)
			refs[i] = held[i].payload;
		CHECK_MSG(!held_twice(refs, nheld), "round %u: one buffer in two frames", round);
		CHECK_EQ(f.bad, 0);
		nm_igb_rx_recycle(f.igb, 0, held, nheld);
		/* The next poll posts them again. */
		CHECK_EQ(nm_igb_rx_burst(f.igb, 0, pkts, 64), 0);
	}
	CHECK_EQ(f.seen, f.sent);
	CHECK_EQ(fake_fini(&f, NULL, 0), 0);
}

static void ring_drains_with_1_buffer(void)
{
	drained_ring(1, 4096);
}

static void ring_drains_with_2_buffers(void)
{
	drained_ring(2, 2048);
}

static void ring_drains_with_8_buffers(void)
{
	drained_ring(8, 2048);
}

static void ring_drains_with_64_buffers(void)
{
	drained_ring(64, 2048);
}

/*
 * The application holds a varying share of the buffers while frames keep
 * arriving (a seeded walk): a buffer is never in two frames at once, every
 * frame is intact, and unbinding with buffers held brings all of them home.
 */
static void scarce_buffers_random_holds(void)
{
	struct fake f;
	struct nm_rx_pkt pkts[16], held[64];
	unsigned int nheld = 0;
	uint32_t rnd = 12345;

	CHECK(fake_init(&f, 8, 2048) == 0);
	CHECK(fake_start(&f) == 0);
	for (unsigned int step = 0; step < 4000; step++) {
		unsigned int got, arrive, back;
		nm_netmem_ref refs[64];

		rnd = rnd * 1103515245u + 12345u;
		arrive = (rnd >> 16) % 4;
		for (unsigned int i = 0; i < arrive; i++)
			dev_rx(&f);
		got = nm_igb_rx_burst(f.igb, 0, pkts, 1 + (rnd >> 8) % 16);
		CHECK(nheld + got <= 8);
		for (unsigned int i = 0; i < got; i++) {
			check_pkt(&f, &pkts[i]);
			held[nheld++] = pkts[i];
		}
		for (unsigned int i = 0; i < nheld; i++)
			refs[i] = held[i].payload;
		CHECK_MSG(!held_twice(refs, nheld), "step %u: one buffer in two frames", step);
		back = nheld ? (rnd >> 20) % (nheld + 1) : 0;
		nm_igb_rx_recycle(f.igb, 0, held, back);
		memmove(held, held + back, (nheld - back) * sizeof(held[0]));
		nheld -= back;
	}
	CHECK_EQ(f.bad, 0);
	CHECK_EQ(f.seen, f.sent);
	CHECK(f.sent > 1000);
	/* Stop with buffers held (an unbind mid-stream): the pools outlive
	 * the ring until the application gives them back. */
	CHECK_EQ(fake_fini(&f, held, nheld), 0);
}

NM_TEST_MAIN(
	NM_TEST(ring_drains_with_1_buffer),
	NM_TEST(ring_drains_with_2_buffers),
	NM_TEST(ring_drains_with_8_buffers),
	NM_TEST(ring_drains_with_64_buffers),
	NM_TEST(scarce_buffers_random_holds),
)
