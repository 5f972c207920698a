/* SPDX-License-Identifier: MIT */
/*
 * Where a pool's dmabuf comes from: the pool's params, $NETMEM_DMABUF (and
 * $NETMEM_DMABUF_MEMFD), or an automatic one sized to fit. Opening and
 * importing are netmem's (nm_dmabuf_open_spec(), nm_dmabuf_import()); what
 * is here is the memfd a caller passes with a udmabuf fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include <netmem/dmabuf.h>

#include "internal.h"

/*
 * VFIO type1 cannot pin a dmabuf's own mmap, only the memory behind it. For
 * a udmabuf netmem creates it knows that memfd; for one passed in as an fd,
 * the caller can pass its memfd too (else netmem goes through its kernel
 * bridge). Check that it really is the same memory (a cookie written
 * through one shows through the other) before the device is given it:
 * otherwise the NIC would write elsewhere.
 */
static int attach_memfd(struct nm_dmabuf *buf, int memfd, struct nm_err *err)
{
	uint64_t cookie, saved, seen = 0;
	uint8_t *dm = NULL, *mf = NULL;
	struct stat st;
	int fd, ret = 0;

	if (fstat(memfd, &st) || (uint64_t)st.st_size < buf->size)
		return nm_err_set(err, -EINVAL, "memfd %d is not a file of at least %llu bytes",
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
	cookie = (uint64_t)rte_rdtsc() ^ 0x6e6d2d636f6f6b69ull;
	nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_READ | NM_DMABUF_WRITE);
	memcpy(&saved, mf, sizeof(saved));
	memcpy(mf, &cookie, sizeof(cookie));
	memcpy(&seen, dm, sizeof(seen));
	memcpy(mf, &saved, sizeof(saved));
	nm_dmabuf_end_cpu_access(buf, NM_DMABUF_READ | NM_DMABUF_WRITE);
	if (seen != cookie)
		ret = nm_err_set(err, -EINVAL, "memfd %d is not the memory behind dmabuf "
				 "(exporter %s)", memfd, buf->exporter);
out:
	if (dm && dm != MAP_FAILED)
		munmap(dm, 4096);
	if (mf && mf != MAP_FAILED)
		munmap(mf, 4096);
	if (ret) {
		close(fd);
		return ret;
	}
	buf->backing_fd = fd;
	return 0;
}

static int env_int(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return -1;
	n = strtol(v, &end, 10);
	return *end || n < 0 || n > INT32_MAX ? -2 : (int)n;
}

/* Open the dmabuf named by @params, the environment, or an automatic one of
 * @need bytes. Writes what it used into @source. */
int nm_dpdk_open_source(const struct nm_dpdk_pool_params *params, uint64_t need,
			struct nm_dmabuf **out, char *source, size_t len,
			struct nm_err *err)
{
	const char *spec = params ? params->source : NULL;
	char auto_spec[48];
	int memfd = -1, ret;

	if (params && params->dmabuf_fd > 0) {
		snprintf(source, len, "fd:%d", params->dmabuf_fd);
		ret = nm_dmabuf_import(params->dmabuf_fd, out, err);
		memfd = params->memfd > 0 ? params->memfd : -1;
	} else {
		if (!spec) {
			spec = getenv(NM_DPDK_DMABUF_ENV);
			memfd = env_int(NM_DPDK_DMABUF_MEMFD_ENV);
			if (memfd == -2)
				return nm_err_set(err, -EINVAL, "%s must be an fd number",
						  NM_DPDK_DMABUF_MEMFD_ENV);
		}
		if (!spec || !*spec) {
			snprintf(auto_spec, sizeof(auto_spec), "auto:%" PRIu64,
				 RTE_ALIGN_CEIL(need, (uint64_t)4096));
			spec = auto_spec;
		}
		snprintf(source, len, "%s", spec);
		ret = nm_dmabuf_open_spec(spec, out, err);
	}
	if (ret || memfd < 0)
		return ret;
	if ((*out)->fd < 0 || (*out)->backing_fd >= 0) {
		nm_dmabuf_put(*out);
		return nm_err_set(err, -EINVAL, "a memfd goes only with a dmabuf passed as an fd");
	}
	ret = attach_memfd(*out, memfd, err);
	if (ret)
		nm_dmabuf_put(*out);
	return ret;
}
