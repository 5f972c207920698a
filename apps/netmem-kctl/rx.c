/* SPDX-License-Identifier: MIT */
/*
 * A TCP receiver on the module's NIC, two ways, every byte checked:
 *
 *  devmem (default) — the kernel's devmem TCP, as its ncdevmem does: a
 *    udmabuf bound to RX queue Q with netlink bind-rx, a TCP listener,
 *    recvmsg(MSG_SOCK_DEVMEM), SCM_DEVMEM_DMABUF cmsgs giving where each
 *    fragment lies in the udmabuf (read there, through the udmabuf's mmap,
 *    between DMA_BUF_IOCTL_SYNC start and end), SCM_DEVMEM_LINEAR for bytes
 *    the kernel copied (headers in host memory means none of the payload),
 *    and the tokens given back with SO_DEVMEM_DONTNEED.
 *  host (--host) — plain recv() into host memory, the same check.
 *
 * The stream is the pattern of tests/kmod/tcp_send.py (pattern_fill()).
 * Output: "listening ..." once accepting, then one "rx: key=value ..." line.
 * Exit: 0 every byte as sent, 1 a failure, 3 the kernel refused the bind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kctl.h"

#ifndef MSG_SOCK_DEVMEM
#define MSG_SOCK_DEVMEM 0x2000000
#endif
#ifndef SO_DEVMEM_LINEAR
#define SO_DEVMEM_LINEAR 78
#define SO_DEVMEM_DMABUF 79
#define SO_DEVMEM_DONTNEED 80
#endif

/* include/uapi/linux/uio.h (6.12); that header clashes with glibc's iovec. */
struct dmabuf_cmsg {
	uint64_t frag_offset;    /* offset into the dmabuf */
	uint32_t frag_size;
	uint32_t frag_token;     /* for SO_DEVMEM_DONTNEED */
	uint32_t dmabuf_id;
	uint32_t flags;
};

struct dmabuf_token {
	uint32_t token_start;
	uint32_t token_count;
};

void pattern_fill(uint8_t *blk)
{
	uint64_t x = 0;

	for (uint32_t k = 0; k < PATTERN_WORDS; k++) {
		uint64_t z = (x += 0x9E3779B97F4A7C15ull);

		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		z ^= z >> 31;
		for (int b = 0; b < 8; b++)
			blk[k * 8 + b] = (uint8_t)(z >> (8 * b));
	}
}

struct rx_state {
	const struct rx_opts *o;
	struct stream_check chk; /* chk.off: stream bytes seen */
	uint64_t dmabuf_bytes, linear_bytes, frags, linear_cmsgs;
	uint64_t tokens_returned, dontneed_calls, dontneed_short;
	uint64_t recv_calls;     /* recvmsg/recv, each a syscall */
	uint64_t syncs;          /* recvmsg with data: a DMA_BUF_IOCTL_SYNC pair */
	uint32_t *held;          /* tokens not returned yet */
	uint32_t nheld, maxheld;
};

/* Compare @len bytes at @p with the stream from sc->off; advance. */
void stream_check(struct stream_check *sc, const uint8_t *p, uint64_t len)
{
	while (len) {
		uint64_t at = sc->off % PATTERN_LEN;
		uint64_t n = PATTERN_LEN - at < len ? PATTERN_LEN - at : len;

		if (memcmp(p, sc->blk + at, n)) {
			for (uint64_t i = 0; i < n; i++) {
				if (p[i] != sc->blk[at + i]) {
					if (!sc->mismatches)
						sc->first_bad = sc->off + i;
					sc->mismatches++;
				}
			}
		}
		p += n;
		len -= n;
		sc->off += n;
	}
}

double cpu_self_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Busy jiffies of every CPU (/proc/stat: all but idle and iowait), in s. */
double cpu_all_s(void)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	double busy = 0;

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 7)
		busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
	fclose(f);
	return busy / (double)sysconf(_SC_CLK_TCK);
}

