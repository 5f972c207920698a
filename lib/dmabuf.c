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
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>

#include <uapi/netmem_bridge.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netmem/cuda.h>
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
	buf->bridge_fd = -1;
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

/* udmabuf's per-buffer cap in MiB (a module parameter), -1 if unknown. */
static long udmabuf_size_limit_mb(void)
{
	FILE *f = fopen("/sys/module/udmabuf/parameters/size_limit_mb", "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
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
		long limit_mb = udmabuf_size_limit_mb();

		close(memfd);
		if (ret == -EINVAL && limit_mb > 0 && size > (uint64_t)limit_mb << 20)
			return nm_err_set(err, ret,
					  "udmabuf limits one buffer to %ld MiB, %llu MiB asked: raise "
					  "/sys/module/udmabuf/parameters/size_limit_mb (or boot with "
					  "udmabuf.size_limit_mb=N)", limit_mb,
					  (unsigned long long)(size >> 20));
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

int nm_dmabuf_alloc_unexported(uint64_t size, const char *exporter,
			       struct nm_dmabuf **out, struct nm_err *err)
{
	struct nm_dmabuf *buf = dmabuf_alloc();

	if (!buf)
		return nm_err_set(err, -ENOMEM, "out of memory");
	buf->size = size;
	buf->emulated = true;
	snprintf(buf->exporter, sizeof(buf->exporter), "%s", exporter);
	*out = buf;
	return 0;
}

int nm_dmabuf_import_memfd(int fd, struct nm_dmabuf **out, struct nm_err *err)
{
	struct nm_dmabuf *buf;
	struct stat st;
	int seals, memfd, ret;

	if (fstat(fd, &st))
		return nm_err_set(err, -EBADF, "fd %d: %s", fd, strerror(errno));
	seals = fcntl(fd, F_GET_SEALS);
	/* Someone else holds it too: it must not shrink under the device. */
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return nm_err_set(err, -EINVAL,
				  "fd %d is not a memfd sealed against shrinking (F_SEAL_SHRINK)",
				  fd);
	ret = check_create_size((uint64_t)st.st_size, err);
	if (ret)
		return ret;
	memfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (memfd < 0)
		return nm_err_set(err, -errno, "dup: %s", strerror(errno));
	buf = dmabuf_alloc();
	if (!buf) {
		close(memfd);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	buf->backing_fd = memfd;
	buf->size = (uint64_t)st.st_size;
	buf->emulated = true;
	buf->cpu_mappable = true;
	snprintf(buf->exporter, sizeof(buf->exporter), "memfd");
	*out = buf;
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

/* The first /dev/dri node whose driver is vgem, opened. */
static int open_vgem(char *path, size_t len)
{
	static const char *const fmts[] = { "/dev/dri/card%d", "/dev/dri/renderD%d" };

	for (unsigned int f = 0; f < 2; f++) {
		for (int i = 0; i < 16; i++) {
			drmVersionPtr v;
			int fd;

			snprintf(path, len, fmts[f], f ? 128 + i : i);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				continue;
			v = drmGetVersion(fd);
			if (v && !strcmp(v->name, "vgem")) {
				drmFreeVersion(v);
				return fd;
			}
			drmFreeVersion(v);
			close(fd);
		}
	}
	return -ENOENT;
}

int nm_dmabuf_create_drm(const char *node, uint64_t size, struct nm_dmabuf **out,
			 struct nm_err *err)
{
	struct drm_mode_create_dumb create = { 0 };
	struct drm_gem_close gem_close = { 0 };
	char path[64];
	int fd, dbuf = -1, ret;

	ret = check_create_size(size, err);
	if (ret)
		return ret;
	if (size / 4096 > UINT32_MAX)
		return nm_err_set(err, -E2BIG, "DRM dumb buffers are at most 16 TiB");
	if (node) {
		snprintf(path, sizeof(path), "%s", node);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return nm_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	} else {
		fd = open_vgem(path, sizeof(path));
		if (fd < 0)
			return nm_err_set(err, -ENODEV,
					  "no vgem device in /dev/dri (load it: modprobe vgem)");
	}
	/* One 4 KiB row per page: width 1024 at 32 bits per pixel. */
	create.width = 1024;
	create.bpp = 32;
	create.height = (uint32_t)(size / 4096);
	if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create)) {
		ret = nm_err_set(err, -errno, "%s: cannot create a %llu-byte dumb buffer: %s",
				 path, (unsigned long long)size, strerror(errno));
		goto out;
	}
	if (drmPrimeHandleToFD(fd, create.handle, DRM_CLOEXEC | DRM_RDWR, &dbuf)) {
		ret = nm_err_set(err, -errno, "%s: PRIME export failed: %s", path,
				 strerror(errno));
	} else {
		ret = nm_dmabuf_import(dbuf, out, err);
		close(dbuf);
	}
	/* The dmabuf holds the buffer now; our handle can go. */
	gem_close.handle = create.handle;
	drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &gem_close);
out:
	close(fd);
	return ret;
}

int nm_dmabuf_create_heap(const char *heap, uint64_t size, struct nm_dmabuf **out,
			  struct nm_err *err)
{
	struct dma_heap_allocation_data alloc = {
		.len = size, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	char path[128];
	int fd, ret;

	ret = check_create_size(size, err);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap ? heap : "system");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nm_err_set(err, -errno, "cannot open %s: %s%s", path, strerror(errno),
				  errno == ENOENT ? " (the kernel needs CONFIG_DMABUF_HEAPS)" : "");
	if (ioctl(fd, DMA_HEAP_IOCTL_ALLOC, &alloc)) {
		ret = nm_err_set(err, -errno, "%s: cannot allocate %llu bytes: %s", path,
				 (unsigned long long)size, strerror(errno));
		close(fd);
		return ret;
	}
	close(fd);
	ret = nm_dmabuf_import((int)alloc.fd, out, err);
	close((int)alloc.fd);
	return ret;
}

/* KIND:MIDDLE:SIZE, @colon after KIND: copy MIDDLE (non-empty) and parse SIZE. */
static int split_middle_size(const char *spec, const char *colon, char *middle,
			     size_t len, uint64_t *size, const char *usage,
			     struct nm_err *err)
{
	const char *last = strrchr(spec, ':');
	size_t n = (size_t)(last - colon - 1);

	if (last == colon || !n || n >= len)
		return nm_err_set(err, -EINVAL, "'%s': use %s", spec, usage);
	memcpy(middle, colon + 1, n);
	middle[n] = '\0';
	if (nm_parse_size(last + 1, size))
		return nm_err_set(err, -EINVAL, "'%s': bad size '%s'", spec, last + 1);
	return 0;
}

/* cuda:SIZE[:GPU] from @arg (after "cuda:"). */
static int open_cuda(const char *spec, const char *arg, bool exported,
		     struct nm_dmabuf **out, struct nm_err *err)
{
	const char *colon = strchr(arg, ':');
	char size_str[32];
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
	uint64_t size;
	long gpu = 0;

	if (n >= sizeof(size_str))
		return nm_err_set(err, -EINVAL, "'%s': use cuda:SIZE[:GPU]", spec);
	memcpy(size_str, arg, n);
	size_str[n] = '\0';
	if (nm_parse_size(size_str, &size))
		return nm_err_set(err, -EINVAL, "'%s': bad size '%s'", spec, size_str);
	if (colon) {
		char *end;

		gpu = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || gpu < 0 || gpu > 1024)
			return nm_err_set(err, -EINVAL,
					  "'%s': GPU must be a device index (0, 1, ...)", spec);
	}
	return exported ? nm_dmabuf_create_cuda(size, (int)gpu, out, err) :
			  nm_dmabuf_create_cuda_unexported(size, (int)gpu, out, err);
}

