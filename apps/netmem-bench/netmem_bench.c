/* SPDX-License-Identifier: MIT */
/*
 * netmem-bench: the page pool's costs, against DPDK 22.11's mempool measured
 * in the same run (when built with DPDK), printed as figures and ratios.
 *
 *   fast path    alloc + recycle one at a time, and in bulks of 32, by the
 *                queue's own thread, against DPDK at its best:
 *                rte_mempool_get_bulk/put_bulk with the count known only at
 *                run time, on a mempool of as many 2 KiB elements as our pool
 *                holds, with the per-lcore cache rte_mempool.h advises
 *   floor        the bulk loops' two copies of 32 handles and nothing else:
 *                what any loop that hands back what it was just given pays
 *   ring         alloc, then put back as a foreign thread would (same thread):
 *                one ring operation per buffer, or through a put cache
 *                (nm_netmem_put_cached: one per 32); DPDK: get from the lcore
 *                cache, rte_mempool_generic_put() with no cache (the ring)
 *                or a user-owned cache of 32 (rte_mempool_cache_create())
 *   cross-thread one thread allocates, another (pinned to another CPU) puts
 *                back
 *   metadata     host bytes per buffer, from the structs' sizes
 *   bind         binding create + unbind time against dmabuf size (bind.c)
 *   first use    the first hand-out of every buffer of a fresh binding
 *                (bind.c)
 *
 * Rounds alternate (DPDK, netmem, netmem, DPDK, ...): each round pairs the
 * two sides measured a moment apart, so load that drifts over the run moves
 * both; printed are the medians and each pair's ratio: median, quartiles and
 * range. The same-thread loops are timed in the thread's CPU time, so a
 * preemption by another job does not land in one side's figure.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netmem/netmem.h>
#include <netmem/sim.h>

#include "bench.h"

#ifdef NETMEM_HAVE_DPDK
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#endif

#define BULK 32
/* Each timed loop is its own function, its pool in a local (the project
 * builds with -fno-strict-aliasing: a pool reached through a global or a
 * struct is loaded again after every store), so the compiler treats both
 * sides' loops alike, and callgrind counts each one by name. */
#define NOINLINE __attribute__((noinline, aligned(64)))

/* Many short rounds: on a shared machine most pairs then fall between two
 * of another job's turns, and the median pair is a clean one. */
static uint64_t ops = 2000000;
static int rounds = 31;

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @n values (sorts them). */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The first two CPUs this process may run on: the fast paths run on the
 * first, the cross-thread returner on the second (-1: only one). */
static int cpu_a = -1, cpu_b = -1;

static void pick_cpus(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (cpu_a < 0)
			cpu_a = c;
		else if (cpu_b < 0)
			cpu_b = c;
	}
}

static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* ---- ours ---- */

struct ours {
	struct nm_dma_domain *dom;
	struct nm_host_mem *mem;
	struct nm_page_pool *pool;
	uint32_t pool_size, buf_size;
};

