/* SPDX-License-Identifier: MIT */
/*
 * The stack object: addresses, the poll loop (RX, dispatch by protocol,
 * timers), transmit, counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcp_internal.h"

#define POLL_MAX        256
_Static_assert(POLL_MAX <= sizeof(((struct ack_batch *)0)->c) / sizeof(void *),
	       "a burst fits its ack_batch");

uint64_t stack_now(struct nm_stack *s)
{
	struct timespec ts;

	if (s->p.now_ns)
		return s->p.now_ns(s->p.now_arg);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t stack_rand(struct nm_stack *s)
{
	uint32_t x = atomic_load_explicit(&s->rand_state, memory_order_relaxed), y;

	do {
		y = x;
		y ^= y << 13;
		y ^= y >> 17;
		y ^= y << 5;
	} while (!atomic_compare_exchange_weak(&s->rand_state, &x, y));
	return y;
}

bool stack_is_local(struct nm_stack *s, uint8_t ipver, const uint8_t *ip)
{
	size_t alen = ipver == 4 ? 4 : 16;

	for (uint32_t i = 0; i < s->num_addrs; i++)
		if (s->addrs[i].ipver == ipver && !memcmp(s->addrs[i].addr, ip, alen))
			return true;
	return false;
}

void stack_tx(struct nm_stack *s, const void *frame, uint16_t len)
{
	const void *frames[1] = { frame };

	if (nm_port_tx_burst(s->port, frames, &len, 1) != 1)
		sc_inc(s, SC_TX_DROPPED);
}

void rx_frame_put(struct rx_frame *f)
{
	if (f->pkt.hdr)
		nm_netmem_put(f->pkt.hdr);
	if (f->pkt.payload)
		nm_netmem_put(f->pkt.payload);
	f->pkt.hdr = f->pkt.payload = 0;
}

static bool addr_dup(const struct nm_ip_addr *a, unsigned int n,
		     const struct nm_ip_addr *x)
{
	for (unsigned int i = 0; i < n; i++)
		if (a[i].ipver == x->ipver && !memcmp(a[i].addr, x->addr, 16))
			return true;
	return false;
}

int nm_stack_create(const struct nm_stack_params *p, struct nm_stack **out,
		    struct nm_err *err)
{
	struct nm_stack *s;
	struct timespec ts;

	if (!p || !p->port || !p->port->ops || !p->port->dev)
		return nm_err_set(err, -EINVAL, "a stack needs a port with a device");
	if (p->num_addrs > 2 * NM_NETIF_MAX_ADDRS)
		return nm_err_set(err, -EINVAL, "at most %d addresses",
				  2 * NM_NETIF_MAX_ADDRS);
	for (uint32_t i = 0; i < p->num_addrs; i++) {
		const struct nm_ip_addr *a = &p->addrs[i];

		if ((a->ipver != 4 && a->ipver != 6) ||
		    a->prefix > (a->ipver == 4 ? 32 : 128))
			return nm_err_set(err, -EINVAL, "address %u is malformed", i);
		if (addr_dup(p->addrs, i, a))
			return nm_err_set(err, -EINVAL, "address %u is given twice", i);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return nm_err_set(err, -ENOMEM, "out of memory");
	s->p = *p;
	if (!s->p.rx_burst || s->p.rx_burst > POLL_MAX)
		s->p.rx_burst = 32;
	if (!s->p.time_wait_ms)
		s->p.time_wait_ms = 1000;
	if (!s->p.delack_ms)
		s->p.delack_ms = 40;
	if (!s->p.ack_coalesce_bytes)
		s->p.ack_coalesce_bytes = 65536;
	if (!s->p.max_conns)
		s->p.max_conns = 256;
	if (!s->p.initial_quickacks)
		s->p.initial_quickacks = 16;
	else if (s->p.initial_quickacks == NM_QUICKACK_OFF)
		s->p.initial_quickacks = 0;
	if (!s->p.max_half_open)
		s->p.max_half_open = 1024;
	if (!s->p.keepalive_ms)
		s->p.keepalive_ms = 7200000;
	if (!s->p.keepalive_probes)
		s->p.keepalive_probes = 9;
	s->port = p->port;
	memcpy(s->addrs, p->addrs, p->num_addrs * sizeof(p->addrs[0]));
	s->num_addrs = p->num_addrs;
	if (!p->no_link_local) {
		struct nm_ip_addr ll;

		nm_ip6_link_local(p->port->mac, &ll);
		if (!addr_dup(s->addrs, s->num_addrs, &ll))
			s->addrs[s->num_addrs++] = ll;
	}
	/* Neighbour solicitations come to each address's solicited-node
	 * group, and all-nodes traffic to ff02::1: ports that filter
	 * multicast must let them in. */
	if (p->port->ops->join_mcast) {
		static const uint8_t all_nodes[6] = { 0x33, 0x33, 0, 0, 0, 1 };

		p->port->ops->join_mcast(p->port, all_nodes);
		for (uint32_t i = 0; i < s->num_addrs; i++) {
			uint8_t g[16], mac[6] = { 0x33, 0x33 };

			if (s->addrs[i].ipver != 6)
				continue;
			nm_ip6_solicited_node(s->addrs[i].addr, g);
			memcpy(mac + 2, g + 12, 4);
			p->port->ops->join_mcast(p->port, mac);
		}
	}
	s->nq = p->port->dev->num_rx_queues;
	s->q = calloc(s->nq, sizeof(*s->q));
	if (!s->q) {
		free(s);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	pthread_rwlock_init(&s->lock, NULL);
	pthread_mutex_init(&s->neigh_lock, NULL);
	pthread_mutex_init(&s->timer_lock, NULL);
	pthread_mutex_init(&s->closed_lock, NULL);
	if (stack_secrets_init(s)) {
		int e = -errno;

		free(s->q);
		free(s);
		return nm_err_set(err, e, "getrandom: no secret for the ISS");
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	atomic_init(&s->rand_state, (uint32_t)(ts.tv_nsec ^ s->secret[3]) | 1u);
	atomic_init(&s->ip_id, stack_rand(s));
	*out = s;
	return 0;
}

void nm_stack_destroy(struct nm_stack *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < NM_MAX_LISTENERS; i++)
		if (s->listeners[i])
			nm_listener_close(s->listeners[i]);
	for (unsigned int b = 0; b < NM_CONN_HASH; b++) {
		while (s->hash[b]) {
			struct nm_conn *c = s->hash[b];
			bool app;

			pthread_mutex_lock(&c->lock);
			if (c->state != CS_CLOSED && c->state != CS_TIME_WAIT &&
			    c->state != CS_UDP)
				tcp_send_rst(c);
			c->state = CS_CLOSED;
			conn_purge(c);
			app = c->app_owned;
			c->app_owned = false;
			pthread_mutex_unlock(&c->lock);
			/* The application's reference dies with the stack. */
			if (app)
				conn_put(c);
			conn_unhash(c);
		}
	}
	pthread_rwlock_destroy(&s->lock);
	pthread_mutex_destroy(&s->neigh_lock);
	pthread_mutex_destroy(&s->timer_lock);
	pthread_mutex_destroy(&s->closed_lock);
	free(s->q);
	free(s);
}

