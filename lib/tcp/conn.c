/* SPDX-License-Identifier: MIT */
/*
 * Connections: lifetime (references, the table), the buffers they hold,
 * and the application's side: recv with tokens, token release (checked,
 * all or nothing), the lock-free refill ring, close.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

#define TOK_INIT 256
#define TOK_MAX  (1u << 20)

static uint32_t conn_hash(uint8_t ipver, const uint8_t *rip, uint16_t rport,
			  uint16_t lport)
{
	uint32_t h = 2166136261u;
	size_t alen = ipver == 4 ? 4 : 16;

	for (size_t i = 0; i < alen; i++)
		h = (h ^ rip[i]) * 16777619u;
	h = (h ^ rport) * 16777619u;
	h = (h ^ lport) * 16777619u;
	return h % NM_CONN_HASH;
}

const char *conn_state_name(enum conn_state st)
{
	static const char *const names[] = {
		[CS_SYN_RCVD] = "SYN_RCVD", [CS_ESTABLISHED] = "ESTABLISHED",
		[CS_CLOSE_WAIT] = "CLOSE_WAIT", [CS_LAST_ACK] = "LAST_ACK",
		[CS_FIN_WAIT_1] = "FIN_WAIT_1", [CS_FIN_WAIT_2] = "FIN_WAIT_2",
		[CS_CLOSING] = "CLOSING", [CS_TIME_WAIT] = "TIME_WAIT",
		[CS_CLOSED] = "CLOSED", [CS_UDP] = "UDP",
	};
	return names[st];
}

struct nm_conn *conn_alloc(struct nm_stack *s, struct nm_listener *l)
{
	struct nm_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->refs, 1);
	atomic_init(&c->rf_head, 0);
	atomic_init(&c->rf_tail, 0);
	c->s = s;
	c->l = l;
	atomic_fetch_add(&l->refs, 1);
	c->tok_free = UINT32_MAX;
	return c;
}

void conn_get(struct nm_conn *c)
{
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void conn_put(struct nm_conn *c)
{
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (!c->counted)
		stack_add_closed(c->s, &c->ctr);
	listener_put(c->l);
	pthread_mutex_destroy(&c->lock);
	free(c->tok);
	free(c->ready);
	free(c->ooo);
	free(c->runs);
	free(c);
}

/* The in-order ring, once the handshake is done: a half-open connection
 * (a SYN flood's) costs a few hundred bytes, not the ring. */
int conn_ready_alloc(struct nm_conn *c)
{
	if (c->ready)
		return 0;
	c->ready = calloc(NM_READY_CAP, sizeof(*c->ready));
	return c->ready ? 0 : -ENOMEM;
}

void conn_count_on_queue(struct nm_conn *c)
{
	if (c->q_counted)
		return;
	c->q_counted = true;
	atomic_fetch_add(&c->s->q[c->home_q].conns, 1);
}

static void half_open_link(struct nm_conn *c)
{
	struct nm_stack *s = c->s;

	c->half_open = true;
	c->ho_next = NULL;
	c->ho_prev = s->ho_tail;
	if (s->ho_tail)
		s->ho_tail->ho_next = c;
	else
		s->ho_head = c;
	s->ho_tail = c;
	atomic_fetch_add_explicit(&s->num_half_open, 1, memory_order_relaxed);
}

void half_open_unlink(struct nm_conn *c)
{
	struct nm_stack *s = c->s;

	if (!c->half_open)
		return;
	c->half_open = false;
	if (c->ho_prev)
		c->ho_prev->ho_next = c->ho_next;
	else
		s->ho_head = c->ho_next;
	if (c->ho_next)
		c->ho_next->ho_prev = c->ho_prev;
	else
		s->ho_tail = c->ho_prev;
	c->ho_prev = c->ho_next = NULL;
	atomic_fetch_sub_explicit(&s->num_half_open, 1, memory_order_relaxed);
}

/* Out of the hash chain (write lock held); true when it was in. */
static bool hash_unlink(struct nm_conn *c)
{
	struct nm_stack *s = c->s;
	uint32_t b = conn_hash(c->ipver, c->rip, c->rport, c->lport);

	for (struct nm_conn **pp = &s->hash[b]; *pp; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			if (!s->hash[b])
				s->used[b / 64] &= ~(1ull << (b % 64));
			c->in_table = false;
			s->num_conns--;
			half_open_unlink(c);
			return true;
		}
	return false;
}

