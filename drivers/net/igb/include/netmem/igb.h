/* SPDX-License-Identifier: MIT */
/*
 * A poll-mode driver for the Intel 82576 (igb) over VFIO.
 *
 * It owns the PCI function through VFIO (the container and group are a
 * netmem VFIO DMA domain), runs several RX queues on advanced descriptors
 * with header split (headers into host memory, payload into the queue's
 * pool by IOVA, which may be a dmabuf binding), implements the framework's
 * queue ops so one queue restarts on new memory while the others keep
 * receiving, steers chosen flows to chosen queues through the RSS
 * redirection table, and transmits on queue 0. No interrupts: the caller
 * polls. See docs/igb.md.
 *
 * Threads: each RX queue may be polled by one thread at a time; control
 * operations (restart, bind) may run from another thread concurrently
 * (a per-queue lock serialises them against the poller).
 */
#ifndef NETMEM_IGB_H
#define NETMEM_IGB_H

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

#define NM_IGB_MAX_RX_QUEUES 8

struct nm_igb_params {
	const char *bdf;          /* PCI address, "0000:00:06.0"; bound to vfio-pci */
	uint32_t num_rx_queues;   /* default 4, at most NM_IGB_MAX_RX_QUEUES */
	uint32_t ring_size;       /* RX descriptors per queue: power of two,
				     64..4096; default 512 */
	uint32_t pool_size;       /* buffers per queue pool; default 2 x ring */
	uint32_t no_split_mask;   /* queues (bit n) that run without header
				     split, and so cannot take unreadable memory */
	uint32_t no_csum_mask;    /* queues (bit n) that do not report the
				     device's RX checksum verdicts (no rx-csum) */
	bool no_hugepages;        /* host buffers on 4 KiB pages */
	int link_timeout_ms;      /* wait for link; default 5000 */
	uint32_t mtu;             /* IP MTU, 68..9000; default 1500. Above
				     1500: jumbo frames (RCTL.LPE, RLPML), and
				     every queue takes only buffers that hold a
				     whole frame (9 KiB and up at 9000) */
	/*
	 * Open the device in a DMA domain and with a VFIO device fd that
	 * someone else owns (a DPDK PMD: EAL's VFIO container). NULL: the
	 * driver makes its own container for the device's group.
	 */
	struct nm_dma_domain *dma_domain;
	int vfio_device_fd;       /* with dma_domain: the device fd; never closed here */
};

/* Largest frame the port takes at @mtu (Ethernet header and one VLAN
 * tag; the CRC is stripped), hence the smallest buffer a queue takes,
 * rounded up to SRRCTL's 1 KiB units. */
#define NM_IGB_MAX_MTU 9000u
#define NM_IGB_FRAME_LEN(mtu) ((mtu) + 14u + 4u)

struct nm_igb;

/*
 * Claim the device: VFIO container + group + device, BAR0, bus master,
 * reset, link up, RSS and every RX queue running on host memory.
 */
int nm_igb_open(const struct nm_igb_params *params, struct nm_igb **out,
		struct nm_err *err);
/* Stop the device, release every queue's memory and every DMA mapping. */
void nm_igb_close(struct nm_igb *igb);

struct nm_netdev *nm_igb_netdev(struct nm_igb *igb);
/* The host memory headers, default payload and TX buffers come from. */
struct nm_host_mem *nm_igb_host_mem(struct nm_igb *igb);
void nm_igb_mac_addr(struct nm_igb *igb, uint8_t mac[6]);
/* The IP MTU the device was opened with. */
uint32_t nm_igb_mtu(struct nm_igb *igb);
/*
 * The port protocol layers (lib/tcp) use: RX per queue, TX on queue 0,
 * per-flow steering through the redirection table (steer_flow, -EEXIST on
 * an entry owned by another queue). The 82576 model in QEMU has no filter
 * that matches a destination port alone: TCP listeners steer each
 * connection once its SYN is seen (steer_port refuses TCP, -EOPNOTSUPP);
 * a UDP listener's steer_port takes the redirection table's unsteered
 * entries to its queue (nm_igb_steer_port()). Valid until nm_igb_close().
 */
