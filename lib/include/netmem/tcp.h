/* SPDX-License-Identifier: MIT */
/*
 * Userspace devmem TCP: a receive-only TCP/IP stack on one nm_port whose
 * payload stays where the NIC wrote it (a dmabuf binding's buffers, or host
 * buffers), handed to the application as fragments with tokens, as the
 * kernel's devmem TCP does (SCM_DEVMEM_DMABUF / SCM_DEVMEM_LINEAR,
 * SO_DEVMEM_DONTNEED), plus a refill ring that returns tokens with no lock
 * and no system call (io_uring zcrx's idea).
 *
 * One stack per port. It answers ARP, IPv6 neighbour solicitations and
 * ICMP/ICMPv6 echo for its addresses (netmem/netif.h), and runs TCP passive
 * opens (MSS, window scaling, timestamps, SACK, as a Linux peer negotiates
 * them) and UDP receive for its listeners. It never sends data: the send
 * side is ACKs, window updates, FIN and RST.
 *
 * Threads:
 *  - nm_stack_poll(s, q, ...) for queue q from one thread at a time; several
 *    queues may be polled by several threads at once (a connection's frames
 *    may arrive on more than one queue: each connection has its own lock).
 *  - nm_stack_listen/nm_listener_close/nm_stack_destroy from control
 *    context (not concurrently with each other; destroy after the pollers
 *    have stopped).
 *  - A connection's application calls (accept, recv, token release, refill
 *    push, close, stats) from any one thread per connection; the refill
 *    ring has exactly one producer (that thread) and one consumer (the
 *    poller), and needs no lock.
 *
 * Buffers: every frame that belongs to no listener (and ARP, ND, ICMP) is
 * answered and its buffers returned at once; they never stay out of the
 * pool. A TCP segment kept for the application holds one whole buffer
 * until its token comes back, so the advertised window is counted in
 * buffers (segments x MSS) of the queue's pool.
 */
#ifndef NETMEM_TCP_H
#define NETMEM_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <netmem/binding.h>
#include <netmem/err.h>
#include <netmem/netif.h>
#include <netmem/port.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nm_stack;
struct nm_listener;
struct nm_conn;

#define NM_QUICKACK_OFF UINT32_MAX

struct nm_stack_params {
	struct nm_port *port;
	/* Addresses answered (ARP/ND/echo) and accepted as destinations. */
	struct nm_ip_addr addrs[2 * NM_NETIF_MAX_ADDRS];
	uint32_t num_addrs;
	/* Do not add the MAC's fe80:: address (it is added by default). */
	bool no_link_local;
	/* Frames taken from a queue per rx_burst; 0: 32. */
	uint32_t rx_burst;
	/* TIME-WAIT length in ms (bounded; 0: 1000). */
	uint32_t time_wait_ms;
	/* Delayed-ACK timer in ms (0: 40). */
	uint32_t delack_ms;
	/* An ACK owed at the end of a poll burst waits until this many bytes
	 * are unacknowledged, or the window left is smaller, or the next
	 * timer pass (1-2 ms): the kernel's interrupt moderation and GRO
	 * give it the same (0: 65536; 1: ACK at every burst's end). */
	uint32_t ack_coalesce_bytes;
	/* A connection's first data segments are ACKed at the end of their
	 * poll burst, not after the delayed-ACK timer (Linux's quickack on
	 * the first data): a short stream's Nagle-held tail is not kept
	 * waiting 40 ms. How many (0: 16; NM_QUICKACK_OFF: none). */
	uint32_t initial_quickacks;
	/* Most connections at once, all listeners together (0: 256). */
	uint32_t max_conns;
	/* Most half-open (SYN_RCVD) connections at once, besides max_conns;
	 * a SYN beyond it evicts the oldest half-open one, so a SYN flood
	 * never locks a real client out (0: 1024; one costs ~600 bytes). */
	uint32_t max_half_open;
	/* An ESTABLISHED peer silent this long is probed (keepalive: an ACK
	 * one byte behind, which it must answer); after keepalive_probes
	 * unanswered probes, one keepalive interval apart, it is reset and
	 * its buffers return. In ms (0: 7200000, Linux's default; the
	 * interval is a tenth of it, at least 1 ms). */
	uint32_t keepalive_ms;
	uint32_t keepalive_probes;   /* 0: 9 */
	/* Monotonic clock in ns; NULL: CLOCK_MONOTONIC. Tests drive time. */
	uint64_t (*now_ns)(void *arg);
	void *now_arg;
};