/* Ethernet destinations we take: ours, broadcast, IPv6 multicast. */
static bool mac_for_us(struct nm_stack *s, const uint8_t *d)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return !memcmp(d, s->port->mac, 6) || !memcmp(d, bcast, 6) ||
	       (d[0] == 0x33 && d[1] == 0x33);
}

/* Fill in @f's IP and L4 view; false (counted) when it is not for us. */
static bool parse_ip(struct nm_stack *s, struct rx_frame *f)
{
	uint32_t total = f->pkt.hdr ? f->hlen + f->pkt.payload_len : f->hlen;
	uint32_t l3len, iphl, l4off;
	const uint8_t *ip = f->eth + NM_ETH_HLEN;

	f->ip = ip;
	if (f->ipver == 4) {
		if (f->hlen < NM_ETH_HLEN + 20 || (ip[0] >> 4) != 4)
			goto malformed;
		iphl = (uint32_t)(ip[0] & 0xf) * 4;
		l3len = get16(ip + 2);
		if (iphl < 20 || f->hlen < NM_ETH_HLEN + iphl || l3len < iphl ||
		    NM_ETH_HLEN + l3len > total)
			goto malformed;
		if (f->pkt.flags & NM_RX_PKT_IP_CSUM_BAD ||
		    nm_csum_fold(nm_csum_add(0, ip, iphl)) != 0) {
			sc_inc(s, SC_BAD_CSUM);
			return false;
		}
		if (get16(ip + 6) & 0x3fff) {  /* fragments: not reassembled */
			sc_inc(s, SC_NOT_FOR_US);
			return false;
		}
		f->l4proto = ip[9];
		f->src_ip = ip + 12;
		f->dst_ip = ip + 16;
	} else {
		if (f->hlen < NM_ETH_HLEN + 40 || (ip[0] >> 4) != 6)
			goto malformed;
		iphl = 40;
		l3len = 40 + get16(ip + 4);
		if (NM_ETH_HLEN + l3len > total)
			goto malformed;
		f->l4proto = ip[6];
		f->src_ip = ip + 8;
		f->dst_ip = ip + 24;
	}
	if (!stack_is_local(s, f->ipver, f->dst_ip) &&
	    !(f->ipver == 6 && f->l4proto == 58 && f->dst_ip[0] == 0xff)) {
		sc_inc(s, SC_NOT_FOR_US);
		return false;
	}
	l4off = NM_ETH_HLEN + iphl;
	f->l4 = f->eth + l4off;
	f->l4len = l3len - iphl;
	if (f->l4proto == 6 || f->l4proto == 17) {
		uint32_t need = f->l4proto == 6 ? 20 : 8;

		if (f->l4len < need || f->hlen < l4off + need)
			goto malformed;
		f->l4hlen = f->l4proto == 6 ? (uint32_t)(f->l4[12] >> 4) * 4 : 8;
		if (f->l4hlen < need || f->l4hlen > f->l4len ||
		    f->hlen < l4off + f->l4hlen)
			goto malformed;
		/* A split frame must split where the L4 header ends. */
		if (f->pkt.hdr && f->hlen != l4off + f->l4hlen)
			goto malformed;
	} else {
		f->l4hlen = f->l4len < f->hlen - l4off ? f->l4len : f->hlen - l4off;
	}
	f->plen = f->l4len - f->l4hlen;
	f->pbuf = f->pkt.payload;
	f->poff = f->pkt.hdr ? 0 : l4off + f->l4hlen;
	return true;
malformed:
	sc_inc(s, SC_MALFORMED);
	return false;
}

