/* SPDX-License-Identifier: MIT */
/* Page pool: fast path, limits, ring recycle, deferred destroy, stress. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netmem/netmem.h>

#include "nm_test.h"
#include "pp_fixture.h"

static void test_fast_path_counts(void)
{
	struct fixture f;
	struct nm_page_pool_stats st;
	nm_netmem_ref a, b;

	CHECK_EQ(fixture_up(&f, 1024, 256), 0);
	CHECK_EQ(atomic_load(&inits), 1);
	a = nm_page_pool_alloc_netmem(f.pool);
	CHECK(a != 0);
	CHECK(!nm_netmem_is_net_iov(a));       /* host memory is readable */
	CHECK(nm_netmem_address(a) != NULL);
	CHECK_EQ(nm_netmem_to_net_iov(a)->pp, f.pool);
	nm_page_pool_put_netmem(f.pool, a, true);
	b = nm_page_pool_alloc_netmem(f.pool);
	CHECK_EQ(a, b);                         /* LIFO cache: same buffer */
	nm_page_pool_put_netmem(f.pool, b, true);
	nm_page_pool_get_stats(f.pool, &st);
	CHECK_EQ(st.alloc_slow, 1);
	CHECK_EQ(st.alloc_fast, 1);
	CHECK_EQ(st.alloc_provider, NM_PP_REFILL);
	CHECK_EQ(st.recycle_cached, 2);
	CHECK_EQ(st.in_flight, 0);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), NM_PP_REFILL);
	nm_page_pool_destroy(f.pool);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

static void test_pool_size_is_a_hard_limit(void)
{
	struct fixture f;
	static nm_netmem_ref held[300];
	struct nm_page_pool_stats st;
	unsigned int n = 0;

	CHECK_EQ(fixture_up(&f, 1024, 200), 0);
	while (n < 300 && (held[n] = nm_page_pool_alloc_netmem(f.pool)))
		n++;
	CHECK_EQ(n, 200);
	nm_page_pool_get_stats(f.pool, &st);
	CHECK(st.alloc_empty >= 1);
	CHECK_EQ(st.in_flight, 200);
	/* Puts from "another thread" go through the ring, and come back. */
	for (unsigned int i = 0; i < n; i++)
		nm_netmem_put(held[i]);
	n = nm_page_pool_alloc_netmems(f.pool, held, 200);
	CHECK_EQ(n, 200);
	nm_page_pool_get_stats(f.pool, &st);
	CHECK_EQ(st.recycle_ring, 200);
	CHECK_EQ(st.alloc_provider, 200);       /* nothing new from the provider */
	nm_page_pool_put_netmem_bulk(f.pool, held, n, true);
	nm_page_pool_destroy(f.pool);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

static void test_shared_buffer_recycles_on_last_put(void)
{
	struct fixture f;
	struct nm_page_pool_stats st;
	nm_netmem_ref a;

	CHECK_EQ(fixture_up(&f, 256, 64), 0);
	a = nm_page_pool_alloc_netmem(f.pool);
	nm_netmem_get(a);                       /* two users now */
	nm_page_pool_put_netmem(f.pool, a, true);
	nm_page_pool_get_stats(f.pool, &st);
	CHECK_EQ(st.recycle_cached, 0);          /* still held by the other */
	CHECK_EQ(st.in_flight, 1);
	nm_page_pool_put_netmem(f.pool, a, true);
	nm_page_pool_get_stats(f.pool, &st);
	CHECK_EQ(st.recycle_cached, 1);
	/* Back in the pool: the release build keeps 1, a debug build marks 0. */
	CHECK_EQ(atomic_load(&nm_netmem_to_net_iov(a)->pp_ref_count),
		 NM_DEBUG_REFCOUNT ? 0 : 1);
	nm_page_pool_destroy(f.pool);
	fixture_down(&f);
}

static void test_destroy_waits_for_buffers_in_flight(void)
{
	struct fixture f;
	nm_netmem_ref held[10];

	CHECK_EQ(fixture_up(&f, 256, 64), 0);
	CHECK_EQ(nm_page_pool_alloc_netmems(f.pool, held, 10), 10);
	nm_page_pool_destroy(f.pool);
	/* Ten buffers out: the provider must not be told yet. */
	CHECK_EQ(atomic_load(&destroys), 0);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 10);
	for (int i = 0; i < 9; i++)
		nm_netmem_put(held[i]);
	CHECK_EQ(atomic_load(&destroys), 0);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 1);
	nm_netmem_put(held[9]);
	CHECK_EQ(atomic_load(&destroys), 1);     /* exactly once, at the last */
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

