/* SPDX-License-Identifier: MIT */
/*
 * TCP input (RFC 9293 3.10.7, receive side only): passive open, the
 * acceptability test, PAWS, in-order delivery and the reassembly queue
 * (payload stays in the buffer the NIC wrote; overlaps are trimmed by
 * moving a segment's offset and length), FIN, RST, the ACK policy.
 */
#include <errno.h>
#include <string.h>

#include "tcp_internal.h"

#define PAWS_WINDOW        1    /* ticks (Linux's TCP_PAWS_WINDOW) */
#define QUICKACKS          16
#define PAWS_REORDER_TICKS 250  /* ms at Linux's 1 kHz TSval clock */

struct tcp_opts {
	uint16_t mss;
	int8_t wscale;       /* -1: none */
	bool sack_perm;
	bool ts;
	uint32_t tsval, tsecr;
};

static void parse_opts(const uint8_t *th, uint32_t thl, struct tcp_opts *o)
{
	const uint8_t *p = th + 20, *end = th + thl;

	memset(o, 0, sizeof(*o));
	o->wscale = -1;
	while (p < end) {
		uint8_t kind = p[0], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			p++;
			continue;
		}
		if (p + 1 >= end || (len = p[1]) < 2 || p + len > end)
			break;
		if (kind == 2 && len == 4)
			o->mss = get16(p + 2);
		else if (kind == 3 && len == 3)
			o->wscale = (int8_t)(p[2] > 14 ? 14 : p[2]);
		else if (kind == 4 && len == 2)
			o->sack_perm = true;
		else if (kind == 8 && len == 10) {
			o->ts = true;
			o->tsval = get32(p + 2);
			o->tsecr = get32(p + 6);
		}
		p += len;
	}
}

/* Budget of a queue's pool, learnt from a buffer that came from it: half
 * the pool (the NIC keeps the rest posted), no more than the binding's
 * share across the queues bound to it. */
void learn_cap(struct nm_conn *c, nm_netmem_ref buf)
{
	struct qacct *qa = &c->s->q[c->home_q];
	struct nm_net_iov *niov;
	uint32_t cap;

	if (!buf || atomic_load_explicit(&qa->cap, memory_order_relaxed))
		return;
	niov = nm_netmem_to_net_iov(buf);
	if (!niov->pp)
		return;
	cap = niov->pp->p.pool_size / 2;
	if (c->l->binding && c->l->num_queues) {
		uint32_t area = c->l->binding->area.num_niovs / (2 * c->l->num_queues);

		if (area < cap)
			cap = area;
	}
	atomic_store_explicit(&qa->cap, cap ? cap : 1, memory_order_relaxed);
}

/* Where the connection's data goes (steering) and its budget's queue. */
static void conn_place(struct nm_conn *c, const struct rx_frame *f)
{
	int q = listener_queue_for(c->l, c, f);

	c->placed = true;
	c->home_q = (uint32_t)q < c->s->nq ? (uint32_t)q : f->queue;
}

static void new_conn(struct nm_stack *s, struct rx_frame *f,
		     struct nm_listener *l, const struct tcp_opts *o)
{
	const uint8_t *th = f->l4;
	struct nm_conn *c, *old = NULL, *victim = NULL;
	uint32_t hdrs = f->ipver == 4 ? 40 : 60;
	bool closed, full;
	int ret;