static bool same_tuple(const struct nm_conn *a, const struct nm_conn *b)
{
	return a->state != CS_UDP && b->state != CS_UDP && a->ipver == b->ipver &&
	       a->rport == b->rport && a->lport == b->lport &&
	       !memcmp(a->rip, b->rip, 16) && !memcmp(a->lip, b->lip, 16);
}

/* Connections in the table that are not half-open (write lock held). */
static uint32_t conns_established(struct nm_stack *s)
{
	return s->num_conns - atomic_load_explicit(&s->num_half_open, memory_order_relaxed);
}

/* Has the listener handed out (or queued) all its application takes?
 * Half-open connections do not count: a flood of them must not make a
 * real client's SYN refused; the limit is checked again when one
 * completes its handshake (conn_established()). */
static bool over_max_accept(struct nm_listener *l)
{
	bool over;

	pthread_mutex_lock(&l->lock);
	over = l->max_accept && l->accepted + l->aq_count >= l->max_accept;
	pthread_mutex_unlock(&l->lock);
	return over;
}

int conn_hash_insert(struct nm_conn *c, struct nm_conn **old,
		     struct nm_conn **evicted)
{
	struct nm_stack *s = c->s;
	uint32_t b = conn_hash(c->ipver, c->rip, c->rport, c->lport);
	bool syn = c->state == CS_SYN_RCVD;

	*evicted = NULL;
	pthread_rwlock_wrlock(&s->lock);
	for (struct nm_conn *o = s->hash[b]; o; o = o->hnext)
		if (same_tuple(o, c)) {
			conn_get(o);
			*old = o;
			pthread_rwlock_unlock(&s->lock);
			return -EEXIST;
		}
	if (syn && over_max_accept(c->l)) {
		pthread_rwlock_unlock(&s->lock);
		return -ECONNREFUSED;
	}
	/* Half-open connections have a limit of their own: a SYN beyond it
	 * pushes the oldest one out (its table reference goes to the
	 * caller). The others count against max_conns. */
	if (syn && s->ho_head &&
	    atomic_load_explicit(&s->num_half_open, memory_order_relaxed) >=
		    s->p.max_half_open) {
		*evicted = s->ho_head;
		hash_unlink(*evicted);
	}
	if (conns_established(s) >= s->p.max_conns) {
		pthread_rwlock_unlock(&s->lock);
		return -ENOSPC;
	}
	c->hnext = s->hash[b];
	s->hash[b] = c;
	s->used[b / 64] |= 1ull << (b % 64);
	c->in_table = true;
	s->num_conns++;
	if (syn)
		half_open_link(c);
	conn_get(c);  /* the table's reference */
	pthread_rwlock_unlock(&s->lock);
	return 0;
}

/* Out of the table: into the closed sums, off its queue, unsteered. */
static void conn_unhashed(struct nm_conn *c)
{
	struct nm_stack *s = c->s;

	pthread_mutex_lock(&c->lock);
	stack_add_closed(s, &c->ctr);
	c->counted = true;
	pthread_mutex_unlock(&c->lock);
	if (c->q_counted)
		atomic_fetch_sub(&s->q[c->home_q].conns, 1);
	if (c->steered && s->port->ops->unsteer_flow) {
		struct nm_flow fl = { .ipver = c->ipver, .l4proto = 6,
				      .src_port = c->rport, .dst_port = c->lport };

		memcpy(fl.src_mac, c->peer_mac, 6);
		memcpy(fl.dst_mac, s->port->mac, 6);
		memcpy(fl.src_ip, c->rip, 16);
		memcpy(fl.dst_ip, c->lip, 16);
		s->port->ops->unsteer_flow(s->port, &fl);
		c->steered = false;
	}
	conn_put(c);
}

void conn_unhash(struct nm_conn *c)
{
	struct nm_stack *s = c->s;
	bool was;

	pthread_rwlock_wrlock(&s->lock);
	was = c->in_table && hash_unlink(c);
	pthread_rwlock_unlock(&s->lock);
	if (was)
		conn_unhashed(c);
}

/* A half-open connection pushed out by a newer SYN: nothing was sent to
 * it but a SYN-ACK, so it just goes (as a SYN queue overflow does). */
void conn_evicted(struct nm_conn *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->state == CS_SYN_RCVD)
		c->state = CS_CLOSED;
	c->rtx_at = 0;
	pthread_mutex_unlock(&c->lock);
	conn_unhashed(c);
}

/* The handshake is done (connection locked): off the half-open list and
 * into the accept queue, as one step for max_accept. false: it was
 * evicted meanwhile, or the backlog is full. */
