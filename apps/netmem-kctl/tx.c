/* SPDX-License-Identifier: MIT */
/*
 * A TCP sender on the module's NIC, two ways, the stream of
 * tests/kmod/tcp_send.py (pattern_fill()) so any receiver can check it:
 *
 *  devmem (default) — the kernel's devmem TX (6.16+), as its ncdevmem does:
 *    the pattern written into a udmabuf, netlink bind-tx of it to nmk0, a
 *    socket bound to nmk0 with SO_ZEROCOPY, and sendmsg(MSG_ZEROCOPY) whose
 *    iovecs are offsets into the udmabuf, named by an SCM_DEVMEM_DMABUF cmsg.
 *    The kernel never reads the payload; nmk0 reads it from the binding's DMA
 *    addresses. The zerocopy completions (MSG_ERRQUEUE) are reaped as they
 *    come, and all of them before the end.
 *  host (--host) — plain send() from host memory, the same stream.
 *
 * Output: one "tx: key=value ..." line. Exit: 0 every byte sent, every
 * completion seen, and the receiver closed; 1 a failure; 3 the kernel
 * refused bind-tx (the reason is printed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kctl.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif
#define SCM_DEVMEM_DMABUF_ 79    /* include/uapi/asm-generic/socket.h (6.12+) */

struct tx_state {
	uint64_t sends, zc_ids, completions, copied;
};