	pthread_mutex_lock(&l->lock);
	closed = l->closed;
	full = l->aq_count >= l->backlog;
	pthread_mutex_unlock(&l->lock);
	if (closed || full) {
		sc_inc(s, SC_REFUSED);
		return;  /* as Linux: drop the SYN, the peer retries */
	}
	c = conn_alloc(s, l);
	if (!c) {
		sc_inc(s, SC_REFUSED);
		return;
	}
	c->state = CS_SYN_RCVD;
	c->ipver = f->ipver;
	memcpy(c->rip, f->src_ip, f->ipver == 4 ? 4 : 16);
	memcpy(c->lip, f->dst_ip, f->ipver == 4 ? 4 : 16);
	c->rport = get16(th);
	c->lport = get16(th + 2);
	memcpy(c->peer_mac, f->eth + 6, 6);
	c->irs = get32(th + 4);
	c->rcv_nxt = c->irs + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = tcp_secure_iss(s, c);
	c->snd_nxt = c->iss + 1;
	c->ts_offset = tcp_secure_ts_offset(s, c);
	c->mss = (uint16_t)(s->port->mtu - hdrs);
	if (l->binding && l->binding->area.buf_size < c->mss)
		c->mss = (uint16_t)l->binding->area.buf_size;
	c->ws_ok = o->wscale >= 0;
	c->snd_wscale = c->ws_ok ? (uint8_t)o->wscale : 0;
	c->rcv_wscale = c->ws_ok ? NM_RCV_WSCALE : 0;
	c->sack_ok = o->sack_perm;
	c->ts_ok = o->ts;
	c->ts_recent = o->tsval;
	c->ts_seen = o->ts;
	c->eff_mss = (uint16_t)(c->mss - (c->ts_ok ? 12 : 0));
	c->home_q = f->queue < s->nq ? f->queue : 0;
	c->last_rx = c->last_advance = stack_now(s);
	ret = conn_hash_insert(c, &old, &victim);
	if (victim) {
		conn_evicted(victim);
		sc_inc(s, SC_SYN_EVICTED);
	}
	if (ret) {
		if (ret == -EEXIST) {
			conn_put(old);  /* another poller made it first */
		} else if (ret == -ECONNREFUSED) {
			sc_inc(s, SC_SYN_LIMIT);
			tx_rst_reply(s, f);
		} else {
			sc_inc(s, SC_REFUSED);
		}
		conn_put(c);
		return;
	}
	pthread_mutex_lock(&c->lock);
	/* Under a flood, steer at the handshake's end: SYNs from spoofed
	 * sources never take a steering entry. */
	if (atomic_load_explicit(&s->num_half_open, memory_order_relaxed) <=
	    s->p.max_half_open / 2)
		conn_place(c, f);
	if (!l->binding)
		learn_cap(c, f->pkt.payload);
	tcp_send_synack(c);
	c->rtx_at = stack_now(s) + 1000000000ull;
	pthread_mutex_unlock(&c->lock);
	conn_put(c);  /* the table holds it */
}

/* Put @sg into the in-order ring; the caller checked there is room. */
void ready_push(struct nm_conn *c, const struct seg *sg)
{
	c->ready[(c->rd_head + c->rd_count++) % NM_READY_CAP] = *sg;
	c->rcv_nxt += sg->len;
	c->ctr.bytes += sg->len;
	c->last_advance = stack_now(c->s);
}