bool conn_established(struct nm_conn *c)
{
	struct nm_stack *s = c->s;
	bool ok;

	pthread_rwlock_wrlock(&s->lock);
	ok = c->half_open;
	half_open_unlink(c);
	if (ok && conns_established(s) > s->p.max_conns) {
		ok = false;  /* the table of connections is full */
	} else if (ok && over_max_accept(c->l)) {
		/* Two handshakes raced for the last place: this one is
		 * refused before any of its data is acknowledged. */
		ok = false;
		sc_inc(s, SC_SYN_LIMIT);
	}
	if (ok)
		ok = listener_enqueue(c->l, c);
	pthread_rwlock_unlock(&s->lock);
	if (ok)
		c->state = CS_ESTABLISHED;
	return ok;
}

struct nm_conn *conn_lookup(struct nm_stack *s, uint8_t ipver,
			    const uint8_t *rip, const uint8_t *lip,
			    uint16_t rport, uint16_t lport)
{
	size_t alen = ipver == 4 ? 4 : 16;
	uint32_t b;
	uint8_t r[16] = { 0 };
	struct nm_conn *c;

	memcpy(r, rip, alen);
	b = conn_hash(ipver, r, rport, lport);
	pthread_rwlock_rdlock(&s->lock);
	for (c = s->hash[b]; c; c = c->hnext)
		if (c->state != CS_UDP && c->ipver == ipver && c->rport == rport &&
		    c->lport == lport && !memcmp(c->rip, r, 16) &&
		    !memcmp(c->lip, lip, alen)) {
			conn_get(c);
			break;
		}
	pthread_rwlock_unlock(&s->lock);
	return c;
}

/* The queue whose pool a buffer came from: budgets are per pool. */
uint32_t buf_queue(struct nm_conn *c, nm_netmem_ref buf)
{
	struct nm_net_iov *niov = nm_netmem_to_net_iov(buf);
	uint32_t q = niov->pp ? niov->pp->p.queue_idx : c->home_q;

	return q < c->s->nq ? q : c->home_q;
}

void conn_release_buf(struct nm_conn *c, nm_netmem_ref buf)
{
	uint32_t q = buf_queue(c, buf);

	nm_netmem_put(buf);
	c->held--;
	atomic_fetch_sub_explicit(&c->s->q[q].held, 1, memory_order_relaxed);
}

/* Every buffer the connection holds goes back (lock held). */
void conn_purge(struct nm_conn *c)
{
	for (; c->rd_count; c->rd_count--, c->rd_head++)
		conn_release_buf(c, c->ready[c->rd_head % NM_READY_CAP].buf);
	conn_prune_ooo(c);
	for (uint32_t t = 0; t < c->tok_cap; t++)
		if (c->tok[t].buf) {
			conn_release_buf(c, c->tok[t].buf);
			c->tok[t].buf = 0;
		}
	c->tok_out = 0;
	c->tok_free = UINT32_MAX;
	for (uint32_t t = c->tok_cap; t-- > 0;) {
		c->tok[t].next_free = c->tok_free;
		c->tok_free = t;
	}
}

int conn_create_udp(struct nm_stack *s, struct nm_listener *l,
		    struct nm_conn **out, struct nm_err *err)
{
	struct nm_conn *c = conn_alloc(s, l), *old = NULL, *victim = NULL;