/*
 * Create the stack of @p->port (its nm_netdev must be open). Addresses are
 * copied; a duplicate or malformed one is refused with -EINVAL.
 */
int nm_stack_create(const struct nm_stack_params *p, struct nm_stack **out,
		    struct nm_err *err);

/* Close every listener and connection (RST to open peers), return every
 * buffer, free the stack. The pollers must have stopped. */
void nm_stack_destroy(struct nm_stack *s);

/*
 * Run the stack on @queue: take up to @budget frames (0: the rx_burst
 * size) from the port, handle them, run due timers (delayed ACKs,
 * TIME-WAIT, window updates, the refill rings of the connections) and send
 * what they produce. Returns the number of frames taken (0 when idle).
 */
int nm_stack_poll(struct nm_stack *s, uint32_t queue, unsigned int budget);

/* Only the timers and refill rings (a thread with no queue of its own). */
void nm_stack_run_timers(struct nm_stack *s);

/* Listener flags. */
/* The payload memory is CPU-readable (a memfd or udmabuf binding, or host
 * memory): a frame the NIC gave no checksum verdict for is verified in
 * software through the dmabuf's CPU mapping. Without it a binding's memory
 * is treated as unreadable: its queues must have NM_RXQ_CAP_RX_CSUM and a
 * frame without a verdict is dropped and counted. */
#define NM_LISTEN_CPU_READABLE (1u << 0)

struct nm_listen_params {
	uint8_t l4proto;       /* IPPROTO_TCP (0 means TCP) or IPPROTO_UDP */
	uint16_t port;         /* local port, host byte order, not 0 */
	/* Where payload lands: a binding of this port's device, or NULL for
	 * host memory (the queues' default pools). */
	struct nm_dmabuf_binding *binding;
	/* The queues (not the port's default queue when @binding is set):
	 * each is bound to @binding through the restart path (with
	 * NM_RXQ_CAP_RX_CSUM required unless NM_LISTEN_CPU_READABLE); a queue
	 * bound to it already is kept as it is. */
	const uint32_t *queues;
	uint32_t num_queues;
	uint32_t flags;        /* NM_LISTEN_* */
	uint32_t backlog;      /* connections waiting for accept; 0: 16 */
	/* Connections this listener will ever hand to the application
	 * (0: no limit). Once accepted + waiting reach it, a SYN is answered
	 * with a RST (ECONNREFUSED), and so is a handshake that completes
	 * past it: no connection past what the application takes ever has its
	 * data acknowledged. Half-open connections do not count (a SYN flood
	 * must not take a real client's place). */
	uint32_t max_accept;
};

/*
 * Listen. Binds the queues (a refused queue: nothing is touched, the
 * error names it), then steers the port to them: steer_port() to the
 * first queue when the port has it, and per connection, once its SYN has
 * arrived, steer_flow() round robin over the queues. steer_flow() -EEXIST
 * (the hardware entry belongs to another flow): the connection stays on
 * the queue its SYN came on, counted in flow_steer_collisions. A port with
 * neither keeps the frames where the NIC puts them. The stack polls
 * whichever queue a frame lands on, so steering is a placement choice,
 * never a correctness one; a segment that lands in host memory is handed
 * out as a linear fragment and counted as a copy fallback.
 *
 * UDP: every datagram to @port (any source) is delivered through one
 * connection object, accepted once; each fragment is one datagram.
 *
 * -EADDRINUSE a listener on that port exists; -EINVAL bad parameters.
 */