/* Payload of an acceptable segment. Takes the buffer when it keeps it. */
static void data_in(struct nm_conn *c, struct rx_frame *f, uint32_t seq)
{
	struct seg sg = { .buf = f->pbuf, .seq = seq, .off = f->poff, .len = f->plen };
	bool was_ooo = c->ooo_count != 0;

	if (seq_lt(sg.seq, c->rcv_nxt)) {
		uint32_t d = c->rcv_nxt - sg.seq;

		dsack_note(c, sg.seq, c->rcv_nxt);
		sg.off += d;
		sg.len -= d;
		sg.seq = c->rcv_nxt;
		c->ctr.partial_dup++;
	}
	if (seq_lt(c->rcv_adv, sg.seq + sg.len)) {
		/* Beyond the right edge we told: keep only what fits. */
		sg.len = seq_lt(sg.seq, c->rcv_adv) ? c->rcv_adv - sg.seq : 0;
		c->ctr.out_of_window++;
		c->ack_now = true;
	}
	if (c->fin_pending && seq_lt(c->fin_seq, sg.seq + sg.len)) {
		/* Nothing exists past the peer's FIN. */
		sg.len = seq_lt(sg.seq, c->fin_seq) ? c->fin_seq - sg.seq : 0;
		c->ctr.past_fin++;
	}
	if (!sg.len)
		return;
	if (c->rd_count + c->ooo_count >= NM_READY_CAP - 1) {
		c->ctr.out_of_buffers++;
		c->ack_now = true;
		return;
	}
	if (f->queue != c->home_q && f->queue < c->s->nq) {
		/* The flow moved (steering changed): budget on its new queue. */
		if (c->q_counted) {
			atomic_fetch_sub(&c->s->q[c->home_q].conns, 1);
			atomic_fetch_add(&c->s->q[f->queue].conns, 1);
		}
		c->home_q = f->queue;
	}
	learn_cap(c, sg.buf);
	/* A segment costs a whole buffer whatever it carries: one the
	 * connection may not hold is not taken (nor acknowledged). */
	if (!conn_may_hold(c, sg.seq, sg.len)) {
		c->ctr.over_share++;
		return;
	}
	if (sg.seq == c->rcv_nxt) {
		ready_push(c, &sg);
		/* "Full" as Linux judges it: the largest segment seen so far
		 * (a sender may stay under our MSS). */
		if (f->plen > c->rcv_mss)
			c->rcv_mss = f->plen < c->eff_mss ? f->plen : c->eff_mss;
		if (sg.len >= c->rcv_mss)
			c->unacked_full++;
		if (was_ooo) {
			ooo_pull(c);
			/* A hole filled: tell the sender at this burst's end,
			 * and keep ACKing each burst while it recovers (Linux's
			 * quickack mode, TCP_MAX_QUICKACKS). */
			c->quickack = QUICKACKS;
		}
	} else {
		/* Out of order: one ACK with the SACK blocks as they stand
		 * at the burst's end, not one per segment. The sender counts
		 * what the blocks cover (RACK, sacked_out), not ACKs, and a
		 * receiver whose ACKs cost it a syscall each falls behind in
		 * a recovery and stretches it. */
		c->sack_news = true;
		switch (ooo_insert(c, &sg)) {
		case OOO_DUP:
			c->ctr.dup++;
			return;
		case OOO_FULL:
			return;
		case OOO_KEPT:
			break;
		}
		c->ctr.ooo++;
	}
	/* The buffer is the connection's now. */
	c->ctr.segs++;
	c->held++;
	atomic_fetch_add_explicit(&c->s->q[buf_queue(c, sg.buf)].held, 1,
				  memory_order_relaxed);
	if (c->l->binding && !nm_netmem_is_net_iov(sg.buf))
		c->ctr.copy_fallback++;
	f->pkt.payload = 0;
}

static void fin_in_order(struct nm_conn *c)
{
	uint64_t now = stack_now(c->s);

	c->rcv_nxt++;
	c->fin_rcvd = true;
	c->fin_pending = false;
	c->ack_now = true;
	switch (c->state) {
	case CS_ESTABLISHED:
		c->state = CS_CLOSE_WAIT;
		break;
	case CS_FIN_WAIT_1:
		c->state = c->fin_acked ? CS_TIME_WAIT : CS_CLOSING;
		break;
	case CS_FIN_WAIT_2:
		c->state = CS_TIME_WAIT;
		break;
	default:
		break;
	}
	if (c->state == CS_TIME_WAIT)
		c->tw_until = now + c->s->p.time_wait_ms * 1000000ull;
}

static bool acceptable(struct nm_conn *c, uint32_t seq, uint32_t seglen)
{
	uint32_t rwnd = seq_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;

	if (!seglen)
		return rwnd ? seq_le(c->rcv_nxt, seq) && seq_lt(seq, c->rcv_nxt + rwnd)
			    : seq == c->rcv_nxt;
	if (!rwnd)
		return false;
	return (seq_le(c->rcv_nxt, seq) && seq_lt(seq, c->rcv_nxt + rwnd)) ||
	       (seq_le(c->rcv_nxt, seq + seglen - 1) &&
		seq_lt(seq + seglen - 1, c->rcv_nxt + rwnd));
}

/*
 * PAWS (RFC 7323 5.3): a segment whose timestamp is @lag ticks older than
 * TS.Recent. Within Linux's one-tick tolerance it is fine. Older, it is
 * stale only if it brings nothing new, or if it is old enough to be a
 * duplicate from before a sequence wrap: a segment that a retransmission
 * overtook (reordering, a spurious retransmit) is older by a few RTTs,
 * while 2^31 bytes take at least a third of a second even at 50 Gbit/s.
 * Refusing those would drop real data and make the sender retransmit it.
 */
