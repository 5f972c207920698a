/* SPDX-License-Identifier: MIT */
/*
 * Pools on the "dmabuf" ops that have nothing to put in a dmabuf.
 *
 * With --mbuf-pool-ops-name=dmabuf every pool an application makes through
 * the mbuf library lands on these ops, including plain object pools and
 * mbuf pools without a data room (indirect mbufs for clones and fragments)
 * or with it in the application's own external memory. Those keep DPDK's
 * host memory and get a multi-producer/consumer rte_ring as their free
 * list, as the default ops would give them; only pools whose data room
 * sits in the objects have it moved into a dmabuf. Logged once per
 * process, listed by /netmem/host_pools.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_ring.h>

#include "internal.h"

struct nm_dpdk_pool_list nm_dpdk_host_pools = TAILQ_HEAD_INITIALIZER(nm_dpdk_host_pools);

/* $NETMEM_DMABUF_POOLS, a comma-separated list of pool names: only those
 * go into a dmabuf (testpmd's header pool stays in host memory while its
 * payload pool is the dmabuf one). Unset: every pool with a data room. */
bool nm_dpdk_pool_selected(const char *name)
{
	const char *list = getenv(NM_DPDK_DMABUF_POOLS_ENV);
	size_t len = strlen(name);

	if (!list || !*list)
		return true;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");

		if (n == len && !strncmp(p, name, n))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

const char *nm_dpdk_host_reason(const struct rte_mempool *mp)
{
	const struct rte_pktmbuf_pool_private *priv;

	if (mp->private_data_size < sizeof(*priv))
		return "not a pktmbuf pool";
	priv = rte_mempool_get_priv((struct rte_mempool *)mp);
	if (!priv->mbuf_data_room_size)
		return "no data room (indirect or header-only mbufs)";
	/* nm_dpdk_pktmbuf_pool_create() always passes its params. */
	if (mp->pool_config)
		return NULL;
	if (priv->flags & RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF)
		return "data room in the application's own external memory";
	if (!nm_dpdk_pool_selected(mp->name))
		return "not named in " NM_DPDK_DMABUF_POOLS_ENV;
	if (mp->elt_size < sizeof(struct rte_mbuf) + priv->mbuf_priv_size +
			   priv->mbuf_data_room_size)
		return "not a pktmbuf pool (objects too small for mbuf + data room)";
	return NULL;
}

int nm_dpdk_host_alloc(struct rte_mempool *mp, const char *reason)
{
	static atomic_bool logged;
	unsigned int flags = 0, count = rte_align32pow2(mp->size + 1);
	char name[RTE_RING_NAMESIZE];
	struct nm_dpdk_pool *p;
	ssize_t sz;
	int ret;

	if (mp->flags & RTE_MEMPOOL_F_SP_PUT)
		flags |= RING_F_SP_ENQ;
	if (mp->flags & RTE_MEMPOOL_F_SC_GET)
		flags |= RING_F_SC_DEQ;
	sz = rte_ring_get_memsize(count);
	if (sz < 0)
		return (int)sz;
	p = nm_dpdk_pool_zalloc(0, mp->socket_id);
	if (!p)
		return -ENOMEM;
	p->host = rte_zmalloc_socket("netmem-host-pool", (size_t)sz, RTE_CACHE_LINE_SIZE,
				     mp->socket_id);
	if (!p->host) {
		rte_free(p);
		return -ENOMEM;
	}
	/* Not listed with the rings (rte_ring_init, not _create), so pool
	 * names cannot collide there. */
	snprintf(name, sizeof(name), "nmh_%.20s", mp->name);
	ret = rte_ring_init(p->host, name, count, flags);
	if (ret) {
		rte_free(p->host);
		rte_free(p);
		return ret;
	}
	p->mp = mp;
	snprintf(p->name, sizeof(p->name), "%s", mp->name);
	snprintf(p->host_reason, sizeof(p->host_reason), "%s", reason);
	p->ready = true;
	mp->pool_data = p;
	pthread_mutex_lock(&nm_dpdk_lock);
	TAILQ_INSERT_TAIL(&nm_dpdk_host_pools, p, next);
	pthread_mutex_unlock(&nm_dpdk_lock);
	if (!atomic_exchange(&logged, true))
		NM_LOG(INFO, "pool '%s' keeps host memory: %s (logged once; every such pool "
		       "is in telemetry /netmem/host_pools)", mp->name, reason);
	else
		NM_LOG(DEBUG, "pool '%s' keeps host memory: %s", mp->name, reason);
	return 0;
}

void nm_dpdk_host_free(struct nm_dpdk_pool *p)
{
	pthread_mutex_lock(&nm_dpdk_lock);
	TAILQ_REMOVE(&nm_dpdk_host_pools, p, next);
	pthread_mutex_unlock(&nm_dpdk_lock);
	rte_free(p->host);
	rte_free(p);
}

int nm_dpdk_host_populate(struct rte_mempool *mp, unsigned int max_objs,
			  void *vaddr, rte_iova_t iova, size_t len,
			  rte_mempool_populate_obj_cb_t *obj_cb, void *obj_cb_arg)
{
	return rte_mempool_op_populate_helper(mp, 0, max_objs, vaddr, iova, len,
					      obj_cb, obj_cb_arg);
}
