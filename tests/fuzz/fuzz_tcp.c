/* SPDX-License-Identifier: MIT */
/*
 * A fuzz target for the TCP stack that checks invariants, not only
 * crashes. Frames go into a stack with a TCP listener on a memfd dmabuf
 * bound to queue 1 of the software NIC (nm_sim_port), on a clock the input
 * drives. The input (encoding in fuzz_tcp.h) is a sequence of operations:
 * segments of up to four connections from model peers (sequence, ACK,
 * flags, options and length chosen by the input), raw frames, the
 * application's recv, token release and refill, clock steps and close.
 * After every step:
 *  - every byte handed out equals the model sender's byte at its sequence
 *    number (the pattern is keyed on the absolute sequence number), was
 *    sent, and comes at the stream offset the model expects;
 *  - no token is handed out twice, no dmabuf buffer is in two fragments
 *    the application holds, a held buffer keeps its bytes;
 *  - our ACKs never acknowledge a byte that was not sent, never go back;
 *    SACK blocks are above the cumulative ACK, merged, non-overlapping and
 *    name only bytes that were sent; the advertised right edge never moves
 *    back (by more than the rounding of one window-scale unit);
 *  - buffers (queue 1's pool): held by the stack + parked in the pool + posted == the pool,
 *    the stack holding exactly the application's tokens whenever nothing
 *    else can be queued, none after every connection is gone, and the
 *    dmabuf's buffers all free after the stack and the NIC are destroyed;
 *  - liveness (FZ_LIVE): a segment at rcv_nxt inside the advertised window
 *    is taken when the NIC had a buffer for it and the stack holds less
 *    than its hard limit (3/4 of the pool: the rest stays with the NIC),
 *    unless it is a small segment past the connection's share (refused by
 *    design and counted in over_share: it would cost a whole buffer).
 * A broken invariant aborts with the reason (libFuzzer keeps the input).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/netmem.h>
#include <netmem/sim.h>
#include <netmem/sim_port.h>
#include <netmem/tcp.h>

#include "../lib/tcp_frames.h"
#include "fuzz_tcp.h"

#define PORT       5201
#define STREAM_MAX (1u << 19)    /* stream bytes the model tracks per peer */
#define MAXTOK     512
#define BUF_SIZE   4096u

/* The model's per-byte loops stay out of libFuzzer's coverage: their
 * counts would swamp the stack's own features. */
#if defined(__clang__)
#define FZ_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define FZ_NOCOV
#endif

struct fz_tok {
	uint32_t token, len;
	uint64_t stream_off;
	const uint8_t *data;
	int64_t bufidx;          /* dmabuf buffer, -1 for host memory */
};

enum { SL_FREE, SL_SYN, SL_APP, SL_ORPHAN };

struct slot {
	int st;
	uint16_t sport;
	uint32_t irs;            /* the peer's ISS */
	bool synack;
	uint32_t our_iss;
	uint16_t mss;            /* what our SYN-ACK said */
	int shift;               /* our window scale */
	bool offered_ts, offered_sack, offered_ws;
	bool ts_ok, sack_ok;
	uint32_t ts_last, ts_max, their_ts;
	bool ts_wild;            /* a timestamp jumped: PAWS state unknown */
	uint8_t *sent;           /* bitmap of stream offsets sent */
	uint32_t hi;             /* end of the highest byte sent */
	uint32_t contig;         /* sent without a hole from offset 0 */
	bool wild;               /* sent beyond what the model tracks */
	bool fin_sent, rst_sent, eof;
	bool our_fin;            /* the stack sent its FIN */
	uint32_t fin_off;
	uint64_t delivered;      /* stream bytes handed to the application */
	bool have_ack;
	uint32_t last_ack, edge, max_edge;
	struct nm_conn *c;
	struct fz_tok tok[MAXTOK];
	unsigned int ntok, limbo;
};

struct fx {
	struct nm_sim *sim;
	struct nm_sim_port sp;
	struct nm_stack *st;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_listener *l;
	uint8_t *cpu;
	uint32_t nbufs, ring;
	uint64_t now;
	struct tf_peer peer;
	struct slot sl[FZ_SLOTS];
	uint32_t gen, flood;
	unsigned int op;         /* operation index, for messages */
	uint64_t no_buf0;        /* queue 1's drops for want of a buffer at the start */
};

static struct fx F;

/*
 * Invariants today's stack is known to break, by the start of their
 * message: reported (once per process, and counted), not fatal, so the
 * target guards everything else until the stack is fixed. Strike an entry
 * when its fix lands; NETMEM_FUZZ_STRICT=1 makes every one fatal.
 */
static const char *const known_broken[] = {
	/* None now. Struck when the stack was fixed (issue 19): the first
	 * window past what the dmabuf holds (tcp_out.c share_of()), 1-byte
	 * segments pinning the pool (conn_may_hold()), a resent SYN-ACK
	 * shrinking the window (window_field()). */
	NULL
};

static unsigned long known_hits[sizeof(known_broken) / sizeof(known_broken[0])];

static void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fz_fail(const char *fmt, ...)
{
	static int strict = -1;
	va_list ap;
	size_t k;

	if (strict < 0)
		strict = getenv("NETMEM_FUZZ_STRICT") && atoi(getenv("NETMEM_FUZZ_STRICT"));
	if (getenv("NETMEM_FUZZ_SURVEY")) {
		/* Report every break and go on: a survey of what fails where. */
		fprintf(stderr, "fuzz_tcp: broken at operation %u: ", F.op);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
		return;
	}
	for (k = 0; known_broken[k]; k++)
		if (!strncmp(fmt, known_broken[k], strlen(known_broken[k])))
			break;
	if (known_broken[k] && !strict && known_hits[k]++)
		return;
	fprintf(stderr, "fuzz_tcp: %s at operation %u: ",
		known_broken[k] && !strict ? "known broken invariant (not fatal)" :
		"invariant broken", F.op);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (known_broken[k] && !strict)
		return;
	abort();
}

