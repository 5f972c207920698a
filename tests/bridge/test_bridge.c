/* SPDX-License-Identifier: MIT */
/*
 * The kernel bridge in the guest: page-backed dmabufs (vgem PRIME, the system
 * dma-heap) DMA-mapped through VFIO type1, bytes checked both ways, close
 * orders, kill -9, bad input; the clear error before the module is loaded,
 * a clean rmmod and dmesg after. Run in the guest by test_bridge.sh:
 *   test_bridge PATH/netmem_bridge.ko
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/vfio.h>

#include <netmem/netmem.h>
#include <uapi/netmem_bridge.h>

#include "nm_test.h"

#define SZ (8u << 20)

static int group = -1;

static int dmabuf_objects(void)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		/* Not "Total N devices attached", printed per buffer. */
		if (strstr(line, " objects") && sscanf(line, "Total %d objects", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Bind @spec on a VFIO-domain device and check bytes both ways. */
static void check_source(const char *spec, bool expect_bridge)
{
	struct nm_dma_domain *dom;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_err err = { 0 };
	uint8_t *cpu, *pin;

	/* A binding needs a DMA domain only, no device. */
	CHECK_MSG(nm_dma_domain_vfio_create(group, &dom, &err) == 0, "%s", err.msg);
	CHECK_MSG(nm_dmabuf_open_spec(spec, &buf, &err) == 0, "%s: %s", spec, err.msg);
	printf("# %s: exporter '%s', %llu bytes\n", spec, buf->exporter,
	       (unsigned long long)buf->size);
	CHECK_MSG(nm_dmabuf_binding_create(dom, buf, NULL, &b, &err) == 0, "%s", err.msg);
	CHECK_EQ(buf->bridge_fd >= 0, expect_bridge);
	CHECK(b->iova >= (1ull << 32));
	CHECK_EQ(dom->stats.maps, 1);
	CHECK_EQ(nm_dmabuf_cpu_map(buf, (void **)&cpu, &err), 0);
	pin = buf->pin_addr;
	CHECK(pin != NULL && pin != cpu);
	/* Written through the dmabuf's own mmap, read through what VFIO pinned. */
	CHECK_EQ(nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_WRITE), 0);
	nm_pattern_fill(cpu, buf->size, 0, 3);
	CHECK_EQ(nm_dmabuf_end_cpu_access(buf, NM_DMABUF_WRITE), 0);
	CHECK_EQ(nm_pattern_check(pin, buf->size, 0, 3), -1);
	/* And the other way round. */
	nm_pattern_fill(pin, buf->size, 0, 4);
	CHECK_EQ(nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_READ), 0);
	CHECK_EQ(nm_pattern_check(cpu, buf->size, 0, 4), -1);
	CHECK_EQ(nm_dmabuf_end_cpu_access(buf, NM_DMABUF_READ), 0);
	nm_dmabuf_binding_unbind(b);
	CHECK_EQ(dom->stats.unmaps, 1);
	nm_dmabuf_put(buf);
	nm_dma_domain_put(dom);
}

static void test_vgem_through_bridge(void) { check_source("vgem:8M", true); }
static void test_heap_through_bridge(void) { check_source("heap:8M", true); }
static void test_udmabuf_through_memfd(void) { check_source("udmabuf:8M", false); }

static void test_second_bridge_is_refused(void)
{
	struct nm_dmabuf *a, *b;
	struct nm_err err = { 0 };
	void *p;

	CHECK_EQ(nm_dmabuf_open_spec("heap:1M", &a, &err), 0);
	CHECK_EQ(nm_dmabuf_import(a->fd, &b, &err), 0);
	CHECK_EQ(nm_dmabuf_pin_addr(a, &p, &err), 0);
	CHECK_EQ(nm_dmabuf_pin_addr(b, &p, &err), -EBUSY);
	CHECK_MSG(strstr(err.msg, "bridged already") != NULL, "%s", err.msg);
	CHECK(b->bridge_fd < 0);
	nm_dmabuf_put(a);      /* releases the first bridge... */
	CHECK_EQ(nm_dmabuf_pin_addr(b, &p, &err), 0);  /* ...so this one may */
	nm_dmabuf_put(b);
}

