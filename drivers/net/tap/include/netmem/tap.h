/* SPDX-License-Identifier: MIT */
/*
 * A software NIC on a TAP device: the host kernel is the peer on the wire.
 * Frames the kernel sends into the TAP are read (non-blocking; with its
 * checksum and TSO offloads, see no_offload below) and handed
 * to a software NIC (netmem/sim.h), which header-splits, steers and "DMAs"
 * them into its queues' pools (a dmabuf binding or host memory) with
 * checksum verdicts, as a NIC with RX checksum offload would; frames the
 * stack sends are written to the TAP.
 *
 * Threads: rx_burst on any queue from its poller; one poller at a time
 * reads the TAP (the others skip), so frames keep their order.
 */
#ifndef NETMEM_TAP_H
#define NETMEM_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include <netmem/err.h>
#include <netmem/port.h>
#include <netmem/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Impairment of what the kernel sends, applied as frames are read: for
 * hosts without sch_netem (percentages, 0 off; a fixed seed). */
struct nm_tap_impair {
	uint32_t loss, dup, reorder, corrupt;
	uint32_t seed;
};

/* Parse "loss=2,dup=2,reorder=5,corrupt=1"; -EINVAL on junk. */
int nm_tap_impair_parse(const char *s, struct nm_tap_impair *out);

struct nm_tap_params {
	struct nm_tap_impair impair;
	const char *ifname;      /* the TAP interface (it must exist) */
	bool create;             /* make it when it does not (-ENODEV else) */
	uint32_t num_rx_queues;  /* default 4 */
	uint32_t ring_size;      /* default 256 */
	uint32_t pool_size;      /* default 8 x ring (a deep TCP window) */
	bool no_hugepages;
	const uint8_t *mac;      /* NULL: 02:6e:6d + a hash of the name */
	/* Read frames as they would cross a wire: no IFF_VNET_HDR, no
	 * TUNSETOFFLOAD (always so with an impairment). Else the kernel hands
	 * over TSO frames (cut into segments here) and says which checksums it
	 * vouches for (not checked again). */
	bool no_offload;
};

struct nm_tap_stats {
	uint64_t rx_frames;      /* read from the TAP */
	uint64_t rx_dropped;     /* the software NIC refused them */
	/* A queue without buffers: frames kept for it until it has some
	 * (a few per queue), and dropped past those; the other queues are
	 * read on meanwhile. */
	uint64_t rx_held_no_buf, rx_no_buf_dropped;
	uint64_t tx_frames;
	uint64_t tx_errors;
	uint64_t impair_lost, impair_dup, impair_reordered, impair_corrupted;
	bool offload;            /* checksum and TSO offloads in use */
	uint64_t rx_gso;         /* TSO frames read (each cut into segments) */
	uint64_t rx_csum_vouched; /* other frames whose checksum the kernel vouched for */
};

struct nm_tap;

/* Open /dev/net/tun, attach to the TAP (make it with @create), build the
 * NIC. -ENODEV no such interface, -ENOENT no /dev/net/tun, -EPERM not
 * allowed, with the reason. */
int nm_tap_create(const struct nm_tap_params *p, struct nm_tap **out,
		  struct nm_err *err);
void nm_tap_destroy(struct nm_tap *tap);

struct nm_port *nm_tap_port(struct nm_tap *tap);
struct nm_sim *nm_tap_sim(struct nm_tap *tap);
struct nm_netdev *nm_tap_netdev(struct nm_tap *tap);
/* The TAP's fd (for poll(2) when idle). */
int nm_tap_fd(struct nm_tap *tap);
void nm_tap_get_stats(struct nm_tap *tap, struct nm_tap_stats *st);

#ifdef __cplusplus
}
#endif
#endif
