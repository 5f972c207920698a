/* SPDX-License-Identifier: MIT */
/*
 * The control socket's connections, served from the application's own loop
 * without ever making it wait: every socket is non-blocking, each client is
 * a small state machine (reading its line, sending its answer, or holding
 * bindings), one nm_ctl_server_poll() does a bounded amount of work, and a
 * client that is too slow is dropped at its deadline. The listening socket,
 * every client and a timer for the next deadline sit in one epoll set, so
 * one fd tells the application when there is work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "ctl_internal.h"

#define EV_LISTEN UINT64_MAX
#define EV_TIMER  (UINT64_MAX - 1)

int64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ep_add(struct nm_ctl_server *s, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int ctl_conn_init(struct nm_ctl_server *s, struct nm_err *err)
{
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		s->clients[i].fd = -1;
		s->clients[i].passed_fd = -1;
	}
	s->next_client_id = 1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return nm_err_set(err, -errno, "epoll_create1: %s", strerror(errno));
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tfd < 0 || ep_add(s, s->fd, EPOLLIN, EV_LISTEN) ||
	    ep_add(s, s->tfd, EPOLLIN, EV_TIMER)) {
		int ret = -errno;

		if (s->tfd >= 0)
			close(s->tfd);
		close(s->epfd);
		return nm_err_set(err, ret, "control socket event set: %s", strerror(-ret));
	}
	return 0;
}

static void client_close(struct nm_ctl_server *s, struct ctl_client *c)
{
	ctl_release_held(s, c);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	free(c->out);
	*c = (struct ctl_client){ .fd = -1, .passed_fd = -1 };
}

void ctl_conn_fini(struct nm_ctl_server *s)
{
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			client_close(s, &s->clients[i]);
	close(s->tfd);
	close(s->epfd);
}

/* Watch @c for reading (waiting for a line) or writing (an answer pending). */
static void client_watch(struct nm_ctl_server *s, struct ctl_client *c)
{
	struct epoll_event ev = {
		.events = (c->out ? EPOLLOUT : EPOLLIN) | EPOLLRDHUP,
		.data.u64 = (uint64_t)(c - s->clients),
	};

	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Same user as this process, or root (SO_PEERCRED, taken at connect). */
static bool peer_allowed(int fd, pid_t *pid, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	*pid = cr.pid;
	*uid = cr.uid;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void refuse(int fd, const char *why)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "{\"error\":\"%s\"}\n", why);

	(void)!send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void accept_some(struct nm_ctl_server *s)
{
	for (int k = 0; k < CTL_ACCEPTS_PER_POLL; k++) {
		struct ctl_client *c = NULL;
		pid_t pid = 0;
		uid_t uid = 0;
		int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return; /* EAGAIN: nobody else waiting */
		if (!peer_allowed(fd, &pid, &uid)) {
			refuse(fd, "permission denied: the control socket serves its own "
				   "user and root only");
			continue;
		}
		for (unsigned int i = 0; i < CTL_MAX_CLIENTS && !c; i++)
			if (s->clients[i].fd < 0)
				c = &s->clients[i];
		if (!c) {
			refuse(fd, "busy: too many control connections");
			continue;
		}
		*c = (struct ctl_client){ .fd = fd, .passed_fd = -1, .pid = pid, .uid = uid,
					  .id = s->next_client_id++,
					  .deadline_ms = ctl_now_ms() + s->deadline_ms };
		if (ep_add(s, fd, EPOLLIN | EPOLLRDHUP, (uint64_t)(c - s->clients))) {
			close(fd);
			*c = (struct ctl_client){ .fd = -1, .passed_fd = -1 };
		}
	}
}

/* Keep at most one fd passed with a request; close any other at once. */
static void take_fds(struct ctl_client *c, struct msghdr *m)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		int *fds = (int *)CMSG_DATA(cm);
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			if (c->passed_fd < 0)
				c->passed_fd = fds[i];
			else
				close(fds[i]);
		}
	}
}

/* Turn the request line into an answer waiting to be sent; @bad: the
 * line was refused before parsing, this is why. */
static int client_answer(struct nm_ctl_server *s, struct ctl_client *c, char *req,
			 const char *bad)
{
	size_t len = 0;
	FILE *out = open_memstream(&c->out, &len);

	if (!out)
		return -ENOMEM;
	/* A query closes when answered, unless the connection holds
	 * bindings (they live as long as it does). */
	c->close_after = c->nheld == 0;
	if (bad)
		ctl_answer_error(out, bad);
	else
		ctl_request(s, c, req, out);
	fclose(out);
	c->out_len = len;
	c->out_off = 0;
	c->got = 0;
	if (c->passed_fd >= 0) {
		close(c->passed_fd);  /* the request did not take it */
		c->passed_fd = -1;
	}
	return 0;
}

