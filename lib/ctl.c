/* SPDX-License-Identifier: MIT */
/* The control socket server and its JSON answers. */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <netmem/ctl.h>

struct nm_ctl_server {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct nm_netdev *devs[NM_CTL_MAX_NETDEVS];
	unsigned int ndevs;
};

const char *nm_ctl_run_dir(void)
{
	const char *d = getenv("NETMEM_RUN_DIR");

	return d && *d ? d : "/run/netmem";
}

/*
 * The directory the socket lives in decides who can replace it: it must be
 * ours or root's and writable by nobody else (a sticky directory such as
 * /tmp is accepted for an explicit path: others cannot remove our entry).
 */
static int check_dir(const char *dir, bool allow_sticky, struct nm_err *err)
{
	struct stat st;

	if (stat(dir, &st))
		return nm_err_set(err, -errno, "control socket directory %s: %s", dir,
				  strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return nm_err_set(err, -ENOTDIR, "control socket directory %s is not a directory",
				  dir);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return nm_err_set(err, -EPERM,
				  "control socket directory %s is owned by uid %u, not by root or us "
				  "(uid %u): another user could replace the socket; refusing",
				  dir, (unsigned int)st.st_uid, (unsigned int)geteuid());
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(allow_sticky && (st.st_mode & S_ISVTX)))
		return nm_err_set(err, -EPERM,
				  "control socket directory %s is writable by group or others "
				  "(mode %04o): refusing", dir, (unsigned int)(st.st_mode & 07777));
	return 0;
}

/* Remove what is at @path only if it is a socket nobody serves any more. */
static int clear_stale(const char *path, struct nm_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, live;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : nm_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return nm_err_set(err, -EEXIST, "%s exists and is not a socket; not removing it",
				  path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nm_err_set(err, -errno, "socket: %s", strerror(errno));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	live = !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (live)
		return nm_err_set(err, -EADDRINUSE,
				  "%s is in use by a running process; not replacing it", path);
	unlink(path); /* a stale socket of a dead process */
	return 0;
}

int nm_ctl_server_create(const char *path, struct nm_ctl_server **out,
			 struct nm_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	struct nm_ctl_server *s;
	mode_t mask;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return nm_err_set(err, -ENOMEM, "out of memory");
	s->fd = -1;
	if (path) {
		ret = snprintf(s->path, sizeof(s->path), "%s", path);
	} else {
		/* Owner-only when we create it; checked below either way. */
		mkdir(nm_ctl_run_dir(), 0700);
		ret = snprintf(s->path, sizeof(s->path), "%s/netmem-%d.sock",
			       nm_ctl_run_dir(), (int)getpid());
	}
	if (ret < 0 || (size_t)ret >= sizeof(s->path)) {
		ret = nm_err_set(err, -ENAMETOOLONG, "control socket path too long");
		goto err_free;
	}
	snprintf(dir, sizeof(dir), "%s", s->path);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	ret = check_dir(dir[0] ? dir : "/", path != NULL, err);
	if (ret)
		goto err_free;
	ret = clear_stale(s->path, err);
	if (ret)
		goto err_free;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		ret = nm_err_set(err, -errno, "socket: %s", strerror(errno));
		goto err_free;
	}
	memcpy(sa.sun_path, s->path, sizeof(s->path));
	/* Owner-only whatever the caller's umask: the answers show pids,
	 * IOVAs and memory layouts. umask covers the moment of bind, the
	 * chmod makes sure of it. */
	mask = umask(0177);
	ret = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(mask);
	if (ret) {
		ret = nm_err_set(err, -errno, "cannot bind %s: %s", s->path, strerror(errno));
		goto err_close;
	}
	if (chmod(s->path, 0600) || listen(s->fd, 16)) {
		ret = nm_err_set(err, -errno, "cannot listen on %s: %s", s->path,
				 strerror(errno));
		unlink(s->path);  /* ours: bind made it */
		goto err_close;
	}
	*out = s;
	return 0;

err_close:
	close(s->fd);
err_free:
	free(s);
	return ret;
}

int nm_ctl_server_add_netdev(struct nm_ctl_server *s, struct nm_netdev *dev)
{
	if (s->ndevs == NM_CTL_MAX_NETDEVS)
		return -ENOSPC;
	s->devs[s->ndevs++] = dev;
	return 0;
}

void nm_ctl_server_remove_netdev(struct nm_ctl_server *s, struct nm_netdev *dev)
{
	for (unsigned int i = 0; i < s->ndevs; i++) {
		if (s->devs[i] == dev) {
			s->devs[i] = s->devs[--s->ndevs];
			return;
		}
	}
}

int nm_ctl_server_fd(const struct nm_ctl_server *s)
{
	return s->fd;
}

const char *nm_ctl_server_path(const struct nm_ctl_server *s)
{
	return s->path;
}

void nm_ctl_server_destroy(struct nm_ctl_server *s)
{
	if (!s)
		return;
	close(s->fd);
	unlink(s->path);
	free(s);
}

static void json_str(FILE *out, const char *key, const char *v)
{
	fprintf(out, "\"%s\":\"", key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', out);
		if ((unsigned char)*v >= 0x20)
			fputc(*v, out);
	}
	fputc('"', out);
}

static void json_caps(FILE *out, uint32_t caps)
{
	bool first = true;

	fprintf(out, "\"flags\":[");
	for (uint32_t bit = 1; bit & NM_RXQ_CAP_ALL; bit <<= 1) {
		if (!(caps & bit))
			continue;
		fprintf(out, "%s\"%s\"", first ? "" : ",", nm_rxq_cap_name(bit));
		first = false;
	}
	fputc(']', out);
}