/* Hits of known broken invariants so far (the replay prints them). */
unsigned long fz_known_hits(void (*each)(const char *what, unsigned long hits))
{
	unsigned long n = 0;

	for (size_t k = 0; known_broken[k]; k++) {
		if (each && known_hits[k])
			each(known_broken[k], known_hits[k]);
		n += known_hits[k];
	}
	return n;
}

#define FZ_CHECK(cond, ...) do { if (!(cond)) fz_fail(__VA_ARGS__); } while (0)
/* Setup: nothing to check without it. */
#define FZ_MUST(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_tcp: setup: " __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} } while (0)

static bool s_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static bool s_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

FZ_NOCOV static bool bit(const struct slot *s, uint32_t off)
{
	return off < STREAM_MAX && (s->sent[off >> 3] >> (off & 7) & 1);
}

/* Offset of @seq in the peer's stream (its first data byte is 0). */
static int64_t soff(const struct slot *s, uint32_t seq)
{
	return (int32_t)(seq - (s->irs + 1));
}

/* ---- what the stack sends ---- */

static struct slot *slot_of_port(uint16_t port)
{
	for (int i = 0; i < FZ_SLOTS; i++)
		if (F.sl[i].st != SL_FREE && F.sl[i].sport == port)
			return &F.sl[i];
	return NULL;
}

/* Sent bytes, offsets [a, b) of the stream: all of them? */
FZ_NOCOV static bool all_sent(const struct slot *s, int64_t a, int64_t b)
{
	if (s->wild || a < 0 || b > STREAM_MAX)
		return true;  /* outside what the model tracks */
	for (int64_t o = a; o < b; o++)
		if (!bit(s, (uint32_t)o))
			return false;
	return true;
}

static void check_sack(const struct slot *s, const struct tf_seg *g)
{
	unsigned int n = g->nsack < 4 ? g->nsack : 4;
	bool dsack = false;

	FZ_CHECK(s->sack_ok, "SACK blocks to a peer that did not permit SACK (port %u)", s->sport);
	/* RFC 2883: the first block may report a duplicate (below the ACK,
	 * or inside the second block). */
	if (n && (s_le(g->sack[0][1], g->ack) ||
		  (n > 1 && s_le(g->sack[1][0], g->sack[0][0]) &&
		   s_le(g->sack[0][1], g->sack[1][1]))))
		dsack = true;
	if (dsack)   /* bytes that came twice: they were sent */
		FZ_CHECK(g->sack[0][1] - g->sack[0][0] <= STREAM_MAX &&
			 all_sent(s, soff(s, g->sack[0][0]),
				  soff(s, g->sack[0][0]) + (g->sack[0][1] - g->sack[0][0])),
			 "D-SACK block [%u, %u) names bytes never sent", g->sack[0][0], g->sack[0][1]);
	for (unsigned int i = dsack; i < n; i++) {
		uint32_t a = g->sack[i][0], e = g->sack[i][1];

		FZ_CHECK(s_lt(a, e), "SACK block %u [%u, %u) empty or inverted", i, a, e);
		FZ_CHECK(s_lt(g->ack, a), "SACK block %u [%u, %u) not above the ACK %u",
			 i, a, e, g->ack);
		FZ_CHECK(e - a <= STREAM_MAX, "SACK block %u longer than the stream", i);
		FZ_CHECK(all_sent(s, soff(s, a), soff(s, a) + (e - a)),
			 "SACK block %u [+%lld, +%lld) names bytes never sent", i,
			 (long long)soff(s, a), (long long)soff(s, a) + (e - a));
		for (unsigned int j = dsack; j < i; j++)
			FZ_CHECK(s_lt(e, g->sack[j][0]) || s_lt(g->sack[j][1], a),
				 "SACK blocks %u and %u overlap or touch (not merged): [%u,%u) [%u,%u)",
				 j, i, g->sack[j][0], g->sack[j][1], a, e);
	}
}

