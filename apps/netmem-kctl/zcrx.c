/* SPDX-License-Identifier: MIT */
/*
 * netmem-kctl zcrx: io_uring zero-copy receive (7.3) on the module's NIC, the
 * other kernel design for payload into memory the stack never copies:
 *
 *  - an area (a udmabuf: IORING_ZCRX_AREA_DMABUF; or host memory, --host)
 *    and a refill ring are registered on RX queue Q (IORING_REGISTER_ZCRX_IFQ,
 *    which binds io_uring's memory provider to the queue through the core's
 *    restart path, as bind-rx does);
 *  - one multishot IORING_OP_RECV_ZC on the accepted socket: each CQE (32
 *    bytes) says where in the area a fragment lies; the bytes are checked
 *    there against tcp_send.py's stream and the buffer goes back through the
 *    refill ring, with no syscall per buffer;
 *  - counters: refills, the kernel's copy fallbacks (zcrx_stats in the ring
 *    region) and its events (ZCRX_EVENT_COPY, ZCRX_EVENT_ALLOC_FAIL as CQEs,
 *    re-armed with ZCRX_CTRL_ARM_EVENT), io_uring_enter calls.
 *
 * Raw syscalls against the 7.3 uapi header that the build found in the
 * guest-kernel cache (bookworm's liburing 2.3 predates zcrx). Output as rx:
 * "listening ..." once accepting, then one "zcrx: key=value ..." line.
 * Exit: 0 every byte as sent, 1 a failure, 3 the kernel refused the
 * registration, 77 built without the 7.3 header.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kctl.h"
#include "tap.h"

#ifndef KCTL_IO_URING_H

int kctl_zcrx(struct kdev *kd, const struct rx_opts *o)
{
	(void)kd;
	(void)o;
	fprintf(stderr, "netmem-kctl zcrx: SKIP: built without Linux 7.3's io_uring uapi header "
		"(scripts/guest-kernel.sh --kernel 7.3 headers, then reconfigure)\n");
	return 77;
}

#else

#include KCTL_IO_URING_H
#include <linux/dma-buf.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ZC_RQ_ENTRIES 32768u      /* IO_RQ_MAX_ENTRIES */
#define ZC_CQ_ENTRIES 16384u
#define ZC_UD_RECV 2
#define ZC_UD_EVENT 3

struct zc_ring {
	int fd;
	struct io_uring_params p;
	void *sq_map, *cq_map;
	size_t sq_len, cq_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	unsigned int *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	uint8_t *cqes;                  /* 32-byte CQEs (IORING_SETUP_CQE32) */
	unsigned int to_submit;
	uint64_t enters;
};

struct zc_refill {
	void *region;
	size_t region_len;
	unsigned int *khead, *ktail;
	struct io_uring_zcrx_rqe *rqes;
	unsigned int tail, entries;
	struct zcrx_stats *stats;
	uint64_t token;
	uint64_t pushed, full_waits;
};

static int zc_enter(struct zc_ring *r, unsigned int min_complete)
{
	int ret;

	r->enters++;
	ret = (int)syscall(__NR_io_uring_enter, r->fd, r->to_submit, min_complete,
			   IORING_ENTER_GETEVENTS, NULL, 0);
	if (ret < 0)
		return -errno;
	r->to_submit = 0;
	return 0;
}

static int zc_ring_setup(struct zc_ring *r)
{
	memset(r, 0, sizeof(*r));
	/* What zcrx demands of the ring (io_register_zcrx): deferred task work
	 * (so single issuer) and 32-byte CQEs for the area offset. */
	r->p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		     IORING_SETUP_CQE32 | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
	/* A fragment is a CQE, and a full CQ ends the multishot (-ENOSPC):
	 * room for what one task-work run may post. */
	r->p.cq_entries = ZC_CQ_ENTRIES;
	r->fd = (int)syscall(__NR_io_uring_setup, 64, &r->p);
	if (r->fd < 0) {
		r->fd = -1;
		return -errno;
	}
	r->sq_len = r->p.sq_off.array + r->p.sq_entries * sizeof(unsigned int);
	r->cq_len = r->p.cq_off.cqes + r->p.cq_entries * 2 * sizeof(struct io_uring_cqe);
	if (r->p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_len > r->sq_len)
			r->sq_len = r->cq_len;
		r->cq_len = r->sq_len;
	}
	r->sq_map = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 r->fd, IORING_OFF_SQ_RING);
	if (r->sq_map == MAP_FAILED)
		return -errno;
	r->cq_map = r->sq_map;
	if (!(r->p.features & IORING_FEAT_SINGLE_MMAP)) {
		r->cq_map = mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
		if (r->cq_map == MAP_FAILED)
			return -errno;
	}
	r->sqes_len = r->p.sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		return -errno;
	r->sq_tail = (unsigned int *)((char *)r->sq_map + r->p.sq_off.tail);
	r->sq_mask = (unsigned int *)((char *)r->sq_map + r->p.sq_off.ring_mask);
	r->sq_array = (unsigned int *)((char *)r->sq_map + r->p.sq_off.array);
	r->cq_head = (unsigned int *)((char *)r->cq_map + r->p.cq_off.head);
	r->cq_tail = (unsigned int *)((char *)r->cq_map + r->p.cq_off.tail);
	r->cq_mask = (unsigned int *)((char *)r->cq_map + r->p.cq_off.ring_mask);
	r->cqes = (uint8_t *)r->cq_map + r->p.cq_off.cqes;
	return 0;
}

