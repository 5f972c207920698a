/* SPDX-License-Identifier: MIT */
/* netmem-rx's parts: options, what every run shares (session.c), the
 * software NIC run (netmem_rx.c), the listen runs (listen*.c). */
#ifndef NETMEM_RX_H
#define NETMEM_RX_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <netmem/ctl.h>
#include <netmem/cuda.h>
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
	const char *dev;        /* listen mode's port: "igb:BDF" or "tap:IFNAME" */
	uint32_t timeout;       /* listen: seconds without progress before giving up */
	/* Listen mode (--listen): a TCP/UDP receiver for any ordinary sender. */
	uint16_t listen;        /* local port; 0: not in listen mode */
	bool udp;
	const char *addr4, *addr6;
	const char *out;        /* write the received stream here */
	uint32_t validate;      /* ncdevmem -v N pattern check; 0: off */
	uint32_t connections;   /* accept this many, then end when all end;
				 * 0: serve until a signal */
	uint32_t keepalive_ms;  /* probe a peer silent this long (0: stack's) */
	uint32_t keepalive_probes;
	uint32_t pollers;       /* poller threads; 0: one per listen queue + 1 */
	uint32_t listen_queues[8];
	uint32_t num_listen_queues;
	uint32_t hold_tokens;   /* keep this many tokens out (slow consumer) */
	uint64_t consume_rate;  /* bytes per second the consumer takes; 0: all */
	bool sw_csum;           /* the dmabuf is CPU-readable: software sums */
	bool release_syscall;   /* return tokens with release_tokens, not the ring */
	const char *tap_impair; /* the TAP NIC's own impairment (no netem) */
	uint32_t mtu;           /* igb: IP MTU (jumbo frames above 1500) */
	uint32_t try_buf_size;  /* listen igb: try a binding of this size on
				 * the first listen queue first, show the verdict */
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

/* GPU memory (cuda:): the payload is checked on the GPU (gpu_check.c). */
struct gpu_check {
	struct nm_dmabuf *buf;
	uint32_t seed;
	unsigned int n;
	struct nm_cuda_span spans[64];   /* one RX burst */
};
bool gpu_check_wanted(const struct nm_dmabuf *buf);
void gpu_check_print(const struct nm_dmabuf *buf);
void gpu_check_add(struct gpu_check *gc, uint64_t off, uint32_t len, uint64_t stream_off);
/* Check what was added; adds the bad spans to *@mismatches. */
int gpu_check_flush(struct gpu_check *gc, uint64_t *mismatches);
/* --listen: the stack on @port (a TAP, igb...), payload into @buf. */
struct nm_port;
/* Why a listen run ended early, for the last line of the output ("" when
 * it ended as asked). */
extern char listen_verdict[256];
/* Open --out for connection @i (FILE, FILE.1, ...): the fd, -1 (printed)
 * on failure or without --out. */
int open_out(const struct options *o, unsigned int i);
/* What --listen can refuse before any device is touched: every --out name,
 * a dmabuf too small for one window. -EINVAL, the reason printed. */
int listen_precheck(const struct options *o, const struct nm_dmabuf *buf);
int run_listen(const struct options *o, struct nm_port *port, struct nm_dmabuf *buf);
/* --listen --dev tap:IFNAME / igb:BDF: make the port, then run_listen(). */
int run_listen_tap(const struct options *o, struct nm_dmabuf *buf);
int run_listen_igb(const struct options *o, struct nm_dmabuf *buf);

#endif