static void on_tx(const uint8_t *frame, uint16_t len)
{
	struct tf_seg g = tf_parse(frame, len);
	struct slot *s;
	uint32_t edge, tol;
	int64_t aoff;

	if (!g.ok || g.sport != PORT || !(s = slot_of_port(g.dport)))
		return;
	if (g.flags & TF_SYN) {
		FZ_CHECK(g.ack == s->irs + 1, "SYN-ACK acknowledges %u, not ISS+1 %u",
			 g.ack, s->irs + 1);
		if (s->synack && g.seq != s->our_iss && s->st == SL_SYN) {
			/* The peer's SYN again after its half-open connection
			 * expired: a new one, with a new ISS. */
			s->synack = false;
			s->have_ack = false;
		}
		if (!s->synack) {
			s->synack = true;
			s->our_iss = g.seq;
			s->mss = g.mss;
			s->shift = s->offered_ws && g.wscale >= 0 ? g.wscale : 0;
			s->ts_ok = s->offered_ts && g.ts;
			s->sack_ok = s->offered_sack && g.sack_perm;
			s->their_ts = g.tsval;
		}
		FZ_CHECK(g.seq == s->our_iss, "SYN-ACK again with another ISS");
	}
	if (g.ts)
		s->their_ts = g.tsval;
	if (g.flags & TF_FIN)
		s->our_fin = true;   /* the peer acknowledges it from now on */
	if (g.flags & TF_RST)
		return;  /* carries no window; its ACK may be anything */
	FZ_CHECK(g.flags & TF_ACK, "a segment without ACK");
	aoff = soff(s, g.ack);
	if (!s->wild) {
		uint32_t top = s->contig + (s->fin_sent && s->contig == s->fin_off);

		FZ_CHECK(aoff >= 0 && aoff <= top,
			 "ACK of stream offset %lld: only %u bytes sent without a hole%s",
			 (long long)aoff, s->contig, s->fin_sent ? " (+FIN)" : "");
	}
	if (s->have_ack)
		FZ_CHECK(s_le(s->last_ack, g.ack), "ACK went back from %u to %u",
			 s->last_ack, g.ack);
	/* The right edge: the SYN-ACK's window is never scaled. */
	edge = g.ack + ((uint32_t)g.win << ((g.flags & TF_SYN) ? 0 : s->shift));
	tol = (g.flags & TF_SYN) ? 0 : (1u << s->shift) - 1;
	if (s->have_ack && (g.flags & TF_SYN))
		FZ_CHECK(s_le(s->max_edge, edge),
			 "SYN-ACK sent again with a smaller window: right edge from %u to %u",
			 s->max_edge, edge);
	else if (s->have_ack)
		FZ_CHECK(s_le(s->max_edge, edge + tol),
			 "advertised right edge moved back from %u to %u (ack %u win %u << %d)",
			 s->max_edge, edge, g.ack, g.win, s->shift);
	/* Each segment takes a whole buffer: never promise more full-sized
	 * segments than the dmabuf has buffers. */
	FZ_CHECK(edge - g.ack <= (uint64_t)F.nbufs * s->mss,
		 "window %u promises more than the %u buffers of the dmabuf hold at MSS %u%s",
		 edge - g.ack, F.nbufs, s->mss, (g.flags & TF_SYN) ? " (SYN-ACK)" : "");
	/* A SYN-ACK sent again restates the promise (reported above when it
	 * shrank): later segments are held to it, not to the first one. */
	if (!s->have_ack || s_lt(s->max_edge, edge) || (g.flags & TF_SYN))
		s->max_edge = edge;
	s->edge = edge;
	s->last_ack = g.ack;
	s->have_ack = true;
	if (g.nsack)
		check_sack(s, &g);
}

static bool capture(void *arg, const void *frame, uint16_t len)
{
	(void)arg;
	on_tx(frame, len);
	return true;
}

static uint64_t fake_now(void *arg)
{
	return ((struct fx *)arg)->now;
}

/* ---- driving the stack ---- */

static void poll_all(void)
{
	for (int round = 0; round < 16; round++) {
		int got = 0;

		for (uint32_t q = 0; q < 2; q++)
			got += nm_stack_poll(F.st, q, 0);
		if (!got)
			break;
	}
}

static uint64_t q1_no_buf(void)
{
	struct nm_sim_rxq_stats st;

	nm_sim_rxq_stats(F.sim, 1, &st);
	return st.drop_no_buf;
}

/* One frame, then a poll: the NIC's ring was reposted before it, so a
 * frame dropped for want of a buffer means the pool was all out; with no
 * token at the application that is the stack holding every buffer. */
static void inject(const uint8_t *f, size_t len)
{
	uint64_t nobuf = q1_no_buf();
	unsigned int app = 0;

	for (int i = 0; i < FZ_SLOTS; i++)
		app += F.sl[i].ntok + F.sl[i].limbo;
	nm_sim_inject(F.sim, f, len);
	if (q1_no_buf() != nobuf)
		FZ_CHECK(app, "the stack holds all %u buffers of the pool (the NIC dropped a frame, "
			 "the application holds no token)", F.nbufs);
	poll_all();
}

FZ_NOCOV static void slot_tokens_check(struct slot *s, const struct fz_tok *t)
{
	for (uint32_t i = 0; i < t->len; i++)
		FZ_CHECK(t->data[i] == tf_seq_byte(s->irs + 1 + (uint32_t)(t->stream_off + i)),
			 "byte %llu of the stream (port %u) differs from what was sent%s",
			 (unsigned long long)(t->stream_off + i), s->sport,
			 i ? "" : " (first of its fragment)");
}

FZ_NOCOV static void take_frag(struct slot *s, const struct nm_frag *fr)
{
	struct fz_tok t = { .token = fr->token, .len = fr->len,
			    .stream_off = fr->stream_off, .bufidx = -1 };
	uint64_t size = (uint64_t)F.nbufs * BUF_SIZE;

	FZ_CHECK(fr->len > 0, "an empty fragment");
	FZ_CHECK(fr->stream_off == s->delivered, "fragment at stream offset %llu, expected %llu",
		 (unsigned long long)fr->stream_off, (unsigned long long)s->delivered);
	if (fr->flags & NM_FRAG_DMABUF) {
		FZ_CHECK(fr->binding_id == F.b->id, "fragment of binding %u", fr->binding_id);
		FZ_CHECK(fr->offset + fr->len <= size, "fragment beyond the dmabuf");
		FZ_CHECK(fr->offset % BUF_SIZE + fr->len <= BUF_SIZE,
			 "fragment crosses a buffer boundary");
		t.data = F.cpu + fr->offset;
		t.bufidx = (int64_t)(fr->offset / BUF_SIZE);
	} else {
		FZ_CHECK(fr->flags & NM_FRAG_LINEAR && fr->data, "fragment with no bytes");
		t.data = fr->data;
	}
	if (!s->wild) {
		FZ_CHECK(all_sent(s, (int64_t)t.stream_off, (int64_t)(t.stream_off + t.len)),
			 "bytes [%llu, +%u) delivered but never sent",
			 (unsigned long long)t.stream_off, t.len);
		FZ_CHECK(!s->fin_sent || t.stream_off + t.len <= s->fin_off,
			 "bytes delivered past the peer's FIN");
	}
	slot_tokens_check(s, &t);
	for (int i = 0; i < FZ_SLOTS; i++)
		for (unsigned int k = 0; k < F.sl[i].ntok; k++) {
			const struct fz_tok *o = &F.sl[i].tok[k];

			FZ_CHECK(&F.sl[i] != s || o->token != t.token,
				 "token %u handed out twice", t.token);
			FZ_CHECK(t.bufidx < 0 || o->bufidx != t.bufidx,
				 "dmabuf buffer %lld handed out twice (tokens %u and %u)",
				 (long long)t.bufidx, o->token, t.token);
		}
	FZ_CHECK(s->ntok < MAXTOK, "more than %u tokens out", MAXTOK);
	s->tok[s->ntok++] = t;
	s->delivered += t.len;
}

