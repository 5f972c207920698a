/* SPDX-License-Identifier: MIT */
/* netmem-bench's pieces shared by its two files. */
#ifndef NETMEM_BENCH_H
#define NETMEM_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* This thread's CPU time (its page faults included, preemption not: on a
 * shared machine wall time also counts other jobs' turns). */
static inline double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline double min_d(double a, double b)
{
	return a < b ? a : b;
}

/* Host bytes per buffer: its descriptor (bind.c). */
size_t meta_per_buf(void);
/* Binding create + unbind against size, then the descriptor area alone. */
int bind_scaling(uint64_t max, const char *sources, int vfio_group);
/* The first hand-out of every buffer of a fresh binding, against size. */
int first_use(uint64_t max);

#endif