static void zc_ring_close(struct zc_ring *r)
{
	if (r->sqes && r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_len);
	if (r->cq_map && r->cq_map != MAP_FAILED && r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_len);
	if (r->sq_map && r->sq_map != MAP_FAILED)
		munmap(r->sq_map, r->sq_len);
	if (r->fd >= 0)
		close(r->fd);      /* unregisters the ifq: the queue is restarted */
}

/* One multishot RECV_ZC on @sock (the SQ has room: at most one in flight). */
static void zc_prep_recv(struct zc_ring *r, int sock, uint32_t zcrx_id)
{
	unsigned int tail = *r->sq_tail, idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_RECV_ZC;
	sqe->fd = sock;
	sqe->ioprio = IORING_RECV_MULTISHOT;
	sqe->zcrx_ifq_idx = zcrx_id;
	sqe->user_data = ZC_UD_RECV;
	r->sq_array[idx] = idx;
	atomic_store_explicit((_Atomic unsigned int *)r->sq_tail, tail + 1, memory_order_release);
	r->to_submit++;
}

/* Give a fragment back; false when the ring is full (the kernel has not
 * taken earlier entries yet). */
static bool zc_refill_push(struct zc_refill *q, uint64_t off, uint32_t len)
{
	unsigned int head = atomic_load_explicit((_Atomic unsigned int *)q->khead,
						 memory_order_acquire);
	struct io_uring_zcrx_rqe *rqe;

	if (q->tail - head >= q->entries)
		return false;
	rqe = &q->rqes[q->tail & (q->entries - 1)];
	rqe->off = (off & ~IORING_ZCRX_AREA_MASK) | q->token;
	rqe->len = len;
	atomic_store_explicit((_Atomic unsigned int *)q->ktail, ++q->tail, memory_order_release);
	q->pushed++;
	return true;
}

static int zc_ctrl_arm(int ring_fd, uint32_t zcrx_id, uint32_t type)
{
	struct zcrx_ctrl c = { .zcrx_id = zcrx_id, .op = ZCRX_CTRL_ARM_EVENT };

	c.zc_arm_event.event_type = type;
	if (syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_ZCRX_CTRL, &c, 0) < 0)
		return -errno;
	return 0;
}

struct zc_state {
	const struct rx_opts *o;
	struct stream_check chk; /* chk.off: stream bytes seen */
	uint64_t cqes, frags, events[__ZCRX_EVENT_TYPE_LAST], rearms, cq_full;
	uint64_t max_frag;
	uint64_t syncs, arms;    /* DMA_BUF_IOCTL_SYNC pairs, ZCRX_CTRL_ARM_EVENT calls */
};