int nm_stack_listen(struct nm_stack *s, const struct nm_listen_params *p,
		    struct nm_listener **out, struct nm_err *err);

/* Stop listening: SYNs get RST again, waiting unaccepted connections are
 * reset. Accepted connections live on. The queues stay bound (the
 * binding's owner unbinds them). */
void nm_listener_close(struct nm_listener *l);

/* Take one established connection: 0 and *@out, or -EAGAIN. Never blocks. */
int nm_listener_accept(struct nm_listener *l, struct nm_conn **out);

/* Fragment kinds. */
#define NM_FRAG_DMABUF   (1u << 0)  /* payload in the binding's dmabuf */
#define NM_FRAG_LINEAR   (1u << 1)  /* payload in host memory at @data */
#define NM_FRAG_DGRAM    (1u << 2)  /* one whole UDP datagram */

/*
 * One piece of the stream, in order. The bytes stay valid (the buffer is
 * not reused by the NIC) until @token is returned.
 */
struct nm_frag {
	uint32_t flags;        /* NM_FRAG_* */
	uint32_t binding_id;   /* the binding's id (DMABUF) */
	uint64_t offset;       /* byte offset in the dmabuf (DMABUF) */
	const void *data;      /* host bytes (LINEAR), else NULL */
	uint32_t len;
	uint32_t token;        /* give back with nm_conn_release_tokens() */
	uint64_t stream_off;   /* offset of the first byte in the stream */
	/* UDP: the sender. */
	uint8_t src_ip[16];
	uint8_t ipver;
	uint16_t src_port;
};

/*
 * Up to @max in-order fragments. Returns how many (> 0), -EAGAIN when
 * nothing is there yet, 0 at the end of the stream (the peer's FIN, and
 * everything before it handed out), -ECONNRESET after a reset.
 */
int nm_conn_recv(struct nm_conn *c, struct nm_frag *frags, unsigned int max);

/* A range of tokens, as the kernel's struct dmabuf_token. */
struct nm_token_range {
	uint32_t token_start;
	uint32_t token_count;
};

/*
 * Give tokens back (SO_DEVMEM_DONTNEED). All or nothing: an unknown token,
 * one returned already, or one named twice makes it fail with -ENOENT and
 * a reason naming it, and nothing is released. Returns the number of
 * tokens released.
 */
int nm_conn_release_tokens(struct nm_conn *c, const struct nm_token_range *r,
			   unsigned int n, struct nm_err *err);

/*
 * The lock-free path: push tokens into the connection's single-producer /
 * single-consumer refill ring; the poller releases them on its next pass.
 * No lock, no system call. Returns how many were pushed (fewer when the
 * ring is full: the rest may go through nm_conn_release_tokens()). Bad
 * tokens found by the poller are counted in bad_tokens, not released.
 */
unsigned int nm_conn_refill(struct nm_conn *c, const uint32_t *tokens,
			    unsigned int n);

/*
 * The application is done. Held tokens are released. After the peer's
 * FIN: our FIN goes out and the connection ends after its ACK. Before it:
 * our FIN goes out and whatever data still comes is answered with a RST
 * (Linux's orphan behaviour). @c is invalid after the call.
 */
void nm_conn_close(struct nm_conn *c);

/* Reset the connection now (RST to the peer), then as nm_conn_close(). */
void nm_conn_abort(struct nm_conn *c);