static void release_all(struct slot *s);

/* One recv call: returns its result. */
static int do_recv(struct slot *s, unsigned int max)
{
	struct nm_frag fr[16];
	int n;

	if (s->st != SL_APP)
		return -EINVAL;
	if (s->ntok + max > MAXTOK)
		release_all(s);
	n = nm_conn_recv(s->c, fr, max);
	if (n > 0) {
		FZ_CHECK((unsigned int)n <= max, "recv returned %d > %u", n, max);
		for (int i = 0; i < n; i++)
			take_frag(s, &fr[i]);
	} else if (n == 0) {
		FZ_CHECK(s->fin_sent && s->delivered == s->fin_off,
			 "end of stream at %llu without the peer's FIN there",
			 (unsigned long long)s->delivered);
		s->eof = true;
	} else {
		FZ_CHECK(n == -EAGAIN || n == -ECONNRESET, "recv returned %d", n);
	}
	return n;
}

static void drain(struct slot *s)
{
	for (int i = 0; i < 4096 && do_recv(s, 16) > 0; i++)
		;
}

static uint64_t tokens_held(struct slot *s)
{
	struct nm_tcp_counters ct;

	nm_conn_counters(s->c, &ct);
	return ct.tokens_held;
}

/* The first @n tokens went back. */
static void tok_drop_front(struct slot *s, unsigned int n)
{
	memmove(s->tok, s->tok + n, (s->ntok - n) * sizeof(s->tok[0]));
	s->ntok -= n;
}

static void do_release(struct slot *s, unsigned int mode)
{
	struct nm_token_range r[MAXTOK + 2];
	unsigned int n = 0, want, i;
	uint32_t maxtok = 0;
	uint64_t before;
	struct nm_err err = { 0 };
	int ret;
	bool bad = mode == 3 || (mode == 4 && s->ntok);

	if (s->st != SL_APP)
		return;
	want = mode == 1 ? (s->ntok + 1) / 2 : mode == 2 || mode == 4 ? !!s->ntok : s->ntok;
	for (i = 0; i < want; i++) {
		slot_tokens_check(s, &s->tok[i]);  /* a held buffer keeps its bytes */
		r[n++] = (struct nm_token_range){ s->tok[i].token, 1 };
	}
	for (i = 0; i < s->ntok; i++)
		if (s->tok[i].token > maxtok)
			maxtok = s->tok[i].token;
	if (mode == 3)
		r[n++] = (struct nm_token_range){ maxtok + 1000, 1 };
	if (mode == 4 && s->ntok)
		r[n++] = r[0];
	before = tokens_held(s);
	ret = nm_conn_release_tokens(s->c, r, n, &err);
	if (bad) {
		FZ_CHECK(ret == -ENOENT, "a release naming a bad token returned %d", ret);
		FZ_CHECK(tokens_held(s) == before, "a refused release freed tokens");
		return;
	}
	FZ_CHECK(ret == (int)want, "release of %u tokens returned %d (%s)", want, ret, err.msg);
	tok_drop_front(s, want);
}

static void release_all(struct slot *s)
{
	do_release(s, 0);
}

static void do_refill(struct slot *s, unsigned int n, bool badtok)
{
	uint32_t t[MAXTOK + 1];
	unsigned int k = 0, pushed;

	if (s->st != SL_APP)
		return;
	if (n > s->ntok)
		n = s->ntok;
	for (unsigned int i = 0; i < n; i++) {
		slot_tokens_check(s, &s->tok[i]);
		t[k++] = s->tok[i].token;
	}
	if (badtok)
		t[k++] = 0x7ffffff0u;
	pushed = nm_conn_refill(s->c, t, k);
	FZ_CHECK(pushed == k, "refill ring took %u of %u", pushed, k);
	tok_drop_front(s, n);
	s->limbo += n;
}

static void slot_close(struct slot *s, bool abort_it)
{
	if (s->st != SL_APP)
		return;
	if (abort_it)
		nm_conn_abort(s->c);
	else
		nm_conn_close(s->c);
	s->c = NULL;
	s->ntok = 0;   /* the stack took them back */
	s->limbo = 0;
	s->st = SL_ORPHAN;
}

/* Hand every established connection to the application: a model peer's
 * to its slot, any other (raw frames, floods) closed at once. */
static void accept_all(void)
{
	struct nm_conn *c;

	while (nm_listener_accept(F.l, &c) == 0) {
		struct nm_conn_info ci;
		struct slot *s;

		nm_conn_get_info(c, &ci);
		s = slot_of_port(ci.peer_port);
		if (s && s->st == SL_SYN && !memcmp(ci.peer_ip, F.peer.ip, F.peer.ipver == 4 ? 4 : 16)) {
			s->st = SL_APP;
			s->c = c;
		} else {
			nm_conn_abort(c);
		}
	}
}

/* ---- the model peers' segments ---- */

static size_t build_opts(uint8_t *o, struct slot *s, bool ts, uint32_t tsval,
			 const uint8_t *junk, size_t njunk)
{
	size_t n = 0;

	if (ts) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 8;
		o[n++] = 10;
		tf_put32(o + n, tsval);
		tf_put32(o + n + 4, s->their_ts);
		n += 8;
	}
	if (njunk > 40 - n)
		njunk = 40 - n;
	if (njunk)   /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(o + n, junk, njunk);
	n += njunk;
	while (n % 4)
		o[n++] = 0;
	return n;
}

