/* SPDX-License-Identifier: MIT */
/*
 * The "dmabuf" mempool ops under EAL without hugepages (--no-huge, no PCI).
 * The host has no /dev/udmabuf, so the pools here sit on "memfd:SIZE", a
 * memfd standing in for a dmabuf (netmem says so: exporter "memfd",
 * emulated); the tests that need a real udmabuf skip on the host and run in
 * the guest (tests/dpdk/guest-*.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include <netmem/dpdk_mempool.h>
#include <netmem/pkt.h>

#include "internal.h"
#include "nm_test.h"
#include "dpdk_test.h"
#include "telemetry_client.h"

#define N_MBUFS 1024u
#define ROOM 2048u

static unsigned int listed_pools(void)
{
	struct nm_dpdk_pool *p;
	unsigned int n = 0;

	pthread_mutex_lock(&nm_dpdk_lock);
	TAILQ_FOREACH(p, &nm_dpdk_pools, next)
		n += !p->orphaned;
	pthread_mutex_unlock(&nm_dpdk_lock);
	return n;
}

static struct rte_mempool *make_pool(const char *name, unsigned int n,
				     unsigned int cache, const char *source,
				     struct nm_err *err)
{
	struct nm_dpdk_pool_params prm = { .source = source, .dmabuf_fd = -1, .err = err };

	return nm_dpdk_pktmbuf_pool_create(name, n, cache, 0, ROOM, 0, &prm);
}

static void test_ops_registered(void)
{
	struct rte_mempool_ops *ops = NULL;

	for (unsigned int i = 0; i < rte_mempool_ops_table.num_ops; i++)
		if (!strcmp(rte_mempool_ops_table.ops[i].name, "dmabuf"))
			ops = &rte_mempool_ops_table.ops[i];
	CHECK_MSG(ops, "no mempool ops named dmabuf among %u", rte_mempool_ops_table.num_ops);
}

/* Every mbuf is pinned to its own buffer of the dmabuf: external, with the
 * buffer's IOVA, and the buffers tile the dmabuf without overlap. */
static void test_mbufs_pinned_to_buffers(void)
{
	static struct rte_mbuf *m[N_MBUFS];
	struct nm_err err = { 0 };
	struct nm_dpdk_pool_info pi;
	struct rte_mempool *mp = make_pool("t_pinned", N_MBUFS, 0, "memfd:4M", &err);
	static uint8_t seen[2048];
	uint8_t *base;

	CHECK_MSG(mp, "%s", err.msg);
	CHECK_EQ(nm_dpdk_pool_info(mp, &pi), 0);
	CHECK(!strcmp(pi.exporter, "memfd") && pi.emulated && pi.readable);
	CHECK_EQ(pi.buf_size, 2048);
	CHECK_EQ(pi.num_bufs, 2048);   /* 4 MiB / 2 KiB; the rest stays unused */
	CHECK_EQ(pi.num_objs, N_MBUFS);
	CHECK_EQ(rte_mempool_avail_count(mp), N_MBUFS);
	CHECK_EQ(rte_pktmbuf_alloc_bulk(mp, m, N_MBUFS), 0);
	base = (uint8_t *)m[0]->buf_addr - (m[0]->buf_iova - pi.iova);
	memset(seen, 0, sizeof(seen));
	for (unsigned int i = 0; i < N_MBUFS; i++) {
		uint64_t off = m[i]->buf_iova - pi.iova;

		CHECK(m[i]->ol_flags & RTE_MBUF_F_EXTERNAL);
		CHECK(RTE_MBUF_HAS_PINNED_EXTBUF(m[i]));
		CHECK(m[i]->shinfo && rte_mbuf_ext_refcnt_read(m[i]->shinfo) == 1);
		CHECK_EQ(m[i]->buf_len, ROOM);
		CHECK_EQ(m[i]->data_off, RTE_PKTMBUF_HEADROOM);
		CHECK_EQ(off % 2048, 0);
		CHECK(off < pi.dmabuf_size);
		CHECK((uint8_t *)m[i]->buf_addr == base + off);
		CHECK_MSG(!seen[off / 2048], "buffer %llu handed out twice",
			  (unsigned long long)(off / 2048));
		seen[off / 2048] = 1;
		/* The CPU view and the device view are the same bytes. */
		nm_pattern_fill(rte_pktmbuf_mtod(m[i], void *), 64, 0, i);
		CHECK(rte_mem_virt2iova(rte_pktmbuf_mtod(m[i], void *)) ==
		      rte_pktmbuf_iova(m[i]));
	}
	for (unsigned int i = 0; i < N_MBUFS; i++)
		CHECK_EQ(nm_pattern_check(rte_pktmbuf_mtod(m[i], void *), 64, 0, i), -1);
	rte_pktmbuf_free_bulk(m, N_MBUFS);
	CHECK_EQ(rte_mempool_avail_count(mp), N_MBUFS);
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
}

/* A private area behind each mbuf (priv_size 64, 128): the object still has
 * room for it and for the tail (the object sizing counts the mempool's
 * cache-aligned object header, not its bare struct). */
static void test_priv_area_fits(void)
{
	static const uint16_t sizes[] = { 64, 128 };

	for (unsigned int k = 0; k < 2; k++) {
		struct nm_dpdk_pool_params prm = { .source = "memfd:1M", .dmabuf_fd = -1 };
		struct nm_err err = { 0 };
		struct rte_mempool *mp;
		struct rte_mbuf *m;

		prm.err = &err;
		mp = nm_dpdk_pktmbuf_pool_create("t_priv", 64, 0, sizes[k], ROOM, 0, &prm);
		CHECK_MSG(mp, "priv_size %u: %s", sizes[k], err.msg);
		m = rte_pktmbuf_alloc(mp);
		CHECK(m);
		CHECK_EQ(m->priv_size, sizes[k]);
		memset(rte_mbuf_to_priv(m), 0xa5, sizes[k]);
		CHECK(m->ol_flags & RTE_MBUF_F_EXTERNAL);
		CHECK_EQ(rte_mbuf_ext_refcnt_read(m->shinfo), 1);
		rte_pktmbuf_free(m);
		CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
	}
}