static int give_back(int sock, struct rx_state *s, uint32_t keep)
{
	struct dmabuf_token tok[128];
	uint32_t n = 0, i, upto;

	if (s->nheld <= keep)
		return 0;
	upto = s->nheld - keep;
	for (i = 0; i < upto;) {
		n = 0;
		while (i < upto && n < 128) {
			if (n && tok[n - 1].token_start + tok[n - 1].token_count == s->held[i])
				tok[n - 1].token_count++;
			else
				tok[n++] = (struct dmabuf_token){ s->held[i], 1 };
			i++;
		}
		int r = setsockopt(sock, SOL_SOCKET, SO_DEVMEM_DONTNEED, tok,
				   (socklen_t)(n * sizeof(tok[0])));
		if (r < 0) {
			fprintf(stderr, "netmem-kctl rx: SO_DEVMEM_DONTNEED: %s\n", strerror(errno));
			return -errno;
		}
		s->dontneed_calls++;
		s->tokens_returned += (uint64_t)r;
		/* The kernel frees at most what it was given; fewer is a bug. */
		uint64_t given = 0;
		for (uint32_t k = 0; k < n; k++)
			given += tok[k].token_count;
		if ((uint64_t)r != given)
			s->dontneed_short++;
	}
	memmove(s->held, s->held + upto, keep * sizeof(s->held[0]));
	s->nheld = keep;
	return 0;
}

static int hold_token(int sock, struct rx_state *s, uint32_t token)
{
	if (s->nheld == s->maxheld) {
		/* Give back all but the last --hold: batches as ncdevmem's. */
		int ret = give_back(sock, s, s->o->hold);

		if (ret)
			return ret;
	}
	s->held[s->nheld++] = token;
	return 0;
}

static int recv_devmem(int sock, struct rx_state *s, const uint8_t *map, uint64_t map_len,
		       uint32_t dmabuf_id, int dmabuf_fd)
{
	static uint8_t linear[65536];
	static char ctrl[CMSG_SPACE(sizeof(struct dmabuf_cmsg)) * 256];

	for (;;) {
		struct iovec iov = { linear, sizeof(linear) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };
		struct dma_buf_sync sync = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
		uint64_t lin_used = 0;
		struct cmsghdr *cm;
		ssize_t n = recvmsg(sock, &msg, MSG_SOCK_DEVMEM);

		s->recv_calls++;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "netmem-kctl rx: recvmsg(MSG_SOCK_DEVMEM): %s\n",
				strerror(errno));
			return -errno;
		}
		if (n == 0)
			return 0;
		if (msg.msg_flags & MSG_CTRUNC) {
			fprintf(stderr, "netmem-kctl rx: control data truncated\n");
			return -EMSGSIZE;
		}
		ioctl(dmabuf_fd, DMA_BUF_IOCTL_SYNC, &sync);
		s->syncs++;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct dmabuf_cmsg dc;

			if (cm->cmsg_level != SOL_SOCKET ||
			    (cm->cmsg_type != SO_DEVMEM_DMABUF && cm->cmsg_type != SO_DEVMEM_LINEAR))
				continue;
			memcpy(&dc, CMSG_DATA(cm), sizeof(dc));
			if (cm->cmsg_type == SO_DEVMEM_LINEAR) {
				if (lin_used + dc.frag_size > (uint64_t)n) {
					fprintf(stderr, "netmem-kctl rx: linear cmsg past the data\n");
					return -EPROTO;
				}
				stream_check(&s->chk, linear + lin_used, dc.frag_size);
				lin_used += dc.frag_size;
				s->linear_bytes += dc.frag_size;
				s->linear_cmsgs++;
				continue;
			}
			if (dc.dmabuf_id != dmabuf_id ||
			    dc.frag_offset + dc.frag_size > map_len) {
				fprintf(stderr, "netmem-kctl rx: fragment of dmabuf %u at %llu+%u is not in ours (%u, %llu bytes)\n",
					dc.dmabuf_id, (unsigned long long)dc.frag_offset,
					dc.frag_size, dmabuf_id, (unsigned long long)map_len);
				return -EPROTO;
			}
			stream_check(&s->chk, map + dc.frag_offset, dc.frag_size);
			s->dmabuf_bytes += dc.frag_size;
			s->frags++;
			if (hold_token(sock, s, dc.frag_token))
				return -EIO;
		}
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
		ioctl(dmabuf_fd, DMA_BUF_IOCTL_SYNC, &sync);
		if (s->chk.off > s->o->expect)
			return 0;       /* more than was announced: reported below */
	}
}