	if (!c)
		return nm_err_set(err, -ENOMEM, "out of memory");
	c->state = CS_UDP;
	c->lport = l->port;
	c->home_q = l->num_queues ? l->queues[0] : s->port->default_queue;
	if (conn_ready_alloc(c)) {
		conn_put(c);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	if (conn_hash_insert(c, &old, &victim)) {
		conn_put(c);
		return nm_err_set(err, -ENOSPC, "connection table full");
	}
	conn_count_on_queue(c);
	*out = c;
	return 0;
}

static int tok_alloc(struct nm_conn *c, nm_netmem_ref buf, uint32_t *tok)
{
	if (c->tok_free == UINT32_MAX) {
		uint32_t ncap = c->tok_cap ? c->tok_cap * 2 : TOK_INIT;
		struct token_slot *t;

		if (ncap > TOK_MAX)
			return -ENOSPC;
		t = realloc(c->tok, ncap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t + c->tok_cap, 0, (ncap - c->tok_cap) * sizeof(*t));
		for (uint32_t i = ncap; i-- > c->tok_cap;) {
			t[i].next_free = c->tok_free;
			c->tok_free = i;
		}
		c->tok = t;
		c->tok_cap = ncap;
	}
	*tok = c->tok_free;
	c->tok_free = c->tok[*tok].next_free;
	c->tok[*tok].buf = buf;
	c->tok_out++;
	return 0;
}

static void tok_free_one(struct nm_conn *c, uint32_t t)
{
	conn_release_buf(c, c->tok[t].buf);
	c->tok[t].buf = 0;
	c->tok[t].next_free = c->tok_free;
	c->tok_free = t;
	c->tok_out--;
}

/* Buffers came back: tell the peer when the window has grown enough
 * that it would otherwise wait (Linux's rule in tcp_cleanup_rbuf: the
 * window told is at most half the most we give, and would double). */
static void maybe_window_update(struct nm_conn *c)
{
	uint32_t cur, now_win, max_win;

	if (c->state != CS_ESTABLISHED && c->state != CS_FIN_WAIT_1 &&
	    c->state != CS_FIN_WAIT_2)
		return;
	cur = seq_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;
	now_win = tcp_window_segs(c) * c->eff_mss;
	max_win = (tcp_window_segs(c) + c->held) * c->eff_mss;
	/* A window under one segment that opens to one is told too: with a
	 * few buffers the window never reaches two, and the sender would
	 * wait for its persist timer. */
	if ((2 * cur <= max_win && now_win >= 2 * cur &&
	     now_win >= cur + 2u * c->eff_mss) ||
	    (cur < c->eff_mss && now_win >= c->eff_mss)) {
		c->ctr.window_update++;
		tcp_send_ack(c);
	}
}

void conn_drain_refill(struct nm_conn *c)
{
	unsigned int head = atomic_load_explicit(&c->rf_head, memory_order_relaxed);
	unsigned int tail = atomic_load_explicit(&c->rf_tail, memory_order_acquire);
	bool any = head != tail;

	for (; head != tail; head++) {
		uint32_t t = c->rf[head % NM_REFILL_CAP];

		if (t < c->tok_cap && c->tok[t].buf)
			tok_free_one(c, t);
		else
			c->ctr.bad_tokens++;
	}
	atomic_store_explicit(&c->rf_head, head, memory_order_release);
	/* A small window may be small because of the other connections on
	 * the queue: their buffers coming back open it too, and nothing of
	 * ours would say so (the peer's probes back off to minutes). */
	if (any || c->win_zero || c->win_was_small)
		maybe_window_update(c);
}

int nm_conn_recv(struct nm_conn *c, struct nm_frag *frags, unsigned int max)
{
	unsigned int n = 0;
	int ret;

	pthread_mutex_lock(&c->lock);
	while (n < max && c->rd_count) {
		struct seg *sg = &c->ready[c->rd_head % NM_READY_CAP];
		struct nm_frag *f = &frags[n];
		uint32_t tok;

		if (tok_alloc(c, sg->buf, &tok))
			break;  /* too many tokens out: the app must return some */
		memset(f, 0, sizeof(*f));
		f->len = sg->len;
		f->token = tok;
		f->stream_off = c->stream_off;
		if (nm_netmem_is_net_iov(sg->buf)) {
			struct nm_net_iov *niov = nm_netmem_to_net_iov(sg->buf);
			struct nm_dmabuf_binding *b = nm_net_iov_owner(niov)->owner_priv;

			f->flags = NM_FRAG_DMABUF;
			f->binding_id = b->id;
			f->offset = nm_net_iov_offset(niov) + sg->off;
		} else {
			f->flags = NM_FRAG_LINEAR;
			f->data = (const uint8_t *)nm_netmem_address(sg->buf) + sg->off;
		}
		if (c->state == CS_UDP) {
			f->flags |= NM_FRAG_DGRAM;
			f->ipver = sg->ipver;
			memcpy(f->src_ip, sg->src_ip, 16);
			f->src_port = sg->src_port;
		}
		c->stream_off += sg->len;
		c->rd_head++;
		c->rd_count--;
		n++;
	}
	if (n)
		ret = (int)n;
	else if (c->reset)
		ret = -ECONNRESET;
	else if (c->fin_rcvd)
		ret = 0;
	else
		ret = -EAGAIN;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int nm_conn_release_tokens(struct nm_conn *c, const struct nm_token_range *r,
			   unsigned int n, struct nm_err *err)
{
	uint32_t mark, count = 0;
	int ret = 0;

	pthread_mutex_lock(&c->lock);
	mark = ++c->tok_mark;
	/* First pass: every token must be out with the app, and named once. */
	for (unsigned int i = 0; i < n && !ret; i++) {
		if (r[i].token_count > TOK_MAX ||
		    r[i].token_start > UINT32_MAX - r[i].token_count) {
			ret = nm_err_set(err, -EINVAL, "token range %u+%u overflows",
					 r[i].token_start, r[i].token_count);
			break;
		}
		for (uint32_t t = r[i].token_start;
		     t - r[i].token_start < r[i].token_count; t++) {
			if (t >= c->tok_cap || !c->tok[t].buf) {
				ret = nm_err_set(err, -ENOENT,
						 "token %u is unknown or was returned already; nothing released",
						 t);
				break;
			}
			if (c->tok[t].mark == mark) {
				ret = nm_err_set(err, -ENOENT,
						 "token %u is named twice; nothing released", t);
				break;
			}
			c->tok[t].mark = mark;
			count++;
		}
	}
	if (!ret) {
		for (unsigned int i = 0; i < n; i++)
			for (uint32_t t = r[i].token_start;
			     t - r[i].token_start < r[i].token_count; t++)
				tok_free_one(c, t);
		maybe_window_update(c);
		ret = (int)count;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

unsigned int nm_conn_refill(struct nm_conn *c, const uint32_t *tokens,
			    unsigned int n)
{
	unsigned int tail = atomic_load_explicit(&c->rf_tail, memory_order_relaxed);
	unsigned int head = atomic_load_explicit(&c->rf_head, memory_order_acquire);
	unsigned int room = NM_REFILL_CAP - (tail - head), i;

	if (n > room)
		n = room;
	for (i = 0; i < n; i++)
		c->rf[(tail + i) % NM_REFILL_CAP] = tokens[i];
	atomic_store_explicit(&c->rf_tail, tail + n, memory_order_release);
	return n;
}

static void conn_close(struct nm_conn *c, bool abort)
{
	pthread_mutex_lock(&c->lock);
	conn_drain_refill(c);
	if (c->state != CS_UDP && c->rd_count)
		abort = true;  /* unread data: Linux resets too */
	conn_purge(c);
	c->app_closed = true;
	c->app_owned = false;
	switch (c->state) {
	case CS_UDP:
		c->state = CS_CLOSED;
		break;
	case CS_ESTABLISHED:
	case CS_CLOSE_WAIT:
	case CS_SYN_RCVD:
		if (abort) {
			tcp_send_rst(c);
			c->state = CS_CLOSED;
			break;
		}
		tcp_send_fin(c);
		c->state = c->state == CS_CLOSE_WAIT ? CS_LAST_ACK : CS_FIN_WAIT_1;
		break;
	case CS_FIN_WAIT_1:
	case CS_FIN_WAIT_2:
	case CS_CLOSING:
	case CS_LAST_ACK:
		if (abort) {
			tcp_send_rst(c);
			c->state = CS_CLOSED;
		}
		break;
	case CS_TIME_WAIT:
	case CS_CLOSED:
		break;
	}
	pthread_mutex_unlock(&c->lock);
	conn_put(c);  /* the application's reference */
}

void nm_conn_close(struct nm_conn *c)
{
	conn_close(c, false);
}

void nm_conn_abort(struct nm_conn *c)
{
	conn_close(c, true);
}

/* A connection no application took (backlog drained at listener close). */
void nm_conn_abort_ref(struct nm_conn *c)
{
	pthread_mutex_lock(&c->lock);
	c->app_owned = true;
	pthread_mutex_unlock(&c->lock);
	conn_close(c, true);
}

void nm_conn_counters(struct nm_conn *c, struct nm_tcp_counters *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->ctr;
	out->tokens_held = c->tok_out;
	pthread_mutex_unlock(&c->lock);
}

void nm_conn_get_info(struct nm_conn *c, struct nm_conn_info *o)
{
	pthread_mutex_lock(&c->lock);
	memset(o, 0, sizeof(*o));
	o->ipver = c->ipver;
	memcpy(o->peer_ip, c->rip, 16);
	o->peer_port = c->rport;
	o->local_port = c->lport;
	o->mss = c->mss;
	o->snd_wscale = c->snd_wscale;
	o->rcv_wscale = c->rcv_wscale;
	o->sack = c->sack_ok;
	o->timestamps = c->ts_ok;
	o->rcv_wnd = seq_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;
	o->queue = c->home_q;
	o->state = conn_state_name(c->state);
	pthread_mutex_unlock(&c->lock);
}