/* Reap every CQE; returns 1 at the end of the stream, 0 to go on, -errno. */
static int zc_reap(struct zc_ring *r, struct zc_refill *q, struct zc_state *s,
		   const uint8_t *area, uint64_t area_len, int sock, uint32_t zcrx_id,
		   int dmabuf_fd)
{
	unsigned int head = *r->cq_head;
	unsigned int tail = atomic_load_explicit((_Atomic unsigned int *)r->cq_tail,
						 memory_order_acquire);
	struct dma_buf_sync sync = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	int done = 0, ret = 0;

	if (head == tail)
		return 0;
	if (dmabuf_fd >= 0) {
		ioctl(dmabuf_fd, DMA_BUF_IOCTL_SYNC, &sync);
		s->syncs++;
	}
	for (; head != tail && !ret; head++) {
		const struct io_uring_cqe *cqe =
			(const void *)(r->cqes + (size_t)(head & *r->cq_mask) * 32);
		const struct io_uring_zcrx_cqe *zc = (const void *)(cqe + 1);
		uint64_t off = zc->off & ~IORING_ZCRX_AREA_MASK;

		s->cqes++;
		if (cqe->user_data == ZC_UD_EVENT) {
			if (cqe->res >= 0 && cqe->res < __ZCRX_EVENT_TYPE_LAST) {
				s->events[cqe->res]++;
				s->arms++;
				ret = zc_ctrl_arm(r->fd, zcrx_id, (uint32_t)cqe->res);
			}
			continue;
		}
		if (cqe->user_data != ZC_UD_RECV)
			continue;
		if (cqe->res == -ENOSPC && !(cqe->flags & IORING_CQE_F_MORE)) {
			/* The CQ was full: the rest waits in the socket. */
			s->cq_full++;
			s->rearms++;
			zc_prep_recv(r, sock, zcrx_id);
			continue;
		}
		if (cqe->res < 0) {
			fprintf(stderr, "netmem-kctl zcrx: RECV_ZC: %s\n", strerror(-cqe->res));
			ret = cqe->res;
			break;
		}
		if (cqe->res == 0 && !(cqe->flags & IORING_CQE_F_MORE)) {
			done = 1;       /* the peer's FIN */
			continue;
		}
		if (cqe->res > 0) {
			if (off + (uint64_t)cqe->res > area_len) {
				fprintf(stderr, "netmem-kctl zcrx: fragment at %llu+%d is outside the %llu-byte area\n",
					(unsigned long long)off, cqe->res,
					(unsigned long long)area_len);
				ret = -EPROTO;
				break;
			}
			stream_check(&s->chk, area + off, (uint64_t)cqe->res);
			s->frags++;
			if ((uint64_t)cqe->res > s->max_frag)
				s->max_frag = (uint64_t)cqe->res;
			/* Bounded: the kernel takes entries whenever its pool refills. */
			for (int tries = 0; !zc_refill_push(q, zc->off, (uint32_t)cqe->res); tries++) {
				q->full_waits++;
				if (tries == 1000) {
					fprintf(stderr, "netmem-kctl zcrx: refill ring stayed full\n");
					ret = -ENOBUFS;
					break;
				}
				usleep(100);
			}
		}
		if (!(cqe->flags & IORING_CQE_F_MORE) && !done) {
			s->rearms++;
			zc_prep_recv(r, sock, zcrx_id);
		}
	}
	atomic_store_explicit((_Atomic unsigned int *)r->cq_head, head, memory_order_release);
	if (dmabuf_fd >= 0) {
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
		ioctl(dmabuf_fd, DMA_BUF_IOCTL_SYNC, &sync);
	}
	return ret ? ret : done;
}

