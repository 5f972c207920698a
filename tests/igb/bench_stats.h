/* SPDX-License-Identifier: MIT */
/* What both receive benchmarks (ours and DPDK's PMD) measure with, so the two
 * figures are taken the same way. */
#ifndef IGB_BENCH_STATS_H
#define IGB_BENCH_STATS_H

#include <stdlib.h>
#include <time.h>

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

#endif