int nm_dmabuf_open_spec(const char *spec, struct nm_dmabuf **out,
			struct nm_err *err)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	uint64_t size;
	size_t kind_len;

	if (!colon)
		return nm_err_set(err, -EINVAL,
				  "dmabuf source '%s' is not KIND:ARG (udmabuf:64M, vgem:64M, "
				  "heap:64M, fd:N, memfd:64M, auto:64M, cuda:64M)",
				  spec ? spec : "(null)");
	kind_len = (size_t)(colon - spec);
	if (kind_len == 3 && !strncmp(spec, "drm", 3)) {
		/* drm:/dev/dri/card0:SIZE */
		char node[64];
		int ret = split_middle_size(spec, colon, node, sizeof(node), &size,
					    "drm:/dev/dri/NODE:SIZE", err);

		if (ret)
			return ret;
		return nm_dmabuf_create_drm(node, size, out, err);
	}
	if (kind_len == 4 && !strncmp(spec, "heap", 4) && strchr(colon + 1, ':')) {
		/* heap:NAME:SIZE */
		char name[64];
		int ret = split_middle_size(spec, colon, name, sizeof(name), &size,
					    "heap:NAME:SIZE", err);

		if (ret)
			return ret;
		if (strchr(name, '/'))
			return nm_err_set(err, -EINVAL, "'%s': bad heap name", spec);
		return nm_dmabuf_create_heap(name, size, out, err);
	}
	if (kind_len == 2 && !strncmp(spec, "fd", 2)) {
		char *end;
		long fd = strtol(colon + 1, &end, 10);

		if (!colon[1] || *end || fd < 0 || fd > 1 << 20)
			return nm_err_set(err, -EINVAL, "'%s': fd must be a number", spec);
		return nm_dmabuf_import((int)fd, out, err);
	}
	if (kind_len == 4 && !strncmp(spec, "cuda", 4))
		return open_cuda(spec, colon + 1, true, out, err);
	if (kind_len == 7 && !strncmp(spec, "cudamem", 7))
		return open_cuda(spec, colon + 1, false, out, err);
	if (nm_parse_size(colon + 1, &size))
		return nm_err_set(err, -EINVAL, "'%s': bad size '%s'", spec, colon + 1);
	if (kind_len == 7 && !strncmp(spec, "udmabuf", 7))
		return nm_dmabuf_create_udmabuf(size, out, err);
	if (kind_len == 5 && !strncmp(spec, "memfd", 5))
		return nm_dmabuf_create_memfd(size, out, err);
	if (kind_len == 4 && !strncmp(spec, "vgem", 4))
		return nm_dmabuf_create_drm(NULL, size, out, err);
	if (kind_len == 4 && !strncmp(spec, "heap", 4))
		return nm_dmabuf_create_heap(NULL, size, out, err);
	if (kind_len == 4 && !strncmp(spec, "auto", 4)) {
		if (access("/dev/udmabuf", R_OK | W_OK) == 0)
			return nm_dmabuf_create_udmabuf(size, out, err);
		return nm_dmabuf_create_memfd(size, out, err);
	}
	return nm_err_set(err, -EINVAL,
			  "unknown dmabuf source kind in '%s' (udmabuf, vgem, drm, heap, fd, memfd, auto, "
			  "cuda, cudamem)",
			  spec);
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
	if (buf->bridge_fd >= 0)
		close(buf->bridge_fd);
	if (buf->fd >= 0)
		close(buf->fd);
	if (buf->backing_fd >= 0)
		close(buf->backing_fd);
	/* Device memory goes last: no fd of ours refers to it any more. */
	if (buf->dev_ops)
		buf->dev_ops->release(buf);
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

