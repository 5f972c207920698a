/* SPDX-License-Identifier: MIT */
/*
 * The net_iov area's lock-free free list (a stack in the free descriptors):
 * order, all-or-nothing takes, counts, double frees caught, the large
 * (mapped) layout and its size, and several threads taking and giving at
 * once with every buffer owned by at most one of them at any time and every
 * count back where it started. Runs under ASan and TSan as well.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netmem/net_iov.h>

#include "nm_test.h"

static void test_order_and_counts(void)
{
	struct nm_net_iov_area a;
	nm_netmem_ref refs[10];
	uint32_t idx[10];

	CHECK_EQ(nm_net_iov_area_init(&a, 10, 4096, 0, 0x100000, NULL, false, NULL), 0);
	CHECK_EQ(sizeof(struct nm_net_iov), 16);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 0);
	/* The device fills the area front first: 0, 1, 2, ... */
	CHECK_EQ(nm_net_iov_area_alloc(&a, refs, 3), 3);
	for (int i = 0; i < 3; i++) {
		CHECK(nm_netmem_is_net_iov(refs[i]));
		CHECK_EQ(nm_netmem_to_net_iov(refs[i])->index, i);
		CHECK_EQ(nm_netmem_dma_addr(refs[i]), 0x100000 + 4096 * i);
		CHECK_EQ(atomic_load(&nm_netmem_to_net_iov(refs[i])->pp_ref_count), 1);
	}
	CHECK_EQ(nm_net_iov_area_in_use(&a), 3);
	/* Up to n: the 7 left. */
	CHECK_EQ(nm_net_iov_area_alloc(&a, refs + 3, 9), 7);
	CHECK_EQ(nm_net_iov_area_alloc(&a, refs, 1), 0);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 10);
	nm_net_iov_area_free(&a, refs, 10);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 0);
	/* Free: the count holds the list's link, negative. */
	CHECK(atomic_load(&a.niovs[4].pp_ref_count) < 0);
	/* Exact takes: all or nothing, nothing taken on refusal. */
	CHECK_EQ(nm_net_iov_area_take(&a, idx, 8, true), 8);
	CHECK_EQ(nm_net_iov_area_take(&a, idx + 8, 3, true), 0);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 8);
	CHECK_EQ(nm_net_iov_area_take(&a, idx + 8, 3, false), 2);
	/* One batch freed comes back in the order it was freed. */
	for (int i = 0; i < 10; i++)
		CHECK_EQ(idx[i], i);
	CHECK_EQ(atomic_load(&a.niovs[4].pp_ref_count), 0);
	nm_net_iov_area_give(&a, idx, 10);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 0);
	/* Buffers not contiguous in IOVA (another allocator's objects): the
	 * area's table gives each one's; the offset stays the index's. */
	{
		uint64_t iovas[10];

		for (int i = 0; i < 10; i++)
			iovas[i] = 0x7000000 - 0x10000 * (uint64_t)i;
		a.iovas = iovas;
		CHECK_EQ(nm_net_iov_area_alloc(&a, refs, 10), 10);
		for (int i = 0; i < 10; i++) {
			struct nm_net_iov *niov = nm_netmem_to_net_iov(refs[i]);

			CHECK_EQ(nm_netmem_dma_addr(refs[i]), iovas[niov->index]);
			CHECK_EQ(nm_net_iov_offset(niov), 4096 * (uint64_t)niov->index);
			CHECK(nm_net_iov_owner(niov) == &a);
		}
		nm_net_iov_area_free(&a, refs, 10);
		a.iovas = NULL;
	}
	nm_net_iov_area_fini(&a);
	CHECK(a.niovs == NULL);
	nm_net_iov_area_fini(&a);   /* twice is harmless */
	CHECK_EQ(nm_net_iov_area_init(&a, 0, 4096, 0, 0, NULL, false, NULL), -EINVAL);
}

/*
 * The stack across batches and with fresh buffers: the last batch freed
 * comes back first; an exact take that cannot be met (some on the stack,
 * too few fresh) takes nothing and leaves the stack as it was.
 */