struct nm_port *nm_igb_port(struct nm_igb *igb);

/*
 * Poll up to @n frames from RX queue @queue and refill its ring. With
 * header split the headers are in @hdr (host memory) and the payload in
 * @payload (the queue's pool: a net_iov on a dmabuf binding). A frame the
 * device could not split (not TCP/UDP over IP) on a queue whose pool is
 * unreadable is dropped and counted: its headers would be in device memory.
 */
unsigned int nm_igb_rx_burst(struct nm_igb *igb, uint32_t queue,
			     struct nm_rx_pkt *pkts, unsigned int n);

/*
 * Give back the buffers of @n frames from the thread that polls @queue
 * (the kernel's page_pool_recycle_direct()): buffers of the queue's current
 * pools go straight into their caches, anything else (a pool left behind by
 * a restart) takes the any-thread path. Other threads use nm_netmem_put().
 */
void nm_igb_rx_recycle(struct nm_igb *igb, uint32_t queue,
		       const struct nm_rx_pkt *pkts, unsigned int n);

/* Copy up to @n frames into host buffers and send them on TX queue 0.
 * Returns how many were queued (fewer when the ring is full). */
unsigned int nm_igb_tx_burst(struct nm_igb *igb, const void *const *frames,
			     const uint16_t *lens, unsigned int n);

/*
 * Steer the frames of flow @f (its 5-tuple as the device receives it) to
 * @queue: the driver computes the flow's RSS (Toeplitz) hash with the key
 * it programmed and points that entry of the 128-entry redirection table at
 * @queue. Every other entry stays on queue 0, so unsteered traffic lands
 * there. -EEXIST when an earlier flow to another queue owns the entry (or
 * it is entry 0, kept for unhashed traffic): choose another port.
 */
int nm_igb_steer(struct nm_igb *igb, const struct nm_flow *f, uint32_t queue,
		 struct nm_err *err);
/* Undo one nm_igb_steer() of @f; the entry returns to queue 0 (or to the
 * UDP port rules' queue) when the last flow steered through it goes. A
 * flow that was never steered (its steer failed) changes nothing. */
void nm_igb_unsteer(struct nm_igb *igb, const struct nm_flow *f);

/*
 * A UDP listener's rule: datagrams to port @port over IP version @ipver go
 * to @queue from the first one, whatever their source. The device has no
 * destination-port filter (QEMU's model: RSS and VMDq pools only), so the
 * rule points every redirection entry that carries no steered flow, entry 0
 * excepted, at @queue: datagrams to @port land there unless their hash
 * falls in entry 0 or in an entry a steered flow owns (1 in 128 each); so
 * does other hashed traffic without a steered flow (datagrams to other
 * ports, TCP handshakes). Unhashed frames (ARP, ICMP, ND) stay on queue 0.
 * Rules share one queue: -EEXIST for another queue while one is set;
 * -EOPNOTSUPP for TCP (steered per connection, nm_igb_steer()).
 */
int nm_igb_steer_port(struct nm_igb *igb, uint8_t ipver, uint8_t l4proto, uint16_t port,
		      uint32_t queue, struct nm_err *err);
/* Remove the rule; with the last one the unsteered entries go back. */
void nm_igb_unsteer_port(struct nm_igb *igb, uint8_t ipver, uint8_t l4proto,
			 uint16_t port);
/* The redirection table as programmed, and the flows steered through each
 * entry (either may be NULL). */
void nm_igb_reta_get(struct nm_igb *igb, uint8_t reta[128], uint16_t refs[128]);
/* The RSS hash the device computes for frames of @f. */
uint32_t nm_igb_rss_hash(const struct nm_flow *f);
/* The 40-byte Toeplitz key the driver programs (fixed: steering and
 * nm_igb_rss_hash() compute with it). */
void nm_igb_rss_key(uint8_t key[40]);

/*
 * Turn header split on or off for @queue: updates its capability flags and
 * restarts it through the common path (refused if its provider needs split).
 */
int nm_igb_set_header_split(struct nm_igb *igb, uint32_t queue, bool on,
			    struct nm_err *err);