/* Bulk get/put move buffers between the pool and the caller, and the ops'
 * count and the binding's free list agree at every step. */
static void test_bulk_get_put_counts(void)
{
	static void *objs[N_MBUFS];
	struct nm_err err = { 0 };
	struct nm_dpdk_pool_info pi;
	struct rte_mempool *mp = make_pool("t_bulk", N_MBUFS, 0, "memfd:2M", &err);

	CHECK_MSG(mp, "%s", err.msg);
	CHECK_EQ(rte_mempool_get_bulk(mp, objs, 100), 0);
	CHECK_EQ(rte_mempool_avail_count(mp), N_MBUFS - 100);
	CHECK_EQ(rte_mempool_in_use_count(mp), 100);
	CHECK_EQ(nm_dpdk_pool_info(mp, &pi), 0);
	CHECK_EQ(pi.free_bufs, N_MBUFS - 100);
	CHECK_EQ(rte_mempool_get_bulk(mp, objs + 100, 28), 0);
	CHECK_EQ(rte_mempool_avail_count(mp), N_MBUFS - 128);
	rte_mempool_put_bulk(mp, objs, 64);
	CHECK_EQ(rte_mempool_avail_count(mp), N_MBUFS - 64);
	rte_mempool_put_bulk(mp, objs + 64, 64);
	CHECK_EQ(rte_mempool_avail_count(mp), N_MBUFS);
	CHECK(rte_mempool_full(mp));
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
}

/* Running dry is an error, and a failed get takes nothing. */
static void test_exhaustion_loses_nothing(void)
{
	static void *objs[N_MBUFS + 32];
	struct nm_err err = { 0 };
	struct rte_mempool *mp = make_pool("t_dry", N_MBUFS, 0, "memfd:2M", &err);
	unsigned int got = 0;

	CHECK_MSG(mp, "%s", err.msg);
	while (got + 100 <= N_MBUFS) {
		CHECK_EQ(rte_mempool_get_bulk(mp, objs + got, 100), 0);
		got += 100;
	}
	CHECK_EQ(rte_mempool_avail_count(mp), N_MBUFS - got);       /* 24 left */
	CHECK(rte_mempool_get_bulk(mp, objs + got, 32) < 0);         /* wants 32 */
	CHECK_EQ(rte_mempool_avail_count(mp), N_MBUFS - got);       /* still 24 */
	CHECK_EQ(rte_mempool_get_bulk(mp, objs + got, N_MBUFS - got), 0);
	got = N_MBUFS;
	CHECK_EQ(rte_mempool_avail_count(mp), 0);
	CHECK(rte_mempool_get(mp, &objs[got]) < 0);
	CHECK(rte_pktmbuf_alloc(mp) == NULL);
	CHECK_EQ(rte_mempool_avail_count(mp), 0);
	/* All distinct, all ours. */
	for (unsigned int i = 0; i < got; i++)
		for (unsigned int j = i + 1; j < got; j++)
			CHECK(objs[i] != objs[j]);
	rte_mempool_put_bulk(mp, objs, got);
	CHECK_EQ(rte_mempool_avail_count(mp), N_MBUFS);
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
}

/*
 * The free list (a lock-free ring of object pointers) from several threads
 * at once, bulks of every size so claims wrap the ring at every offset:
 * no object is ever held by two threads, none is lost, the count is exact
 * afterwards. Plain threads, not lcores: the ops serve any thread.
 */
#define FL_THREADS 4
#define FL_ROUNDS 100000

struct fl_shared {
	struct rte_mempool *mp;
	struct nm_dpdk_pool *p;
	atomic_int owner[N_MBUFS];  /* 0 free, else thread id + 1 */
	atomic_uint clashes, failures;
};

struct fl_worker {
	struct fl_shared *s;
	int id;
};

static unsigned int fl_index(const struct nm_dpdk_pool *p, void *obj)
{
	/* Objects lin_low + 1 bytes apart from lin_base. */
	return (unsigned int)(((uintptr_t)obj - p->lin_base) / (p->lin_low + 1));
}

static void *fl_run(void *arg)
{
	struct fl_worker *w = arg;
	struct fl_shared *s = w->s;
	void *objs[64];
	unsigned int seed = (unsigned int)w->id * 7919u + 1;

	for (int r = 0; r < FL_ROUNDS; r++) {
		unsigned int n = 1 + (seed = seed * 1103515245u + 12345u) % 64;

		if (rte_mempool_generic_get(s->mp, objs, n, NULL)) {
			atomic_fetch_add(&s->failures, 1);  /* the others hold them */
			continue;
		}
		for (unsigned int i = 0; i < n; i++)
			if (atomic_exchange(&s->owner[fl_index(s->p, objs[i])], w->id + 1))
				atomic_fetch_add(&s->clashes, 1);
		for (unsigned int i = 0; i < n; i++)
			atomic_store(&s->owner[fl_index(s->p, objs[i])], 0);
		rte_mempool_generic_put(s->mp, objs, n, NULL);
	}
	return NULL;
}