/*
 * A buffer put back twice, with the ring already holding everything the
 * pool handed out: the second put used to wait forever for a ring slot.
 * Now it is refused, counted and reported, and the pool stays whole.
 */
static void test_excess_put_is_reported_not_hung(void)
{
	struct fixture f;
	struct nm_page_pool_stats st;
	static nm_netmem_ref held[64], again[64];

	CHECK_EQ(fixture_up(&f, 256, 64), 0);
	CHECK_EQ(nm_page_pool_alloc_netmems(f.pool, held, 64), 64);
	CHECK_EQ(nm_page_pool_alloc_netmem(f.pool), 0);   /* the pool's limit */
	for (int i = 0; i < 64; i++)
		nm_netmem_put(held[i]);                     /* through the ring */
	/* The double put, where a release build's second nm_netmem_put()
	 * goes (a debug build stops that put before: the next test). */
	nm_page_pool_return_bulk(f.pool, &held[0], 1);
	nm_page_pool_get_stats(f.pool, &st);
	CHECK_EQ(st.excess_puts, 1);
	/* The pool hands out its 64 buffers, each once, and no more. */
	CHECK_EQ(nm_page_pool_alloc_netmems(f.pool, again, 64), 64);
	CHECK_EQ(nm_page_pool_alloc_netmem(f.pool), 0);
	for (int i = 0; i < 64; i++)
		for (int j = i + 1; j < 64; j++)
			CHECK(again[i] != again[j]);
	nm_page_pool_recycle_direct_bulk(f.pool, again, 64);
	nm_page_pool_destroy(f.pool);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

/*
 * Debug builds: a double or excess put is caught at the put itself, which
 * names the buffer and aborts (before it could reach the ring twice and be
 * handed to two users). Each case runs in a child process.
 */
enum bad_put { PUT_OWNER_TWICE, PUT_FOREIGN_TWICE, PUT_SHARED_THRICE, PUT_BULK_TWICE,
	       GET_AFTER_PUT };

static void bad_put_child(struct fixture *f, nm_netmem_ref a, enum bad_put how)
{
	switch (how) {
	case PUT_OWNER_TWICE:
		nm_page_pool_put_netmem(f->pool, a, true);
		nm_page_pool_put_netmem(f->pool, a, true);
		break;
	case PUT_FOREIGN_TWICE:
		nm_netmem_put(a);
		nm_netmem_put(a);
		break;
	case PUT_SHARED_THRICE:
		nm_netmem_get(a);
		nm_netmem_put(a);
		nm_netmem_put(a);
		nm_netmem_put(a);
		break;
	case PUT_BULK_TWICE:
		nm_page_pool_put_netmem_bulk(f->pool, &a, 1, true);
		nm_netmem_put_bulk(&a, 1);
		break;
	case GET_AFTER_PUT:
		nm_netmem_put(a);
		nm_netmem_get(a);
		break;
	}
}

static void test_double_put_is_caught_at_the_put(void)
{
	static const char *const want[] = {
		[PUT_OWNER_TWICE] = "put back", [PUT_FOREIGN_TWICE] = "put back",
		[PUT_SHARED_THRICE] = "put back", [PUT_BULK_TWICE] = "put back",
		[GET_AFTER_PUT] = "reference taken on",
	};
	struct fixture f;
	nm_netmem_ref a, b;
	char name[32], log[1024];

	if (!NM_DEBUG_REFCOUNT)
		SKIP("release build: no reference count check (meson -Ddebug_refcount=enabled, "
		     "or buildtype=debug)");
	CHECK_EQ(fixture_up(&f, 256, 64), 0);
	/* Two out: the message must name this one, a, not just any. */
	b = nm_page_pool_alloc_netmem(f.pool);
	a = nm_page_pool_alloc_netmem(f.pool);
	CHECK(a && b);
	snprintf(name, sizeof(name), "buffer %u of area",
		 nm_netmem_to_net_iov(a)->index);
	fflush(stdout);
	for (int how = PUT_OWNER_TWICE; how <= GET_AFTER_PUT; how++) {
		int fds[2], status;
		ssize_t len = 0, k;
		pid_t pid;

		CHECK_EQ(pipe(fds), 0);
		pid = fork();
		CHECK(pid >= 0);
		if (!pid) {
			close(fds[0]);
			dup2(fds[1], STDERR_FILENO);
			bad_put_child(&f, a, how);
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
			  "case %d: child %s %d, stderr: %s", how,
			  WIFSIGNALED(status) ? "killed by signal" : "exited with",
			  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), log);
		CHECK_MSG(strstr(log, name) && strstr(log, want[how]),
			  "case %d: stderr does not name '%s' (%s): %s", how, name,
			  want[how], log);
	}
	nm_page_pool_put_netmem(f.pool, a, true);
	nm_page_pool_put_netmem(f.pool, b, true);
	nm_page_pool_destroy(f.pool);
	CHECK_EQ(atomic_load(&destroys), 1);
	fixture_down(&f);
}

