/* SPDX-License-Identifier: MIT */
/*
 * `netmem-ctl queue-get` for a DPDK process: netmem's control socket
 * (netmem/ctl.h), served from EAL's own interrupt thread, so even an
 * unmodified app (testpmd with the plugin) answers and no thread of ours
 * runs. Each time a client knocks, every ethdev port is mirrored (adopted
 * as it runs, flags refreshed) and listed.
 *
 * Started with the first dmabuf pool or port mirror. NETMEM_CTL: unset or
 * "1" for <run dir>/netmem-<pid>.sock (run dir: $NETMEM_RUN_DIR, else
 * /run/netmem), "0" for none, or a socket path. Failing to listen is logged,
 * never fatal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>

#include <netmem/ctl.h>

#include "internal.h"

static struct {
	pthread_mutex_t lock;        /* start/stop */
	bool started;
	struct nm_ctl_server *srv;   /* used under nm_dpdk_lock */
	struct rte_intr_handle *ih;
} ctl = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void ctl_readable(void *arg)
{
	uint16_t port;

	(void)arg;
	pthread_mutex_lock(&nm_dpdk_lock);
	if (ctl.srv) {
		RTE_ETH_FOREACH_DEV(port) {
			struct nm_netdev *nd = nm_dpdk_port_netdev_locked(port, NULL);

			if (!nd)
				continue;
			nm_ctl_server_remove_netdev(ctl.srv, nd);
			nm_ctl_server_add_netdev(ctl.srv, nd);
		}
		nm_ctl_server_poll(ctl.srv, 0);
	}
	pthread_mutex_unlock(&nm_dpdk_lock);
}

void nm_dpdk_ctl_start(void)
{
	const char *env = getenv("NETMEM_CTL");
	struct nm_err err = { 0 };
	struct nm_ctl_server *srv = NULL;
	int ret;

	pthread_mutex_lock(&ctl.lock);
	if (ctl.started)
		goto out;
	ctl.started = true;
	if (env && !strcmp(env, "0"))
		goto out;
	ret = nm_ctl_server_create(env && env[0] == '/' ? env : NULL, &srv, &err);
	if (ret) {
		NM_LOG(WARNING, "no control socket for netmem-ctl: %s", err.msg);
		goto out;
	}
	ctl.ih = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (!ctl.ih || rte_intr_fd_set(ctl.ih, nm_ctl_server_fd(srv)) ||
	    rte_intr_type_set(ctl.ih, RTE_INTR_HANDLE_EXT) ||
	    rte_intr_callback_register(ctl.ih, ctl_readable, NULL)) {
		NM_LOG(WARNING, "no control socket for netmem-ctl: cannot watch it from EAL's "
		       "interrupt thread");
		rte_intr_instance_free(ctl.ih);
		ctl.ih = NULL;
		nm_ctl_server_destroy(srv);
		goto out;
	}
	pthread_mutex_lock(&nm_dpdk_lock);
	ctl.srv = srv;
	pthread_mutex_unlock(&nm_dpdk_lock);
	NM_LOG(INFO, "netmem-ctl socket: %s", nm_ctl_server_path(srv));
out:
	pthread_mutex_unlock(&ctl.lock);
}

void nm_dpdk_ctl_forget_locked(struct nm_netdev *nd)
{
	if (ctl.srv)
		nm_ctl_server_remove_netdev(ctl.srv, nd);
}

const char *nm_dpdk_ctl_path(void)
{
	return ctl.srv ? nm_ctl_server_path(ctl.srv) : NULL;
}

/* The socket file must not outlive the process; the fd goes with it. (EAL's
 * interrupt thread may still be running: leave the server to it.) */
RTE_FINI(nm_dpdk_ctl_fini)
{
	const char *path = ctl.srv ? nm_ctl_server_path(ctl.srv) : NULL;

	if (path)
		unlink(path);
}
