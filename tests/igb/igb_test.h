/* SPDX-License-Identifier: MIT */
/*
 * Shared by the igb guest tests: a raw AF_PACKET sender on port A (the
 * kernel's igb) that sends known payload patterns as UDP and TCP segments,
 * paced by how many frames the receiver has taken, and the per-frame checks
 * of what our driver delivered on port B.
 */
#ifndef IGB_TEST_H
#define IGB_TEST_H

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <netmem/netmem.h>

#define IGBT_MAX_PAYLOAD 1440   /* 1500 MTU - IPv6 - TCP */

#define IGBT_OK(...) do { printf("%s: ok: ", igbt_name); printf(__VA_ARGS__); \
			  printf("\n"); } while (0)
#define IGBT_CHECK(cond, ...) do { \
	if (!(cond)) { printf("%s: FAIL: ", igbt_name); printf(__VA_ARGS__); \
		       printf("\n"); exit(1); } \
	IGBT_OK(__VA_ARGS__); } while (0)
#define IGBT_DIE(...) do { printf("%s: FAIL: ", igbt_name); printf(__VA_ARGS__); \
			   printf("\n"); exit(1); } while (0)

extern const char *igbt_name;

/* One flow from port A to port B with its payload stream. */
struct igbt_flow {
	struct nm_flow f;
	uint32_t seed;            /* pattern seed */
	uint64_t total;           /* payload bytes to send; UINT64_MAX: until stopped */
	bool gaps_ok;             /* TCP flow on a queue that restarts: losses allowed */
	/* sender */
	uint64_t sent_off, frames_sent;
	/* receiver */
	uint64_t recv_off, frames_recv, bytes_recv, gaps;
};

struct igbt_sender {
	const char *ifname;
	struct igbt_flow *flows;
	unsigned int nflows;
	unsigned int window;                 /* frames in flight at most */
	atomic_uint_least64_t taken;         /* frames the receiver has taken */
	atomic_uint_least64_t sent;          /* frames sent */
	atomic_bool stop;
	atomic_bool done;
	uint64_t presumed_lost;              /* in flight too long: counted lost */
	int error;                           /* errno, 0 if fine */
	pthread_t thread;
};

/* udp6/tcp6 from port A's MAC and link-local address to port B's. */
void igbt_flow_init(struct igbt_flow *fl, const char *name, uint16_t port,
		    uint32_t seed, uint64_t total);

/* Start sending on ifname (port A) in a thread. */
int igbt_sender_start(struct igbt_sender *s);
/* Wait until every flow is sent (or stop); returns s->error. */
int igbt_sender_join(struct igbt_sender *s);

/* Payload bytes of frame @n of a flow: mostly full frames, some odd sizes. */
uint32_t igbt_payload_len(uint64_t n);

/*
 * Check one frame our driver delivered: its headers (split into a host
 * buffer, or at the start of a readable payload buffer) name one of @flows;
 * its payload is that flow's pattern at the right stream offset. Payload
 * bytes are read through @dmabuf_cpu when they are in a net_iov. Updates the
 * flow's receive state; returns the flow index, or -1 with @why filled.
 */
int igbt_check_frame(struct igbt_flow *flows, unsigned int nflows,
		     const struct nm_rx_pkt *p, char *why, size_t whylen);

/* Fill the rest of a host header buffer with the canary after a check. */
#define IGBT_CANARY 0xa5
bool igbt_canary_intact(const uint8_t *buf, size_t from, size_t to);

double igbt_now(void);

#endif
