/* SPDX-License-Identifier: MIT */
/*
 * Inside the stack (lib/tcp). Lock order: a connection's lock, then
 * stack->lock (rwlock: the connection and listener tables, the half-open
 * list), then a listener's lock. A connection is found under the table
 * lock, referenced, and locked with the table lock dropped; nothing takes
 * a connection's lock while holding the table lock.
 */
#ifndef NETMEM_TCP_INTERNAL_H
#define NETMEM_TCP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <netmem/tcp.h>

#define ETH_P_ARP_  0x0806
#define ETH_P_IP_   0x0800
#define ETH_P_IP6_  0x86dd

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
/* Timers run at most this often; an ACK held back at a burst's end waits
 * at most for the next pass. */
#define TIMER_PERIOD_NS 1000000ull

#define NM_TX_FRAME_MAX 128      /* our frames are headers only */
#define NM_CONN_HASH    512      /* buckets */
#define NM_MAX_LISTENERS 16
#define NM_READY_CAP    4096     /* in-order segments not yet handed out */
/* The reassembly queue grows to hold the whole window: every segment
 * the window admits takes one buffer, and the window never admits more
 * than NM_READY_CAP (tcp_window_segs()). */
#define NM_OOO_MAX      NM_READY_CAP
#define NM_SACK_MAX     4        /* blocks in one ACK (3 with timestamps) */
#define NM_REFILL_CAP   1024     /* refill ring slots */
#define NM_RCV_WSCALE   7
#define NM_NEIGH_CAP    64
#define NM_SNAP_BATCH   256      /* connections visited per table pass */

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}
static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

/* Internet checksum pieces (csum.c). */
uint32_t nm_csum_add(uint32_t sum, const void *p, size_t len);
uint16_t nm_csum_fold(uint32_t sum);
/* Pseudo-header sum for @l4len bytes of @proto between the two addresses. */
uint32_t nm_csum_pseudo(uint8_t ipver, const uint8_t *src, const uint8_t *dst,
			uint8_t proto, uint32_t l4len);

/* Every stack counter, by index, so pollers update them with one atomic. */
enum stack_ctr {
	SC_RX_FRAMES, SC_ARP_REPLIES, SC_ARP_REQ_SENT, SC_NS_ANSWERED, SC_NA_UNSOL,
	SC_NS_SENT, SC_ECHO, SC_ECHO6, SC_NOT_FOR_US, SC_NO_LISTENER,
	SC_UNKNOWN_CONN, SC_MALFORMED, SC_BAD_CSUM, SC_NO_VERDICT, SC_RST_SENT,
	SC_TX_DROPPED, SC_STEER_COLL, SC_STEERED, SC_ACCEPTED, SC_REFUSED,
	SC_SYN_EVICTED, SC_SYN_LIMIT,
	SC_COUNT
};

/* A received frame, parsed: what every handler needs. */
/* Connections owed an ACK at the end of one poll burst: the burst is our
 * GRO, so a run of in-order segments that came in together gets one ACK,
 * as the kernel sends one per GRO packet. At most one entry per frame. */
struct ack_batch {
	unsigned int n;
	struct nm_conn *c[256];  /* referenced; POLL_MAX */
};

struct rx_frame {
	struct nm_rx_pkt pkt;
	struct ack_batch *acks;    /* the poll burst this frame came in */
	const uint8_t *eth;        /* readable headers */
	uint32_t hlen;             /* readable bytes at eth */
	uint8_t ipver;
	const uint8_t *ip;
	const uint8_t *src_ip, *dst_ip;
	uint8_t l4proto;
	const uint8_t *l4;         /* L4 header */
	uint32_t l4len;            /* L4 header + payload per the IP length */
	uint32_t l4hlen;           /* L4 header length */
	/* The payload: @plen bytes at @poff in buffer @pbuf (which may be
	 * the same buffer as the headers when not split). */
	nm_netmem_ref pbuf;
	uint32_t poff, plen;
	uint32_t queue;
};

/* One segment (or datagram) held for the application: a whole buffer. */
struct seg {
	nm_netmem_ref buf;
	uint32_t seq;      /* TCP: first byte's sequence number */
	uint32_t off;      /* payload offset in the buffer */
	uint32_t len;
	uint16_t src_port; /* UDP */
	uint8_t ipver;
	uint8_t src_ip[16];
};