/* Reap zerocopy completions: each names a range of sendmsg ids. */
static int reap(int sock, struct tx_state *s)
{
	char ctrl[CMSG_SPACE(sizeof(struct sock_extended_err)) + 64];
	struct msghdr m = { .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };
	struct sock_extended_err *ee;
	struct cmsghdr *c;

	for (;;) {
		m.msg_controllen = sizeof(ctrl);
		if (recvmsg(sock, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
			      (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
				continue;
			ee = (struct sock_extended_err *)CMSG_DATA(c);
			if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
				return ee->ee_errno ? -(int)ee->ee_errno : -EIO;
			s->completions += (uint64_t)(ee->ee_data - ee->ee_info) + 1;
			if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				s->copied += (uint64_t)(ee->ee_data - ee->ee_info) + 1;
		}
	}
}

/* Wait up to @ms for the error queue (completions) to have something. */
static int wait_errqueue(int sock, int ms)
{
	struct pollfd p = { .fd = sock, .events = 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLERR) ? 0 : -ETIMEDOUT;
}

static int send_devmem(int sock, uint32_t id, uint64_t at, uint64_t n, struct tx_state *s)
{
	char ctrl[CMSG_SPACE(sizeof(uint32_t))] = { 0 };
	struct iovec iov = { .iov_base = (void *)(uintptr_t)at, .iov_len = n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ssize_t r;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_DEVMEM_DMABUF_;
	c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
	memcpy(CMSG_DATA(c), &id, sizeof(id));
	for (int tries = 0; tries < 1000; tries++) {
		r = sendmsg(sock, &m, MSG_ZEROCOPY);
		if (r >= 0) {
			s->sends++;
			s->zc_ids += r > 0;
			return (int)r;
		}
		if (errno != ENOBUFS && errno != EINTR)
			return -errno;
		/* Too many notifications outstanding (optmem): reap first. */
		wait_errqueue(sock, 100);
		if (reap(sock, s) < 0)
			return -EIO;
	}
	return -ENOBUFS;
}

static int connect_to(const struct tx_opts *o, const char *ifname)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(o->port) };
	int one = 1;

	if (inet_pton(AF_INET, o->addr, &sa.sin_addr) != 1)
		return -EINVAL;
	for (uint32_t t = 0; t < o->timeout_s * 10; t++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		/* The binding's DMA addresses reach nmk0 only (the kernel checks
		 * the route's device), as ncdevmem binds its socket. */
		if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) ||
		    (!o->host && setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		usleep(100000);
	}
	return -ETIMEDOUT;
}

int kctl_tx(struct kdev *kd, const struct tx_opts *o)
{
	struct nmk_tx_stats st0 = { 0 }, st1 = { 0 };
	struct devmem_nl nl = { .fd = -1 };
	struct tx_state s = { 0 };
	uint8_t *map = MAP_FAILED;
	int dmabuf = -1, memfd = -1, sock = -1, ret = 1, r = 0;
	uint64_t sent = 0, size = o->size;
	const char *ifname = o->dev ? o->dev : kd->info.ifname;
	uint32_t id = 0, ifindex = o->dev ? if_nametoindex(o->dev) : kd->info.ifindex;
	double t0, t1, c0, c1, a0, a1;
	char b;

	/* The stream at offset i is the block at i % PATTERN_LEN: two blocks
	 * back to back serve any send of up to one block. */
	if (!ifindex) {
		fprintf(stderr, "netmem-kctl tx: no device '%s'\n", ifname);
		return 2;
	}
	if (size < 2ull * PATTERN_LEN) {
		fprintf(stderr, "netmem-kctl tx: -s must hold two pattern blocks (%u bytes)\n",
			2 * PATTERN_LEN);
		return 2;
	}
	if (o->host) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else {
		dmabuf = udmabuf_create(size, &memfd);
		if (dmabuf < 0) {
			fprintf(stderr, "netmem-kctl tx: udmabuf: %s\n", strerror(-dmabuf));
			return 1;
		}
		/* Written through the memfd: the udmabuf is those pages. */
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	}
	if (map == MAP_FAILED) {
		fprintf(stderr, "netmem-kctl tx: mmap: %s\n", strerror(errno));
		goto out;
	}
	pattern_fill(map);
	memcpy(map + PATTERN_LEN, map, PATTERN_LEN);

	if (!o->host) {
		r = devmem_nl_open(&nl);
		if (!r)
			r = devmem_nl_bind_tx(&nl, ifindex, dmabuf, &id);
		if (r) {
			printf("tx: refused bind-tx on %s: %s%s%s\n", ifname, strerror(-r),
			       nl.ext_msg[0] ? ": " : "", nl.ext_msg);
			ret = 3;
			goto out;
		}
		printf("tx: kernel devmem TX binding %u on %s (%llu MiB udmabuf)\n", id,
		       ifname, (unsigned long long)(size >> 20));
	}
	sock = connect_to(o, ifname);
	if (sock < 0) {
		fprintf(stderr, "netmem-kctl tx: connect to %s:%u via %s: %s\n", o->addr, o->port,
			ifname, strerror(-sock));
		goto out;
	}
	ioctl(kd->fd, NMK_IOC_TX_STATS, &st0);
	t0 = now_us();
	c0 = cpu_self_s();
	a0 = cpu_all_s();
	while (sent < o->bytes) {
		uint64_t at = sent % PATTERN_LEN;
		uint64_t n = o->bytes - sent;

		if (n > o->chunk)
			n = o->chunk;
		if (n > PATTERN_LEN)
			n = PATTERN_LEN;
		if (o->host) {
			ssize_t w = send(sock, map + at, n, 0);

			r = w < 0 ? -errno : (int)w;
		} else {
			r = send_devmem(sock, id, at, n, &s);
			if (r >= 0 && reap(sock, &s) < 0)
				r = -EIO;
		}
		if (r < 0 && r != -EINTR)
			break;
		if (r > 0)
			sent += (uint64_t)r;
		r = 0;
	}
	if (r < 0)
		fprintf(stderr, "netmem-kctl tx: send at %llu: %s\n", (unsigned long long)sent,
			strerror(-r));
	shutdown(sock, SHUT_WR);
	/* Every notification before the end: the NIC has read every buffer. */
	for (uint32_t i = 0; !o->host && s.completions < s.zc_ids && i < o->timeout_s * 10; i++) {
		wait_errqueue(sock, 100);
		if (reap(sock, &s) < 0)
			break;
	}
	/* The receiver closes once it has everything. */
	{
		struct pollfd p = { .fd = sock, .events = POLLIN };

		while (poll(&p, 1, (int)o->timeout_s * 1000) == 1 && recv(sock, &b, 1, 0) > 0)
			;
	}
	t1 = now_us();
	c1 = cpu_self_s();
	a1 = cpu_all_s();
	ioctl(kd->fd, NMK_IOC_TX_STATS, &st1);

	printf("tx: mode=%s bytes=%llu expect=%llu sends=%llu zc_ids=%llu completions=%llu "
	       "copied=%llu secs=%.3f cpu_self_s=%.3f cpu_all_s=%.3f netmem_tx=%u "
	       "nic_packets=%llu nic_dma_read=%llu nic_frags_devmem=%llu nic_bytes_devmem=%llu "
	       "nic_frags_host=%llu nic_bytes_host=%llu nic_drops=%llu\n",
	       o->host ? "host" : "devmem", (unsigned long long)sent,
	       (unsigned long long)o->bytes, (unsigned long long)s.sends,
	       (unsigned long long)s.zc_ids, (unsigned long long)s.completions,
	       (unsigned long long)s.copied, (t1 - t0) / 1e6, c1 - c0, a1 - a0, st1.netmem_tx,
	       (unsigned long long)(st1.packets - st0.packets),
	       (unsigned long long)(st1.dma_read - st0.dma_read),
	       (unsigned long long)(st1.frags_devmem - st0.frags_devmem),
	       (unsigned long long)(st1.bytes_devmem - st0.bytes_devmem),
	       (unsigned long long)(st1.frags_host - st0.frags_host),
	       (unsigned long long)(st1.bytes_host - st0.bytes_host),
	       (unsigned long long)(st1.drop_nomem + st1.drop_unmapped + st1.drop_other -
				    st0.drop_nomem - st0.drop_unmapped - st0.drop_other));
	if (sent == o->bytes && (o->host || (s.completions == s.zc_ids && !s.copied)))
		ret = 0;
out:
	if (sock >= 0)
		close(sock);
	devmem_nl_close(&nl);
	if (map != MAP_FAILED)
		munmap(map, size);
	if (dmabuf >= 0)
		close(dmabuf);
	if (memfd >= 0)
		close(memfd);
	return ret;
}