/* Pin through the kernel bridge: an fd whose mmap holds the dmabuf's pages. */
static int bridge_pin(struct nm_dmabuf *buf, struct nm_err *err)
{
	struct netmem_bridge_import imp = { .dmabuf_fd = buf->fd };
	int dev, ret;

	dev = open(NETMEM_BRIDGE_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = errno;
		if (ret == ENOENT || ret == ENODEV || ret == ENXIO)
			return nm_err_set(err, -ENODEV,
					  "dmabuf from exporter '%s' can be DMA-mapped through VFIO type1 "
					  "only via the netmem bridge, which is not loaded: build it with "
					  "'make -C kmod/bridge' and load it with "
					  "'insmod kmod/bridge/netmem_bridge.ko' (root)", buf->exporter);
		return nm_err_set(err, -ret, "cannot open %s: %s%s", NETMEM_BRIDGE_DEV,
				  strerror(ret), ret == EACCES ? " (root only)" : "");
	}
	ret = ioctl(dev, NETMEM_BRIDGE_IOC_IMPORT, &imp) ? -errno : 0;
	close(dev);
	if (ret == -EOPNOTSUPP)
		return nm_err_set(err, ret,
				  "the netmem bridge refused dmabuf from exporter '%s' (EOPNOTSUPP): "
				  "it has chunks without struct pages (device memory, e.g. a GPU's); "
				  "VFIO type1 can pin only pages: such memory needs iommufd with "
				  "dmabuf support (newer kernels)", buf->exporter);
	if (ret == -EBUSY)
		return nm_err_set(err, ret,
				  "this dmabuf (exporter '%s') is bridged already, by another binding "
				  "or process; bind that one, or release it first", buf->exporter);
	if (ret)
		return nm_err_set(err, ret, "netmem bridge refused the dmabuf: %s",
				  strerror(-ret));
	buf->bridge_fd = imp.fd;
	return map_fd(buf->bridge_fd, buf->size, &buf->pin_addr, err,
		      "the bridge's view of the dmabuf");
}

