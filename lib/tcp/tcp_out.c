/* SPDX-License-Identifier: MIT */
/*
 * What the receiver sends: ACKs (with timestamps and SACK blocks), the
 * window, SYN-ACK, FIN, RST. The window is counted in buffers: each
 * segment takes a whole one, so the peer may send (free buffers) x MSS.
 */
#include <string.h>

#include "tcp_internal.h"

#define MIN_CAP 16

struct share {
	long cap;     /* the queue's budget, in buffers */
	long share;   /* what one connection may hold */
	long qfree;   /* what the queue has left of its budget */
	long hfree;   /* ... of its hard limit, 3/4 of the pool */
};

/*
 * A connection's share of its queue's budget: an equal part when several
 * connections land there; alone, seven eighths, so that a newcomer always
 * finds room for a window while the first one holds everything it may.
 */
static struct share share_of(struct nm_conn *c)
{
	struct qacct *qa = &c->s->q[c->home_q];
	long cap = atomic_load_explicit(&qa->cap, memory_order_relaxed);
	int conns = atomic_load_explicit(&qa->conns, memory_order_relaxed);
	struct share sh;

	bool learnt = cap != 0;

	if (!learnt) {
		/* The first window, before a buffer told us the pool: a few
		 * buffers, never more than the binding's share of them. */
		cap = MIN_CAP;
		if (c->l->binding && c->l->num_queues) {
			long area = c->l->binding->area.num_niovs / (2 * c->l->num_queues);

			if (area < cap)
				cap = area > 0 ? area : 1;
		}
	}
	if (cap > NM_READY_CAP - 1)
		cap = NM_READY_CAP - 1;
	sh.cap = cap;
	sh.share = conns > 1 || !learnt ? cap / (conns > 1 ? conns : 1) : cap - cap / 8;
	if (sh.share < 1)
		sh.share = 1;
	sh.qfree = cap - atomic_load_explicit(&qa->held, memory_order_relaxed);
	sh.hfree = sh.qfree + cap / 2;
	return sh;
}

/*
 * Segments this connection may still take: its share of its queue's pool
 * budget, less what it holds, never more than the queue's hard limit has
 * free (conn_may_hold() takes exactly that much).
 */
uint32_t tcp_window_segs(struct nm_conn *c)
{
	struct share sh = share_of(c);
	long w = sh.share - (long)c->held;

	if (w > sh.hfree)
		w = sh.hfree;
	return w > 0 ? (uint32_t)w : 0;
}

/*
 * May the connection take one more buffer for a segment of @len bytes at
 * @seq (inside the window it was told)? Within the queue's hard limit (3/4
 * of the pool: the NIC keeps a quarter posted for every other flow), a full
 * segment yes, what the window promised is kept (and so are its last
 * bytes, up to the right edge); a small one only within the connection's
 * share: the window bounds full segments, nothing bounds
 * how many 1-byte ones fit in it. The segment that fills the hole at
 * rcv_nxt is always taken, giving back the connection's own farthest
 * out-of-order buffer at the hard limit: it is what turns held buffers
 * into data the application reads and frees.
 */
bool conn_may_hold(struct nm_conn *c, uint32_t seq, uint32_t len)
{
	struct share sh = share_of(c);

	if (seq == c->rcv_nxt && c->ooo_count) {
		if (sh.hfree <= 0)
			c->ctr.ooo_pruned += ooo_shrink(c, c->held - 1);
		return true;
	}
	if (sh.hfree <= 0)
		return false;
	/* The window's last bytes (a segment ending at its right edge) are
	 * what the window left, however few: one per window told. */
	return (long)c->held < sh.share || len >= (uint32_t)c->eff_mss / 2 ||
	       seq + len == c->rcv_adv;
}

/* The window field for the next segment; moves rcv_adv, never back. */
static uint16_t window_field(struct nm_conn *c)
{
	uint32_t win = tcp_window_segs(c) * c->eff_mss;
	uint32_t cur = seq_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t field, shift = c->rcv_wscale;

	if (c->state == CS_SYN_RCVD) {
		/* The SYN-ACK's window is never scaled (RFC 7323 2.2); a
		 * resent one keeps the edge the first one told. */
		if (win < cur)
			win = cur;
		field = win > 65535 ? 65535 : win;
		c->rcv_adv = c->rcv_nxt + field;
		c->win_zero = !field;
		c->win_was_small = field < 2u * c->eff_mss;
		return (uint16_t)field;
	}
	/* Never move the right edge back. A window from the budget (whole
	 * segments) rounds up to the scale unit, so the peer sees room for
	 * every segment it may send (the overshoot is under one unit, not
	 * cumulative); a promise larger than the budget is told rounded down
	 * (segments up to rcv_adv are still taken), so the edge never creeps.
	 * Under one segment of budget, zero (receiver SWS avoidance). */
	if (win >= cur && win) {
		field = (win + (1u << shift) - 1) >> shift;
		if (field > 65535)
			field = 65535;
		c->rcv_adv = c->rcv_nxt + (field << shift);
	} else {
		field = cur >> shift;
		if (field > 65535)
			field = 65535;
	}
	if (!field && !c->win_zero)
		c->ctr.window_zero++;
	c->win_zero = !field;
	c->win_was_small = (field << shift) < 2u * c->eff_mss;
	return (uint16_t)field;
}