/*
 * How an RX queue lays out what it receives: with header split (SRRCTL
 * DESCTYPE 010b) the device puts the headers, up to the end of the TCP/UDP
 * header (up to the L4 header for other IP protocols), into a header buffer
 * of @hdr_size bytes from @hdr_mp and the rest into the queue's payload
 * pool; frames it cannot split (not IP, headers over @hdr_size) arrive
 * whole in the payload buffer.
 */
struct nm_igb_rxq_layout {
	bool split;
	struct nm_mp_params hdr_mp;   /* ops NULL: the driver's host memory */
	uint32_t hdr_size;            /* 64..960, a multiple of 64; 0: 256 */
};

/*
 * Give queue @queue layout @l and payload provider @mp in one restart
 * through the common check-first path (its flags follow @l first). On
 * failure the queue keeps its old layout, flags and memory.
 */
int nm_igb_rxq_setup(struct nm_igb *igb, uint32_t queue,
		     const struct nm_igb_rxq_layout *l,
		     const struct nm_mp_params *mp, struct nm_err *err);

/*
 * Stop (@pause) or restart a running queue on the memory it has (the
 * device's per-queue disable/enable): a paused queue posts no buffers and
 * its frames are dropped by the device; the others go on.
 */
int nm_igb_rxq_pause(struct nm_igb *igb, uint32_t queue, bool pause,
		     struct nm_err *err);

/*
 * Program the whole 128-entry RSS redirection table (entry -> queue).
 * Refused (-EBUSY) while flows are steered with nm_igb_steer() or a UDP
 * port rule is set. Unhashed frames (not TCP/UDP over IP) still go to
 * queue 0. An entry a steered flow leaves returns to this table.
 */
int nm_igb_set_reta(struct nm_igb *igb, const uint8_t reta[128],
		    struct nm_err *err);

/* Accept every unicast (@promisc) and every multicast (@allmulti) frame,
 * not only those for the port's MAC, broadcast and joined groups. */
void nm_igb_set_rx_mode(struct nm_igb *igb, bool promisc, bool allmulti);

/* Link state from the STATUS register: up, speed in Mb/s, duplex. */
bool nm_igb_link(struct nm_igb *igb, uint32_t *speed_mbps, bool *full_duplex);

struct nm_igb_rxq_stats {
	uint64_t packets, bytes;
	uint64_t split;          /* frames whose headers went to host memory */
	uint64_t hdr_bytes;      /* bytes in header buffers */
	uint64_t payload_bytes;  /* bytes in the pool's buffers */
	uint64_t drop_unsplit;   /* not split, pool unreadable: dropped */
	uint64_t drop_error;     /* frame error or a frame over several buffers */
	uint64_t csum_bad;       /* delivered with a bad-checksum verdict */
	uint64_t refill_empty;   /* refills that found the pool empty */
};
void nm_igb_rxq_stats(struct nm_igb *igb, uint32_t queue,
		      struct nm_igb_rxq_stats *st);

/* What the device's registers for one RX ring hold right now. */
struct nm_igb_ring_regs {
	uint32_t rdbal, rdbah, rdlen, srrctl, rxdctl, rdh, rdt;
};
void nm_igb_ring_regs(struct nm_igb *igb, uint32_t queue,
		      struct nm_igb_ring_regs *r);

/* Device counters accumulated since open (the registers clear on read). */
struct nm_igb_hw_stats {
	uint64_t rx_good, tx_good, rx_missed;
};
void nm_igb_hw_stats(struct nm_igb *igb, struct nm_igb_hw_stats *st);

/* Driver queue-op callbacks, counted so tests can prove which ran. */
enum nm_igb_op {
	NM_IGB_OP_MEM_ALLOC,
	NM_IGB_OP_MEM_FREE,
	NM_IGB_OP_START,
	NM_IGB_OP_STOP,
	NM_IGB_OP_COUNT
};
uint64_t nm_igb_op_count(struct nm_igb *igb, enum nm_igb_op op);

#ifdef __cplusplus
}
#endif
#endif
