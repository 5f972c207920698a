/* SPDX-License-Identifier: MIT */
/*
 * netmem-dpdk-bench: bulk get/put throughput of the "dmabuf" mempool ops
 * against DPDK's ring_mp_mc, ring_sp_sc and stack, in one run, without and
 * with the per-lcore cache.
 *
 *   netmem-dpdk-bench [EAL options] -- [--burst 32] [--depth 4] [--seconds 0.3]
 *                     [--repeat 3] [--mbufs 8192] [--cache 256] [--source memfd:SIZE]
 *                     [--ops dmabuf,dmabuf_by_ops,ring_mp_mc,ring_sp_sc,stack]
 *
 * "dmabuf" is a pool made by nm_dpdk_pktmbuf_pool_create(), "dmabuf_by_ops"
 * one made by rte_pktmbuf_pool_create_by_ops(..., "dmabuf"), as every
 * application gets with --mbuf-pool-ops-name=dmabuf (its dmabuf: --source
 * through $NETMEM_DMABUF, else the automatic one).
 *
 * Without EAL options it runs on lcore 0 with --no-huge --no-pci (no
 * hugepages needed). Each case is a pktmbuf pool of --mbufs mbufs with a
 * 2048-byte data room; every lcore given to EAL loops "get --depth bursts of
 * --burst mbufs, put them all back" for --seconds, after a short warm-up.
 * The cases take turns, --repeat rounds, and each figure is the median of
 * its rounds (the machine may be shared). Figures are mbufs taken per second
 * (each also put back), summed over the lcores, and the ratio to ring_mp_mc
 * with the same cache setting: the ratio of the medians, and the median and
 * range of the ratios round by round ("paired": each against the
 * ring_mp_mc run next to it, which a machine whose speed drifts between
 * rounds moves less), and the ratio of the best rounds ("best": what each
 * costs when nothing else runs, the steadiest figure on a shared machine).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <netmem/dpdk_mempool.h>

#define MAX_BURST 512
#define MAX_DEPTH 16
#define MAX_OPS 8
#define MAX_REPEAT 31

static struct {
	unsigned int burst, depth, mbufs, cache, repeat;
	double seconds;
	const char *source;
	char ops[MAX_OPS][RTE_MEMPOOL_OPS_NAMESIZE];
	unsigned int nops;
} cfg = { 32, 4, 8192, 256, 3, 0.3, NULL, { { 0 } }, 0 };

struct worker {
	struct rte_mempool *mp;
	uint64_t cycles;      /* measuring window */
	uint64_t objs;        /* mbufs taken in it */
	uint64_t failures;    /* get_bulk that found the pool dry */
} __rte_cache_aligned;

static struct worker workers[RTE_MAX_LCORE];

static uint64_t loop(struct rte_mempool *mp, uint64_t until, uint64_t *failures)
{
	void *objs[MAX_DEPTH][MAX_BURST];
	uint64_t n = 0;

	while (rte_get_timer_cycles() < until) {
		unsigned int got = 0;

		for (unsigned int d = 0; d < cfg.depth; d++, got++)
			if (rte_mempool_get_bulk(mp, objs[d], cfg.burst)) {
				(*failures)++;
				break;
			}
		for (unsigned int d = 0; d < got; d++)
			rte_mempool_put_bulk(mp, objs[d], cfg.burst);
		n += (uint64_t)got * cfg.burst;
	}
	return n;
}

static int run_worker(void *arg)
{
	struct worker *w = &workers[rte_lcore_id()];
	uint64_t hz = rte_get_timer_hz(), t0;
	uint64_t warm = (uint64_t)(cfg.seconds * 0.2 * (double)hz);
	uint64_t span = (uint64_t)(cfg.seconds * (double)hz);
	uint64_t dummy = 0;

	w->mp = arg;
	loop(w->mp, rte_get_timer_cycles() + warm, &dummy);
	t0 = rte_get_timer_cycles();
	w->failures = 0;
	w->objs = loop(w->mp, t0 + span, &w->failures);
	w->cycles = rte_get_timer_cycles() - t0;
	return 0;
}

static struct rte_mempool *make_pool(const char *ops, unsigned int cache)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct nm_err err = { 0 };

	snprintf(name, sizeof(name), "b_%s_%u", ops, cache);
	if (!strcmp(ops, NM_DPDK_MEMPOOL_OPS)) {
		struct nm_dpdk_pool_params p = { .source = cfg.source, .err = &err };
		struct rte_mempool *mp = nm_dpdk_pktmbuf_pool_create(name, cfg.mbufs, cache, 0,
								     2048, (int)rte_socket_id(), &p);
		if (!mp)
			fprintf(stderr, "netmem-dpdk-bench: %s: %s\n", name, err.msg);
		return mp;
	}
	if (!strcmp(ops, "dmabuf_by_ops"))
		ops = NM_DPDK_MEMPOOL_OPS;
	return rte_pktmbuf_pool_create_by_ops(name, cfg.mbufs, cache, 0, 2048,
					      (int)rte_socket_id(), ops);
}