FZ_NOCOV static void mark_sent(struct slot *s, int64_t a, int64_t b)
{
	if (b > STREAM_MAX || a >= STREAM_MAX) {
		s->wild = true;
		b = b > STREAM_MAX ? STREAM_MAX : b;
	}
	if (a < 0)
		a = 0;
	for (int64_t o = a; o < b; o++)
		s->sent[o >> 3] |= (uint8_t)(1u << (o & 7));
	while (s->contig < STREAM_MAX && bit(s, s->contig))
		s->contig++;
	if (b > (int64_t)s->hi)
		s->hi = (uint32_t)b;
}

static uint32_t next_ts(struct slot *s, int8_t delta)
{
	s->ts_last += (uint32_t)(int32_t)delta;
	if (s_lt(s->ts_max, s->ts_last))
		s->ts_max = s->ts_last;
	return s->ts_last;
}

FZ_NOCOV static void seq_fill(uint8_t *p, uint32_t len, uint32_t seq)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = tf_seq_byte(seq + i);
}

struct seg_req {
	int64_t off;           /* stream offset of the first byte */
	uint32_t len;
	uint8_t flags;
	bool no_ts, bad_ack, bad_csum;
	int8_t ts_delta;
	const uint8_t *junk;
	size_t njunk;
};

static void send_seg(struct slot *s, struct seg_req *q)
{
	static uint8_t pl[2048];
	uint8_t f[2200], o[40];
	uint32_t seq, ack;
	size_t ol, len;

	/* The model peer is consistent: one FIN, no data beyond it. */
	if (s->fin_sent) {
		if (q->off + q->len > s->fin_off)
			q->len = q->off < s->fin_off ? (uint32_t)(s->fin_off - q->off) : 0;
		if (q->off + q->len != s->fin_off)
			q->flags &= (uint8_t)~TF_FIN;
	} else if ((q->flags & TF_FIN) &&
		   (q->off + q->len < s->hi || q->off + q->len >= STREAM_MAX || q->off < 0)) {
		q->flags &= (uint8_t)~TF_FIN;
	}
	seq = s->irs + 1 + (uint32_t)q->off;
	seq_fill(pl, q->len, seq);
	ack = s->our_iss + 1 + s->our_fin + (q->bad_ack ? 0x10000u : 0);
	if ((q->flags & (TF_SYN | TF_ACK)) == TF_SYN && s->st != SL_SYN)
		q->flags |= TF_ACK;  /* a bare SYN would open a connection the model does not know */
	if ((q->flags & (TF_SYN | TF_ACK)) == TF_SYN) {
		/* Only as the peer's SYN again (its SYN-ACK was lost). */
		seq = s->irs;
		q->len = 0;
		q->flags = TF_SYN;
	}
	ol = build_opts(o, s, !q->no_ts, next_ts(s, q->ts_delta), q->junk, q->njunk);
	len = tf_tcp(&F.peer, f, s->sport, PORT, seq, ack, q->flags, 502, o, ol, pl, q->len);
	if (q->bad_csum)
		f[len - 1] ^= 0x40;  /* the NIC's verdict: bad */
	if (!q->bad_csum) {
		if (q->len)
			mark_sent(s, q->off, q->off + q->len);
		if (q->flags & TF_FIN) {
			s->fin_sent = true;
			s->fin_off = (uint32_t)(q->off + q->len);
		}
		if (q->flags & TF_RST)
			s->rst_sent = true;
	}
	inject(f, len);
}

static void do_syn(struct slot *s, uint8_t opt, uint32_t iss)
{
	uint8_t f[256], o[40];
	size_t n = 0;
	static const uint8_t wsv[4] = { 7, 0, 14, 3 };

	if (s->st == SL_APP)
		slot_close(s, true);
	s->st = SL_FREE;
	memset(s->sent, 0, STREAM_MAX / 8);
	{
		uint8_t *keep = s->sent;

		memset(s, 0, sizeof(*s));
		s->sent = keep;
	}
	s->st = SL_SYN;
	s->sport = (uint16_t)(40001 + F.gen++ % 9000);
	s->irs = opt & 32 ? 0xffffffffu - (iss & 0xffff) : iss;
	s->ts_last = s->ts_max = 5000 + (iss >> 20);
	s->offered_ts = opt & 8;
	s->offered_sack = opt & 4;
	s->offered_ws = opt & 2;
	if (opt & 1) {
		o[n++] = 2;
		o[n++] = 4;
		tf_put16(o + n, 1460);
		n += 2;
	}
	if (opt & 4) {
		o[n++] = 4;
		o[n++] = 2;
	}
	if (opt & 8) {
		o[n++] = 8;
		o[n++] = 10;
		tf_put32(o + n, s->ts_last);
		tf_put32(o + n + 4, 0);
		n += 8;
	}
	if (opt & 2) {
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = wsv[opt >> 6];
	}
	while (n % 4)
		o[n++] = 1;
	inject(f, tf_tcp(&F.peer, f, s->sport, PORT, s->irs, 0, TF_SYN, 64240, o, n, NULL, 0));
	if (opt & 16 || !s->synack)
		return;
	n = build_opts(o, s, s->offered_ts, next_ts(s, 1), NULL, 0);
	inject(f, tf_tcp(&F.peer, f, s->sport, PORT, s->irs + 1, s->our_iss + 1, TF_ACK,
			 502, o, n, NULL, 0));
}

