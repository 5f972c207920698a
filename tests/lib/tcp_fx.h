/* SPDX-License-Identifier: MIT */
/*
 * The frame-level TCP tests' fixture (test_tcp.c, test_tcp_robust.c): a
 * software NIC whose transmitted frames are captured, a stack on it with a
 * driven clock, and the peer the frames come from. One per test program
 * (F); each program sets it up its own way. TCP_FX_POLL_ROUNDS before the
 * include: how many passes over the queues one poll_all() makes.
 */
#ifndef TCP_FX_H
#define TCP_FX_H

#include <netmem/netmem.h>
#include <netmem/sim.h>
#include <netmem/sim_port.h>
#include <netmem/tcp.h>

#include "tcp_frames.h"

#ifndef TCP_FX_POLL_ROUNDS
#define TCP_FX_POLL_ROUNDS 8
#endif
#define MAXCAP 512

struct fx {
	struct nm_sim *sim;
	struct nm_sim_port sp;
	struct nm_stack *st;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_listener *l;
	uint8_t *cpu;
	uint8_t cap[MAXCAP][1600];
	uint16_t caplen[MAXCAP];
	unsigned int ncap;
	uint64_t now;
	struct tf_peer peer;
	uint32_t iss_peer, our_iss, tsval;
	uint16_t sport;
};

static struct fx F;

/* The software NIC's TX: keep what the stack sent, for the checks. */
static inline bool capture(void *arg, const void *frame, uint16_t len)
{
	struct fx *fx = arg;

	if (fx->ncap < MAXCAP) {
		memcpy(fx->cap[fx->ncap], frame, len < 1600 ? len : 1600);
		fx->caplen[fx->ncap++] = len;
	}
	return true;
}

static inline uint64_t fake_now(void *arg)
{
	return ((struct fx *)arg)->now;
}

static inline void poll_all(void)
{
	for (int round = 0; round < TCP_FX_POLL_ROUNDS; round++) {
		int got = 0;

		for (uint32_t q = 0; q < 4; q++)
			got += nm_stack_poll(F.st, q, 0);
		if (!got)
			break;
	}
}

static inline void inject(const uint8_t *f, size_t len)
{
	nm_sim_inject(F.sim, f, len);
	poll_all();
}

/* The last valid TCP segment the stack sent. */
static inline struct tf_seg last_seg(void)
{
	struct tf_seg s = { 0 };

	for (unsigned int i = F.ncap; i-- > 0;) {
		s = tf_parse(F.cap[i], F.caplen[i]);
		if (s.ok)
			return s;
	}
	return s;
}

#endif
