/* SPDX-License-Identifier: MIT */
/* The control socket: where it lives, who may use it, its lifetime. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <netmem/ctl.h>

#include "ctl_internal.h"

void nm_ctl_server_set_hook(struct nm_ctl_server *s, nm_ctl_hook_fn fn, void *arg)
{
	s->hook = fn;
	s->hook_arg = arg;
}

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
	s->deadline_ms = CTL_DEFAULT_DEADLINE_MS;
	ret = ctl_conn_init(s, err);
	if (ret) {
		unlink(s->path);
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
	return s->epfd;
}

int nm_ctl_server_set_deadline(struct nm_ctl_server *s, int ms)
{
	if (ms < 1 || ms > 600000)
		return -EINVAL;
	s->deadline_ms = ms;
	return 0;
}

const char *nm_ctl_server_path(const struct nm_ctl_server *s)
{
	return s->path;
}

void nm_ctl_server_destroy(struct nm_ctl_server *s)
{
	if (!s)
		return;
	ctl_conn_fini(s);
	close(s->fd);
	unlink(s->path);
	free(s);
}