static void test_provider_refusal_is_reported(void)
{
	struct nm_page_pool_params pp = { .pool_size = 0 };
	struct nm_page_pool *pool = NULL;
	struct nm_err err = { 0 };

	CHECK_EQ(nm_page_pool_create(&pp, &pool, &err), -EINVAL);
	CHECK(pool == NULL);
	CHECK(strstr(err.msg, "size") != NULL);
	pp.pool_size = 8;
	CHECK_EQ(nm_page_pool_create(&pp, &pool, &err), -EINVAL);
	CHECK(strstr(err.msg, "provider") != NULL);
}

static void test_bulk_puts_respect_shared_references(void)
{
	struct fixture f;
	static nm_netmem_ref refs[100];
	struct nm_page_pool_stats st;

	CHECK_EQ(fixture_up(&f, 1024, 512), 0);
	CHECK_EQ(nm_page_pool_alloc_netmems(f.pool, refs, 100), 100);
	for (int i = 0; i < 100; i += 10)
		nm_netmem_get(refs[i]);              /* ten buffers shared */
	nm_netmem_put_bulk(refs, 100);           /* as a foreign thread */
	nm_page_pool_get_stats(f.pool, &st);
	CHECK_EQ(st.in_flight, 10);
	for (int i = 0; i < 100; i += 10)
		nm_netmem_put_bulk(&refs[i], 1);
	nm_page_pool_get_stats(f.pool, &st);
	CHECK_EQ(st.in_flight, 0);
	/* Owner-side bulk put with a shared buffer among them. */
	CHECK_EQ(nm_page_pool_alloc_netmems(f.pool, refs, 32), 32);
	nm_netmem_get(refs[5]);
	nm_page_pool_put_netmem_bulk(f.pool, refs, 32, true);
	nm_page_pool_get_stats(f.pool, &st);
	CHECK_EQ(st.in_flight, 1);
	nm_page_pool_put_netmem(f.pool, refs[5], true);
	nm_page_pool_get_stats(f.pool, &st);
	CHECK_EQ(st.in_flight, 0);
	nm_page_pool_destroy(f.pool);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

/* Cross-thread stress: the owner allocates, returners put back. */
#define STRESS_THREADS 3
/* ThreadSanitizer runs this 10-50x slower, and it sees the interleavings
 * it needs in far fewer operations. */
#if defined(__SANITIZE_THREAD__)
#define STRESS_OPS     (1u << 18)
#else
#define STRESS_OPS     (3u << 20)
#endif

struct handoff {
	_Alignas(64) atomic_uint_least64_t head;
	atomic_uint_least64_t tail;
	nm_netmem_ref slots[1024];
	atomic_bool done;
	uint64_t returned;
};

static void *returner(void *arg)
{
	struct handoff *h = arg;

	for (;;) {
		uint64_t t = atomic_load_explicit(&h->tail, memory_order_acquire);
		uint64_t hd = atomic_load_explicit(&h->head, memory_order_relaxed);

		if (t == hd) {
			if (atomic_load(&h->done) &&
			    atomic_load(&h->tail) == atomic_load(&h->head))
				break;
			/* Four threads on two cores: let the allocator run. */
			sched_yield();
			continue;
		}
		if (hd & 1) {
			nm_netmem_put(h->slots[hd % 1024]);
			atomic_store_explicit(&h->head, hd + 1, memory_order_release);
			h->returned++;
		} else {
			/* A bulk of whatever has arrived, up to 16. */
			nm_netmem_ref batch[16];
			unsigned int n = 0;

			while (hd + n != t && n < 16) {
				batch[n] = h->slots[(hd + n) % 1024];
				n++;
			}
			nm_netmem_put_bulk(batch, n);
			atomic_store_explicit(&h->head, hd + n, memory_order_release);
			h->returned += n;
		}
	}
	return NULL;
}

static void test_cross_thread_recycle_stress(void)
{
	static struct handoff h[STRESS_THREADS];
	pthread_t th[STRESS_THREADS];
	struct nm_page_pool_stats st;
	uint64_t allocated = 0, direct = 0, returned = 0;
	nm_netmem_ref shared[8];
	unsigned int nshared = 0;
	struct fixture f;

	CHECK_EQ(fixture_up(&f, 4096, 2048), 0);
	for (int i = 0; i < STRESS_THREADS; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		pthread_create(&th[i], NULL, returner, &h[i]);
	}
	for (uint32_t op = 0; op < STRESS_OPS; op++) {
		nm_netmem_ref n = nm_page_pool_alloc_netmem(f.pool);
		struct handoff *q = &h[op % STRESS_THREADS];
		uint64_t t;

		if (!n) {
			/* Everything is out with the returners: wait a bit. */
			op--;
			sched_yield();
			continue;
		}
		allocated++;
		t = atomic_load_explicit(&q->tail, memory_order_relaxed);
		if (t - atomic_load_explicit(&q->head, memory_order_acquire) >= 1024 ||
		    (op & 7) == 0) {
			nm_page_pool_put_netmem(f.pool, n, true);
			direct++;
			continue;
		}
		if ((op & 15) == 3) {
			/* Share it: the returner and we both put it back, in
			 * either order; the second put recycles it. */
			nm_netmem_get(n);
			shared[nshared++] = n;
		}
		q->slots[t % 1024] = n;
		atomic_store_explicit(&q->tail, t + 1, memory_order_release);
		if (nshared == 8) {
			nm_page_pool_put_netmem_bulk(f.pool, shared, nshared, true);
			nshared = 0;
		}
	}
	nm_page_pool_put_netmem_bulk(f.pool, shared, nshared, true);
	for (int i = 0; i < STRESS_THREADS; i++)
		atomic_store(&h[i].done, true);
	for (int i = 0; i < STRESS_THREADS; i++) {
		pthread_join(th[i], NULL);
		returned += h[i].returned;
	}
	CHECK_EQ(allocated, STRESS_OPS);
	CHECK_EQ(direct + returned, allocated);
	nm_page_pool_get_stats(f.pool, &st);
	CHECK_EQ(st.in_flight, 0);
	CHECK_EQ(atomic_load(&f.pool->shared_refs), 0);
	CHECK_EQ(st.alloc_fast + st.alloc_slow - st.alloc_empty, allocated);
	CHECK(st.alloc_provider <= 2048);
	/* Every buffer accounted for: cached + ring + provider = held. */
	nm_page_pool_destroy(f.pool);
	CHECK_EQ(atomic_load(&destroys), 1);
	CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
	fixture_down(&f);
}

/* Returners still putting while the owner destroys the pool. */
static void *late_returner(void *arg)
{
	nm_netmem_ref *refs = arg;

	for (int i = 0; i < 500; i++)
		nm_netmem_put(refs[i]);
	return NULL;
}

static void test_destroy_races_with_foreign_puts(void)
{
	static nm_netmem_ref refs[4][500];
	pthread_t th[4];

	for (int round = 0; round < 50; round++) {
		struct fixture f;

		CHECK_EQ(fixture_up(&f, 4096, 2000), 0);
		for (int t = 0; t < 4; t++)
			CHECK_EQ(nm_page_pool_alloc_netmems(f.pool, refs[t], 500), 500);
		for (int t = 0; t < 4; t++)
			pthread_create(&th[t], NULL, late_returner, refs[t]);
		nm_page_pool_destroy(f.pool);
		for (int t = 0; t < 4; t++)
			pthread_join(th[t], NULL);
		CHECK_EQ(atomic_load(&destroys), 1);
		CHECK_EQ(nm_net_iov_area_in_use(&f.mem->area), 0);
		fixture_down(&f);
	}
}

NM_TEST_MAIN(
	NM_TEST(test_fast_path_counts),
	NM_TEST(test_pool_size_is_a_hard_limit),
	NM_TEST(test_shared_buffer_recycles_on_last_put),
	NM_TEST(test_destroy_waits_for_buffers_in_flight),
	NM_TEST(test_provider_refusal_is_reported),
	NM_TEST(test_excess_put_is_reported_not_hung),
	NM_TEST(test_double_put_is_caught_at_the_put),
	NM_TEST(test_bulk_puts_respect_shared_references),
	NM_TEST(test_cross_thread_recycle_stress),
	NM_TEST(test_destroy_races_with_foreign_puts),
)
