/* SPDX-License-Identifier: MIT */
/*
 * The "dmabuf" ops' inline layout (NETMEM_DMABUF_MBUF=inline,
 * params.layout): whole ordinary mbufs inside the dmabuf, one object per
 * buffer of the binding. What DPDK's pinned-extbuf semantics break
 * (rte_pktmbuf_copy() then a clone, a clone's count in the mbuf's own
 * refcount) must behave as on DPDK's default ops. EAL without hugepages; the
 * dmabuf is the memfd stand-in on the host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <netmem/dpdk_mempool.h>
#include <netmem/pkt.h>

#include "internal.h"
#include "nm_test.h"
#include "dpdk_test.h"

#define N_MBUFS 512u
#define ROOM 2048u
#define STRIDE 4096u   /* header 64 + mbuf 128 + 2048, to a power of two */

static struct rte_mempool *inline_pool(const char *name, unsigned int n, const char *source,
				       struct nm_err *err)
{
	struct nm_dpdk_pool_params prm = { .source = source, .err = err,
					   .layout = NM_DPDK_MBUF_INLINE };

	return nm_dpdk_pktmbuf_pool_create(name, n, 0, 0, ROOM, 0, &prm);
}

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

/* Every mbuf of @mp is direct, sits in its own buffer of the dmabuf with its
 * data room right behind it, and the CPU and IOVA views agree. */
static void check_inline_mbufs(struct rte_mempool *mp, unsigned int n, uint16_t room)
{
	static struct rte_mbuf *m[N_MBUFS];
	static uint8_t seen[N_MBUFS * 2];
	struct nm_dpdk_pool_info pi;

	CHECK_EQ(nm_dpdk_pool_info(mp, &pi), 0);
	CHECK(pi.inline_mbufs && pi.readable);
	CHECK_EQ(pi.buf_size, STRIDE);
	CHECK_EQ(pi.num_objs, n);
	CHECK(n <= N_MBUFS && pi.num_bufs <= sizeof(seen));
	CHECK_EQ(rte_pktmbuf_alloc_bulk(mp, m, n), 0);
	memset(seen, 0, sizeof(seen));
	for (unsigned int i = 0; i < n; i++) {
		/* IOVA == VA here: the object's own address is in the dmabuf. */
		uint64_t off = rte_mem_virt2iova(m[i]) - pi.iova;

		CHECK(RTE_MBUF_DIRECT(m[i]));
		CHECK(!(m[i]->ol_flags & RTE_MBUF_F_EXTERNAL));
		CHECK(m[i]->buf_addr == (uint8_t *)m[i] + sizeof(struct rte_mbuf));
		CHECK(rte_mbuf_from_indirect(m[i]) == m[i]);
		CHECK_EQ(m[i]->buf_len, room);
		CHECK_EQ(m[i]->pool, mp);
		CHECK(off < pi.dmabuf_size);
		CHECK_EQ(off % STRIDE, mp->header_size);
		CHECK_MSG(!seen[off / STRIDE], "buffer %llu holds two mbufs",
			  (unsigned long long)(off / STRIDE));
		seen[off / STRIDE] = 1;
		CHECK(rte_mem_virt2iova(rte_pktmbuf_mtod(m[i], void *)) == rte_pktmbuf_iova(m[i]));
		CHECK_EQ(rte_mbuf_check(m[i], 1, NULL), 0);
		nm_pattern_fill(rte_pktmbuf_mtod(m[i], void *), room - RTE_PKTMBUF_HEADROOM, 0, i);
	}
	for (unsigned int i = 0; i < n; i++)
		CHECK_EQ(nm_pattern_check(rte_pktmbuf_mtod(m[i], void *),
					  room - RTE_PKTMBUF_HEADROOM, 0, i), -1);
	rte_pktmbuf_free_bulk(m, n);
	CHECK_EQ(rte_mempool_avail_count(mp), n);
}

static void test_inline_mbufs_in_dmabuf(void)
{
	struct nm_err err = { 0 };
	struct rte_mempool *mp = inline_pool("t_inline", N_MBUFS, "memfd:4M", &err);

	CHECK_MSG(mp, "%s", err.msg);
	CHECK(nm_dpdk_pool_is_dmabuf(mp));
	check_inline_mbufs(mp, N_MBUFS, ROOM);
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
}

/* What an unmodified app gets: rte_pktmbuf_pool_create_by_ops("dmabuf")
 * with NETMEM_DMABUF_MBUF=inline, the dmabuf sized to fit. */
static void test_inline_by_ops_env(void)
{
	struct rte_mempool *mp;

	unsetenv("NETMEM_DMABUF");
	setenv(NM_DPDK_DMABUF_MBUF_ENV, "inline", 1);
	mp = rte_pktmbuf_pool_create_by_ops("t_inl_byops", 300, 32, 0, ROOM, 0, "dmabuf");
	unsetenv(NM_DPDK_DMABUF_MBUF_ENV);
	CHECK_MSG(mp, "rte_errno %d", rte_errno);
	check_inline_mbufs(mp, 300, ROOM);
	CHECK_EQ(nm_dpdk_pool_free(mp, NULL), 0);
}