enum conn_state {
	CS_SYN_RCVD, CS_ESTABLISHED, CS_CLOSE_WAIT, CS_LAST_ACK, CS_FIN_WAIT_1,
	CS_FIN_WAIT_2, CS_CLOSING, CS_TIME_WAIT, CS_CLOSED, CS_UDP,
};

struct token_slot {
	nm_netmem_ref buf;  /* 0: free */
	uint32_t mark;      /* release call that named it (dup detection) */
	uint32_t next_free;
};

struct nm_listener {
	struct nm_stack *s;
	atomic_int refs;
	bool closed;
	uint8_t l4proto;
	uint16_t port;
	uint32_t flags;
	struct nm_dmabuf_binding *binding;   /* reference held */
	void *cpu_base;                      /* CPU mapping when readable */
	uint32_t queues[64];
	uint32_t num_queues;
	atomic_uint next_queue;
	pthread_mutex_t lock;                /* accept queue */
	struct nm_conn **acceptq;
	uint32_t backlog, aq_head, aq_count;
	uint32_t accepted;                   /* handed to the application */
	uint32_t max_accept;                 /* 0: no limit */
	uint32_t port_steered;               /* 1 << ipver: steer_port() took */
	struct nm_conn *udp;                 /* UDP: the one connection */
	bool udp_taken;
};

struct nm_conn {
	pthread_mutex_t lock;
	atomic_int refs;         /* table + application + lookups */
	struct nm_stack *s;
	struct nm_listener *l;   /* reference held */
	struct nm_conn *hnext;   /* hash chain, under stack->lock */
	bool in_table, app_owned, app_closed, reset, steered;
	bool counted;            /* counters moved to the stack's closed sums */
	bool half_open;          /* on the stack's half-open list */
	bool q_counted;          /* counted in its home queue's conns */
	bool placed;             /* steered (or tried) to its data queue */
	struct nm_conn *ho_prev, *ho_next;  /* half-open list, oldest first */
	enum conn_state state;

	/* The 4-tuple as the peer sends it (local = destination). */
	uint8_t ipver;
	uint8_t rip[16], lip[16];
	uint16_t rport, lport;
	uint8_t peer_mac[6];
	uint32_t home_q;         /* queue whose pool budget we count against */

	/* Receive sequence space. */
	uint32_t irs, rcv_nxt;
	uint32_t rcv_adv;        /* right edge the peer has been told */
	uint32_t iss, snd_nxt;   /* our SYN and FIN only */
	bool fin_rcvd;           /* peer's FIN reached in order */
	bool fin_pending;        /* FIN seen beyond a hole */
	uint32_t fin_seq;
	bool fin_sent, fin_acked;

	/* Options. */
	uint16_t mss;            /* what we told the peer */
	uint16_t eff_mss;        /* payload per full segment */
	uint16_t rcv_mss;        /* largest segment seen (Linux's rcv_mss) */
	uint8_t snd_wscale, rcv_wscale;
	bool ws_ok, ts_ok, sack_ok;
	uint32_t ts_recent, ts_offset;

	/* ACK policy. */
	uint32_t unacked_full;   /* full segments since the last ACK */
	uint64_t delack_at;      /* ns; 0 none */
	bool ack_now;
	bool sack_news;          /* an ACK owed at the burst's end: a hole
				  * opened, grew or filled (SACK to tell) */
	bool ack_batched;        /* in the poller's ack_batch */
	uint32_t quickack;       /* burst ACKs still sent at once (after a hole) */
	uint32_t acked_nxt;      /* rcv_nxt our last ACK carried */
	bool win_was_small;      /* told the peer a window under 2 MSS */
	bool win_zero;           /* the last window told was zero */

	/* Retransmit of SYN-ACK or FIN. */
	uint64_t rtx_at;
	uint32_t rtx_count;
	uint64_t tw_until;       /* TIME-WAIT end */

	/* Keepalive: the peer's last acceptable segment, probes sent since. */
	uint64_t last_rx;
	uint32_t ka_sent;
	uint64_t last_advance;   /* rcv_nxt last moved (reassembly pruning) */
	bool ts_seen;            /* ts_recent holds a real TSval */