static void test_bad_input_to_the_bridge(void)
{
	struct netmem_bridge_import imp = { 0 };
	int dev = open(NETMEM_BRIDGE_DEV, O_RDWR);
	int memfd = memfd_create("x", 0), closed = dup(0);

	CHECK(dev >= 0);
	close(closed);
	CHECK_EQ(ftruncate(memfd, 4096), 0);
	imp.dmabuf_fd = memfd;
	CHECK(ioctl(dev, NETMEM_BRIDGE_IOC_IMPORT, &imp) < 0 && errno == EINVAL);
	imp.dmabuf_fd = closed;
	CHECK(ioctl(dev, NETMEM_BRIDGE_IOC_IMPORT, &imp) < 0 && errno == EBADF);
	imp.dmabuf_fd = -1;
	CHECK(ioctl(dev, NETMEM_BRIDGE_IOC_IMPORT, &imp) < 0 && errno == EBADF);
	CHECK(ioctl(dev, _IO('N', 0x7f), 0) < 0 && errno == ENOTTY);
	CHECK(ioctl(dev, NETMEM_BRIDGE_IOC_IMPORT, NULL) < 0 && errno == EFAULT);
	close(memfd);
	close(dev);
}

/* Raw pieces, so each can be closed in any order. */
struct pieces {
	int dmabuf, bridge;
	uint8_t *map;
	struct nm_dma_domain *dom;
	uint64_t iova;
};

static int pieces_up(struct pieces *p)
{
	struct dma_heap_allocation_data a = { .len = SZ, .fd_flags = O_RDWR | O_CLOEXEC };
	struct netmem_bridge_import imp = { 0 };
	int heap = open("/dev/dma_heap/system", O_RDONLY), dev;

	if (heap < 0 || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a))
		return -1;
	close(heap);
	p->dmabuf = (int)a.fd;
	dev = open(NETMEM_BRIDGE_DEV, O_RDWR);
	imp.dmabuf_fd = p->dmabuf;
	if (dev < 0 || ioctl(dev, NETMEM_BRIDGE_IOC_IMPORT, &imp))
		return -2;
	close(dev);
	p->bridge = imp.fd;
	p->map = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, p->bridge, 0);
	if (p->map == MAP_FAILED)
		return -3;
	if (nm_dma_domain_vfio_create(group, &p->dom, NULL) ||
	    nm_dma_map(p->dom, p->map, SZ, &p->iova, NULL))
		return -4;
	nm_pattern_fill(p->map, SZ, 0, 9);
	return 0;
}

static void test_close_in_any_order(void)
{
	int base = dmabuf_objects();

	CHECK(base >= 0);
	for (int order = 0; order < 4; order++) {
		struct pieces p;

		CHECK_EQ(pieces_up(&p), 0);
		CHECK_EQ(dmabuf_objects(), base + 1);
		switch (order) {
		case 0: /* dmabuf, bridge fd, mapping, then the IOMMU mapping */
			close(p.dmabuf);
			close(p.bridge);
			CHECK_EQ(nm_pattern_check(p.map, SZ, 0, 9), -1);
			munmap(p.map, SZ);
			nm_dma_unmap(p.dom, p.iova, SZ);
			nm_dma_domain_put(p.dom);
			break;
		case 1: /* mapping, bridge fd, IOMMU, dmabuf last */
			munmap(p.map, SZ);
			close(p.bridge);
			nm_dma_unmap(p.dom, p.iova, SZ);
			nm_dma_domain_put(p.dom);
			CHECK_EQ(dmabuf_objects(), base + 1);
			close(p.dmabuf);
			break;
		case 2: /* the VFIO container first, still mapped */
			nm_dma_domain_put(p.dom);
			close(p.dmabuf);
			munmap(p.map, SZ);
			close(p.bridge);
			break;
		case 3: /* everything but the IOMMU mapping, which goes last */
			close(p.bridge);
			close(p.dmabuf);
			munmap(p.map, SZ);
			CHECK_EQ(nm_dma_unmap(p.dom, p.iova, SZ), 0);
			nm_dma_domain_put(p.dom);
			break;
		}
		CHECK_MSG(dmabuf_objects() == base, "order %d: %d dmabufs left, %d before",
			  order, dmabuf_objects(), base);
	}
}