static void test_stack_and_fresh(void)
{
	struct nm_net_iov_area a;
	uint32_t idx[8], back[3] = { 2, 0, 1 }, more[1] = { 4 };

	CHECK_EQ(nm_net_iov_area_init(&a, 8, 4096, 0, 0, NULL, false, NULL), 0);
	CHECK_EQ(nm_net_iov_area_take(&a, idx, 5, true), 5);       /* 0..4 */
	nm_net_iov_area_give(&a, back, 3);
	nm_net_iov_area_give(&a, more, 1);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 1);
	/* 4 on the stack and 3 fresh: 8 cannot be met. */
	CHECK_EQ(nm_net_iov_area_take(&a, idx, 8, true), 0);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 1);
	/* 7 can: the last batch first (4), the one before in its order
	 * (2, 0, 1), then the fresh ones in order (5, 6, 7). */
	CHECK_EQ(nm_net_iov_area_take(&a, idx, 7, true), 7);
	CHECK_EQ(idx[0], 4);
	CHECK_EQ(idx[1], 2);
	CHECK_EQ(idx[2], 0);
	CHECK_EQ(idx[3], 1);
	CHECK_EQ(idx[4], 5);
	CHECK_EQ(idx[6], 7);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 8);
	CHECK_EQ(nm_net_iov_area_take(&a, idx + 7, 1, false), 0);
	idx[7] = 3;
	nm_net_iov_area_give(&a, idx, 8);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 0);
	nm_net_iov_area_fini(&a);
}

enum bad_free { FREE_TWICE, GIVE_TWICE, GIVE_NEVER_TAKEN };

static void bad_free_child(enum bad_free how)
{
	struct nm_net_iov_area a;
	nm_netmem_ref refs[4];
	uint32_t idx[2];

	if (nm_net_iov_area_init(&a, 8, 4096, 0, 0, NULL, false, NULL))
		return;
	switch (how) {
	case FREE_TWICE:
		/* Two out: the count alone would allow the second free. */
		if (nm_net_iov_area_alloc(&a, refs, 2) != 2)
			return;
		nm_net_iov_area_free(&a, refs, 1);
		nm_net_iov_area_free(&a, refs, 1);
		break;
	case GIVE_TWICE:
		if (nm_net_iov_area_take(&a, idx, 2, true) != 2)
			return;
		nm_net_iov_area_give(&a, idx + 1, 1);
		nm_net_iov_area_give(&a, idx + 1, 1);
		break;
	case GIVE_NEVER_TAKEN:
		if (nm_net_iov_area_take(&a, idx, 1, true) != 1)
			return;
		idx[1] = 6;
		nm_net_iov_area_give(&a, idx + 1, 1);
		break;
	}
}

/* A double free aborts at that free, naming the buffer (a child process
 * each; its stderr read back). */
static void test_double_free_caught(void)
{
	static const struct { enum bad_free how; const char *says; } cases[] = {
		{ FREE_TWICE, "buffer 0 given back twice" },
		{ GIVE_TWICE, "buffer 1 given back twice" },
		{ GIVE_NEVER_TAKEN, "buffer 6 given back that was never handed out" },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char log[512];
		ssize_t len = 0, k;
		int fds[2], status;
		pid_t pid;

		CHECK_EQ(pipe(fds), 0);
		fflush(stdout);
		pid = fork();
		CHECK(pid >= 0);
		if (!pid) {
			close(fds[0]);
			dup2(fds[1], STDERR_FILENO);
			bad_free_child(cases[c].how);
			_exit(0);       /* not caught */
		}
		close(fds[1]);
		while (len < (ssize_t)sizeof(log) - 1 &&
		       (k = read(fds[0], log + len, sizeof(log) - 1 - len)) > 0)
			len += k;
		log[len] = 0;
		close(fds[0]);
		CHECK_EQ(waitpid(pid, &status, 0), pid);
		CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
			  "case %zu: child status 0x%x, stderr: %s", c, status, log);
		CHECK_MSG(strstr(log, cases[c].says), "case %zu said: %s", c, log);
	}
}