	/* Held data. */
	struct seg *ready;       /* ring of in-order segments (NULL: none yet) */
	uint32_t rd_head, rd_count;
	uint64_t stream_off;     /* offset of the next byte handed out */
	struct seg *ooo;         /* reassembly queue, sorted by seq */
	uint32_t ooo_count, ooo_cap;
	/* The queue's runs of contiguous bytes: exactly what the SACK blocks
	 * say, each stamped when a segment last joined it (most recent
	 * first, RFC 2018 4). */
	struct sack_run *runs;
	uint32_t nruns, run_stamp;    /* runs: room for ooo_cap */
	/* A duplicate to report as the first block of the next ACK
	 * (D-SACK, RFC 2883). */
	bool dsack;
	uint32_t dsack_start, dsack_end;
	struct token_slot *tok;
	uint32_t tok_cap, tok_free, tok_out, tok_mark;
	uint32_t held;           /* buffers held: ready + ooo + tokens */

	/* Refill ring: application produces, the poller consumes. */
	_Alignas(64) atomic_uint rf_tail;
	_Alignas(64) atomic_uint rf_head;
	uint32_t rf[NM_REFILL_CAP];

	struct nm_tcp_counters ctr;
};

struct sack_run {
	uint32_t start, end;
	uint32_t stamp;
};

struct neigh {
	uint8_t ipver;
	uint8_t ip[16];
	uint8_t mac[6];
	uint64_t seen;
};

struct qacct {
	atomic_long held;        /* buffers held by connections homed here */
	atomic_int conns;
	atomic_uint cap;         /* budget in buffers (0: not learnt yet) */
};

struct nm_stack {
	struct nm_stack_params p;
	struct nm_port *port;
	struct nm_ip_addr addrs[2 * NM_NETIF_MAX_ADDRS + 1];
	uint32_t num_addrs;

	pthread_rwlock_t lock;                 /* tables */
	struct nm_conn *hash[NM_CONN_HASH];
	uint64_t used[NM_CONN_HASH / 64];      /* buckets with a chain */
	uint32_t num_conns;
	struct nm_listener *listeners[NM_MAX_LISTENERS];

	pthread_mutex_t neigh_lock;
	struct neigh neigh[NM_NEIGH_CAP];

	pthread_mutex_t timer_lock;            /* one timer runner at a time */
	atomic_uint_least64_t last_timer_ns;
	atomic_uint ip_id;
	atomic_uint rand_state;
	uint64_t secret[4];                    /* ISS key, timestamp key */
	/* Half-open connections of every listener, oldest first (under
	 * lock): a SYN beyond max_half_open evicts the head. */
	struct nm_conn *ho_head, *ho_tail;
	atomic_uint num_half_open;

	struct qacct *q;                       /* per RX queue */
	uint32_t nq;

	atomic_uint_least64_t ctr[SC_COUNT];
	pthread_mutex_t closed_lock;
	struct nm_tcp_counters closed;         /* of freed connections */
};

static inline void sc_inc(struct nm_stack *s, enum stack_ctr c)
{
	atomic_fetch_add_explicit(&s->ctr[c], 1, memory_order_relaxed);
}

uint64_t stack_now(struct nm_stack *s);
uint32_t stack_rand(struct nm_stack *s);
/* RFC 6528 (iss.c). */
int stack_secrets_init(struct nm_stack *s);
uint32_t tcp_secure_iss(struct nm_stack *s, const struct nm_conn *c);
uint32_t tcp_secure_ts_offset(struct nm_stack *s, const struct nm_conn *c);
bool stack_is_local(struct nm_stack *s, uint8_t ipver, const uint8_t *ip);
unsigned int stack_snapshot(struct nm_stack *s, struct nm_conn **v, unsigned int max,
			    unsigned int *b);
void stack_tx(struct nm_stack *s, const void *frame, uint16_t len);
void rx_frame_put(struct rx_frame *f);

/* Neighbours and the answering protocols (neigh.c). */
void neigh_learn(struct nm_stack *s, uint8_t ipver, const uint8_t *ip,
		 const uint8_t *mac);
bool neigh_lookup(struct nm_stack *s, uint8_t ipver, const uint8_t *ip,
		  uint8_t *mac);
void arp_input(struct nm_stack *s, struct rx_frame *f);
void icmp_input(struct nm_stack *s, struct rx_frame *f);
void icmp6_input(struct nm_stack *s, struct rx_frame *f);