static void json_pool(FILE *out, const struct nm_page_pool_stats *p)
{
	fprintf(out, "\"pool\":{\"alloc-fast\":%llu,\"alloc-slow\":%llu,"
		"\"alloc-refill\":%llu,\"alloc-provider\":%llu,\"alloc-empty\":%llu,"
		"\"recycle-cached\":%llu,\"recycle-ring\":%llu,\"released\":%llu,"
		"\"in-flight\":%llu}",
		(unsigned long long)p->alloc_fast, (unsigned long long)p->alloc_slow,
		(unsigned long long)p->alloc_refill, (unsigned long long)p->alloc_provider,
		(unsigned long long)p->alloc_empty, (unsigned long long)p->recycle_cached,
		(unsigned long long)p->recycle_ring, (unsigned long long)p->released,
		(unsigned long long)p->in_flight);
}

static void answer_queues(struct nm_netdev *dev, bool pools, FILE *out)
{
	fprintf(out, "\"queues\":[");
	for (uint32_t i = 0; i < dev->num_rx_queues; i++) {
		struct nm_rxq_info info;

		if (nm_netdev_rxq_info(dev, i, &info))
			continue;
		fprintf(out, "%s{\"index\":%u,\"state\":\"%s\",", i ? "," : "", i,
			info.running ? "up" : "down");
		json_caps(out, info.caps);
		fputc(',', out);
		json_str(out, "provider", info.provider);
		fputc(',', out);
		json_str(out, "provider-desc", info.provider_desc);
		fprintf(out, ",\"restarts\":%llu,\"refused\":%llu,\"rollbacks\":%llu",
			(unsigned long long)info.counters.restarts,
			(unsigned long long)info.counters.refused,
			(unsigned long long)info.counters.rollbacks);
		if (pools && info.has_pool) {
			fputc(',', out);
			json_pool(out, &info.pool);
		}
		fputc('}', out);
	}
	fputc(']', out);
}

static void answer_text(struct nm_netdev *const *devs, unsigned int ndevs,
			FILE *out)
{
	for (unsigned int d = 0; d < ndevs; d++) {
		fprintf(out, "%s%s: %u RX queues, %s, DMA domain %s\n", d ? "\n" : "",
			devs[d]->name, devs[d]->num_rx_queues,
			devs[d]->up ? "up" : "down", devs[d]->dma->ops->kind);
		nm_netdev_print_queues(devs[d], out);
	}
}

int nm_ctl_answer(struct nm_netdev *const *devs, unsigned int ndevs,
		  const char *request, FILE *out)
{
	bool queues = !strcmp(request, "queue-get");
	bool pools = !strcmp(request, "page-pool-get");

	if (!strcmp(request, "queue-get text")) {
		answer_text(devs, ndevs, out);
		return 0;
	}

	if (!queues && !pools && strcmp(request, "dev-get")) {
		fprintf(out, "{\"error\":\"unknown request; try dev-get, queue-get, "
			"page-pool-get, queue-get text\"}\n");
		return -EINVAL;
	}
	fprintf(out, "{\"pid\":%d,\"devices\":[", (int)getpid());
	for (unsigned int d = 0; d < ndevs; d++) {
		struct nm_netdev *dev = devs[d];

		fprintf(out, "%s{", d ? "," : "");
		json_str(out, "name", dev->name);
		fprintf(out, ",\"rx-queues\":%u,\"up\":%s,", dev->num_rx_queues,
			dev->up ? "true" : "false");
		json_str(out, "dma-domain", dev->dma->ops->kind);
		if (queues || pools) {
			fputc(',', out);
			answer_queues(dev, pools, out);
		}
		fputc('}', out);
	}
	fprintf(out, "]}\n");
	return 0;
}

/* Same user as this process, or root (SO_PEERCRED, taken at connect). */
static bool peer_allowed(int c)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

static int serve_one(struct nm_ctl_server *s, int c)
{
	char req[64];
	ssize_t n;
	size_t len = 0, got = 0;
	char *buf = NULL;
	FILE *out;
	struct pollfd pfd = { .fd = c, .events = POLLIN };

	/* A client has one second to say what it wants, in one line. */
	while (got < sizeof(req) - 1 && !memchr(req, '\n', got)) {
		if (poll(&pfd, 1, 1000) <= 0)
			return -ETIMEDOUT;
		n = read(c, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (!got)
		return -EIO;
	req[got] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	out = open_memstream(&buf, &len);
	if (!out)
		return -ENOMEM;
	nm_ctl_answer(s->devs, s->ndevs, req, out);
	fclose(out);
	for (size_t off = 0; off < len;) {
		/* A client gone early must not kill the application: no SIGPIPE. */
		n = send(c, buf + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(buf);
	return 0;
}

int nm_ctl_server_poll(struct nm_ctl_server *s, int timeout_ms)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	int served = 0;

	if (poll(&pfd, 1, timeout_ms) < 0)
		return errno == EINTR ? 0 : -errno;
	for (;;) {
		int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			break; /* EAGAIN: nobody else waiting */
		if (!peer_allowed(c)) {
			static const char no[] = "{\"error\":\"permission denied: the control "
						 "socket serves its own user and root only\"}\n";

			send(c, no, sizeof(no) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(c);
			continue;
		}
		serve_one(s, c);
		close(c);
		served++;
	}
	return served;
}
