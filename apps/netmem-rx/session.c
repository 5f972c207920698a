/* SPDX-License-Identifier: MIT */
/*
 * What every netmem-rx run shares, whichever mode runs (the software NIC in
 * netmem_rx.c, --listen in listen.c): the stop signals, the clock, the
 * control socket. Kept apart so that the modes depend on it, never on the
 * file that picks the mode.
 */
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "netmem_rx.h"

/* SIGINT/SIGTERM: the loops finish their round, then the run unbinds and
 * prints its summary like any other end. */
volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --ctl: serve a control socket for netmem-ctl on @dev. */
int start_ctl(const struct options *o, struct nm_netdev *dev,
		     struct nm_ctl_server **ctl)
{
	struct nm_err err = { 0 };

	if (!o->ctl)
		return 0;
	if (nm_ctl_server_create(o->ctl_sock, ctl, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		return -1;
	}
	nm_ctl_server_add_netdev(*ctl, dev);
	printf("control socket: %s (netmem-ctl --sock %s queue-get)\n",
	       nm_ctl_server_path(*ctl), nm_ctl_server_path(*ctl));
	return 0;
}

/* --hold: keep serving the control socket after the run. */
void hold_ctl(const struct options *o, struct nm_ctl_server *ctl)
{
	double until = now_s() + o->hold;

	if (!ctl || !o->hold)
		return;
	printf("\nserving %s for %u s\n", nm_ctl_server_path(ctl), o->hold);
	fflush(stdout);
	while (now_s() < until && !stop_signal)
		nm_ctl_server_poll(ctl, 100);
}
