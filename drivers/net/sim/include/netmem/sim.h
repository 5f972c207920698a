/* SPDX-License-Identifier: MIT */
/*
 * A software NIC, like the kernel's netdevsim: RX queues with descriptor
 * rings, header split, flow steering, the framework's queue ops, and an
 * injector that plays the wire. Its "DMA" goes through an identity DMA
 * domain, so a write to memory that is not mapped is caught as a fault.
 *
 * Threads: any thread may inject; each queue is polled by one thread at a
 * time (a per-queue lock makes control operations safe against it).
 */
#ifndef NETMEM_SIM_H
#define NETMEM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netmem/err.h>
#include <netmem/mp_host.h>
#include <netmem/netdev.h>
#include <netmem/pkt.h>
#include <netmem/rx_pkt.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nm_sim_params {
	const char *name;        /* default "sim0" */
	uint32_t num_rx_queues;  /* default 4 */
	uint32_t ring_size;      /* descriptors per queue; default 256 */
	uint32_t pool_size;      /* buffers per queue pool; default 2 x ring */
	bool no_hugepages;       /* host memory on normal pages */
	/* NULL: a DMA domain of its own; else this one (a reference is
	 * taken), as ports behind one IOMMU share theirs. */
	struct nm_dma_domain *dma;
};

struct nm_sim_rxq_stats {
	uint64_t packets, bytes;
	uint64_t hdr_bytes;      /* into host header buffers */
	uint64_t payload_bytes;  /* into the queue's pool buffers */
	uint64_t split;          /* packets with headers split off */
	uint64_t drop_stopped;   /* arrived while the queue was stopped */
	uint64_t drop_no_buf;    /* no posted descriptor */
	uint64_t drop_too_big;   /* did not fit one buffer */
	uint64_t dma_faults;     /* write to an unmapped IOVA */
};

/* Driver callbacks, counted so tests can prove which ran. */
enum nm_sim_op {
	NM_SIM_OP_MEM_ALLOC,
	NM_SIM_OP_MEM_FREE,
	NM_SIM_OP_START,
	NM_SIM_OP_STOP,
	NM_SIM_OP_COUNT
};

struct nm_sim;

int nm_sim_create(const struct nm_sim_params *params, struct nm_sim **out,
		  struct nm_err *err);
void nm_sim_destroy(struct nm_sim *sim);

struct nm_netdev *nm_sim_netdev(struct nm_sim *sim);
struct nm_host_mem *nm_sim_host_mem(struct nm_sim *sim);

/* Change a queue's capability flags (a test can make a lesser queue). */
int nm_sim_set_queue_caps(struct nm_sim *sim, uint32_t queue, uint32_t caps);
/* Change the buffer sizes a queue takes (256 B to 64 KiB in 256 B steps by
 * default; .dflt is ignored: the default memory's 2 KiB buffers are kept,
 * and not checked when outside the new range). */
int nm_sim_set_queue_buf_sizes(struct nm_sim *sim, uint32_t queue,
			       const struct nm_rxq_buf_sizes *sizes);

/* Steer frames of @f's (ipver, l4proto, dst_port) to @queue (16 rules at
 * most: -ENOSPC). */
int nm_sim_steer(struct nm_sim *sim, const struct nm_flow *f, uint32_t queue);
/* Remove one rule for @f's (ipver, l4proto, dst_port), if there is one. */
void nm_sim_unsteer(struct nm_sim *sim, const struct nm_flow *f);

/*
 * Steer the frames of one flow (@f's 5-tuple as received) to @queue, ahead
 * of the port rules. Like a NIC's perfect-match filters the table is small
 * (NM_SIM_FLOW_SLOTS entries, indexed by the flow's hash): -EEXIST when
 * another flow owns the slot, -EINVAL for a bad queue.
 */
#define NM_SIM_FLOW_SLOTS 64
int nm_sim_steer_flow(struct nm_sim *sim, const struct nm_flow *f, uint32_t queue);
/* Remove @f's flow rule, if it has one. */
void nm_sim_unsteer_flow(struct nm_sim *sim, const struct nm_flow *f);

/* The wire: deliver one frame. Returns the queue it was written to, or a
 * negative errno when dropped (-ENETDOWN stopped, -ENOBUFS no buffer,
 * -EMSGSIZE too big, -EFAULT DMA fault). */
int nm_sim_inject(struct nm_sim *sim, const void *frame, size_t len);
/* nm_sim_inject() of a frame in two pieces: @head (all of its headers)
 * and @rest. @verdict is the wire's own checksum verdict (NM_RX_PKT_L4_CSUM_*
 * flags, 0 for none: a TAP whose kernel vouched for the checksum), reported
 * by a queue with RX checksum offload instead of its own check; -1 has the
 * queue check as nm_sim_inject() does (then @rest_len must be 0: -EINVAL). */
int nm_sim_inject2(struct nm_sim *sim, const void *head, size_t head_len,
		   const void *rest, size_t rest_len, int verdict);
/* The queue nm_sim_inject() would put @frame on (its steering, no write). */
uint32_t nm_sim_queue_of(struct nm_sim *sim, const void *frame, size_t len);

/* Poll up to @n received frames from @queue; refills the ring. */
unsigned int nm_sim_rx_burst(struct nm_sim *sim, uint32_t queue,
			     struct nm_rx_pkt *pkts, unsigned int n);

/* Frames received on @queue that nm_sim_rx_burst() has not taken yet. */
uint32_t nm_sim_rx_waiting(struct nm_sim *sim, uint32_t queue);

void nm_sim_rxq_stats(struct nm_sim *sim, uint32_t queue,
		      struct nm_sim_rxq_stats *st);

/* How many times each driver callback ran. */
uint64_t nm_sim_op_count(struct nm_sim *sim, enum nm_sim_op op);
/* Make the next call of @op fail with @error (negative errno). */
void nm_sim_fail_next(struct nm_sim *sim, enum nm_sim_op op, int error);

#ifdef __cplusplus
}
#endif
#endif