/* A line refused before parsing: the error is its answer, what was read
 * of it is dropped. False when the client is done with. */
static bool client_refuse(struct nm_ctl_server *s, struct ctl_client *c,
			  const char *why, int *served)
{
	c->got = 0;
	if (client_answer(s, c, NULL, why))
		return false;
	(*served)++;
	return true;
}

/* One read: false when the client is done with (close it). */
static bool client_read(struct nm_ctl_server *s, struct ctl_client *c, int *served)
{
	char why[64], *nul;
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { c->in + c->got, sizeof(c->in) - 1 - c->got };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	char *nl;
	ssize_t n = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	take_fds(c, &m);
	if (n == 0)
		return false;  /* gone: what it held goes with it */
	if (c->skip_line) {
		/* The rest of a refused line: it is no request of its own. */
		char *e = memchr(c->in, '\n', (size_t)n);

		if (!e)
			return true;
		n = c->in + n - (e + 1);
		memmove(c->in, e + 1, (size_t)n);
		c->skip_line = false;
		if (!n)
			return true;
	}
	/* A NUL would hide the rest of the line from every string call:
	 * answered with an error at once, never left to the deadline. */
	nul = memchr(c->in + c->got, '\0', (size_t)n);
	if (nul) {
		c->skip_line = !memchr(nul, '\n', (size_t)(c->in + c->got + n - nul));
		return client_refuse(s, c, "a request line must not contain a NUL byte",
				     served);
	}
	c->got += (size_t)n;
	c->in[c->got] = '\0';
	nl = strchr(c->in, '\n');
	if (!nl) {
		if (c->got < sizeof(c->in) - 1)
			return true;  /* more to come, within the deadline */
		/* Too long: refused whole, never cut into a shorter request. */
		c->skip_line = true;
		snprintf(why, sizeof(why), "request line longer than %d bytes",
			 CTL_REQ_MAX - 2);
		return client_refuse(s, c, why, served);
	}
	*nl = '\0';
	c->in[strcspn(c->in, "\r")] = '\0';
	if (client_answer(s, c, c->in, NULL))
		return false;
	(*served)++;
	return true;
}

/* One send of what is pending; false when the client is done with. */
static bool client_write(struct nm_ctl_server *s, struct ctl_client *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->out_off += (size_t)n;
	if (c->out_off < c->out_len)
		return true;
	free(c->out);
	c->out = NULL;
	if (c->close_after)
		return false;
	/* Holding bindings: idle by design, no deadline until it asks again. */
	c->deadline_ms = c->nheld ? 0 : ctl_now_ms() + s->deadline_ms;
	return true;
}

static void client_event(struct nm_ctl_server *s, struct ctl_client *c,
			 uint32_t events, int *served)
{
	bool keep = true;

	if (c->fd < 0)
		return;
	if (events & EPOLLIN)
		keep = client_read(s, c, served);
	else if (events & (EPOLLHUP | EPOLLERR))
		keep = false;
	else if ((events & EPOLLRDHUP) && !c->out)
		keep = false;  /* it will say no more */
	if (keep && c->out)
		keep = client_write(s, c);  /* try at once: usually all of it */
	if (!keep) {
		client_close(s, c);
		return;
	}
	if (c->out && c->deadline_ms == 0)
		c->deadline_ms = ctl_now_ms() + s->deadline_ms;
	client_watch(s, c);
}

/* Drop clients past their deadline; arm the timer for the next one. */
static void expire(struct nm_ctl_server *s)
{
	struct itimerspec its = { 0 };
	int64_t now = ctl_now_ms(), next = 0;
	uint64_t ticks;

	(void)!read(s->tfd, &ticks, sizeof(ticks));
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &s->clients[i];

		if (c->fd < 0 || !c->deadline_ms)
			continue;
		if (c->deadline_ms <= now) {
			client_close(s, c);
			continue;
		}
		if (!next || c->deadline_ms < next)
			next = c->deadline_ms;
	}
	if (next) {
		its.it_value.tv_sec = (next - now) / 1000;
		its.it_value.tv_nsec = ((next - now) % 1000) * 1000000;
	}
	timerfd_settime(s->tfd, 0, &its, NULL);
}

int nm_ctl_server_poll(struct nm_ctl_server *s, int timeout_ms)
{
	struct epoll_event ev[CTL_EVENTS_PER_POLL];
	int served = 0, n;

	n = epoll_wait(s->epfd, ev, CTL_EVENTS_PER_POLL, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == EV_LISTEN)
			accept_some(s);
		else if (ev[i].data.u64 < CTL_MAX_CLIENTS)
			client_event(s, &s->clients[ev[i].data.u64], ev[i].events, &served);
	}
	expire(s);
	return served;
}