static void test_free_list_threads(void)
{
	static struct fl_shared s;
	static void *objs[N_MBUFS];
	struct fl_worker w[FL_THREADS];
	pthread_t th[FL_THREADS];
	struct nm_err err = { 0 };

	memset(&s, 0, sizeof(s));
	/* 200 objects for 4 threads taking up to 64: the pool runs dry now
	 * and then, which the test must survive too. */
	s.mp = make_pool("t_threads", 200, 0, "memfd:1M", &err);
	CHECK_MSG(s.mp, "%s", err.msg);
	s.p = s.mp->pool_data;
	CHECK(s.p->linear);
	for (int i = 0; i < FL_THREADS; i++) {
		w[i] = (struct fl_worker){ &s, i };
		CHECK_EQ(pthread_create(&th[i], NULL, fl_run, &w[i]), 0);
	}
	for (int i = 0; i < FL_THREADS; i++)
		pthread_join(th[i], NULL);
	printf("# %u dry gets of %u\n", atomic_load(&s.failures), FL_THREADS * FL_ROUNDS);
	CHECK_EQ(atomic_load(&s.clashes), 0);
	CHECK_EQ(rte_mempool_avail_count(s.mp), 200);
	/* Each object back exactly once. */
	CHECK_EQ(rte_mempool_get_bulk(s.mp, objs, 200), 0);
	for (unsigned int i = 0; i < 200; i++)
		CHECK(!atomic_exchange(&s.owner[fl_index(s.p, objs[i])], 1));
	rte_mempool_put_bulk(s.mp, objs, 200);
	CHECK_EQ(nm_dpdk_pool_free(s.mp, &err), 0);
}

/* With a per-lcore cache the counts still add up, and freeing works once
 * every mbuf is back (some of them in the cache). */
static void test_cache_counts(void)
{
	static void *objs[512];
	struct nm_err err = { 0 };
	struct rte_mempool *mp = make_pool("t_cache", N_MBUFS, 64, "memfd:2M", &err);

	CHECK_MSG(mp, "%s", err.msg);
	for (int round = 0; round < 50; round++) {
		unsigned int n = 1 + (unsigned int)(round * 37) % 500;

		CHECK_EQ(rte_mempool_get_bulk(mp, objs, n), 0);
		CHECK_EQ(rte_mempool_in_use_count(mp), n);
		rte_mempool_put_bulk(mp, objs, n);
		CHECK_EQ(rte_mempool_avail_count(mp), N_MBUFS);
	}
	CHECK(rte_mempool_default_cache(mp, rte_lcore_id())->len > 0);
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
}

/* nm_dpdk_pool_free() refuses while mbufs are out and the pool keeps
 * working; once they are back it frees, and the dmabuf leaves EAL. */
static void test_free_refused_while_outstanding(void)
{
	struct rte_mbuf *m[5];
	struct nm_err err = { 0 };
	struct rte_mempool *mp = make_pool("t_busy", N_MBUFS, 32, "memfd:2M", &err);
	unsigned int before = listed_pools();
	void *addr;

	CHECK_MSG(mp, "%s", err.msg);
	CHECK_EQ(rte_pktmbuf_alloc_bulk(mp, m, 5), 0);
	addr = m[0]->buf_addr;
	CHECK(rte_mem_virt2memseg_list(addr) != NULL);   /* registered with EAL */
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), -EBUSY);
	CHECK_MSG(strstr(err.msg, "5 of 1024"), "reason: %s", err.msg);
	CHECK_EQ(listed_pools(), before);
	/* Still a working pool. */
	struct rte_mbuf *x = rte_pktmbuf_alloc(mp);

	CHECK(x);
	rte_pktmbuf_free(x);
	rte_pktmbuf_free_bulk(m, 5);
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
	CHECK_EQ(listed_pools(), before - 1);
	CHECK(rte_mem_virt2memseg_list(addr) == NULL);   /* gone from EAL */
}

/* A plain rte_mempool_free() cannot be refused; with mbufs out, the driver
 * keeps the dmabuf registered and mapped, and says the pool is orphaned. */
static void test_plain_free_keeps_dmabuf_mapped(void)
{
	struct nm_err err = { 0 };
	struct rte_mempool *mp = make_pool("t_orphan", 256, 0, "memfd:1M", &err);
	struct nm_dpdk_pool *p;
	struct rte_mbuf *m;
	bool orphaned = false;
	void *addr;

	CHECK_MSG(mp, "%s", err.msg);
	m = rte_pktmbuf_alloc(mp);
	CHECK(m);
	addr = m->buf_addr;
	rte_mempool_free(mp);          /* m's header is gone with the pool */
	CHECK(rte_mem_virt2memseg_list(addr) != NULL);
	pthread_mutex_lock(&nm_dpdk_lock);
	TAILQ_FOREACH(p, &nm_dpdk_pools, next)
		if (!strcmp(p->name, "t_orphan"))
			orphaned = p->orphaned;
	pthread_mutex_unlock(&nm_dpdk_lock);
	CHECK(orphaned);
}

/* A clone shares the pinned buffer: the mbuf goes back only when both the
 * original and the clone are freed. */