static int ours_up(struct ours *o)
{
	struct nm_host_mem_params hp = { .size = 8u << 20, .buf_size = 2048,
					 .numa_node = -1 };
	struct nm_page_pool_params pp = { .pool_size = 2048, .nid = -1,
					  .flags = NM_PP_FLAG_DMA_MAP };
	struct nm_err err = { 0 };

	if (nm_dma_domain_identity_create(&o->dom, &err) ||
	    nm_host_mem_create(o->dom, &hp, &o->mem, &err)) {
		fprintf(stderr, "netmem-bench: %s\n", err.msg);
		return -1;
	}
	o->pool_size = pp.pool_size;
	o->buf_size = hp.buf_size;
	pp.mp = nm_host_mem_mp(o->mem);
	if (nm_page_pool_create(&pp, &o->pool, &err)) {
		fprintf(stderr, "netmem-bench: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static void ours_down(struct ours *o)
{
	nm_page_pool_destroy(o->pool);
	nm_host_mem_put(o->mem);
	nm_dma_domain_put(o->dom);
}

/* The burst size, read at run time: neither side's loop may be specialised
 * for a constant count (DPDK's get/put of 1 is slower than its bulk call
 * with a count it cannot see: rte_mempool_get() is not its best). */
static volatile unsigned int burst_bulk = BULK;

/* Both sides' loops have the same shape: the iteration count in a local
 * (read from the global once), the burst read at run time. */
static NOINLINE double ours_single(void *ctx)
{
	struct nm_page_pool *pool = ((struct ours *)ctx)->pool;
	uint64_t iters = ops;
	double t = cpu_ns();

	for (uint64_t i = 0; i < iters; i++) {
		nm_netmem_ref n = nm_page_pool_alloc_netmem(pool);

		nm_page_pool_put_netmem(pool, n, true);
	}
	return (cpu_ns() - t) / (double)iters;
}

static NOINLINE double ours_bulk(void *ctx)
{
	struct nm_page_pool *pool = ((struct ours *)ctx)->pool;
	nm_netmem_ref refs[BULK];
	unsigned int n = burst_bulk;
	uint64_t iters = ops / n;
	double t = cpu_ns();

	for (uint64_t i = 0; i < iters; i++) {
		nm_page_pool_alloc_netmems(pool, refs, n);
		nm_page_pool_put_netmem_bulk(pool, refs, n, true);
	}
	return (cpu_ns() - t) / (double)(iters * n);
}

static NOINLINE double ours_bulk_unrefed(void *ctx)
{
	struct nm_page_pool *pool = ((struct ours *)ctx)->pool;
	nm_netmem_ref refs[BULK];
	unsigned int n = burst_bulk;
	uint64_t iters = ops / n;
	double t = cpu_ns();

	for (uint64_t i = 0; i < iters; i++) {
		nm_page_pool_alloc_netmems(pool, refs, n);
		nm_page_pool_recycle_direct_bulk(pool, refs, n);
	}
	return (cpu_ns() - t) / (double)(iters * n);
}

static NOINLINE double ours_ring(void *ctx)
{
	struct nm_page_pool *pool = ((struct ours *)ctx)->pool;
	uint64_t n = ops / 4;
	double t = cpu_ns();

	for (uint64_t i = 0; i < n; i++)
		nm_netmem_put(nm_page_pool_alloc_netmem(pool));
	return (cpu_ns() - t) / (double)n;
}

/*
 * The floor of the bulk loops: the same 32 handles copied out of a cache
 * and back, as both sides' loops do, and nothing else (no count, no check,
 * no stats). Each handle goes through store-to-load forwarding twice a
 * round (put back, then handed out again), which bounds any loop that
 * hands out what it was just given.
 */
static NOINLINE double copy_floor(void *ctx)
{
	static NM_ALIGNAS(16) nm_netmem_ref cache[NM_PP_CACHE_SIZE];
	nm_netmem_ref refs[BULK];
	unsigned int n = burst_bulk;
	uint64_t iters = ops / n;
	double t = cpu_ns();

	(void)ctx;
	for (uint64_t i = 0; i < iters; i++) {
		nm_pp_copy_refs(refs, &cache[NM_PP_REFILL - n], n);
		nm_pp_copy_refs(&cache[NM_PP_REFILL - n], refs, n);
	}
	return (cpu_ns() - t) / (double)(iters * n);
}

/* As a foreign thread with a put cache would: the ring in bulks of 32. */
static NOINLINE double ours_put_cache(void *ctx)
{
	struct nm_page_pool *pool = ((struct ours *)ctx)->pool;
	struct nm_pp_put_cache c;
	uint64_t n = ops / 4;
	double t;

	nm_pp_put_cache_init(&c);
	t = cpu_ns();
	for (uint64_t i = 0; i < n; i++)
		nm_netmem_put_cached(&c, nm_page_pool_alloc_netmem(pool));
	nm_pp_put_cache_flush(&c);
	return (cpu_ns() - t) / (double)n;
}

/* Cross-thread: a single-producer handoff queue carries buffers to a
 * returner thread, which puts them back. */
#define HANDOFF 512

struct handoff {
	_Alignas(64) atomic_uint_least64_t head;
	_Alignas(64) atomic_uint_least64_t tail;
	_Alignas(64) uintptr_t slots[HANDOFF];
	atomic_bool stop;
	void (*put)(void *ctx, uintptr_t *v, unsigned int n);
	void *ctx;
	int cpu;               /* where the returner ran (sched_getcpu) */
};

static void *returner(void *arg)
{
	struct handoff *h = arg;
	uint64_t hd = 0;

	h->cpu = sched_getcpu();
	for (;;) {
		uint64_t t = atomic_load_explicit(&h->tail, memory_order_acquire);

		if (t == hd) {
			if (atomic_load_explicit(&h->stop, memory_order_acquire) &&
			    atomic_load(&h->tail) == hd)
				break;
			sched_yield();
			continue;
		}
		/* Put back what arrived, in bulks of up to 32. */
		while (hd != t) {
			uintptr_t batch[BULK];
			unsigned int n = 0;

			while (hd != t && n < BULK)
				batch[n++] = h->slots[hd++ % HANDOFF];
			h->put(h->ctx, batch, n);
		}
		atomic_store_explicit(&h->head, hd, memory_order_release);
	}
	return NULL;
}

/* Where the last cross-thread round's two threads ran. */
static int xt_getter_cpu = -1, xt_returner_cpu = -1;

static double cross_thread(uintptr_t (*get)(void *),
			   void (*put)(void *, uintptr_t *, unsigned int), void *ctx)
{
	static struct handoff h;
	pthread_attr_t attr;
	pthread_t th;
	uint64_t n = ops / 8, t = 0, done = 0;
	double t0;

	memset(&h, 0, sizeof(h));
	h.put = put;
	h.ctx = ctx;
	h.cpu = -1;
	/* Set, not inherited: a thread made by an EAL thread gets the main
	 * lcore's CPU, and both threads would share one core. */
	pthread_attr_init(&attr);
	if (cpu_b >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu_b, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (pthread_create(&th, &attr, returner, &h)) {
		pthread_attr_destroy(&attr);
		return -1;
	}
	pthread_attr_destroy(&attr);
	xt_getter_cpu = sched_getcpu();
	t0 = now_ns();
	while (done < n) {
		uintptr_t v;

		if (t - atomic_load_explicit(&h.head, memory_order_acquire) >= HANDOFF) {
			sched_yield();
			continue;
		}
		v = get(ctx);
		if (!v) {
			sched_yield(); /* everything is with the returner */
			continue;
		}
		h.slots[t++ % HANDOFF] = v;
		atomic_store_explicit(&h.tail, t, memory_order_release);
		done++;
	}
	atomic_store(&h.stop, true);
	pthread_join(th, NULL);
	xt_returner_cpu = h.cpu;
	return (now_ns() - t0) / (double)n;
}

static uintptr_t ours_get(void *ctx)
{
	return nm_page_pool_alloc_netmem(((struct ours *)ctx)->pool);
}

static void ours_put(void *ctx, uintptr_t *v, unsigned int n)
{
	(void)ctx;
	nm_netmem_put_bulk(v, n);
}

static double ours_cross_thread(void *ctx)
{
	return cross_thread(ours_get, ours_put, ctx);
}

/* ---- DPDK baseline ---- */

#ifdef NETMEM_HAVE_DPDK
static struct rte_mempool *dpdk_mp;
static unsigned int dpdk_cache;
/* A user-owned cache, as a non-EAL thread would put through (the put
 * cache row's baseline). */
static struct rte_mempool_cache *dpdk_ucache;
static volatile unsigned int burst_one = 1;

static int dpdk_up(uint32_t n, uint32_t elt_size)
{
	char lcore[16], *eal_argv[] = { "netmem-bench", "--no-huge", "-m", "256", "--no-pci",
					"--no-shconf", "--no-telemetry", "-l", lcore,
					"--log-level=lib.eal:4", NULL };

	/* The main lcore is where the fast paths of both sides run. */
	snprintf(lcore, sizeof(lcore), "%d", cpu_a);
	if (rte_eal_init(10, eal_argv) < 0) {
		fprintf(stderr, "netmem-bench: DPDK EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	/* rte_mempool.h: n % cache_size == 0 (else objects stay stranded in
	 * the ring), cache_size <= n / 1.5 and <= RTE_MEMPOOL_CACHE_MAX_SIZE. */
	for (dpdk_cache = RTE_MEMPOOL_CACHE_MAX_SIZE; dpdk_cache > 1; dpdk_cache /= 2)
		if (n % dpdk_cache == 0 && dpdk_cache * 3 <= n * 2)
			break;
	/* As many elements of the same size as our pool holds. */
	dpdk_mp = rte_mempool_create("bench", n, elt_size, dpdk_cache, 0, NULL, NULL, NULL,
				     NULL, SOCKET_ID_ANY, 0);
	if (!dpdk_mp) {
		fprintf(stderr, "netmem-bench: rte_mempool_create: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	dpdk_ucache = rte_mempool_cache_create(NM_PP_PUT_CACHE, SOCKET_ID_ANY);
	if (!dpdk_ucache) {
		fprintf(stderr, "netmem-bench: rte_mempool_cache_create: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/*
 * DPDK's loop, @burst objects at a time, on @mp: written out twice below,
 * once with the pool in a local and once read from the global each time.
 * Which is faster depends on code layout (measured 0.55 against 0.70 ns per
 * object in bulks of 32, either way round after unrelated edits): each
 * round takes the faster of the two as DPDK's figure.
 */
#define DPDK_LOOP(mp, burst, objs)					\
	do {								\
		unsigned int n_ = (burst);				\
		uint64_t iters_ = ops / n_;				\
		double t_ = cpu_ns();					\
									\
		for (uint64_t i_ = 0; i_ < iters_; i_++) {		\
			rte_mempool_get_bulk((mp), (objs), n_);		\
			rte_mempool_put_bulk((mp), (objs), n_);		\
		}							\
		return (cpu_ns() - t_) / (double)(iters_ * n_);	\
	} while (0)

/* Room for a burst in each: the count is not known to the compiler. */
static NOINLINE double dpdk_burst_local(unsigned int burst)
{
	struct rte_mempool *mp = dpdk_mp;
	void *objs[BULK];

	DPDK_LOOP(mp, burst, objs);
}

static NOINLINE double dpdk_burst_global(unsigned int burst)
{
	void *objs[BULK];

	DPDK_LOOP(dpdk_mp, burst, objs);
}

static double dpdk_burst(unsigned int burst)
{
	return min_d(dpdk_burst_local(burst), dpdk_burst_global(burst));
}

static double dpdk_single(void *ctx)
{
	(void)ctx;
	return dpdk_burst(burst_one);
}

static double dpdk_bulk(void *ctx)
{
	(void)ctx;
	return dpdk_burst(burst_bulk);
}

/* Get one from the lcore cache, put it back as a thread without one would:
 * straight to the ring (@ucache NULL), or through a user-owned cache. */
static NOINLINE double dpdk_put_foreign(struct rte_mempool_cache *ucache)
{
	struct rte_mempool *mp = dpdk_mp;
	void *obj[BULK];
	unsigned int one = burst_one;
	uint64_t n = ops / 4;
	double t = cpu_ns();

	for (uint64_t i = 0; i < n; i++) {
		rte_mempool_get_bulk(mp, obj, one);
		rte_mempool_generic_put(mp, obj, one, ucache);
	}
	if (ucache)
		rte_mempool_cache_flush(ucache, mp);
	return (cpu_ns() - t) / (double)n;
}

static double dpdk_ring(void *ctx)
{
	(void)ctx;
	return dpdk_put_foreign(NULL);
}

static double dpdk_put_cache(void *ctx)
{
	(void)ctx;
	return dpdk_put_foreign(dpdk_ucache);
}

static uintptr_t dpdk_get(void *ctx)
{
	void *obj[BULK];

	(void)ctx;
	return rte_mempool_get_bulk(dpdk_mp, obj, burst_one) ? 0 : (uintptr_t)obj[0];
}

static void dpdk_put(void *ctx, uintptr_t *v, unsigned int n)
{
	(void)ctx;
	/* A non-EAL thread has no cache: this goes to the ring, as ours does. */
	rte_mempool_put_bulk(dpdk_mp, (void **)v, n);
}

static double dpdk_cross_thread(void *ctx)
{
	return cross_thread(dpdk_get, dpdk_put, ctx);
}
#endif

#define MAX_ROUNDS 200

/* One figure: each side's value per round, taken in turns. */
struct pairs {
	double ours[MAX_ROUNDS], base[MAX_ROUNDS];
	int n;
};

/* The value at fraction @q of @v[0..n) sorted (nearest rank). */
static double quantile(const double *v, int n, double q)
{
	int i = (int)(q * (n - 1) + 0.5);

	return v[i];
}

/* One round of @p: both sides, the first alternating from round to round
 * (ABBA...), so neither always runs on the other's warm-up or cool-down. */
static int pair(struct pairs *p, double (*base)(void *), void *bctx,
		double (*ours)(void *), void *octx)
{
	int r = p->n;

	if (base && r % 2 == 0)
		p->base[r] = base(bctx);
	p->ours[r] = ours(octx);
	if (base && r % 2 == 1)
		p->base[r] = base(bctx);
	if (p->ours[r] < 0 || (base && p->base[r] < 0))
		return -1;
	p->n++;
	return 0;
}

static void row(const char *name, struct pairs *p, bool have_base)
{
	double ratio[MAX_ROUNDS], med;

	if (!have_base) {
		printf("%-40s %9.2f %9s %6s %11s %11s\n", name, median(p->ours, p->n), "-", "-",
		       "-", "-");
		return;
	}
	for (int r = 0; r < p->n; r++)
		ratio[r] = p->ours[r] / p->base[r];
	med = median(ratio, p->n); /* sorts them, for the quantiles */
	printf("%-40s %9.2f %9.2f %6.2f   %.2f-%.2f   %.2f-%.2f\n", name,
	       median(p->ours, p->n), median(p->base, p->n), med,
	       quantile(ratio, p->n, 0.25), quantile(ratio, p->n, 0.75), ratio[0],
	       ratio[p->n - 1]);
}

/* A whole decimal number in [lo, hi], nothing after it. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ops", required_argument, NULL, 'o' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "bind-max", required_argument, NULL, 'b' },
		{ "no-dpdk", no_argument, NULL, 'n' },
		{ "bind-only", no_argument, NULL, 'B' },
		{ "bind-sources", required_argument, NULL, 'S' },
		{ "bind-vfio-group", required_argument, NULL, 'G' },
		{ "first-use-max", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t bind_max = 4ull << 30, first_max = UINT64_MAX; /* default: bind_max */
	const char *bind_sources = "memfd";
	int vfio_group = -1;
	bool use_dpdk = true, bind_only = false;
	static struct pairs single, bulk, sole, floor_, ring, pcache, xt;
	struct ours o;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (nm_parse_size(optarg, &ops) || ops < BULK * 8)
				goto usage;
			break;
		case 'r':
			if (parse_int(optarg, 1, MAX_ROUNDS, &rounds))
				goto usage;
			break;
		case 'b':
			if (!strcmp(optarg, "0"))
				bind_max = 0;
			else if (nm_parse_size(optarg, &bind_max))
				goto usage;
			break;
		case 'n':
			use_dpdk = false;
			break;
		case 'B':
			bind_only = true;
			break;
		case 'S':
			bind_sources = optarg;
			break;
		case 'G':
			if (parse_int(optarg, 0, 1 << 20, &vfio_group))
				goto usage;
			break;
		case 'F':
			if (!strcmp(optarg, "0"))
				first_max = 0;
			else if (nm_parse_size(optarg, &first_max))
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind < argc)
		goto usage;
	if (first_max == UINT64_MAX)
		first_max = bind_max;
	if (bind_only)
		return bind_scaling(bind_max, bind_sources, vfio_group) ||
		       (first_max && vfio_group < 0 && first_use(first_max)) ? 1 : 0;
	/* Both sides' fast paths on one CPU, set here (EAL pins its main
	 * lcore there too); the cross-thread returner on the next one. */
	pick_cpus();
	if (cpu_a >= 0 && pin_self(cpu_a))
		cpu_a = -1;
	if (ours_up(&o))
		return 1;
#ifdef NETMEM_HAVE_DPDK
	if (use_dpdk && (cpu_a < 0 || dpdk_up(o.pool_size, o.buf_size)))
		use_dpdk = false;
#else
	use_dpdk = false;
#endif
	if (use_dpdk)
#ifdef NETMEM_HAVE_DPDK
		printf("page pool (%u buffers of %u B) vs DPDK mempool (ring_mp_mc, %u elements "
		       "of %u B, cache %u; rte_mempool_get_bulk/put_bulk, count read at run "
		       "time)\n", o.pool_size, o.buf_size, dpdk_mp->size, dpdk_mp->elt_size,
		       dpdk_cache);
#else
		;
#endif
	else
		printf("page pool (%u buffers of %u B) vs nothing (built without DPDK or "
		       "--no-dpdk)\n", o.pool_size, o.buf_size);
	printf("%d rounds of %llu ops, the two sides in turns (which goes first alternates); "
	       "fast paths on CPU %d, timed in this thread's CPU time (another job's turn on "
	       "the CPU is not counted), cross-thread in wall time\n", rounds,
	       (unsigned long long)ops, cpu_a);
	printf("ratio: netmem/DPDK of each round's pair: median, quartiles, range\n");
	printf("%-40s %9s %9s %6s %11s %11s\n", "ns per buffer (alloc + put back)", "netmem",
	       "DPDK", "ratio", "quartiles", "range");
	for (int r = 0; r < rounds; r++) {
		double (*b_single)(void *) = NULL, (*b_bulk)(void *) = NULL;
		double (*b_ring)(void *) = NULL, (*b_pcache)(void *) = NULL;
		double (*b_xt)(void *) = NULL;

#ifdef NETMEM_HAVE_DPDK
		if (use_dpdk) {
			b_single = dpdk_single;
			b_bulk = dpdk_bulk;
			b_ring = dpdk_ring;
			b_pcache = dpdk_put_cache;
			b_xt = dpdk_cross_thread;
		}
#endif
		if (pair(&single, b_single, NULL, ours_single, &o) ||
		    pair(&bulk, b_bulk, NULL, ours_bulk, &o) ||
		    pair(&sole, b_bulk, NULL, ours_bulk_unrefed, &o) ||
		    pair(&floor_, b_bulk, NULL, copy_floor, NULL) ||
		    pair(&ring, b_ring, NULL, ours_ring, &o) ||
		    pair(&pcache, b_pcache, NULL, ours_put_cache, &o) ||
		    pair(&xt, b_xt, NULL, ours_cross_thread, &o)) {
			fprintf(stderr, "netmem-bench: cannot start the returner thread\n");
			return 1;
		}
	}
	row("fast path, one at a time", &single, use_dpdk);
	row("fast path, bulks of 32, refs checked", &bulk, use_dpdk);
	row("fast path, bulks of 32, sole owner", &sole, use_dpdk);
	row("floor: the 32 copies alone (no pool)", &floor_, use_dpdk);
	row("put back through the ring (same thread)", &ring, use_dpdk);
	row("the same through a put cache of 32", &pcache, use_dpdk);
	row("cross-thread: alloc here, bulk put there", &xt, use_dpdk);
	if (xt_returner_cpu >= 0 && xt_returner_cpu != xt_getter_cpu)
		printf("cross-thread: getter on CPU %d, returner pinned to CPU %d\n",
		       xt_getter_cpu, xt_returner_cpu);
	else
		printf("cross-thread: getter and returner both on CPU %d (only one CPU allowed): "
		       "no cache line crosses cores\n", xt_getter_cpu);
	printf("\nhost metadata per buffer: %zu bytes (sizeof struct nm_net_iov; the area's free "
	       "list is kept in the free descriptors); kernel 6.12 struct net_iov: 48\n",
	       meta_per_buf());
	ours_down(&o);
	if (bind_max && bind_scaling(bind_max, bind_sources, vfio_group))
		return 1;
	if (first_max && first_use(first_max))
		return 1;
	return 0;
usage:
	fprintf(stderr,
		"usage: netmem-bench [--ops N] [--rounds R] [--no-dpdk]\n"
		"                    [--bind-max SIZE|0] [--bind-only] [--bind-sources memfd,udmabuf,heap,vgem]\n"
		"                    [--bind-vfio-group N]   (VFIO type1 domain, e.g. in the guest)\n"
		"                    [--first-use-max SIZE|0]   (default: --bind-max)\n");
	return 2;
}