struct nm_tcp_counters {
	uint64_t segs;            /* segments accepted with payload */
	uint64_t bytes;           /* payload bytes delivered in order */
	uint64_t ooo;             /* segments kept out of order */
	uint64_t dup;             /* segments entirely duplicate */
	uint64_t partial_dup;     /* trimmed at the front or the back */
	uint64_t bad_csum;        /* dropped: checksum wrong */
	uint64_t no_verdict;      /* dropped: unreadable and no NIC verdict */
	uint64_t copy_fallback;   /* payload landed in host memory */
	uint64_t out_of_buffers;  /* dropped: beyond the buffer budget */
	uint64_t window_zero;     /* times we advertised a zero window */
	uint64_t window_update;   /* window updates sent on reopen */
	uint64_t acks_sent;
	uint64_t rst_sent;
	uint64_t rst_rcvd;
	uint64_t ooo_queue_full;  /* dropped: reassembly queue full */
	uint64_t out_of_window;   /* outside the window (answered with ACK) */
	uint64_t paws_rejected;   /* old timestamp (PAWS) */
	uint64_t bad_tokens;      /* bad tokens seen on the refill ring */
	uint64_t tokens_held;     /* snapshot: tokens out with the app */
	uint64_t dgrams;          /* UDP: datagrams delivered */
	uint64_t dgram_drops;     /* UDP: dropped (queue full, checksum) */
	uint64_t over_share;      /* dropped: the connection held its buffer share
				   * (tiny segments), never ACKed */
	uint64_t past_fin;        /* dropped: data beyond the peer's FIN */
	uint64_t dsacks_sent;     /* duplicate SACK blocks sent (RFC 2883) */
	uint64_t keepalives_sent; /* keepalive probes */
	uint64_t idle_resets;     /* reset: keepalive went unanswered */
	uint64_t ooo_pruned;      /* out-of-order buffers given back under
				   * pressure (never acknowledged: RFC 2018 8) */
};

/* The counters of one connection. */
void nm_conn_counters(struct nm_conn *c, struct nm_tcp_counters *out);

/* The connection's peer and state, for printing. */
struct nm_conn_info {
	uint8_t ipver;
	uint8_t peer_ip[16];
	uint16_t peer_port, local_port;
	uint16_t mss;             /* the peer's segments carry at most this */
	uint8_t snd_wscale, rcv_wscale;
	bool sack, timestamps;
	uint32_t rcv_wnd;         /* last advertised window, bytes */
	uint32_t queue;           /* queue its data was steered to */
	const char *state;        /* "ESTABLISHED", "CLOSE_WAIT", ... */
};
void nm_conn_get_info(struct nm_conn *c, struct nm_conn_info *out);

struct nm_stack_counters {
	uint64_t rx_frames;
	uint64_t arp_replies, arp_requests_sent;
	uint64_t ns_answered, na_sent_unsolicited, ns_sent;
	uint64_t echo_replies, echo6_replies;
	uint64_t not_for_us;      /* other MAC/IP, unknown protocol */
	uint64_t no_listener;     /* TCP/UDP to a port nobody listens on */
	uint64_t unknown_conn;    /* TCP segment of no connection (RST sent
				   * unless it was a RST) */
	uint64_t malformed;       /* truncated or inconsistent headers */
	uint64_t bad_csum;        /* of frames no connection counted */
	uint64_t no_verdict;
	uint64_t rst_sent;
	uint64_t tx_dropped;      /* port's TX ring full */
	uint64_t flow_steer_collisions; /* steer_flow() said -EEXIST */
	uint64_t flow_steered;
	uint64_t conns_accepted, conns_refused; /* refused: backlog/max */
	uint64_t syn_evicted;     /* half-open connections evicted by newer SYNs */
	uint64_t syn_over_limit;  /* SYNs refused (RST): the listener's max_accept */
	/* All connections' counters summed (closed ones included). */
	struct nm_tcp_counters tcp;
};

/* The stack's counters (sums include live connections). Any thread. */
void nm_stack_counters(struct nm_stack *s, struct nm_stack_counters *out);

/*
 * The control socket's "tcp-get" request (an nm_ctl_hook_fn: pass the
 * stack as @arg to nm_ctl_server_set_hook()): the stack's counters and
 * each connection's state and counters as one JSON document. -ENOENT for
 * any other request.
 */
int nm_stack_ctl_hook(void *stack, const char *request, FILE *out);

/* The stack's addresses, link-local included (for printing). */
unsigned int nm_stack_addrs(struct nm_stack *s, struct nm_ip_addr *out,
			    unsigned int max);

#ifdef __cplusplus
}
#endif
#endif
