// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Page pool over a memory provider (libnetmem's page_pool.c, the kernel's
 * page_pool): a per-queue recycler that never knows which provider backs it.
 *
 *  - alloc.cache: an array only the queue's owner touches; the fast path is
 *    an index decrement (nm_kmod.h).
 *  - ring: buffers put back by anyone else; the owner refills from it. As in
 *    the kernel's page_pool, a put that finds it full hands the buffer back
 *    to the provider.
 *  - the provider: asked only when cache and ring are empty.
 *
 * Destroy drains cache and ring back to the provider. Buffers still out keep
 * the pool (and through it the binding) alive; the last one put back frees
 * it. hold_cnt/release_cnt tell how many are out, as pages_state_*_cnt do.
 */
#include <linux/slab.h>

#include "nm_kmod.h"

int nm_page_pool_create(const struct nm_page_pool_params *params,
			struct nm_page_pool **out, struct nm_err *err)
{
	struct nm_page_pool *pool;
	int ret;

	if (!params->mp.ops || !params->pool_size || !params->dev)
		return nm_err_set(err, -EINVAL, "pool needs a provider, a size and a device");
	pool = kvzalloc_node(sizeof(*pool), GFP_KERNEL, params->nid);
	if (!pool)
		return nm_err_set(err, -ENOMEM, "out of memory for a page pool");
	pool->p = *params;
	pool->mp_priv = params->mp.priv;
	spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->dev_node);

	ret = ptr_ring_init(&pool->ring, min_t(u32, params->pool_size, 16384),
			    GFP_KERNEL);
	if (ret) {
		nm_err_set(err, ret, "out of memory for a recycle ring");
		goto err_free;
	}
	ret = pool->p.mp.ops->init(pool);
	if (ret) {
		nm_err_set(err, ret, "provider '%s' refused the pool",
			   pool->p.mp.ops->name);
		goto err_ring;
	}
	spin_lock_bh(&params->dev->pools_lock);
	list_add_tail(&pool->dev_node, &params->dev->pools);
	spin_unlock_bh(&params->dev->pools_lock);
	atomic64_inc(&params->dev->stats.live_pools);
	*out = pool;
	return 0;

err_ring:
	ptr_ring_cleanup(&pool->ring, NULL);
err_free:
	kvfree(pool);
	return ret;
}

static void pool_free(struct nm_page_pool *pool)
{
	struct nm_vnic *dev = pool->p.dev;

	spin_lock_bh(&dev->pools_lock);
	list_del(&pool->dev_node);
	spin_unlock_bh(&dev->pools_lock);
	ptr_ring_cleanup(&pool->ring, NULL);
	/* May drop the binding's last reference: process context. */
	pool->p.mp.ops->destroy(pool);
	atomic64_dec(&dev->stats.live_pools);
	kvfree(pool);
}

/* Hand @netmem back to the provider; pool->lock held. True when it was
 * the last buffer of a destroyed pool. */
static bool pool_release_locked(struct nm_page_pool *pool, nm_netmem_ref netmem)
{
	pool->p.mp.ops->release_netmems(pool, &netmem, 1);
	pool->release_cnt++;
	return pool->destroyed && pool->release_cnt == pool->hold_cnt;
}

nm_netmem_ref nm_page_pool_alloc_slow(struct nm_page_pool *pool)
{
	unsigned int n;

	n = ptr_ring_consume_batched(&pool->ring, (void **)pool->alloc.cache,
				     NM_PP_REFILL);
	if (!n) {
		n = pool->p.mp.ops->alloc_netmems(pool, pool->alloc.cache,
						  NM_PP_REFILL);
		pool->hold_cnt += n;
	}
	if (!n)
		return 0;
	pool->alloc.count = n;
	return pool->alloc.cache[--pool->alloc.count];
}

void nm_page_pool_recycle_slow(struct nm_page_pool *pool, nm_netmem_ref netmem)
{
	bool last = false;

	spin_lock_bh(&pool->lock);
	if (pool->destroyed || __ptr_ring_produce(&pool->ring, (void *)netmem))
		last = pool_release_locked(pool, netmem);
	spin_unlock_bh(&pool->lock);
	if (last)
		pool_free(pool);
}

void nm_page_pool_destroy(struct nm_page_pool *pool)
{
	nm_netmem_ref netmem;
	bool last;

	spin_lock_bh(&pool->lock);
	pool->destroyed = true;
	while (pool->alloc.count)
		pool_release_locked(pool, pool->alloc.cache[--pool->alloc.count]);
	while ((netmem = (nm_netmem_ref)ptr_ring_consume(&pool->ring)))
		pool_release_locked(pool, netmem);
	last = pool->release_cnt == pool->hold_cnt;
	spin_unlock_bh(&pool->lock);
	if (last)
		pool_free(pool);
}