/* 2 Mi buffers: 32 MiB of metadata, the mapped (huge page) layout. */
static void test_large_area(void)
{
	struct nm_net_iov_area a;
	const uint32_t num = 2u << 20;
	uint32_t *idx = malloc(num * sizeof(*idx));
	uint8_t *seen = calloc(num, 1);

	CHECK(idx && seen);
	CHECK_EQ(nm_net_iov_area_init(&a, num, 4096, 0, 0, NULL, false, NULL), 0);
	CHECK(a.map_len > 0);
	/* 16 B per buffer and nothing else per buffer: the head line, the
	 * descriptors and the list's line, in whole 2 MiB pages. */
	CHECK_EQ(a.map_len, (NM_NET_IOV_HEAD + (size_t)num * 16 + 64 + (2u << 20) - 1) &
			    ~(size_t)((2u << 20) - 1));
	/* Creating it wrote nothing per buffer: of its 32 MiB, at most the
	 * (huge) pages with the area's head line and the list's head are in
	 * memory. */
	{
		size_t pages = a.map_len / 4096, resident = 0;
		unsigned char *vec = malloc(pages);

		CHECK(vec && mincore((uint8_t *)a.niovs - NM_NET_IOV_HEAD, a.map_len, vec) == 0);
		for (size_t i = 0; i < pages; i++)
			resident += vec[i] & 1;
		CHECK_MSG(resident * 4096 <= (4u << 20), "%zu KiB resident after create",
			  resident * 4);
		free(vec);
	}
	CHECK_EQ(nm_net_iov_area_take(&a, idx, num, true), num);
	for (uint32_t i = 0; i < num; i++) {
		CHECK(idx[i] < num && !seen[idx[i]]);
		seen[idx[i]] = 1;
	}
	/* Handed out in order from a fresh area, each descriptor written. */
	CHECK_EQ(idx[0], 0);
	CHECK_EQ(idx[num - 1], num - 1);
	CHECK_EQ(a.niovs[num - 1].index, num - 1);
	CHECK_EQ(nm_net_iov_dma_addr(&a.niovs[num - 1]), (uint64_t)(num - 1) * 4096);
	CHECK(nm_net_iov_owner(&a.niovs[num - 1]) == &a);
	CHECK(nm_net_iov_owner(&a.niovs[0]) == &a);
	CHECK_EQ(nm_net_iov_area_in_use(&a), num);
	nm_net_iov_area_give(&a, idx, num);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 0);
	nm_net_iov_area_fini(&a);
	free(idx);
	free(seen);
}

#define THREADS 4
#define ROUNDS 20000
#define NUM 128     /* fewer than the threads can hold: takes run dry */

struct stress {
	struct nm_net_iov_area a;
	atomic_int owner[NUM];      /* 0 free, else thread id + 1 */
	atomic_uint double_handout;
	atomic_uint short_exact;
};

struct worker {
	struct stress *s;
	int id;
	unsigned int seed;
	unsigned long taken;
};

static void *stress_worker(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	uint32_t idx[64];
	nm_netmem_ref refs[64];

	for (int r = 0; r < ROUNDS; r++) {
		unsigned int n = 1 + rand_r(&w->seed) % 64;
		bool by_ref = r & 1, exact = r & 2;
		unsigned int got;

		if (by_ref) {
			got = nm_net_iov_area_alloc(&s->a, refs, n);
			for (unsigned int i = 0; i < got; i++)
				idx[i] = nm_netmem_to_net_iov(refs[i])->index;
		} else {
			got = nm_net_iov_area_take(&s->a, idx, n, exact);
			if (exact && got && got != n)
				atomic_fetch_add(&s->short_exact, 1);
		}
		for (unsigned int i = 0; i < got; i++) {
			int prev = atomic_exchange(&s->owner[idx[i]], w->id + 1);

			if (prev)
				atomic_fetch_add(&s->double_handout, 1);
		}
		w->taken += got;
		for (unsigned int i = 0; i < got; i++)
			atomic_store(&s->owner[idx[i]], 0);
		if (by_ref)
			nm_net_iov_area_free(&s->a, refs, got);
		else
			nm_net_iov_area_give(&s->a, idx, got);
	}
	return NULL;
}

static void test_threads_conserve_buffers(void)
{
	static struct stress s;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	unsigned long total = 0;
	uint32_t idx[NUM];
	uint8_t seen[NUM] = { 0 };

	CHECK_EQ(nm_net_iov_area_init(&s.a, NUM, 2048, 0, 0, NULL, false, NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .s = &s, .id = i, .seed = 12345u + (unsigned int)i };
		CHECK_EQ(pthread_create(&t[i], NULL, stress_worker, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		total += w[i].taken;
	}
	printf("# %d threads, %lu buffers taken and given back\n", THREADS, total);
	CHECK(total > (unsigned long)THREADS * ROUNDS);
	CHECK_EQ(atomic_load(&s.double_handout), 0);
	CHECK_EQ(atomic_load(&s.short_exact), 0);
	CHECK_EQ(nm_net_iov_area_in_use(&s.a), 0);
	/* Every buffer is back exactly once. */
	CHECK_EQ(nm_net_iov_area_take(&s.a, idx, NUM, true), NUM);
	for (int i = 0; i < NUM; i++) {
		CHECK(idx[i] < NUM && !seen[idx[i]]);
		seen[idx[i]] = 1;
	}
	CHECK_EQ(nm_net_iov_area_take(&s.a, idx, 1, false), 0);
	nm_net_iov_area_give(&s.a, idx, NUM);
	nm_net_iov_area_fini(&s.a);
}

NM_TEST_MAIN(
	NM_TEST(test_order_and_counts),
	NM_TEST(test_stack_and_fresh),
	NM_TEST(test_double_free_caught),
	NM_TEST(test_large_area),
	NM_TEST(test_threads_conserve_buffers),
)
