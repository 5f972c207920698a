/* SPDX-License-Identifier: MIT */
/* Library-internal: the control server and its connections. */
#ifndef NETMEM_CTL_INTERNAL_H
#define NETMEM_CTL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include <netmem/binding.h>
#include <netmem/ctl.h>

#define CTL_MAX_CLIENTS      32
#define CTL_REQ_MAX          512   /* one request line */
#define CTL_EVENTS_PER_POLL  16    /* work done by one nm_ctl_server_poll() */
#define CTL_ACCEPTS_PER_POLL 4
#define CTL_DEFAULT_DEADLINE_MS 2000
#define CTL_MAX_HELD         8     /* bindings one connection may hold */

/* One connection: reads a line, answers it, then closes (a query) or stays
 * open (it holds bindings, which live as long as it does). */
struct ctl_client {
	int fd;                     /* -1: free slot */
	uint32_t id;
	pid_t pid;
	uid_t uid;
	char in[CTL_REQ_MAX];
	size_t got;
	bool skip_line;             /* reading the rest of a refused line */
	int passed_fd;              /* from SCM_RIGHTS, -1 if none */
	char *out;                  /* answer being sent */
	size_t out_len, out_off;
	bool close_after;           /* a query: close once answered */
	int64_t deadline_ms;        /* 0: none (idle holder) */
	struct nm_dmabuf_binding *held[CTL_MAX_HELD];
	unsigned int nheld;
};

struct nm_ctl_server {
	int fd;                     /* listening socket */
	int epfd;                   /* what nm_ctl_server_fd() gives out */
	int tfd;                    /* timerfd: the next deadline */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct nm_netdev *devs[NM_CTL_MAX_NETDEVS];
	unsigned int ndevs;
	int deadline_ms;
	uint32_t next_client_id;
	struct ctl_client clients[CTL_MAX_CLIENTS];
	nm_ctl_hook_fn hook;        /* the application's own requests */
	void *hook_arg;
};

int64_t ctl_now_ms(void);
/* Set up the epoll set and the timer of a server whose fd listens. */
int ctl_conn_init(struct nm_ctl_server *s, struct nm_err *err);
/* Close every connection (releasing what they hold) and the epoll set. */
void ctl_conn_fini(struct nm_ctl_server *s);
/* Answer @c's request line @req into @out; may keep the connection open. */
void ctl_request(struct nm_ctl_server *s, struct ctl_client *c, const char *req,
		 FILE *out);
/* {"error":"@msg"} and a newline, @msg escaped. */
void ctl_answer_error(FILE *out, const char *msg);
/* Release what @c holds (its connection is closing). */
void ctl_release_held(struct nm_ctl_server *s, struct ctl_client *c);

#endif