int nm_dmabuf_pin_addr(struct nm_dmabuf *buf, void **addr, struct nm_err *err)
{
	int ret;

	/* Known device memory: no pages anywhere, so no bridge can help. */
	if (buf->dev_ops)
		return nm_err_set(err, -EOPNOTSUPP,
				  "%s device memory cannot be DMA-mapped through VFIO type1: type1 "
				  "pins CPU pages and this memory has none; map it through iommufd "
				  "with dmabuf support (newer kernels), or use the software NIC",
				  buf->dev_ops->kind);
	if (!buf->pin_addr) {
		if (buf->backing_fd >= 0)
			ret = map_fd(buf->backing_fd, buf->size, &buf->pin_addr, err,
				     "the memory behind the dmabuf");
		else if (buf->fd >= 0)
			ret = bridge_pin(buf, err);
		else
			ret = nm_err_set(err, -EFAULT,
					 "dmabuf from exporter '%s' has no memory userspace can pin: "
					 "VFIO type1 refuses a dmabuf's own mmap (VM_PFNMAP, EFAULT)",
					 buf->exporter);
		if (ret)
			return ret;
	}
	*addr = buf->pin_addr;
	return 0;
}

int nm_dmabuf_attach_memfd(struct nm_dmabuf *buf, int memfd, struct nm_err *err)
{
	uint64_t cookie, saved, seen = 0;
	uint8_t *dm = MAP_FAILED, *mf = MAP_FAILED;
	struct timespec ts;
	struct stat st;
	int fd, ret = 0;

	if (buf->fd < 0 || buf->backing_fd >= 0)
		return nm_err_set(err, -EINVAL, "this buffer %s",
				  buf->fd < 0 ? "is not a dmabuf" : "has its memory known already");
	if (fstat(memfd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < buf->size)
		return nm_err_set(err, -EINVAL, "fd %d is not a memfd of at least %llu bytes",
				  memfd, (unsigned long long)buf->size);
	fd = fcntl(memfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return nm_err_set(err, -errno, "cannot dup memfd %d: %s", memfd, strerror(errno));
	dm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, buf->fd, 0);
	mf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (dm == MAP_FAILED || mf == MAP_FAILED) {
		ret = nm_err_set(err, -errno, "cannot map the dmabuf and memfd %d to compare "
				 "them: %s", memfd, strerror(errno));
		goto out;
	}
	/* A cookie written through the memfd must show through the dmabuf;
	 * the byte it covered is put back. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	cookie = ((uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec) ^ 0x6e6d2d636f6f6b69ull;
	nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_READ | NM_DMABUF_WRITE);
	memcpy(&saved, mf, sizeof(saved));
	memcpy(mf, &cookie, sizeof(cookie));
	memcpy(&seen, dm, sizeof(seen));
	memcpy(mf, &saved, sizeof(saved));
	nm_dmabuf_end_cpu_access(buf, NM_DMABUF_READ | NM_DMABUF_WRITE);
	if (seen != cookie)
		ret = nm_err_set(err, -EINVAL, "fd %d is not the memory behind this dmabuf "
				 "(exporter %s)", memfd, buf->exporter);
out:
	if (dm != MAP_FAILED)
		munmap(dm, 4096);
	if (mf != MAP_FAILED)
		munmap(mf, 4096);
	if (ret) {
		close(fd);
		return ret;
	}
	buf->backing_fd = fd;
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