static int recv_host(int sock, struct rx_state *s)
{
	static uint8_t buf[262144];

	for (;;) {
		ssize_t n = recv(sock, buf, sizeof(buf), 0);

		s->recv_calls++;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "netmem-kctl rx: recv: %s\n", strerror(errno));
			return -errno;
		}
		if (n == 0)
			return 0;
		stream_check(&s->chk, buf, (uint64_t)n);
		s->linear_bytes += (uint64_t)n;
	}
}

int listen_on(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* One connection on @lsock within @timeout_s: its fd, or -1 (said why, as
 * "netmem-kctl @who: ..."). */
int accept_within(int lsock, uint32_t timeout_s, const char *who)
{
	struct pollfd pfd = { .fd = lsock, .events = POLLIN };
	int sock;

	if (poll(&pfd, 1, (int)timeout_s * 1000) != 1) {
		fprintf(stderr, "netmem-kctl %s: no connection within %u s\n", who, timeout_s);
		return -1;
	}
	sock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		fprintf(stderr, "netmem-kctl %s: accept: %s\n", who, strerror(errno));
	return sock;
}

int kctl_rx(struct kdev *kd, const struct rx_opts *o)
{
	struct rx_state s = { .o = o };
	struct nmk_rxq_stats st0 = { .index = o->queue }, st1 = { .index = o->queue };
	struct devmem_nl nl = { .fd = -1 };
	uint8_t *map = MAP_FAILED;
	int dmabuf = -1, lsock = -1, sock = -1, ret = 1, r;
	uint32_t id = 0;
	double t0 = 0, t1, c0 = 0, c1, a0 = 0, a1;

	s.chk.blk = malloc(PATTERN_LEN);
	s.maxheld = o->hold + (o->batch ? o->batch : 1);
	s.held = calloc(s.maxheld, sizeof(*s.held));
	if (!s.chk.blk || !s.held)
		goto out;
	pattern_fill(s.chk.blk);

	if (!o->host) {
		dmabuf = udmabuf_create_huge(o->size, NULL, o->huge);
		if (dmabuf < 0) {
			fprintf(stderr, "netmem-kctl rx: udmabuf: %s\n", strerror(-dmabuf));
			goto out;
		}
		map = mmap(NULL, o->size, PROT_READ, MAP_SHARED, dmabuf, 0);
		if (map == MAP_FAILED) {
			fprintf(stderr, "netmem-kctl rx: mmap of the udmabuf: %s\n", strerror(errno));
			goto out;
		}
		r = devmem_nl_open(&nl);
		if (!r)
			r = devmem_nl_bind_rx_page(&nl, kd->info.ifindex, dmabuf, o->queue,
						   o->rx_page_size, &id);
		if (r) {
			printf("rx: refused bind-rx of queue %u: %s%s%s\n", o->queue, strerror(-r),
			       nl.ext_msg[0] ? ": " : "", nl.ext_msg);
			ret = 3;
			goto out;
		}
		printf("rx: kernel devmem binding %u on %s queue %u (%llu MiB udmabuf%s, rx-page-size %u)\n",
		       id, kd->info.ifname, o->queue, (unsigned long long)(o->size >> 20),
		       o->huge ? " on hugetlb pages" : "", o->rx_page_size ? o->rx_page_size : 4096);
	}
	lsock = listen_on(o->port);
	if (lsock < 0) {
		fprintf(stderr, "netmem-kctl rx: listen on port %u: %s\n", o->port, strerror(-lsock));
		goto out;
	}
	/* Before the sender can send: payload may land before accept returns. */
	ioctl(kd->fd, NMK_IOC_RXQ_STATS, &st0);
	printf("listening on port %u (%s)\n", o->port, o->host ? "host memory" : "devmem");
	sock = accept_within(lsock, o->timeout_s, "rx");
	if (sock < 0)
		goto out;
	t0 = now_us();
	c0 = cpu_self_s();
	a0 = cpu_all_s();
	r = o->host ? recv_host(sock, &s) :
		      recv_devmem(sock, &s, map, o->size, id, dmabuf);
	t1 = now_us();
	c1 = cpu_self_s();
	a1 = cpu_all_s();
	if (!o->host && !r)
		r = give_back(sock, &s, o->hold);
	ioctl(kd->fd, NMK_IOC_RXQ_STATS, &st1);

	printf("rx: mode=%s queue=%u bytes=%llu expect=%llu mismatches=%llu first_bad=%llu "
	       "dmabuf_bytes=%llu linear_bytes=%llu frags=%llu linear_cmsgs=%llu "
	       "tokens_returned=%llu dontneed_calls=%llu dontneed_short=%llu held=%u "
	       "secs=%.3f cpu_self_s=%.3f cpu_all_s=%.3f "
	       "q_packets=%llu q_split=%llu q_hdr_bytes=%llu q_payload_devmem=%llu "
	       "q_payload_host=%llu q_drop_no_buf=%llu q_drop_backlog=%llu "
	       "q_ring_allocs=%llu q_ring_alloc_ns=%llu q_pool_hold=%llu syscalls=%llu\n",
	       o->host ? "host" : "devmem", o->queue, (unsigned long long)s.chk.off,
	       (unsigned long long)o->expect, (unsigned long long)s.chk.mismatches,
	       (unsigned long long)s.chk.first_bad, (unsigned long long)s.dmabuf_bytes,
	       (unsigned long long)s.linear_bytes, (unsigned long long)s.frags,
	       (unsigned long long)s.linear_cmsgs, (unsigned long long)s.tokens_returned,
	       (unsigned long long)s.dontneed_calls, (unsigned long long)s.dontneed_short,
	       s.nheld, (t1 - t0) / 1e6, c1 - c0, a1 - a0,
	       (unsigned long long)(st1.packets - st0.packets),
	       (unsigned long long)(st1.split - st0.split),
	       (unsigned long long)(st1.hdr_bytes - st0.hdr_bytes),
	       (unsigned long long)(st1.payload_devmem - st0.payload_devmem),
	       (unsigned long long)(st1.payload_host - st0.payload_host),
	       (unsigned long long)(st1.drop_no_buf - st0.drop_no_buf),
	       (unsigned long long)(st1.drop_backlog - st0.drop_backlog),
	       (unsigned long long)(st1.ring_allocs - st0.ring_allocs),
	       (unsigned long long)(st1.ring_alloc_ns - st0.ring_alloc_ns),
	       (unsigned long long)(st1.pool_hold - st0.pool_hold),
	       /* the data path's: recv(msg), SO_DEVMEM_DONTNEED, and the two
		* DMA_BUF_IOCTL_SYNC around each devmem recvmsg with data */
	       (unsigned long long)(s.recv_calls + s.dontneed_calls +
				    (o->host ? 0 : 2 * s.syncs)));
	if (!r && s.chk.off == o->expect && !s.chk.mismatches && !s.dontneed_short)
		ret = 0;
	if (o->hold && s.nheld) {
		/* Unbind first, then close, with the tokens still out. */
		printf("rx: holding %u tokens; closing the netlink socket (unbind), then the TCP socket\n",
		       s.nheld);
		devmem_nl_close(&nl);
		close(sock);
		sock = -1;
	}
out:
	if (sock >= 0)
		close(sock);
	if (lsock >= 0)
		close(lsock);
	devmem_nl_close(&nl);
	if (map != MAP_FAILED)
		munmap(map, o->size);
	if (dmabuf >= 0)
		close(dmabuf);
	free(s.held);
	free(s.chk.blk);
	return ret;
}
