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

	if (params && params->dmabuf) {
		snprintf(source, len, "%s", params->source ? params->source : "dmabuf");
		nm_dmabuf_get(params->dmabuf);
		*out = params->dmabuf;
		return 0;
	}
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
	ret = nm_dmabuf_attach_memfd(*out, memfd, err);
	if (ret)
		nm_dmabuf_put(*out);
	return ret;
}