static void test_clone_holds_buffer(void)
{
	struct nm_err err = { 0 };
	struct rte_mempool *mp = make_pool("t_clone", 64, 0, "memfd:1M", &err);
	struct rte_mempool *ind = rte_pktmbuf_pool_create_by_ops("t_ind", 64, 0, 0, 0, 0,
								 "ring_mp_mc");
	struct rte_mbuf *m, *c;

	CHECK_MSG(mp, "%s", err.msg);
	CHECK(ind);
	m = rte_pktmbuf_alloc(mp);
	CHECK(m);
	rte_pktmbuf_append(m, 100);
	c = rte_pktmbuf_clone(m, ind);
	CHECK(c);
	CHECK(c->buf_iova == m->buf_iova);
	CHECK_EQ(rte_mbuf_ext_refcnt_read(m->shinfo), 2);
	rte_pktmbuf_free(m);
	CHECK_EQ(rte_mempool_avail_count(mp), 63);   /* the clone holds it */
	rte_pktmbuf_free(c);
	CHECK_EQ(rte_mempool_avail_count(mp), 64);
	CHECK_EQ(rte_mempool_avail_count(ind), 64);
	m = rte_pktmbuf_alloc(mp);
	CHECK(m && rte_mbuf_ext_refcnt_read(m->shinfo) == 1);
	CHECK(m->ol_flags & RTE_MBUF_F_EXTERNAL);
	rte_pktmbuf_free(m);
	rte_mempool_free(ind);
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
}

/* rte_pktmbuf_pool_create_by_ops(..., "dmabuf") with the source from
 * $NETMEM_DMABUF: the mbufs still get their data room in the dmabuf. */
static void test_by_ops_name_env(void)
{
	struct nm_dpdk_pool_info pi;
	struct rte_mempool *mp;
	struct rte_mbuf *m;

	setenv("NETMEM_DMABUF", "memfd:4M", 1);
	mp = rte_pktmbuf_pool_create_by_ops("t_byops", 512, 32, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, 0, "dmabuf");
	unsetenv("NETMEM_DMABUF");
	CHECK_MSG(mp, "rte_errno %d", rte_errno);
	CHECK(nm_dpdk_pool_is_dmabuf(mp));
	CHECK_EQ(nm_dpdk_pool_info(mp, &pi), 0);
	CHECK(!strcmp(pi.source, "memfd:4M"));
	CHECK_EQ(pi.buf_size, 4096);   /* 2176 rounded up */
	m = rte_pktmbuf_alloc(mp);
	CHECK(m);
	CHECK(m->ol_flags & RTE_MBUF_F_EXTERNAL);
	CHECK(m->buf_iova >= pi.iova && m->buf_iova < pi.iova + pi.dmabuf_size);
	CHECK_EQ(m->buf_len, RTE_MBUF_DEFAULT_BUF_SIZE);
	rte_pktmbuf_free(m);
	CHECK_EQ(nm_dpdk_pool_free(mp, NULL), 0);
}

/* What --mbuf-pool-ops-name=dmabuf does for an unmodified app: the user's
 * ops become the best ops, and rte_pktmbuf_pool_create() uses them; with
 * no $NETMEM_DMABUF the dmabuf is sized to fit. */
