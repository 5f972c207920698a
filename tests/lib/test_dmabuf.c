/* SPDX-License-Identifier: MIT */
/* dmabuf import: real dmabufs accepted, everything else refused clearly. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netmem/netmem.h>

#include "nm_test.h"

static void test_closed_fd_is_refused(void)
{
	struct nm_dmabuf *buf = NULL;
	struct nm_err err = { 0 };
	int fd = open("/dev/null", O_RDONLY);

	close(fd);
	CHECK_EQ(nm_dmabuf_import(fd, &buf, &err), -EBADF);
	CHECK(buf == NULL);
	CHECK(strstr(err.msg, "not an open file descriptor") != NULL);
	CHECK_EQ(nm_dmabuf_import(-1, &buf, &err), -EBADF);
}

static void test_regular_file_is_refused(void)
{
	struct nm_dmabuf *buf = NULL;
	struct nm_err err = { 0 };
	char path[] = "/tmp/netmem-test-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	CHECK_EQ(write(fd, "0123456789", 10), 10);
	CHECK_EQ(nm_dmabuf_import(fd, &buf, &err), -ENOTTY);
	CHECK_MSG(strstr(err.msg, "regular file") != NULL, "%s", err.msg);
	CHECK(buf == NULL);
	/* Nothing changed: still open, same offset. */
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 10);
	close(fd);
}

static void test_pipe_and_socket_are_refused(void)
{
	struct nm_dmabuf *buf = NULL;
	struct nm_err err = { 0 };
	int p[2], s[2];

	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(nm_dmabuf_import(p[0], &buf, &err), -ENOTTY);
	CHECK_MSG(strstr(err.msg, "pipe") != NULL, "%s", err.msg);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	CHECK_EQ(nm_dmabuf_import(s[0], &buf, &err), -ENOTTY);
	CHECK_MSG(strstr(err.msg, "socket") != NULL, "%s", err.msg);
	CHECK(buf == NULL);
	close(p[0]); close(p[1]); close(s[0]); close(s[1]);
}

static void test_memfd_is_not_a_dmabuf(void)
{
	struct nm_dmabuf *buf = NULL, *emu = NULL;
	struct nm_err err = { 0 };

	/* The emulated source is labelled, never passed off as a dmabuf. */
	CHECK_EQ(nm_dmabuf_create_memfd(1 << 16, &emu, &err), 0);
	CHECK(emu->emulated);
	CHECK(emu->cpu_mappable);
	CHECK_EQ(strcmp(emu->exporter, "memfd"), 0);
	CHECK_EQ(nm_dmabuf_import(emu->backing_fd, &buf, &err), -ENOTTY);
	CHECK(buf == NULL);
	nm_dmabuf_put(emu);
}

