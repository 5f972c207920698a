/* SPDX-License-Identifier: MIT */
/*
 * The reassembly queue and what the SACK option says of it.
 *
 * Segments beyond a hole stay in the buffers the NIC wrote, sorted by
 * sequence number; overlaps are trimmed by moving a segment's offset and
 * length inside its buffer, so the payload is never read or copied. The
 * queue grows to the whole window (the window admits at most one buffer
 * per segment, and never more than NM_OOO_MAX): a sender that loses one
 * segment of a full window never has the rest dropped for lack of room.
 *
 * Beside it, the runs: the queue's contiguous byte ranges, each stamped
 * when a segment last joined it. They are the SACK blocks, merged and
 * exact, most recent first (RFC 2018 4, which RACK relies on); a duplicate
 * is reported first of all, once (D-SACK, RFC 2883), so that a sender
 * whose retransmission was spurious learns it and widens its reordering
 * window instead of retransmitting again.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

#define OOO_INIT 16

static bool ooo_grow(struct nm_conn *c)
{
	uint32_t ncap = c->ooo_cap ? 2 * c->ooo_cap : OOO_INIT;
	struct seg *o;
	struct sack_run *r;

	if (c->ooo_cap >= NM_OOO_MAX)
		return false;
	if (ncap > NM_OOO_MAX)
		ncap = NM_OOO_MAX;
	o = realloc(c->ooo, ncap * sizeof(*o));
	if (!o)
		return false;
	c->ooo = o;
	/* A run holds at least one segment: as many runs as segments. */
	r = realloc(c->runs, ncap * sizeof(*r));
	if (!r)
		return false;
	c->runs = r;
	c->ooo_cap = ncap;
	return true;
}

/* Report [start, end) as a duplicate in the next ACK. */
void dsack_note(struct nm_conn *c, uint32_t start, uint32_t end)
{
	if (seq_lt(start, c->irs + 1))
		start = c->irs + 1;  /* nothing before the stream was ever sent */
	if (!c->sack_ok || !seq_lt(start, end))
		return;
	c->dsack = true;
	c->dsack_start = start;
	c->dsack_end = end;
}

/* The run holding @seq, or -1. */
static int run_find(const struct nm_conn *c, uint32_t seq)
{
	uint32_t lo = 0, hi = c->nruns;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (seq_lt(seq, c->runs[mid].start))
			hi = mid;
		else if (seq_le(c->runs[mid].end, seq))
			lo = mid + 1;
		else
			return (int)mid;
	}
	return -1;
}

/* [start, end) joined the queue: union it into the runs, stamp the run. */
static void runs_add(struct nm_conn *c, uint32_t start, uint32_t end)
{
	uint32_t i = 0, j;

	/* First run that ends at or after @start (adjacent runs merge). */
	while (i < c->nruns && seq_lt(c->runs[i].end, start))
		i++;
	j = i;
	/* Runs that start at or before @end merge with it. */
	while (j < c->nruns && seq_le(c->runs[j].start, end)) {
		if (seq_lt(c->runs[j].start, start))
			start = c->runs[j].start;
		if (seq_lt(end, c->runs[j].end))
			end = c->runs[j].end;
		j++;
	}
	if (j > i) {
		/* runs[i..j) become one, in place of runs[i]. */
		memmove(&c->runs[i + 1], &c->runs[j], (c->nruns - j) * sizeof(c->runs[0]));
		c->nruns -= j - i - 1;
	} else {
		memmove(&c->runs[i + 1], &c->runs[i], (c->nruns - i) * sizeof(c->runs[0]));
		c->nruns++;
	}
	c->runs[i].start = start;
	c->runs[i].end = end;
	c->runs[i].stamp = ++c->run_stamp;
}

/* Runs wholly at or below rcv_nxt are acknowledged now: they go. */
static void runs_trim(struct nm_conn *c)
{
	uint32_t k = 0;

	while (k < c->nruns && seq_le(c->runs[k].end, c->rcv_nxt))
		k++;
	if (k) {
		memmove(&c->runs[0], &c->runs[k], (c->nruns - k) * sizeof(c->runs[0]));
		c->nruns -= k;
	}
	if (c->nruns && seq_lt(c->runs[0].start, c->rcv_nxt))
		c->runs[0].start = c->rcv_nxt;
}