/* A layout the driver does not know: refused with the reason, nothing made. */
static void test_bad_layout_refused(void)
{
	struct nm_dpdk_pool_params prm = { .source = "memfd:1M", .layout = 7 };
	struct nm_err err = { 0 };
	unsigned int before = listed_pools();
	struct rte_mempool *mp;

	prm.err = &err;
	mp = nm_dpdk_pktmbuf_pool_create("t_bad_layout", 64, 0, 0, ROOM, 0, &prm);
	CHECK(!mp);
	CHECK_EQ(rte_errno, EINVAL);
	CHECK_MSG(strstr(err.msg, "layout"), "%s", err.msg);
	setenv(NM_DPDK_DMABUF_MBUF_ENV, "inlined", 1);
	mp = rte_pktmbuf_pool_create_by_ops("t_bad_env", 64, 0, 0, ROOM, 0, "dmabuf");
	unsetenv(NM_DPDK_DMABUF_MBUF_ENV);
	CHECK(!mp);
	CHECK_EQ(listed_pools(), before);
	CHECK(!rte_mempool_lookup("t_bad_env") && !rte_mempool_lookup("t_bad_layout"));
}

/*
 * mbuf_autotest's test_attach_from_different_pool and what crashed it on the
 * pinned layout (rte_pktmbuf_copy() into the pool, a clone of the copy
 * freed): on inline mbufs a clone is counted in the mbuf's own refcount, a
 * copy stays direct, and every reference comes back.
 */
static void test_inline_copy_and_attach(void)
{
	struct nm_err err = { 0 };
	struct rte_mempool *mp = inline_pool("t_inl_cp", 64, "memfd:1M", &err);
	struct rte_mempool *clones = rte_pktmbuf_pool_create("t_inl_clones", 64, 0, 0, 0, 0);
	struct rte_mbuf *m, *cp, *c, *c2;
	uint8_t *d;

	CHECK_MSG(mp, "%s", err.msg);
	CHECK(clones);
	m = rte_pktmbuf_alloc(mp);
	CHECK(m);
	d = (uint8_t *)rte_pktmbuf_append(m, 200);
	CHECK(d);
	nm_pattern_fill(d, 200, 0, 7);
	cp = rte_pktmbuf_copy(m, mp, 0, UINT32_MAX);
	CHECK(cp && RTE_MBUF_DIRECT(cp));
	CHECK_EQ(nm_pattern_check(rte_pktmbuf_mtod(cp, void *), 200, 0, 7), -1);
	c = rte_pktmbuf_alloc(clones);
	CHECK(c);
	rte_pktmbuf_attach(c, cp);
	CHECK(RTE_MBUF_CLONED(c));
	CHECK_EQ(rte_mbuf_refcnt_read(cp), 2);   /* in the mbuf itself */
	CHECK(rte_mbuf_from_indirect(c) == cp);
	c2 = rte_pktmbuf_clone(m, clones);
	CHECK(c2);
	CHECK_EQ(rte_mbuf_refcnt_read(m), 2);
	CHECK_EQ(rte_mempool_avail_count(mp), 62);
	rte_pktmbuf_free(c);
	CHECK_EQ(rte_mbuf_refcnt_read(cp), 1);
	rte_pktmbuf_free(cp);
	rte_pktmbuf_free(m);
	CHECK_EQ(rte_mempool_avail_count(mp), 63);   /* c2 still holds m */
	rte_pktmbuf_free(c2);
	CHECK(rte_mempool_full(mp));
	CHECK(rte_mempool_full(clones));
	rte_mempool_free(clones);
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
}

/* A put of an object that is not one of the pool's is refused on this
 * layout too (the objects live in the dmabuf, the check is the same). */
static void test_inline_stranger_refused(void)
{
	struct nm_err err = { 0 };
	struct rte_mempool *mp = inline_pool("t_inl_str", 64, "memfd:1M", &err);
	void *objs[4];

	CHECK_MSG(mp, "%s", err.msg);
	CHECK_EQ(rte_mempool_ops_dequeue_bulk(mp, objs, 4), 0);
	objs[2] = (uint8_t *)objs[2] + 64;
	CHECK_EQ(rte_mempool_ops_enqueue_bulk(mp, objs, 4), -EINVAL);
	CHECK_EQ(rte_mempool_avail_count(mp), 62);   /* the two before it */
	objs[2] = (uint8_t *)objs[2] - 64;
	CHECK_EQ(rte_mempool_ops_enqueue_bulk(mp, &objs[2], 2), 0);
	CHECK(rte_mempool_full(mp));
	CHECK_EQ(nm_dpdk_pool_free(mp, &err), 0);
}

int main(int argc, char **argv)
{
	static const struct nm_test tests[] = {
		NM_TEST(test_inline_mbufs_in_dmabuf),
		NM_TEST(test_inline_by_ops_env),
		NM_TEST(test_bad_layout_refused),
		NM_TEST(test_inline_copy_and_attach),
		NM_TEST(test_inline_stranger_refused),
	};
	int ret;

	(void)argc;
	setenv("NETMEM_CTL", "0", 1);
	if (nm_dpdk_test_eal_init(argv[0], NULL))
		return 0;
	ret = nm_test_run(tests, sizeof(tests) / sizeof(tests[0]));
	rte_eal_cleanup();
	return ret;
}