static void do_flood(unsigned int n)
{
	uint8_t f[256], o[40];
	size_t ol = tf_syn_opts(o, 1);

	for (unsigned int i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(50000 + F.flood++ % 10000);

		nm_sim_inject(F.sim, f, tf_tcp(&F.peer, f, port, PORT, F.flood * 7919u, 0,
					       TF_SYN, 64240, o, ol, NULL, 0));
		if (i % 16 == 15)
			poll_all();
	}
	poll_all();
}

static void do_raw(const uint8_t *d, size_t n)
{
	uint8_t f[256];

	memcpy(f, d, n);
	if (n >= 14 && !(d[0] & 1))
		memcpy(f, F.peer.our_mac, 6);
	/* Never from a model peer's address: its connections stay the model's. */
	if (n >= 30 && tf_get16(f + 12) == 0x0800 && !memcmp(f + 26, F.peer.ip, 4))
		f[29] ^= 0x80;
	if (n >= 38 && tf_get16(f + 12) == 0x86dd && !memcmp(f + 22, F.peer.ip, 16))
		f[37] ^= 0x80;
	inject(f, n);
}

static bool nic_dropped(uint64_t *snap)
{
	bool any = false;

	for (uint32_t q = 0; q < 2; q++) {
		struct nm_sim_rxq_stats st;
		uint64_t v;

		nm_sim_rxq_stats(F.sim, q, &st);
		v = st.drop_no_buf + st.drop_too_big + st.drop_stopped + st.dma_faults;
		any |= v != snap[q];
		snap[q] = v;
	}
	return any;
}

/* A segment at rcv_nxt inside the window we told must be taken. */
static uint64_t pool_in_flight(void);

/* The stack holds 3/4 of the pool, its hard limit (lib/tcp/tcp_out.c): it
 * takes no more (but the segment filling a hole), keeping a quarter for
 * the NIC to post. */
static bool stack_at_hard_limit(void)
{
	uint64_t out;

	nm_stack_poll(F.st, 1, 0);
	out = pool_in_flight();
	/* All out: the ring itself is short of buffers (the NIC posts what
	 * comes back), so what the stack holds is at least the pool less a
	 * partial ring. */
	return out >= F.nbufs || (out >= F.ring && 4 * (out - F.ring) >= 3ull * F.nbufs);
}

static void do_live(struct slot *s, uint32_t want)
{
	struct nm_conn_info ci;
	struct seg_req q = { 0 };
	uint64_t snap[2], before;
	uint32_t room, maxseg;
	uint64_t over_share0;
	bool at_limit;

	if (s->st != SL_APP || !s->synack || !s->have_ack || s->rst_sent || s->wild ||
	    s->ts_wild || s->fin_sent)
		return;
	drain(s);
	nm_conn_get_info(s->c, &ci);
	if (strcmp(ci.state, "ESTABLISHED") || s->delivered >= STREAM_MAX - 4096)
		return;
	/* Everything in order has been handed out: rcv_nxt is known. */
	room = s_lt(s->irs + 1 + (uint32_t)s->delivered, s->edge) ?
	       s->edge - (s->irs + 1 + (uint32_t)s->delivered) : 0;
	maxseg = s->mss - (s->ts_ok ? 12 : 0);
	if (want > maxseg)
		want = maxseg;
	if (want > room)
		want = room;
	if (!want)
		return;
	nic_dropped(snap);
	at_limit = stack_at_hard_limit();
	{
		struct nm_tcp_counters ct0;

		nm_conn_counters(s->c, &ct0);
		over_share0 = ct0.over_share;
	}
	before = s->delivered;
	q.off = (int64_t)s->delivered;
	q.len = want;
	q.flags = TF_ACK | TF_PSH;
	q.no_ts = !s->ts_ok;
	s->ts_last = s->ts_max;  /* newest timestamp: PAWS must pass */
	q.ts_delta = 1;
	send_seg(s, &q);
	if (nic_dropped(snap))
		return;  /* the NIC had no buffer: no promise broken */
	if (at_limit)
		return;  /* the queue's hard limit: the NIC's reserve, by design */
	if (want < maxseg / 2 && s->st == SL_APP) {
		struct nm_tcp_counters ct;

		/* A small segment past the connection's share is refused by
		 * design (it costs a whole buffer for a few bytes of window),
		 * counted in over_share. */
		nm_conn_counters(s->c, &ct);
		if (ct.over_share > over_share0)
			return;
	}
	drain(s);
	if (s->st == SL_APP && s->delivered < before + want) {
		struct nm_tcp_counters ct;

		nm_conn_counters(s->c, &ct);
		fz_fail("in-window segment at rcv_nxt (stream %llu, %u bytes, window %u) not "
			"taken: %llu delivered; out_of_buffers %llu ooo_queue_full %llu "
			"over_share %llu out_of_window %llu paws %llu",
			(unsigned long long)before, want, room,
			(unsigned long long)(s->delivered - before),
			(unsigned long long)ct.out_of_buffers,
			(unsigned long long)ct.ooo_queue_full, (unsigned long long)ct.over_share,
			(unsigned long long)ct.out_of_window, (unsigned long long)ct.paws_rejected);
	}
}

/* ---- buffer accounting ---- */

static uint64_t pool_in_flight(void)
{
	struct nm_rxq_info info;

	FZ_MUST(nm_netdev_rxq_info(nm_sim_netdev(F.sim), 1, &info) == 0, "rxq_info");
	FZ_CHECK(info.pool.excess_puts == 0, "%llu buffers put back twice",
		 (unsigned long long)info.pool.excess_puts);
	FZ_CHECK(info.pool.in_flight <= F.nbufs, "%llu buffers out of a pool of %u",
		 (unsigned long long)info.pool.in_flight, F.nbufs);
	return info.pool.in_flight;
}