/* First queue index whose segment starts after @seq. */
static uint32_t ooo_upper(const struct nm_conn *c, uint32_t seq)
{
	uint32_t lo = 0, hi = c->ooo_count;

	/* Most segments arrive past the last one: look there first. */
	if (!hi || seq_lt(c->ooo[hi - 1].seq, seq))
		return hi;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (seq_le(c->ooo[mid].seq, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

enum ooo_verdict ooo_insert(struct nm_conn *c, struct seg *sg)
{
	uint32_t i = ooo_upper(c, sg->seq), k;

	if (i) {
		const struct seg *p = &c->ooo[i - 1];
		uint32_t pend = p->seq + p->len;

		if (seq_le(sg->seq + sg->len, pend)) {
			int r = run_find(c, sg->seq);

			dsack_note(c, sg->seq, sg->seq + sg->len);
			if (r >= 0)
				c->runs[r].stamp = ++c->run_stamp;
			return OOO_DUP;
		}
		if (seq_lt(sg->seq, pend)) {
			uint32_t d = pend - sg->seq;

			dsack_note(c, sg->seq, pend);
			sg->off += d;
			sg->len -= d;
			sg->seq = pend;
			c->ctr.partial_dup++;
		}
	}
	/* Segments this one covers entirely are replaced by it. */
	for (k = i; k < c->ooo_count &&
	     seq_le(c->ooo[k].seq + c->ooo[k].len, sg->seq + sg->len); k++) {
		conn_release_buf(c, c->ooo[k].buf);
		c->ctr.partial_dup++;
	}
	if (k > i) {
		memmove(&c->ooo[i], &c->ooo[k], (c->ooo_count - k) * sizeof(*sg));
		c->ooo_count -= k - i;
	}
	if (i < c->ooo_count && seq_lt(c->ooo[i].seq, sg->seq + sg->len)) {
		sg->len = c->ooo[i].seq - sg->seq;
		c->ctr.partial_dup++;
	}
	if (!sg->len) {
		/* Duplicate across two held segments: the run holding the
		 * D-SACK block comes right after it (RFC 2883). */
		int r = run_find(c, c->dsack_start);

		if (c->dsack && r >= 0)
			c->runs[r].stamp = ++c->run_stamp;
		return OOO_DUP;  /* never queue an empty segment */
	}
	if (c->ooo_count == c->ooo_cap && !ooo_grow(c)) {
		c->ctr.ooo_queue_full++;
		return OOO_FULL;
	}
	memmove(&c->ooo[i + 1], &c->ooo[i], (c->ooo_count - i) * sizeof(*sg));
	c->ooo[i] = *sg;
	c->ooo_count++;
	runs_add(c, sg->seq, sg->seq + sg->len);
	return OOO_KEPT;
}

/* The hole before the queue's head has filled: move what is in order now
 * to the ready ring (one memmove for the whole run). */
void ooo_pull(struct nm_conn *c)
{
	uint32_t k = 0;

	while (k < c->ooo_count && seq_le(c->ooo[k].seq, c->rcv_nxt) &&
	       c->rd_count < NM_READY_CAP) {
		struct seg sg = c->ooo[k++];

		if (seq_le(sg.seq + sg.len, c->rcv_nxt)) {
			conn_release_buf(c, sg.buf);
			continue;
		}
		if (seq_lt(sg.seq, c->rcv_nxt)) {
			uint32_t d = c->rcv_nxt - sg.seq;

			sg.off += d;
			sg.len -= d;
			sg.seq = c->rcv_nxt;
		}
		ready_push(c, &sg);
	}
	if (k) {
		memmove(&c->ooo[0], &c->ooo[k], (c->ooo_count - k) * sizeof(c->ooo[0]));
		c->ooo_count -= k;
	}
	runs_trim(c);
}

/* Everything past @seq goes (data beyond the peer's FIN). */
void ooo_cut(struct nm_conn *c, uint32_t seq)
{
	while (c->ooo_count) {
		struct seg *sg = &c->ooo[c->ooo_count - 1];

		if (seq_le(sg->seq + sg->len, seq))
			break;
		if (seq_lt(sg->seq, seq)) {
			sg->len = seq - sg->seq;
			break;
		}
		conn_release_buf(c, sg->buf);
		c->ooo_count--;
		c->ctr.past_fin++;
	}
	while (c->nruns && seq_le(seq, c->runs[c->nruns - 1].start))
		c->nruns--;
	if (c->nruns && seq_lt(seq, c->runs[c->nruns - 1].end))
		c->runs[c->nruns - 1].end = seq;
}

/* Renege (RFC 2018 8): the queue's buffers go back to the pool. Nothing
 * in it was acknowledged; the sender retransmits what it needs. */
void conn_prune_ooo(struct nm_conn *c)
{
	for (uint32_t i = 0; i < c->ooo_count; i++)
		conn_release_buf(c, c->ooo[i].buf);
	c->ooo_count = 0;
	c->nruns = 0;
}

/* Give back out-of-order buffers from the far end until @keep are held
 * (the segments nearest the hole are the ones a sender fills first).
 * Returns how many went. */
uint32_t ooo_shrink(struct nm_conn *c, uint32_t keep)
{
	uint32_t n = 0;

	while (c->ooo_count && c->held > keep) {
		conn_release_buf(c, c->ooo[--c->ooo_count].buf);
		n++;
	}
	if (n)
		ooo_cut(c, c->ooo_count ? c->ooo[c->ooo_count - 1].seq +
				      c->ooo[c->ooo_count - 1].len : c->rcv_nxt);
	return n;
}

unsigned int sack_blocks(struct nm_conn *c, uint32_t (*blk)[2], unsigned int max)
{
	unsigned int n = 0;
	uint32_t below = UINT32_MAX;

	if (c->dsack && n < max) {
		blk[n][0] = c->dsack_start;
		blk[n][1] = c->dsack_end;
		n++;
		c->dsack = false;
		c->ctr.dsacks_sent++;
	}
	/* Most recent first: the n-th block is the run with the n-th
	 * highest stamp (few runs: one pass per block). */
	while (n < max) {
		int best = -1;

		for (uint32_t i = 0; i < c->nruns; i++)
			if (c->runs[i].stamp < below &&
			    (best < 0 || c->runs[i].stamp > c->runs[best].stamp))
				best = (int)i;
		if (best < 0)
			break;
		blk[n][0] = c->runs[best].start;
		blk[n][1] = c->runs[best].end;
		below = c->runs[best].stamp;
		n++;
	}
	return n;
}