static uint32_t ts_val(struct nm_conn *c)
{
	return (uint32_t)(stack_now(c->s) / 1000000u) + c->ts_offset;
}

static void tcp_xmit(struct nm_conn *c, uint8_t flags, uint32_t seq)
{
	struct nm_stack *s = c->s;
	uint8_t buf[NM_TX_FRAME_MAX], opt[40];
	unsigned int olen = 0;
	uint32_t blk[4][2];
	size_t off;
	uint8_t *t;
	uint16_t win;

	if (flags & TH_SYN) {
		opt[olen++] = 2;
		opt[olen++] = 4;
		put16(opt + olen, c->mss);
		olen += 2;
		if (!c->ts_ok && c->sack_ok) {
			opt[olen++] = 1;
			opt[olen++] = 1;
		}
		if (c->sack_ok) {
			opt[olen++] = 4;
			opt[olen++] = 2;
		} else if (c->ts_ok) {
			opt[olen++] = 1;
			opt[olen++] = 1;
		}
	} else if (c->ts_ok) {
		opt[olen++] = 1;
		opt[olen++] = 1;
	}
	if (c->ts_ok) {
		opt[olen++] = 8;
		opt[olen++] = 10;
		put32(opt + olen, ts_val(c));
		put32(opt + olen + 4, c->ts_recent);
		olen += 8;
	}
	if ((flags & TH_SYN) && c->ws_ok) {
		opt[olen++] = 1;
		opt[olen++] = 3;
		opt[olen++] = 3;
		opt[olen++] = c->rcv_wscale;
	}
	if (!(flags & (TH_SYN | TH_RST)) && c->sack_ok && (c->nruns || c->dsack)) {
		unsigned int nb = sack_blocks(c, blk, (40 - olen - 4) / 8);

		opt[olen++] = 1;
		opt[olen++] = 1;
		opt[olen++] = 5;
		opt[olen++] = (uint8_t)(2 + 8 * nb);
		for (unsigned int i = 0; i < nb; i++) {
			put32(opt + olen, blk[i][0]);
			put32(opt + olen + 4, blk[i][1]);
			olen += 8;
		}
	}
	win = flags & TH_RST ? 0 : window_field(c);
	off = tx_ip_header(s, buf, c->peer_mac, c->ipver, c->lip, c->rip, 6,
			   20 + olen, 64);
	t = buf + off;
	memset(t, 0, 20);
	put16(t, c->lport);
	put16(t + 2, c->rport);
	put32(t + 4, seq);
	put32(t + 8, c->rcv_nxt);
	t[12] = (uint8_t)(((20 + olen) / 4) << 4);
	t[13] = flags | TH_ACK;
	put16(t + 14, win);
	memcpy(t + 20, opt, olen);
	put16(t + 16, nm_csum_fold(nm_csum_add(nm_csum_pseudo(c->ipver, c->lip, c->rip,
							      6, 20 + olen),
					      t, 20 + olen)));
	stack_tx(s, buf, (uint16_t)(off + 20 + olen));
	c->unacked_full = 0;
	c->delack_at = 0;
	c->ack_now = false;
	c->sack_news = false;
	c->acked_nxt = c->rcv_nxt;
	c->ctr.acks_sent++;
}

void tcp_send_ack(struct nm_conn *c)
{
	tcp_xmit(c, 0, c->snd_nxt);
}

/* An ACK owed at a burst's end: now when enough is unacknowledged (or the
 * sender is about to run out of window), else at the next timer pass. */
static void ack_owed(struct nm_conn *c, uint64_t now)
{
	uint32_t lim = c->s->p.ack_coalesce_bytes;
	uint32_t left = seq_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;

	if (c->rcv_nxt - c->acked_nxt >= lim || left < lim || c->quickack) {
		/* Quick ACKs after a loss: the sender regrows its window
		 * from what we ACK, a timer pass per round would slow it. */
		if (c->quickack)
			c->quickack--;
		tcp_send_ack(c);
	} else if (!c->delack_at || c->delack_at > now + TIMER_PERIOD_NS) {
		c->delack_at = now + TIMER_PERIOD_NS;
	}
}

/* End of a poll burst: one ACK per connection that is still owed one
 * (an ACK sent meanwhile, for a hole or the window, cleared the debt). */