static void accounting(bool final)
{
	uint64_t in_flight, held_tok = 0, held_model = 0;
	bool quiet = true;

	for (int i = 0; i < FZ_SLOTS; i++) {
		struct slot *s = &F.sl[i];

		if (s->st == SL_APP) {
			uint64_t th = tokens_held(s);

			FZ_CHECK(th >= s->ntok && th <= s->ntok + s->limbo,
				 "connection holds %llu tokens, the application %u (+%u on the refill ring)",
				 (unsigned long long)th, s->ntok, s->limbo);
			if (th == s->ntok)
				s->limbo = 0;
			held_tok += th;
			held_model += s->ntok;
		}
		if ((s->st == SL_APP || s->st == SL_SYN) && s->hi > s->delivered)
			quiet = false;  /* in-order or out-of-order data may be held */
	}
	/* A pass with nothing to take: the NIC reposts every buffer it can,
	 * so below the pool's size exactly @ring are posted. */
	nm_stack_poll(F.st, 1, 0);
	in_flight = pool_in_flight();
	if (in_flight < F.nbufs) {
		uint64_t stack_held;

		FZ_CHECK(in_flight >= F.ring, "%llu buffers out, fewer than the %u posted",
			 (unsigned long long)in_flight, F.ring);
		stack_held = in_flight - F.ring;
		FZ_CHECK(stack_held >= held_model,
			 "the stack holds %llu buffers but the application %llu tokens",
			 (unsigned long long)stack_held, (unsigned long long)held_model);
		if (quiet || final)
			FZ_CHECK(stack_held == held_tok,
				 "the stack holds %llu buffers with nothing queued and %llu tokens out%s",
				 (unsigned long long)stack_held, (unsigned long long)held_tok,
				 final ? " (every connection closed)" : "");
	} else {
		FZ_CHECK(!final, "every buffer still out after every connection closed");
	}
}

/* ---- one input ---- */

static const uint32_t cfg_bufs[4] = { 8, 16, 64, 512 };
static const uint32_t cfg_ring[4] = { 4, 8, 32, 64 };

static void fx_setup(uint8_t cfg)
{
	static const uint8_t mac[6] = { 0x02, 0x6e, 0x6d, 0, 0, 0x0b };
	struct nm_sim_params sp = { .num_rx_queues = 2, .no_hugepages = true };
	struct nm_stack_params p = { 0 };
	struct nm_binding_params bp = { .buf_size = BUF_SIZE };
	int ipver = cfg & 4 ? 6 : 4;
	uint32_t q = 1;
	struct nm_listen_params lp = { .port = PORT, .queues = &q, .num_queues = 1 };
	struct nm_err err = { 0 };
	uint8_t *keep[FZ_SLOTS];
	void *va;

	for (int i = 0; i < FZ_SLOTS; i++)
		keep[i] = F.sl[i].sent;
	memset(&F, 0, sizeof(F));
	for (int i = 0; i < FZ_SLOTS; i++) {
		F.sl[i].sent = keep[i] ? keep[i] : malloc(STREAM_MAX / 8);
		FZ_MUST(F.sl[i].sent, "out of memory");
	}
	F.nbufs = cfg_bufs[cfg & 3];
	F.ring = cfg_ring[cfg & 3];
	sp.ring_size = F.ring;
	sp.pool_size = F.nbufs;
	F.now = 1000000000ull;
#ifdef FZ_KEEP_NIC
	/* libFuzzer: one NIC per configuration for the whole run (making one
	 * clears its host memory, most of an input's time); the stack, the
	 * dmabuf and its binding are still new for every input. */
	static struct nm_sim *nics[4];

	if (!nics[cfg & 3])
		FZ_MUST(nm_sim_create(&sp, &nics[cfg & 3], &err) == 0, "sim: %s", err.msg);
	F.sim = nics[cfg & 3];
#else
	FZ_MUST(nm_sim_create(&sp, &F.sim, &err) == 0, "sim: %s", err.msg);
#endif
	nm_sim_port_init(&F.sp, F.sim, mac, capture, &F);
	tf_peer_init(&F.peer, ipver, mac);
	p.port = &F.sp.port;
	nm_ip_addr_parse(ipver == 4 ? "169.254.0.11/16" : "fe80::11/64", 0, &p.addrs[0], NULL);
	p.num_addrs = 1;
	p.now_ns = fake_now;
	p.now_arg = &F;
	FZ_MUST(nm_stack_create(&p, &F.st, &err) == 0, "stack: %s", err.msg);
	FZ_MUST(nm_dmabuf_create_memfd((uint64_t)F.nbufs * BUF_SIZE, &F.buf, &err) == 0 &&
		 nm_dmabuf_binding_create(nm_sim_netdev(F.sim)->dma, F.buf, &bp, &F.b, &err) == 0 &&
		 nm_dmabuf_cpu_map(F.buf, &va, &err) == 0, "dmabuf: %s", err.msg);
	FZ_MUST(F.b->area.num_niovs == F.nbufs, "binding of %u buffers, not %u",
		 F.b->area.num_niovs, F.nbufs);
	F.cpu = va;
	lp.binding = F.b;
	FZ_MUST(nm_stack_listen(F.st, &lp, &F.l, &err) == 0, "listen: %s", err.msg);
	F.no_buf0 = q1_no_buf();
}

/* The stack's counters summed over every input (what the inputs reach),
 * and the frames queue 1 dropped for want of a buffer. */
static struct nm_stack_counters fz_sums;
static uint64_t fz_nic_no_buf;

uint64_t fz_counters(struct nm_stack_counters *out)
{
	*out = fz_sums;
	return fz_nic_no_buf;
}

static void sum_counters(void)
{
	struct nm_stack_counters sc;
	const uint64_t *a = (const uint64_t *)&sc;
	uint64_t *d = (uint64_t *)&fz_sums;

	nm_stack_counters(F.st, &sc);
	for (size_t i = 0; i < sizeof(sc) / sizeof(uint64_t); i++)
		d[i] += a[i];
}