/* Frame building (tx.c): Ethernet + IP header for @l4len bytes of @proto;
 * returns the L4 offset. */
size_t tx_ip_header(struct nm_stack *s, uint8_t *buf, const uint8_t *dst_mac,
		    uint8_t ipver, const uint8_t *src, const uint8_t *dst,
		    uint8_t proto, uint32_t l4len, uint8_t hop_limit);
/* A RST answering a segment of no connection. */
void tx_rst_reply(struct nm_stack *s, struct rx_frame *f);

/* TCP (tcp_in.c, tcp_out.c, conn.c). */
void tcp_input(struct nm_stack *s, struct rx_frame *f);
void udp_input(struct nm_stack *s, struct rx_frame *f);
void tcp_send_ack(struct nm_conn *c);
void ack_batch_flush(struct ack_batch *b);
void tcp_send_synack(struct nm_conn *c);
void tcp_send_fin(struct nm_conn *c);
void tcp_send_rst(struct nm_conn *c);
uint32_t tcp_window_segs(struct nm_conn *c);
void conn_timers(struct nm_conn *c, uint64_t now);
void conn_drain_refill(struct nm_conn *c);
void conn_release_buf(struct nm_conn *c, nm_netmem_ref buf);
uint32_t buf_queue(struct nm_conn *c, nm_netmem_ref buf);
void conn_purge(struct nm_conn *c);
struct nm_conn *conn_alloc(struct nm_stack *s, struct nm_listener *l);
/* 0: @c is in the table. -EEXIST: *@old (referenced) has its 4-tuple.
 * -ENOSPC: the table is full. -ECONNREFUSED: the listener's max_accept.
 * *@evicted (the table's reference) is a half-open connection @c pushed
 * out: the caller ends it with conn_evicted(). */
int conn_hash_insert(struct nm_conn *c, struct nm_conn **old,
		     struct nm_conn **evicted);
void conn_evicted(struct nm_conn *c);
int conn_ready_alloc(struct nm_conn *c);
bool conn_established(struct nm_conn *c);
void conn_count_on_queue(struct nm_conn *c);
bool conn_may_hold(struct nm_conn *c, uint32_t seq, uint32_t len);
void conn_prune_ooo(struct nm_conn *c);
uint32_t ooo_shrink(struct nm_conn *c, uint32_t keep);
/* The reassembly queue and its SACK runs (reasm.c). */
enum ooo_verdict { OOO_KEPT, OOO_DUP, OOO_FULL };
enum ooo_verdict ooo_insert(struct nm_conn *c, struct seg *sg);
void ooo_pull(struct nm_conn *c);
void ooo_cut(struct nm_conn *c, uint32_t seq);
void dsack_note(struct nm_conn *c, uint32_t start, uint32_t end);
unsigned int sack_blocks(struct nm_conn *c, uint32_t (*blk)[2], unsigned int max);
void ready_push(struct nm_conn *c, const struct seg *sg);
/* Half-open bookkeeping (conn.c): under the stack's write lock. */
void half_open_unlink(struct nm_conn *c);
int conn_create_udp(struct nm_stack *s, struct nm_listener *l,
		    struct nm_conn **out, struct nm_err *err);
void nm_conn_abort_ref(struct nm_conn *c);
void conn_get(struct nm_conn *c);
void learn_cap(struct nm_conn *c, nm_netmem_ref buf);
void conn_put(struct nm_conn *c);
void conn_unhash(struct nm_conn *c);
const char *conn_state_name(enum conn_state st);
struct nm_conn *conn_lookup(struct nm_stack *s, uint8_t ipver,
			    const uint8_t *rip, const uint8_t *lip,
			    uint16_t rport, uint16_t lport);
struct nm_listener *listener_find(struct nm_stack *s, uint8_t l4proto,
				  uint16_t port);
void listener_put(struct nm_listener *l);
bool listener_enqueue(struct nm_listener *l, struct nm_conn *c);
int listener_queue_for(struct nm_listener *l, struct nm_conn *c,
		       const struct rx_frame *f);
/* Checksum policy of one TCP/UDP frame: 0 accept, else the counter. */
int l4_csum_check(struct nm_stack *s, struct rx_frame *f, struct nm_listener *l);
void stack_add_closed(struct nm_stack *s, const struct nm_tcp_counters *c);

#endif
