/* SPDX-License-Identifier: MIT */
/*
 * netmem-rx --listen: what is refused before any device is touched (every
 * --out name, a dmabuf too small for one window), and the --out files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netmem_rx.h"

/* --out FILE for connection @i: FILE, then FILE.1, FILE.2, ... */
static void out_path(const struct options *o, unsigned int i, char *path, size_t len)
{
	if (i)
		snprintf(path, len, "%s.%u", o->out, i);
	else
		snprintf(path, len, "%s", o->out);
}

int open_out(const struct options *o, unsigned int i)
{
	char path[4096];
	int fd;

	if (!o->out)
		return -1;
	out_path(o, i, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fprintf(stderr, "netmem-rx: --out %s: %s\n", path, strerror(errno));
	return fd;
}

/* One name --out will write: refused now when it is a directory or cannot
 * be opened for writing (tried for real: permissions alone do not tell
 * root, or a read-only or pseudo file system). Nothing is truncated yet;
 * a file made for the test is removed again. */
static int check_out_name(const char *path)
{
	struct stat st;
	int fd;

	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "netmem-rx: --out %s is a directory; give a file name\n", path);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		close(fd);
		unlink(path);
		return 0;
	}
	if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "netmem-rx: --out %s: %s\n", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Before listening: every name --out will use (for --connections 0, the
 * first 64 and the directory). */
static int check_out(const struct options *o)
{
	unsigned int n = o->connections ? o->connections : 64;
	char path[4096];

	if (!o->out)
		return 0;
	if (strlen(o->out) + 12 >= sizeof(path)) {
		fprintf(stderr, "netmem-rx: --out: a path shorter than %zu characters\n",
			sizeof(path) - 12);
		return -1;
	}
	if (n > 4096)
		n = 4096;
	for (unsigned int i = 0; i < n; i++) {
		out_path(o, i, path, sizeof(path));
		if (check_out_name(path))
			return -1;
	}
	return 0;
}

/* The dmabuf must hold one window of full segments on every listen queue,
 * with as many posted on the NIC again: fewer and the stream stalls at its
 * first segments with no word why. */
static int check_buffers(const struct options *o, const struct nm_dmabuf *buf)
{
	uint64_t have = buf->size / o->buf_size;
	uint64_t need = 4ull * o->num_listen_queues;
	uint32_t mtu = o->mtu ? o->mtu : 1500;
	uint32_t mss = mtu > 52 ? mtu - 52u : 536u;

	if (o->udp || have >= need)
		return 0;
	if (mss > o->buf_size)
		mss = o->buf_size;
	fprintf(stderr, "netmem-rx: the dmabuf holds %llu buffer%s of %u B; a %u-byte MSS window "
		"needs at least %llu (2 segments in the window and 2 posted on the NIC, on each "
		"of %u listen queue%s): a bigger --dmabuf or a smaller --buf-size\n",
		(unsigned long long)have, have == 1 ? "" : "s", o->buf_size, mss,
		(unsigned long long)need, o->num_listen_queues,
		o->num_listen_queues == 1 ? "" : "s");
	return -1;
}

int listen_precheck(const struct options *o, const struct nm_dmabuf *buf)
{
	return check_out(o) || check_buffers(o, buf) ? -EINVAL : 0;
}