static void stack_rx(struct nm_stack *s, const struct nm_rx_pkt *pkt,
		     struct ack_batch *acks)
{
	struct rx_frame f = { .pkt = *pkt, .queue = pkt->queue, .acks = acks };
	uint16_t type;

	sc_inc(s, SC_RX_FRAMES);
	if (pkt->hdr) {
		f.eth = nm_netmem_address(pkt->hdr);
		f.hlen = pkt->hdr_len;
	} else if (pkt->payload && !nm_netmem_is_net_iov(pkt->payload)) {
		f.eth = nm_netmem_address(pkt->payload);
		f.hlen = pkt->payload_len;
	} else {
		/* Unsplit frame in memory the CPU must not read. */
		sc_inc(s, SC_MALFORMED);
		goto out;
	}
	if (f.hlen < NM_ETH_HLEN || !mac_for_us(s, f.eth)) {
		sc_inc(s, SC_NOT_FOR_US);
		goto out;
	}
	type = get16(f.eth + 12);
	if (type == ETH_P_ARP_) {
		arp_input(s, &f);
		goto out;
	}
	if (type != ETH_P_IP_ && type != ETH_P_IP6_) {
		sc_inc(s, SC_NOT_FOR_US);
		goto out;
	}
	f.ipver = type == ETH_P_IP_ ? 4 : 6;
	if (!parse_ip(s, &f))
		goto out;
	switch (f.l4proto) {
	case 6:
		tcp_input(s, &f);
		break;
	case 17:
		udp_input(s, &f);
		break;
	case 1:
		if (f.ipver == 4) {
			icmp_input(s, &f);
			break;
		}
		sc_inc(s, SC_NOT_FOR_US);
		break;
	case 58:
		if (f.ipver == 6) {
			icmp6_input(s, &f);
			break;
		}
		/* fall through */
	default:
		sc_inc(s, SC_NOT_FOR_US);
		break;
	}
out:
	rx_frame_put(&f);
}

/* Collect referenced connections, whole hash chains from bucket *@b on,
 * so they can be visited without the table lock; *@b moves past them.
 * Returns how many (0: the table is done). */
unsigned int stack_snapshot(struct nm_stack *s, struct nm_conn **v, unsigned int max,
			    unsigned int *b)
{
	unsigned int n = 0;

	pthread_rwlock_rdlock(&s->lock);
	for (; *b < NM_CONN_HASH; (*b)++) {
		uint64_t w = s->used[*b / 64] >> (*b % 64);
		unsigned int len = 0;

		/* Empty buckets skipped a word at a time: the timers pass
		 * every millisecond, over a table that is mostly empty. */
		if (!w) {
			*b = (*b | 63);
			continue;
		}
		*b += (unsigned int)__builtin_ctzll(w);

		for (struct nm_conn *c = s->hash[*b]; c; c = c->hnext)
			len++;
		if (n + len > max && n)
			break;
		for (struct nm_conn *c = s->hash[*b]; c && n < max; c = c->hnext) {
			conn_get(c);
			v[n++] = c;
		}
	}
	pthread_rwlock_unlock(&s->lock);
	return n;
}