static void test_best_ops_for_unmodified_apps(void)
{
	const char *old = rte_mbuf_best_mempool_ops();
	char saved[RTE_MEMPOOL_OPS_NAMESIZE];
	struct nm_dpdk_pool_info pi;
	struct rte_mempool *mp;

	snprintf(saved, sizeof(saved), "%s", old);
	unsetenv("NETMEM_DMABUF");
	CHECK_EQ(rte_mbuf_set_user_mempool_ops("dmabuf"), 0);
	mp = rte_pktmbuf_pool_create("t_best", 300, 16, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	rte_mbuf_set_user_mempool_ops(saved);
	CHECK_MSG(mp, "rte_errno %d", rte_errno);
	CHECK(nm_dpdk_pool_is_dmabuf(mp));
	CHECK_EQ(nm_dpdk_pool_info(mp, &pi), 0);
	CHECK_MSG(!strncmp(pi.source, "auto:", 5), "source %s", pi.source);
	CHECK_EQ(pi.num_bufs, 300);
	CHECK_EQ(nm_dpdk_pool_free(mp, NULL), 0);
}

/* A dmabuf too small for the pool: refused with the reason, nothing left. */
static void test_too_small_refused(void)
{
	struct nm_err err = { 0 };
	unsigned int before = listed_pools();
	struct rte_mempool *mp = make_pool("t_small", 512, 0, "memfd:64K", &err);

	CHECK(mp == NULL);
	CHECK_EQ(rte_errno, ENOSPC);
	CHECK_MSG(strstr(err.msg, "holds 32"), "reason: %s", err.msg);
	CHECK(rte_mempool_lookup("t_small") == NULL);
	CHECK_EQ(listed_pools(), before);
}

/* "fd:N" must name a dmabuf; a regular file is refused, and says why. */
static void test_not_a_dmabuf_refused(void)
{
	char path[] = "/tmp/nmtest-notdmabuf-XXXXXX";
	struct nm_err err = { 0 };
	struct nm_dpdk_pool_params prm = { .dmabuf_fd = -1, .err = &err };
	struct rte_mempool *mp;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	CHECK_EQ(ftruncate(fd, 1 << 20), 0);
	prm.dmabuf_fd = fd;
	mp = nm_dpdk_pktmbuf_pool_create("t_notdb", 64, 0, 0, ROOM, 0, &prm);
	close(fd);
	CHECK(mp == NULL);
	CHECK_EQ(rte_errno, ENOTTY);
	CHECK_MSG(strstr(err.msg, "not a dmabuf"), "reason: %s", err.msg);
}

/* A real udmabuf, and the same dmabuf refused for a second pool. */
static void test_udmabuf_one_pool_per_dmabuf(void)
{
	struct nm_err err = { 0 };
	struct nm_dmabuf *db;
	struct nm_dpdk_pool_params prm = { .dmabuf_fd = -1, .err = &err };
	struct nm_dpdk_pool_info pi;
	struct rte_mempool *a, *b;

	if (access("/dev/udmabuf", R_OK | W_OK))
		SKIP("no /dev/udmabuf on this machine (the guest suite runs it)");
	CHECK_MSG(nm_dmabuf_create_udmabuf(2 << 20, &db, &err) == 0, "%s", err.msg);
	prm.dmabuf_fd = db->fd;
	prm.memfd = db->backing_fd;   /* what VFIO type1 can pin */
	a = nm_dpdk_pktmbuf_pool_create("t_udma", 512, 0, 0, ROOM, 0, &prm);
	CHECK_MSG(a, "%s", err.msg);
	CHECK_EQ(nm_dpdk_pool_info(a, &pi), 0);
	CHECK(!strcmp(pi.exporter, "udmabuf") && !pi.emulated);
	b = nm_dpdk_pktmbuf_pool_create("t_udmb", 64, 0, 0, ROOM, 0, &prm);
	CHECK(b == NULL);
	CHECK_EQ(rte_errno, EBUSY);
	CHECK_EQ(nm_dpdk_pool_free(a, &err), 0);
	nm_dmabuf_put(db);
}

/* A PMD fills dmabuf mbufs and they all come back: net_null receives from
 * the dmabuf pool, the app frees, the counts return to full. */
/*
 * Pools with nothing to put in a dmabuf keep host memory on the same ops:
 * a plain object pool and an mbuf pool without a data room work in full
 * (every object out and back, exhaustion an error), are listed with their
 * reason, and make no binding; a pool with a data room still gets one.
 */
static void test_host_fallback_pools(void)
{
	static void *objs[300];
	struct nm_dpdk_pool_info pi;
	struct rte_mempool *plain, *ind, *dm;
	unsigned int before = listed_pools();
	char out[4096];
	void *extra;
	int n;

	plain = rte_mempool_create_empty("t_host_plain", 255, 64, 0, 0, 0, 0);
	CHECK(plain);
	CHECK_EQ(rte_mempool_set_ops_byname(plain, "dmabuf", NULL), 0);
	CHECK(rte_mempool_populate_default(plain) > 0);
	CHECK(!nm_dpdk_pool_is_dmabuf(plain));
	CHECK(nm_dpdk_pool_host_fallback(plain) != NULL);
	CHECK(strstr(nm_dpdk_pool_host_fallback(plain), "not a pktmbuf pool"));
	CHECK_EQ(nm_dpdk_pool_info(plain, &pi), -EINVAL);
	CHECK_EQ(rte_mempool_avail_count(plain), 255);
	CHECK_EQ(rte_mempool_get_bulk(plain, objs, 255), 0);
	CHECK(rte_mempool_get(plain, &extra) != 0);
	for (int i = 0; i < 255; i++)
		for (int j = 0; j < i; j++)
			CHECK(objs[i] != objs[j]);
	rte_mempool_put_bulk(plain, objs, 255);
	CHECK(rte_mempool_full(plain));

	/* Indirect mbufs (clone pools): no data room. */
	ind = rte_pktmbuf_pool_create_by_ops("t_host_ind", 300, 0, 0, 0, 0, "dmabuf");
	CHECK(ind);
	CHECK(strstr(nm_dpdk_pool_host_fallback(ind), "no data room"));
	CHECK_EQ(rte_pktmbuf_alloc_bulk(ind, (struct rte_mbuf **)objs, 300), 0);
	rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, 300);
	CHECK_EQ(rte_mempool_avail_count(ind), 300);
	CHECK_EQ(listed_pools(), before);       /* no binding for either */

	dm = rte_pktmbuf_pool_create_by_ops("t_host_dm", 64, 0, 0, ROOM, 0, "dmabuf");
	CHECK(dm);
	CHECK(nm_dpdk_pool_is_dmabuf(dm));
	CHECK(nm_dpdk_pool_host_fallback(dm) == NULL);
	CHECK_EQ(listed_pools(), before + 1);

	n = nm_telemetry_query("/netmem/host_pools", out, sizeof(out));
	if (n > 0) {
		printf("# /netmem/host_pools -> %s\n", out);
		CHECK(strstr(out, "t_host_plain"));
		CHECK(strstr(out, "t_host_ind"));
		CHECK(!strstr(out, "t_host_dm"));
	} else {
		printf("# no telemetry socket here: %s\n", strerror(-n));
	}
	rte_mempool_free(plain);
	rte_mempool_free(ind);
	CHECK_EQ(nm_dpdk_pool_free(dm, NULL), 0);
	pthread_mutex_lock(&nm_dpdk_lock);
	CHECK(TAILQ_EMPTY(&nm_dpdk_host_pools));
	pthread_mutex_unlock(&nm_dpdk_lock);
}

/* NETMEM_DMABUF_POOLS picks the pools that go into a dmabuf: a pool it does
 * not name keeps host memory (testpmd's header pool with buffer split). */
static void test_pools_selected_by_name(void)
{
	struct rte_mempool *hdr, *pay;
	unsigned int before = listed_pools();
	struct rte_mbuf *m;

	setenv(NM_DPDK_DMABUF_POOLS_ENV, "t_sel_other,t_sel_pay", 1);
	hdr = rte_pktmbuf_pool_create_by_ops("t_sel_hdr", 64, 0, 0, ROOM, 0, "dmabuf");
	pay = rte_pktmbuf_pool_create_by_ops("t_sel_pay", 64, 0, 0, ROOM, 0, "dmabuf");
	unsetenv(NM_DPDK_DMABUF_POOLS_ENV);
	CHECK(hdr && pay);
	CHECK(!nm_dpdk_pool_is_dmabuf(hdr));
	CHECK(nm_dpdk_pool_host_fallback(hdr) &&
	      strstr(nm_dpdk_pool_host_fallback(hdr), "not named in NETMEM_DMABUF_POOLS"));
	CHECK(nm_dpdk_pool_is_dmabuf(pay));
	CHECK_EQ(listed_pools(), before + 1);   /* one binding: the payload pool's */
	m = rte_pktmbuf_alloc(hdr);
	CHECK(m && !(m->ol_flags & RTE_MBUF_F_EXTERNAL));
	rte_pktmbuf_free(m);
	rte_mempool_free(hdr);
	CHECK_EQ(nm_dpdk_pool_free(pay, NULL), 0);
}

