/* SPDX-License-Identifier: MIT */
/* What both receive benchmarks (ours and DPDK's PMD) measure with, so the two
 * figures are taken the same way. */
#ifndef IGB_BENCH_STATS_H
#define IGB_BENCH_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_MAX_ROUNDS 1000

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of the rounds' cycles per packet: a round the host
 * preempted (TCG's TSC runs on) does not move it. */
static inline double median(double *v, unsigned long n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One receive run. Stream mode (rounds 0): count until the flow has been idle
 * for idle_ms. Drain mode: each round starts when a line arrives on @go (the
 * sender has queued per_round frames meanwhile) and ends when they are all
 * polled; its cycles per packet go into cpp[].
 */
struct bench {
	const char *name;
	unsigned long idle_ms, rounds, per_round;
	FILE *go;
	unsigned long round, in_round;
	uint64_t pkts, busy, round_busy, round_pkts;
	double first, last;
	double cpp[BENCH_MAX_ROUNDS];
};

static inline void bench_end_round(struct bench *b)
{
	b->in_round = 0;
	b->cpp[b->round - 1] = b->round_pkts ?
		(double)b->round_busy / (double)b->round_pkts : 0;
	b->round_busy = b->round_pkts = 0;
}

/* Before each poll: false when the run is over (no more rounds). */
static inline bool bench_next(struct bench *b)
{
	char line[16];

	if (!b->rounds || b->in_round)
		return true;
	if (b->round == b->rounds || !fgets(line, sizeof(line), b->go))
		return false;
	b->round++;
	b->last = now_s();
	return true;
}

/* After an empty poll: false when a stream run has gone idle. */
static inline bool bench_idle(struct bench *b)
{
	if ((b->pkts || b->rounds) && (now_s() - b->last) * 1000 > (double)b->idle_ms) {
		if (!b->rounds)
			return false;
		printf("%s: round %lu: only %lu of %lu frames\n", b->name, b->round,
		       b->in_round, b->per_round);
		bench_end_round(b);
	}
	return true;
}

/* After a poll that returned @n frames in @t cycles. */
static inline void bench_count(struct bench *b, unsigned int n, uint64_t t)
{
	b->busy += t;
	b->round_busy += t;
	b->round_pkts += n;
	if (!b->pkts)
		b->first = now_s();
	b->last = now_s();
	b->pkts += n;
	if (b->rounds && (b->in_round += n) >= b->per_round) {
		bench_end_round(b);
		printf("%s: round %lu drained\n", b->name, b->round);
		fflush(stdout);
	}
}

#endif