static void test_kill_9_then_claim_again(void)
{
	int base = dmabuf_objects(), pipefd[2];
	struct nm_dma_domain *dom;
	struct nm_err err = { 0 };
	char c;
	pid_t pid;
	int status;

	CHECK_EQ(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		struct pieces p;

		if (pieces_up(&p))
			_exit(1);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	CHECK_EQ(read(pipefd[0], &c, 1), 1);
	CHECK_EQ(dmabuf_objects(), base + 1);
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(dmabuf_objects(), base);
	/* The device's group and the memory can be claimed again. */
	CHECK_MSG(nm_dma_domain_vfio_create(group, &dom, &err) == 0, "%s", err.msg);
	nm_dma_domain_put(dom);
	check_source("heap:8M", true);
}

static void test_no_bridge_error_is_clear(void)
{
	struct nm_dma_domain *dom;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_err err = { 0 };
	uint64_t iova;
	void *cpu;

	CHECK(access(NETMEM_BRIDGE_DEV, F_OK) != 0);
	CHECK_MSG(nm_dma_domain_vfio_create(group, &dom, &err) == 0, "%s", err.msg);
	CHECK_MSG(nm_dmabuf_open_spec("vgem:1M", &buf, &err) == 0, "%s", err.msg);
	CHECK_EQ(nm_dmabuf_binding_create(dom, buf, NULL, &b, &err), -ENODEV);
	printf("# %s\n", err.msg);
	CHECK(strstr(err.msg, "insmod kmod/bridge/netmem_bridge.ko") != NULL);
	CHECK_EQ(dom->stats.maps, 0);
	/* The fact behind it: type1 refuses the dmabuf's own mmap. */
	CHECK_EQ(nm_dmabuf_cpu_map(buf, &cpu, &err), 0);
	CHECK_EQ(nm_dma_map(dom, cpu, buf->size, &iova, &err), -EFAULT);
	printf("# %s\n", err.msg);
	nm_dmabuf_put(buf);
	nm_dma_domain_put(dom);
}

static const char *module_path;

static void test_load_module(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "insmod %s", module_path);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(access(NETMEM_BRIDGE_DEV, R_OK | W_OK), 0);
}

static void test_unload_is_clean(void)
{
	CHECK_EQ(system("rmmod netmem_bridge"), 0);
	CHECK(access(NETMEM_BRIDGE_DEV, F_OK) != 0);
	/* grep finds nothing: exit status 1 */
	CHECK_EQ(system("dmesg | grep -E 'WARNING|BUG|Oops|leak|refcount'"), 1 << 8);
}

int main(int argc, char **argv)
{
	const char *g = getenv("NETMEM_GUEST_VFIO_GROUP");
	static const struct nm_test tests[] = {
		NM_TEST(test_no_bridge_error_is_clear),
		NM_TEST(test_load_module),
		NM_TEST(test_vgem_through_bridge),
		NM_TEST(test_heap_through_bridge),
		NM_TEST(test_udmabuf_through_memfd),
		NM_TEST(test_second_bridge_is_refused),
		NM_TEST(test_bad_input_to_the_bridge),
		NM_TEST(test_close_in_any_order),
		NM_TEST(test_kill_9_then_claim_again),
		NM_TEST(test_unload_is_clean),
	};

	if (argc != 2 || !g) {
		fprintf(stderr, "usage (in the guest, --vfio): test_bridge MODULE.ko\n");
		return 2;
	}
	group = atoi(g);
	module_path = argv[1];
	return nm_test_run(tests, sizeof(tests) / sizeof(tests[0]));
}