/* One case on every lcore; returns mbufs/s summed, or < 0. */
static double run_case(const char *ops, unsigned int cache, uint64_t *failures)
{
	struct rte_mempool *mp;
	unsigned int lcore;
	double rate = 0;

	/* Single-producer/consumer ops are not safe from two lcores. */
	if (rte_lcore_count() > 1 && strstr(ops, "_sp_sc"))
		return -2;
	mp = make_pool(ops, cache);
	if (!mp)
		return -1;
	*failures = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_remote_launch(run_worker, mp, lcore);
	run_worker(mp);
	rte_eal_mp_wait_lcore();
	RTE_LCORE_FOREACH(lcore) {
		struct worker *w = &workers[lcore];

		if (w->cycles)
			rate += (double)w->objs * (double)rte_get_timer_hz() / (double)w->cycles;
		*failures += w->failures;
		memset(w, 0, sizeof(*w));
	}
	if (rte_mempool_avail_count(mp) != cfg.mbufs)
		fprintf(stderr, "netmem-dpdk-bench: %s lost mbufs: %u of %u back\n",
			mp->name, rte_mempool_avail_count(mp), cfg.mbufs);
	if (nm_dpdk_pool_is_dmabuf(mp))
		nm_dpdk_pool_free(mp, NULL);
	else
		rte_mempool_free(mp);
	return rate;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of @n figures; a run that failed or was not run (< 0) decides. */
static double median(double *v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (v[i] < 0)
			return v[i];
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "burst", required_argument, NULL, 'b' },
		{ "depth", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "mbufs", required_argument, NULL, 'n' },
		{ "cache", required_argument, NULL, 'c' },
		{ "source", required_argument, NULL, 'S' },
		{ "ops", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ops = "dmabuf,dmabuf_by_ops,ring_mp_mc,ring_sp_sc,stack";
	char list[256], *tok, *save;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': cfg.burst = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'd': cfg.depth = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 's': cfg.seconds = atof(optarg); break;
		case 'r': cfg.repeat = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'n': cfg.mbufs = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'c': cfg.cache = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'S':
			cfg.source = optarg;
			/* For the pools rte_pktmbuf_pool_create_by_ops() makes. */
			setenv(NM_DPDK_DMABUF_ENV, optarg, 1);
			break;
		case 'o': ops = optarg; break;
		default: return -1;
		}
	}
	if (!cfg.burst || cfg.burst > MAX_BURST || !cfg.depth || cfg.depth > MAX_DEPTH ||
	    cfg.seconds <= 0 || cfg.cache > RTE_MEMPOOL_CACHE_MAX_SIZE ||
	    !cfg.repeat || cfg.repeat > MAX_REPEAT)
		return -1;
	snprintf(list, sizeof(list), "%s", ops);
	for (tok = strtok_r(list, ",", &save); tok && cfg.nops < MAX_OPS;
	     tok = strtok_r(NULL, ",", &save))
		snprintf(cfg.ops[cfg.nops++], RTE_MEMPOOL_OPS_NAMESIZE, "%s", tok);
	return cfg.nops ? 0 : -1;
}