static bool paws_stale(const struct nm_conn *c, int32_t lag, uint32_t seq,
		       uint32_t seglen)
{
	if (lag <= PAWS_WINDOW)
		return false;
	if (lag > PAWS_REORDER_TICKS)
		return true;
	return !seglen || seq_le(seq + seglen, c->rcv_nxt);
}

static void conn_segment(struct nm_conn *c, struct rx_frame *f)
{
	const uint8_t *th = f->l4;
	uint8_t flags = th[13];
	uint32_t seq = get32(th + 4), ack = get32(th + 8);
	uint32_t seglen = f->plen + !!(flags & TH_FIN);
	struct tcp_opts o;

	parse_opts(th, f->l4hlen, &o);
	switch (c->state) {
	case CS_CLOSED:
		if (!(flags & TH_RST))
			tx_rst_reply(c->s, f);
		return;
	case CS_UDP:
		return;
	case CS_SYN_RCVD:
		if (flags & TH_RST) {
			if (seq == c->rcv_nxt)
				c->state = CS_CLOSED;
			return;
		}
		if ((flags & TH_SYN) && !(flags & TH_ACK)) {
			if (seq == c->irs)
				tcp_send_synack(c);  /* our SYN-ACK was lost */
			return;
		}
		if (!(flags & TH_ACK))
			return;
		if (ack != c->iss + 1 || (flags & TH_SYN)) {
			tx_rst_reply(c->s, f);
			return;
		}
		c->rtx_at = 0;
		c->rtx_count = 0;
		if (conn_ready_alloc(c) || !conn_established(c)) {
			/* Evicted meanwhile, or the backlog is full. */
			tcp_send_rst(c);
			c->state = CS_CLOSED;
			sc_inc(c->s, SC_REFUSED);
			return;
		}
		if (!c->placed)
			conn_place(c, f);
		conn_count_on_queue(c);
		/* The first data is ACKed at once, as Linux's first segments
		 * are (tcp_incr_quickack() on the first data packet). */
		c->quickack = c->s->p.initial_quickacks;
		sc_inc(c->s, SC_ACCEPTED);
		break;
	case CS_TIME_WAIT:
		if (!(flags & TH_RST)) {
			tcp_send_ack(c);  /* their FIN again: our ACK was lost */
			c->tw_until = stack_now(c->s) + c->s->p.time_wait_ms * 1000000ull;
		}
		return;
	default:
		break;
	}

	if (c->ts_ok && o.ts && c->ts_seen && !(flags & TH_RST) &&
	    paws_stale(c, (int32_t)(c->ts_recent - o.tsval), seq, seglen)) {
		c->ctr.paws_rejected++;
		/* D-SACK names data bytes only, never a FIN's number. */
		if (f->plen && seq_lt(seq, c->rcv_nxt))
			dsack_note(c, seq, seq_lt(seq + f->plen, c->rcv_nxt) ?
					   seq + f->plen : c->rcv_nxt);
		tcp_send_ack(c);
		return;
	}
	c->last_rx = stack_now(c->s);
	c->ka_sent = 0;
	if (!acceptable(c, seq, seglen)) {
		if (flags & TH_RST)
			return;
		if (seglen && seq_le(seq + seglen, c->rcv_nxt)) {
			c->ctr.dup++;
			dsack_note(c, seq, seq + f->plen);
		} else if (seglen) {
			c->ctr.out_of_window++;
		}
		tcp_send_ack(c);  /* keepalives and zero-window probes land here */
		return;
	}
	if (flags & TH_RST) {
		if (seq == c->rcv_nxt) {
			c->reset = true;
			c->state = CS_CLOSED;
			c->ctr.rst_rcvd++;
		} else {
			tcp_send_ack(c);  /* RFC 5961 challenge ACK */
		}
		return;
	}
	if (flags & TH_SYN) {
		tcp_send_ack(c);  /* challenge ACK */
		return;
	}
	if (!(flags & TH_ACK))
		return;
	if (c->fin_sent && !c->fin_acked && ack == c->snd_nxt) {
		c->fin_acked = true;
		c->rtx_at = 0;
		if (c->state == CS_FIN_WAIT_1) {
			c->state = CS_FIN_WAIT_2;
			c->tw_until = stack_now(c->s) + 5ull * c->s->p.time_wait_ms * 1000000ull;
		} else if (c->state == CS_CLOSING) {
			c->state = CS_TIME_WAIT;
			c->tw_until = stack_now(c->s) + c->s->p.time_wait_ms * 1000000ull;
		} else if (c->state == CS_LAST_ACK) {
			c->state = CS_CLOSED;
			return;
		}
	}
	/* RFC 7323 4.3: TS.Recent from a segment that covers the last ACK
	 * we sent, never moving back (Linux's tcp_replace_ts_recent()). */
	if (c->ts_ok && o.ts && seq_le(seq, c->acked_nxt) &&
	    (!c->ts_seen || (int32_t)(o.tsval - c->ts_recent) >= 0)) {
		c->ts_recent = o.tsval;
		c->ts_seen = true;
	}
	if (f->plen) {
		if (c->state != CS_ESTABLISHED && c->state != CS_FIN_WAIT_1 &&
		    c->state != CS_FIN_WAIT_2) {
			c->ctr.past_fin++;  /* data after their FIN */
			return;
		}
		if (c->app_closed) {
			/* Nobody will read it: reset, as Linux does for an orphan. */
			tcp_send_rst(c);
			c->state = CS_CLOSED;
			return;
		}
		data_in(c, f, seq);
	}
	if ((flags & TH_FIN) && !c->fin_rcvd) {
		uint32_t fseq = seq + f->plen;

		if (fseq == c->rcv_nxt) {
			fin_in_order(c);
		} else if (seq_lt(c->rcv_nxt, fseq) && !c->fin_pending) {
			/* Beyond a hole: taken when the hole fills; whatever
			 * was queued past it does not exist. */
			c->fin_pending = true;
			c->fin_seq = fseq;
			c->ack_now = true;
			ooo_cut(c, fseq);
		}
	}
	if (c->fin_pending && c->fin_seq == c->rcv_nxt && !c->fin_rcvd)
		fin_in_order(c);
	if (c->ack_now) {
		tcp_send_ack(c);
	} else if (c->sack_news || c->unacked_full >= 2 || (f->plen && c->quickack)) {
		/* In quickack mode (a connection's first segments, a
		 * recovery) a lone segment is ACKed at the burst's end too,
		 * not after the delayed-ACK timer: a sender's Nagle tail (the
		 * last bytes of a short stream) waits for that ACK. */
		if (!c->ack_batched) {
			c->ack_batched = true;
			conn_get(c);
			f->acks->c[f->acks->n++] = c;
		}
	} else if (f->plen && !c->delack_at)
		c->delack_at = stack_now(c->s) + c->s->p.delack_ms * 1000000ull;
}