void ack_batch_flush(struct ack_batch *b)
{
	uint64_t now = b->n ? stack_now(b->c[0]->s) : 0;

	for (unsigned int i = 0; i < b->n; i++) {
		struct nm_conn *c = b->c[i];

		pthread_mutex_lock(&c->lock);
		c->ack_batched = false;
		if (c->sack_news && c->state != CS_CLOSED)
			tcp_send_ack(c);
		else if ((c->unacked_full >= 2 || c->quickack) && c->state != CS_CLOSED &&
			 c->acked_nxt != c->rcv_nxt)
			ack_owed(c, now);
		pthread_mutex_unlock(&c->lock);
		conn_put(c);
	}
	b->n = 0;
}

void tcp_send_synack(struct nm_conn *c)
{
	tcp_xmit(c, TH_SYN, c->iss);
}

void tcp_send_fin(struct nm_conn *c)
{
	if (!c->fin_sent) {
		c->fin_sent = true;
		c->snd_nxt++;
	}
	c->rtx_at = stack_now(c->s) + 200000000ull;
	tcp_xmit(c, TH_FIN, c->snd_nxt - 1);
}

void tcp_send_rst(struct nm_conn *c)
{
	tcp_xmit(c, TH_RST, c->snd_nxt);
	c->ctr.rst_sent++;
	sc_inc(c->s, SC_RST_SENT);
}

/* Keepalive (RFC 9293 3.8.4, Linux's defaults): an idle synchronized
 * peer is probed; one that never answers is reset and its buffers go. */
static void keepalive(struct nm_conn *c, uint64_t now)
{
	const struct nm_stack_params *p = &c->s->p;
	uint64_t idle_ns = (uint64_t)p->keepalive_ms * 1000000ull;
	uint64_t intvl_ns = idle_ns / 10 ? idle_ns / 10 : 1000000ull;

	if (c->state != CS_ESTABLISHED && c->state != CS_CLOSE_WAIT &&
	    c->state != CS_FIN_WAIT_1 && c->state != CS_FIN_WAIT_2)
		return;
	/* Signed: a poller on another thread may have stamped last_rx after
	 * this pass read its clock. */
	if ((int64_t)(now - c->last_rx) < (int64_t)(idle_ns + c->ka_sent * intvl_ns))
		return;
	if (c->ka_sent >= p->keepalive_probes) {
		tcp_send_rst(c);
		c->state = CS_CLOSED;
		c->reset = true;
		c->ctr.idle_resets++;
		return;
	}
	/* One byte behind: the peer must answer with an ACK. */
	tcp_xmit(c, 0, c->snd_nxt - 1);
	c->ka_sent++;
	c->ctr.keepalives_sent++;
}

/* Out-of-order buffers that made no progress for this long are given back,
 * down to the connection's share, when the queue runs short (Linux's
 * tcp_prune_ofo_queue(): a peer that never fills its hole must not keep
 * the buffers other connections need). */
#define PRUNE_IDLE_NS 200000000ull

static void maybe_prune(struct nm_conn *c, uint64_t now)
{
	struct share sh;
	uint32_t n;

	if (!c->ooo_count || (int64_t)(now - c->last_advance) < (int64_t)PRUNE_IDLE_NS)
		return;
	sh = share_of(c);
	if (sh.qfree > sh.cap / 4 || (long)c->held <= sh.share)
		return;
	n = ooo_shrink(c, (uint32_t)sh.share);
	c->ctr.ooo_pruned += n;
	c->last_advance = now;
	if (n)
		tcp_send_ack(c);  /* the SACK blocks changed */
}

void conn_timers(struct nm_conn *c, uint64_t now)
{
	struct nm_stack *s = c->s;

	conn_drain_refill(c);
	if (c->delack_at && now >= c->delack_at)
		tcp_send_ack(c);
	keepalive(c, now);
	maybe_prune(c, now);
	if (c->rtx_at && now >= c->rtx_at) {
		if (c->state == CS_SYN_RCVD) {
			/* Under a flood, a half-open connection gets one
			 * retransmit, not five (a 63 s lifetime). */
			uint32_t tries = atomic_load_explicit(&s->num_half_open,
							      memory_order_relaxed) >
					 s->p.max_half_open / 2 ? 1 : 5;

			if (++c->rtx_count > tries) {
				c->state = CS_CLOSED;
				c->rtx_at = 0;
			} else {
				c->rtx_at = now + (1000000000ull << c->rtx_count);
				tcp_send_synack(c);
			}
		} else if (c->fin_sent && !c->fin_acked &&
			   (c->state == CS_FIN_WAIT_1 || c->state == CS_CLOSING ||
			    c->state == CS_LAST_ACK)) {
			if (++c->rtx_count > 6) {
				c->state = CS_CLOSED;
				c->rtx_at = 0;
			} else {
				tcp_send_fin(c);
				c->rtx_at = now + (200000000ull << c->rtx_count);
			}
		} else {
			c->rtx_at = 0;
		}
	}
	if (c->tw_until && now >= c->tw_until &&
	    (c->state == CS_TIME_WAIT || c->state == CS_FIN_WAIT_2)) {
		c->state = CS_CLOSED;
		c->tw_until = 0;
	}
}