static void run_timers(struct nm_stack *s, uint64_t now)
{
	struct nm_conn *v[NM_SNAP_BATCH];
	unsigned int n, b = 0;

	while ((n = stack_snapshot(s, v, NM_SNAP_BATCH, &b))) {
		for (unsigned int i = 0; i < n; i++) {
			struct nm_conn *c = v[i];
			bool reap;

			pthread_mutex_lock(&c->lock);
			conn_timers(c, now);
			reap = c->state == CS_CLOSED && !c->app_owned;
			if (reap)
				conn_purge(c);
			pthread_mutex_unlock(&c->lock);
			if (reap)
				conn_unhash(c);
			conn_put(c);
		}
	}
}

void nm_stack_run_timers(struct nm_stack *s)
{
	uint64_t now = stack_now(s);
	uint64_t last = atomic_load_explicit(&s->last_timer_ns, memory_order_relaxed);

	if (now - last < TIMER_PERIOD_NS && last)
		return;
	if (pthread_mutex_trylock(&s->timer_lock))
		return;  /* another poller runs them */
	atomic_store_explicit(&s->last_timer_ns, now, memory_order_relaxed);
	run_timers(s, now);
	pthread_mutex_unlock(&s->timer_lock);
}

int nm_stack_poll(struct nm_stack *s, uint32_t queue, unsigned int budget)
{
	struct nm_rx_pkt pkts[POLL_MAX];
	struct ack_batch acks;
	unsigned int n;

	if (queue >= s->nq)
		return -EINVAL;
	if (!budget || budget > s->p.rx_burst)
		budget = s->p.rx_burst;
	n = nm_port_rx_burst(s->port, queue, pkts, budget);
	acks.n = 0;
	for (unsigned int i = 0; i < n; i++) {
		pkts[i].queue = queue;
		stack_rx(s, &pkts[i], &acks);
	}
	ack_batch_flush(&acks);
	nm_stack_run_timers(s);
	return (int)n;
}

static void sum_tcp(struct nm_tcp_counters *d, const struct nm_tcp_counters *a)
{
	const uint64_t *src = (const uint64_t *)a;
	uint64_t *dst = (uint64_t *)d;

	for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

void stack_add_closed(struct nm_stack *s, const struct nm_tcp_counters *c)
{
	pthread_mutex_lock(&s->closed_lock);
	sum_tcp(&s->closed, c);
	s->closed.tokens_held -= c->tokens_held;
	pthread_mutex_unlock(&s->closed_lock);
}

void nm_stack_counters(struct nm_stack *s, struct nm_stack_counters *o)
{
	struct nm_conn *v[NM_SNAP_BATCH];
	unsigned int n, b = 0;

	memset(o, 0, sizeof(*o));
#define C(field, idx) o->field = atomic_load_explicit(&s->ctr[idx], memory_order_relaxed)
	C(rx_frames, SC_RX_FRAMES);
	C(arp_replies, SC_ARP_REPLIES);
	C(arp_requests_sent, SC_ARP_REQ_SENT);
	C(ns_answered, SC_NS_ANSWERED);
	C(na_sent_unsolicited, SC_NA_UNSOL);
	C(ns_sent, SC_NS_SENT);
	C(echo_replies, SC_ECHO);
	C(echo6_replies, SC_ECHO6);
	C(not_for_us, SC_NOT_FOR_US);
	C(no_listener, SC_NO_LISTENER);
	C(unknown_conn, SC_UNKNOWN_CONN);
	C(malformed, SC_MALFORMED);
	C(bad_csum, SC_BAD_CSUM);
	C(no_verdict, SC_NO_VERDICT);
	C(rst_sent, SC_RST_SENT);
	C(tx_dropped, SC_TX_DROPPED);
	C(flow_steer_collisions, SC_STEER_COLL);
	C(flow_steered, SC_STEERED);
	C(conns_accepted, SC_ACCEPTED);
	C(conns_refused, SC_REFUSED);
	C(syn_evicted, SC_SYN_EVICTED);
	C(syn_over_limit, SC_SYN_LIMIT);
#undef C
	pthread_mutex_lock(&s->closed_lock);
	o->tcp = s->closed;
	pthread_mutex_unlock(&s->closed_lock);
	while ((n = stack_snapshot(s, v, NM_SNAP_BATCH, &b)))
		for (unsigned int i = 0; i < n; i++) {
			struct nm_tcp_counters c;

			nm_conn_counters(v[i], &c);
			sum_tcp(&o->tcp, &c);
			conn_put(v[i]);
		}
}

unsigned int nm_stack_addrs(struct nm_stack *s, struct nm_ip_addr *out,
			    unsigned int max)
{
	unsigned int n = s->num_addrs < max ? s->num_addrs : max;

	memcpy(out, s->addrs, n * sizeof(*out));
	return n;
}
