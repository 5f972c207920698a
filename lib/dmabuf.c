/* SPDX-License-Identifier: MIT */
/*
 * dmabuf import and the sources a user can name.
 *
 * "Is this a dmabuf" is answered from /proc/self/fdinfo: only dmabufs have
 * an exp_name line. That is exact, has no side effects and works for every
 * exporter; DMA_BUF_IOCTL_SYNC (ENOTTY elsewhere) is the fallback where
 * /proc is not mounted.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/udmabuf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netmem/dmabuf.h>

#define PAGE_SZ 4096u

static const char *fd_kind(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return "unknown";
	if (S_ISREG(st.st_mode))
		return "a regular file";
	if (S_ISFIFO(st.st_mode))
		return "a pipe";
	if (S_ISSOCK(st.st_mode))
		return "a socket";
	if (S_ISCHR(st.st_mode))
		return "a character device";
	if (S_ISDIR(st.st_mode))
		return "a directory";
	return "not a dmabuf";
}

/* exp_name from fdinfo: 1 found, 0 not a dmabuf, -errno when unreadable. */
static int fdinfo_exporter(int fd, char *name, size_t len)
{
	char path[64], line[256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "exp_name:", 9))
			continue;
		char *v = line + 9;

		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(name, len, "%s", v);
		found = 1;
		break;
	}
	fclose(f);
	return found;
}

/* Exporters of device memory (GPUs) often refuse mmap: try one page. */
static bool probe_cpu_mappable(int fd)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return false;
	munmap(p, 4096);
	return true;
}

static struct nm_dmabuf *dmabuf_alloc(void)
{
	struct nm_dmabuf *buf = calloc(1, sizeof(*buf));

	if (!buf)
		return NULL;
	atomic_init(&buf->refs, 1);
	buf->fd = -1;
	buf->backing_fd = -1;
	return buf;
}

int nm_dmabuf_import(int fd, struct nm_dmabuf **out, struct nm_err *err)
{
	struct nm_dmabuf *buf;
	char exporter[NM_DMABUF_EXPORTER_LEN] = "";
	off_t size;
	int ret;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return nm_err_set(err, -EBADF, "fd %d is not an open file descriptor", fd);
	ret = fdinfo_exporter(fd, exporter, sizeof(exporter));
	if (ret == 0)
		return nm_err_set(err, -ENOTTY,
				  "fd %d is not a dmabuf (it is %s; no exp_name in its fdinfo)",
				  fd, fd_kind(fd));
	if (ret < 0) {
		/* No /proc: ask the dmabuf ioctl itself. */
		struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };

		if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync))
			return nm_err_set(err, -ENOTTY, "fd %d is not a dmabuf (it is %s)",
					  fd, fd_kind(fd));
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
		ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
		snprintf(exporter, sizeof(exporter), "unknown");
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return nm_err_set(err, -errno, "cannot learn the size of dmabuf fd %d: %s",
				  fd, strerror(errno));
	lseek(fd, 0, SEEK_SET);
	if (size == 0)
		return nm_err_set(err, -EINVAL, "dmabuf fd %d has size 0", fd);
	buf = dmabuf_alloc();
	if (!buf)
		return nm_err_set(err, -ENOMEM, "out of memory");
	buf->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (buf->fd < 0) {
		ret = -errno;
		free(buf);
		return nm_err_set(err, ret, "cannot dup dmabuf fd %d: %s", fd, strerror(-ret));
	}
	buf->size = (uint64_t)size;
	snprintf(buf->exporter, sizeof(buf->exporter), "%s", exporter);
	buf->cpu_mappable = probe_cpu_mappable(buf->fd);
	*out = buf;
	return 0;
}

static int check_create_size(uint64_t size, struct nm_err *err)
{
	if (size == 0)
		return nm_err_set(err, -EINVAL, "buffer size must be > 0");
	if (size % PAGE_SZ)
		return nm_err_set(err, -EINVAL,
				  "buffer size %llu is not a multiple of the page size (%u)",
				  (unsigned long long)size, PAGE_SZ);
	return 0;
}

