/* SPDX-License-Identifier: MIT */
/* Ask this process's own DPDK telemetry socket a question, as
 * dpdk-telemetry.py would (protocol v2: SOCK_SEQPACKET, JSON replies). */
#ifndef NM_TELEMETRY_CLIENT_H
#define NM_TELEMETRY_CLIENT_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>

/* Send @cmd, put the JSON reply in @out. Returns its length or -errno. */
static inline int nm_telemetry_query(const char *cmd, char *out, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	ssize_t n;
	int fd, ret;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/dpdk_telemetry.v2",
		 rte_eal_get_runtime_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	/* The greeting: {"version": ..., "pid": ..., "max_output_len": ...} */
	n = read(fd, out, len - 1);
	if (n <= 0 || write(fd, cmd, strlen(cmd)) < 0) {
		close(fd);
		return -EIO;
	}
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	out[n] = '\0';
	return (int)n;
}

#endif
