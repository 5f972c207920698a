/* SPDX-License-Identifier: MIT */
/*
 * The module's control device, and the small host facilities the checks
 * and benchmarks need: a udmabuf, link up/down, /proc/meminfo.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/udmabuf.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kctl.h"

int kdev_open(struct kdev *kd)
{
	kd->fd = open("/dev/" NMK_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (kd->fd < 0) {
		int e = errno;

		fprintf(stderr, "netmem-kctl: cannot open /dev/%s: %s%s\n", NMK_DEVICE_NAME,
			strerror(e), e == ENOENT ? " (is netmem_kmod loaded?)" : "");
		return -e;
	}
	if (kdev_info(kd) < 0) {
		fprintf(stderr, "netmem-kctl: /dev/%s does not answer INFO: %s\n",
			NMK_DEVICE_NAME, strerror(errno));
		close(kd->fd);
		return -EPROTO;
	}
	if (kd->info.abi_version != NMK_ABI_VERSION) {
		fprintf(stderr, "netmem-kctl: module ABI %u, tool ABI %u: rebuild one\n",
			kd->info.abi_version, NMK_ABI_VERSION);
		close(kd->fd);
		return -EPROTO;
	}
	return 0;
}

void kdev_close(struct kdev *kd)
{
	if (kd->fd >= 0)
		close(kd->fd);
	kd->fd = -1;
}

static int ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int kdev_info(struct kdev *kd)
{
	return ioc(kd->fd, NMK_IOC_INFO, &kd->info);
}

int kdev_queue(struct kdev *kd, uint32_t idx, struct nmk_queue *q)
{
	memset(q, 0, sizeof(*q));
	q->index = idx;
	return ioc(kd->fd, NMK_IOC_QUEUE_GET, q);
}

int kdev_bind(struct kdev *kd, struct nmk_bind *b)
{
	return ioc(kd->fd, NMK_IOC_BIND, b);
}

int kdev_unbind(struct kdev *kd, struct nmk_unbind *u)
{
	return ioc(kd->fd, NMK_IOC_UNBIND, u);
}

int kdev_bench(struct kdev *kd, struct nmk_bench *b)
{
	return ioc(kd->fd, NMK_IOC_BENCH, b);
}

int link_set_up(const char *ifname, bool up)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
		goto out;
	}
	if (!!(ifr.ifr_flags & IFF_UP) != up) {
		ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
out:
	close(fd);
	return ret;
}

int udmabuf_create(uint64_t bytes, int *memfd_out)
{
	return udmabuf_create_huge(bytes, memfd_out, false);
}

int udmabuf_create_huge(uint64_t bytes, int *memfd_out, bool huge)
{
	struct udmabuf_create create = { 0 };
	int memfd, dev, buf, e;

	if (huge)
		bytes = (bytes + (2ull << 20) - 1) & ~((2ull << 20) - 1);
	memfd = memfd_create("netmem-kctl", MFD_ALLOW_SEALING | MFD_CLOEXEC |
			     (huge ? MFD_HUGETLB : 0));
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, (off_t)bytes) < 0 ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		goto err;
	/* Fault the pages in now, so a bind measures the bind alone. */
	if (fallocate(memfd, 0, 0, (off_t)bytes) < 0)
		goto err;
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		goto err;
	create.memfd = memfd;
	create.offset = 0;
	create.size = bytes;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	buf = ioctl(dev, UDMABUF_CREATE, &create);
	e = errno;
	close(dev);
	if (buf < 0) {
		errno = e;
		goto err;
	}
	if (memfd_out)
		*memfd_out = memfd;
	else
		close(memfd);
	return buf;
err:
	e = errno;
	close(memfd);
	return -e;
}

uint64_t mem_free_bytes(void)
{
	unsigned long long kb = 0, count, pcp = 0;
	char line[160];
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %llu kB", &kb) == 1)
			break;
	fclose(f);
	/* Pages on the per-cpu lists are free too, but MemFree leaves them
	 * out: an allocation served from them would not show. */
	f = fopen("/proc/zoneinfo", "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, " count: %llu", &count) == 1)
				pcp += count;
		fclose(f);
	}
	return ((uint64_t)kb << 10) + (uint64_t)pcp * (uint64_t)sysconf(_SC_PAGESIZE);
}

long module_refcnt(void)
{
	FILE *f = fopen("/sys/module/netmem_kmod/refcnt", "re");
	long n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

const char *caps_str(uint32_t caps, char *buf, size_t len)
{
	static const char *const names[] = { "unreadable", "header-split", "restart" };
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < 3; i++)
		if (caps & (1u << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
						off ? "," : "", names[i]);
	if (!off)
		snprintf(buf, len, "-");
	return buf;
}

const char *provider_str(uint32_t provider)
{
	switch (provider) {
	case NMK_PROVIDER_NONE: return "down";
	case NMK_PROVIDER_HOST: return "host";
	case NMK_PROVIDER_DMABUF: return "kmod-dmabuf";
	case NMK_PROVIDER_KERNEL_DEVMEM: return "kernel-devmem";
	default: return "?";
	}
}

static const char *const check_names[] = {
	[NMK_CHECK_FIRST] = "check-first",
	[NMK_CHECK_AFTER_ALLOC] = "check-after-alloc",
	[NMK_CHECK_AFTER_RESTART] = "check-after-restart",
};

const char *check_str(uint32_t check)
{
	return check <= NMK_CHECK_MAX ? check_names[check] : "?";
}

int check_parse(const char *s, uint32_t *check)
{
	for (uint32_t i = 0; i <= NMK_CHECK_MAX; i++) {
		if (!strcmp(s, check_names[i])) {
			*check = i;
			return 0;
		}
	}
	return -EINVAL;
}
