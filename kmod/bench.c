// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * In-kernel benchmarks and checks on a running queue's page pool: this
 * module's nm_page_pool on its dmabuf provider, or the kernel's page_pool on
 * the kernel's devmem provider (after netlink bind-rx). Same operations, same
 * driver, same dmabuf: the numbers compare the two providers and pools.
 *
 * Runs under rtnl, as the queue's owner (nothing else allocates from a
 * queue of this NIC). Long loops reschedule every 64 buffers.
 */
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <net/page_pool/helpers.h>

#include "nm_kmod.h"

#define NM_BENCH_MAX_ROUNDS 1000000u

/* The operations on one pool, whichever kind. */
struct bench_pool {
	struct nm_vnic_qmem *qm;
	unsigned long (*alloc)(struct nm_vnic_qmem *qm);
	void (*put)(struct nm_vnic_qmem *qm, unsigned long ref, bool direct);
	bool (*check)(struct nm_vnic_qmem *qm, unsigned long ref);
};

static unsigned long nm_alloc(struct nm_vnic_qmem *qm)
{
	return nm_page_pool_alloc_netmem(qm->npp);
}

static void nm_put(struct nm_vnic_qmem *qm, unsigned long ref, bool direct)
{
	nm_page_pool_put_netmem(qm->npp, ref, direct);
}

static bool nm_check(struct nm_vnic_qmem *qm, unsigned long ref)
{
	struct nm_net_iov *niov = nm_netmem_to_net_iov(ref);

	return nm_netmem_is_net_iov(ref) && niov->pp == qm->npp &&
	       atomic_read(&niov->pp_ref_count) == 1 &&
	       niov->dma_addr != DMA_MAPPING_ERROR;
}

static unsigned long k_alloc(struct nm_vnic_qmem *qm)
{
	gfp_t gfp = in_softirq() ? GFP_ATOMIC : GFP_KERNEL;

	return (__force unsigned long)nm_pp_alloc_netmem(qm->kpp, gfp);
}

static void k_put(struct nm_vnic_qmem *qm, unsigned long ref, bool direct)
{
	page_pool_put_full_netmem(qm->kpp, (__force netmem_ref)ref, direct);
}

static bool k_check(struct nm_vnic_qmem *qm, unsigned long ref)
{
	netmem_ref netmem = (__force netmem_ref)ref;

	return netmem_is_net_iov(netmem) && netmem_get_pp(netmem) == qm->kpp &&
	       atomic_long_read(netmem_get_pp_ref_count_ref(netmem)) == 1;
}

static int bench_alloc_all(struct bench_pool *bp, struct nmk_bench *a,
			   u32 limit, struct nm_err *err)
{
	unsigned long *v;
	u32 r, n, i;

	v = kvmalloc_array(limit, sizeof(*v), GFP_KERNEL);
	if (!v)
		return nm_err_set(err, -ENOMEM, "out of memory for %u buffer refs", limit);
	for (r = 0; r < a->rounds; r++) {
		u64 t0, t1, t2, t3;

		t0 = ktime_get_ns();
		for (n = 0; n < limit; n++) {
			v[n] = bp->alloc(bp->qm);
			if (!v[n])
				break;
			if ((n & 63) == 63)
				cond_resched();
		}
		t1 = ktime_get_ns();
		for (i = 0; i < n; i++)
			a->bad += !bp->check(bp->qm, v[i]);
		t2 = ktime_get_ns();
		for (i = 0; i < n; i++) {
			bp->put(bp->qm, v[i], false);
			if ((i & 63) == 63)
				cond_resched();
		}
		t3 = ktime_get_ns();
		a->allocated += n;
		a->ns_alloc += t1 - t0;
		a->ns_put += t3 - t2;
		if (!r) {
			a->first_round = n;
			a->ns_alloc_first = t1 - t0;
			a->ns_put_first = t3 - t2;
		}
	}
	kvfree(v);
	return 0;
}

static int bench_recycle(struct bench_pool *bp, struct nmk_bench *a,
			 struct nm_err *err)
{
	unsigned long v[NM_PP_REFILL];
	u32 r, n, i;

	if (!a->count || a->count > NM_PP_REFILL)
		return nm_err_set(err, -EINVAL, "recycle takes 1 to %u buffers a round, not %u",
				  NM_PP_REFILL, a->count);
	for (r = 0; r < a->rounds; r++) {
		u64 t0, t1, t2;

		/* The queue's owner context: softirq, as NAPI would be. */
		local_bh_disable();
		t0 = ktime_get_ns();
		for (n = 0; n < a->count; n++) {
			v[n] = bp->alloc(bp->qm);
			if (!v[n])
				break;
		}
		t1 = ktime_get_ns();
		for (i = 0; i < n; i++)
			bp->put(bp->qm, v[i], true);
		t2 = ktime_get_ns();
		local_bh_enable();
		if (n < a->count) {
			return nm_err_set(err, -ENOMEM,
					  "round %u: the pool gave %u of %u buffers",
					  r, n, a->count);
		}
		a->allocated += n;
		a->ns_alloc += t1 - t0;
		a->ns_put += t2 - t1;
		if (!r) {
			a->first_round = n;
			a->ns_alloc_first = t1 - t0;
			a->ns_put_first = t2 - t1;
		}
		if ((r & 255) == 255)
			cond_resched();
	}
	return 0;
}

int nm_bench_run(struct nm_vnic *dev, struct nmk_bench *a, struct nm_err *err)
{
	struct bench_pool bp = { };
	struct nm_vnic_qmem *qm;
	u32 limit;
	int ret;

	ASSERT_RTNL();
	if (a->flags)
		return nm_err_set(err, -EINVAL, "flags must be 0");
	ret = nm_rxq_check_idx(dev, a->queue, err);
	if (ret)
		return ret;
	if (!a->rounds)
		a->rounds = 1;
	if (a->rounds > NM_BENCH_MAX_ROUNDS)
		return nm_err_set(err, -EINVAL, "at most %u rounds", NM_BENCH_MAX_ROUNDS);
	if (!dev->running[a->queue])
		return nm_err_set(err, -ENETDOWN, "%s queue %u is not running",
				  dev->netdev->name, a->queue);

	qm = &dev->cur[a->queue];
	bp.qm = qm;
	a->ring_fill = qm->ring_fill;
	if (qm->npp) {
		struct nm_dmabuf_binding *b = qm->npp->mp_priv;

		a->provider = NMK_PROVIDER_DMABUF;
		bp.alloc = nm_alloc;
		bp.put = nm_put;
		bp.check = nm_check;
		limit = a->count ? a->count : b->area.num_niovs;
	} else {
		a->provider = qm->kernel_devmem ? NMK_PROVIDER_KERNEL_DEVMEM :
						  NMK_PROVIDER_HOST;
		bp.alloc = k_alloc;
		bp.put = k_put;
		bp.check = k_check;
		limit = a->count;
	}

	switch (a->op) {
	case NMK_BENCH_ALLOC_ALL:
		if (a->provider == NMK_PROVIDER_HOST)
			return nm_err_set(err, -EINVAL,
					  "%s queue %u runs on host pages: taking every buffer would drain system memory",
					  dev->netdev->name, a->queue);
		if (!limit)
			return nm_err_set(err, -EINVAL,
					  "the kernel's devmem pool needs a count (its binding size is private)");
		return bench_alloc_all(&bp, a, limit, err);
	case NMK_BENCH_RECYCLE:
		return bench_recycle(&bp, a, err);
	default:
		return nm_err_set(err, -EINVAL, "unknown benchmark %u", a->op);
	}
}