/* The free list's fast paths (object address -> buffer index by a shift,
 * or through the bucket table for pools of odd-sized objects) refuse what
 * is not one of the pool's objects and lose nothing. */
static void check_stranger(struct rte_mempool *mp)
{
	static void *objs[64];
	uint8_t junk[512];
	void *bad[2];

	CHECK_EQ(rte_mempool_get_bulk(mp, objs, 64), 0);
	/* One inside an object, one outside the pool. */
	bad[0] = (uint8_t *)objs[0] + 8;
	bad[1] = junk + 64;
	for (int i = 0; i < 2; i++)
		CHECK_EQ(rte_mempool_ops_enqueue_bulk(mp, &bad[i], 1), -EINVAL);
	CHECK_EQ(rte_mempool_avail_count(mp), mp->size - 64);
	/* In a burst: the objects before the stranger go back, the call
	 * fails, the rest stay the caller's. Each place a vector turn or the
	 * scalar tail sees it: first, middle, last of 32, and of an odd 13. */
	{
		static const unsigned int at[] = { 0, 13, 31, 12 };
		static const unsigned int len[] = { 32, 32, 32, 13 };
		const struct nm_dpdk_pool *p = mp->pool_data;

		for (unsigned int k = 0; k < RTE_DIM(at); k++) {
			void *burst[32];

			memcpy(burst, objs, sizeof(burst));
			burst[at[k]] = (k & 1) && p->linear ? (void *)p->lin_end :
				       (uint8_t *)objs[at[k]] - 64;
			CHECK_EQ(rte_mempool_ops_enqueue_bulk(mp, burst, len[k]), -EINVAL);
			CHECK_EQ(rte_mempool_avail_count(mp), mp->size - 64 + at[k]);
			/* The rest, and only the rest, back: a full pool. */
			rte_mempool_put_bulk(mp, &objs[at[k]], 64 - at[k]);
			CHECK(rte_mempool_full(mp));
			CHECK_EQ(rte_mempool_get_bulk(mp, objs, 64), 0);
		}
	}
	rte_mempool_put_bulk(mp, objs, 64);
	CHECK(rte_mempool_full(mp));
	/* Same objects back, each exactly once. */
	CHECK_EQ(rte_mempool_get_bulk(mp, objs, 64), 0);
	for (int i = 0; i < 64; i++)
		for (int j = 0; j < i; j++)
			CHECK(objs[i] != objs[j]);
	rte_mempool_put_bulk(mp, objs, 64);
}

/* A dmabuf pool whose objects sit in two memory chunks (not linear: the
 * free list checks puts by the bucket table); rte_free() *mem after it. */
static struct rte_mempool *two_chunk_pool(const char *name, void *mem[2])
{
	struct rte_pktmbuf_pool_private priv = { .mbuf_data_room_size = ROOM };
	struct nm_dpdk_pool_params params = { .source = "memfd:1M", .dmabuf_fd = -1, .memfd = -1 };
	struct rte_mempool *mp;
	size_t stride, len;

	mp = rte_mempool_create_empty(name, 256, sizeof(struct rte_mbuf) + ROOM, 0,
				      sizeof(priv), 0, 0);
	if (!mp || rte_mempool_set_ops_byname(mp, "dmabuf", &params))
		return NULL;
	rte_pktmbuf_pool_init(mp, &priv);
	stride = rte_align64pow2(mp->header_size + mp->elt_size + mp->trailer_size);
	len = 128 * stride;
	for (int i = 0; i < 2; i++) {
		mem[i] = rte_malloc(name, len, stride);
		if (!mem[i] || rte_mempool_populate_virt(mp, mem[i], len, len, NULL, NULL) != 128)
			return NULL;
	}
	mp->pool_config = NULL;
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
}

static void test_stranger_refused(void)
{
	struct nm_err err = { 0 };
	struct rte_mempool *lin = make_pool("t_stranger", 256, 0, "memfd:1M", &err);
	struct rte_mempool *odd;
	struct rte_mbuf *m;
	void *mem[2] = { NULL, NULL };

	CHECK_MSG(lin, "%s", err.msg);
	CHECK(((struct nm_dpdk_pool *)lin->pool_data)->linear);
	check_stranger(lin);
	CHECK(!nm_test_failed);
	CHECK_EQ(nm_dpdk_pool_free(lin, &err), 0);
	/* What applications get (--mbuf-pool-ops-name): linear too. */
	setenv("NETMEM_DMABUF", "memfd:1M", 1);
	lin = rte_pktmbuf_pool_create_by_ops("t_stranger2", 256, 0, 0, ROOM, 0, "dmabuf");
	unsetenv("NETMEM_DMABUF");
	CHECK(lin);
	m = rte_pktmbuf_alloc(lin);   /* the first get attaches: tables built */
	CHECK(m);
	CHECK(((struct nm_dpdk_pool *)lin->pool_data)->linear);
	rte_pktmbuf_free(m);
	check_stranger(lin);
	CHECK(!nm_test_failed);
	rte_mempool_free(lin);
	/* Two chunks: the bucket table. */
	odd = two_chunk_pool("t_stranger3", mem);
	CHECK(odd);
	m = rte_pktmbuf_alloc(odd);
	CHECK(m);
	CHECK(!((struct nm_dpdk_pool *)odd->pool_data)->linear);
	CHECK(((struct nm_dpdk_pool *)odd->pool_data)->lk != NULL);
	CHECK_EQ(rte_mempool_in_use_count(odd), 1);
	rte_pktmbuf_free(m);
	check_stranger(odd);
	CHECK(!nm_test_failed);
	rte_mempool_free(odd);
	rte_free(mem[0]);
	rte_free(mem[1]);
}