int main(int argc, char **argv)
{
	char prefix[48];
	char *defaults[] = { argv[0], "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
			     "-l", "0", prefix, "--log-level=pmd.mempool.dmabuf:warning", NULL };
	double base[2] = { 0, 0 }, rate[MAX_OPS][2], runs[MAX_OPS][2][MAX_REPEAT];
	double pair[MAX_OPS][2][3], ratio[MAX_REPEAT], best[MAX_OPS][2];
	int base_op = -1;
	uint64_t fails[MAX_OPS][2] = { { 0 } };
	unsigned int caches[2], ncache;
	int ret, app_argc;
	char **app_argv;

	snprintf(prefix, sizeof(prefix), "--file-prefix=nmbench%d", (int)getpid());
	/* No EAL options given (or only "--"): the defaults above. */
	if (argc == 1 || !strcmp(argv[1], "--")) {
		ret = rte_eal_init(10, defaults);
		if (ret >= 0)
			ret = argc > 1 ? 1 : 0;
	} else {
		ret = rte_eal_init(argc, argv);
	}
	if (ret < 0) {
		fprintf(stderr, "netmem-dpdk-bench: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	app_argc = argc - ret;
	app_argv = argv + ret;
	app_argv[0] = argv[0];
	optind = 1;
	if (parse_args(app_argc, app_argv)) {
		fprintf(stderr, "usage: netmem-dpdk-bench [EAL options] -- [--burst 1..%d] "
			"[--depth 1..%d] [--seconds S] [--repeat 1..%d] [--mbufs N] "
			"[--cache 0..%d] [--source SPEC] [--ops a,b,...]\n", MAX_BURST, MAX_DEPTH,
			MAX_REPEAT, RTE_MEMPOOL_CACHE_MAX_SIZE);
		return 2;
	}
	if ((uint64_t)cfg.burst * cfg.depth * rte_lcore_count() > cfg.mbufs) {
		fprintf(stderr, "netmem-dpdk-bench: --mbufs %u is less than burst x depth x lcores\n",
			cfg.mbufs);
		return 2;
	}
	caches[0] = 0;
	caches[1] = cfg.cache;
	ncache = cfg.cache ? 2 : 1;
	for (unsigned int o = 0; o < cfg.nops; o++)
		if (!strcmp(cfg.ops[o], "ring_mp_mc"))
			base_op = (int)o;
	printf("netmem-dpdk-bench: %u lcore(s), %u mbufs/pool, burst %u x depth %u, "
	       "median of %u x %.2f s per case, dmabuf source %s\n", rte_lcore_count(),
	       cfg.mbufs, cfg.burst, cfg.depth, cfg.repeat, cfg.seconds,
	       cfg.source ? cfg.source : "auto (udmabuf if /dev/udmabuf, else memfd)");
	for (unsigned int r = 0; r < cfg.repeat; r++) {
		for (unsigned int c = 0; c < ncache; c++) {
			for (unsigned int o = 0; o < cfg.nops; o++) {
				uint64_t f = 0;

				runs[o][c][r] = run_case(cfg.ops[o], caches[c], &f);
				fails[o][c] += f;
			}
		}
	}
	/* Round by round against ring_mp_mc, before median() sorts the runs. */
	for (unsigned int c = 0; c < ncache; c++) {
		for (unsigned int o = 0; o < cfg.nops; o++) {
			unsigned int k = 0;

			for (unsigned int r = 0; base_op >= 0 && r < cfg.repeat; r++)
				if (runs[o][c][r] > 0 && runs[base_op][c][r] > 0)
					ratio[k++] = runs[o][c][r] / runs[base_op][c][r];
			pair[o][c][0] = k ? median(ratio, k) : -1;
			pair[o][c][1] = k ? ratio[0] : -1;       /* sorted by median() */
			pair[o][c][2] = k ? ratio[k - 1] : -1;
			best[o][c] = 0;
			for (unsigned int r = 0; r < cfg.repeat; r++)
				best[o][c] = RTE_MAX(best[o][c], runs[o][c][r]);
		}
	}
	for (unsigned int c = 0; c < ncache; c++) {
		for (unsigned int o = 0; o < cfg.nops; o++) {
			rate[o][c] = median(runs[o][c], cfg.repeat);
			if ((int)o == base_op)
				base[c] = rate[o][c];
		}
	}
	printf("%-12s %6s %12s %8s %14s %8s %6s %24s\n", "ops", "cache", "Mmbuf/s", "ns/mbuf",
	       "vs ring_mp_mc", "dry", "best", "paired: median (range)");
	for (unsigned int c = 0; c < ncache; c++) {
		for (unsigned int o = 0; o < cfg.nops; o++) {
			if (rate[o][c] < 0) {
				printf("%-12s %6u %12s\n", cfg.ops[o], caches[c], rate[o][c] < -1 ?
				       "n/a (single producer/consumer, >1 lcore)" : "failed");
				continue;
			}
			printf("%-12s %6u %12.2f %8.1f %14.2f %8llu", cfg.ops[o], caches[c],
			       rate[o][c] / 1e6, 1e9 / rate[o][c],
			       base[c] > 0 ? rate[o][c] / base[c] : 0.0,
			       (unsigned long long)fails[o][c]);
			if (base_op >= 0 && best[base_op][c] > 0)
				printf(" %6.2f", best[o][c] / best[base_op][c]);
			if (pair[o][c][0] > 0)
				printf(" %12.2f (%.2f-%.2f)", pair[o][c][0], pair[o][c][1],
				       pair[o][c][2]);
			printf("\n");
		}
	}
	rte_eal_cleanup();
	return 0;
}
