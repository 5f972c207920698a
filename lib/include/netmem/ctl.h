/* SPDX-License-Identifier: MIT */
/*
 * The control socket: how `netmem-ctl` sees inside a running netmem process
 * (our counterpart of netdev netlink's queue-get / page-pool-get).
 *
 * The application owns the server and serves it from its own loop: call
 * nm_ctl_server_poll() when convenient (or when nm_ctl_server_fd() is
 * readable). No thread is started behind its back.
 *
 * Protocol: a client connects to the unix socket, writes one request line
 * ("dev-get", "queue-get", "page-pool-get") and reads one JSON document until
 * the server closes the connection; "queue-get text" answers with the table
 * nm_netdev_print_queues() prints.
 */
#ifndef NETMEM_CTL_H
#define NETMEM_CTL_H

#include <stdio.h>

#include <netmem/err.h>
#include <netmem/netdev.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NM_CTL_MAX_NETDEVS 16

struct nm_ctl_server;

/* Directory of control sockets: $NETMEM_RUN_DIR, else /run/netmem. */
const char *nm_ctl_run_dir(void);

/* Listen on @path (NULL: <run dir>/netmem-<pid>.sock). */
int nm_ctl_server_create(const char *path, struct nm_ctl_server **out,
			 struct nm_err *err);
/* Serve @dev's queues; the device must outlive its registration. */
int nm_ctl_server_add_netdev(struct nm_ctl_server *s, struct nm_netdev *dev);
void nm_ctl_server_remove_netdev(struct nm_ctl_server *s, struct nm_netdev *dev);
/* An fd that is readable whenever the server has work (a new client, a
 * client's data, a deadline passed): poll it, then nm_ctl_server_poll(). */
int nm_ctl_server_fd(const struct nm_ctl_server *s);
/* How long a client may take over one request, from connecting to having
 * read the answer (default 2000 ms); a slower one is disconnected. */
int nm_ctl_server_set_deadline(struct nm_ctl_server *s, int ms);
const char *nm_ctl_server_path(const struct nm_ctl_server *s);
/* Do the control socket's pending work, waiting up to @timeout_ms for some.
 * Never blocks on a client: every socket is non-blocking, a call does at
 * most a bounded amount of work (a few accepts, one read or send per ready
 * client), and a client past its deadline is dropped. Returns how many
 * answers were completed, or -errno. */
int nm_ctl_server_poll(struct nm_ctl_server *s, int timeout_ms);
/* Close and unlink the socket. */
void nm_ctl_server_destroy(struct nm_ctl_server *s);

/*
 * A request the application answers itself (e.g. "tcp-get", the TCP
 * stack's counters): @fn writes the whole answer for @request to @out and
 * returns 0, or -ENOENT when the request is not its own (the server then
 * answers as usual). One hook per server; NULL removes it.
 */
typedef int (*nm_ctl_hook_fn)(void *arg, const char *request, FILE *out);
void nm_ctl_server_set_hook(struct nm_ctl_server *s, nm_ctl_hook_fn fn, void *arg);

/*
 * Client side: send the request line @req on the connected socket @sock,
 * with @fd attached as SCM_RIGHTS (-1: none; "bind-rx" needs its dmabuf),
 * in one sendmsg. Returns 0, -errno, or -EIO on a short write.
 */
int nm_ctl_client_send_fd(int sock, const char *req, int fd);

/* Write the answer to @request for @devs into @out (what the server sends). */
int nm_ctl_answer(struct nm_netdev *const *devs, unsigned int ndevs,
		  const char *request, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