/*
 * What mbuf_autotest's test_attach_from_different_pool trips on, on DPDK's
 * own pinned external-buffer pool and on ours alike: attaching a clone to an
 * mbuf with an external buffer counts the clone in the buffer's shared
 * info, not in the mbuf's refcount (the autotest expects 2 there).
 */
static void attach_counts(struct rte_mempool *mp, struct rte_mempool *clones,
			  uint16_t *m_ref, uint16_t *ext_ref)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp), *c = rte_pktmbuf_alloc(clones);

	*m_ref = *ext_ref = 0;
	if (!m || !c)
		return;
	rte_pktmbuf_attach(c, m);
	*m_ref = rte_mbuf_refcnt_read(m);
	*ext_ref = rte_mbuf_ext_refcnt_read(m->shinfo);
	rte_pktmbuf_free(c);
	rte_pktmbuf_free(m);
}

/*
 * What crashes mbuf_autotest on 22.11 after test_attach_from_different_pool
 * failed, on DPDK's own pinned external-buffer pool as on ours:
 * rte_pktmbuf_copy() into such a pool clears RTE_MBUF_F_EXTERNAL on the copy
 * (lib/mbuf/rte_mbuf.c, 22.11 and 25.11), which keeps its pinned buffer and
 * so passes for a direct mbuf; a clone attached to it is made indirect, and
 * freeing the clone takes the header 128 bytes before the buffer for the
 * mbuf that owns it (rte_mbuf_from_indirect()) and puts it into its pool, a
 * NULL one. Run in a child each; the outcomes must be DPDK's own.
 */
static int copy_then_clone(struct rte_mempool *mp, struct rte_mempool *clones,
			   int *external)
{
	struct rlimit no_core = { 0, 0 };
	int fds[2], st = -1;
	pid_t pid;

	*external = -1;
	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp), *cp, *c;
		char ext;

		setrlimit(RLIMIT_CORE, &no_core);
		if (!m || !rte_pktmbuf_append(m, 64))
			_exit(2);
		cp = rte_pktmbuf_copy(m, mp, 0, UINT32_MAX);
		c = rte_pktmbuf_alloc(clones);
		if (!cp || !c)
			_exit(3);
		ext = (cp->ol_flags & RTE_MBUF_F_EXTERNAL) ? 1 : 0;
		if (write(fds[1], &ext, 1) != 1)
			_exit(4);
		rte_pktmbuf_attach(c, cp);
		rte_pktmbuf_free(c);
		rte_pktmbuf_free(cp);
		rte_pktmbuf_free(m);
		_exit(0);
	}
	close(fds[1]);
	if (pid > 0) {
		char ext;

		if (read(fds[0], &ext, 1) == 1)
			*external = ext;
		if (waitpid(pid, &st, 0) != pid)
			st = -1;
	}
	close(fds[0]);
	return st;
}

static void describe(int st, char *buf, size_t len)
{
	if (st < 0)
		snprintf(buf, len, "no child");
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, len, "exit %d", WEXITSTATUS(st));
}

static void test_pinned_copy_like_dpdk(void)
{
	struct rte_pktmbuf_extmem ext = { .elt_size = ROOM };
	struct nm_err err = { 0 };
	struct rte_mempool *ours, *dpdk, *clones;
	int st_dpdk, st_ours, ext_dpdk, ext_ours;
	char a[32], b[32];

	ext.buf_len = 64 * ROOM;
	ext.buf_ptr = rte_malloc("t_cpmem", ext.buf_len, RTE_CACHE_LINE_SIZE);
	CHECK(ext.buf_ptr);
	ext.buf_iova = rte_malloc_virt2iova(ext.buf_ptr);
	dpdk = rte_pktmbuf_pool_create_extbuf("t_cp_dpdk", 64, 0, 0, ROOM, 0, &ext, 1);
	CHECK_MSG(dpdk, "rte_pktmbuf_pool_create_extbuf: %s", rte_strerror(rte_errno));
	ours = make_pool("t_cp_ours", 64, 0, "memfd:1M", &err);
	CHECK_MSG(ours, "%s", err.msg);
	clones = rte_pktmbuf_pool_create("t_cp_clones", 64, 0, 0, 0, 0);
	CHECK(clones);
	st_dpdk = copy_then_clone(dpdk, clones, &ext_dpdk);
	st_ours = copy_then_clone(ours, clones, &ext_ours);
	describe(st_dpdk, a, sizeof(a));
	describe(st_ours, b, sizeof(b));
	printf("# rte_pktmbuf_copy() into a pinned pool, then a clone of the copy freed: "
	       "DPDK's pool: copy %s RTE_MBUF_F_EXTERNAL, %s; dmabuf: copy %s it, %s\n",
	       ext_dpdk ? "keeps" : "loses", a, ext_ours ? "keeps" : "loses", b);
	CHECK(st_dpdk >= 0 && st_ours >= 0);
	CHECK_EQ(ext_ours, ext_dpdk);
	CHECK_EQ(st_ours, st_dpdk);
	/* EAL's memory is shared with the children: the mbufs a crashed one
	 * held are gone (ours keeps its dmabuf mapped for them, saying so). */
	rte_mempool_free(clones);
	rte_mempool_free(ours);
	rte_mempool_free(dpdk);
	rte_free(ext.buf_ptr);
}