static void fx_teardown(void)
{
	struct nm_dmabuf_binding *b = F.b;

	for (int i = 0; i < FZ_SLOTS; i++) {
		struct slot *s = &F.sl[i];

		if (s->st != SL_APP)
			continue;
		drain(s);
		release_all(s);
		slot_close(s, true);
	}
	accept_all();
	F.now += 10000000;
	poll_all();
	F.now += 2000000;
	poll_all();
	accounting(true);
	sum_counters();
	fz_nic_no_buf += q1_no_buf() - F.no_buf0;
	nm_dmabuf_binding_get(b);
	nm_stack_destroy(F.st);
	nm_dmabuf_binding_unbind(b);
#ifndef FZ_KEEP_NIC
	nm_sim_destroy(F.sim);
#endif
	FZ_CHECK(nm_net_iov_area_in_use(&b->area) == 0,
		 "%u dmabuf buffers in use after the stack and the NIC are gone",
		 nm_net_iov_area_in_use(&b->area));
	nm_dmabuf_binding_put(b);
	nm_dmabuf_put(F.buf);
}

struct rd {
	const uint8_t *p;
	size_t n;
};

static bool rd_take(struct rd *r, void *out, size_t n)
{
	if (r->n < n)
		return false;
	memcpy(out, r->p, n);
	r->p += n;
	r->n -= n;
	return true;
}

static bool rd_u8(struct rd *r, uint8_t *v) { return rd_take(r, v, 1); }

static bool rd_u32(struct rd *r, uint32_t *v)
{
	uint8_t b[4];

	if (!rd_take(r, b, 4))
		return false;
	*v = tf_get32(b);
	return true;
}

/* One operation; false at the end of the input. */
static bool step(struct rd *r)
{
	uint8_t op, a, b, c, d, e;
	uint32_t w;
	struct slot *s;

	if (!rd_u8(r, &op))
		return false;
	switch (op % FZ_NOPS) {
	case FZ_SYN:
		if (!rd_u8(r, &a) || !rd_u8(r, &b) || !rd_u32(r, &w))
			return false;
		do_syn(&F.sl[a & 3], b, w);
		break;
	case FZ_SEG: {
		struct seg_req q = { 0 };
		uint8_t junk[8];
		int64_t base;

		if (!rd_u8(r, &a) || !rd_u8(r, &b) || !rd_u8(r, &c) || !rd_u8(r, &d) ||
		    !rd_u8(r, &e) || !rd_u32(r, &w))
			return false;
		q.njunk = (e >> 3) & 7;
		if (!rd_take(r, junk, q.njunk))
			return false;
		s = &F.sl[a & 3];
		if (s->st == SL_FREE)
			break;
		base = s->have_ack ? soff(s, s->last_ack) : 0;
		switch ((a >> 2) & 3) {
		case 0: q.off = s->hi; break;
		case 1: q.off = base; break;
		case 2: q.off = base + (int16_t)(w & 0xffff); break;
		default: q.off = soff(s, w); break;
		}
		q.len = (uint32_t)(b | c << 8) % 1601;
		q.flags = (uint8_t)(((a >> 4) & 1 ? TF_FIN : 0) | ((a >> 5) & 1 ? TF_RST : 0) |
				    ((a >> 6) & 1 ? TF_SYN : 0) | ((a >> 7) & 1 ? 0 : TF_ACK) |
				    (q.len ? TF_PSH : 0));
		/* A bare SYN is the peer's SYN again (send_seg); any other
		 * would open a connection the model does not know. */
		q.ts_delta = (int8_t)d;
		q.no_ts = e & 1;
		q.bad_ack = e & 2;
		q.bad_csum = e & 4;
		q.junk = junk;
		if (e & 0x40) {   /* a timestamp from anywhere */
			s->ts_last = w * 2654435761u;
			s->ts_wild = true;
		}
		send_seg(s, &q);
		break;
	}
	case FZ_RECV:
		if (!rd_u8(r, &a))
			return false;
		do_recv(&F.sl[a & 3], 1 + ((a >> 2) & 15));
		break;
	case FZ_RELEASE:
		if (!rd_u8(r, &a))
			return false;
		do_release(&F.sl[a & 3], ((unsigned int)a >> 2) % 5);
		break;
	case FZ_REFILL:
		if (!rd_u8(r, &a))
			return false;
		do_refill(&F.sl[a & 3], (a >> 2) & 31, a & 0x80);
		break;
	case FZ_CLOCK:
		if (!rd_u8(r, &a))
			return false;
		F.now += a == 255 ? 60000000000ull : (1ull << (a & 31)) * (1u + (a >> 5));
		poll_all();
		break;
	case FZ_CLOSE:
		if (!rd_u8(r, &a))
			return false;
		slot_close(&F.sl[a & 3], a & 4);
		break;
	case FZ_RAW: {
		uint8_t f[256];

		if (!rd_u8(r, &a) || !rd_take(r, f, a))
			return false;
		do_raw(f, a);
		break;
	}
	case FZ_LIVE:
		if (!rd_u8(r, &a) || !rd_u8(r, &b) || !rd_u8(r, &c))
			return false;
		do_live(&F.sl[a & 3], 1 + (uint32_t)(b | c << 8) % 1460);
		break;
	case FZ_FLOOD:
		if (!rd_u8(r, &a))
			return false;
		do_flood(a & 63);
		break;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };
	uint8_t cfg;

	if (!rd_u8(&r, &cfg))
		return 0;
	fx_setup(cfg);
	for (F.op = 1; F.op <= 4096 && step(&r); F.op++) {
		accept_all();
		accounting(false);
	}
	fx_teardown();
	return 0;
}