void tcp_input(struct nm_stack *s, struct rx_frame *f)
{
	const uint8_t *th = f->l4;
	uint8_t flags = th[13];
	struct nm_listener *l;
	struct nm_conn *c;
	struct tcp_opts o;
	int bad;

	c = conn_lookup(s, f->ipver, f->src_ip, f->dst_ip, get16(th), get16(th + 2));
	if (c) {
		pthread_mutex_lock(&c->lock);
		bad = l4_csum_check(s, f, c->l);
		if (bad == SC_BAD_CSUM)
			c->ctr.bad_csum++;
		else if (bad == SC_NO_VERDICT)
			c->ctr.no_verdict++;
		else
			conn_segment(c, f);
		pthread_mutex_unlock(&c->lock);
		conn_put(c);
		return;
	}
	pthread_rwlock_rdlock(&s->lock);
	l = listener_find(s, 6, get16(th + 2));
	if (l)
		atomic_fetch_add(&l->refs, 1);
	pthread_rwlock_unlock(&s->lock);
	bad = l4_csum_check(s, f, l);
	if (bad) {
		sc_inc(s, (enum stack_ctr)bad);
	} else if (!l) {
		sc_inc(s, SC_NO_LISTENER);
		tx_rst_reply(s, f);
	} else if ((flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN) {
		parse_opts(th, f->l4hlen, &o);
		new_conn(s, f, l, &o);
	} else {
		sc_inc(s, SC_UNKNOWN_CONN);
		tx_rst_reply(s, f);
	}
	if (l)
		listener_put(l);
}