static void test_pinned_attach_like_dpdk(void)
{
	struct rte_pktmbuf_extmem ext = { .elt_size = ROOM };
	struct nm_err err = { 0 };
	struct rte_mempool *ours, *dpdk, *clones;
	uint16_t our_m, our_ext, dpdk_m, dpdk_ext;

	ext.buf_len = 64 * ROOM;
	ext.buf_ptr = rte_malloc("t_extmem", ext.buf_len, RTE_CACHE_LINE_SIZE);
	CHECK(ext.buf_ptr);
	ext.buf_iova = rte_malloc_virt2iova(ext.buf_ptr);
	dpdk = rte_pktmbuf_pool_create_extbuf("t_ext_dpdk", 64, 0, 0, ROOM, 0, &ext, 1);
	CHECK_MSG(dpdk, "rte_pktmbuf_pool_create_extbuf: %s", rte_strerror(rte_errno));
	ours = make_pool("t_ext_ours", 64, 0, "memfd:1M", &err);
	CHECK_MSG(ours, "%s", err.msg);
	clones = rte_pktmbuf_pool_create("t_ext_clones", 64, 0, 0, 0, 0);
	CHECK(clones);
	attach_counts(dpdk, clones, &dpdk_m, &dpdk_ext);
	attach_counts(ours, clones, &our_m, &our_ext);
	printf("# after attaching a clone: DPDK pinned pool refcnt %u, ext %u; dmabuf %u, ext %u\n",
	       dpdk_m, dpdk_ext, our_m, our_ext);
	CHECK_EQ(dpdk_m, 1);
	CHECK_EQ(dpdk_ext, 2);
	CHECK_EQ(our_m, dpdk_m);
	CHECK_EQ(our_ext, dpdk_ext);
	CHECK(rte_mempool_full(ours));
	CHECK(rte_mempool_full(dpdk));
	rte_mempool_free(clones);
	CHECK_EQ(nm_dpdk_pool_free(ours, &err), 0);
	rte_mempool_free(dpdk);
	rte_free(ext.buf_ptr);
}

static void test_net_null_receives_into_dmabuf(void)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_mbuf *pkts[32];
	struct nm_err err = { 0 };
	struct nm_dpdk_pool_info pi;
	struct rte_mempool *mp = make_pool("t_null", 512, 32, "memfd:1M", &err);
	uint16_t port;
	uint64_t rx = 0;

	CHECK_MSG(mp, "%s", err.msg);
	CHECK_EQ(rte_eth_dev_get_port_by_name("net_null0", &port), 0);
	CHECK_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
	CHECK_EQ(rte_eth_rx_queue_setup(port, 0, 128, 0, NULL, mp), 0);
	CHECK_EQ(rte_eth_tx_queue_setup(port, 0, 128, 0, NULL), 0);
	CHECK_EQ(rte_eth_dev_start(port), 0);
	CHECK_EQ(nm_dpdk_pool_info(mp, &pi), 0);
	for (int i = 0; i < 100; i++) {
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, 32);

		for (uint16_t k = 0; k < n; k++) {
			CHECK(pkts[k]->pool == mp);
			CHECK(pkts[k]->buf_iova >= pi.iova &&
			      pkts[k]->buf_iova < pi.iova + pi.dmabuf_size);
		}
		rx += n;
		rte_pktmbuf_free_bulk(pkts, n);
	}
	CHECK_EQ(rx, 3200);
	CHECK_EQ(rte_eth_dev_stop(port), 0);
	CHECK_EQ(rte_mempool_avail_count(mp), 512);
	/* The pool is free to go, its port keeps no mbufs. */
	CHECK_EQ(rte_eth_dev_close(port), 0);
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
}

int main(int argc, char **argv)
{
	static const char *const vdevs[] = { "--vdev=net_null0", NULL };
	static const struct nm_test tests[] = {
		NM_TEST(test_ops_registered),
		NM_TEST(test_mbufs_pinned_to_buffers),
		NM_TEST(test_priv_area_fits),
		NM_TEST(test_bulk_get_put_counts),
		NM_TEST(test_exhaustion_loses_nothing),
		NM_TEST(test_free_list_threads),
		NM_TEST(test_cache_counts),
		NM_TEST(test_free_refused_while_outstanding),
		NM_TEST(test_plain_free_keeps_dmabuf_mapped),
		NM_TEST(test_clone_holds_buffer),
		NM_TEST(test_by_ops_name_env),
		NM_TEST(test_best_ops_for_unmodified_apps),
		NM_TEST(test_too_small_refused),
		NM_TEST(test_not_a_dmabuf_refused),
		NM_TEST(test_udmabuf_one_pool_per_dmabuf),
		NM_TEST(test_host_fallback_pools),
		NM_TEST(test_pools_selected_by_name),
		NM_TEST(test_stranger_refused),
		NM_TEST(test_pinned_attach_like_dpdk),
		NM_TEST(test_pinned_copy_like_dpdk),
		NM_TEST(test_net_null_receives_into_dmabuf),
	};
	int ret;

	(void)argc;
	setenv("NETMEM_CTL", "0", 1);   /* no control socket needed here */
	if (nm_dpdk_test_eal_init(argv[0], vdevs))
		return 0;
	ret = nm_test_run(tests, sizeof(tests) / sizeof(tests[0]));
	rte_eal_cleanup();
	return ret;
}
