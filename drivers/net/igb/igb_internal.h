/* SPDX-License-Identifier: MIT */
/* The igb driver's own state, shared by igb.c, igb_rxtx.c and igb_rss.c. */
#ifndef NETMEM_IGB_INTERNAL_H
#define NETMEM_IGB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <netmem/igb.h>
#include <netmem/port.h>
#include <netmem/page_pool.h>

#include "igb_regs.h"
#include "vfio_pci.h"

#define IGB_HOST_BUF_SIZE 2048u   /* headers, default payload, TX frames */
#define IGB_HDR_BUF_SIZE  256u    /* SRRCTL.BSIZEHEADER: split headers up to this */
#define IGB_TX_RING_SIZE  256u
#define IGB_RETA_SIZE     128u
#define IGB_RSS_KEY_LEN   40u

/* What one RX descriptor slot holds while the device owns it. */
struct igb_rx_slot {
	nm_netmem_ref hdr;       /* host header buffer (split), else 0 */
	nm_netmem_ref payload;   /* the queue pool's buffer */
};

/* One generation of an RX queue's memory (the framework's "qmem"). */
struct igb_qmem {
	struct nm_host_mem *ring_mem;   /* the descriptor ring, DMA-mapped */
	union igb_adv_rx_desc *ring;
	struct igb_rx_slot *slots;
	uint32_t size;                  /* descriptors, power of two */
	struct nm_page_pool *hdr_pool;  /* host memory: headers (split only) */
	struct nm_page_pool *pool;      /* the provider: payload */
	uint32_t buf_size;              /* bytes per payload buffer */
	uint32_t hdr_size;              /* SRRCTL.BSIZEHEADER in bytes (split) */
	bool split;
	bool rx_csum;                   /* report the checksum verdicts */
	bool discard;                   /* inside a frame over several
					 * descriptors: drop up to its EOP */
	uint32_t next_to_clean;         /* oldest descriptor the device may fill */
	uint32_t tail;                  /* next descriptor to post (RDT) */
};

struct igb_rxq {
	pthread_mutex_t lock;           /* poller vs. stop/start */
	struct igb_qmem *cur;           /* running memory, NULL when stopped */
	struct nm_igb_rxq_stats stats;
	/* Layout the next mem_alloc builds (nm_igb_rxq_setup); control path. */
	struct nm_mp_params hdr_mp;
	uint32_t hdr_size;
	bool paused;                    /* nm_igb_rxq_pause(): ring given back */
};

/* A flow steered with nm_igb_steer(): what nm_igb_unsteer() must find
 * before it gives an entry's reference back. */
struct igb_flow_rec {
	uint32_t hash;
	uint32_t count;                 /* steered that many times */
	uint8_t ipver, l4proto;
	uint16_t src_port, dst_port;
	uint8_t src_ip[16], dst_ip[16];
};

/* A listener's UDP port rule (nm_igb_steer_port). */
#define IGB_PORT_RULES 8u
struct igb_port_rule {
	uint8_t ipver;
	uint16_t port;
	uint32_t queue;
};

struct igb_txq {
	pthread_mutex_t lock;
	struct nm_host_mem *ring_mem;
	union igb_adv_tx_desc *ring;
	nm_netmem_ref *bufs;            /* buffer in each slot, 0 if free */
	struct nm_page_pool *pool;      /* host memory */
	uint32_t size, clean, tail;
};

struct nm_igb {
	struct nm_netdev dev;           /* first: container_of is a cast */
	struct nm_vfio_pci pci;
	bool ext_fd;                    /* the device fd is the caller's */
	volatile uint8_t *bar0;
	char bdf[16];
	uint8_t mac[6];
	uint32_t ring_size, pool_size;
	uint32_t mtu;
	struct nm_host_mem *host;
	/* Default payload memory when a frame outgrows IGB_HOST_BUF_SIZE
	 * (jumbo MTU); NULL otherwise, and payload defaults to host. */
	struct nm_host_mem *jumbo;
	struct nm_rxq_buf_sizes buf_sizes; /* what every queue takes */
	struct igb_rxq rxq[NM_IGB_MAX_RX_QUEUES];
	struct igb_txq txq;
	/* Steering (igb_rss.c), under rss_lock. An entry no flow is steered
	 * through points at the UDP port rules' queue if there are any
	 * (entry 0 excepted), else at reta_dflt (nm_igb_set_reta). */
	pthread_mutex_t rss_lock;
	uint8_t reta[IGB_RETA_SIZE];
	uint8_t reta_dflt[IGB_RETA_SIZE];
	uint16_t reta_refs[IGB_RETA_SIZE]; /* flows steered through an entry */
	struct igb_flow_rec *flows;     /* each steered flow, once */
	uint32_t num_flows, cap_flows;
	struct igb_port_rule port_rules[IGB_PORT_RULES];
	uint32_t num_port_rules;
	struct nm_port port;            /* what protocol layers see */
	struct nm_igb_hw_stats hw;
	atomic_uint_least64_t op_count[NM_IGB_OP_COUNT];
};

static inline struct nm_igb *to_igb(struct nm_netdev *dev)
{
	return (struct nm_igb *)dev;
}

/* igb_rxtx.c */
int igb_rx_ring_start(struct nm_igb *igb, struct igb_qmem *q, uint32_t idx,
		      struct nm_err *err);
void igb_rx_ring_stop(struct nm_igb *igb, struct igb_qmem *q, uint32_t idx);
int igb_tx_init(struct nm_igb *igb, struct nm_err *err);
void igb_tx_fini(struct nm_igb *igb);

/* igb_rss.c */
void igb_rss_init(struct nm_igb *igb);
void igb_rss_fini(struct nm_igb *igb);
/* igb_port.c */
void igb_port_init(struct nm_igb *igb);

#endif