static int sealed_memfd(const char *name, uint64_t size, struct nm_err *err)
{
	int memfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (memfd < 0)
		return nm_err_set(err, -errno, "memfd_create: %s", strerror(errno));
	if (ftruncate(memfd, (off_t)size) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		int ret = -errno;

		close(memfd);
		return nm_err_set(err, ret, "cannot size/seal a %llu-byte memfd: %s",
				  (unsigned long long)size, strerror(-ret));
	}
	return memfd;
}

int nm_dmabuf_create_udmabuf(uint64_t size, struct nm_dmabuf **out,
			     struct nm_err *err)
{
	struct udmabuf_create create = { 0 };
	int memfd, devfd, dbuf, ret;

	ret = check_create_size(size, err);
	if (ret)
		return ret;
	devfd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		return nm_err_set(err, -errno,
				  "cannot open /dev/udmabuf: %s (the kernel needs CONFIG_UDMABUF)",
				  strerror(errno));
	memfd = sealed_memfd("netmem-udmabuf", size, err);
	if (memfd < 0) {
		close(devfd);
		return memfd;
	}
	create.memfd = (uint32_t)memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	create.offset = 0;
	create.size = size;
	dbuf = ioctl(devfd, UDMABUF_CREATE, &create);
	ret = -errno;
	close(devfd);
	if (dbuf < 0) {
		close(memfd);
		return nm_err_set(err, ret, "UDMABUF_CREATE of %llu bytes failed: %s",
				  (unsigned long long)size, strerror(-ret));
	}
	ret = nm_dmabuf_import(dbuf, out, err);
	close(dbuf);
	if (ret) {
		close(memfd);
		return ret;
	}
	/* We made it, so we know the memory behind it: VFIO can pin that. */
	(*out)->backing_fd = memfd;
	return 0;
}

int nm_dmabuf_create_memfd(uint64_t size, struct nm_dmabuf **out,
			   struct nm_err *err)
{
	struct nm_dmabuf *buf;
	int memfd, ret;

	ret = check_create_size(size, err);
	if (ret)
		return ret;
	memfd = sealed_memfd("netmem-memfd", size, err);
	if (memfd < 0)
		return memfd;
	buf = dmabuf_alloc();
	if (!buf) {
		close(memfd);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	buf->backing_fd = memfd;
	buf->size = size;
	buf->emulated = true;
	buf->cpu_mappable = true;
	snprintf(buf->exporter, sizeof(buf->exporter), "memfd");
	*out = buf;
	return 0;
}

int nm_dmabuf_open_spec(const char *spec, struct nm_dmabuf **out,
			struct nm_err *err)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	uint64_t size;
	size_t kind_len;

	if (!colon)
		return nm_err_set(err, -EINVAL,
				  "dmabuf source '%s' is not KIND:ARG (udmabuf:64M, memfd:64M, fd:N, auto:64M)",
				  spec ? spec : "(null)");
	kind_len = (size_t)(colon - spec);
	if (kind_len == 2 && !strncmp(spec, "fd", 2)) {
		char *end;
		long fd = strtol(colon + 1, &end, 10);

		if (!colon[1] || *end || fd < 0 || fd > 1 << 20)
			return nm_err_set(err, -EINVAL, "'%s': fd must be a number", spec);
		return nm_dmabuf_import((int)fd, out, err);
	}
	if (nm_parse_size(colon + 1, &size))
		return nm_err_set(err, -EINVAL, "'%s': bad size '%s'", spec, colon + 1);
	if (kind_len == 7 && !strncmp(spec, "udmabuf", 7))
		return nm_dmabuf_create_udmabuf(size, out, err);
	if (kind_len == 5 && !strncmp(spec, "memfd", 5))
		return nm_dmabuf_create_memfd(size, out, err);
	if (kind_len == 4 && !strncmp(spec, "auto", 4)) {
		if (access("/dev/udmabuf", R_OK | W_OK) == 0)
			return nm_dmabuf_create_udmabuf(size, out, err);
		return nm_dmabuf_create_memfd(size, out, err);
	}
	return nm_err_set(err, -EINVAL,
			  "unknown dmabuf source kind in '%s' (udmabuf, memfd, fd, auto)", spec);
}