int kctl_zcrx(struct kdev *kd, const struct rx_opts *o)
{
	struct nmk_rxq_stats st0 = { .index = o->queue }, st1 = { .index = o->queue };
	uint32_t buf_len = o->rx_page_size ? o->rx_page_size : 0;
	struct zc_state s = { .o = o };
	struct zc_refill q = { 0 };
	struct zc_ring r = { .fd = -1 };
	struct io_uring_zcrx_area_reg area = { 0 };
	struct io_uring_region_desc rd = { 0 };
	struct zcrx_event_desc ev = { 0 };
	struct io_uring_zcrx_ifq_reg reg = { 0 };
	struct nmk_queue q0, q1;
	uint8_t *map = MAP_FAILED;
	uint64_t area_len = o->size;
	int dmabuf = -1, lsock = -1, sock = -1, ret = 1, rc;
	double t0 = 0, t1, c0 = 0, c1, a0 = 0, a1;
	uint64_t enters0 = 0;
	size_t stats_off;

	s.chk.blk = malloc(PATTERN_LEN);
	if (!s.chk.blk)
		goto out;
	pattern_fill(s.chk.blk);

	rc = zc_ring_setup(&r);
	if (rc) {
		fprintf(stderr, "netmem-kctl zcrx: io_uring_setup(DEFER_TASKRUN|CQE32): %s\n",
			strerror(-rc));
		goto out;
	}
	/* The area: a udmabuf (read through its mmap), or host memory. */
	if (o->huge)
		area_len = (area_len + (2ull << 20) - 1) & ~((2ull << 20) - 1);
	if (o->host) {
		map = mmap(NULL, area_len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE |
			   (o->huge ? MAP_HUGETLB | (21 << MAP_HUGE_SHIFT) : 0), -1, 0);
		if (map == MAP_FAILED) {
			fprintf(stderr, "netmem-kctl zcrx: host area of %llu bytes%s: %s\n",
				(unsigned long long)area_len, o->huge ? " (hugetlb)" : "",
				strerror(errno));
			goto out;
		}
		area.addr = (uint64_t)(uintptr_t)map;
	} else {
		dmabuf = udmabuf_create_huge(area_len, NULL, o->huge);
		if (dmabuf < 0) {
			fprintf(stderr, "netmem-kctl zcrx: udmabuf: %s\n", strerror(-dmabuf));
			goto out;
		}
		map = mmap(NULL, area_len, PROT_READ, MAP_SHARED, dmabuf, 0);
		if (map == MAP_FAILED) {
			fprintf(stderr, "netmem-kctl zcrx: mmap of the udmabuf: %s\n", strerror(errno));
			goto out;
		}
		area.flags = IORING_ZCRX_AREA_DMABUF;
		area.dmabuf_fd = (uint32_t)dmabuf;
	}
	area.len = area_len;

	/* The refill ring's region: header, rqes, then the kernel's copy stats. */
	stats_off = 4096 + ZC_RQ_ENTRIES * sizeof(struct io_uring_zcrx_rqe);
	q.region_len = (stats_off + sizeof(struct zcrx_stats) + 4095) & ~(size_t)4095;
	q.region = mmap(NULL, q.region_len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (q.region == MAP_FAILED) {
		q.region = NULL;
		goto out;
	}
	rd.user_addr = (uint64_t)(uintptr_t)q.region;
	rd.size = q.region_len;
	rd.flags = IORING_MEM_REGION_TYPE_USER;
	ev.user_data = ZC_UD_EVENT;
	ev.type_mask = (1u << ZCRX_EVENT_ALLOC_FAIL) | (1u << ZCRX_EVENT_COPY);
	ev.flags = ZCRX_EVENT_DESC_FLAG_STATS;
	ev.stats_offset = stats_off;
	reg.if_idx = kd->info.ifindex;
	reg.if_rxq = o->queue;
	reg.rq_entries = ZC_RQ_ENTRIES;
	reg.area_ptr = (uint64_t)(uintptr_t)&area;
	reg.region_ptr = (uint64_t)(uintptr_t)&rd;
	reg.rx_buf_len = buf_len;
	reg.event_desc = (uint64_t)(uintptr_t)&ev;

	ioctl(kd->fd, NMK_IOC_RXQ_STATS, &st0);
	if (o->queue >= kd->info.num_rx_queues || kdev_queue(kd, o->queue, &q0))
		memset(&q0, 0, sizeof(q0));
	if (syscall(__NR_io_uring_register, r.fd, IORING_REGISTER_ZCRX_IFQ, &reg, 1) < 0) {
		int e = errno;
		struct nmk_rxq_counters d = { 0 };

		/* What the kernel's path cost the queue before it said no. */
		if (o->queue < kd->info.num_rx_queues && !kdev_queue(kd, o->queue, &q1))
			d = counters_delta(&q0.counters, &q1.counters);
		printf("zcrx: refused IORING_REGISTER_ZCRX_IFQ on %s queue %u: %s; queue cost: "
		       "callbacks=%llu mem_alloc=%llu mem_free=%llu bufs_posted=%llu\n",
		       kd->info.ifname, o->queue, strerror(e), (unsigned long long)callbacks(&d),
		       (unsigned long long)d.cb_mem_alloc, (unsigned long long)d.cb_mem_free,
		       (unsigned long long)d.bufs_posted);
		ret = 3;
		goto out;
	}
	q.khead = (unsigned int *)((char *)q.region + reg.offsets.head);
	q.ktail = (unsigned int *)((char *)q.region + reg.offsets.tail);
	q.rqes = (struct io_uring_zcrx_rqe *)((char *)q.region + reg.offsets.rqes);
	q.entries = reg.rq_entries;
	q.token = area.rq_area_token;
	q.stats = (struct zcrx_stats *)((char *)q.region + stats_off);
	printf("zcrx: ifq %u on %s queue %u: %s area of %llu MiB%s, rx_buf_len %u, %u refill entries\n",
	       reg.zcrx_id, kd->info.ifname, o->queue, o->host ? "host memory" : "udmabuf",
	       (unsigned long long)(area_len >> 20), o->huge ? " (hugetlb)" : "",
	       reg.rx_buf_len, q.entries);

	lsock = listen_on(o->port);
	if (lsock < 0) {
		fprintf(stderr, "netmem-kctl zcrx: listen on port %u: %s\n", o->port,
			strerror(-lsock));
		goto out;
	}
	printf("listening on port %u (io_uring zcrx)\n", o->port);
	sock = accept_within(lsock, o->timeout_s, "zcrx");
	if (sock < 0)
		goto out;
	t0 = now_us();
	c0 = cpu_self_s();
	a0 = cpu_all_s();
	enters0 = r.enters;
	zc_prep_recv(&r, sock, reg.zcrx_id);
	for (rc = 0; !rc;) {
		rc = zc_enter(&r, 1);
		if (rc) {
			if (rc == -EINTR) {
				rc = 0;
				continue;
			}
			fprintf(stderr, "netmem-kctl zcrx: io_uring_enter: %s\n", strerror(-rc));
			break;
		}
		rc = zc_reap(&r, &q, &s, map, area_len, sock, reg.zcrx_id, dmabuf);
		if (s.chk.off > o->expect)
			break;  /* more than was announced: reported below */
	}
	t1 = now_us();
	c1 = cpu_self_s();
	a1 = cpu_all_s();
	ioctl(kd->fd, NMK_IOC_RXQ_STATS, &st1);

	printf("zcrx: mode=zcrx area=%s queue=%u rx_buf_len=%u bytes=%llu expect=%llu "
	       "mismatches=%llu first_bad=%llu frags=%llu max_frag=%llu cqes=%llu refills=%llu "
	       "refill_full_waits=%llu copy_fallbacks=%llu copy_bytes=%llu events_copy=%llu "
	       "events_alloc_fail=%llu rearms=%llu cq_full=%llu enters=%llu secs=%.3f cpu_self_s=%.3f "
	       "cpu_all_s=%.3f q_packets=%llu q_split=%llu q_hdr_bytes=%llu q_payload_devmem=%llu "
	       "q_payload_host=%llu q_drop_no_buf=%llu q_drop_backlog=%llu q_ring_allocs=%llu "
	       "syscalls=%llu\n",
	       o->host ? "host" : "dmabuf", o->queue, reg.rx_buf_len,
	       (unsigned long long)s.chk.off, (unsigned long long)o->expect,
	       (unsigned long long)s.chk.mismatches, (unsigned long long)s.chk.first_bad,
	       (unsigned long long)s.frags, (unsigned long long)s.max_frag,
	       (unsigned long long)s.cqes, (unsigned long long)q.pushed,
	       (unsigned long long)q.full_waits,
	       (unsigned long long)atomic_load((_Atomic uint64_t *)&q.stats->copy_count),
	       (unsigned long long)atomic_load((_Atomic uint64_t *)&q.stats->copy_bytes),
	       (unsigned long long)s.events[ZCRX_EVENT_COPY],
	       (unsigned long long)s.events[ZCRX_EVENT_ALLOC_FAIL],
	       (unsigned long long)s.rearms, (unsigned long long)s.cq_full,
	       (unsigned long long)(r.enters - enters0),
	       (t1 - t0) / 1e6, c1 - c0, a1 - a0,
	       (unsigned long long)(st1.packets - st0.packets),
	       (unsigned long long)(st1.split - st0.split),
	       (unsigned long long)(st1.hdr_bytes - st0.hdr_bytes),
	       (unsigned long long)(st1.payload_devmem - st0.payload_devmem),
	       (unsigned long long)(st1.payload_host - st0.payload_host),
	       (unsigned long long)(st1.drop_no_buf - st0.drop_no_buf),
	       (unsigned long long)(st1.drop_backlog - st0.drop_backlog),
	       (unsigned long long)(st1.ring_allocs - st0.ring_allocs),
	       /* the data path's: io_uring_enter, DMA_BUF_IOCTL_SYNC pairs, arms */
	       (unsigned long long)(r.enters - enters0 + 2 * s.syncs + s.arms));
	if (rc == 1 && s.chk.off == o->expect && !s.chk.mismatches)
		ret = 0;
out:
	if (sock >= 0)
		close(sock);
	if (lsock >= 0)
		close(lsock);
	zc_ring_close(&r);
	if (q.region)
		munmap(q.region, q.region_len);
	if (map != MAP_FAILED)
		munmap(map, area_len);
	if (dmabuf >= 0)
		close(dmabuf);
	free(s.chk.blk);
	return ret;
}

#endif