static void test_sizes_are_checked(void)
{
	struct nm_dmabuf *buf = NULL;
	struct nm_err err = { 0 };
	uint64_t v;

	CHECK_EQ(nm_dmabuf_create_memfd(0, &buf, &err), -EINVAL);
	CHECK_EQ(nm_dmabuf_create_memfd(4097, &buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "page size") != NULL);
	CHECK_EQ(nm_dmabuf_create_udmabuf(0, &buf, &err), -EINVAL);
	CHECK_EQ(nm_dmabuf_create_udmabuf(1000, &buf, &err), -EINVAL);
	CHECK(buf == NULL);
	CHECK_EQ(nm_parse_size("64M", &v), 0);
	CHECK_EQ(v, 64ull << 20);
	CHECK_EQ(nm_parse_size("2GiB", &v), 0);
	CHECK_EQ(v, 2ull << 30);
	CHECK_EQ(nm_parse_size("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(nm_parse_size("0", &v), -EINVAL);
	CHECK_EQ(nm_parse_size("-1M", &v), -EINVAL);
	CHECK_EQ(nm_parse_size("12Q", &v), -EINVAL);
	CHECK_EQ(nm_parse_size("", &v), -EINVAL);
}

static void test_source_specs(void)
{
	struct nm_dmabuf *buf = NULL;
	struct nm_err err = { 0 };

	CHECK_EQ(nm_dmabuf_open_spec("memfd:1M", &buf, &err), 0);
	CHECK_EQ(buf->size, 1 << 20);
	CHECK(buf->emulated);
	nm_dmabuf_put(buf);
	buf = NULL;
	CHECK_EQ(nm_dmabuf_open_spec("64M", &buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "KIND:ARG") != NULL);
	CHECK_EQ(nm_dmabuf_open_spec("gpu:64M", &buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "unknown") != NULL);
	CHECK_EQ(nm_dmabuf_open_spec("memfd:lots", &buf, &err), -EINVAL);
	CHECK_EQ(nm_dmabuf_open_spec("fd:abc", &buf, &err), -EINVAL);
	CHECK_EQ(nm_dmabuf_open_spec("fd:0", &buf, &err), -ENOTTY); /* stdin */
	CHECK(buf == NULL);
	CHECK_EQ(nm_dmabuf_open_spec("vgem:1000", &buf, &err), -EINVAL);   /* odd size */
	CHECK(strstr(err.msg, "page size") != NULL);
	CHECK_EQ(nm_dmabuf_open_spec("heap:0", &buf, &err), -EINVAL);
	CHECK_EQ(nm_dmabuf_open_spec("heap:../x:1M", &buf, &err), -EINVAL);
	CHECK_EQ(nm_dmabuf_open_spec("drm:4M", &buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "drm:/dev/dri/NODE:SIZE") != NULL);
	CHECK(buf == NULL);
	CHECK_EQ(nm_dmabuf_open_spec("auto:1M", &buf, &err), 0);
	CHECK(buf->emulated == (access("/dev/udmabuf", R_OK | W_OK) != 0));
	nm_dmabuf_put(buf);
}

static void test_memfd_cannot_be_pinned_as_dmabuf_mmap(void)
{
	struct nm_dmabuf fake = { .fd = -1, .backing_fd = -1, .size = 4096 };
	struct nm_err err = { 0 };
	void *p;

	snprintf(fake.exporter, sizeof(fake.exporter), "drm");
	CHECK_EQ(nm_dmabuf_pin_addr(&fake, &p, &err), -EFAULT);
	CHECK(strstr(err.msg, "VM_PFNMAP") != NULL);
	CHECK(strstr(err.msg, "drm") != NULL);
}

static void test_missing_exporters_are_named(void)
{
	struct nm_dmabuf *buf = NULL;
	struct nm_err err = { 0 };

	if (access("/dev/dri", F_OK) == 0 || access("/dev/dma_heap", F_OK) == 0)
		SKIP("this machine has DRM or dma-heap devices (the guest suite covers them)");
	CHECK_EQ(nm_dmabuf_open_spec("vgem:1M", &buf, &err), -ENODEV);
	CHECK_MSG(strstr(err.msg, "modprobe vgem") != NULL, "%s", err.msg);
	CHECK_EQ(nm_dmabuf_open_spec("heap:1M", &buf, &err), -ENOENT);
	CHECK_MSG(strstr(err.msg, "/dev/dma_heap/system") != NULL, "%s", err.msg);
	CHECK(buf == NULL);
}

static void test_udmabuf_import(void)
{
	struct nm_dmabuf *buf = NULL, *again = NULL;
	struct nm_err err = { 0 };
	uint8_t *cpu;

	if (access("/dev/udmabuf", R_OK | W_OK))
		SKIP("no /dev/udmabuf on this machine (the guest suite covers it)");
	CHECK_MSG(nm_dmabuf_create_udmabuf(1 << 20, &buf, &err) == 0, "%s", err.msg);
	CHECK_EQ(strcmp(buf->exporter, "udmabuf"), 0);
	CHECK_EQ(buf->size, 1 << 20);
	CHECK(!buf->emulated);
	CHECK(buf->cpu_mappable);
	CHECK(buf->backing_fd >= 0);
	CHECK_EQ(nm_dmabuf_cpu_map(buf, (void **)&cpu, &err), 0);
	CHECK_EQ(nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_WRITE), 0);
	memset(cpu, 0xab, 4096);
	CHECK_EQ(nm_dmabuf_end_cpu_access(buf, NM_DMABUF_WRITE), 0);
	/* Import it again by fd: same exporter, same size. */
	CHECK_EQ(nm_dmabuf_import(buf->fd, &again, &err), 0);
	CHECK_EQ(again->size, buf->size);
	CHECK_EQ(strcmp(again->exporter, "udmabuf"), 0);
	CHECK_EQ(again->backing_fd, -1);
	/* Its memfd, told to the second import, is checked before it is taken. */
	{
		int other = memfd_create("other", 0);

		CHECK_EQ(ftruncate(other, 1 << 20), 0);
		CHECK_EQ(nm_dmabuf_attach_memfd(again, other, &err), -EINVAL);
		CHECK_MSG(strstr(err.msg, "not the memory behind") != NULL, "%s", err.msg);
		CHECK_EQ(again->backing_fd, -1);
		close(other);
	}
	CHECK_EQ(nm_dmabuf_attach_memfd(again, buf->backing_fd, &err), 0);
	CHECK(again->backing_fd >= 0);
	CHECK_EQ(cpu[0], 0xab);                  /* the cookie's bytes restored */
	CHECK_EQ(nm_dmabuf_attach_memfd(again, buf->backing_fd, &err), -EINVAL);
	nm_dmabuf_put(again);
	nm_dmabuf_put(buf);
}

NM_TEST_MAIN(
	NM_TEST(test_closed_fd_is_refused),
	NM_TEST(test_regular_file_is_refused),
	NM_TEST(test_pipe_and_socket_are_refused),
	NM_TEST(test_memfd_is_not_a_dmabuf),
	NM_TEST(test_sizes_are_checked),
	NM_TEST(test_source_specs),
	NM_TEST(test_memfd_cannot_be_pinned_as_dmabuf_mmap),
	NM_TEST(test_missing_exporters_are_named),
	NM_TEST(test_udmabuf_import),
)