void nm_dmabuf_get(struct nm_dmabuf *buf)
{
	atomic_fetch_add_explicit(&buf->refs, 1, memory_order_relaxed);
}

void nm_dmabuf_put(struct nm_dmabuf *buf)
{
	if (!buf || atomic_fetch_sub_explicit(&buf->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (buf->cpu_addr)
		munmap(buf->cpu_addr, buf->size);
	if (buf->pin_addr)
		munmap(buf->pin_addr, buf->size);
	if (buf->fd >= 0)
		close(buf->fd);
	if (buf->backing_fd >= 0)
		close(buf->backing_fd);
	free(buf);
}

static int map_fd(int fd, uint64_t size, void **addr, struct nm_err *err,
		  const char *what)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return nm_err_set(err, -errno, "cannot mmap %s: %s", what, strerror(errno));
	*addr = p;
	return 0;
}

int nm_dmabuf_cpu_map(struct nm_dmabuf *buf, void **addr, struct nm_err *err)
{
	int ret;

	if (!buf->cpu_mappable)
		return nm_err_set(err, -ENODEV,
				  "the '%s' exporter does not let the CPU map this dmabuf",
				  buf->exporter);
	if (!buf->cpu_addr) {
		ret = buf->fd >= 0 ?
			map_fd(buf->fd, buf->size, &buf->cpu_addr, err, "the dmabuf") :
			map_fd(buf->backing_fd, buf->size, &buf->cpu_addr, err, "the memfd");
		if (ret)
			return ret;
	}
	*addr = buf->cpu_addr;
	return 0;
}

int nm_dmabuf_pin_addr(struct nm_dmabuf *buf, void **addr, struct nm_err *err)
{
	int ret;

	if (buf->backing_fd < 0)
		return nm_err_set(err, -EFAULT,
				  "dmabuf from exporter '%s' has no memory userspace can pin: "
				  "VFIO type1 refuses a dmabuf's own mmap (VM_PFNMAP, EFAULT). "
				  "Use a udmabuf netmem creates (udmabuf:SIZE, pinned through its memfd), "
				  "the netmem kernel bridge, or iommufd on a newer kernel",
				  buf->exporter);
	if (!buf->pin_addr) {
		ret = map_fd(buf->backing_fd, buf->size, &buf->pin_addr, err,
			     "the memory behind the dmabuf");
		if (ret)
			return ret;
	}
	*addr = buf->pin_addr;
	return 0;
}

static int dmabuf_sync(struct nm_dmabuf *buf, uint64_t when, unsigned int dir)
{
	struct dma_buf_sync sync = { .flags = when };

	if (buf->emulated)
		return 0;
	if (dir & NM_DMABUF_READ)
		sync.flags |= DMA_BUF_SYNC_READ;
	if (dir & NM_DMABUF_WRITE)
		sync.flags |= DMA_BUF_SYNC_WRITE;
	while (ioctl(buf->fd, DMA_BUF_IOCTL_SYNC, &sync))
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	return 0;
}

int nm_dmabuf_begin_cpu_access(struct nm_dmabuf *buf, unsigned int dir)
{
	return dmabuf_sync(buf, DMA_BUF_SYNC_START, dir);
}

int nm_dmabuf_end_cpu_access(struct nm_dmabuf *buf, unsigned int dir)
{
	return dmabuf_sync(buf, DMA_BUF_SYNC_END, dir);
}

int nm_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || v == 0 || v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}
