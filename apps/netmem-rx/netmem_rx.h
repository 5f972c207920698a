/* SPDX-License-Identifier: MIT */
/* netmem-rx's parts: options, the software NIC run (netmem_rx.c), the igb run. */
#ifndef NETMEM_RX_H
#define NETMEM_RX_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <netmem/ctl.h>
#include <netmem/dmabuf.h>
#include <netmem/netdev.h>
#include <netmem/pkt.h>

struct options {
	const char *dmabuf;
	const char *flow;
	uint32_t queues, queue, payload, buf_size;
	int lesser_queue;
	uint16_t port;
	uint64_t bytes;
	bool quiet;
	bool ctl;               /* serve a control socket */
	const char *ctl_sock;   /* at this path (NULL: default) */
	uint32_t hold;          /* seconds to keep serving after the run */
	const char *dev;        /* "igb:BDF": a real NIC; NULL: software NIC */
	uint32_t ack_every;     /* igb: progress frame to the sender every N */
	uint32_t timeout;       /* igb: seconds without a frame before giving up */
};

struct counters {
	uint64_t frames, payload_bytes, hdr_bytes, split, net_iov, mismatches;
	uint64_t other_frames, other_mismatches;
};

/* Fill @o from the command line; -EINVAL (message printed) on bad input. */
int parse_options(int argc, char **argv, struct options *o);
double now_s(void);
/* Set by SIGINT/SIGTERM once catch_stop_signals() ran: loops end early. */
extern volatile sig_atomic_t stop_signal;
void catch_stop_signals(void);
/* The control socket, when asked for (NULL otherwise). */
int start_ctl(const struct options *o, struct nm_netdev *dev,
	      struct nm_ctl_server **out);
void hold_ctl(const struct options *o, struct nm_ctl_server *ctl);
/* Receive o->bytes of @flow on a real igb port into @buf; exit status. */
int run_igb(const struct options *o, const struct nm_flow *flow,
	    struct nm_dmabuf *buf);

#endif
