/* SPDX-License-Identifier: MIT */
/*
 * Test helpers: send a patterned flow into the software NIC and receive it
 * back, checking every byte where it landed.
 */
#ifndef NM_TEST_SIM_FLOW_H
#define NM_TEST_SIM_FLOW_H

#include <netmem/netmem.h>
#include <netmem/sim.h>

struct test_flow {
	struct nm_flow flow;
	uint32_t seed;
	uint32_t payload;      /* bytes per frame */
	uint64_t sent;         /* stream bytes injected */
	uint64_t received;     /* stream bytes checked */
	uint64_t mismatches;
	uint64_t split_pkts, unsplit_pkts, net_iov_pkts;
	uint64_t hdr_mismatches;
};

void test_flow_init(struct test_flow *tf, const char *name, uint16_t port,
		    uint32_t payload);
/* Inject @n frames; returns how many the NIC accepted. */
unsigned int test_flow_send(struct nm_sim *sim, struct test_flow *tf,
			    unsigned int n);
/*
 * Receive everything pending on @queue and check it: headers byte for byte
 * against the frame that was sent, payload against the pattern, read through
 * @dmabuf's CPU mapping for net_iovs (NULL: none expected). Returns the
 * number of frames; buffers are put back unless @keep (then stored there,
 * two refs per frame, up to @keep_max frames).
 */
unsigned int test_flow_recv(struct nm_sim *sim, uint32_t queue,
			    struct test_flow *tf, struct nm_dmabuf *dmabuf,
			    nm_netmem_ref *keep, unsigned int keep_max);
/* The software NIC's driver callback counts, one per kind, taken before a
 * step so the test can say which callbacks the step ran. */
struct test_ops {
	uint64_t n[NM_SIM_OP_COUNT];
};

void test_ops_snap(struct nm_sim *sim, struct test_ops *s);
/* Callbacks of kind @op run since @s was taken. */
uint64_t test_ops_since(struct nm_sim *sim, const struct test_ops *s, enum nm_sim_op op);
/* Callbacks of every kind run since @s was taken. */
uint64_t test_ops_total_since(struct nm_sim *sim, const struct test_ops *s);

/* Send @n frames and receive them all back on @queue intact (as above):
 * 0, or -1 not all sent, -2 not all received, -3 a byte differed. */
int test_flow_round_trip(struct nm_sim *sim, struct test_flow *tf, uint32_t queue,
			 unsigned int n, struct nm_dmabuf *dmabuf);

#endif
